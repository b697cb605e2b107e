//! One difference between a submission and what the input allows, and where
//! it is.
//!
//! Every check of the grader reports [`Problem`]s: *what* is wrong
//! ([`ProblemKind`], which also says which [`Category`] of points it costs),
//! *where* ([`Place`]: the file, the JSON path and, once the file's text is
//! indexed, the line and column) and, in words, *which event* (`subject`)
//! and *why* (`message`). Its `Display` is the compiler form `bank run`
//! uses for bad inputs, so an editor can jump to the spot:
//!
//! ```text
//! alice/output.json:9:23: $[1].recv[0].result: customer 2, event 2 (withdraw 500 at branch 2): "result": "success", expected "fail": ...
//! ```

use std::fmt;

use serde::Serialize;

pub use crate::formats::json_path::{JsonPath, Step};
use crate::log::LogKind;

/// Where a problem is: which file of the submission, the JSON path inside
/// it, and its line and column (filled in by [`super::locate`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// Index into the submission's files.
    pub file: usize,
    /// Byte offset in the file where the top-level item of `path` starts
    /// (its first index counts items of that item's list).
    pub anchor: usize,
    pub path: JsonPath,
    /// 1-based line and column, once located.
    pub line_col: Option<(u32, u32)>,
}

impl Place {
    /// The place of a whole submission file.
    pub fn file(file: usize) -> Place {
        Place { file, anchor: 0, path: JsonPath::default(), line_col: None }
    }

    /// The `index`-th top-level item, which starts at byte `anchor` of the file.
    pub fn item(file: usize, anchor: usize, index: usize) -> Place {
        Place { file, anchor, path: JsonPath::item(index), line_col: None }
    }

    /// A key of the value here.
    pub fn key(&self, key: &str) -> Place {
        Place { path: self.path.key(key), line_col: None, ..self.clone() }
    }

    /// An element of the list here.
    pub fn at(&self, index: usize) -> Place {
        Place { path: self.path.at(index), line_col: None, ..self.clone() }
    }
}

/// What the points are given for; every [`ProblemKind`] costs one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Equal to what `bank run` prints for the format's default schedule.
    Exact,
    /// Every event answered (or logged) once, in order, with the right names.
    Answers,
    /// Balances and results that some legal execution gives (overdrafts).
    Balances,
    /// Lamport clocks: increasing per branch, the receive rule.
    Clocks,
    /// Every write reaches every other branch exactly once, named right.
    Propagation,
    /// Read Your Writes and Monotonic Writes (project 3).
    Guarantees,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Exact,
        Category::Answers,
        Category::Balances,
        Category::Clocks,
        Category::Propagation,
        Category::Guarantees,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Exact => "exact",
            Category::Answers => "answers",
            Category::Balances => "balances",
            Category::Clocks => "clocks",
            Category::Propagation => "propagation",
            Category::Guarantees => "guarantees",
        }
    }
}

/// What is wrong. Tests and tools match on this, not on the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A file that is not JSON (nor JSON Lines, nor `//`-separated parts).
    NotJson,
    /// A file with nothing in it, or an empty list.
    Empty,
    /// Another project's output (or a course input) for this input.
    WrongProject,
    /// JSON, but no course output shape bank-sim knows.
    UnknownShape,
    /// The file could not be read at all (a FIFO or a device, over the
    /// size limit, not UTF-8, an error from the system).
    CannotRead,
    /// Exact check: a value differs from `bank run`'s output.
    Differs,
    /// A key missing or a value of the wrong type.
    Malformed,
    /// A name that is none of the course's (a misspelt interface or event).
    UnknownName,
    /// An event of the input has no answer (or no entry) in the submission.
    MissingAnswer,
    /// An answer (or entry) for nothing in the input, or one too many.
    ExtraAnswer,
    /// Answers (or entries) in another order than the events they answer.
    WrongOrder,
    /// A query answer no legal execution of the input gives.
    WrongBalance,
    /// A withdraw that succeeded though no legal execution covers it.
    Overdraft,
    /// A withdraw that failed though every legal execution covers it.
    RefusedWithFunds,
    /// Reads and results that each fit some execution, but no one
    /// execution gives them all (a branch unseeing a write, say).
    NoSingleRun,
    /// A branch's clocks do not strictly increase in its own order.
    ClockNotIncreasing,
    /// A receive whose clock breaks the format's receive rule.
    ReceiveRule,
    /// A write that does not reach some other branch.
    MissingPropagation,
    /// A write that reaches a branch more than once.
    DuplicatePropagation,
    /// "event_recv from branch X" naming the receiving branch itself.
    ReceiverNamed,
    /// A propagation said to come from a branch that did not send it.
    WrongSender,
    /// Two parts of one submission (p2b lists, p2a views) disagree.
    PartsDisagree,
    /// A read that misses the session's own earlier write.
    ReadYourWrites,
    /// A write applied before an earlier write of the same session.
    MonotonicWrites,
}

impl ProblemKind {
    /// The points category it costs; `None` for unreadable files (they cost
    /// everything).
    pub fn category(self) -> Option<Category> {
        use ProblemKind::*;
        Some(match self {
            NotJson | Empty | WrongProject | UnknownShape | CannotRead => return None,
            Differs => Category::Exact,
            Malformed | UnknownName | MissingAnswer | ExtraAnswer | WrongOrder => Category::Answers,
            WrongBalance | Overdraft | RefusedWithFunds | NoSingleRun => Category::Balances,
            ClockNotIncreasing | ReceiveRule => Category::Clocks,
            MissingPropagation | DuplicatePropagation | ReceiverNamed | WrongSender
            | PartsDisagree => Category::Propagation,
            ReadYourWrites | MonotonicWrites => Category::Guarantees,
        })
    }

    /// True for the kinds that mean the file could not be graded at all.
    pub fn is_unreadable(self) -> bool {
        self.category().is_none()
    }

    /// The snake_case name used in JSON and CSV output.
    pub fn as_str(self) -> &'static str {
        use ProblemKind::*;
        match self {
            NotJson => "not_json",
            Empty => "empty",
            WrongProject => "wrong_project",
            UnknownShape => "unknown_shape",
            CannotRead => "cannot_read",
            Differs => "differs",
            Malformed => "malformed",
            UnknownName => "unknown_name",
            MissingAnswer => "missing_answer",
            ExtraAnswer => "extra_answer",
            WrongOrder => "wrong_order",
            WrongBalance => "wrong_balance",
            Overdraft => "overdraft",
            RefusedWithFunds => "refused_with_funds",
            NoSingleRun => "no_single_run",
            ClockNotIncreasing => "clock_not_increasing",
            ReceiveRule => "receive_rule",
            MissingPropagation => "missing_propagation",
            DuplicatePropagation => "duplicate_propagation",
            ReceiverNamed => "receiver_named",
            WrongSender => "wrong_sender",
            PartsDisagree => "parts_disagree",
            ReadYourWrites => "read_your_writes",
            MonotonicWrites => "monotonic_writes",
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event of a run, as the course's outputs name it (see [`super::event`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventRef {
    /// A customer sent its request for `event` (project 2 generation B's
    /// customer lists).
    CustomerSent { customer: u64, event: u64 },
    /// A customer got its answer for `event` (projects 1 and 3).
    CustomerAnswered { customer: u64, event: u64 },
    /// A branch's log entry of `kind` for the request `event`.
    Branch {
        /// `None` where the output does not say which branch (project 2
        /// generation A's per-write lists).
        branch: Option<u64>,
        event: u64,
        kind: LogKind,
        /// The other branch of a propagation, where the output names it.
        peer: Option<u64>,
        /// The clock the submission printed: of several entries that fit,
        /// the one with this clock is meant.
        clock: Option<u64>,
    },
}

/// One problem of a submission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// Where it is; `None` for a problem of the whole submission.
    pub place: Option<Place>,
    /// The event or entry concerned, e.g. `customer 2, event 7 (withdraw 50 at branch 1)`.
    pub subject: String,
    /// What is wrong and, where it can be recognised, why.
    pub message: String,
    /// The event of the run it is about, where one is ([`super::event`]);
    /// boxed, so a `Result<_, Problem>` stays small.
    pub event: Option<Box<EventRef>>,
}

impl Problem {
    pub fn new(
        kind: ProblemKind,
        place: Option<Place>,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Problem {
        Problem { kind, place, subject: subject.into(), message: message.into(), event: None }
    }

    /// This problem, about `event`.
    pub fn about(mut self, event: EventRef) -> Problem {
        self.event = Some(Box::new(event));
        self
    }

    /// Subject and message: `customer 2, event 7 (...): "result": ...`.
    pub fn sentence(&self) -> String {
        if self.subject.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.subject, self.message)
        }
    }

    /// The one-line form with the file's name: `file:line:col: path: sentence`.
    pub fn line(&self, files: &[String]) -> String {
        let Some(place) = &self.place else {
            return match files {
                [only] => format!("{only}: {}", self.sentence()),
                _ => self.sentence(),
            };
        };
        let file = files.get(place.file).map_or("?", String::as_str);
        let position = match place.line_col {
            Some((line, column)) => format!("{file}:{line}:{column}"),
            None => file.to_owned(),
        };
        if place.path.0.is_empty() {
            return format!("{position}: {}", self.sentence());
        }
        format!("{position}: {}: {}", place.path, self.sentence())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_lines_read_like_the_input_errors() {
        let path = JsonPath::item(1).key("recv").at(0).key("result");
        assert_eq!(path.to_string(), "$[1].recv[0].result");
        assert_eq!(
            JsonPath::item(0).key("customer-request-id").to_string(),
            "$[0][\"customer-request-id\"]"
        );
        let mut place = Place::item(0, 0, 1).key("recv").at(0).key("result");
        assert_eq!(place.path, path);
        place.line_col = Some((9, 23));
        let p = Problem::new(ProblemKind::Overdraft, Some(place), "customer 2", "too much");
        assert_eq!(
            p.line(&["a.json".into()]),
            "a.json:9:23: $[1].recv[0].result: customer 2: too much"
        );
        assert_eq!(ProblemKind::Overdraft.category(), Some(Category::Balances));
        assert!(ProblemKind::NotJson.is_unreadable());
    }
}
