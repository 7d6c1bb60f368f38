//! `OAUTHBEARER` (RFC 7628 section 3.1).
//!
//! ```text
//! kvsep          = %x01
//! key            = 1*(ALPHA)
//! value          = *(VCHAR / SP / HTAB / CR / LF )
//! kvpair         = key "=" value kvsep
//! client-resp    = (gs2-header kvsep *kvpair kvsep) / kvsep
//! ```
//!
//! The `auth` pair is required; `host`, `port` and any other pair are accepted and ignored
//! by the server. Channel binding (`p=`) is refused, as for SCRAM.

use super::bearer::{BearerMessage, is_b64token, parse_auth_value};
use super::{Mechanism, SaslError, gs2};
use crate::Secret;

const MECH: Mechanism = Mechanism::OAuthBearer;

const KVSEP: u8 = 0x01;

/// The challenge a server sends when the token is refused (RFC 7628 section 3.2.2, with
/// the `invalid_token` status of RFC 6750 section 3.1).
pub(crate) const ERROR_CHALLENGE: &[u8] = br#"{"status":"invalid_token"}"#;

/// The client's answer to the error challenge: "a single %x01 (control A) character"
/// (RFC 7628 section 3.2.3).
pub(crate) const ACK: &[u8] = &[KVSEP];

/// Builds the client message.
pub(crate) fn encode(
    authzid: Option<&str>,
    host: Option<&str>,
    port: Option<u16>,
    token: &Secret<String>,
) -> Result<Secret<Vec<u8>>, SaslError> {
    let invalid = |reason| SaslError::credentials(MECH, reason);
    if authzid.is_some_and(|authzid| authzid.is_empty() || authzid.contains('\0')) {
        return Err(invalid("the authzid is empty or contains NUL"));
    }
    if host.is_some_and(|host| host.is_empty() || !host.bytes().all(|b| b.is_ascii_graphic())) {
        return Err(invalid("the host is empty or not printable ASCII"));
    }
    if !is_b64token(token.expose().as_bytes()) {
        return Err(invalid("the token is not a b64token (RFC 6750)"));
    }
    let mut message = gs2::encode(authzid);
    message.push('\x01');
    if let Some(host) = host {
        message.push_str(&format!("host={host}\x01"));
    }
    if let Some(port) = port {
        message.push_str(&format!("port={port}\x01"));
    }
    message.push_str(&format!("auth=Bearer {}\x01\x01", token.expose()));
    Ok(Secret::new(message.into_bytes()))
}

/// Parses the client message.
pub(crate) fn parse(message: &[u8]) -> Result<BearerMessage, SaslError> {
    let malformed = |reason| SaslError::malformed(MECH, reason);
    let header = gs2::parse(MECH, message)?;
    let pairs = message
        .get(header.len..)
        .and_then(|rest| rest.strip_prefix(&[KVSEP]))
        .and_then(|rest| rest.strip_suffix(&[KVSEP]))
        .ok_or_else(|| malformed("expected ^A after the GS2 header and ^A at the end"))?;
    let mut token = None;
    // Every pair ends with its own kvsep, so the last element of the split is empty.
    let mut pairs = pairs.split(|&b| b == KVSEP);
    if pairs.next_back() != Some(&[]) {
        return Err(malformed("a key/value pair is not terminated by ^A"));
    }
    for pair in pairs {
        let eq =
            memchr::memchr(b'=', pair).ok_or_else(|| malformed("key/value pair without '='"))?;
        let (key, value) = (&pair[..eq], &pair[eq + 1..]);
        if key.is_empty() || !key.iter().all(u8::is_ascii_alphabetic) {
            return Err(malformed("key is not 1*ALPHA"));
        }
        if !value
            .iter()
            .all(|&b| b.is_ascii_graphic() || b" \t\r\n".contains(&b))
        {
            return Err(malformed("value is not VCHAR / SP / HTAB / CR / LF"));
        }
        if key == b"auth" {
            if token.is_some() {
                return Err(malformed("auth appears twice"));
            }
            token = Some(parse_auth_value(MECH, value)?);
        }
    }
    Ok(BearerMessage {
        user: header.authzid,
        token: token.ok_or_else(|| malformed("no auth key/value pair"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7628 section 4.1, decoded.
    const RFC7628_4_1: &[u8] = b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01\
auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01";

    #[test]
    fn rfc7628_example_encodes_and_parses() {
        let token = Secret::new(String::from("vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="));
        let message = encode(
            Some("user@example.com"),
            Some("server.example.com"),
            Some(143),
            &token,
        )
        .unwrap();
        assert_eq!(message.expose().as_slice(), RFC7628_4_1);
        let parsed = parse(RFC7628_4_1).unwrap();
        assert_eq!(parsed.user.as_deref(), Some("user@example.com"));
        assert_eq!(parsed.token, token);
    }

    #[test]
    fn minimal_message_without_authzid() {
        let token = Secret::new(String::from("abc"));
        let message = encode(None, None, None, &token).unwrap();
        assert_eq!(
            message.expose().as_slice(),
            b"n,,\x01auth=Bearer abc\x01\x01"
        );
        let parsed = parse(message.expose()).unwrap();
        assert_eq!(parsed.user, None);
        assert_eq!(parsed.token, token);
        let escaped = encode(Some("a,b=c"), None, None, &token).unwrap();
        assert_eq!(
            parse(escaped.expose()).unwrap().user.as_deref(),
            Some("a,b=c")
        );
    }

    #[test]
    fn malformed_messages() {
        for bad in [
            &b""[..],
            b"\x01",
            b"n,,",
            b"n,,\x01\x01",
            b"n,,\x01auth=Bearer abc\x01",
            b"n,,\x01auth=Bearer abc",
            b"n,,auth=Bearer abc\x01\x01",
            b"n,,\x01auth=Bearer abc\x01auth=Bearer abc\x01\x01",
            b"n,,\x01host=x\x01\x01",
            b"n,,\x01auth=Bearer abc\x01\x01\x01",
            b"n,,\x01h0st=x\x01auth=Bearer abc\x01\x01",
            b"n,,\x01host\x01auth=Bearer abc\x01\x01",
            b"n,,\x01host=\x7f\x01auth=Bearer abc\x01\x01",
            b"n,,\x01=x\x01auth=Bearer abc\x01\x01",
            b"n,,\x01auth=Basic abc\x01\x01",
        ] {
            assert!(
                matches!(parse(bad), Err(SaslError::Malformed { .. })),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            parse(b"p=tls-unique,,\x01auth=Bearer abc\x01\x01").unwrap_err(),
            SaslError::ChannelBindingUnsupported
        );
    }
}
