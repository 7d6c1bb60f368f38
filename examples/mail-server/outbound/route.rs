//! Where a domain's mail goes: the smarthost, the address of a domain literal, or the MX
//! candidates mx-resolve plans (RFC 5321 section 5.1; address literals bypass DNS there).

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Mutex;

use mx_resolve::plan::{Candidate, PlanConfig, PlanError};
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
        /// Set when the SMTP listener on the remote port is bound to an unspecified address
        /// (`--bind 0.0.0.0` or `::`): every address of this host is then ours.
        wildcard: Option<Wildcard>,
    },
}

/// Our addresses when a listener on the remote port is bound to a whole family (`0.0.0.0`,
/// `::`): loopback, and every address of this host. An address is this host's when a UDP
/// socket can be bound to it (the kernel refuses another's with `EADDRNOTAVAIL`), which
/// needs neither an interface listing nor a new dependency; the answer is cached per
/// address, for at most [`Wildcard::CACHE`] addresses (then the cache starts over, so
/// it stays small and an address that moved is found again). Where the kernel lets any
/// address be bound (Linux's `net.ipv4.ip_nonlocal_bind` or `net.ipv6.ip_nonlocal_bind`
/// set, as on hosts with floating addresses), the probe would call every MX ours: that
/// family then counts loopback only, and a warning says so.
#[derive(Debug)]
pub(super) struct Wildcard {
    /// IPv4 addresses are ours (`0.0.0.0`, or `::`, which also takes IPv4 on Linux).
    v4: bool,
    /// IPv6 addresses are ours (`::`).
    v6: bool,
    /// Whether binding tells this host's addresses apart, per family (IPv4, IPv6).
    probe: (bool, bool),
    cache: Mutex<HashMap<IpAddr, bool>>,
}

/// Whether a `net.ipv4.ip_nonlocal_bind`-style sysctl file says any address may be bound.
fn nonlocal_bind(contents: Option<&str>) -> bool {
    contents.is_some_and(|c| c.trim() != "0")
}

impl Wildcard {
    /// Addresses whose answer is kept at most.
    const CACHE: usize = 256;

    /// The wildcard of listeners bound to `unspecified` addresses, if there are any.
    pub(super) fn of(unspecified: &[IpAddr]) -> Option<Wildcard> {
        let v6 = unspecified.iter().any(IpAddr::is_ipv6);
        let v4 = v6 || unspecified.iter().any(IpAddr::is_ipv4);
        if !(v4 || v6) {
            return None;
        }
        let sysctl = |path: &str| std::fs::read_to_string(path).ok();
        let nonlocal = [
            ("net.ipv4.ip_nonlocal_bind", v4),
            ("net.ipv6.ip_nonlocal_bind", v6),
        ]
        .map(|(name, used)| {
            let on = used
                && nonlocal_bind(
                    sysctl(&format!("/proc/sys/{}", name.replace('.', "/"))).as_deref(),
                );
            if on {
                warn!(
                    sysctl = name,
                    "any address may be bound here: MX loop detection counts only loopback \
                     addresses of this family as this server's"
                );
            }
            on
        });
        Some(Wildcard {
            v4,
            v6,
            probe: (!nonlocal[0], !nonlocal[1]),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Whether `address` is ours: loopback (127.0.0.0/8, ::1) or an address of this host,
    /// in a family the wildcard listener takes.
    pub(super) fn is_ours(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        let (family, probe) = match address {
            IpAddr::V4(_) => (self.v4, self.probe.0),
            IpAddr::V6(_) => (self.v6, self.probe.1),
        };
        if !family {
            return false;
        }
        if address.is_loopback() {
            return true;
        }
        if !probe {
            return false;
        }
        // A poisoned lock only means another thread panicked while holding a cache.
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(&ours) = cache.get(&address) {
            return ours;
        }
        let ours = UdpSocket::bind(SocketAddr::new(address, 0)).is_ok();
        if cache.len() >= Self::CACHE {
            cache.clear();
        }
        cache.insert(address, ours);
        ours
    }

    /// The loop detection of the planner (`mx_resolve::plan`), for the addresses it cannot
    /// know are ours: the best exchange with one of our addresses and every exchange of
    /// equal or higher preference are dropped; when that leaves none, we are the best mail
    /// exchanger and the mail loops back to us (`5.4.6`).
    fn filter(
        &self,
        domain: &str,
        candidates: Vec<Candidate>,
    ) -> Result<Vec<Candidate>, PlanError> {
        let Some(ours) = candidates
            .iter()
            .filter(|c| self.is_ours(c.address))
            .min_by_key(|c| c.preference)
            .cloned()
        else {
            return Ok(candidates);
        };
        let kept: Vec<Candidate> = candidates
            .into_iter()
            .filter(|c| c.preference < ours.preference)
            .collect();
        match kept.is_empty() {
            true => Err(PlanError::LoopsBackToMyself {
                domain: domain.to_owned(),
                exchange: ours.exchange,
            }),
            false => Ok(kept),
        }
    }
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
    /// own addresses for loop detection, and `wildcard` all of this host's when a listener
    /// on the remote port is bound to an unspecified address.
    pub(super) fn mx(
        dns: Option<SocketAddr>,
        port: u16,
        local: Vec<IpAddr>,
        wildcard: Option<Wildcard>,
    ) -> Router {
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
            wildcard,
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
                wildcard,
            } => {
                let planned = resolver.plan(domain, plan).await;
                let planned = match wildcard {
                    Some(wildcard) => planned.and_then(|c| wildcard.filter(domain, c)),
                    None => planned,
                };
                let candidates = planned.map_err(|error| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use mx_resolve::wire::Name;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn candidate(exchange: &str, preference: u16, address: &str) -> Candidate {
        Candidate {
            exchange: exchange.parse::<Name>().expect("name"),
            preference,
            address: address.parse().expect("address"),
        }
    }

    #[test]
    fn only_a_listener_bound_to_a_whole_family_makes_a_wildcard() {
        assert!(Wildcard::of(&[]).is_none());
        let v4 = Wildcard::of(&[IpAddr::V4(Ipv4Addr::UNSPECIFIED)]).expect("0.0.0.0");
        assert!(v4.is_ours("127.0.0.1".parse().unwrap()));
        // All of 127.0.0.0/8 is loopback, and an IPv4-mapped address is the IPv4 one.
        assert!(v4.is_ours("127.0.0.2".parse().unwrap()));
        assert!(v4.is_ours("::ffff:127.0.0.1".parse().unwrap()));
        // This host's own address: the source address of a route to the outside (a UDP
        // "connection" sends nothing), when the host has such a route.
        let probe = UdpSocket::bind("0.0.0.0:0").expect("a UDP socket");
        if probe.connect("203.0.113.1:9").is_ok() {
            let own = probe.local_addr().expect("local address").ip();
            assert!(v4.is_ours(own), "{own}");
        }
        // Not this host's (an address of TEST-NET-3 nothing here has), nor a family it does
        // not take.
        let foreign: IpAddr = "203.0.113.254".parse().unwrap();
        assert!(
            UdpSocket::bind((foreign, 0)).is_err(),
            "this host has {foreign}"
        );
        assert!(!v4.is_ours(foreign));
        assert!(!v4.is_ours(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        let v6 = Wildcard::of(&[IpAddr::V6(Ipv6Addr::UNSPECIFIED)]).expect("::");
        assert!(v6.is_ours(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert!(v6.is_ours("127.0.0.1".parse().unwrap()));
        assert!(!v6.is_ours("2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn a_kernel_that_binds_any_address_turns_the_probe_off() {
        assert!(!nonlocal_bind(Some("0\n")));
        assert!(nonlocal_bind(Some("1\n")));
        assert!(!nonlocal_bind(None));
        let loopback_only = Wildcard {
            v4: true,
            v6: true,
            probe: (false, false),
            cache: Mutex::new(HashMap::new()),
        };
        assert!(loopback_only.is_ours("127.0.0.1".parse().unwrap()));
        // This host's own address is not recognised without the probe.
        let probe = UdpSocket::bind("0.0.0.0:0").expect("a UDP socket");
        if probe.connect("203.0.113.1:9").is_ok() {
            let own = probe.local_addr().expect("local address").ip();
            assert!(!loopback_only.is_ours(own), "{own}");
        }
    }

    #[test]
    fn the_cache_stays_bounded() {
        let wildcard = Wildcard::of(&[IpAddr::V4(Ipv4Addr::UNSPECIFIED)]).expect("0.0.0.0");
        // 600 addresses from 203.0.113.0 on, each asked once.
        for n in 0..600u32 {
            wildcard.is_ours(IpAddr::V4(Ipv4Addr::from(0xcb00_7100 + n)));
        }
        let cached = wildcard.cache.lock().expect("cache").len();
        assert!(cached <= Wildcard::CACHE, "{cached}");
    }

    #[test]
    fn our_exchange_and_worse_ones_are_dropped_and_none_left_is_a_loop() {
        let wildcard = Wildcard::of(&[IpAddr::V4(Ipv4Addr::UNSPECIFIED)]).expect("0.0.0.0");
        let planned = vec![
            candidate("mx1.example.", 10, "192.0.2.1"),
            candidate("us.example.", 20, "127.0.0.1"),
            candidate("mx3.example.", 20, "192.0.2.3"),
            candidate("mx4.example.", 30, "192.0.2.4"),
        ];
        let kept = wildcard.filter("example", planned).expect("a better MX");
        assert_eq!(kept, [candidate("mx1.example.", 10, "192.0.2.1")]);

        let only_us = vec![
            candidate("localhost.", 0, "127.0.0.1"),
            candidate("b.example.", 5, "192.0.2.9"),
        ];
        let error = wildcard.filter("self.example", only_us).unwrap_err();
        assert_eq!(error.enhanced_status(), "5.4.6");
        assert_eq!(
            error.to_string(),
            "mail for self.example loops back to myself (best mail exchanger localhost. has a \
             local address)"
        );

        let elsewhere = vec![candidate("mx.example.", 10, "192.0.2.1")];
        assert_eq!(wildcard.filter("example", elsewhere.clone()), Ok(elsewhere));
    }
}
