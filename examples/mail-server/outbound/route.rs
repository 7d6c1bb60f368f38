//! Where a domain's mail goes: the smarthost, the address of a domain literal, or the MX
//! candidates mx-resolve plans (RFC 5321 section 5.1).

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use smtp_proto::client::Printable;

/// A failure to find where to deliver, for every recipient of the domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RouteError {
    /// Bounce with this enhanced status code.
    Permanent { status: String, diagnostic: String },
    /// Try again later.
    Temporary { diagnostic: String },
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::Permanent { status, diagnostic } => write!(f, "{status} {diagnostic}"),
            RouteError::Temporary { diagnostic } => f.write_str(diagnostic),
        }
    }
}

/// One server to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    /// The host name (the MX exchange without its trailing dot, the smarthost as given) or
    /// the address of a domain literal: the TLS server name and what logs show.
    pub(super) name: String,
    /// Where to connect.
    pub(super) addr: SocketAddr,
    /// The smarthost (TLS required and verified, AUTH) rather than an MX.
    pub(super) smarthost: bool,
}

impl Target {
    /// `name[address]:port`, as Postfix logs a relay.
    pub(super) fn remote(&self) -> String {
        format!("{}[{}]:{}", self.name, self.addr.ip(), self.addr.port())
    }

    /// What idle connections are cached under.
    pub(super) fn key(&self) -> (SocketAddr, bool) {
        (self.addr, self.smarthost)
    }
}

/// How destinations are found.
#[derive(Debug)]
pub(super) enum Router {
    /// `--smarthost HOST:PORT`.
    Smarthost { host: String, port: u16 },
    /// MX lookups, with the remote port and our own addresses.
    Mx { port: u16, local: Vec<IpAddr> },
}

impl Router {
    pub(super) fn smarthost(host: &str, port: u16) -> Router {
        Router::Smarthost {
            host: host.to_owned(),
            port,
        }
    }

    pub(super) fn mx(
        _dns: Option<SocketAddr>,
        port: u16,
        local: Vec<IpAddr>,
    ) -> Result<Router, String> {
        Ok(Router::Mx { port, local })
    }

    /// The destination the per-destination limit counts: the domain, lowercased, or the one
    /// smarthost.
    pub(super) fn destination(&self, domain: &str) -> String {
        match self {
            Router::Smarthost { host, port } => format!("smarthost {host}:{port}"),
            Router::Mx { .. } => domain.to_lowercase(),
        }
    }

    /// The servers to try for `domain`, in order.
    pub(super) async fn targets(&self, domain: &str) -> Result<Vec<Target>, RouteError> {
        match self {
            Router::Smarthost { host, port } => smarthost_targets(host, *port).await,
            Router::Mx { port, local } => {
                if domain.starts_with('[') {
                    let ip = parse_literal(domain)?;
                    if local.contains(&ip) {
                        return Err(loops_back(domain));
                    }
                    return Ok(vec![Target {
                        name: ip.to_string(),
                        addr: SocketAddr::new(ip, *port),
                        smarthost: false,
                    }]);
                }
                Err(RouteError::Temporary {
                    diagnostic: format!(
                        "cannot look up the mail exchangers of {}: no resolver",
                        Printable(domain.as_bytes())
                    ),
                })
            }
        }
    }
}

/// RFC 5321 section 5.1: a best MX that is ourselves is a configuration error.
fn loops_back(domain: &str) -> RouteError {
    RouteError::Permanent {
        status: "5.4.6".into(),
        diagnostic: format!(
            "mail for {} loops back to myself",
            Printable(domain.as_bytes())
        ),
    }
}

/// The addresses of the smarthost: itself when it is an address, else the system resolver's
/// answer for the configured name.
async fn smarthost_targets(host: &str, port: u16) -> Result<Vec<Target>, RouteError> {
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| RouteError::Temporary {
                diagnostic: format!("cannot resolve the smarthost {host}: {e}"),
            })?
            .collect(),
    };
    Ok(addrs
        .into_iter()
        .map(|addr| Target {
            name: host.to_owned(),
            addr,
            smarthost: true,
        })
        .collect())
}

/// A domain literal (RFC 5321 section 4.1.3): `[192.0.2.1]` or `[IPv6:2001:db8::1]`.
/// Anything else between brackets (a general address literal) cannot be delivered to.
pub(super) fn parse_literal(domain: &str) -> Result<IpAddr, RouteError> {
    let bad = || RouteError::Permanent {
        status: "5.1.2".into(),
        diagnostic: format!(
            "{} is not an address literal this server can deliver to",
            Printable(domain.as_bytes())
        ),
    };
    let inner = domain
        .strip_prefix('[')
        .and_then(|d| d.strip_suffix(']'))
        .ok_or_else(bad)?;
    let ip = match inner.get(..5) {
        Some(tag) if tag.eq_ignore_ascii_case("IPv6:") => inner
            .get(5..)
            .and_then(|v6| v6.parse::<Ipv6Addr>().ok())
            .map(IpAddr::V6),
        _ => inner.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4),
    };
    ip.ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_literals() {
        assert_eq!(
            parse_literal("[192.0.2.1]").unwrap(),
            "192.0.2.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            parse_literal("[IPv6:2001:db8::1]").unwrap(),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            parse_literal("[ipv6:::1]").unwrap(),
            "::1".parse::<IpAddr>().unwrap()
        );
        for bad in [
            "[]",
            "[192.0.2]",
            "[2001:db8::1]",
            "[IPv6:192.0.2.1]",
            "[x-tag:stuff]",
            "[192.0.2.1",
            "[\u{e9}]",
        ] {
            match parse_literal(bad) {
                Err(RouteError::Permanent { status, .. }) => assert_eq!(status, "5.1.2", "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
