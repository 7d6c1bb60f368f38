//! SMTP: the relay, submission and submissions listeners as three instances of
//! [`SmtpService`], and the per-session policy on top of `smtp_proto::tokio::ServerConnection`,
//! delivering into the Maildir store, and queuing submitted mail for other domains in the
//! outbound queue (`crate::queue`).
//!
//! The protocol (syntax, sequence, limits, STARTTLS, the SASL exchange) is the state
//! machine's; this module decides who may send to whom and when a message is safe to
//! acknowledge: only after the store (and the queue) have committed it to disk.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use mail_wire::sasl::{Mechanism, Nonce};
use smtp_proto::server::{Event, HelloVerb, Server, ServerConfig, SessionError};
use smtp_proto::tokio::{ServerConnection, Traffic};
use smtp_proto::trace::{DateTime, Protocol, Received, TraceId, return_path};
use smtp_proto::{
    Domain, EnhancedStatusCode, ForwardPath, Host, LocalPart, Mailbox, Reply, ReplyCode,
    ReversePath, ValueError,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Semaphore, watch};
use tracing::{info, warn};

use crate::accounts::{Accounts, Address};
use crate::guard::LoginGuard;
use crate::hops::HopCounter;
use crate::listeners::{
    Connection, LoginRule, OverLimit, Place, Pressure, Service, Slot, Stop, TlsStart, Transport,
    session_timeout,
};
use crate::logsafe::Escaped;
use crate::queue::{Envelope, Queue, Recipient, Spool, SpoolError};
use crate::store::{Delivery, Store};

/// What a listener lets its clients do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Port 2525: mail for local users from anyone, no AUTH.
    Relay,
    /// Ports 2587 and 2465: AUTH required, the sender must be the authenticated account.
    Submission,
}

/// Who receives mail here: the local domains and their accounts.
#[derive(Debug)]
pub struct Mailboxes {
    /// The accounts (read-only while serving); they also check passwords.
    pub accounts: Accounts,
    /// The local domains, lowercased.
    pub domains: Vec<String>,
}

impl Mailboxes {
    pub(crate) fn is_local(&self, domain: &str) -> bool {
        self.local_domain(domain).is_some()
    }

    /// `address` with its domain as configured when it is a local domain written in another
    /// case or IDNA form (the account it names); otherwise as it is.
    pub(crate) fn canonical(&self, address: Address) -> Address {
        match self.local_domain(address.domain()) {
            Some(domain) if domain != address.domain() => {
                Address::new(address.local(), domain).unwrap_or(address)
            }
            _ => address,
        }
    }

    /// The local domain `domain` names, as configured: compared in any case (Unicode letters
    /// too) and in either IDNA form, so `BÜCHER.example` and `xn--bcher-kva.example` are the
    /// domain `bücher.example` (RFC 5890 section 2.3.2.1: an A-label and its U-label are the
    /// same label; a client without SMTPUTF8 must write the A-label).
    fn local_domain(&self, domain: &str) -> Option<&str> {
        if let Some(same) = self.domains.iter().find(|d| d.eq_ignore_ascii_case(domain)) {
            return Some(same);
        }
        let ascii = idna::domain_to_ascii(domain).ok()?;
        self.domains
            .iter()
            .find(|d| idna::domain_to_ascii(d).is_ok_and(|d| d == ascii))
            .map(String::as_str)
    }
}

/// What every SMTP session of the server shares.
#[derive(Debug)]
pub struct Policy {
    /// Where accepted messages go.
    pub store: Store,
    /// Who receives mail here.
    pub mailboxes: Mailboxes,
    /// The server's name in the trace headers it writes.
    pub hostname: Domain<'static>,
    /// Password checks allowed at once. Each Argon2id verification holds a 19 MiB work area,
    /// so unbounded concurrent logins would be a memory attack; extra ones wait their turn.
    /// The accounts keep one reusable work area per slot
    /// ([`Accounts::set_hashing_slots`](crate::accounts::Accounts::set_hashing_slots)).
    pub auth_slots: Semaphore,
    /// Quota, free space and the relay's sender rule.
    pub guards: Guards,
    /// The outbound queue: where submitted mail for other domains waits for the worker.
    pub queue: Queue,
}

/// The checks of issue 14 on senders and on room for mail (flags `--quota`,
/// `--min-free-space`, `--allow-local-senders-on-relay`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guards {
    /// The most a mailbox may hold, in octets; `None` for no quota.
    pub quota: Option<u64>,
    /// MAIL is refused with 452 4.3.1 while the store's file system has less free space than
    /// this many octets (0: never).
    pub min_free_space: u64,
    /// Whether unauthenticated relay clients may use a sender in a local domain.
    pub allow_local_senders_on_relay: bool,
    /// `--max-hops`: the most `Received:` fields a message may have, the one this server
    /// adds included; more is refused with `554 5.4.6` as a mail loop ([`crate::hops`]).
    pub max_hops: usize,
}

/// One SMTP listener: its role, how TLS starts, the state machine's configuration, and the
/// policy every session applies.
#[derive(Debug, Clone)]
pub struct SmtpService {
    name: &'static str,
    summary: &'static str,
    role: Role,
    tls_start: TlsStart,
    /// Whether sessions log in (AUTH): the stress rules then hold before login only.
    login: LoginRule,
    config: ServerConfig,
    policy: Arc<Policy>,
}

impl SmtpService {
    /// Port 25's job (2525 here): mail for local users from anyone, STARTTLS offered, no AUTH.
    pub fn relay(base: &ServerConfig, policy: Arc<Policy>) -> Self {
        let mut config = base.clone();
        config.starttls = true;
        SmtpService {
            name: "smtp (relay)",
            summary: "STARTTLS offered, mail for local users, no AUTH",
            role: Role::Relay,
            tls_start: TlsStart::StartTls,
            login: LoginRule::NONE,
            config,
            policy,
        }
    }

    /// Submission (RFC 6409, 2587 here): STARTTLS, then AUTH required (TLS required before
    /// AUTH unless `base` allows plaintext AUTH).
    pub fn submission(base: &ServerConfig, policy: Arc<Policy>) -> Self {
        let mut config = base.clone();
        config.starttls = true;
        config.require_tls = !base.allow_plaintext_auth;
        config.require_auth = true;
        config.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
        SmtpService {
            name: "submission",
            summary: "STARTTLS, then AUTH required",
            role: Role::Submission,
            tls_start: TlsStart::StartTls,
            login: LoginRule::SMTP_SUBMISSION,
            config,
            policy,
        }
    }

    /// Submission over implicit TLS (RFC 8314, 2465 here): AUTH required.
    pub fn submissions(base: &ServerConfig, policy: Arc<Policy>) -> Self {
        let mut config = base.clone();
        config.implicit_tls = true;
        config.require_auth = true;
        config.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
        SmtpService {
            name: "submissions",
            summary: "implicit TLS, AUTH required",
            role: Role::Submission,
            tls_start: TlsStart::Implicit,
            login: LoginRule::SMTP_SUBMISSION,
            config,
            policy,
        }
    }
}

impl Service for SmtpService {
    fn name(&self) -> &str {
        self.name
    }

    fn summary(&self) -> &str {
        self.summary
    }

    fn tls_start(&self) -> TlsStart {
        self.tls_start
    }

    fn tls_service(&self) -> mail_tls::Service {
        match self.role {
            Role::Relay => mail_tls::Service::SmtpRelay,
            Role::Submission => mail_tls::Service::Submission,
        }
    }

    fn refusal(&self, over: OverLimit) -> &'static str {
        refusal(over)
    }

    async fn serve(self: Arc<Self>, connection: Connection) {
        let Connection {
            peer,
            client,
            transport,
            shutdown,
            slot,
            pressure,
            guard,
        } = connection;
        let config = self.session_config(pressure.stressed(), pressure.limits());
        let server = Server::new(config, Instant::now());
        let context = SessionContext {
            policy: self.policy.clone(),
            role: self.role,
            peer,
            client,
            guard,
            login: self.login,
            timeouts: (self.config.command_timeout, self.config.data_timeout),
            place: slot.place(),
        };
        match transport {
            Transport::Plain { stream, starttls } => {
                let conn = ServerConnection::new(stream, server)
                    .with_starttls(starttls.config, starttls.options);
                let conn = release_on_closing_reply(conn, slot);
                Session::new(conn, context).run(shutdown, pressure).await;
            }
            Transport::Tls(stream) => {
                let conn = release_on_closing_reply(ServerConnection::new(stream, server), slot);
                Session::new(conn, context).run(shutdown, pressure).await;
            }
        }
    }
}

impl SmtpService {
    /// The state machine's configuration for a new session: see [`session_config`].
    fn session_config(
        &self,
        stressed: bool,
        stress: &crate::listeners::StressLimits,
    ) -> ServerConfig {
        session_config(&self.config, self.login, stressed, stress)
    }
}

/// A new session's configuration: the listener's `config`, with the stress limits when the pool
/// is under stress: the command and data timeouts and the junk limit (which the state machine
/// applies until AUTH), and the error limit on a listener without login (the relay).
fn session_config(
    config: &ServerConfig,
    login: LoginRule,
    stressed: bool,
    stress: &crate::listeners::StressLimits,
) -> ServerConfig {
    let mut config = config.clone();
    if stressed {
        config.command_timeout = config.command_timeout.min(stress.command_timeout);
        config.data_timeout = config.data_timeout.min(stress.command_timeout);
        config.max_junk_commands = config.max_junk_commands.min(stress.max_junk_commands);
        if !login.logs_in {
            config.max_errors = config.max_errors.min(stress.max_errors);
        }
    }
    config
}

/// Gives the connection's slot back as soon as the session's closing reply is queued, before
/// it is written: a client that reads `221` and connects again at once must find its place
/// free (Postfix-style load generators do exactly that). The driver shows every piece of
/// output to its trace hook when it is queued, which is the earliest the reply exists.
fn release_on_closing_reply<S>(conn: ServerConnection<S>, slot: Slot) -> ServerConnection<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut slot = Some(slot);
    let mut watch = ClosingReply::default();
    conn.with_trace(move |traffic, bytes| {
        if traffic == Traffic::Sent && slot.is_some() && watch.closes(bytes) {
            slot = None;
        }
    })
}

/// Watches the replies a server queues for the one that closes the session: a final line
/// with code `221` (after `QUIT`) or `421` (the server closing: timeouts, too many errors,
/// shutdown), RFC 5321 section 4.2.3. It looks at the start of every line, across pieces
/// split anywhere.
#[derive(Debug, Default)]
struct ClosingReply {
    /// The first octets of the current line.
    start: [u8; 4],
    /// How many of them are in (at most four).
    len: usize,
}

impl ClosingReply {
    /// Whether `bytes`, the next piece of output, complete the start of a closing reply's
    /// final line.
    fn closes(&mut self, bytes: &[u8]) -> bool {
        let mut closing = false;
        for &b in bytes {
            if b == b'\n' {
                self.len = 0;
            } else if self.len < 4 {
                self.start[self.len] = b;
                self.len += 1;
                if self.len == 4 {
                    let [x, y, z, separator] = self.start;
                    closing |=
                        matches!(&[x, y, z], b"221" | b"421") && matches!(separator, b' ' | b'\r');
                }
            }
        }
        closing
    }
}

/// The greeting refusing a connection over a limit.
fn refusal(over: OverLimit) -> &'static str {
    match over {
        OverLimit::Total => "421 4.7.0 Too many connections, try again later\r\n",
        OverLimit::PerAddress => "421 4.7.0 Too many connections from your address\r\n",
    }
}

/// Who a session serves and under which policy.
#[derive(Debug)]
struct SessionContext {
    policy: Arc<Policy>,
    role: Role,
    peer: SocketAddr,
    /// The client as the limits and the login guard count it.
    client: IpAddr,
    /// The per-client login penalty.
    guard: Arc<LoginGuard>,
    /// Whether the session logs in, for the stress rules.
    login: LoginRule,
    /// The configured command and data timeouts, restored when stress ends or after AUTH.
    timeouts: (Duration, Duration),
    /// The session's place in its pool: evicted when a full pool needs room, until login.
    place: Place,
}

/// The envelope and the open delivery of the current transaction.
#[derive(Default)]
struct Transaction {
    from: Option<ReversePath<'static>>,
    /// The `SIZE=` of MAIL, for the quota check at RCPT.
    declared_size: Option<u64>,
    recipients: Vec<Address>,
    delivery: Option<Delivery>,
    /// Recipients in other domains (submission only), as given: they are queued.
    remote: Vec<String>,
    /// The queue file of the message, when it has `remote` recipients.
    spool: Option<Spool>,
    /// `SMTPUTF8` of MAIL, kept in the queue's envelope.
    smtputf8: bool,
    /// `BODY=8BITMIME` of MAIL, kept in the queue's envelope.
    eight_bit: bool,
    /// Set when writing to the store failed; the message is then refused with 451.
    failed: bool,
    /// The `Received:` fields of the message's header block so far.
    hops: HopCounter,
    /// Set once `hops` is over `--max-hops`: what was written is discarded at once, the
    /// rest of the body is read and dropped, and the end of data is answered `554 5.4.6`.
    looped: bool,
}

/// A reply with an enhanced status code. The texts here are constants or carry a
/// store-generated id, so building them does not fail in practice; if it did, the session ends
/// with a logged local error rather than a panic.
fn reply(
    code: u16,
    [class, subject, detail]: [u16; 3],
    text: &str,
) -> Result<Reply<'static>, ValueError> {
    let enhanced = EnhancedStatusCode::new(class as u8, subject, detail)?;
    Ok(Reply::text(ReplyCode::new(code)?, Some(enhanced), text)?.into_owned())
}

/// Why a session stopped on our side.
type LocalError = Box<dyn std::error::Error + Send + Sync>;

/// The account address a mailbox names, in canonical form (ASCII lowercase).
fn mailbox_address(mailbox: &Mailbox<'_>) -> Option<Address> {
    let Host::Domain(domain) = &mailbox.host else {
        return None;
    };
    Address::new(&mailbox.local.unquoted(), domain.as_str()).ok()
}

pub(crate) fn nonce() -> Nonce {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 18];
    let hex = match SystemRandom::new().fill(&mut bytes) {
        Ok(()) => bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        // The system RNG does not fail on the platforms we run on; a counter is still unique.
        Err(_) => {
            static N: AtomicU64 = AtomicU64::new(0);
            format!("fallback-{:024}", N.fetch_add(1, Ordering::Relaxed))
        }
    };
    Nonce::new(hex).expect("hex digits are a valid nonce")
}

/// What the trace headers of one message say: who sent it from where, over what, to whom.
#[derive(Debug)]
pub struct Stamp<'a> {
    /// The reverse path of MAIL FROM.
    pub from: &'a ReversePath<'a>,
    /// The name the client gave in HELO or EHLO.
    pub helo: &'a Host<'a>,
    /// The client's address.
    pub client_ip: IpAddr,
    /// This server's name.
    pub by: &'a Domain<'a>,
    /// The `with` keyword.
    pub protocol: Protocol,
    /// The delivery's unique name, which the `id` clause carries (its first 64 characters).
    pub id: &'a str,
    /// The accepted recipients.
    pub recipients: &'a [Address],
    /// When the message was received.
    pub date: DateTime,
}

/// The `Return-Path:` and `Received:` headers written in front of a message, ending in CRLF.
/// The `for` clause appears only with a single recipient: the header never discloses the
/// others.
pub fn trace_headers(stamp: &Stamp<'_>) -> String {
    return_path(stamp.from) + &received_header(stamp)
}

/// The `Received:` header alone (what [`trace_headers`] writes after `Return-Path:`): the
/// trace header of a message queued for another server, where `Return-Path:` does not belong
/// (RFC 5321 section 4.4: only the final delivery adds it).
pub fn received_header(stamp: &Stamp<'_>) -> String {
    let id: String = stamp.id.chars().take(smtp_proto::trace::MAX_ID).collect();
    // The unique name is built from digits, letters, dots and the (validated) host name, so
    // it is a valid id; if it ever were not, the clause is left out rather than mangled.
    let id = TraceId::new(id).ok();
    // The account's address as a path: a local part that needs quoting is quoted.
    let single = match stamp.recipients {
        [one] => LocalPart::from_unquoted(one.local())
            .ok()
            .zip(Domain::new(one.domain()).ok())
            .map(|(local, domain)| Mailbox::new(local, Host::Domain(domain))),
        _ => None,
    };
    let mut received =
        Received::new(stamp.helo, stamp.client_ip, stamp.by, stamp.date).protocol(stamp.protocol);
    if let Some(id) = &id {
        received = received.id(id);
    }
    if let Some(rcpt) = &single {
        received = received.recipient(rcpt);
    }
    received.header()
}

/// One SMTP session: its connection, context, greeting and transaction.
struct Session<S> {
    conn: ServerConnection<S>,
    context: SessionContext,
    /// The HELO/EHLO argument.
    helo: Option<Host<'static>>,
    txn: Transaction,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    fn new(conn: ServerConnection<S>, context: SessionContext) -> Self {
        Session {
            conn,
            context,
            helo: None,
            txn: Transaction::default(),
        }
    }

    /// Runs the session to its end. `shutdown` turning true asks it to finish its
    /// transaction and close, its second signal (the grace is over) closes it at once with
    /// `421`; `pressure` changing shortens or restores its timeouts.
    async fn run(mut self, mut shutdown: watch::Receiver<Stop>, mut pressure: Pressure) {
        let peer = self.context.peer;
        let mut shutting_down = *shutdown.borrow() != Stop::Running;
        if shutting_down {
            self.conn.server().shutdown();
        }
        let mut stressed = pressure.stressed();
        // The second shutdown signal (the grace is over) was seen and the 421 queued.
        let mut cut = false;
        loop {
            let event = if cut {
                self.conn.next_event().await
            } else if shutting_down {
                tokio::select! {
                    event = self.conn.next_event() => event,
                    _ = shutdown.wait_for(|stop| *stop == Stop::Cut) => {
                        cut = true;
                        self.cut(peer);
                        continue;
                    }
                }
            } else {
                tokio::select! {
                    event = self.conn.next_event() => event,
                    _ = shutdown.changed() => {
                        shutting_down = true;
                        self.conn.server().shutdown();
                        continue;
                    }
                    now = pressure.changed() => {
                        stressed = now;
                        self.apply_timeouts(stressed, &pressure);
                        continue;
                    }
                    _ = self.context.place.evicted() => {
                        self.evict(peer);
                        continue;
                    }
                }
            };
            let event = match event {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(err) => {
                    let error = err.to_string();
                    warn!(%peer, error = %Escaped(&error), "session error");
                    break;
                }
            };
            if matches!(event, Event::Authenticated(_)) {
                // Logged in: the stress rules no longer apply, and the place is kept.
                self.context.place.logged_in();
                self.apply_timeouts(stressed, &pressure);
            }
            // An eviction also cuts short what the event waits for (a login's penalty, a
            // hashing slot), so an evicted session never outlives its place for long.
            let place = self.context.place.clone();
            // A message being committed is never cut: the commit runs on a blocking thread
            // that dropping this future would not stop, so the client would hear "nothing was
            // accepted" about a message kept. It ends (250 or 451), and the cut follows.
            let committing = matches!(event, Event::BodyEnd { .. });
            let handled = tokio::select! {
                handled = self.handle(event) => handled,
                _ = place.evicted() => {
                    self.evict(peer);
                    continue;
                }
                // The grace is over while a decision is pending (a delivery's sync, a login's
                // penalty): the decision is dropped, nothing is acknowledged.
                _ = shutdown.wait_for(|stop| *stop == Stop::Cut), if !cut && !committing => {
                    cut = true;
                    self.cut(peer);
                    continue;
                }
            };
            if let Err(err) = handled {
                let error = err.to_string();
                warn!(%peer, error = %Escaped(&error), "session ended by a local error");
                break;
            }
        }
        if let Some(delivery) = self.txn.delivery.take() {
            delivery.abort();
        }
    }

    /// Closes the session at once with `421 4.3.2` when the shutdown grace is over and the
    /// transaction still open (RFC 5321 section 3.8: a server shutting down sends 421 before
    /// it closes): nothing of the transaction was acknowledged, and nothing of it is kept.
    fn cut(&mut self, peer: SocketAddr) {
        info!(%peer, "closed: the shutdown grace is over");
        let text = "Server shutting down; transaction aborted, nothing was accepted";
        match reply(421, [4, 3, 2], text) {
            Ok(closing) => self.conn.server().close(&closing),
            Err(_) => self.conn.server().shutdown(),
        }
    }

    /// Closes the session at once with `421 4.7.0`: the pool is full and this was its oldest
    /// session before login, whose place went to a newcomer. A pending decision is dropped.
    fn evict(&mut self, peer: SocketAddr) {
        info!(%peer, "evicted: the pool is full and the session had not logged in");
        let text = "Too many connections; closing the oldest unauthenticated session";
        match reply(421, [4, 7, 0], text) {
            Ok(closing) => self.conn.server().close(&closing),
            Err(_) => self.conn.server().shutdown(),
        }
    }

    /// Sets the live session's timeouts for the pool's pressure and the login phase
    /// ([`session_timeout`]): shortened under stress before AUTH (for the whole session on the
    /// relay), the configured ones otherwise.
    fn apply_timeouts(&mut self, stressed: bool, pressure: &Pressure) {
        let (command, data) = self.context.timeouts;
        let login = self.context.login;
        let server = self.conn.server();
        let logged_in = server.authenticated().is_some();
        let stress = pressure.limits();
        server.set_command_timeout(session_timeout(command, login, logged_in, stressed, stress));
        server.set_data_timeout(session_timeout(data, login, logged_in, stressed, stress));
    }

    async fn handle(&mut self, event: Event) -> Result<(), LocalError> {
        let peer = self.context.peer;
        let decided = match event {
            Event::Hello { verb, host } => {
                let helo = host.to_string();
                info!(%peer, ?verb, helo = %Escaped(&helo), "hello");
                self.helo = Some(host);
                self.conn.server().accept()
            }
            Event::Mail { from, params } => {
                self.txn = Transaction::default();
                let sender = match &from {
                    ReversePath::Null => String::new(),
                    ReversePath::Mailbox(m) => m.to_string(),
                };
                let sender = Escaped(&sender);
                if let Some((refusal, reason)) = self.sender_refusal(&from)? {
                    info!(%peer, from = %sender, reason, "sender refused");
                    return Ok(self.conn.server().reject(refusal)?);
                }
                if let Some(refusal) = self.space_refusal()? {
                    return Ok(self.conn.server().reject(refusal)?);
                }
                info!(%peer, from = %sender, size = ?params.size, "mail from");
                self.txn.from = Some(from.into_owned());
                self.txn.declared_size = params.size;
                self.txn.smtputf8 = params.smtputf8;
                self.txn.eight_bit = params.body == Some(smtp_proto::Body::EightBitMime);
                self.conn.server().accept()
            }
            Event::Rcpt { to, .. } if self.foreign(&to) => match self.foreign_recipient(&to)? {
                Ok(address) => {
                    info!(%peer, to = %Escaped(&address), "rcpt to (queued for delivery)");
                    if !self.txn.remote.contains(&address) {
                        self.txn.remote.push(address);
                    }
                    self.conn.server().accept()
                }
                Err(refusal) => self.conn.server().reject(refusal),
            },
            Event::Rcpt { to, .. } => match self.recipient(&to)? {
                Ok(address) => {
                    info!(%peer, to = %Escaped(&address.to_string()), "rcpt to");
                    self.txn.recipients.push(address);
                    self.conn.server().accept()
                }
                Err(refusal) => self.conn.server().reject(refusal),
            },
            Event::BodyStart { .. } => {
                self.open_delivery();
                Ok(())
            }
            Event::BodyChunk(chunk) => {
                self.count_hops(&chunk);
                // After a failed write the rest of the body is read and dropped: the client
                // gets a 4xx at the end, and the log one line, not one per chunk.
                if let (Some(delivery), false) = (&mut self.txn.delivery, self.txn.failed) {
                    if let Err(err) = delivery.write(&chunk) {
                        warn!(%peer, error = %err, "cannot write the message");
                        self.txn.failed = true;
                    }
                }
                if let (Some(spool), false) = (&mut self.txn.spool, self.txn.failed) {
                    if let Err(err) = spool.write(&chunk) {
                        warn!(%peer, error = %err, "cannot write the message to the queue");
                        self.txn.failed = true;
                    }
                }
                Ok(())
            }
            Event::BodyAborted(error) => {
                let error = error.to_string();
                info!(%peer, error = %Escaped(&error), "message refused while streaming");
                if let Some(delivery) = self.txn.delivery.take() {
                    delivery.abort();
                }
                self.txn = Transaction::default();
                Ok(())
            }
            Event::BodyEnd { size, .. } => return self.commit(size).await,
            Event::AuthStep { .. } => {
                // A failure of this step is answered after the client's current penalty; the
                // state machine holds the reply back and the driver sleeps, holding neither a
                // thread nor a hashing slot.
                // A client whose last failure's delay has not passed waits for it before its
                // check: a guesser that hangs up instead of waiting for the 535 gains nothing.
                let wait = self.context.guard.wait_before_check(self.context.client);
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                let delay = self.context.guard.failure_delay(self.context.client);
                let policy = &self.context.policy;
                let server = self.conn.server();
                server.set_auth_failure_delay(delay);
                let hashing = policy.auth_slots.acquire().await?;
                // Argon2 takes tens of milliseconds: keep other sessions running meanwhile.
                let decided = tokio::task::block_in_place(|| {
                    server.auth_step(&policy.mailboxes.accounts, nonce())
                });
                // The hashing slot goes back now, before any failure delay starts.
                drop(hashing);
                decided
            }
            Event::Authenticated(who) => {
                let user = Escaped(who.identity());
                info!(%peer, %user, mechanism = %who.mechanism(), "authenticated");
                Ok(())
            }
            Event::AuthFailed {
                mechanism,
                error,
                user,
            } => {
                self.context.guard.record_failure(self.context.client);
                let error = error.to_string();
                let error = Escaped(&error);
                // The name tried, never a password; a client may give none.
                match user.as_deref().map(Escaped) {
                    Some(user) => {
                        warn!(%peer, %mechanism, %user, %error, "authentication failed")
                    }
                    None => warn!(%peer, %mechanism, %error, "authentication failed"),
                }
                Ok(())
            }
            Event::StartTls => {
                info!(%peer, "TLS started");
                Ok(())
            }
            Event::Closed(ending) => {
                match ending {
                    Ok(()) => info!(%peer, reason = "client quit", "session closed"),
                    Err(
                        reason @ SessionError::PeerClosed {
                            in_transaction: false,
                        },
                    ) => info!(%peer, %reason, "session closed"),
                    Err(reason) => {
                        // Some reasons quote what the client sent.
                        let reason = reason.to_string();
                        warn!(%peer, reason = %Escaped(&reason), "session closed")
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        };
        Ok(decided?)
    }

    /// The refusal of a sender, with the reason for the log: on submission, a sender that is
    /// not the authenticated account; on the relay, a sender in a local domain (only the
    /// submission ports may send as a local user, unless `--allow-local-senders-on-relay`).
    fn sender_refusal(
        &mut self,
        from: &ReversePath<'_>,
    ) -> Result<Option<(Reply<'static>, &'static str)>, LocalError> {
        if self.context.role == Role::Relay {
            return Ok(self.local_sender_refusal(from)?.map(|refusal| {
                (
                    refusal,
                    "a local domain without authentication on the relay port",
                )
            }));
        }
        let owner = self
            .conn
            .server()
            .authenticated()
            .map(|a| a.identity().to_owned());
        // Both sides in canonical form: the sender may write the account in any case.
        let accounts = &self.context.policy.mailboxes.accounts;
        let owner = owner.as_deref().and_then(|name| accounts.lookup(name));
        let owned = match (from, owner) {
            (ReversePath::Mailbox(m), Some(owner)) => {
                let mailboxes = &self.context.policy.mailboxes;
                mailbox_address(m).map(|a| mailboxes.canonical(a)).as_ref() == Some(owner)
            }
            _ => false,
        };
        match owned {
            true => Ok(None),
            false => Ok(Some((
                reply(
                    553,
                    [5, 7, 1],
                    "Sender address is not owned by the authenticated account",
                )?,
                "not the authenticated account",
            ))),
        }
    }

    /// On the relay port, the refusal of a sender whose domain is one of ours: nobody
    /// authenticated, so it would be a forgery of a local user (Postfix's
    /// `reject_unauthenticated_sender_login_mismatch`). The null sender (bounces) passes, and
    /// `--allow-local-senders-on-relay` lets every sender pass.
    fn local_sender_refusal(
        &self,
        from: &ReversePath<'_>,
    ) -> Result<Option<Reply<'static>>, LocalError> {
        let policy = &self.context.policy;
        if policy.guards.allow_local_senders_on_relay {
            return Ok(None);
        }
        let local = match from {
            ReversePath::Null => false,
            ReversePath::Mailbox(m) => match &m.host {
                Host::Domain(domain) => policy.mailboxes.is_local(domain.as_str()),
                _ => false,
            },
        };
        match local {
            false => Ok(None),
            true => Ok(Some(reply(
                553,
                [5, 7, 1],
                "Sender address in a local domain needs authentication: use the submission port",
            )?)),
        }
    }

    /// The refusal of MAIL while the store's file system has less free space than
    /// `--min-free-space` (452 4.3.1, RFC 3463 "mail system full"). A failing `statvfs` is
    /// logged and does not refuse mail: the write itself reports a full disk.
    fn space_refusal(&self) -> Result<Option<Reply<'static>>, LocalError> {
        let (peer, policy) = (self.context.peer, &self.context.policy);
        let wanted = policy.guards.min_free_space;
        if wanted == 0 {
            return Ok(None);
        }
        match policy.store.free_space() {
            Ok(free) if free < wanted => {
                warn!(%peer, free, wanted, "mail refused: too little free disk space");
                Ok(Some(reply(
                    452,
                    [4, 3, 1],
                    "Insufficient system storage, try again later",
                )?))
            }
            Ok(_) => Ok(None),
            Err(err) => {
                warn!(%peer, error = %err, "cannot read the free disk space");
                Ok(None)
            }
        }
    }

    /// The first recipient whose mailbox `size` more octets would take over the quota, if
    /// any. Reading a usage total that fails counts as room (the write reports real errors).
    fn over_quota(&self, recipients: &[Address], size: u64) -> Option<Address> {
        let policy = &self.context.policy;
        let quota = policy.guards.quota?;
        recipients.iter().find_map(|rcpt| {
            let used = policy.store.usage(rcpt).unwrap_or(0);
            (used.saturating_add(size) > quota).then(|| rcpt.clone())
        })
    }

    /// Reserves `size` octets in the mailbox of each of `recipients` under `quota`: the
    /// recipients reserved, and the first one over quota (whose reservation failed), if any.
    /// A total that cannot be read counts as room, as in [`over_quota`](Self::over_quota).
    fn reserve<'a>(
        &self,
        recipients: &[&'a Address],
        size: u64,
        quota: u64,
    ) -> (Vec<&'a Address>, Option<Address>) {
        let store = &self.context.policy.store;
        let mut reserved = Vec::new();
        for &rcpt in recipients {
            match store.reserve(rcpt, size, quota) {
                Ok(true) => reserved.push(rcpt),
                Ok(false) => return (reserved, Some(rcpt.clone())),
                Err(err) => {
                    warn!(peer = %self.context.peer, error = %err, "cannot read a mailbox's usage")
                }
            }
        }
        (reserved, None)
    }

    /// The account a recipient is delivered to, or the refusal.
    fn recipient(
        &self,
        to: &ForwardPath<'_>,
    ) -> Result<Result<Address, Reply<'static>>, LocalError> {
        let (peer, mailboxes) = (self.context.peer, &self.context.policy.mailboxes);
        let address = match to {
            ForwardPath::Postmaster => mailboxes
                .domains
                .first()
                .and_then(|d| Address::new("postmaster", d).ok()),
            ForwardPath::Mailbox(m) => mailbox_address(m),
        };
        let Some(address) = address else {
            return Ok(Err(reply(550, [5, 1, 1], "No such user here")?));
        };
        // A local domain in its other IDNA form is the same domain: its accounts, its Maildir.
        let address = mailboxes.canonical(address);
        if !mailboxes.is_local(address.domain()) {
            // Submission queues other domains (`foreign_recipient`); only the relay gets here.
            info!(%peer, to = %Escaped(&address.to_string()), "relay refused");
            return Ok(Err(reply(550, [5, 7, 1], "Relaying denied")?));
        }
        // RFC 5321 section 4.5.1: every served domain MUST accept "postmaster" (any case),
        // account or not. Its mail goes to the Maildir of postmaster@domain, which an
        // account of that name reads. Like every address, it is in canonical (lowercase)
        // form here, so `Demo@localhost` finds the account `demo@localhost`.
        if address.local() != "postmaster" && !mailboxes.accounts.contains(&address) {
            info!(%peer, to = %Escaped(&address.to_string()), "unknown user");
            return Ok(Err(reply(550, [5, 1, 1], "No such user here")?));
        }
        // The quota, with the size MAIL declared (nothing declared: is the mailbox full?).
        let declared = self.txn.declared_size.unwrap_or(0);
        if let Some(full) = self.over_quota(std::slice::from_ref(&address), declared) {
            info!(%peer, to = %full, declared, "recipient over quota");
            return Ok(Err(reply(
                452,
                [4, 2, 2],
                "Mailbox full: over quota, try again later",
            )?));
        }
        Ok(Ok(address))
    }

    /// Whether `to` is a recipient in another domain (or an address literal) on a submission
    /// listener: it is queued for delivery rather than delivered here. On the relay, an
    /// address literal is refused as relaying.
    fn foreign(&self, to: &ForwardPath<'_>) -> bool {
        match to {
            ForwardPath::Postmaster => false,
            ForwardPath::Mailbox(m) => match &m.host {
                Host::Literal(_) => true,
                Host::Domain(d) => {
                    self.context.role == Role::Submission
                        && !self.context.policy.mailboxes.is_local(d.as_str())
                }
            },
        }
    }

    /// The queued recipient `to` (see [`foreign`](Self::foreign)) as it is written, or the
    /// refusal: relaying on the relay port, `452 4.3.1` while the queue is full.
    fn foreign_recipient(
        &mut self,
        to: &ForwardPath<'_>,
    ) -> Result<Result<String, Reply<'static>>, LocalError> {
        let peer = self.context.peer;
        let address = match to {
            ForwardPath::Mailbox(m) => m.to_string(),
            ForwardPath::Postmaster => "Postmaster".to_owned(),
        };
        let authenticated = self.conn.server().authenticated().is_some();
        if self.context.role != Role::Submission || !authenticated {
            info!(%peer, to = %Escaped(&address), "relay refused");
            return Ok(Err(reply(550, [5, 7, 1], "Relaying denied")?));
        }
        if self.txn.remote.len() >= crate::queue::envelope::MAX_RECIPIENTS {
            info!(%peer, to = %Escaped(&address), "recipient refused: too many queued recipients");
            return Ok(Err(reply(
                452,
                [4, 5, 3],
                "Too many recipients for one queued message; send the rest separately",
            )?));
        }
        if !self.context.policy.queue.has_room() {
            let (messages, bytes) = self.context.policy.queue.counts();
            warn!(%peer, to = %Escaped(&address), messages, bytes, "recipient refused: the outbound queue is full");
            return Ok(Err(reply(
                452,
                [4, 3, 1],
                "Insufficient system storage: the outbound queue is full, try again later",
            )?));
        }
        Ok(Ok(address))
    }

    /// Opens the delivery of the message whose body starts (into the Maildirs of the local
    /// recipients, and into the queue for the others), and writes its trace headers. A
    /// failure is remembered and answered with 451 at the end of the body.
    fn open_delivery(&mut self) {
        let peer = self.context.peer;
        let policy = self.context.policy.clone();
        if !self.txn.recipients.is_empty() {
            match policy.store.deliver(&self.txn.recipients) {
                Ok(delivery) => self.txn.delivery = Some(delivery),
                Err(err) => {
                    warn!(%peer, error = %err, "cannot open a delivery");
                    self.txn.failed = true;
                    return;
                }
            }
        }
        if !self.txn.remote.is_empty() {
            match policy.queue.spool(&crate::queue::worker::new_id()) {
                Ok(spool) => self.txn.spool = Some(spool),
                Err(err) => {
                    warn!(%peer, error = %err, "cannot open a queue file");
                    self.txn.failed = true;
                    return;
                }
            }
        }
        let id = match (&self.txn.delivery, &self.txn.spool) {
            (Some(delivery), _) => delivery.name().to_owned(),
            (None, Some(spool)) => spool.id().to_owned(),
            (None, None) => String::new(),
        };
        let server = self.conn.server();
        let verb = server.hello().unwrap_or(HelloVerb::Helo);
        let protocol =
            Protocol::for_session(verb, server.is_tls(), server.authenticated().is_some());
        // The `for` clause names a local recipient only when nobody else gets the message.
        let named: &[Address] = match self.txn.remote.is_empty() {
            true => &self.txn.recipients,
            false => &[],
        };
        let (local, queued) = match (&self.helo, &self.txn.from) {
            (Some(helo), Some(from)) => {
                let stamp = Stamp {
                    from,
                    helo,
                    client_ip: peer.ip(),
                    by: &policy.hostname,
                    protocol,
                    id: &id,
                    recipients: named,
                    date: DateTime::from(SystemTime::now()),
                };
                (trace_headers(&stamp), received_header(&stamp))
            }
            // The state machine starts no body before a greeting and a MAIL.
            _ => {
                warn!(%peer, "a body without a greeting or a sender");
                self.txn.failed = true;
                return;
            }
        };
        let mut written = Ok(());
        if let Some(delivery) = &mut self.txn.delivery {
            written = written.and(delivery.write(local.as_bytes()));
        }
        if let Some(spool) = &mut self.txn.spool {
            written = written.and(spool.write(queued.as_bytes()));
        }
        if let Err(err) = written {
            warn!(%peer, error = %err, "cannot write the message");
            self.txn.failed = true;
        }
    }

    /// Counts the `Received:` fields in the next piece of the body (the trace header this
    /// server wrote went to the files, not through here; [`HopCounter::over`] adds it). Once
    /// over `--max-hops`, the files written so far are removed: nothing of a looping
    /// message is kept, not even until its end of data.
    fn count_hops(&mut self, chunk: &[u8]) {
        // Counting goes on to the end of the header block, for the log line.
        self.txn.hops.feed(chunk);
        if !self.txn.looped && self.txn.hops.over(self.context.policy.guards.max_hops) {
            self.txn.looped = true;
            if let Some(delivery) = self.txn.delivery.take() {
                delivery.abort();
            }
            // Dropping an uncommitted spool file removes it.
            self.txn.spool = None;
        }
    }

    /// Queues the message for its recipients in other domains, if it has any: `Ok(Some(id))`
    /// once the message and its envelope are on disk (held from the worker until
    /// [`Queue::confirm`]), or the refusal for the client.
    async fn commit_queue(
        &mut self,
        txn: &mut Transaction,
    ) -> Result<Result<Option<String>, Reply<'static>>, LocalError> {
        let Some(spool) = txn.spool.take() else {
            return Ok(Ok(None));
        };
        let peer = self.context.peer;
        if txn.failed {
            drop(spool);
            return Ok(Err(reply(
                451,
                [4, 3, 0],
                "Local error in processing; try again later",
            )?));
        }
        let now = SystemTime::now();
        let from = match &txn.from {
            Some(ReversePath::Mailbox(m)) => m.to_string(),
            _ => String::new(),
        };
        let user = self
            .conn
            .server()
            .authenticated()
            .map(|a| a.identity().to_owned());
        let mut envelope = Envelope {
            id: String::new(),
            arrival: now,
            from,
            user,
            size: 0,
            smtputf8: txn.smtputf8,
            eight_bit: txn.eight_bit,
            attempts: 0,
            next_try: now,
            warned: false,
            recipients: txn.remote.iter().cloned().map(Recipient::new).collect(),
        };
        // fsync of the file, the directories and the envelope: off the async worker.
        let committed =
            tokio::task::spawn_blocking(move || spool.commit(&mut envelope).map(|()| envelope))
                .await;
        match committed {
            Ok(Ok(envelope)) => {
                info!(%peer, id = %envelope.id, size = envelope.size, recipients = envelope.recipients.len(), "queued");
                Ok(Ok(Some(envelope.id)))
            }
            Ok(Err(SpoolError::Full)) => {
                let (messages, bytes) = self.context.policy.queue.counts();
                warn!(%peer, messages, bytes, "message refused: the outbound queue is full");
                Ok(Err(reply(
                    452,
                    [4, 3, 1],
                    "Insufficient system storage: the outbound queue is full, try again later",
                )?))
            }
            Ok(Err(SpoolError::Io(err))) => {
                warn!(%peer, error = %err, "cannot queue the message");
                Ok(Err(reply(
                    451,
                    [4, 3, 0],
                    "Local error in processing; try again later",
                )?))
            }
            Err(err) => {
                warn!(%peer, error = %err, "cannot queue the message");
                Ok(Err(reply(
                    451,
                    [4, 3, 0],
                    "Local error in processing; try again later",
                )?))
            }
        }
    }

    /// Commits the message whose body ended, and answers 250 once it is on disk in every
    /// local recipient's Maildir and in the queue (a 4xx or 5xx if it cannot be). The queue
    /// goes first: it can still be withdrawn if the local delivery then fails.
    async fn commit(&mut self, size: u64) -> Result<(), LocalError> {
        let mut txn = std::mem::take(&mut self.txn);
        if txn.looped {
            // RFC 5321 section 6.3: too many `Received:` fields is a loop. Its files are
            // gone already (`count_hops`); 5.4.6 is RFC 3463's "routing loop detected".
            let hops = txn.hops.count().saturating_add(1);
            let limit = self.context.policy.guards.max_hops;
            let peer = self.context.peer;
            info!(%peer, hops, limit, "message refused: too many hops (mail loop?)");
            return Ok(self.conn.server().reject(reply(
                554,
                [5, 4, 6],
                "Too many hops (mail loop?)",
            )?)?);
        }
        let queue = self.context.policy.queue.clone();
        let queued = match self.commit_queue(&mut txn).await? {
            Ok(queued) => queued,
            Err(refusal) => {
                if let Some(delivery) = txn.delivery.take() {
                    delivery.abort();
                }
                return Ok(self.conn.server().reject(refusal)?);
            }
        };
        if let (Some(id), None) = (&queued, &txn.delivery) {
            let accepted = reply(250, [2, 0, 0], &format!("Ok: queued as {id}"))?;
            let decided = self.conn.server().accept_with(accepted);
            queue.confirm(id);
            return Ok(decided?);
        }
        let accepted = self.commit_local(txn, size).await;
        if let Some(id) = &queued {
            match accepted {
                Ok(true) => queue.confirm(id),
                _ => queue.withdraw(id),
            }
        }
        accepted.map(|_| ())
    }

    /// Commits the message to the Maildirs of its local recipients, and answers 250 once it is
    /// on disk (451 if it cannot be). Whether it was accepted.
    async fn commit_local(&mut self, txn: Transaction, size: u64) -> Result<bool, LocalError> {
        let peer = self.context.peer;
        let recipients = txn.recipients.len();
        let id = txn
            .delivery
            .as_ref()
            .map(|d| d.name().to_owned())
            .unwrap_or_default();
        // The message as stored (trace headers included) must fit every recipient's quota;
        // with one reply for all recipients, one over quota refuses the message. 552 with
        // 5.2.2: RFC 3463 "mailbox full", whose class must agree with the reply code's
        // (RFC 2034 section 3).
        let stored = txn.delivery.as_ref().map_or(0, Delivery::size);
        // Each distinct recipient once.
        let mut distinct: Vec<&Address> = Vec::new();
        for rcpt in &txn.recipients {
            if !distinct.contains(&rcpt) {
                distinct.push(rcpt);
            }
        }
        let policy = self.context.policy.clone();
        // Checked and counted in one step (`Store::reserve`), so that concurrent sessions
        // cannot all fit into the same room; given back if the message is not delivered.
        let (reserved, full) = match (policy.guards.quota, txn.failed) {
            (Some(quota), false) => self.reserve(&distinct, stored, quota),
            _ => (Vec::new(), None),
        };
        let release = |reserved: &[&Address]| {
            for rcpt in reserved {
                policy.store.release(rcpt, stored);
            }
        };
        if let Some(full) = full {
            release(&reserved);
            info!(%peer, to = %full, size = stored, "message refused: recipient over quota");
            if let Some(delivery) = txn.delivery {
                delivery.abort();
            }
            self.conn.server().reject(reply(
                552,
                [5, 2, 2],
                "Mailbox full: the message would exceed a recipient's quota",
            )?)?;
            return Ok(false);
        }
        let committed = match txn.delivery {
            Some(delivery) if !txn.failed => {
                // fsync of the file and the directory: off the async worker.
                tokio::task::spawn_blocking(move || delivery.commit())
                    .await
                    .map_err(std::io::Error::other)
                    .and_then(|r| r)
            }
            Some(delivery) => {
                delivery.abort();
                Err(std::io::Error::other("writing the message failed"))
            }
            None => Err(std::io::Error::other("no delivery was open")),
        };
        let server = self.conn.server();
        let accepted = committed.is_ok();
        let decided = match committed {
            Ok(_paths) => {
                // What was not reserved (no quota, or a total that could not be read) is
                // counted now, so the totals still follow the mailboxes.
                for rcpt in distinct.iter().filter(|r| !reserved.contains(r)) {
                    policy.store.add_usage(rcpt, stored);
                }
                info!(%peer, %id, size, recipients, "delivered");
                server.accept_with(reply(250, [2, 0, 0], &format!("Ok: delivered as {id}"))?)
            }
            Err(err) => {
                release(&reserved);
                warn!(%peer, error = %err, "delivery failed");
                server.reject(reply(
                    451,
                    [4, 3, 0],
                    "Local error in processing; try again later",
                )?)
            }
        };
        decided?;
        Ok(accepted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn stamp_date() -> DateTime {
        DateTime::from(UNIX_EPOCH + Duration::from_secs(1_057_056_757))
    }

    #[test]
    fn trace_headers_keep_the_bytes_the_server_wrote() {
        let from = ReversePath::Mailbox(Mailbox::parse("bob@example.org").unwrap());
        let helo = Host::Domain(Domain::new("client.example.org").unwrap());
        let by = Domain::new("mx.example.com").unwrap();
        let alice = [Address::parse("alice@example.com").unwrap()];
        let stamp = Stamp {
            from: &from,
            helo: &helo,
            client_ip: "192.0.2.7".parse().unwrap(),
            by: &by,
            protocol: Protocol::Esmtps,
            id: "0123456789abcdef",
            recipients: &alice,
            date: stamp_date(),
        };
        assert_eq!(
            trace_headers(&stamp),
            "Return-Path: <bob@example.org>\r\n\
             Received: from client.example.org ([192.0.2.7]) by mx.example.com with ESMTPS\r\n\
             \tid 0123456789abcdef for <alice@example.com>; Tue, 1 Jul 2003 10:52:37 +0000\r\n"
        );

        // Two recipients: the header names neither. The null reverse path is `<>`.
        let both = [alice[0].clone(), Address::parse("bob@example.com").unwrap()];
        let stamp = Stamp {
            from: &ReversePath::Null,
            recipients: &both,
            protocol: Protocol::Esmtp,
            ..stamp
        };
        assert_eq!(
            trace_headers(&stamp),
            "Return-Path: <>\r\n\
             Received: from client.example.org ([192.0.2.7]) by mx.example.com with ESMTP\r\n\
             \tid 0123456789abcdef; Tue, 1 Jul 2003 10:52:37 +0000\r\n"
        );
    }

    #[test]
    fn trace_id_is_the_first_64_characters_of_the_delivery_name() {
        let helo = Host::Domain(Domain::new("a").unwrap());
        let by = Domain::new("mx.example").unwrap();
        let name = "1733505751.M123456P4242Q17R0123456789abcdef.mail-server.example.com";
        let rcpt = [Address::parse("a@b.example").unwrap()];
        let headers = trace_headers(&Stamp {
            from: &ReversePath::Null,
            helo: &helo,
            client_ip: "::1".parse().unwrap(),
            by: &by,
            protocol: Protocol::Esmtpsa,
            id: name,
            recipients: &rcpt,
            date: stamp_date(),
        });
        let id = headers.split_whitespace().skip_while(|w| *w != "id").nth(1);
        assert_eq!(id, Some(&name[..64]), "{headers}");
        assert!(headers.contains("([IPv6:::1])"), "{headers}");
        assert!(headers.contains("for <a@b.example>;"), "{headers}");
    }

    #[test]
    fn the_closing_reply_is_seen_however_the_output_is_split() {
        let output: &[u8] = b"220 mx ESMTP\r\n250-mx\r\n250 SIZE 1000\r\n\
                              250 2.0.0 Ok: delivered as 221.M1\r\n221-not yet\r\n";
        let closing: &[u8] = b"221 2.0.0 Bye\r\n";
        for split in 1..=output.len() + closing.len() {
            let all = [output, closing].concat();
            let mut watch = ClosingReply::default();
            let seen: Vec<bool> = all.chunks(split).map(|piece| watch.closes(piece)).collect();
            // Only the piece holding the fourth octet of the final 221 line says so.
            let fourth = output.len() + 3;
            let expected: Vec<bool> = (0..seen.len())
                .map(|i| (i * split..(i + 1) * split).contains(&fourth))
                .collect();
            assert_eq!(seen, expected, "pieces of {split}");
        }
        for (reply, closes) in [
            (&b"421 4.4.2 mx Error: timeout exceeded\r\n"[..], true),
            (b"221\r\n", true),
            (b"250 2.0.0 Ok\r\n", false),
            (b"421-first line of two\r\n", false),
            (b"550 5.1.1 221 is not a reply code here\r\n", false),
        ] {
            assert_eq!(ClosingReply::default().closes(reply), closes, "{reply:?}");
        }
    }

    #[test]
    fn a_session_started_under_stress_gets_the_stress_limits() {
        use crate::listeners::StressLimits;
        let base = ServerConfig::default();
        let stress = StressLimits::default();
        for login in [LoginRule::NONE, LoginRule::SMTP_SUBMISSION] {
            // Without stress, the listener's configuration as it is.
            let calm = session_config(&base, login, false, &stress);
            assert_eq!(calm.command_timeout, base.command_timeout);
            assert_eq!(calm.data_timeout, base.data_timeout);
            assert_eq!(calm.max_junk_commands, base.max_junk_commands);
            assert_eq!(calm.max_errors, base.max_errors);
            // Under stress: Postfix's stress values.
            let stressed = session_config(&base, login, true, &stress);
            assert_eq!(stressed.command_timeout, Duration::from_secs(10));
            assert_eq!(stressed.data_timeout, Duration::from_secs(10));
            assert_eq!(stressed.max_junk_commands, 1);
            // The error limit only where nobody logs in: a user keeps the normal allowance.
            let errors = if login.logs_in { base.max_errors } else { 1 };
            assert_eq!(stressed.max_errors, errors);
        }
        // Stress never lengthens what is configured shorter.
        let mut short = base.clone();
        short.command_timeout = Duration::from_secs(3);
        let stressed = session_config(&short, LoginRule::NONE, true, &stress);
        assert_eq!(stressed.command_timeout, Duration::from_secs(3));
    }

    #[test]
    fn connection_refusals_are_smtp_421_replies() {
        assert_eq!(
            refusal(OverLimit::Total),
            "421 4.7.0 Too many connections, try again later\r\n"
        );
        assert_eq!(
            refusal(OverLimit::PerAddress),
            "421 4.7.0 Too many connections from your address\r\n"
        );
    }
}
