//! The four session guarantees of Terry et al. (1994), each switchable.
//!
//! | guarantee | promise to one customer session | what the serving branch checks |
//! |---|---|---|
//! | Read Your Writes (RYW) | a read sees the session's earlier writes | a **read** waits until the session's *write set* is applied |
//! | Monotonic Reads (MR) | a read sees everything earlier reads saw | a **read** waits until the session's *read set* is applied |
//! | Writes Follow Reads (WFR) | a write is ordered after the writes its session had read | a **write** waits for the *read set*, and carries it as dependencies |
//! | Monotonic Writes (MW) | the session's writes are applied in issue order everywhere | a **write** waits for the *write set*, and carries it as dependencies |
//!
//! "Carries as dependencies" means every other branch applies the write only
//! after the listed writes (see [`crate::branch`]). With a guarantee off, the
//! branch simply skips its check: under asynchronous propagation the anomaly
//! it prevents can then happen, and the history checker ([`crate::check`])
//! finds it.

use std::fmt;
use std::str::FromStr;

use crate::op::OpKind;
use crate::writes::WriteSet;

/// One session guarantee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Guarantee {
    ReadYourWrites,
    MonotonicReads,
    WritesFollowReads,
    MonotonicWrites,
}

impl Guarantee {
    pub const ALL: [Guarantee; 4] = [
        Guarantee::ReadYourWrites,
        Guarantee::MonotonicReads,
        Guarantee::WritesFollowReads,
        Guarantee::MonotonicWrites,
    ];

    /// The short name used on the command line and in files: `ryw`, `mr`, `wfr`, `mw`.
    pub fn short(self) -> &'static str {
        match self {
            Guarantee::ReadYourWrites => "ryw",
            Guarantee::MonotonicReads => "mr",
            Guarantee::WritesFollowReads => "wfr",
            Guarantee::MonotonicWrites => "mw",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Guarantee::ReadYourWrites => "Read Your Writes",
            Guarantee::MonotonicReads => "Monotonic Reads",
            Guarantee::WritesFollowReads => "Writes Follow Reads",
            Guarantee::MonotonicWrites => "Monotonic Writes",
        }
    }
}

impl fmt::Display for Guarantee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which guarantees a session asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Guarantees {
    pub read_your_writes: bool,
    pub monotonic_reads: bool,
    pub writes_follow_reads: bool,
    pub monotonic_writes: bool,
}

impl Default for Guarantees {
    /// The course's project 3: Read Your Writes and Monotonic Writes.
    fn default() -> Self {
        Guarantees::COURSE
    }
}

impl Guarantees {
    pub const ALL: Guarantees = Guarantees {
        read_your_writes: true,
        monotonic_reads: true,
        writes_follow_reads: true,
        monotonic_writes: true,
    };
    pub const NONE: Guarantees = Guarantees {
        read_your_writes: false,
        monotonic_reads: false,
        writes_follow_reads: false,
        monotonic_writes: false,
    };
    /// What project 3 of the course enforces.
    pub const COURSE: Guarantees = Guarantees {
        read_your_writes: true,
        monotonic_reads: false,
        writes_follow_reads: false,
        monotonic_writes: true,
    };

    pub fn has(self, g: Guarantee) -> bool {
        match g {
            Guarantee::ReadYourWrites => self.read_your_writes,
            Guarantee::MonotonicReads => self.monotonic_reads,
            Guarantee::WritesFollowReads => self.writes_follow_reads,
            Guarantee::MonotonicWrites => self.monotonic_writes,
        }
    }

    pub fn with(mut self, g: Guarantee, on: bool) -> Guarantees {
        match g {
            Guarantee::ReadYourWrites => self.read_your_writes = on,
            Guarantee::MonotonicReads => self.monotonic_reads = on,
            Guarantee::WritesFollowReads => self.writes_follow_reads = on,
            Guarantee::MonotonicWrites => self.monotonic_writes = on,
        }
        self
    }

    pub fn only(g: Guarantee) -> Guarantees {
        Guarantees::NONE.with(g, true)
    }

    pub fn enabled(self) -> impl Iterator<Item = Guarantee> {
        Guarantee::ALL.into_iter().filter(move |g| self.has(*g))
    }

    /// The writes the serving branch must have applied before it serves an
    /// operation of `kind`, given the session's write and read sets.
    pub fn required(self, kind: OpKind, write_set: &WriteSet, read_set: &WriteSet) -> WriteSet {
        let (needs_writes, needs_reads) = match kind {
            OpKind::Query => (self.read_your_writes, self.monotonic_reads),
            OpKind::Deposit | OpKind::Withdraw => (self.monotonic_writes, self.writes_follow_reads),
        };
        let mut required = WriteSet::new();
        if needs_writes {
            required.union_with(write_set);
        }
        if needs_reads {
            required.union_with(read_set);
        }
        required
    }

    /// Which guarantee asks for `write` before an operation of `kind`
    /// (to name it in a timeout message).
    pub fn why_needed(
        self,
        kind: OpKind,
        write_set: &WriteSet,
        read_set: &WriteSet,
        write: &crate::WriteId,
    ) -> Option<Guarantee> {
        let reading = kind == OpKind::Query;
        let (by_writes, by_reads) = if reading {
            (Guarantee::ReadYourWrites, Guarantee::MonotonicReads)
        } else {
            (Guarantee::MonotonicWrites, Guarantee::WritesFollowReads)
        };
        if self.has(by_writes) && write_set.contains(write) {
            Some(by_writes)
        } else if self.has(by_reads) && read_set.contains(write) {
            Some(by_reads)
        } else {
            None
        }
    }
}

/// What each session of `scenario` (input entry order) asks for: `default`,
/// except the customers listed in `per_customer`.
pub fn per_session(
    scenario: &crate::scenario::Scenario,
    default: Guarantees,
    per_customer: &std::collections::BTreeMap<crate::ids::CustomerId, Guarantees>,
) -> Vec<Guarantees> {
    scenario.customers.iter().map(|c| per_customer.get(&c.id).copied().unwrap_or(default)).collect()
}

impl fmt::Display for Guarantees {
    /// `all`, `none`, or the short names joined by commas (`ryw,mw`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Guarantees::ALL {
            return f.write_str("all");
        }
        if *self == Guarantees::NONE {
            return f.write_str("none");
        }
        // Written one by one (no `Vec` and `join`: the browser prints these too).
        for (i, g) in self.enabled().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(g.short())?;
        }
        Ok(())
    }
}

/// `all`, `none`, `course`, or a comma-separated list of `ryw`, `mr`, `wfr`, `mw`.
impl FromStr for Guarantees {
    type Err = String;

    fn from_str(s: &str) -> Result<Guarantees, String> {
        match s.trim() {
            "all" => return Ok(Guarantees::ALL),
            "none" | "" => return Ok(Guarantees::NONE),
            "course" => return Ok(Guarantees::COURSE),
            _ => {}
        }
        let mut g = Guarantees::NONE;
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let one = Guarantee::ALL
                .into_iter()
                .find(|x| x.short() == part.to_ascii_lowercase())
                .ok_or_else(|| format!("unknown guarantee `{part}`: expected all, none, course, or a list of ryw, mr, wfr, mw"))?;
            g = g.with(one, true);
        }
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{BranchId, WriteId};

    #[test]
    fn parse_and_print() {
        assert_eq!("all".parse::<Guarantees>().unwrap(), Guarantees::ALL);
        assert_eq!("none".parse::<Guarantees>().unwrap(), Guarantees::NONE);
        let g: Guarantees = "ryw, MW".parse().unwrap();
        assert_eq!(g, Guarantees::COURSE);
        assert_eq!(g.to_string(), "ryw,mw");
        assert!("ryw,xx".parse::<Guarantees>().unwrap_err().contains("`xx`"));
    }

    #[test]
    fn reads_and_writes_need_different_sets() {
        let w = |s| WriteId { origin: BranchId(1), seq: s };
        let writes: WriteSet = [w(1)].into_iter().collect();
        let reads: WriteSet = [w(2)].into_iter().collect();
        let g = Guarantees::only(Guarantee::MonotonicReads);
        assert_eq!(g.required(OpKind::Query, &writes, &reads), reads);
        assert!(g.required(OpKind::Deposit, &writes, &reads).is_empty());
        let g = Guarantees::only(Guarantee::WritesFollowReads);
        assert_eq!(g.required(OpKind::Withdraw, &writes, &reads), reads);
        assert_eq!(
            g.why_needed(OpKind::Withdraw, &writes, &reads, &w(2)),
            Some(Guarantee::WritesFollowReads)
        );
        assert_eq!(Guarantees::ALL.required(OpKind::Query, &writes, &reads).len(), 2);
    }
}
