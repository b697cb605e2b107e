//! The writes a branch applied, in apply order, kept as bytes.
//!
//! A branch keeps every write it applied for the whole run: to answer a
//! peer's pull with what the peer lacks, and for the branch's record. On a
//! bank of 20 branches every write is kept 20 times, and the biggest part
//! of a write is its `depends_on` (a session's write set: one origin per
//! branch the customer wrote at), which as a [`WriteSet`] costs some 200
//! bytes an origin. Packed (see [`crate::writes::packed`] and
//! [`crate::varint`]), a whole [`Applied`] is a few dozen bytes.
//!
//! One record, every number a varint:
//!
//! ```text
//! length of the rest,
//! origin, seq, customer, event, op (0 deposit, 1 withdraw, 2 query),
//! [amount (signed)]            unless a query
//! clock, balance after (signed), depends_on (packed)
//! ```
//!
//! Reading the `i`-th record starts from the nearest of the offsets kept
//! every [`INDEX_EVERY`] records and skips the ones before it by their
//! length. A write's own record is found by its id
//! ([`AppliedLog::depends_on_of`]): a new write's dependencies are cut to
//! their causal frontier with it (see `frontier.rs`).

use std::collections::HashMap;

use super::{Applied, StoredWrite};
use crate::ids::{BranchId, CustomerId, EventId, WriteId};
use crate::money::Cents;
use crate::op::Op;
use crate::varint::{self, Reader};
use crate::writes::{packed, WriteSet};

/// How many records apart the kept offsets are.
const INDEX_EVERY: usize = 16;

/// A branch's applied writes, oldest first. See the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppliedLog {
    bytes: Vec<u8>,
    /// Where records `0`, `INDEX_EVERY`, `2 * INDEX_EVERY`, … start.
    index: Vec<usize>,
    /// Where each write's record starts.
    by_write: HashMap<WriteId, usize>,
    len: usize,
    /// Scratch space for the record being written.
    scratch: Vec<u8>,
}

/// One record, its write set still packed.
struct Record<'a> {
    write: WriteId,
    customer: CustomerId,
    event: EventId,
    op: Op,
    clock: u64,
    balance_after: Cents,
    depends_on: &'a [u8],
}

impl Record<'_> {
    fn to_applied(&self) -> Applied {
        Applied {
            write: StoredWrite {
                write: self.write,
                customer: self.customer,
                event: self.event,
                op: self.op,
                depends_on: packed::unpack(&mut Reader::new(self.depends_on)),
                clock: self.clock,
            },
            balance_after: self.balance_after,
        }
    }
}

impl AppliedLog {
    pub fn new() -> AppliedLog {
        AppliedLog::default()
    }

    /// Writes applied.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes the records take.
    pub fn packed_bytes(&self) -> usize {
        self.bytes.len()
    }

    pub fn push(&mut self, applied: &Applied) {
        let (w, out) = (&applied.write, &mut self.scratch);
        out.clear();
        for n in [w.write.origin.0, w.write.seq, w.customer.0, w.event.0] {
            varint::put(out, n);
        }
        match w.op {
            Op::Deposit(a) => {
                out.push(0);
                varint::put_signed(out, a.0);
            }
            Op::Withdraw(a) => {
                out.push(1);
                varint::put_signed(out, a.0);
            }
            Op::Query => out.push(2),
        }
        varint::put(out, w.clock);
        varint::put_signed(out, applied.balance_after.0);
        packed::pack(&w.depends_on, out);
        if self.len.is_multiple_of(INDEX_EVERY) {
            self.index.push(self.bytes.len());
        }
        self.by_write.insert(w.write, self.bytes.len());
        varint::put(&mut self.bytes, out.len() as u64);
        self.bytes.extend_from_slice(out);
        self.len += 1;
    }

    /// The records from the `first`-th on.
    fn records_from(&self, first: usize) -> Records<'_> {
        let start = self.index.get(first / INDEX_EVERY).copied().unwrap_or(self.bytes.len());
        let mut records = Records { r: Reader::new(&self.bytes[start..]) };
        for _ in 0..first % INDEX_EVERY {
            records.skip_one();
        }
        records
    }

    /// The `i`-th write applied (0 is the first).
    pub fn get(&self, i: usize) -> Option<Applied> {
        self.records_from(i).next().map(|r| r.to_applied())
    }

    /// What `write` depends on, if it was applied here (only its record is
    /// read).
    pub fn depends_on_of(&self, write: &WriteId) -> Option<WriteSet> {
        let at = *self.by_write.get(write)?;
        let record = Records { r: Reader::new(&self.bytes[at..]) }.next()?;
        Some(packed::unpack(&mut Reader::new(record.depends_on)))
    }

    /// Whose write the `i`-th is: its customer and event (without decoding
    /// the rest).
    pub fn customer_event(&self, i: usize) -> Option<(CustomerId, EventId)> {
        self.records_from(i).next().map(|r| (r.customer, r.event))
    }

    /// Every write applied, oldest first.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.records_from(0))
    }

    pub fn to_vec(&self) -> Vec<Applied> {
        self.iter().collect()
    }

    /// The first `limit` writes applied here that are not in `have`, in
    /// apply order (only those are decoded whole).
    pub fn not_in(&self, have: &WriteSet, limit: usize) -> Vec<StoredWrite> {
        self.records_from(0)
            .filter(|r| !have.contains(&r.write))
            .take(limit)
            .map(|r| r.to_applied().write)
            .collect()
    }
}

impl<'a> IntoIterator for &'a AppliedLog {
    type Item = Applied;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The writes of an [`AppliedLog`], decoded one by one.
#[derive(Clone, Debug)]
pub struct Iter<'a>(Records<'a>);

impl Iterator for Iter<'_> {
    type Item = Applied;
    fn next(&mut self) -> Option<Applied> {
        self.0.next().map(|r| r.to_applied())
    }
}

/// The records of an [`AppliedLog`], each read as far as its write set.
#[derive(Clone, Debug)]
struct Records<'a> {
    r: Reader<'a>,
}

impl Records<'_> {
    fn skip_one(&mut self) {
        if !self.r.is_empty() {
            let n = self.r.usize();
            self.r.take(n);
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;
    fn next(&mut self) -> Option<Record<'a>> {
        if self.r.is_empty() {
            return None;
        }
        let n = self.r.usize();
        Some(read(Reader::new(self.r.take(n))))
    }
}

fn read(mut r: Reader<'_>) -> Record<'_> {
    let write = WriteId { origin: BranchId(r.u64()), seq: r.u64() };
    let (customer, event) = (CustomerId(r.u64()), EventId(r.u64()));
    let op = match r.byte() {
        0 => Op::Deposit(Cents(r.i64())),
        1 => Op::Withdraw(Cents(r.i64())),
        _ => Op::Query,
    };
    let (clock, balance_after) = (r.u64(), Cents(r.i64()));
    let rest = r.take(r.bytes_left());
    Record { write, customer, event, op, clock, balance_after, depends_on: rest }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(seq: u64, op: Op, depends_on: WriteSet) -> Applied {
        Applied {
            write: StoredWrite {
                write: WriteId { origin: BranchId(3), seq },
                customer: CustomerId(40 + seq),
                event: EventId(seq),
                op,
                depends_on,
                clock: 7 * seq,
            },
            balance_after: Cents(-(seq as i64)),
        }
    }

    fn log_of(n: u64) -> (AppliedLog, Vec<Applied>) {
        let writes: Vec<Applied> = (1..=n)
            .map(|seq| {
                let deps = WriteSet::from_parts([(BranchId(1), seq, vec![seq + 5])]);
                let op = [Op::Deposit(Cents(5)), Op::Withdraw(Cents(i64::MAX)), Op::Query]
                    [seq as usize % 3];
                applied(seq, op, if seq % 4 == 0 { WriteSet::new() } else { deps })
            })
            .collect();
        let mut log = AppliedLog::new();
        for a in &writes {
            log.push(a);
        }
        (log, writes)
    }

    #[test]
    fn every_write_reads_back_in_order_and_by_position() {
        let (log, writes) = log_of(40);
        assert_eq!(log.len(), 40);
        assert_eq!(log.to_vec(), writes);
        for (i, a) in writes.iter().enumerate() {
            assert_eq!(log.get(i).as_ref(), Some(a), "record {i}");
            let (customer, event) = (a.write.customer, a.write.event);
            assert_eq!(log.customer_event(i), Some((customer, event)));
        }
        assert_eq!(log.get(40), None);
        assert_eq!(log.customer_event(41), None);
        assert_eq!(AppliedLog::new().get(0), None);
    }

    #[test]
    fn not_in_skips_what_the_peer_has_and_stops_at_the_limit() {
        let (log, writes) = log_of(10);
        let have = WriteSet::from_parts([(BranchId(3), 0, vec![1, 2, 4])]);
        let lacking: Vec<u64> = log.not_in(&have, 3).iter().map(|w| w.write.seq).collect();
        assert_eq!(lacking, [3, 5, 6]);
        assert_eq!(log.not_in(&have, 100).len(), 7);
        assert_eq!(log.not_in(&WriteSet::new(), 1)[0], writes[0].write);
    }
}
