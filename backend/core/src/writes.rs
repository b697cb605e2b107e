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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::ids::{BranchId, WriteId};

/// The seqs of one origin: `1..=prefix` plus the `extra` ones above it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OriginWrites {
    pub prefix: u64,
    pub extra: BTreeSet<u64>,
}

impl OriginWrites {
    fn contains(&self, seq: u64) -> bool {
        seq <= self.prefix || self.extra.contains(&seq)
    }

    fn insert(&mut self, seq: u64) -> bool {
        if self.contains(seq) || seq == 0 {
            return false;
        }
        self.extra.insert(seq);
        self.fold();
        true
    }

    /// Folds exceptions that continue the prefix into it. Costs the
    /// exceptions folded (and a split), never a walk over all of them: it
    /// runs on every insert.
    fn fold(&mut self) {
        if self.extra.first().is_some_and(|s| *s <= self.prefix) {
            self.extra = match self.prefix.checked_add(1) {
                Some(above) => self.extra.split_off(&above),
                None => BTreeSet::new(),
            };
        }
        while let Some(next) = self.prefix.checked_add(1) {
            if !self.extra.remove(&next) {
                break;
            }
            self.prefix = next;
        }
    }

    fn len(&self) -> u64 {
        self.prefix.saturating_add(self.extra.len() as u64)
    }

    fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (1..=self.prefix).chain(self.extra.iter().copied())
    }
}

/// A set of [`WriteId`]s. See the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WriteSet {
    origins: BTreeMap<BranchId, OriginWrites>,
}

impl WriteSet {
    pub fn new() -> WriteSet {
        WriteSet::default()
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

    /// The compact parts: per origin, its prefix and exceptions.
    pub fn parts(&self) -> impl Iterator<Item = (BranchId, &OriginWrites)> {
        self.origins.iter().map(|(o, w)| (*o, w))
    }

    /// Adds `write`; false if it was there already.
    pub fn insert(&mut self, write: WriteId) -> bool {
        self.origins.entry(write.origin).or_default().insert(write.seq)
    }

    pub fn contains(&self, write: &WriteId) -> bool {
        self.origins.get(&write.origin).is_some_and(|o| o.contains(write.seq))
    }

    /// True when every write of `other` is in `self`.
    pub fn contains_all(&self, other: &WriteSet) -> bool {
        other.origins.iter().all(|(origin, theirs)| match self.origins.get(origin) {
            None => theirs.len() == 0,
            Some(mine) => {
                (theirs.prefix <= mine.prefix
                    || (mine.prefix + 1..=theirs.prefix).all(|s| mine.extra.contains(&s)))
                    && theirs.extra.iter().all(|s| mine.contains(*s))
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
    /// step costs at most the exceptions of `self` it skips: taking the first
    /// few is cheap however large the ranges are.
    pub fn missing_iter<'a>(&'a self, other: &'a WriteSet) -> impl Iterator<Item = WriteId> + 'a {
        other.origins.iter().flat_map(move |(origin, theirs)| {
            let mine = self.origins.get(origin);
            let have = mine.map_or(0, |m| m.prefix);
            let lacks = move |seq: &u64| !mine.is_some_and(|m| m.contains(*seq));
            // Theirs beyond my prefix: from have+1 to their prefix, then their extras.
            let prefix = have.checked_add(1).map(|first| first..=theirs.prefix);
            let extras = have.checked_add(1).map(|first| theirs.extra.range(first..));
            prefix
                .into_iter()
                .flatten()
                .filter(lacks)
                .chain(extras.into_iter().flatten().copied().filter(lacks))
                .map(move |seq| WriteId { origin: *origin, seq })
        })
    }

    /// How many writes of `other` are missing from `self`, by interval
    /// arithmetic: the cost is the number of exceptions, never the ranges.
    pub fn count_missing_from(&self, other: &WriteSet) -> u64 {
        let mut missing: u64 = 0;
        for (origin, theirs) in &other.origins {
            let Some(mine) = self.origins.get(origin) else {
                missing = missing.saturating_add(theirs.len());
                continue;
            };
            // |theirs ∩ mine|, the four pairs of (prefix | extras).
            let both_prefixes = theirs.prefix.min(mine.prefix);
            let my_extras_in_their_prefix = mine.extra.range(..=theirs.prefix).count() as u64;
            let their_extras_in_my_prefix = theirs.extra.range(..=mine.prefix).count() as u64;
            let (small, large) = if theirs.extra.len() <= mine.extra.len() {
                (&theirs.extra, &mine.extra)
            } else {
                (&mine.extra, &theirs.extra)
            };
            let both_extras = small.iter().filter(|s| large.contains(s)).count() as u64;
            let shared = both_prefixes
                .saturating_add(my_extras_in_their_prefix)
                .saturating_add(their_extras_in_my_prefix)
                .saturating_add(both_extras);
            missing = missing.saturating_add(theirs.len().saturating_sub(shared));
        }
        missing
    }

    /// Adds every write of `other`.
    pub fn union_with(&mut self, other: &WriteSet) {
        for (origin, theirs) in &other.origins {
            let mine = self.origins.entry(*origin).or_default();
            if theirs.prefix > mine.prefix {
                mine.prefix = theirs.prefix;
                mine.fold();
            }
            for seq in &theirs.extra {
                mine.insert(*seq);
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
    /// `{w1.1-4, w2.2, w2.5}`: ranges for prefixes, single ids for exceptions.
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
            s.parts().map(|(o, ow)| (o, ow.prefix, ow.extra.iter().copied().collect())).collect();
        assert_eq!(WriteSet::from_parts(parts), s);
        assert_eq!(WriteSet::from_parts([(BranchId(1), 2, vec![1, 2, 3])]).to_string(), "{w1.1-3}");
    }
}
