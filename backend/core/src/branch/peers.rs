//! What a branch accepts from its peers, and why it refuses the rest.
//!
//! Every write a branch applies on a peer's word (a propagation, the answer
//! to an anti-entropy pull, a record read back from its own store) is checked
//! here first. A message that fails is refused as a whole with a
//! [`PeerRefusal`] (in `refusal.rs`, with the limits) naming the write and
//! the rule, and nothing of it is applied: one bad write in a batch refuses
//! the batch.
//!
//! ## The rules
//! A write `w<origin>.<seq>` sent by branch `from` is accepted only if
//! 1. `from` is one of this branch's peers (not a stranger, not itself);
//! 2. `origin` is a branch of this bank (this branch or one of its peers);
//! 3. `seq` is at least 1 (every origin counts its writes from 1);
//! 4. if `origin` is this branch: `seq` is one it issued. A branch that
//!    restarted from its store ([`Branch::recover`]) may have lost the tail
//!    of its own writes that reached a peer before they reached its disk, so
//!    it also takes back own writes up to [`MAX_SEQ_AHEAD`] past the last one
//!    it recovered (and never issues those ids again);
//! 5. if `origin` is a peer: `seq` is at most [`MAX_SEQ_AHEAD`] past the
//!    highest write of that origin applied here (or earlier in the same
//!    message). Anti-entropy answers list writes in the answerer's apply
//!    order, so a catch-up after any partition passes; a propagation that
//!    overtakes more than [`MAX_SEQ_AHEAD`] writes of its origin is refused,
//!    and its sender retries it until the writes before it have arrived;
//! 6. every write it depends on passes rules 2, 4 and 5, and it does not
//!    depend on itself (it would wait forever);
//! 7. its amount is between 0 and [`Cents::MAX`] (what any origin accepts
//!    from a customer), and its clock at most [`MAX_CLOCK`]; a stamp above
//!    [`MAX_STAMP`](crate::clock::MAX_STAMP) is received as `MAX_STAMP`, so
//!    no stamp this rule lets in can push a branch's own stamps past
//!    [`MAX_CLOCK`] and get them refused by its peers;
//! 8. a message carries at most [`MAX_BATCH_WRITES`] writes, and at most
//!    [`MAX_HELD_WRITES`] propagated writes wait here for their dependencies
//!    (beyond that a propagation is refused for now, and retried).
//!
//! A write that passes may still be refused when it is applied: one whose
//! amount would take the balance out of the range an `i64` of cents holds
//! ([`PeerRefusal::BalanceOverflow`]). Honest runs never get there (it takes
//! thousands of concurrent deposits of the maximum); a hostile peer's stream
//! of them is refused instead of the balance saturating silently.
//!
//! A peer's anti-entropy pull is answered only for a peer, and its `have`
//! set may only name branches of this bank. A branch answers a pull with at
//! most [`MAX_BATCH_WRITES`] writes; the puller asks again after a full
//! answer, so any backlog still arrives.
//!
//! These rules keep a branch whole against any message (no panic, no id
//! issued twice, no state from outside the bank); they do not authenticate
//! a peer. A stranger who can reach the port and speaks the protocol can
//! still send plausible writes of any branch: keep the ports on loopback or
//! behind a token (`--token`, on by default for in-process clusters).

use std::collections::BTreeMap;

use super::message::{Propagation, StoredWrite};
use super::refusal::{PeerRefusal, MAX_BATCH_WRITES, MAX_HELD_WRITES, MAX_SEQ_AHEAD};
use super::Branch;
use crate::clock::MAX_CLOCK;
use crate::ids::{BranchId, WriteId};
use crate::money::Cents;
use crate::op::Op;
use crate::writes::{OriginWrites, WriteSet};

/// The highest seqs seen so far inside one message, above what is applied.
type Seen = BTreeMap<BranchId, u64>;

/// The highest seq of one origin's part of a write set.
fn highest(writes: &OriginWrites) -> u64 {
    writes.highest()
}

impl Branch {
    /// Checks one propagated write against the rules in the module docs.
    pub fn check_propagation(&self, p: &Propagation) -> Result<(), PeerRefusal> {
        self.check_sender(p.from)?;
        self.check_write(p, &Seen::new())?;
        if self.held.len() >= MAX_HELD_WRITES && !self.applied.contains_all(&p.depends_on) {
            return Err(PeerRefusal::TooManyHeld { me: self.config.id.0, write: p.write });
        }
        Ok(())
    }

    /// Checks a whole message of writes from `from` (a propagation batch or
    /// a pull answer) before any of it is applied: its size, then each write
    /// in order, each later one judged with the earlier ones known.
    pub fn check_batch(&self, from: BranchId, writes: &[Propagation]) -> Result<(), PeerRefusal> {
        let me = self.config.id.0;
        if writes.len() > MAX_BATCH_WRITES {
            return Err(PeerRefusal::BatchTooLarge { me, from: from.0, writes: writes.len() });
        }
        self.check_sender(from)?;
        let mut seen = Seen::new();
        // The balance once the batch's new writes are applied in order: a
        // batch that would leave the i64 range part way is refused whole,
        // before any of it is applied (not cut off at the write that
        // overflows, the ones before it applied and unacknowledged).
        let mut balance = self.balance;
        let mut counted = WriteSet::new();
        for p in writes {
            self.check_sender(p.from)?;
            self.check_write(p, &seen)?;
            let top = seen.entry(p.write.origin).or_default();
            *top = (*top).max(p.write.seq);
            if !self.applied.contains(&p.write) && counted.insert(p.write) {
                let Some(after) = p.op.applied_to(balance) else {
                    return Err(PeerRefusal::BalanceOverflow { me, write: p.write, balance });
                };
                balance = after;
            }
        }
        Ok(())
    }

    /// Checks a peer's anti-entropy pull: from a peer, naming only writes
    /// of branches of this bank.
    pub fn check_pull(&self, from: BranchId, have: &WriteSet) -> Result<(), PeerRefusal> {
        self.check_sender(from)?;
        let me = self.config.id.0;
        for (origin, writes) in have.parts() {
            if !self.in_bank(origin) {
                let write = WriteId { origin, seq: highest(writes) };
                return Err(PeerRefusal::BadPull {
                    me,
                    from: from.0,
                    write,
                    reason: format!("branch {} is not a branch of this bank", origin.0),
                });
            }
        }
        Ok(())
    }

    /// Checks a record read back from this branch's own store, after the
    /// records before it were applied: rules 2, 3, 5 and 7, with this branch's
    /// own writes judged like a peer's (its store is where its issued writes
    /// are known from).
    pub(super) fn check_record(&self, w: &StoredWrite) -> Result<(), PeerRefusal> {
        let me = self.config.id.0;
        let write = w.write;
        if !self.in_bank(write.origin) {
            return Err(PeerRefusal::UnknownOrigin { me, write });
        }
        if write.seq == 0 {
            return Err(PeerRefusal::ZeroSeq { me, write });
        }
        let known = self.known(write.origin, &Seen::new());
        if write.seq > known.saturating_add(MAX_SEQ_AHEAD) || write.seq == u64::MAX {
            return Err(PeerRefusal::TooFarAhead { me, write, known });
        }
        check_amount_and_clock(me, write, w.op, w.clock)
    }

    fn check_sender(&self, from: BranchId) -> Result<(), PeerRefusal> {
        if from == self.config.id || !self.config.peers.contains(&from) {
            return Err(PeerRefusal::NotAPeer { me: self.config.id.0, from: from.0 });
        }
        Ok(())
    }

    fn in_bank(&self, origin: BranchId) -> bool {
        origin == self.config.id || self.config.peers.contains(&origin)
    }

    /// Rules 2 to 7 for one write, with `seen` the writes earlier in its message.
    fn check_write(&self, p: &Propagation, seen: &Seen) -> Result<(), PeerRefusal> {
        let me = self.config.id.0;
        let write = p.write;
        if !self.in_bank(write.origin) {
            return Err(PeerRefusal::UnknownOrigin { me, write });
        }
        if write.seq == 0 {
            return Err(PeerRefusal::ZeroSeq { me, write });
        }
        self.check_seq(write, seen)?;
        check_amount_and_clock(me, write, p.op, p.clock)?;
        if p.depends_on.contains(&write) {
            return Err(PeerRefusal::DependsOnItself { me, write });
        }
        for (origin, writes) in p.depends_on.parts() {
            let dependency = WriteId { origin, seq: highest(writes) };
            let reason = if !self.in_bank(origin) {
                Some(format!("branch {} is not a branch of this bank", origin.0))
            } else {
                self.check_seq(dependency, seen).err().map(|e| match e {
                    PeerRefusal::NeverIssued { issued, .. } => {
                        format!("branch {me} issued only up to seq {issued}")
                    }
                    PeerRefusal::TooFarAhead { known, .. } => format!(
                        "branch {}'s writes are known here up to seq {known}, at most \
                         {MAX_SEQ_AHEAD} ahead is allowed",
                        origin.0
                    ),
                    other => other.to_string(),
                })
            };
            if let Some(reason) = reason {
                return Err(PeerRefusal::BadDependency { me, write, dependency, reason });
            }
        }
        Ok(())
    }

    /// Rules 4 and 5: is `write` a sequence number its origin can have issued?
    fn check_seq(&self, write: WriteId, seen: &Seen) -> Result<(), PeerRefusal> {
        let me = self.config.id.0;
        if write.origin == self.config.id {
            if write.seq >= self.own_seq_limit() {
                let issued = self.next_seq.saturating_sub(1);
                return Err(PeerRefusal::NeverIssued { me, write, issued });
            }
            return Ok(());
        }
        let known = self.known(write.origin, seen);
        // `u64::MAX` is never issued: the next id after it could not exist.
        if write.seq > known.saturating_add(MAX_SEQ_AHEAD) || write.seq == u64::MAX {
            return Err(PeerRefusal::TooFarAhead { me, write, known });
        }
        Ok(())
    }

    /// The highest write of `origin` applied here, or seen earlier in the
    /// message being checked.
    fn known(&self, origin: BranchId, seen: &Seen) -> u64 {
        let applied = self
            .applied
            .parts()
            .find(|(o, _)| *o == origin)
            .map(|(_, writes)| highest(writes))
            .unwrap_or(0);
        applied.max(seen.get(&origin).copied().unwrap_or(0))
    }

    /// The highest write of `origin` applied here (0 for none).
    pub(super) fn known_seq(&self, origin: BranchId) -> u64 {
        self.known(origin, &Seen::new())
    }

    /// Own writes with a seq below this are ones this branch issued (or, after
    /// a restart, may have issued and lost with the tail of its store).
    fn own_seq_limit(&self) -> u64 {
        self.next_seq.max(self.lost_tail_limit)
    }
}

/// Rule 7: an amount some origin can have accepted, a clock below the top.
fn check_amount_and_clock(me: u64, write: WriteId, op: Op, clock: u64) -> Result<(), PeerRefusal> {
    let amount = op.amount();
    if amount < Cents::ZERO || amount > Cents::MAX {
        return Err(PeerRefusal::BadAmount { me, write, amount });
    }
    if clock > MAX_CLOCK {
        return Err(PeerRefusal::ClockTooLarge { me, write, clock });
    }
    Ok(())
}
