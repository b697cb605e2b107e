//! `bank serve`: the visualizer's page, grpc-web and native gRPC on one
//! origin, over a lab with one scenario loaded, until Ctrl-C or SIGTERM.
//!
//! The lab runs its scenarios on branch servers in this process, or with
//! `--cluster` on branch processes started with `bank branch`. On a stop
//! signal it closes the lab first (ending the browsers' watch streams),
//! then lets the web server drain, and exits with status 0.
//!
//! The lab has no login, so it listens on loopback unless `--allow-remote`
//! (exit status 2 otherwise, before anything starts), and answers only
//! requests naming one of its own hosts (see [`bank_backend::net::hosts`]).

use std::path::Path;

use anyhow::Context;
use bank_backend::branch::standalone::check_listen;
use std::time::Duration;

use bank_backend::lab::limits::Limits;
use bank_backend::lab::registry::{Labs, LabsConfig};
use bank_backend::lab::{examples, Lab};
use bank_backend::net::hosts::{self, AllowedHosts};
use bank_backend::shutdown::interrupted;
use bank_backend::web;

use crate::args::ServeArgs;
use crate::exit::Failure;
use crate::external::connect_external;
use crate::input::read_input;
use crate::runtime::runtime;
use crate::stdout::outln;

/// The largest scenario file `--scenario` reads.
const MAX_SCENARIO_BYTES: u64 = 16 * 1024 * 1024;

/// `bank serve`; see the module docs.
pub fn serve(args: ServeArgs) -> Result<(), Failure> {
    if let Err(e) = check_listen(args.addr, args.allow_remote) {
        // A command-line mistake: clap's message and status 2.
        use clap::CommandFactory;
        crate::args::Cli::command().error(clap::error::ErrorKind::ArgumentConflict, e).exit();
    }
    room_for_files(args.max_labs);
    let (name, text) = match examples::find(&args.scenario) {
        Some(example) => (example.name.to_owned(), example.text.to_owned()),
        None => {
            let path = Path::new(&args.scenario);
            if !path.exists() && !args.scenario.contains(['/', '.']) {
                // Meant as a shipped example's name: say which there are.
                let names: Vec<String> =
                    examples::all().into_iter().map(|e| e.name.to_owned()).collect();
                return Err(Failure::NoInput(anyhow::anyhow!(
                    "--scenario {}: no shipped example has that name, and no file either; the \
                     examples are {}",
                    args.scenario,
                    names.join(", ")
                )));
            }
            let text = read_input(path, MAX_SCENARIO_BYTES)?;
            (args.scenario.clone(), text)
        }
    };
    let dev_origins = args
        .dev_origins
        .iter()
        .map(|o| {
            http::HeaderValue::from_str(o)
                .map_err(|_| Failure::BadInput(format!("--dev-origin {o:?} is not a valid origin")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let config = LabsConfig {
        max_labs: args.max_labs as usize,
        idle: Duration::from_secs_f64(args.lab_idle * 60.0),
        limits: Limits {
            max_branches: args.max_branches as usize,
            max_events: args.max_events as usize,
            max_history: args.max_history as usize,
        },
        instance: args.instance.clone(),
        ..LabsConfig::new(&name, &text)
    };
    let runtime = runtime()?;
    let external = match &args.cluster {
        None => None,
        Some(file) => {
            let _inside = runtime.enter();
            let external = connect_external(file, args.token.as_deref())?;
            let where_: Vec<String> =
                external.addrs().iter().map(|(id, a)| format!("{}={a}", id.0)).collect();
            eprintln!("driving the branches of {}: {}", file.display(), where_.join(", "));
            Some(external)
        }
    };
    runtime.block_on(async {
        let bad_scenario =
            |e: bank_proto::ScenarioError| format!("{name}:{}:{}: {}", e.line, e.column, e.message);
        let labs = match external {
            // One cluster, one lab: every viewer shares it.
            Some(external) => {
                let lab = Lab::with_external(examples::all(), external).with_limits(config.limits);
                if let Err(e) = lab.load(&text, &name, None).await {
                    return Err(Failure::BadInput(bad_scenario(e)));
                }
                Labs::shared(config, lab)
            }
            None => {
                // Each lab starts with this scenario: refuse a bad one now.
                let check = Lab::new(Vec::new()).with_limits(config.limits);
                let parsed = check.load(&text, &name, None).await;
                check.stop().await;
                if let Err(e) = parsed {
                    return Err(Failure::BadInput(bad_scenario(e)));
                }
                Labs::new(config)
            }
        };
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        if !addr.ip().is_loopback() {
            eprintln!("warning: listening on {addr}, reachable from other machines");
        }
        if !args.dist.join("index.html").is_file() {
            eprintln!(
                "warning: {} has no index.html; build the visualizer with `cargo xtask serve`",
                args.dist.display()
            );
        }
        // Before the URL is printed: whoever reads it may stop us at once.
        let stop = interrupted();
        let instance =
            args.instance.as_ref().map(|i| format!("instance {i}; ")).unwrap_or_default();
        let _ = outln!(
            "bank-sim visualizer: http://{addr}/  ({instance}scenario: {name}; Ctrl-C to stop)"
        );
        let allowed = AllowedHosts::new(addr, &dev_origins, args.public_hosts.clone());
        let app = hosts::guard(web::router(labs.clone(), &args.dist, &dev_origins), allowed);
        let closing = labs.clone();
        let shutdown = async move {
            stop.await;
            // End the browsers' watch streams first, or the graceful
            // shutdown would wait for them forever.
            closing.stop_all().await;
        };
        web::serve(listener, app, shutdown).await.context("serving")?;
        eprintln!("stopped");
        Ok(())
    })
}

/// Open files one lab needs at rest (its branches' listeners and the
/// links between them); a lab that runs holds some more.
const FILES_PER_LAB: u64 = 8;

/// Raises this process's limit of open files (the soft limit, up to the
/// hard one) to what `max_labs` labs may need: 1,024, a common default,
/// is about 250 idle labs. Says so when the system allows fewer.
fn room_for_files(max_labs: u32) {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let wanted = u64::from(max_labs) * FILES_PER_LAB + 256;
    let limit = getrlimit(Resource::Nofile);
    // `None` is no limit.
    let (soft, hard) = (limit.current.unwrap_or(u64::MAX), limit.maximum.unwrap_or(u64::MAX));
    if soft >= wanted {
        return;
    }
    let raised = Rlimit { current: Some(wanted.min(hard)), maximum: limit.maximum };
    let now = match setrlimit(Resource::Nofile, raised) {
        Ok(()) => wanted.min(hard),
        Err(_) => soft,
    };
    if now < wanted {
        eprintln!(
            "warning: this system lets bank serve open {now} files; {max_labs} labs (--max-labs) \
             may need {wanted}: raise `ulimit -n`, or lower --max-labs"
        );
    }
}
