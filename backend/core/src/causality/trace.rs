//! The happened-before of a run's trace: its lanes and messages, read out
//! of the [`Traced`] items a cluster or the simulator reported, and the
//! vector clock of every event.
//!
//! A *lane* is a process of the space-time diagram: every branch, every
//! scripted customer session, and the browser's customer. Every traced item
//! happens on one lane: a branch's log entry on its branch, a customer's
//! send and answer on its session. A lane's events are ordered as the trace
//! lists them.
//!
//! A *message* links the event that sent it to the event that received it:
//!
//! | message | sent by | received by |
//! |---|---|---|
//! | [`MessageKind::Request`] | the customer's [`Traced::Sent`] | the branch's [`LogKind::Request`] |
//! | [`MessageKind::Reply`] | the branch's [`LogKind::Response`] | the customer's [`Traced::Answered`] |
//! | [`MessageKind::Propagate`] | [`LogKind::PropagateSent`] (a push or a pull's answer) | the peer's [`LogKind::PropagateReceived`] |
//! | [`MessageKind::Ack`] | the peer, once it has received and applied the write | [`LogKind::PropagateAcked`] |
//!
//! The trace names no message, so a receive is matched to its send by what
//! both ends log: the two ends, the customer and event, and, where the
//! receiving end recorded it, the clock the message carried (a propagation's
//! and a reply's clock is its sender's log entry's). Of the sends that fit,
//! the *earliest* is taken. That choice is never wrong about causality: a
//! resent message (a lost propagation tried again) is not logged again, and
//! a resend happens after the send it repeats, so the earliest logged send
//! that fits is in the receive's past whichever copy arrived. An
//! acknowledgement names no entry either (a branch that already has the
//! write acknowledges a copy at once), but every one is sent after the
//! peer's first receive of the sender's propagation and after its first
//! apply of the write: it is matched to the later of the two. A reply
//! no branch logged (a customer's "branch unreachable") and a pull request
//! (its sender logs nothing) have no send in the trace, so they add no
//! edge: the happened-before here is what the trace shows, never more.
//!
//! Lamport clocks of the course's rule sets miss some of these edges on
//! purpose: the course's customers do not carry a branch's clock to the
//! next branch, and under `p2b` an acknowledgement does not move the clock.
//! So a branch event can follow another through a customer and still have a
//! smaller Lamport clock. The vector clocks here count every edge.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::{Causality, CausalityError, EventRef, VectorClock};
use crate::ids::{BranchId, CustomerId, EventId};
use crate::log::LogKind;
use crate::money::Cents;
use crate::trace::Traced;

/// A process of the run: where an event happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lane {
    Branch(BranchId),
    /// A scripted customer session, by its 0-based entry index in the input.
    Session(u32),
    /// The person at the browser, acting as a customer.
    Browser,
}

impl Lane {
    /// The lane of a traced item.
    pub fn of(item: &Traced) -> Lane {
        match item {
            Traced::Logged { branch, .. } => Lane::Branch(*branch),
            Traced::Sent { from_browser: true, .. }
            | Traced::Answered { from_browser: true, .. } => Lane::Browser,
            Traced::Sent { session, .. } | Traced::Answered { session, .. } => {
                Lane::Session(*session)
            }
        }
    }
}

impl fmt::Display for Lane {
    /// `b2` (branch 2), `c0` (session 0), `you` (the browser), as the
    /// space-time diagram's compact lane names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lane::Branch(b) => write!(f, "b{}", b.0),
            Lane::Session(s) => write!(f, "c{s}"),
            Lane::Browser => f.write_str("you"),
        }
    }
}

/// What a message does (see the table in the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    Request,
    Reply,
    Propagate,
    Ack,
}

/// One message edge, by trace index: `send` happened before `receive`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message {
    pub kind: MessageKind,
    pub send: usize,
    pub receive: usize,
}

/// An event's causal past and future, by trace index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cone {
    /// Every event that happened before it.
    pub past: BTreeSet<usize>,
    /// Every event it happened before.
    pub future: BTreeSet<usize>,
}

/// The lanes, messages and vector clocks of one trace.
#[derive(Clone, Debug)]
pub struct TraceCausality {
    /// The node table: entry `l` of every clock is lane `lanes[l]`.
    lanes: Vec<Lane>,
    /// Per trace index, its event (`None` for an item on no lane).
    events: Vec<Option<EventRef>>,
    /// Per lane, per event, its trace index.
    indices: Vec<Vec<usize>>,
    messages: Vec<Message>,
    causality: Causality,
}

/// The ends and subject of a message: what a receive looks for among the
/// sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Request {
        to: BranchId,
        customer: CustomerId,
        event: EventId,
    },
    Reply {
        from: BranchId,
        customer: CustomerId,
        event: EventId,
    },
    Propagate {
        from: BranchId,
        to: BranchId,
        customer: CustomerId,
        event: EventId,
    },
    /// `at` received `from`'s propagation of the write.
    Received {
        at: BranchId,
        from: BranchId,
        customer: CustomerId,
        event: EventId,
    },
    /// `at` applied the write (from whichever peer).
    Applied {
        at: BranchId,
        customer: CustomerId,
        event: EventId,
    },
}

/// What a send's message carried that its receiver records: its clock, and
/// for a reply its outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    clock: u64,
    failed: bool,
    balance: Option<Cents>,
}

impl Stamp {
    fn clock(clock: u64) -> Stamp {
        Stamp { clock, failed: false, balance: None }
    }
}

/// How a receive picks among the sends that fit its key.
#[derive(Clone, Copy, Debug)]
enum Want {
    /// The earliest.
    Any,
    /// The earliest with this stamp, else the earliest.
    Prefer(Stamp),
    /// The earliest with this stamp, or none.
    Exactly(Stamp),
}

impl TraceCausality {
    /// Reads the happened-before of a trace. `trace` holds, in order, every
    /// item of the run; `None` stands for an item on no lane (a network
    /// change), so that indices stay those of the caller's trace.
    pub fn of<'a>(
        trace: impl IntoIterator<Item = Option<&'a Traced>>,
    ) -> Result<TraceCausality, CausalityError> {
        let mut by_lane: BTreeMap<Lane, Vec<usize>> = BTreeMap::new();
        let mut located: Vec<Option<(Lane, usize)>> = Vec::new();
        let mut sends: BTreeMap<Key, Vec<(usize, Stamp)>> = BTreeMap::new();
        let mut messages = Vec::new();
        for (index, item) in trace.into_iter().enumerate() {
            let Some(item) = item else {
                located.push(None);
                continue;
            };
            let lane = Lane::of(item);
            let on_lane = by_lane.entry(lane).or_default();
            located.push(Some((lane, on_lane.len())));
            on_lane.push(index);
            let mut receive = |kind, key: Key, want: Want| {
                if let Some(send) = earliest(sends.get(&key), want) {
                    messages.push(Message { kind, send, receive: index });
                }
            };
            match item {
                Traced::Sent { request: r, .. } => {
                    let key = Key::Request { to: r.branch, customer: r.customer, event: r.event };
                    sends.entry(key).or_default().push((index, Stamp::clock(r.clock)));
                }
                Traced::Answered { reply: r, .. } => {
                    let key = Key::Reply { from: r.branch, customer: r.customer, event: r.event };
                    let stamp = Stamp {
                        clock: r.clock,
                        failed: !r.outcome.is_success(),
                        balance: Some(r.outcome.balance()),
                    };
                    receive(MessageKind::Reply, key, Want::Exactly(stamp));
                }
                Traced::Logged { branch, entry, .. } => {
                    let (at, customer, event) = (*branch, entry.customer, entry.event);
                    let carried = match entry.step.message {
                        Some(clock) => Want::Prefer(Stamp::clock(clock)),
                        None => Want::Any,
                    };
                    let peer = entry.peer.unwrap_or(at);
                    match entry.kind {
                        LogKind::Request => {
                            let key = Key::Request { to: at, customer, event };
                            receive(MessageKind::Request, key, carried);
                        }
                        LogKind::Response => {
                            let key = Key::Reply { from: at, customer, event };
                            let stamp = Stamp {
                                clock: entry.clock,
                                failed: entry.failed,
                                balance: entry.balance,
                            };
                            sends.entry(key).or_default().push((index, stamp));
                        }
                        LogKind::PropagateSent => {
                            let key = Key::Propagate { from: at, to: peer, customer, event };
                            sends.entry(key).or_default().push((index, Stamp::clock(entry.clock)));
                        }
                        LogKind::PropagateReceived => {
                            let key = Key::Propagate { from: peer, to: at, customer, event };
                            receive(MessageKind::Propagate, key, carried);
                            let key = Key::Received { at, from: peer, customer, event };
                            sends.entry(key).or_default().push((index, Stamp::clock(entry.clock)));
                        }
                        LogKind::PropagateAcked => {
                            let got = Key::Received { at: peer, from: at, customer, event };
                            let applied = Key::Applied { at: peer, customer, event };
                            let got = earliest(sends.get(&got), Want::Any);
                            let applied = earliest(sends.get(&applied), Want::Any);
                            // Both on the peer's lane: the later one has the
                            // other in its past.
                            if let Some(send) = got.max(applied) {
                                messages.push(Message {
                                    kind: MessageKind::Ack,
                                    send,
                                    receive: index,
                                });
                            }
                        }
                        LogKind::PropagateExecuted => {
                            let key = Key::Applied { at, customer, event };
                            sends.entry(key).or_default().push((index, Stamp::clock(entry.clock)));
                        }
                        LogKind::Execute => {}
                    }
                }
            }
        }
        let lanes: Vec<Lane> = by_lane.keys().copied().collect();
        let indices: Vec<Vec<usize>> = by_lane.into_values().collect();
        let events: Vec<Option<EventRef>> = located
            .into_iter()
            .map(|at| {
                at.map(|(lane, seq)| EventRef {
                    lane: lanes.binary_search(&lane).expect("every lane is in the table"),
                    seq,
                })
            })
            .collect();
        let edges: Vec<(EventRef, EventRef)> = messages
            .iter()
            .filter_map(|m: &Message| Some((events[m.send]?, events[m.receive]?)))
            .collect();
        let lengths: Vec<usize> = indices.iter().map(Vec::len).collect();
        let causality = Causality::compute(&lengths, &edges)?;
        Ok(TraceCausality { lanes, events, indices, messages, causality })
    }

    /// The lanes, in clock-entry order: branches by id, then sessions, then
    /// the browser.
    pub fn lanes(&self) -> &[Lane] {
        &self.lanes
    }

    /// Every message edge found, in the order of their receives.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The lane and place of the item at trace index `index` (`None` for an
    /// item on no lane, or past the end).
    pub fn event(&self, index: usize) -> Option<EventRef> {
        self.events.get(index).copied().flatten()
    }

    /// The trace index of `event`.
    pub fn index(&self, event: EventRef) -> Option<usize> {
        self.indices.get(event.lane)?.get(event.seq).copied()
    }

    /// The vector clock of the item at trace index `index`.
    pub fn clock(&self, index: usize) -> Option<&VectorClock> {
        self.causality.clock(self.event(index)?)
    }

    /// The clocks and happened-before, by lane and place.
    pub fn causality(&self) -> &Causality {
        &self.causality
    }

    /// The item at `a` happened before the one at `b` (trace indices).
    pub fn happened_before(&self, a: usize, b: usize) -> bool {
        match (self.event(a), self.event(b)) {
            (Some(a), Some(b)) => self.causality.happened_before(a, b),
            _ => false,
        }
    }

    /// Both are events, they differ, and neither happened before the other.
    pub fn concurrent(&self, a: usize, b: usize) -> bool {
        match (self.event(a), self.event(b)) {
            (Some(a), Some(b)) => self.causality.concurrent(a, b),
            _ => false,
        }
    }

    /// The causal past and future of the item at trace index `index`
    /// (empty for an item on no lane).
    pub fn cone(&self, index: usize) -> Cone {
        let Some(event) = self.event(index) else { return Cone::default() };
        let indices = |events: Vec<EventRef>| -> BTreeSet<usize> {
            events.into_iter().filter_map(|e| self.index(e)).collect()
        };
        Cone {
            past: indices(self.causality.past(event)),
            future: indices(self.causality.future(event)),
        }
    }

    /// `clock` with its lanes named, zeros left out: `[b1:3 b2:1 c0:2]`.
    pub fn label(&self, clock: &VectorClock) -> String {
        let entries: Vec<String> = self
            .lanes
            .iter()
            .enumerate()
            .filter(|&(l, _)| clock.get(l) > 0)
            .map(|(l, lane)| format!("{lane}:{}", clock.get(l)))
            .collect();
        format!("[{}]", entries.join(" "))
    }
}

/// The earliest of `sends` that `want` accepts.
fn earliest(sends: Option<&Vec<(usize, Stamp)>>, want: Want) -> Option<usize> {
    let sends = sends?;
    let stamped = |stamp: Stamp| sends.iter().find(|(_, s)| *s == stamp).map(|(i, _)| *i);
    match want {
        Want::Any => sends.first().map(|(i, _)| *i),
        Want::Prefer(stamp) => stamped(stamp).or_else(|| sends.first().map(|(i, _)| *i)),
        Want::Exactly(stamp) => stamped(stamp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::branch::PropagationMode;
    use crate::op::Op;
    use crate::scenario::{BranchSpec, CustomerScript, InputShape, Scenario, ScriptEvent};
    use crate::schedule::Schedule;
    use crate::sim::paced::Happened;
    use crate::sim::{self, SimConfig};

    /// Branches 1 and 2; customer `c` (session `c - 1`) runs its events,
    /// each `(op, branch)`.
    fn bank(customers: &[&[(Op, u64)]]) -> Scenario {
        let mut next = 0;
        Scenario {
            shape: InputShape::EventsWithBranch,
            branches: (1..=2)
                .map(|id| BranchSpec { id: BranchId(id), balance: Cents(0), line: 0 })
                .collect(),
            customers: customers
                .iter()
                .enumerate()
                .map(|(c, events)| CustomerScript {
                    id: CustomerId(c as u64 + 1),
                    line: 0,
                    events: events
                        .iter()
                        .map(|&(op, branch)| {
                            next += 1;
                            ScriptEvent { id: EventId(next), op, branch: BranchId(branch), line: 0 }
                        })
                        .collect(),
                })
                .collect(),
            warnings: Vec::new(),
        }
    }

    fn traced(scenario: &Scenario, config: &SimConfig) -> (Vec<Option<Traced>>, TraceCausality) {
        let (_, happened) = sim::run_traced(scenario, config).unwrap();
        let items: Vec<Option<Traced>> = happened
            .into_iter()
            .map(|(_, h)| match h {
                Happened::Traced(t) => Some(t),
                Happened::Network { .. } => None,
            })
            .collect();
        let causality = TraceCausality::of(items.iter().map(Option::as_ref)).unwrap();
        (items, causality)
    }

    /// The trace index of the first item `is_it` accepts.
    fn find(items: &[Option<Traced>], is_it: impl Fn(&Traced) -> bool) -> usize {
        items.iter().position(|t| t.as_ref().is_some_and(&is_it)).expect("in the trace")
    }

    fn logged(kind: LogKind, at: u64, event: u64) -> impl Fn(&Traced) -> bool {
        move |t| {
            matches!(t, Traced::Logged { branch, entry, .. }
                if entry.kind == kind && branch.0 == at && entry.event.0 == event)
        }
    }

    #[test]
    fn a_deposit_then_a_query_elsewhere_is_one_chain_through_the_customer() {
        // Customer 1 deposits at branch 1 (propagated to 2, acknowledged,
        // then answered), then queries branch 2.
        let scenario = bank(&[&[(Op::Deposit(Cents(500)), 1), (Op::Query, 2)]]);
        let config = SimConfig { propagation: PropagationMode::Sequential, ..SimConfig::default() };
        let (items, c) = traced(&scenario, &config);
        assert_eq!(
            c.lanes(),
            [Lane::Branch(BranchId(1)), Lane::Branch(BranchId(2)), Lane::Session(0)]
        );
        let kinds: Vec<MessageKind> = c.messages().iter().map(|m| m.kind).collect();
        use MessageKind::*;
        assert_eq!(kinds, [Request, Propagate, Ack, Reply, Request, Reply]);
        let deposit = find(&items, logged(LogKind::Execute, 1, 1));
        let received = find(&items, logged(LogKind::PropagateReceived, 2, 1));
        let acked = find(&items, logged(LogKind::PropagateAcked, 1, 1));
        let query = find(&items, logged(LogKind::Request, 2, 2));
        assert!(c.happened_before(deposit, received) && c.happened_before(received, acked));
        assert!(
            c.happened_before(deposit, query),
            "through the customer's answer and next request"
        );
        // Branch 1: request, execute, propagate sent, acked, response;
        // branch 2: propagate received, executed, then this request;
        // the customer: sent, answered, sent.
        assert_eq!(c.label(c.clock(query).unwrap()), "[b1:5 b2:3 c0:3]");
        let cone = c.cone(received);
        assert!(cone.past.contains(&deposit) && cone.future.contains(&acked));
        assert!(cone.future.contains(&query) && !cone.past.contains(&received));
        // Every event of this run is in the cone of the propagation's
        // receive, or concurrent with it.
        for (i, item) in items.iter().enumerate() {
            let related = i == received || cone.past.contains(&i) || cone.future.contains(&i);
            assert_eq!(!related, c.concurrent(i, received), "{i}: {item:?}");
        }
    }

    #[test]
    fn two_deposits_at_two_branches_are_concurrent_though_their_lamport_clocks_agree() {
        // Two customers deposit at once, at different branches; the writes
        // propagate in the background.
        let scenario = bank(&[&[(Op::Deposit(Cents(100)), 1)], &[(Op::Deposit(Cents(200)), 2)]]);
        let config = SimConfig {
            schedule: Schedule::Concurrent,
            propagation: PropagationMode::Background,
            ..SimConfig::default()
        };
        let (items, c) = traced(&scenario, &config);
        let one = find(&items, logged(LogKind::Execute, 1, 1));
        let two = find(&items, logged(LogKind::Execute, 2, 2));
        let clock = |i: usize| match &items[i] {
            Some(Traced::Logged { entry, .. }) => entry.clock,
            _ => unreachable!("a log entry"),
        };
        assert_eq!(clock(one), clock(two), "Lamport clocks cannot tell these apart");
        assert!(
            c.concurrent(one, two),
            "{} {}",
            c.label(c.clock(one).unwrap()),
            c.label(c.clock(two).unwrap())
        );
        // Each branch's receive of the other's write follows both writes.
        let at_two = find(&items, logged(LogKind::PropagateReceived, 2, 1));
        let at_one = find(&items, logged(LogKind::PropagateReceived, 1, 2));
        for write in [one, two] {
            assert!(c.happened_before(write, at_two) && c.happened_before(write, at_one));
        }
        assert!(c.concurrent(at_one, at_two));
    }
}
