//! `cargo xtask bench`: how fast the real cluster is, next to the limit of
//! the machine measured in the same run, written to `BENCHMARKS.md`.
//!
//! Not a test: numbers on a shared 2-core machine are noisy, so nothing here
//! asserts a speed. Every loop is bounded in count and in time.
//!
//! 1. Course inputs through the real cluster (start, run, stop): N runs, min / median.
//! 2. The raw limit: unary gRPC round trips on loopback (`Inspect`, brief), with
//!    the same runtime, measured again before each row; then propagated writes
//!    per second through clusters of 3, 10 and 20 branches with many
//!    concurrent customers, the latency of a write (sent → answered, which
//!    with synchronous propagation is after the last branch applied it), and
//!    the ratio of deliveries to the limit, by wall clock and by CPU time;
//!    then the 3-branch row with stores flushed to the disk (`--data-dir`).
//!    `--only propagation` runs this section alone and prints it.
//! 3. The deterministic simulator: schedules and events per second for the
//!    checker property (hostile network, every guarantee on, history checked).
//! 4. The frontend bundle in `dist/` (raw and gzip), when it has been built.
//! 5. Peak resident memory of `bank serve` itself (its VmHWM) with 20 branches
//!    under the load of section 2, sent through its web origin's `Customer`
//!    service; and of this process (in-process clusters) after section 2.
//!    Its bytes per recorded write, twice: as earlier runs measured it,
//!    (peak − resident before the load) / writes, which also spreads the
//!    lab's fixed costs (its links, buffers) over the writes; and what a
//!    write keeps: the growth of the resident memory over more writes on
//!    the same lab (a slope), with the fixed cost that leaves.
//!    `--only memory` prints this and 5b alone, `--only memory-serve` this alone.
//!    5b: many labs on one `bank serve`, N labs × M followers playing
//!    `project3-big` at full speed; peak memory, memory per lab, the delay
//!    from the lab recording an event to a follower receiving it (see
//!    `labs/mod.rs`).
//! 6. How `bank run` scales (BENCHMARKS.md 5c): peak memory for 50-400 branches, and time per
//!    1,000 events at 1,000-100,000 events (see `scale/mod.rs`);
//!    `--only scale` (or `scale-rss`, `scale-events`) prints those rows alone.
//! 7. The record of fixes these numbers led to, before → after
//!    (`before-after.md`, kept by hand: past measurements, not this run's).

#[path = "labs/mod.rs"]
mod labs;
#[path = "scale/mod.rs"]
mod scale;
#[path = "serve_process/mod.rs"]
mod serve_process;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bank_backend::cluster::local::{Cluster, ClusterConfig};
use bank_backend::customers::runner::run_scenario_on;
use bank_backend::lab::registry::LAB_HEADER;
use bank_backend::net::transport::{self, channel_to, BankChannel};
use bank_core::branch::PropagationMode;
use bank_core::formats::{self, OutputFormat};
use bank_core::sim::SimConfig;
use bank_core::*;
use bank_proto as pb;
use bank_proto::admin_client::AdminClient;
use bank_proto::customer_client::CustomerClient;

const RUNS: usize = 5;
/// Where the browser section goes (see `xtask bench`).
const BROWSER_MARKER: &str = "<!-- browser measurements: run `cargo xtask bench` -->";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// CPU time (user + system, every thread) this process has used so far.
/// On a shared machine the wall clock also counts the neighbours' work; the
/// CPU time an operation costs does not.
fn cpu_time() -> Duration {
    // /proc/self/stat: fields 14 and 15 (utime, stime), in clock ticks of
    // 1/100 s (USER_HZ), after the command name in parentheses.
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> =
        stat.rsplit_once(')').expect("stat format").1.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_millis(ticks * 10)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

async fn course_input(name: &str, rel: &str) -> String {
    let text = std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let scenario = formats::parse_input(&text, rel).expect("course input parses");
    let format = OutputFormat::default_for(scenario.shape);
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let mut config = ClusterConfig::for_scenario(&scenario);
        config.clock_scheme = format.clock_scheme();
        let cluster = Cluster::start(config).await.expect("cluster");
        run_scenario_on(
            &scenario,
            &cluster.channels(),
            format.default_schedule(),
            Default::default(),
        )
        .await
        .expect("run");
        cluster.shutdown().await;
        times.push(started.elapsed());
    }
    let min = *times.iter().min().expect("runs");
    format!(
        "| {name} | {} | {} | {} | {} | {} |\n",
        scenario.branches.len(),
        scenario.event_count(),
        RUNS,
        ms(min),
        ms(median(times))
    )
}

/// Unary round trips per second against one branch, from `clients` tasks,
/// for `window`.
async fn raw_unary_limit(clients: usize, window: Duration) -> Rate {
    let cluster = Cluster::start(ClusterConfig::new(vec![(BranchId(1), Cents::ZERO)]))
        .await
        .expect("cluster");
    let channel = cluster.channels()[&BranchId(1)].clone();
    let done = Arc::new(AtomicU64::new(0));
    let (started, cpu) = (Instant::now(), cpu_time());
    let deadline = started + window;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let mut client = AdminClient::new(channel.clone());
            let done = done.clone();
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    client
                        .inspect(pb::InspectRequest { wait_until_quiet: false, brief: true })
                        .await
                        .expect("inspect");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("client task");
    }
    let rate = Rate::of(done.load(Ordering::Relaxed) as f64, started, cpu);
    cluster.shutdown().await;
    rate
}

/// Operations per second of wall-clock time and per second of CPU time.
#[derive(Clone, Copy)]
struct Rate {
    wall: f64,
    cpu: f64,
}

impl Rate {
    /// `ops` done since `started`, when the process had used `cpu`.
    fn of(ops: f64, started: Instant, cpu: Duration) -> Rate {
        Rate {
            wall: ops / started.elapsed().as_secs_f64(),
            cpu: ops / (cpu_time() - cpu).as_secs_f64(),
        }
    }
}

struct Throughput {
    writes: usize,
    /// Writes delivered to peers (writes × (n−1)).
    deliveries: Rate,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
    /// `PropagateBatch` calls the branches sent, and the writes they carried.
    calls: u64,
    carried: u64,
}

/// How long, and how much, [`send_deposits`] sends.
#[derive(Clone, Copy, Debug)]
struct Load {
    /// Stop sending after this long...
    window: Duration,
    /// ... or after this many writes per customer.
    writes_each: u64,
    /// Numbers this load's customers apart from an earlier load's on the
    /// same bank (customer ids `phase · 10⁹ + …`), so every session is new.
    phase: u64,
}

impl Load {
    /// Section 2's load: as many writes as `window` takes.
    fn for_window(window: Duration) -> Load {
        Load { window, writes_each: 1_000_000, phase: 0 }
    }
}

/// The load of section 2: `customers` concurrent customers send deposits
/// (each waits for its answer) round-robin over the branches for
/// `load.window` (or `load.writes_each` writes each); `channels[b - 1]`
/// reaches branch `b`. Every session makes [`SESSION_WRITES`] writes, then
/// a new customer takes over. Returns each write's latency (sent → answered).
async fn send_deposits(
    channels: Vec<BankChannel>,
    customers: u64,
    load: Load,
    lab: Option<tonic::metadata::AsciiMetadataValue>,
) -> Vec<Duration> {
    let branches = channels.len() as u64;
    let deadline = Instant::now() + load.window;
    let first_customer = load.phase * 1_000_000_000;
    let tasks: Vec<_> = (0..customers)
        .map(|c| {
            let (channels, lab) = (channels.clone(), lab.clone());
            tokio::spawn(async move {
                let mut session = Session::new(CustomerId(first_customer + c + 1));
                let mut latencies = Vec::new();
                // Bounded in time and in count.
                for i in 0..load.writes_each.min(1_000_000) {
                    if Instant::now() > deadline {
                        break;
                    }
                    // A customer's session carries every write it made, so
                    // a session that never ends would make each request
                    // bigger than the last: customers come and go instead.
                    if i % SESSION_WRITES == 0 {
                        let id = first_customer + c * 1_000_000 + i / SESSION_WRITES + 1;
                        session = Session::new(CustomerId(id));
                    }
                    let branch = (c + i) % branches + 1;
                    let request =
                        session.request(EventId(i + 1), BranchId(branch), Op::Deposit(Cents(1)));
                    let sent = Instant::now();
                    let mut client = CustomerClient::new(channels[(branch - 1) as usize].clone());
                    let mut call = tonic::Request::new(pb::CustomerRequest::from(&request));
                    if let Some(lab) = &lab {
                        // Through a web origin: the lab it goes to.
                        call.metadata_mut().insert(LAB_HEADER, lab.clone());
                    }
                    let call = client.request(call);
                    let reply = tokio::time::timeout(Duration::from_secs(30), call)
                        .await
                        .expect("an answer within 30 s")
                        .expect("request")
                        .into_inner();
                    latencies.push(sent.elapsed());
                    session.observe(&bank_core::branch::Reply::try_from(&reply).expect("reply"));
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("customer task"));
    }
    latencies
}

/// [`send_deposits`] through a fresh in-process cluster; parallel propagation.
/// With `data_dir`, the branches keep their stores there and flush them to
/// the disk before every customer reply (as `bank run --data-dir` does);
/// without, in a temporary directory that is never flushed.
async fn propagated_writes(
    branches: u64,
    customers: u64,
    window: Duration,
    data_dir: Option<PathBuf>,
) -> Throughput {
    let mut config =
        ClusterConfig::new((1..=branches).map(|b| (BranchId(b), Cents::ZERO)).collect());
    config.propagation = PropagationMode::Parallel;
    config.data_dir = data_dir;
    let cluster = Cluster::start(config).await.expect("cluster");
    let channels: Vec<_> =
        (1..=branches).map(|b| cluster.channels()[&BranchId(b)].clone()).collect();
    let (started, cpu) = (Instant::now(), cpu_time());
    let mut latencies = send_deposits(channels, customers, Load::for_window(window), None).await;
    let elapsed = started.elapsed();
    let deliveries = Rate::of((latencies.len() as u64 * (branches - 1)) as f64, started, cpu);
    let (calls, carried) =
        (cluster.control().link_stats().calls(), cluster.control().link_stats().writes());
    cluster.shutdown().await;
    latencies.sort();
    Throughput {
        writes: latencies.len(),
        deliveries,
        elapsed,
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        calls,
        carried,
    }
}

fn simulator(seeds: u64) -> (f64, f64) {
    let ev = |id, op, b| ScriptEvent { id: EventId(id), op, branch: BranchId(b), line: 0 };
    let customers = (0..4u64)
        .map(|c| CustomerScript {
            id: CustomerId(c + 1),
            line: 0,
            events: (0..6u64)
                .map(|i| {
                    let op = match i % 3 {
                        0 => Op::Deposit(Cents::units(10)),
                        1 => Op::Withdraw(Cents::units(5)),
                        _ => Op::Query,
                    };
                    ev(c * 6 + i + 1, op, (c + i) % 4 + 1)
                })
                .collect(),
        })
        .collect();
    let scenario = Scenario {
        shape: InputShape::EventsWithBranch,
        branches: (1..=4)
            .map(|b| BranchSpec { id: BranchId(b), balance: Cents::units(100), line: 0 })
            .collect(),
        customers,
        warnings: vec![],
    };
    let started = Instant::now();
    let mut events = 0usize;
    for seed in 0..seeds {
        // The checker property, as `tests/faults.rs` runs it: a hostile
        // network (random delays, 10% loss, a crash and a partition), every
        // guarantee on, and the history checked.
        let config = SimConfig {
            schedule: Schedule::Concurrent,
            propagation: PropagationMode::Background,
            guarantees: bank_core::Guarantees::ALL,
            network: bank_core::NetworkPlan {
                delay_ms: bank_core::network::Delay::Between(1, 30),
                drop_percent: 10,
                faults: vec![
                    bank_core::network::TimedFault {
                        at_ms: 5,
                        fault: bank_core::network::Fault::Crash(2),
                    },
                    bank_core::network::TimedFault {
                        at_ms: 20,
                        fault: bank_core::network::Fault::Cut([1, 3]),
                    },
                    bank_core::network::TimedFault {
                        at_ms: 60,
                        fault: bank_core::network::Fault::Restart(2),
                    },
                    bank_core::network::TimedFault {
                        at_ms: 90,
                        fault: bank_core::network::Fault::Heal([1, 3]),
                    },
                ],
                ..Default::default()
            },
            seed,
            ..SimConfig::default()
        };
        let checked = bank_core::experiment::demo::run_checked(&scenario, &config)
            .expect("the simulated run finishes");
        assert_eq!(checked.report.broken_promises().count(), 0, "seed {seed}: a guarantee broke");
        events += checked.run.events as usize;
    }
    let secs = started.elapsed().as_secs_f64();
    (seeds as f64 / secs, events as f64 / secs)
}

/// What [`serve_under_load`] measured.
struct ServeLoad {
    /// The first load (section 2's window): its writes and time.
    writes: usize,
    elapsed: Duration,
    /// `bank serve`'s VmHWM and VmRSS after the first load, KiB.
    peak_kib: u64,
    now_kib: Option<u64>,
    /// Its VmRSS with the lab open, before the load, KiB.
    before_kib: u64,
    /// Its VmRSS after [`SLOPE_WRITES`] more writes per customer, and after
    /// twice as many more again: (writes recorded so far, KiB) at each point.
    slope: [(usize, u64); 2],
    /// Its VmHWM at the end, KiB.
    end_peak_kib: Option<u64>,
}

impl ServeLoad {
    /// What each write of the first load added at the peak, bytes: the
    /// figure of earlier runs. It also counts what the cluster costs
    /// whatever its writes (the links made under the load, buffers), spread
    /// over the first load's writes.
    fn bytes_per_write(&self) -> f64 {
        self.peak_kib.saturating_sub(self.before_kib) as f64 * 1024.0 / self.writes.max(1) as f64
    }

    /// What a recorded write keeps, bytes: the growth of the resident
    /// memory between the two later points, over the writes between them
    /// (on the same lab, its links made and its buffers grown by then).
    fn marginal_bytes_per_write(&self) -> f64 {
        let [(w0, kib0), (w1, kib1)] = self.slope;
        (kib1 as f64 - kib0 as f64) * 1024.0 / (w1 - w0).max(1) as f64
    }

    /// What the lab costs besides its writes, KiB: the resident memory at
    /// the first later point, less what was there before the load, less the
    /// writes so far at [`ServeLoad::marginal_bytes_per_write`].
    fn fixed_kib(&self) -> f64 {
        let (writes, kib) = self.slope[0];
        kib as f64
            - self.before_kib as f64
            - writes as f64 * self.marginal_bytes_per_write() / 1024.0
    }
}

/// Writes per customer in the first slope load of [`serve_under_load`]
/// (the second sends twice as many): one session each.
const SLOPE_WRITES: u64 = SESSION_WRITES;

/// Starts `bank serve` with `branches` branches (parallel propagation, no
/// scripted customers), then sends it the load of section 2
/// ([`send_deposits`]) for `window`, through the serve port's `Customer`
/// service (which forwards every request to its branch and records it in
/// the lab's history, as for a browser). Reads the server's peak resident
/// memory from /proc; then its resident memory after [`SLOPE_WRITES`] more
/// writes per customer, and after twice as many more (new customers each
/// time, the same lab).
fn serve_under_load(branches: u64, customers: u64, window: Duration) -> Result<ServeLoad, String> {
    use std::process::Command;

    let dir = std::env::temp_dir().join(format!("bank-bench-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let bank: Vec<String> = (1..=branches)
        .map(|b| format!(r#"{{"id": {b}, "type": "branch", "balance": 0}}"#))
        .collect();
    let scenario = dir.join("branches.json");
    std::fs::write(
        &scenario,
        format!(r#"{{"propagation": "parallel", "bank": [{}]}}"#, bank.join(", ")),
    )
    .map_err(|e| format!("{}: {e}", scenario.display()))?;
    let (mut child, addr) = serve_process::start(
        Command::new(env!("CARGO_BIN_EXE_bank"))
            .args(["serve", "--addr", "127.0.0.1:0", "--scenario"])
            .arg(&scenario)
            // Measures the whole history, uncapped (the default cap would stop
            // a long window's run).
            .args(["--max-history", "100000000"])
            // No frontend: the placeholder page is enough, only gRPC is used.
            .arg("--dist")
            .arg(dir.join("no-dist")),
    )?;
    let pid = child.id();
    let result = (|| {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
        // One channel to the web origin: each request names its lab (opened
        // first, as a page does) and its branch.
        let raw = {
            let _inside = runtime.enter();
            channel_to(addr)
        };
        let opened = runtime.block_on(async {
            pb::lab_client::LabClient::new(raw.clone())
                .open(pb::OpenRequest::default())
                .await
                .expect("a lab opens")
                .into_inner()
        });
        let lab: tonic::metadata::AsciiMetadataValue =
            opened.lab_id.parse().expect("a lab id is ASCII");
        // The lab's own run (its scenario has no customers) starts at the
        // open and ends once its branches agree, comparing their whole
        // states: measured from when it has ended, so that none of its
        // inspections, which grow with the writes, run during the load.
        runtime.block_on(run_finished(raw.clone(), lab.clone()))?;
        let before_kib = serve_process::status_kib(pid, "VmRSS:")?;
        let channels = vec![transport::plain(raw); branches as usize];
        let send = |load: Load| {
            let (channels, lab) = (channels.clone(), lab.clone());
            runtime.block_on(async move {
                let started = Instant::now();
                let latencies = send_deposits(channels, customers, load, Some(lab)).await;
                (latencies.len(), started.elapsed())
            })
        };
        let (writes, elapsed) = send(Load::for_window(window));
        let peak_kib = serve_process::status_kib(pid, "VmHWM:")?;
        let now_kib = serve_process::status_kib(pid, "VmRSS:").ok();
        let mut slope = [(0, 0); 2];
        let mut recorded = writes;
        for (i, writes_each) in [SLOPE_WRITES, 2 * SLOPE_WRITES].into_iter().enumerate() {
            let window = Duration::from_secs(600);
            let (sent, _) = send(Load { window, writes_each, phase: i as u64 + 1 });
            recorded += sent;
            slope[i] = (recorded, serve_process::status_kib(pid, "VmRSS:")?);
        }
        let end_peak_kib = serve_process::status_kib(pid, "VmHWM:").ok();
        Ok(ServeLoad { writes, elapsed, peak_kib, now_kib, before_kib, slope, end_peak_kib })
    })();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Waits (up to a minute) for the `Finished` event of lab `lab`'s run.
async fn run_finished(
    channel: tonic::transport::Channel,
    lab: tonic::metadata::AsciiMetadataValue,
) -> Result<(), String> {
    let mut watch = tonic::Request::new(pb::WatchRequest::default());
    watch.metadata_mut().insert(LAB_HEADER, lab);
    let wait = async {
        let mut client = pb::lab_client::LabClient::new(channel);
        let mut stream = client.watch(watch).await.map_err(|e| format!("watch: {e}"))?.into_inner();
        loop {
            match stream.message().await.map_err(|e| format!("watch stream: {e}"))? {
                Some(pb::LabEvent { event: Some(pb::lab_event::Event::Finished(_)), .. }) => {
                    return Ok(());
                }
                Some(_) => {}
                None => return Err("the watch stream ended before the run finished".to_owned()),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .map_err(|_| "the lab's run did not finish within 60 s".to_owned())?
}

fn gzip_size(path: &Path) -> Option<u64> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("gzip -9 -c '{}' | wc -c", path.display()))
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// A `key:` line of a /proc/<pid>/status text, in KiB (e.g. `VmHWM:`).
fn peak_rss_kib() -> Option<u64> {
    serve_process::status_kib(std::process::id(), "VmHWM:").ok()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse::<u64>().unwrap_or(0))
        })
        .map(|kib| format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), {mem} memory, rustc release build, tokio multi-thread runtime with {cores} workers")
}

/// Writes per customer session in section 2.
const SESSION_WRITES: u64 = 20;

/// How long each measurement of the limit runs.
const LIMIT_WINDOW: Duration = Duration::from_secs(2);

/// How long each row of section 2 sends writes.
const PROPAGATION_WINDOW: Duration = Duration::from_secs(3);

/// Section 2: the raw unary limit, then propagated writes against it.
async fn propagation_section() -> String {
    let mut md = String::new();
    writeln!(md, "\n## 2. The limit, and propagation against it\n").unwrap();
    writeln!(md, "The limit: unary gRPC round trips on loopback to one branch (`Inspect`, brief answer) from 32 concurrent clients, in this process, with this runtime, for {} s, measured again right before each row.\n", LIMIT_WINDOW.as_secs()).unwrap();
    writeln!(md, "Propagation: 32 concurrent customers send deposits (each waits for its answer) round-robin over the branches for {} s per row; every customer session makes {SESSION_WRITES} writes and a new customer takes over. Propagation is parallel and synchronous, so an answer means every other branch applied the write, and the write latency (sent → answered) covers accepted → applied on the last branch.\n", PROPAGATION_WINDOW.as_secs()).unwrap();
    writeln!(md, "A write reaches n−1 peers: the *deliveries* are writes × (n−1). Branches send them with `PropagateBatch` calls (`backend/src/branch/link.rs`): at most {} calls in flight per link, and writes that are ready meanwhile leave together in the next call. The ratio compares deliveries per second with the limit's calls per second: by the wall clock, and by CPU time (operations per CPU-second of this process, which the other work on a shared machine does not distort).\n", bank_backend::branch::link::CALLS_IN_FLIGHT).unwrap();
    writeln!(md, "| branches | limit (calls/s) | writes | writes/s | deliveries/s | **ratio** | ratio by CPU time | calls/s | writes per call | write latency p50 | p99 |\n|---|---|---|---|---|---|---|---|---|---|---|").unwrap();
    for branches in [3u64, 10, 20] {
        eprintln!("bench: raw unary gRPC limit");
        let limit = raw_unary_limit(32, LIMIT_WINDOW).await;
        eprintln!("bench: {branches} branches");
        let t = propagated_writes(branches, 32, PROPAGATION_WINDOW, None).await;
        let secs = t.elapsed.as_secs_f64();
        writeln!(
            md,
            "| {branches} | {:.0} | {} | {:.0} | {:.0} | **{:.2}** | {:.2} | {:.0} | {:.1} | {} | {} |",
            limit.wall,
            t.writes,
            t.writes as f64 / secs,
            t.deliveries.wall,
            t.deliveries.wall / limit.wall,
            t.deliveries.cpu / limit.cpu,
            t.calls as f64 / secs,
            t.carried as f64 / t.calls.max(1) as f64,
            ms(t.p50),
            ms(t.p99)
        )
        .unwrap();
    }

    // What durability costs: the same load on 3 branches whose stores are
    // flushed to the disk before each customer reply.
    eprintln!("bench: 3 branches, durable stores");
    let dir = root().join("target").join("bench-data");
    let _ = std::fs::remove_dir_all(&dir);
    let volatile = propagated_writes(3, 32, PROPAGATION_WINDOW, None).await;
    let durable = propagated_writes(3, 32, PROPAGATION_WINDOW, Some(dir.clone())).await;
    let _ = std::fs::remove_dir_all(&dir);
    writeln!(md, "\nDurability: the 3-branch row again, once with stores in a temporary directory (never flushed, the default of `bank run`) and once in a data directory on this machine's disk (`--data-dir`: no customer is answered before its write is flushed to the disk with fsync; the flush runs off the branch's task, and the replies that pile up meanwhile share the next one):\n").unwrap();
    writeln!(md, "| stores | writes/s | write latency p50 | p99 |\n|---|---|---|---|").unwrap();
    for (name, t) in
        [("temporary, not flushed", &volatile), ("`--data-dir`, flushed before replies", &durable)]
    {
        writeln!(
            md,
            "| {name} | {:.0} | {} | {} |",
            t.writes as f64 / t.elapsed.as_secs_f64(),
            ms(t.p50),
            ms(t.p99)
        )
        .unwrap();
    }
    md
}

/// Section 5's paragraph on `bank serve` under the load of section 2.
fn serve_memory() -> String {
    eprintln!("bench: bank serve under load");
    let (branches, customers) = (20u64, 32u64);
    match serve_under_load(branches, customers, PROPAGATION_WINDOW) {
        Ok(load) => format!(
            "`bank serve` itself, with {branches} branches (parallel propagation) and {customers} concurrent customers sending deposits round-robin over the branches through its web origin's `Customer` service, as in section 2 (each waiting for its answer; {} writes in {:.2} s, every one also recorded in the lab's history): peak resident memory (VmHWM in /proc/<pid>/status) **{:.1} MiB**{}; resident before the load {:.1} MiB, so {:.1} KiB per recorded write by the earlier runs' measure (peak − before, over the writes: the lab's fixed costs, such as the {} links between its branches made under the load, spread over few writes). What a write keeps, on the same lab with new customers: resident {:.1} MiB after {} writes in all, {:.1} MiB after {}, so **{:.1} KiB per recorded write** (the growth over the writes between; goal ≤ 16 KiB), and the lab's fixed cost under load (resident at the first point − before − its writes at that rate) {:.1} MiB; peak resident memory at the end {}.\n\n",
            load.writes,
            load.elapsed.as_secs_f64(),
            load.peak_kib as f64 / 1024.0,
            load.now_kib.map(|k| format!(", resident after the load {:.1} MiB", k as f64 / 1024.0)).unwrap_or_default(),
            load.before_kib as f64 / 1024.0,
            load.bytes_per_write() / 1024.0,
            branches * (branches - 1),
            load.slope[0].1 as f64 / 1024.0,
            load.slope[0].0,
            load.slope[1].1 as f64 / 1024.0,
            load.slope[1].0,
            load.marginal_bytes_per_write() / 1024.0,
            load.fixed_kib() / 1024.0,
            load.end_peak_kib.map(|k| format!("{:.1} MiB", k as f64 / 1024.0)).unwrap_or_else(|| "not read".into()),
        ),
        Err(why) => format!("`bank serve` under load: not measured ({why}).\n\n"),
    }
}

fn main() {
    let out_path = std::env::args()
        .skip_while(|a| a != "--out")
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("BENCHMARKS.md"));
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    // `--only propagation`: section 2 alone, printed, BENCHMARKS.md untouched
    // (for profiling the propagation path).
    let only = std::env::args().skip_while(|a| a != "--only").nth(1);
    if only.as_deref() == Some("propagation") {
        print!("{}", runtime.block_on(propagation_section()));
        return;
    }
    // `--only memory`: `bank serve`'s memory under load and many labs
    // (sections 5 and 5b, without this process's row), printed.
    if only.as_deref() == Some("memory") {
        print!("{}", serve_memory());
        print!("{}", labs::section(Path::new(env!("CARGO_BIN_EXE_bank"))));
        return;
    }
    // `--only memory-serve`: section 5's `bank serve` paragraph alone.
    if only.as_deref() == Some("memory-serve") {
        print!("{}", serve_memory());
        return;
    }
    // `--only scale|scale-rss|scale-events`: section 5c (or its half) alone.
    if let Some(which) = only.as_deref().and_then(|o| o.strip_prefix("scale")) {
        let which = which.strip_prefix('-');
        print!("{}", scale::section(Path::new(env!("CARGO_BIN_EXE_bank")), which));
        return;
    }
    let mut md = String::new();
    writeln!(md, "# Benchmarks\n").unwrap();
    writeln!(
        md,
        "Written by `cargo xtask bench` (not part of the tests). Machine: {}.\n",
        machine()
    )
    .unwrap();
    writeln!(md, "Numbers from a shared, noisy machine: compare rows of one run with each other, not runs with runs.\n").unwrap();

    eprintln!("bench: course inputs through the real cluster ({RUNS} runs each)");
    writeln!(md, "## 1. Course inputs through the real cluster\n").unwrap();
    writeln!(md, "Each run starts a fresh cluster (one tonic server per branch on loopback), runs every customer with the format's default schedule and sequential propagation, and stops the cluster.\n").unwrap();
    writeln!(md, "| input | branches | events | runs | min | median |\n|---|---|---|---|---|---|")
        .unwrap();
    let fixtures = "testdata/formats";
    for (name, rel) in [
        ("reference test 1", "examples/seed-test-1.json".to_owned()),
        ("reference test 2", "examples/seed-test-2.json".to_owned()),
        ("project 3 `input_big`", "examples/project3-big.json".to_owned()),
        (
            "project 1 `input_2` (100 sessions)",
            format!("{fixtures}/p1-branch-propagation/anuragbnrj+cse531/input_2.json"),
        ),
        (
            "project 1, 100 branches (hiroto0222)",
            format!("{fixtures}/p1-branch-propagation/hiroto0222+CSE531-gRPC-Project/input.json"),
        ),
    ] {
        md += &runtime.block_on(course_input(name, &rel));
    }

    md += &runtime.block_on(propagation_section());
    let rss = peak_rss_kib();

    eprintln!("bench: simulator");
    let (schedules, events) = simulator(2000);
    writeln!(md, "\n## 3. Deterministic simulator\n").unwrap();
    writeln!(md, "The checker property of `backend/core/tests/faults.rs`: 4 branches, 4 concurrent customers × 6 events, background propagation, every guarantee on, random 1–30 ms delays, 10% message loss, a crash and restart and a partition; each run's history checked (0 broken promises asserted). 2000 seeds: **{schedules:.0} schedules/s**, **{events:.0} simulated events/s**. More seeds: `bank sim FILE --seeds N`.\n").unwrap();

    writeln!(md, "## 4. Frontend bundle\n").unwrap();
    let dist = root().join("dist");
    let wasm = std::fs::read_dir(&dist).ok().and_then(|d| {
        d.filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "wasm"))
    });
    match wasm {
        Some(path) => {
            let raw = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let gz = gzip_size(&path).unwrap_or(0);
            writeln!(
                md,
                "`{}`: {raw} bytes raw, **{gz} bytes gzip -9** (goal ≤ 400 KB, with the simulator, the checker and the grader inside; `cargo xtask site` builds the same file).\n",
                path.file_name().unwrap_or_default().to_string_lossy()
            )
            .unwrap();
        }
        None => writeln!(
            md,
            "No `dist/` here: run `trunk build --release` (or `cargo xtask serve`) first.\n"
        )
        .unwrap(),
    }
    // `cargo xtask bench` replaces this line with the browser measurements
    // (frontend/e2e/bench/browser.mjs, headless Chromium).
    writeln!(md, "{BROWSER_MARKER}\n").unwrap();

    writeln!(md, "## 5. Memory\n").unwrap();
    md += &serve_memory();
    match rss {
        Some(kib) => writeln!(md, "This benchmark process after the loads of section 2 (its clusters run in-process): **{:.1} MiB**.", kib as f64 / 1024.0).unwrap(),
        None => writeln!(md, "This benchmark process: /proc/self/status not readable here.").unwrap(),
    }
    md += &labs::section(Path::new(env!("CARGO_BIN_EXE_bank")));
    md += &scale::section(Path::new(env!("CARGO_BIN_EXE_bank")), None);
    // The record of fixes the numbers led to (kept by hand, see the file).
    writeln!(md, "\n{}", include_str!("before-after.md").trim_end()).unwrap();
    std::fs::write(&out_path, &md).expect("writing BENCHMARKS.md");
    print!("{md}");
    eprintln!("bench: wrote {}", out_path.display());
}
