//! Where a branch's host keeps its writes durably, as the branch sees it.
//!
//! A branch never does I/O, yet it must not apply a write its host could not
//! store: a customer told "done" about a write that is gone after a crash
//! was lied to, and a peer told "applied" stops resending. So the host that
//! has a store that can fail (a file on a disk that fills up) hands it to
//! [`Branch::handle_storing`](super::Branch::handle_storing) for the call,
//! and the branch asks it to store each write *before* applying it:
//!
//! * stored: the write is applied, and everything goes on as usual;
//! * not stored: nothing changes. A customer's write is refused with
//!   [`FailReason::StorageFailed`](crate::FailReason::StorageFailed); a
//!   peer's write is answered with
//!   [`Effect::RefusePeer`](super::Effect::RefusePeer) (the peer sends it
//!   again later) or, fetched by a pull, dropped (the next pull fetches it
//!   again). Queries are answered as always.
//!
//! The branch keeps no "storage is down" state: every write is a new try,
//! so it takes writes again as soon as its store does.
//!
//! A host whose storage cannot fail (the simulator, which keeps its stores
//! in memory) calls [`Branch::handle`](super::Branch::handle) instead and
//! gets each write as an [`Effect::Persist`](super::Effect::Persist).

use super::message::StoredWrite;

/// A durable store of applied writes (see the module docs).
pub trait WriteStore {
    /// Stores `write` after every write stored before it. `Err` says why it
    /// could not (the file and what the operating system said); the branch
    /// adds its own id and the write's.
    fn store(&mut self, write: &StoredWrite) -> Result<(), String>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::branch::{
        Branch, BranchConfig, Effect, Input, Propagation, PropagationMode, Reply, ReplyToken,
        Request,
    };
    use crate::{
        BranchId, Cents, ClockScheme, CustomerId, EventId, FailReason, Guarantees, Op, Outcome,
        WriteId, WriteSet,
    };

    /// A store that keeps writes in memory, or refuses them while `failing`.
    #[derive(Default)]
    struct MemoryStore {
        failing: Option<&'static str>,
        stored: Vec<StoredWrite>,
    }

    impl WriteStore for MemoryStore {
        fn store(&mut self, write: &StoredWrite) -> Result<(), String> {
            match self.failing {
                Some(why) => Err(why.to_string()),
                None => {
                    self.stored.push(write.clone());
                    Ok(())
                }
            }
        }
    }

    const FULL: &str = "cannot append to branch-1.log: No space left on device (os error 28)";

    fn branch(id: u64, peers: &[u64], mode: PropagationMode) -> Branch {
        Branch::new(BranchConfig {
            id: BranchId(id),
            peers: peers.iter().map(|p| BranchId(*p)).collect(),
            initial_balance: Cents::units(100),
            clock_scheme: ClockScheme::ExecuteAndRespond,
            propagation: mode,
        })
    }

    fn request(event: u64, branch: u64, op: Op) -> Input {
        Input::Request {
            token: ReplyToken(event),
            request: Request {
                customer: CustomerId(1),
                event: EventId(event),
                branch: BranchId(branch),
                op,
                clock: 1,
                guarantees: Guarantees::NONE,
                write_set: WriteSet::new(),
                read_set: WriteSet::new(),
            },
        }
    }

    fn reply(effects: &[Effect]) -> &Reply {
        let mut replies = effects.iter().filter_map(|e| match e {
            Effect::Reply { reply, .. } => Some(reply),
            _ => None,
        });
        let first = replies.next().expect("a reply");
        assert!(replies.next().is_none(), "one reply");
        first
    }

    /// What the branch applied is exactly what its store holds, clocks too.
    fn state_is_store(b: &Branch, store: &MemoryStore) {
        let applied: Vec<StoredWrite> = b.applied_log().iter().map(|a| a.write).collect();
        let stored: Vec<StoredWrite> = store.stored.clone();
        assert_eq!(applied, stored, "the branch's state is its store");
    }

    #[test]
    fn a_write_the_store_refuses_fails_changes_nothing_and_the_next_one_works() {
        let mut b = branch(1, &[], PropagationMode::Background);
        let mut store = MemoryStore::default();
        let fx = b.handle_storing(request(1, 1, Op::Deposit(Cents::units(10))), &mut store);
        assert!(reply(&fx).outcome.is_success());
        assert!(!fx.iter().any(|e| matches!(e, Effect::Persist(_))), "stored, not handed out");

        store.failing = Some(FULL);
        let fx = b.handle_storing(request(2, 1, Op::Deposit(Cents::units(20))), &mut store);
        let r = reply(&fx);
        match &r.outcome {
            Outcome::Failed { reason: FailReason::StorageFailed(why), balance } => {
                assert!(why.contains("branch 1 could not store write w1.2"), "{why}");
                assert!(why.contains(FULL), "{why}");
                assert_eq!(*balance, Cents::units(110));
            }
            other => panic!("refused for its storage, got {other:?}"),
        }
        assert_eq!(r.write, None, "nothing to add to the session");
        assert_eq!(b.balance(), Cents::units(110), "the refused write is not applied");
        // Reads are served while the store fails.
        let fx = b.handle_storing(request(3, 1, Op::Query), &mut store);
        assert_eq!(reply(&fx).outcome, Outcome::Success { balance: Cents::units(110) });

        store.failing = None;
        let fx = b.handle_storing(request(4, 1, Op::Deposit(Cents::units(30))), &mut store);
        let r = reply(&fx);
        assert_eq!(r.outcome, Outcome::Success { balance: Cents::units(140) });
        assert_eq!(r.write, Some(WriteId { origin: BranchId(1), seq: 2 }), "the id is reused");
        state_is_store(&b, &store);
    }

    #[test]
    fn a_synchronous_write_the_store_refuses_is_not_sent_to_peers() {
        let mut b = branch(1, &[2, 3], PropagationMode::Sequential);
        let mut store = MemoryStore { failing: Some(FULL), ..MemoryStore::default() };
        let fx = b.handle_storing(request(1, 1, Op::Withdraw(Cents::units(10))), &mut store);
        assert!(!reply(&fx).outcome.is_success());
        assert!(!fx.iter().any(|e| matches!(e, Effect::Send { .. })), "not propagated");
        assert!(b.is_quiet(), "nothing in flight");
    }

    fn propagation(seq: u64, depends_on: &[u64]) -> Propagation {
        Propagation {
            from: BranchId(2),
            write: WriteId { origin: BranchId(2), seq },
            customer: CustomerId(2),
            event: EventId(seq),
            op: Op::Deposit(Cents::units(seq as i64)),
            depends_on: depends_on
                .iter()
                .map(|s| WriteId { origin: BranchId(2), seq: *s })
                .collect(),
            clock: 5,
        }
    }

    #[test]
    fn a_peers_write_the_store_refuses_is_refused_and_taken_when_it_comes_again() {
        let mut b = branch(1, &[2], PropagationMode::Sequential);
        let mut store = MemoryStore { failing: Some(FULL), ..MemoryStore::default() };
        let send = |seq, token| Input::Propagate {
            token: ReplyToken(token),
            propagation: propagation(seq, &[]),
        };
        let fx = b.handle_storing(send(1, 7), &mut store);
        let refusal = fx.iter().find_map(|e| match e {
            Effect::RefusePeer { token, reason } => Some((*token, reason.clone())),
            _ => None,
        });
        let (token, reason) = refusal.expect("the peer is refused");
        assert_eq!(token, ReplyToken(7));
        assert!(reason.contains("w2.1") && reason.contains(FULL), "{reason}");
        assert!(!fx.iter().any(|e| matches!(e, Effect::AckPeer { .. })), "never acknowledged");
        assert!(!b.has_applied(&WriteId { origin: BranchId(2), seq: 1 }));
        assert_eq!(b.balance(), Cents::units(100));

        // A pulled write that cannot be stored is dropped (the next pull fetches it).
        let fx = b.handle_storing(
            Input::Pulled { from: BranchId(2), writes: vec![propagation(1, &[])] },
            &mut store,
        );
        assert!(!fx.iter().any(|e| matches!(e, Effect::RefusePeer { .. })), "no one to refuse");
        assert!(b.is_quiet(), "not held: nothing waits for it here");

        store.failing = None;
        let fx = b.handle_storing(send(1, 8), &mut store);
        assert!(fx.iter().any(
            |e| matches!(e, Effect::AckPeer { token: ReplyToken(8), ack } if ack.newly_applied)
        ));
        assert_eq!(b.balance(), Cents::units(101));
        state_is_store(&b, &store);
    }

    #[test]
    fn a_held_write_released_while_the_store_fails_is_dropped_with_what_follows_it_held() {
        let mut b = branch(1, &[2], PropagationMode::Background);
        let mut store = MemoryStore::default();
        let send = |seq, deps: &[u64], token| Input::Propagate {
            token: ReplyToken(token),
            propagation: propagation(seq, deps),
        };
        // w2.3 needs w2.2 needs w2.1: both wait for w2.1.
        b.handle_storing(send(3, &[2], 3), &mut store);
        b.handle_storing(send(2, &[1], 2), &mut store);
        assert_eq!(b.waiting(), (0, 2));
        // w2.1 is stored; then the disk fills before w2.2 is.
        struct FillsAfter(usize, MemoryStore);
        impl WriteStore for FillsAfter {
            fn store(&mut self, write: &StoredWrite) -> Result<(), String> {
                if self.1.stored.len() >= self.0 {
                    return Err(FULL.to_string());
                }
                self.1.store(write)
            }
        }
        let mut filling = FillsAfter(1, store);
        let fx = b.handle_storing(send(1, &[], 1), &mut filling);
        let refused: Vec<ReplyToken> = fx
            .iter()
            .filter_map(|e| match e {
                Effect::RefusePeer { token, .. } => Some(*token),
                _ => None,
            })
            .collect();
        assert_eq!(refused, vec![ReplyToken(2)], "w2.2's sender is refused");
        assert_eq!(b.waiting(), (0, 1), "w2.3 still waits for w2.2");
        assert_eq!(b.balance(), Cents::units(101), "only w2.1 applied");
        state_is_store(&b, &filling.1);

        // The disk has room again; w2.2 comes again and releases w2.3.
        filling.0 = usize::MAX;
        b.handle_storing(send(2, &[1], 4), &mut filling);
        assert_eq!(b.balance(), Cents::units(106));
        assert!(b.is_quiet());
        state_is_store(&b, &filling.1);
    }
}
