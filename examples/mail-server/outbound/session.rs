//! One SMTP connection to a remote server: connecting, the session set-up by the TLS policy,
//! and mail transactions whose replies become [`RecipientResult`]s.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use mail_tls::rustls::ClientConfig as TlsConfig;
use mail_tls::tokio::{HandshakeOptions, connect_implicit};
use mail_tls::{Service, TlsError, server_name};
use smtp_proto::client::{
    Client, ClientConfig, ClientError, Credentials, Envelope, EnvelopeError, Event, Rejection,
    SessionError, TlsPolicy,
};
use smtp_proto::command::Body;
use smtp_proto::tokio::ClientConnection;
use smtp_proto::{ForwardPath, Host};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tracing::info;

use super::route::Target;
use super::{Message, RecipientResult, Tuning, describe, permanent, refused};

/// What every session shares.
pub(crate) struct Settings {
    /// The EHLO name: `--hostname`.
    pub(crate) hello: Host<'static>,
    /// `--require-tls`.
    pub(crate) require_tls: bool,
    /// The TLS client configuration for MXes (`--outbound-tls-verify`).
    pub(crate) mx_tls: Arc<TlsConfig>,
    /// `--smarthost` and its TLS and credentials.
    pub(crate) smarthost: Option<SmarthostSettings>,
    /// Timeouts.
    pub(crate) tuning: Tuning,
}

/// The smarthost's connection settings.
pub(crate) struct SmarthostSettings {
    /// `--smarthost` HOST: where to connect, and the name its certificate must carry.
    pub(crate) host: String,
    /// `--smarthost` PORT.
    pub(crate) port: u16,
    /// Port 465: TLS from the first byte (RFC 8314); otherwise STARTTLS, required.
    pub(crate) implicit_tls: bool,
    /// Verifies the smarthost's certificate (`--smarthost-ca`, else the Mozilla roots).
    pub(crate) tls: Arc<TlsConfig>,
    /// `--smarthost-user` with the password of `--smarthost-password-file`.
    pub(crate) credentials: Option<Credentials>,
}

impl Settings {
    /// Whether a failed STARTTLS handshake with `target` may be retried in plaintext: only
    /// for an MX, and only without `--require-tls`.
    pub(crate) fn may_fall_back(&self, target: &Target) -> bool {
        !target.smarthost && !self.require_tls
    }
}

/// The stream a session runs on: TCP, or implicit TLS over it.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Why a session could not be set up.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// No TCP connection.
    Connect(String),
    /// The TLS handshake (STARTTLS or implicit) failed.
    Handshake(String),
    /// The server refused or broke the session before it was ready (greeting, EHLO,
    /// STARTTLS policy, AUTH).
    Session(String),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Connect(why) => write!(f, "cannot connect: {why}"),
            OpenError::Handshake(why) => write!(f, "TLS handshake failed: {why}"),
            OpenError::Session(why) => f.write_str(why),
        }
    }
}

/// One connection, ready for a transaction.
pub(crate) struct Session {
    conn: ClientConnection<Box<dyn Stream>>,
    remote: String,
}

/// What a session broke with during a transaction.
#[derive(Debug)]
pub(crate) struct Broken {
    /// Why, for the recipients' results.
    pub(crate) diagnostic: String,
    /// The server answered something in this transaction.
    pub(crate) progressed: bool,
    /// The end of the body went out: the message may have been delivered.
    pub(crate) body_sent: bool,
    /// The spool file could not be read: another server would fare no better.
    pub(crate) local: bool,
}

/// The outcome of [`Session::transact`].
#[derive(Debug, Default)]
pub(crate) struct TxReport {
    /// Results by position in the message's recipients.
    pub(crate) results: Vec<(usize, RecipientResult)>,
    /// `Some` when the session is no longer usable.
    pub(crate) broken: Option<Broken>,
}

impl Session {
    /// Connects to `target` and sets the session up: greeting, EHLO, STARTTLS as the policy
    /// says (never with `plaintext`), AUTH for the smarthost.
    pub(crate) async fn open(
        settings: &Settings,
        target: &Target,
        plaintext: bool,
    ) -> Result<Session, OpenError> {
        let tuning = &settings.tuning;
        let remote = target.remote();
        let tcp =
            match tokio::time::timeout(tuning.connect_timeout, TcpStream::connect(target.addr))
                .await
            {
                Ok(Ok(tcp)) => tcp,
                Ok(Err(e)) => return Err(OpenError::Connect(e.to_string())),
                Err(_) => {
                    return Err(OpenError::Connect(format!(
                        "no connection within {:?}",
                        tuning.connect_timeout
                    )));
                }
            };
        let mut config = ClientConfig::relay(settings.hello.clone());
        config.timeouts = tuning.timeouts;
        // PIPELINING and CHUNKING (BDAT) whenever the server offers them.
        config.pipelining = true;
        config.chunking = true;
        let (tls, implicit) = match (&settings.smarthost, target.smarthost) {
            (Some(smarthost), true) => {
                config.tls = TlsPolicy::Required;
                config.credentials = smarthost.credentials.clone();
                (smarthost.tls.clone(), smarthost.implicit_tls)
            }
            _ => {
                config.tls = match settings.require_tls {
                    true => TlsPolicy::Required,
                    false => TlsPolicy::Opportunistic,
                };
                (settings.mx_tls.clone(), false)
            }
        };
        if plaintext {
            config.tls = TlsPolicy::Never;
        }
        config.implicit_tls = implicit;
        // An MX name DNS allows but TLS cannot carry (a label ending with a hyphen, say) is
        // named by its address instead: no SNI, and a certificate that verifies only for an
        // address, which opportunistic TLS does not require. The smarthost is always named as
        // configured.
        let name = match server_name(&target.name) {
            Ok(name) => name,
            Err(_) if !target.smarthost => server_name(&target.addr.ip().to_string())
                .map_err(|e| OpenError::Handshake(e.to_string()))?,
            Err(e) => return Err(OpenError::Handshake(e.to_string())),
        };
        let options = HandshakeOptions::default()
            .service(Service::SmtpRelay)
            .port(target.addr.port());
        let stream: Box<dyn Stream> = match implicit {
            true => Box::new(
                connect_implicit(tls.clone(), name.clone(), tcp, options)
                    .await
                    .map_err(|e| OpenError::Handshake(e.to_string()))?,
            ),
            false => Box::new(tcp),
        };
        let starttls = !implicit && config.tls != TlsPolicy::Never;
        let mut conn = ClientConnection::new(stream, Client::new(config, Instant::now()));
        if starttls {
            conn = conn.with_starttls(tls, name, options);
        }
        loop {
            match conn.next_event().await {
                Ok(Some(Event::Ready)) => break,
                Ok(Some(Event::StartTls)) => {
                    let info = conn.tls_info();
                    info!(
                        %remote,
                        version = info.and_then(|i| i.protocol_version.as_deref()).unwrap_or("?"),
                        "STARTTLS established"
                    );
                }
                Ok(Some(Event::Closed(Err(error)))) => {
                    return Err(OpenError::Session(error.to_string()));
                }
                Ok(Some(Event::Closed(Ok(())))) | Ok(None) => {
                    return Err(OpenError::Session(
                        "the session ended before it was ready".into(),
                    ));
                }
                Ok(Some(_)) => {}
                Err(error) => {
                    let tls = error
                        .get_ref()
                        .and_then(|inner| inner.downcast_ref::<TlsError>());
                    return Err(match tls {
                        Some(tls) => OpenError::Handshake(tls.to_string()),
                        None => OpenError::Session(error.to_string()),
                    });
                }
            }
        }
        info!(
            %remote,
            tls = conn.client().is_tls() || implicit,
            "connected for outbound delivery"
        );
        Ok(Session { conn, remote })
    }

    /// Whether the session is idle and alive: the server has not closed it or said `421`
    /// since its last transaction. Checks without waiting.
    pub(crate) async fn is_alive(&mut self) -> bool {
        if !self.conn.client().is_ready() {
            return false;
        }
        // Anything the server says while the session is idle ends it (a 421, or the end of
        // the stream); nothing to read leaves it ready.
        match tokio::time::timeout(std::time::Duration::ZERO, self.conn.next_event()).await {
            Err(_elapsed) => self.conn.client().is_ready(),
            Ok(_) => false,
        }
    }

    /// Ends the session with QUIT and waits for the server's `221`, `grace` at most; then
    /// hangs up (dropping the session closes the connection).
    pub(crate) async fn quit(mut self, grace: Duration) {
        self.conn.quit();
        let _ = tokio::time::timeout(grace, async {
            while let Ok(Some(_)) = self.conn.next_event().await {}
        })
        .await;
    }

    /// Sends `message` to the recipients at `open` (positions in the message's recipients),
    /// in as many transactions as the server's `LIMITS RCPTMAX` asks.
    pub(crate) async fn transact(&mut self, message: &Message<'_>, open: &[usize]) -> TxReport {
        let mut report = TxReport::default();
        let limit = self
            .conn
            .client()
            .capabilities()
            .and_then(|c| c.limit("RCPTMAX"))
            .and_then(|l| usize::try_from(l).ok())
            .filter(|&l| l > 0)
            .unwrap_or(usize::MAX);
        for batch in open.chunks(limit) {
            self.transaction(message, batch, &mut report).await;
            if report.broken.is_some() {
                break;
            }
        }
        report
    }

    async fn transaction(&mut self, message: &Message<'_>, batch: &[usize], report: &mut TxReport) {
        let job = message.job;
        let mut envelope = Envelope::new(message.from.clone()).with_size(job.size);
        if job.eight_bit {
            envelope.params.body = Some(Body::EightBitMime);
        }
        envelope.params.smtputf8 = job.smtputf8;
        for &position in batch {
            if let Some((_, mailbox)) = message.recipients.get(position) {
                envelope = envelope.with_recipient(ForwardPath::Mailbox(mailbox.clone()));
            }
        }
        let remote = self.remote.clone();
        let all = |report: &mut TxReport, result: RecipientResult| {
            for &position in batch {
                report.results.push((position, result.clone()));
            }
        };
        match self.conn.send_message(envelope) {
            Ok(()) => {}
            Err(ClientError::Envelope(error)) => {
                all(report, envelope_refused(&remote, &error));
                return;
            }
            Err(error) => {
                report.broken = Some(Broken {
                    diagnostic: error.to_string(),
                    progressed: false,
                    body_sent: false,
                    local: false,
                });
                return;
            }
        }
        let mut accepted: Vec<usize> = Vec::new();
        let mut decided = vec![false; batch.len()];
        let mut progressed = false;
        let mut body_sent = false;
        let mut local = false;
        let broken = loop {
            let event = match self.conn.next_event().await {
                Ok(Some(event)) => event,
                Ok(None) => break Some("the connection closed".to_owned()),
                Err(error) => break Some(error.to_string()),
            };
            match event {
                Event::Recipient { index, reply } => {
                    progressed = true;
                    if reply.code().is_positive() {
                        accepted.push(index);
                    } else if let (Some(&position), Some(flag)) =
                        (batch.get(index), decided.get_mut(index))
                    {
                        *flag = true;
                        report.results.push((position, refused(&remote, &reply)));
                    }
                }
                Event::BodyReady => {
                    let mut file = match tokio::fs::File::open(&job.message).await {
                        Ok(file) => CheckedRead::new(file),
                        Err(error) => {
                            local = true;
                            break Some(format!("cannot read the queued message: {error}"));
                        }
                    };
                    match self.conn.send_body_from(&mut file).await {
                        Ok(true) => body_sent = true,
                        Ok(false) => {}
                        Err(error) if file.failed => {
                            local = true;
                            break Some(format!("cannot read the queued message: {error}"));
                        }
                        Err(error) => break Some(error.to_string()),
                    }
                }
                Event::MessageAccepted(reply) => {
                    progressed = true;
                    for &index in &accepted {
                        if let (Some(&position), Some(flag)) =
                            (batch.get(index), decided.get_mut(index))
                        {
                            *flag = true;
                            report.results.push((
                                position,
                                RecipientResult::Delivered {
                                    remote: remote.clone(),
                                    reply: describe(&reply),
                                },
                            ));
                        }
                    }
                    info!(%remote, recipients = accepted.len(), reply = %describe(&reply), "delivered");
                }
                Event::MessageRejected(rejection) => {
                    progressed = true;
                    let (reply, who): (_, Vec<usize>) = match &rejection {
                        Rejection::Sender(reply) => (Some(reply), (0..batch.len()).collect()),
                        Rejection::Data(reply) | Rejection::Message(reply) => {
                            (Some(reply), accepted.clone())
                        }
                        _ => (None, Vec::new()),
                    };
                    if let Some(reply) = reply {
                        for index in who {
                            if let (Some(&position), Some(flag)) =
                                (batch.get(index), decided.get_mut(index))
                            {
                                if !*flag {
                                    *flag = true;
                                    report.results.push((position, refused(&remote, reply)));
                                }
                            }
                        }
                    }
                    info!(%remote, %rejection, "message refused");
                }
                // The transaction is over and the session idle again.
                Event::Ready => break None,
                Event::Closed(Err(SessionError::Timeout(awaiting))) => {
                    break Some(format!("timed out waiting for the reply to {awaiting}"));
                }
                Event::Closed(Err(error)) => break Some(error.to_string()),
                Event::Closed(Ok(())) => break Some("the session ended".to_owned()),
                _ => {}
            }
        };
        if let Some(diagnostic) = broken {
            report.broken = Some(Broken {
                diagnostic,
                progressed,
                body_sent,
                local,
            });
        }
    }
}

/// What an envelope the server cannot take means for its recipients (nothing was sent).
fn envelope_refused(remote: &str, error: &EnvelopeError) -> RecipientResult {
    let remote = Some(remote.to_owned());
    match error {
        // RFC 6531 section 3.4: a message that needs SMTPUTF8 is not downgraded here.
        EnvelopeError::NotOffered {
            extension: "SMTPUTF8",
        } => permanent(
            remote,
            "5.6.7",
            "the message needs SMTPUTF8, which the server does not offer (RFC 6531)".into(),
        ),
        // RFC 6152 section 3: 8-bit content to a server without 8BITMIME would need a
        // conversion this server does not do.
        EnvelopeError::NotOffered {
            extension: "8BITMIME",
        } => permanent(
            remote,
            "5.6.3",
            "the message has 8-bit content and the server does not offer 8BITMIME".into(),
        ),
        EnvelopeError::TooLarge { .. } => permanent(remote, "5.3.4", error.to_string()),
        _ => RecipientResult::Temporary {
            remote,
            diagnostic: error.to_string(),
        },
    }
}

/// A reader that remembers whether a read failed, so that a broken spool file is told apart
/// from a broken connection.
struct CheckedRead<R> {
    inner: R,
    failed: bool,
}

impl<R> CheckedRead<R> {
    fn new(inner: R) -> Self {
        CheckedRead {
            inner,
            failed: false,
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for CheckedRead<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Err(_)) = &poll {
            this.failed = true;
        }
        poll
    }
}
