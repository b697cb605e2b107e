//! `bank sim`: one input or experiment in the deterministic simulator over
//! many seeds, counting the anomalies the history checker finds.
//!
//! The simulator ([`bank_core::sim`], driven through [`bank_core::experiment::demo`])
//! runs the same branch code as the real cluster on a simulated network,
//! so thousands of schedules take a second. It prints one line of totals
//! and one per anomaly; a guarantee that was on and still broken is a bug,
//! printed with its seed, and ends with status 1. With `--vector-clocks`
//! it runs one seed and prints its events' vector clocks instead
//! ([`crate::vector_clocks`]).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Instant;

use bank_core::branch::PropagationMode;
use bank_core::check::Anomaly;
use bank_core::experiment::demo;
use bank_core::experiment::{self, Experiment};
use bank_core::formats::OutputFormat;
use bank_core::sim::SimConfig;

use crate::args::SimArgs;
use crate::exit::Failure;
use crate::input::read_input;
use crate::output::{writable_file, write_file};
use crate::stdout::outln;
use crate::vector_clocks;

/// The largest input file `bank sim` reads.
const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// `bank sim`; see the module docs.
pub fn sim(args: SimArgs) -> Result<(), Failure> {
    let text = read_input(&args.input, MAX_INPUT_BYTES)?;
    let source = args.input.display().to_string();
    let Experiment { scenario, settings } =
        experiment::parse_experiment(&text, &source).map_err(Failure::bad_input)?;
    if let Some(path) = &args.history {
        writable_file(path, "--history")?;
    }
    let format = OutputFormat::default_for(scenario.shape);
    // The simulator's point is asynchrony: background propagation unless told.
    let base = SimConfig { propagation: PropagationMode::Background, ..demo::base_for(format) };
    let mut base = demo::sim_config(&settings, base);
    if let Some(g) = args.guarantees {
        base.guarantees = g;
        base.per_customer.clear();
    }
    if let Some(p) = args.propagation {
        base.propagation = p.into();
    }
    let guarantees = base.guarantees;
    let first = args.seed.unwrap_or(base.seed);
    if args.vector_clocks {
        return vector_clocks::print(&scenario, &SimConfig { seed: first, ..base }, &source);
    }
    let started = Instant::now();
    // How many seeds showed each anomaly, and the first broken promise.
    let mut seen = BTreeMap::<Anomaly, u64>::new();
    let mut broken: Option<(u64, String)> = None;
    let mut events = 0u64;
    let progress = std::io::stderr().is_terminal() && args.seeds >= 1000;
    for (i, seed) in (first..first.saturating_add(args.seeds)).enumerate() {
        let config = SimConfig { seed, ..base.clone() };
        let demo::Checked { run, history, report } = demo::run_checked(&scenario, &config)
            .map_err(|e| Failure::bad_input(format!("{source}, seed {seed}: {e}")))?;
        events += run.events;
        if i == 0 {
            if let Some(path) = &args.history {
                write_file(path, &history.to_json(), "--history")?;
            }
        }
        for anomaly in Anomaly::ALL {
            if report.count(anomaly) > 0 {
                *seen.entry(anomaly).or_default() += 1;
            }
        }
        if broken.is_none() {
            broken = report.broken_promises().next().map(|v| (seed, v.explanation.clone()));
        }
        if progress && i % 1000 == 999 {
            eprint!("\r{} of {} seeds", i + 1, args.seeds);
        }
    }
    if progress {
        eprintln!();
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    outln!(
        "{} seeds of {} ({} propagation, guarantees {guarantees}) in {:.2} s: \
         {:.0} schedules/s, {:.0} events/s",
        args.seeds,
        source,
        experiment::propagation_name(base.propagation),
        secs,
        args.seeds as f64 / secs,
        events as f64 / secs
    )?;
    for anomaly in Anomaly::ALL {
        let on = match anomaly {
            Anomaly::Broke(g) if guarantees.has(g) => "on ",
            Anomaly::Broke(_) => "off",
            Anomaly::Overdraft => "   ",
        };
        let n = seen.get(&anomaly).copied().unwrap_or(0);
        outln!(
            "  {on} {:<22} {:>6} of {} seeds ({})",
            anomaly.to_string(),
            n,
            args.seeds,
            anomaly.nickname()
        )?;
    }
    match broken {
        None => Ok(()),
        Some((seed, explanation)) => {
            outln!("BROKEN PROMISE at seed {seed}: {explanation}")?;
            Err(Failure::Violations)
        }
    }
}
