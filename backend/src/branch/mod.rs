//! One branch as a server: the pure [`bank_core::Branch`] hosted by tokio
//! and served over gRPC.
//!
//! Read in this order: [`node`] (the driver loop: inputs in, effects carried
//! out), [`link`] (how its writes reach each peer), [`store`] and [`commit`]
//! (what it keeps on disk and when a customer may be told), [`service`] (the
//! gRPC face), [`server`] (binding and serving it, shared by the in-process
//! cluster and `bank branch`), [`standalone`] (one branch as its own process).
//!
//! | module | what it holds |
//! |---|---|
//! | [`node`] | one branch as a tokio task: inbox in, effects carried out |
//! | [`link`] | a branch's outgoing link to one peer: propagations in batches |
//! | [`store`] | a branch's durable store of applied writes (crash recovery, full disks) |
//! | [`commit`] | group commit: replies sent once what they tell is on the disk |
//! | [`service`] | its gRPC services (`Customer`, `Replica`, `Admin`), forwarding to its node |
//! | [`trace_feed`] | a branch process's log entries for `Trace` watchers |
//! | [`server`] | one branch server started: listener, node, service, anti-entropy |
//! | [`standalone`] | one branch as its own process (`bank branch`) |

pub mod commit;
pub mod link;
pub mod node;
pub mod server;
pub mod service;
pub mod standalone;
pub mod store;
pub mod trace_feed;

#[cfg(test)]
mod storage_tests;
