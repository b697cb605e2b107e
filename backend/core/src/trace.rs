//! What a run shows as it happens: the trace both hosts of the branch core
//! report, the tokio cluster (through its activity channel) and the
//! simulator ([`crate::sim::paced`]).
//!
//! A [`Traced`] item is one thing a watcher sees: a customer sent a
//! request, a branch logged an entry, a customer got its answer. The lab
//! turns each into its wire event with one conversion (bank-proto's
//! `lab_trace`), whichever host ran the branches, so the visualizer draws a
//! live cluster and a simulated one with the same code.
//!
//! [`AppliedCursor`] is the one rule for what a log entry added to its
//! branch's write sets: both hosts report only the change, never the whole
//! sets (which would grow a trace with the square of its writes).

use std::collections::BTreeMap;

use crate::branch::{Branch, Reply, Request};
use crate::ids::{BranchId, CustomerId, EventId};
use crate::log::{LogEntry, LogKind};
use crate::money::Cents;

/// One thing that happened in a run, as a watcher sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Traced {
    /// A branch logged `entry`; `balance` is its balance right after, and
    /// `added_writes` what the entry added to its write sets (see
    /// [`AppliedCursor`]).
    Logged {
        branch: BranchId,
        entry: LogEntry,
        balance: Cents,
        added_writes: BTreeMap<CustomerId, Vec<EventId>>,
    },
    /// A customer sent a request. `session` is the input entry index (0 for
    /// the browser's customer).
    Sent { session: u32, from_browser: bool, request: Request },
    /// A customer received its answer.
    Answered { session: u32, from_browser: bool, reply: Reply },
}

/// How far into a branch's apply order its log entries have been reported.
///
/// Every write is applied with an Execute or PropagateExecuted entry of its
/// own, in apply order: that entry carries it. A host keeps one cursor per
/// branch life, starting at the length of the apply order it recovered
/// with ([`AppliedCursor::at`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppliedCursor(usize);

impl AppliedCursor {
    /// A cursor past the first `reported` applied writes.
    pub fn at(reported: usize) -> AppliedCursor {
        AppliedCursor(reported)
    }

    /// What `entry`, just logged by `branch`, added to its write sets (and
    /// moves past it).
    pub fn added(
        &mut self,
        branch: &Branch,
        entry: &LogEntry,
    ) -> BTreeMap<CustomerId, Vec<EventId>> {
        let mut added = BTreeMap::new();
        let applies = matches!(entry.kind, LogKind::Execute | LogKind::PropagateExecuted);
        let next = applies.then(|| branch.applied_log().customer_event(self.0)).flatten();
        if let Some((customer, event)) =
            next.filter(|written| *written == (entry.customer, entry.event))
        {
            added.insert(customer, vec![event]);
            self.0 += 1;
        }
        added
    }

    /// The trace item for `entry`, just logged by `branch`.
    pub fn logged(&mut self, branch: &Branch, entry: LogEntry) -> Traced {
        let added_writes = self.added(branch, &entry);
        Traced::Logged { branch: branch.id(), balance: branch.balance(), entry, added_writes }
    }
}
