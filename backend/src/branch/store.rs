//! A branch's durable store: every write it applied, in order, on disk.
//!
//! One append-only file per branch (`branch-<id>.log` in the data
//! directory). Each record is an `AppliedWrite` proto message, length
//! delimited, so recovery reads the file front to back and stops at a torn
//! last record (a crash in the middle of a write). [`Branch::recover`]
//! replays the records.
//!
//! **What is fsync'd.** The host appends every write the branch applies.
//! In a durable store (a data directory the user chose), before a branch
//! *acknowledges* a customer's write the file is flushed to the disk
//! (`sync_data`), so an acknowledged write survives even a power loss. A
//! store in a temporary directory (the in-process cluster's default, deleted
//! at the end of the run) skips the flush: it only has to survive the crash
//! of a branch, which the operating system's page cache does, and the flush
//! would cost a disk round trip per customer answer. Writes received from peers are appended without waiting for the
//! disk: they survive a crash of the branch process (the OS still has them),
//! and anything lost in a power cut is fetched again from the peers by
//! anti-entropy.
//!
//! **Group commit.** The flush happens off the branch's task, on a
//! [`Flusher`] of its own (see [`crate::branch::commit`]).
//!
//! [`Branch::recover`]: bank_core::Branch::recover

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use bank_core::branch::Applied;
use bank_core::{BranchId, Cents, StoredWrite};
use bank_proto as pb;
use prost::Message;

use crate::branch::commit::Flusher;

/// An open store. See the module docs.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    file: File,
    /// Appended since the last sync.
    dirty: bool,
    /// Flush to the disk in [`Store::sync`] (see the module docs).
    durable: bool,
}

impl Store {
    /// The store file of `branch` in `dir`.
    pub fn path(dir: &Path, branch: BranchId) -> PathBuf {
        dir.join(format!("branch-{}.log", branch.0))
    }

    /// Opens (creating it if needed) the store of `branch` in `dir` and reads
    /// back what it holds. `fresh` empties it first (a new run).
    pub fn open(
        dir: &Path,
        branch: BranchId,
        fresh: bool,
    ) -> io::Result<(Store, Vec<StoredWrite>)> {
        std::fs::create_dir_all(dir)?;
        let path = Store::path(dir, branch);
        let stored = if fresh || !path.exists() { Vec::new() } else { read_all(&path)? };
        let file = OpenOptions::new().create(true).append(true).truncate(false).open(&path)?;
        if fresh {
            file.set_len(0)?;
        }
        Ok((Store { path, file, dirty: false, durable: true }, stored))
    }

    /// A store whose [`Store::sync`] does not wait for the disk (see the
    /// module docs): for temporary directories.
    pub fn volatile(mut self) -> Store {
        self.durable = false;
        self
    }

    pub fn file_path(&self) -> &Path {
        &self.path
    }

    /// Appends one write (not yet flushed to the disk).
    pub fn append(&mut self, write: &StoredWrite) -> io::Result<()> {
        let applied = Applied { write: write.clone(), balance_after: Cents::ZERO };
        let record = pb::AppliedWrite::from(&applied);
        self.file.write_all(&record.encode_length_delimited_to_vec())?;
        self.dirty = true;
        Ok(())
    }

    /// Empties the store (a reset into a new run).
    pub fn clear(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.dirty = false;
        Ok(())
    }

    /// Flushes appended writes to the disk.
    pub fn sync(&mut self) -> io::Result<()> {
        if self.dirty && self.durable {
            self.file.sync_data()?;
            self.dirty = false;
        }
        Ok(())
    }

    /// For a durable store, a [`Flusher`] that flushes it from its own task.
    pub fn flusher(&self) -> io::Result<Option<Flusher>> {
        if !self.durable {
            return Ok(None);
        }
        Ok(Some(Flusher::spawn(self.file.try_clone()?, self.path.clone())))
    }

    /// Whether writes were appended since the last call (the next flush has
    /// something to do); resets the mark.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }
}

/// The settings of the run a branch process was last reset into, kept next
/// to its store so that a restarted process rejoins the same run.
pub fn save_run(dir: &Path, branch: BranchId, reset: &bank_core::RunSettings) -> io::Result<()> {
    let text = format!(
        "{} {} {} {}\n",
        reset.balance.0,
        reset.clock_scheme.name(),
        bank_core::experiment::propagation_name(reset.propagation),
        reset.epoch
    );
    let path = dir.join(format!("branch-{}.run", branch.0));
    let tmp = path.with_extension("run.tmp");
    std::fs::write(&tmp, text)?;
    File::open(&tmp)?.sync_all()?;
    std::fs::rename(tmp, path)
}

/// What [`save_run`] saved, if anything (unreadable files count as nothing).
pub fn load_run(dir: &Path, branch: BranchId) -> Option<bank_core::RunSettings> {
    let text = std::fs::read_to_string(dir.join(format!("branch-{}.run", branch.0))).ok()?;
    let mut parts = text.split_whitespace();
    let balance = Cents(parts.next()?.parse().ok()?);
    let clock_scheme = bank_core::ClockScheme::from_name(parts.next()?)?;
    let propagation = bank_core::experiment::parse_propagation(parts.next()?).ok()?;
    let epoch = parts.next()?.parse().ok()?;
    Some(bank_core::RunSettings { balance, clock_scheme, propagation, epoch })
}

/// Every complete record of the file at `path`, in order.
fn read_all(path: &Path) -> io::Result<Vec<StoredWrite>> {
    let mut bytes = Vec::new();
    BufReader::new(File::open(path)?).read_to_end(&mut bytes)?;
    let mut buf = bytes.as_slice();
    let mut out = Vec::new();
    while !buf.is_empty() {
        // A torn last record (a crash mid-append) ends the log.
        let Ok(record) = pb::AppliedWrite::decode_length_delimited(&mut buf) else { break };
        match Applied::try_from(&record) {
            Ok(applied) => out.push(applied.write),
            Err(e) => {
                tracing::warn!(path = %path.display(), "skipping a malformed record in the store: {e}");
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bank_core::{CustomerId, EventId, Op, WriteId, WriteSet};

    fn write(seq: u64) -> StoredWrite {
        StoredWrite {
            write: WriteId { origin: BranchId(1), seq },
            customer: CustomerId(1),
            event: EventId(seq),
            op: Op::Deposit(Cents(100 * seq as i64)),
            depends_on: WriteSet::new(),
            clock: seq,
        }
    }

    #[test]
    fn writes_survive_reopening_and_a_torn_tail_is_ignored() {
        let dir = std::env::temp_dir().join(format!("bank-store-test-{}", std::process::id()));
        let (mut store, stored) = Store::open(&dir, BranchId(1), true).unwrap();
        assert!(stored.is_empty());
        store.append(&write(1)).unwrap();
        store.append(&write(2)).unwrap();
        store.sync().unwrap();
        drop(store);
        // A crash in the middle of the third append.
        let path = Store::path(&dir, BranchId(1));
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[40, 1, 2]).unwrap();
        drop(f);
        let (_, stored) = Store::open(&dir, BranchId(1), false).unwrap();
        assert_eq!(stored, vec![write(1), write(2)]);
        let (_, stored) = Store::open(&dir, BranchId(1), true).unwrap();
        assert!(stored.is_empty(), "fresh empties the store");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_durable_store_has_a_flusher_and_marks_appends_dirty() {
        let dir = std::env::temp_dir().join(format!("bank-store-flush-{}", std::process::id()));
        let (store, _) = Store::open(&dir, BranchId(1), true).unwrap();
        assert!(store.volatile().flusher().unwrap().is_none(), "a volatile store never flushes");
        let (mut store, _) = Store::open(&dir, BranchId(1), true).unwrap();
        assert!(store.flusher().unwrap().is_some(), "a durable store has a flusher");
        assert!(!store.take_dirty());
        store.append(&write(1)).unwrap();
        assert!(store.take_dirty(), "an append makes the next flush needed");
        assert!(!store.take_dirty(), "taken");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
