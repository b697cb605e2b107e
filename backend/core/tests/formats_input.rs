//! Reading course inputs: every published input file, and every way an input
//! can be wrong.
//!
//! The fixtures are byte-for-byte copies of public course files (see
//! `testdata/formats/README.md` at the repository root).

use std::path::{Path, PathBuf};

use bank_core::formats::{parse_input, InputError, InputErrorKind};
use bank_core::money::MoneyError;
use bank_core::{BranchId, Cents, CustomerId, EventId, InputShape, Op, Scenario};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/formats");

/// Every input file among the fixtures (the rest are outputs).
const INPUTS: [&str; 15] = [
    "p1-branch-propagation/anuragbnrj+cse531/input_2.json",
    "p1-branch-propagation/clin255+CSE531_project1/input.json",
    "p1-branch-propagation/hiroto0222+CSE531-gRPC-Project/input.json",
    "p1-branch-propagation/jthak002+cse531/input_small.json",
    "p1-branch-propagation/markoer73+grpc-cse531/test2.json",
    "p2-lamport-clocks/anuragbnrj+cse531/input_10.json",
    "p2-lamport-clocks/jthak002+cse531/input.json",
    "p2-lamport-clocks/navarro165+Lamports-Logical-Clock/input_test.json",
    "p2-lamport-clocks/swantrace+cse531_project2/input.json",
    "p3-client-consistency/anuragbnrj+cse531/input_big.json",
    "p3-client-consistency/anuragbnrj+cse531/input_sample.json",
    "p3-client-consistency/clin255+CSE531_project3/input.json",
    "p3-client-consistency/jthak002+cse531/input_big.json",
    "p3-client-consistency/swantrace+cse531_project3/input.monotonic_writes.json",
    "p3-client-consistency/swantrace+cse531_project3/input.read_writes.json",
];

fn read(relative: &str) -> String {
    let path = Path::new(FIXTURES).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixture(relative: &str) -> Scenario {
    parse_input(&read(relative), relative).unwrap_or_else(|e| panic!("{e}"))
}

fn parse(text: &str) -> Result<Scenario, InputError> {
    parse_input(text, "input.json")
}

fn parse_err(text: &str) -> InputError {
    match parse(text) {
        Ok(scenario) => panic!("expected an error, got {scenario:?}"),
        Err(e) => e,
    }
}

fn event_ids(scenario: &Scenario) -> Vec<u64> {
    scenario.customers.iter().flat_map(|c| &c.events).map(|e| e.id.0).collect()
}

/// Per customer: its id and its events as (id, op, branch).
type Summary = Vec<(u64, Vec<(u64, Op, u64)>)>;

/// Customers and their events without line numbers.
fn summary(scenario: &Scenario) -> Summary {
    scenario
        .customers
        .iter()
        .map(|c| (c.id.0, c.events.iter().map(|e| (e.id.0, e.op, e.branch.0)).collect()))
        .collect()
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json" || e == "txt") {
            out.push(path);
        }
    }
}

#[test]
fn every_input_parses_and_every_output_is_refused() {
    let mut files = Vec::new();
    all_files(Path::new(FIXTURES), &mut files);
    files.sort();
    let mut accepted = Vec::new();
    for path in &files {
        let relative = path.strip_prefix(FIXTURES).unwrap().to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(path).unwrap();
        match parse_input(&text, &relative) {
            Ok(_) => accepted.push(relative),
            Err(e) => {
                assert!(!INPUTS.contains(&relative.as_str()), "{e}");
                assert!(e.line() >= 1, "{e}");
            }
        }
    }
    let mut inputs: Vec<String> = INPUTS.iter().map(|s| s.to_string()).collect();
    inputs.sort();
    assert_eq!(accepted, inputs, "exactly the input files parse");
}

#[test]
fn p1_standard_sample() {
    let s = fixture("p1-branch-propagation/clin255+CSE531_project1/input.json");
    assert_eq!(s.shape, InputShape::Events);
    assert_eq!((s.customers.len(), s.branches.len(), s.event_count()), (3, 3, 5));
    assert_eq!(event_ids(&s), [1, 2, 3, 4, 5]);
    let c2 = &s.customers[1];
    assert_eq!(c2.id, CustomerId(2));
    assert_eq!(c2.line, 7);
    assert_eq!(c2.events[0].op, Op::Deposit(Cents(17000)));
    assert_eq!(c2.events[0].branch, BranchId(2), "a customer talks to its own branch");
    assert_eq!(c2.events[1].op, Op::Query, "the query's money is ignored");
    assert_eq!(s.customers[2].events[0].op, Op::Withdraw(Cents(7000)));
    assert!(s.branches.iter().all(|b| b.balance == Cents::units(400)));
    assert_eq!(s.branches[0].line, 17);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);

    // The 2023 form of the same sample (no money on queries) reads the same.
    let small = fixture("p1-branch-propagation/jthak002+cse531/input_small.json");
    assert_eq!(summary(&small), summary(&s));
    let navarro = fixture("p2-lamport-clocks/navarro165+Lamports-Logical-Clock/input_test.json");
    assert_eq!(navarro.shape, InputShape::Events);
    assert_eq!(event_ids(&navarro), [1, 2, 3, 4, 5]);
}

#[test]
fn p1_large_tests() {
    let s = fixture("p1-branch-propagation/anuragbnrj+cse531/input_2.json");
    assert_eq!(s.shape, InputShape::Events);
    assert_eq!((s.customers.len(), s.branches.len(), s.event_count()), (100, 50, 200));
    let mut ids: Vec<u64> = s.customers.iter().map(|c| c.id.0).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 50, "customer ids 1-50 appear twice: allowed");
    assert_eq!(s.customers[50].id, s.customers[0].id);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);

    let h = fixture("p1-branch-propagation/hiroto0222+CSE531-gRPC-Project/input.json");
    assert_eq!((h.customers.len(), h.branches.len(), h.event_count()), (100, 100, 200));
    assert_eq!(h.customers[99].events[0].op, Op::Withdraw(Cents::units(10)));
}

#[test]
fn p1_student_stress_input_warns_about_unequal_balances() {
    let s = fixture("p1-branch-propagation/markoer73+grpc-cse531/test2.json");
    assert_eq!(s.customers.iter().map(|c| c.id.0).collect::<Vec<_>>(), [345, 987, 567]);
    assert_eq!(s.customers[1].events[0].branch, BranchId(987));
    assert_eq!(s.customers[2].events[0].op, Op::Withdraw(Cents::units(8000)));
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    let w = &s.warnings[0];
    assert!(w.contains("different balances") && w.contains("branch 345: 2200"), "{w}");
}

#[test]
fn p2_generation_b_inputs() {
    let s = fixture("p2-lamport-clocks/jthak002+cse531/input.json");
    assert_eq!(s.shape, InputShape::CustomerRequests);
    assert_eq!((s.customers.len(), s.branches.len()), (3, 3));
    assert_eq!(event_ids(&s), [1, 2, 3, 4, 5, 6], "ids come from customer-request-id");
    assert_eq!(s.customers[0].events[1].op, Op::Withdraw(Cents::units(10)));
    assert_eq!(s.customers[2].events[0].branch, BranchId(3));

    let s = fixture("p2-lamport-clocks/anuragbnrj+cse531/input_10.json");
    assert_eq!(
        (s.shape, s.customers.len(), s.branches.len(), s.event_count()),
        (InputShape::CustomerRequests, 10, 10, 20)
    );
    let s = fixture("p2-lamport-clocks/swantrace+cse531_project2/input.json");
    assert_eq!(
        (s.shape, s.customers.len(), s.branches.len(), s.event_count()),
        (InputShape::CustomerRequests, 4, 4, 8)
    );
}

#[test]
fn p3_generation_a_inputs() {
    let s = fixture("p3-client-consistency/swantrace+cse531_project3/input.monotonic_writes.json");
    assert_eq!(s.shape, InputShape::EventsWithDest);
    let branches: Vec<u64> = s.customers[0].events.iter().map(|e| e.branch.0).collect();
    assert_eq!(branches, [1, 2, 2]);
    assert_eq!(s.customers[0].events[1].op, Op::Withdraw(Cents::units(400)));
    assert_eq!(s.branches[0].balance, Cents::ZERO);
    let s = fixture("p3-client-consistency/swantrace+cse531_project3/input.read_writes.json");
    assert_eq!((s.shape, s.event_count()), (InputShape::EventsWithDest, 2));

    let s = fixture("p3-client-consistency/clin255+CSE531_project3/input.json");
    assert_eq!(s.shape, InputShape::EventsWithDest);
    assert_eq!(event_ids(&s), [1, 2, 3, 4, 5, 6], "no ids in the file: positions");
    assert_eq!(s.customers[0].events[0].branch, BranchId(3));
    assert_eq!(s.customers[0].events[0].line, 6);
    assert_eq!(s.customers[1].events[2].op, Op::Query);
    assert!(s.branches.iter().all(|b| b.balance == Cents::units(200)));
}

#[test]
fn p3_generation_b_inputs() {
    let s = fixture("p3-client-consistency/anuragbnrj+cse531/input_sample.json");
    assert_eq!(s.shape, InputShape::EventsWithBranch);
    assert_eq!(s.customers[0].events[2].branch, BranchId(2));

    let good = fixture("p3-client-consistency/anuragbnrj+cse531/input_big.json");
    assert_eq!(
        (good.shape, good.branches.len(), good.event_count()),
        (InputShape::EventsWithBranch, 10, 60)
    );
    assert!(good.warnings.is_empty(), "{:?}", good.warnings);
    assert_eq!(event_ids(&good), (1..=60).collect::<Vec<_>>());

    let dup = fixture("p3-client-consistency/jthak002+cse531/input_big.json");
    assert_eq!(dup.event_count(), 60);
    assert_eq!(dup.customers[0].events[14].id, EventId(5), "the id is kept as written");
    assert_eq!(
        dup.warnings,
        ["event id 5 is used twice (first at line 10, column 14; again at line 20, column 14); \
             events are told apart by position"]
    );
}

#[test]
fn reused_event_ids_say_where_once_each_and_the_rest_are_counted() {
    // One line (a minified file), eight ids each used three times.
    let events: Vec<String> = (0..24)
        .map(|i| format!(r#"{{"id": {}, "interface": "query", "dest": 1}}"#, i % 8 + 1))
        .collect();
    let text = format!(
        r#"[{{"id": 1, "type": "customer", "events": [{}]}}, {{"id": 1, "type": "branch", "balance": 0}}]"#,
        events.join(", ")
    );
    let s = parse(&text).unwrap();
    assert_eq!(s.event_count(), 24);
    // Before: one warning per repeat (16 here, 5,997 for 2,000 customers),
    // each with only "lines 1 and 1".
    assert_eq!(s.warnings.len(), 6, "{:#?}", s.warnings);
    // The 1-based column of the value of the next `"id": 1` from byte `from`.
    let column = |from: usize| {
        text[from..].find(r#""id": 1, "interface""#).unwrap() + from + r#""id": "#.len() + 1
    };
    let (first, again) = (column(0), column(column(0)));
    assert_eq!(
        s.warnings[0],
        format!(
            "event id 1 is used 3 times (first at line 1, column {first}; again at line 1, \
             column {again}); events are told apart by position"
        )
    );
    assert!(s.warnings[4].starts_with("event id 5 is used 3 times"), "{}", s.warnings[4]);
    assert_eq!(
        s.warnings[5],
        "3 more event ids are used more than once; events are told apart by position"
    );
}

// ---- bad inputs ------------------------------------------------------------

const BRANCHES: &str = r#"{"id": 1, "type": "branch", "balance": 400},
  {"id": 2, "type": "branch", "balance": 400}"#;

/// A one-customer file whose second event (id 7, on line 4) is `event`.
fn with_event(event: &str) -> String {
    format!(
        "[\n  {{\"id\": 1, \"type\": \"customer\", \"events\": [\n    {{\"id\": 6, \"interface\": \"query\"}},\n    {event}\n  ]}},\n  {BRANCHES}\n]"
    )
}

#[test]
fn malformed_json_has_line_and_column() {
    let e = parse_err("[\n  {\"id\": 1, \"type\": \"branch\" \"balance\": 400}\n]");
    assert!(matches!(e.kind(), InputErrorKind::Syntax(_)), "{e}");
    assert_eq!((e.line(), e.column()), (2, Some(30)));
    assert_eq!(e.to_string(), "input.json:2:30: invalid JSON: expected `,` or `}`");

    let e = parse_err("[{\"id\": 1,}]");
    assert_eq!((e.line(), e.column()), (1, Some(11)), "{e}");
    let e = parse_err("[1, 2");
    assert!(matches!(e.kind(), InputErrorKind::Syntax(_)), "{e}");
}

#[test]
fn unknown_interface() {
    let e = parse_err(&with_event(r#"{"id": 7, "interface": "transfer", "money": 5}"#));
    assert_eq!(*e.kind(), InputErrorKind::UnknownInterface("transfer".into()));
    assert_eq!((e.line(), e.column()), (4, Some(28)));
    assert_eq!(
        e.to_string(),
        r#"input.json:4:28: customer 1, event 7: unknown interface "transfer" (expected deposit, withdraw or query)"#
    );
}

#[test]
fn interfaces_are_case_insensitive() {
    let s = parse(&with_event(r#"{"id": 7, "interface": "Deposit", "money": 5}"#)).unwrap();
    assert_eq!(s.customers[0].events[1].op, Op::Deposit(Cents::units(5)));
}

#[test]
fn missing_money_on_a_deposit() {
    let e = parse_err(&with_event(r#"{"id": 7, "interface": "deposit"}"#));
    assert!(matches!(e.kind(), InputErrorKind::MissingKey { key: "money", .. }), "{e}");
    assert_eq!(e.line(), 4);
    assert_eq!(e.context(), "customer 1, event 7");
    assert!(
        e.to_string().starts_with("input.json:4: customer 1, event 7: missing \"money\""),
        "{e}"
    );
}

#[test]
fn negative_money() {
    let e = parse_err(&with_event(r#"{"id": 7, "interface": "withdraw", "money": -5}"#));
    assert_eq!(
        *e.kind(),
        InputErrorKind::BadMoney { key: "money", reason: MoneyError::Negative("-5".into()) }
    );
    assert_eq!((e.line(), e.column()), (4, Some(49)));
    assert!(e.to_string().contains("event 7") && e.to_string().contains("negative"), "{e}");
}

#[test]
fn non_numeric_money() {
    let e = parse_err(&with_event(r#"{"id": 7, "interface": "deposit", "money": "lots"}"#));
    assert_eq!(
        *e.kind(),
        InputErrorKind::BadMoney { key: "money", reason: MoneyError::NotANumber("lots".into()) }
    );
    assert!(e.to_string().starts_with("input.json:4:48: customer 1, event 7:"), "{e}");

    let e = parse_err(&with_event(r#"{"id": 7, "interface": "deposit", "money": true}"#));
    assert!(matches!(e.kind(), InputErrorKind::BadValue { key: "money", .. }), "{e}");
    let e = parse_err(&with_event(r#"{"id": 7, "interface": "deposit", "money": 1.005}"#));
    assert!(
        matches!(e.kind(), InputErrorKind::BadMoney { reason: MoneyError::SubCent(_), .. }),
        "{e}"
    );
}

#[test]
fn money_as_string_and_decimals() {
    let s = parse(&with_event(r#"{"id": 7, "interface": "deposit", "money": "400"}"#)).unwrap();
    assert_eq!(s.customers[0].events[1].op, Op::Deposit(Cents(40000)));
    let s = parse(&with_event(r#"{"id": 7, "interface": "deposit", "money": 400.5}"#)).unwrap();
    assert_eq!(s.customers[0].events[1].op, Op::Deposit(Cents(40050)));
    let s = parse(&with_event(r#"{"id": 7, "interface": "query", "money": "whatever"}"#)).unwrap();
    assert_eq!(s.customers[0].events[1].op, Op::Query, "money on a query is ignored");
}

#[test]
fn dest_to_a_missing_branch() {
    let text = format!(
        "[\n  {{\"id\": 1, \"type\": \"customer\", \"events\": [\n    {{\"id\": 6, \"interface\": \"query\", \"dest\": 1}},\n    {{\"id\": 7, \"interface\": \"query\", \"dest\": 9}}\n  ]}},\n  {BRANCHES}\n]"
    );
    let e = parse_err(&text);
    assert_eq!(*e.kind(), InputErrorKind::UnknownBranch { branch: 9, existing: vec![1, 2] });
    assert_eq!(e.line(), 4);
    assert_eq!(
        e.to_string(),
        "input.json:4:45: customer 1, event 7: event goes to branch 9, which does not exist (branches: 1, 2)"
    );
}

#[test]
fn customer_without_its_own_branch() {
    let e = parse_err(&format!(
        "[\n  {{\"id\": 7, \"type\": \"customer\", \"events\": [{{\"interface\": \"query\"}}]}},\n  {BRANCHES}\n]"
    ));
    assert_eq!(e.line(), 2);
    assert_eq!(
        e.to_string(),
        "input.json:2: customer 7: customer 7 talks to branch 7, which does not exist (branches: 1, 2)"
    );
}

#[test]
fn a_null_amount_is_pointed_at() {
    let e = parse_err(
        r#"[{"id": 1, "type": "customer", "events": [{"interface": "deposit", "money": null, "id": 1, "dest": 1}]},
            {"id": 1, "type": "branch", "balance": 0}]"#,
    );
    assert_eq!(
        e.to_string(),
        "input.json:1:77: customer 1, event 1: \"money\" must be an amount like 400 or 400.5 (a \
         deposit or withdraw needs one), found null"
    );
}

#[test]
fn ids_stay_within_what_every_json_reader_holds_exactly() {
    for (id, found) in [
        ("9007199254740992", "9007199254740992"),
        ("\"18446744073709551616\"", "\"18446744073709551616\""),
    ] {
        let e = parse_err(&format!(r#"[{{"id": {id}, "type": "branch", "balance": 0}}]"#));
        assert_eq!(
            e.to_string(),
            format!(
                "input.json:1:9: entry 1: \"id\" must be a whole number up to 9007199254740991 \
                 (2^53 - 1, the largest every JSON reader holds exactly), found {found}"
            )
        );
    }
    let s = parse(r#"[{"id": 9007199254740991, "type": "branch", "balance": 0}]"#).unwrap();
    assert_eq!(s.branches[0].id, BranchId(9007199254740991));
}

#[test]
fn duplicate_branch_ids() {
    let e = parse_err(&format!(
        "[\n  {BRANCHES},\n  {{\"id\": 2, \"type\": \"branch\", \"balance\": 400}}\n]"
    ));
    assert_eq!(
        *e.kind(),
        InputErrorKind::DuplicateBranch { id: 2, first_line: 3, first_column: 10 }
    );
    assert_eq!(
        e.to_string(),
        "input.json:4:10: branch 2: branch 2 is defined twice (first at line 3, column 10)"
    );
}

#[test]
fn empty_file() {
    for text in ["", "  \n\t\n"] {
        let e = parse_err(text);
        assert_eq!(*e.kind(), InputErrorKind::Empty);
        assert_eq!(e.to_string(), "input.json:1: file is empty");
    }
}

#[test]
fn top_level_not_an_array() {
    let e = parse_err("\n {\"id\": 1, \"type\": \"branch\", \"balance\": 0}");
    assert_eq!(*e.kind(), InputErrorKind::NotAnArray { found: "an object" });
    assert_eq!((e.line(), e.column()), (2, Some(2)));
    // JSON Lines, as some students wrote: still not an array.
    let e = parse_err("{\"id\": 1}\n{\"id\": 2}\n");
    assert!(matches!(e.kind(), InputErrorKind::NotAnArray { .. }), "{e}");
    let e = parse_err(&format!("[{BRANCHES}, 5]"));
    assert!(matches!(e.kind(), InputErrorKind::NotAnObject { found: "a number", .. }), "{e}");
    assert_eq!(e.context(), "entry 3");
}

#[test]
fn mixed_shapes() {
    let e = parse_err(&with_event(r#"{"id": 7, "interface": "query", "dest": 2}"#));
    assert!(matches!(e.kind(), InputErrorKind::MixedShapes { other_line: 3, .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "input.json:4: customer 1, event 7: this event names its branch with \"dest\" but event 6 names no branch \
         (line 3); one file must use one form throughout"
    );

    let text = format!(
        "[{{\"id\": 1, \"type\": \"customer\", \"events\": [{{\"interface\": \"query\", \"dest\": 1}}]}},\n\
         {{\"id\": 2, \"type\": \"customer\", \"events\": [{{\"interface\": \"query\", \"branch\": 1}}]}},\n{BRANCHES}]"
    );
    let e = parse_err(&text);
    assert!(matches!(e.kind(), InputErrorKind::MixedShapes { .. }), "{e}");
    assert!(e.to_string().contains("\"branch\"") && e.to_string().contains("\"dest\""), "{e}");

    let text = format!(
        "[{{\"id\": 1, \"type\": \"customer\", \"events\": []}},\n\
         {{\"id\": 2, \"type\": \"customer\", \"customer-requests\": []}},\n{BRANCHES}]"
    );
    let e = parse_err(&text);
    assert!(matches!(e.kind(), InputErrorKind::MixedShapes { .. }), "{e}");
    assert_eq!(e.line(), 2);

    let e = parse_err(&with_event(r#"{"id": 7, "interface": "query", "dest": 2, "branch": 2}"#));
    assert_eq!(*e.kind(), InputErrorKind::BothBranchKeys);
}

#[test]
fn no_branches() {
    let e = parse_err("[{\"id\": 1, \"type\": \"customer\", \"events\": []}]");
    assert_eq!(*e.kind(), InputErrorKind::NoBranches);
    assert_eq!(parse_err("[]").kind(), &InputErrorKind::NoBranches);
}

#[test]
fn entry_problems_name_the_entry() {
    let e = parse_err(&format!("[{BRANCHES},\n {{\"id\": 3, \"type\": \"teller\"}}]"));
    assert_eq!(*e.kind(), InputErrorKind::UnknownType("teller".into()));
    assert_eq!(
        e.to_string(),
        "input.json:3:20: entry 3: unknown type \"teller\" (expected \"customer\" or \"branch\")"
    );
    let e = parse_err(&format!(
        "[{BRANCHES},\n {{\"id\": -3, \"type\": \"customer\", \"events\": []}}]"
    ));
    assert!(matches!(e.kind(), InputErrorKind::BadValue { key: "id", .. }), "{e}");
    assert!(e.to_string().contains("non-negative integer, found -3"), "{e}");
    let e = parse_err(&format!("[{BRANCHES},\n {{\"id\": 3, \"type\": \"customer\"}}]"));
    assert_eq!(*e.kind(), InputErrorKind::MissingEvents);
    let e = parse_err(&format!("[{BRANCHES},\n {{\"id\": 3, \"type\": \"branch\"}}]"));
    assert!(matches!(e.kind(), InputErrorKind::MissingKey { key: "balance", .. }), "{e}");
    let e = parse_err(&format!(
        "[{BRANCHES},\n {{\"id\": 3, \"type\": \"customer\", \"events\": {{}}}}]"
    ));
    assert!(matches!(e.kind(), InputErrorKind::BadValue { key: "events", .. }), "{e}");
}

#[test]
fn lenient_where_the_course_files_vary() {
    let text = r#"[
      {"id": "1", "type": "Customer", "note": "extra keys are ignored",
       "events": [{"customer_request_id": 3, "interface": "deposit", "money": "0.5", "dest": "2"}]},
      {"id": 1, "type": "bank", "balance": 0},
      {"id": 2, "type": "BRANCH", "balance": 0}
    ]"#;
    let s = parse(text).unwrap();
    assert_eq!(s.shape, InputShape::EventsWithDest);
    let e = &s.customers[0].events[0];
    assert_eq!(
        (e.id, e.op, e.branch, e.line),
        (EventId(3), Op::Deposit(Cents(50)), BranchId(2), 3)
    );
}

// ---- robustness ------------------------------------------------------------

mod never_panics {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::parse_input;

    const KEYS: [&str; 13] = [
        "id",
        "type",
        "events",
        "customer-requests",
        "interface",
        "money",
        "balance",
        "dest",
        "branch",
        "customer-request-id",
        "customer_request_id",
        "x",
        "",
    ];
    const WORDS: [&str; 12] = [
        "customer", "branch", "bank", "deposit", "withdraw", "query", "400", "-1", "4.005", "1e3",
        "", "\u{e9}\n",
    ];

    /// JSON values built from the words the reader looks for, so that most
    /// of them get deep into the reader before something is wrong.
    fn course_like() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (0u64..12).prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            proptest::sample::select(WORDS.to_vec()).prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((proptest::sample::select(KEYS.to_vec()), inner), 0..6)
                    .prop_map(|fields| {
                        Value::Object(
                            fields
                                .into_iter()
                                .map(|(k, v)| (k.to_owned(), v))
                                .collect::<Map<_, _>>(),
                        )
                    }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn on_any_text(text in ".{0,200}") {
            if let Err(e) = parse_input(&text, "fuzz.json") {
                prop_assert!(e.line() >= 1);
                let _ = e.to_string();
            }
        }

        #[test]
        fn on_json_ish_text(text in r#"[\[\]{}",:0-9a-z .\-\n]{0,200}"#) {
            let _ = parse_input(&text, "fuzz.json").map_err(|e| e.to_string());
        }

        #[test]
        fn on_course_like_json(entries in proptest::collection::vec(course_like(), 0..6), cut in 0usize..400) {
            let text = serde_json::to_string_pretty(&Value::Array(entries)).unwrap();
            let _ = parse_input(&text, "fuzz.json").map_err(|e| e.to_string());
            // The same text cut short anywhere (on a character boundary).
            let cut = (0..=cut.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            let _ = parse_input(&text[..cut], "fuzz.json").map_err(|e| e.to_string());
        }
    }

    #[test]
    fn on_deep_nesting() {
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_input(&text, "deep.json").is_err());
        let text = format!(
            "[{{\"id\": 1, \"type\": \"branch\", \"balance\": 0, \"x\": {}{}}}]",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(parse_input(&text, "deep.json").is_ok());
    }
}
