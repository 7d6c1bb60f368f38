//! The parsing machinery: a cursor over one complete message, and the lenience options.
//!
//! Every parser in the crate is hand-written recursive descent over a [`Reader`]: each type
//! with a grammar rule has `pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self>`, which
//! consumes exactly its rule and leaves the reader after it. Errors carry the offset and the
//! rule that was expected ([`ParseError`]).

use crate::error::{ErrorKind, MAX_DEPTH, ParseError};

/// Result of a parser.
pub(crate) type PResult<T> = Result<T, ParseError>;

/// Known ways in which real servers (and a few clients) break the grammar, each accepted only
/// when its switch is on. [`Quirks::LENIENT`] (every switch on) is the client default for
/// responses, [`Quirks::STRICT`] the server default for commands. `docs/imap.md` lists each
/// quirk with the software it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Quirks {
    /// Spaces before the CRLF that ends a line (`* OK done \r\n`).
    pub trailing_space: bool,
    /// `NIL` where a string is due (read as the empty string).
    pub nil_as_string: bool,
    /// Numbers larger than their type allows are clamped to its maximum instead of refused.
    pub clamp_numbers: bool,
    /// A continuation request with nothing after the `+` (`+\r\n`).
    pub empty_continuation: bool,
    /// Spaces between the addresses of an ENVELOPE address list.
    pub address_spaces: bool,
    /// A status response with no text (`A1 OK\r\n`).
    pub missing_text: bool,
    /// More than one space where the grammar has one `SP`.
    pub extra_spaces: bool,
    /// A non-synchronising literal (`{n+}`) in a server's response or greeting (RFC 7888
    /// section 4 allows them only from client to server; commands always accept them).
    pub nonsync_literals: bool,
}

impl Quirks {
    /// Nothing outside the grammar is accepted.
    pub const STRICT: Quirks = Quirks {
        trailing_space: false,
        nil_as_string: false,
        clamp_numbers: false,
        empty_continuation: false,
        address_spaces: false,
        missing_text: false,
        extra_spaces: false,
        nonsync_literals: false,
    };
    /// Every known quirk is accepted.
    pub const LENIENT: Quirks = Quirks {
        trailing_space: true,
        nil_as_string: true,
        clamp_numbers: true,
        empty_continuation: true,
        address_spaces: true,
        missing_text: true,
        extra_spaces: true,
        nonsync_literals: true,
    };
}

/// [`Quirks::STRICT`]: the server default (what a command parser uses); a client parses
/// responses with [`Quirks::LENIENT`], as `Response::parse` does.
impl Default for Quirks {
    fn default() -> Self {
        Quirks::STRICT
    }
}

/// A cursor over one complete message (a frame from the framer: lines and literal data,
/// ending with CRLF).
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    depth: u32,
    pub(crate) quirks: Quirks,
    /// The message comes from a server (a response or greeting): `{n+}` is refused unless
    /// [`Quirks::nonsync_literals`].
    pub(crate) from_server: bool,
}

/// `ATOM-CHAR`: any CHAR except atom-specials (`(`, `)`, `{`, SP, CTL, `%`, `*`, `"`, `\`, `]`).
pub(crate) const fn is_atom_char(b: u8) -> bool {
    matches!(b, 0x21..=0x7e) && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
}

/// Bytes that continue a keyword: letters, digits, `.`, `-`, `_`.
const fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')
}

/// `ASTRING-CHAR`: `ATOM-CHAR` or `]` (resp-specials).
pub(crate) const fn is_astring_char(b: u8) -> bool {
    is_atom_char(b) || b == b']'
}

/// Characters allowed in a `tag`: `ASTRING-CHAR` except `+`.
pub(crate) const fn is_tag_char(b: u8) -> bool {
    is_astring_char(b) && b != b'+'
}

impl<'a> Reader<'a> {
    /// A reader at the start of `input`.
    pub(crate) fn new(input: &'a [u8], quirks: Quirks) -> Self {
        Self {
            input,
            pos: 0,
            depth: 0,
            quirks,
            from_server: false,
        }
    }

    /// Offset of the next byte.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Move to `pos` (backtracking to a position obtained from [`Reader::pos`]).
    pub(crate) fn reset(&mut self, pos: usize) {
        self.pos = pos.min(self.input.len());
    }

    /// The whole input.
    pub(crate) fn input(&self) -> &'a [u8] {
        self.input
    }

    /// The bytes not yet consumed.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.input.get(self.pos..).unwrap_or(&[])
    }

    /// Whether every byte is consumed.
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.input.len()
    }

    /// The next byte, not consumed.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    /// The byte after the next one, not consumed.
    pub(crate) fn peek2(&self) -> Option<u8> {
        self.input.get(self.pos + 1).copied()
    }

    /// Consume and return the next byte.
    pub(crate) fn next_byte(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    /// Consume `n` bytes and return them (an [`ErrorKind::Incomplete`] error when fewer remain).
    pub(crate) fn take(&mut self, n: usize, expected: &'static str) -> PResult<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.input.len())
            .ok_or_else(|| self.error_kind(expected, ErrorKind::Incomplete))?;
        let out = &self.input[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// Consume the longest run of bytes for which `pred` holds (possibly empty).
    pub(crate) fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a [u8] {
        let rest = self.rest();
        let n = rest.iter().position(|&b| !pred(b)).unwrap_or(rest.len());
        self.pos += n;
        &rest[..n]
    }

    /// Consume the next byte if it is `b`.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consume the byte `b` or fail with `expected`.
    pub(crate) fn expect(&mut self, b: u8, expected: &'static str) -> PResult<()> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.error(expected))
        }
    }

    /// Consume `kw` (ASCII, compared case-insensitively) if the input continues with it and
    /// the byte after it is not a letter, digit, `.`, `-` or `_` (so `BODY` matches in `BODY[`
    /// and `BODY ` but not in `BODYSTRUCTURE` or `BODY.PEEK`; a `kw` ending in another byte,
    /// such as `[` or `(`, needs no boundary).
    pub(crate) fn keyword(&mut self, kw: &str) -> bool {
        let rest = self.rest();
        let n = kw.len();
        if rest.len() < n || !rest[..n].eq_ignore_ascii_case(kw.as_bytes()) {
            return false;
        }
        let boundary = match kw.as_bytes().last() {
            Some(&last) if is_word_byte(last) => rest.get(n).is_none_or(|&b| !is_word_byte(b)),
            _ => true,
        };
        if boundary {
            self.pos += n;
        }
        boundary
    }

    /// Consume `kw` like [`Reader::keyword`] or fail with `expected`.
    pub(crate) fn expect_keyword(&mut self, kw: &str, expected: &'static str) -> PResult<()> {
        if self.keyword(kw) {
            Ok(())
        } else {
            Err(self.error(expected))
        }
    }

    /// Exactly one `SP` (one or more with [`Quirks::extra_spaces`]).
    pub(crate) fn sp(&mut self) -> PResult<()> {
        self.expect(b' ', "SP")?;
        if self.quirks.extra_spaces {
            while self.peek() == Some(b' ') && self.peek2() != Some(b'\r') {
                self.pos += 1;
            }
        }
        Ok(())
    }

    /// `CRLF` that ends the message: after it nothing may remain. With
    /// [`Quirks::trailing_space`], spaces before it are skipped. A bare LF is refused.
    pub(crate) fn crlf_end(&mut self) -> PResult<()> {
        self.crlf()?;
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error("end of message after CRLF"))
        }
    }

    /// `CRLF` (with [`Quirks::trailing_space`], spaces before it are skipped).
    pub(crate) fn crlf(&mut self) -> PResult<()> {
        if self.quirks.trailing_space {
            let save = self.pos;
            self.take_while(|b| b == b' ');
            if self.peek() != Some(b'\r') {
                self.pos = save;
            }
        }
        if self.rest().starts_with(b"\r\n") {
            self.pos += 2;
            Ok(())
        } else if self.is_empty() {
            Err(self.error_kind("CRLF", ErrorKind::Incomplete))
        } else {
            Err(self.error("CRLF"))
        }
    }

    /// `atom`: one or more `ATOM-CHAR`.
    pub(crate) fn atom(&mut self) -> PResult<&'a str> {
        let a = self.take_while(is_atom_char);
        if a.is_empty() {
            return Err(self.error("atom"));
        }
        // ATOM-CHAR is 7-bit printable, so this cannot fail; no unwrap on input regardless.
        std::str::from_utf8(a).map_err(|_| self.error_kind("atom", ErrorKind::Encoding))
    }

    /// `number`: 1*DIGIT fitting 32 bits (clamped with [`Quirks::clamp_numbers`]).
    pub(crate) fn number(&mut self) -> PResult<u32> {
        let v = self.digits(u64::from(u32::MAX), "number")?;
        Ok(u32::try_from(v).unwrap_or(u32::MAX))
    }

    /// `nz-number`: a [`Reader::number`] that is not zero.
    pub(crate) fn nz_number(&mut self) -> PResult<std::num::NonZeroU32> {
        let start = self.pos;
        let v = self.number()?;
        std::num::NonZeroU32::new(v)
            .ok_or_else(|| ParseError::new(start, "nz-number", ErrorKind::Number))
    }

    /// `number64`: 1*DIGIT up to 2^63 - 1 (RFC 9051), as for MODSEQ.
    pub(crate) fn number64(&mut self) -> PResult<u64> {
        self.digits(i64::MAX as u64, "number64")
    }

    /// `1*DIGIT` up to `max` (clamped with [`Quirks::clamp_numbers`], else an
    /// [`ErrorKind::Number`] error at the first digit); every digit is consumed either way.
    #[inline]
    pub(crate) fn digits(&mut self, max: u64, expected: &'static str) -> PResult<u64> {
        let start = self.pos;
        let rest = self.rest();
        // One pass: a run of at most 19 digits cannot pass u64::MAX (10^19 - 1 < 2^64), so
        // it is accumulated without checks; a longer run (leading zeros, or too large) goes
        // through the checked loop below.
        let mut v: u64 = 0;
        let mut n = 0;
        while let Some(&b) = rest.get(n) {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v.wrapping_mul(10).wrapping_add(u64::from(d));
            n += 1;
        }
        self.pos += n;
        if n == 0 {
            return Err(self.error(expected));
        }
        if n <= 19 && v <= max {
            return Ok(v);
        }
        let d = rest.get(..n).unwrap_or(&[]);
        let mut v: u64 = 0;
        for &b in d {
            match v
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
            {
                Some(n) if n <= max => v = n,
                _ if self.quirks.clamp_numbers => return Ok(max),
                _ => return Err(ParseError::new(start, expected, ErrorKind::Number)),
            }
        }
        Ok(v)
    }

    /// Enter one level of nesting (a parenthesised list, a nested search key, a body part);
    /// fails with [`ErrorKind::TooDeep`] past [`MAX_DEPTH`]. Pair with [`Reader::leave`].
    pub(crate) fn enter(&mut self) -> PResult<()> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error_kind("shallower nesting", ErrorKind::TooDeep));
        }
        self.depth += 1;
        Ok(())
    }

    /// Leave a level entered with [`Reader::enter`].
    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// A syntax error at the current offset.
    pub(crate) fn error(&self, expected: &'static str) -> ParseError {
        ParseError::new(self.pos, expected, ErrorKind::Syntax)
    }

    /// An error of `kind` at the current offset.
    pub(crate) fn error_kind(&self, expected: &'static str, kind: ErrorKind) -> ParseError {
        ParseError::new(self.pos, expected, kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_needs_a_boundary() {
        let mut r = Reader::new(b"BODYSTRUCTURE", Quirks::STRICT);
        assert!(!r.keyword("BODY"));
        assert!(r.keyword("bodystructure"));
        assert!(r.is_empty());
        let mut r = Reader::new(b"BODY.PEEK[", Quirks::STRICT);
        assert!(!r.keyword("BODY"));
        let mut r = Reader::new(b"BODY[", Quirks::STRICT);
        assert!(r.keyword("BODY"));
        assert!(r.keyword("["));
    }

    #[test]
    fn numbers_are_bounded() {
        let mut r = Reader::new(b"4294967296", Quirks::STRICT);
        assert_eq!(r.number().unwrap_err().kind(), ErrorKind::Number);
        let mut r = Reader::new(b"4294967296", Quirks::LENIENT);
        assert_eq!(r.number().unwrap(), u32::MAX);
        let mut r = Reader::new(b"0", Quirks::STRICT);
        assert_eq!(r.nz_number().unwrap_err().offset(), 0);
        let mut r = Reader::new(b"9223372036854775807", Quirks::STRICT);
        assert_eq!(r.number64().unwrap(), i64::MAX as u64);
        let mut r = Reader::new(b"9223372036854775808", Quirks::STRICT);
        assert!(r.number64().is_err());
        // more than 19 digits: leading zeros, and past 2^64
        let mut r = Reader::new(b"000000000000000000000042 ", Quirks::STRICT);
        assert_eq!(r.number().unwrap(), 42);
        assert_eq!(r.pos(), 24);
        let mut r = Reader::new(b"18446744073709551616", Quirks::STRICT);
        assert_eq!(r.digits(u64::MAX, "n").unwrap_err().offset(), 0);
        assert_eq!(r.pos(), 20);
        let mut r = Reader::new(b"18446744073709551615", Quirks::STRICT);
        assert_eq!(r.digits(u64::MAX, "n").unwrap(), u64::MAX);
        let mut r = Reader::new(b"99999999999999999999", Quirks::LENIENT);
        assert_eq!(r.digits(u64::MAX, "n").unwrap(), u64::MAX);
        let mut r = Reader::new(b"4294967295)", Quirks::STRICT);
        assert_eq!(r.number().unwrap(), u32::MAX);
        assert_eq!(r.peek(), Some(b')'));
        let mut r = Reader::new(b"x", Quirks::STRICT);
        assert_eq!(r.number().unwrap_err().offset(), 0);
    }

    #[test]
    fn crlf_and_trailing_spaces() {
        let mut r = Reader::new(b"  \r\n", Quirks::STRICT);
        assert_eq!(r.crlf_end().unwrap_err().offset(), 0);
        let mut r = Reader::new(b"  \r\n", Quirks::LENIENT);
        assert!(r.crlf_end().is_ok());
        let mut r = Reader::new(b"\n", Quirks::LENIENT);
        assert!(r.crlf_end().is_err());
    }

    #[test]
    fn depth_is_bounded() {
        let mut r = Reader::new(b"", Quirks::STRICT);
        for _ in 0..MAX_DEPTH {
            r.enter().unwrap();
        }
        assert_eq!(r.enter().unwrap_err().kind(), ErrorKind::TooDeep);
    }
}
