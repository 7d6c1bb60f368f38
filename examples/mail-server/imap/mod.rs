//! IMAP: the `--imap` (STARTTLS) and `--imaps` (implicit TLS) listeners as two instances of
//! [`ImapService`], over the store's IMAP mailboxes (`store::mailboxes`).
//!
//! The protocol (syntax, states, CAPABILITY, STARTTLS, LOGIN and AUTHENTICATE, literals and
//! their limits, IDLE, ENABLE, ID, NAMESPACE, sequence numbers and when changes may be
//! announced) is `imap_proto::server`'s state machine; this module logs users in against the
//! accounts and answers the storage commands from the store ([`commands`]); folder commands
//! (CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB, STATUS) are [`folders`]'s.
//!
//! Rules, each from the issue or an RFC:
//! - **Listener policy** (`listeners` module docs): the slot is given back as soon as the
//!   `* BYE` is queued; a session that has not logged in is closed when its full pool evicts
//!   it; a session that starts under stress gets the stress command timeout as its login
//!   timeout, and one that sees its pool enter stress before login must log in within it;
//!   after login the idle timeout is at least 30 minutes (RFC 9051 section 5.4,
//!   `LoginRule::IMAP`), IDLE included. Failed logins go through the shared login guard: a
//!   client under penalty waits before its credentials are checked, and the delay of a
//!   failed answer is the guard's penalty for the client when the session started.
//! - **Junk before login**: commands answered `BAD` before login past the lower of
//!   `--max-errors` and `--max-junk-commands` (under stress, past the stress junk limit when
//!   lower) end the session with `* BYE`; at login the limit is lifted (listener rules: junk
//!   limits hold before login only; RFC 9051 puts no limit on a logged-in client's errors).
//! - **Logins**: LOGIN and AUTHENTICATE PLAIN (with SASL-IR), checked with Argon2 through the
//!   accounts' hashing slots, the account found in any case; only after TLS (LOGINDISABLED
//!   before it) unless `--allow-plaintext-auth`. The accounts hold Argon2id hashes: only
//!   mechanisms that carry the password are offered.
//! - **Live changes**: the session waits on the client and on its selected folder's
//!   [`Selected::changed`](crate::store::mailboxes::Selected::changed) at once, and hands
//!   every change to the machine, which announces it when the protocol allows (at once in
//!   IDLE). Queued changes go first: they are handed over before the client's next input
//!   is read and again before each command is answered, so that a change acknowledged to
//!   its maker (SMTP's 250, another session's tagged OK) is in the answer to the next
//!   command. A session whose queue overflowed ends with `* BYE [ALERT]`, as the machine's own
//!   view overflow does; one whose selected folder another session deleted or renamed ends
//!   with `* BYE Selected mailbox was deleted or renamed, have to disconnect.` at once.
//! - **Blocking store calls** run under `tokio::task::block_in_place`, not `spawn_blocking`:
//!   the store works on the session's own state (its selected folder, the message being
//!   appended) through `&mut` borrows, which `spawn_blocking` would need to move into a
//!   `'static` task and back for every command; `block_in_place` keeps them where they are
//!   (nothing is cloned, the session stays small) and hands the worker's other tasks to
//!   another thread meanwhile. It needs the multi-threaded runtime, which `main` builds.

mod commands;
mod folders;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imap_proto::response::{Capability, Delimiter, Namespace, NamespaceDescr};
use imap_proto::server::{Event, Server, ServerConfig, ServerError, SessionError, State};
use imap_proto::view::ViewConfig;
use mail_tokio::Connection as Driver;
use mail_wire::sasl::Mechanism;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::guard::LoginGuard;
use crate::listeners::{
    Connection, LoginRule, Machine, OverLimit, Place, Pressure, Releasing, Service, Stop,
    StressLimits, TlsStart, Transport,
};
use crate::logsafe::Escaped;
use crate::smtp::Policy;
use crate::store::mailboxes::Interrupted;

use commands::{Mail, Step};

/// One IMAP listener.
#[derive(Debug, Clone)]
pub struct ImapService {
    name: &'static str,
    summary: &'static str,
    tls_start: TlsStart,
    config: ServerConfig,
    policy: Arc<Policy>,
    /// `--imap-stall-timeout`.
    stall_timeout: Duration,
}

/// What the IMAP listeners take from the command line.
#[derive(Debug, Clone, Copy)]
pub struct ImapSettings {
    /// `--allow-plaintext-auth`.
    pub allow_plaintext_auth: bool,
    /// `--max-errors`: commands answered `BAD` before login beyond which the session ends
    /// with `* BYE` (after login none: RFC 9051 puts no limit on a client's errors).
    pub max_errors: u32,
    /// `--max-junk-commands`: the same limit by another name (IMAP's junk before login is
    /// what the machine answers `BAD`); the lower of the two holds, and under stress the
    /// stress junk limit when it is lower still.
    pub max_junk_commands: u32,
    /// `--max-auth-failures`.
    pub max_auth_failures: u32,
    /// `--auth-failure-delay`: the least delay of a failed login's answer.
    pub auth_failure_delay: Duration,
    /// `--max-message-size`: APPENDLIMIT, the largest message APPEND takes (RFC 7889), the
    /// same as SMTP accepts.
    pub append_limit: u64,
    /// `--imap-max-pending`: changes queued for one session before it ends with `* BYE`.
    pub max_pending: usize,
    /// `--imap-stall-timeout`: the longest a write may go without the client taking a byte.
    pub stall_timeout: Duration,
}

/// The capabilities the application implements beyond the machine's own (which adds
/// IMAP4rev1, IMAP4rev2, STARTTLS, AUTH=, LOGINDISABLED, SASL-IR, IDLE, ENABLE, LITERAL+,
/// ID, UNSELECT, NAMESPACE and APPENDLIMIT by itself).
fn capabilities() -> Vec<Capability<'static>> {
    vec![
        Capability::UidPlus,
        Capability::Move,
        Capability::MultiAppend,
        Capability::SpecialUse,
        Capability::ListExtended,
        Capability::ListStatus,
        Capability::StatusSize,
        Capability::Children,
        Capability::Esearch,
        Capability::SearchRes,
        Capability::CondStore,
    ]
}

impl ImapService {
    fn base(settings: ImapSettings, hostname: &str) -> ServerConfig {
        let mut config = ServerConfig::default();
        config.greeting_text = format!("{hostname} IMAP server ready");
        config.allow_plaintext_auth = settings.allow_plaintext_auth;
        // The accounts hold Argon2id hashes: only mechanisms that carry the password.
        config.sasl_mechanisms = vec![Mechanism::Plain];
        config.imap4rev2 = true;
        // NOOP and CHECK in the selected state come to `Session::handle` (imap/commands.rs),
        // which hands over the changes queued up to that moment before the tagged OK: a change
        // acknowledged to another session before this NOOP was read is in its answer, not one
        // command later (docs/imap.md, "The NOOP window").
        config.noop_as_command = true;
        config.capabilities = capabilities();
        config.append_limit = Some(settings.append_limit);
        // Before login; raised at login (`Session::handle`, `Event::Authenticated`).
        config.max_errors = settings.max_errors.min(settings.max_junk_commands);
        config.max_auth_failures = settings.max_auth_failures;
        config.auth_failure_delay = settings.auth_failure_delay;
        config.view = ViewConfig {
            max_pending: settings.max_pending,
        };
        config.id = Some(vec![
            ("name".into(), "sansmail".into()),
            ("version".into(), env!("CARGO_PKG_VERSION").into()),
        ]);
        // One personal namespace, no prefix, '/' (RFC 2342).
        config.namespace = imap_proto::core::IString::from_bytes(&b""[..])
            .ok()
            .and_then(|prefix| {
                Namespace::new(
                    Some(vec![NamespaceDescr {
                        prefix,
                        delimiter: Delimiter::new(crate::store::mailboxes::DELIMITER).ok(),
                        extensions: imap_proto::list::List::new(),
                    }]),
                    None,
                    None,
                )
                .ok()
            });
        config
    }

    /// `--imap` (2143 here, 143 normally): plaintext, STARTTLS offered, logins after it.
    pub fn imap(settings: ImapSettings, policy: Arc<Policy>) -> Self {
        ImapService {
            name: "imap",
            summary: "STARTTLS, then LOGIN or AUTHENTICATE PLAIN",
            tls_start: TlsStart::StartTls,
            config: Self::base(settings, policy.hostname.as_str()),
            policy,
            stall_timeout: settings.stall_timeout,
        }
    }

    /// `--imaps` (2993 here, 993 normally): implicit TLS (RFC 8314).
    pub fn imaps(settings: ImapSettings, policy: Arc<Policy>) -> Self {
        let mut config = Self::base(settings, policy.hostname.as_str());
        config.implicit_tls = true;
        config.starttls = false;
        ImapService {
            name: "imaps",
            summary: "implicit TLS, LOGIN or AUTHENTICATE PLAIN",
            tls_start: TlsStart::Implicit,
            config,
            policy,
            stall_timeout: settings.stall_timeout,
        }
    }
}

/// A new session's configuration: the idle timeout after login is never under
/// `LoginRule::IMAP`'s 30 minutes; under stress the stress command timeout is the login
/// timeout (which holds before login only, as the machine applies it) and the stress junk
/// limit caps the commands answered `BAD` before login (the session raises the limit at
/// login); a failed login's answer is held back by the client's current penalty from the
/// login guard, never less than the configured delay.
fn session_config(
    config: &ServerConfig,
    stressed: bool,
    stress: &StressLimits,
    penalty: Duration,
) -> ServerConfig {
    let mut config = config.clone();
    config.idle_timeout = config.idle_timeout.max(LoginRule::IMAP.idle_minimum);
    config.auth_failure_delay = config.auth_failure_delay.max(penalty);
    if stressed {
        config.login_timeout = config.login_timeout.min(stress.command_timeout);
        config.max_errors = config.max_errors.min(stress.max_junk_commands);
    }
    config
}

impl Service for ImapService {
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
        mail_tls::Service::Imap
    }

    fn refusal(&self, over: OverLimit) -> &'static str {
        match over {
            OverLimit::Total => "* BYE [UNAVAILABLE] Too many connections, try again later\r\n",
            OverLimit::PerAddress => {
                "* BYE [UNAVAILABLE] Too many connections from your address\r\n"
            }
        }
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
        let place = slot.place();
        let config = session_config(
            &self.config,
            pressure.stressed(),
            pressure.limits(),
            guard.failure_delay(client),
        );
        let idle = config.idle_timeout;
        let server = Releasing::new(Server::new(config, Instant::now()), slot);
        let context = Context {
            policy: self.policy.clone(),
            peer,
            client,
            guard,
            place,
        };
        let mail = Mail::new(self.policy.clone(), peer, self.config.view.max_pending);
        // Writes time out after the idle timeout: a client that never reads holds no slot
        // for ever.
        match transport {
            Transport::Plain { stream, starttls } => {
                let conn = Driver::new(stream, server)
                    .with_write_timeout(Some(idle))
                    .with_stall_timeout(Some(self.stall_timeout))
                    .with_starttls_accept(starttls.config, starttls.options);
                // Boxed per transport: a plaintext session holds no room for a TLS stream.
                Box::pin(Session::new(conn, context, mail).run(shutdown, pressure)).await;
            }
            Transport::Tls(stream) => {
                let conn = Driver::new(stream, server)
                    .with_write_timeout(Some(idle))
                    .with_stall_timeout(Some(self.stall_timeout));
                Box::pin(Session::new(conn, context, mail).run(shutdown, pressure)).await;
            }
        }
    }
}

/// Who a session serves.
#[derive(Debug)]
struct Context {
    policy: Arc<Policy>,
    peer: SocketAddr,
    client: IpAddr,
    guard: Arc<LoginGuard>,
    place: Place,
}

/// The last line to a session evicted from its full pool before login.
const EVICTED: &[u8] = b"* BYE [UNAVAILABLE] Too many connections; closing the oldest \
session that has not logged in\r\n";

/// The last line to a session that did not log in within the stress timeout.
const STRESS_CLOSED: &[u8] = b"* BYE [UNAVAILABLE] Server busy and no login in time\r\n";

/// The last line to a session that missed changes of its selected folder (its queue in the
/// store overflowed): the machine's own words for its view's overflow.
const OVERFLOWED: &[u8] =
    b"* BYE [ALERT] Too many changes to the mailbox; reconnect to resynchronise\r\n";

/// The last line to a session whose selected folder another session deleted or renamed
/// (Dovecot's words for a deleted one).
const GONE: &[u8] = b"* BYE Selected mailbox was deleted or renamed, have to disconnect.\r\n";

/// The last line to a session whose selected folder had to be read again after a failed
/// index write (a full disk) and is no longer what the session knows (its index was rebuilt
/// with a new UIDVALIDITY): RFC 9051's `UNAVAILABLE` (a temporary failure of the server).
const UNAVAILABLE: &[u8] =
    b"* BYE [UNAVAILABLE] Mailbox index could not be written, please reconnect\r\n";

/// The logged reason of a session closed with [`EVICTED`].
const EVICTED_REASON: &str = "evicted from the full pool before login";

/// The logged reason of a session closed with [`STRESS_CLOSED`].
const STRESS_REASON: &str = "no login within the stress timeout";

/// The logged reason of a session closed with [`OVERFLOWED`]: the machine's own words for
/// its view's overflow (`SessionError::ViewOverflow`).
const OVERFLOWED_REASON: &str = "too many changes queued for the selected mailbox";

/// The logged reason of a session closed with [`GONE`].
const GONE_REASON: &str = "the selected mailbox was deleted or renamed";

/// The logged reason of a session closed with [`UNAVAILABLE`].
const UNAVAILABLE_REASON: &str =
    "the selected mailbox was read again after a failed index write and changed";

/// The listener runs the machine in [`Releasing`], which gives the place back as soon as the
/// session's last response (the `* BYE` of LOGOUT, or a closing `* BYE`) is queued.
impl Machine for Server {
    fn shutdown(&mut self) {
        Server::shutdown(self);
    }
}

struct Session<S> {
    conn: Driver<Releasing<Server>, S>,
    context: Context,
    mail: Mail,
    /// Why the server ended the session with its own line, logged instead of the machine's
    /// "server shutting down".
    reason: Option<&'static str>,
}

/// A failure of this server (not of the client) that ends the session.
#[derive(Debug, thiserror::Error)]
enum LocalError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error("hashing slots closed")]
    Slots(#[from] tokio::sync::AcquireError),
}

/// The longest a write to a client may go without the client taking a byte: a client that
/// stops reading is dropped after this, however long its idle timeout
/// (`--imap-stall-timeout`).
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Resolves when `selected` has changes queued; never without a selected folder.
async fn folder_changed(selected: Option<&crate::store::mailboxes::Selected>) {
    match selected {
        Some(selected) => selected.changed().await,
        None => std::future::pending().await,
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    fn new(conn: Driver<Releasing<Server>, S>, context: Context, mail: Mail) -> Self {
        Session {
            conn,
            context,
            mail,
            reason: None,
        }
    }

    /// The state machine, to answer decisions.
    fn server(&mut self) -> &mut Server {
        &mut self.conn.session_mut().server
    }

    /// Runs the session to its end: `shutdown` closes it, `pressure` entering stress before
    /// login gives it the stress command timeout to log in.
    async fn run(mut self, mut shutdown: watch::Receiver<Stop>, mut pressure: Pressure) {
        let peer = self.context.peer;
        let mut shutting_down = *shutdown.borrow() != Stop::Running;
        if shutting_down {
            self.server().shutdown();
        }
        // Before login, under stress that began after the session did: when it must log in.
        let mut stress_deadline: Option<tokio::time::Instant> = None;
        loop {
            let deadline = stress_deadline;
            let stress_sleep = async move {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            // A session already ended (shut down, or closed with its own `* BYE`) only has
            // its last output to write: the other wakes stay ready (an eviction, an
            // overflowed queue) and, polled first, would starve it.
            let event = if shutting_down || self.conn.session().server.is_closed() {
                self.conn.next_event().await
            } else {
                // In this order: changes queued for the selected folder reach the machine
                // before the client's next input is read (a change acknowledged to its
                // maker is in the answer to the next command, and in IDLE before DONE's
                // OK), and a client that keeps sending cannot hold off the shutdown, the
                // stress close or an eviction.
                tokio::select! {
                    biased;
                    _ = folder_changed(self.mail.selected()) => {
                        self.deliver();
                        // Written before more changes are taken: a client that stops reading
                        // (in IDLE, say) holds one batch in memory, the rest stays in the
                        // store's queue until it overflows into `* BYE [ALERT]`, and a client
                        // that takes nothing for the stall timeout is dropped.
                        tokio::select! {
                            flushed = self.conn.flush() => {
                                if let Err(err) = flushed {
                                    let error = err.to_string();
                                    info!(%peer, error = %Escaped(&error), "imap write failed");
                                }
                            }
                            _ = shutdown.changed() => {
                                shutting_down = true;
                                self.server().shutdown();
                            }
                        }
                        continue;
                    }
                    _ = shutdown.changed() => {
                        shutting_down = true;
                        self.server().shutdown();
                        continue;
                    }
                    _ = self.context.place.evicted(), if !self.mail.logged_in() => {
                        self.evict(peer);
                        continue;
                    }
                    stressed = pressure.changed() => {
                        info!(%peer, stressed, "pool pressure changed");
                        stress_deadline = match (stressed, self.mail.logged_in()) {
                            (true, false) => Some(
                                tokio::time::Instant::now() + pressure.limits().command_timeout,
                            ),
                            _ => None,
                        };
                        continue;
                    }
                    _ = stress_sleep => {
                        stress_deadline = None;
                        info!(%peer, "closed: no login within the stress timeout");
                        self.close_with(STRESS_CLOSED, STRESS_REASON);
                        continue;
                    }
                    event = self.conn.next_event() => event,
                }
            };
            let event = match event {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(err) => {
                    let error = err.to_string();
                    warn!(%peer, error = %Escaped(&error), "imap session error");
                    break;
                }
            };
            // Every change queued when the command was read goes to the machine before the
            // command is answered: a change that raced the command's bytes is not left for
            // the one after.
            if !matches!(event, Event::Closed(_)) {
                self.deliver_queued();
                if self.conn.session().server.is_closed() {
                    // The queue overflowed: the session ends with its `* BYE [ALERT]`.
                    continue;
                }
            }
            let place = self.context.place.clone();
            let handled = tokio::select! {
                handled = self.handle(event) => handled,
                _ = place.evicted(), if !self.mail.logged_in() => {
                    self.evict(peer);
                    continue;
                }
            };
            if self.mail.logged_in() {
                stress_deadline = None;
            }
            if let Err(err) = handled {
                let error = err.to_string();
                match err {
                    // A write the client took nothing of (`--imap-stall-timeout`) or not all
                    // of in time: the client's doing, not ours.
                    LocalError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                        info!(%peer, error = %Escaped(&error), "closed: the client stopped reading")
                    }
                    _ => warn!(%peer, error = %Escaped(&error), "session ended by a local error"),
                }
                break;
            }
        }
    }

    /// Hands the selected folder's queued changes to the machine; ends the session with
    /// `* BYE [ALERT]` when the store's queue for it overflowed.
    fn deliver(&mut self) {
        let server = &mut self.conn.session_mut().server;
        self.mail.deliver(server);
        self.after_answer();
    }

    /// Hands the selected folder's queued changes to the machine before an event is
    /// answered (the folder stays selected whatever the machine's state meanwhile); ends
    /// the session with `* BYE [ALERT]` when the store's queue for it overflowed.
    fn deliver_queued(&mut self) {
        let server = &mut self.conn.session_mut().server;
        self.mail.deliver(server);
        self.close_if_interrupted();
    }

    /// What every answer may leave behind: a folder the machine deselected (UNSELECT, CLOSE,
    /// a failed SELECT) is closed in the store; an overflowed queue ends the session.
    fn after_answer(&mut self) {
        let state = self.conn.session().server.state();
        if state != State::Selected {
            self.mail.deselect();
        }
        self.close_if_interrupted();
    }

    /// Ends the session with its `* BYE` when the store's queue for its selected folder
    /// overflowed, the folder is gone, or it was read again after a failed index write in a
    /// state the session cannot follow, and closes the folder: such a queue stays ready,
    /// and the session must not wake for it again.
    fn close_if_interrupted(&mut self) {
        let (line, reason) = match self.mail.take_interrupted() {
            Some(Interrupted::Overflowed) => {
                info!(peer = %self.context.peer, "closed: the session missed too many changes");
                (OVERFLOWED, OVERFLOWED_REASON)
            }
            Some(Interrupted::Gone) => {
                info!(peer = %self.context.peer, "closed: the selected mailbox was deleted or renamed");
                (GONE, GONE_REASON)
            }
            Some(Interrupted::Unavailable) => {
                info!(peer = %self.context.peer, "closed: the selected mailbox was read again after a failed index write");
                (UNAVAILABLE, UNAVAILABLE_REASON)
            }
            None => return,
        };
        self.mail.deselect();
        self.close_with(line, reason);
    }

    /// Ends the session now with `line` as its last response instead of the machine's
    /// `* BYE Server shutting down` ([`Releasing::close_with`]), and `reason` in the log line
    /// of its end.
    fn close_with(&mut self, line: &'static [u8], reason: &'static str) {
        if self.conn.session_mut().close_with(line) {
            self.reason = Some(reason);
        }
    }

    /// Closes the session at once: the pool is full and this was its oldest session before
    /// login, whose place went to a newcomer.
    fn evict(&mut self, peer: SocketAddr) {
        info!(%peer, "evicted: the pool is full and the session had not logged in");
        if self.conn.session_mut().evict(EVICTED) {
            self.reason = Some(EVICTED_REASON);
        }
    }

    async fn handle(&mut self, event: Event) -> Result<(), LocalError> {
        let peer = self.context.peer;
        match event {
            Event::AuthStep { .. } => {
                // As SMTP AUTH and POP3: a client still under its last failure's penalty
                // waits it out first.
                let wait = self.context.guard.wait_before_check(self.context.client);
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                let policy = self.context.policy.clone();
                let hashing = policy.auth_slots.acquire().await?;
                let server = &mut self.conn.session_mut().server;
                let decided = tokio::task::block_in_place(|| {
                    server.auth_step(&policy.mailboxes.accounts, crate::smtp::nonce())
                });
                drop(hashing);
                decided?;
            }
            Event::Authenticated(who) => {
                let user = who.identity().to_owned();
                info!(%peer, user = %Escaped(&user), mechanism = %who.mechanism(), "imap login");
                tokio::task::block_in_place(|| self.mail.log_in(&user));
                self.context.place.logged_in();
                // The junk limit holds before login only (listener rules); RFC 9051 lets a
                // logged-in client make as many errors as it likes.
                self.server().set_max_errors(u32::MAX);
            }
            Event::AuthFailed {
                mechanism,
                error,
                user,
            } => {
                self.context.guard.record_failure(self.context.client);
                let error = error.map(|e| e.to_string()).unwrap_or_default();
                let error = Escaped(&error);
                match user.as_deref().map(Escaped) {
                    Some(user) => warn!(%peer, %mechanism, %user, %error, "imap login failed"),
                    None => warn!(%peer, %mechanism, %error, "imap login failed"),
                }
            }
            Event::StartTls => info!(%peer, "TLS started"),
            Event::Enabled(capabilities) => {
                let names: Vec<String> = capabilities.iter().map(|c| format!("{c:?}")).collect();
                info!(%peer, enabled = %Escaped(&names.join(" ")), "imap enable");
            }
            Event::Closed(ending) => {
                // A session this server ended with its own line: the machine only knows it
                // was shut down.
                let own = self.reason.take();
                match (ending, own) {
                    (Ok(()), _) => info!(%peer, reason = "logout", "imap session closed"),
                    (Err(SessionError::Shutdown), Some(reason)) => {
                        warn!(%peer, reason = %Escaped(reason), "imap session closed")
                    }
                    (Err(reason @ SessionError::PeerClosed), _) => {
                        info!(%peer, %reason, "imap session closed")
                    }
                    (Err(reason), _) => {
                        let reason = reason.to_string();
                        warn!(%peer, reason = %Escaped(&reason), "imap session closed")
                    }
                }
                self.mail.deselect();
            }
            other => {
                let server = &mut self.conn.session_mut().server;
                let mut step = tokio::task::block_in_place(|| self.mail.answer(server, other))?;
                // A long FETCH goes out in pieces: what one piece queued is written before
                // the next is read from disk.
                while let Step::More(mut job) = step {
                    self.conn.flush().await?;
                    let server = &mut self.conn.session_mut().server;
                    step = tokio::task::block_in_place(|| self.mail.fetch_more(server, &mut job))
                        .map(|done| if done { Step::Done } else { Step::More(job) })?;
                }
                self.after_answer();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stress_shortens_the_login_timeout_and_never_the_idle_minimum() {
        let mut base = ServerConfig::default();
        base.idle_timeout = Duration::from_secs(5);
        let stress = StressLimits::default();
        let normal = session_config(&base, false, &stress, Duration::ZERO);
        assert_eq!(normal.idle_timeout, LoginRule::IMAP.idle_minimum);
        assert_eq!(normal.login_timeout, base.login_timeout);
        assert_eq!(normal.auth_failure_delay, base.auth_failure_delay);
        let stressed = session_config(&base, true, &stress, Duration::from_secs(9));
        assert_eq!(stressed.login_timeout, stress.command_timeout);
        assert_eq!(stressed.idle_timeout, LoginRule::IMAP.idle_minimum);
        assert_eq!(stressed.auth_failure_delay, Duration::from_secs(9));
        assert_eq!(normal.max_errors, base.max_errors);
        assert_eq!(stressed.max_errors, stress.max_junk_commands);
    }

    #[test]
    fn the_capabilities_are_what_the_service_implements() {
        let settings = ImapSettings {
            allow_plaintext_auth: false,
            max_errors: 20,
            max_junk_commands: 100,
            max_auth_failures: 3,
            auth_failure_delay: Duration::from_secs(2),
            append_limit: 1000,
            max_pending: 64,
            stall_timeout: DEFAULT_STALL_TIMEOUT,
        };
        let config = ImapService::base(settings, "mx.example");
        assert!(config.check().is_ok());
        let mut server = Server::new(config, Instant::now());
        let greeting = server.poll_transmit().unwrap();
        let greeting = String::from_utf8_lossy(&greeting);
        for cap in [
            "IMAP4rev1",
            "IMAP4rev2",
            "STARTTLS",
            "LOGINDISABLED",
            "IDLE",
            "UIDPLUS",
            "MOVE",
            "ENABLE",
            "NAMESPACE",
            "ID",
            "UNSELECT",
            "SPECIAL-USE",
            "LIST-EXTENDED",
            "LIST-STATUS",
            "CHILDREN",
            "ESEARCH",
            "SEARCHRES",
            "LITERAL+",
            "CONDSTORE",
            "APPENDLIMIT=1000",
            "MULTIAPPEND",
        ] {
            assert!(greeting.contains(&format!(" {cap}")), "{cap} in {greeting}");
        }
        assert!(!greeting.contains("AUTH="), "{greeting}");
        assert!(!greeting.contains("QRESYNC"), "{greeting}");
    }
}
