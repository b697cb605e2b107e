//! What a run produced: every customer's answers and every branch's final
//! state and log. The course output formats are pure functions of a
//! [`Scenario`](crate::scenario::Scenario) and a [`RunRecord`].

use std::collections::BTreeMap;

use crate::branch::Applied;
use crate::ids::{BranchId, CustomerId, EventId, WriteId};
use crate::log::LogEntry;
use crate::money::Cents;
use crate::op::{OpKind, Outcome};
use crate::scenario::Scenario;
use crate::writes::WriteSet;

/// The answer to one customer event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventResult {
    pub event: EventId,
    pub op: OpKind,
    pub branch: BranchId,
    pub outcome: Outcome,
    /// The customer's Lamport clock when it sent the event (1, 2, ...).
    pub customer_clock: u64,
    /// Position of this answer among all answers of the run, in the order the
    /// customers received them (0-based). Orders the per-event outputs.
    pub completion: u64,
    /// The id of a successful write.
    pub write: Option<WriteId>,
    /// For a successful query: the writes the answer reflected.
    pub observed: Option<WriteSet>,
}

/// One customer session (one input entry) and its answers, in event order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerRecord {
    pub customer: CustomerId,
    pub results: Vec<EventResult>,
}

/// A branch at the end of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchRecord {
    pub id: BranchId,
    pub balance: Cents,
    pub clock: u64,
    /// Per customer: the event ids of that customer's writes, in the order
    /// this branch applied them.
    pub write_sets: BTreeMap<CustomerId, Vec<EventId>>,
    pub log: Vec<LogEntry>,
    /// Every write the branch applied, in order, with the balance after it
    /// (empty when only a brief state was asked for).
    pub applied: Vec<Applied>,
}

/// Everything a run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRecord {
    /// Same order as `Scenario::customers`.
    pub customers: Vec<CustomerRecord>,
    /// Ascending branch id.
    pub branches: Vec<BranchRecord>,
}

impl RunRecord {
    /// Assembles a record from per-session answers indexed like the
    /// scenario's events (`answers[session][event]`), as drivers collect them.
    ///
    /// # Panics
    /// If an event has no answer: drivers call this only once every session
    /// finished, so a gap is a bug in the driver.
    pub fn from_answers(
        scenario: &Scenario,
        answers: Vec<Vec<Option<EventResult>>>,
        branches: Vec<BranchRecord>,
    ) -> RunRecord {
        let customers = scenario
            .customers
            .iter()
            .zip(answers)
            .map(|(c, rs)| CustomerRecord {
                customer: c.id,
                results: rs
                    .into_iter()
                    .map(|r| r.expect("every event of a finished session is answered"))
                    .collect(),
            })
            .collect();
        RunRecord { customers, branches }
    }

    /// Every answer that failed with a fault of the run (a branch down, cut
    /// off, not ready in time: [`crate::FailReason::is_fault`]), with its
    /// customer, in customer then event order. Refusals by the bank's rules
    /// (insufficient funds) are results, not faults, and are not listed.
    pub fn faults(&self) -> impl Iterator<Item = (CustomerId, &EventResult)> + '_ {
        self.customers.iter().flat_map(|c| {
            c.results.iter().filter(|r| r.fault().is_some()).map(move |r| (c.customer, r))
        })
    }
}

impl EventResult {
    /// Why the event failed, if it failed with a fault of the run.
    pub fn fault(&self) -> Option<&crate::FailReason> {
        match &self.outcome {
            Outcome::Failed { reason, .. } if reason.is_fault() => Some(reason),
            _ => None,
        }
    }
}
