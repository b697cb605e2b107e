//! Past one machine: two real `bank serve` processes behind nginx running
//! the shipped `deploy/nginx.conf`, acting as one server.
//!
//! Everything goes through the proxy as the browser sends it (grpc-web over
//! HTTP/1.1, the lab named in the `x-lab-id` header, `Open` included): new
//! labs land on both servers (round-robin), each lab's calls reach the
//! server that holds it (by its id's instance prefix), a lab's watch stream
//! comes through unbuffered, and each lab plays to the output `bank run`
//! prints, as does its follower's view.
//!
//! Needs nginx (`apt-get install nginx`; `cargo xtask test` installs it):
//! without it the test says so and passes without checking anything.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bank_proto as pb;
use bank_proto::lab_client::LabClient;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use pb::lab_event::Event;
use tonic::{Code, Streaming};

const LIMIT: Duration = Duration::from_secs(60);
const LAB_HEADER: &str = "x-lab-id";

/// nginx on `PATH` or where Debian puts it.
fn find_nginx() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file())
}

/// A loopback port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A directory of its own under the system's temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bank-proxy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A `bank serve --instance NAME` process, stopped when dropped.
struct Serve {
    child: Child,
    addr: SocketAddr,
}

impl Serve {
    /// Starts it on a free loopback port, answering requests that name the
    /// proxy (`--public-host`), and waits (bounded) for its address.
    fn start(instance: &str, proxy: SocketAddr) -> Serve {
        let dist = scratch("no-dist");
        let mut child = Command::new(env!("CARGO_BIN_EXE_bank"))
            .args(["serve", "--addr", "127.0.0.1:0", "--instance", instance])
            .args(["--public-host", &proxy.to_string(), "--dist", dist.to_str().unwrap()])
            .env_remove("BANK_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("bank serve starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx.recv_timeout(LIMIT).expect("bank serve prints its address");
        assert!(line.contains(&format!("(instance {instance}; ")), "{line}");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Serve { child, addr }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx running `deploy/nginx.conf` in front of two servers, stopped when
/// dropped.
struct Nginx {
    child: Child,
    dir: PathBuf,
}

impl Nginx {
    /// The shipped config with loopback addresses for the compose service
    /// names and the listen port, and temporary files in a scratch
    /// directory (nginx's defaults are system paths). Each substitution must
    /// find its text, so a change to the shipped file cannot go untested.
    fn config(listen: SocketAddr, a: SocketAddr, b: SocketAddr, dir: &Path) -> String {
        let shipped = std::fs::read_to_string(common::repo("deploy/nginx.conf")).unwrap();
        let temp: String = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
            .iter()
            .map(|t| format!("\n    {t}_temp_path {};", dir.join(t).display()))
            .collect();
        let swaps = [
            ("server serve-a:8080;", format!("server {a};"), 2),
            ("server serve-b:8080;", format!("server {b};"), 2),
            ("listen 8080;", format!("listen {listen};"), 1),
            ("http {", format!("http {{{temp}"), 1),
        ];
        swaps.into_iter().fold(shipped, |text, (from, to, times)| {
            assert_eq!(text.matches(from).count(), times, "deploy/nginx.conf has {from:?}");
            text.replace(from, &to)
        })
    }

    /// Starts nginx on `listen` and waits (bounded) until it accepts
    /// connections.
    fn start(nginx: &Path, listen: SocketAddr, a: SocketAddr, b: SocketAddr) -> Nginx {
        let dir = scratch("nginx");
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, Nginx::config(listen, a, b, &dir)).unwrap();
        let log = std::fs::File::create(dir.join("stderr")).unwrap();
        let pid = format!("daemon off; pid {};", dir.join("nginx.pid").display());
        let child = Command::new(nginx)
            .args(["-e", "stderr", "-p"])
            .arg(&dir)
            .arg("-c")
            .arg(&conf)
            .args(["-g", &pid])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("nginx starts");
        let mut proxy = Nginx { child, dir };
        let deadline = Instant::now() + LIMIT;
        while TcpStream::connect(listen).is_err() {
            if let Ok(Some(status)) = proxy.child.try_wait() {
                let said = std::fs::read_to_string(proxy.dir.join("stderr")).unwrap_or_default();
                panic!("nginx exited ({status}): {said}");
            }
            assert!(Instant::now() < deadline, "nginx not listening on {listen} within {LIMIT:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
        proxy
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A `Lab` client speaking grpc-web over HTTP/1.1 to `addr`, as the page
/// does, naming `lab` (a lab id or follow id) in every call if given.
fn web_lab(
    addr: SocketAddr,
    lab: Option<&str>,
) -> LabClient<
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
    let lab = lab.map(|id| http::HeaderValue::from_str(id).unwrap());
    let svc = tower::ServiceBuilder::new()
        .map_request(move |mut request: http::Request<tonic::body::Body>| {
            if let Some(id) = &lab {
                request.headers_mut().insert(LAB_HEADER, id.clone());
            }
            request
        })
        .layer(tonic_web::GrpcWebClientLayer::new())
        .service(http1);
    LabClient::with_origin(svc, format!("http://{addr}").parse().unwrap())
}

/// `Open` as the page sends it: the id given both in the request and in
/// the header.
async fn open(
    addr: SocketAddr,
    lab_id: &str,
    follow_id: &str,
) -> Result<pb::OpenReply, tonic::Status> {
    let named = [lab_id, follow_id].into_iter().find(|id| !id.is_empty());
    let request = pb::OpenRequest { lab_id: lab_id.into(), follow_id: follow_id.into() };
    web_lab(addr, named).open(request).await.map(|r| r.into_inner())
}

/// The instance an id names: `a` of `a-0123…`.
fn instance_of(id: &str) -> &str {
    id.split_once('-').map(|(name, _)| name).unwrap_or_else(|| panic!("{id:?} has no instance"))
}

/// What `bank run examples/<name>.json` prints.
fn bank_run(name: &str) -> String {
    let path = common::repo(&format!("examples/{name}.json"));
    let out = common::bank(&["run", path.to_str().unwrap()]);
    assert!(out.status.success(), "bank run {name}: {}", common::stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// Reads `stream` to its run's `Finished` event (bounded); its output.
async fn output(stream: &mut Streaming<pb::LabEvent>) -> String {
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let next = tokio::time::timeout_at(deadline, stream.message())
            .await
            .unwrap_or_else(|_| panic!("no Finished event within {LIMIT:?}"));
        if let Some(Event::Finished(f)) = next.expect("stream healthy").expect("stream open").event
        {
            return f.output_json;
        }
    }
}

/// Loads `scenario` into the lab `owner` opened, through the proxy; plays
/// it while its owner and a follower (opened through the proxy too) watch;
/// both views' outputs.
async fn play_through(proxy: SocketAddr, owner: &pb::OpenReply, scenario: &str) -> [String; 2] {
    let mut lab = web_lab(proxy, Some(&owner.lab_id));
    let text = bank_backend::lab::examples::find(scenario).unwrap().text.to_owned();
    let load = pb::LoadRequest { text, name: scenario.into(), ..Default::default() };
    let loaded = lab.load(load).await.expect("Load through the proxy").into_inner();
    assert!(matches!(loaded.result, Some(pb::load_reply::Result::Scenario(_))), "{loaded:?}");

    let followed = open(proxy, "", &owner.follow_id).await.expect("the follow link opens");
    assert_eq!(followed.role(), pb::Role::Follower);
    let mut follower = web_lab(proxy, Some(&owner.follow_id));
    let mut owners_view = lab.watch(pb::WatchRequest::default()).await.unwrap().into_inner();
    let mut followers_view =
        follower.watch(pb::WatchRequest::default()).await.unwrap().into_inner();
    let play = pb::ControlRequest { command: pb::Command::Play as i32, speed: 50.0 };
    lab.control(play).await.expect("Play through the proxy");
    // The follower, routed to the same server, may still only watch.
    let refused = follower
        .control(pb::ControlRequest { command: pb::Command::Reset as i32, speed: 0.0 })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let (mine, theirs) = tokio::join!(output(&mut owners_view), output(&mut followers_view));
    [mine, theirs]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_behind_nginx_act_as_one() {
    let Some(nginx) = find_nginx() else {
        eprintln!(
            "skipped: nginx is not installed (apt-get install nginx, or `cargo xtask install`); \
             this test runs deploy/nginx.conf in front of two `bank serve` processes"
        );
        return;
    };
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let servers = [Serve::start("a", listen), Serve::start("b", listen)];
    let _proxy = Nginx::start(&nginx, listen, servers[0].addr, servers[1].addr);

    // New labs (no id yet) are spread over both servers: open until one
    // of each (each nginx worker takes its own turns, so allow a few).
    let mut owners: BTreeMap<String, pb::OpenReply> = BTreeMap::new();
    for _ in 0..16 {
        let opened = open(listen, "", "").await.expect("a new lab opens through the proxy");
        assert_eq!(opened.role(), pb::Role::Owner);
        assert_eq!(instance_of(&opened.lab_id), instance_of(&opened.follow_id));
        owners.entry(instance_of(&opened.lab_id).to_owned()).or_insert(opened);
        if owners.len() == 2 {
            break;
        }
    }
    assert_eq!(owners.keys().collect::<Vec<_>>(), ["a", "b"], "labs on both servers");
    let (lab_a, lab_b) = (&owners["a"], &owners["b"]);

    // Each lab is held by the server its prefix names, and only there.
    for (lab, home, other) in [(lab_a, &servers[0], &servers[1]), (lab_b, &servers[1], &servers[0])]
    {
        let there = open(home.addr, &lab.lab_id, "").await.expect("held by its own server");
        assert_eq!(there.follow_id, lab.follow_id);
        let elsewhere = open(other.addr, &lab.lab_id, "").await.unwrap_err();
        assert_eq!(elsewhere.code(), Code::NotFound, "{elsewhere:?}");
        let said = elsewhere.message();
        assert!(said.contains("was issued by server instance"), "{said}");
        assert!(said.contains("deploy/nginx.conf"), "{said}");
    }
    // A reload (Open with the lab id) always comes back to the same lab.
    for _ in 0..4 {
        for lab in [lab_a, lab_b] {
            let again = open(listen, &lab.lab_id, "").await.expect("a reload finds its lab");
            assert_eq!((again.role(), &again.follow_id), (pb::Role::Owner, &lab.follow_id));
        }
    }

    // Both play at once through the proxy, each to its own output, live
    // for its owner and its follower alike.
    let (outs_a, outs_b) = tokio::join!(
        play_through(listen, lab_a, "project1-sample"),
        play_through(listen, lab_b, "seed-test-2"),
    );
    let (want_a, want_b) = (bank_run("project1-sample"), bank_run("seed-test-2"));
    for out in outs_a {
        assert_eq!(out.trim_end(), want_a.trim_end(), "lab a's output");
    }
    for out in outs_b {
        assert_eq!(out.trim_end(), want_b.trim_end(), "lab b's output");
    }
}
