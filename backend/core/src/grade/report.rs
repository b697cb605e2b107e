//! The report: one submission's problems, or a class's grade book.
//!
//! One [`Entry`] per student (the sub-folder's name, or the file's). The
//! [`Style`]s carry the same facts:
//!
//! * **text** (the terminal): a table, then every problem of every student
//!   on its own line, `file:line:col: $.path: event: what and why`;
//! * **CSV** (a grade book to import): one row per student;
//! * **JSON** (tools): every student with every problem, typed;
//! * **Markdown** (an issue or a course page): the table, then the
//!   problems per student.
//!
//! The table's columns: student, format, exact ✓/✗, valid ✓/✗, the number
//! of problems that cost validity, score (with `--points`) and the first of
//! them. A valid concurrent run differs from `bank run`'s output in every
//! clock, so text and Markdown show only its first few differences (JSON
//! has all).

use serde_json::{json, Value};

use super::points::{Points, Score};
use super::problem::{Problem, ProblemKind};
use super::Grade;

/// One student's graded submission.
#[derive(Clone, Debug)]
pub struct Entry {
    pub student: String,
    pub grade: Grade,
}

/// How the report is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Text,
    Csv,
    Json,
    Markdown,
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "✓"
    } else {
        "✗"
    }
}

/// The problem the table shows: the first that costs validity.
pub fn first_problem(grade: &Grade) -> Option<&Problem> {
    grade.problems.iter().find(|p| p.kind != ProblemKind::Differs)
}

/// How many differences from `bank run`'s output the text reports show;
/// a valid concurrent run differs in every clock, so the rest are counted.
pub const SHOWN_DIFFERENCES: usize = 3;

/// The lines a person reads: every problem that costs validity, then the
/// first few differences from `bank run`'s output and how many more.
pub fn explained(grade: &Grade) -> Vec<String> {
    let mut lines: Vec<String> = grade
        .problems
        .iter()
        .filter(|p| p.kind != ProblemKind::Differs)
        .map(|p| p.line(&grade.files))
        .collect();
    let differences: Vec<&Problem> =
        grade.problems.iter().filter(|p| p.kind == ProblemKind::Differs).collect();
    lines.extend(
        differences
            .iter()
            .take(SHOWN_DIFFERENCES)
            .map(|p| format!("{} (differs from bank run's output)", p.line(&grade.files))),
    );
    if differences.len() > SHOWN_DIFFERENCES {
        lines.push(format!(
            "... and {} more differences from bank run's output (--json lists them all)",
            differences.len() - SHOWN_DIFFERENCES
        ));
    }
    lines
}

/// The number of problems that cost validity.
fn invalid_count(grade: &Grade) -> usize {
    grade.problems.iter().filter(|p| p.kind != ProblemKind::Differs).count()
}

fn format_name(grade: &Grade) -> String {
    grade.format.map_or_else(|| "?".to_owned(), |f| f.as_str().to_owned())
}

fn score_text(score: Option<Score>) -> String {
    score.map_or_else(String::new, |s| format!("{}/{}", number(s.earned), number(s.max)))
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        // 12.50 -> 12.5; 0.000000001 -> 0 (not "0.").
        format!("{x:.2}").trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

struct Row {
    student: String,
    format: String,
    exact: &'static str,
    valid: &'static str,
    problems: String,
    score: String,
    first: String,
}

fn rows(entries: &[Entry], points: Option<&Points>) -> Vec<Row> {
    entries
        .iter()
        .map(|e| Row {
            student: e.student.clone(),
            format: format_name(&e.grade),
            exact: mark(e.grade.exact),
            valid: mark(e.grade.valid),
            problems: invalid_count(&e.grade).to_string(),
            score: score_text(points.map(|p| p.score(&e.grade))),
            first: first_problem(&e.grade).map(|p| p.line(&e.grade.files)).unwrap_or_default(),
        })
        .collect()
}

/// The whole report. `class`: a table for several students (else only the
/// one submission's problems and a summary line).
pub fn render(entries: &[Entry], style: Style, points: Option<&Points>, class: bool) -> String {
    match style {
        Style::Text if class => text_table(entries, points),
        Style::Text => entries.iter().map(|e| text_single(e, points)).collect(),
        Style::Csv => csv(entries, points),
        Style::Json => {
            let mut text = serde_json::to_string_pretty(&json_value(entries, points))
                .unwrap_or_else(|_| "[]".to_owned());
            text.push('\n');
            text
        }
        Style::Markdown => markdown(entries, points),
    }
}

/// One line: the format, exact ✓/✗, valid ✓/✗ and the counts of both kinds.
pub fn summary(grade: &Grade) -> String {
    let differences = grade.problems.iter().filter(|p| p.kind == ProblemKind::Differs).count();
    let invalid = grade.problems.len() - differences;
    format!(
        "{} exact {}, valid {} ({differences} difference(s) from bank run's output, {invalid} problem(s) no legal execution has)",
        format_name(grade),
        mark(grade.exact),
        mark(grade.valid)
    )
}

fn text_single(entry: &Entry, points: Option<&Points>) -> String {
    let mut out = String::new();
    for line in explained(&entry.grade) {
        out += &line;
        out.push('\n');
    }
    out += &format!("{}: {}", entry.student, summary(&entry.grade));
    if let Some(points) = points {
        out += &format!(", score {}", score_text(Some(points.score(&entry.grade))));
    }
    out.push('\n');
    out
}

fn text_table(entries: &[Entry], points: Option<&Points>) -> String {
    let rows = rows(entries, points);
    let mut header = vec!["student", "format", "exact", "valid", "problems"];
    if points.is_some() {
        header.push("score");
    }
    header.push("first problem");
    let cells = |r: &Row| {
        let mut c = vec![
            r.student.clone(),
            r.format.clone(),
            r.exact.into(),
            r.valid.into(),
            r.problems.clone(),
        ];
        if points.is_some() {
            c.push(r.score.clone());
        }
        c.push(r.first.clone());
        c
    };
    let all: Vec<Vec<String>> = rows.iter().map(cells).collect();
    let widths: Vec<usize> = (0..header.len() - 1)
        .map(|i| {
            all.iter().map(|c| c[i].chars().count()).chain([header[i].len()]).max().unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i < widths.len() {
                s += &format!("{c}{}  ", " ".repeat(widths[i] - c.chars().count()));
            } else {
                s += c;
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.iter().map(|h| (*h).to_owned()).collect());
    for c in all {
        out += &line(c);
    }
    let valid = entries.iter().filter(|e| e.grade.valid).count();
    out += &format!("\n{valid} of {} submission(s) valid\n", entries.len());
    for e in entries.iter().filter(|e| !e.grade.problems.is_empty()) {
        out += &format!("\n{}:\n", e.student);
        for line in explained(&e.grade) {
            out += &format!("  {line}\n");
        }
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn csv(entries: &[Entry], points: Option<&Points>) -> String {
    let mut out = String::from("student,format,exact,valid,problems,score,max,first_problem\n");
    for e in entries {
        let score = points.map(|p| p.score(&e.grade));
        let first = first_problem(&e.grade).map(|p| p.line(&e.grade.files)).unwrap_or_default();
        let fields = [
            e.student.clone(),
            format_name(&e.grade),
            e.grade.exact.to_string(),
            e.grade.valid.to_string(),
            invalid_count(&e.grade).to_string(),
            score.map(|s| number(s.earned)).unwrap_or_default(),
            score.map(|s| number(s.max)).unwrap_or_default(),
            first,
        ];
        out += &fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
        out.push('\n');
    }
    out
}

fn problem_json(p: &Problem, files: &[String]) -> Value {
    let place = p.place.as_ref();
    json!({
        "kind": p.kind.as_str(),
        "category": p.kind.category().map(|c| c.as_str()),
        "file": place.and_then(|pl| files.get(pl.file)),
        "path": place.map(|pl| pl.path.to_string()),
        "line": place.and_then(|pl| pl.line_col).map(|(l, _)| l),
        "column": place.and_then(|pl| pl.line_col).map(|(_, c)| c),
        "subject": p.subject,
        "message": p.message,
        "text": p.line(files),
    })
}

fn json_value(entries: &[Entry], points: Option<&Points>) -> Value {
    entries
        .iter()
        .map(|e| {
            let score = points.map(|p| p.score(&e.grade));
            json!({
                "student": e.student,
                "files": e.grade.files,
                "format": e.grade.format.map(|f| f.as_str()),
                "exact": e.grade.exact,
                "valid": e.grade.valid,
                "unreadable": e.grade.unreadable,
                "score": score.map(|s| s.earned),
                "max": score.map(|s| s.max),
                "problems": e.grade.problems.iter().map(|p| problem_json(p, &e.grade.files)).collect::<Vec<_>>(),
            })
        })
        .collect()
}

fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn markdown(entries: &[Entry], points: Option<&Points>) -> String {
    let with_score = points.is_some();
    let mut out = String::from("| student | format | exact | valid | problems |");
    out += if with_score { " score | first problem |\n" } else { " first problem |\n" };
    out +=
        if with_score { "|---|---|---|---|---|---|---|\n" } else { "|---|---|---|---|---|---|\n" };
    for r in rows(entries, points) {
        out += &format!(
            "| {} | {} | {} | {} | {} |",
            md(&r.student),
            r.format,
            r.exact,
            r.valid,
            r.problems
        );
        if with_score {
            out += &format!(" {} |", r.score);
        }
        out += &format!(
            " {} |\n",
            if r.first.is_empty() {
                String::new()
            } else {
                format!("`{}`", r.first.replace('`', "'"))
            }
        );
    }
    for e in entries.iter().filter(|e| !e.grade.problems.is_empty()) {
        out += &format!("\n### {}\n\n", md(&e.student));
        for line in explained(&e.grade) {
            out += &format!("- `{}`\n", line.replace('`', "'"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_print_as_plain_numbers() {
        assert_eq!(number(70.0), "70");
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(0.333), "0.33");
        // Before: "0." and "-0".
        assert_eq!(number(1e-9), "0");
        let nothing = crate::grade::testutil::p1_points();
        let every_check_failed = Grade {
            files: vec!["a.json".into()],
            format: Some(crate::formats::OutputFormat::P1),
            exact: false,
            valid: false,
            unreadable: false,
            problems: [ProblemKind::Differs, ProblemKind::Malformed, ProblemKind::WrongBalance]
                .into_iter()
                .map(|kind| Problem::new(kind, None, "", "x"))
                .collect(),
        };
        let score = nothing.score(&every_check_failed);
        assert_eq!(score.earned, 0.0);
        assert!(score.earned.is_sign_positive(), "{score:?}");
        assert_eq!(score_text(Some(score)), "0/100");
    }
}
