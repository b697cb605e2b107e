//! What a branch does with messages no honest peer sends: each is refused
//! with a [`PeerRefusal`] naming the write, and nothing of it is applied
//! (see [`super::peers`]). The property test at the end throws random
//! hostile messages at a branch between customer writes: it never panics,
//! and never issues a write id twice.

use proptest::prelude::*;

use super::*;
use crate::clock::MAX_STAMP;
use crate::guarantees::Guarantees;

/// Branch `id` of a bank whose other branches are `peers`, holding 400.
fn branch(id: u64, peers: &[u64]) -> Branch {
    Branch::new(BranchConfig {
        id: BranchId(id),
        peers: peers.iter().map(|p| BranchId(*p)).collect(),
        initial_balance: Cents::units(400),
        clock_scheme: ClockScheme::SendAndReceive,
        propagation: PropagationMode::Background,
    })
}

fn w(origin: u64, seq: u64) -> WriteId {
    WriteId { origin: BranchId(origin), seq }
}

/// A deposit of 5 with id `write`, sent by branch `from`, depending on nothing.
fn deposit(from: u64, write: WriteId) -> Propagation {
    Propagation {
        from: BranchId(from),
        write,
        customer: CustomerId(1),
        event: EventId(1),
        op: Op::Deposit(Cents::units(5)),
        depends_on: WriteSet::new(),
        clock: 3,
    }
}

fn stored(write: WriteId) -> StoredWrite {
    StoredWrite {
        write,
        customer: CustomerId(1),
        event: EventId(1),
        op: Op::Deposit(Cents::units(5)),
        depends_on: WriteSet::new(),
        clock: 1,
    }
}

/// Everything a refused message must leave as it was.
fn state(b: &Branch) -> (Cents, WriteSet, usize, (usize, usize), u64) {
    (b.balance(), b.applied().clone(), b.applied_log().len(), b.waiting(), b.next_seq)
}

/// Feeds one propagation; returns its refusal, if refused.
fn propagate(b: &mut Branch, p: Propagation) -> Option<PeerRefusal> {
    let fx = b.handle(Input::Propagate { token: ReplyToken(1), propagation: p });
    fx.into_iter().find_map(|e| match e {
        Effect::PeerRefused { token, refusal } => {
            assert_eq!(token, Some(ReplyToken(1)), "the refusal answers the peer's call");
            Some(refusal)
        }
        _ => None,
    })
}

/// Customer 1's request `op` at branch `at`, stamped `clock`, asking for no
/// guarantee.
fn request(at: u64, op: Op, clock: u64) -> Request {
    Request {
        customer: CustomerId(1),
        event: EventId(9),
        branch: BranchId(at),
        op,
        clock,
        guarantees: Guarantees::NONE,
        write_set: WriteSet::new(),
        read_set: WriteSet::new(),
    }
}

/// A customer deposit at branch `at`; returns the id it got.
fn customer_write(b: &mut Branch, at: u64) -> Option<WriteId> {
    let request = request(at, Op::Deposit(Cents::units(1)), 1);
    let fx = b.handle(Input::Request { token: ReplyToken(2), request });
    fx.into_iter().find_map(|e| match e {
        Effect::Persist(s) => Some(s.write),
        _ => None,
    })
}

/// Refused, with nothing changed, and the message names the write.
fn assert_refused(b: &mut Branch, p: Propagation, named: &str) -> PeerRefusal {
    let before = state(b);
    let refusal = propagate(b, p).expect("refused");
    assert!(refusal.to_string().contains(named), "{refusal} should name {named}");
    assert_eq!(state(b), before, "{refusal}: nothing applied");
    refusal
}

#[test]
fn an_own_write_never_issued_is_refused_and_the_branch_keeps_its_ids() {
    // Issue 17, defect 5: this made the next customer request panic.
    let mut b = branch(1, &[2, 3]);
    let r = assert_refused(&mut b, deposit(2, w(1, u64::MAX)), "w1.18446744073709551615");
    assert!(matches!(r, PeerRefusal::NeverIssued { issued: 0, .. }) && r.is_forbidden());
    assert_refused(&mut b, deposit(2, w(1, 1)), "w1.1");
    assert_eq!(customer_write(&mut b, 1), Some(w(1, 1)));
    assert_eq!(customer_write(&mut b, 1), Some(w(1, 2)));
    // Its own write coming back is a duplicate, not a refusal.
    assert_eq!(propagate(&mut b, deposit(2, w(1, 2))), None);
    assert_refused(&mut b, deposit(2, w(1, 3)), "issued only up to seq 2");
}

#[test]
fn writes_from_outside_the_bank_are_refused() {
    let mut b = branch(1, &[2, 3]);
    let r = assert_refused(&mut b, deposit(2, w(99, 1)), "branch 99");
    assert!(matches!(r, PeerRefusal::UnknownOrigin { .. }));
    let r = assert_refused(&mut b, deposit(99, w(2, 1)), "branch 99");
    assert!(matches!(r, PeerRefusal::NotAPeer { me: 1, from: 99 }));
    let r = assert_refused(&mut b, deposit(1, w(2, 1)), "not one of its peers");
    assert!(matches!(r, PeerRefusal::NotAPeer { me: 1, from: 1 }));
}

#[test]
fn impossible_sequence_numbers_are_refused() {
    let mut b = branch(1, &[2]);
    let r = assert_refused(&mut b, deposit(2, w(2, 0)), "w2.0");
    assert!(matches!(r, PeerRefusal::ZeroSeq { .. }));
    let r = assert_refused(&mut b, deposit(2, w(2, MAX_SEQ_AHEAD + 1)), "known here up to seq 0");
    assert!(matches!(r, PeerRefusal::TooFarAhead { known: 0, .. }));
    assert_refused(&mut b, deposit(2, w(2, u64::MAX)), "w2.18446744073709551615");
    // The bound itself passes, and moves what is known.
    assert_eq!(propagate(&mut b, deposit(2, w(2, MAX_SEQ_AHEAD))), None);
    assert_eq!(propagate(&mut b, deposit(2, w(2, 2 * MAX_SEQ_AHEAD))), None);
    assert_eq!(b.balance(), Cents::units(410));
}

#[test]
fn impossible_dependencies_are_refused_instead_of_held_forever() {
    let mut b = branch(1, &[2]);
    for (deps, named) in [
        (vec![w(99, 1)], "branch 99 is not a branch of this bank"),
        (vec![w(2, u64::MAX)], "w2.18446744073709551615"),
        (vec![w(1, 7)], "issued only up to seq 0"),
        (vec![w(2, 1)], "depends on itself"),
    ] {
        let p = Propagation { depends_on: deps.into_iter().collect(), ..deposit(2, w(2, 1)) };
        assert_refused(&mut b, p, named);
    }
}

#[test]
fn a_batch_is_refused_whole_and_judged_in_order() {
    let b = branch(1, &[2, 3]);
    let oversized: Vec<Propagation> =
        (1..=MAX_BATCH_WRITES as u64 + 1).map(|s| deposit(2, w(2, s))).collect();
    let r = b.check_batch(BranchId(2), &oversized).unwrap_err();
    assert!(matches!(r, PeerRefusal::BatchTooLarge { writes: 10_001, .. }), "{r}");
    assert!(b.check_batch(BranchId(2), &oversized[..MAX_BATCH_WRITES]).is_ok());
    // Each write may be far ahead of the one before it in the same message.
    let stepping = [deposit(2, w(2, MAX_SEQ_AHEAD)), deposit(2, w(2, 2 * MAX_SEQ_AHEAD))];
    assert!(b.check_batch(BranchId(2), &stepping).is_ok());
    assert!(b.check_batch(BranchId(99), &stepping[..1]).is_err(), "from a stranger");
}

#[test]
fn a_pull_answer_with_one_bad_write_applies_nothing() {
    let mut b = branch(1, &[2]);
    let before = state(&b);
    let writes = vec![deposit(2, w(2, 1)), deposit(2, w(2, 2)), deposit(2, w(99, 1))];
    let fx = b.handle(Input::Pulled { from: BranchId(2), writes });
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::PeerRefused { token: None, refusal: PeerRefusal::UnknownOrigin { .. } }
    )));
    assert_eq!(state(&b), before);
    let oversized = (1..=MAX_BATCH_WRITES as u64 + 1).map(|s| deposit(2, w(2, s))).collect();
    b.handle(Input::Pulled { from: BranchId(2), writes: oversized });
    assert_eq!(state(&b), before);
}

#[test]
fn pull_answers_are_bounded_and_a_full_one_is_followed_by_another_pull() {
    let mut answerer = branch(2, &[1]);
    let records = (1..=MAX_BATCH_WRITES as u64 + 5).map(|s| stored(w(2, s)));
    answerer = Branch::recover(answerer.config.clone(), records);
    let fx = answerer.handle(Input::Pull {
        token: ReplyToken(3),
        from: BranchId(1),
        have: WriteSet::new(),
        answer_back: false,
    });
    let writes = fx
        .into_iter()
        .find_map(|e| match e {
            Effect::PullReply { writes, .. } => Some(writes),
            _ => None,
        })
        .expect("answered");
    assert_eq!(writes.len(), MAX_BATCH_WRITES);
    let mut puller = branch(1, &[2]);
    let fx = puller.handle(Input::Pulled { from: BranchId(2), writes });
    assert!(fx.iter().any(|e| matches!(e, Effect::Pull { to: BranchId(2), .. })), "asks again");
    assert_eq!(puller.applied().len(), MAX_BATCH_WRITES as u64);
}

#[test]
fn pulls_from_strangers_or_naming_strangers_are_refused() {
    let mut b = branch(1, &[2]);
    b.handle(Input::Request {
        token: ReplyToken(1),
        request: Request {
            customer: CustomerId(1),
            event: EventId(1),
            branch: BranchId(1),
            op: Op::Deposit(Cents::units(1)),
            clock: 0,
            guarantees: Guarantees::NONE,
            write_set: WriteSet::new(),
            read_set: WriteSet::new(),
        },
    });
    for (from, have) in [(99, WriteSet::new()), (2, [w(99, 1)].into_iter().collect())] {
        let fx = b.handle(Input::Pull {
            token: ReplyToken(5),
            from: BranchId(from),
            have,
            answer_back: true,
        });
        assert!(
            matches!(&fx[..], [Effect::PeerRefused { token: Some(ReplyToken(5)), .. }]),
            "from {from}: refused, nothing sent: {fx:?}"
        );
    }
}

#[test]
fn recovery_skips_hostile_records_instead_of_panicking() {
    // Issue 17, defect 5: a store holding w1.(2^64-1) made the restart panic.
    let config = branch(1, &[2]).config.clone();
    let records = [
        stored(w(1, 1)),
        stored(w(1, u64::MAX)),
        stored(w(99, 1)),
        stored(w(2, 0)),
        stored(w(1, 2)),
    ];
    let mut b = Branch::recover(config, records);
    let skipped: Vec<WriteId> = b.skipped_at_recovery().iter().map(|s| s.write).collect();
    assert_eq!(skipped, [w(1, u64::MAX), w(99, 1), w(2, 0)]);
    assert!(b.skipped_at_recovery()[1].refusal.to_string().contains("branch 99"));
    assert_eq!(b.balance(), Cents::units(410));
    assert_eq!(customer_write(&mut b, 1), Some(w(1, 3)));
}

#[test]
fn a_restarted_branch_takes_back_its_lost_tail_but_no_more() {
    let config = branch(1, &[2]).config.clone();
    let mut b = Branch::recover(config, [stored(w(1, 1))]);
    // Sent to a peer before the crash, never on the disk here.
    assert_eq!(propagate(&mut b, deposit(2, w(1, 5))), None);
    assert_eq!(customer_write(&mut b, 1), Some(w(1, 6)));
    assert_refused(&mut b, deposit(2, w(1, 2 + MAX_SEQ_AHEAD)), "w1.1000002");
}

#[test]
fn a_branch_out_of_ids_refuses_writes_instead_of_reusing_one() {
    let mut b = branch(1, &[]);
    b.next_seq = u64::MAX - 1;
    assert_eq!(customer_write(&mut b, 1), Some(w(1, u64::MAX - 1)));
    let before = state(&b);
    assert_eq!(customer_write(&mut b, 1), None, "no id left");
    assert_eq!(state(&b), before);
}

#[test]
fn a_busy_branch_refuses_more_waiting_writes_for_now() {
    let mut b = branch(1, &[2, 3]);
    let missing: WriteSet = [w(3, 1)].into_iter().collect();
    let waiting = Propagation { depends_on: missing.clone(), ..deposit(2, w(2, 1)) };
    assert_eq!(propagate(&mut b, waiting.clone()), None);
    assert_eq!(b.waiting(), (0, 1), "held for w3.1");
    // As if the rest had arrived the same way (feeding them takes long).
    b.held.resize(MAX_HELD_WRITES, (None, waiting));
    let p =
        Propagation { depends_on: missing.clone(), ..deposit(2, w(2, MAX_HELD_WRITES as u64 + 1)) };
    let r = assert_refused(&mut b, p, "busy");
    assert!(r.is_transient());
    // A pull answer stops there too, and does not ask for more.
    let waiting = Propagation { depends_on: missing, ..deposit(2, w(2, 7)) };
    let before = state(&b);
    let fx = b.handle(Input::Pulled { from: BranchId(2), writes: vec![waiting] });
    assert!(matches!(&fx[..], [Effect::PeerRefused { token: None, .. }]), "{fx:?}");
    assert_eq!(state(&b), before);
}

#[test]
fn amounts_no_origin_accepts_are_refused() {
    let mut b = branch(1, &[2]);
    for (amount, named) in [(Cents::MAX.0 + 1, "10000000000000.00"), (-1, "-0.01")] {
        let p = Propagation { op: Op::Deposit(Cents(amount)), ..deposit(2, w(2, 1)) };
        let r = assert_refused(&mut b, p, named);
        assert!(matches!(r, PeerRefusal::BadAmount { .. }), "{r}");
    }
    let p = Propagation { op: Op::Withdraw(Cents(i64::MIN)), ..deposit(2, w(2, 1)) };
    assert_refused(&mut b, p, "w2.1");
    let most = Propagation { op: Op::Deposit(Cents::MAX), ..deposit(2, w(2, 1)) };
    assert_eq!(propagate(&mut b, most), None, "the maximum itself passes");
}

#[test]
fn a_balance_never_saturates_a_hostile_stream_of_deposits_is_refused() {
    // Issue 17, defect 7 through a peer: each deposit is one an origin may
    // accept, but thousands of them would have stopped the balance at
    // i64::MAX, silently.
    let mut b = branch(1, &[2]);
    let mut expected = i128::from(b.balance().0);
    let mut refusal = None;
    for seq in 1..=10_000 {
        let p = Propagation { op: Op::Deposit(Cents::MAX), ..deposit(2, w(2, seq)) };
        if let Some(r) = propagate(&mut b, p) {
            refusal = Some((seq, r));
            break;
        }
        expected += i128::from(Cents::MAX.0);
        assert_eq!(i128::from(b.balance().0), expected, "exact after w2.{seq}");
    }
    let (seq, r) = refusal.expect("refused before the balance left the i64 range");
    assert!(matches!(r, PeerRefusal::BalanceOverflow { .. }), "{r}");
    assert!(r.to_string().contains(&format!("w2.{seq}")), "{r}");
    assert!(expected + i128::from(Cents::MAX.0) > i128::from(i64::MAX));
    // Refused for good, and the branch still serves: a withdraw works.
    let before = b.balance();
    let request = request(1, Op::Withdraw(Cents::units(1)), 1);
    b.handle(Input::Request { token: ReplyToken(2), request });
    assert_eq!(b.balance(), Cents(before.0 - 100));
    // The same records read back from a store are skipped the same way.
    let records = (1..=seq).map(|s| StoredWrite { op: Op::Deposit(Cents::MAX), ..stored(w(2, s)) });
    let r = Branch::recover(branch(1, &[2]).config.clone(), records);
    let skipped: Vec<WriteId> = r.skipped_at_recovery().iter().map(|s| s.write).collect();
    assert_eq!(skipped, [w(2, seq)]);
    assert_eq!(i128::from(r.balance().0), expected);
}

#[test]
fn a_batch_that_would_overflow_the_balance_is_refused_whole() {
    let mut b = branch(1, &[2]);
    let before = state(&b);
    let writes: Vec<Propagation> = (1..=10_000)
        .map(|s| Propagation { op: Op::Deposit(Cents::MAX), ..deposit(2, w(2, s)) })
        .collect();
    let r = b.check_batch(BranchId(2), &writes).unwrap_err();
    assert!(matches!(r, PeerRefusal::BalanceOverflow { .. }), "{r}");
    let fx = b.handle(Input::Pulled { from: BranchId(2), writes: writes.clone() });
    assert!(fx.iter().any(|e| matches!(e, Effect::PeerRefused { .. })));
    assert_eq!(state(&b), before, "nothing of it applied");
    // The part that fits is taken.
    assert!(b.check_batch(BranchId(2), &writes[..9_000]).is_ok());
}

#[test]
fn stamps_above_the_largest_clock_are_refused_and_the_clock_stays() {
    let mut b = branch(1, &[2]);
    for clock in [MAX_CLOCK + 1, u64::MAX] {
        let p = Propagation { clock, ..deposit(2, w(2, 1)) };
        let r = assert_refused(&mut b, p, &clock.to_string());
        assert!(matches!(r, PeerRefusal::ClockTooLarge { .. }), "{r}");
    }
    assert_eq!(b.clock(), 0);
    assert_eq!(propagate(&mut b, Propagation { clock: MAX_CLOCK, ..deposit(2, w(2, 1)) }), None);
    assert_eq!(b.clock(), MAX_STAMP + 1, "the largest stamp is received as MAX_STAMP");

    // A customer's impossible stamp: refused, and not received.
    let mut b = branch(1, &[2]);
    let request = request(1, Op::Deposit(Cents::units(1)), u64::MAX);
    let fx = b.handle(Input::Request { token: ReplyToken(2), request });
    let reply = fx.iter().find_map(|e| match e {
        Effect::Reply { reply, .. } => Some(reply.clone()),
        _ => None,
    });
    let reply = reply.expect("answered at once");
    assert!(
        matches!(&reply.outcome, Outcome::Failed { reason: FailReason::Invalid(why), .. }
            if why.contains("18446744073709551615")),
        "{:?}",
        reply.outcome
    );
    assert!(b.clock() < 10, "clock {}", b.clock());
    assert_eq!(b.balance(), Cents::units(400));
}

/// A stamp just under the limit is let in; what it does to the clock must
/// not make the branch's own messages and stored writes exceed the limit
/// (found by a hostile pass: its next write was skipped at the restart, its
/// id issued again, and every peer refused its propagations).
#[test]
fn a_stamp_at_the_limit_keeps_the_branch_whole_with_its_peers_and_its_store() {
    let cfg = branch(1, &[2]).config.clone();
    let mut b = Branch::new(cfg.clone());
    let mut peer = branch(2, &[1]);
    b.handle(Input::Request { token: ReplyToken(1), request: request(1, Op::Query, MAX_CLOCK) });
    let fx = b.handle(Input::Request {
        token: ReplyToken(2),
        request: request(1, Op::Deposit(Cents::units(50)), 1),
    });
    let stored: Vec<StoredWrite> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Persist(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].clock <= MAX_CLOCK, "stored with clock {}", stored[0].clock);
    // Its peer takes the propagation.
    let sent = fx.iter().find_map(|e| match e {
        Effect::Send { propagation, .. } => Some(propagation.clone()),
        _ => None,
    });
    let sent = sent.expect("propagated (background mode)");
    assert_eq!(propagate(&mut peer, sent), None, "the peer does not refuse it");
    assert_eq!(peer.balance(), Cents::units(450));
    // A restart keeps the write and never issues its id again.
    let mut again = Branch::recover(cfg, stored);
    assert!(again.skipped_at_recovery().is_empty(), "{:?}", again.skipped_at_recovery());
    assert_eq!(again.balance(), Cents::units(450));
    assert_eq!(customer_write(&mut again, 1), Some(w(1, 2)));
}

#[test]
fn an_acknowledgement_with_an_impossible_clock_is_refused_and_the_customer_still_answered() {
    let mut b = Branch::new(BranchConfig {
        propagation: PropagationMode::Sequential,
        ..branch(1, &[2]).config.clone()
    });
    let request = request(1, Op::Deposit(Cents::units(1)), 1);
    let fx = b.handle(Input::Request { token: ReplyToken(2), request });
    assert!(!fx.iter().any(|e| matches!(e, Effect::Reply { .. })), "waits for branch 2");
    let clock_before = b.clock();
    let ack =
        PropagationAck { from: BranchId(2), write: w(1, 1), newly_applied: true, clock: u64::MAX };
    let fx = b.handle(Input::Ack(ack));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::PeerRefused { token: None, refusal: PeerRefusal::ClockTooLarge { .. } }
    )));
    let reply = fx.iter().find_map(|e| match e {
        Effect::Reply { reply, .. } => Some(reply.clone()),
        _ => None,
    });
    let reply = reply.expect("the customer is answered");
    assert!(matches!(reply.outcome, Outcome::Failed { reason: FailReason::Unavailable(_), .. }));
    assert!(b.clock() <= clock_before + 1, "the stamp was not received");
}

#[test]
fn a_session_naming_a_peer_write_nobody_can_have_issued_is_refused_at_once() {
    let mut b = branch(1, &[2]);
    for seq in [u64::MAX, MAX_SEQ_AHEAD + 1] {
        let mut r = request(1, Op::Query, 1);
        r.guarantees = Guarantees::ALL;
        r.read_set = [w(2, seq)].into_iter().collect();
        let fx = b.handle(Input::Request { token: ReplyToken(7), request: r });
        assert!(!fx.iter().any(|e| matches!(e, Effect::Parked { .. })), "w2.{seq} parked");
        let reply = fx.iter().find_map(|e| match e {
            Effect::Reply { reply, .. } => Some(reply.clone()),
            _ => None,
        });
        let reply = reply.expect("answered at once");
        assert!(
            matches!(&reply.outcome, Outcome::Failed { reason: FailReason::Invalid(why), .. } if why.contains(&format!("w2.{seq}"))),
            "{:?}",
            reply.outcome
        );
    }
    // A write a little ahead of what arrived may still come: it waits.
    let mut r = request(1, Op::Query, 1);
    r.guarantees = Guarantees::ALL;
    r.read_set = [w(2, 5)].into_iter().collect();
    let fx = b.handle(Input::Request { token: ReplyToken(8), request: r });
    assert!(fx.iter().any(|e| matches!(e, Effect::Parked { .. })));
}

/// One message a hostile peer might send.
#[derive(Clone, Debug)]
enum Hostile {
    Propagate(Propagation),
    Pulled(u64, Vec<Propagation>),
    Pull(u64, WriteSet),
    CustomerWrite,
}

fn any_u64() -> impl Strategy<Value = u64> {
    prop_oneof![0..8u64, Just(u64::MAX), Just(u64::MAX - 1), any::<u64>(), 0..3_000_000u64]
}

fn any_propagation() -> impl Strategy<Value = Propagation> {
    (0..6u64, 0..6u64, any_u64(), any_u64(), 0..6u64, any_u64(), any::<i64>(), any::<bool>())
        .prop_map(|(from, origin, seq, clock, dep_origin, dep_seq, amount, withdraw)| {
            let amount = Cents(amount);
            Propagation {
                from: BranchId(from),
                write: w(origin, seq),
                customer: CustomerId(1),
                event: EventId(1),
                op: if withdraw { Op::Withdraw(amount) } else { Op::Deposit(amount) },
                depends_on: [w(dep_origin, dep_seq)].into_iter().filter(|d| d.seq != 0).collect(),
                clock,
            }
        })
}

fn any_hostile() -> impl Strategy<Value = Hostile> {
    prop_oneof![
        any_propagation().prop_map(Hostile::Propagate),
        (0..6u64, proptest::collection::vec(any_propagation(), 0..6))
            .prop_map(|(from, writes)| Hostile::Pulled(from, writes)),
        (0..6u64, 0..6u64, any_u64())
            .prop_map(|(from, o, s)| Hostile::Pull(from, [w(o, s)].into_iter().collect())),
        Just(Hostile::CustomerWrite),
    ]
}

proptest! {
    #[test]
    fn hostile_messages_never_panic_nor_make_ids_repeat(
        messages in proptest::collection::vec(any_hostile(), 1..40),
        recovered in any::<bool>(),
    ) {
        let mut b = branch(1, &[2, 3]);
        if recovered {
            b = Branch::recover(b.config.clone(), []);
        }
        let mut issued = Vec::new();
        for m in messages {
            match m {
                Hostile::Propagate(p) => {
                    let refused = b.check_propagation(&p).is_err();
                    let before = state(&b);
                    let got = propagate(&mut b, p);
                    prop_assert_eq!(refused, got.is_some());
                    if refused {
                        prop_assert_eq!(state(&b), before);
                    }
                }
                Hostile::Pulled(from, writes) => {
                    let refused = b.check_batch(BranchId(from), &writes).is_err();
                    let before = state(&b);
                    b.handle(Input::Pulled { from: BranchId(from), writes });
                    if refused {
                        prop_assert_eq!(state(&b), before);
                    }
                }
                Hostile::Pull(from, have) => {
                    b.handle(Input::Pull {
                        token: ReplyToken(4),
                        from: BranchId(from),
                        have,
                        answer_back: true,
                    });
                }
                Hostile::CustomerWrite => issued.extend(customer_write(&mut b, 1)),
            }
            // The balance is exact: never saturated, never wrapped.
            let sum: i128 = b.applied_log().iter().map(|a| match a.write.op {
                Op::Deposit(c) => i128::from(c.0),
                Op::Withdraw(c) => -i128::from(c.0),
                Op::Query => 0,
            }).sum();
            prop_assert_eq!(i128::from(b.balance().0), i128::from(Cents::units(400).0) + sum);
            prop_assert!(b.clock() <= MAX_STAMP + 1_000, "clock {}", b.clock());
            // Whatever was applied came from the bank, with a possible seq.
            for a in b.applied_log() {
                prop_assert!(a.write.write.origin.0 <= 3 && a.write.write.origin.0 >= 1);
                prop_assert!(a.write.write.seq >= 1 && a.write.write.seq < u64::MAX);
            }
        }
        // Own ids only grow: never one issued twice, never one a peer had.
        prop_assert!(issued.windows(2).all(|p| p[0].seq < p[1].seq), "{:?}", issued);
        for id in &issued {
            let copies = b.applied_log().iter().filter(|a| a.write.write == *id).count();
            prop_assert_eq!(copies, 1);
        }
    }
}
