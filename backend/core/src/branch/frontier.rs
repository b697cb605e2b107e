//! A new write's dependencies, cut to their causal frontier.
//!
//! A write carries, as its `depends_on`, the writes its session's
//! guarantees require before it (Monotonic Writes: the session's earlier
//! writes; Writes Follow Reads: what its reads saw). Every branch applies a
//! write only once its `depends_on` is applied there, so wherever a write
//! `y` is applied, everything `y` depends on is applied too, and everything
//! that depends on, and so on. A required write that another required
//! write depends on need not be named: applying the other implies it.
//!
//! That matters for long sessions whose writes interleave with other
//! customers' (`bank run --schedule concurrent`): the session's write set
//! is then one range per write, and naming it whole in every write made
//! each write cost, on the wire and in every branch's [`AppliedLog`], as
//! much as the session's whole past. Cut to its frontier, a session's write
//! names its previous write (and what it read since), not all of them.
//!
//! The cut only ever drops a write `x` when some other required write `y`
//! (applied here, so its `depends_on` is in the log) names `x` directly.
//! Since dependencies point back in apply order, the chain of such drops
//! ends at a write that stays, whose application implies them all: the
//! cut set is applied exactly where the whole set is. (That trusts a peer
//! to send one write with the same `depends_on` to every branch, as the
//! branches of one bank, holding its token, do; a peer that lies about a
//! write's dependencies can break the order of the writes after it either
//! way.)

use super::AppliedLog;
use crate::ids::WriteId;
use crate::writes::WriteSet;

/// Runs of consecutive required seqs up to this long are looked up write
/// by write; of a longer run, only its last write is. A session's
/// interleaved writes are runs of one; a long run is a prefix some branch
/// applied in order, whose writes rarely depend on each other.
const LOOKED_UP_RUN: u64 = 8;

/// `required` without the runs of it that other writes of it depend on,
/// according to the `depends_on` recorded in `log`. Only whole runs are
/// dropped, so the cut set never has more runs than `required`; a write
/// not in `log` drops nothing.
pub(super) fn frontier(required: &WriteSet, log: &AppliedLog) -> WriteSet {
    let runs = required.runs();
    let mut implied = WriteSet::new();
    for &(origin, first, last) in &runs {
        let from = if last - first < LOOKED_UP_RUN { first } else { last };
        for seq in from..=last {
            if let Some(depends_on) = log.depends_on_of(&WriteId { origin, seq }) {
                implied.union_with(&depends_on);
            }
        }
    }
    if implied.is_empty() {
        return required.clone();
    }
    let mut cut = WriteSet::new();
    for (origin, first, last) in runs {
        if !implied.contains_run(origin, first, last) {
            cut.insert_range(origin, first, last);
        }
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::branch::{Applied, StoredWrite};
    use crate::ids::{BranchId, CustomerId, EventId};
    use crate::money::Cents;
    use crate::op::Op;

    fn w(origin: u64, seq: u64) -> WriteId {
        WriteId { origin: BranchId(origin), seq }
    }

    fn log_of(writes: &[(WriteId, &[WriteId])]) -> AppliedLog {
        let mut log = AppliedLog::new();
        for (i, (write, deps)) in writes.iter().enumerate() {
            let write = StoredWrite {
                write: *write,
                customer: CustomerId(1),
                event: EventId(i as u64 + 1),
                op: Op::Deposit(Cents(100)),
                depends_on: deps.iter().copied().collect(),
                clock: i as u64 + 1,
            };
            log.push(&Applied { write, balance_after: Cents(100 * (i as i64 + 1)) });
        }
        log
    }

    #[test]
    fn a_sessions_chain_of_writes_is_cut_to_its_last_write() {
        // A session wrote at branches 1, 2, 3 in turn, other customers'
        // writes between: w1.1, w2.3, w3.5, w1.7, each after the one before.
        let chain = [w(1, 1), w(2, 3), w(3, 5), w(1, 7)];
        let log = log_of(&[
            (chain[0], &[]),
            (chain[1], &[chain[0]]),
            (chain[2], &[chain[1]]),
            (chain[3], &[chain[2]]),
        ]);
        let required: WriteSet = chain.iter().copied().collect();
        assert_eq!(frontier(&required, &log), [w(1, 7)].into_iter().collect());
    }

    #[test]
    fn writes_nothing_depends_on_stay_and_unknown_writes_drop_nothing() {
        let log = log_of(&[(w(1, 1), &[]), (w(2, 1), &[w(1, 1)])]);
        // w3.4 is not in the log: it stays, and names nothing away.
        let required: WriteSet = [w(1, 1), w(2, 1), w(2, 2), w(3, 4)].into_iter().collect();
        let expected: WriteSet = [w(2, 1), w(2, 2), w(3, 4)].into_iter().collect();
        assert_eq!(frontier(&required, &log), expected);
    }

    #[test]
    fn a_run_is_dropped_whole_or_not_at_all() {
        // 1..=100 of branch 1 applied in order, w1.100 depending on w1.99.
        let mut writes: Vec<(WriteId, Vec<WriteId>)> = vec![];
        for seq in 1..=100 {
            let deps = if seq > 1 { vec![w(1, seq - 1)] } else { vec![] };
            writes.push((w(1, seq), deps));
        }
        let borrowed: Vec<(WriteId, &[WriteId])> =
            writes.iter().map(|(w, d)| (*w, d.as_slice())).collect();
        let log = log_of(&borrowed);
        let required: WriteSet = (1..=100).map(|s| w(1, s)).collect();
        let cut = frontier(&required, &log);
        // w1.100 names w1.99, but the run 1..=100 is not all implied: it
        // stays whole (one run), not split around w1.99.
        assert_eq!(cut, required);
        // A run all of whose writes are named by another required write
        // goes whole.
        let log = log_of(&[(w(1, 1), &[]), (w(1, 2), &[]), (w(2, 1), &[w(1, 1), w(1, 2)])]);
        let required: WriteSet = [w(1, 1), w(1, 2), w(2, 1)].into_iter().collect();
        assert_eq!(frontier(&required, &log), [w(2, 1)].into_iter().collect());
    }
}
