//! `bank`: run the course's distributed bank on a real gRPC cluster.
//!
//! A thin layer: parse arguments, read and validate the input, start the
//! cluster, run the customers, print the output. Everything it calls lives
//! in `bank_core` (pure) and `bank_backend` (tokio + tonic).

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use bank_backend::cluster::local::{Cluster, ClusterConfig};
use bank_backend::observe::Activity;
use bank_backend::customers::runner::{run_scenario_with, Repair, RunHooks};
use bank_core::check;
use bank_core::experiment::{self, Experiment};
use bank_core::{Guarantees, History};
use bank_core::branch::PropagationMode;
use bank_core::formats::{self, OutputFormat, OutputOptions, P2bPart, Spelling};
use bank_core::{BranchRecord, RunRecord, Scenario, Schedule};
use clap::{Parser, Subcommand, ValueEnum};

/// Exit status for a bad input file (sysexits' EX_DATAERR).
const EXIT_BAD_INPUT: u8 = 65;
/// Exit status when the input file cannot be read (EX_NOINPUT).
const EXIT_NO_INPUT: u8 = 66;
/// Exit status for an internal failure (EX_SOFTWARE).
const EXIT_INTERNAL: u8 = 70;
/// Exit status after Ctrl-C (128 + SIGINT).
const EXIT_INTERRUPTED: u8 = 130;

const AFTER_HELP: &str = "\
Exit status: 0 success, 2 bad command line, 65 bad input file, 66 input file \
unreadable, 70 internal error, 130 interrupted.";

/// A distributed bank of gRPC branches, for learning distributed systems.
///
/// Each branch is a real gRPC server holding a replica of the balance;
/// customers send deposit / withdraw / query events; branches propagate every
/// write to each other.
#[derive(Debug, Parser)]
#[command(name = "bank", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run an input file on a real in-process cluster (or, with --cluster, on
    /// branch processes) and print the output JSON.
    ///
    /// The input may be any course format (projects 1, 2 and 3); it is
    /// detected automatically. The output is the JSON that format's grader
    /// expects, on stdout. Traces and state dumps go to stderr.
    #[command(after_help = AFTER_HELP)]
    Run(RunArgs),
    /// Serve the browser visualizer and a live cluster on one origin.
    ///
    /// Open the printed URL: pick a scenario, play it, watch every message
    /// travel between real gRPC branch servers, and send your own customer
    /// events. Needs the frontend built (`cargo xtask serve` builds it);
    /// without it, only the gRPC services run.
    Serve(ServeArgs),
    /// Run one branch as its own process (one per machine, container or namespace).
    ///
    /// The branch serves the Branch gRPC service on --listen and propagates
    /// writes to its peers (--peers, or the other branches of --cluster).
    /// Drive the branches with `bank run --cluster` or `bank serve --cluster`.
    /// Stops cleanly on SIGTERM or Ctrl-C.
    #[command(after_help = BRANCH_AFTER_HELP)]
    Branch(BranchArgs),
    /// Check a run's history (from `bank run --history`) for broken session
    /// guarantees and overdrafts, and explain each one.
    ///
    /// Reports, for Read Your Writes, Monotonic Reads, Writes Follow Reads,
    /// Monotonic Writes and overdrafts, every violation with the exact events
    /// that show it.
    #[command(after_help = CHECK_AFTER_HELP)]
    Check(CheckArgs),
    /// Run an input or experiment in the deterministic simulator, over many
    /// seeds, and count the anomalies the history checker finds.
    ///
    /// The same branch code as the real cluster, on a simulated network with
    /// the experiment's delays, losses and faults: thousands of schedules a
    /// second. A guarantee that is on must never be broken; one that is off
    /// shows how often its anomaly happens.
    #[command(after_help = SIM_AFTER_HELP)]
    Sim(SimArgs),
}

const CHECK_AFTER_HELP: &str = "\
Exit status: 0 no violation, 1 violations found, 2 bad command line, 65 bad \
history file, 66 history file unreadable.";

const SIM_AFTER_HELP: &str = "\
Example: bank sim examples/demo-stale-read.json --seeds 1000 --guarantees all

Exit status: 0 no guarantee that was on was broken, 1 one was (a bug: please \
report it with the seed), 2 bad command line, 65 bad input file.";

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The history file (JSON), or `-` for standard input.
    history: PathBuf,

    /// Print the violations as JSON instead of sentences.
    #[arg(long)]
    json: bool,

    /// Show at most this many violations per guarantee.
    #[arg(long, default_value_t = 10)]
    max: usize,
}

#[derive(Debug, clap::Args)]
struct SimArgs {
    /// The input or experiment file (JSON).
    input: PathBuf,

    /// How many seeds to run, starting at --seed.
    #[arg(long, default_value_t = 100)]
    seeds: u64,

    /// The first seed [default: the experiment's, else 0].
    #[arg(long)]
    seed: Option<u64>,

    /// Session guarantees: all, none, course, or a list like ryw,mr
    /// [default: the experiment's, else course].
    #[arg(long)]
    guarantees: Option<Guarantees>,

    /// How branches propagate [default: the experiment's, else background].
    #[arg(long, value_enum)]
    propagation: Option<Propagation>,

    /// Write the first seed's history here (for `bank check`).
    #[arg(long)]
    history: Option<PathBuf>,
}

const BRANCH_AFTER_HELP: &str = "\
Example: bank branch --id 3 --listen 0.0.0.0:50053 --allow-remote --peers 1=hostA:50051,2=hostB:50052

Exit status: 0 stopped by SIGTERM or Ctrl-C, 2 bad command line, 65 bad cluster \
file or settings, 70 the server failed.";

#[derive(Debug, clap::Args)]
struct BranchArgs {
    /// This branch's id.
    #[arg(long)]
    id: u64,

    /// Address to listen on [default: this branch's address in --cluster].
    /// Anything but loopback needs --allow-remote.
    #[arg(long)]
    listen: Option<String>,

    /// Allow a --listen address that other machines can reach.
    #[arg(long)]
    allow_remote: bool,

    /// The other branches: ID=HOST:PORT,ID=HOST:PORT,...
    #[arg(long, value_parser = parse_peers, conflicts_with = "cluster", required_unless_present = "cluster")]
    peers: Option<std::collections::BTreeMap<bank_core::BranchId, String>>,

    /// A cluster file (cluster.toml) listing every branch; see the README.
    #[arg(long)]
    cluster: Option<PathBuf>,

    /// Starting balance until a driver resets the branch [default: the
    /// cluster file's balance for this branch, else 0].
    #[arg(long, value_parser = parse_money)]
    balance: Option<bank_core::Cents>,

    /// How this branch propagates a write (a driver's reset overrides it).
    #[arg(long, value_enum, default_value_t = Propagation::Sequential)]
    propagation: Propagation,

    /// Directory for the branch's durable state (created if missing).
    #[arg(long)]
    data_dir: Option<PathBuf>,

    /// Shared secret every caller must present [default: $BANK_TOKEN, else
    /// the cluster file's token].
    #[arg(long)]
    token: Option<String>,

    /// TLS: this branch's certificate (PEM). Needs --tls-key and --tls-ca.
    #[arg(long)]
    tls_cert: Option<PathBuf>,

    /// TLS: this branch's private key (PEM).
    #[arg(long)]
    tls_key: Option<PathBuf>,

    /// TLS: the authority that signed the branches' certificates (PEM), to
    /// check the peers with.
    #[arg(long)]
    tls_ca: Option<PathBuf>,

    /// TLS: the name in the peers' certificates, when their addresses are not.
    #[arg(long)]
    tls_domain: Option<String>,
}

fn parse_peers(s: &str) -> Result<std::collections::BTreeMap<bank_core::BranchId, String>, String> {
    bank_backend::cluster::file::parse_peers(s)
}

fn parse_money(s: &str) -> Result<bank_core::Cents, String> {
    bank_core::Cents::parse(s).map_err(|e| e.to_string())
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on (page, grpc-web and gRPC share it).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: std::net::SocketAddr,

    /// Directory of the built frontend (`trunk build` output).
    #[arg(long, default_value = "dist")]
    dist: PathBuf,

    /// Scenario to load at start: a shipped example's name or a file path.
    #[arg(long, default_value = "seed-test-1")]
    scenario: String,

    /// Origin allowed to call the services cross-origin (the `trunk serve`
    /// development server). Repeat for several; same-origin needs none.
    #[arg(long = "dev-origin", default_values_t = [String::from("http://127.0.0.1:8081"), String::from("http://localhost:8081")])]
    dev_origins: Vec<String>,

    /// Run the scenarios on the branches of this cluster file (started with
    /// `bank branch`) instead of in this process; the page shows their
    /// messages. Scenarios must have the file's branch ids.
    #[arg(long)]
    cluster: Option<PathBuf>,

    /// With --cluster: the branches' shared secret [default: $BANK_TOKEN,
    /// else the cluster file's token].
    #[arg(long, requires = "cluster")]
    token: Option<String>,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The input file (JSON), or `-` for standard input.
    input: PathBuf,

    /// Output format [default: chosen from the input's shape].
    ///
    /// p1: project 1 (autumn 2023: queries answer under "balance");
    /// p1-money: project 1 handout (queries answer under "money", final balances);
    /// p2a: project 2 up to spring 2023 (pid / eventid lists with Lamport clocks);
    /// p2b: project 2 from autumn 2023 (customer, branch and all-events lists);
    /// p3: project 3 (one balance per customer for `dest` inputs, one object per event for `branch` inputs).
    #[arg(short, long, value_parser = parse_format)]
    format: Option<OutputFormat>,

    /// How customers interleave [default: the format's convention].
    ///
    /// sequential: one customer after another, each event fully propagated before the next;
    /// concurrent: all customers at once (each still in its own order);
    /// writes-first: all customers' writes at once, then all queries (every query sees the final balance).
    #[arg(long, value_parser = parse_schedule)]
    schedule: Option<Schedule>,

    /// How a branch propagates a write before answering the customer
    /// [default: the experiment's, else sequential].
    #[arg(long, value_enum)]
    propagation: Option<Propagation>,

    /// Session guarantees every customer asks for: all, none, course (Read
    /// Your Writes and Monotonic Writes), or a list like ryw,mr,wfr,mw
    /// [default: the experiment's, else course].
    #[arg(long)]
    guarantees: Option<Guarantees>,

    /// Seed of every random delay and loss [default: the experiment's, else 0].
    #[arg(long)]
    seed: Option<u64>,

    /// Directory for the branches' durable stores [default: a temporary
    /// directory, removed afterwards].
    #[arg(long)]
    data_dir: Option<PathBuf>,

    /// Write the run's history (every operation and every branch's apply
    /// order) to this file, for `bank check`.
    #[arg(long)]
    history: Option<PathBuf>,

    /// After the run, check the history and print the report on stderr.
    #[arg(long)]
    check: bool,

    /// Narrate every message on stderr, like the reference implementation's log.
    #[arg(long)]
    trace: bool,

    /// After the run, print each branch's balance, write sets and event log on stderr.
    #[arg(long)]
    dump_state: bool,

    /// Listen on consecutive ports from this one (the course uses 50051)
    /// instead of ephemeral ports.
    #[arg(long)]
    base_port: Option<u16>,

    /// Print whole amounts as floats (`500.0`), as some course outputs do.
    #[arg(long)]
    float_money: bool,

    /// Spelling of "propagate" in project 2 event names.
    #[arg(long, value_parser = parse_spelling, default_value = "propagate")]
    spelling: Spelling,

    /// Which project 2 (p2b) list to print on stdout.
    #[arg(long, value_parser = parse_part, default_value = "all")]
    part: P2bPart,

    /// Also write the output file(s) into this directory (p2b: all three lists).
    #[arg(long)]
    out_dir: Option<PathBuf>,

    /// Refuse input files larger than this many bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_input_bytes: u64,

    /// Run on the branches of this cluster file (started with `bank branch`)
    /// instead of starting branches in this process. The input's branch ids
    /// must be the file's; each branch is reset to the input's balance first.
    #[arg(long, conflicts_with = "base_port")]
    cluster: Option<PathBuf>,

    /// With --cluster: the branches' shared secret [default: $BANK_TOKEN,
    /// else the cluster file's token].
    #[arg(long, requires = "cluster")]
    token: Option<String>,
}

/// `--propagation` choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Propagation {
    /// One peer at a time, answer after the last acknowledgement (the course's reference).
    Sequential,
    /// All peers at once, answer after all acknowledgements.
    Parallel,
    /// Answer after the local apply; peers get the write in the background.
    Background,
}

impl From<Propagation> for PropagationMode {
    fn from(p: Propagation) -> Self {
        match p {
            Propagation::Sequential => PropagationMode::Sequential,
            Propagation::Parallel => PropagationMode::Parallel,
            Propagation::Background => PropagationMode::Background,
        }
    }
}

fn parse_format(s: &str) -> Result<OutputFormat, String> {
    s.parse::<OutputFormat>().map_err(|e| e.to_string())
}
fn parse_schedule(s: &str) -> Result<Schedule, String> {
    s.parse()
}
fn parse_spelling(s: &str) -> Result<Spelling, String> {
    s.parse::<Spelling>().map_err(|e| e.to_string())
}
fn parse_part(s: &str) -> Result<P2bPart, String> {
    s.parse::<P2bPart>().map_err(|e| e.to_string())
}

/// A failure with the exit status it deserves.
#[derive(Debug)]
enum Failure {
    BadInput(String),
    NoInput(anyhow::Error),
    Internal(anyhow::Error),
    Interrupted,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A branch process logs what it does; the other commands only problems.
    let default_filter = if matches!(cli.command, Command::Branch(_)) { "bank_backend=info,warn" } else { "warn" };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BANK_LOG").unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Serve(args) => serve(args),
        Command::Branch(args) => branch(args),
        Command::Check(args) => return check(args),
        Command::Sim(args) => return sim(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
        Err(Failure::NoInput(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_NO_INPUT)
        }
        Err(Failure::Internal(e)) => {
            eprintln!("internal error: {e:#}");
            ExitCode::from(EXIT_INTERNAL)
        }
        Err(Failure::Interrupted) => {
            eprintln!("interrupted: cluster stopped");
            ExitCode::from(EXIT_INTERRUPTED)
        }
    }
}

fn run(args: RunArgs) -> Result<(), Failure> {
    let source = args.input.display().to_string();
    let text = read_input(&args.input, args.max_input_bytes)?;
    let Experiment { scenario, settings } =
        experiment::parse_experiment(&text, &source).map_err(|e| Failure::BadInput(e.to_string()))?;
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
        format, schedule, guarantees, per_customer, per_session, propagation, seed, network,
    } = experiment::RunPlan::resolve(&scenario, &settings, chose);
    let options = OutputOptions { float_money: args.float_money, spelling: args.spelling, p2b_part: args.part };

    let mut config = ClusterConfig::for_scenario(&scenario);
    config.clock_scheme = format.clock_scheme();
    config.propagation = propagation;
    config.base_port = args.base_port;
    config.seed = seed;
    config.network = network;
    config.data_dir = args.data_dir.clone();
    if args.cluster.is_some() && !settings.network.is_perfect() {
        return Err(Failure::BadInput(format!(
            "{source}: the experiment plans network faults, which only the in-process cluster can inject; \
             with --cluster, break the real network instead (see the README)"
        )));
    }

    let runtime = runtime()?;
    let started = Instant::now();
    let record = match &args.cluster {
        None => runtime.block_on(run_on_cluster(&scenario, config, schedule, args.trace, guarantees, per_customer))?,
        Some(file) => {
            // Channels spawn their connection tasks on the runtime.
            let _inside = runtime.enter();
            let external = connect_external(file, args.token.as_deref())?;
            let hooks = RunHooks { guarantees: Some(guarantees), per_customer: per_customer.clone(), ..RunHooks::default() };
            runtime.block_on(run_on_external(&scenario, &external, &config, schedule, args.trace, hooks))?
        }
    };
    let elapsed = started.elapsed();

    let history = History::from_record(&scenario, &record, &per_session);
    if let Some(path) = &args.history {
        std::fs::write(path, history.to_json())
            .with_context(|| format!("writing the history to {}", path.display()))
            .map_err(Failure::Internal)?;
    }
    if args.check {
        eprint!("{}", check::check(&history).render(10));
    }
    let output = formats::render(format, &scenario, &record, &options);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(output.as_bytes())
        .and_then(|_| stdout.flush())
        .context("writing the output")
        .map_err(Failure::Internal)?;
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
    Ok(())
}

fn serve(args: ServeArgs) -> Result<(), Failure> {
    use bank_backend::{lab::examples, lab::Lab, web};
    let (name, text) = match examples::find(&args.scenario) {
        Some(example) => (example.name.to_owned(), example.text.to_owned()),
        None => {
            let text = read_input(Path::new(&args.scenario), 16 * 1024 * 1024)?;
            (args.scenario.clone(), text)
        }
    };
    let dev_origins = args
        .dev_origins
        .iter()
        .map(|o| http::HeaderValue::from_str(o).map_err(|_| Failure::BadInput(format!("--dev-origin {o:?} is not a valid origin"))))
        .collect::<Result<Vec<_>, _>>()?;
    let runtime = runtime()?;
    let lab = match &args.cluster {
        None => Lab::new(examples::all()),
        Some(file) => {
            let _inside = runtime.enter();
            let external = connect_external(file, args.token.as_deref())?;
            let where_: Vec<String> = external.addrs().iter().map(|(id, a)| format!("{}={a}", id.0)).collect();
            eprintln!("driving the branches of {}: {}", file.display(), where_.join(", "));
            Lab::with_external(examples::all(), external)
        }
    };
    runtime.block_on(async {
        if let Err(e) = lab.load(&text, &name, None).await {
            return Err(Failure::BadInput(format!("{name}:{}:{}: {}", e.line, e.column, e.message)));
        }
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))
            .map_err(Failure::Internal)?;
        let addr = listener.local_addr().context("reading the bound address").map_err(Failure::Internal)?;
        if !addr.ip().is_loopback() {
            eprintln!("warning: listening on {addr}, reachable from other machines");
        }
        if !args.dist.join("index.html").is_file() {
            eprintln!("warning: {} has no index.html; build the visualizer with `cargo xtask serve`", args.dist.display());
        }
        println!("bank-sim visualizer: http://{addr}/  (scenario: {name}; Ctrl-C to stop)");
        let app = web::router(lab.clone(), &args.dist, &dev_origins);
        let closing = lab.clone();
        let shutdown = async move {
            let _ = tokio::signal::ctrl_c().await;
            // End the browsers' watch streams first, or the graceful
            // shutdown would wait for them forever.
            closing.stop().await;
        };
        web::serve(listener, app, shutdown).await.context("serving").map_err(Failure::Internal)?;
        eprintln!("stopped");
        Ok(())
    })
}

/// The multi-threaded tokio runtime both commands run on.
fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
        .map_err(Failure::Internal)
}

/// Reads the input, refusing files over `max` bytes before reading them.
fn read_input(path: &Path, max: u64) -> Result<String, Failure> {
    let too_big = |size: u64| {
        Failure::BadInput(format!(
            "{}: the file is {size} bytes, over the limit of {max} bytes (raise it with --max-input-bytes)",
            path.display()
        ))
    };
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(max + 1)
            .read_to_end(&mut bytes)
            .context("reading standard input")
            .map_err(Failure::NoInput)?;
    } else {
        let file = std::fs::File::open(path)
            .with_context(|| format!("cannot open input file {}", path.display()))
            .map_err(Failure::NoInput)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        if size > max {
            return Err(too_big(size));
        }
        file.take(max + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("reading {}", path.display()))
            .map_err(Failure::NoInput)?;
    }
    if bytes.len() as u64 > max {
        return Err(too_big(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        Failure::BadInput(format!("{}: not UTF-8 text (invalid byte at offset {})", path.display(), e.utf8_error().valid_up_to()))
    })
}

async fn run_on_cluster(
    scenario: &Scenario,
    config: ClusterConfig,
    schedule: Schedule,
    trace: bool,
    guarantees: Guarantees,
    per_customer: std::collections::BTreeMap<bank_core::CustomerId, Guarantees>,
) -> Result<RunRecord, Failure> {
    let mut config = config;
    let faults = config.network.faults.clone();
    // Planned faults or lost messages: answers may fail and the end needs a repair.
    let faulty = !faults.is_empty() || config.network.drop_percent > 0;
    let narrator = trace.then(|| {
        let (sink, mut activity) = tokio::sync::mpsc::unbounded_channel();
        config.activity = Some(sink);
        tokio::spawn(async move {
            while let Some(a) = activity.recv().await {
                if let Activity::Logged { branch, entry, .. } = a {
                    eprintln!("{}", entry.narrate(branch));
                }
            }
        })
    });
    let cluster = Cluster::start(config).await.context("starting the branch servers").map_err(Failure::Internal)?;
    let control = cluster.control();
    let repair = faulty.then(|| Repair::of(control.clone()));
    let plan = (!faults.is_empty()).then(|| control.play_faults(faults));
    let hooks = RunHooks { guarantees: Some(guarantees), per_customer, repair, ..RunHooks::default() };
    let outcome = tokio::select! {
        r = run_scenario_with(scenario, cluster.addrs(), schedule, hooks) => Some(r),
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
        Some(r) => r.context("running the customers").map_err(Failure::Internal),
    }
}

/// Channels to the branches of cluster file `path`, with its token and TLS.
fn connect_external(path: &Path, token: Option<&str>) -> Result<bank_backend::cluster::remote::ExternalCluster, Failure> {
    use bank_backend::net::auth::Token;
    use bank_backend::cluster::file::ClusterFile;
    use bank_backend::net::transport::ClientSecurity;
    let bad = |e: &dyn std::fmt::Display| Failure::BadInput(e.to_string());
    let file = ClusterFile::load(path).map_err(|e| bad(&e))?;
    let token = Token::from_sources(token, file.token.as_deref()).map_err(|e| bad(&format!("token: {e}")))?;
    let tls = file.tls.client().map_err(|e| bad(&e))?;
    bank_backend::cluster::remote::ExternalCluster::connect(&file, &ClientSecurity { token, tls }).map_err(|e| bad(&e))
}

/// `bank run --cluster`: resets the external branches for the input, then
/// runs the customers against them, exactly as in-process.
async fn run_on_external(
    scenario: &Scenario,
    external: &bank_backend::cluster::remote::ExternalCluster,
    config: &ClusterConfig,
    schedule: Schedule,
    trace: bool,
    hooks: RunHooks,
) -> Result<RunRecord, Failure> {
    let work = async {
        let narrator = if trace {
            let (sink, mut activity) = tokio::sync::mpsc::unbounded_channel();
            external.watch(sink).await?;
            Some(tokio::spawn(async move {
                while let Some(a) = activity.recv().await {
                    if let Activity::Logged { branch, entry, .. } = a {
                        eprintln!("{}", entry.narrate(branch));
                    }
                }
            }))
        } else {
            None
        };
        external.reset(scenario, config.clock_scheme, config.propagation).await?;
        let record = bank_backend::customers::runner::run_scenario_on(scenario, external.channels(), schedule, hooks).await;
        if let Some(narrator) = narrator {
            // The branches keep their streams open: stop narrating here.
            narrator.abort();
        }
        record
    };
    tokio::select! {
        r = work => r.map_err(|e| match e {
            // The input and the cluster file disagree: the user's to fix.
            bank_backend::error::RunError::Cluster(message) => Failure::BadInput(message),
            e => Failure::Internal(anyhow::Error::new(e).context("running the customers on the cluster")),
        }),
        _ = tokio::signal::ctrl_c() => Err(Failure::Interrupted),
    }
}

/// `bank branch`: one branch server until SIGTERM or Ctrl-C.
fn branch(args: BranchArgs) -> Result<(), Failure> {
    use bank_backend::net::auth::Token;
    use bank_backend::cluster::file::ClusterFile;
    use bank_backend::branch::standalone::{self, BranchProcess};
    use bank_backend::net::transport::TlsFiles;
    let bad = |e: &dyn std::fmt::Display| Failure::BadInput(e.to_string());
    let id = bank_core::BranchId(args.id);

    let file = args.cluster.as_deref().map(ClusterFile::load).transpose().map_err(|e| bad(&e))?;
    let mut process = match (&file, &args.peers) {
        (Some(file), _) => BranchProcess::from_cluster_file(file, id).map_err(|e| bad(&e))?,
        (None, Some(peers)) => {
            if peers.contains_key(&id) && peers.len() == 1 {
                return Err(Failure::BadInput(format!("--peers lists only this branch ({}); list the other branches", args.id)));
            }
            BranchProcess::new(id, peers.iter().filter(|(p, _)| **p != id).map(|(p, a)| (*p, a.clone())).collect())
        }
        (None, None) => unreachable!("clap requires --peers or --cluster"),
    };
    if let Some(balance) = args.balance {
        process.balance = balance;
    }
    process.propagation = args.propagation.into();
    process.data_dir = args.data_dir.clone();
    process.token = Token::from_sources(args.token.as_deref(), file.as_ref().and_then(|f| f.token.as_deref()))
        .map_err(|e| bad(&format!("token: {e}")))?;
    let flags = TlsFiles { ca: args.tls_ca.clone(), cert: args.tls_cert.clone(), key: args.tls_key.clone(), domain: args.tls_domain.clone() };
    if !flags.is_empty() || flags.domain.is_some() {
        // Flags replace the cluster file's [tls] as a whole.
        process.tls = flags;
    }

    let listen_text = match (&args.listen, &file) {
        (Some(listen), _) => listen.clone(),
        (None, Some(file)) => file.branches[&id].addr.clone(),
        (None, None) => return Err(Failure::BadInput("give --listen (the address this branch listens on)".into())),
    };
    let listen = resolve(&listen_text).map_err(Failure::BadInput)?;
    standalone::check_listen(listen, args.allow_remote).map_err(|e| bad(&e))?;

    if let Some(dir) = &process.data_dir {
        standalone::prepare_data_dir(dir).map_err(|e| bad(&e))?;
    }

    let runtime = runtime()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))
            .map_err(Failure::Internal)?;
        let addr = listener.local_addr().context("reading the bound address").map_err(Failure::Internal)?;
        let stop = stop_signal();
        let peers: Vec<String> = process.peers.iter().map(|(p, a)| format!("{}={a}", p.0)).collect();
        if !addr.ip().is_loopback() {
            eprintln!("warning: branch {} listens on {addr}, reachable from other machines", args.id);
        }
        println!(
            "bank branch {} listening on {addr} (peers {}; token {}; TLS {}; SIGTERM or Ctrl-C to stop)",
            args.id,
            peers.join(","),
            if process.token.is_some() { "on" } else { "off" },
            if process.tls.cert.is_some() { "on" } else { "off" },
        );
        standalone::serve(process, listener, stop).await.map_err(|e| match e {
            standalone::BranchProcessError::Setup(e) => bad(&e),
            e => Failure::Internal(e.into()),
        })?;
        eprintln!("branch {} stopped", args.id);
        Ok(())
    })
}

/// `host:port` to one socket address (names are looked up).
fn resolve(text: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    bank_backend::net::transport::check_addr(text).map_err(|e| e.to_string())?;
    text.to_socket_addrs()
        .map_err(|e| format!("cannot resolve {text}: {e}"))?
        .next()
        .ok_or_else(|| format!("{text} resolves to no address"))
}

/// Completes on SIGTERM (what `docker stop` and `kill` send) or Ctrl-C.
/// The handlers are installed when this is called (inside the runtime), so
/// a signal that arrives before the future is first polled is not lost.
fn stop_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            match (term, int) {
                (Some(mut term), Some(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn write_out_dir(
    dir: &Path,
    format: OutputFormat,
    scenario: &Scenario,
    record: &RunRecord,
    options: &OutputOptions,
    output: &str,
) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating {}", dir.display()))
        .map_err(Failure::Internal)?;
    let files = if format == OutputFormat::P2b {
        formats::render_p2b_files(scenario, record, options)
    } else {
        vec![("output.json", output.to_owned())]
    };
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text)
            .with_context(|| format!("writing {}", path.display()))
            .map_err(Failure::Internal)?;
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

/// Reads a whole file (or stdin for `-`) for `check` and `sim`, mapping
/// failures to their exit status.
fn read_text_or_exit(path: &Path) -> Result<String, ExitCode> {
    read_input(path, 256 * 1024 * 1024).map_err(|failure| match failure {
        Failure::NoInput(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_NO_INPUT)
        }
        Failure::BadInput(m) => {
            eprintln!("error: {m}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
        _ => ExitCode::from(EXIT_INTERNAL),
    })
}

fn check(args: CheckArgs) -> ExitCode {
    let text = match read_text_or_exit(&args.history) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let history = match History::from_json(&text) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {}: {e}", args.history.display());
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let report = check::check(&history);
    if args.json {
        let items: Vec<serde_json::Value> = report
            .violations
            .iter()
            .map(|v| {
                serde_json::json!({
                    "anomaly": v.anomaly.short(),
                    "guarantee": v.anomaly.to_string(),
                    "guarantee_was_on": v.guarantee_was_on,
                    "session": v.session,
                    "explanation": v.explanation,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&items).expect("json"));
    } else {
        print!("{}", report.render(args.max));
        let broken = report.broken_promises().count();
        if broken > 0 {
            println!("{broken} violation(s) of guarantees the sessions had asked for: that is a bug in the branches.");
        }
    }
    if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn sim(args: SimArgs) -> ExitCode {
    use bank_core::check::Anomaly;
    use bank_core::experiment::demo;
    use bank_core::sim::SimConfig;
    let text = match read_text_or_exit(&args.input) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let source = args.input.display().to_string();
    let Experiment { scenario, settings } = match experiment::parse_experiment(&text, &source) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
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
    let started = Instant::now();
    let mut seen = std::collections::BTreeMap::<Anomaly, u64>::new();
    let mut broken: Option<(u64, String)> = None;
    let mut events = 0u64;
    let progress = std::io::stderr().is_terminal() && args.seeds >= 1000;
    for (i, seed) in (first..first.saturating_add(args.seeds)).enumerate() {
        let demo::Checked { run, history, report } = demo::run_checked(&scenario, &SimConfig { seed, ..base.clone() });
        events += run.events;
        if i == 0 {
            if let Some(path) = &args.history {
                if let Err(e) = std::fs::write(path, history.to_json()) {
                    eprintln!("error: writing {}: {e}", path.display());
                    return ExitCode::from(EXIT_INTERNAL);
                }
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
    println!(
        "{} seeds of {} ({} propagation, guarantees {guarantees}) in {:.2} s: {:.0} schedules/s, {:.0} events/s",
        args.seeds,
        source,
        bank_core::experiment::propagation_name(base.propagation),
        secs,
        args.seeds as f64 / secs,
        events as f64 / secs
    );
    for anomaly in Anomaly::ALL {
        let on = match anomaly {
            Anomaly::Broke(g) => if guarantees.has(g) { "on " } else { "off" },
            Anomaly::Overdraft => "   ",
        };
        let n = seen.get(&anomaly).copied().unwrap_or(0);
        println!("  {on} {:<22} {:>6} of {} seeds ({})", anomaly.to_string(), n, args.seeds, anomaly.nickname());
    }
    match broken {
        None => ExitCode::SUCCESS,
        Some((seed, explanation)) => {
            println!("BROKEN PROMISE at seed {seed}: {explanation}");
            ExitCode::from(1)
        }
    }
}
