//! One SMTP session: the policy of the relay and submission listeners on top of
//! `smtp_proto::tokio::ServerConnection`, delivering into the Maildir store.
//!
//! The protocol (syntax, sequence, limits, STARTTLS, the SASL exchange) is the state
//! machine's; this module decides who may send to whom and when a message is safe to
//! acknowledge: only after the store has committed it to disk.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use mail_wire::sasl::Nonce;
use smtp_proto::server::{Event, HelloVerb, Server, SessionError};
use smtp_proto::tokio::ServerConnection;
use smtp_proto::{
    EnhancedStatusCode, ForwardPath, Host, Mailbox, Reply, ReplyCode, ReversePath, ValueError,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::accounts::{Accounts, Address};
use crate::store::{Delivery, Protocol, Received, Store, return_path};

/// Which listener a session came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Port 2525: mail for local users from anyone, no AUTH.
    Relay,
    /// Ports 2587 and 2465: AUTH required, the sender must be the authenticated account.
    Submission,
}

/// What every session shares.
#[derive(Debug)]
pub struct Shared {
    /// The Maildir store.
    pub store: Store,
    /// The accounts (read-only while serving).
    pub accounts: Accounts,
    /// The local domains, lowercased.
    pub domains: Vec<String>,
    /// The server's name for trace headers.
    pub hostname: String,
    /// Password checks allowed at once. Each Argon2id verification holds a 19 MiB work area,
    /// so unbounded concurrent logins would be a memory attack; extra ones wait their turn.
    pub auth_slots: tokio::sync::Semaphore,
}

impl Shared {
    fn is_local(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    }
}

/// The envelope and the open delivery of the current transaction.
#[derive(Default)]
struct Transaction {
    from: Option<String>,
    recipients: Vec<Address>,
    delivery: Option<Delivery>,
    /// Set when writing to the store failed; the message is then refused with 451.
    failed: bool,
}

/// A reply with an enhanced status code. The texts here are constants or carry a
/// store-generated id, so building them does not fail in practice; if it did, the session ends
/// with a logged local error rather than a panic.
fn reply(
    code: u16,
    [class, subject, detail]: [u16; 3],
    text: &str,
) -> Result<Reply<'static>, ValueError> {
    let enhanced = EnhancedStatusCode::new(class as u8, subject, detail)?;
    Ok(Reply::text(ReplyCode::new(code)?, Some(enhanced), text)?.into_owned())
}

/// Why a session stopped on our side.
type LocalError = Box<dyn std::error::Error + Send + Sync>;

fn mailbox_address(mailbox: &Mailbox<'_>) -> Option<Address> {
    let Host::Domain(domain) = &mailbox.host else {
        return None;
    };
    Address::new(&mailbox.local.unquoted(), domain.as_str()).ok()
}

fn nonce() -> Nonce {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 18];
    let hex = match SystemRandom::new().fill(&mut bytes) {
        Ok(()) => bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        // The system RNG does not fail on the platforms we run on; a counter is still unique.
        Err(_) => {
            static N: AtomicU64 = AtomicU64::new(0);
            format!("fallback-{:024}", N.fetch_add(1, Ordering::Relaxed))
        }
    };
    Nonce::new(hex).expect("hex digits are a valid nonce")
}

/// Runs one session to its end. `shutdown` turning true asks the session to finish its
/// transaction and close.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut conn: ServerConnection<S>,
    shared: Arc<Shared>,
    role: Role,
    peer: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut txn = Transaction::default();
    let mut helo = String::new();
    let mut shutting_down = *shutdown.borrow();
    if shutting_down {
        conn.server().shutdown();
    }
    loop {
        let event = if shutting_down {
            conn.next_event().await
        } else {
            tokio::select! {
                event = conn.next_event() => event,
                _ = shutdown.changed() => {
                    shutting_down = true;
                    conn.server().shutdown();
                    continue;
                }
            }
        };
        let event = match event {
            Ok(Some(event)) => event,
            Ok(None) => break,
            Err(err) => {
                warn!(%peer, error = %err, "session error");
                break;
            }
        };
        let tls = conn.server().is_tls();
        let result = handle(
            &mut conn, &shared, role, peer, &mut txn, &mut helo, tls, event,
        )
        .await;
        if let Err(err) = result {
            warn!(%peer, error = %err, "session ended by a local error");
            break;
        }
    }
    if let Some(delivery) = txn.delivery.take() {
        delivery.abort();
    }
}

#[allow(clippy::too_many_arguments)]
async fn handle<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut ServerConnection<S>,
    shared: &Arc<Shared>,
    role: Role,
    peer: SocketAddr,
    txn: &mut Transaction,
    helo: &mut String,
    tls: bool,
    event: Event,
) -> Result<(), LocalError> {
    let server: &mut Server = conn.server();
    let decided = match event {
        Event::Hello { verb, host } => {
            *helo = host.to_string();
            info!(%peer, ?verb, helo = %helo, "hello");
            server.accept()
        }
        Event::Mail { from, params } => {
            *txn = Transaction::default();
            let sender = match &from {
                ReversePath::Null => String::new(),
                ReversePath::Mailbox(m) => m.to_string(),
            };
            if role == Role::Submission {
                let owner = server.authenticated().map(|a| a.identity().to_owned());
                let owned = match (&from, &owner) {
                    (ReversePath::Mailbox(m), Some(owner)) => {
                        let sender = mailbox_address(m);
                        let owner = Address::parse(owner).ok();
                        sender.is_some() && sender == owner
                    }
                    _ => false,
                };
                if !owned {
                    info!(%peer, from = %sender, "sender refused: not the authenticated account");
                    return Ok(server.reject(reply(
                        553,
                        [5, 7, 1],
                        "Sender address is not owned by the authenticated account",
                    )?)?);
                }
            }
            info!(%peer, from = %sender, size = ?params.size, "mail from");
            txn.from = Some(sender);
            server.accept()
        }
        Event::Rcpt { to, .. } => {
            let address = match &to {
                ForwardPath::Postmaster => shared
                    .domains
                    .first()
                    .and_then(|d| Address::new("postmaster", d).ok()),
                ForwardPath::Mailbox(m) => mailbox_address(m),
            };
            let Some(address) = address else {
                return Ok(server.reject(reply(550, [5, 1, 1], "No such user here")?)?);
            };
            if !shared.is_local(address.domain()) {
                info!(%peer, to = %address, "relay refused");
                let refusal = match role {
                    Role::Relay => reply(550, [5, 7, 1], "Relaying denied")?,
                    Role::Submission => reply(
                        550,
                        [5, 7, 1],
                        "Delivery to other domains is not available yet (no outbound queue)",
                    )?,
                };
                return Ok(server.reject(refusal)?);
            }
            // RFC 5321 section 4.5.1: every served domain MUST accept "postmaster" (any case),
            // account or not. Its mail goes to the Maildir of postmaster@domain, which an
            // account of that name reads.
            let address = match address.local().eq_ignore_ascii_case("postmaster") {
                true => Address::new("postmaster", address.domain()).unwrap_or(address),
                false => address,
            };
            if address.local() != "postmaster" && !shared.accounts.contains(&address) {
                info!(%peer, to = %address, "unknown user");
                return Ok(server.reject(reply(550, [5, 1, 1], "No such user here")?)?);
            }
            info!(%peer, to = %address, "rcpt to");
            txn.recipients.push(address);
            server.accept()
        }
        Event::BodyStart { .. } => {
            match shared.store.deliver(&txn.recipients) {
                Ok(mut delivery) => {
                    let id = delivery.name().to_owned();
                    let ehlo = server.hello() == Some(HelloVerb::Ehlo);
                    let auth = server.authenticated().is_some();
                    // The `for` clause only with one recipient: never disclose the others.
                    let single = match txn.recipients.as_slice() {
                        [one] => Some(one.to_string()),
                        _ => None,
                    };
                    let received = Received {
                        helo: helo.as_str(),
                        client_ip: peer.ip(),
                        hostname: &shared.hostname,
                        protocol: Protocol::for_session(false, ehlo, tls, auth),
                        id: &id,
                        recipient: single.as_deref(),
                        date: SystemTime::now(),
                    };
                    let from = txn.from.as_deref().unwrap_or_default();
                    let trace = return_path(from) + &received.header();
                    if let Err(err) = delivery.write(trace.as_bytes()) {
                        warn!(%peer, error = %err, "cannot write the message");
                        txn.failed = true;
                    }
                    txn.delivery = Some(delivery);
                }
                Err(err) => {
                    warn!(%peer, error = %err, "cannot open a delivery");
                    txn.failed = true;
                }
            }
            Ok(())
        }
        Event::BodyChunk(chunk) => {
            // After a failed write the rest of the body is read and dropped: the client gets
            // a 4xx at the end, and the log one line, not one per chunk.
            if let (Some(delivery), false) = (&mut txn.delivery, txn.failed) {
                if let Err(err) = delivery.write(&chunk) {
                    warn!(%peer, error = %err, "cannot write the message");
                    txn.failed = true;
                }
            }
            Ok(())
        }
        Event::BodyAborted(error) => {
            info!(%peer, %error, "message refused while streaming");
            if let Some(delivery) = txn.delivery.take() {
                delivery.abort();
            }
            *txn = Transaction::default();
            Ok(())
        }
        Event::BodyEnd { size, .. } => {
            let delivery = txn.delivery.take();
            let failed = txn.failed;
            let recipients = txn.recipients.len();
            *txn = Transaction::default();
            let id = delivery
                .as_ref()
                .map(|d| d.name().to_owned())
                .unwrap_or_default();
            let committed = match delivery {
                Some(delivery) if !failed => {
                    // fsync of the file and the directory: off the async worker.
                    tokio::task::spawn_blocking(move || delivery.commit())
                        .await
                        .map_err(std::io::Error::other)
                        .and_then(|r| r)
                }
                Some(delivery) => {
                    delivery.abort();
                    Err(std::io::Error::other("writing the message failed"))
                }
                None => Err(std::io::Error::other("no delivery was open")),
            };
            let server = conn.server();
            match committed {
                Ok(_paths) => {
                    info!(%peer, %id, size, recipients, "delivered");
                    server.accept_with(reply(250, [2, 0, 0], &format!("Ok: delivered as {id}"))?)
                }
                Err(err) => {
                    warn!(%peer, error = %err, "delivery failed");
                    server.reject(reply(
                        451,
                        [4, 3, 0],
                        "Local error in processing; try again later",
                    )?)
                }
            }
        }
        Event::AuthStep { .. } => {
            let accounts = &shared.accounts;
            let _slot = shared.auth_slots.acquire().await?;
            // Argon2 takes tens of milliseconds: keep other sessions running meanwhile.
            tokio::task::block_in_place(|| server.auth_step(accounts, nonce()))
        }
        Event::Authenticated(who) => {
            info!(%peer, user = who.identity(), mechanism = %who.mechanism(), "authenticated");
            Ok(())
        }
        Event::AuthFailed { mechanism, error } => {
            warn!(%peer, %mechanism, %error, "authentication failed");
            Ok(())
        }
        Event::StartTls => {
            info!(%peer, "TLS started");
            Ok(())
        }
        Event::Closed(ending) => {
            match ending {
                Ok(()) => info!(%peer, reason = "client quit", "session closed"),
                Err(
                    reason @ SessionError::PeerClosed {
                        in_transaction: false,
                    },
                ) => info!(%peer, %reason, "session closed"),
                Err(reason) => warn!(%peer, %reason, "session closed"),
            }
            Ok(())
        }
        _ => Ok(()),
    };
    Ok(decided?)
}
