//! The lab's side-by-side comparison: bank-proto's
//! [`compare_within`], which the browser's simulated lab answers with too
//! (unbounded there: it spends its viewer's own CPU).
//!
//! On a server it spends everyone's, so [`compare_for`] bounds it: only a
//! caller with a lab may compare, a scenario is admitted only if its lab
//! could load it ([`Limits::admit`]), the comparisons run one per core at a
//! time, and each one stops when its client leaves, when the server stops,
//! or when it has spent its [`CompareBudget`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bank_proto as pb;
use bank_proto::compare::{compare_within, Budget, Refused};
use tonic::Status;

use crate::lab::limits::Limits;
use crate::lab::registry::Labs;

/// What one comparison (both runs) may spend on a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompareBudget {
    /// Simulated events. One holds about 1 KiB until its run ends (100
    /// branches, 2,000 deposits: 220,000 events, 215 MiB), so this bounds a
    /// comparison's memory too.
    pub events: u64,
    /// Time computing.
    pub time: Duration,
}

impl Default for CompareBudget {
    /// 400,000 events and 20 s: the shipped examples need at most some
    /// 35,000 events and a fraction of a second.
    fn default() -> Self {
        CompareBudget { events: 400_000, time: Duration::from_secs(20) }
    }
}

/// Sets its flag when dropped: with the call's future, when the client
/// leaves, so that the blocking work it started stops too.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// `Lab.Compare` on `labs`' server, within `limits` (the caller's lab's)
/// and the server's [`CompareBudget`].
pub async fn compare_for(
    labs: &Labs,
    limits: Limits,
    request: pb::CompareRequest,
) -> Result<pb::CompareReply, Status> {
    let turn = labs.comparison_turn().await;
    let left = Arc::new(AtomicBool::new(false));
    let _stop_when_the_client_leaves = StopOnDrop(left.clone());
    let budget = labs.config().compare_budget;
    let labs = labs.clone();
    // Two simulated runs: CPU work, off the async threads.
    let work = tokio::task::spawn_blocking(move || {
        let _turn = turn;
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
