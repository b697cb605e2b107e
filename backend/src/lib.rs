//! # bank-backend: the real cluster
//!
//! The native side of bank-sim. It runs the pure [`bank_core::Branch`] state
//! machine as real gRPC servers (tonic) and drives customers against them.
//! Each folder is one subsystem; read them from the bottom up:
//!
//! | module | what it holds |
//! |---|---|
//! | [`shutdown`] | [`shutdown::Shutdown`]: one signal to stop, watched by every task |
//! | [`error`] | error types and their mapping to gRPC statuses |
//! | [`observe`] | [`observe::Activity`]: what nodes and customers report, in causal order, and its proto form |
//! | [`net`] | channels between processes (token, TLS) and the simulated network |
//! | [`branch`] | one branch server: node task, links, durable store, gRPC services |
//! | [`cluster`] | a whole bank: in-process on loopback, or branch processes elsewhere |
//! | [`customers`] | customer sessions following a schedule, paced by permits |
//! | [`lab`] | the visualizer's lab: one scenario on a live cluster, paced and recorded |
//! | [`web`] | axum: grpc-web + native gRPC + the built frontend on one origin |
//!
//! Every conversion between proto messages and core values is a `From` /
//! `TryFrom` impl of [`bank_proto::convert`] (shared with the browser);
//! those of the backend's own [`observe::Activity`] are in [`observe`].
//!
//! The `bank` command (`src/bin/bank/`) is a thin layer over these: one file
//! per subcommand.
//!
//! No file imports one that imports it back. `net` knows nothing of
//! branches; of a cluster, a branch server knows only its file (where its
//! peers listen, [`cluster::file`]); `cluster` knows nothing of customers
//! or the lab.

pub mod branch;
pub mod cluster;
pub mod customers;
pub mod error;
pub mod lab;
pub mod net;
pub mod observe;
pub mod shutdown;
pub mod web;
