//! Vector clocks and happened-before for a recorded run.
//!
//! A run is drawn as *lanes* (a branch, a customer session), each a sequence
//! of events in the order they happened there, and *messages*, each from
//! the event that sent it to the event that received it. Lamport's
//! happened-before (`a → b`) is the smallest order that holds every lane's
//! sequence and every message edge, closed under transitivity.
//!
//! A vector clock gives each event one counter per lane: entry `l` of
//! event `e`'s clock counts the events of lane `l` in `e`'s causal past,
//! `e` included. It is computed the way a running process would: an event
//! starts from its lane predecessor's clock, takes the entrywise maximum
//! with the clock of every message it receives, and ticks its own entry.
//! Then `a → b` exactly when `a`'s own entry is at most `b`'s entry for
//! that lane (and `a ≠ b`), and two events are concurrent when neither
//! happened before the other.
//!
//! Unlike the Lamport clocks of [`crate::clock`] (one number, which the
//! course's formats fix), vector clocks *characterise* causality: a smaller
//! Lamport clock does not mean "happened before"; a smaller vector clock
//! does. The visualizer's space-time diagram shows both.
//!
//! An event's *causal past* is every event that happened before it, its
//! *causal future* every event it happened before; together they are its
//! light cone ([`Causality::past`], [`Causality::future`]). Everything
//! outside the cone is concurrent with it: no message chain links the two,
//! so either could have happened first.
//!
//! [`trace`] reads the lanes and messages out of what a run reported (the
//! same trace the visualizer plays), so the CLI and the page show the same
//! clocks.

use std::fmt;

pub mod trace;

use thiserror::Error;

/// An event: its lane, and its place on that lane (0 = the lane's first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventRef {
    pub lane: usize,
    pub seq: usize,
}

/// One counter per lane.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct VectorClock(pub Vec<u64>);

impl VectorClock {
    /// Entry `lane` (0 past the end).
    pub fn get(&self, lane: usize) -> u64 {
        self.0.get(lane).copied().unwrap_or(0)
    }

    /// Every entry at most `other`'s.
    pub fn le(&self, other: &VectorClock) -> bool {
        (0..self.0.len().max(other.0.len())).all(|l| self.get(l) <= other.get(l))
    }

    fn join(&mut self, other: &VectorClock) {
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            *mine = (*mine).max(*theirs);
        }
    }
}

impl fmt::Display for VectorClock {
    /// `[2,0,1]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self.0.iter().map(u64::to_string).collect();
        write!(f, "[{}]", entries.join(","))
    }
}

/// Why a run's vector clocks cannot be computed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CausalityError {
    #[error("message {message}: its {end} event (lane {lane}, #{seq}) is not in the run")]
    UnknownEvent { message: usize, end: &'static str, lane: usize, seq: usize },
    #[error("message {message}: sent and received by the same event (lane {lane}, #{seq})")]
    SelfMessage { message: usize, lane: usize, seq: usize },
    #[error(
        "the messages form a cycle: lane {lane}, #{seq} waits for a message \
         sent after it (a receive recorded before its send)"
    )]
    Cycle { lane: usize, seq: usize },
}

/// The vector clock of every event of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Causality {
    /// Per lane, per event.
    clocks: Vec<Vec<VectorClock>>,
}

impl Causality {
    /// The clocks of a run with `lane_lengths[l]` events on lane `l` and
    /// `messages` as (send, receive) pairs. An event may send and receive
    /// any number of messages.
    pub fn compute(
        lane_lengths: &[usize],
        messages: &[(EventRef, EventRef)],
    ) -> Result<Causality, CausalityError> {
        let lanes = lane_lengths.len();
        let known = |e: EventRef| e.lane < lanes && e.seq < lane_lengths[e.lane];
        // For every event, the sends of the messages it receives.
        let mut receives: Vec<Vec<Vec<EventRef>>> =
            lane_lengths.iter().map(|&n| vec![Vec::new(); n]).collect();
        for (message, &(send, receive)) in messages.iter().enumerate() {
            for (end, e) in [("send", send), ("receive", receive)] {
                if !known(e) {
                    return Err(CausalityError::UnknownEvent {
                        message,
                        end,
                        lane: e.lane,
                        seq: e.seq,
                    });
                }
            }
            if send == receive {
                return Err(CausalityError::SelfMessage {
                    message,
                    lane: send.lane,
                    seq: send.seq,
                });
            }
            receives[receive.lane][receive.seq].push(send);
        }
        // Every lane advances as far as the messages it waits for allow;
        // a round in which no lane advances means a cycle.
        let mut clocks: Vec<Vec<VectorClock>> =
            lane_lengths.iter().map(|&n| Vec::with_capacity(n)).collect();
        loop {
            let mut advanced = false;
            let mut done = true;
            for lane in 0..lanes {
                while clocks[lane].len() < lane_lengths[lane] {
                    let seq = clocks[lane].len();
                    let sends = &receives[lane][seq];
                    if sends.iter().any(|s| clocks[s.lane].len() <= s.seq) {
                        break;
                    }
                    let mut clock =
                        clocks[lane].last().cloned().unwrap_or(VectorClock(vec![0; lanes]));
                    for s in sends {
                        let sent = clocks[s.lane][s.seq].clone();
                        clock.join(&sent);
                    }
                    clock.0[lane] = seq as u64 + 1;
                    clocks[lane].push(clock);
                    advanced = true;
                }
                done &= clocks[lane].len() == lane_lengths[lane];
            }
            if done {
                return Ok(Causality { clocks });
            }
            if !advanced {
                let lane = (0..lanes).find(|&l| clocks[l].len() < lane_lengths[l]).unwrap_or(0);
                return Err(CausalityError::Cycle { lane, seq: clocks[lane].len() });
            }
        }
    }

    /// The vector clock of `event` (`None` if it is not in the run).
    pub fn clock(&self, event: EventRef) -> Option<&VectorClock> {
        self.clocks.get(event.lane)?.get(event.seq)
    }

    /// `a → b`: `a` is in `b`'s causal past (never for `a == b`).
    pub fn happened_before(&self, a: EventRef, b: EventRef) -> bool {
        match (self.clock(a), self.clock(b)) {
            (Some(_), Some(cb)) => a != b && (a.seq as u64) < cb.get(a.lane),
            _ => false,
        }
    }

    /// Neither happened before the other (and they differ).
    pub fn concurrent(&self, a: EventRef, b: EventRef) -> bool {
        a != b && !self.happened_before(a, b) && !self.happened_before(b, a)
    }

    /// How many lanes the run has.
    pub fn lanes(&self) -> usize {
        self.clocks.len()
    }

    /// `event`'s causal past: every event that happened before it, lane by
    /// lane in lane order. Read straight off its clock: entry `l` counts
    /// the past's events on lane `l`, and they are that lane's first ones.
    pub fn past(&self, event: EventRef) -> Vec<EventRef> {
        let Some(clock) = self.clock(event) else { return Vec::new() };
        (0..self.lanes())
            .flat_map(|lane| (0..clock.get(lane) as usize).map(move |seq| EventRef { lane, seq }))
            .filter(|&e| e != event)
            .collect()
    }

    /// `event`'s causal future: every event it happened before. On each
    /// lane, once one event has `event` in its past, every later one has
    /// too (lane order), so the future is a suffix of every lane, found by
    /// binary search on the clocks' entry for `event`'s lane.
    pub fn future(&self, event: EventRef) -> Vec<EventRef> {
        if self.clock(event).is_none() {
            return Vec::new();
        }
        let mut future = Vec::new();
        for (lane, clocks) in self.clocks.iter().enumerate() {
            let first = clocks.partition_point(|c| c.get(event.lane) <= event.seq as u64);
            let first = if lane == event.lane { event.seq + 1 } else { first };
            future.extend((first..clocks.len()).map(|seq| EventRef { lane, seq }));
        }
        future
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn e(lane: usize, seq: usize) -> EventRef {
        EventRef { lane, seq }
    }

    #[test]
    fn a_message_orders_its_send_before_everything_after_its_receive() {
        // Lane 0: a0 a1; lane 1: b0 b1 b2; a0 sends to b1.
        let c = Causality::compute(&[2, 3], &[(e(0, 0), e(1, 1))]).unwrap();
        assert_eq!(c.clock(e(1, 1)).unwrap().to_string(), "[1,2]");
        assert_eq!(c.clock(e(1, 2)).unwrap().to_string(), "[1,3]");
        assert_eq!(c.clock(e(0, 1)).unwrap().to_string(), "[2,0]");
        assert!(c.happened_before(e(0, 0), e(1, 2)));
        assert!(c.happened_before(e(1, 0), e(1, 1)), "a lane's own order");
        assert!(c.concurrent(e(0, 1), e(1, 2)));
        assert!(c.concurrent(e(1, 0), e(0, 0)));
        assert!(!c.happened_before(e(0, 0), e(0, 0)));
        assert!(c.clock(e(0, 0)).unwrap().le(c.clock(e(1, 1)).unwrap()));
    }

    #[test]
    fn a_chain_of_messages_is_one_cone_and_a_lone_event_is_concurrent_with_it() {
        // Lane 0 sends to lane 1 (a0 → b0), lane 1 on to lane 2 (b1 → c0);
        // lane 3's only event d0 talks to nobody.
        let c =
            Causality::compute(&[1, 2, 1, 1], &[(e(0, 0), e(1, 0)), (e(1, 1), e(2, 0))]).unwrap();
        assert_eq!(c.clock(e(2, 0)).unwrap().to_string(), "[1,2,1,0]");
        assert!(c.happened_before(e(0, 0), e(2, 0)), "through lane 1");
        assert_eq!(c.past(e(2, 0)), vec![e(0, 0), e(1, 0), e(1, 1)]);
        assert_eq!(c.future(e(0, 0)), vec![e(1, 0), e(1, 1), e(2, 0)]);
        assert_eq!(c.past(e(1, 0)), vec![e(0, 0)]);
        assert_eq!(c.future(e(1, 0)), vec![e(1, 1), e(2, 0)]);
        assert!(c.past(e(3, 0)).is_empty() && c.future(e(3, 0)).is_empty());
        assert!(c.concurrent(e(3, 0), e(0, 0)) && c.concurrent(e(3, 0), e(2, 0)));
        assert!(c.past(e(9, 0)).is_empty() && c.future(e(9, 0)).is_empty(), "not in the run");
    }

    #[test]
    fn two_writes_at_different_lanes_are_concurrent_until_they_are_exchanged() {
        // Lanes 0 and 1 each write (#0), send it to the other (#1) and
        // receive the other's (#2). The writes are concurrent; each receive
        // follows both writes. A Lamport clock would give both writes 1 and
        // could not say whether they are ordered; the vectors [1,0] and
        // [0,1] say they are not.
        let c = Causality::compute(&[3, 3], &[(e(0, 1), e(1, 2)), (e(1, 1), e(0, 2))]).unwrap();
        assert_eq!(c.clock(e(0, 0)).unwrap().to_string(), "[1,0]");
        assert_eq!(c.clock(e(1, 0)).unwrap().to_string(), "[0,1]");
        assert!(c.concurrent(e(0, 0), e(1, 0)));
        assert!(c.concurrent(e(0, 2), e(1, 2)), "each received, neither told the other");
        for w in [e(0, 0), e(1, 0)] {
            assert!(c.happened_before(w, e(0, 2)) && c.happened_before(w, e(1, 2)));
        }
        assert_eq!(c.clock(e(0, 2)).unwrap().to_string(), "[3,2]");
    }

    #[test]
    fn impossible_runs_are_refused_with_the_event() {
        let cycle = Causality::compute(&[2, 2], &[(e(0, 1), e(1, 0)), (e(1, 1), e(0, 0))]);
        assert!(matches!(cycle, Err(CausalityError::Cycle { .. })), "{cycle:?}");
        let unknown = Causality::compute(&[1], &[(e(0, 0), e(0, 5))]);
        assert_eq!(
            unknown.unwrap_err().to_string(),
            "message 0: its receive event (lane 0, #5) is not in the run"
        );
        let own = Causality::compute(&[1], &[(e(0, 0), e(0, 0))]);
        assert!(matches!(own, Err(CausalityError::SelfMessage { .. })));
    }

    /// A random run as a simulator would produce it: events happen one at a
    /// time on random lanes; each either sends a message to a random other
    /// lane, receives the oldest message waiting for its lane, or is local.
    fn run(steps: &[(usize, u8, usize)], lanes: usize) -> (Vec<usize>, Vec<(EventRef, EventRef)>) {
        let mut lengths = vec![0usize; lanes];
        let mut waiting: Vec<(EventRef, usize)> = Vec::new();
        let mut messages = Vec::new();
        for &(lane, action, to) in steps {
            let lane = lane % lanes;
            let event = e(lane, lengths[lane]);
            lengths[lane] += 1;
            match action % 3 {
                0 if lanes > 1 => waiting.push((event, (lane + 1 + to % (lanes - 1)) % lanes)),
                1 => {
                    if let Some(at) = waiting.iter().position(|w| w.1 == lane) {
                        messages.push((waiting.remove(at).0, event));
                    }
                }
                _ => {}
            }
        }
        (lengths, messages)
    }

    /// Happened-before by definition: reachability over lane order and
    /// message edges.
    fn reachable(
        lengths: &[usize],
        messages: &[(EventRef, EventRef)],
    ) -> BTreeSet<(EventRef, EventRef)> {
        let events: Vec<EventRef> =
            lengths.iter().enumerate().flat_map(|(l, &n)| (0..n).map(move |s| e(l, s))).collect();
        let next = |x: EventRef| {
            let mut out: Vec<EventRef> =
                messages.iter().filter(|m| m.0 == x).map(|m| m.1).collect();
            if x.seq + 1 < lengths[x.lane] {
                out.push(e(x.lane, x.seq + 1));
            }
            out
        };
        let mut pairs = BTreeSet::new();
        for &a in &events {
            let mut stack = next(a);
            while let Some(b) = stack.pop() {
                if pairs.insert((a, b)) {
                    stack.extend(next(b));
                }
            }
        }
        pairs
    }

    proptest::proptest! {
        /// On random runs, `happened_before` is exactly reachability, and
        /// the clocks grow along every edge.
        #[test]
        fn happened_before_is_causality(
            lanes in 1usize..5,
            steps in proptest::collection::vec((0usize..5, 0u8..3, 0usize..5), 0..40),
        ) {
            let (lengths, messages) = run(&steps, lanes);
            let c = Causality::compute(&lengths, &messages).unwrap();
            let truth = reachable(&lengths, &messages);
            let events: Vec<EventRef> = lengths
                .iter()
                .enumerate()
                .flat_map(|(l, &n)| (0..n).map(move |s| e(l, s)))
                .collect();
            for &a in &events {
                for &b in &events {
                    proptest::prop_assert_eq!(
                        c.happened_before(a, b),
                        truth.contains(&(a, b)),
                        "{:?} → {:?}", a, b
                    );
                }
            }
            for (s, r) in &messages {
                proptest::prop_assert!(c.clock(*s).unwrap().le(c.clock(*r).unwrap()));
            }
            for &a in &events {
                let past: BTreeSet<EventRef> = c.past(a).into_iter().collect();
                let future: BTreeSet<EventRef> = c.future(a).into_iter().collect();
                for &b in &events {
                    proptest::prop_assert_eq!(past.contains(&b), truth.contains(&(b, a)));
                    proptest::prop_assert_eq!(future.contains(&b), truth.contains(&(a, b)));
                }
            }
        }
    }
}
