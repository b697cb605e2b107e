//! What the long-running commands run on: the tokio runtime, and the stop
//! signal (Ctrl-C or SIGTERM) that `bank serve` and `bank branch` wait for.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use anyhow::Context;
use bank_backend::shutdown::interrupted;

/// The multi-threaded tokio runtime `run`, `serve` and `branch` run on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// A future that completes on Ctrl-C or SIGTERM ([`interrupted`]), with
/// its signal handlers already installed when this returns.
///
/// `interrupted()` installs them when it is first polled, and a server
/// polls its shutdown future only once it runs. A signal in between (a
/// test or a script that sends SIGTERM as soon as the "listening" line is
/// printed) would find no handler and kill the process. So this polls it
/// once, here, inside the runtime; call it before telling anyone the
/// command is ready.
pub async fn stop_requested() -> Pin<Box<dyn Future<Output = ()> + Send>> {
    let mut stop = Box::pin(interrupted());
    let first = std::future::poll_fn(|cx| Poll::Ready(stop.as_mut().poll(cx))).await;
    match first {
        // Already signalled: a finished future must not be polled again.
        Poll::Ready(()) => Box::pin(std::future::ready(())),
        Poll::Pending => stop,
    }
}
