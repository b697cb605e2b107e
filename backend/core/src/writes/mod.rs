//! Sets of write ids, stored compactly: a version vector with exceptions.
//!
//! Every write in the bank has a [`WriteId`]: the branch that accepted it
//! (its *origin*) and a sequence number that origin counts up from 1. A
//! branch usually applies each origin's writes in order, so "everything
//! from branch 1 up to seq 57" is the common case; that is one number per
//! origin, a **version vector**. Under reordering (or with Monotonic Writes
//! switched off) a branch can apply seq 59 before 58; the set then keeps 59
//! as an *exception* above the contiguous prefix until 58 arrives.
//!
//! [`WriteSet`] is used for everything the session guarantees talk about:
//! what a branch has applied, what a customer has written (its write set),
//! what its reads have seen (its read set), and what a write depends on.
//! Containment ([`WriteSet::contains_all`]) is the one check every
//! guarantee reduces to.

use std::collections::BTreeMap;
use std::fmt;

use crate::ids::{BranchId, WriteId};

pub(crate) mod packed;
mod seq_ranges;
mod words;

pub use seq_ranges::SeqRanges;

/// The seqs of one origin: `1..=prefix` plus the `extra` ones above it,
/// kept as ranges (so a customer's interleaved writes or a burst received
/// out of order stay small).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OriginWrites {
    pub prefix: u64,
    pub extra: SeqRanges,
}

impl OriginWrites {
    fn contains(&self, seq: u64) -> bool {
        seq != 0 && (seq <= self.prefix || self.extra.contains(seq))
    }

    fn insert(&mut self, seq: u64) -> bool {
        if self.contains(seq) || seq == 0 {
            return false;
        }
        self.extra.insert(seq);
        self.fold();
        true
    }

    /// Adds `first..=last` (seq 0 is not a write and is skipped).
    fn insert_range(&mut self, first: u64, last: u64) {
        let first = first.max(1).max(self.prefix.saturating_add(1));
        if first > last || self.prefix == u64::MAX {
            return;
        }
        self.extra.insert_range(first, last);
        self.fold();
    }

    /// Folds exceptions that continue the prefix into it. Costs the ranges
    /// folded (and a split), never a walk over all of them: it runs on
    /// every insert.
    fn fold(&mut self) {
        if self.extra.first().is_some_and(|s| s <= self.prefix) {
            self.extra.remove_through(self.prefix);
        }
        if let Some(next) = self.prefix.checked_add(1) {
            if let Some(end) = self.extra.take_range_starting_at(next) {
                self.prefix = end;
            }
        }
    }

    /// The highest seq (0 for none).
    pub fn highest(&self) -> u64 {
        self.extra.last().unwrap_or(0).max(self.prefix)
    }

    fn len(&self) -> u64 {
        self.prefix.saturating_add(self.extra.len())
    }

    fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (1..=self.prefix).chain(self.extra.iter())
    }

    /// The seqs in `first..=last` that are missing here, in order, as
    /// ranges: `O(ranges)` however wide the span.
    fn gaps(&self, first: u64, last: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
        let first = first.max(self.prefix.saturating_add(1)).max(1);
        let mut next = Some(first);
        let mut held = self.extra.clipped(first, last).peekable();
        std::iter::from_fn(move || loop {
            let from = next.filter(|f| *f <= last)?;
            match held.peek().cloned() {
                Some(r) if *r.start() == from => {
                    held.next();
                    next = r.end().checked_add(1);
                }
                Some(r) => {
                    next = r.end().checked_add(1);
                    held.next();
                    return Some((from, r.start() - 1));
                }
                None => {
                    next = None;
                    return Some((from, last));
                }
            }
        })
    }
}

/// A set of [`WriteId`]s. See the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WriteSet {
    origins: BTreeMap<BranchId, OriginWrites>,
}

impl WriteSet {
    pub const fn new() -> WriteSet {
        WriteSet { origins: BTreeMap::new() }
    }

    /// Builds a set from its compact parts (the wire form). Exceptions at or
    /// below the prefix are redundant and dropped.
    pub fn from_parts(parts: impl IntoIterator<Item = (BranchId, u64, Vec<u64>)>) -> WriteSet {
        let mut set = WriteSet::new();
        for (origin, prefix, extra) in parts {
            let entry = set.origins.entry(origin).or_default();
            entry.prefix = entry.prefix.max(prefix);
            for seq in extra {
                entry.insert(seq);
            }
            entry.fold();
        }
        set.origins.retain(|_, o| o.len() > 0);
        set
    }

    /// Adds one origin's writes given in compact form (`1..=prefix` and
    /// `extra`), as one part of [`WriteSet::from_parts`]. An origin with no
    /// write is not stored.
    pub fn insert_origin(&mut self, origin: BranchId, prefix: u64, extra: &[u64]) {
        if prefix == 0 && extra.iter().all(|s| *s == 0) {
            return;
        }
        let entry = self.origins.entry(origin).or_default();
        entry.prefix = entry.prefix.max(prefix);
        for &seq in extra {
            entry.insert(seq);
        }
        entry.fold();
    }

    /// Adds `origin`'s seqs `first..=last` (seq 0 is not a write: skipped;
    /// `first > last` adds nothing). Costs the ranges it merges with, never
    /// the width: `1..=u64::MAX` is one range.
    pub fn insert_range(&mut self, origin: BranchId, first: u64, last: u64) {
        if first.max(1) > last {
            return;
        }
        self.origins.entry(origin).or_default().insert_range(first, last);
    }

    /// The compact parts: per origin, its prefix and exceptions.
    pub fn parts(&self) -> impl Iterator<Item = (BranchId, &OriginWrites)> {
        self.origins.iter().map(|(o, w)| (*o, w))
    }

    /// Adds `write`; false if it was there already.
    pub fn insert(&mut self, write: WriteId) -> bool {
        if write.seq == 0 {
            return false; // not a write (and no empty origin entry)
        }
        self.origins.entry(write.origin).or_default().insert(write.seq)
    }

    pub fn contains(&self, write: &WriteId) -> bool {
        self.origins.get(&write.origin).is_some_and(|o| o.contains(write.seq))
    }

    /// True when every write of `other` is in `self`. Costs the ranges of
    /// `other`, never their width.
    pub fn contains_all(&self, other: &WriteSet) -> bool {
        other.origins.iter().all(|(origin, theirs)| match self.origins.get(origin) {
            None => theirs.len() == 0,
            Some(mine) => {
                mine.gaps(1, theirs.prefix).next().is_none()
                    && theirs.extra.ranges().all(|(s, e)| mine.gaps(s, e).next().is_none())
            }
        })
    }

    /// The writes of `other` missing from `self`, in id order. Collects
    /// them all: only for sets known to be small (see
    /// [`WriteSet::first_missing_from`] and [`WriteSet::count_missing_from`]).
    pub fn missing_from(&self, other: &WriteSet) -> Vec<WriteId> {
        self.missing_iter(other).collect()
    }

    /// At most `limit` writes of `other` missing from `self`, in id order,
    /// without walking what `self` has: a set naming seq 2^64 costs nothing.
    pub fn first_missing_from(&self, other: &WriteSet, limit: usize) -> Vec<WriteId> {
        self.missing_iter(other).take(limit).collect()
    }

    /// The writes of `other` missing from `self`, lazily, in id order. Each
    /// step costs at most the ranges of `self` it skips: taking the first
    /// few is cheap however large the ranges are.
    pub fn missing_iter<'a>(&'a self, other: &'a WriteSet) -> impl Iterator<Item = WriteId> + 'a {
        static EMPTY: OriginWrites = OriginWrites { prefix: 0, extra: SeqRanges::new() };
        other.origins.iter().flat_map(move |(origin, theirs)| {
            let mine = self.origins.get(origin).unwrap_or(&EMPTY);
            let spans = std::iter::once((1, theirs.prefix)).chain(theirs.extra.ranges());
            spans
                .flat_map(move |(s, e)| mine.gaps(s, e))
                .flat_map(|(s, e)| s..=e)
                .map(move |seq| WriteId { origin: *origin, seq })
        })
    }

    /// Whether every seq in `first..=last` of `origin` is here: `O(log
    /// ranges)` however wide the run.
    pub fn contains_run(&self, origin: BranchId, first: u64, last: u64) -> bool {
        let Some(o) = self.origins.get(&origin) else { return first.max(1) > last };
        let first = first.max(1).max(o.prefix.saturating_add(1));
        first > last || o.extra.contains_range(first, last)
    }

    /// How many writes of `other` are missing from `self`, by interval
    /// arithmetic: the cost is the number of ranges, never their width.
    pub fn count_missing_from(&self, other: &WriteSet) -> u64 {
        let mut missing: u64 = 0;
        for (origin, theirs) in &other.origins {
            let Some(mine) = self.origins.get(origin) else {
                missing = missing.saturating_add(theirs.len());
                continue;
            };
            // |theirs ∩ mine|, the four pairs of (prefix | extras).
            let both_prefixes = theirs.prefix.min(mine.prefix);
            let my_extras_in_their_prefix = mine.extra.count_in(1, theirs.prefix);
            let their_extras_in_my_prefix = theirs.extra.count_in(1, mine.prefix);
            let both_extras = theirs.extra.count_common(&mine.extra);
            let shared = both_prefixes
                .saturating_add(my_extras_in_their_prefix)
                .saturating_add(their_extras_in_my_prefix)
                .saturating_add(both_extras);
            missing = missing.saturating_add(theirs.len().saturating_sub(shared));
        }
        missing
    }

    /// Adds every write of `other`, range by range.
    pub fn union_with(&mut self, other: &WriteSet) {
        for (origin, theirs) in &other.origins {
            let mine = self.origins.entry(*origin).or_default();
            if theirs.prefix > mine.prefix {
                mine.prefix = theirs.prefix;
                mine.fold();
            }
            for (s, e) in theirs.extra.ranges() {
                mine.insert_range(s, e);
            }
        }
    }

    pub fn union(mut self, other: &WriteSet) -> WriteSet {
        self.union_with(other);
        self
    }

    pub fn len(&self) -> u64 {
        self.origins.values().map(OriginWrites::len).fold(0, u64::saturating_add)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every write, by origin then seq.
    pub fn iter(&self) -> impl Iterator<Item = WriteId> + '_ {
        self.origins
            .iter()
            .flat_map(|(origin, o)| o.iter().map(move |seq| WriteId { origin: *origin, seq }))
    }
}

impl FromIterator<WriteId> for WriteSet {
    fn from_iter<I: IntoIterator<Item = WriteId>>(iter: I) -> WriteSet {
        let mut set = WriteSet::new();
        for w in iter {
            set.insert(w);
        }
        set
    }
}

impl fmt::Display for WriteSet {
    /// `{w1.1-4, w2.2, w2.5}`: a range for each prefix, single ids for the
    /// exceptions (the form `bank check` histories parse).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for (origin, o) in &self.origins {
            match o.prefix {
                0 => {}
                1 => parts.push(format!("w{}.1", origin.0)),
                p => parts.push(format!("w{}.1-{p}", origin.0)),
            }
            parts.extend(o.extra.iter().map(|s| format!("w{}.{s}", origin.0)));
        }
        write!(f, "{{{}}}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(origin: u64, seq: u64) -> WriteId {
        WriteId { origin: BranchId(origin), seq }
    }

    #[test]
    fn exceptions_fold_into_the_prefix() {
        let mut s = WriteSet::new();
        assert!(s.insert(w(1, 2)));
        assert!(!s.contains(&w(1, 1)));
        assert_eq!(s.to_string(), "{w1.2}");
        assert!(s.insert(w(1, 1)));
        assert!(!s.insert(w(1, 2)), "already there");
        assert_eq!(s.to_string(), "{w1.1-2}");
        assert_eq!(s.parts().next().unwrap().1.extra.len(), 0);
    }

    #[test]
    fn containment_and_missing() {
        let have: WriteSet = [w(1, 1), w(1, 2), w(1, 4), w(2, 1)].into_iter().collect();
        let want: WriteSet = [w(1, 1), w(1, 3), w(2, 1), w(3, 1)].into_iter().collect();
        assert!(!have.contains_all(&want));
        assert_eq!(have.missing_from(&want), vec![w(1, 3), w(3, 1)]);
        let sub: WriteSet = [w(1, 1), w(1, 4)].into_iter().collect();
        assert!(have.contains_all(&sub));
        assert!(have.contains_all(&WriteSet::new()));
        let union = have.clone().union(&want);
        assert_eq!(union.len(), 6);
        assert_eq!(union.to_string(), "{w1.1-4, w2.1, w3.1}");
    }

    #[test]
    fn prefix_containment_checks_exceptions() {
        let have: WriteSet = [w(1, 1), w(1, 3)].into_iter().collect();
        let want = WriteSet::from_parts([(BranchId(1), 3, vec![])]);
        assert!(!have.contains_all(&want));
        let mut have = have;
        have.insert(w(1, 2));
        assert!(have.contains_all(&want));
    }

    #[test]
    fn hostile_sets_cost_nothing_and_never_overflow() {
        let huge = WriteSet::from_parts([
            (BranchId(2), u64::MAX, vec![]),
            (BranchId(3), 0, vec![u64::MAX]),
        ]);
        let have: WriteSet = [w(2, 1)].into_iter().collect();
        assert_eq!(have.first_missing_from(&huge, 3), vec![w(2, 2), w(2, 3), w(2, 4)]);
        assert!(!have.contains_all(&huge));
        assert_eq!(huge.len(), u64::MAX);
        let mut s = WriteSet::from_parts([(BranchId(1), u64::MAX - 1, vec![])]);
        assert!(s.insert(w(1, u64::MAX)), "the last seq folds without overflow");
        assert_eq!(
            WriteSet::from_parts([(BranchId(1), 0, vec![3]), (BranchId(1), 2, vec![])]),
            WriteSet::from_parts([(BranchId(1), 3, vec![])])
        );
    }

    #[test]
    fn missing_writes_are_counted_by_interval_arithmetic() {
        let have = WriteSet::from_parts([(BranchId(1), 5, vec![9, 12]), (BranchId(2), 0, vec![4])]);
        let want = WriteSet::from_parts([
            (BranchId(1), 10, vec![12, 20]),
            (BranchId(2), 3, vec![]),
            (BranchId(3), u64::MAX, vec![]),
        ]);
        let listed: Vec<_> = have.missing_iter(&want).take(10).collect();
        assert_eq!(
            listed,
            [6, 7, 8, 10, 20]
                .map(|s| w(1, s))
                .into_iter()
                .chain([1, 2, 3].map(|s| w(2, s)))
                .chain([1, 2].map(|s| w(3, s)))
                .collect::<Vec<_>>()
        );
        assert_eq!(have.count_missing_from(&want), u64::MAX, "saturates");
        let small =
            WriteSet::from_parts([(BranchId(1), 10, vec![12, 20]), (BranchId(2), 3, vec![])]);
        assert_eq!(have.count_missing_from(&small), have.missing_from(&small).len() as u64);
        assert_eq!(want.count_missing_from(&have), 1, "only w2.4");
    }

    #[test]
    fn origins_added_one_by_one_equal_the_set_of_their_parts() {
        let parts = [
            (BranchId(1), 2, vec![4, 1]),
            (BranchId(2), 0, vec![0]),
            (BranchId(3), 0, vec![]),
            (BranchId(1), 0, vec![3]),
            (BranchId(4), 0, vec![7]),
        ];
        let mut one_by_one = WriteSet::new();
        for (origin, prefix, extra) in &parts {
            one_by_one.insert_origin(*origin, *prefix, extra);
        }
        assert_eq!(one_by_one, WriteSet::from_parts(parts));
        // No entry for an origin without writes (they would break equality).
        assert_eq!(one_by_one.to_string(), "{w1.1-4, w4.7}");
    }

    #[test]
    fn wire_parts_round_trip() {
        let s: WriteSet = [w(1, 1), w(1, 2), w(1, 5), w(4, 3)].into_iter().collect();
        let parts: Vec<_> =
            s.parts().map(|(o, ow)| (o, ow.prefix, ow.extra.iter().collect())).collect();
        assert_eq!(WriteSet::from_parts(parts), s);
        assert_eq!(WriteSet::from_parts([(BranchId(1), 2, vec![1, 2, 3])]).to_string(), "{w1.1-3}");
    }

    #[test]
    fn a_customers_interleaved_writes_stay_a_few_ranges() {
        // Seqs 1, 3, 5, ... (others' writes in between), then the gaps fill.
        let mut s = WriteSet::new();
        for seq in (1..=2000).step_by(2) {
            s.insert(w(1, seq));
        }
        let mut filled = s.clone();
        for seq in (2..=2000).step_by(2).filter(|seq| seq % 100 != 0) {
            filled.insert(w(1, seq));
        }
        let (_, part) = filled.parts().next().unwrap();
        assert_eq!(part.prefix, 99);
        assert_eq!(part.extra.range_count(), 19, "one range between each missing seq");
        assert!(filled.contains_all(&s));
        assert_eq!(s.count_missing_from(&filled), filled.len() - s.len());
    }
}

/// Every operation against a naive `BTreeSet<WriteId>` model, on random
/// sets built from inserts, ranges and unions.
#[cfg(test)]
mod model_tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    /// Small origins and seqs so that ranges touch, overlap and fold often.
    fn build() -> impl Strategy<Value = (WriteSet, BTreeSet<WriteId>)> {
        let step = prop_oneof![
            (1u64..4, 0u64..40).prop_map(|(o, s)| (o, s, s)),
            (1u64..4, 0u64..40, 0u64..12).prop_map(|(o, s, n)| (o, s, s + n)),
            (1u64..4, 0u64..30).prop_map(|(o, p)| (o, 0, p + 1000)),
        ];
        prop::collection::vec(step, 0..40).prop_map(|steps| {
            let mut set = WriteSet::new();
            let mut model = BTreeSet::new();
            for (origin, first, last) in steps {
                let origin = BranchId(origin);
                if last >= 1000 {
                    // A prefix, through the wire form.
                    let prefix = last - 1000;
                    set.union_with(&WriteSet::from_parts([(origin, prefix, vec![])]));
                    model.extend((1..=prefix).map(|seq| WriteId { origin, seq }));
                } else if first == last {
                    let write = WriteId { origin, seq: first };
                    let new = first != 0 && !model.contains(&write);
                    assert_eq!(set.insert(write), new, "insert {write:?} into {set}");
                    if first != 0 {
                        model.insert(write);
                    }
                } else {
                    let seqs: Vec<u64> = (first..=last).collect();
                    set.union_with(&WriteSet::from_parts([(origin, 0, seqs)]));
                    model.extend((first.max(1)..=last).map(|seq| WriteId { origin, seq }));
                }
            }
            (set, model)
        })
    }

    /// The canonical form: prefix folded, ranges merged.
    fn assert_canonical(set: &WriteSet) {
        for (_, o) in set.parts() {
            assert!(o.prefix > 0 || !o.extra.is_empty(), "no empty origin in {set}");
            let mut below = o.prefix.checked_add(1);
            for (s, e) in o.extra.ranges() {
                assert!(s <= e);
                assert!(below.is_some_and(|b| s > b), "{s}..={e} touches what is below: {set}");
                below = e.checked_add(1);
            }
        }
    }

    fn view(set: &BTreeSet<WriteId>) -> WriteSet {
        set.iter().copied().collect()
    }

    proptest! {
        #[test]
        fn every_operation_matches_a_plain_set((a, ma) in build(), (b, mb) in build()) {
            assert_canonical(&a);
            prop_assert_eq!(a.iter().collect::<BTreeSet<_>>(), ma.clone());
            prop_assert_eq!(a.iter().count(), ma.len());
            prop_assert_eq!(a.len(), ma.len() as u64);
            prop_assert_eq!(a.is_empty(), ma.is_empty());
            prop_assert_eq!(&a, &view(&ma), "equal sets, equal forms");
            for origin in 1..4 {
                for seq in 0..60 {
                    let write = WriteId { origin: BranchId(origin), seq };
                    prop_assert_eq!(a.contains(&write), ma.contains(&write));
                }
            }
            prop_assert_eq!(a.contains_all(&b), mb.is_subset(&ma));
            prop_assert_eq!(b.contains_all(&a), ma.is_subset(&mb));
            let missing: Vec<_> = mb.difference(&ma).copied().collect();
            prop_assert_eq!(a.missing_from(&b), missing.clone());
            prop_assert_eq!(a.first_missing_from(&b, 3), missing.iter().take(3).copied().collect::<Vec<_>>());
            prop_assert_eq!(a.count_missing_from(&b), missing.len() as u64);
            let union = a.clone().union(&b);
            assert_canonical(&union);
            prop_assert_eq!(&union, &view(&ma.union(&mb).copied().collect()));
            let parts: Vec<_> =
                a.parts().map(|(o, ow)| (o, ow.prefix, ow.extra.iter().collect())).collect();
            prop_assert_eq!(&WriteSet::from_parts(parts), &a);
            let singles: Vec<String> = {
                let mut out = Vec::new();
                for (origin, o) in a.parts() {
                    match o.prefix {
                        0 => {}
                        1 => out.push(format!("w{}.1", origin.0)),
                        p => out.push(format!("w{}.1-{p}", origin.0)),
                    }
                    out.extend(o.extra.iter().map(|s| format!("w{}.{s}", origin.0)));
                }
                out
            };
            prop_assert_eq!(a.to_string(), format!("{{{}}}", singles.join(", ")));
        }
    }
}
