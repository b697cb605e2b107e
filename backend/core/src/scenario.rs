//! A parsed input file: which branches exist and what each customer will do.
//!
//! Produced by [`crate::formats::parse_input`] from any course input shape and
//! consumed by the runners (real cluster, simulator). Nothing here is JSON.

use crate::ids::{BranchId, CustomerId, EventId};
use crate::money::Cents;
use crate::op::Op;

/// The shape of the input file, which decides the default output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputShape {
    /// Customers with `"events"` and no branch per event: each customer talks
    /// to the branch with its own id (project 1, and project 2 generation A).
    Events,
    /// Customers with `"customer-requests"` (project 2 generation B).
    CustomerRequests,
    /// Events naming their branch with `"dest"` (project 3 generation A).
    EventsWithDest,
    /// Events naming their branch with `"branch"` (project 3 generation B).
    EventsWithBranch,
}

/// One branch of the bank and its starting balance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchSpec {
    pub id: BranchId,
    pub balance: Cents,
    /// 1-based line in the input file where the entry starts.
    pub line: usize,
}

/// One customer entry of the input, i.e. one customer session. Customer ids
/// can repeat across entries (the large project 1 test does this): each entry
/// is its own session and its own output object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerScript {
    pub id: CustomerId,
    /// 1-based line in the input file where the entry starts.
    pub line: usize,
    pub events: Vec<ScriptEvent>,
}

/// One event a customer will send, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptEvent {
    /// The event's id from the file, or its 1-based position among all
    /// events of the file when the file gives none.
    pub id: EventId,
    pub op: Op,
    /// The branch the event is sent to.
    pub branch: BranchId,
    /// 1-based line in the input file where the event starts.
    pub line: usize,
}

/// A whole input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    pub shape: InputShape,
    /// In input order.
    pub branches: Vec<BranchSpec>,
    /// In input order.
    pub customers: Vec<CustomerScript>,
    /// Things worth telling the user that do not stop the run
    /// (e.g. branches starting with different balances).
    pub warnings: Vec<String>,
}

impl Scenario {
    /// Branch ids, ascending.
    pub fn branch_ids(&self) -> Vec<BranchId> {
        let mut ids: Vec<BranchId> = self.branches.iter().map(|b| b.id).collect();
        ids.sort();
        ids
    }

    /// Total number of customer events.
    pub fn event_count(&self) -> usize {
        self.customers.iter().map(|c| c.events.len()).sum()
    }
}
