//! What a running cluster reports about itself, in the order it happens.
//!
//! Branch nodes and customer tasks push [`Activity`] into one unbounded
//! channel (an [`ActivitySink`]) at the moment things happen: a customer's
//! `Sent` is pushed before its RPC leaves, a branch's log entry while the
//! branch handles the message, the customer's `Answered` after the reply
//! arrived. One channel therefore keeps cause before effect, which the
//! visualizer's animation and `--trace` rely on.

use std::collections::BTreeMap;

use bank_core::branch::{Reply, Request};
use bank_core::{BranchId, Cents, CustomerId, EventId, LogEntry, RunRecord};
use tokio::sync::mpsc;

use crate::error::RunError;

/// One thing that happened.
#[derive(Debug)]
pub enum Activity {
    /// A branch logged `entry`; `balance` is its balance right after, and
    /// `added_writes` what the entry added to its write sets: the write an
    /// Execute or PropagateExecuted entry applied, nothing for the others.
    /// Only the change: the whole write sets on every entry would grow the
    /// lab's history with the square of the number of writes.
    Logged {
        branch: BranchId,
        entry: LogEntry,
        balance: Cents,
        added_writes: BTreeMap<CustomerId, Vec<EventId>>,
    },
    /// A customer sent a request. `session` is the input entry index
    /// (0 for the browser's customer).
    Sent { session: u32, from_browser: bool, request: Request },
    /// A customer received its answer.
    Answered { session: u32, from_browser: bool, reply: Reply },
    /// A scripted run ended: every customer answered (with the record of the
    /// run), or it failed or was cancelled.
    RunEnded(Result<Box<RunRecord>, RunError>),
}

/// Where activity goes. Sending never blocks; a closed receiver is ignored.
pub type ActivitySink = mpsc::UnboundedSender<Activity>;

/// Sends `activity` if there is a sink.
pub fn report(sink: &Option<ActivitySink>, activity: impl FnOnce() -> Activity) {
    if let Some(sink) = sink {
        let _ = sink.send(activity());
    }
}
