//! Project 3 outputs: what customers saw while moving between branches.
//!
//! In project 3 a customer may send each event to a different branch, and
//! the point is the session guarantees (monotonic writes, read your writes):
//! a query must see the customer's own earlier writes wherever it is sent.
//!
//! ## Generation A (inputs with `"dest"`): [`balances`]
//!
//! One object per customer entry with the balance its last query saw:
//!
//! ```json
//! [{"id": 1, "balance": 0}]
//! ```
//!
//! ## Generation B (inputs with `"branch"`): [`per_event`]
//!
//! One object per executed event, in the order the answers arrived
//! ([`EventResult::completion`]), each with a one-item `recv` list:
//!
//! ```json
//! {"id": 1, "recv": [{"interface": "deposit", "branch": 1, "result": "success"}]}
//! {"id": 1, "recv": [{"interface": "query", "branch": 2, "balance": 400}]}
//! ```
//!
//! `"id"` is the customer, not the event. Key order inside items differs
//! between course files; bank-sim follows `anuragbnrj+cse531/output_sample.json`.

use serde_json::Value;

use super::{interface, money, Json, OutputOptions};
use crate::op::{OpKind, Outcome};
use crate::record::{EventResult, RunRecord};
use crate::scenario::{InputShape, Scenario};

/// Project 3: generation A for `dest` inputs, generation B otherwise.
pub fn render(scenario: &Scenario, record: &RunRecord, options: &OutputOptions) -> Json {
    match scenario.shape {
        InputShape::EventsWithDest => balances(record, options),
        _ => per_event(record, options),
    }
}

/// Generation A: per customer entry, the balance answered by its last query
/// (without a query: the balance after its last event; without events the
/// customer is left out); `null` when that event got no answer.
pub fn balances(record: &RunRecord, options: &OutputOptions) -> Json {
    record
        .customers
        .iter()
        .filter_map(|customer| {
            let last = customer
                .results
                .iter()
                .rev()
                .find(|r| r.op == OpKind::Query)
                .or(customer.results.last())?;
            let balance = match &last.outcome {
                // No answer came (a branch down, cut off, or the wait for
                // the session's writes timed out): no balance to show, and
                // a made-up 0 would read as one. `bank run` exits 3.
                Outcome::Failed { reason, .. } if reason.is_fault() => Json::Value(Value::Null),
                outcome => money(outcome.balance(), options),
            };
            Some(Json::object([("id", Json::from(customer.customer.0)), ("balance", balance)]))
        })
        .collect()
}

/// Generation B: one object per event, in completion order.
pub fn per_event(record: &RunRecord, options: &OutputOptions) -> Json {
    let mut results: Vec<(u64, &EventResult)> = record
        .customers
        .iter()
        .flat_map(|c| c.results.iter().map(move |r| (c.customer.0, r)))
        .collect();
    // Stable, so equal completions keep input order.
    results.sort_by_key(|&(_, r)| r.completion);
    results
        .into_iter()
        .map(|(customer, r)| {
            Json::object([
                ("id", Json::from(customer)),
                ("recv", Json::Array(vec![item(r, options)])),
            ])
        })
        .collect()
}

fn item(result: &EventResult, options: &OutputOptions) -> Json {
    let mut item = vec![
        ("interface", Json::from(interface(result.op))),
        ("branch", Json::from(result.branch.0)),
    ];
    match &result.outcome {
        Outcome::Success { balance } if result.op == OpKind::Query => {
            item.push(("balance", money(*balance, options)));
        }
        Outcome::Success { .. } => item.push(("result", Json::from("success"))),
        Outcome::Failed { .. } => item.push(("result", Json::from("fail"))),
    }
    Json::object(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::testutil::{parse_fixture, replay_sequentially};
    use crate::formats::{render as render_text, OutputFormat};
    use serde_json::{json, Value};

    fn check(input: &str, expected: &str, options: OutputOptions) {
        let scenario = parse_fixture(input);
        let record = replay_sequentially(&scenario);
        let text = render_text(OutputFormat::P3, &scenario, &record, &options);
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(expected).unwrap()).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected, "{input}");
    }

    const DIR: &str =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/formats/p3-client-consistency/");

    #[test]
    fn generation_a_matches_the_handout_tests() {
        let d = DIR;
        let plain = OutputOptions::default();
        check(
            &format!("{d}swantrace+cse531_project3/input.monotonic_writes.json"),
            &format!("{d}swantrace+cse531_project3/output.monotonic_writes.json"),
            plain,
        );
        check(
            &format!("{d}swantrace+cse531_project3/input.read_writes.json"),
            &format!("{d}swantrace+cse531_project3/output.read_writes.json"),
            plain,
        );
        check(
            &format!("{d}clin255+CSE531_project3/input.json"),
            &format!("{d}clin255+CSE531_project3/output_project3.json"),
            plain,
        );
        let floats = OutputOptions { float_money: true, ..plain };
        check(
            &format!("{d}swantrace+cse531_project3/input.monotonic_writes.json"),
            &format!("{d}CliffordCheefoon+C.Cheefoon-ASU-CSE_531-Project_3/output.json"),
            floats,
        );
    }

    #[test]
    fn generation_b_matches_the_samples() {
        let d = DIR;
        let plain = OutputOptions::default();
        check(
            &format!("{d}anuragbnrj+cse531/input_sample.json"),
            &format!("{d}anuragbnrj+cse531/output_sample.json"),
            plain,
        );
        for input in ["anuragbnrj+cse531/input_big.json", "jthak002+cse531/input_big.json"] {
            check(
                &format!("{d}{input}"),
                &format!("{d}jthak002+cse531/customer_output.1.json"),
                plain,
            );
        }
    }

    #[test]
    fn generation_b_key_order_follows_anuragbnrj() {
        let scenario = parse_fixture(&format!("{DIR}anuragbnrj+cse531/input_sample.json"));
        let record = replay_sequentially(&scenario);
        let text = render_text(OutputFormat::P3, &scenario, &record, &OutputOptions::default());
        let expected =
            std::fs::read_to_string(format!("{DIR}anuragbnrj+cse531/output_sample.json")).unwrap();
        assert_eq!(text.trim_end(), expected.trim_end());
    }

    #[test]
    fn generation_b_follows_completion_order() {
        use crate::formats::p1::tests::{customer, record, result};
        let record = record(vec![
            customer(
                1,
                vec![result(1, OpKind::Deposit, 1, 10, 0), result(2, OpKind::Query, 2, 20, 3)],
            ),
            customer(
                2,
                vec![result(3, OpKind::Deposit, 2, 20, 1), result(4, OpKind::Query, 1, 20, 2)],
            ),
        ]);
        let order: Vec<(u64, u64)> = per_event(&record, &OutputOptions::default())
            .to_value()
            .as_array()
            .unwrap()
            .iter()
            .map(|o| (o["id"].as_u64().unwrap(), o["recv"][0]["branch"].as_u64().unwrap()))
            .collect();
        assert_eq!(order, [(1, 1), (2, 2), (2, 1), (1, 2)]);
    }

    #[test]
    fn a_query_that_got_no_answer_shows_no_balance() {
        let scenario = crate::formats::parse_input(
            r#"[{"id": 1, "type": "customer", "events": [{"interface": "query", "dest": 1}]},
                {"id": 2, "type": "customer", "events": [{"interface": "query", "dest": 1}]},
                {"id": 1, "type": "branch", "balance": 10}]"#,
            "t.json",
        )
        .unwrap();
        let mut record = replay_sequentially(&scenario);
        let why = crate::FailReason::Unavailable("branch 1 is down".into());
        record.customers[0].results[0].outcome =
            Outcome::Failed { reason: why, balance: crate::Cents::ZERO };
        // Before: {"id": 1, "balance": 0}, a balance nobody read.
        assert_eq!(
            balances(&record, &OutputOptions::default()).to_value(),
            json!([{"id": 1, "balance": null}, {"id": 2, "balance": 10}])
        );
    }

    #[test]
    fn customers_without_a_query_or_events() {
        let scenario = crate::formats::parse_input(
            r#"[{"id": 1, "type": "customer", "events": [{"interface": "deposit", "money": 5, "dest": 1}]},
                {"id": 2, "type": "customer", "events": []},
                {"id": 1, "type": "branch", "balance": 10}]"#,
            "t.json",
        )
        .unwrap();
        let record = replay_sequentially(&scenario);
        assert_eq!(
            balances(&record, &OutputOptions::default()).to_value(),
            json!([{"id": 1, "balance": 15}])
        );
    }
}
