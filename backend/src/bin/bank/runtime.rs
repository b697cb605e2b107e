//! What the long-running commands run on: the tokio runtime. (The stop
//! signal `bank serve` and `bank branch` wait for is
//! [`bank_backend::shutdown::interrupted`].)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;

/// The multi-threaded tokio runtime `run`, `serve` and `branch` run on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// A flag the first Ctrl-C (or SIGTERM) sets, for a command that computes
/// on its own thread and checks the flag between steps (`bank sim` prints
/// what it has so far). The handler is in place when this returns; a
/// second signal ends the process at once with status 130.
pub fn interrupt_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    let (ready, installed) = std::sync::mpsc::channel();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the signal handler")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            runtime.block_on(async move {
                let first = bank_backend::shutdown::interrupted();
                let _ = ready.send(());
                first.await;
                set.store(true, Ordering::SeqCst);
                let second = bank_backend::shutdown::interrupted();
                second.await;
                std::process::exit(130);
            })
        })
        .context("starting the signal handler")?;
    installed.recv().context("starting the signal handler")?;
    Ok(flag)
}
