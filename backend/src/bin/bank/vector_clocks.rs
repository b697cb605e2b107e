//! `bank sim --vector-clocks`: one simulated run, every event with its
//! vector clock.
//!
//! The run is the first seed's (the same one `--history` writes). Its
//! trace is read by [`bank_core::causality::trace`], which finds every
//! message's send and receive and gives each event one counter per lane
//! (branch or customer session): how many of that lane's events are in its
//! causal past. Two events are concurrent exactly when neither clock is
//! below the other, which the Lamport clock next to it cannot tell.

use bank_core::causality::trace::{Lane, TraceCausality};
use bank_core::scenario::Scenario;
use bank_core::sim::paced::Happened;
use bank_core::sim::{self, SimConfig};
use bank_core::trace::Traced;
use bank_core::Outcome;

use crate::exit::Failure;
use crate::stdout::outln;

/// Prints the lanes, then one line per event of `scenario`'s run under
/// `config`: trace index, lane, vector clock (zeros left out), and what
/// happened (a branch's line as `bank run --trace` narrates it, with its
/// Lamport clock).
pub fn print(scenario: &Scenario, config: &SimConfig, source: &str) -> Result<(), Failure> {
    let (_, happened) = sim::run_traced(scenario, config)
        .map_err(|e| Failure::bad_input(format!("{source}, seed {}: {e}", config.seed)))?;
    let items: Vec<Option<&Traced>> = happened
        .iter()
        .map(|(_, h)| match h {
            Happened::Traced(t) => Some(t),
            Happened::Network { .. } => None,
        })
        .collect();
    let causality = TraceCausality::of(items.iter().copied())
        .map_err(|e| anyhow::anyhow!("{source}, seed {}: the run's trace: {e}", config.seed))?;
    outln!(
        "vector clocks of {source}, seed {} ({} events, {} messages); lanes:",
        config.seed,
        items.iter().flatten().count(),
        causality.messages().len()
    )?;
    for lane in causality.lanes() {
        let name = lane.to_string();
        outln!("  {name:<4} {}", describe(*lane, scenario))?;
    }
    for (index, item) in items.iter().enumerate() {
        let (Some(item), Some(clock)) = (item, causality.clock(index)) else { continue };
        let lane = Lane::of(item).to_string();
        outln!("{index:>5} {lane:<4} {:<24} {}", causality.label(clock), narrate(item))?;
    }
    Ok(())
}

/// A lane in words: `branch 2`, `customer 3 (input entry 0)`.
fn describe(lane: Lane, scenario: &Scenario) -> String {
    match lane {
        Lane::Branch(b) => b.to_string(),
        Lane::Session(s) => match scenario.customers.get(s as usize) {
            Some(c) => format!("{} (input entry {s})", c.id),
            None => format!("session {s}"),
        },
        Lane::Browser => "the browser's customer".to_owned(),
    }
}

/// One traced item in words.
fn narrate(item: &Traced) -> String {
    match item {
        Traced::Logged { branch, entry, .. } => entry.narrate(*branch),
        Traced::Sent { request: r, .. } => {
            format!("{} sends {} to {}, {}", r.customer, r.op, r.branch, r.event)
        }
        Traced::Answered { reply: r, .. } => {
            let outcome = match &r.outcome {
                Outcome::Success { balance } => format!("success (balance {balance})"),
                Outcome::Failed { reason, .. } => format!("fail: {reason}"),
            };
            format!("{} gets {}'s answer for {}: {outcome}", r.customer, r.branch, r.event)
        }
    }
}
