//! A branch rebuilt after a crash from what its store kept.
//!
//! The store holds every write the branch applied, in apply order, each
//! with the clock of its Execute entry, and the clock the branch had
//! reserved ([`Effect::ReserveClock`](super::Effect::ReserveClock)).
//! Recovery applies the writes again, checked like a peer's (a damaged or
//! forged record is skipped and reported, never applied), and starts the
//! clock above everything the branch stamped before the crash.

use super::{Branch, BranchConfig, PeerRefusal, SkippedRecord, StoredWrite, MAX_SEQ_AHEAD};
use crate::clock::MAX_STAMP;

impl Branch {
    /// Rebuilds a branch after a crash from the writes it had stored, in the
    /// order it applied them. What was only in memory is gone: requests it
    /// was serving, its own writes' propagation (peers get those by
    /// anti-entropy), its event log. Feed it [`Input::AntiEntropy`](super::Input::AntiEntropy) next.
    ///
    /// A record no branch of this bank can have written (an unknown origin,
    /// seq 0, an impossible jump; see [`peers`](super::peers)) is skipped, not applied:
    /// [`Branch::skipped_at_recovery`] lists them for the host to report.
    /// Own writes up to [`MAX_SEQ_AHEAD`] past the last one recovered are
    /// taken back from peers afterwards (the tail the crash may have lost).
    ///
    /// Its clock starts from the stored writes' clocks only: events after
    /// the last stored write (queries, acknowledgements) may have used
    /// higher ones. [`Branch::recover_at`] with the clock the store reserved
    /// starts above all of them.
    pub fn recover(config: BranchConfig, stored: impl IntoIterator<Item = StoredWrite>) -> Branch {
        Branch::recover_at(config, stored, 0)
    }

    /// [`Branch::recover`], with the clock starting at least at
    /// `clock_reserved`, the largest [`Effect::ReserveClock`](super::Effect::ReserveClock) its store
    /// kept: above every clock the branch used before the crash. A
    /// reservation beyond what a branch can reach ([`MAX_STAMP`] plus
    /// 2^32 ticks: a damaged or forged store) is taken as that, so the
    /// restarted branch's stamps stay far below [`MAX_CLOCK`](crate::clock::MAX_CLOCK).
    pub fn recover_at(
        config: BranchConfig,
        stored: impl IntoIterator<Item = StoredWrite>,
        clock_reserved: u64,
    ) -> Branch {
        let mut branch = Branch::new(config);
        for write in stored {
            if branch.applied.contains(&write.write) {
                continue;
            }
            if let Err(refusal) = branch.check_record(&write) {
                branch.skipped_at_recovery.push(SkippedRecord { write: write.write, refusal });
                continue;
            }
            let Some(balance_after) = branch.balance_after(write.op) else {
                let (me, balance) = (branch.config.id.0, branch.balance);
                let refusal = PeerRefusal::BalanceOverflow { me, write: write.write, balance };
                branch.skipped_at_recovery.push(SkippedRecord { write: write.write, refusal });
                continue;
            };
            branch.clock.receive(write.clock);
            // `apply` moves `next_seq` past an own write.
            branch.apply(write, balance_after);
        }
        branch.lost_tail_limit = branch.next_seq.saturating_add(MAX_SEQ_AHEAD);
        let floor = clock_reserved.min(MAX_STAMP + (1 << 32));
        branch.clock.raise_to(floor);
        branch.clock_reserved = floor;
        branch
    }

    /// The records of its store [`Branch::recover`] skipped, and why.
    pub fn skipped_at_recovery(&self) -> &[SkippedRecord] {
        &self.skipped_at_recovery
    }
}
