//! Money and labels as the UI shows them.
//!
//! Money is integer cents everywhere (as on the wire); it becomes text only
//! here. Balances print like the course outputs do: `400` when whole,
//! `400.5` or `400.05` otherwise, no currency sign, no thousands separators.

use bank_proto::{FailureReason, LogKind, Operation, PlayState};
use thiserror::Error;

/// `40050` → `"400.5"`, `40000` → `"400"`, `-5` → `"-0.05"`.
pub fn cents(amount: i64) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    let (units, frac) = (abs / 100, abs % 100);
    match frac {
        0 => format!("{sign}{units}"),
        f if f % 10 == 0 => format!("{sign}{units}.{}", f / 10),
        f => format!("{sign}{units}.{f:02}"),
    }
}

/// Why a typed amount is not money.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MoneyError {
    #[error("enter an amount, like 25 or 25.50")]
    Empty,
    #[error("\"{0}\" is not an amount (use digits and at most two decimals, like 25.50)")]
    Invalid(String),
    #[error("amount too large")]
    TooLarge,
}

/// Parses what a person types as money: `25`, `25.5`, `25.50`, ` 0.05 `.
/// Negative amounts, more than two decimals and anything else are refused.
pub fn parse_money(text: &str) -> Result<i64, MoneyError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(MoneyError::Empty);
    }
    let invalid = || MoneyError::Invalid(text.to_owned());
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) || frac.len() > 2 {
        return Err(invalid());
    }
    let units: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| MoneyError::TooLarge)? };
    let frac_cents: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| invalid())? * 10,
        _ => frac.parse().map_err(|_| invalid())?,
    };
    units.checked_mul(100).and_then(|c| c.checked_add(frac_cents)).ok_or(MoneyError::TooLarge)
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

/// The wire name of an operation typed in the customer panel.
pub fn parse_operation(name: &str) -> Operation {
    match name {
        "deposit" => Operation::Deposit,
        "withdraw" => Operation::Withdraw,
        "query" => Operation::Query,
        _ => Operation::Unspecified,
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

/// `insufficient funds`, ...
pub fn failure_reason(reason: i32) -> &'static str {
    match FailureReason::try_from(reason) {
        Ok(FailureReason::InsufficientFunds) => "insufficient funds",
        Ok(FailureReason::InvalidRequest) => "invalid request",
        Ok(FailureReason::WrongBranch) => "wrong branch",
        _ => "failed",
    }
}

/// `at_micros` as seconds since the load: `+1.234 s`.
pub fn micros(at: u64) -> String {
    format!("+{}.{:03} s", at / 1_000_000, (at % 1_000_000) / 1000)
}
