//! Hostile input for every parser of bank-core: course inputs
//! ([`parse_input`]), experiment files ([`parse_experiment`]) and histories
//! ([`History::from_json`]).
//!
//! Each property starts from real files (the course's public inputs, the
//! shipped experiments, a history the simulator wrote) and breaks them the
//! way a careless or hostile user would: truncated, bytes inserted or
//! deleted, numbers made huge, nesting made deep, keys duplicated, unicode
//! and control characters dropped in; or throws pure noise. Whatever comes
//! in, a parser must not panic (these tests run in debug, so overflow checks
//! are on), must answer within a bounded time, and must either accept the
//! text or refuse it with an error that says where (a line, and a column
//! when one value is at fault). Accepted text must keep the documented
//! maxima. Case counts are small so the suite stays well under a minute in
//! debug on a slow machine; the mutations are what make it wide.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bank_core::experiment::{demo, parse_experiment};
use bank_core::formats::{parse_input, OutputFormat, MAX_BRANCHES, MAX_EVENTS};
use bank_core::history::MAX_WRITE_SEQ;
use bank_core::{Cents, History};
use proptest::prelude::*;

/// How long one parse may take, even in debug on a loaded machine.
const TIME_LIMIT: Duration = Duration::from_secs(5);

fn repo_file(rel: &str) -> String {
    let path = format!("{}/../../{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Valid course inputs, one per project and generation.
fn inputs() -> &'static [String] {
    static INPUTS: OnceLock<Vec<String>> = OnceLock::new();
    INPUTS.get_or_init(|| {
        [
            "testdata/formats/p1-branch-propagation/jthak002+cse531/input_small.json",
            "testdata/formats/p2-lamport-clocks/anuragbnrj+cse531/input_10.json",
            "testdata/formats/p3-client-consistency/anuragbnrj+cse531/input_sample.json",
            "testdata/formats/p3-client-consistency/swantrace+cse531_project3/input.read_writes.json",
            "examples/seed-test-1.json",
        ]
        .iter()
        .map(|f| repo_file(f))
        .collect()
    })
}

/// Valid experiments (settings, network plans with links and faults).
fn experiments() -> &'static [String] {
    static EXPERIMENTS: OnceLock<Vec<String>> = OnceLock::new();
    EXPERIMENTS.get_or_init(|| {
        ["examples/demo-stale-read.json", "examples/demo-overdraft.json"]
            .iter()
            .map(|f| repo_file(f))
            .chain([format!(
                r#"{{"seed": 3, "guarantees": "mr", "customer_guarantees": {{"1": "ryw"}},
  "network": {{"delay_ms": [1, 5], "links": [{{"between": [1, 2], "delay_ms": 40}}],
               "faults": [{{"at_ms": 5, "crash": 2}}, {{"at_ms": 9, "restart": 2}}]}},
  "bank": {}}}"#,
                repo_file("examples/seed-test-2.json")
            )])
            .collect()
    })
}

/// A history the simulator wrote for a shipped experiment.
fn history() -> &'static str {
    static HISTORY: OnceLock<String> = OnceLock::new();
    HISTORY.get_or_init(|| {
        let text = repo_file("examples/demo-stale-read.json");
        let experiment = parse_experiment(&text, "demo-stale-read.json").unwrap();
        let format = OutputFormat::default_for(experiment.scenario.shape);
        let config = demo::sim_config(&experiment.settings, demo::base_for(format));
        let checked = demo::run_checked(&experiment.scenario, &config).unwrap();
        checked.history.to_json()
    })
}

/// Text a hostile user might splice in.
fn splice() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("18446744073709551616".to_owned()),
        Just("92233720368547758.07".to_owned()),
        Just("-9223372036854775809".to_owned()),
        Just("1e400".to_owned()),
        Just("-0".to_owned()),
        Just("0.001".to_owned()),
        Just("NaN".to_owned()),
        Just("\"w1.1-18446744073709551615\"".to_owned()),
        Just("\"w18446744073709551615.1\"".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("\"\\ud800\"".to_owned()),
        Just("é漢🦀\u{0}\u{7f}".to_owned()),
        Just("null".to_owned()),
        Just("{}".to_owned()),
        Just("[]".to_owned()),
        Just(",".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        (1usize..5_000).prop_map(|n| "[".repeat(n)),
        (1usize..5_000).prop_map(|n| "{\"a\":".repeat(n)),
        "\\PC{0,12}",
        any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// One way of breaking a valid text.
#[derive(Clone, Debug)]
enum Mutation {
    Truncate(usize),
    Insert(usize, String),
    Delete(usize, usize),
    /// Replaces the n-th number of the text.
    Number(usize, String),
    /// Writes the n-th key of the text twice.
    DuplicateKey(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), splice()).prop_map(|(at, s)| Mutation::Insert(at, s)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Mutation::Delete(at, n)),
        (any::<usize>(), splice()).prop_map(|(n, s)| Mutation::Number(n, s)),
        any::<usize>().prop_map(Mutation::DuplicateKey),
    ]
}

/// The nearest char boundary at or below `at % (len + 1)`.
fn boundary(text: &str, at: usize) -> usize {
    let mut i = at % (text.len() + 1);
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, m: &Mutation) -> String {
    match m {
        Mutation::Truncate(at) => text[..boundary(text, *at)].to_owned(),
        Mutation::Insert(at, s) => {
            let i = boundary(text, *at);
            format!("{}{s}{}", &text[..i], &text[i..])
        }
        Mutation::Delete(at, n) => {
            let i = boundary(text, *at);
            let j = boundary(text, i.saturating_add(*n).min(text.len()));
            format!("{}{}", &text[..i], &text[j.max(i)..])
        }
        Mutation::Number(n, s) => {
            let numbers: Vec<(usize, usize)> = spans(text, |b| b.is_ascii_digit());
            match numbers.get(n % numbers.len().max(1)) {
                Some(&(i, j)) => format!("{}{s}{}", &text[..i], &text[j..]),
                None => text.to_owned(),
            }
        }
        Mutation::DuplicateKey(n) => {
            // A key is a string followed by a colon: repeat `"key": value`.
            let keys: Vec<usize> = text.match_indices("\": ").map(|(i, _)| i).collect();
            let Some(&colon) = keys.get(n % keys.len().max(1)) else { return text.to_owned() };
            let Some(open) = text[..colon].rfind('"') else { return text.to_owned() };
            let value_end = text[colon..].find([',', '}']).map_or(text.len(), |e| colon + e);
            let pair = &text[open..value_end];
            format!("{}{pair}, {}", &text[..open], &text[open..])
        }
    }
}

/// Byte ranges of maximal runs of bytes matching `f`.
fn spans(text: &str, f: impl Fn(u8) -> bool) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if f(bytes[i]) {
            let start = i;
            while i < bytes.len() && f(bytes[i]) {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

/// Runs `parse` on `text`, failing the property if it takes too long.
fn timed<T>(text: &str, parse: impl FnOnce(&str) -> T) -> Result<T, TestCaseError> {
    let started = Instant::now();
    let result = parse(text);
    let took = started.elapsed();
    prop_assert!(took < TIME_LIMIT, "took {took:?} on {} bytes", text.len());
    Ok(result)
}

/// An input error must point into the text.
fn assert_located(text: &str, line: usize, column: Option<usize>) -> Result<(), TestCaseError> {
    let lines = text.matches('\n').count() + 1;
    prop_assert!(line >= 1 && line <= lines, "line {line} of {lines}");
    if let Some(column) = column {
        prop_assert!(column >= 1, "column {column}");
    }
    Ok(())
}

/// True when a message still ends in serde_json's own " at line L column C"
/// (the place belongs in front, once).
fn serde_place(message: &str) -> bool {
    message.match_indices(" at line ").any(|(i, m)| {
        let rest = &message[i + m.len()..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        digits > 0 && rest[digits..].starts_with(" column ")
    })
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn course_inputs_never_panic_and_errors_say_where(
        seed in 0usize..5,
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let base = &inputs()[seed % inputs().len()];
        let text = mutations.iter().fold(base.clone(), |t, m| apply(&t, m));
        match timed(&text, |t| parse_input(t, "input.json"))? {
            Ok(scenario) => {
                prop_assert!(scenario.branches.len() <= MAX_BRANCHES);
                prop_assert!(scenario.event_count() <= MAX_EVENTS);
                for b in &scenario.branches {
                    prop_assert!(b.balance.is_within_limit() && b.balance >= Cents::ZERO);
                }
                for e in scenario.customers.iter().flat_map(|c| &c.events) {
                    prop_assert!(e.op.amount() <= Cents::MAX && e.op.amount() >= Cents::ZERO);
                }
            }
            Err(e) => {
                assert_located(&text, e.line(), e.column())?;
                prop_assert!(e.to_string().starts_with("input.json:"), "{e}");
            }
        }
    }

    #[test]
    fn experiment_files_never_panic_and_errors_say_where(
        seed in 0usize..3,
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let base = &experiments()[seed % experiments().len()];
        let text = mutations.iter().fold(base.clone(), |t, m| apply(&t, m));
        match timed(&text, |t| parse_experiment(t, "x.json"))? {
            Ok(experiment) => {
                let ids = experiment.scenario.branch_ids();
                prop_assert!(experiment.settings.network.validate(&ids).is_ok());
                for l in &experiment.settings.network.links {
                    prop_assert_ne!(l.between[0], l.between[1], "a self-link got through");
                }
            }
            Err(e) => {
                assert_located(&text, e.line(), e.column())?;
                prop_assert!(!serde_place(&e.message()), "the place twice: {e}");
            }
        }
    }

    #[test]
    fn histories_never_panic_and_errors_say_where(
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let text = mutations.iter().fold(history().to_owned(), |t, m| apply(&t, m));
        match timed(&text, History::from_json)? {
            Ok(h) => {
                let ops: usize = h.sessions.iter().map(|s| s.ops.len()).sum();
                prop_assert!(ops <= MAX_EVENTS);
                for op in h.sessions.iter().flat_map(|s| &s.ops) {
                    prop_assert!(op.amount <= Cents::MAX);
                    if let Some(w) = op.write {
                        prop_assert!(w.seq >= 1 && w.seq <= MAX_WRITE_SEQ);
                    }
                }
                // What was read is written back the same way, exactly.
                prop_assert_eq!(History::from_json(&h.to_json()).ok(), Some(h));
            }
            Err(e) => {
                if let Some((line, column)) = e.at {
                    assert_located(&text, line, Some(column))?;
                    prop_assert!(!serde_place(&e.message), "the place twice: {e:?}");
                } else {
                    prop_assert!(
                        e.message.starts_with("`format`") || e.message.contains("at most"),
                        "no place in {e:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn noise_is_refused_by_every_parser(noise in splice(), more in splice()) {
        let text = format!("{noise}{more}");
        if let Err(e) = timed(&text, |t| parse_input(t, "n.json"))? {
            assert_located(&text, e.line(), e.column())?;
        }
        if let Err(e) = timed(&text, |t| parse_experiment(t, "n.json"))? {
            assert_located(&text, e.line(), e.column())?;
        }
        let _ = timed(&text, History::from_json)?;
    }
}

#[test]
fn the_seeds_are_valid_so_the_mutations_start_from_real_files() {
    for text in inputs() {
        parse_input(text, "seed.json").unwrap();
    }
    for text in experiments() {
        parse_experiment(text, "seed.json").unwrap();
    }
    History::from_json(history()).unwrap();
}

#[test]
fn extreme_but_valid_files_parse_quickly() {
    // The largest input the limits allow, minified onto one line (the
    // column of a value once cost the length of its line: quadratic).
    let events = vec![r#"{"interface":"deposit","money":0.01}"#; MAX_EVENTS].join(",");
    let text = format!(
        r#"[{{"id":1,"type":"branch","balance":9999999999999.99}},{{"id":1,"type":"customer","events":[{events}]}}]"#
    );
    let scenario = timed(&text, |t| parse_input(t, "big.json")).unwrap().unwrap();
    assert_eq!(scenario.event_count(), MAX_EVENTS);
    assert_eq!(scenario.branches[0].balance, Cents::MAX);
}
