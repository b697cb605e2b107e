//! How much one input may hold: the documented maxima of a course input
//! (and of an experiment's `bank`), checked while it is parsed.
//!
//! They keep one file from asking for more than a run can give (a branch
//! server per branch, a task per customer, a record per event). Beyond a
//! maximum, parsing stops with one error at the entry or event that went
//! over it (`file:line:column`), before anything is started. The README
//! lists them under "Limits"; money has its own, [`Cents::MAX`].
//!
//! [`Cents::MAX`]: crate::money::Cents::MAX

/// The most branches one input may define.
pub const MAX_BRANCHES: usize = 1_000;

/// The most customer entries one input may hold.
pub const MAX_CUSTOMERS: usize = 100_000;

/// The most events one input may hold, all customers together.
pub const MAX_EVENTS: usize = 100_000;
