//! Why a branch refused a peer's message ([`PeerRefusal`]), and the limits
//! a message must stay within. The rules themselves, and the checks that
//! apply them, are in `peers.rs`; a refusal is what a host receives in an
//! `Effect::PeerRefused` and turns into a gRPC status.

use crate::clock::MAX_CLOCK;
use crate::ids::WriteId;
use crate::money::Cents;

/// The most writes one propagation batch or pull answer may carry.
pub const MAX_BATCH_WRITES: usize = 10_000;

/// How far past the highest write known here of its origin a write's
/// sequence number may be (rule 5 of `peers.rs`).
pub const MAX_SEQ_AHEAD: u64 = 1_000_000;

/// The most propagated writes a branch holds back waiting for their
/// dependencies; beyond that, propagations are refused until some apply.
pub const MAX_HELD_WRITES: usize = 100_000;

/// Why a branch refused a peer's message. Nothing of a refused message is
/// applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PeerRefusal {
    #[error("branch {me} refuses a message from branch {from}, which is not one of its peers")]
    NotAPeer { me: u64, from: u64 },
    #[error(
        "branch {me} refuses write {write}: its origin, branch {}, is not a branch of this bank",
        write.origin.0
    )]
    UnknownOrigin { me: u64, write: WriteId },
    #[error("branch {me} refuses write {write}: sequence numbers start at 1")]
    ZeroSeq { me: u64, write: WriteId },
    #[error(
        "branch {me} refuses write {write}: it claims to be branch {me}'s own, but branch {me} \
         issued only up to seq {issued}"
    )]
    NeverIssued { me: u64, write: WriteId, issued: u64 },
    #[error(
        "branch {me} refuses write {write}: branch {}'s writes are known here up to seq {known}, \
         and a write may be at most {MAX_SEQ_AHEAD} ahead",
        write.origin.0
    )]
    TooFarAhead { me: u64, write: WriteId, known: u64 },
    #[error(
        "branch {me} refuses write {write}: its amount {amount} is outside 0 to {max}, the \
         largest any branch accepts",
        max = Cents::MAX
    )]
    BadAmount { me: u64, write: WriteId, amount: Cents },
    #[error(
        "branch {me} refuses a message about write {write}: it is stamped with clock {clock}, \
         above {MAX_CLOCK}, the largest stamp a message may carry"
    )]
    ClockTooLarge { me: u64, write: WriteId, clock: u64 },
    #[error(
        "branch {me} refuses write {write}: applying it to the balance {balance} would leave \
         the range a balance can hold"
    )]
    BalanceOverflow { me: u64, write: WriteId, balance: Cents },
    #[error("branch {me} refuses write {write}: it depends on itself")]
    DependsOnItself { me: u64, write: WriteId },
    #[error("branch {me} refuses write {write}: it depends on {dependency}, and {reason}")]
    BadDependency { me: u64, write: WriteId, dependency: WriteId, reason: String },
    #[error("branch {me} refuses a pull from branch {from}: it names {write}, and {reason}")]
    BadPull { me: u64, from: u64, write: WriteId, reason: String },
    #[error(
        "branch {me} refuses a batch of {writes} writes from branch {from}: at most \
         {MAX_BATCH_WRITES} per message"
    )]
    BatchTooLarge { me: u64, from: u64, writes: usize },
    #[error(
        "branch {me} is busy: {MAX_HELD_WRITES} propagated writes already wait for their \
         dependencies here; retry {write} later"
    )]
    TooManyHeld { me: u64, write: WriteId },
}

impl PeerRefusal {
    /// Whether the sender may not send this at all (a stranger, or a write
    /// outside the bank), rather than sent something malformed or too much.
    pub fn is_forbidden(&self) -> bool {
        matches!(
            self,
            PeerRefusal::NotAPeer { .. }
                | PeerRefusal::UnknownOrigin { .. }
                | PeerRefusal::NeverIssued { .. }
        )
    }

    /// Whether the same message may pass later (the branch is busy).
    pub fn is_transient(&self) -> bool {
        matches!(self, PeerRefusal::TooManyHeld { .. })
    }
}

/// A record of a branch's store that `Branch::recover` skipped, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedRecord {
    pub write: WriteId,
    pub refusal: PeerRefusal,
}
