//! Error types.

use std::path::PathBuf;
use std::time::Duration;

use crate::boundary::Direction;
use crate::mismatch::Mismatch;

/// Which file a certificate or key error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileRole {
    /// A PEM certificate chain (end-entity certificate first).
    CertificateChain,
    /// A PEM private key (PKCS#8, PKCS#1 or SEC1).
    PrivateKey,
    /// A PEM bundle of trust anchors (root certificates).
    RootCertificates,
}

impl std::fmt::Display for FileRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::CertificateChain => "certificate chain",
            Self::PrivateKey => "private key",
            Self::RootCertificates => "root certificates",
        })
    }
}

/// Why a client configured for opportunistic TLS continues in plaintext, or why a client
/// configured to require TLS aborts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DowngradeReason {
    /// The server did not advertise STARTTLS (SMTP `EHLO`, IMAP `CAPABILITY`) or STLS (POP3
    /// `CAPA`).
    CapabilityMissing,
    /// The server answered the STARTTLS/STLS command with an error; the reply text is kept.
    CommandRejected(String),
    /// An IMAP server greeted with `* PREAUTH`, which leaves no chance to start TLS
    /// (RFC 9051 section 7.1.4: the client must close the connection if it requires TLS).
    ImapPreauth,
    /// The TLS handshake after STARTTLS failed; the message is kept.
    HandshakeFailed(String),
}

impl std::fmt::Display for DowngradeReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::CapabilityMissing => f.write_str("the server does not advertise STARTTLS/STLS"),
            Self::CommandRejected(reply) => {
                write!(f, "the server rejected STARTTLS/STLS: {reply:?}")
            }
            Self::ImapPreauth => f.write_str("the IMAP server greeted with PREAUTH"),
            Self::HandshakeFailed(msg) => write!(f, "the TLS handshake failed: {msg}"),
        }
    }
}

/// Everything that can go wrong in this crate.
///
/// The type is `Clone + PartialEq` so that a session can keep its fatal error and return it
/// again; I/O errors are kept as their [`std::io::ErrorKind`] and message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A certificate or key file does not exist.
    #[error("{role} file {path:?} does not exist")]
    FileNotFound {
        /// What the file should contain.
        role: FileRole,
        /// The path as given.
        path: PathBuf,
    },
    /// A certificate or key file exists but could not be read.
    #[error("cannot read {role} file {path:?}: {message}")]
    FileUnreadable {
        /// What the file should contain.
        role: FileRole,
        /// The path as given.
        path: PathBuf,
        /// The kind of the underlying I/O error.
        kind: std::io::ErrorKind,
        /// The underlying I/O error as text.
        message: String,
    },
    /// A file is not valid PEM.
    #[error("{role} file {path:?} is not valid PEM: {message}")]
    Pem {
        /// What the file should contain.
        role: FileRole,
        /// The path as given.
        path: PathBuf,
        /// What the PEM parser reported.
        message: String,
    },
    /// A PEM file holds no item of the expected type (for example a key file given as the
    /// certificate chain).
    #[error("{role} file {path:?} contains no {role} (expected PEM {expected})")]
    NothingFound {
        /// What the file should contain.
        role: FileRole,
        /// The path as given.
        path: PathBuf,
        /// The PEM labels that would have been accepted.
        expected: &'static str,
    },
    /// The private key could not be used for signing (unsupported algorithm or corrupt key).
    #[error("private key {path:?} cannot be used: {message}")]
    UnusableKey {
        /// The key file, or `"<memory>"` when the key did not come from a file.
        path: PathBuf,
        /// What rustls reported.
        message: String,
    },
    /// The private key does not belong to the end-entity certificate.
    #[error(
        "private key {key_path:?} does not match the certificate {cert_path:?} \
         (subject {subject}): the certificate and key files are from different pairs"
    )]
    KeyMismatch {
        /// The certificate chain file.
        cert_path: PathBuf,
        /// The key file.
        key_path: PathBuf,
        /// The end-entity certificate's subject.
        subject: String,
    },
    /// The end-entity certificate's validity period ended.
    #[error("certificate {subject} in {path:?} expired on {not_after}; renew it")]
    CertificateExpired {
        /// The certificate file.
        path: PathBuf,
        /// The certificate's subject.
        subject: String,
        /// The `notAfter` time, formatted as UTC.
        not_after: String,
    },
    /// The end-entity certificate's validity period has not started yet.
    #[error("certificate {subject} in {path:?} is not valid before {not_before} (check the clock)")]
    CertificateNotYetValid {
        /// The certificate file.
        path: PathBuf,
        /// The certificate's subject.
        subject: String,
        /// The `notBefore` time, formatted as UTC.
        not_before: String,
    },
    /// A certificate is not well-formed DER X.509.
    #[error("malformed certificate: {0}")]
    MalformedCertificate(String),
    /// A host name is not valid for SNI or certificate lookup.
    #[error("invalid server name {0:?}")]
    InvalidServerName(String),
    /// Building a rustls configuration or verifier failed.
    #[error("TLS configuration error: {0}")]
    Config(String),
    /// Bytes were buffered at the STARTTLS boundary: the session must close.
    ///
    /// Inbound bytes arrived after the STARTTLS/STLS command (server side) or after the
    /// server's reply to it (client side), in plaintext, and would otherwise be processed as if
    /// they had been protected by TLS: this is the command injection of CVE-2011-0411 and its
    /// response-injection twin. Outbound bytes are our own output not yet flushed; sending
    /// them now would leak them in plaintext or corrupt the handshake.
    #[error(
        "STARTTLS injection: {len} {direction} byte(s) buffered at the TLS boundary \
         (first bytes: {preview}); closing the session"
    )]
    StartTlsInjection {
        /// Which buffer held the bytes.
        direction: Direction,
        /// How many bytes were buffered.
        len: usize,
        /// The first bytes, escaped for logs (at most 32 bytes of input).
        preview: String,
    },
    /// The peer uses the other TLS mode (implicit TLS vs plaintext/STARTTLS).
    #[error("{0}")]
    ModeMismatch(Mismatch),
    /// The TLS policy requires TLS and the server cannot provide it: the session must close.
    #[error("TLS is required but {0}; refusing to continue in plaintext")]
    TlsRequired(DowngradeReason),
    /// The TLS handshake did not finish in time.
    #[error("TLS handshake timed out after {after:?}{}", hint.as_deref().map(|h| format!(": {h}")).unwrap_or_default())]
    HandshakeTimeout {
        /// The configured limit.
        after: Duration,
        /// A diagnosis, when the peer's behaviour suggests one.
        hint: Option<String>,
    },
    /// The TLS handshake failed.
    #[error("TLS handshake failed: {message}")]
    Handshake {
        /// The kind of the underlying I/O error.
        kind: std::io::ErrorKind,
        /// The underlying error as text (rustls errors included).
        message: String,
    },
    /// Generating a development certificate failed.
    #[error("development certificate: {0}")]
    DevCertificate(String),
}

impl TlsError {
    pub(crate) fn from_rustls(err: rustls::Error) -> Self {
        Self::Config(err.to_string())
    }
}

impl From<TlsError> for std::io::Error {
    fn from(err: TlsError) -> Self {
        let kind = match &err {
            TlsError::FileNotFound { .. } => std::io::ErrorKind::NotFound,
            TlsError::FileUnreadable { kind, .. } | TlsError::Handshake { kind, .. } => *kind,
            TlsError::HandshakeTimeout { .. } => std::io::ErrorKind::TimedOut,
            TlsError::StartTlsInjection { .. } | TlsError::ModeMismatch(_) => {
                std::io::ErrorKind::InvalidData
            }
            TlsError::TlsRequired(_) => std::io::ErrorKind::ConnectionAborted,
            _ => std::io::ErrorKind::InvalidInput,
        };
        std::io::Error::new(kind, err)
    }
}
