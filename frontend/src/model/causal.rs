//! Vector clocks and the happened-before cone of a trace, for the
//! space-time diagram.
//!
//! The clocks are `bank_core::causality`'s (vector clocks are computed in
//! the core, not here): this file only says what the trace's
//! lanes and messages are. The lanes are the diagram's, in canonical order
//! ([`Lanes::of_trace`]: branches, sessions, the browser), hidden or not,
//! so a vector's entries do not move when the person rearranges the
//! diagram; the events of a lane are the trace events the diagram places
//! on it ([`lane_of_event`]), in trace order; the messages are the trace's
//! flights that were received (a message still travelling or lost orders
//! nothing yet).
//!
//! Selecting an event shows its *cone*: every event that happened before it
//! (its causal past: it could have influenced the selection) and every
//! event that happened after it (its causal future); the rest is concurrent
//! with it. [`Causal::cone`] classifies an event.

use bank_core::causality::{Causality, CausalityError, EventRef, VectorClock};

use super::diagram::lane_of_event;
use super::lanes::{lane_label, Lanes};
use super::trace::{Node, Trace};

/// Where an event stands relative to a selected one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cone {
    /// The selected event itself.
    Selected,
    /// Happened before the selection.
    Past,
    /// Happened after the selection.
    Future,
    /// Neither (or not on a lane).
    Concurrent,
}

impl Cone {
    /// The CSS class suffix (`st-cone-past`, …).
    pub fn name(self) -> &'static str {
        match self {
            Cone::Selected => "selected",
            Cone::Past => "past",
            Cone::Future => "future",
            Cone::Concurrent => "concurrent",
        }
    }
}

/// The vector clock of every lane event of one trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Causal {
    /// The [`Trace::generation`] and length this was computed for.
    generation: u64,
    len: usize,
    /// The lanes, in vector-entry order.
    lanes: Vec<Node>,
    /// Per trace index: the event's place on its lane.
    refs: Vec<Option<EventRef>>,
    causality: Causality,
}

impl Causal {
    /// The clocks of `trace` as recorded so far.
    pub fn of(trace: &Trace) -> Result<Causal, CausalityError> {
        let lanes = Lanes::of_trace(trace);
        let mut lengths = vec![0usize; lanes.len()];
        let refs: Vec<Option<EventRef>> = trace
            .events()
            .iter()
            .map(|event| {
                let (node, _) = lane_of_event(event)?;
                let lane = lanes.iter().position(|n| *n == node)?;
                let seq = lengths[lane];
                lengths[lane] += 1;
                Some(EventRef { lane, seq })
            })
            .collect();
        let messages: Vec<(EventRef, EventRef)> = trace
            .flights()
            .iter()
            .filter_map(|f| Some((refs.get(f.start).copied()??, refs.get(f.end?).copied()??)))
            .filter(|(send, receive)| send != receive)
            .collect();
        let causality = Causality::compute(&lengths, &messages)?;
        Ok(Causal { generation: trace.generation(), len: trace.len(), lanes, refs, causality })
    }

    /// Whether this was computed for `trace` as it is now.
    pub fn is_for(&self, trace: &Trace) -> bool {
        self.generation == trace.generation() && self.len == trace.len()
    }

    /// The lanes, in the order of a vector's entries.
    pub fn lanes(&self) -> &[Node] {
        &self.lanes
    }

    /// The vector clock of the event at trace index `index` (`None`: it is
    /// not on a lane).
    pub fn clock(&self, index: usize) -> Option<&VectorClock> {
        self.causality.clock(self.refs.get(index).copied()??)
    }

    /// The clock as drawn next to its circle: the entries of `shown` lanes
    /// only, in that (display) order, e.g. `[2,0,1]`.
    pub fn label(&self, index: usize, shown: &[Node]) -> String {
        let Some(clock) = self.clock(index) else { return String::new() };
        let entries: Vec<String> = shown
            .iter()
            .filter_map(|n| self.lanes.iter().position(|l| l == n))
            .map(|lane| clock.get(lane).to_string())
            .collect();
        format!("[{}]", entries.join(","))
    }

    /// The clock with every entry named, for a tooltip:
    /// `B1:2 B2:0 C1:1`.
    pub fn spelled(&self, index: usize, trace: &Trace) -> String {
        let Some(clock) = self.clock(index) else { return String::new() };
        self.lanes
            .iter()
            .enumerate()
            .map(|(lane, node)| format!("{}:{}", lane_label(*node, trace), clock.get(lane)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Where the event at `index` stands relative to the one at `selected`.
    pub fn cone(&self, selected: usize, index: usize) -> Cone {
        let at = |i: usize| self.refs.get(i).copied().flatten();
        match (at(selected), at(index)) {
            (Some(s), Some(e)) if s == e => Cone::Selected,
            (Some(s), Some(e)) if self.causality.happened_before(e, s) => Cone::Past,
            (Some(s), Some(e)) if self.causality.happened_before(s, e) => Cone::Future,
            _ => Cone::Concurrent,
        }
    }

    /// The cone of a run of one lane's events `first..=last` (a compacted
    /// row): past if its first event is (the rest may be concurrent),
    /// future if its last is, selected if it holds the selection.
    pub fn cone_of_run(&self, selected: usize, first: usize, last: usize) -> Cone {
        if (first..=last).contains(&selected) {
            return Cone::Selected;
        }
        match (self.cone(selected, first), self.cone(selected, last)) {
            (Cone::Past, _) => Cone::Past,
            (_, Cone::Future) => Cone::Future,
            _ => Cone::Concurrent,
        }
    }

    /// The cone of a message from trace index `start` to `end`: in the past
    /// when its receive is (or is the selection), in the future when its
    /// send is (or is the selection).
    pub fn cone_of_message(&self, selected: usize, start: usize, end: Option<usize>) -> Cone {
        let receive = end.map(|e| self.cone(selected, e));
        match (self.cone(selected, start), receive) {
            (_, Some(Cone::Past | Cone::Selected)) => Cone::Past,
            (Cone::Future | Cone::Selected, _) => Cone::Future,
            _ => Cone::Concurrent,
        }
    }
}
