//! # bank-proto: the wire contract of bank-sim
//!
//! Everything that crosses a process boundary (customer → branch, branch →
//! branch, driver → branch, browser → backend) is one of the messages
//! generated here from `proto/bank/v1/*.proto`, all of the package `bank.v1`
//! (so all in the one module [`v1`], re-exported at the root). The services are
//! split by who calls them:
//!
//! * `types.proto`: the shared vocabulary (operations, write ids and sets,
//!   guarantees, sessions, log entries, propagation modes, clock schemes);
//! * `customer.proto`, service `Customer` (`Request`): for customers, a
//!   customer task of `bank run` or the browser (through the lab's origin);
//! * `replica.proto`, service `Replica` (`PropagateBatch`, `Pull`): for the
//!   other branches of the bank;
//! * `admin.proto`, service `Admin` (`Inspect`, `Reset`, `Trace`): for the
//!   programs that run branches (`bank run`, the `--cluster` drivers, tests);
//! * `lab.proto`, service `Lab` (`Examples`, `Load`, `Control`, `Watch`,
//!   `Inject`, `Compare`): for the browser visualizer, over grpc-web. Its
//!   settings are typed (`OutputFormat`, `Schedule`, `Guarantees`,
//!   `PropagationMode`), never strings.
//!
//! Each service has a client (`customer_client::CustomerClient`, …) and,
//! with the crate feature `server` (the backend's; the browser builds without
//! it), a server trait (`customer_server::Customer`, …). No transport is
//! generated: a client is built over any tonic channel, native or grpc-web.
//!
//! [`convert`] is the one place where these messages and the `bank-core`
//! types meet: every conversion between the two is a `From` or `TryFrom` impl
//! there, used by the backend and the browser alike. [`lab_trace`] builds the
//! lab's `Watch` events from core values, for the live lab and the browser's
//! simulator alike.
#![allow(missing_docs, missing_debug_implementations)]

pub mod compare;
pub mod convert;
pub mod lab_trace;

pub mod v1 {
    tonic::include_proto!("bank.v1");
}

pub use convert::ConvertError;
pub use v1::*;
