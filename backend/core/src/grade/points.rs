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

/// The most points one category may be worth: a grade book holds plain
/// numbers, never NaN, a negative weight or one of 301 digits.
pub const MAX_POINTS: f64 = 1000.0;

/// Points per category (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Points {
    #[serde(deserialize_with = "weight")]
    pub exact: f64,
    #[serde(deserialize_with = "weight")]
    pub answers: f64,
    #[serde(deserialize_with = "weight")]
    pub balances: f64,
    #[serde(deserialize_with = "weight")]
    pub clocks: f64,
    #[serde(deserialize_with = "weight")]
    pub propagation: f64,
    #[serde(deserialize_with = "weight")]
    pub guarantees: f64,
}

/// One category's points: a number from 0 to [`MAX_POINTS`].
fn weight<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    use serde::de::Error;
    let expected = || format!("expected a number of points from 0 to {MAX_POINTS} (like 2 or 2.5)");
    let w = f64::deserialize(d).map_err(|_: D::Error| D::Error::custom(expected()))?;
    if !(0.0..=MAX_POINTS).contains(&w) {
        // 1e300 as written, not as its 301 digits.
        let found = if w.abs() >= 1e9 { format!("{w:e}") } else { format!("{w}") };
        return Err(D::Error::custom(format!("{}, found {found}", expected())));
    }
    Ok(w)
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
        // Summed from 0.0: `Iterator::sum` of no f64 is -0.0 (printed "-0").
        let max = categories.iter().map(|c| self.of(*c)).fold(0.0, |a, b| a + b);
        if grade.unreadable {
            return Score { earned: 0.0, max };
        }
        let earned = categories
            .iter()
            .filter(|c| !grade.problems.iter().any(|p| p.kind.category() == Some(**c)))
            .map(|c| self.of(*c))
            .fold(0.0, |a, b| a + b);
        Score { earned, max }
    }
}
