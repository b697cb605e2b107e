//! A lab's recorded history: compact, shared by every watcher, never copied.
//!
//! A run on 20 branches records about 80 events per customer write (each
//! branch logs the propagation it sent, received and applied), and a server
//! holds many labs, each watched by its owner and its followers, so how an
//! event is kept decides how much a server can hold. An event is kept as
//! its protobuf encoding (a `BranchLogged` is some 30 bytes, where the
//! decoded message with its largest variant's room is several hundred),
//! written back to back into shared 64 KiB chunks ([`bytes::Bytes`] views
//! of them, so an event costs its encoding plus one 32-byte view, and no
//! allocation of its own).
//!
//! Watchers do not get copies: each is a [`Follower`], a cursor into the one
//! history that waits for what is appended after it (a `tokio::sync::watch`
//! counter wakes them). A follower that is slow only lags behind, reading
//! the same bytes later; nothing is buffered per watcher, and a watcher who
//! joins late is served from the history itself. A restart (load or reset)
//! starts a new *epoch*: the history is emptied and every follower goes on
//! from the new epoch's first event, as a browser that watched across a
//! reload sees the new run from its `Loaded` event.

use std::sync::{Arc, Mutex};

use bank_proto as pb;
use bytes::{Bytes, BytesMut};
use prost::Message;
use tokio::sync::watch;

/// The size of the chunks events are written into.
const CHUNK: usize = 64 * 1024;

/// The events a follower takes from the history at once (at most).
pub const BATCH: usize = 256;

/// One lab's history; cheap to clone (every clone is the same history).
#[derive(Clone, Debug)]
pub struct History {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    log: Mutex<Log>,
    /// Bumped on every append and clear: what followers wait on.
    changes: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct Log {
    /// Cleared histories so far.
    epoch: u64,
    events: Vec<Bytes>,
    /// Where the next event's encoding goes (the unwritten rest of a chunk).
    arena: BytesMut,
    /// The encodings' bytes, for [`History::footprint`].
    encoded: usize,
}

impl Default for History {
    fn default() -> Self {
        History::new()
    }
}

impl History {
    pub fn new() -> History {
        let (changes, _) = watch::channel(0);
        History { shared: Arc::new(Shared { log: Mutex::new(Log::default()), changes }) }
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.shared.log.lock().expect("history lock")
    }

    fn changed(&self) {
        self.shared.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Events recorded in this epoch.
    pub fn len(&self) -> usize {
        self.log().events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `event` and wakes the followers.
    pub fn push(&self, event: &pb::LabEvent) {
        {
            let mut log = self.log();
            let len = event.encoded_len();
            if log.arena.capacity() - log.arena.len() < len {
                log.arena = BytesMut::with_capacity(CHUNK.max(len));
            }
            event.encode(&mut log.arena).expect("room was made for the event");
            let bytes = log.arena.split().freeze();
            log.encoded += bytes.len();
            log.events.push(bytes);
        }
        self.changed();
    }

    /// Empties the history for a new run (a new epoch); followers go on
    /// with its first event.
    pub fn clear(&self) {
        {
            let mut log = self.log();
            log.epoch += 1;
            log.events = Vec::new();
            log.arena = BytesMut::new();
            log.encoded = 0;
        }
        self.changed();
    }

    /// The bytes of the events' encodings (what [`Limits`](super::limits::Limits)
    /// caps; the buffers' spare room is not counted).
    pub fn encoded_bytes(&self) -> usize {
        self.log().encoded
    }

    /// The bytes this history holds now: the encodings, their views and
    /// the spare room of the buffers.
    pub fn footprint(&self) -> usize {
        let log = self.log();
        log.encoded
            + log.events.capacity() * std::mem::size_of::<Bytes>()
            + (log.arena.capacity() - log.arena.len())
    }

    /// Every event of this epoch so far, decoded (for tests and tools; a
    /// watch stream uses a [`Follower`]).
    pub fn snapshot(&self) -> Vec<pb::LabEvent> {
        let events = self.log().events.clone();
        events.iter().map(decode).collect()
    }

    /// Which history this is: 0 before the first run, then one more for
    /// each [`clear`](History::clear) (what a `loaded` event says, and a
    /// watch stream resumes by).
    pub fn epoch(&self) -> u64 {
        self.log().epoch
    }

    /// A follower from this epoch's first event.
    pub fn follow(&self) -> Follower {
        self.follow_from(0, 0)
    }

    /// A follower from event `from` of epoch `epoch` when that is this
    /// epoch and it has that many events (a watch stream resumed where its
    /// page was); otherwise from this epoch's first event.
    pub fn follow_from(&self, epoch: u64, from: u64) -> Follower {
        let changes = self.shared.changes.subscribe();
        let log = self.log();
        let next = match usize::try_from(from) {
            Ok(from) if epoch == log.epoch && from <= log.events.len() => from,
            _ => 0,
        };
        Follower { history: self.clone(), changes, epoch: log.epoch, next }
    }

    /// A follower after the events recorded so far, and those events.
    pub fn follow_after_now(&self) -> (Vec<pb::LabEvent>, Follower) {
        let (epoch, events) = {
            let log = self.log();
            (log.epoch, log.events.clone())
        };
        let next = events.len();
        let changes = self.shared.changes.subscribe();
        let follower = Follower { history: self.clone(), changes, epoch, next };
        (events.iter().map(decode).collect(), follower)
    }
}

/// One recorded event, decoded (for a watch stream). The lab encoded it
/// itself, so it decodes.
pub fn decode(bytes: &Bytes) -> pb::LabEvent {
    pb::LabEvent::decode(bytes.clone()).expect("the history holds events the lab encoded")
}

/// A cursor into a [`History`]: the events recorded after it, as they come.
#[derive(Debug)]
pub struct Follower {
    history: History,
    changes: watch::Receiver<u64>,
    epoch: u64,
    next: usize,
}

impl Follower {
    /// The next events (at most `max`, at least one), waiting until there
    /// are some (for as long as it takes: a watch stream ends on its lab's
    /// close signal, not here).
    pub async fn next_batch(&mut self, max: usize) -> Vec<Bytes> {
        loop {
            // Seen before looking: an append after the look wakes us.
            self.changes.borrow_and_update();
            {
                let log = self.history.log();
                if log.epoch != self.epoch {
                    (self.epoch, self.next) = (log.epoch, 0);
                }
                if self.next < log.events.len() {
                    let end = log.events.len().min(self.next + max.max(1));
                    let batch = log.events[self.next..end].to_vec();
                    self.next = end;
                    return batch;
                }
            }
            // The sender lives in `self.history`: this cannot fail.
            let _ = self.changes.changed().await;
        }
    }

    /// The next event, decoded, waiting for it.
    pub async fn recv(&mut self) -> pb::LabEvent {
        decode(&self.next_batch(1).await[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pb::lab_event::Event;

    fn event(seq: u64) -> pb::LabEvent {
        let logged =
            pb::BranchLogged { branch_id: seq % 20, balance_cents: 100, ..Default::default() };
        pb::LabEvent {
            seq,
            at_micros: seq * 10,
            event: Some(Event::BranchLogged(logged)),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_follower_resumes_its_own_history_and_starts_a_newer_one_from_its_first_event() {
        let history = History::new();
        history.clear();
        let first = history.epoch();
        for seq in 0..10 {
            history.push(&event(seq));
        }
        let seqs = |batch: Vec<Bytes>| batch.iter().map(|b| decode(b).seq).collect::<Vec<_>>();
        // Where the page was, in the history it has.
        assert_eq!(seqs(history.follow_from(first, 7).next_batch(100).await), [7, 8, 9]);
        // Past its end, another history, or a hostile number: from the start.
        for (epoch, from) in [(first, 11), (first + 1, 3), (first - 1, 3), (first, u64::MAX)] {
            assert_eq!(seqs(history.follow_from(epoch, from).next_batch(3).await), [0, 1, 2]);
        }
        // At its end: the next event, when it comes.
        let mut at_end = history.follow_from(first, 10);
        history.push(&event(10));
        assert_eq!(seqs(at_end.next_batch(100).await), [10]);
        // A newer history: the resumed follower goes on with its first event.
        let mut resumed = history.follow_from(first, 11);
        history.clear();
        assert_eq!(history.epoch(), first + 1);
        history.push(&event(0));
        assert_eq!(seqs(resumed.next_batch(100).await), [0]);
    }

    #[tokio::test]
    async fn followers_read_every_event_in_order_whenever_they_joined() {
        let history = History::new();
        let mut early = history.follow();
        for seq in 0..1000 {
            history.push(&event(seq));
        }
        let mut late = history.follow();
        let (seen, mut after) = history.follow_after_now();
        assert_eq!(seen, (0..1000).map(event).collect::<Vec<_>>());
        history.push(&event(1000));
        for follower in [&mut early, &mut late] {
            let mut got = Vec::new();
            while got.len() < 1001 {
                got.extend(follower.next_batch(BATCH).await.iter().map(decode));
            }
            assert_eq!(got, (0..=1000).map(event).collect::<Vec<_>>());
        }
        assert_eq!(after.recv().await, event(1000));
        assert_eq!(history.snapshot().len(), 1001);
    }

    #[tokio::test]
    async fn a_waiting_follower_wakes_for_the_next_event() {
        let history = History::new();
        let mut follower = history.follow();
        let waiting = tokio::spawn(async move { follower.recv().await });
        tokio::task::yield_now().await;
        history.push(&event(0));
        assert_eq!(waiting.await.unwrap(), event(0));
    }

    #[tokio::test]
    async fn a_clear_starts_followers_on_the_new_epoch() {
        let history = History::new();
        let mut follower = history.follow();
        history.push(&event(0));
        history.push(&event(1));
        assert_eq!(follower.recv().await, event(0));
        history.clear();
        history.push(&event(7));
        assert_eq!(follower.recv().await, event(7), "the new run, from its start");
        assert_eq!(history.len(), 1);
    }

    #[test]
    fn events_are_kept_compact() {
        let history = History::new();
        for seq in 0..10_000 {
            history.push(&event(seq));
        }
        let per_event = history.footprint() / 10_000;
        // A BranchLogged like these encodes in under 20 bytes; with its
        // view and the Vec's spare room, well under 100 bytes an event.
        assert!(per_event < 100, "{per_event} bytes an event");
    }
}
