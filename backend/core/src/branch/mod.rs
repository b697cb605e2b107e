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
//!    [`WriteId`] and is stored durably before it is applied and before
//!    anything else happens: by the host's [`WriteStore`]
//!    ([`Branch::handle_storing`]), or handed out as an [`Effect::Persist`]
//!    ([`Branch::handle`]). A write the store refuses is not applied and
//!    fails for its customer ([`FailReason::StorageFailed`]); see [`store`].
//! 3. It propagates the write to every peer, in the order and timing set by
//!    [`PropagationMode`], with the writes its session requires cut to
//!    their causal frontier (see `frontier.rs`); each peer applies it once
//!    its dependencies are applied (once: duplicates are recognised by
//!    their id) and acknowledges.
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
//!
//! ## Where the parts are
//! - this file: [`Branch`] itself, and how it handles each [`Input`];
//! - [`message`]: what goes in and out: [`Input`], [`Effect`], [`Request`],
//!   [`Reply`], [`Propagation`], [`PropagationAck`], [`StoredWrite`],
//!   [`ReplyToken`];
//! - [`peers`]: what a branch accepts from its peers; every propagation,
//!   pull and pull answer is checked there before anything of it is applied;
//! - [`refusal`]: why it refused ([`PeerRefusal`]) and the limits
//!   ([`MAX_BATCH_WRITES`], [`MAX_SEQ_AHEAD`], [`MAX_HELD_WRITES`]);
//! - [`config`]: how a branch is set up ([`BranchConfig`],
//!   [`PropagationMode`]) and the [`RunSettings`] a branch is reset into for
//!   a new run;
//! - [`store`]: the [`WriteStore`] a host lends the branch, which stores
//!   each write before the branch applies it;
//! - `tests.rs`: the state machine's unit tests; `hostile_tests.rs`: what
//!   it does with messages no honest peer sends.

pub mod applied_log;
pub mod config;
mod frontier;
pub mod message;
pub mod peers;
mod recovery;
pub mod refusal;
pub mod store;

pub use applied_log::AppliedLog;
pub use config::{BranchConfig, PropagationMode, RunSettings, PEER_DEADLINE_MS};
pub use message::{
    Effect, Input, Propagation, PropagationAck, Reply, ReplyToken, Request, StoredWrite,
};
pub use refusal::{PeerRefusal, SkippedRecord, MAX_BATCH_WRITES, MAX_HELD_WRITES, MAX_SEQ_AHEAD};
pub use store::WriteStore;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

#[cfg(test)]
use crate::clock::ClockScheme;
use crate::clock::{ClockRule, LamportClock, MAX_CLOCK};
use crate::ids::{BranchId, CustomerId, EventId, WriteId};
use crate::log::{LogEntry, LogKind, PackedLog};
use crate::money::Cents;
use crate::op::{FailReason, Op, OpKind, Outcome};
use crate::writes::WriteSet;

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
    /// Why peers the host gave up on did not get the write (see
    /// [`Input::Undelivered`]); the customer's answer then says so.
    undelivered: Vec<String>,
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
    /// The seq of the next write this branch issues; never reused. At
    /// `u64::MAX` the branch has run out of ids and refuses writes.
    next_seq: u64,
    /// After a restart: own writes below this seq may have been issued and
    /// lost with the tail of the store (see [`peers`]); 0 for a new branch.
    lost_tail_limit: u64,
    /// Records of the store [`Branch::recover`] did not apply.
    skipped_at_recovery: Vec<SkippedRecord>,
    /// The clock this branch has reserved in its store so far (see
    /// [`Effect::ReserveClock`]): it reserves more before passing it.
    clock_reserved: u64,
    applied: WriteSet,
    /// Every applied write in apply order (what the durable store holds),
    /// packed: kept for the whole run, on every branch.
    applied_log: AppliedLog,
    write_sets: BTreeMap<CustomerId, Vec<EventId>>,
    /// The event log, packed: about 80 entries per write on 20 branches.
    log: PackedLog,
    /// Requests whose session needs writes not applied here yet, in arrival order.
    parked: Vec<(ReplyToken, Request, WriteSet)>,
    /// Propagated writes whose dependencies are not applied here yet (with
    /// the token to acknowledge, if a peer waits for one).
    held: Vec<(Option<ReplyToken>, Propagation)>,
    in_flight: BTreeMap<WriteId, InFlight>,
    /// Peers we pulled from that have not answered yet.
    pulls_outstanding: BTreeMap<BranchId, usize>,
    /// Peers an anti-entropy round found still owing an answer: pulled
    /// again once they have answered.
    pull_again: BTreeSet<BranchId>,
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
            lost_tail_limit: 0,
            skipped_at_recovery: Vec::new(),
            clock_reserved: 0,
            applied: WriteSet::new(),
            applied_log: AppliedLog::new(),
            write_sets: BTreeMap::new(),
            log: PackedLog::new(),
            parked: Vec::new(),
            held: Vec::new(),
            in_flight: BTreeMap::new(),
            pulls_outstanding: BTreeMap::new(),
            pull_again: BTreeSet::new(),
        }
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

    /// The event log, oldest first (kept packed: [`PackedLog::iter`] and
    /// [`PackedLog::to_vec`] decode it).
    pub fn log(&self) -> &PackedLog {
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

    /// Every write applied here, in apply order, with the balance after each
    /// (kept packed: [`AppliedLog::iter`] and [`AppliedLog::get`] decode it).
    pub fn applied_log(&self) -> &AppliedLog {
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

    /// Handles one input and returns what the host must do, in order. Each
    /// write to store comes out as an [`Effect::Persist`], before the effects
    /// that depend on it: for hosts whose storage cannot fail.
    pub fn handle(&mut self, input: Input) -> Vec<Effect> {
        self.handle_with(input, &mut Storage::Effects)
    }

    /// [`Branch::handle`] for a host with a store that can fail: each write
    /// is stored in `store` before it is applied, and a write `store`
    /// refuses is not applied at all (see [`store`]). No [`Effect::Persist`]
    /// comes out.
    pub fn handle_storing(&mut self, input: Input, store: &mut dyn WriteStore) -> Vec<Effect> {
        self.handle_with(input, &mut Storage::Host(store))
    }

    fn handle_with(&mut self, input: Input, storage: &mut Storage<'_>) -> Vec<Effect> {
        let mut out = Vec::new();
        match input {
            Input::Request { token, request } => self.on_request(token, request, storage, &mut out),
            Input::Propagate { token, propagation } => match self.check_propagation(&propagation) {
                Ok(()) => self.on_propagate(Some(token), propagation, storage, &mut out),
                Err(refusal) => out.push(Effect::PeerRefused { token: Some(token), refusal }),
            },
            Input::Ack(ack) => self.on_ack(ack, &mut out),
            Input::Expire { token } => self.on_expire(token, &mut out),
            Input::Pull { token, from, have, answer_back } => match self.check_pull(from, &have) {
                Ok(()) => self.on_pull(token, from, have, answer_back, &mut out),
                Err(refusal) => out.push(Effect::PeerRefused { token: Some(token), refusal }),
            },
            Input::Pulled { from, writes } => {
                self.pull_answered(from);
                if let Err(refusal) = self.check_batch(from, &writes) {
                    out.push(Effect::PeerRefused { token: None, refusal });
                    self.pull_if_asked(from, &mut out);
                    return out;
                }
                // A full answer leaves more behind: ask for the rest.
                let mut more = writes.len() >= MAX_BATCH_WRITES;
                for p in writes {
                    if self.held.len() >= MAX_HELD_WRITES
                        && !self.applied.contains_all(&p.depends_on)
                    {
                        // Too much waits already: the rest comes with a later pull.
                        let refusal =
                            PeerRefusal::TooManyHeld { me: self.config.id.0, write: p.write };
                        out.push(Effect::PeerRefused { token: None, refusal });
                        more = false;
                        break;
                    }
                    self.on_propagate(None, p, storage, &mut out);
                }
                if more {
                    self.pull(from, false, &mut out);
                }
                self.pull_if_asked(from, &mut out);
            }
            Input::PullFailed { to } => {
                self.pull_answered(to);
                self.pull_if_asked(to, &mut out);
            }
            Input::Undelivered { to, writes, why } => {
                for write in writes {
                    self.on_undelivered(to, write, &why, &mut out);
                }
            }
            Input::AntiEntropy => {
                // One pull per peer at a time. Its answer takes a round
                // trip; pulling again on every tick meanwhile would only
                // fetch the same writes again (a 40 s link and a 250 ms
                // tick made 160 copies of each write, and the cost of a
                // run grew with its delays instead of its work). A peer
                // still owing an answer is pulled again once it answers
                // or the pull fails, so no round asked for is lost.
                for peer in self.config.peers.clone() {
                    if self.pulls_outstanding.contains_key(&peer) {
                        self.pull_again.insert(peer);
                    } else {
                        self.pull(peer, true, &mut out);
                    }
                }
            }
        }
        out
    }

    fn ticks_on(&self, kind: LogKind, op: OpKind) -> ClockRule {
        self.config.clock_scheme.rule_for(kind, op)
    }

    /// The clock an entry of `kind` for `op` would get now, without ticking:
    /// a write is stored with the clock of the entry that applies it, and it
    /// is stored before that entry is made.
    fn clock_of_next(&self, kind: LogKind, op: OpKind) -> u64 {
        let mut clock = self.clock;
        clock.step(self.ticks_on(kind, op), 0).result
    }

    /// Stores `write` as this call stores writes (see [`Storage`]); `Err`
    /// is why it could not, in words for the customer or peer.
    fn store(
        &self,
        storage: &mut Storage<'_>,
        write: &StoredWrite,
        out: &mut Vec<Effect>,
    ) -> Result<(), String> {
        match storage {
            Storage::Effects => {
                out.push(Effect::Persist(write.clone()));
                Ok(())
            }
            Storage::Host(store) => store.store(write).map_err(|why| {
                format!(
                    "branch {} could not store write {}, so it did not apply it: {why}",
                    self.config.id.0, write.write
                )
            }),
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
        write: Option<WriteId>,
        out: &mut Vec<Effect>,
    ) -> u64 {
        let step = self.clock.step(self.ticks_on(kind, op.kind()), received_clock);
        let clock = step.result;
        if clock > self.clock_reserved {
            self.clock_reserved = clock.saturating_add(CLOCK_LEASE);
            out.push(Effect::ReserveClock { up_to: self.clock_reserved });
        }
        let entry = LogEntry {
            clock,
            step,
            write,
            kind,
            customer,
            event,
            op: op.kind(),
            amount: op.amount(),
            peer,
            balance,
            failed,
        };
        self.log.push(&entry);
        out.push(Effect::Logged(entry));
        clock
    }

    fn on_request(
        &mut self,
        token: ReplyToken,
        request: Request,
        storage: &mut Storage<'_>,
        out: &mut Vec<Effect>,
    ) {
        let (customer, event, op) = (request.customer, request.event, request.op);
        // A stamp no customer can have is not received (the request is
        // refused below), so it cannot pin this branch's clock.
        let stamp = if request.clock > MAX_CLOCK { 0 } else { request.clock };
        self.record(LogKind::Request, customer, event, op, None, None, false, stamp, None, out);
        // Refuse at once what waiting cannot fix, instead of parking it forever.
        if let Some(reason) = self.malformed(&request) {
            self.refuse(token, &request, reason, out);
            return;
        }
        let required = request.required();
        if self.applied.contains_all(&required) {
            self.execute(token, request, required, storage, out);
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
        if request.clock > MAX_CLOCK {
            return Some(FailReason::Invalid(format!(
                "the request is stamped with clock {}, above {MAX_CLOCK}, the largest stamp a \
                 message may carry",
                request.clock
            )));
        }
        let me = self.config.id;
        for set in [&request.write_set, &request.read_set] {
            for (origin, writes) in set.parts() {
                let highest = writes.highest();
                // A peer's write no branch can have issued (u64::MAX never
                // is, and nothing runs more than MAX_SEQ_AHEAD ahead of what
                // arrived here) would park the request until it times out.
                let impossible = if origin == me {
                    highest >= self.next_seq
                } else {
                    !self.config.peers.contains(&origin)
                        || highest == u64::MAX
                        || highest > self.known_seq(origin).saturating_add(MAX_SEQ_AHEAD)
                };
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

    fn refuse(
        &mut self,
        token: ReplyToken,
        request: &Request,
        reason: FailReason,
        out: &mut Vec<Effect>,
    ) {
        let (customer, event, op) = (request.customer, request.event, request.op);
        let balance = Some(self.balance);
        self.record(LogKind::Execute, customer, event, op, None, balance, true, 0, None, out);
        let outcome = Outcome::Failed { reason, balance: self.balance };
        self.respond(token, customer, event, op, outcome, None, out);
    }

    fn execute(
        &mut self,
        token: ReplyToken,
        request: Request,
        required: WriteSet,
        storage: &mut Storage<'_>,
        out: &mut Vec<Effect>,
    ) {
        let (customer, event, op) = (request.customer, request.event, request.op);
        let refusal = match op {
            Op::Withdraw(amount) if amount > self.balance => {
                Some(FailReason::InsufficientFunds { requested: amount, balance: self.balance })
            }
            Op::Deposit(amount) if self.balance.checked_add_within_limit(amount).is_none() => {
                Some(FailReason::BalanceLimit { requested: amount, balance: self.balance })
            }
            _ => None,
        };
        if let Some(reason) = refusal {
            self.refuse(token, &request, reason, out);
            return;
        }

        if !op.is_write() {
            let balance = Some(self.balance);
            self.record(LogKind::Execute, customer, event, op, None, balance, false, 0, None, out);
            let outcome = Outcome::Success { balance: self.balance };
            let clock = self.record(
                LogKind::Response,
                customer,
                event,
                op,
                None,
                balance,
                false,
                0,
                None,
                out,
            );
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

        let Some(after) = self.next_seq.checked_add(1) else {
            let reason = FailReason::Invalid(format!(
                "branch {} has issued its last write id ({} writes): it cannot accept more",
                self.config.id.0,
                u64::MAX - 1
            ));
            self.refuse(token, &request, reason, out);
            return;
        };
        let Some(balance_after) = self.balance_after(op) else {
            let reason = FailReason::BalanceLimit { requested: op.amount(), balance: self.balance };
            self.refuse(token, &request, reason, out);
            return;
        };
        let write = WriteId { origin: self.config.id, seq: self.next_seq };
        // Stored before anything changes, with the clock its Execute entry
        // gets: a write that could not be stored is refused, its id unused.
        let clock = self.clock_of_next(LogKind::Execute, op.kind());
        let depends_on = frontier::frontier(&required, &self.applied_log);
        let stored = StoredWrite { write, customer, event, op, depends_on, clock };
        if let Err(why) = self.store(storage, &stored, out) {
            self.refuse(token, &request, FailReason::StorageFailed(why), out);
            return;
        }
        self.next_seq = after;
        self.apply(stored.clone(), balance_after);
        let balance = self.balance;
        let logged = self.record(
            LogKind::Execute,
            customer,
            event,
            op,
            None,
            Some(balance),
            false,
            0,
            Some(write),
            out,
        );
        debug_assert_eq!(logged, clock, "a write is stored with its Execute entry's clock");
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
            undelivered: Vec::new(),
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
        let clock = self.record(
            LogKind::PropagateSent,
            customer,
            event,
            op,
            Some(to),
            None,
            false,
            0,
            None,
            out,
        );
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
        let clock = self.record(
            LogKind::Response,
            customer,
            event,
            op,
            None,
            balance,
            failed,
            0,
            None,
            out,
        );
        let reply = Reply {
            branch: self.config.id,
            customer,
            event,
            op: op.kind(),
            outcome,
            write,
            observed: None,
            clock,
        };
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
                let why = request.guarantees.why_needed(
                    request.op.kind(),
                    &request.write_set,
                    &request.read_set,
                    w,
                );
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

    fn on_pull(
        &mut self,
        token: ReplyToken,
        from: BranchId,
        have: WriteSet,
        answer_back: bool,
        out: &mut Vec<Effect>,
    ) {
        // At most one message's worth: the puller asks again after a full one.
        let lacking = self.applied_log.not_in(&have, MAX_BATCH_WRITES);
        let mut writes = Vec::with_capacity(lacking.len());
        for w in lacking {
            // Logged like any propagation, so traces show the catch-up.
            let clock = self.record(
                LogKind::PropagateSent,
                w.customer,
                w.event,
                w.op,
                Some(from),
                None,
                false,
                0,
                None,
                out,
            );
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

    /// The pull an anti-entropy round asked of `peer` while an earlier one
    /// was out, now that none is.
    fn pull_if_asked(&mut self, peer: BranchId, out: &mut Vec<Effect>) {
        if !self.pulls_outstanding.contains_key(&peer) && self.pull_again.remove(&peer) {
            self.pull(peer, true, out);
        }
    }

    fn pull_answered(&mut self, from: BranchId) {
        if let Some(n) = self.pulls_outstanding.get_mut(&from) {
            *n -= 1;
            if *n == 0 {
                self.pulls_outstanding.remove(&from);
            }
        }
    }

    fn on_propagate(
        &mut self,
        token: Option<ReplyToken>,
        p: Propagation,
        storage: &mut Storage<'_>,
        out: &mut Vec<Effect>,
    ) {
        if self.applied.contains(&p.write) {
            // A duplicate. A pull answer is logged as sent by the branch that
            // answered, so its arrival is logged too, even when it changes
            // nothing: every message logged as sent is seen to arrive.
            self.log_received(&p, out);
            if let Some(token) = token {
                out.push(Effect::AckPeer { token, ack: self.duplicate_ack(p.write) });
            }
            return;
        }
        if self.held.iter().any(|(_, h)| h.write == p.write) {
            // Already waiting for its dependencies (a resend or a pull answer).
            match token {
                Some(token) => self.held.push((Some(token), p)),
                None => self.log_received(&p, out),
            }
            return;
        }
        self.log_received(&p, out);
        if !self.applied.contains_all(&p.depends_on) {
            self.held.push((token, p));
        } else if self.apply_propagated(token, p, storage, out) {
            self.release_waiting(storage, out);
        }
    }

    /// Logs the arrival of a propagated write (its sender's clock jumps ours).
    fn log_received(&mut self, p: &Propagation, out: &mut Vec<Effect>) {
        let (customer, event, op, from) = (p.customer, p.event, p.op, Some(p.from));
        self.record(
            LogKind::PropagateReceived,
            customer,
            event,
            op,
            from,
            None,
            false,
            p.clock,
            None,
            out,
        );
    }

    /// The acknowledgement of a write that was already applied here: the
    /// sender is told, and nothing changes.
    fn duplicate_ack(&self, write: WriteId) -> PropagationAck {
        PropagationAck {
            from: self.config.id,
            write,
            newly_applied: false,
            clock: self.clock.now(),
        }
    }

    /// Stores and applies a propagated write whose dependencies are applied;
    /// false if it could not be stored (then nothing changed, and the peer
    /// waiting for `token` is refused: it sends the write again).
    fn apply_propagated(
        &mut self,
        token: Option<ReplyToken>,
        p: Propagation,
        storage: &mut Storage<'_>,
        out: &mut Vec<Effect>,
    ) -> bool {
        // A propagated write was accepted by its origin, so it is applied
        // unconditionally: refusing it here would make the replicas diverge
        // (see "The overdraft rule" in the module docs). Only a store that
        // fails keeps it out, for now: the write comes again; and a write
        // whose amount the balance cannot hold (only a hostile peer's), which
        // is refused for good.
        let Some(balance_after) = self.balance_after(p.op) else {
            let (me, balance) = (self.config.id.0, self.balance);
            let refusal = PeerRefusal::BalanceOverflow { me, write: p.write, balance };
            out.push(Effect::PeerRefused { token, refusal });
            return false;
        };
        let clock = self.clock_of_next(LogKind::PropagateExecuted, p.op.kind());
        let stored = StoredWrite {
            write: p.write,
            customer: p.customer,
            event: p.event,
            op: p.op,
            depends_on: p.depends_on,
            clock,
        };
        if let Err(reason) = self.store(storage, &stored, out) {
            if let Some(token) = token {
                out.push(Effect::RefusePeer { token, reason });
            }
            return false;
        }
        self.apply(stored, balance_after);
        let balance = Some(self.balance);
        let from = Some(p.from);
        let logged = self.record(
            LogKind::PropagateExecuted,
            p.customer,
            p.event,
            p.op,
            from,
            balance,
            false,
            0,
            Some(p.write),
            out,
        );
        debug_assert_eq!(logged, clock, "a write is stored with its entry's clock");
        if let Some(token) = token {
            let ack =
                PropagationAck { from: self.config.id, write: p.write, newly_applied: true, clock };
            out.push(Effect::AckPeer { token, ack });
        }
        true
    }

    /// After a write was applied: serve whatever was waiting for it, until
    /// nothing more becomes ready.
    fn release_waiting(&mut self, storage: &mut Storage<'_>, out: &mut Vec<Effect>) {
        loop {
            let applied = &self.applied;
            if let Some(i) = self.held.iter().position(|(_, p)| applied.contains_all(&p.depends_on))
            {
                let (token, p) = self.held.remove(i);
                if self.applied.contains(&p.write) {
                    if let Some(token) = token {
                        out.push(Effect::AckPeer { token, ack: self.duplicate_ack(p.write) });
                    }
                } else {
                    // Not stored: dropped (it comes again), while what
                    // depends on it stays waiting.
                    self.apply_propagated(token, p, storage, out);
                }
                continue;
            }
            if let Some(i) =
                self.parked.iter().position(|(_, _, required)| applied.contains_all(required))
            {
                let (token, request, required) = self.parked.remove(i);
                self.execute(token, request, required, storage, out);
                continue;
            }
            break;
        }
    }

    fn on_ack(&mut self, ack: PropagationAck, out: &mut Vec<Effect>) {
        if ack.clock > MAX_CLOCK {
            // Not a clock any branch can have: refused, and the peer is
            // treated as one that did not acknowledge (it catches up by
            // anti-entropy), so the write's answer does not wait forever.
            let (me, write, clock) = (self.config.id.0, ack.write, ack.clock);
            out.push(Effect::PeerRefused {
                token: None,
                refusal: PeerRefusal::ClockTooLarge { me, write, clock },
            });
            let why = format!("branch {} acknowledged it with clock {clock}", ack.from.0);
            self.on_undelivered(ack.from, ack.write, &why, out);
            return;
        }
        let Some(mut flight) = self.in_flight.remove(&ack.write) else {
            return; // late duplicate acknowledgement
        };
        if !flight.awaiting.remove(&ack.from) {
            self.in_flight.insert(ack.write, flight);
            return; // not a peer we are waiting for
        }
        let p = &flight.propagation;
        let (customer, event, op) = (p.customer, p.event, p.op);
        self.record(
            LogKind::PropagateAcked,
            customer,
            event,
            op,
            Some(ack.from),
            None,
            false,
            ack.clock,
            None,
            out,
        );
        self.advance(ack.write, flight, out);
    }

    /// The host gave up on sending `write` to `to`: stop waiting for that
    /// acknowledgement (`to` catches up by anti-entropy) and go on.
    fn on_undelivered(&mut self, to: BranchId, write: WriteId, why: &str, out: &mut Vec<Effect>) {
        let Some(mut flight) = self.in_flight.remove(&write) else {
            return; // acknowledged in the meantime, or of an earlier life
        };
        if !flight.awaiting.remove(&to) {
            self.in_flight.insert(write, flight);
            return;
        }
        flight.undelivered.push(why.to_owned());
        self.advance(write, flight, out);
    }

    /// After a peer acknowledged `write` (or was given up on): the next
    /// peer in sequential mode, and the customer's answer once no peer is
    /// left to wait for.
    fn advance(&mut self, write: WriteId, mut flight: InFlight, out: &mut Vec<Effect>) {
        if self.config.propagation == PropagationMode::Sequential {
            self.send_next(&mut flight, out);
        }
        if !(flight.awaiting.is_empty() && flight.unsent.is_empty()) {
            self.in_flight.insert(write, flight);
            return;
        }
        let Some((token, reply)) = flight.reply.take() else { return };
        let p = &flight.propagation;
        let (customer, event, op) = (p.customer, p.event, p.op);
        let outcome = if flight.undelivered.is_empty() {
            reply.outcome
        } else {
            let reason = FailReason::Unavailable(format!(
                "branch {} applied {write} but could not propagate it: {}; the write reaches \
                 the other branches by anti-entropy once they are back",
                self.config.id.0,
                flight.undelivered.join("; ")
            ));
            Outcome::Failed { reason, balance: reply.outcome.balance() }
        };
        self.respond(token, customer, event, op, outcome, reply.write, out);
    }

    /// The balance once `op` is applied, or `None` if it would leave the
    /// range of an `i64` (the caller refuses the write: a balance never
    /// saturates).
    fn balance_after(&self, op: Op) -> Option<Cents> {
        op.applied_to(self.balance)
    }

    /// Applies a stored write whose [`Branch::balance_after`] is `balance_after`.
    fn apply(&mut self, write: StoredWrite, balance_after: Cents) {
        self.balance = balance_after;
        self.applied.insert(write.write);
        // One of our own writes that came back from a peer (after a restart
        // that lost the tail of our store): never issue its id again. The
        // checks in `peers` keep its seq below `u64::MAX`; at the limit the
        // branch runs out of ids instead of reusing one.
        if write.write.origin == self.config.id {
            self.next_seq = self.next_seq.max(write.write.seq.saturating_add(1));
        }
        self.write_sets.entry(write.customer).or_default().push(write.event);
        self.applied_log.push(&Applied { write, balance_after: self.balance });
    }
}

/// How one [`Branch::handle_with`] call stores the writes it applies.
enum Storage<'a> {
    /// As [`Effect::Persist`] effects ([`Branch::handle`]).
    Effects,
    /// In the host's store, before applying ([`Branch::handle_storing`]).
    Host(&'a mut dyn WriteStore),
}

/// How many ticks of its clock a branch reserves in its store at a time
/// ([`Effect::ReserveClock`]): one small record per thousand events.
pub const CLOCK_LEASE: u64 = 1_000;

/// How many missing writes a parked request names.
const MISSING_SHOWN: usize = 16;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod hostile_tests;
