//! Everything the UI computes without a DOM: plain Rust, tested natively and
//! in the browser.
//!
//! - [`trace`]: the recorded history, its messages, and the replay to a cursor.
//! - [`layout`]: where the graph draws nodes and messages.
//! - [`diagram`]: where the space-time diagram draws events, messages and
//!   faults; [`lanes`]: its lanes' order and which are hidden.
//! - [`format`]: money (integer cents, printed by `bank_core`) and labels as text.
//! - [`describe`]: event log lines and details-panel facts.
//! - [`grade`]: a student's output graded by `bank_core::grade`, each
//!   problem linked to its event in the trace.
//! - [`embed`]: the page's query string and `?scenario=<base64>`.
//! - [`customer`]: the browser as a customer: a `bank_core::Session`, its
//!   event ids, and the amount typed.
//! - [`sessions`]: every customer session replayed to the cursor (write and
//!   read sets, guarantees, parked requests); [`applied`]: which writes each
//!   branch applied, by id.
//! - [`permalink`]: a link to one moment of one run; [`history_export`]: the
//!   run as a `bank check` history file.
//! - [`clock_why`]: why an event has its Lamport clock (the branch's own step).
//! - [`causal`]: every event's vector clock and the selected one's causal
//!   past and future (`bank_core::causality`).
//! - [`invariants`]: the live invariants at the cursor, and the first break.
//! - [`caption`]: presentation mode's line saying what just happened.
//!
//! Proto messages become core values (and back) through `bank_proto`'s
//! `From` / `TryFrom` impls, the backend's own: no conversion is written here.

pub mod applied;
pub mod caption;
pub mod causal;
pub mod clock_why;
pub mod customer;
pub mod describe;
pub mod diagram;
pub mod embed;
pub mod format;
pub mod grade;
pub mod history_export;
pub mod invariants;
pub mod lanes;
pub mod layout;
pub mod permalink;
pub mod session_words;
pub mod sessions;
pub mod trace;
