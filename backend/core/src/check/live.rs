//! The checker run along a run, as it happens: live invariants.
//!
//! A host (the page, following its playback cursor) feeds a [`LiveCheck`]
//! what the run did, in trace order: a customer sent a request, got its
//! answer, a branch applied a write ([`LiveInput`]). At any point,
//! [`LiveCheck::status`] says which invariants hold *so far*:
//!
//! | invariant | holds when |
//! |---|---|
//! | money conserved | every quiet branch's balance is its start plus the accepted deposits − withdrawals |
//! | replicas converged | with nothing in flight, every branch applied the same writes |
//! | no overdraft | no branch's balance went below zero ([`check`](super::check)) |
//! | each session guarantee | the history so far shows no violation of it ([`check`](super::check)) |
//!
//! A branch is *quiet* when no message to or from it is in flight (the host
//! knows its messages) and no customer request is waiting for its answer
//! anywhere (a request being served may still be propagating its write).
//! "Accepted" means applied by the branch that served it: that is when the
//! customer's money is committed.
//!
//! The guarantee and overdraft verdicts are [`check`](super::check) itself,
//! run over the history so far ([`LiveCheck::history`]), so they cannot
//! disagree with `bank check`: at the end of a run they are its report, and
//! before the end they never report a violation the final report lacks
//! (a violation, once shown by a prefix of the history, stays; the property
//! tests in `tests/live_check.rs` hold the checker to that). That is also why
//! [`first_violation`] may search the prefixes by bisection.

use std::collections::BTreeMap;

use super::{check, Anomaly, Report, Violation};
use crate::branch::Reply;
use crate::guarantees::{Guarantee, Guarantees};
use crate::history::{
    AppliedRecord, BranchHistory, History, OpRecord, SessionHistory, HISTORY_FORMAT,
};
use crate::ids::{BranchId, CustomerId};
use crate::log::LogEntry;
use crate::money::Cents;
use crate::op::{OpKind, Outcome};
use crate::writes::WriteSet;

/// One thing the run did that the invariants depend on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveInput {
    /// A customer sent a request (`session`: its scripted session, `None`
    /// for a customer outside the scenario's sessions, such as the browser).
    Sent { session: Option<usize> },
    /// That customer got its answer.
    Answered { session: Option<usize>, op: OpRecord },
    /// A branch applied a write (its own, accepting it; or a peer's).
    Applied { branch: BranchId, record: AppliedRecord },
}

impl LiveInput {
    /// A customer's answer, for the session that sent it (`amount`: what
    /// the request asked to move; the answer does not repeat it).
    pub fn answered(session: Option<usize>, reply: &Reply, amount: Cents) -> LiveInput {
        let error = match &reply.outcome {
            Outcome::Failed { reason, .. } => Some(reason.to_string()),
            Outcome::Success { .. } => None,
        };
        LiveInput::Answered {
            session,
            op: OpRecord {
                event: reply.event,
                branch: reply.branch,
                op: reply.op,
                amount,
                ok: reply.outcome.is_success(),
                balance: reply.outcome.balance(),
                write: reply.write,
                observed: reply.observed.clone(),
                error,
            },
        }
    }

    /// What a branch's log entry adds: the apply of a write, if it is one.
    pub fn from_log(branch: BranchId, entry: &LogEntry) -> Option<LiveInput> {
        let write = entry.write.filter(|_| !entry.failed)?;
        Some(LiveInput::Applied {
            branch,
            record: AppliedRecord {
                write,
                customer: entry.customer,
                event: entry.event,
                op: entry.op,
                amount: entry.amount,
                balance_after: entry.balance?,
            },
        })
    }
}

/// Whether an invariant holds at this point of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    Broken,
    /// It cannot be judged right now (messages are in flight).
    NotNow,
}

/// Which invariant a badge is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InvariantKind {
    MoneyConserved,
    Converged,
    NoOverdraft,
    Guarantee(Guarantee),
}

impl InvariantKind {
    /// A short label for a badge: "money conserved", "Read Your Writes".
    pub fn label(self) -> &'static str {
        match self {
            InvariantKind::MoneyConserved => "money conserved",
            InvariantKind::Converged => "replicas converged",
            InvariantKind::NoOverdraft => "no overdraft",
            InvariantKind::Guarantee(g) => g.name(),
        }
    }

    /// A stable identifier (`money`, `converged`, `overdraft`, `ryw`, ...).
    pub fn short(self) -> &'static str {
        match self {
            InvariantKind::MoneyConserved => "money",
            InvariantKind::Converged => "converged",
            InvariantKind::NoOverdraft => "overdraft",
            InvariantKind::Guarantee(g) => g.short(),
        }
    }
}

/// One badge: an invariant, its verdict, and why, in a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invariant {
    pub kind: InvariantKind,
    pub verdict: Verdict,
    /// For a guarantee: whether any session asked for it.
    pub asked: Option<bool>,
    pub detail: String,
}

/// What the host knows about the network at this point.
pub trait InFlight {
    /// Whether a message to or from `branch` is on its way.
    fn touches(&self, branch: BranchId) -> bool;
    /// Whether any message at all is on its way.
    fn any(&self) -> bool;
}

/// The history so far, and what the invariants need besides it.
#[derive(Clone, Debug)]
pub struct LiveCheck {
    history: History,
    start: BTreeMap<BranchId, Cents>,
    balance: BTreeMap<BranchId, Cents>,
    applied: BTreeMap<BranchId, WriteSet>,
    /// Deposits − withdrawals applied by the branch that accepted them.
    accepted: i64,
    /// Requests sent and not answered yet.
    outstanding: usize,
}

impl LiveCheck {
    /// A run about to start: its sessions (customer and guarantees, in
    /// session order) and its branches with their starting balances.
    pub fn new(
        sessions: impl IntoIterator<Item = (CustomerId, Guarantees)>,
        branches: impl IntoIterator<Item = (BranchId, Cents)>,
    ) -> LiveCheck {
        let start: BTreeMap<BranchId, Cents> = branches.into_iter().collect();
        LiveCheck {
            history: History {
                format: HISTORY_FORMAT.to_owned(),
                sessions: sessions
                    .into_iter()
                    .map(|(customer, guarantees)| SessionHistory {
                        customer,
                        guarantees,
                        ops: Vec::new(),
                    })
                    .collect(),
                branches: start
                    .iter()
                    .map(|(&id, &balance)| BranchHistory { id, balance, applied: Vec::new() })
                    .collect(),
            },
            balance: start.clone(),
            applied: start.keys().map(|&b| (b, WriteSet::new())).collect(),
            start,
            accepted: 0,
            outstanding: 0,
        }
    }

    /// Takes in the next thing the run did.
    pub fn push(&mut self, input: LiveInput) {
        match input {
            LiveInput::Sent { .. } => self.outstanding += 1,
            LiveInput::Answered { session, op } => {
                self.outstanding = self.outstanding.saturating_sub(1);
                if let Some(s) = session.and_then(|s| self.history.sessions.get_mut(s)) {
                    s.ops.push(op);
                }
            }
            LiveInput::Applied { branch, record } => {
                if record.write.origin == branch {
                    let amount = record.amount.0;
                    self.accepted += if record.op == OpKind::Withdraw { -amount } else { amount };
                }
                self.balance.insert(branch, record.balance_after);
                self.applied.entry(branch).or_default().insert(record.write);
                if let Some(b) = self.history.branches.iter_mut().find(|b| b.id == branch) {
                    b.balance = record.balance_after;
                    b.applied.push(record);
                } else {
                    self.history.branches.push(BranchHistory {
                        id: branch,
                        balance: record.balance_after,
                        applied: vec![record],
                    });
                }
            }
        }
    }

    /// The history so far, as `bank check` would read it.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The checker's report on the history so far.
    pub fn report(&self) -> Report {
        check(&self.history)
    }

    /// Every invariant at this point, `report` being [`LiveCheck::report`]
    /// (passed in so a host can keep it while only the network changes).
    pub fn status(&self, report: &Report, network: &dyn InFlight) -> Vec<Invariant> {
        let mut out = vec![self.money(network), self.convergence(network)];
        let overdraft = report.violations.iter().find(|v| v.anomaly == Anomaly::Overdraft);
        out.push(Invariant {
            kind: InvariantKind::NoOverdraft,
            verdict: if overdraft.is_some() { Verdict::Broken } else { Verdict::Holds },
            asked: None,
            detail: overdraft.map_or_else(
                || "no branch's balance has gone below zero".to_owned(),
                |v| v.sentence.clone(),
            ),
        });
        for g in Guarantee::ALL {
            let asked = self.history.sessions.iter().any(|s| s.guarantees.has(g));
            let broken: Vec<&Violation> =
                report.violations.iter().filter(|v| v.anomaly == Anomaly::Broke(g)).collect();
            let detail = match broken.first() {
                None => "no session's history so far breaks it".to_owned(),
                Some(v) if broken.len() == 1 => v.sentence.clone(),
                Some(v) => format!("{} (and {} more)", v.sentence, broken.len() - 1),
            };
            out.push(Invariant {
                kind: InvariantKind::Guarantee(g),
                verdict: if broken.is_empty() { Verdict::Holds } else { Verdict::Broken },
                asked: Some(asked),
                detail,
            });
        }
        out
    }

    /// Whether `branch` is quiet (see the module docs).
    fn quiet(&self, branch: BranchId, network: &dyn InFlight) -> bool {
        self.outstanding == 0 && !network.touches(branch)
    }

    /// Money conserved: every quiet branch holds its start plus what was accepted.
    pub fn money(&self, network: &dyn InFlight) -> Invariant {
        let mut quiet = 0;
        for (&branch, &start) in &self.start {
            if !self.quiet(branch, network) {
                continue;
            }
            quiet += 1;
            let expected = Cents(start.0 + self.accepted);
            let has = self.balance.get(&branch).copied().unwrap_or(start);
            if has != expected {
                return Invariant {
                    kind: InvariantKind::MoneyConserved,
                    verdict: Verdict::Broken,
                    asked: None,
                    detail: format!(
                        "branch {} is quiet with {}, but its start {} plus the accepted deposits − withdrawals ({}) make {}",
                        branch.0,
                        has.decimal_text(),
                        start.decimal_text(),
                        Cents(self.accepted).decimal_text(),
                        expected.decimal_text()
                    ),
                };
            }
        }
        let (verdict, detail) = match quiet {
            0 => (Verdict::NotNow, "no branch is quiet right now: checked when one is".to_owned()),
            n => (
                Verdict::Holds,
                format!(
                    "{n} quiet branch{} hold{} the start plus the accepted deposits − withdrawals ({})",
                    if n == 1 { "" } else { "es" },
                    if n == 1 { "s" } else { "" },
                    Cents(self.accepted).decimal_text()
                ),
            ),
        };
        Invariant { kind: InvariantKind::MoneyConserved, verdict, asked: None, detail }
    }

    /// Replicas converged: with nothing in flight, every branch applied the same writes.
    pub fn convergence(&self, network: &dyn InFlight) -> Invariant {
        let kind = InvariantKind::Converged;
        if network.any() || self.outstanding > 0 {
            return Invariant {
                kind,
                verdict: Verdict::NotNow,
                asked: None,
                detail: "messages are in flight: checked when the network is quiet".to_owned(),
            };
        }
        let mut all = WriteSet::new();
        for set in self.applied.values() {
            all.union_with(set);
        }
        for (branch, set) in &self.applied {
            if let Some(w) = set.missing_iter(&all).next() {
                let total = set.count_missing_from(&all);
                return Invariant {
                    kind,
                    verdict: Verdict::Broken,
                    asked: None,
                    detail: format!(
                        "nothing is in flight, but branch {} has not applied {w}{}",
                        branch.0,
                        if total > 1 { format!(" and {} more", total - 1) } else { String::new() }
                    ),
                };
            }
        }
        Invariant {
            kind,
            verdict: Verdict::Holds,
            asked: None,
            detail: format!("every branch applied the same {} writes", all.len()),
        }
    }
}

/// The fewest leading `inputs` after which the checker reports a violation
/// (a broken guarantee or an overdraft), with that report; `None` if even
/// all of them show none. Bisects the prefixes: a violation, once shown,
/// stays (see the module docs).
pub fn first_violation(start: &LiveCheck, inputs: &[LiveInput]) -> Option<(usize, Report)> {
    let at = |n: usize| {
        let mut live = start.clone();
        for input in &inputs[..n] {
            live.push(input.clone());
        }
        live.report()
    };
    let full = at(inputs.len());
    if full.is_clean() {
        return None;
    }
    let (mut clean, mut broken) = (0usize, inputs.len());
    let mut report = full;
    if !at(0).is_clean() {
        return Some((0, at(0)));
    }
    // Invariant: prefix `clean` shows nothing, prefix `broken` shows `report`.
    while broken - clean > 1 {
        let mid = clean + (broken - clean) / 2;
        let r = at(mid);
        if r.is_clean() {
            clean = mid;
        } else {
            broken = mid;
            report = r;
        }
    }
    Some((broken, report))
}

#[cfg(test)]
mod tests;
