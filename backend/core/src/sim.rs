//! A deterministic discrete-event simulator of a whole bank.
//!
//! The simulator runs the same [`Branch`] state machines as the real gRPC
//! cluster, on a simulated clock. Every message is an event scheduled at
//! "now + its link's delay"; a seeded [`SplitMix64`] draws every delay and
//! every loss, so the same seed gives the same run, and a failing schedule
//! can be replayed exactly. Nothing here knows about tokio.
//!
//! The network follows a [`NetworkPlan`]: per-link delays (so messages
//! overtake each other), message loss (the sender retries until
//! acknowledged, so receivers see duplicates), partitions, and crashes (a
//! crashed branch keeps only what it persisted, and catches up by
//! anti-entropy after its restart). A peer that fails a write for
//! [`PEER_DEADLINE_MS`] (down, cut off, losing it) is given up on, as the
//! real cluster's links do: its sender stops waiting for it (a customer
//! waiting on the propagation is answered "unavailable", with the write
//! applied) and the peer gets the write by anti-entropy later, so a run
//! with a branch left down ends, and ends as it does on the cluster.
//!
//! A fault left in place is repaired once the customers are done, or when the run has made no progress for
//! [`SimConfig::repair_after_ms`]: like an operator who eventually fixes the
//! network, so that every run ends with every branch up and converged.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};

use crate::branch::{
    Branch, BranchConfig, Effect, Input, Propagation, PropagationMode, Reply, ReplyToken, Request,
    StoredWrite, PEER_DEADLINE_MS,
};
use crate::clock::ClockScheme;
use crate::guarantees::Guarantees;
use crate::ids::{BranchId, CustomerId, WriteId};
use crate::money::Cents;
pub use crate::network::SplitMix64;
use crate::network::{cut_link_reason, Delay, Fault, LinkState, NetworkPlan};
use crate::record::{BranchRecord, EventResult, RunRecord};
use crate::scenario::Scenario;
use crate::schedule::Schedule;
use crate::session::Session;
use crate::trace::{AppliedCursor, Traced};
use crate::writes::WriteSet;

pub mod paced;
use paced::Happened;

/// A run that needs more events than this is reported as unfinished.
pub const MAX_EVENTS: u64 = 2_000_000;

/// The simulated time a run may take: one simulated day. Delays and fault
/// times are bounded well below it when plans are read
/// ([`crate::network::MAX_DELAY_MS`], [`crate::network::MAX_FAULT_AT_MS`]);
/// a run that still needs longer is reported, not asserted on.
pub const HORIZON_MS: u64 = 86_400_000;

/// Milliseconds to microseconds, saturating (times beyond the horizon are
/// reported as such, never wrapped).
fn us(ms: u64) -> u64 {
    ms.saturating_mul(1000)
}

/// Why a simulated run has no result: a normal answer for slow or huge
/// inputs, not a bug.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error(
        "the simulation did not finish within the horizon of {HORIZON_MS} ms of simulated time \
         ({unanswered} customer requests unanswered, {in_flight} propagations in flight): \
         delays or faults keep it from ending"
    )]
    DidNotFinish { unanswered: usize, in_flight: usize },
    #[error("the simulation did not finish within {events} events")]
    TooManyEvents { events: u64 },
    /// Its caller asked it to stop ([`run_stoppable`]): the client left,
    /// the server is stopping, or the caller's budget ran out.
    #[error("the simulation was stopped after {events} events")]
    Stopped { events: u64 },
}

/// How often (in processed events) a stoppable run asks whether to go on:
/// often enough to stop within a millisecond, rarely enough to cost nothing.
const STOP_CHECK_EVERY: u64 = 4096;

/// How to run a scenario in the simulator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    pub schedule: Schedule,
    pub clock_scheme: ClockScheme,
    pub propagation: PropagationMode,
    /// What every customer session asks for...
    pub guarantees: Guarantees,
    /// ...except these customers' sessions.
    pub per_customer: BTreeMap<CustomerId, Guarantees>,
    pub network: NetworkPlan,
    /// Seeds every delay and every loss.
    pub seed: u64,
    /// Delay between a customer and a branch, each way.
    pub client_delay: Delay,
    /// How long a branch lets a request wait for the writes its session requires.
    pub park_timeout_ms: u64,
    /// How often each branch pulls from its peers (0: only after restarts and heals).
    pub anti_entropy_ms: u64,
    /// How long a sender waits before resending a lost message.
    pub retry_ms: u64,
    /// With no customer answered for this long, repair every fault.
    pub repair_after_ms: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            schedule: Schedule::Sequential,
            clock_scheme: ClockScheme::default(),
            propagation: PropagationMode::default(),
            guarantees: Guarantees::COURSE,
            per_customer: BTreeMap::new(),
            network: NetworkPlan::default(),
            seed: 0,
            client_delay: Delay::Fixed(0),
            park_timeout_ms: 5_000,
            anti_entropy_ms: 250,
            retry_ms: 50,
            repair_after_ms: 30_000,
        }
    }
}

impl SimConfig {
    /// Per session of `scenario` (input entry order), what it asks for.
    pub fn per_session(&self, scenario: &Scenario) -> Vec<Guarantees> {
        crate::guarantees::per_session(scenario, self.guarantees, &self.per_customer)
    }
}

/// Everything that happened in a simulated run.
#[derive(Debug)]
pub struct SimRun {
    pub record: RunRecord,
    /// The branches at the end, for assertions on internal state.
    pub branches: BTreeMap<BranchId, Branch>,
    /// Every write some customer had acknowledged.
    pub acknowledged: Vec<WriteId>,
    /// Simulated time at the end, in microseconds.
    pub end_us: u64,
    /// How many events the simulator processed.
    pub events: u64,
}

/// A message arriving at a branch.
#[derive(Clone, Debug)]
enum BranchMsg {
    Request { token: ReplyToken, request: Request },
    Propagate { attempt: u64, propagation: Propagation },
    Ack { attempt: u64, ack: crate::branch::PropagationAck },
    Pull { pull: u64, from: BranchId, have: WriteSet, answer_back: bool },
    Pulled { pull: u64, from: BranchId, writes: Vec<Propagation> },
    PullFailed { pull: u64, to: BranchId },
    Expire { token: ReplyToken },
}

#[derive(Clone, Debug)]
enum Event {
    CustomerSend { run: usize },
    ToBranch { to: BranchId, incarnation: Option<u64>, msg: BranchMsg },
    ToCustomer { token: ReplyToken, reply: Reply },
    Retry { attempt: u64 },
    Tick { branch: BranchId },
    Fault(Fault),
}

/// A propagation on its way until acknowledged, or given up on.
#[derive(Clone, Debug)]
struct Attempt {
    from: BranchId,
    from_incarnation: u64,
    to: BranchId,
    propagation: Propagation,
    /// When its first try failed (simulated µs): the
    /// [`PEER_DEADLINE_MS`] counts from there.
    failing_since: Option<u64>,
}

#[derive(Clone, Debug)]
struct PendingPull {
    from: BranchId,
    from_incarnation: u64,
}

/// A customer request waiting for its answer.
#[derive(Clone, Debug)]
struct Outstanding {
    run: usize,
    event: usize,
    request: Request,
}

/// Where a run is: its customers' phases, the final repair and catch-up,
/// or done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Phases,
    Finishing,
    Done,
}

/// How far [`Sim::advance`] got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Simulated time reached the point asked for; more is to come.
    Running,
    /// Nothing happens until a scripted send is permitted (paced runs only).
    Waiting,
    /// Every customer is answered and every branch has every write.
    Finished,
}

/// What [`Sim::step_until`] did.
enum Stepped {
    Did,
    Later,
    Nothing,
}

/// Permits for scripted sends (a paced run, [`paced`]): a send due while
/// none is left waits in `held` (its run's index) until one is granted.
#[derive(Debug, Default)]
struct Gate {
    permits: u64,
    held: VecDeque<usize>,
}

struct Sim<'a> {
    scenario: Cow<'a, Scenario>,
    config: Cow<'a, SimConfig>,
    ids: Vec<BranchId>,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    events: BTreeMap<u64, Event>,
    rng: SplitMix64,
    links: LinkState,
    branches: BTreeMap<BranchId, Option<Branch>>,
    incarnation: BTreeMap<BranchId, u64>,
    stored: BTreeMap<BranchId, Vec<StoredWrite>>,
    /// The clock each branch reserved in its store (`Effect::ReserveClock`).
    clock_reserved: BTreeMap<BranchId, u64>,
    next_id: u64,
    attempts: BTreeMap<u64, Attempt>,
    /// Links `(from, to)` whose writes were given up on, until one gets
    /// through ([`PEER_DEADLINE_MS`]).
    unreachable: BTreeSet<(BranchId, BranchId)>,
    peer_tokens: BTreeMap<(BranchId, ReplyToken), u64>,
    pulls: BTreeMap<u64, PendingPull>,
    pull_tokens: BTreeMap<(BranchId, ReplyToken), (u64, BranchId)>,
    outstanding: BTreeMap<ReplyToken, Outstanding>,
    // Per phase:
    phase: Vec<crate::schedule::Run>,
    cursor: Vec<usize>,
    busy: Vec<bool>,
    sessions: Vec<Session>,
    results: Vec<Vec<Option<EventResult>>>,
    completion: u64,
    acknowledged: Vec<WriteId>,
    last_progress: u64,
    processed: u64,
    ticking: bool,
    // Resumable: where the run is.
    phases: Vec<Vec<crate::schedule::Run>>,
    phase_index: usize,
    phase_started: bool,
    stage: Stage,
    finish_limit: u64,
    // Paced runs only ([`paced`]):
    gate: Option<Gate>,
    /// Requests of the browser's customer, waiting for their answers.
    browser: BTreeMap<ReplyToken, Request>,
    browser_answers: Vec<(ReplyToken, Reply)>,
    /// What happened, with its simulated time (µs), when traced.
    trace: Option<Vec<(u64, Happened)>>,
    cursors: BTreeMap<BranchId, AppliedCursor>,
    /// Asked every [`STOP_CHECK_EVERY`] events, with the count so far:
    /// false stops the run ([`run_stoppable`]).
    keep_going: Option<&'a dyn Fn(u64) -> bool>,
}

/// Runs `scenario` to completion, or reports that it did not finish within
/// [`HORIZON_MS`] of simulated time or [`MAX_EVENTS`] events.
pub fn run(scenario: &Scenario, config: &SimConfig) -> Result<SimRun, SimError> {
    let sim = Sim::new(Cow::Borrowed(scenario), Cow::Borrowed(config));
    Ok(to_the_end(sim)?.0)
}

/// Like [`run`], asking `keep_going` every few thousand events (with the
/// count so far) whether to go on: once it says no, the run ends with
/// [`SimError::Stopped`]. For a server, whose client may leave, or whose
/// budget for one call is smaller than [`MAX_EVENTS`].
pub fn run_stoppable(
    scenario: &Scenario,
    config: &SimConfig,
    keep_going: &dyn Fn(u64) -> bool,
) -> Result<SimRun, SimError> {
    let mut sim = Sim::new(Cow::Borrowed(scenario), Cow::Borrowed(config));
    sim.keep_going = Some(keep_going);
    Ok(to_the_end(sim)?.0)
}

/// Like [`run`], and also what a watcher would have seen: every
/// [`Happened`] item with its simulated time (µs), in order, as a
/// [`paced::PacedSim`] reports them (the trace `bank sim --vector-clocks`
/// reads).
pub fn run_traced(
    scenario: &Scenario,
    config: &SimConfig,
) -> Result<(SimRun, Vec<(u64, Happened)>), SimError> {
    let mut sim = Sim::new(Cow::Borrowed(scenario), Cow::Borrowed(config));
    sim.trace = Some(Vec::new());
    to_the_end(sim)
}

/// Runs `sim`, unpaced and unbounded in time, to the end or a failure.
fn to_the_end(mut sim: Sim<'_>) -> Result<(SimRun, Vec<(u64, Happened)>), SimError> {
    match sim.advance(u64::MAX)? {
        Progress::Finished => {
            let trace = sim.trace.take().unwrap_or_default();
            Ok((sim.into_run(), trace))
        }
        Progress::Running | Progress::Waiting => Err(sim.did_not_finish()),
    }
}

impl<'a> Sim<'a> {
    fn new(scenario: Cow<'a, Scenario>, config: Cow<'a, SimConfig>) -> Sim<'a> {
        let ids = scenario.branch_ids();
        let branches = scenario
            .branches
            .iter()
            .map(|b| (b.id, Some(Branch::new(branch_config(b.id, b.balance, &ids, &config)))))
            .collect();
        let sessions = scenario
            .customers
            .iter()
            .zip(config.per_session(&scenario))
            .map(|(c, g)| Session::with_guarantees(c.id, g))
            .collect();
        let results = scenario.customers.iter().map(|c| vec![None; c.events.len()]).collect();
        let ticking = config.anti_entropy_ms > 0
            && (config.propagation == PropagationMode::Background || !config.network.is_perfect());
        let phases = config.schedule.phases(&scenario);
        let mut sim = Sim {
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            events: BTreeMap::new(),
            rng: SplitMix64::new(config.seed),
            links: LinkState::new(&config.network),
            branches,
            incarnation: ids.iter().map(|b| (*b, 0)).collect(),
            stored: BTreeMap::new(),
            clock_reserved: BTreeMap::new(),
            next_id: 0,
            attempts: BTreeMap::new(),
            unreachable: BTreeSet::new(),
            peer_tokens: BTreeMap::new(),
            pulls: BTreeMap::new(),
            pull_tokens: BTreeMap::new(),
            outstanding: BTreeMap::new(),
            phase: Vec::new(),
            cursor: Vec::new(),
            busy: Vec::new(),
            sessions,
            results,
            completion: 0,
            acknowledged: Vec::new(),
            last_progress: 0,
            processed: 0,
            ticking,
            phases,
            phase_index: 0,
            phase_started: false,
            stage: Stage::Phases,
            finish_limit: 0,
            gate: None,
            browser: BTreeMap::new(),
            browser_answers: Vec::new(),
            trace: None,
            cursors: BTreeMap::new(),
            keep_going: None,
            ids,
            scenario,
            config,
        };
        for f in &sim.config.network.faults.clone() {
            sim.schedule_at(us(f.at_ms), Event::Fault(f.fault.clone()));
        }
        if sim.ticking {
            for b in sim.ids.clone() {
                let first = us(sim.config.anti_entropy_ms);
                sim.schedule_at(first, Event::Tick { branch: b });
            }
        }
        sim
    }
}

fn branch_config(
    id: BranchId,
    balance: Cents,
    ids: &[BranchId],
    config: &SimConfig,
) -> BranchConfig {
    BranchConfig {
        id,
        peers: ids.to_vec(),
        initial_balance: balance,
        clock_scheme: config.clock_scheme,
        propagation: config.propagation,
    }
}

impl Sim<'_> {
    fn schedule_at(&mut self, at: u64, event: Event) {
        self.seq = self.seq.saturating_add(1);
        self.queue.push(Reverse((at, self.seq)));
        self.events.insert(self.seq, event);
    }

    fn schedule_in(&mut self, delay_us: u64, event: Event) {
        self.schedule_at(self.now.saturating_add(delay_us), event);
    }

    fn id(&mut self) -> u64 {
        self.next_id = self.next_id.saturating_add(1);
        self.next_id
    }

    fn link_delay(&mut self, a: BranchId, b: BranchId) -> u64 {
        self.links.delay(a, b).sample_us(&mut self.rng)
    }

    fn client_delay(&mut self) -> u64 {
        self.config.client_delay.sample_us(&mut self.rng)
    }

    /// Whether a message from `a` to `b` gets through right now.
    fn passes(&mut self, a: BranchId, b: BranchId) -> bool {
        let drop = self.links.drop_percent;
        !self.links.is_cut(a, b) && !self.rng.chance(drop)
    }

    fn is_up(&self, b: BranchId) -> bool {
        self.branches.get(&b).is_some_and(Option::is_some)
    }

    fn faults_active(&self) -> bool {
        self.links.cut_links().next().is_some() || self.branches.values().any(Option::is_none)
    }

    /// No write or request in flight, and no live branch holding one back.
    /// (Anti-entropy pulls may still be under way: they change nothing once
    /// the branches have converged.)
    fn settled(&self) -> bool {
        self.attempts.is_empty()
            && self.outstanding.is_empty()
            && self.browser.is_empty()
            && self
                .branches
                .values()
                .flatten()
                .all(|b| b.waiting() == (0, 0) && b.writes_in_flight() == 0)
    }

    fn converged(&self) -> bool {
        let mut sets = self.branches.values().map(|b| b.as_ref().map(Branch::applied));
        let Some(Some(first)) = sets.next() else { return false };
        sets.all(|s| s == Some(first))
    }

    fn did_not_finish(&self) -> SimError {
        SimError::DidNotFinish {
            unanswered: self.results.iter().flatten().filter(|r| r.is_none()).count(),
            in_flight: self.attempts.len(),
        }
    }

    /// Runs until simulated time `until` (µs), or until nothing can happen
    /// without the outside (a paced run waiting for a permit), or to the end:
    /// the customers' phases one after another, then the repair of every
    /// fault and the catch-up of every branch ([`Sim::begin_finish`]). Past
    /// the end, it still carries out what is sent in (a browser's request).
    fn advance(&mut self, until: u64) -> Result<Progress, SimError> {
        loop {
            match self.stage {
                Stage::Phases => {
                    if self.phase_index >= self.phases.len() {
                        self.begin_finish();
                        continue;
                    }
                    if !self.phase_started {
                        self.start_phase();
                    }
                    let done = self.busy.iter().all(|b| !b)
                        && self
                            .cursor
                            .iter()
                            .zip(&self.phase)
                            .all(|(c, run)| *c == run.events.len());
                    if done && (self.settled() || self.faults_active()) {
                        self.next_phase();
                        continue;
                    }
                    match self.step_until(until)? {
                        Stepped::Did => {}
                        Stepped::Later => return Ok(self.pause_at(until, Progress::Running)),
                        Stepped::Nothing if done => {
                            self.next_phase();
                            continue;
                        }
                        Stepped::Nothing
                            if self.gate.as_ref().is_some_and(|g| !g.held.is_empty()) =>
                        {
                            return Ok(self.pause_at(until, Progress::Waiting));
                        }
                        // Nothing left to happen, yet requests are unanswered.
                        Stepped::Nothing => return Err(self.did_not_finish()),
                    }
                    // A paced run's faults are its user's: they stay until the end.
                    let stalled_for = self.now.saturating_sub(self.last_progress);
                    if self.gate.is_none()
                        && stalled_for > us(self.config.repair_after_ms)
                        && self.faults_active()
                    {
                        self.repair_everything();
                        self.last_progress = self.now;
                    }
                }
                Stage::Finishing => {
                    // Once converged, ticks stop and the last pulls drain.
                    // Cheapest test first: `converged` compares every
                    // branch's write set (branches² origins), and the final
                    // anti-entropy round is branches² pulls, so testing it
                    // after each pull made the finish of a 100-branch run
                    // cost branches⁴ (90% of a debug run).
                    if self.pulls.is_empty() && self.settled() && self.converged() {
                        self.stage = Stage::Done;
                        continue;
                    }
                    match self.step_until(until)? {
                        Stepped::Did if self.processed >= self.finish_limit => {
                            return Err(SimError::TooManyEvents { events: self.processed });
                        }
                        Stepped::Did => {}
                        Stepped::Later => return Ok(self.pause_at(until, Progress::Running)),
                        Stepped::Nothing => return Err(self.did_not_finish()),
                    }
                }
                Stage::Done => match self.step_until(until)? {
                    Stepped::Did => {}
                    Stepped::Later | Stepped::Nothing => {
                        return Ok(self.pause_at(until, Progress::Finished))
                    }
                },
            }
        }
    }

    /// Simulated time is `until` now, unless already later (or unbounded).
    fn pause_at(&mut self, until: u64, progress: Progress) -> Progress {
        if until != u64::MAX {
            self.now = self.now.max(until);
        }
        progress
    }

    /// The next event, if it is due by `until`.
    fn step_until(&mut self, until: u64) -> Result<Stepped, SimError> {
        match self.queue.peek() {
            None => Ok(Stepped::Nothing),
            Some(Reverse((at, _))) if *at > until => Ok(Stepped::Later),
            Some(_) => Ok(if self.step()? { Stepped::Did } else { Stepped::Nothing }),
        }
    }

    fn start_phase(&mut self) {
        self.phase = self.phases[self.phase_index].clone();
        self.cursor = vec![0; self.phase.len()];
        self.busy = vec![false; self.phase.len()];
        for r in 0..self.phase.len() {
            let d = self.client_delay();
            self.schedule_in(d, Event::CustomerSend { run: r });
            self.busy[r] = true;
        }
        self.phase_started = true;
    }

    fn next_phase(&mut self) {
        self.phase_index += 1;
        self.phase_started = false;
    }

    /// Customers are done: repair every fault, then run until every branch
    /// has every write and nothing is in flight.
    fn begin_finish(&mut self) {
        // Faults planned for after the customers are done are moot.
        self.events.retain(|_, e| !matches!(e, Event::Fault(_)));
        self.repair_everything();
        self.finish_limit = self.processed.saturating_add(MAX_EVENTS);
        self.stage = Stage::Finishing;
    }

    /// The record of the run so far (whole once it is [`Progress::Finished`]).
    fn record(&self) -> RunRecord {
        let branches = self.branches.values().flatten().map(branch_record).collect();
        RunRecord::from_answers(&self.scenario, self.results.clone(), branches)
    }

    /// The finished run, taken apart.
    fn into_run(mut self) -> SimRun {
        let branches: BTreeMap<BranchId, Branch> = std::mem::take(&mut self.branches)
            .into_iter()
            .map(|(id, b)| (id, b.expect("repaired")))
            .collect();
        let record = RunRecord::from_answers(
            &self.scenario,
            std::mem::take(&mut self.results),
            branches.values().map(branch_record).collect(),
        );
        SimRun {
            record,
            branches,
            acknowledged: self.acknowledged,
            end_us: self.now,
            events: self.processed,
        }
    }

    /// The branches crashed right now.
    fn down(&self) -> Vec<BranchId> {
        self.ids.iter().copied().filter(|b| !self.is_up(*b)).collect()
    }

    /// Notes that `fault` was just applied, with the network as it is now.
    fn note_network(&mut self, fault: Fault, planned_at_ms: Option<u64>) {
        if self.trace.is_some() {
            let (down, links) = (self.down(), self.links.clone());
            self.note(Happened::Network { fault, planned_at_ms, down, links });
        }
    }

    /// Notes `happened` at the current time, when the run is traced.
    fn note(&mut self, happened: Happened) {
        if let Some(trace) = &mut self.trace {
            trace.push((self.now, happened));
        }
    }

    fn repair_everything(&mut self) {
        self.links.heal_all();
        for b in self.ids.clone() {
            if !self.is_up(b) {
                self.restart(b);
            }
        }
        // Everyone catches up with everyone.
        for b in self.ids.clone() {
            self.feed(b, Input::AntiEntropy);
        }
    }

    /// Processes the next event; false when there is none. An event past
    /// the horizon, or one too many, ends the run with an error.
    fn step(&mut self) -> Result<bool, SimError> {
        if self.processed >= 2 * MAX_EVENTS {
            return Err(SimError::TooManyEvents { events: self.processed });
        }
        if self.processed.is_multiple_of(STOP_CHECK_EVERY)
            && self.keep_going.is_some_and(|go_on| !go_on(self.processed))
        {
            return Err(SimError::Stopped { events: self.processed });
        }
        let Some(Reverse((at, seq))) = self.queue.pop() else { return Ok(false) };
        let Some(event) = self.events.remove(&seq) else { return Ok(true) }; // cancelled
        if at > us(HORIZON_MS) {
            return Err(self.did_not_finish());
        }
        self.now = self.now.max(at);
        self.processed += 1;
        match event {
            Event::CustomerSend { run } => self.customer_send(run),
            Event::ToCustomer { token, reply } => self.customer_receive(token, reply),
            Event::ToBranch { to, incarnation, msg } => self.deliver(to, incarnation, msg),
            Event::Retry { attempt } => {
                if let Some(a) = self.attempts.get(&attempt).cloned() {
                    if self.incarnation[&a.from] == a.from_incarnation && self.is_up(a.from) {
                        self.transmit(attempt);
                    } else {
                        self.attempts.remove(&attempt);
                    }
                }
            }
            Event::Tick { branch } => {
                let idle = self.all_customers_done() && self.settled() && self.converged();
                if !idle {
                    if self.is_up(branch) {
                        self.feed(branch, Input::AntiEntropy);
                    }
                    let every = us(self.config.anti_entropy_ms);
                    self.schedule_in(every, Event::Tick { branch });
                }
            }
            Event::Fault(fault) => {
                self.apply_fault(fault.clone());
                self.note_network(fault, Some(self.now / 1000));
            }
        }
        Ok(true)
    }

    fn all_customers_done(&self) -> bool {
        self.results.iter().all(|r| r.iter().all(Option::is_some))
    }

    fn apply_fault(&mut self, fault: Fault) {
        match fault {
            Fault::Crash(b) => self.crash(BranchId(b)),
            Fault::Restart(b) => {
                if !self.is_up(BranchId(b)) {
                    self.restart(BranchId(b));
                    self.feed(BranchId(b), Input::AntiEntropy);
                }
            }
            other => {
                let healed: Vec<BranchId> = match &other {
                    Fault::Heal([a, b]) => vec![BranchId(*a), BranchId(*b)],
                    Fault::Rejoin(b) => vec![BranchId(*b)],
                    _ => vec![],
                };
                self.links.apply(&other, &self.ids);
                for b in healed {
                    if self.is_up(b) {
                        self.feed(b, Input::AntiEntropy);
                    }
                }
            }
        }
    }

    fn crash(&mut self, b: BranchId) {
        if self.branches.get_mut(&b).and_then(Option::take).is_none() {
            return;
        }
        *self.incarnation.get_mut(&b).expect("known branch") += 1;
        // Customers waiting on it see their call fail.
        let waiting: Vec<(ReplyToken, Outstanding)> = self
            .outstanding
            .iter()
            .filter(|(_, o)| o.request.branch == b)
            .map(|(t, o)| (*t, o.clone()))
            .collect();
        let browser: Vec<(ReplyToken, Request)> = self
            .browser
            .iter()
            .filter(|(_, r)| r.branch == b)
            .map(|(t, r)| (*t, r.clone()))
            .collect();
        let waiting = waiting.into_iter().map(|(t, o)| (t, o.request)).chain(browser);
        for (token, request) in waiting {
            let reply =
                Reply::unanswered(&request, format!("branch {} crashed before answering", b.0));
            let d = self.client_delay();
            self.schedule_in(d, Event::ToCustomer { token, reply });
        }
        self.attempts.retain(|_, a| a.from != b);
        self.pulls.retain(|_, p| p.from != b);
        // Calls the crashed branch was holding open fail: their senders retry.
        let held: Vec<(ReplyToken, u64)> = self
            .peer_tokens
            .iter()
            .filter(|((at, _), _)| *at == b)
            .map(|((_, t), a)| (*t, *a))
            .collect();
        for (token, attempt) in held {
            self.peer_tokens.remove(&(b, token));
            self.try_failed(attempt, format!("branch {} did not take it: it crashed", b.0));
        }
        let pulls: Vec<(ReplyToken, u64)> = self
            .pull_tokens
            .iter()
            .filter(|((at, _), _)| *at == b)
            .map(|((_, t), (p, _))| (*t, *p))
            .collect();
        for (token, pull) in pulls {
            self.pull_tokens.remove(&(b, token));
            self.fail_pull(pull, b);
        }
    }

    fn restart(&mut self, b: BranchId) {
        let spec = self.scenario.branches.iter().find(|s| s.id == b).expect("known branch");
        let config = branch_config(b, spec.balance, &self.ids, &self.config);
        let stored = self.stored.get(&b).cloned().unwrap_or_default();
        let reserved = self.clock_reserved.get(&b).copied().unwrap_or(0);
        let branch = Branch::recover_at(config, stored, reserved);
        // Writes recovered from the store are not news to a watcher.
        self.cursors.insert(b, AppliedCursor::at(branch.applied_log().len()));
        self.branches.insert(b, Some(branch));
    }

    fn customer_send(&mut self, r: usize) {
        let run = &self.phase[r];
        if self.cursor[r] >= run.events.len() {
            self.busy[r] = false;
            return;
        }
        if let Some(gate) = &mut self.gate {
            if gate.permits == 0 {
                gate.held.push_back(r);
                return;
            }
            gate.permits -= 1;
        }
        let e = run.events[self.cursor[r]];
        let session = run.session;
        let event = &self.scenario.customers[session].events[e];
        let request = self.sessions[session].request(event.id, event.branch, event.op);
        let to = event.branch;
        if self.trace.is_some() {
            let sent = Traced::Sent {
                session: session as u32,
                from_browser: false,
                request: request.clone(),
            };
            self.note(Happened::Traced(sent));
        }
        let token = ReplyToken(self.id());
        self.outstanding.insert(token, Outstanding { run: r, event: e, request: request.clone() });
        self.busy[r] = true;
        let d = self.client_delay();
        self.schedule_in(
            d,
            Event::ToBranch { to, incarnation: None, msg: BranchMsg::Request { token, request } },
        );
    }

    fn customer_receive(&mut self, token: ReplyToken, reply: Reply) {
        let Some(o) = self.outstanding.remove(&token) else {
            if self.browser.remove(&token).is_some() {
                let answered =
                    Traced::Answered { session: 0, from_browser: true, reply: reply.clone() };
                self.note(Happened::Traced(answered));
                self.browser_answers.push((token, reply));
            }
            return;
        };
        let session = self.phase[o.run].session;
        if self.trace.is_some() {
            let answered = Traced::Answered {
                session: session as u32,
                from_browser: false,
                reply: reply.clone(),
            };
            self.note(Happened::Traced(answered));
        }
        self.sessions[session].observe(&reply);
        if let Some(w) = reply.write {
            self.acknowledged.push(w);
        }
        let event = self.scenario.customers[session].events[o.event].id;
        self.results[session][o.event] = Some(EventResult {
            event,
            op: reply.op,
            branch: reply.branch,
            outcome: reply.outcome,
            customer_clock: o.request.clock,
            completion: self.completion,
            write: reply.write,
            observed: reply.observed,
        });
        self.completion += 1;
        self.last_progress = self.now;
        self.cursor[o.run] += 1;
        if self.cursor[o.run] < self.phase[o.run].events.len() {
            let d = self.client_delay();
            self.schedule_in(d, Event::CustomerSend { run: o.run });
        } else {
            self.busy[o.run] = false;
        }
    }

    /// Sends (or resends) a propagation attempt over its link.
    fn transmit(&mut self, attempt: u64) {
        let a = self.attempts[&attempt].clone();
        if self.passes(a.from, a.to) {
            let d = self.link_delay(a.from, a.to);
            let msg = BranchMsg::Propagate { attempt, propagation: a.propagation };
            self.schedule_in(d, Event::ToBranch { to: a.to, incarnation: None, msg });
        } else if self.links.is_cut(a.from, a.to) {
            self.try_failed(attempt, cut_link_reason(a.from, a.to));
        } else {
            self.try_failed(attempt, format!("branch {} did not take it: it was lost", a.to.0));
        }
    }

    /// A try of `attempt` failed: it is tried again after `retry_ms`, or,
    /// once its peer has failed it for [`PEER_DEADLINE_MS`] (at once if the
    /// peer is unreachable), given up on, and its branch is told — the rule
    /// the real cluster's links keep.
    fn try_failed(&mut self, attempt: u64, why: String) {
        let now = self.now;
        let Some(a) = self.attempts.get_mut(&attempt) else { return };
        let since = *a.failing_since.get_or_insert(now);
        let link = (a.from, a.to);
        if !self.unreachable.contains(&link) && now - since < us(PEER_DEADLINE_MS) {
            let retry = us(self.config.retry_ms);
            self.schedule_in(retry, Event::Retry { attempt });
            return;
        }
        let Some(a) = self.attempts.remove(&attempt) else { return };
        self.unreachable.insert(link);
        if self.incarnation[&a.from] == a.from_incarnation {
            let writes = vec![a.propagation.write];
            self.feed(a.from, Input::Undelivered { to: a.to, writes, why });
        }
    }

    fn deliver(&mut self, to: BranchId, incarnation: Option<u64>, msg: BranchMsg) {
        if incarnation.is_some_and(|i| i != self.incarnation[&to]) {
            return; // addressed to a branch life that ended in a crash
        }
        if !self.is_up(to) {
            match msg {
                BranchMsg::Request { token, .. } => {
                    let request = self.outstanding.get(&token).map(|o| &o.request);
                    if let Some(request) = request.or_else(|| self.browser.get(&token)).cloned() {
                        let reply = Reply::unanswered(&request, format!("branch {} is down", to.0));
                        let d = self.client_delay();
                        self.schedule_in(d, Event::ToCustomer { token, reply });
                    }
                }
                BranchMsg::Propagate { attempt, .. } => {
                    self.try_failed(attempt, format!("branch {} did not take it: it is down", to.0))
                }
                BranchMsg::Pull { pull, .. } => self.fail_pull(pull, to),
                _ => {}
            }
            return;
        }
        let input = match msg {
            BranchMsg::Request { token, request } => Input::Request { token, request },
            // Its sender crashed meanwhile (its attempts went with it): the
            // call died with the process, as a cluster's does.
            BranchMsg::Propagate { attempt, .. } if !self.attempts.contains_key(&attempt) => return,
            BranchMsg::Propagate { attempt, propagation } => {
                let token = ReplyToken(self.id());
                self.peer_tokens.insert((to, token), attempt);
                Input::Propagate { token, propagation }
            }
            BranchMsg::Ack { attempt, ack } => {
                let Some(a) = self.attempts.remove(&attempt) else { return };
                // A call got through: the peer is reachable again.
                self.unreachable.remove(&(a.from, a.to));
                Input::Ack(ack)
            }
            BranchMsg::Pull { pull, from, have, answer_back } => {
                let token = ReplyToken(self.id());
                self.pull_tokens.insert((to, token), (pull, from));
                Input::Pull { token, from, have, answer_back }
            }
            BranchMsg::Pulled { pull, from, writes } => {
                if self.pulls.remove(&pull).is_none() {
                    return;
                }
                Input::Pulled { from, writes }
            }
            BranchMsg::PullFailed { pull, to: peer } => {
                if self.pulls.remove(&pull).is_none() {
                    return;
                }
                Input::PullFailed { to: peer }
            }
            BranchMsg::Expire { token } => Input::Expire { token },
        };
        self.feed(to, input);
    }

    fn fail_pull(&mut self, pull: u64, peer: BranchId) {
        if let Some(p) = self.pulls.get(&pull).cloned() {
            let retry = us(self.config.retry_ms);
            let msg = BranchMsg::PullFailed { pull, to: peer };
            self.schedule_in(
                retry,
                Event::ToBranch { to: p.from, incarnation: Some(p.from_incarnation), msg },
            );
        }
    }

    /// Feeds `input` to branch `b` and carries out its effects.
    fn feed(&mut self, b: BranchId, input: Input) {
        let Some(branch) = self.branches.get_mut(&b).and_then(Option::as_mut) else { return };
        let effects = branch.handle(input);
        let incarnation = self.incarnation[&b];
        for effect in effects {
            match effect {
                Effect::Reply { token, reply } => {
                    let d = self.client_delay();
                    self.schedule_in(d, Event::ToCustomer { token, reply });
                }
                Effect::Send { to, propagation } => {
                    let attempt = self.id();
                    self.attempts.insert(
                        attempt,
                        Attempt {
                            from: b,
                            from_incarnation: incarnation,
                            to,
                            propagation,
                            failing_since: None,
                        },
                    );
                    self.transmit(attempt);
                }
                Effect::AckPeer { token, ack } => {
                    let Some(attempt) = self.peer_tokens.remove(&(b, token)) else { continue };
                    let Some(a) = self.attempts.get(&attempt).cloned() else { continue };
                    if self.passes(b, a.from) {
                        let d = self.link_delay(b, a.from);
                        let msg = BranchMsg::Ack { attempt, ack };
                        self.schedule_in(
                            d,
                            Event::ToBranch {
                                to: a.from,
                                incarnation: Some(a.from_incarnation),
                                msg,
                            },
                        );
                    } else {
                        // The acknowledgement is lost: the sender resends (a
                        // duplicate), as a lost call.
                        let why = if self.links.is_cut(b, a.from) {
                            cut_link_reason(b, a.from)
                        } else {
                            format!("branch {} did not take it: its answer was lost", b.0)
                        };
                        self.try_failed(attempt, why);
                    }
                }
                Effect::Persist(write) => self.stored.entry(b).or_default().push(write),
                Effect::ReserveClock { up_to } => {
                    let reserved = self.clock_reserved.entry(b).or_default();
                    *reserved = (*reserved).max(up_to);
                }
                // Only `handle_storing` refuses; the simulator's stores never fail.
                Effect::RefusePeer { .. } => {}
                Effect::Parked { token, .. } => {
                    let wait = us(self.config.park_timeout_ms);
                    let msg = BranchMsg::Expire { token };
                    self.schedule_in(
                        wait,
                        Event::ToBranch { to: b, incarnation: Some(incarnation), msg },
                    );
                }
                Effect::Pull { to, have, answer_back } => {
                    let pull = self.id();
                    self.pulls.insert(pull, PendingPull { from: b, from_incarnation: incarnation });
                    if self.passes(b, to) {
                        let d = self.link_delay(b, to);
                        let msg = BranchMsg::Pull { pull, from: b, have, answer_back };
                        self.schedule_in(d, Event::ToBranch { to, incarnation: None, msg });
                    } else {
                        self.fail_pull(pull, to);
                    }
                }
                Effect::PullReply { token, writes } => {
                    let Some((pull, requester)) = self.pull_tokens.remove(&(b, token)) else {
                        continue;
                    };
                    let Some(p) = self.pulls.get(&pull).cloned() else { continue };
                    if self.passes(b, requester) {
                        let d = self.link_delay(b, requester);
                        let msg = BranchMsg::Pulled { pull, from: b, writes };
                        self.schedule_in(
                            d,
                            Event::ToBranch {
                                to: requester,
                                incarnation: Some(p.from_incarnation),
                                msg,
                            },
                        );
                    } else {
                        self.fail_pull(pull, b);
                    }
                }
                Effect::Logged(entry) => {
                    if let (Some(trace), Some(Some(branch))) =
                        (&mut self.trace, self.branches.get(&b))
                    {
                        let cursor = self.cursors.entry(b).or_default();
                        trace.push((self.now, Happened::Traced(cursor.logged(branch, entry))));
                    }
                }
                // The simulated branches are honest, so this does not happen
                // but for a busy branch: a refused delivery is retried like a
                // lost one, a refused pull fails.
                Effect::PeerRefused { token: Some(token), .. } => {
                    if let Some(attempt) = self.peer_tokens.remove(&(b, token)) {
                        let retry = us(self.config.retry_ms);
                        self.schedule_in(retry, Event::Retry { attempt });
                    } else if let Some((pull, _)) = self.pull_tokens.remove(&(b, token)) {
                        self.fail_pull(pull, b);
                    }
                }
                Effect::PeerRefused { token: None, .. } => {}
            }
        }
    }
}

/// The [`BranchRecord`] of a branch's current state.
pub fn branch_record(branch: &Branch) -> BranchRecord {
    BranchRecord {
        id: branch.id(),
        balance: branch.balance(),
        clock: branch.clock(),
        write_sets: branch.write_sets().clone(),
        log: branch.log().to_vec(),
        applied: branch.applied_log().to_vec(),
    }
}
