//! The *exact* check: is the submission what `bank run` prints?
//!
//! The expected output is made here, in-process, by the deterministic
//! simulator ([`crate::sim`]) running the same branch code as `bank run`'s
//! cluster under the format's default schedule and clock scheme
//! ([`demo::base_for`]); with those conventions both print the same
//! output (the tests check it against the course's published files). It is
//! rendered by the same writer as `bank run` ([`formats::render`]), then
//! read back through the grader's own reader, so both sides are normalised
//! alike (key order, `400.0`, spellings, case) and only real differences
//! remain. List order is compared where the handout fixes it (answers,
//! per-branch logs) and ignored where it does not (the p2b all-events list,
//! which the course's own grader re-sorts).
//!
//! Every difference is one [`ProblemKind::Differs`] naming the value found
//! and the value expected.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::describe;
use super::detect::read_parts;
use super::normalize::{normalize, Answer, ClockEvent, ClockList, Normal, StepList};
use super::problem::{Place, Problem, ProblemKind};
use crate::experiment::demo;
use crate::formats::{self, OutputFormat, OutputOptions, P2bPart};
use crate::money::Cents;
use crate::op::OpKind;
use crate::record::RunRecord;
use crate::scenario::Scenario;
use crate::sim::{self, SimError};

/// What `bank run` prints for one input, read back; each format is run
/// the first time it is asked for (a class hands in one format, and a
/// large input takes a while in the simulator).
#[derive(Debug)]
pub struct Expected<'s> {
    scenario: &'s Scenario,
    by_format: [OnceLock<Result<(Normal, RunRecord), SimError>>; 5],
}

impl<'s> Expected<'s> {
    /// Nothing runs yet: see [`Expected::normal`].
    pub fn new(scenario: &'s Scenario) -> Expected<'s> {
        Expected { scenario, by_format: Default::default() }
    }

    fn get(&self, format: OutputFormat) -> Result<&(Normal, RunRecord), &SimError> {
        let slot = OutputFormat::ALL.iter().position(|f| *f == format).expect("a known format");
        self.by_format[slot].get_or_init(|| run(self.scenario, format)).as_ref()
    }

    /// The expected output of `format`, typed; an error if the input does
    /// not finish in the simulator.
    pub fn normal(&self, format: OutputFormat) -> Result<&Normal, &SimError> {
        self.get(format).map(|(normal, _)| normal)
    }

    /// The run behind it (its clocks and answers).
    pub fn record(&self, format: OutputFormat) -> Result<&RunRecord, &SimError> {
        self.get(format).map(|(_, record)| record)
    }
}

/// Runs `scenario` under `format`'s conventions and reads the output back.
fn run(scenario: &Scenario, format: OutputFormat) -> Result<(Normal, RunRecord), SimError> {
    let record = sim::run(scenario, &demo::base_for(format))?.record;
    let texts = render(format, scenario, &record);
    let mut parts = Vec::new();
    for (file, text) in texts.iter().enumerate() {
        // Our own output always reads back; an error here is a bug.
        parts.extend(read_parts(file, text).unwrap_or_default());
    }
    let (normal, problems) = normalize(&parts);
    debug_assert!(problems.is_empty(), "{problems:?}");
    Ok((normal, record))
}

/// The text `bank run` prints for `format` (p2b: its three lists).
pub fn render(format: OutputFormat, scenario: &Scenario, record: &RunRecord) -> Vec<String> {
    if format == OutputFormat::P2b {
        let options = OutputOptions::default();
        return [P2bPart::Customer, P2bPart::Branch, P2bPart::All]
            .into_iter()
            .map(|p2b_part| {
                formats::render(format, scenario, record, &OutputOptions { p2b_part, ..options })
            })
            .collect();
    }
    vec![formats::render(format, scenario, record, &OutputOptions::default())]
}

/// Every difference between `got` and `expected`, for `format`.
pub fn compare(format: OutputFormat, expected: &Normal, got: &Normal) -> Vec<Problem> {
    let mut out = Vec::new();
    match format {
        OutputFormat::P1 | OutputFormat::P1Money => {
            for (i, want) in expected.p1.iter().enumerate() {
                let Some(have) = got.p1.get(i) else {
                    out.push(differs(
                        None,
                        format!("customer {}", want.customer),
                        "missing: the output has fewer customer objects",
                    ));
                    continue;
                };
                let subject = format!("customer object {}", i + 1);
                if have.customer != want.customer {
                    out.push(differs(
                        Some(have.place.key("id")),
                        &subject,
                        format!("\"id\": {}, expected {}", have.customer, want.customer),
                    ));
                }
                answers(&mut out, &subject, &have.place, &have.answers, &want.answers);
            }
            for extra in got.p1.iter().skip(expected.p1.len()) {
                out.push(differs(
                    Some(extra.place.clone()),
                    format!("customer {}", extra.customer),
                    "one customer object too many",
                ));
            }
        }
        OutputFormat::P3 => {
            if !expected.p3_balances.is_empty() || !got.p3_balances.is_empty() {
                for (i, want) in expected.p3_balances.iter().enumerate() {
                    match got.p3_balances.get(i) {
                        None => out.push(differs(
                            None,
                            format!("customer {}", want.customer),
                            "missing",
                        )),
                        Some(have)
                            if (have.customer, have.balance) != (want.customer, want.balance) =>
                        {
                            out.push(differs(
                                Some(have.place.clone()),
                                format!("customer {}", have.customer),
                                format!(
                                    "customer {} with balance {}, expected customer {} with balance {}",
                                    have.customer,
                                    describe::money(have.balance),
                                    want.customer,
                                    describe::money(want.balance)
                                ),
                            ));
                        }
                        Some(_) => {}
                    }
                }
                for extra in got.p3_balances.iter().skip(expected.p3_balances.len()) {
                    out.push(differs(
                        Some(extra.place.clone()),
                        format!("customer {}", extra.customer),
                        "one object too many",
                    ));
                }
            } else {
                let have: Vec<Answer> = got.p3_events.iter().map(|(_, a)| a.clone()).collect();
                let want: Vec<Answer> = expected.p3_events.iter().map(|(_, a)| a.clone()).collect();
                let ids = |n: &Normal| n.p3_events.iter().map(|(c, _)| *c).collect::<Vec<_>>();
                for (i, (h, w)) in ids(got).iter().zip(ids(expected)).enumerate() {
                    if *h != w {
                        let place = got.p3_events[i].1.place.clone();
                        out.push(differs(
                            Some(place),
                            format!("object {}", i + 1),
                            format!("customer {h}, expected customer {w}"),
                        ));
                    }
                }
                answers(&mut out, "the output", &Place::file(0), &have, &want);
            }
        }
        OutputFormat::P2a => {
            steps(&mut out, "branch", &got.p2a_branches, &expected.p2a_branches);
            steps(&mut out, "event", &got.p2a_events, &expected.p2a_events);
        }
        OutputFormat::P2b => {
            if let (Some(have), Some(want)) = (&got.p2b_customers, &expected.p2b_customers) {
                clock_lists(&mut out, "customer", have, want);
            }
            if let (Some(have), Some(want)) = (&got.p2b_branches, &expected.p2b_branches) {
                clock_lists(&mut out, "branch", have, want);
            }
            if let (Some(have), Some(want)) = (&got.p2b_all, &expected.p2b_all) {
                unordered(&mut out, have, want);
            }
        }
    }
    out
}

fn differs(
    place: Option<Place>,
    subject: impl Into<String>,
    message: impl Into<String>,
) -> Problem {
    Problem::new(ProblemKind::Differs, place, subject, message)
}

fn answers(out: &mut Vec<Problem>, subject: &str, list: &Place, have: &[Answer], want: &[Answer]) {
    for (i, (h, w)) in have.iter().zip(want).enumerate() {
        if h.same(w) {
            continue;
        }
        let mut what = Vec::new();
        if h.op != w.op {
            what.push(format!("\"interface\": {:?}, expected {:?}", h.op.as_str(), w.op.as_str()));
        }
        if h.branch != w.branch {
            let show = |b: Option<u64>| b.map_or_else(|| "(none)".to_owned(), |b| b.to_string());
            what.push(format!("\"branch\": {}, expected {}", show(h.branch), show(w.branch)));
        }
        // A query printed without "result" is how some years print it.
        let result_open = h.result.is_none() && h.op == OpKind::Query;
        if h.result != w.result && !result_open {
            what.push(format!(
                "\"result\": {}, expected {}",
                describe::verdict(h.result),
                describe::verdict(w.result)
            ));
        }
        if h.balance != w.balance {
            let show = |b: Option<Cents>| b.map_or_else(|| "(none)".to_owned(), describe::money);
            what.push(format!(
                "{:?}: {}, expected {}",
                h.balance_key,
                show(h.balance),
                show(w.balance)
            ));
        }
        if what.is_empty() {
            continue;
        }
        out.push(differs(
            Some(h.place.clone()),
            format!("{subject}, answer {}", i + 1),
            what.join("; "),
        ));
    }
    if have.len() != want.len() {
        out.push(differs(
            Some(list.clone()),
            subject,
            format!("{} answers, expected {}", have.len(), want.len()),
        ));
    }
}

fn steps(out: &mut Vec<Problem>, what: &str, have: &[StepList], want: &[StepList]) {
    let by_id: BTreeMap<u64, &StepList> = have.iter().map(|l| (l.id, l)).collect();
    for w in want {
        let Some(h) = by_id.get(&w.id) else {
            out.push(differs(
                None,
                format!("{what} {}", w.id),
                format!("missing: no list for {what} {}", w.id),
            ));
            continue;
        };
        let subject = format!("{what} {}", w.id);
        let show = |e: &super::normalize::StepEntry| {
            format!("{} of event {} at clock {}", e.step.name(e.op), e.event, e.clock)
        };
        for (i, (a, b)) in h.entries.iter().zip(&w.entries).enumerate() {
            if (a.event, a.op, a.step, a.clock) != (b.event, b.op, b.step, b.clock) {
                out.push(differs(
                    Some(a.place.clone()),
                    format!("{subject}, entry {}", i + 1),
                    format!("{}, expected {}", show(a), show(b)),
                ));
            }
        }
        if h.entries.len() != w.entries.len() {
            out.push(differs(
                Some(h.place.clone()),
                &subject,
                format!("{} entries, expected {}", h.entries.len(), w.entries.len()),
            ));
        }
    }
}

fn clock_lists(out: &mut Vec<Problem>, what: &str, have: &[ClockList], want: &[ClockList]) {
    for (i, w) in want.iter().enumerate() {
        let Some(h) = have.get(i) else {
            out.push(differs(
                None,
                format!("{what} {}", w.id),
                "missing: the list has fewer objects",
            ));
            continue;
        };
        let subject = format!("{what} {}", w.id);
        if h.id != w.id {
            out.push(differs(
                Some(h.place.key("id")),
                &subject,
                format!("\"id\": {}, expected {}", h.id, w.id),
            ));
            continue;
        }
        for (j, (a, b)) in h.events.iter().zip(&w.events).enumerate() {
            if a.key() != b.key() {
                out.push(differs(
                    Some(a.place.clone()),
                    format!("{subject}, event {}", j + 1),
                    format!("{}, expected {}", show(a), show(b)),
                ));
            }
        }
        if h.events.len() != w.events.len() {
            out.push(differs(
                Some(h.place.clone()),
                &subject,
                format!("{} events, expected {}", h.events.len(), w.events.len()),
            ));
        }
    }
}

/// `request 3 "propagate_deposit" "event_sent to branch 2" at clock 6`.
pub fn show(e: &ClockEvent) -> String {
    let interface = if e.propagate { format!("propagate_{}", e.op) } else { e.op.to_string() };
    format!("request {} {interface:?} {:?} at clock {}", e.request, e.comment.text(), e.clock)
}

fn unordered(out: &mut Vec<Problem>, have: &[ClockEvent], want: &[ClockEvent]) {
    let mut left: BTreeMap<_, usize> = BTreeMap::new();
    for w in want {
        *left.entry(w.key()).or_default() += 1;
    }
    for h in have {
        match left.get_mut(&h.key()) {
            Some(n) if *n > 0 => *n -= 1,
            _ => out.push(differs(
                Some(h.place.clone()),
                format!("{:?} {}", h.side, h.owner).to_lowercase(),
                format!("{} is not in bank run's output", show(h)),
            )),
        }
    }
    for w in want {
        if let Some(n) = left.get_mut(&w.key()) {
            if *n > 0 {
                *n -= 1;
                out.push(differs(
                    None,
                    format!("{:?} {}", w.side, w.owner).to_lowercase(),
                    format!("missing {}", show(w)),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::testutil::{grade_files, input};

    /// The course's published outputs that `bank run` reproduces exactly:
    /// the in-process expected output equals them, after normalising.
    #[test]
    fn the_simulator_reproduces_the_published_outputs() {
        let cases = [
            ("p1-branch-propagation/jthak002+cse531/input_small.json", "p1-branch-propagation/anuragbnrj+cse531/output.json"),
            ("p1-branch-propagation/anuragbnrj+cse531/input_2.json", "p1-branch-propagation/anuragbnrj+cse531/output_2.json"),
            ("p1-branch-propagation/hiroto0222+CSE531-gRPC-Project/input.json", "p1-branch-propagation/hiroto0222+CSE531-gRPC-Project/output.json"),
            ("p1-branch-propagation/clin255+CSE531_project1/input.json", "p1-branch-propagation/navarro165+Lamports-Logical-Clock/expected_output.json"),
            ("p1-branch-propagation/clin255+CSE531_project1/input.json", "p2-lamport-clocks/clin255+CSE531_project2/output_project_2.json"),
            ("p2-lamport-clocks/jthak002+cse531/input.json", "p2-lamport-clocks/ychen404+CSE531_Grading/customer_events.json"),
            ("p2-lamport-clocks/swantrace+cse531_project2/input.json", "p2-lamport-clocks/swantrace+cse531_project2/output.customer.json"),
            ("p2-lamport-clocks/anuragbnrj+cse531/input_10.json", "p2-lamport-clocks/anuragbnrj+cse531/customer_events.json"),
            ("p3-client-consistency/swantrace+cse531_project3/input.monotonic_writes.json", "p3-client-consistency/swantrace+cse531_project3/output.monotonic_writes.json"),
            ("p3-client-consistency/swantrace+cse531_project3/input.monotonic_writes.json", "p3-client-consistency/CliffordCheefoon+C.Cheefoon-ASU-CSE_531-Project_3/output.json"),
            ("p3-client-consistency/swantrace+cse531_project3/input.read_writes.json", "p3-client-consistency/swantrace+cse531_project3/output.read_writes.json"),
            ("p3-client-consistency/clin255+CSE531_project3/input.json", "p3-client-consistency/clin255+CSE531_project3/output_project3.json"),
            ("p3-client-consistency/anuragbnrj+cse531/input_sample.json", "p3-client-consistency/anuragbnrj+cse531/output_sample.json"),
            ("p3-client-consistency/anuragbnrj+cse531/input_big.json", "p3-client-consistency/jthak002+cse531/customer_output.1.json"),
            ("p3-client-consistency/jthak002+cse531/input_big.json", "p3-client-consistency/jthak002+cse531/customer_output.1.json"),
        ];
        for (input_file, output) in cases {
            let grade = grade_files(&input(input_file), &[output]);
            assert!(grade.exact, "{output}: {:#?}", grade.problems);
            assert!(grade.valid, "{output}: {:#?}", grade.problems);
        }
    }

    #[test]
    fn a_changed_value_is_one_difference_at_its_place() {
        let scenario = input("p1-branch-propagation/jthak002+cse531/input_small.json");
        let text =
            crate::grade::testutil::fixture("p1-branch-propagation/anuragbnrj+cse531/output.json")
                .replace("\"balance\": 570", "\"balance\": 571");
        let grade = crate::grade::testutil::grade_texts(&scenario, &[("out.json", &text)]);
        let differs: Vec<&Problem> =
            grade.problems.iter().filter(|p| p.kind == ProblemKind::Differs).collect();
        assert_eq!(differs.len(), 1, "{:#?}", grade.problems);
        assert_eq!(differs[0].message, "\"balance\": 571, expected 570");
        assert_eq!(differs[0].place.as_ref().unwrap().path.to_string(), "$[1].recv[1]");
        assert!(!grade.exact);
    }
}
