//! The SMTP and LMTP server state machine.
//!
//! [`Server`] runs one session: it frames and parses what the client sends, answers
//! everything that is protocol (syntax, sequence, limits, EHLO capabilities, STARTTLS, the
//! SASL exchange), and hands every policy decision to the application as an [`Event`]: who may
//! say HELO, which senders and recipients are accepted, whether a message is taken. It never
//! touches a socket, a clock or a random number generator; time is an argument and
//! randomness (the SCRAM nonce) comes from the caller.
//!
//! # The driver loop
//!
//! ```
//! use std::time::Instant;
//! use smtp_proto::server::{Event, Server, ServerConfig};
//!
//! let now = Instant::now();
//! let mut server = Server::new(ServerConfig::default(), now);
//! let mut wire = Vec::new(); // what we would write to the socket
//! let mut message = Vec::new();
//!
//! let client_sends: [&[u8]; 3] = [
//!     b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n",
//!     b"DATA\r\n",
//!     b"Subject: hi\r\n\r\n..stuffed\r\n.\r\nQUIT\r\n",
//! ];
//! for bytes in client_sends {
//!     server.feed(now, bytes);
//!     while let Some(event) = server.poll_event() {
//!         match event {
//!             Event::Hello { .. } | Event::Mail { .. } | Event::Rcpt { .. } => server.accept()?,
//!             Event::BodyChunk(chunk) => message.extend_from_slice(&chunk),
//!             Event::BodyEnd { .. } => server.accept()?, // after storing the message durably
//!             _ => {}
//!         }
//!     }
//!     while let Some(bytes) = server.poll_transmit() {
//!         wire.extend_from_slice(&bytes);
//!     }
//! }
//! assert_eq!(message, b"Subject: hi\r\n\r\n.stuffed\r\n");
//! assert!(wire.ends_with(b"250 2.0.0 Message accepted\r\n221 2.0.0 Bye\r\n"));
//! assert!(server.is_closed());
//! # Ok::<(), smtp_proto::server::ServerError>(())
//! ```
//!
//! A real driver also writes what [`Server::poll_transmit`] returns before it reads again,
//! reads only while [`Server::wants_input`] is true (this is the backpressure that bounds
//! memory), calls [`Server::handle_timeout`] when [`Server::poll_timeout`] is due (after a
//! decision it is due at once: that call is where the client's idle time restarts), and does
//! the TLS handshake when it sees [`Event::StartTls`].
//!
//! # What the machine answers by itself
//!
//! | situation | reply |
//! |---|---|
//! | unknown command | `500 5.5.2` |
//! | syntax error in arguments | `501 5.5.4` (`553 5.6.7` for UTF-8 without SMTPUTF8) |
//! | command line too long | `500 5.5.2 Line too long` (RFC 5321 section 4.5.3.1.4) |
//! | bad sequence (MAIL before HELO, RCPT before MAIL, DATA without recipients...) | `503 5.5.1`, or `554 5.5.1` for DATA without valid recipients (RFC 2920 section 3.1; `503 5.5.1` in LMTP, RFC 2033 section 4.2) |
//! | MAIL before STARTTLS when TLS is required | `530 5.7.0` (RFC 3207 section 4) |
//! | MAIL before AUTH when AUTH is required | `530 5.7.0` (RFC 4954 section 6) |
//! | declared or actual size over the limit | `552 5.3.4` (RFC 1870), after draining the body |
//! | too many recipients | `452 4.5.3` (RFC 5321 section 4.5.3.1.10; advertised as `LIMITS RCPTMAX`, RFC 9422) |
//! | too many errors | `421 4.7.0` and close |
//! | timeout | `421 4.4.2` and close |
//! | VRFY | `252 2.5.0` (RFC 5321 section 3.5.3) |
//! | EXPN, ETRN | `502 5.5.1` |
//! | commands pipelined after STARTTLS | `421 4.7.0` and close (RFC 3207 section 4.2, CVE-2011-0411) |
//! | a BDAT line whose chunk cannot be found (unreadable size, too long, bare LF) | `421 4.5.4` and close: the chunk's octets must not run as commands (RFC 3030 section 2) |
//! | BDAT chunks pipelined after a refused chunk | `503 5.5.1 Chunk discarded`, not counted as an error (RFC 3030 section 2) |
//! | any MAIL or RCPT parameter after HELO (no extension is in effect) | `555 5.5.4` (RFC 5321 section 4.1.1.11) |
//!
//! Every negative reply, the machine's or the application's, counts toward
//! [`ServerConfig::max_errors`]; the error after the limit is answered with `421 4.7.0` and
//! the session closes. Two kinds of refusal are the protocol working, not client mistakes,
//! and do not count: `452 4.5.3` for recipients past `max_recipients` (up to 1000 of them per
//! transaction, Postfix's `smtpd_recipient_overshoot_limit`), and the `503` for BDAT chunks
//! already pipelined after a refused chunk (RFC 3030 section 2).

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use mail_wire::Secret;
use mail_wire::dot::{BareLineEnding, BodyError, DotDecoder, DotEvent};
use mail_wire::line::{BareLf, Frame, FrameRef, LineFramer};
use mail_wire::sasl::framing::{self, Response};
use mail_wire::sasl::{
    Authenticated, Authenticator, Mechanism, Nonce, SaslError, ServerSession, ServerStep,
};

use crate::command::{Body, Command, MailParams, ParseOptions, RcptParams};
use crate::error::CommandError;
use crate::reply::{Capabilities, Reply};
use crate::types::{Domain, ForwardPath, Host, ReversePath};

/// Longest AUTH command line a server must accept: 12288 octets (RFC 4954 section 4).
pub const AUTH_LINE_LIMIT: usize = 12288;

/// Which protocol the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// SMTP and ESMTP (RFC 5321): HELO or EHLO, one reply after the message.
    #[default]
    Smtp,
    /// LMTP (RFC 2033): LHLO only, one reply per accepted recipient after the message.
    Lmtp,
}

/// The server's configuration: its name, limits, TLS and AUTH policy and extensions.
///
/// `#[non_exhaustive]`: start from [`Default`] (a relay on port 25 with STARTTLS off) or one
/// of the listener presets and set fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The name in the greeting and the EHLO reply. Default `localhost`.
    pub hostname: Domain<'static>,
    /// SMTP or LMTP.
    pub mode: Mode,
    /// Longest command line, CRLF included: 2048 (Postfix `line_length_limit`; RFC 5321
    /// section 4.5.3.1.4 sets 512 as the minimum and lets extensions raise it). While AUTH is
    /// available the limit is at least [`AUTH_LINE_LIMIT`].
    pub max_line_len: usize,
    /// Largest message in octets, advertised as `SIZE` (RFC 1870): 10,240,000 (Postfix
    /// `message_size_limit`). Enforced while the body streams.
    pub max_message_size: u64,
    /// Most recipients per transaction: 100, the minimum RFC 5321 section 4.5.3.1.8 requires a
    /// server to buffer. Advertised as `LIMITS RCPTMAX` (RFC 9422).
    pub max_recipients: usize,
    /// Negative replies tolerated before the session is closed with `421`: 20 (Postfix
    /// `smtpd_hard_error_limit`).
    pub max_errors: u32,
    /// Most unprocessed input held at once: 1 MiB. A driver that reads only while
    /// [`Server::wants_input`] holds never comes near it; input beyond it closes the session.
    pub max_buffered_input: usize,
    /// How long to wait for the next command: 5 minutes (RFC 5321 section 4.5.3.2.7). A
    /// timeout too long for an `Instant` to represent (`Duration::MAX`) never expires.
    pub command_timeout: Duration,
    /// How long to wait for the next piece of a message body: 5 minutes (RFC 5321 section
    /// 4.5.3.2.7; the client's data block timeout of 4.5.3.2.5 is 3 minutes).
    pub data_timeout: Duration,
    /// Hold the greeting back this long and report a client that talks first
    /// ([`Event::EarlyTalker`]), as Postfix's postscreen greet pause does. Default `None`: the
    /// greeting is queued at once.
    pub greeting_delay: Option<Duration>,
    /// Bare CR or LF inside DATA: [`BareLineEnding::Normalize`] (Postfix 3.9
    /// `smtpd_forbid_bare_newline = normalize`). Never part of the end marker whatever the
    /// policy (RFC 5321 section 2.3.8, SMTP smuggling).
    pub bare_line_ending: BareLineEnding,
    /// Command lines ending in a bare LF: [`BareLf::Reject`] with `500 5.5.2` (RFC 5321
    /// section 2.3.8).
    pub bare_lf_in_commands: BareLf,
    /// Offer STARTTLS (RFC 3207). The driver must be able to do the handshake. Default off.
    pub starttls: bool,
    /// The connection is already TLS (implicit TLS, RFC 8314): no STARTTLS, AUTH allowed.
    pub implicit_tls: bool,
    /// Refuse MAIL and AUTH before TLS with `530 5.7.0` (RFC 3207 section 4). Default off.
    pub require_tls: bool,
    /// SASL mechanisms to offer, strongest first. Empty (the default): no AUTH.
    pub auth_mechanisms: Vec<Mechanism>,
    /// Refuse MAIL before a successful AUTH with `530 5.7.0` (submission, RFC 6409 section
    /// 4.3). Default off.
    pub require_auth: bool,
    /// Offer and accept AUTH before TLS. Default off (docs/design.md security rule 3; RFC 4954
    /// section 4 and RFC 8314 want credentials protected).
    pub allow_plaintext_auth: bool,
    /// Offer `CHUNKING` and `BINARYMIME` (RFC 3030). Default on.
    pub chunking: bool,
    /// Offer `8BITMIME` (RFC 6152). Default on.
    pub eight_bit_mime: bool,
    /// Offer `SMTPUTF8` (RFC 6531). Default on.
    pub smtputf8: bool,
    /// Offer `DSN` (RFC 3461) and accept its parameters. Default off: the application must
    /// generate delivery status notifications to offer it.
    pub dsn: bool,
    /// Offer `REQUIRETLS` (RFC 8689) on TLS sessions. Default off: the application must
    /// honour it when relaying.
    pub requiretls: bool,
    /// Pass MAIL and RCPT parameters this crate does not know to the application instead of
    /// answering `555 5.5.4` (RFC 5321 section 4.1.1.11). Default off.
    pub accept_unknown_parameters: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            hostname: Domain::from_parsed("localhost"),
            mode: Mode::Smtp,
            max_line_len: 2048,
            max_message_size: 10_240_000,
            max_recipients: 100,
            max_errors: 20,
            max_buffered_input: 1 << 20,
            command_timeout: Duration::from_secs(300),
            data_timeout: Duration::from_secs(300),
            greeting_delay: None,
            bare_line_ending: BareLineEnding::Normalize,
            bare_lf_in_commands: BareLf::Reject,
            starttls: false,
            implicit_tls: false,
            require_tls: false,
            auth_mechanisms: Vec::new(),
            require_auth: false,
            allow_plaintext_auth: false,
            chunking: true,
            eight_bit_mime: true,
            smtputf8: true,
            dsn: false,
            requiretls: false,
            accept_unknown_parameters: false,
        }
    }
}

impl ServerConfig {
    /// A relay (MX) listener, port 25: STARTTLS offered, no AUTH.
    pub fn relay(hostname: Domain<'static>) -> Self {
        ServerConfig {
            hostname,
            starttls: true,
            ..ServerConfig::default()
        }
    }

    /// A submission listener, port 587 (RFC 6409): STARTTLS required, then AUTH with
    /// SCRAM-SHA-256, PLAIN or LOGIN required before MAIL.
    pub fn submission(hostname: Domain<'static>) -> Self {
        ServerConfig {
            hostname,
            starttls: true,
            require_tls: true,
            require_auth: true,
            auth_mechanisms: vec![Mechanism::ScramSha256, Mechanism::Plain, Mechanism::Login],
            ..ServerConfig::default()
        }
    }

    /// A submissions listener, port 465 (RFC 8314): the connection is TLS from the first byte,
    /// AUTH required before MAIL.
    pub fn submissions(hostname: Domain<'static>) -> Self {
        ServerConfig {
            implicit_tls: true,
            starttls: false,
            require_tls: false,
            ..ServerConfig::submission(hostname)
        }
    }

    /// An LMTP listener (RFC 2033).
    pub fn lmtp(hostname: Domain<'static>) -> Self {
        ServerConfig {
            hostname,
            mode: Mode::Lmtp,
            ..ServerConfig::default()
        }
    }
}

/// Which greeting command the client used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HelloVerb {
    /// `HELO`: plain SMTP, no extensions.
    Helo,
    /// `EHLO`: extended SMTP.
    Ehlo,
    /// `LHLO`: LMTP.
    Lhlo,
}

/// How the message body arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyTransfer {
    /// `DATA`, dot-stuffed, ended by CRLF "." CRLF; the machine unstuffs it.
    Data,
    /// `BDAT` chunks (RFC 3030), passed through unchanged.
    Bdat,
}

/// Why a session ended other than by `QUIT`: the `Err` of [`Event::Closed`], whose `Ok(())`
/// means the client sent QUIT and got `221`. The same shape as the client's
/// [`SessionError`](crate::client::SessionError) (see [`mail_wire::session::Ending`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The client closed the connection ([`Server::handle_eof`]). `in_transaction` says
    /// whether a mail transaction was open (its message, if any, is lost and was never
    /// acknowledged).
    #[error("{}", if *.in_transaction {
        "client closed the connection during a transaction"
    } else {
        "client closed the connection"
    })]
    PeerClosed {
        /// Whether MAIL had been accepted and the transaction not finished.
        in_transaction: bool,
    },
    /// Too many negative replies ([`ServerConfig::max_errors`]).
    #[error("too many errors")]
    TooManyErrors,
    /// The client was silent past the deadline.
    #[error("timeout")]
    Timeout,
    /// Bytes arrived after STARTTLS and before the TLS handshake (RFC 3207 section 4.2).
    #[error("plaintext after STARTTLS")]
    StartTlsInjection,
    /// A BDAT command whose chunk size cannot be read: the stream cannot be followed.
    #[error("unreadable BDAT chunk size")]
    Desynchronised,
    /// More unprocessed input than [`ServerConfig::max_buffered_input`].
    #[error("too much unprocessed input")]
    InputOverflow,
    /// The application called [`Server::shutdown`] or [`Server::close`].
    #[error("server shutting down")]
    Shutdown,
}

/// Something the application must decide or may want to know.
///
/// Events marked *decision* wait for [`Server::accept`], [`Server::accept_with`],
/// [`Server::reject`] (or [`Server::reply_each`] in LMTP); until then the session processes
/// no further input. The others are information.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// *Decision*: HELO, EHLO or LHLO. Accepting answers with the capabilities (EHLO, LHLO)
    /// or a `250` greeting (HELO) and resets any transaction.
    Hello {
        /// The verb used.
        verb: HelloVerb,
        /// The name the client gave.
        host: Host<'static>,
    },
    /// *Decision*: MAIL FROM, already checked for sequence, TLS and AUTH requirements and
    /// size. Accepting opens a transaction (`250 2.1.0`).
    Mail {
        /// The reverse path.
        from: ReversePath<'static>,
        /// Its parameters.
        params: MailParams<'static>,
    },
    /// *Decision*: RCPT TO, already checked for sequence and the recipient limit. Accepting
    /// adds the recipient (`250 2.1.5`).
    Rcpt {
        /// The forward path.
        to: ForwardPath<'static>,
        /// Its parameters.
        params: RcptParams<'static>,
    },
    /// The body begins: `354` was sent (DATA) or the first BDAT chunk arrives.
    BodyStart {
        /// DATA or BDAT.
        transfer: BodyTransfer,
    },
    /// The next piece of the body (unstuffed for DATA), in order.
    BodyChunk(Bytes),
    /// The body was refused while it streamed: discard what you received. The machine drains
    /// the rest and answers (`552 5.3.4` for size, `550 5.6.0` for bare CR or LF). No
    /// [`Event::BodyEnd`] follows.
    BodyAborted(BodyError),
    /// *Decision*: the body is complete. Accept only once the message is stored durably (the
    /// `250` is the promise to deliver, RFC 5321 section 6.1). In LMTP, answer with
    /// [`Server::reply_each`], one reply per accepted recipient, or accept or reject all.
    BodyEnd {
        /// The body size in octets, as received (unstuffed).
        size: u64,
        /// How many recipients were accepted.
        recipients: usize,
    },
    /// *Decision*: the SASL exchange needs the application's credentials. Call
    /// [`Server::auth_step`] (or [`Server::reject`] to refuse the exchange).
    AuthStep {
        /// The mechanism in use.
        mechanism: Mechanism,
    },
    /// The client authenticated (`235` was sent).
    Authenticated(Authenticated),
    /// An authentication exchange failed; the reply (`535 5.7.8`, `501`...) was sent.
    AuthFailed {
        /// The mechanism that was tried.
        mechanism: Mechanism,
        /// Why it failed (for logs and rate limiting; it never carries a secret).
        error: SaslError,
    },
    /// `220` to STARTTLS is queued: write everything [`Server::poll_transmit`] returns, do the
    /// TLS handshake, then call [`Server::tls_established`]. Any byte received before that
    /// closes the session.
    StartTls,
    /// The client sent data before the greeting (see [`ServerConfig::greeting_delay`]); a
    /// well-behaved client waits. The session goes on unless the application closes it.
    EarlyTalker,
    /// The session is over: write what remains in [`Server::poll_transmit`] and close.
    /// `Ok(())` after QUIT was answered with `221`; otherwise why it ended.
    Closed(Result<(), SessionError>),
}

/// API misuse: a call that does not fit the session's state. The peer cannot cause these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// No event is waiting for a decision.
    #[error("no decision is pending")]
    NoPendingDecision,
    /// The call does not fit the pending decision (for example `auth_step` for a MAIL event).
    #[error("{0}")]
    WrongDecision(&'static str),
    /// [`Server::reject`] with a positive reply, or [`Server::accept_with`] with a negative one.
    #[error("reply code {0} does not fit the call")]
    WrongReplyClass(u16),
    /// [`Server::reply_each`] with a number of replies other than the accepted recipients.
    #[error("expected {expected} replies, one per accepted recipient, got {got}")]
    ReplyCount {
        /// Accepted recipients.
        expected: usize,
        /// Replies given.
        got: usize,
    },
    /// [`Server::tls_established`] without a preceding [`Event::StartTls`].
    #[error("no STARTTLS handshake is pending")]
    NoTlsPending,
}

/// What the pending decision is about, with what the machine needs to carry it out.
#[derive(Debug)]
enum Pending {
    Hello(HelloVerb),
    Mail {
        params: TxnParams,
    },
    Rcpt,
    BodyEnd,
    Auth {
        mechanism: Mechanism,
        session: Option<ServerSession>,
        response: Option<Secret<Vec<u8>>>,
    },
}

#[derive(Debug, Clone, Copy)]
struct TxnParams {
    binary: bool,
    smtputf8: bool,
}

/// An open mail transaction (MAIL accepted).
#[derive(Debug)]
struct Transaction {
    params: TxnParams,
    recipients: usize,
    /// RCPTs refused with `452` because `max_recipients` was reached.
    overshoot: usize,
    transfer: Option<BodyTransfer>,
    received: u64,
}

/// RCPTs past `max_recipients` answered `452` in one transaction before they count toward
/// `max_errors`: Postfix's `smtpd_recipient_overshoot_limit`.
const RECIPIENT_OVERSHOOT: usize = 1000;

/// What the framer found at the front of the input in the command phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    /// A CRLF line (its text is in `Server::line`).
    Line,
    /// A line ending in a bare LF; `bdat` when it starts with that verb.
    BareLf { bdat: bool },
    /// A line over the limit, skipped; `bdat` when it starts with that verb.
    TooLong { bdat: bool },
    /// Any other frame.
    Other,
}

#[derive(Debug)]
enum Phase {
    /// Waiting for the greeting delay to pass.
    /// `until` is `None` for a delay too long to represent: the greeting never comes.
    PreGreeting { until: Option<Instant> },
    /// Reading command lines.
    Command,
    /// Reading a DATA body through the dot decoder.
    Data,
    /// Reading a BDAT chunk: `remaining` octets still to come.
    Bdat {
        remaining: u64,
        last: bool,
        /// The chunk is being discarded; send this reply when it has been read.
        discard: Option<Discarded>,
    },
    /// Waiting for the client's next SASL response line.
    AuthResponse {
        mechanism: Mechanism,
        session: ServerSession,
    },
    /// `220` to STARTTLS queued; waiting for [`Server::tls_established`].
    TlsHandoff,
    /// Final reply queued; nothing more is read.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Discarded {
    /// BDAT out of sequence.
    BadSequence,
    /// A chunk pipelined after a refused chunk of the same message (RFC 3030 section 2).
    AfterRefusal,
    /// BDAT pushed the message over the size limit.
    TooLarge,
}

/// One SMTP or LMTP server session; see the [module docs](self).
pub struct Server {
    config: ServerConfig,
    input: BytesMut,
    /// The command line being handled, copied out of `input` (see [`Server::step`]).
    line: Vec<u8>,
    output: BytesMut,
    framer: LineFramer,
    dot: DotDecoder,
    phase: Phase,
    pending: Option<Pending>,
    events: VecDeque<Event>,
    hello: Option<HelloVerb>,
    tls: bool,
    authenticated: Option<Authenticated>,
    txn: Option<Transaction>,
    errors: u32,
    /// When the client last sent something (or the session last started over); the
    /// deadline is this plus the timeout of the phase the session waits in.
    idle_since: Instant,
    /// A decision was answered since the last input: the idle time restarts at the next
    /// [`Server::handle_timeout`] (the machine has no clock; the reply is being sent then), so
    /// a slow decision does not eat into the client's time to send its next command.
    idle_restart: bool,
    early_talker_reported: bool,
    shutting_down: bool,
    /// A BDAT chunk was refused and only BDAT commands followed: more chunks may still be in
    /// the client's pipeline (RFC 3030 section 2).
    bdat_refused: bool,
}

/// The line ending of every reply.
const CRLF: &[u8] = b"\r\n";

impl fmt::Debug for Server {
    // The buffers are left out: the input and the last command line can hold an AUTH line
    // or a SASL response, that is credentials (docs/design.md section 3).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("phase", &self.phase)
            .field("tls", &self.tls)
            .field("hello", &self.hello)
            .field("authenticated", &self.authenticated)
            .field("transaction", &self.txn)
            .field("pending", &self.pending)
            .field("errors", &self.errors)
            .field("buffered_input", &self.input.len())
            .field("buffered_output", &self.output.len())
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts a session at `now`. The greeting is queued at once, or after
    /// [`ServerConfig::greeting_delay`].
    pub fn new(config: ServerConfig, now: Instant) -> Self {
        let framer = LineFramer::new(config.max_line_len).with_bare_lf(config.bare_lf_in_commands);
        let dot = DotDecoder::new(config.bare_line_ending, config.max_message_size);
        let mut server = Server {
            framer,
            dot,
            phase: Phase::Command,
            input: BytesMut::new(),
            line: Vec::new(),
            output: BytesMut::new(),
            pending: None,
            events: VecDeque::new(),
            hello: None,
            tls: config.implicit_tls,
            authenticated: None,
            txn: None,
            errors: 0,
            idle_since: now,
            idle_restart: false,
            early_talker_reported: false,
            shutting_down: false,
            bdat_refused: false,
            config,
        };
        match server.config.greeting_delay {
            Some(delay) if !delay.is_zero() => {
                server.phase = Phase::PreGreeting {
                    until: now.checked_add(delay),
                };
            }
            _ => server.queue_greeting(),
        }
        server.update_line_limit();
        server
    }

    /// The configuration in force.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Whether the session is protected by TLS (implicit, or after STARTTLS).
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The outcome of a successful AUTH in this session, if any.
    pub fn authenticated(&self) -> Option<&Authenticated> {
        self.authenticated.as_ref()
    }

    /// The greeting command the client used, if it has been accepted.
    pub fn hello(&self) -> Option<HelloVerb> {
        self.hello
    }

    /// Whether a mail transaction is open (MAIL accepted, not yet finished or reset).
    pub fn in_transaction(&self) -> bool {
        self.txn.is_some()
    }

    /// Hands the machine bytes received from the client. Never fails: whatever the client
    /// sends becomes events and replies. Input is processed by [`Server::poll_event`].
    pub fn feed(&mut self, now: Instant, bytes: &[u8]) {
        if self.admit(now, bytes.len()) {
            self.input.extend_from_slice(bytes);
        }
    }

    /// [`Server::feed`] for the buffer a driver reads into: takes every byte of `buf`, leaving
    /// it empty. When the session holds no unprocessed input, the bytes are not copied: the
    /// session takes `buf`'s storage and hands back its own, empty. For a driver that reads
    /// only while [`Server::wants_input`] is true that is the usual case: all that stays
    /// buffered between reads is a partial command line, or inside a body a CR or a possible
    /// start of the end marker (at most four octets), and then the new bytes are appended. A
    /// message body thus reaches the application (as [`Event::BodyChunk`]) mostly in slices
    /// of the very buffer the socket read filled.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use smtp_proto::server::{Server, ServerConfig};
    /// use std::time::Instant;
    ///
    /// let now = Instant::now();
    /// let mut server = Server::new(ServerConfig::default(), now);
    /// while server.poll_transmit().is_some() {} // the greeting
    /// let mut read_buf = BytesMut::from(&b"NOOP\r\n"[..]); // socket.read_buf() in real code
    /// server.feed_buf(now, &mut read_buf);
    /// assert!(read_buf.is_empty());
    /// while server.poll_event().is_some() {}
    /// assert_eq!(&server.poll_transmit().unwrap()[..], b"250 2.0.0 Ok\r\n");
    /// ```
    pub fn feed_buf(&mut self, now: Instant, buf: &mut BytesMut) {
        if self.admit(now, buf.len()) {
            if self.input.is_empty() {
                std::mem::swap(&mut self.input, buf);
            } else {
                self.input.extend_from_slice(buf);
            }
        }
        buf.clear();
    }

    /// The checks of [`Server::feed`] for `len` new bytes: whether to keep them.
    fn admit(&mut self, now: Instant, len: usize) -> bool {
        if len == 0 {
            return false;
        }
        match self.phase {
            Phase::Closed => return false,
            Phase::TlsHandoff => {
                // RFC 3207 section 4.2: the next bytes must be the TLS handshake, not
                // plaintext that a man in the middle slipped in.
                self.close_silently(Err(SessionError::StartTlsInjection));
                return false;
            }
            Phase::PreGreeting { .. } => self.report_early_talker(),
            _ => {}
        }
        if self.input.len() + len > self.config.max_buffered_input {
            self.input.clear();
            self.close_with(
                b"421 4.7.0 Too much pipelined input, closing connection",
                SessionError::InputOverflow,
            );
            return false;
        }
        self.idle_since = now;
        self.idle_restart = false;
        true
    }

    /// The client closed its side of the connection: the session ends. A transaction that was
    /// open is abandoned, never acknowledged.
    pub fn handle_eof(&mut self) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        let in_transaction = self.txn.is_some();
        self.txn = None;
        self.pending = None;
        self.phase = Phase::Closed;
        self.input.clear();
        self.events
            .push_back(Event::Closed(Err(SessionError::PeerClosed {
                in_transaction,
            })));
    }

    /// The next event, or `None` when the machine needs more input or waits for a decision.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Some(event);
            }
            if self.pending.is_some() {
                return None;
            }
            if !self.step() {
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

    /// When [`Server::handle_timeout`] must be called, if the session is waiting for the
    /// client. `None` while a decision is pending or after the session closed. Right after a
    /// decision it is due at once: the machine has no clock, and that call restarts the
    /// client's idle time, so a slow decision does not shorten it (RFC 5321 section
    /// 4.5.3.2.7 times the wait for the next command).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Closed | Phase::TlsHandoff => None,
            Phase::PreGreeting { until } => until,
            _ if self.pending.is_some() => None,
            // Due at once: `handle_timeout` restarts the idle time after a decision.
            _ if self.idle_restart => Some(self.idle_since),
            _ => self.deadline(),
        }
    }

    /// The idle deadline: the data timeout while a body is expected, the command timeout
    /// otherwise, counted from the last input. `None` for a timeout too long to represent,
    /// which never expires.
    fn deadline(&self) -> Option<Instant> {
        let timeout = match self.phase {
            Phase::Data | Phase::Bdat { .. } => self.config.data_timeout,
            _ => self.config.command_timeout,
        };
        self.idle_since.checked_add(timeout)
    }

    /// Tells the machine the time; if a deadline has passed it acts (sends the delayed
    /// greeting, or closes an idle session with `421 4.4.2`).
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.phase {
            Phase::PreGreeting { until: Some(until) } if now >= until => {
                self.phase = Phase::Command;
                self.queue_greeting();
                self.idle_since = now;
            }
            Phase::Closed | Phase::TlsHandoff | Phase::PreGreeting { .. } => {}
            _ if self.pending.is_some() => {}
            _ if self.idle_restart => {
                self.idle_since = now;
                self.idle_restart = false;
            }
            _ => {
                if self.deadline().is_some_and(|deadline| now >= deadline) {
                    let text = format!(
                        "421 4.4.2 {} Error: timeout exceeded, closing connection",
                        self.config.hostname
                    );
                    self.close_with(text.as_bytes(), SessionError::Timeout);
                }
            }
        }
    }

    /// Whether the driver should read more input now: no decision is pending, the session is
    /// open and not in the middle of a TLS hand-off, and the buffered input has all been
    /// processed. Reading only then bounds the memory a client can make the session use.
    pub fn wants_input(&self) -> bool {
        self.pending.is_none()
            && self.events.is_empty()
            && !matches!(self.phase, Phase::Closed | Phase::TlsHandoff)
    }

    /// Whether the session has ended: close the connection once [`Server::poll_transmit`]
    /// returns `None`.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// Accepts the pending decision with the default positive reply.
    ///
    /// # Errors
    ///
    /// [`ServerError::NoPendingDecision`], or [`ServerError::WrongDecision`] for an
    /// [`Event::AuthStep`] (use [`Server::auth_step`]).
    pub fn accept(&mut self) -> Result<(), ServerError> {
        self.decide(None, true)
    }

    /// Accepts the pending MAIL, RCPT or message with this positive (2xx) reply, for example
    /// to name the queue id. For HELO and EHLO the capability reply is always used.
    ///
    /// # Errors
    ///
    /// As [`Server::accept`], and [`ServerError::WrongReplyClass`] for a reply that is not 2xx.
    pub fn accept_with(&mut self, reply: Reply<'_>) -> Result<(), ServerError> {
        if !reply.code().is_positive() {
            return Err(ServerError::WrongReplyClass(reply.code().get()));
        }
        self.decide(Some(reply), true)
    }

    /// Refuses the pending decision with this 4xx or 5xx reply. In LMTP the reply goes to every
    /// accepted recipient. Refusing an [`Event::AuthStep`] ends the exchange.
    ///
    /// # Errors
    ///
    /// [`ServerError::NoPendingDecision`], or [`ServerError::WrongReplyClass`] for a reply that
    /// is not 4xx or 5xx.
    pub fn reject(&mut self, reply: Reply<'_>) -> Result<(), ServerError> {
        if !(reply.code().is_transient() || reply.code().is_permanent()) {
            return Err(ServerError::WrongReplyClass(reply.code().get()));
        }
        self.decide(Some(reply), false)
    }

    /// LMTP: answers the end of the body with one reply per accepted recipient, in the order
    /// they were accepted (RFC 2033 section 4.2).
    ///
    /// # Errors
    ///
    /// [`ServerError::WrongDecision`] unless an [`Event::BodyEnd`] is pending in LMTP mode;
    /// [`ServerError::ReplyCount`] for the wrong number of replies.
    pub fn reply_each(&mut self, replies: &[Reply<'_>]) -> Result<(), ServerError> {
        if self.config.mode != Mode::Lmtp || !matches!(self.pending, Some(Pending::BodyEnd)) {
            return Err(ServerError::WrongDecision(
                "reply_each answers BodyEnd in LMTP mode",
            ));
        }
        let expected = self.txn.as_ref().map_or(0, |t| t.recipients);
        if replies.len() != expected {
            return Err(ServerError::ReplyCount {
                expected,
                got: replies.len(),
            });
        }
        self.pending = None;
        self.idle_restart = true;
        for reply in replies {
            if self.is_closed() {
                // The error limit was passed: the 421 is the last reply.
                break;
            }
            if reply.code().is_positive() {
                reply.encode(&mut self.output);
            } else {
                self.count_error_with(reply);
            }
        }
        self.txn = None;
        self.after_transaction();
        Ok(())
    }

    /// Answers an [`Event::AuthStep`]: runs the SASL exchange one step with the
    /// application's credential store. `nonce` must be fresh random data; it is used when
    /// the exchange starts (SCRAM's server nonce) and ignored otherwise.
    ///
    /// # Errors
    ///
    /// [`ServerError::WrongDecision`] unless an [`Event::AuthStep`] is pending.
    pub fn auth_step<A: Authenticator + ?Sized>(
        &mut self,
        authenticator: &A,
        nonce: Nonce,
    ) -> Result<(), ServerError> {
        let (mechanism, session, response) = match self.pending.take() {
            Some(Pending::Auth {
                mechanism,
                session,
                response,
            }) => (mechanism, session, response),
            other => {
                // Leave any other pending decision in place.
                self.pending = other;
                return Err(ServerError::WrongDecision(
                    "auth_step answers Event::AuthStep",
                ));
            }
        };
        self.idle_restart = true;
        let mut session = session.unwrap_or_else(|| ServerSession::new(mechanism, nonce));
        let Some(response) = response else {
            // AUTH without an initial response: the server speaks first.
            self.challenge(mechanism.initial_challenge());
            self.phase = Phase::AuthResponse { mechanism, session };
            return Ok(());
        };
        match session.step(authenticator, response.expose()) {
            Ok(ServerStep::Challenge(challenge)) => {
                self.challenge(&challenge);
                self.phase = Phase::AuthResponse { mechanism, session };
            }
            Ok(ServerStep::Success(authenticated)) => {
                self.line(b"235 2.7.0 Authentication successful");
                self.authenticated = Some(authenticated.clone());
                self.events.push_back(Event::Authenticated(authenticated));
                self.phase = Phase::Command;
                self.update_line_limit();
            }
            Err(error) => self.auth_failed(mechanism, error),
        }
        Ok(())
    }

    /// The TLS handshake after [`Event::StartTls`] succeeded: the session starts over as
    /// RFC 3207 section 4.2 requires (the client must EHLO again; nothing learnt before TLS
    /// is kept).
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
        self.hello = None;
        self.authenticated = None;
        self.txn = None;
        self.framer.reset();
        self.input.clear();
        self.idle_since = now;
        self.idle_restart = false;
        self.update_line_limit();
        Ok(())
    }

    /// Ends the session gracefully: at once if no transaction is open, otherwise as soon as
    /// the current one finishes. The client gets `421 4.3.2` instead of the next reply.
    pub fn shutdown(&mut self) {
        self.shutting_down = true;
        self.after_transaction();
    }

    /// Ends the session now with this reply (normally `421` or `554`), for example after an
    /// [`Event::EarlyTalker`]. A pending decision is dropped.
    pub fn close(&mut self, reply: &Reply<'_>) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        self.pending = None;
        reply.encode(&mut self.output);
        self.close_silently(Err(SessionError::Shutdown));
    }

    // ---- processing ----

    /// Processes input until an event is queued, a decision is pending or input runs out.
    /// Returns whether it made progress.
    fn step(&mut self) -> bool {
        match &mut self.phase {
            Phase::Closed | Phase::TlsHandoff | Phase::PreGreeting { .. } => false,
            Phase::Command => {
                // The line is framed in place and copied into `self.line` (a command line is
                // short), rather than split off `input` as a reference-counted `Bytes`: the
                // copy costs less than the reference count, and `input` stays unshared.
                let mut rest: &[u8] = &self.input;
                let before = rest.len();
                let frame = self.framer.next_frame_in(&mut rest);
                let consumed = before - rest.len();
                let mut line = std::mem::take(&mut self.line);
                line.clear();
                let kind = match frame {
                    None => None,
                    Some(FrameRef::Line(text)) => {
                        line.extend_from_slice(text);
                        Some(LineKind::Line)
                    }
                    Some(FrameRef::BareLf(text)) => Some(LineKind::BareLf {
                        bdat: is_bdat(text),
                    }),
                    // Reported when the line passes the limit, with its start still at the
                    // front of the input.
                    Some(FrameRef::TooLong { .. }) => Some(LineKind::TooLong {
                        bdat: is_bdat(&self.input),
                    }),
                    Some(_) => Some(LineKind::Other),
                };
                if consumed == self.input.len() {
                    self.input.clear();
                } else {
                    self.input.advance(consumed);
                }
                if let Some(kind) = kind {
                    self.on_command_frame(kind, &line);
                }
                // Keep the buffer for the next line, unless a long AUTH line grew it.
                if line.capacity() <= 1024 {
                    self.line = line;
                }
                kind.is_some()
            }
            Phase::Data => match self.dot.next_event(&mut self.input) {
                None => false,
                Some(event) => {
                    self.on_dot_event(event);
                    true
                }
            },
            Phase::Bdat {
                remaining,
                last,
                discard,
            } => {
                if *remaining > 0 {
                    if self.input.is_empty() {
                        return false;
                    }
                    let take = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(self.input.len());
                    let chunk = self.input.split_to(take).freeze();
                    *remaining -= take as u64;
                    if discard.is_none() {
                        if let Some(txn) = &mut self.txn {
                            txn.received += take as u64;
                        }
                        self.events.push_back(Event::BodyChunk(chunk));
                    }
                    if *remaining > 0 {
                        return true;
                    }
                }
                let (last, discard) = (*last, *discard);
                self.phase = Phase::Command;
                self.on_chunk_end(last, discard);
                true
            }
            Phase::AuthResponse { .. } => match self.framer.next_frame(&mut self.input) {
                None => false,
                Some(frame) => {
                    self.on_auth_frame(frame);
                    true
                }
            },
        }
    }

    fn on_command_frame(&mut self, kind: LineKind, line: &[u8]) {
        if self.shutting_down && self.txn.is_none() {
            self.close_with(
                b"421 4.3.2 Service shutting down, closing connection",
                SessionError::Shutdown,
            );
            return;
        }
        let too_long = line.len() + CRLF.len() > self.config.max_line_len;
        match kind {
            // A refused BDAT line leaves its chunk unmeasured: the octets that follow would be
            // read as commands (RFC 3030 section 2: they follow at once), so the stream cannot
            // be trusted.
            LineKind::Line if too_long && is_bdat(line) => self.unreadable_bdat(),
            LineKind::TooLong { bdat: true } | LineKind::BareLf { bdat: true } => {
                self.unreadable_bdat()
            }
            // While AUTH is offered the framer lets lines of AUTH_LINE_LIMIT through, for
            // the AUTH command only (RFC 4954 section 4); the others keep the configured limit.
            LineKind::Line if too_long && !has_verb(line, b"AUTH") => {
                self.error(b"500 5.5.2 Line too long")
            }
            LineKind::Line => self.on_command_line(line),
            LineKind::TooLong { .. } => self.error(b"500 5.5.2 Line too long"),
            LineKind::BareLf { .. } => {
                self.error(b"500 5.5.2 Command line must end with CRLF (bare LF received)")
            }
            // Only LineFramer::finish_in produces anything else, which the server never calls.
            LineKind::Other => self.error(b"500 5.5.2 Syntax error"),
        }
    }

    fn on_command_line(&mut self, line: &[u8]) {
        let utf8 = self.txn.as_ref().is_some_and(|t| t.params.smtputf8);
        let options = ParseOptions::default().with_smtputf8(utf8);
        if !is_bdat(line) {
            // The client's pipeline of chunks after a refused one has ended.
            self.bdat_refused = false;
        }
        let command = match Command::parse_with(line, options) {
            Ok(command) => command,
            Err(error) => return self.on_parse_error(line, &error),
        };
        match command {
            Command::Helo(domain) => self.on_hello(HelloVerb::Helo, Host::Domain(domain)),
            Command::Ehlo(host) => self.on_hello(HelloVerb::Ehlo, host),
            Command::Lhlo(host) => self.on_hello(HelloVerb::Lhlo, host),
            Command::Mail { from, params } => self.on_mail(from, params),
            Command::Rcpt { to, params } => self.on_rcpt(to, params),
            Command::Data => self.on_data(),
            Command::Bdat { size, last } => self.on_bdat(size, last),
            Command::Rset => {
                self.txn = None;
                self.line(b"250 2.0.0 Ok");
            }
            Command::Noop(_) => self.line(b"250 2.0.0 Ok"),
            Command::Quit => {
                self.line(b"221 2.0.0 Bye");
                self.close_silently(Ok(()));
            }
            Command::Vrfy(_) => {
                self.line(
                    b"252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery",
                );
            }
            Command::Expn(_) => self.error(b"502 5.5.1 EXPN not available"),
            Command::Etrn(_) => self.error(b"502 5.5.1 ETRN not available"),
            Command::Help(_) => self.line(b"214 2.0.0 See RFC 5321"),
            Command::StartTls => self.on_starttls(),
            Command::Auth {
                mechanism,
                initial_response,
            } => self.on_auth(
                mechanism.as_str(),
                initial_response.as_ref().map(|r| r.as_str()),
            ),
        }
    }

    fn on_parse_error(&mut self, line: &[u8], error: &CommandError) {
        let text = match error {
            CommandError::UnknownCommand => {
                return self.error(b"500 5.5.2 Command not recognized");
            }
            CommandError::Utf8NotAllowed { .. } => {
                return self.error(b"553 5.6.7 Non-ASCII addresses require SMTPUTF8");
            }
            CommandError::Overflow {
                rule: "size-value", ..
            } => {
                // RFC 1870: a SIZE beyond 64 bits is certainly beyond the limit.
                return self.error(b"552 5.3.4 Message size exceeds fixed maximum message size");
            }
            other => format!("501 5.5.4 Syntax error: {other}"),
        };
        if is_bdat(line) {
            // The chunk that follows cannot be measured: the stream cannot be trusted.
            return self.desynchronised();
        }
        self.error(text.as_bytes());
    }

    fn desynchronised(&mut self) {
        self.close_with(
            b"421 4.5.4 Invalid BDAT chunk size, closing connection",
            SessionError::Desynchronised,
        );
    }

    /// A BDAT line refused by its framing (too long, bare LF): its chunk cannot be found.
    fn unreadable_bdat(&mut self) {
        self.close_with(
            b"421 4.5.4 Unreadable BDAT command, closing connection",
            SessionError::Desynchronised,
        );
    }

    fn on_hello(&mut self, verb: HelloVerb, host: Host<'_>) {
        let wrong_verb = match self.config.mode {
            Mode::Smtp => verb == HelloVerb::Lhlo,
            Mode::Lmtp => verb != HelloVerb::Lhlo,
        };
        if wrong_verb {
            return self.error(match self.config.mode {
                Mode::Smtp => b"500 5.5.1 LHLO is for LMTP; use EHLO",
                Mode::Lmtp => b"500 5.5.1 This is an LMTP server; use LHLO",
            });
        }
        self.ask(
            Pending::Hello(verb),
            Event::Hello {
                verb,
                host: host.into_owned(),
            },
        );
    }

    fn on_mail(&mut self, from: ReversePath<'_>, params: MailParams<'_>) {
        if self.hello.is_none() {
            return self.error(b"503 5.5.1 Send HELO or EHLO first");
        }
        if self.txn.is_some() {
            return self.error(b"503 5.5.1 Nested MAIL command");
        }
        if self.config.require_tls && !self.tls {
            return self.error(b"530 5.7.0 Must issue a STARTTLS command first");
        }
        if self.config.require_auth && self.authenticated.is_none() {
            return self.error(b"530 5.7.0 Authentication required");
        }
        if self.hello == Some(HelloVerb::Helo) && params != MailParams::default() {
            // After HELO no service extension is in effect, so no parameter is either (RFC 5321
            // section 4.1.1.11). Below, every parameter came after EHLO or LHLO.
            return self.error(b"555 5.5.4 MAIL parameters need EHLO");
        }
        if params
            .size
            .is_some_and(|size| size > self.config.max_message_size)
        {
            return self.error(b"552 5.3.4 Message size exceeds fixed maximum message size");
        }
        match params.body {
            Some(Body::BinaryMime) if !self.config.chunking => {
                return self.error(b"555 5.5.4 BODY=BINARYMIME not supported");
            }
            Some(Body::EightBitMime) if !self.config.eight_bit_mime => {
                return self.error(b"555 5.5.4 BODY=8BITMIME not supported");
            }
            _ => {}
        }
        if params.smtputf8 && !self.config.smtputf8 {
            return self.error(b"555 5.5.4 SMTPUTF8 not supported");
        }
        if let ReversePath::Mailbox(mailbox) = &from {
            if mailbox.is_utf8() && !params.smtputf8 {
                return self.error(b"553 5.6.7 Non-ASCII addresses require SMTPUTF8");
            }
        }
        if (params.ret.is_some() || params.envid.is_some()) && !self.config.dsn {
            return self.error(b"555 5.5.4 DSN parameters not supported");
        }
        if params.requiretls {
            if !self.tls {
                return self.error(b"530 5.7.10 REQUIRETLS needs a TLS session");
            }
            if !self.config.requiretls {
                return self.error(b"555 5.5.4 REQUIRETLS not supported");
            }
        }
        if !params.unknown.is_empty() && !self.config.accept_unknown_parameters {
            return self.error(b"555 5.5.4 Unsupported MAIL parameter");
        }
        let txn = TxnParams {
            binary: params.body == Some(Body::BinaryMime),
            smtputf8: params.smtputf8,
        };
        self.ask(
            Pending::Mail { params: txn },
            Event::Mail {
                from: from.into_owned(),
                params: params.into_owned(),
            },
        );
    }

    fn on_rcpt(&mut self, to: ForwardPath<'_>, params: RcptParams<'_>) {
        let Some(txn) = &self.txn else {
            return self.error(b"503 5.5.1 Need MAIL before RCPT");
        };
        if self.hello == Some(HelloVerb::Helo) && params != RcptParams::default() {
            return self.error(b"555 5.5.4 RCPT parameters need EHLO");
        }
        if txn.transfer.is_some() {
            return self.error(b"503 5.5.1 RCPT after the message body started");
        }
        if txn.recipients >= self.config.max_recipients {
            // RFC 5321 section 4.5.3.1.10: 452, and the client sends the rest later, in a
            // transaction that goes on with those accepted. Not the client's mistake, so not
            // counted toward `max_errors` until RECIPIENT_OVERSHOOT over the limit.
            let overshoot = self.txn.as_mut().map_or(0, |t| {
                t.overshoot += 1;
                t.overshoot
            });
            if overshoot > RECIPIENT_OVERSHOOT {
                return self.error(b"452 4.5.3 Too many recipients");
            }
            return self.line(b"452 4.5.3 Too many recipients");
        }
        if (params.notify.is_some() || params.orcpt.is_some()) && !self.config.dsn {
            return self.error(b"555 5.5.4 DSN parameters not supported");
        }
        if !params.unknown.is_empty() && !self.config.accept_unknown_parameters {
            return self.error(b"555 5.5.4 Unsupported RCPT parameter");
        }
        self.ask(
            Pending::Rcpt,
            Event::Rcpt {
                to: to.into_owned(),
                params: params.into_owned(),
            },
        );
    }

    fn on_data(&mut self) {
        let Some(txn) = &mut self.txn else {
            return self.error(b"503 5.5.1 Need MAIL command");
        };
        if txn.transfer.is_some() {
            return self.error(b"503 5.5.1 DATA after BDAT in the same transaction");
        }
        if txn.params.binary {
            return self.error(b"503 5.5.1 BODY=BINARYMIME requires BDAT");
        }
        if txn.recipients == 0 {
            // RFC 2920 section 3.1 asks SMTP servers for 554 here; RFC 2033 section 4.2 asks
            // LMTP servers for 503.
            return match self.config.mode {
                Mode::Lmtp => self.error(b"503 5.5.1 No valid recipients"),
                Mode::Smtp => self.error(b"554 5.5.1 No valid recipients"),
            };
        }
        txn.transfer = Some(BodyTransfer::Data);
        self.line(b"354 End data with <CR><LF>.<CR><LF>");
        self.dot.reset();
        self.phase = Phase::Data;
        self.events.push_back(Event::BodyStart {
            transfer: BodyTransfer::Data,
        });
    }

    fn on_bdat(&mut self, size: u64, last: bool) {
        let discard = match &mut self.txn {
            _ if !self.config.chunking => Some(Discarded::BadSequence),
            None if self.bdat_refused => Some(Discarded::AfterRefusal),
            None => Some(Discarded::BadSequence),
            Some(txn) if txn.recipients == 0 || txn.transfer == Some(BodyTransfer::Data) => {
                Some(Discarded::BadSequence)
            }
            Some(txn) => {
                let first = txn.transfer.is_none();
                txn.transfer = Some(BodyTransfer::Bdat);
                if first {
                    self.events.push_back(Event::BodyStart {
                        transfer: BodyTransfer::Bdat,
                    });
                }
                if txn.received.saturating_add(size) > self.config.max_message_size {
                    self.events
                        .push_back(Event::BodyAborted(BodyError::TooLarge {
                            limit: self.config.max_message_size,
                        }));
                    Some(Discarded::TooLarge)
                } else {
                    None
                }
            }
        };
        // The chunk's octets are read (and maybe thrown away) whatever the answer, so the
        // command stream stays in step (RFC 3030 section 3).
        self.phase = Phase::Bdat {
            remaining: size,
            last,
            discard,
        };
    }

    fn on_chunk_end(&mut self, last: bool, discard: Option<Discarded>) {
        match discard {
            Some(Discarded::BadSequence) => {
                let text: &[u8] = match &self.txn {
                    _ if !self.config.chunking => b"502 5.5.1 CHUNKING not offered",
                    None => b"503 5.5.1 Need MAIL command",
                    Some(t) if t.recipients == 0 => b"554 5.5.1 No valid recipients",
                    Some(_) => b"503 5.5.1 BDAT after DATA in the same transaction",
                };
                self.error(text);
            }
            Some(Discarded::AfterRefusal) => {
                // Accepted and discarded, as RFC 3030 section 2 requires of a server that
                // offers PIPELINING; the client made no new mistake, so it does not count.
                self.bdat_refused = !last;
                self.line(
                    b"503 5.5.1 Chunk discarded: an earlier chunk of this message was refused",
                );
            }
            Some(Discarded::TooLarge) => {
                self.bdat_refused = !last;
                let text = b"552 5.3.4 Message size exceeds fixed maximum message size";
                if last {
                    self.refuse_message(text);
                } else {
                    // A chunk before the last gets its one reply, in LMTP too.
                    self.txn = None;
                    self.error(text);
                    self.after_transaction();
                }
            }
            None if last => {
                let (size, recipients) = self
                    .txn
                    .as_ref()
                    .map_or((0, 0), |t| (t.received, t.recipients));
                self.ask(Pending::BodyEnd, Event::BodyEnd { size, recipients });
            }
            None => {
                let received = self.txn.as_ref().map_or(0, |t| t.received);
                let text = format!("250 2.0.0 {received} octets received");
                self.line(text.as_bytes());
            }
        }
    }

    fn on_dot_event(&mut self, event: DotEvent) {
        match event {
            DotEvent::Data(chunk) => {
                if let Some(txn) = &mut self.txn {
                    txn.received += chunk.len() as u64;
                }
                self.events.push_back(Event::BodyChunk(chunk));
            }
            DotEvent::Rejected(error) => self.events.push_back(Event::BodyAborted(error)),
            DotEvent::End(Ok(size)) => {
                self.phase = Phase::Command;
                let recipients = self.txn.as_ref().map_or(0, |t| t.recipients);
                self.ask(Pending::BodyEnd, Event::BodyEnd { size, recipients });
            }
            DotEvent::End(Err(error)) => {
                self.phase = Phase::Command;
                self.refuse_message(match error {
                    BodyError::TooLarge { .. } => {
                        b"552 5.3.4 Message size exceeds fixed maximum message size"
                    }
                    _ => b"550 5.6.0 Message refused: bare CR or LF in the body (RFC 5321 section 2.3.8)",
                });
            }
            // DotEvent is non_exhaustive; treat anything new as the end of a refused body.
            _ => {
                self.phase = Phase::Command;
                self.refuse_message(b"451 4.3.0 Local error in processing");
            }
        }
    }

    fn on_starttls(&mut self) {
        if self.tls {
            return self.error(b"503 5.5.1 TLS already active");
        }
        if !self.config.starttls {
            return self.error(b"502 5.5.1 STARTTLS not offered");
        }
        if !self.input.is_empty() {
            // RFC 3207 section 4.2 and CVE-2011-0411: commands pipelined after STARTTLS would
            // run as if they came through TLS.
            self.input.clear();
            return self.close_with(
                b"421 4.7.0 Commands pipelined after STARTTLS, closing connection",
                SessionError::StartTlsInjection,
            );
        }
        self.line(b"220 2.0.0 Ready to start TLS");
        self.phase = Phase::TlsHandoff;
        self.events.push_back(Event::StartTls);
    }

    fn auth_offered(&self) -> bool {
        !self.config.auth_mechanisms.is_empty()
            && self.authenticated.is_none()
            && (self.tls || self.config.allow_plaintext_auth)
    }

    fn on_auth(&mut self, name: &str, initial: Option<&str>) {
        if self.config.auth_mechanisms.is_empty() {
            return self.error(b"502 5.5.1 AUTH not offered");
        }
        if self.hello.is_none() || self.hello == Some(HelloVerb::Helo) {
            return self.error(b"503 5.5.1 Send EHLO first");
        }
        if self.authenticated.is_some() {
            return self.error(b"503 5.5.1 Already authenticated");
        }
        if self.txn.is_some() {
            return self.error(b"503 5.5.1 AUTH not allowed during a mail transaction");
        }
        if !self.tls && !self.config.allow_plaintext_auth {
            return self.error(if self.config.require_tls {
                b"530 5.7.0 Must issue a STARTTLS command first"
            } else {
                b"538 5.7.11 Encryption required for requested authentication mechanism"
            });
        }
        let Some(mechanism) = Mechanism::from_name(name.as_bytes())
            .filter(|m| self.config.auth_mechanisms.contains(m))
        else {
            return self.error(b"504 5.5.4 Unrecognized authentication type");
        };
        let response = match initial.map(|r| framing::decode_initial_response(r.as_bytes())) {
            None => None,
            Some(Ok(response)) => Some(response),
            Some(Err(_)) => return self.error(b"501 5.5.2 Cannot decode response"),
        };
        self.ask(
            Pending::Auth {
                mechanism,
                session: None,
                response,
            },
            Event::AuthStep { mechanism },
        );
    }

    fn on_auth_frame(&mut self, frame: Frame) {
        let Phase::AuthResponse { mechanism, session } =
            std::mem::replace(&mut self.phase, Phase::Command)
        else {
            return;
        };
        let line = match frame {
            Frame::Line(line) => line,
            Frame::TooLong { .. } => {
                let error = SaslError::TooLong {
                    len: self.framer.max_len(),
                    limit: framing::MAX_ENCODED_LEN,
                };
                return self.auth_failed(mechanism, error);
            }
            _ => {
                return self.auth_failed(
                    mechanism,
                    SaslError::Malformed {
                        mechanism,
                        reason: "response line ends in a bare LF",
                    },
                );
            }
        };
        match framing::decode_response(&line) {
            Ok(Response::Cancel) => self.auth_failed(mechanism, SaslError::Cancelled),
            Ok(Response::Data(response)) => {
                self.update_line_limit();
                self.ask(
                    Pending::Auth {
                        mechanism,
                        session: Some(session),
                        response: Some(response),
                    },
                    Event::AuthStep { mechanism },
                );
            }
            Err(error) => self.auth_failed(mechanism, error),
        }
    }

    fn auth_failed(&mut self, mechanism: Mechanism, error: SaslError) {
        self.phase = Phase::Command;
        let text: &[u8] = match error {
            SaslError::Cancelled => b"501 5.0.0 Authentication cancelled",
            SaslError::InvalidBase64 { .. } => b"501 5.5.2 Cannot decode response",
            SaslError::TooLong { .. } => b"500 5.5.6 Authentication exchange line is too long",
            SaslError::Malformed { .. } => b"501 5.5.2 Malformed authentication response",
            _ => b"535 5.7.8 Authentication credentials invalid",
        };
        // The failure first: the error may pass the limit and close the session, and
        // Event::Closed is the last event.
        self.events
            .push_back(Event::AuthFailed { mechanism, error });
        self.error(text);
        self.update_line_limit();
    }

    // ---- decisions ----

    fn ask(&mut self, pending: Pending, event: Event) {
        self.pending = Some(pending);
        self.events.push_back(event);
    }

    fn decide(&mut self, reply: Option<Reply<'_>>, accept: bool) -> Result<(), ServerError> {
        let Some(pending) = self.pending.take() else {
            return Err(ServerError::NoPendingDecision);
        };
        self.idle_restart = true;
        if !accept {
            let Some(reply) = reply else {
                return Err(ServerError::NoPendingDecision);
            };
            match pending {
                Pending::BodyEnd => {
                    let count = match self.config.mode {
                        Mode::Lmtp => self.txn.as_ref().map_or(0, |t| t.recipients),
                        Mode::Smtp => 1,
                    };
                    for _ in 0..count {
                        self.count_error_with(&reply);
                    }
                    self.txn = None;
                    self.after_transaction();
                }
                Pending::Hello(_) => {
                    self.hello = None;
                    self.txn = None;
                    self.count_error_with(&reply);
                }
                Pending::Auth { mechanism, .. } => {
                    self.phase = Phase::Command;
                    self.events.push_back(Event::AuthFailed {
                        mechanism,
                        error: SaslError::AuthenticationFailed,
                    });
                    self.count_error_with(&reply);
                    self.update_line_limit();
                }
                Pending::Mail { .. } | Pending::Rcpt => self.count_error_with(&reply),
            }
            return Ok(());
        }
        match pending {
            Pending::Hello(verb) => {
                self.hello = Some(verb);
                self.txn = None;
                if verb == HelloVerb::Helo {
                    let text = format!("250 {}", self.config.hostname);
                    self.line(text.as_bytes());
                } else {
                    self.capabilities_reply();
                }
            }
            Pending::Mail { params } => {
                self.txn = Some(Transaction {
                    params,
                    recipients: 0,
                    overshoot: 0,
                    transfer: None,
                    received: 0,
                });
                self.positive(reply, b"250 2.1.0 Sender ok");
            }
            Pending::Rcpt => {
                if let Some(txn) = &mut self.txn {
                    txn.recipients += 1;
                }
                self.positive(reply, b"250 2.1.5 Recipient ok");
            }
            Pending::BodyEnd => {
                let count = match self.config.mode {
                    Mode::Lmtp => self.txn.as_ref().map_or(0, |t| t.recipients),
                    Mode::Smtp => 1,
                };
                for _ in 0..count {
                    match &reply {
                        Some(reply) => reply.encode(&mut self.output),
                        None => self.line(b"250 2.0.0 Message accepted"),
                    }
                }
                self.txn = None;
                self.after_transaction();
            }
            auth @ Pending::Auth { .. } => {
                self.pending = Some(auth);
                return Err(ServerError::WrongDecision(
                    "an AuthStep is answered with auth_step or reject",
                ));
            }
        }
        Ok(())
    }

    fn positive(&mut self, reply: Option<Reply<'_>>, default: &[u8]) {
        match reply {
            Some(reply) => reply.encode(&mut self.output),
            None => self.line(default),
        }
    }

    /// After a transaction ends: a pending shutdown takes effect.
    fn after_transaction(&mut self) {
        if self.shutting_down
            && self.txn.is_none()
            && self.pending.is_none()
            && matches!(self.phase, Phase::Command | Phase::PreGreeting { .. })
        {
            self.close_with(
                b"421 4.3.2 Service shutting down, closing connection",
                SessionError::Shutdown,
            );
        }
    }

    // ---- output ----

    fn queue_greeting(&mut self) {
        let protocol = match self.config.mode {
            Mode::Smtp => "ESMTP",
            Mode::Lmtp => "LMTP",
        };
        let text = format!("220 {} {protocol} ready", self.config.hostname);
        self.line(text.as_bytes());
    }

    fn capabilities_reply(&mut self) {
        let auth = self
            .auth_offered()
            .then(|| self.config.auth_mechanisms.iter().copied().collect());
        let caps = Capabilities {
            greeting: self.config.hostname.as_str().as_bytes().to_vec(),
            pipelining: true,
            size: Some(Some(self.config.max_message_size)),
            eight_bit_mime: self.config.eight_bit_mime,
            smtputf8: self.config.smtputf8,
            enhanced_status_codes: true,
            chunking: self.config.chunking,
            binary_mime: self.config.chunking,
            dsn: self.config.dsn,
            starttls: self.config.starttls && !self.tls,
            requiretls: self.config.requiretls && self.tls,
            auth,
            limits: Some(vec![(
                "RCPTMAX".to_owned(),
                self.config.max_recipients.to_string(),
            )]),
            ..Capabilities::default()
        };
        match caps.to_reply() {
            Ok(reply) => reply.encode(&mut self.output),
            // The hostname is a validated Domain and the rest are keywords: unreachable, but
            // a plain greeting is a correct answer too.
            Err(_) => {
                let text = format!("250 {}", self.config.hostname);
                self.line(text.as_bytes());
            }
        }
    }

    fn challenge(&mut self, challenge: &[u8]) {
        self.output.extend_from_slice(b"334 ");
        self.output
            .extend_from_slice(framing::encode_challenge(challenge).as_bytes());
        self.output.extend_from_slice(CRLF);
        self.framer
            .set_max_len(self.config.max_line_len.max(framing::MAX_ENCODED_LEN + 2));
    }

    fn line(&mut self, text: &[u8]) {
        self.output.extend_from_slice(text);
        self.output.extend_from_slice(CRLF);
    }

    /// Queues a negative reply, or `421` and a close once the error limit is passed.
    /// The machine refuses the message itself (its size, a bare line ending): one reply, or in
    /// LMTP one per accepted recipient (RFC 2033 section 4.2), and the transaction ends.
    fn refuse_message(&mut self, text: &[u8]) {
        let replies = match self.config.mode {
            Mode::Lmtp => self.txn.as_ref().map_or(1, |t| t.recipients.max(1)),
            Mode::Smtp => 1,
        };
        self.txn = None;
        for _ in 0..replies {
            self.error(text);
        }
        self.after_transaction();
    }

    fn error(&mut self, text: &[u8]) {
        if !matches!(self.phase, Phase::Closed) && self.count_error() {
            self.line(text);
        }
    }

    fn count_error_with(&mut self, reply: &Reply<'_>) {
        if !self.is_closed() && self.count_error() {
            reply.encode(&mut self.output);
        }
    }

    /// Counts one error; returns `false` (after closing the session) past the limit.
    fn count_error(&mut self) -> bool {
        self.errors += 1;
        if self.errors > self.config.max_errors {
            self.close_with(
                b"421 4.7.0 Too many errors, closing connection",
                SessionError::TooManyErrors,
            );
            return false;
        }
        true
    }

    fn close_with(&mut self, text: &[u8], reason: SessionError) {
        self.line(text);
        self.close_silently(Err(reason));
    }

    fn close_silently(&mut self, ending: Result<(), SessionError>) {
        self.phase = Phase::Closed;
        self.pending = None;
        self.txn = None;
        self.input.clear();
        self.events.push_back(Event::Closed(ending));
    }

    fn report_early_talker(&mut self) {
        if !self.early_talker_reported {
            self.early_talker_reported = true;
            self.events.push_back(Event::EarlyTalker);
        }
    }

    fn update_line_limit(&mut self) {
        let limit = if self.auth_offered() {
            self.config.max_line_len.max(AUTH_LINE_LIMIT)
        } else {
            self.config.max_line_len
        };
        self.framer.set_max_len(limit);
    }
}

fn is_bdat(line: &[u8]) -> bool {
    line.len() >= 4 && line[..4].eq_ignore_ascii_case(b"BDAT")
}

/// Whether `line` is the command `verb` (followed by a space or nothing).
fn has_verb(line: &[u8], verb: &[u8]) -> bool {
    line.len() >= verb.len()
        && line[..verb.len()].eq_ignore_ascii_case(verb)
        && matches!(line.get(verb.len()), None | Some(b' '))
}
