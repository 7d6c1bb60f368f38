//! SMTP commands ([`Command`]) and their MAIL and RCPT parameters.

use std::borrow::Cow;
use std::fmt;

use bytes::BytesMut;

use crate::types::{Argument, Domain, ForwardPath, Host, ReversePath, Xtext};
use crate::{CommandError, ValueError};

fn own(c: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(c.into_owned())
}

/// Options for [`Command::parse_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Accept UTF-8 in addresses and arguments of every command (RFC 6531 section 3.2): set
    /// this when the current transaction's MAIL FROM carried SMTPUTF8 (for RCPT TO) or when
    /// SMTPUTF8 was advertised (for VRFY and EXPN). Whatever this says, a MAIL FROM line that
    /// carries the SMTPUTF8 parameter may use UTF-8 in its own reverse path. Default: `false`.
    pub smtputf8: bool,
}

impl ParseOptions {
    /// Options with UTF-8 allowed or not.
    pub fn with_smtputf8(mut self, yes: bool) -> Self {
        self.smtputf8 = yes;
        self
    }
}

/// One SMTP (RFC 5321), ESMTP or LMTP (RFC 2033) command.
///
/// Parsed with [`Command::parse`] from one line without its CRLF; verbs are case-insensitive.
/// Encoded with [`Command::encode`] in canonical upper case, ending with CRLF.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command<'a> {
    /// `HELO SP Domain`
    Helo(Domain<'a>),
    /// `EHLO SP ( Domain / address-literal )`
    Ehlo(Host<'a>),
    /// `LHLO SP ( Domain / address-literal )` (LMTP, RFC 2033)
    Lhlo(Host<'a>),
    /// `MAIL FROM:Reverse-path [SP Mail-parameters]`
    Mail {
        /// The reverse path.
        from: ReversePath<'a>,
        /// The parameters.
        params: MailParams<'a>,
    },
    /// `RCPT TO:Forward-path [SP Rcpt-parameters]`
    Rcpt {
        /// The forward path.
        to: ForwardPath<'a>,
        /// The parameters.
        params: RcptParams<'a>,
    },
    /// `DATA` (no argument)
    Data,
    /// `BDAT SP chunk-size [SP end-marker]` (RFC 3030)
    Bdat {
        /// The chunk size in octets.
        size: u64,
        /// Whether `LAST` was given.
        last: bool,
    },
    /// `RSET` (no argument)
    Rset,
    /// `VRFY SP String`
    Vrfy(Argument<'a>),
    /// `EXPN SP String`
    Expn(Argument<'a>),
    /// `HELP [SP String]`
    Help(Option<Argument<'a>>),
    /// `NOOP [SP String]`
    Noop(Option<Argument<'a>>),
    /// `QUIT` (no argument)
    Quit,
    /// `STARTTLS` (no argument, RFC 3207)
    StartTls,
    /// `AUTH SP sasl-mech [SP initial-response]` (RFC 4954)
    Auth {
        /// The mechanism name, upper case.
        mechanism: Mechanism<'a>,
        /// The initial response: base64, or `=` for an empty one.
        initial_response: Option<InitialResponse<'a>>,
    },
    /// `ETRN SP ( node-name / "@" domain / "#" queue )` (RFC 1985), kept as written.
    Etrn(Argument<'a>),
}

impl<'a> Command<'a> {
    /// Parses one command line (without its CRLF) with default [`ParseOptions`].
    #[inline]
    pub fn parse(line: &'a [u8]) -> Result<Self, CommandError> {
        crate::parse::command::command_line(line, ParseOptions::default())
    }
    /// Parses one command line (without its CRLF).
    #[inline]
    pub fn parse_with(line: &'a [u8], options: ParseOptions) -> Result<Self, CommandError> {
        crate::parse::command::command_line(line, options)
    }
    /// [`Command::parse_with`] through the reference grammar alone, without the hand-written
    /// fast path in front of it. Built only under `cfg(fuzzing)` (cargo-fuzz sets it), for the
    /// differential fuzz target that checks the two agree on every input.
    #[cfg(fuzzing)]
    #[doc(hidden)]
    pub fn parse_reference(line: &'a [u8], options: ParseOptions) -> Result<Self, CommandError> {
        crate::parse::command::reference(line, options)
    }
    /// Appends the command, in canonical form and ending with CRLF, to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        crate::encode::command::command(self, out);
    }
    /// The verb, upper case.
    pub fn verb(&self) -> &'static str {
        match self {
            Command::Helo(_) => "HELO",
            Command::Ehlo(_) => "EHLO",
            Command::Lhlo(_) => "LHLO",
            Command::Mail { .. } => "MAIL",
            Command::Rcpt { .. } => "RCPT",
            Command::Data => "DATA",
            Command::Bdat { .. } => "BDAT",
            Command::Rset => "RSET",
            Command::Vrfy(_) => "VRFY",
            Command::Expn(_) => "EXPN",
            Command::Help(_) => "HELP",
            Command::Noop(_) => "NOOP",
            Command::Quit => "QUIT",
            Command::StartTls => "STARTTLS",
            Command::Auth { .. } => "AUTH",
            Command::Etrn(_) => "ETRN",
        }
    }
    /// Detaches the command from the line it was parsed from.
    pub fn into_owned(self) -> Command<'static> {
        match self {
            Command::Helo(d) => Command::Helo(d.into_owned()),
            Command::Ehlo(h) => Command::Ehlo(h.into_owned()),
            Command::Lhlo(h) => Command::Lhlo(h.into_owned()),
            Command::Mail { from, params } => Command::Mail {
                from: from.into_owned(),
                params: params.into_owned(),
            },
            Command::Rcpt { to, params } => Command::Rcpt {
                to: to.into_owned(),
                params: params.into_owned(),
            },
            Command::Data => Command::Data,
            Command::Bdat { size, last } => Command::Bdat { size, last },
            Command::Rset => Command::Rset,
            Command::Vrfy(a) => Command::Vrfy(a.into_owned()),
            Command::Expn(a) => Command::Expn(a.into_owned()),
            Command::Help(a) => Command::Help(a.map(Argument::into_owned)),
            Command::Noop(a) => Command::Noop(a.map(Argument::into_owned)),
            Command::Quit => Command::Quit,
            Command::StartTls => Command::StartTls,
            Command::Auth {
                mechanism,
                initial_response,
            } => Command::Auth {
                mechanism: mechanism.into_owned(),
                initial_response: initial_response.map(InitialResponse::into_owned),
            },
            Command::Etrn(a) => Command::Etrn(a.into_owned()),
        }
    }
}

/// A SASL mechanism name (RFC 4422 `sasl-mech = 1*20mech-char`, upper case letters, digits,
/// `-` and `_`). Parsing upper-cases a lower-case name (allocating only then).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mechanism<'a>(Cow<'a, str>);

impl<'a> Mechanism<'a> {
    /// Validates an upper-case mechanism name.
    pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, ValueError> {
        let s = s.into();
        let b = s.as_bytes();
        if let Some(bad) = b.iter().position(|&c| {
            !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'-' || c == b'_')
        }) {
            return Err(ValueError {
                rule: "sasl-mech",
                offset: bad,
            });
        }
        if b.is_empty() || b.len() > 20 {
            return Err(ValueError {
                rule: "sasl-mech",
                offset: b.len().min(20),
            });
        }
        Ok(Mechanism(s))
    }
    pub(crate) fn from_parsed(s: Cow<'a, str>) -> Self {
        Mechanism(s)
    }
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Detaches the value from the input it was parsed from.
    pub fn into_owned(self) -> Mechanism<'static> {
        Mechanism(own(self.0))
    }
}

/// The initial response of AUTH (RFC 4954 section 4): base64 text, or `=` for an empty
/// response. Kept encoded; decode it with the SASL layer (`mail_wire::sasl`).
///
/// It carries credentials (a PLAIN response is the password in base64), so its `Debug` shows
/// only its length, and a `Command::Auth` can be logged.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct InitialResponse<'a>(Cow<'a, str>);

impl fmt::Debug for InitialResponse<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InitialResponse(<{} octets, redacted>)", self.0.len())
    }
}

impl<'a> InitialResponse<'a> {
    /// Validates `=` or `1*base64-char *2"="`-shaped text.
    pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, ValueError> {
        let s = s.into();
        crate::parse::validate(
            s.as_bytes(),
            "initial-response",
            crate::parse::command::initial_response,
        )?;
        Ok(InitialResponse(s))
    }
    pub(crate) fn from_parsed(s: &'a str) -> Self {
        InitialResponse(Cow::Borrowed(s))
    }
    /// The text as sent (`=` means empty).
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Detaches the value from the input it was parsed from.
    pub fn into_owned(self) -> InitialResponse<'static> {
        InitialResponse(own(self.0))
    }
}

/// `BODY=` (RFC 6152, RFC 3030).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Body {
    /// `7BIT`
    SevenBit,
    /// `8BITMIME` (RFC 6152)
    EightBitMime,
    /// `BINARYMIME` (RFC 3030)
    BinaryMime,
}

/// `RET=` (RFC 3461 section 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ret {
    /// `FULL`: return the whole message in a DSN.
    Full,
    /// `HDRS`: return only the headers.
    Hdrs,
}

/// `NOTIFY=` (RFC 3461 section 4.1): `NEVER`, or a non-empty set of SUCCESS, FAILURE, DELAY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Notify(u8);

impl Notify {
    const NEVER: u8 = 8;
    const SUCCESS: u8 = 1;
    const FAILURE: u8 = 2;
    const DELAY: u8 = 4;

    /// `NOTIFY=NEVER`.
    pub fn never() -> Self {
        Notify(Self::NEVER)
    }
    /// A set of events; `None` if all three are false (the RFC requires at least one).
    pub fn on(success: bool, failure: bool, delay: bool) -> Option<Self> {
        let v = u8::from(success) * Self::SUCCESS
            + u8::from(failure) * Self::FAILURE
            + u8::from(delay) * Self::DELAY;
        (v != 0).then_some(Notify(v))
    }
    pub(crate) fn from_bits(bits: u8) -> Self {
        Notify(bits)
    }
    /// `NEVER`.
    pub fn is_never(self) -> bool {
        self.0 == Self::NEVER
    }
    /// `SUCCESS` is in the set.
    pub fn success(self) -> bool {
        self.0 & Self::SUCCESS != 0
    }
    /// `FAILURE` is in the set.
    pub fn failure(self) -> bool {
        self.0 & Self::FAILURE != 0
    }
    /// `DELAY` is in the set.
    pub fn delay(self) -> bool {
        self.0 & Self::DELAY != 0
    }
}

/// `ORCPT=addr-type ";" xtext` (RFC 3461 section 4.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Orcpt<'a> {
    addr_type: Cow<'a, str>,
    address: Xtext<'a>,
}

impl<'a> Orcpt<'a> {
    /// Validates the address type (an `atom`, for example `rfc822` or `utf-8`).
    pub fn new(addr_type: impl Into<Cow<'a, str>>, address: Xtext<'a>) -> Result<Self, ValueError> {
        let addr_type = addr_type.into();
        crate::parse::validate(
            addr_type.as_bytes(),
            "addr-type",
            crate::parse::params::atom,
        )?;
        Ok(Orcpt { addr_type, address })
    }
    pub(crate) fn from_parsed(addr_type: &'a str, address: Xtext<'a>) -> Self {
        Orcpt {
            addr_type: Cow::Borrowed(addr_type),
            address,
        }
    }
    /// The address type, as sent.
    pub fn addr_type(&self) -> &str {
        &self.addr_type
    }
    /// The original recipient, xtext-encoded.
    pub fn address(&self) -> &Xtext<'a> {
        &self.address
    }
    /// Detaches the value from the input it was parsed from.
    pub fn into_owned(self) -> Orcpt<'static> {
        Orcpt {
            addr_type: own(self.addr_type),
            address: self.address.into_owned(),
        }
    }
}

/// A parameter this crate does not interpret (`esmtp-keyword ["=" esmtp-value]`), kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Param<'a> {
    keyword: Cow<'a, str>,
    value: Option<Cow<'a, str>>,
}

impl<'a> Param<'a> {
    /// Validates `esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")` and
    /// `esmtp-value = 1*(%d33-60 / %d62-126)` (UTF-8 allowed, RFC 6531 section 3.3).
    ///
    /// A keyword this crate interprets (SIZE, BODY, ...) is refused: set the typed field.
    pub fn new(
        keyword: impl Into<Cow<'a, str>>,
        value: Option<Cow<'a, str>>,
    ) -> Result<Self, ValueError> {
        let keyword = keyword.into();
        crate::parse::validate(
            keyword.as_bytes(),
            "esmtp-keyword",
            crate::parse::params::esmtp_keyword,
        )?;
        if crate::parse::params::is_known(keyword.as_bytes()) {
            return Err(ValueError {
                rule: "esmtp-keyword",
                offset: 0,
            });
        }
        if let Some(v) = &value {
            crate::parse::validate(v.as_bytes(), "esmtp-value", |i| {
                crate::parse::params::esmtp_value(i, true)
            })?;
        }
        Ok(Param { keyword, value })
    }
    pub(crate) fn from_parsed(keyword: &'a str, value: Option<&'a str>) -> Self {
        Param {
            keyword: Cow::Borrowed(keyword),
            value: value.map(Cow::Borrowed),
        }
    }
    /// The keyword, as sent.
    pub fn keyword(&self) -> &str {
        &self.keyword
    }
    /// The value, if any.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
    /// Detaches the value from the input it was parsed from.
    pub fn into_owned(self) -> Param<'static> {
        Param {
            keyword: own(self.keyword),
            value: self.value.map(own),
        }
    }
}

/// The parameters of MAIL FROM. Known ones are typed fields (no allocation when parsing);
/// others are kept in [`MailParams::unknown`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MailParams<'a> {
    /// `SIZE=` (RFC 1870): declared message size in octets.
    pub size: Option<u64>,
    /// `BODY=` (RFC 6152, RFC 3030).
    pub body: Option<Body>,
    /// `SMTPUTF8` (RFC 6531).
    pub smtputf8: bool,
    /// `RET=` (RFC 3461).
    pub ret: Option<Ret>,
    /// `ENVID=` (RFC 3461), xtext.
    pub envid: Option<Xtext<'a>>,
    /// `AUTH=` (RFC 4954 section 5), xtext; `<>` when the identity is unknown.
    pub auth: Option<Xtext<'a>>,
    /// `REQUIRETLS` (RFC 8689).
    pub requiretls: bool,
    /// Parameters not interpreted here, in order.
    pub unknown: Vec<Param<'a>>,
}

impl MailParams<'_> {
    /// Detaches the value from the input it was parsed from.
    pub fn into_owned(self) -> MailParams<'static> {
        MailParams {
            size: self.size,
            body: self.body,
            smtputf8: self.smtputf8,
            ret: self.ret,
            envid: self.envid.map(Xtext::into_owned),
            auth: self.auth.map(Xtext::into_owned),
            requiretls: self.requiretls,
            unknown: self.unknown.into_iter().map(Param::into_owned).collect(),
        }
    }
}

/// The parameters of RCPT TO. Known ones are typed fields (no allocation when parsing);
/// others are kept in [`RcptParams::unknown`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RcptParams<'a> {
    /// `NOTIFY=` (RFC 3461).
    pub notify: Option<Notify>,
    /// `ORCPT=` (RFC 3461).
    pub orcpt: Option<Orcpt<'a>>,
    /// Parameters not interpreted here, in order.
    pub unknown: Vec<Param<'a>>,
}

impl RcptParams<'_> {
    /// Detaches the value from the input it was parsed from.
    pub fn into_owned(self) -> RcptParams<'static> {
        RcptParams {
            notify: self.notify,
            orcpt: self.orcpt.map(Orcpt::into_owned),
            unknown: self.unknown.into_iter().map(Param::into_owned).collect(),
        }
    }
}
