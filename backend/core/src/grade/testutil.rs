//! Test helpers: course fixtures, graded.

use super::{grade, Expected, Grade, Points, SubmittedFile};
use crate::scenario::Scenario;

/// The text of a file under `testdata/formats/`.
pub(crate) fn fixture(rel: &str) -> String {
    let path = format!("{}/../../testdata/formats/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A course input under `testdata/formats/`, parsed.
pub(crate) fn input(rel: &str) -> Scenario {
    crate::formats::parse_input(&fixture(rel), rel).unwrap_or_else(|e| panic!("{e}"))
}

/// Grades texts as one submission.
pub(crate) fn grade_texts(scenario: &Scenario, files: &[(&str, &str)]) -> Grade {
    let expected = Expected::new(scenario);
    let files: Vec<SubmittedFile> =
        files.iter().map(|(name, text)| SubmittedFile::new(*name, *text)).collect();
    grade(scenario, &expected, &files, None)
}

/// Grades fixture files as one submission.
pub(crate) fn grade_files(scenario: &Scenario, rels: &[&str]) -> Grade {
    let texts: Vec<(String, String)> = rels.iter().map(|r| ((*r).to_owned(), fixture(r))).collect();
    let files: Vec<(&str, &str)> = texts.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    grade_texts(scenario, &files)
}

/// A p1 points file: exact 10, answers 20, balances 70.
pub(crate) fn p1_points() -> Points {
    Points {
        exact: 10.0,
        answers: 20.0,
        balances: 70.0,
        clocks: 0.0,
        propagation: 0.0,
        guarantees: 0.0,
    }
}
