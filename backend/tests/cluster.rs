//! The real cluster: tonic servers on loopback, real gRPC for every
//! propagation. No sleeps: every wait is on an acknowledgement or a reply.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use bank_backend::cluster::local::{Cluster, ClusterConfig};
use bank_backend::customers::runner::{run_scenario_on, RunHooks};
use bank_backend::error::RunError;
use bank_backend::net::transport::channel_to;
use bank_core::branch::PropagationMode;
use bank_core::session::Session;
use bank_core::*;
use bank_proto as pb;
use bank_proto::admin_client::AdminClient;
use bank_proto::customer_client::CustomerClient;

fn ev(id: u64, op: Op, branch: u64) -> ScriptEvent {
    ScriptEvent { id: EventId(id), op, branch: BranchId(branch), line: 0 }
}

fn scenario(branches: u64, start: i64, customers: Vec<Vec<ScriptEvent>>) -> Scenario {
    Scenario {
        shape: InputShape::EventsWithBranch,
        branches: (1..=branches)
            .map(|id| BranchSpec { id: BranchId(id), balance: Cents::units(start), line: 0 })
            .collect(),
        customers: customers
            .into_iter()
            .enumerate()
            .map(|(i, events)| CustomerScript { id: CustomerId(i as u64 + 1), line: 0, events })
            .collect(),
        warnings: vec![],
    }
}

async fn start(s: &Scenario, propagation: PropagationMode) -> Cluster {
    let mut config = ClusterConfig::for_scenario(s);
    config.propagation = propagation;
    Cluster::start(config).await.expect("cluster starts")
}

#[tokio::test]
async fn reference_test_1_over_grpc() {
    let s = scenario(
        2,
        0,
        vec![vec![
            ev(1, Op::Deposit(Cents::units(400)), 1),
            ev(2, Op::Withdraw(Cents::units(400)), 2),
            ev(3, Op::Query, 2),
        ]],
    );
    let cluster = start(&s, PropagationMode::Sequential).await;
    let record =
        run_scenario_on(&s, &cluster.channels(), Schedule::Sequential, RunHooks::default())
            .await
            .unwrap();
    cluster.shutdown().await;
    let results = &record.customers[0].results;
    assert!(results.iter().all(|r| r.outcome.is_success()));
    assert_eq!(results[2].outcome.balance(), Cents::ZERO);
    for b in &record.branches {
        assert_eq!(b.balance, Cents::ZERO, "{}", b.id);
        assert_eq!(
            b.write_sets,
            BTreeMap::from([(CustomerId(1), vec![EventId(1), EventId(2)])]),
            "{}",
            b.id
        );
    }
    // Branch 2 learned of the deposit through a propagation from branch 1.
    let b2 = &record.branches[1];
    assert!(b2.log.iter().any(|e| e.kind == LogKind::PropagateExecuted
        && e.peer == Some(BranchId(1))
        && e.event == EventId(1)));
}

#[tokio::test]
async fn an_external_grpc_customer_sees_propagation_to_every_branch() {
    // Use the cluster exactly as a student's client (or the browser) would:
    // plain gRPC calls with the proto messages.
    let s = scenario(3, 100, vec![]);
    let cluster = start(&s, PropagationMode::Sequential).await;
    // The cluster's branches require its token; its channels carry it.
    let channel = |b: u64| cluster.channels()[&BranchId(b)].clone();
    let mut session = Session::new(CustomerId(9));
    let request = session.request(EventId(1), BranchId(2), Op::Deposit(Cents(2550)));
    let reply = CustomerClient::new(channel(2))
        .request(pb::CustomerRequest::from(&request))
        .await
        .unwrap()
        .into_inner();
    match reply.result {
        Some(pb::customer_reply::Result::Success(ok)) => {
            assert_eq!(ok.balance_cents, 12550);
            assert_eq!(ok.write, Some(pb::WriteId { origin_branch: 2, seq: 1 }));
        }
        other => panic!("unexpected {other:?}"),
    }
    // Synchronous propagation: by the time the customer has its answer,
    // every branch has applied the write.
    for b in 1..=3 {
        let state = AdminClient::new(channel(b))
            .inspect(pb::InspectRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(state.balance_cents, 12550, "branch {b}");
    }
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_local_program_without_the_clusters_token_is_refused() {
    // Issue 17: any process on the machine could inject into `bank run`'s
    // loopback branches. Each cluster now has a random token of its own.
    let s = scenario(2, 100, vec![]);
    let cluster = start(&s, PropagationMode::Sequential).await;
    let stranger = channel_to(cluster.addrs()[&BranchId(1)]);
    let mut session = Session::new(CustomerId(1));
    let request = session.request(EventId(1), BranchId(1), Op::Deposit(Cents::units(1)));
    let customer = CustomerClient::new(stranger.clone())
        .request(pb::CustomerRequest::from(&request))
        .await
        .expect_err("no token");
    let write = Propagation {
        from: BranchId(2),
        write: WriteId { origin: BranchId(2), seq: 1 },
        customer: CustomerId(1),
        event: EventId(1),
        op: Op::Deposit(Cents::units(1_000)),
        depends_on: WriteSet::new(),
        clock: 1,
    };
    let peer = bank_proto::replica_client::ReplicaClient::new(stranger.clone())
        .propagate_batch(pb::PropagationBatch { writes: vec![(&write).into()] })
        .await
        .expect_err("no token");
    let admin = AdminClient::new(stranger)
        .inspect(pb::InspectRequest::default())
        .await
        .expect_err("no token");
    for status in [customer, peer, admin] {
        assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status:?}");
    }
    // The cluster's own channels carry it; nothing was injected.
    let state = AdminClient::new(cluster.channels()[&BranchId(1)].clone())
        .inspect(pb::InspectRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(state.balance_cents, 10_000);
    cluster.shutdown().await;
}

#[tokio::test]
async fn refusals_are_results_not_errors() {
    let s = scenario(2, 10, vec![]);
    let cluster = start(&s, PropagationMode::Sequential).await;
    let mut client = CustomerClient::new(cluster.channels()[&BranchId(1)].clone());
    let mut session = Session::new(CustomerId(1));
    // Overdraft: fails, nothing changes, nothing propagates.
    let r = client
        .request(pb::CustomerRequest::from(&session.request(
            EventId(1),
            BranchId(1),
            Op::Withdraw(Cents::units(11)),
        )))
        .await
        .unwrap()
        .into_inner();
    let Some(pb::customer_reply::Result::Failure(f)) = r.result else { panic!("{r:?}") };
    assert_eq!(f.reason, pb::FailureReason::InsufficientFunds as i32);
    assert!(f.message.contains("exceeds balance 10.00"), "{}", f.message);
    // Addressed to branch 2 but sent to branch 1.
    let r = client
        .request(pb::CustomerRequest::from(&session.request(EventId(2), BranchId(2), Op::Query)))
        .await
        .unwrap()
        .into_inner();
    let Some(pb::customer_reply::Result::Failure(f)) = r.result else { panic!("{r:?}") };
    assert_eq!(f.reason, pb::FailureReason::WrongBranch as i32);
    // A malformed message is a gRPC error with a reason.
    let mut bad =
        pb::CustomerRequest::from(&session.request(EventId(3), BranchId(1), Op::Deposit(Cents(1))));
    bad.operation = 42;
    let status = client.request(bad).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().contains("unknown operation 42"));
    cluster.shutdown().await;
}

#[tokio::test]
async fn concurrent_customers_converge_and_conserve_money() {
    // 20 customers at once on 5 branches, each depositing twice and
    // withdrawing once at branches of its choice: every replica must end
    // with the same balance, the start plus all successful writes.
    let customers: Vec<Vec<ScriptEvent>> = (0..20u64)
        .map(|c| {
            vec![
                ev(c * 4 + 1, Op::Deposit(Cents::units(10 + c as i64)), c % 5 + 1),
                ev(c * 4 + 2, Op::Withdraw(Cents::units(5)), (c + 1) % 5 + 1),
                ev(c * 4 + 3, Op::Deposit(Cents(c as i64)), (c + 2) % 5 + 1),
                ev(c * 4 + 4, Op::Query, (c + 3) % 5 + 1),
            ]
        })
        .collect();
    let s = scenario(5, 0, customers);
    for propagation in [PropagationMode::Sequential, PropagationMode::Parallel] {
        let cluster = start(&s, propagation).await;
        let record =
            run_scenario_on(&s, &cluster.channels(), Schedule::Concurrent, RunHooks::default())
                .await
                .unwrap();
        cluster.shutdown().await;
        let mut expected = 0i64;
        for (script, rec) in s.customers.iter().zip(&record.customers) {
            for (event, result) in script.events.iter().zip(&rec.results) {
                if result.outcome.is_success() {
                    match event.op {
                        Op::Deposit(a) => expected += a.0,
                        Op::Withdraw(a) => expected -= a.0,
                        Op::Query => {}
                    }
                }
            }
        }
        for b in &record.branches {
            assert_eq!(b.balance, Cents(expected), "{propagation:?}: {} diverged", b.id);
        }
    }
}

#[tokio::test]
async fn background_propagation_keeps_read_your_writes_over_grpc() {
    // The customer is answered before the peers have the write; its next
    // request at another branch must still see it (the branch parks it).
    let s = scenario(
        4,
        0,
        vec![(1..=40u64)
            .map(|i| {
                if i % 2 == 1 {
                    ev(i, Op::Deposit(Cents::units(1)), i % 4 + 1)
                } else {
                    ev(i, Op::Query, i % 4 + 1)
                }
            })
            .collect()],
    );
    let cluster = start(&s, PropagationMode::Background).await;
    let record =
        run_scenario_on(&s, &cluster.channels(), Schedule::Sequential, RunHooks::default())
            .await
            .unwrap();
    cluster.shutdown().await;
    let results = &record.customers[0].results;
    for (i, r) in results.iter().enumerate() {
        if r.op == OpKind::Query {
            let deposits_before = (i as i64 + 1) / 2;
            assert_eq!(
                r.outcome.balance(),
                Cents::units(deposits_before),
                "query {} missed the session's writes",
                r.event
            );
        }
    }
    // The run's final states are taken once nothing is in flight: every
    // branch has every write, although customers were answered before that.
    let all: Vec<EventId> = (1..=40u64).filter(|i| i % 2 == 1).map(EventId).collect();
    for b in &record.branches {
        assert_eq!(b.balance, Cents::units(20), "{}", b.id);
        assert_eq!(b.write_sets[&CustomerId(1)], all, "{}", b.id);
    }
}

#[tokio::test]
async fn a_taken_port_is_a_clear_error_and_shutdown_frees_ports() {
    let s = scenario(2, 0, vec![]);
    let cluster = start(&s, PropagationMode::Sequential).await;
    let taken: SocketAddr = cluster.addrs()[&BranchId(1)];
    let mut config = ClusterConfig::new(vec![(BranchId(1), Cents::ZERO)]);
    config.base_port = Some(taken.port());
    match Cluster::start(config).await {
        Err(RunError::Bind { branch, addr, .. }) => {
            assert_eq!(branch, 1);
            assert_eq!(addr, taken.to_string());
        }
        other => panic!("expected a bind error, got {other:?}"),
    }
    let addrs: Vec<SocketAddr> = cluster.addrs().values().copied().collect();
    cluster.shutdown().await;
    for addr in addrs {
        std::net::TcpListener::bind(addr)
            .unwrap_or_else(|e| panic!("{addr} still taken after shutdown: {e}"));
    }
}

#[tokio::test]
async fn a_repaired_branch_is_read_once_its_pulls_are_answered() {
    // Issue 17: `bank run` with a branch crashed for good failed now and
    // then with "the branches did not converge after 20 anti-entropy
    // rounds": the end-of-run repair restarted the branch and started its
    // pulls, and each round read the branches before the pulls' answers.
    let s = scenario(2, 0, vec![]);
    let cluster = start(&s, PropagationMode::Background).await;
    let channel = |b: u64| cluster.channels()[&BranchId(b)].clone();
    let control = cluster.control();
    assert!(control.crash(BranchId(2)).await);
    let mut session = Session::new(CustomerId(1));
    let request = session.request(EventId(1), BranchId(1), Op::Deposit(Cents::units(100)));
    CustomerClient::new(channel(1)).request(pb::CustomerRequest::from(&request)).await.unwrap();
    let quiet = pb::InspectRequest { wait_until_quiet: true, brief: true };
    // Quiet once its link has given up on branch 2 (the write then reaches
    // branch 2 only by anti-entropy).
    AdminClient::new(channel(1)).inspect(quiet).await.unwrap();
    control.repair().await.unwrap();
    let state = AdminClient::new(channel(2)).inspect(quiet).await.unwrap().into_inner();
    assert_eq!(state.balance_cents, 10_000, "read before its pull was answered");
    cluster.shutdown().await;
}
