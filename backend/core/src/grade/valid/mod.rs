//! The *valid* checks: could some legal execution of the input have
//! printed this?
//!
//! A correct concurrent run differs from the sample in its balances (who
//! saw whose writes) and its Lamport clocks (who went first), so these
//! checks never compare with one run: they check the properties every
//! legal run has, per format. Each file holds one family:
//!
//! | file | formats | checks |
//! |---|---|---|
//! | [`answers`] | p1, p1-money, p3 | every event answered in order; balances and results some execution gives; Read Your Writes, Monotonic Writes |
//! | [`lamport_a`] | p2a | steps of every write at every branch, clock rules, the `eventid` views |
//! | [`lamport_b`] | p2b | sends and receives of every request, clock rules, the three lists agree |
//! | [`one_run`] | p1, p1-money, p2 results, p3 | every read and result together explained by one execution |
//! | [`sums`] | | sets of possible balances |

pub mod answers;
pub mod lamport_a;
pub mod lamport_b;
pub mod one_run;
pub mod sums;

use super::normalize::Normal;
use super::problem::Problem;
use crate::formats::OutputFormat;
use crate::scenario::Scenario;

/// Every problem no legal execution would have.
pub fn check(format: OutputFormat, scenario: &Scenario, normal: &Normal) -> Vec<Problem> {
    match format {
        OutputFormat::P1 | OutputFormat::P1Money | OutputFormat::P3 => {
            answers::check(format, scenario, normal)
        }
        OutputFormat::P2a => lamport_a::check(scenario, normal),
        OutputFormat::P2b => lamport_b::check(scenario, normal),
    }
}
