//! What no recorded run can say: the rules every history the branches make
//! keeps, checked once a file is read ([`History::from_json`]) so that an
//! impossible history is refused with where it breaks, instead of checked
//! as if it had happened.
//!
//! * Each branch is listed once.
//! * A write id is issued by at most one deposit or withdrawal; every
//!   successful one names its write, and a failed one names a write only
//!   if its branch applied it (it answered "unavailable" because it could
//!   not propagate the write: the write stays, and reaches the other
//!   branches by anti-entropy). A query makes no write.
//! * A branch applies a write at most once.
//! * A write a branch applied is its operation's kind and amount, and, if
//!   the session was told its write id, that id; a write id a session was
//!   told is applied as that operation (its customer, event, kind, amount).
//! * A read observed only writes its branch applied (a branch never
//!   forgets one: it stores each write before applying it), and they are
//!   the first ones it applied (it applies one write at a time and answers
//!   between them); its answer is the branch's balance right after them.
//! * A successful deposit or withdrawal answers with its branch's balance
//!   right after its write.
//! * A branch accepts a withdraw only if its balance covers it: its own
//!   withdrawals never leave it below zero (other branches' may).
//! * A branch's balances follow from the writes it applied: each
//!   `balance_after` is the one before it plus the deposit or minus the
//!   withdrawal, and the branch's `balance` is the last of them.
//!
//! Not refused, because real runs do it: two sessions of one customer id
//! (course inputs list some customers twice, as two entries), an operation
//! at a branch the history does not list (a branch whose final state could
//! not be read is left out), and an applied write whose operation is not
//! in the sessions (its answer was lost in a fault, or had not come yet
//! when the page exported its run); an operation is named by its
//! customer and event id, unless another of that customer's has the same.

use std::collections::HashMap;

use super::{History, OpRecord};
use crate::formats::json_path::JsonPath;
use crate::ids::{BranchId, CustomerId, EventId, WriteId};
use crate::op::OpKind;
use crate::writes::WriteSet;

/// The first rule a history breaks: where, and what.
#[derive(Debug)]
pub(super) struct Inconsistent {
    pub path: JsonPath,
    pub message: String,
}

fn at(path: JsonPath, message: String) -> Result<(), Inconsistent> {
    Err(Inconsistent { path, message })
}

fn op_path(session: usize, op: usize) -> JsonPath {
    JsonPath::default().key("sessions").at(session).key("ops").at(op)
}

fn applied_path(branch: usize, entry: usize) -> JsonPath {
    JsonPath::default().key("branches").at(branch).key("applied").at(entry)
}

/// Checks `history` against the rules of the module docs.
pub(super) fn check(history: &History) -> Result<(), Inconsistent> {
    let mut branches = HashMap::<BranchId, usize>::new();
    for (b, branch) in history.branches.iter().enumerate() {
        if let Some(first) = branches.insert(branch.id, b) {
            let path = JsonPath::default().key("branches").at(b).key("id");
            let message =
                format!("branch {} is listed twice (first as branches[{first}])", branch.id.0);
            return at(path, message);
        }
    }
    // Every operation by (customer, event), and the operation that issued each write.
    let mut ops = HashMap::<(CustomerId, EventId), Vec<(usize, usize)>>::new();
    let mut issued = HashMap::<WriteId, (usize, usize)>::new();
    for (s, session) in history.sessions.iter().enumerate() {
        for (o, op) in session.ops.iter().enumerate() {
            ops.entry((session.customer, op.event)).or_default().push((s, o));
            let Some(write) = op.write else {
                if op.ok && op.op != OpKind::Query {
                    let message = format!(
                        "a successful {} made a write, and its answer names it; this one has \
                         no \"write\"",
                        op.op
                    );
                    return at(op_path(s, o), message);
                }
                continue;
            };
            if op.op == OpKind::Query {
                let message = format!("a query makes no write, yet this one names {write}");
                return at(op_path(s, o).key("write"), message);
            }
            if let Some((fs, fo)) = issued.insert(write, (s, o)) {
                let message = format!(
                    "write {write} is issued twice: first by sessions[{fs}].ops[{fo}] \
                     (customer {}'s event {})",
                    history.sessions[fs].customer.0, history.sessions[fs].ops[fo].event.0
                );
                return at(op_path(s, o).key("write"), message);
            }
        }
    }
    let op_at = |(s, o): (usize, usize)| -> &OpRecord { &history.sessions[s].ops[o] };
    let mut applied_sets = HashMap::<BranchId, WriteSet>::new();
    // Each branch's applied writes by id (their place in its order), and
    // its balance before the first of them.
    let mut positions = HashMap::<BranchId, HashMap<WriteId, usize>>::new();
    let mut starts = HashMap::<BranchId, i128>::new();
    for (b, branch) in history.branches.iter().enumerate() {
        let mut applied = HashMap::<WriteId, usize>::new();
        let mut before: Option<i128> = None;
        for (e, entry) in branch.applied.iter().enumerate() {
            let here = applied_path(b, e);
            if let Some(first) = applied.insert(entry.write, e) {
                let message = format!(
                    "branch {} applies {} twice (first as applied[{first}]); a branch applies \
                     each write once",
                    branch.id.0, entry.write
                );
                return at(here.key("write"), message);
            }
            let effect = match entry.op {
                OpKind::Deposit => i128::from(entry.amount.0),
                OpKind::Withdraw => -i128::from(entry.amount.0),
                OpKind::Query => {
                    return at(here.key("op"), "a query is not a write; it is never applied".into())
                }
            };
            // A write names the one operation of its session with that
            // event id, when there is one (a file may hold operations
            // without their answer, and course inputs may reuse an id).
            let candidates = ops.get(&(entry.customer, entry.event)).map_or(&[][..], Vec::as_slice);
            if let [only] = candidates {
                let op = op_at(*only);
                if op.op != entry.op || op.amount != entry.amount {
                    let message = format!(
                        "{} is a {} of {}, but customer {}'s event {} is a {}{}",
                        entry.write,
                        entry.op,
                        entry.amount,
                        entry.customer.0,
                        entry.event.0,
                        op.op,
                        if op.op == OpKind::Query {
                            String::new()
                        } else {
                            format!(" of {}", op.amount)
                        }
                    );
                    return at(here, message);
                }
                if let Some(write) = op.write.filter(|w| *w != entry.write) {
                    let message = format!(
                        "customer {}'s event {} made write {write}, not {}",
                        entry.customer.0, entry.event.0, entry.write
                    );
                    return at(here.key("write"), message);
                }
            }
            // The operation whose answer named this write id is the one
            // the branch applies under it.
            if let Some(&(s, o)) = issued.get(&entry.write) {
                let (customer, op) = (history.sessions[s].customer, op_at((s, o)));
                if (customer, op.event) != (entry.customer, entry.event)
                    || (op.op, op.amount) != (entry.op, entry.amount)
                {
                    let message = format!(
                        "branch {} applies {} as customer {}'s event {} ({} of {}), but \
                         sessions[{s}].ops[{o}] made it: customer {}'s event {} ({} of {})",
                        branch.id.0,
                        entry.write,
                        entry.customer.0,
                        entry.event.0,
                        entry.op,
                        entry.amount,
                        customer.0,
                        op.event.0,
                        op.op,
                        op.amount
                    );
                    return at(here, message);
                }
            }
            // A branch accepts a withdraw only if its own balance covers it
            // (the overdraft the checker finds is two branches each covering
            // one of two withdrawals, never one branch covering neither).
            if entry.op == OpKind::Withdraw
                && entry.write.origin == branch.id
                && entry.balance_after.0 < 0
            {
                let message = format!(
                    "branch {} accepted {} (a withdraw of {}) and went to {}: a branch accepts \
                     a withdraw only if its own balance covers it",
                    branch.id.0, entry.write, entry.amount, entry.balance_after
                );
                return at(here.key("balance_after"), message);
            }
            let after = i128::from(entry.balance_after.0);
            if e == 0 {
                starts.insert(branch.id, after - effect);
            }
            if let Some(before) = before.filter(|b| b + effect != after) {
                let message = format!(
                    "after {} of {}, branch {}'s balance {} is not the balance before it ({}) \
                     {} {}",
                    entry.op,
                    entry.amount,
                    branch.id.0,
                    entry.balance_after,
                    crate::money::Cents(before as i64),
                    if effect >= 0 { "plus" } else { "minus" },
                    entry.amount
                );
                return at(here.key("balance_after"), message);
            }
            before = Some(after);
        }
        applied_sets.insert(branch.id, branch.applied.iter().map(|a| a.write).collect());
        starts.entry(branch.id).or_insert(i128::from(branch.balance.0));
        positions.insert(branch.id, applied);
        if let Some(last) = branch.applied.last().filter(|l| l.balance_after != branch.balance) {
            let path = JsonPath::default().key("branches").at(b).key("balance");
            let message = format!(
                "branch {}'s balance {} is not the balance after the last write it applied \
                 ({}: {})",
                branch.id.0, branch.balance, last.write, last.balance_after
            );
            return at(path, message);
        }
    }
    // A read answers from what its branch had applied, and a branch never
    // forgets a write it applied (it stores each one first). Reads that
    // passed are kept, per branch, with how many writes they observed.
    let mut reads = HashMap::<BranchId, Vec<(u64, usize, usize)>>::new();
    for (s, session) in history.sessions.iter().enumerate() {
        for (o, op) in session.ops.iter().enumerate() {
            // A failed write names its id only when its branch applied it
            // (and then could not propagate it).
            if let (Some(write), false, Some(applied)) =
                (op.write, op.ok, positions.get(&op.branch))
            {
                if !applied.contains_key(&write) {
                    let message = format!(
                        "a failed {} names {write}, which branch {} never applied: a failed \
                         operation names a write only when its branch applied it but could not \
                         propagate it",
                        op.op, op.branch.0
                    );
                    return at(op_path(s, o).key("write"), message);
                }
            }
            if let (Some(write), true) = (op.write, op.ok) {
                answers_after_its_write(history, &branches, &positions, op, write, op_path(s, o))?;
            }
            let (Some(observed), Some(applied)) = (&op.observed, applied_sets.get(&op.branch))
            else {
                continue;
            };
            if let Some(write) = applied.first_missing_from(observed, 1).first() {
                let message = format!(
                    "the {} at branch {} observed {write}, which branch {} never applied",
                    op.op, op.branch.0, op.branch.0
                );
                return at(op_path(s, o).key("observed"), message);
            }
            reads.entry(op.branch).or_default().push((observed.len(), s, o));
        }
    }
    for (id, mut reads) in reads {
        let branch = &history.branches[branches[&id]];
        reads.sort_unstable();
        // The branch's first `k` writes, grown read by read: each read
        // costs the ranges of its observed set, not its size.
        let mut prefix = WriteSet::new();
        let mut next = 0;
        for (k, s, o) in reads {
            while (next as u64) < k {
                prefix.insert(branch.applied[next].write);
                next += 1;
            }
            let op = &history.sessions[s].ops[o];
            let observed = op.observed.as_ref().expect("kept only reads with an observed set");
            if !prefix.contains_all(observed) {
                // Observed as many writes as the first `k`, not those: one
                // of the first `k` is missing, and a later one is there.
                let skipped = branch.applied[..next]
                    .iter()
                    .position(|a| !observed.contains(&a.write))
                    .expect("equal counts, different sets");
                let message = format!(
                    "the {} at branch {} observed {} but not {}, which the branch applied \
                     before it (applied[{skipped}]): a branch answers from the writes it applied \
                     so far, in their order",
                    op.op,
                    id.0,
                    prefix.first_missing_from(observed, 1)[0],
                    branch.applied[skipped].write,
                );
                return at(op_path(s, o).key("observed"), message);
            }
            let had = match next {
                0 => starts[&id],
                n => i128::from(branch.applied[n - 1].balance_after.0),
            };
            if op.ok && i128::from(op.balance.0) != had {
                let message = format!(
                    "the {} at branch {} answered {}, but the branch's balance after the {k} \
                     write{} it observed is {}",
                    op.op,
                    id.0,
                    op.balance,
                    if k == 1 { "" } else { "s" },
                    crate::money::Cents(had as i64)
                );
                return at(op_path(s, o).key("balance"), message);
            }
        }
    }
    Ok(())
}

/// A successful write answers with its branch's balance right after it,
/// when the history holds that branch's apply order with the write in it
/// (a page may export before the branch's apply has reached it).
fn answers_after_its_write(
    history: &History,
    branches: &HashMap<BranchId, usize>,
    positions: &HashMap<BranchId, HashMap<WriteId, usize>>,
    op: &OpRecord,
    write: WriteId,
    path: JsonPath,
) -> Result<(), Inconsistent> {
    let Some(&e) = positions.get(&op.branch).and_then(|p| p.get(&write)) else { return Ok(()) };
    let branch = &history.branches[branches[&op.branch]];
    let after = branch.applied[e].balance_after;
    if op.balance != after {
        let message = format!(
            "the {} answered {}, but branch {}'s balance right after {write} was {after}",
            op.op, op.balance, op.branch.0
        );
        return at(path.key("balance"), message);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::history::History;

    /// Customer 1 deposits 100 at branch 1 (w1.1), which both branches
    /// apply, then reads 100 at branch 2, having observed it.
    const RUN: &str = r#"{"format": "bank-sim history 1",
 "sessions": [{"customer": 1, "guarantees": "none", "ops": [
  {"event": 1, "branch": 1, "op": "deposit", "amount": 100, "ok": true, "balance": 100, "write": "w1.1"},
  {"event": 2, "branch": 2, "op": "query", "ok": true, "balance": 100, "observed": ["w1.1"]}]}],
 "branches": [
  {"id": 1, "balance": 100, "applied": [
   {"write": "w1.1", "customer": 1, "event": 1, "op": "deposit", "amount": 100, "balance_after": 100}]},
  {"id": 2, "balance": 100, "applied": [
   {"write": "w1.1", "customer": 1, "event": 1, "op": "deposit", "amount": 100, "balance_after": 100}]}]}"#;

    /// Branch 1 accepting a withdraw of 400 from 100.
    const OWN_OVERDRAFT: &str = r#"{"format": "bank-sim history 1",
 "sessions": [{"customer": 1, "guarantees": "none", "ops": [
  {"event": 1, "branch": 1, "op": "withdraw", "amount": 400, "ok": true, "balance": -300, "write": "w1.1"}]}],
 "branches": [{"id": 1, "balance": -300, "applied": [
  {"write": "w1.1", "customer": 1, "event": 1, "op": "withdraw", "amount": 400, "balance_after": -300}]}]}"#;

    /// A failed deposit naming a write its branch did not apply.
    const FAILED_NOT_APPLIED: &str = r#"{"format": "bank-sim history 1",
 "sessions": [{"customer": 1, "guarantees": "none", "ops": [
  {"event": 1, "branch": 1, "op": "deposit", "amount": 100, "ok": false, "balance": 0, "write": "w1.1"}]}],
 "branches": [{"id": 1, "balance": 0, "applied": []}]}"#;

    const APPLIED: &str = r#"{"write": "w1.1", "customer": 1, "event": 1, "op": "deposit", "amount": 100, "balance_after": 100}"#;

    fn refused(text: &str) -> String {
        History::from_json(text).expect_err("an impossible history is refused").to_string()
    }

    #[test]
    fn a_real_history_is_read() {
        History::from_json(RUN).unwrap();
    }

    #[test]
    fn each_impossible_history_is_refused_with_where_and_why() {
        let twice = format!("{APPLIED}, {APPLIED}");
        let ghost = APPLIED.replace("w1.1", "w2.5");
        let withdraw = APPLIED.replace("deposit", "withdraw");
        let query = APPLIED.replace("deposit", "query");
        let other_customer =
            APPLIED.replace(r#""customer": 1, "event": 1"#, r#""customer": 7, "event": 4"#);
        let cases: Vec<(String, &str)> = vec![
            (
                RUN.replacen(r#""id": 2,"#, r#""id": 1,"#, 1),
                "line 8, column 10: $.branches[1].id: branch 1 is listed twice (first as branches[0])",
            ),
            (
                RUN.replacen(r#""ok": true, "balance": 100, "observed""#, r#""ok": true, "balance": 100, "write": "w2.1", "observed""#, 1),
                "$.sessions[0].ops[1].write: a query makes no write, yet this one names w2.1",
            ),
            (
                FAILED_NOT_APPLIED.to_owned(),
                "$.sessions[0].ops[0].write: a failed deposit names w1.1, which branch 1 never \
                 applied",
            ),
            (
                RUN.replacen(
                    r#""op": "query", "ok": true, "balance": 100, "observed": ["w1.1"]"#,
                    r#""op": "deposit", "amount": 5, "ok": true, "balance": 105, "write": "w1.1""#,
                    1,
                ),
                "$.sessions[0].ops[1].write: write w1.1 is issued twice: first by sessions[0].ops[0]",
            ),
            (
                RUN.replacen(APPLIED, &twice, 1),
                "$.branches[0].applied[1].write: branch 1 applies w1.1 twice (first as applied[0])",
            ),
            (
                RUN.replacen(APPLIED, &ghost, 1),
                "$.branches[0].applied[0].write: customer 1's event 1 made write w1.1, not w2.5",
            ),
            (
                RUN.replacen(APPLIED, &withdraw, 1),
                "$.branches[0].applied[0]: w1.1 is a withdraw of 100.00, but customer 1's event \
                 1 is a deposit of 100.00",
            ),
            (RUN.replacen(APPLIED, &query, 1), "$.branches[0].applied[0].op: a query is not a write"),
            (
                OWN_OVERDRAFT.to_owned(),
                "$.branches[0].applied[0].balance_after: branch 1 accepted w1.1 (a withdraw of \
                 400.00) and went to -300.00: a branch accepts a withdraw only if its own balance \
                 covers it",
            ),
            (
                RUN.replacen(APPLIED, &other_customer, 1),
                "$.branches[0].applied[0]: branch 1 applies w1.1 as customer 7's event 4 (deposit \
                 of 100.00), but sessions[0].ops[0] made it: customer 1's event 1 (deposit of 100.00)",
            ),
            (
                RUN.replacen(r#", "write": "w1.1"}"#, "}", 1),
                "$.sessions[0].ops[0]: a successful deposit made a write, and its answer names it",
            ),
            (
                RUN.replacen(r#""id": 1, "balance": 100"#, r#""id": 1, "balance": 999"#, 1),
                "$.branches[0].balance: branch 1's balance 999.00 is not the balance after the \
                 last write it applied (w1.1: 100.00)",
            ),
            (
                RUN.replacen(r#"["w1.1"]"#, r#"["w1.1", "w3.9"]"#, 1),
                "$.sessions[0].ops[1].observed: the query at branch 2 observed w3.9, which branch \
                 2 never applied",
            ),
            (
                RUN.replacen(r#""balance": 100, "observed""#, r#""balance": 999, "observed""#, 1),
                "$.sessions[0].ops[1].balance: the query at branch 2 answered 999.00, but the \
                 branch's balance after the 1 write it observed is 100.00",
            ),
            (
                RUN.replacen(r#""observed": ["w1.1"]"#, r#""observed": []"#, 1),
                "$.sessions[0].ops[1].balance: the query at branch 2 answered 100.00, but the \
                 branch's balance after the 0 writes it observed is 0.00",
            ),
            (
                RUN.replacen(r#""balance": 100, "write""#, r#""balance": 50, "write""#, 1),
                "$.sessions[0].ops[0].balance: the deposit answered 50.00, but branch 1's balance \
                 right after w1.1 was 100.00",
            ),
        ];
        for (text, expected) in cases {
            let error = refused(&text);
            assert!(error.contains(expected), "expected {expected:?}\n got {error:?}\nin {text}");
            assert!(
                error.starts_with("line ") && error.ends_with("no run records that"),
                "{error}"
            );
        }
    }

    #[test]
    fn balances_must_follow_from_the_writes_applied() {
        // w1.2: a second deposit of 50 whose balance_after says 120, not 150.
        let second = r#"{"write": "w1.2", "customer": 1, "event": 3, "op": "deposit", "amount": 50, "balance_after": 120}"#;
        let text = RUN
            .replacen(
                r#"{"event": 2, "branch": 2"#,
                r#"{"event": 3, "branch": 1, "op": "deposit", "amount": 50, "ok": true, "balance": 120, "write": "w1.2"},
  {"event": 2, "branch": 2"#,
                1,
            )
            .replacen(APPLIED, &format!("{APPLIED}, {second}"), 1)
            .replacen(r#""id": 1, "balance": 100"#, r#""id": 1, "balance": 120"#, 1);
        let error = refused(&text);
        assert!(
            error.contains(
                "$.branches[0].applied[1].balance_after: after deposit of 50.00, branch 1's \
                 balance 120.00 is not the balance before it (100.00) plus 50.00"
            ),
            "{error}"
        );
        // With 150 it is a run.
        let fixed = text
            .replace(r#""balance_after": 120"#, r#""balance_after": 150"#)
            .replacen(r#""id": 1, "balance": 120"#, r#""id": 1, "balance": 150"#, 1)
            .replacen(r#""balance": 120, "write""#, r#""balance": 150, "write""#, 1);
        History::from_json(&fixed).unwrap();
    }

    #[test]
    fn a_read_observes_the_first_writes_its_branch_applied() {
        // Branch 2 applies w1.1 and then w2.1 (customer 2's deposit of 7
        // there); a read of just w2.1 would have seen w1.1 too.
        let second = r#"{"write": "w2.1", "customer": 2, "event": 1, "op": "deposit", "amount": 7, "balance_after": 107}"#;
        let session = r#"{"customer": 2, "guarantees": "none", "ops": [
  {"event": 1, "branch": 2, "op": "deposit", "amount": 7, "ok": true, "balance": 107, "write": "w2.1"},
  {"event": 2, "branch": 2, "op": "query", "ok": true, "balance": 7, "observed": ["w2.1"]}]}"#;
        let text = RUN
            .replacen(
                r#"]}],
 "branches""#,
                &format!("]}}, {session}],\n \"branches\""),
                1,
            )
            .replacen(&format!("{APPLIED}]}}]}}"), &format!("{APPLIED}, {second}]}}]}}"), 1)
            .replacen(r#""id": 2, "balance": 100"#, r#""id": 2, "balance": 107"#, 1);
        let error = refused(&text);
        assert!(
            error.contains(
                "$.sessions[1].ops[1].observed: the query at branch 2 observed w2.1 but not \
                 w1.1, which the branch applied before it (applied[0])"
            ),
            "{error}\n{text}"
        );
        // Having seen both, it answers 107.
        let fixed = text.replacen(
            r#""balance": 7, "observed": ["w2.1"]"#,
            r#""balance": 107, "observed": ["w1.1", "w2.1"]"#,
            1,
        );
        History::from_json(&fixed).unwrap_or_else(|e| panic!("{e}\n{fixed}"));
    }

    #[test]
    fn what_real_runs_do_is_not_refused() {
        // Two entries of one customer id (course inputs do that), an
        // operation at a branch whose final state is missing, and a write
        // applied whose acknowledgement was lost (the deposit failed, and
        // carries no write id).
        let second_session = r#"{"customer": 1, "guarantees": "none", "ops": [
  {"event": 7, "branch": 9, "op": "query", "ok": true, "balance": 5, "observed": ["w9.1"]}]}"#;
        let text = RUN
            .replacen(
                r#"]}],
 "branches""#,
                &format!("]}}, {second_session}],\n \"branches\""),
                1,
            )
            .replacen(
                r#""ok": true, "balance": 100, "write": "w1.1""#,
                r#""ok": false, "balance": 0"#,
                1,
            );
        History::from_json(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        // A deposit its branch applied but could not propagate (a peer was
        // down): it failed as unavailable, and names its write.
        let unpropagated = RUN.replacen(
            r#""ok": true, "balance": 100, "write""#,
            r#""ok": false, "balance": 100, "write""#,
            1,
        );
        History::from_json(&unpropagated).unwrap_or_else(|e| panic!("{e}\n{unpropagated}"));
        // The page exported its run while a deposit's answer was on its
        // way: branch 1 applied w1.2 (event 3), which no operation holds yet.
        let in_flight = r#"{"write": "w1.2", "customer": 1, "event": 3, "op": "deposit", "amount": 5, "balance_after": 105}"#;
        let text = RUN.replacen(APPLIED, &format!("{APPLIED}, {in_flight}"), 1).replacen(
            r#""id": 1, "balance": 100"#,
            r#""id": 1, "balance": 105"#,
            1,
        );
        History::from_json(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }
}
