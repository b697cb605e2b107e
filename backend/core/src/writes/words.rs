//! A write set in two readable forms, for the people watching a run.
//!
//! [`WriteSet::compact`] is the notation of `bank check` histories without
//! the braces, with every run of consecutive seqs as one range (`w2.1-7,
//! w3.4`); [`WriteSet::in_words`] says the same in plain words ("writes 1
//! to 7 from branch 2, write 4 from branch 3"). Both walk the set's ranges,
//! never its writes one by one, so a set of a million writes prints in a
//! handful of parts.

use crate::ids::BranchId;

use super::WriteSet;

impl WriteSet {
    /// Every origin's writes as runs of consecutive seqs, in id order.
    pub fn runs(&self) -> Vec<(BranchId, u64, u64)> {
        let mut runs: Vec<(BranchId, u64, u64)> = Vec::new();
        for (origin, o) in self.parts() {
            let prefix = (o.prefix > 0).then_some((1, o.prefix));
            for (first, last) in prefix.into_iter().chain(o.extra.ranges()) {
                match runs.last_mut() {
                    // An exception range right above the prefix is folded
                    // already; this only joins what touches.
                    Some((b, _, end)) if *b == origin && end.checked_add(1) == Some(first) => {
                        *end = last;
                    }
                    _ => runs.push((origin, first, last)),
                }
            }
        }
        runs
    }

    /// `w2.1-7, w3.4` (`-` for the empty set).
    pub fn compact(&self) -> String {
        let parts: Vec<String> = self
            .runs()
            .into_iter()
            .map(|(origin, first, last)| match first == last {
                true => format!("w{}.{first}", origin.0),
                false => format!("w{}.{first}-{last}", origin.0),
            })
            .collect();
        if parts.is_empty() {
            "-".to_owned()
        } else {
            parts.join(", ")
        }
    }

    /// `writes 1 to 7 from branch 2, write 4 from branch 3` (`no writes`
    /// for the empty set). Runs of one origin are said together:
    /// `writes 1 to 3 and 5 from branch 1`.
    pub fn in_words(&self) -> String {
        let mut by_origin: Vec<(BranchId, Vec<(u64, u64)>)> = Vec::new();
        for (origin, first, last) in self.runs() {
            match by_origin.last_mut() {
                Some((b, runs)) if *b == origin => runs.push((first, last)),
                _ => by_origin.push((origin, vec![(first, last)])),
            }
        }
        if by_origin.is_empty() {
            return "no writes".to_owned();
        }
        by_origin
            .into_iter()
            .map(|(origin, runs)| {
                let one = runs.len() == 1 && runs[0].0 == runs[0].1;
                let spans: Vec<String> = runs
                    .iter()
                    .map(|&(first, last)| match last - first {
                        0 => first.to_string(),
                        1 => format!("{first} and {last}"),
                        _ => format!("{first} to {last}"),
                    })
                    .collect();
                let noun = if one { "write" } else { "writes" };
                format!("{noun} {} from branch {}", join_words(&spans), origin.0)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `a`, `a and b`, `a, b and c`.
fn join_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use crate::ids::{BranchId, WriteId};
    use crate::writes::WriteSet;

    fn set(ids: &[(u64, u64)]) -> WriteSet {
        ids.iter().map(|&(origin, seq)| WriteId { origin: BranchId(origin), seq }).collect()
    }

    #[test]
    fn empty() {
        assert_eq!(WriteSet::new().compact(), "-");
        assert_eq!(WriteSet::new().in_words(), "no writes");
    }

    #[test]
    fn a_prefix_is_one_range() {
        let s = set(&[(2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (2, 6), (2, 7)]);
        assert_eq!(s.compact(), "w2.1-7");
        assert_eq!(s.in_words(), "writes 1 to 7 from branch 2");
    }

    #[test]
    fn exceptions_and_several_origins() {
        let s = set(&[(1, 1), (1, 2), (1, 3), (1, 5), (1, 8), (1, 9), (1, 10), (3, 4)]);
        assert_eq!(s.compact(), "w1.1-3, w1.5, w1.8-10, w3.4");
        assert_eq!(
            s.in_words(),
            "writes 1 to 3, 5 and 8 to 10 from branch 1, write 4 from branch 3"
        );
        assert_eq!(set(&[(2, 4), (2, 5)]).in_words(), "writes 4 and 5 from branch 2");
    }

    #[test]
    fn runs_cover_the_set_exactly() {
        let s = set(&[(1, 2), (1, 3), (1, 7), (2, 1)]);
        let back: WriteSet = s
            .runs()
            .into_iter()
            .flat_map(|(o, a, b)| (a..=b).map(move |seq| WriteId { origin: o, seq }))
            .collect();
        assert_eq!(back, s);
        assert_eq!(s.runs().len(), 3);
    }
}
