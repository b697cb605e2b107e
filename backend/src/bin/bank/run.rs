//! `bank run`: one input file on a real cluster, the output its grader
//! expects on stdout.
//!
//! The input is read and parsed once; its settings (experiment file) and
//! the flags are merged, flags first; then the customers run either on
//! branch servers started in this process ([`run_in_process`]) or on branch
//! processes of a cluster file ([`run_on_external`]), and the record is
//! rendered in the chosen course format. `--trace`, `--dump-state`,
//! `--check` and the timing line go to stderr, so stdout stays the output.
//! A run where requests failed with faults, or whose output lacks a branch's
//! final state (it was down at the end), still prints its output, then the
//! [`crate::failures`] summary, and ends with [`Failure::FailedRequests`]
//! (status 3).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use bank_backend::cluster::local::{Cluster, ClusterConfig};
use bank_backend::cluster::remote::ExternalCluster;
use bank_backend::customers::runner::{run_scenario_on, Repair, RunHooks};
use bank_backend::error::RunError;
use bank_backend::observe::{Activity, ActivitySink};
use bank_core::check;
use bank_core::experiment::{self, Experiment};
use bank_core::formats::{self, OutputFormat, OutputOptions};
use bank_core::{BranchRecord, CustomerId, Guarantees, History, RunRecord, Scenario, Schedule};
use tokio::task::JoinHandle;

use crate::args::RunArgs;
use crate::exit::Failure;
use crate::external::connect_external;
use crate::input::read_input;
use crate::output::{writable_dir, writable_file, write_file};
use crate::runtime::runtime;

/// `bank run`; see the module docs.
pub fn run(args: RunArgs) -> Result<(), Failure> {
    let source = args.input.display().to_string();
    let text = read_input(&args.input, args.max_input_bytes)?;
    let Experiment { scenario, settings } =
        experiment::parse_experiment(&text, &source).map_err(Failure::bad_input)?;
    for warning in &scenario.warnings {
        eprintln!("warning: {source}: {warning}");
    }
    if let Some(d) = &settings.description {
        if std::io::stderr().is_terminal() {
            eprintln!("{d}");
        }
    }
    // Flags beat the file, the file beats the defaults; --guarantees is for
    // every customer (the file may set some apart only without it).
    let chose = experiment::Overrides {
        format: args.format,
        schedule: args.schedule,
        guarantees: args.guarantees,
        propagation: args.propagation.map(Into::into),
        seed: args.seed,
    };
    let experiment::RunPlan {
        format,
        schedule,
        guarantees,
        per_customer,
        per_session,
        propagation,
        seed,
        network,
    } = experiment::RunPlan::resolve(&scenario, &settings, chose);
    let options = OutputOptions {
        float_money: args.float_money,
        spelling: args.spelling,
        p2b_part: args.part,
    };

    // Flags that cannot work with this input, and outputs that cannot be
    // written: said before anything starts.
    if let Some(base) = args.base_port {
        check_base_port(base, scenario.branches.len())?;
    }
    if let Some(path) = &args.history {
        writable_file(path, "--history")?;
    }
    if let Some(dir) = &args.out_dir {
        writable_dir(dir, "--out-dir")?;
    }
    if let Some(dir) = &args.data_dir {
        writable_dir(dir, "--data-dir")?;
        // A branch's store that is a FIFO or a device would block or never
        // end: said here, as the user's mistake, not later as a failed start.
        for branch in &scenario.branches {
            let store = bank_backend::branch::store::Store::path(dir, branch.id);
            if std::fs::metadata(&store).is_ok_and(|m| !m.is_file()) {
                return Err(Failure::Unwritable(anyhow::anyhow!(
                    "--data-dir {}: {} is not a regular file (a directory, FIFO or device); \
                     move it away",
                    dir.display(),
                    store.display()
                )));
            }
        }
    }

    let mut config = ClusterConfig::for_scenario(&scenario);
    config.clock_scheme = format.clock_scheme();
    config.propagation = propagation;
    config.base_port = args.base_port;
    config.seed = seed;
    config.network = network;
    config.data_dir = args.data_dir.clone();
    if args.cluster.is_some() && !settings.network.is_perfect() {
        return Err(Failure::BadInput(format!(
            "{source}: the experiment plans network faults, which only the in-process cluster \
             can inject; with --cluster, break the real network instead (see the README)"
        )));
    }

    let runtime = runtime()?;
    let started = Instant::now();
    let record = match &args.cluster {
        None => runtime.block_on(run_in_process(
            &scenario,
            config,
            schedule,
            args.trace,
            guarantees,
            per_customer,
            args.request_timeout,
        ))?,
        Some(file) => {
            // Channels spawn their connection tasks on the runtime.
            let _inside = runtime.enter();
            let external = connect_external(file, args.token.as_deref())?;
            let hooks = RunHooks {
                guarantees: Some(guarantees),
                per_customer: per_customer.clone(),
                request_timeout: Some(args.request_timeout),
                ..RunHooks::default()
            };
            runtime.block_on(run_on_external(
                &scenario, &external, &config, schedule, args.trace, hooks,
            ))?
        }
    };
    let elapsed = started.elapsed();

    let history = History::from_record(&scenario, &record, &per_session);
    if let Some(path) = &args.history {
        write_file(path, &history.to_json(), "--history")?;
    }
    if args.check {
        eprint!("{}", check::check(&history).render(10));
    }
    let output = formats::render(format, &scenario, &record, &options);
    crate::stdout::write(format_args!("{output}"))?;
    if let Some(dir) = &args.out_dir {
        write_out_dir(dir, format, &scenario, &record, &options, &output)?;
    }
    if args.dump_state {
        eprint!("{}", dump_state(&record.branches));
    }
    if std::io::stderr().is_terminal() {
        eprintln!(
            "ran {} events of {} customer(s) on {} branches ({} format, {} schedule) in {:.2?}",
            scenario.event_count(),
            scenario.customers.len(),
            scenario.branches.len(),
            format,
            schedule,
            elapsed
        );
    }
    if let Some(warning) = past_the_maximum(&record) {
        eprintln!("{warning}");
    }
    if let Some(note) = refused_past_the_maximum(&record) {
        eprintln!("{note}");
    }
    let branches: Vec<_> = scenario.branches.iter().map(|b| b.id).collect();
    if let Some(summary) = crate::failures::summary(&record, &branches) {
        eprint!("{summary}");
        return Err(Failure::FailedRequests);
    }
    Ok(())
}

/// A warning when a balance passed [`Cents::MAX`]. A branch refuses a
/// deposit that would take its own balance past it, but deposits accepted
/// at different branches at once can each fit and together not (as
/// concurrent withdrawals can overdraw): the replicas must still apply
/// them all to agree. The output prints such a balance exactly, yet with
/// more than 15 significant digits, which readers that use floating point
/// (JavaScript's, Python's `json`) round.
fn past_the_maximum(record: &bank_core::RunRecord) -> Option<String> {
    let max = bank_core::Cents::MAX;
    let over = record.branches.iter().filter(|b| b.balance > max).count();
    let branch = record.branches.iter().filter(|b| b.balance > max).max_by_key(|b| b.balance);
    let answer = record
        .customers
        .iter()
        .flat_map(|c| &c.results)
        .map(|r| r.outcome.balance())
        .filter(|b| *b > max)
        .max();
    let (what, highest) = match (branch, answer) {
        (Some(b), _) if over == 1 => (format!("branch {} ends with", b.id.0), b.balance),
        (Some(b), _) => {
            (format!("{over} branches end above the maximum; branch {} with", b.id.0), b.balance)
        }
        (None, Some(balance)) => ("an answer shows".to_owned(), balance),
        (None, None) => return None,
    };
    Some(format!(
        "warning: {what} {}, above the largest balance ({}) that every JSON reader reads back \
         exactly: a branch refuses a deposit that would take it there, but applies the deposits \
         other branches accepted. The output prints it exactly; readers that use floating point \
         (JavaScript, Python's json) will round it.",
        highest.decimal_text(),
        max.decimal_text()
    ))
}

/// A note when a branch refused a deposit that would have taken its balance
/// past [`Cents::MAX`](bank_core::Cents::MAX): the output says `"fail"` for
/// it, which is right, but no course sample shows one.
fn refused_past_the_maximum(record: &bank_core::RunRecord) -> Option<String> {
    use bank_core::op::{FailReason, Outcome};
    let refused: Vec<String> = record
        .customers
        .iter()
        .flat_map(|c| c.results.iter().map(move |r| (c.customer, r)))
        .filter(|(_, r)| {
            matches!(r.outcome, Outcome::Failed { reason: FailReason::BalanceLimit { .. }, .. })
        })
        .map(|(customer, r)| format!("customer {}, event {}", customer.0, r.event.0))
        .collect();
    let first = refused.first()?;
    let more = match refused.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    Some(format!(
        "note: {} deposit(s) failed ({first}{more}): each would have taken its branch's balance \
         past {}, the largest a branch holds",
        refused.len(),
        bank_core::Cents::MAX.decimal_text()
    ))
}

/// `--base-port`: the branches listen on `base`, `base + 1`, ...; all of
/// them must fit below port 65536.
fn check_base_port(base: u16, branches: usize) -> Result<(), Failure> {
    let last = u64::from(base) + branches.saturating_sub(1) as u64;
    if last > u64::from(u16::MAX) {
        let highest = (usize::from(u16::MAX) + 1).saturating_sub(branches);
        return Err(Failure::Usage(format!(
            "--base-port {base}: the input's {branches} branches need ports {base} to {last}, \
             beyond the highest port 65535 (use --base-port {highest} or lower)"
        )));
    }
    Ok(())
}

/// The customers on branch servers started in this process, with the
/// experiment's planned faults; Ctrl-C stops the cluster and is
/// [`Failure::Interrupted`].
async fn run_in_process(
    scenario: &Scenario,
    mut config: ClusterConfig,
    schedule: Schedule,
    trace: bool,
    guarantees: Guarantees,
    per_customer: BTreeMap<CustomerId, Guarantees>,
    request_timeout: std::time::Duration,
) -> Result<RunRecord, Failure> {
    let faults = config.network.faults.clone();
    // Planned faults or lost messages: answers may fail and the end needs a repair.
    let faulty = !faults.is_empty() || config.network.drop_percent > 0;
    let narrator = trace.then(|| {
        let (sink, narrator) = narrator();
        config.activity = Some(sink);
        narrator
    });
    let cluster = Cluster::start(config).await.context("starting the branch servers")?;
    let control = cluster.control();
    let repair = faulty.then(|| Repair::of(control.clone()));
    let plan = match faults.is_empty() {
        true => None,
        false => Some(control.start_faults(faults).await.context("applying the faults at 0 ms")?),
    };
    let hooks = RunHooks {
        guarantees: Some(guarantees),
        per_customer,
        repair,
        request_timeout: Some(request_timeout),
        ..RunHooks::default()
    };
    // The branches require the cluster's token: its channels carry it.
    let channels = cluster.channels();
    let outcome = tokio::select! {
        r = run_scenario_on(scenario, &channels, schedule, hooks) => Some(r),
        _ = tokio::signal::ctrl_c() => None,
    };
    if let Some(plan) = plan {
        plan.abort();
    }
    cluster.shutdown().await;
    if let Some(narrator) = narrator {
        // Ends once every branch has stopped (the channel closes).
        let _ = narrator.await;
    }
    match outcome {
        None => Err(Failure::Interrupted),
        Some(r) => Ok(r.context("running the customers")?),
    }
}

/// `bank run --cluster`: resets the external branches for the input, then
/// runs the customers against them, exactly as in-process.
async fn run_on_external(
    scenario: &Scenario,
    external: &ExternalCluster,
    config: &ClusterConfig,
    schedule: Schedule,
    trace: bool,
    hooks: RunHooks,
) -> Result<RunRecord, Failure> {
    let work = async {
        let narrator = if trace {
            let (sink, narrator) = narrator();
            external.watch(sink).await?;
            Some(narrator)
        } else {
            None
        };
        external.reset(scenario, config.clock_scheme, config.propagation).await?;
        let record = run_scenario_on(scenario, external.channels(), schedule, hooks).await;
        if let Some(narrator) = narrator {
            // The branches keep their streams open: stop narrating here.
            narrator.abort();
        }
        record
    };
    tokio::select! {
        r = work => r.map_err(|e| match e {
            // The input and the cluster file disagree: the user's to fix.
            RunError::Cluster(message) => Failure::BadInput(message),
            // A branch of the cluster file does not answer: started? the
            // right address? Not a bug of this program.
            RunError::Rpc { branch, status } if status.code() == tonic::Code::Unavailable => {
                Failure::Unavailable(anyhow::anyhow!(
                    "{branch} is not available ({}): start the branch processes of the \
                     cluster file first (`bank branch`), or check their addresses",
                    status.message()
                ))
            }
            e => anyhow::Error::new(e).context("running the customers on the cluster").into(),
        }),
        _ = tokio::signal::ctrl_c() => Err(Failure::Interrupted),
    }
}

/// `--trace`: a sink for the cluster's activity, and the task that prints
/// every branch log entry sent to it on stderr, in the words of the
/// reference implementation's log. The task ends when every sender is
/// dropped (or when it is aborted).
fn narrator() -> (ActivitySink, JoinHandle<()>) {
    let (sink, mut activity) = tokio::sync::mpsc::unbounded_channel();
    let narrator = tokio::spawn(async move {
        while let Some(a) = activity.recv().await {
            if let Activity::Logged { branch, entry, .. } = a {
                eprintln!("{}", entry.narrate(branch));
            }
        }
    });
    (sink, narrator)
}

/// `--out-dir`: the output file(s) as the course's graders read them (p2b:
/// its three lists, each in its own file).
fn write_out_dir(
    dir: &Path,
    format: OutputFormat,
    scenario: &Scenario,
    record: &RunRecord,
    options: &OutputOptions,
    output: &str,
) -> Result<(), Failure> {
    writable_dir(dir, "--out-dir")?;
    let files = if format == OutputFormat::P2b {
        formats::render_p2b_files(scenario, record, options)
    } else {
        vec![("output.json", output.to_owned())]
    };
    for (name, text) in files {
        let path = dir.join(name);
        write_file(&path, &text, "--out-dir")?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// The reference's "sanity check": every branch's balance, the write set of
/// every customer as this branch applied it, and the branch's event log.
fn dump_state(branches: &[BranchRecord]) -> String {
    let mut out = String::new();
    for b in branches {
        out += &format!("{}: balance {}, clock {}\n", b.id, b.balance, b.clock);
        if b.write_sets.is_empty() {
            out += "  write sets: (none)\n";
        }
        for (customer, events) in &b.write_sets {
            let ids: Vec<String> = events.iter().map(|e| e.0.to_string()).collect();
            out += &format!("  write set of {customer}: [{}]\n", ids.join(", "));
        }
        out += "  events:\n";
        for entry in &b.log {
            out += &format!("    {}\n", entry.narrate(b.id));
        }
    }
    out
}
