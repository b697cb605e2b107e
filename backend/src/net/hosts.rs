//! Which `Host` a request to `bank serve` may name: a guard against DNS
//! rebinding.
//!
//! `bank serve`'s lab has no login: whoever can send it requests can load
//! scenarios and inject faults. Binding to loopback keeps other machines
//! out, but not a web page in the user's own browser: a page on
//! `evil.example` can make its name resolve to 127.0.0.1 and then call the
//! lab as "same origin". Such a request still says `Host: evil.example`, so
//! the server answers only requests whose `Host` (or HTTP/2 `:authority`)
//! is one of its own names, and `421 Misdirected Request` to the rest:
//!
//! * for a loopback address: `127.0.0.1`, `localhost` and `[::1]` with the
//!   port it listens on;
//! * for another address (with `--allow-remote`): that address with the
//!   port; for `0.0.0.0` or `[::]`, any IP address with the port, and
//!   `localhost` (an IP address cannot be rebound: it names itself);
//! * the authorities of the `--dev-origin`s (the `trunk serve` proxy may
//!   pass the browser's `Host` on);
//! * every `--public-host NAME` (any port) or `NAME:PORT` (that port): the
//!   names a reverse proxy or a DNS entry gives the server.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::{header, HeaderValue, StatusCode};

/// A `--public-host` entry: a name, optionally with the one port it is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicHost {
    name: String,
    port: Option<u16>,
}

impl PublicHost {
    /// `NAME` or `NAME:PORT` (`[IPv6]` in brackets); no scheme, no path.
    pub fn parse(text: &str) -> Result<PublicHost, String> {
        let bad = |why: &str| format!("--public-host {text:?}: {why}");
        if text.is_empty() {
            return Err(bad("give a host name, e.g. bank.example.org"));
        }
        if text.contains("://") || text.contains('/') || text.contains(char::is_whitespace) {
            return Err(bad("give just the host name (no scheme, no path)"));
        }
        let (name, port) = split_host(text).ok_or_else(|| bad("not a host name or host:port"))?;
        Ok(PublicHost { name, port })
    }
}

/// The `Host` values a server answers; see the module docs.
#[derive(Clone, Debug)]
pub struct AllowedHosts {
    listen: SocketAddr,
    dev: Vec<(String, Option<u16>)>,
    public: Vec<PublicHost>,
}

impl AllowedHosts {
    /// For a server listening on `listen` (the bound address, with its real
    /// port), its `--dev-origin`s and `--public-host`s.
    pub fn new(listen: SocketAddr, dev_origins: &[HeaderValue], public: Vec<PublicHost>) -> Self {
        let dev = dev_origins
            .iter()
            .filter_map(|o| o.to_str().ok())
            .filter_map(|o| o.split_once("://").map(|(_, authority)| authority))
            .filter_map(split_host)
            .collect();
        AllowedHosts { listen, dev, public }
    }

    /// Whether a request naming `host` (a `Host` header value) is for us.
    pub fn allows(&self, host: &str) -> bool {
        let Some((name, port)) = split_host(host) else { return false };
        let port_is_ours = port.unwrap_or(80) == self.listen.port();
        let ip = name.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok();
        let bound = self.listen.ip();
        let ours = if bound.is_unspecified() {
            ip.is_some() || name == "localhost"
        } else if bound.is_loopback() {
            name == "localhost" || ip.is_some_and(|ip| ip.is_loopback())
        } else {
            ip == Some(bound)
        };
        (ours && port_is_ours)
            || self.dev.iter().any(|(n, p)| *n == name && *p == port)
            || self.public.iter().any(|h| h.name == name && h.port.is_none_or(|p| Some(p) == port))
    }

    /// The names a refusal lists as the ones served.
    fn served(&self) -> String {
        let port = self.listen.port();
        let bound = self.listen.ip();
        let mut names = if bound.is_loopback() || bound.is_unspecified() {
            vec![format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")]
        } else {
            vec![self.listen.to_string()]
        };
        names.extend(self.public.iter().map(|h| match h.port {
            Some(p) => format!("{}:{p}", h.name),
            None => h.name.clone(),
        }));
        names.join(", ")
    }
}

/// `app`, answering only requests whose `Host` `hosts` allows (others get
/// 421 with a one-line explanation).
pub fn guard(app: Router, hosts: AllowedHosts) -> Router {
    let hosts = Arc::new(hosts);
    app.layer(axum::middleware::from_fn(move |request: Request, next: Next| {
        let hosts = hosts.clone();
        async move {
            // HTTP/1.1 says `Host`; HTTP/2 (native gRPC) says `:authority`.
            let host = match request.headers().get(header::HOST) {
                Some(value) => value.to_str().ok().map(str::to_owned),
                None => request.uri().authority().map(|a| a.as_str().to_owned()),
            };
            match host {
                Some(host) if hosts.allows(&host) => next.run(request).await,
                host => refuse(&hosts, host.as_deref()),
            }
        }
    }))
}

fn refuse(hosts: &AllowedHosts, host: Option<&str>) -> Response {
    let named = host.map_or_else(|| "no host".to_owned(), |h| format!("host {h:?}"));
    tracing::warn!("refused a request for {named} (DNS rebinding?)");
    let body = format!(
        "bank serve does not answer for {named}: it serves {}. If that name is this server's, \
         start it with --public-host NAME.\n",
        hosts.served()
    );
    (StatusCode::MISDIRECTED_REQUEST, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body)
        .into_response()
}

/// `name` (lowercase) and the port, if given, of `host` or `host:port`
/// (`[IPv6]:port` in brackets); `None` if it is neither.
fn split_host(text: &str) -> Option<(String, Option<u16>)> {
    let text = text.to_ascii_lowercase();
    let (name, port) = if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?.parse().ok()?),
        };
        (format!("[{inside}]"), port)
    } else {
        match text.rsplit_once(':') {
            Some((name, port)) => (name.to_owned(), Some(port.parse().ok()?)),
            None => (text.clone(), None),
        }
    };
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-._[]:".contains(c))
        && (name.starts_with('[') || !name.contains(':'));
    valid.then_some((name, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(listen: &str, public: &[&str]) -> AllowedHosts {
        let dev = [HeaderValue::from_static("http://127.0.0.1:8081")];
        let public = public.iter().map(|p| PublicHost::parse(p).unwrap()).collect();
        AllowedHosts::new(listen.parse().unwrap(), &dev, public)
    }

    #[test]
    fn a_loopback_server_answers_its_loopback_names_only() {
        let h = hosts("127.0.0.1:8080", &[]);
        for good in ["127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080", "[::1]:8080"] {
            assert!(h.allows(good), "{good}");
        }
        // The dev proxy may pass the browser's Host on.
        assert!(h.allows("127.0.0.1:8081"));
        for bad in [
            "evil.example:8080",
            "evil.example",
            "localhost:9999",
            "127.0.0.1",
            "192.168.1.5:8080",
            "localhost.evil.example:8080",
            "",
            "[::1",
            "a b:8080",
        ] {
            assert!(!h.allows(bad), "{bad}");
        }
    }

    #[test]
    fn public_hosts_and_other_bind_addresses() {
        let h = hosts("0.0.0.0:8080", &["bank.example.org", "lab.example.org:443"]);
        assert!(h.allows("192.168.1.5:8080") && h.allows("localhost:8080"));
        assert!(h.allows("bank.example.org") && h.allows("bank.example.org:8080"));
        assert!(h.allows("lab.example.org:443") && !h.allows("lab.example.org:8080"));
        assert!(!h.allows("evil.example:8080") && !h.allows("192.168.1.5:9"));
        let h = hosts("10.0.0.2:8080", &[]);
        assert!(h.allows("10.0.0.2:8080") && !h.allows("10.0.0.3:8080"));
        assert!(!h.allows("localhost:8080"), "not served on loopback");
    }

    #[test]
    fn public_host_flags_are_host_names() {
        assert!(PublicHost::parse("bank.example.org").is_ok());
        assert!(PublicHost::parse("[::1]:8080").is_ok());
        for bad in ["", "http://bank.example.org", "bank.example.org/lab", "a b", "host:port"] {
            assert!(PublicHost::parse(bad).is_err(), "{bad}");
        }
    }
}
