//! A node whose store fails (through [`Faults`]): writes refused with the
//! reason, nothing changed, reads still served, writes taken again once the
//! disk has room, and nothing acknowledged missing from the file.
//!
//! Issue 17, defect 1: before the fix a branch applied and acknowledged
//! every write while its appends failed with "No space left on device",
//! and the writes were gone after a restart.

use std::path::PathBuf;

use bank_core::branch::{Propagation, PropagationMode, Reply, Request};
use bank_core::{
    Branch, BranchConfig, BranchId, Cents, ClockScheme, CustomerId, EventId, FailReason,
    Guarantees, Op, Outcome, StoredWrite, WriteId, WriteSet,
};

use crate::branch::node::{self, NodeHandle, NodeOptions};
use crate::branch::store::faulty::Faults;
use crate::branch::store::Store;
use crate::error::PropagateError;
use crate::shutdown::Shutdown;

/// Branch 1 (peer: branch 2, not running) on a store in its own temporary
/// directory, behind `faults`.
struct Harness {
    dir: PathBuf,
    node: NodeHandle,
    stop: Shutdown,
    next_event: u64,
}

impl Harness {
    fn start(name: &str, durable: bool, faults: &Faults) -> Harness {
        let dir =
            std::env::temp_dir().join(format!("bank-node-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (store, _) = Store::open(&dir, BranchId(1), true).unwrap();
        let store = if durable { store } else { store.volatile() };
        let branch = Branch::new(BranchConfig {
            id: BranchId(1),
            peers: vec![BranchId(2)],
            initial_balance: Cents::units(100),
            clock_scheme: ClockScheme::default(),
            propagation: PropagationMode::Background,
        });
        let stop = Shutdown::new();
        let options = NodeOptions { store: Some(store.with_faults(faults)), ..Default::default() };
        // No channel to branch 2: propagations to it go nowhere, which
        // does not matter here.
        let (node, _) = node::spawn_with(branch, Default::default(), None, stop.clone(), options);
        Harness { dir, node, stop, next_event: 0 }
    }

    async fn ask(&mut self, op: Op) -> Reply {
        self.next_event += 1;
        let request = Request {
            customer: CustomerId(1),
            event: EventId(self.next_event),
            branch: BranchId(1),
            op,
            clock: 0,
            guarantees: Guarantees::NONE,
            write_set: WriteSet::new(),
            read_set: WriteSet::new(),
        };
        self.node.request(request).await.expect("the node answers")
    }

    async fn balance(&self) -> Cents {
        self.node.inspect(false).await.unwrap().balance
    }

    /// What a restart would read back from the store.
    fn stored(&self) -> Vec<StoredWrite> {
        Store::open(&self.dir, BranchId(1), false).unwrap().1
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.stop.trigger();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn storage_failure(reply: &Reply) -> &str {
    match &reply.outcome {
        Outcome::Failed { reason: FailReason::StorageFailed(why), .. } => why,
        other => panic!("a storage failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_full_disk_refuses_writes_serves_reads_and_recovers_without_a_restart() {
    for durable in [true, false] {
        let faults = Faults::default();
        let mut h = Harness::start(&format!("full-{durable}"), durable, &faults);
        let mut acknowledged = Vec::new();
        let r = h.ask(Op::Deposit(Cents::units(1))).await;
        acknowledged.push(r.write.expect("stored and acknowledged"));

        faults.fill_after(10, Faults::ENOSPC);
        let r = h.ask(Op::Deposit(Cents::units(2))).await;
        let why = storage_failure(&r);
        assert!(why.contains("branch 1 could not store write w1.2"), "{why}");
        assert!(why.contains("No space left on device"), "{why}");
        assert!(why.contains("branch-1.log"), "names the file: {why}");
        assert_eq!(r.write, None);
        assert_eq!(h.balance().await, Cents::units(101), "the refused write is not applied");
        let r = h.ask(Op::Withdraw(Cents::units(1))).await;
        storage_failure(&r);
        let r = h.ask(Op::Query).await;
        assert_eq!(r.outcome, Outcome::Success { balance: Cents::units(101) }, "reads go on");

        faults.clear();
        let r = h.ask(Op::Deposit(Cents::units(3))).await;
        assert_eq!(r.outcome, Outcome::Success { balance: Cents::units(104) });
        acknowledged.push(r.write.expect("taken again"));

        let stored: Vec<WriteId> = h.stored().iter().map(|w| w.write).collect();
        assert_eq!(
            stored, acknowledged,
            "durable {durable}: the store holds what was acknowledged"
        );
    }
}

#[tokio::test]
async fn a_failing_flush_acknowledges_nothing() {
    let faults = Faults::default();
    let mut h = Harness::start("flush", true, &faults);
    faults.fail_syncs(Faults::EIO);
    let r = h.ask(Op::Deposit(Cents::units(5))).await;
    let why = storage_failure(&r);
    assert!(why.contains("branch 1 could not flush write w1.1"), "{why}");
    assert!(why.contains("Input/output error"), "{why}");
    assert_eq!(r.write, None, "not in the session's write set");
    let r = h.ask(Op::Query).await;
    assert!(r.outcome.is_success(), "reads are answered");
    faults.clear();
    let r = h.ask(Op::Deposit(Cents::units(5))).await;
    assert!(r.outcome.is_success(), "acknowledged once flushes work: {r:?}");
}

#[tokio::test]
async fn a_peers_write_is_not_acknowledged_until_it_is_stored() {
    let faults = Faults::default();
    let h = Harness::start("peer", false, &faults);
    let propagation = Propagation {
        from: BranchId(2),
        write: WriteId { origin: BranchId(2), seq: 1 },
        customer: CustomerId(2),
        event: EventId(1),
        op: Op::Deposit(Cents::units(7)),
        depends_on: WriteSet::new(),
        clock: 1,
    };
    faults.fill_after(0, Faults::ENOSPC);
    match h.node.propagate_all(vec![propagation.clone()], None).await {
        Err(PropagateError::NotStored(why)) => {
            assert!(why.contains("w2.1") && why.contains("No space left"), "{why}")
        }
        other => panic!("refused, got {other:?}"),
    }
    let status = tonic::Status::from(PropagateError::NotStored(String::new()));
    assert_eq!(status.code(), tonic::Code::Unavailable, "the peer's link retries");
    assert_eq!(h.balance().await, Cents::units(100));

    faults.clear();
    let acks = h.node.propagate_all(vec![propagation], None).await.expect("stored now");
    assert!(acks[0].newly_applied);
    assert_eq!(h.balance().await, Cents::units(107));
    assert_eq!(h.stored().len(), 1);
}
