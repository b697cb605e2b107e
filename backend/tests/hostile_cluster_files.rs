//! Hostile input for the cluster file parser (`cluster.toml`,
//! [`ClusterFile::parse`]) and the `--peers` list ([`parse_peers`]): valid
//! files broken the way a careless or hostile user would (truncated, bytes
//! inserted, numbers made huge, keys and tables written twice, unicode).
//! Whatever comes in: no panic (debug build, overflow checks on), an answer
//! within a bounded time, and either a checked file or an error that names
//! the file (and its line and column when TOML knows them).

use std::path::Path;
use std::time::{Duration, Instant};

use bank_backend::cluster::file::{parse_peers, ClusterFile, ClusterFileError};
use bank_core::formats::MAX_BRANCHES;
use bank_core::Cents;
use proptest::prelude::*;

const VALID: &str = r#"
token = "s3cret"
[tls]
ca = "ca.pem"
domain = "bank.lab"

[[branch]]
id = 1
addr = "10.231.0.1:50051"
balance = 400

[[branch]]
id = 2
addr = "branch2:50051"
balance = 400.5

[[branch]]
id = 3
addr = "[fd00::3]:50051"
balance = "12.05"
"#;

const TIME_LIMIT: Duration = Duration::from_secs(5);

fn splice() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("18446744073709551616".to_owned()),
        Just("92233720368547758.07".to_owned()),
        Just("1e400".to_owned()),
        Just("nan".to_owned()),
        Just("-inf".to_owned()),
        Just("1_000.5_0".to_owned()),
        Just("\nid = 1\n".to_owned()),
        Just("\n[[branch]]\n".to_owned()),
        Just("\n[tls]\n".to_owned()),
        Just("\"".to_owned()),
        Just("'''".to_owned()),
        Just("é漢🦀\u{0}\u{7f}".to_owned()),
        (1usize..3_000).prop_map(|n| "[".repeat(n)),
        (1usize..3_000).prop_map(|n| format!("x = {}", "{a = ".repeat(n))),
        "\\PC{0,12}",
        any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

fn boundary(text: &str, at: usize) -> usize {
    let mut i = at % (text.len() + 1);
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Truncates, inserts or replaces at char boundaries.
fn mutate(text: &str, kind: u8, at: usize, with: &str) -> String {
    let i = boundary(text, at);
    match kind % 3 {
        0 => text[..i].to_owned(),
        1 => format!("{}{with}{}", &text[..i], &text[i..]),
        _ => {
            let j = boundary(text, i.saturating_add(with.len()).min(text.len())).max(i);
            format!("{}{with}{}", &text[..i], &text[j..])
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn cluster_files_never_panic_and_errors_name_the_file(
        edits in prop::collection::vec((any::<u8>(), any::<usize>(), splice()), 1..4),
    ) {
        let text = edits.iter().fold(VALID.to_owned(), |t, (k, at, w)| mutate(&t, *k, *at, w));
        let started = Instant::now();
        let parsed = ClusterFile::parse(&text, "cluster.toml", Path::new("/etc/bank"));
        prop_assert!(started.elapsed() < TIME_LIMIT, "took {:?}", started.elapsed());
        match parsed {
            Ok(file) => {
                prop_assert!(!file.branches.is_empty() && file.branches.len() <= MAX_BRANCHES);
                for b in file.branches.values() {
                    if let Some(balance) = b.balance {
                        prop_assert!(balance >= Cents::ZERO && balance <= Cents::MAX);
                    }
                }
            }
            Err(ClusterFileError::Invalid { location, message }) => {
                prop_assert!(location.starts_with("cluster.toml"), "{location}");
                if let Some(place) = location.strip_prefix("cluster.toml:") {
                    let mut parts = place.split(':').map(|p| p.parse::<usize>().unwrap_or(0));
                    let lines = text.matches('\n').count() + 1;
                    let line = parts.next().unwrap_or(0);
                    prop_assert!(line >= 1 && line <= lines, "line {line} of {lines}");
                    prop_assert!(parts.next().unwrap_or(0) >= 1);
                }
                prop_assert!(!message.is_empty());
            }
            Err(e) => prop_assert!(false, "parse never reads files: {e}"),
        }
    }

    #[test]
    fn peers_lists_never_panic(text in prop_oneof![
        "\\PC{0,40}",
        "([0-9]{1,22}=[a-z.:0-9\\[\\]]{0,20},?){0,5}",
    ]) {
        if let Ok(peers) = parse_peers(&text) {
            prop_assert!(!peers.is_empty());
        }
    }
}

#[test]
fn the_seed_is_valid() {
    ClusterFile::parse(VALID, "cluster.toml", Path::new("/etc/bank")).unwrap();
}
