//! The recorded history of a lab and what the bank looked like at any point of it.
//!
//! [`Trace`] keeps every [`LabEvent`] the `Watch` stream delivered since the
//! last `loaded` event, and indexes the messages in it: a [`Flight`] is one
//! message (customer request, reply, propagation, acknowledgement) with the
//! trace index of the event that sent it and of the event that received it.
//!
//! The playback *cursor* counts trace events applied: cursor `c` shows the
//! bank after `trace[..c]`. [`World::at`] is that replay (balances, clocks,
//! write sets, last answers); [`Trace::in_flight`] lists the messages sent
//! but not yet received at `c`. Both are pure functions of `(trace, c)`, so
//! stepping back is just a smaller cursor.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bank_core::Guarantees;
use bank_proto::convert::guarantees_or_course;
use bank_proto::{
    customer_reply, lab_event::Event, CustomerWrites, LabEvent, LogKind, NetworkState, Operation,
    ScenarioSummary,
};

/// One end of a message: a branch, a scripted customer session, or the browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    Branch(u64),
    /// A scripted customer, by session (its 0-based entry index in the scenario).
    Customer(u32),
    /// The person at the browser, acting as a customer.
    Browser,
}

/// What a message does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlightKind {
    /// customer → branch
    Request,
    /// branch → customer
    Reply,
    /// branch → branch: a write
    Propagate,
    /// branch → branch: "applied your write"
    Ack,
}

/// How a message is drawn (its color and legend entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageClass {
    Deposit,
    Withdraw,
    Query,
    Propagate,
    Ack,
}

impl MessageClass {
    pub const ALL: [MessageClass; 5] = [
        MessageClass::Deposit,
        MessageClass::Withdraw,
        MessageClass::Query,
        MessageClass::Propagate,
        MessageClass::Ack,
    ];

    /// The CSS class suffix and legend label.
    pub fn name(self) -> &'static str {
        match self {
            MessageClass::Deposit => "deposit",
            MessageClass::Withdraw => "withdraw",
            MessageClass::Query => "query",
            MessageClass::Propagate => "propagate",
            MessageClass::Ack => "ack",
        }
    }
}

/// One message between two nodes, located in the trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Flight {
    /// Index in [`Trace::flights`]; stable for the life of the trace.
    pub id: usize,
    pub kind: FlightKind,
    pub from: Node,
    pub to: Node,
    pub customer_id: u64,
    pub event_id: u64,
    /// An [`Operation`] as on the wire.
    pub operation: i32,
    pub amount_cents: i64,
    /// Replies: the balance answered.
    pub balance_cents: Option<i64>,
    /// Replies: the request failed.
    pub failed: bool,
    /// The sender's Lamport clock when it sent the message.
    pub clock: u64,
    /// Trace index of the event that sent it.
    pub start: usize,
    /// Trace index of the event that received it; `None` while it is still
    /// travelling at the end of the recorded trace.
    pub end: Option<usize>,
}

impl Flight {
    /// Sent by `trace[..cursor]` and not yet received.
    pub fn in_flight_at(&self, cursor: usize) -> bool {
        self.start < cursor && self.end.is_none_or(|end| end >= cursor)
    }

    pub fn class(&self) -> MessageClass {
        match self.kind {
            FlightKind::Propagate => MessageClass::Propagate,
            FlightKind::Ack => MessageClass::Ack,
            FlightKind::Request | FlightKind::Reply => match Operation::try_from(self.operation) {
                Ok(Operation::Deposit) => MessageClass::Deposit,
                Ok(Operation::Withdraw) => MessageClass::Withdraw,
                _ => MessageClass::Query,
            },
        }
    }

    /// How far along its edge the message is drawn, from 0 (at the sender)
    /// to 1 (at the receiver), at *visual time* `t`.
    ///
    /// Visual time is the cursor as a real number: at rest it equals the
    /// cursor; while playing it sweeps `[c - 0.5, c + 0.5]` during the tick
    /// that shows cursor `c`, so a message moves continuously from its send
    /// event to its receive event, one trace event per tick. A message still
    /// travelling at the end of the trace creeps towards 90 %.
    pub fn progress(&self, t: f64, trace_len: usize) -> f64 {
        let start = self.start as f64 + 0.5;
        match self.end {
            Some(end) => ((t - start) / (end - self.start) as f64).clamp(0.0, 1.0),
            None => {
                let span = (trace_len.max(self.start + 1) - self.start) as f64 + 1.0;
                ((t - start) / span).clamp(0.0, 0.9)
            }
        }
    }
}

/// What [`Trace::push`] did with an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// A `loaded` event: the old history is gone, this one starts.
    Started,
    Appended,
    /// Already recorded (a `Watch` reconnect replays the history).
    Duplicate,
}

/// Everything recorded since the last `loaded` event, with its messages indexed.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    events: Vec<LabEvent>,
    flights: Vec<Flight>,
    /// Counts histories: bumped by every `loaded` event.
    generation: u64,
    /// Flights without an end yet, oldest first.
    open: Vec<usize>,
    /// Who sent the request a branch logged, by (branch, customer id, event id),
    /// so that the branch's response flies back to the right node.
    routes: HashMap<(u64, u64, u64), Node>,
    /// Propagations received but not (yet) applied, as (receiver, sender,
    /// customer, event, trace index): a duplicate is acknowledged without being
    /// executed, so its acknowledgement leaves from the receive event.
    unacked: Vec<(u64, u64, u64, u64, usize)>,
    /// Trace index of the last `finished` event.
    finished: Option<usize>,
    /// Trace index of the newest `network` event.
    last_network: Option<usize>,
    /// Every customer id a message carried.
    message_customers: BTreeSet<u64>,
}

impl Trace {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one event from the `Watch` stream.
    pub fn push(&mut self, event: LabEvent) -> Pushed {
        if matches!(event.event, Some(Event::Loaded(_))) {
            let generation = self.generation + 1;
            *self = Trace { generation, ..Trace::default() };
        } else if (event.seq as usize) < self.events.len() {
            return Pushed::Duplicate;
        }
        let index = self.events.len();
        self.index_messages(index, &event);
        if matches!(event.event, Some(Event::Finished(_))) {
            self.finished = Some(index);
        }
        if matches!(event.event, Some(Event::Network(_))) {
            self.last_network = Some(index);
        }
        self.events.push(event);
        if index == 0 && self.scenario().is_some() {
            Pushed::Started
        } else {
            Pushed::Appended
        }
    }

    /// The network as the newest event leaves it (what a fault injected
    /// now acts on, wherever the cursor is): `None` before any change.
    pub fn network_now(&self) -> Option<&NetworkState> {
        match self.events.get(self.last_network?)?.event.as_ref()? {
            Event::Network(changed) => changed.state.as_ref(),
            _ => None,
        }
    }

    pub fn events(&self) -> &[LabEvent] {
        &self.events
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Bumped by every new history (load or reset).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The scenario of this history (its first event).
    pub fn scenario(&self) -> Option<&ScenarioSummary> {
        match self.events.first().and_then(|e| e.event.as_ref()) {
            Some(Event::Loaded(summary)) => Some(summary),
            _ => None,
        }
    }

    /// The text of this history's scenario, as it was loaded (by this page,
    /// or by the lab's owner for a follower); `None` before a load.
    pub fn scenario_text(&self) -> Option<&str> {
        self.scenario().map(|s| s.text.as_str()).filter(|t| !t.is_empty())
    }

    /// The guarantees every customer of this history's scenario asks for
    /// (but its per-customer ones); `None` before a scenario is loaded.
    pub fn scenario_guarantees(&self) -> Option<Guarantees> {
        self.scenario().map(|s| guarantees_or_course(s.guarantees))
    }

    /// The course output, once every scripted event was answered: the trace
    /// index of the `finished` event and the text.
    pub fn output(&self) -> Option<(usize, &str)> {
        let i = self.finished?;
        match &self.events[i].event {
            Some(Event::Finished(f)) => Some((i, f.output_json.as_str())),
            _ => None,
        }
    }

    /// Every customer id a message of this history carried, in order.
    pub fn message_customers(&self) -> impl Iterator<Item = u64> + '_ {
        self.message_customers.iter().copied()
    }

    /// Whether the browser acted as a customer in this history.
    pub fn browser_used(&self) -> bool {
        self.flights.iter().any(|f| f.from == Node::Browser || f.to == Node::Browser)
    }

    pub fn flights(&self) -> &[Flight] {
        &self.flights
    }

    /// Messages sent by `trace[..cursor]` and not yet received.
    pub fn in_flight(&self, cursor: usize) -> impl Iterator<Item = &Flight> {
        self.flights.iter().filter(move |f| f.in_flight_at(cursor))
    }

    /// An event that changes nothing on screen: the server's play state.
    pub fn is_quiet(&self, index: usize) -> bool {
        matches!(self.events.get(index).and_then(|e| e.event.as_ref()), Some(Event::State(_)))
    }

    /// The cursor one visible step after `cursor`: quiet events on the way are
    /// applied along with the next visible one. `None` if nothing visible is
    /// recorded after `cursor`.
    pub fn step_from(&self, cursor: usize) -> Option<usize> {
        (cursor..self.len()).find(|&i| !self.is_quiet(i)).map(|i| i + 1)
    }

    /// The cursor one visible step before `cursor` (quiet events skipped).
    pub fn back_from(&self, cursor: usize) -> usize {
        let mut c = cursor.min(self.len()).saturating_sub(1);
        while c > 0 && self.is_quiet(c - 1) {
            c -= 1;
        }
        c
    }

    /// The message sent or received by the event at `index`, if any.
    pub fn flight_of_event(&self, index: usize) -> Option<&Flight> {
        self.flights
            .iter()
            .find(|f| f.start == index)
            .or_else(|| self.flights.iter().find(|f| f.end == Some(index)))
    }

    fn index_messages(&mut self, index: usize, event: &LabEvent) {
        match &event.event {
            Some(Event::CustomerSent(sent)) => {
                let Some(req) = &sent.request else { return };
                let from =
                    if sent.from_browser { Node::Browser } else { Node::Customer(sent.session) };
                self.start(Flight {
                    kind: FlightKind::Request,
                    from,
                    to: Node::Branch(req.branch_id),
                    customer_id: req.customer_id,
                    event_id: req.event_id,
                    operation: req.operation,
                    amount_cents: req.amount_cents,
                    clock: req.clock,
                    ..Flight::blank(index)
                });
            }
            Some(Event::CustomerAnswered(answered)) => {
                let Some(reply) = &answered.reply else { return };
                let to = if answered.from_browser {
                    Node::Browser
                } else {
                    Node::Customer(answered.session)
                };
                let from = Node::Branch(reply.branch_id);
                let (customer, event_id) = (answered.customer_id, reply.event_id);
                self.close(index, |f| {
                    f.kind == FlightKind::Reply
                        && f.from == from
                        && f.to == to
                        && f.customer_id == customer
                        && f.event_id == event_id
                });
            }
            Some(Event::BranchLogged(logged)) => {
                let Some(entry) = &logged.entry else { return };
                let branch = logged.branch_id;
                let (customer, event_id, peer) = (entry.customer_id, entry.event_id, entry.peer);
                let base = Flight {
                    customer_id: customer,
                    event_id,
                    operation: entry.operation,
                    amount_cents: entry.amount_cents,
                    clock: entry.clock,
                    ..Flight::blank(index)
                };
                match LogKind::try_from(entry.kind) {
                    Ok(LogKind::Request) => {
                        let closed = self.close(index, |f| {
                            f.kind == FlightKind::Request
                                && f.to == Node::Branch(branch)
                                && f.customer_id == customer
                                && f.event_id == event_id
                        });
                        if let Some(id) = closed {
                            let from = self.flights[id].from;
                            self.routes.insert((branch, customer, event_id), from);
                        }
                    }
                    Ok(LogKind::Response) => {
                        let to = self
                            .routes
                            .get(&(branch, customer, event_id))
                            .copied()
                            .unwrap_or_else(|| self.guess_customer(customer));
                        self.start(Flight {
                            kind: FlightKind::Reply,
                            from: Node::Branch(branch),
                            to,
                            balance_cents: entry.balance_cents,
                            failed: entry.failed,
                            ..base
                        });
                    }
                    Ok(LogKind::PropagateSent) => {
                        self.start(Flight {
                            kind: FlightKind::Propagate,
                            from: Node::Branch(branch),
                            to: Node::Branch(peer),
                            ..base
                        });
                    }
                    Ok(LogKind::PropagateReceived) => {
                        self.close(index, |f| {
                            f.kind == FlightKind::Propagate
                                && f.from == Node::Branch(peer)
                                && f.to == Node::Branch(branch)
                                && f.customer_id == customer
                                && f.event_id == event_id
                        });
                        self.unacked.push((branch, peer, customer, event_id, index));
                    }
                    Ok(LogKind::PropagateExecuted) => {
                        let key = (branch, peer, customer, event_id);
                        if let Some(i) =
                            self.unacked.iter().position(|u| (u.0, u.1, u.2, u.3) == key)
                        {
                            self.unacked.remove(i);
                        }
                        self.start(Flight {
                            kind: FlightKind::Ack,
                            from: Node::Branch(branch),
                            to: Node::Branch(peer),
                            ..base
                        });
                    }
                    Ok(LogKind::PropagateAcked) => {
                        let closed = self.close(index, |f| {
                            f.kind == FlightKind::Ack
                                && f.from == Node::Branch(peer)
                                && f.to == Node::Branch(branch)
                                && f.customer_id == customer
                                && f.event_id == event_id
                        });
                        if closed.is_none() {
                            // A duplicate: acknowledged straight from the receive event.
                            let key = (peer, branch, customer, event_id);
                            if let Some(i) =
                                self.unacked.iter().position(|u| (u.0, u.1, u.2, u.3) == key)
                            {
                                let (.., received_at) = self.unacked.remove(i);
                                let clock = self.clock_at(received_at).unwrap_or(entry.clock);
                                let id = self.flights.len();
                                self.flights.push(Flight {
                                    id,
                                    kind: FlightKind::Ack,
                                    from: Node::Branch(peer),
                                    to: Node::Branch(branch),
                                    clock,
                                    start: received_at,
                                    end: Some(index),
                                    ..base
                                });
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn start(&mut self, mut flight: Flight) {
        self.message_customers.insert(flight.customer_id);
        flight.id = self.flights.len();
        self.open.push(flight.id);
        self.flights.push(flight);
    }

    /// Ends the oldest open flight matching `is_it` at `index`.
    fn close(&mut self, index: usize, is_it: impl Fn(&Flight) -> bool) -> Option<usize> {
        let at = self.open.iter().position(|&id| is_it(&self.flights[id]))?;
        let id = self.open.remove(at);
        self.flights[id].end = Some(index);
        Some(id)
    }

    fn clock_at(&self, index: usize) -> Option<u64> {
        match &self.events.get(index)?.event {
            Some(Event::BranchLogged(l)) => l.entry.as_ref().map(|e| e.clock),
            _ => None,
        }
    }

    /// The scripted session of a customer id, for a response whose request
    /// was not seen (should not happen with a complete history).
    fn guess_customer(&self, customer: u64) -> Node {
        self.scenario()
            .and_then(|s| s.customers.iter().find(|c| c.customer_id == customer))
            .map_or(Node::Browser, |c| Node::Customer(c.session))
    }
}

impl Flight {
    fn blank(start: usize) -> Self {
        Flight {
            id: 0,
            kind: FlightKind::Request,
            from: Node::Browser,
            to: Node::Browser,
            customer_id: 0,
            event_id: 0,
            operation: 0,
            amount_cents: 0,
            balance_cents: None,
            failed: false,
            clock: 0,
            start,
            end: None,
        }
    }
}

/// One branch as the replay shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct BranchView {
    pub id: u64,
    pub balance_cents: i64,
    /// The branch's Lamport clock (its last log entry's).
    pub clock: u64,
    pub write_sets: Vec<CustomerWrites>,
    /// How many log entries it has written.
    pub entries: usize,
    /// Trace index of its last log entry.
    pub last_event: Option<usize>,
}

/// The last answer a customer node received.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub event_id: u64,
    pub success: bool,
    pub balance_cents: i64,
    pub message: String,
}

/// The bank after `trace[..cursor]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct World {
    /// Events applied.
    pub cursor: usize,
    /// The [`Trace::generation`] these events are from.
    pub generation: u64,
    /// Sorted by id.
    pub branches: Vec<BranchView>,
    pub answers: BTreeMap<Node, Answer>,
    /// The `finished` event was applied.
    pub finished: bool,
    /// Branches crashed right now (from the last `network` event).
    pub down: Vec<u64>,
    /// Cut links, each as (smaller id, larger id).
    pub cut: Vec<(u64, u64)>,
    /// Links with a delay: (smaller id, larger id, ms).
    pub delays: Vec<(u64, u64, u64)>,
    /// Violations the checker reported so far, with their trace index.
    pub violations: Vec<(usize, bank_proto::ViolationFound)>,
}

/// A link as (smaller id, larger id).
pub fn link_key(a: u64, b: u64) -> (u64, u64) {
    (a.min(b), a.max(b))
}

impl World {
    pub fn is_down(&self, branch: u64) -> bool {
        self.down.contains(&branch)
    }

    pub fn is_cut(&self, a: u64, b: u64) -> bool {
        self.cut.contains(&link_key(a, b))
    }

    pub fn delay(&self, a: u64, b: u64) -> Option<u64> {
        let key = link_key(a, b);
        self.delays.iter().find(|d| (d.0, d.1) == key).map(|d| d.2)
    }
}

impl World {
    /// Replays `trace[..cursor]` (cursor is clamped to the trace length).
    /// With cursor 0 the branches still show the scenario's starting state.
    pub fn at(trace: &Trace, cursor: usize) -> World {
        let mut world = World::default();
        if let Some(scenario) = trace.scenario() {
            world.reset(scenario);
        }
        world.generation = trace.generation();
        for (index, event) in trace.events().iter().take(cursor).enumerate() {
            world.apply(index, event);
        }
        world
    }

    /// The world at `cursor`, from this one when that is a replay forward of
    /// the same history (only the events in between are applied), else
    /// replayed from the start. Equal to `World::at(trace, cursor)`.
    pub fn advanced(&self, trace: &Trace, cursor: usize) -> World {
        let cursor = cursor.min(trace.len());
        if self.generation != trace.generation()
            || self.cursor > cursor
            || (self.cursor == 0 && cursor > 0)
        {
            return World::at(trace, cursor);
        }
        let mut world = self.clone();
        for (index, event) in trace.events().iter().enumerate().take(cursor).skip(self.cursor) {
            world.apply(index, event);
        }
        world
    }

    fn reset(&mut self, scenario: &ScenarioSummary) {
        let mut branches: Vec<BranchView> = scenario
            .branches
            .iter()
            .map(|b| BranchView {
                id: b.id,
                balance_cents: b.balance_cents,
                clock: 0,
                write_sets: Vec::new(),
                entries: 0,
                last_event: None,
            })
            .collect();
        branches.sort_by_key(|b| b.id);
        *self = World { branches, generation: self.generation, ..World::default() };
    }

    /// Applies the event at trace index `index`.
    pub fn apply(&mut self, index: usize, event: &LabEvent) {
        self.cursor = index + 1;
        match &event.event {
            Some(Event::Loaded(scenario)) => {
                self.reset(scenario);
                self.cursor = index + 1;
            }
            Some(Event::BranchLogged(logged)) => {
                let Some(branch) = self.branch_mut(logged.branch_id) else { return };
                branch.balance_cents = logged.balance_cents;
                // The entry carries only what it added to the write sets.
                for added in &logged.added_writes {
                    match branch.write_sets.iter_mut().find(|w| w.customer_id == added.customer_id)
                    {
                        Some(set) => set.event_ids.extend_from_slice(&added.event_ids),
                        None => {
                            branch.write_sets.push(added.clone());
                            branch.write_sets.sort_by_key(|w| w.customer_id);
                        }
                    }
                }
                if let Some(entry) = &logged.entry {
                    branch.clock = entry.clock;
                }
                branch.entries += 1;
                branch.last_event = Some(index);
            }
            Some(Event::CustomerAnswered(answered)) => {
                let Some(reply) = &answered.reply else { return };
                let node = if answered.from_browser {
                    Node::Browser
                } else {
                    Node::Customer(answered.session)
                };
                let answer = match &reply.result {
                    Some(customer_reply::Result::Success(s)) => Answer {
                        event_id: reply.event_id,
                        success: true,
                        balance_cents: s.balance_cents,
                        message: String::new(),
                    },
                    Some(customer_reply::Result::Failure(f)) => Answer {
                        event_id: reply.event_id,
                        success: false,
                        balance_cents: f.balance_cents,
                        message: f.message.clone(),
                    },
                    None => return,
                };
                self.answers.insert(node, answer);
            }
            Some(Event::Finished(_)) => self.finished = true,
            Some(Event::Network(changed)) => {
                let state = changed.state.clone().unwrap_or_default();
                self.down = state.down;
                self.cut = state.cut.iter().map(|l| link_key(l.a, l.b)).collect();
                self.delays = state
                    .delays
                    .iter()
                    .filter_map(|d| d.link.as_ref().map(|l| (link_key(l.a, l.b), d.delay_ms)))
                    .map(|((a, b), ms)| (a, b, ms))
                    .collect();
            }
            Some(Event::Violation(v)) => self.violations.push((index, v.clone())),
            _ => {}
        }
    }

    pub fn branch(&self, id: u64) -> Option<&BranchView> {
        self.branches.iter().find(|b| b.id == id)
    }

    fn branch_mut(&mut self, id: u64) -> Option<&mut BranchView> {
        if let Err(at) = self.branches.binary_search_by_key(&id, |b| b.id) {
            // A branch the scenario did not announce: show it anyway.
            let view = BranchView {
                id,
                balance_cents: 0,
                clock: 0,
                write_sets: Vec::new(),
                entries: 0,
                last_event: None,
            };
            self.branches.insert(at, view);
        }
        self.branches.iter_mut().find(|b| b.id == id)
    }
}
