//! What goes into a [`Branch`](super::Branch) and what comes out of it.
//!
//! A host feeds a branch [`Input`]s and carries out the [`Effect`]s it
//! returns (see the driver loop in the crate docs). The types here are what
//! those carry: a customer's [`Request`] and the branch's [`Reply`], a write
//! on its way to a peer ([`Propagation`]) and the peer's [`PropagationAck`],
//! a write as it is stored durably ([`StoredWrite`]), and the [`ReplyToken`]
//! a host uses to match a deferred answer to the call that awaits it. They
//! are plain data: the gRPC messages of the servers convert to and from
//! them, and the simulator passes them around as they are.

use crate::guarantees::Guarantees;
use crate::ids::{BranchId, CustomerId, EventId, WriteId};
use crate::log::LogEntry;
use crate::money::Cents;
use crate::op::{FailReason, Op, OpKind, Outcome};
use crate::writes::WriteSet;

use super::refusal::PeerRefusal;

/// Chosen by the host to match a deferred answer to the call that awaits it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReplyToken(pub u64);

/// A customer's request, as the core sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub customer: CustomerId,
    pub event: EventId,
    /// The branch the customer addressed.
    pub branch: BranchId,
    pub op: Op,
    /// The customer's Lamport clock at sending time.
    pub clock: u64,
    /// The session guarantees the customer asks for.
    pub guarantees: Guarantees,
    /// The session's acknowledged writes (see [`crate::session`]).
    pub write_set: WriteSet,
    /// The writes the session's reads have seen.
    pub read_set: WriteSet,
}

impl Request {
    /// What the request's guarantees require this branch to have applied.
    pub fn required(&self) -> WriteSet {
        self.guarantees.required(self.op.kind(), &self.write_set, &self.read_set)
    }
}

/// A branch's answer to a [`Request`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub branch: BranchId,
    pub customer: CustomerId,
    pub event: EventId,
    pub op: OpKind,
    pub outcome: Outcome,
    /// The id given to a successful write; the customer adds it to its write set.
    pub write: Option<WriteId>,
    /// For a successful query: every write the answer reflects (the branch's
    /// applied set); the customer adds it to its read set.
    pub observed: Option<WriteSet>,
    /// The branch's clock when it answered.
    pub clock: u64,
}

impl Reply {
    /// What a customer records when its branch gave no answer (it crashed
    /// or could not be reached): an unavailable failure saying `why`. Whether
    /// a write was applied is unknown; it is not in the session's write set.
    pub fn unanswered(request: &Request, why: String) -> Reply {
        Reply {
            branch: request.branch,
            customer: request.customer,
            event: request.event,
            op: request.op.kind(),
            outcome: Outcome::Failed { reason: FailReason::Unavailable(why), balance: Cents::ZERO },
            write: None,
            observed: None,
            clock: 0,
        }
    }
}

/// A write as a branch stores it durably: enough to apply it again after a
/// crash, and to send it to a peer that lacks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredWrite {
    pub write: WriteId,
    pub customer: CustomerId,
    pub event: EventId,
    /// A deposit or withdraw.
    pub op: Op,
    /// Writes every branch must apply before this one (see [`crate::guarantees`]).
    pub depends_on: WriteSet,
    /// The storing branch's Lamport clock when it applied the write.
    pub clock: u64,
}

impl StoredWrite {
    /// The write on its way from branch `from`, stamped with `clock`.
    pub fn to_propagation(&self, from: BranchId, clock: u64) -> Propagation {
        Propagation {
            from,
            write: self.write,
            customer: self.customer,
            event: self.event,
            op: self.op,
            depends_on: self.depends_on.clone(),
            clock,
        }
    }
}

/// A write travelling from a branch that has it to a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Propagation {
    /// The sending branch (the write's origin, or any branch answering a pull).
    pub from: BranchId,
    pub write: WriteId,
    pub customer: CustomerId,
    pub event: EventId,
    /// A deposit or withdraw.
    pub op: Op,
    /// Writes the receiver must apply first (Monotonic Writes, Writes Follow Reads).
    pub depends_on: WriteSet,
    pub clock: u64,
}

/// A peer's acknowledgement of a [`Propagation`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropagationAck {
    pub from: BranchId,
    pub write: WriteId,
    /// False when the peer had already applied the write.
    pub newly_applied: bool,
    pub clock: u64,
}

/// Something that happens to a branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A customer's request; answer with [`Effect::Reply`] carrying `token`.
    Request { token: ReplyToken, request: Request },
    /// A peer's propagated write; answer with [`Effect::AckPeer`] carrying `token`.
    Propagate { token: ReplyToken, propagation: Propagation },
    /// A peer acknowledged one of our writes.
    Ack(PropagationAck),
    /// The host gives up on the parked request `token`: it is answered with
    /// a timeout failure naming the writes and the guarantee it waited for.
    Expire { token: ReplyToken },
    /// A peer sends what it has (`have`) and asks for what it lacks; answer
    /// with [`Effect::PullReply`]. With `answer_back`, a branch that sees the
    /// peer lacks writes *it* has not got pulls back.
    Pull { token: ReplyToken, from: BranchId, have: WriteSet, answer_back: bool },
    /// The answer to our [`Effect::Pull`]: writes we lacked, in `from`'s apply order.
    Pulled { from: BranchId, writes: Vec<Propagation> },
    /// Our pull from `to` failed (unreachable); nothing arrives.
    PullFailed { to: BranchId },
    /// The host gave up sending our `writes` to peer `to` (it stayed down or
    /// cut off for longer than the host's propagation deadline). The branch
    /// stops waiting for `to`'s acknowledgements of them; `to` gets them
    /// later by anti-entropy. A customer still waiting for one of them (with
    /// synchronous propagation) is answered with an unavailable failure
    /// saying so: the write is applied here, just not everywhere.
    Undelivered { to: BranchId, writes: Vec<WriteId>, why: String },
    /// Anti-entropy round: pull from every peer (after a restart, after a
    /// partition healed, or periodically).
    AntiEntropy,
}

/// Something the host must do for the branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Answer the customer call identified by `token`.
    Reply { token: ReplyToken, reply: Reply },
    /// Send a write to a peer; feed its acknowledgement back as [`Input::Ack`]
    /// (or [`Input::Undelivered`] if the host gives up).
    Send { to: BranchId, propagation: Propagation },
    /// Answer the peer call identified by `token`.
    AckPeer { token: ReplyToken, ack: PropagationAck },
    /// Fail the peer call identified by `token`: its write was not applied
    /// because it could not be stored (`reason` says why). The peer sends
    /// it again. Only [`Branch::handle_storing`](super::Branch::handle_storing)
    /// refuses.
    RefusePeer { token: ReplyToken, reason: String },
    /// Store `write` durably before carrying out the effects after it (from
    /// [`Branch::handle`](super::Branch::handle) only: `handle_storing`
    /// stores through the host's store instead).
    Persist(StoredWrite),
    /// The request `token` waits for `missing`; the host may
    /// [`Input::Expire`] it after a bounded wait.
    Parked { token: ReplyToken, missing: Vec<WriteId> },
    /// Ask peer `to` for the writes we lack; feed the answer back as
    /// [`Input::Pulled`] (or [`Input::PullFailed`]).
    Pull { to: BranchId, have: WriteSet, answer_back: bool },
    /// Answer the peer pull identified by `token`.
    PullReply { token: ReplyToken, writes: Vec<Propagation> },
    /// The branch logged an event (for traces and visualisation).
    Logged(LogEntry),
    /// Store durably that this branch's clock may reach `up_to` before the
    /// next such record, and give the largest `up_to` stored back to
    /// [`Branch::recover_at`](super::Branch::recover_at) after a crash: the
    /// restarted branch's clock then starts above every clock it had used,
    /// so its lane's clocks never go back. Comes once every
    /// [`CLOCK_LEASE`](super::CLOCK_LEASE) ticks, before the events that
    /// use the clock it covers.
    ReserveClock { up_to: u64 },
    /// A peer's message was refused and nothing of it applied (see the
    /// rules in `peers.rs`): answer the peer call `token` with the refusal, or,
    /// without a token (the answer to our own pull), report it.
    PeerRefused { token: Option<ReplyToken>, refusal: PeerRefusal },
}
