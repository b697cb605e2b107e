use super::*;
use crate::ids::{EventId, WriteId};

/// The messages in flight, as the test says.
struct Net(Vec<u64>);

impl InFlight for Net {
    fn touches(&self, branch: BranchId) -> bool {
        self.0.contains(&branch.0)
    }
    fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

fn w(o: u64, s: u64) -> WriteId {
    WriteId { origin: BranchId(o), seq: s }
}

fn deposit(write: WriteId, event: u64, after: i64) -> AppliedRecord {
    AppliedRecord {
        write,
        customer: CustomerId(1),
        event: EventId(event),
        op: OpKind::Deposit,
        amount: Cents::units(100),
        balance_after: Cents::units(after),
    }
}

fn bank() -> LiveCheck {
    LiveCheck::new(
        [(CustomerId(1), Guarantees::NONE)],
        [(BranchId(1), Cents::ZERO), (BranchId(2), Cents::ZERO)],
    )
}

fn verdict(live: &LiveCheck, net: &Net, kind: InvariantKind) -> Verdict {
    let status = live.status(&live.report(), net);
    status.iter().find(|i| i.kind == kind).expect("every kind has a badge").verdict
}

#[test]
fn money_is_judged_at_quiet_branches_only() {
    let mut live = bank();
    live.push(LiveInput::Sent { session: Some(0) });
    // A request is being served: nobody is quiet.
    assert_eq!(verdict(&live, &Net(vec![]), InvariantKind::MoneyConserved), Verdict::NotNow);
    live.push(LiveInput::Applied { branch: BranchId(1), record: deposit(w(1, 1), 1, 100) });
    live.push(LiveInput::Answered {
        session: Some(0),
        op: OpRecord {
            event: EventId(1),
            branch: BranchId(1),
            op: OpKind::Deposit,
            amount: Cents::units(100),
            ok: true,
            balance: Cents::units(100),
            write: Some(w(1, 1)),
            observed: None,
            error: None,
        },
    });
    // The propagation to branch 2 is on its way: branch 1 is quiet and right.
    let net = Net(vec![1, 2]);
    assert_eq!(verdict(&live, &net, InvariantKind::MoneyConserved), Verdict::NotNow);
    let net = Net(vec![2]);
    assert_eq!(verdict(&live, &net, InvariantKind::MoneyConserved), Verdict::Holds);
    assert_eq!(verdict(&live, &net, InvariantKind::Converged), Verdict::NotNow);
    // The propagation was lost: branch 2 is quiet without the deposit.
    let quiet = Net(vec![]);
    assert_eq!(verdict(&live, &quiet, InvariantKind::MoneyConserved), Verdict::Broken);
    let money = live.money(&quiet);
    assert!(money.detail.contains("branch 2 is quiet with 0, but"), "{}", money.detail);
    let converged = live.convergence(&quiet);
    assert_eq!(converged.verdict, Verdict::Broken);
    assert!(converged.detail.contains("branch 2 has not applied w1.1"), "{}", converged.detail);
    // It arrives.
    live.push(LiveInput::Applied { branch: BranchId(2), record: deposit(w(1, 1), 1, 100) });
    assert_eq!(verdict(&live, &quiet, InvariantKind::MoneyConserved), Verdict::Holds);
    assert_eq!(verdict(&live, &quiet, InvariantKind::Converged), Verdict::Holds);
}

#[test]
fn a_guarantee_badge_says_whether_it_was_asked_for() {
    let live = LiveCheck::new(
        [(CustomerId(1), Guarantees::only(Guarantee::ReadYourWrites))],
        [(BranchId(1), Cents::ZERO)],
    );
    let status = live.status(&live.report(), &Net(vec![]));
    let asked: Vec<(InvariantKind, Option<bool>)> =
        status.iter().filter(|i| i.asked.is_some()).map(|i| (i.kind, i.asked)).collect();
    assert_eq!(asked.len(), 4);
    assert_eq!(asked[0], (InvariantKind::Guarantee(Guarantee::ReadYourWrites), Some(true)));
    assert_eq!(asked[1].1, Some(false));
    assert!(status.iter().all(|i| i.verdict != Verdict::Broken));
}

#[test]
fn withdraws_count_against_the_money() {
    let mut live = bank();
    live.push(LiveInput::Applied { branch: BranchId(1), record: deposit(w(1, 1), 1, 100) });
    let mut out = deposit(w(2, 1), 2, -50);
    out.op = OpKind::Withdraw;
    out.amount = Cents::units(150);
    live.push(LiveInput::Applied { branch: BranchId(2), record: out });
    let report = live.report();
    assert_eq!(report.count(Anomaly::Overdraft), 1);
    let status = live.status(&report, &Net(vec![1]));
    let overdraft = status.iter().find(|i| i.kind == InvariantKind::NoOverdraft).unwrap();
    assert_eq!(overdraft.verdict, Verdict::Broken);
    assert!(overdraft.detail.starts_with("Let A = branch 2's apply of"), "{}", overdraft.detail);
    // Branch 2 is quiet at −50 while 100 − 150 = −50 was accepted: conserved.
    assert_eq!(live.money(&Net(vec![1])).verdict, Verdict::Holds);
}
