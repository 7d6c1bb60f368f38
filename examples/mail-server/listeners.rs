//! Listeners for any protocol: the accept loop, the connection limits, the TLS start
//! (implicit, with the mode-mismatch diagnosis, or left to the protocol's STARTTLS), and
//! graceful shutdown, written once.
//!
//! A protocol plugs in by implementing [`Service`]: its name, how TLS starts on its port, what
//! it answers a connection over the limits, and [`Service::serve`], which runs one session on
//! an accepted [`Connection`]. The SMTP relay, submission and submissions listeners are three
//! instances of `smtp::SmtpService`; POP3 and IMAP listeners are further implementations.
//!
//! Rules every listener applies, whatever the protocol:
//! - **A pool per listener** ([`ConnectionLimits`], given to [`Listeners::bind`]): each
//!   listener has its own maximum of open connections, so clients of one port (unauthenticated
//!   port-25 traffic) can never take the places of another (submission users), as Postfix
//!   limits each `master.cf` service and Dovecot each service's `client_limit`. A listener
//!   with a login ([`ConnectionLimits::evict_before_login`]) that is full gives the place of
//!   its oldest session that has not logged in to a newcomer, as Dovecot's login processes
//!   do, so clients that connect and never log in cannot keep its users out; the relay has no
//!   login and refuses instead. Together the pools are cut to fit the open-files limit
//!   ([`fit_pools`]).
//! - **A count per client** within each pool, from which loopback clients are exempt unless
//!   configured otherwise (as Postfix exempts its own networks). Clients are grouped by
//!   [`client_key`]: IPv4 by address, IPv6 by prefix (/64 by default, Postfix's
//!   `smtpd_client_ipv6_prefix_length` made configurable), since one IPv6 host may use a
//!   whole /64. A connection holds its [`Slot`] until the session gives it back, which a
//!   protocol does as soon as its goodbye is queued, so that a client that reads the goodbye
//!   and opens its next session at once finds the place free.
//! - **Stress mode** ([`Pressure`], [`StressLimits`]): when a pool is at or over its stress
//!   threshold (80% of its maximum by default), the listener's TLS handshake deadline is
//!   shortened for new connections, and every session of that pool is told so: new sessions
//!   start with the stress limits, open ones shorten their timeouts at once (SMTP:
//!   `set_command_timeout`, `set_data_timeout`). When the pool falls below the threshold, the
//!   sessions get their normal timeouts back. This is Postfix's stress mode (`smtpd_timeout`
//!   10 s, `smtpd_hard_error_limit` 1, `smtpd_junk_command_limit` 1 under stress).
//! - **Login phases** ([`LoginRule`], [`session_timeout`]): a protocol with a login says so.
//!   Before login, stress timeouts and junk-command limits apply; after it, they do not, and a
//!   protocol's idle minimum holds whatever the configuration: none for SMTP submission, 10
//!   minutes for POP3 ([`LoginRule::POP3`], RFC 1939 section 3), 30 minutes for IMAP
//!   ([`LoginRule::IMAP`], RFC 9051 section 5.4). A protocol without login (the SMTP relay,
//!   [`LoginRule::NONE`]) is under the stress rules for its whole session.
//! - **The login guard** ([`crate::guard::LoginGuard`], on every [`Connection`]): one
//!   per-client penalty for failed logins, shared by every listener and protocol.
//! - **Log escaping** ([`crate::logsafe::Escaped`]): every client-controlled string a
//!   listener or a protocol logs is escaped.
//! - **A TLS client on a plaintext port** ([`PlainStream`]): a TLS ClientHello as the first
//!   bytes of a plaintext or STARTTLS listener is diagnosed with mail-tls's
//!   `check_plaintext_port`, logged in one line that names the port to use, and the
//!   connection is closed (a TLS client cannot read a plaintext explanation).
//! - **A plaintext client on an implicit-TLS port**: the handshake fails with mail-tls's
//!   diagnosis, logged; nothing is sent in plaintext. The handshake has a deadline
//!   ([`ListenerPolicy::handshake_timeout`], 10 s by default, shortened under stress).
//!
//! What a POP3 or IMAP service must do to inherit these rules: take the [`Connection`]'s
//! `slot` and drop it when its goodbye is queued (running its state machine in [`Releasing`]
//! does that, and closes the session with the protocol's own last line on eviction or
//! stress: [`Releasing::evict`], [`Releasing::close_with`]); keep `slot.place()`, call
//! [`Place::logged_in`] on login and close the session at once when [`Place::evicted`] fires;
//! build its session with the stress limits
//! when `pressure.stressed()` at the start, and follow `pressure.changed()` with
//! [`session_timeout`] and its [`LoginRule`] (before login only); set the failure delay of each
//! login attempt from `guard.failure_delay(connection.client)` after waiting
//! `guard.wait_before_check(connection.client)`, and call
//! `guard.record_failure(connection.client)` on a failure; log client strings through
//! `Escaped`.
//!
//! ```text
//! let mut listeners = Listeners::new(tls, ListenerPolicy::default());
//! listeners.bind(service, "0.0.0.0:2525".parse()?, ConnectionLimits::new(100, 10)).await?;
//! // ... once per service, each with its own pool; until Ctrl-C ...
//! listeners.shut_down(SHUTDOWN_GRACE).await;
//! ```

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mail_tls::rustls::ServerConfig as TlsServerConfig;
use mail_tls::tokio::tokio_rustls::server::TlsStream;
use mail_tls::tokio::{HandshakeOptions, Sniffed, accept_implicit};
use mail_tls::{Observed, check_plaintext_port, classify_first_bytes};
use mail_wire::session::{EventKind, Session as SessionContract};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::guard::LoginGuard;
use crate::logsafe::Escaped;

/// Any start-up failure, with a message a person can act on.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// Default of `--tls-handshake-timeout`: how long a TLS handshake may take, and how long a
/// refusal may take to write.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Default of `--ipv6-prefix-length`: IPv6 clients are counted per /64.
pub const DEFAULT_IPV6_PREFIX: u8 = 64;

/// Default of `--stress-threshold`: a pool 80% full is under stress.
pub const DEFAULT_STRESS_THRESHOLD: u8 = 80;

/// Open files kept out of every pool: the listening sockets, the runtime's own descriptors,
/// standard streams, the accounts and TLS files, Maildir directories while a message is
/// committed.
pub const RESERVED_FILES: u64 = 64;

/// Open files one connection may hold: its socket, and the message file while a body is
/// written.
pub const FILES_PER_CONNECTION: u64 = 2;

/// The soft open-files limit of this process, from `/proc/self/limits` (Linux); `None` when
/// it is unlimited or cannot be read.
pub fn open_files_limit() -> Option<u64> {
    parse_open_files_limit(&std::fs::read_to_string("/proc/self/limits").ok()?)
}

/// The soft limit on the `Max open files` line of a `/proc/PID/limits` text.
fn parse_open_files_limit(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The pools of the enabled listeners cut to fit the open-files `limit`, or `None` when they
/// fit as they are. The pools are separate, but the process has one limit on open files: if
/// their sum could exceed it, a full pool (slow relay clients) would use up the descriptors
/// the others need and `accept` would fail on every listener. Each connection counts
/// [`FILES_PER_CONNECTION`] and [`RESERVED_FILES`] are kept out; the room left is shared in
/// proportion to the configured pools, each keeping at least one place.
pub fn fit_pools(pools: &[usize], limit: u64) -> Option<Vec<usize>> {
    let room = limit.saturating_sub(RESERVED_FILES) / FILES_PER_CONNECTION;
    let room = u128::from(room.max(1));
    let total: u128 = pools.iter().map(|&p| p as u128).sum();
    if total <= room {
        return None;
    }
    let fitted = pools
        .iter()
        .map(|&p| {
            usize::try_from(p as u128 * room / total)
                .unwrap_or(usize::MAX)
                .max(1)
        })
        .collect();
    Some(fitted)
}

/// How long shutdown waits for sessions to finish their transaction (`--shutdown-grace`).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// After the shutdown grace, how long the sessions still open get to write their last line
/// (SMTP's `421`) before the server exits without them.
const CUT_WAIT: Duration = Duration::from_secs(1);

/// How TLS starts on a listener's connections (RFC 8314 section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsStart {
    /// The session starts in plaintext; the protocol may offer its STARTTLS (or STLS) command,
    /// and the listener hands it what the upgrade needs ([`StartTls`]).
    StartTls,
    /// TLS from the first byte: the listener completes the handshake (diagnosing a plaintext
    /// client as a mode mismatch) before the session starts.
    Implicit,
}

/// Which connection limit a refused connection hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverLimit {
    /// The server-wide maximum of open connections.
    Total,
    /// The maximum of open connections from one client address.
    PerAddress,
}

/// One protocol on one listener: SMTP relay, submission, submissions; POP3 and IMAP next.
pub trait Service: Send + Sync + 'static {
    /// The name in logs and in the start-up banner (`submission`).
    fn name(&self) -> &str;

    /// What the listener offers, in a few words, for the start-up banner.
    fn summary(&self) -> &str;

    /// How TLS starts on this listener.
    fn tls_start(&self) -> TlsStart;

    /// The service as mail-tls knows it, to word mode-mismatch diagnoses (a plaintext client
    /// on an implicit-TLS port, a TLS client on a plaintext one: docs/design.md section 3,
    /// rule 7).
    fn tls_service(&self) -> mail_tls::Service;

    /// The protocol's greeting refusing a connection over a limit, sent before closing it
    /// (SMTP: `421 4.7.0 ...\r\n`). Never sent on an implicit-TLS listener, where plaintext
    /// would read as a broken handshake: the connection is closed silently there.
    fn refusal(&self, over: OverLimit) -> &'static str;

    /// Runs one session on an accepted connection until it ends. When
    /// [`Connection::shutdown`] turns true, the session should finish its current transaction
    /// and close.
    fn serve(self: Arc<Self>, connection: Connection) -> impl Future<Output = ()> + Send;
}

/// How far the server's shutdown has gone, as every session sees it through
/// [`Connection::shutdown`]. A value, not a count of signals: a session that was busy when
/// the shutdown began, or a grace of zero, still sees where it stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Serving.
    Running,
    /// Shutting down: finish the current transaction, then close.
    Draining,
    /// The shutdown grace is over: close now.
    Cut,
}

/// An accepted connection, handed to [`Service::serve`].
#[derive(Debug)]
pub struct Connection {
    /// The client's address.
    pub peer: SocketAddr,
    /// The client as the limits and the login guard count it: [`client_key`] of the peer's
    /// address (an IPv6 address cut to its prefix).
    pub client: IpAddr,
    /// The stream, in plaintext or already in TLS.
    pub transport: Transport,
    /// Leaves [`Stop::Running`] when the server shuts down, and turns [`Stop::Cut`] when the
    /// shutdown grace is over: a session still open then closes at once (SMTP with `421`).
    pub shutdown: watch::Receiver<Stop>,
    /// The connection's place in its listener's [`ConnectionLimits`]. Dropping it gives the
    /// place back; a session drops it as soon as its goodbye is queued (SMTP's `221` after
    /// `QUIT`), so that a client that reads the goodbye and connects again at once is not
    /// refused. Otherwise it goes when the connection does.
    pub slot: Slot,
    /// Whether the listener's pool is under stress, now and as it changes.
    pub pressure: Pressure,
    /// The per-client login penalty every listener shares.
    pub guard: Arc<LoginGuard>,
}

/// The stream of a [`Connection`].
#[derive(Debug)]
pub enum Transport {
    /// Plaintext, on a [`TlsStart::StartTls`] listener, with what the upgrade needs.
    Plain {
        /// The TCP stream, watched for a TLS ClientHello as its first bytes.
        stream: PlainStream<TcpStream>,
        /// The TLS configuration and handshake options for the protocol's STARTTLS.
        starttls: StartTls,
    },
    /// On a [`TlsStart::Implicit`] listener: the handshake is complete.
    Tls(Box<TlsStream<Sniffed<TcpStream>>>),
}

/// What a STARTTLS upgrade needs.
#[derive(Debug, Clone)]
pub struct StartTls {
    /// The server's TLS configuration.
    pub config: Arc<TlsServerConfig>,
    /// The handshake timeout (shortened when the connection arrived under stress) and the
    /// service, for the mode-mismatch diagnosis.
    pub options: HandshakeOptions,
}

/// The client a connection counts as: an IPv4 address (also when a dual-stack socket shows it
/// as `::ffff:a.b.c.d`) is itself; an IPv6 address is cut to its first `ipv6_prefix` bits
/// (at most 128), the rest zero. One IPv6 host commonly holds a whole /64, so counting IPv6
/// clients per address would let one host open as many connections as it likes.
pub fn client_key(ip: IpAddr, ipv6_prefix: u8) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let bits = u32::from(ipv6_prefix.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

/// The limits of one listener's pool: open connections in total and per client
/// ([`client_key`]), and the share of the total from which the pool is under stress.
///
/// Loopback clients (127.0.0.0/8, `::1`, and `::ffff:127.0.0.0/104` on a dual-stack socket)
/// are exempt from the count per client by default, as Postfix exempts `$mynetworks` from
/// `smtpd_client_connection_count_limit`: a local load test or a local relay would otherwise
/// hit a limit meant for remote clients. They still count toward the total.
#[derive(Debug)]
pub struct ConnectionLimits {
    max_total: usize,
    max_per_ip: usize,
    loopback_exempt: bool,
    ipv6_prefix: u8,
    stress_threshold: u8,
    evict_before_login: bool,
    open: Mutex<OpenConnections>,
    pressure: watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct OpenConnections {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
    /// The connections that have not logged in yet, oldest first (by the number of their
    /// slot), when the pool evicts before login.
    pre_login: BTreeMap<u64, (Arc<Eviction>, Option<IpAddr>)>,
    /// The number of the next slot.
    next: u64,
}

/// The news that a connection's place was given to a newcomer.
#[derive(Debug, Default)]
struct Eviction {
    evicted: AtomicBool,
    notify: tokio::sync::Notify,
}

/// A place held by a connection; dropping it frees the place.
#[derive(Debug)]
pub struct Slot {
    limits: Arc<ConnectionLimits>,
    /// The client counted per client; `None` for an exempt (loopback) client.
    counted: Option<IpAddr>,
    /// The slot's number, its age in the pool.
    id: u64,
    eviction: Arc<Eviction>,
}

/// What a session needs of its [`Slot`] after it gave the slot to whatever frees it: to say
/// that it logged in, and to learn that it was evicted.
#[derive(Debug, Clone)]
pub struct Place {
    limits: Arc<ConnectionLimits>,
    id: u64,
    eviction: Arc<Eviction>,
}

impl Slot {
    /// The session's handle on this place.
    pub fn place(&self) -> Place {
        Place {
            limits: self.limits.clone(),
            id: self.id,
            eviction: self.eviction.clone(),
        }
    }
}

impl Place {
    /// The session logged in: it can no longer be evicted.
    pub fn logged_in(&self) {
        let mut open = self.limits.open.lock().unwrap_or_else(|e| e.into_inner());
        open.pre_login.remove(&self.id);
    }

    /// Waits until the pool gave this place to a newcomer (never, once logged in or on a
    /// pool that does not evict); the session must then close at once. Cancellation-safe.
    pub async fn evicted(&self) {
        if !self.eviction.evicted.load(Ordering::SeqCst) {
            self.eviction.notify.notified().await;
        }
    }
}

/// A protocol's server state machine, as a listener session runs it in [`Releasing`]: the
/// session contract the driver needs, and the protocol's own shutdown (its goodbye queued,
/// the session closed).
pub trait Machine: SessionContract {
    /// Ends the session as the server shutting down does.
    fn shutdown(&mut self);
}

/// A session's state machine with the connection's listener place, which it gives back as
/// soon as the session's last response (the protocol's goodbye, or a closing line of the
/// server's own) is queued: when the driver takes output from a session that is closed,
/// before writing it. A client that reads the goodbye and connects again at once finds its
/// place free. POP3 and IMAP sessions run their machines in it; SMTP's typed driver
/// releases its slot on the closing reply instead.
#[derive(Debug)]
pub struct Releasing<M> {
    /// The protocol's state machine, to answer its decisions.
    pub server: M,
    slot: Option<Slot>,
    /// The session's last output when the server ended it with its own line
    /// ([`Releasing::close_with`]).
    closing: Option<Bytes>,
}

impl<M: Machine> Releasing<M> {
    /// `server`, holding `slot` until the session is closed.
    pub fn new(server: M, slot: Slot) -> Self {
        Releasing {
            server,
            slot: Some(slot),
            closing: None,
        }
    }

    /// Ends the session now, as [`Machine::shutdown`] does, with `line` as its last response
    /// instead of the machine's own shutdown line; output queued before goes first. False,
    /// and nothing done, when the session was already closed.
    pub fn close_with(&mut self, line: &'static [u8]) -> bool {
        if self.server.is_closed() {
            return false;
        }
        let mut out = BytesMut::new();
        while let Some(bytes) = self.server.poll_transmit() {
            out.extend_from_slice(&bytes);
        }
        self.server.shutdown();
        // The machine's own shutdown line, replaced by `line`.
        while self.server.poll_transmit().is_some() {}
        out.extend_from_slice(line);
        self.closing = Some(out.freeze());
        true
    }

    /// Closes the session with `line` (as [`Releasing::close_with`]) after its pool gave its
    /// place to a newcomer: the place is forgotten, not given back, since it already belongs
    /// to the newcomer. False when the session was already closed.
    pub fn evict(&mut self, line: &'static [u8]) -> bool {
        let closed = self.close_with(line);
        self.slot = None;
        closed
    }

    fn release_if_closed(&mut self) {
        if self.server.is_closed() {
            self.slot = None;
        }
    }
}

/// Everything as the state machine does it; taking output also releases the place.
impl<M: Machine> SessionContract for Releasing<M> {
    type Event = M::Event;
    type Error = M::Error;
    type Misuse = M::Misuse;

    fn feed(&mut self, now: Instant, bytes: &[u8]) {
        self.server.feed(now, bytes);
    }

    fn feed_buf(&mut self, now: Instant, buf: &mut BytesMut) {
        self.server.feed_buf(now, buf);
    }

    fn handle_eof(&mut self) {
        self.server.handle_eof();
    }

    fn handle_connection_lost(&mut self) {
        self.server.handle_connection_lost();
    }

    fn poll_transmit(&mut self) -> Option<Bytes> {
        self.release_if_closed();
        match self.closing.take() {
            Some(last) => Some(last),
            None => self.server.poll_transmit(),
        }
    }

    fn poll_event(&mut self) -> Option<M::Event> {
        self.server.poll_event()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.server.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.server.handle_timeout(now);
    }

    fn wants_input(&self) -> bool {
        self.server.wants_input()
    }

    fn is_tls(&self) -> bool {
        self.server.is_tls()
    }

    fn tls_established(&mut self, now: Instant) -> Result<(), M::Misuse> {
        self.server.tls_established(now)
    }

    fn is_closed(&self) -> bool {
        self.server.is_closed()
    }

    fn classify(event: &M::Event) -> EventKind<'_, M::Error> {
        M::classify(event)
    }
}

impl ConnectionLimits {
    /// At most `max_total` connections open at once, and `max_per_ip` from one client
    /// (loopback clients exempt: see [`ConnectionLimits::loopback_exempt`]); IPv6 clients
    /// grouped per /64 and stress from 80% of `max_total`, until changed.
    pub fn new(max_total: usize, max_per_ip: usize) -> Self {
        ConnectionLimits {
            max_total,
            max_per_ip,
            loopback_exempt: true,
            ipv6_prefix: DEFAULT_IPV6_PREFIX,
            stress_threshold: DEFAULT_STRESS_THRESHOLD,
            evict_before_login: false,
            open: Mutex::new(OpenConnections::default()),
            pressure: watch::channel(false).0,
        }
    }

    /// Whether loopback clients are exempt from the count per client (default `true`);
    /// `false` applies it to them too, as the tests of that limit need.
    pub fn loopback_exempt(mut self, exempt: bool) -> Self {
        self.loopback_exempt = exempt;
        self
    }

    /// How many leading bits of an IPv6 address name a client (default 64; at most 128).
    pub fn ipv6_prefix(mut self, bits: u8) -> Self {
        self.ipv6_prefix = bits.min(128);
        self
    }

    /// The percentage of the total from which the pool is under stress (default 80; 100 or
    /// more means never, since a full pool refuses instead).
    pub fn stress_threshold(mut self, percent: u8) -> Self {
        self.stress_threshold = percent;
        self
    }

    /// Whether a full pool makes room for a newcomer by closing its oldest connection that has
    /// not logged in (default `false`), as Dovecot's login processes do when their
    /// `client_limit` is reached: clients that never log in (slow or silent ones) then cannot
    /// keep a login listener's users out. For listeners with a login (submission, POP3,
    /// IMAP); the relay has none, and a full relay refuses instead.
    pub fn evict_before_login(mut self, evict: bool) -> Self {
        self.evict_before_login = evict;
        self
    }

    /// The client a connection from `ip` counts as in this pool.
    pub fn client(&self, ip: IpAddr) -> IpAddr {
        client_key(ip, self.ipv6_prefix)
    }

    /// Whether the pool is under stress now.
    pub fn stressed(&self) -> bool {
        *self.pressure.borrow()
    }

    /// Whether `total` open connections put the pool under stress.
    fn is_stress(&self, total: usize) -> bool {
        self.stress_threshold < 100
            && total.saturating_mul(100)
                >= self.max_total.saturating_mul(self.stress_threshold.into())
    }

    /// Takes a place for a connection from `ip`, or says which limit it would break.
    /// When the pool is full and evicts before login, the oldest connection that has not
    /// logged in gives its place up (its session learns it from [`Place::evicted`]).
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, OverLimit> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let counted = match self.loopback_exempt && ip.to_canonical().is_loopback() {
            true => None,
            false => Some(self.client(ip)),
        };
        if let Some(client) = counted {
            if open.per_ip.get(&client).copied().unwrap_or(0) >= self.max_per_ip {
                return Err(OverLimit::PerAddress);
            }
        }
        if open.total >= self.max_total {
            let oldest = match self.evict_before_login {
                true => open.pre_login.pop_first(),
                false => None,
            };
            let Some((_, (eviction, evicted_client))) = oldest else {
                return Err(OverLimit::Total);
            };
            // The evicted connection's place is the newcomer's now; its slot frees nothing.
            eviction.evicted.store(true, Ordering::SeqCst);
            eviction.notify.notify_one();
            open.total -= 1;
            if let Some(client) = evicted_client {
                release_client(&mut open.per_ip, client);
            }
        }
        if let Some(client) = counted {
            *open.per_ip.entry(client).or_insert(0) += 1;
        }
        let id = open.next;
        open.next += 1;
        let eviction = Arc::new(Eviction::default());
        if self.evict_before_login {
            open.pre_login.insert(id, (eviction.clone(), counted));
        }
        open.total += 1;
        self.pressure.send_if_modified(|stressed| {
            let now = self.is_stress(open.total);
            std::mem::replace(stressed, now) != now
        });
        Ok(Slot {
            limits: self.clone(),
            counted,
            id,
            eviction,
        })
    }
}

/// One connection fewer from `client`.
fn release_client(per_ip: &mut HashMap<IpAddr, usize>, client: IpAddr) {
    if let Some(n) = per_ip.get_mut(&client) {
        *n -= 1;
        if *n == 0 {
            per_ip.remove(&client);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let limits = &self.limits;
        let mut open = limits.open.lock().unwrap_or_else(|e| e.into_inner());
        if self.eviction.evicted.load(Ordering::SeqCst) {
            // Its place was given away when it was evicted.
            return;
        }
        open.pre_login.remove(&self.id);
        open.total -= 1;
        if let Some(ip) = self.counted {
            release_client(&mut open.per_ip, ip);
        }
        limits.pressure.send_if_modified(|stressed| {
            let now = limits.is_stress(open.total);
            std::mem::replace(stressed, now) != now
        });
    }
}

/// The limits of a session whose pool is under stress (Postfix's stress mode). A protocol
/// applies them before login only ([`LoginRule`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StressLimits {
    /// `--stress-command-timeout`: the command (and data) timeout under stress, 10 s by
    /// default, Postfix's `smtpd_timeout` under stress.
    pub command_timeout: Duration,
    /// `--stress-handshake-timeout`: the TLS handshake deadline for connections accepted
    /// under stress (the implicit-TLS handshake and STARTTLS), 5 s by default (our choice: a
    /// handshake is two round trips).
    pub handshake_timeout: Duration,
    /// Protocol errors before a session that started under stress is closed: 1, Postfix's
    /// `smtpd_hard_error_limit` under stress. Applied to protocols without login only (a user
    /// who logs in keeps the normal allowance).
    pub max_errors: u32,
    /// Junk commands (SMTP NOOP, RSET, VRFY, EXPN, HELP) allowed before login in a session
    /// that started under stress: 1, Postfix's `smtpd_junk_command_limit` under stress.
    pub max_junk_commands: u32,
}

impl Default for StressLimits {
    fn default() -> Self {
        StressLimits {
            command_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(5),
            max_errors: 1,
            max_junk_commands: 1,
        }
    }
}

/// What every listener of one server shares, whatever its protocol.
#[derive(Debug, Clone)]
pub struct ListenerPolicy {
    /// `--tls-handshake-timeout`: the deadline of a TLS handshake (implicit TLS and
    /// STARTTLS), and of writing a refusal. Default [`HANDSHAKE_TIMEOUT`].
    pub handshake_timeout: Duration,
    /// The limits under stress.
    pub stress: StressLimits,
    /// The per-client login penalty.
    pub guard: Arc<LoginGuard>,
}

impl Default for ListenerPolicy {
    fn default() -> Self {
        ListenerPolicy {
            handshake_timeout: HANDSHAKE_TIMEOUT,
            stress: StressLimits::default(),
            guard: Arc::new(LoginGuard::new(
                crate::guard::DEFAULT_FAILURE_DELAY,
                crate::guard::DEFAULT_PENALTY_MAX,
            )),
        }
    }
}

/// Whether a session's pool is under stress, now and as it changes, with the limits that
/// then apply.
#[derive(Debug, Clone)]
pub struct Pressure {
    stressed: watch::Receiver<bool>,
    limits: StressLimits,
}

impl Pressure {
    /// Whether the pool is under stress now.
    pub fn stressed(&self) -> bool {
        *self.stressed.borrow()
    }

    /// The limits under stress.
    pub fn limits(&self) -> &StressLimits {
        &self.limits
    }

    /// Waits until the pool enters or leaves stress, and says which; never returns when the
    /// pool is gone. Cancellation-safe, for `select!`.
    pub async fn changed(&mut self) -> bool {
        match self.stressed.changed().await {
            Ok(()) => *self.stressed.borrow_and_update(),
            Err(_) => std::future::pending().await,
        }
    }
}

/// Whether a protocol has a login, and the idle minimum it keeps after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginRule {
    /// Whether sessions log in (SMTP submission, POP3, IMAP); without login the stress
    /// rules hold for the whole session.
    pub logs_in: bool,
    /// The shortest idle timeout after login, whatever the configuration says.
    pub idle_minimum: Duration,
}

impl LoginRule {
    /// No login (the SMTP relay): the stress rules hold for the whole session.
    pub const NONE: LoginRule = LoginRule {
        logs_in: false,
        idle_minimum: Duration::ZERO,
    };
    /// SMTP submission: a login (AUTH), no idle minimum beyond the configured timeout.
    pub const SMTP_SUBMISSION: LoginRule = LoginRule {
        logs_in: true,
        idle_minimum: Duration::ZERO,
    };
    /// POP3: after login the autologout timer is at least 10 minutes (RFC 1939 section 3).
    pub const POP3: LoginRule = LoginRule {
        logs_in: true,
        idle_minimum: Duration::from_secs(600),
    };
    /// IMAP: after login the autologout timer is at least 30 minutes (RFC 9051 section 5.4).
    pub const IMAP: LoginRule = LoginRule {
        logs_in: true,
        idle_minimum: Duration::from_secs(1800),
    };
}

/// The idle (command) timeout a session runs with: `normal` (the configured one), shortened
/// to the stress timeout while `stressed` and not logged in, and never under the rule's idle
/// minimum once `logged_in`.
pub fn session_timeout(
    normal: Duration,
    rule: LoginRule,
    logged_in: bool,
    stressed: bool,
    stress: &StressLimits,
) -> Duration {
    match (rule.logs_in && logged_in, stressed) {
        (true, _) => normal.max(rule.idle_minimum),
        (false, true) => normal.min(stress.command_timeout),
        (false, false) => normal,
    }
}

/// How many first bytes [`PlainStream`] holds back, at most, while they could still be the
/// start of a TLS record: `classify_first_bytes` decides within the longest greeting pattern
/// it knows (`* PREAUTH`, 9 octets); past this a stream is plaintext whatever it holds.
const FIRST_BYTES_MAX: usize = 16;

/// What a plaintext listener tells the log when a TLS client arrives: which service and
/// port, and where this server takes implicit TLS for that service.
#[derive(Debug, Clone)]
struct PlainPort {
    listener: Arc<str>,
    service: mail_tls::Service,
    port: u16,
    implicit: Arc<ImplicitPorts>,
}

/// The implicit-TLS port of each service on this server, filled as listeners are bound.
type ImplicitPorts = Mutex<HashMap<mail_tls::Service, u16>>;

impl PlainPort {
    /// One line: mail-tls's diagnosis, then this server's ports when they are not the
    /// standard ones the diagnosis names.
    fn diagnosis(&self, first: &[u8]) -> Option<String> {
        let mismatch = check_plaintext_port(self.service, Some(self.port), first).err()?;
        let implicit = self
            .implicit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&self.service)
            .copied();
        let standard = self.service.implicit_port();
        let here = match (implicit, standard) {
            (Some(p), Some(s)) if p == s && self.port == self.service.starttls_port() => None,
            (Some(p), _) => Some(format!("implicit TLS on port {p}, ")),
            (None, Some(_)) => Some("no implicit-TLS listener, ".to_owned()),
            (None, None) if self.port == self.service.starttls_port() => None,
            (None, None) => Some(String::new()),
        };
        let here = here
            .map(|h| format!("; on this server: {h}STARTTLS on port {}", self.port))
            .unwrap_or_default();
        Some(format!("{mismatch}{here}"))
    }
}

/// The stream of a plaintext (STARTTLS) listener: it holds back the client's first bytes
/// until they show whether a TLS handshake starts (mail-tls's `classify_first_bytes`, so the
/// decision does not depend on how the bytes are split into reads). A TLS ClientHello is
/// diagnosed with `check_plaintext_port` and logged; the session then reads end of stream,
/// its writes fail, and the connection closes without another byte, since a TLS client
/// cannot read a plaintext explanation. Any other first bytes pass through unchanged, and so
/// does everything after them (the STARTTLS handshake included).
#[derive(Debug)]
pub struct PlainStream<S> {
    inner: S,
    peer: SocketAddr,
    port: PlainPort,
    /// The first bytes, held until classified; then handed to the session.
    first: Vec<u8>,
    state: FirstBytes,
}

/// Where a [`PlainStream`] is with the client's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirstBytes {
    /// Not enough to decide yet.
    Undecided,
    /// Plaintext (or end of stream): what is held is handed on, then everything passes.
    Plain,
    /// A TLS ClientHello: diagnosed and logged; the session sees end of stream.
    Tls,
}

impl<S> PlainStream<S> {
    /// Wraps `inner`, a connection from `peer`; `port` words the diagnosis.
    fn new(inner: S, peer: SocketAddr, port: PlainPort) -> Self {
        PlainStream {
            inner,
            peer,
            port,
            first: Vec::new(),
            state: FirstBytes::Undecided,
        }
    }

    /// More first bytes are in (none at end of stream): decide when they suffice, and log
    /// a TLS client.
    fn classify(&mut self, at_eof: bool) {
        let decided = match classify_first_bytes(&self.first) {
            None if !at_eof && self.first.len() < FIRST_BYTES_MAX => return,
            Some(Observed::TlsHandshake) => FirstBytes::Tls,
            _ => FirstBytes::Plain,
        };
        if decided == FirstBytes::Tls {
            if let Some(diagnosis) = self.port.diagnosis(&self.first) {
                let (peer, listener) = (self.peer, &*self.port.listener);
                warn!(%peer, listener, "connection closed: {diagnosis}");
            }
            self.first.clear();
        }
        self.state = decided;
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for PlainStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.state == FirstBytes::Undecided {
            // Read no more than the caller could take, so nothing is held behind a STARTTLS.
            let room = buf.remaining().min(FIRST_BYTES_MAX - this.first.len());
            if room == 0 {
                return Poll::Ready(Ok(()));
            }
            let mut bytes = [0u8; FIRST_BYTES_MAX];
            let mut read = ReadBuf::new(&mut bytes[..room]);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            let got = read.filled();
            this.first.extend_from_slice(got);
            this.classify(got.is_empty());
        }
        match this.state {
            FirstBytes::Tls => Poll::Ready(Ok(())),
            _ if !this.first.is_empty() => {
                let n = this.first.len().min(buf.remaining());
                buf.put_slice(&this.first[..n]);
                this.first.drain(..n);
                Poll::Ready(Ok(()))
            }
            _ => Pin::new(&mut this.inner).poll_read(cx, buf),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for PlainStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.state == FirstBytes::Tls {
            return Poll::Ready(Err(tls_client_error()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.state == FirstBytes::Tls {
            return Poll::Ready(Err(tls_client_error()));
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// What a write gets once the client turned out to speak TLS.
fn tls_client_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "a TLS client on a plaintext port: nothing is sent",
    )
}

/// The running listeners of one server, sharing one TLS configuration, one
/// [`ListenerPolicy`] and one shutdown signal; each has its own [`ConnectionLimits`].
#[derive(Debug)]
pub struct Listeners {
    tls: Arc<TlsServerConfig>,
    policy: ListenerPolicy,
    implicit: Arc<ImplicitPorts>,
    shutdown: watch::Sender<Stop>,
    tasks: JoinSet<()>,
}

impl Listeners {
    /// No listener yet; [`bind`](Self::bind) adds them.
    pub fn new(tls: Arc<TlsServerConfig>, policy: ListenerPolicy) -> Self {
        Listeners {
            tls,
            policy,
            implicit: Arc::default(),
            shutdown: watch::channel(Stop::Running).0,
            tasks: JoinSet::new(),
        }
    }

    /// Listens on `addr` for `service` and serves every connection until shutdown, within
    /// `limits`, this listener's own pool. Returns the address bound (its port is the one
    /// chosen when `addr` asks for port 0).
    pub async fn bind<S: Service>(
        &mut self,
        service: S,
        addr: SocketAddr,
        limits: ConnectionLimits,
    ) -> Result<SocketAddr, StartError> {
        let socket = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr} for {}: {e}", service.name()))?;
        let bound = socket.local_addr()?;
        let plain_port = PlainPort {
            listener: Arc::from(service.name()),
            service: service.tls_service(),
            port: bound.port(),
            implicit: self.implicit.clone(),
        };
        if service.tls_start() == TlsStart::Implicit {
            let mut implicit = self.implicit.lock().unwrap_or_else(|e| e.into_inner());
            implicit.entry(plain_port.service).or_insert(bound.port());
        }
        let listener = Listener {
            socket,
            service: Arc::new(service),
            tls: self.tls.clone(),
            limits: Arc::new(limits),
            policy: self.policy.clone(),
            plain_port,
            shutdown: self.shutdown.subscribe(),
        };
        self.tasks.spawn(listener.run());
        Ok(bound)
    }

    /// Stops accepting, asks every session to finish its transaction and close, and waits
    /// for them up to `grace`. Returns whether every session finished in time; the ones still
    /// open are left to end with the runtime.
    pub async fn shut_down(mut self, grace: Duration) -> bool {
        let _ = self.shutdown.send(Stop::Draining);
        let deadline = tokio::time::sleep(grace);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                next = self.tasks.join_next() => if next.is_none() { return true },
                () = &mut deadline => {
                    warn!("sessions still open after {grace:?}; closing them");
                    // The sessions still open close now with their protocol's last word
                    // (SMTP's 421), given a moment to write it.
                    let _ = self.shutdown.send(Stop::Cut);
                    let _ = tokio::time::timeout(CUT_WAIT, async {
                        while self.tasks.join_next().await.is_some() {}
                    })
                    .await;
                    return false;
                }
            }
        }
    }
}

/// One listening socket and its service.
struct Listener<S> {
    socket: TcpListener,
    service: Arc<S>,
    tls: Arc<TlsServerConfig>,
    limits: Arc<ConnectionLimits>,
    policy: ListenerPolicy,
    /// How a TLS client on this port is diagnosed, when the port is a plaintext one.
    plain_port: PlainPort,
    shutdown: watch::Receiver<Stop>,
}

impl<S: Service> Listener<S> {
    /// The accept loop: until shutdown, every connection within the limits gets a session;
    /// then the socket closes and the loop waits for its sessions to end.
    async fn run(mut self) {
        let name = self.service.name().to_owned();
        let mut sessions = JoinSet::new();
        loop {
            let (stream, peer) = tokio::select! {
                accepted = self.socket.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        warn!(listener = name.as_str(), error = %err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                _ = self.shutdown.changed() => break,
            };
            let slot = match self.limits.acquire(peer.ip()) {
                Ok(slot) => slot,
                Err(over) => {
                    let refusal = self.service.refusal(over);
                    warn!(%peer, listener = name.as_str(), "connection refused: {}", refusal.trim_end());
                    let refusal = match self.service.tls_start() {
                        TlsStart::StartTls => Some(refusal),
                        TlsStart::Implicit => None,
                    };
                    tokio::spawn(refuse(stream, refusal, self.policy.handshake_timeout));
                    continue;
                }
            };
            let stressed = self.limits.stressed();
            info!(%peer, listener = name.as_str(), stressed, "connected");
            let handshake = match stressed {
                true => (self.policy.handshake_timeout).min(self.policy.stress.handshake_timeout),
                false => self.policy.handshake_timeout,
            };
            let (service, tls, shutdown, plain_port) = (
                self.service.clone(),
                self.tls.clone(),
                self.shutdown.clone(),
                self.plain_port.clone(),
            );
            let pressure = Pressure {
                stressed: self.limits.pressure.subscribe(),
                limits: self.policy.stress,
            };
            let (client, guard) = (self.limits.client(peer.ip()), self.policy.guard.clone());
            let place = slot.place();
            sessions.spawn(async move {
                // The handshake and the session are boxed: each is its own allocation, of its
                // own size, the handshake's freed when it ends. Inline, the task would keep room
                // for the largest state of both for the whole session (a heap profile of 200
                // idle POP3 sessions: 7.7 KiB per task inline, 6.2 KiB boxed).
                let handshake = Box::pin(start_tls(
                    service.as_ref(),
                    stream,
                    peer,
                    tls,
                    plain_port,
                    handshake,
                ));
                // A connection evicted during its implicit-TLS handshake ends at once.
                let transport = tokio::select! {
                    transport = handshake => transport,
                    _ = place.evicted() => None,
                };
                if let Some(transport) = transport {
                    let connection = Connection {
                        peer,
                        client,
                        transport,
                        shutdown,
                        slot,
                        pressure,
                        guard,
                    };
                    Box::pin(service.serve(connection)).await;
                }
            });
            // Reap finished sessions so the set does not grow.
            while sessions.try_join_next().is_some() {}
        }
        drop(self.socket);
        while sessions.join_next().await.is_some() {}
    }
}

/// Answers a connection over the limits with the protocol's refusal (when there is one to
/// send in plaintext) and closes it.
async fn refuse(mut stream: TcpStream, refusal: Option<&'static str>, timeout: Duration) {
    if let Some(refusal) = refusal {
        let _ = tokio::time::timeout(timeout, stream.write_all(refusal.as_bytes())).await;
    }
    let _ = stream.shutdown().await;
}

/// The stream a session starts on: plaintext (watched for a TLS ClientHello) with what
/// STARTTLS needs, or after a completed implicit-TLS handshake. `None` when that handshake
/// failed (logged, with the mode-mismatch diagnosis when the client spoke plaintext). Either
/// handshake has `handshake` to complete.
async fn start_tls<S: Service>(
    service: &S,
    stream: TcpStream,
    peer: SocketAddr,
    tls: Arc<TlsServerConfig>,
    plain_port: PlainPort,
    handshake: Duration,
) -> Option<Transport> {
    let _ = stream.set_nodelay(true);
    let options = HandshakeOptions::new(handshake).service(service.tls_service());
    match service.tls_start() {
        TlsStart::StartTls => Some(Transport::Plain {
            stream: PlainStream::new(stream, peer, plain_port),
            starttls: StartTls {
                config: tls,
                options,
            },
        }),
        TlsStart::Implicit => {
            let options = match stream.local_addr() {
                Ok(local) => options.port(local.port()),
                Err(_) => options,
            };
            match accept_implicit(tls, stream, options).await {
                Ok(stream) => Some(Transport::Tls(Box::new(stream))),
                Err(err) => {
                    let error = err.to_string();
                    warn!(%peer, error = %Escaped(&error), "TLS handshake failed");
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::tests::TempDir;
    use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, BufReader};

    /// A toy protocol in POP3's clothes: it greets; a client's `QUIT` gets its slot back
    /// and `+OK bye`, the connection staying open; and it says goodbye when the server shuts
    /// down. Nothing in it comes from SMTP.
    struct Toy {
        tls_start: TlsStart,
    }

    async fn greet_until_shutdown<S: AsyncRead + AsyncWrite + Unpin>(
        stream: S,
        mut shutdown: watch::Receiver<Stop>,
        slot: Slot,
    ) {
        let mut stream = BufReader::new(stream);
        let mut slot = Some(slot);
        let _ = stream.write_all(b"+OK toy ready\r\n").await;
        let mut line = String::new();
        loop {
            tokio::select! {
                read = stream.read_line(&mut line) => match read {
                    Ok(n) if n > 0 && line == "QUIT\r\n" => {
                        // The place goes back before the goodbye is written.
                        slot = None;
                        let _ = stream.write_all(b"+OK bye\r\n").await;
                        line.clear();
                    }
                    Ok(n) if n > 0 => line.clear(),
                    _ => break,
                },
                _ = async { shutdown.wait_for(|stop| *stop != Stop::Running).await.map(drop) } => break,
            }
        }
        let _ = stream.write_all(b"-ERR shutting down\r\n").await;
        let _ = stream.shutdown().await;
        drop(slot);
    }

    impl Service for Toy {
        fn name(&self) -> &str {
            "toy"
        }

        fn summary(&self) -> &str {
            "a greeting, then goodbye at shutdown"
        }

        fn tls_start(&self) -> TlsStart {
            self.tls_start
        }

        fn tls_service(&self) -> mail_tls::Service {
            mail_tls::Service::Pop3
        }

        fn refusal(&self, over: OverLimit) -> &'static str {
            match over {
                OverLimit::Total => "-ERR [SYS/TEMP] too many connections\r\n",
                OverLimit::PerAddress => "-ERR [SYS/TEMP] too many connections from you\r\n",
            }
        }

        async fn serve(self: Arc<Self>, connection: Connection) {
            let Connection {
                transport,
                shutdown,
                slot,
                ..
            } = connection;
            match transport {
                Transport::Plain { stream, .. } => {
                    greet_until_shutdown(stream, shutdown, slot).await
                }
                Transport::Tls(stream) => greet_until_shutdown(stream, shutdown, slot).await,
            }
        }
    }

    fn tls_config(tag: &str) -> (TempDir, Arc<TlsServerConfig>) {
        let dir = TempDir::new(tag);
        let pem = mail_tls::dev_certs::ensure(&dir.0, &["localhost"]).unwrap();
        let (tls, _resolver) = mail_tls::ServerTls::new(mail_tls::Service::Pop3)
            .build_from_pem_files(&pem.cert, &pem.key)
            .unwrap();
        (dir, tls)
    }

    async fn read_line(stream: &mut BufReader<TcpStream>) -> String {
        let mut line = String::new();
        stream.read_line(&mut line).await.unwrap();
        line
    }

    async fn read_all(mut stream: TcpStream) -> Vec<u8> {
        let mut all = Vec::new();
        let read = stream.read_to_end(&mut all);
        tokio::time::timeout(Duration::from_secs(5), read)
            .await
            .expect("the server closes the connection")
            .unwrap();
        all
    }

    fn localhost() -> SocketAddr {
        "127.0.0.1:0".parse().unwrap()
    }

    #[tokio::test]
    async fn another_protocol_gets_limits_refusals_and_shutdown_from_the_listeners() {
        let (_dir, tls) = tls_config("toy-plain");
        let limits = ConnectionLimits::new(10, 1).loopback_exempt(false);
        let mut listeners = Listeners::new(tls, ListenerPolicy::default());
        let toy = Toy {
            tls_start: TlsStart::StartTls,
        };
        let addr = listeners.bind(toy, localhost(), limits).await.unwrap();
        assert_ne!(addr.port(), 0);

        let mut first = BufReader::new(TcpStream::connect(addr).await.unwrap());
        assert_eq!(read_line(&mut first).await, "+OK toy ready\r\n");
        // Over the per-address limit: the protocol's own refusal, then the connection closes.
        let second = TcpStream::connect(addr).await.unwrap();
        assert_eq!(
            read_all(second).await,
            b"-ERR [SYS/TEMP] too many connections from you\r\n"
        );
        // The goodbye of the first session gives its place back before it is written, while
        // the connection stays open: a client that connects again on reading it is served.
        first.get_mut().write_all(b"QUIT\r\n").await.unwrap();
        assert_eq!(read_line(&mut first).await, "+OK bye\r\n");
        let mut third = BufReader::new(TcpStream::connect(addr).await.unwrap());
        assert_eq!(read_line(&mut third).await, "+OK toy ready\r\n");

        // Shutdown reaches the open sessions, which say goodbye, and then end.
        assert!(listeners.shut_down(Duration::from_secs(5)).await);
        for session in [&mut first, &mut third] {
            assert_eq!(read_line(session).await, "-ERR shutting down\r\n");
            assert_eq!(read_line(session).await, "");
        }
        // No more connections are accepted.
        assert!(TcpStream::connect(addr).await.is_err());
    }

    #[tokio::test]
    async fn implicit_tls_refuses_over_the_limit_without_plaintext() {
        let (_dir, tls) = tls_config("toy-tls");
        let mut listeners = Listeners::new(tls, ListenerPolicy::default());
        let toy = Toy {
            tls_start: TlsStart::Implicit,
        };
        let addr = listeners
            .bind(toy, localhost(), ConnectionLimits::new(1, 10))
            .await
            .unwrap();
        // The first connection holds the only place (its handshake waits for a ClientHello).
        let first = TcpStream::connect(addr).await.unwrap();
        // The second is over the total: closed without a byte, since plaintext would read as
        // a broken handshake to a TLS client.
        let second = TcpStream::connect(addr).await.unwrap();
        assert_eq!(read_all(second).await, b"");
        // A plaintext client on the implicit-TLS port is not greeted in plaintext either.
        drop(first);
        let mut plain = TcpStream::connect(addr).await.unwrap();
        plain.write_all(b"USER alice\r\n").await.unwrap();
        // At most a TLS alert record (content type 21), never a plaintext greeting.
        let answer = read_all(plain).await;
        assert!(answer.is_empty() || answer[0] == 21, "{answer:?}");
    }

    #[test]
    fn limits_count_per_address_and_in_total_and_free_on_drop() {
        let limits = Arc::new(ConnectionLimits::new(3, 2));
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let a1 = limits.acquire(a).unwrap();
        let a2 = limits.acquire(a).unwrap();
        assert_eq!(limits.acquire(a).unwrap_err(), OverLimit::PerAddress);
        let b1 = limits.acquire(b).unwrap();
        assert_eq!(limits.acquire(b).unwrap_err(), OverLimit::Total);
        drop(a1);
        let b2 = limits.acquire(b).unwrap();
        assert_eq!(limits.acquire(a).unwrap_err(), OverLimit::Total);
        drop((a2, b1, b2));
        let open = limits.open.lock().unwrap();
        assert_eq!(open.total, 0);
        assert!(open.per_ip.is_empty());
    }

    #[test]
    fn loopback_is_exempt_from_the_count_per_address_unless_configured() {
        let loopbacks: [IpAddr; 4] = [
            "127.0.0.1".parse().unwrap(),
            "127.4.5.6".parse().unwrap(),
            "::1".parse().unwrap(),
            // A dual-stack socket shows an IPv4 loopback client this way.
            "::ffff:127.0.0.1".parse().unwrap(),
        ];
        let exempt = Arc::new(ConnectionLimits::new(5, 1));
        let held: Vec<Slot> = loopbacks
            .iter()
            .flat_map(|&ip| [ip, ip])
            .take(5)
            .map(|ip| exempt.acquire(ip).unwrap())
            .collect();
        // The total still applies to them.
        assert_eq!(exempt.acquire(loopbacks[0]).unwrap_err(), OverLimit::Total);
        drop(held);
        // Other addresses are counted as before.
        let remote: IpAddr = "192.0.2.1".parse().unwrap();
        let _r = exempt.acquire(remote).unwrap();
        assert_eq!(exempt.acquire(remote).unwrap_err(), OverLimit::PerAddress);
        // A dual-stack socket's view of the same IPv4 client is the same client.
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(exempt.acquire(mapped).unwrap_err(), OverLimit::PerAddress);
        let mapped: IpAddr = "::ffff:192.0.2.2".parse().unwrap();
        let _m = exempt.acquire(mapped).unwrap();
        assert_eq!(exempt.acquire(mapped).unwrap_err(), OverLimit::PerAddress);

        let counted = Arc::new(ConnectionLimits::new(5, 1).loopback_exempt(false));
        for ip in loopbacks {
            let _one = counted.acquire(ip).unwrap();
            assert_eq!(
                counted.acquire(ip).unwrap_err(),
                OverLimit::PerAddress,
                "{ip}"
            );
        }
        assert_eq!(counted.open.lock().unwrap().total, 0);
    }

    #[tokio::test]
    async fn each_listener_has_its_own_pool() {
        let (_dir, tls) = tls_config("toy-pools");
        let mut listeners = Listeners::new(tls, ListenerPolicy::default());
        let toy = || Toy {
            tls_start: TlsStart::StartTls,
        };
        let busy = listeners
            .bind(toy(), localhost(), ConnectionLimits::new(1, 10))
            .await
            .unwrap();
        let other = listeners
            .bind(toy(), localhost(), ConnectionLimits::new(1, 10))
            .await
            .unwrap();
        let mut first = BufReader::new(TcpStream::connect(busy).await.unwrap());
        assert_eq!(read_line(&mut first).await, "+OK toy ready\r\n");
        // The busy listener is full...
        let refused = TcpStream::connect(busy).await.unwrap();
        assert_eq!(
            read_all(refused).await,
            b"-ERR [SYS/TEMP] too many connections\r\n"
        );
        // ...which takes nothing from the other one.
        let mut served = BufReader::new(TcpStream::connect(other).await.unwrap());
        assert_eq!(read_line(&mut served).await, "+OK toy ready\r\n");
        assert!(listeners.shut_down(Duration::from_secs(5)).await);
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[tokio::test]
    async fn a_full_login_pool_evicts_its_oldest_session_before_login() {
        let limits = Arc::new(
            ConnectionLimits::new(2, 2)
                .loopback_exempt(false)
                .evict_before_login(true),
        );
        let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
        let first = limits.acquire(a).unwrap();
        let second = limits.acquire(a).unwrap();
        let (first_place, second_place) = (first.place(), second.place());
        // The pool is full: a newcomer takes the oldest place.
        let third = limits.acquire(b).unwrap();
        first_place.evicted().await;
        assert_eq!(limits.open.lock().unwrap().total, 2);
        // The evicted slot frees nothing more when its session ends; the count per client
        // was given back at the eviction.
        drop(first);
        {
            let open = limits.open.lock().unwrap();
            assert_eq!(open.total, 2);
            assert_eq!(open.per_ip.get(&a), Some(&1));
        }
        // A logged-in session is never evicted: the next newcomer takes the third's place.
        second_place.logged_in();
        let third_place = third.place();
        let fourth = limits.acquire(b).unwrap();
        third_place.evicted().await;
        // Only logged-in sessions left: a full pool refuses.
        fourth.place().logged_in();
        assert_eq!(limits.acquire(b).unwrap_err(), OverLimit::Total);
        drop((second, third, fourth));
        let open = limits.open.lock().unwrap();
        assert_eq!(
            (open.total, open.per_ip.len(), open.pre_login.len()),
            (0, 0, 0)
        );
    }

    #[test]
    fn a_pool_without_login_refuses_when_full() {
        let limits = Arc::new(ConnectionLimits::new(1, 1).loopback_exempt(false));
        let _only = limits.acquire(ip("192.0.2.1")).unwrap();
        assert_eq!(
            limits.acquire(ip("192.0.2.2")).unwrap_err(),
            OverLimit::Total
        );
        assert!(limits.open.lock().unwrap().pre_login.is_empty());
    }

    #[test]
    fn pools_are_cut_to_fit_the_open_files_limit() {
        // 1024, the usual soft limit: (1024 - 64) / 2 = 480 places for three pools of 1000.
        assert_eq!(
            fit_pools(&[1000, 1000, 1000], 1024),
            Some(vec![160, 160, 160])
        );
        // In proportion to what is configured.
        assert_eq!(fit_pools(&[300, 100], 264), Some(vec![75, 25]));
        // Pools that fit are left alone.
        assert_eq!(fit_pools(&[1000, 1000, 1000], 20_000), None);
        assert_eq!(fit_pools(&[100], 264), None);
        // A limit below the reserve still leaves each pool one place.
        assert_eq!(fit_pools(&[1000, 5], 10), Some(vec![1, 1]));
        assert_eq!(
            fit_pools(&[usize::MAX, usize::MAX], 1024).map(|p| p.len()),
            Some(2)
        );
        let proc_limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                           Max processes             63704                63704                processes \n\
                           Max open files            1024                 524288               files     \n";
        assert_eq!(parse_open_files_limit(proc_limits), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_open_files_limit(unlimited), None);
        assert_eq!(parse_open_files_limit(""), None);
    }

    #[test]
    fn ipv6_clients_are_grouped_by_prefix_and_ipv4_by_address() {
        let ip = |t: &str| t.parse::<IpAddr>().unwrap();
        let key = |t: &str, bits| client_key(ip(t), bits);
        assert_eq!(key("2001:db8:1:2:aaaa::1", 64), ip("2001:db8:1:2::"));
        assert_eq!(
            key("2001:db8:1:2:ffff:ffff:ffff:ffff", 64),
            ip("2001:db8:1:2::")
        );
        assert_ne!(key("2001:db8:1:3::1", 64), key("2001:db8:1:2::1", 64));
        assert_eq!(key("2001:db8:1:2:3:4:5:6", 48), ip("2001:db8:1::"));
        assert_eq!(key("2001:db8:1:2:3:4:5:6", 56), ip("2001:db8:1::"));
        assert_eq!(key("2001:db8:1:2ff:3:4:5:6", 56), ip("2001:db8:1:200::"));
        assert_eq!(key("2001:db8::7", 128), ip("2001:db8::7"));
        assert_eq!(key("2001:db8::7", 200), ip("2001:db8::7"));
        assert_eq!(key("2001:db8::7", 0), ip("::"));
        // IPv4, also as a dual-stack socket shows it, is counted per address.
        assert_eq!(key("192.0.2.7", 64), ip("192.0.2.7"));
        assert_eq!(key("::ffff:192.0.2.7", 64), ip("192.0.2.7"));
        assert_ne!(key("192.0.2.7", 8), key("192.0.2.8", 8));

        // In a pool: the second connection from the same /64 is over the limit per client.
        let limits = Arc::new(ConnectionLimits::new(10, 1));
        let _a = limits.acquire(ip("2001:db8:1:2::a")).unwrap();
        assert_eq!(
            limits.acquire(ip("2001:db8:1:2::b")).unwrap_err(),
            OverLimit::PerAddress
        );
        let _c = limits.acquire(ip("2001:db8:1:3::a")).unwrap();
        // With /128, every address is its own client.
        let exact = Arc::new(ConnectionLimits::new(10, 1).ipv6_prefix(128));
        let _a = exact.acquire(ip("2001:db8:1:2::a")).unwrap();
        let _b = exact.acquire(ip("2001:db8:1:2::b")).unwrap();
    }

    #[tokio::test]
    async fn the_pool_enters_and_leaves_stress_at_its_threshold() {
        let limits = Arc::new(ConnectionLimits::new(5, 5).stress_threshold(80));
        let mut pressure = Pressure {
            stressed: limits.pressure.subscribe(),
            limits: StressLimits::default(),
        };
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let held: Vec<Slot> = (0..3).map(|_| limits.acquire(ip).unwrap()).collect();
        assert!(!limits.stressed() && !pressure.stressed());
        // The fourth of five places is 80%.
        let fourth = limits.acquire(ip).unwrap();
        assert!(limits.stressed());
        assert!(pressure.changed().await);
        drop(fourth);
        assert!(!pressure.changed().await);
        assert!(!pressure.stressed());
        drop(held);
        // 100% means never (a full pool refuses instead).
        let never = Arc::new(ConnectionLimits::new(2, 5).stress_threshold(100));
        let _all: Vec<Slot> = (0..2).map(|_| never.acquire(ip).unwrap()).collect();
        assert!(!never.stressed());
    }

    #[test]
    fn timeouts_follow_stress_before_login_and_the_idle_minimum_after() {
        let stress = StressLimits::default();
        let normal = Duration::from_secs(300);
        let short = Duration::from_secs(5);
        let s =
            |rule, logged_in, stressed| session_timeout(normal, rule, logged_in, stressed, &stress);
        assert_eq!(s(LoginRule::NONE, false, false), normal);
        assert_eq!(s(LoginRule::NONE, false, true), stress.command_timeout);
        // A protocol without login cannot leave the stress rules by claiming a login.
        assert_eq!(s(LoginRule::NONE, true, true), stress.command_timeout);
        assert_eq!(
            s(LoginRule::SMTP_SUBMISSION, false, true),
            stress.command_timeout
        );
        assert_eq!(s(LoginRule::SMTP_SUBMISSION, true, true), normal);
        // POP3 and IMAP keep their idle minimums after login, whatever is configured.
        let after = |rule| session_timeout(short, rule, true, true, &stress);
        assert_eq!(after(LoginRule::POP3), Duration::from_secs(600));
        assert_eq!(after(LoginRule::IMAP), Duration::from_secs(1800));
        assert_eq!(
            session_timeout(short, LoginRule::IMAP, false, false, &stress),
            short
        );
        // Stress never lengthens a timeout.
        assert_eq!(
            session_timeout(short, LoginRule::NONE, false, true, &stress),
            short
        );
    }

    /// The start of a real TLS 1.2/1.3 ClientHello: a handshake record (22), version 3.1,
    /// then its length and the handshake type 1.
    const CLIENT_HELLO: &[u8] = b"\x16\x03\x01\x00\xf4\x01\x00\x00\xf0\x03\x03";

    fn plain_port(name: &str, port: u16, implicit: &[(mail_tls::Service, u16)]) -> PlainPort {
        PlainPort {
            listener: Arc::from(name),
            service: mail_tls::Service::Submission,
            port,
            implicit: Arc::new(Mutex::new(implicit.iter().copied().collect())),
        }
    }

    /// Runs `chunks` through a [`PlainStream`] one write at a time (the reads split the same
    /// way), then closes; returns what the session read and whether its write went through.
    async fn through_plain_stream(chunks: &[&[u8]]) -> (Vec<u8>, bool) {
        let (client, server) = tokio::io::duplex(1024);
        let peer: SocketAddr = "192.0.2.9:40000".parse().unwrap();
        let mut stream = PlainStream::new(server, peer, plain_port("submission", 2587, &[]));
        let chunks: Vec<Vec<u8>> = chunks.iter().map(|c| c.to_vec()).collect();
        let writer = tokio::spawn(async move {
            let mut client = client;
            for chunk in chunks {
                client.write_all(&chunk).await.unwrap();
                client.flush().await.unwrap();
                tokio::task::yield_now().await;
            }
            client.shutdown().await.unwrap();
            client
        });
        let mut read = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            read.extend_from_slice(&buf[..n]);
        }
        let _client = writer.await.unwrap();
        let wrote = stream.write_all(b"220 hello\r\n").await.is_ok();
        (read, wrote)
    }

    #[tokio::test]
    async fn a_client_hello_on_a_plaintext_port_ends_the_session_however_it_is_split() {
        let whole: &[&[u8]] = &[CLIENT_HELLO];
        let bytewise: Vec<&[u8]> = CLIENT_HELLO.chunks(1).collect();
        for chunks in [
            whole,
            &bytewise[..],
            &[&CLIENT_HELLO[..2], &CLIENT_HELLO[2..]],
        ] {
            // The session reads end of stream, and nothing it writes reaches the client.
            assert_eq!(through_plain_stream(chunks).await, (Vec::new(), false));
        }
    }

    #[tokio::test]
    async fn plaintext_passes_through_unchanged_however_it_is_split() {
        let commands: &[u8] = b"HELO client.example\r\nSTARTTLS\r\n";
        let bytewise: Vec<&[u8]> = commands.chunks(1).collect();
        for chunks in [
            &[commands][..],
            &bytewise[..],
            &[&commands[..2], &commands[2..]],
        ] {
            assert_eq!(
                through_plain_stream(chunks).await,
                (commands.to_vec(), true)
            );
        }
        // Bytes that could start a TLS record but end there, and a record that is not a
        // handshake, are handed on as they are.
        for odd in [&b"\x16"[..], b"\x16\x03", b"\x15\x03\x01\x00\x02"] {
            assert_eq!(through_plain_stream(&[odd]).await, (odd.to_vec(), true));
        }
        // Nothing at all is end of stream.
        assert_eq!(through_plain_stream(&[]).await, (Vec::new(), true));
    }

    #[test]
    fn the_diagnosis_names_this_servers_ports() {
        use mail_tls::Service::Submission;
        // mail-tls's sentence, then the ports of this server, which are not the standard ones.
        let text = plain_port("submission", 2587, &[(Submission, 2465)])
            .diagnosis(CLIENT_HELLO)
            .unwrap();
        assert!(
            text.starts_with(
                "mode mismatch: the client started a TLS handshake (implicit TLS) on \
                 submission port 2587"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("; on this server: implicit TLS on port 2465, STARTTLS on port 2587"),
            "{text}"
        );
        // On the standard ports the diagnosis says it all.
        let text = plain_port("submission", 587, &[(Submission, 465)])
            .diagnosis(CLIENT_HELLO)
            .unwrap();
        assert!(text.contains("connect the client to port 465"), "{text}");
        assert!(!text.contains("on this server"), "{text}");
        // Without an implicit-TLS listener, the client is told to use STARTTLS.
        let text = plain_port("submission", 2587, &[])
            .diagnosis(CLIENT_HELLO)
            .unwrap();
        assert!(
            text.ends_with("; on this server: no implicit-TLS listener, STARTTLS on port 2587"),
            "{text}"
        );
        // Anything but a ClientHello is no mismatch.
        assert_eq!(
            plain_port("submission", 2587, &[]).diagnosis(b"EHLO x\r\n"),
            None
        );
    }
}
