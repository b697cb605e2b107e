//! A lab per viewer: many independent labs on one web origin, followers
//! that can only watch, and the server's limits, each refused in words.

mod common;

use std::time::Duration;

use bank_backend::lab::examples;
use bank_backend::lab::limits::{CompareBudget, Limits};
use bank_backend::lab::registry::LabsConfig;
use bank_proto as pb;
use common::lab_server::{LabFor, WebOrigin};
use pb::lab_event::Event;
use tonic::{Code, Streaming};

const LIMIT: Duration = Duration::from_secs(30);

fn no_dist() -> std::path::PathBuf {
    std::env::temp_dir().join("bank-labs-test-no-dist")
}

async fn load(lab: &mut LabFor, name: &str) -> Result<pb::ScenarioSummary, tonic::Status> {
    let text = examples::find(name).unwrap().text.to_owned();
    let reply = lab.load(pb::LoadRequest { text, name: name.into(), ..Default::default() }).await?;
    match reply.into_inner().result {
        Some(pb::load_reply::Result::Scenario(s)) => Ok(s),
        other => panic!("{name} did not load: {other:?}"),
    }
}

async fn control(
    lab: &mut LabFor,
    command: pb::Command,
) -> Result<pb::ControlReply, tonic::Status> {
    let request = pb::ControlRequest { command: command as i32, speed: 50.0 };
    lab.control(request).await.map(|r| r.into_inner())
}

async fn watch(lab: &mut LabFor) -> Streaming<pb::LabEvent> {
    lab.watch(pb::WatchRequest::default()).await.expect("watch opens").into_inner()
}

/// Reads `stream` until `stop` holds for an event (bounded), returning
/// everything read.
async fn read_until(
    stream: &mut Streaming<pb::LabEvent>,
    stop: impl Fn(&pb::LabEvent) -> bool,
) -> Vec<pb::LabEvent> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let next = tokio::time::timeout_at(deadline, stream.message())
            .await
            .unwrap_or_else(|_| panic!("no such lab event within {LIMIT:?}; {} seen", seen.len()));
        let event = next.expect("stream healthy").expect("stream open");
        let done = stop(&event);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

fn finished(e: &pb::LabEvent) -> Option<&str> {
    match &e.event {
        Some(Event::Finished(f)) => Some(f.output_json.as_str()),
        _ => None,
    }
}

/// What `bank run examples/<name>.json` prints.
fn bank_run(name: &str) -> String {
    let path = common::repo(&format!("examples/{name}.json"));
    let out = common::bank(&["run", path.to_str().unwrap()]);
    assert!(out.status.success(), "bank run {name}: {}", common::stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// Waits (bounded) until `condition` holds, checking every few milliseconds.
async fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + LIMIT;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "{what}: not within {LIMIT:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Whether every address can be bound again. A lab leaves the registry
/// before its servers have finished stopping (the sweeper stops it after
/// taking it out, so no call finds a half-stopped lab), so its ports come
/// free a moment after `labs.len()` drops: callers poll this.
fn all_free(addrs: &[std::net::SocketAddr]) -> bool {
    addrs.iter().all(|addr| std::net::TcpListener::bind(addr).is_ok())
}

/// Plays the lab `id` of `origin` to its end; its course output.
async fn play_to_the_end(origin: &WebOrigin, id: &str) -> String {
    let mut lab = origin.lab_client(id);
    let mut events = watch(&mut lab).await;
    control(&mut lab, pb::Command::Play).await.unwrap();
    let seen = read_until(&mut events, |e| finished(e).is_some()).await;
    // Only this lab's scenario in its history.
    let loaded = seen.iter().filter(|e| matches!(e.event, Some(Event::Loaded(_)))).count();
    assert_eq!(loaded, 1, "one history, this lab's");
    finished(seen.last().unwrap()).unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_labs_play_different_scenarios_at_once_each_to_its_own_output() {
    let origin = WebOrigin::start(WebOrigin::config(), &no_dist()).await;
    let (a, b) = (origin.open_new().await, origin.open_new().await);
    assert_ne!(a.lab_id, b.lab_id);
    assert_eq!(a.role(), pb::Role::Owner);
    let (mut lab_a, mut lab_b) = (origin.lab_client(&a.lab_id), origin.lab_client(&b.lab_id));
    load(&mut lab_a, "project1-sample").await.unwrap();
    let summary = load(&mut lab_b, "seed-test-2").await.unwrap();
    assert_eq!(summary.branches.len(), 2, "B kept its own scenario");

    let (out_a, out_b) =
        tokio::join!(play_to_the_end(&origin, &a.lab_id), play_to_the_end(&origin, &b.lab_id));
    assert_eq!(out_a.trim_end(), bank_run("project1-sample").trim_end());
    assert_eq!(out_b.trim_end(), bank_run("seed-test-2").trim_end());

    // Loading in one lab leaves the other's history as it was.
    let before = origin.lab(&b.lab_id).watch().await.0;
    load(&mut lab_a, "seed-test-1").await.unwrap();
    assert_eq!(origin.lab(&b.lab_id).watch().await.0, before);
    origin.shutdown().await;
}

/// Reads a bounded `stream` to its end (bounded in time too).
async fn read_to_the_end(stream: &mut Streaming<pb::LabEvent>) -> Vec<pb::LabEvent> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let next = tokio::time::timeout_at(deadline, stream.message())
            .await
            .unwrap_or_else(|_| panic!("the stream did not end within {LIMIT:?}"));
        match next.expect("the stream ends with status OK") {
            Some(event) => seen.push(event),
            None => return seen,
        }
    }
}

/// `events` are the lab's history from event `from` on: the events of
/// `known` from there (the run may have recorded more since).
fn assert_from(events: &[pb::LabEvent], known: &[pb::LabEvent], from: usize, what: &str) {
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    let expected: Vec<u64> = (from as u64..).take(seqs.len()).collect();
    assert_eq!(seqs, expected, "{what}: every event from {from} on, in order");
    assert!(events.len() >= known.len() - from, "{what}: {} events", events.len());
    assert_eq!(events[..known.len() - from], known[from..], "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_s_watch_ends_in_time_and_the_next_resumes_where_it_was() {
    let origin = WebOrigin::start(WebOrigin::config(), &no_dist()).await;
    let id = origin.open_new().await.lab_id;
    let mut lab = origin.lab_client(&id);
    load(&mut lab, "seed-test-1").await.unwrap();
    let mut forever = watch(&mut lab).await;
    control(&mut lab, pb::Command::Play).await.unwrap();
    let all = read_until(&mut forever, |e| finished(e).is_some()).await;
    let history = all[0].history;
    assert!(matches!(all[0].event, Some(Event::Loaded(_))) && history > 0, "{:?}", all[0]);
    assert!(all[1..].iter().all(|e| e.history == 0), "only the first event names its history");

    // A page that has the first 3 events: the rest, then the end (status
    // OK) though the lab goes on, so its connection is free again.
    let bounded = |history, from| pb::WatchRequest { history, from, end_after_ms: 100 };
    let mut resumed = lab.watch(bounded(history, 3)).await.unwrap().into_inner();
    assert_from(&read_to_the_end(&mut resumed).await, &all, 3, "resumed");
    // Another history than the lab's, or more events than it has: from
    // the lab's first event.
    let len = origin.lab(&id).watch().await.0.len() as u64;
    for (other, from) in [(0, 3), (history + 1, 3), (history, len + 1), (history, u64::MAX)] {
        let mut stream = lab.watch(bounded(other, from)).await.unwrap().into_inner();
        let events = read_to_the_end(&mut stream).await;
        assert_from(&events, &all, 0, &format!("history {other}, from {from}"));
    }

    // A reset starts a newer history: a page resuming the old one gets it
    // from its first event, which says its number.
    let now = origin.lab(&id).watch().await.0.len() as u64;
    let mut resumed = lab.watch(bounded(history, now)).await.unwrap().into_inner();
    control(&mut lab, pb::Command::Reset).await.unwrap();
    let after_reset = read_to_the_end(&mut resumed).await;
    let newer = after_reset.iter().find(|e| matches!(e.event, Some(Event::Loaded(_))));
    let newer = newer.expect("the newer history's first event");
    assert_eq!((newer.seq, newer.history), (0, history + 1));
    origin.shutdown().await;
}

#[tokio::test]
async fn a_follower_watches_live_and_every_change_it_tries_is_refused() {
    use pb::fault_request::Fault;
    let origin = WebOrigin::start(WebOrigin::config(), &no_dist()).await;
    let owner = origin.open_new().await;
    let follow_id = owner.follow_id.clone();
    assert_ne!(follow_id, owner.lab_id);
    assert_eq!(follow_id.len(), 32);

    let followed = origin.open("", &follow_id).await.unwrap();
    assert_eq!(followed.role(), pb::Role::Follower);
    assert_eq!(followed.lab_id, "", "a follower is not told the lab id");
    // The owner comes back after a reload to the same lab.
    let again = origin.open(&owner.lab_id, "").await.unwrap();
    assert_eq!((again.role(), &again.follow_id), (pb::Role::Owner, &follow_id));
    // A follow id pasted as the lab id: the lab runs, and it is said so
    // (before: "it was stopped").
    let pasted = origin.open(&follow_id, "").await.unwrap_err();
    assert_eq!(pasted.code(), Code::NotFound);
    assert!(
        pasted.message().contains("is the follow id of a running lab, not a lab id"),
        "{}",
        pasted.message()
    );

    let mut follower = origin.lab_client(&follow_id);
    let mut followers_view = watch(&mut follower).await;
    let mut lab = origin.lab_client(&owner.lab_id);
    control(&mut lab, pb::Command::Play).await.unwrap();
    // Up to the last event of the run: the play state "finished".
    let seen = read_until(
        &mut followers_view,
        |e| matches!(&e.event, Some(Event::State(s)) if s.state() == pb::PlayState::Finished),
    )
    .await;
    assert!(seen.iter().any(|e| matches!(e.event, Some(Event::CustomerSent(_)))));
    let output = seen.iter().find_map(finished).expect("the follower sees the end");
    assert_eq!(output.trim_end(), bank_run("seed-test-1").trim_end());
    // It is told the scenario's text, to grade a submission against it or
    // put it in a link, as the owner could.
    let loaded = seen.iter().find_map(|e| match &e.event {
        Some(Event::Loaded(summary)) => Some(summary),
        _ => None,
    });
    assert_eq!(
        loaded.expect("the follower sees the load").text,
        examples::find("seed-test-1").unwrap().text
    );

    let refused = |result: Result<(), tonic::Status>, what: &str| {
        let status = result.expect_err(what);
        assert_eq!(status.code(), Code::PermissionDenied, "{what}: {status:?}");
        assert!(status.message().contains("read-only"), "{what}: {}", status.message());
    };
    let text = examples::find("seed-test-2").unwrap().text.to_owned();
    let load = follower.load(pb::LoadRequest { text, ..Default::default() }).await;
    refused(load.map(drop), "Load");
    for command in [
        pb::Command::Play,
        pb::Command::Pause,
        pb::Command::Step,
        pb::Command::Reset,
        pb::Command::SetSpeed,
    ] {
        refused(control(&mut follower, command).await.map(drop), &format!("{command:?}"));
    }
    let crash = follower.inject(pb::FaultRequest { fault: Some(Fault::Crash(1)) }).await;
    refused(crash.map(drop), "Inject");
    let deposit = pb::CustomerRequest {
        customer_id: 1000,
        event_id: 1000,
        branch_id: 1,
        operation: pb::Operation::Deposit as i32,
        amount_cents: 100,
        clock: 1,
        session: Some(pb::Session::default()),
    };
    let sent = origin.customer_client(&follow_id).request(deposit.clone()).await;
    refused(sent.map(drop), "Customer.Request");
    // Reading is allowed; and nothing the follower tried reached the lab.
    assert!(follower.examples(pb::ExamplesRequest {}).await.is_ok());
    let history = origin.lab(&owner.lab_id).watch().await.0;
    assert_eq!(history.len(), seen.len(), "the follower changed nothing");
    // The owner's own request still goes through.
    origin.customer_client(&owner.lab_id).request(deposit).await.expect("the owner may");
    origin.shutdown().await;
}

#[tokio::test]
async fn calls_name_their_lab_and_an_unknown_one_is_refused_clearly() {
    let origin = WebOrigin::start(WebOrigin::config(), &no_dist()).await;
    let status = origin.anonymous().watch(pb::WatchRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("Lab.Open"), "{}", status.message());
    // A comparison spends the server's CPU: only for a viewer with a lab.
    let text = examples::find("demo-stale-read").unwrap().text.to_owned();
    let request = pb::CompareRequest { text, ..Default::default() };
    let status = origin.anonymous().compare(request).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let stranger = "0123456789abcdef0123456789abcdef";
    let status = origin.lab_client(stranger).watch(pb::WatchRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert!(status.message().contains("no lab 01234567… runs on this server"));
    assert_eq!(origin.open(stranger, "").await.unwrap_err().code(), Code::NotFound);
    assert_eq!(origin.open("", stranger).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(origin.open("nope", "").await.unwrap_err().code(), Code::InvalidArgument);
    let both = origin.open(stranger, stranger).await.unwrap_err();
    assert_eq!(both.code(), Code::InvalidArgument);
    origin.shutdown().await;
}

#[tokio::test]
async fn one_lab_over_max_labs_is_refused_with_what_to_do() {
    let config = LabsConfig { max_labs: 2, ..WebOrigin::config() };
    let origin = WebOrigin::start(config, &no_dist()).await;
    let first = origin.open_new().await;
    origin.open_new().await;
    let status = origin.open("", "").await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(
        status.message().contains("this server runs 2 labs, its maximum")
            && status.message().contains("try again in a few minutes")
            && status.message().contains("cargo xtask serve"),
        "{}",
        status.message()
    );
    assert_eq!(origin.labs.len(), 2);
    // Coming back to a running lab, or following one, is no new lab.
    origin.open(&first.lab_id, "").await.expect("re-attach at the limit");
    origin.open("", &first.follow_id).await.expect("follow at the limit");
    origin.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_lab_is_stopped_and_its_ports_are_free_again() {
    let config = LabsConfig { idle: Duration::from_millis(300), ..WebOrigin::config() };
    let origin = WebOrigin::start(config, &no_dist()).await;
    let watched = origin.open_new().await;
    let mut lab = origin.lab_client(&watched.lab_id);
    let stream = watch(&mut lab).await;
    let left = origin.open_new().await;
    let ports = origin.lab(&left.lab_id).branch_addrs().await;
    assert_eq!(ports.len(), 2, "seed-test-1's two branches");

    // The lab nobody watches is stopped. The watched one went idle first,
    // but its open stream keeps it.
    wait_until("the unwatched lab stops", || origin.labs.len() == 1).await;
    let status = origin.open(&left.lab_id, "").await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert!(status.message().contains("stopped"), "{}", status.message());
    origin.open(&watched.lab_id, "").await.expect("the watched lab runs");
    wait_until("the stopped lab's ports are free", || all_free(&ports)).await;

    // Once its last watcher leaves, the other one goes too.
    let watched_ports = origin.lab(&watched.lab_id).branch_addrs().await;
    drop(stream);
    wait_until("the lab stops once unwatched", || origin.labs.is_empty()).await;
    wait_until("the last lab's ports are free", || all_free(&watched_ports)).await;
    origin.shutdown().await;
}

#[tokio::test]
async fn a_run_that_outgrows_the_history_cap_is_stopped_with_a_message() {
    let limits = Limits { max_history: 40, ..Limits::default() };
    let origin = WebOrigin::start(LabsConfig { limits, ..WebOrigin::config() }, &no_dist()).await;
    let owner = origin.open_new().await;
    let mut lab = origin.lab_client(&owner.lab_id);
    load(&mut lab, "project1-sample").await.unwrap();
    let mut events = watch(&mut lab).await;
    control(&mut lab, pb::Command::Play).await.unwrap();
    let seen = read_until(&mut events, |e| matches!(e.event, Some(Event::Halted(_)))).await;
    let Some(Event::Halted(halted)) = &seen.last().unwrap().event else { unreachable!() };
    assert!(
        halted.reason.contains("recorded 40 events") && halted.reason.contains("--max-history"),
        "{}",
        halted.reason
    );
    assert_eq!(seen.len(), 40, "the history holds at most --max-history events");
    assert!(!seen.iter().any(|e| finished(e).is_some()), "stopped before the end");
    // The run's cluster is gone; playing does nothing; a reset starts anew.
    let wasted = origin.lab(&owner.lab_id);
    wait_until_async("the halted run's cluster stops", || wasted.branch_addrs()).await;
    let reply = control(&mut lab, pb::Command::Play).await.unwrap();
    assert_eq!(reply.state(), pb::PlayState::Paused);
    assert_eq!(origin.lab(&owner.lab_id).watch().await.0.len(), 40, "nothing more recorded");
    control(&mut lab, pb::Command::Reset).await.unwrap();
    let fresh = watch(&mut lab).await.message().await.unwrap().unwrap();
    assert!(matches!(fresh.event, Some(Event::Loaded(_))) && fresh.seq == 0);
    origin.shutdown().await;
}

/// A browser customer sending requests with huge session write sets (each
/// recorded, and sent to every watcher) fills the history's bytes long
/// before its event count: the run is stopped at the byte cap, with a
/// message that says so (found by a hostile pass: 3.5 MB a request, with no
/// bound but the event count).
#[tokio::test]
async fn huge_requests_stop_the_run_at_the_history_byte_cap() {
    let limits = Limits { max_history: 1_000, ..Limits::default() };
    let cap = limits.max_history_bytes();
    let origin = WebOrigin::start(LabsConfig { limits, ..WebOrigin::config() }, &no_dist()).await;
    let owner = origin.open_new().await;
    let mut lab = origin.lab_client(&owner.lab_id);
    load(&mut lab, "seed-test-1").await.unwrap();
    let mut events = watch(&mut lab).await;
    // Every other seq of branch 2: 20,000 parts, some 60 KiB a request.
    let writes = pb::WriteSet {
        origins: vec![pb::OriginWrites {
            origin_branch: 2,
            prefix: 0,
            extra: (1..=20_000u64).map(|i| 2 * i).collect(),
            extra_ranges: vec![],
        }],
    };
    let request = |event_id| pb::CustomerRequest {
        customer_id: 1000,
        event_id,
        branch_id: 1,
        operation: pb::Operation::Query as i32,
        amount_cents: 0,
        clock: 1,
        session: Some(pb::Session { writes: Some(writes.clone()), ..pb::Session::default() }),
    };
    let mut client = origin.customer_client(&owner.lab_id);
    for event_id in 1..=20 {
        // Answered or not (the branch may wait for writes that never come),
        // each is recorded as sent.
        let _ = tokio::time::timeout(Duration::from_millis(200), client.request(request(event_id)))
            .await;
    }
    let seen = read_until(&mut events, |e| matches!(e.event, Some(Event::Halted(_)))).await;
    let Some(Event::Halted(halted)) = &seen.last().unwrap().event else { unreachable!() };
    assert!(
        halted.reason.contains("hold 328 KiB") && halted.reason.contains("--max-history"),
        "{}",
        halted.reason
    );
    assert!(seen.len() < 1_000, "stopped by bytes, not by the count");
    let bytes = origin.lab(&owner.lab_id).history_footprint();
    assert!(bytes < 2 * cap, "{bytes} bytes held, cap {cap}");
    origin.shutdown().await;
}

/// Waits (bounded) until `addrs()` answers no address.
async fn wait_until_async<F, Fut>(what: &str, addrs: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Vec<std::net::SocketAddr>>,
{
    let deadline = tokio::time::Instant::now() + LIMIT;
    while !addrs().await.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "{what}: not within {LIMIT:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_scenario_over_the_branch_or_event_cap_is_refused_with_the_flag_to_change() {
    let limits = Limits { max_branches: 2, max_events: 4, ..Limits::default() };
    let origin = WebOrigin::start(LabsConfig { limits, ..WebOrigin::config() }, &no_dist()).await;
    let owner = origin.open_new().await;
    let mut lab = origin.lab_client(&owner.lab_id);
    let status = load(&mut lab, "project1-sample").await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(
        status.message().contains("this scenario has 3 branches")
            && status.message().contains("at most 2 (--max-branches)"),
        "{}",
        status.message()
    );
    let queries: Vec<String> =
        (1..=5).map(|id| format!(r#"{{"interface": "query", "id": {id}, "dest": 1}}"#)).collect();
    let text = format!(
        r#"[{{"id": 1, "type": "customer", "events": [{}]}}, {{"id": 1, "type": "branch", "balance": 0}}]"#,
        queries.join(", ")
    );
    let status = lab
        .load(pb::LoadRequest { text, name: "five queries".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(
        status.message().contains("this scenario has 5 scripted events")
            && status.message().contains("at most 4 (--max-events)"),
        "{}",
        status.message()
    );
    // A comparison of it is refused the same way.
    let text = examples::find("project1-sample").unwrap().text.to_owned();
    let status = lab.compare(pb::CompareRequest { text, ..Default::default() }).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(status.message().contains("at most 2 (--max-branches)"), "{}", status.message());
    // The lab kept its scenario.
    let history = origin.lab(&owner.lab_id).watch().await.0;
    let Some(Event::Loaded(summary)) = &history[0].event else { panic!("{:?}", history[0]) };
    assert_eq!(summary.name, "seed-test-1");
    origin.shutdown().await;
}

/// `bank serve --cluster`: one cluster, one lab for everyone.
#[tokio::test]
async fn on_one_external_cluster_every_page_shares_the_one_lab() {
    use bank_backend::lab::registry::{Labs, Role};
    use bank_backend::lab::Lab;
    let labs = Labs::shared(WebOrigin::config(), Lab::new(examples::all()));
    let (a, b) = (labs.open(None, None).await.unwrap(), labs.open(None, None).await.unwrap());
    assert_eq!((a.lab_id, a.role), (b.lab_id, Role::Owner));
    let follow = labs.open(None, Some(&a.follow_id.to_string())).await.unwrap();
    assert_eq!(follow.role, Role::Follower);
    // A call that names no lab goes to it, as before labs had ids.
    let access = labs.access(&tonic::metadata::MetadataMap::new()).expect("the shared lab");
    assert_eq!(access.role(), Role::Owner);
    assert_eq!(labs.len(), 1);
    labs.stop_all().await;
}

/// 100 branches and 2,000 deposits from 40 customers at once, in the
/// default limits: seconds of simulation per side in a release build.
fn a_heavy_comparison() -> String {
    let customers: Vec<String> = (0..40u64)
        .map(|c| {
            let events: Vec<String> = (0..50u64)
                .map(|k| {
                    let id = c * 50 + k + 1;
                    let dest = id % 100 + 1;
                    format!(r#"{{"interface": "deposit", "money": 1, "id": {id}, "dest": {dest}}}"#)
                })
                .collect();
            format!(r#"{{"id": {}, "type": "customer", "events": [{}]}}"#, c + 1, events.join(","))
        })
        .collect();
    let branches: Vec<String> =
        (1..=100).map(|b| format!(r#"{{"id": {b}, "type": "branch", "balance": 0}}"#)).collect();
    format!(
        r#"{{"schedule": "concurrent", "propagation": "background", "bank": [{}, {}]}}"#,
        customers.join(","),
        branches.join(",")
    )
}

type Comparing = tokio::task::JoinHandle<Result<tonic::Response<pb::CompareReply>, tonic::Status>>;

/// A server with no budget for comparisons (only a client's leaving or a
/// stop can end one), computing [`a_heavy_comparison`] for one lab's call.
async fn comparing_without_a_budget() -> (WebOrigin, String, Comparing) {
    let compare_budget = CompareBudget { events: u64::MAX, time: Duration::from_secs(600) };
    let origin =
        WebOrigin::start(LabsConfig { compare_budget, ..WebOrigin::config() }, &no_dist()).await;
    let owner = origin.open_new().await;
    let mut lab = origin.lab_client(&owner.lab_id);
    let request = pb::CompareRequest { text: a_heavy_comparison(), ..Default::default() };
    let call = tokio::spawn(async move { lab.compare(request).await });
    wait_until("the comparison starts", || origin.labs.comparisons_running() == 1).await;
    (origin, owner.lab_id, call)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comparison_stops_computing_when_its_client_leaves() {
    let (origin, lab_id, call) = comparing_without_a_budget().await;
    // One comparison per lab: a viewer cannot queue up the server's CPU
    // (before, 80 queued calls of one lab held 540 MB and starved others).
    let demo = examples::find("demo-stale-read").unwrap().text.to_owned();
    let again = pb::CompareRequest { text: demo, ..Default::default() };
    let status = origin.lab_client(&lab_id).compare(again.clone()).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(status.message().contains("this lab is already comparing"), "{}", status.message());
    // Another viewer's lab compares meanwhile.
    let other = origin.open_new().await;
    let reply = origin.lab_client(&other.lab_id).compare(again).await.unwrap().into_inner();
    assert!(matches!(reply.result, Some(pb::compare_reply::Result::Comparison(_))));
    // The viewer closes the page. Before, both runs went on to their end
    // (seconds, hundreds of MiB), and a stopping server waited for them.
    call.abort();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while origin.labs.comparisons_running() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the comparison still runs after 5 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    origin.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_server_does_not_wait_for_a_comparison() {
    let (origin, _, call) = comparing_without_a_budget().await;
    // Ctrl-C: before, the server said "stopped" and lived on until both
    // runs had ended.
    let stopped = tokio::time::timeout(Duration::from_secs(5), origin.shutdown()).await;
    assert!(stopped.is_ok(), "the server still waits for the comparison after 5 s");
    let status = call.await.unwrap().unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
}
