//! Client-centric consistency: a customer's session, carried by the customer.
//!
//! **Start here to understand the consistency model.** A customer may talk
//! to any branch, and with asynchronous propagation a branch may not have
//! every write yet. Nothing in the replication protocol alone stops a
//! customer from depositing at branch 1 and then querying branch 2 before
//! the deposit has arrived there. The four session guarantees of Terry et
//! al. (1994) fix that from the customer's side (see
//! [`crate::guarantees`] for the table):
//!
//! * **Read Your Writes**: a read sees the session's earlier writes.
//! * **Monotonic Reads**: a read sees everything the session's earlier reads saw.
//! * **Writes Follow Reads**: a write is ordered, everywhere, after the
//!   writes the session had read.
//! * **Monotonic Writes**: the session's writes are applied, everywhere, in
//!   issue order.
//!
//! The customer carries the state; branches keep nothing per session:
//!
//! * its **write set**: the ids of its acknowledged writes;
//! * its **read set**: every write its reads observed (each query's reply
//!   carries the serving branch's applied set, see [`crate::writes`]);
//! * which guarantees it wants.
//!
//! Every request sends all three. The serving branch computes the writes
//! the enabled guarantees require ([`Guarantees::required`]):
//!
//! * if it has applied them all, it serves the request;
//! * otherwise it *parks* the request, asks the writes' origins for what it
//!   lacks (a pull), and serves it the moment they are applied, or answers
//!   with a clear timeout error when its host gives up waiting;
//! * a new write carries the required set as its `depends_on` list, and
//!   every other branch applies it only after those (Monotonic Writes and
//!   Writes Follow Reads everywhere else). The list is cut to its causal
//!   frontier: a required write that another required write depends on is
//!   implied by it, so a session's write names its previous write rather
//!   than its whole past (see `branch/frontier.rs`).
//!
//! With the course's synchronous propagation these checks never have to
//! wait; with background propagation they are what keeps the guarantees,
//! and switching one off lets its anomaly happen (see `examples/`).

use crate::branch::{Reply, Request};
use crate::guarantees::Guarantees;
use crate::ids::{BranchId, CustomerId, EventId, WriteId};
use crate::op::Op;
use crate::writes::WriteSet;

/// A customer's session: its identity, the guarantees it asks for, its write
/// set, its read set and its Lamport counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    customer: CustomerId,
    guarantees: Guarantees,
    /// The session's acknowledged writes, in issue order.
    writes: Vec<WriteId>,
    write_set: WriteSet,
    /// Every write the session's reads have seen.
    read_set: WriteSet,
    clock: u64,
}

impl Session {
    /// A session with the course's guarantees (Read Your Writes, Monotonic Writes).
    pub fn new(customer: CustomerId) -> Session {
        Session::with_guarantees(customer, Guarantees::COURSE)
    }

    pub fn with_guarantees(customer: CustomerId, guarantees: Guarantees) -> Session {
        Session {
            customer,
            guarantees,
            writes: Vec::new(),
            write_set: WriteSet::new(),
            read_set: WriteSet::new(),
            clock: 0,
        }
    }

    pub fn customer(&self) -> CustomerId {
        self.customer
    }

    pub fn guarantees(&self) -> Guarantees {
        self.guarantees
    }

    /// The writes this session has had acknowledged, in issue order.
    pub fn writes(&self) -> &[WriteId] {
        &self.writes
    }

    pub fn write_set(&self) -> &WriteSet {
        &self.write_set
    }

    /// The writes this session's reads have seen.
    pub fn read_set(&self) -> &WriteSet {
        &self.read_set
    }

    /// The customer's Lamport counter: how many requests it has sent.
    pub fn clock(&self) -> u64 {
        self.clock
    }

    /// Builds the next request of this session (ticks the customer's clock,
    /// attaches the guarantees and the write and read sets).
    pub fn request(&mut self, event: EventId, branch: BranchId, op: Op) -> Request {
        self.clock += 1;
        Request {
            customer: self.customer,
            event,
            branch,
            op,
            clock: self.clock,
            guarantees: self.guarantees,
            write_set: self.write_set.clone(),
            read_set: self.read_set.clone(),
        }
    }

    /// Takes in a branch's answer: an acknowledged write joins the write set,
    /// what a read observed joins the read set. The customer's counter is
    /// not merged with the branch's clock (the course's customers count only
    /// their own requests).
    pub fn observe(&mut self, reply: &Reply) {
        if let Some(write) = reply.write {
            if self.write_set.insert(write) {
                self.writes.push(write);
            }
        }
        if let Some(seen) = &reply.observed {
            self.read_set.union_with(seen);
        }
    }

    /// Merges a branch's Lamport clock into the customer's counter, as a
    /// Lamport process does on receipt: `max(own, seen) + 1`. The course's
    /// customers never call it ([`Session::observe`] leaves the counter
    /// alone); the browser's customer does, so its next request is stamped
    /// after the answer it saw.
    pub fn merge_clock(&mut self, seen: u64) {
        self.clock = self.clock.max(seen) + 1;
    }
}

/// The writes in `required` that `applied` lacks, in id order. Empty means
/// the session's guarantees allow serving the request.
pub fn missing_writes(required: &WriteSet, applied: &WriteSet) -> Vec<WriteId> {
    applied.missing_from(required)
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
        assert_eq!(r.guarantees, Guarantees::COURSE);
        let w = WriteId { origin: BranchId(1), seq: 1 };
        let reply = Reply {
            branch: BranchId(1),
            customer: CustomerId(1),
            event: EventId(1),
            op: OpKind::Deposit,
            outcome: Outcome::Success { balance: Cents::units(400) },
            write: Some(w),
            observed: None,
            clock: 3,
        };
        s.observe(&reply);
        s.observe(&reply);
        assert_eq!(s.writes(), &[w]);
        let r2 = s.request(EventId(2), BranchId(2), Op::Query);
        assert_eq!(r2.clock, 2, "the customer's clock counts its own requests only");
        assert_eq!(r2.write_set, [w].into_iter().collect());
    }

    #[test]
    fn missing_writes_in_id_order() {
        let w = |s| WriteId { origin: BranchId(1), seq: s };
        let required: WriteSet = [w(3), w(1), w(2)].into_iter().collect();
        let applied: WriteSet = [w(2)].into_iter().collect();
        assert_eq!(missing_writes(&required, &applied), vec![w(1), w(3)]);
    }

    #[test]
    fn reads_build_the_read_set() {
        let mut s = Session::with_guarantees(CustomerId(2), Guarantees::ALL);
        let seen: WriteSet = [WriteId { origin: BranchId(1), seq: 1 }].into_iter().collect();
        let reply = Reply {
            branch: BranchId(1),
            customer: CustomerId(2),
            event: EventId(5),
            op: OpKind::Query,
            outcome: Outcome::Success { balance: Cents::units(10) },
            write: None,
            observed: Some(seen.clone()),
            clock: 3,
        };
        s.observe(&reply);
        assert_eq!(s.read_set(), &seen);
        assert!(s.write_set().is_empty());
        assert_eq!(s.request(EventId(6), BranchId(2), Op::Query).read_set, seen);
    }

    #[test]
    fn a_merged_clock_stamps_the_next_request_after_the_answer() {
        let mut s = Session::new(CustomerId(1000));
        assert_eq!(s.request(EventId(1), BranchId(1), Op::Query).clock, 1);
        s.merge_clock(10);
        assert_eq!(s.clock(), 11);
        s.merge_clock(3);
        assert_eq!(s.clock(), 12, "an older clock still ticks the counter");
        assert_eq!(s.request(EventId(2), BranchId(1), Op::Query).clock, 13);
    }
}
