//! POP3: the `--pop3` (STLS) and `--pop3s` (implicit TLS) listeners as two instances of
//! [`Pop3Service`], over the Maildirs SMTP delivers into.
//!
//! The protocol (syntax, states, CAPA, STLS, the SASL exchange, deletion marks, TOP) is
//! `pop3_proto`'s state machine; this module logs users in against the accounts, opens and
//! locks their maildrop, streams messages from disk and applies the deletions.
//!
//! Rules, each from the issue or an RFC:
//! - **Listener policy** (`listeners` module docs): the slot is given back as soon as the
//!   goodbye is queued; a session that has not logged in is closed when its full pool evicts
//!   it; a session that starts under stress gets the stress login timeout and junk limit, and
//!   one that sees its pool enter stress before login must log in within the stress command
//!   timeout; after login the idle timeout is at least 10 minutes (RFC 1939 section 3,
//!   `LoginRule::POP3`). Failed logins go through the shared login guard, as SMTP's.
//! - **Logins**: `USER`/`PASS` and SASL `PLAIN`, checked with Argon2 through the accounts'
//!   hashing slots, the account found in any case; only after TLS unless
//!   `--allow-plaintext-auth`.
//! - **One session per maildrop**: a second login to a maildrop in use is answered `-ERR
//!   [IN-USE]` (RFC 2449 section 8.1.1) and stays in AUTHORIZATION; the lock goes with the
//!   session however it ends.
//! - **The maildrop is listed at login** (`store::maildrop`): a message delivered during the
//!   session belongs to the next one; one removed by someone else during it gets `-ERR` on
//!   `RETR`, and the numbering stays.
//! - **RETR marks the message seen** (`new/` to `cur/` with `:2,S`); `DELE` marks, `QUIT`
//!   removes (UPDATE), a dropped connection removes nothing.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use mail_tokio::Connection as Driver;
use mail_wire::sasl::Mechanism;
use pop3_proto::server::{Event, MessageInfo, Server, ServerConfig, SessionError};
use pop3_proto::{RespCode, Uid};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::accounts::Address;
use crate::guard::LoginGuard;
use crate::listeners::{
    Connection, LoginRule, Machine, OverLimit, Place, Pressure, Releasing, Service, Stop,
    StressLimits, TlsStart, Transport,
};
use crate::logsafe::Escaped;
use crate::smtp::Policy;

/// The maildrops open in a POP3 session, shared by every POP3 listener of the server.
#[derive(Debug, Default)]
pub struct Locks {
    open: Mutex<HashSet<Address>>,
}

impl Locks {
    /// Locks `account`'s maildrop for one session; `None` when another session holds it.
    fn lock(self: &Arc<Self>, account: &Address) -> Option<Lock> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.insert(account.clone()).then(|| Lock {
            locks: self.clone(),
            account: account.clone(),
        })
    }
}

/// A locked maildrop; dropping it unlocks.
#[derive(Debug)]
struct Lock {
    locks: Arc<Locks>,
    account: Address,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let mut open = self.locks.open.lock().unwrap_or_else(|e| e.into_inner());
        open.remove(&self.account);
    }
}

/// One POP3 listener.
#[derive(Debug, Clone)]
pub struct Pop3Service {
    name: &'static str,
    summary: &'static str,
    tls_start: TlsStart,
    config: ServerConfig,
    policy: Arc<Policy>,
    locks: Arc<Locks>,
}

/// What the POP3 listeners take from the command line.
#[derive(Debug, Clone, Copy)]
pub struct Pop3Settings {
    /// `--allow-plaintext-auth`.
    pub allow_plaintext_auth: bool,
    /// `--max-errors`.
    pub max_errors: u32,
    /// `--max-junk-commands`.
    pub max_junk_commands: u32,
    /// `--max-auth-failures`.
    pub max_auth_failures: u32,
    /// `--auth-failure-delay`.
    pub auth_failure_delay: std::time::Duration,
}

impl Pop3Service {
    fn base(settings: Pop3Settings, hostname: &str) -> ServerConfig {
        let mut config = ServerConfig::default();
        config.greeting = format!("{hostname} POP3 server ready");
        config.allow_plaintext_auth = settings.allow_plaintext_auth;
        // The accounts hold Argon2id hashes: only mechanisms that carry the password.
        config.sasl_mechanisms = vec![Mechanism::Plain];
        config.max_errors = settings.max_errors;
        config.max_junk_commands = settings.max_junk_commands;
        config.max_auth_failures = settings.max_auth_failures;
        config.auth_failure_delay = settings.auth_failure_delay;
        config.implementation = Some("sansmail".into());
        config
    }

    /// `--pop3` (2110 here, 110 normally): plaintext, STLS offered, logins after it.
    pub fn pop3(settings: Pop3Settings, policy: Arc<Policy>, locks: Arc<Locks>) -> Self {
        Pop3Service {
            name: "pop3",
            summary: "STLS, then USER/PASS or AUTH PLAIN",
            tls_start: TlsStart::StartTls,
            config: Self::base(settings, policy.hostname.as_str()),
            policy,
            locks,
        }
    }

    /// `--pop3s` (2995 here, 995 normally): implicit TLS (RFC 8314).
    pub fn pop3s(settings: Pop3Settings, policy: Arc<Policy>, locks: Arc<Locks>) -> Self {
        let mut config = Self::base(settings, policy.hostname.as_str());
        config.implicit_tls = true;
        config.stls = false;
        Pop3Service {
            name: "pop3s",
            summary: "implicit TLS, USER/PASS or AUTH PLAIN",
            tls_start: TlsStart::Implicit,
            config,
            policy,
            locks,
        }
    }
}

/// A new session's configuration: under stress, the stress command timeout as the login
/// timeout and the stress junk limit (both before login only, as the state machine applies
/// them); the idle timeout after login is never under `LoginRule::POP3`'s 10 minutes.
fn session_config(config: &ServerConfig, stressed: bool, stress: &StressLimits) -> ServerConfig {
    let mut config = config.clone();
    config.idle_timeout = config.idle_timeout.max(LoginRule::POP3.idle_minimum);
    if stressed {
        config.login_timeout = config.login_timeout.min(stress.command_timeout);
        config.max_junk_commands = config.max_junk_commands.min(stress.max_junk_commands);
    }
    config
}

impl Service for Pop3Service {
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
        mail_tls::Service::Pop3
    }

    fn refusal(&self, over: OverLimit) -> &'static str {
        match over {
            OverLimit::Total => "-ERR [SYS/TEMP] Too many connections, try again later\r\n",
            OverLimit::PerAddress => "-ERR [SYS/TEMP] Too many connections from your address\r\n",
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
        let config = session_config(&self.config, pressure.stressed(), pressure.limits());
        let idle = config.idle_timeout;
        let server = Releasing::new(Server::new(config, Instant::now()), slot);
        let context = Context {
            policy: self.policy.clone(),
            locks: self.locks.clone(),
            peer,
            client,
            guard,
            place,
        };
        // Writes time out after the idle timeout: a client that never reads holds no slot for
        // ever (as pop3_proto::tokio::ServerConnection does).
        match transport {
            Transport::Plain { stream, starttls } => {
                let conn = Driver::new(stream, server)
                    .with_write_timeout(Some(idle))
                    .with_starttls_accept(starttls.config, starttls.options);
                // Boxed per transport: a plaintext session holds no room for a TLS stream.
                Box::pin(Session::new(conn, context).run(shutdown, pressure)).await;
            }
            Transport::Tls(stream) => {
                let conn = Driver::new(stream, server).with_write_timeout(Some(idle));
                Box::pin(Session::new(conn, context).run(shutdown, pressure)).await;
            }
        }
    }
}

/// Who a session serves.
#[derive(Debug)]
struct Context {
    policy: Arc<Policy>,
    locks: Arc<Locks>,
    peer: SocketAddr,
    client: IpAddr,
    guard: Arc<LoginGuard>,
    place: Place,
}

/// The open maildrop of a session.
#[derive(Debug)]
struct Maildrop {
    account: Address,
    /// Held for the whole session.
    _lock: Lock,
    /// Per message number (from 0): its unique name and where its file was last seen.
    messages: Vec<(String, PathBuf)>,
}

/// The last line to a session evicted from its full pool before login.
const EVICTED: &[u8] =
    b"-ERR [SYS/TEMP] Too many connections; closing the oldest session that has not logged in\r\n";

/// The last line to a session that did not log in within the stress timeout.
const STRESS_CLOSED: &[u8] = b"-ERR [SYS/TEMP] Server busy and no login in time, closing\r\n";

/// The listener runs the machine in [`Releasing`], which gives the place back as soon as the
/// goodbye after `QUIT` (or a closing `-ERR`) is queued.
impl Machine for Server {
    fn shutdown(&mut self) {
        Server::shutdown(self);
    }
}

/// How much of a message is read from disk and sent at once.
const MESSAGE_CHUNK: usize = 64 * 1024;

struct Session<S> {
    conn: Driver<Releasing<Server>, S>,
    context: Context,
    maildrop: Option<Maildrop>,
}

/// A failure of this server (not of the client) that ends the session.
#[derive(Debug, thiserror::Error)]
enum LocalError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Server(#[from] pop3_proto::server::ServerError),
    #[error("hashing slots closed")]
    Slots(#[from] tokio::sync::AcquireError),
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    fn new(conn: Driver<Releasing<Server>, S>, context: Context) -> Self {
        Session {
            conn,
            context,
            maildrop: None,
        }
    }

    /// The state machine, to answer decisions.
    fn server(&mut self) -> &mut Server {
        &mut self.conn.session_mut().server
    }

    /// Answers the pending `Retrieve` with `message`, in pieces of [`MESSAGE_CHUNK`], each
    /// written before the next is read, so a message is never held whole.
    async fn send_message_from(
        &mut self,
        mut message: impl AsyncRead + Unpin,
    ) -> Result<(), LocalError> {
        let mut buf = vec![0; MESSAGE_CHUNK];
        loop {
            let n = match message.read(&mut buf).await {
                Ok(n) => n,
                Err(error) => {
                    // The client cannot tell a cut message from a whole one: end the session.
                    self.server().shutdown();
                    return Err(error.into());
                }
            };
            if n == 0 {
                break;
            }
            self.server().send_message_data(&buf[..n])?;
            self.conn.flush().await?;
        }
        Ok(self.server().end_message()?)
    }

    /// Runs the session to its end: `shutdown` closes it (nothing is deleted), `pressure`
    /// entering stress before login gives it the stress command timeout to log in.
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
            let event = if shutting_down {
                self.conn.next_event().await
            } else {
                tokio::select! {
                    event = self.conn.next_event() => event,
                    _ = shutdown.changed() => {
                        shutting_down = true;
                        self.server().shutdown();
                        continue;
                    }
                    stressed = pressure.changed() => {
                        info!(%peer, stressed, "pool pressure changed");
                        stress_deadline = match (stressed, self.maildrop.is_some()) {
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
                        self.conn.session_mut().close_with(STRESS_CLOSED);
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
                    // A dropped connection (or a failed write): no UPDATE, nothing deleted.
                    let error = err.to_string();
                    warn!(%peer, error = %Escaped(&error), "pop3 session error, nothing deleted");
                    break;
                }
            };
            let place = self.context.place.clone();
            let handled = tokio::select! {
                handled = self.handle(event) => handled,
                _ = place.evicted(), if self.maildrop.is_none() => {
                    self.evict(peer);
                    continue;
                }
            };
            if self.maildrop.is_some() {
                stress_deadline = None;
            }
            if let Err(err) = handled {
                let error = err.to_string();
                warn!(%peer, error = %Escaped(&error), "session ended by a local error");
                break;
            }
        }
    }

    /// Closes the session at once: the pool is full and this was its oldest session before
    /// login, whose place went to a newcomer.
    fn evict(&mut self, peer: SocketAddr) {
        info!(%peer, "evicted: the pool is full and the session had not logged in");
        self.conn.session_mut().evict(EVICTED);
    }

    async fn handle(&mut self, event: Event) -> Result<(), LocalError> {
        let peer = self.context.peer;
        match event {
            Event::AuthStep { .. } => {
                // As SMTP AUTH: a client still under its last failure's penalty waits it out
                // first; this attempt's failure is held back by its current penalty.
                let guard = &self.context.guard;
                let wait = guard.wait_before_check(self.context.client);
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                let delay = guard.failure_delay(self.context.client);
                let policy = self.context.policy.clone();
                let server = &mut self.conn.session_mut().server;
                server.set_auth_failure_delay(delay);
                let hashing = policy.auth_slots.acquire().await?;
                let decided = tokio::task::block_in_place(|| {
                    server.auth_step(&policy.mailboxes.accounts, crate::smtp::nonce())
                });
                drop(hashing);
                decided?;
            }
            Event::Authenticated(who) => {
                let user = Escaped(who.identity());
                info!(%peer, %user, mechanism = %who.mechanism(), "pop3 login");
            }
            Event::AuthFailed {
                method,
                error,
                user,
            } => {
                self.context.guard.record_failure(self.context.client);
                let error = error.map(|e| e.to_string()).unwrap_or_default();
                let error = Escaped(&error);
                match user.as_deref().map(Escaped) {
                    Some(user) => warn!(%peer, ?method, %user, %error, "pop3 login failed"),
                    None => warn!(%peer, ?method, %error, "pop3 login failed"),
                }
            }
            Event::OpenMaildrop { user } => self.open_maildrop(&user)?,
            Event::Retrieve { index, lines } => self.retrieve(index, lines).await?,
            Event::Update { deleted } => self.update(&deleted)?,
            Event::StartTls => info!(%peer, "TLS started"),
            Event::Closed(ending) => {
                match ending {
                    Ok(()) => info!(%peer, reason = "client quit", "pop3 session closed"),
                    Err(reason @ SessionError::PeerClosed { .. }) => {
                        info!(%peer, %reason, "pop3 session closed, nothing deleted")
                    }
                    Err(reason) => {
                        let reason = reason.to_string();
                        warn!(%peer, reason = %Escaped(&reason), "pop3 session closed")
                    }
                }
                // The maildrop is unlocked with the session, whatever ended it.
                self.maildrop = None;
            }
            _ => {}
        }
        Ok(())
    }

    /// Locks and lists the maildrop of the account `user` logged in as.
    fn open_maildrop(&mut self, user: &str) -> Result<(), LocalError> {
        let peer = self.context.peer;
        let policy = self.context.policy.clone();
        let Some(account) = policy.mailboxes.accounts.lookup(user).cloned() else {
            // Authenticated as a name that is no account: cannot happen with the accounts
            // as the authenticator, refused all the same.
            self.server()
                .reject(Some(RespCode::SysPerm), "No such mailbox")?;
            return Ok(());
        };
        let Some(lock) = self.context.locks.lock(&account) else {
            info!(%peer, account = %account, "maildrop in use by another session");
            self.server().reject(
                Some(RespCode::InUse),
                "Maildrop already locked by another session",
            )?;
            return Ok(());
        };
        let store = &policy.store;
        let listed = match tokio::task::block_in_place(|| store.list_maildrop(&account)) {
            Ok(listed) => listed,
            Err(error) => {
                warn!(%peer, account = %account, %error, "cannot list the maildrop");
                self.server()
                    .reject(Some(RespCode::SysTemp), "Cannot open the maildrop")?;
                return Ok(());
            }
        };
        let mut infos = Vec::with_capacity(listed.len());
        let mut messages = Vec::with_capacity(listed.len());
        for message in listed {
            // `uid_for` makes only valid unique-ids.
            let uid = Uid::new(message.uid).map_err(std::io::Error::other)?;
            infos.push(MessageInfo::new(message.size, uid));
            messages.push((message.name, message.path));
        }
        self.context.place.logged_in();
        info!(%peer, account = %account, messages = messages.len(), "maildrop opened");
        self.server().open_maildrop(infos)?;
        self.maildrop = Some(Maildrop {
            account,
            _lock: lock,
            messages,
        });
        Ok(())
    }

    /// Streams message `index` (RETR, or TOP with `lines`); after a whole RETR it is marked
    /// seen. A message gone from the Maildir is refused with `-ERR`.
    async fn retrieve(&mut self, index: usize, lines: Option<u32>) -> Result<(), LocalError> {
        let peer = self.context.peer;
        let store = self.context.policy.store.clone();
        let Some(maildrop) = &mut self.maildrop else {
            return Ok(());
        };
        let account = maildrop.account.clone();
        let Some((name, path)) = maildrop.messages.get(index).cloned() else {
            self.server().reject(None, "No such message")?;
            return Ok(());
        };
        let mut path = path;
        let mut file = tokio::fs::File::open(&path).await;
        if matches!(&file, Err(e) if e.kind() == std::io::ErrorKind::NotFound) {
            // Moved (flags changed by another reader) or removed: look for it by name.
            if let Some(now) = tokio::task::block_in_place(|| store.find_message(&account, &name))?
            {
                path = now;
                file = tokio::fs::File::open(&path).await;
            }
        }
        let file = match file {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                info!(%peer, message = index + 1, "message removed by another party");
                self.server().reject(
                    None,
                    "Message was removed by another session; the numbering stays",
                )?;
                return Ok(());
            }
            Err(error) => return Err(error.into()),
        };
        self.send_message_from(file).await?;
        if lines.is_none() {
            match tokio::task::block_in_place(|| store.mark_seen(&path)) {
                Ok(seen) => path = seen,
                // Sent all the same; it stays unseen.
                Err(error) => warn!(%peer, %error, "cannot mark the message seen"),
            }
        }
        if let Some(entry) = self
            .maildrop
            .as_mut()
            .and_then(|m| m.messages.get_mut(index))
        {
            entry.1 = path;
        }
        Ok(())
    }

    /// UPDATE after QUIT: removes the messages marked deleted.
    fn update(&mut self, deleted: &[usize]) -> Result<(), LocalError> {
        let peer = self.context.peer;
        let Some(maildrop) = &self.maildrop else {
            self.server().accept()?;
            return Ok(());
        };
        let names: Vec<String> = deleted
            .iter()
            .filter_map(|&i| maildrop.messages.get(i).map(|(name, _)| name.clone()))
            .collect();
        let store = &self.context.policy.store;
        let account = &maildrop.account;
        match tokio::task::block_in_place(|| store.remove_messages(account, &names)) {
            Ok(removed) => {
                info!(%peer, account = %account, removed, "pop3 update");
                self.server().accept()?;
            }
            Err(error) => {
                warn!(%peer, account = %account, %error, "pop3 update failed");
                self.server().reject(
                    Some(RespCode::SysTemp),
                    "Some deleted messages were not removed",
                )?;
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
        base.idle_timeout = std::time::Duration::from_secs(5);
        let stress = StressLimits::default();
        let normal = session_config(&base, false, &stress);
        assert_eq!(normal.idle_timeout, LoginRule::POP3.idle_minimum);
        assert_eq!(normal.login_timeout, base.login_timeout);
        let stressed = session_config(&base, true, &stress);
        assert_eq!(stressed.login_timeout, stress.command_timeout);
        assert_eq!(stressed.max_junk_commands, stress.max_junk_commands);
        assert_eq!(stressed.idle_timeout, LoginRule::POP3.idle_minimum);
    }
}
