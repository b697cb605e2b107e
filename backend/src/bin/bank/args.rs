//! Every flag of `bank` and its help text: the clap definitions, grouped
//! per subcommand in the order `bank --help` lists them.
//!
//! What a flag means lives here, next to its `--help` text; what a command
//! does with it lives in the command's own file (`run.rs`, `serve.rs`, ...).
//! Values are parsed here, once: the commands receive typed settings
//! ([`OutputFormat`], [`Schedule`], [`Guarantees`], [`PropagationMode`]
//! through [`Propagation`]), never strings to parse again.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use bank_backend::lab::instance::Instance;
use bank_backend::net::hosts::PublicHost;
use bank_core::branch::PropagationMode;
use bank_core::formats::{OutputFormat, P2bPart, Spelling};
use bank_core::{BranchId, Cents, Guarantees, Schedule};
use clap::{Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Exit status: 0 success; 2 bad command line (also a flag the input rules out, \
e.g. --base-port too high for its branches); 65 bad input file or settings; \
66 input file unreadable or not a regular file; 70 internal error (a bug); \
73 an output (--history, --out-dir, --data-dir) cannot be written; 130 interrupted.

Limits: 1,000 branches, 100,000 customers and 100,000 events per input; \
amounts and balances up to 9,999,999,999,999.99.";

/// The largest `--max-input-bytes` (1 GiB): the file is read into memory.
const MAX_INPUT_BYTES_LIMIT: u64 = 1 << 30;

const RUN_AFTER_HELP: &str = "\
Every request has a deadline (--request-timeout): a branch that is down, cut off or \
silent fails the request for its customer (\"unavailable\"), and the run goes on and \
always ends. If any request failed that way (or was not ready in time), the output is \
still printed, stderr says how many requests failed, where and why, and the exit status \
is 3. A withdraw refused for insufficient funds is a normal result, not a failure.";

/// A distributed bank of gRPC branches, for learning distributed systems.
///
/// Each branch is a real gRPC server holding a replica of the balance;
/// customers send deposit / withdraw / query events; branches propagate every
/// write to each other.
#[derive(Debug, Parser)]
#[command(name = "bank", version, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an input file on a real in-process cluster (or, with --cluster, on
    /// branch processes) and print the output JSON.
    ///
    /// The input may be any course format (projects 1, 2 and 3); it is
    /// detected automatically. The output is the JSON that format's grader
    /// expects, on stdout. Traces and state dumps go to stderr.
    ///
    /// Exit status 3: the run completed, but some requests failed because a
    /// branch was down, cut off or not ready in time (see below).
    #[command(after_help = format!("{RUN_AFTER_HELP}\n\n{AFTER_HELP}"))]
    Run(RunArgs),
    /// Serve the browser visualizer and a live cluster per viewer on one origin.
    ///
    /// Open the printed URL: pick a scenario, play it, watch every message
    /// travel between real gRPC branch servers, and send your own customer
    /// events. Every page load gets its own lab (`?lab=` in its address;
    /// "Share to follow" gives a read-only `?follow=` link), within the
    /// --max-* limits below. Needs the frontend built (`cargo xtask serve`
    /// builds it); without it, only the gRPC services run.
    Serve(ServeArgs),
    /// Run one branch as its own process (one per machine, container or namespace).
    ///
    /// The branch serves its gRPC services (Customer, Replica, Admin) on --listen and propagates
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
    /// Grade students' outputs against an input: exact (what `bank run`
    /// prints) and valid (what some legal execution prints), every
    /// difference explained.
    ///
    /// Each SUBMISSION is an output file, a folder of one student's files
    /// (p2b's three lists, found by content), or a folder of such folders (a
    /// class: one sub-folder per student). The format is detected; --format
    /// forces it. A class gets a summary table (text, --csv, --json or
    /// --markdown); --points weighs the checks for a grade book.
    #[command(after_help = GRADE_AFTER_HELP)]
    Grade(GradeArgs),
}

// ---- bank run -------------------------------------------------------------

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The input file (JSON), or `-` for standard input.
    pub input: PathBuf,

    /// Output format [default: chosen from the input's shape].
    ///
    /// p1: project 1 (autumn 2023: queries answer under "balance");
    /// p1-money: project 1 handout (queries answer under "money", final balances);
    /// p2a: project 2 up to spring 2023 (pid / eventid lists with Lamport clocks);
    /// p2b: project 2 from autumn 2023 (customer, branch and all-events lists);
    /// p3: project 3 (one balance per customer for `dest` inputs, one object
    /// per event for `branch` inputs).
    #[arg(short, long, value_parser = parse_format)]
    pub format: Option<OutputFormat>,

    /// How customers interleave [default: the format's convention].
    ///
    /// sequential: one customer after another, each event fully propagated
    /// before the next;
    /// concurrent: all customers at once (each still in its own order);
    /// writes-first: all customers' writes at once, then all queries (every
    /// query sees the final balance).
    #[arg(long, value_parser = parse_schedule)]
    pub schedule: Option<Schedule>,

    /// How a branch propagates a write before answering the customer
    /// [default: the experiment's, else sequential].
    #[arg(long, value_enum)]
    pub propagation: Option<Propagation>,

    /// Session guarantees every customer asks for: all, none, course (Read
    /// Your Writes and Monotonic Writes), or a list like ryw,mr,wfr,mw
    /// [default: the experiment's, else course].
    #[arg(long, value_parser = parse_guarantees)]
    pub guarantees: Option<Guarantees>,

    /// Seed of every random delay and loss [default: the experiment's, else 0].
    #[arg(long, value_parser = parse_seed)]
    pub seed: Option<u64>,

    /// Directory for the branches' durable stores [default: a temporary
    /// directory, removed afterwards].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,

    /// Write the run's history (every operation and every branch's apply
    /// order) to this file, for `bank check`.
    #[arg(long)]
    pub history: Option<PathBuf>,

    /// After the run, check the history and print the report on stderr.
    #[arg(long)]
    pub check: bool,

    /// Narrate every message on stderr, like the reference implementation's log.
    #[arg(long)]
    pub trace: bool,

    /// After the run, print each branch's balance, write sets and event log on stderr.
    #[arg(long)]
    pub dump_state: bool,

    /// Listen on consecutive ports from this one (the course uses 50051)
    /// instead of ephemeral ports; every branch's port must be at most 65535.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub base_port: Option<u16>,

    /// Print whole amounts as floats (`500.0`), as some course outputs do.
    #[arg(long)]
    pub float_money: bool,

    /// Spelling of "propagate" in project 2 event names.
    #[arg(long, value_parser = parse_spelling, default_value = "propagate")]
    pub spelling: Spelling,

    /// Which project 2 (p2b) list to print on stdout.
    #[arg(long, value_parser = parse_part, default_value = "all")]
    pub part: P2bPart,

    /// Also write the output file(s) into this directory (p2b: all three lists).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,

    /// Refuse input files larger than this many bytes (1 to 1073741824).
    #[arg(
        long,
        default_value_t = 16 * 1024 * 1024,
        value_parser = clap::value_parser!(u64).range(1..=MAX_INPUT_BYTES_LIMIT)
    )]
    pub max_input_bytes: u64,

    /// Run on the branches of this cluster file (started with `bank branch`)
    /// instead of starting branches in this process. The input's branch ids
    /// must be the file's; each branch is reset to the input's balance first.
    #[arg(long, conflicts_with = "base_port")]
    pub cluster: Option<PathBuf>,

    /// With --cluster: the branches' shared secret [default: $BANK_TOKEN,
    /// else the cluster file's token].
    #[arg(long, requires = "cluster")]
    pub token: Option<String>,

    /// How long a customer waits for a branch's answer before the request
    /// fails as unavailable, in seconds (decimals allowed); also the longest
    /// wait for busy branches to become quiet between phases and at the end.
    #[arg(long, default_value = "10", value_parser = parse_seconds)]
    pub request_timeout: std::time::Duration,
}

/// `--guarantees`: as a file says them, but not empty (`--guarantees ""`
/// or `ryw,` said nothing about what it gave).
fn parse_guarantees(s: &str) -> Result<Guarantees, String> {
    if s.split(',').any(|part| part.trim().is_empty()) {
        return Err(format!(
            "`{s}` names an empty guarantee: give all, none, course, or a list like ryw,mr"
        ));
    }
    s.parse()
}

/// A seed: any whole number a u64 holds, said so when it is not one
/// (clap's words were "number too large to fit in target type").
fn parse_seed(s: &str) -> Result<u64, String> {
    s.parse()
        .map_err(|_| format!("`{s}` is not a seed: give a whole number from 0 to {}", u64::MAX))
}

/// A positive number of seconds, at most a day.
fn parse_seconds(s: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = s.trim().parse().map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= 86_400.0) {
        return Err(format!("`{s}`: give a number of seconds above 0 and at most 86400"));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
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

// ---- bank serve -----------------------------------------------------------

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (page, grpc-web and gRPC share it). Anything
    /// but loopback needs --allow-remote.
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = parse_listen_addr)]
    pub addr: SocketAddr,

    /// Allow an --addr that other machines can reach (the lab has no login:
    /// anyone who reaches it can drive it).
    #[arg(long)]
    pub allow_remote: bool,

    /// A name this server is reached by besides its address (a DNS name, a
    /// reverse proxy's host): NAME for any port, or NAME:PORT. Requests
    /// naming any other host are refused (421), against DNS rebinding.
    /// Repeat for several.
    #[arg(long = "public-host", value_name = "NAME", value_parser = parse_public_host)]
    pub public_hosts: Vec<PublicHost>,

    /// Directory of the built frontend (`trunk build` output).
    #[arg(long, default_value = "dist")]
    pub dist: PathBuf,

    /// Scenario to load at start: a shipped example's name or a file path.
    #[arg(long, default_value = "seed-test-1")]
    pub scenario: String,

    /// Origin allowed to call the services cross-origin (the `trunk serve`
    /// development server). Repeat for several; same-origin needs none.
    #[arg(
        long = "dev-origin",
        default_values_t = [
            String::from("http://127.0.0.1:8081"),
            String::from("http://localhost:8081"),
        ]
    )]
    pub dev_origins: Vec<String>,

    /// Run the scenarios on the branches of this cluster file (started with
    /// `bank branch`) instead of in this process; the page shows their
    /// messages. Scenarios must have the file's branch ids.
    #[arg(long)]
    pub cluster: Option<PathBuf>,

    /// With --cluster: the branches' shared secret [default: $BANK_TOKEN,
    /// else the cluster file's token].
    #[arg(long, requires = "cluster")]
    pub token: Option<String>,

    /// Labs running at once (each page load and each embedded frame opens
    /// its own lab, with its own cluster: a class of 40 with a course page
    /// of three frames needs 120); one more page is told the server is
    /// full. An idle lab holds about 0.1 MiB and 4 open files.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_labs: u32,

    /// Branches a scenario may have (each is a gRPC server with its own port).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_branches: u32,

    /// Scripted customer events a scenario may have.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_events: u32,

    /// Events one run may record in its lab's history; a run that reaches it
    /// is stopped, with a message in the page.
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u32).range(16..))]
    pub max_history: u32,

    /// Minutes a lab may go without a viewer before it is stopped and its
    /// ports and memory freed (decimals allowed: 0.5 = 30 s).
    #[arg(long, default_value_t = 10.0, value_parser = parse_minutes)]
    pub lab_idle: f64,

    /// This server's name among several behind one reverse proxy: every lab
    /// id and follow id it issues starts with NAME- so the proxy can send a
    /// lab's calls to it (deploy/nginx.conf). Lowercase letters and digits.
    #[arg(long, value_name = "NAME", value_parser = parse_instance)]
    pub instance: Option<Instance>,
}

fn parse_instance(s: &str) -> Result<Instance, String> {
    s.parse().map_err(|e: bank_backend::lab::instance::BadInstance| e.to_string())
}

/// An address to listen on: `127.0.0.1:8080`, `[::1]:8080`, or
/// `localhost:8080` (the loopback address; the name most people type).
pub fn parse_listen_addr(s: &str) -> Result<SocketAddr, String> {
    if let Some(port) = s.strip_prefix("localhost:") {
        let port: u16 = port.parse().map_err(|_| format!("`{port}` is not a port (0 to 65535)"))?;
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse().map_err(|_| {
        format!(
            "`{s}` is not an address to listen on: give one like 127.0.0.1:8080 or localhost:8080"
        )
    })
}

fn parse_minutes(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(m) if m.is_finite() && m > 0.0 && m <= 7.0 * 24.0 * 60.0 => Ok(m),
        _ => Err(format!(
            "{s:?} is not a number of minutes above 0 and at most 10080 (a week); 0.5 is 30 s"
        )),
    }
}

// ---- bank branch ----------------------------------------------------------

const BRANCH_AFTER_HELP: &str = "\
Example: bank branch --id 3 --listen 0.0.0.0:50053 --allow-remote \
--peers 1=hostA:50051,2=hostB:50052

Exit status: 0 stopped by SIGTERM or Ctrl-C, 2 bad command line, 65 bad cluster \
file or settings, 66 cluster file unreadable, 70 the server failed, 73 --data-dir \
cannot be written.";

#[derive(Debug, clap::Args)]
pub struct BranchArgs {
    /// This branch's id.
    #[arg(long)]
    pub id: u64,

    /// Address to listen on [default: this branch's address in --cluster].
    /// Anything but loopback needs --allow-remote.
    #[arg(long)]
    pub listen: Option<String>,

    /// Allow a --listen address that other machines can reach.
    #[arg(long)]
    pub allow_remote: bool,

    /// The other branches: ID=HOST:PORT,ID=HOST:PORT,...
    #[arg(
        long,
        value_parser = parse_peers,
        conflicts_with = "cluster",
        required_unless_present = "cluster"
    )]
    pub peers: Option<BTreeMap<BranchId, String>>,

    /// A cluster file (cluster.toml) listing every branch; see the README.
    #[arg(long)]
    pub cluster: Option<PathBuf>,

    /// Starting balance until a driver resets the branch [default: the
    /// cluster file's balance for this branch, else 0].
    #[arg(long, value_parser = parse_money)]
    pub balance: Option<Cents>,

    /// How this branch propagates a write (a driver's reset overrides it).
    #[arg(long, value_enum, default_value_t = Propagation::Sequential)]
    pub propagation: Propagation,

    /// Directory for the branch's durable state (created if missing). A
    /// customer's write is acknowledged only once it is stored and flushed
    /// there; while the disk is full the branch refuses writes (saying why)
    /// and still answers queries. A store damaged in the middle is refused
    /// at start (exit 65), naming the file and byte offset.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,

    /// Shared secret every caller must present [default: $BANK_TOKEN, else
    /// the cluster file's token].
    #[arg(long)]
    pub token: Option<String>,

    /// TLS: this branch's certificate (PEM). Needs --tls-key and --tls-ca.
    #[arg(long)]
    pub tls_cert: Option<PathBuf>,

    /// TLS: this branch's private key (PEM).
    #[arg(long)]
    pub tls_key: Option<PathBuf>,

    /// TLS: the authority that signed the branches' certificates (PEM), to
    /// check the peers with.
    #[arg(long)]
    pub tls_ca: Option<PathBuf>,

    /// TLS: the name in the peers' certificates, when their addresses are not.
    #[arg(long)]
    pub tls_domain: Option<String>,
}

fn parse_public_host(s: &str) -> Result<PublicHost, String> {
    PublicHost::parse(s)
}

fn parse_peers(s: &str) -> Result<BTreeMap<BranchId, String>, String> {
    bank_backend::cluster::file::parse_peers(s)
}

fn parse_money(s: &str) -> Result<Cents, String> {
    Cents::parse(s).map_err(|e| e.to_string())
}

// ---- bank check -----------------------------------------------------------

const CHECK_AFTER_HELP: &str = "\
Exit status: 0 no violation, 1 violations found, 2 bad command line, 65 bad \
history file, 66 history file unreadable or not a regular file.";

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The history file (JSON), or `-` for standard input.
    pub history: PathBuf,

    /// Print the violations as JSON instead of sentences.
    #[arg(long)]
    pub json: bool,

    /// Show at most this many violations per guarantee [default: 10; with
    /// --json, all of them].
    #[arg(long)]
    pub max: Option<usize>,
}

// ---- bank sim -------------------------------------------------------------

const SIM_AFTER_HELP: &str = "\
Example: bank sim examples/demo-stale-read.json --seeds 1000 --guarantees all
         bank sim examples/seed-test-1.json --vector-clocks

Exit status: 0 no guarantee that was on was broken, 1 one was (a bug: please \
report it with the seed), 2 bad command line, 65 bad input file, 66 input file \
unreadable, 73 --history cannot be written, 130 Ctrl-C (after printing the totals \
of the seeds that ran).";

#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// The input or experiment file (JSON).
    pub input: PathBuf,

    /// How many seeds to run, starting at --seed (after the largest seed,
    /// 18446744073709551615, they go on from 0).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub seeds: u64,

    /// The first seed [default: the experiment's, else 0].
    #[arg(long, value_parser = parse_seed)]
    pub seed: Option<u64>,

    /// Session guarantees: all, none, course, or a list like ryw,mr
    /// [default: the experiment's, else course].
    #[arg(long, value_parser = parse_guarantees)]
    pub guarantees: Option<Guarantees>,

    /// How branches propagate [default: the experiment's, else background].
    #[arg(long, value_enum)]
    pub propagation: Option<Propagation>,

    /// Write the first seed's history here (for `bank check`).
    #[arg(long)]
    pub history: Option<PathBuf>,

    /// Run only the first seed and print every event with its vector clock
    /// instead of counting anomalies.
    ///
    /// A vector clock has one counter per lane (b2: branch 2, c0: the
    /// customer session of input entry 0): how many of that lane's events
    /// happened before this one, through its own order and the messages
    /// (requests, replies, propagations, acknowledgements). `[b1:3 c0:2]`
    /// leaves out the zeros. Event A happened before B exactly when A's
    /// clock is at most B's in every lane; when neither is, they are
    /// concurrent, which the Lamport clocks printed next to them cannot
    /// tell.
    #[arg(long, conflicts_with_all = ["seeds", "history"])]
    pub vector_clocks: bool,
}

// ---- shared by run, branch and sim ----------------------------------------

/// `--propagation` choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Propagation {
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

// ---- bank grade -----------------------------------------------------------

const GRADE_AFTER_HELP: &str = "\
Exit status: 0 every submission valid, 1 some submission not valid, 2 bad command \
line, 65 bad input, points file or an unreadable submission (not JSON, empty, another \
project's format), 66 input unreadable.";

#[derive(Debug, clap::Args)]
pub struct GradeArgs {
    /// The course input the students ran.
    pub input: PathBuf,

    /// Output files (`-`: standard input), folders of one student's files,
    /// or class folders.
    #[arg(required = true)]
    pub submissions: Vec<PathBuf>,

    /// Grade as this output format [default: detected from each file].
    #[arg(short, long, value_parser = parse_format)]
    pub format: Option<OutputFormat>,

    /// The report as CSV (one row per student).
    #[arg(long, group = "style")]
    pub csv: bool,

    /// The report as JSON (every problem of every student).
    #[arg(long, group = "style")]
    pub json: bool,

    /// The report as Markdown (the table, then the problems).
    #[arg(long, group = "style")]
    pub markdown: bool,

    /// Points per check category (TOML: exact, answers, balances, clocks,
    /// propagation, guarantees).
    #[arg(long, value_name = "FILE")]
    pub points: Option<PathBuf>,

    /// Refuse input and submission files larger than this many bytes (1 to
    /// 1073741824).
    #[arg(
        long,
        default_value_t = 64 * 1024 * 1024,
        value_parser = clap::value_parser!(u64).range(1..=MAX_INPUT_BYTES_LIMIT)
    )]
    pub max_input_bytes: u64,
}
