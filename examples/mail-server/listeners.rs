//! Listeners for any protocol: the accept loop, the connection limits, the TLS start
//! (implicit, with the mode-mismatch diagnosis, or left to the protocol's STARTTLS), and
//! graceful shutdown, written once.
//!
//! A protocol plugs in by implementing [`Service`]: its name, how TLS starts on its port, what
//! it answers a connection over the limits, and [`Service::serve`], which runs one session on
//! an accepted [`Connection`]. The SMTP relay, submission and submissions listeners are three
//! instances of `smtp::SmtpService`; POP3 and IMAP listeners are further implementations.
//!
//! ```text
//! let mut listeners = Listeners::new(tls, ConnectionLimits::new(100, 10));
//! listeners.bind(service, "0.0.0.0:2525".parse()?).await?;   // once per service
//! // ... until Ctrl-C ...
//! listeners.shut_down(SHUTDOWN_GRACE).await;
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mail_tls::rustls::ServerConfig as TlsServerConfig;
use mail_tls::tokio::tokio_rustls::server::TlsStream;
use mail_tls::tokio::{HandshakeOptions, Sniffed, accept_implicit};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{info, warn};

/// Any start-up failure, with a message a person can act on.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// How long a TLS handshake may take, and how long a refusal may take to write.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long shutdown waits for sessions to finish their transaction.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How TLS starts on a listener's connections (RFC 8314 section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsStart {
    /// The session starts in plaintext; the protocol may offer its STARTTLS (or STLS) command,
    /// and the listener hands it what the upgrade needs ([`StartTls`]).
    StartTls,
    /// TLS from the first byte: the listener completes the handshake (diagnosing a plaintext
    /// client as a mode mismatch) before the session starts.
    Implicit,
}

/// Which connection limit a refused connection hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverLimit {
    /// The server-wide maximum of open connections.
    Total,
    /// The maximum of open connections from one client address.
    PerAddress,
}

/// One protocol on one listener: SMTP relay, submission, submissions; POP3 and IMAP next.
pub trait Service: Send + Sync + 'static {
    /// The name in logs and in the start-up banner (`submission`).
    fn name(&self) -> &str;

    /// What the listener offers, in a few words, for the start-up banner.
    fn summary(&self) -> &str;

    /// How TLS starts on this listener.
    fn tls_start(&self) -> TlsStart;

    /// The service as mail-tls knows it, to word mode-mismatch diagnoses (a plaintext client
    /// on an implicit-TLS port, a TLS client on a plaintext one: docs/design.md section 3,
    /// rule 7).
    fn tls_service(&self) -> mail_tls::Service;

    /// The protocol's greeting refusing a connection over a limit, sent before closing it
    /// (SMTP: `421 4.7.0 ...\r\n`). Never sent on an implicit-TLS listener, where plaintext
    /// would read as a broken handshake: the connection is closed silently there.
    fn refusal(&self, over: OverLimit) -> &'static str;

    /// Runs one session on an accepted connection until it ends. When
    /// [`Connection::shutdown`] turns true, the session should finish its current transaction
    /// and close.
    fn serve(self: Arc<Self>, connection: Connection) -> impl Future<Output = ()> + Send;
}

/// An accepted connection, handed to [`Service::serve`].
#[derive(Debug)]
pub struct Connection {
    /// The client's address.
    pub peer: SocketAddr,
    /// The stream, in plaintext or already in TLS.
    pub transport: Transport,
    /// Turns true when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
}

/// The stream of a [`Connection`].
#[derive(Debug)]
pub enum Transport {
    /// Plaintext, on a [`TlsStart::StartTls`] listener, with what the upgrade needs.
    Plain {
        /// The TCP stream.
        stream: TcpStream,
        /// The TLS configuration and handshake options for the protocol's STARTTLS.
        starttls: StartTls,
    },
    /// On a [`TlsStart::Implicit`] listener: the handshake is complete.
    Tls(Box<TlsStream<Sniffed<TcpStream>>>),
}

/// What a STARTTLS upgrade needs.
#[derive(Debug, Clone)]
pub struct StartTls {
    /// The server's TLS configuration.
    pub config: Arc<TlsServerConfig>,
    /// The handshake timeout and the service, for the mode-mismatch diagnosis.
    pub options: HandshakeOptions,
}

/// The connection limits every listener of one [`Listeners`] shares: open connections in
/// total and per client address.
#[derive(Debug)]
pub struct ConnectionLimits {
    max_total: usize,
    max_per_ip: usize,
    open: Mutex<OpenConnections>,
}

#[derive(Debug, Default)]
struct OpenConnections {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// A place held for the life of a connection; dropping it frees the place.
#[derive(Debug)]
pub struct Slot {
    limits: Arc<ConnectionLimits>,
    ip: IpAddr,
}

impl ConnectionLimits {
    /// At most `max_total` connections open at once, and `max_per_ip` from one address.
    pub fn new(max_total: usize, max_per_ip: usize) -> Self {
        ConnectionLimits {
            max_total,
            max_per_ip,
            open: Mutex::new(OpenConnections::default()),
        }
    }

    /// Takes a place for a connection from `ip`, or says which limit it would break.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, OverLimit> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.max_total {
            return Err(OverLimit::Total);
        }
        let per_ip = open.per_ip.entry(ip).or_insert(0);
        if *per_ip >= self.max_per_ip {
            return Err(OverLimit::PerAddress);
        }
        *per_ip += 1;
        open.total += 1;
        Ok(Slot {
            limits: self.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total -= 1;
        if let Some(n) = open.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.per_ip.remove(&self.ip);
            }
        }
    }
}

/// The running listeners of one server, sharing one TLS configuration, one set of
/// [`ConnectionLimits`] and one shutdown signal.
#[derive(Debug)]
pub struct Listeners {
    tls: Arc<TlsServerConfig>,
    limits: Arc<ConnectionLimits>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Listeners {
    /// No listener yet; [`bind`](Self::bind) adds them.
    pub fn new(tls: Arc<TlsServerConfig>, limits: ConnectionLimits) -> Self {
        Listeners {
            tls,
            limits: Arc::new(limits),
            shutdown: watch::channel(false).0,
            tasks: JoinSet::new(),
        }
    }

    /// Listens on `addr` for `service` and serves every connection until shutdown. Returns
    /// the address bound (its port is the one chosen when `addr` asks for port 0).
    pub async fn bind<S: Service>(
        &mut self,
        service: S,
        addr: SocketAddr,
    ) -> Result<SocketAddr, StartError> {
        let socket = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr} for {}: {e}", service.name()))?;
        let bound = socket.local_addr()?;
        let listener = Listener {
            socket,
            service: Arc::new(service),
            tls: self.tls.clone(),
            limits: self.limits.clone(),
            shutdown: self.shutdown.subscribe(),
        };
        self.tasks.spawn(listener.run());
        Ok(bound)
    }

    /// Stops accepting, asks every session to finish its transaction and close, and waits
    /// for them up to `grace`. Returns whether every session finished in time; the ones still
    /// open are left to end with the runtime.
    pub async fn shut_down(mut self, grace: Duration) -> bool {
        let _ = self.shutdown.send(true);
        let deadline = tokio::time::sleep(grace);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                next = self.tasks.join_next() => if next.is_none() { return true },
                () = &mut deadline => {
                    warn!("sessions still open after {grace:?}; closing them");
                    return false;
                }
            }
        }
    }
}

/// One listening socket and its service.
struct Listener<S> {
    socket: TcpListener,
    service: Arc<S>,
    tls: Arc<TlsServerConfig>,
    limits: Arc<ConnectionLimits>,
    shutdown: watch::Receiver<bool>,
}

impl<S: Service> Listener<S> {
    /// The accept loop: until shutdown, every connection within the limits gets a session;
    /// then the socket closes and the loop waits for its sessions to end.
    async fn run(mut self) {
        let name = self.service.name().to_owned();
        let mut sessions = JoinSet::new();
        loop {
            let (stream, peer) = tokio::select! {
                accepted = self.socket.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        warn!(listener = name.as_str(), error = %err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                _ = self.shutdown.changed() => break,
            };
            let slot = match self.limits.acquire(peer.ip()) {
                Ok(slot) => slot,
                Err(over) => {
                    let refusal = self.service.refusal(over);
                    warn!(%peer, listener = name.as_str(), "connection refused: {}", refusal.trim_end());
                    let refusal = match self.service.tls_start() {
                        TlsStart::StartTls => Some(refusal),
                        TlsStart::Implicit => None,
                    };
                    tokio::spawn(refuse(stream, refusal));
                    continue;
                }
            };
            info!(%peer, listener = name.as_str(), "connected");
            let (service, tls, shutdown) = (
                self.service.clone(),
                self.tls.clone(),
                self.shutdown.clone(),
            );
            sessions.spawn(async move {
                let _slot = slot;
                if let Some(transport) = start_tls(service.as_ref(), stream, peer, tls).await {
                    let connection = Connection {
                        peer,
                        transport,
                        shutdown,
                    };
                    service.serve(connection).await;
                }
            });
            // Reap finished sessions so the set does not grow.
            while sessions.try_join_next().is_some() {}
        }
        drop(self.socket);
        while sessions.join_next().await.is_some() {}
    }
}

/// Answers a connection over the limits with the protocol's refusal (when there is one to
/// send in plaintext) and closes it.
async fn refuse(mut stream: TcpStream, refusal: Option<&'static str>) {
    if let Some(refusal) = refusal {
        let _ = tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.write_all(refusal.as_bytes())).await;
    }
    let _ = stream.shutdown().await;
}

/// The stream a session starts on: plaintext with what STARTTLS needs, or after a completed
/// implicit-TLS handshake. `None` when that handshake failed (logged, with the mode-mismatch
/// diagnosis when the client spoke plaintext).
async fn start_tls<S: Service>(
    service: &S,
    stream: TcpStream,
    peer: SocketAddr,
    tls: Arc<TlsServerConfig>,
) -> Option<Transport> {
    let _ = stream.set_nodelay(true);
    let options = HandshakeOptions::new(HANDSHAKE_TIMEOUT).service(service.tls_service());
    match service.tls_start() {
        TlsStart::StartTls => Some(Transport::Plain {
            stream,
            starttls: StartTls {
                config: tls,
                options,
            },
        }),
        TlsStart::Implicit => {
            let options = match stream.local_addr() {
                Ok(local) => options.port(local.port()),
                Err(_) => options,
            };
            match accept_implicit(tls, stream, options).await {
                Ok(stream) => Some(Transport::Tls(Box::new(stream))),
                Err(err) => {
                    warn!(%peer, error = %err, "TLS handshake failed");
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::tests::TempDir;
    use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, BufReader};

    /// A toy protocol in POP3's clothes: it greets, and says goodbye when the server shuts
    /// down. Nothing in it comes from SMTP.
    struct Toy {
        tls_start: TlsStart,
    }

    async fn greet_until_shutdown<S: AsyncRead + AsyncWrite + Unpin>(
        mut stream: S,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let _ = stream.write_all(b"+OK toy ready\r\n").await;
        let _ = shutdown.wait_for(|down| *down).await;
        let _ = stream.write_all(b"-ERR shutting down\r\n").await;
        let _ = stream.shutdown().await;
    }

    impl Service for Toy {
        fn name(&self) -> &str {
            "toy"
        }

        fn summary(&self) -> &str {
            "a greeting, then goodbye at shutdown"
        }

        fn tls_start(&self) -> TlsStart {
            self.tls_start
        }

        fn tls_service(&self) -> mail_tls::Service {
            mail_tls::Service::Pop3
        }

        fn refusal(&self, over: OverLimit) -> &'static str {
            match over {
                OverLimit::Total => "-ERR [SYS/TEMP] too many connections\r\n",
                OverLimit::PerAddress => "-ERR [SYS/TEMP] too many connections from you\r\n",
            }
        }

        async fn serve(self: Arc<Self>, connection: Connection) {
            match connection.transport {
                Transport::Plain { stream, .. } => {
                    greet_until_shutdown(stream, connection.shutdown).await
                }
                Transport::Tls(stream) => greet_until_shutdown(stream, connection.shutdown).await,
            }
        }
    }

    fn tls_config(tag: &str) -> (TempDir, Arc<TlsServerConfig>) {
        let dir = TempDir::new(tag);
        let pem = mail_tls::dev_certs::ensure(&dir.0, &["localhost"]).unwrap();
        let (tls, _resolver) = mail_tls::ServerTls::new(mail_tls::Service::Pop3)
            .build_from_pem_files(&pem.cert, &pem.key)
            .unwrap();
        (dir, tls)
    }

    async fn read_line(stream: &mut BufReader<TcpStream>) -> String {
        let mut line = String::new();
        stream.read_line(&mut line).await.unwrap();
        line
    }

    async fn read_all(mut stream: TcpStream) -> Vec<u8> {
        let mut all = Vec::new();
        let read = stream.read_to_end(&mut all);
        tokio::time::timeout(Duration::from_secs(5), read)
            .await
            .expect("the server closes the connection")
            .unwrap();
        all
    }

    fn localhost() -> SocketAddr {
        "127.0.0.1:0".parse().unwrap()
    }

    #[tokio::test]
    async fn another_protocol_gets_limits_refusals_and_shutdown_from_the_listeners() {
        let (_dir, tls) = tls_config("toy-plain");
        let mut listeners = Listeners::new(tls, ConnectionLimits::new(10, 1));
        let toy = Toy {
            tls_start: TlsStart::StartTls,
        };
        let addr = listeners.bind(toy, localhost()).await.unwrap();
        assert_ne!(addr.port(), 0);

        let mut first = BufReader::new(TcpStream::connect(addr).await.unwrap());
        assert_eq!(read_line(&mut first).await, "+OK toy ready\r\n");
        // Over the per-address limit: the protocol's own refusal, then the connection closes.
        let second = TcpStream::connect(addr).await.unwrap();
        assert_eq!(
            read_all(second).await,
            b"-ERR [SYS/TEMP] too many connections from you\r\n"
        );

        // Shutdown reaches the open session, which says goodbye, and then ends.
        assert!(listeners.shut_down(Duration::from_secs(5)).await);
        assert_eq!(read_line(&mut first).await, "-ERR shutting down\r\n");
        assert_eq!(read_line(&mut first).await, "");
        // No more connections are accepted.
        assert!(TcpStream::connect(addr).await.is_err());
    }

    #[tokio::test]
    async fn implicit_tls_refuses_over_the_limit_without_plaintext() {
        let (_dir, tls) = tls_config("toy-tls");
        let mut listeners = Listeners::new(tls, ConnectionLimits::new(1, 10));
        let toy = Toy {
            tls_start: TlsStart::Implicit,
        };
        let addr = listeners.bind(toy, localhost()).await.unwrap();
        // The first connection holds the only place (its handshake waits for a ClientHello).
        let first = TcpStream::connect(addr).await.unwrap();
        // The second is over the total: closed without a byte, since plaintext would read as
        // a broken handshake to a TLS client.
        let second = TcpStream::connect(addr).await.unwrap();
        assert_eq!(read_all(second).await, b"");
        // A plaintext client on the implicit-TLS port is not greeted in plaintext either.
        drop(first);
        let mut plain = TcpStream::connect(addr).await.unwrap();
        plain.write_all(b"USER alice\r\n").await.unwrap();
        // At most a TLS alert record (content type 21), never a plaintext greeting.
        let answer = read_all(plain).await;
        assert!(answer.is_empty() || answer[0] == 21, "{answer:?}");
    }

    #[test]
    fn limits_count_per_address_and_in_total_and_free_on_drop() {
        let limits = Arc::new(ConnectionLimits::new(3, 2));
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let a1 = limits.acquire(a).unwrap();
        let a2 = limits.acquire(a).unwrap();
        assert_eq!(limits.acquire(a).unwrap_err(), OverLimit::PerAddress);
        let b1 = limits.acquire(b).unwrap();
        assert_eq!(limits.acquire(b).unwrap_err(), OverLimit::Total);
        drop(a1);
        let b2 = limits.acquire(b).unwrap();
        assert_eq!(limits.acquire(a).unwrap_err(), OverLimit::Total);
        drop((a2, b1, b2));
        let open = limits.open.lock().unwrap();
        assert_eq!(open.total, 0);
        assert!(open.per_ip.is_empty());
    }
}
