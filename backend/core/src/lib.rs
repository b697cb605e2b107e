//! # bank-core: the pure heart of bank-sim
//!
//! Everything here is deterministic and does no I/O: no tokio, no tonic, no
//! clocks, no randomness. The gRPC branch servers, the in-process simulator
//! and the tests all drive the same code, so what the tests prove is what the
//! servers do.
//!
//! | module | what it holds |
//! |---|---|
//! | [`money`] | [`Cents`]: exact integer money, parsed from `400` / `400.5` / `"400"` |
//! | [`ids`] | [`BranchId`], [`CustomerId`], [`EventId`], [`WriteId`] newtypes |
//! | [`op`] | [`Op`] (deposit / withdraw / query) and its [`Outcome`] |
//! | [`clock`] | Lamport clocks and the two course rule sets for ticking them |
//! | [`causality`] | vector clocks and happened-before of a recorded run (lanes and messages) |
//! | [`causality::trace`] | a trace's lanes and messages, its vector clocks and each event's causal cone |
//! | [`branch`] | [`Branch`]: the state machine of one branch (inputs in, effects out) |
//! | [`branch::message`] | what goes in and out of a branch: [`Input`], [`Effect`], ... |
//! | [`branch::config`] | [`BranchConfig`], propagation modes, a new run's [`RunSettings`] |
//! | [`session`] | [`Session`]: what a customer carries for the session guarantees (**start here** for consistency) |
//! | [`guarantees`] | the four session guarantees of Terry et al., each switchable |
//! | [`writes`] | [`WriteSet`]: sets of write ids as version vectors with exceptions |
//! | [`log`] | the per-branch event log with Lamport clocks |
//! | [`scenario`] | a parsed input file: branches and customer scripts |
//! | [`schedule`] | how customer sessions interleave (sequential, concurrent, writes first) |
//! | [`record`] | what a run produced: answers, final states, logs |
//! | [`network`] | [`NetworkPlan`]: delays, loss, partitions and crashes, as data |
//! | [`history`] | [`History`]: every operation and every branch's apply order, as JSON |
//! | [`check`] | the history checker: each broken guarantee with the events that show it |
//! | [`explain`] | why an event has its Lamport clock, in words and numbers |
//! | [`sim`] | a deterministic in-memory driver of many branches (tests, simulation) |
//! | [`sim::paced`] | the simulator paced from outside: permits, faults and a browser customer, traced |
//! | [`trace`] | what a run shows as it happens, the same from a cluster and the simulator |
//! | [`experiment`] | experiments: a course input plus guarantees, network plan and seed |
//! | [`examples`] | the example scenarios shipped in `examples/`, compiled in |
//! | [`experiment::file`] | the experiment file format and its parser |
//! | [`experiment::plan`] | a run's settings resolved once: choices, then file, then defaults |
//! | [`experiment::demo`] | an experiment in the simulator, and the check of its history |
//! | [`formats`] | the course's input and output JSON shapes: read all, write all |
//! | [`grade`] | `bank grade`: students' outputs checked exact and valid, explained, a class's report |
//!
//! ## The driver loop
//! A host (the tokio node, the simulator) owns one [`Branch`] and repeats:
//! feed it an [`Input`] (a customer request, a peer's propagation, a peer's
//! acknowledgement); carry out every [`Effect`] it returns (reply to a
//! customer, send a propagation, acknowledge a peer). The branch never waits
//! and never sends by itself; that is what makes it testable.

pub mod branch;
pub mod causality;
pub mod check;
pub mod clock;
pub mod examples;
pub mod experiment;
pub mod explain;
pub mod formats;
pub mod grade;
pub mod guarantees;
pub mod history;
pub mod ids;
pub mod log;
pub mod money;
pub mod network;
pub mod op;
pub mod record;
pub mod scenario;
pub mod schedule;
pub mod session;
pub mod sim;
pub mod trace;
pub mod writes;

mod varint;

pub use branch::{
    Branch, BranchConfig, Effect, Input, Propagation, PropagationAck, ReplyToken, Request,
    RunSettings, StoredWrite,
};
pub use clock::{ClockRule, ClockScheme, ClockStep, LamportClock, MAX_CLOCK, MAX_STAMP};
pub use guarantees::{Guarantee, Guarantees};
pub use history::History;
pub use ids::{BranchId, CustomerId, EventId, WriteId};
pub use log::{LogEntry, LogKind};
pub use money::Cents;
pub use network::NetworkPlan;
pub use op::{FailReason, Op, OpKind, Outcome};
pub use record::{BranchRecord, CustomerRecord, EventResult, RunRecord};
pub use scenario::{BranchSpec, CustomerScript, InputShape, Scenario, ScriptEvent};
pub use schedule::Schedule;
pub use session::Session;
pub use writes::WriteSet;
