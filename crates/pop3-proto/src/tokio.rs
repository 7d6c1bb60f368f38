//! Thin async drivers around the state machines, for tokio: typed wrappers over
//! [`mail_tokio::Connection`], the one driver every protocol of sansmail shares. The generic
//! driver does the reading, writing, deadlines and the STLS upgrade through mail-tls
//! (checking the boundary rule); what is POP3's alone stays here: the server's write timeout
//! defaults to its idle timeout, and the server streams a message from an `AsyncRead`.
//!
//! # Server
//!
//! ```no_run
//! use pop3_proto::server::{Event, Server, ServerConfig};
//! use pop3_proto::tokio::ServerConnection;
//!
//! # async fn serve(stream: tokio::net::TcpStream, users: mail_testkit::Users) -> std::io::Result<()> {
//! let server = Server::new(ServerConfig::pop3s(), std::time::Instant::now());
//! let mut conn = ServerConnection::new(stream, server);
//! while let Some(event) = conn.next_event().await? {
//!     match event {
//!         Event::AuthStep { .. } => conn
//!             .server()
//!             .auth_step(&users, mail_testkit::users::server_nonce())
//!             .map_err(std::io::Error::other)?,
//!         Event::OpenMaildrop { .. } => {
//!             conn.server().open_maildrop(Vec::new()).map_err(std::io::Error::other)?
//!         }
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```

use std::io;
use std::time::Instant;

use mail_tokio::Connection;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::client::{self, Client};
use crate::server::{Event, Server};

/// Which way bytes went, for a `with_trace` callback.
pub use mail_tokio::Traffic;

/// How much of a message [`ServerConnection::send_message_from`] reads and sends at once.
pub const MESSAGE_CHUNK: usize = 64 * 1024;

mail_tokio::typed_connection! {
    /// One server session over a tokio stream; see the [module docs](self).
    ///
    /// For implicit TLS (port 995) accept the TLS connection first
    /// (`mail_tls::tokio::accept_implicit`), pass the TLS stream and use
    /// [`ServerConfig::pop3s`](crate::server::ServerConfig::pop3s).
    pub struct ServerConnection(Server);

    /// The longest one flush may take before the session ends with
    /// [`io::ErrorKind::TimedOut`]: a client that never reads holds no slot for ever.
    with_write_timeout;

    /// Enables STLS with this rustls configuration and handshake options.
    with_starttls = accept;

    /// Calls `trace` with every piece of output and input. What is received includes `PASS`
    /// and `AUTH` lines: redact before logging.
    with_trace;

    /// The state machine, to answer decisions.
    session = server;

    /// What was negotiated by STLS, once it succeeded.
    tls_info;

    /// The next event, after writing pending responses and reading as needed; `Ok(None)`
    /// once the session is over. Cancel safe, as `mail_tokio::Connection::next_event`.
    ///
    /// # Errors
    ///
    /// I/O errors and a failed STLS handshake.
    next_event -> Event;

    /// Writes everything queued.
    ///
    /// # Errors
    ///
    /// I/O errors, and [`io::ErrorKind::TimedOut`] past the write timeout.
    flush;
}

impl<S: AsyncRead + AsyncWrite + Unpin> ServerConnection<S> {
    /// Drives `server` over `stream`. Writes time out after the server's idle timeout.
    pub fn new(stream: S, server: Server) -> Self {
        let write_timeout = server.config().idle_timeout;
        ServerConnection(Connection::new(stream, server).with_write_timeout(Some(write_timeout)))
    }

    /// Answers the pending [`Event::Retrieve`] with the content read from `message`, in
    /// pieces of at most [`MESSAGE_CHUNK`] octets, each written before the next is read,
    /// then ends the message.
    ///
    /// # Errors
    ///
    /// Errors reading `message` (the session is then shut down: the client cannot tell a
    /// cut message from a whole one), writing, or no [`Event::Retrieve`] pending.
    pub async fn send_message_from(
        &mut self,
        mut message: impl AsyncRead + Unpin,
    ) -> io::Result<()> {
        let mut buf = vec![0; MESSAGE_CHUNK];
        loop {
            let n = match message.read(&mut buf).await {
                Ok(n) => n,
                Err(error) => {
                    self.server().shutdown();
                    return Err(error);
                }
            };
            if n == 0 {
                break;
            }
            self.server()
                .send_message_data(&buf[..n])
                .map_err(io::Error::other)?;
            self.flush().await?;
        }
        self.server().end_message().map_err(io::Error::other)
    }
}

mail_tokio::typed_connection! {
    /// One client session over a tokio stream.
    ///
    /// **STLS boundary** (RFC 2595 section 4): every byte read is fed to the machine at once,
    /// so data injected after the `+OK` to `STLS` ends the session with
    /// [`SessionError::StartTlsInjection`](client::SessionError::StartTlsInjection).
    pub struct ClientConnection(Client);

    /// Enables STLS with this rustls configuration, the name the server's certificate must
    /// carry, and handshake options. Required unless the policy is
    /// [`TlsPolicy::Never`](client::TlsPolicy::Never) or the connection is implicit TLS.
    with_starttls = connect;

    /// Calls `trace` with every piece of output and input; the `PASS` line and SASL
    /// responses come as [`Traffic::SentSecret`] with their length alone.
    with_trace;

    /// The state machine, to send commands ([`Client::retr`], ...). They go out with the
    /// next [`ClientConnection::next_event`].
    session = client;

    /// What was negotiated by STLS, once it succeeded.
    tls_info;

    /// The next event; `Ok(None)` once the session is over.
    ///
    /// # Errors
    ///
    /// I/O errors and a failed STLS handshake.
    next_event -> client::Event;
}

impl<S: AsyncRead + AsyncWrite + Unpin> ClientConnection<S> {
    /// Drives `client` over `stream`, a connection just opened.
    pub fn new(stream: S, client: Client) -> Self {
        let timeout = client.config().response_timeout;
        ClientConnection(Connection::new(stream, client).with_write_timeout(Some(timeout)))
    }

    /// Sends `QUIT` now.
    ///
    /// # Errors
    ///
    /// As [`Client::quit`].
    pub fn quit(&mut self) -> Result<(), client::ClientError> {
        self.client().quit(Instant::now())
    }
}
