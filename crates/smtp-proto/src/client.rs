//! The SMTP and LMTP client state machine.
//!
//! [`Client`] runs one session against a server: it waits for the greeting, says EHLO (HELO
//! when the server does not know EHLO, LHLO in LMTP), upgrades to TLS with STARTTLS as the
//! [`TlsPolicy`] says, authenticates with the best SASL mechanism both sides know, and then
//! sends mail transactions, one after the other, until [`Client::quit`]. It never touches a
//! socket, a clock or a random number generator: time is an argument, and the one piece of
//! randomness it needs (the SCRAM nonce) comes with the [`Credentials`].
//!
//! ```text
//!  Client::new ─▶ 220 ─▶ EHLO ─▶ [STARTTLS ─▶ Event::StartTls ─▶ tls_established ─▶ EHLO]
//!              ─▶ [AUTH ...] ─▶ Event::Ready ─▶ send_message ─▶ MAIL, RCPT... ─▶ Event::BodyReady
//!              ─▶ send_body... finish_body ─▶ Event::MessageAccepted ─▶ Event::Ready ─▶ quit
//! ```
//!
//! # The driver loop
//!
//! ```
//! use std::collections::VecDeque;
//! use std::time::Instant;
//! use smtp_proto::client::{Client, ClientConfig, Envelope, Event};
//! use smtp_proto::{Domain, ForwardPath, Host, Mailbox, ReversePath};
//!
//! let now = Instant::now();
//! let mut config = ClientConfig::default();
//! config.hello_name = Host::Domain(Domain::new("client.example")?);
//! let mut client = Client::new(config, now);
//! let mut outbox = VecDeque::from([Envelope::new(ReversePath::Mailbox(
//!     Mailbox::parse("alice@client.example")?.into_owned(),
//! ))
//! .with_recipient(ForwardPath::Mailbox(Mailbox::parse("bob@mx.example")?.into_owned()))]);
//!
//! // What the server says, one flight at a time; a real driver reads its socket instead.
//! let mut server: VecDeque<&[u8]> = VecDeque::from([
//!     &b"220 mx.example ESMTP\r\n"[..],
//!     b"250-mx.example\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n",
//!     b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
//!     b"250 2.0.0 Ok: queued as 4F1D3\r\n",
//!     b"221 2.0.0 Bye\r\n",
//! ]);
//! let mut wire = Vec::new(); // what we would write to the socket
//! let mut accepted = Vec::new();
//! loop {
//!     while let Some(event) = client.poll_event() {
//!         match event {
//!             Event::Ready => match outbox.pop_front() {
//!                 Some(envelope) => client.send_message(now, envelope)?,
//!                 None => client.quit(now),
//!             },
//!             Event::BodyReady => {
//!                 // Stream the body; a large one goes in pieces while `can_send_body()`.
//!                 client.send_body(now, b"Subject: hi\r\n\r\n")?;
//!                 client.finish_body_with(now, b".a line that starts with a dot\r\n")?;
//!             }
//!             Event::MessageAccepted(reply) => accepted.push(reply.code().get()),
//!             Event::MessageRejected(why) => panic!("rejected: {why:?}"),
//!             Event::StartTls => { /* do the TLS handshake, then client.tls_established(now)? */ }
//!             Event::Closed(result) => result?,
//!             _ => {}
//!         }
//!     }
//!     while let Some(bytes) = client.poll_transmit() {
//!         wire.extend_from_slice(&bytes);
//!     }
//!     if client.is_closed() {
//!         break;
//!     }
//!     match server.pop_front() {
//!         Some(bytes) => client.feed(now, bytes),
//!         None => client.handle_eof(),
//!     }
//! }
//! assert_eq!(accepted, [250]);
//! assert_eq!(
//!     String::from_utf8(wire)?,
//!     "EHLO client.example\r\n\
//!      MAIL FROM:<alice@client.example>\r\nRCPT TO:<bob@mx.example>\r\nDATA\r\n\
//!      Subject: hi\r\n\r\n..a line that starts with a dot\r\n.\r\n\
//!      QUIT\r\n"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A real driver also calls [`Client::handle_timeout`] when [`Client::poll_timeout`] is due,
//! keeps reading while it writes (a pipelining server may block until its replies are read,
//! RFC 2920 section 3.3), and on [`Event::StartTls`] writes what is left in
//! [`Client::poll_transmit`], does the TLS handshake and calls [`Client::tls_established`].
//!
//! # Transactions
//!
//! | server offers | the client sends |
//! |---|---|
//! | `PIPELINING` (RFC 2920) | MAIL, every RCPT and DATA as one group; otherwise one command at a time |
//! | `CHUNKING` (RFC 3030) | the body as `BDAT n` chunks (one per [`Client::send_body`]) and `BDAT n LAST` or `BDAT 0 LAST`, after the RCPT replies; otherwise DATA with dot-stuffing |
//! | `SIZE` (RFC 1870) | `SIZE=` when the envelope declares a size; a larger size than the limit is refused before anything is sent |
//!
//! Every RCPT reply is an [`Event::Recipient`]. When no recipient is accepted the body is not
//! sent ([`Rejection::NoRecipients`]). The reply to the body is an [`Event::MessageAccepted`] or
//! [`Event::MessageRejected`]; in LMTP it is one [`Event::Delivery`] per accepted recipient
//! (RFC 2033 section 4.2). After a failed transaction the next one starts with RSET.
//!
//! # Security
//!
//! - **STARTTLS boundary** (RFC 3207 section 4.2, CVE-2021-38371 class): any byte after the
//!   `220` reply to STARTTLS, whether in the same read or fed before
//!   [`Client::tls_established`], ends the session with [`SessionError::StartTlsInjection`].
//!   After the handshake everything learned before it is forgotten and EHLO is sent again.
//! - **No downgrade**: under [`TlsPolicy::Required`] a server that does not offer STARTTLS or
//!   refuses it is left with QUIT ([`SessionError::TlsNotOffered`],
//!   [`SessionError::StartTlsRefused`]); nothing else is sent in plaintext.
//! - **No plaintext credentials**: AUTH is only sent over TLS unless
//!   [`ClientConfig::allow_plaintext_auth`] is set. Configured credentials that cannot be used
//!   end the session rather than sending mail unauthenticated.
//! - **SMTP smuggling**: bare CR and LF in a body become CRLF (RFC 5321 section 2.3.8), by DATA
//!   and by BDAT alike (only a `BODY=BINARYMIME` body goes byte for byte, RFC 3030 section 3),
//!   and DATA bodies are dot-stuffed, so no body can contain an end-of-data marker.
//! - **Bounded memory**: reply lines and replies are bounded ([`ClientConfig::max_reply_line_len`],
//!   [`ClientConfig::max_reply_lines`]); input is processed as it arrives, so at most one
//!   partial line is buffered. No input makes the machine panic.
//! - Credentials are [`Secret`]s, and the `Debug` output of a [`Client`] shows no buffer
//!   contents (an AUTH line waiting in the output holds a password).
//!
//! # Timeouts
//!
//! Each reply has a deadline from the RFC 5321 section 4.5.3.2 defaults in [`Timeouts`],
//! counted from the last reply (or from the command, when nothing else was outstanding).
//! [`Client::poll_timeout`] returns it; past it, [`Client::handle_timeout`] ends the session
//! with [`SessionError::Timeout`].

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mail_wire::Secret;
use mail_wire::dot::DotEncoder;
use mail_wire::line::{BareLf, Frame, LineFramer};
use mail_wire::sasl::framing;
use mail_wire::sasl::{ClientSession, Mechanism, Nonce, SaslError, ScramClientConfig};

use crate::command::{self, Body, Command, InitialResponse, MailParams, RcptParams};
use crate::error::ReplyError;
use crate::reply::{AuthMechanisms, Capabilities, Reply, ReplyParser};
use crate::types::{Domain, ForwardPath, Host, ReversePath};

/// Longest command line the client sends with an AUTH initial response: 512 octets including
/// CRLF (RFC 5321 section 4.5.3.1.4). A longer initial response waits for the server's empty
/// challenge instead (RFC 4954 section 4).
const COMMAND_LINE_LIMIT: usize = 512;

/// Longest reply line accepted while a SASL exchange runs: 12288 octets, the AUTH line limit of
/// RFC 4954 section 4 (bearer-token errors and SCRAM messages can exceed 512 octets).
const SASL_LINE_LIMIT: usize = 12288;

/// How much fed input is framed at a time, so a large read never sits in the buffer whole.
const FEED_CHUNK: usize = 4096;

/// When to upgrade a plaintext connection with STARTTLS (RFC 3207).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TlsPolicy {
    /// Never send STARTTLS, even when offered.
    Never,
    /// Send STARTTLS when offered; go on in plaintext when it is not offered or is refused
    /// (opportunistic TLS, RFC 7435; Postfix `smtp_tls_security_level = may`).
    #[default]
    Opportunistic,
    /// Send STARTTLS and end the session if it is not offered or is refused (RFC 8314 for
    /// submission; Postfix `smtp_tls_security_level = encrypt`).
    Required,
}

/// How long to wait for each reply. Defaults are RFC 5321 section 4.5.3.2.
///
/// A deadline counts from the previous reply, or from the command when no other reply was
/// outstanding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Timeouts {
    /// The `220` greeting: 5 minutes (RFC 5321 section 4.5.3.2.1).
    pub greeting: Duration,
    /// The reply to MAIL: 5 minutes (RFC 5321 section 4.5.3.2.2).
    pub mail: Duration,
    /// The reply to each RCPT: 5 minutes (RFC 5321 section 4.5.3.2.3).
    pub rcpt: Duration,
    /// The `354` reply to DATA: 2 minutes (RFC 5321 section 4.5.3.2.4).
    pub data_initiation: Duration,
    /// The reply to a BDAT chunk that is not the last: 3 minutes, the data block timeout of
    /// RFC 5321 section 4.5.3.2.5. (The machine cannot see the socket: apply the same limit
    /// to your own writes.)
    pub data_block: Duration,
    /// The reply to the end of the body (`.` or `BDAT ... LAST`): 10 minutes (RFC 5321
    /// section 4.5.3.2.6).
    pub data_termination: Duration,
    /// Every other reply (EHLO, STARTTLS, AUTH, RSET, QUIT): 5 minutes. RFC 5321 sets none
    /// for these; this is its MAIL value.
    pub command: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        const MINUTE: Duration = Duration::from_secs(60);
        Timeouts {
            greeting: 5 * MINUTE,
            mail: 5 * MINUTE,
            rcpt: 5 * MINUTE,
            data_initiation: 2 * MINUTE,
            data_block: 3 * MINUTE,
            data_termination: 10 * MINUTE,
            command: 5 * MINUTE,
        }
    }
}

/// Credentials for AUTH (RFC 4954): a password or an OAuth 2.0 bearer token.
///
/// The mechanism is chosen from what the server offers, in the order of
/// [`ClientConfig::auth_mechanisms`]: a password can do `SCRAM-SHA-256` (only with a nonce,
/// see [`Credentials::with_scram_nonce`]), `PLAIN` and `LOGIN`; a token `OAUTHBEARER` and
/// `XOAUTH2`. `Debug` output redacts the secret.
///
/// ```
/// use mail_wire::Secret;
/// use mail_wire::sasl::Nonce;
/// use smtp_proto::client::Credentials;
///
/// let random = [7u8; 18]; // from the operating system's RNG in real code
/// let credentials = Credentials::password("alice", Secret::new("correct horse".into()))
///     .with_scram_nonce(Nonce::from_random_bytes(&random).unwrap());
/// assert!(!format!("{credentials:?}").contains("horse"));
/// ```
#[derive(Debug, Clone)]
pub struct Credentials {
    username: String,
    secret: CredentialSecret,
    authzid: Option<String>,
    scram_nonce: Option<Nonce>,
    oauth_server: Option<(String, Option<u16>)>,
}

#[derive(Debug, Clone)]
enum CredentialSecret {
    Password(Secret<String>),
    BearerToken(Secret<String>),
}

impl Credentials {
    /// A user name and password.
    pub fn password(username: impl Into<String>, password: Secret<String>) -> Self {
        Credentials::with_secret(username.into(), CredentialSecret::Password(password))
    }

    /// A user name and OAuth 2.0 access token (RFC 6750 `b64token`).
    pub fn bearer_token(username: impl Into<String>, token: Secret<String>) -> Self {
        Credentials::with_secret(username.into(), CredentialSecret::BearerToken(token))
    }

    fn with_secret(username: String, secret: CredentialSecret) -> Self {
        Credentials {
            username,
            secret,
            authzid: None,
            scram_nonce: None,
            oauth_server: None,
        }
    }

    /// Acts as `authzid` (RFC 4422 section 3.4.1) after authenticating, with `PLAIN` and
    /// `SCRAM-SHA-256`.
    pub fn with_authzid(mut self, authzid: impl Into<String>) -> Self {
        self.authzid = Some(authzid.into());
        self
    }

    /// Enables `SCRAM-SHA-256` with this client nonce. The nonce must be fresh random for
    /// every session (RFC 5802 section 5.1): build the configuration per connection. This
    /// crate has no RNG and never makes one up.
    pub fn with_scram_nonce(mut self, nonce: Nonce) -> Self {
        self.scram_nonce = Some(nonce);
        self
    }

    /// Names the server for `OAUTHBEARER` (RFC 7628 section 3.1 `host` and `port`).
    pub fn with_oauth_server(mut self, host: impl Into<String>, port: Option<u16>) -> Self {
        self.oauth_server = Some((host.into(), port));
        self
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// Whether these credentials can be used with `mechanism`.
    pub fn supports(&self, mechanism: Mechanism) -> bool {
        match (&self.secret, mechanism) {
            (CredentialSecret::Password(_), Mechanism::ScramSha256) => self.scram_nonce.is_some(),
            (CredentialSecret::Password(_), Mechanism::Plain | Mechanism::Login) => true,
            (CredentialSecret::BearerToken(_), Mechanism::OAuthBearer | Mechanism::XOAuth2) => true,
            _ => false,
        }
    }

    fn session(
        &self,
        mechanism: Mechanism,
        scram: &ScramClientConfig,
    ) -> Result<ClientSession, SaslError> {
        let authzid = self.authzid.as_deref();
        match (&self.secret, mechanism) {
            (CredentialSecret::Password(password), Mechanism::ScramSha256) => {
                let nonce = self.scram_nonce.clone().ok_or(SaslError::InvalidNonce {
                    reason: "no SCRAM nonce was supplied",
                })?;
                ClientSession::scram_sha256(
                    authzid,
                    &self.username,
                    password.clone(),
                    nonce,
                    scram.clone(),
                )
            }
            (CredentialSecret::Password(password), Mechanism::Plain) => {
                ClientSession::plain(authzid, &self.username, password.clone())
            }
            (CredentialSecret::Password(password), Mechanism::Login) => {
                ClientSession::login(&self.username, password.clone())
            }
            (CredentialSecret::BearerToken(token), Mechanism::XOAuth2) => {
                ClientSession::xoauth2(&self.username, token.clone())
            }
            (CredentialSecret::BearerToken(token), Mechanism::OAuthBearer) => {
                let (host, port) = match &self.oauth_server {
                    Some((host, port)) => (Some(host.as_str()), *port),
                    None => (None, None),
                };
                ClientSession::oauthbearer(Some(&self.username), host, port, token.clone())
            }
            _ => Err(SaslError::UnknownMechanism),
        }
    }
}

/// The client's configuration: its name, TLS and AUTH policy, extensions to use, limits and
/// timeouts.
///
/// `#[non_exhaustive]`: start from [`Default`] (an MTA relaying to port 25 with opportunistic
/// TLS) or one of the presets, and set fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The name given in EHLO, HELO or LHLO: the client's fully qualified domain name, or an
    /// address literal when it has none (RFC 5321 section 4.1.1.1). Default `localhost`.
    pub hello_name: Host<'static>,
    /// Speak LMTP (RFC 2033): LHLO instead of EHLO, one reply per accepted recipient after
    /// the body. Default off.
    pub lmtp: bool,
    /// When to use STARTTLS. Default [`TlsPolicy::Opportunistic`].
    pub tls: TlsPolicy,
    /// The connection is already TLS (implicit TLS, RFC 8314 section 3.3, port 465): no
    /// STARTTLS, and AUTH is allowed. Default off.
    pub implicit_tls: bool,
    /// Authenticate with these before sending mail. When set and authentication is not
    /// possible (AUTH not offered, no common mechanism, no TLS) the session ends. Default
    /// `None`.
    pub credentials: Option<Credentials>,
    /// SASL mechanisms to use, most preferred first. Default [`Mechanism::ALL`]:
    /// `SCRAM-SHA-256`, `OAUTHBEARER`, `XOAUTH2`, `PLAIN`, `LOGIN`.
    pub auth_mechanisms: Vec<Mechanism>,
    /// Authenticate without TLS. Default off: `PLAIN` and `LOGIN` would send the password in
    /// clear (RFC 4954 section 4, RFC 8314 section 3; docs/design.md security rule 3).
    pub allow_plaintext_auth: bool,
    /// Bounds on the SCRAM iteration count the server may ask for.
    pub scram: ScramClientConfig,
    /// Use `PIPELINING` (RFC 2920) when offered. Default on.
    pub pipelining: bool,
    /// Use `CHUNKING` (BDAT, RFC 3030) when offered. Default on.
    pub chunking: bool,
    /// Longest reply line accepted, CRLF included: 2048 octets (Postfix `line_length_limit`;
    /// RFC 5321 section 4.5.3.1.5 lets servers send 512). During AUTH the limit is at least
    /// 12288 (RFC 4954 section 4). A longer line ends the session.
    pub max_reply_line_len: usize,
    /// Most lines in one reply: [`ReplyParser::DEFAULT_MAX_LINES`] (100). RFC 5321 sets no
    /// limit; an EHLO reply of a well-known server has about 15 lines. More ends the session.
    pub max_reply_lines: usize,
    /// Reply deadlines.
    pub timeouts: Timeouts,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            hello_name: Host::Domain(Domain::from_parsed("localhost")),
            lmtp: false,
            tls: TlsPolicy::Opportunistic,
            implicit_tls: false,
            credentials: None,
            auth_mechanisms: Mechanism::ALL.to_vec(),
            allow_plaintext_auth: false,
            scram: ScramClientConfig::default(),
            pipelining: true,
            chunking: true,
            max_reply_line_len: 2048,
            max_reply_lines: ReplyParser::DEFAULT_MAX_LINES,
            timeouts: Timeouts::default(),
        }
    }
}

impl ClientConfig {
    /// Relaying to an MX, port 25: opportunistic TLS, no AUTH.
    pub fn relay(hello_name: Host<'static>) -> Self {
        ClientConfig {
            hello_name,
            ..ClientConfig::default()
        }
    }

    /// Submission, port 587 (RFC 6409): STARTTLS required, then AUTH.
    pub fn submission(hello_name: Host<'static>, credentials: Credentials) -> Self {
        ClientConfig {
            hello_name,
            tls: TlsPolicy::Required,
            credentials: Some(credentials),
            ..ClientConfig::default()
        }
    }

    /// Submission over implicit TLS, port 465 (RFC 8314): the driver connects with TLS, then
    /// AUTH.
    pub fn submissions(hello_name: Host<'static>, credentials: Credentials) -> Self {
        ClientConfig {
            implicit_tls: true,
            ..ClientConfig::submission(hello_name, credentials)
        }
    }

    /// Delivering to an LMTP server (RFC 2033), typically over a local socket.
    pub fn lmtp(hello_name: Host<'static>) -> Self {
        ClientConfig {
            hello_name,
            lmtp: true,
            tls: TlsPolicy::Never,
            ..ClientConfig::default()
        }
    }
}

/// One recipient of an [`Envelope`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recipient {
    /// The forward path.
    pub to: ForwardPath<'static>,
    /// Its parameters (DSN `NOTIFY=` and `ORCPT=`, RFC 3461).
    pub params: RcptParams<'static>,
}

impl Recipient {
    /// A recipient with no parameters.
    pub fn new(to: ForwardPath<'static>) -> Self {
        Recipient::with_params(to, RcptParams::default())
    }

    /// A recipient with parameters.
    pub fn with_params(to: ForwardPath<'static>, params: RcptParams<'static>) -> Self {
        Recipient { to, params }
    }
}

/// The envelope of one message: MAIL FROM with its parameters, and the recipients.
///
/// [`Client::send_message`] checks the parameters against what the server offers:
/// `SIZE=` is sent only when the server offers SIZE and refused when over its limit;
/// `BODY=8BITMIME` needs `8BITMIME`; `BODY=BINARYMIME` needs `BINARYMIME` and `CHUNKING`;
/// `SMTPUTF8` (added by itself when an address is not ASCII) needs `SMTPUTF8`; `RET=`,
/// `ENVID=`, `NOTIFY=` and `ORCPT=` need `DSN`; `REQUIRETLS` needs TLS and `REQUIRETLS`;
/// `AUTH=` needs `AUTH`. `BODY=7BIT` is dropped when `8BITMIME` is not offered (7BIT is the
/// default). Parameters this crate does not know are sent as given.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Envelope {
    /// The reverse path.
    pub from: ReversePath<'static>,
    /// The MAIL FROM parameters (SIZE, BODY, RET, ENVID, SMTPUTF8, REQUIRETLS, ...).
    pub params: MailParams<'static>,
    /// The recipients, in order; events refer to them by index.
    pub recipients: Vec<Recipient>,
}

impl Envelope {
    /// An envelope from `from` with no parameters and no recipients yet.
    pub fn new(from: ReversePath<'static>) -> Self {
        Envelope {
            from,
            params: MailParams::default(),
            recipients: Vec::new(),
        }
    }

    /// Adds a recipient without parameters.
    pub fn with_recipient(self, to: ForwardPath<'static>) -> Self {
        self.with_recipient_params(to, RcptParams::default())
    }

    /// Adds a recipient with parameters.
    pub fn with_recipient_params(
        mut self,
        to: ForwardPath<'static>,
        params: RcptParams<'static>,
    ) -> Self {
        self.recipients.push(Recipient::with_params(to, params));
        self
    }

    /// Sets the MAIL FROM parameters.
    pub fn with_params(mut self, params: MailParams<'static>) -> Self {
        self.params = params;
        self
    }

    /// Declares the message size in octets (`SIZE=`, RFC 1870).
    pub fn with_size(mut self, size: u64) -> Self {
        self.params.size = Some(size);
        self
    }

    /// Whether an address needs SMTPUTF8 (RFC 6531).
    fn is_utf8(&self) -> bool {
        let from = matches!(&self.from, ReversePath::Mailbox(m) if m.is_utf8());
        from || self
            .recipients
            .iter()
            .any(|r| matches!(&r.to, ForwardPath::Mailbox(m) if m.is_utf8()))
    }

    /// Whether any DSN parameter (RFC 3461) is set.
    fn uses_dsn(&self) -> bool {
        self.params.ret.is_some()
            || self.params.envid.is_some()
            || self
                .recipients
                .iter()
                .any(|r| r.params.notify.is_some() || r.params.orcpt.is_some())
    }
}

/// Why the server did not take a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// MAIL FROM was refused.
    Sender(Reply<'static>),
    /// Every RCPT TO was refused (each one's reply came as an [`Event::Recipient`]); the body
    /// was not sent.
    NoRecipients,
    /// DATA was refused (no `354`).
    Data(Reply<'static>),
    /// The body was refused: the reply to its end (SMTP), or to a BDAT chunk.
    Message(Reply<'static>),
}

impl Rejection {
    /// The server's reply, if the rejection has one.
    pub fn reply(&self) -> Option<&Reply<'static>> {
        match self {
            Rejection::Sender(r) | Rejection::Data(r) | Rejection::Message(r) => Some(r),
            Rejection::NoRecipients => None,
        }
    }
}

/// What the client was waiting for when a deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Awaiting {
    /// The `220` greeting.
    Greeting,
    /// The reply to EHLO, HELO or LHLO.
    Hello,
    /// The reply to STARTTLS.
    StartTls,
    /// A reply during AUTH.
    Auth,
    /// The reply to RSET.
    Rset,
    /// The reply to MAIL.
    Mail,
    /// The reply to RCPT.
    Rcpt,
    /// The reply to DATA.
    Data,
    /// The reply to a BDAT chunk that is not the last.
    Chunk,
    /// The reply to the end of the body. A message may have been delivered even so
    /// (RFC 5321 section 6.1 warns of duplicates).
    EndOfData,
    /// The reply to QUIT.
    Quit,
}

impl fmt::Display for Awaiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Awaiting::Greeting => "the greeting",
            Awaiting::Hello => "EHLO",
            Awaiting::StartTls => "STARTTLS",
            Awaiting::Auth => "AUTH",
            Awaiting::Rset => "RSET",
            Awaiting::Mail => "MAIL",
            Awaiting::Rcpt => "RCPT",
            Awaiting::Data => "DATA",
            Awaiting::Chunk => "a BDAT chunk",
            Awaiting::EndOfData => "the end of the message",
            Awaiting::Quit => "QUIT",
        })
    }
}

/// Something the application should act on or may want to know.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The server's `220` greeting.
    Greeting(Reply<'static>),
    /// The server answered EHLO or LHLO with these extensions (again after STARTTLS). After a
    /// HELO fallback they are empty but for the greeting line.
    Capabilities(Capabilities),
    /// The server accepted STARTTLS: write what [`Client::poll_transmit`] holds, do the TLS
    /// handshake now, then call [`Client::tls_established`]. Nothing may be fed before that.
    StartTls,
    /// AUTH succeeded (`235`) with this mechanism.
    Authenticated(Mechanism),
    /// The session is idle: call [`Client::send_message`] or [`Client::quit`].
    Ready,
    /// The reply to the RCPT TO of `recipients[index]`: accepted if positive. Reported only
    /// when MAIL FROM was accepted.
    Recipient {
        /// Index into [`Envelope::recipients`].
        index: usize,
        /// The server's reply.
        reply: Reply<'static>,
    },
    /// Send the body: [`Client::send_body`] while [`Client::can_send_body`], then
    /// [`Client::finish_body`]. Comes after `354` (DATA), or once every RCPT is answered and
    /// one was accepted (BDAT), and for BDAT without PIPELINING again after each chunk's
    /// reply.
    BodyReady,
    /// The server took the message (SMTP): the reply to the end of the body.
    MessageAccepted(Reply<'static>),
    /// The message failed; see [`Rejection`]. Stop sending its body.
    MessageRejected(Rejection),
    /// LMTP: the delivery status of one accepted recipient after the body (RFC 2033 section
    /// 4.2), in the order of the RCPT commands.
    Delivery {
        /// Index into [`Envelope::recipients`].
        index: usize,
        /// The server's reply for this recipient.
        reply: Reply<'static>,
    },
    /// The session is over: write what remains in [`Client::poll_transmit`] and close the
    /// connection. `Ok` after QUIT; a message whose outcome was not reported did not
    /// complete.
    Closed(Result<(), SessionError>),
}

/// Why a session ended early: what the server did, or a policy that forbade going on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The server closed the connection before QUIT ([`Client::handle_eof`]).
    #[error("the server closed the connection")]
    ConnectionClosed,
    /// `421`: the server is shutting the session down (RFC 5321 section 3.8).
    #[error("service not available: {}", show(.0))]
    ServiceUnavailable(Reply<'static>),
    /// The greeting was not `220` (typically `554`, RFC 5321 section 3.1).
    #[error("the server refused the session: {}", show(.0))]
    GreetingRejected(Reply<'static>),
    /// EHLO, HELO or LHLO was refused (EHLO with anything but `500` or `502`, which fall back
    /// to HELO; or EHLO with an address literal, which HELO cannot carry).
    #[error("the server refused the greeting command: {}", show(.0))]
    HelloRejected(Reply<'static>),
    /// [`TlsPolicy::Required`], and the server does not offer STARTTLS.
    #[error("TLS is required but the server does not offer STARTTLS")]
    TlsNotOffered,
    /// [`TlsPolicy::Required`], and the server refused STARTTLS.
    #[error("TLS is required but the server refused STARTTLS: {}", show(.0))]
    StartTlsRefused(Reply<'static>),
    /// Bytes arrived after the `220` reply to STARTTLS and before the handshake: someone
    /// injected them into the plaintext stream (RFC 3207 section 4.2, CVE-2021-38371 class).
    #[error("data received after the STARTTLS reply (response injection)")]
    StartTlsInjection,
    /// Credentials are configured, the connection is not TLS and
    /// [`ClientConfig::allow_plaintext_auth`] is off.
    #[error("refusing to authenticate without TLS")]
    AuthRequiresTls,
    /// Credentials are configured and the server does not offer AUTH.
    #[error("credentials are configured but the server does not offer AUTH")]
    AuthNotOffered,
    /// None of the mechanisms the server offers fits the credentials and
    /// [`ClientConfig::auth_mechanisms`].
    #[error("no usable SASL mechanism among those offered: {offered}")]
    NoCommonMechanism {
        /// The mechanisms the server offered.
        offered: AuthMechanisms,
    },
    /// The server refused the credentials (typically `535 5.7.8`).
    #[error("authentication with {mechanism} failed: {}", show(.reply))]
    AuthFailed {
        /// The mechanism used.
        mechanism: Mechanism,
        /// The server's reply.
        reply: Reply<'static>,
        /// The JSON error document a refused `XOAUTH2` or `OAUTHBEARER` token came with.
        server_error: Option<String>,
    },
    /// The SASL exchange failed on the client's side: a malformed challenge, a SCRAM server
    /// that could not prove it knows the password, or unusable credentials.
    #[error("SASL exchange failed: {0}")]
    Sasl(SaslError),
    /// A reply line longer than [`ClientConfig::max_reply_line_len`].
    #[error("reply line longer than {limit} octets")]
    ReplyTooLong {
        /// The limit in force, CRLF included.
        limit: usize,
    },
    /// A reply that does not parse, or has more than [`ClientConfig::max_reply_lines`] lines.
    #[error("malformed reply: {0}")]
    MalformedReply(ReplyError),
    /// A reply when none was expected, or one that makes no sense where it came (a failed
    /// RSET, `354` to an LMTP DATA with no recipient).
    #[error("unexpected reply: {}", show(.0))]
    UnexpectedReply(Reply<'static>),
    /// No reply before the deadline.
    #[error("timed out waiting for the reply to {0}")]
    Timeout(Awaiting),
}

/// A reply for error messages: code, enhanced code and the first line of text.
fn show(reply: &Reply<'_>) -> String {
    let text = String::from_utf8_lossy(reply.first_line());
    match reply.enhanced() {
        Some(enhanced) => format!("{} {enhanced} {text}", reply.code()),
        None => format!("{} {text}", reply.code()),
    }
}

/// Why the server cannot take an envelope. Nothing was sent; the session stays ready.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The envelope has no recipients.
    #[error("the envelope has no recipients")]
    NoRecipients,
    /// The declared size is over the server's `SIZE` limit (RFC 1870 section 6).
    #[error("the message size {size} exceeds the server's limit of {limit} octets")]
    TooLarge {
        /// The declared size.
        size: u64,
        /// The server's limit.
        limit: u64,
    },
    /// More recipients than the server's `LIMITS RCPTMAX` (RFC 9422 section 4.2): split the
    /// envelope.
    #[error("{count} recipients exceed the server's limit of {limit}")]
    TooManyRecipients {
        /// Recipients in the envelope.
        count: usize,
        /// The server's limit.
        limit: u64,
    },
    /// The envelope needs an extension the server does not offer (or, for `REQUIRETLS`, a
    /// session that is not TLS).
    #[error("the envelope needs {extension}, which the server does not offer")]
    NotOffered {
        /// The EHLO keyword: `SMTPUTF8`, `8BITMIME`, `BINARYMIME`, `CHUNKING`, `DSN`,
        /// `REQUIRETLS`, `AUTH`, or `EHLO` for unknown parameters in a HELO session.
        extension: &'static str,
    },
}

/// API misuse: a call that does not fit the session's state. The server cannot cause these,
/// except [`ClientError::Session`], which repeats why the session ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// [`Client::send_message`] before [`Event::Ready`].
    #[error("the session is not ready for a message")]
    NotReady,
    /// A body call with no body open (before [`Event::BodyReady`], after the end, or after
    /// [`Event::MessageRejected`]).
    #[error("no message body is open")]
    NoBody,
    /// A body call while the server has not answered the previous BDAT chunk (no
    /// PIPELINING): wait for [`Event::BodyReady`] ([`Client::can_send_body`]).
    #[error("the previous chunk has not been answered yet")]
    BodyNotReady,
    /// [`Client::tls_established`] without [`Event::StartTls`].
    #[error("no STARTTLS handshake is pending")]
    NoTlsPending,
    /// The server cannot take the envelope.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The session ended with QUIT.
    #[error("the session is closed")]
    Closed,
    /// The session ended with this error.
    #[error("the session failed: {0}")]
    Session(SessionError),
}

/// Which greeting command is outstanding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hello {
    Ehlo,
    Helo,
    Lhlo,
}

/// What an outstanding reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Greeting,
    Hello(Hello),
    StartTls,
    /// AUTH, or a SASL response line.
    Auth,
    /// The cancel line `*` after a failed SASL step.
    AuthCancel,
    Rset,
    Mail,
    Rcpt(usize),
    Data,
    /// A BDAT chunk that is not the last.
    Chunk,
    /// `.` or `BDAT ... LAST`: one reply, or in LMTP one per accepted recipient.
    EndOfData,
    Quit,
}

impl Expect {
    fn awaiting(self) -> Awaiting {
        match self {
            Expect::Greeting => Awaiting::Greeting,
            Expect::Hello(_) => Awaiting::Hello,
            Expect::StartTls => Awaiting::StartTls,
            Expect::Auth | Expect::AuthCancel => Awaiting::Auth,
            Expect::Rset => Awaiting::Rset,
            Expect::Mail => Awaiting::Mail,
            Expect::Rcpt(_) => Awaiting::Rcpt,
            Expect::Data => Awaiting::Data,
            Expect::Chunk => Awaiting::Chunk,
            Expect::EndOfData => Awaiting::EndOfData,
            Expect::Quit => Awaiting::Quit,
        }
    }

    fn timeout(self, t: &Timeouts) -> Duration {
        match self {
            Expect::Greeting => t.greeting,
            Expect::Mail => t.mail,
            Expect::Rcpt(_) => t.rcpt,
            Expect::Data => t.data_initiation,
            Expect::Chunk => t.data_block,
            Expect::EndOfData => t.data_termination,
            Expect::Hello(_)
            | Expect::StartTls
            | Expect::Auth
            | Expect::AuthCancel
            | Expect::Rset
            | Expect::Quit => t.command,
        }
    }

    /// Whether the reply belongs to a mail transaction.
    fn in_transaction(self) -> bool {
        matches!(
            self,
            Expect::Rset
                | Expect::Mail
                | Expect::Rcpt(_)
                | Expect::Data
                | Expect::Chunk
                | Expect::EndOfData
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the greeting, EHLO, STARTTLS or AUTH replies.
    Setup,
    /// `220` to STARTTLS received; waiting for [`Client::tls_established`].
    TlsHandshake,
    /// Idle between transactions.
    Ready,
    /// A mail transaction is open (`Client::txn`).
    Transaction,
    /// QUIT sent.
    Quitting,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quit {
    No,
    /// Send QUIT once the session is idle.
    Requested,
    Sent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transfer {
    Data,
    Bdat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyState {
    /// Not open yet (waiting for replies).
    Waiting,
    /// The application sends the body.
    Open,
    /// The end was sent, or the transaction failed.
    Closed,
}

/// An open mail transaction.
#[derive(Debug)]
struct Transaction {
    transfer: Transfer,
    recipients: usize,
    /// Indices of accepted recipients, in order.
    accepted: Vec<usize>,
    rcpt_replies: usize,
    sender_accepted: bool,
    /// The outcome was reported as a rejection; later replies of the group are swallowed.
    failed: bool,
    /// The final reply (or all LMTP replies) to the end of the body arrived.
    ended: bool,
    /// Lock-step mode: commands still to send, one per reply.
    unsent: VecDeque<(Expect, Bytes)>,
    /// DATA went out with the MAIL/RCPT group.
    data_pipelined: bool,
    body: BodyState,
    encoder: DotEncoder,
    /// BDAT chunks keep their octets (`BODY=BINARYMIME`); otherwise bare CR and LF become
    /// CRLF, as in DATA.
    binary: bool,
    /// BDAT without BINARYMIME: the last chunk ended in a CR whose partner is not known yet.
    held_cr: bool,
    chunks_in_flight: usize,
    /// LMTP replies to the end of the body received so far.
    deliveries: usize,
}

/// A running SASL exchange.
#[derive(Debug)]
struct AuthExchange {
    mechanism: Mechanism,
    session: ClientSession,
    /// An initial response too long for the AUTH line, sent after the first `334`.
    deferred: Option<Secret<Vec<u8>>>,
    /// Why the exchange was cancelled.
    error: Option<SaslError>,
}

/// One SMTP or LMTP client session; see the [module docs](self).
pub struct Client {
    config: ClientConfig,
    input: BytesMut,
    /// Octets of the current `feed` call not yet moved into `input` (it is framed in pieces):
    /// they follow whatever `input` ends with, so they count for the STARTTLS boundary.
    unfed: usize,
    output: BytesMut,
    framer: LineFramer,
    replies: ReplyParser,
    events: VecDeque<Event>,
    pending: VecDeque<Expect>,
    /// When the front of `pending` started waiting.
    since: Instant,
    phase: Phase,
    quit: Quit,
    tls: bool,
    esmtp: bool,
    capabilities: Option<Capabilities>,
    auth: Option<AuthExchange>,
    authenticated: Option<Mechanism>,
    txn: Option<Transaction>,
    /// The last transaction failed after MAIL was accepted: start the next one with RSET.
    needs_rset: bool,
    error: Option<SessionError>,
}

impl fmt::Debug for Client {
    // Buffers are left out: an AUTH line in the output carries credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("phase", &self.phase)
            .field("tls", &self.tls)
            .field("authenticated", &self.authenticated)
            .field("pending", &self.pending)
            .field("buffered_input", &self.input.len())
            .field("buffered_output", &self.output.len())
            .field("events", &self.events.len())
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts a session at `now`, on a connection just opened: the client waits for the
    /// greeting.
    pub fn new(config: ClientConfig, now: Instant) -> Self {
        let framer = LineFramer::new(config.max_reply_line_len).with_bare_lf(BareLf::Accept);
        let replies = ReplyParser::new(config.max_reply_lines);
        let tls = config.implicit_tls;
        Client {
            config,
            input: BytesMut::new(),
            unfed: 0,
            output: BytesMut::new(),
            framer,
            replies,
            events: VecDeque::new(),
            pending: VecDeque::from([Expect::Greeting]),
            since: now,
            phase: Phase::Setup,
            quit: Quit::No,
            tls,
            esmtp: false,
            capabilities: None,
            auth: None,
            authenticated: None,
            txn: None,
            needs_rset: false,
            error: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// What the server announced in its last EHLO or LHLO reply (empty after HELO); `None`
    /// before it, and between STARTTLS and the EHLO that follows the handshake.
    pub fn capabilities(&self) -> Option<&Capabilities> {
        self.capabilities.as_ref()
    }

    /// Whether the connection is TLS (implicit, or after STARTTLS).
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The mechanism the session authenticated with, if it did.
    pub fn authenticated(&self) -> Option<Mechanism> {
        self.authenticated
    }

    /// Whether [`Client::send_message`] may be called.
    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// Whether the machine processes input now: not during a STARTTLS hand-off (any byte then
    /// is an injection and ends the session) and not once closed. The client otherwise always
    /// reads, so that a server closing an idle connection is noticed.
    pub fn wants_input(&self) -> bool {
        !matches!(self.phase, Phase::Closed | Phase::TlsHandshake)
    }

    /// Whether the session is over ([`Event::Closed`] was queued).
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Why the session failed, once it has.
    pub fn error(&self) -> Option<&SessionError> {
        self.error.as_ref()
    }

    /// Takes bytes read from the server. Never fails: what the server does wrong comes out
    /// as events. Input is framed as it arrives, so at most one partial line stays buffered.
    pub fn feed(&mut self, now: Instant, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            match self.phase {
                Phase::Closed => break,
                Phase::TlsHandshake => {
                    self.abort(SessionError::StartTlsInjection);
                    break;
                }
                _ => {}
            }
            let (piece, tail) = rest.split_at(rest.len().min(FEED_CHUNK));
            self.input.extend_from_slice(piece);
            self.unfed = tail.len();
            self.process(now);
            rest = tail;
        }
        self.unfed = 0;
    }

    /// The server closed the connection (end of stream).
    pub fn handle_eof(&mut self) {
        match self.phase {
            Phase::Closed => {}
            Phase::Quitting => self.close(Ok(())),
            _ => self.abort(SessionError::ConnectionClosed),
        }
    }

    /// The next event, in order.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Bytes to write to the server, if any.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        (!self.output.is_empty()).then(|| self.output.split().freeze())
    }

    /// When [`Client::handle_timeout`] should be called: the deadline of the oldest
    /// outstanding reply, or `None` when none is outstanding.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase == Phase::Closed {
            return None;
        }
        let expect = self.pending.front()?;
        self.since
            .checked_add(expect.timeout(&self.config.timeouts))
    }

    /// Tells the machine the time; past the deadline the session ends with
    /// [`SessionError::Timeout`] (or cleanly, if only QUIT was unanswered).
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(deadline) = self.poll_timeout() else {
            return;
        };
        if now < deadline {
            return;
        }
        match self.pending.front().copied() {
            Some(Expect::Quit) => self.close(Ok(())),
            Some(expect) => self.abort(SessionError::Timeout(expect.awaiting())),
            None => {}
        }
    }

    /// The driver finished the TLS handshake after [`Event::StartTls`]. Everything learned
    /// before is forgotten and EHLO (LHLO) is sent again.
    ///
    /// # Errors
    ///
    /// [`ClientError::NoTlsPending`] without a preceding [`Event::StartTls`], or the error
    /// the session ended with.
    pub fn tls_established(&mut self, now: Instant) -> Result<(), ClientError> {
        self.check_open()?;
        if self.phase != Phase::TlsHandshake {
            return Err(ClientError::NoTlsPending);
        }
        self.tls = true;
        self.esmtp = false;
        self.capabilities = None;
        self.input.clear();
        self.framer.reset();
        self.replies = ReplyParser::new(self.config.max_reply_lines);
        self.phase = Phase::Setup;
        self.send_hello(now, self.first_hello());
        Ok(())
    }

    /// Starts a mail transaction. With PIPELINING, MAIL, the RCPTs and DATA go out at once.
    /// Each RCPT reply comes as [`Event::Recipient`]; then [`Event::BodyReady`] (or
    /// [`Event::MessageRejected`]).
    ///
    /// # Errors
    ///
    /// [`ClientError::Envelope`] if the server cannot take this envelope (nothing is sent and
    /// the session stays ready); [`ClientError::NotReady`] before [`Event::Ready`]; the
    /// session's error once it is closed.
    pub fn send_message(&mut self, now: Instant, envelope: Envelope) -> Result<(), ClientError> {
        self.check_open()?;
        if self.phase != Phase::Ready {
            return Err(ClientError::NotReady);
        }
        let (params, transfer) = self.check_envelope(&envelope)?;
        let pipelining = self.pipelining();

        let mut commands = VecDeque::with_capacity(envelope.recipients.len() + 3);
        if self.needs_rset {
            commands.push_back((Expect::Rset, encode(&Command::Rset)));
        }
        let Envelope {
            from, recipients, ..
        } = envelope;
        let binary = params.body == Some(Body::BinaryMime);
        commands.push_back((Expect::Mail, encode(&Command::Mail { from, params })));
        let count = recipients.len();
        for (index, Recipient { to, params }) in recipients.into_iter().enumerate() {
            commands.push_back((Expect::Rcpt(index), encode(&Command::Rcpt { to, params })));
        }
        let data_pipelined = pipelining && transfer == Transfer::Data;
        if data_pipelined {
            commands.push_back((Expect::Data, encode(&Command::Data)));
        }

        self.needs_rset = false;
        self.phase = Phase::Transaction;
        self.txn = Some(Transaction {
            transfer,
            recipients: count,
            accepted: Vec::new(),
            rcpt_replies: 0,
            sender_accepted: false,
            failed: false,
            ended: false,
            unsent: VecDeque::new(),
            data_pipelined,
            body: BodyState::Waiting,
            encoder: DotEncoder::normalizing(),
            binary,
            held_cr: false,
            chunks_in_flight: 0,
            deliveries: 0,
        });
        if pipelining {
            for (expect, line) in commands {
                self.send(now, expect, &line);
            }
        } else if let Some((expect, line)) = commands.pop_front() {
            self.send(now, expect, &line);
            if let Some(txn) = self.txn.as_mut() {
                txn.unsent = commands;
            }
        }
        Ok(())
    }

    /// Whether [`Client::send_body`] and [`Client::finish_body`] may be called now: a body is
    /// open and, for BDAT without PIPELINING, the previous chunk was answered.
    pub fn can_send_body(&self) -> bool {
        self.txn.as_ref().is_some_and(|txn| {
            txn.body == BodyState::Open
                && (txn.transfer == Transfer::Data
                    || txn.chunks_in_flight == 0
                    || self.pipelining())
        })
    }

    /// Sends the next piece of the body. Bare CR and LF become CRLF (RFC 5321 section 2.3.8),
    /// except in a `BODY=BINARYMIME` body (RFC 3030 section 3), which goes byte for byte. For
    /// DATA the piece is then dot-stuffed; for BDAT it becomes one `BDAT n` chunk (a piece
    /// that leaves nothing to send, empty or a final CR held back until the next piece shows
    /// whether an LF follows, sends nothing).
    ///
    /// # Errors
    ///
    /// [`ClientError::NoBody`] when no body is open, [`ClientError::BodyNotReady`] when the
    /// previous chunk is unanswered and the server does not pipeline; the session's error
    /// once it is closed.
    pub fn send_body(&mut self, now: Instant, chunk: &[u8]) -> Result<(), ClientError> {
        self.check_body()?;
        let Some(txn) = self.txn.as_mut() else {
            return Err(ClientError::NoBody);
        };
        match txn.transfer {
            Transfer::Data => txn.encoder.encode(chunk, &mut self.output),
            Transfer::Bdat if txn.binary => {
                if !chunk.is_empty() {
                    txn.chunks_in_flight += 1;
                    self.send_chunk(now, chunk, false);
                }
            }
            Transfer::Bdat => {
                let chunk = crlf_line_endings(chunk, &mut txn.held_cr, false);
                if !chunk.is_empty() {
                    txn.chunks_in_flight += 1;
                    self.send_chunk(now, &chunk, false);
                }
            }
        }
        Ok(())
    }

    /// Ends the body: `.` after DATA, `BDAT 0 LAST` after chunks. The outcome comes as
    /// [`Event::MessageAccepted`] or [`Event::MessageRejected`] (LMTP: [`Event::Delivery`]).
    ///
    /// # Errors
    ///
    /// As [`Client::send_body`].
    pub fn finish_body(&mut self, now: Instant) -> Result<(), ClientError> {
        self.finish_body_with(now, &[])
    }

    /// Sends `chunk` as the last piece of the body and ends it: for BDAT one `BDAT n LAST`
    /// (the whole message in one command when nothing was sent before).
    ///
    /// # Errors
    ///
    /// As [`Client::send_body`].
    pub fn finish_body_with(&mut self, now: Instant, chunk: &[u8]) -> Result<(), ClientError> {
        self.check_body()?;
        let Some(txn) = self.txn.as_mut() else {
            return Err(ClientError::NoBody);
        };
        txn.body = BodyState::Closed;
        match txn.transfer {
            Transfer::Data => {
                txn.encoder.encode(chunk, &mut self.output);
                txn.encoder.finish(&mut self.output);
                self.expect(now, Expect::EndOfData);
            }
            Transfer::Bdat if txn.binary => self.send_chunk(now, chunk, true),
            Transfer::Bdat => {
                let chunk = crlf_line_endings(chunk, &mut txn.held_cr, true);
                self.send_chunk(now, &chunk, true);
            }
        }
        Ok(())
    }

    /// Ends the session with QUIT, now if the session is idle, otherwise as soon as it is:
    /// after the current transaction (whose body you still finish) or setup. With PIPELINING,
    /// QUIT follows the end of a body at once (RFC 2920 section 3.1). The session closes on
    /// the `221` reply ([`Event::Closed`] with `Ok`).
    pub fn quit(&mut self, now: Instant) {
        if self.quit != Quit::No || self.phase == Phase::Closed {
            return;
        }
        let after_body = self.pipelining()
            && self.txn.as_ref().is_some_and(|txn| {
                !txn.failed && txn.body == BodyState::Closed && txn.chunks_in_flight == 0
            })
            && self.pending.back() == Some(&Expect::EndOfData);
        if self.phase == Phase::Ready || after_body {
            self.send_quit(now);
        } else {
            self.quit = Quit::Requested;
        }
    }

    // ---- input ----

    fn process(&mut self, now: Instant) {
        while matches!(
            self.phase,
            Phase::Setup | Phase::Ready | Phase::Transaction | Phase::Quitting
        ) {
            let Some(frame) = self.framer.next_frame(&mut self.input) else {
                break;
            };
            match frame {
                Frame::Line(line) => match self.replies.push_line(&line) {
                    Ok(Some(reply)) => self.on_reply(now, reply),
                    Ok(None) => {}
                    Err(error) => self.abort(SessionError::MalformedReply(error)),
                },
                Frame::TooLong { limit } => self.abort(SessionError::ReplyTooLong { limit }),
                // Bare LF is accepted as a line ending and `Unterminated` only comes from
                // `LineFramer::finish`; anything else is not a reply line.
                _ => self.abort(SessionError::MalformedReply(ReplyError::Syntax {
                    rule: "Reply-line",
                    line: 0,
                    offset: 0,
                })),
            }
        }
    }

    fn on_reply(&mut self, now: Instant, reply: Reply<'static>) {
        let Some(&expect) = self.pending.front() else {
            return self.abort(if reply.code().get() == 421 {
                SessionError::ServiceUnavailable(reply)
            } else {
                SessionError::UnexpectedReply(reply)
            });
        };
        if expect == Expect::Quit {
            return self.close(Ok(()));
        }
        if reply.code().get() == 421 {
            return self.abort(SessionError::ServiceUnavailable(reply));
        }
        if expect != Expect::EndOfData || self.end_replies_left() <= 1 {
            self.pending.pop_front();
        }
        self.since = now;
        match expect {
            Expect::Greeting => self.on_greeting(now, reply),
            Expect::Hello(hello) => self.on_hello(now, hello, reply),
            Expect::StartTls => self.on_starttls(now, reply),
            Expect::Auth => self.on_auth(now, reply),
            Expect::AuthCancel => {
                let error = self.auth.take().and_then(|a| a.error);
                self.give_up(SessionError::Sasl(
                    error.unwrap_or(SaslError::Misuse("the exchange was cancelled")),
                ));
            }
            Expect::Quit => {}
            _ => self.on_transaction_reply(now, expect, reply),
        }
    }

    fn on_greeting(&mut self, now: Instant, reply: Reply<'static>) {
        if reply.code().get() != 220 {
            return self.give_up(SessionError::GreetingRejected(reply));
        }
        self.events.push_back(Event::Greeting(reply));
        self.send_hello(now, self.first_hello());
    }

    fn on_hello(&mut self, now: Instant, hello: Hello, reply: Reply<'static>) {
        if reply.code().is_positive() {
            let capabilities = if hello == Hello::Helo {
                Capabilities {
                    greeting: reply.first_line().to_vec(),
                    ..Capabilities::default()
                }
            } else {
                read_capabilities(&reply)
            };
            self.esmtp = hello != Hello::Helo;
            self.events
                .push_back(Event::Capabilities(capabilities.clone()));
            self.capabilities = Some(capabilities);
            return self.after_hello(now);
        }
        // RFC 5321 section 3.2: a server that does not know EHLO answers 500 or 502.
        let fallback = hello == Hello::Ehlo && matches!(reply.code().get(), 500 | 502);
        match &self.config.hello_name {
            Host::Domain(domain) if fallback => {
                let line = encode(&Command::Helo(domain.clone()));
                self.send(now, Expect::Hello(Hello::Helo), &line);
            }
            // HELO takes a domain only (RFC 5321 section 4.1.1.1).
            _ => self.give_up(SessionError::HelloRejected(reply)),
        }
    }

    fn after_hello(&mut self, now: Instant) {
        let offered = self.capabilities.as_ref().is_some_and(|c| c.starttls);
        if !self.tls {
            match self.config.tls {
                TlsPolicy::Required if !offered => {
                    return self.give_up(SessionError::TlsNotOffered);
                }
                TlsPolicy::Required | TlsPolicy::Opportunistic if offered => {
                    let line = encode(&Command::StartTls);
                    return self.send(now, Expect::StartTls, &line);
                }
                _ => {}
            }
        }
        self.start_auth(now);
    }

    fn on_starttls(&mut self, now: Instant, reply: Reply<'static>) {
        if reply.code().get() == 220 {
            // RFC 3207 section 4.2: nothing may follow the reply before the handshake, in what
            // is buffered or in the rest of the read being fed.
            if !self.input.is_empty() || self.unfed > 0 {
                return self.abort(SessionError::StartTlsInjection);
            }
            self.phase = Phase::TlsHandshake;
            self.events.push_back(Event::StartTls);
        } else if self.config.tls == TlsPolicy::Required {
            self.give_up(SessionError::StartTlsRefused(reply));
        } else {
            // Opportunistic: carry on in plaintext with what EHLO said.
            self.start_auth(now);
        }
    }

    fn start_auth(&mut self, now: Instant) {
        let Some(credentials) = &self.config.credentials else {
            return self.idle(now);
        };
        if !self.tls && !self.config.allow_plaintext_auth {
            return self.give_up(SessionError::AuthRequiresTls);
        }
        let Some(offered) = self.capabilities.as_ref().and_then(|c| c.auth.as_ref()) else {
            return self.give_up(SessionError::AuthNotOffered);
        };
        let chosen = self
            .config
            .auth_mechanisms
            .iter()
            .copied()
            .find(|&m| credentials.supports(m) && offered.offers(m));
        let Some(mechanism) = chosen else {
            let offered = offered.clone();
            return self.give_up(SessionError::NoCommonMechanism { offered });
        };
        let started = credentials
            .session(mechanism, &self.config.scram)
            .and_then(|mut session| {
                let initial = if mechanism.client_first() {
                    session.initial_response()?
                } else {
                    None
                };
                Ok((session, initial))
            });
        let (session, initial) = match started {
            Ok(started) => started,
            Err(error) => return self.give_up(SessionError::Sasl(error)),
        };

        let name = command::Mechanism::from_parsed(mechanism.name().into());
        let encoded = initial
            .as_ref()
            .map(|ir| framing::encode_initial_response(ir.expose()));
        // "AUTH " name SP initial-response CRLF must fit the command line (RFC 4954 section 4).
        let fits = encoded.as_ref().is_some_and(|text| {
            7 + name.as_str().len() + text.expose().len() + 2 <= COMMAND_LINE_LIMIT
        });
        let line = encode(&Command::Auth {
            mechanism: name,
            initial_response: encoded
                .as_ref()
                .filter(|_| fits)
                .map(|text| InitialResponse::from_parsed(text.expose())),
        });
        self.auth = Some(AuthExchange {
            mechanism,
            session,
            deferred: if fits { None } else { initial },
            error: None,
        });
        self.framer
            .set_max_len(self.config.max_reply_line_len.max(SASL_LINE_LIMIT));
        self.send(now, Expect::Auth, &line);
    }

    fn on_auth(&mut self, now: Instant, reply: Reply<'static>) {
        let Some(auth) = self.auth.as_mut() else {
            return self.abort(SessionError::UnexpectedReply(reply));
        };
        match reply.code().get() {
            334 => {
                let response = match auth.deferred.take() {
                    Some(initial) => Ok(initial),
                    None => match reply.lines().len() {
                        1 => framing::decode_challenge(reply.first_line())
                            .and_then(|challenge| auth.session.step(&challenge)),
                        _ => Err(SaslError::Malformed {
                            mechanism: auth.mechanism,
                            reason: "challenge of more than one line",
                        }),
                    },
                };
                match response {
                    Ok(response) => {
                        let mut line = BytesMut::from(
                            framing::encode_response(response.expose())
                                .expose()
                                .as_bytes(),
                        );
                        line.extend_from_slice(b"\r\n");
                        self.send(now, Expect::Auth, &line);
                    }
                    Err(error) => {
                        // RFC 4954 section 4: cancel with "*"; the server answers 501.
                        auth.error = Some(error);
                        let mut line = BytesMut::from(framing::CANCEL);
                        line.extend_from_slice(b"\r\n");
                        self.send(now, Expect::AuthCancel, &line);
                    }
                }
            }
            235 => {
                let mechanism = auth.mechanism;
                if let Err(error) = auth.session.finish(None) {
                    return self.give_up(SessionError::Sasl(error));
                }
                self.auth = None;
                self.authenticated = Some(mechanism);
                self.framer.set_max_len(self.config.max_reply_line_len);
                self.events.push_back(Event::Authenticated(mechanism));
                self.idle(now);
            }
            _ => {
                let error = SessionError::AuthFailed {
                    mechanism: auth.mechanism,
                    server_error: auth.session.server_error().map(str::to_owned),
                    reply,
                };
                self.give_up(error);
            }
        }
    }

    fn on_transaction_reply(&mut self, now: Instant, expect: Expect, reply: Reply<'static>) {
        let lmtp = self.config.lmtp;
        let pipelining = self.pipelining();
        let Some(txn) = self.txn.as_mut() else {
            return self.abort(SessionError::UnexpectedReply(reply));
        };
        let positive = reply.code().is_positive();
        match expect {
            Expect::Rset if !positive => {
                // RFC 5321 section 4.1.1.5: RSET always succeeds; the state is unknown.
                return self.give_up(SessionError::UnexpectedReply(reply));
            }
            Expect::Rset => self.send_next(now),
            Expect::Mail if positive => {
                txn.sender_accepted = true;
                self.send_next(now);
            }
            Expect::Mail => self.reject(Rejection::Sender(reply)),
            Expect::Rcpt(index) => {
                txn.rcpt_replies += 1;
                if txn.failed {
                    // MAIL was refused: these replies say nothing about the recipients.
                } else {
                    if positive {
                        txn.accepted.push(index);
                    }
                    self.events.push_back(Event::Recipient { index, reply });
                    if txn.rcpt_replies == txn.recipients {
                        self.envelope_done(now);
                    } else {
                        self.send_next(now);
                    }
                }
            }
            Expect::Data if reply.code().get() == 354 => {
                if !txn.failed {
                    txn.body = BodyState::Open;
                    self.events.push_back(Event::BodyReady);
                } else if lmtp {
                    // RFC 2033 section 4.2 requires 503 here; without recipients the number
                    // of replies to the end of the data is unknown, and the server now reads
                    // a body, so not even QUIT can be sent.
                    return self.abort(SessionError::UnexpectedReply(reply));
                } else {
                    // RFC 2920 section 3.1: DATA was pipelined and accepted although the
                    // transaction failed; end the (empty) message so the server replies.
                    self.output.extend_from_slice(b".\r\n");
                    self.expect(now, Expect::EndOfData);
                }
            }
            Expect::Data => {
                if !txn.failed {
                    self.reject(Rejection::Data(reply));
                }
            }
            Expect::Chunk => {
                txn.chunks_in_flight -= 1;
                if !positive && !txn.failed {
                    self.reject(Rejection::Message(reply));
                } else if positive && !pipelining && txn.body == BodyState::Open {
                    self.events.push_back(Event::BodyReady);
                }
            }
            Expect::EndOfData => {
                if txn.failed {
                    txn.ended = true;
                } else if lmtp {
                    let index = txn.accepted.get(txn.deliveries).copied().unwrap_or(0);
                    txn.deliveries += 1;
                    txn.ended = txn.deliveries >= txn.accepted.len();
                    self.events.push_back(Event::Delivery { index, reply });
                } else {
                    txn.ended = true;
                    self.events.push_back(if positive {
                        Event::MessageAccepted(reply)
                    } else {
                        Event::MessageRejected(Rejection::Message(reply))
                    });
                }
            }
            _ => return self.abort(SessionError::UnexpectedReply(reply)),
        }
        self.maybe_end_transaction(now);
    }

    /// Every RCPT was answered.
    fn envelope_done(&mut self, now: Instant) {
        let Some(txn) = self.txn.as_mut() else {
            return;
        };
        if txn.accepted.is_empty() {
            return self.reject(Rejection::NoRecipients);
        }
        match txn.transfer {
            // RFC 3030 section 2: the chunks follow once MAIL and RCPT replies are in.
            Transfer::Bdat => {
                txn.body = BodyState::Open;
                self.events.push_back(Event::BodyReady);
            }
            Transfer::Data if !txn.data_pipelined => {
                let line = encode(&Command::Data);
                self.send(now, Expect::Data, &line);
            }
            Transfer::Data => {}
        }
    }

    /// Reports the transaction as failed; its remaining replies are swallowed.
    fn reject(&mut self, rejection: Rejection) {
        if let Some(txn) = self.txn.as_mut() {
            txn.failed = true;
            txn.unsent.clear();
            txn.body = BodyState::Closed;
        }
        self.events.push_back(Event::MessageRejected(rejection));
    }

    /// Closes the transaction once it is over and none of its replies is outstanding.
    fn maybe_end_transaction(&mut self, now: Instant) {
        let Some(txn) = &self.txn else {
            return;
        };
        let outstanding = self.pending.iter().any(|e| e.in_transaction());
        if outstanding || !(txn.failed || txn.ended) {
            return;
        }
        // After a failure the server may still hold the transaction (RFC 5321 section 4.1.1.5;
        // RFC 3030 section 2 after a refused chunk); the reply to the end of data closes it.
        self.needs_rset = txn.sender_accepted && !txn.ended;
        self.txn = None;
        self.idle(now);
    }

    /// Remaining replies to the end of the body, this one included.
    fn end_replies_left(&self) -> usize {
        match &self.txn {
            Some(txn) if self.config.lmtp && !txn.failed => {
                txn.accepted.len().saturating_sub(txn.deliveries)
            }
            _ => 1,
        }
    }

    // ---- output ----

    fn first_hello(&self) -> Hello {
        if self.config.lmtp {
            Hello::Lhlo
        } else {
            Hello::Ehlo
        }
    }

    fn send_hello(&mut self, now: Instant, hello: Hello) {
        let host = self.config.hello_name.clone();
        let command = match hello {
            Hello::Lhlo => Command::Lhlo(host),
            _ => Command::Ehlo(host),
        };
        self.send(now, Expect::Hello(hello), &encode(&command));
    }

    fn send_chunk(&mut self, now: Instant, chunk: &[u8], last: bool) {
        let size = chunk.len() as u64;
        let line = encode(&Command::Bdat { size, last });
        self.output.extend_from_slice(&line);
        self.output.extend_from_slice(chunk);
        self.expect(
            now,
            if last {
                Expect::EndOfData
            } else {
                Expect::Chunk
            },
        );
    }

    fn send_quit(&mut self, now: Instant) {
        self.quit = Quit::Sent;
        if self.phase == Phase::Ready {
            self.phase = Phase::Quitting;
        }
        self.send(now, Expect::Quit, &encode(&Command::Quit));
    }

    /// Lock-step mode: sends the next command of the transaction.
    fn send_next(&mut self, now: Instant) {
        if let Some((expect, line)) = self.txn.as_mut().and_then(|t| t.unsent.pop_front()) {
            self.send(now, expect, &line);
        }
    }

    fn send(&mut self, now: Instant, expect: Expect, line: &[u8]) {
        self.output.extend_from_slice(line);
        self.expect(now, expect);
    }

    /// Waits for a reply to what was just written.
    fn expect(&mut self, now: Instant, expect: Expect) {
        if self.pending.is_empty() {
            self.since = now;
        }
        self.pending.push_back(expect);
    }

    /// The session is idle: ready for a message, or leaving.
    fn idle(&mut self, now: Instant) {
        match self.quit {
            Quit::Sent => self.phase = Phase::Quitting,
            Quit::Requested => {
                self.phase = Phase::Ready;
                self.send_quit(now);
            }
            Quit::No => {
                self.phase = Phase::Ready;
                self.events.push_back(Event::Ready);
            }
        }
    }

    /// Ends the session politely: the stream is in step, so QUIT is sent (not waited for).
    fn give_up(&mut self, error: SessionError) {
        self.output.extend_from_slice(&encode(&Command::Quit));
        self.close(Err(error));
    }

    /// Ends the session without another word: the server is gone or cannot be trusted.
    fn abort(&mut self, error: SessionError) {
        self.close(Err(error));
    }

    fn close(&mut self, result: Result<(), SessionError>) {
        self.phase = Phase::Closed;
        self.pending.clear();
        self.input.clear();
        self.txn = None;
        self.auth = None;
        if let Err(error) = &result {
            self.error = Some(error.clone());
        }
        self.events.push_back(Event::Closed(result));
    }

    // ---- checks ----

    fn pipelining(&self) -> bool {
        self.config.pipelining && self.capabilities.as_ref().is_some_and(|c| c.pipelining)
    }

    fn check_open(&self) -> Result<(), ClientError> {
        if self.phase != Phase::Closed {
            return Ok(());
        }
        Err(match &self.error {
            Some(error) => ClientError::Session(error.clone()),
            None => ClientError::Closed,
        })
    }

    fn check_body(&self) -> Result<(), ClientError> {
        self.check_open()?;
        match &self.txn {
            Some(txn) if txn.body == BodyState::Open => {
                if self.can_send_body() {
                    Ok(())
                } else {
                    Err(ClientError::BodyNotReady)
                }
            }
            _ => Err(ClientError::NoBody),
        }
    }

    /// Checks the envelope against the server's extensions; returns the MAIL parameters to
    /// send and how the body will go.
    fn check_envelope(
        &self,
        envelope: &Envelope,
    ) -> Result<(MailParams<'static>, Transfer), EnvelopeError> {
        fn require(offered: bool, extension: &'static str) -> Result<(), EnvelopeError> {
            if offered {
                Ok(())
            } else {
                Err(EnvelopeError::NotOffered { extension })
            }
        }

        let none = Capabilities::default();
        let caps = self.capabilities.as_ref().unwrap_or(&none);
        if envelope.recipients.is_empty() {
            return Err(EnvelopeError::NoRecipients);
        }
        if let Some(limit) = caps.limit("RCPTMAX").filter(|&l| l > 0) {
            let count = envelope.recipients.len();
            if count as u64 > limit {
                return Err(EnvelopeError::TooManyRecipients { count, limit });
            }
        }
        let mut params = envelope.params.clone();
        match (params.size, caps.size) {
            (Some(size), Some(Some(limit))) if size > limit => {
                return Err(EnvelopeError::TooLarge { size, limit });
            }
            (Some(_), None) => params.size = None,
            _ => {}
        }
        let chunking = self.config.chunking && caps.chunking;
        match params.body {
            Some(Body::SevenBit) if !caps.eight_bit_mime => params.body = None,
            Some(Body::EightBitMime) => require(caps.eight_bit_mime, "8BITMIME")?,
            Some(Body::BinaryMime) => {
                require(caps.binary_mime, "BINARYMIME")?;
                require(chunking, "CHUNKING")?;
            }
            _ => {}
        }
        if params.smtputf8 || envelope.is_utf8() {
            require(caps.smtputf8, "SMTPUTF8")?;
            params.smtputf8 = true;
        }
        if params.requiretls {
            require(self.tls && caps.requiretls, "REQUIRETLS")?;
        }
        if envelope.uses_dsn() {
            require(caps.dsn, "DSN")?;
        }
        if params.auth.is_some() {
            require(caps.auth.is_some(), "AUTH")?;
        }
        let unknown = !params.unknown.is_empty()
            || envelope
                .recipients
                .iter()
                .any(|r| !r.params.unknown.is_empty());
        if unknown {
            require(self.esmtp, "EHLO")?;
        }
        let transfer = if chunking {
            Transfer::Bdat
        } else {
            Transfer::Data
        };
        Ok((params, transfer))
    }
}

/// `chunk` with every bare CR and bare LF turned into CRLF (RFC 5321 section 2.3.8), for a
/// BDAT body that is not BINARYMIME. A CR at the end of a chunk that is not the last is held
/// back in `held_cr` until the next chunk shows whether an LF follows it.
fn crlf_line_endings(chunk: &[u8], held_cr: &mut bool, last: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunk.len() + 2);
    let mut rest = chunk;
    if *held_cr {
        match rest.first() {
            None if !last => return out,
            Some(b'\n') => rest = &rest[1..],
            _ => {}
        }
        out.extend_from_slice(b"\r\n");
        *held_cr = false;
    }
    while let Some(at) = memchr::memchr2(b'\r', b'\n', rest) {
        out.extend_from_slice(&rest[..at]);
        match (rest[at], rest.get(at + 1)) {
            (b'\r', Some(b'\n')) => rest = &rest[at + 2..],
            (b'\r', None) if !last => {
                *held_cr = true;
                return out;
            }
            _ => rest = &rest[at + 1..],
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(rest);
    out
}

/// Reads an EHLO or LHLO reply, ignoring lines the codec cannot read (`SIZE` without a number,
/// `LIMITS` without values, control characters) as Postfix ignores what it does not
/// understand: one odd line must not make a server unreachable. Ignoring a line only ever
/// removes an extension, so a garbled `STARTTLS` under [`TlsPolicy::Required`] still ends
/// the session.
fn read_capabilities(reply: &Reply<'_>) -> Capabilities {
    crate::parse::ehlo::capabilities(reply, true).unwrap_or_else(|_| Capabilities {
        greeting: reply.first_line().to_vec(),
        ..Capabilities::default()
    })
}

/// A command line, ready to write.
fn encode(command: &Command<'_>) -> Bytes {
    let mut line = BytesMut::new();
    command.encode(&mut line);
    line.freeze()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::crlf_line_endings;

    /// The line endings of `body` made CRLF in one pass, octet by octet.
    fn reference(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < body.len() {
            match body[i] {
                b'\r' if body.get(i + 1) == Some(&b'\n') => i += 1,
                b'\r' | b'\n' => {}
                octet => {
                    out.push(octet);
                    i += 1;
                    continue;
                }
            }
            out.extend_from_slice(b"\r\n");
            i += 1;
        }
        out
    }

    proptest! {
        /// However the body is cut into chunks, the chunks together are the body with CRLF
        /// line endings, with no bare CR or LF left.
        #[test]
        fn chunked_line_endings_match_the_whole(
            body in prop::collection::vec(prop::sample::select(b"a.\r\n".to_vec()), 0..64),
            cuts in prop::collection::vec(0usize..64, 0..6),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(body.len())).collect();
            cuts.sort_unstable();
            let mut held = false;
            let mut out = Vec::new();
            let mut start = 0;
            for cut in cuts {
                out.extend(crlf_line_endings(&body[start..cut], &mut held, false));
                start = cut;
            }
            out.extend(crlf_line_endings(&body[start..], &mut held, true));
            prop_assert!(!held);
            prop_assert_eq!(&out, &reference(&body));
            let bare = out.windows(2).any(|w| (w[0] == b'\r') != (w[1] == b'\n'))
                || out.first() == Some(&b'\n')
                || out.last() == Some(&b'\r');
            prop_assert!(!bare, "{:?}", out);
        }
    }
}
