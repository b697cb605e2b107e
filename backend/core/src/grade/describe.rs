//! How the grader names events and values in its sentences.
//!
//! One wording everywhere: `customer 2, event 7 (withdraw 50 at branch 1)`,
//! amounts as the outputs print them (`570`, `400.5`), so a student can find
//! the event in the input and in their output.

use crate::money::Cents;
use crate::op::Op;
use crate::scenario::{CustomerScript, ScriptEvent};

use super::normalize::Verdict;

/// `customer 2, event 7 (withdraw 50 at branch 1)`.
pub fn event(customer: &CustomerScript, event: &ScriptEvent) -> String {
    format!("customer {}, event {} ({})", customer.id.0, event.id.0, what(event))
}

/// `withdraw 50 at branch 1`, `query at branch 2`.
pub fn what(event: &ScriptEvent) -> String {
    format!("{} at branch {}", op(event.op), event.branch.0)
}

/// `deposit 170`, `query`.
pub fn op(op: Op) -> String {
    match op {
        Op::Query => "query".to_owned(),
        Op::Deposit(c) => format!("deposit {}", money(c)),
        Op::Withdraw(c) => format!("withdraw {}", money(c)),
    }
}

/// An amount as the outputs print it: `570`, `400.5`, `-30`.
pub fn money(amount: Cents) -> String {
    amount.decimal_text()
}

/// A list of possible amounts, short: `400, 570 or 500`, or a range.
pub fn amounts(values: &[Cents]) -> String {
    match values {
        [] => "none".to_owned(),
        [one] => money(*one),
        _ if values.len() > 6 => format!(
            "one of {} values from {} to {}",
            values.len(),
            money(values[0]),
            money(values[values.len() - 1])
        ),
        [init @ .., last] => format!(
            "{} or {}",
            init.iter().map(|v| money(*v)).collect::<Vec<_>>().join(", "),
            money(*last)
        ),
    }
}

/// `"success"` / `"fail"` / `(none)`.
pub fn verdict(v: Option<Verdict>) -> String {
    v.map_or_else(|| "(none)".to_owned(), |v| format!("{:?}", v.as_str()))
}
