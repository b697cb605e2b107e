//! # The course's JSON formats: read every input, write every output
//!
//! The course ran three projects over several years, and each year's handout
//! changed the files a little. This module is the only place that knows about
//! them; everything else in bank-core works on typed values.
//!
//! ```text
//!   input.json ──parse_input──▶ Scenario ──(a run)──▶ RunRecord
//!                                   │                    │
//!                                   └──────render────────┴──▶ output text
//! ```
//!
//! * **Reading** ([`parse_input`], in `formats/input.rs`): one JSON array of customer
//!   and branch entries. The four input shapes are told apart by their keys
//!   (see [`InputShape`]) and every problem is an [`InputError`] pointing at a
//!   line, and a column when one value is at fault.
//! * **Writing** ([`render`]): a pure function of the [`Scenario`] and the
//!   [`RunRecord`]; no clocks, no I/O. One file per project:
//!   [`p1`] (answers per customer), [`p2`] (Lamport-clock event logs, two
//!   generations), [`p3`] (client-centric consistency, two generations).
//!
//! Output text is pretty-printed JSON with a 2-space indent, like Python's
//! `json.dumps(obj, indent=2)` that produced the course's expected files,
//! with keys in the course's order (serde_json's `preserve_order` keeps the
//! order of insertion) and a final newline. Money is never a float inside
//! bank-sim: amounts are [`Cents`], outputs are [`Json`] trees whose money
//! leaves print the exact digits of
//! [`Cents::json_text`](crate::money::Cents::json_text) (never a float,
//! never an exponent).

mod duplicate_keys;
mod error;
mod input;
mod json;
pub mod json_path;
mod limits;
mod options;
pub mod p1;
pub mod p2;
pub mod p3;
pub(crate) mod position;
#[cfg(test)]
mod testutil;

pub(crate) use duplicate_keys::find_duplicate_key;
pub use error::{InputError, InputErrorKind};
pub(crate) use input::{strip_position, strip_position_in};
pub use json::Json;
pub use limits::{MAX_BRANCHES, MAX_CUSTOMERS, MAX_EVENTS};
pub use options::{OutputFormat, OutputOptions, P2bPart, Spelling};

use serde_json::Value;

use crate::money::Cents;
use crate::op::OpKind;
use crate::record::RunRecord;
use crate::scenario::Scenario;

#[cfg(doc)]
use crate::scenario::InputShape;

/// Parse any course input (text of a JSON file). `source` is the file name used in error messages.
///
/// ```
/// use bank_core::formats::parse_input;
/// use bank_core::InputShape;
///
/// let text = r#"[
///   {"id": 1, "type": "customer", "events": [{"id": 1, "interface": "deposit", "money": 170}]},
///   {"id": 1, "type": "branch", "balance": 400}
/// ]"#;
/// let scenario = parse_input(text, "input.json").unwrap();
/// assert_eq!(scenario.shape, InputShape::Events);
///
/// let err = parse_input("[{\"id\": 1}]", "input.json").unwrap_err();
/// assert_eq!(err.to_string(), r#"input.json:1: entry 1: missing "type" (expected "customer" or "branch")"#);
/// ```
pub fn parse_input(text: &str, source: &str) -> Result<Scenario, InputError> {
    input::parse(text, source)
}

/// The exact output text (pretty JSON, 2-space indent like Python's json.dumps(indent=2), trailing newline).
///
/// For [`OutputFormat::P2b`] this is the list chosen by
/// [`OutputOptions::p2b_part`]; [`render_p2b_files`] gives all three.
pub fn render(
    format: OutputFormat,
    scenario: &Scenario,
    record: &RunRecord,
    options: &OutputOptions,
) -> String {
    let value = match format {
        OutputFormat::P1 => p1::render(record, options, p1::QueryKey::Balance),
        OutputFormat::P1Money => p1::render(record, options, p1::QueryKey::Money),
        OutputFormat::P2a => Json::Value(p2::render_a(scenario, record, options)),
        OutputFormat::P2b => Json::Value(match options.p2b_part {
            P2bPart::All => p2::all_events(record, options),
            P2bPart::Customer => p2::customer_events(record),
            P2bPart::Branch => p2::branch_events(record, options),
        }),
        OutputFormat::P3 => p3::render(scenario, record, options),
    };
    pretty(&value)
}

/// For P2b: all three lists as (suggested file name, text): ("customer_events.json", ..), ("branch_events.json", ..), ("all_events.json", ..).
///
/// The lists are views of the record alone; the scenario is taken for
/// symmetry with [`render`].
pub fn render_p2b_files(
    _scenario: &Scenario,
    record: &RunRecord,
    options: &OutputOptions,
) -> Vec<(&'static str, String)> {
    vec![
        ("customer_events.json", pretty(&p2::customer_events(record))),
        ("branch_events.json", pretty(&p2::branch_events(record, options))),
        ("all_events.json", pretty(&p2::all_events(record, options))),
    ]
}

/// Pretty JSON with a 2-space indent and a final newline.
fn pretty(value: &impl serde::Serialize) -> String {
    // Serialising a tree of values cannot fail (its keys are strings); an
    // empty text rather than a panic all the same.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// An amount as the outputs print it (`400`, or `400.0` with `float_money`).
fn money(amount: Cents, options: &OutputOptions) -> Json {
    Json::Money { amount, float_style: options.float_money }
}

/// The `"interface"` value of an operation.
fn interface(op: OpKind) -> Value {
    Value::from(op.as_str())
}
