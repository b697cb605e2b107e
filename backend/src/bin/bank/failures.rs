//! The stderr summary of a run that did not fully succeed (`bank run` then
//! exits with status 3; see [`crate::exit`]): requests that failed with
//! faults, and branches whose final state could not be read.
//!
//! The output on stdout already shows every failure in the course's words
//! (`"result": "fail"`); this says what the output cannot: how many requests
//! failed, at which branches, of which customers, and why, and which
//! branches are missing from the output's final states, in a few lines a
//! person reads at a glance.

use std::collections::BTreeSet;

use bank_core::record::EventResult;
use bank_core::{BranchId, CustomerId, RunRecord};

/// How many failures are spelled out one per line; the rest are counted.
const SHOWN: usize = 5;

/// The summary, or `None` when no request failed with a fault and every
/// branch of `branches` (the scenario's) has its final state in `record`.
pub fn summary(record: &RunRecord, branches: &[BranchId]) -> Option<String> {
    let mut out = String::new();
    let faults: Vec<_> = record.faults().collect();
    let list = |ids: &BTreeSet<u64>| ids.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    if !faults.is_empty() {
        let total: usize = record.customers.iter().map(|c| c.results.len()).sum();
        let at: BTreeSet<u64> = faults.iter().map(|(_, r)| r.branch.0).collect();
        let customers: BTreeSet<u64> = faults.iter().map(|(c, _)| c.0).collect();
        out += &format!(
            "warning: {} of {total} requests failed (customers {}; at branches {}):\n",
            faults.len(),
            list(&customers),
            list(&at),
        );
        for (customer, r) in faults.iter().take(SHOWN) {
            out += &format!("  {}\n", described(*customer, r));
        }
        if faults.len() > SHOWN {
            out += &format!("  ... and {} more\n", faults.len() - SHOWN);
        }
    }
    let inspected: BTreeSet<BranchId> = record.branches.iter().map(|b| b.id).collect();
    let missing: BTreeSet<u64> =
        branches.iter().filter(|b| !inspected.contains(b)).map(|b| b.0).collect();
    if !missing.is_empty() {
        out += &format!(
            "warning: the final state of branch(es) {} could not be read (down or not \
             answering at the end of the run): the output leaves them out\n",
            list(&missing)
        );
    }
    (!out.is_empty()).then_some(out)
}

/// "customer 1, event 3 (query at branch 2): branch 2 is down".
pub fn described(customer: CustomerId, r: &EventResult) -> String {
    let reason = r.fault().map(ToString::to_string).unwrap_or_default();
    format!(
        "customer {}, event {} ({} at branch {}): {reason}",
        customer.0, r.event.0, r.op, r.branch.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bank_core::{
        BranchId, BranchRecord, Cents, CustomerId, CustomerRecord, EventId, EventResult,
        FailReason, OpKind, Outcome,
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
        let text = summary(&record, &[]).expect("one request failed with a fault");
        assert!(text.starts_with("warning: 1 of 3 requests failed (customers 7; at branches 2)"));
        assert!(text.contains("customer 7, event 3 (deposit at branch 2): branch 2 did not answer"));
        let fine = RunRecord { customers: vec![], branches: vec![] };
        assert_eq!(summary(&fine, &[]), None);
    }

    #[test]
    fn branches_left_out_of_the_final_states_are_named() {
        let state = |id| BranchRecord {
            id: BranchId(id),
            balance: Cents::ZERO,
            clock: 0,
            write_sets: Default::default(),
            log: vec![],
            applied: vec![],
        };
        let record = RunRecord { customers: vec![], branches: vec![state(1), state(3)] };
        let all = [BranchId(1), BranchId(2), BranchId(3), BranchId(4)];
        let text = summary(&record, &all).expect("branches 2 and 4 are missing");
        assert!(text.contains("branch(es) 2, 4 could not be read"), "{text}");
        assert_eq!(summary(&record, &all[..1]), None);
    }
}
