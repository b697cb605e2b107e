//! Experiments: a course input plus how to run it, from the file to the run.
//!
//! A course input says *what* happens (branches, customers, their events);
//! an experiment also says *how* to run it (session guarantees, propagation,
//! schedule, network, seed). The parts, in the order a run goes through
//! them:
//!
//! - [`mod@file`]: the experiment file format and its parser,
//!   [`parse_experiment`], which reads plain course inputs too;
//! - [`plan`]: [`RunPlan::resolve`], the one place where what the user chose
//!   for a run, what the file asks for and the course's defaults are weighed
//!   against each other (the `bank run` command and the lab both run what it
//!   resolves);
//! - [`demo`]: running an experiment in the simulator and checking the
//!   history it produced.

pub mod demo;
pub mod file;
pub mod plan;

pub use file::{parse_experiment, parse_propagation, propagation_name, Experiment, Settings};
pub use plan::{Overrides, RunPlan};
