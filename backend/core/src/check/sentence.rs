//! Each violation as a short proof, in the style of Jepsen's Elle: name the
//! events, state the facts that relate them, conclude.
//!
//! ```text
//! Let R = customer 2's query #4 at branch 3 (answered 100), W = customer 2's
//! deposit #3 of 100 at branch 1 (w1.2). Then: the session issued W before R;
//! R did not observe W; so Read Your Writes is broken.
//! ```
//!
//! The sentence is built from the violation's [`Evidence`] and the history
//! it was found in, once, by [`check`](super::check): `bank check` prints it,
//! `--json` carries it as `sentence`, and the lab sends it to the page in
//! its `ViolationFound` events. Nothing else words a violation this way.

use std::collections::HashMap;

use super::{Anomaly, Evidence, Violation};
use crate::guarantees::Guarantee;
use crate::history::{AppliedRecord, History, OpRecord};
use crate::ids::{BranchId, WriteId};
use crate::op::OpKind;

/// What the sentences need from a history, indexed once per check.
pub(super) struct Teller<'h> {
    history: &'h History,
    /// Every write any branch applied, by id (its first record).
    writes: HashMap<WriteId, &'h AppliedRecord>,
}

impl<'h> Teller<'h> {
    pub(super) fn new(history: &'h History) -> Teller<'h> {
        let mut writes = HashMap::new();
        for b in &history.branches {
            for a in &b.applied {
                writes.entry(a.write).or_insert(a);
            }
        }
        Teller { history, writes }
    }

    /// The violation as "Let … Then: …; so … is broken."
    pub(super) fn sentence(&self, v: &Violation) -> String {
        let off = match v.anomaly {
            Anomaly::Broke(_) if !v.guarantee_was_on => " (the session had not asked for it)",
            Anomaly::Broke(_) => " (the session had asked for it: a bug)",
            Anomaly::Overdraft => "",
        };
        let ops: Vec<(usize, &OpRecord)> = v
            .evidence
            .iter()
            .filter_map(|e| match e {
                Evidence::Op { session, index } => self.op(*session, *index).map(|o| (*session, o)),
                Evidence::Apply { .. } => None,
            })
            .collect();
        let applies: Vec<(BranchId, WriteId)> = v
            .evidence
            .iter()
            .filter_map(|e| match e {
                Evidence::Apply { branch, write } => Some((*branch, *write)),
                Evidence::Op { .. } => None,
            })
            .collect();
        let (lets, facts, conclusion) = match (v.anomaly, ops.as_slice(), applies.as_slice()) {
            (Anomaly::Broke(Guarantee::ReadYourWrites), [(s, r), (_, w), ..], _) => (
                vec![("R", self.op_words(*s, r)), ("W", self.op_words(*s, w))],
                vec!["the session issued W before R".to_owned(), "R did not observe W".to_owned()],
                format!("Read Your Writes is broken{off}"),
            ),
            (Anomaly::Broke(Guarantee::MonotonicReads), [(s, r2), (_, r1), ..], _) => {
                let (lost, count) = match (&r1.observed, &r2.observed) {
                    (Some(before), Some(after)) => {
                        (after.missing_iter(before).next(), after.count_missing_from(before))
                    }
                    _ => (None, 0),
                };
                let mut lets = vec![("R1", self.op_words(*s, r1)), ("R2", self.op_words(*s, r2))];
                let mut facts = vec!["the session issued R1 before R2".to_owned()];
                if let Some(w) = lost {
                    lets.push(("W", self.write_words(w)));
                    facts.push("R1 observed W".to_owned());
                    facts.push(match count {
                        0 | 1 => "R2 did not observe W".to_owned(),
                        n => format!("R2 did not observe W, nor {} more writes R1 observed", n - 1),
                    });
                } else {
                    facts.push("R2 did not observe everything R1 observed".to_owned());
                }
                (lets, facts, format!("Monotonic Reads is broken{off}"))
            }
            (
                Anomaly::Broke(Guarantee::MonotonicWrites),
                [(s, w2), (_, w1), ..],
                [(branch, new), (_, dep), ..],
            ) => (
                vec![("W1", self.op_words(*s, w1)), ("W2", self.op_words(*s, w2))],
                vec![
                    "the session issued W1 before W2".to_owned(),
                    self.applied_before(*branch, *new, "W2", *dep, "W1"),
                ],
                format!("Monotonic Writes is broken{off}"),
            ),
            (
                Anomaly::Broke(Guarantee::WritesFollowReads),
                [(s, w), (_, r), ..],
                [(branch, new), (_, dep), ..],
            ) => (
                vec![
                    ("R", self.op_words(*s, r)),
                    ("D", self.write_words(*dep)),
                    ("W", self.op_words(*s, w)),
                ],
                vec![
                    "R observed D".to_owned(),
                    "the session issued R before W".to_owned(),
                    self.applied_before(*branch, *new, "W", *dep, "D"),
                ],
                format!("Writes Follow Reads is broken{off}"),
            ),
            (Anomaly::Overdraft, _, [(branch, write), ..]) => {
                let after = self
                    .apply_at(*branch, *write)
                    .map_or_else(String::new, |a| a.balance_after.decimal_text());
                (
                    vec![(
                        "A",
                        format!("branch {}'s apply of {}", branch.0, self.write_words(*write)),
                    )],
                    vec![
                        "each withdraw was covered by the balance where it was accepted".to_owned(),
                        format!("A took branch {}'s balance to {after}", branch.0),
                    ],
                    "the bank overdrew, which no session guarantee prevents".to_owned(),
                )
            }
            // Evidence of an unexpected shape: say what the checker said.
            _ => return format!("{} is broken{off}: {}", v.anomaly, v.explanation),
        };
        let lets: Vec<String> = lets.into_iter().map(|(n, w)| format!("{n} = {w}")).collect();
        format!("Let {}. Then: {}; so {conclusion}.", lets.join(", "), facts.join("; "))
    }

    fn op(&self, session: usize, index: usize) -> Option<&'h OpRecord> {
        self.history.sessions.get(session)?.ops.get(index)
    }

    /// "customer 2's query #4 at branch 3 (answered 100)",
    /// "customer 2's deposit #3 of 100 at branch 1 (w1.2)".
    fn op_words(&self, session: usize, op: &OpRecord) -> String {
        let customer = self.history.sessions.get(session).map_or(0, |s| s.customer.0);
        let (event, branch) = (op.event.0, op.branch.0);
        match (op.op, op.write) {
            (OpKind::Query, _) => format!(
                "customer {customer}'s query #{event} at branch {branch} (answered {})",
                op.balance.decimal_text()
            ),
            (kind, write) => format!(
                "customer {customer}'s {kind} #{event} of {} at branch {branch}{}",
                op.amount.decimal_text(),
                write.map_or_else(String::new, |w| format!(" ({w})"))
            ),
        }
    }

    /// "customer 3's deposit #1 of 50 (w1.1)", from the branches' apply logs.
    fn write_words(&self, w: WriteId) -> String {
        match self.writes.get(&w) {
            Some(a) => format!(
                "customer {}'s {} #{} of {} ({w})",
                a.customer.0,
                a.op,
                a.event.0,
                a.amount.decimal_text()
            ),
            None => format!("write {w}"),
        }
    }

    fn apply_at(&self, branch: BranchId, write: WriteId) -> Option<&'h AppliedRecord> {
        let b = self.history.branches.iter().find(|b| b.id == branch)?;
        b.applied.iter().find(|a| a.write == write)
    }

    /// "branch 3 applied W2 before W1" or "branch 3 applied W2 but never W1".
    fn applied_before(
        &self,
        branch: BranchId,
        new: WriteId,
        new_name: &str,
        dep: WriteId,
        dep_name: &str,
    ) -> String {
        match self.apply_at(branch, dep) {
            Some(_) => format!("branch {} applied {new_name} before {dep_name}", branch.0),
            None if self.apply_at(branch, new).is_some() => {
                format!("branch {} applied {new_name} but never {dep_name}", branch.0)
            }
            None => format!("branch {} did not apply {dep_name} before {new_name}", branch.0),
        }
    }
}
