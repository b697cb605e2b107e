//! Money and labels as the UI shows them.
//!
//! Money is integer cents everywhere (as on the wire); it becomes text only
//! here, printed by the core. Balances print like the course outputs do:
//! `400` when whole, `400.5` or `400.05` otherwise, no currency sign, no
//! thousands separators.

use bank_core::branch::PropagationMode;
use bank_core::experiment::propagation_name;
use bank_core::formats::OutputFormat;
use bank_core::{Cents, Schedule};
use bank_proto as pb;
use bank_proto::{FailureReason, LogKind, Operation, PlayState};

/// `40050` → `"400.5"`, `40000` → `"400"`, `-5` → `"-0.05"`: a wire amount
/// printed by the core ([`Cents::decimal_text`]).
pub fn cents(amount: i64) -> String {
    Cents(amount).decimal_text()
}

/// `deposit`, `withdraw`, `query`.
pub fn operation(op: i32) -> &'static str {
    match Operation::try_from(op) {
        Ok(Operation::Deposit) => "deposit",
        Ok(Operation::Withdraw) => "withdraw",
        Ok(Operation::Query) => "query",
        _ => "unspecified",
    }
}

/// A short human name for a branch log entry kind.
pub fn log_kind(kind: i32) -> &'static str {
    match LogKind::try_from(kind) {
        Ok(LogKind::Request) => "request received",
        Ok(LogKind::Execute) => "executed",
        Ok(LogKind::PropagateSent) => "propagate sent",
        Ok(LogKind::PropagateReceived) => "propagate received",
        Ok(LogKind::PropagateExecuted) => "propagate executed",
        Ok(LogKind::PropagateAcked) => "propagate acked",
        Ok(LogKind::Response) => "response sent",
        _ => "unspecified",
    }
}

/// `empty`, `paused`, `playing`, `finished` (the text of the `play-state` hook).
pub fn play_state(state: PlayState) -> &'static str {
    match state {
        PlayState::Unspecified | PlayState::Empty => "empty",
        PlayState::Paused => "paused",
        PlayState::Playing => "playing",
        PlayState::Finished => "finished",
    }
}

/// An output format field by its command-line name (`p1`, `p1-money`, `p2a`,
/// `p2b`, `p3`), printed by the core; `unspecified` if none is set.
pub fn output_format(format: i32) -> &'static str {
    let format = pb::OutputFormat::try_from(format).map_or(None, Option::<OutputFormat>::from);
    format.map_or("unspecified", OutputFormat::as_str)
}

/// A schedule field by its core name (`sequential`, `concurrent`,
/// `writes-first`); `unspecified` if none is set.
pub fn schedule(schedule: i32) -> &'static str {
    match pb::Schedule::try_from(schedule).map(Schedule::try_from) {
        Ok(Ok(schedule)) => schedule.as_str(),
        _ => "unspecified",
    }
}

/// A propagation mode field by the name an experiment file gives it
/// (`sequential`, `parallel`, `background`); `unspecified` if none is set.
pub fn propagation(mode: i32) -> &'static str {
    let mode = pb::PropagationMode::try_from(mode).map_or(None, Option::<PropagationMode>::from);
    mode.map_or("unspecified", propagation_name)
}

/// `insufficient funds`, ...
pub fn failure_reason(reason: i32) -> &'static str {
    match FailureReason::try_from(reason) {
        Ok(FailureReason::InsufficientFunds) => "insufficient funds",
        Ok(FailureReason::InvalidRequest) => "invalid request",
        Ok(FailureReason::WrongBranch) => "wrong branch",
        Ok(FailureReason::NotReady) => "not ready",
        Ok(FailureReason::StorageFailed) => "storage failed",
        Ok(FailureReason::BalanceLimit) => "balance limit",
        Ok(FailureReason::Unavailable) => "unavailable",
        _ => "failed",
    }
}

/// `at_micros` as seconds since the load: `+1.234 s`.
pub fn micros(at: u64) -> String {
    format!("+{}.{:03} s", at / 1_000_000, (at % 1_000_000) / 1000)
}
