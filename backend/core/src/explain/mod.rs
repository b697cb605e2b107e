//! Explanations a student can check by hand, computed from what the core
//! itself recorded (never a second implementation of the rules).
//!
//! - [`clock`]: why a logged event has its Lamport clock, with the numbers.
//!
//! The history checker explains its violations itself, in
//! [`crate::check::sentence`].

pub mod clock;
