//! `XOAUTH2`, the pre-standard OAuth 2.0 mechanism of Gmail and Outlook.com, as Google's
//! "OAuth 2.0 Mechanism" page for IMAP and SMTP specifies it:
//!
//! ```text
//! initial client response = "user=" {User} "^Aauth=Bearer " {Access Token} "^A^A"
//! ```
//!
//! On failure the server sends a JSON challenge, which the client answers with an empty
//! response before the server's failure reply.

use super::bearer::{BearerMessage, is_b64token, parse_auth_value};
use super::{Mechanism, SaslError};
use crate::Secret;

const MECH: Mechanism = Mechanism::XOAuth2;

/// The challenge a server sends when the token is refused.
pub(crate) const ERROR_CHALLENGE: &[u8] = br#"{"status":"401","schemes":"bearer"}"#;

/// The client's answer to the error challenge: the empty response.
pub(crate) const ACK: &[u8] = b"";

/// Builds the client message.
pub(crate) fn encode(user: &str, token: &Secret<String>) -> Result<Secret<Vec<u8>>, SaslError> {
    if user.is_empty() || user.contains(['\x01', '\0']) {
        return Err(SaslError::credentials(
            MECH,
            "the user is empty or contains ^A or NUL",
        ));
    }
    if !is_b64token(token.expose().as_bytes()) {
        return Err(SaslError::credentials(
            MECH,
            "the token is not a b64token (RFC 6750)",
        ));
    }
    Ok(Secret::new(
        format!("user={user}\x01auth=Bearer {}\x01\x01", token.expose()).into_bytes(),
    ))
}

/// Parses the client message.
pub(crate) fn parse(message: &[u8]) -> Result<BearerMessage, SaslError> {
    let malformed = |reason| SaslError::malformed(MECH, reason);
    let mut fields = message.split(|&b| b == 0x01);
    let (Some(user), Some(auth), Some([]), Some([]), None) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Err(malformed("expected user=...^Aauth=...^A^A"));
    };
    let user = user
        .strip_prefix(b"user=")
        .filter(|user| !user.is_empty() && !user.contains(&0))
        .ok_or_else(|| malformed("expected a non-empty user= first"))?;
    let user = String::from_utf8(user.to_vec()).map_err(|_| malformed("the user is not UTF-8"))?;
    let auth = auth
        .strip_prefix(b"auth=")
        .ok_or_else(|| malformed("expected auth= after the user"))?;
    Ok(BearerMessage {
        user: Some(user),
        token: parse_auth_value(MECH, auth)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example on Google's page, decoded.
    const GOOGLE_EXAMPLE: &[u8] = b"user=someuser@example.com\x01\
auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01";

    #[test]
    fn google_documentation_format() {
        let token = Secret::new(String::from(
            "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg",
        ));
        let message = encode("someuser@example.com", &token).unwrap();
        assert_eq!(message.expose().as_slice(), GOOGLE_EXAMPLE);
        let parsed = parse(GOOGLE_EXAMPLE).unwrap();
        assert_eq!(parsed.user.as_deref(), Some("someuser@example.com"));
        assert_eq!(parsed.token, token);
    }

    #[test]
    fn malformed_messages() {
        for bad in [
            &b""[..],
            b"user=a\x01auth=Bearer t\x01",
            b"user=a\x01auth=Bearer t\x01\x01\x01",
            b"user=\x01auth=Bearer t\x01\x01",
            b"auth=Bearer t\x01user=a\x01\x01",
            b"user=a\x01auth=Basic t\x01\x01",
            b"user=a\x01auth=Bearer \x01\x01",
            b"user=a\x01host=x\x01auth=Bearer t\x01\x01",
            b"user=\xff\x01auth=Bearer t\x01\x01",
        ] {
            assert!(
                matches!(parse(bad), Err(SaslError::Malformed { .. })),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn unencodable_credentials() {
        let token = Secret::new(String::from("tok"));
        assert!(encode("", &token).is_err());
        assert!(encode("a\x01b", &token).is_err());
        assert!(encode("a", &Secret::new("to ken".into())).is_err());
        assert!(encode("a", &Secret::new(String::new())).is_err());
    }
}
