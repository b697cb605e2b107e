//! Sets of possible balances, exact while small, a range beyond.
//!
//! A query's answer in a concurrent run depends on which other customers'
//! writes had reached the branch; the grader keeps the set of every
//! balance that is possible. Sets add like Minkowski sums (`{0, 10} +
//! {0, -5} = {-5, 0, 5, 10}`); when a set would grow past [`LIMIT`] values it
//! becomes its range, which can only accept more, never reject a correct
//! answer.

use std::collections::BTreeSet;

/// The largest set kept exactly.
pub const LIMIT: usize = 4096;

/// Possible amounts, in cents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sums {
    Exact(BTreeSet<i64>),
    /// Every amount from `.0` to `.1` (inclusive).
    Range(i64, i64),
}

impl Sums {
    /// Just `value`.
    pub fn one(value: i64) -> Sums {
        Sums::Exact(BTreeSet::from([value]))
    }

    /// Any of `values` (at least one).
    pub fn of(values: impl IntoIterator<Item = i64>) -> Sums {
        Sums::Exact(values.into_iter().collect()).capped()
    }

    fn capped(self) -> Sums {
        match self {
            Sums::Exact(s) if s.len() > LIMIT => {
                Sums::Range(*s.first().expect("non-empty"), *s.last().expect("non-empty"))
            }
            other => other,
        }
    }

    pub fn min(&self) -> i64 {
        match self {
            Sums::Exact(s) => s.first().copied().unwrap_or(0),
            Sums::Range(lo, _) => *lo,
        }
    }

    pub fn max(&self) -> i64 {
        match self {
            Sums::Exact(s) => s.last().copied().unwrap_or(0),
            Sums::Range(_, hi) => *hi,
        }
    }

    pub fn contains(&self, value: i64) -> bool {
        match self {
            Sums::Exact(s) => s.contains(&value),
            Sums::Range(lo, hi) => (*lo..=*hi).contains(&value),
        }
    }

    /// Every `a + b`.
    pub fn plus(&self, other: &Sums) -> Sums {
        match (self, other) {
            (Sums::Exact(a), Sums::Exact(b)) if a.len().saturating_mul(b.len()) <= LIMIT * 4 => {
                Sums::Exact(
                    a.iter().flat_map(|x| b.iter().map(move |y| x.saturating_add(*y))).collect(),
                )
                .capped()
            }
            _ => Sums::Range(
                self.min().saturating_add(other.min()),
                self.max().saturating_add(other.max()),
            ),
        }
    }

    /// Every value moved by `by`.
    pub fn shift(&self, by: i64) -> Sums {
        self.plus(&Sums::one(by))
    }

    /// Values of either.
    pub fn union(&self, other: &Sums) -> Sums {
        match (self, other) {
            (Sums::Exact(a), Sums::Exact(b)) => Sums::Exact(a.union(b).copied().collect()).capped(),
            _ => Sums::Range(self.min().min(other.min()), self.max().max(other.max())),
        }
    }

    /// The exact set, unless it became a range.
    pub fn exact(&self) -> Option<&BTreeSet<i64>> {
        match self {
            Sums::Exact(s) => Some(s),
            Sums::Range(..) => None,
        }
    }

    /// The exact values, if few enough to list.
    pub fn values(&self) -> Option<Vec<i64>> {
        match self {
            Sums::Exact(s) => Some(s.iter().copied().collect()),
            Sums::Range(..) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_add_and_degrade_to_ranges() {
        let a = Sums::of([0, 10]);
        let b = Sums::of([0, -5]);
        assert_eq!(a.plus(&b), Sums::of([-5, 0, 5, 10]));
        assert!(a.plus(&b).contains(5) && !a.plus(&b).contains(1));
        let big = Sums::of(0..5000);
        assert_eq!(big, Sums::Range(0, 4999));
        assert!(big.plus(&a).contains(5009));
        assert_eq!(a.union(&Sums::one(7)).values(), Some(vec![0, 7, 10]));
    }
}
