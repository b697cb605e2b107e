//! Between processes: how a channel reaches a branch, and what may go wrong
//! on the way.
//!
//! | module | what it holds |
//! |---|---|
//! | [`transport`] | [`transport::BankChannel`]: every gRPC client's channel (plain, token, TLS) |
//! | [`auth`] | the shared token, checked and added by interceptors |
//! | [`hosts`] | the `Host` names `bank serve` answers (against DNS rebinding) |
//! | [`simulated`] | the in-process cluster's planned delays, loss and partitions |

pub mod auth;
pub mod hosts;
pub mod simulated;
pub mod transport;
