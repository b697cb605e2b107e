//! How a store file lays out its records, and how recovery reads them back.
//!
//! A store file is a header, then one record per stored write, and now and
//! then a clock reservation:
//!
//! ```text
//! header   8 bytes   b"banklog1" (the format and its version)
//! record   4 bytes   payload length n, little endian, 1 ..= MAX_PAYLOAD
//!          4 bytes   CRC-32 (IEEE) of the payload, little endian
//!          n bytes   the payload: one `bank.v1.AppliedWrite` protobuf message
//! ```
//!
//! A reservation is an `AppliedWrite` with no `write` and `clock_reserved`
//! set (the branch's `Effect::ReserveClock`, one per thousand ticks of its
//! clock): recovery restarts the branch's clock above the largest one, so a
//! restarted branch never reuses a clock. Files written before reservations
//! existed simply have none.
//!
//! An empty file is an empty store (its header is written with its first
//! record). Files of the format before this one (length-delimited messages
//! without a header or checksums) are not read: recovery refuses them, and
//! says so.
//!
//! **Recovery** ([`scan`]) reads records front to back and checks each
//! one's length and checksum. Where a record is not whole and valid:
//!
//! * if no valid record follows it anywhere in the file, it is a *torn
//!   tail*: the end of an append that a crash (or a full disk) cut short.
//!   What follows the last valid record is dropped ([`Scan::dropped`]), and
//!   the store truncates the file there, so new records come right after
//!   valid data;
//! * if a valid record follows, the file was damaged in the middle:
//!   recovery refuses ([`CorruptStore::Middle`], naming the file and the
//!   byte offset), because dropping the records after the damage would
//!   silently lose acknowledged writes.
//!
//! (A valid record is found by trying every byte offset after the damage:
//! garbage passes the length check, the checksum and the protobuf decoding
//! together with a probability of well under 2⁻³², so a torn tail is not
//! mistaken for damage in the middle.)

use std::path::{Path, PathBuf};

use bank_core::branch::Applied;
use bank_core::{Cents, StoredWrite};
use bank_proto as pb;
use prost::Message;

/// The first bytes of every store file.
pub const MAGIC: &[u8; 8] = b"banklog1";

/// The length and checksum before each payload.
pub const FRAME_LEN: usize = 8;

/// The largest payload a record may have (a write with its dependencies
/// is tens of bytes; a longer length field is damage).
pub const MAX_PAYLOAD: usize = 16 << 20;

/// `write` as one record, ready to append.
pub fn encode(write: &StoredWrite) -> Vec<u8> {
    // The balance is not stored: recovery recomputes it.
    let applied = Applied { write: write.clone(), balance_after: Cents::ZERO };
    frame(&pb::AppliedWrite::from(&applied).encode_to_vec())
}

/// A clock reservation (`Effect::ReserveClock { up_to }`) as one record.
pub fn encode_reservation(up_to: u64) -> Vec<u8> {
    frame(&pb::AppliedWrite { clock_reserved: up_to, ..Default::default() }.encode_to_vec())
}

/// `payload` with its length and checksum in front.
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut record = Vec::with_capacity(FRAME_LEN + payload.len());
    // A payload over 4 GiB cannot occur: the store refuses records over
    // MAX_PAYLOAD before writing them.
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    record.extend_from_slice(&len.to_le_bytes());
    record.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    record.extend_from_slice(payload);
    record
}

/// What recovery read from a store file.
#[derive(Debug, PartialEq, Eq)]
pub struct Scan {
    /// Every valid write record, in order.
    pub writes: Vec<StoredWrite>,
    /// The largest clock reservation (0 if none).
    pub clock_reserved: u64,
    /// Where the valid data ends: the next record goes here.
    pub end: u64,
    /// How many bytes of a torn tail follow `end` (to be truncated).
    pub dropped: u64,
    /// Why the first dropped record was not valid, if any was dropped.
    pub torn: Option<BadRecord>,
}

/// A store file recovery refuses to read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CorruptStore {
    #[error(
        "{} is not a bank-sim store of this version (it does not start with \"banklog1\"; \
         stores written before records had checksums cannot be read): move it away to start \
         the branch empty",
        path.display()
    )]
    NotAStore { path: PathBuf },
    #[error(
        "the store {} is damaged at byte {offset}: {bad}, and a valid record follows at byte \
         {next}; refusing to start, since dropping the records after the damage would lose \
         writes (restore the file from a backup, or move it away to start the branch empty)",
        path.display()
    )]
    Middle { path: PathBuf, offset: u64, bad: BadRecord, next: u64 },
}

/// Why the bytes at an offset are not a valid record.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadRecord {
    #[error("a record cut short ({have} of {need} bytes)")]
    Short { have: usize, need: usize },
    #[error("a record length of {0} bytes (1 to {MAX_PAYLOAD} allowed)")]
    Length(usize),
    #[error("a checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    Checksum { stored: u32, computed: u32 },
    #[error("a record that does not decode as a write: {0}")]
    Payload(String),
}

/// Reads the store file `path` whose contents are `bytes` (see the module
/// docs).
pub fn scan(path: &Path, bytes: &[u8]) -> Result<Scan, CorruptStore> {
    if bytes.len() < MAGIC.len() {
        // Empty, or a header a crash cut short: an empty store either way.
        if !MAGIC.starts_with(bytes) {
            return Err(CorruptStore::NotAStore { path: path.to_owned() });
        }
        let torn = (!bytes.is_empty())
            .then_some(BadRecord::Short { have: bytes.len(), need: MAGIC.len() });
        let dropped = bytes.len() as u64;
        return Ok(Scan { writes: Vec::new(), clock_reserved: 0, end: 0, dropped, torn });
    }
    if &bytes[..MAGIC.len()] != MAGIC {
        return Err(CorruptStore::NotAStore { path: path.to_owned() });
    }
    let (mut writes, mut clock_reserved) = (Vec::new(), 0);
    let mut offset = MAGIC.len();
    while offset < bytes.len() {
        match record_at(bytes, offset) {
            Ok((Record::Write(write), len)) => {
                writes.push(write);
                offset += len;
            }
            Ok((Record::ClockReserved(up_to), len)) => {
                clock_reserved = clock_reserved.max(up_to);
                offset += len;
            }
            Err(bad) => {
                if let Some(next) = next_valid(bytes, offset + 1) {
                    return Err(CorruptStore::Middle {
                        path: path.to_owned(),
                        offset: offset as u64,
                        bad,
                        next: next as u64,
                    });
                }
                let dropped = (bytes.len() - offset) as u64;
                let end = offset as u64;
                return Ok(Scan { writes, clock_reserved, end, dropped, torn: Some(bad) });
            }
        }
    }
    Ok(Scan { writes, clock_reserved, end: offset as u64, dropped: 0, torn: None })
}

/// What one valid record holds.
enum Record {
    Write(StoredWrite),
    ClockReserved(u64),
}

/// The record at `offset` and its length in bytes, if it is whole and valid.
fn record_at(bytes: &[u8], offset: usize) -> Result<(Record, usize), BadRecord> {
    let rest = &bytes[offset..];
    let Some((frame, payload)) = rest.split_first_chunk::<FRAME_LEN>() else {
        return Err(BadRecord::Short { have: rest.len(), need: FRAME_LEN });
    };
    let [l0, l1, l2, l3, c0, c1, c2, c3] = *frame;
    let len = u32::from_le_bytes([l0, l1, l2, l3]) as usize;
    if len == 0 || len > MAX_PAYLOAD {
        return Err(BadRecord::Length(len));
    }
    let Some(payload) = payload.get(..len) else {
        return Err(BadRecord::Short { have: rest.len(), need: FRAME_LEN + len });
    };
    let stored = u32::from_le_bytes([c0, c1, c2, c3]);
    let computed = crc32fast::hash(payload);
    if stored != computed {
        return Err(BadRecord::Checksum { stored, computed });
    }
    let message =
        pb::AppliedWrite::decode(payload).map_err(|e| BadRecord::Payload(e.to_string()))?;
    if message.write.is_none() && message.clock_reserved > 0 {
        return Ok((Record::ClockReserved(message.clock_reserved), FRAME_LEN + len));
    }
    let applied = Applied::try_from(&message).map_err(|e| BadRecord::Payload(e.to_string()))?;
    Ok((Record::Write(applied.write), FRAME_LEN + len))
}

/// The first offset from `from` on where a valid record starts, if any.
fn next_valid(bytes: &[u8], from: usize) -> Option<usize> {
    (from..bytes.len()).find(|&offset| record_at(bytes, offset).is_ok())
}
