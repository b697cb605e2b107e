//! Helpers shared by the backend's integration tests: where the shared
//! test data is, running the `bank` command, waiting for a child process.
//!
//! Each test file that needs them says `mod common;`; not every file uses
//! every helper, hence the `allow` below.
#![allow(dead_code)]

pub mod lab_server;

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output};
use std::sync::mpsc;
use std::time::Duration;

/// Waits for `child` to exit, at most `limit`: a thread blocks in `wait`
/// and reports the moment the process ends (no polling). On time-out the
/// process is killed and `None` is returned.
pub fn wait_timeout(child: Child, limit: Duration) -> Option<ExitStatus> {
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut child = child;
        let _ = tx.send(child.wait());
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(status)) => Some(status),
        _ => {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            None
        }
    }
}

/// The first line of `pipe` (a child's stdout or stderr), read on a thread
/// so that a child that never writes one fails the test within `limit`
/// instead of hanging it (`None`). The pipe comes back too, still open:
/// closing it early could fail the child's later prints.
pub fn first_line<R: std::io::Read + Send + 'static>(
    pipe: R,
    limit: Duration,
) -> Option<(String, std::io::BufReader<R>)> {
    use std::io::BufRead;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = std::io::BufReader::new(pipe);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send((line, reader));
    });
    rx.recv_timeout(limit).ok()
}

/// A path in the repository, e.g. `examples/seed-test-1.json`.
pub fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// A public course file in `testdata/formats/`, e.g.
/// `p1-branch-propagation/jthak002+cse531/input_small.json`.
pub fn course_file(rel: &str) -> PathBuf {
    repo("testdata/formats").join(rel)
}

/// The text of [`course_file`]`(rel)`.
pub fn course_text(rel: &str) -> String {
    let path = course_file(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `bank ARGS`, run to its end. `BANK_TOKEN` is not passed on: a token in
/// the developer's environment must not change what a test sees.
pub fn bank(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bank"))
        .args(args)
        .env_remove("BANK_TOKEN")
        .output()
        .expect("bank runs")
}

/// What a finished command wrote on stderr, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
