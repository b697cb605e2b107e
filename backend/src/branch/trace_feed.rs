//! A branch process's log entries, for whoever watches it over `Admin.Trace`.
//!
//! In the in-process cluster, nodes report to the lab through an
//! [`ActivitySink`]. A branch running as its own process reports to the same
//! kind of sink, and a [`TraceFeed`] turns what arrives there into
//! `BranchLogged` messages broadcast to every open `Trace` stream (the
//! serving process of `bank serve --cluster` holds one per branch).
//!
//! Streams end when the feed is closed, so a branch's graceful shutdown is
//! not held up by a watcher.

use std::pin::Pin;

use bank_proto as pb;
use futures::Stream;
use tokio::sync::{broadcast, mpsc, watch};
use tonic::Status;

use crate::observe::{Activity, ActivitySink};

/// What a `Trace` call returns.
pub type TraceStream = Pin<Box<dyn Stream<Item = Result<pb::BranchLogged, Status>> + Send>>;

/// Entries a watcher may fall behind by before its stream ends with an error.
const BACKLOG: usize = 1 << 14;

/// The live log of one branch, shared by its `Trace` streams.
#[derive(Clone, Debug)]
pub struct TraceFeed {
    live: broadcast::Sender<pb::BranchLogged>,
    closed: watch::Sender<bool>,
}

impl TraceFeed {
    /// A feed and the sink its node reports to. Must be called inside a
    /// tokio runtime (a task moves entries from the sink to the streams).
    pub fn new() -> (TraceFeed, ActivitySink) {
        let (live, _) = broadcast::channel(BACKLOG);
        let (closed, _) = watch::channel(false);
        let (sink, mut activity) = mpsc::unbounded_channel::<Activity>();
        let pump = live.clone();
        tokio::spawn(async move {
            while let Some(item) = activity.recv().await {
                // The same message a lab records (see `crate::observe`).
                if let Some(pb::lab_event::Event::BranchLogged(logged)) = Option::from(&item) {
                    // Nobody watching is fine.
                    let _ = pump.send(logged);
                }
            }
        });
        (TraceFeed { live, closed }, sink)
    }

    /// Every entry from now on, until the feed closes.
    pub fn stream(&self) -> TraceStream {
        let state = (self.live.subscribe(), self.closed.subscribe(), false);
        Box::pin(futures::stream::unfold(state, |(mut rx, mut closed, done)| async move {
            if done {
                return None;
            }
            let item = tokio::select! {
                r = rx.recv() => r,
                _ = closed.wait_for(|c| *c) => return None,
            };
            match item {
                Ok(entry) => Some((Ok(entry), (rx, closed, false))),
                Err(broadcast::error::RecvError::Lagged(n)) => Some((
                    Err(Status::resource_exhausted(format!(
                        "the trace watcher fell {n} entries behind; watch again"
                    ))),
                    (rx, closed, true),
                )),
                Err(broadcast::error::RecvError::Closed) => None,
            }
        }))
    }

    /// Ends every stream (at shutdown).
    pub fn close(&self) {
        self.closed.send_replace(true);
    }
}
