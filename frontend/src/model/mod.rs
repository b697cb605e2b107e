//! Everything the UI computes without a DOM: plain Rust, tested natively and
//! in the browser.
//!
//! - [`trace`]: the recorded history, its messages, and the replay to a cursor.
//! - [`layout`]: where the graph draws nodes and messages.
//! - [`diagram`]: where the space-time diagram draws events, messages and
//!   faults; [`lanes`]: its lanes' order and which are hidden; [`causal`]:
//!   its vector clocks and happened-before cone (`bank_core::causality`).
//! - [`format`]: money (integer cents, printed by `bank_core`) and labels as text.
//! - [`describe`]: event log lines and details-panel facts.
//! - [`embed`]: the page's query string and `?scenario=<base64>`.
//! - [`customer`]: the browser as a customer: a `bank_core::Session`, its
//!   event ids, and the amount typed.
//!
//! Proto messages become core values (and back) through `bank_proto`'s
//! `From` / `TryFrom` impls, the backend's own: no conversion is written here.

pub mod causal;
pub mod customer;
pub mod describe;
pub mod diagram;
pub mod embed;
pub mod format;
pub mod lanes;
pub mod layout;
pub mod trace;
