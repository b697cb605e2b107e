//! The stderr summary of a run whose requests failed with faults (`bank run`
//! then exits with status 3; see [`crate::exit`]).
//!
//! The output on stdout already shows every failure in the course's words
//! (`"result": "fail"`); this says what the output cannot: how many requests
//! failed, at which branches, of which customers, and why, in a few lines a
//! person reads at a glance.

use std::collections::BTreeSet;

use bank_core::RunRecord;

/// How many failures are spelled out one per line; the rest are counted.
const SHOWN: usize = 5;

/// The summary, or `None` when no request failed with a fault.
pub fn summary(record: &RunRecord) -> Option<String> {
    let faults: Vec<_> = record.faults().collect();
    if faults.is_empty() {
        return None;
    }
    let total: usize = record.customers.iter().map(|c| c.results.len()).sum();
    let branches: BTreeSet<u64> = faults.iter().map(|(_, r)| r.branch.0).collect();
    let customers: BTreeSet<u64> = faults.iter().map(|(c, _)| c.0).collect();
    let list = |ids: &BTreeSet<u64>| ids.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    let mut out = format!(
        "warning: {} of {total} requests failed (customers {}; at branches {}):\n",
        faults.len(),
        list(&customers),
        list(&branches),
    );
    for (customer, r) in faults.iter().take(SHOWN) {
        let reason = r.fault().map(ToString::to_string).unwrap_or_default();
        out += &format!(
            "  customer {}, event {} ({} at branch {}): {reason}\n",
            customer.0, r.event.0, r.op, r.branch.0
        );
    }
    if faults.len() > SHOWN {
        out += &format!("  ... and {} more\n", faults.len() - SHOWN);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bank_core::{
        BranchId, Cents, CustomerId, CustomerRecord, EventId, EventResult, FailReason, OpKind,
        Outcome,
    };

    fn result(event: u64, reason: Option<FailReason>) -> EventResult {
        EventResult {
            event: EventId(event),
            op: OpKind::Deposit,
            branch: BranchId(2),
            outcome: match reason {
                Some(reason) => Outcome::Failed { reason, balance: Cents::ZERO },
                None => Outcome::Success { balance: Cents::ZERO },
            },
            customer_clock: event,
            completion: event,
            write: None,
            observed: None,
        }
    }

    #[test]
    fn only_faults_count_and_each_says_where_and_why() {
        let funds = FailReason::InsufficientFunds { requested: Cents(5), balance: Cents(0) };
        let down = FailReason::Unavailable("branch 2 did not answer: connection refused".into());
        let record = RunRecord {
            customers: vec![CustomerRecord {
                customer: CustomerId(7),
                results: vec![result(1, None), result(2, Some(funds)), result(3, Some(down))],
            }],
            branches: vec![],
        };
        let text = summary(&record).expect("one request failed with a fault");
        assert!(text.starts_with("warning: 1 of 3 requests failed (customers 7; at branches 2)"));
        assert!(text.contains("customer 7, event 3 (deposit at branch 2): branch 2 did not answer"));
        let fine = RunRecord { customers: vec![], branches: vec![] };
        assert_eq!(summary(&fine), None);
    }
}
