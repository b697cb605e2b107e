//! "Check a submission": a student's output graded against the loaded
//! scenario by `bank_core::grade` (the grader of `bank grade`, run here in
//! the page), and each problem followed to the event of the trace that
//! produced the same line of output.
//!
//! The grader says which event a problem is about in the run's own terms
//! ([`EventRef`]: a customer's request or answer, a branch's log entry of
//! some kind); [`event_index`] finds that event in the lab's recorded
//! history, so clicking a problem can move the cursor there. The lab's run
//! need not be the one the student's output came from; the event found is
//! the same request's (same customer, event id, branch, kind), the one
//! with the clock the student printed where several fit.

use bank_core::experiment::parse_experiment;
use bank_core::grade::{self, report, EventRef, Expected, Grade, ProblemKind, SubmittedFile};
use bank_proto::{lab_event::Event, LabEvent};

use super::trace::Trace;

/// One line of the report, linked to its event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportLine {
    pub kind: ProblemKind,
    /// `file:line:col: path: subject: message`, as `bank grade` prints it.
    pub text: String,
    /// Only a difference from `bank run`'s output (not a validity problem).
    pub difference: bool,
    /// The trace index of the event it is about, if the trace has it.
    pub event: Option<usize>,
}

/// A graded submission, as the panel shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub exact: bool,
    pub valid: bool,
    pub unreadable: bool,
    /// `p2a exact ✗, valid ✓ (...)`.
    pub summary: String,
    /// Validity problems first, then the differences, each in the order
    /// the grader reported them.
    pub lines: Vec<ReportLine>,
}

/// Grades `submission` (the text of one output file, named `name`) against
/// the scenario `input` (a course input or an experiment, as loaded).
/// `Err` if the scenario itself cannot be read.
pub fn grade_text(input: &str, name: &str, submission: &str) -> Result<Grade, String> {
    let scenario = parse_experiment(input, "scenario").map_err(|e| e.to_string())?.scenario;
    let expected = Expected::new(&scenario);
    let files = [SubmittedFile::new(name, submission)];
    Ok(grade::grade(&scenario, &expected, &files, None))
}

/// The report of `grade`, each line linked into `trace`.
pub fn checked(grade: &Grade, trace: &Trace) -> Checked {
    let line = |p: &grade::Problem| ReportLine {
        kind: p.kind,
        text: p.line(&grade.files),
        difference: p.kind == ProblemKind::Differs,
        event: p.event.as_deref().and_then(|e| event_index(trace, e)),
    };
    let problems = grade.problems.iter();
    let mut lines: Vec<ReportLine> =
        problems.clone().filter(|p| p.kind != ProblemKind::Differs).map(line).collect();
    lines.extend(problems.filter(|p| p.kind == ProblemKind::Differs).map(line));
    Checked {
        exact: grade.exact,
        valid: grade.valid,
        unreadable: grade.unreadable,
        summary: report::summary(grade),
        lines,
    }
}

/// The trace index of the event `event` names, if the trace has it.
pub fn event_index(trace: &Trace, event: &EventRef) -> Option<usize> {
    let events = trace.events();
    let find = |is_it: &dyn Fn(&LabEvent) -> bool| events.iter().position(is_it);
    match *event {
        EventRef::CustomerAnswered { customer, event } => find(&|e| match &e.event {
            Some(Event::CustomerAnswered(a)) => {
                !a.from_browser
                    && a.customer_id == customer
                    && a.reply.as_ref().is_some_and(|r| r.event_id == event)
            }
            _ => false,
        })
        .or_else(|| {
            branch_entry(events, None, event, Some(bank_core::LogKind::Response), None, None)
        }),
        EventRef::CustomerSent { customer, event } => find(&|e| match &e.event {
            Some(Event::CustomerSent(s)) => {
                !s.from_browser
                    && s.request
                        .as_ref()
                        .is_some_and(|r| r.customer_id == customer && r.event_id == event)
            }
            _ => false,
        }),
        EventRef::Branch { branch, event, kind, peer, clock } => {
            branch_entry(events, branch, event, Some(kind), peer, clock)
                // The lab's run may log that step elsewhere (or not at all):
                // the request's first entry at that branch.
                .or_else(|| branch_entry(events, branch, event, None, None, None))
        }
    }
}

/// The branch log entry for request `event` (at `branch`, of `kind`, with
/// `peer`, where given): the one with `clock` if several fit, else the first.
fn branch_entry(
    events: &[LabEvent],
    branch: Option<u64>,
    event: u64,
    kind: Option<bank_core::LogKind>,
    peer: Option<u64>,
    clock: Option<u64>,
) -> Option<usize> {
    let wanted = kind.map(bank_proto::LogKind::from);
    let fits: Vec<(usize, u64)> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match &e.event {
            Some(Event::BranchLogged(l)) => {
                let entry = l.entry.as_ref()?;
                let ok = entry.event_id == event
                    && branch.is_none_or(|b| b == l.branch_id)
                    && wanted.is_none_or(|k| entry.kind == k as i32)
                    && peer.is_none_or(|p| p == entry.peer);
                ok.then_some((i, entry.clock))
            }
            _ => None,
        })
        .collect();
    clock.and_then(|c| fits.iter().find(|(_, at)| *at == c)).or(fits.first()).map(|(i, _)| *i)
}
