//! Where a domain's mail goes: the smarthost, the address of a domain literal, or the MX
//! candidates mx-resolve plans (RFC 5321 section 5.1; address literals bypass DNS there).

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mx_resolve::plan::{LocalCheck, PlanConfig};
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
        /// With [`PlanConfig::is_local`] asking the [`Wildcard`] when the SMTP listener on the
        /// remote port is bound to an unspecified address (`--bind 0.0.0.0` or `::`): every
        /// address of this host is then ours.
        plan: PlanConfig,
        port: u16,
    },
}

/// Our addresses when a listener on the remote port is bound to a whole family (`0.0.0.0`,
/// `::`): loopback, and every address of this host. An address is this host's when a UDP
/// socket can be bound to it (the kernel refuses another's with `EADDRNOTAVAIL`), which
/// needs neither an interface listing nor a new dependency; the answer is cached per
/// address for [`Wildcard::TTL`] (then the address is probed again, so an address added to
/// or removed from this host is noticed), for at most [`Wildcard::CACHE`] addresses (then
/// the cache starts over, so it stays small). `::` takes IPv4 too unless Linux's
/// `net.ipv6.bindv6only` is set. Where the kernel lets any
/// address be bound (Linux's `net.ipv4.ip_nonlocal_bind` or `net.ipv6.ip_nonlocal_bind`
/// set, as on hosts with floating addresses), the probe would call every MX ours: that
/// family then counts loopback only, and a warning says so.
#[derive(Debug)]
pub(super) struct Wildcard {
    /// IPv4 addresses are ours (`0.0.0.0`, or `::`, which also takes IPv4 on Linux unless
    /// `net.ipv6.bindv6only` is set).
    v4: bool,
    /// IPv6 addresses are ours (`::`).
    v6: bool,
    /// Whether binding tells this host's addresses apart, per family (IPv4, IPv6).
    probe: (bool, bool),
    /// Each probed address: whether it is ours, and when it was probed.
    cache: Mutex<HashMap<IpAddr, (bool, Instant)>>,
}

/// Whether a `net.ipv4.ip_nonlocal_bind`-style sysctl file says any address may be bound.
fn nonlocal_bind(contents: Option<&str>) -> bool {
    contents.is_some_and(|c| c.trim() != "0")
}

/// Whether a listener on `::` also takes IPv4, by the contents of
/// `/proc/sys/net/ipv6/bindv6only` (a missing file: yes, as Linux's default is 0).
fn dual_stack(bindv6only: Option<&str>) -> bool {
    bindv6only.is_none_or(|c| c.trim() == "0")
}

impl Wildcard {
    /// Addresses whose answer is kept at most.
    const CACHE: usize = 256;
    /// How long a probe's answer is kept.
    const TTL: Duration = Duration::from_secs(5 * 60);

    /// The wildcard of listeners bound to `unspecified` addresses, if there are any.
    pub(super) fn of(unspecified: &[IpAddr]) -> Option<Wildcard> {
        Wildcard::with_sysctl(unspecified, |path| std::fs::read_to_string(path).ok())
    }

    /// [`Wildcard::of`], reading the `/proc/sys` files named by their path with `sysctl`.
    fn with_sysctl(
        unspecified: &[IpAddr],
        sysctl: impl Fn(&str) -> Option<String>,
    ) -> Option<Wildcard> {
        let v6 = unspecified.iter().any(IpAddr::is_ipv6);
        let v4 = unspecified.iter().any(IpAddr::is_ipv4)
            || (v6 && dual_stack(sysctl("/proc/sys/net/ipv6/bindv6only").as_deref()));
        if !(v4 || v6) {
            return None;
        }
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
        self.is_ours_at(address, Instant::now())
    }

    /// [`Wildcard::is_ours`] at time `now`, which decides whether a cached answer is still
    /// good.
    fn is_ours_at(&self, address: IpAddr, now: Instant) -> bool {
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
        if let Some(&(ours, probed)) = cache.get(&address) {
            if now.saturating_duration_since(probed) < Self::TTL {
                return ours;
            }
        }
        let ours = UdpSocket::bind(SocketAddr::new(address, 0)).is_ok();
        if cache.len() >= Self::CACHE && !cache.contains_key(&address) {
            cache.clear();
        }
        cache.insert(address, (ours, now));
        ours
    }
}

/// The planner's configuration: `local` our declared addresses, and with a `wildcard` every
/// address it calls ours (the planner drops those exchanges and the worse ones before its
/// address cap, and a better exchange whose lookup failed temporarily defers the mail rather
/// than a loop bouncing it).
fn plan_config(local: Vec<IpAddr>, wildcard: Option<Wildcard>) -> PlanConfig {
    PlanConfig {
        local_addresses: local,
        is_local: wildcard.map(|wildcard| {
            let wildcard = Arc::new(wildcard);
            LocalCheck::new(move |address| wildcard.is_ours(address))
        }),
        ..PlanConfig::default()
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
        Router::Mx {
            resolver,
            plan: plan_config(local, wildcard),
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

#[cfg(test)]
mod tests {
    use super::*;
    use mx_resolve::plan::{Candidate, LookupFailure, PlanError, SeededRng, plan_with};
    use mx_resolve::wire::{CLASS_IN, Header, Message, Name, Question, RData, Record, RecordType};
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// A NOERROR answer to `name`/`rtype` holding `data`.
    fn answer(name: &Name, rtype: RecordType, data: Vec<RData>) -> Message {
        Message {
            header: Header {
                response: true,
                ..Header::default()
            },
            questions: vec![Question {
                name: name.clone(),
                qtype: rtype,
                qclass: CLASS_IN,
            }],
            answers: data
                .into_iter()
                .map(|data| Record {
                    name: name.clone(),
                    rtype,
                    class: CLASS_IN,
                    ttl: 60,
                    data,
                })
                .collect(),
            ..Message::default()
        }
    }

    /// The plan for `destination` of a server bound to 0.0.0.0, keeping at most
    /// `max_addresses`, from these MX records of example.org. and A records; every other
    /// lookup times out.
    fn plan(
        destination: &str,
        mx: &[(u16, &str)],
        a: &[(&str, Ipv4Addr)],
        max_addresses: usize,
        seed: u64,
    ) -> Result<Vec<Candidate>, PlanError> {
        let wildcard = Wildcard::of(&[IpAddr::V4(Ipv4Addr::UNSPECIFIED)]).expect("0.0.0.0");
        let config = PlanConfig {
            max_addresses,
            ..plan_config(Vec::new(), Some(wildcard))
        };
        plan_with(destination, config, SeededRng::new(seed), |name, rtype| {
            let owner = name.to_string();
            let data: Vec<RData> = match rtype {
                RecordType::Mx if owner == "example.org." => mx
                    .iter()
                    .map(|(preference, exchange)| RData::Mx {
                        preference: *preference,
                        exchange: exchange.parse().expect("name"),
                    })
                    .collect(),
                RecordType::A => a
                    .iter()
                    .filter(|(host, _)| *host == owner)
                    .map(|(_, address)| RData::A(*address))
                    .collect(),
                _ => Vec::new(),
            };
            match data.is_empty() {
                true => Err(LookupFailure::Timeout),
                false => Ok(answer(name, rtype, data)),
            }
        })
    }

    fn candidate(exchange: &str, preference: u16, address: &str) -> Candidate {
        Candidate {
            exchange: exchange.parse::<Name>().expect("name"),
            preference,
            address: address.parse().expect("address"),
        }
    }

    /// The address `192.0.2.N`.
    fn doc(n: u8) -> Ipv4Addr {
        Ipv4Addr::new(192, 0, 2, n)
    }

    #[test]
    fn a_better_exchange_that_failed_temporarily_defers_rather_than_loops() {
        // Primary's lookups time out; what is left is us (localhost at 127.0.0.1).
        let error = plan(
            "example.org",
            &[(10, "primary.example.org."), (20, "localhost.")],
            &[("localhost.", Ipv4Addr::LOCALHOST)],
            10,
            1,
        )
        .unwrap_err();
        assert!(!error.is_permanent(), "{error}");
        assert_eq!(error.enhanced_status(), "4.4.3");
        assert_eq!(
            error.to_string(),
            "AAAA lookup of primary.example.org.: timed out"
        );
    }

    #[test]
    fn our_exchange_and_worse_ones_are_dropped_and_none_left_is_a_loop() {
        let kept = plan(
            "example.org",
            &[
                (10, "mx1.example.org."),
                (20, "localhost."),
                (20, "mx3.example.org."),
                (30, "mx4.example.org."),
            ],
            &[
                ("mx1.example.org.", doc(1)),
                ("localhost.", Ipv4Addr::LOCALHOST),
                ("mx3.example.org.", doc(3)),
                ("mx4.example.org.", doc(4)),
            ],
            10,
            1,
        );
        assert_eq!(
            kept,
            Ok(vec![candidate("mx1.example.org.", 10, "192.0.2.1")])
        );
        // Our own address is found before the address cap: with two places, the peers at our
        // preference do not push it out and take its place, whatever the shuffle.
        for seed in 0..8 {
            let kept = plan(
                "example.org",
                &[
                    (10, "mx1.example.org."),
                    (20, "localhost."),
                    (20, "mx3.example.org."),
                    (20, "mx5.example.org."),
                ],
                &[
                    ("mx1.example.org.", doc(1)),
                    ("localhost.", Ipv4Addr::LOCALHOST),
                    ("mx3.example.org.", doc(3)),
                    ("mx5.example.org.", doc(5)),
                ],
                2,
                seed,
            );
            assert_eq!(
                kept,
                Ok(vec![candidate("mx1.example.org.", 10, "192.0.2.1")])
            );
        }

        let error = plan(
            "example.org",
            &[(0, "localhost."), (5, "b.example.org.")],
            &[
                ("localhost.", Ipv4Addr::LOCALHOST),
                ("b.example.org.", doc(9)),
            ],
            10,
            1,
        )
        .unwrap_err();
        assert_eq!(error.enhanced_status(), "5.4.6");
        assert_eq!(
            error.to_string(),
            "mail for example.org. loops back to myself (best mail exchanger localhost. has a \
             local address)"
        );
        // An address literal that is ours.
        let error = plan("[127.0.0.1]", &[], &[], 10, 1).unwrap_err();
        assert_eq!(error.enhanced_status(), "5.4.6");

        let elsewhere = plan(
            "example.org",
            &[(10, "mx.example.org.")],
            &[("mx.example.org.", doc(1))],
            10,
            1,
        );
        assert_eq!(
            elsewhere,
            Ok(vec![candidate("mx.example.org.", 10, "192.0.2.1")])
        );
    }

    #[test]
    fn a_probed_answer_is_probed_again_after_five_minutes() {
        let wildcard = Wildcard::of(&[IpAddr::V4(Ipv4Addr::UNSPECIFIED)]).expect("0.0.0.0");
        // Not this host's: an address of TEST-NET-3 nothing here has.
        let foreign: IpAddr = "203.0.113.254".parse().unwrap();
        assert!(
            UdpSocket::bind((foreign, 0)).is_err(),
            "this host has {foreign}"
        );
        let then = Instant::now();
        // As if the address had been this host's when it was probed.
        wildcard
            .cache
            .lock()
            .expect("cache")
            .insert(foreign, (true, then));
        assert!(wildcard.is_ours_at(foreign, then + Duration::from_secs(4 * 60)));
        assert!(!wildcard.is_ours_at(foreign, then + Wildcard::TTL));
        // The new answer is the one kept.
        assert!(!wildcard.is_ours_at(foreign, then + Wildcard::TTL + Duration::from_secs(60)));
    }

    #[test]
    fn a_v6_only_kernel_keeps_ipv4_out_of_the_wildcard_of_ipv6() {
        let bindv6only = |value: Option<&'static str>| {
            move |path: &str| {
                assert_eq!(
                    path.contains("ip_nonlocal_bind"),
                    path != "/proc/sys/net/ipv6/bindv6only"
                );
                match path {
                    "/proc/sys/net/ipv6/bindv6only" => value.map(str::to_owned),
                    _ => None,
                }
            }
        };
        let any6 = [IpAddr::V6(Ipv6Addr::UNSPECIFIED)];
        let loopback4: IpAddr = "127.0.0.1".parse().unwrap();
        let v6_only = Wildcard::with_sysctl(&any6, bindv6only(Some("1\n"))).expect("::");
        assert!(!v6_only.is_ours(loopback4));
        assert!(v6_only.is_ours(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        for dual in [Some("0\n"), None] {
            let wildcard = Wildcard::with_sysctl(&any6, bindv6only(dual)).expect("::");
            assert!(wildcard.is_ours(loopback4), "{dual:?}");
        }
        // A listener on 0.0.0.0 beside it takes IPv4 whatever the setting.
        let both = [IpAddr::V4(Ipv4Addr::UNSPECIFIED), any6[0]];
        let wildcard = Wildcard::with_sysctl(&both, bindv6only(Some("1\n"))).expect("both");
        assert!(wildcard.is_ours(loopback4));
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
}
