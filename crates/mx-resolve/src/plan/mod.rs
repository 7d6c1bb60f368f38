//! Delivery planning (RFC 5321 section 5.1, RFC 7505): from DNS answers to the ordered list of
//! addresses a message for a domain is delivered to.
//!
//! The [`Planner`] is a sans-IO machine (`docs/design.md` section 2.1): it asks for lookups
//! ([`Step::Lookup`]), the caller performs them however it likes (the tokio stub resolver of
//! this crate, another resolver, canned answers in a test) and hands back the parsed
//! [`Message`] or a [`LookupFailure`]; when nothing is left to ask, [`Step::Done`] carries the
//! [`Candidate`]s in delivery order or a classified [`PlanError`]. It reads no clock, opens no
//! socket and draws its randomness from the [`PlanRng`] it is given.
//!
//! The rules, in the order they apply (`docs/mx.md` explains each with its RFC):
//!
//! - A destination in brackets is an address literal (`[192.0.2.1]`, `[IPv6:2001:db8::1]`):
//!   no DNS at all. Anything else is a domain, turned into A-labels by IDNA (UTS #46).
//! - The domain's MX records are looked up, following CNAMEs up to
//!   [`PlanConfig::max_cname_depth`] and never around a loop. NXDOMAIN fails permanently; no MX
//!   records (NODATA) means the implicit MX: preference 0, the domain itself. If any MX record
//!   exists, the domain's own addresses are never used.
//! - A null MX (`0 .` as the only record, RFC 7505) fails permanently with `5.1.10`.
//! - Records are checked one at a time and bad ones dropped: a root exchange among others, an
//!   exchange that is an IP address, a duplicate exchange (the lower preference is kept), an
//!   exchange whose name does not resolve or whose CNAME chain loops, an unspecified, multicast
//!   or broadcast address. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, in a literal or an
//!   AAAA record) is taken as the IPv4 address it maps, for these checks, the loop detection
//!   and the candidate.
//! - Exchanges are shuffled, then stably sorted by preference, so that equal preferences come in
//!   random order (a random comparator would not give a uniform shuffle and may upset the sort),
//!   and at most [`PlanConfig::max_exchanges`] of them are resolved.
//! - Addresses of the families [`PlanConfig::ipv4`] and [`PlanConfig::ipv6`] enable are looked
//!   up; each exchange's addresses alternate between the families, the preferred one first.
//! - Loop detection: if an exchange has one of [`PlanConfig::local_addresses`] (or an address
//!   [`PlanConfig::is_local`] calls ours), that exchange and every exchange of equal or higher
//!   preference is dropped; when that leaves nothing, we
//!   are the best mail exchanger and the plan fails with `5.4.6` "loops back to myself".
//! - At most [`PlanConfig::max_addresses`] candidates are kept, balanced so that both families
//!   are represented when both are present.
//!
//! ```
//! use mx_resolve::plan::{plan_with, LookupFailure, PlanConfig, SeededRng};
//!
//! // A resolver that cannot reach any nameserver: the plan fails temporarily.
//! let result = plan_with("example.org", PlanConfig::default(), SeededRng::new(1), |_, _| {
//!     Err(LookupFailure::Timeout)
//! });
//! let error = result.unwrap_err();
//! assert!(!error.is_permanent());
//! assert_eq!(error.enhanced_status(), "4.4.3");
//! assert_eq!(error.to_string(), "MX lookup of example.org.: timed out");
//! ```

mod error;
mod rng;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

pub use error::{LookupFailure, PlanError};
pub use rng::{PlanRng, SeededRng};

use crate::wire::{CLASS_IN, Message, Name, RData, Rcode, RecordType};

/// One place to try delivery: an address of a mail exchanger.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// The mail exchanger's name (the domain itself for the implicit MX; the root name `.` for an
    /// address literal, which has no name). It is the name to check a TLS certificate against.
    pub exchange: Name,
    /// The MX preference (0 for the implicit MX and for an address literal).
    pub preference: u16,
    /// The address to connect to.
    pub address: IpAddr,
}

impl fmt::Display for Candidate {
    /// `PREFERENCE EXCHANGE ADDRESS`, as the `mx-lookup` example prints it:
    /// `10 mx1.example.org. 192.0.2.7`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.preference, self.exchange, self.address)
    }
}

/// What the planner may use and how much of it. Build it from the default:
/// `PlanConfig { local_addresses, ..PlanConfig::default() }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanConfig {
    /// Mail exchangers resolved at most, the best first (default 10; 0 counts as 1). Exchangers
    /// beyond the cap are neither resolved nor checked for loops.
    pub max_exchanges: usize,
    /// Candidates returned at most (default 10; 0 counts as 1; Postfix's
    /// `smtp_mx_address_limit` is 5, and a delivery attempt rarely gets past the first few).
    pub max_addresses: usize,
    /// Whether IPv4 addresses are looked up and used (default true).
    pub ipv4: bool,
    /// Whether IPv6 addresses are looked up and used (default true).
    pub ipv6: bool,
    /// Whether an exchange's IPv6 addresses come before its IPv4 ones (default true, as RFC 6724
    /// orders destinations).
    pub prefer_ipv6: bool,
    /// Our own addresses, for loop detection: the addresses the server listens on or is known
    /// by, as the caller declares them; nothing else (no range, no interface scan) counts as
    /// ours. Default: none.
    pub local_addresses: Vec<IpAddr>,
    /// Also ours, for loop detection: every address this check says is (default: none). For a
    /// server listening on an unspecified address (`0.0.0.0`, `::`), whose own addresses are
    /// not a list known in advance; the caller's check may look at the host (the planner
    /// itself does no I/O). It runs before the [`max_addresses`](Self::max_addresses) cap,
    /// like the check of `local_addresses`.
    pub is_local: Option<LocalCheck>,
    /// CNAME records followed at most from one name (default 8).
    pub max_cname_depth: usize,
}

/// A caller's answer to "is this address ours?", for [`PlanConfig::is_local`]. Two checks are
/// equal when they are clones of one another.
#[derive(Clone)]
pub struct LocalCheck(Arc<dyn Fn(IpAddr) -> bool + Send + Sync>);

impl LocalCheck {
    /// A check calling `check` with each address an exchange resolves to (an IPv4-mapped IPv6
    /// address as the IPv4 address it maps), and with the address of a literal.
    pub fn new(check: impl Fn(IpAddr) -> bool + Send + Sync + 'static) -> LocalCheck {
        LocalCheck(Arc::new(check))
    }

    /// Whether `address` is ours.
    pub fn is_local(&self, address: IpAddr) -> bool {
        (self.0)(address)
    }
}

impl fmt::Debug for LocalCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LocalCheck(..)")
    }
}

impl PartialEq for LocalCheck {
    fn eq(&self, other: &LocalCheck) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for LocalCheck {}

impl Default for PlanConfig {
    fn default() -> PlanConfig {
        PlanConfig {
            max_exchanges: 10,
            max_addresses: 10,
            ipv4: true,
            ipv6: true,
            prefer_ipv6: true,
            local_addresses: Vec::new(),
            is_local: None,
            max_cname_depth: 8,
        }
    }
}

/// A lookup the planner asks its caller to perform: the records of `rtype` for `name`, class
/// IN, from a recursive nameserver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    token: u64,
    name: Name,
    rtype: RecordType,
}

impl Lookup {
    /// The name to look up.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// The record type to look up.
    pub fn rtype(&self) -> RecordType {
        self.rtype
    }
}

/// What the planner wants next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Perform this lookup and hand the result to [`Planner::handle_answer`]. Several lookups
    /// may be outstanding at once; they can be answered in any order.
    Lookup(Lookup),
    /// Every lookup asked for is outstanding; answer one of them.
    Wait,
    /// The plan is made (or failed). Polling again returns the same result.
    Done(Result<Vec<Candidate>, PlanError>),
}

/// [`Planner::handle_answer`] was called with a lookup the planner is not waiting for: one it
/// did not hand out, or one already answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnexpectedAnswer;

impl fmt::Display for UnexpectedAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("answer to a lookup the planner is not waiting for")
    }
}

impl std::error::Error for UnexpectedAnswer {}

/// The sans-IO delivery planner for one destination. See the [module documentation](self).
pub struct Planner<R> {
    config: PlanConfig,
    rng: R,
    /// The destination as given, for messages.
    destination: String,
    /// The destination's name (A-labels); the root name for a literal.
    domain: Name,
    pending: Vec<Pending>,
    hosts: Vec<Host>,
    next_token: u64,
    result: Option<Result<Vec<Candidate>, PlanError>>,
}

impl<R> fmt::Debug for Planner<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Planner")
            .field("destination", &self.destination)
            .field("pending", &self.pending.len())
            .field("hosts", &self.hosts.len())
            .field("result", &self.result)
            .finish_non_exhaustive()
    }
}

/// A lookup handed out or to hand out.
#[derive(Debug)]
struct Pending {
    lookup: Lookup,
    handed_out: bool,
    target: Target,
    /// Every name of the CNAME chain so far, the first name included.
    chain: Vec<Name>,
}

/// What a lookup is for.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// The domain's MX records.
    Mx,
    /// The addresses of `hosts[i]`.
    Host(usize),
}

/// A mail exchanger being resolved.
#[derive(Debug)]
struct Host {
    exchange: Name,
    preference: u16,
    v4: Vec<Ipv4Addr>,
    v6: Vec<Ipv6Addr>,
    /// The first temporary failure of one of its lookups.
    failure: Option<PlanError>,
}

impl Host {
    fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.v4
            .iter()
            .map(|a| IpAddr::V4(*a))
            .chain(self.v6.iter().map(|a| IpAddr::V6(*a)))
    }
}

/// What one answer says about the records asked for, after following its CNAME chain.
enum Outcome {
    /// The records of the type asked for, at the end of the chain.
    Records(Vec<RData>),
    /// The last name of the chain does not exist.
    NxDomain(Name),
    /// The last name of the chain exists but has no records of the type.
    NoData,
    /// The chain ends at this name without an answer for it: ask again for it.
    Follow(Name),
    /// The chain loops or is too long.
    BadChain,
    /// The lookup failed.
    Failed(LookupFailure),
}

impl<R: PlanRng> Planner<R> {
    /// A planner for delivery to `destination`: a domain (U-labels or A-labels, with or without
    /// the trailing dot) or an address literal in brackets. A destination that is neither makes
    /// the first [`poll`](Self::poll) return [`PlanError::InvalidDomain`]; a literal is planned
    /// at once, without lookups.
    pub fn new(destination: &str, config: PlanConfig, rng: R) -> Planner<R> {
        let mut planner = Planner {
            config,
            rng,
            destination: destination.to_owned(),
            domain: Name::root(),
            pending: Vec::new(),
            hosts: Vec::new(),
            next_token: 0,
            result: None,
        };
        if destination.starts_with('[') {
            planner.result = Some(planner.plan_literal());
            return planner;
        }
        match to_name(destination) {
            Some(name) => {
                planner.domain = name.clone();
                planner.ask(name, RecordType::Mx, Target::Mx, Vec::new());
            }
            None => {
                planner.result = Some(Err(PlanError::InvalidDomain {
                    domain: destination.to_owned(),
                }));
            }
        }
        planner
    }

    /// What to do next: a lookup to perform, nothing until an outstanding lookup is answered,
    /// or the result.
    pub fn poll(&mut self) -> Step {
        if let Some(result) = &self.result {
            return Step::Done(result.clone());
        }
        if let Some(pending) = self.pending.iter_mut().find(|p| !p.handed_out) {
            pending.handed_out = true;
            return Step::Lookup(pending.lookup.clone());
        }
        Step::Wait
    }

    /// The answer to `lookup`, which [`poll`](Self::poll) handed out: the parsed response
    /// (NOERROR and NXDOMAIN responses alike; other response codes count as failures) or why
    /// there is none. Answers for a different question, and records of other classes, are not
    /// trusted.
    pub fn handle_answer(
        &mut self,
        lookup: &Lookup,
        answer: Result<Message, LookupFailure>,
    ) -> Result<(), UnexpectedAnswer> {
        let index = self
            .pending
            .iter()
            .position(|p| p.handed_out && p.lookup.token == lookup.token)
            .ok_or(UnexpectedAnswer)?;
        let mut pending = self.pending.remove(index);
        if self.result.is_some() {
            return Ok(());
        }
        let outcome = match answer {
            Ok(message) => follow(
                &message,
                &pending.lookup,
                &mut pending.chain,
                self.config.max_cname_depth,
            ),
            Err(failure) => Outcome::Failed(failure),
        };
        match pending.target {
            Target::Mx => self.on_mx(&pending, outcome),
            Target::Host(index) => self.on_host(index, &pending, outcome),
        }
        if self.result.is_none() && self.pending.is_empty() {
            self.result = Some(self.finish());
        }
        Ok(())
    }

    fn ask(&mut self, name: Name, rtype: RecordType, target: Target, mut chain: Vec<Name>) {
        if chain.is_empty() {
            chain.push(name.clone());
        }
        let token = self.next_token;
        self.next_token += 1;
        self.pending.push(Pending {
            lookup: Lookup { token, name, rtype },
            handed_out: false,
            target,
            chain,
        });
    }

    fn plan_literal(&self) -> Result<Vec<Candidate>, PlanError> {
        // An IPv4-mapped IPv6 literal is the IPv4 address it maps: checked, and connected
        // to, as that.
        let address = parse_literal(&self.destination)
            .map(|address| address.to_canonical())
            .ok_or_else(|| PlanError::InvalidDomain {
                domain: self.destination.clone(),
            })?;
        if !self.usable(address) {
            return Err(PlanError::UnusableLiteral {
                literal: self.destination.clone(),
            });
        }
        if self.is_ours(address) {
            return Err(PlanError::LoopsBackToMyself {
                domain: self.destination.clone(),
                exchange: Name::root(),
            });
        }
        Ok(vec![Candidate {
            exchange: Name::root(),
            preference: 0,
            address,
        }])
    }

    /// Whether `address` is one of ours: declared, or so by the caller's check.
    fn is_ours(&self, address: IpAddr) -> bool {
        self.config.local_addresses.contains(&address)
            || self
                .config
                .is_local
                .as_ref()
                .is_some_and(|check| check.is_local(address))
    }

    fn usable(&self, address: IpAddr) -> bool {
        match address {
            IpAddr::V4(a) => {
                self.config.ipv4 && !a.is_unspecified() && !a.is_multicast() && !a.is_broadcast()
            }
            IpAddr::V6(a) => self.config.ipv6 && !a.is_unspecified() && !a.is_multicast(),
        }
    }

    fn on_mx(&mut self, pending: &Pending, outcome: Outcome) {
        match outcome {
            Outcome::Records(records) => self.plan_exchanges(records),
            Outcome::NxDomain(name) => self.result = Some(Err(PlanError::NoSuchDomain { name })),
            Outcome::NoData => {
                // RFC 5321 section 5.1: no MX records, so the implicit MX of preference 0
                // pointing at the domain itself.
                self.hosts.push(Host {
                    exchange: self.domain.clone(),
                    preference: 0,
                    v4: Vec::new(),
                    v6: Vec::new(),
                    failure: None,
                });
                self.resolve_hosts();
            }
            Outcome::Follow(name) => {
                self.ask(name, RecordType::Mx, Target::Mx, pending.chain.clone());
            }
            Outcome::BadChain => {
                self.result = Some(Err(PlanError::CnameChain {
                    name: self.domain.clone(),
                }));
            }
            Outcome::Failed(failure) => {
                self.result = Some(Err(PlanError::Temporary {
                    name: pending.lookup.name.clone(),
                    rtype: pending.lookup.rtype,
                    failure,
                }));
            }
        }
    }

    fn plan_exchanges(&mut self, records: Vec<RData>) {
        let exchanges: Vec<(u16, Name)> = records
            .into_iter()
            .filter_map(|data| match data {
                RData::Mx {
                    preference,
                    exchange,
                } => Some((preference, exchange)),
                _ => None,
            })
            .collect();
        // RFC 7505 section 3: a null MX is the only MX record of its domain. (An RRset holds
        // no duplicates, so "every record is a root exchange" is "one record".)
        if !exchanges.is_empty() && exchanges.iter().all(|(_, e)| e.is_root()) {
            self.result = Some(Err(PlanError::NullMx {
                domain: self.domain.clone(),
            }));
            return;
        }
        let mut kept: Vec<(u16, Name)> = Vec::with_capacity(exchanges.len());
        for (preference, exchange) in exchanges {
            // A root exchange beside other records, or an address where a name must be (RFC
            // 5321 section 5.1: the data of an MX record MUST be a domain name): drop that
            // record alone.
            if exchange.is_root() || is_address_name(&exchange) {
                continue;
            }
            match kept.iter_mut().find(|(_, e)| *e == exchange) {
                Some(existing) => existing.0 = existing.0.min(preference),
                None => kept.push((preference, exchange)),
            }
        }
        // Shuffle first, then a stable sort: equal preferences end up in uniformly random order.
        rng::shuffle(&mut self.rng, &mut kept);
        kept.sort_by_key(|(preference, _)| *preference);
        kept.truncate(self.config.max_exchanges.max(1));
        self.hosts = kept
            .into_iter()
            .map(|(preference, exchange)| Host {
                exchange,
                preference,
                v4: Vec::new(),
                v6: Vec::new(),
                failure: None,
            })
            .collect();
        self.resolve_hosts();
    }

    fn resolve_hosts(&mut self) {
        for index in 0..self.hosts.len() {
            let name = self.hosts[index].exchange.clone();
            if self.config.ipv6 {
                self.ask(
                    name.clone(),
                    RecordType::Aaaa,
                    Target::Host(index),
                    Vec::new(),
                );
            }
            if self.config.ipv4 {
                self.ask(name, RecordType::A, Target::Host(index), Vec::new());
            }
        }
    }

    fn on_host(&mut self, index: usize, pending: &Pending, outcome: Outcome) {
        match outcome {
            Outcome::Records(records) => {
                for data in records {
                    // An IPv4-mapped AAAA record (`::ffff:a.b.c.d`) is that IPv4 address,
                    // for the checks, the loop detection and the connection.
                    let address = match data {
                        RData::A(a) => IpAddr::V4(a),
                        RData::Aaaa(a) => IpAddr::V6(a).to_canonical(),
                        _ => continue,
                    };
                    if !self.usable(address) {
                        continue;
                    }
                    let Some(host) = self.hosts.get_mut(index) else {
                        return;
                    };
                    match address {
                        IpAddr::V4(a) if !host.v4.contains(&a) => host.v4.push(a),
                        IpAddr::V6(a) if !host.v6.contains(&a) => host.v6.push(a),
                        _ => {}
                    }
                }
            }
            // The exchange does not resolve (or not in this family), or its chain is broken:
            // this record is dropped, the others stay.
            Outcome::NxDomain(_) | Outcome::NoData | Outcome::BadChain => {}
            Outcome::Follow(name) => {
                let rtype = pending.lookup.rtype;
                self.ask(name, rtype, Target::Host(index), pending.chain.clone());
            }
            Outcome::Failed(failure) => {
                if let Some(host) = self.hosts.get_mut(index) {
                    host.failure.get_or_insert(PlanError::Temporary {
                        name: pending.lookup.name.clone(),
                        rtype: pending.lookup.rtype,
                        failure,
                    });
                }
            }
        }
    }

    /// Loop detection, ordering and caps, once every address lookup is answered.
    fn finish(&mut self) -> Result<Vec<Candidate>, PlanError> {
        let ours = self
            .hosts
            .iter()
            .filter(|h| h.addresses().any(|a| self.is_ours(a)))
            .min_by_key(|h| h.preference);
        let cutoff = ours.map(|h| h.preference);
        let eligible: Vec<&Host> = self
            .hosts
            .iter()
            .filter(|h| cutoff.is_none_or(|c| h.preference < c))
            .collect();
        let mut candidates: Vec<Candidate> = Vec::new();
        for host in &eligible {
            let (first, second): (Vec<IpAddr>, Vec<IpAddr>) = if self.config.prefer_ipv6 {
                (
                    host.v6.iter().map(|a| IpAddr::V6(*a)).collect(),
                    host.v4.iter().map(|a| IpAddr::V4(*a)).collect(),
                )
            } else {
                (
                    host.v4.iter().map(|a| IpAddr::V4(*a)).collect(),
                    host.v6.iter().map(|a| IpAddr::V6(*a)).collect(),
                )
            };
            for address in interleave(first, second) {
                if candidates.iter().any(|c| c.address == address) {
                    continue;
                }
                candidates.push(Candidate {
                    exchange: host.exchange.clone(),
                    preference: host.preference,
                    address,
                });
            }
        }
        if candidates.is_empty() {
            if let Some(failure) = eligible.iter().find_map(|h| h.failure.clone()) {
                return Err(failure);
            }
            if let Some(host) = ours {
                return Err(PlanError::LoopsBackToMyself {
                    domain: self.domain.to_string(),
                    exchange: host.exchange.clone(),
                });
            }
            return Err(PlanError::NoAddresses {
                domain: self.domain.clone(),
            });
        }
        Ok(balance(
            candidates,
            self.config.max_addresses.max(1),
            self.config.prefer_ipv6,
        ))
    }
}

/// Drives a [`Planner`] to its end with a synchronous `lookup` function (a blocking resolver,
/// or canned answers in a test), answering each lookup as it is asked for.
pub fn plan_with<R: PlanRng>(
    destination: &str,
    config: PlanConfig,
    rng: R,
    mut lookup: impl FnMut(&Name, RecordType) -> Result<Message, LookupFailure>,
) -> Result<Vec<Candidate>, PlanError> {
    let mut planner = Planner::new(destination, config, rng);
    loop {
        match planner.poll() {
            Step::Lookup(next) => {
                let answer = lookup(next.name(), next.rtype());
                // `next` was just handed out and is answered once.
                let _ = planner.handle_answer(&next, answer);
            }
            Step::Done(result) => return result,
            // Every lookup is answered as soon as it is handed out, so none is outstanding.
            Step::Wait => unreachable!("a synchronous driver leaves no lookup outstanding"),
        }
    }
}

/// The destination as a DNS name in A-labels, or `None` if it is not a valid domain.
fn to_name(destination: &str) -> Option<Name> {
    let bare = destination.strip_suffix('.').unwrap_or(destination);
    if bare.is_empty() {
        return None;
    }
    let ascii = idna::domain_to_ascii_strict(bare).ok()?;
    Name::from_ascii(&ascii).ok()
}

/// The address of an RFC 5321 address literal: `[192.0.2.1]` or `[IPv6:2001:db8::1]` (the tag
/// in any case).
fn parse_literal(literal: &str) -> Option<IpAddr> {
    let inner = literal.strip_prefix('[')?.strip_suffix(']')?;
    match inner.get(..5) {
        Some(tag) if tag.eq_ignore_ascii_case("IPv6:") => {
            inner.get(5..)?.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
        }
        _ => inner.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
    }
}

/// Whether an exchange name is an IP address written as a name (`192.0.2.1.`), which an MX
/// record must not hold.
fn is_address_name(name: &Name) -> bool {
    let text = name.to_string();
    let bare = text.strip_suffix('.').unwrap_or(&text);
    bare.parse::<IpAddr>().is_ok() || bare.starts_with('[')
}

/// `a[0], b[0], a[1], b[1], ...`, then the rest of the longer list.
fn interleave(a: Vec<IpAddr>, b: Vec<IpAddr>) -> Vec<IpAddr> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let mut a = a.into_iter();
    let mut b = b.into_iter();
    loop {
        match (a.next(), b.next()) {
            (None, None) => return out,
            (x, y) => out.extend(x.into_iter().chain(y)),
        }
    }
}

/// The first `cap` candidates, in order, with a share for each family when both are present:
/// the preferred family gets half the places (rounded up) or more if the other family has fewer
/// candidates, the other family the rest, so a cap never shuts a family out.
fn balance(candidates: Vec<Candidate>, cap: usize, prefer_ipv6: bool) -> Vec<Candidate> {
    if candidates.len() <= cap {
        return candidates;
    }
    let v6 = candidates.iter().filter(|c| c.address.is_ipv6()).count();
    let v4 = candidates.len() - v6;
    let (preferred, other) = if prefer_ipv6 { (v6, v4) } else { (v4, v6) };
    let preferred_share = preferred.min(cap.div_ceil(2).max(cap.saturating_sub(other)));
    let other_share = other.min(cap - preferred_share);
    let (mut v6_left, mut v4_left) = if prefer_ipv6 {
        (preferred_share, other_share)
    } else {
        (other_share, preferred_share)
    };
    candidates
        .into_iter()
        .filter(|c| {
            let left = if c.address.is_ipv6() {
                &mut v6_left
            } else {
                &mut v4_left
            };
            if *left == 0 {
                return false;
            }
            *left -= 1;
            true
        })
        .collect()
}

/// Follows the CNAME chain of `lookup.name` through the answer section of `message` and says
/// what the answer means for the records asked for.
fn follow(message: &Message, lookup: &Lookup, chain: &mut Vec<Name>, max_depth: usize) -> Outcome {
    if let Some(question) = message.questions.first() {
        if question.name != lookup.name || question.qtype != lookup.rtype {
            return Outcome::Failed(LookupFailure::Mismatch);
        }
    }
    let nxdomain = match message.rcode() {
        Rcode::NoError => false,
        Rcode::NxDomain => true,
        other => return Outcome::Failed(LookupFailure::Rcode(other)),
    };
    let mut current = lookup.name.clone();
    loop {
        let mut found = Vec::new();
        let mut alias = None;
        for record in &message.answers {
            // Records of another class than IN are not ours to use.
            if record.class != CLASS_IN || record.name != current {
                continue;
            }
            if record.rtype == lookup.rtype {
                found.push(record.data.clone());
            } else if let RData::Cname(target) = &record.data {
                alias.get_or_insert_with(|| target.clone());
            }
        }
        if !found.is_empty() {
            return Outcome::Records(found);
        }
        let Some(target) = alias else {
            break;
        };
        // `chain` holds the first name and every target so far: its length is the number of
        // CNAME records the new target would make the chain.
        if chain.contains(&target) || chain.len() > max_depth {
            return Outcome::BadChain;
        }
        chain.push(target.clone());
        current = target;
    }
    if nxdomain {
        return Outcome::NxDomain(current);
    }
    // A chain that ends without the records and without an SOA (the negative answer of
    // RFC 2308 for the last name) was not followed to its end by the nameserver: ask for the
    // last name itself.
    let negative = message
        .authority
        .iter()
        .any(|r| matches!(r.data, RData::Soa(_)));
    if current != lookup.name && !negative {
        return Outcome::Follow(current);
    }
    Outcome::NoData
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(
            parse_literal("[192.0.2.1]"),
            Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)))
        );
        assert_eq!(
            parse_literal("[ipv6:2001:db8::1]"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(parse_literal("[2001:db8::1]"), None);
        assert_eq!(parse_literal("[192.0.2.1"), None);
        assert_eq!(parse_literal("[é]"), None);
        assert_eq!(parse_literal("[IPv6é]"), None);
    }

    #[test]
    fn interleaving() {
        let a: Vec<IpAddr> = vec!["::1".parse().unwrap(), "::2".parse().unwrap()];
        let b: Vec<IpAddr> = vec!["10.0.0.1".parse().unwrap()];
        let out = interleave(a, b);
        let text: Vec<String> = out.iter().map(|a| a.to_string()).collect();
        assert_eq!(text, ["::1", "10.0.0.1", "::2"]);
    }
}
