//! The bytes under a store: what a [`Store`](super::Store) needs of a file,
//! and the real file on a disk.
//!
//! A store only appends, cuts off a torn end, and flushes. Behind the
//! [`LogFile`] trait that can be the file on the disk ([`DiskFile`]) or a
//! stand-in that fails on purpose ([`super::faulty`]), so that a full disk
//! or a failing flush can be tested without a real one.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

/// An append-only file (see the module docs).
pub trait LogFile: Send + fmt::Debug {
    /// Appends `bytes` at the end. On an error any prefix of them may have
    /// been written (a disk that fills up in the middle): the caller cuts
    /// the file back.
    fn append(&mut self, bytes: &[u8]) -> io::Result<()>;

    /// Cuts the file to its first `len` bytes.
    fn truncate(&mut self, len: u64) -> io::Result<()>;

    /// What flushes this file to the disk, from any task.
    fn syncer(&self) -> Arc<dyn Syncer>;
}

/// Flushes a [`LogFile`] to the disk; shared with the task that flushes
/// (see [`crate::branch::commit`]).
pub trait Syncer: Send + Sync + fmt::Debug {
    /// Returns once everything appended so far is on the disk.
    fn sync(&self) -> io::Result<()>;
}

/// A store's file on the disk, opened for appending.
#[derive(Debug)]
pub struct DiskFile {
    file: Arc<File>,
}

impl DiskFile {
    /// Opens `path` for appending, creating it if needed.
    pub fn open(path: &Path) -> io::Result<DiskFile> {
        let file = OpenOptions::new().create(true).append(true).truncate(false).open(path)?;
        Ok(DiskFile { file: Arc::new(file) })
    }
}

impl LogFile for DiskFile {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        // One `write_all` of the whole record: the file is opened for
        // appending, so every write goes to its current end.
        (&*self.file).write_all(bytes)
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }

    fn syncer(&self) -> Arc<dyn Syncer> {
        Arc::new(FileSyncer(self.file.clone()))
    }
}

/// Flushes a [`DiskFile`] with `fdatasync`.
#[derive(Debug)]
struct FileSyncer(Arc<File>);

impl Syncer for FileSyncer {
    fn sync(&self) -> io::Result<()> {
        self.0.sync_data()
    }
}
