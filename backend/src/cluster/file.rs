//! `cluster.toml`: where the branches of an external cluster listen.
//!
//! When branches run as separate processes (`bank branch`), possibly on
//! several machines, one small file tells everybody where everybody is:
//!
//! ```toml
//! # Optional: a shared secret every branch and driver must present
//! # (--token and BANK_TOKEN take precedence).
//! token = "correct-horse"
//!
//! # Optional: TLS. Paths are relative to this file.
//! [tls]
//! ca = "certs/ca.pem"          # whom clients trust
//! cert = "certs/branch.pem"    # what branches present
//! key = "certs/branch.key"
//! domain = "bank.lab"          # the name in the certificate, if addresses are IPs
//!
//! [[branch]]
//! id = 1
//! addr = "10.231.0.1:50051"    # host:port, as the others reach it
//! balance = 400                # optional: the starting balance (default 0)
//!
//! [[branch]]
//! id = 2
//! addr = "branch2:50051"
//! ```
//!
//! The same file serves `bank branch --cluster` (a branch finds its peers),
//! `bank run --cluster` and `bank serve --cluster` (a driver finds the
//! branches). `--peers 1=host:port,2=host:port` is the one-line alternative
//! for a branch, parsed by [`parse_peers`].
//!
//! Reading is strict: TOML itself refuses a key written twice; a file that
//! is not a regular file (a FIFO, a directory) is refused before it is
//! opened; at most [`MAX_BRANCHES`] branches; a balance is read from its
//! own digits (`400.5` never goes through a float) and at most
//! [`Cents::MAX`]. Errors in a `[[branch]]` name its `file:line:column`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bank_core::formats::MAX_BRANCHES;
use bank_core::{BranchId, Cents};
use serde::Deserialize;
use toml::Spanned;

use crate::net::transport::{check_addr, TlsFiles};

/// A parsed, checked cluster file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterFile {
    /// Every branch, by id.
    pub branches: BTreeMap<BranchId, BranchEntry>,
    pub token: Option<String>,
    /// Paths already resolved against the file's directory.
    pub tls: TlsFiles,
}

/// One `[[branch]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchEntry {
    /// `host:port`, as the other branches and the drivers reach it.
    pub addr: String,
    /// The starting balance (`bank branch` uses it unless `--balance` is given).
    pub balance: Option<Cents>,
}

/// Why a cluster file (or a `--peers` list) was refused.
#[derive(Debug, thiserror::Error)]
pub enum ClusterFileError {
    #[error("cannot read cluster file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    /// `location` is `file:line:column` when known, else the file.
    #[error("{location}: {message}")]
    Invalid { location: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    token: Option<String>,
    tls: Option<RawTls>,
    #[serde(default)]
    branch: Vec<Spanned<RawBranch>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    domain: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBranch {
    id: u64,
    addr: String,
    balance: Option<Spanned<toml::Value>>,
}

impl ClusterFile {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<ClusterFile, ClusterFileError> {
        let read_error =
            |source| ClusterFileError::Read { path: path.display().to_string(), source };
        // Opening a FIFO would block until a writer comes: look first.
        let kind = std::fs::metadata(path).map_err(read_error)?.file_type();
        if !kind.is_file() {
            return Err(read_error(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("not a regular file (it is {})", describe_file_type(kind)),
            )));
        }
        let text = std::fs::read_to_string(path).map_err(read_error)?;
        let base = path.parent().unwrap_or(Path::new("."));
        ClusterFile::parse(&text, &path.display().to_string(), base)
    }

    /// Parses `text`; `source` names it in errors, `base` is where relative
    /// TLS paths start.
    pub fn parse(text: &str, source: &str, base: &Path) -> Result<ClusterFile, ClusterFileError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let location = match e.span() {
                Some(span) => {
                    let (line, column) = line_column(text, span.start);
                    format!("{source}:{line}:{column}")
                }
                None => source.to_owned(),
            };
            ClusterFileError::Invalid { location, message: e.message().trim().to_owned() }
        })?;
        let invalid =
            |message: String| ClusterFileError::Invalid { location: source.to_owned(), message };
        let invalid_at = |offset: usize, message: String| {
            let (line, column) = line_column(text, offset);
            ClusterFileError::Invalid { location: format!("{source}:{line}:{column}"), message }
        };

        if raw.branch.is_empty() {
            return Err(invalid(
                "no branches: add one `[[branch]]` table (id, addr) per branch".into(),
            ));
        }
        if let Some(over) = raw.branch.get(MAX_BRANCHES) {
            return Err(invalid_at(
                over.span().start,
                format!("more than {MAX_BRANCHES} branches: the maximum is {MAX_BRANCHES}"),
            ));
        }
        let mut branches = BTreeMap::new();
        let mut seen_addrs = BTreeMap::new();
        for spanned in raw.branch {
            let at = spanned.span().start;
            let b = spanned.into_inner();
            if b.id == 0 {
                return Err(invalid_at(at, "branch ids start at 1".into()));
            }
            check_addr(&b.addr).map_err(|e| invalid_at(at, format!("branch {}: {e}", b.id)))?;
            if let Some(other) = seen_addrs.insert(b.addr.clone(), b.id) {
                return Err(invalid_at(
                    at,
                    format!("branches {other} and {} have the same address {}", b.id, b.addr),
                ));
            }
            let balance = b
                .balance
                .map(|v| {
                    let at = v.span().start;
                    parse_balance(text, &v)
                        .map_err(|e| invalid_at(at, format!("branch {}: {e}", b.id)))
                })
                .transpose()?;
            if branches.insert(BranchId(b.id), BranchEntry { addr: b.addr, balance }).is_some() {
                return Err(invalid_at(at, format!("branch {} is listed twice", b.id)));
            }
        }
        if raw.token.as_deref() == Some("") {
            return Err(invalid("`token` is empty: remove it, or give a secret".into()));
        }
        let tls = raw
            .tls
            .map(|t| TlsFiles {
                ca: t.ca.map(|p| base.join(p)),
                cert: t.cert.map(|p| base.join(p)),
                key: t.key.map(|p| base.join(p)),
                domain: t.domain,
            })
            .unwrap_or_default();
        Ok(ClusterFile { branches, token: raw.token, tls })
    }

    /// Every branch's address, by id.
    pub fn addrs(&self) -> BTreeMap<BranchId, String> {
        self.branches.iter().map(|(id, b)| (*id, b.addr.clone())).collect()
    }
}

/// A balance as TOML writes it: `400`, `400.5`, `1_000` or `"400.50"`,
/// read from the digits in `text` (never through a float).
fn parse_balance(text: &str, value: &Spanned<toml::Value>) -> Result<Cents, String> {
    let digits = match value.get_ref() {
        toml::Value::Integer(_) | toml::Value::Float(_) => {
            text.get(value.span()).unwrap_or_default().replace('_', "")
        }
        toml::Value::String(s) => s.clone(),
        other => return Err(format!("balance must be a number, not {}", other.type_str())),
    };
    Cents::parse(&digits).map_err(|e| format!("balance: {e}"))
}

/// What a file that is not a regular file is, for messages.
pub fn describe_file_type(kind: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// 1-based line and column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// `--peers 1=hostA:50051,2=hostB:50052`: branch id = address, comma-separated.
pub fn parse_peers(text: &str) -> Result<BTreeMap<BranchId, String>, String> {
    let mut peers = BTreeMap::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (id, addr) = item
            .split_once('=')
            .ok_or_else(|| format!("{item:?}: expected ID=HOST:PORT, e.g. 2=10.231.0.2:50051"))?;
        let id: u64 = id
            .trim()
            .parse()
            .map_err(|_| format!("{item:?}: the branch id must be a positive number"))?;
        if id == 0 {
            return Err(format!("{item:?}: branch ids start at 1"));
        }
        let addr = addr.trim();
        check_addr(addr).map_err(|e| e.to_string())?;
        if peers.insert(BranchId(id), addr.to_owned()).is_some() {
            return Err(format!("branch {id} is listed twice"));
        }
    }
    if peers.is_empty() {
        return Err("no peers given (expected ID=HOST:PORT,...)".into());
    }
    Ok(peers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ClusterFile, String> {
        ClusterFile::parse(text, "cluster.toml", Path::new("/etc/bank")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_full_file_parses() {
        let file = parse(
            r#"
token = "s3cret"
[tls]
ca = "ca.pem"
cert = "/abs/branch.pem"
key = "branch.key"
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
"#,
        )
        .unwrap();
        assert_eq!(file.token.as_deref(), Some("s3cret"));
        assert_eq!(file.tls.ca.as_deref(), Some(Path::new("/etc/bank/ca.pem")));
        assert_eq!(file.tls.cert.as_deref(), Some(Path::new("/abs/branch.pem")));
        assert_eq!(file.tls.domain.as_deref(), Some("bank.lab"));
        assert_eq!(file.branches.len(), 3);
        assert_eq!(
            file.branches[&BranchId(1)],
            BranchEntry { addr: "10.231.0.1:50051".into(), balance: Some(Cents(40000)) }
        );
        assert_eq!(file.branches[&BranchId(2)].balance, Some(Cents(40050)));
        assert_eq!(file.branches[&BranchId(3)].balance, Some(Cents(1205)));
        let exact =
            parse("[[branch]]\nid = 1\naddr = \"h:1\"\nbalance = 9_999_999_999_999.99\n").unwrap();
        assert_eq!(exact.branches[&BranchId(1)].balance, Some(Cents::MAX), "not via a float");
        assert_eq!(file.addrs()[&BranchId(2)], "branch2:50051");
    }

    #[test]
    fn balance_token_and_tls_are_optional() {
        let file = parse("[[branch]]\nid = 7\naddr = \"127.0.0.1:50057\"\n").unwrap();
        assert_eq!(file.branches[&BranchId(7)].balance, None);
        assert_eq!(file.token, None);
        assert!(file.tls.is_empty());
    }

    #[test]
    fn mistakes_are_named_with_their_place() {
        let cases = [
            ("[[branch]]\nid = 1\nadr = \"h:1\"\n", "cluster.toml:3:1: unknown field `adr`"),
            ("[[branch]]\nid = 1\n", "missing field `addr`"),
            ("[[branch]]\nid = 1\naddr = \"h\"\n", "branch 1: invalid branch address \"h\""),
            (
                "[[branch]]\nid = 1\naddr = \"h:1\"\n[[branch]]\nid = 1\naddr = \"h:2\"\n",
                "branch 1 is listed twice",
            ),
            (
                "[[branch]]\nid = 1\naddr = \"h:1\"\n[[branch]]\nid = 2\naddr = \"h:1\"\n",
                "same address h:1",
            ),
            ("[[branch]]\nid = 1\naddr = \"h:1\"\nbalance = -5\n", "branch 1: balance"),
            ("[[branch]]\nid = 1\naddr = \"h:1\"\nbalance = true\n", "must be a number"),
            ("[[branch]]\nid = 0\naddr = \"h:1\"\n", "cluster.toml:1:1: branch ids start at 1"),
            ("[[branch]]\nid = 1\nid = 2\naddr = \"h:1\"\n", "cluster.toml:3:1: duplicate key"),
            (
                "[[branch]]\nid = 1\naddr = \"h:1\"\nbalance = 92233720368547758.07\n",
                "cluster.toml:4:11: branch 1: balance: `92233720368547758.07` is above the maximum",
            ),
            ("[[branch]]\nid = 1\naddr = \"h:1\"\nbalance = 1e3\n", "is not an amount like 400"),
            ("[[branch]]\nid = 1\naddr = \"h:1\"\nbalance = nan\n", "is not an amount like 400"),
            ("token = \"x\"\n", "no branches"),
            ("[[branch]\n", "cluster.toml:1:"),
        ];
        for (text, expected) in cases {
            let e = parse(text).unwrap_err();
            assert!(e.contains(expected), "{text:?}: {e}");
        }
    }

    #[test]
    fn more_branches_than_the_maximum_are_refused_at_the_first_one_over() {
        let text: String = (1..=MAX_BRANCHES + 1)
            .map(|id| format!("[[branch]]\nid = {id}\naddr = \"h:{id}\"\n"))
            .collect();
        let e = parse(&text).unwrap_err();
        let line = 3 * MAX_BRANCHES + 1;
        assert!(e.starts_with(&format!("cluster.toml:{line}:1: more than 1000")), "{e}");
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = std::env::temp_dir().join(format!("bank-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("cluster.toml");
        let _ = std::fs::remove_file(&fifo);
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("skipped: mkfifo is not available");
            return;
        }
        let e = ClusterFile::load(&fifo).unwrap_err().to_string();
        assert!(e.contains("not a regular file (it is a FIFO)"), "{e}");
        let e = ClusterFile::load(&dir).unwrap_err().to_string();
        assert!(e.contains("it is a directory"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_file_names_the_path() {
        let e = ClusterFile::load(Path::new("/nonexistent/cluster.toml")).unwrap_err().to_string();
        assert!(e.contains("cannot read cluster file /nonexistent/cluster.toml"), "{e}");
    }

    #[test]
    fn peers_lists_parse_and_mistakes_are_explained() {
        let peers = parse_peers("1=hostA:50051, 2=10.0.0.2:50052").unwrap();
        assert_eq!(peers[&BranchId(1)], "hostA:50051");
        assert_eq!(peers[&BranchId(2)], "10.0.0.2:50052");
        for (text, expected) in [
            ("hostA:50051", "expected ID=HOST:PORT"),
            ("x=h:1", "positive number"),
            ("1=h", "no port"),
            ("1=h:1,1=h:2", "listed twice"),
            ("", "no peers"),
        ] {
            let e = parse_peers(text).unwrap_err();
            assert!(e.contains(expected), "{text:?}: {e}");
        }
    }
}
