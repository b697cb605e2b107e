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
//!
//! Each violation is also told as a short proof in the style of Jepsen's
//! Elle ([`sentence`]): "Let R = …, W = …. Then: the session issued W
//! before R; R did not observe W; so Read Your Writes is broken."

pub mod live;
pub mod sentence;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::guarantees::Guarantee;
use crate::history::{AppliedRecord, History, OpRecord};
use crate::ids::{BranchId, WriteId};
use crate::money::Cents;
use crate::op::OpKind;
use crate::writes::WriteSet;

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
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
    /// The same as a short proof: "Let R = …, W = …. Then: …; so … is
    /// broken." (see [`sentence`]).
    pub sentence: String,
    /// Whether the session had asked for the guarantee (a violation of an
    /// enabled guarantee is a bug; of a disabled one, a demonstration).
    pub guarantee_was_on: bool,
}

impl Violation {
    /// What identifies a violation across prefixes of a run: its anomaly,
    /// its session and the offending event (the first evidence). The other
    /// evidence may name a different witness once more of the run is known
    /// (a write "never applied" becomes "applied only later").
    pub fn key(&self) -> (Anomaly, Option<usize>, Option<Evidence>) {
        (self.anomaly, self.session, self.evidence.first().cloned())
    }
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
                out.push_str(&format!("  {}. {}{off}\n", i + 1, v.sentence));
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

/// Every write any branch applied, by id (its first record), to describe it.
type WriteIndex<'h> = HashMap<WriteId, &'h AppliedRecord>;

/// Describes a write from the apply logs: "customer 2's deposit of 100 (event 3, w1.2)".
fn write_words(w: WriteId, writes: &WriteIndex<'_>) -> String {
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

/// One branch's apply order, indexed so that "when had it applied all of
/// this set?" costs the set's compact size, never the ranges it names.
#[derive(Default)]
struct ApplyOrder {
    /// The position of each write in the apply order (its first apply).
    position: HashMap<WriteId, usize>,
    /// Per origin: entry `k - 1` is the latest position (and its seq) among
    /// that origin's seqs `1..=k`, for as long as they are all applied.
    prefix_latest: HashMap<BranchId, Vec<(usize, u64)>>,
}

/// Where a branch applied the latest write of a set, or a write of it that
/// the branch never applied.
#[derive(Clone, Copy, Debug)]
enum Latest {
    At(usize, WriteId),
    Never(WriteId),
}

impl Latest {
    fn write(self) -> WriteId {
        match self {
            Latest::At(_, w) | Latest::Never(w) => w,
        }
    }

    /// True when this is later than `other` (never is the latest of all).
    fn beats(self, other: Latest) -> bool {
        match (self, other) {
            (_, Latest::Never(_)) => false,
            (Latest::Never(_), _) => true,
            (Latest::At(a, _), Latest::At(b, _)) => a > b,
        }
    }

    /// True when the write is not applied before position `at`.
    fn after(self, at: usize) -> bool {
        match self {
            Latest::Never(_) => true,
            Latest::At(p, _) => p > at,
        }
    }
}

impl ApplyOrder {
    fn add(&mut self, applied: &[AppliedRecord]) {
        for (i, a) in applied.iter().enumerate() {
            self.position.entry(a.write).or_insert(i);
        }
        self.prefix_latest.clear();
        let origins: std::collections::BTreeSet<BranchId> =
            self.position.keys().map(|w| w.origin).collect();
        for origin in origins {
            let mut firsts = Vec::new();
            let mut latest: Option<(usize, u64)> = None;
            let mut seq = 1u64;
            while let Some(&at) = self.position.get(&WriteId { origin, seq }) {
                if latest.is_none_or(|(p, _)| at > p) {
                    latest = Some((at, seq));
                }
                firsts.extend(latest);
                let Some(next) = seq.checked_add(1) else { break };
                seq = next;
            }
            self.prefix_latest.insert(origin, firsts);
        }
    }

    /// The latest-applied write of `set`, or one never applied (none for an empty set).
    fn latest_of(&self, set: &WriteSet) -> Option<Latest> {
        let mut latest: Option<Latest> = None;
        let mut consider = |l: Latest| {
            if latest.is_none_or(|x| l.beats(x)) {
                latest = Some(l);
            }
        };
        for (origin, o) in set.parts() {
            if o.prefix > 0 {
                let firsts = self.prefix_latest.get(&origin).map_or(&[][..], Vec::as_slice);
                let last = usize::try_from(o.prefix - 1).ok().and_then(|k| firsts.get(k));
                match last {
                    Some(&(at, seq)) => consider(Latest::At(at, WriteId { origin, seq })),
                    None => {
                        let seq = firsts.len() as u64 + 1;
                        return Some(Latest::Never(WriteId { origin, seq }));
                    }
                }
            }
            for seq in o.extra.iter() {
                let w = WriteId { origin, seq };
                match self.position.get(&w) {
                    Some(&at) => consider(Latest::At(at, w)),
                    None => return Some(Latest::Never(w)),
                }
            }
        }
        latest
    }
}

/// Checks `history` for every anomaly. See the module docs.
///
/// Near-linear: each session is walked once, keeping what its earlier
/// operations require (its own writes, the union of what its reads saw, and
/// per branch the latest position of those dependencies), so each operation
/// costs the compact size of its sets times the number of branches. Ranges
/// such as `w1.1-18446744073709551615` are never enumerated.
pub fn check(history: &History) -> Report {
    let mut violations = Vec::new();
    let mut writes: WriteIndex<'_> = HashMap::new();
    let mut orders: BTreeMap<BranchId, ApplyOrder> = BTreeMap::new();
    for b in &history.branches {
        for a in &b.applied {
            writes.entry(a.write).or_insert(a);
        }
        orders.entry(b.id).or_default().add(&b.applied);
    }

    for (s, session) in history.sessions.iter().enumerate() {
        let customer = session.customer.0;
        let on = |g: Guarantee| session.guarantees.has(g);
        let ops = &session.ops;
        // The session's acknowledged writes so far, and which op made each.
        let mut own = WriteSet::new();
        let mut own_op: HashMap<WriteId, usize> = HashMap::new();
        // The session's successful reads so far: (op index, the latest
        // earlier read whose set this one lacks part of).
        let mut reads: Vec<(usize, Option<usize>)> = Vec::new();
        let mut seen_by_reads = WriteSet::new();
        // Per branch: the latest-applied earlier write of the session (MW) and
        // of what its reads saw (WFR), with the op that brought it in.
        let mut own_latest: BTreeMap<BranchId, (Latest, usize)> = BTreeMap::new();
        let mut read_latest: BTreeMap<BranchId, (Latest, usize)> = BTreeMap::new();
        let observed_of = |i: usize| ops[i].observed.as_ref().expect("a read has a set");

        for (j, later) in ops.iter().enumerate() {
            // Read Your Writes and Monotonic Reads: what a read must have seen.
            if let (OpKind::Query, true, Some(seen)) = (later.op, later.ok, &later.observed) {
                let mut missed = seen.missing_iter(&own);
                if let Some(first) = missed.next() {
                    const SHOWN: usize = 1_000;
                    let more = match missed.take(SHOWN).count() {
                        0 => String::new(),
                        SHOWN => format!(" (and more than {} others)", SHOWN - 1),
                        n => format!(" (and {n} other{})", if n == 1 { "" } else { "s" }),
                    };
                    let i = own_op[&first];
                    let w = &ops[i];
                    violations.push(Violation {
                        anomaly: Anomaly::Broke(Guarantee::ReadYourWrites),
                        session: Some(s),
                        evidence: vec![Evidence::Op { session: s, index: j }, Evidence::Op { session: s, index: i }],
                        explanation: format!(
                            "{} returned {} without the customer's own earlier {}, acknowledged by branch {} ({first}){more}: a stale read.",
                            op_words(later, customer),
                            later.balance.decimal_text(),
                            describe_own(w),
                            w.branch.0
                        ),
                        sentence: String::new(),
                        guarantee_was_on: on(Guarantee::ReadYourWrites),
                    });
                }
                // The latest earlier read with a write this one lacks: reads
                // between it and a read this one contains are skipped.
                let mut candidate = reads.len().checked_sub(1);
                let mut found = None;
                while let Some(c) = candidate {
                    if seen.contains_all(observed_of(reads[c].0)) {
                        candidate = reads[c].1;
                    } else {
                        found = Some(c);
                        break;
                    }
                }
                if let Some(c) = found {
                    let (i, r) = (reads[c].0, &ops[reads[c].0]);
                    let before = observed_of(i);
                    let lost = seen.missing_iter(before).next().expect("not contained");
                    let count = seen.count_missing_from(before);
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
                            write_words(lost, &writes),
                            if count > 1 { format!(" and {} more", count - 1) } else { String::new() }
                        ),
                        sentence: String::new(),
                        guarantee_was_on: on(Guarantee::MonotonicReads),
                    });
                }
                reads.push((j, found));
                if !seen_by_reads.contains_all(seen) {
                    for (branch, order) in &orders {
                        if let Some(l) = order.latest_of(seen) {
                            remember(&mut read_latest, *branch, l, j);
                        }
                    }
                    seen_by_reads.union_with(seen);
                }
            }
            // Monotonic Writes and Writes Follow Reads: apply orders. A
            // write that failed only to propagate (its branch applied it,
            // and its id came back) is the session's as any other: the
            // session's write set holds it (`Session::observe`).
            let Some(new_write) = later.write else { continue };
            for (branch, order) in &orders {
                let Some(&at) = order.position.get(&new_write) else { continue };
                let checks = [
                    (Guarantee::MonotonicWrites, own_latest.get(branch)),
                    (Guarantee::WritesFollowReads, read_latest.get(branch)),
                ];
                for (guarantee, dep) in checks {
                    let Some(&(latest, i)) = dep.filter(|(l, _)| l.after(at)) else { continue };
                    let dep = latest.write();
                    let before = &ops[i];
                    let when = match latest {
                        Latest::At(..) => "only after it",
                        Latest::Never(_) => "never",
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
                            write_words(dep, &writes),
                            bare_op_words(before),
                        ),
                    };
                    violations.push(Violation {
                        anomaly: Anomaly::Broke(guarantee),
                        session: Some(s),
                        evidence: vec![
                            Evidence::Apply { branch: *branch, write: new_write },
                            Evidence::Apply { branch: *branch, write: dep },
                            Evidence::Op { session: s, index: j },
                            Evidence::Op { session: s, index: i },
                        ],
                        explanation,
                        sentence: String::new(),
                        guarantee_was_on: on(guarantee),
                    });
                }
            }
            if own.insert(new_write) {
                own_op.insert(new_write, j);
                for (branch, order) in &orders {
                    let latest = match order.position.get(&new_write) {
                        Some(&at) => Latest::At(at, new_write),
                        None => Latest::Never(new_write),
                    };
                    remember(&mut own_latest, *branch, latest, j);
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
                sentence: String::new(),
                guarantee_was_on: false,
            });
        }
    }
    let teller = sentence::Teller::new(history);
    for v in &mut violations {
        v.sentence = teller.sentence(v);
    }
    Report { violations }
}

/// Keeps the later of what `latest` holds for `branch` and `l` (brought in by op `op`).
fn remember(
    latest: &mut BTreeMap<BranchId, (Latest, usize)>,
    branch: BranchId,
    l: Latest,
    op: usize,
) {
    match latest.get(&branch) {
        Some((held, _)) if !l.beats(*held) => {}
        _ => {
            latest.insert(branch, (l, op));
        }
    }
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
        assert_eq!(
            v.sentence,
            "Let R = customer 1's query #2 at branch 2 (answered 100), W = customer 1's deposit #1 \
             of 100 at branch 1 (w1.1). Then: the session issued W before R; R did not observe W; \
             so Read Your Writes is broken (the session had not asked for it)."
        );
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
        assert_eq!(
            r.violations[0].sentence,
            "Let R1 = customer 1's query #1 at branch 2 (answered 100), R2 = customer 1's query #2 \
             at branch 1 (answered 100), W = customer 1's deposit #9 of 100 (w2.1). Then: the \
             session issued R1 before R2; R1 observed W; R2 did not observe W; so Monotonic Reads \
             is broken (the session had not asked for it)."
        );
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
        let mw =
            r.violations.iter().find(|v| v.anomaly == Anomaly::Broke(Guarantee::MonotonicWrites));
        assert!(
            mw.unwrap().explanation.contains(
                "branch 3 applied customer 1's deposit of 100 (event 3) at branch 2 (w2.1)"
            ),
            "{}",
            r.render(5)
        );
        let said = |a: Anomaly| {
            r.violations.iter().find(|v| v.anomaly == a).map(|v| v.sentence.clone()).unwrap()
        };
        assert_eq!(
            said(Anomaly::Broke(Guarantee::MonotonicWrites)),
            "Let W1 = customer 1's deposit #1 of 100 at branch 1 (w1.1), W2 = customer 1's \
             deposit #3 of 100 at branch 2 (w2.1). Then: the session issued W1 before W2; branch 3 \
             applied W2 before W1; so Monotonic Writes is broken (the session had not asked for it)."
        );
        assert_eq!(
            said(Anomaly::Broke(Guarantee::WritesFollowReads)),
            "Let R = customer 1's query #2 at branch 2 (answered 100), D = customer 1's deposit #7 \
             of 100 (w3.1), W = customer 1's deposit #3 of 100 at branch 2 (w2.1). Then: R observed \
             D; the session issued R before W; branch 1 applied W before D; so Writes Follow Reads \
             is broken (the session had not asked for it)."
        );
        assert!(r.render(5).contains("  1. Let W1 = customer 1's deposit #1"), "{}", r.render(5));
    }

    #[test]
    fn a_write_never_applied_is_said_so() {
        let h = history(
            vec![
                op(1, 1, OpKind::Deposit, Some(w(1, 1)), None),
                op(2, 2, OpKind::Deposit, Some(w(2, 1)), None),
            ],
            vec![(1, vec![applied(w(1, 1), 1, 100)]), (2, vec![applied(w(2, 1), 2, 100)])],
        );
        let r = check(&h);
        let v =
            r.violations.iter().find(|v| v.anomaly == Anomaly::Broke(Guarantee::MonotonicWrites));
        let v = v.expect("branch 2 never applied w1.1");
        assert!(v.sentence.contains("branch 2 applied W2 but never W1"), "{}", v.sentence);
    }

    #[test]
    fn overdraft_and_a_clean_history() {
        let mut h = history(vec![], vec![(1, vec![applied(w(1, 1), 1, -50)])]);
        assert_eq!(check(&h).count(Anomaly::Overdraft), 1);
        assert_eq!(
            check(&h).violations[0].sentence,
            "Let A = branch 1's apply of customer 1's deposit #1 of 100 (w1.1). Then: each withdraw \
             was covered by the balance where it was accepted; A took branch 1's balance to -50; so \
             the bank overdrew, which no session guarantee prevents."
        );
        h.branches[0].applied[0].balance_after = Cents::units(50);
        assert!(check(&h).is_clean());
    }
}

#[cfg(test)]
mod hostile_tests {
    //! Histories a hostile user could write: huge claimed ranges, and long
    //! sessions (the checker must stay near-linear in the history's size).
    use super::*;
    use crate::guarantees::Guarantees;
    use crate::history::{BranchHistory, SessionHistory, HISTORY_FORMAT};
    use crate::ids::{CustomerId, EventId};
    use crate::writes::WriteSet;

    fn w(o: u64, s: u64) -> WriteId {
        WriteId { origin: BranchId(o), seq: s }
    }

    fn read(event: u64, observed: WriteSet) -> OpRecord {
        OpRecord {
            event: EventId(event),
            branch: BranchId(1),
            op: OpKind::Query,
            amount: Cents::ZERO,
            ok: true,
            balance: Cents::ZERO,
            write: None,
            observed: Some(observed),
            error: None,
        }
    }

    fn deposit(event: u64, write: WriteId) -> OpRecord {
        OpRecord {
            event: EventId(event),
            branch: write.origin,
            op: OpKind::Deposit,
            amount: Cents::units(1),
            ok: true,
            balance: Cents::units(1),
            write: Some(write),
            observed: None,
            error: None,
        }
    }

    fn applied(write: WriteId, customer: u64, event: u64) -> AppliedRecord {
        AppliedRecord {
            write,
            customer: CustomerId(customer),
            event: EventId(event),
            op: OpKind::Deposit,
            amount: Cents::units(1),
            balance_after: Cents::units(1),
        }
    }

    fn one_session(ops: Vec<OpRecord>, applied: Vec<AppliedRecord>) -> History {
        History {
            format: HISTORY_FORMAT.into(),
            sessions: vec![SessionHistory {
                customer: CustomerId(1),
                guarantees: Guarantees::ALL,
                ops,
            }],
            branches: vec![BranchHistory { id: BranchId(1), balance: Cents::ZERO, applied }],
        }
    }

    fn everything_of(origin: u64) -> WriteSet {
        WriteSet::from_parts([(BranchId(origin), u64::MAX, vec![])])
    }

    #[test]
    fn a_read_claiming_every_id_is_checked_without_enumerating_it() {
        // The read claims w1.1 to w1.18446744073709551615; the write after it
        // depends on all of them (Writes Follow Reads).
        let h = one_session(
            vec![read(1, everything_of(1)), deposit(2, w(1, 1))],
            vec![applied(w(1, 1), 1, 2)],
        );
        let r = check(&h);
        assert_eq!(r.count(Anomaly::Broke(Guarantee::WritesFollowReads)), 1, "{}", r.render(5));
        assert!(r.render(5).contains("w1.2"), "{}", r.render(5));
    }

    #[test]
    fn reads_going_backwards_from_every_id_cost_nothing() {
        let h = one_session(vec![read(1, everything_of(2)), read(2, WriteSet::new())], vec![]);
        let r = check(&h);
        assert_eq!(r.count(Anomaly::Broke(Guarantee::MonotonicReads)), 1, "{}", r.render(5));
        let text = r.render(5);
        assert!(text.contains("W = write w2.1"), "{text}");
        assert!(text.contains("R2 did not observe W, nor 18446744073709551614 more"), "{text}");
        assert!(r.violations[0].explanation.contains("write w2.1 and 18446744073709551614 more"));
    }

    /// 20,000 operations in 4 sessions on 3 branches: each session alternates
    /// deposits and reads that see everything applied so far. A checker that
    /// compares every operation with every earlier one (and walks each read's
    /// set for each) takes hours here; a near-linear one, well under a second.
    #[test]
    fn twenty_thousand_operations_are_checked_in_near_linear_time() {
        let (sessions, per_session, branches) = (4u64, 5_000u64, 3u64);
        let mut ops: Vec<Vec<OpRecord>> = vec![Vec::new(); sessions as usize];
        let mut log: Vec<AppliedRecord> = Vec::new();
        let mut seen = WriteSet::new();
        let mut seq = [0u64; 3];
        for step in 0..per_session {
            for s in 0..sessions {
                let event = step * sessions + s + 1;
                if step % 2 == 0 {
                    let origin = (event % branches) + 1;
                    seq[origin as usize - 1] += 1;
                    let id = w(origin, seq[origin as usize - 1]);
                    ops[s as usize].push(deposit(event, id));
                    log.push(applied(id, s + 1, event));
                    seen.insert(id);
                } else {
                    ops[s as usize].push(read(event, seen.clone()));
                }
            }
        }
        let history = History {
            format: HISTORY_FORMAT.into(),
            sessions: ops
                .into_iter()
                .enumerate()
                .map(|(s, ops)| SessionHistory {
                    customer: CustomerId(s as u64 + 1),
                    guarantees: Guarantees::ALL,
                    ops,
                })
                .collect(),
            branches: (1..=branches)
                .map(|id| BranchHistory {
                    id: BranchId(id),
                    balance: Cents::ZERO,
                    applied: log.clone(),
                })
                .collect(),
        };
        assert_eq!(history.sessions.iter().map(|s| s.ops.len()).sum::<usize>(), 20_000);
        let r = check(&history);
        assert!(r.is_clean(), "{}", r.render(5));
    }

    fn hostile_set() -> impl proptest::strategy::Strategy<Value = WriteSet> {
        use proptest::prelude::*;
        let seq = prop_oneof![0u64..6, Just(u64::MAX - 1), Just(u64::MAX), any::<u64>()];
        proptest::collection::vec(
            (1u64..4, seq.clone(), proptest::collection::vec(seq, 0..3)),
            0..4,
        )
        .prop_map(|parts| {
            WriteSet::from_parts(parts.into_iter().map(|(o, p, e)| (BranchId(o), p, e)))
        })
    }

    proptest::proptest! {
        /// Random hostile sets and apply orders: the checker always answers,
        /// and a read that lost writes is always reported.
        #[test]
        fn hostile_histories_never_panic(
            sets in proptest::collection::vec(hostile_set(), 1..6),
            writes in proptest::collection::vec((1u64..4, 1u64..6), 0..6),
            applied_writes in proptest::collection::vec((1u64..4, 1u64..6), 0..8),
        ) {
            let mut ops: Vec<OpRecord> = Vec::new();
            for (k, set) in sets.iter().enumerate() {
                ops.push(read(k as u64, set.clone()));
                if let Some(&(o, s)) = writes.get(k) {
                    ops.push(deposit(100 + k as u64, w(o, s)));
                }
            }
            let log = applied_writes.iter().map(|&(o, s)| applied(w(o, s), 1, 1)).collect();
            let r = check(&one_session(ops, log));
            let mut union = WriteSet::new();
            let mut expected_mr = 0;
            for set in &sets {
                if !set.contains_all(&union) {
                    expected_mr += 1;
                }
                union.union_with(set);
            }
            proptest::prop_assert_eq!(r.count(Anomaly::Broke(Guarantee::MonotonicReads)), expected_mr);
            let _ = r.render(3);
        }
    }
}
