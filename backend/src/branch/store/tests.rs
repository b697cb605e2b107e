//! The store's unit tests: what survives reopening, torn tails, damage in
//! the middle, and a disk that fills up or fails to flush (through
//! [`Faults`]).

use std::fs::OpenOptions;
use std::io::Write;

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

fn writes(seqs: std::ops::RangeInclusive<u64>) -> Vec<StoredWrite> {
    seqs.map(write).collect()
}

/// A fresh directory for one test, removed when dropped.
struct TestDir(PathBuf);

impl TestDir {
    fn new(name: &str) -> TestDir {
        let dir = std::env::temp_dir().join(format!("bank-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TestDir(dir)
    }

    fn log(&self) -> PathBuf {
        Store::path(&self.0, BranchId(1))
    }

    fn len(&self) -> u64 {
        std::fs::metadata(self.log()).unwrap().len()
    }

    fn open(&self) -> (Store, Vec<StoredWrite>) {
        Store::open(&self.0, BranchId(1), false).expect("the store opens")
    }

    /// Appends `bytes` to the file behind the store's back.
    fn scribble(&self, bytes: &[u8]) {
        OpenOptions::new().append(true).open(self.log()).unwrap().write_all(bytes).unwrap();
    }

    /// Flips one bit of the byte at `offset`.
    fn flip(&self, offset: u64) {
        let mut bytes = std::fs::read(self.log()).unwrap();
        bytes[offset as usize] ^= 0x10;
        std::fs::write(self.log(), bytes).unwrap();
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where record `i` (from 0) of a file of `writes(1..)` starts.
fn offset_of(i: u64) -> u64 {
    record::MAGIC.len() as u64
        + (1..=i).map(|s| record::encode(&write(s)).len() as u64).sum::<u64>()
}

#[test]
fn writes_survive_reopening_and_fresh_empties_the_store() {
    let dir = TestDir::new("reopen");
    let (mut store, stored) = Store::open(&dir.0, BranchId(1), true).unwrap();
    assert!(stored.is_empty());
    for w in writes(1..=3) {
        store.append(&w).unwrap();
    }
    store.sync().unwrap();
    drop(store);
    assert_eq!(dir.open().1, writes(1..=3));
    assert_eq!(std::fs::read(dir.log()).unwrap()[..8], *record::MAGIC, "the file has a header");
    let (_, stored) = Store::open(&dir.0, BranchId(1), true).unwrap();
    assert!(stored.is_empty(), "fresh empties the store");
    assert!(dir.open().1.is_empty());
}

/// Defect 2 of issue 17, exactly: torn bytes at the end, a restart (10
/// writes recovered), 20 more writes, a crash (no flush), a restart: all
/// 30 come back. Before the fix, the 20 were appended after the garbage,
/// and recovery stopped there.
#[test]
fn a_torn_tail_is_truncated_so_later_writes_come_back() {
    let dir = TestDir::new("torn");
    let (mut store, _) = dir.open();
    for w in writes(1..=10) {
        store.append(&w).unwrap();
    }
    drop(store);
    let valid = dir.len();
    // A crash in the middle of the eleventh append.
    dir.scribble(&[40, 1, 2]);

    let (mut store, stored) = dir.open();
    assert_eq!(stored, writes(1..=10), "10 recovered");
    assert_eq!(dir.len(), valid, "the torn tail is cut off");
    for w in writes(11..=30) {
        store.append(&w).unwrap();
    }
    store.sync().unwrap();
    // kill -9: nothing more happens to the file.
    drop(store);
    assert_eq!(dir.open().1, writes(1..=30), "all 30 come back");
}

#[test]
fn a_last_record_with_a_bad_checksum_is_a_torn_tail() {
    let dir = TestDir::new("badsum");
    let (mut store, _) = dir.open();
    for w in writes(1..=5) {
        store.append(&w).unwrap();
    }
    drop(store);
    // A byte of the last record's payload (after its 8-byte frame).
    dir.flip(offset_of(4) + 9);
    let (mut store, stored) = dir.open();
    assert_eq!(stored, writes(1..=4));
    assert_eq!(dir.len(), offset_of(4), "cut right after the last valid record");
    store.append(&write(5)).unwrap();
    drop(store);
    assert_eq!(dir.open().1, writes(1..=5));
}

#[test]
fn damage_in_the_middle_refuses_to_start_naming_the_file_and_offset() {
    let dir = TestDir::new("middle");
    let (mut store, _) = dir.open();
    for w in writes(1..=10) {
        store.append(&w).unwrap();
    }
    drop(store);
    let len = dir.len();
    let damaged = offset_of(4);
    // Record 5's checksum (the second field of its frame).
    dir.flip(damaged + 5);
    let e = Store::open(&dir.0, BranchId(1), false).expect_err("refused");
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    let message = e.to_string();
    assert!(message.contains(&dir.log().display().to_string()), "{message}");
    assert!(message.contains(&format!("damaged at byte {damaged}:")), "{message}");
    assert!(message.contains("checksum mismatch"), "{message}");
    assert!(
        message.contains(&format!("valid record follows at byte {}", offset_of(5))),
        "{message}"
    );
    assert_eq!(dir.len(), len, "nothing is cut off a damaged store");
}

#[test]
fn a_damaged_length_in_the_middle_is_refused_too() {
    let dir = TestDir::new("length");
    let (mut store, _) = dir.open();
    for w in writes(1..=3) {
        store.append(&w).unwrap();
    }
    drop(store);
    // Record 2's length now claims more than the rest of the file.
    let mut bytes = std::fs::read(dir.log()).unwrap();
    let at = offset_of(1) as usize;
    bytes[at + 3] = 0x7f;
    std::fs::write(dir.log(), bytes).unwrap();
    let e = Store::open(&dir.0, BranchId(1), false).expect_err("refused");
    assert!(e.to_string().contains(&format!("damaged at byte {at}:")), "{e}");
}

#[test]
fn files_of_the_old_format_are_refused_with_a_clear_message() {
    let dir = TestDir::new("old");
    std::fs::create_dir_all(&dir.0).unwrap();
    // The old format: length-delimited messages from the first byte on.
    std::fs::write(dir.log(), [12, 10, 4, 8, 1, 16, 1, 16, 1, 24, 1, 32, 1]).unwrap();
    let e = Store::open(&dir.0, BranchId(1), false).expect_err("refused");
    assert!(e.to_string().contains("is not a bank-sim store of this version"), "{e}");
    assert!(e.to_string().contains(&dir.log().display().to_string()), "{e}");
}

#[test]
fn a_torn_header_is_an_empty_store() {
    let dir = TestDir::new("header");
    std::fs::create_dir_all(&dir.0).unwrap();
    std::fs::write(dir.log(), &record::MAGIC[..3]).unwrap();
    let (mut store, stored) = dir.open();
    assert!(stored.is_empty());
    assert_eq!(dir.len(), 0);
    store.append(&write(1)).unwrap();
    drop(store);
    assert_eq!(dir.open().1, vec![write(1)]);
}

#[test]
fn a_disk_that_fills_mid_record_leaves_no_partial_record_and_the_store_recovers() {
    let dir = TestDir::new("full");
    let faults = Faults::default();
    let (store, _) = dir.open();
    let mut store = store.with_faults(&faults);
    store.append(&write(1)).unwrap();
    // Room for half of the next record.
    let half = record::encode(&write(2)).len() as u64 / 2;
    faults.fill_after(half, Faults::ENOSPC);
    let e = store.append(&write(2)).expect_err("the disk is full");
    let message = e.to_string();
    assert!(message.contains("No space left on device"), "{message}");
    assert!(message.contains(&dir.log().display().to_string()), "{message}");
    assert!(store.is_failing());
    assert_eq!(dir.len(), offset_of(1), "the half record is cut off again");
    assert!(store.append(&write(2)).is_err(), "still full");

    faults.clear();
    store.append(&write(2)).expect("room again");
    assert!(!store.is_failing());
    drop(store);
    assert_eq!(dir.open().1, writes(1..=2), "what was stored, nothing torn");
}

#[test]
fn a_torn_record_that_cannot_be_cut_at_once_is_cut_before_the_next_append() {
    let dir = TestDir::new("cut");
    let faults = Faults::default();
    let (store, _) = dir.open();
    let mut store = store.with_faults(&faults);
    store.append(&write(1)).unwrap();
    faults.fill_after(5, Faults::ENOSPC);
    faults.fail_truncates(Faults::EIO);
    assert!(store.append(&write(2)).is_err());
    assert_eq!(dir.len(), offset_of(1) + 5, "the torn bytes are still there");
    // Appends keep failing while the torn record cannot be cut.
    faults.fill_after(u64::MAX, Faults::ENOSPC);
    let e = store.append(&write(2)).expect_err("cannot cut yet");
    assert!(e.to_string().contains("cannot cut the torn record"), "{e}");

    faults.clear();
    store.append(&write(2)).unwrap();
    drop(store);
    assert_eq!(dir.open().1, writes(1..=2), "the torn bytes were cut before the append");
}

#[test]
fn a_failing_flush_is_reported() {
    let dir = TestDir::new("sync");
    let faults = Faults::default();
    let (store, _) = dir.open();
    let mut store = store.with_faults(&faults);
    store.append(&write(1)).unwrap();
    faults.fail_syncs(Faults::EIO);
    let e = store.sync().expect_err("the flush fails");
    assert_eq!(e.raw_os_error(), Some(Faults::EIO));
    faults.clear();
    store.sync().expect("flushes again");
}

#[tokio::test]
async fn a_durable_store_has_a_flusher_and_marks_appends_dirty() {
    let dir = TestDir::new("flusher");
    let (store, _) = dir.open();
    assert!(store.volatile().flusher().is_none(), "a volatile store never flushes");
    let (mut store, _) = dir.open();
    assert!(store.flusher().is_some(), "a durable store has a flusher");
    assert!(!store.take_dirty());
    store.append(&write(1)).unwrap();
    assert!(store.take_dirty(), "an append makes the next flush needed");
    assert!(!store.take_dirty(), "taken");
}

#[test]
fn clock_reservations_survive_reopening_between_the_writes() {
    let dir = TestDir::new("reserve");
    let (mut store, _) = dir.open();
    assert_eq!(store.clock_reserved(), 0);
    store.reserve_clock(1_000);
    store.append(&write(1)).unwrap();
    store.reserve_clock(2_000);
    store.append(&write(2)).unwrap();
    store.sync().unwrap();
    drop(store);
    let (store, stored) = dir.open();
    assert_eq!(stored, writes(1..=2), "reservations are not writes");
    assert_eq!(store.clock_reserved(), 2_000);
    // A torn tail after them is cut, and they stay.
    dir.scribble(&record::encode_reservation(3_000)[..5]);
    let (mut store, stored) = dir.open();
    assert_eq!((stored.len(), store.clock_reserved()), (2, 2_000));
    // A new run forgets them.
    store.clear().unwrap();
    assert_eq!(store.clock_reserved(), 0);
}

#[test]
fn a_store_that_is_not_a_regular_file_is_refused_without_opening_it() {
    let dir = TestDir::new("special");
    std::fs::create_dir_all(&dir.0).unwrap();
    // A link to /dev/zero: before, read until memory ran out (24 GB).
    std::os::unix::fs::symlink("/dev/zero", dir.log()).unwrap();
    for fresh in [false, true] {
        let e = Store::open(&dir.0, BranchId(1), fresh).expect_err("refused");
        assert!(e.to_string().contains("is not a regular file"), "{e}");
    }
    // A FIFO: before, opening it blocked forever (and SIGTERM with it).
    std::fs::remove_file(dir.log()).unwrap();
    let made = std::process::Command::new("mkfifo").arg(dir.log()).status().unwrap();
    assert!(made.success());
    let e = Store::open(&dir.0, BranchId(1), false).expect_err("refused");
    assert!(e.to_string().contains("is not a regular file"), "{e}");
}
