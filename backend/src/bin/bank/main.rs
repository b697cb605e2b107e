//! # `bank`: the course's distributed bank on a real gRPC cluster
//!
//! The command-line face of bank-sim. Each subcommand is a thin layer over
//! `bank_core` (the pure branch machine, formats, checker, simulator) and
//! `bank_backend` (tokio + tonic servers, clusters, customers, the lab):
//! parse the arguments, read and validate the input, start what is needed,
//! print the output, exit with a documented status.
//!
//! | file | what it holds |
//! |---|---|
//! | `main.rs` | parse the command line, set up logging, run the subcommand, exit |
//! | `args.rs` | every flag and its `--help` text (clap), grouped per subcommand |
//! | `exit.rs` | the exit statuses and `Failure`, the reason for any status but 0 |
//! | `input.rs` | reading an input file (or stdin) with a size limit, regular files only |
//! | `output.rs` | checking `--history`, `--out-dir` and `--data-dir` can be written, before a run |
//! | `runtime.rs` | the tokio runtime and the stop signal (Ctrl-C, SIGTERM) |
//! | `external.rs` | `--cluster`: channels to branch processes started elsewhere |
//! | `run.rs` | `bank run`: an input on a cluster, the course output on stdout |
//! | `serve.rs` | `bank serve`: the visualizer and a live lab on one origin |
//! | `branch.rs` | `bank branch`: one branch server as its own process |
//! | `check.rs` | `bank check`: a history's violations, explained |
//! | `sim.rs` | `bank sim`: many seeds in the simulator, anomalies counted |
//! | `vector_clocks.rs` | `bank sim --vector-clocks`: one run's events with their vector clocks |
//! | `grade.rs` | `bank grade`: students' outputs checked, a class's grade book |
//!
//! Every subcommand returns `Result<(), Failure>`: one error style, mapped
//! to the exit status in one place (`exit.rs`).

mod args;
mod branch;
mod check;
mod exit;
mod external;
mod failures;
mod grade;
mod input;
mod output;
mod run;
mod runtime;
mod serve;
mod sim;
mod stdout;
mod vector_clocks;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A branch process logs what it does, `serve` its labs; the others only problems.
    let default_filter = match cli.command {
        Command::Branch(_) => "bank_backend=info,warn",
        // Each lab's start and stop.
        Command::Serve(_) => "bank_backend::lab=info,warn",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BANK_LOG")
                .unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal, not for a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Serve(args) => serve::serve(args),
        Command::Branch(args) => branch::branch(args),
        Command::Check(args) => check::check(args),
        Command::Sim(args) => sim::sim(args),
        Command::Grade(args) => grade::grade(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.exit(),
    }
}
