//! Validated newtypes for the pieces of SMTP syntax.
//!
//! Every constructor checks its input against the grammar, so no value can be built that
//! encodes to something else: in particular no CR or LF can enter a command or a reply through
//! a domain, a mailbox or reply text. Parsed values borrow from the line; `into_owned()` makes
//! them `'static`.

use std::borrow::Cow;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::ValueError;
use crate::parse::{self, path};

fn own(c: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(c.into_owned())
}

/// A domain name (RFC 5321 section 4.1.2 `Domain`), with U-labels (UTF-8, RFC 6531) allowed.
///
/// At most 255 octets (RFC 5321 section 4.5.3.1.2), labels of 1 to 63 octets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Domain<'a>(Cow<'a, str>);

impl<'a> Domain<'a> {
    /// Validates `s` as a `Domain`.
    pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, ValueError> {
        let s = s.into();
        parse::validate(s.as_bytes(), "Domain", |i| path::domain(i, true))?;
        Ok(Domain(s))
    }
    pub(crate) fn from_parsed(s: &'a str) -> Self {
        Domain(Cow::Borrowed(s))
    }
    /// The domain as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Whether the domain contains non-ASCII (U-label) characters.
    pub fn is_utf8(&self) -> bool {
        !self.0.is_ascii()
    }
    /// Detaches the value from the input it was parsed from.
    pub fn into_owned(self) -> Domain<'static> {
        Domain(own(self.0))
    }
}

impl fmt::Display for Domain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An address literal (RFC 5321 section 4.1.3), written in square brackets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AddressLiteral<'a> {
    /// `[192.0.2.1]`
    Ipv4(Ipv4Addr),
    /// `[IPv6:2001:db8::1]`
    Ipv6(Ipv6Addr),
    /// `[tag:content]`: a General-address-literal with a standardized tag other than `IPv6`.
    General(GeneralLiteral<'a>),
}

impl<'a> AddressLiteral<'a> {
    /// Parses and validates a literal including its brackets, for example `"[IPv6:::1]"`.
    pub fn new(s: &'a str) -> Result<Self, ValueError> {
        parse::validate(s.as_bytes(), "address-literal", path::address_literal)
    }
    /// Detaches the value from the input it was parsed from.
    pub fn into_owned(self) -> AddressLiteral<'static> {
        match self {
            AddressLiteral::Ipv4(a) => AddressLiteral::Ipv4(a),
            AddressLiteral::Ipv6(a) => AddressLiteral::Ipv6(a),
            AddressLiteral::General(g) => AddressLiteral::General(g.into_owned()),
        }
    }
}

/// A General-address-literal (RFC 5321 section 4.1.3): `[tag:content]` with a standardized
/// tag other than `IPv6`. Its parts can only be set through [`GeneralLiteral::new`], which
/// validates them, so it always encodes to exactly one literal.
///
/// ```
/// use smtp_proto::{AddressLiteral, GeneralLiteral};
///
/// let literal = GeneralLiteral::new("x-future", "a.b.c").unwrap();
/// assert_eq!((literal.tag(), literal.content()), ("x-future", "a.b.c"));
/// assert_eq!(
///     AddressLiteral::new("[x-future:a.b.c]").unwrap(),
///     AddressLiteral::General(literal)
/// );
/// // No CR, LF, bracket or space gets into the command line.
/// assert!(GeneralLiteral::new("x", "1]>\r\nRSET").is_err());
/// assert!(GeneralLiteral::new("IPv6", "::1").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GeneralLiteral<'a> {
    tag: Cow<'a, str>,
    content: Cow<'a, str>,
}

impl<'a> GeneralLiteral<'a> {
    /// Validates `tag` as a `Standardized-tag` (`Ldh-str`, not `IPv6`) and `content` as
    /// `1*dcontent` (printable ASCII other than `[`, `\` and `]`). Offsets in the error count
    /// from the start of `[tag:content]`.
    pub fn new(tag: &str, content: &str) -> Result<GeneralLiteral<'static>, ValueError> {
        let written = format!("[{tag}:{content}]");
        match AddressLiteral::new(&written)? {
            // The parse splits at the first colon: a tag holding one would come back shorter.
            AddressLiteral::General(literal) if literal.tag() == tag => Ok(literal.into_owned()),
            // The parser reads the IPv6 tag (in any case) as an IPv6 literal.
            _ => Err(ValueError {
                rule: "Standardized-tag",
                offset: 1 + tag.find(':').unwrap_or(0),
            }),
        }
    }
    pub(crate) fn from_parsed(tag: &'a str, content: &'a str) -> Self {
        GeneralLiteral {
            tag: Cow::Borrowed(tag),
            content: Cow::Borrowed(content),
        }
    }
    /// The standardized tag.
    pub fn tag(&self) -> &str {
        &self.tag
    }
    /// The content after the colon.
    pub fn content(&self) -> &str {
        &self.content
    }
    /// Detaches the value from the input it was parsed from.
    pub fn into_owned(self) -> GeneralLiteral<'static> {
        GeneralLiteral {
            tag: own(self.tag),
            content: own(self.content),
        }
    }
}

/// The part of a mailbox after the `@`, or the argument of EHLO: a domain or an address literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host<'a> {
    /// A domain name.
    Domain(Domain<'a>),
    /// An address literal.
    Literal(AddressLiteral<'a>),
}

impl Host<'_> {
    /// Detaches the value from the input it was parsed from.
    pub fn into_owned(self) -> Host<'static> {
        match self {
            Host::Domain(d) => Host::Domain(d.into_owned()),
            Host::Literal(l) => Host::Literal(l.into_owned()),
        }
    }
    /// Whether the host contains non-ASCII characters.
    pub fn is_utf8(&self) -> bool {
        matches!(self, Host::Domain(d) if d.is_utf8())
    }
}

/// The local part of a mailbox, in its wire form: a `Dot-string` or a `Quoted-string`
/// (with its quotes and backslashes), UTF-8 allowed (RFC 6531 section 3.3), at most 64 octets
/// in that form (RFC 5321 section 4.5.3.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocalPart<'a>(Cow<'a, str>);

impl<'a> LocalPart<'a> {
    /// Validates `s` as a `Local-part` in wire form (`john.doe` or `"john doe"`).
    pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, ValueError> {
        let s = s.into();
        parse::validate(s.as_bytes(), "Local-part", |i| path::local_part(i, true))?;
        Ok(LocalPart(s))
    }
    /// Builds a local part from its unquoted value, quoting it only when needed.
    ///
    /// Fails for characters that cannot appear even quoted (controls, CR, LF).
    pub fn from_unquoted(value: &str) -> Result<LocalPart<'static>, ValueError> {
        if !value.is_empty() {
            if let Ok(l) = LocalPart::new(value) {
                if !l.is_quoted() {
                    return Ok(l.into_owned());
                }
            }
        }
        let mut q = String::with_capacity(value.len() + 2);
        q.push('"');
        for c in value.chars() {
            if c == '"' || c == '\\' {
                q.push('\\');
            }
            q.push(c);
        }
        q.push('"');
        LocalPart::new(q)
    }
    pub(crate) fn from_parsed(s: &'a str) -> Self {
        LocalPart(Cow::Borrowed(s))
    }
    /// The wire form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Whether this is a `Quoted-string`.
    pub fn is_quoted(&self) -> bool {
        self.0.starts_with('"')
    }
    /// The value without quotes and quoting backslashes (RFC 5321 section 4.1.2: the quoted
    /// and unquoted forms of a local part are the same address).
    pub fn unquoted(&self) -> Cow<'_, str> {
        if !self.is_quoted() {
            return Cow::Borrowed(&self.0);
        }
        let inner = &self.0[1..self.0.len() - 1];
        if !inner.contains('\\') {
            return Cow::Borrowed(inner);
        }
        let mut out = String::with_capacity(inner.len());
        let mut escaped = false;
        for c in inner.chars() {
            if !escaped && c == '\\' {
                escaped = true;
            } else {
                out.push(c);
                escaped = false;
            }
        }
        Cow::Owned(out)
    }
    /// Detaches the value from the input it was parsed from.
    pub fn into_owned(self) -> LocalPart<'static> {
        LocalPart(own(self.0))
    }
}

/// `Mailbox = Local-part "@" ( Domain / address-literal )` (RFC 5321 section 4.1.2).
///
/// Limits of RFC 5321 section 4.5.3.1: a local part of at most 64 octets and a domain of at
/// most 255 (checked by [`LocalPart::new`], [`Domain::new`] and the parsers), and a path
/// (`<` mailbox `>`) of at most 256 octets, which the command parser checks
/// ([`crate::CommandError::PathTooLong`]); [`Mailbox::new`] cannot refuse a longer mailbox, so
/// a server will refuse it in MAIL or RCPT.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox<'a> {
    /// The local part.
    pub local: LocalPart<'a>,
    /// The domain or address literal.
    pub host: Host<'a>,
}

impl<'a> Mailbox<'a> {
    /// A mailbox from its parts.
    pub fn new(local: LocalPart<'a>, host: Host<'a>) -> Self {
        Mailbox { local, host }
    }
    /// Parses `local@domain` (without angle brackets), UTF-8 allowed.
    pub fn parse(s: &'a str) -> Result<Self, ValueError> {
        parse::validate(s.as_bytes(), "Mailbox", |i| path::mailbox(i, true))
    }
    /// Whether the mailbox needs SMTPUTF8 (RFC 6531).
    pub fn is_utf8(&self) -> bool {
        !self.local.as_str().is_ascii() || self.host.is_utf8()
    }
    /// Detaches the value from the input it was parsed from.
    pub fn into_owned(self) -> Mailbox<'static> {
        Mailbox {
            local: self.local.into_owned(),
            host: self.host.into_owned(),
        }
    }
}

impl fmt::Display for AddressLiteral<'_> {
    /// The wire form, in brackets: `[192.0.2.1]`, `[IPv6:2001:db8::1]`, `[tag:content]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut b = bytes::BytesMut::new();
        crate::encode::path::address_literal(self, &mut b);
        f.write_str(std::str::from_utf8(&b).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Display for Host<'_> {
    /// The domain as written, or the address literal in brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => d.fmt(f),
            Host::Literal(l) => l.fmt(f),
        }
    }
}

impl fmt::Display for Mailbox<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut b = bytes::BytesMut::new();
        crate::encode::path::mailbox(self, &mut b);
        f.write_str(std::str::from_utf8(&b).map_err(|_| fmt::Error)?)
    }
}

/// The argument of MAIL FROM (RFC 5321 section 4.1.2 `Reverse-path`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReversePath<'a> {
    /// The null reverse path `<>` (bounces, RFC 5321 section 4.5.5).
    Null,
    /// A mailbox. A source route, if the client sent one, was accepted and ignored.
    Mailbox(Mailbox<'a>),
}

impl ReversePath<'_> {
    /// Detaches the value from the input it was parsed from.
    pub fn into_owned(self) -> ReversePath<'static> {
        match self {
            ReversePath::Null => ReversePath::Null,
            ReversePath::Mailbox(m) => ReversePath::Mailbox(m.into_owned()),
        }
    }
}

/// The argument of RCPT TO (RFC 5321 section 4.1.2 `Forward-path`, plus `<Postmaster>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ForwardPath<'a> {
    /// `<Postmaster>` without a domain (case-insensitive; RFC 5321 section 4.5.1).
    Postmaster,
    /// A mailbox. A source route, if the client sent one, was accepted and ignored.
    Mailbox(Mailbox<'a>),
}

impl ForwardPath<'_> {
    /// Detaches the value from the input it was parsed from.
    pub fn into_owned(self) -> ForwardPath<'static> {
        match self {
            ForwardPath::Postmaster => ForwardPath::Postmaster,
            ForwardPath::Mailbox(m) => ForwardPath::Mailbox(m.into_owned()),
        }
    }
}

/// A three-digit reply code (RFC 5321 section 4.2: `%x32-35 %x30-35 %x30-39`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplyCode(u16);

impl ReplyCode {
    /// `220` service ready.
    pub const SERVICE_READY: ReplyCode = ReplyCode(220);
    /// `221` closing.
    pub const CLOSING: ReplyCode = ReplyCode(221);
    /// `235` authentication succeeded.
    pub const AUTH_OK: ReplyCode = ReplyCode(235);
    /// `250` requested action completed.
    pub const OK: ReplyCode = ReplyCode(250);
    /// `334` SASL continuation.
    pub const AUTH_CONTINUE: ReplyCode = ReplyCode(334);
    /// `354` start mail input.
    pub const START_DATA: ReplyCode = ReplyCode(354);
    /// `421` service not available, closing.
    pub const UNAVAILABLE: ReplyCode = ReplyCode(421);
    /// `500` syntax error, command unrecognised.
    pub const SYNTAX_ERROR: ReplyCode = ReplyCode(500);
    /// `501` syntax error in parameters or arguments.
    pub const PARAM_SYNTAX_ERROR: ReplyCode = ReplyCode(501);
    /// `502` command not implemented.
    pub const NOT_IMPLEMENTED: ReplyCode = ReplyCode(502);
    /// `503` bad sequence of commands.
    pub const BAD_SEQUENCE: ReplyCode = ReplyCode(503);
    /// `550` mailbox unavailable.
    pub const MAILBOX_UNAVAILABLE: ReplyCode = ReplyCode(550);
    /// `554` transaction failed.
    pub const TRANSACTION_FAILED: ReplyCode = ReplyCode(554);
    /// `555` MAIL/RCPT parameters not recognised or not implemented.
    pub const PARAMS_NOT_RECOGNIZED: ReplyCode = ReplyCode(555);

    /// Validates a code: first digit 2 to 5, second 0 to 5, third 0 to 9.
    pub fn new(code: u16) -> Result<Self, ValueError> {
        let (a, b) = (code / 100, code / 10 % 10);
        if !(2..=5).contains(&a) {
            return Err(ValueError {
                rule: "Reply-code",
                offset: 0,
            });
        }
        if b > 5 {
            return Err(ValueError {
                rule: "Reply-code",
                offset: 1,
            });
        }
        Ok(ReplyCode(code))
    }
    /// The code as a number.
    pub fn get(self) -> u16 {
        self.0
    }
    /// `2yz`: positive completion.
    pub fn is_positive(self) -> bool {
        self.0 / 100 == 2
    }
    /// `3yz`: positive intermediate.
    pub fn is_intermediate(self) -> bool {
        self.0 / 100 == 3
    }
    /// `4yz`: transient negative.
    pub fn is_transient(self) -> bool {
        self.0 / 100 == 4
    }
    /// `5yz`: permanent negative.
    pub fn is_permanent(self) -> bool {
        self.0 / 100 == 5
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An enhanced status code `class.subject.detail` (RFC 3463 section 2, RFC 2034).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnhancedStatusCode {
    class: u8,
    subject: u16,
    detail: u16,
}

impl EnhancedStatusCode {
    /// Validates: class 2, 4 or 5; subject and detail 0 to 999 (`1*3digit`).
    pub fn new(class: u8, subject: u16, detail: u16) -> Result<Self, ValueError> {
        if !matches!(class, 2 | 4 | 5) {
            return Err(ValueError {
                rule: "class",
                offset: 0,
            });
        }
        if subject > 999 {
            return Err(ValueError {
                rule: "subject",
                offset: 2,
            });
        }
        if detail > 999 {
            return Err(ValueError {
                rule: "detail",
                offset: 4,
            });
        }
        Ok(EnhancedStatusCode {
            class,
            subject,
            detail,
        })
    }
    /// The class: 2 success, 4 persistent transient failure, 5 permanent failure.
    pub fn class(self) -> u8 {
        self.class
    }
    /// The subject.
    pub fn subject(self) -> u16 {
        self.subject
    }
    /// The detail.
    pub fn detail(self) -> u16 {
        self.detail
    }
}

impl fmt::Display for EnhancedStatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// A value in `xtext` form (RFC 3461 section 4: `*( xchar / hexchar )`), as used by ENVID,
/// ORCPT and AUTH=. Holds the encoded form; [`Xtext::decode`] gives the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Xtext<'a>(Cow<'a, str>);

impl<'a> Xtext<'a> {
    /// Validates an already encoded, non-empty xtext (`+` followed by two upper-case hex digits,
    /// otherwise `!` to `~` except `+` and `=`).
    pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, ValueError> {
        let s = s.into();
        parse::validate(s.as_bytes(), "xtext", crate::parse::params::xtext)?;
        Ok(Xtext(s))
    }
    /// Encodes arbitrary bytes as xtext. Fails for an empty value (an `esmtp-value` has at
    /// least one character).
    pub fn encode(value: &[u8]) -> Result<Xtext<'static>, ValueError> {
        if value.is_empty() {
            return Err(ValueError {
                rule: "xtext",
                offset: 0,
            });
        }
        let mut s = String::with_capacity(value.len());
        for &b in value {
            if (33..=126).contains(&b) && b != b'+' && b != b'=' {
                s.push(char::from(b));
            } else {
                s.push('+');
                s.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
                s.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
            }
        }
        Ok(Xtext(Cow::Owned(s)))
    }
    pub(crate) fn from_parsed(s: &'a str) -> Self {
        Xtext(Cow::Borrowed(s))
    }
    /// The encoded form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The decoded bytes (borrowed when nothing was escaped).
    pub fn decode(&self) -> Cow<'_, [u8]> {
        let s = self.0.as_bytes();
        if !s.contains(&b'+') {
            return Cow::Borrowed(s);
        }
        let mut out = Vec::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            if s[i] == b'+' && i + 2 < s.len() {
                let hex = |c: u8| {
                    if c.is_ascii_digit() {
                        c - b'0'
                    } else {
                        c - b'A' + 10
                    }
                };
                out.push(hex(s[i + 1]) << 4 | hex(s[i + 2]));
                i += 3;
            } else {
                out.push(s[i]);
                i += 1;
            }
        }
        Cow::Owned(out)
    }
    /// Detaches the value from the input it was parsed from.
    pub fn into_owned(self) -> Xtext<'static> {
        Xtext(own(self.0))
    }
}

/// A free-form command argument (VRFY, EXPN, HELP, NOOP, ETRN): printable characters and
/// spaces, not starting or ending with a space; UTF-8 only with SMTPUTF8.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Argument<'a>(Cow<'a, str>);

impl<'a> Argument<'a> {
    /// Validates `s` (UTF-8 allowed).
    pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, ValueError> {
        let s = s.into();
        parse::validate(s.as_bytes(), "String", |i| {
            crate::parse::command::argument(i, true)
        })?;
        Ok(Argument(s))
    }
    pub(crate) fn from_parsed(s: &'a str) -> Self {
        Argument(Cow::Borrowed(s))
    }
    /// The argument text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Detaches the value from the input it was parsed from.
    pub fn into_owned(self) -> Argument<'static> {
        Argument(own(self.0))
    }
}
