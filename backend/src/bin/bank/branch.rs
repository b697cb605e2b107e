//! `bank branch`: one branch server as its own process, until SIGTERM or
//! Ctrl-C.
//!
//! Everything is checked before anything listens: the cluster file or
//! `--peers`, the token, the TLS files, the listen address (loopback unless
//! `--allow-remote`) and the data directory. Then the branch serves
//! ([`bank_backend::branch::standalone::serve`]) and exits with status 0
//! once stopped.

use std::net::SocketAddr;

use anyhow::Context;
use bank_backend::branch::standalone::{self, BranchProcess, BranchProcessError};
use bank_backend::cluster::file::ClusterFile;
use bank_backend::net::auth::Token;
use bank_backend::net::transport::TlsFiles;
use bank_backend::shutdown::interrupted;
use bank_core::BranchId;

use crate::args::BranchArgs;
use crate::exit::Failure;
use crate::runtime::runtime;
use crate::stdout::outln;

/// `bank branch`; see the module docs.
pub fn branch(args: BranchArgs) -> Result<(), Failure> {
    let id = BranchId(args.id);

    let file = args.cluster.as_deref().map(ClusterFile::load).transpose();
    let file = file?;
    let mut process = match (&file, &args.peers) {
        (Some(file), _) => {
            BranchProcess::from_cluster_file(file, id).map_err(Failure::bad_input)?
        }
        (None, Some(peers)) => {
            if peers.contains_key(&id) && peers.len() == 1 {
                return Err(Failure::BadInput(format!(
                    "--peers lists only this branch ({}); list the other branches",
                    args.id
                )));
            }
            let others = peers.iter().filter(|(p, _)| **p != id);
            BranchProcess::new(id, others.map(|(p, a)| (*p, a.clone())).collect())
        }
        (None, None) => unreachable!("clap requires --peers or --cluster"),
    };
    if let Some(balance) = args.balance {
        process.balance = balance;
    }
    process.propagation = args.propagation.into();
    process.data_dir = args.data_dir.clone();
    let file_token = file.as_ref().and_then(|f| f.token.as_deref());
    process.token = Token::from_sources(args.token.as_deref(), file_token)
        .map_err(|e| Failure::BadInput(format!("token: {e}")))?;
    let flags = TlsFiles {
        ca: args.tls_ca.clone(),
        cert: args.tls_cert.clone(),
        key: args.tls_key.clone(),
        domain: args.tls_domain.clone(),
    };
    if !flags.is_empty() || flags.domain.is_some() {
        // Flags replace the cluster file's [tls] as a whole.
        process.tls = flags;
    }

    let listen_text = match (&args.listen, &file) {
        (Some(listen), _) => listen.clone(),
        (None, Some(file)) => file.branches[&id].addr.clone(),
        (None, None) => {
            return Err(Failure::BadInput(
                "give --listen (the address this branch listens on)".into(),
            ))
        }
    };
    let listen = resolve(&listen_text).map_err(Failure::BadInput)?;
    standalone::check_listen(listen, args.allow_remote).map_err(Failure::bad_input)?;

    if let Some(dir) = &process.data_dir {
        standalone::prepare_data_dir(dir).map_err(|e| Failure::Unwritable(e.into()))?;
    }

    let runtime = runtime()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        // Before the "listening" line: whoever reads it may stop us at once.
        let stop = interrupted();
        let peers: Vec<String> =
            process.peers.iter().map(|(p, a)| format!("{}={a}", p.0)).collect();
        if !addr.ip().is_loopback() {
            eprintln!(
                "warning: branch {} listens on {addr}, reachable from other machines",
                args.id
            );
        }
        let _ = outln!(
            "bank branch {} listening on {addr} (peers {}; token {}; TLS {}; \
             SIGTERM or Ctrl-C to stop)",
            args.id,
            peers.join(","),
            if process.token.is_some() { "on" } else { "off" },
            if process.tls.cert.is_some() { "on" } else { "off" },
        );
        standalone::serve(process, listener, stop).await.map_err(|e| match e {
            BranchProcessError::Setup(e) => Failure::bad_input(e),
            e if e.is_unreadable_store() => Failure::bad_input(e),
            e @ BranchProcessError::DataDir { .. } => Failure::Unwritable(e.into()),
            e => Failure::Internal(e.into()),
        })?;
        eprintln!("branch {} stopped", args.id);
        Ok(())
    })
}

/// `host:port` to one socket address (names are looked up).
fn resolve(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    bank_backend::net::transport::check_addr(text).map_err(|e| e.to_string())?;
    text.to_socket_addrs()
        .map_err(|e| format!("cannot resolve {text}: {e}"))?
        .next()
        .ok_or_else(|| format!("{text} resolves to no address"))
}
