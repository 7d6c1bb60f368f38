//! [`ClientConfig`]: TLS policy, credentials and limits, each with its default and source.

use std::fmt;
use std::time::Duration;

use mail_wire::Secret;
use mail_wire::sasl::Nonce;

use crate::response::MAX_RESPONSE_LINE;

/// Whether to use `STLS` (RFC 2595) on a connection that is not TLS from the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsPolicy {
    /// Never send `STLS`.
    Never,
    /// Send `STLS` when `CAPA` offers it; otherwise go on in plaintext, reported by
    /// [`Event::PlaintextFallback`](super::Event::PlaintextFallback). Credentials are still
    /// not sent in plaintext unless [`ClientConfig::allow_plaintext_auth`] says so.
    Opportunistic,
    /// Send `STLS` and end the session if it is not offered or is refused (security rule
    /// 3.2, RFC 8314): never falls back. The default.
    #[default]
    Required,
}

/// The user name and password to log in with.
#[derive(Clone)]
pub struct Credentials {
    pub(super) user: String,
    pub(super) password: Secret<String>,
    pub(super) scram_nonce: Option<Nonce>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &self.password)
            .field("scram", &self.scram_nonce.is_some())
            .finish()
    }
}

impl Credentials {
    /// A user name and its password: sent with SASL `PLAIN` when the server offers it
    /// (RFC 5034), otherwise with `USER` and `PASS`.
    pub fn password(user: impl Into<String>, password: Secret<String>) -> Self {
        Credentials {
            user: user.into(),
            password,
            scram_nonce: None,
        }
    }

    /// Prefers `SCRAM-SHA-256` (RFC 7677) when the server offers it, with this client nonce:
    /// fresh random data for this session (the machine draws no random numbers). The
    /// password then never crosses the wire, and the server proves it knows the user's keys.
    pub fn with_scram_nonce(mut self, nonce: Nonce) -> Self {
        self.scram_nonce = Some(nonce);
        self
    }
}

/// The client's configuration. `#[non_exhaustive]`: start from [`ClientConfig::new`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The credentials.
    pub credentials: Credentials,
    /// STLS policy. Default [`TlsPolicy::Required`].
    pub tls: TlsPolicy,
    /// The connection is TLS from the first byte (port 995). Default `false`.
    pub implicit_tls: bool,
    /// Send credentials over a connection without TLS (security rule 3.3). Default `false`.
    pub allow_plaintext_auth: bool,
    /// How long to wait for each response: 10 minutes (the server's autologout timer is at
    /// least that, RFC 1939 section 3).
    pub response_timeout: Duration,
    /// Longest response line, including CRLF: 512 (RFC 2449 section 4). A `+ ` SASL
    /// challenge may be longer. Message content is not bound by it.
    pub max_response_line: usize,
}

impl ClientConfig {
    /// Port 110 with required STLS.
    pub fn new(credentials: Credentials) -> Self {
        ClientConfig {
            credentials,
            tls: TlsPolicy::Required,
            implicit_tls: false,
            allow_plaintext_auth: false,
            response_timeout: Duration::from_secs(600),
            max_response_line: MAX_RESPONSE_LINE,
        }
    }

    /// Port 995: implicit TLS.
    pub fn pop3s(credentials: Credentials) -> Self {
        ClientConfig {
            implicit_tls: true,
            ..ClientConfig::new(credentials)
        }
    }
}
