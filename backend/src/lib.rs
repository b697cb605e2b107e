//! # bank-backend: the real cluster
//!
//! The native side of bank-sim. It runs the pure [`bank_core::Branch`] state
//! machine as real gRPC servers (tonic) and drives customers against them.
//!
//! | module | what it holds |
//! |---|---|
//! | [`node`] | one branch as a tokio task: inbox in, effects carried out |
//! | [`service`] | the `Branch` gRPC service, forwarding to a node |
//! | [`wire`] | proto ⇄ core conversions, the only place they meet |
//! | [`cluster`] | N branch servers on loopback, started and stopped cleanly |
//! | [`runner`] | customer sessions as tasks, following a schedule |
//! | [`error`] | error types and their mapping to gRPC statuses |
//!
//! The `bank` command (`src/bin/bank.rs`) is a thin layer over these.

pub mod cluster;
pub mod error;
pub mod node;
pub mod runner;
pub mod service;
pub mod wire;
