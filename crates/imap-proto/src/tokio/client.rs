//! [`ClientConnection`]: the client machine on the shared tokio driver.

use std::time::Instant;

use mail_tokio::Connection;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::client::{self, Client, ClientError, CommandId};

mail_tokio::typed_connection! {
    /// One IMAP client session over a tokio stream.
    ///
    /// **STARTTLS boundary** (RFC 9051 section 6.2.1): every byte read is fed to the machine
    /// at once, so a response injected after the `OK` to `STARTTLS` ends the session with
    /// [`SessionError::StartTlsInjection`](client::SessionError::StartTlsInjection).
    ///
    /// ```no_run
    /// use imap_proto::client::{Client, ClientConfig, Event};
    /// use imap_proto::tokio::ClientConnection;
    ///
    /// # async fn run(stream: tokio::net::TcpStream) -> std::io::Result<()> {
    /// let client = Client::new(ClientConfig::imaps(), std::time::Instant::now());
    /// let mut conn = ClientConnection::new(stream, client);
    /// while let Some(event) = conn.next_event().await? {
    ///     match event {
    ///         Event::Ready { .. } => {
    ///             conn.logout().map_err(std::io::Error::other)?;
    ///         }
    ///         Event::Closed(ending) => println!("{ending:?}"),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub struct ClientConnection(Client);

    /// Enables STARTTLS with this rustls configuration, the name the server's certificate
    /// must carry, and handshake options. Required unless the policy is
    /// [`TlsPolicy::Never`](client::TlsPolicy::Never) or the connection is implicit TLS.
    with_starttls = connect;

    /// Calls `trace` with every piece of output and input; `LOGIN` lines and SASL responses
    /// come as [`Traffic::SentSecret`](mail_tokio::Traffic::SentSecret) with their length
    /// alone.
    with_trace;

    /// The state machine, to issue commands ([`Client::select`], [`Client::idle`], ...).
    /// They go out with the next [`ClientConnection::next_event`] or
    /// [`ClientConnection::flush`].
    session = client;

    /// What was negotiated by STARTTLS, once it succeeded.
    tls_info;

    /// The next event, after writing what is queued and reading as needed; `Ok(None)` once
    /// the session is over. Cancel safe, as `mail_tokio::Connection::next_event`.
    ///
    /// # Errors
    ///
    /// I/O errors and a failed STARTTLS handshake.
    next_event -> client::Event;

    /// Writes everything queued.
    ///
    /// # Errors
    ///
    /// I/O errors, and [`std::io::ErrorKind::TimedOut`] past the write timeout.
    flush;
}

impl<S: AsyncRead + AsyncWrite + Unpin> ClientConnection<S> {
    /// Drives `client` over `stream`, a connection just opened (for implicit TLS, the TLS
    /// stream). Writes time out after the client's command timeout.
    pub fn new(stream: S, client: Client) -> Self {
        let timeout = client.config().command_timeout;
        ClientConnection(Connection::new(stream, client).with_write_timeout(Some(timeout)))
    }

    /// Sends `LOGOUT`; the session ends with `Closed(Ok(()))`.
    ///
    /// # Errors
    ///
    /// As [`Client::logout`].
    pub fn logout(&mut self) -> Result<CommandId, ClientError> {
        self.client().logout(Instant::now())
    }
}
