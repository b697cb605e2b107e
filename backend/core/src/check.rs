//! The history checker: which session guarantees did a run break, and how?
//!
//! Given a [`History`], [`check`] looks for every violation of the four
//! session guarantees (whether or not the run asked for them: a run with a
//! guarantee off is *expected* to show its anomaly) and for overdrafts. Each
//! [`Violation`] names the exact events involved, in words a student can
//! follow:
//!
//! | anomaly | guarantee | the evidence |
//! |---|---|---|
//! | stale read | Read Your Writes | a read that did not see an earlier write of the same session |
//! | reads going backwards | Monotonic Reads | a write an earlier read saw, missing from a later read |
//! | write before its cause | Writes Follow Reads | a branch applied a session's write before a write the session had read |
//! | writes out of order | Monotonic Writes | a branch applied a session's two writes in the opposite order |
//! | overdraft | (none can prevent it) | a branch's balance went below zero |

use std::collections::BTreeMap;
use std::fmt;

use crate::guarantees::Guarantee;
use crate::history::{AppliedRecord, History, OpRecord};
use crate::ids::{BranchId, WriteId};
use crate::money::Cents;
use crate::op::OpKind;

/// What kind of anomaly a violation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Anomaly {
    Broke(Guarantee),
    Overdraft,
}

impl Anomaly {
    pub const ALL: [Anomaly; 5] = [
        Anomaly::Broke(Guarantee::ReadYourWrites),
        Anomaly::Broke(Guarantee::MonotonicReads),
        Anomaly::Broke(Guarantee::WritesFollowReads),
        Anomaly::Broke(Guarantee::MonotonicWrites),
        Anomaly::Overdraft,
    ];

    /// `ryw`, `mr`, `wfr`, `mw` or `overdraft`.
    pub fn short(self) -> &'static str {
        match self {
            Anomaly::Broke(g) => g.short(),
            Anomaly::Overdraft => "overdraft",
        }
    }

    /// What a student would call it.
    pub fn nickname(self) -> &'static str {
        match self {
            Anomaly::Broke(Guarantee::ReadYourWrites) => "stale read",
            Anomaly::Broke(Guarantee::MonotonicReads) => "reads going backwards",
            Anomaly::Broke(Guarantee::WritesFollowReads) => {
                "write applied before the write it depends on"
            }
            Anomaly::Broke(Guarantee::MonotonicWrites) => "writes applied out of order",
            Anomaly::Overdraft => "overdraft",
        }
    }
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anomaly::Broke(g) => write!(f, "{g}"),
            Anomaly::Overdraft => f.write_str("Overdraft"),
        }
    }
}

/// One event a violation points at: a session's operation (by session
/// index and position) or a branch's apply of a write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Evidence {
    Op { session: usize, index: usize },
    Apply { branch: BranchId, write: WriteId },
}

/// One broken guarantee (or overdraft) with the events that show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub anomaly: Anomaly,
    /// The session it happened to (none for an overdraft).
    pub session: Option<usize>,
    /// The offending event first, then what it missed or overtook.
    pub evidence: Vec<Evidence>,
    /// The whole story in one or two sentences.
    pub explanation: String,
    /// Whether the session had asked for the guarantee (a violation of an
    /// enabled guarantee is a bug; of a disabled one, a demonstration).
    pub guarantee_was_on: bool,
}

/// Everything the checker found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub violations: Vec<Violation>,
}

impl Report {
    pub fn count(&self, anomaly: Anomaly) -> usize {
        self.violations.iter().filter(|v| v.anomaly == anomaly).count()
    }

    /// Violations of guarantees the sessions had asked for: always a bug.
    pub fn broken_promises(&self) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(|v| v.guarantee_was_on)
    }

    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }

    /// The report as text: a line per anomaly kind, then each violation.
    pub fn render(&self, max_per_kind: usize) -> String {
        let mut out = String::new();
        for anomaly in Anomaly::ALL {
            let found: Vec<&Violation> =
                self.violations.iter().filter(|v| v.anomaly == anomaly).collect();
            let status = match found.len() {
                0 => "ok".to_string(),
                1 => "1 violation".to_string(),
                n => format!("{n} violations"),
            };
            out.push_str(&format!("{anomaly} ({}): {status}\n", anomaly.nickname()));
            for (i, v) in found.iter().take(max_per_kind).enumerate() {
                let off = if matches!(anomaly, Anomaly::Broke(_)) && !v.guarantee_was_on {
                    " [guarantee off]"
                } else {
                    ""
                };
                out.push_str(&format!("  {}. {}{off}\n", i + 1, v.explanation));
            }
            if found.len() > max_per_kind {
                out.push_str(&format!("  ... and {} more\n", found.len() - max_per_kind));
            }
        }
        out
    }
}

/// Describes an operation: "customer 1's query (event 4) at branch 2".
fn op_words(op: &OpRecord, customer: u64) -> String {
    format!("customer {customer}'s {}", bare_op_words(op))
}

/// "query (event 4) at branch 2", "deposit of 100 (event 3) at branch 1".
fn bare_op_words(op: &OpRecord) -> String {
    match op.op {
        OpKind::Query => format!("query (event {}) at branch {}", op.event.0, op.branch.0),
        kind => format!(
            "{kind} of {} (event {}) at branch {}",
            op.amount.decimal_text(),
            op.event.0,
            op.branch.0
        ),
    }
}

/// Describes a write from the apply logs: "customer 2's deposit of 100 (event 3, w1.2)".
fn write_words(w: WriteId, writes: &BTreeMap<WriteId, AppliedRecord>) -> String {
    match writes.get(&w) {
        Some(a) => format!(
            "customer {}'s {} of {} (event {}, {w})",
            a.customer.0,
            a.op,
            a.amount.decimal_text(),
            a.event.0
        ),
        None => format!("write {w}"),
    }
}

/// Checks `history` for every anomaly. See the module docs.
pub fn check(history: &History) -> Report {
    let mut violations = Vec::new();
    // Every write any branch applied, to describe it.
    let mut writes: BTreeMap<WriteId, AppliedRecord> = BTreeMap::new();
    // Per branch: the position of each write in its apply order.
    let mut position: BTreeMap<BranchId, BTreeMap<WriteId, usize>> = BTreeMap::new();
    for b in &history.branches {
        let order = position.entry(b.id).or_default();
        for (i, a) in b.applied.iter().enumerate() {
            writes.entry(a.write).or_insert_with(|| a.clone());
            order.entry(a.write).or_insert(i);
        }
    }

    for (s, session) in history.sessions.iter().enumerate() {
        let customer = session.customer.0;
        let on = |g: Guarantee| session.guarantees.has(g);
        let ops = &session.ops;
        for (j, later) in ops.iter().enumerate() {
            let earlier = &ops[..j];
            // Read Your Writes and Monotonic Reads: what a read must have seen.
            if let (OpKind::Query, true, Some(seen)) = (later.op, later.ok, &later.observed) {
                for (i, w) in earlier.iter().enumerate().filter(|(_, o)| o.ok) {
                    if let Some(own) = w.write.filter(|own| !seen.contains(own)) {
                        violations.push(Violation {
                            anomaly: Anomaly::Broke(Guarantee::ReadYourWrites),
                            session: Some(s),
                            evidence: vec![Evidence::Op { session: s, index: j }, Evidence::Op { session: s, index: i }],
                            explanation: format!(
                                "{} returned {} without the customer's own earlier {}, acknowledged by branch {} ({own}): a stale read.",
                                op_words(later, customer),
                                later.balance.decimal_text(),
                                describe_own(w),
                                w.branch.0
                            ),
                            guarantee_was_on: on(Guarantee::ReadYourWrites),
                        });
                    }
                }
                if let Some((i, r, lost)) = earlier.iter().enumerate().rev().find_map(|(i, r)| {
                    let before = r.observed.as_ref().filter(|_| r.op == OpKind::Query && r.ok)?;
                    let lost = seen.missing_from(before);
                    (!lost.is_empty()).then_some((i, r, lost))
                }) {
                    violations.push(Violation {
                        anomaly: Anomaly::Broke(Guarantee::MonotonicReads),
                        session: Some(s),
                        evidence: vec![
                            Evidence::Op { session: s, index: j },
                            Evidence::Op { session: s, index: i },
                        ],
                        explanation: format!(
                            "{} returned {}, but the earlier {} had already seen {}{}: the reads went backwards.",
                            op_words(later, customer),
                            later.balance.decimal_text(),
                            bare_op_words(r),
                            write_words(lost[0], &writes),
                            if lost.len() > 1 { format!(" and {} more", lost.len() - 1) } else { String::new() }
                        ),
                        guarantee_was_on: on(Guarantee::MonotonicReads),
                    });
                }
            }
            // Monotonic Writes and Writes Follow Reads: apply orders.
            let Some(new_write) = later.write.filter(|_| later.ok) else { continue };
            for (i, before) in earlier.iter().enumerate().filter(|(_, o)| o.ok) {
                let (guarantee, deps): (Guarantee, Vec<WriteId>) =
                    match (before.write, &before.observed) {
                        (Some(w), _) => (Guarantee::MonotonicWrites, vec![w]),
                        (None, Some(seen)) if before.op == OpKind::Query => {
                            (Guarantee::WritesFollowReads, seen.iter().collect())
                        }
                        _ => continue,
                    };
                for (branch, order) in &position {
                    let Some(&at) = order.get(&new_write) else { continue };
                    // The first dependency this branch did not apply before the new write.
                    let Some(dep) = deps.iter().find(|d| order.get(d).is_none_or(|p| *p > at))
                    else {
                        continue;
                    };
                    let when = match order.get(dep) {
                        Some(_) => "only after it",
                        None => "never",
                    };
                    let explanation = match guarantee {
                        Guarantee::MonotonicWrites => format!(
                            "branch {} applied {} ({new_write}) before the same customer's earlier {} ({dep}), which it applied {when}: writes out of order.",
                            branch.0,
                            op_words(later, customer),
                            describe_own(before),
                        ),
                        _ => format!(
                            "branch {} applied {} ({new_write}) but {} {when}, although the customer's earlier {} had seen it: the write overtook what it depends on.",
                            branch.0,
                            op_words(later, customer),
                            write_words(*dep, &writes),
                            bare_op_words(before),
                        ),
                    };
                    violations.push(Violation {
                        anomaly: Anomaly::Broke(guarantee),
                        session: Some(s),
                        evidence: vec![
                            Evidence::Apply { branch: *branch, write: new_write },
                            Evidence::Apply { branch: *branch, write: *dep },
                            Evidence::Op { session: s, index: j },
                            Evidence::Op { session: s, index: i },
                        ],
                        explanation,
                        guarantee_was_on: on(guarantee),
                    });
                }
            }
        }
    }

    for b in &history.branches {
        if let Some(a) = b.applied.iter().find(|a| a.balance_after < Cents::ZERO) {
            violations.push(Violation {
                anomaly: Anomaly::Overdraft,
                session: None,
                evidence: vec![Evidence::Apply { branch: b.id, write: a.write }],
                explanation: format!(
                    "branch {}'s balance went to {} when it applied {}: each withdraw was covered where it was accepted, but not together.",
                    b.id.0,
                    a.balance_after.decimal_text(),
                    write_words(a.write, &writes)
                ),
                guarantee_was_on: false,
            });
        }
    }
    Report { violations }
}

fn describe_own(op: &OpRecord) -> String {
    format!("{} of {} (event {})", op.op, op.amount.decimal_text(), op.event.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guarantees::Guarantees;
    use crate::history::{BranchHistory, SessionHistory, HISTORY_FORMAT};
    use crate::ids::{CustomerId, EventId};
    use crate::writes::WriteSet;

    fn w(o: u64, s: u64) -> WriteId {
        WriteId { origin: BranchId(o), seq: s }
    }

    fn op(
        event: u64,
        branch: u64,
        kind: OpKind,
        write: Option<WriteId>,
        observed: Option<WriteSet>,
    ) -> OpRecord {
        OpRecord {
            event: EventId(event),
            branch: BranchId(branch),
            op: kind,
            amount: Cents::units(if kind == OpKind::Query { 0 } else { 100 }),
            ok: true,
            balance: Cents::units(100),
            write,
            observed,
            error: None,
        }
    }

    fn applied(write: WriteId, event: u64, balance: i64) -> AppliedRecord {
        AppliedRecord {
            write,
            customer: CustomerId(1),
            event: EventId(event),
            op: OpKind::Deposit,
            amount: Cents::units(100),
            balance_after: Cents::units(balance),
        }
    }

    fn history(ops: Vec<OpRecord>, branches: Vec<(u64, Vec<AppliedRecord>)>) -> History {
        History {
            format: HISTORY_FORMAT.into(),
            sessions: vec![SessionHistory {
                customer: CustomerId(1),
                guarantees: Guarantees::NONE,
                ops,
            }],
            branches: branches
                .into_iter()
                .map(|(id, applied)| BranchHistory {
                    id: BranchId(id),
                    balance: Cents::ZERO,
                    applied,
                })
                .collect(),
        }
    }

    #[test]
    fn a_stale_read_is_named_with_the_write_it_missed() {
        let h = history(
            vec![
                op(1, 1, OpKind::Deposit, Some(w(1, 1)), None),
                op(2, 2, OpKind::Query, None, Some(WriteSet::new())),
            ],
            vec![(1, vec![applied(w(1, 1), 1, 100)]), (2, vec![applied(w(1, 1), 1, 100)])],
        );
        let r = check(&h);
        assert_eq!(r.count(Anomaly::Broke(Guarantee::ReadYourWrites)), 1, "{}", r.render(5));
        let v = &r.violations[0];
        assert!(v.explanation.contains("query (event 2) at branch 2"), "{}", v.explanation);
        assert!(v.explanation.contains("deposit of 100 (event 1)"), "{}", v.explanation);
        assert_eq!(r.violations.len(), 1);
    }

    #[test]
    fn reads_going_backwards() {
        let seen: WriteSet = [w(2, 1)].into_iter().collect();
        let h = history(
            vec![
                op(1, 2, OpKind::Query, None, Some(seen)),
                op(2, 1, OpKind::Query, None, Some(WriteSet::new())),
            ],
            vec![(2, vec![applied(w(2, 1), 9, 100)])],
        );
        let r = check(&h);
        assert_eq!(r.count(Anomaly::Broke(Guarantee::MonotonicReads)), 1, "{}", r.render(5));
        assert!(r.violations[0].explanation.contains("w2.1"));
    }

    #[test]
    fn writes_out_of_order_and_before_their_cause() {
        let seen: WriteSet = [w(3, 1)].into_iter().collect();
        let h = history(
            vec![
                op(1, 1, OpKind::Deposit, Some(w(1, 1)), None),
                op(2, 2, OpKind::Query, None, Some(seen)),
                op(3, 2, OpKind::Deposit, Some(w(2, 1)), None),
            ],
            vec![
                (
                    2,
                    vec![
                        applied(w(3, 1), 7, 100),
                        applied(w(1, 1), 1, 200),
                        applied(w(2, 1), 3, 300),
                    ],
                ),
                // Branch 3 got w2.1 before w1.1 (MW) and w3.1 is its own, first: fine for WFR.
                (
                    3,
                    vec![
                        applied(w(3, 1), 7, 100),
                        applied(w(2, 1), 3, 200),
                        applied(w(1, 1), 1, 300),
                    ],
                ),
                // Branch 1 applied w2.1 before w3.1 (WFR).
                (
                    1,
                    vec![
                        applied(w(1, 1), 1, 100),
                        applied(w(2, 1), 3, 200),
                        applied(w(3, 1), 7, 300),
                    ],
                ),
            ],
        );
        let r = check(&h);
        assert_eq!(r.count(Anomaly::Broke(Guarantee::MonotonicWrites)), 1, "{}", r.render(5));
        assert_eq!(r.count(Anomaly::Broke(Guarantee::WritesFollowReads)), 1, "{}", r.render(5));
        assert!(
            r.render(5).contains(
                "branch 3 applied customer 1's deposit of 100 (event 3) at branch 2 (w2.1)"
            ),
            "{}",
            r.render(5)
        );
    }

    #[test]
    fn overdraft_and_a_clean_history() {
        let mut h = history(vec![], vec![(1, vec![applied(w(1, 1), 1, -50)])]);
        assert_eq!(check(&h).count(Anomaly::Overdraft), 1);
        h.branches[0].applied[0].balance_after = Cents::units(50);
        assert!(check(&h).is_clean());
    }
}
