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
use bank_backend::cluster::{Cluster, ClusterConfig};
use bank_backend::observe::Activity;
use bank_backend::runner::run_scenario;
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
    /// Run an input file on a real in-process cluster and print the output JSON.
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

    /// How a branch propagates a write before answering the customer.
    #[arg(long, value_enum, default_value_t = Propagation::Sequential)]
    propagation: Propagation,

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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BANK_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Serve(args) => serve(args),
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
    let scenario = formats::parse_input(&text, &source).map_err(|e| Failure::BadInput(e.to_string()))?;
    for warning in &scenario.warnings {
        eprintln!("warning: {source}: {warning}");
    }
    let format = args.format.unwrap_or_else(|| OutputFormat::default_for(scenario.shape));
    let schedule = args.schedule.unwrap_or_else(|| format.default_schedule());
    let options = OutputOptions { float_money: args.float_money, spelling: args.spelling, p2b_part: args.part };

    let mut config = ClusterConfig::for_scenario(&scenario);
    config.clock_scheme = format.clock_scheme();
    config.propagation = args.propagation.into();
    config.base_port = args.base_port;

    let runtime = runtime()?;
    let started = Instant::now();
    let record = runtime.block_on(run_on_cluster(&scenario, config, schedule, args.trace))?;
    let elapsed = started.elapsed();

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
    use bank_backend::{examples, lab::Lab, web};
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
    runtime.block_on(async {
        let lab = Lab::new(examples::all());
        if let Err(e) = lab.load(&text, &name, "").await {
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
) -> Result<RunRecord, Failure> {
    let mut config = config;
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
    let outcome = tokio::select! {
        r = run_scenario(scenario, cluster.addrs(), schedule) => Some(r),
        _ = tokio::signal::ctrl_c() => None,
    };
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
