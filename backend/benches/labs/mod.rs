//! Section 5b of the benchmarks: many labs on one `bank serve`.
//!
//! One `bank serve` (the release binary, its own process) starts every lab
//! with `project3-big` (10 branches, one customer, 60 scripted events). For
//! N labs at once, each with M followers: every lab is opened, its owner and
//! its followers start watching (native gRPC, the lab named in `x-lab-id`,
//! as the page does), then every owner presses play at full speed (50
//! scripted events per second) and everyone reads until the run's
//! `Finished` event. Measured:
//!
//! * the server's peak resident memory (VmHWM in /proc/<pid>/status), and
//!   per lab: (peak − resident before the first lab) / N;
//! * the delay from the lab recording a branch's log entry to a watcher
//!   receiving it, p50 / p99 / max over every watcher of every lab. The
//!   server stamps each event with microseconds since its run started; the
//!   watcher's clock is tied to that by the `Play` call, whose own event
//!   was stamped between the call's sending and its answer. Taking the
//!   sending as the stamp makes every delay an upper bound (too long by at
//!   most that call's round trip, reported too); the entry reaches the lab
//!   through an in-process channel from the branch that logged it;
//! * whether every watcher's output is `bank run`'s.
//!
//! Bounded: every read has a deadline ([`LIMIT`]), the server is killed at
//! the end.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use bank_backend::lab::registry::LAB_HEADER;
use bank_backend::net::transport::channel_to;
use bank_proto as pb;
use bank_proto::lab_client::LabClient;
use pb::lab_event::Event;
use tokio::sync::oneshot;
use tonic::metadata::AsciiMetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::serve_process;

/// The longest one lab's run may take to reach every watcher.
const LIMIT: Duration = Duration::from_secs(180);
/// The scenario every lab plays.
const SCENARIO: &str = "project3-big";

/// What one watcher saw.
struct Watched {
    /// (received, stamped µs) of each `BranchLogged` event.
    logged: Vec<(Instant, u64)>,
    /// The stamp of the `State(Playing)` event, if seen.
    playing_at: Option<u64>,
    output: String,
    events: usize,
}

/// What one lab's run gave.
struct LabRun {
    delays: Vec<Duration>,
    play_rtt: Duration,
    outputs: Vec<String>,
    events: usize,
}

/// What [`many_labs`] measured.
pub struct Measured {
    peak_kib: u64,
    before_kib: u64,
    delays: Vec<Duration>,
    max_play_rtt: Duration,
    correct: usize,
    watchers: usize,
    events: usize,
    elapsed: Duration,
}

/// Adds `x-lab-id: <id>` to every call.
#[derive(Clone)]
struct WithLab(AsciiMetadataValue);

impl tonic::service::Interceptor for WithLab {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request.metadata_mut().insert(LAB_HEADER, self.0.clone());
        Ok(request)
    }
}

/// A `Lab` client whose calls name `id`.
fn named(channel: Channel, id: &str) -> LabClient<InterceptedService<Channel, WithLab>> {
    LabClient::with_interceptor(channel, WithLab(id.parse().expect("lab ids are ASCII")))
}

/// Reads one watch stream to its `Finished` event; `ready` is told once
/// the stream is open.
async fn watch(
    channel: Channel,
    id: String,
    ready: oneshot::Sender<()>,
) -> Result<Watched, String> {
    let mut client = named(channel, &id);
    let mut stream = client
        .watch(pb::WatchRequest::default())
        .await
        .map_err(|e| format!("watch: {e}"))?
        .into_inner();
    let _ = ready.send(());
    let mut seen =
        Watched { logged: Vec::new(), playing_at: None, output: String::new(), events: 0 };
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let next = tokio::time::timeout_at(deadline, stream.message())
            .await
            .map_err(|_| format!("no Finished within {LIMIT:?}"))?
            .map_err(|e| format!("watch stream: {e}"))?
            .ok_or("the watch stream ended before Finished")?;
        let received = Instant::now();
        seen.events += 1;
        match next.event {
            Some(Event::BranchLogged(_)) => seen.logged.push((received, next.at_micros)),
            Some(Event::State(s)) if s.state() == pb::PlayState::Playing => {
                seen.playing_at.get_or_insert(next.at_micros);
            }
            Some(Event::Finished(f)) => {
                seen.output = f.output_json;
                return Ok(seen);
            }
            _ => {}
        }
    }
}

/// Opens a lab, starts its owner's and `followers` followers' watches,
/// plays it at full speed and reads every watch to its end.
async fn one_lab(addr: std::net::SocketAddr, followers: usize) -> Result<LabRun, String> {
    let channel = channel_to(addr);
    let mut anonymous = LabClient::new(channel.clone());
    let opened = anonymous
        .open(pb::OpenRequest::default())
        .await
        .map_err(|e| format!("open: {e}"))?
        .into_inner();
    let mut watches = Vec::new();
    let mut readies = Vec::new();
    for who in 0..=followers {
        let id = if who == 0 {
            opened.lab_id.clone()
        } else {
            let follow =
                pb::OpenRequest { follow_id: opened.follow_id.clone(), ..Default::default() };
            anonymous.open(follow).await.map_err(|e| format!("follow: {e}"))?;
            opened.follow_id.clone()
        };
        let (ready, is_ready) = oneshot::channel();
        watches.push(tokio::spawn(watch(channel.clone(), id, ready)));
        readies.push(is_ready);
    }
    // Every watch is open before play: each reads the run live.
    for is_ready in readies {
        tokio::time::timeout(LIMIT, is_ready)
            .await
            .map_err(|_| format!("a watch did not open within {LIMIT:?}"))?
            .map_err(|_| "a watch failed to open".to_owned())?;
    }
    let mut owner = named(channel, &opened.lab_id);
    let sent = Instant::now();
    let play = pb::ControlRequest { command: pb::Command::Play as i32, speed: 50.0 };
    owner.control(play).await.map_err(|e| format!("play: {e}"))?;
    let play_rtt = sent.elapsed();
    let mut run = LabRun { delays: Vec::new(), play_rtt, outputs: Vec::new(), events: 0 };
    for watch in watches {
        let seen = watch.await.map_err(|e| e.to_string())??;
        let playing_at = seen.playing_at.ok_or("a watcher saw no Playing state")?;
        // The run's zero on this clock, at the earliest it can be.
        let zero = sent - Duration::from_micros(playing_at);
        for (received, at) in seen.logged.into_iter().filter(|(_, at)| *at >= playing_at) {
            run.delays.push(received.saturating_duration_since(zero + Duration::from_micros(at)));
        }
        run.outputs.push(seen.output);
        run.events += seen.events;
    }
    Ok(run)
}

/// `labs` labs with `followers` followers each on one fresh `bank serve`.
pub fn many_labs(
    bank: &Path,
    labs: usize,
    followers: usize,
    want: &str,
) -> Result<Measured, String> {
    let dir = std::env::temp_dir().join(format!("bank-bench-labs-{}", std::process::id()));
    let (mut child, addr) = serve_process::start(
        Command::new(bank)
            .args(["serve", "--addr", "127.0.0.1:0", "--scenario", SCENARIO])
            .args(["--max-labs", &labs.to_string(), "--dist"])
            .arg(dir.join("no-dist")),
    )?;
    let pid = child.id();
    let result = (|| {
        let before_kib = serve_process::status_kib(pid, "VmRSS:")?;
        let runtime =
            tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
        let started = Instant::now();
        let runs = runtime.block_on(async move {
            let tasks: Vec<_> = (0..labs).map(|_| tokio::spawn(one_lab(addr, followers))).collect();
            let mut runs = Vec::new();
            for task in tasks {
                runs.push(task.await.map_err(|e| e.to_string())??);
            }
            Ok::<_, String>(runs)
        })?;
        let elapsed = started.elapsed();
        let peak_kib = serve_process::status_kib(pid, "VmHWM:")?;
        let mut measured = Measured {
            peak_kib,
            before_kib,
            delays: Vec::new(),
            max_play_rtt: Duration::ZERO,
            correct: 0,
            watchers: 0,
            events: 0,
            elapsed,
        };
        for run in runs {
            measured.delays.extend(run.delays);
            measured.max_play_rtt = measured.max_play_rtt.max(run.play_rtt);
            measured.watchers += run.outputs.len();
            measured.correct +=
                run.outputs.iter().filter(|o| o.trim_end() == want.trim_end()).count();
            measured.events += run.events;
        }
        measured.delays.sort();
        Ok(measured)
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The section's markdown.
pub fn section(bank: &Path) -> String {
    let mut md = String::new();
    writeln!(md, "\n## 5b. Many labs on one server\n").unwrap();
    let input = super::root().join(format!("examples/{SCENARIO}.json"));
    let want = Command::new(bank).arg("run").arg(&input).output();
    let want = match want {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        other => {
            writeln!(md, "Not measured: `bank run {}` failed ({other:?}).", input.display())
                .unwrap();
            return md;
        }
    };
    writeln!(md, "One `bank serve` starting every lab with `{SCENARIO}` (10 branches, one customer, 60 scripted events); N labs at once, each watched by its owner and M followers over gRPC (the lab named in `x-lab-id`, as the page does); every owner plays at full speed (50 events/s) and every watcher reads to the run's end. Memory: the server's peak resident memory (VmHWM), and per lab (peak − resident before the first lab) / N. Delay: from the lab recording a branch's log entry to a watcher receiving it, over every watcher; an upper bound, the clocks being tied by the `Play` call (too long by at most that call's round trip, the last column). Outputs: watchers whose `Finished` output is `bank run`'s.\n").unwrap();
    writeln!(md, "| labs × followers | wall | events received | peak RSS | per lab | delay p50 / p99 / max | correct outputs | `Play` round trip (max) |\n|---|---|---|---|---|---|---|---|").unwrap();
    for (labs, followers) in [(1usize, 4usize), (8, 4), (32, 4)] {
        eprintln!("bench: {labs} labs x {followers} followers");
        match many_labs(bank, labs, followers, &want) {
            Ok(m) => writeln!(
                md,
                "| {labs} × {followers} | {:.2} s | {} | **{:.1} MiB** | {:.1} MiB | {} / **{}** / {} | {} of {} | {} |",
                m.elapsed.as_secs_f64(),
                m.events,
                m.peak_kib as f64 / 1024.0,
                m.peak_kib.saturating_sub(m.before_kib) as f64 / 1024.0 / labs as f64,
                ms(percentile(&m.delays, 0.5)),
                ms(percentile(&m.delays, 0.99)),
                ms(m.delays.last().copied().unwrap_or_default()),
                m.correct,
                m.watchers,
                ms(m.max_play_rtt),
            )
            .unwrap(),
            Err(why) => writeln!(md, "| {labs} × {followers} | not measured: {why} | | | | | | |").unwrap(),
        }
    }
    md
}
