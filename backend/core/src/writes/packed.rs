//! A [`WriteSet`] written as bytes, for the write sets a branch keeps for
//! the whole run: every applied write's `depends_on`
//! ([`crate::branch::AppliedLog`]).
//!
//! As a [`WriteSet`] a dependency set of ten origins costs a tree node for
//! the origins and one per origin for its exceptions, some 2.5 KiB; as
//! bytes, a few per origin. The layout, every number a [`crate::varint`]:
//!
//! ```text
//! origins, then per origin (ascending):
//!   origin − previous origin, prefix, ranges,
//!   then per range: first − (previous range's last, or the prefix), last − first
//! ```

use std::collections::BTreeMap;

use super::{OriginWrites, SeqRanges, WriteSet};
use crate::ids::BranchId;
use crate::varint::{self, Reader};

/// Appends `set` to `out`.
pub(crate) fn pack(set: &WriteSet, out: &mut Vec<u8>) {
    varint::put(out, set.origins.len() as u64);
    let mut previous = 0u64;
    for (origin, writes) in &set.origins {
        varint::put(out, origin.0.wrapping_sub(previous));
        previous = origin.0;
        varint::put(out, writes.prefix);
        varint::put(out, writes.extra.range_count() as u64);
        let mut last = writes.prefix;
        for (first, end) in writes.extra.ranges() {
            varint::put(out, first.wrapping_sub(last));
            varint::put(out, end - first);
            last = end;
        }
    }
}

/// Reads a set [`pack`] wrote.
pub(crate) fn unpack(r: &mut Reader<'_>) -> WriteSet {
    let mut origins = BTreeMap::new();
    let mut origin = 0u64;
    for _ in 0..r.u64() {
        origin = origin.wrapping_add(r.u64());
        let prefix = r.u64();
        let mut extra = SeqRanges::new();
        let mut last = prefix;
        for _ in 0..r.u64() {
            let first = last.wrapping_add(r.u64());
            last = first + r.u64();
            extra.insert_range(first, last);
        }
        origins.insert(BranchId(origin), OriginWrites { prefix, extra });
    }
    WriteSet { origins }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::WriteId;

    fn round_trip(set: &WriteSet) -> usize {
        let mut bytes = Vec::new();
        pack(set, &mut bytes);
        let mut r = Reader::new(&bytes);
        assert_eq!(unpack(&mut r), *set);
        assert!(r.is_empty(), "reads exactly what it wrote");
        bytes.len()
    }

    #[test]
    fn sets_read_back_equal() {
        assert_eq!(round_trip(&WriteSet::new()), 1);
        let mut set = WriteSet::from_parts([
            (BranchId(1), 57, vec![59, 60, 61, 90]),
            (BranchId(3), 0, vec![4]),
            (BranchId(u64::MAX), u64::MAX - 3, vec![u64::MAX]),
        ]);
        round_trip(&set);
        set.insert(WriteId { origin: BranchId(0), seq: 1 });
        round_trip(&set);
    }

    #[test]
    fn a_session_write_set_takes_a_few_bytes_per_origin() {
        // A customer's write set after writes at ten branches: one seq each.
        let set = WriteSet::from_parts((1..=10).map(|b| (BranchId(b), 0, vec![1000 + b])));
        assert!(round_trip(&set) <= 1 + 10 * 6, "{} bytes", round_trip(&set));
    }
}
