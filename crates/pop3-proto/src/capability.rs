//! `CAPA` (RFC 2449 section 5): one [`Capability`] per line of the response, and
//! [`Capabilities`], what a client learns from the whole list.

use std::borrow::Cow;

use bytes::BytesMut;
use mail_wire::sasl::Mechanism;

use crate::error::ResponseError;

/// One line of a `CAPA` response: a capability name and its parameters.
///
/// ```
/// use bytes::BytesMut;
/// use pop3_proto::Capability;
///
/// let sasl = Capability::parse(b"SASL PLAIN SCRAM-SHA-256").unwrap();
/// assert_eq!(sasl, Capability::Sasl(vec!["PLAIN".into(), "SCRAM-SHA-256".into()]));
/// let mut wire = BytesMut::new();
/// sasl.encode(&mut wire);
/// assert_eq!(&wire[..], b"SASL PLAIN SCRAM-SHA-256\r\n");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability<'a> {
    /// `TOP` (RFC 2449 section 6.1).
    Top,
    /// `USER` (RFC 2449 section 6.2): `USER` and `PASS` are accepted now.
    User,
    /// `SASL mechanism...` (RFC 2449 section 6.3, RFC 5034 section 5).
    Sasl(Vec<Cow<'a, str>>),
    /// `RESP-CODES` (RFC 2449 section 6.4).
    RespCodes,
    /// `LOGIN-DELAY [seconds [USER]]` (RFC 2449 section 6.5), parameters as sent.
    LoginDelay(Vec<Cow<'a, str>>),
    /// `PIPELINING` (RFC 2449 section 6.6).
    Pipelining,
    /// `EXPIRE policy [USER]` (RFC 2449 section 6.7), parameters as sent.
    Expire(Vec<Cow<'a, str>>),
    /// `UIDL` (RFC 2449 section 6.8).
    Uidl,
    /// `IMPLEMENTATION text` (RFC 2449 section 6.9).
    Implementation(Cow<'a, str>),
    /// `STLS` (RFC 2595 section 4).
    Stls,
    /// `AUTH-RESP-CODE` (RFC 3206 section 6): the `[AUTH]` and `[SYS/...]` codes are used.
    AuthRespCode,
    /// `UTF8 [USER]` (RFC 6856 section 2): `user` says UTF-8 user names are allowed.
    Utf8 {
        /// Whether the `USER` parameter was given.
        user: bool,
    },
    /// `LANG` (RFC 6856 section 3).
    Lang,
    /// Any other capability, as sent.
    Other {
        /// The name.
        name: Cow<'a, str>,
        /// The parameters.
        params: Vec<Cow<'a, str>>,
    },
}

impl<'a> Capability<'a> {
    /// Parses one line of a `CAPA` response (without CRLF). Names are case-insensitive.
    ///
    /// # Errors
    ///
    /// [`ResponseError::BadText`] for an empty line, a control octet or invalid UTF-8.
    pub fn parse(line: &'a [u8]) -> Result<Self, ResponseError> {
        crate::parse::capability::capability(line)
    }

    /// Writes the line and its CRLF.
    pub fn encode(&self, out: &mut BytesMut) {
        crate::encode::capability::capability(self, out);
    }

    /// The same value owning its text.
    pub fn into_owned(self) -> Capability<'static> {
        let own = |v: Vec<Cow<'a, str>>| -> Vec<Cow<'static, str>> {
            v.into_iter().map(|p| Cow::Owned(p.into_owned())).collect()
        };
        match self {
            Capability::Top => Capability::Top,
            Capability::User => Capability::User,
            Capability::Sasl(m) => Capability::Sasl(own(m)),
            Capability::RespCodes => Capability::RespCodes,
            Capability::LoginDelay(p) => Capability::LoginDelay(own(p)),
            Capability::Pipelining => Capability::Pipelining,
            Capability::Expire(p) => Capability::Expire(own(p)),
            Capability::Uidl => Capability::Uidl,
            Capability::Implementation(t) => Capability::Implementation(Cow::Owned(t.into_owned())),
            Capability::Stls => Capability::Stls,
            Capability::AuthRespCode => Capability::AuthRespCode,
            Capability::Utf8 { user } => Capability::Utf8 { user },
            Capability::Lang => Capability::Lang,
            Capability::Other { name, params } => Capability::Other {
                name: Cow::Owned(name.into_owned()),
                params: own(params),
            },
        }
    }
}

/// What a client learnt from a `CAPA` response: the capabilities it acts on, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Every line, in order.
    pub list: Vec<Capability<'static>>,
}

impl Capabilities {
    /// Collects parsed lines.
    pub fn new(list: Vec<Capability<'static>>) -> Self {
        Capabilities { list }
    }

    fn has(&self, wanted: &Capability<'_>) -> bool {
        self.list.iter().any(|c| c == wanted)
    }

    /// `STLS` is offered.
    pub fn stls(&self) -> bool {
        self.has(&Capability::Stls)
    }

    /// `USER` is offered.
    pub fn user(&self) -> bool {
        self.has(&Capability::User)
    }

    /// `PIPELINING` is offered.
    pub fn pipelining(&self) -> bool {
        self.has(&Capability::Pipelining)
    }

    /// `TOP` is offered.
    pub fn top(&self) -> bool {
        self.has(&Capability::Top)
    }

    /// `UIDL` is offered.
    pub fn uidl(&self) -> bool {
        self.has(&Capability::Uidl)
    }

    /// `RESP-CODES` is offered.
    pub fn resp_codes(&self) -> bool {
        self.has(&Capability::RespCodes)
    }

    /// `UTF8` is offered.
    pub fn utf8(&self) -> bool {
        self.list
            .iter()
            .any(|c| matches!(c, Capability::Utf8 { .. }))
    }

    /// The SASL mechanisms offered that this crate implements, in the server's order.
    pub fn sasl(&self) -> Vec<Mechanism> {
        self.list
            .iter()
            .filter_map(|c| match c {
                Capability::Sasl(names) => Some(names),
                _ => None,
            })
            .flatten()
            .filter_map(|name| Mechanism::from_name(name.as_bytes()))
            .collect()
    }
}
