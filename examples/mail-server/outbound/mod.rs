//! Outbound delivery (issue 16): one message to the recipients of one domain, over SMTP with
//! smtp-proto's client on its tokio driver.
//!
//! ```text
//!  OutboundJob ─▶ admission (global and per-domain limits)
//!              ─▶ route: domain literal | smarthost | MX plan (mx-resolve)  ─▶ candidates
//!              ─▶ for each candidate, in order: an idle connection to it, or a new one
//!                   (TCP, EHLO, STARTTLS by policy, AUTH for the smarthost;
//!                    a failed opportunistic handshake: again in plaintext)
//!              ─▶ MAIL, RCPT... (pipelined when offered), DATA or BDAT streamed from the file
//!              ─▶ one RecipientResult per recipient; the connection back to the idle pool
//! ```
//!
//! Files: `route.rs` (where to connect), `session.rs` (one connection and its transactions),
//! `pool.rs` (idle connections and the concurrency limits). The rules are in
//! docs/mail-server.md, section "Outbound delivery".

mod pool;
mod route;
mod session;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mail_tls::ClientTls;
use smtp_proto::client::{Credentials, Printable, Timeouts};
use smtp_proto::{Domain, Host, Mailbox, Reply, ReversePath};
use tracing::{info, warn};

use crate::accounts::AccountsError;
use crate::options::{Options, OutboundVerify, Service};

use pool::Pool;
use route::{RouteError, Router, Target, Wildcard};
use session::{OpenError, Session, Settings, SmarthostSettings, TxReport};

/// The outbound side of the server: built once from the options, cloned into every task that
/// delivers (the state is shared).
#[derive(Clone)]
pub(crate) struct Outbound {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound").finish_non_exhaustive()
    }
}

struct Inner {
    settings: Settings,
    router: Router,
    pool: Arc<Pool>,
}

/// One message for the recipients of one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutboundJob {
    /// The recipient domain, as in the addresses (A-label or U-label), or a domain literal
    /// (`[192.0.2.1]`, `[IPv6:2001:db8::1]`).
    pub(crate) domain: String,
    /// The reverse path; `""` for the null reverse path (bounces).
    pub(crate) reverse_path: String,
    /// Full addresses, all in `domain`.
    pub(crate) recipients: Vec<String>,
    /// The spooled message: CRLF lines, not dot-stuffed.
    pub(crate) message: PathBuf,
    /// The message size in octets (sent as `SIZE=` when the server offers SIZE).
    pub(crate) size: u64,
    /// An address or the content needs SMTPUTF8 (RFC 6531).
    pub(crate) smtputf8: bool,
    /// The content has 8-bit octets (`BODY=8BITMIME`, RFC 6152).
    pub(crate) eight_bit: bool,
}

/// What became of one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RecipientResult {
    /// The remote server accepted the message for this recipient.
    Delivered {
        /// The server: `name[address]:port`.
        remote: String,
        /// Its reply to the end of the message, escaped for logs.
        reply: String,
    },
    /// Try again later.
    Temporary {
        /// The server that said so, if one did.
        remote: Option<String>,
        /// Why, for the log and a delay notice.
        diagnostic: String,
    },
    /// Give up and bounce.
    Permanent {
        /// The server that said so, if one did.
        remote: Option<String>,
        /// The enhanced status code for the bounce (`5.x.y`).
        status: String,
        /// Why, for the bounce.
        diagnostic: String,
    },
}

/// Settings the command line does not set: the RFC 5321 timeouts and the connection cache.
/// Tests shorten them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tuning {
    /// Reply deadlines: RFC 5321 section 4.5.3.2 ([`Timeouts::default`]).
    pub(crate) timeouts: Timeouts,
    /// TCP connection deadline: 30 s, Postfix's `smtp_connect_timeout`.
    pub(crate) connect_timeout: Duration,
    /// How long an idle connection is kept for the next message to its server: 10 s (Postfix
    /// keeps them 2 s, `smtp_connection_cache_time_limit`; a queue run delivers in bursts).
    pub(crate) idle_timeout: Duration,
    /// How long a QUIT waits for the `221` before the connection is closed anyway, and how
    /// long shutting down waits for all idle connections' QUITs together: 2 s (a choice: a
    /// connection saying QUIT counts in no limit, a stop should be prompt, and a server that
    /// does not answer QUIT at once loses nothing when hung up on).
    pub(crate) quit_grace: Duration,
    /// How many candidates one delivery may hold a session with (one that got past the
    /// greeting and EHLO) before the recipients left wait for the next try: 2, Postfix's
    /// `smtp_mx_session_limit`. Connections refused or cut before the handshake do not count.
    /// Without it, ten mail exchangers that each accept and then stall would hold a delivery
    /// for ten times the reply deadlines.
    pub(crate) session_limit: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            timeouts: Timeouts::default(),
            connect_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(10),
            quit_grace: Duration::from_secs(2),
            session_limit: 2,
        }
    }
}

impl Outbound {
    /// Builds the outbound side from the command line: reads the smarthost password file and
    /// CA, builds the TLS configurations and the resolver.
    pub(crate) fn from_options(options: &Options) -> Result<Outbound, String> {
        Outbound::with_tuning(options, Tuning::default())
    }

    /// [`Outbound::from_options`] with other timeouts.
    pub(crate) fn with_tuning(options: &Options, tuning: Tuning) -> Result<Outbound, String> {
        let out = &options.outbound;
        let hello = Domain::new(options.hostname.clone())
            .map_err(|e| format!("--hostname {}: {e}", options.hostname))?
            .into_owned();
        let mx_verification = match out.verify {
            OutboundVerify::Any => ClientTls::opportunistic_accept_any_certificate(),
            OutboundVerify::WebPki => ClientTls::webpki_roots(),
        };
        let mx_tls = mx_verification
            .build()
            .map_err(|e| format!("outbound TLS: {e}"))?;
        let smarthost = match &out.smarthost {
            None => None,
            Some((host, port)) => {
                let verification = match &out.smarthost_ca {
                    Some(path) => ClientTls::custom_roots_from_pem_file(path)
                        .map_err(|e| format!("--smarthost-ca: {e}"))?,
                    None => ClientTls::webpki_roots(),
                };
                let tls = verification
                    .build()
                    .map_err(|e| format!("--smarthost TLS: {e}"))?;
                let credentials = match (&out.smarthost_user, &out.smarthost_password_file) {
                    (Some(user), Some(path)) => {
                        let password =
                            crate::accounts::read_password_file(path).map_err(|e| match e {
                                AccountsError::PasswordFile { path, reason } => format!(
                                    "--smarthost-password-file {}: {reason}",
                                    path.display()
                                ),
                                other => format!("--smarthost-password-file: {other}"),
                            })?;
                        Some(Credentials::password(user.clone(), password))
                    }
                    _ => None,
                };
                Some(SmarthostSettings {
                    host: host.clone(),
                    port: *port,
                    implicit_tls: out.smarthost_implicit_tls.unwrap_or(*port == 465),
                    tls,
                    credentials,
                })
            }
        };
        let router = match &smarthost {
            Some(s) => Router::smarthost(&s.host, s.port),
            None => Router::mx(
                out.dns,
                out.mx_port,
                local_addresses(options),
                Wildcard::of(&wildcard_addresses(options)),
            ),
        };
        let settings = Settings {
            hello: Host::Domain(hello),
            require_tls: out.require_tls,
            mx_tls,
            smarthost,
            tuning,
        };
        let pool = Pool::new(
            out.max_connections,
            out.max_connections_per_domain,
            tuning.idle_timeout,
            tuning.quit_grace,
        );
        Ok(Outbound {
            inner: Arc::new(Inner {
                settings,
                router,
                pool,
            }),
        })
    }

    /// Delivers one message to the recipients of ONE domain. Never panics; each recipient
    /// gets exactly one result, in the order given.
    pub(crate) async fn deliver(&self, job: &OutboundJob) -> Vec<RecipientResult> {
        let mut results: Vec<Option<RecipientResult>> = vec![None; job.recipients.len()];
        let from = match job.reverse_path.as_str() {
            "" => ReversePath::Null,
            path => match Mailbox::parse(path) {
                Ok(mailbox) => ReversePath::Mailbox(mailbox.into_owned()),
                Err(e) => {
                    let why = format!("the sender address is not valid: {e}");
                    return vec![permanent(None, "5.1.7", why); job.recipients.len()];
                }
            },
        };
        let mut recipients = Vec::new();
        for (index, address) in job.recipients.iter().enumerate() {
            match Mailbox::parse(address) {
                Ok(mailbox) => recipients.push((index, mailbox.into_owned())),
                Err(e) => {
                    let why = format!("the recipient address is not valid: {e}");
                    if let Some(slot) = results.get_mut(index) {
                        *slot = Some(permanent(None, "5.1.3", why));
                    }
                }
            }
        }
        if !recipients.is_empty() {
            let inner = &self.inner;
            let _admission = inner
                .pool
                .admit(&inner.router.destination(&job.domain))
                .await;
            match inner.router.targets(&job.domain).await {
                Ok(targets) => {
                    let message = Message {
                        job,
                        from: &from,
                        recipients: &recipients,
                    };
                    self.try_targets(&targets, &message, &mut results).await;
                }
                Err(error) => {
                    warn!(domain = %Printable(job.domain.as_bytes()), %error, "no route");
                    let result = error.into_result();
                    for slot in results.iter_mut().filter(|r| r.is_none()) {
                        *slot = Some(result.clone());
                    }
                }
            }
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| RecipientResult::Temporary {
                    remote: None,
                    diagnostic: "no delivery attempt was completed".into(),
                })
            })
            .collect()
    }

    /// Tries the candidates in order until every recipient has a result; recipients still
    /// open after the last one fail temporarily with the last reason.
    async fn try_targets(
        &self,
        targets: &[Target],
        message: &Message<'_>,
        results: &mut [Option<RecipientResult>],
    ) {
        let mut last: Option<(Option<String>, String)> = None;
        let limit = self.inner.settings.tuning.session_limit.max(1);
        let mut sessions = 0;
        for (n, target) in targets.iter().enumerate() {
            if sessions >= limit {
                info!(
                    sessions,
                    "session limit of this delivery reached: the rest waits for the next try"
                );
                break;
            }
            let open: Vec<usize> = message
                .recipients
                .iter()
                .enumerate()
                .filter(|(_, (index, _))| results.get(*index).is_some_and(Option::is_none))
                .map(|(position, _)| position)
                .collect();
            if open.is_empty() {
                break;
            }
            match self.attempt(target, message, &open, results).await {
                Ok(()) => break,
                Err((failure, established)) => {
                    sessions += usize::from(established);
                    let remote = target.remote();
                    match n + 1 < targets.len() {
                        true => info!(%remote, reason = %failure.1, "trying the next candidate"),
                        false => info!(%remote, reason = %failure.1, "no candidate left"),
                    }
                    last = Some(failure);
                }
            }
        }
        let (remote, diagnostic) =
            last.unwrap_or((None, "no mail exchanger to deliver to".to_owned()));
        for slot in results.iter_mut().filter(|r| r.is_none()) {
            *slot = Some(RecipientResult::Temporary {
                remote: remote.clone(),
                diagnostic: diagnostic.clone(),
            });
        }
    }

    /// Closes the idle connections with QUIT, for a clean shutdown; waits
    /// [`Tuning::quit_grace`] at most for the servers' replies.
    pub(crate) async fn shut_down(&self) {
        let grace = self.inner.settings.tuning.quit_grace;
        self.inner.pool.close_idle(grace).await;
    }

    /// One candidate: `Ok` when the recipients in `open` (positions in the message's
    /// recipients) were all decided there, `Err(((remote, why), established))` when the next
    /// candidate should be tried for those left undecided; `established` when a session got
    /// past its handshake (it counts toward [`Tuning::session_limit`]).
    async fn attempt(
        &self,
        target: &Target,
        message: &Message<'_>,
        open: &[usize],
        results: &mut [Option<RecipientResult>],
    ) -> Result<(), ((Option<String>, String), bool)> {
        let inner = &self.inner;
        let remote = target.remote();
        // A cached connection the server closed in the meantime fails before any reply: that
        // costs nothing, and a new connection is tried once.
        let mut cached = inner.pool.take(target.key()).await;
        loop {
            let reused = cached.is_some();
            let mut session = match cached.take() {
                Some(session) => session,
                None => self
                    .open(target)
                    .await
                    .map_err(|e| ((Some(remote.clone()), e), false))?,
            };
            // Only the recipients still undecided: an earlier `LIMITS RCPTMAX` batch of a
            // cached connection lost later may have delivered some already.
            let open: Vec<usize> = open
                .iter()
                .copied()
                .filter(|&position| {
                    message
                        .recipients
                        .get(position)
                        .and_then(|(index, _)| results.get(*index))
                        .is_some_and(Option::is_none)
                })
                .collect();
            let report: TxReport = session.transact(message, &open).await;
            for (position, result) in &report.results {
                if let Some(slot) = message
                    .recipients
                    .get(*position)
                    .and_then(|(index, _)| results.get_mut(*index))
                {
                    *slot = Some(result.clone());
                }
            }
            match report.broken {
                None => {
                    inner.pool.put(target.key(), session);
                    return Ok(());
                }
                Some(broken) if reused && !broken.progressed => {
                    info!(%remote, reason = %broken.diagnostic, "cached connection lost: opening a new one");
                    continue;
                }
                Some(broken) if broken.body_sent || broken.local => {
                    // The message may have arrived: the next MX could deliver it twice (RFC
                    // 5321 section 6.1); retry later instead. (A spool file that cannot be
                    // read fails with every server alike.)
                    for &position in &open {
                        if let Some(slot) = message
                            .recipients
                            .get(position)
                            .and_then(|(index, _)| results.get_mut(*index))
                            .filter(|slot| slot.is_none())
                        {
                            *slot = Some(RecipientResult::Temporary {
                                remote: Some(remote.clone()),
                                diagnostic: broken.diagnostic.clone(),
                            });
                        }
                    }
                    return Ok(());
                }
                Some(broken) => return Err(((Some(remote), broken.diagnostic), true)),
            }
        }
    }

    /// A new session with `target`, by the TLS policy; a failed opportunistic STARTTLS
    /// handshake is retried once in plaintext on a new connection (RFC 7435 section 6;
    /// Postfix's `may` level).
    async fn open(&self, target: &Target) -> Result<Session, String> {
        let settings = &self.inner.settings;
        match Session::open(settings, target, false).await {
            Ok(session) => Ok(session),
            Err(OpenError::Handshake(error)) if settings.may_fall_back(target) => {
                warn!(
                    remote = %target.remote(),
                    %error,
                    "STARTTLS handshake failed: delivering in plaintext on a new connection \
                     (opportunistic TLS, RFC 7435)"
                );
                Session::open(settings, target, true)
                    .await
                    .map_err(|e| e.to_string())
            }
            Err(error) => Err(error.to_string()),
        }
    }
}

/// The message of one delivery, with the recipients that parsed (job index, mailbox).
pub(crate) struct Message<'a> {
    job: &'a OutboundJob,
    from: &'a ReversePath<'static>,
    recipients: &'a [(usize, Mailbox<'static>)],
}

/// The addresses that are "us" for loop detection: the SMTP listener's address when it is a
/// specific one and its port is the port remote MXes are reached on. A listener bound to a
/// whole family is in [`wildcard_addresses`] instead.
fn local_addresses(options: &Options) -> Vec<IpAddr> {
    smtp_on_mx_port(options)
        .filter(|ip| !ip.is_unspecified())
        .collect()
}

/// The unspecified addresses (`0.0.0.0`, `::`) the SMTP listener on the remote port is bound
/// to: then loopback and every address of this host are us ([`Wildcard`]).
fn wildcard_addresses(options: &Options) -> Vec<IpAddr> {
    smtp_on_mx_port(options)
        .filter(IpAddr::is_unspecified)
        .collect()
}

/// The addresses of the SMTP listeners on the port remote MXes are reached on.
fn smtp_on_mx_port(options: &Options) -> impl Iterator<Item = IpAddr> {
    let port = options.outbound.mx_port;
    options
        .listeners()
        .into_iter()
        .filter(move |(service, addr)| *service == Service::Smtp && addr.port() == port)
        .map(|(_, addr): (Service, SocketAddr)| addr.ip())
}

fn permanent(remote: Option<String>, status: &str, diagnostic: String) -> RecipientResult {
    RecipientResult::Permanent {
        remote,
        status: status.to_owned(),
        diagnostic,
    }
}

/// A reply as `code enhanced first-line`, escaped.
fn describe(reply: &Reply<'_>) -> String {
    let text = Printable(reply.first_line());
    match reply.enhanced() {
        Some(enhanced) => format!("{} {enhanced} {text}", reply.code()),
        None => format!("{} {text}", reply.code()),
    }
}

/// The result a refusal gives a recipient: 5xx permanent with the reply's enhanced code (or
/// 5.0.0), anything else temporary.
fn refused(remote: &str, reply: &Reply<'_>) -> RecipientResult {
    if reply.code().is_permanent() {
        let status = reply
            .enhanced()
            .filter(|e| e.class() == 5)
            .map_or_else(|| "5.0.0".to_owned(), |e| e.to_string());
        permanent(Some(remote.to_owned()), &status, describe(reply))
    } else {
        RecipientResult::Temporary {
            remote: Some(remote.to_owned()),
            diagnostic: describe(reply),
        }
    }
}

impl RouteError {
    fn into_result(self) -> RecipientResult {
        match self {
            RouteError::Permanent { status, diagnostic } => permanent(None, &status, diagnostic),
            RouteError::Temporary { diagnostic } => RecipientResult::Temporary {
                remote: None,
                diagnostic,
            },
        }
    }
}
