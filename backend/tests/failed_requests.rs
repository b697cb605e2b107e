//! Runs whose requests fail end all the same, with their output, a summary
//! on stderr and exit status 3: a planned crash in-process, and a branch
//! process killed in the middle of `bank run --cluster`.
//!
//! No sleeps: the test waits for lines the processes print (a branch's
//! "listening" and "reset" lines), and every wait is bounded.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bank-failed-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A course input (events naming their branch) of `customers` customers with
/// `events` events each, spread over branches 1 and 2.
fn input(customers: u64, events: u64, network: &str) -> String {
    let mut bank = Vec::new();
    for c in 1..=customers {
        let evs: Vec<String> = (1..=events)
            .map(|e| {
                let (id, branch) = (c * 10_000 + e, 1 + (c + e) % 2);
                match e % 3 {
                    0 => format!(r#"{{"id":{id},"interface":"query","branch":{branch}}}"#),
                    _ => format!(
                        r#"{{"id":{id},"interface":"deposit","money":10,"branch":{branch}}}"#
                    ),
                }
            })
            .collect();
        bank.push(format!(r#"{{"id":{c},"type":"customer","events":[{}]}}"#, evs.join(",")));
    }
    for b in 1..=2 {
        bank.push(format!(r#"{{"id":{b},"type":"branch","balance":100}}"#));
    }
    format!(r#"{{"seed":1,{network}"bank":[{}]}}"#, bank.join(","))
}

#[test]
fn a_run_with_failed_requests_prints_its_output_says_so_and_exits_3() {
    let dir = scratch("crash");
    let path = dir.join("crash.json");
    std::fs::write(&path, input(1, 6, r#""network":{"faults":[{"at_ms":0,"crash":2}]},"#)).unwrap();
    let history = dir.join("h.json");
    let out =
        common::bank(&["run", path.to_str().unwrap(), "--history", history.to_str().unwrap()]);
    let err = common::stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\"fail\"") || stdout.contains("fail"), "{stdout}");
    assert!(err.contains("requests failed"), "{err}");
    assert!(err.contains("at branch 2): branch 2 did not answer"), "{err}");
    let history = std::fs::read_to_string(&history).unwrap();
    assert!(history.contains("\"ok\": false"), "the history records the failures");
    // A refusal for insufficient funds is a result, not a failed run.
    let funds = common::bank(&["run", common::repo("examples/seed-test-1.json").to_str().unwrap()]);
    assert_eq!(funds.status.code(), Some(0), "{}", common::stderr(&funds));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A free loopback port (bound, read, released: `bank branch` takes it next).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `bank branch --id id`; returns it once it listens, with a channel
/// of its stderr lines.
fn start_branch(id: u64, cluster: &Path) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bank"))
        .args(["branch", "--id", &id.to_string(), "--cluster", cluster.to_str().unwrap()])
        .env_remove("BANK_TOKEN")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting bank branch");
    let (tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out_tx = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = out_tx.send(line);
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    wait_for_line(&lines, "listening on", id);
    (child, lines)
}

fn wait_for_line(lines: &mpsc::Receiver<String>, needle: &str, id: u64) {
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("branch {id} never said {needle:?}"));
        if line.contains(needle) {
            return;
        }
    }
}

#[test]
fn bank_run_cluster_with_a_branch_killed_mid_run_finishes_with_output_and_history() {
    let dir = scratch("killed");
    let cluster = dir.join("cluster.toml");
    let (p1, p2) = (free_port(), free_port());
    std::fs::write(
        &cluster,
        format!(
            "[[branch]]\nid = 1\naddr = \"127.0.0.1:{p1}\"\n\n[[branch]]\nid = 2\naddr = \"127.0.0.1:{p2}\"\n"
        ),
    )
    .unwrap();
    let (one, _one_lines) = start_branch(1, &cluster);
    let (mut two, _two_lines) = start_branch(2, &cluster);
    let path = dir.join("input.json");
    std::fs::write(&path, input(4, 60, "")).unwrap();
    let history = dir.join("h.json");
    let mut run = Command::new(env!("CARGO_BIN_EXE_bank"))
        .args(["run", "--cluster", cluster.to_str().unwrap(), path.to_str().unwrap()])
        .args(["--history", history.to_str().unwrap(), "--request-timeout", "5", "--trace"])
        .env_remove("BANK_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The run's narration: branch 2 dies once it has received something
    // (the reset is done and the customers are under way).
    let (tx, narrated) = mpsc::channel();
    let run_err = run.stderr.take().unwrap();
    let all_err = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(run_err).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all += &line;
            all.push('\n');
        }
        all
    });
    loop {
        let line = narrated.recv_timeout(Duration::from_secs(60)).expect("the run narrates");
        if line.contains("2 @ clock") && line.contains("received") {
            break;
        }
    }
    two.kill().unwrap();
    let _ = two.wait();
    let output = run.wait_with_output_bounded(Duration::from_secs(120));
    let err = all_err.join().unwrap();
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(!output.stdout.is_empty(), "the output is printed: {err}");
    assert!(err.contains("requests failed"), "{err}");
    let history = std::fs::read_to_string(&history).expect("the history is written");
    assert!(history.contains("branch 2"), "the history names the dead branch");
    assert!(history.contains("\"ok\": false"), "and records the failures");
    let mut one = one;
    let _ = one.kill();
    let _ = one.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `wait_with_output`, bounded: a run that hangs fails the test.
trait Bounded {
    fn wait_with_output_bounded(self, limit: Duration) -> std::process::Output;
}

impl Bounded for Child {
    fn wait_with_output_bounded(self, limit: Duration) -> std::process::Output {
        let pid = self.id();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(self.wait_with_output());
        });
        match rx.recv_timeout(limit) {
            Ok(output) => output.unwrap(),
            Err(_) => {
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
                panic!("bank run did not finish within {limit:?}")
            }
        }
    }
}
