//! The experiment file format: a course input plus the settings of a
//! consistency demo, and its parser.
//!
//! A course input is a JSON array. An *experiment* wraps one in an object
//! that also says how to run it: which session guarantees the customers ask
//! for, how branches propagate, in which order customers go, the network's
//! delays and faults, and the seed of every random choice:
//!
//! ```json
//! {
//!   "description": "A stale read: ...",
//!   "guarantees": "none",
//!   "customer_guarantees": { "2": "ryw,mr" },
//!   "propagation": "background",
//!   "schedule": "sequential",
//!   "seed": 7,
//!   "network": { "delay_ms": [1, 5], "links": [{ "between": [1, 2], "delay_ms": 400 }],
//!                "faults": [{ "at_ms": 50, "crash": 2 }, { "at_ms": 900, "restart": 2 }] },
//!   "bank": [ ...a course input... ]
//! }
//! ```
//!
//! Every key but `bank` is optional; `customer_guarantees` gives some
//! customers' sessions other guarantees than `guarantees`. [`parse_experiment`] accepts both
//! shapes, so every tool that takes a course input takes an experiment too.
//! What a run does with these settings (and with the user's own choices) is
//! decided in [`super::plan`].

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::branch::PropagationMode;
use crate::formats::position::LineIndex;
use crate::formats::{
    find_duplicate_key, parse_input, strip_position, strip_position_in, InputError, InputErrorKind,
};
use crate::guarantees::Guarantees;
use crate::ids::CustomerId;
use crate::network::NetworkPlan;
use crate::scenario::Scenario;
use crate::schedule::Schedule;

/// How an experiment asks to be run; `None` leaves the choice to the caller
/// (the course defaults, or command-line flags).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub description: Option<String>,
    pub guarantees: Option<Guarantees>,
    pub propagation: Option<PropagationMode>,
    pub schedule: Option<Schedule>,
    pub seed: Option<u64>,
    pub network: NetworkPlan,
    /// Customers whose sessions ask for other guarantees than `guarantees`
    /// (`"customer_guarantees": {"2": "ryw,mr"}`).
    pub per_customer: BTreeMap<CustomerId, Guarantees>,
}

/// A scenario and how to run it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Experiment {
    pub scenario: Scenario,
    pub settings: Settings,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File<'a> {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    guarantees: Option<String>,
    #[serde(default)]
    propagation: Option<String>,
    #[serde(default)]
    schedule: Option<String>,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    network: NetworkPlan,
    #[serde(default)]
    customer_guarantees: BTreeMap<u64, String>,
    #[serde(borrow)]
    bank: &'a RawValue,
}

/// Parses `"sequential"`, `"parallel"` or `"background"`.
pub fn parse_propagation(text: &str) -> Result<PropagationMode, String> {
    match text {
        "sequential" => Ok(PropagationMode::Sequential),
        "parallel" => Ok(PropagationMode::Parallel),
        "background" => Ok(PropagationMode::Background),
        other => Err(format!(
            "unknown propagation `{other}`: expected sequential, parallel or background"
        )),
    }
}

/// The name [`parse_propagation`] reads.
pub fn propagation_name(mode: PropagationMode) -> &'static str {
    match mode {
        PropagationMode::Sequential => "sequential",
        PropagationMode::Parallel => "parallel",
        PropagationMode::Background => "background",
    }
}

/// Reads a course input or an experiment (see the module docs). Errors point
/// at the line and column in `text`, also inside `bank`.
pub fn parse_experiment(text: &str, file: &str) -> Result<Experiment, InputError> {
    if !text.trim_start().starts_with('{') {
        return Ok(Experiment {
            scenario: parse_input(text, file)?,
            settings: Settings::default(),
        });
    }
    let index = LineIndex::new(text);
    if let Some(duplicate) = find_duplicate_key(text) {
        let (first_line, first_column) = index.line_col(duplicate.first);
        let (line, column) = index.line_col(duplicate.second);
        let kind = InputErrorKind::DuplicateKey { key: duplicate.key, first_line, first_column };
        return Err(InputError::new(file, line, kind).with_column(column));
    }
    // serde_json counts columns from 0 at the end of a line: 1-based here.
    let syntax = |e: serde_json::Error| {
        let kind = match e.classify() {
            serde_json::error::Category::Data => {
                InputErrorKind::WrongKind(strip_position_in(&e, text))
            }
            _ => InputErrorKind::Syntax(strip_position(&e)),
        };
        InputError::new(file, e.line().max(1), kind).with_column(e.column().max(1))
    };
    let raw: File = serde_json::from_str(text).map_err(|e| {
        // A history given where an input goes: said so, not "unknown field".
        let history = serde_json::from_str::<serde_json::Value>(text).ok().is_some_and(|v| {
            v.get("format")
                .and_then(|f| f.as_str())
                .is_some_and(|f| f.starts_with("bank-sim history"))
        });
        if history {
            let kind = InputErrorKind::WrongKind(
                "this is a history (what `bank run --history` writes), not an input: check it \
                 with `bank check FILE`"
                    .to_owned(),
            );
            return InputError::new(file, 1, kind).with_column(1);
        }
        syntax(e)
    })?;
    // Where a top-level key is written (the file has each at most once).
    let at = |key: &'static str| {
        let offset = text.find(&format!("\"{key}\"")).unwrap_or(0);
        index.line_col(offset)
    };
    let bad = |key: &'static str, expected: &'static str, found: String| {
        let (line, column) = at(key);
        InputError::new(file, line, InputErrorKind::BadValue { key, expected, found })
            .with_column(column)
    };
    let guarantees = raw
        .guarantees
        .as_deref()
        .map(|g| {
            g.parse::<Guarantees>().map_err(|_| {
                bad("guarantees", "all, none, course, or a list of ryw, mr, wfr, mw", g.into())
            })
        })
        .transpose()?;
    let propagation = raw
        .propagation
        .as_deref()
        .map(|p| {
            parse_propagation(p)
                .map_err(|_| bad("propagation", "sequential, parallel or background", p.into()))
        })
        .transpose()?;
    let schedule = raw
        .schedule
        .as_deref()
        .map(|s| {
            s.parse::<Schedule>()
                .map_err(|_| bad("schedule", "sequential, concurrent or writes-first", s.into()))
        })
        .transpose()?;

    // Parse `bank` in place: pad it so that its lines and columns are the
    // file's own, and errors inside it point at the right spot.
    let inner = raw.bank.get();
    let offset = inner.as_ptr() as usize - text.as_ptr() as usize;
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let padded = format!(
        "{}{}{inner}",
        "\n".repeat(before.matches('\n').count()),
        " ".repeat(before[line_start..].chars().count())
    );
    let scenario = parse_input(&padded, file)?;
    let mut per_customer = BTreeMap::new();
    for (customer, text) in &raw.customer_guarantees {
        let g = text.parse::<Guarantees>().map_err(|_| {
            bad(
                "customer_guarantees",
                "all, none, course, or a list of ryw, mr, wfr, mw",
                format!("{text} (customer {customer})"),
            )
        })?;
        per_customer.insert(CustomerId(*customer), g);
    }
    let ids = scenario.branch_ids();
    if let Some(unknown) =
        per_customer.keys().find(|c| !scenario.customers.iter().any(|s| s.id == **c))
    {
        return Err(bad("customer_guarantees", "customer ids of the input", unknown.0.to_string()));
    }
    raw.network.validate(&ids).map_err(|why| {
        let (line, column) = at("network");
        InputError::new(file, line, InputErrorKind::BadPlan(why)).with_column(column)
    })?;
    Ok(Experiment {
        scenario,
        settings: Settings {
            description: raw.description,
            guarantees,
            propagation,
            schedule,
            seed: raw.seed,
            network: raw.network,
            per_customer,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guarantees::Guarantee;

    const BANK: &str = r#"[
  {"id": 1, "type": "branch", "balance": 0},
  {"id": 2, "type": "branch", "balance": 0},
  {"id": 1, "type": "customer", "events": [{"interface": "deposit", "money": 10, "id": 1, "dest": 1}]}
]"#;

    #[test]
    fn plain_inputs_pass_through() {
        let e = parse_experiment(BANK, "in.json").unwrap();
        assert_eq!(e.settings, Settings::default());
        assert_eq!(e.scenario.branches.len(), 2);
    }

    #[test]
    fn settings_are_read() {
        let text = format!(
            r#"{{"description": "d", "guarantees": "mr", "propagation": "background", "seed": 3,
  "network": {{"delay_ms": 5, "faults": [{{"at_ms": 1, "crash": 2}}]}},
  "bank": {BANK}}}"#
        );
        let e = parse_experiment(&text, "x.json").unwrap();
        assert_eq!(e.settings.guarantees, Some(Guarantees::only(Guarantee::MonotonicReads)));
        assert_eq!(e.settings.propagation, Some(PropagationMode::Background));
        assert_eq!(e.settings.seed, Some(3));
        assert_eq!(e.settings.network.faults.len(), 1);
        let text = format!("{{\"guarantees\": \"none\", \"customer_guarantees\": {{\"1\": \"ryw\"}}, \"bank\": {BANK}}}");
        let e = parse_experiment(&text, "x.json").unwrap();
        assert_eq!(
            e.settings.per_customer[&CustomerId(1)],
            Guarantees::only(Guarantee::ReadYourWrites)
        );
        let text = format!("{{\"customer_guarantees\": {{\"9\": \"ryw\"}}, \"bank\": {BANK}}}");
        assert!(parse_experiment(&text, "x.json").unwrap_err().message().contains('9'));
    }

    #[test]
    fn errors_point_into_the_file() {
        let broken = BANK.replace("\"money\": 10", "\"money\": -10");
        let text = format!("{{\n  \"seed\": 1,\n  \"bank\": {broken}}}");
        let err = parse_experiment(&text, "x.json").unwrap_err();
        // The customer entry is on line 6 of the whole file.
        assert_eq!(err.line(), 6, "{}", err.message());
        let err = parse_experiment("{\"bank\": [], \"sead\": 1}", "x.json").unwrap_err();
        assert!(err.message().contains("sead"), "{}", err.message());
        let err =
            parse_experiment(&format!("{{\"guarantees\": \"rw\",\n\"bank\": {BANK}}}"), "x.json")
                .unwrap_err();
        assert!(err.message().contains("rw"), "{}", err.message());
        let err = parse_experiment(&format!("{{\"network\": {{\"faults\": [{{\"at_ms\": 1, \"crash\": 9}}]}},\n\"bank\": {BANK}}}"), "x.json")
            .unwrap_err();
        assert!(err.message().contains("branch 9"), "{}", err.message());
    }

    #[test]
    fn a_customer_guarantees_key_that_is_not_an_id_is_said_so() {
        let text = format!("{{\"customer_guarantees\": {{\"abc\": \"ryw\"}},\n\"bank\": {BANK}}}");
        let e = parse_experiment(&text, "x.json").unwrap_err().to_string();
        // Before: "invalid value: expected key to be a number in quotes".
        assert!(
            e.contains("expected a customer id as the key, a number in quotes like \"1\""),
            "{e}"
        );
    }

    #[test]
    fn a_history_given_as_an_input_is_said_to_be_one() {
        let text = r#"{"format": "bank-sim history 1", "sessions": [], "branches": []}"#;
        let e = parse_experiment(text, "h.json").unwrap_err().to_string();
        assert!(e.starts_with("h.json:1:1: this is a history"), "{e}");
        assert!(e.contains("check it with `bank check FILE`"), "{e}");
    }

    #[test]
    fn a_plan_that_cannot_be_followed_says_what_in_plain_words() {
        for (network, expected) in [
            (r#"{"drop_percent": 99.99}"#, "drop_percent is a whole percentage from 0 to 90, found 99.99"),
            (
                r#"{"faults": [{"at_ms": 5, "crash": 1, "cut": [1, 2]}]}"#,
                "a fault is one kind: this one also says `cut`",
            ),
            (r#"{"drop_percent": 300}"#, "drop_percent is a whole percentage from 0 to 90, found 300"),
            (r#"{"faults": [{"at_ms": 1.5, "crash": 1}]}"#, "expected a whole number of 0 or more, found 1.5"),
            (r#"{"faults": [{"at_ms": -1, "crash": 1}]}"#, "expected a whole number of 0 or more, found -1"),
            (r#"{"faults": [{"at_ms": 0, "explode": 1}]}"#, "a fault names one of crash, restart"),
            (r#"{"delay_ms": "fast"}"#, "a delay is a whole number of milliseconds (20) or a range"),
            (r#"{"drop_percent": 91}"#, "\"network\": drop_percent 91 is above 90"),
            (
                r#"{"delay_ms": [5, 1]}"#,
                "\"network\": the plan has the delay range [5, 1], which starts above its end; write [1, 5]",
            ),
            (
                r#"{"links": [{"between": [1, 2], "delay_ms": 5}, {"between": [2, 1], "delay_ms": 500}]}"#,
                "\"network\": two link rules name the link between branches 1 and 2 ([1, 2] and [2, 1])",
            ),
        ] {
            let text = format!("{{\n\"network\": {network},\n\"bank\": {BANK}}}");
            let err = parse_experiment(&text, "x.json").unwrap_err();
            assert!(err.to_string().starts_with("x.json:2:"), "{err}");
            // Before: serde's "invalid type: floating point `1.5`, expected
            // u64" and "no variant of enum Fault found in flattened data",
            // and "must be a plan naming two existing branches per link"
            // before every plan error.
            assert!(err.message().contains(expected), "{network}: {}", err.message());
            assert!(!err.message().contains("invalid JSON"), "{}", err.message());
        }
    }

    #[test]
    fn delays_and_fault_times_beyond_their_maximum_are_refused_with_the_line() {
        for network in [
            r#"{"delay_ms": 18446744073709551615}"#,
            r#"{"links": [{"between": [1, 2], "delay_ms": [1, 3600001]}]}"#,
            r#"{"faults": [{"at_ms": 18446744073709551615, "crash": 2}]}"#,
            r#"{"faults": [{"at_ms": 1, "set_delay": {"between": [1, 2], "delay_ms": 99999999}}]}"#,
        ] {
            let text = format!("{{\n\"network\": {network},\n\"bank\": {BANK}}}");
            let err = parse_experiment(&text, "x.json").unwrap_err();
            assert!(err.to_string().starts_with("x.json:2"), "{err}");
            assert!(err.message().contains("maximum"), "{}", err.message());
        }
        let ok = format!("{{\"network\": {{\"delay_ms\": 400000}},\n\"bank\": {BANK}}}");
        assert!(parse_experiment(&ok, "x.json").is_ok(), "400 s is a valid delay");
    }

    #[test]
    fn a_link_from_a_branch_to_itself_is_refused_like_the_lab_does() {
        for network in [
            r#"{"links": [{"between": [1, 1], "delay_ms": 5}]}"#,
            r#"{"faults": [{"at_ms": 1, "cut": [2, 2]}]}"#,
            r#"{"faults": [{"at_ms": 1, "set_delay": {"between": [1, 1], "delay_ms": 3}}]}"#,
        ] {
            let text = format!("{{\"seed\": 1,\n  \"network\": {network},\n\"bank\": {BANK}}}");
            let err = parse_experiment(&text, "x.json").unwrap_err();
            assert!(err.to_string().starts_with("x.json:2:3: "), "{err}");
            assert!(err.message().contains("to itself"), "{}", err.message());
        }
    }

    #[test]
    fn a_key_written_twice_is_refused_with_its_place() {
        let text = format!("{{\"seed\": 1,\n \"seed\": 2, \"bank\": {BANK}}}");
        let err = parse_experiment(&text, "x.json").unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.json:2:2: \"seed\" appears twice in one object (first at line 1, column 2); keep one"
        );
        let text = format!(
            "{{\"customer_guarantees\": {{\"1\": \"ryw\", \"1\": \"mr\"}}, \"bank\": {BANK}}}"
        );
        let err = parse_experiment(&text, "x.json").unwrap_err();
        assert!(err.message().contains("\"1\" appears twice"), "{}", err.message());
        // Inside `bank`, too, at the place in the whole file.
        let broken = BANK.replace("\"money\": 10", "\"money\": 10, \"money\": 99");
        let err = parse_experiment(&format!("{{\n\"bank\": {broken}}}"), "x.json").unwrap_err();
        assert_eq!(err.line(), 5, "{err}");
    }
}
