//! The lab's side-by-side comparison: bank-proto's
//! [`compare_within`], which the browser's simulated lab answers with too
//! (unbounded there: it spends its viewer's own CPU).
//!
//! On a server it spends everyone's, so [`compare_for`] bounds it: only a
//! caller with a lab may compare, a scenario is admitted only if its lab
//! could load it ([`Limits::admit`](crate::lab::limits::Limits::admit)),
//! each lab has one comparison at a time, the comparisons run one per core at a
//! time, and each one stops when its client leaves, when the server stops,
//! or when it has spent its [`CompareBudget`](crate::lab::limits::CompareBudget).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bank_proto as pb;
use bank_proto::compare::{compare_within, Budget, Refused};
use tonic::Status;

use crate::lab::registry::Labs;
use crate::lab::Lab;

/// Sets its flag when dropped: with the call's future, when the client
/// leaves, so that the blocking work it started stops too.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// `Lab.Compare` for `lab` on `labs`' server: one at a time per lab,
/// within the lab's limits
/// and the server's [`CompareBudget`](crate::lab::limits::CompareBudget).
pub async fn compare_for(
    labs: &Labs,
    lab: &Lab,
    request: pb::CompareRequest,
) -> Result<pb::CompareReply, Status> {
    let limits = lab.limits();
    let Some(comparing) = lab.begin_comparison() else {
        return Err(Status::resource_exhausted(
            "this lab is already comparing: its answer comes first (one comparison per lab at \
             a time)",
        ));
    };
    let turn = labs.comparison_turn().await;
    let left = Arc::new(AtomicBool::new(false));
    let _stop_when_the_client_leaves = StopOnDrop(left.clone());
    let budget = labs.config().compare_budget;
    let labs = labs.clone();
    // Two simulated runs: CPU work, off the async threads.
    let work = tokio::task::spawn_blocking(move || {
        let (_turn, _comparing) = (turn, comparing);
        let started = Instant::now();
        let out_of_time = || started.elapsed() > budget.time;
        let admit = |branches, events| limits.admit(branches, events).map_err(|l| l.0);
        let keep_going = |events| {
            events <= budget.events
                && !left.load(Ordering::SeqCst)
                && !labs.is_stopping()
                && !out_of_time()
        };
        let outcome = compare_within(&request, Budget { admit: &admit, keep_going: &keep_going });
        (outcome, out_of_time())
    });
    let (outcome, out_of_time) =
        work.await.map_err(|e| Status::internal(format!("the comparison failed: {e}")))?;
    let too_much = |what: String| {
        Status::resource_exhausted(format!(
            "the comparison was stopped after {what}, the most this server spends on one; \
             compare a smaller scenario, or run each setting with `bank sim FILE --guarantees G`"
        ))
    };
    match outcome {
        Ok(reply) => Ok(reply),
        Err(Refused::TooLarge(why)) => Err(Status::resource_exhausted(why)),
        Err(Refused::Stopped { events }) if events > budget.events => {
            Err(too_much(format!("{} simulated events", budget.events)))
        }
        Err(Refused::Stopped { events }) if out_of_time => {
            Err(too_much(format!("{} s ({events} simulated events)", budget.time.as_secs())))
        }
        // The client has left, or the server is stopping.
        Err(Refused::Stopped { .. }) => Err(Status::unavailable("the server is stopping")),
    }
}
