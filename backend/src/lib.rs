//! # bank-backend: the real cluster
//!
//! The native side of bank-sim. It runs the pure [`bank_core::Branch`] state
//! machine as real gRPC servers (tonic) and drives customers against them.
//!
//! | module | what it holds |
//! |---|---|
//! | [`node`] | one branch as a tokio task: inbox in, effects carried out |
//! | [`link`] | a branch's outgoing link to one peer: propagations in batches |
//! | [`store`] | a branch's durable store of applied writes (crash recovery) |
//! | [`network`] | the in-process cluster's planned delays, loss and partitions |
//! | [`service`] | the `Branch` gRPC service, forwarding to a node |
//! | [`wire`] | proto ⇄ core conversions, the only place they meet |
//! | [`observe`] | [`observe::Activity`]: what nodes and customers report, in causal order |
//! | [`cluster`] | N branch servers on loopback, started and stopped cleanly |
//! | [`runner`] | customer sessions as tasks, following a schedule |
//! | [`error`] | error types and their mapping to gRPC statuses |
//! | [`lab`] | the visualizer's lab: one scenario on a live cluster, paced and recorded |
//! | [`pacer`] | permits for scripted events (play / step / pause), observable |
//! | [`lab_service`] | the `Lab` gRPC service the browser calls |
//! | [`gateway`] | the `Branch` service on the web origin: the browser as a customer |
//! | [`web`] | axum: grpc-web + native gRPC + the built frontend on one origin |
//! | [`examples`] | the scenarios in `examples/`, compiled in |
//! | [`standalone`] | one branch as its own process (`bank branch`) |
//! | [`cluster_file`] | `cluster.toml`: where an external cluster's branches listen |
//! | [`external`] | driving an external cluster: reset, customers, traces |
//! | [`transport`] | channels between processes: token and TLS |
//! | [`auth`] | the shared token, checked and added by interceptors |
//! | [`causal`] | cause before effect for activity heard over several streams |
//! | [`trace_feed`] | a branch process's log entries for `Branch.Trace` watchers |
//!
//! The `bank` command (`src/bin/bank.rs`) is a thin layer over these.

pub mod auth;
pub mod causal;
pub mod cluster;
pub mod cluster_file;
pub mod error;
pub mod examples;
pub mod external;
pub mod gateway;
pub mod network;
pub mod lab;
pub mod link;
pub mod lab_service;
pub mod node;
pub mod observe;
pub mod pacer;
pub mod runner;
pub mod service;
pub mod standalone;
pub mod store;
pub mod trace_feed;
pub mod transport;
pub mod web;
pub mod wire;
