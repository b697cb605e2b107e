//! `bank branch` and `bank run --cluster` as a user runs them: the checks
//! made before anything listens, and a clean stop on SIGTERM.

mod common;
use common::{bank, stderr, wait_timeout};

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn listening_beyond_loopback_needs_allow_remote() {
    let out = bank(&["branch", "--id", "1", "--listen", "0.0.0.0:0", "--peers", "2=127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(stderr(&out).contains("refusing to listen on 0.0.0.0:0"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--allow-remote"), "{}", stderr(&out));
}

#[test]
fn bad_peers_and_missing_peers_are_command_line_errors() {
    let out = bank(&["branch", "--id", "1", "--listen", "127.0.0.1:0", "--peers", "2=nohost"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no port"), "{}", stderr(&out));
    let out = bank(&["branch", "--id", "1", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--peers"), "{}", stderr(&out));
}

#[test]
fn a_bad_cluster_file_is_named_with_its_line() {
    let dir = std::env::temp_dir().join(format!("bank-branch-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("cluster.toml");
    std::fs::write(&file, "[[branch]]\nid = 1\naddress = \"127.0.0.1:1\"\n").unwrap();
    let out = bank(&["branch", "--id", "1", "--cluster", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(stderr(&out).contains("cluster.toml:3:1: unknown field `address`"), "{}", stderr(&out));

    let input =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/seed-test-1.json");
    let out = bank(&["run", "--cluster", file.to_str().unwrap(), input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_branch_says_where_it_listens_and_stops_cleanly_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bank"))
        .args(["branch", "--id", "1", "--listen", "127.0.0.1:0", "--peers", "2=127.0.0.1:1"])
        .env_remove("BANK_TOKEN")
        .env("BANK_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("bank branch 1 listening on 127.0.0.1:"), "{line}");
    assert!(line.contains("token off; TLS off"), "{line}");

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = wait_timeout(child, Duration::from_secs(10)).expect("exit within 10 s of SIGTERM");
    assert!(status.success(), "{status}");
}
