//! The POP3 server state machine (RFC 1939 with RFC 2449, 2595, 3206, 5034 and 6856).
//!
//! [`Server`] runs one session through the AUTHORIZATION, TRANSACTION and UPDATE states. It
//! frames and parses what the client sends and answers everything that is protocol (syntax,
//! sequence, limits, `CAPA`, `STLS`, the SASL exchange, `STAT`, `LIST`, `UIDL`, `DELE`,
//! `RSET`, `NOOP`), and hands the application what only it can do as [`Event`]s: checking
//! credentials, opening and locking the maildrop (and giving the machine its message list),
//! streaming a message for `RETR` and `TOP`, and removing the marked messages after `QUIT`.
//! It never touches a socket, a clock or a random number generator.
//!
//! # The driver loop
//!
//! ```
//! use std::time::Instant;
//! use mail_testkit::Users;
//! use mail_testkit::users::server_nonce;
//! use pop3_proto::Uid;
//! use pop3_proto::server::{Event, MessageInfo, Server, ServerConfig};
//!
//! let now = Instant::now();
//! let mut config = ServerConfig::default();
//! config.allow_plaintext_auth = true; // this example has no TLS
//! let mut server = Server::new(config, now);
//! let users = Users::standard(); // your credential store: a mail_wire::sasl::Authenticator
//! let message = b"Subject: hi\r\n\r\n.leading dot\r\n";
//! let mut wire = Vec::new();
//!
//! for bytes in [&b"USER alice\r\nPASS secret\r\n"[..], b"STAT\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n"] {
//!     server.feed(now, bytes);
//!     while let Some(event) = server.poll_event() {
//!         match event {
//!             Event::AuthStep { .. } => server.auth_step(&users, server_nonce())?,
//!             Event::OpenMaildrop { .. } => server.open_maildrop(vec![
//!                 MessageInfo::new(message.len() as u64, Uid::new("msg-1")?.into_owned()),
//!             ])?,
//!             Event::Retrieve { index: 0, .. } => {
//!                 server.send_message_data(message)?;
//!                 server.end_message()?;
//!             }
//!             Event::Update { deleted } => {
//!                 assert_eq!(deleted, [0]); // remove them from the store, then:
//!                 server.accept()?;
//!             }
//!             _ => {}
//!         }
//!     }
//!     while let Some(bytes) = server.poll_transmit() {
//!         wire.extend_from_slice(&bytes);
//!     }
//! }
//! let wire = String::from_utf8(wire).unwrap();
//! assert!(wire.contains("+OK 1 29\r\n"));
//! assert!(wire.contains("+OK Message follows\r\nSubject: hi\r\n\r\n..leading dot\r\n.\r\n"));
//! assert!(wire.ends_with("+OK Bye, deleted messages removed\r\n"));
//! assert!(server.is_closed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A real driver writes what [`Server::poll_transmit`] returns before it reads again, reads
//! only while [`Server::wants_input`] holds, calls [`Server::handle_timeout`] when
//! [`Server::poll_timeout`] is due, and does the TLS handshake on [`Event::StartTls`].
//! While streaming a message it writes after each [`Server::send_message_data`], so that
//! memory stays bounded by the pieces it hands over.
//!
//! # What the machine answers by itself
//!
//! | situation | response |
//! |---|---|
//! | unknown command, bad arguments | `-ERR`, counted toward [`ServerConfig::max_errors`] |
//! | command in the wrong state | `-ERR Not valid before login` / `after login` |
//! | `USER`, `PASS` or `AUTH` before TLS (unless allowed) | `-ERR Use STLS first` (security rule 3.3) |
//! | failed login | `-ERR [AUTH] Authentication failed`, after [`ServerConfig::auth_failure_delay`] (RFC 3206 section 5) |
//! | too many failed logins | `-ERR [AUTH] ... too many failures, closing` and close |
//! | line too long | `-ERR Line too long, closing` and close: the client cannot resynchronise |
//! | commands pipelined after `STLS` | `-ERR Commands pipelined after STLS, closing` and close (RFC 2595 section 4) |
//! | idle past the timeout | `-ERR Disconnected for inactivity` and close, without UPDATE (RFC 1939 section 3) |
//! | not logged in within [`ServerConfig::login_timeout`] of the start, whatever was sent | `-ERR No login in time, closing` and close |
//! | message number unknown or deleted | `-ERR No such message` |
//!
//! Pipelined commands are answered until [`OUTPUT_HIGH_WATER`] octets are queued; the rest
//! wait until the driver has written them, so a flood of pipelined `LIST` or `UIDL` cannot
//! make the machine queue output without bound.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mail_wire::Secret;
use mail_wire::line::{BareLf, LineFramer};
use mail_wire::sasl::{Authenticated, Authenticator, Mechanism, Nonce, ServerSession};

use crate::types::{RespCode, Uid, check_text};

// Where the machine lives:
// - this file: the `Server` type, its state and the driver's calls;
// - `config`: `ServerConfig` and the limits, each with its source;
// - `event`: `Event`, `SessionError`, `ServerError`;
// - `input`: framing, and dispatching each command by state;
// - `auth`: USER/PASS, APOP, AUTH and the SASL exchange, failed logins;
// - `message`: streaming RETR and TOP;
// - `replies`: the text of every response the machine sends by itself;
// - `timer`: the client's idle time.
mod auth;
mod config;
mod event;
mod input;
mod message;
mod replies;
mod timer;

pub use config::{AUTH_LINE_LIMIT, ServerConfig};
pub use event::{Event, LoginMethod, ServerError, SessionError};

use message::Outgoing;
use timer::Timer;

/// One message of the maildrop, as the application lists it when it opens the maildrop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInfo {
    /// The size in octets as `RETR` sends it: with CRLF line endings, before dot-stuffing
    /// (RFC 1939 section 11 asks for the exact size).
    pub size: u64,
    /// The unique-id, stable across sessions (RFC 1939 section 7).
    pub uid: Uid<'static>,
}

impl MessageInfo {
    /// A message of `size` octets with this unique-id.
    pub fn new(size: u64, uid: Uid<'static>) -> Self {
        MessageInfo { size, uid }
    }
}

/// The protocol state (RFC 1939 section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Authorization,
    Transaction,
}

/// What the session reads, or waits for.
#[derive(Debug)]
enum Phase {
    /// Command lines.
    Command,
    /// The client's next SASL response line.
    AuthResponse {
        method: LoginMethod,
        session: ServerSession,
        user: Option<String>,
    },
    /// `+OK` to STLS queued; waiting for [`Server::tls_established`].
    TlsHandoff,
    /// The last response is queued; nothing more is read.
    Closed,
}

/// A decision the application has not answered yet.
#[derive(Debug)]
enum Pending {
    Auth {
        method: LoginMethod,
        session: Option<ServerSession>,
        response: Option<Secret<Vec<u8>>>,
        user: Option<String>,
    },
    Apop {
        user: String,
    },
    Maildrop {
        user: String,
    },
    Retrieve {
        started: bool,
    },
    Update,
}

/// A failed login's response, held back until `since` + the failure delay.
#[derive(Debug)]
struct Held {
    since: Instant,
    close: bool,
    /// The application's own `-ERR` line ([`Server::reject`]), instead of the standard one.
    reply: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
struct Entry {
    info: MessageInfo,
    deleted: bool,
}

/// One POP3 server session; see the [module docs](self).
pub struct Server {
    config: ServerConfig,
    input: BytesMut,
    output: BytesMut,
    framer: LineFramer,
    state: State,
    phase: Phase,
    pending: Option<Pending>,
    events: VecDeque<Event>,
    tls: bool,
    utf8: bool,
    /// The name given by `USER`, waiting for `PASS`.
    user: Option<String>,
    /// Who logged in (SASL or USER/PASS).
    authenticated: Option<Authenticated>,
    /// The identity whose maildrop is open.
    identity: Option<String>,
    maildrop: Vec<Entry>,
    outgoing: Option<Outgoing>,
    errors: u32,
    junk: u32,
    auth_failures: u32,
    auth_failure_delay: Duration,
    held: Option<Held>,
    timer: Timer,
    /// When the session ends if it has not logged in by then ([`ServerConfig::login_timeout`]
    /// from its start, STLS included); `None`: never.
    login_deadline: Option<Instant>,
    /// When the last input arrived.
    fed_at: Instant,
    eof: bool,
    /// Commands wait while the output queued is at [`OUTPUT_HIGH_WATER`]: the driver must
    /// write it before more are answered.
    deferred: bool,
}

/// While this much output is queued, the machine answers no further command until the
/// driver has written it: 256 KiB. One command's answer can go past it (a `LIST` of a large
/// maildrop), but pipelined commands cannot pile their answers up: 64 KiB of pipelined
/// `UIDL` would otherwise queue 64 KiB / 6 times the whole listing at once.
pub const OUTPUT_HIGH_WATER: usize = 256 * 1024;

impl fmt::Debug for Server {
    // The buffers are left out: the input can hold a PASS or AUTH line (docs/design.md
    // section 3.6).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("state", &self.state)
            .field("phase", &self.phase)
            .field("tls", &self.tls)
            .field("identity", &self.identity)
            .field("messages", &self.maildrop.len())
            .field("pending", &self.pending)
            .field("errors", &self.errors)
            .field("auth_failures", &self.auth_failures)
            .field("buffered_input", &self.input.len())
            .field("buffered_output", &self.output.len())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts a session at `now`; the greeting is queued at once. A control octet in a text
    /// of the configuration goes out as a space ([`ServerConfig::check`] refuses instead).
    pub fn new(config: ServerConfig, now: Instant) -> Self {
        let config = config.sanitised();
        let mut server = Server {
            framer: LineFramer::new(config.max_line_len).with_bare_lf(BareLf::Reject),
            input: BytesMut::new(),
            output: BytesMut::new(),
            state: State::Authorization,
            phase: Phase::Command,
            pending: None,
            events: VecDeque::new(),
            tls: config.implicit_tls,
            utf8: false,
            user: None,
            authenticated: None,
            identity: None,
            maildrop: Vec::new(),
            outgoing: None,
            errors: 0,
            junk: 0,
            auth_failures: 0,
            auth_failure_delay: config.auth_failure_delay,
            held: None,
            timer: Timer::new(now),
            login_deadline: now.checked_add(config.login_timeout),
            fed_at: now,
            eof: false,
            deferred: false,
            config,
        };
        let mut greeting = format!("+OK {}", server.config.greeting);
        if let Some(timestamp) = &server.config.apop_timestamp {
            greeting.push(' ');
            greeting.push_str(timestamp);
        }
        server.line(greeting.as_bytes());
        server.update_line_limit();
        server
    }

    /// The configuration in force.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Whether the session is protected by TLS (implicit, or after STLS).
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Whether the client switched to UTF8 mode (RFC 6856).
    pub fn is_utf8(&self) -> bool {
        self.utf8
    }

    /// The outcome of a successful `USER`/`PASS` or `AUTH`, if any.
    pub fn authenticated(&self) -> Option<&Authenticated> {
        self.authenticated.as_ref()
    }

    /// The identity whose maildrop is open (TRANSACTION state), if any.
    pub fn identity(&self) -> Option<&str> {
        self.identity.as_deref()
    }

    /// The indexes of the messages marked deleted so far.
    pub fn marked_deleted(&self) -> Vec<usize> {
        self.maildrop
            .iter()
            .enumerate()
            .filter(|(_, e)| e.deleted)
            .map(|(i, _)| i)
            .collect()
    }

    /// Overrides the failed-login delay for this session from now on, also for a response
    /// being held now (the application adds its own per-address penalty on
    /// [`Event::AuthFailed`] or [`Event::AuthStep`]).
    pub fn set_auth_failure_delay(&mut self, delay: Duration) {
        self.auth_failure_delay = delay;
    }

    /// Hands the machine bytes received from the client. Never fails.
    pub fn feed(&mut self, now: Instant, bytes: &[u8]) {
        if self.admit(bytes.len()) {
            self.fed_at = now;
            self.input.extend_from_slice(bytes);
        }
    }

    /// [`Server::feed`] for the driver's read buffer: takes every byte, leaving it empty
    /// (without copying when nothing else is buffered).
    pub fn feed_buf(&mut self, now: Instant, buf: &mut BytesMut) {
        if self.admit(buf.len()) {
            self.fed_at = now;
            if self.input.is_empty() {
                std::mem::swap(&mut self.input, buf);
            } else {
                self.input.extend_from_slice(buf);
            }
        }
        buf.clear();
    }

    fn admit(&mut self, len: usize) -> bool {
        if len == 0 || self.eof {
            return false;
        }
        match self.phase {
            Phase::Closed => return false,
            Phase::TlsHandoff => {
                // RFC 2595 section 4: the next bytes must be the TLS handshake.
                self.close_silently(Err(SessionError::StartTlsInjection));
                return false;
            }
            _ => {}
        }
        if self.input.len() + len > self.config.max_buffered_input {
            self.input.clear();
            self.close_with(replies::TOO_MUCH_INPUT, SessionError::InputOverflow);
            return false;
        }
        true
    }

    /// The client closed its side: input already fed is processed first, then the session
    /// ends with [`SessionError::PeerClosed`]. Nothing is deleted: UPDATE is reached only
    /// through `QUIT` (RFC 1939 section 6).
    pub fn handle_eof(&mut self) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        self.eof = true;
        if self.input.is_empty() && self.pending.is_none() && self.events.is_empty() {
            self.close_on_eof();
        }
    }

    /// The connection broke: the session ends at once, answering nothing it still holds, and
    /// deleting nothing.
    pub fn handle_connection_lost(&mut self) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        self.eof = true;
        self.events.clear();
        self.close_on_eof();
    }

    fn close_on_eof(&mut self) {
        let logged_in = self.state == State::Transaction;
        self.pending = None;
        self.outgoing = None;
        self.held = None;
        self.phase = Phase::Closed;
        self.input.clear();
        self.events
            .push_back(Event::Closed(Err(SessionError::PeerClosed { logged_in })));
    }

    /// The next event, or `None` when the machine needs input, time, or a decision.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Some(event);
            }
            if self.pending.is_some() || self.held.is_some() {
                return None;
            }
            self.deferred = self.output.len() >= OUTPUT_HIGH_WATER
                && !self.input.is_empty()
                && !matches!(self.phase, Phase::Closed | Phase::TlsHandoff);
            if self.deferred {
                return None;
            }
            if !self.step() {
                if self.eof && !matches!(self.phase, Phase::Closed) {
                    self.close_on_eof();
                }
                return self.events.pop_front();
            }
        }
    }

    /// Bytes to write to the client, if any. Write them all before reading again.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        if self.output.is_empty() {
            return None;
        }
        Some(self.output.split().freeze())
    }

    /// When [`Server::handle_timeout`] must be called: the release of a held failed-login
    /// response, the end of the time to log in ([`ServerConfig::login_timeout`] from the
    /// session's start), or the end of the client's idle time (the login timeout before
    /// login, the idle timeout after). `None` while a decision is pending, during the TLS hand-off and
    /// after the close. While commands wait for queued output to be written
    /// ([`OUTPUT_HIGH_WATER`]) it is already due: a driver that writes, then reads until
    /// this deadline, comes back to [`Server::poll_event`] at once rather than waiting for
    /// a client that is waiting for the answers.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if let Some(held) = &self.held {
            return held.since.checked_add(self.auth_failure_delay);
        }
        if !self.timed() {
            return None;
        }
        if self.deferred {
            return Some(self.fed_at);
        }
        let idle = self.timer.deadline(self.idle_timeout());
        match (self.state, self.login_deadline) {
            (State::Authorization, Some(login)) => Some(idle.map_or(login, |idle| idle.min(login))),
            _ => idle,
        }
    }

    fn timed(&self) -> bool {
        !matches!(self.phase, Phase::Closed | Phase::TlsHandoff) && self.pending.is_none()
    }

    fn idle_timeout(&self) -> Duration {
        match self.state {
            State::Authorization => self.config.login_timeout,
            State::Transaction => self.config.idle_timeout,
        }
    }

    /// Tells the machine the time: releases a held failed-login response, closes an idle
    /// session with `-ERR Disconnected for inactivity` (no UPDATE: nothing is deleted), or one
    /// that has not logged in within [`ServerConfig::login_timeout`] of its start, whatever
    /// it sent meanwhile, with `-ERR No login in time, closing`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(held) = &self.held {
            let release = held.since.checked_add(self.auth_failure_delay);
            if release.is_some_and(|release| now >= release) {
                let close = held.close;
                let reply = self.held.take().and_then(|held| held.reply);
                self.timer.line(now);
                if close {
                    self.close_with(replies::AUTH_FAILED_LAST, SessionError::TooManyAuthFailures);
                } else {
                    self.error(reply.as_deref().unwrap_or(replies::AUTH_FAILED));
                }
            }
            return;
        }
        if !self.timed() || self.deferred {
            return;
        }
        if self.timer.expire(now, self.idle_timeout()) {
            self.close_with(replies::TIMEOUT, SessionError::Timeout);
        } else if self.state == State::Authorization
            && self.login_deadline.is_some_and(|deadline| now >= deadline)
        {
            self.close_with(replies::LOGIN_TIMEOUT, SessionError::Timeout);
        }
    }

    /// Whether the driver should read more input now. Also while commands wait for queued
    /// output ([`OUTPUT_HIGH_WATER`]), so that the driver writes it; after the client closed
    /// its side, reading then ends the session ([`Server::handle_connection_lost`]).
    pub fn wants_input(&self) -> bool {
        self.pending.is_none()
            && self.held.is_none()
            && self.events.is_empty()
            && (!self.eof || self.deferred)
            && !matches!(self.phase, Phase::Closed | Phase::TlsHandoff)
    }

    /// Whether the session has ended: close once [`Server::poll_transmit`] returns `None`.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// Accepts the pending [`Event::Apop`] (the digest is right) or [`Event::Update`] (the
    /// marked messages are removed).
    ///
    /// # Errors
    ///
    /// [`ServerError::NoPendingDecision`], or [`ServerError::WrongDecision`] for another
    /// decision.
    pub fn accept(&mut self) -> Result<(), ServerError> {
        match self.pending.take() {
            Some(Pending::Apop { user }) => {
                self.timer.decided();
                self.logged_in(user);
                Ok(())
            }
            Some(Pending::Update) => {
                self.timer.decided();
                self.line(replies::UPDATE_OK);
                self.close_silently(Ok(()));
                Ok(())
            }
            other => self.misuse(other, "accept answers Event::Apop and Event::Update"),
        }
    }

    /// Refuses the pending decision with `-ERR [code] text`: a login (counted as a failed
    /// login and held back like one; the last one allowed is still answered with the
    /// closing `-ERR [AUTH]`; use [`RespCode::SysTemp`] when the credential store is down,
    /// RFC 3206 section 4), the maildrop (for example [`RespCode::InUse`]: the client stays
    /// in AUTHORIZATION), a `RETR` or `TOP` before any data was sent (not counted toward
    /// [`ServerConfig::max_errors`]: the message was listed, so its absence is not the
    /// client's error), or the removal after
    /// `QUIT` (the session still ends, RFC 1939 section 6).
    ///
    /// # Errors
    ///
    /// [`ServerError::NoPendingDecision`], [`ServerError::WrongDecision`] for a message whose
    /// data has started, [`ServerError::BadText`] for a control octet in `text` or a line
    /// that would pass 512 octets (RFC 2449 section 4); the decision stays pending then.
    pub fn reject(&mut self, code: Option<RespCode<'_>>, text: &str) -> Result<(), ServerError> {
        if check_text(text).is_err()
            || code
                .as_ref()
                .is_some_and(|c| !RespCode::valid_name(c.name()))
        {
            return Err(ServerError::BadText);
        }
        let mut line = String::from("-ERR");
        if let Some(code) = &code {
            line.push_str(&format!(" [{}]", code.name()));
        }
        if !text.is_empty() {
            line.push(' ');
            line.push_str(text);
        }
        // RFC 2449 section 4: at most 512 octets with the CRLF.
        if line.len() + 2 > crate::MAX_RESPONSE_LINE {
            return Err(ServerError::BadText);
        }
        match self.pending.take() {
            Some(Pending::Auth { method, user, .. }) => {
                self.timer.decided();
                self.phase = Phase::Command;
                self.login_failed(method, None, user);
                self.own_reply(line);
                Ok(())
            }
            Some(Pending::Apop { user }) => {
                self.timer.decided();
                self.login_failed(LoginMethod::Apop, None, Some(user));
                self.own_reply(line);
                Ok(())
            }
            Some(Pending::Maildrop { .. }) => {
                self.timer.decided();
                self.authenticated = None;
                self.update_line_limit();
                self.error(line.as_bytes());
                Ok(())
            }
            Some(Pending::Retrieve { started: false }) => {
                self.timer.decided();
                self.outgoing = None;
                // Not counted toward `max_errors`: the client asked for a message it was
                // listed; its absence is the store's doing (removed by another reader).
                self.line(line.as_bytes());
                Ok(())
            }
            Some(Pending::Update) => {
                self.timer.decided();
                self.line(line.as_bytes());
                self.close_silently(Ok(()));
                Ok(())
            }
            other => self.misuse(
                other,
                "reject cannot refuse a message whose data has started",
            ),
        }
    }

    /// Answers [`Event::OpenMaildrop`]: the maildrop is locked, and these are its messages,
    /// numbered from 1 in this order for the whole session. A message added to the store
    /// meanwhile belongs to the next session.
    ///
    /// # Errors
    ///
    /// [`ServerError::WrongDecision`] unless an [`Event::OpenMaildrop`] is pending;
    /// [`ServerError::DuplicateUid`] when two messages share a unique-id (the decision stays
    /// pending).
    pub fn open_maildrop(&mut self, messages: Vec<MessageInfo>) -> Result<(), ServerError> {
        if matches!(self.pending, Some(Pending::Maildrop { .. })) {
            let mut seen = std::collections::HashSet::with_capacity(messages.len());
            if let Some(index) = messages
                .iter()
                .position(|message| !seen.insert(message.uid.as_str()))
            {
                return Err(ServerError::DuplicateUid { index });
            }
        }
        match self.pending.take() {
            Some(Pending::Maildrop { user }) => {
                self.timer.decided();
                self.maildrop = messages
                    .into_iter()
                    .take(u32::MAX as usize)
                    .map(|info| Entry {
                        info,
                        deleted: false,
                    })
                    .collect();
                self.identity = Some(user);
                self.state = State::Transaction;
                self.update_line_limit();
                let (count, size) = self.totals();
                let text = format!("+OK maildrop has {count} messages ({size} octets)");
                self.line(text.as_bytes());
                Ok(())
            }
            other => self.misuse(other, "open_maildrop answers Event::OpenMaildrop"),
        }
    }

    /// Answers [`Event::AuthStep`]: runs the login one step with the application's
    /// credential store. `nonce` must be fresh random data (SCRAM's server nonce).
    ///
    /// # Errors
    ///
    /// [`ServerError::WrongDecision`] unless an [`Event::AuthStep`] is pending.
    pub fn auth_step<A: Authenticator + ?Sized>(
        &mut self,
        authenticator: &A,
        nonce: Nonce,
    ) -> Result<(), ServerError> {
        match self.pending.take() {
            Some(Pending::Auth {
                method,
                session,
                response,
                user,
            }) => {
                self.timer.decided();
                self.sasl_step(authenticator, nonce, method, session, response, user);
                Ok(())
            }
            other => self.misuse(other, "auth_step answers Event::AuthStep"),
        }
    }

    /// The next piece of the message for the pending [`Event::Retrieve`]: the `+OK` goes out
    /// before the first piece, and the content is dot-stuffed, with bare CR and bare LF sent
    /// as CRLF (RFC 1939 section 3; count [`MessageInfo::size`] that way), and cut after the
    /// requested body lines for `TOP`. Write [`Server::poll_transmit`] out after each piece.
    ///
    /// # Errors
    ///
    /// [`ServerError::WrongDecision`] unless an [`Event::Retrieve`] is pending.
    pub fn send_message_data(&mut self, data: &[u8]) -> Result<(), ServerError> {
        match &mut self.pending {
            Some(Pending::Retrieve { started }) => {
                if !*started {
                    *started = true;
                    self.line(replies::MESSAGE_FOLLOWS);
                }
                if let Some(outgoing) = &mut self.outgoing {
                    outgoing.encode(data, &mut self.output);
                }
                Ok(())
            }
            _ => Err(ServerError::WrongDecision(
                "send_message_data answers Event::Retrieve",
            )),
        }
    }

    /// Ends the message of the pending [`Event::Retrieve`] (`.` CRLF, after a CRLF if the
    /// content did not end with one).
    ///
    /// # Errors
    ///
    /// [`ServerError::WrongDecision`] unless an [`Event::Retrieve`] is pending.
    pub fn end_message(&mut self) -> Result<(), ServerError> {
        match self.pending.take() {
            Some(Pending::Retrieve { started }) => {
                self.timer.decided();
                if !started {
                    self.line(replies::MESSAGE_FOLLOWS);
                }
                if let Some(mut outgoing) = self.outgoing.take() {
                    outgoing.finish(&mut self.output);
                }
                Ok(())
            }
            other => self.misuse(other, "end_message answers Event::Retrieve"),
        }
    }

    /// The TLS handshake after [`Event::StartTls`] succeeded: the session starts over in
    /// AUTHORIZATION, forgetting everything learnt in plaintext (RFC 2595 section 4).
    ///
    /// # Errors
    ///
    /// [`ServerError::NoTlsPending`] without a preceding [`Event::StartTls`].
    pub fn tls_established(&mut self, now: Instant) -> Result<(), ServerError> {
        if !matches!(self.phase, Phase::TlsHandoff) {
            return Err(ServerError::NoTlsPending);
        }
        self.phase = Phase::Command;
        self.tls = true;
        self.user = None;
        self.utf8 = false;
        self.authenticated = None;
        self.framer.reset();
        self.input.clear();
        self.timer = Timer::new(now);
        self.fed_at = now;
        self.update_line_limit();
        Ok(())
    }

    /// Ends the session now with `-ERR [SYS/TEMP] Server shutting down`; nothing is deleted.
    pub fn shutdown(&mut self) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        self.pending = None;
        self.outgoing = None;
        self.held = None;
        self.close_with(replies::SHUTDOWN, SessionError::Shutdown);
    }

    /// Replaces the standard reply of the failed login being held with the application's.
    fn own_reply(&mut self, line: String) {
        if let Some(held) = &mut self.held {
            held.reply = Some(line.into_bytes());
        }
    }

    fn misuse(&mut self, other: Option<Pending>, what: &'static str) -> Result<(), ServerError> {
        let none = other.is_none();
        self.pending = other;
        Err(if none {
            ServerError::NoPendingDecision
        } else {
            ServerError::WrongDecision(what)
        })
    }

    /// Non-deleted messages and their total size.
    fn totals(&self) -> (usize, u64) {
        self.maildrop
            .iter()
            .filter(|e| !e.deleted)
            .fold((0, 0), |(n, s), e| (n + 1, s.saturating_add(e.info.size)))
    }

    /// Queues a line and its CRLF.
    fn line(&mut self, text: &[u8]) {
        self.output.extend_from_slice(text);
        self.output.extend_from_slice(replies::CRLF);
    }

    /// Queues a negative response counted as an error; past the limit the session closes.
    fn error(&mut self, text: &[u8]) {
        self.errors += 1;
        if self.errors > self.config.max_errors {
            self.close_with(replies::TOO_MANY_ERRORS, SessionError::TooManyErrors);
        } else {
            self.line(text);
        }
    }

    fn close_with(&mut self, text: &[u8], reason: SessionError) {
        self.line(text);
        self.close_silently(Err(reason));
    }

    fn close_silently(&mut self, ending: Result<(), SessionError>) {
        self.phase = Phase::Closed;
        self.pending = None;
        self.outgoing = None;
        self.held = None;
        self.input.clear();
        self.events.push_back(Event::Closed(ending));
    }

    /// The command line limit: at least [`AUTH_LINE_LIMIT`] while SASL is offered.
    fn update_line_limit(&mut self) {
        let limit = if self.sasl_offered() {
            self.config.max_line_len.max(AUTH_LINE_LIMIT)
        } else {
            self.config.max_line_len
        };
        self.framer.set_max_len(limit.max(8));
    }

    /// Whether credentials may be sent now (security rule 3.3).
    fn credentials_allowed(&self) -> bool {
        self.tls || self.config.allow_plaintext_auth
    }

    fn sasl_offered(&self) -> bool {
        self.state == State::Authorization
            && !self.config.sasl_mechanisms.is_empty()
            && self.credentials_allowed()
    }

    fn mechanism_offered(&self, mechanism: Mechanism) -> bool {
        self.config.sasl_mechanisms.contains(&mechanism)
    }
}
