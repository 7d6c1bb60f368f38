//! The POP3 client state machine.
//!
//! [`Client`] reads the greeting, asks `CAPA`, upgrades with `STLS` as its [`TlsPolicy`]
//! says (and asks `CAPA` again inside TLS), logs in with SASL `PLAIN` (RFC 5034) when
//! offered or `USER`/`PASS` otherwise, and then sends the application's commands, pipelined
//! when the server offers `PIPELINING` (RFC 2449 section 6.6), one at a time otherwise.
//! `RETR` and `TOP` stream as [`Event::MessageChunk`]s through mail-wire's dot decoder
//! (bare CR and LF preserved); listings stream entry by entry. [`UidlSync`] turns a `UIDL`
//! listing into what to fetch.
//!
//! # The driver loop
//!
//! ```
//! use std::time::Instant;
//! use mail_wire::Secret;
//! use pop3_proto::client::{Client, ClientConfig, Credentials, Event};
//!
//! let now = Instant::now();
//! let mut config = ClientConfig::pop3s(Credentials::password("alice", Secret::new("secret".into())));
//! let mut client = Client::new(config, now);
//! let mut wire = Vec::new();
//! let mut message = Vec::new();
//! let server_says: [&[u8]; 6] = [
//!     b"+OK ready\r\n",
//!     b"+OK\r\nUSER\r\n.\r\n",
//!     b"+OK send PASS\r\n",
//!     b"+OK logged in\r\n",
//!     b"+OK message follows\r\nSubject: hi\r\n\r\n..dot\r\n.\r\n",
//!     b"+OK bye\r\n",
//! ];
//! for bytes in server_says {
//!     while let Some(out) = client.poll_transmit() {
//!         wire.extend_from_slice(&out);
//!     }
//!     client.feed(now, bytes);
//!     while let Some(event) = client.poll_event() {
//!         match event {
//!             Event::LoggedIn => client.retr(now, 1)?,
//!             Event::MessageChunk(chunk) => message.extend_from_slice(&chunk),
//!             Event::MessageEnd { .. } => client.quit(now)?,
//!             Event::Closed(ending) => assert_eq!(ending, Ok(())),
//!             _ => {}
//!         }
//!     }
//! }
//! assert_eq!(message, b"Subject: hi\r\n\r\n.dot\r\n");
//! assert_eq!(wire, b"CAPA\r\nUSER alice\r\nPASS secret\r\nRETR 1\r\nQUIT\r\n");
//! assert!(client.is_closed());
//! # Ok::<(), pop3_proto::client::ClientError>(())
//! ```

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use mail_wire::Secret;
use mail_wire::dot::{BareLineEnding, DotDecoder, DotEvent};
use mail_wire::line::{BareLf, Frame, LineFramer};
use mail_wire::sasl::framing;
use mail_wire::sasl::{ClientSession, Mechanism, ScramClientConfig};
use mail_wire::session::Transmit;

use crate::capability::{Capabilities, Capability};
use crate::command::{Command, MAX_COMMAND_LINE};
use crate::response::{Response, ScanListing, UidListing};

mod config;
mod event;

pub use config::{ClientConfig, Credentials, TlsPolicy};
pub use event::{ClientError, Event, SessionError};

/// The most `CAPA` lines the client keeps: 256. RFC 2449 defines about a dozen
/// capabilities; a listing longer than this ends the session with
/// [`SessionError::TooManyCapabilities`], so that a server that never ends it cannot fill
/// memory.
pub const MAX_CAPABILITIES: usize = 256;

/// A command written (or queued to be written) and waiting for its response.
#[derive(Debug)]
enum Awaiting {
    Capa,
    Stls,
    User,
    Pass,
    Auth,
    Stat,
    /// `None`: the whole listing; `Some(n)`: message `n` alone.
    List(Option<u32>),
    Uidl(Option<u32>),
    Retr(u32),
    Dele(u32),
    Noop,
    Rset,
    Quit,
}

impl Awaiting {
    fn verb(&self) -> &'static str {
        match self {
            Awaiting::Capa => "CAPA",
            Awaiting::Stls => "STLS",
            Awaiting::User => "USER",
            Awaiting::Pass => "PASS",
            Awaiting::Auth => "AUTH",
            Awaiting::Stat => "STAT",
            Awaiting::List(_) => "LIST",
            Awaiting::Uidl(_) => "UIDL",
            Awaiting::Retr(_) => "RETR",
            Awaiting::Dele(_) => "DELE",
            Awaiting::Noop => "NOOP",
            Awaiting::Rset => "RSET",
            Awaiting::Quit => "QUIT",
        }
    }
}

/// What the input is expected to be.
#[derive(Debug)]
enum Reading {
    /// A status line.
    Status,
    /// Lines of a multi-line answer to this command, until `.`.
    Lines(Awaiting),
    /// A message's content.
    Body(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Greeting,
    Setup,
    TlsHandoff,
    Login,
    Ready,
    Closed,
}

/// One POP3 client session; see the [module docs](self).
pub struct Client {
    config: ClientConfig,
    input: BytesMut,
    out: VecDeque<Transmit>,
    framer: LineFramer,
    dot: DotDecoder,
    phase: Phase,
    reading: Reading,
    tls: bool,
    capabilities: Capabilities,
    /// Commands written or queued for writing, oldest first, with their sequence number.
    sent: VecDeque<(u64, Awaiting)>,
    /// Commands the application asked for that wait for their turn (no pipelining).
    queued: VecDeque<(Command<'static>, Awaiting)>,
    next_seq: u64,
    /// Commands with a sequence number below this were taken for the wire.
    taken_upto: u64,
    /// The value of `taken_upto` when the first octet of the input at hand arrived.
    head_taken: u64,
    sasl: Option<ClientSession>,
    /// An initial response too long for the AUTH line, for the first challenge.
    deferred_initial: Option<Secret<String>>,
    events: VecDeque<Event>,
    deadline_from: Instant,
    quit_sent: bool,
}

impl fmt::Debug for Client {
    // The output is left out: it can hold a PASS line (docs/design.md section 3.6).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("phase", &self.phase)
            .field("reading", &self.reading)
            .field("tls", &self.tls)
            .field("sent", &self.sent)
            .field("queued", &self.queued.len())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A session on a connection just opened at `now` (the greeting is still to come).
    pub fn new(config: ClientConfig, now: Instant) -> Self {
        Client {
            framer: LineFramer::new(config.max_response_line).with_bare_lf(BareLf::Accept),
            dot: DotDecoder::new(BareLineEnding::Preserve, u64::MAX),
            input: BytesMut::new(),
            out: VecDeque::new(),
            phase: Phase::Greeting,
            reading: Reading::Status,
            tls: config.implicit_tls,
            capabilities: Capabilities::default(),
            sent: VecDeque::new(),
            queued: VecDeque::new(),
            next_seq: 0,
            taken_upto: 0,
            head_taken: 0,
            sasl: None,
            deferred_initial: None,
            events: VecDeque::new(),
            deadline_from: now,
            quit_sent: false,
            config,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The capabilities from the last `CAPA`.
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// Whether the connection is TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Whether the session is over.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Whether the machine processes input now.
    pub fn wants_input(&self) -> bool {
        !matches!(self.phase, Phase::Closed | Phase::TlsHandoff)
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Bytes to write, if any.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.poll_transmit_marked().map(Transmit::into_bytes)
    }

    /// Bytes to write, marked [`Transmit::Secret`] for a `PASS` line and SASL responses.
    #[must_use]
    pub fn poll_transmit_marked(&mut self) -> Option<Transmit> {
        let piece = self.out.pop_front();
        if self.out.is_empty() {
            // Everything queued so far is on its way: responses to it may now come.
            self.taken_upto = self.next_seq;
        }
        piece
    }

    /// When [`Client::handle_timeout`] is due: while a response is awaited,
    /// [`ClientConfig::response_timeout`] after the command was queued or the last complete
    /// line (of a response, a listing or a message) arrived.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        // Also in the middle of a multi-line answer (its command is no longer in `sent`).
        let waiting = self.phase == Phase::Greeting
            || !self.sent.is_empty()
            || !matches!(self.reading, Reading::Status);
        if self.phase == Phase::Closed || self.phase == Phase::TlsHandoff || !waiting {
            return None;
        }
        self.deadline_from.checked_add(self.config.response_timeout)
    }

    /// Tells the machine the time; a response later than the timeout ends the session.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|due| now >= due) {
            self.close(Err(SessionError::Timeout));
        }
    }

    /// The server closed the connection.
    pub fn handle_eof(&mut self) {
        if self.phase != Phase::Closed {
            self.close(Err(SessionError::PeerClosed));
        }
    }

    /// The TLS handshake after [`Event::StartTls`] succeeded: `CAPA` is asked again.
    ///
    /// # Errors
    ///
    /// [`ClientError::NoTlsPending`] without a preceding [`Event::StartTls`].
    pub fn tls_established(&mut self, now: Instant) -> Result<(), ClientError> {
        if self.phase != Phase::TlsHandoff {
            return Err(ClientError::NoTlsPending);
        }
        self.tls = true;
        self.phase = Phase::Setup;
        self.capabilities = Capabilities::default();
        self.framer.reset();
        self.input.clear();
        self.deadline_from = now;
        self.send(Command::Capa, Awaiting::Capa);
        Ok(())
    }

    /// Sends `STAT`.
    ///
    /// # Errors
    ///
    /// [`ClientError::NotReady`] before [`Event::LoggedIn`], [`ClientError::Closed`] after
    /// `QUIT` or the end.
    pub fn stat(&mut self, now: Instant) -> Result<(), ClientError> {
        self.command(now, Command::Stat, Awaiting::Stat)
    }

    /// Sends `LIST` (all messages, or one).
    ///
    /// # Errors
    ///
    /// As [`Client::stat`].
    pub fn list(&mut self, now: Instant, message: Option<u32>) -> Result<(), ClientError> {
        self.command(now, Command::List(message), Awaiting::List(message))
    }

    /// Sends `UIDL` (all messages, or one).
    ///
    /// # Errors
    ///
    /// As [`Client::stat`].
    pub fn uidl(&mut self, now: Instant, message: Option<u32>) -> Result<(), ClientError> {
        self.command(now, Command::Uidl(message), Awaiting::Uidl(message))
    }

    /// Sends `RETR`.
    ///
    /// # Errors
    ///
    /// As [`Client::stat`].
    pub fn retr(&mut self, now: Instant, message: u32) -> Result<(), ClientError> {
        self.command(now, Command::Retr(message), Awaiting::Retr(message))
    }

    /// Sends `TOP`: the header and the first `lines` lines of the body.
    ///
    /// # Errors
    ///
    /// As [`Client::stat`].
    pub fn top(&mut self, now: Instant, message: u32, lines: u32) -> Result<(), ClientError> {
        self.command(
            now,
            Command::Top { message, lines },
            Awaiting::Retr(message),
        )
    }

    /// Sends `DELE`.
    ///
    /// # Errors
    ///
    /// As [`Client::stat`].
    pub fn dele(&mut self, now: Instant, message: u32) -> Result<(), ClientError> {
        self.command(now, Command::Dele(message), Awaiting::Dele(message))
    }

    /// Sends `NOOP`.
    ///
    /// # Errors
    ///
    /// As [`Client::stat`].
    pub fn noop(&mut self, now: Instant) -> Result<(), ClientError> {
        self.command(now, Command::Noop, Awaiting::Noop)
    }

    /// Sends `RSET`.
    ///
    /// # Errors
    ///
    /// As [`Client::stat`].
    pub fn rset(&mut self, now: Instant) -> Result<(), ClientError> {
        self.command(now, Command::Rset, Awaiting::Rset)
    }

    /// Sends `QUIT`: messages marked by `DELE` are removed (RFC 1939 section 6), and the
    /// session ends with `Ok(())` on the `+OK`.
    ///
    /// # Errors
    ///
    /// As [`Client::stat`].
    pub fn quit(&mut self, now: Instant) -> Result<(), ClientError> {
        self.command(now, Command::Quit, Awaiting::Quit)?;
        self.quit_sent = true;
        Ok(())
    }

    fn command(
        &mut self,
        now: Instant,
        command: Command<'static>,
        awaiting: Awaiting,
    ) -> Result<(), ClientError> {
        match self.phase {
            Phase::Closed => return Err(ClientError::Closed),
            Phase::Ready if !self.quit_sent => {}
            Phase::Ready => return Err(ClientError::Closed),
            _ => return Err(ClientError::NotReady),
        }
        // Idle: nothing awaited, and no multi-line answer half in (its command has left
        // `sent` once its status line came).
        let idle = self.sent.is_empty() && matches!(self.reading, Reading::Status);
        if idle {
            self.deadline_from = now;
        }
        // RFC 2449 section 6.6: without PIPELINING, one command at a time.
        if idle || self.capabilities.pipelining() {
            self.send(command, awaiting);
        } else {
            self.queued.push_back((command, awaiting));
        }
        Ok(())
    }

    /// Queues a command line for the wire.
    fn send(&mut self, command: Command<'_>, awaiting: Awaiting) {
        let mut line = BytesMut::new();
        // The machine builds its commands from numbers and from credentials checked before
        // login, so this refuses nothing; were it to, nothing half-written may go out.
        if command.encode(&mut line).is_err() {
            return self.fail(SessionError::UnsendableCredentials);
        }
        let line = line.freeze();
        self.out.push_back(match command {
            Command::Pass(_) => Transmit::Secret(line),
            _ => Transmit::Plain(line),
        });
        self.sent.push_back((self.next_seq, awaiting));
        self.next_seq += 1;
    }

    fn close(&mut self, ending: Result<(), SessionError>) {
        if self.phase == Phase::Closed {
            return;
        }
        self.phase = Phase::Closed;
        self.input.clear();
        self.sent.clear();
        self.queued.clear();
        self.events.push_back(Event::Closed(ending));
    }

    /// Ends the session: `QUIT` goes out (never credentials) and the session closes.
    fn fail(&mut self, error: SessionError) {
        if self.phase != Phase::Closed && !self.quit_sent {
            self.out
                .push_back(Transmit::Plain(Bytes::from_static(b"QUIT\r\n")));
        }
        self.close(Err(error));
    }

    /// Bytes read from the server, in any chunking.
    pub fn feed(&mut self, now: Instant, bytes: &[u8]) {
        if bytes.is_empty() || self.phase == Phase::Closed {
            return;
        }
        if self.phase == Phase::TlsHandoff {
            return self.close(Err(SessionError::StartTlsInjection));
        }
        let taken_now = self.taken_upto;
        if self.input.is_empty() {
            self.head_taken = taken_now;
        }
        self.input.extend_from_slice(bytes);
        while self.phase != Phase::Closed && self.phase != Phase::TlsHandoff {
            if let Reading::Body(message) = self.reading {
                let event = self.dot.next_event(&mut self.input);
                let progress = match &event {
                    Some(DotEvent::Data(chunk)) => memchr::memchr(b'\n', chunk).is_some(),
                    Some(_) => true,
                    None => false,
                };
                if progress {
                    // A line of the message completed: the response time starts over (a
                    // message may be long), but not for bytes of a line that never ends.
                    self.deadline_from = now;
                }
                match event {
                    Some(DotEvent::Data(chunk)) => {
                        self.events.push_back(Event::MessageChunk(chunk))
                    }
                    Some(DotEvent::End(result)) => {
                        let size = result.unwrap_or(self.dot.size());
                        self.events.push_back(Event::MessageEnd { message, size });
                        self.reading = Reading::Status;
                        self.head_taken = taken_now;
                        self.answered();
                    }
                    Some(DotEvent::Rejected(_)) | Some(_) => {}
                    None => break,
                }
                continue;
            }
            let Some(frame) = self.framer.next_frame(&mut self.input) else {
                break;
            };
            // The response time runs from the last complete line, not the last byte: a
            // server dribbling a line that never ends times out.
            self.deadline_from = now;
            let line = match frame {
                Frame::Line(line) => line,
                Frame::TooLong { .. } => return self.fail(SessionError::LineTooLong),
                _ => return self.fail(SessionError::Malformed(crate::ResponseError::BadStatus)),
            };
            self.on_line(&line);
            if matches!(self.reading, Reading::Status) {
                self.head_taken = taken_now;
            }
        }
        if self.phase == Phase::TlsHandoff && !self.input.is_empty() {
            // RFC 2595 section 4: nothing may follow the +OK to STLS before the handshake.
            self.close(Err(SessionError::StartTlsInjection));
        }
    }

    fn on_line(&mut self, line: &[u8]) {
        if let Reading::Lines(_) = &self.reading {
            return self.on_listing_line(line);
        }
        let response = match Response::parse(line) {
            Ok(response) => response.into_owned(),
            Err(error) => {
                if self.phase == Phase::Login && line.starts_with(b"+ ") || line == b"+" {
                    return self.on_challenge(line);
                }
                return self.fail(SessionError::Malformed(error));
            }
        };
        if self.phase == Phase::Greeting {
            if !response.is_ok() {
                return self.close(Err(SessionError::Refused(response)));
            }
            self.events.push_back(Event::Greeting(response));
            self.phase = Phase::Setup;
            self.send(Command::Capa, Awaiting::Capa);
            return;
        }
        let Some((seq, awaiting)) = self.sent.pop_front() else {
            return self.fail(SessionError::ReplyBeforeCommand);
        };
        if seq >= self.head_taken {
            return self.fail(SessionError::ReplyBeforeCommand);
        }
        self.on_response(awaiting, response);
    }

    fn on_response(&mut self, awaiting: Awaiting, response: Response<'static>) {
        let ok = response.is_ok();
        match awaiting {
            Awaiting::Capa => {
                if ok {
                    self.reading = Reading::Lines(Awaiting::Capa);
                    return;
                }
                self.after_capa();
            }
            Awaiting::Stls => {
                if ok {
                    self.phase = Phase::TlsHandoff;
                    self.events.push_back(Event::StartTls);
                } else if self.config.tls == TlsPolicy::Required {
                    self.fail(SessionError::TlsUnavailable);
                } else {
                    self.events.push_back(Event::PlaintextFallback);
                    self.login();
                }
            }
            Awaiting::User => {
                if ok {
                    let pass = Command::Pass(self.config.credentials.password.clone());
                    self.send(pass, Awaiting::Pass);
                } else {
                    self.fail(SessionError::AuthFailed(response));
                }
            }
            Awaiting::Pass | Awaiting::Auth => {
                if !ok {
                    return self.fail(SessionError::AuthFailed(response));
                }
                if let Some(mut sasl) = self.sasl.take() {
                    if let Err(error) = sasl.finish(None) {
                        return self.fail(SessionError::Sasl(error));
                    }
                }
                self.phase = Phase::Ready;
                self.events.push_back(Event::LoggedIn);
            }
            _ if !ok => {
                let command = awaiting.verb();
                if matches!(awaiting, Awaiting::Quit) {
                    return self.close(Err(SessionError::QuitRefused(response)));
                }
                self.events.push_back(Event::Refused { command, response });
                self.answered();
            }
            Awaiting::Stat => {
                let mut fields = response.text().split(' ');
                let count = fields.next().and_then(crate::parse::number);
                let size = fields.next().and_then(crate::parse::size);
                match (count, size) {
                    (Some(count), Some(size)) => self.events.push_back(Event::Stat { count, size }),
                    _ => {
                        return self.fail(SessionError::Malformed(
                            crate::ResponseError::BadField {
                                field: "maildrop listing",
                                offset: 4,
                            },
                        ));
                    }
                }
                self.answered();
            }
            Awaiting::List(None) | Awaiting::Uidl(None) => {
                self.reading = Reading::Lines(awaiting);
            }
            // RFC 1939 sections 5 and 7: `+OK n ...` answers `LIST n` and `UIDL n`; an
            // answer about another message belongs to another command.
            Awaiting::List(Some(message)) => {
                match ScanListing::parse(response.text().as_bytes()) {
                    Ok(entry) if entry.message == message => {
                        self.events.push_back(Event::Listed(entry))
                    }
                    Ok(_) => return self.fail(SessionError::Malformed(other_message())),
                    Err(error) => return self.fail(SessionError::Malformed(error)),
                }
                self.events.push_back(Event::ListingEnd);
                self.answered();
            }
            Awaiting::Uidl(Some(message)) => {
                match UidListing::parse(response.text().as_bytes()) {
                    Ok(entry) if entry.message == message => {
                        self.events.push_back(Event::Uid(entry.into_owned()))
                    }
                    Ok(_) => return self.fail(SessionError::Malformed(other_message())),
                    Err(error) => return self.fail(SessionError::Malformed(error)),
                }
                self.events.push_back(Event::ListingEnd);
                self.answered();
            }
            Awaiting::Retr(message) => {
                self.events.push_back(Event::MessageStart { message });
                self.dot.reset();
                self.reading = Reading::Body(message);
            }
            Awaiting::Dele(message) => {
                self.events.push_back(Event::Deleted { message });
                self.answered();
            }
            Awaiting::Noop | Awaiting::Rset => {
                self.events.push_back(Event::Done {
                    command: awaiting.verb(),
                });
                self.answered();
            }
            Awaiting::Quit => self.close(Ok(())),
        }
    }

    /// A command's answer is complete: send the next queued one.
    fn answered(&mut self) {
        if self.sent.is_empty() && matches!(self.reading, Reading::Status) {
            if let Some((command, awaiting)) = self.queued.pop_front() {
                self.send(command, awaiting);
            }
        }
    }

    fn on_listing_line(&mut self, line: &[u8]) {
        let Reading::Lines(awaiting) = std::mem::replace(&mut self.reading, Reading::Status) else {
            return;
        };
        if line == b"." {
            match awaiting {
                Awaiting::Capa => self.after_capa(),
                _ => {
                    self.events.push_back(Event::ListingEnd);
                    self.answered();
                }
            }
            return;
        }
        // A line starting with a dot is stuffed (RFC 1939 section 3).
        let line = line.strip_prefix(b".").unwrap_or(line);
        let result = match &awaiting {
            Awaiting::Capa if self.capabilities.list.len() >= MAX_CAPABILITIES => {
                return self.fail(SessionError::TooManyCapabilities);
            }
            Awaiting::Capa => Capability::parse(line).map(|c| {
                self.capabilities.list.push(c.into_owned());
            }),
            Awaiting::List(_) => ScanListing::parse(line).map(|e| {
                self.events.push_back(Event::Listed(e));
            }),
            _ => UidListing::parse(line).map(|e| {
                self.events.push_back(Event::Uid(e.into_owned()));
            }),
        };
        if let Err(error) = result {
            return self.fail(SessionError::Malformed(error));
        }
        self.reading = Reading::Lines(awaiting);
    }

    fn after_capa(&mut self) {
        self.events
            .push_back(Event::Capabilities(self.capabilities.clone()));
        if !self.tls {
            match self.config.tls {
                TlsPolicy::Required if !self.capabilities.stls() => {
                    return self.fail(SessionError::TlsUnavailable);
                }
                TlsPolicy::Required => return self.send(Command::Stls, Awaiting::Stls),
                TlsPolicy::Opportunistic if self.capabilities.stls() => {
                    return self.send(Command::Stls, Awaiting::Stls);
                }
                TlsPolicy::Opportunistic => self.events.push_back(Event::PlaintextFallback),
                TlsPolicy::Never => {}
            }
        }
        self.login();
    }

    fn login(&mut self) {
        if !self.tls && !self.config.allow_plaintext_auth {
            return self.fail(SessionError::PlaintextCredentials);
        }
        self.phase = Phase::Login;
        let credentials = self.config.credentials.clone();
        let offered = self.capabilities.sasl();
        let session = match &credentials.scram_nonce {
            Some(nonce) if offered.contains(&Mechanism::ScramSha256) => {
                Some(ClientSession::scram_sha256(
                    None,
                    &credentials.user,
                    credentials.password.clone(),
                    nonce.clone(),
                    ScramClientConfig::default(),
                ))
            }
            _ if offered.contains(&Mechanism::Plain) => Some(ClientSession::plain(
                None,
                &credentials.user,
                credentials.password.clone(),
            )),
            _ => None,
        };
        let Some(session) = session else {
            // RFC 1939 section 7: the arguments are on the command line; a control octet
            // would cut it (and a CR or LF send the rest as a command of its own).
            let control = |text: &str| text.bytes().any(|b| b < 0x20 || b == 0x7f);
            if control(&credentials.user) || control(credentials.password.expose()) {
                return self.fail(SessionError::UnsendableCredentials);
            }
            return self.send(Command::User(&credentials.user), Awaiting::User);
        };
        let mut session = match session {
            Ok(session) => session,
            Err(error) => return self.fail(SessionError::Sasl(error)),
        };
        let initial = match session.initial_response() {
            Ok(initial) => initial,
            Err(error) => return self.fail(SessionError::Sasl(error)),
        };
        let encoded = initial.map(|r| framing::encode_initial_response(r.expose()));
        let head = format!("AUTH {}", session.mechanism().name());
        self.sasl = Some(session);
        match encoded {
            // RFC 5034 section 4: an initial response only if the line stays within 255.
            Some(encoded) if head.len() + 1 + encoded.expose().len() + 2 <= MAX_COMMAND_LINE => {
                self.out
                    .push_back(Transmit::Plain(Bytes::from(format!("{head} "))));
                let mut secret = encoded.expose().as_bytes().to_vec();
                secret.extend_from_slice(b"\r\n");
                self.out.push_back(Transmit::Secret(Bytes::from(secret)));
            }
            // Too long for the command line: sent as the answer to the server's first,
            // empty, challenge instead (RFC 5034 section 4).
            encoded => {
                self.deferred_initial = encoded;
                self.out
                    .push_back(Transmit::Plain(Bytes::from(format!("{head}\r\n"))));
            }
        }
        self.sent.push_back((self.next_seq, Awaiting::Auth));
        self.next_seq += 1;
    }

    /// A `+ ` line during AUTH: the next challenge.
    fn on_challenge(&mut self, line: &[u8]) {
        let Some((seq, Awaiting::Auth)) = self.sent.front() else {
            return self.fail(SessionError::Malformed(crate::ResponseError::BadStatus));
        };
        if *seq >= self.head_taken {
            return self.fail(SessionError::ReplyBeforeCommand);
        }
        let challenge = line.strip_prefix(b"+ ").unwrap_or(b"");
        let step = match self.deferred_initial.take() {
            Some(initial) if challenge.is_empty() => Ok(initial),
            _ => framing::decode_challenge(challenge)
                .and_then(|challenge| {
                    self.sasl
                        .as_mut()
                        .map_or(Err(mail_wire::sasl::SaslError::Cancelled), |s| {
                            s.step(&challenge)
                        })
                })
                .map(|response| framing::encode_response(response.expose())),
        };
        match step {
            Ok(encoded) => {
                let mut secret = encoded.expose().as_bytes().to_vec();
                secret.extend_from_slice(b"\r\n");
                self.out.push_back(Transmit::Secret(Bytes::from(secret)));
                // The response must be taken before the next challenge or result may come.
                if let Some(front) = self.sent.front_mut() {
                    front.0 = self.next_seq;
                }
                self.next_seq += 1;
            }
            Err(error) => self.fail(SessionError::Sasl(error)),
        }
    }
}

/// The error for a `LIST n` or `UIDL n` answer about another message.
fn other_message() -> crate::ResponseError {
    crate::ResponseError::BadField {
        field: "message number",
        offset: 0,
    }
}

/// Which messages a `UIDL` listing says are new, given the unique-ids already fetched: the
/// heart of keeping messages on the server (`pop3-fetch --keep`).
///
/// ```
/// use pop3_proto::client::UidlSync;
/// use pop3_proto::{Uid, UidListing};
///
/// let mut sync = UidlSync::new(["a1".to_string()]);
/// sync.add(&UidListing { message: 1, uid: Uid::new("a1").unwrap() });
/// sync.add(&UidListing { message: 2, uid: Uid::new("b2").unwrap() });
/// assert_eq!(sync.to_fetch(), [(2, "b2".to_string())]);
/// assert!(sync.gone().is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct UidlSync {
    known: HashSet<String>,
    seen: HashSet<String>,
    new: Vec<(u32, String)>,
}

impl UidlSync {
    /// Starts from the unique-ids already fetched.
    pub fn new(known: impl IntoIterator<Item = String>) -> Self {
        UidlSync {
            known: known.into_iter().collect(),
            seen: HashSet::new(),
            new: Vec::new(),
        }
    }

    /// One entry of the listing ([`Event::Uid`]).
    pub fn add(&mut self, entry: &UidListing<'_>) {
        self.seen.insert(entry.uid.as_str().to_owned());
        if !self.known.contains(entry.uid.as_str()) {
            self.new
                .push((entry.message, entry.uid.as_str().to_owned()));
        }
    }

    /// The messages to fetch: number and unique-id, in listing order.
    pub fn to_fetch(&self) -> &[(u32, String)] {
        &self.new
    }

    /// The known unique-ids the listing did not show: messages removed from the server
    /// since, which a client keeping a list of fetched unique-ids can forget. Sorted.
    pub fn gone(&self) -> Vec<&str> {
        let mut gone: Vec<&str> = self
            .known
            .iter()
            .filter(|uid| !self.seen.contains(*uid))
            .map(String::as_str)
            .collect();
        gone.sort_unstable();
        gone
    }
}
