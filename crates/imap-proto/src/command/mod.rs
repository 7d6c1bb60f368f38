//! Commands (client to server): every command of IMAP4rev1 (RFC 3501 section 6) and IMAP4rev2
//! (RFC 9051 section 6) with the extensions of the crate (IDLE, UIDPLUS, MOVE, ENABLE,
//! NAMESPACE, ID, UNSELECT, SASL-IR, SPECIAL-USE, LIST-EXTENDED, LIST-STATUS, ESEARCH,
//! SEARCHRES, CONDSTORE, QRESYNC, BINARY, QUOTA, MULTIAPPEND, SORT, THREAD, UTF8=ACCEPT,
//! COMPRESS), AUTHENTICATE's data lines and IDLE's `DONE`.
//!
//! [`Command::parse`] takes one complete message (the framer's output: the line, every literal's
//! data, and the final CRLF) and returns a value borrowing from it; a command that does not
//! parse gives a [`CommandError`] with the tag when it was readable, so that a server can
//! answer `tag BAD` and carry on. Command names and keywords are case-insensitive; the
//! encoder writes them in upper case.
//!
//! ```
//! use imap_proto::command::{Command, CommandBody};
//! use imap_proto::Encode;
//!
//! let cmd = Command::parse(b"a1 noop\r\n").unwrap();
//! assert_eq!(cmd.tag.as_str(), "a1");
//! assert_eq!(cmd.body, CommandBody::Noop);
//! assert_eq!(cmd.to_bytes(), b"a1 NOOP\r\n");
//!
//! let err = Command::parse(b"a2 FROB\r\n").unwrap_err();
//! assert_eq!(err.tag.unwrap().as_str(), "a2");
//! assert_eq!(err.error.offset(), 3);
//! ```

mod append;
mod auth;
mod fetch;
mod mailbox;
mod search;

pub use append::{AppendData, AppendMessage};
pub use auth::{AuthenticateData, Base64, IdleDone};
pub use fetch::{FetchAttribute, FetchItems};
pub use mailbox::{ListReturnOption, ListSelectOption, QResync, SelectParams, StatusItem};
pub use search::{
    EntryType, SearchKey, SearchModSeq, SearchReturnOption, SortCriterion, SortKey, ThreadAlgorithm,
};

use crate::core::{AString, Atom, Charset, IString, NString, Tag, tag_len};
use crate::encode::{Encode, Writer};
use crate::error::{ErrorKind, ParseError, ValidationError};
use crate::flag::{Flag, MailboxAttribute, read_flag_list};
use crate::list::List;
use crate::mailbox::{ListMailbox, Mailbox};
use crate::parse::{PResult, Quirks, Reader};
use crate::sequence::SequenceSet;
use std::fmt;
use std::ops::Deref;

pub use crate::list::NonEmpty;

/// A `Vec` that holds at least one element: [`NonEmpty`] for lists that are long or rare
/// enough to live on the heap (the messages of an APPEND), so that they do not make every
/// command value larger. It derefs to a slice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NonEmptyVec<T>(Vec<T>);

impl<T> NonEmptyVec<T> {
    /// A list of one element.
    pub fn one(value: T) -> Self {
        NonEmptyVec(vec![value])
    }

    /// The list, refused when empty.
    pub fn new(list: Vec<T>) -> Result<Self, ValidationError> {
        if list.is_empty() {
            Err(ValidationError::new(
                "list",
                "empty where one element is required",
            ))
        } else {
            Ok(NonEmptyVec(list))
        }
    }

    /// Append an element.
    pub fn push(&mut self, value: T) {
        self.0.push(value);
    }

    /// The elements.
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }

    /// Map every element.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> NonEmptyVec<U> {
        NonEmptyVec(self.0.into_iter().map(f).collect())
    }
}

impl<T> Deref for NonEmptyVec<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T> TryFrom<Vec<T>> for NonEmptyVec<T> {
    type Error = ValidationError;
    fn try_from(v: Vec<T>) -> Result<Self, ValidationError> {
        NonEmptyVec::new(v)
    }
}

const MODSEQ_MAX: u64 = i64::MAX as u64;

/// `mod-sequence-value` (CONDSTORE RFC 7162): 1 to 2^63 - 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModSeq(u64);

impl ModSeq {
    /// A mod-sequence; refused when 0 or above 2^63 - 1.
    pub fn new(value: u64) -> Result<Self, ValidationError> {
        if value == 0 || value > MODSEQ_MAX {
            Err(ValidationError::new(
                "mod-sequence-value",
                "not in 1..2^63-1",
            ))
        } else {
            Ok(ModSeq(value))
        }
    }

    /// The value.
    pub fn get(self) -> u64 {
        self.0
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> PResult<Self> {
        let start = r.pos();
        let v = r.number64()?;
        if v == 0 {
            return Err(ParseError::new(
                start,
                "mod-sequence-value",
                ErrorKind::Number,
            ));
        }
        Ok(ModSeq(v))
    }
}

impl Encode for ModSeq {
    fn encode(&self, w: &mut Writer) {
        w.number(self.0);
    }
}

/// `mod-sequence-valzer` (RFC 7162): 0 to 2^63 - 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ModSeqValzer(u64);

impl ModSeqValzer {
    /// A mod-sequence or zero; refused above 2^63 - 1.
    pub fn new(value: u64) -> Result<Self, ValidationError> {
        if value > MODSEQ_MAX {
            Err(ValidationError::new("mod-sequence-valzer", "above 2^63-1"))
        } else {
            Ok(ModSeqValzer(value))
        }
    }

    /// The value.
    pub fn get(self) -> u64 {
        self.0
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> PResult<Self> {
        Ok(ModSeqValzer(r.number64()?))
    }
}

impl Encode for ModSeqValzer {
    fn encode(&self, w: &mut Writer) {
        w.number(self.0);
    }
}

/// A resource limit of SETQUOTA (RFC 9208 `setquota-resource`): a resource name and its limit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuotaLimit<'a> {
    resource: Atom<'a>,
    limit: u64,
}

impl<'a> QuotaLimit<'a> {
    /// A limit of `resource` (`STORAGE` in units of 1024 octets, `MESSAGE`, `MAILBOX`,
    /// `ANNOTATION-STORAGE`, or an extension's name); refused above 2^63 - 1.
    pub fn new(resource: Atom<'a>, limit: u64) -> Result<Self, ValidationError> {
        if limit > MODSEQ_MAX {
            return Err(ValidationError::new("resource-limit", "above 2^63-1"));
        }
        Ok(QuotaLimit { resource, limit })
    }

    /// The resource name.
    pub fn resource(&self) -> &Atom<'a> {
        &self.resource
    }

    /// The limit.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The value with its borrowed data copied.
    pub fn into_static(self) -> QuotaLimit<'static> {
        QuotaLimit {
            resource: self.resource.into_static(),
            limit: self.limit,
        }
    }
}

/// How STORE changes the flags (`store-att-flags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreKind {
    /// `FLAGS`: replace the flags.
    Replace,
    /// `+FLAGS`: add the flags.
    Add,
    /// `-FLAGS`: remove the flags.
    Remove,
}

/// A command: its tag and what it asks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Command<'a> {
    /// The tag the server's completion response repeats.
    pub tag: Tag<'a>,
    /// The command.
    pub body: CommandBody<'a>,
}

/// A command that does not parse: the tag when it was readable (so a server can answer
/// `tag BAD`, or `* BAD` without one), and where and why it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError<'a> {
    /// The tag, when the message started with a valid one.
    pub tag: Option<Tag<'a>>,
    /// The offset and what was expected there.
    pub error: ParseError,
}

impl CommandError<'_> {
    /// The value with its borrowed data copied.
    pub fn into_static(self) -> CommandError<'static> {
        CommandError {
            tag: self.tag.map(Tag::into_static),
            error: self.error,
        }
    }
}

impl fmt::Display for CommandError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.tag {
            Some(t) => write!(f, "command {}: {}", t.as_str(), self.error),
            None => write!(f, "command without a valid tag: {}", self.error),
        }
    }
}

impl std::error::Error for CommandError<'_> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl<'a> Command<'a> {
    /// A command.
    pub fn new(tag: Tag<'a>, body: CommandBody<'a>) -> Self {
        Command { tag, body }
    }

    /// Parse one complete command (the line, the data of its literals, the final CRLF) with
    /// [`Quirks::STRICT`], the server default.
    #[inline]
    pub fn parse(input: &'a [u8]) -> Result<Self, CommandError<'a>> {
        Self::parse_with(input, Quirks::STRICT)
    }

    /// Parse one complete command with the given lenience.
    #[inline]
    pub fn parse_with(input: &'a [u8], quirks: Quirks) -> Result<Self, CommandError<'a>> {
        // The commands without arguments (NOOP, IDLE, CHECK, ...: the ones a client repeats)
        // in their only form, `tag SP name CRLF`, are told by their name alone, here, before
        // the general reader is set up; every other form (and every error) goes to it.
        let n = tag_len(input);
        if n > 0 {
            if let Some((tag, name)) = input.split_at_checked(n).and_then(|(tag, rest)| {
                let name = rest.strip_prefix(b" ")?.strip_suffix(b"\r\n")?;
                Some((tag, name))
            }) {
                // Each arm returns its whole value, so that the result is written in place
                // (a `CommandBody` chosen first would be built aside and copied, all of it).
                macro_rules! bare {
                    ($($name:ident => $body:ident,)*) => {
                        match fold_key(name) {
                            $(names::$name => {
                                return Ok(Command {
                                    tag: Tag::from_checked(tag),
                                    body: CommandBody::$body,
                                })
                            })*
                            _ => {}
                        }
                    };
                }
                with_bare_commands!(bare);
            }
        }
        Self::parse_general(input, quirks)
    }

    /// [`Command::parse_with`] for every command but the argument-less ones in their one form.
    #[inline(never)]
    fn parse_general(input: &'a [u8], quirks: Quirks) -> Result<Self, CommandError<'a>> {
        let mut r = Reader::new(input, quirks);
        let tag = match Tag::read(&mut r) {
            // A tag counts as read when SP (or the end of the line) follows it.
            Ok(t) if r.peek() == Some(b' ') || r.rest().starts_with(b"\r\n") => t,
            Ok(_) => {
                return Err(CommandError {
                    tag: None,
                    error: r.error("SP"),
                });
            }
            Err(error) => return Err(CommandError { tag: None, error }),
        };
        // The body is read into its place in the result: a `CommandBody` is large (the short
        // lists of FETCH and SEARCH are stored inline), and moving it through intermediate
        // results would cost more than parsing a short command.
        let mut result = Ok(Command {
            tag,
            body: CommandBody::Noop,
        });
        if let Ok(cmd) = &mut result {
            let read = r
                .sp()
                .and_then(|()| CommandBody::read_into(&mut r, &mut cmd.body))
                .and_then(|()| r.crlf_end());
            if let Err(error) = read {
                // The tag borrows the input: cloning it copies a reference.
                let tag = Some(cmd.tag.clone());
                result = Err(CommandError { tag, error });
            }
        }
        result
    }

    /// The value with its borrowed data copied.
    pub fn into_static(self) -> Command<'static> {
        Command {
            tag: self.tag.into_static(),
            body: self.body.into_static(),
        }
    }
}

impl Encode for Command<'_> {
    fn encode(&self, w: &mut Writer) {
        self.tag.encode(w);
        w.sp();
        self.body.encode(w);
        w.crlf();
    }
}

/// What a command asks: one variant per command. Commands with a UID form carry `uid`
/// (`UID FETCH`, `UID SEARCH`, ...).
// FETCH keeps its attribute list inline (no heap for up to four attributes), which makes its
// variant the largest; boxing it would cost an allocation per FETCH command.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommandBody<'a> {
    /// `CAPABILITY`
    Capability,
    /// `NOOP`
    Noop,
    /// `LOGOUT`
    Logout,
    /// `STARTTLS`
    StartTls,
    /// `AUTHENTICATE mechanism [initial-response]` (SASL-IR RFC 4959: an empty initial
    /// response is written `=`).
    Authenticate {
        /// The SASL mechanism (`auth-type`).
        mechanism: Atom<'a>,
        /// The initial response, base64.
        initial_response: Option<Base64<'a>>,
    },
    /// `LOGIN userid password`
    Login {
        /// The user name.
        username: AString<'a>,
        /// The password.
        password: AString<'a>,
    },
    /// `SELECT mailbox [select-params]`
    Select {
        /// The mailbox.
        mailbox: Mailbox<'a>,
        /// CONDSTORE and QRESYNC parameters.
        params: SelectParams,
    },
    /// `EXAMINE mailbox [select-params]`
    Examine {
        /// The mailbox.
        mailbox: Mailbox<'a>,
        /// CONDSTORE and QRESYNC parameters.
        params: SelectParams,
    },
    /// `CREATE mailbox [(USE (special-use...))]` (SPECIAL-USE RFC 6154 section 3)
    Create {
        /// The mailbox.
        mailbox: Mailbox<'a>,
        /// Special uses to give it (`\Drafts`, `\Sent`, ...); not written when empty.
        special_use: List<MailboxAttribute<'a>>,
    },
    /// `DELETE mailbox`
    Delete {
        /// The mailbox.
        mailbox: Mailbox<'a>,
    },
    /// `RENAME mailbox mailbox`
    Rename {
        /// The existing name.
        from: Mailbox<'a>,
        /// The new name.
        to: Mailbox<'a>,
    },
    /// `SUBSCRIBE mailbox`
    Subscribe {
        /// The mailbox.
        mailbox: Mailbox<'a>,
    },
    /// `UNSUBSCRIBE mailbox`
    Unsubscribe {
        /// The mailbox.
        mailbox: Mailbox<'a>,
    },
    /// `LIST [(selection)] reference pattern` or `(patterns)` `[RETURN (options)]`
    /// (LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819). A single pattern without options is
    /// the basic LIST of RFC 3501.
    List {
        /// Selection options (LIST-EXTENDED); not written when empty.
        selection: List<ListSelectOption>,
        /// The reference name.
        reference: Mailbox<'a>,
        /// The patterns (several only with LIST-EXTENDED).
        patterns: NonEmpty<ListMailbox<'a>>,
        /// Return options (LIST-EXTENDED); not written when empty.
        return_options: List<ListReturnOption>,
    },
    /// `LSUB reference pattern` (RFC 3501 only)
    Lsub {
        /// The reference name.
        reference: Mailbox<'a>,
        /// The pattern.
        pattern: ListMailbox<'a>,
    },
    /// `NAMESPACE` (RFC 2342)
    Namespace,
    /// `STATUS mailbox (items)`
    Status {
        /// The mailbox.
        mailbox: Mailbox<'a>,
        /// What to report.
        items: NonEmpty<StatusItem>,
    },
    /// `APPEND mailbox message...` (several messages with MULTIAPPEND RFC 3502)
    Append {
        /// The mailbox.
        mailbox: Mailbox<'a>,
        /// The messages, each with its flags and date (on the heap: a message value is large,
        /// and an APPEND is rare next to the commands that must not allocate).
        messages: NonEmptyVec<AppendMessage<'a>>,
    },
    /// `IDLE` (RFC 2177)
    Idle,
    /// `CHECK` (RFC 3501 only)
    Check,
    /// `CLOSE`
    Close,
    /// `UNSELECT` (RFC 3691)
    Unselect,
    /// `EXPUNGE`
    Expunge,
    /// `UID EXPUNGE uid-set` (UIDPLUS RFC 4315)
    UidExpunge {
        /// The UIDs to expunge.
        uids: SequenceSet,
    },
    /// `[UID] SEARCH [RETURN (options)] [CHARSET charset] keys...`
    Search {
        /// `UID SEARCH`
        uid: bool,
        /// ESEARCH return options: `None` for a plain SEARCH, `Some` (possibly empty, which
        /// means `ALL`) for `RETURN (...)`.
        return_options: Option<List<SearchReturnOption>>,
        /// `CHARSET`
        charset: Option<Charset<'a>>,
        /// The keys, all of which must match.
        criteria: NonEmpty<SearchKey<'a>>,
    },
    /// `[UID] FETCH sequence-set items [(CHANGEDSINCE n [VANISHED])]`
    Fetch {
        /// `UID FETCH`
        uid: bool,
        /// The messages.
        sequence_set: SequenceSet,
        /// What to fetch.
        items: FetchItems<'a>,
        /// `CHANGEDSINCE` (CONDSTORE).
        changed_since: Option<ModSeq>,
        /// `VANISHED` (QRESYNC, with UID FETCH and CHANGEDSINCE).
        vanished: bool,
    },
    /// `[UID] STORE sequence-set [(UNCHANGEDSINCE n)] [+|-]FLAGS[.SILENT] flags`
    Store {
        /// `UID STORE`
        uid: bool,
        /// The messages.
        sequence_set: SequenceSet,
        /// `UNCHANGEDSINCE` (CONDSTORE).
        unchanged_since: Option<ModSeqValzer>,
        /// Replace, add or remove.
        kind: StoreKind,
        /// `.SILENT`: no untagged FETCH in answer.
        silent: bool,
        /// The flags (written as a parenthesised list, possibly empty).
        flags: List<Flag<'a>>,
    },
    /// `[UID] COPY sequence-set mailbox`
    Copy {
        /// `UID COPY`
        uid: bool,
        /// The messages.
        sequence_set: SequenceSet,
        /// The destination.
        mailbox: Mailbox<'a>,
    },
    /// `[UID] MOVE sequence-set mailbox` (RFC 6851)
    Move {
        /// `UID MOVE`
        uid: bool,
        /// The messages.
        sequence_set: SequenceSet,
        /// The destination.
        mailbox: Mailbox<'a>,
    },
    /// `ENABLE capability...` (RFC 5161)
    Enable {
        /// The capabilities to enable.
        capabilities: NonEmpty<Atom<'a>>,
    },
    /// `ID (field value ...)` or `ID NIL` (RFC 2971)
    Id {
        /// The client's fields and values; `None` for `NIL`.
        parameters: Option<List<(IString<'a>, NString<'a>)>>,
    },
    /// `GETQUOTA quota-root` (RFC 9208)
    GetQuota {
        /// The quota root.
        root: AString<'a>,
    },
    /// `GETQUOTAROOT mailbox` (RFC 9208)
    GetQuotaRoot {
        /// The mailbox.
        mailbox: Mailbox<'a>,
    },
    /// `SETQUOTA quota-root (resource limit ...)` (RFC 9208)
    SetQuota {
        /// The quota root.
        root: AString<'a>,
        /// The new limits (possibly none: remove every limit).
        limits: List<QuotaLimit<'a>>,
    },
    /// `[UID] SORT (criteria) charset keys...` (RFC 5256)
    Sort {
        /// `UID SORT`
        uid: bool,
        /// The sort order.
        criteria: NonEmpty<SortCriterion>,
        /// The charset of the search strings.
        charset: Charset<'a>,
        /// Which messages.
        search: NonEmpty<SearchKey<'a>>,
    },
    /// `[UID] THREAD algorithm charset keys...` (RFC 5256)
    Thread {
        /// `UID THREAD`
        uid: bool,
        /// The threading algorithm.
        algorithm: ThreadAlgorithm<'a>,
        /// The charset of the search strings.
        charset: Charset<'a>,
        /// Which messages.
        search: NonEmpty<SearchKey<'a>>,
    },
    /// `COMPRESS algorithm` (RFC 4978; `DEFLATE`)
    Compress {
        /// The algorithm.
        algorithm: Atom<'a>,
    },
}

/// Whether an optional `SP ...` follows: the next byte is SP, and it is not a run of trailing
/// spaces before the CRLF that [`Quirks::trailing_space`] lets the CRLF skip.
pub(crate) fn more(r: &Reader<'_>) -> bool {
    let rest = r.rest();
    if rest.first() != Some(&b' ') {
        return false;
    }
    if r.quirks.trailing_space {
        let spaces = rest.iter().take_while(|&&b| b == b' ').count();
        if rest.get(spaces..).is_some_and(|t| t.starts_with(b"\r\n")) {
            return false;
        }
    }
    true
}

/// `SP "(" [item *(SP item)] ")"`: the RETURN options of LIST (RFC 5258) and SEARCH (RFC
/// 4731), each item read by `item`.
pub(crate) fn read_return_list<'a, T, const N: usize>(
    r: &mut Reader<'a>,
    mut item: impl FnMut(&mut Reader<'a>) -> PResult<T>,
) -> PResult<List<T, N>> {
    r.sp()?;
    r.expect(b'(', "\"(\"")?;
    let mut list = List::new();
    if r.eat(b')') {
        return Ok(list);
    }
    loop {
        list.push(item(r)?);
        if r.eat(b')') {
            return Ok(list);
        }
        r.sp()?;
    }
}

/// Read a keyword of letters (and `-`) and return it upper-cased in `buf`, or an empty slice
/// when it is longer than the buffer (no keyword is).
pub(crate) fn read_name<'b>(r: &mut Reader<'_>, buf: &'b mut [u8; 16]) -> &'b [u8] {
    let name = r.take_while(|b| b.is_ascii_alphanumeric() || b == b'-');
    if name.len() > buf.len() {
        return &[];
    }
    let out = &mut buf[..name.len()];
    for (o, b) in out.iter_mut().zip(name) {
        *o = b.to_ascii_uppercase();
    }
    out
}

/// A command name folded to upper case, packed little-endian into a `u128` with its length in
/// the top octet, so that the dispatch on a name compares integers; 0 (no name) for an empty
/// name or one longer than 15 octets (no command name is).
const fn name_key(name: &[u8]) -> u128 {
    if name.is_empty() || name.len() > 15 {
        return 0;
    }
    let mut key = 0u128;
    let mut i = name.len();
    while i > 0 {
        i -= 1;
        key = (key << 8) | name[i].to_ascii_uppercase() as u128;
    }
    key | ((name.len() as u128) << 120)
}

/// [`name_key`] at run time, a word at a time rather than an octet at a time: the name's
/// octets are loaded in (overlapping) little-endian words, and bit 5 of each is cleared
/// instead of folding letters to upper case. For a name of letters (every command name is)
/// the key is [`name_key`]'s; a name with another octet gets a key that equals no such name's
/// key, because clearing bit 5 maps an octet into `A`..=`Z` only when it is a letter, and the
/// empty positions and the length are compared too. 0 for an empty name or one longer than
/// 15 octets, as [`name_key`].
#[inline]
fn fold_key(name: &[u8]) -> u128 {
    /// Bit 5 of each octet of a word.
    const CASE: u64 = 0x2020_2020_2020_2020;
    let n = name.len();
    // The first octets (up to eight) in `lo`, the rest (up to seven) in `hi`, each made of two
    // loads of the same width, the second ending at the name's end and shifted to its place:
    // where they overlap they hold the same octets, so OR-ing them keeps those octets.
    let (lo, hi) = match (n, name.first_chunk::<8>(), name.last_chunk::<8>()) {
        (8..=15, Some(&lo), Some(&end)) => {
            // `end` holds octets n - 8 .. n; the top n - 8 of them are the ones past `lo`
            let hi = (u64::from_le_bytes(end) >> (8 * (15 - n))) >> 8;
            (u64::from_le_bytes(lo), hi)
        }
        _ => match (n, name.first_chunk::<4>(), name.last_chunk::<4>()) {
            (4..=7, Some(&lo), Some(&end)) => (
                u64::from(u32::from_le_bytes(lo))
                    | u64::from(u32::from_le_bytes(end)) << (8 * (n - 4)),
                0,
            ),
            _ => match (n, name.first_chunk::<2>(), name.last_chunk::<2>()) {
                (2..=3, Some(&lo), Some(&end)) => (
                    u64::from(u16::from_le_bytes(lo))
                        | u64::from(u16::from_le_bytes(end)) << (8 * (n - 2)),
                    0,
                ),
                _ => match name {
                    [b] => (u64::from(*b), 0),
                    _ => return 0,
                },
            },
        },
    };
    let lo = u128::from(lo & !CASE);
    let hi = u128::from((hi & !CASE) | ((n as u64) << 56));
    lo | (hi << 64)
}

/// Read a command name (letters, digits and `-`) and return its [`fold_key`].
fn read_name_key(r: &mut Reader<'_>) -> u128 {
    fold_key(r.take_while(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// The keys of the command names, `names::FETCH` for `FETCH`.
mod names {
    macro_rules! keys {
        ($($name:ident)*) => {
            $(pub(super) const $name: u128 = super::name_key(stringify!($name).as_bytes());)*
        };
    }
    keys!(
        CAPABILITY NOOP LOGOUT STARTTLS AUTHENTICATE LOGIN SELECT EXAMINE CREATE DELETE RENAME
        SUBSCRIBE UNSUBSCRIBE LIST LSUB NAMESPACE STATUS APPEND IDLE CHECK CLOSE UNSELECT
        EXPUNGE ENABLE ID GETQUOTA GETQUOTAROOT SETQUOTA COMPRESS UID SEARCH FETCH STORE COPY
        MOVE SORT THREAD
    );
}

/// Calls the macro `$m` with the commands that take no arguments, as `NAME => Variant,`
/// pairs (the name's key in `names`, the [`CommandBody`] variant).
macro_rules! with_bare_commands {
    ($m:ident) => {
        $m!(
            NOOP => Noop,
            IDLE => Idle,
            CAPABILITY => Capability,
            LOGOUT => Logout,
            STARTTLS => StartTls,
            NAMESPACE => Namespace,
            CHECK => Check,
            CLOSE => Close,
            UNSELECT => Unselect,
            EXPUNGE => Expunge,
        )
    };
}
use with_bare_commands;

/// The commands without arguments, by [`name_key`].
fn bare_command<'a>(key: u128) -> Option<CommandBody<'a>> {
    macro_rules! arms {
        ($($name:ident => $body:ident,)*) => {
            match key {
                $(names::$name => Some(CommandBody::$body),)*
                _ => None,
            }
        };
    }
    with_bare_commands!(arms)
}

/// The flag `\name` (`name` without its backslash): a system flag or an extension.
pub(crate) fn system_flag(name: &str) -> Option<Flag<'_>> {
    Flag::extension(name).ok()
}

impl<'a> CommandBody<'a> {
    /// The command's name as written (`"UID FETCH"` for the UID form).
    pub fn name(&self) -> &'static str {
        use CommandBody as C;
        match self {
            C::Capability => "CAPABILITY",
            C::Noop => "NOOP",
            C::Logout => "LOGOUT",
            C::StartTls => "STARTTLS",
            C::Authenticate { .. } => "AUTHENTICATE",
            C::Login { .. } => "LOGIN",
            C::Select { .. } => "SELECT",
            C::Examine { .. } => "EXAMINE",
            C::Create { .. } => "CREATE",
            C::Delete { .. } => "DELETE",
            C::Rename { .. } => "RENAME",
            C::Subscribe { .. } => "SUBSCRIBE",
            C::Unsubscribe { .. } => "UNSUBSCRIBE",
            C::List { .. } => "LIST",
            C::Lsub { .. } => "LSUB",
            C::Namespace => "NAMESPACE",
            C::Status { .. } => "STATUS",
            C::Append { .. } => "APPEND",
            C::Idle => "IDLE",
            C::Check => "CHECK",
            C::Close => "CLOSE",
            C::Unselect => "UNSELECT",
            C::Expunge => "EXPUNGE",
            C::UidExpunge { .. } => "UID EXPUNGE",
            C::Search { uid: false, .. } => "SEARCH",
            C::Search { uid: true, .. } => "UID SEARCH",
            C::Fetch { uid: false, .. } => "FETCH",
            C::Fetch { uid: true, .. } => "UID FETCH",
            C::Store { uid: false, .. } => "STORE",
            C::Store { uid: true, .. } => "UID STORE",
            C::Copy { uid: false, .. } => "COPY",
            C::Copy { uid: true, .. } => "UID COPY",
            C::Move { uid: false, .. } => "MOVE",
            C::Move { uid: true, .. } => "UID MOVE",
            C::Enable { .. } => "ENABLE",
            C::Id { .. } => "ID",
            C::GetQuota { .. } => "GETQUOTA",
            C::GetQuotaRoot { .. } => "GETQUOTAROOT",
            C::SetQuota { .. } => "SETQUOTA",
            C::Sort { uid: false, .. } => "SORT",
            C::Sort { uid: true, .. } => "UID SORT",
            C::Thread { uid: false, .. } => "THREAD",
            C::Thread { uid: true, .. } => "UID THREAD",
            C::Compress { .. } => "COMPRESS",
        }
    }

    /// The value with its borrowed data copied.
    pub fn into_static(self) -> CommandBody<'static> {
        use CommandBody as C;
        match self {
            C::Capability => C::Capability,
            C::Noop => C::Noop,
            C::Logout => C::Logout,
            C::StartTls => C::StartTls,
            C::Authenticate {
                mechanism,
                initial_response,
            } => C::Authenticate {
                mechanism: mechanism.into_static(),
                initial_response: initial_response.map(Base64::into_static),
            },
            C::Login { username, password } => C::Login {
                username: username.into_static(),
                password: password.into_static(),
            },
            C::Select { mailbox, params } => C::Select {
                mailbox: mailbox.into_static(),
                params,
            },
            C::Examine { mailbox, params } => C::Examine {
                mailbox: mailbox.into_static(),
                params,
            },
            C::Create {
                mailbox,
                special_use,
            } => C::Create {
                mailbox: mailbox.into_static(),
                special_use: special_use.map(MailboxAttribute::into_static),
            },
            C::Delete { mailbox } => C::Delete {
                mailbox: mailbox.into_static(),
            },
            C::Rename { from, to } => C::Rename {
                from: from.into_static(),
                to: to.into_static(),
            },
            C::Subscribe { mailbox } => C::Subscribe {
                mailbox: mailbox.into_static(),
            },
            C::Unsubscribe { mailbox } => C::Unsubscribe {
                mailbox: mailbox.into_static(),
            },
            C::List {
                selection,
                reference,
                patterns,
                return_options,
            } => C::List {
                selection,
                reference: reference.into_static(),
                patterns: patterns.map(ListMailbox::into_static),
                return_options,
            },
            C::Lsub { reference, pattern } => C::Lsub {
                reference: reference.into_static(),
                pattern: pattern.into_static(),
            },
            C::Namespace => C::Namespace,
            C::Status { mailbox, items } => C::Status {
                mailbox: mailbox.into_static(),
                items,
            },
            C::Append { mailbox, messages } => C::Append {
                mailbox: mailbox.into_static(),
                messages: messages.map(AppendMessage::into_static),
            },
            C::Idle => C::Idle,
            C::Check => C::Check,
            C::Close => C::Close,
            C::Unselect => C::Unselect,
            C::Expunge => C::Expunge,
            C::UidExpunge { uids } => C::UidExpunge { uids },
            C::Search {
                uid,
                return_options,
                charset,
                criteria,
            } => C::Search {
                uid,
                return_options,
                charset: charset.map(Charset::into_static),
                criteria: criteria.map(SearchKey::into_static),
            },
            C::Fetch {
                uid,
                sequence_set,
                items,
                changed_since,
                vanished,
            } => C::Fetch {
                uid,
                sequence_set,
                items: items.into_static(),
                changed_since,
                vanished,
            },
            C::Store {
                uid,
                sequence_set,
                unchanged_since,
                kind,
                silent,
                flags,
            } => C::Store {
                uid,
                sequence_set,
                unchanged_since,
                kind,
                silent,
                flags: flags.map(Flag::into_static),
            },
            C::Copy {
                uid,
                sequence_set,
                mailbox,
            } => C::Copy {
                uid,
                sequence_set,
                mailbox: mailbox.into_static(),
            },
            C::Move {
                uid,
                sequence_set,
                mailbox,
            } => C::Move {
                uid,
                sequence_set,
                mailbox: mailbox.into_static(),
            },
            C::Enable { capabilities } => C::Enable {
                capabilities: capabilities.map(Atom::into_static),
            },
            C::Id { parameters } => C::Id {
                parameters: parameters.map(|l| l.map(|(k, v)| (k.into_static(), v.into_static()))),
            },
            C::GetQuota { root } => C::GetQuota {
                root: root.into_static(),
            },
            C::GetQuotaRoot { mailbox } => C::GetQuotaRoot {
                mailbox: mailbox.into_static(),
            },
            C::SetQuota { root, limits } => C::SetQuota {
                root: root.into_static(),
                limits: limits.map(QuotaLimit::into_static),
            },
            C::Sort {
                uid,
                criteria,
                charset,
                search,
            } => C::Sort {
                uid,
                criteria,
                charset: charset.into_static(),
                search: search.map(SearchKey::into_static),
            },
            C::Thread {
                uid,
                algorithm,
                charset,
                search,
            } => C::Thread {
                uid,
                algorithm: algorithm.into_static(),
                charset: charset.into_static(),
                search: search.map(SearchKey::into_static),
            },
            C::Compress { algorithm } => C::Compress {
                algorithm: algorithm.into_static(),
            },
        }
    }

    /// `command` after the tag and its SP, up to (not including) the final CRLF.
    #[allow(dead_code)] // the house entry point; the command parser fills in place with `read_into`
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        let mut body = CommandBody::Noop;
        Self::read_into(r, &mut body)?;
        Ok(body)
    }

    /// [`CommandBody::read`] into `out` (which is left unspecified on error).
    pub(crate) fn read_into(r: &mut Reader<'a>, out: &mut Self) -> PResult<()> {
        use CommandBody as C;
        let start = r.pos();
        let name = read_name_key(r);
        if let Some(body) = bare_command(name) {
            *out = body;
            return Ok(());
        }
        let body = match name {
            names::AUTHENTICATE => {
                r.sp()?;
                let mechanism = Atom::read(r)?;
                let initial_response = if more(r) {
                    r.sp()?;
                    if r.eat(b'=') {
                        Some(Base64::default())
                    } else {
                        let start = r.pos();
                        let b = Base64::read(r)?;
                        if b.is_empty() {
                            return Err(ParseError::new(
                                start,
                                "base64 or \"=\"",
                                ErrorKind::Syntax,
                            ));
                        }
                        Some(b)
                    }
                } else {
                    None
                };
                C::Authenticate {
                    mechanism,
                    initial_response,
                }
            }
            names::LOGIN => {
                r.sp()?;
                let username = AString::read(r)?;
                r.sp()?;
                let password = AString::read(r)?;
                C::Login { username, password }
            }
            names::SELECT | names::EXAMINE => {
                let examine = name == names::EXAMINE;
                let mailbox = arg_mailbox(r)?;
                let params = if more(r) {
                    r.sp()?;
                    SelectParams::read(r)?
                } else {
                    SelectParams::default()
                };
                if examine {
                    C::Examine { mailbox, params }
                } else {
                    C::Select { mailbox, params }
                }
            }
            names::CREATE => {
                let mailbox = arg_mailbox(r)?;
                let mut special_use = List::new();
                if more(r) {
                    r.sp()?;
                    special_use = read_create_params(r)?;
                }
                C::Create {
                    mailbox,
                    special_use,
                }
            }
            names::DELETE => C::Delete {
                mailbox: arg_mailbox(r)?,
            },
            names::RENAME => {
                let from = arg_mailbox(r)?;
                let to = arg_mailbox(r)?;
                C::Rename { from, to }
            }
            names::SUBSCRIBE => C::Subscribe {
                mailbox: arg_mailbox(r)?,
            },
            names::UNSUBSCRIBE => C::Unsubscribe {
                mailbox: arg_mailbox(r)?,
            },
            names::LIST => read_list(r)?,
            names::LSUB => {
                let reference = arg_mailbox(r)?;
                r.sp()?;
                let pattern = ListMailbox::read(r)?;
                C::Lsub { reference, pattern }
            }
            names::STATUS => {
                let mailbox = arg_mailbox(r)?;
                r.sp()?;
                let items = mailbox::read_status_items(r)?;
                C::Status { mailbox, items }
            }
            names::APPEND => {
                let mailbox = arg_mailbox(r)?;
                r.sp()?;
                let mut messages = NonEmptyVec::one(AppendMessage::read(r)?);
                while more(r) {
                    r.sp()?;
                    messages.push(AppendMessage::read(r)?);
                }
                C::Append { mailbox, messages }
            }
            names::ENABLE => {
                let mut caps = List::new();
                r.sp()?;
                caps.push(Atom::read(r)?);
                while more(r) {
                    r.sp()?;
                    caps.push(Atom::read(r)?);
                }
                C::Enable {
                    capabilities: NonEmpty(caps),
                }
            }
            names::ID => {
                r.sp()?;
                C::Id {
                    parameters: read_id_params(r)?,
                }
            }
            names::GETQUOTA => {
                r.sp()?;
                C::GetQuota {
                    root: AString::read(r)?,
                }
            }
            names::GETQUOTAROOT => C::GetQuotaRoot {
                mailbox: arg_mailbox(r)?,
            },
            names::SETQUOTA => {
                r.sp()?;
                let root = AString::read(r)?;
                r.sp()?;
                C::SetQuota {
                    root,
                    limits: read_setquota_list(r)?,
                }
            }
            names::COMPRESS => {
                r.sp()?;
                C::Compress {
                    algorithm: Atom::read(r)?,
                }
            }
            names::UID => {
                r.sp()?;
                let start = r.pos();
                let name = read_name_key(r);
                match name {
                    names::EXPUNGE => {
                        r.sp()?;
                        C::UidExpunge {
                            uids: SequenceSet::read(r)?,
                        }
                    }
                    names::SEARCH
                    | names::FETCH
                    | names::STORE
                    | names::COPY
                    | names::MOVE
                    | names::SORT
                    | names::THREAD => {
                        return read_uid_able(r, name, true, out);
                    }
                    _ => {
                        return Err(ParseError::new(
                            start,
                            "COPY, MOVE, FETCH, STORE, SEARCH, SORT, THREAD or EXPUNGE",
                            ErrorKind::Syntax,
                        ));
                    }
                }
            }
            names::SEARCH
            | names::FETCH
            | names::STORE
            | names::COPY
            | names::MOVE
            | names::SORT
            | names::THREAD => {
                return read_uid_able(r, name, false, out);
            }
            _ => return Err(ParseError::new(start, "command name", ErrorKind::Syntax)),
        };
        *out = body;
        Ok(())
    }
}

fn arg_mailbox<'a>(r: &mut Reader<'a>) -> PResult<Mailbox<'a>> {
    r.sp()?;
    Mailbox::read(r)
}

/// The commands that have a UID form, after their name, read into `out`.
fn read_uid_able<'a>(
    r: &mut Reader<'a>,
    name: u128,
    uid: bool,
    out: &mut CommandBody<'a>,
) -> PResult<()> {
    use CommandBody as C;
    *out = match name {
        names::SEARCH => {
            let mut return_options = None;
            let mut charset = None;
            let save = r.pos();
            r.sp()?;
            if r.keyword("RETURN") {
                return_options = Some(search::read_return_options(r)?);
            } else {
                r.reset(save);
            }
            let save = r.pos();
            r.sp()?;
            if r.keyword("CHARSET") {
                r.sp()?;
                charset = Some(Charset::read(r)?);
            } else {
                r.reset(save);
            }
            *out = C::Search {
                uid,
                return_options,
                charset,
                criteria: NonEmpty(List::new()),
            };
            if let C::Search { criteria, .. } = out {
                search::read_keys_into(r, &mut criteria.0)?;
            }
            return Ok(());
        }
        names::FETCH => {
            r.sp()?;
            let sequence_set = SequenceSet::read(r)?;
            r.sp()?;
            *out = C::Fetch {
                uid,
                sequence_set,
                items: FetchItems::Fast,
                changed_since: None,
                vanished: false,
            };
            if let C::Fetch {
                items,
                changed_since,
                vanished,
                ..
            } = out
            {
                FetchItems::read_into(r, items)?;
                let at = read_fetch_modifiers(r, changed_since, vanished)?;
                // RFC 7162 section 3.2.6 / section 7: VANISHED only in UID FETCH, with
                // CHANGEDSINCE
                if let Some(at) = at.filter(|_| !uid || changed_since.is_none()) {
                    return Err(ParseError::new(
                        at,
                        "VANISHED only in UID FETCH with CHANGEDSINCE",
                        ErrorKind::Syntax,
                    ));
                }
            }
            return Ok(());
        }
        names::STORE => {
            r.sp()?;
            let sequence_set = SequenceSet::read(r)?;
            r.sp()?;
            let mut unchanged_since = None;
            if r.eat(b'(') {
                r.expect_keyword("UNCHANGEDSINCE", "\"UNCHANGEDSINCE\"")?;
                r.sp()?;
                unchanged_since = Some(ModSeqValzer::read(r)?);
                r.expect(b')', "\")\"")?;
                r.sp()?;
            }
            let kind = if r.eat(b'+') {
                StoreKind::Add
            } else if r.eat(b'-') {
                StoreKind::Remove
            } else {
                StoreKind::Replace
            };
            let silent = if r.keyword("FLAGS.SILENT") {
                true
            } else if r.keyword("FLAGS") {
                false
            } else {
                return Err(r.error("\"FLAGS\""));
            };
            r.sp()?;
            let flags = if r.peek() == Some(b'(') {
                read_flag_list(r)?
            } else {
                let mut flags = List::new();
                flags.push(Flag::read(r)?);
                while more(r) {
                    r.sp()?;
                    flags.push(Flag::read(r)?);
                }
                flags
            };
            C::Store {
                uid,
                sequence_set,
                unchanged_since,
                kind,
                silent,
                flags,
            }
        }
        names::COPY | names::MOVE => {
            r.sp()?;
            let sequence_set = SequenceSet::read(r)?;
            let mailbox = arg_mailbox(r)?;
            if name == names::COPY {
                C::Copy {
                    uid,
                    sequence_set,
                    mailbox,
                }
            } else {
                C::Move {
                    uid,
                    sequence_set,
                    mailbox,
                }
            }
        }
        names::SORT => {
            r.sp()?;
            let criteria = search::read_sort_criteria(r)?;
            r.sp()?;
            let (charset, search) = search::read_charset_and_keys(r)?;
            C::Sort {
                uid,
                criteria,
                charset,
                search,
            }
        }
        _ => {
            r.sp()?;
            let algorithm = ThreadAlgorithm::read(r)?;
            r.sp()?;
            let (charset, search) = search::read_charset_and_keys(r)?;
            C::Thread {
                uid,
                algorithm,
                charset,
                search,
            }
        }
    };
    Ok(())
}

/// `fetch-modifiers` (RFC 4466, CONDSTORE and QRESYNC RFC 7162): `SP "(" fetch-modifier
/// *(SP fetch-modifier) ")"`, when present; returns where `VANISHED` was.
fn read_fetch_modifiers(
    r: &mut Reader<'_>,
    changed_since: &mut Option<ModSeq>,
    vanished: &mut bool,
) -> PResult<Option<usize>> {
    if !more(r) {
        return Ok(None);
    }
    r.sp()?;
    r.expect(b'(', "\"(\"")?;
    let mut vanished_at = None;
    loop {
        let at = r.pos();
        if r.keyword("CHANGEDSINCE") {
            r.sp()?;
            *changed_since = Some(ModSeq::read(r)?);
        } else if r.keyword("VANISHED") {
            *vanished = true;
            vanished_at = Some(at);
        } else {
            return Err(r.error("fetch-modifier"));
        }
        if r.eat(b')') {
            return Ok(vanished_at);
        }
        r.sp()?;
    }
}

/// `list` (RFC 3501, RFC 5258) after `LIST`.
fn read_list<'a>(r: &mut Reader<'a>) -> PResult<CommandBody<'a>> {
    r.sp()?;
    let selection = if r.peek() == Some(b'(') {
        let s = mailbox::read_select_options(r)?;
        r.sp()?;
        s
    } else {
        List::new()
    };
    let reference = Mailbox::read(r)?;
    r.sp()?;
    let mut patterns = List::new();
    if r.eat(b'(') {
        patterns.push(ListMailbox::read(r)?);
        while !r.eat(b')') {
            r.sp()?;
            patterns.push(ListMailbox::read(r)?);
        }
    } else {
        patterns.push(ListMailbox::read(r)?);
    }
    let mut return_options = List::new();
    if more(r) {
        r.sp()?;
        r.expect_keyword("RETURN", "\"RETURN\"")?;
        return_options = mailbox::read_return_options(r)?;
    }
    Ok(CommandBody::List {
        selection,
        reference,
        patterns: NonEmpty(patterns),
        return_options,
    })
}

/// `create-params` (RFC 4466) with the USE parameter of RFC 6154:
/// `"(" "USE" SP "(" [use-attr *(SP use-attr)] ")" ")"`.
fn read_create_params<'a>(r: &mut Reader<'a>) -> PResult<List<MailboxAttribute<'a>>> {
    r.expect(b'(', "\"(\"")?;
    r.expect_keyword("USE", "\"USE\"")?;
    r.sp()?;
    r.expect(b'(', "\"(\"")?;
    let mut attrs = List::new();
    if !r.eat(b')') {
        loop {
            attrs.push(MailboxAttribute::read(r)?);
            if r.eat(b')') {
                break;
            }
            r.sp()?;
        }
    }
    r.expect(b')', "\")\"")?;
    Ok(attrs)
}

/// `id-params-list`: `"(" *(string SP nstring) ")" / nil` (RFC 2971; pairs separated by SP).
fn read_id_params<'a>(r: &mut Reader<'a>) -> PResult<Option<List<(IString<'a>, NString<'a>)>>> {
    if r.keyword("NIL") {
        return Ok(None);
    }
    r.expect(b'(', "\"(\" or NIL")?;
    let mut params = List::new();
    if r.eat(b')') {
        return Ok(Some(params));
    }
    loop {
        let k = IString::read(r)?;
        r.sp()?;
        let v = NString::read(r)?;
        params.push((k, v));
        if r.eat(b')') {
            return Ok(Some(params));
        }
        r.sp()?;
    }
}

/// `setquota-list`: `"(" [setquota-resource *(SP setquota-resource)] ")"`.
fn read_setquota_list<'a>(r: &mut Reader<'a>) -> PResult<List<QuotaLimit<'a>>> {
    r.expect(b'(', "\"(\"")?;
    let mut limits = List::new();
    if r.eat(b')') {
        return Ok(limits);
    }
    loop {
        let resource = Atom::read(r)?;
        r.sp()?;
        let limit = r.number64()?;
        limits.push(QuotaLimit { resource, limit });
        if r.eat(b')') {
            return Ok(limits);
        }
        r.sp()?;
    }
}

fn encode_list<T: Encode>(items: &[T], w: &mut Writer) {
    w.byte(b'(');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            w.sp();
        }
        x.encode(w);
    }
    w.byte(b')');
}

fn encode_spaced<T: Encode>(items: &[T], w: &mut Writer) {
    for x in items {
        w.sp();
        x.encode(w);
    }
}

impl Encode for CommandBody<'_> {
    fn encode(&self, w: &mut Writer) {
        use CommandBody as C;
        w.raw(self.name().as_bytes());
        match self {
            C::Capability
            | C::Noop
            | C::Logout
            | C::StartTls
            | C::Namespace
            | C::Idle
            | C::Check
            | C::Close
            | C::Unselect
            | C::Expunge => {}
            C::Authenticate {
                mechanism,
                initial_response,
            } => {
                w.sp();
                mechanism.encode(w);
                if let Some(ir) = initial_response {
                    w.sp();
                    if ir.is_empty() {
                        w.byte(b'=');
                    } else {
                        ir.encode(w);
                    }
                }
            }
            C::Login { username, password } => {
                w.sp();
                username.encode(w);
                w.sp();
                password.encode(w);
            }
            C::Select { mailbox, params } | C::Examine { mailbox, params } => {
                w.sp();
                mailbox.encode(w);
                if !params.is_empty() {
                    w.sp();
                    params.encode(w);
                }
            }
            C::Create {
                mailbox,
                special_use,
            } => {
                w.sp();
                mailbox.encode(w);
                if !special_use.is_empty() {
                    w.raw(b" (USE ");
                    encode_list(special_use, w);
                    w.byte(b')');
                }
            }
            C::Delete { mailbox }
            | C::Subscribe { mailbox }
            | C::Unsubscribe { mailbox }
            | C::GetQuotaRoot { mailbox } => {
                w.sp();
                mailbox.encode(w);
            }
            C::Rename { from, to } => {
                w.sp();
                from.encode(w);
                w.sp();
                to.encode(w);
            }
            C::List {
                selection,
                reference,
                patterns,
                return_options,
            } => {
                w.sp();
                if !selection.is_empty() {
                    mailbox::encode_select_options(selection, w);
                    w.sp();
                }
                reference.encode(w);
                w.sp();
                if let [one] = &patterns[..] {
                    one.encode(w);
                } else {
                    encode_list(patterns, w);
                }
                if !return_options.is_empty() {
                    w.sp();
                    mailbox::encode_return_options(return_options, w);
                }
            }
            C::Lsub { reference, pattern } => {
                w.sp();
                reference.encode(w);
                w.sp();
                pattern.encode(w);
            }
            C::Status { mailbox, items } => {
                w.sp();
                mailbox.encode(w);
                w.sp();
                mailbox::encode_status_items(items, w);
            }
            C::Append { mailbox, messages } => {
                w.sp();
                mailbox.encode(w);
                encode_spaced(messages, w);
            }
            C::UidExpunge { uids } => {
                w.sp();
                uids.encode(w);
            }
            C::Search {
                return_options,
                charset,
                criteria,
                ..
            } => {
                if let Some(opts) = return_options {
                    w.sp();
                    search::encode_return_options(opts, w);
                }
                if let Some(c) = charset {
                    w.raw(b" CHARSET ");
                    c.encode(w);
                }
                encode_spaced(criteria, w);
            }
            C::Fetch {
                sequence_set,
                items,
                changed_since,
                vanished,
                ..
            } => {
                w.sp();
                sequence_set.encode(w);
                w.sp();
                items.encode(w);
                match (changed_since, vanished) {
                    (Some(m), true) => {
                        w.raw(b" (CHANGEDSINCE ");
                        m.encode(w);
                        w.raw(b" VANISHED)");
                    }
                    (Some(m), false) => {
                        w.raw(b" (CHANGEDSINCE ");
                        m.encode(w);
                        w.byte(b')');
                    }
                    (None, true) => w.raw(b" (VANISHED)"),
                    (None, false) => {}
                }
            }
            C::Store {
                sequence_set,
                unchanged_since,
                kind,
                silent,
                flags,
                ..
            } => {
                w.sp();
                sequence_set.encode(w);
                w.sp();
                if let Some(u) = unchanged_since {
                    w.raw(b"(UNCHANGEDSINCE ");
                    u.encode(w);
                    w.raw(b") ");
                }
                match kind {
                    StoreKind::Replace => {}
                    StoreKind::Add => w.byte(b'+'),
                    StoreKind::Remove => w.byte(b'-'),
                }
                w.raw(if *silent { b"FLAGS.SILENT " } else { b"FLAGS " });
                encode_list(flags, w);
            }
            C::Copy {
                sequence_set,
                mailbox,
                ..
            }
            | C::Move {
                sequence_set,
                mailbox,
                ..
            } => {
                w.sp();
                sequence_set.encode(w);
                w.sp();
                mailbox.encode(w);
            }
            C::Enable { capabilities } => encode_spaced(capabilities, w),
            C::Id { parameters } => {
                w.sp();
                match parameters {
                    None => w.raw(b"NIL"),
                    Some(params) => {
                        w.byte(b'(');
                        for (i, (k, v)) in params.iter().enumerate() {
                            if i > 0 {
                                w.sp();
                            }
                            k.encode(w);
                            w.sp();
                            v.encode(w);
                        }
                        w.byte(b')');
                    }
                }
            }
            C::GetQuota { root } => {
                w.sp();
                root.encode(w);
            }
            C::SetQuota { root, limits } => {
                w.sp();
                root.encode(w);
                w.raw(b" (");
                for (i, l) in limits.iter().enumerate() {
                    if i > 0 {
                        w.sp();
                    }
                    l.resource.encode(w);
                    w.sp();
                    w.number(l.limit);
                }
                w.byte(b')');
            }
            C::Sort {
                criteria,
                charset,
                search,
                ..
            } => {
                w.sp();
                encode_list(criteria, w);
                w.sp();
                charset.encode(w);
                encode_spaced(search, w);
            }
            C::Thread {
                algorithm,
                charset,
                search,
                ..
            } => {
                w.sp();
                algorithm.encode(w);
                w.sp();
                charset.encode(w);
                encode_spaced(search, w);
            }
            C::Compress { algorithm } => {
                w.sp();
                algorithm.encode(w);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_case_and_refuse_long_words() {
        let mut buf = [0u8; 16];
        let mut r = Reader::new(b"uId-x9 rest", Quirks::STRICT);
        assert_eq!(read_name(&mut r, &mut buf), b"UID-X9");
        assert_eq!(r.pos(), 6);
        let mut r = Reader::new(b"ABCDEFGHIJKLMNOPQ", Quirks::STRICT);
        assert_eq!(read_name(&mut r, &mut buf), b"");
        let mut r = Reader::new(b"(", Quirks::STRICT);
        assert_eq!(read_name(&mut r, &mut buf), b"");
        assert_eq!(r.pos(), 0);
    }

    #[test]
    fn name_keys_fold_case_and_count_the_length() {
        assert_eq!(name_key(b"noop"), names::NOOP);
        assert_eq!(name_key(b"NoOp"), names::NOOP);
        assert_ne!(name_key(b"NOOP\0"), names::NOOP);
        assert_ne!(name_key(b"NOO"), names::NOOP);
        assert_eq!(name_key(b""), 0);
        assert_eq!(name_key(b"ABCDEFGHIJKLMNOP"), 0);
        assert_ne!(name_key(b"ABCDEFGHIJKLMNO"), 0);
        assert_eq!(bare_command(name_key(b"Idle")), Some(CommandBody::Idle));
        assert_eq!(bare_command(name_key(b"FETCH")), None);
    }

    /// Every command name, as `names` spells it.
    const NAMES: &[&str] = &[
        "CAPABILITY",
        "NOOP",
        "LOGOUT",
        "STARTTLS",
        "AUTHENTICATE",
        "LOGIN",
        "SELECT",
        "EXAMINE",
        "CREATE",
        "DELETE",
        "RENAME",
        "SUBSCRIBE",
        "UNSUBSCRIBE",
        "LIST",
        "LSUB",
        "NAMESPACE",
        "STATUS",
        "APPEND",
        "IDLE",
        "CHECK",
        "CLOSE",
        "UNSELECT",
        "EXPUNGE",
        "ENABLE",
        "ID",
        "GETQUOTA",
        "GETQUOTAROOT",
        "SETQUOTA",
        "COMPRESS",
        "UID",
        "SEARCH",
        "FETCH",
        "STORE",
        "COPY",
        "MOVE",
        "SORT",
        "THREAD",
    ];

    #[test]
    fn fold_keys_are_the_name_keys_of_letters_in_any_case() {
        for name in NAMES {
            let key = name_key(name.as_bytes());
            assert_eq!(fold_key(name.as_bytes()), key, "{name}");
            assert_eq!(
                fold_key(name.to_ascii_lowercase().as_bytes()),
                key,
                "{name}"
            );
            // one octet at a time in lower case, at each length's every position
            for i in 0..name.len() {
                let mut mixed = name.as_bytes().to_vec();
                mixed[i] = mixed[i].to_ascii_lowercase();
                assert_eq!(fold_key(&mixed), key, "{name} at {i}");
            }
        }
        // every length the loads cover, letters alone and with another octet at each place
        let letters = b"ABCDEFGHIJKLMNOPQ";
        for n in 0..=17 {
            let name = &letters[..n];
            assert_eq!(fold_key(name), name_key(name), "length {n}");
        }
    }

    #[test]
    fn fold_keys_of_names_with_other_octets_match_no_command() {
        let known: Vec<u128> = NAMES.iter().map(|n| name_key(n.as_bytes())).collect();
        for name in NAMES {
            for i in 0..name.len() {
                // each octet that is not a letter, in each place of each name
                for b in (0..=255u8).filter(|b| !b.is_ascii_alphabetic()) {
                    let mut other = name.as_bytes().to_vec();
                    other[i] = b;
                    assert!(!known.contains(&fold_key(&other)), "{other:?}");
                }
            }
        }
        assert_eq!(fold_key(b""), 0);
        assert_eq!(fold_key(b"ABCDEFGHIJKLMNOP"), 0);
        assert_ne!(fold_key(b"NOOP\0"), names::NOOP);
    }

    #[test]
    fn more_stops_at_trailing_spaces_only_when_lenient() {
        let r = Reader::new(b" x", Quirks::STRICT);
        assert!(more(&r));
        let r = Reader::new(b"  \r\n", Quirks::STRICT);
        assert!(more(&r));
        let r = Reader::new(b"  \r\n", Quirks::LENIENT);
        assert!(!more(&r));
        let r = Reader::new(b"\r\n", Quirks::LENIENT);
        assert!(!more(&r));
    }

    #[test]
    fn mod_sequences_read_with_their_bounds() {
        let mut r = Reader::new(b"0", Quirks::STRICT);
        let e = ModSeq::read(&mut r).unwrap_err();
        assert_eq!((e.offset(), e.kind()), (0, ErrorKind::Number));
        let mut r = Reader::new(b"0", Quirks::STRICT);
        assert_eq!(ModSeqValzer::read(&mut r).unwrap().get(), 0);
        let mut r = Reader::new(b"9223372036854775808", Quirks::STRICT);
        assert_eq!(
            ModSeqValzer::read(&mut r).unwrap_err().kind(),
            ErrorKind::Number
        );
        let mut r = Reader::new(b"9223372036854775807", Quirks::STRICT);
        assert_eq!(
            ModSeq::read(&mut r).unwrap().to_bytes(),
            b"9223372036854775807"
        );
    }

    #[test]
    fn command_body_read_is_the_house_entry_point() {
        let mut r = Reader::new(b"FETCH 1 FAST", Quirks::STRICT);
        let body = CommandBody::read(&mut r).unwrap();
        assert_eq!(body.name(), "FETCH");
        assert!(r.is_empty());
    }
}
