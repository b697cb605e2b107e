//! The bank-sim wire contract, generated from `proto/bank.proto`.
//!
//! Everything that crosses a process boundary (customer → branch, branch →
//! branch, browser → backend) is one of these messages. Conversions to and
//! from the pure core types live in the backend's `wire` module, the only
//! place where the two meet.
#![allow(missing_docs, missing_debug_implementations)]

pub mod v1 {
    tonic::include_proto!("bank.v1");
}

pub use v1::*;
