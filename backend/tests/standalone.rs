//! Branches as separate servers (what `bank branch` runs), driven as an
//! external cluster (what `bank run --cluster` does): a course input gives
//! the course's output; the token keeps strangers out; TLS works with a
//! certificate made at test time; Trace reports every log entry.
//!
//! The branches here share the test's process (each on its own listener
//! bound first, port 0, so no port can clash); the same code in separate
//! processes and network namespaces is `tests/netns.rs`.

mod common;
use common::{course_text, repo};

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use bank_backend::branch::standalone::{self, BranchProcess};
use bank_backend::cluster::file::{BranchEntry, ClusterFile};
use bank_backend::cluster::remote::ExternalCluster;
use bank_backend::customers::runner::run_scenario_on;
use bank_backend::net::auth::Token;
use bank_backend::net::transport::{ClientSecurity, TlsFiles};
use bank_backend::observe::Activity;
use bank_core::branch::PropagationMode;
use bank_core::formats::{self, OutputFormat, OutputOptions};
use bank_core::{
    BranchId, BranchSpec, Cents, ClockScheme, CustomerId, CustomerScript, EventId, InputShape,
    LogKind, Op, Scenario, Schedule, ScriptEvent,
};
use bank_proto as pb;
use bank_proto::admin_client::AdminClient;
use bank_proto::replica_client::ReplicaClient;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

const P1_INPUT: &str = "p1-branch-propagation/jthak002+cse531/input_small.json";
const P1_OUTPUT: &str = "p1-branch-propagation/anuragbnrj+cse531/output.json";

/// Three branch servers on loopback, and the cluster file that lists them.
struct Servers {
    file: ClusterFile,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Servers {
    async fn start(n: u64, token: Option<&str>, tls: TlsFiles) -> Servers {
        Servers::start_in(n, token, tls, None).await
    }

    /// With `data`: each branch keeps its store in `data/branch-<id>/`.
    async fn start_in(n: u64, token: Option<&str>, tls: TlsFiles, data: Option<&Path>) -> Servers {
        let mut listeners = BTreeMap::new();
        for id in 1..=n {
            listeners.insert(BranchId(id), TcpListener::bind("127.0.0.1:0").await.unwrap());
        }
        let branches: BTreeMap<BranchId, BranchEntry> = listeners
            .iter()
            .map(|(id, l)| {
                (*id, BranchEntry { addr: l.local_addr().unwrap().to_string(), balance: None })
            })
            .collect();
        let file = ClusterFile { branches, token: token.map(str::to_owned), tls };
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        for (id, listener) in listeners {
            let mut process = BranchProcess::from_cluster_file(&file, id).unwrap();
            process.data_dir = data.map(|d| d.join(format!("branch-{}", id.0)));
            let mut stop_rx = stop_rx.clone();
            let shutdown = async move {
                let _ = stop_rx.wait_for(|s| *s).await;
            };
            tasks.push(tokio::spawn(async move {
                standalone::serve(process, listener, shutdown)
                    .await
                    .expect("branch serves until stopped");
            }));
        }
        Servers { file, stop, tasks }
    }

    fn driver(&self, token: Option<&str>) -> ExternalCluster {
        let security = ClientSecurity {
            token: token.map(|t| Token::new(t).unwrap()),
            tls: self.file.tls.client().unwrap(),
        };
        ExternalCluster::connect(&self.file, &security).unwrap()
    }

    /// Stops every branch and waits until they are gone (bounded).
    async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("branch stops promptly")
                .unwrap();
        }
    }
}

/// Runs the project 1 sample on `cluster` and returns the p1 output.
async fn run_p1(cluster: &ExternalCluster) -> String {
    let scenario = formats::parse_input(&course_text(P1_INPUT), P1_INPUT).unwrap();
    let format = OutputFormat::P1;
    cluster
        .reset(&scenario, format.clock_scheme(), PropagationMode::Sequential)
        .await
        .expect("reset");
    let record = run_scenario_on(
        &scenario,
        cluster.channels(),
        format.default_schedule(),
        Default::default(),
    )
    .await
    .expect("run completes");
    formats::render(format, &scenario, &record, &OutputOptions::default())
}

#[tokio::test]
async fn a_course_input_on_branch_servers_prints_the_expected_output_run_after_run() {
    let servers = Servers::start(3, None, TlsFiles::default()).await;
    let cluster = servers.driver(None);
    // Twice: the second run starts from the reset balances, not the first
    // run's final ones.
    for _ in 0..2 {
        let out =
            tokio::time::timeout(Duration::from_secs(20), run_p1(&cluster)).await.expect("bounded");
        assert_eq!(out.trim_end(), course_text(P1_OUTPUT).trim_end());
    }
    servers.stop().await;
}

#[tokio::test]
async fn a_reset_refuses_an_input_whose_branches_are_not_the_clusters() {
    let servers = Servers::start(3, None, TlsFiles::default()).await;
    let cluster = servers.driver(None);
    let two = formats::parse_input(
        &std::fs::read_to_string(repo("examples/seed-test-1.json")).unwrap(),
        "seed",
    )
    .unwrap();
    let e = cluster
        .reset(&two, Default::default(), PropagationMode::Sequential)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the input has branches [1, 2] but the cluster file lists [1, 2, 3]"),
        "{e}"
    );
    servers.stop().await;
}

#[tokio::test]
async fn with_a_token_strangers_are_refused_and_the_cluster_still_works() {
    let servers = Servers::start(3, Some("s3cret"), TlsFiles::default()).await;
    let addr = servers.file.branches[&BranchId(1)].addr.clone();

    for (token, expected) in [(None, "requires a token"), (Some("guess"), "wrong token")] {
        let security = ClientSecurity { token: token.map(|t| Token::new(t).unwrap()), tls: None };
        let channel = bank_backend::net::transport::connect_lazy(&addr, &security).unwrap();
        let status = AdminClient::new(channel)
            .inspect(pb::InspectRequest { wait_until_quiet: false, brief: true })
            .await
            .expect_err("refused");
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert!(status.message().contains(expected), "{}", status.message());
    }
    // A reset without the token is a control call: refused too.
    let scenario = formats::parse_input(&course_text(P1_INPUT), P1_INPUT).unwrap();
    let stranger = servers.driver(Some("guess"));
    let e = stranger
        .reset(&scenario, Default::default(), PropagationMode::Sequential)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("wrong token"), "{e}");

    // With it, everything (including branch-to-branch propagation) works.
    let out =
        tokio::time::timeout(Duration::from_secs(20), run_p1(&servers.driver(Some("s3cret"))))
            .await
            .expect("bounded");
    assert_eq!(out.trim_end(), course_text(P1_OUTPUT).trim_end());
    servers.stop().await;
}

/// A self-signed certificate for 127.0.0.1 and localhost, in `dir`.
fn self_signed(dir: &Path) -> TlsFiles {
    std::fs::create_dir_all(dir).unwrap();
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert = dir.join("branch.pem");
    let key = dir.join("branch.key");
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    TlsFiles { ca: Some(cert.clone()), cert: Some(cert), key: Some(key), domain: None }
}

#[tokio::test]
async fn with_tls_the_cluster_works_and_plain_clients_are_refused() {
    let dir = std::env::temp_dir().join(format!("bank-tls-test-{}", std::process::id()));
    let tls = self_signed(&dir);
    let servers = Servers::start(3, Some("s3cret"), tls).await;
    let out =
        tokio::time::timeout(Duration::from_secs(20), run_p1(&servers.driver(Some("s3cret"))))
            .await
            .expect("bounded");
    assert_eq!(out.trim_end(), course_text(P1_OUTPUT).trim_end());

    // Plain HTTP/2 to a TLS port gets no answer it can read.
    let addr = servers.file.branches[&BranchId(1)].addr.clone();
    let plain = ClientSecurity { token: Some(Token::new("s3cret").unwrap()), tls: None };
    let channel = bank_backend::net::transport::connect_lazy(&addr, &plain).unwrap();
    let refused = tokio::time::timeout(
        Duration::from_secs(10),
        AdminClient::new(channel)
            .inspect(pb::InspectRequest { wait_until_quiet: false, brief: true }),
    )
    .await
    .expect("bounded");
    assert!(refused.is_err(), "a plain client must not get through a TLS port");
    servers.stop().await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn trace_reports_every_branch_log_entry_with_the_branch_state() {
    let servers = Servers::start(3, None, TlsFiles::default()).await;
    let cluster = servers.driver(None);
    let (sink, mut activity) = tokio::sync::mpsc::unbounded_channel();
    let watchers = cluster.watch(sink).await.unwrap();
    let out =
        tokio::time::timeout(Duration::from_secs(20), run_p1(&cluster)).await.expect("bounded");
    assert_eq!(out.trim_end(), course_text(P1_OUTPUT).trim_end());

    // The deposit of 170 at branch 2 is executed there and at both peers.
    let mut executed_170 = BTreeMap::new();
    while executed_170.len() < 3 {
        let item = tokio::time::timeout(Duration::from_secs(10), activity.recv())
            .await
            .expect("entries arrive")
            .unwrap();
        if let Activity::Logged { branch, entry, balance, .. } = item {
            if matches!(entry.kind, LogKind::Execute | LogKind::PropagateExecuted)
                && entry.amount.0 == 17000
            {
                executed_170.insert(branch, balance);
            }
        }
    }
    assert!(executed_170.values().all(|b| b.0 == 57000), "{executed_170:?}");
    servers.stop().await;
    // The branches end their streams when they stop.
    for w in watchers {
        tokio::time::timeout(Duration::from_secs(10), w).await.expect("stream ends").unwrap();
    }
}

#[tokio::test]
async fn a_propagation_from_another_run_is_refused() {
    let servers = Servers::start(2, None, TlsFiles::default()).await;
    let cluster = servers.driver(None);
    let scenario = formats::parse_input(
        &std::fs::read_to_string(repo("examples/seed-test-1.json")).unwrap(),
        "seed",
    )
    .unwrap();
    cluster.reset(&scenario, Default::default(), PropagationMode::Sequential).await.unwrap();

    let channel = cluster.channels()[&BranchId(2)].clone();
    let write = pb::Propagation {
        from_branch: 1,
        write: Some(pb::WriteId { origin_branch: 1, seq: 1 }),
        customer_id: 1,
        event_id: 1,
        operation: pb::Operation::Deposit as i32,
        amount_cents: 100,
        depends_on: None,
        clock: 1,
    };
    let mut stale = tonic::Request::new(pb::PropagationBatch { writes: vec![write] });
    stale.metadata_mut().insert("bank-epoch", 1u64.into());
    let status =
        ReplicaClient::new(channel.clone()).propagate_batch(stale).await.expect_err("refused");
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    assert!(status.message().contains("from epoch 1"), "{}", status.message());
    let state = AdminClient::new(channel)
        .inspect(pb::InspectRequest { wait_until_quiet: true, brief: true })
        .await
        .unwrap();
    assert_eq!(state.into_inner().balance_cents, 0, "the stale write was not applied");
    servers.stop().await;
}

/// `bank serve --cluster`: the lab drives branch servers it did not start,
/// and its history is in causal order as in-process.
#[tokio::test]
async fn the_lab_runs_a_scenario_on_branch_servers_and_records_their_messages_in_order() {
    use bank_backend::{lab::examples, lab::Lab};
    use pb::lab_event::Event;

    let servers = Servers::start(3, Some("s3cret"), TlsFiles::default()).await;
    let lab = Lab::with_external(examples::all(), servers.driver(Some("s3cret")));
    let text = examples::find("project1-sample").unwrap().text;
    lab.load(text, "project1-sample", None).await.expect("loads on the cluster");
    let (_, mut live, _) = lab.watch().await;
    lab.control(pb::Command::Play, 50.0).await.unwrap();

    let mut history = Vec::new();
    let output = loop {
        let event =
            tokio::time::timeout(Duration::from_secs(20), live.recv()).await.expect("progress");
        if let Some(Event::Finished(f)) = &event.event {
            break f.output_json.clone();
        }
        history.push(event);
    };
    assert_eq!(output.trim_end(), course_text(P1_OUTPUT).trim_end());

    // Every propagation is recorded as sent before it is recorded as received.
    let mut sent = Vec::new();
    let mut received = 0;
    for event in &history {
        if let Some(Event::BranchLogged(l)) = &event.event {
            let e = l.entry.as_ref().unwrap();
            let key = (e.customer_id, e.event_id);
            match pb::LogKind::try_from(e.kind) {
                Ok(pb::LogKind::PropagateSent) => sent.push((l.branch_id, e.peer, key)),
                Ok(pb::LogKind::PropagateReceived) => {
                    received += 1;
                    assert!(
                        sent.contains(&(e.peer, l.branch_id, key)),
                        "received before sent: {l:?}"
                    );
                }
                _ => {}
            }
        }
    }
    assert_eq!(received, 4, "two writes, each to two peers");

    // A scenario with other branches than the cluster's is refused clearly.
    let e = lab
        .load(examples::find("seed-test-1").unwrap().text, "seed-test-1", None)
        .await
        .unwrap_err();
    assert!(e.message.contains("the cluster file lists [1, 2, 3]"), "{}", e.message);
    lab.stop().await;
    servers.stop().await;
}

/// A branch process keeps what it applied in `--data-dir`: stopped and
/// started again, every branch comes back with its balance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branch_processes_come_back_from_their_data_directories() {
    let data = std::env::temp_dir().join(format!("bank-standalone-data-{}", std::process::id()));
    let servers = Servers::start_in(2, None, TlsFiles::default(), Some(&data)).await;
    let cluster = servers.driver(None);
    let ev = |id, op, b| ScriptEvent { id: EventId(id), op, branch: BranchId(b), line: 0 };
    let scenario = Scenario {
        shape: InputShape::EventsWithBranch,
        branches: (1..=2)
            .map(|id| BranchSpec { id: BranchId(id), balance: Cents::units(10), line: 0 })
            .collect(),
        customers: vec![CustomerScript {
            id: CustomerId(1),
            line: 0,
            events: vec![
                ev(1, Op::Deposit(Cents::units(100)), 1),
                ev(2, Op::Deposit(Cents::units(50)), 2),
            ],
        }],
        warnings: vec![],
    };
    cluster
        .reset(&scenario, ClockScheme::default(), PropagationMode::Sequential)
        .await
        .expect("reset");
    run_scenario_on(&scenario, cluster.channels(), Schedule::Sequential, Default::default())
        .await
        .expect("run completes");
    servers.stop().await;

    // A new life of every branch process, on new ports, with no reset: each
    // rejoins the run it was reset into (its balance of 10, its epoch), and
    // a new write still reaches every branch.
    let servers = Servers::start_in(2, None, TlsFiles::default(), Some(&data)).await;
    let more = Scenario {
        customers: vec![CustomerScript {
            id: CustomerId(2),
            line: 0,
            events: vec![ev(3, Op::Deposit(Cents::units(1)), 1)],
        }],
        ..scenario.clone()
    };
    run_scenario_on(
        &more,
        servers.driver(None).channels(),
        Schedule::Sequential,
        Default::default(),
    )
    .await
    .expect("run completes");
    for (id, channel) in servers.driver(None).channels() {
        let state = AdminClient::new(channel.clone())
            .inspect(bank_proto::InspectRequest { wait_until_quiet: true, brief: false })
            .await
            .expect("inspect")
            .into_inner();
        assert_eq!(state.balance_cents, 16_100, "branch {} recovered its run's balance", id.0);
        assert_eq!(
            state.applied.len(),
            3,
            "branch {} recovered both writes and got the new one",
            id.0
        );
    }
    servers.stop().await;
    let _ = std::fs::remove_dir_all(&data);
}
