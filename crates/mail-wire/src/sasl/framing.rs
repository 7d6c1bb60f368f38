//! Base64 framing of SASL challenges and responses on a line protocol.
//!
//! SMTP (`334 ` replies, RFC 4954 section 4), IMAP (`+ ` continuations, RFC 9051 section 6.2.2)
//! and POP3 (`+ ` continuations, RFC 5034 section 4) carry SASL messages as one line of base64
//! (RFC 4648 section 4, with padding). Strip the protocol prefix and the CRLF, then:
//!
//! | direction | function | special forms |
//! |---|---|---|
//! | server → client | [`encode_challenge`] / [`decode_challenge`] | empty challenge is an empty line |
//! | client → server, continuation | [`encode_response`] / [`decode_response`] | `*` cancels ([`Response::Cancel`]) |
//! | client → server, with the command | [`encode_initial_response`] / [`decode_initial_response`] | `=` is the empty response |
//!
//! Decoding is strict: padding is required, trailing bits must be zero and no whitespace is
//! allowed, so every message has exactly one encoding. Lines longer than the base64 encoding of
//! [`MAX_MESSAGE_LEN`] bytes are refused before decoding.
//!
//! ```
//! use mail_wire::sasl::framing::{self, Response};
//!
//! assert_eq!(framing::encode_challenge(b"Username:"), "VXNlcm5hbWU6");
//! assert_eq!(framing::decode_response(b"*"), Ok(Response::Cancel));
//! let Ok(Response::Data(data)) = framing::decode_response(b"AHRpbQB0YW5zdGFhZg==") else {
//!     panic!("valid base64");
//! };
//! assert_eq!(data.expose().as_slice(), b"\0tim\0tanstaaf");
//! assert!(framing::decode_initial_response(b"=").unwrap().expose().is_empty());
//! assert!(framing::decode_response(b"not base64!").is_err());
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{MAX_MESSAGE_LEN, SaslError};
use crate::Secret;

/// The line a client sends to cancel an exchange (RFC 4422 section 3.5, RFC 4954 section 4).
pub const CANCEL: &[u8] = b"*";

/// The initial-response argument that stands for an empty initial response (RFC 4954
/// section 4, RFC 4959 section 3).
pub const EMPTY_INITIAL_RESPONSE: &[u8] = b"=";

/// Longest base64 line accepted: the padded encoding of [`MAX_MESSAGE_LEN`] bytes.
pub const MAX_ENCODED_LEN: usize = MAX_MESSAGE_LEN.div_ceil(3) * 4;

/// A client's continuation line, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The client cancelled the exchange with `*`.
    Cancel,
    /// The decoded response, which may carry a password and so is kept in a [`Secret`].
    Data(Secret<Vec<u8>>),
}

/// Encodes a server challenge as the text of a `334 ` reply or a `+ ` continuation.
pub fn encode_challenge(challenge: &[u8]) -> String {
    STANDARD.encode(challenge)
}

/// Decodes the text of a server challenge (client side).
///
/// # Errors
///
/// [`SaslError::TooLong`] or [`SaslError::InvalidBase64`].
pub fn decode_challenge(line: &[u8]) -> Result<Vec<u8>, SaslError> {
    decode(line)
}

/// Encodes a client response as a continuation line. Use [`CANCEL`] to cancel instead.
pub fn encode_response(response: &[u8]) -> Secret<String> {
    Secret::new(STANDARD.encode(response))
}

/// Encodes a client response as the initial-response argument of `AUTH` / `AUTHENTICATE`,
/// where an empty response is written `=`.
pub fn encode_initial_response(response: &[u8]) -> Secret<String> {
    if response.is_empty() {
        Secret::new(String::from("="))
    } else {
        encode_response(response)
    }
}

/// Decodes a client's continuation line (server side): `*` is [`Response::Cancel`], an
/// empty line is the empty response, anything else must be base64.
///
/// # Errors
///
/// [`SaslError::TooLong`] or [`SaslError::InvalidBase64`].
pub fn decode_response(line: &[u8]) -> Result<Response, SaslError> {
    if line == CANCEL {
        return Ok(Response::Cancel);
    }
    decode(line).map(|data| Response::Data(Secret::new(data)))
}

/// Decodes the initial-response argument of `AUTH` / `AUTHENTICATE` (server side): `=` is the
/// empty response, anything else must be base64.
///
/// Call it only when the command had an argument; a command without one means "no initial
/// response", which is different from an empty one.
///
/// # Errors
///
/// [`SaslError::TooLong`] or [`SaslError::InvalidBase64`].
pub fn decode_initial_response(argument: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
    if argument == EMPTY_INITIAL_RESPONSE {
        return Ok(Secret::new(Vec::new()));
    }
    decode(argument).map(Secret::new)
}

fn decode(line: &[u8]) -> Result<Vec<u8>, SaslError> {
    if line.len() > MAX_ENCODED_LEN {
        return Err(SaslError::TooLong {
            len: line.len(),
            limit: MAX_ENCODED_LEN,
        });
    }
    STANDARD.decode(line).map_err(|err| {
        use base64::DecodeError as E;
        let offset = match err {
            E::InvalidByte(offset, _) | E::InvalidLastSymbol(offset, _) => offset,
            E::InvalidPadding => memchr::memchr(b'=', line).unwrap_or(line.len()),
            E::InvalidLength(_) => line.len(),
        };
        SaslError::InvalidBase64 { offset }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(bytes: &[u8]) -> Response {
        Response::Data(Secret::new(bytes.to_vec()))
    }

    #[test]
    fn rfc4954_examples() {
        // RFC 4954 section 4 example: AUTH PLAIN with an initial response.
        assert_eq!(
            decode_initial_response(b"dGVzdAB0ZXN0ADEyMzQ=").unwrap(),
            Secret::new(b"test\0test\x001234".to_vec())
        );
        // "334 VXNlcm5hbWU6" / "334 UGFzc3dvcmQ6" as sent by LOGIN servers.
        assert_eq!(encode_challenge(b"Username:"), "VXNlcm5hbWU6");
        assert_eq!(decode_challenge(b"UGFzc3dvcmQ6").unwrap(), b"Password:");
    }

    #[test]
    fn cancel_and_empty_forms() {
        assert_eq!(decode_response(b"*"), Ok(Response::Cancel));
        assert_eq!(decode_response(b""), Ok(data(b"")));
        assert_eq!(
            decode_initial_response(b"=").unwrap(),
            Secret::new(Vec::new())
        );
        assert_eq!(encode_initial_response(b"").expose(), "=");
        assert_eq!(encode_response(b"").expose(), "");
        assert_eq!(encode_challenge(b""), "");
        // "=" is only the empty initial response, and "*" only cancels a continuation.
        assert_eq!(
            decode_response(b"="),
            Err(SaslError::InvalidBase64 { offset: 0 })
        );
        assert_eq!(
            decode_initial_response(b"*"),
            Err(SaslError::InvalidBase64 { offset: 0 })
        );
        assert_eq!(
            decode_response(b"**"),
            Err(SaslError::InvalidBase64 { offset: 0 })
        );
    }

    #[test]
    fn malformed_base64_is_a_typed_error() {
        let cases: [(&[u8], usize); 7] = [
            (b"AHRpbQ B0", 6),        // whitespace
            (b"AHRpbQ", 6),           // missing padding
            (b"AHRpbQ==\r", 8),       // trailing CR
            (b"AHRpbR==", 5),         // non-zero trailing bits
            (b"A===", 1),             // too much padding
            (b"AB=C", 2),             // padding in the middle
            (b"\xff\xfe\xfd\xfc", 0), // not ASCII
        ];
        for (line, offset) in cases {
            assert_eq!(
                decode_response(line),
                Err(SaslError::InvalidBase64 { offset }),
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn over_long_lines_are_refused_before_decoding() {
        let max = vec![0u8; MAX_MESSAGE_LEN];
        let encoded = encode_response(&max);
        assert_eq!(encoded.expose().len(), MAX_ENCODED_LEN);
        assert_eq!(decode_response(encoded.expose().as_bytes()), Ok(data(&max)));
        let long = vec![b'A'; MAX_ENCODED_LEN + 4];
        assert_eq!(
            decode_response(&long),
            Err(SaslError::TooLong {
                len: MAX_ENCODED_LEN + 4,
                limit: MAX_ENCODED_LEN
            })
        );
        assert!(matches!(
            decode_challenge(&long),
            Err(SaslError::TooLong { .. })
        ));
    }

    #[test]
    fn round_trips() {
        for msg in [
            &b""[..],
            b"a",
            b"ab",
            b"abc",
            b"\0\x01\xff",
            b"n,,n=user,r=abc",
        ] {
            assert_eq!(
                decode_challenge(encode_challenge(msg).as_bytes()).unwrap(),
                msg
            );
            let response = encode_initial_response(msg);
            assert_eq!(
                decode_initial_response(response.expose().as_bytes()).unwrap(),
                Secret::new(msg.to_vec())
            );
        }
    }
}
