//! The example scenarios shipped in `examples/`: bank-core's list
//! ([`bank_core::examples`]), which the browser's simulator bundles too.

pub use bank_core::examples::{all, find, Example};
