//! The shared vocabulary of `types.proto`: write ids and sets, guarantees
//! (also per customer), a branch's write sets, log entries, and the reading
//! of an operation with its amount that every message carrying one shares.

use std::collections::BTreeMap;

use bank_core::{
    BranchId, Cents, ClockRule, ClockStep, CustomerId, EventId, Guarantees, LogEntry, Op, OpKind,
    WriteId, WriteSet,
};

use super::{enum_field, ConvertError};
use crate::v1 as pb;

impl From<WriteId> for pb::WriteId {
    fn from(w: WriteId) -> pb::WriteId {
        pb::WriteId { origin_branch: w.origin.0, seq: w.seq }
    }
}

impl From<pb::WriteId> for WriteId {
    fn from(w: pb::WriteId) -> WriteId {
        WriteId { origin: BranchId(w.origin_branch), seq: w.seq }
    }
}

// The two write-set conversions are plain loops on purpose: the browser runs
// them too, and there `map(..).collect()` and `WriteSet::from_parts` (its
// `BTreeMap::retain`) cost the gzipped wasm about 2.6 KB more.

impl From<&WriteSet> for pb::WriteSet {
    fn from(set: &WriteSet) -> pb::WriteSet {
        let mut origins = Vec::new();
        for (origin, o) in set.parts() {
            let (mut extra, mut extra_ranges) = (Vec::new(), Vec::new());
            for (first, last) in o.extra.ranges() {
                if first == last {
                    extra.push(first);
                } else {
                    extra_ranges.push(first);
                    extra_ranges.push(last);
                }
            }
            origins.push(pb::OriginWrites {
                origin_branch: origin.0,
                prefix: o.prefix,
                extra,
                extra_ranges,
            });
        }
        pb::WriteSet { origins }
    }
}

/// Any list of origins is a valid set (overlaps and gaps are normalised, as
/// by [`WriteSet::from_parts`]).
impl From<&pb::WriteSet> for WriteSet {
    fn from(set: &pb::WriteSet) -> WriteSet {
        let mut writes = WriteSet::new();
        for o in &set.origins {
            let origin = BranchId(o.origin_branch);
            writes.insert_origin(origin, o.prefix, &o.extra);
            for run in o.extra_ranges.chunks(2) {
                let (first, last) = (run[0], run.get(1).copied().unwrap_or(run[0]));
                writes.insert_range(origin, first, last);
            }
        }
        writes
    }
}

/// The most parts (origins, single seqs, runs) a write set may have on the
/// wire: a session's set is one part per write at worst (its writes
/// interleaved with everybody else's), and a run holds at most 100,000
/// customer events, so this leaves room to spare. A larger set is refused before it is built: a
/// hostile 4 MiB message of single seqs would take about 40 MiB in memory.
pub const MAX_WRITE_SET_PARTS: usize = 200_000;

/// An absent write set is the empty set; one over
/// [`MAX_WRITE_SET_PARTS`] is refused, naming `field`.
pub(super) fn write_set(
    set: Option<&pb::WriteSet>,
    field: &'static str,
) -> Result<WriteSet, ConvertError> {
    set.map_or(Ok(WriteSet::new()), |s| checked_write_set(s, field))
}

/// `set` as a core write set, refused if it has more than
/// [`MAX_WRITE_SET_PARTS`] parts (for sets from the network; see there).
pub fn checked_write_set(
    set: &pb::WriteSet,
    field: &'static str,
) -> Result<WriteSet, ConvertError> {
    let parts = set
        .origins
        .iter()
        .map(|o| 1 + o.extra.len() + o.extra_ranges.len().div_ceil(2))
        .fold(0usize, usize::saturating_add);
    if parts > MAX_WRITE_SET_PARTS {
        return Err(ConvertError::WriteSetTooLarge { field, parts });
    }
    for o in &set.origins {
        if let Some(run) = o.extra_ranges.chunks_exact(2).find(|run| run[0] > run[1]) {
            let (first, last) = (run[0], run[1]);
            return Err(ConvertError::ReversedRun { field, origin: o.origin_branch, first, last });
        }
    }
    Ok(WriteSet::from(set))
}

impl From<Guarantees> for pb::Guarantees {
    fn from(g: Guarantees) -> pb::Guarantees {
        pb::Guarantees {
            read_your_writes: g.read_your_writes,
            monotonic_reads: g.monotonic_reads,
            writes_follow_reads: g.writes_follow_reads,
            monotonic_writes: g.monotonic_writes,
        }
    }
}

impl From<pb::Guarantees> for Guarantees {
    fn from(g: pb::Guarantees) -> Guarantees {
        Guarantees {
            read_your_writes: g.read_your_writes,
            monotonic_reads: g.monotonic_reads,
            writes_follow_reads: g.writes_follow_reads,
            monotonic_writes: g.monotonic_writes,
        }
    }
}

/// The guarantees of an optional `Guarantees` field: absent means the
/// course's (Read Your Writes and Monotonic Writes), in a customer's session
/// as in a lab's summary or simulated run.
pub fn guarantees_or_course(g: Option<pb::Guarantees>) -> Guarantees {
    g.map_or(Guarantees::COURSE, Guarantees::from)
}

impl From<(&CustomerId, &Guarantees)> for pb::CustomerGuarantees {
    fn from((customer, g): (&CustomerId, &Guarantees)) -> pb::CustomerGuarantees {
        pb::CustomerGuarantees { customer_id: customer.0, guarantees: Some((*g).into()) }
    }
}

/// One entry of a per-customer map (`collect` them into a `BTreeMap`).
impl TryFrom<&pb::CustomerGuarantees> for (CustomerId, Guarantees) {
    type Error = ConvertError;
    fn try_from(c: &pb::CustomerGuarantees) -> Result<(CustomerId, Guarantees), ConvertError> {
        let g = c.guarantees.ok_or(ConvertError::MissingField("CustomerGuarantees.guarantees"))?;
        Ok((CustomerId(c.customer_id), g.into()))
    }
}

impl From<(&CustomerId, &Vec<EventId>)> for pb::CustomerWrites {
    fn from((customer, events): (&CustomerId, &Vec<EventId>)) -> pb::CustomerWrites {
        pb::CustomerWrites {
            customer_id: customer.0,
            event_ids: events.iter().map(|e| e.0).collect(),
        }
    }
}

/// One entry of a branch's write sets (`collect` them into a `BTreeMap`).
impl From<&pb::CustomerWrites> for (CustomerId, Vec<EventId>) {
    fn from(w: &pb::CustomerWrites) -> (CustomerId, Vec<EventId>) {
        (CustomerId(w.customer_id), w.event_ids.iter().map(|e| EventId(*e)).collect())
    }
}

/// Every customer's write set, in customer order.
pub(super) fn customer_writes(
    sets: &BTreeMap<CustomerId, Vec<EventId>>,
) -> Vec<pb::CustomerWrites> {
    sets.iter().map(pb::CustomerWrites::from).collect()
}

/// The operation in the raw enum field `field` with its amount (in
/// `amount_field`), which must not be negative for a deposit or withdraw (a
/// query ignores it).
pub(super) fn op(
    raw: i32,
    amount_cents: i64,
    field: &'static str,
    amount_field: &'static str,
) -> Result<Op, ConvertError> {
    let kind: OpKind = enum_field::<pb::Operation, _>(raw, field)?;
    if kind != OpKind::Query && amount_cents < 0 {
        return Err(ConvertError::NegativeAmount { field: amount_field, cents: amount_cents });
    }
    if kind != OpKind::Query && amount_cents > Cents::MAX.0 {
        return Err(ConvertError::AmountTooLarge { field: amount_field, cents: amount_cents });
    }
    Ok(Op::from_kind(kind, Cents(amount_cents)))
}

/// A write id field that must be set.
pub(super) fn write_id(
    w: Option<pb::WriteId>,
    field: &'static str,
) -> Result<WriteId, ConvertError> {
    w.map(WriteId::from).ok_or(ConvertError::MissingField(field))
}

impl From<&LogEntry> for pb::LogEntry {
    fn from(e: &LogEntry) -> pb::LogEntry {
        pb::LogEntry {
            clock: e.clock,
            kind: pb::LogKind::from(e.kind).into(),
            customer_id: e.customer.0,
            event_id: e.event.0,
            operation: pb::Operation::from(e.op).into(),
            amount_cents: e.amount.0,
            peer: e.peer.map_or(0, |p| p.0),
            balance_cents: e.balance.map(|b| b.0),
            failed: e.failed,
            clock_step: Some(pb::ClockStep {
                rule: pb::ClockRule::from(e.step.rule).into(),
                local: e.step.local,
                message: e.step.message,
            }),
            write: e.write.map(pb::WriteId::from),
        }
    }
}

/// `peer` 0 is "no peer" (branch ids start at 1). The clock step's result
/// is the entry's clock.
impl TryFrom<&pb::LogEntry> for LogEntry {
    type Error = ConvertError;
    fn try_from(e: &pb::LogEntry) -> Result<LogEntry, ConvertError> {
        let step =
            e.clock_step.as_ref().ok_or(ConvertError::MissingField("LogEntry.clock_step"))?;
        let rule = enum_field::<pb::ClockRule, _>(step.rule, "ClockStep.rule")?;
        Ok(LogEntry {
            clock: e.clock,
            step: ClockStep {
                rule,
                local: step.local,
                message: (rule == ClockRule::Receive).then_some(step.message).flatten(),
                result: e.clock,
            },
            write: e.write.map(WriteId::from),
            kind: enum_field::<pb::LogKind, _>(e.kind, "LogEntry.kind")?,
            customer: CustomerId(e.customer_id),
            event: EventId(e.event_id),
            op: enum_field::<pb::Operation, _>(e.operation, "LogEntry.operation")?,
            amount: Cents(e.amount_cents),
            peer: (e.peer != 0).then_some(BranchId(e.peer)),
            balance: e.balance_cents.map(Cents),
            failed: e.failed,
        })
    }
}
