//! Hostile peer messages against a real `bank branch` process: every one is
//! refused with a status that names the write, nothing of it is applied,
//! and the branch keeps serving its customers, also after a kill -9 and a
//! restart from its data directory (issue 17, defect 5: one `Propagate`
//! used to make the branch panic, and panic again at every restart).

mod common;
use common::wait_timeout;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bank_core::branch::{Propagation, Request, MAX_BATCH_WRITES, MAX_SEQ_AHEAD};
use bank_core::{BranchId, Cents, CustomerId, EventId, Guarantees, Op, Outcome, WriteId, WriteSet};
use bank_proto as pb;
use bank_proto::customer_client::CustomerClient;
use bank_proto::replica_client::ReplicaClient;
use tonic::transport::Channel;
use tonic::Code;

/// A `bank branch` process: branch 1 of a bank with branch 2 (which is
/// never started), answering customers before propagating.
struct BranchProcess {
    child: Option<Child>,
    addr: String,
}

impl BranchProcess {
    fn start(data: &Path) -> BranchProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bank"))
            .args(["branch", "--id", "1", "--listen", "127.0.0.1:0", "--peers", "2=127.0.0.1:1"])
            .args(["--propagation", "background", "--balance", "100", "--data-dir"])
            .arg(data)
            .env_remove("BANK_TOKEN")
            .env("BANK_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("bank branch starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line
            .strip_prefix("bank branch 1 listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        BranchProcess { child: Some(child), addr }
    }

    async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr)).unwrap().connect().await.unwrap()
    }

    /// Stops the process as a crash would.
    fn kill(mut self) {
        let child = self.child.take().unwrap();
        Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap();
        wait_timeout(child, Duration::from_secs(10)).expect("killed");
    }
}

impl Drop for BranchProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn w(origin: u64, seq: u64) -> WriteId {
    WriteId { origin: BranchId(origin), seq }
}

/// A deposit of 5 with id `write`, sent by branch `from`.
fn deposit(from: u64, write: WriteId, depends_on: &[WriteId]) -> pb::Propagation {
    pb::Propagation::from(&Propagation {
        from: BranchId(from),
        write,
        customer: CustomerId(7),
        event: EventId(1),
        op: Op::Deposit(Cents::units(5)),
        depends_on: depends_on.iter().copied().collect(),
        clock: 3,
    })
}

/// Customer 1's request `op` at branch 1, answered.
async fn ask(channel: &Channel, op: Op) -> bank_core::branch::Reply {
    let request = Request {
        customer: CustomerId(1),
        event: EventId(1),
        branch: BranchId(1),
        op,
        clock: 0,
        guarantees: Guarantees::NONE,
        write_set: WriteSet::new(),
        read_set: WriteSet::new(),
    };
    let reply = tokio::time::timeout(
        Duration::from_secs(10),
        CustomerClient::new(channel.clone()).request(pb::CustomerRequest::from(&request)),
    )
    .await
    .expect("answered in time")
    .expect("served")
    .into_inner();
    bank_core::branch::Reply::try_from(&reply).unwrap()
}

/// A customer's deposit (`Some`) or query (`None`) at branch 1: the
/// balance after it and the id it got.
async fn customer(channel: &Channel, deposit: Option<i64>) -> (Cents, Option<WriteId>) {
    let op = deposit.map_or(Op::Query, |units| Op::Deposit(Cents::units(units)));
    let reply = ask(channel, op).await;
    match reply.outcome {
        Outcome::Success { balance } => (balance, reply.write),
        other => panic!("{other:?}"),
    }
}

fn data_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bank-hostile-rpc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn hostile_peer_messages_are_refused_and_the_branch_keeps_serving() {
    let data = data_dir("peers");
    let branch = BranchProcess::start(&data);
    let channel = branch.channel().await;
    let mut replica = ReplicaClient::new(channel.clone());

    let oversized: Vec<pb::Propagation> =
        (1..=MAX_BATCH_WRITES as u64 + 1).map(|s| deposit(2, w(2, s), &[])).collect();
    let batches: Vec<(&str, Vec<pb::Propagation>, Code, String)> = vec![
        (
            "its own write, never issued",
            vec![deposit(2, w(1, u64::MAX), &[])],
            Code::PermissionDenied,
            "write w1.18446744073709551615: it claims to be branch 1's own".into(),
        ),
        (
            "a write of a branch outside the bank",
            vec![deposit(2, w(99, 1), &[])],
            Code::PermissionDenied,
            "write w99.1: its origin, branch 99, is not a branch of this bank".into(),
        ),
        (
            "a stranger's message",
            vec![deposit(99, w(2, 1), &[])],
            Code::PermissionDenied,
            "from branch 99, which is not one of its peers".into(),
        ),
        ("seq 0", vec![deposit(2, w(2, 0), &[])], Code::InvalidArgument, "w2.0".into()),
        (
            "a jump past every write known",
            vec![deposit(2, w(2, MAX_SEQ_AHEAD + 1), &[])],
            Code::InvalidArgument,
            format!("w2.{}", MAX_SEQ_AHEAD + 1),
        ),
        (
            "an impossible dependency",
            vec![deposit(2, w(2, 1), &[w(2, u64::MAX)])],
            Code::InvalidArgument,
            "depends on w2.18446744073709551615".into(),
        ),
        (
            "one bad write in a good batch",
            vec![deposit(2, w(2, 1), &[]), deposit(2, w(2, 2), &[]), deposit(2, w(99, 1), &[])],
            Code::PermissionDenied,
            "w99.1".into(),
        ),
        (
            "a stamp above the largest clock",
            vec![pb::Propagation { clock: u64::MAX, ..deposit(2, w(2, 1), &[]) }],
            Code::InvalidArgument,
            "stamped with clock 18446744073709551615".into(),
        ),
        (
            "an amount above the maximum",
            vec![pb::Propagation { amount_cents: i64::MAX, ..deposit(2, w(2, 1), &[]) }],
            Code::InvalidArgument,
            "is above the maximum 999999999999999 cents".into(),
        ),
        ("an oversized batch", oversized, Code::InvalidArgument, "at most 10000".into()),
    ];
    for (what, writes, code, named) in batches {
        let status =
            replica.propagate_batch(pb::PropagationBatch { writes }).await.expect_err(what);
        assert_eq!(status.code(), code, "{what}: {}", status.message());
        assert!(
            status.message().contains(&named),
            "{what}: {:?} lacks {named:?}",
            status.message()
        );
    }
    for (what, from, have) in [
        ("a stranger's pull", 99, WriteSet::new()),
        ("a pull naming a stranger", 2, [w(99, 1)].into_iter().collect::<WriteSet>()),
    ] {
        let request =
            pb::PullRequest { from_branch: from, have: Some((&have).into()), answer_back: true };
        let status = replica.pull(request).await.expect_err(what);
        assert!(
            matches!(status.code(), Code::PermissionDenied | Code::InvalidArgument),
            "{what}: {status:?}"
        );
        assert!(status.message().contains("branch 99"), "{what}: {}", status.message());
    }

    // Nothing of it was applied; customers are served with fresh ids.
    assert_eq!(customer(&channel, None).await.0, Cents::units(100));
    assert_eq!(customer(&channel, Some(10)).await, (Cents::units(110), Some(w(1, 1))));
    // A plausible peer write is still taken.
    replica
        .propagate_batch(pb::PropagationBatch { writes: vec![deposit(2, w(2, 1), &[])] })
        .await
        .expect("an honest write");
    assert_eq!(customer(&channel, None).await.0, Cents::units(115));

    // After a crash it comes back from its data directory, and goes on.
    branch.kill();
    let branch = BranchProcess::start(&data);
    let channel = branch.channel().await;
    assert_eq!(customer(&channel, None).await.0, Cents::units(115));
    assert_eq!(customer(&channel, Some(1)).await, (Cents::units(116), Some(w(1, 2))));
    drop(branch);
    let _ = std::fs::remove_dir_all(&data);
}

/// A branch killed after answering many queries since its last write comes
/// back with a clock above every clock it answered with: it had reserved
/// them in its store (before, it restarted from its last stored write's
/// clock and used the same clocks again).
#[tokio::test]
async fn a_killed_branch_restarts_above_every_clock_it_used() {
    let data = data_dir("clock");
    let branch = BranchProcess::start(&data);
    let channel = branch.channel().await;
    customer(&channel, Some(5)).await;
    let mut used = 0;
    for _ in 0..1_500 {
        used = used.max(ask(&channel, Op::Query).await.clock);
    }
    assert!(used > 1_500, "each query ticks the clock: {used}");
    branch.kill();
    let branch = BranchProcess::start(&data);
    let channel = branch.channel().await;
    let after = ask(&channel, Op::Query).await.clock;
    assert!(after > used, "after the restart {after}, before it {used}");
    drop(branch);
    let _ = std::fs::remove_dir_all(&data);
}
