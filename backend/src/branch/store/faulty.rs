//! A store file that fails on purpose: a full disk or a failing flush, on
//! demand, for tests.
//!
//! [`Store::with_faults`](super::Store::with_faults) puts a [`FaultyFile`]
//! around a store's real file. Everything goes through to the real file
//! until the test says otherwise through its [`Faults`] handle (shared, so
//! the test keeps one while the branch runs):
//!
//! * [`Faults::fill_after`]: the disk takes `bytes` more bytes, then every
//!   append fails with the given error. The append that crosses the limit
//!   writes the part that fits, as a real full disk does, so the store
//!   must cut the torn record off again;
//! * [`Faults::fail_syncs`]: every flush fails;
//! * [`Faults::fail_truncates`]: cutting the file back fails too;
//! * [`Faults::clear`]: the disk works again.
//!
//! Errors are raw operating-system errors ([`Faults::ENOSPC`],
//! [`Faults::EIO`]), so they read exactly as a real disk's do.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use super::file::{LogFile, Syncer};

/// What the faulty file does wrong now (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct Faults(Arc<Mutex<Plan>>);

#[derive(Debug, Default)]
struct Plan {
    /// Bytes the disk still takes before appends fail; `None`: unlimited.
    room: Option<u64>,
    /// The error of an append that does not fit.
    append_error: i32,
    sync_error: Option<i32>,
    truncate_error: Option<i32>,
}

impl Faults {
    /// "No space left on device" (Linux's number).
    pub const ENOSPC: i32 = 28;
    /// "Input/output error" (Linux's number).
    pub const EIO: i32 = 5;

    /// The disk takes `bytes` more bytes; after that, appends fail with the
    /// operating-system error `errno`.
    pub fn fill_after(&self, bytes: u64, errno: i32) {
        let mut plan = self.plan();
        plan.room = Some(bytes);
        plan.append_error = errno;
    }

    /// Every flush fails with `errno` until [`Faults::clear`].
    pub fn fail_syncs(&self, errno: i32) {
        self.plan().sync_error = Some(errno);
    }

    /// Cutting the file back fails with `errno` until [`Faults::clear`].
    pub fn fail_truncates(&self, errno: i32) {
        self.plan().truncate_error = Some(errno);
    }

    /// Everything works again.
    pub fn clear(&self) {
        *self.plan() = Plan::default();
    }

    fn plan(&self) -> MutexGuard<'_, Plan> {
        // A test that panicked while holding the lock left a plan behind
        // that is still a plan.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A [`LogFile`] that goes through to `inner` except where its [`Faults`]
/// say to fail.
#[derive(Debug)]
pub struct FaultyFile {
    inner: Box<dyn LogFile>,
    faults: Faults,
}

impl FaultyFile {
    pub fn new(inner: Box<dyn LogFile>, faults: Faults) -> FaultyFile {
        FaultyFile { inner, faults }
    }
}

impl LogFile for FaultyFile {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut plan = self.faults.plan();
        let Some(room) = plan.room else { return self.inner.append(bytes) };
        let len = bytes.len() as u64;
        if len <= room {
            plan.room = Some(room - len);
            return self.inner.append(bytes);
        }
        plan.room = Some(0);
        let error = io::Error::from_raw_os_error(plan.append_error);
        drop(plan);
        // What fits is written, as on a real disk.
        let fits = usize::try_from(room).unwrap_or(usize::MAX).min(bytes.len());
        self.inner.append(&bytes[..fits])?;
        Err(error)
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        if let Some(errno) = self.faults.plan().truncate_error {
            return Err(io::Error::from_raw_os_error(errno));
        }
        self.inner.truncate(len)
    }

    fn syncer(&self) -> Arc<dyn Syncer> {
        Arc::new(FaultySyncer { inner: self.inner.syncer(), faults: self.faults.clone() })
    }
}

/// Flushes through to the real file unless its [`Faults`] say to fail.
#[derive(Debug)]
struct FaultySyncer {
    inner: Arc<dyn Syncer>,
    faults: Faults,
}

impl Syncer for FaultySyncer {
    fn sync(&self) -> io::Result<()> {
        if let Some(errno) = self.faults.plan().sync_error {
            return Err(io::Error::from_raw_os_error(errno));
        }
        self.inner.sync()
    }
}
