//! SCRAM-SHA-256 (RFC 7677, RFC 5802) without channel binding.
//!
//! ```text
//! C: n,,n=user,r=<client nonce>                          client-first-message
//! S: r=<client nonce><server nonce>,s=<salt>,i=<count>   server-first-message
//! C: c=biws,r=<nonce>,p=<ClientProof>                    client-final-message
//! S: v=<ServerSignature>                                 server-final-message
//! ```
//!
//! Channel binding (`p=` in the GS2 header, and the `SCRAM-SHA-256-PLUS` mechanism) is not
//! supported: this crate never sees the TLS layer, so it has no binding data. A server refuses
//! `p=` with [`SaslError::ChannelBindingUnsupported`]; a client always sends `n`.
//!
//! Passwords go through SASLprep (RFC 4013) before hashing, as RFC 5802 section 5.1 requires,
//! with the `stringprep` crate: non-ASCII spaces map to SPACE, soft hyphens and other
//! "mapped to nothing" characters are dropped, the result is NFKC-normalised, and passwords
//! with prohibited characters (controls, private use, unassigned code points, invalid
//! bidirectional text) are refused. For printable ASCII passwords SASLprep is the identity.
//! Usernames are prepared the same way by the client and by the server.

mod client;
mod credentials;
mod crypto;
mod message;
mod nonce;
mod server;

use core::fmt;
use std::borrow::Cow;

pub(crate) use client::ScramClient;
pub use client::ScramClientConfig;
pub use credentials::ScramCredentials;
pub use nonce::Nonce;
pub(crate) use server::ScramServer;

/// The error a SCRAM server reports in its final message (`e=`, RFC 5802 section 7).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScramServerError {
    /// `invalid-encoding`
    InvalidEncoding,
    /// `extensions-not-supported`
    ExtensionsNotSupported,
    /// `invalid-proof`: the password is wrong.
    InvalidProof,
    /// `channel-bindings-dont-match`
    ChannelBindingsDontMatch,
    /// `server-does-support-channel-binding`
    ServerDoesSupportChannelBinding,
    /// `channel-binding-not-supported`
    ChannelBindingNotSupported,
    /// `unsupported-channel-binding-type`
    UnsupportedChannelBindingType,
    /// `unknown-user`
    UnknownUser,
    /// `invalid-username-encoding`
    InvalidUsernameEncoding,
    /// `no-resources`
    NoResources,
    /// `other-error`
    OtherError,
    /// A value this crate does not know (`server-error-value-ext`), as sent.
    Other(String),
}

impl ScramServerError {
    const KNOWN: [(&'static str, ScramServerError); 11] = [
        ("invalid-encoding", ScramServerError::InvalidEncoding),
        (
            "extensions-not-supported",
            ScramServerError::ExtensionsNotSupported,
        ),
        ("invalid-proof", ScramServerError::InvalidProof),
        (
            "channel-bindings-dont-match",
            ScramServerError::ChannelBindingsDontMatch,
        ),
        (
            "server-does-support-channel-binding",
            ScramServerError::ServerDoesSupportChannelBinding,
        ),
        (
            "channel-binding-not-supported",
            ScramServerError::ChannelBindingNotSupported,
        ),
        (
            "unsupported-channel-binding-type",
            ScramServerError::UnsupportedChannelBindingType,
        ),
        ("unknown-user", ScramServerError::UnknownUser),
        (
            "invalid-username-encoding",
            ScramServerError::InvalidUsernameEncoding,
        ),
        ("no-resources", ScramServerError::NoResources),
        ("other-error", ScramServerError::OtherError),
    ];

    /// Parses the value of `e=`.
    pub fn from_value(value: &str) -> Self {
        Self::KNOWN
            .into_iter()
            .find_map(|(name, err)| (name == value).then_some(err))
            .unwrap_or_else(|| ScramServerError::Other(value.to_owned()))
    }

    /// The value as it appears after `e=`.
    pub fn as_str(&self) -> &str {
        match self {
            ScramServerError::Other(value) => value,
            known => Self::KNOWN
                .iter()
                .find_map(|(name, err)| (err == known).then_some(*name))
                .unwrap_or("other-error"),
        }
    }
}

impl fmt::Display for ScramServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SASLprep (RFC 4013) for stored strings; `None` if the string is refused or prepares to
/// nothing.
fn saslprep(text: &str) -> Option<Cow<'_, str>> {
    stringprep::saslprep(text)
        .ok()
        .filter(|prepared| !prepared.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_error_values_round_trip() {
        for (name, err) in ScramServerError::KNOWN {
            assert_eq!(ScramServerError::from_value(name), err);
            assert_eq!(err.as_str(), name);
            assert_eq!(err.to_string(), name);
        }
        let other = ScramServerError::from_value("try-later");
        assert_eq!(other, ScramServerError::Other("try-later".into()));
        assert_eq!(other.as_str(), "try-later");
    }

    #[test]
    fn rfc4013_examples() {
        // RFC 4013 section 3.
        assert_eq!(saslprep("I\u{ad}X").as_deref(), Some("IX"));
        assert_eq!(saslprep("user").as_deref(), Some("user"));
        assert_eq!(saslprep("USER").as_deref(), Some("USER"));
        assert_eq!(saslprep("\u{aa}").as_deref(), Some("a"));
        assert_eq!(saslprep("\u{2168}").as_deref(), Some("IX"));
        assert_eq!(saslprep("\u{7}"), None);
        assert_eq!(saslprep("\u{627}\u{31}"), None);
        // Empty input and input that maps to nothing are refused.
        assert_eq!(saslprep(""), None);
        assert_eq!(saslprep("\u{ad}"), None);
    }
}
