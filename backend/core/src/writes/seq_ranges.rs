//! A set of sequence numbers stored as disjoint, non-touching inclusive
//! ranges: the exceptions of one origin above its contiguous prefix.
//!
//! Writes that arrive out of order usually come in runs (a burst of one
//! origin's writes, delayed behind one missing seq), so a run of a thousand
//! seqs is one `start..=end` entry, not a thousand. Every operation costs
//! the number of ranges it touches, never the number of seqs in them.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

/// Seqs as disjoint inclusive ranges, kept merged: no two ranges overlap or
/// touch (`1..=3` and `4..=6` are stored as `1..=6`), so equal sets have
/// equal representations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeqRanges {
    /// start -> end, inclusive, `start <= end`.
    ranges: BTreeMap<u64, u64>,
}

impl SeqRanges {
    pub const fn new() -> SeqRanges {
        SeqRanges { ranges: BTreeMap::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// How many seqs (saturating at `u64::MAX`).
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|(s, e)| e - s + 1).fold(0, u64::saturating_add)
    }

    /// How many ranges: the size of the stored form.
    pub fn range_count(&self) -> usize {
        self.ranges.len()
    }

    /// The ranges in order, as `(first, last)` inclusive pairs.
    pub fn ranges(&self) -> impl DoubleEndedIterator<Item = (u64, u64)> + '_ {
        self.ranges.iter().map(|(s, e)| (*s, *e))
    }

    /// Every seq in order. Walks the ranges: for sets built from listed seqs.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = u64> + '_ {
        self.ranges.iter().flat_map(|(s, e)| *s..=*e)
    }

    pub fn first(&self) -> Option<u64> {
        self.ranges.first_key_value().map(|(s, _)| *s)
    }

    pub fn last(&self) -> Option<u64> {
        self.ranges.last_key_value().map(|(_, e)| *e)
    }

    /// The range holding `seq`, if any.
    fn range_of(&self, seq: u64) -> Option<(u64, u64)> {
        self.ranges.range(..=seq).next_back().map(|(s, e)| (*s, *e)).filter(|(_, e)| seq <= *e)
    }

    pub fn contains(&self, seq: u64) -> bool {
        self.range_of(seq).is_some()
    }

    /// True when every seq of `first..=last` is here (one range holds them).
    pub fn contains_range(&self, first: u64, last: u64) -> bool {
        first > last || self.range_of(first).is_some_and(|(_, e)| last <= e)
    }

    /// Adds `seq`; false if it was there already.
    pub fn insert(&mut self, seq: u64) -> bool {
        if self.contains(seq) {
            return false;
        }
        self.insert_range(seq, seq);
        true
    }

    /// Adds every seq of `first..=last` (nothing when `first > last`),
    /// merging with the ranges it overlaps or touches.
    pub fn insert_range(&mut self, first: u64, last: u64) {
        if first > last {
            return;
        }
        let (mut start, mut end) = (first, last);
        // A range starting at or before `first` that reaches it (or touches it).
        if let Some((s, e)) = self.ranges.range(..=first).next_back().map(|(s, e)| (*s, *e)) {
            if e.saturating_add(1) >= first {
                start = s;
                end = end.max(e);
                self.ranges.remove(&s);
            }
        }
        // Ranges starting inside `start..=end+1` are swallowed.
        loop {
            let reach = end.saturating_add(1);
            let Some((s, e)) = self.ranges.range(start..=reach).next().map(|(s, e)| (*s, *e))
            else {
                break;
            };
            self.ranges.remove(&s);
            end = end.max(e);
        }
        self.ranges.insert(start, end);
    }

    /// Drops every seq `<= upto`.
    pub fn remove_through(&mut self, upto: u64) {
        let Some(above) = upto.checked_add(1) else {
            self.ranges.clear();
            return;
        };
        let mut kept = self.ranges.split_off(&above);
        if let Some((_, e)) = self.ranges.last_key_value() {
            if *e >= above {
                kept.insert(above, *e);
            }
        }
        self.ranges = kept;
    }

    /// If a range starts at `seq`, removes it and returns its end.
    pub fn take_range_starting_at(&mut self, seq: u64) -> Option<u64> {
        self.ranges.remove(&seq)
    }

    /// How many seqs lie in `first..=last`, by range arithmetic.
    pub fn count_in(&self, first: u64, last: u64) -> u64 {
        if first > last {
            return 0;
        }
        let mut count: u64 = 0;
        let before = self.ranges.range(..first).next_back().map(|(s, e)| (*s, *e));
        let inside = self.ranges.range(first..=last).map(|(s, e)| (*s, *e));
        for (s, e) in before.into_iter().chain(inside) {
            let (lo, hi) = (s.max(first), e.min(last));
            if lo <= hi {
                count = count.saturating_add(hi - lo + 1);
            }
        }
        count
    }

    /// The ranges overlapping `first..=last`, clipped to it, in order.
    pub fn clipped(&self, first: u64, last: u64) -> impl Iterator<Item = RangeInclusive<u64>> + '_ {
        let before = if first <= last {
            self.ranges.range(..first).next_back().map(|(s, e)| (*s, *e))
        } else {
            None
        };
        let inside = (first <= last).then(|| self.ranges.range(first..=last)).into_iter().flatten();
        before
            .into_iter()
            .chain(inside.map(|(s, e)| (*s, *e)))
            .map(move |(s, e)| s.max(first)..=e.min(last))
            .filter(|r| !r.is_empty())
    }

    /// How many seqs both sets hold, walking the ranges of both in step.
    pub fn count_common(&self, other: &SeqRanges) -> u64 {
        let (small, large) =
            if self.range_count() <= other.range_count() { (self, other) } else { (other, self) };
        small.ranges().map(|(s, e)| large.count_in(s, e)).fold(0, u64::saturating_add)
    }
}
