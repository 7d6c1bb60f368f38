//! Server-to-client messages: the [`Greeting`], and every [`Response`] of RFC 3501 and RFC 9051
//! and of the extensions this crate implements: status responses (tagged and untagged),
//! untagged data, and continuation requests.
//!
//! [`Response::parse`] and [`Greeting::parse`] take one complete message (as the
//! [`framer`](crate::framer) delivers it: the line, its literals, the final CRLF) and accept
//! the known deviations of real servers ([`Quirks::LENIENT`]); [`Response::parse_with`] and
//! [`Greeting::parse_with`] take the switches to use. Unknown capabilities, response codes and
//! untagged responses are kept ([`Capability::Other`], [`Code::Other`], [`Data::Other`]),
//! never refused.
//!
//! ```
//! use imap_proto::response::{Data, Response, StatusKind};
//! use imap_proto::Encode;
//!
//! let r = Response::parse(b"* 12 FETCH (FLAGS (\\Seen) UID 4827)\r\n").unwrap();
//! let Response::Data(Data::Fetch { seq, items }) = &r else { panic!() };
//! assert_eq!((seq.get(), items.len()), (12, 2));
//!
//! let r = Response::parse(b"A1 OK [READ-WRITE] SELECT completed\r\n").unwrap();
//! let Response::Status(s) = &r else { panic!() };
//! assert_eq!((s.tag().unwrap().as_str(), s.kind()), ("A1", StatusKind::Ok));
//! assert_eq!(r.to_bytes(), b"A1 OK [READ-WRITE] SELECT completed\r\n");
//! ```

mod base64;
mod capability;
mod code;
mod data;

use std::borrow::Cow;

pub use capability::Capability;
pub use code::{Code, CodeText};
pub use data::{
    Data, Delimiter, ESearch, ESearchItem, ListData, ListExtendedItem, Namespace, NamespaceDescr,
    NamespaceExtension, QuotaResource, RawValue, Resource, StatusValue, Thread,
};

use crate::core::{Tag, Text};
use crate::encode::{Encode, Writer};
use crate::error::{ErrorKind, ParseError, ValidationError};
use crate::parse::{PResult, Quirks, Reader};

/// One message from the server after the greeting: `response-data`, `response-done` or
/// `continue-req` (RFC 3501 / RFC 9051 section 9).
// `Data` is large because a FETCH response keeps up to four items inline; boxing it would
// cost a heap allocation per message, which the `* n FETCH (FLAGS (...) UID n)` path avoids.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response<'a> {
    /// A status response: tagged (`A1 OK ...`, the end of a command) or untagged
    /// (`* OK ...`, `* BYE ...`).
    Status(StatusResponse<'a>),
    /// Untagged data (`* 3 EXISTS`, `* LIST ...`, `* 1 FETCH ...`).
    Data(Data<'a>),
    /// A continuation request (`+ ...`).
    Continuation(Continuation<'a>),
}

impl<'a> Response<'a> {
    /// Parse one complete response, accepting every known server quirk
    /// ([`Quirks::LENIENT`]).
    pub fn parse(input: &'a [u8]) -> Result<Response<'a>, ParseError> {
        Self::parse_with(input, Quirks::LENIENT)
    }

    /// Parse one complete response, accepting the quirks that are switched on.
    pub fn parse_with(input: &'a [u8], quirks: Quirks) -> Result<Response<'a>, ParseError> {
        let mut r = Reader::new(input, quirks);
        r.from_server = true;
        Self::read(&mut r)
    }

    /// `(response-data / response-done / continue-req)` through the final CRLF, after which
    /// nothing may remain. Each branch checks the end before it builds its value: a FETCH
    /// response is large, and each move of it is a copy.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Response<'a>> {
        match r.peek() {
            Some(b'+') => {
                r.next_byte();
                let c = Continuation::read_after_plus(r)?;
                r.crlf_end()?;
                Ok(Response::Continuation(c))
            }
            Some(b'*') => {
                r.next_byte();
                r.sp()?;
                if r.peek().is_some_and(|b| b.is_ascii_digit()) {
                    return Data::read_numbered(r);
                }
                let start = r.pos();
                let name = r.atom()?;
                match StatusKind::from_name(name) {
                    Some(kind) => {
                        let mut code = None;
                        let text = read_status_rest(r, &mut code)?;
                        r.crlf_end()?;
                        Ok(Response::Status(StatusResponse {
                            tag: None,
                            kind,
                            code,
                            text,
                        }))
                    }
                    None => {
                        let d = Data::read_named(r, start, name)?;
                        r.crlf_end()?;
                        Ok(Response::Data(d))
                    }
                }
            }
            Some(_) => {
                let tag = Tag::read(r)?;
                r.sp()?;
                let at = r.pos();
                let kind = match r.atom().ok().and_then(StatusKind::from_name) {
                    Some(k @ (StatusKind::Ok | StatusKind::No | StatusKind::Bad)) => k,
                    _ => return Err(ParseError::new(at, "OK, NO or BAD", ErrorKind::Syntax)),
                };
                let mut code = None;
                let text = read_status_rest(r, &mut code)?;
                r.crlf_end()?;
                Ok(Response::Status(StatusResponse {
                    tag: Some(tag),
                    kind,
                    code,
                    text,
                }))
            }
            None => Err(r.error_kind("response", ErrorKind::Incomplete)),
        }
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> Response<'static> {
        match self {
            Response::Status(s) => Response::Status(s.into_static()),
            Response::Data(d) => Response::Data(d.into_static()),
            Response::Continuation(c) => Response::Continuation(c.into_static()),
        }
    }
}

impl Encode for Response<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            Response::Status(s) => s.encode(w),
            Response::Data(d) => d.encode(w),
            Response::Continuation(c) => c.encode(w),
        }
    }
}

/// The condition of a status response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusKind {
    /// `OK`.
    Ok,
    /// `NO`.
    No,
    /// `BAD`.
    Bad,
    /// `BYE` (untagged only).
    Bye,
    /// `PREAUTH` (untagged only, in a greeting).
    PreAuth,
}

impl StatusKind {
    fn from_name(name: &str) -> Option<StatusKind> {
        [
            ("OK", StatusKind::Ok),
            ("NO", StatusKind::No),
            ("BAD", StatusKind::Bad),
            ("BYE", StatusKind::Bye),
            ("PREAUTH", StatusKind::PreAuth),
        ]
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, k)| k)
    }

    /// The keyword on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::Ok => "OK",
            StatusKind::No => "NO",
            StatusKind::Bad => "BAD",
            StatusKind::Bye => "BYE",
            StatusKind::PreAuth => "PREAUTH",
        }
    }
}

/// A status response: `response-tagged` (`tag SP resp-cond-state`), or untagged
/// `resp-cond-state` / `resp-cond-bye` (and `PREAUTH`, which only a greeting carries), with
/// its `resp-text` (RFC 3501 / RFC 9051 section 7.1).
///
/// The text may be absent (RFC 9051 makes it optional; RFC 3501 servers always send some);
/// it is then encoded as nothing after the `SP` (`A1 OK \r\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusResponse<'a> {
    tag: Option<Tag<'a>>,
    kind: StatusKind,
    code: Option<Code<'a>>,
    text: Option<Text<'a>>,
}

impl<'a> StatusResponse<'a> {
    /// A tagged response: `kind` must be OK, NO or BAD; without a code, the text must not
    /// start with `[` (it would read back as a code).
    pub fn tagged(
        tag: Tag<'a>,
        kind: StatusKind,
        code: Option<Code<'a>>,
        text: Option<Text<'a>>,
    ) -> Result<Self, ValidationError> {
        if !matches!(kind, StatusKind::Ok | StatusKind::No | StatusKind::Bad) {
            return Err(ValidationError::new(
                "status response",
                "a tagged response is OK, NO or BAD",
            ));
        }
        check_resp_text(&code, &text)?;
        Ok(Self {
            tag: Some(tag),
            kind,
            code,
            text,
        })
    }

    /// An untagged response (`* OK`, `* NO`, `* BAD`, `* BYE`, `* PREAUTH`); without a code,
    /// the text must not start with `[`.
    pub fn untagged(
        kind: StatusKind,
        code: Option<Code<'a>>,
        text: Option<Text<'a>>,
    ) -> Result<Self, ValidationError> {
        check_resp_text(&code, &text)?;
        Ok(Self {
            tag: None,
            kind,
            code,
            text,
        })
    }

    /// The tag, for a tagged response.
    pub fn tag(&self) -> Option<&Tag<'a>> {
        self.tag.as_ref()
    }

    /// OK, NO, BAD, BYE or PREAUTH.
    pub fn kind(&self) -> StatusKind {
        self.kind
    }

    /// The response code, if any.
    pub fn code(&self) -> Option<&Code<'a>> {
        self.code.as_ref()
    }

    /// The human-readable text.
    pub fn text(&self) -> Option<&Text<'a>> {
        self.text.as_ref()
    }

    /// The parts: tag, kind, code, text.
    pub fn into_parts(
        self,
    ) -> (
        Option<Tag<'a>>,
        StatusKind,
        Option<Code<'a>>,
        Option<Text<'a>>,
    ) {
        (self.tag, self.kind, self.code, self.text)
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> StatusResponse<'static> {
        StatusResponse {
            tag: self.tag.map(Tag::into_static),
            kind: self.kind,
            code: self.code.map(Code::into_static),
            text: self.text.map(Text::into_static),
        }
    }
}

impl Encode for StatusResponse<'_> {
    fn encode(&self, w: &mut Writer) {
        match &self.tag {
            Some(t) => t.encode(w),
            None => w.byte(b'*'),
        }
        w.sp();
        w.raw(self.kind.as_str().as_bytes());
        w.sp();
        encode_resp_text(w, &self.code, &self.text);
        w.crlf();
    }
}

/// Which greeting the server sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GreetingKind {
    /// `OK`: not authenticated yet.
    Ok,
    /// `PREAUTH`: already authenticated.
    PreAuth,
    /// `BYE`: the server refuses the connection.
    Bye,
}

/// The first message of a connection: `greeting = "*" SP (resp-cond-auth / resp-cond-bye)
/// CRLF` (RFC 3501 / RFC 9051 section 7.1.1, 7.1.4, 7.1.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting<'a> {
    kind: GreetingKind,
    code: Option<Code<'a>>,
    text: Option<Text<'a>>,
}

impl<'a> Greeting<'a> {
    /// A greeting; without a code, the text must not start with `[`.
    pub fn new(
        kind: GreetingKind,
        code: Option<Code<'a>>,
        text: Option<Text<'a>>,
    ) -> Result<Self, ValidationError> {
        check_resp_text(&code, &text)?;
        Ok(Self { kind, code, text })
    }

    /// Parse a greeting, accepting every known server quirk ([`Quirks::LENIENT`]).
    pub fn parse(input: &'a [u8]) -> Result<Greeting<'a>, ParseError> {
        Self::parse_with(input, Quirks::LENIENT)
    }

    /// Parse a greeting, accepting the quirks that are switched on.
    pub fn parse_with(input: &'a [u8], quirks: Quirks) -> Result<Greeting<'a>, ParseError> {
        let mut r = Reader::new(input, quirks);
        r.from_server = true;
        let g = Self::read(&mut r)?;
        r.crlf_end()?;
        Ok(g)
    }

    fn read(r: &mut Reader<'a>) -> PResult<Greeting<'a>> {
        r.expect(b'*', "*")?;
        r.sp()?;
        let kind = if r.keyword("OK") {
            GreetingKind::Ok
        } else if r.keyword("PREAUTH") {
            GreetingKind::PreAuth
        } else if r.keyword("BYE") {
            GreetingKind::Bye
        } else {
            return Err(r.error("OK, PREAUTH or BYE"));
        };
        let mut code = None;
        let text = read_status_rest(r, &mut code)?;
        Ok(Greeting { kind, code, text })
    }

    /// OK, PREAUTH or BYE.
    pub fn kind(&self) -> GreetingKind {
        self.kind
    }

    /// The response code (often `CAPABILITY`), if any.
    pub fn code(&self) -> Option<&Code<'a>> {
        self.code.as_ref()
    }

    /// The human-readable text.
    pub fn text(&self) -> Option<&Text<'a>> {
        self.text.as_ref()
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> Greeting<'static> {
        Greeting {
            kind: self.kind,
            code: self.code.map(Code::into_static),
            text: self.text.map(Text::into_static),
        }
    }
}

impl Encode for Greeting<'_> {
    fn encode(&self, w: &mut Writer) {
        w.raw(match self.kind {
            GreetingKind::Ok => b"* OK ",
            GreetingKind::PreAuth => b"* PREAUTH ",
            GreetingKind::Bye => b"* BYE ",
        });
        encode_resp_text(w, &self.code, &self.text);
        w.crlf();
    }
}

/// A continuation request: `continue-req = "+" SP (resp-text / base64) CRLF` (RFC 3501
/// section 7.5, RFC 9051 section 7.6). The server asks for the rest of a command (after a
/// synchronising literal's header, or during IDLE) or sends an AUTHENTICATE challenge.
///
/// A line that is valid base64 (the empty line included) reads as [`Continuation::Base64`];
/// anything else as [`Continuation::Text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Continuation<'a> {
    /// `+ [code] text`.
    Text(ContinuationText<'a>),
    /// `+ base64`: an AUTHENTICATE challenge, decoded. Empty for `+ ` (and for `+` alone,
    /// under [`Quirks::empty_continuation`]).
    Base64(Cow<'a, [u8]>),
}

/// The text form of a continuation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContinuationText<'a> {
    code: Option<Code<'a>>,
    text: Option<Text<'a>>,
}

impl<'a> ContinuationText<'a> {
    /// `[code] text`. Refused when it would read back as something else: no code and a text
    /// that is valid base64 (the empty text too), or no code and a text starting with `[`.
    pub fn new(code: Option<Code<'a>>, text: Option<Text<'a>>) -> Result<Self, ValidationError> {
        check_resp_text(&code, &text)?;
        if code.is_none()
            && text
                .as_ref()
                .is_none_or(|t| base64::is_base64(t.as_str().as_bytes()))
        {
            return Err(ValidationError::new(
                "continuation request",
                "text without a code that is valid base64 reads back as base64",
            ));
        }
        Ok(Self { code, text })
    }

    /// The response code, if any.
    pub fn code(&self) -> Option<&Code<'a>> {
        self.code.as_ref()
    }

    /// The text.
    pub fn text(&self) -> Option<&Text<'a>> {
        self.text.as_ref()
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> ContinuationText<'static> {
        ContinuationText {
            code: self.code.map(Code::into_static),
            text: self.text.map(Text::into_static),
        }
    }
}

impl<'a> Continuation<'a> {
    /// `+ [code] text` (see [`ContinuationText::new`]).
    pub fn text(code: Option<Code<'a>>, text: Option<Text<'a>>) -> Result<Self, ValidationError> {
        ContinuationText::new(code, text).map(Continuation::Text)
    }

    /// `+ base64`: `data` is sent base64-encoded.
    pub fn base64(data: impl Into<Cow<'a, [u8]>>) -> Self {
        Continuation::Base64(data.into())
    }

    /// After the `+`.
    fn read_after_plus(r: &mut Reader<'a>) -> PResult<Continuation<'a>> {
        if r.quirks.empty_continuation && r.rest().starts_with(b"\r\n") {
            return Ok(Continuation::Base64(Cow::Borrowed(&[])));
        }
        r.expect(b' ', "SP")?;
        let start = r.pos();
        let line = r.take_while(|b| b != b'\r' && b != b'\n');
        if let Some(data) = base64::decode(line) {
            return Ok(Continuation::Base64(Cow::Owned(data)));
        }
        r.reset(start);
        let mut code = None;
        let text = read_resp_text(r, &mut code)?;
        Ok(Continuation::Text(ContinuationText { code, text }))
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> Continuation<'static> {
        match self {
            Continuation::Text(t) => Continuation::Text(t.into_static()),
            Continuation::Base64(d) => Continuation::Base64(Cow::Owned(d.into_owned())),
        }
    }
}

impl Encode for Continuation<'_> {
    fn encode(&self, w: &mut Writer) {
        w.raw(b"+ ");
        match self {
            Continuation::Text(t) => encode_resp_text(w, &t.code, &t.text),
            Continuation::Base64(d) => {
                let mut out = Vec::with_capacity(d.len().div_ceil(3) * 4);
                base64::encode(d, &mut out);
                w.raw(&out);
            }
        }
        w.crlf();
    }
}

/// A code-less text starting with `[` would read back as a code.
fn check_resp_text(
    code: &Option<Code<'_>>,
    text: &Option<Text<'_>>,
) -> Result<(), ValidationError> {
    if code.is_none() && text.as_ref().is_some_and(|t| t.as_str().starts_with('[')) {
        return Err(ValidationError::new(
            "response text",
            "text without a code must not start with [",
        ));
    }
    Ok(())
}

/// What follows a status keyword: `SP resp-text`, or nothing under
/// [`Quirks::missing_text`]. The code goes into `code` (a response code is large: it is
/// written once, where the caller keeps it, rather than returned through each level).
fn read_status_rest<'a>(
    r: &mut Reader<'a>,
    code: &mut Option<Code<'a>>,
) -> PResult<Option<Text<'a>>> {
    if r.eat(b' ') {
        return read_resp_text(r, code);
    }
    if r.quirks.missing_text && r.peek() == Some(b'\r') {
        return Ok(None);
    }
    Err(r.error("SP"))
}

/// `resp-text = ["[" resp-text-code "]" SP] [text]` (RFC 9051; RFC 3501 requires the text).
/// A `[` that does not start a well-formed code is part of the text. With
/// [`Quirks::missing_text`], the `SP` after the code may be missing too. The code goes into
/// `code`.
fn read_resp_text<'a>(
    r: &mut Reader<'a>,
    code: &mut Option<Code<'a>>,
) -> PResult<Option<Text<'a>>> {
    if r.peek() == Some(b'[') {
        let save = r.pos();
        r.next_byte();
        match Code::read(r) {
            Ok(c) if r.eat(b']') => {
                if r.eat(b' ') {
                    *code = Some(c);
                    return read_text(r);
                }
                if r.quirks.missing_text && r.peek() == Some(b'\r') {
                    *code = Some(c);
                    return Ok(None);
                }
            }
            Err(e) if e.kind() == ErrorKind::TooDeep => return Err(e),
            _ => {}
        }
        r.reset(save);
    }
    read_text(r)
}

/// `[text]`: everything up to the CRLF (UTF-8; no NUL), `None` when there is nothing.
fn read_text<'a>(r: &mut Reader<'a>) -> PResult<Option<Text<'a>>> {
    if matches!(r.peek(), Some(b'\r' | b'\n') | None) {
        return Ok(None);
    }
    Text::read(r).map(Some)
}

fn encode_resp_text(w: &mut Writer, code: &Option<Code<'_>>, text: &Option<Text<'_>>) {
    if let Some(c) = code {
        w.byte(b'[');
        c.encode(w);
        w.raw(b"] ");
    }
    if let Some(t) = text {
        w.raw(t.as_str().as_bytes());
    }
}

/// Whether an optional `SP item` follows: a space that is not (under
/// [`Quirks::trailing_space`]) only spaces before the CRLF.
pub(crate) fn sp_follows(r: &Reader<'_>) -> bool {
    if r.peek() != Some(b' ') {
        return false;
    }
    if r.quirks.trailing_space {
        let rest = r.rest();
        let n = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
        if rest.get(n..).is_some_and(|t| t.starts_with(b"\r\n")) {
            return false;
        }
    }
    true
}

/// `"(" [item *(SP item)] ")"`.
pub(crate) fn encode_list<T: Encode>(w: &mut Writer, items: &[T]) {
    w.byte(b'(');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            w.sp();
        }
        item.encode(w);
    }
    w.byte(b')');
}
