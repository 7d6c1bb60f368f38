//! [`Code`]: the bracketed response code of a status response or continuation request.

use std::borrow::Cow;
use std::num::NonZeroU32;

use crate::core::{Atom, Charset};
use crate::encode::{Encode, Writer};
use crate::error::ValidationError;
use crate::flag::FlagPerm;
use crate::list::{List, NonEmpty};
use crate::parse::{PResult, Quirks, Reader};
use crate::response::capability::Capability;
use crate::response::{encode_list, sp_follows};
use crate::sequence::{SequenceSet, UidSet};

/// `resp-text-code` (RFC 3501 and RFC 9051 section 9), with the codes of RFC 5530, RFC 4315
/// (UIDPLUS), RFC 7162 (CONDSTORE/QRESYNC), RFC 9208 (QUOTA), RFC 7889 (APPENDLIMIT), RFC 5182
/// (SEARCHRES), RFC 4978 (COMPRESS), RFC 3516 (BINARY) and RFC 6154 (SPECIAL-USE).
///
/// Any other code (`atom [SP 1*<any TEXT-CHAR except "]">]`) is kept as [`Code::Other`],
/// never refused; so is a known code whose arguments do not match its rule (`[UNSEEN]`,
/// `[UIDNEXT abc]`), which is what the generic alternative of the grammar makes of it. Build
/// an `Other` with [`Code::other`], which refuses a value that would parse back as something
/// else.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code<'a> {
    /// `ALERT`: the text must be shown to the user.
    Alert,
    /// `BADCHARSET [SP "(" charset *(SP charset) ")"]`: the charsets the server supports
    /// (empty: none listed). One is kept inline: the code is rare, and a small value keeps
    /// every status response small.
    BadCharset(List<Charset<'a>, 1>),
    /// `CAPABILITY ...`: the server's capabilities (one at least). Kept on the heap beyond
    /// the first (servers list a dozen or more), so that every status response stays small.
    Capability(NonEmpty<Capability<'a>, 1>),
    /// `PARSE`: a message's headers or MIME structure could not be parsed.
    Parse,
    /// `PERMANENTFLAGS (...)`: the flags the client can change permanently. Kept on the heap
    /// beyond the first (servers list five or more), so that every status response stays
    /// small.
    PermanentFlags(List<FlagPerm<'a>, 1>),
    /// `READ-ONLY`.
    ReadOnly,
    /// `READ-WRITE`.
    ReadWrite,
    /// `TRYCREATE`: the target mailbox does not exist but may be created.
    TryCreate,
    /// `UIDNEXT n`.
    UidNext(NonZeroU32),
    /// `UIDVALIDITY n`.
    UidValidity(NonZeroU32),
    /// `UNSEEN n` (RFC 3501): the first unseen message.
    Unseen(NonZeroU32),
    /// `UNAVAILABLE` (RFC 5530).
    Unavailable,
    /// `AUTHENTICATIONFAILED` (RFC 5530).
    AuthenticationFailed,
    /// `AUTHORIZATIONFAILED` (RFC 5530).
    AuthorizationFailed,
    /// `EXPIRED` (RFC 5530).
    Expired,
    /// `PRIVACYREQUIRED` (RFC 5530).
    PrivacyRequired,
    /// `CONTACTADMIN` (RFC 5530).
    ContactAdmin,
    /// `NOPERM` (RFC 5530).
    NoPerm,
    /// `INUSE` (RFC 5530).
    InUse,
    /// `EXPUNGEISSUED` (RFC 5530).
    ExpungeIssued,
    /// `CORRUPTION` (RFC 5530).
    Corruption,
    /// `SERVERBUG` (RFC 5530).
    ServerBug,
    /// `CLIENTBUG` (RFC 5530).
    ClientBug,
    /// `CANNOT` (RFC 5530).
    Cannot,
    /// `LIMIT` (RFC 5530).
    Limit,
    /// `OVERQUOTA` (RFC 5530, RFC 9208).
    OverQuota,
    /// `ALREADYEXISTS` (RFC 5530).
    AlreadyExists,
    /// `NONEXISTENT` (RFC 5530).
    NonExistent,
    /// `APPENDUID uidvalidity uid-set` (RFC 4315; a set with MULTIAPPEND).
    AppendUid {
        /// UIDVALIDITY of the target mailbox.
        uid_validity: NonZeroU32,
        /// UIDs of the appended messages.
        uids: UidSet,
    },
    /// `COPYUID uidvalidity source-uids destination-uids` (RFC 4315).
    CopyUid {
        /// UIDVALIDITY of the target mailbox.
        uid_validity: NonZeroU32,
        /// UIDs of the messages copied.
        source: UidSet,
        /// UIDs of the copies, in the same order.
        destination: UidSet,
    },
    /// `UIDNOTSTICKY` (RFC 4315).
    UidNotSticky,
    /// `HIGHESTMODSEQ n` (RFC 7162).
    HighestModSeq(u64),
    /// `NOMODSEQ` (RFC 7162).
    NoModSeq,
    /// `MODIFIED sequence-set` (RFC 7162): messages not stored by a conditional STORE.
    Modified(SequenceSet),
    /// `CLOSED` (RFC 7162): the previous mailbox is closed.
    Closed,
    /// `TOOBIG` (RFC 4469, RFC 7889, RFC 9051).
    TooBig,
    /// `NOTSAVED` (RFC 5182): the search result variable is empty.
    NotSaved,
    /// `COMPRESSIONACTIVE` (RFC 4978).
    CompressionActive,
    /// `HASCHILDREN` (RFC 9051).
    HasChildren,
    /// `UNKNOWN-CTE` (RFC 3516, RFC 9051).
    UnknownCte,
    /// `USEATTR` (RFC 6154).
    UseAttr,
    /// Any other code, or a known one whose arguments do not match its rule.
    Other {
        /// The code's name.
        name: Atom<'a>,
        /// What follows the name and a space, up to the `]`.
        text: Option<CodeText<'a>>,
    },
}

/// The text of a [`Code::Other`]: `1*<any TEXT-CHAR except "]">` (RFC 9051 section 9). The
/// field is private so that no value holds a `]`, CR, LF or NUL (which would end the code or
/// the response on the wire). Dereferences to the `str`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodeText<'a>(Cow<'a, str>);

impl<'a> CodeText<'a> {
    /// The text; refused when empty or holding `]`, CR, LF or NUL.
    pub fn new(text: impl Into<Cow<'a, str>>) -> Result<CodeText<'a>, ValidationError> {
        let t = text.into();
        if t.is_empty() || t.bytes().any(|b| matches!(b, b']' | b'\r' | b'\n' | 0)) {
            return Err(ValidationError::new(
                "response code",
                "text must be non-empty, without ], CR, LF or NUL",
            ));
        }
        Ok(CodeText(t))
    }

    /// The characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The same value owning its characters.
    pub fn into_static(self) -> CodeText<'static> {
        CodeText(Cow::Owned(self.0.into_owned()))
    }
}

impl std::ops::Deref for CodeText<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// Codes without arguments, with their wire names: `$variant => $name`.
macro_rules! simple_codes {
    ($($variant:ident => $name:literal,)*) => {
        /// The argument-less code named `name` (case-insensitively).
        fn simple_code<'x>(name: &str) -> Option<Code<'x>> {
            $(if name.eq_ignore_ascii_case($name) {
                return Some(Code::$variant);
            })*
            None
        }

        /// The wire name of an argument-less code.
        fn simple_name(code: &Code<'_>) -> Option<&'static str> {
            match code {
                $(Code::$variant => Some($name),)*
                _ => None,
            }
        }
    };
}

simple_codes! {
    Alert => "ALERT",
    Parse => "PARSE",
    ReadOnly => "READ-ONLY",
    ReadWrite => "READ-WRITE",
    TryCreate => "TRYCREATE",
    Unavailable => "UNAVAILABLE",
    AuthenticationFailed => "AUTHENTICATIONFAILED",
    AuthorizationFailed => "AUTHORIZATIONFAILED",
    Expired => "EXPIRED",
    PrivacyRequired => "PRIVACYREQUIRED",
    ContactAdmin => "CONTACTADMIN",
    NoPerm => "NOPERM",
    InUse => "INUSE",
    ExpungeIssued => "EXPUNGEISSUED",
    Corruption => "CORRUPTION",
    ServerBug => "SERVERBUG",
    ClientBug => "CLIENTBUG",
    Cannot => "CANNOT",
    Limit => "LIMIT",
    OverQuota => "OVERQUOTA",
    AlreadyExists => "ALREADYEXISTS",
    NonExistent => "NONEXISTENT",
    UidNotSticky => "UIDNOTSTICKY",
    NoModSeq => "NOMODSEQ",
    Closed => "CLOSED",
    TooBig => "TOOBIG",
    NotSaved => "NOTSAVED",
    CompressionActive => "COMPRESSIONACTIVE",
    HasChildren => "HASCHILDREN",
    UnknownCte => "UNKNOWN-CTE",
    UseAttr => "USEATTR",
}

impl<'a> Code<'a> {
    /// An [`Code::Other`] code: `name` must be an atom and `text` (when given) non-empty
    /// text without `]`, CR, LF or NUL; refused as well when the result would be read back as
    /// a known code.
    pub fn other(
        name: impl Into<Cow<'a, str>>,
        text: Option<Cow<'a, str>>,
    ) -> Result<Code<'a>, ValidationError> {
        let name = Atom::new(name)?;
        let text = text.map(CodeText::new).transpose()?;
        let mut bytes = name.as_str().as_bytes().to_vec();
        if let Some(t) = &text {
            bytes.push(b' ');
            bytes.extend_from_slice(t.as_bytes());
        }
        bytes.push(b']');
        let mut r = Reader::new(&bytes, Quirks::STRICT);
        let same = match Code::read(&mut r) {
            Ok(Code::Other { name: n, text: t }) => {
                n.as_str() == name.as_str()
                    && t.as_ref().map(CodeText::as_str) == text.as_ref().map(CodeText::as_str)
                    && r.rest() == b"]"
            }
            _ => false,
        };
        if !same {
            return Err(ValidationError::new(
                "response code",
                "reads back as a known code; use its variant",
            ));
        }
        Ok(Code::Other { name, text })
    }

    /// `resp-text-code`: the part between `[` and `]` (the reader stops before the `]`).
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Code<'a>> {
        let start = r.pos();
        let name = r.atom()?;
        let after_name = r.pos();
        if r.peek() == Some(b']') {
            if let Some(code) = simple_code(name) {
                return Ok(code);
            }
        }
        if let Some(code) = Self::read_known(name, r)? {
            if r.peek() == Some(b']') {
                return Ok(code);
            }
        }
        // The generic alternative: `atom [SP 1*<any TEXT-CHAR except "]">]`.
        r.reset(after_name);
        let text = if r.eat(b' ') {
            let t = r.take_while(|b| !matches!(b, b']' | b'\r' | b'\n' | 0));
            if t.is_empty() {
                return Err(r.error("resp-text-code text"));
            }
            let t = std::str::from_utf8(t).map_err(|_| {
                crate::error::ParseError::new(
                    after_name + 1,
                    "UTF-8 text",
                    crate::error::ErrorKind::Encoding,
                )
            })?;
            Some(CodeText(Cow::Borrowed(t)))
        } else {
            None
        };
        if r.peek() != Some(b']') {
            return Err(r.error("]"));
        }
        let name = Atom::new(name).map_err(|_| {
            crate::error::ParseError::new(start, "atom", crate::error::ErrorKind::Syntax)
        })?;
        Ok(Code::Other { name, text })
    }

    /// A known code with its arguments; `Ok(None)` when the name is not known or the
    /// arguments do not match (the caller then reads the generic form). Only a nesting error
    /// is returned as an error.
    fn read_known(name: &str, r: &mut Reader<'a>) -> PResult<Option<Code<'a>>> {
        if let Some(c) = simple_code(name) {
            return Ok(Some(c));
        }
        let upper = |n: &str| name.eq_ignore_ascii_case(n);
        let res: PResult<Code<'a>> = if upper("BADCHARSET") {
            (|| {
                let mut list = List::new();
                if r.eat(b' ') {
                    r.expect(b'(', "(")?;
                    r.enter()?;
                    list.push(Charset::read(r)?);
                    while sp_follows(r) {
                        r.sp()?;
                        list.push(Charset::read(r)?);
                    }
                    r.expect(b')', ")")?;
                    r.leave();
                }
                Ok(Code::BadCharset(list))
            })()
        } else if upper("CAPABILITY") {
            (|| {
                let mut list = List::new();
                r.sp()?;
                list.push(Capability::read(r)?);
                while sp_follows(r) {
                    r.sp()?;
                    list.push(Capability::read(r)?);
                }
                Ok(Code::Capability(NonEmpty(list)))
            })()
        } else if upper("PERMANENTFLAGS") {
            (|| {
                r.sp()?;
                Ok(Code::PermanentFlags(crate::flag::read_flag_perm_list(r)?))
            })()
        } else if upper("UIDNEXT") {
            (|| {
                r.sp()?;
                Ok(Code::UidNext(r.nz_number()?))
            })()
        } else if upper("UIDVALIDITY") {
            (|| {
                r.sp()?;
                Ok(Code::UidValidity(r.nz_number()?))
            })()
        } else if upper("UNSEEN") {
            (|| {
                r.sp()?;
                Ok(Code::Unseen(r.nz_number()?))
            })()
        } else if upper("APPENDUID") {
            (|| {
                r.sp()?;
                let uid_validity = r.nz_number()?;
                r.sp()?;
                let uids = UidSet::read(r)?;
                Ok(Code::AppendUid { uid_validity, uids })
            })()
        } else if upper("COPYUID") {
            (|| {
                r.sp()?;
                let uid_validity = r.nz_number()?;
                r.sp()?;
                let source = UidSet::read(r)?;
                r.sp()?;
                let destination = UidSet::read(r)?;
                Ok(Code::CopyUid {
                    uid_validity,
                    source,
                    destination,
                })
            })()
        } else if upper("HIGHESTMODSEQ") {
            (|| {
                r.sp()?;
                Ok(Code::HighestModSeq(r.number64()?))
            })()
        } else if upper("MODIFIED") {
            (|| {
                r.sp()?;
                Ok(Code::Modified(SequenceSet::read(r)?))
            })()
        } else {
            return Ok(None);
        };
        match res {
            Ok(c) => Ok(Some(c)),
            Err(e) if e.kind() == crate::error::ErrorKind::TooDeep => Err(e),
            Err(_) => Ok(None),
        }
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> Code<'static> {
        match self {
            Code::BadCharset(l) => Code::BadCharset(l.map(Charset::into_static)),
            Code::Capability(l) => Code::Capability(l.map(Capability::into_static)),
            Code::PermanentFlags(l) => Code::PermanentFlags(l.map(FlagPerm::into_static)),
            Code::Other { name, text } => Code::Other {
                name: name.into_static(),
                text: text.map(CodeText::into_static),
            },
            Code::Alert => Code::Alert,
            Code::Parse => Code::Parse,
            Code::ReadOnly => Code::ReadOnly,
            Code::ReadWrite => Code::ReadWrite,
            Code::TryCreate => Code::TryCreate,
            Code::UidNext(n) => Code::UidNext(n),
            Code::UidValidity(n) => Code::UidValidity(n),
            Code::Unseen(n) => Code::Unseen(n),
            Code::Unavailable => Code::Unavailable,
            Code::AuthenticationFailed => Code::AuthenticationFailed,
            Code::AuthorizationFailed => Code::AuthorizationFailed,
            Code::Expired => Code::Expired,
            Code::PrivacyRequired => Code::PrivacyRequired,
            Code::ContactAdmin => Code::ContactAdmin,
            Code::NoPerm => Code::NoPerm,
            Code::InUse => Code::InUse,
            Code::ExpungeIssued => Code::ExpungeIssued,
            Code::Corruption => Code::Corruption,
            Code::ServerBug => Code::ServerBug,
            Code::ClientBug => Code::ClientBug,
            Code::Cannot => Code::Cannot,
            Code::Limit => Code::Limit,
            Code::OverQuota => Code::OverQuota,
            Code::AlreadyExists => Code::AlreadyExists,
            Code::NonExistent => Code::NonExistent,
            Code::AppendUid { uid_validity, uids } => Code::AppendUid { uid_validity, uids },
            Code::CopyUid {
                uid_validity,
                source,
                destination,
            } => Code::CopyUid {
                uid_validity,
                source,
                destination,
            },
            Code::UidNotSticky => Code::UidNotSticky,
            Code::HighestModSeq(n) => Code::HighestModSeq(n),
            Code::NoModSeq => Code::NoModSeq,
            Code::Modified(s) => Code::Modified(s),
            Code::Closed => Code::Closed,
            Code::TooBig => Code::TooBig,
            Code::NotSaved => Code::NotSaved,
            Code::CompressionActive => Code::CompressionActive,
            Code::HasChildren => Code::HasChildren,
            Code::UnknownCte => Code::UnknownCte,
            Code::UseAttr => Code::UseAttr,
        }
    }
}

/// Writes the code without its brackets.
impl Encode for Code<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            Code::BadCharset(l) => {
                w.raw(b"BADCHARSET");
                if !l.is_empty() {
                    w.sp();
                    encode_list(w, l);
                }
            }
            Code::Capability(l) => {
                w.raw(b"CAPABILITY");
                for c in l.iter() {
                    w.sp();
                    c.encode(w);
                }
            }
            Code::PermanentFlags(l) => {
                w.raw(b"PERMANENTFLAGS ");
                encode_list(w, l);
            }
            Code::UidNext(n) => number_code(w, "UIDNEXT", n.get().into()),
            Code::UidValidity(n) => number_code(w, "UIDVALIDITY", n.get().into()),
            Code::Unseen(n) => number_code(w, "UNSEEN", n.get().into()),
            Code::HighestModSeq(n) => number_code(w, "HIGHESTMODSEQ", *n),
            Code::AppendUid { uid_validity, uids } => {
                number_code(w, "APPENDUID", uid_validity.get().into());
                w.sp();
                uids.encode(w);
            }
            Code::CopyUid {
                uid_validity,
                source,
                destination,
            } => {
                number_code(w, "COPYUID", uid_validity.get().into());
                w.sp();
                source.encode(w);
                w.sp();
                destination.encode(w);
            }
            Code::Modified(s) => {
                w.raw(b"MODIFIED ");
                s.encode(w);
            }
            Code::Other { name, text } => {
                w.raw(name.as_str().as_bytes());
                if let Some(t) = text {
                    w.sp();
                    w.raw(t.as_bytes());
                }
            }
            simple => {
                if let Some(name) = simple_name(simple) {
                    w.raw(name.as_bytes());
                }
            }
        }
    }
}

fn number_code(w: &mut Writer, name: &str, n: u64) {
    w.raw(name.as_bytes());
    w.sp();
    w.number(n);
}
