//! Consistency under asynchrony and faults on the real cluster: real gRPC
//! servers on loopback, real crashes (the server closes its port, the node's
//! memory is gone, the store on disk stays), planned link delays and cuts.
//!
//! Waiting is always on an answer or a quiet branch, never on a timer; the
//! only clocks are the experiment's own planned delays and fault times.

use std::sync::Arc;

use bank_backend::cluster::local::{Cluster, ClusterConfig};
use bank_backend::customers::runner::{run_scenario_on, Repair, RunHooks};
use bank_core::branch::PropagationMode;
use bank_core::check::{self, Anomaly};
use bank_core::experiment::{parse_experiment, Experiment};
use bank_core::network::{Delay, Fault, NetworkPlan, TimedFault};
use bank_core::*;

fn repair_hook(cluster: &Cluster) -> Repair {
    let control = cluster.control();
    Repair(Arc::new(move || {
        let control = control.clone();
        Box::pin(async move { control.repair().await.expect("repair") })
    }))
}

/// Runs an experiment file on a real cluster with `guarantees`, playing its
/// planned faults, and checks the history.
async fn run_experiment(text: &str, guarantees: Guarantees) -> (RunRecord, check::Report) {
    let Experiment { scenario, settings } =
        parse_experiment(text, "demo").expect("valid experiment");
    let mut config = ClusterConfig::for_scenario(&scenario);
    config.propagation = settings.propagation.unwrap_or(PropagationMode::Background);
    config.network = settings.network.clone();
    config.seed = settings.seed.unwrap_or(0);
    let cluster = Cluster::start(config).await.expect("cluster starts");
    let plan = cluster.control().play_faults(settings.network.faults.clone());
    let hooks = RunHooks {
        guarantees: Some(guarantees),
        repair: Some(repair_hook(&cluster)),
        ..RunHooks::default()
    };
    let schedule = settings.schedule.unwrap_or(Schedule::Sequential);
    let record = run_scenario_on(&scenario, &cluster.channels(), schedule, hooks)
        .await
        .expect("run completes");
    plan.abort();
    cluster.shutdown().await;
    let history =
        History::from_record(&scenario, &record, &vec![guarantees; scenario.customers.len()]);
    (record, check::check(&history))
}

const DEMOS: [(&str, &str, Anomaly); 4] = [
    (
        "stale read",
        include_str!("../../examples/demo-stale-read.json"),
        Anomaly::Broke(Guarantee::ReadYourWrites),
    ),
    (
        "reads backwards",
        include_str!("../../examples/demo-reads-backwards.json"),
        Anomaly::Broke(Guarantee::MonotonicReads),
    ),
    (
        "write before cause",
        include_str!("../../examples/demo-write-before-cause.json"),
        Anomaly::Broke(Guarantee::WritesFollowReads),
    ),
    (
        "writes out of order",
        include_str!("../../examples/demo-writes-out-of-order.json"),
        Anomaly::Broke(Guarantee::MonotonicWrites),
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_demo_shows_its_anomaly_with_the_guarantee_off_and_not_with_it_on() {
    for (name, text, anomaly) in DEMOS {
        let (_, off) = run_experiment(text, Guarantees::NONE).await;
        assert!(
            off.count(anomaly) > 0,
            "{name}: expected {anomaly} with guarantees off:\n{}",
            off.render(5)
        );
        let (record, on) = run_experiment(text, Guarantees::ALL).await;
        assert_eq!(on.count(anomaly), 0, "{name}: {anomaly} with guarantees on:\n{}", on.render(5));
        assert_eq!(on.broken_promises().count(), 0, "{name}:\n{}", on.render(5));
        for c in &record.customers {
            for r in &c.results {
                assert!(
                    r.outcome.is_success(),
                    "{name}: with the guarantee on the request waits and succeeds: {r:?}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_withdrawals_overdraw_whatever_the_guarantees() {
    let text = include_str!("../../examples/demo-overdraft.json");
    for g in [Guarantees::NONE, Guarantees::ALL] {
        let (record, report) = run_experiment(text, g).await;
        assert!(report.count(Anomaly::Overdraft) > 0, "{g}: {}", report.render(5));
        assert!(
            record.branches.iter().all(|b| b.balance < Cents::ZERO),
            "{g}: the overdraft is everywhere"
        );
    }
}

/// A branch crashes in the middle of a run and restarts from its store; a
/// link is cut and healed; a tenth of all messages are lost. Every write a
/// customer had acknowledged ends up on every branch, once, and all branches
/// agree on the balance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_restart_and_partition_lose_no_acknowledged_write() {
    let ev = |id, op, b| ScriptEvent { id: EventId(id), op, branch: BranchId(b), line: 0 };
    let dep = |u| Op::Deposit(Cents::units(u));
    let scenario = Scenario {
        shape: InputShape::EventsWithBranch,
        branches: (1..=3)
            .map(|id| BranchSpec { id: BranchId(id), balance: Cents::ZERO, line: 0 })
            .collect(),
        customers: (1..=3)
            .map(|c| CustomerScript {
                id: CustomerId(c),
                line: 0,
                events: (0..8)
                    .map(|i| {
                        ev(
                            c * 100 + i,
                            if i % 4 == 3 { Op::Query } else { dep((c * 10 + i) as i64) },
                            1 + (c + i) % 3,
                        )
                    })
                    .collect(),
            })
            .collect(),
        warnings: vec![],
    };
    let mut config = ClusterConfig::for_scenario(&scenario);
    config.propagation = PropagationMode::Background;
    config.network = NetworkPlan {
        delay_ms: Delay::Between(1, 10),
        drop_percent: 10,
        faults: vec![
            TimedFault { at_ms: 10, fault: Fault::Crash(2) },
            TimedFault { at_ms: 30, fault: Fault::Cut([1, 3]) },
            TimedFault { at_ms: 150, fault: Fault::Restart(2) },
            TimedFault { at_ms: 200, fault: Fault::Heal([1, 3]) },
        ],
        ..NetworkPlan::default()
    };
    let faults = config.network.faults.clone();
    let dir = std::env::temp_dir().join(format!("bank-faults-test-{}", std::process::id()));
    config.data_dir = Some(dir.clone());
    let cluster = Cluster::start(config).await.expect("cluster starts");
    let plan = cluster.control().play_faults(faults);
    let hooks = RunHooks {
        guarantees: Some(Guarantees::ALL),
        repair: Some(repair_hook(&cluster)),
        ..RunHooks::default()
    };
    let record = run_scenario_on(&scenario, &cluster.channels(), Schedule::Concurrent, hooks)
        .await
        .expect("run completes");
    plan.await.expect("the plan played");
    assert!(cluster.control().down().await.is_empty(), "repaired: every branch is up");
    cluster.shutdown().await;

    let acknowledged: Vec<WriteId> =
        record.customers.iter().flat_map(|c| c.results.iter().filter_map(|r| r.write)).collect();
    assert!(!acknowledged.is_empty());
    // Writes a crash cut off before their answer may be applied too (the
    // customer saw a failure): the balance is exactly what was applied.
    let applied_total: i64 = record.branches[0].applied.iter().map(|a| a.write.op.amount().0).sum();
    assert_eq!(record.branches[0].balance, Cents(applied_total));
    let first = &record.branches[0];
    for b in &record.branches {
        assert_eq!(b.balance, first.balance, "branch {} diverged", b.id.0);
        let applied: Vec<WriteId> = b.applied.iter().map(|a| a.write.write).collect();
        for w in &acknowledged {
            assert_eq!(
                applied.iter().filter(|x| *x == w).count(),
                1,
                "branch {} has acknowledged {w} once",
                b.id.0
            );
        }
    }
    // Branch 2's store on disk holds what it applied, and would rebuild it.
    let (_, stored) =
        bank_backend::branch::store::Store::open(&dir, BranchId(2), false).expect("store readable");
    let rebuilt = Branch::recover(
        BranchConfig {
            id: BranchId(2),
            peers: vec![BranchId(1), BranchId(3)],
            initial_balance: Cents::ZERO,
            clock_scheme: ClockScheme::default(),
            propagation: PropagationMode::Background,
        },
        stored,
    );
    assert_eq!(rebuilt.balance(), first.balance, "the store rebuilds the final balance");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs an experiment file the way `bank run` does (faults at 0 ms in place
/// before the first customer, a repair at the end), bounded: a run that
/// hangs fails the test instead of hanging it. Returns the record and the
/// output in the experiment's course format.
async fn run_bounded(text: &str) -> (RunRecord, String) {
    let Experiment { scenario, settings } = parse_experiment(text, "test").expect("valid");
    let plan = bank_core::experiment::RunPlan::resolve(&scenario, &settings, Default::default());
    let mut config = ClusterConfig::for_scenario(&scenario);
    config.network = plan.network.clone();
    config.seed = plan.seed;
    config.propagation = plan.propagation;
    config.clock_scheme = plan.format.clock_scheme();
    let run = async {
        let cluster = Cluster::start(config).await.expect("cluster starts");
        let faults = cluster.control().start_faults(plan.network.faults.clone()).await.unwrap();
        let hooks = RunHooks {
            guarantees: Some(plan.guarantees),
            repair: Some(repair_hook(&cluster)),
            ..RunHooks::default()
        };
        let record = run_scenario_on(&scenario, &cluster.channels(), plan.schedule, hooks)
            .await
            .expect("run completes");
        faults.abort();
        cluster.shutdown().await;
        record
    };
    let record = tokio::time::timeout(std::time::Duration::from_secs(90), run)
        .await
        .expect("the run ends within 90 s");
    let output = bank_core::formats::render(plan.format, &scenario, &record, &Default::default());
    (record, output)
}

/// Three customers, ten events each over three branches, and `faults`.
fn faulty_input(faults: &str) -> String {
    let customers: Vec<String> = (1..=3)
        .map(|c| {
            let events: Vec<String> = (1..=10)
                .map(|e| {
                    let (id, b) = (c * 100 + e, 1 + (c + e) % 3);
                    match e % 3 {
                        0 => format!(r#"{{"id":{id},"interface":"query","branch":{b}}}"#),
                        1 => format!(
                            r#"{{"id":{id},"interface":"deposit","money":10,"branch":{b}}}"#
                        ),
                        _ => format!(
                            r#"{{"id":{id},"interface":"withdraw","money":5,"branch":{b}}}"#
                        ),
                    }
                })
                .collect();
            format!(r#"{{"id":{c},"type":"customer","events":[{}]}}"#, events.join(","))
        })
        .collect();
    let branches = (1..=3).map(|b| format!(r#"{{"id":{b},"type":"branch","balance":100}}"#));
    let bank: Vec<String> = customers.into_iter().chain(branches).collect();
    format!(r#"{{"seed":1,"network":{{"faults":{faults}}},"bank":[{}]}}"#, bank.join(","))
}

fn unavailable_failures(record: &RunRecord) -> usize {
    record.faults().filter(|(_, r)| matches!(r.fault(), Some(FailReason::Unavailable(_)))).count()
}

/// Two crashed branches: every request to them, and every write that needs
/// them (synchronous propagation), fails for its customer; the run ends,
/// and ends the same way every time (before: some runs hung, some ended
/// with an internal error, the rest succeeded).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_with_two_crashes_ends_the_same_way_every_time() {
    let text = faulty_input(r#"[{"at_ms":0,"crash":2},{"at_ms":0,"crash":3}]"#);
    let (first, output) = run_bounded(&text).await;
    assert!(unavailable_failures(&first) > 0, "requests to crashed branches fail: {output}");
    for run in 1..8 {
        let (record, again) = run_bounded(&text).await;
        assert_eq!(again, output, "run {run} printed another output");
        assert_eq!(record.customers, first.customers, "run {run} answered differently");
    }
}

/// A branch cut off from every peer and never rejoined: the run ends (it
/// hung, every time), writes that needed the isolated branch fail as
/// unavailable and say so, and after the end's repair every branch agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_isolated_forever_fails_its_writes_and_the_run_ends() {
    let (record, output) = run_bounded(&faulty_input(r#"[{"at_ms":0,"isolate":2}]"#)).await;
    assert!(unavailable_failures(&record) > 0, "{output}");
    let (_, why) = record.faults().next().unwrap();
    assert!(why.fault().unwrap().to_string().contains("is cut"), "{:?}", why.fault());
    let first = &record.branches[0];
    assert_eq!(record.branches.len(), 3);
    for b in &record.branches {
        assert_eq!(b.balance, first.balance, "branch {} converged after the repair", b.id.0);
    }
}
