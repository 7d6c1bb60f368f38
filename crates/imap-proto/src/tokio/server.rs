//! The server machine on the shared tokio driver: [`ServerConnection`].
//!
//! ```no_run
//! use imap_proto::response::StatusKind;
//! use imap_proto::server::{Event, Server, ServerConfig};
//! use imap_proto::tokio::ServerConnection;
//!
//! # async fn serve(stream: tokio::net::TcpStream, users: mail_testkit::Users) -> std::io::Result<()> {
//! let server = Server::new(ServerConfig::imaps(), std::time::Instant::now());
//! let mut conn = ServerConnection::new(stream, server);
//! while let Some(event) = conn.next_event().await? {
//!     match event {
//!         Event::AuthStep { .. } => conn
//!             .server()
//!             .auth_step(&users, mail_testkit::users::server_nonce())
//!             .map_err(std::io::Error::other)?,
//!         Event::Command { .. } => conn
//!             .server()
//!             .complete(StatusKind::No, None, "Not implemented here")
//!             .map_err(std::io::Error::other)?,
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Changes to the selected mailbox come from elsewhere (other sessions, delivery): wait for
//! them beside the client, since [`ServerConnection::next_event`] is cancel safe, and write
//! what they announce (at once during IDLE):
//!
//! ```no_run
//! # use imap_proto::server::Event;
//! # use imap_proto::tokio::ServerConnection;
//! # use imap_proto::view::Change;
//! # async fn serve(
//! #     mut conn: ServerConnection<tokio::net::TcpStream>,
//! #     mut changes: tokio::sync::mpsc::Receiver<Change>,
//! # ) -> std::io::Result<()> {
//! loop {
//!     tokio::select! {
//!         event = conn.next_event() => match event? {
//!             Some(_event) => { /* answer it */ }
//!             None => break,
//!         },
//!         Some(change) = changes.recv() => {
//!             // An error is a bug of the store (or the overflow BYE, already queued).
//!             let _ = conn.server().mailbox_changed(change);
//!             conn.flush().await?;
//!         }
//!     }
//! }
//! # Ok(()) }
//! ```

use mail_tokio::Connection;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::server::{Event, Server};

mail_tokio::typed_connection! {
    /// One IMAP server session over a tokio stream; see the [module docs](self).
    ///
    /// For implicit TLS (port 993) accept the TLS connection first
    /// (`mail_tls::tokio::accept_implicit`), pass the TLS stream and use
    /// [`ServerConfig::imaps`](crate::server::ServerConfig::imaps).
    pub struct ServerConnection(Server);

    /// The longest one flush may take before the session ends with
    /// [`std::io::ErrorKind::TimedOut`]: a client that never reads holds no slot for ever.
    with_write_timeout;

    /// Enables STARTTLS with this rustls configuration and handshake options.
    with_starttls = accept;

    /// Calls `trace` with every piece of output and input. What is received includes LOGIN
    /// and AUTHENTICATE lines: redact before logging.
    with_trace;

    /// The state machine, to answer decisions.
    session = server;

    /// What was negotiated by STARTTLS, once it succeeded.
    tls_info;

    /// The next event, after writing pending responses and reading as needed; `Ok(None)`
    /// once the session is over. Cancel safe, as `mail_tokio::Connection::next_event`.
    ///
    /// # Errors
    ///
    /// I/O errors and a failed STARTTLS handshake.
    next_event -> Event;

    /// Writes everything queued.
    ///
    /// # Errors
    ///
    /// I/O errors, and [`std::io::ErrorKind::TimedOut`] past the write timeout.
    flush;
}

impl<S: AsyncRead + AsyncWrite + Unpin> ServerConnection<S> {
    /// Drives `server` over `stream`. Writes time out after the server's login timeout (a
    /// client that reads nothing for that long is gone).
    pub fn new(stream: S, server: Server) -> Self {
        let write_timeout = server.config().login_timeout;
        ServerConnection(Connection::new(stream, server).with_write_timeout(Some(write_timeout)))
    }
}
