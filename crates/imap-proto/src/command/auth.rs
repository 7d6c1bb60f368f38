//! AUTHENTICATE's base64 lines (RFC 3501 section 6.2.2, SASL-IR RFC 4959) and IDLE's `DONE`
//! (RFC 2177, RFC 9051 section 6.3.13).

use crate::encode::{Encode, Writer};
use crate::error::{ParseError, ValidationError};
use crate::parse::{PResult, Quirks, Reader};
use std::borrow::Cow;

const fn is_base64_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Whether `s` is `base64` of RFC 3501: groups of four base64 characters, the last of which
/// may end in `=` or `==` (possibly empty).
fn valid_base64(s: &[u8]) -> bool {
    if s.len() % 4 != 0 {
        return false;
    }
    let pad = s.iter().rev().take_while(|&&b| b == b'=').count();
    if pad > 2 {
        return false;
    }
    let body = s.get(..s.len() - pad).unwrap_or(&[]);
    body.iter().all(|&b| is_base64_char(b))
}

/// Base64 text (`base64` of RFC 3501 section 9: `*(4base64-char) [base64-terminal]`), as sent
/// in an AUTHENTICATE initial response or a SASL response line. It is kept encoded: decoding
/// belongs to the SASL layer (`mail_wire::sasl::framing`). It may be empty (an empty response,
/// written `=` as an initial response and as an empty line otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Base64<'a>(Cow<'a, str>);

impl<'a> Base64<'a> {
    /// Base64 text; refused unless it is whole groups of four base64 characters with at most
    /// two `=` of padding at the end.
    pub fn new(text: impl Into<Cow<'a, str>>) -> Result<Self, ValidationError> {
        let text = text.into();
        if valid_base64(text.as_bytes()) {
            Ok(Base64(text))
        } else {
            Err(ValidationError::new(
                "base64",
                "not whole groups of four base64 characters",
            ))
        }
    }

    /// The encoded text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the text is empty (an empty SASL response).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value with its borrowed data copied.
    pub fn into_static(self) -> Base64<'static> {
        Base64(Cow::Owned(self.0.into_owned()))
    }

    /// `base64` (possibly empty): the base64 characters up to the next CR, SP or the end.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        let start = r.pos();
        let text = r.take_while(|b| is_base64_char(b) || b == b'=');
        if !valid_base64(text) {
            return Err(ParseError::new(
                start + text.len(),
                "base64",
                crate::error::ErrorKind::Syntax,
            ));
        }
        // base64 characters are ASCII.
        let s = std::str::from_utf8(text)
            .map_err(|_| ParseError::new(start, "base64", crate::error::ErrorKind::Encoding))?;
        Ok(Base64(Cow::Borrowed(s)))
    }
}

impl Encode for Base64<'_> {
    fn encode(&self, w: &mut Writer) {
        w.raw(self.0.as_bytes());
    }
}

/// A line the client sends during AUTHENTICATE in answer to a continuation request
/// (RFC 3501 section 6.2.2, RFC 9051 `authenticate`): a base64 response or `*` to cancel the
/// exchange.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthenticateData<'a> {
    /// `base64 CRLF`: the client's response (possibly an empty line).
    Response(Base64<'a>),
    /// `"*" CRLF`: the client cancels the exchange; the server answers `BAD`.
    Cancel,
}

impl<'a> AuthenticateData<'a> {
    /// Parse one line (with its CRLF).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        Self::parse_with(input, Quirks::STRICT)
    }

    /// Parse one line with the given lenience.
    pub fn parse_with(input: &'a [u8], quirks: Quirks) -> Result<Self, ParseError> {
        let mut r = Reader::new(input, quirks);
        let v = if r.eat(b'*') {
            AuthenticateData::Cancel
        } else {
            AuthenticateData::Response(Base64::read(&mut r)?)
        };
        r.crlf_end()?;
        Ok(v)
    }

    /// The value with its borrowed data copied.
    pub fn into_static(self) -> AuthenticateData<'static> {
        match self {
            AuthenticateData::Response(b) => AuthenticateData::Response(b.into_static()),
            AuthenticateData::Cancel => AuthenticateData::Cancel,
        }
    }
}

impl Encode for AuthenticateData<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            AuthenticateData::Response(b) => b.encode(w),
            AuthenticateData::Cancel => w.byte(b'*'),
        }
        w.crlf();
    }
}

/// `idle-done` (RFC 2177, RFC 9051 section 6.3.13): the `DONE` line that ends IDLE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IdleDone;

impl IdleDone {
    /// Parse `DONE CRLF` (case-insensitive).
    pub fn parse(input: &[u8]) -> Result<Self, ParseError> {
        Self::parse_with(input, Quirks::STRICT)
    }

    /// Parse `DONE CRLF` with the given lenience.
    pub fn parse_with(input: &[u8], quirks: Quirks) -> Result<Self, ParseError> {
        let mut r = Reader::new(input, quirks);
        r.expect_keyword("DONE", "\"DONE\"")?;
        r.crlf_end()?;
        Ok(IdleDone)
    }
}

impl Encode for IdleDone {
    fn encode(&self, w: &mut Writer) {
        w.raw(b"DONE\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authenticate_lines() {
        let d = AuthenticateData::parse(b"dGVzdA==\r\n").unwrap();
        assert_eq!(
            d,
            AuthenticateData::Response(Base64::new("dGVzdA==").unwrap())
        );
        assert_eq!(d.to_bytes(), b"dGVzdA==\r\n");
        assert_eq!(
            AuthenticateData::parse(b"*\r\n").unwrap(),
            AuthenticateData::Cancel
        );
        assert_eq!(AuthenticateData::Cancel.to_bytes(), b"*\r\n");
        let empty = AuthenticateData::parse(b"\r\n").unwrap();
        assert_eq!(empty, AuthenticateData::Response(Base64::default()));
        assert_eq!(empty.to_bytes(), b"\r\n");
    }

    #[test]
    fn authenticate_errors_point_at_the_fault() {
        let e = AuthenticateData::parse(b"dGVzd\r\n").unwrap_err();
        assert_eq!((e.offset(), e.expected()), (5, "base64"));
        let e = AuthenticateData::parse(b"dGVz dA==\r\n").unwrap_err();
        assert_eq!((e.offset(), e.expected()), (4, "CRLF"));
        let e = AuthenticateData::parse(b"*x\r\n").unwrap_err();
        assert_eq!(e.offset(), 1);
        let e = AuthenticateData::parse(b"dA===\r\n").unwrap_err();
        assert_eq!(e.expected(), "base64");
    }

    #[test]
    fn base64_constructor_refuses() {
        assert!(Base64::new("abc").is_err());
        assert!(Base64::new("ab=c").is_err());
        assert!(Base64::new("a===").is_err());
        assert!(Base64::new("ab\r\n").is_err());
        assert!(Base64::new("ab==").is_ok());
        assert!(Base64::new("").is_ok());
    }

    #[test]
    fn idle_done() {
        assert_eq!(IdleDone::parse(b"DONE\r\n").unwrap(), IdleDone);
        assert_eq!(IdleDone::parse(b"done\r\n").unwrap(), IdleDone);
        assert_eq!(IdleDone.to_bytes(), b"DONE\r\n");
        assert_eq!(IdleDone::parse(b"DONEX\r\n").unwrap_err().offset(), 0);
        assert_eq!(IdleDone::parse(b"DONE \r\n").unwrap_err().offset(), 4);
        assert!(IdleDone::parse_with(b"DONE \r\n", Quirks::LENIENT).is_ok());
    }
}
