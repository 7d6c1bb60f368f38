//! What the client is told before it starts: [`ClientConfig`] with its [`TlsPolicy`],
//! [`Timeouts`] and [`Credentials`], and the fixed limits the machine applies on its own.
//!
//! Every limit and timeout here says where its value comes from (an RFC section, or the
//! server software whose behaviour it follows).

use std::time::Duration;

use mail_wire::Secret;
use mail_wire::sasl::{ClientSession, Mechanism, Nonce, SaslError, ScramClientConfig};

use crate::reply::ReplyParser;
use crate::types::{Domain, Host};

/// Longest command line the client sends with an AUTH initial response: 512 octets including
/// CRLF (RFC 5321 section 4.5.3.1.4). A longer initial response waits for the server's empty
/// challenge instead (RFC 4954 section 4).
pub(super) const COMMAND_LINE_LIMIT: usize = 512;

/// Longest reply line accepted while a SASL exchange runs: 12288 octets, the AUTH line limit of
/// RFC 4954 section 4 (bearer-token errors and SCRAM messages can exceed 512 octets).
pub(super) const SASL_LINE_LIMIT: usize = 12288;

/// How much fed input is framed at a time, so a large read never sits in the buffer whole
/// (docs/design.md security rule 5, bounded everything). A choice of this crate, not an RFC
/// value: large enough that framing costs little per call.
pub(super) const FEED_CHUNK: usize = 4096;

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

    pub(super) fn session(
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
