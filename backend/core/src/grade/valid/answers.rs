//! Projects 1 and 3: every event answered, in order, with balances some
//! legal execution gives.
//!
//! **Answers.** Each customer entry of the input is matched with its
//! output object (by id, the k-th entry with the k-th object), and its
//! events with the answers in order; a missing, extra or swapped answer is
//! named as such rather than as a cascade of mismatches.
//!
//! **Balances.** Customers run concurrently in a legal execution, so a
//! query may see any *prefix* of another customer's writes (propagation is
//! synchronous and each customer waits for its answers, so what reached a
//! branch of another customer's writes is always a first few of them), but
//! always all of its own earlier writes (Read Your Writes, which the
//! course's synchronous propagation gives). The set of balances that allows
//! is kept exactly ([`Sums`]); an answer outside it is wrong. A withdraw
//! that succeeded although even the largest possible balance was smaller
//! is an overdraft; one that failed although even the smallest covered it
//! was refused wrongly. Whose writes succeeded is taken from the
//! submission's own results (project 3 generation A prints none: then
//! either is allowed where possible). Under p1-money's writes-first
//! convention a query also may see its own later writes. Each point is
//! checked on its own, which never rejects a correct run; when every point
//! passes, [`one_run`] asks whether one execution gives them all together
//! (reported as [`ProblemKind::NoSingleRun`]).
//!
//! **Why** (project 3): a wrong answer that the balance *without* one of
//! the customer's own earlier writes at another branch explains is a Read
//! Your Writes violation; one explained by a withdraw that ran before the
//! customer's earlier write had arrived is a Monotonic Writes violation.

use std::collections::BTreeMap;

use super::one_run;
use super::sums::Sums;
use crate::formats::OutputFormat;
use crate::grade::describe;
use crate::grade::event::EventRef;
use crate::grade::normalize::{Answer, FinalBalance, Normal, Verdict};
use crate::grade::problem::{Place, Problem, ProblemKind};
use crate::money::Cents;
use crate::op::Op;
use crate::scenario::{CustomerScript, Scenario, ScriptEvent};

/// One input entry and what the submission answered for each event.
struct Session<'a> {
    script: &'a CustomerScript,
    answers: Vec<Option<&'a Answer>>,
    /// Project 3 generation A: the one balance printed.
    last: Option<&'a FinalBalance>,
}

/// The checks for project 1 and project 3 outputs.
pub fn check(format: OutputFormat, scenario: &Scenario, normal: &Normal) -> Vec<Problem> {
    let mut out = Vec::new();
    let sessions = if !normal.p3_balances.is_empty() {
        final_balances(scenario, normal, &mut out)
    } else if format == OutputFormat::P3 {
        per_event(scenario, normal, &mut out)
    } else {
        lists(scenario, normal, &mut out)
    };
    balances(format, scenario, &sessions, Printed::Results, &mut out);
    out
}

/// Whether the output prints the results of writes, or they are implied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Printed {
    /// `"result": "success"` / `"fail"` (projects 1 and 3).
    Results,
    /// Project 2 prints no results and no balances: a write succeeded if
    /// it was propagated to the other branches, a withdraw failed if it
    /// was propagated nowhere.
    Propagation,
}

/// A write's result as a project 2 output shows it: propagated or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Implied {
    /// The write's event (request) id.
    pub event: u64,
    pub succeeded: bool,
    /// The entry that shows it (the execute, or the request).
    pub place: Place,
}

/// Project 2: no balances are printed, but whether each withdraw went
/// through is (it was propagated, or not): no withdraw may have succeeded
/// that no legal execution covers (an overdraft), and none may have failed
/// that every execution covers. Writes missing from `implied` may have
/// done either.
pub fn implied_results(scenario: &Scenario, implied: &[Implied]) -> Vec<Problem> {
    let by_event: BTreeMap<u64, &Implied> = implied.iter().map(|i| (i.event, i)).collect();
    let answers: Vec<Vec<Option<Answer>>> = scenario
        .customers
        .iter()
        .map(|script| {
            script
                .events
                .iter()
                .map(|e| {
                    let i = by_event.get(&e.id.0).filter(|_| e.op.is_write())?;
                    Some(Answer {
                        op: e.op.kind(),
                        branch: None,
                        result: Some(if i.succeeded { Verdict::Success } else { Verdict::Fail }),
                        balance: None,
                        balance_key: "balance",
                        place: i.place.clone(),
                    })
                })
                .collect()
        })
        .collect();
    let sessions: Vec<Session<'_>> = scenario
        .customers
        .iter()
        .zip(&answers)
        .map(|(script, a)| Session {
            script,
            answers: a.iter().map(Option::as_ref).collect(),
            last: None,
        })
        .collect();
    let mut out = Vec::new();
    balances(OutputFormat::P2a, scenario, &sessions, Printed::Propagation, &mut out);
    out
}

/// The k-th input entry with id c goes with the k-th object with id c.
fn by_occurrence<'a, T>(
    scenario: &'a Scenario,
    objects: &'a [T],
    id: impl Fn(&T) -> u64,
) -> (Vec<Option<&'a T>>, Vec<&'a T>) {
    let mut queues: BTreeMap<u64, Vec<&T>> = BTreeMap::new();
    for o in objects.iter().rev() {
        queues.entry(id(o)).or_default().push(o);
    }
    let matched =
        scenario.customers.iter().map(|c| queues.get_mut(&c.id.0).and_then(Vec::pop)).collect();
    let extra = queues.into_values().flatten().collect();
    (matched, extra)
}

fn lists<'a>(
    scenario: &'a Scenario,
    normal: &'a Normal,
    out: &mut Vec<Problem>,
) -> Vec<Session<'a>> {
    let (matched, extra) = by_occurrence(scenario, &normal.p1, |l| l.customer);
    for list in extra {
        out.push(Problem::new(
            ProblemKind::ExtraAnswer,
            Some(list.place.clone()),
            format!("customer {}", list.customer),
            "one object too many: the input has no (further) customer entry with this id",
        ));
    }
    scenario
        .customers
        .iter()
        .zip(matched)
        .map(|(script, list)| {
            let answers = match list {
                None => {
                    out.push(missing_customer(script));
                    vec![None; script.events.len()]
                }
                Some(list) => {
                    let refs: Vec<&Answer> = list.answers.iter().collect();
                    align(script, &refs, &list.place.key("recv"), out)
                }
            };
            Session { script, answers, last: None }
        })
        .collect()
}

fn per_event<'a>(
    scenario: &'a Scenario,
    normal: &'a Normal,
    out: &mut Vec<Problem>,
) -> Vec<Session<'a>> {
    let mut by_customer: BTreeMap<u64, Vec<&Answer>> = BTreeMap::new();
    for (customer, answer) in &normal.p3_events {
        by_customer.entry(*customer).or_default().push(answer);
    }
    let known: std::collections::BTreeSet<u64> =
        scenario.customers.iter().map(|c| c.id.0).collect();
    for (customer, answers) in &by_customer {
        if !known.contains(customer) {
            for a in answers {
                out.push(Problem::new(
                    ProblemKind::ExtraAnswer,
                    Some(a.place.clone()),
                    format!("customer {customer}"),
                    "the input has no customer with this id",
                ));
            }
        }
    }
    scenario
        .customers
        .iter()
        .map(|script| {
            // Entries with the same id share one queue of answers.
            let queue = by_customer.entry(script.id.0).or_default();
            let take = script.events.len().min(queue.len());
            let mine: Vec<&Answer> =
                if scenario.customers.iter().filter(|c| c.id == script.id).count() > 1 {
                    queue.drain(..take).collect()
                } else {
                    std::mem::take(queue)
                };
            if mine.is_empty() && !script.events.is_empty() {
                out.push(missing_customer(script));
                return Session { script, answers: vec![None; script.events.len()], last: None };
            }
            let list = mine.first().map_or(Place::file(0), |a| a.place.clone());
            let answers = align(script, &mine, &list, out);
            Session { script, answers, last: None }
        })
        .collect()
}

fn final_balances<'a>(
    scenario: &'a Scenario,
    normal: &'a Normal,
    out: &mut Vec<Problem>,
) -> Vec<Session<'a>> {
    let (matched, extra) = by_occurrence(scenario, &normal.p3_balances, |b| b.customer);
    for b in extra {
        out.push(Problem::new(
            ProblemKind::ExtraAnswer,
            Some(b.place.clone()),
            format!("customer {}", b.customer),
            "one object too many: the input has no (further) customer entry with this id",
        ));
    }
    scenario
        .customers
        .iter()
        .zip(matched)
        .map(|(script, last)| {
            if last.is_none() && !script.events.is_empty() {
                out.push(missing_customer(script));
            }
            Session { script, answers: vec![None; script.events.len()], last }
        })
        .collect()
}

fn missing_customer(script: &CustomerScript) -> Problem {
    Problem::new(
        ProblemKind::MissingAnswer,
        None,
        format!("customer {}", script.id.0),
        format!("no output object for the customer entry at line {} of the input", script.line),
    )
}

fn fits(event: &ScriptEvent, answer: &Answer) -> bool {
    answer.op == event.op.kind() && answer.branch.is_none_or(|b| b == event.branch.0)
}

/// Matches a customer's answers with its events, naming missing, extra and
/// swapped answers.
fn align<'a>(
    script: &CustomerScript,
    answers: &[&'a Answer],
    list: &Place,
    out: &mut Vec<Problem>,
) -> Vec<Option<&'a Answer>> {
    let events = &script.events;
    let mut matched = vec![None; events.len()];
    let (mut i, mut j) = (0, 0);
    while i < events.len() && j < answers.len() {
        let (event, answer) = (&events[i], answers[j]);
        if fits(event, answer) {
            matched[i] = Some(answer);
            i += 1;
            j += 1;
            continue;
        }
        let next_event_fits = i + 1 < events.len() && fits(&events[i + 1], answer);
        let next_answer_fits = j + 1 < answers.len() && fits(event, answers[j + 1]);
        if next_event_fits && next_answer_fits {
            out.push(Problem::new(
                ProblemKind::WrongOrder,
                Some(answer.place.clone()),
                describe::event(script, event),
                format!(
                    "the answers to event {} and event {} are swapped (answers come in the order of the customer's events)",
                    event.id.0,
                    events[i + 1].id.0
                ),
            ));
            matched[i] = Some(answers[j + 1]);
            matched[i + 1] = Some(answer);
            i += 2;
            j += 2;
        } else if next_event_fits && answers.len() - j < events.len() - i {
            out.push(missing_answer(script, event, list));
            i += 1;
        } else if next_answer_fits && answers.len() - j > events.len() - i {
            out.push(extra_answer(script, answer));
            j += 1;
        } else {
            out.push(Problem::new(
                ProblemKind::WrongOrder,
                Some(answer.place.clone()),
                describe::event(script, event),
                format!(
                    "the answer is a {} {}, but the event is a {}",
                    answer.op,
                    answer.branch.map(|b| format!("at branch {b}")).unwrap_or_default(),
                    describe::what(event)
                )
                .replace("  ", " ")
                .replace(" ,", ","),
            ));
            i += 1;
            j += 1;
        }
    }
    for event in &events[i..] {
        out.push(missing_answer(script, event, list));
    }
    for answer in &answers[j..] {
        out.push(extra_answer(script, answer));
    }
    matched
}

fn missing_answer(script: &CustomerScript, event: &ScriptEvent, list: &Place) -> Problem {
    Problem::new(
        ProblemKind::MissingAnswer,
        Some(list.clone()),
        describe::event(script, event),
        "no answer for this event",
    )
    .about(answered(script, event))
}

/// The answer to `event` of `script`'s customer.
fn answered(script: &CustomerScript, event: &ScriptEvent) -> EventRef {
    EventRef::CustomerAnswered { customer: script.id.0, event: event.id.0 }
}

fn extra_answer(script: &CustomerScript, answer: &Answer) -> Problem {
    Problem::new(
        ProblemKind::ExtraAnswer,
        Some(answer.place.clone()),
        format!("customer {}", script.id.0),
        format!("an answer ({}) for no event of this customer", answer.op),
    )
}

/// A write's effect on the balance, as possible amounts. A deposit said to
/// have failed may have (past the maximum balance) or not (the customer's
/// own answers blame that `"fail"`): either, so that one wrong result is
/// not also a wrong balance in every other customer's answers.
fn effect(op: Op, verdict: Option<Verdict>) -> Sums {
    match (op, verdict) {
        (Op::Deposit(a), Some(Verdict::Fail)) => Sums::of([0, a.0]),
        (Op::Query, _) | (_, Some(Verdict::Fail)) => Sums::one(0),
        (Op::Deposit(a), _) => Sums::one(a.0),
        (Op::Withdraw(a), Some(Verdict::Success)) => Sums::one(-a.0),
        (Op::Withdraw(a), None) => Sums::of([0, -a.0]),
    }
}

fn verdict_of(answer: Option<&Answer>) -> Option<Verdict> {
    answer.and_then(|a| {
        a.result.or(Some(Verdict::Success)).filter(|_| a.op != crate::op::OpKind::Query)
    })
}

/// What another customer's writes may have added when someone looks:
/// any first few of them.
fn reach(session: &Session<'_>, from: usize) -> Sums {
    let mut current = Sums::one(0);
    let mut all = Sums::one(0);
    for (event, answer) in session.script.events.iter().zip(&session.answers).skip(from) {
        if event.op.is_write() {
            current = current.plus(&effect(event.op, verdict_of(*answer)));
            all = all.union(&current);
        }
    }
    all
}

fn balances(
    format: OutputFormat,
    scenario: &Scenario,
    sessions: &[Session<'_>],
    printed: Printed,
    out: &mut Vec<Problem>,
) {
    let starts: BTreeMap<u64, i64> =
        scenario.branches.iter().map(|b| (b.id.0, b.balance.0)).collect();
    let reaches: Vec<Sums> = sessions.iter().map(|s| reach(s, 0)).collect();
    // others[i] = the sum of every reach but i's, from prefix and suffix sums.
    let mut prefix = vec![Sums::one(0)];
    for r in &reaches {
        let next = prefix.last().expect("non-empty").plus(r);
        prefix.push(next);
    }
    let mut suffix = vec![Sums::one(0); reaches.len() + 1];
    for i in (0..reaches.len()).rev() {
        suffix[i] = suffix[i + 1].plus(&reaches[i]);
    }
    let before = out.len();
    for (i, session) in sessions.iter().enumerate() {
        let others = prefix[i].plus(&suffix[i + 1]);
        walk(format, session, &others, &starts, printed, out);
    }
    // Each read fits some run; do they all fit one? (Only then: a wrong
    // read is one problem, not also a contradiction with the others.)
    if out.len() == before {
        out.extend(one_run_problem(format, sessions, &starts, printed));
    }
}

/// What a read of [`one_run`] was in the submission, for the explanation.
struct Shown {
    session: usize,
    event: usize,
    place: Place,
    /// `"balance": 400`, `"result": "fail"`.
    said: String,
    /// `answered 400`, `failed`.
    short: String,
}

/// The one-run check ([`one_run`]) over every session's reads and results;
/// skipped when some write's answer is missing.
fn one_run_problem(
    format: OutputFormat,
    sessions: &[Session<'_>],
    starts: &BTreeMap<u64, i64>,
    printed: Printed,
) -> Option<Problem> {
    let writes_first = format == OutputFormat::P1Money;
    let mut model = one_run::Model { writes: Vec::new(), reads: Vec::new(), writes_first };
    let mut shown = Vec::new();
    for (s, session) in sessions.iter().enumerate() {
        let script = session.script;
        let mut writes = one_run::Writes::default();
        let total = script
            .events
            .iter()
            .zip(&session.answers)
            .filter(|(e, a)| match e.op {
                Op::Deposit(_) => true,
                Op::Withdraw(_) => verdict_of(**a) == Some(Verdict::Success),
                Op::Query => false,
            })
            .count();
        for (k, event) in script.events.iter().enumerate() {
            let answer = session.answers[k];
            let start = starts.get(&event.branch.0).copied().unwrap_or(0);
            let own = writes.at.len();
            let mut read = |seen, query, place: Place, said: String, short: String| {
                let own = (own, if writes_first && query { total } else { own });
                model.reads.push(one_run::Read {
                    session: s,
                    event: k,
                    branch: event.branch.0,
                    start,
                    own,
                    seen,
                    query,
                });
                shown.push(Shown { session: s, event: k, place, said, short });
            };
            // A write without its answer (project 3 generation A prints
            // none) may not have run: nothing to reason from.
            if event.op.is_write() && answer.is_none() {
                return None;
            }
            match event.op {
                Op::Query => {
                    if let Some(a) = answer {
                        if let Some(balance) = a.balance {
                            let text = describe::money(balance);
                            read(
                                one_run::Seen::Equal(balance.0),
                                true,
                                a.place_of(a.balance_key),
                                format!("{:?}: {text}", a.balance_key),
                                format!("answered {text}"),
                            );
                        }
                    }
                }
                // A failed deposit (past the maximum balance) changed nothing.
                Op::Deposit(_) if verdict_of(answer) == Some(Verdict::Fail) => {}
                Op::Deposit(amount) => writes.push(k, event.branch.0, amount.0),
                Op::Withdraw(amount) => {
                    let (Some(verdict), Some(a)) = (verdict_of(answer), answer) else {
                        return None;
                    };
                    let place = match printed {
                        Printed::Results => a.place_of("result"),
                        Printed::Propagation => a.place.clone(),
                    };
                    let (seen, said, short) = match (verdict, printed) {
                        (Verdict::Success, Printed::Results) => (
                            one_run::Seen::AtLeast(amount.0),
                            "\"result\": \"success\"",
                            "succeeded",
                        ),
                        (Verdict::Fail, Printed::Results) => {
                            (one_run::Seen::Below(amount.0), "\"result\": \"fail\"", "failed")
                        }
                        (Verdict::Success, Printed::Propagation) => (
                            one_run::Seen::AtLeast(amount.0),
                            "propagated to the other branches (it succeeded)",
                            "succeeded",
                        ),
                        (Verdict::Fail, Printed::Propagation) => (
                            one_run::Seen::Below(amount.0),
                            "propagated nowhere (it failed)",
                            "failed",
                        ),
                    };
                    read(seen, false, place, said.to_owned(), short.to_owned());
                    if verdict == Verdict::Success {
                        writes.push(k, event.branch.0, -amount.0);
                    }
                }
            }
        }
        model.writes.push(writes);
    }
    let set = one_run::contradiction(&model)?;
    // Reported on the last of them, in input order.
    let last = *set.iter().max_by_key(|i| (shown[**i].session, shown[**i].event))?;
    let at = |i: usize| {
        let script = sessions[shown[i].session].script;
        (script, &script.events[shown[i].event])
    };
    let (script, event) = at(last);
    let others: Vec<String> = set
        .iter()
        .filter(|i| **i != last)
        .map(|i| {
            let (script, event) = at(*i);
            format!("{} {}", describe::event(script, event), shown[*i].short)
        })
        .collect();
    let reads = &model.reads;
    let one_branch = set.iter().all(|i| {
        reads[*i].session == reads[last].session && reads[*i].branch == reads[last].branch
    });
    let why = if one_branch {
        format!(
            "the writes branch {} had applied would have had to shrink in between (a branch's writes only grow)",
            event.branch.0
        )
    } else {
        "in one run a branch's writes only grow, a customer's next write starts after its last \
         one reached every branch, and a write is at its own branch before anywhere else"
            .to_owned()
    };
    let with = if others.is_empty() {
        String::new()
    } else {
        format!(" together with {}", others.join(", "))
    };
    Some(
        Problem::new(
            ProblemKind::NoSingleRun,
            Some(shown[last].place.clone()),
            describe::event(script, event),
            format!("{}: no single execution gives this{with}: {why}", shown[last].said),
        )
        .about(answered(script, event)),
    )
}

/// One customer's events in order, against everything its reads can see.
fn walk(
    format: OutputFormat,
    session: &Session<'_>,
    others: &Sums,
    starts: &BTreeMap<u64, i64>,
    printed: Printed,
    out: &mut Vec<Problem>,
) {
    let script = session.script;
    // What the output says, where it says it.
    let (said_success, said_fail) = match printed {
        Printed::Results => ("\"result\": \"success\"", "\"result\": \"fail\""),
        Printed::Propagation => (
            "propagated to the other branches, so it succeeded",
            "propagated nowhere, so it failed",
        ),
    };
    let result_place = |a: &Answer| match printed {
        Printed::Results => a.place_of("result"),
        Printed::Propagation => a.place.clone(),
    };
    let writes_first = format == OutputFormat::P1Money;
    let mut own = Sums::one(0);
    // The same, if writes at another branch did not have to arrive first
    // (no Monotonic Writes): to recognise that mistake.
    let mut own_unordered = Sums::one(0);
    let mut mw_suspect: Option<(usize, usize)> = None;
    let mut done: Vec<(usize, i64)> = Vec::new();
    let last_query = script.events.iter().rposition(|e| e.op == Op::Query);
    for (k, event) in script.events.iter().enumerate() {
        let start = starts.get(&event.branch.0).copied().unwrap_or(0);
        let later = if writes_first { reach(session, k + 1) } else { Sums::one(0) };
        let possible = own.plus(others).plus(&later).shift(start);
        let answer = session.answers[k];
        let subject = describe::event(script, event);
        let elsewhere: Vec<(usize, i64)> = done
            .iter()
            .copied()
            .filter(|(w, _)| script.events[*w].branch != event.branch)
            .collect();
        let local_own: i64 = done
            .iter()
            .filter(|(w, _)| script.events[*w].branch == event.branch)
            .map(|(_, d)| d)
            .sum();
        match event.op {
            Op::Query => {
                let printed = match (answer, session.last) {
                    (Some(a), _) => {
                        a.balance.map(|b| (b, a.place_of(a.balance_key), a.balance_key))
                    }
                    (None, Some(last)) if Some(k) == last_query => {
                        Some((last.balance, last.place.key("balance"), "balance"))
                    }
                    _ => None,
                };
                if let Some((balance, place, key)) = printed {
                    if !possible.contains(balance.0) {
                        let unordered = own_unordered.plus(others).plus(&later).shift(start);
                        out.push(wrong_balance(
                            script, event, &subject, balance, key, place, &possible, &elsewhere,
                            &unordered, mw_suspect,
                        ));
                    }
                } else if let Some(a) = answer {
                    // A balance check that cannot be made is not passed: it
                    // counts against the balances (and their points).
                    out.push(Problem::new(
                        ProblemKind::WrongBalance,
                        Some(a.place.clone()),
                        subject,
                        "a query's answer needs its balance",
                    ));
                }
            }
            Op::Deposit(amount) => {
                // A deposit fails only when it would carry the balance past
                // the maximum (then it changes nothing).
                let past_max = possible.max().saturating_add(amount.0) > Cents::MAX.0;
                let failed = answer.filter(|a| a.result == Some(Verdict::Fail));
                if let Some(a) = failed.filter(|_| !past_max) {
                    out.push(Problem::new(
                        ProblemKind::RefusedWithFunds,
                        Some(a.place_of("result")),
                        subject,
                        format!(
                            "\"result\": \"fail\", expected \"success\": a deposit fails only \
                             when it would take the balance past {} (the balance there was at most \
                             {})",
                            describe::money(Cents::MAX),
                            describe::money(Cents(possible.max()))
                        ),
                    ));
                }
                if failed.is_none() || !past_max {
                    own = own.shift(amount.0);
                    own_unordered = own_unordered.shift(amount.0);
                    done.push((k, amount.0));
                }
            }
            Op::Withdraw(amount) => {
                let w = amount.0;
                let mut verdict = verdict_of(answer);
                let unordered_local = others.shift(start + local_own);
                match (verdict, answer) {
                    (Some(Verdict::Success), Some(a)) if possible.max() < w => out.push(Problem::new(
                        ProblemKind::Overdraft,
                        Some(result_place(a)),
                        subject,
                        format!(
                            "{said_success}, expected \"fail\": the balance there was at most {} (an overdraft must fail and change nothing)",
                            describe::money(Cents(possible.max()))
                        ),
                    )),
                    (Some(Verdict::Fail), Some(a)) if possible.min() >= w => {
                        let why = if unordered_local.min() < w && !elsewhere.is_empty() {
                            let (first, d) = elsewhere[0];
                            (ProblemKind::MonotonicWrites, format!(
                                ": Monotonic Writes: it ran before this customer's earlier {} (event {}) at branch {} had reached branch {}",
                                op_text(d), script.events[first].id.0, script.events[first].branch.0, event.branch.0
                            ))
                        } else {
                            (ProblemKind::RefusedWithFunds, String::new())
                        };
                        out.push(Problem::new(
                            why.0,
                            Some(result_place(a)),
                            subject,
                            format!(
                                "{said_fail}, expected \"success\": the balance there was at least {}, enough for it{}",
                                describe::money(Cents(possible.min())),
                                why.1
                            ),
                        ));
                    }
                    _ => {}
                }
                // Go on with what must have happened, so one wrong result
                // is one problem, not a wrong balance at every later query.
                if verdict == Some(Verdict::Success) && possible.max() < w {
                    verdict = Some(Verdict::Fail);
                } else if verdict == Some(Verdict::Fail) && possible.min() >= w {
                    verdict = Some(Verdict::Success);
                }
                let can_succeed = possible.max() >= w;
                let can_fail = possible.min() < w;
                let (next, succeeded) = match verdict {
                    Some(Verdict::Success) => (own.shift(-w), true),
                    Some(Verdict::Fail) => (own.clone(), false),
                    None => match (can_succeed, can_fail) {
                        (true, true) => (own.shift(-w).union(&own), true),
                        (true, false) => (own.shift(-w), true),
                        _ => (own.clone(), false),
                    },
                };
                own = next;
                if succeeded {
                    done.push((k, -w));
                }
                // Without Monotonic Writes the withdraw sees only this
                // branch's share of the customer's own writes.
                let unordered_possible = unordered_local.plus(&later);
                let (u_succeed, u_fail) =
                    (unordered_possible.max() >= w, unordered_possible.min() < w);
                own_unordered = match verdict {
                    Some(Verdict::Success) => own_unordered.shift(-w),
                    Some(Verdict::Fail) => own_unordered,
                    None => {
                        if u_fail && !can_fail && !elsewhere.is_empty() {
                            mw_suspect = Some((k, elsewhere[0].0));
                        }
                        match (u_succeed, u_fail) {
                            (true, true) => own_unordered.shift(-w).union(&own_unordered),
                            (true, false) => own_unordered.shift(-w),
                            _ => own_unordered,
                        }
                    }
                };
            }
        }
    }
}

fn op_text(delta: i64) -> String {
    if delta >= 0 {
        format!("deposit of {}", describe::money(Cents(delta)))
    } else {
        format!("withdraw of {}", describe::money(Cents(-delta)))
    }
}

#[allow(clippy::too_many_arguments)]
fn wrong_balance(
    script: &CustomerScript,
    event: &ScriptEvent,
    subject: &str,
    balance: Cents,
    key: &str,
    place: Place,
    possible: &Sums,
    elsewhere: &[(usize, i64)],
    unordered: &Sums,
    mw_suspect: Option<(usize, usize)>,
) -> Problem {
    let expected = match possible.values() {
        Some(values) => describe::amounts(&values.into_iter().map(Cents).collect::<Vec<_>>()),
        None => format!(
            "between {} and {}",
            describe::money(Cents(possible.min())),
            describe::money(Cents(possible.max()))
        ),
    };
    let head = format!("{key:?}: {}, expected {expected}", describe::money(balance));
    // One own write elsewhere missing, or all of them.
    let mut tries: Vec<Vec<(usize, i64)>> = elsewhere.iter().map(|w| vec![*w]).collect();
    if elsewhere.len() > 1 {
        tries.push(elsewhere.to_vec());
    }
    for missed in tries {
        let delta: i64 = missed.iter().map(|(_, d)| d).sum();
        if possible.shift(-delta).contains(balance.0) {
            let named: Vec<String> = missed
                .iter()
                .take(3)
                .map(|(w, d)| {
                    let write = &script.events[*w];
                    format!("{} (event {}) at branch {}", op_text(*d), write.id.0, write.branch.0)
                })
                .collect();
            let more = match missed.len() {
                n if n > 3 => format!(" and {} more", n - 3),
                _ => String::new(),
            };
            return Problem::new(
                ProblemKind::ReadYourWrites,
                Some(place),
                subject,
                format!(
                    "{head}: Read Your Writes: the answer misses this customer's own earlier {}{more}",
                    named.join(", ")
                ),
            );
        }
    }
    if let Some((withdraw, earlier)) = mw_suspect.filter(|_| unordered.contains(balance.0)) {
        let (w, e) = (&script.events[withdraw], &script.events[earlier]);
        return Problem::new(
            ProblemKind::MonotonicWrites,
            Some(place),
            subject,
            format!(
                "{head}: Monotonic Writes: that is the balance if the {} (event {}) at branch {} ran before this customer's earlier {} (event {}) at branch {} had reached it",
                describe::op(w.op),
                w.id.0,
                w.branch.0,
                describe::op(e.op),
                e.id.0,
                e.branch.0
            ),
        );
    }
    let _ = event;
    Problem::new(
        ProblemKind::WrongBalance,
        Some(place),
        subject,
        format!("{head} (the balances the writes it can have seen give)"),
    )
}
