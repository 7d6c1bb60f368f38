//! Thin async drivers around the state machines, for tokio.
//!
//! [`ServerConnection`] owns a stream and a [`Server`]: it writes what the machine queues,
//! reads only when the machine wants input, turns deadlines into timers, and performs the
//! STARTTLS upgrade with mail-tls (checking the boundary rule) before it hands the next event
//! back. The application keeps all policy: it awaits [`ServerConnection::next_event`] and
//! answers decisions on [`ServerConnection::server`].
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

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::BytesMut;
use mail_tls::SessionInfo;
use mail_tls::rustls::ServerConfig as TlsServerConfig;
use mail_tls::tokio::{HandshakeOptions, starttls_accept, tokio_rustls};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::server::{Event, Server};

/// How much is read from the socket at once. Small enough that an idle session costs little,
/// large enough for a pipelined burst.
const READ_CHUNK: usize = 4096;

/// A plaintext stream that may be upgraded to TLS in place.
#[derive(Debug)]
enum Stream<S> {
    Plain(S),
    Tls(Box<tokio_rustls::server::TlsStream<S>>),
    /// The upgrade failed half-way; the connection is unusable.
    Broken,
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Broken => Poll::Ready(Err(broken())),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Broken => Poll::Ready(Err(broken())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s).poll_flush(cx),
            Stream::Broken => Poll::Ready(Err(broken())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Broken => Poll::Ready(Ok(())),
        }
    }
}

fn broken() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the connection was lost during the STARTTLS upgrade",
    )
}

/// One server session over a tokio stream; see the [module docs](self).
///
/// For implicit TLS (ports 465, 993, 995) accept the TLS connection first
/// (`mail_tls::tokio::accept_implicit`), pass the TLS stream as `S` and set
/// [`ServerConfig::implicit_tls`](crate::server::ServerConfig::implicit_tls).
#[derive(Debug)]
pub struct ServerConnection<S> {
    stream: Stream<S>,
    server: Server,
    starttls: Option<(Arc<TlsServerConfig>, HandshakeOptions)>,
    read_buf: BytesMut,
    out: BytesMut,
    tls_info: Option<SessionInfo>,
    finished: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> ServerConnection<S> {
    /// Drives `server` over `stream`.
    pub fn new(stream: S, server: Server) -> Self {
        ServerConnection {
            stream: Stream::Plain(stream),
            server,
            starttls: None,
            read_buf: BytesMut::new(),
            out: BytesMut::new(),
            tls_info: None,
            finished: false,
        }
    }

    /// Enables STARTTLS with this rustls configuration (build it with
    /// `mail_tls::ServerTls`) and handshake options. Without it, a server configured to offer
    /// STARTTLS fails the session when a client uses it.
    pub fn with_starttls(
        mut self,
        config: Arc<TlsServerConfig>,
        options: HandshakeOptions,
    ) -> Self {
        self.starttls = Some((config, options));
        self
    }

    /// The state machine, to answer decisions and read session state.
    pub fn server(&mut self) -> &mut Server {
        &mut self.server
    }

    /// What was negotiated by STARTTLS, once it succeeded.
    pub fn tls_info(&self) -> Option<&SessionInfo> {
        self.tls_info.as_ref()
    }

    /// The next event, after writing pending replies and reading as needed; `Ok(None)` once
    /// the session is over and the connection shut down.
    ///
    /// [`Event::StartTls`] is returned after the handshake succeeded, for logging; the
    /// session continues inside TLS. [`Event::Closed`] is returned once, after the last reply
    /// was written.
    ///
    /// Cancel safe (for `tokio::select!` with a shutdown signal), except during a STARTTLS
    /// handshake, which a cancellation abandons.
    ///
    /// # Errors
    ///
    /// I/O errors, a failed STARTTLS handshake (wrapping a `mail_tls::TlsError`), and calling
    /// it while a decision from the previous event is still pending.
    pub async fn next_event(&mut self) -> io::Result<Option<Event>> {
        loop {
            if let Some(event) = self.server.poll_event() {
                match event {
                    Event::StartTls => {
                        self.flush().await?;
                        self.upgrade().await?;
                        return Ok(Some(Event::StartTls));
                    }
                    Event::Closed(_) => {
                        self.flush().await?;
                        // The peer may already be gone; the session is over either way.
                        let _ = self.stream.shutdown().await;
                        self.finished = true;
                        return Ok(Some(event));
                    }
                    event => return Ok(Some(event)),
                }
            }
            if self.finished {
                return Ok(None);
            }
            if !self.server.wants_input() {
                return Err(io::Error::other(
                    "answer the pending decision before asking for the next event",
                ));
            }
            // RFC 2920 section 3.1: flush the replies before blocking on a read.
            self.flush().await?;
            self.read_buf.reserve(READ_CHUNK);
            let read = match self.server.poll_timeout() {
                Some(deadline) => {
                    let deadline = tokio::time::Instant::from_std(deadline);
                    match tokio::time::timeout_at(
                        deadline,
                        self.stream.read_buf(&mut self.read_buf),
                    )
                    .await
                    {
                        Ok(read) => read,
                        Err(_elapsed) => {
                            self.server.handle_timeout(Instant::now());
                            continue;
                        }
                    }
                }
                None => self.stream.read_buf(&mut self.read_buf).await,
            };
            match read {
                Ok(0) => self.server.handle_eof(),
                Ok(_) => {
                    self.server.feed(Instant::now(), &self.read_buf);
                    self.read_buf.clear();
                }
                Err(err) => {
                    self.server.handle_eof();
                    self.finished = true;
                    return Err(err);
                }
            }
        }
    }

    /// Writes everything the machine has queued. Cancel safe: unwritten bytes stay queued.
    pub async fn flush(&mut self) -> io::Result<()> {
        while let Some(bytes) = self.server.poll_transmit() {
            self.out.extend_from_slice(&bytes);
        }
        while !self.out.is_empty() {
            if self.stream.write_buf(&mut self.out).await? == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
        }
        self.stream.flush().await
    }

    async fn upgrade(&mut self) -> io::Result<()> {
        let Some((config, options)) = self.starttls.clone() else {
            self.finished = true;
            return Err(io::Error::other(
                "STARTTLS accepted but the connection has no TLS configuration",
            ));
        };
        let Stream::Plain(plain) = std::mem::replace(&mut self.stream, Stream::Broken) else {
            self.finished = true;
            return Err(io::Error::other(
                "STARTTLS on a connection that is already TLS",
            ));
        };
        // The state machine already refused bytes pipelined after STARTTLS; the driver holds
        // none of its own, which mail-tls checks again.
        match starttls_accept(config, plain, &self.read_buf, &self.out, options).await {
            Ok(tls) => {
                self.tls_info = Some(SessionInfo::from_connection(tls.get_ref().1));
                self.stream = Stream::Tls(Box::new(tls));
                self.server
                    .tls_established(Instant::now())
                    .map_err(io::Error::other)
            }
            Err(err) => {
                self.finished = true;
                Err(io::Error::other(err))
            }
        }
    }
}
