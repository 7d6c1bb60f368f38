//! Start-up and the listeners: accounts, TLS material, the three SMTP listeners, connection
//! limits, and graceful shutdown on Ctrl-C.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mail_tls::rustls::ServerConfig as TlsServerConfig;
use mail_tls::tokio::{HandshakeOptions, accept_implicit};
use mail_tls::{ServerTls, Service};
use smtp_proto::Domain;
use smtp_proto::server::{Server, ServerConfig};
use smtp_proto::tokio::ServerConnection;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::accounts::{self, Accounts, Address};
use crate::options::Options;
use crate::smtp::{self, Role, Shared};
use crate::store::Store;

/// Any start-up failure, with a message a person can act on.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long shutdown waits for sessions to finish their transaction.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// One SMTP listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Relay,
    Submission,
    Submissions,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Relay => "smtp (relay)",
            Kind::Submission => "submission",
            Kind::Submissions => "submissions",
        }
    }
}

/// Open connections, in total and per client address.
#[derive(Debug)]
struct Limits {
    max_total: usize,
    max_per_ip: usize,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// A slot held for the life of a connection.
#[derive(Debug)]
struct Slot {
    limits: Arc<Limits>,
    ip: IpAddr,
}

impl Limits {
    fn acquire(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, &'static str> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.0 >= self.max_total {
            return Err("421 4.7.0 Too many connections, try again later\r\n");
        }
        let per_ip = open.1.entry(ip).or_insert(0);
        if *per_ip >= self.max_per_ip {
            return Err("421 4.7.0 Too many connections from your address\r\n");
        }
        *per_ip += 1;
        open.0 += 1;
        Ok(Slot {
            limits: self.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap_or_else(|e| e.into_inner());
        open.0 -= 1;
        if let Some(n) = open.1.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&self.ip);
            }
        }
    }
}

/// Starts the server and runs until Ctrl-C.
pub async fn run(options: Options) -> Result<(), StartError> {
    std::fs::create_dir_all(&options.data).map_err(|e| {
        format!(
            "cannot create the data directory {}: {e}",
            options.data.display()
        )
    })?;
    let hostname = Domain::new(options.hostname.clone())
        .map_err(|e| format!("--hostname {}: {e}", options.hostname))?
        .into_owned();

    // Accounts: --user creates or updates; with none at all, a demo account is created.
    let mut accounts = Accounts::load(options.data.join("accounts"))?;
    let mut created = Vec::new();
    for user in &options.users {
        accounts.upsert(&user.address, &user.password)?;
        created.push((user.address.clone(), None));
    }
    if accounts.is_empty() {
        let address = Address::new("demo", &options.domains[0])?;
        let password = accounts::generate_password()?;
        accounts.upsert(&address, &password)?;
        created.push((address, Some(password)));
    }
    // A restart touches no account: the banner still names one to try the server with.
    let existing = match created.is_empty() {
        true => accounts.addresses().next().cloned(),
        false => None,
    };

    // TLS: the given certificate, or a self-signed one generated once into --data.
    let pem = match &options.tls {
        Some(files) => mail_tls::PemFiles::new(&files.cert, &files.key),
        None => {
            mail_tls::dev_certs::ensure(&options.data.join("tls"), &[options.hostname.as_str()])?
        }
    };
    let (tls, _resolver) =
        ServerTls::new(Service::Submission).build_from_pem_files(&pem.cert, &pem.key)?;

    let store = Store::open(&options.data, &options.hostname)?;
    let shared = Arc::new(Shared {
        store,
        accounts,
        domains: options.domains.clone(),
        hostname: options.hostname.clone(),
        // One Argon2id verification per core: more would only queue for the CPU anyway.
        auth_slots: tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(2, |n| n.get()),
        ),
    });
    let limits = Arc::new(Limits {
        max_total: options.limits.max_connections,
        max_per_ip: options.limits.max_connections_per_ip,
        open: Mutex::new((0, HashMap::new())),
    });

    let mut base = ServerConfig::default();
    base.hostname = hostname;
    base.max_message_size = options.limits.max_message_size;
    base.max_recipients = options.limits.max_recipients;
    base.max_errors = options.limits.max_errors;
    base.command_timeout = options.limits.command_timeout;
    base.data_timeout = options.limits.data_timeout;
    base.allow_plaintext_auth = options.allow_plaintext_auth;

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mut listeners = JoinSet::new();
    let mut lines = Vec::new();
    for (kind, port) in [
        (Kind::Relay, options.ports.smtp),
        (Kind::Submission, options.ports.submission),
        (Kind::Submissions, options.ports.submissions),
    ] {
        if port == 0 {
            continue;
        }
        let addr = SocketAddr::new(options.bind, port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr} for {}: {e}", kind.name()))?;
        let mut config = base.clone();
        match kind {
            Kind::Relay => config.starttls = true,
            Kind::Submission => {
                config.starttls = true;
                config.require_tls = !options.allow_plaintext_auth;
                config.require_auth = true;
                config.auth_mechanisms = vec![
                    mail_wire::sasl::Mechanism::Plain,
                    mail_wire::sasl::Mechanism::Login,
                ];
            }
            Kind::Submissions => {
                config.implicit_tls = true;
                config.require_auth = true;
                config.auth_mechanisms = vec![
                    mail_wire::sasl::Mechanism::Plain,
                    mail_wire::sasl::Mechanism::Login,
                ];
            }
        }
        lines.push(format!(
            "  {:<12} {addr:<22} {}",
            kind.name(),
            match kind {
                Kind::Relay => "STARTTLS offered, mail for local users, no AUTH",
                Kind::Submission => "STARTTLS, then AUTH required",
                Kind::Submissions => "implicit TLS, AUTH required",
            }
        ));
        listeners.spawn(accept_loop(
            listener,
            kind,
            config,
            tls.clone(),
            shared.clone(),
            limits.clone(),
            shutdown_rx.clone(),
        ));
    }

    print_banner(&options, &lines, &created, existing.as_ref());

    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot listen for Ctrl-C: {e}"))?;
    info!("shutting down: no new connections, open sessions finish their transaction");
    let _ = shutdown_tx.send(true);
    let deadline = tokio::time::sleep(SHUTDOWN_GRACE);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            next = listeners.join_next() => if next.is_none() { break },
            () = &mut deadline => {
                warn!("sessions still open after {SHUTDOWN_GRACE:?}; closing them");
                break;
            }
        }
    }
    Ok(())
}

fn print_banner(
    options: &Options,
    lines: &[String],
    created: &[(Address, Option<mail_wire::Secret<String>>)],
    existing: Option<&Address>,
) {
    println!("sansmail mail server {} ready", options.hostname);
    println!("  data         {}", options.data.display());
    println!("  domains      {}", options.domains.join(", "));
    for line in lines {
        println!("{line}");
    }
    for (address, password) in created {
        match password {
            Some(password) => println!(
                "  account      {address} created, password: {}",
                password.expose()
            ),
            None => println!("  account      {address} (from --user)"),
        }
    }
    if let Some(address) = existing {
        println!("  account      {address} (and any others in the accounts file)");
    }
    let example = match created.first() {
        Some((address, password)) => Some((address, password.as_ref())),
        None => existing.map(|address| (address, None)),
    };
    if let (Some((address, password)), true) = (example, options.ports.submission != 0) {
        let secret = password.map_or("PASSWORD", |p| p.expose().as_str());
        println!();
        println!("Send a test message (STARTTLS on the submission port, self-signed certificate):");
        println!(
            "  printf 'Subject: hello\\r\\n\\r\\nIt works.\\r\\n' | curl -sk --ssl-reqd smtp://{}:{} \
             --user '{address}:{secret}' --mail-from {address} --mail-rcpt {address} --upload-file -",
            options.bind, options.ports.submission
        );
        println!("Then read it from the Maildir:");
        println!(
            "  cat {}/mail/{}/{}/new/*",
            options.data.display(),
            address.domain(),
            address.local()
        );
    }
}

async fn accept_loop(
    listener: TcpListener,
    kind: Kind,
    config: ServerConfig,
    tls: Arc<TlsServerConfig>,
    shared: Arc<Shared>,
    limits: Arc<Limits>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut sessions = JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    warn!(listener = kind.name(), error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let slot = match limits.acquire(peer.ip()) {
            Ok(slot) => slot,
            Err(refusal) => {
                warn!(%peer, listener = kind.name(), "connection refused: {}", refusal.trim_end());
                tokio::spawn(refuse(stream, refusal, kind));
                continue;
            }
        };
        info!(%peer, listener = kind.name(), "connected");
        let (config, tls, shared, shutdown) = (
            config.clone(),
            tls.clone(),
            shared.clone(),
            shutdown.clone(),
        );
        sessions.spawn(async move {
            let _slot = slot;
            session(stream, peer, kind, config, tls, shared, shutdown).await;
        });
        // Reap finished sessions so the set does not grow.
        while sessions.try_join_next().is_some() {}
    }
    drop(listener);
    while sessions.join_next().await.is_some() {}
}

/// Answers a connection over the limits with `421` (in TLS on the implicit-TLS port, where a
/// plaintext reply would be read as a broken handshake) and closes it.
async fn refuse(mut stream: TcpStream, refusal: &'static str, kind: Kind) {
    if kind != Kind::Submissions {
        let _ = tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.write_all(refusal.as_bytes())).await;
    }
    let _ = stream.shutdown().await;
}

async fn session(
    stream: TcpStream,
    peer: SocketAddr,
    kind: Kind,
    config: ServerConfig,
    tls: Arc<TlsServerConfig>,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let server = Server::new(config, Instant::now());
    let port = stream.local_addr().map(|a| a.port()).ok();
    match kind {
        Kind::Submissions => {
            let mut options = HandshakeOptions::new(HANDSHAKE_TIMEOUT).service(Service::Submission);
            if let Some(port) = port {
                options = options.port(port);
            }
            match accept_implicit(tls, stream, options).await {
                Ok(stream) => {
                    let conn = ServerConnection::new(stream, server);
                    smtp::serve(conn, shared, Role::Submission, peer, shutdown).await;
                }
                Err(err) => warn!(%peer, error = %err, "TLS handshake failed"),
            }
        }
        Kind::Relay | Kind::Submission => {
            let service = if kind == Kind::Relay {
                Service::SmtpRelay
            } else {
                Service::Submission
            };
            let options = HandshakeOptions::new(HANDSHAKE_TIMEOUT).service(service);
            let conn = ServerConnection::new(stream, server).with_starttls(tls, options);
            let role = if kind == Kind::Relay {
                Role::Relay
            } else {
                Role::Submission
            };
            smtp::serve(conn, shared, role, peer, shutdown).await;
        }
    }
}
