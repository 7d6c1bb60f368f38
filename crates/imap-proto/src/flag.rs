//! Message flags and mailbox attributes: `flag`, `flag-perm`, `flag-fetch` (RFC 3501 section
//! 9, RFC 9051 section 9) and `mbx-list-flags` with the CHILDREN (RFC 3348), LIST-EXTENDED
//! (RFC 5258) and SPECIAL-USE (RFC 6154) attributes, with the readers of their parenthesised
//! lists.
//!
//! System names are matched case-insensitively on read and written in their usual case. An
//! `Extension` holding a system name (`\seen`) equals the system variant (it reads back as
//! one), for equality and hashing alike.
//!
//! ```
//! use imap_proto::flag::{Flag, FlagFetch};
//!
//! let flags = FlagFetch::parse_list(br"(\Seen \Recent $Forwarded)").unwrap();
//! assert_eq!(flags[0], FlagFetch::Flag(Flag::Seen));
//! assert_eq!(flags[1], FlagFetch::Recent);
//! assert_eq!(flags[2], FlagFetch::Flag(Flag::keyword("$Forwarded").unwrap()));
//! assert_eq!(Flag::extension("SEEN").unwrap(), Flag::Seen);
//! ```

use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use crate::core::{Atom, fail, parse_whole};
use crate::encode::{Encode, Writer};
use crate::error::{ParseError, ValidationError};
use crate::list::List;
use crate::parse::{PResult, Reader};

/// The system flags in [`Flag`]'s order, then `\Recent` (only in [`FlagFetch`]).
const SYSTEM_FLAGS: [&str; 6] = ["Answered", "Flagged", "Deleted", "Seen", "Draft", "Recent"];

/// The index in [`SYSTEM_FLAGS`] of a system flag's name in any case: one comparison, chosen
/// by the length (this runs for every flag of every FETCH response).
fn system_flag(name: &str) -> Option<usize> {
    let i = match name.len() {
        8 => 0,
        7 if name.as_bytes().first().is_some_and(|b| b | 0x20 == b'f') => 1,
        7 => 2,
        4 => 3,
        5 => 4,
        6 => 5,
        _ => return None,
    };
    SYSTEM_FLAGS
        .get(i)
        .filter(|n| n.eq_ignore_ascii_case(name))
        .map(|_| i)
}

fn system_index(name: &str, names: &[&str]) -> Option<usize> {
    names.iter().position(|n| n.eq_ignore_ascii_case(name))
}

/// A message flag: `flag` (RFC 3501 section 9): a system flag, a keyword, or a
/// `flag-extension` (`\` atom).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Flag<'a> {
    /// `\Answered`.
    Answered,
    /// `\Flagged`.
    Flagged,
    /// `\Deleted`.
    Deleted,
    /// `\Seen`.
    Seen,
    /// `\Draft`.
    Draft,
    /// `flag-keyword`: an atom without `\` (`$Forwarded`, `$Junk`, ...).
    Keyword(Atom<'a>),
    /// `flag-extension`: `\` and an atom that is not a system flag.
    Extension(Atom<'a>),
}

/// What equality and hashing of flags compare.
#[derive(PartialEq, Eq, Hash)]
enum FlagKey<'k> {
    System(usize),
    Keyword(&'k str),
    Extension(&'k str),
}

impl<'a> Flag<'a> {
    /// A keyword (`$Forwarded`); refused when not an atom.
    pub fn keyword(name: impl Into<Cow<'a, str>>) -> Result<Self, ValidationError> {
        Atom::new(name).map(Flag::Keyword)
    }

    /// The flag `\name`: a system flag when `name` is one (in any case), else an extension;
    /// refused when `name` is not an atom.
    pub fn extension(name: impl Into<Cow<'a, str>>) -> Result<Self, ValidationError> {
        Atom::new(name).map(Self::from_extension)
    }

    fn from_extension(a: Atom<'a>) -> Self {
        match system_flag(a.as_str()) {
            Some(0) => Flag::Answered,
            Some(1) => Flag::Flagged,
            Some(2) => Flag::Deleted,
            Some(3) => Flag::Seen,
            Some(4) => Flag::Draft,
            _ => Flag::Extension(a),
        }
    }

    fn key(&self) -> FlagKey<'_> {
        match self {
            Flag::Answered => FlagKey::System(0),
            Flag::Flagged => FlagKey::System(1),
            Flag::Deleted => FlagKey::System(2),
            Flag::Seen => FlagKey::System(3),
            Flag::Draft => FlagKey::System(4),
            Flag::Keyword(a) => FlagKey::Keyword(a.as_str()),
            Flag::Extension(a) => match system_flag(a.as_str()) {
                Some(i) => FlagKey::System(i),
                None => FlagKey::Extension(a.as_str()),
            },
        }
    }

    /// The same value owning its name.
    pub fn into_static(self) -> Flag<'static> {
        match self {
            Flag::Answered => Flag::Answered,
            Flag::Flagged => Flag::Flagged,
            Flag::Deleted => Flag::Deleted,
            Flag::Seen => Flag::Seen,
            Flag::Draft => Flag::Draft,
            Flag::Keyword(a) => Flag::Keyword(a.into_static()),
            Flag::Extension(a) => Flag::Extension(a.into_static()),
        }
    }

    /// Parse `input`, which must be exactly one `flag` (nothing before or after it).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Parse `input`, which must be exactly one `flag-list`: `(\Seen $Forwarded)`.
    pub fn parse_list(input: &'a [u8]) -> Result<List<Self>, ParseError> {
        parse_whole(input, read_flag_list)
    }

    /// Read a `flag`.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        if r.eat(b'\\') {
            if r.peek() == Some(b'*') {
                return Err(r.error("flag (\\* only in PERMANENTFLAGS)"));
            }
            return read_atom(r, "flag-extension").map(Self::from_extension);
        }
        read_atom(r, "flag").map(Flag::Keyword)
    }
}

fn read_atom<'a>(r: &mut Reader<'a>, expected: &'static str) -> PResult<Atom<'a>> {
    let at = r.pos();
    Atom::read(r).map_err(|e| {
        // nothing consumed: name the rule of the caller
        if e.offset() == at && r.pos() == at {
            fail(r, expected)
        } else {
            e
        }
    })
}

impl PartialEq for Flag<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Flag<'_> {}

impl Hash for Flag<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl Encode for Flag<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            Flag::Answered => w.raw(b"\\Answered"),
            Flag::Flagged => w.raw(b"\\Flagged"),
            Flag::Deleted => w.raw(b"\\Deleted"),
            Flag::Seen => w.raw(b"\\Seen"),
            Flag::Draft => w.raw(b"\\Draft"),
            Flag::Keyword(a) => a.encode(w),
            Flag::Extension(a) => {
                w.byte(b'\\');
                a.encode(w);
            }
        }
    }
}

/// `flag-perm = flag / "\*"` (RFC 3501 section 9), as in the PERMANENTFLAGS response code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FlagPerm<'a> {
    /// A flag that can be set permanently.
    Flag(Flag<'a>),
    /// `\*`: new keywords can be created.
    Wildcard,
}

impl<'a> FlagPerm<'a> {
    /// The same value owning its name.
    pub fn into_static(self) -> FlagPerm<'static> {
        match self {
            FlagPerm::Flag(f) => FlagPerm::Flag(f.into_static()),
            FlagPerm::Wildcard => FlagPerm::Wildcard,
        }
    }

    /// Parse `input`, which must be exactly one `flag-perm` (nothing before or after it).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Parse `input`, which must be exactly one parenthesised list of `flag-perm`, as in
    /// PERMANENTFLAGS: `(\Deleted \*)`.
    pub fn parse_list(input: &'a [u8]) -> Result<List<Self>, ParseError> {
        parse_whole(input, read_flag_perm_list)
    }

    /// Read a `flag-perm`.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        if r.rest().starts_with(b"\\*") {
            r.take(2, "\\*")?;
            return Ok(FlagPerm::Wildcard);
        }
        Flag::read(r).map(FlagPerm::Flag)
    }
}

impl Encode for FlagPerm<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            FlagPerm::Flag(f) => f.encode(w),
            FlagPerm::Wildcard => w.raw(b"\\*"),
        }
    }
}

/// `flag-fetch = flag / "\Recent"` (RFC 3501 section 9), as in a FETCH response's FLAGS.
/// `\Recent` is gone from IMAP4rev2 but IMAP4rev1 servers send it.
#[derive(Debug, Clone)]
pub enum FlagFetch<'a> {
    /// A flag.
    Flag(Flag<'a>),
    /// `\Recent`.
    Recent,
}

impl<'a> FlagFetch<'a> {
    /// The same value owning its name.
    pub fn into_static(self) -> FlagFetch<'static> {
        match self {
            FlagFetch::Flag(f) => FlagFetch::Flag(f.into_static()),
            FlagFetch::Recent => FlagFetch::Recent,
        }
    }

    fn key(&self) -> FlagKey<'_> {
        match self {
            FlagFetch::Flag(f) => f.key(),
            FlagFetch::Recent => FlagKey::System(5),
        }
    }

    /// Parse `input`, which must be exactly one `flag-fetch` (nothing before or after it).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Parse `input`, which must be exactly one parenthesised list of `flag-fetch`, as in a
    /// FETCH response: `(\Seen \Recent)`.
    pub fn parse_list(input: &'a [u8]) -> Result<List<Self>, ParseError> {
        parse_whole(input, read_flag_fetch_list)
    }

    /// Read a `flag-fetch`.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        match Flag::read(r)? {
            Flag::Extension(a) if a.as_str().eq_ignore_ascii_case("Recent") => {
                Ok(FlagFetch::Recent)
            }
            f => Ok(FlagFetch::Flag(f)),
        }
    }
}

impl PartialEq for FlagFetch<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for FlagFetch<'_> {}

impl Hash for FlagFetch<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl Encode for FlagFetch<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            FlagFetch::Flag(f) => f.encode(w),
            FlagFetch::Recent => w.raw(b"\\Recent"),
        }
    }
}

macro_rules! mailbox_attributes {
    ($($variant:ident = $idx:literal, $name:literal, $doc:literal;)*) => {
        /// A mailbox attribute of a LIST or LSUB response: `mbx-list-flags` (RFC 3501 section
        /// 9, RFC 9051 section 9), the child attributes of CHILDREN (RFC 3348) and
        /// LIST-EXTENDED (RFC 5258), and the SPECIAL-USE attributes (RFC 6154); any other
        /// `\` atom is an [`MailboxAttribute::Extension`].
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum MailboxAttribute<'a> {
            $(
                #[doc = $doc]
                $variant,
            )*
            /// Another attribute: `\` and an atom that is none of the above.
            Extension(Atom<'a>),
        }

        /// The names of the known attributes, at their index.
        const ATTRIBUTE_NAMES: &[&str] = &[$($name),*];

        impl<'a> MailboxAttribute<'a> {
            /// The index of a known attribute (an extension that has a known name included).
            fn index(&self) -> Option<usize> {
                match self {
                    $(MailboxAttribute::$variant => Some($idx),)*
                    MailboxAttribute::Extension(a) => system_index(a.as_str(), ATTRIBUTE_NAMES),
                }
            }

            fn from_atom(a: Atom<'a>) -> Self {
                match system_index(a.as_str(), ATTRIBUTE_NAMES) {
                    $(Some($idx) => MailboxAttribute::$variant,)*
                    _ => MailboxAttribute::Extension(a),
                }
            }

            /// The name without the `\`.
            pub fn name(&self) -> &str {
                match self {
                    $(MailboxAttribute::$variant => $name,)*
                    MailboxAttribute::Extension(a) => a.as_str(),
                }
            }

            /// The same value owning its name.
            pub fn into_static(self) -> MailboxAttribute<'static> {
                match self {
                    $(MailboxAttribute::$variant => MailboxAttribute::$variant,)*
                    MailboxAttribute::Extension(a) => MailboxAttribute::Extension(a.into_static()),
                }
            }
        }
    };
}

mailbox_attributes! {
    Noinferiors = 0, "Noinferiors", "`\\Noinferiors`: no child can be created (RFC 3501).";
    Noselect = 1, "Noselect", "`\\Noselect`: the name cannot be selected (RFC 3501).";
    Marked = 2, "Marked", "`\\Marked`: probably has new messages (RFC 3501).";
    Unmarked = 3, "Unmarked", "`\\Unmarked`: no new messages (RFC 3501).";
    HasChildren = 4, "HasChildren", "`\\HasChildren` (RFC 3348, RFC 5258).";
    HasNoChildren = 5, "HasNoChildren", "`\\HasNoChildren` (RFC 3348, RFC 5258).";
    NonExistent = 6, "NonExistent", "`\\NonExistent` (RFC 5258, RFC 9051).";
    Subscribed = 7, "Subscribed", "`\\Subscribed` (RFC 5258, RFC 9051).";
    Remote = 8, "Remote", "`\\Remote` (RFC 5258, RFC 9051).";
    All = 9, "All", "`\\All`: every message (RFC 6154).";
    Archive = 10, "Archive", "`\\Archive` (RFC 6154).";
    Drafts = 11, "Drafts", "`\\Drafts` (RFC 6154).";
    Flagged = 12, "Flagged", "`\\Flagged`: flagged messages (RFC 6154).";
    Junk = 13, "Junk", "`\\Junk` (RFC 6154).";
    Sent = 14, "Sent", "`\\Sent` (RFC 6154).";
    Trash = 15, "Trash", "`\\Trash` (RFC 6154).";
}

impl<'a> MailboxAttribute<'a> {
    /// The attribute `\name`: a known one when `name` is one (in any case), else an
    /// extension; refused when `name` is not an atom.
    pub fn new(name: impl Into<Cow<'a, str>>) -> Result<Self, ValidationError> {
        Atom::new(name).map(Self::from_atom)
    }

    /// Parse `input`, which must be exactly one `mbx-list-flag` (nothing before or after it).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Parse `input`, which must be exactly one parenthesised attribute list, as in a LIST
    /// response: `(\HasNoChildren \Sent)`.
    pub fn parse_list(input: &'a [u8]) -> Result<List<Self>, ParseError> {
        parse_whole(input, read_mailbox_attribute_list)
    }

    /// Read one attribute (`\` atom).
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        if !r.eat(b'\\') {
            return Err(fail(r, "mbx-list-flag ('\\')"));
        }
        read_atom(r, "mbx-list-flag").map(Self::from_atom)
    }
}

impl PartialEq for MailboxAttribute<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self.index(), other.index()) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.name() == other.name(),
            _ => false,
        }
    }
}

impl Eq for MailboxAttribute<'_> {}

impl Hash for MailboxAttribute<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self.index() {
            Some(i) => i.hash(state),
            None => self.name().hash(state),
        }
    }
}

impl Encode for MailboxAttribute<'_> {
    fn encode(&self, w: &mut Writer) {
        w.byte(b'\\');
        w.raw(self.name().as_bytes());
    }
}

/// Read `"(" [item *(SP item)] ")"`. With [`Quirks::extra_spaces`](crate::Quirks), runs of
/// spaces between items and a space before the closing parenthesis are accepted (as the
/// FETCH response's own list does).
pub(crate) fn read_paren_list<'a, T, const N: usize>(
    r: &mut Reader<'a>,
    expected: &'static str,
    item: impl Fn(&mut Reader<'a>) -> PResult<T>,
) -> PResult<List<T, N>> {
    if !r.eat(b'(') {
        return Err(fail(r, expected));
    }
    let mut out = List::new();
    if r.eat(b')') {
        return Ok(out);
    }
    loop {
        out.push(item(r)?);
        if r.eat(b')') {
            return Ok(out);
        }
        if r.peek() != Some(b' ') {
            return Err(fail(r, "SP or ')'"));
        }
        r.sp()?;
        if r.quirks.extra_spaces && r.eat(b')') {
            return Ok(out);
        }
    }
}

/// Write `"(" [item *(SP item)] ")"`: a `flag-list`, a PERMANENTFLAGS list, the FLAGS of a
/// FETCH response or the attributes of a LIST response.
pub fn write_list<T: Encode>(w: &mut Writer, items: &[T]) {
    w.byte(b'(');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            w.sp();
        }
        item.encode(w);
    }
    w.byte(b')');
}

/// `flag-list = "(" [flag *(SP flag)] ")"` (RFC 3501 section 9).
pub(crate) fn read_flag_list<'a, const N: usize>(r: &mut Reader<'a>) -> PResult<List<Flag<'a>, N>> {
    read_paren_list(r, "flag-list", Flag::read)
}

/// `"(" [flag-perm *(SP flag-perm)] ")"`, the list of the PERMANENTFLAGS response code.
pub(crate) fn read_flag_perm_list<'a, const N: usize>(
    r: &mut Reader<'a>,
) -> PResult<List<FlagPerm<'a>, N>> {
    read_paren_list(r, "flag-perm list", FlagPerm::read)
}

/// `"(" [flag-fetch *(SP flag-fetch)] ")"`, the value of a FETCH response's FLAGS.
pub(crate) fn read_flag_fetch_list<'a, const N: usize>(
    r: &mut Reader<'a>,
) -> PResult<List<FlagFetch<'a>, N>> {
    read_paren_list(r, "flag-fetch list", FlagFetch::read)
}

/// `"(" [mbx-list-flags] ")"` of a LIST or LSUB response.
pub(crate) fn read_mailbox_attribute_list<'a, const N: usize>(
    r: &mut Reader<'a>,
) -> PResult<List<MailboxAttribute<'a>, N>> {
    read_paren_list(r, "mbx-list-flags", MailboxAttribute::read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind::{self, Incomplete, Syntax};
    use std::fmt::Debug;

    fn err<T: Debug>(res: Result<T, ParseError>) -> (usize, ErrorKind) {
        let e = res.unwrap_err();
        (e.offset(), e.kind())
    }

    fn atom(s: &str) -> Atom<'_> {
        Atom::new(s).unwrap()
    }

    #[test]
    fn flags() {
        for (input, want, out) in [
            (&b"\\Seen"[..], Flag::Seen, &b"\\Seen"[..]),
            (b"\\seen", Flag::Seen, b"\\Seen"),
            (b"\\ANSWERED", Flag::Answered, b"\\Answered"),
            (b"\\Flagged", Flag::Flagged, b"\\Flagged"),
            (b"\\Deleted", Flag::Deleted, b"\\Deleted"),
            (b"\\Draft", Flag::Draft, b"\\Draft"),
            (
                b"$Forwarded",
                Flag::Keyword(atom("$Forwarded")),
                b"$Forwarded",
            ),
            (b"Seen", Flag::Keyword(atom("Seen")), b"Seen"),
            (b"\\Foo", Flag::Extension(atom("Foo")), b"\\Foo"),
        ] {
            let f = Flag::parse(input).unwrap();
            assert_eq!(f, want);
            assert_eq!(f.to_bytes(), out);
        }
        assert!(matches!(Flag::parse(b"\\SEEN").unwrap(), Flag::Seen));
        assert_eq!(err(Flag::parse(b"\\*")), (1, Syntax));
        assert_eq!(err(Flag::parse(b"\\")), (1, Incomplete));
        assert_eq!(err(Flag::parse(b"\\(")), (1, Syntax));
        assert_eq!(err(Flag::parse(b"(")), (0, Syntax));
        assert_eq!(err(Flag::parse(b"a]")), (1, Syntax));
    }

    #[test]
    fn extension_with_a_system_name_is_the_system_flag() {
        assert!(matches!(Flag::extension("seen").unwrap(), Flag::Seen));
        assert_eq!(Flag::Extension(atom("DRAFT")), Flag::Draft);
        assert_ne!(Flag::Keyword(atom("Draft")), Flag::Draft);
        let mut set = std::collections::HashSet::new();
        set.insert(Flag::Extension(atom("deleted")));
        assert!(set.contains(&Flag::Deleted));
        assert!(Flag::keyword("a b").is_err());
        assert!(Flag::keyword("").is_err());
        assert!(Flag::extension("*").is_err());
    }

    #[test]
    fn flag_perm_and_fetch() {
        assert_eq!(FlagPerm::parse(b"\\*").unwrap(), FlagPerm::Wildcard);
        assert_eq!(
            FlagPerm::parse(b"\\Seen").unwrap(),
            FlagPerm::Flag(Flag::Seen)
        );
        assert_eq!(FlagPerm::Wildcard.to_bytes(), b"\\*");
        assert_eq!(err(FlagPerm::parse(b"\\*x")), (2, Syntax));
        assert_eq!(FlagFetch::parse(b"\\Recent").unwrap(), FlagFetch::Recent);
        assert!(matches!(
            FlagFetch::parse(b"\\recent").unwrap(),
            FlagFetch::Recent
        ));
        assert_eq!(FlagFetch::Recent.to_bytes(), b"\\Recent");
        assert_eq!(
            FlagFetch::Flag(Flag::Extension(atom("Recent"))),
            FlagFetch::Recent
        );
        assert_eq!(
            FlagFetch::parse(b"$Junk").unwrap(),
            FlagFetch::Flag(Flag::Keyword(atom("$Junk")))
        );
    }

    #[test]
    fn lists() {
        let l = Flag::parse_list(b"(\\Seen $Forwarded \\Foo)").unwrap();
        assert_eq!(
            &l[..],
            &[
                Flag::Seen,
                Flag::Keyword(atom("$Forwarded")),
                Flag::Extension(atom("Foo"))
            ]
        );
        let mut w = Writer::new(Default::default());
        write_list(&mut w, &l);
        assert_eq!(w.finish().as_bytes(), b"(\\Seen $Forwarded \\Foo)");
        assert!(Flag::parse_list(b"()").unwrap().is_empty());
        assert_eq!(err(Flag::parse_list(b"(\\Seen")), (6, Incomplete));
        assert_eq!(err(Flag::parse_list(b"(\\Seen\\Draft)")), (6, Syntax));
        assert_eq!(err(Flag::parse_list(b"( \\Seen)")), (1, Syntax));
        assert_eq!(err(Flag::parse_list(b"(\\Seen )")), (7, Syntax));
        assert_eq!(err(Flag::parse_list(b"(\\Seen  \\Draft)")), (7, Syntax));
        assert_eq!(err(Flag::parse_list(b"\\Seen")), (0, Syntax));
        assert_eq!(err(Flag::parse_list(b"(\\Seen))")), (7, Syntax));
        let mut r = Reader::new(b"(\\Seen  \\Draft)", crate::Quirks::LENIENT);
        assert_eq!(read_flag_list::<4>(&mut r).unwrap().len(), 2);
        let mut r = Reader::new(b"(\\Seen \\Draft )", crate::Quirks::LENIENT);
        assert_eq!(read_flag_list::<4>(&mut r).unwrap().len(), 2);
        assert!(r.is_empty());
        let mut r = Reader::new(b"(\\Seen \\Draft )", crate::Quirks::STRICT);
        assert_eq!(read_flag_list::<4>(&mut r).unwrap_err().offset(), 14);
        let mut r = Reader::new(b"(\\Noselect )", crate::Quirks::LENIENT);
        assert_eq!(read_mailbox_attribute_list::<4>(&mut r).unwrap().len(), 1);
        let p = FlagPerm::parse_list(b"(\\Deleted \\*)").unwrap();
        assert_eq!(&p[..], &[FlagPerm::Flag(Flag::Deleted), FlagPerm::Wildcard]);
        let f = FlagFetch::parse_list(b"(\\Seen \\Recent)").unwrap();
        assert_eq!(&f[..], &[FlagFetch::Flag(Flag::Seen), FlagFetch::Recent]);
        assert_eq!(err(FlagFetch::parse_list(b"(\\*)")), (2, Syntax));
    }

    #[test]
    fn mailbox_attributes() {
        let all = b"(\\Noinferiors \\Noselect \\Marked \\Unmarked \\HasChildren \\HasNoChildren \
\\NonExistent \\Subscribed \\Remote \\All \\Archive \\Drafts \\Flagged \\Junk \\Sent \\Trash \
\\Important)";
        let l = MailboxAttribute::parse_list(all).unwrap();
        assert_eq!(l.len(), 17);
        assert_eq!(l[0], MailboxAttribute::Noinferiors);
        assert_eq!(l[15], MailboxAttribute::Trash);
        assert_eq!(l[16], MailboxAttribute::Extension(atom("Important")));
        let mut w = Writer::new(Default::default());
        write_list(&mut w, &l);
        assert_eq!(w.finish().as_bytes(), &all[..]);
        assert!(matches!(
            MailboxAttribute::parse(b"\\hasnochildren").unwrap(),
            MailboxAttribute::HasNoChildren
        ));
        assert_eq!(
            MailboxAttribute::Extension(atom("SENT")),
            MailboxAttribute::Sent
        );
        assert_eq!(MailboxAttribute::new("junk").unwrap().name(), "Junk");
        assert!(MailboxAttribute::new("a b").is_err());
        assert_eq!(err(MailboxAttribute::parse(b"Sent")), (0, Syntax));
        assert_eq!(err(MailboxAttribute::parse(b"\\(")), (1, Syntax));
        assert_eq!(err(MailboxAttribute::parse(b"\\")), (1, Incomplete));
        assert_eq!(err(MailboxAttribute::parse(b"")), (0, Incomplete));
        assert_eq!(
            err(MailboxAttribute::parse_list(b"(\\Sent")),
            (6, Incomplete)
        );
        assert_eq!(
            err(MailboxAttribute::parse_list(b"(\\Sent foo)")),
            (7, Syntax)
        );
        assert_eq!(
            MailboxAttribute::Noselect.into_static(),
            MailboxAttribute::Noselect
        );
    }
}
