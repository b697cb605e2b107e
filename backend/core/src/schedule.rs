//! How customer sessions interleave during a run.
//!
//! Every customer session runs as its own task and always sends its own
//! events in order, one at a time, waiting for each answer. The schedule only
//! decides when sessions may *start* an event relative to each other, because
//! the course's expected outputs were produced under different conventions.

use std::fmt;
use std::str::FromStr;

use crate::scenario::Scenario;

/// A stretch of one customer session: indices into its `events`, in the
/// order they are sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// Index into `Scenario::customers`.
    pub session: usize,
    pub events: Vec<usize>,
}

/// Runs that go at the same time. Phases run one after another: a phase
/// starts when every run of the previous one has been answered.
pub type Phase = Vec<Run>;

/// When customer sessions may run relative to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// One session after another, in input order: each event (including its
    /// propagation to every branch) completes before the next starts. The
    /// convention of the autumn-2023 expected outputs.
    Sequential,
    /// All sessions at once. Answers of queries depend on timing.
    Concurrent,
    /// Two phases: first every session sends its writes (all sessions at
    /// once), then every session sends its queries. The handout's "final
    /// balance" convention, where every query sees the balance after all
    /// writes. (A session's query that comes before its own write in the
    /// file is therefore sent after it.)
    WritesFirst,
}

impl Schedule {
    pub const ALL: [Schedule; 3] =
        [Schedule::Sequential, Schedule::Concurrent, Schedule::WritesFirst];

    /// The plan for `scenario`: phases in order, each a set of concurrent runs.
    /// Both the simulator and the real cluster's runner follow this plan, so
    /// a schedule means the same thing everywhere.
    pub fn phases(self, scenario: &Scenario) -> Vec<Phase> {
        let all = |keep: &dyn Fn(usize, usize) -> bool| -> Phase {
            scenario
                .customers
                .iter()
                .enumerate()
                .map(|(s, c)| Run {
                    session: s,
                    events: (0..c.events.len()).filter(|e| keep(s, *e)).collect(),
                })
                .filter(|r| !r.events.is_empty())
                .collect()
        };
        let is_write = |s: usize, e: usize| scenario.customers[s].events[e].op.is_write();
        let phases = match self {
            Schedule::Sequential => all(&|_, _| true).into_iter().map(|run| vec![run]).collect(),
            Schedule::Concurrent => vec![all(&|_, _| true)],
            Schedule::WritesFirst => vec![all(&is_write), all(&|s, e| !is_write(s, e))],
        };
        phases.into_iter().filter(|p: &Phase| !p.is_empty()).collect()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Schedule::Sequential => "sequential",
            Schedule::Concurrent => "concurrent",
            Schedule::WritesFirst => "writes-first",
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Schedule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Schedule::ALL.into_iter().find(|x| x.as_str() == s).ok_or_else(|| {
            format!("unknown schedule `{s}` (expected sequential, concurrent or writes-first)")
        })
    }
}
