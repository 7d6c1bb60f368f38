//! The IMAP server state machine (RFC 3501, RFC 9051 and the extensions of the codec):
//! not authenticated, authenticated, selected, logout.
//!
//! [`Server`] runs one session. It frames and parses what the client sends and answers
//! everything that is protocol by itself: the greeting and `CAPABILITY` (by state and TLS),
//! `STARTTLS`, `LOGIN` and `AUTHENTICATE` through mail-wire's SASL (with SASL-IR), literal
//! continuations and their limits, `IDLE`, `ENABLE`, `ID`, `NAMESPACE`, `NOOP`, `CHECK`,
//! `UNSELECT`, `LOGOUT`, the selected mailbox's sequence numbers (through its
//! [`MailboxView`]) and when changes may be announced, errors and timeouts. What only the
//! application can do comes out as [`Event`]s: checking credentials, and the storage
//! commands (`SELECT`, `FETCH`, `STORE`, `SEARCH`, `APPEND`, ...), answered through methods.
//! It never touches a socket, a clock or a random number generator.
//!
//! # The driver loop
//!
//! ```
//! use std::num::NonZeroU32;
//! use std::time::Instant;
//! use imap_proto::command::CommandBody;
//! use imap_proto::fetch::MessageDataItem;
//! use imap_proto::flag::{Flag, FlagFetch};
//! use imap_proto::response::StatusKind;
//! use imap_proto::server::{Event, SelectInfo, Server, ServerConfig};
//! use imap_proto::view::Snapshot;
//! use mail_testkit::Users;
//! use mail_testkit::users::server_nonce;
//!
//! let uid = |n| NonZeroU32::new(n).unwrap();
//! let now = Instant::now();
//! let mut config = ServerConfig::default();
//! config.allow_plaintext_auth = true; // this example has no TLS
//! let mut server = Server::new(config, now);
//! let users = Users::standard(); // your credential store: a mail_wire::sasl::Authenticator
//! let mut wire = Vec::new();
//!
//! let reads: [&[u8]; 3] = [
//!     b"a1 LOGIN alice secret\r\n",
//!     b"a2 SELECT INBOX\r\na3 FETCH 1:* FLAGS\r\n",
//!     b"a4 LOGOUT\r\n",
//! ];
//! for bytes in reads {
//!     server.feed(now, bytes);
//!     while let Some(event) = server.poll_event() {
//!         match event {
//!             Event::AuthStep { .. } => server.auth_step(&users, server_nonce())?,
//!             Event::Command { command, messages } => match command.body {
//!                 CommandBody::Select { .. } => {
//!                     // What the store knows of INBOX: two messages, UIDs 7 and 9.
//!                     let snapshot = Snapshot {
//!                         uid_validity: uid(1),
//!                         uid_next: uid(10),
//!                         highest_modseq: None,
//!                         uids: vec![uid(7), uid(9)],
//!                     };
//!                     server.selected(snapshot, SelectInfo::new(vec![Flag::Seen]))?;
//!                 }
//!                 CommandBody::Fetch { .. } => {
//!                     for (_seq, uid) in messages {
//!                         let flags = vec![FlagFetch::Flag(Flag::Seen)];
//!                         server.fetch(uid, vec![MessageDataItem::Flags(flags.into())])?;
//!                     }
//!                     server.complete(StatusKind::Ok, None, "FETCH completed")?;
//!                 }
//!                 _ => server.complete(StatusKind::No, None, "not here")?,
//!             },
//!             _ => {}
//!         }
//!     }
//!     while let Some(bytes) = server.poll_transmit() {
//!         wire.extend_from_slice(&bytes);
//!     }
//! }
//! let wire = String::from_utf8(wire).unwrap();
//! assert!(wire.starts_with("* OK [CAPABILITY IMAP4rev1 "));
//! assert!(wire.contains("a1 OK [CAPABILITY IMAP4rev1 "));
//! assert!(wire.contains("* 2 EXISTS\r\n"));
//! assert!(wire.contains("* OK [UIDVALIDITY 1] UIDs valid\r\n"));
//! assert!(wire.contains("a2 OK [READ-WRITE] SELECT completed\r\n"));
//! assert!(wire.contains("* 1 FETCH (FLAGS (\\Seen))\r\n* 2 FETCH (FLAGS (\\Seen))\r\na3 OK FETCH completed\r\n"));
//! assert!(wire.ends_with("* BYE Logging out\r\na4 OK LOGOUT completed\r\n"));
//! assert!(server.is_closed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A real driver writes what [`Server::poll_transmit`] returns before it reads again, reads
//! only while [`Server::wants_input`] holds, calls [`Server::handle_timeout`] when
//! [`Server::poll_timeout`] is due, does the TLS handshake on [`Event::StartTls`], and calls
//! [`Server::mailbox_changed`] whenever the store reports a change to the selected mailbox
//! (made by this session or another): the machine announces it when the protocol allows. For
//! a new message that is recent to this session (RFC 3501 section 2.3.2) it calls
//! [`Server::mark_recent`] first, then `mailbox_changed`: the `* n EXISTS` is then followed
//! by a `* n RECENT` that counts it.
//!
//! # What the machine answers by itself
//!
//! | situation | response |
//! |---|---|
//! | greeting | `* OK [CAPABILITY ...] text`, `* PREAUTH [CAPABILITY ...] text` ([`ServerConfig::preauth`], never where TLS is required), `* BYE text` ([`Server::refuse`]) |
//! | `CAPABILITY` | by state and TLS: before TLS without [`ServerConfig::allow_plaintext_auth`] `STARTTLS LOGINDISABLED` and no `AUTH=`; after login none of `STARTTLS`, `AUTH=`, `LOGINDISABLED`; login answers `OK [CAPABILITY ...]` (RFC 9051 section 6.2.3) |
//! | `LOGIN`, `AUTHENTICATE` before TLS | `NO [PRIVACYREQUIRED]` |
//! | failed login | `NO [AUTHENTICATIONFAILED]` after [`ServerConfig::auth_failure_delay`]; past [`ServerConfig::max_auth_failures`] also `* BYE` |
//! | `AUTHENTICATE` cancelled (`*`) | `BAD` |
//! | `STARTTLS` | `OK`, then [`Event::StartTls`]; bytes pipelined after it close the session ([`SessionError::StartTlsInjection`]); after TLS or login `BAD` |
//! | literal over [`ServerConfig::max_literal`], APPEND over [`ServerConfig::append_limit`] | `NO [TOOBIG]`, data of `{n+}` skipped |
//! | APPEND's `UTF8 (~{n})` form (RFC 6855) before `ENABLE UTF8=ACCEPT` | `NO [CLIENTBUG]` where UTF8=ACCEPT is offered, `BAD` where not; no data taken |
//! | `{n+}` under `LITERAL-` over 4096 octets, or without LITERAL+ | `BAD`, data skipped (RFC 7888 section 4) |
//! | synchronising literal within limits | `+ Ready` |
//! | `IDLE` | `+ idling`, changes at once, `DONE` ends it; another line: `BAD` and IDLE ends (RFC 2177) |
//! | a size change announced to an IMAP4rev1 session (EXISTS, EXPUNGE, VANISHED) | followed by `* n RECENT` when the count of messages recent to the session changed (RFC 3501 section 7.3.2, as Dovecot 2.3); see [`Server::mark_recent`] |
//! | `ENABLE` | `* ENABLED ...` (CONDSTORE, QRESYNC, UTF8=ACCEPT when offered, IMAP4rev2 when on) |
//! | `ID`, `NAMESPACE`, `NOOP`, `CHECK`, `UNSELECT`, `LOGOUT` | their answers (NOOP and CHECK in the selected state go to the application under [`ServerConfig::noop_as_command`]) |
//! | sequence number beyond EXISTS | `BAD` |
//! | STORE, EXPUNGE, MOVE in a read-only mailbox | `NO [READ-ONLY]` |
//! | a command of an extension not advertised (MOVE, UID EXPUNGE, SORT, THREAD, QUOTA, SEARCH RETURN, LIST-EXTENDED options; IMAP4rev2 implies MOVE, UIDPLUS, ESEARCH, SEARCHRES, LIST-EXTENDED, LIST-STATUS) | `BAD`, never an [`Event::Command`] |
//! | `$` (SEARCHRES) in FETCH, STORE, COPY, MOVE, UID EXPUNGE | resolved through [`Server::save_search_result`]'s UIDs; forgotten at SELECT, EXAMINE, UNSELECT, CLOSE |
//! | SELECT or EXAMINE in an IMAP4rev2 session | `* LIST` of the mailbox before the rest of [`Server::selected`]'s answer (RFC 9051 section 6.3.2) |
//! | command in the wrong state, syntax error | `BAD` with the reason, counted toward [`ServerConfig::max_errors`], then `* BYE` |
//! | line too long | `BAD` (with the tag when readable); the line is skipped |
//! | idle past the timeout | `* BYE Autologout; idle for too long` |
//! | too many changes queued for the selected mailbox | `* BYE [ALERT] ...` ([`SessionError::ViewOverflow`]) |
//!
//! # Pipelining
//!
//! Commands are run one at a time, in the order received, each answered before the next
//! runs, so that no command runs while one it depends on is pending (RFC 9051 section 5.5).
//! While the application works on a command, the machine frames up to
//! [`ServerConfig::max_pipelined`] (16) further commands ahead and then reads no more
//! ([`Server::wants_input`] is false); reading ahead stops at a literal header and after
//! AUTHENTICATE, IDLE and STARTTLS, whose next lines are not commands. What waits is at most
//! [`ServerConfig::max_buffered_input`] octets. Answers stop while
//! [`OUTPUT_HIGH_WATER`] octets are queued, until the driver has written them.

use std::collections::VecDeque;
use std::fmt;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mail_wire::Secret;
use mail_wire::sasl::{Authenticator, Mechanism, Nonce, ServerSession};

use crate::core::{Tag, Text};
use crate::encode::{Encode, EncodeOptions, Writer};
use crate::fetch::MessageDataItem;
use crate::flag::FlagFetch;
use crate::framer::{Framer, FramerConfig};
use crate::list::{List, NonEmpty};
use crate::mailbox::Mailbox;
use crate::response::{
    Capability, Code, Continuation, ContinuationText, Data, Greeting, GreetingKind, ListData,
    Response, StatusKind, StatusResponse,
};
use crate::sequence::{SeqOrUid, Sequence, SequenceSet, UidSet};
use crate::view::{Announce, AnnounceOptions, Change, MailboxView, Snapshot, ViewError};

// Where the machine lives:
// - this file: the `Server` type, its state, the driver's calls and the answers to decisions;
// - `config`: `ServerConfig` and the limits, each with its source;
// - `event`: `Event`, `SessionError`, `ServerError`, `State`, `SelectInfo`, `Enabled`;
// - `input`: framing, literal decisions, and dispatching each command by state;
// - `auth`: LOGIN, AUTHENTICATE and the SASL exchange, failed logins;
// - `append`: APPEND streamed in pieces, MULTIAPPEND;
// - `timer`: the client's idle time.
mod append;
mod auth;
mod config;
mod event;
mod input;
mod timer;

pub use config::{
    ConfigError, DEFAULT_APPEND_LIMIT, DEFAULT_MAX_LINE, LITERAL_MINUS_MAX, LiteralPlus,
    ServerConfig,
};
pub use event::{Enabled, Event, SelectInfo, ServerError, SessionError, State};

use timer::Timer;

/// While this much output is queued, the machine answers no further command until the
/// driver has written it: 256 KiB, as pop3-proto and smtp-proto.
pub const OUTPUT_HIGH_WATER: usize = 256 * 1024;

/// The most spare capacity a buffer keeps once empty: 8 KiB.
const IDLE_BUFFER: usize = 8 * 1024;

/// What the session reads, or waits for.
#[derive(Debug)]
enum Phase {
    /// Commands.
    Command,
    /// The client's next SASL response line.
    AuthResponse {
        tag: Tag<'static>,
        session: ServerSession,
        user: Option<String>,
        /// The credentials were checked and refused, as the last challenge told (the error
        /// challenge of XOAUTH2 and OAUTHBEARER): whatever comes now is a failed login.
        failed: bool,
    },
    /// IDLE: waiting for `DONE`.
    Idle { tag: Tag<'static> },
    /// An APPEND message's data: `remaining` octets, handed over or (`discard`) dropped.
    AppendData { remaining: u64, discard: bool },
    /// The rest of an APPEND command's line after a message: CRLF, or the next message.
    AppendRest,
    /// OK to STARTTLS queued; waiting for [`Server::tls_established`].
    TlsHandoff,
    /// The last response is queued; nothing more is read.
    Closed,
}

/// What the running command is, for the answers the application gives.
#[derive(Debug, Clone)]
struct Running {
    tag: Tag<'static>,
    /// SELECT (false) or EXAMINE (true), and the mailbox name as the client gave it.
    select: Option<(bool, Mailbox<'static>)>,
    /// A UID command: FETCH responses carry UID.
    uid: bool,
    /// FETCH, STORE, SEARCH, COPY by sequence number: no EXPUNGE until it completes (RFC
    /// 3501 section 7.4.1).
    no_expunge: bool,
    /// CLOSE: the mailbox is deselected at completion, nothing announced.
    close: bool,
    /// SEARCH RETURN (SAVE): a failure empties the saved result (RFC 5182 section 2.1).
    save: bool,
}

/// A decision the application has not answered yet.
#[derive(Debug)]
enum Pending {
    Auth {
        tag: Tag<'static>,
        mechanism: Mechanism,
        session: Option<ServerSession>,
        response: Option<Secret<Vec<u8>>>,
        user: Option<String>,
    },
    Command(Running),
    /// An APPEND message's start: accept or refuse.
    AppendStart {
        sync: bool,
        size: u64,
    },
    /// The APPEND's last message is in: answer it.
    AppendDone,
}

/// The APPEND command in progress.
#[derive(Debug)]
struct AppendState {
    tag: Tag<'static>,
    mailbox: Mailbox<'static>,
    /// The message being received (or the last one).
    index: usize,
    /// The command was answered (refused): what remains is skipped.
    failed: bool,
    /// The message is in the `UTF8 (~{n})` form (RFC 6855): `)` follows its data.
    utf8: bool,
}

/// A failed login's answer, held back until `since` + the failure delay.
#[derive(Debug)]
struct Held {
    since: Instant,
    tag: Tag<'static>,
    close: bool,
    /// `BAD` with this text (a cancelled or undecodable exchange, RFC 9051 section 6.2.2)
    /// rather than `NO [AUTHENTICATIONFAILED]`.
    bad: Option<&'static str>,
}

/// One IMAP server session; see the [module docs](self).
pub struct Server {
    config: ServerConfig,
    input: BytesMut,
    output: BytesMut,
    framer: Framer,
    state: State,
    phase: Phase,
    pending: Option<Pending>,
    events: VecDeque<Event>,
    tls: bool,
    enabled: Enabled,
    view: Option<MailboxView>,
    read_only: bool,
    /// The SEARCHRES saved result (`$`), as UIDs.
    saved: Option<Vec<NonZeroU32>>,
    /// The UIDs recent to this session (IMAP4rev1), ascending: `\Recent` in the FLAGS
    /// the view announces, and the count of `* n RECENT`. Only messages the client knows
    /// and those not announced yet (at or above the view's UIDNEXT): an expunge announced
    /// drops its UID.
    recent: Vec<NonZeroU32>,
    /// The `n` of the last `* n RECENT` sent (at SELECT, [`SelectInfo::recent`]).
    recent_told: u32,
    /// [`Server::mark_recent`] marked a message the client already knows: the next
    /// announcement counts the recent messages even without a size change.
    recent_stale: bool,
    append: Option<AppendState>,
    errors: u32,
    auth_failures: u32,
    held: Option<Held>,
    timer: Timer,
    /// When the session ends if it has not logged in by then ([`ServerConfig::login_timeout`]
    /// from its start, whatever the client sends meanwhile).
    login_deadline: Option<Instant>,
    /// When the last input arrived.
    fed_at: Instant,
    eof: bool,
    deferred: bool,
    /// Commands framed while one is pending ([`ServerConfig::max_pipelined`]), in order.
    ahead: VecDeque<input::Ahead>,
    /// Octets of the messages in `ahead`.
    ahead_bytes: usize,
    /// Reading ahead stopped at a literal header, a framing error, or a command after which
    /// the lines are not commands; it resumes once `ahead` is empty.
    ahead_stopped: bool,
    /// The buffer responses are encoded in, reused.
    scratch: Vec<u8>,
}

impl fmt::Debug for Server {
    // The buffers are left out: the input can hold a LOGIN or AUTHENTICATE line
    // (docs/design.md section 3.6).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("state", &self.state)
            .field("phase", &self.phase)
            .field("tls", &self.tls)
            .field("enabled", &self.enabled)
            .field("pending", &self.pending)
            .field("errors", &self.errors)
            .field("auth_failures", &self.auth_failures)
            .field("buffered_input", &self.input.len())
            .field("buffered_output", &self.output.len())
            .field(
                "buffer_capacity",
                &(self.input.capacity() + self.output.capacity() + self.scratch.capacity()),
            )
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts a session at `now`; the greeting is queued at once: `* OK [CAPABILITY ...]`,
    /// or `* PREAUTH [CAPABILITY ...]` when [`ServerConfig::preauth`] is set and TLS is not
    /// required (where it is, the greeting is a plain `OK`). A control octet in a text of the
    /// configuration goes out as a space ([`ServerConfig::check`] refuses instead).
    pub fn new(config: ServerConfig, now: Instant) -> Self {
        let mut server = Server::bare(config, now);
        let preauth = server
            .config
            .preauth
            .clone()
            .filter(|_| server.config.implicit_tls || server.config.allow_plaintext_auth);
        let (kind, text) = match preauth {
            Some(text) => {
                server.state = State::Authenticated;
                (GreetingKind::PreAuth, text)
            }
            None => (GreetingKind::Ok, server.config.greeting_text.clone()),
        };
        let code = server.capability_code();
        server.greeting(kind, Some(code), &text);
        server
    }

    /// Starts a session that is refused at once: `* BYE text` (RFC 9051 section 7.1.5: the
    /// server is not willing to accept the connection), then [`Event::Closed`] with `Ok`.
    pub fn refuse(config: ServerConfig, now: Instant, text: &str) -> Self {
        let mut server = Server::bare(config, now);
        server.greeting(GreetingKind::Bye, None, text);
        server.state = State::Logout;
        server.close_silently(Ok(()));
        server
    }

    fn bare(config: ServerConfig, now: Instant) -> Self {
        let config = config.sanitised();
        let framer = Framer::server(FramerConfig {
            max_line: config.max_line,
            // The machine decides on every literal itself (`input::on_literal`): the framer
            // holds a command's literals only once accepted, within `max_command`.
            max_literal: u64::MAX,
            max_message: usize::MAX,
            ..FramerConfig::default()
        });
        Server {
            framer,
            input: BytesMut::new(),
            output: BytesMut::new(),
            state: State::NotAuthenticated,
            phase: Phase::Command,
            pending: None,
            events: VecDeque::new(),
            tls: config.implicit_tls,
            enabled: Enabled::default(),
            view: None,
            read_only: false,
            saved: None,
            recent: Vec::new(),
            recent_told: 0,
            recent_stale: false,
            append: None,
            errors: 0,
            auth_failures: 0,
            held: None,
            timer: Timer::new(now),
            login_deadline: now.checked_add(config.login_timeout),
            fed_at: now,
            eof: false,
            deferred: false,
            ahead: VecDeque::new(),
            ahead_bytes: 0,
            ahead_stopped: false,
            scratch: Vec::new(),
            config,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Changes [`ServerConfig::max_errors`] for the rest of the session, the commands
    /// answered `BAD` so far included: an application that allows a logged-in user more
    /// errors than a client before login (RFC 9051 puts no limit on a client's errors)
    /// raises it at login. A count already past the new limit ends the session at the next
    /// `BAD`.
    pub fn set_max_errors(&mut self, max_errors: u32) {
        self.config.max_errors = max_errors;
    }

    /// The protocol state.
    pub fn state(&self) -> State {
        self.state
    }

    /// What the client enabled.
    pub fn enabled(&self) -> &Enabled {
        &self.enabled
    }

    /// The selected mailbox's view, in the selected state.
    pub fn view(&self) -> Option<&MailboxView> {
        self.view.as_ref()
    }

    /// Whether the selected mailbox was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Whether the session is protected by TLS (implicit, or after STARTTLS).
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The capabilities the server announces now (they depend on the state and on TLS).
    pub fn capabilities(&self) -> Vec<Capability<'static>> {
        let mut caps = vec![Capability::Imap4Rev1];
        if self.config.imap4rev2 {
            caps.push(Capability::Imap4Rev2);
        }
        if self.state == State::NotAuthenticated {
            if !self.tls && self.config.starttls {
                caps.push(Capability::StartTls);
            }
            if self.credentials_allowed() {
                for mechanism in &self.config.sasl_mechanisms {
                    if let Ok(atom) = crate::core::Atom::new(mechanism.name()) {
                        caps.push(Capability::Auth(atom));
                    }
                }
                caps.push(Capability::SaslIr);
            } else {
                caps.push(Capability::LoginDisabled);
            }
        }
        caps.extend([Capability::Idle, Capability::Enable]);
        match self.config.literal_plus {
            LiteralPlus::Plus => caps.push(Capability::LiteralPlus),
            LiteralPlus::Minus => caps.push(Capability::LiteralMinus),
            LiteralPlus::Off => {}
        }
        caps.extend([Capability::Id, Capability::Unselect]);
        if self.config.namespace.is_some() {
            caps.push(Capability::Namespace);
        }
        if let Some(limit) = self.config.append_limit {
            caps.push(Capability::AppendLimit(Some(
                u32::try_from(limit).unwrap_or(u32::MAX),
            )));
        }
        for cap in &self.config.capabilities {
            if !machine_decides(cap) && !caps.contains(cap) {
                caps.push(cap.clone());
            }
        }
        caps
    }

    /// Hands the machine bytes received from the client. Never fails.
    pub fn feed(&mut self, now: Instant, bytes: &[u8]) {
        if self.admit(bytes.len()) {
            self.fed_at = now;
            self.input.extend_from_slice(bytes);
        }
    }

    /// [`Server::feed`] for the driver's read buffer: takes every byte, leaving it empty
    /// (without copying when nothing else is buffered: APPEND data then reaches the
    /// application as pieces of the driver's own buffer).
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
                // RFC 9051 section 6.2.1: the next bytes must be the TLS handshake.
                self.close_silently(Err(SessionError::StartTlsInjection));
                return false;
            }
            _ => {}
        }
        let held = self.input.len().saturating_add(self.ahead_bytes);
        if held.saturating_add(len) > self.config.max_buffered_input {
            self.input.clear();
            self.close_with("Too much input", SessionError::InputOverflow);
            return false;
        }
        true
    }

    /// The client closed its side: input already fed is processed first (and a held
    /// failed-login answer sent), then the session ends with [`SessionError::PeerClosed`].
    pub fn handle_eof(&mut self) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        self.eof = true;
        // A held failed-login answer still goes out: the client may only have shut its
        // sending side.
        if self.input.is_empty()
            && self.ahead.is_empty()
            && self.pending.is_none()
            && self.held.is_none()
            && self.events.is_empty()
        {
            self.close_on_eof();
        }
    }

    /// The connection broke: the session ends at once.
    pub fn handle_connection_lost(&mut self) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        self.eof = true;
        self.events.clear();
        self.close_on_eof();
    }

    fn close_on_eof(&mut self) {
        self.abort_append();
        self.pending = None;
        self.held = None;
        self.phase = Phase::Closed;
        self.state = State::Logout;
        self.input.clear();
        self.ahead.clear();
        self.ahead_bytes = 0;
        self.events
            .push_back(Event::Closed(Err(SessionError::PeerClosed)));
    }

    /// The next event, or `None` when the machine needs input, time, or a decision.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.announce_idle();
        loop {
            if let Some(event) = self.events.pop_front() {
                return Some(event);
            }
            if self.pending.is_some() || self.held.is_some() {
                self.read_ahead();
                return None;
            }
            self.deferred = self.output.len() >= OUTPUT_HIGH_WATER
                && !(self.input.is_empty() && self.ahead.is_empty())
                && !matches!(self.phase, Phase::Closed | Phase::TlsHandoff);
            if self.deferred {
                return None;
            }
            if !self.step() {
                if self.eof && !matches!(self.phase, Phase::Closed) {
                    self.close_on_eof();
                }
                if self.input.is_empty() && self.input.capacity() > IDLE_BUFFER {
                    // An idle session keeps no large buffer (issue 19: many idle sessions).
                    self.input = BytesMut::new();
                }
                return self.events.pop_front();
            }
        }
    }

    /// Bytes to write to the client, if any. Write them all before reading again. The
    /// server never sends a secret, so [`Session::poll_transmit_marked`] marks nothing.
    ///
    /// [`Session::poll_transmit_marked`]: mail_wire::session::Session::poll_transmit_marked
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        if self.output.is_empty() {
            return None;
        }
        let bytes = self.output.split().freeze();
        if self.output.capacity() > IDLE_BUFFER {
            self.output = BytesMut::new();
        }
        Some(bytes)
    }

    /// When [`Server::handle_timeout`] must be called: the release of a held failed-login
    /// answer, the end of the time to log in ([`ServerConfig::login_timeout`] from the
    /// session's start), or the end of the client's idle time ([`ServerConfig::login_timeout`]
    /// before login, [`ServerConfig::idle_timeout`] after, IDLE included). `None` while a decision
    /// is pending, during the TLS hand-off and after the close; already due while commands
    /// wait for queued output to be written ([`OUTPUT_HIGH_WATER`]).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if let Some(held) = &self.held {
            return held.since.checked_add(self.config.auth_failure_delay);
        }
        if !self.timed() {
            return None;
        }
        if self.deferred {
            return Some(self.fed_at);
        }
        let idle = self.timer.deadline(self.idle_timeout());
        match (self.state, self.login_deadline) {
            (State::NotAuthenticated, Some(login)) => {
                Some(idle.map_or(login, |idle| idle.min(login)))
            }
            _ => idle,
        }
    }

    fn timed(&self) -> bool {
        !matches!(self.phase, Phase::Closed | Phase::TlsHandoff) && self.pending.is_none()
    }

    fn idle_timeout(&self) -> Duration {
        match self.state {
            State::NotAuthenticated => self.config.login_timeout,
            _ => self.config.idle_timeout,
        }
    }

    /// Tells the machine the time: releases a held failed-login answer, or ends an idle
    /// session with `* BYE Autologout; idle for too long`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(held) = &self.held {
            let release = held.since.checked_add(self.config.auth_failure_delay);
            if release.is_some_and(|release| now >= release) {
                if let Some(held) = self.held.take() {
                    self.timer.line(now);
                    self.release_failure(held);
                }
            }
            return;
        }
        if !self.timed() || self.deferred {
            return;
        }
        let login_over = self.state == State::NotAuthenticated
            && self.login_deadline.is_some_and(|deadline| now >= deadline);
        if login_over || self.timer.expire(now, self.idle_timeout()) {
            self.abort_append();
            self.close_with("Autologout; idle for too long", SessionError::Timeout);
        }
    }

    /// Whether the driver should read more input now: not while an event waits, while a
    /// decision is pending (except while an application command is pending and fewer than
    /// [`ServerConfig::max_pipelined`] commands are framed ahead), after the close, or during
    /// the TLS hand-off. Also while answers wait for queued output ([`OUTPUT_HIGH_WATER`]), so that
    /// the driver writes it.
    pub fn wants_input(&self) -> bool {
        (self.pending.is_none() || self.may_read_ahead())
            && self.held.is_none()
            && self.events.is_empty()
            && (!self.eof || self.deferred)
            && !matches!(self.phase, Phase::Closed | Phase::TlsHandoff)
    }

    /// Whether the session has ended: close once [`Server::poll_transmit`] returns `None`.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// The TLS handshake after [`Event::StartTls`] succeeded: the session goes on before
    /// login, with the capabilities of a TLS session (RFC 9051 section 6.2.1: the client
    /// asks for them again).
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
        self.framer.reset();
        self.framer.set_literals(true);
        self.input.clear();
        self.timer = Timer::new(now);
        self.fed_at = now;
        Ok(())
    }

    /// Ends the session now with `* BYE Server shutting down`.
    pub fn shutdown(&mut self) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        self.abort_append();
        self.pending = None;
        self.held = None;
        self.close_with("Server shutting down", SessionError::Shutdown);
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
                tag,
                mechanism,
                session,
                response,
                user,
            }) => {
                self.timer.decided();
                self.sasl_step(
                    authenticator,
                    nonce,
                    tag,
                    mechanism,
                    session,
                    response,
                    user,
                );
                Ok(())
            }
            other => self.misuse(other, "auth_step answers Event::AuthStep"),
        }
    }

    /// Answers a SELECT or EXAMINE [`Event::Command`]: the mailbox is open, with these
    /// messages. Sends `* FLAGS`, `* n EXISTS`, `* n RECENT` (IMAP4rev1 only), `OK [UNSEEN]`
    /// (IMAP4rev1, when given), `OK [UIDVALIDITY]`, `OK [UIDNEXT]`, `OK [PERMANENTFLAGS]`,
    /// `OK [HIGHESTMODSEQ]` or `OK [NOMODSEQ]` (when CONDSTORE is offered or enabled), and
    /// the tagged `OK [READ-WRITE]` or `OK [READ-ONLY]` (EXAMINE is always read-only).
    ///
    /// # Errors
    ///
    /// [`ServerError::WrongDecision`] unless a SELECT or EXAMINE is pending;
    /// [`ServerError::View`] for an inconsistent snapshot (the decision stays pending).
    pub fn selected(&mut self, snapshot: Snapshot, info: SelectInfo) -> Result<(), ServerError> {
        let examine = match &self.pending {
            Some(Pending::Command(Running {
                select: Some((examine, _)),
                ..
            })) => *examine,
            _ => {
                let other = self.pending.take();
                return self.misuse(other, "selected answers SELECT and EXAMINE");
            }
        };
        let highest_modseq = snapshot.highest_modseq;
        let view = MailboxView::new(snapshot, self.config.view.clone())?;
        let Some(Pending::Command(running)) = self.pending.take() else {
            return Err(ServerError::NoPendingDecision);
        };
        self.timer.decided();
        let read_only = examine || info.read_only;
        let rev2 = self.enabled.imap4rev2;
        if let (true, Some((_, mailbox))) = (rev2, running.select.as_ref()) {
            // RFC 9051 section 6.3.2: SELECT answers a LIST of the mailbox.
            self.data(Data::List(ListData {
                attributes: info.attributes.into(),
                delimiter: info.delimiter,
                mailbox: mailbox.clone(),
                extended: List::new(),
            }));
        }
        self.data(Data::Flags(info.flags.into()));
        self.data(Data::Exists(view.exists()));
        if !rev2 {
            self.data(Data::Recent(info.recent));
            if let Some(unseen) = info.unseen {
                self.untagged_ok(
                    Code::Unseen(unseen),
                    &format!("Message {unseen} is first unseen"),
                );
            }
        }
        self.untagged_ok(Code::UidValidity(view.uid_validity()), "UIDs valid");
        self.untagged_ok(Code::UidNext(view.uid_next()), "Predicted next UID");
        let permanent = if read_only {
            List::new()
        } else {
            info.permanent_flags.into()
        };
        self.untagged_ok(Code::PermanentFlags(permanent), "Limited");
        if self.condstore_offered() || self.enabled.condstore {
            match highest_modseq {
                Some(modseq) => self.untagged_ok(Code::HighestModSeq(modseq.get()), "Highest"),
                None => self.untagged_ok(Code::NoModSeq, "No permanent modsequences"),
            }
        }
        let (code, verb) = match (read_only, examine) {
            (true, true) => (Code::ReadOnly, "EXAMINE"),
            (true, false) => (Code::ReadOnly, "SELECT"),
            (false, _) => (Code::ReadWrite, "SELECT"),
        };
        self.view = Some(view);
        self.read_only = read_only;
        self.saved = None;
        self.recent = info.recent_uids;
        self.recent.sort_unstable();
        self.recent.dedup();
        self.recent_told = info.recent;
        self.recent_stale = false;
        self.state = State::Selected;
        self.tagged(
            &running.tag,
            StatusKind::Ok,
            Some(code),
            &format!("{verb} completed"),
        );
        Ok(())
    }

    /// Untagged data for the pending command (`* LIST ...`, `* STATUS ...`, `* SEARCH ...`,
    /// `* VANISHED (EARLIER) ...`, ...). For FETCH responses use [`Server::fetch`], which
    /// numbers them; changes to the mailbox (EXISTS, EXPUNGE, VANISHED) go through
    /// [`Server::mailbox_changed`], so that the client's sequence numbers stay the view's.
    ///
    /// # Errors
    ///
    /// [`ServerError::NoPendingDecision`] unless a command is pending;
    /// [`ServerError::Invalid`] for `* n EXISTS`, `* n EXPUNGE`, `* VANISHED` without
    /// `(EARLIER)` and `* n FETCH`.
    pub fn respond(&mut self, data: Data<'_>) -> Result<(), ServerError> {
        if !matches!(self.pending, Some(Pending::Command(_))) {
            return Err(ServerError::NoPendingDecision);
        }
        if matches!(
            data,
            Data::Exists(_)
                | Data::Expunge(_)
                | Data::Fetch { .. }
                | Data::Vanished { earlier: false, .. }
        ) {
            return Err(ServerError::Invalid(
                "EXISTS, EXPUNGE, VANISHED and FETCH are numbered by the view: use mailbox_changed() and fetch()",
            ));
        }
        self.data(data);
        Ok(())
    }

    /// An untagged status response for the pending command, in order with its other data:
    /// `* OK [COPYUID ...] text` before MOVE's expunges (RFC 6851 section 4.3), `* NO
    /// [ALERT] text`, `* BAD text`. The tagged completion still comes from
    /// [`Server::complete`].
    ///
    /// # Errors
    ///
    /// [`ServerError::NoPendingDecision`] unless a command is pending;
    /// [`ServerError::Invalid`] for a kind other than OK, NO, BAD or a text the codec refuses
    /// (control octets); nothing is sent then.
    pub fn respond_status(
        &mut self,
        kind: StatusKind,
        code: Option<Code<'_>>,
        text: &str,
    ) -> Result<(), ServerError> {
        if !matches!(self.pending, Some(Pending::Command(_))) {
            return Err(ServerError::NoPendingDecision);
        }
        if !matches!(kind, StatusKind::Ok | StatusKind::No | StatusKind::Bad) {
            return Err(ServerError::Invalid("a status response is OK, NO or BAD"));
        }
        let text = Text::new(text.to_owned()).map_err(|_| ServerError::Invalid("text"))?;
        let response = StatusResponse::untagged(kind, code, Some(text))
            .map_err(|_| ServerError::Invalid("status response"))?;
        self.emit(&Response::Status(response));
        Ok(())
    }

    /// `* seq FETCH (items)` for the message `uid`, its sequence number from the view; for a
    /// UID command the `UID` item is added when missing (RFC 9051 section 6.4.9).
    ///
    /// # Errors
    ///
    /// [`ServerError::NoPendingDecision`] unless a command is pending,
    /// [`ServerError::UnknownUid`] when the client does not know `uid` (not in the view, or
    /// not announced yet), [`ServerError::Invalid`] for no item or a `UID` item other than
    /// `uid`.
    pub fn fetch(
        &mut self,
        uid: NonZeroU32,
        items: Vec<MessageDataItem<'_>>,
    ) -> Result<(), ServerError> {
        let Some(Pending::Command(running)) = &self.pending else {
            return Err(ServerError::NoPendingDecision);
        };
        if items.is_empty() {
            return Err(ServerError::Invalid("a FETCH response needs an item"));
        }
        if items
            .iter()
            .any(|item| matches!(item, MessageDataItem::Uid(other) if *other != uid))
        {
            return Err(ServerError::Invalid("a UID item naming another message"));
        }
        let with_uid = running.uid;
        let seq = self
            .view
            .as_ref()
            .and_then(|view| view.seq(uid))
            .ok_or(ServerError::UnknownUid(uid.get()))?;
        let mut items = items;
        if with_uid && !items.iter().any(|i| matches!(i, MessageDataItem::Uid(_))) {
            items.insert(0, MessageDataItem::Uid(uid));
        }
        let items: List<MessageDataItem<'_>, 2> = items.into();
        self.data(Data::Fetch { seq, items });
        Ok(())
    }

    /// Remembers a SEARCH result for `$` (SEARCHRES, RFC 5182), as UIDs; it is forgotten
    /// when another mailbox is selected.
    pub fn save_search_result(&mut self, uids: Vec<NonZeroU32>) {
        self.saved = Some(uids);
    }

    /// The saved SEARCH result (SEARCHRES, RFC 5182), as UIDs: what `$` names. `None` when
    /// nothing was saved since the mailbox was selected (SELECT, EXAMINE, UNSELECT and CLOSE
    /// forget it, RFC 5182 section 2.1); the application passes it to
    /// [`SearchContext::saved`](crate::search::SearchContext::saved) for `$` in SEARCH keys.
    /// The machine resolves `$` in FETCH, STORE, COPY, MOVE and UID EXPUNGE itself.
    pub fn saved_search(&self) -> Option<&[NonZeroU32]> {
        self.saved.as_deref()
    }

    /// Accepts the pending [`Event::AppendStart`]: for a synchronising literal `+ Ready` goes
    /// out, and the data comes as [`Event::AppendData`], then [`Event::AppendEnd`].
    ///
    /// # Errors
    ///
    /// [`ServerError::WrongDecision`] unless an [`Event::AppendStart`] is pending.
    pub fn accept_append(&mut self) -> Result<(), ServerError> {
        match self.pending.take() {
            Some(Pending::AppendStart { sync, size }) => {
                self.timer.decided();
                if sync {
                    self.continuation("Ready for literal data");
                }
                self.start_append_data(size, false);
                Ok(())
            }
            other => self.misuse(other, "accept_append answers Event::AppendStart"),
        }
    }

    /// Answers a completed APPEND (after [`Event::AppendEnd`] with `last`): `OK [APPENDUID
    /// uid_validity uids] APPEND completed` (UIDPLUS, RFC 4315), `uids` in the order of the
    /// messages.
    ///
    /// # Errors
    ///
    /// [`ServerError::WrongDecision`] unless the APPEND's last message is in;
    /// [`ServerError::Invalid`] unless `uids` holds one UID per message (the decision stays
    /// pending).
    pub fn append_done(
        &mut self,
        uid_validity: NonZeroU32,
        uids: &[NonZeroU32],
    ) -> Result<(), ServerError> {
        if !matches!(self.pending, Some(Pending::AppendDone)) {
            let other = self.pending.take();
            return self.misuse(other, "append_done answers the end of an APPEND");
        }
        let messages = self.append.as_ref().map_or(0, |append| append.index + 1);
        if uids.len() != messages {
            // RFC 4315 section 3: one UID per message appended, in their order.
            return Err(ServerError::Invalid(
                "append_done needs one UID per message",
            ));
        }
        let set = uid_set(uids).ok_or(ServerError::Invalid("no UID"))?;
        self.pending = None;
        self.timer.decided();
        let Some(append) = self.append.take() else {
            return Err(ServerError::NoPendingDecision);
        };
        self.announce(Announce::All, false);
        self.tagged(
            &append.tag,
            StatusKind::Ok,
            Some(Code::AppendUid {
                uid_validity,
                uids: set,
            }),
            "APPEND completed",
        );
        Ok(())
    }

    /// The tagged answer to the pending command (`OK`, `NO` or `BAD`, with a code and text),
    /// after announcing the selected mailbox's queued changes as far as the command allows.
    /// Also refuses an APPEND: at its [`Event::AppendStart`], while its data arrives (the
    /// rest is then skipped) or at its end. A `NO` or `BAD` to SELECT or EXAMINE leaves no
    /// mailbox selected (their `OK` is [`Server::selected`]'s); CLOSE deselects the mailbox
    /// whatever the answer.
    ///
    /// # Errors
    ///
    /// [`ServerError::NoPendingDecision`] when no command waits for its answer,
    /// [`ServerError::WrongDecision`] for `OK` to SELECT or EXAMINE (the decision stays
    /// pending),
    /// [`ServerError::Invalid`] for a text the codec refuses (control octets) or a kind other
    /// than OK, NO, BAD.
    pub fn complete(
        &mut self,
        kind: StatusKind,
        code: Option<Code<'_>>,
        text: &str,
    ) -> Result<(), ServerError> {
        if !matches!(kind, StatusKind::Ok | StatusKind::No | StatusKind::Bad) {
            return Err(ServerError::Invalid("a tagged response is OK, NO or BAD"));
        }
        let text = Text::new(text.to_owned()).map_err(|_| ServerError::Invalid("text"))?;
        // The status response is built first, so that a bad code leaves the decision pending.
        let tag = match &self.pending {
            Some(Pending::Command(running))
                if running.select.is_some() && kind == StatusKind::Ok =>
            {
                // An OK without the mailbox's data would leave the client believing it
                // selected a mailbox the server never opened.
                return Err(ServerError::WrongDecision(
                    "SELECT and EXAMINE are answered OK by selected()",
                ));
            }
            Some(Pending::Command(running)) => running.tag.clone(),
            Some(Pending::AppendStart { .. } | Pending::AppendDone) => match &self.append {
                Some(append) => append.tag.clone(),
                None => return Err(ServerError::NoPendingDecision),
            },
            None => match &self.append {
                Some(append)
                    if !append.failed
                        && matches!(self.phase, Phase::AppendData { .. } | Phase::AppendRest) =>
                {
                    append.tag.clone()
                }
                _ => return Err(ServerError::NoPendingDecision),
            },
            Some(Pending::Auth { .. }) => {
                return Err(ServerError::WrongDecision(
                    "complete does not answer Event::AuthStep",
                ));
            }
        };
        let response = StatusResponse::tagged(tag, kind, code, Some(text))
            .map_err(|_| ServerError::Invalid("status response"))?;
        match self.pending.take() {
            Some(Pending::Command(running)) => {
                self.timer.decided();
                if running.save && kind != StatusKind::Ok {
                    self.saved = Some(Vec::new());
                }
                if running.close {
                    self.deselect();
                } else if running.select.is_some() {
                    // A failed SELECT leaves no mailbox selected (RFC 9051 section 6.3.2).
                    if kind != StatusKind::Ok || self.view.is_none() {
                        self.deselect();
                    }
                } else {
                    let allow = if running.no_expunge {
                        Announce::NoExpunge
                    } else {
                        Announce::All
                    };
                    self.announce(allow, running.uid);
                }
            }
            Some(Pending::AppendStart { sync, size }) => {
                self.timer.decided();
                if let Some(append) = &mut self.append {
                    append.failed = true;
                }
                if sync {
                    // The client sends no data without `+`.
                    self.phase = Phase::Command;
                    self.append = None;
                } else {
                    self.start_append_data(size, true);
                }
            }
            Some(Pending::AppendDone) => {
                self.timer.decided();
                self.append = None;
                self.announce(Announce::All, false);
            }
            None => {
                // Refused while its data arrives: the rest is skipped.
                if let Some(append) = &mut self.append {
                    append.failed = true;
                }
                if let Phase::AppendData { discard, .. } = &mut self.phase {
                    *discard = true;
                }
            }
            Some(other) => {
                self.pending = Some(other);
                return Err(ServerError::NoPendingDecision);
            }
        }
        self.emit(&Response::Status(response));
        Ok(())
    }

    /// A change to the selected mailbox, made by this session or another, as the store
    /// reports it: queued in the view and announced when the protocol allows (at once
    /// during IDLE). Ignored when no mailbox is selected. This session's own STORE is
    /// answered this way too (`* n FETCH (FLAGS ...)` at its completion); for `.SILENT`,
    /// do not report this session's own flag changes to it.
    ///
    /// # Errors
    ///
    /// The view's error for an inconsistent change (the view is unchanged). On
    /// [`ViewError::Overflow`] the session ends with `* BYE [ALERT]`
    /// ([`SessionError::ViewOverflow`]): the client must resynchronise.
    pub fn mailbox_changed(&mut self, change: Change) -> Result<(), ViewError> {
        if matches!(self.phase, Phase::Closed) {
            return Ok(());
        }
        let Some(view) = &mut self.view else {
            return Ok(());
        };
        match view.push(change) {
            Ok(()) => {
                self.announce_idle();
                Ok(())
            }
            Err(ViewError::Overflow) => {
                // Events not yet polled are dropped, then an APPEND in progress is reported
                // aborted: the application may hold part of a message.
                self.pending = None;
                self.events.clear();
                self.abort_append();
                self.close_with_code(
                    Code::Alert,
                    "Too many changes to the mailbox; reconnect to resynchronise",
                    SessionError::ViewOverflow,
                );
                Err(ViewError::Overflow)
            }
            Err(error) => Err(error),
        }
    }

    fn misuse<T>(&mut self, other: Option<Pending>, what: &'static str) -> Result<T, ServerError> {
        let none = other.is_none();
        self.pending = other;
        Err(if none {
            ServerError::NoPendingDecision
        } else {
            ServerError::WrongDecision(what)
        })
    }

    /// During IDLE, announces the queued changes at once, unless [`OUTPUT_HIGH_WATER`]
    /// octets wait to be written: a client that reads nothing then leaves them in the view
    /// (bounded by its [`ViewConfig`](crate::view::ViewConfig), whose overflow ends the
    /// session), and they go out once the driver has written the output.
    fn announce_idle(&mut self) {
        if matches!(self.phase, Phase::Idle { .. })
            && self.output.len() < OUTPUT_HIGH_WATER
            && (self.recent_stale || self.view.as_ref().is_some_and(MailboxView::has_pending))
        {
            self.announce(Announce::All, false);
        }
    }

    /// Flushes the view's queued changes as `allow` permits. To an IMAP4rev1 session a size
    /// change (EXISTS, EXPUNGE, VANISHED) is followed by `* n RECENT` when the number of
    /// messages recent to the session differs from the last one told (RFC 3501 section
    /// 7.3.2), right after the EXPUNGE and EXISTS block and before the FETCH responses, as
    /// Dovecot 2.3 sends it.
    fn announce(&mut self, allow: Announce, uid: bool) {
        let Some(view) = &mut self.view else {
            return;
        };
        let opts = AnnounceOptions {
            condstore: self.enabled.condstore,
            qresync: self.enabled.qresync,
            uid: uid || self.enabled.imap4rev2,
        };
        let mut out = Vec::new();
        view.announce(allow, opts, &mut out);
        if !self.enabled.imap4rev2 {
            let sized = out
                .iter()
                .rposition(|d| {
                    matches!(
                        d,
                        Data::Exists(_) | Data::Expunge(_) | Data::Vanished { .. }
                    )
                })
                .map(|at| at + 1);
            if let Some(at) = sized.or(self.recent_stale.then_some(0)) {
                let count = recent_count(&mut self.recent, view);
                if count != self.recent_told {
                    out.insert(at, Data::Recent(count));
                    self.recent_told = count;
                }
                self.recent_stale = false;
            }
        }
        let recent = !self.enabled.imap4rev2 && !self.recent.is_empty();
        for mut data in out {
            if let (true, Data::Fetch { seq, items }) = (recent, &mut data) {
                let is_recent = self
                    .view
                    .as_ref()
                    .and_then(|view| view.uid(*seq))
                    .is_some_and(|uid| self.recent.binary_search(&uid).is_ok());
                for item in items.iter_mut() {
                    if let (true, MessageDataItem::Flags(flags)) = (is_recent, item) {
                        flags.push(FlagFetch::Recent);
                    }
                }
            }
            self.data(data);
        }
    }

    /// Marks `uid` recent to this session (IMAP4rev1 `\Recent`, RFC 3501 section 2.3.2): a
    /// message that arrived while the mailbox is selected and that this session is the first
    /// to see. Its FLAGS the view announces then carry `\Recent`, and the `* n RECENT` that
    /// follows a size change counts it (RFC 3501 section 7.3.2).
    ///
    /// Call it BEFORE [`Server::mailbox_changed`] reports the message's
    /// [`Change::Added`]: the `* n EXISTS` that announces the message (at once during IDLE)
    /// is then followed by a `* n RECENT` that counts it. Called later, for a message the
    /// client already knows, the new count goes out at the next announcement (during IDLE
    /// at once) as a `* n RECENT` of its own. Nothing happens outside the selected state, nor for a UID the view no
    /// longer has (expunged) or never had below its UIDNEXT.
    pub fn mark_recent(&mut self, uid: NonZeroU32) {
        let Some(view) = &self.view else {
            return;
        };
        let known = view.seq(uid).is_some();
        if !known && uid < view.uid_next() {
            return;
        }
        if let Err(at) = self.recent.binary_search(&uid) {
            self.recent.insert(at, uid);
            if known && !self.enabled.imap4rev2 {
                self.recent_stale = true;
                self.announce_idle();
            }
        }
    }

    fn deselect(&mut self) {
        self.view = None;
        self.recent = Vec::new();
        self.recent_told = 0;
        self.recent_stale = false;
        self.read_only = false;
        self.saved = None;
        if self.state == State::Selected {
            self.state = State::Authenticated;
        }
    }

    fn condstore_offered(&self) -> bool {
        self.config
            .capabilities
            .iter()
            .any(|c| matches!(c, Capability::CondStore | Capability::QResync))
    }

    /// Whether credentials may be sent now.
    fn credentials_allowed(&self) -> bool {
        self.tls || self.config.allow_plaintext_auth
    }

    /// `[CAPABILITY ...]`.
    fn capability_code(&self) -> Code<'static> {
        let caps = self.capabilities();
        match NonEmpty::new(caps) {
            Ok(caps) => Code::Capability(caps),
            Err(_) => Code::Capability(NonEmpty::one(Capability::Imap4Rev1)),
        }
    }

    fn greeting(&mut self, kind: GreetingKind, code: Option<Code<'_>>, text: &str) {
        let text = Text::new(text.to_owned()).ok();
        let greeting =
            Greeting::new(kind, code.clone(), text).or_else(|_| Greeting::new(kind, code, None));
        if let Ok(greeting) = greeting {
            self.emit(&greeting);
        }
    }

    /// Encodes `value` onto the output, through one reused buffer. Under UTF8=ACCEPT or
    /// IMAP4rev2 quoted strings may carry UTF-8 (RFC 6855 section 3, RFC 9051 section 4.3).
    fn emit(&mut self, value: &impl Encode) {
        let options = EncodeOptions {
            utf8: self.enabled.utf8_accept || self.enabled.imap4rev2,
            ..EncodeOptions::default()
        };
        let mut writer = Writer::with_buffer(std::mem::take(&mut self.scratch), options);
        value.encode(&mut writer);
        let mut bytes = writer.finish().into_bytes();
        self.output.extend_from_slice(&bytes);
        bytes.clear();
        if bytes.capacity() <= IDLE_BUFFER {
            self.scratch = bytes;
        }
    }

    fn data(&mut self, data: Data<'_>) {
        self.emit(&Response::Data(data));
    }

    fn continuation(&mut self, text: &str) {
        let text = Text::new(text.to_owned()).ok();
        if let Ok(go) = ContinuationText::new(None, text) {
            self.emit(&Response::Continuation(Continuation::Text(go)));
        }
    }

    fn status<'x>(
        &mut self,
        tag: Option<&Tag<'x>>,
        kind: StatusKind,
        code: Option<Code<'x>>,
        text: &str,
    ) {
        // Every text the machine writes is its own or a parse error's description (ASCII,
        // no CR or LF); an empty or refused one goes out as no text.
        let text = Text::new(text.to_owned()).ok();
        let response = match tag {
            Some(tag) => StatusResponse::tagged(tag.clone(), kind, code, text),
            None => StatusResponse::untagged(kind, code, text),
        };
        if let Ok(response) = response {
            self.emit(&Response::Status(response));
        }
    }

    fn tagged<'x>(&mut self, tag: &Tag<'x>, kind: StatusKind, code: Option<Code<'x>>, text: &str) {
        self.status(Some(tag), kind, code, text);
    }

    fn untagged_ok(&mut self, code: Code<'_>, text: &str) {
        self.status(None, StatusKind::Ok, Some(code), text);
    }

    /// `tag BAD text` (or `* BAD` without a tag), counted; past the limit the session ends.
    fn bad(&mut self, tag: Option<&Tag<'_>>, text: &str) {
        self.status(tag, StatusKind::Bad, None, text);
        self.count_error();
    }

    fn count_error(&mut self) {
        self.errors = self.errors.saturating_add(1);
        if self.errors > self.config.max_errors {
            self.abort_append();
            self.close_with("Too many invalid commands", SessionError::TooManyErrors);
        }
    }

    fn close_with(&mut self, text: &str, reason: SessionError) {
        self.status(None, StatusKind::Bye, None, text);
        self.close_silently(Err(reason));
    }

    fn close_with_code(&mut self, code: Code<'_>, text: &str, reason: SessionError) {
        self.status(None, StatusKind::Bye, Some(code), text);
        self.close_silently(Err(reason));
    }

    fn close_silently(&mut self, ending: Result<(), SessionError>) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        // Whatever ends the session, an APPEND in progress is reported aborted first.
        self.abort_append();
        self.phase = Phase::Closed;
        self.state = State::Logout;
        self.pending = None;
        self.held = None;
        self.input.clear();
        self.ahead.clear();
        self.ahead_bytes = 0;
        self.events.push_back(Event::Closed(ending));
    }
}

/// Whether the machine alone announces `cap`, by state, TLS and its configuration: listed in
/// [`ServerConfig::capabilities`] it is ignored, so that a session never claims STARTTLS
/// after TLS, `AUTH=` before it or after login, or a literal, IMAP4rev2, NAMESPACE or
/// APPENDLIMIT rule it does not apply.
fn machine_decides(cap: &Capability<'_>) -> bool {
    matches!(
        cap,
        Capability::Imap4Rev2
            | Capability::Auth(_)
            | Capability::LoginDisabled
            | Capability::StartTls
            | Capability::SaslIr
            | Capability::LiteralPlus
            | Capability::LiteralMinus
            | Capability::Namespace
            | Capability::AppendLimit(_)
    )
}

/// The UID set of `uids` (in their order, consecutive runs as ranges).
fn uid_set(uids: &[NonZeroU32]) -> Option<UidSet> {
    let mut items: List<Sequence> = List::new();
    let mut iter = uids.iter().copied();
    let first = iter.next()?;
    let (mut start, mut end) = (first, first);
    for uid in iter {
        if end.get().checked_add(1) == Some(uid.get()) {
            end = uid;
        } else {
            items.push(run(start, end));
            (start, end) = (uid, uid);
        }
    }
    items.push(run(start, end));
    UidSet::new(SequenceSet::new(items).ok()?).ok()
}

fn run(start: NonZeroU32, end: NonZeroU32) -> Sequence {
    if start == end {
        Sequence::Single(SeqOrUid::Value(start))
    } else {
        Sequence::Range(SeqOrUid::Value(start), SeqOrUid::Value(end))
    }
}

mail_wire::delegate_session!(Server {
    Event = Event,
    Error = SessionError,
    Misuse = ServerError,
    StartTls = Event::StartTls,
    Closed = Event::Closed,
    also = [feed_buf, handle_connection_lost],
});

/// The messages recent to the session that the client knows (the `n` of `* n RECENT`), once
/// `recent` is rid of those whose expunge was announced: what remains is either in the view
/// or at or above its UIDNEXT (marked before its `Change::Added` was announced).
fn recent_count(recent: &mut Vec<NonZeroU32>, view: &MailboxView) -> u32 {
    let next = view.uid_next();
    recent.retain(|&uid| uid >= next || view.seq(uid).is_some());
    let known = recent.partition_point(|&uid| uid < next);
    u32::try_from(known).unwrap_or(u32::MAX)
}
