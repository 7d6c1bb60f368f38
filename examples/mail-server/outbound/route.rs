//! Where a domain's mail goes: the smarthost, the address of a domain literal, or the MX
//! candidates mx-resolve plans (RFC 5321 section 5.1; address literals bypass DNS there).

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use mx_resolve::plan::PlanConfig;
use mx_resolve::tokio::{Resolver, ResolverConfig};
use tracing::warn;

/// A failure to find where to deliver, for every recipient of the domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RouteError {
    /// Bounce with this enhanced status code (`5.x.y`) and text.
    Permanent { status: String, diagnostic: String },
    /// Try again later, for this reason.
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

    /// What idle connections are cached under: the address, the name (a connection whose
    /// certificate was checked for one name is no connection to another name at the same
    /// address; the name is also what results and logs show), and whether it is the
    /// smarthost.
    pub(super) fn key(&self) -> (SocketAddr, String, bool) {
        (self.addr, self.name.to_ascii_lowercase(), self.smarthost)
    }
}

/// How destinations are found.
#[derive(Debug)]
pub(super) enum Router {
    /// `--smarthost HOST:PORT`: every domain goes there.
    Smarthost { host: String, port: u16 },
    /// MX lookups (and address literals, which need none) by mx-resolve's planner, on the
    /// remote port.
    Mx {
        resolver: Resolver,
        plan: PlanConfig,
        port: u16,
    },
}

impl Router {
    pub(super) fn smarthost(host: &str, port: u16) -> Router {
        Router::Smarthost {
            host: host.to_owned(),
            port,
        }
    }

    /// MX routing: nameserver `dns`, else those of `/etc/resolv.conf` (without one, every
    /// lookup fails temporarily and only address literals are delivered); `local` are our
    /// own addresses for loop detection.
    pub(super) fn mx(dns: Option<SocketAddr>, port: u16, local: Vec<IpAddr>) -> Router {
        let resolver = match dns {
            Some(server) => Resolver::new(ResolverConfig {
                nameservers: vec![server],
                ..ResolverConfig::default()
            }),
            None => Resolver::from_system().unwrap_or_else(|error| {
                warn!(
                    %error,
                    "cannot read /etc/resolv.conf: MX lookups fail until --dns names a \
                     nameserver"
                );
                Resolver::new(ResolverConfig::default())
            }),
        };
        let plan = PlanConfig {
            local_addresses: local,
            ..PlanConfig::default()
        };
        Router::Mx {
            resolver,
            plan,
            port,
        }
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
            Router::Mx {
                resolver,
                plan,
                port,
            } => {
                let candidates = resolver.plan(domain, plan).await.map_err(|error| {
                    let diagnostic = error.to_string();
                    match error.is_permanent() {
                        true => RouteError::Permanent {
                            status: error.enhanced_status().to_owned(),
                            diagnostic,
                        },
                        false => RouteError::Temporary { diagnostic },
                    }
                })?;
                Ok(candidates
                    .into_iter()
                    .map(|candidate| Target {
                        // An address literal has no name: its address is the TLS name.
                        name: match candidate.exchange.is_root() {
                            true => candidate.address.to_string(),
                            false => candidate
                                .exchange
                                .to_string()
                                .trim_end_matches('.')
                                .to_owned(),
                        },
                        addr: SocketAddr::new(candidate.address, *port),
                        smarthost: false,
                    })
                    .collect())
            }
        }
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
