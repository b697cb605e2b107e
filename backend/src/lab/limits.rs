//! What one server lets its labs use, and the words for a refusal.
//!
//! A server holds many labs (one per page load), each with its own cluster
//! of branch servers and its own history in memory, so it caps how many
//! labs run at once ([`LabsConfig`](super::registry::LabsConfig)), and, per
//! lab, the branches and scripted events of a scenario and the events a run
//! may record ([`Limits`]), and what one comparison may spend ([`CompareBudget`]).
//! A refusal is gRPC `RESOURCE_EXHAUSTED` with a
//! message that names the limit, its flag, and what the viewer can do.

use std::time::Duration;

use thiserror::Error;
use tonic::Status;

/// Per-lab caps (`bank serve --max-branches`, `--max-events`, `--max-history`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Branches in one scenario (each is a gRPC server with its own port).
    pub max_branches: usize,
    /// Scripted customer events in one scenario.
    pub max_events: usize,
    /// Events one run may record in the lab's history; at this many the run
    /// is stopped (a `halted` event says why). The history's bytes are
    /// capped with it: [`HISTORY_BYTES_PER_EVENT`] per event on average.
    pub max_history: usize,
}

/// The bytes a lab's history may hold per event of [`Limits::max_history`],
/// on average (64 MiB at the default 200,000 events). A run's events take
/// some 30 to 100 bytes each; a browser customer sending requests with huge
/// session write sets (up to 200,000 parts, a few MiB, each recorded and
/// sent to every watcher) reaches this long before the event count.
pub const HISTORY_BYTES_PER_EVENT: usize = 336;

impl Default for Limits {
    fn default() -> Self {
        Limits { max_branches: 100, max_events: 10_000, max_history: 200_000 }
    }
}

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

/// What to suggest when this server cannot take more.
const RUN_YOUR_OWN: &str = "run your own with `cargo xtask serve`";

/// A limit was reached: the message says which and what to do.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct LimitReached(pub String);

impl From<LimitReached> for Status {
    fn from(limit: LimitReached) -> Status {
        Status::resource_exhausted(limit.0)
    }
}

/// The server runs `max` labs already.
pub fn too_many_labs(max: usize) -> LimitReached {
    let labs = if max == 1 { "lab" } else { "labs" };
    LimitReached(format!(
        "this server runs {max} {labs}, its maximum (--max-labs); try again in a few minutes \
         (idle labs are stopped), or {RUN_YOUR_OWN}"
    ))
}

impl Limits {
    /// Whether a scenario with `branches` branches and `events` scripted
    /// events fits; if not, the refusal.
    pub fn admit(&self, branches: usize, events: usize) -> Result<(), LimitReached> {
        if branches > self.max_branches {
            return Err(LimitReached(format!(
                "this scenario has {branches} branches; a lab on this server holds at most {} \
                 (--max-branches); use fewer branches, or {RUN_YOUR_OWN} --max-branches {branches}",
                self.max_branches
            )));
        }
        if events > self.max_events {
            return Err(LimitReached(format!(
                "this scenario has {events} scripted events; a lab on this server plays at most \
                 {} (--max-events); split it, run it with `bank run`, or {RUN_YOUR_OWN} \
                 --max-events {events}",
                self.max_events
            )));
        }
        Ok(())
    }

    /// The most bytes a lab's history may hold.
    pub fn max_history_bytes(&self) -> usize {
        self.max_history.saturating_mul(HISTORY_BYTES_PER_EVENT)
    }

    /// Why a run was stopped at the history's byte cap, after `events`.
    pub fn history_too_large(&self, events: usize) -> String {
        format!(
            "the run was stopped: its {events} recorded events hold {}, the most a lab on this \
             server keeps ({HISTORY_BYTES_PER_EVENT} bytes for each of the --max-history {} \
             events); scrub through what was recorded, load a smaller scenario, run it with \
             `bank run`, or {RUN_YOUR_OWN} --max-history N",
            size_text(self.max_history_bytes()),
            self.max_history
        )
    }

    /// Why a run was stopped at the history cap.
    pub fn history_full(&self) -> String {
        format!(
            "the run was stopped: it recorded {} events, the most a lab on this server keeps \
             (--max-history); scrub through what was recorded, load a smaller scenario, run it \
             with `bank run`, or {RUN_YOUR_OWN} --max-history N",
            self.max_history
        )
    }
}

/// "64 MiB", "328 KiB", "900 bytes".
fn size_text(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}
