//! The `bank` command as a user runs it: arguments in, stdout / stderr /
//! exit status out.

mod common;
use common::{bank, first_line, repo, stderr, wait_timeout};
use std::process::{Command, Output};
use std::time::Duration;

fn bank_with_input(text: &str, extra: &[&str]) -> Output {
    let dir = std::env::temp_dir().join(format!(
        "bank-cli-test-{}-{}",
        std::process::id(),
        rand_suffix(text)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("input.json");
    std::fs::write(&path, text).unwrap();
    let mut args = vec!["run", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = bank(&args);
    std::fs::remove_dir_all(&dir).ok();
    out
}

/// A stable, distinct suffix per input, so parallel tests use distinct files.
fn rand_suffix(text: &str) -> u64 {
    text.bytes().fold(1469598103934665603u64, |h, b| (h ^ b as u64).wrapping_mul(1099511628211))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_port_in_use_or_a_cluster_not_started_is_unavailable_not_an_internal_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let seed = repo("examples/seed-test-1.json");
    let seed = seed.to_str().unwrap();
    // Before: status 70, "internal error".
    for args in [
        vec!["serve", "--addr", &addr],
        vec!["branch", "--id", "1", "--listen", &addr, "--peers", "2=127.0.0.1:1"],
        vec!["run", seed, "--base-port", &port.to_string()],
    ] {
        let out = bank(&args);
        assert_eq!(out.status.code(), Some(69), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("Address already in use"), "{}", stderr(&out));
        assert!(!stderr(&out).contains("internal error"), "{}", stderr(&out));
        // Said once (it was "…in use (os error 98): Address already in use …").
        assert_eq!(stderr(&out).matches("Address already in use").count(), 1, "{}", stderr(&out));
    }
    drop(taken);
    let dir = scratch("cluster-down");
    let cluster = dir.join("cluster.toml");
    let branches =
        "[[branch]]\nid = 1\naddr = \"127.0.0.1:1\"\n[[branch]]\nid = 2\naddr = \"127.0.0.1:2\"\n";
    std::fs::write(&cluster, branches).unwrap();
    let out = bank(&[
        "run",
        repo("examples/seed-test-1.json").to_str().unwrap(),
        "--cluster",
        cluster.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(69), "{}", stderr(&out));
    // Whichever branch a customer reached first.
    let named = ["branch 1 (127.0.0.1:1)", "branch 2 (127.0.0.1:2)"]
        .iter()
        .any(|b| stderr(&out).contains(&format!("{b} is not available")));
    assert!(named, "{}", stderr(&out));
    assert!(stderr(&out).contains("start the branch processes"), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_store_that_is_a_fifo_is_refused_at_once_as_the_users_mistake() {
    let dir = scratch("fifo-store");
    let made = Command::new("mkfifo").arg(dir.join("branch-1.log")).status().unwrap();
    assert!(made.success());
    // Before: status 70 "internal error" here, and `bank branch` blocked
    // opening the FIFO, deaf to SIGTERM.
    let out = bank(&[
        "run",
        repo("examples/seed-test-1.json").to_str().unwrap(),
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(73), "{}", stderr(&out));
    assert!(stderr(&out).contains("branch-1.log is not a regular file"), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_balance_past_the_maximum_is_printed_exactly_and_warned_about() {
    // Branch 1 accepts a deposit of 1; branch 2, already at the maximum,
    // applies it too (replicas must agree), and passes the maximum.
    let out = bank_with_input(
        r#"[{"id": 1, "type": "customer", "events": [
              {"interface": "deposit", "money": 1, "id": 1, "dest": 1},
              {"interface": "query", "id": 2, "dest": 1}]},
            {"id": 1, "type": "branch", "balance": 0},
            {"id": 2, "type": "branch", "balance": 9999999999999.99}]"#,
        &["--dump-state"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("branch 2: balance 10000000000000.99"), "{err}");
    assert!(
        err.contains(
            "warning: branch 2 ends with 10000000000000.99, above the largest balance \
             (9999999999999.99) that every JSON reader reads back exactly"
        ),
        "{err}"
    );
    // Within the maximum, no such warning.
    let fine = bank(&["run", repo("examples/seed-test-1.json").to_str().unwrap()]);
    assert!(!stderr(&fine).contains("above the largest balance"), "{}", stderr(&fine));
}

#[test]
fn seed_test_1_prints_the_expected_output() {
    let out = bank(&["run", repo("examples/seed-test-1.json").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ours: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(ours, serde_json::json!([{"id": 1, "balance": 0}]));
    let expected = std::fs::read_to_string(repo("examples/seed-test-1.expected.json")).unwrap();
    assert_eq!(stdout(&out).trim_end(), expected.trim_end());
}

#[test]
fn seed_test_2_prints_400() {
    let out = bank(&["run", repo("examples/seed-test-2.json").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ours: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(ours, serde_json::json!([{"id": 1, "balance": 400}]));
}

#[test]
fn dump_state_shows_write_sets_per_branch() {
    let out = bank(&["run", repo("examples/seed-test-1.json").to_str().unwrap(), "--dump-state"]);
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(err.contains("branch 1: balance 0.00"), "{err}");
    assert!(err.contains("branch 2: balance 0.00"), "{err}");
    assert_eq!(err.matches("write set of customer 1: [1, 2]").count(), 2, "{err}");
}

#[test]
fn trace_narrates_every_message() {
    let out = bank(&["run", repo("examples/seed-test-2.json").to_str().unwrap(), "--trace"]);
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("[branch 1 @ clock   2] received deposit 400.00 from customer 1, event 1"),
        "{err}"
    );
    assert!(err.contains("propagates deposit 400.00 of event 1 to branch 2"), "{err}");
    assert!(err.contains("[branch 2 @ clock"), "{err}");
    assert!(
        err.contains("applied deposit 400.00 of event 1 from branch 1 (balance 400.00)"),
        "{err}"
    );
    // stdout stays the pure output JSON
    serde_json::from_str::<serde_json::Value>(&stdout(&out)).unwrap();
}

#[test]
fn format_can_be_forced() {
    let input = repo("examples/project1-sample.json");
    let out = bank(&["run", input.to_str().unwrap(), "--format", "p1-money"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ours: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        ours[0]["recv"][0],
        serde_json::json!({"interface": "query", "result": "success", "money": 500})
    );
    let out = bank(&["run", input.to_str().unwrap(), "--format", "p2a"]);
    let ours: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(ours[0]["pid"], 1);
}

#[test]
fn p2b_out_dir_writes_three_files() {
    let dir = std::env::temp_dir().join(format!("bank-cli-outdir-{}", std::process::id()));
    let out = bank(&[
        "run",
        repo("examples/project2-sample.json").to_str().unwrap(),
        "--out-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    for name in ["customer_events.json", "branch_events.json", "all_events.json"] {
        let text =
            std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        serde_json::from_str::<serde_json::Value>(&text).unwrap();
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn input_from_stdin() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_bank"))
        .args(["run", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let text = std::fs::read(repo("examples/seed-test-2.json")).unwrap();
    child.stdin.take().unwrap().write_all(&text).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("400"));
}

// ------------------------------------------------------------ bad input

fn assert_bad_input(out: &Output, needles: &[&str]) {
    assert_eq!(out.status.code(), Some(65), "exit status; stderr: {}", stderr(out));
    let err = stderr(out);
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(stdout(out).is_empty(), "no output on bad input");
}

#[test]
fn malformed_json_names_line_and_column() {
    let out = bank_with_input(
        "[\n  {\"id\": 1, \"type\": \"branch\", \"balance\": 0},\n  {\"id\": 2,, }\n]",
        &[],
    );
    assert_bad_input(&out, &["input.json:3:"]);
}

#[test]
fn unknown_interface_names_the_event() {
    let text = r#"[{"id": 1, "type": "customer", "events": [{"id": 7, "interface": "transfer", "money": 1}]},
{"id": 1, "type": "branch", "balance": 0}]"#;
    assert_bad_input(&bank_with_input(text, &[]), &["transfer", "7"]);
}

#[test]
fn negative_money_is_refused() {
    let text = r#"[{"id": 1, "type": "customer", "events": [{"id": 3, "interface": "deposit", "money": -5}]},
{"id": 1, "type": "branch", "balance": 0}]"#;
    assert_bad_input(&bank_with_input(text, &[]), &["negative", "3"]);
}

#[test]
fn missing_branch_is_refused() {
    let text = r#"[{"id": 1, "type": "customer", "events": [{"id": 1, "interface": "query", "dest": 9}]},
{"id": 1, "type": "branch", "balance": 0}]"#;
    assert_bad_input(&bank_with_input(text, &[]), &["9"]);
}

#[test]
fn empty_file_is_refused() {
    assert_bad_input(&bank_with_input("   \n", &[]), &["empty"]);
}

#[test]
fn oversized_file_is_refused_before_reading() {
    let text = format!("[{}]", " ".repeat(2000));
    assert_bad_input(
        &bank_with_input(&text, &["--max-input-bytes", "1000"]),
        &["over the limit of 1000 bytes"],
    );
}

#[test]
fn missing_file_has_its_own_exit_status() {
    let out = bank(&["run", "/nonexistent/input.json"]);
    assert_eq!(out.status.code(), Some(66));
    assert!(stderr(&out).contains("cannot open input file /nonexistent/input.json"));
}

#[test]
fn unknown_format_is_a_usage_error() {
    let out = bank(&["run", repo("examples/seed-test-1.json").to_str().unwrap(), "--format", "p9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("p9"));
}

#[test]
fn overdraft_prints_fail_and_changes_nothing() {
    let text = r#"[{"id": 1, "type": "customer", "events": [
  {"id": 1, "interface": "withdraw", "money": 500, "branch": 1},
  {"id": 2, "interface": "query", "branch": 2}]},
{"id": 1, "type": "branch", "balance": 400}, {"id": 2, "type": "branch", "balance": 400}]"#;
    let out = bank_with_input(text, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ours: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(ours[0]["recv"][0]["result"], "fail");
    assert_eq!(ours[1]["recv"][0]["balance"], 400);
}

#[test]
fn run_writes_a_history_that_check_explains() {
    let dir = std::env::temp_dir().join(format!("bank-cli-history-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let history = dir.join("history.json");
    let demo = repo("examples/demo-stale-read.json");
    let out = bank(&["run", demo.to_str().unwrap(), "--history", history.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let checked = bank(&["check", history.to_str().unwrap()]);
    assert_eq!(checked.status.code(), Some(1), "violations found: exit 1\n{}", stdout(&checked));
    let report = stdout(&checked);
    assert!(report.contains("Read Your Writes (stale read): 1 violation"), "{report}");
    assert!(report.contains("[guarantee off]"), "{report}");
    assert!(report.contains("Monotonic Reads (reads going backwards): ok"), "{report}");
    let sentence = "Let R = customer 1's query #2 at branch 2 (answered 0), W = customer 1's \
                    deposit #1 of 100 at branch 1 (w1.1). Then: the session issued W before R; R \
                    did not observe W; so Read Your Writes is broken (the session had not asked \
                    for it).";
    assert!(report.contains(&format!("  1. {sentence}")), "{report}");

    let json = bank(&["check", "--json", history.to_str().unwrap()]);
    let items: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON report");
    assert_eq!(items[0]["anomaly"], "ryw");
    assert_eq!(items[0]["sentence"], sentence, "the JSON carries the same sentence");
    assert!(items[0]["explanation"].as_str().unwrap().contains("stale read"));
    // --max counts for --json too (before, it printed every violation).
    let none = bank(&["check", "--json", "--max", "0", history.to_str().unwrap()]);
    let items: serde_json::Value = serde_json::from_slice(&none.stdout).expect("JSON report");
    assert_eq!(items, serde_json::json!([]));
    assert!(stderr(&none).contains("1 more violation(s) left out (--max 0"), "{}", stderr(&none));
    assert_eq!(none.status.code(), Some(1), "still violations: exit 1");

    // The same demo with every guarantee on: the read waits for the deposit.
    let out = bank(&[
        "run",
        demo.to_str().unwrap(),
        "--guarantees",
        "all",
        "--history",
        history.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("\"balance\": 100"), "{}", stdout(&out));
    let checked = bank(&["check", history.to_str().unwrap()]);
    assert_eq!(checked.status.code(), Some(0), "{}", stdout(&checked));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn check_refuses_what_is_not_a_history() {
    let dir = std::env::temp_dir().join(format!("bank-cli-badhistory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("h.json");
    std::fs::write(
        &path,
        "{\"format\": \"bank-sim history 1\", \"sessions\": [], \"branches\": [], \"x\": 1}",
    )
    .unwrap();
    let out = bank(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65));
    // Where, as for every input file: FILE:LINE:COLUMN.
    let at = format!("{}:1:", path.display());
    assert!(stderr(&out).contains(&at), "{}", stderr(&out));
    assert!(stderr(&out).contains("unknown field `x`"), "{}", stderr(&out));
    let out = bank(&["check", "/nonexistent/history.json"]);
    assert_eq!(out.status.code(), Some(66));
    // Operations at a branch the history does not list pass, with a note.
    let unlisted = r#"{"format": "bank-sim history 1", "sessions": [{"customer": 1, "guarantees": "all", "ops": [
  {"event": 1, "branch": 7, "op": "query", "ok": true, "balance": 0, "observed": []}]}], "branches": []}"#;
    std::fs::write(&path, unlisted).unwrap();
    let out = bank(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "note: 1 operation(s) were served by branch(es) 7 that the history does not list"
        ),
        "{}",
        stderr(&out)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn flag_mistakes_are_command_line_errors_that_say_what_to_give() {
    let seed = repo("examples/seed-test-1.json");
    let seed = seed.to_str().unwrap();
    for (args, expected) in [
        // Before: a file and a folder named `-` in the current folder.
        (vec!["run", seed, "--history", "-"], "--history -: give a file name"),
        (vec!["run", seed, "--out-dir", "-"], "--out-dir -: give a directory name"),
        (vec!["sim", seed, "--history", "-"], "--history -: give a file name"),
        // Before: accepted, as no guarantee at all, without a word.
        (vec!["run", seed, "--guarantees", ""], "names an empty guarantee"),
        (vec!["sim", seed, "--guarantees", "ryw,"], "names an empty guarantee"),
        (vec!["grade", seed, seed, "--max-input-bytes", "0"], "--max-input-bytes"),
        (vec!["serve", "--lab-idle", "0"], "above 0 and at most 10080"),
        (vec!["serve", "--addr", "localhost:x"], "`x` is not a port"),
        (vec!["serve", "--addr", "my-laptop"], "give one like 127.0.0.1:8080 or localhost:8080"),
    ] {
        let out = bank(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{args:?}: {}", stderr(&out));
    }
    assert!(!std::path::Path::new("-").exists(), "no file named -");
    // A mistyped example name lists the shipped ones (before: "No such file").
    let out = bank(&["serve", "--addr", "127.0.0.1:0", "--scenario", "seed-test-9"]);
    assert_eq!(out.status.code(), Some(66), "{}", stderr(&out));
    assert!(stderr(&out).contains("no shipped example has that name"), "{}", stderr(&out));
    assert!(stderr(&out).contains("seed-test-1, "), "{}", stderr(&out));
}

#[test]
fn sim_runs_the_seeds_it_says_even_past_the_largest_and_refuses_none() {
    let demo = repo("examples/demo-stale-read.json");
    let demo = demo.to_str().unwrap();
    // Before: the range overflowed, nothing ran, "0 of 3 seeds" passed.
    let out = bank(&["sim", demo, "--seed", "18446744073709551615", "--seeds", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let stale = text.lines().find(|l| l.contains("Read Your Writes")).unwrap();
    assert_eq!(
        stale.split_whitespace().collect::<Vec<_>>().join(" "),
        "off Read Your Writes 3 of 3 seeds (stale read)",
        "{text}"
    );
    let none = bank(&["sim", demo, "--seeds", "0"]);
    assert_eq!(none.status.code(), Some(2), "{}", stderr(&none));
    assert!(stderr(&none).contains("--seeds"), "{}", stderr(&none));
    // Before: "number too large to fit in target type".
    let past = bank(&["sim", demo, "--seed", "18446744073709551616"]);
    assert_eq!(past.status.code(), Some(2), "{}", stderr(&past));
    assert!(
        stderr(&past).contains(
            "`18446744073709551616` is not a seed: give a whole number from 0 to \
             18446744073709551615"
        ),
        "{}",
        stderr(&past)
    );
}

#[test]
fn sim_shows_progress_and_ctrl_c_prints_the_totals_so_far() {
    use std::io::Read;
    use std::process::Stdio;
    // A million seeds of the busy bank: hours, unless interrupted.
    let mut child = Command::new(env!("CARGO_BIN_EXE_bank"))
        .args([
            "sim",
            repo("examples/busy-bank.json").to_str().unwrap(),
            "--seeds",
            "1000000",
            "--seed",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // stderr is not a terminal: a progress line after a second, then one
    // every ten. The handler for Ctrl-C is in place before the first seed.
    let stderr = child.stderr.take().unwrap();
    let Some((line, mut stderr)) = first_line(stderr, Duration::from_secs(60)) else {
        let _ = child.kill();
        panic!("bank sim showed no progress within 60 s");
    };
    assert!(line.contains(" of 1000000 seeds, "), "{line}");
    assert!(line.contains("Ctrl-C prints the totals so far"), "{line}");
    let mut stdout = child.stdout.take().unwrap();
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let status = wait_timeout(child, Duration::from_secs(60)).expect("ends after Ctrl-C");
    let mut out = String::new();
    stdout.read_to_string(&mut out).unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    // Before: killed by the signal, nothing printed.
    assert_eq!(status.code(), Some(130), "{out}{rest}");
    let ran: u64 = out.split(' ').next().unwrap().parse().unwrap_or_else(|_| panic!("{out}"));
    assert!((1..1_000_000).contains(&ran), "{out}");
    assert!(out.contains(&format!("{ran} seeds of ")), "{out}");
    assert!(out.contains(&format!("of {ran} seeds (")), "totals are of the seeds that ran: {out}");
    assert!(
        rest.ends_with(&format!(
            "interrupted: after {ran} of 1000000 seeds (the next was {ran})\n"
        )),
        "{rest}"
    );
}

#[test]
fn sim_says_when_requests_failed_and_when_all_did() {
    let dir = scratch("sim-failed");
    let path = dir.join("crashed.json");
    // Both branches crash before the first request.
    std::fs::write(
        &path,
        r#"{"network": {"faults": [{"at_ms": 0, "crash": 1}, {"at_ms": 0, "crash": 2}]},
        "bank": [{"id": 1, "type": "customer", "events": [
            {"interface": "deposit", "money": 400, "id": 1, "dest": 1},
            {"interface": "query", "id": 2, "dest": 2}]},
          {"id": 1, "type": "branch", "balance": 0}, {"id": 2, "type": "branch", "balance": 0}]}"#,
    )
    .unwrap();
    let out = bank(&["sim", path.to_str().unwrap(), "--seeds", "4"]);
    let text = stdout(&out);
    let failed =
        text.lines().find(|l| l.contains("Failed requests")).unwrap_or_else(|| panic!("{text}"));
    assert!(failed.contains("8 of 8 requests, in 4 of 4 seeds"), "{failed}");
    assert!(
        failed
            .contains("first: seed 0, customer 1, event 1 (deposit at branch 1): branch 1 is down"),
        "{failed}"
    );
    assert!(failed.ends_with("every request failed, so nothing was checked"), "{failed}");
    // Without faults, no such line.
    let clean =
        bank(&["sim", repo("examples/demo-stale-read.json").to_str().unwrap(), "--seeds", "2"]);
    assert!(!stdout(&clean).contains("Failed requests"), "{}", stdout(&clean));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sim_counts_anomalies_over_seeds_and_keeps_promises() {
    let demo = repo("examples/demo-reads-backwards.json");
    let off = bank(&["sim", demo.to_str().unwrap(), "--seeds", "50"]);
    assert!(off.status.success(), "{}", stderr(&off));
    let line = |text: &str| {
        text.lines()
            .find(|l| l.contains("Monotonic Reads"))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    let text = stdout(&off);
    assert_eq!(
        line(&text).as_deref(),
        Some("off Monotonic Reads 50 of 50 seeds (reads going backwards)"),
        "{text}"
    );
    let on = bank(&["sim", demo.to_str().unwrap(), "--seeds", "50", "--guarantees", "all"]);
    assert!(on.status.success(), "{}", stderr(&on));
    assert_eq!(
        line(&stdout(&on)).as_deref(),
        Some("on Monotonic Reads 0 of 50 seeds (reads going backwards)"),
        "{}",
        stdout(&on)
    );
}

#[test]
fn experiments_with_planned_crashes_run_on_the_real_cluster() {
    let text = r#"{
  "guarantees": "all",
  "propagation": "background",
  "network": {"delay_ms": [1, 5], "faults": [{"at_ms": 2, "crash": 2}, {"at_ms": 100, "restart": 2}]},
  "bank": [
    {"id": 1, "type": "customer", "events": [
      {"interface": "deposit", "money": 100, "id": 1, "branch": 1},
      {"interface": "deposit", "money": 50, "id": 2, "branch": 3},
      {"interface": "query", "id": 3, "branch": 1}]},
    {"id": 1, "type": "branch", "balance": 0},
    {"id": 2, "type": "branch", "balance": 0},
    {"id": 3, "type": "branch", "balance": 0}
  ]
}"#;
    let out = bank_with_input(text, &["--dump-state", "--check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("\"balance\": 150"), "{}", stdout(&out));
    let err = stderr(&out);
    for b in 1..=3 {
        assert!(
            err.contains(&format!("branch {b}: balance 150.00")),
            "every branch converged, also the crashed one:\n{err}"
        );
    }
    assert!(err.contains("Read Your Writes (stale read): ok"), "{err}");
}

#[test]
fn experiments_with_bad_plans_are_refused_with_the_line() {
    let text = "{\n  \"network\": {\"faults\": [{\"at_ms\": 1, \"crash\": 7}]},\n  \"bank\": [{\"id\": 1, \"type\": \"branch\", \"balance\": 0}]\n}";
    let out = bank_with_input(text, &[]);
    assert_eq!(out.status.code(), Some(65));
    assert!(
        stderr(&out).contains("input.json:2:") && stderr(&out).contains("branch 7"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn guarantees_can_differ_per_customer() {
    // The stale-read demo with Read Your Writes for customer 1 only.
    let demo = std::fs::read_to_string(repo("examples/demo-stale-read.json")).unwrap();
    let text = demo.replacen(
        "\"guarantees\": \"none\",",
        "\"guarantees\": \"none\",\n  \"customer_guarantees\": {\"1\": \"ryw\"},",
        1,
    );
    assert_ne!(text, demo);
    let out = bank_with_input(&text, &["--check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("\"balance\": 100"),
        "customer 1 read its own deposit:\n{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("Read Your Writes (stale read): ok"), "{}", stderr(&out));
    // --guarantees is for every customer and wins over the file.
    let out = bank_with_input(&text, &["--check", "--guarantees", "none"]);
    assert!(
        stderr(&out).contains("Read Your Writes (stale read): 1 violation"),
        "{}",
        stderr(&out)
    );
}

// ------------------------------------------------------------ bank serve

#[test]
fn serve_says_where_it_listens_and_stops_cleanly_on_sigterm() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_bank"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("BANK_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let stderr_text = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    // The first stdout line is the URL, printed once the server listens.
    let Some((line, _stdout)) = first_line(child.stdout.take().unwrap(), Duration::from_secs(30))
    else {
        let _ = child.kill();
        panic!("bank serve printed no URL within 30 s");
    };
    assert!(line.starts_with("bank-sim visualizer: http://127.0.0.1:"), "{line}");
    assert!(!line.starts_with("bank-sim visualizer: http://127.0.0.1:0/"), "{line}");

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = wait_timeout(child, Duration::from_secs(10)).expect("exit within 10 s of SIGTERM");
    let stderr_text = stderr_text.join().unwrap();
    // Status 0, not death by the signal: the server stopped itself.
    assert!(status.success(), "{status}; stderr: {stderr_text}");
    assert!(stderr_text.ends_with("stopped\n"), "{stderr_text}");
}

#[test]
fn serve_raises_its_open_file_limit_for_its_labs_or_says_it_cannot() {
    use std::process::Stdio;
    let bin = env!("CARGO_BIN_EXE_bank");
    // Soft limit 64 (hard as it was): raised to what 128 labs need. Hard
    // limit 64 too: it cannot be, and says so.
    for (ulimit, warned) in [("-Sn 64", false), ("-n 64", true)] {
        let mut child = Command::new("sh")
            .args([
                "-c",
                &format!("ulimit {ulimit} && exec {bin} serve --addr 127.0.0.1:0 --max-labs 128"),
            ])
            .env("BANK_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let Some((line, _stdout)) = first_line(stdout, Duration::from_secs(30)) else {
            let _ = child.kill();
            panic!("bank serve printed no URL within 30 s");
        };
        assert!(line.starts_with("bank-sim visualizer: "), "{line}");
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
        let files = limits.lines().find(|l| l.starts_with("Max open files")).unwrap().to_owned();
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let soft: u64 = files.split_whitespace().nth(3).unwrap().parse().unwrap();
        if warned {
            assert_eq!(soft, 64, "{files}");
            assert!(err.contains("this system lets bank serve open 64 files; 128 labs"), "{err}");
        } else {
            assert_eq!(soft, 128 * 8 + 256, "{files}");
            assert!(!err.contains("lets bank serve open"), "{err}");
        }
    }
}

// ------------------------------------------- limits, strictness, exit codes

/// A fresh directory for one test.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bank-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A user's mistake: this status, the needles on stderr, never a panic or
/// an "internal error".
fn assert_refused(out: &Output, status: i32, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(status), "exit status; stderr: {err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}: {err}");
    }
    assert!(!err.contains("panicked") && !err.contains("internal error"), "{err}");
}

const ONE_BRANCH: &str = r#"[{"id": 1, "type": "customer", "events": [{"id": 1, "interface": "query"}]},
{"id": 1, "type": "branch", "balance": 0}]"#;

const THREE_BRANCHES: &str = r#"[{"id": 1, "type": "customer", "events": [{"id": 1, "interface": "query"}]},
{"id": 1, "type": "branch", "balance": 0}, {"id": 2, "type": "branch", "balance": 0},
{"id": 3, "type": "branch", "balance": 0}]"#;

#[test]
fn amounts_beyond_the_maximum_are_refused_at_parse_time() {
    // Both "succeeded" before, and the balance stopped at i64::MAX.
    let text = r#"[{"id": 1, "type": "customer", "events": [
  {"id": 1, "interface": "deposit", "money": 92233720368547758.07},
  {"id": 2, "interface": "deposit", "money": 92233720368547758.07}]},
{"id": 1, "type": "branch", "balance": 0}]"#;
    assert_bad_input(
        &bank_with_input(text, &[]),
        &["input.json:2:46:", "customer 1, event 1", "above the maximum amount 9999999999999.99"],
    );
}

#[test]
fn a_deposit_past_the_maximum_balance_fails_and_large_balances_print_exactly() {
    let text = r#"[{"id": 1, "type": "customer", "events": [
  {"id": 1, "interface": "deposit", "money": 9.99},
  {"id": 2, "interface": "deposit", "money": 0.01},
  {"id": 3, "interface": "query"}]},
{"id": 1, "type": "branch", "balance": 9999999999990}]"#;
    let out = bank_with_input(text, &["--format", "p1"]);
    assert_ne!(out.status.code(), Some(70), "{}", stderr(&out));
    let expected = serde_json::json!([{"id": 1, "recv": [
        {"interface": "deposit", "result": "success"},
        {"interface": "deposit", "result": "fail"},
        {"interface": "query", "result": "success", "balance": 9999999999999.99}
    ]}]);
    let text_out = stdout(&out);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&text_out).unwrap(), expected);
    // The exact digits, not a float's rendering of them.
    assert!(text_out.contains("\"balance\": 9999999999999.99\n"), "{text_out}");

    let text = r#"[{"id": 1, "type": "customer", "events": [{"id": 1, "interface": "query"}]},
{"id": 1, "type": "branch", "balance": 9999999999999}]"#;
    let out = bank_with_input(text, &["--format", "p1", "--float-money"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("\"balance\": 9999999999999.0\n"), "{}", stdout(&out));
}

#[test]
fn a_key_written_twice_is_refused_with_its_place() {
    let text = r#"[{"id": 1, "type": "customer", "events": [
  {"id": 1, "interface": "deposit", "money": 10, "money": 1000}]},
{"id": 1, "type": "branch", "balance": 0}]"#;
    assert_bad_input(
        &bank_with_input(text, &[]),
        &["input.json:2:50:", "\"money\" appears twice", "first at line 2, column 37"],
    );
}

#[test]
fn a_link_from_a_branch_to_itself_is_refused() {
    let text = format!(
        "{{\"network\": {{\"links\": [{{\"between\": [1, 1], \"delay_ms\": 5}}]}},\n\"bank\": {ONE_BRANCH}}}"
    );
    assert_bad_input(&bank_with_input(&text, &[]), &["input.json:1:2:", "to itself"]);
}

#[test]
fn a_fifo_or_a_directory_is_refused_at_once_not_read_forever() {
    let dir = scratch("fifo");
    let fifo = dir.join("input.json");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    let fifo_arg = fifo.to_str().unwrap();
    for args in [vec!["run", fifo_arg], vec!["check", fifo_arg], vec!["sim", fifo_arg]] {
        let child = Command::new(env!("CARGO_BIN_EXE_bank"))
            .args(&args)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let status = wait_timeout(child, Duration::from_secs(30));
        assert_eq!(status.and_then(|s| s.code()), Some(66), "{args:?} must not block");
    }
    let out = bank(&["run", fifo_arg]);
    assert_refused(&out, 66, &["it is a FIFO, not a regular file"]);
    let out = bank(&["run", dir.to_str().unwrap()]);
    assert_refused(&out, 66, &["it is a directory, not a regular file"]);
    // A cluster file too.
    let input = dir.join("bank.json");
    std::fs::write(&input, ONE_BRANCH).unwrap();
    let out = bank(&["run", input.to_str().unwrap(), "--cluster", fifo_arg]);
    assert_refused(&out, 66, &["not a regular file (it is a FIFO)"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_base_port_too_high_for_the_branches_is_a_command_line_error() {
    let out = bank_with_input(THREE_BRANCHES, &["--base-port", "65535"]);
    assert_refused(&out, 2, &["--base-port 65535", "ports 65535 to 65537", "65533 or lower"]);
    let out = bank_with_input(THREE_BRANCHES, &["--base-port", "0"]);
    assert_refused(&out, 2, &["--base-port"]);
}

#[test]
fn a_max_input_bytes_out_of_range_is_a_command_line_error() {
    for bad in ["18446744073709551615", "0", "1073741825"] {
        let out = bank_with_input(ONE_BRANCH, &["--max-input-bytes", bad]);
        assert_refused(&out, 2, &["--max-input-bytes"]);
        assert!(!stderr(&out).contains("empty"), "{}", stderr(&out));
    }
    let out = bank_with_input(ONE_BRANCH, &["--max-input-bytes", "1073741824"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn outputs_that_cannot_be_written_exit_73_before_the_run() {
    let dir = scratch("unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let file = file.to_str().unwrap();
    let missing = dir.join("no-such-dir/history.json");
    let missing = missing.to_str().unwrap();
    let dir_arg = dir.to_str().unwrap();
    for (flags, needle) in [
        (["--data-dir", file], "--data-dir"),
        (["--out-dir", file], "--out-dir"),
        (["--history", missing], "--history"),
        (["--history", dir_arg], "--history"),
    ] {
        let out = bank_with_input(ONE_BRANCH, &flags);
        assert_refused(&out, 73, &[needle]);
        assert!(stdout(&out).is_empty(), "refused before the run: {}", stdout(&out));
    }
    let input = dir.join("bank.json");
    std::fs::write(&input, ONE_BRANCH).unwrap();
    let out = bank(&["sim", input.to_str().unwrap(), "--seeds", "1", "--history", missing]);
    assert_refused(&out, 73, &["--history"]);
    let out = bank(&[
        "branch",
        "--id",
        "1",
        "--peers",
        "2=127.0.0.1:9",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        file,
    ]);
    assert_refused(&out, 73, &["cannot use data directory"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_documents_the_exit_statuses_and_limits() {
    let out = bank(&["run", "--help"]);
    let help = stdout(&out);
    for needle in ["73", "66", "65", "70 internal error", "9,999,999,999,999.99", "1,000 branches"]
    {
        assert!(help.contains(needle), "bank run --help lacks {needle:?}: {help}");
    }
}

#[test]
fn sim_prints_every_event_with_its_vector_clock() {
    let input = repo("examples/seed-test-1.json");
    let out = bank(&["sim", input.to_str().unwrap(), "--vector-clocks", "--seed", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    let head = lines.next().unwrap_or_default();
    assert!(head.starts_with("vector clocks of ") && head.contains("seed 3"), "{text}");
    assert!(text.contains("\n  b1   branch 1\n"), "the lanes are listed: {text}");
    assert!(text.contains("\n  c0   customer "), "{text}");
    // Each event line: index, lane, clock; the lane's own entry counts its
    // events so far, so it is 1, 2, 3, ... down each lane.
    let mut seen = std::collections::BTreeMap::<String, u64>::new();
    let events: Vec<&str> = lines.filter(|l| l.starts_with(' ') && l.contains('[')).collect();
    assert!(events.len() > 5, "{text}");
    for line in &events {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let lane = fields[1].to_owned();
        let own = line
            .split(['[', ']'])
            .nth(1)
            .and_then(|clock| clock.split(' ').find_map(|e| e.strip_prefix(&format!("{lane}:"))))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no entry for its own lane {lane}: {line}"));
        let count = seen.entry(lane).or_default();
        *count += 1;
        assert_eq!(own, *count, "{line}");
        assert!(!line.contains(":0"), "zeros are left out: {line}");
    }
    assert!(events.iter().any(|l| l.contains("@ clock")), "branch lines carry the Lamport clock");

    let both = bank(&["sim", input.to_str().unwrap(), "--vector-clocks", "--seeds", "5"]);
    assert_eq!(both.status.code(), Some(2), "one run only: {}", stderr(&both));
    let help = stdout(&bank(&["sim", "--help"]));
    assert!(help.contains("--vector-clocks") && help.contains("concurrent"), "{help}");
}

/// `bank … | head`: the reader is gone before anything is written (the
/// pipe's read end is closed before the command starts, so the write fails
/// every time). The command ends quietly with 141, as `cat` does, instead
/// of panicking in `println!` or reporting an internal error.
#[test]
fn a_closed_stdout_ends_the_command_quietly_with_141() {
    let history = std::env::temp_dir().join(format!("bank-cli-pipe-{}.json", std::process::id()));
    let stale = repo("examples/demo-stale-read.json");
    let made = bank(&["run", stale.to_str().unwrap(), "--history", history.to_str().unwrap()]);
    assert!(made.status.success(), "{}", stderr(&made));
    let seed_test = repo("examples/seed-test-1.json");
    let commands: [Vec<&str>; 3] = [
        vec!["run", seed_test.to_str().unwrap()],
        vec!["sim", stale.to_str().unwrap(), "--seeds", "3"],
        vec!["check", history.to_str().unwrap()],
    ];
    for args in commands {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_bank"))
            .args(&args)
            .env_remove("BANK_TOKEN")
            .stdout(writer)
            .output()
            .expect("bank runs");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(141), "bank {args:?}: {err}");
        assert!(!err.contains("panicked") && !err.contains("internal error"), "{args:?}: {err}");
    }
    // Any other failure to write stdout is an output that cannot be
    // written (73), named as stdout.
    if std::path::Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_bank"))
            .args(["run", seed_test.to_str().unwrap()])
            .env_remove("BANK_TOKEN")
            .stdout(full)
            .output()
            .expect("bank runs");
        assert_eq!(out.status.code(), Some(73), "{}", stderr(&out));
        assert!(stderr(&out).contains("cannot write to stdout"), "{}", stderr(&out));
    }
    std::fs::remove_file(&history).ok();
}

#[test]
fn a_deposit_refused_past_the_maximum_balance_is_noted() {
    let dir = scratch("past-max");
    let input = dir.join("input.json");
    std::fs::write(
        &input,
        r#"[{"id": 1, "type": "customer", "events": [{"id": 1, "interface": "deposit", "money": 1},
            {"id": 2, "interface": "query"}]}, {"id": 1, "type": "branch", "balance": 9999999999999.99}]"#,
    )
    .unwrap();
    let out = bank(&["run", input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(r#""result": "fail""#));
    assert!(
        stderr(&out).contains(
            "note: 1 deposit(s) failed (customer 1, event 1): each would have taken its branch's \
             balance past 9999999999999.99"
        ),
        "{}",
        stderr(&out)
    );
    std::fs::remove_dir_all(&dir).ok();
}
