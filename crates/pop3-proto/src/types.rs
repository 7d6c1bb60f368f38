//! Wire values with validating constructors: a value that would not encode to itself cannot
//! be built (docs/design.md section 2.4).

use std::borrow::Cow;
use std::fmt;

use crate::error::ValueError;

/// The longest unique-id: 70 octets (RFC 1939 section 7, `UIDL`).
pub const MAX_UID_LEN: usize = 70;

/// A message's unique-id as `UIDL` shows it: 1 to 70 octets in the range 0x21 to 0x7E
/// (RFC 1939 section 7). The server must keep it the same for the message across sessions.
///
/// ```
/// use pop3_proto::Uid;
/// assert_eq!(Uid::new("1679000000.M1P2.host").unwrap().as_str(), "1679000000.M1P2.host");
/// assert!(Uid::new("has space").is_err());
/// assert!(Uid::new(&"x".repeat(71)).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uid<'a>(Cow<'a, str>);

impl<'a> Uid<'a> {
    /// Checks and wraps a unique-id.
    ///
    /// # Errors
    ///
    /// [`ValueError::Length`] for an empty or over-long value, [`ValueError::Octet`] for an
    /// octet outside 0x21 to 0x7E.
    pub fn new(uid: impl Into<Cow<'a, str>>) -> Result<Self, ValueError> {
        let uid = uid.into();
        if uid.is_empty() || uid.len() > MAX_UID_LEN {
            return Err(ValueError::Length { limit: MAX_UID_LEN });
        }
        if let Some(offset) = uid.bytes().position(|b| !(0x21..=0x7e).contains(&b)) {
            return Err(ValueError::Octet { offset });
        }
        Ok(Uid(uid))
    }

    /// The unique-id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The same value owning its text.
    pub fn into_owned(self) -> Uid<'static> {
        Uid(Cow::Owned(self.0.into_owned()))
    }
}

impl fmt::Display for Uid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks the text of a response line or a command argument: no CR, LF or other control
/// octet but tab.
pub(crate) fn check_text(text: &str) -> Result<(), ValueError> {
    match text
        .bytes()
        .position(|b| (b < 0x20 && b != b'\t') || b == 0x7f)
    {
        Some(offset) => Err(ValueError::Octet { offset }),
        None => Ok(()),
    }
}

/// A response code (RFC 2449 section 8): the bracketed word after `+OK` or `-ERR`, naming
/// why a command failed in a way the client can act on.
///
/// ```
/// use pop3_proto::RespCode;
/// assert_eq!(RespCode::from_name("IN-USE"), RespCode::InUse);
/// assert_eq!(RespCode::from_name("SYS/TEMP").name(), "SYS/TEMP");
/// assert_eq!(RespCode::from_name("X-OURS").name(), "X-OURS");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RespCode<'a> {
    /// `IN-USE` (RFC 2449 section 8.1.1): the maildrop is locked by another session.
    InUse,
    /// `LOGIN-DELAY` (RFC 2449 section 8.1.2): the user logged in too recently.
    LoginDelay,
    /// `SYS/TEMP` (RFC 3206 section 4): a temporary system problem; try again later.
    SysTemp,
    /// `SYS/PERM` (RFC 3206 section 4): a permanent system problem; do not retry.
    SysPerm,
    /// `AUTH` (RFC 3206 section 5): the credentials are wrong, not the system.
    Auth,
    /// `UTF8` (RFC 6856 section 3.1): the operation needs UTF8 mode.
    Utf8,
    /// Any other code, as sent (`[A-Z0-9/-]`, hierarchical with `/`).
    Other(Cow<'a, str>),
}

impl<'a> RespCode<'a> {
    /// The code for a name as it appears between the brackets.
    pub fn from_name(name: &'a str) -> Self {
        match name {
            "IN-USE" => RespCode::InUse,
            "LOGIN-DELAY" => RespCode::LoginDelay,
            "SYS/TEMP" => RespCode::SysTemp,
            "SYS/PERM" => RespCode::SysPerm,
            "AUTH" => RespCode::Auth,
            "UTF8" => RespCode::Utf8,
            other => RespCode::Other(Cow::Borrowed(other)),
        }
    }

    /// The name, as it appears between the brackets.
    pub fn name(&self) -> &str {
        match self {
            RespCode::InUse => "IN-USE",
            RespCode::LoginDelay => "LOGIN-DELAY",
            RespCode::SysTemp => "SYS/TEMP",
            RespCode::SysPerm => "SYS/PERM",
            RespCode::Auth => "AUTH",
            RespCode::Utf8 => "UTF8",
            RespCode::Other(name) => name,
        }
    }

    /// The same value owning its text.
    pub fn into_owned(self) -> RespCode<'static> {
        match self {
            RespCode::InUse => RespCode::InUse,
            RespCode::LoginDelay => RespCode::LoginDelay,
            RespCode::SysTemp => RespCode::SysTemp,
            RespCode::SysPerm => RespCode::SysPerm,
            RespCode::Auth => RespCode::Auth,
            RespCode::Utf8 => RespCode::Utf8,
            RespCode::Other(name) => RespCode::Other(Cow::Owned(name.into_owned())),
        }
    }

    /// Whether the server may send `name`: `1*(ALPHA / DIGIT / "-")` parts joined by `/`,
    /// the shape of every code RFC 2449 section 8 and its registry define.
    pub(crate) fn valid_name(name: &str) -> bool {
        !name.is_empty()
            && name.split('/').all(|part| {
                !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    }

    /// Whether a received code is well-formed: `resp-level *("/" resp-level)` with
    /// `resp-level = 1*rchar`, `rchar` any printable ASCII but `/` and `]` (RFC 2449
    /// section 9). Wider than what [`RespCode::valid_name`] lets the server send.
    pub(crate) fn parses(name: &str) -> bool {
        name.split('/').all(|level| {
            !level.is_empty()
                && level
                    .bytes()
                    .all(|b| (0x21..=0x7e).contains(&b) && b != b']')
        })
    }
}
