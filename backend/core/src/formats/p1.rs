//! Project 1 output: what every customer received.
//!
//! One object per customer entry, in input order, listing the answers to its
//! events in order:
//!
//! ```json
//! [
//!   {"id": 2, "recv": [
//!     {"interface": "deposit", "result": "success"},
//!     {"interface": "query", "result": "success", "balance": 570}
//!   ]}
//! ]
//! ```
//!
//! Up to spring 2023 the handout answered queries under `"money"` instead of
//! `"balance"` ([`QueryKey`]). A customer id repeats when the input repeats it
//! (the large 2023 test has two entries per customer): each entry is its own
//! session and its own object.
//!
//! No course file shows a refused request; bank-sim writes
//! `{"interface": "withdraw", "result": "fail"}` for one.

use super::{interface, money, Json, OutputOptions};
use crate::op::{OpKind, Outcome};
use crate::record::{EventResult, RunRecord};

/// The key a query's answer is printed under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryKey {
    /// `"balance"` (autumn 2023 on).
    Balance,
    /// `"money"` (the handout up to spring 2023).
    Money,
}

impl QueryKey {
    fn as_str(self) -> &'static str {
        match self {
            QueryKey::Balance => "balance",
            QueryKey::Money => "money",
        }
    }
}

/// The whole project 1 output as a JSON tree.
pub fn render(record: &RunRecord, options: &OutputOptions, key: QueryKey) -> Json {
    record
        .customers
        .iter()
        .map(|customer| {
            let recv: Json = customer.results.iter().map(|r| item(r, options, key)).collect();
            Json::object([("id", Json::from(customer.customer.0)), ("recv", recv)])
        })
        .collect()
}

/// One answer: `{"interface", "result"}` plus the balance for a query.
fn item(result: &EventResult, options: &OutputOptions, key: QueryKey) -> Json {
    let mut item = vec![("interface", Json::from(interface(result.op)))];
    match &result.outcome {
        Outcome::Failed { .. } => item.push(("result", Json::from("fail"))),
        Outcome::Success { balance } => {
            item.push(("result", Json::from("success")));
            if result.op == OpKind::Query {
                item.push((key.as_str(), money(*balance, options)));
            }
        }
    }
    Json::object(item)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::formats::{render as render_text, OutputFormat};
    use crate::ids::{BranchId, CustomerId, EventId};
    use crate::money::Cents;
    use crate::op::FailReason;
    use crate::record::CustomerRecord;
    use crate::scenario::{CustomerScript, InputShape, Scenario};
    use serde_json::Value;

    /// A result served by `branch`, with the balance after it (in units).
    pub(crate) fn result(
        event: u64,
        op: OpKind,
        branch: u64,
        balance: i64,
        completion: u64,
    ) -> EventResult {
        EventResult {
            event: EventId(event),
            op,
            branch: BranchId(branch),
            outcome: Outcome::Success { balance: Cents::units(balance) },
            customer_clock: 1,
            completion,
            write: None,
            observed: None,
        }
    }

    pub(crate) fn customer(id: u64, results: Vec<EventResult>) -> CustomerRecord {
        CustomerRecord { customer: CustomerId(id), results }
    }

    pub(crate) fn record(customers: Vec<CustomerRecord>) -> RunRecord {
        RunRecord { customers, branches: Vec::new() }
    }

    /// A scenario with the customers of `record` (P1 ignores it).
    pub(crate) fn scenario_for(record: &RunRecord, shape: InputShape) -> Scenario {
        Scenario {
            shape,
            branches: Vec::new(),
            customers: record
                .customers
                .iter()
                .map(|c| CustomerScript { id: c.customer, line: 1, events: Vec::new() })
                .collect(),
            warnings: Vec::new(),
        }
    }

    /// The 2023 standard sample run sequentially: 400, 570, 500.
    fn sample() -> RunRecord {
        use OpKind::*;
        record(vec![
            customer(1, vec![result(1, Query, 1, 400, 0)]),
            customer(2, vec![result(2, Deposit, 2, 570, 1), result(3, Query, 2, 570, 2)]),
            customer(3, vec![result(4, Withdraw, 3, 500, 3), result(5, Query, 3, 500, 4)]),
        ])
    }

    #[test]
    fn reproduces_anuragbnrj_output_byte_for_byte() {
        let expected = include_str!(
            "../../../../testdata/formats/p1-branch-propagation/anuragbnrj+cse531/output.json"
        );
        let record = sample();
        let text = render_text(
            OutputFormat::P1,
            &scenario_for(&record, InputShape::Events),
            &record,
            &OutputOptions::default(),
        );
        assert_eq!(text, format!("{expected}\n"));
    }

    #[test]
    fn reproduces_anuragbnrj_output_2_byte_for_byte() {
        use crate::formats::testutil::{parse_fixture, replay_sequentially};
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/formats/p1-branch-propagation/anuragbnrj+cse531/"
        );
        let scenario = parse_fixture(&format!("{dir}input_2.json"));
        let record = replay_sequentially(&scenario);
        let text = render_text(OutputFormat::P1, &scenario, &record, &OutputOptions::default());
        let expected = std::fs::read_to_string(format!("{dir}output_2.json")).unwrap();
        assert_eq!(text, format!("{expected}\n"));
    }

    #[test]
    fn money_key_matches_the_handout_example() {
        let expected: Value = serde_json::from_str(include_str!(
            "../../../../testdata/formats/p1-branch-propagation/navarro165+Lamports-Logical-Clock/expected_output.json"
        ))
        .unwrap();
        use OpKind::*;
        let record = record(vec![
            customer(1, vec![result(1, Query, 1, 500, 4)]),
            customer(2, vec![result(2, Deposit, 2, 570, 0), result(3, Query, 2, 500, 2)]),
            customer(3, vec![result(4, Withdraw, 3, 500, 1), result(5, Query, 3, 500, 3)]),
        ]);
        let text = render_text(
            OutputFormat::P1Money,
            &scenario_for(&record, InputShape::Events),
            &record,
            &OutputOptions::default(),
        );
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);
    }

    #[test]
    fn failures_and_float_money() {
        let mut failed = result(7, OpKind::Withdraw, 1, 0, 0);
        failed.outcome = Outcome::Failed {
            reason: FailReason::InsufficientFunds {
                requested: Cents::units(5),
                balance: Cents::ZERO,
            },
            balance: Cents::ZERO,
        };
        let record = record(vec![customer(9, vec![failed, result(8, OpKind::Query, 1, 0, 1)])]);
        let options = OutputOptions { float_money: true, ..OutputOptions::default() };
        let value = render(&record, &options, QueryKey::Balance);
        assert_eq!(
            serde_json::to_string(&value).unwrap(),
            r#"[{"id":9,"recv":[{"interface":"withdraw","result":"fail"},{"interface":"query","result":"success","balance":0.0}]}]"#
        );
    }
}
