//! The happened-before of the history shown, for the space-time diagram's
//! "vector clocks" view: each event's vector clock and the selected event's
//! causal past and future (its cone).
//!
//! A Lamport clock orders events consistently with causality, but two
//! events with clocks 3 and 5 may still be unrelated: only a vector clock
//! (one counter per lane: what the event has seen of each branch and
//! customer) tells "happened before" from "concurrent". The page does not
//! compute it itself: it turns its wire events back into the run's traced
//! items (`bank_proto::lab_trace::traced`) and asks
//! `bank_core::causality::TraceCausality`, the code `bank sim
//! --vector-clocks` prints with.

use bank_core::causality::trace::TraceCausality;
use bank_core::trace::Traced;
use bank_proto::lab_trace;

use crate::model::trace::Trace;

/// The causality of every event of `trace` (indices are the trace's); `None`
/// when the history's messages do not fit together (a bug, shown as no
/// vector clocks rather than wrong ones).
pub fn of_trace(trace: &Trace) -> Option<TraceCausality> {
    let items: Vec<Option<Traced>> = trace
        .events()
        .iter()
        .map(|e| e.event.as_ref().and_then(lab_trace::traced).and_then(Result::ok))
        .collect();
    TraceCausality::of(items.iter().map(Option::as_ref)).ok()
}

/// The vector clock of the event at `index`, in `[b1:3 c1:2]` form (lanes
/// at zero left out); `None` for an event on no lane.
pub fn label(causality: &TraceCausality, index: usize) -> Option<String> {
    causality.clock(index).map(|clock| causality.label(clock))
}
