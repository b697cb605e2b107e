//! What the long-running commands run on: the tokio runtime. (The stop
//! signal `bank serve` and `bank branch` wait for is
//! [`bank_backend::shutdown::interrupted`].)

use anyhow::Context;

/// The multi-threaded tokio runtime `run`, `serve` and `branch` run on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
