//! Parsers for the four SCRAM messages (RFC 5802 section 7). Encoding is a handful of
//! `format!` calls in the client and server, next to the state that feeds them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::ScramServerError;
use super::crypto::Key;
use super::nonce::is_nonce;
use crate::sasl::{Mechanism, SaslError, gs2};

fn malformed(reason: &'static str) -> SaslError {
    SaslError::malformed(Mechanism::ScramSha256, reason)
}

/// `client-first-message = gs2-header client-first-message-bare`
#[derive(Debug)]
pub(crate) struct ClientFirst<'a> {
    /// The GS2 header as sent, which the client must repeat (base64) in `c=`.
    pub(crate) gs2_header: &'a [u8],
    pub(crate) authzid: Option<String>,
    /// `client-first-message-bare`, the first part of the AuthMessage.
    pub(crate) bare: &'a [u8],
    /// The username, unescaped but not yet SASLprep-ed.
    pub(crate) username: String,
    pub(crate) nonce: &'a str,
}

/// ```text
/// client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
/// ```
pub(crate) fn parse_client_first(message: &[u8]) -> Result<ClientFirst<'_>, SaslError> {
    let header = gs2::parse(Mechanism::ScramSha256, message)?;
    let (gs2_header, bare) = message
        .split_at_checked(header.len)
        .ok_or_else(|| malformed("truncated GS2 header"))?;
    let mut parts = bare.split(|&b| b == b',');
    let first = parts.next();
    reject_mandatory_extension(first)?;
    let username = attribute(first, b'n', "expected the username (n=)")?;
    let username = gs2::unescape_saslname(Mechanism::ScramSha256, username)?;
    let nonce = nonce(attribute(
        parts.next(),
        b'r',
        "expected the client nonce (r=)",
    )?)?;
    check_extensions(parts)?;
    Ok(ClientFirst {
        gs2_header,
        authzid: header.authzid,
        bare,
        username,
        nonce,
    })
}

/// `server-first-message`
#[derive(Debug)]
pub(crate) struct ServerFirst<'a> {
    pub(crate) nonce: &'a str,
    pub(crate) salt: Vec<u8>,
    pub(crate) iterations: u32,
}

/// ```text
/// server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions]
/// ```
pub(crate) fn parse_server_first(message: &[u8]) -> Result<ServerFirst<'_>, SaslError> {
    let mut parts = message.split(|&b| b == b',');
    let first = parts.next();
    reject_mandatory_extension(first)?;
    let nonce = nonce(attribute(first, b'r', "expected the nonce (r=)")?)?;
    let salt = base64(attribute(parts.next(), b's', "expected the salt (s=)")?)?;
    if salt.is_empty() {
        return Err(malformed("empty salt"));
    }
    let iterations = positive_number(attribute(
        parts.next(),
        b'i',
        "expected the iteration count (i=)",
    )?)?;
    check_extensions(parts)?;
    Ok(ServerFirst {
        nonce,
        salt,
        iterations,
    })
}

/// `client-final-message`
#[derive(Debug)]
pub(crate) struct ClientFinal<'a> {
    /// The value of `c=`, still base64.
    pub(crate) channel_binding: &'a [u8],
    pub(crate) nonce: &'a [u8],
    /// `client-final-message-without-proof`, the last part of the AuthMessage.
    pub(crate) without_proof: &'a [u8],
    pub(crate) proof: Key,
}

/// ```text
/// client-final-message-without-proof = channel-binding "," nonce ["," extensions]
/// client-final-message = client-final-message-without-proof "," proof
/// ```
pub(crate) fn parse_client_final(message: &[u8]) -> Result<ClientFinal<'_>, SaslError> {
    let comma =
        memchr::memrchr(b',', message).ok_or_else(|| malformed("expected c=, r= and p="))?;
    let (without_proof, proof) = (&message[..comma], &message[comma + 1..]);
    let proof = key(attribute(
        Some(proof),
        b'p',
        "expected the proof (p=) last",
    )?)?;
    let mut parts = without_proof.split(|&b| b == b',');
    let channel_binding = attribute(parts.next(), b'c', "expected the channel binding (c=)")?;
    let nonce = attribute(parts.next(), b'r', "expected the nonce (r=)")?;
    check_extensions(parts)?;
    Ok(ClientFinal {
        channel_binding,
        nonce,
        without_proof,
        proof,
    })
}

/// `server-final-message`
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ServerFinal {
    /// `v=`: the ServerSignature.
    Verifier(Key),
    /// `e=`: the server refused the exchange.
    Error(ScramServerError),
}

/// ```text
/// server-final-message = (server-error / verifier) ["," extensions]
/// ```
pub(crate) fn parse_server_final(message: &[u8]) -> Result<ServerFinal, SaslError> {
    let mut parts = message.split(|&b| b == b',');
    let result = match parts.next() {
        Some([b'e', b'=', value @ ..]) => {
            let value = core::str::from_utf8(value)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| malformed("invalid server error value (e=)"))?;
            ServerFinal::Error(ScramServerError::from_value(value))
        }
        Some([b'v', b'=', verifier @ ..]) => ServerFinal::Verifier(key(verifier)?),
        _ => {
            return Err(malformed(
                "expected the server signature (v=) or an error (e=)",
            ));
        }
    };
    check_extensions(parts)?;
    Ok(result)
}

/// Returns the value of `part` if it is `name=value`.
fn attribute<'a>(
    part: Option<&'a [u8]>,
    name: u8,
    missing: &'static str,
) -> Result<&'a [u8], SaslError> {
    match part {
        Some([attr, b'=', value @ ..]) if *attr == name => Ok(value),
        _ => Err(malformed(missing)),
    }
}

/// `reserved-mext = "m=" 1*(value-char)`: RFC 5802 section 5.1 reserves `m` for future
/// mandatory extensions, whose presence must make the other end fail the authentication.
fn reject_mandatory_extension(part: Option<&[u8]>) -> Result<(), SaslError> {
    match part {
        Some([b'm', b'=', ..]) => Err(SaslError::UnsupportedExtension),
        _ => Ok(()),
    }
}

/// `extensions = attr-val *("," attr-val)` with `attr-val = ALPHA "=" value`: unknown
/// optional extensions are ignored, but must be well formed.
fn check_extensions<'a>(parts: impl Iterator<Item = &'a [u8]>) -> Result<(), SaslError> {
    for part in parts {
        match part {
            [b'm', b'=', ..] => return Err(SaslError::UnsupportedExtension),
            [attr, b'=', ..] if attr.is_ascii_alphabetic() => {}
            _ => return Err(malformed("trailing data is not an attribute")),
        }
    }
    Ok(())
}

/// `nonce = "r=" c-nonce [s-nonce]`, both `printable`.
fn nonce(value: &[u8]) -> Result<&str, SaslError> {
    if !is_nonce(value) {
        return Err(malformed("nonce is empty or not printable"));
    }
    core::str::from_utf8(value).map_err(|_| malformed("nonce is not ASCII"))
}

/// `posit-number = %x31-39 *DIGIT`, which must fit a `u32`.
fn positive_number(value: &[u8]) -> Result<u32, SaslError> {
    match value {
        [b'1'..=b'9', rest @ ..] if rest.iter().all(u8::is_ascii_digit) => {
            core::str::from_utf8(value)
                .ok()
                .and_then(|digits| digits.parse().ok())
                .ok_or_else(|| malformed("iteration count is too large"))
        }
        _ => Err(malformed("iteration count is not a positive number")),
    }
}

fn base64(value: &[u8]) -> Result<Vec<u8>, SaslError> {
    STANDARD
        .decode(value)
        .map_err(|_| malformed("invalid base64 in an attribute"))
}

/// A base64 value that must decode to exactly one SHA-256 output.
fn key(value: &[u8]) -> Result<Key, SaslError> {
    let bytes = base64(value)?;
    Key::try_from(bytes.as_slice()).map_err(|_| malformed("proof or signature is not 32 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err<T: core::fmt::Debug>(result: Result<T, SaslError>) -> SaslError {
        result.expect_err("must fail")
    }

    #[test]
    fn client_first() {
        let msg = b"n,a=admin,n=us=2Cer,r=fyko+d2lbbFgONRv9qkxdawL,x=1";
        let parsed = parse_client_first(msg).unwrap();
        assert_eq!(parsed.gs2_header, b"n,a=admin,");
        assert_eq!(parsed.authzid.as_deref(), Some("admin"));
        assert_eq!(parsed.bare, b"n=us=2Cer,r=fyko+d2lbbFgONRv9qkxdawL,x=1");
        assert_eq!(parsed.username, "us,er");
        assert_eq!(parsed.nonce, "fyko+d2lbbFgONRv9qkxdawL");

        assert_eq!(
            err(parse_client_first(b"n,,m=x,n=u,r=abc")),
            SaslError::UnsupportedExtension
        );
        assert_eq!(
            err(parse_client_first(b"n,,n=u,r=abc,m=x")),
            SaslError::UnsupportedExtension
        );
        assert_eq!(
            err(parse_client_first(b"p=tls-unique,,n=u,r=a")),
            SaslError::ChannelBindingUnsupported
        );
        for bad in [
            &b"n,,"[..],
            b"n,,n=u",
            b"n,,n=u,",
            b"n,,n=u,r=",
            b"n,,n=u,r=a b",
            b"n,,r=abc,n=u",
            b"n,,n=,r=abc",
            b"n,,n=u=2,r=abc",
            b"n,,n=u,r=abc,,",
            b"n,,n=u,r=abc,1=x",
            b"n,,N=u,r=abc",
        ] {
            assert!(
                matches!(parse_client_first(bad), Err(SaslError::Malformed { .. })),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn server_first() {
        let parsed = parse_server_first(b"r=abc%def,s=QSXCR+Q6sek8bf92,i=4096,x=y").unwrap();
        assert_eq!(parsed.nonce, "abc%def");
        assert_eq!(parsed.salt, STANDARD.decode("QSXCR+Q6sek8bf92").unwrap());
        assert_eq!(parsed.iterations, 4096);
        assert_eq!(
            parse_server_first(b"r=a,s=QQ==,i=4294967295")
                .unwrap()
                .iterations,
            u32::MAX
        );
        assert_eq!(
            err(parse_server_first(b"m=1,r=a,s=QQ==,i=1")),
            SaslError::UnsupportedExtension
        );
        for bad in [
            &b""[..],
            b"r=a",
            b"r=a,s=QQ==",
            b"r=a,s=,i=4096",
            b"r=a,s=QQ,i=4096",
            b"r=a,s=QQ==,i=0",
            b"r=a,s=QQ==,i=04096",
            b"r=a,s=QQ==,i=-1",
            b"r=a,s=QQ==,i=4294967296",
            b"r=a,s=QQ==,i=4096x",
            b"s=QQ==,r=a,i=4096",
            b"r=a,b,s=QQ==,i=1",
        ] {
            assert!(
                matches!(parse_server_first(bad), Err(SaslError::Malformed { .. })),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn client_final() {
        let proof = STANDARD.encode([7u8; 32]);
        let msg = format!("c=biws,r=abcdef,x=1,p={proof}");
        let parsed = parse_client_final(msg.as_bytes()).unwrap();
        assert_eq!(parsed.channel_binding, b"biws");
        assert_eq!(parsed.nonce, b"abcdef");
        assert_eq!(parsed.without_proof, b"c=biws,r=abcdef,x=1");
        assert_eq!(parsed.proof, [7u8; 32]);
        for bad in [
            String::new(),
            format!("p={proof}"),
            format!("c=biws,p={proof}"),
            format!("r=abc,c=biws,p={proof}"),
            "c=biws,r=abc,p=AAAA".to_owned(),
            format!("c=biws,r=abc,p={proof},x=1"),
            format!("c=biws,r=abc,p={}", &proof[1..]),
        ] {
            assert!(
                matches!(
                    parse_client_final(bad.as_bytes()),
                    Err(SaslError::Malformed { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn server_final() {
        let sig = STANDARD.encode([9u8; 32]);
        assert_eq!(
            parse_server_final(format!("v={sig}").as_bytes()),
            Ok(ServerFinal::Verifier([9; 32]))
        );
        assert_eq!(
            parse_server_final(format!("v={sig},x=1").as_bytes()),
            Ok(ServerFinal::Verifier([9; 32]))
        );
        assert_eq!(
            parse_server_final(b"e=invalid-proof"),
            Ok(ServerFinal::Error(ScramServerError::InvalidProof))
        );
        assert_eq!(
            parse_server_final(b"e=no-such-thing"),
            Ok(ServerFinal::Error(ScramServerError::Other(
                "no-such-thing".into()
            )))
        );
        for bad in [
            &b""[..],
            b"e=",
            b"v=",
            b"v=AAAA",
            b"x=1",
            b"e=\xff",
            b"v=!!",
        ] {
            assert!(
                matches!(parse_server_final(bad), Err(SaslError::Malformed { .. })),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
