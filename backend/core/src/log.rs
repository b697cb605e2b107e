//! The per-branch event log: what happened, in order, with Lamport clocks.
//!
//! Every branch records the life of each request it touches. The project 2
//! output formats are views over these logs (see `formats::p2`), and `bank
//! run --trace` narrates them. A branch keeps its log packed
//! ([`PackedLog`]): a few bytes an entry instead of the struct's 136.

use std::fmt;

mod packed;

pub use packed::PackedLog;

use crate::clock::{ClockRule, ClockScheme, ClockStep};
use crate::ids::{BranchId, CustomerId, EventId, WriteId};
use crate::money::Cents;
use crate::op::OpKind;

/// Where an entry sits in the life of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogKind {
    /// Received a customer's request.
    Request,
    /// Applied (or answered) it locally.
    Execute,
    /// Sent the write to `peer`.
    PropagateSent,
    /// Received a write from `peer`.
    PropagateReceived,
    /// Applied a write received from `peer`.
    PropagateExecuted,
    /// `peer` acknowledged our write.
    PropagateAcked,
    /// Answered the customer.
    Response,
}

impl LogKind {
    /// Every kind, in declaration order (the packed log's codes are indices
    /// into it).
    pub const ALL: [LogKind; 7] = [
        LogKind::Request,
        LogKind::Execute,
        LogKind::PropagateSent,
        LogKind::PropagateReceived,
        LogKind::PropagateExecuted,
        LogKind::PropagateAcked,
        LogKind::Response,
    ];
}

/// The table of [`crate::clock`]'s module docs, as code: here rather than
/// there so that `clock` need not know the log.
impl ClockScheme {
    /// How an event of `kind` for an `op` moves the clock under this scheme
    /// (the table in [`crate::clock`]'s docs). The branch ticks by it; nothing else
    /// decides it.
    pub fn rule_for(self, kind: LogKind, op: OpKind) -> ClockRule {
        use ClockScheme::*;
        use LogKind::*;
        match (self, kind) {
            // Generation A ignores queries entirely.
            (ExecuteAndRespond, _) if op == OpKind::Query => ClockRule::Unchanged,
            (_, Request | PropagateReceived) => ClockRule::Receive,
            (ExecuteAndRespond, PropagateAcked) => ClockRule::Receive,
            (ExecuteAndRespond, Execute | PropagateExecuted | Response) => ClockRule::Local,
            (SendAndReceive, PropagateSent) => ClockRule::Local,
            _ => ClockRule::Unchanged,
        }
    }
}

/// One line of a branch's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// The branch's Lamport clock right after this event.
    pub clock: u64,
    /// How the clock got there: the rule, the clock before and the
    /// message's clock (`step.result == clock`); see
    /// [`crate::explain::clock`].
    pub step: ClockStep,
    /// The write this entry applied (an accepted write's execute, a
    /// propagated write's execute); `None` for every other entry.
    pub write: Option<WriteId>,
    pub kind: LogKind,
    pub customer: CustomerId,
    pub event: EventId,
    pub op: OpKind,
    pub amount: Cents,
    /// The other branch, for the propagate kinds.
    pub peer: Option<BranchId>,
    /// The balance after the event, where it changed or read the balance.
    pub balance: Option<Cents>,
    /// The request failed (e.g. insufficient funds): nothing changed.
    pub failed: bool,
}

impl LogEntry {
    /// A one-line, human-readable account of the entry as seen by `branch`.
    pub fn narrate(&self, branch: BranchId) -> String {
        let what = match self.op {
            OpKind::Query => "query".to_owned(),
            op => format!("{op} {}", self.amount),
        };
        let peer = self.peer.map(|p| p.to_string()).unwrap_or_default();
        let balance = self.balance.map(|b| format!(" (balance {b})")).unwrap_or_default();
        let body = match self.kind {
            LogKind::Request => format!("received {what} from {}, {}", self.customer, self.event),
            LogKind::Execute if self.failed => format!("refused {what}{balance}"),
            LogKind::Execute => format!("executed {what}{balance}"),
            LogKind::PropagateSent => format!("propagates {what} of {} to {peer}", self.event),
            LogKind::PropagateReceived => format!("received {what} of {} from {peer}", self.event),
            LogKind::PropagateExecuted => {
                format!("applied {what} of {} from {peer}{balance}", self.event)
            }
            LogKind::PropagateAcked => {
                format!("{peer} acknowledged {} ", self.event).trim_end().to_owned()
            }
            LogKind::Response => format!(
                "answered {} for {}: {}{balance}",
                self.customer,
                self.event,
                if self.failed { "fail" } else { "success" }
            ),
        };
        format!("[{branch} @ clock {:>3}] {body}", self.clock)
    }
}

impl fmt::Display for LogKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogKind::Request => "request",
            LogKind::Execute => "execute",
            LogKind::PropagateSent => "propagate_sent",
            LogKind::PropagateReceived => "propagate_request",
            LogKind::PropagateExecuted => "propagate_execute",
            LogKind::PropagateAcked => "propagate_response",
            LogKind::Response => "response",
        })
    }
}
