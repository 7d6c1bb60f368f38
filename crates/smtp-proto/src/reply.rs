//! Replies ([`Reply`], [`ReplyParser`]) and EHLO capabilities ([`Capabilities`]).

use std::borrow::Cow;

use bytes::BytesMut;

use crate::types::{EnhancedStatusCode, ReplyCode};
use crate::{ReplyError, ValueError};

/// A reply: a code, an optional enhanced status code (RFC 2034: on every line when present)
/// and one or more lines of text (raw bytes, never replaced lossily).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply<'a> {
    code: ReplyCode,
    enhanced: Option<EnhancedStatusCode>,
    lines: Vec<Cow<'a, [u8]>>,
}

impl<'a> Reply<'a> {
    /// Builds a reply. Each line of text must be free of CR and LF; with no enhanced code, the
    /// first line must not start with something that parses as one. An empty `lines` becomes one empty line.
    pub fn new(
        code: ReplyCode,
        enhanced: Option<EnhancedStatusCode>,
        lines: impl IntoIterator<Item = Cow<'a, [u8]>>,
    ) -> Result<Self, ValueError> {
        let mut lines: Vec<_> = lines.into_iter().collect();
        if lines.is_empty() {
            lines.push(Cow::Borrowed(&b""[..]));
        }
        for l in &lines {
            if let Some(bad) = l.iter().position(|b| *b == b'\r' || *b == b'\n') {
                return Err(ValueError {
                    rule: "textstring",
                    offset: bad,
                });
            }
        }
        if enhanced.is_none() && crate::parse::reply::enhanced_prefix(&lines[0]).is_some() {
            return Err(ValueError {
                rule: "textstring",
                offset: 0,
            });
        }
        Ok(Reply {
            code,
            enhanced,
            lines,
        })
    }
    pub(crate) fn from_parsed(
        code: ReplyCode,
        enhanced: Option<EnhancedStatusCode>,
        lines: Vec<Cow<'a, [u8]>>,
    ) -> Self {
        Reply {
            code,
            enhanced,
            lines,
        }
    }
    /// A one-line reply from text; panics never, errors like [`Reply::new`].
    pub fn text(
        code: ReplyCode,
        enhanced: Option<EnhancedStatusCode>,
        text: &'a str,
    ) -> Result<Self, ValueError> {
        Reply::new(code, enhanced, [Cow::Borrowed(text.as_bytes())])
    }
    /// Parses a complete reply: all its lines, each ending in CRLF (the last CRLF optional).
    pub fn parse(input: &'a [u8]) -> Result<Self, ReplyError> {
        crate::parse::reply::reply(input)
    }
    /// The reply code.
    pub fn code(&self) -> ReplyCode {
        self.code
    }
    /// The enhanced status code, when every line carried it.
    pub fn enhanced(&self) -> Option<EnhancedStatusCode> {
        self.enhanced
    }
    /// The text of each line, without code and enhanced code.
    pub fn lines(&self) -> &[Cow<'a, [u8]>] {
        &self.lines
    }
    /// Appends the reply to `out`: `code-` on continuation lines, `code ` on the last, the
    /// enhanced code on every line, each line ending with CRLF.
    pub fn encode(&self, out: &mut BytesMut) {
        crate::encode::reply::reply(self, out);
    }
    /// Detaches the value from the input it was parsed from.
    pub fn into_owned(self) -> Reply<'static> {
        Reply {
            code: self.code,
            enhanced: self.enhanced,
            lines: self
                .lines
                .into_iter()
                .map(|l| Cow::Owned(l.into_owned()))
                .collect(),
        }
    }
}

/// Assembles a reply from lines given one at a time (a multi-line reply spans lines).
///
/// After an error, every later call returns the same error.
#[derive(Debug, Clone)]
pub struct ReplyParser {
    max_lines: usize,
    code: Option<ReplyCode>,
    lines: Vec<Vec<u8>>,
    error: Option<ReplyError>,
}

impl Default for ReplyParser {
    fn default() -> Self {
        ReplyParser::new(ReplyParser::DEFAULT_MAX_LINES)
    }
}

impl ReplyParser {
    /// Default bound on the lines of one reply. RFC 5321 sets none; an EHLO reply of a
    /// well-known server has about 15 lines, so 100 leaves room while bounding memory.
    pub const DEFAULT_MAX_LINES: usize = 100;

    /// A parser accepting at most `max_lines` lines per reply (at least 1).
    pub fn new(max_lines: usize) -> Self {
        ReplyParser {
            max_lines: max_lines.max(1),
            code: None,
            lines: Vec::new(),
            error: None,
        }
    }

    /// Takes one line without its CRLF. Returns the reply when its last line arrives.
    pub fn push_line(&mut self, line: &[u8]) -> Result<Option<Reply<'static>>, ReplyError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let r = self.push_inner(line);
        if let Err(e) = &r {
            self.error = Some(e.clone());
        }
        r
    }

    fn push_inner(&mut self, line: &[u8]) -> Result<Option<Reply<'static>>, ReplyError> {
        let index = self.lines.len();
        let (code, last) = crate::parse::reply::reply_line_head(line, index)?;
        if let Some(expected) = self.code {
            if expected != code {
                return Err(ReplyError::CodeMismatch {
                    line: index,
                    expected: expected.get(),
                    found: code.get(),
                });
            }
        }
        if index >= self.max_lines {
            return Err(ReplyError::TooManyLines {
                limit: self.max_lines,
            });
        }
        self.code = Some(code);
        if index == 1 {
            // A multi-line reply (an EHLO reply has about ten lines): grow once, not by
            // doubling from four. Single-line replies, the common case, stay small.
            self.lines.reserve(15);
        }
        self.lines.push(line.to_vec());
        if !last {
            return Ok(None);
        }
        self.code = None;
        let lines = std::mem::take(&mut self.lines);
        Ok(Some(crate::parse::reply::assemble_owned(code, lines)))
    }

    /// Whether a multi-line reply is partly assembled.
    pub fn is_pending(&self) -> bool {
        !self.lines.is_empty()
    }
}

/// The extensions a server announced in its EHLO reply (RFC 5321 section 4.1.1.1).
///
/// Keywords are matched case-insensitively. Unknown keywords and their parameters are kept in
/// [`Capabilities::unknown`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Capabilities {
    /// The first line: the server's domain and optional greeting, raw.
    pub greeting: Vec<u8>,
    /// `PIPELINING` (RFC 2920).
    pub pipelining: bool,
    /// `SIZE [limit]` (RFC 1870): `Some(None)` without a limit (or `SIZE 0`: no fixed limit).
    pub size: Option<Option<u64>>,
    /// `8BITMIME` (RFC 6152).
    pub eight_bit_mime: bool,
    /// `SMTPUTF8` (RFC 6531).
    pub smtputf8: bool,
    /// `STARTTLS` (RFC 3207).
    pub starttls: bool,
    /// `AUTH mech...` (RFC 4954): the mechanisms, upper case, in order.
    pub auth: Option<Vec<String>>,
    /// `ENHANCEDSTATUSCODES` (RFC 2034).
    pub enhanced_status_codes: bool,
    /// `CHUNKING` (RFC 3030).
    pub chunking: bool,
    /// `BINARYMIME` (RFC 3030).
    pub binary_mime: bool,
    /// `DSN` (RFC 3461).
    pub dsn: bool,
    /// `ETRN` (RFC 1985).
    pub etrn: bool,
    /// `VRFY` (RFC 5321).
    pub vrfy: bool,
    /// `REQUIRETLS` (RFC 8689).
    pub requiretls: bool,
    /// `LIMITS name=value...` (RFC 9422), names upper case, in order.
    pub limits: Option<Vec<(String, String)>>,
    /// Keywords not interpreted here with their parameters, as sent.
    pub unknown: Vec<(String, Vec<String>)>,
}

impl Capabilities {
    /// Reads the capabilities from a successful EHLO reply.
    pub fn from_reply(reply: &Reply<'_>) -> Result<Self, ReplyError> {
        crate::parse::ehlo::ehlo_ok_rsp(reply)
    }
    /// The value of a LIMITS limit (`MAILMAX`, `RCPTMAX`, `RCPTDOMAINMAX`), if announced and
    /// numeric.
    pub fn limit(&self, name: &str) -> Option<u64> {
        self.limits
            .as_ref()?
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))?
            .1
            .parse()
            .ok()
    }
    /// Builds the `250` EHLO reply announcing these capabilities, in a canonical order.
    pub fn to_reply(&self) -> Result<Reply<'static>, ValueError> {
        crate::encode::ehlo::ehlo_ok_rsp(self)
    }
}
