//! What a running cluster reports about itself, in the order it happens.
//!
//! Branch nodes and customer tasks push [`Activity`] into one unbounded
//! channel (an [`ActivitySink`]) at the moment things happen: a customer's
//! `Sent` is pushed before its RPC leaves, a branch's log entry while the
//! branch handles the message, the customer's `Answered` after the reply
//! arrived. One channel therefore keeps cause before effect, which the
//! visualizer's animation and `--trace` rely on.
//!
//! Activity also crosses processes: a branch process streams its `Logged`
//! entries to its watchers as `BranchLogged` messages (`Admin.Trace`), and
//! the lab records everything but a run's end as [`pb::LabEvent`]s. Both
//! conversions are here, next to the type, as `From` / `TryFrom` impls
//! (the core ⇄ proto ones they use are bank-proto's, in
//! [`bank_proto::convert`]):
//!
//! | activity | proto | |
//! |---|---|---|
//! | `Logged` | `BranchLogged` (and `lab_event::Event::BranchLogged`) | both ways |
//! | `Sent`, `Answered` | `lab_event::Event::{CustomerSent, CustomerAnswered}` | to proto |
//! | `RunEnded` | none: the lab records violations and `Finished` itself | |

use std::collections::BTreeMap;

use bank_core::branch::{Reply, Request};
use bank_core::trace::Traced;
use bank_core::{BranchId, Cents, CustomerId, EventId, LogEntry, RunRecord};
use bank_proto as pb;
use bank_proto::{lab_trace, ConvertError};
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

/// The lab event for one piece of activity; `None` for a run's end, which
/// the lab turns into events itself (it needs the scenario and the format).
/// The messages are bank-proto's [`lab_trace`], the same the simulator's
/// trace becomes in the browser.
impl From<&Activity> for Option<pb::lab_event::Event> {
    fn from(activity: &Activity) -> Option<pb::lab_event::Event> {
        Some(match activity {
            Activity::Logged { branch, entry, balance, added_writes } => {
                lab_trace::branch_logged(*branch, entry, *balance, added_writes)
            }
            Activity::Sent { session, from_browser, request } => {
                lab_trace::customer_sent(*session, *from_browser, request)
            }
            Activity::Answered { session, from_browser, reply } => {
                lab_trace::customer_answered(*session, *from_browser, reply)
            }
            Activity::RunEnded(_) => return None,
        })
    }
}

/// A branch node's trace item, as the activity it reports.
impl From<Traced> for Activity {
    fn from(traced: Traced) -> Activity {
        match traced {
            Traced::Logged { branch, entry, balance, added_writes } => {
                Activity::Logged { branch, entry, balance, added_writes }
            }
            Traced::Sent { session, from_browser, request } => {
                Activity::Sent { session, from_browser, request }
            }
            Traced::Answered { session, from_browser, reply } => {
                Activity::Answered { session, from_browser, reply }
            }
        }
    }
}

/// A branch process's traced entry, as the activity an in-process node
/// would have reported.
impl TryFrom<&pb::BranchLogged> for Activity {
    type Error = ConvertError;
    fn try_from(logged: &pb::BranchLogged) -> Result<Activity, ConvertError> {
        lab_trace::traced_logged(logged).map(Activity::from)
    }
}

#[cfg(test)]
mod tests {
    use bank_core::{LogKind, OpKind};

    use super::*;

    fn logged() -> Activity {
        Activity::Logged {
            branch: BranchId(2),
            entry: LogEntry {
                clock: 4,
                // The step that led to the clock (what the wire carries back).
                step: bank_core::ClockStep { result: 4, ..Default::default() },
                write: None,
                kind: LogKind::PropagateExecuted,
                customer: CustomerId(1),
                event: EventId(3),
                op: OpKind::Deposit,
                amount: Cents(500),
                peer: Some(BranchId(1)),
                balance: None,
                failed: false,
            },
            balance: Cents(1500),
            added_writes: [(CustomerId(1), vec![EventId(3)])].into_iter().collect(),
        }
    }

    #[test]
    fn a_traced_entry_is_the_activity_it_was_made_from() {
        let Some(pb::lab_event::Event::BranchLogged(wire)) = Option::from(&logged()) else {
            panic!("a logged entry is a BranchLogged event");
        };
        let back = Activity::try_from(&wire).expect("well-formed");
        assert_eq!(format!("{back:?}"), format!("{:?}", logged()));
    }

    #[test]
    fn a_traced_entry_needs_its_entry() {
        let empty = pb::BranchLogged { entry: None, ..Default::default() };
        assert_eq!(
            Activity::try_from(&empty).unwrap_err(),
            ConvertError::MissingField("BranchLogged.entry")
        );
    }

    #[test]
    fn the_end_of_a_run_is_no_lab_event() {
        let ended = Activity::RunEnded(Err(RunError::Cancelled));
        assert_eq!(Option::<pb::lab_event::Event>::from(&ended), None);
    }
}
