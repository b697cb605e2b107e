//! The state machine of one branch: inputs in, effects out.
//!
//! A [`Branch`] holds one replica of the bank's balance, the set of writes
//! it has applied (in order, which is also what it keeps durably), the
//! write sets of the customers whose writes it has applied, its Lamport
//! clock and its event log. It never does I/O. Its host calls
//! [`Branch::handle`] with an [`Input`] and carries out the returned
//! [`Effect`]s, in order:
//!
//! ```text
//!   customer ──Request──▶ ┌────────┐ ──Reply────────────▶ customer
//!   peer ──Propagate────▶ │        │ ──Send(Propagation)─▶ peer
//!   peer ──Ack──────────▶ │ Branch │ ──AckPeer───────────▶ peer
//!   peer ──Pull─────────▶ │        │ ──PullReply / Pull──▶ peer
//!   host ──Expire/Tick──▶ └────────┘ ──Persist / Parked──▶ host
//! ```
//!
//! ## Life of a write
//! 1. A customer's deposit or withdraw arrives ([`Input::Request`]). If the
//!    session's guarantees require writes this branch has not applied yet,
//!    the request is parked, the branch pulls the missing writes from their
//!    origins, and tells its host ([`Effect::Parked`]) so the host can give
//!    up after a bounded wait ([`Input::Expire`]). See [`crate::session`].
//! 2. The branch applies it: a withdraw larger than the *local* balance
//!    fails and changes nothing. A successful write gets a fresh
//!    [`WriteId`] and is handed to the host to store durably
//!    ([`Effect::Persist`]) before anything else happens.
//! 3. It propagates the write to every peer, in the order and timing set by
//!    [`PropagationMode`]; each peer applies it once its dependencies are
//!    applied (once: duplicates are recognised by their id) and acknowledges.
//! 4. It answers the customer: after every peer acknowledged (the course's
//!    synchronous behaviour) or right after the local apply (background).
//!
//! ## The overdraft rule
//! A withdraw is accepted only if the serving branch's own balance covers
//! it. A propagated withdraw was already accepted by its origin, so it is
//! applied unconditionally: refusing it would make the replicas diverge.
//! Under asynchronous propagation two branches can therefore each accept a
//! withdraw that only one of them could cover, and the balance goes below
//! zero everywhere. No session guarantee prevents that (it needs agreement
//! between branches before answering); the history checker reports it as an
//! overdraft instead of letting it pass silently.
//!
//! ## Faults
//! Messages can be lost, delayed, reordered or duplicated, and a branch can
//! crash. A branch loses nothing it acknowledged: every applied write is
//! persisted before the reply, [`Branch::recover`] rebuilds a branch from
//! its stored writes, and *anti-entropy* ([`Input::AntiEntropy`]: pull from
//! every peer what it has and we lack) brings a recovered or reconnected
//! branch up to date.
//!
//! Replies and acknowledgements that must wait are matched to their callers
//! with a [`ReplyToken`] the host chooses, so the host can keep a gRPC call
//! open until the branch answers it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::clock::{ClockScheme, LamportClock};
use crate::guarantees::Guarantees;
use crate::ids::{BranchId, CustomerId, EventId, WriteId};
use crate::log::{LogEntry, LogKind};
use crate::money::Cents;
use crate::op::{FailReason, Op, OpKind, Outcome};
use crate::writes::WriteSet;

/// When and how a branch propagates a write it accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PropagationMode {
    /// One peer at a time in ascending id order, each after the previous one
    /// acknowledged; the customer is answered after the last. This is what
    /// the course's reference implementation does.
    #[default]
    Sequential,
    /// All peers at once; the customer is answered after all acknowledged.
    Parallel,
    /// The customer is answered right after the local apply; the peers get
    /// the write in the background. Session guarantees then do real work.
    Background,
}

impl PropagationMode {
    /// Whether the customer waits for every peer (the course's behaviour).
    pub fn is_synchronous(self) -> bool {
        !matches!(self, PropagationMode::Background)
    }
}

/// How a branch is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchConfig {
    pub id: BranchId,
    /// Every other branch of the bank.
    pub peers: Vec<BranchId>,
    pub initial_balance: Cents,
    pub clock_scheme: ClockScheme,
    pub propagation: PropagationMode,
}

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
    /// or could not be reached): a not-ready failure saying `why`. Whether
    /// a write was applied is unknown; it is not in the session's write set.
    pub fn unanswered(request: &Request, why: String) -> Reply {
        Reply {
            branch: request.branch,
            customer: request.customer,
            event: request.event,
            op: request.op.kind(),
            outcome: Outcome::Failed { reason: FailReason::NotReady(why), balance: Cents::ZERO },
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
    /// Anti-entropy round: pull from every peer (after a restart, after a
    /// partition healed, or periodically).
    AntiEntropy,
}

/// Something the host must do for the branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Answer the customer call identified by `token`.
    Reply { token: ReplyToken, reply: Reply },
    /// Send a write to a peer; feed its acknowledgement back as [`Input::Ack`].
    Send { to: BranchId, propagation: Propagation },
    /// Answer the peer call identified by `token`.
    AckPeer { token: ReplyToken, ack: PropagationAck },
    /// Store `write` durably before carrying out the effects after it.
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
}

/// One of our own writes on its way to the peers.
#[derive(Clone, Debug)]
struct InFlight {
    propagation: Propagation,
    /// Peers not sent to yet (sequential mode sends one at a time).
    unsent: VecDeque<BranchId>,
    /// Peers sent to that have not acknowledged.
    awaiting: BTreeSet<BranchId>,
    /// The customer answer to give once all peers acknowledged
    /// (`None` in background mode: already answered).
    reply: Option<(ReplyToken, Reply)>,
}

/// A write this branch applied, and its balance right after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub write: StoredWrite,
    pub balance_after: Cents,
}

/// One branch of the bank. See the module docs.
#[derive(Clone, Debug)]
pub struct Branch {
    config: BranchConfig,
    balance: Cents,
    clock: LamportClock,
    next_seq: u64,
    applied: WriteSet,
    /// Every applied write in apply order (what the durable store holds).
    applied_log: Vec<Applied>,
    write_sets: BTreeMap<CustomerId, Vec<EventId>>,
    log: Vec<LogEntry>,
    /// Requests whose session needs writes not applied here yet, in arrival order.
    parked: Vec<(ReplyToken, Request, WriteSet)>,
    /// Propagated writes whose dependencies are not applied here yet (with
    /// the token to acknowledge, if a peer waits for one).
    held: Vec<(Option<ReplyToken>, Propagation)>,
    in_flight: BTreeMap<WriteId, InFlight>,
    /// Peers we pulled from that have not answered yet.
    pulls_outstanding: BTreeMap<BranchId, usize>,
}

impl Branch {
    pub fn new(mut config: BranchConfig) -> Branch {
        config.peers.retain(|p| *p != config.id);
        config.peers.sort();
        config.peers.dedup();
        Branch {
            balance: config.initial_balance,
            config,
            clock: LamportClock::default(),
            next_seq: 1,
            applied: WriteSet::new(),
            applied_log: Vec::new(),
            write_sets: BTreeMap::new(),
            log: Vec::new(),
            parked: Vec::new(),
            held: Vec::new(),
            in_flight: BTreeMap::new(),
            pulls_outstanding: BTreeMap::new(),
        }
    }

    /// Rebuilds a branch after a crash from the writes it had stored, in the
    /// order it applied them. What was only in memory is gone: requests it
    /// was serving, its own writes' propagation (peers get those by
    /// anti-entropy), its event log. Feed it [`Input::AntiEntropy`] next.
    pub fn recover(config: BranchConfig, stored: impl IntoIterator<Item = StoredWrite>) -> Branch {
        let mut branch = Branch::new(config);
        for write in stored {
            if branch.applied.contains(&write.write) {
                continue;
            }
            if write.write.origin == branch.config.id {
                branch.next_seq = branch.next_seq.max(write.write.seq + 1);
            }
            branch.clock.receive(write.clock);
            branch.apply(write);
        }
        branch
    }

    pub fn id(&self) -> BranchId {
        self.config.id
    }

    pub fn config(&self) -> &BranchConfig {
        &self.config
    }

    pub fn balance(&self) -> Cents {
        self.balance
    }

    pub fn clock(&self) -> u64 {
        self.clock.now()
    }

    /// The event log, oldest first.
    pub fn log(&self) -> &[LogEntry] {
        &self.log
    }

    /// Per customer, the event ids of its writes in the order applied here.
    pub fn write_sets(&self) -> &BTreeMap<CustomerId, Vec<EventId>> {
        &self.write_sets
    }

    pub fn has_applied(&self, write: &WriteId) -> bool {
        self.applied.contains(write)
    }

    /// Every write applied here.
    pub fn applied(&self) -> &WriteSet {
        &self.applied
    }

    /// Every write applied here, in apply order, with the balance after each.
    pub fn applied_log(&self) -> &[Applied] {
        &self.applied_log
    }

    /// Requests waiting for their session's writes, and propagations waiting
    /// for their dependencies: both zero once the bank is quiet.
    pub fn waiting(&self) -> (usize, usize) {
        (self.parked.len(), self.held.len())
    }

    /// Writes this branch accepted whose propagation has not completed.
    pub fn writes_in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Nothing of this branch is under way: no own write still propagating,
    /// no request parked, no propagated write held back. When every branch is
    /// quiet and no customer is sending, no write is in flight anywhere.
    /// (Anti-entropy pulls do not count: they run periodically, and find
    /// nothing to fetch once the branches agree.)
    pub fn is_quiet(&self) -> bool {
        self.in_flight.is_empty() && self.parked.is_empty() && self.held.is_empty()
    }

    /// Anti-entropy pulls sent and not answered yet.
    pub fn pulls_in_flight(&self) -> usize {
        self.pulls_outstanding.values().sum()
    }

    /// Handles one input and returns what the host must do, in order.
    pub fn handle(&mut self, input: Input) -> Vec<Effect> {
        let mut out = Vec::new();
        match input {
            Input::Request { token, request } => self.on_request(token, request, &mut out),
            Input::Propagate { token, propagation } => self.on_propagate(Some(token), propagation, &mut out),
            Input::Ack(ack) => self.on_ack(ack, &mut out),
            Input::Expire { token } => self.on_expire(token, &mut out),
            Input::Pull { token, from, have, answer_back } => self.on_pull(token, from, have, answer_back, &mut out),
            Input::Pulled { from, writes } => {
                self.pull_answered(from);
                for p in writes {
                    self.on_propagate(None, p, &mut out);
                }
            }
            Input::PullFailed { to } => self.pull_answered(to),
            Input::AntiEntropy => {
                for peer in self.config.peers.clone() {
                    self.pull(peer, true, &mut out);
                }
            }
        }
        out
    }

    fn ticks_on(&self, kind: LogKind, op: OpKind) -> Tick {
        use ClockScheme::*;
        use LogKind::*;
        match (self.config.clock_scheme, kind) {
            // Generation A ignores queries entirely.
            (ExecuteAndRespond, _) if op == OpKind::Query => Tick::None,
            (_, Request | PropagateReceived) => Tick::Receive,
            (ExecuteAndRespond, PropagateAcked) => Tick::Receive,
            (ExecuteAndRespond, Execute | PropagateExecuted | Response) => Tick::Local,
            (SendAndReceive, PropagateSent) => Tick::Local,
            _ => Tick::None,
        }
    }

    /// Ticks the clock as the scheme says, logs the entry, and returns the clock.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        kind: LogKind,
        customer: CustomerId,
        event: EventId,
        op: Op,
        peer: Option<BranchId>,
        balance: Option<Cents>,
        failed: bool,
        received_clock: u64,
        out: &mut Vec<Effect>,
    ) -> u64 {
        let clock = match self.ticks_on(kind, op.kind()) {
            Tick::Receive => self.clock.receive(received_clock),
            Tick::Local => self.clock.tick(),
            Tick::None => self.clock.now(),
        };
        let entry = LogEntry {
            clock,
            kind,
            customer,
            event,
            op: op.kind(),
            amount: op.amount(),
            peer,
            balance,
            failed,
        };
        self.log.push(entry.clone());
        out.push(Effect::Logged(entry));
        clock
    }

    fn on_request(&mut self, token: ReplyToken, request: Request, out: &mut Vec<Effect>) {
        let (customer, event, op) = (request.customer, request.event, request.op);
        self.record(LogKind::Request, customer, event, op, None, None, false, request.clock, out);
        // Refuse at once what waiting cannot fix, instead of parking it forever.
        if let Some(reason) = self.malformed(&request) {
            self.refuse(token, &request, reason, out);
            return;
        }
        let required = request.required();
        if self.applied.contains_all(&required) {
            self.execute(token, request, required, out);
            return;
        }
        // Name a few (a hostile set may name 2^64 writes).
        let missing = self.applied.first_missing_from(&required, MISSING_SHOWN);
        // Pull what is missing from the writes' origins instead of only
        // hoping propagation brings it.
        let origins: BTreeSet<BranchId> = missing.iter().map(|w| w.origin).collect();
        for origin in origins {
            self.pull(origin, false, out);
        }
        out.push(Effect::Parked { token, missing });
        self.parked.push((token, request, required));
    }

    /// Why `request` can never be served here, if so: another branch's
    /// request, a negative amount, or a session naming a write that cannot
    /// exist (issued by no branch of this bank, or by this branch but never).
    fn malformed(&self, request: &Request) -> Option<FailReason> {
        if request.branch != self.config.id {
            return Some(FailReason::WrongBranch);
        }
        if request.op.amount() < Cents::ZERO {
            return Some(FailReason::Invalid(format!("negative amount {}", request.op.amount())));
        }
        let me = self.config.id;
        for set in [&request.write_set, &request.read_set] {
            for (origin, writes) in set.parts() {
                let highest = writes.extra.iter().next_back().copied().unwrap_or(0).max(writes.prefix);
                let impossible = if origin == me { highest >= self.next_seq } else { !self.config.peers.contains(&origin) };
                if impossible {
                    let write = WriteId { origin, seq: highest };
                    return Some(FailReason::Invalid(format!(
                        "the session names write {write}, which no branch of this bank issued"
                    )));
                }
            }
        }
        None
    }

    fn refuse(&mut self, token: ReplyToken, request: &Request, reason: FailReason, out: &mut Vec<Effect>) {
        let (customer, event, op) = (request.customer, request.event, request.op);
        let balance = Some(self.balance);
        self.record(LogKind::Execute, customer, event, op, None, balance, true, 0, out);
        let outcome = Outcome::Failed { reason, balance: self.balance };
        self.respond(token, customer, event, op, outcome, None, out);
    }

    fn execute(&mut self, token: ReplyToken, request: Request, required: WriteSet, out: &mut Vec<Effect>) {
        let (customer, event, op) = (request.customer, request.event, request.op);
        let refusal = match op {
            Op::Withdraw(amount) if amount > self.balance => {
                Some(FailReason::InsufficientFunds { requested: amount, balance: self.balance })
            }
            _ => None,
        };
        if let Some(reason) = refusal {
            self.refuse(token, &request, reason, out);
            return;
        }

        if !op.is_write() {
            let balance = Some(self.balance);
            self.record(LogKind::Execute, customer, event, op, None, balance, false, 0, out);
            let outcome = Outcome::Success { balance: self.balance };
            let clock = self.record(LogKind::Response, customer, event, op, None, balance, false, 0, out);
            let reply = Reply {
                branch: self.config.id,
                customer,
                event,
                op: op.kind(),
                outcome,
                write: None,
                observed: Some(self.applied.clone()),
                clock,
            };
            out.push(Effect::Reply { token, reply });
            return;
        }

        let write = WriteId { origin: self.config.id, seq: self.next_seq };
        self.next_seq += 1;
        // The clock the write is stored with is the one its Execute entry gets.
        let stored = StoredWrite { write, customer, event, op, depends_on: required, clock: 0 };
        let applied_at = self.applied_log.len();
        self.apply(stored.clone());
        let balance = self.balance;
        let clock = self.record(LogKind::Execute, customer, event, op, None, Some(balance), false, 0, out);
        self.applied_log[applied_at].write.clock = clock;
        out.push(Effect::Persist(StoredWrite { clock, ..stored.clone() }));
        let reply = Reply {
            branch: self.config.id,
            customer,
            event,
            op: op.kind(),
            outcome: Outcome::Success { balance },
            write: Some(write),
            observed: None,
            clock,
        };
        let propagation = stored.to_propagation(self.config.id, clock);
        let mut flight = InFlight {
            propagation,
            unsent: self.config.peers.iter().copied().collect(),
            awaiting: BTreeSet::new(),
            reply: Some((token, reply)),
        };
        match self.config.propagation {
            PropagationMode::Sequential => self.send_next(&mut flight, out),
            PropagationMode::Parallel => {
                while !flight.unsent.is_empty() {
                    self.send_next(&mut flight, out);
                }
            }
            PropagationMode::Background => {
                while !flight.unsent.is_empty() {
                    self.send_next(&mut flight, out);
                }
                let (token, reply) = flight.reply.take().expect("reply set above");
                self.respond(token, customer, event, op, reply.outcome, reply.write, out);
            }
        }
        if flight.awaiting.is_empty() {
            // No peers at all: the write is complete already.
            if let Some((token, reply)) = flight.reply.take() {
                self.respond(token, customer, event, op, reply.outcome, reply.write, out);
            }
        } else {
            self.in_flight.insert(write, flight);
        }
    }

    /// Sends the write to the next unsent peer.
    fn send_next(&mut self, flight: &mut InFlight, out: &mut Vec<Effect>) {
        let Some(to) = flight.unsent.pop_front() else { return };
        let p = &flight.propagation;
        let (customer, event, op) = (p.customer, p.event, p.op);
        let clock = self.record(LogKind::PropagateSent, customer, event, op, Some(to), None, false, 0, out);
        let mut propagation = flight.propagation.clone();
        propagation.clock = clock;
        flight.awaiting.insert(to);
        out.push(Effect::Send { to, propagation });
    }

    #[allow(clippy::too_many_arguments)]
    fn respond(
        &mut self,
        token: ReplyToken,
        customer: CustomerId,
        event: EventId,
        op: Op,
        outcome: Outcome,
        write: Option<WriteId>,
        out: &mut Vec<Effect>,
    ) {
        let failed = !outcome.is_success();
        let balance = Some(outcome.balance());
        let clock = self.record(LogKind::Response, customer, event, op, None, balance, failed, 0, out);
        let reply = Reply { branch: self.config.id, customer, event, op: op.kind(), outcome, write, observed: None, clock };
        out.push(Effect::Reply { token, reply });
    }

    fn on_expire(&mut self, token: ReplyToken, out: &mut Vec<Effect>) {
        let Some(i) = self.parked.iter().position(|(t, _, _)| *t == token) else {
            return; // served in the meantime
        };
        let (token, request, required) = self.parked.remove(i);
        let missing = self.applied.first_missing_from(&required, MISSING_SHOWN);
        let named: Vec<String> = missing
            .iter()
            .take(3)
            .map(|w| {
                let why = request.guarantees.why_needed(request.op.kind(), &request.write_set, &request.read_set, w);
                match why {
                    Some(g) => format!("{w} ({g})"),
                    None => w.to_string(),
                }
            })
            .collect();
        let more = if missing.len() > 3 { " and more".to_string() } else { String::new() };
        let reason = FailReason::NotReady(format!(
            "branch {} gave up waiting for {}{more}: the session requires it, and it has not arrived (is its origin down or cut off?)",
            self.config.id.0,
            named.join(", ")
        ));
        self.refuse(token, &request, reason, out);
    }

    fn on_pull(&mut self, token: ReplyToken, from: BranchId, have: WriteSet, answer_back: bool, out: &mut Vec<Effect>) {
        let lacking: Vec<StoredWrite> =
            self.applied_log.iter().filter(|a| !have.contains(&a.write.write)).map(|a| a.write.clone()).collect();
        let mut writes = Vec::with_capacity(lacking.len());
        for w in lacking {
            // Logged like any propagation, so traces show the catch-up.
            let clock = self.record(LogKind::PropagateSent, w.customer, w.event, w.op, Some(from), None, false, 0, out);
            writes.push(w.to_propagation(self.config.id, clock));
        }
        out.push(Effect::PullReply { token, writes });
        if answer_back && !self.applied.contains_all(&have) && self.config.peers.contains(&from) {
            self.pull(from, false, out);
        }
    }

    fn pull(&mut self, to: BranchId, answer_back: bool, out: &mut Vec<Effect>) {
        *self.pulls_outstanding.entry(to).or_default() += 1;
        out.push(Effect::Pull { to, have: self.applied.clone(), answer_back });
    }

    fn pull_answered(&mut self, from: BranchId) {
        if let Some(n) = self.pulls_outstanding.get_mut(&from) {
            *n -= 1;
            if *n == 0 {
                self.pulls_outstanding.remove(&from);
            }
        }
    }

    fn on_propagate(&mut self, token: Option<ReplyToken>, p: Propagation, out: &mut Vec<Effect>) {
        let (customer, event, op, from) = (p.customer, p.event, p.op, Some(p.from));
        if self.applied.contains(&p.write) {
            // A duplicate. A pull answer is logged as sent by the branch that
            // answered, so its arrival is logged too, even when it changes
            // nothing: every message logged as sent is seen to arrive.
            self.record(LogKind::PropagateReceived, customer, event, op, from, None, false, p.clock, out);
            if let Some(token) = token {
                out.push(Effect::AckPeer { token, ack: self.duplicate_ack(p.write) });
            }
            return;
        }
        if self.held.iter().any(|(_, h)| h.write == p.write) {
            // Already waiting for its dependencies (a resend or a pull answer).
            match token {
                Some(token) => self.held.push((Some(token), p)),
                None => {
                    self.record(LogKind::PropagateReceived, customer, event, op, from, None, false, p.clock, out);
                }
            }
            return;
        }
        self.record(LogKind::PropagateReceived, customer, event, op, from, None, false, p.clock, out);
        if !self.applied.contains_all(&p.depends_on) {
            self.held.push((token, p));
        } else {
            self.apply_propagated(token, p, out);
            self.release_waiting(out);
        }
    }

    /// The acknowledgement of a write that was already applied here: the
    /// sender is told, and nothing changes.
    fn duplicate_ack(&self, write: WriteId) -> PropagationAck {
        PropagationAck { from: self.config.id, write, newly_applied: false, clock: self.clock.now() }
    }

    fn apply_propagated(&mut self, token: Option<ReplyToken>, p: Propagation, out: &mut Vec<Effect>) {
        // A propagated write was accepted by its origin, so it is applied
        // unconditionally: refusing it here would make the replicas diverge
        // (see "The overdraft rule" in the module docs).
        let stored =
            StoredWrite { write: p.write, customer: p.customer, event: p.event, op: p.op, depends_on: p.depends_on, clock: 0 };
        let applied_at = self.applied_log.len();
        self.apply(stored.clone());
        let balance = Some(self.balance);
        let from = Some(p.from);
        let clock = self.record(LogKind::PropagateExecuted, p.customer, p.event, p.op, from, balance, false, 0, out);
        self.applied_log[applied_at].write.clock = clock;
        out.push(Effect::Persist(StoredWrite { clock, ..stored }));
        if let Some(token) = token {
            let ack = PropagationAck { from: self.config.id, write: p.write, newly_applied: true, clock };
            out.push(Effect::AckPeer { token, ack });
        }
    }

    /// After a write was applied: serve whatever was waiting for it, until
    /// nothing more becomes ready.
    fn release_waiting(&mut self, out: &mut Vec<Effect>) {
        loop {
            let applied = &self.applied;
            if let Some(i) = self.held.iter().position(|(_, p)| applied.contains_all(&p.depends_on)) {
                let (token, p) = self.held.remove(i);
                if self.applied.contains(&p.write) {
                    if let Some(token) = token {
                        out.push(Effect::AckPeer { token, ack: self.duplicate_ack(p.write) });
                    }
                } else {
                    self.apply_propagated(token, p, out);
                }
                continue;
            }
            if let Some(i) = self.parked.iter().position(|(_, _, required)| applied.contains_all(required)) {
                let (token, request, required) = self.parked.remove(i);
                self.execute(token, request, required, out);
                continue;
            }
            break;
        }
    }

    fn on_ack(&mut self, ack: PropagationAck, out: &mut Vec<Effect>) {
        let Some(mut flight) = self.in_flight.remove(&ack.write) else {
            return; // late duplicate acknowledgement
        };
        if !flight.awaiting.remove(&ack.from) {
            self.in_flight.insert(ack.write, flight);
            return; // not a peer we are waiting for
        }
        let p = &flight.propagation;
        let (customer, event, op) = (p.customer, p.event, p.op);
        self.record(LogKind::PropagateAcked, customer, event, op, Some(ack.from), None, false, ack.clock, out);
        if self.config.propagation == PropagationMode::Sequential {
            self.send_next(&mut flight, out);
        }
        if flight.awaiting.is_empty() && flight.unsent.is_empty() {
            if let Some((token, reply)) = flight.reply.take() {
                self.respond(token, customer, event, op, reply.outcome, reply.write, out);
            }
        } else {
            self.in_flight.insert(ack.write, flight);
        }
    }

    fn apply(&mut self, write: StoredWrite) {
        self.balance = match write.op {
            Op::Deposit(a) => self.balance.checked_add(a),
            Op::Withdraw(a) => self.balance.checked_sub(a),
            Op::Query => Some(self.balance),
        }
        // Amounts are bounded by the input parser; saturating keeps the
        // state machine total even for a hostile wire message.
        .unwrap_or(if matches!(write.op, Op::Deposit(_)) { Cents(i64::MAX) } else { Cents(i64::MIN) });
        self.applied.insert(write.write);
        // One of our own writes that came back from a peer (after a restart
        // without our store): never issue its id again.
        if write.write.origin == self.config.id {
            self.next_seq = self.next_seq.max(write.write.seq.saturating_add(1));
        }
        self.write_sets.entry(write.customer).or_default().push(write.event);
        self.applied_log.push(Applied { write, balance_after: self.balance });
    }
}

/// How many missing writes a parked request names.
const MISSING_SHOWN: usize = 16;

/// How an event moves the Lamport clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tick {
    Receive,
    Local,
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(id: u64, peers: &[u64], scheme: ClockScheme, mode: PropagationMode) -> BranchConfig {
        BranchConfig {
            id: BranchId(id),
            peers: peers.iter().map(|p| BranchId(*p)).collect(),
            initial_balance: Cents::units(400),
            clock_scheme: scheme,
            propagation: mode,
        }
    }

    /// Customer 1's write `write` (event `event`), sent by branch `from`,
    /// depending on nothing.
    fn propagation(from: u64, write: WriteId, event: u64, op: Op) -> Propagation {
        Propagation { from: BranchId(from), write, customer: CustomerId(1), event: EventId(event), op, depends_on: WriteSet::new(), clock: 3 }
    }

    fn request(event: u64, branch: u64, op: Op) -> Request {
        Request {
            customer: CustomerId(1),
            event: EventId(event),
            branch: BranchId(branch),
            op,
            clock: 1,
            guarantees: Guarantees::COURSE,
            write_set: WriteSet::new(),
            read_set: WriteSet::new(),
        }
    }

    fn replies(effects: &[Effect]) -> Vec<&Reply> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Reply { reply, .. } => Some(reply),
                _ => None,
            })
            .collect()
    }

    fn sends(effects: &[Effect]) -> Vec<(BranchId, Propagation)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send { to, propagation } => Some((*to, propagation.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn overdraft_fails_and_changes_nothing() {
        let mut b = Branch::new(config(1, &[2], ClockScheme::SendAndReceive, PropagationMode::Sequential));
        let fx = b.handle(Input::Request { token: ReplyToken(7), request: request(1, 1, Op::Withdraw(Cents::units(500))) });
        let r = replies(&fx);
        assert_eq!(r.len(), 1);
        assert!(matches!(r[0].outcome, Outcome::Failed { reason: FailReason::InsufficientFunds { .. }, .. }));
        assert!(sends(&fx).is_empty(), "a failed write is not propagated");
        assert_eq!(b.balance(), Cents::units(400));
        assert!(b.write_sets().is_empty());
    }

    #[test]
    fn sequential_mode_answers_after_the_last_peer() {
        let mut b = Branch::new(config(1, &[3, 2], ClockScheme::SendAndReceive, PropagationMode::Sequential));
        let fx = b.handle(Input::Request { token: ReplyToken(1), request: request(1, 1, Op::Deposit(Cents::units(10))) });
        assert!(replies(&fx).is_empty());
        let s = sends(&fx);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].0, BranchId(2), "ascending peer order");
        let ack = |from, clock| PropagationAck { from: BranchId(from), write: s[0].1.write, newly_applied: true, clock };
        let fx = b.handle(Input::Ack(ack(2, 5)));
        assert_eq!(sends(&fx)[0].0, BranchId(3));
        assert!(replies(&fx).is_empty());
        let fx = b.handle(Input::Ack(ack(3, 6)));
        let r = replies(&fx);
        assert_eq!(r[0].outcome, Outcome::Success { balance: Cents::units(410) });
        assert_eq!(r[0].write, Some(WriteId { origin: BranchId(1), seq: 1 }));
    }

    #[test]
    fn duplicate_propagation_is_applied_once() {
        let mut b = Branch::new(config(2, &[1], ClockScheme::SendAndReceive, PropagationMode::Sequential));
        let p = propagation(1, WriteId { origin: BranchId(1), seq: 1 }, 1, Op::Deposit(Cents::units(5)));
        b.handle(Input::Propagate { token: ReplyToken(1), propagation: p.clone() });
        let fx = b.handle(Input::Propagate { token: ReplyToken(2), propagation: p });
        assert!(fx.iter().any(|e| matches!(e, Effect::AckPeer { ack, .. } if !ack.newly_applied)));
        assert_eq!(b.balance(), Cents::units(405));
        assert_eq!(b.write_sets()[&CustomerId(1)], vec![EventId(1)]);
    }

    #[test]
    fn a_request_waits_for_the_sessions_writes() {
        // Read Your Writes at the serving branch: the customer deposited at
        // branch 1 (write w1.1) and now queries branch 2 before w1.1 arrived.
        let mut b = Branch::new(config(2, &[1], ClockScheme::SendAndReceive, PropagationMode::Background));
        let w = WriteId { origin: BranchId(1), seq: 1 };
        let mut q = request(2, 2, Op::Query);
        q.write_set = [w].into_iter().collect();
        let fx = b.handle(Input::Request { token: ReplyToken(9), request: q });
        assert!(replies(&fx).is_empty(), "parked, not answered with a stale balance");
        assert_eq!(b.waiting(), (1, 0));
        let p = propagation(1, w, 1, Op::Deposit(Cents::units(100)));
        let fx = b.handle(Input::Propagate { token: ReplyToken(1), propagation: p });
        let r = replies(&fx);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].outcome, Outcome::Success { balance: Cents::units(500) });
        assert_eq!(b.waiting(), (0, 0));
    }

    #[test]
    fn impossible_sessions_are_refused_not_parked_forever() {
        let mut b = Branch::new(config(2, &[1], ClockScheme::SendAndReceive, PropagationMode::Background));
        for bogus in [WriteId { origin: BranchId(9), seq: 1 }, WriteId { origin: BranchId(2), seq: 1 }] {
            let mut q = request(1, 2, Op::Query);
            q.write_set = [bogus].into_iter().collect();
            let fx = b.handle(Input::Request { token: ReplyToken(1), request: q });
            let r = replies(&fx);
            assert_eq!(r.len(), 1, "{bogus}: answered at once");
            assert!(matches!(&r[0].outcome, Outcome::Failed { reason: FailReason::Invalid(m), .. } if m.contains(&bogus.to_string())));
        }
        // A wrong-branch request is refused even when its session would park it.
        let mut q = request(2, 1, Op::Query);
        q.write_set = [WriteId { origin: BranchId(1), seq: 5 }].into_iter().collect();
        let fx = b.handle(Input::Request { token: ReplyToken(2), request: q });
        assert!(matches!(replies(&fx)[0].outcome, Outcome::Failed { reason: FailReason::WrongBranch, .. }));
        assert_eq!(b.waiting(), (0, 0));
    }

    #[test]
    fn an_own_write_fetched_back_is_never_reissued() {
        // Branch 1 lost its memory and its store; a peer sends back w1.3.
        let mut b = Branch::new(config(1, &[2], ClockScheme::SendAndReceive, PropagationMode::Background));
        let p = propagation(2, WriteId { origin: BranchId(1), seq: 3 }, 1, Op::Deposit(Cents::units(5)));
        b.handle(Input::Propagate { token: ReplyToken(1), propagation: p });
        let fx = b.handle(Input::Request { token: ReplyToken(2), request: request(2, 1, Op::Deposit(Cents::units(1))) });
        assert_eq!(replies(&fx)[0].write, Some(WriteId { origin: BranchId(1), seq: 4 }));
    }

    #[test]
    fn a_propagated_write_waits_for_its_dependencies() {
        // Monotonic Writes at a peer: w1.2 depends on w1.1 but arrives first.
        let mut b = Branch::new(config(3, &[1], ClockScheme::SendAndReceive, PropagationMode::Background));
        let w1 = WriteId { origin: BranchId(1), seq: 1 };
        let w2 = WriteId { origin: BranchId(1), seq: 2 };
        let prop = |write, event, op, deps| Propagation { depends_on: deps, clock: 2, ..propagation(1, write, event, op) };
        let fx = b.handle(Input::Propagate {
            token: ReplyToken(2),
            propagation: prop(w2, 2, Op::Withdraw(Cents::units(400)), [w1].into_iter().collect()),
        });
        assert!(!fx.iter().any(|e| matches!(e, Effect::AckPeer { .. })));
        b.handle(Input::Propagate { token: ReplyToken(1), propagation: prop(w1, 1, Op::Deposit(Cents::units(400)), WriteSet::new()) });
        assert_eq!(b.write_sets()[&CustomerId(1)], vec![EventId(1), EventId(2)], "applied in issue order");
        assert_eq!(b.balance(), Cents::units(400));
    }
}
