//! The space-time (Lamport) diagram of a trace, without a DOM: where every
//! event, message and fault is drawn.
//!
//! Time flows downwards in *rows*: every trace event that happens on a lane
//! (a branch's log entry, a customer sending or receiving) gets the next
//! row, in trace order, so the playback cursor is a horizontal line (the
//! boundary below the last row applied, [`Diagram::cursor_y`]) and a message
//! always points downwards, from its send row to its receive row. A network
//! change (crash, restart, cut, heal, delay) gets a row of its own, with a
//! [`Marker`] on each lane it hits. Events without a lane (play-state
//! changes, the checker's verdicts, the end of the run) get no row.
//!
//! *Compact* mode folds a run of events of one lane, with nothing happening
//! on another shown lane in between, into one row (its label is the clock
//! range). Arrows still point downwards: whatever another lane does in
//! between ends the run.
//!
//! [`Diagram::sync`] follows a growing trace: only the events added since
//! the last call are placed (a busy bank adds hundreds a second). Arrows are
//! not stored: [`Diagram::arrows_in`] derives them from the trace's flights
//! for the rows on screen, since a flight's end is known only later.
//!
//! Coordinates are in rows: row `r` is drawn centred at `r + 0.5`; the
//! component multiplies by its row height.

use std::ops::Range;

use bank_proto::{lab_event::Event, NetworkState};

use super::trace::{link_key, Flight, MessageClass, Node, Trace};

/// What a network change did to one lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The branch crashed.
    Crash,
    /// The branch started again.
    Restart,
    /// The link to `peer` was cut.
    Cut { peer: u64 },
    /// The link to `peer` was healed.
    Heal { peer: u64 },
    /// Messages on the link to `peer` now take `ms` (0: no delay).
    Delay { peer: u64, ms: u64 },
}

impl Fault {
    /// The CSS class suffix and legend name.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Crash => "crash",
            Fault::Restart => "restart",
            Fault::Cut { .. } => "cut",
            Fault::Heal { .. } => "heal",
            Fault::Delay { .. } => "delay",
        }
    }

    /// In words, for the tooltip: `crash`, `cut the link to branch 3`.
    pub fn describe(self) -> String {
        match self {
            Fault::Crash => "crashed".to_owned(),
            Fault::Restart => "restarted".to_owned(),
            Fault::Cut { peer } => format!("link to branch {peer} cut"),
            Fault::Heal { peer } => format!("link to branch {peer} healed"),
            Fault::Delay { peer, ms: 0 } => format!("link to branch {peer}: no delay"),
            Fault::Delay { peer, ms } => format!("link to branch {peer}: {ms} ms delay"),
        }
    }
}

/// One fault drawn on one lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marker {
    pub row: usize,
    /// Trace index of the network event.
    pub index: usize,
    pub lane: Node,
    pub fault: Fault,
}

/// One row of the diagram: one event on one lane, a compacted run of them,
/// or a network change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// Trace index of its first and last event.
    pub first: usize,
    pub last: usize,
    /// The lane its events happen on; `None` for a network change (its
    /// markers are in [`Diagram::markers`]).
    pub lane: Option<Node>,
    /// How many events it stands for (more than one only when compacted).
    pub events: u32,
    /// The Lamport clock of its first and last event that carries one.
    pub first_clock: Option<u64>,
    pub last_clock: Option<u64>,
}

impl Row {
    /// The clock label drawn next to its circle: `6`, `3–6` for a compacted
    /// run, empty when its events carry no clock.
    pub fn clock_label(&self) -> String {
        match (self.first_clock, self.last_clock) {
            (Some(a), Some(b)) if a != b => format!("{a}–{b}"),
            (_, Some(b)) => b.to_string(),
            _ => String::new(),
        }
    }

    /// Whether the event at trace index `index` is one of this row's.
    pub fn holds(&self, index: usize) -> bool {
        (self.first..=self.last).contains(&index)
    }
}

/// How a message is drawn at the cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArrowState {
    /// Sent after the cursor: drawn faint, like every event not yet applied.
    Future,
    /// Sent, not received yet: dashed.
    InFlight,
    /// Received: solid.
    Delivered,
    /// Never received, and a crash or cut on its way (or the end of the
    /// run) says it never will be: red.
    Dropped,
}

impl ArrowState {
    pub fn name(self) -> &'static str {
        match self {
            ArrowState::Future => "future",
            ArrowState::InFlight => "in-flight",
            ArrowState::Delivered => "delivered",
            ArrowState::Dropped => "dropped",
        }
    }
}

/// One message, placed: from its sender's lane at `y0` to its receiver's
/// lane at `y1` (rows; `y1 > y0`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arrow {
    /// The [`Flight::id`].
    pub flight: usize,
    pub class: MessageClass,
    pub from: Node,
    pub to: Node,
    pub y0: f64,
    pub y1: f64,
    pub state: ArrowState,
}

/// The network as of one network event (for telling dropped messages).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct NetworkAt {
    index: usize,
    down: Vec<u64>,
    cut: Vec<(u64, u64)>,
    delays: Vec<(u64, u64, u64)>,
}

impl NetworkAt {
    fn of(index: usize, state: &NetworkState) -> Self {
        let mut cut: Vec<(u64, u64)> = state.cut.iter().map(|l| link_key(l.a, l.b)).collect();
        cut.sort_unstable();
        let mut delays: Vec<(u64, u64, u64)> = state
            .delays
            .iter()
            .filter_map(|d| d.link.as_ref().map(|l| (link_key(l.a, l.b), d.delay_ms)))
            .map(|((a, b), ms)| (a, b, ms))
            .collect();
        delays.sort_unstable();
        let mut down = state.down.clone();
        down.sort_unstable();
        NetworkAt { index, down, cut, delays }
    }

    /// Whether a message from `from` to `to` cannot pass in this state.
    fn blocks(&self, from: Node, to: Node) -> bool {
        let Node::Branch(to) = to else { return false };
        if self.down.contains(&to) {
            return true;
        }
        match from {
            Node::Branch(from) => {
                self.down.contains(&from) || self.cut.contains(&link_key(from, to))
            }
            _ => false,
        }
    }

    /// What changed from `self` to `next`, lane by lane.
    fn faults_to(&self, next: &NetworkAt) -> Vec<(Node, Fault)> {
        let mut faults = Vec::new();
        for b in next.down.iter().filter(|b| !self.down.contains(b)) {
            faults.push((Node::Branch(*b), Fault::Crash));
        }
        for b in self.down.iter().filter(|b| !next.down.contains(b)) {
            faults.push((Node::Branch(*b), Fault::Restart));
        }
        let both = |faults: &mut Vec<(Node, Fault)>, (a, b): (u64, u64), f: fn(u64) -> Fault| {
            faults.push((Node::Branch(a), f(b)));
            faults.push((Node::Branch(b), f(a)));
        };
        for link in next.cut.iter().filter(|l| !self.cut.contains(l)) {
            both(&mut faults, *link, |peer| Fault::Cut { peer });
        }
        for link in self.cut.iter().filter(|l| !next.cut.contains(l)) {
            both(&mut faults, *link, |peer| Fault::Heal { peer });
        }
        let delay_of =
            |s: &NetworkAt, a, b| s.delays.iter().find(|d| (d.0, d.1) == (a, b)).map_or(0, |d| d.2);
        let mut links: Vec<(u64, u64)> =
            self.delays.iter().chain(&next.delays).map(|d| (d.0, d.1)).collect();
        links.sort_unstable();
        links.dedup();
        for (a, b) in links {
            let ms = delay_of(next, a, b);
            if ms != delay_of(self, a, b) {
                faults.push((Node::Branch(a), Fault::Delay { peer: b, ms }));
                faults.push((Node::Branch(b), Fault::Delay { peer: a, ms }));
            }
        }
        faults
    }
}

/// The diagram of one history, for a set of hidden lanes and compact mode.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagram {
    /// The [`Trace::generation`] placed.
    generation: u64,
    /// Trace events placed so far.
    seen: usize,
    hidden: Vec<Node>,
    compact: bool,
    rows: Vec<Row>,
    markers: Vec<Marker>,
    /// The row of every trace event placed (`None`: no row).
    row_of: Vec<Option<u32>>,
    /// The network after every network event, in trace order.
    network: Vec<NetworkAt>,
}

impl Diagram {
    /// An empty diagram that leaves out the `hidden` lanes and, if
    /// `compact`, folds runs of one lane (see the module docs).
    pub fn new(hidden: Vec<Node>, compact: bool) -> Self {
        Diagram { hidden, compact, ..Diagram::default() }
    }

    /// `trace`, placed: [`Diagram::new`] then [`Diagram::sync`].
    pub fn of(trace: &Trace, hidden: Vec<Node>, compact: bool) -> Self {
        let mut diagram = Diagram::new(hidden, compact);
        diagram.sync(trace);
        diagram
    }

    /// Places the events `trace` recorded since the last call (all of them
    /// after a new history started).
    pub fn sync(&mut self, trace: &Trace) {
        if self.generation != trace.generation() || self.seen > trace.len() {
            let (hidden, compact) = (std::mem::take(&mut self.hidden), self.compact);
            *self = Diagram { generation: trace.generation(), ..Diagram::new(hidden, compact) };
        }
        for index in self.seen..trace.len() {
            self.place(index, trace);
        }
        self.seen = trace.len();
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    pub fn markers(&self) -> &[Marker] {
        &self.markers
    }

    pub fn is_compact(&self) -> bool {
        self.compact
    }

    pub fn hidden(&self) -> &[Node] {
        &self.hidden
    }

    /// The row of the event at trace index `index` (`None`: it has none, or
    /// its lane is hidden).
    pub fn row_of(&self, index: usize) -> Option<usize> {
        self.row_of.get(index).copied().flatten().map(|r| r as usize)
    }

    /// How many rows hold an event before trace index `index`: the boundary
    /// (in rows) below everything `trace[..index]` drew.
    pub fn boundary(&self, index: usize) -> f64 {
        self.rows.partition_point(|r| r.first < index) as f64
    }

    /// Where the cursor line is drawn: below every row with an event applied.
    pub fn cursor_y(&self, cursor: usize) -> f64 {
        self.boundary(cursor)
    }

    /// The rows whose centre lies in `window` (in rows).
    pub fn rows_in(&self, window: Range<f64>) -> Range<usize> {
        let len = self.rows.len();
        let start = ((window.start - 0.5).ceil().max(0.0) as usize).min(len);
        let end = (((window.end - 0.5).floor() + 1.0).max(0.0) as usize).clamp(start, len);
        start..end
    }

    /// The markers on the rows of `rows`.
    pub fn markers_in(&self, rows: Range<usize>) -> &[Marker] {
        let start = self.markers.partition_point(|m| m.row < rows.start);
        let end = self.markers.partition_point(|m| m.row < rows.end);
        &self.markers[start..end]
    }

    /// The trace index at which `flight` was lost, if it was: it was never
    /// received, and a crash of its receiver (or sender), a cut of its link,
    /// or the end of the run came at or after its send.
    pub fn dropped_at(&self, trace: &Trace, flight: &Flight) -> Option<usize> {
        if flight.end.is_some() {
            return None;
        }
        // The network in effect when it was sent, then every change after.
        let from = self.network.partition_point(|n| n.index < flight.start).saturating_sub(1);
        let fault = self
            .network
            .get(from..)
            .unwrap_or_default()
            .iter()
            .find(|n| n.blocks(flight.from, flight.to))
            .map(|n| n.index.max(flight.start));
        let finished = trace.output().map(|(i, _)| i).filter(|&i| i > flight.start);
        fault.or(finished)
    }

    /// `flight` placed at `cursor`; `None` when one of its lanes is hidden.
    pub fn arrow(&self, trace: &Trace, flight: &Flight, cursor: usize) -> Option<Arrow> {
        if self.hidden.contains(&flight.to) {
            return None;
        }
        let y0 = self.row_of(flight.start)? as f64 + 0.5;
        let in_flight_end = |y0: f64| (self.cursor_y(cursor)).max(y0 + 0.5);
        let (y1, state) = match flight.end {
            Some(end) => {
                let y1 = self.row_of(end)? as f64 + 0.5;
                let state = if flight.start >= cursor {
                    ArrowState::Future
                } else if end < cursor {
                    ArrowState::Delivered
                } else {
                    ArrowState::InFlight
                };
                (y1, state)
            }
            None => match self.dropped_at(trace, flight) {
                Some(at) => {
                    let y1 = self.row_of(at).map_or(self.boundary(at + 1), |r| r as f64 + 0.5);
                    let state = if flight.start >= cursor {
                        ArrowState::Future
                    } else if at < cursor {
                        ArrowState::Dropped
                    } else {
                        ArrowState::InFlight
                    };
                    (if state == ArrowState::InFlight { in_flight_end(y0) } else { y1 }, state)
                }
                None if flight.start >= cursor => (y0 + 1.0, ArrowState::Future),
                None => (in_flight_end(y0), ArrowState::InFlight),
            },
        };
        Some(Arrow {
            flight: flight.id,
            class: flight.class(),
            from: flight.from,
            to: flight.to,
            y0,
            y1: y1.max(y0 + 0.5),
            state,
        })
    }

    /// Every arrow that crosses `window` (in rows) at `cursor`.
    pub fn arrows_in(&self, trace: &Trace, cursor: usize, window: Range<f64>) -> Vec<Arrow> {
        trace
            .flights()
            .iter()
            .filter(|f| self.row_of(f.start).is_some_and(|r| r as f64 + 0.5 <= window.end))
            .filter_map(|f| self.arrow(trace, f, cursor))
            .filter(|a| a.y1 >= window.start)
            .collect()
    }

    /// Places the event at `index`.
    fn place(&mut self, index: usize, trace: &Trace) {
        let event = &trace.events()[index];
        let on_lane = match &event.event {
            Some(Event::CustomerSent(sent)) => {
                let lane =
                    if sent.from_browser { Node::Browser } else { Node::Customer(sent.session) };
                // A customer clock of 0 means the format keeps none.
                Some((lane, sent.request.as_ref().map(|r| r.clock).filter(|c| *c > 0)))
            }
            Some(Event::CustomerAnswered(answered)) => {
                let lane = if answered.from_browser {
                    Node::Browser
                } else {
                    Node::Customer(answered.session)
                };
                Some((lane, None))
            }
            Some(Event::BranchLogged(logged)) => {
                Some((Node::Branch(logged.branch_id), logged.entry.as_ref().map(|e| e.clock)))
            }
            Some(Event::Network(changed)) => {
                self.network_changed(index, &changed.state.clone().unwrap_or_default());
                return;
            }
            _ => None,
        };
        let row = on_lane.filter(|(lane, _)| !self.hidden.contains(lane)).map(|(lane, clock)| {
            match self.rows.last_mut() {
                Some(last) if self.compact && last.lane == Some(lane) => {
                    last.last = index;
                    last.events += 1;
                    if clock.is_some() {
                        last.first_clock = last.first_clock.or(clock);
                        last.last_clock = clock;
                    }
                }
                _ => self.rows.push(Row {
                    first: index,
                    last: index,
                    lane: Some(lane),
                    events: 1,
                    first_clock: clock,
                    last_clock: clock,
                }),
            }
            self.rows.len() as u32 - 1
        });
        self.row_of.push(row);
    }

    /// A network event at `index`: its faults as markers on a row of their own.
    fn network_changed(&mut self, index: usize, state: &NetworkState) {
        let next = NetworkAt::of(index, state);
        let faults = self.network.last().cloned().unwrap_or_default().faults_to(&next);
        self.network.push(next);
        let shown: Vec<(Node, Fault)> =
            faults.into_iter().filter(|(lane, _)| !self.hidden.contains(lane)).collect();
        if shown.is_empty() {
            self.row_of.push(None);
            return;
        }
        let row = self.rows.len();
        self.rows.push(Row {
            first: index,
            last: index,
            lane: None,
            events: 1,
            first_clock: None,
            last_clock: None,
        });
        self.markers.extend(shown.into_iter().map(|(lane, fault)| Marker {
            row,
            index,
            lane,
            fault,
        }));
        self.row_of.push(Some(row as u32));
    }
}
