//! Thin async drivers around the state machines, for tokio: typed wrappers over
//! [`mail_tokio::Connection`], the one driver every protocol of sansmail shares.
//!
//! Both drivers own a stream and a state machine: they write what the machine queues, read
//! only when it needs input, turn its deadlines into timers, and perform the STARTTLS upgrade
//! with mail-tls (checking the boundary rule) before they hand the next event back. The
//! application keeps all policy. The generic driver does the I/O; what is SMTP's alone stays
//! here: the server's write timeout defaults to its command timeout, and the client reads
//! while it writes, bounds stalls by [`Timeouts::data_block`](crate::client::Timeouts::data_block),
//! checks its STARTTLS set-up, streams message bodies and quits.
//!
//! # Server
//!
//! [`ServerConnection`] drives a [`Server`]: the application awaits
//! [`ServerConnection::next_event`] and answers decisions on [`ServerConnection::server`].
//!
//! ```no_run
//! use smtp_proto::server::{Event, Server, ServerConfig};
//! use smtp_proto::tokio::ServerConnection;
//!
//! # async fn serve(stream: tokio::net::TcpStream) -> std::io::Result<()> {
//! let server = Server::new(ServerConfig::default(), std::time::Instant::now());
//! let mut conn = ServerConnection::new(stream, server);
//! while let Some(event) = conn.next_event().await? {
//!     match event {
//!         Event::Hello { .. } | Event::Mail { .. } | Event::Rcpt { .. } => {
//!             conn.server().accept().map_err(std::io::Error::other)?
//!         }
//!         Event::BodyChunk(_chunk) => { /* append to the message file */ }
//!         Event::BodyEnd { .. } => {
//!             /* fsync the message file, then: */
//!             conn.server().accept().map_err(std::io::Error::other)?
//!         }
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Client
//!
//! [`ClientConnection`] drives a [`Client`]: the application awaits
//! [`ClientConnection::next_event`], starts messages with [`ClientConnection::send_message`],
//! streams bodies with [`ClientConnection::send_body`] (or [`ClientConnection::send_body_from`]
//! for an `AsyncRead`) and ends with [`ClientConnection::quit`].
//!
//! ```no_run
//! use std::time::Instant;
//! use mail_tls::tokio::HandshakeOptions;
//! use mail_tls::{ClientTls, server_name};
//! use mail_wire::Secret;
//! use smtp_proto::client::{Client, ClientConfig, Credentials, Envelope, Event};
//! use smtp_proto::tokio::ClientConnection;
//! use smtp_proto::{Domain, ForwardPath, Host, Mailbox, ReversePath};
//!
//! # async fn submit(message: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! // Submission on port 587: STARTTLS is required, then AUTH.
//! let credentials = Credentials::password("alice", Secret::new("correct horse".into()));
//! let config = ClientConfig::submission(
//!     Host::Domain(Domain::new("client.example")?),
//!     credentials,
//! );
//! let stream = tokio::net::TcpStream::connect("mail.example.org:587").await?;
//! let mut conn = ClientConnection::new(stream, Client::new(config, Instant::now()))
//!     .with_starttls(
//!         ClientTls::webpki_roots().build()?,
//!         server_name("mail.example.org")?,
//!         HandshakeOptions::default(),
//!     );
//! let mut outbox = vec![
//!     Envelope::new(ReversePath::Mailbox(Mailbox::parse("alice@example.org")?.into_owned()))
//!         .with_recipient(ForwardPath::Mailbox(Mailbox::parse("bob@example.net")?.into_owned())),
//! ];
//! while let Some(event) = conn.next_event().await? {
//!     match event {
//!         Event::Ready => match outbox.pop() {
//!             Some(envelope) => conn.send_message(envelope)?,
//!             None => conn.quit(),
//!         },
//!         Event::Recipient { index, reply } if !reply.code().is_positive() => {
//!             eprintln!("recipient {index} refused: {}", reply.code());
//!         }
//!         // Streams the body in bounded pieces (`&[u8]` is an `AsyncRead`), then ends it.
//!         Event::BodyReady => {
//!             conn.send_body_from(message).await?;
//!         }
//!         Event::MessageAccepted(reply) => println!("queued: {}", reply.code()),
//!         Event::MessageRejected(why) => eprintln!("rejected: {why:?}"),
//!         Event::Closed(result) => result?,
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! For implicit TLS (port 465) connect with `mail_tls::tokio::connect_implicit` first, pass
//! the TLS stream and set [`ClientConfig::implicit_tls`](crate::client::ClientConfig) (or use
//! [`ClientConfig::submissions`](crate::client::ClientConfig::submissions)).

use std::io;
use std::time::Instant;

use mail_tokio::Connection;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::client::{self, Client, ClientError, Envelope, TlsPolicy};
use crate::server::{Event, Server};

/// Which way bytes went, for a [`ClientConnection::with_trace`] or
/// [`ServerConnection::with_trace`] callback.
pub use mail_tokio::Traffic;

mail_tokio::typed_connection! {
    /// One server session over a tokio stream; see the [module docs](self).
    ///
    /// For implicit TLS (ports 465, 993, 995) accept the TLS connection first
    /// (`mail_tls::tokio::accept_implicit`), pass the TLS stream as `S` and set
    /// [`ServerConfig::implicit_tls`](crate::server::ServerConfig::implicit_tls).
    pub struct ServerConnection(Server);

    /// The longest one flush of replies (and the final shutdown) may take before the session
    /// ends with an error of kind [`io::ErrorKind::TimedOut`]. Default: the server's
    /// `command_timeout`. The machine's timeouts only cover waiting for the client to send; a
    /// client that pipelines commands and never reads the replies would otherwise hold the
    /// connection, and its slot, for ever (docs/design.md section 3).
    with_write_timeout;

    /// Enables STARTTLS with this rustls configuration (build it with
    /// `mail_tls::ServerTls`) and handshake options. Without it, a server configured to offer
    /// STARTTLS fails the session when a client uses it.
    with_starttls = accept;

    /// Calls `trace` with every piece of output as it is queued for writing and every piece
    /// of input as it is read (before the state machine sees it), in order, inside TLS once
    /// the connection is TLS. Pieces are not aligned to lines.
    ///
    /// For transcripts and debugging. What is received includes AUTH lines and SASL
    /// responses, which carry credentials, and message bodies: redact before logging.
    with_trace;

    /// The state machine, to answer decisions and read session state.
    session = server;

    /// What was negotiated by STARTTLS, once it succeeded.
    tls_info;

    /// The next event, after writing pending replies and reading as needed; `Ok(None)` once
    /// the session is over and the connection shut down.
    ///
    /// [`Event::StartTls`] is returned after the handshake succeeded, for logging; the
    /// session continues inside TLS. [`Event::Closed`] is returned once, after the last reply
    /// was written (or could not be: the client may be gone), then `Ok(None)`.
    ///
    /// Cancel safe (for `tokio::select!` with a shutdown signal): an event whose replies were
    /// being written when the future was dropped is returned by the next call. The one
    /// exception is the STARTTLS handshake itself, which a cancellation abandons (the
    /// connection is then unusable).
    ///
    /// # Errors
    ///
    /// I/O errors, a failed STARTTLS handshake (wrapping a `mail_tls::TlsError`), and calling
    /// it while a decision from the previous event is still pending. After an I/O error the
    /// session is over: the next calls return the remaining events, ending with
    /// [`Event::Closed`], then `Ok(None)`.
    next_event -> Event;

    /// Writes everything the machine has queued. Cancel safe: unwritten bytes stay queued.
    ///
    /// # Errors
    ///
    /// I/O errors, and [`io::ErrorKind::TimedOut`] when the client has not taken it all
    /// within the write timeout ([`ServerConnection::with_write_timeout`]); the session is then
    /// over, as after a failed read.
    flush;
}

impl<S: AsyncRead + AsyncWrite + Unpin> ServerConnection<S> {
    /// Drives `server` over `stream`. Writes time out after the server's command timeout
    /// (see [`ServerConnection::with_write_timeout`]).
    pub fn new(stream: S, server: Server) -> Self {
        let write_timeout = server.config().command_timeout;
        ServerConnection(Connection::new(stream, server).with_write_timeout(Some(write_timeout)))
    }
}

/// How much of a body [`ClientConnection::send_body_from`] reads and sends at once: one BDAT
/// chunk, or one piece of a DATA body. Bounds what the driver holds of a message.
pub const BODY_CHUNK: usize = 64 * 1024;

mail_tokio::typed_connection! {
    /// One client session over a tokio stream; see the [module docs](self).
    ///
    /// The driver owns the stream and the [`Client`]. [`ClientConnection::next_event`] writes what
    /// the machine queued, reads when it needs replies (and, while the session waits for the
    /// application, to notice a server that closes the idle connection), calls
    /// [`Client::handle_timeout`] when a reply is late, and performs the STARTTLS handshake when
    /// the server accepts STARTTLS. Writes also read: a server that answers while the client is
    /// still writing (RFC 2920 section 3.3) never deadlocks the session, and a server that takes no
    /// data for [`Timeouts::data_block`](crate::client::Timeouts::data_block) fails it. After a
    /// failed write the driver reads the server's last words for up to [`mail_tokio::DRAIN_GRACE`],
    /// so that a refusal is reported rather than the write error.
    ///
    /// **STARTTLS boundary** (RFC 3207 section 4.2): every byte read is fed to the state machine at
    /// once, so a response injected after the `220` reply to STARTTLS, in the same read or not,
    /// ends the session with
    /// [`SessionError::StartTlsInjection`](crate::client::SessionError::StartTlsInjection); the
    /// driver reads nothing between that reply and the handshake, and hands mail-tls an empty read
    /// buffer.
    ///
    /// **Memory** is bounded: one read of 4 KiB, the output of the last call (a command group or
    /// one body piece, dot-stuffed), and what the state machine bounds itself.
    ///
    /// For implicit TLS (port 465) connect with `mail_tls::tokio::connect_implicit`, pass the TLS
    /// stream as `S` and set
    /// [`ClientConfig::implicit_tls`](crate::client::ClientConfig::implicit_tls).
    pub struct ClientConnection(Client);

    /// Enables STARTTLS with this rustls configuration (build it with `mail_tls::ClientTls`),
    /// the name the server's certificate must carry, and handshake options.
    ///
    /// Required unless the client is configured with [`TlsPolicy::Never`] or
    /// [`implicit_tls`](crate::client::ClientConfig::implicit_tls): without it,
    /// [`ClientConnection::next_event`] fails at once rather than when the server accepts
    /// STARTTLS.
    with_starttls = connect;

    /// Calls `trace` with every piece of output as it is queued for writing and every piece
    /// of input as it is read (before the state machine sees it), in order, inside TLS once
    /// the connection is TLS. Pieces are not aligned to lines.
    ///
    /// For transcripts and debugging. Credentials the client sends (the AUTH initial
    /// response, each SASL response line) reach `trace` as [`Traffic::SentSecret`] with their
    /// length alone, never their bytes, whatever the server does
    /// ([`Client::poll_transmit_marked`]); the message body and the server's replies come as
    /// they are (show replies through [`client::Printable`]).
    with_trace;

    /// The state machine, to read session state ([`Client::capabilities`],
    /// [`Client::can_send_body`], ...) or call it directly. Bytes it queues are written by
    /// the next call on the connection; send bodies through [`ClientConnection::send_body`]
    /// rather than [`Client::send_body`], which does not wait for the server and so does not
    /// bound memory.
    session = client;

    /// What was negotiated by STARTTLS, once it succeeded. (With implicit TLS, read it from
    /// the stream you connected.)
    tls_info;

    /// Writes everything the machine has queued, reading replies meanwhile. Cancel safe:
    /// unwritten bytes stay queued.
    ///
    /// # Errors
    ///
    /// I/O errors, as [`ClientConnection::next_event`].
    flush;
}

impl<S: AsyncRead + AsyncWrite + Unpin> ClientConnection<S> {
    /// Drives `client` over `stream`, a connection just opened (the server's greeting is
    /// still to come).
    pub fn new(stream: S, client: Client) -> Self {
        let stall = client.config().timeouts.data_block;
        ClientConnection(
            Connection::new(stream, client)
                .with_write_timeout(None)
                .with_stall_timeout(Some(stall))
                .with_read_while_writing(true),
        )
    }

    /// Starts a mail transaction ([`Client::send_message`] at the current time); the commands
    /// go out with the next [`ClientConnection::next_event`].
    ///
    /// # Errors
    ///
    /// As [`Client::send_message`]: the envelope does not fit the server's extensions
    /// (nothing is sent, the session stays ready), the session is not ready, or it is over.
    pub fn send_message(&mut self, envelope: Envelope) -> Result<(), ClientError> {
        self.client().send_message(Instant::now(), envelope)
    }

    /// Ends the session with QUIT, now or after the current transaction
    /// ([`Client::quit`]); [`ClientConnection::next_event`] then returns
    /// [`Event::Closed`](client::Event::Closed) on the server's `221`.
    pub fn quit(&mut self) {
        self.client().quit(Instant::now());
    }

    /// The next event, after writing what the machine queued and reading as needed;
    /// `Ok(None)` once the session is over and the connection shut down.
    ///
    /// [`Event::StartTls`](client::Event::StartTls) is returned after the handshake
    /// succeeded, for logging; the session continues inside TLS (EHLO is already queued).
    /// [`Event::Closed`](client::Event::Closed) is returned once, after the last bytes were
    /// written and the connection shut down. [`Event::BodyReady`](client::Event::BodyReady)
    /// is left out when no body can be sent any more (BDAT without PIPELINING repeats it
    /// after each chunk, and [`ClientConnection::send_body`] already waited for those).
    ///
    /// While the session waits for the application (after `Ready`, or after `BodyReady` with
    /// DATA), it keeps reading, so a server closing an idle connection is noticed: it can sit
    /// in a `tokio::select!` beside your work queue. Send the body before awaiting it again,
    /// though, or the server will wait for it until its timeout.
    ///
    /// Cancel safe, except during a STARTTLS handshake, which a cancellation abandons (the
    /// connection is then unusable).
    ///
    /// # Errors
    ///
    /// I/O errors, a failed STARTTLS handshake (wrapping a `mail_tls::TlsError`), and a
    /// client that would use STARTTLS on a connection without
    /// [`ClientConnection::with_starttls`] (`InvalidInput`). After an I/O error the session
    /// is over: the next calls return the remaining events, ending with
    /// [`Event::Closed`](client::Event::Closed), then `Ok(None)`.
    pub async fn next_event(&mut self) -> io::Result<Option<client::Event>> {
        self.check_tls_setup()?;
        loop {
            match self.0.next_event().await? {
                Some(client::Event::BodyReady) if !self.0.session().can_send_body() => {}
                event => return Ok(event),
            }
        }
    }

    /// Sends the next piece of the message body ([`Client::send_body`]) and writes it,
    /// reading replies meanwhile. For BDAT without PIPELINING it first waits for the reply
    /// to the previous chunk (the [`Client::can_send_body`] backpressure), so it can be
    /// called in a loop.
    ///
    /// Returns `Ok(false)`, sending nothing, when no body is open: before
    /// [`Event::BodyReady`](client::Event::BodyReady), after the end, or because the server
    /// refused the message or the session ended while it waited. Stop sending then;
    /// [`ClientConnection::next_event`] says what happened.
    ///
    /// Not cancel safe: a cancellation after the piece was handed to the state machine
    /// leaves it queued (it is written by the next call); do not send it again.
    ///
    /// # Errors
    ///
    /// I/O errors, as [`ClientConnection::next_event`].
    pub async fn send_body(&mut self, chunk: &[u8]) -> io::Result<bool> {
        self.body(chunk, false).await
    }

    /// Ends the body ([`Client::finish_body`]): `.` after DATA, `BDAT 0 LAST` after chunks.
    /// The outcome comes from [`ClientConnection::next_event`]. Returns `Ok(false)` when no
    /// body is open, as [`ClientConnection::send_body`].
    ///
    /// # Errors
    ///
    /// I/O errors, as [`ClientConnection::next_event`].
    pub async fn finish_body(&mut self) -> io::Result<bool> {
        self.body(&[], true).await
    }

    /// Sends `chunk` as the last piece of the body and ends it
    /// ([`Client::finish_body_with`]; one `BDAT n LAST` for BDAT). As
    /// [`ClientConnection::finish_body`].
    ///
    /// # Errors
    ///
    /// I/O errors, as [`ClientConnection::next_event`].
    pub async fn finish_body_with(&mut self, chunk: &[u8]) -> io::Result<bool> {
        self.body(chunk, true).await
    }

    /// Streams the whole body from `body` in pieces of [`BODY_CHUNK`] octets, then ends it.
    /// The body is never held whole in memory. Returns `Ok(false)` as soon as no body is
    /// open any more (see [`ClientConnection::send_body`]); `body` is then left part read.
    ///
    /// # Errors
    ///
    /// I/O errors of the connection, as [`ClientConnection::next_event`], and errors reading
    /// `body`, returned as they are. After an error reading `body` the message cannot be
    /// completed (SMTP has no way to cancel a body once DATA or BDAT started): drop the
    /// connection.
    pub async fn send_body_from<R: AsyncRead + Unpin>(&mut self, mut body: R) -> io::Result<bool> {
        let mut piece = vec![0; BODY_CHUNK];
        loop {
            let mut filled = 0;
            while filled < piece.len() {
                let Some(free) = piece.get_mut(filled..) else {
                    break;
                };
                match body.read(free).await? {
                    0 => {
                        return self
                            .finish_body_with(piece.get(..filled).unwrap_or(&[]))
                            .await;
                    }
                    n => filled += n,
                }
            }
            if !self.send_body(&piece).await? {
                return Ok(false);
            }
        }
    }

    fn check_tls_setup(&self) -> io::Result<()> {
        let client = self.0.session();
        let config = client.config();
        let may_starttls = !config.implicit_tls && config.tls != TlsPolicy::Never;
        if may_starttls && !self.0.has_starttls() && !client.is_closed() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the client may use STARTTLS but the connection has no TLS configuration: \
                 call ClientConnection::with_starttls, or set ClientConfig::tls to \
                 TlsPolicy::Never",
            ));
        }
        Ok(())
    }

    async fn body(&mut self, chunk: &[u8], last: bool) -> io::Result<bool> {
        loop {
            let now = Instant::now();
            let sent = if last {
                self.client().finish_body_with(now, chunk)
            } else {
                self.client().send_body(now, chunk)
            };
            match sent {
                Ok(()) => {
                    self.0.flush().await?;
                    return Ok(true);
                }
                // BDAT without PIPELINING: the previous chunk is not answered yet.
                Err(ClientError::BodyNotReady) if !self.0.is_finished() => {
                    self.0.progress().await?;
                }
                Err(_) => return Ok(false),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use mail_tls::ClientTls;
    use mail_tokio::tls::tokio::HandshakeOptions;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream};

    use super::*;
    use crate::client::{Awaiting, ClientConfig, SessionError};
    use crate::{ForwardPath, Mailbox, ReversePath};

    const LIMIT: Duration = Duration::from_secs(10);

    /// base64 of `\0alice\0hunter2secret`, the AUTH PLAIN response.
    const PLAIN_RESPONSE: &str = "AGFsaWNlAGh1bnRlcjJzZWNyZXQ=";

    #[tokio::test]
    async fn debug_output_never_shows_credentials() {
        // Client side: `next_event` cancelled while the AUTH line waits in the output because
        // the peer does not read (an 8-byte pipe).
        let (ours, theirs) = tokio::io::duplex(8);
        let (done, finished) = tokio::sync::oneshot::channel::<()>();
        let peer = tokio::spawn(async move {
            let mut reader = BufReader::new(theirs);
            reader.get_mut().write_all(b"220 mx\r\n").await.unwrap();
            let mut ehlo = String::new();
            reader.read_line(&mut ehlo).await.unwrap();
            reader
                .get_mut()
                .write_all(b"250-mx\r\n250 AUTH PLAIN\r\n")
                .await
                .unwrap();
            // Hold the pipe open, unread, until the test is done.
            let _ = finished.await;
        });
        let config = ClientConfig {
            tls: crate::client::TlsPolicy::Never,
            allow_plaintext_auth: true,
            credentials: Some(crate::client::Credentials::password(
                "alice",
                mail_wire::Secret::new("hunter2secret".into()),
            )),
            ..ClientConfig::default()
        };
        let mut conn = ClientConnection::new(ours, Client::new(config, Instant::now()));
        let mut cancelled = false;
        for _ in 0..8 {
            if tokio::time::timeout(Duration::from_millis(100), conn.next_event())
                .await
                .is_err()
            {
                cancelled = true;
                break;
            }
        }
        assert!(cancelled, "the AUTH line never blocked on the pipe");
        let shown = format!("{conn:?}");
        assert!(shown.contains("buffered_output"), "{shown}");
        assert!(!shown.contains(&PLAIN_RESPONSE[8..]), "{shown}");
        let _ = done.send(());
        peer.await.unwrap();

        // Server side: the AUTH line and a pipelined one still buffered.
        use crate::server::{Event, ServerConfig};
        let config = ServerConfig {
            allow_plaintext_auth: true,
            auth_mechanisms: vec![mail_wire::sasl::Mechanism::Plain],
            ..ServerConfig::default()
        };
        let mut server = Server::new(config, Instant::now());
        let line =
            format!("EHLO c\r\nAUTH PLAIN {PLAIN_RESPONSE}\r\nAUTH PLAIN {PLAIN_RESPONSE}\r\n");
        server.feed(Instant::now(), line.as_bytes());
        while let Some(event) = server.poll_event() {
            if matches!(event, Event::Hello { .. }) {
                server.accept().unwrap();
            }
        }
        let shown = format!("{server:?}");
        assert!(shown.contains("buffered_input"), "{shown}");
        assert!(!shown.contains(&PLAIN_RESPONSE[8..]), "{shown}");
        let (ours, _theirs) = tokio::io::duplex(64);
        let shown = format!("{:?}", ServerConnection::new(ours, server));
        assert!(!shown.contains(&PLAIN_RESPONSE[8..]), "{shown}");
    }

    /// A client that pipelines NOOPs and never reads, through a 4 KiB pipe, so the replies
    /// fill it and the server's writes block; returns the error that ends the session.
    async fn serve_a_client_that_never_reads(
        config: crate::server::ServerConfig,
        write_timeout: Option<Duration>,
    ) -> io::Error {
        use crate::server::SessionError;
        let (ours, theirs) = tokio::io::duplex(4096);
        let (_their_read, mut their_write) = tokio::io::split(theirs);
        let writer = tokio::spawn(async move {
            let noops = b"NOOP\r\n".repeat(2000);
            let _ = their_write.write_all(&noops).await;
            their_write
        });
        let mut conn = ServerConnection::new(ours, Server::new(config, Instant::now()));
        if let Some(timeout) = write_timeout {
            conn = conn.with_write_timeout(timeout);
        }
        let error = tokio::time::timeout(LIMIT, async {
            loop {
                match conn.next_event().await {
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("ended without an error"),
                    Err(error) => return error,
                }
            }
        })
        .await
        .expect("the write timeout ends the session");
        // The session is over: the machine's Closed, then nothing, with no more waiting.
        let closed = tokio::time::timeout(Duration::from_millis(100), conn.next_event())
            .await
            .expect("no second wait on the blocked pipe")
            .unwrap();
        assert_eq!(
            closed,
            Some(Event::Closed(Err(SessionError::PeerClosed {
                in_transaction: false
            })))
        );
        assert_eq!(conn.next_event().await.unwrap(), None);
        drop(conn);
        writer.await.unwrap();
        error
    }

    #[tokio::test]
    async fn a_client_that_never_reads_the_replies_times_out() {
        use crate::server::ServerConfig;
        // By default the write timeout is the command timeout.
        // The client's 2000 NOOPs are junk commands; the limit on them is not the subject.
        let config = ServerConfig {
            command_timeout: Duration::from_millis(200),
            max_junk_commands: u32::MAX,
            ..ServerConfig::default()
        };
        let error = serve_a_client_that_never_reads(config, None).await;
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        // Or set on its own.
        let config = ServerConfig {
            max_junk_commands: u32::MAX,
            ..ServerConfig::default()
        };
        let error = serve_a_client_that_never_reads(config, Some(Duration::from_millis(200))).await;
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test]
    async fn a_server_event_survives_a_cancelled_next_event() {
        use crate::server::ServerConfig;
        // A 30-byte pipe: the 27-byte greeting fits, the 221 after QUIT does not until the
        // client reads, so the first call is cancelled while it writes the reply to QUIT.
        let (ours, theirs) = tokio::io::duplex(30);
        let (mut their_read, mut their_write) = tokio::io::split(theirs);
        let server = Server::new(ServerConfig::default(), Instant::now());
        let mut conn = ServerConnection::new(ours, server);
        // The client writes from its own task, so nothing here waits on the pipe.
        let writer = tokio::spawn(async move {
            their_write.write_all(b"QUIT\r\n").await.unwrap();
            their_write
        });
        let cancelled = tokio::time::timeout(Duration::from_millis(50), conn.next_event()).await;
        assert!(
            cancelled.is_err(),
            "next_event finished without the peer reading"
        );
        let reader = tokio::spawn(async move {
            let mut all = Vec::new();
            their_read.read_to_end(&mut all).await.unwrap();
            all
        });
        let event = tokio::time::timeout(LIMIT, conn.next_event())
            .await
            .unwrap();
        assert_eq!(event.unwrap(), Some(Event::Closed(Ok(()))));
        assert_eq!(conn.next_event().await.unwrap(), None);
        drop(conn);
        drop(writer.await.unwrap());
        let wire = reader.await.unwrap();
        assert_eq!(
            String::from_utf8(wire).unwrap(),
            "220 localhost ESMTP ready\r\n221 2.0.0 Bye\r\n"
        );
    }

    fn envelope() -> Envelope {
        Envelope::new(ReversePath::Mailbox(
            Mailbox::parse("a@client.example").unwrap().into_owned(),
        ))
        .with_recipient(ForwardPath::Mailbox(
            Mailbox::parse("b@mx.example").unwrap().into_owned(),
        ))
    }

    fn connection(stream: DuplexStream, config: ClientConfig) -> ClientConnection<DuplexStream> {
        let tls = ClientTls::opportunistic_accept_any_certificate()
            .build()
            .unwrap();
        let name = mail_tls::server_name("mx.example").unwrap();
        ClientConnection::new(stream, Client::new(config, Instant::now())).with_starttls(
            tls,
            name,
            HandshakeOptions::new(LIMIT),
        )
    }

    /// The scripted server's side: lines in, bytes out.
    struct Peer(BufReader<DuplexStream>);

    impl Peer {
        async fn line(&mut self) -> String {
            let mut line = String::new();
            self.0.read_line(&mut line).await.unwrap();
            line
        }

        async fn send(&mut self, bytes: &[u8]) {
            self.0.get_mut().write_all(bytes).await.unwrap();
        }

        /// Everything else the client sends, until it closes.
        async fn rest(mut self) -> Vec<u8> {
            let mut rest = Vec::new();
            let _ = self.0.read_to_end(&mut rest).await;
            rest
        }
    }

    /// Runs the client until `Ok(None)`; returns its events (an error ends the list as a
    /// `Err`).
    async fn events(
        conn: &mut ClientConnection<DuplexStream>,
        mut on_event: impl FnMut(&client::Event, &mut ClientConnection<DuplexStream>),
    ) -> Vec<Result<client::Event, io::ErrorKind>> {
        let mut events = Vec::new();
        loop {
            match conn.next_event().await {
                Ok(Some(event)) => {
                    on_event(&event, conn);
                    events.push(Ok(event));
                }
                Ok(None) => return events,
                Err(error) => events.push(Err(error.kind())),
            }
            assert!(events.len() < 100, "{events:?}");
        }
    }

    fn required_tls() -> ClientConfig {
        ClientConfig {
            tls: TlsPolicy::Required,
            ..ClientConfig::default()
        }
    }

    #[tokio::test]
    async fn starttls_injection_in_the_same_read_ends_the_session() {
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(async move {
            let mut peer = Peer(BufReader::new(theirs));
            peer.send(b"220 mx.example ESMTP\r\n").await;
            assert!(peer.line().await.starts_with("EHLO"));
            peer.send(b"250-mx.example\r\n250 STARTTLS\r\n").await;
            assert_eq!(peer.line().await, "STARTTLS\r\n");
            // The attacker's reply rides behind the real one.
            peer.send(b"220 2.0.0 go ahead\r\n250-AUTH PLAIN\r\n").await;
            peer.rest().await
        });
        let mut conn = connection(ours, required_tls());
        let events = tokio::time::timeout(LIMIT, events(&mut conn, |_, _| {}))
            .await
            .unwrap();
        assert_eq!(
            events.last(),
            Some(&Ok(client::Event::Closed(Err(
                SessionError::StartTlsInjection
            ))))
        );
        assert!(!events.contains(&Ok(client::Event::StartTls)));
        drop(conn);
        // No handshake was started and nothing else was said.
        assert_eq!(server.await.unwrap(), b"");
    }

    #[tokio::test]
    async fn bytes_after_the_starttls_reply_in_a_later_read_fail_the_handshake() {
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(async move {
            let mut peer = Peer(BufReader::new(theirs));
            peer.send(b"220 mx.example ESMTP\r\n").await;
            peer.line().await;
            peer.send(b"250-mx.example\r\n250 STARTTLS\r\n").await;
            peer.line().await;
            peer.send(b"220 2.0.0 go ahead\r\n").await;
            // Once the ClientHello comes, plaintext where the ServerHello belongs: the
            // driver read nothing after the reply, so these bytes reach rustls, which
            // refuses them.
            let mut hello = [0u8; 1];
            let _ = peer.0.read_exact(&mut hello).await;
            peer.send(b"250 injected\r\n").await;
            (hello, peer.rest().await)
        });
        let mut conn = connection(ours, required_tls());
        let events = tokio::time::timeout(LIMIT, events(&mut conn, |_, _| {}))
            .await
            .unwrap();
        assert!(events.contains(&Err(io::ErrorKind::Other)), "{events:?}");
        assert!(!events.contains(&Ok(client::Event::StartTls)));
        assert!(matches!(
            events.last(),
            Some(Ok(client::Event::Closed(Err(_))))
        ));
        drop(conn);
        let (hello, _) = server.await.unwrap();
        assert_eq!(hello, [0x16], "a TLS handshake record was sent");
    }

    #[tokio::test]
    async fn a_client_that_may_use_starttls_needs_a_tls_configuration() {
        let (ours, _theirs) = tokio::io::duplex(1024);
        let mut conn =
            ClientConnection::new(ours, Client::new(ClientConfig::default(), Instant::now()));
        let error = conn.next_event().await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }

    fn plaintext() -> ClientConfig {
        ClientConfig {
            tls: TlsPolicy::Never,
            ..ClientConfig::default()
        }
    }

    #[tokio::test]
    async fn bdat_without_pipelining_waits_for_each_chunk_reply() {
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(async move {
            let mut peer = Peer(BufReader::new(theirs));
            peer.send(b"220 mx.example ESMTP\r\n").await;
            peer.line().await;
            peer.send(b"250-mx.example\r\n250 CHUNKING\r\n").await;
            assert!(peer.line().await.starts_with("MAIL"));
            peer.send(b"250 ok\r\n").await;
            assert!(peer.line().await.starts_with("RCPT"));
            peer.send(b"250 ok\r\n").await;
            let mut chunks = Vec::new();
            loop {
                let line = peer.line().await;
                let mut words = line.split_whitespace().skip(1);
                let size: usize = words.next().unwrap().parse().unwrap();
                let last = words.next() == Some("LAST");
                let mut chunk = vec![0; size];
                peer.0.read_exact(&mut chunk).await.unwrap();
                // Nothing more may come before this chunk is answered.
                tokio::time::sleep(Duration::from_millis(20)).await;
                assert!(peer.0.buffer().is_empty(), "the next chunk came early");
                let mut probe = [0u8; 1];
                let early = tokio::time::timeout(Duration::ZERO, peer.0.read(&mut probe)).await;
                assert!(early.is_err(), "the next chunk came early");
                chunks.push((chunk, last));
                peer.send(b"250 chunk ok\r\n").await;
                if last {
                    break;
                }
            }
            assert_eq!(peer.line().await, "QUIT\r\n");
            peer.send(b"221 bye\r\n").await;
            chunks
        });
        let mut conn = connection(ours, plaintext());
        let mut sent = false;
        let mut events = Vec::new();
        let run = async {
            while let Some(event) = conn.next_event().await.unwrap() {
                match &event {
                    client::Event::Ready if !sent => conn.send_message(envelope()).unwrap(),
                    client::Event::Ready => conn.quit(),
                    client::Event::BodyReady => {
                        sent = true;
                        assert!(conn.send_body(b"one ").await.unwrap());
                        assert!(conn.send_body(b"two ").await.unwrap());
                        assert!(conn.finish_body_with(b"three").await.unwrap());
                    }
                    _ => {}
                }
                events.push(event);
            }
        };
        tokio::time::timeout(LIMIT, run).await.unwrap();
        let body_ready = events
            .iter()
            .filter(|e| **e == client::Event::BodyReady)
            .count();
        assert_eq!(body_ready, 1, "stale BodyReady events are left out");
        assert!(matches!(events.last(), Some(client::Event::Closed(Ok(())))));
        assert_eq!(
            server.await.unwrap(),
            [
                (b"one ".to_vec(), false),
                (b"two ".to_vec(), false),
                (b"three".to_vec(), true)
            ]
        );
    }

    #[tokio::test]
    async fn a_server_that_gives_up_during_the_body_is_reported() {
        let (ours, theirs) = tokio::io::duplex(16 * 1024);
        let server = tokio::spawn(async move {
            let mut peer = Peer(BufReader::new(theirs));
            peer.send(b"220 mx.example ESMTP\r\n").await;
            peer.line().await;
            peer.send(b"250 mx.example\r\n").await;
            // No PIPELINING: MAIL, RCPT and DATA come one by one.
            for reply in [&b"250 ok\r\n"[..], b"250 ok\r\n", b"354 go\r\n"] {
                peer.line().await;
                peer.send(reply).await;
            }
            let mut some = vec![0; 1000];
            peer.0.read_exact(&mut some).await.unwrap();
            peer.send(b"421 4.3.2 shutting down\r\n").await;
            // Closing both halves: the client's next writes fail.
        });
        let mut conn = connection(ours, plaintext());
        let body = vec![b'x'; 4 * 1024 * 1024];
        let mut sent = None;
        let run = async {
            let mut last = None;
            loop {
                match conn.next_event().await {
                    Ok(Some(client::Event::Ready)) => conn.send_message(envelope()).unwrap(),
                    Ok(Some(client::Event::BodyReady)) => {
                        sent = Some(conn.send_body_from(&body[..]).await);
                    }
                    Ok(Some(event)) => last = Some(event),
                    Ok(None) => return last,
                    Err(error) => panic!("{error}"),
                }
            }
        };
        let last = tokio::time::timeout(LIMIT, run).await.unwrap();
        server.await.unwrap();
        match last {
            Some(client::Event::Closed(Err(SessionError::ServiceUnavailable(reply)))) => {
                assert_eq!(reply.code().get(), 421)
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(sent, Some(Ok(false))), "{sent:?}");
    }

    #[tokio::test]
    async fn a_late_reply_times_out() {
        let (ours, _theirs) = tokio::io::duplex(1024);
        let mut config = plaintext();
        config.timeouts.greeting = Duration::from_millis(50);
        let mut conn = connection(ours, config);
        let events = tokio::time::timeout(LIMIT, events(&mut conn, |_, _| {}))
            .await
            .unwrap();
        assert_eq!(
            events,
            [Ok(client::Event::Closed(Err(SessionError::Timeout(
                Awaiting::Greeting
            ))))]
        );
    }

    #[tokio::test]
    async fn the_trace_sees_both_directions_in_order() {
        let (ours, theirs) = tokio::io::duplex(1024);
        let server = tokio::spawn(async move {
            let mut peer = Peer(BufReader::new(theirs));
            peer.send(b"220 mx.example ESMTP\r\n").await;
            peer.line().await;
            peer.send(b"250 mx.example\r\n").await;
            peer.line().await;
            peer.send(b"221 bye\r\n").await;
        });
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = log.clone();
        let mut conn = connection(ours, plaintext()).with_trace(move |traffic, bytes| {
            sink.lock().unwrap().push((traffic, bytes.to_vec()));
        });
        let events = events(&mut conn, |event, conn| {
            if *event == client::Event::Ready {
                conn.quit();
            }
        })
        .await;
        server.await.unwrap();
        assert_eq!(events.last(), Some(&Ok(client::Event::Closed(Ok(())))));
        let log = log.lock().unwrap().clone();
        let expected: Vec<(Traffic, Vec<u8>)> = vec![
            (Traffic::Received, b"220 mx.example ESMTP\r\n".to_vec()),
            (Traffic::Sent, b"EHLO localhost\r\n".to_vec()),
            (Traffic::Received, b"250 mx.example\r\n".to_vec()),
            (Traffic::Sent, b"QUIT\r\n".to_vec()),
            (Traffic::Received, b"221 bye\r\n".to_vec()),
        ];
        assert_eq!(log, expected);
    }

    /// The AUTH line's initial response goes to the server whole and to the trace as its
    /// length only.
    #[tokio::test]
    async fn the_trace_gets_no_credential() {
        let (ours, theirs) = tokio::io::duplex(1024);
        let server = tokio::spawn(async move {
            let mut peer = Peer(BufReader::new(theirs));
            peer.send(b"220 mx.example ESMTP\r\n").await;
            peer.line().await;
            peer.send(b"250-mx.example\r\n250 AUTH PLAIN\r\n").await;
            let auth = peer.line().await;
            peer.send(b"235 2.7.0 ok\r\n").await;
            peer.line().await;
            peer.send(b"221 bye\r\n").await;
            auth
        });
        let mut config = plaintext();
        config.allow_plaintext_auth = true;
        config.credentials = Some(client::Credentials::password(
            "alice",
            mail_wire::Secret::new("tr0ub4dor".into()),
        ));
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = log.clone();
        let mut conn = connection(ours, config).with_trace(move |traffic, bytes| {
            sink.lock().unwrap().push((traffic, bytes.to_vec()));
        });
        let events = events(&mut conn, |event, conn| {
            if *event == client::Event::Ready {
                conn.quit();
            }
        })
        .await;
        assert_eq!(events.last(), Some(&Ok(client::Event::Closed(Ok(())))));
        assert_eq!(
            server.await.unwrap(),
            "AUTH PLAIN AGFsaWNlAHRyMHViNGRvcg==\r\n"
        );
        let log = log.lock().unwrap().clone();
        let sent: Vec<_> = log
            .iter()
            .filter(|(traffic, _)| *traffic != Traffic::Received)
            .cloned()
            .collect();
        assert_eq!(
            sent,
            [
                (Traffic::Sent, b"EHLO localhost\r\n".to_vec()),
                (Traffic::Sent, b"AUTH PLAIN ".to_vec()),
                (Traffic::SentSecret { octets: 26 }, Vec::new()),
                (Traffic::Sent, b"QUIT\r\n".to_vec()),
            ]
        );
    }

    // Found by the review of issue 12, each test failing before its fix.

    /// Reads stay within READ_CHUNK octets even when the server's `feed_buf` hands back a
    /// buffer with more spare capacity (a client that writes faster than the server reads).
    #[tokio::test]
    async fn server_reads_stay_within_read_chunk_with_a_fast_client() {
        use crate::server::ServerConfig;
        let (ours, theirs) = tokio::io::duplex(64 << 20);
        let (mut their_read, mut their_write) = tokio::io::split(theirs);
        let mut stream =
            b"EHLO a\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n".to_vec();
        // Short lines: many reads end on a CR, which the dot decoder keeps for the next read,
        // so the next read is appended to it (reads of 12 KiB seen).
        stream.extend_from_slice(&b"a.b\r\n".repeat((8 << 20) / 5));
        stream.extend_from_slice(b".\r\nQUIT\r\n");
        let writer = tokio::spawn(async move {
            their_write.write_all(&stream).await.unwrap();
            their_write
        });
        let reader = tokio::spawn(async move {
            let mut all = Vec::new();
            let _ = their_read.read_to_end(&mut all).await;
            all
        });
        let largest = Arc::new(std::sync::Mutex::new(0usize));
        let sink = largest.clone();
        let server = Server::new(ServerConfig::default(), Instant::now());
        let mut conn = ServerConnection::new(ours, server).with_trace(move |traffic, bytes| {
            if traffic == Traffic::Received {
                let mut largest = sink.lock().unwrap();
                *largest = (*largest).max(bytes.len());
            }
        });
        let mut ending = None;
        while let Some(event) = tokio::time::timeout(Duration::from_secs(60), conn.next_event())
            .await
            .unwrap()
            .unwrap()
        {
            match event {
                Event::Hello { .. }
                | Event::Mail { .. }
                | Event::Rcpt { .. }
                | Event::BodyEnd { .. } => {
                    conn.server().accept().unwrap();
                }
                Event::Closed(result) => ending = Some(result),
                _ => {}
            }
        }
        drop(conn);
        drop(writer.await.unwrap());
        let _ = reader.await.unwrap();
        let largest = *largest.lock().unwrap();
        assert_eq!(ending, Some(Ok(())));
        assert!(
            largest <= mail_tokio::READ_CHUNK,
            "one read took {largest} octets, READ_CHUNK is {}",
            mail_tokio::READ_CHUNK
        );
    }

    /// A [`Server`] that counts the driver's `handle_eof` calls.
    struct CountingEof(Server, Arc<std::sync::atomic::AtomicUsize>);

    impl mail_tokio::Session for CountingEof {
        type Event = Event;
        type Error = crate::server::SessionError;
        type Misuse = crate::server::ServerError;
        fn feed(&mut self, now: Instant, bytes: &[u8]) {
            self.0.feed(now, bytes);
        }
        fn feed_buf(&mut self, now: Instant, buf: &mut bytes::BytesMut) {
            self.0.feed_buf(now, buf);
        }
        fn handle_eof(&mut self) {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.0.handle_eof();
        }
        fn poll_transmit(&mut self) -> Option<bytes::Bytes> {
            self.0.poll_transmit()
        }
        fn poll_event(&mut self) -> Option<Event> {
            self.0.poll_event()
        }
        fn poll_timeout(&self) -> Option<Instant> {
            self.0.poll_timeout()
        }
        fn handle_timeout(&mut self, now: Instant) {
            self.0.handle_timeout(now);
        }
        fn wants_input(&self) -> bool {
            self.0.wants_input()
        }
        fn is_tls(&self) -> bool {
            self.0.is_tls()
        }
        fn tls_established(&mut self, now: Instant) -> Result<(), Self::Misuse> {
            self.0.tls_established(now)
        }
        fn is_closed(&self) -> bool {
            self.0.is_closed()
        }
        fn classify(event: &Event) -> mail_tokio::EventKind<'_, Self::Error> {
            <Server as mail_tokio::Session>::classify(event)
        }
    }

    /// After a failed write, the driver reads the peer's last words until the end of the
    /// stream, and no further: a server that still holds unprocessed input at that point ends
    /// (the connection is lost) instead of the driver spinning on a closed stream.
    #[test]
    fn a_failed_write_with_unprocessed_server_input_ends_the_session() {
        use crate::server::ServerConfig;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let eofs = Arc::new(AtomicUsize::new(0));
        let counter = eofs.clone();
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let outcome = runtime.block_on(async {
                let (ours, theirs) = tokio::io::duplex(64);
                let (their_read, mut their_write) = tokio::io::split(theirs);
                let client = tokio::spawn(async move {
                    let noops = b"NOOP\r\n".repeat(100);
                    their_write.write_all(&noops).await.unwrap();
                    // Gone without reading a byte.
                    drop(their_read);
                    drop(their_write);
                });
                let server = Server::new(ServerConfig::default(), Instant::now());
                let mut conn = Connection::new(ours, CountingEof(server, counter))
                    .with_read_while_writing(true);
                let mut events = Vec::new();
                loop {
                    match conn.next_event().await {
                        Ok(Some(event)) => events.push(format!("{event:?}")),
                        Ok(None) => break,
                        Err(error) => events.push(format!("error: {error}")),
                    }
                }
                client.await.unwrap();
                events
            });
            let _ = done.send(outcome);
        });
        match finished.recv_timeout(Duration::from_secs(5)) {
            Ok(events) => assert!(
                events.last().is_some_and(|e| e.starts_with("Closed")),
                "{events:?}"
            ),
            // The thread is left spinning: it holds a core until the test binary exits.
            Err(_) => panic!(
                "the connection never finished; handle_eof was called {} times",
                eofs.load(Ordering::Relaxed)
            ),
        }
    }

    /// After an I/O error the session is over, with a decision pending or not: the next calls
    /// return the remaining events, ending with [`Event::Closed`], then `Ok(None)`.
    #[tokio::test]
    async fn a_failed_flush_while_a_decision_is_pending_still_ends_with_closed() {
        use crate::server::ServerConfig;
        let (ours, mut theirs) = tokio::io::duplex(64);
        theirs
            .write_all(b"EHLO client.example\r\nMAIL FROM:<a@b.example>\r\n")
            .await
            .unwrap();
        let mut conn =
            ServerConnection::new(ours, Server::new(ServerConfig::default(), Instant::now()));
        let mut events = Vec::new();
        loop {
            let event = tokio::time::timeout(LIMIT, conn.next_event())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            let mail = matches!(event, Event::Mail { .. });
            if matches!(event, Event::Hello { .. }) {
                conn.server().accept().unwrap();
            }
            events.push(event);
            if mail {
                break;
            }
        }
        // The client is gone; the application flushes before it looks the sender up.
        drop(theirs);
        let error = conn.flush().await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "{error}");
        // The rest of the session, as the docs promise it.
        let mut rest = Vec::new();
        while let Some(event) = tokio::time::timeout(LIMIT, conn.next_event())
            .await
            .unwrap()
            .unwrap()
        {
            rest.push(event);
        }
        assert!(
            rest.iter().any(|e| matches!(e, Event::Closed(_))),
            "no Closed event after the I/O error: {rest:?}; server still open: {}",
            !conn.server().is_closed()
        );
    }

    /// A broken connection can carry no reply: the server drops what it still holds and the
    /// pending decision, and asks nothing more (a message accepted now would be delivered
    /// twice, since the client never sees its `250`, RFC 1047).
    #[tokio::test]
    async fn after_a_failed_flush_the_server_asks_nothing_more() {
        use crate::server::ServerConfig;
        let (ours, mut theirs) = tokio::io::duplex(1024);
        theirs
            .write_all(
                b"EHLO client.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n\
                  DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n",
            )
            .await
            .unwrap();
        let mut conn =
            ServerConnection::new(ours, Server::new(ServerConfig::default(), Instant::now()));
        loop {
            let event = conn.next_event().await.unwrap().unwrap();
            match event {
                Event::Hello { .. } => conn.server().accept().unwrap(),
                Event::Mail { .. } => break,
                _ => {}
            }
        }
        drop(theirs);
        assert!(conn.flush().await.is_err(), "the client is gone");
        // The decision is gone with the connection.
        assert_eq!(
            conn.server().accept(),
            Err(crate::server::ServerError::NoPendingDecision)
        );
        let mut asked = Vec::new();
        while let Some(event) = tokio::time::timeout(LIMIT, conn.next_event())
            .await
            .unwrap()
            .unwrap()
        {
            if matches!(event, Event::Rcpt { .. } | Event::BodyEnd { .. }) {
                conn.server().accept().unwrap();
            }
            asked.push(event);
        }
        assert_eq!(
            asked,
            [Event::Closed(Err(
                crate::server::SessionError::PeerClosed {
                    in_transaction: false
                }
            ))],
            "the server asked for more on a broken connection"
        );
    }
}
