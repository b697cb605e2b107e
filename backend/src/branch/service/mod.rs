//! A branch's gRPC services, one per audience: proto in, a core input to the
//! branch's node, proto out.
//!
//! | module | service | who calls it |
//! |---|---|---|
//! | [`customer`] | `Customer` (`Request`) | customers: `bank run`'s tasks, the lab's gateway |
//! | [`replica`] | `Replica` (`PropagateBatch`, `Pull`) | the other branches of the bank |
//! | [`admin`] | `Admin` (`Inspect`, `Reset`, `Trace`) | the programs that run branches |
//!
//! Each holds a [`NodeHandle`](crate::branch::node::NodeHandle) and forwards
//! to it; the messages are read and written with the `From` / `TryFrom`
//! impls of [`bank_proto::convert`], whose errors answer `INVALID_ARGUMENT`.
//! [`crate::branch::server`] serves all three on a branch's port.

pub mod admin;
pub mod customer;
pub mod replica;

pub use admin::AdminService;
pub use customer::CustomerService;
pub use replica::ReplicaService;
