//! Replies ([`Reply`], [`ReplyParser`]) and EHLO capabilities ([`Capabilities`]).

use std::borrow::Cow;
use std::fmt;

use bytes::BytesMut;
use mail_wire::sasl::Mechanism;

use crate::types::{EnhancedStatusCode, ReplyCode};
use crate::{ReplyError, ValueError};

/// A reply: a code, an optional enhanced status code (RFC 2034: on every line when present)
/// and one or more lines of text (raw bytes, never replaced lossily).
///
/// The text of all lines is kept in one buffer, so a parsed reply costs at most one
/// allocation whatever its number of lines, and a one-line reply parsed with [`Reply::parse`]
/// or built with [`Reply::text`] borrows and allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply<'a> {
    code: ReplyCode,
    enhanced: Option<EnhancedStatusCode>,
    /// The text of each line, without code and enhanced code, joined with LF (which no line
    /// can contain).
    text: Cow<'a, [u8]>,
    /// The number of lines: one more than the LFs in `text`.
    lines: usize,
}

impl<'a> Reply<'a> {
    /// Builds a reply. Each line of text must be free of CR and LF; with no enhanced code, the
    /// first line must not start with something that parses as one. An empty `lines` becomes one empty line.
    pub fn new(
        code: ReplyCode,
        enhanced: Option<EnhancedStatusCode>,
        lines: impl IntoIterator<Item = Cow<'a, [u8]>>,
    ) -> Result<Self, ValueError> {
        let mut lines = lines.into_iter();
        let first = lines.next().unwrap_or(Cow::Borrowed(&b""[..]));
        check_text(&first)?;
        if enhanced.is_none() && crate::parse::reply::enhanced_prefix(&first).is_some() {
            return Err(ValueError {
                rule: "textstring",
                offset: 0,
            });
        }
        let mut text = first;
        let mut count = 1;
        for line in lines {
            check_text(&line)?;
            let joined = text.to_mut();
            joined.push(b'\n');
            joined.extend_from_slice(&line);
            count += 1;
        }
        Ok(Reply {
            code,
            enhanced,
            text,
            lines: count,
        })
    }
    /// A reply from text already checked by the parser, joined with LF into `lines` lines.
    pub(crate) fn from_parsed(
        code: ReplyCode,
        enhanced: Option<EnhancedStatusCode>,
        text: Cow<'a, [u8]>,
        lines: usize,
    ) -> Self {
        debug_assert_eq!(memchr::memchr_iter(b'\n', &text).count() + 1, lines);
        Reply {
            code,
            enhanced,
            text,
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
    /// The text of each line, without code and enhanced code. There is always at least one.
    ///
    /// ```
    /// use smtp_proto::Reply;
    ///
    /// let reply = Reply::parse(b"250-mx.example.org\r\n250 PIPELINING\r\n").unwrap();
    /// let lines: Vec<&[u8]> = reply.lines().collect();
    /// assert_eq!(lines, [&b"mx.example.org"[..], b"PIPELINING"]);
    /// assert_eq!(reply.lines().len(), 2);
    /// ```
    pub fn lines(&self) -> Lines<'_> {
        Lines {
            rest: &self.text,
            left: self.lines,
        }
    }
    /// The text of the first line (for a one-line reply, all of it).
    pub fn first_line(&self) -> &[u8] {
        let end = memchr::memchr(b'\n', &self.text).unwrap_or(self.text.len());
        &self.text[..end]
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
            text: Cow::Owned(self.text.into_owned()),
            lines: self.lines,
        }
    }
}

/// Refuses a line of reply text holding CR or LF.
fn check_text(line: &[u8]) -> Result<(), ValueError> {
    match memchr::memchr2(b'\r', b'\n', line) {
        Some(offset) => Err(ValueError {
            rule: "textstring",
            offset,
        }),
        None => Ok(()),
    }
}

/// The lines of a [`Reply`], first to last; see [`Reply::lines`].
#[derive(Debug, Clone)]
pub struct Lines<'r> {
    rest: &'r [u8],
    left: usize,
}

impl<'r> Iterator for Lines<'r> {
    type Item = &'r [u8];

    fn next(&mut self) -> Option<&'r [u8]> {
        self.left = self.left.checked_sub(1)?;
        if self.left == 0 {
            return Some(std::mem::take(&mut self.rest));
        }
        // Lines are short: a plain loop beats a call into `memchr` here.
        let end = self
            .rest
            .iter()
            .position(|b| *b == b'\n')
            .unwrap_or(self.rest.len());
        let line = &self.rest[..end];
        self.rest = self.rest.get(end + 1..).unwrap_or_default();
        Some(line)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Lines<'_> {}

impl std::iter::FusedIterator for Lines<'_> {}

/// Assembles a reply from lines given one at a time (a multi-line reply spans lines).
///
/// The text of every line goes into one buffer, which becomes the reply's, so a reply of any
/// number of lines costs one allocation.
///
/// After an error, every later call returns the same error.
#[derive(Debug, Clone)]
pub struct ReplyParser {
    max_lines: usize,
    /// The code of the pending multi-line reply.
    code: Option<ReplyCode>,
    /// The enhanced code of the first line of the pending reply.
    enhanced: Option<EnhancedStatusCode>,
    /// The text of the lines so far, joined with LF.
    text: Vec<u8>,
    /// The number of lines so far.
    lines: usize,
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

    /// Room reserved for the text of a multi-line reply when its first line arrives: an EHLO
    /// reply of a well-known server has about 200 octets of text.
    const MULTI_LINE_RESERVE: usize = 512;

    /// A parser accepting at most `max_lines` lines per reply (at least 1).
    pub fn new(max_lines: usize) -> Self {
        ReplyParser {
            max_lines: max_lines.max(1),
            code: None,
            enhanced: None,
            text: Vec::new(),
            lines: 0,
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
        let index = self.lines;
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
        let text = line.get(4..).unwrap_or_default();
        if index == 0 {
            self.enhanced = crate::parse::reply::enhanced_prefix(text).map(|(e, _)| e);
            // A one-line reply (the common case) gets exactly its size; a multi-line one
            // (an EHLO reply) grows once at most.
            self.text = Vec::with_capacity(if last {
                text.len()
            } else {
                Self::MULTI_LINE_RESERVE
            });
        } else {
            self.text.push(b'\n');
        }
        let text = crate::parse::reply::strip_enhanced(self.enhanced, text);
        self.text.extend_from_slice(text);
        self.lines = index + 1;
        if !last {
            self.code = Some(code);
            return Ok(None);
        }
        self.code = None;
        self.lines = 0;
        Ok(Some(Reply::from_parsed(
            code,
            self.enhanced.take(),
            Cow::Owned(std::mem::take(&mut self.text)),
            index + 1,
        )))
    }

    /// Whether a multi-line reply is partly assembled.
    pub fn is_pending(&self) -> bool {
        self.lines > 0
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
    pub auth: Option<AuthMechanisms>,
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
        crate::parse::ehlo::capabilities(reply, false)
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

/// The SASL mechanisms of an `AUTH` EHLO line (RFC 4954 section 3): names in upper case, in
/// the order offered, without repeats.
///
/// The names are kept in one string, so reading an `AUTH` line costs one allocation however
/// many mechanisms it lists.
///
/// ```
/// use smtp_proto::{AuthMechanisms, Capabilities, Reply};
///
/// let reply = Reply::parse(b"250-mx.example.org\r\n250 AUTH plain LOGIN PLAIN\r\n").unwrap();
/// let caps = Capabilities::from_reply(&reply).unwrap();
/// let auth = caps.auth.unwrap();
/// assert_eq!(auth.iter().collect::<Vec<_>>(), ["PLAIN", "LOGIN"]);
/// assert!(auth.contains("login"));
///
/// let mut built = AuthMechanisms::new();
/// built.push("scram-sha-256").unwrap();
/// assert_eq!(built.as_str(), "SCRAM-SHA-256");
/// assert!(built.push("TWO WORDS").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Default, Hash)]
pub struct AuthMechanisms {
    /// The names, separated by one SP.
    names: String,
}

impl AuthMechanisms {
    /// No mechanisms.
    pub fn new() -> Self {
        AuthMechanisms::default()
    }

    /// Adds a mechanism in upper case, unless it is already there. A name is one or more
    /// printable ASCII characters other than SP (`ehlo-param`, RFC 5321 section 4.1.1.1), which
    /// RFC 4422's `sasl-mech` names all are.
    pub fn push(&mut self, name: &str) -> Result<(), ValueError> {
        if let Some(offset) = name.bytes().position(|b| !b.is_ascii_graphic()) {
            return Err(ValueError {
                rule: "sasl-mech",
                offset,
            });
        }
        if name.is_empty() {
            return Err(ValueError {
                rule: "sasl-mech",
                offset: 0,
            });
        }
        if !self.contains(name) {
            if !self.names.is_empty() {
                self.names.push(' ');
            }
            let start = self.names.len();
            self.names.push_str(name);
            self.names[start..].make_ascii_uppercase();
        }
        Ok(())
    }

    /// Makes room for `additional` more octets of names.
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.names.reserve(additional);
    }

    /// The names, upper case, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + Clone + '_ {
        self.names.split(' ').filter(|name| !name.is_empty())
    }

    /// Whether `name` is among them, ignoring ASCII case.
    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|have| have.eq_ignore_ascii_case(name))
    }

    /// Whether `mechanism`, one this crate's SASL implements, is among them.
    pub fn offers(&self, mechanism: Mechanism) -> bool {
        self.contains(mechanism.name())
    }

    /// The number of mechanisms.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are none (an `AUTH` line without mechanisms).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The names separated by single spaces, as on the `AUTH` line.
    pub fn as_str(&self) -> &str {
        &self.names
    }
}

impl fmt::Debug for AuthMechanisms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl fmt::Display for AuthMechanisms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names)
    }
}

/// The mechanisms, in order (as a server announces those it implements).
impl FromIterator<Mechanism> for AuthMechanisms {
    fn from_iter<I: IntoIterator<Item = Mechanism>>(mechanisms: I) -> Self {
        let mut out = AuthMechanisms::new();
        for mechanism in mechanisms {
            // Registered names are upper-case `sasl-mech` names: always accepted.
            let _ = out.push(mechanism.name());
        }
        out
    }
}
