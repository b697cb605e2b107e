//! What the person points at: the event or message hovered or clicked (the
//! details panel shows it, the graph and the log highlight it), and the
//! branch or link whose fault buttons are shown.

use leptos::prelude::*;

/// What the details panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// A trace event, by index.
    Event(usize),
    /// A message, by flight id.
    Flight(usize),
}

/// What was clicked in the graph to inject a fault into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultTarget {
    Branch(u64),
    /// A link, as (smaller id, larger id).
    Link(u64, u64),
}

/// The `Focus` context: signals (all `Copy`).
#[derive(Clone, Copy, Debug)]
pub struct Focus {
    /// Under the pointer (wins over `selected` in the details panel).
    pub hovered: RwSignal<Option<Selection>>,
    /// Clicked last.
    pub selected: RwSignal<Option<Selection>>,
    /// The branch or link whose fault buttons are shown.
    pub fault_target: RwSignal<Option<FaultTarget>>,
}

impl Default for Focus {
    /// Nothing pointed at.
    fn default() -> Self {
        Focus {
            hovered: RwSignal::new(None),
            selected: RwSignal::new(None),
            fault_target: RwSignal::new(None),
        }
    }
}

impl Focus {
    /// Forgets everything pointed at: a new history's indexes are other
    /// events, and its cluster may have other branches.
    pub fn clear(self) {
        self.selected.set(None);
        self.hovered.set(None);
        self.fault_target.set(None);
    }
}
