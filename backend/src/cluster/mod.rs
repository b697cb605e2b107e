//! A whole bank: many branch servers, started here or reached elsewhere.
//!
//! | module | what it holds |
//! |---|---|
//! | [`local`] | N branch servers inside this process, on loopback, started and stopped cleanly |
//! | [`file`] | `cluster.toml`: where an external cluster's branches listen |
//! | [`remote`] | driving an external cluster of `bank branch` processes: reset, customers, traces |
//! | [`causal`] | cause before effect for activity heard over several streams |

pub mod causal;
pub mod file;
pub mod local;
pub mod remote;
