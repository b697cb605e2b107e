//! Three `bank branch` processes, each in its own network namespace, driven
//! from the host: the closest this machine gets to three machines.
//!
//! The namespaces hang off a bridge in the host namespace by veth pairs,
//! with private addresses made up for the test (10.231.N.1-3, the host at
//! 10.231.N.254). Each branch runs with the flags the compose file uses
//! (`--listen ...:50051 --allow-remote --cluster ... --data-dir ...`, token
//! from `BANK_TOKEN`). The test
//!
//! 1. runs a course input with `bank run --cluster` and compares the output
//!    with the course's;
//! 2. switches to background propagation, cuts branch 3's link
//!    (`ip link set ... down`), keeps sending writes to branches 1 and 2,
//!    restores the link, and checks that all three branches converge on the
//!    balance every acknowledged write adds up to;
//! 3. stops every branch with SIGTERM and expects a clean exit.
//!
//! It needs root and iproute2; where namespaces cannot be created it says so
//! and passes. Every wait is bounded, and a drop guard removes the
//! namespaces and the bridge and kills the branches even when it fails.

mod common;
use common::{course_file, wait_timeout};

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bank_backend::cluster::file::ClusterFile;
use bank_backend::cluster::remote::ExternalCluster;
use bank_backend::net::auth::Token;
use bank_backend::net::transport::ClientSecurity;
use bank_core::branch::PropagationMode;
use bank_core::{formats, BranchId};
use bank_proto as pb;
use bank_proto::admin_client::AdminClient;
use bank_proto::customer_client::CustomerClient;

const BRANCHES: u64 = 3;
const PORT: u16 = 50051;
const TOKEN: &str = "netns-test-token";
const P1_INPUT: &str = "p1-branch-propagation/jthak002+cse531/input_small.json";
const P1_OUTPUT: &str = "p1-branch-propagation/anuragbnrj+cse531/output.json";

/// Written straight to the terminal: libtest captures `println!`, and a
/// skipped test should say so.
fn say(message: &str) {
    let _ = writeln!(std::io::stderr(), "netns test: {message}");
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// The namespaces, the bridge, the branch processes and a scratch directory;
/// all removed on drop.
struct Net {
    tag: String,
    subnet: u8,
    namespaces: Vec<String>,
    bridge: Option<String>,
    branches: Vec<Child>,
    dir: PathBuf,
}

impl Net {
    fn namespace(&self, id: u64) -> String {
        format!("bank7-{}-{id}", self.tag)
    }
    /// The host end of branch `id`'s veth pair (at most 15 characters).
    fn host_link(&self, id: u64) -> String {
        format!("b7h{}x{id}", self.tag)
    }
    fn addr(&self, id: u64) -> String {
        format!("10.231.{}.{id}:{PORT}", self.subnet)
    }

    /// `Err` with the reason when this machine cannot make namespaces.
    fn create() -> Result<Net, String> {
        let pid = std::process::id();
        let tag = (pid % 100_000).to_string();
        // A /24 no interface uses yet.
        let used = Command::new("ip")
            .args(["-4", "-o", "addr"])
            .output()
            .map_err(|e| format!("running ip: {e}"))?;
        let used = String::from_utf8_lossy(&used.stdout).into_owned();
        let subnet = (0..250u32)
            .map(|i| ((pid + i) % 250 + 1) as u8)
            .find(|n| !used.contains(&format!("10.231.{n}.")))
            .ok_or("no free 10.231.x.0/24 subnet")?;
        let dir = std::env::temp_dir().join(format!("bank-netns-{pid}"));
        let mut net =
            Net { tag, subnet, namespaces: Vec::new(), bridge: None, branches: Vec::new(), dir };

        // The first namespace doubles as the permission check.
        let first = net.namespace(1);
        ip(&["netns", "add", &first])?;
        net.namespaces.push(first);
        std::fs::create_dir_all(&net.dir).map_err(|e| e.to_string())?;
        net.wire_up().map_err(|e| format!("setting up the namespaces failed: {e}"))?;
        Ok(net)
    }

    fn wire_up(&mut self) -> Result<(), String> {
        let bridge = format!("b7br{}", self.tag);
        ip(&["link", "add", &bridge, "type", "bridge"])?;
        self.bridge = Some(bridge.clone());
        ip(&["addr", "add", &format!("10.231.{}.254/24", self.subnet), "dev", &bridge])?;
        ip(&["link", "set", &bridge, "up"])?;
        for id in 1..=BRANCHES {
            let ns = self.namespace(id);
            if !self.namespaces.contains(&ns) {
                ip(&["netns", "add", &ns])?;
                self.namespaces.push(ns.clone());
            }
            let host = self.host_link(id);
            let inner = format!("b7n{}x{id}", self.tag);
            ip(&["link", "add", &host, "type", "veth", "peer", "name", &inner])?;
            ip(&["link", "set", &inner, "netns", &ns])?;
            ip(&["link", "set", &host, "master", &bridge])?;
            ip(&["link", "set", &host, "up"])?;
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("10.231.{}.{id}/24", self.subnet),
                "dev",
                &inner,
            ])?;
            ip(&["-n", &ns, "link", "set", &inner, "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        }
        Ok(())
    }

    fn cluster_file(&self) -> PathBuf {
        let mut text = String::from("# Written by backend/tests/netns.rs\n");
        for id in 1..=BRANCHES {
            text +=
                &format!("\n[[branch]]\nid = {id}\naddr = \"{}\"\nbalance = 400\n", self.addr(id));
        }
        let path = self.dir.join("cluster.toml");
        std::fs::write(&path, text).expect("writing the cluster file");
        path
    }

    /// Starts `bank branch` in namespace `id` and waits for it to listen.
    fn start_branch(&mut self, id: u64, cluster: &Path) {
        let ns = self.namespace(id);
        let listen = self.addr(id);
        let data = self.dir.join(format!("branch{id}"));
        let mut child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns,
                env!("CARGO_BIN_EXE_bank"),
                "branch",
                "--id",
                &id.to_string(),
            ])
            .args(["--listen", &listen, "--allow-remote", "--cluster", cluster.to_str().unwrap()])
            .args(["--data-dir", data.to_str().unwrap()])
            .env("BANK_TOKEN", TOKEN)
            // Retries while the link is cut are logged as warnings: noise here.
            .env("BANK_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting bank branch");
        let stdout = child.stdout.take().unwrap();
        self.branches.push(child);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("branch {id} did not start listening"));
        assert!(line.contains(&format!("listening on {listen}")), "branch {id}: {line}");
        assert!(line.contains("token on"), "branch {id}: {line}");
        assert!(data.is_dir(), "--data-dir is created");
    }

    fn set_link(&self, id: u64, up: bool) {
        ip(&["link", "set", &self.host_link(id), if up { "up" } else { "down" }])
            .expect("switching the link");
    }

    /// SIGTERM to every branch; each must exit 0 within a few seconds.
    fn stop_branches(&mut self) {
        for child in &self.branches {
            // `ip netns exec` execs the command: the child is the branch.
            let ok = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .map(|s| s.success());
            assert!(matches!(ok, Ok(true)), "sending SIGTERM");
        }
        for (i, child) in std::mem::take(&mut self.branches).into_iter().enumerate() {
            let status = wait_timeout(child, Duration::from_secs(10));
            let status = status
                .unwrap_or_else(|| panic!("branch {} did not stop within 10 s of SIGTERM", i + 1));
            assert!(status.success(), "branch {} exited with {status}", i + 1);
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for child in &mut self.branches {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Deleting either end of a veth pair deletes both (deleting the
        // namespace would too, but the kernel does that asynchronously).
        for id in 1..=BRANCHES {
            let _ = ip(&["link", "del", &self.host_link(id)]);
        }
        for ns in &self.namespaces {
            let _ = ip(&["netns", "del", ns]);
        }
        if let Some(bridge) = &self.bridge {
            let _ = ip(&["link", "del", bridge]);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `bank run` with a time limit.
fn bank_run(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bank"))
        .arg("run")
        .args(args)
        .env("BANK_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting bank run");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let status = wait_timeout(child, limit);
    let status =
        status.unwrap_or_else(|| panic!("bank run {} took longer than {limit:?}", args.join(" ")));
    Output {
        status,
        stdout: out.join().unwrap().into_bytes(),
        stderr: err.join().unwrap().into_bytes(),
    }
}

#[test]
fn branch_processes_in_network_namespaces_run_a_course_input_and_survive_a_cut_link() {
    let mut net = match Net::create() {
        Ok(net) => net,
        Err(why) => {
            say(&format!(
                "SKIPPED: cannot create network namespaces here (needs root and iproute2): {why}"
            ));
            return;
        }
    };
    let cluster = net.cluster_file();
    for id in 1..=BRANCHES {
        net.start_branch(id, &cluster);
    }

    // 1. A course input, from the host namespace, as a user would run it.
    let out = bank_run(
        &["--cluster", cluster.to_str().unwrap(), course_file(P1_INPUT).to_str().unwrap()],
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "bank run --cluster failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = std::fs::read_to_string(course_file(P1_OUTPUT)).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), expected.trim_end());

    // 2. A cut link, with writes going on.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(120), cut_link_and_converge(&net, &cluster))
                .await
        })
        .expect("the cut-link phase ends within 120 s");

    // 3. Clean shutdown.
    net.stop_branches();
}

async fn cut_link_and_converge(net: &Net, cluster_path: &Path) {
    let file = ClusterFile::load(cluster_path).unwrap();
    let security = ClientSecurity { token: Some(Token::new(TOKEN).unwrap()), tls: None };
    let cluster = ExternalCluster::connect(&file, &security).unwrap();
    // Every branch starts at 400 again, now answering customers before the
    // peers have the write.
    let scenario =
        formats::parse_input(&std::fs::read_to_string(course_file(P1_INPUT)).unwrap(), P1_INPUT)
            .unwrap();
    cluster.reset(&scenario, Default::default(), PropagationMode::Background).await.expect("reset");
    let mut expected: i64 = 40_000; // 400.00, in cents
    let mut customer = 100u64;
    let mut write = |branch: u64, cents: i64| {
        customer += 1;
        let op = if cents >= 0 { pb::Operation::Deposit } else { pb::Operation::Withdraw };
        let request = pb::CustomerRequest {
            customer_id: customer,
            event_id: customer,
            branch_id: branch,
            operation: op as i32,
            amount_cents: cents.abs(),
            clock: 1,
            session: Some(pb::Session { write_set: vec![], ..Default::default() }),
        };
        let channel = cluster.channels()[&BranchId(branch)].clone();
        async move {
            let reply = tokio::time::timeout(
                Duration::from_secs(10),
                CustomerClient::new(channel).request(request),
            )
            .await
            .unwrap_or_else(|_| panic!("branch {branch} answers within 10 s"))
            .unwrap_or_else(|s| panic!("branch {branch}: {s}"))
            .into_inner();
            matches!(reply.result, Some(pb::customer_reply::Result::Success(_)))
        }
    };

    // One write everywhere while all is well.
    for branch in 1..=BRANCHES {
        assert!(write(branch, 1_000).await);
        expected += 1_000;
    }

    net.set_link(3, false);
    // Writes at the two branches still connected, acknowledged at once
    // (background propagation) while branch 3 cannot be reached.
    for round in 0..10 {
        for branch in [1, 2] {
            let cents = if round % 3 == 2 { -300 } else { 500 };
            if write(branch, cents).await {
                expected += cents;
            }
        }
    }
    net.set_link(3, true);

    // Once every branch is quiet, every write reached every branch.
    let mut balances = Vec::new();
    for (id, channel) in cluster.channels() {
        let state = tokio::time::timeout(
            Duration::from_secs(60),
            AdminClient::new(channel.clone())
                .inspect(pb::InspectRequest { wait_until_quiet: true, brief: true }),
        )
        .await
        .unwrap_or_else(|_| panic!("{id} did not become quiet within 60 s of the link coming back"))
        .unwrap_or_else(|s| panic!("{id}: {s}"))
        .into_inner();
        balances.push((id.0, state.balance_cents));
    }
    assert!(
        balances.iter().all(|(_, b)| *b == expected),
        "branches {balances:?}, every acknowledged write adds up to {expected}"
    );
}
