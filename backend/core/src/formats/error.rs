//! What can be wrong with an input file, and where.
//!
//! Every problem found while reading an input becomes one [`InputError`]: the
//! file name, a 1-based line (and a column when a single JSON value is at
//! fault), a short *context* naming the entry or event, and an
//! [`InputErrorKind`] saying what is wrong. Its `Display` is the familiar
//! compiler form, so a terminal or an editor can jump to the spot:
//!
//! ```text
//! input.json:12:5: customer 3, event 7: unknown interface "transfer" (expected deposit, withdraw or query)
//! input.json:40: customer 7: customer 7 talks to branch 7, which does not exist (branches: 1, 2, 3)
//! ```
//!
//! Tests and the CLI match on [`InputError::kind`] rather than on the text.

use std::fmt;

use crate::money::MoneyError;

/// Why an input file was rejected. The `Display` text is the message part of
/// an error line (without file, line or context).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputErrorKind {
    /// The file holds nothing but whitespace.
    #[error("file is empty")]
    Empty,
    /// Not valid JSON. The message is serde_json's, without its position
    /// (the position is in the error's line and column).
    #[error("invalid JSON: {0}")]
    Syntax(String),
    /// Valid JSON with a value of the wrong kind for its key, in words.
    #[error("{0}")]
    WrongKind(String),
    /// An experiment's network plan that cannot be followed.
    #[error("\"network\": {0}")]
    BadPlan(String),
    /// The top level is valid JSON but not an array.
    #[error(
        "the file must be a JSON array of entries `[{{\"type\": ...}}, ...]`, but it is {found}"
    )]
    NotAnArray { found: &'static str },
    /// An entry, or an event in a list, is not a JSON object.
    #[error("expected {expected} `{{...}}`, found {found}")]
    NotAnObject { expected: &'static str, found: &'static str },
    /// An entry without `"type"`.
    #[error("missing \"type\" (expected \"customer\" or \"branch\")")]
    MissingType,
    /// An entry whose `"type"` is neither customer nor branch.
    #[error("unknown type {0:?} (expected \"customer\" or \"branch\")")]
    UnknownType(String),
    /// A required key is absent.
    #[error("missing {key:?}{hint}")]
    MissingKey { key: &'static str, hint: &'static str },
    /// A value has the wrong JSON type or form (e.g. `"id": -3`).
    #[error("{key:?} must be {expected}, found {found}")]
    BadValue { key: &'static str, expected: &'static str, found: String },
    /// An amount that is not exact, non-negative money.
    #[error("{key:?}: {reason}")]
    BadMoney { key: &'static str, reason: MoneyError },
    /// A customer entry without a list of events.
    #[error("a customer needs a list of events: \"events\" or \"customer-requests\"")]
    MissingEvents,
    /// A customer entry with both kinds of list.
    #[error("a customer has both \"events\" and \"customer-requests\"; use one")]
    BothEventLists,
    /// An event without `"interface"`.
    #[error("missing \"interface\" (expected deposit, withdraw or query)")]
    MissingInterface,
    /// An event whose `"interface"` is not one of the three operations.
    #[error("unknown interface {0:?} (expected deposit, withdraw or query)")]
    UnknownInterface(String),
    /// An event naming its branch twice, with `"dest"` and `"branch"`.
    #[error("the event names its branch with both \"dest\" and \"branch\"; use one")]
    BothBranchKeys,
    /// An event sent to a branch that is not in the file.
    #[error("event goes to branch {branch}, which does not exist (branches: {})", list(.existing))]
    UnknownBranch { branch: u64, existing: Vec<u64> },
    /// A customer without per-event branches whose own branch is missing.
    #[error("customer {customer} talks to branch {customer}, which does not exist (branches: {})", list(.existing))]
    OwnBranchMissing { customer: u64, existing: Vec<u64> },
    /// Two branch entries with the same id.
    #[error("branch {id} is defined twice (first at line {first_line}, column {first_column})")]
    DuplicateBranch { id: u64, first_line: usize, first_column: usize },
    /// Events of different input generations in one file (see
    /// [`InputShape`](crate::scenario::InputShape)).
    #[error("this {this} but {other} (line {other_line}); one file must use one form throughout")]
    MixedShapes { this: String, other: String, other_line: usize },
    /// A key written twice in one JSON object (serde_json would silently
    /// keep the last).
    #[error("{key:?} appears twice in one object (first at line {first_line}, column {first_column}); keep one")]
    DuplicateKey { key: String, first_line: usize, first_column: usize },
    /// More branches, customers or events than bank-sim runs (see
    /// [`MAX_BRANCHES`](super::MAX_BRANCHES) and its neighbours).
    #[error("more than {max} {what} in one input: the maximum is {max}")]
    TooMany { what: &'static str, max: usize },
    /// A file with customers but no branch.
    #[error(
        "no branch entries: add at least one {{\"id\": 1, \"type\": \"branch\", \"balance\": 0}}"
    )]
    NoBranches,
}

fn list(ids: &[u64]) -> String {
    if ids.is_empty() {
        return "none".to_owned();
    }
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}

/// One problem in an input file, with its place.
///
/// The file name is called `file` here (not `source`) because `source` is
/// the name of [`std::error::Error::source`], which means something else.
/// The fields sit behind a `Box` so that `Result<_, InputError>` stays small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    inner: Box<Inner>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    file: String,
    line: usize,
    column: Option<usize>,
    context: String,
    kind: InputErrorKind,
}

impl InputError {
    /// An error at `line` (1-based) of `file`, with no column and no context.
    pub fn new(file: impl Into<String>, line: usize, kind: InputErrorKind) -> InputError {
        InputError {
            inner: Box::new(Inner {
                file: file.into(),
                line,
                column: None,
                context: String::new(),
                kind,
            }),
        }
    }

    /// Adds the 1-based column of the value at fault.
    pub fn with_column(mut self, column: usize) -> InputError {
        self.inner.column = Some(column);
        self
    }

    /// Adds the entry or event the error is about, e.g. `customer 3, event 7`.
    pub fn with_context(mut self, context: impl Into<String>) -> InputError {
        self.inner.context = context.into();
        self
    }

    /// The file name given to [`parse_input`](super::parse_input).
    pub fn file(&self) -> &str {
        &self.inner.file
    }

    /// The 1-based line of the problem.
    pub fn line(&self) -> usize {
        self.inner.line
    }

    /// The 1-based column, when one JSON value (or a syntax error) is at fault.
    pub fn column(&self) -> Option<usize> {
        self.inner.column
    }

    /// The entry or event concerned (`customer 3, event 7`), or `""`.
    pub fn context(&self) -> &str {
        &self.inner.context
    }

    /// What is wrong.
    pub fn kind(&self) -> &InputErrorKind {
        &self.inner.kind
    }

    /// The message without the `file:line:column:` prefix.
    pub fn message(&self) -> String {
        if self.inner.context.is_empty() {
            self.inner.kind.to_string()
        } else {
            format!("{}: {}", self.inner.context, self.inner.kind)
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:", self.inner.file, self.inner.line)?;
        if let Some(column) = self.inner.column {
            write!(f, "{column}:")?;
        }
        write!(f, " {}", self.message())
    }
}

impl std::error::Error for InputError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_a_compiler() {
        let e =
            InputError::new("input.json", 12, InputErrorKind::UnknownInterface("transfer".into()))
                .with_column(5)
                .with_context("event 7");
        assert_eq!(
            e.to_string(),
            "input.json:12:5: event 7: unknown interface \"transfer\" (expected deposit, withdraw or query)"
        );
        let e = InputError::new(
            "in.json",
            40,
            InputErrorKind::OwnBranchMissing { customer: 7, existing: vec![1, 2] },
        )
        .with_context("customer 7");
        assert_eq!(
            e.to_string(),
            "in.json:40: customer 7: customer 7 talks to branch 7, which does not exist (branches: 1, 2)"
        );
        assert_eq!(
            InputError::new("x", 1, InputErrorKind::Empty).to_string(),
            "x:1: file is empty"
        );
    }
}
