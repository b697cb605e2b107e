//! A branch's event log as bytes: what the log costs for a whole run.
//!
//! A write on a bank of 20 branches leaves about 80 entries in the logs (its
//! origin logs the request, the execute, a send and an acknowledgement per
//! peer and the answer; every peer the receipt and the apply). As
//! [`LogEntry`] structs that is 136 bytes each; packed, with the clock's
//! step kept as differences from the clock, one is 10 to 20 bytes. The log
//! is only appended to during a run and read whole (at the end of a run,
//! for an inspection, by tests), so it is kept packed and decoded on reading.
//!
//! One entry, every number a [`crate::varint`]:
//!
//! ```text
//! kind | op << 3 | rule << 5          one byte
//! flags (FLAG_*)                      one byte
//! clock, clock − step.local
//! [clock − step.message]              if FLAG_MESSAGE
//! [step.result]                       if FLAG_RESULT (it is not the clock)
//! [write origin, write seq]           if FLAG_WRITE
//! customer, event, amount (signed)
//! [peer]                              if FLAG_PEER
//! [balance (signed)]                  if FLAG_BALANCE
//! ```
//!
//! Differences wrap, so every `u64` reads back as written.

use crate::clock::{ClockRule, ClockStep};
use crate::ids::{BranchId, CustomerId, EventId, WriteId};
use crate::log::{LogEntry, LogKind};
use crate::money::Cents;
use crate::op::OpKind;
use crate::varint::{self, Reader};

const FLAG_WRITE: u8 = 1;
const FLAG_PEER: u8 = 2;
const FLAG_BALANCE: u8 = 4;
const FLAG_FAILED: u8 = 8;
const FLAG_MESSAGE: u8 = 16;
const FLAG_RESULT: u8 = 32;

/// A log of [`LogEntry`]s kept as bytes. See the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackedLog {
    bytes: Vec<u8>,
    len: usize,
}

impl PackedLog {
    pub fn new() -> PackedLog {
        PackedLog::default()
    }

    /// Entries in the log.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes the entries take.
    pub fn packed_bytes(&self) -> usize {
        self.bytes.len()
    }

    pub fn push(&mut self, e: &LogEntry) {
        let out = &mut self.bytes;
        out.push(kind_code(e.kind) | op_code(e.op) << 3 | rule_code(e.step.rule) << 5);
        let mut flags = 0;
        for (set, flag) in [
            (e.write.is_some(), FLAG_WRITE),
            (e.peer.is_some(), FLAG_PEER),
            (e.balance.is_some(), FLAG_BALANCE),
            (e.failed, FLAG_FAILED),
            (e.step.message.is_some(), FLAG_MESSAGE),
            (e.step.result != e.clock, FLAG_RESULT),
        ] {
            if set {
                flags |= flag;
            }
        }
        out.push(flags);
        varint::put(out, e.clock);
        varint::put(out, e.clock.wrapping_sub(e.step.local));
        if let Some(message) = e.step.message {
            varint::put(out, e.clock.wrapping_sub(message));
        }
        if e.step.result != e.clock {
            varint::put(out, e.step.result);
        }
        if let Some(w) = e.write {
            varint::put(out, w.origin.0);
            varint::put(out, w.seq);
        }
        varint::put(out, e.customer.0);
        varint::put(out, e.event.0);
        varint::put_signed(out, e.amount.0);
        if let Some(peer) = e.peer {
            varint::put(out, peer.0);
        }
        if let Some(balance) = e.balance {
            varint::put_signed(out, balance.0);
        }
        self.len += 1;
    }

    /// The entries, oldest first, decoded.
    pub fn iter(&self) -> Entries<'_> {
        Entries { r: Reader::new(&self.bytes), left: self.len }
    }

    /// The entries, oldest first, as structs.
    pub fn to_vec(&self) -> Vec<LogEntry> {
        self.iter().collect()
    }

    /// The newest entry.
    pub fn last(&self) -> Option<LogEntry> {
        self.iter().last()
    }
}

impl<'a> IntoIterator for &'a PackedLog {
    type Item = LogEntry;
    type IntoIter = Entries<'a>;
    fn into_iter(self) -> Entries<'a> {
        self.iter()
    }
}

/// The entries of a [`PackedLog`], decoded one by one.
#[derive(Clone, Debug)]
pub struct Entries<'a> {
    r: Reader<'a>,
    left: usize,
}

impl Iterator for Entries<'_> {
    type Item = LogEntry;

    fn next(&mut self) -> Option<LogEntry> {
        self.left = self.left.checked_sub(1)?;
        Some(read(&mut self.r))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Entries<'_> {}

fn read(r: &mut Reader<'_>) -> LogEntry {
    let codes = r.byte();
    let flags = r.byte();
    let has = |flag: u8| flags & flag != 0;
    let clock = r.u64();
    let local = clock.wrapping_sub(r.u64());
    let message = has(FLAG_MESSAGE).then(|| clock.wrapping_sub(r.u64()));
    let result = if has(FLAG_RESULT) { r.u64() } else { clock };
    let write = has(FLAG_WRITE).then(|| WriteId { origin: BranchId(r.u64()), seq: r.u64() });
    let (customer, event, amount) = (CustomerId(r.u64()), EventId(r.u64()), Cents(r.i64()));
    let peer = has(FLAG_PEER).then(|| BranchId(r.u64()));
    let balance = has(FLAG_BALANCE).then(|| Cents(r.i64()));
    LogEntry {
        clock,
        step: ClockStep { rule: rule_of(codes >> 5), local, message, result },
        write,
        kind: kind_of(codes & 7),
        customer,
        event,
        op: op_of(codes >> 3 & 3),
        amount,
        peer,
        balance,
        failed: has(FLAG_FAILED),
    }
}

const KINDS: [LogKind; 7] = LogKind::ALL;
const OPS: [OpKind; 3] = [OpKind::Deposit, OpKind::Withdraw, OpKind::Query];
const RULES: [ClockRule; 3] = [ClockRule::Receive, ClockRule::Local, ClockRule::Unchanged];

fn kind_code(kind: LogKind) -> u8 {
    KINDS.iter().position(|k| *k == kind).expect("every kind is listed") as u8
}

fn op_code(op: OpKind) -> u8 {
    OPS.iter().position(|o| *o == op).expect("every op is listed") as u8
}

fn rule_code(rule: ClockRule) -> u8 {
    RULES.iter().position(|r| *r == rule).expect("every rule is listed") as u8
}

fn kind_of(code: u8) -> LogKind {
    KINDS[code as usize]
}

fn op_of(code: u8) -> OpKind {
    OPS[code as usize]
}

fn rule_of(code: u8) -> ClockRule {
    RULES[code as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: LogKind) -> LogEntry {
        LogEntry {
            clock: 41,
            step: ClockStep { rule: ClockRule::Receive, local: 40, message: Some(12), result: 41 },
            write: None,
            kind,
            customer: CustomerId(7_000_012),
            event: EventId(3),
            op: OpKind::Deposit,
            amount: Cents(100),
            peer: Some(BranchId(4)),
            balance: None,
            failed: false,
        }
    }

    #[test]
    fn every_entry_reads_back_as_pushed() {
        let mut entries: Vec<LogEntry> = KINDS.iter().map(|k| entry(*k)).collect();
        entries.push(LogEntry {
            write: Some(WriteId { origin: BranchId(2), seq: 9 }),
            balance: Some(Cents(-5)),
            failed: true,
            peer: None,
            op: OpKind::Query,
            ..entry(LogKind::Execute)
        });
        // Nothing a hostile message can put in an entry is lost: extremes,
        // a message clock above ours, a step whose result is not the clock.
        entries.push(LogEntry {
            clock: u64::MAX,
            step: ClockStep {
                rule: ClockRule::Local,
                local: 0,
                message: Some(u64::MAX),
                result: 3,
            },
            customer: CustomerId(u64::MAX),
            event: EventId(u64::MAX),
            amount: Cents(i64::MIN),
            balance: Some(Cents(i64::MAX)),
            op: OpKind::Withdraw,
            ..entry(LogKind::Response)
        });
        entries.push(LogEntry {
            step: ClockStep { rule: ClockRule::Unchanged, local: 41, message: None, result: 41 },
            ..entry(LogKind::PropagateSent)
        });
        let mut log = PackedLog::new();
        for e in &entries {
            log.push(e);
        }
        assert_eq!(log.len(), entries.len());
        assert_eq!(log.to_vec(), entries);
        assert_eq!(log.last().as_ref(), entries.last());
    }

    #[test]
    fn a_propagation_entry_takes_a_few_bytes() {
        let mut log = PackedLog::new();
        log.push(&entry(LogKind::PropagateReceived));
        assert!(log.packed_bytes() <= 16, "{} bytes", log.packed_bytes());
    }
}
