//! [`Connection`]: one session over one tokio stream.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, BytesMut};
use mail_tls::pki_types::ServerName;
use mail_tls::rustls::{ClientConfig, ServerConfig};
use mail_tls::tokio::tokio_rustls::TlsStream;
use mail_tls::tokio::{HandshakeOptions, starttls_accept, starttls_connect};
use mail_tls::{SessionInfo, TlsError};
use mail_wire::session::{EventKind, Session, Transmit};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::time::Instant as Deadline;

use crate::stream::Stream;

/// The most read from the stream at once. Small enough that an idle session costs little,
/// large enough for a pipelined burst.
pub const READ_CHUNK: usize = 4096;

/// The first read's size. A read that fills its space doubles the next one, up to
/// [`READ_CHUNK`]; one that fills less than a quarter halves it, down to this. A session
/// that exchanges short commands then holds a small buffer while it waits, and a stream of
/// message data is read [`READ_CHUNK`] at a time after a few reads.
const MIN_READ: usize = 512;

/// Output buffer capacity kept once everything is written: a larger one (a `RETR` of a big
/// message, a long listing) is given back, so that an idle session does not hold the largest
/// output it ever sent.
const KEEP_OUTPUT: usize = 4096;

/// How long the driver keeps reading the peer's last words after a write failed, when it
/// reads while writing ([`Connection::with_read_while_writing`]): a server that refuses a
/// message may say why and close while the body is still being written. Reads on a dead
/// connection return at once; this only bounds a half-open one.
pub const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// The write timeout of a new [`Connection`] (see [`Connection::with_write_timeout`]): five
/// minutes, the longest wait RFC 5321 section 4.5.3.2 suggests for any one step.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(300);

/// Which way bytes went, for a [`Connection::with_trace`] callback.
///
/// The match is exhaustive on purpose: a hook written before a kind was added stops
/// compiling rather than printing something it was not written to handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Traffic {
    /// Queued for the peer: commands or replies, and message data.
    Sent,
    /// Queued for the peer and secret: credentials the session marked
    /// ([`Transmit::Secret`](mail_wire::session::Transmit::Secret): an AUTH initial response,
    /// a SASL response line, each through its CRLF). The hook gets an empty slice and only
    /// the number of octets written; the bytes never reach it.
    SentSecret {
        /// How many octets went out.
        octets: usize,
    },
    /// Read from the peer. What the peer sends is never marked: a server sends no
    /// credentials, and a client's credentials reach a server's trace as read (a server
    /// that traces input sees AUTH lines: redact there, or do not trace input in
    /// production).
    Received,
}

/// A [`Connection::with_trace`] callback.
type TraceFn = dyn FnMut(Traffic, &[u8]) + Send;

/// The boxed trace callback.
struct Trace(Box<TraceFn>);

/// What the driver does when the session hands over to STARTTLS.
#[derive(Clone)]
enum Upgrade {
    /// Server side: accept the handshake.
    Accept(Arc<ServerConfig>, HandshakeOptions),
    /// Client side: start the handshake, verifying the server's name.
    Connect(Arc<ClientConfig>, ServerName<'static>, HandshakeOptions),
}

/// What one step of a write made happen.
enum Progress {
    Wrote(io::Result<usize>),
    Read(io::Result<usize>),
}

/// One session of any protocol, run over a tokio stream; see the [crate docs](crate).
///
/// `S` is the sans-IO state machine ([`Session`]), `IO` the stream: a `TcpStream`, a
/// `UnixStream`, a TLS stream for implicit TLS (ports 465, 993, 995: accept or connect it with
/// `mail_tls::tokio::accept_implicit` / `connect_implicit` first, and configure the session
/// for implicit TLS), or anything else that reads and writes.
///
/// The driver writes what the session queues, reads only when the session takes input,
/// turns the session's deadline into a timer, bounds its own writes, and performs the
/// STARTTLS upgrade through mail-tls before it hands the [`EventKind::StartTls`] event on.
/// The application keeps all policy: it answers the session's events on
/// [`Connection::session_mut`].
///
/// **Memory** is bounded: one read of [`READ_CHUNK`] octets, the output of the session not
/// written yet, and what the session bounds itself.
pub struct Connection<S: Session, IO> {
    stream: Stream<IO>,
    session: S,
    starttls: Option<Upgrade>,
    /// One read from the peer; handed to the session in full before the next await.
    read_buf: BytesMut,
    /// The size of the next read ([`MIN_READ`] to [`READ_CHUNK`]).
    read_size: usize,
    /// Output taken from the session and not written yet.
    out: BytesMut,
    /// An event taken from the session whose I/O (the writes before it, the STARTTLS
    /// handshake, the shutdown) has not finished; kept so that a cancelled
    /// [`Connection::next_event`] does not lose it.
    held: Option<S::Event>,
    tls_info: Option<SessionInfo>,
    trace: Option<Trace>,
    /// The longest one flush may take in all.
    write_timeout: Option<Duration>,
    /// The longest a write may go without progress.
    stall_timeout: Option<Duration>,
    /// Read (and feed the session) while writing, and drain a peer's last words after a
    /// failed write.
    read_while_writing: bool,
    /// The connection was shut down or failed: no more I/O.
    finished: bool,
    /// The peer closed its side: nothing more is read, however the session asks.
    eof_seen: bool,
}

impl<S, IO> fmt::Debug for Connection<S, IO>
where
    S: Session + fmt::Debug,
    S::Event: fmt::Debug,
{
    // The buffers are left out: input read and output not yet written can hold an AUTH line
    // or a SASL exchange, that is credentials (docs/design.md section 3, rule 6).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("session", &self.session)
            .field("tls", &matches!(self.stream, Stream::Tls(_)))
            .field("starttls", &self.starttls.is_some())
            .field("buffered_input", &self.read_buf.len())
            .field("buffered_output", &self.out.len())
            .field("held", &self.held)
            .field("tls_info", &self.tls_info)
            .field("write_timeout", &self.write_timeout)
            .field("stall_timeout", &self.stall_timeout)
            .field("read_while_writing", &self.read_while_writing)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl<S, IO> Connection<S, IO>
where
    S: Session,
    IO: AsyncRead + AsyncWrite + Unpin,
{
    /// Drives `session` over `stream`, a connection just opened (or just accepted).
    ///
    /// Defaults: writes time out after [`DEFAULT_WRITE_TIMEOUT`], no stall timeout, no
    /// reading while writing, no STARTTLS, no trace.
    pub fn new(stream: IO, session: S) -> Self {
        Connection {
            stream: Stream::Plain(stream),
            session,
            starttls: None,
            read_buf: BytesMut::new(),
            read_size: MIN_READ,
            out: BytesMut::new(),
            held: None,
            tls_info: None,
            trace: None,
            write_timeout: Some(DEFAULT_WRITE_TIMEOUT),
            stall_timeout: None,
            read_while_writing: false,
            finished: false,
            eof_seen: false,
        }
    }

    /// The longest one flush of output (everything the session queued, and the final
    /// shutdown) may take before the session ends with an error of kind
    /// [`io::ErrorKind::TimedOut`]; `None` for no limit. The session's own deadlines only
    /// cover waiting for the peer to send: a peer that sends commands and never reads the
    /// replies would otherwise hold the connection, and its slot, for ever (docs/design.md
    /// section 3, rule 5).
    pub fn with_write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// The longest a write may go without the peer taking a byte (nor, when reading while
    /// writing, sending one) before the session ends with an error of kind
    /// [`io::ErrorKind::TimedOut`]; `None` (the default) for no limit. Unlike the write
    /// timeout it does not bound a long flush that keeps moving, such as a large message
    /// body on a slow link.
    pub fn with_stall_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.stall_timeout = timeout;
        self
    }

    /// Whether to read from the peer, and feed the session, while writing (default
    /// `false`).
    ///
    /// A client wants it: a server may answer, refuse or close while the client is still
    /// writing (RFC 2920 section 3.3), and a client that only wrote would deadlock against a
    /// server that stops reading until its replies are read. It also makes a failed write
    /// read the peer's last words, until the end of the stream and at most [`DRAIN_GRACE`]
    /// for each read, so that the session can report
    /// why the peer closed rather than the write error.
    ///
    /// A server does not: it flushes its replies before reading more commands (RFC 2920
    /// section 3.1), so a peer that sends without reading cannot make its output grow.
    pub fn with_read_while_writing(mut self, read: bool) -> Self {
        self.read_while_writing = read;
        self
    }

    /// Enables the server side of STARTTLS with this rustls configuration (build it with
    /// `mail_tls::ServerTls`) and handshake options. Without a STARTTLS configuration, a
    /// session that hands over to STARTTLS fails.
    pub fn with_starttls_accept(
        mut self,
        config: Arc<ServerConfig>,
        options: HandshakeOptions,
    ) -> Self {
        self.starttls = Some(Upgrade::Accept(config, options));
        self
    }

    /// Enables the client side of STARTTLS with this rustls configuration (build it with
    /// `mail_tls::ClientTls`), the name the server's certificate must carry, and handshake
    /// options.
    pub fn with_starttls_connect(
        mut self,
        config: Arc<ClientConfig>,
        server_name: ServerName<'static>,
        options: HandshakeOptions,
    ) -> Self {
        self.starttls = Some(Upgrade::Connect(config, server_name, options));
        self
    }

    /// Calls `trace` with every piece of output as it is queued for writing and every piece
    /// of input as it is read (before the session sees it), in order, inside TLS once the
    /// connection is TLS. Pieces are not aligned to lines.
    ///
    /// For transcripts and debugging. Output the session marks secret (a client's SASL
    /// responses, [`Session::poll_transmit_marked`]) comes as [`Traffic::SentSecret`]
    /// without its bytes, so a hook cannot print a credential the client sent, whatever the
    /// peer does. Input is passed as read: a server's trace sees the AUTH lines its clients
    /// send, and both sides see message contents.
    pub fn with_trace(mut self, trace: impl FnMut(Traffic, &[u8]) + Send + 'static) -> Self {
        self.trace = Some(Trace(Box::new(trace)));
        self
    }

    /// The session, to read its state.
    pub fn session(&self) -> &S {
        &self.session
    }

    /// The session, to answer decisions or call it directly. Bytes it queues are written by
    /// the next call on the connection.
    pub fn session_mut(&mut self) -> &mut S {
        &mut self.session
    }

    /// Whether a STARTTLS configuration was given ([`Connection::with_starttls_accept`] or
    /// [`Connection::with_starttls_connect`]).
    pub fn has_starttls(&self) -> bool {
        self.starttls.is_some()
    }

    /// Whether the connection was upgraded by STARTTLS. (With implicit TLS the stream was TLS
    /// from the start: ask the session, [`Session::is_tls`].)
    pub fn is_upgraded(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// What was negotiated by STARTTLS, once it succeeded. (With implicit TLS, read it from
    /// the stream you accepted or connected.)
    pub fn tls_info(&self) -> Option<&SessionInfo> {
        self.tls_info.as_ref()
    }

    /// Whether the connection is finished: shut down after the session ended, or failed. No
    /// more I/O happens; [`Connection::next_event`] returns the session's remaining events.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The next event, after writing what the session queued and reading as needed;
    /// `Ok(None)` once the session is over and the connection shut down.
    ///
    /// - The STARTTLS hand-off ([`EventKind::StartTls`]) is returned after the handshake
    ///   succeeded, for logging; the session continues inside TLS.
    /// - The closing event ([`EventKind::Closed`]) is returned once, after the last bytes
    ///   were written (or could not be: the peer may be gone) and the connection shut down;
    ///   then `Ok(None)`.
    /// - While the session waits for the peer, the driver reads, bounded by the session's
    ///   deadline ([`Session::poll_timeout`], then [`Session::handle_timeout`]).
    /// - A session that does not take input ([`Session::wants_input`] is `false`) with no
    ///   event to deliver is waiting for the application: answer its last event first.
    ///
    /// Cancel safe (for `tokio::select!` beside a shutdown signal or a work queue): an event
    /// whose writes, handshake or shutdown had not finished when the future was dropped is
    /// returned by the next call, and no byte read is lost. The one exception is the STARTTLS
    /// handshake itself, which a cancellation abandons (the connection is then unusable).
    ///
    /// # Errors
    ///
    /// I/O errors (a write or stall timeout is [`io::ErrorKind::TimedOut`]); a failed
    /// STARTTLS upgrade (wrapping a [`TlsError`]: a handshake failure, or bytes buffered at
    /// the boundary); a STARTTLS hand-off without a STARTTLS configuration; and calling it
    /// while the session waits for the application. After an I/O error the session is over:
    /// the next calls return its remaining events, ending with the closing event, then
    /// `Ok(None)`.
    pub async fn next_event(&mut self) -> io::Result<Option<S::Event>> {
        loop {
            if self.held.is_none() {
                self.held = self.session.poll_event();
            }
            if let Some(event) = &self.held {
                match S::classify(event) {
                    EventKind::StartTls => match self.start_tls().await {
                        Ok(true) => return Ok(self.held.take()),
                        // The connection ended before the handshake: the closing event
                        // follows.
                        Ok(false) => {
                            self.held = None;
                            continue;
                        }
                        Err(error) => {
                            // The session is over (a cancellation would have kept the event).
                            self.held = None;
                            return Err(error);
                        }
                    },
                    EventKind::Closed(_) => {
                        self.shut_down().await;
                        return Ok(self.held.take());
                    }
                    EventKind::Other => return Ok(self.held.take()),
                }
            }
            if self.finished || self.session.is_closed() {
                return Ok(None);
            }
            if !self.session.wants_input() {
                // A session that takes no input but runs a deadline (a greeting held back
                // while an early talker waits) moves on when the deadline passes; one with
                // neither waits for the application.
                let Some(deadline) = self.session.poll_timeout() else {
                    return Err(io::Error::other(
                        "answer the pending decision before asking for the next event",
                    ));
                };
                tokio::time::sleep_until(Deadline::from_std(deadline)).await;
                self.session.handle_timeout(now());
                continue;
            }
            self.progress().await?;
        }
    }

    /// Writes everything the session has queued (reading meanwhile when reading while
    /// writing). Cancel safe: unwritten bytes stay queued.
    ///
    /// # Errors
    ///
    /// As [`Connection::next_event`]; after an error the session is over.
    pub async fn flush(&mut self) -> io::Result<()> {
        self.write_out(self.read_while_writing).await.map(drop)
    }

    /// One turn of the loop [`Connection::next_event`] runs, without looking at events:
    /// writes what the session queued and, unless that already read something, reads once
    /// (or, when the session's deadline passes first, tells it the time). For protocol
    /// layers that wait for the session to become ready for more (a client waiting for the
    /// reply to its last chunk before it sends the next); events stay queued in the session
    /// for the next [`Connection::next_event`]. Unlike `next_event` it reads even while the
    /// session waits for the application, so call it only while the session takes input.
    /// Does nothing once the connection is finished.
    ///
    /// # Errors
    ///
    /// As [`Connection::next_event`].
    pub async fn progress(&mut self) -> io::Result<()> {
        // RFC 2920 section 3.1: send what is queued before waiting for the peer.
        if !self.write_out(self.read_while_writing).await? {
            self.read_some().await?;
        }
        Ok(())
    }

    /// The STARTTLS hand-off: writes everything (reading nothing: the peer's next bytes
    /// belong to the handshake), then upgrades. `Ok(false)` when the connection ended first.
    async fn start_tls(&mut self) -> io::Result<bool> {
        if !self.finished {
            self.write_out(false).await?;
        }
        // A session that ended at the hand-off (it refused bytes behind the STARTTLS command
        // or reply) is not upgraded: its closing event follows.
        if self.finished || self.session.is_closed() {
            return Ok(false);
        }
        self.upgrade().await.map(|()| true)
    }

    /// Moves the session's output to `out`, through the trace, which never sees a piece
    /// the session marked secret.
    fn collect(&mut self) {
        while let Some(transmit) = self.session.poll_transmit_marked() {
            if let Some(Trace(trace)) = &mut self.trace {
                match &transmit {
                    Transmit::Plain(bytes) => trace(Traffic::Sent, bytes),
                    Transmit::Secret(bytes) => trace(
                        Traffic::SentSecret {
                            octets: bytes.len(),
                        },
                        &[],
                    ),
                }
            }
            self.out.extend_from_slice(transmit.bytes());
        }
    }

    /// Hands the bytes read into `read_buf` from `from` on to the session, through the trace.
    fn received(&mut self, from: usize) {
        if let Some(Trace(trace)) = &mut self.trace {
            trace(Traffic::Received, self.read_buf.get(from..).unwrap_or(&[]));
        }
        // The session takes the read buffer's bytes; machines that can keep message data
        // without copying it split it off the buffer.
        self.session.feed_buf(now(), &mut self.read_buf);
    }

    /// The connection failed: the session is over, and what it queued can no longer be
    /// written.
    fn fail(&mut self, error: io::Error) -> io::Error {
        // Not `handle_eof`: that lets a session answer what it still holds for a peer that
        // only closed its sending side; a broken connection can carry no answer at all.
        self.session.handle_connection_lost();
        self.finished = true;
        self.out.clear();
        while self.session.poll_transmit().is_some() {}
        error
    }

    /// When the next step of a write must have happened: the stall timeout from now or the
    /// flush's `deadline`, whichever comes first; and whether that is the stall timeout.
    fn step_deadline(&self, deadline: Option<Deadline>) -> (Option<Deadline>, bool) {
        let stall = self.stall_timeout.and_then(deadline_after);
        match (stall, deadline) {
            (Some(stall), Some(deadline)) if deadline < stall => (Some(deadline), false),
            (Some(stall), _) => (Some(stall), true),
            (None, deadline) => (deadline, false),
        }
    }

    fn timed_out(&self, stalled: bool) -> io::Error {
        let message = match (stalled, self.stall_timeout, self.write_timeout) {
            (true, Some(after), _) => format!("the peer took no data for {after:?}"),
            (_, _, Some(after)) => {
                format!("the peer did not take the output within the write timeout ({after:?})")
            }
            _ => "the peer did not take the output in time".to_owned(),
        };
        io::Error::new(io::ErrorKind::TimedOut, message)
    }

    /// Writes the session's output, and with `read` feeds what the peer sends meanwhile.
    /// Returns whether anything was read (or the end of the stream seen).
    async fn write_out(&mut self, read: bool) -> io::Result<bool> {
        if self.finished {
            return Ok(false);
        }
        let mut read = read && !self.eof_seen;
        self.collect();
        let deadline = self.write_timeout.and_then(deadline_after);
        let mut fed = false;
        while !self.out.is_empty() {
            let (limit, stalled) = self.step_deadline(deadline);
            let from = self.read_buf.len();
            let progress = {
                let Connection {
                    stream,
                    out,
                    read_buf,
                    ..
                } = self;
                let step = poll_fn(|cx| poll_progress(stream, out, read_buf, read, cx));
                match limit {
                    Some(limit) => tokio::time::timeout_at(limit, step).await.ok(),
                    None => Some(step.await),
                }
            };
            match progress {
                None => {
                    let error = self.timed_out(stalled);
                    return Err(self.fail(error));
                }
                Some(Progress::Wrote(Ok(0))) => {
                    return Err(self.fail(io::ErrorKind::WriteZero.into()));
                }
                Some(Progress::Wrote(Ok(n))) => self.out.advance(n.min(self.out.len())),
                Some(Progress::Wrote(Err(error))) => {
                    self.write_failed(error).await?;
                    return Ok(true);
                }
                Some(Progress::Read(result)) => {
                    fed = true;
                    match result {
                        Ok(0) => {
                            self.eof_seen = true;
                            self.session.handle_eof();
                            read = false;
                        }
                        Ok(_) => self.received(from),
                        Err(error) => return Err(self.fail(error)),
                    }
                    if self.session.is_closed() {
                        // The peer ended the session (or broke it) while we wrote: the rest
                        // is out of step. Only what the session queued since goes out.
                        self.out.clear();
                        read = false;
                    }
                }
            }
            self.collect();
        }
        if self.out.capacity() > KEEP_OUTPUT {
            self.out = BytesMut::new();
        }
        let (limit, stalled) = self.step_deadline(deadline);
        let flushed = match limit {
            Some(limit) => tokio::time::timeout_at(limit, self.stream.flush())
                .await
                .ok(),
            None => Some(self.stream.flush().await),
        };
        match flushed {
            Some(Ok(())) => Ok(fed),
            Some(Err(error)) => {
                self.write_failed(error).await?;
                Ok(true)
            }
            None => {
                let error = self.timed_out(stalled);
                Err(self.fail(error))
            }
        }
    }

    /// A write failed. When reading while writing, the peer may have said why it closed
    /// (a server refusing a message before the body is written): read its last words, then
    /// report the session's end as events when the session could make sense of them, or the
    /// write error when not.
    async fn write_failed(&mut self, error: io::Error) -> io::Result<()> {
        self.out.clear();
        if self.read_while_writing {
            while !self.session.is_closed() && !self.eof_seen {
                self.read_buf.reserve(READ_CHUNK);
                let from = self.read_buf.len();
                let mut limited = (&mut self.read_buf).limit(READ_CHUNK);
                let read = self.stream.read_buf(&mut limited);
                match tokio::time::timeout(DRAIN_GRACE, read).await {
                    Ok(Ok(0)) => {
                        // The peer's last words are all in; nothing more comes. A session
                        // that does not close on them is told the connection is lost below.
                        self.eof_seen = true;
                        self.session.handle_eof();
                    }
                    Ok(Ok(_)) => self.received(from),
                    Ok(Err(_)) | Err(_) => break,
                }
            }
            if self.session.is_closed() {
                self.finished = true;
                return Ok(());
            }
        }
        Err(self.fail(error))
    }

    /// Reads once, waiting until the session's deadline.
    async fn read_some(&mut self) -> io::Result<()> {
        if self.finished {
            return Ok(());
        }
        if self.eof_seen {
            // The session asks for input the peer can no longer send (it took the end of
            // the stream and still wants more): nothing can move it on, so it ends here
            // rather than the driver waiting, or spinning, on a closed stream.
            self.session.handle_connection_lost();
            return Ok(());
        }
        let want = self.read_size;
        if self.read_buf.is_empty() && self.read_buf.capacity() > want {
            // Nothing kept from the last read: wait with a buffer of the size wanted now, not
            // the largest one a burst needed.
            self.read_buf = BytesMut::new();
        }
        self.read_buf.reserve(want);
        let from = self.read_buf.len();
        // At most `want` (at most READ_CHUNK) octets a read, whatever capacity the buffer the
        // session handed back has: what the driver holds between two turns stays bounded.
        let mut limited = (&mut self.read_buf).limit(want);
        let read = match self.session.poll_timeout() {
            Some(deadline) => {
                let deadline = Deadline::from_std(deadline);
                let read = self.stream.read_buf(&mut limited);
                match tokio::time::timeout_at(deadline, read).await {
                    Ok(read) => read,
                    Err(_elapsed) => {
                        self.session.handle_timeout(now());
                        return Ok(());
                    }
                }
            }
            None => self.stream.read_buf(&mut limited).await,
        };
        match read {
            Ok(0) => {
                self.eof_seen = true;
                self.session.handle_eof();
            }
            Ok(n) => {
                self.read_size = next_read_size(want, n);
                self.received(from);
            }
            Err(error) => return Err(self.fail(error)),
        }
        Ok(())
    }

    async fn upgrade(&mut self) -> io::Result<()> {
        let Some(upgrade) = self.starttls.clone() else {
            return Err(self.fail(io::Error::other(
                "the session started STARTTLS but the connection has no STARTTLS configuration",
            )));
        };
        let Stream::Plain(plain) = std::mem::replace(&mut self.stream, Stream::Broken) else {
            return Err(self.fail(io::Error::other(
                "STARTTLS on a connection that is already TLS",
            )));
        };
        // Every byte read was handed to the session, which refuses any after the STARTTLS
        // command or reply; the driver holds none of its own, and nothing is queued behind
        // the hand-off: mail-tls checks both again (docs/design.md section 3, rule 1).
        let upgraded: Result<TlsStream<IO>, TlsError> = match upgrade {
            Upgrade::Accept(config, options) => {
                starttls_accept(config, plain, &self.read_buf, &self.out, options)
                    .await
                    .map(TlsStream::from)
            }
            Upgrade::Connect(config, name, options) => {
                starttls_connect(config, name, plain, &self.read_buf, &self.out, options)
                    .await
                    .map(TlsStream::from)
            }
        };
        match upgraded {
            Ok(tls) => {
                self.tls_info = Some(SessionInfo::from_connection(tls.get_ref().1));
                self.stream = Stream::Tls(Box::new(tls));
                self.session
                    .tls_established(now())
                    .map_err(io::Error::other)
            }
            Err(error) => Err(self.fail(io::Error::other(error))),
        }
    }

    /// The session is over: write what it queued last and shut the connection down. Errors
    /// are ignored: the peer may already be gone, or not reading a TLS close notice.
    async fn shut_down(&mut self) {
        if self.finished {
            return;
        }
        if self.write_out(false).await.is_ok() {
            let limit = match (self.write_timeout, self.stall_timeout) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let shutdown = self.stream.shutdown();
            match limit {
                Some(limit) => {
                    let _ = tokio::time::timeout(limit, shutdown).await;
                }
                None => {
                    let _ = shutdown.await;
                }
            }
        }
        self.finished = true;
    }
}

/// The time handed to the session: read from tokio's clock, the one the driver's timers run
/// on, so that a paused or advanced test clock (`tokio::time::pause`) moves both together.
fn now() -> Instant {
    Deadline::now().into_std()
}

/// The instant `after` from now; `None` (no deadline) when that is too far to represent, as
/// with a timeout of `Duration::MAX` meaning "never".
fn deadline_after(after: Duration) -> Option<Deadline> {
    Deadline::now().checked_add(after)
}

/// The size of the read after one of `want` octets that returned `got`: doubled when the read
/// filled its space, halved when it filled less than a quarter, within [`MIN_READ`] and
/// [`READ_CHUNK`].
pub(crate) fn next_read_size(want: usize, got: usize) -> usize {
    if got >= want {
        (want * 2).min(READ_CHUNK)
    } else if got < want / 4 {
        (want / 2).max(MIN_READ)
    } else {
        want
    }
}

/// Polls one write of `out` and, with `read`, one read into `read_buf`, whichever is ready.
/// Whatever is read is in `read_buf` when this returns, ready or not.
fn poll_progress<IO>(
    stream: &mut Stream<IO>,
    out: &[u8],
    read_buf: &mut BytesMut,
    read: bool,
    cx: &mut Context<'_>,
) -> Poll<Progress>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    if let Poll::Ready(result) = Pin::new(&mut *stream).poll_write(cx, out) {
        return Poll::Ready(Progress::Wrote(result));
    }
    if read {
        let start = read_buf.len();
        read_buf.resize(start + READ_CHUNK, 0);
        let mut buf = ReadBuf::new(&mut read_buf[start..]);
        let polled = Pin::new(stream).poll_read(cx, &mut buf);
        let filled = buf.filled().len();
        read_buf.truncate(start + filled);
        if let Poll::Ready(result) = polled {
            return Poll::Ready(Progress::Read(result.map(|()| filled)));
        }
    }
    Poll::Pending
}
