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

use std::fs::File;
use std::path::PathBuf;

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
    /// Starts the flusher's task for `file` (`path` names it in errors).
    pub fn spawn(file: File, path: PathBuf) -> Flusher {
        let (queue, mut handed) =
            tokio::sync::mpsc::unbounded_channel::<(bool, Vec<PendingReply>)>();
        let file = std::sync::Arc::new(file);
        tokio::spawn(async move {
            while let Some((mut flush, mut replies)) = handed.recv().await {
                while let Ok((more_flush, more)) = handed.try_recv() {
                    flush |= more_flush;
                    replies.extend(more);
                }
                if flush {
                    let file = file.clone();
                    match tokio::task::spawn_blocking(move || file.sync_data()).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => {
                            tracing::error!("cannot flush the store {}: {e}", path.display())
                        }
                        Err(e) => {
                            tracing::error!("flushing the store {} failed: {e}", path.display())
                        }
                    }
                }
                for (tx, reply) in replies {
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

#[cfg(test)]
mod tests {
    use super::*;
    use bank_core::{BranchId, CustomerId, EventId, Op, WriteSet};

    #[tokio::test]
    async fn a_flusher_sends_every_reply_handed_to_it_in_order() {
        let path = std::env::temp_dir().join(format!("bank-flusher-{}", std::process::id()));
        let flusher = Flusher::spawn(File::create(&path).unwrap(), path.clone());
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
