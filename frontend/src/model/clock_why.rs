//! Why a logged event has its Lamport clock: the branch's own clock step
//! (carried by the event), explained by `bank_core::explain::clock`.

use bank_core::explain::clock::{explain, ClockExplanation};
use bank_core::formats::OutputFormat;
use bank_core::{BranchId, ClockScheme, LogEntry};
use bank_proto::{self as pb, lab_event::Event};

use super::trace::Trace;

/// The explanation of trace event `index`'s clock, if it is a branch's log
/// entry. A message selected is explained by its receive (the event whose
/// clock the message moved), else by its send.
pub fn of_event(trace: &Trace, index: usize) -> Option<ClockExplanation> {
    let Some(Event::BranchLogged(logged)) = &trace.events().get(index)?.event else {
        return None;
    };
    let entry = LogEntry::try_from(logged.entry.as_ref()?).ok()?;
    Some(explain(scheme(trace), BranchId(logged.branch_id), &entry))
}

/// The explanation for message `flight`: its receive's, or its send's.
pub fn of_flight(trace: &Trace, flight: usize) -> Option<ClockExplanation> {
    let f = trace.flights().get(flight)?;
    f.end.and_then(|end| of_event(trace, end)).or_else(|| of_event(trace, f.start))
}

/// The rule set the branches tick by: the loaded format's.
fn scheme(trace: &Trace) -> ClockScheme {
    trace
        .scenario()
        .and_then(|s| pb::OutputFormat::try_from(s.format).ok())
        .and_then(Option::<OutputFormat>::from)
        .map_or_else(ClockScheme::default, OutputFormat::clock_scheme)
}
