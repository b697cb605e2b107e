//! Presentation mode's one line: what the event just before the cursor was,
//! in the event log's words, and where the cursor is.

use crate::model::describe;
use crate::model::trace::Trace;

/// The caption at `cursor` (events `trace[..cursor]` applied): the last
/// applied event as the event log says it, with its number, or what to do
/// before anything happened.
pub fn at(trace: &Trace, cursor: usize) -> String {
    if trace.is_empty() {
        return "No scenario loaded yet.".to_owned();
    }
    let Some(index) = cursor.checked_sub(1) else {
        return "Press play (space) or step (→) to start the run.".to_owned();
    };
    let Some(event) = trace.events().get(index) else {
        return format!("Event {cursor} of {}.", trace.len());
    };
    let line = describe::line(event);
    format!("Event {cursor} of {} · {}: {}", trace.len(), line.actor, line.text)
}
