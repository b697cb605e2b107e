//! What a run did, as the history checker ([`crate::check`]) reads it.
//!
//! A [`History`] has two halves:
//! * every customer operation, per session in issue order: which branch
//!   served it, what it returned, the id of the write it made, and for a
//!   read the exact set of writes the answer reflected;
//! * every branch's apply order: each write it applied, with the balance
//!   right after.
//!
//! That is enough to decide every session guarantee after the fact (Read
//! Your Writes and Monotonic Reads from the reads' observed sets; Monotonic
//! Writes and Writes Follow Reads from the apply orders), and to spot an
//! overdraft. `bank run --history FILE` writes one as JSON; `bank check
//! FILE` reads it. Write ids are written `w<origin>.<seq>` (`w2.7`: the 7th
//! write accepted by branch 2), and sets of them as ranges (`w2.1-7`).
//!
//! Reading one ([`History::from_json`]) is strict, since the file may come
//! from anywhere: a key written twice is refused, lists are bounded
//! (sessions by [`MAX_CUSTOMERS`], operations in all by [`MAX_EVENTS`],
//! branches by [`MAX_BRANCHES`], each branch's applied writes by
//! [`MAX_EVENTS`]), write seqs by [`MAX_WRITE_SEQ`], amounts by
//! [`Cents::MAX`]; and a history no run could record (a write issued
//! twice or applied twice, balances that do not follow from the writes
//! applied: see [`consistency`]) is refused. Every error names its line and
//! column.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::formats::json_path;
use crate::formats::position::LineIndex;
use crate::formats::{
    find_duplicate_key, strip_position_in, MAX_BRANCHES, MAX_CUSTOMERS, MAX_EVENTS,
};
use crate::guarantees::Guarantees;
use crate::ids::{BranchId, CustomerId, EventId, WriteId};
use crate::money::Cents;
use crate::op::OpKind;
use crate::record::RunRecord;
use crate::scenario::Scenario;
use crate::writes::WriteSet;

mod consistency;

/// The first field of every history file.
pub const HISTORY_FORMAT: &str = "bank-sim history 1";

/// The highest write seq a history may name (`w2.1000000000`), also as the
/// end of a range: no run makes that many writes (an input holds at most
/// [`MAX_EVENTS`] events), and a bound keeps a hostile range from claiming
/// 2^64 writes.
pub const MAX_WRITE_SEQ: u64 = 1_000_000_000;

/// A recorded run. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct History {
    pub format: String,
    #[serde(deserialize_with = "bounded::customers")]
    pub sessions: Vec<SessionHistory>,
    #[serde(deserialize_with = "bounded::branches")]
    pub branches: Vec<BranchHistory>,
}

/// One customer session (one input entry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionHistory {
    pub customer: CustomerId,
    #[serde(with = "guarantees_text")]
    pub guarantees: Guarantees,
    /// In the order the session issued them.
    #[serde(deserialize_with = "bounded::events")]
    pub ops: Vec<OpRecord>,
}

/// One customer operation and its answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpRecord {
    pub event: EventId,
    pub branch: BranchId,
    #[serde(with = "op_kind_text")]
    pub op: OpKind,
    #[serde(with = "money", default, skip_serializing_if = "is_zero")]
    pub amount: Cents,
    pub ok: bool,
    /// The serving branch's balance after the operation (for a query: the answer).
    #[serde(with = "balance")]
    pub balance: Cents,
    #[serde(with = "write_id_opt", default, skip_serializing_if = "Option::is_none")]
    pub write: Option<WriteId>,
    #[serde(with = "write_set_opt", default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<WriteSet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One branch's apply order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchHistory {
    pub id: BranchId,
    #[serde(with = "balance")]
    pub balance: Cents,
    #[serde(deserialize_with = "bounded::events")]
    pub applied: Vec<AppliedRecord>,
}

/// A write a branch applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppliedRecord {
    #[serde(with = "write_id")]
    pub write: WriteId,
    pub customer: CustomerId,
    pub event: EventId,
    #[serde(with = "op_kind_text")]
    pub op: OpKind,
    #[serde(with = "money")]
    pub amount: Cents,
    #[serde(with = "balance")]
    pub balance_after: Cents,
}

impl History {
    /// The history of a finished run. `guarantees[i]` is what session `i`
    /// asked for. Operations are put in issue order by the customer's clock.
    pub fn from_record(
        scenario: &Scenario,
        record: &RunRecord,
        guarantees: &[Guarantees],
    ) -> History {
        let sessions = record
            .customers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut results: Vec<_> =
                    c.results.iter().zip(&scenario.customers[i].events).collect();
                results.sort_by_key(|(r, _)| r.customer_clock);
                SessionHistory {
                    customer: c.customer,
                    guarantees: guarantees.get(i).copied().unwrap_or_default(),
                    ops: results
                        .into_iter()
                        .map(|(r, e)| {
                            let error = match &r.outcome {
                                crate::op::Outcome::Failed { reason, .. } => {
                                    Some(reason.to_string())
                                }
                                crate::op::Outcome::Success { .. } => None,
                            };
                            OpRecord {
                                event: r.event,
                                branch: r.branch,
                                op: r.op,
                                amount: e.op.amount(),
                                ok: r.outcome.is_success(),
                                balance: r.outcome.balance(),
                                write: r.write,
                                observed: r.observed.clone(),
                                error,
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        let branches = record
            .branches
            .iter()
            .map(|b| BranchHistory {
                id: b.id,
                balance: b.balance,
                applied: b
                    .applied
                    .iter()
                    .map(|a| AppliedRecord {
                        write: a.write.write,
                        customer: a.write.customer,
                        event: a.write.event,
                        op: a.write.op.kind(),
                        amount: a.write.op.amount(),
                        balance_after: a.balance_after,
                    })
                    .collect(),
            })
            .collect();
        History { format: HISTORY_FORMAT.to_string(), sessions, branches }
    }

    /// Reads a history file's text, with a message that says what is wrong
    /// and where (`line L, column C: ...`). See the module docs for what
    /// is refused.
    pub fn from_json(text: &str) -> Result<History, HistoryError> {
        // A byte order mark (Notepad's UTF-8) is not part of the JSON.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim_start().starts_with('[') {
            return Err(HistoryError::at(
                (1, 1),
                "this is a JSON array, as a course input or output is; a history is the object \
                 `bank run INPUT --history h.json` writes (then `bank check h.json`)",
            ));
        }
        if let Some(duplicate) = find_duplicate_key(text) {
            let index = LineIndex::new(text);
            let (line, column) = index.line_col(duplicate.second);
            let (first_line, first_column) = index.line_col(duplicate.first);
            return Err(HistoryError::at(
                (line, column),
                format!(
                    "{:?} appears twice in one object (first at line {first_line}, column \
                     {first_column}); keep one",
                    duplicate.key
                ),
            ));
        }
        if text.trim().is_empty() {
            return Err(HistoryError::at(
                (1, 1),
                format!(
                    "the file is empty; a history is the JSON object `bank run --history FILE` \
                     writes, starting {{\"format\": \"{HISTORY_FORMAT}\""
                ),
            ));
        }
        let history: History = serde_json::from_str(text).map_err(|e| {
            HistoryError::at((e.line().max(1), e.column().max(1)), strip_position_in(&e, text))
        })?;
        if history.format != HISTORY_FORMAT {
            return Err(HistoryError::whole(format!(
                "`format` is \"{}\"; expected \"{HISTORY_FORMAT}\"",
                history.format
            )));
        }
        let ops: usize = history.sessions.iter().map(|s| s.ops.len()).sum();
        if ops > MAX_EVENTS {
            return Err(HistoryError::whole(format!(
                "the sessions hold {ops} operations; a history holds at most {MAX_EVENTS}"
            )));
        }
        if let Err(bad) = consistency::check(&history) {
            let offset = json_path::offset_in(text, 0, &bad.path.0);
            let (line, column) = LineIndex::new(text).line_col(offset);
            return Err(HistoryError::at(
                (line, column),
                format!("{}: {}; no run records that", bad.path, bad.message),
            ));
        }
        Ok(history)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a history always serializes")
    }
}

/// Why a history file was refused, and where: the 1-based line and column
/// of the value at fault, or `None` when it is about the file as a whole.
///
/// Shown alone it reads "line 3, column 14: …"; a command that read it from
/// a file says `h.json:3:14: …` ([`HistoryError::in_file`]), as for every
/// other input file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", at.map(|(line, column)| format!("line {line}, column {column}: ")).unwrap_or_default())]
pub struct HistoryError {
    pub at: Option<(usize, usize)>,
    pub message: String,
}

impl HistoryError {
    fn at(at: (usize, usize), message: impl Into<String>) -> HistoryError {
        HistoryError { at: Some(at), message: message.into() }
    }

    fn whole(message: String) -> HistoryError {
        HistoryError { at: None, message }
    }

    /// The error as read from `file`: `file:line:column: message`.
    pub fn in_file(&self, file: &str) -> String {
        match self.at {
            Some((line, column)) => format!("{file}:{line}:{column}: {}", self.message),
            None => format!("{file}: {}", self.message),
        }
    }
}

fn is_zero(c: &Cents) -> bool {
    *c == Cents::ZERO
}

/// Parses `w<origin>.<seq>`.
pub fn parse_write_id(text: &str) -> Result<WriteId, String> {
    let bad = || format!("`{text}` is not a write id like w2.7");
    let rest = text.strip_prefix('w').ok_or_else(bad)?;
    let (o, s) = rest.split_once('.').ok_or_else(bad)?;
    let id = WriteId {
        origin: BranchId(plain_number(o).ok_or_else(bad)?),
        seq: plain_number(s).ok_or_else(bad)?,
    };
    if id.seq == 0 {
        return Err(format!("`{text}`: write seqs count from 1, so .0 names no write"));
    }
    if id.seq > MAX_WRITE_SEQ {
        return Err(format!("`{text}`: write seqs go up to {MAX_WRITE_SEQ}"));
    }
    Ok(id)
}

/// A number written one way only: digits, without a sign or a leading
/// zero, so that `w1.01` and `w1.+1` are not read as `w1.1` (one write,
/// two spellings, would count as two).
fn plain_number(text: &str) -> Option<u64> {
    let plain = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    plain.then(|| text.parse().ok()).flatten()
}

/// Lists that refuse to grow beyond their maximum while they are read, so
/// the error points at the item that went over.
mod bounded {
    use serde::de::{Deserialize, Deserializer, Error as _, SeqAccess, Visitor};
    use std::marker::PhantomData;

    use super::{MAX_BRANCHES, MAX_CUSTOMERS, MAX_EVENTS};

    struct Bounded<T> {
        max: usize,
        what: &'static str,
        item: PhantomData<T>,
    }

    impl<'de, T: Deserialize<'de>> Visitor<'de> for Bounded<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "a list of at most {} {}", self.max, self.what)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element()? {
                if items.len() == self.max {
                    return Err(A::Error::custom(format!(
                        "more than {} {}: the maximum is {}",
                        self.max, self.what, self.max
                    )));
                }
                items.push(item);
            }
            Ok(items)
        }
    }

    fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
        max: usize,
        what: &'static str,
    ) -> Result<Vec<T>, D::Error> {
        d.deserialize_seq(Bounded { max, what, item: PhantomData })
    }

    pub fn customers<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Vec<T>, D::Error> {
        list(d, MAX_CUSTOMERS, "sessions")
    }

    pub fn branches<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Vec<T>, D::Error> {
        list(d, MAX_BRANCHES, "branches")
    }

    pub fn events<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Vec<T>, D::Error> {
        list(d, MAX_EVENTS, "records")
    }
}

mod money {
    use super::*;
    /// The exact digits (a raw JSON number), never through a float.
    pub fn serialize<S: Serializer>(c: &Cents, s: S) -> Result<S::Ok, S::Error> {
        c.to_raw_json(false).serialize(s)
    }
    /// An amount: `400`, `400.5` or `"400.50"`, read from its own digits
    /// (never through a float), at most [`Cents::MAX`].
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Cents, D::Error> {
        Cents::parse(&number_text::<D>(d)?).map_err(D::Error::custom)
    }

    /// The text of a JSON number or string, exactly as written.
    pub(super) fn number_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
        let text = raw.get();
        if text.starts_with('"') {
            serde_json::from_str::<String>(text).map_err(D::Error::custom)
        } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            Ok(text.to_owned())
        } else {
            Err(D::Error::custom(format!("expected an amount of money, found {text}")))
        }
    }
}

/// A balance: like [`money`], but negative (an overdraft) or beyond
/// [`Cents::MAX`] (concurrent deposits meeting at a replica) are recorded
/// facts, read exactly up to what an `i64` of cents holds.
mod balance {
    use super::*;
    pub fn serialize<S: Serializer>(c: &Cents, s: S) -> Result<S::Ok, S::Error> {
        super::money::serialize(c, s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Cents, D::Error> {
        Cents::parse_balance(&super::money::number_text::<D>(d)?).map_err(D::Error::custom)
    }
}

mod op_kind_text {
    use super::*;
    pub fn serialize<S: Serializer>(k: &OpKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(k.as_str())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OpKind, D::Error> {
        let text = String::deserialize(d)?;
        [OpKind::Deposit, OpKind::Withdraw, OpKind::Query]
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| D::Error::custom(format!("unknown operation `{text}`")))
    }
}

mod guarantees_text {
    use super::*;
    pub fn serialize<S: Serializer>(g: &Guarantees, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&g.to_string())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Guarantees, D::Error> {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

mod write_id {
    use super::*;
    pub fn serialize<S: Serializer>(w: &WriteId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&w.to_string())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<WriteId, D::Error> {
        parse_write_id(&String::deserialize(d)?).map_err(D::Error::custom)
    }
}

mod write_id_opt {
    use super::*;
    pub fn serialize<S: Serializer>(w: &Option<WriteId>, s: S) -> Result<S::Ok, S::Error> {
        match w {
            Some(w) => s.serialize_str(&w.to_string()),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<WriteId>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|t| parse_write_id(&t).map_err(D::Error::custom))
            .transpose()
    }
}

mod write_set_opt {
    use super::*;
    pub fn serialize<S: Serializer>(set: &Option<WriteSet>, s: S) -> Result<S::Ok, S::Error> {
        let Some(set) = set else { return s.serialize_none() };
        let mut items = Vec::new();
        for (origin, o) in set.parts() {
            match o.prefix {
                0 => {}
                1 => items.push(format!("w{}.1", origin.0)),
                p => items.push(format!("w{}.1-{p}", origin.0)),
            }
            items.extend(o.extra.iter().map(|seq| format!("w{}.{seq}", origin.0)));
        }
        items.serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<WriteSet>, D::Error> {
        let Some(items) = Option::<Vec<String>>::deserialize(d)? else { return Ok(None) };
        let mut set = WriteSet::new();
        for item in items {
            match item.split_once('-') {
                Some((first, last)) => {
                    let first = parse_write_id(first).map_err(D::Error::custom)?;
                    let last: u64 = plain_number(last).ok_or_else(|| {
                        D::Error::custom(format!("`{item}` is not a range like w2.1-7"))
                    })?;
                    if first.seq != 1 {
                        return Err(D::Error::custom(format!(
                            "`{item}`: a range runs from a write's .1 (w{}.1-{last}); name other \
                             writes one by one",
                            first.origin.0
                        )));
                    }
                    if last > MAX_WRITE_SEQ {
                        return Err(D::Error::custom(format!(
                            "`{item}`: write seqs go up to {MAX_WRITE_SEQ}"
                        )));
                    }
                    if last < 2 {
                        return Err(D::Error::custom(format!(
                            "`{item}`: a range must end above .1 (for the first write alone, write w{}.1)",
                            first.origin.0
                        )));
                    }
                    set.union_with(&WriteSet::from_parts([(first.origin, last, vec![])]));
                }
                None => {
                    set.insert(parse_write_id(&item).map_err(D::Error::custom)?);
                }
            }
        }
        Ok(Some(set))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_shown_as_written_and_an_empty_file_is_said_so() {
        let text = History { format: HISTORY_FORMAT.into(), sessions: vec![], branches: vec![] };
        let text = text.to_json().replace(
            r#""branches": []"#,
            r#""branches": [{"id": IDX, "balance": 0, "applied": []}]"#,
        );
        for (id, expected) in [
            // Before: "found 1.8446744073709552e+19" and "found 1000.0".
            (
                "18446744073709551616",
                "expected a whole number of 0 or more, found 18446744073709551616 (more than \
                 18446744073709551615)",
            ),
            ("1e3", "expected a whole number of 0 or more, found 1e3"),
            ("-2.5", "expected a whole number of 0 or more, found -2.5"),
        ] {
            let error = History::from_json(&text.replace("IDX", id)).unwrap_err().to_string();
            assert!(error.ends_with(expected), "{error}");
        }
        let bom = format!("\u{feff}{}", text.replace("IDX", "1"));
        History::from_json(&bom).expect("a byte order mark is not part of the JSON");
        let error =
            History::from_json("[{\"id\": 1, \"type\": \"branch\"}]").unwrap_err().to_string();
        assert!(error.contains("this is a JSON array, as a course input or output is"), "{error}");
        for empty in ["", " \n"] {
            let error = History::from_json(empty).unwrap_err().to_string();
            assert!(
                error.starts_with("line 1, column 1: the file is empty; a history is"),
                "{error}"
            );
        }
    }

    #[test]
    fn round_trips_through_json() {
        let w = |o, s| WriteId { origin: BranchId(o), seq: s };
        let history = History {
            format: HISTORY_FORMAT.into(),
            sessions: vec![SessionHistory {
                customer: CustomerId(1),
                guarantees: Guarantees::ALL,
                ops: vec![
                    // Accepted at branch 2 (not listed), and taking branch 1
                    // below zero there (a propagated withdraw may).
                    OpRecord {
                        event: EventId(1),
                        branch: BranchId(2),
                        op: OpKind::Withdraw,
                        amount: Cents(1050),
                        ok: true,
                        balance: Cents(-1050),
                        write: Some(w(2, 1)),
                        observed: None,
                        error: None,
                    },
                    OpRecord {
                        event: EventId(2),
                        // Not a listed branch: what it observed is not checked
                        // against what it applied.
                        branch: BranchId(2),
                        op: OpKind::Query,
                        amount: Cents::ZERO,
                        ok: true,
                        balance: Cents(-1050),
                        write: None,
                        observed: Some([w(1, 1), w(1, 2), w(2, 4)].into_iter().collect()),
                        error: None,
                    },
                ],
            }],
            branches: vec![BranchHistory {
                id: BranchId(1),
                balance: Cents(-1050),
                applied: vec![AppliedRecord {
                    write: w(2, 1),
                    customer: CustomerId(1),
                    event: EventId(1),
                    op: OpKind::Withdraw,
                    amount: Cents(1050),
                    balance_after: Cents(-1050),
                }],
            }],
        };
        let text = history.to_json();
        assert!(text.contains(r#""w1.1-2""#), "{text}");
        assert!(text.contains("-10.5"), "{text}");
        assert_eq!(History::from_json(&text).unwrap(), history);
        // Ranges stay ranges: claiming every id up to the maximum costs one number.
        let all = text.replace(r#""w1.1-2""#, r#""w1.1-1000000000""#);
        let parsed = History::from_json(&all).unwrap();
        let observed = parsed.sessions[0].ops[1].observed.as_ref().unwrap();
        assert_eq!(observed.len(), MAX_WRITE_SEQ + 1, "and w2.4");
        for (bad, why) in [
            (r#""w1.1-18446744073709551615""#, "write seqs go up to 1000000000"),
            (r#""w1.1000000001""#, "write seqs go up to 1000000000"),
            (r#""w1.1-0""#, "a range must end above .1 (for the first write alone, write w1.1)"),
            (r#""w1.0""#, "count from 1"),
            (r#""w1.2-9""#, "a range runs from a write's .1 (w1.1-9)"),
            (r#""w1.01""#, "is not a write id like w2.7"),
            (r#""w1.+1""#, "is not a write id like w2.7"),
            (r#""w1.1-+5""#, "is not a range like w2.1-7"),
            (r#""w1.1-18446744073709551616""#, "not a range"),
        ] {
            let err = History::from_json(&text.replace(r#""w2.4""#, bad)).unwrap_err().to_string();
            assert!(err.contains(why) && err.starts_with("line "), "{bad}: {err}");
        }
        // Money is read and written exactly, also far beyond a float's digits.
        let big = text.replace("-10.5", "92233720368547358.07");
        let parsed = History::from_json(&big).unwrap();
        assert_eq!(parsed.branches[0].balance, Cents(9_223_372_036_854_735_807));
        assert!(parsed.to_json().contains("92233720368547358.07"));
        // Amounts (unlike recorded balances) stay within the maximum.
        let err =
            History::from_json(&text.replace("\"amount\": 10.5", "\"amount\": 10000000000000"))
                .unwrap_err()
                .to_string();
        assert!(err.contains("above the maximum amount"), "{err}");
        // A key written twice is refused, with its place.
        let twice = text.replacen("\"ok\": true", "\"ok\": true, \"ok\": false", 1);
        let err = History::from_json(&twice).unwrap_err().to_string();
        assert!(err.starts_with("line ") && err.contains("\"ok\" appears twice"), "{err}");
        assert!(History::from_json(r#"{"format": "x", "sessions": [], "branches": []}"#)
            .unwrap_err()
            .to_string()
            .contains("expected"));
    }
}
