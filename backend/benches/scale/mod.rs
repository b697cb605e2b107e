//! Section 5c of the benchmarks: how `bank run` scales.
//!
//! * Peak resident memory of one `bank run` (the release binary, its own
//!   process) with 50, 100, 200 and 400 branches, one customer per branch
//!   making one deposit there (so every link is used once): memory should
//!   grow with branches × peers used, and each link cost little.
//! * Seconds per 1,000 events at 1,000, 10,000 and 100,000 events (three
//!   branches, ten customers each sending its events round-robin over the
//!   branches, deposits, withdraws and queries): the cost of an event
//!   should not grow with the length of the run.
//!
//! Every run is one child process, bounded in time (killed after
//! [`LIMIT`]); `/usr/bin/time` reports its peak memory (not measured where
//! it is missing).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The longest one measured run may take.
const LIMIT: Duration = Duration::from_secs(600);

/// One customer per branch, one deposit each at its own branch.
fn branches_input(n: u64) -> String {
    let mut bank = Vec::new();
    for id in 1..=n {
        bank.push(format!(
            r#"{{"id":{id},"type":"customer","events":[{{"id":{id},"interface":"deposit","money":10}}]}}"#
        ));
    }
    for id in 1..=n {
        bank.push(format!(r#"{{"id":{id},"type":"branch","balance":100}}"#));
    }
    format!("[{}]", bank.join(","))
}

/// Ten customers, `events` events in all, round-robin over three branches.
fn events_input(events: u64) -> String {
    let mut bank = Vec::new();
    let per = events / 10;
    for c in 1..=10u64 {
        let evs: Vec<String> = (1..=per)
            .map(|e| {
                let (id, b) = (c * 1_000_000 + e, 1 + (c + e) % 3);
                match e % 3 {
                    0 => format!(r#"{{"id":{id},"interface":"query","branch":{b}}}"#),
                    1 => format!(r#"{{"id":{id},"interface":"deposit","money":10,"branch":{b}}}"#),
                    _ => format!(r#"{{"id":{id},"interface":"withdraw","money":5,"branch":{b}}}"#),
                }
            })
            .collect();
        bank.push(format!(r#"{{"id":{c},"type":"customer","events":[{}]}}"#, evs.join(",")));
    }
    for b in 1..=3 {
        bank.push(format!(r#"{{"id":{b},"type":"branch","balance":1000000}}"#));
    }
    format!("[{}]", bank.join(","))
}

/// What one `bank run` took: wall time, and peak memory in KiB if known.
struct Measured {
    elapsed: Duration,
    peak_kib: Option<u64>,
}

fn measure(bank: &Path, input: &str, name: &str, args: &[&str]) -> Result<Measured, String> {
    let dir = std::env::temp_dir().join(format!("bank-bench-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path: PathBuf = dir.join(format!("{name}.json"));
    std::fs::write(&path, input).map_err(|e| e.to_string())?;
    let time = Path::new("/usr/bin/time");
    let mut command = if time.exists() {
        let mut c = Command::new(time);
        c.args(["-f", "peak-kib %M"]).arg(bank);
        c
    } else {
        Command::new(bank)
    };
    let started = Instant::now();
    let mut child = command
        .arg("run")
        .args(args)
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let reader = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let (tx, rx) = std::sync::mpsc::channel();
    let pid = child.id();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = match rx.recv_timeout(LIMIT) {
        Ok(status) => status.map_err(|e| e.to_string())?,
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            return Err(format!("did not finish within {LIMIT:?}"));
        }
    };
    let elapsed = started.elapsed();
    let err = reader.join().unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    if !status.success() {
        return Err(format!("exit {status}: {}", err.lines().last().unwrap_or("")));
    }
    let peak_kib =
        err.lines().find_map(|l| l.strip_prefix("peak-kib ")).and_then(|k| k.trim().parse().ok());
    Ok(Measured { elapsed, peak_kib })
}

/// The section's markdown (`only`: rows of this kind only, `rss` or `events`).
pub fn section(bank: &Path, only: Option<&str>) -> String {
    let mut md = String::new();
    writeln!(md, "\n## 5c. How `bank run` scales\n").unwrap();
    if only != Some("events") {
        eprintln!("bench: bank run memory by branch count");
        writeln!(md, "Peak resident memory of one `bank run` (its own process, `/usr/bin/time`), one customer per branch making one deposit there, sequential propagation (every link carries one write):\n").unwrap();
        writeln!(md, "| branches | links | wall | peak memory |\n|---|---|---|---|").unwrap();
        for n in [50u64, 100, 200, 400] {
            match measure(bank, &branches_input(n), &format!("branches-{n}"), &[]) {
                Ok(m) => writeln!(
                    md,
                    "| {n} | {} | {:.2} s | {} |",
                    n * (n - 1),
                    m.elapsed.as_secs_f64(),
                    m.peak_kib.map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
                )
                .unwrap(),
                Err(why) => {
                    writeln!(md, "| {n} | {} | not measured: {why} | |", n * (n - 1)).unwrap()
                }
            }
        }
    }
    if only != Some("rss") {
        eprintln!("bench: bank run time per event");
        writeln!(md, "\nTime per 1,000 events (3 branches, 10 customers, events round-robin over the branches, course guarantees, sequential propagation; start to stop of the process). With the concurrent schedule the customers' writes interleave, so each session's write set is one range per write:\n").unwrap();
        writeln!(
            md,
            "| events | schedule | wall | per 1,000 events | peak memory |\n|---|---|---|---|---|"
        )
        .unwrap();
        let rows = [(1_000u64, "sequential"), (10_000, "sequential"), (100_000, "sequential")]
            .into_iter()
            .chain([(1_000u64, "concurrent"), (10_000, "concurrent"), (30_000, "concurrent")]);
        for (n, schedule) in rows {
            let name = format!("events-{n}-{schedule}");
            match measure(bank, &events_input(n), &name, &["--schedule", schedule]) {
                Ok(m) => writeln!(
                    md,
                    "| {n} | {schedule} | {:.2} s | {:.3} s | {} |",
                    m.elapsed.as_secs_f64(),
                    m.elapsed.as_secs_f64() * 1000.0 / n as f64,
                    m.peak_kib.map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
                )
                .unwrap(),
                Err(why) => writeln!(md, "| {n} | {schedule} | not measured: {why} | | |").unwrap(),
            }
        }
    }
    md
}
