//! The resolver's configuration, and reading it from `/etc/resolv.conf`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// Nameservers used at most, as glibc's resolver (`MAXNS`): later `nameserver` lines are
/// ignored.
pub const MAX_NAMESERVERS: usize = 3;

/// How the [`Resolver`](super::Resolver) queries. Build it from the default:
/// `ResolverConfig { nameservers, ..ResolverConfig::default() }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverConfig {
    /// Recursive nameservers, tried in order on each attempt (default: none; a resolver without
    /// nameservers fails every lookup with [`ResolveError::NoNameservers`](super::ResolveError)).
    pub nameservers: Vec<SocketAddr>,
    /// How long one try waits for an answer from one nameserver, over UDP, and again over TCP
    /// when the UDP answer was truncated (default 3 seconds).
    pub timeout: Duration,
    /// Rounds over the nameservers before a lookup fails (default 2, as glibc).
    pub attempts: usize,
    /// Answers kept in the cache at most (default 1024; 0 turns the cache off).
    pub cache_size: usize,
    /// The longest a positive answer stays cached, whatever its TTL (default one day).
    pub max_ttl: Duration,
    /// The longest a negative answer (NXDOMAIN, NODATA) stays cached, whatever its SOA says
    /// (default three hours: RFC 2308 section 5 finds one to three hours works well).
    pub max_negative_ttl: Duration,
    /// The UDP payload size advertised in an EDNS0 OPT record (default `Some(1232)`, the size
    /// that avoids IP fragmentation, DNS Flag Day 2020); `None` sends no OPT record, so answers
    /// over 512 octets come truncated and are asked again over TCP.
    pub edns_payload: Option<u16>,
}

impl Default for ResolverConfig {
    fn default() -> ResolverConfig {
        ResolverConfig {
            nameservers: Vec::new(),
            timeout: Duration::from_secs(3),
            attempts: 2,
            cache_size: 1024,
            max_ttl: Duration::from_secs(86_400),
            max_negative_ttl: Duration::from_secs(3 * 3600),
            edns_payload: Some(1232),
        }
    }
}

impl ResolverConfig {
    /// The configuration that the text of a `resolv.conf(5)` file describes: its `nameserver`
    /// lines (at most [`MAX_NAMESERVERS`], port 53; a scoped IPv6 address such as
    /// `fe80::1%eth0` is skipped) and the `timeout:N` (1 to 30 seconds) and `attempts:N` (1 to
    /// 5) options. Without a usable `nameserver` line, `127.0.0.1:53`, as glibc.
    ///
    /// `search`, `domain` and `ndots` are ignored on purpose: a relay must not complete a
    /// partial domain name (RFC 5321 section 5.1: "the domain name ... MUST be a fully-qualified
    /// domain name"; section 2.3.5 forbids relays to expand local abbreviations), so every name
    /// is looked up exactly as it is.
    ///
    /// ```
    /// use mx_resolve::tokio::ResolverConfig;
    /// let config = ResolverConfig::from_resolv_conf(
    ///     "search example.org\nnameserver 192.0.2.53 # ours\nnameserver 2001:db8::53\noptions ndots:2 timeout:1\n",
    /// );
    /// assert_eq!(
    ///     config.nameservers,
    ///     ["192.0.2.53:53".parse().unwrap(), "[2001:db8::53]:53".parse().unwrap()]
    /// );
    /// assert_eq!(config.timeout, std::time::Duration::from_secs(1));
    /// ```
    pub fn from_resolv_conf(text: &str) -> ResolverConfig {
        let mut config = ResolverConfig::default();
        for line in text.lines() {
            let content = line.split(['#', ';']).next().unwrap_or_default();
            let mut words = content.split_whitespace();
            match words.next() {
                Some("nameserver") => {
                    let address = words.next().and_then(|a| a.parse::<IpAddr>().ok());
                    if let Some(address) = address {
                        if config.nameservers.len() < MAX_NAMESERVERS {
                            config.nameservers.push(SocketAddr::new(address, 53));
                        }
                    }
                }
                Some("options") => {
                    for option in words {
                        if let Some(n) = option.strip_prefix("timeout:") {
                            if let Ok(n) = n.parse::<u64>() {
                                config.timeout = Duration::from_secs(n.clamp(1, 30));
                            }
                        } else if let Some(n) = option.strip_prefix("attempts:") {
                            if let Ok(n) = n.parse::<usize>() {
                                config.attempts = n.clamp(1, 5);
                            }
                        }
                    }
                }
                // `search`, `domain`, `sortlist` and the rest: see above.
                _ => {}
            }
        }
        if config.nameservers.is_empty() {
            config
                .nameservers
                .push(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53));
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_three_nameservers_and_no_scoped_addresses() {
        let config = ResolverConfig::from_resolv_conf(
            "nameserver fe80::1%eth0\nnameserver 10.0.0.1\nnameserver 10.0.0.2\n\
             nameserver 10.0.0.3\nnameserver 10.0.0.4\n",
        );
        let expected: Vec<SocketAddr> = ["10.0.0.1:53", "10.0.0.2:53", "10.0.0.3:53"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(config.nameservers, expected);
    }

    #[test]
    fn empty_file_means_the_local_nameserver() {
        let config =
            ResolverConfig::from_resolv_conf("search example.org\n; nameserver 10.0.0.9\n");
        assert_eq!(config.nameservers, ["127.0.0.1:53".parse().unwrap()]);
        assert_eq!(config.attempts, 2);
    }

    #[test]
    fn options_are_clamped() {
        let config = ResolverConfig::from_resolv_conf("options timeout:0 attempts:99 rotate\n");
        assert_eq!(config.timeout, Duration::from_secs(1));
        assert_eq!(config.attempts, 5);
    }
}
