//! The SMTP and LMTP client state machine.
//!
//! [`Client`] runs one session against a server: it waits for the greeting, says EHLO (HELO
//! when the server does not know EHLO, LHLO in LMTP), upgrades to TLS with STARTTLS as the
//! [`TlsPolicy`] says, authenticates with the best SASL mechanism both sides know, and then
//! sends mail transactions, one after the other, until [`Client::quit`]. It never touches a
//! socket, a clock or a random number generator: time is an argument, and the one piece of
//! randomness it needs (the SCRAM nonce) comes with the [`Credentials`].
//!
//! ```text
//!  Client::new ─▶ 220 ─▶ EHLO ─▶ [STARTTLS ─▶ Event::StartTls ─▶ tls_established ─▶ EHLO]
//!              ─▶ [AUTH ...] ─▶ Event::Ready ─▶ send_message ─▶ MAIL, RCPT... ─▶ Event::BodyReady
//!              ─▶ send_body... finish_body ─▶ Event::MessageAccepted ─▶ Event::Ready ─▶ quit
//! ```
//!
//! # The driver loop
//!
//! ```
//! use std::collections::VecDeque;
//! use std::time::Instant;
//! use smtp_proto::client::{Client, ClientConfig, Envelope, Event};
//! use smtp_proto::{Domain, ForwardPath, Host, Mailbox, ReversePath};
//!
//! let now = Instant::now();
//! let mut config = ClientConfig::default();
//! config.hello_name = Host::Domain(Domain::new("client.example")?);
//! let mut client = Client::new(config, now);
//! let mut outbox = VecDeque::from([Envelope::new(ReversePath::Mailbox(
//!     Mailbox::parse("alice@client.example")?.into_owned(),
//! ))
//! .with_recipient(ForwardPath::Mailbox(Mailbox::parse("bob@mx.example")?.into_owned()))]);
//!
//! // What the server says, one flight at a time; a real driver reads its socket instead.
//! let mut server: VecDeque<&[u8]> = VecDeque::from([
//!     &b"220 mx.example ESMTP\r\n"[..],
//!     b"250-mx.example\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n",
//!     b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
//!     b"250 2.0.0 Ok: queued as 4F1D3\r\n",
//!     b"221 2.0.0 Bye\r\n",
//! ]);
//! let mut wire = Vec::new(); // what we would write to the socket
//! let mut accepted = Vec::new();
//! loop {
//!     while let Some(event) = client.poll_event() {
//!         match event {
//!             Event::Ready => match outbox.pop_front() {
//!                 Some(envelope) => client.send_message(now, envelope)?,
//!                 None => client.quit(now),
//!             },
//!             Event::BodyReady => {
//!                 // Stream the body; a large one goes in pieces while `can_send_body()`.
//!                 client.send_body(now, b"Subject: hi\r\n\r\n")?;
//!                 client.finish_body_with(now, b".a line that starts with a dot\r\n")?;
//!             }
//!             Event::MessageAccepted(reply) => accepted.push(reply.code().get()),
//!             Event::MessageRejected(why) => panic!("rejected: {why:?}"),
//!             Event::StartTls => { /* do the TLS handshake, then client.tls_established(now)? */ }
//!             Event::Closed(result) => result?,
//!             _ => {}
//!         }
//!     }
//!     while let Some(bytes) = client.poll_transmit() {
//!         wire.extend_from_slice(&bytes);
//!     }
//!     if client.is_closed() {
//!         break;
//!     }
//!     match server.pop_front() {
//!         Some(bytes) => client.feed(now, bytes),
//!         None => client.handle_eof(),
//!     }
//! }
//! assert_eq!(accepted, [250]);
//! assert_eq!(
//!     String::from_utf8(wire)?,
//!     "EHLO client.example\r\n\
//!      MAIL FROM:<alice@client.example>\r\nRCPT TO:<bob@mx.example>\r\nDATA\r\n\
//!      Subject: hi\r\n\r\n..a line that starts with a dot\r\n.\r\n\
//!      QUIT\r\n"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A real driver also calls [`Client::handle_timeout`] when [`Client::poll_timeout`] is due,
//! keeps reading while it writes (a pipelining server may block until its replies are read,
//! RFC 2920 section 3.3), and on [`Event::StartTls`] writes what is left in
//! [`Client::poll_transmit`], does the TLS handshake and calls [`Client::tls_established`].
//!
//! # Transactions
//!
//! | server offers | the client sends |
//! |---|---|
//! | `PIPELINING` (RFC 2920) | MAIL, every RCPT and DATA as one group; otherwise one command at a time |
//! | `CHUNKING` (RFC 3030) | the body as `BDAT n` chunks (one per [`Client::send_body`]) and `BDAT n LAST` or `BDAT 0 LAST`, after the RCPT replies; otherwise DATA with dot-stuffing |
//! | `SIZE` (RFC 1870) | `SIZE=` when the envelope declares a size; a larger size than the limit is refused before anything is sent |
//!
//! Every RCPT reply is an [`Event::Recipient`]. When no recipient is accepted the body is not
//! sent ([`Rejection::NoRecipients`]). The reply to the body is an [`Event::MessageAccepted`] or
//! [`Event::MessageRejected`]; in LMTP it is one [`Event::Delivery`] per accepted recipient
//! (RFC 2033 section 4.2). After a failed transaction the next one starts with RSET.
//!
//! # Security
//!
//! - **STARTTLS boundary** (RFC 3207 section 4.2, CVE-2021-38371 class): any byte after the
//!   `220` reply to STARTTLS, whether in the same read or fed before
//!   [`Client::tls_established`], ends the session with [`SessionError::StartTlsInjection`].
//!   After the handshake everything learned before it is forgotten and EHLO is sent again.
//! - **No downgrade**: under [`TlsPolicy::Required`] a server that does not offer STARTTLS or
//!   refuses it is left with QUIT ([`SessionError::TlsNotOffered`],
//!   [`SessionError::StartTlsRefused`]); nothing else is sent in plaintext.
//! - **No plaintext credentials**: AUTH is only sent over TLS unless
//!   [`ClientConfig::allow_plaintext_auth`] is set. Configured credentials that cannot be used
//!   end the session rather than sending mail unauthenticated.
//! - **SMTP smuggling**: bare CR and LF in a body become CRLF (RFC 5321 section 2.3.8), by DATA
//!   and by BDAT alike (only a `BODY=BINARYMIME` body goes byte for byte, RFC 3030 section 3),
//!   and DATA bodies are dot-stuffed, so no body can contain an end-of-data marker.
//! - **Bounded memory**: reply lines and replies are bounded ([`ClientConfig::max_reply_line_len`],
//!   [`ClientConfig::max_reply_lines`]); input is processed as it arrives, so at most one
//!   partial line is buffered. No input makes the machine panic.
//! - Credentials are [`Secret`]s, and the `Debug` output of a [`Client`] shows no buffer
//!   contents (an AUTH line waiting in the output holds a password).
//!
//! # Timeouts
//!
//! Each reply has a deadline from the RFC 5321 section 4.5.3.2 defaults in [`Timeouts`],
//! counted from the last reply (or from the command, when nothing else was outstanding).
//! [`Client::poll_timeout`] returns it; past it, [`Client::handle_timeout`] ends the session
//! with [`SessionError::Timeout`].

// Where the code is (for contributors; the public docs above are for users):
//
// | file | what it holds |
// |---|---|
// | `client/mod.rs` | `Client`: its state, every public method (each hands its work to the file below that does it), reading replies and handing each to its step, ending the session |
// | `client/config.rs` | `ClientConfig`, `TlsPolicy`, `Timeouts`, `Credentials`, the fixed limits |
// | `client/event.rs` | `Event`, `Rejection`, `Awaiting`, `SessionError`, `ClientError` |
// | `client/envelope.rs` | `Envelope`, `Recipient`, `EnvelopeError` and the check of an envelope against the server's extensions |
// | `client/setup.rs` | the greeting, EHLO/HELO/LHLO and STARTTLS |
// | `client/auth.rs` | AUTH: choosing the mechanism, challenges and responses |
// | `client/transaction.rs` | MAIL, RCPT, DATA, RSET and their replies (behind `Client::send_message`) |
// | `client/body.rs` | the body (behind `Client::send_body` and `Client::finish_body`): dot-stuffing, BDAT chunks, CRLF line endings |
// | `client/pending.rs` | the queue of replies the client waits for, and what each answers |
// | `client/timer.rs` | the one deadline type, behind `Client::poll_timeout` and `Client::handle_timeout` |
// | `client/output.rs` | every line the client writes |

mod auth;
mod body;
mod config;
mod envelope;
mod event;
mod output;
mod pending;
mod setup;
mod timer;
mod transaction;

use std::collections::VecDeque;
use std::fmt;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use mail_wire::line::{BareLf, Frame, LineFramer};
use mail_wire::sasl::Mechanism;
use mail_wire::session::Transmit;

use crate::command::Command;
use crate::error::ReplyError;
use crate::reply::{Capabilities, Reply, ReplyParser};
#[cfg(doc)]
use mail_wire::Secret;

pub use config::{ClientConfig, Credentials, Timeouts, TlsPolicy};
pub use envelope::{Envelope, EnvelopeError, Recipient};
pub use event::{Awaiting, ClientError, Event, Printable, Rejection, SessionError};

use auth::AuthExchange;
use body::BodyState;
use config::FEED_CHUNK;
use pending::{Expect, Pending};
use transaction::Transaction;

/// Where the session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the greeting, EHLO, STARTTLS or AUTH replies.
    Setup,
    /// `220` to STARTTLS received; waiting for [`Client::tls_established`].
    TlsHandshake,
    /// Idle between transactions.
    Ready,
    /// A mail transaction is open (`Client::txn`).
    Transaction,
    /// QUIT sent.
    Quitting,
    /// [`Event::Closed`] was queued.
    Closed,
}

/// Whether the application asked to end the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quit {
    /// Not yet.
    No,
    /// Send QUIT once the session is idle.
    Requested,
    /// QUIT went out.
    Sent,
}

/// One SMTP or LMTP client session; see the [module docs](self).
pub struct Client {
    config: ClientConfig,
    input: BytesMut,
    /// Octets of the current `feed` call not yet moved into `input` (it is framed in pieces):
    /// they follow whatever `input` ends with, so they count for the STARTTLS boundary.
    unfed: usize,
    /// How many `feed` calls have begun: the number of the read being processed.
    reads: u64,
    /// The read in which the line being framed began (the partial line in `input`, or the
    /// next line), and the read in which the reply being assembled began.
    line_from: u64,
    reply_from: Option<u64>,
    output: BytesMut,
    /// Output split around a secret (a SASL response), oldest first; `output` follows it.
    marked: VecDeque<Transmit>,
    framer: LineFramer,
    replies: ReplyParser,
    events: VecDeque<Event>,
    /// The replies waited for, with the session's one deadline.
    pending: Pending,
    phase: Phase,
    quit: Quit,
    tls: bool,
    esmtp: bool,
    capabilities: Option<Capabilities>,
    auth: Option<AuthExchange>,
    authenticated: Option<Mechanism>,
    txn: Option<Transaction>,
    /// The last transaction failed after MAIL was accepted: start the next one with RSET.
    needs_rset: bool,
    error: Option<SessionError>,
}

impl fmt::Debug for Client {
    // Buffers are left out: an AUTH line in the output carries credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("phase", &self.phase)
            .field("tls", &self.tls)
            .field("authenticated", &self.authenticated)
            .field("pending", &self.pending)
            .field("buffered_input", &self.input.len())
            .field(
                "buffered_output",
                &(self.output.len() + self.marked.iter().map(|t| t.bytes().len()).sum::<usize>()),
            )
            .field("events", &self.events.len())
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts a session at `now`, on a connection just opened: the client waits for the
    /// greeting.
    pub fn new(config: ClientConfig, now: Instant) -> Self {
        let framer = LineFramer::new(config.max_reply_line_len).with_bare_lf(BareLf::Accept);
        let replies = ReplyParser::new(config.max_reply_lines);
        let tls = config.implicit_tls;
        let pending = Pending::greeting(now, &config.timeouts);
        Client {
            config,
            input: BytesMut::new(),
            unfed: 0,
            reads: 0,
            line_from: 0,
            reply_from: None,
            output: BytesMut::new(),
            marked: VecDeque::new(),
            framer,
            replies,
            events: VecDeque::new(),
            pending,
            phase: Phase::Setup,
            quit: Quit::No,
            tls,
            esmtp: false,
            capabilities: None,
            auth: None,
            authenticated: None,
            txn: None,
            needs_rset: false,
            error: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// What the server announced in its last EHLO or LHLO reply (empty after HELO); `None`
    /// before it, and between STARTTLS and the EHLO that follows the handshake.
    pub fn capabilities(&self) -> Option<&Capabilities> {
        self.capabilities.as_ref()
    }

    /// Whether the connection is TLS (implicit, or after STARTTLS).
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The mechanism the session authenticated with, if it did.
    pub fn authenticated(&self) -> Option<Mechanism> {
        self.authenticated
    }

    /// Whether [`Client::send_message`] may be called.
    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// Whether the machine processes input now: not during a STARTTLS hand-off (any byte then
    /// is an injection and ends the session) and not once closed. The client otherwise always
    /// reads, so that a server closing an idle connection is noticed.
    pub fn wants_input(&self) -> bool {
        !matches!(self.phase, Phase::Closed | Phase::TlsHandshake)
    }

    /// Whether the session is over ([`Event::Closed`] was queued).
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Why the session failed, once it has.
    pub fn error(&self) -> Option<&SessionError> {
        self.error.as_ref()
    }

    /// Takes bytes read from the server. Never fails: what the server does wrong comes out
    /// as events. Input is framed as it arrives, so at most one partial line stays buffered.
    pub fn feed(&mut self, now: Instant, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.reads += 1;
        if self.input.is_empty() {
            // No partial line is waiting: the next line starts in this read.
            self.line_from = self.reads;
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            match self.phase {
                Phase::Closed => break,
                Phase::TlsHandshake => {
                    self.abort(SessionError::StartTlsInjection);
                    break;
                }
                _ => {}
            }
            let (piece, tail) = rest.split_at(rest.len().min(FEED_CHUNK));
            self.input.extend_from_slice(piece);
            self.unfed = tail.len();
            self.process(now);
            rest = tail;
        }
        self.unfed = 0;
    }

    /// The server closed the connection (end of stream).
    pub fn handle_eof(&mut self) {
        match self.phase {
            Phase::Closed => {}
            Phase::Quitting => self.close(Ok(())),
            _ => self.abort(SessionError::ConnectionClosed),
        }
    }

    /// The next event, in order.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Bytes to write to the server, if any: everything queued, in one piece. A trace should
    /// use [`Client::poll_transmit_marked`] instead, which tells credentials apart.
    ///
    /// Take everything (until `None`) before feeding the next read, as a driver writes
    /// before it reads: a command counts as sent once the output is empty, and a reply read
    /// before its command was sent ends the session ([`SessionError::ReplyBeforeCommand`]).
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        // Everything queued in one piece, as before output was marked: callers that check
        // what they write line by line see whole lines.
        let first = self.next_transmit()?.into_bytes();
        let Some(second) = self.next_transmit() else {
            return Some(first);
        };
        let mut all = BytesMut::from(&first[..]);
        all.extend_from_slice(second.bytes());
        while let Some(next) = self.next_transmit() {
            all.extend_from_slice(next.bytes());
        }
        Some(all.freeze())
    }

    /// Bytes to write to the server, if any, from the same queue as
    /// [`Client::poll_transmit`], with credentials marked [`Transmit::Secret`]: the initial
    /// response on an AUTH line (the line's start, `AUTH PLAIN `, is a plain piece before
    /// it) and every SASL response line, each through its CRLF. The mark comes from what the
    /// client sent, not from what the server said, so no reply can make a trace show one.
    #[must_use]
    pub fn poll_transmit_marked(&mut self) -> Option<Transmit> {
        self.next_transmit()
    }

    /// When [`Client::handle_timeout`] should be called: the deadline of the oldest
    /// outstanding reply, or `None` when none is outstanding.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase == Phase::Closed {
            return None;
        }
        self.pending.deadline()
    }

    /// Tells the machine the time; past the deadline the session ends with
    /// [`SessionError::Timeout`] (or cleanly, if only QUIT was unanswered).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.phase == Phase::Closed {
            return;
        }
        match self.pending.expired(now) {
            Some(Expect::Quit) => self.close(Ok(())),
            Some(expect) => self.abort(SessionError::Timeout(expect.awaiting())),
            None => {}
        }
    }

    /// The driver finished the TLS handshake after [`Event::StartTls`]. Everything learned
    /// before is forgotten and EHLO (LHLO) is sent again.
    ///
    /// # Errors
    ///
    /// [`ClientError::NoTlsPending`] without a preceding [`Event::StartTls`], or the error
    /// the session ended with.
    pub fn tls_established(&mut self, now: Instant) -> Result<(), ClientError> {
        self.check_open()?;
        if self.phase != Phase::TlsHandshake {
            return Err(ClientError::NoTlsPending);
        }
        self.tls = true;
        self.esmtp = false;
        self.capabilities = None;
        self.input.clear();
        self.framer.reset();
        self.replies = ReplyParser::new(self.config.max_reply_lines);
        self.reply_from = None;
        self.phase = Phase::Setup;
        self.send_hello(now, self.first_hello());
        Ok(())
    }

    /// Starts a mail transaction. With PIPELINING, MAIL, the RCPTs and DATA go out at once.
    /// Each RCPT reply comes as [`Event::Recipient`]; then [`Event::BodyReady`] (or
    /// [`Event::MessageRejected`]).
    ///
    /// # Errors
    ///
    /// [`ClientError::Envelope`] if the server cannot take this envelope (nothing is sent and
    /// the session stays ready); [`ClientError::NotReady`] before [`Event::Ready`]; the
    /// session's error once it is closed.
    pub fn send_message(&mut self, now: Instant, envelope: Envelope) -> Result<(), ClientError> {
        self.check_open()?;
        if self.phase != Phase::Ready {
            return Err(ClientError::NotReady);
        }
        self.start_transaction(now, envelope)
    }

    /// Whether [`Client::send_body`] and [`Client::finish_body`] may be called now: a body is
    /// open and, for BDAT without PIPELINING, the previous chunk was answered.
    pub fn can_send_body(&self) -> bool {
        self.body_ready()
    }

    /// Sends the next piece of the body. Bare CR and LF become CRLF (RFC 5321 section 2.3.8),
    /// except in a `BODY=BINARYMIME` body (RFC 3030 section 3), which goes byte for byte. For
    /// DATA the piece is then dot-stuffed; for BDAT it becomes one `BDAT n` chunk (a piece
    /// that leaves nothing to send, empty or a final CR held back until the next piece shows
    /// whether an LF follows, sends nothing).
    ///
    /// # Errors
    ///
    /// [`ClientError::NoBody`] when no body is open, [`ClientError::BodyNotReady`] when the
    /// previous chunk is unanswered and the server does not pipeline; the session's error
    /// once it is closed.
    pub fn send_body(&mut self, now: Instant, chunk: &[u8]) -> Result<(), ClientError> {
        self.check_body()?;
        self.write_body(now, chunk)
    }

    /// Ends the body: `.` after DATA, `BDAT 0 LAST` after chunks. The outcome comes as
    /// [`Event::MessageAccepted`] or [`Event::MessageRejected`] (LMTP: [`Event::Delivery`]).
    ///
    /// # Errors
    ///
    /// As [`Client::send_body`].
    pub fn finish_body(&mut self, now: Instant) -> Result<(), ClientError> {
        self.finish_body_with(now, &[])
    }

    /// Sends `chunk` as the last piece of the body and ends it: for BDAT one `BDAT n LAST`
    /// (the whole message in one command when nothing was sent before).
    ///
    /// # Errors
    ///
    /// As [`Client::send_body`].
    pub fn finish_body_with(&mut self, now: Instant, chunk: &[u8]) -> Result<(), ClientError> {
        self.check_body()?;
        self.end_body(now, chunk)
    }

    /// Ends the session with QUIT, now if the session is idle, otherwise as soon as it is:
    /// after the current transaction (whose body you still finish) or setup. With PIPELINING,
    /// QUIT follows the end of a body at once (RFC 2920 section 3.1). The session closes on
    /// the `221` reply ([`Event::Closed`] with `Ok`).
    pub fn quit(&mut self, now: Instant) {
        if self.quit != Quit::No || self.phase == Phase::Closed {
            return;
        }
        let after_body = self.pipelining()
            && self.txn.as_ref().is_some_and(|txn| {
                !txn.failed && txn.body == BodyState::Closed && txn.chunks_in_flight == 0
            })
            && self.pending.back() == Some(Expect::EndOfData);
        if self.phase == Phase::Ready || after_body {
            self.send_quit(now);
        } else {
            self.quit = Quit::Requested;
        }
    }

    // ---- input ----

    /// Frames what `feed` put in `input` into reply lines and replies, and hands each reply
    /// on.
    fn process(&mut self, now: Instant) {
        while matches!(
            self.phase,
            Phase::Setup | Phase::Ready | Phase::Transaction | Phase::Quitting
        ) {
            let Some(frame) = self.framer.next_frame(&mut self.input) else {
                break;
            };
            // The line just framed began in `line_from`; every line after it in this read.
            let line_from = std::mem::replace(&mut self.line_from, self.reads);
            match frame {
                Frame::Line(line) => {
                    let reply_from = *self.reply_from.get_or_insert(line_from);
                    match self.replies.push_line(&line) {
                        Ok(Some(reply)) => {
                            self.reply_from = None;
                            self.on_reply(now, reply, reply_from);
                        }
                        Ok(None) => {}
                        Err(error) => self.abort(SessionError::MalformedReply(error)),
                    }
                }
                Frame::TooLong { limit } => self.abort(SessionError::ReplyTooLong { limit }),
                // Bare LF is accepted as a line ending and `Unterminated` only comes from
                // `LineFramer::finish`; anything else is not a reply line.
                _ => self.abort(SessionError::MalformedReply(ReplyError::Syntax {
                    rule: "Reply-line",
                    line: 0,
                    offset: 0,
                })),
            }
        }
    }

    /// One complete reply, whose first octet came in read number `from`: it answers the
    /// front of the pending queue, and goes to the step that waits for it. A reply read
    /// before the command it would answer was taken for the wire answers nothing: the
    /// server sent it ahead, and the session ends ([`SessionError::ReplyBeforeCommand`]).
    fn on_reply(&mut self, now: Instant, reply: Reply<'static>, from: u64) {
        let Some(expect) = self.pending.front() else {
            return self.abort(if reply.code().get() == 421 {
                SessionError::ServiceUnavailable(reply)
            } else {
                SessionError::UnexpectedReply(reply)
            });
        };
        // A 421 ends the session whenever it comes (RFC 5321 section 3.8).
        if !self.pending.front_sent_before(from) && reply.code().get() != 421 {
            return self.abort(SessionError::ReplyBeforeCommand {
                awaiting: expect.awaiting(),
                reply,
            });
        }
        if expect == Expect::Quit {
            return self.close(Ok(()));
        }
        if reply.code().get() == 421 {
            return self.abort(SessionError::ServiceUnavailable(reply));
        }
        let done = expect != Expect::EndOfData || self.end_replies_left() <= 1;
        self.pending.answered(now, done, &self.config.timeouts);
        match expect {
            Expect::Greeting => self.on_greeting(now, reply),
            Expect::Hello(hello) => self.on_hello(now, hello, reply),
            Expect::StartTls => self.on_starttls(now, reply),
            Expect::Auth => self.on_auth(now, reply),
            Expect::AuthCancel => self.on_auth_cancelled(),
            Expect::Quit => {}
            _ => self.on_transaction_reply(now, expect, reply),
        }
    }

    // ---- the end ----

    /// Sends QUIT and waits for `221`.
    fn send_quit(&mut self, now: Instant) {
        self.quit = Quit::Sent;
        if self.phase == Phase::Ready {
            self.phase = Phase::Quitting;
        }
        self.send_command(now, Expect::Quit, &Command::Quit);
    }

    /// The session is idle: ready for a message, or leaving.
    fn idle(&mut self, now: Instant) {
        match self.quit {
            Quit::Sent => self.phase = Phase::Quitting,
            Quit::Requested => {
                self.phase = Phase::Ready;
                self.send_quit(now);
            }
            Quit::No => {
                self.phase = Phase::Ready;
                self.events.push_back(Event::Ready);
            }
        }
    }

    /// Ends the session politely: the stream is in step, so QUIT is sent (not waited for).
    fn give_up(&mut self, error: SessionError) {
        self.write_quit();
        self.close(Err(error));
    }

    /// Ends the session without another word: the server is gone or cannot be trusted.
    fn abort(&mut self, error: SessionError) {
        self.close(Err(error));
    }

    /// Ends the session: nothing more is read or waited for.
    fn close(&mut self, result: Result<(), SessionError>) {
        self.phase = Phase::Closed;
        self.pending.clear();
        self.input.clear();
        self.txn = None;
        self.auth = None;
        if let Err(error) = &result {
            self.error = Some(error.clone());
        }
        self.events.push_back(Event::Closed(result));
    }

    // ---- checks ----

    /// Whether commands go out in groups (RFC 2920): configured and offered.
    fn pipelining(&self) -> bool {
        self.config.pipelining && self.capabilities.as_ref().is_some_and(|c| c.pipelining)
    }

    /// `Ok` while the session is open, else the error a call gets.
    fn check_open(&self) -> Result<(), ClientError> {
        if self.phase != Phase::Closed {
            return Ok(());
        }
        Err(match &self.error {
            Some(error) => ClientError::Session(error.clone()),
            None => ClientError::Closed,
        })
    }
}
