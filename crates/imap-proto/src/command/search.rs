//! SEARCH keys (RFC 3501 section 6.4.4, RFC 9051 section 6.4.4, CONDSTORE RFC 7162 section
//! 3.1.5, SEARCHRES RFC 5182), ESEARCH return options (RFC 4731, RFC 9051), and the SORT and
//! THREAD criteria (RFC 5256, RFC 5957).

use super::{ModSeqValzer, NonEmpty, more, read_name};
use crate::core::{AString, Atom, Charset};
use crate::datetime::Date;
use crate::encode::{Encode, Writer};
use crate::error::{ErrorKind, ParseError};
use crate::flag::Flag;
use crate::list::List;
use crate::parse::{PResult, Reader};
use crate::sequence::SequenceSet;

/// `search-key` (RFC 3501, RFC 9051; MODSEQ of RFC 7162; `$` of RFC 5182 as
/// `SequenceSet(SequenceSet::Saved)`). Nested keys (`NOT`, `OR`, parenthesised lists) are boxed;
/// the parser refuses nesting deeper than [`MAX_DEPTH`](crate::error::MAX_DEPTH).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SearchKey<'a> {
    /// `ALL`
    All,
    /// `ANSWERED`
    Answered,
    /// `BCC astring`
    Bcc(AString<'a>),
    /// `BEFORE date`
    Before(Date),
    /// `BODY astring`
    Body(AString<'a>),
    /// `CC astring`
    Cc(AString<'a>),
    /// `DELETED`
    Deleted,
    /// `DRAFT`
    Draft,
    /// `FLAGGED`
    Flagged,
    /// `FROM astring`
    From(AString<'a>),
    /// `HEADER header-fld-name astring`
    Header(AString<'a>, AString<'a>),
    /// `KEYWORD flag-keyword`
    Keyword(Atom<'a>),
    /// `LARGER number64` (`number` in RFC 3501)
    Larger(u64),
    /// `NEW` (RFC 3501 only)
    New,
    /// `NOT search-key`
    Not(Box<SearchKey<'a>>),
    /// `OLD` (RFC 3501 only)
    Old,
    /// `ON date`
    On(Date),
    /// `OR search-key search-key`
    Or(Box<(SearchKey<'a>, SearchKey<'a>)>),
    /// `RECENT` (RFC 3501 only)
    Recent,
    /// `SEEN`
    Seen,
    /// `SENTBEFORE date`
    SentBefore(Date),
    /// `SENTON date`
    SentOn(Date),
    /// `SENTSINCE date`
    SentSince(Date),
    /// `SINCE date`
    Since(Date),
    /// `SMALLER number64` (`number` in RFC 3501)
    Smaller(u64),
    /// `SUBJECT astring`
    Subject(AString<'a>),
    /// `TEXT astring`
    Text(AString<'a>),
    /// `TO astring`
    To(AString<'a>),
    /// `UID sequence-set` (`UID $` with SEARCHRES)
    Uid(SequenceSet),
    /// `UNANSWERED`
    Unanswered,
    /// `UNDELETED`
    Undeleted,
    /// `UNDRAFT`
    Undraft,
    /// `UNFLAGGED`
    Unflagged,
    /// `UNKEYWORD flag-keyword`
    Unkeyword(Atom<'a>),
    /// `UNSEEN`
    Unseen,
    /// A bare `sequence-set`, or `$` (SEARCHRES).
    SequenceSet(SequenceSet),
    /// `"(" search-key *(SP search-key) ")"`: all of the keys.
    And(Box<NonEmpty<SearchKey<'a>>>),
    /// `MODSEQ [entry-name entry-type-req] mod-sequence-valzer` (CONDSTORE).
    ModSeq(SearchModSeq<'a>),
}

/// The argument of the `MODSEQ` search key (RFC 7162 section 3.1.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchModSeq<'a> {
    /// The metadata item: `"/flags/" attr-flag` and which kind of entry.
    pub entry: Option<(Flag<'a>, EntryType)>,
    /// Messages whose mod-sequence is at least this.
    pub value: ModSeqValzer,
}

/// `entry-type-req` (RFC 7162): which per-flag metadata entry the MODSEQ key looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryType {
    /// `priv`
    Private,
    /// `shared`
    Shared,
    /// `all`
    All,
}

impl SearchModSeq<'_> {
    /// The value with its borrowed data copied.
    pub fn into_static(self) -> SearchModSeq<'static> {
        SearchModSeq {
            entry: self.entry.map(|(f, t)| (f.into_static(), t)),
            value: self.value,
        }
    }
}

impl<'a> std::ops::Not for SearchKey<'a> {
    type Output = SearchKey<'a>;

    /// `NOT key`.
    fn not(self) -> SearchKey<'a> {
        SearchKey::Not(Box::new(self))
    }
}

impl<'a> SearchKey<'a> {
    /// `OR a b`.
    pub fn or(a: SearchKey<'a>, b: SearchKey<'a>) -> Self {
        SearchKey::Or(Box::new((a, b)))
    }

    /// `(keys...)`.
    pub fn and(keys: NonEmpty<SearchKey<'a>>) -> Self {
        SearchKey::And(Box::new(keys))
    }

    /// How deeply the key nests (1 for a key without nested keys); a parser refuses keys
    /// nested deeper than [`MAX_DEPTH`](crate::error::MAX_DEPTH).
    pub fn depth(&self) -> u32 {
        match self {
            SearchKey::Not(k) => 1 + k.depth(),
            SearchKey::Or(p) => 1 + p.0.depth().max(p.1.depth()),
            SearchKey::And(ks) => 1 + ks.iter().map(SearchKey::depth).max().unwrap_or(0),
            _ => 1,
        }
    }

    /// The value with its borrowed data copied.
    pub fn into_static(self) -> SearchKey<'static> {
        use SearchKey as K;
        match self {
            K::All => K::All,
            K::Answered => K::Answered,
            K::Bcc(s) => K::Bcc(s.into_static()),
            K::Before(d) => K::Before(d),
            K::Body(s) => K::Body(s.into_static()),
            K::Cc(s) => K::Cc(s.into_static()),
            K::Deleted => K::Deleted,
            K::Draft => K::Draft,
            K::Flagged => K::Flagged,
            K::From(s) => K::From(s.into_static()),
            K::Header(h, v) => K::Header(h.into_static(), v.into_static()),
            K::Keyword(a) => K::Keyword(a.into_static()),
            K::Larger(n) => K::Larger(n),
            K::New => K::New,
            K::Not(k) => K::Not(Box::new(k.into_static())),
            K::Old => K::Old,
            K::On(d) => K::On(d),
            K::Or(p) => {
                let (a, b) = *p;
                K::Or(Box::new((a.into_static(), b.into_static())))
            }
            K::Recent => K::Recent,
            K::Seen => K::Seen,
            K::SentBefore(d) => K::SentBefore(d),
            K::SentOn(d) => K::SentOn(d),
            K::SentSince(d) => K::SentSince(d),
            K::Since(d) => K::Since(d),
            K::Smaller(n) => K::Smaller(n),
            K::Subject(s) => K::Subject(s.into_static()),
            K::Text(s) => K::Text(s.into_static()),
            K::To(s) => K::To(s.into_static()),
            K::Uid(s) => K::Uid(s),
            K::Unanswered => K::Unanswered,
            K::Undeleted => K::Undeleted,
            K::Undraft => K::Undraft,
            K::Unflagged => K::Unflagged,
            K::Unkeyword(a) => K::Unkeyword(a.into_static()),
            K::Unseen => K::Unseen,
            K::SequenceSet(s) => K::SequenceSet(s),
            K::And(ks) => K::And(Box::new(ks.map(SearchKey::into_static))),
            K::ModSeq(m) => K::ModSeq(m.into_static()),
        }
    }

    /// `search-key`.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        match r.peek() {
            Some(b'(') => {
                r.enter()?;
                r.next_byte();
                let mut keys = List::new();
                keys.push(SearchKey::read(r)?);
                while !r.eat(b')') {
                    r.sp()?;
                    keys.push(SearchKey::read(r)?);
                }
                r.leave();
                return Ok(SearchKey::And(Box::new(NonEmpty(keys))));
            }
            Some(b'0'..=b'9' | b'*' | b'$') => {
                return Ok(SearchKey::SequenceSet(SequenceSet::read(r)?));
            }
            _ => {}
        }
        let start = r.pos();
        let mut buf = [0u8; 16];
        let name = read_name(r, &mut buf);
        use SearchKey as K;
        let key = match name {
            b"ALL" => K::All,
            b"ANSWERED" => K::Answered,
            b"BCC" => K::Bcc(arg_astring(r)?),
            b"BEFORE" => K::Before(arg_date(r)?),
            b"BODY" => K::Body(arg_astring(r)?),
            b"CC" => K::Cc(arg_astring(r)?),
            b"DELETED" => K::Deleted,
            b"DRAFT" => K::Draft,
            b"FLAGGED" => K::Flagged,
            b"FROM" => K::From(arg_astring(r)?),
            b"HEADER" => {
                let name = arg_astring(r)?;
                K::Header(name, arg_astring(r)?)
            }
            b"KEYWORD" => {
                r.sp()?;
                K::Keyword(Atom::read(r)?)
            }
            b"LARGER" => {
                r.sp()?;
                K::Larger(read_size(r)?)
            }
            b"NEW" => K::New,
            b"NOT" => {
                r.sp()?;
                r.enter()?;
                let k = SearchKey::read(r)?;
                r.leave();
                K::Not(Box::new(k))
            }
            b"OLD" => K::Old,
            b"ON" => K::On(arg_date(r)?),
            b"OR" => {
                r.enter()?;
                r.sp()?;
                let a = SearchKey::read(r)?;
                r.sp()?;
                let b = SearchKey::read(r)?;
                r.leave();
                K::Or(Box::new((a, b)))
            }
            b"RECENT" => K::Recent,
            b"SEEN" => K::Seen,
            b"SENTBEFORE" => K::SentBefore(arg_date(r)?),
            b"SENTON" => K::SentOn(arg_date(r)?),
            b"SENTSINCE" => K::SentSince(arg_date(r)?),
            b"SINCE" => K::Since(arg_date(r)?),
            b"SMALLER" => {
                r.sp()?;
                K::Smaller(read_size(r)?)
            }
            b"SUBJECT" => K::Subject(arg_astring(r)?),
            b"TEXT" => K::Text(arg_astring(r)?),
            b"TO" => K::To(arg_astring(r)?),
            b"UID" => {
                r.sp()?;
                K::Uid(SequenceSet::read(r)?)
            }
            b"UNANSWERED" => K::Unanswered,
            b"UNDELETED" => K::Undeleted,
            b"UNDRAFT" => K::Undraft,
            b"UNFLAGGED" => K::Unflagged,
            b"UNKEYWORD" => {
                r.sp()?;
                K::Unkeyword(Atom::read(r)?)
            }
            b"UNSEEN" => K::Unseen,
            b"MODSEQ" => K::ModSeq(read_search_modseq(r)?),
            _ => return Err(ParseError::new(start, "search-key", ErrorKind::Syntax)),
        };
        Ok(key)
    }
}

/// The size of LARGER and SMALLER: `number64` of RFC 9051 (`number` in RFC 3501). Any `u64`
/// is read, so that every value of the type reads back; more digits are an
/// [`ErrorKind::Number`] error.
fn read_size(r: &mut Reader<'_>) -> PResult<u64> {
    let start = r.pos();
    let digits = r.take_while(|b| b.is_ascii_digit());
    if digits.is_empty() {
        return Err(r.error("number64"));
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or_else(|| ParseError::new(start, "number64", ErrorKind::Number))?;
    }
    Ok(v)
}

fn arg_astring<'a>(r: &mut Reader<'a>) -> PResult<AString<'a>> {
    r.sp()?;
    AString::read(r)
}

fn arg_date(r: &mut Reader<'_>) -> PResult<Date> {
    r.sp()?;
    Date::read(r)
}

/// `search-modifier-modseq` arguments: `[SP entry-name SP entry-type-req] SP
/// mod-sequence-valzer`.
fn read_search_modseq<'a>(r: &mut Reader<'a>) -> PResult<SearchModSeq<'a>> {
    r.sp()?;
    let entry = if r.peek() == Some(b'"') {
        let flag = read_entry_flag(r)?;
        r.sp()?;
        let kind = if r.keyword("priv") {
            EntryType::Private
        } else if r.keyword("shared") {
            EntryType::Shared
        } else if r.keyword("all") {
            EntryType::All
        } else {
            return Err(r.error("entry-type-req"));
        };
        r.sp()?;
        Some((flag, kind))
    } else {
        None
    };
    let value = ModSeqValzer::read(r)?;
    Ok(SearchModSeq { entry, value })
}

/// `entry-flag-name`: `DQUOTE "/flags/" attr-flag DQUOTE`, where a system flag's backslash is
/// escaped as `\\` inside the quotes.
fn read_entry_flag<'a>(r: &mut Reader<'a>) -> PResult<Flag<'a>> {
    r.expect(b'"', "entry-name")?;
    if !r.keyword("/flags/") {
        return Err(r.error("\"/flags/\""));
    }
    let flag = if r.rest().starts_with(b"\\\\") {
        r.take(2, "\"\\\\\"")?;
        let start = r.pos();
        let name = r.atom()?;
        super::system_flag(name)
            .ok_or_else(|| ParseError::new(start, "attr-flag", ErrorKind::Invalid))?
    } else {
        Flag::Keyword(Atom::read(r)?)
    };
    r.expect(b'"', "DQUOTE")?;
    Ok(flag)
}

fn encode_entry_flag(flag: &Flag<'_>, w: &mut Writer) {
    w.raw(b"\"/flags/");
    match flag {
        Flag::Keyword(a) => w.raw(a.as_str().as_bytes()),
        other => {
            // A system flag: its backslash is escaped inside the quoted string.
            let mut tmp = Writer::new(w.options());
            other.encode(&mut tmp);
            let bytes = tmp.finish().into_bytes();
            w.byte(b'\\');
            w.raw(&bytes);
        }
    }
    w.byte(b'"');
}

impl Encode for SearchKey<'_> {
    fn encode(&self, w: &mut Writer) {
        use SearchKey as K;
        let (name, arg): (&[u8], Option<&AString<'_>>) = match self {
            K::All => (b"ALL", None),
            K::Answered => (b"ANSWERED", None),
            K::Bcc(s) => (b"BCC", Some(s)),
            K::Body(s) => (b"BODY", Some(s)),
            K::Cc(s) => (b"CC", Some(s)),
            K::Deleted => (b"DELETED", None),
            K::Draft => (b"DRAFT", None),
            K::Flagged => (b"FLAGGED", None),
            K::From(s) => (b"FROM", Some(s)),
            K::New => (b"NEW", None),
            K::Old => (b"OLD", None),
            K::Recent => (b"RECENT", None),
            K::Seen => (b"SEEN", None),
            K::Subject(s) => (b"SUBJECT", Some(s)),
            K::Text(s) => (b"TEXT", Some(s)),
            K::To(s) => (b"TO", Some(s)),
            K::Unanswered => (b"UNANSWERED", None),
            K::Undeleted => (b"UNDELETED", None),
            K::Undraft => (b"UNDRAFT", None),
            K::Unflagged => (b"UNFLAGGED", None),
            K::Unseen => (b"UNSEEN", None),
            K::Before(d) => return date_key(w, b"BEFORE", d),
            K::On(d) => return date_key(w, b"ON", d),
            K::SentBefore(d) => return date_key(w, b"SENTBEFORE", d),
            K::SentOn(d) => return date_key(w, b"SENTON", d),
            K::SentSince(d) => return date_key(w, b"SENTSINCE", d),
            K::Since(d) => return date_key(w, b"SINCE", d),
            K::Header(h, v) => {
                w.raw(b"HEADER ");
                h.encode(w);
                w.sp();
                v.encode(w);
                return;
            }
            K::Keyword(a) => {
                w.raw(b"KEYWORD ");
                a.encode(w);
                return;
            }
            K::Unkeyword(a) => {
                w.raw(b"UNKEYWORD ");
                a.encode(w);
                return;
            }
            K::Larger(n) => {
                w.raw(b"LARGER ");
                w.number(*n);
                return;
            }
            K::Smaller(n) => {
                w.raw(b"SMALLER ");
                w.number(*n);
                return;
            }
            K::Not(k) => {
                w.raw(b"NOT ");
                k.encode(w);
                return;
            }
            K::Or(p) => {
                w.raw(b"OR ");
                p.0.encode(w);
                w.sp();
                p.1.encode(w);
                return;
            }
            K::Uid(s) => {
                w.raw(b"UID ");
                s.encode(w);
                return;
            }
            K::SequenceSet(s) => {
                s.encode(w);
                return;
            }
            K::And(ks) => {
                w.byte(b'(');
                encode_keys(ks, w);
                w.byte(b')');
                return;
            }
            K::ModSeq(m) => {
                w.raw(b"MODSEQ ");
                if let Some((flag, kind)) = &m.entry {
                    encode_entry_flag(flag, w);
                    w.raw(match kind {
                        EntryType::Private => b" priv ",
                        EntryType::Shared => b" shared ",
                        EntryType::All => b" all ",
                    });
                }
                m.value.encode(w);
                return;
            }
        };
        w.raw(name);
        if let Some(s) = arg {
            w.sp();
            s.encode(w);
        }
    }
}

fn date_key(w: &mut Writer, name: &[u8], d: &Date) {
    w.raw(name);
    w.sp();
    d.encode(w);
}

/// Write keys separated by SP.
pub(crate) fn encode_keys(keys: &[SearchKey<'_>], w: &mut Writer) {
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            w.sp();
        }
        k.encode(w);
    }
}

/// `1*(SP search-key)` after the command's last argument: at least one key, each after SP.
pub(crate) fn read_keys<'a>(r: &mut Reader<'a>) -> PResult<NonEmpty<SearchKey<'a>>> {
    let mut keys = List::new();
    read_keys_into(r, &mut keys)?;
    Ok(NonEmpty(keys))
}

/// [`read_keys`] appending to `keys` (empty on entry).
pub(crate) fn read_keys_into<'a>(
    r: &mut Reader<'a>,
    keys: &mut List<SearchKey<'a>>,
) -> PResult<()> {
    r.sp()?;
    keys.push(SearchKey::read(r)?);
    while more(r) {
        r.sp()?;
        keys.push(SearchKey::read(r)?);
    }
    Ok(())
}

/// `search-return-opt` (ESEARCH RFC 4731, SEARCHRES RFC 5182, RFC 9051).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SearchReturnOption {
    /// `MIN`: the lowest matching number.
    Min,
    /// `MAX`: the highest matching number.
    Max,
    /// `ALL`: every match, as a sequence set.
    All,
    /// `COUNT`: how many matched.
    Count,
    /// `SAVE`: keep the result for `$` (SEARCHRES).
    Save,
}

impl SearchReturnOption {
    fn name(self) -> &'static [u8] {
        match self {
            SearchReturnOption::Min => b"MIN",
            SearchReturnOption::Max => b"MAX",
            SearchReturnOption::All => b"ALL",
            SearchReturnOption::Count => b"COUNT",
            SearchReturnOption::Save => b"SAVE",
        }
    }
}

/// `search-return-opts`: `"RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"`,
/// after the keyword `RETURN` was consumed.
pub(crate) fn read_return_options(r: &mut Reader<'_>) -> PResult<List<SearchReturnOption>> {
    super::read_return_list(r, |r| {
        Ok(if r.keyword("MIN") {
            SearchReturnOption::Min
        } else if r.keyword("MAX") {
            SearchReturnOption::Max
        } else if r.keyword("ALL") {
            SearchReturnOption::All
        } else if r.keyword("COUNT") {
            SearchReturnOption::Count
        } else if r.keyword("SAVE") {
            SearchReturnOption::Save
        } else {
            return Err(r.error("search-return-opt"));
        })
    })
}

pub(crate) fn encode_return_options(opts: &[SearchReturnOption], w: &mut Writer) {
    w.raw(b"RETURN (");
    for (i, o) in opts.iter().enumerate() {
        if i > 0 {
            w.sp();
        }
        w.raw(o.name());
    }
    w.byte(b')');
}

/// `sort-key` (RFC 5256; `DISPLAYFROM`/`DISPLAYTO` of RFC 5957).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SortKey {
    /// `ARRIVAL`
    Arrival,
    /// `CC`
    Cc,
    /// `DATE`
    Date,
    /// `FROM`
    From,
    /// `SIZE`
    Size,
    /// `SUBJECT`
    Subject,
    /// `TO`
    To,
    /// `DISPLAYFROM` (RFC 5957)
    DisplayFrom,
    /// `DISPLAYTO` (RFC 5957)
    DisplayTo,
}

/// `sort-criterion`: `["REVERSE" SP] sort-key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortCriterion {
    /// `REVERSE`: descending order.
    pub reverse: bool,
    /// The key.
    pub key: SortKey,
}

impl SortCriterion {
    fn read(r: &mut Reader<'_>) -> PResult<Self> {
        let reverse = r.keyword("REVERSE");
        if reverse {
            r.sp()?;
        }
        let start = r.pos();
        let mut buf = [0u8; 16];
        let key = match read_name(r, &mut buf) {
            b"ARRIVAL" => SortKey::Arrival,
            b"CC" => SortKey::Cc,
            b"DATE" => SortKey::Date,
            b"FROM" => SortKey::From,
            b"SIZE" => SortKey::Size,
            b"SUBJECT" => SortKey::Subject,
            b"TO" => SortKey::To,
            b"DISPLAYFROM" => SortKey::DisplayFrom,
            b"DISPLAYTO" => SortKey::DisplayTo,
            _ => return Err(ParseError::new(start, "sort-key", ErrorKind::Syntax)),
        };
        Ok(SortCriterion { reverse, key })
    }
}

impl Encode for SortCriterion {
    fn encode(&self, w: &mut Writer) {
        if self.reverse {
            w.raw(b"REVERSE ");
        }
        w.raw(match self.key {
            SortKey::Arrival => b"ARRIVAL",
            SortKey::Cc => b"CC",
            SortKey::Date => b"DATE",
            SortKey::From => b"FROM",
            SortKey::Size => b"SIZE",
            SortKey::Subject => b"SUBJECT",
            SortKey::To => b"TO",
            SortKey::DisplayFrom => b"DISPLAYFROM",
            SortKey::DisplayTo => b"DISPLAYTO",
        });
    }
}

/// `sort-criteria`: `"(" sort-criterion *(SP sort-criterion) ")"`.
pub(crate) fn read_sort_criteria(r: &mut Reader<'_>) -> PResult<NonEmpty<SortCriterion>> {
    r.expect(b'(', "\"(\"")?;
    let mut list = List::new();
    list.push(SortCriterion::read(r)?);
    while !r.eat(b')') {
        r.sp()?;
        list.push(SortCriterion::read(r)?);
    }
    Ok(NonEmpty(list))
}

/// `thread-alg` (RFC 5256): `ORDEREDSUBJECT`, `REFERENCES`, or an extension's atom.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ThreadAlgorithm<'a> {
    /// `ORDEREDSUBJECT`
    OrderedSubject,
    /// `REFERENCES`
    References,
    /// Another algorithm (`thread-alg-ext`). The names of the two variants above read back
    /// as those variants, so hold them there rather than here.
    Other(Atom<'a>),
}

impl<'a> ThreadAlgorithm<'a> {
    /// `thread-alg`.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        let a = Atom::read(r)?;
        Ok(if a.as_str().eq_ignore_ascii_case("ORDEREDSUBJECT") {
            ThreadAlgorithm::OrderedSubject
        } else if a.as_str().eq_ignore_ascii_case("REFERENCES") {
            ThreadAlgorithm::References
        } else {
            ThreadAlgorithm::Other(a)
        })
    }

    /// The value with its borrowed data copied.
    pub fn into_static(self) -> ThreadAlgorithm<'static> {
        match self {
            ThreadAlgorithm::OrderedSubject => ThreadAlgorithm::OrderedSubject,
            ThreadAlgorithm::References => ThreadAlgorithm::References,
            ThreadAlgorithm::Other(a) => ThreadAlgorithm::Other(a.into_static()),
        }
    }
}

impl Encode for ThreadAlgorithm<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            ThreadAlgorithm::OrderedSubject => w.raw(b"ORDEREDSUBJECT"),
            ThreadAlgorithm::References => w.raw(b"REFERENCES"),
            ThreadAlgorithm::Other(a) => a.encode(w),
        }
    }
}

/// `search-criteria` of SORT and THREAD: `charset 1*(SP search-key)`.
pub(crate) fn read_charset_and_keys<'a>(
    r: &mut Reader<'a>,
) -> PResult<(Charset<'a>, NonEmpty<SearchKey<'a>>)> {
    let charset = Charset::read(r)?;
    let keys = read_keys(r)?;
    Ok((charset, keys))
}
