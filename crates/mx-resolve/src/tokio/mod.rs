//! A small stub resolver on tokio (feature `tokio`), and [`Resolver::plan`], which drives the
//! sans-IO [`Planner`](crate::plan::Planner) with it.
//!
//! It asks recursive nameservers (from `/etc/resolv.conf` or given) and does nothing a
//! recursive resolver does: no iteration from the root, no DNSSEC validation. What it does:
//!
//! - no search list and no `ndots`: names are looked up exactly as given
//!   ([`ResolverConfig::from_resolv_conf`] says why);
//! - UDP first, from a fresh socket on a random source port, with a random query ID from the
//!   system's CSPRNG (`ring::rand::SystemRandom`), each try waiting [`ResolverConfig::timeout`];
//!   the nameservers in order, [`ResolverConfig::attempts`] rounds; datagrams that do not
//!   answer the question with its ID are ignored (RFC 5452);
//! - TCP when the UDP answer has the TC bit (RFC 1035 section 4.2.2, RFC 7766);
//! - SERVFAIL, REFUSED and other error codes move on to the next nameserver; NXDOMAIN and
//!   NODATA are answers;
//! - a cache of at most [`ResolverConfig::cache_size`] answers, each kept for its TTL (negative
//!   answers for the SOA's negative TTL, RFC 2308), timed by tokio's clock.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use mx_resolve::plan::PlanConfig;
//! use mx_resolve::tokio::Resolver;
//!
//! let resolver = Resolver::from_system()?;
//! match resolver.plan("example.org", &PlanConfig::default()).await {
//!     Ok(candidates) => {
//!         for candidate in candidates {
//!             println!("{candidate}"); // 10 mx1.example.org. 192.0.2.7
//!         }
//!     }
//!     Err(error) if error.is_permanent() => eprintln!("bounce {}: {error}", error.enhanced_status()),
//!     Err(error) => eprintln!("retry later {}: {error}", error.enhanced_status()),
//! }
//! # Ok(())
//! # }
//! ```

mod cache;
mod conf;
mod transport;

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use ring::rand::{SecureRandom, SystemRandom};
use tokio::task::JoinSet;
use tokio::time::Instant;

pub use conf::{MAX_NAMESERVERS, ResolverConfig};

use crate::plan::{Candidate, LookupFailure, PlanConfig, PlanError, Planner, SeededRng, Step};
use crate::wire::{Message, Name, Query, Rcode, RecordType};
use cache::Cache;

/// Why a lookup failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ResolveError {
    /// The configuration has no nameservers.
    NoNameservers,
    /// No nameserver answered in time, on any attempt.
    Timeout,
    /// A socket error (for example ICMP port unreachable, or no route to the nameserver).
    Io(io::Error),
    /// Every answer was an error code other than NXDOMAIN (the last one is kept).
    ServerFailure(Rcode),
    /// A TCP answer that does not parse or does not answer the question.
    BadAnswer,
    /// The system's random number generator failed.
    Random,
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::NoNameservers => f.write_str("no nameservers configured"),
            ResolveError::Timeout => f.write_str("no nameserver answered in time"),
            ResolveError::Io(error) => write!(f, "nameserver unreachable: {error}"),
            ResolveError::ServerFailure(rcode) => write!(f, "nameserver error {rcode:?}"),
            ResolveError::BadAnswer => f.write_str("malformed or mismatched answer over TCP"),
            ResolveError::Random => f.write_str("the system random number generator failed"),
        }
    }
}

impl std::error::Error for ResolveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ResolveError::Io(error) => Some(error),
            _ => None,
        }
    }
}

impl From<ResolveError> for LookupFailure {
    fn from(error: ResolveError) -> LookupFailure {
        match error {
            ResolveError::Timeout => LookupFailure::Timeout,
            ResolveError::ServerFailure(rcode) => LookupFailure::Rcode(rcode),
            ResolveError::BadAnswer => LookupFailure::Mismatch,
            ResolveError::NoNameservers | ResolveError::Io(_) | ResolveError::Random => {
                LookupFailure::Network
            }
        }
    }
}

/// The stub resolver: cheap to clone, shared by tasks (the cache is shared by the clones).
#[derive(Clone)]
pub struct Resolver {
    inner: Arc<Inner>,
}

struct Inner {
    config: ResolverConfig,
    cache: Mutex<Cache>,
    random: SystemRandom,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Resolver {
    /// A resolver with this configuration.
    pub fn new(config: ResolverConfig) -> Resolver {
        let cache = Cache::new(config.cache_size, config.max_ttl, config.max_negative_ttl);
        Resolver {
            inner: Arc::new(Inner {
                config,
                cache: Mutex::new(cache),
                random: SystemRandom::new(),
            }),
        }
    }

    /// A resolver configured by `/etc/resolv.conf` ([`ResolverConfig::from_resolv_conf`]).
    pub fn from_system() -> io::Result<Resolver> {
        let text = std::fs::read_to_string("/etc/resolv.conf")?;
        Ok(Resolver::new(ResolverConfig::from_resolv_conf(&text)))
    }

    /// The configuration.
    pub fn config(&self) -> &ResolverConfig {
        &self.inner.config
    }

    /// The records of `rtype` for `name`: the answer of the first nameserver that gives one
    /// (NOERROR, NODATA and NXDOMAIN are answers), from the cache while it is fresh.
    pub async fn lookup(&self, name: &Name, rtype: RecordType) -> Result<Message, ResolveError> {
        let key = (name.clone(), rtype);
        if let Some(message) = self.cache().get(&key, Instant::now()) {
            return Ok(message);
        }
        let message = self.query(name, rtype).await?;
        self.cache().insert(key, &message, Instant::now());
        Ok(message)
    }

    /// The delivery candidates for `domain` (a domain in U-labels or A-labels, or an address
    /// literal), in delivery order, or why there are none; see [`crate::plan`]. The lookups
    /// the planner asks for run concurrently, each through [`lookup`](Self::lookup) and so
    /// through the cache. Equal preferences are shuffled with a seed from the system's CSPRNG.
    pub async fn plan(
        &self,
        domain: &str,
        config: &PlanConfig,
    ) -> Result<Vec<Candidate>, PlanError> {
        let mut seed = [0u8; 8];
        // The seed only spreads load over equal preferences: should the system generator
        // fail, a fixed seed still gives a valid (if predictable) order.
        let _ = self.inner.random.fill(&mut seed);
        let mut planner = Planner::new(
            domain,
            config.clone(),
            SeededRng::new(u64::from_le_bytes(seed)),
        );
        let mut tasks = JoinSet::new();
        loop {
            match planner.poll() {
                Step::Lookup(lookup) => {
                    let resolver = self.clone();
                    tasks.spawn(async move {
                        let answer = resolver.lookup(lookup.name(), lookup.rtype()).await;
                        (lookup, answer.map_err(LookupFailure::from))
                    });
                }
                Step::Done(result) => return result,
                Step::Wait => match tasks.join_next().await {
                    Some(Ok((lookup, answer))) => {
                        // Each lookup was handed out once and is answered once.
                        let _ = planner.handle_answer(&lookup, answer);
                    }
                    Some(Err(error)) if error.is_panic() => {
                        std::panic::resume_unwind(error.into_panic())
                    }
                    // A task was cancelled (the runtime is shutting down): no answer will
                    // come, so the plan fails temporarily.
                    Some(Err(_)) | None => {
                        return Err(PlanError::Temporary {
                            name: Name::from_ascii(domain).unwrap_or_else(|_| Name::root()),
                            rtype: RecordType::Mx,
                            failure: LookupFailure::Network,
                        });
                    }
                },
            }
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // The cache holds no invariant a panic elsewhere could break halfway.
        self.inner
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn random_id(&self) -> Result<u16, ResolveError> {
        let mut id = [0u8; 2];
        self.inner
            .random
            .fill(&mut id)
            .map_err(|_| ResolveError::Random)?;
        Ok(u16::from_be_bytes(id))
    }

    /// Asks the nameservers in turn, `attempts` rounds, until one answers.
    async fn query(&self, name: &Name, rtype: RecordType) -> Result<Message, ResolveError> {
        let config = &self.inner.config;
        if config.nameservers.is_empty() {
            return Err(ResolveError::NoNameservers);
        }
        let mut last = ResolveError::Timeout;
        for _ in 0..config.attempts.max(1) {
            for server in &config.nameservers {
                let mut query = Query::new(self.random_id()?, name.clone(), rtype);
                query = match config.edns_payload {
                    Some(size) => query.edns(size),
                    None => query.no_edns(),
                };
                let deadline = Instant::now() + config.timeout;
                let answer = match transport::udp(*server, &query, deadline).await {
                    Ok(answer) if answer.header.truncated => {
                        let deadline = Instant::now() + config.timeout;
                        transport::tcp(*server, &query, deadline).await
                    }
                    other => other,
                };
                match answer {
                    Ok(message) => match message.rcode() {
                        Rcode::NoError | Rcode::NxDomain => return Ok(message),
                        rcode => last = ResolveError::ServerFailure(rcode),
                    },
                    Err(error) => last = error,
                }
            }
        }
        Err(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_is_shared_by_tasks() {
        fn shared<T: Clone + Send + Sync + 'static>() {}
        shared::<Resolver>();
    }
}
