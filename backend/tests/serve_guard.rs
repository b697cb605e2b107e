//! `bank serve` guards its lab, which has no login (issue 17): it listens
//! beyond loopback only with `--allow-remote`, and answers only requests
//! whose `Host` names it, so a web page cannot reach it by DNS rebinding.

mod common;
use common::{bank, stderr, wait_timeout};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn a_remote_address_needs_allow_remote() {
    let out = bank(&["serve", "--addr", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("refusing to listen on 0.0.0.0:0"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--allow-remote"), "{}", stderr(&out));
    let out = bank(&["serve", "--public-host", "http://bank.example.org/"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no scheme"), "{}", stderr(&out));
}

/// A running `bank serve` on a free loopback port.
struct Served {
    child: Child,
    port: u16,
}

impl Served {
    fn start(extra: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bank"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .env_remove("BANK_TOKEN")
            .env("BANK_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut stdout = BufReader::new(stdout);
            let mut line = String::new();
            let _ = stdout.read_line(&mut line);
            let _ = tx.send((line, stdout));
        });
        let Ok((line, stdout)) = rx.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            panic!("bank serve printed no URL within 30 s");
        };
        // Keep the pipe open (a later print must not fail).
        std::mem::forget(stdout);
        let port = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Served { child, port }
    }

    /// GET / naming `host`: the status code and the body.
    fn get(&self, host: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(stream, "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {answer:?}"));
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
        (status, body)
    }

    fn stop(self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        wait_timeout(self.child, Duration::from_secs(10)).expect("stops on SIGTERM");
    }
}

#[test]
fn only_requests_naming_the_servers_own_hosts_are_answered() {
    let served = Served::start(&["--public-host", "bank.example.org"]);
    let port = served.port;
    for good in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        "bank.example.org".to_owned(),
        // The `trunk serve` proxy (a --dev-origin) may pass the browser's Host on.
        "127.0.0.1:8081".to_owned(),
    ] {
        assert_eq!(served.get(&good).0, 200, "{good}");
    }
    for evil in [format!("evil.example:{port}"), "evil.example".to_owned(), "localhost:1".into()] {
        let (status, body) = served.get(&evil);
        assert_eq!(status, 421, "{evil}: {body}");
        assert!(body.contains(&format!("does not answer for host {evil:?}")), "{body}");
        assert!(body.contains("--public-host"), "{body}");
    }
    served.stop();
}
