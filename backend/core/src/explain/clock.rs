//! Why a logged event has its Lamport clock, in words and numbers.
//!
//! A branch keeps, in every [`LogEntry`], the [`ClockStep`] it took: the
//! rule ([`ClockScheme::rule_for`]), its clock before, the message's clock
//! and the result. [`explain`] turns that step into a sentence a student can
//! check by hand:
//!
//! ```text
//! propagated deposit received from branch 1 at branch 2: max(local 3, message 5) + 1 = 6
//!   (p2b rule: event_recv takes the larger of the branch's clock and the message's, plus one)
//! ```
//!
//! It never recomputes a clock: the numbers are the branch's own, so the
//! page, the CLI and the branch cannot disagree.

use std::fmt;

use crate::clock::{ClockRule, ClockScheme, ClockStep};
use crate::ids::BranchId;
use crate::log::{LogEntry, LogKind};
use crate::op::OpKind;

/// How one event's clock came about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockExplanation {
    /// The step as arithmetic: "request … at branch 2: max(local 3, message 5) + 1 = 6".
    pub formula: String,
    /// The format's rule that chose that arithmetic: "p2b rule: event_recv …".
    pub rule: String,
    /// The step itself, for views that show the numbers on their own.
    pub step: ClockStep,
}

impl fmt::Display for ClockExplanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.formula, self.rule)
    }
}

/// Explains `entry`'s clock at `branch`, under the branch's `scheme`.
pub fn explain(scheme: ClockScheme, branch: BranchId, entry: &LogEntry) -> ClockExplanation {
    let step = entry.step;
    let what = event_words(entry);
    let arithmetic = match (step.rule, step.message) {
        (ClockRule::Receive, Some(m)) => {
            format!("max(local {}, message {m}) + 1 = {}", step.local, step.result)
        }
        (ClockRule::Receive, None) => format!("received: {} + 1 = {}", step.local, step.result),
        (ClockRule::Local, _) => format!("local {} + 1 = {}", step.local, step.result),
        (ClockRule::Unchanged, _) => format!("no tick, the clock stays {}", step.result),
    };
    ClockExplanation {
        formula: format!("{what} at branch {}: {arithmetic}", branch.0),
        rule: rule_words(scheme, entry),
        step,
    }
}

/// What the event was, in a few words.
fn event_words(e: &LogEntry) -> String {
    let op = e.op.as_str();
    let peer = e.peer.map_or_else(|| "?".to_owned(), |p| p.0.to_string());
    match e.kind {
        LogKind::Request => format!("{op} request from customer {} received", e.customer.0),
        LogKind::Execute if e.failed => format!("{op} refused"),
        LogKind::Execute => format!("{op} executed"),
        LogKind::PropagateSent => format!("propagation of the {op} sent to branch {peer}"),
        LogKind::PropagateReceived => format!("propagated {op} received from branch {peer}"),
        LogKind::PropagateExecuted => format!("propagated {op} from branch {peer} applied"),
        LogKind::PropagateAcked => format!("branch {peer}'s acknowledgement received"),
        LogKind::Response => format!("answer to customer {}", e.customer.0),
    }
}

/// The format's rule for this kind of event, naming it as the course does.
fn rule_words(scheme: ClockScheme, e: &LogEntry) -> String {
    let format = scheme.format_name();
    let name = course_name(scheme, e);
    let rule = e.step.rule;
    match (rule, name) {
        (ClockRule::Receive, Some(name)) => format!(
            "{format} rule: {name} takes the larger of the branch's clock and the message's, plus one"
        ),
        (ClockRule::Local, Some(name)) => format!("{format} rule: {name} ticks the clock by one"),
        (ClockRule::Receive, None) => format!("{format} rule: a receive takes the larger clock, plus one"),
        (ClockRule::Local, None) => format!("{format} rule: a local event ticks the clock by one"),
        (ClockRule::Unchanged, _) if scheme == ClockScheme::ExecuteAndRespond && e.op == OpKind::Query => {
            format!("{format} rule: queries do not count")
        }
        (ClockRule::Unchanged, _) => match scheme {
            ClockScheme::SendAndReceive => {
                format!("{format} rule: only event_recv and event_sent count")
            }
            ClockScheme::ExecuteAndRespond => {
                format!("{format} rule: a sent propagation does not count, the message carries the clock")
            }
        },
    }
}

/// The event's name in the format's output, where it has one.
fn course_name(scheme: ClockScheme, e: &LogEntry) -> Option<String> {
    match scheme {
        ClockScheme::SendAndReceive => match e.kind {
            LogKind::Request | LogKind::PropagateReceived => Some("event_recv".to_owned()),
            LogKind::PropagateSent => Some("event_sent".to_owned()),
            _ => None,
        },
        ClockScheme::ExecuteAndRespond => {
            crate::formats::p2::event_name(e, crate::formats::Spelling::default())
        }
    }
}

#[cfg(test)]
mod tests;
