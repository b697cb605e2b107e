//! "Check a submission": a student's output graded in the page by
//! `bank_core::grade`, and each problem followed to its event in the trace.
//!
//! The trace here is the run the expected output came from (the core's
//! simulator, each branch log entry as the lab's `branch_logged` event), so
//! a problem must land on the very entry whose line the student got wrong.
//!
//! Natively: `cargo test -p bank-frontend --test grade`; in the browser as
//! `tests/web.rs` says.

use bank_core::experiment::parse_experiment;
use bank_core::formats::OutputFormat;
use bank_core::grade::{exact, EventRef, Expected, ProblemKind};
use bank_core::LogKind;
use bank_frontend::model::grade::{checked, event_index, grade_text};
use bank_frontend::model::trace::Trace;
use bank_proto::{
    customer_reply, lab_event::Event, BranchLogged, CustomerAnswered, CustomerReply,
    CustomerRequest, CustomerSent, LabEvent, ScenarioSummary, Success,
};
use serde_json::Value;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Customer 1 deposits 100 at branch 1 and queries; three branches.
const INPUT: &str = r#"[
  {"id": 1, "type": "customer", "events": [
    {"id": 1, "interface": "deposit", "money": 100},
    {"id": 2, "interface": "query"}]},
  {"id": 1, "type": "branch", "balance": 400},
  {"id": 2, "type": "branch", "balance": 400},
  {"id": 3, "type": "branch", "balance": 400}
]"#;

/// `bank run`'s output of `INPUT` in `format`, and the trace of that run.
fn run(format: OutputFormat) -> (String, Trace) {
    let scenario = parse_experiment(INPUT, "input").unwrap().scenario;
    let expected = Expected::new(&scenario);
    let record = expected.record(format).unwrap();
    let text = exact::render(format, &scenario, record).remove(0);

    let mut events = vec![Event::Loaded(ScenarioSummary::default())];
    for (script, customer) in scenario.customers.iter().zip(&record.customers) {
        for (event, _) in script.events.iter().zip(&customer.results) {
            let (customer_id, event_id) = (script.id.0, event.id.0);
            events.push(Event::CustomerSent(CustomerSent {
                session: 0,
                from_browser: false,
                request: Some(CustomerRequest {
                    customer_id,
                    event_id,
                    branch_id: event.branch.0,
                    ..Default::default()
                }),
            }));
            events.push(Event::CustomerAnswered(CustomerAnswered {
                session: 0,
                from_browser: false,
                customer_id,
                reply: Some(CustomerReply {
                    branch_id: event.branch.0,
                    event_id,
                    customer_id,
                    result: Some(customer_reply::Result::Success(Success::default())),
                    ..Default::default()
                }),
            }));
        }
    }
    for branch in &record.branches {
        for entry in &branch.log {
            events.push(Event::BranchLogged(BranchLogged {
                branch_id: branch.id.0,
                entry: Some(entry.into()),
                ..Default::default()
            }));
        }
    }
    let mut trace = Trace::new();
    for (seq, event) in events.into_iter().enumerate() {
        trace.push(LabEvent {
            seq: seq as u64,
            at_micros: 0,
            event: Some(event),
            ..Default::default()
        });
    }
    (text, trace)
}

fn logged(trace: &Trace, index: usize) -> (u64, bank_proto::LogEntry) {
    match &trace.events()[index].event {
        Some(Event::BranchLogged(l)) => (l.branch_id, l.entry.unwrap()),
        other => panic!("event {index} is {other:?}"),
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn bank_runs_own_output_is_exact_and_valid_with_nothing_to_show() {
    for format in [OutputFormat::P1, OutputFormat::P2a] {
        let (text, trace) = run(format);
        let grade = grade_text(INPUT, "out.json", &text).unwrap();
        let report = checked(&grade, &trace);
        assert!(report.exact && report.valid, "{format}: {:?}", report.lines);
        assert!(report.lines.is_empty());
        assert!(report.summary.contains("exact ✓, valid ✓"), "{}", report.summary);
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn a_wrong_balance_links_to_the_customers_answer() {
    let (text, trace) = run(OutputFormat::P1);
    assert!(text.contains("500"), "{text}");
    let grade = grade_text(INPUT, "out.json", &text.replace("500", "450")).unwrap();
    let report = checked(&grade, &trace);
    assert!(!report.valid && !report.exact);
    let wrong = report.lines.iter().find(|l| l.kind == ProblemKind::WrongBalance).unwrap();
    assert!(wrong.text.starts_with("out.json:"), "{}", wrong.text);
    assert!(wrong.text.contains("customer 1, event 2"), "{}", wrong.text);
    let index = wrong.event.expect("linked");
    match &trace.events()[index].event {
        Some(Event::CustomerAnswered(a)) => {
            assert_eq!((a.customer_id, a.reply.as_ref().unwrap().event_id), (1, 2))
        }
        other => panic!("{other:?}"),
    }
    // Validity problems come first; the difference from bank run's output is listed too.
    assert!(!report.lines[0].difference);
    assert!(report.lines.iter().any(|l| l.difference && l.event == Some(index)));
}

#[wasm_bindgen_test(unsupported = test)]
fn an_off_by_one_clock_links_to_that_branch_log_entry() {
    let (text, trace) = run(OutputFormat::P2a);
    // Branch 2's receipt of the propagated deposit, one clock too early.
    let mut value: Value = serde_json::from_str(&text).unwrap();
    let entry = value
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|o| o["pid"] == 2)
        .and_then(|o| o["data"].as_array_mut())
        .and_then(|d| d.iter_mut().find(|e| e["name"] == "deposit_propagate_request"))
        .unwrap();
    let clock = entry["clock"].as_u64().unwrap();
    entry["clock"] = (clock - 1).into();
    let mutated = serde_json::to_string_pretty(&value).unwrap();

    let grade = grade_text(INPUT, "out.json", &mutated).unwrap();
    let report = checked(&grade, &trace);
    assert!(!report.valid, "{:?}", report.lines);
    let rule = report.lines.iter().find(|l| l.kind == ProblemKind::ReceiveRule).unwrap();
    assert!(rule.text.contains("branch 2"), "{}", rule.text);
    let (branch, entry) = logged(&trace, rule.event.expect("linked"));
    assert_eq!((branch, entry.event_id, entry.peer), (2, 1, 1));
    assert_eq!(entry.kind, bank_proto::LogKind::PropagateReceived as i32);
    assert_eq!(entry.clock, clock, "the entry of the run, at its real clock");
}

#[wasm_bindgen_test(unsupported = test)]
fn of_several_entries_that_fit_the_one_with_the_printed_clock_is_meant() {
    let (_, trace) = run(OutputFormat::P2a);
    // The per-write list names no branch: each other branch's receipt fits.
    let receipts: Vec<(usize, u64, u64)> = (0..trace.len())
        .filter_map(|i| match &trace.events()[i].event {
            Some(Event::BranchLogged(l)) => l.entry.as_ref().and_then(|e| {
                (e.kind == bank_proto::LogKind::PropagateReceived as i32).then_some((
                    i,
                    l.branch_id,
                    e.clock,
                ))
            }),
            _ => None,
        })
        .collect();
    assert_eq!(receipts.len(), 2);
    let (last, _, clock) = receipts[1];
    let wanted = |clock| EventRef::Branch {
        branch: None,
        event: 1,
        kind: LogKind::PropagateReceived,
        peer: None,
        clock: Some(clock),
    };
    assert_eq!(event_index(&trace, &wanted(clock)), Some(last));
    assert_eq!(event_index(&trace, &wanted(999)), Some(receipts[0].0), "else the first");
    // A step the run did not log at all: the request's first entry there.
    let missing = EventRef::Branch {
        branch: Some(3),
        event: 1,
        kind: LogKind::Response,
        peer: None,
        clock: None,
    };
    let (branch, entry) = logged(&trace, event_index(&trace, &missing).unwrap());
    assert_eq!((branch, entry.event_id), (3, 1));
    assert_eq!(event_index(&trace, &EventRef::CustomerSent { customer: 9, event: 1 }), None);
}

#[wasm_bindgen_test(unsupported = test)]
fn an_unreadable_submission_and_a_bad_scenario_say_why() {
    let (_, trace) = run(OutputFormat::P1);
    let grade = grade_text(INPUT, "out.json", "not json").unwrap();
    let report = checked(&grade, &trace);
    assert!(report.unreadable && !report.valid);
    assert_eq!(report.lines[0].kind, ProblemKind::NotJson);
    assert_eq!(report.lines[0].event, None);
    assert!(grade_text("[{\"id\": 1}]", "out.json", "[]").is_err());
}
