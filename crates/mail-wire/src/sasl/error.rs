//! [`SaslError`]: every way a SASL exchange can fail.

use super::{Mechanism, ScramServerError};

/// Why a SASL step failed.
///
/// Errors fall into three groups, and the variant tells which:
///
/// - **The peer misbehaved or failed**: [`Cancelled`](Self::Cancelled),
///   [`InvalidBase64`](Self::InvalidBase64), [`TooLong`](Self::TooLong),
///   [`Malformed`](Self::Malformed), [`AuthenticationFailed`](Self::AuthenticationFailed),
///   [`AuthorizationDenied`](Self::AuthorizationDenied) and the SCRAM-specific variants. A
///   server answers these with its protocol's failure reply (for example SMTP `501` for a
///   cancel or a malformed response, `535` for bad credentials, RFC 4954 section 6); a client
///   cancels the exchange (sends `*`) if the server is still waiting for a response.
/// - **The application passed unusable input**: [`InvalidNonce`](Self::InvalidNonce),
///   [`InvalidCredentials`](Self::InvalidCredentials),
///   [`UnknownMechanism`](Self::UnknownMechanism).
/// - **The application called a session out of order**: [`Misuse`](Self::Misuse). This is a
///   bug in the caller and is never caused by the peer.
///
/// Once a session has failed, every later call on it returns the same error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaslError {
    /// The client cancelled the exchange with a `*` line (RFC 4422 section 3.5,
    /// RFC 4954 section 4).
    #[error("the client cancelled the authentication exchange")]
    Cancelled,

    /// A challenge or response line is not valid base64 (RFC 4648 section 4, with padding).
    #[error("invalid base64 in a SASL line at byte {offset}")]
    InvalidBase64 {
        /// Offset of the first offending byte, or the line length when the line is truncated.
        offset: usize,
    },

    /// A message is longer than this crate accepts ([`MAX_MESSAGE_LEN`](super::MAX_MESSAGE_LEN)
    /// decoded bytes).
    #[error("SASL message of {len} bytes exceeds the limit of {limit} bytes")]
    TooLong {
        /// Length of the offending message (encoded length for a base64 line).
        len: usize,
        /// The limit that was exceeded, in the same unit.
        limit: usize,
    },

    /// A message does not follow the mechanism's grammar.
    #[error("malformed {mechanism} message: {reason}")]
    Malformed {
        /// The mechanism whose grammar was violated.
        mechanism: Mechanism,
        /// What was wrong, for logs; not meant to be matched on.
        reason: &'static str,
    },

    /// The credentials are wrong: bad password, bad token, unknown user or a SCRAM proof that
    /// does not verify.
    #[error("authentication failed")]
    AuthenticationFailed,

    /// The credentials are right, but the authentication identity may not act as the requested
    /// authorization identity ([`Authenticator::authorize`](super::Authenticator::authorize)).
    #[error("the authenticated user may not act as the requested authorization identity")]
    AuthorizationDenied,

    /// The client asked for channel binding (`p=` in the GS2 header, RFC 5802 section 6).
    /// This crate has no access to the TLS layer and so no channel-binding data, and does not
    /// offer the `-PLUS` mechanisms.
    #[error("channel binding was requested but is not supported")]
    ChannelBindingUnsupported,

    /// The peer sent a SCRAM mandatory extension (`m=`, RFC 5802 section 5.1), which this
    /// implementation does not support and so must refuse.
    #[error("the peer requires an unsupported SCRAM extension")]
    UnsupportedExtension,

    /// The SCRAM nonce from the peer does not extend or repeat the expected nonce
    /// (RFC 5802 section 5.1, attribute `r`).
    #[error("the SCRAM nonce does not match")]
    NonceMismatch,

    /// The server's SCRAM iteration count is outside the range the client accepts. A count
    /// below the floor may be a downgrade by a hostile server (RFC 7677 section 4); a count
    /// above the ceiling would make the client burn CPU for the server.
    #[error("SCRAM iteration count {count} is outside the accepted range {min}..={max}")]
    IterationCount {
        /// The count the server announced.
        count: u32,
        /// The configured minimum.
        min: u32,
        /// The configured maximum.
        max: u32,
    },

    /// The server's SCRAM signature (`v=`) is wrong: the server does not know the user's
    /// keys, so it must not be trusted (RFC 5802 section 9).
    #[error("the SCRAM server signature does not verify")]
    ServerSignatureMismatch,

    /// The server reported success before proving its identity with a SCRAM server signature.
    #[error("the server reported success without a SCRAM server signature")]
    MissingServerSignature,

    /// The SCRAM server ended the exchange with an error (`e=`, RFC 5802 section 7).
    #[error("the SCRAM server reported an error: {0}")]
    ServerError(ScramServerError),

    /// A nonce supplied by the application is not usable: RFC 5802 nonces are printable ASCII
    /// without `,`; this crate also requires [`Nonce::MIN_LEN`](super::Nonce::MIN_LEN) to
    /// [`Nonce::MAX_LEN`](super::Nonce::MAX_LEN) characters.
    #[error("invalid SCRAM nonce: {reason}")]
    InvalidNonce {
        /// What was wrong.
        reason: &'static str,
    },

    /// Credentials supplied by the application cannot be expressed in the mechanism (for
    /// example a NUL in a PLAIN password, or a password that SASLprep rejects).
    #[error("invalid credentials for {mechanism}: {reason}")]
    InvalidCredentials {
        /// The mechanism the credentials were meant for.
        mechanism: Mechanism,
        /// What was wrong.
        reason: &'static str,
    },

    /// The name is not one of the mechanisms this crate implements.
    #[error("unknown or unsupported SASL mechanism")]
    UnknownMechanism,

    /// The session was called out of order (for example a step after the exchange ended).
    #[error("SASL session misuse: {0}")]
    Misuse(&'static str),
}

impl SaslError {
    /// Shorthand for [`SaslError::Malformed`].
    pub(crate) const fn malformed(mechanism: Mechanism, reason: &'static str) -> Self {
        SaslError::Malformed { mechanism, reason }
    }

    /// Shorthand for [`SaslError::InvalidCredentials`].
    pub(crate) const fn credentials(mechanism: Mechanism, reason: &'static str) -> Self {
        SaslError::InvalidCredentials { mechanism, reason }
    }
}
