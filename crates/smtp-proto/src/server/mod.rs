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
//! | a C1 control, U+2028, U+2029 or a bidi control in an address, EHLO name or parameter; a domain whose U-labels fail IDNA | `501 5.5.4` naming the code point or `U-label` (docs/smtp.md, "Deliberate choices") |
//! | command line too long | `500 5.5.2 Line too long` (RFC 5321 section 4.5.3.1.4) |
//! | bad sequence (MAIL before HELO, RCPT before MAIL, DATA without recipients...) | `503 5.5.1`, or `554 5.5.1` for DATA without valid recipients (RFC 2920 section 3.1; `503 5.5.1` in LMTP, RFC 2033 section 4.2) |
//! | MAIL before STARTTLS when TLS is required | `530 5.7.0` (RFC 3207 section 4) |
//! | MAIL before AUTH when AUTH is required | `530 5.7.0` (RFC 4954 section 6) |
//! | declared or actual size over the limit | `552 5.3.4` (RFC 1870), after draining the body |
//! | too many recipients | `452 4.5.3` (RFC 5321 section 4.5.3.1.10; advertised as `LIMITS RCPTMAX`, RFC 9422) |
//! | too many errors | `421 4.7.0` and close |
//! | timeout: no complete command line within `command_timeout` (however many octets came), no body octets within `data_timeout`, or a body slower than `min_data_rate` | `421 4.4.2` and close |
//! | NOOP, RSET, VRFY, EXPN, HELP, a repeated HELO/EHLO/LHLO past `max_junk_commands` before AUTH | the usual reply, counted as an error (Postfix `smtpd_junk_command_limit`) |
//! | a failed AUTH exchange | its reply (`535 5.7.8`, `501`...) held back for `auth_failure_delay`, nothing read meanwhile |
//! | the failed AUTH exchange that reaches `max_auth_failures` | its reply, then `421 4.7.0` and close, both after the delay |
//! | bare CR or LF in a text body (DATA, or BDAT without BINARYMIME) | each made CRLF (`Normalize`, the default), or the message refused with `550 5.6.0` (`Reject`) |
//! | VRFY | `252 2.5.0` (RFC 5321 section 3.5.3) |
//! | EXPN, ETRN | `502 5.5.1` |
//! | commands pipelined after STARTTLS | `421 4.7.0` and close (RFC 3207 section 4.2, CVE-2011-0411) |
//! | a BDAT line whose chunk cannot be found (unreadable size, too long, bare LF) | `421 4.5.4` and close: the chunk's octets must not run as commands (RFC 3030 section 2) |
//! | BDAT chunks pipelined after a refused chunk | `503 5.5.1 Chunk discarded`, not counted as an error (RFC 3030 section 2), on the refused body's minimum-rate clock |
//! | any MAIL or RCPT parameter after HELO (no extension is in effect) | `555 5.5.4` (RFC 5321 section 4.1.1.11) |
//!
//! Every negative reply, the machine's or the application's (a failed AUTH's too), counts toward
//! [`ServerConfig::max_errors`]; the error after the limit is answered with `421 4.7.0` and
//! the session closes. Two kinds of refusal are the protocol working, not client mistakes,
//! and do not count: `452 4.5.3` for recipients past `max_recipients` (up to 1000 of them per
//! transaction, Postfix's `smtpd_recipient_overshoot_limit`), and the `503` for BDAT chunks
//! already pipelined after a refused chunk (RFC 3030 section 2).

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mail_wire::dot::DotDecoder;
use mail_wire::line::LineFramer;
use mail_wire::sasl::{Authenticated, Authenticator, Mechanism, Nonce, ServerSession};

use crate::reply::Reply;

// Where the machine lives:
// - this file: the `Server` type, its state and the driver's calls (input, output, time,
//   TLS, the ending);
// - `config`: `ServerConfig`, `Mode` and the limits, each with its source;
// - `event`: what the application sees: `Event`, `SessionError`, `ServerError`;
// - `input`: framing the input by phase, and dispatching each command line;
// - `transaction`: MAIL, RCPT, DATA, BDAT and the message body;
// - `auth`: AUTH and the SASL exchange;
// - `decision`: what a pending decision is about, and carrying out the answer;
// - `output`: queueing replies, counting errors, closing;
// - `replies`: the text of every reply the machine sends by itself;
// - `timer`: every deadline (the greeting delay, the client's idle time);
// - `text`: bare CR and LF in a BDAT text body.
mod auth;
mod config;
mod decision;
mod event;
mod input;
mod output;
mod replies;
mod text;
mod timer;
mod transaction;

pub use config::{AUTH_LINE_LIMIT, Mode, ServerConfig};
pub use event::{BodyTransfer, Event, HelloVerb, ServerError, SessionError};

use decision::Pending;
use timer::{Expired, Timer};
use transaction::{Discarded, Transaction};

/// What the session is reading, or waiting for.
#[derive(Debug)]
enum Phase {
    /// Holding the greeting back until the timer's greeting deadline (the timer holds the
    /// greeting exactly while the session is in this phase).
    PreGreeting,
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
    /// Every deadline: the greeting delay and the client's idle time.
    timer: Timer,
    early_talker_reported: bool,
    shutting_down: bool,
    /// A BDAT chunk was refused and only BDAT commands followed: more chunks may still be in
    /// the client's pipeline (RFC 3030 section 2).
    bdat_refused: bool,
    /// The minimum-rate clock of BDAT octets read only to be thrown away outside a body
    /// (BDAT without a transaction, and the chunks pipelined after a refused chunk): when
    /// the discarding began and the octets discarded since. Such octets are timed as a body
    /// is ([`ServerConfig::min_data_rate`]), or a client dribbling into a huge discarded
    /// chunk, or sending `BDAT 0` after a refusal for ever, would never be closed.
    discard_clock: Option<(Instant, u64)>,
    /// The body under way began right after a decision, before the machine learnt the time
    /// (the DATA or first BDAT line was pipelined behind it): its start is the restart of the
    /// client's idle time, at the next [`Server::handle_timeout`], so that the application's
    /// time deciding is not taken from the client's body allowance.
    body_starts_at_restart: bool,
    /// The client closed its side ([`Server::handle_eof`]) while complete input was still
    /// buffered: that input is processed first, then the session ends.
    eof: bool,
    /// The instant of the last [`Server::feed`]: when the input being processed arrived at
    /// the latest.
    fed_at: Instant,
    /// NOOP, RSET, VRFY, EXPN and HELP commands and repeated greetings so far ([`ServerConfig::max_junk_commands`]).
    junk_count: u32,
    /// Failed AUTH exchanges so far ([`ServerConfig::max_auth_failures`]).
    auth_failures: u32,
    /// The delay for the next failed AUTH ([`Server::set_auth_failure_delay`]).
    auth_failure_delay: Duration,
    /// The reply to a failed AUTH, held back until the timer releases it.
    held: Option<Held>,
}

/// What a failed AUTH holds back: its reply (and a `421` after it), and the end of the
/// session when the failure closes it.
#[derive(Debug)]
struct Held {
    output: BytesMut,
    ending: Option<SessionError>,
}

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
            .field("junk_commands", &self.junk_count)
            .field("auth_failures", &self.auth_failures)
            .field("held", &self.held)
            .field("timer", &self.timer)
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
            timer: Timer::new(now, config.greeting_delay),
            early_talker_reported: false,
            shutting_down: false,
            bdat_refused: false,
            discard_clock: None,
            body_starts_at_restart: false,
            eof: false,
            fed_at: now,
            junk_count: 0,
            auth_failures: 0,
            auth_failure_delay: config.auth_failure_delay,
            held: None,
            config,
        };
        if server.timer.holds_greeting() {
            server.phase = Phase::PreGreeting;
        } else {
            server.queue_greeting();
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

    /// Holds the reply to each failed AUTH exchange back for `delay` from now on in this
    /// session, instead of [`ServerConfig::auth_failure_delay`]: for example a penalty that
    /// grows with the failures seen from the client's address, set when
    /// [`Event::AuthStep`] arrives. Zero sends the reply at once.
    pub fn set_auth_failure_delay(&mut self, delay: Duration) {
        self.auth_failure_delay = delay;
    }

    /// Changes [`ServerConfig::command_timeout`] for this session, for example to shorten it
    /// while the server is under pressure (Postfix's stress mode). A wait for a command that
    /// is under way ends at its start plus the new timeout ([`Server::poll_timeout`] says so
    /// at once); if that is already past, the next [`Server::handle_timeout`] closes the
    /// session.
    pub fn set_command_timeout(&mut self, timeout: Duration) {
        self.config.command_timeout = timeout;
    }

    /// Changes [`ServerConfig::data_timeout`] for this session, as
    /// [`Server::set_command_timeout`] does the command timeout: the wait for body octets
    /// under way, and the deadline of the body as a whole
    /// ([`ServerConfig::min_data_rate`]), are recomputed with it.
    pub fn set_data_timeout(&mut self, timeout: Duration) {
        self.config.data_timeout = timeout;
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
        if len == 0 || self.eof {
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
            Phase::PreGreeting => self.report_early_talker(),
            // Body octets restart the data timeout as they come; command lines restart the
            // command timeout only when complete (in `step`).
            Phase::Data | Phase::Bdat { .. } => self.timer.input(now),
            _ => {}
        }
        if self.input.len() + len > self.config.max_buffered_input {
            self.input.clear();
            self.close_with(replies::TOO_MUCH_INPUT, SessionError::InputOverflow);
            return false;
        }
        self.fed_at = now;
        true
    }

    /// The client closed its side of the connection: the session ends. Input already fed
    /// is still processed first, so commands the client sent before closing (a pipelined
    /// `QUIT`, a complete message body) are answered and their decisions asked for as
    /// usual; the session then ends with [`SessionError::PeerClosed`] (or `Ok(())` after
    /// `QUIT`). A transaction still open at that point is abandoned, never acknowledged.
    pub fn handle_eof(&mut self) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        self.eof = true;
        if self.input.is_empty()
            && self.pending.is_none()
            && self.events.is_empty()
            && self.held.is_none()
        {
            self.close_on_eof();
        }
    }

    /// The connection broke (a reset, a failed or timed-out write): the session ends at once.
    /// Unlike [`Server::handle_eof`], input still buffered is dropped unanswered and a pending
    /// decision is abandoned: no reply could reach the client, so no message may be accepted
    /// (a client that never saw the `250` sends the message again).
    pub fn handle_connection_lost(&mut self) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        self.eof = true;
        // Events not yet taken would ask for decisions nobody can answer any more.
        self.events.clear();
        self.close_on_eof();
    }

    /// Ends the session after the client's end of stream, once its input is used up.
    fn close_on_eof(&mut self) {
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
            if self.pending.is_some() || self.held.is_some() {
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

    /// When [`Server::handle_timeout`] must be called, if the session is waiting for the
    /// client. `None` while a decision is pending or after the session closed. Right after a
    /// decision it is due at once: the machine has no clock, and that call restarts the
    /// client's idle time, so a slow decision does not shorten it (RFC 5321 section
    /// 4.5.3.2.7 times the wait for the next command).
    ///
    /// While the reply to a failed AUTH is held back ([`ServerConfig::auth_failure_delay`])
    /// it is the time of the release (due at once right after the failure, as after a
    /// decision: that call starts the delay). While a message body is read it is the earlier
    /// of the data timeout and the body's own deadline ([`ServerConfig::min_data_rate`]).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if !self.timed() {
            return None;
        }
        let idle = self.timer.deadline(self.idle_timeout());
        match (idle, self.body_deadline()) {
            (Some(idle), Some(body)) => Some(idle.min(body)),
            (idle, body) => idle.or(body),
        }
    }

    /// Whether the session waits for time to pass: not after the close, during the TLS
    /// hand-off, or while a decision is pending (no decision is ever pending before the
    /// greeting, nor while a reply is held back).
    fn timed(&self) -> bool {
        !matches!(self.phase, Phase::Closed | Phase::TlsHandoff) && self.pending.is_none()
    }

    /// When the message body under way must be complete: its start + the data timeout +
    /// the octets received / [`ServerConfig::min_data_rate`]; outside a body, the same for
    /// BDAT octets being discarded (`discard_clock`). `None` without a body under way (DATA,
    /// or BDAT chunks up to the last) or a discarding, with the rate at zero, while a reply is
    /// held back, or when the deadline is too far to represent.
    fn body_deadline(&self) -> Option<Instant> {
        let rate = self.config.min_data_rate;
        if rate == 0 || self.timer.holds_reply() {
            return None;
        }
        let (started, received) = match self.txn.as_ref() {
            Some(txn) if txn.body_started.is_some() => (txn.body_started?, txn.received),
            _ => self.discard_clock?,
        };
        let received = u128::from(received);
        let rate = u128::from(rate);
        let nanos = (received % rate) * 1_000_000_000 / rate;
        let allowance = Duration::from_secs(u64::try_from(received / rate).ok()?)
            + Duration::from_nanos(u64::try_from(nanos).ok()?);
        started
            .checked_add(self.config.data_timeout)?
            .checked_add(allowance)
    }

    /// How long the client may stay silent in the current phase: the data timeout while a
    /// body is expected, the command timeout otherwise.
    fn idle_timeout(&self) -> Duration {
        match self.phase {
            Phase::Data | Phase::Bdat { .. } => self.config.data_timeout,
            _ => self.config.command_timeout,
        }
    }

    /// Tells the machine the time; if a deadline has passed it acts (sends the delayed
    /// greeting, or closes an idle session with `421 4.4.2`).
    pub fn handle_timeout(&mut self, now: Instant) {
        if !self.timed() {
            return;
        }
        let restarting = self.timer.restarting();
        match self.timer.expire(now, self.idle_timeout()) {
            Some(Expired::Greeting) => {
                self.phase = Phase::Command;
                self.queue_greeting();
            }
            Some(Expired::Idle) => {
                let text = replies::timeout(&self.config.hostname);
                self.close_with(text.as_bytes(), SessionError::Timeout);
            }
            Some(Expired::Released) => self.release(),
            None => {
                if restarting && std::mem::take(&mut self.body_starts_at_restart) {
                    if let Some(started) = self.txn.as_mut().and_then(|t| t.body_started.as_mut()) {
                        *started = (*started).max(now);
                    }
                }
                if self.body_deadline().is_some_and(|deadline| now >= deadline) {
                    let text = replies::timeout(&self.config.hostname);
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
            && self.held.is_none()
            && self.events.is_empty()
            && !self.eof
            && !matches!(self.phase, Phase::Closed | Phase::TlsHandoff)
            // While the greeting is held back nothing is processed: an early talker's first
            // bytes are kept (and reported), but the session takes no more until the
            // greeting is out, so what it holds stays bounded by one read.
            && (self.input.is_empty() || !matches!(self.phase, Phase::PreGreeting))
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
        self.decide_each(replies);
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
        match self.pending.take() {
            Some(Pending::Auth {
                mechanism,
                session,
                response,
            }) => {
                self.sasl_step(authenticator, nonce, mechanism, session, response);
                Ok(())
            }
            other => {
                // Leave any other pending decision in place.
                self.pending = other;
                Err(ServerError::WrongDecision(
                    "auth_step answers Event::AuthStep",
                ))
            }
        }
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
        self.bdat_refused = false;
        self.discard_clock = None;
        self.framer.reset();
        self.input.clear();
        self.timer.restart(now);
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
        if let Some(held) = self.held.take() {
            // The held reply goes out first: the client sees its answer, then the close.
            self.output.extend_from_slice(&held.output);
            if let Some(ending) = held.ending {
                // It already ends with its own 421.
                return self.close_silently(Err(ending));
            }
        }
        reply.encode(&mut self.output);
        self.close_silently(Err(SessionError::Shutdown));
    }
}
