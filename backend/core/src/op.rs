//! What a customer can ask of a branch, and what it gets back.

use std::fmt;

use crate::money::Cents;

/// A customer operation, parsed once at the edge (no string compares inside).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Deposit(Cents),
    Withdraw(Cents),
    Query,
}

/// The kind of an [`Op`] without its amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpKind {
    Deposit,
    Withdraw,
    Query,
}

impl Op {
    pub fn kind(self) -> OpKind {
        match self {
            Op::Deposit(_) => OpKind::Deposit,
            Op::Withdraw(_) => OpKind::Withdraw,
            Op::Query => OpKind::Query,
        }
    }

    /// The amount moved (zero for a query).
    pub fn amount(self) -> Cents {
        match self {
            Op::Deposit(c) | Op::Withdraw(c) => c,
            Op::Query => Cents::ZERO,
        }
    }

    /// `balance` once this is applied to it, or `None` if that leaves the
    /// range of an `i64` of cents (the write is refused: a balance never
    /// saturates). A query leaves it as it is.
    pub fn applied_to(self, balance: Cents) -> Option<Cents> {
        match self {
            Op::Deposit(a) => balance.checked_add(a),
            Op::Withdraw(a) => balance.checked_sub(a),
            Op::Query => Some(balance),
        }
    }

    pub fn is_write(self) -> bool {
        !matches!(self, Op::Query)
    }

    /// Rebuilds an op from its kind and amount (the amount is ignored for queries).
    pub fn from_kind(kind: OpKind, amount: Cents) -> Op {
        match kind {
            OpKind::Deposit => Op::Deposit(amount),
            OpKind::Withdraw => Op::Withdraw(amount),
            OpKind::Query => Op::Query,
        }
    }
}

impl OpKind {
    /// The lower-case name the course formats use: `deposit`, `withdraw`, `query`.
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Deposit => "deposit",
            OpKind::Withdraw => "withdraw",
            OpKind::Query => "query",
        }
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Query => f.write_str("query"),
            Op::Deposit(c) => write!(f, "deposit {c}"),
            Op::Withdraw(c) => write!(f, "withdraw {c}"),
        }
    }
}

/// Why a request failed. A failed request changes nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailReason {
    /// A withdraw larger than the balance at the serving branch.
    InsufficientFunds { requested: Cents, balance: Cents },
    /// The request named another branch than the one it reached.
    WrongBranch,
    /// A malformed request (negative amount, unknown operation).
    Invalid(String),
    /// The session required writes the branch did not get in time (the
    /// message names them and the guarantee that asked for them).
    NotReady(String),
    /// A deposit that would take the balance above [`Cents::MAX`]: refused,
    /// so that a balance never saturates or overflows.
    BalanceLimit { requested: Cents, balance: Cents },
    /// The branch could not store the write durably, so it did not apply
    /// it (the message names the branch, the file and what the operating
    /// system said). The branch keeps answering queries and takes writes
    /// again once its storage works.
    StorageFailed(String),
    /// The branch could not be reached, crashed before answering, or could
    /// not get the write to a peer in time (the message says which branch
    /// and what happened). A write may have been applied at the serving
    /// branch all the same: anti-entropy brings it everywhere later.
    Unavailable(String),
}

impl FailReason {
    /// How the sentence of an [`FailReason::Invalid`] starts; its details
    /// follow (a reader of the sentence takes them back out after it).
    pub const INVALID_PREFIX: &'static str = "invalid request: ";

    /// True when the bank itself failed the request (a branch down, cut
    /// off, not ready in time, or unable to store): a fault of the run. An
    /// insufficient-funds refusal, a malformed or misaddressed request is a
    /// normal answer of the bank's rules, not a fault. `bank run` exits with
    /// a distinct status when any request failed with a fault.
    pub fn is_fault(&self) -> bool {
        match self {
            FailReason::InsufficientFunds { .. }
            | FailReason::WrongBranch
            | FailReason::Invalid(_)
            | FailReason::BalanceLimit { .. } => false,
            FailReason::NotReady(_) | FailReason::StorageFailed(_) | FailReason::Unavailable(_) => {
                true
            }
        }
    }
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailReason::InsufficientFunds { requested, balance } => {
                write!(f, "withdraw of {requested} exceeds balance {balance}")
            }
            FailReason::WrongBranch => f.write_str("request addressed to another branch"),
            FailReason::Invalid(why) => {
                f.write_str(FailReason::INVALID_PREFIX)?;
                f.write_str(why)
            }
            FailReason::BalanceLimit { requested, balance } => write!(
                f,
                "deposit of {requested} would take balance {balance} above the maximum {}",
                Cents::MAX
            ),
            FailReason::NotReady(why)
            | FailReason::StorageFailed(why)
            | FailReason::Unavailable(why) => f.write_str(why),
        }
    }
}

/// The result of one customer event as the customer saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The event ran. `balance` is the serving branch's balance after it
    /// (for a query: the answer).
    Success { balance: Cents },
    /// The event was refused and changed nothing.
    Failed { reason: FailReason, balance: Cents },
}

impl Outcome {
    pub fn balance(&self) -> Cents {
        match self {
            Outcome::Success { balance } | Outcome::Failed { balance, .. } => *balance,
        }
    }

    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success { .. })
    }
}
