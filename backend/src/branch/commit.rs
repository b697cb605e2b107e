//! Group commit: a customer is answered only once what its reply
//! acknowledges is on the disk, and many replies share one flush.
//!
//! A durable store ([`crate::branch::store`]) must be flushed (`sync_data`)
//! before a branch acknowledges a customer's write. Flushing on the branch's
//! own task would stop it for a disk round trip per reply. A [`Flusher`]
//! runs the flush on a task of its own instead: the branch goes on applying
//! writes while the disk works, and the replies that pile up meanwhile share
//! the next flush. Replies keep their order: a batch handed over later is
//! never sent before an earlier one.
//!
//! A flush that fails acknowledges nothing: each customer whose reply
//! would have acknowledged a write is told instead that the storage failed
//! (the branch, the file and what the operating system said). The write
//! may still take effect, as after a crash before the answer: it was
//! applied, and it is in the file, just not known to be on the disk. The
//! failure is logged once when it starts and once when flushes work again.

use std::path::PathBuf;
use std::sync::Arc;

use bank_core::branch::Reply;
use bank_core::{BranchId, FailReason, Outcome};

use crate::branch::store::file::Syncer;

/// Flushes a store to the disk off the branch's task, then lets the replies
/// that waited for it go: replies handed over while a flush runs wait for
/// the next one, which covers them all (see the module docs).
#[derive(Debug)]
pub struct Flusher {
    queue: tokio::sync::mpsc::UnboundedSender<(bool, Vec<PendingReply>)>,
}

/// A customer's reply, sent once what it acknowledges is on the disk.
pub type PendingReply =
    (tokio::sync::oneshot::Sender<bank_core::branch::Reply>, bank_core::branch::Reply);

impl Flusher {
    /// Starts the flusher's task for branch `branch`'s store at `path`,
    /// flushed by `syncer`.
    pub fn spawn(syncer: Arc<dyn Syncer>, path: PathBuf, branch: BranchId) -> Flusher {
        let (queue, mut handed) =
            tokio::sync::mpsc::unbounded_channel::<(bool, Vec<PendingReply>)>();
        tokio::spawn(async move {
            let mut failing = false;
            while let Some((mut flush, mut replies)) = handed.recv().await {
                while let Ok((more_flush, more)) = handed.try_recv() {
                    flush |= more_flush;
                    replies.extend(more);
                }
                let failed = if flush {
                    let syncer = syncer.clone();
                    match tokio::task::spawn_blocking(move || syncer.sync()).await {
                        Ok(Ok(())) => None,
                        Ok(Err(e)) => Some(e.to_string()),
                        Err(e) => Some(format!("the flush did not finish: {e}")),
                    }
                } else {
                    None
                };
                match (&failed, failing) {
                    (Some(e), false) => tracing::error!(
                        branch = branch.0,
                        "cannot flush the store {}: {e}; customer writes are not acknowledged \
                         until flushes work again",
                        path.display()
                    ),
                    (None, true) if flush => tracing::info!(
                        branch = branch.0,
                        "the store {} flushes again",
                        path.display()
                    ),
                    _ => {}
                }
                if flush {
                    failing = failed.is_some();
                }
                for (tx, reply) in replies {
                    let reply = match &failed {
                        Some(e) => unflushed(reply, branch, &path, e),
                        None => reply,
                    };
                    // The customer may have hung up; nothing to do then.
                    let _ = tx.send(reply);
                }
            }
        });
        Flusher { queue }
    }

    /// Sends `replies` after a flush of everything appended so far (if
    /// `flush`), and after every batch handed over before them.
    pub fn send_after_flush(&self, flush: bool, replies: Vec<PendingReply>) {
        // Fails only when the flusher's task is gone (the runtime is
        // shutting down): the customers then see their call end.
        let _ = self.queue.send((flush, replies));
    }
}

/// `reply` after the flush that was to make its write durable failed: a
/// success that acknowledges a write becomes a storage failure (see the
/// module docs); every other reply acknowledges nothing and goes as it is.
fn unflushed(reply: Reply, branch: BranchId, path: &std::path::Path, error: &str) -> Reply {
    let Some(write) = reply.write.filter(|_| reply.outcome.is_success()) else { return reply };
    let why = format!(
        "branch {} could not flush write {write} to the disk, so it does not acknowledge it \
         (it may still take effect, as after a crash before an answer): cannot flush the store \
         {}: {error}",
        branch.0,
        path.display()
    );
    let balance = reply.outcome.balance();
    Reply {
        outcome: Outcome::Failed { reason: FailReason::StorageFailed(why), balance },
        write: None,
        ..reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::branch::store::file::{DiskFile, LogFile};
    use bank_core::{CustomerId, EventId, Op, WriteSet};

    #[tokio::test]
    async fn a_flusher_sends_every_reply_handed_to_it_in_order() {
        let path = std::env::temp_dir().join(format!("bank-flusher-{}", std::process::id()));
        let syncer = DiskFile::open(&path).unwrap().syncer();
        let flusher = Flusher::spawn(syncer, path.clone(), BranchId(1));
        let reply = |event: u64| {
            let request = bank_core::Request {
                customer: CustomerId(1),
                event: EventId(event),
                branch: BranchId(1),
                op: Op::Query,
                clock: 0,
                guarantees: bank_core::Guarantees::NONE,
                write_set: WriteSet::new(),
                read_set: WriteSet::new(),
            };
            bank_core::branch::Reply::unanswered(&request, String::new())
        };
        let mut answers = Vec::new();
        for (flush, event) in [(true, 1), (false, 2), (true, 3)] {
            let (tx, rx) = tokio::sync::oneshot::channel();
            flusher.send_after_flush(flush, vec![(tx, reply(event))]);
            answers.push(rx);
        }
        // (That a reply waits for its flush, and for the batches handed over
        // before it, follows from the flusher being one task reading one
        // queue; a flush itself cannot be observed from here.)
        let mut events = Vec::new();
        for rx in answers {
            events.push(rx.await.expect("every reply is sent").event.0);
        }
        assert_eq!(events, vec![1, 2, 3], "each reply reaches its own customer");
        std::fs::remove_file(&path).unwrap();
    }
}
