//! What the lab records and answers, built as proto messages.
//!
//! The lab's history is a list of [`pb::LabEvent`]s, and its answers are
//! proto replies. Every message is built by bank-proto's
//! [`lab_trace`](bank_proto::lab_trace), the same functions the browser's
//! simulator uses, so a live run and a simulated one look alike to the page;
//! this module only reads the live cluster's network for them.

use bank_proto as pb;
pub use bank_proto::lab_trace::{
    control_reply, fault_refused, network_changed, refused, summary, violations,
};

use crate::cluster::local::Control;

/// What is broken in `control`'s cluster right now.
pub async fn network_state(control: &Control) -> pb::NetworkState {
    let down = control.down().await;
    let network = control.network();
    bank_proto::lab_trace::network_state(&down, &network.links(), &network.branches())
}
