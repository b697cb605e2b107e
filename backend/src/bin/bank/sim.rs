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
    let mut faulted = Faulted::default();
    let mut progress = Progress::new(started);
    let stop = crate::runtime::interrupt_flag()?;
    let mut ran = 0u64;
    // Seeds after the largest wrap around to 0: `--seeds` is how many run.
    let seeds = (0..args.seeds).map(|i| first.wrapping_add(i));
    for (i, seed) in seeds.enumerate() {
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            break;
        }
        let config = SimConfig { seed, ..base.clone() };
        let demo::Checked { run, history, report } = demo::run_checked(&scenario, &config)
            .map_err(|e| Failure::bad_input(format!("{source}, seed {seed}: {e}")))?;
        events += run.events;
        faulted.count(seed, &run.record);
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
        ran += 1;
        progress.after(ran, args.seeds);
    }
    progress.done();
    if ran == 0 {
        return Err(Failure::InterruptedAfter("before the first seed had run".into()));
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    let rate = ran as f64 / secs;
    // A slow schedule's rate would round to "0 schedules/s".
    let pace = if rate < 10.0 {
        format!("{:.2} s per schedule", secs / ran as f64)
    } else {
        format!("{rate:.0} schedules/s")
    };
    outln!(
        "{} seeds of {} ({} propagation, guarantees {guarantees}) in {:.2} s: \
         {pace}, {:.0} events/s",
        ran,
        source,
        experiment::propagation_name(base.propagation),
        secs,
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
            ran,
            anomaly.nickname()
        )?;
    }
    if let Some(line) = faulted.line(ran) {
        outln!("{line}")?;
    }
    if let Some((seed, explanation)) = broken {
        outln!("BROKEN PROMISE at seed {seed}: {explanation}")?;
        return Err(Failure::Violations);
    }
    if ran < args.seeds {
        // The totals above are of the seeds that ran, and say so.
        return Err(Failure::InterruptedAfter(format!(
            "after {ran} of {} seeds (the next was {})",
            args.seeds,
            first.wrapping_add(ran)
        )));
    }
    Ok(())
}

/// Customer requests that failed with a fault (a branch down or cut off,
/// an answer that never came), over all seeds: a run where every request
/// failed checks nothing, and must not read as all clear.
#[derive(Debug, Default)]
struct Faulted {
    requests: u64,
    of: u64,
    seeds: u64,
    /// The first one: its seed and what happened, in words.
    first: Option<(u64, String)>,
}

impl Faulted {
    fn count(&mut self, seed: u64, record: &bank_core::RunRecord) {
        let faults: Vec<_> = record.faults().collect();
        self.of += record.customers.iter().map(|c| c.results.len() as u64).sum::<u64>();
        if faults.is_empty() {
            return;
        }
        self.requests += faults.len() as u64;
        self.seeds += 1;
        if self.first.is_none() {
            let (customer, r) = faults[0];
            self.first = Some((seed, crate::failures::described(customer, r)));
        }
    }

    /// Beside the anomalies' lines: "Failed requests  12 of 300 requests,
    /// in 4 of 100 seeds (first: seed 7, customer 1, ...)"; none if none.
    fn line(&self, seeds: u64) -> Option<String> {
        let (seed, what) = self.first.as_ref()?;
        let all = if self.requests == self.of {
            "; every request failed, so nothing was checked"
        } else {
            ""
        };
        Some(format!(
            "      {:<22} {:>6} of {} requests, in {} of {seeds} seeds (first: seed {seed}, \
             {what}){all}",
            "Failed requests", self.requests, self.of, self.seeds
        ))
    }
}

/// Progress on stderr while seeds run, once a run takes more than a
/// second: on a terminal one line rewritten four times a second, else a
/// line every ten seconds (a log, a CI job).
struct Progress {
    started: Instant,
    terminal: bool,
    /// When it was last printed, if it was.
    shown: Option<Instant>,
}

impl Progress {
    fn new(started: Instant) -> Progress {
        Progress { started, terminal: std::io::stderr().is_terminal(), shown: None }
    }

    fn after(&mut self, ran: u64, of: u64) {
        let now = Instant::now();
        let every = if self.terminal { 0.25 } else { 10.0 };
        let due = match self.shown {
            None => now.duration_since(self.started).as_secs_f64() >= 1.0,
            Some(last) => now.duration_since(last).as_secs_f64() >= every,
        };
        if !due || ran == of {
            return;
        }
        self.shown = Some(now);
        let line = format!(
            "{ran} of {of} seeds, {:.0} s (Ctrl-C prints the totals so far)",
            now.duration_since(self.started).as_secs_f64()
        );
        if self.terminal {
            eprint!("\r{line}");
        } else {
            eprintln!("{line}");
        }
    }

    /// Ends the rewritten line, so that what follows starts on its own.
    fn done(&self) {
        if self.terminal && self.shown.is_some() {
            eprintln!();
        }
    }
}
