//! Helpers shared by the tests that start `bank` processes.

use std::process::{Child, Command, ExitStatus};
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
