//! `cargo bench -p bank-core --bench retained`: the memory a write leaves in
//! the branches' state machines, with nothing of the network around them.
//!
//! Not a test (nothing is asserted). The load is section 5's of
//! `backend/benches/cluster.rs` without the network: 20 branches, parallel
//! propagation, customers with the course's guarantees making 20 deposits
//! each round-robin over the branches; every message is delivered at once
//! by this loop. After a warm-up, the resident memory is read after
//! `N` more writes and after `2N` more: the difference over `N` is what a write
//! keeps (its log entries on every branch, its applied record on every
//! branch, the write sets), with nothing of the network in it.

use std::collections::VecDeque;

use bank_core::branch::{Effect, Input, PropagationMode, ReplyToken};
use bank_core::*;

const BRANCHES: u64 = 20;
const SESSION_WRITES: u64 = 20;

/// The bank, its customers, and the messages in flight.
struct Bank {
    branches: Vec<Branch>,
    next_token: u64,
    writes: u64,
}

impl Bank {
    fn new() -> Bank {
        let ids: Vec<BranchId> = (1..=BRANCHES).map(BranchId).collect();
        let branches = ids
            .iter()
            .map(|&id| {
                Branch::new(BranchConfig {
                    id,
                    peers: ids.clone(),
                    initial_balance: Cents::ZERO,
                    clock_scheme: ClockScheme::default(),
                    propagation: PropagationMode::Parallel,
                })
            })
            .collect();
        Bank { branches, next_token: 0, writes: 0 }
    }

    fn token(&mut self) -> ReplyToken {
        self.next_token += 1;
        ReplyToken(self.next_token)
    }

    /// One session of [`SESSION_WRITES`] deposits, each delivered everywhere
    /// and answered before the next.
    fn session(&mut self, customer: u64) {
        let mut session = Session::new(CustomerId(customer));
        for i in 0..SESSION_WRITES {
            let branch = BranchId((customer + i) % BRANCHES + 1);
            let request = session.request(EventId(i + 1), branch, Op::Deposit(Cents(1)));
            let token = self.token();
            let mut queue = VecDeque::from([(branch, Input::Request { token, request })]);
            while let Some((at, input)) = queue.pop_front() {
                for effect in self.branches[(at.0 - 1) as usize].handle(input) {
                    match effect {
                        Effect::Send { to, propagation } => {
                            let token = self.token();
                            queue.push_back((to, Input::Propagate { token, propagation }));
                        }
                        Effect::AckPeer { ack, .. } => {
                            let origin = ack.write.origin;
                            queue.push_back((origin, Input::Ack(ack)));
                        }
                        Effect::Reply { reply, .. } => {
                            assert!(reply.outcome.is_success(), "{reply:?}");
                            session.observe(&reply);
                            self.writes += 1;
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

/// This process's resident memory, bytes (`VmRSS` in /proc/self/status).
/// One thread and the system allocator: it grows with the heap kept.
fn live() -> isize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: isize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("a VmRSS line");
    kib * 1024
}

fn main() {
    let n: u64 = std::env::args()
        .skip_while(|a| a != "--sessions")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let mut bank = Bank::new();
    let mut customer = 0;
    let mut run = |bank: &mut Bank, sessions: u64| {
        for _ in 0..sessions {
            customer += 1;
            bank.session(customer);
        }
    };
    run(&mut bank, n);
    let (w0, b0) = (bank.writes, live());
    run(&mut bank, n);
    let (w1, b1) = (bank.writes, live());
    run(&mut bank, 2 * n);
    let (w2, b2) = (bank.writes, live());
    let kib = |b: isize| b as f64 / 1024.0;
    println!(
        "{BRANCHES} branches: resident {:.1} KiB after {w0} writes, {:.1} KiB after {w1}, {:.1} KiB after {w2}",
        kib(b0),
        kib(b1),
        kib(b2)
    );
    println!(
        "kept per write: {:.0} bytes (last {} writes), {:.0} bytes (the {} before)",
        (b2 - b1) as f64 / (w2 - w1) as f64,
        w2 - w1,
        (b1 - b0) as f64 / (w1 - w0) as f64,
        w1 - w0
    );
    println!(
        "sizes: LogEntry {} B, StoredWrite {} B, Applied {} B, WriteSet {} B",
        size_of::<LogEntry>(),
        size_of::<branch::StoredWrite>(),
        size_of::<branch::Applied>(),
        size_of::<WriteSet>()
    );
}
