//! Points for a grade book: how much each category of checks is worth.
//!
//! A submission earns a category's points when it has no problem of that
//! category ([`Category`]); categories that do not apply to its format
//! (clocks for project 1) are left out of its maximum. An unreadable
//! submission earns nothing. The instructor writes the weights in a small
//! TOML file (`bank grade --points points.toml`), read at the command's
//! edge into [`Points`]:
//!
//! ```toml
//! exact = 2         # equal to bank run's output
//! answers = 2       # every event answered once, in order, right names
//! balances = 3      # balances and results of some legal execution
//! clocks = 3        # Lamport rules (project 2)
//! propagation = 2   # every write to every other branch once (project 2)
//! guarantees = 3    # Read Your Writes, Monotonic Writes (project 3)
//! ```
//!
//! A category left out of the file is worth 0.

use serde::Deserialize;

use super::problem::Category;
use super::Grade;

/// Points per category (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Points {
    pub exact: f64,
    pub answers: f64,
    pub balances: f64,
    pub clocks: f64,
    pub propagation: f64,
    pub guarantees: f64,
}

/// A submission's score and the most it could have had.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    pub earned: f64,
    pub max: f64,
}

impl Points {
    /// What one category is worth.
    pub fn of(&self, category: Category) -> f64 {
        match category {
            Category::Exact => self.exact,
            Category::Answers => self.answers,
            Category::Balances => self.balances,
            Category::Clocks => self.clocks,
            Category::Propagation => self.propagation,
            Category::Guarantees => self.guarantees,
        }
    }

    /// The score of a graded submission.
    pub fn score(&self, grade: &Grade) -> Score {
        let categories = grade.categories();
        let max = categories.iter().map(|c| self.of(*c)).sum();
        if grade.unreadable {
            return Score { earned: 0.0, max };
        }
        let earned = categories
            .iter()
            .filter(|c| !grade.problems.iter().any(|p| p.kind.category() == Some(**c)))
            .map(|c| self.of(*c))
            .sum();
        Score { earned, max }
    }
}
