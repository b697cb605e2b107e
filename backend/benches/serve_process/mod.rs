//! A `bank serve` process started by a benchmark, and its memory as the
//! kernel reports it (`/proc/<pid>/status`).
//!
//! Sections 5 (one lab under load) and 5b (many labs) both start the real
//! binary on a free loopback port and read the address it prints; this is
//! the one place that does it.

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Starts `command` (a `bank serve … --addr 127.0.0.1:0 …`) and waits up to
/// 30 s for the address it prints. The caller stops the child; if no address
/// comes, it is stopped here.
pub fn start(command: &mut Command) -> Result<(Child, SocketAddr), String> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting bank serve: {e}"))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    // Keeps reading, so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                let _ = tx.send(url.trim_start_matches("http://").trim_end_matches('/').to_owned());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .map_err(|_| "bank serve printed no URL within 30 s".to_owned())
        .and_then(|url| url.parse().map_err(|e| format!("bank serve's address: {e}")));
    match addr {
        Ok(addr) => Ok((child, addr)),
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(e)
        }
    }
}

/// A `VmRSS:` / `VmHWM:` style line of process `pid`'s status, in KiB.
pub fn status_kib(pid: u32, key: &str) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no {key} in /proc/{pid}/status"))
}
