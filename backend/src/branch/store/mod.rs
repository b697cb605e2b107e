//! A branch's durable store: every write it applied, in order, on disk.
//!
//! One append-only file per branch (`branch-<id>.log` in the data
//! directory): a header, then one record per write, each with its length
//! and a CRC-32 checksum ([`record`] has the layout). [`Branch::recover`]
//! replays the records.
//!
//! **Nothing acknowledged is lost.** The branch hands each write to the
//! store *before* applying it (the store is its
//! [`WriteStore`](bank_core::branch::WriteStore), see
//! [`bank_core::branch::store`]). An append that fails (a full disk, an I/O
//! error) is cut off the file again, and the write is not applied: its
//! customer is told the storage failed (naming the branch, the file and
//! what the operating system said), a peer that sent it is refused and
//! sends it again. Queries are served as usual. Every write is a new try,
//! so the branch takes writes again as soon as the disk does, without a
//! restart. The store logs a failure once when it starts and once when it
//! ends, not once per refused write.
//!
//! **What is fsync'd.** In a durable store (a data directory the user
//! chose), before a branch *acknowledges* a customer's write the file is
//! flushed to the disk (`fdatasync`), so an acknowledged write survives even
//! a power loss. A flush that fails acknowledges nothing: the customers
//! waiting for it are told the storage failed (the write may still take
//! effect, as after a crash before the answer). A store in a temporary
//! directory (the in-process cluster's default, deleted at the end of the
//! run) skips the flush: it only has to survive the crash of a branch, which
//! the operating system's page cache does, and the flush would cost a disk
//! round trip per customer answer. Writes received from peers are
//! acknowledged once appended, without waiting for the disk: they survive a
//! crash of the branch process (the OS still has them), and anything lost
//! in a power cut is fetched again from the peers by anti-entropy.
//!
//! **Recovery** reads the records back and checks each one's checksum. A
//! torn tail (the last append cut short by a crash) is truncated, with a
//! warning naming the file, the offset and the bytes dropped, so that new
//! records follow valid data. Damage in the middle of the file (an invalid
//! record followed by valid ones) refuses to start, naming the file and the
//! byte offset: dropping what follows would lose acknowledged writes.
//!
//! **Group commit.** The flush happens off the branch's task, on a
//! [`Flusher`] of its own (see [`crate::branch::commit`]).
//!
//! | module | what it holds |
//! |---|---|
//! | [`record`] | the file layout: header, framed and checksummed records; recovery's scan |
//! | [`file`] | what the store needs of a file ([`LogFile`]), and the real one |
//! | [`faulty`] | a file that fails on purpose (full disk, failing flush), for tests |
//!
//! [`Branch::recover`]: bank_core::Branch::recover

pub mod faulty;
pub mod file;
pub mod record;

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bank_core::branch::WriteStore;
use bank_core::{BranchId, Cents, StoredWrite};

use crate::branch::commit::Flusher;
use faulty::{Faults, FaultyFile};
use file::{DiskFile, LogFile, Syncer};

/// An open store. See the module docs.
#[derive(Debug)]
pub struct Store {
    branch: BranchId,
    path: PathBuf,
    file: Box<dyn LogFile>,
    syncer: Arc<dyn Syncer>,
    /// Where the valid records end: the next one goes here (0: not even
    /// the header is written yet).
    end: u64,
    /// The largest clock reservation read back or appended (see
    /// [`record`]): give it to `Branch::recover_at`.
    clock_reserved: u64,
    /// A failed append may have left part of a record after `end`, and
    /// cutting it off failed too: it is cut before the next append.
    torn: bool,
    /// Appended since the last sync.
    dirty: bool,
    /// Flush to the disk before acknowledging (see the module docs).
    durable: bool,
    /// The last append failed (failures are logged once per change).
    failing: bool,
}

/// Why a write could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot append to the store {}: {source}", path.display())]
    Append { path: PathBuf, source: io::Error },
    #[error(
        "cannot cut the torn record off the end of the store {} (at byte {end}): {source}",
        path.display()
    )]
    Truncate { path: PathBuf, end: u64, source: io::Error },
    #[error("a record of {len} bytes is larger than the store {} allows ({})", path.display(), record::MAX_PAYLOAD)]
    TooLarge { path: PathBuf, len: usize },
}

/// The largest store file read back (1 GiB): a branch stores at most some
/// millions of writes of a few dozen bytes; anything larger is not a store,
/// and is refused rather than read into memory.
pub const MAX_STORE_BYTES: u64 = 1 << 30;

impl Store {
    /// The store file of `branch` in `dir`.
    pub fn path(dir: &Path, branch: BranchId) -> PathBuf {
        dir.join(format!("branch-{}.log", branch.0))
    }

    /// Opens (creating it if needed) the store of `branch` in `dir` and reads
    /// back what it holds; a torn tail is truncated (see the module docs).
    /// `fresh` empties it first (a new run). A file damaged in the middle,
    /// or not a store, is an error of kind `InvalidData` that names the
    /// file and the offset (a [`record::CorruptStore`] inside).
    pub fn open(
        dir: &Path,
        branch: BranchId,
        fresh: bool,
    ) -> io::Result<(Store, Vec<StoredWrite>)> {
        std::fs::create_dir_all(dir)?;
        let path = Store::path(dir, branch);
        // Checked before opening: opening a FIFO blocks, and reading a
        // device (a link to /dev/zero) never ends.
        if let Ok(meta) = std::fs::metadata(&path) {
            if !meta.is_file() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{} is not a regular file (a directory, FIFO or device); a store is a \
                         file this program wrote: move it away",
                        path.display()
                    ),
                ));
            }
            if meta.len() > MAX_STORE_BYTES {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} holds {} bytes, more than a store may ({MAX_STORE_BYTES}): it is not \
                         one this program wrote",
                        path.display(),
                        meta.len()
                    ),
                ));
            }
        }
        let mut file = DiskFile::open(&path)?;
        let syncer = file.syncer();
        let (writes, end, clock_reserved) = if fresh {
            file.truncate(0)?;
            (Vec::new(), 0, 0)
        } else {
            let bytes = std::fs::read(&path)?;
            let scan = record::scan(&path, &bytes)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            if scan.dropped > 0 {
                let why = scan.torn.as_ref().map(ToString::to_string).unwrap_or_default();
                tracing::warn!(
                    branch = branch.0,
                    file = %path.display(),
                    offset = scan.end,
                    dropped = scan.dropped,
                    "the store ends in a torn record ({why}): dropping its last {} bytes, \
                     from byte {} on (a crash cut an append short; it was never acknowledged)",
                    scan.dropped,
                    scan.end
                );
                file.truncate(scan.end)?;
                syncer.sync()?;
            }
            (scan.writes, scan.end, scan.clock_reserved)
        };
        let store = Store {
            branch,
            path,
            file: Box::new(file),
            syncer,
            end,
            clock_reserved,
            torn: false,
            dirty: false,
            durable: true,
            failing: false,
        };
        Ok((store, writes))
    }

    /// A store whose [`Store::sync`] does not wait for the disk (see the
    /// module docs): for temporary directories.
    pub fn volatile(mut self) -> Store {
        self.durable = false;
        self
    }

    /// The store with its file behind `faults` (see [`faulty`]): for tests.
    pub fn with_faults(mut self, faults: &Faults) -> Store {
        self.file = Box::new(FaultyFile::new(self.file, faults.clone()));
        self.syncer = self.file.syncer();
        self
    }

    pub fn file_path(&self) -> &Path {
        &self.path
    }

    /// Whether the last append failed.
    pub fn is_failing(&self) -> bool {
        self.failing
    }

    /// The largest clock the branch reserved in this store (0 if none).
    pub fn clock_reserved(&self) -> u64 {
        self.clock_reserved
    }

    /// Appends a clock reservation (`Effect::ReserveClock`), flushed with
    /// the next flush like any record. One that fails is logged: the
    /// branch goes on (after a crash its clock could then repeat values).
    pub fn reserve_clock(&mut self, up_to: u64) {
        match self.try_append(&record::encode_reservation(up_to)) {
            Ok(()) => self.clock_reserved = self.clock_reserved.max(up_to),
            Err(e) => tracing::warn!(
                branch = self.branch.0,
                "{e}: the clock reservation up to {up_to} is not stored (after a crash the \
                 branch's clock may repeat values it used)"
            ),
        }
    }

    /// Appends one write (not yet flushed to the disk). On an error nothing
    /// of it stays in the file (a partial record is cut off again, now or
    /// before the next append).
    pub fn append(&mut self, write: &StoredWrite) -> Result<(), StoreError> {
        let result = self.try_append(&record::encode(write));
        match (&result, self.failing) {
            (Err(e), false) => {
                tracing::error!(
                    branch = self.branch.0,
                    "{e}; refusing writes until the store takes them again"
                );
            }
            (Ok(()), true) => {
                tracing::info!(
                    branch = self.branch.0,
                    "the store {} takes writes again",
                    self.path.display()
                );
            }
            _ => {}
        }
        self.failing = result.is_err();
        result
    }

    fn try_append(&mut self, record: &[u8]) -> Result<(), StoreError> {
        if record.len() - record::FRAME_LEN > record::MAX_PAYLOAD {
            return Err(StoreError::TooLarge { path: self.path.clone(), len: record.len() });
        }
        if self.torn {
            self.cut()?;
        }
        // The first record of an empty file comes with the header.
        let with_header;
        let bytes = if self.end == 0 {
            with_header = [record::MAGIC.as_slice(), record].concat();
            &with_header
        } else {
            record
        };
        if let Err(source) = self.file.append(bytes) {
            // Part of it may be in the file: cut it off (or next time).
            self.torn = true;
            let _ = self.cut();
            return Err(StoreError::Append { path: self.path.clone(), source });
        }
        self.end += bytes.len() as u64;
        self.dirty = true;
        Ok(())
    }

    /// Cuts the file back to its valid records.
    fn cut(&mut self) -> Result<(), StoreError> {
        self.file.truncate(self.end).map_err(|source| StoreError::Truncate {
            path: self.path.clone(),
            end: self.end,
            source,
        })?;
        self.torn = false;
        Ok(())
    }

    /// Empties the store (a reset into a new run).
    pub fn clear(&mut self) -> io::Result<()> {
        self.file.truncate(0)?;
        self.end = 0;
        self.clock_reserved = 0;
        self.torn = false;
        self.dirty = false;
        Ok(())
    }

    /// Flushes appended writes to the disk (a volatile store: nothing to do).
    pub fn sync(&mut self) -> io::Result<()> {
        if self.dirty && self.durable {
            self.syncer.sync()?;
            self.dirty = false;
        }
        Ok(())
    }

    /// For a durable store, a [`Flusher`] that flushes it from its own task.
    pub fn flusher(&self) -> Option<Flusher> {
        self.durable.then(|| Flusher::spawn(self.syncer.clone(), self.path.clone(), self.branch))
    }

    /// Whether writes were appended since the last call (the next flush has
    /// something to do); resets the mark.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }
}

/// The branch stores each write here before applying it.
impl WriteStore for Store {
    fn store(&mut self, write: &StoredWrite) -> Result<(), String> {
        self.append(write).map_err(|e| e.to_string())
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

#[cfg(test)]
mod tests;
