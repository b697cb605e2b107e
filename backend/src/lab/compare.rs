//! The lab's side-by-side comparison: bank-proto's
//! [`compare`](bank_proto::compare::compare), which the browser's simulated
//! lab answers with too.

pub use bank_proto::compare::compare;
