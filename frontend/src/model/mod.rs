//! Everything the UI computes without a DOM: plain Rust, tested natively and
//! in the browser.
//!
//! - [`trace`]: the recorded history, its messages, and the replay to a cursor.
//! - [`layout`]: where the graph draws nodes and messages.
//! - [`format`]: money (integer cents) and labels as text.
//! - [`describe`]: event log lines and details-panel facts.
//! - [`embed`]: the page's query string and `?scenario=<base64>`.
//! - [`session`]: the browser's own customer session.

pub mod describe;
pub mod embed;
pub mod format;
pub mod layout;
pub mod session;
pub mod trace;
