//! # Grading students' outputs: `bank grade`
//!
//! The course's graders compare a student's output with one sample, so a
//! correct run whose customers interleaved differently fails, and a wrong
//! one that happens to match the sample's shape passes. This module grades
//! against the *input*: a submission is checked two ways, and every
//! difference is explained on one line with its file, JSON path and
//! line:column.
//!
//! * **exact** ([`exact`]): equal to what `bank run` prints for the
//!   format's default schedule, after normalising what the course never
//!   fixed ([`normalize`]: key order, `400` vs `400.0`, the
//!   `propagate`/`propogate`/`broadcast` spellings, upper/lower case, the
//!   order of the p2b all-events list).
//! * **valid** ([`valid`]): consistent with *some* legal execution of the
//!   input, so a correct concurrent run passes:
//!   - *answers*: every customer event answered (or logged) once, in order,
//!     with the right interface, branch and names;
//!   - *balances*: every query answer is a balance the writes it can have
//!     seen give; no withdraw succeeds that no execution covers (an
//!     overdraft) and none fails that every execution covers; and all of
//!     them together are given by one execution ([`valid::one_run`]: a
//!     branch never "unsees" a write, a write is at its own branch first,
//!     a customer's writes go out one after another);
//!   - *clocks* (project 2): each branch's clocks strictly increase in its
//!     own order; every receive is later than its send by the format's rule
//!     (`max(local, message) + 1`), the customer's request included;
//!   - *propagation* (project 2): every write sent to, and received by,
//!     every other branch exactly once, the sender named right (not the
//!     receiver), the lists of one submission agreeing with each other;
//!   - *guarantees* (project 3): every read reflects the session's own
//!     earlier writes (Read Your Writes) and its writes apply in order
//!     everywhere (Monotonic Writes).
//!
//! The pieces, in the order a submission goes through them:
//!
//! | file | what it does |
//! |---|---|
//! | [`detect`] | read a file (array, JSON Lines, `//` parts) and tell its format by content |
//! | [`normalize`] | typed answers, forgiving what the course never fixed |
//! | [`exact`] | the expected output (the simulator under `bank run`'s conventions) and the comparison |
//! | [`valid`] | the checks against every legal execution |
//! | [`problem`] | [`Problem`]: kind, place, subject, message |
//! | [`event`] | which event of the run a problem is about ([`EventRef`]), for the browser |
//! | [`locate`] | JSON path → line:column, when a report is printed |
//! | [`describe`] | the wording of events and amounts |
//! | [`shown`] | a submission's strings and values as messages repeat them (JSON, cut short) |
//! | [`points`] | points per check category, for a grade book |
//! | [`report`] | one submission or a class: text, CSV, JSON, Markdown |
//!
//! Everything is pure: the caller reads the files (the `bank grade` command
//! walks folders) and prints the report.

pub mod describe;
pub mod detect;
pub mod event;
pub mod exact;
pub mod locate;
pub mod normalize;
pub mod points;
pub mod problem;
pub mod report;
pub mod shown;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;
pub mod valid;

pub use event::EventRef;
pub use exact::Expected;
pub use points::Points;
pub use problem::{Category, JsonPath, Place, Problem, ProblemKind};

use std::collections::BTreeSet;

use crate::formats::OutputFormat;
use crate::scenario::{InputShape, Scenario};

/// One file of a submission: its name (for messages) and its text, or
/// why it could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmittedFile {
    pub name: String,
    pub text: String,
    /// Why the file could not be read (then `text` is empty).
    pub cannot_read: Option<String>,
}

impl SubmittedFile {
    /// A file read as `text`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SubmittedFile {
        SubmittedFile { name: name.into(), text: text.into(), cannot_read: None }
    }

    /// A file that could not be read, and why ("it is a FIFO, not a
    /// regular file"): graded as unreadable, with that reason.
    pub fn unreadable(name: impl Into<String>, why: impl Into<String>) -> SubmittedFile {
        SubmittedFile { name: name.into(), text: String::new(), cannot_read: Some(why.into()) }
    }
}

/// A key written twice in one object of a submitted file: JSON readers
/// keep one of the two (serde_json and Python the last), so what the
/// student's program meant is not known. Graded with the last, and said.
fn duplicate_key(file: usize, text: &str) -> Option<Problem> {
    let duplicate = crate::formats::find_duplicate_key(text)?;
    let index = crate::formats::position::LineIndex::new(text);
    let (first_line, first_column) = index.line_col(duplicate.first);
    let (line, column) = index.line_col(duplicate.second);
    let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let mut place = Place::file(file);
    place.line_col = Some((narrow(line), narrow(column)));
    let message = format!(
        "{} appears twice in one object (first at line {first_line}, column {first_column}); \
         readers keep one of the two, so the answer is ambiguous (graded with the second): \
         keep one",
        shown::quoted(&duplicate.key)
    );
    Some(Problem::new(ProblemKind::Malformed, Some(place), "", message))
}

/// The verdict on one submission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grade {
    /// The names of the submission's files (problems point into them).
    pub files: Vec<String>,
    /// The format graded (detected or forced); `None` if none could be read.
    pub format: Option<OutputFormat>,
    /// Equal to `bank run`'s output (after normalising).
    pub exact: bool,
    /// Consistent with some legal execution of the input.
    pub valid: bool,
    /// Some file could not be graded at all (not JSON, empty, another project).
    pub unreadable: bool,
    /// Every problem, exact ones first, each located.
    pub problems: Vec<Problem>,
}

impl Grade {
    /// The categories that apply to the graded format.
    pub fn categories(&self) -> Vec<Category> {
        self.format.map_or_else(|| Category::ALL.to_vec(), categories)
    }
}

/// The categories of checks that apply to a format.
pub fn categories(format: OutputFormat) -> Vec<Category> {
    use Category::*;
    match format {
        OutputFormat::P1 | OutputFormat::P1Money => vec![Exact, Answers, Balances],
        OutputFormat::P2a | OutputFormat::P2b => vec![Exact, Answers, Clocks, Propagation],
        OutputFormat::P3 => vec![Exact, Answers, Balances, Guarantees],
    }
}

/// The output formats that go with an input's shape.
pub fn formats_for(shape: InputShape) -> &'static [OutputFormat] {
    match shape {
        InputShape::Events => &[OutputFormat::P1, OutputFormat::P1Money, OutputFormat::P2a],
        InputShape::CustomerRequests => &[OutputFormat::P2b],
        InputShape::EventsWithDest | InputShape::EventsWithBranch => &[OutputFormat::P3],
    }
}

fn shape_name(shape: InputShape) -> &'static str {
    match shape {
        InputShape::Events => {
            "a project 1 / project 2 generation A input (customers with \"events\")"
        }
        InputShape::CustomerRequests => "a project 2 generation B input (\"customer-requests\")",
        InputShape::EventsWithDest => "a project 3 input (events with \"dest\")",
        InputShape::EventsWithBranch => "a project 3 input (events with \"branch\")",
    }
}

/// What a grader is told before grading against `scenario`: the checks
/// its size leaves out (see [`valid::one_run::MAX_READS`]).
pub fn notes(scenario: &Scenario) -> Vec<String> {
    use crate::op::Op;
    let reads = scenario
        .customers
        .iter()
        .flat_map(|c| &c.events)
        .filter(|e| matches!(e.op, Op::Query | Op::Withdraw(_)))
        .count();
    let max = valid::one_run::MAX_READS;
    if reads <= max {
        return Vec::new();
    }
    vec![format!(
        "the input has {reads} reads (queries and withdraws), more than {max}: each read is \
         checked on its own, but not whether one execution explains all of them together"
    )]
}

/// Grades one submission (one or more files) against the input.
/// `expected` is [`Expected::new`] of the same scenario, shared by a
/// whole class (each format runs once); `forced` is `--format`.
pub fn grade(
    scenario: &Scenario,
    expected: &Expected<'_>,
    files: &[SubmittedFile],
    forced: Option<OutputFormat>,
) -> Grade {
    let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
    let mut problems = Vec::new();
    let mut parts = Vec::new();
    for (i, file) in files.iter().enumerate() {
        if let Some(why) = &file.cannot_read {
            let mut problem = Problem::new(ProblemKind::CannotRead, None, "", why.clone());
            problem.place = Some(Place::file(i));
            problems.push(problem);
            continue;
        }
        if let Some(problem) = duplicate_key(i, &file.text) {
            problems.push(problem);
        }
        match detect::read_parts(i, &file.text) {
            Ok(p) => parts.extend(p),
            Err(mut problem) => {
                problem.place = Some(Place::file(i));
                problems.push(problem);
            }
        }
    }
    let finish = |format, mut problems: Vec<Problem>| {
        let texts: Vec<&str> = files.iter().map(|f| f.text.as_str()).collect();
        let places =
            problems.iter_mut().filter_map(|p| p.place.as_mut()).filter(|p| !p.path.0.is_empty());
        locate::locate_all(&texts, places);
        let unreadable = problems.iter().any(|p| p.kind.is_unreadable());
        // A value that could not be read differs from bank run's too.
        let exact = !unreadable
            && !problems.iter().any(|p| {
                matches!(
                    p.kind,
                    ProblemKind::Differs | ProblemKind::Malformed | ProblemKind::UnknownName
                )
            });
        let valid = !unreadable && problems.iter().all(|p| p.kind == ProblemKind::Differs);
        Grade { files: names.clone(), format, exact, valid, unreadable, problems }
    };
    if parts.is_empty() {
        return finish(None, problems);
    }

    let allowed = formats_for(scenario.shape);
    let detected: Vec<OutputFormat> = parts.iter().map(|p| p.kind.format()).collect();
    let is_p1 = |f: &OutputFormat| matches!(f, OutputFormat::P1 | OutputFormat::P1Money);
    let format = match forced {
        Some(f) if detected.iter().all(|d| *d == f || (is_p1(d) && is_p1(&f))) => f,
        Some(f) => {
            let part = parts.iter().find(|p| p.kind.format() != f).expect("some part differs");
            problems.push(Problem::new(
                ProblemKind::WrongProject,
                Some(Place::file(part.file)),
                "",
                format!("--format {f} was asked for, but this file is {}", part.kind.describe()),
            ));
            return finish(Some(f), problems);
        }
        None if detected.iter().all(is_p1) => {
            if detected.contains(&OutputFormat::P1Money) {
                OutputFormat::P1Money
            } else {
                OutputFormat::P1
            }
        }
        None if detected.iter().all(|d| *d == detected[0]) => detected[0],
        None => {
            let list: Vec<String> = parts
                .iter()
                .map(|p| format!("{} is {}", names[p.file], p.kind.describe()))
                .collect();
            problems.push(Problem::new(
                ProblemKind::WrongProject,
                None,
                "",
                format!("the files are of different formats: {}", list.join("; ")),
            ));
            return finish(None, problems);
        }
    };
    // `--format` asked for another project's output of this input: what
    // `bank run --format` prints for it, so it is graded as asked.
    if !allowed.contains(&format) && forced.is_none() {
        let part = &parts[0];
        let expected_list: Vec<&str> = allowed.iter().map(|f| f.as_str()).collect();
        problems.push(Problem::new(
            ProblemKind::WrongProject,
            Some(Place::file(part.file)),
            "",
            format!(
                "this is {}, but the input is {}: expected {} output (or, if this is what \
                 `bank run --format {format}` printed for it, grade it with --format {format})",
                part.kind.describe(),
                shape_name(scenario.shape),
                expected_list.join(" or ")
            ),
        ));
        return finish(Some(format), problems);
    }

    // One output per student: two files that each hold one would be read
    // as one output with every answer twice (a stale `output_old.json`
    // beside the real one). Only project 2 generation B is split in files.
    let holding: BTreeSet<usize> = parts.iter().map(|p| p.file).collect();
    if format != OutputFormat::P2b && holding.len() > 1 {
        let list: Vec<&str> = holding.iter().map(|&f| names[f].as_str()).collect();
        problems.push(Problem::new(
            ProblemKind::WrongProject,
            None,
            "",
            format!(
                "{} files each hold a {format} output ({}): hand in one (the grader cannot tell \
                 which one is meant)",
                holding.len(),
                list.join(", ")
            ),
        ));
        return finish(Some(format), problems);
    }
    let (normal, read_problems) = normalize::normalize(&parts);
    match expected.normal(format) {
        Ok(want) => problems.extend(exact::compare(format, want, &normal)),
        Err(e) => problems.push(Problem::new(
            ProblemKind::Differs,
            None,
            "",
            format!("no exact comparison: the input does not finish in the simulator ({e})"),
        )),
    }
    problems.extend(read_problems);
    problems.extend(valid::check(format, scenario, &normal));
    event::attach(&event::items(scenario, &normal), &mut problems);
    finish(Some(format), problems)
}
