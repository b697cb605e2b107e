//! Test helpers: a stand-in for a run, so writers can be checked against the
//! course's expected files without the branch cluster.

use crate::formats::parse_input;
use crate::money::Cents;
use crate::op::{FailReason, Op, Outcome};
use crate::record::{CustomerRecord, EventResult, RunRecord};
use crate::scenario::Scenario;

/// Parses a fixture file, panicking with the error (tests only).
pub(crate) fn parse_fixture(path: &str) -> Scenario {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_input(&text, path).unwrap_or_else(|e| panic!("{e}"))
}

/// The course's "sequential" convention: every event, in input order, on one
/// shared balance (the first branch's starting balance). No branch logs.
pub(crate) fn replay_sequentially(scenario: &Scenario) -> RunRecord {
    let mut balance = scenario.branches.first().map_or(Cents::ZERO, |b| b.balance);
    let mut completion = 0;
    let customers = scenario
        .customers
        .iter()
        .map(|customer| {
            let results = customer
                .events
                .iter()
                .enumerate()
                .map(|(i, event)| {
                    let outcome = match event.op {
                        Op::Deposit(amount) => {
                            balance = Cents(balance.0 + amount.0);
                            Outcome::Success { balance }
                        }
                        Op::Withdraw(amount) if amount <= balance => {
                            balance = Cents(balance.0 - amount.0);
                            Outcome::Success { balance }
                        }
                        Op::Withdraw(requested) => Outcome::Failed {
                            reason: FailReason::InsufficientFunds { requested, balance },
                            balance,
                        },
                        Op::Query => Outcome::Success { balance },
                    };
                    completion += 1;
                    EventResult {
                        event: event.id,
                        op: event.op.kind(),
                        branch: event.branch,
                        outcome,
                        customer_clock: i as u64 + 1,
                        completion: completion - 1,
                        write: None,
                        observed: None,
                    }
                })
                .collect();
            CustomerRecord { customer: customer.id, results }
        })
        .collect();
    RunRecord { customers, branches: Vec::new() }
}
