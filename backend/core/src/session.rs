//! Client-centric consistency: a customer's session and the branch-side check.
//!
//! A customer may talk to any branch. Nothing in the replication protocol
//! alone stops it from depositing at branch 1 and then querying branch 2
//! before the deposit has arrived there. Two session guarantees (Terry et
//! al., 1994) fix that from the customer's side:
//!
//! * **Read Your Writes**: a read sees every write the same session made
//!   before it.
//! * **Monotonic Writes**: a session's writes are applied, on every branch,
//!   in the order the session issued them.
//!
//! Both are enforced with one piece of state the customer carries, its
//! **write set**: the ids of the writes it has had acknowledged, in issue
//! order. Every request sends the write set along:
//!
//! * a branch serves a request only after it has applied every write in the
//!   set ([`missing_writes`]); until then the request is *parked* inside the
//!   branch (Read Your Writes, and Monotonic Writes at the serving branch);
//! * a new write carries the set as its `depends_on` list, and a peer applies
//!   a propagated write only after its dependencies (Monotonic Writes
//!   everywhere else).
//!
//! With the course's synchronous propagation these checks never have to wait;
//! with background propagation they are what keeps the guarantees.

use crate::branch::{Reply, Request};
use crate::ids::{BranchId, CustomerId, EventId, WriteId};
use crate::op::Op;

/// A customer's session: its identity, its write set and its Lamport counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    customer: CustomerId,
    write_set: Vec<WriteId>,
    clock: u64,
}

impl Session {
    pub fn new(customer: CustomerId) -> Session {
        Session { customer, write_set: Vec::new(), clock: 0 }
    }

    pub fn customer(&self) -> CustomerId {
        self.customer
    }

    /// The writes this session has had acknowledged, in issue order.
    pub fn write_set(&self) -> &[WriteId] {
        &self.write_set
    }

    /// The customer's Lamport counter: how many requests it has sent.
    pub fn clock(&self) -> u64 {
        self.clock
    }

    /// Builds the next request of this session (ticks the customer's clock,
    /// attaches the write set).
    pub fn request(&mut self, event: EventId, branch: BranchId, op: Op) -> Request {
        self.clock += 1;
        Request {
            customer: self.customer,
            event,
            branch,
            op,
            clock: self.clock,
            write_set: self.write_set.clone(),
        }
    }

    /// Takes in a branch's answer: an acknowledged write joins the write set.
    /// The customer's counter is not merged with the branch's clock (the
    /// course's customers count only their own requests).
    pub fn observe(&mut self, reply: &Reply) {
        if let Some(write) = reply.write {
            if !self.write_set.contains(&write) {
                self.write_set.push(write);
            }
        }
    }
}

/// The writes in `required` that `is_applied` says are not applied yet, in
/// order. Empty means the session's guarantees allow serving the request.
pub fn missing_writes(required: &[WriteId], is_applied: impl Fn(&WriteId) -> bool) -> Vec<WriteId> {
    required.iter().filter(|w| !is_applied(w)).copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Cents;
    use crate::op::{OpKind, Outcome};

    #[test]
    fn acknowledged_writes_join_the_write_set_once() {
        let mut s = Session::new(CustomerId(1));
        let r = s.request(EventId(1), BranchId(1), Op::Deposit(Cents::units(400)));
        assert_eq!(r.clock, 1);
        assert!(r.write_set.is_empty());
        let w = WriteId { origin: BranchId(1), seq: 1 };
        let reply = Reply {
            branch: BranchId(1),
            customer: CustomerId(1),
            event: EventId(1),
            op: OpKind::Deposit,
            outcome: Outcome::Success { balance: Cents::units(400) },
            write: Some(w),
            clock: 3,
        };
        s.observe(&reply);
        s.observe(&reply);
        assert_eq!(s.write_set(), &[w]);
        let r2 = s.request(EventId(2), BranchId(2), Op::Query);
        assert_eq!(r2.clock, 2, "the customer's clock counts its own requests only");
        assert_eq!(r2.write_set, vec![w]);
    }

    #[test]
    fn missing_writes_keeps_order() {
        let w = |s| WriteId { origin: BranchId(1), seq: s };
        let missing = missing_writes(&[w(1), w(2), w(3)], |x| *x == w(2));
        assert_eq!(missing, vec![w(1), w(3)]);
    }
}
