//! Which writes each branch has applied, by write id, replayed from the
//! trace.
//!
//! A branch logs an applied write by its customer and event (`Execute` at
//! the branch that accepted it, `PropagateExecuted` everywhere else), not by
//! its [`WriteId`]; the id travels in the customer's reply. [`Applied`]
//! joins the two: a write's id is the one its reply carried when the reply
//! is already in the trace, else the one its origin's rule gives it (the
//! branch numbers its accepted writes 1, 2, 3, …, see `bank_core::branch`),
//! so that a write applied before its reply arrived is named too.
//!
//! Used by the session panel ([`super::sessions`]: is a request's branch
//! missing writes its session requires?) and by the history export
//! ([`super::history_export`]: every branch's apply order, the `bank check`
//! format).

use std::collections::{BTreeMap, HashMap};

use bank_core::history::AppliedRecord;
use bank_core::{
    BranchId, Cents, CustomerId, EventId, LogEntry, LogKind, OpKind, WriteId, WriteSet,
};
use bank_proto::{customer_reply, lab_event::Event, LabEvent};

/// The writes each branch applied so far, with their ids. Fed one trace
/// event at a time ([`Applied::apply`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    /// Ids learned from replies and from the origins' numbering.
    ids: HashMap<(CustomerId, EventId), WriteId>,
    /// The next seq each origin gives, by the branch's rule.
    next_seq: HashMap<BranchId, u64>,
    /// Per branch: what it applied, as a set.
    sets: BTreeMap<BranchId, WriteSet>,
    /// Per branch: what it applied, in order (kept only when asked for).
    orders: Option<BTreeMap<BranchId, Vec<AppliedRecord>>>,
}

/// One write a branch applied, as [`Applied::apply`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppliedWrite {
    pub branch: BranchId,
    pub write: WriteId,
}

impl Applied {
    /// Sets only (what the session panel needs).
    pub fn new() -> Self {
        Applied::default()
    }

    /// Sets and every branch's apply order with the balance after each
    /// write (what a history file holds).
    pub fn with_orders() -> Self {
        Applied { orders: Some(BTreeMap::new()), ..Applied::default() }
    }

    /// What `branch` has applied (empty for a branch that applied nothing).
    pub fn set(&self, branch: BranchId) -> &WriteSet {
        static EMPTY: WriteSet = WriteSet::new();
        self.sets.get(&branch).unwrap_or(&EMPTY)
    }

    /// Every branch's apply order (empty unless made [`Applied::with_orders`]).
    pub fn orders(&self) -> impl Iterator<Item = (BranchId, &[AppliedRecord])> {
        self.orders.iter().flatten().map(|(b, o)| (*b, o.as_slice()))
    }

    /// The id of a customer's write, if it is known yet.
    pub fn id_of(&self, customer: CustomerId, event: EventId) -> Option<WriteId> {
        self.ids.get(&(customer, event)).copied()
    }

    /// Takes in one trace event; returns the write it applied, if any.
    pub fn apply(&mut self, event: &LabEvent) -> Option<AppliedWrite> {
        match &event.event {
            Some(Event::CustomerAnswered(answered)) => {
                let reply = answered.reply.as_ref()?;
                if let Some(customer_reply::Result::Success(s)) = &reply.result {
                    if let Some(write) = s.write {
                        let key = (CustomerId(answered.customer_id), EventId(reply.event_id));
                        self.ids.insert(key, WriteId::from(write));
                    }
                }
                None
            }
            Some(Event::BranchLogged(logged)) => {
                let entry = LogEntry::try_from(logged.entry.as_ref()?).ok()?;
                let branch = BranchId(logged.branch_id);
                let key = (entry.customer, entry.event);
                let write = match entry.kind {
                    LogKind::Execute if entry.op != OpKind::Query && !entry.failed => {
                        let next = self.next_seq.entry(branch).or_insert(1);
                        let write = match self.ids.get(&key) {
                            Some(known) if known.origin == branch => *known,
                            _ => WriteId { origin: branch, seq: *next },
                        };
                        *next = write.seq.saturating_add(1);
                        self.ids.insert(key, write);
                        write
                    }
                    LogKind::PropagateExecuted => {
                        // The origin's Execute came first, so its id is known;
                        // a trace cut short names it by its sender.
                        self.ids.get(&key).copied().or_else(|| {
                            entry.peer.map(|peer| WriteId {
                                origin: peer,
                                seq: *self.next_seq.get(&peer).unwrap_or(&1),
                            })
                        })?
                    }
                    _ => return None,
                };
                self.sets.entry(branch).or_default().insert(write);
                if let Some(orders) = &mut self.orders {
                    orders.entry(branch).or_default().push(AppliedRecord {
                        write,
                        customer: entry.customer,
                        event: entry.event,
                        op: entry.op,
                        amount: entry.amount,
                        balance_after: Cents(logged.balance_cents),
                    });
                }
                Some(AppliedWrite { branch, write })
            }
            _ => None,
        }
    }
}
