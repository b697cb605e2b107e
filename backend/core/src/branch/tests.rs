//! Unit tests of the branch state machine: one input at a time, and the
//! effects it returns.

use super::*;
use crate::clock::MAX_STAMP;
use crate::guarantees::Guarantees;

fn config(id: u64, peers: &[u64], scheme: ClockScheme, mode: PropagationMode) -> BranchConfig {
    BranchConfig {
        id: BranchId(id),
        peers: peers.iter().map(|p| BranchId(*p)).collect(),
        initial_balance: Cents::units(400),
        clock_scheme: scheme,
        propagation: mode,
    }
}

/// Customer 1's write `write` (event `event`), sent by branch `from`,
/// depending on nothing.
fn propagation(from: u64, write: WriteId, event: u64, op: Op) -> Propagation {
    Propagation {
        from: BranchId(from),
        write,
        customer: CustomerId(1),
        event: EventId(event),
        op,
        depends_on: WriteSet::new(),
        clock: 3,
    }
}

fn request(event: u64, branch: u64, op: Op) -> Request {
    Request {
        customer: CustomerId(1),
        event: EventId(event),
        branch: BranchId(branch),
        op,
        clock: 1,
        guarantees: Guarantees::COURSE,
        write_set: WriteSet::new(),
        read_set: WriteSet::new(),
    }
}

fn replies(effects: &[Effect]) -> Vec<&Reply> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Reply { reply, .. } => Some(reply),
            _ => None,
        })
        .collect()
}

fn sends(effects: &[Effect]) -> Vec<(BranchId, Propagation)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to, propagation } => Some((*to, propagation.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn overdraft_fails_and_changes_nothing() {
    let mut b =
        Branch::new(config(1, &[2], ClockScheme::SendAndReceive, PropagationMode::Sequential));
    let fx = b.handle(Input::Request {
        token: ReplyToken(7),
        request: request(1, 1, Op::Withdraw(Cents::units(500))),
    });
    let r = replies(&fx);
    assert_eq!(r.len(), 1);
    assert!(matches!(
        r[0].outcome,
        Outcome::Failed { reason: FailReason::InsufficientFunds { .. }, .. }
    ));
    assert!(sends(&fx).is_empty(), "a failed write is not propagated");
    assert_eq!(b.balance(), Cents::units(400));
    assert!(b.write_sets().is_empty());
}

#[test]
fn sequential_mode_answers_after_the_last_peer() {
    let mut b =
        Branch::new(config(1, &[3, 2], ClockScheme::SendAndReceive, PropagationMode::Sequential));
    let fx = b.handle(Input::Request {
        token: ReplyToken(1),
        request: request(1, 1, Op::Deposit(Cents::units(10))),
    });
    assert!(replies(&fx).is_empty());
    let s = sends(&fx);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].0, BranchId(2), "ascending peer order");
    let ack = |from, clock| PropagationAck {
        from: BranchId(from),
        write: s[0].1.write,
        newly_applied: true,
        clock,
    };
    let fx = b.handle(Input::Ack(ack(2, 5)));
    assert_eq!(sends(&fx)[0].0, BranchId(3));
    assert!(replies(&fx).is_empty());
    let fx = b.handle(Input::Ack(ack(3, 6)));
    let r = replies(&fx);
    assert_eq!(r[0].outcome, Outcome::Success { balance: Cents::units(410) });
    assert_eq!(r[0].write, Some(WriteId { origin: BranchId(1), seq: 1 }));
}

#[test]
fn duplicate_propagation_is_applied_once() {
    let mut b =
        Branch::new(config(2, &[1], ClockScheme::SendAndReceive, PropagationMode::Sequential));
    let p =
        propagation(1, WriteId { origin: BranchId(1), seq: 1 }, 1, Op::Deposit(Cents::units(5)));
    b.handle(Input::Propagate { token: ReplyToken(1), propagation: p.clone() });
    let fx = b.handle(Input::Propagate { token: ReplyToken(2), propagation: p });
    assert!(fx.iter().any(|e| matches!(e, Effect::AckPeer { ack, .. } if !ack.newly_applied)));
    assert_eq!(b.balance(), Cents::units(405));
    assert_eq!(b.write_sets()[&CustomerId(1)], vec![EventId(1)]);
}

#[test]
fn a_request_waits_for_the_sessions_writes() {
    // Read Your Writes at the serving branch: the customer deposited at
    // branch 1 (write w1.1) and now queries branch 2 before w1.1 arrived.
    let mut b =
        Branch::new(config(2, &[1], ClockScheme::SendAndReceive, PropagationMode::Background));
    let w = WriteId { origin: BranchId(1), seq: 1 };
    let mut q = request(2, 2, Op::Query);
    q.write_set = [w].into_iter().collect();
    let fx = b.handle(Input::Request { token: ReplyToken(9), request: q });
    assert!(replies(&fx).is_empty(), "parked, not answered with a stale balance");
    assert_eq!(b.waiting(), (1, 0));
    let p = propagation(1, w, 1, Op::Deposit(Cents::units(100)));
    let fx = b.handle(Input::Propagate { token: ReplyToken(1), propagation: p });
    let r = replies(&fx);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].outcome, Outcome::Success { balance: Cents::units(500) });
    assert_eq!(b.waiting(), (0, 0));
}

#[test]
fn impossible_sessions_are_refused_not_parked_forever() {
    let mut b =
        Branch::new(config(2, &[1], ClockScheme::SendAndReceive, PropagationMode::Background));
    for bogus in [WriteId { origin: BranchId(9), seq: 1 }, WriteId { origin: BranchId(2), seq: 1 }]
    {
        let mut q = request(1, 2, Op::Query);
        q.write_set = [bogus].into_iter().collect();
        let fx = b.handle(Input::Request { token: ReplyToken(1), request: q });
        let r = replies(&fx);
        assert_eq!(r.len(), 1, "{bogus}: answered at once");
        assert!(
            matches!(&r[0].outcome, Outcome::Failed { reason: FailReason::Invalid(m), .. } if m.contains(&bogus.to_string()))
        );
    }
    // A wrong-branch request is refused even when its session would park it.
    let mut q = request(2, 1, Op::Query);
    q.write_set = [WriteId { origin: BranchId(1), seq: 5 }].into_iter().collect();
    let fx = b.handle(Input::Request { token: ReplyToken(2), request: q });
    assert!(matches!(
        replies(&fx)[0].outcome,
        Outcome::Failed { reason: FailReason::WrongBranch, .. }
    ));
    assert_eq!(b.waiting(), (0, 0));
}

#[test]
fn an_own_write_fetched_back_is_never_reissued() {
    // Branch 1 restarted having lost its store; a peer sends back w1.3.
    let mut b = Branch::recover(
        config(1, &[2], ClockScheme::SendAndReceive, PropagationMode::Background),
        [],
    );
    let p =
        propagation(2, WriteId { origin: BranchId(1), seq: 3 }, 1, Op::Deposit(Cents::units(5)));
    b.handle(Input::Propagate { token: ReplyToken(1), propagation: p });
    let fx = b.handle(Input::Request {
        token: ReplyToken(2),
        request: request(2, 1, Op::Deposit(Cents::units(1))),
    });
    assert_eq!(replies(&fx)[0].write, Some(WriteId { origin: BranchId(1), seq: 4 }));
}

#[test]
fn a_propagated_write_waits_for_its_dependencies() {
    // Monotonic Writes at a peer: w1.2 depends on w1.1 but arrives first.
    let mut b =
        Branch::new(config(3, &[1], ClockScheme::SendAndReceive, PropagationMode::Background));
    let w1 = WriteId { origin: BranchId(1), seq: 1 };
    let w2 = WriteId { origin: BranchId(1), seq: 2 };
    let prop = |write, event, op, deps| Propagation {
        depends_on: deps,
        clock: 2,
        ..propagation(1, write, event, op)
    };
    let fx = b.handle(Input::Propagate {
        token: ReplyToken(2),
        propagation: prop(w2, 2, Op::Withdraw(Cents::units(400)), [w1].into_iter().collect()),
    });
    assert!(!fx.iter().any(|e| matches!(e, Effect::AckPeer { .. })));
    b.handle(Input::Propagate {
        token: ReplyToken(1),
        propagation: prop(w1, 1, Op::Deposit(Cents::units(400)), WriteSet::new()),
    });
    assert_eq!(
        b.write_sets()[&CustomerId(1)],
        vec![EventId(1), EventId(2)],
        "applied in issue order"
    );
    assert_eq!(b.balance(), Cents::units(400));
}

#[test]
fn a_peer_given_up_on_fails_the_waiting_write_as_unavailable_and_the_branch_goes_quiet() {
    let mut b =
        Branch::new(config(1, &[2, 3], ClockScheme::default(), PropagationMode::Sequential));
    let token = ReplyToken(1);
    let sent = b.handle(Input::Request { token, request: request(1, 1, Op::Deposit(Cents(500))) });
    let (to, p) = sends(&sent).pop().expect("sent to the first peer");
    assert_eq!(to, BranchId(2));
    // Branch 2 never answers; the host gives up on it: branch 3 gets the write next.
    let why = "branch 2 did not take it: connection refused".to_string();
    let next = b.handle(Input::Undelivered { to, writes: vec![p.write], why });
    assert!(replies(&next).is_empty(), "still waiting for branch 3");
    let (to, _) = sends(&next).pop().expect("sent to the next peer");
    assert_eq!(to, BranchId(3));
    let ack = PropagationAck { from: to, write: p.write, newly_applied: true, clock: 5 };
    let done = b.handle(Input::Ack(ack));
    let reply = replies(&done).pop().expect("answered once no peer is left to wait for");
    match &reply.outcome {
        Outcome::Failed { reason: FailReason::Unavailable(why), .. } => {
            assert!(why.contains("branch 2 did not take it"), "{why}")
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert_eq!(reply.write, Some(p.write), "the write exists: the session keeps its id");
    assert!(b.is_quiet());
    assert_eq!(b.balance(), Cents::units(405), "applied here all the same");
}

/// Issue 15's finding: after a crash a branch took its clock back up from
/// its stored writes only, so the queries it had answered since its last
/// write had clocks it then used again. With the clock it reserved in its
/// store ([`Effect::ReserveClock`]) it restarts above all of them.
#[test]
fn a_restarted_branch_never_reuses_a_clock() {
    let cfg = config(1, &[], ClockScheme::SendAndReceive, PropagationMode::Sequential);
    let mut b = Branch::new(cfg.clone());
    let (mut stored, mut reserved, mut used) = (Vec::new(), 0, 0);
    let mut feed = |b: &mut Branch, input| {
        for effect in b.handle(input) {
            match effect {
                Effect::Persist(w) => stored.push(w),
                Effect::ReserveClock { up_to } => {
                    assert!(up_to > reserved, "reservations only grow");
                    reserved = up_to;
                }
                Effect::Logged(entry) => {
                    assert!(
                        entry.clock <= reserved,
                        "clock {} used before it was reserved",
                        entry.clock
                    );
                    used = used.max(entry.clock);
                }
                _ => {}
            }
        }
    };
    feed(
        &mut b,
        Input::Request { token: ReplyToken(1), request: request(1, 1, Op::Deposit(Cents(5))) },
    );
    // Many queries after the last write: thousands of clock ticks, stored nowhere but
    // in the reservations.
    for e in 0..2 * CLOCK_LEASE {
        feed(
            &mut b,
            Input::Request { token: ReplyToken(2 + e), request: request(2 + e, 1, Op::Query) },
        );
    }
    assert!(used > 2 * CLOCK_LEASE && reserved >= used, "used {used}, reserved {reserved}");

    let old = Branch::recover(cfg.clone(), stored.clone());
    assert!(old.clock() < used, "without the reservation the clock goes back: {}", old.clock());
    let mut again = Branch::recover_at(cfg, stored, reserved);
    assert!(again.clock() >= used, "restarted at {}, had used {used}", again.clock());
    let fx =
        again.handle(Input::Request { token: ReplyToken(9), request: request(9, 1, Op::Query) });
    let next = replies(&fx)[0].clock;
    assert!(next > used, "the first answer after the restart ({next}) is above {used}");
    assert_eq!(
        Branch::recover_at(
            config(1, &[], ClockScheme::SendAndReceive, PropagationMode::Sequential),
            [],
            u64::MAX
        )
        .clock(),
        MAX_STAMP + (1 << 32),
        "a damaged reservation is capped"
    );
}

#[test]
fn a_long_interleaved_session_names_only_its_last_write_and_peers_still_apply_in_order() {
    // Customers 1 and 2 take turns depositing at branch 1, so customer 1's
    // write set there is one run per write (w1.1, w1.3, w1.5, ...).
    let mut b1 =
        Branch::new(config(1, &[2], ClockScheme::SendAndReceive, PropagationMode::Background));
    let mut write_set = WriteSet::new();
    let mut sent = Vec::new();
    for round in 1..=200u64 {
        for customer in [1u64, 2] {
            let mut r = request(round * 10 + customer, 1, Op::Deposit(Cents::units(1)));
            r.customer = CustomerId(customer);
            if customer == 1 {
                r.write_set = write_set.clone();
            }
            let fx = b1.handle(Input::Request { token: ReplyToken(round), request: r });
            let write = replies(&fx)[0].write.expect("a deposit gets a write id");
            if customer == 1 {
                let (_, p) = sends(&fx).pop().expect("propagated to branch 2");
                // Before: the whole session, `round - 1` runs by the end.
                assert!(
                    p.depends_on.runs().len() <= 1,
                    "write {round} names {} runs",
                    p.depends_on.runs().len()
                );
                write_set.insert(write);
                sent.push(p);
            }
        }
    }
    // Branch 2 gets customer 1's writes newest first: each waits for the
    // one before it, and the first releases them all, in issue order.
    let mut b2 =
        Branch::new(config(2, &[1], ClockScheme::SendAndReceive, PropagationMode::Background));
    for p in sent.iter().rev() {
        b2.handle(Input::Propagate { token: ReplyToken(0), propagation: p.clone() });
    }
    let order: Vec<WriteId> = b2.applied_log().iter().map(|a| a.write.write).collect();
    let issued: Vec<WriteId> = sent.iter().map(|p| p.write).collect();
    assert_eq!(order, issued);
}

fn pulls(effects: &[Effect]) -> Vec<BranchId> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Pull { to, .. } => Some(*to),
            _ => None,
        })
        .collect()
}

#[test]
fn an_anti_entropy_round_waits_for_the_pull_still_out_and_is_never_lost() {
    let mut b =
        Branch::new(config(1, &[2, 3], ClockScheme::SendAndReceive, PropagationMode::Background));
    assert_eq!(pulls(&b.handle(Input::AntiEntropy)), [BranchId(2), BranchId(3)]);
    // A slow link: ticks come while both answers are on their way. Before,
    // each tick pulled again, and each answer carried the same writes.
    for _ in 0..100 {
        assert_eq!(pulls(&b.handle(Input::AntiEntropy)), []);
    }
    assert_eq!(b.pulls_in_flight(), 2);
    // Branch 2 answers: the round asked for meanwhile goes out, once.
    let fx = b.handle(Input::Pulled { from: BranchId(2), writes: Vec::new() });
    assert_eq!(pulls(&fx), [BranchId(2)]);
    // Branch 3's pull fails: it is tried again too.
    assert_eq!(pulls(&b.handle(Input::PullFailed { to: BranchId(3) })), [BranchId(3)]);
    // With nothing asked for meanwhile, an answer starts no new pull.
    assert_eq!(pulls(&b.handle(Input::Pulled { from: BranchId(2), writes: Vec::new() })), []);
    assert_eq!(pulls(&b.handle(Input::PullFailed { to: BranchId(3) })), []);
    assert_eq!(b.pulls_in_flight(), 0);
    assert_eq!(pulls(&b.handle(Input::AntiEntropy)), [BranchId(2), BranchId(3)]);
}
