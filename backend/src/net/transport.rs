//! How branches and drivers reach each other: plain, with a token, with TLS.
//!
//! Every gRPC client in the backend (a node's peers, the customer runner,
//! the external-cluster driver) talks through one type, [`BankChannel`]: a
//! lazily-connected tonic [`Channel`] behind the [`AddToken`] interceptor.
//! With no token configured the interceptor does nothing, so the in-process
//! cluster pays nothing for it.
//!
//! TLS uses tonic's rustls support (the `tls-ring` feature) and is on only
//! when certificates are given ([`TlsFiles`]): a server needs its
//! certificate and key; a client needs the certificate of the authority that
//! signed the servers' certificates (for a self-signed certificate, that
//! certificate itself).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tonic::service::interceptor::InterceptedService;
use tonic::transport::{
    Certificate, Channel, ClientTlsConfig, Endpoint, Identity, ServerTlsConfig,
};

use crate::net::auth::{AddToken, Token};

/// A channel to one branch that adds the token (if any) to every call.
pub type BankChannel = InterceptedService<Channel, AddToken>;

/// A channel without token.
pub fn plain(channel: Channel) -> BankChannel {
    InterceptedService::new(channel, AddToken::default())
}

/// A channel that adds `token` to every call (an in-process cluster's
/// per-run token, see [`Token::random`]).
pub fn with_token(channel: Channel, token: &Token) -> BankChannel {
    InterceptedService::new(channel, AddToken::new(Some(token.clone())))
}

/// What a client needs to be let in.
#[derive(Clone, Debug, Default)]
pub struct ClientSecurity {
    pub token: Option<Token>,
    pub tls: Option<ClientTls>,
}

/// Client TLS: whom to trust, and the name to expect in the certificates.
#[derive(Clone, Debug)]
pub struct ClientTls {
    ca_pem: Vec<u8>,
    /// The name the servers' certificates are issued for, when the address
    /// dialled is not in them (e.g. an IP address). `None`: the host dialled.
    domain: Option<String>,
}

/// Server TLS: the certificate and key a branch presents.
#[derive(Clone, Debug)]
pub struct ServerTls {
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
}

impl ServerTls {
    pub fn config(&self) -> ServerTlsConfig {
        ServerTlsConfig::new().identity(Identity::from_pem(&self.cert_pem, &self.key_pem))
    }
}

/// A bad address or TLS set-up.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("invalid branch address {addr:?} (expected host:port): {message}")]
    Address { addr: String, message: String },
    #[error("cannot read {what} {path}: {source}")]
    Read { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Tls(String),
}

/// Certificate files as given on the command line or in a cluster file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// The authority clients trust (PEM).
    pub ca: Option<PathBuf>,
    /// This branch's certificate chain (PEM).
    pub cert: Option<PathBuf>,
    /// This branch's private key (PEM).
    pub key: Option<PathBuf>,
    /// The name in the certificates, if the addresses are not.
    pub domain: Option<String>,
}

impl TlsFiles {
    pub fn is_empty(&self) -> bool {
        self.ca.is_none() && self.cert.is_none() && self.key.is_none()
    }

    /// The client side: `None` without a CA (plain connections).
    pub fn client(&self) -> Result<Option<ClientTls>, TransportError> {
        let Some(ca) = &self.ca else {
            if self.cert.is_some() {
                return Err(TransportError::Tls(
                    "TLS needs the certificate authority too (--tls-ca, or `ca` under [tls]); for a self-signed certificate, give the certificate itself"
                        .into(),
                ));
            }
            return Ok(None);
        };
        Ok(Some(ClientTls { ca_pem: read("CA certificate", ca)?, domain: self.domain.clone() }))
    }

    /// The server side: `None` without certificate and key.
    pub fn server(&self) -> Result<Option<ServerTls>, TransportError> {
        match (&self.cert, &self.key) {
            (None, None) => {
                if self.ca.is_some() {
                    return Err(TransportError::Tls(
                        "a branch with TLS needs its certificate and key (--tls-cert and --tls-key, or `cert` and `key` under [tls])".into(),
                    ));
                }
                Ok(None)
            }
            (Some(cert), Some(key)) => Ok(Some(ServerTls {
                cert_pem: read("certificate", cert)?,
                key_pem: read("private key", key)?,
            })),
            _ => Err(TransportError::Tls(
                "give both the certificate and its key (--tls-cert and --tls-key)".into(),
            )),
        }
    }
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TransportError> {
    std::fs::read(path).map_err(|source| TransportError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

/// Checks `addr` is `host:port` (a name, an IPv4 address, or `[IPv6]`, and
/// a port number) without resolving it.
pub fn check_addr(addr: &str) -> Result<(), TransportError> {
    let bad = |message: &str| TransportError::Address {
        addr: addr.to_owned(),
        message: message.to_owned(),
    };
    let (host, port) = addr.rsplit_once(':').ok_or_else(|| bad("no port"))?;
    if host.is_empty() {
        return Err(bad("no host"));
    }
    if host.contains('/') || host.contains(char::is_whitespace) {
        return Err(bad("not a host name (no scheme or path: just host:port)"));
    }
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return Err(bad("write IPv6 addresses in brackets, e.g. [::1]:50051"));
    }
    port.parse::<u16>().map_err(|_| bad("the port must be a number from 0 to 65535"))?;
    Ok(())
}

/// A lazily-connected channel to the branch at `addr` (`host:port`):
/// connects on first use, and reconnects after the link comes back.
pub fn connect_lazy(addr: &str, security: &ClientSecurity) -> Result<BankChannel, TransportError> {
    check_addr(addr)?;
    let scheme = if security.tls.is_some() { "https" } else { "http" };
    let mut endpoint = Endpoint::from_shared(format!("{scheme}://{addr}"))
        .map_err(|e| TransportError::Address { addr: addr.to_owned(), message: e.to_string() })?
        .tcp_nodelay(true)
        // A cut link should fail a call (and let the node retry on a new
        // connection) rather than hang for minutes: connection attempts time
        // out, and HTTP/2 pings find a connection whose peer went silent.
        .connect_timeout(Duration::from_secs(2))
        .http2_keep_alive_interval(Duration::from_secs(1))
        .keep_alive_timeout(Duration::from_secs(2))
        .keep_alive_while_idle(true);
    if let Some(tls) = &security.tls {
        let mut config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&tls.ca_pem));
        if let Some(domain) = &tls.domain {
            config = config.domain_name(domain.clone());
        }
        endpoint = endpoint
            .tls_config(config)
            .map_err(|e| TransportError::Tls(format!("TLS for {addr}: {e}")))?;
    }
    Ok(InterceptedService::new(endpoint.connect_lazy(), AddToken::new(security.token.clone())))
}

/// A lazily-connected plain channel to a branch address on this machine or
/// a trusted network (connects on first use), with Nagle's algorithm off:
/// without that, each small gRPC reply can wait for the peer's delayed ACK.
pub fn channel_to(addr: std::net::SocketAddr) -> Channel {
    // `http://` and a socket address (an IPv6 one in brackets) always make
    // a valid URI.
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("a socket address makes a valid URI")
        .tcp_nodelay(true)
        .connect_lazy()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_host_and_port() {
        for good in ["10.231.0.1:50051", "branch1:50051", "[::1]:50051", "localhost:0"] {
            check_addr(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for (bad, why) in [
            ("10.231.0.1", "no port"),
            (":50051", "no host"),
            ("host:http", "port must be a number"),
            ("host:70000", "port must be a number"),
            ("::1:50051", "brackets"),
            ("http://host:1", "not a host"),
        ] {
            let e = check_addr(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn tls_needs_matching_files() {
        let none = TlsFiles::default();
        assert!(none.client().unwrap().is_none() && none.server().unwrap().is_none());
        let cert_only = TlsFiles { cert: Some("c.pem".into()), ..TlsFiles::default() };
        assert!(cert_only.client().unwrap_err().to_string().contains("certificate authority"));
        assert!(cert_only.server().unwrap_err().to_string().contains("both"));
        let missing = TlsFiles { ca: Some("/nonexistent/ca.pem".into()), ..TlsFiles::default() };
        assert!(missing.client().unwrap_err().to_string().contains("/nonexistent/ca.pem"));
    }
}
