//! The visualizer's server side: the lab on a real web origin, driven the
//! way the browser drives it (grpc-web over HTTP/1.1) and natively.

use std::net::SocketAddr;
use std::path::Path;

use bank_backend::lab::{examples, registry::LAB_HEADER, Lab};
use bank_core::Guarantees;
use bank_proto as pb;
use bank_proto::customer_client::CustomerClient;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tonic::Streaming;

mod common;

use common::lab_server::{LabFor, WebOrigin};

/// A web origin with one lab opened, as one page opens it.
struct Server {
    addr: SocketAddr,
    origin: WebOrigin,
    lab_id: String,
    lab: Lab,
}

impl Server {
    async fn start(dist: &Path) -> Server {
        let origin = WebOrigin::start(WebOrigin::config(), dist).await;
        let lab_id = origin.open_new().await.lab_id;
        let lab = origin.lab(&lab_id);
        Server { addr: origin.addr, origin, lab_id, lab }
    }

    async fn lab_client(&self) -> LabFor {
        self.origin.lab_client(&self.lab_id)
    }

    async fn shutdown(self) {
        self.origin.shutdown().await;
    }
}

async fn load(lab: &mut LabFor, name: &str) -> pb::ScenarioSummary {
    let text = examples::find(name).unwrap().text.to_owned();
    let reply = lab
        .load(pb::LoadRequest { text, name: name.into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    match reply.result {
        Some(pb::load_reply::Result::Scenario(s)) => s,
        other => panic!("load failed: {other:?}"),
    }
}

async fn control(lab: &mut LabFor, command: pb::Command, speed: f64) -> pb::ControlReply {
    lab.control(pb::ControlRequest { command: command as i32, speed }).await.unwrap().into_inner()
}

/// Reads the watch stream until `stop` says so, returning what was read.
/// Bounded: the lab always makes progress once asked, so a missing event is
/// a failure, reported after 20 s instead of hanging the suite.
async fn read_until(
    stream: &mut Streaming<pb::LabEvent>,
    stop: impl Fn(&pb::LabEvent) -> bool,
) -> Vec<pb::LabEvent> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let Ok(next) = tokio::time::timeout_at(deadline, stream.message()).await else {
            let lines: Vec<String> = seen.iter().map(short).collect();
            panic!("no lab event within 20 s; seen:\n{}", lines.join("\n"));
        };
        let event = next.unwrap().expect("stream open");
        let done = stop(&event);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

/// One line per event, for failure messages.
fn short(e: &pb::LabEvent) -> String {
    use pb::lab_event::Event as E;
    let what = match &e.event {
        Some(E::BranchLogged(b)) => {
            let x = b.entry.as_ref().unwrap();
            format!(
                "branch {} {:?} event {} peer {} balance {}",
                b.branch_id,
                x.kind(),
                x.event_id,
                x.peer,
                b.balance_cents
            )
        }
        Some(E::CustomerSent(s)) => {
            format!("sent {:?}", s.request.as_ref().map(|r| (r.event_id, r.branch_id)))
        }
        Some(E::CustomerAnswered(a)) => {
            format!("answered {:?}", a.reply.as_ref().map(|r| (r.event_id, &r.result)))
        }
        Some(E::Loaded(_)) => "loaded".into(),
        Some(E::State(s)) => format!("state {:?}", s.state()),
        other => format!("{other:?}"),
    };
    format!("{:>8} us  {what}", e.at_micros)
}

fn finished(e: &pb::LabEvent) -> bool {
    matches!(e.event, Some(pb::lab_event::Event::Finished(_)))
}

fn empty_dist() -> std::path::PathBuf {
    std::env::temp_dir().join("bank-lab-test-no-dist")
}

#[tokio::test]
async fn playing_reference_test_1_ends_with_the_course_output() {
    let server = Server::start(&empty_dist()).await;
    let mut lab = server.lab_client().await;
    let summary = load(&mut lab, "seed-test-1").await;
    assert_eq!(summary.branches.len(), 2);
    assert_eq!(summary.format(), pb::OutputFormat::P3);
    let mut watch = lab.watch(pb::WatchRequest::default()).await.unwrap().into_inner();
    assert_eq!(
        control(&mut lab, pb::Command::Play, 50.0).await.state,
        pb::PlayState::Playing as i32
    );
    let events = read_until(&mut watch, finished).await;

    // The history starts with the scenario, numbered from 0.
    assert!(matches!(events[0].event, Some(pb::lab_event::Event::Loaded(_))));
    assert!(events.iter().enumerate().all(|(i, e)| e.seq == i as u64));

    // Each customer request is recorded before the branch receives it.
    let sent_at = events.iter().position(|e| matches!(&e.event, Some(pb::lab_event::Event::CustomerSent(s)) if s.request.as_ref().unwrap().event_id == 2)).unwrap();
    let received_at = events
        .iter()
        .position(|e| matches!(&e.event, Some(pb::lab_event::Event::BranchLogged(b))
            if b.entry.as_ref().unwrap().kind == pb::LogKind::Request as i32 && b.entry.as_ref().unwrap().event_id == 2))
        .unwrap();
    assert!(sent_at < received_at);

    // Final balances 0 on both branches; write sets [1, 2] everywhere (the
    // history carries what each entry added).
    for branch in [1u64, 2] {
        let logged: Vec<&pb::BranchLogged> = events
            .iter()
            .filter_map(|e| match &e.event {
                Some(pb::lab_event::Event::BranchLogged(b)) if b.branch_id == branch => Some(b),
                _ => None,
            })
            .collect();
        assert_eq!(logged.last().unwrap().balance_cents, 0, "branch {branch}");
        let added: Vec<u64> = logged
            .iter()
            .flat_map(|b| &b.added_writes)
            .flat_map(|w| {
                assert_eq!(w.customer_id, 1);
                w.event_ids.clone()
            })
            .collect();
        assert_eq!(added, vec![1, 2], "branch {branch}: each write added once, in apply order");
    }
    // Branch 1 showed 400 at some point: the intermediate state exists in the history.
    assert!(events.iter().any(|e| matches!(&e.event, Some(pb::lab_event::Event::BranchLogged(b)) if b.branch_id == 1 && b.balance_cents == 40000)));

    let Some(pb::lab_event::Event::Finished(f)) = &events.last().unwrap().event else {
        unreachable!()
    };
    let expected = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/seed-test-1.expected.json"),
    )
    .unwrap();
    assert_eq!(f.output_json.trim_end(), expected.trim_end(), "the same output as `bank run`");
    server.shutdown().await;
}

/// Waits until the customers are blocked waiting for permission (a
/// condition, not a clock), then asserts how many scripted events have
/// started in all: a lab that let one more through would already count it.
async fn assert_started_then_blocked(lab: &Lab, started: u64) {
    let pacer = lab.pacer().await.expect("a run is loaded");
    let mut blocked = pacer.blocked();
    tokio::time::timeout(std::time::Duration::from_secs(20), blocked.wait_for(|n| *n >= 1))
        .await
        .expect("the customers block on the pacer within 20 s")
        .expect("pacer alive");
    assert_eq!(pacer.taken(), started, "scripted events started");
}

fn answered(e: &pb::LabEvent) -> bool {
    matches!(e.event, Some(pb::lab_event::Event::CustomerAnswered(_)))
}

#[tokio::test]
async fn step_sends_exactly_one_scripted_event() {
    let server = Server::start(&empty_dist()).await;
    let mut lab = server.lab_client().await;
    load(&mut lab, "project1-sample").await;
    let mut watch = lab.watch(pb::WatchRequest::default()).await.unwrap().into_inner();
    control(&mut lab, pb::Command::Step, 0.0).await;
    let seen = read_until(&mut watch, answered).await;
    assert_eq!(
        seen.iter()
            .filter(|e| matches!(e.event, Some(pb::lab_event::Event::CustomerSent(_))))
            .count(),
        1
    );
    assert_started_then_blocked(&server.lab, 1).await;
    // A second step sends the second event only.
    control(&mut lab, pb::Command::Step, 0.0).await;
    read_until(&mut watch, answered).await;
    assert_started_then_blocked(&server.lab, 2).await;

    // Play slowly (the first event goes at once), pause, and nothing else starts.
    control(&mut lab, pb::Command::Play, 0.05).await;
    control(&mut lab, pb::Command::SetSpeed, 0.06).await; // a new speed releases no extra event
    read_until(&mut watch, answered).await;
    assert_eq!(
        control(&mut lab, pb::Command::Pause, 0.0).await.state,
        pb::PlayState::Paused as i32
    );
    assert_started_then_blocked(&server.lab, 3).await;
    // Reset starts a new history with a fresh cluster.
    control(&mut lab, pb::Command::Reset, 0.0).await;
    let mut fresh = lab.watch(pb::WatchRequest::default()).await.unwrap().into_inner();
    let first = fresh.message().await.unwrap().unwrap();
    assert_eq!(first.seq, 0);
    assert!(matches!(first.event, Some(pb::lab_event::Event::Loaded(_))));
    server.shutdown().await;
}

#[tokio::test]
async fn an_invalid_scenario_is_refused_with_line_and_column() {
    let server = Server::start(&empty_dist()).await;
    let mut lab = server.lab_client().await;
    let reply = lab
        .load(pb::LoadRequest {
            text: "[\n {\"id\": 1,, }\n]".into(),
            name: "pasted".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let Some(pb::load_reply::Result::Error(e)) = reply.result else { panic!("{reply:?}") };
    assert_eq!(e.line, 2);
    assert!(e.column > 0);
    assert!(!e.message.is_empty());
    server.shutdown().await;
}

/// A grpc-web client over HTTP/1.1, as a browser is, naming `lab_id`.
fn grpc_web_customer_client(
    addr: SocketAddr,
    lab_id: &str,
) -> CustomerClient<
    impl tonic::client::GrpcService<
            tonic::body::Body,
            Error: Into<tonic::codegen::StdError>,
            ResponseBody: http_body::Body<
                Data = tonic::codegen::Bytes,
                Error: Into<tonic::codegen::StdError> + Send,
            > + Send
                              + 'static,
        > + Clone,
> {
    let http1 = Client::builder(TokioExecutor::new()).build_http();
    let lab_id = http::HeaderValue::from_str(lab_id).unwrap();
    let svc = tower::ServiceBuilder::new()
        .map_request(move |mut request: http::Request<tonic::body::Body>| {
            request.headers_mut().insert(LAB_HEADER, lab_id.clone());
            request
        })
        .layer(tonic_web::GrpcWebClientLayer::new())
        .service(http1);
    CustomerClient::with_origin(svc, format!("http://{addr}").parse().unwrap())
}

#[tokio::test]
async fn the_browser_can_be_a_customer_over_grpc_web() {
    let server = Server::start(&empty_dist()).await;
    let mut lab = server.lab_client().await;
    load(&mut lab, "project1-sample").await; // three branches at 400
    let mut watch = lab.watch(pb::WatchRequest::default()).await.unwrap().into_inner();
    let mut browser = grpc_web_customer_client(server.addr, &server.lab_id);
    let reply = browser
        .request(pb::CustomerRequest {
            customer_id: 1000,
            event_id: 1000,
            branch_id: 2,
            operation: pb::Operation::Deposit as i32,
            amount_cents: 2550,
            clock: 1,
            session: Some(pb::Session::default()),
        })
        .await
        .expect("grpc-web call succeeds")
        .into_inner();
    let Some(pb::customer_reply::Result::Success(ok)) = reply.result else { panic!("{reply:?}") };
    assert_eq!(ok.balance_cents, 42550);
    let events = read_until(
        &mut watch,
        |e| matches!(&e.event, Some(pb::lab_event::Event::CustomerAnswered(a)) if a.from_browser),
    )
    .await;
    for branch in 1..=3u64 {
        assert!(
            events.iter().any(|e| matches!(&e.event, Some(pb::lab_event::Event::BranchLogged(b)) if b.branch_id == branch && b.balance_cents == 42550)),
            "branch {branch} did not apply the browser's deposit"
        );
    }
    // A branch that does not exist is a clear gRPC error, not a hang.
    let status = browser
        .request(pb::CustomerRequest {
            branch_id: 9,
            operation: pb::Operation::Query as i32,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
    assert!(
        status.message().contains("there is no branch 9 (branches: 1, 2, 3)"),
        "{}",
        status.message()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn static_files_have_the_right_types_and_are_compressed() {
    let dist = std::env::temp_dir().join(format!("bank-lab-test-dist-{}", std::process::id()));
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>bank-sim</title>".repeat(50))
        .unwrap();
    std::fs::write(dist.join("app_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dist.join("app.js"), "export default 1;".repeat(100)).unwrap();
    let server = Server::start(&dist).await;
    let http1 = Client::builder(TokioExecutor::new())
        .build_http::<http_body_util::Full<tonic::codegen::Bytes>>();
    let get = |path: &str, gzip: bool| {
        let mut req = http::Request::get(format!("http://{}{path}", server.addr));
        if gzip {
            req = req.header("accept-encoding", "gzip");
        }
        http1.request(req.body(Default::default()).unwrap())
    };
    let r = get("/", false).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let r = get("/app_bg.wasm", false).await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/wasm");
    let r = get("/app.js", true).await.unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().contains("javascript"));
    assert_eq!(r.headers()["content-encoding"], "gzip");
    // Unknown paths get the app (the single-page app routes itself).
    let r = get("/some/deep/link?embed=1", false).await.unwrap();
    assert_eq!(r.status(), 200);
    let body = r.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("<title>bank-sim</title>"));
    server.shutdown().await;
    std::fs::remove_dir_all(&dist).ok();
}

async fn inject(lab: &mut LabFor, fault: pb::fault_request::Fault) -> pb::FaultReply {
    lab.inject(pb::FaultRequest { fault: Some(fault) }).await.unwrap().into_inner()
}

fn network(e: &pb::LabEvent) -> Option<&pb::NetworkChanged> {
    match &e.event {
        Some(pb::lab_event::Event::Network(n)) => Some(n),
        _ => None,
    }
}

#[tokio::test]
async fn crashing_and_restarting_a_branch_is_recorded_and_the_run_still_finishes() {
    use pb::fault_request::Fault;
    let server = Server::start(&empty_dist()).await;
    let mut lab = server.lab_client().await;
    load(&mut lab, "project1-sample").await; // three branches
    let mut watch = lab.watch(pb::WatchRequest::default()).await.unwrap().into_inner();

    let reply = inject(&mut lab, Fault::Crash(2)).await;
    assert_eq!(reply.error, "");
    assert_eq!(reply.state.unwrap().down, vec![2]);
    let seen = read_until(&mut watch, |e| network(e).is_some()).await;
    let changed = network(seen.last().unwrap()).unwrap();
    assert_eq!(changed.description, "crash branch 2");
    assert_eq!(changed.state.as_ref().unwrap().down, vec![2]);

    // Clear refusals: crashing again, a branch that does not exist.
    assert!(inject(&mut lab, Fault::Crash(2)).await.error.contains("down already"));
    assert!(inject(&mut lab, Fault::Crash(9)).await.error.contains("no branch 9"));
    assert!(inject(&mut lab, Fault::Restart(1)).await.error.contains("is up"));
    // The page's customer asking the crashed branch gets a failed answer
    // saying so (as in the page's simulator), not a connection error.
    let mut browser = grpc_web_customer_client(server.addr, &server.lab_id);
    let query = pb::CustomerRequest {
        customer_id: 1000,
        event_id: 1,
        branch_id: 2,
        operation: pb::Operation::Query as i32,
        session: Some(pb::Session::default()),
        ..Default::default()
    };
    let reply = browser.request(query).await.expect("an answer").into_inner();
    let Some(pb::customer_reply::Result::Failure(failed)) = reply.result else {
        panic!("{reply:?}")
    };
    assert_eq!(failed.message, "branch 2 is down (it does not answer)", "{failed:?}");
    let answered = read_until(
        &mut watch,
        |e| matches!(&e.event, Some(pb::lab_event::Event::CustomerAnswered(a)) if a.from_browser),
    )
    .await;
    assert!(!answered.is_empty());

    // Cut and delay a link; the state lists them.
    let reply = inject(&mut lab, Fault::Cut(pb::Link { a: 1, b: 3 })).await;
    assert_eq!(reply.state.unwrap().cut, vec![pb::Link { a: 1, b: 3 }]);
    let reply = inject(
        &mut lab,
        Fault::SetDelay(pb::LinkDelay { link: Some(pb::Link { a: 1, b: 2 }), delay_ms: 40 }),
    )
    .await;
    let state = reply.state.unwrap();
    assert!(state.delays.iter().any(|d| d.delay_ms == 40), "{state:?}");
    assert_eq!(
        inject(&mut lab, Fault::Heal(pb::Link { a: 1, b: 3 })).await.state.unwrap().cut,
        vec![]
    );

    let reply = inject(&mut lab, Fault::Restart(2)).await;
    assert_eq!(reply.error, "");
    assert!(reply.state.unwrap().down.is_empty());
    let seen =
        read_until(&mut watch, |e| network(e).is_some_and(|n| n.description == "restart branch 2"))
            .await;
    assert!(network(seen.last().unwrap()).unwrap().state.as_ref().unwrap().down.is_empty());

    // Crash again and play: a deposit waits for branch 3 (propagation is
    // synchronous) until it is back; then the run finishes.
    inject(&mut lab, Fault::Crash(3)).await;
    control(&mut lab, pb::Command::Play, 50.0).await;
    read_until(&mut watch, |e| matches!(e.event, Some(pb::lab_event::Event::CustomerSent(_))))
        .await;
    assert_eq!(inject(&mut lab, Fault::Restart(3)).await.error, "");
    let events = read_until(&mut watch, finished).await;
    assert!(events.iter().any(|e| network(e).is_some_and(|n| n.description == "restart branch 3")));
    server.shutdown().await;
}

#[tokio::test]
async fn the_stale_read_demo_reports_a_read_your_writes_violation() {
    let server = Server::start(&empty_dist()).await;
    let mut lab = server.lab_client().await;
    let summary = load(&mut lab, "demo-stale-read").await;
    assert_eq!(summary.guarantees, Some(Guarantees::NONE.into()));
    assert_eq!(summary.propagation(), pb::PropagationMode::Background);
    assert_eq!(summary.seed, 1);
    assert!(summary.description.contains("stale read"));
    let mut watch = lab.watch(pb::WatchRequest::default()).await.unwrap().into_inner();
    control(&mut lab, pb::Command::Play, 50.0).await;
    let events = read_until(&mut watch, finished).await;
    let violations: Vec<&pb::ViolationFound> = events
        .iter()
        .filter_map(|e| match &e.event {
            Some(pb::lab_event::Event::Violation(v)) => Some(v),
            _ => None,
        })
        .collect();
    let ryw = violations
        .iter()
        .find(|v| v.anomaly == "ryw")
        .unwrap_or_else(|| panic!("no ryw violation in {violations:?}"));
    assert_eq!(ryw.name, "Read Your Writes");
    assert!(!ryw.guarantee_was_on);
    assert_eq!(ryw.session, Some(0));
    // The offending read first (event 2 at branch 2), then the write it missed.
    assert_eq!(ryw.event_ids, vec![2, 1]);
    assert_eq!(ryw.branch_ids, vec![2, 1]);
    assert_eq!(ryw.writes, vec!["w1.1".to_string()]);

    // The same scenario with every guarantee on: no violation.
    let text = examples::find("demo-stale-read").unwrap().text.to_owned();
    let reply = lab
        .load(pb::LoadRequest {
            text,
            name: "demo".into(),
            guarantees: Some(Guarantees::ALL.into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let Some(pb::load_reply::Result::Scenario(summary)) = reply.result else { panic!("{reply:?}") };
    assert_eq!(summary.guarantees, Some(Guarantees::ALL.into()));
    let mut watch = lab.watch(pb::WatchRequest::default()).await.unwrap().into_inner();
    control(&mut lab, pb::Command::Play, 50.0).await;
    let events = read_until(&mut watch, finished).await;
    assert!(!events.iter().any(|e| matches!(e.event, Some(pb::lab_event::Event::Violation(_)))));
    server.shutdown().await;
}

#[tokio::test]
async fn compare_shows_the_violation_only_without_the_guarantee() {
    let server = Server::start(&empty_dist()).await;
    let mut lab = server.lab_client().await;
    let text = examples::find("demo-stale-read").unwrap().text.to_owned();
    let reply = lab
        .compare(pb::CompareRequest {
            text,
            left_guarantees: Some(Guarantees::NONE.into()),
            right_guarantees: Some(Guarantees::ALL.into()),
            seed: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let Some(pb::compare_reply::Result::Comparison(c)) = reply.result else { panic!("{reply:?}") };
    assert_eq!(c.seed, 1);
    let (left, right) = (c.left.unwrap(), c.right.unwrap());
    assert_eq!(
        (left.guarantees, right.guarantees),
        (Some(Guarantees::NONE.into()), Some(Guarantees::ALL.into()))
    );
    assert!(left.violations.iter().any(|v| v.anomaly == "ryw"), "{:?}", left.violations);
    assert!(right.violations.is_empty(), "{:?}", right.violations);
    // Both ran every operation; the stale query answered 0 on the left, 100 on the right.
    assert_eq!(left.ops.len(), 2);
    let query =
        |run: &pb::SimulatedRun| run.ops.iter().find(|o| o.event_id == 2).unwrap().balance_cents;
    assert_eq!((query(&left), query(&right)), (0, 10000));
    assert!(right.final_balances.iter().all(|b| b.balance_cents == 10000));

    let reply = lab
        .compare(pb::CompareRequest { text: "[".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(reply.result, Some(pb::compare_reply::Result::Error(_))));
    server.shutdown().await;
}

#[tokio::test]
async fn a_branch_left_down_is_repaired_at_the_runs_end_and_the_history_says_so() {
    // Found by a hostile pass: after a run that ended with a branch down,
    // the page still showed it down (and offered "restart", which did
    // nothing), though the runner had restarted it to read the final state.
    use pb::fault_request::Fault;
    let server = Server::start(&empty_dist()).await;
    let mut lab = server.lab_client().await;
    load(&mut lab, "seed-test-1").await;
    let mut watch = lab.watch(pb::WatchRequest::default()).await.unwrap().into_inner();
    assert_eq!(inject(&mut lab, Fault::Crash(2)).await.error, "");
    control(&mut lab, pb::Command::Play, 50.0).await;
    let events = read_until(&mut watch, finished).await;
    let changes: Vec<&pb::NetworkChanged> = events.iter().filter_map(network).collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(!changes[0].planned, "the crash was injected");
    let end = changes[1];
    assert!(end.planned && end.description.starts_with("the run's end"), "{end:?}");
    let state = end.state.as_ref().unwrap();
    assert!(state.down.is_empty() && state.cut.is_empty(), "{state:?}");
    // It comes before the run's findings and its output.
    let at = |p: fn(&pb::LabEvent) -> bool| events.iter().position(p).unwrap();
    assert!(at(|e| network(e).is_some_and(|n| n.planned)) < at(finished));
    server.shutdown().await;
}
