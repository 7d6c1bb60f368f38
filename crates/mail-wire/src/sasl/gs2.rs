//! The GS2 header (RFC 5801 section 4) that starts SCRAM and OAUTHBEARER client messages, and
//! the `saslname` escaping of the identities in it (RFC 5802 section 5.1).
//!
//! ```text
//! gs2-header   = gs2-cb-flag "," [ gs2-authzid ] ","
//! gs2-cb-flag  = ("p=" cb-name) / "n" / "y"
//! gs2-authzid  = "a=" saslname
//! saslname     = 1*(value-safe-char / "=2C" / "=3D")
//! ```

use std::borrow::Cow;

use super::{Mechanism, SaslError};

/// A parsed GS2 header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Gs2Header {
    /// The authorization identity, unescaped, if the client sent one.
    pub(crate) authzid: Option<String>,
    /// Length of the header in the message, including its final `,`.
    pub(crate) len: usize,
}

/// Encodes the header of a client without channel-binding support (`n`), which is the only
/// one this crate sends.
pub(crate) fn encode(authzid: Option<&str>) -> String {
    match authzid {
        Some(authzid) => format!("n,a={},", escape_saslname(authzid)),
        None => String::from("n,,"),
    }
}

/// Parses the header at the start of `message`.
///
/// `n` and `y` are accepted: `y` ("the client supports channel binding but thinks the server
/// does not") is the truth, since this crate offers no `-PLUS` mechanism. `p=` is refused.
pub(crate) fn parse(mechanism: Mechanism, message: &[u8]) -> Result<Gs2Header, SaslError> {
    let malformed = |reason| SaslError::malformed(mechanism, reason);
    let rest = match message {
        [b'n' | b'y', b',', rest @ ..] => rest,
        [b'p', b'=', ..] => return Err(SaslError::ChannelBindingUnsupported),
        _ => return Err(malformed("GS2 header must start with \"n,\" or \"y,\"")),
    };
    let end =
        memchr::memchr(b',', rest).ok_or_else(|| malformed("GS2 header is not terminated"))?;
    let authzid = match &rest[..end] {
        [] => None,
        [b'a', b'=', name @ ..] => Some(unescape_saslname(mechanism, name)?),
        _ => {
            return Err(malformed(
                "GS2 authzid must be \"a=\" followed by a saslname",
            ));
        }
    };
    Ok(Gs2Header {
        authzid,
        len: message.len() - rest.len() + end + 1,
    })
}

/// Escapes `,` as `=2C` and `=` as `=3D`.
pub(crate) fn escape_saslname(name: &str) -> Cow<'_, str> {
    if name.contains([',', '=']) {
        Cow::Owned(name.replace('=', "=3D").replace(',', "=2C"))
    } else {
        Cow::Borrowed(name)
    }
}

/// Unescapes a `saslname`: non-empty UTF-8 without NUL, where `=` may only start `=2C` or
/// `=3D` and `,` may not appear (RFC 5802 section 5.1: "the server MUST fail the
/// authentication" otherwise).
pub(crate) fn unescape_saslname(mechanism: Mechanism, name: &[u8]) -> Result<String, SaslError> {
    let malformed = |reason| SaslError::malformed(mechanism, reason);
    if name.is_empty() {
        return Err(malformed("empty saslname"));
    }
    let mut out = Vec::with_capacity(name.len());
    let mut rest = name;
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        match byte {
            b'=' => {
                let (decoded, tail) = match rest {
                    [b'2', b'C', tail @ ..] => (b',', tail),
                    [b'3', b'D', tail @ ..] => (b'=', tail),
                    _ => return Err(malformed("saslname has '=' not followed by 2C or 3D")),
                };
                out.push(decoded);
                rest = tail;
            }
            b',' | 0 => return Err(malformed("saslname contains ',' or NUL")),
            _ => out.push(byte),
        }
    }
    String::from_utf8(out).map_err(|_| malformed("saslname is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: Mechanism = Mechanism::ScramSha256;

    #[test]
    fn headers() {
        assert_eq!(
            parse(M, b"n,,n=user"),
            Ok(Gs2Header {
                authzid: None,
                len: 3
            })
        );
        assert_eq!(
            parse(M, b"y,,"),
            Ok(Gs2Header {
                authzid: None,
                len: 3
            })
        );
        assert_eq!(
            parse(M, b"n,a=ad=2Cmin=3D,n=x"),
            Ok(Gs2Header {
                authzid: Some("ad,min=".into()),
                len: 16
            })
        );
        assert_eq!(
            parse(M, b"p=tls-unique,,"),
            Err(SaslError::ChannelBindingUnsupported)
        );
        for bad in [
            &b""[..],
            b"n",
            b"n,",
            b"x,,",
            b"n,b=x,",
            b"n,a=,",
            b"n,a=x=2",
            b"N,,",
        ] {
            assert!(
                matches!(parse(M, bad), Err(SaslError::Malformed { .. })),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn encode_matches_parse() {
        for authzid in [None, Some("user"), Some("a,b=c"), Some("=2C")] {
            let header = encode(authzid);
            let parsed = parse(M, header.as_bytes()).unwrap();
            assert_eq!(parsed.authzid.as_deref(), authzid);
            assert_eq!(parsed.len, header.len());
        }
        assert_eq!(encode(None), "n,,");
        assert_eq!(encode(Some("a,b")), "n,a=a=2Cb,");
    }

    #[test]
    fn saslname_escapes() {
        assert_eq!(escape_saslname("plain"), "plain");
        assert_eq!(escape_saslname("a=b,c"), "a=3Db=2Cc");
        assert_eq!(escape_saslname("=2C"), "=3D2C");
        assert_eq!(unescape_saslname(M, b"a=3Db=2Cc").unwrap(), "a=b,c");
        assert_eq!(unescape_saslname(M, b"=3D2C").unwrap(), "=2C");
        assert_eq!(
            unescape_saslname(M, "j\u{f6}rg".as_bytes()).unwrap(),
            "j\u{f6}rg"
        );
        for bad in [&b""[..], b"a,b", b"a=", b"a=2c", b"a=3", b"a\0b", b"\xff"] {
            assert!(
                unescape_saslname(M, bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
