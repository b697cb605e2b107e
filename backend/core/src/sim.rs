//! A deterministic, in-memory driver for a whole bank.
//!
//! The simulator runs the same [`Branch`] state machines as the real gRPC
//! cluster, but the "network" is a list of messages in flight and a seeded
//! generator picks which one is delivered next. The same seed gives the same
//! run, so a failing schedule can be replayed exactly. Property tests use it
//! to explore many interleavings; nothing here knows about tokio.

use std::collections::BTreeMap;

use crate::branch::{Branch, BranchConfig, Effect, Input, PropagationMode, Reply, ReplyToken};
use crate::clock::ClockScheme;
use crate::ids::BranchId;
use crate::record::{BranchRecord, EventResult, RunRecord};
use crate::scenario::Scenario;
use crate::schedule::Schedule;
use crate::session::Session;

/// How to run a scenario in the simulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimConfig {
    pub schedule: Schedule,
    pub clock_scheme: ClockScheme,
    pub propagation: PropagationMode,
    /// Seeds the choice of which message is delivered next.
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            schedule: Schedule::Sequential,
            clock_scheme: ClockScheme::default(),
            propagation: PropagationMode::default(),
            seed: 0,
        }
    }
}

/// A small, well-known generator (SplitMix64): deterministic, no dependency.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// A message on the simulated network.
#[derive(Clone, Debug)]
enum Message {
    ToBranch(BranchId, Input),
    /// A reply travelling back to the customer session that sent `token`.
    ToCustomer(ReplyToken, Reply),
}

/// Everything that happened in a simulated run.
#[derive(Debug)]
pub struct SimRun {
    pub record: RunRecord,
    /// The branches at the end, for assertions on internal state.
    pub branches: BTreeMap<BranchId, Branch>,
    /// Every effect every branch produced, in order, tagged with the branch.
    pub effects: Vec<(BranchId, Effect)>,
}

/// Runs `scenario` to completion. Panics only on a bug in the core (a run
/// that stalls with work left), which the tests want to see.
pub fn run(scenario: &Scenario, config: &SimConfig) -> SimRun {
    let ids = scenario.branch_ids();
    let mut branches: BTreeMap<BranchId, Branch> = scenario
        .branches
        .iter()
        .map(|b| {
            let branch = Branch::new(BranchConfig {
                id: b.id,
                peers: ids.clone(),
                initial_balance: b.balance,
                clock_scheme: config.clock_scheme,
                propagation: config.propagation,
            });
            (b.id, branch)
        })
        .collect();
    let mut rng = SplitMix64::new(config.seed);
    let mut sessions: Vec<Session> = scenario.customers.iter().map(|c| Session::new(c.id)).collect();
    let mut results: Vec<Vec<Option<EventResult>>> =
        scenario.customers.iter().map(|c| vec![None; c.events.len()]).collect();
    let mut effects_seen = Vec::new();
    let mut completion = 0u64;
    let mut next_token = 0u64;
    // Which (session, event) a customer token belongs to.
    let mut outstanding: BTreeMap<ReplyToken, (usize, usize, u64)> = BTreeMap::new();
    // Peer tokens: which branch must receive the acknowledgement.
    let mut peer_tokens: BTreeMap<ReplyToken, BranchId> = BTreeMap::new();

    for phase in config.schedule.phases(scenario) {
        // Per run: the next position in its event list, and whether it waits for an answer.
        let mut cursor = vec![0usize; phase.len()];
        let mut busy = vec![false; phase.len()];
        let mut network: Vec<Message> = Vec::new();
        loop {
            // Possible moves: each idle run with events left may send; each
            // message in flight may be delivered.
            let ready: Vec<usize> =
                (0..phase.len()).filter(|r| !busy[*r] && cursor[*r] < phase[*r].events.len()).collect();
            let moves = ready.len() + network.len();
            if moves == 0 {
                break;
            }
            let pick = rng.below(moves);
            if pick < ready.len() {
                let r = ready[pick];
                let run = &phase[r];
                let e = run.events[cursor[r]];
                let event = &scenario.customers[run.session].events[e];
                let request = sessions[run.session].request(event.id, event.branch, event.op);
                let token = ReplyToken(next_token);
                next_token += 1;
                outstanding.insert(token, (r, e, request.clock));
                busy[r] = true;
                network.push(Message::ToBranch(event.branch, Input::Request { token, request }));
                continue;
            }
            let message = network.swap_remove(pick - ready.len());
            match message {
                Message::ToBranch(to, input) => {
                    let branch = branches.get_mut(&to).expect("scenario validated branch ids");
                    for effect in branch.handle(input) {
                        effects_seen.push((to, effect.clone()));
                        match effect {
                            Effect::Reply { token, reply } => network.push(Message::ToCustomer(token, reply)),
                            Effect::Send { to: peer, propagation } => {
                                let token = ReplyToken(next_token);
                                next_token += 1;
                                peer_tokens.insert(token, to);
                                network.push(Message::ToBranch(peer, Input::Propagate { token, propagation }));
                            }
                            Effect::AckPeer { token, ack } => {
                                let origin = peer_tokens.remove(&token).expect("ack for a known propagation");
                                network.push(Message::ToBranch(origin, Input::Ack(ack)));
                            }
                            Effect::Logged(_) => {}
                        }
                    }
                }
                Message::ToCustomer(token, reply) => {
                    let (r, e, customer_clock) = outstanding.remove(&token).expect("reply to a known request");
                    let session = phase[r].session;
                    sessions[session].observe(&reply);
                    results[session][e] = Some(EventResult {
                        event: reply.event,
                        op: reply.op,
                        branch: reply.branch,
                        outcome: reply.outcome,
                        customer_clock,
                        completion,
                    });
                    completion += 1;
                    busy[r] = false;
                    cursor[r] += 1;
                }
            }
        }
        assert!(
            busy.iter().all(|b| !b) && cursor.iter().zip(&phase).all(|(c, run)| *c == run.events.len()),
            "simulated phase stalled with requests unanswered: a bug in the branch core"
        );
    }

    let record = RunRecord::from_answers(scenario, results, branches.values().map(branch_record).collect());
    SimRun { record, branches, effects: effects_seen }
}

/// The [`BranchRecord`] of a branch's current state.
pub fn branch_record(branch: &Branch) -> BranchRecord {
    BranchRecord {
        id: branch.id(),
        balance: branch.balance(),
        clock: branch.clock(),
        write_sets: branch.write_sets().clone(),
        log: branch.log().to_vec(),
    }
}
