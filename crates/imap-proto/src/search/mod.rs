//! SEARCH evaluation (RFC 3501 section 6.4.4, RFC 9051 section 6.4.4, ESEARCH RFC 4731,
//! SEARCHRES RFC 5182, CONDSTORE RFC 7162 section 3.1.5) over a trait that exposes what a key
//! looks at: flags, dates, size, header fields and text.
//!
//! The store implements [`SearchMessage`] for its messages (flags, dates, size and mod-sequence
//! come from its index; with the `mime` feature, [`mime::StoredMessage`] supplies the header
//! fields and text of a raw message). [`search`] checks the charset, evaluates the keys of a
//! `SEARCH` command over the messages of the selected mailbox, and returns a [`SearchResult`],
//! which builds the answer: `* SEARCH` ([`SearchResult::to_search_data`]), `* ESEARCH`
//! ([`SearchResult::to_esearch`]), and what `SAVE` keeps for a later `$`
//! ([`SearchResult::saved`]).
//!
//! ```
//! use std::borrow::Cow;
//! use std::num::NonZeroU32;
//! use imap_proto::command::{Command, CommandBody};
//! use imap_proto::datetime::{Date, DateTime};
//! use imap_proto::flag::Flag;
//! use imap_proto::search::{self, SearchContext, SearchMessage, contains_folded};
//! use imap_proto::Encode;
//!
//! struct Msg { uid: u32, seen: bool, subject: &'static str }
//! impl SearchMessage for Msg {
//!     fn uid(&self) -> NonZeroU32 { NonZeroU32::new(self.uid).unwrap() }
//!     fn has_flag(&self, flag: &Flag<'_>) -> bool { *flag == Flag::Seen && self.seen }
//!     fn internal_date(&self) -> DateTime {
//!         DateTime::new(Date::new(2026, 12, 7).unwrap(), 6, 0, 0, 0).unwrap()
//!     }
//!     fn sent_date(&self) -> Option<Date> { None }
//!     fn size(&self) -> u64 { 1000 }
//!     fn header_values(&self, name: &str) -> Vec<Cow<'_, str>> {
//!         if name.eq_ignore_ascii_case("subject") { vec![self.subject.into()] } else { vec![] }
//!     }
//!     fn header_text_contains(&self, needle: &str) -> bool {
//!         contains_folded(&format!("Subject: {}", self.subject), needle)
//!     }
//!     fn body_contains(&self, _needle: &str) -> bool { false }
//! }
//!
//! let mailbox = [
//!     Msg { uid: 10, seen: true, subject: "Lunch?" },
//!     Msg { uid: 11, seen: false, subject: "Re: lunch?" },
//!     Msg { uid: 12, seen: false, subject: "Invoice" },
//! ];
//! let command = Command::parse(b"a1 UID SEARCH RETURN (MIN COUNT) UNSEEN SUBJECT LUNCH\r\n").unwrap();
//! let CommandBody::Search { uid, return_options, charset, criteria } = &command.body else {
//!     unreachable!()
//! };
//! let messages = mailbox.iter().enumerate().map(|(i, m)| {
//!     (NonZeroU32::new(i as u32 + 1).unwrap(), m as &dyn SearchMessage)
//! });
//! let ctx = SearchContext { exists: 3, largest_uid: NonZeroU32::new(12), saved: None };
//! let result = search::search(charset.as_ref(), criteria, messages, &ctx).unwrap();
//! let options = return_options.as_deref().unwrap();
//! let data = result.to_esearch(Some(&command.tag), *uid, options).unwrap();
//! assert_eq!(data.to_bytes(), b"* ESEARCH (TAG \"a1\") UID MIN 11 COUNT 1\r\n");
//! assert_eq!(result.to_search_data(false).to_bytes(), b"* SEARCH 2\r\n");
//! ```
//!
//! # Matching
//!
//! - Strings match as substrings, case-insensitively: both sides are case-folded with
//!   [`fold`] (each character mapped through its single-character upper and lower case, an
//!   approximation of Unicode simple case folding, as Dovecot compares UTF-8), then compared.
//!   An empty string matches every message that has the field (`HEADER name ""`: RFC 9051).
//! - `BEFORE`, `ON`, `SINCE` compare the day of the internal date in its own zone; `SENTBEFORE`,
//!   `SENTON`, `SENTSINCE` the day of the `Date:` field as written, ignoring time and zone. A
//!   message without a readable `Date:` field matches none of the `SENT*` keys.
//! - A bare sequence set is matched against sequence numbers (`*` is
//!   [`SearchContext::exists`]), `UID` sets against UIDs (`*` is
//!   [`SearchContext::largest_uid`]); `$` (SEARCHRES) is the saved UIDs, an empty set when
//!   nothing was saved (RFC 5182 section 2.1).
//! - `MODSEQ` matches messages whose mod-sequence is at least the value; per-flag entries are
//!   not kept apart, so the entry name is ignored and the message's mod-sequence used (RFC 7162
//!   section 3.1.5). A message without a mod-sequence never matches.
//! - `NEW` is `RECENT UNSEEN`, `OLD` is `NOT RECENT`.

#[cfg(feature = "mime")]
#[cfg_attr(docsrs, doc(cfg(feature = "mime")))]
pub mod mime;

use std::borrow::Cow;
use std::num::{NonZeroU32, NonZeroU64};

use crate::command::{SearchKey, SearchReturnOption};
use crate::core::{AString, Charset, IString, Tag};
use crate::datetime::{Date, DateTime};
use crate::error::MAX_DEPTH;
use crate::flag::Flag;
use crate::list::List;
use crate::response::{Code, Data, ESearch, ESearchItem};
use crate::sequence::{SeqOrUid, Sequence, SequenceSet};

/// What SEARCH keys look at, for one message. The store implements it (flags, dates, size,
/// modseq come from its index); with the `mime` feature [`mime::StoredMessage`] supplies the
/// header fields and text of a parsed message.
pub trait SearchMessage {
    /// The message's UID.
    fn uid(&self) -> NonZeroU32;
    /// Whether the message has `flag` (keywords compare case-insensitively, RFC 9051 section
    /// 2.3.2). `\Recent` is asked through [`SearchMessage::is_recent`].
    fn has_flag(&self, flag: &Flag<'_>) -> bool;
    /// Whether the message is `\Recent` in this session (RFC 3501; IMAP4rev2 has no recent
    /// messages, the default).
    fn is_recent(&self) -> bool {
        false
    }
    /// INTERNALDATE: `BEFORE`, `ON` and `SINCE` compare its day in its own zone.
    fn internal_date(&self) -> DateTime;
    /// The day of the `Date:` header field, as written in its zone (`SENTBEFORE`, `SENTON`,
    /// `SENTSINCE`); `None` when the field is missing or unreadable.
    fn sent_date(&self) -> Option<Date>;
    /// RFC822.SIZE (`LARGER`, `SMALLER`).
    fn size(&self) -> u64;
    /// The message's mod-sequence (CONDSTORE); `None` when the mailbox has none.
    fn modseq(&self) -> Option<NonZeroU64> {
        None
    }
    /// The decoded (RFC 2047 encoded words, charset to UTF-8) values of every header field
    /// `name` (compared case-insensitively); for `HEADER`, `FROM`, `TO`, `CC`, `BCC`,
    /// `SUBJECT`. No element when the message has no such field.
    fn header_values(&self, name: &str) -> Vec<Cow<'_, str>>;
    /// Whether some header field, as `name: value` decoded, contains `needle` (for `TEXT`).
    /// `needle` is already case-folded with [`fold`]: compare with [`contains_folded`].
    fn header_text_contains(&self, needle: &str) -> bool;
    /// Whether the decoded body text (text parts, content-transfer-decoded, to UTF-8)
    /// contains `needle` (for `BODY` and `TEXT`). `needle` is already case-folded with
    /// [`fold`]: compare with [`contains_folded`].
    fn body_contains(&self, needle: &str) -> bool;
}

/// What the session knows beside the messages: for `*` and `$`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SearchContext<'s> {
    /// The number of messages the client knows (what `*` stands for in a sequence set).
    pub exists: u32,
    /// The largest UID in the mailbox (what `*` stands for in `UID`); `None` when empty.
    pub largest_uid: Option<NonZeroU32>,
    /// The UIDs saved by the last `SEARCH ... RETURN (SAVE)` (SEARCHRES), ascending; `None`
    /// when nothing was saved, which `$` reads as the empty set.
    pub saved: Option<&'s [NonZeroU32]>,
}

/// Why a search cannot be run. The server answers each as its documentation says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    /// The charset is neither UTF-8 nor US-ASCII: answer `NO [BADCHARSET (UTF-8 US-ASCII)]`
    /// (see [`SearchError::code`]).
    #[error("charset {charset} is not supported (UTF-8 and US-ASCII are)")]
    BadCharset {
        /// The charset the client named.
        charset: String,
    },
    /// A search string holds an 8-bit octet while the charset is US-ASCII: answer `BAD`.
    #[error("a search string holds an 8-bit octet under CHARSET US-ASCII")]
    NotAscii,
    /// A search string is not UTF-8 while the charset is UTF-8 (or not given): answer `BAD`.
    #[error("a search string is not valid UTF-8")]
    NotUtf8,
    /// The keys nest deeper than [`MAX_DEPTH`] (the codec's parser never produces such keys;
    /// keys built in code might): answer `BAD`.
    #[error("search keys nest deeper than {MAX_DEPTH}")]
    TooDeep,
}

impl SearchError {
    /// The response code of the tagged answer: `BADCHARSET (UTF-8 US-ASCII)` for
    /// [`SearchError::BadCharset`], none for the others.
    pub fn code(&self) -> Option<Code<'static>> {
        match self {
            SearchError::BadCharset { .. } => {
                let mut list = List::new();
                list.push(Charset::Atom(crate::core::Atom::new("UTF-8").ok()?));
                list.push(Charset::Atom(crate::core::Atom::new("US-ASCII").ok()?));
                Some(Code::BadCharset(list))
            }
            _ => None,
        }
    }
}

/// One matching message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchHit {
    /// Its sequence number.
    pub seq: NonZeroU32,
    /// Its UID.
    pub uid: NonZeroU32,
    /// Its mod-sequence, when the mailbox has them.
    pub modseq: Option<NonZeroU64>,
}

/// The messages a search matched, in the order they were given (ascending sequence numbers),
/// and the answers built from them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchResult {
    hits: Vec<SearchHit>,
    modseq_key: bool,
}

impl SearchResult {
    /// A result of these hits; `modseq_key` says whether the search used a `MODSEQ` key (the
    /// answers then carry the highest mod-sequence, RFC 7162 section 3.1.5).
    pub fn new(hits: Vec<SearchHit>, modseq_key: bool) -> Self {
        SearchResult { hits, modseq_key }
    }

    /// The matching messages.
    pub fn hits(&self) -> &[SearchHit] {
        &self.hits
    }

    /// How many messages matched.
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    /// Whether nothing matched.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    /// Whether the keys held a `MODSEQ` key.
    pub fn used_modseq(&self) -> bool {
        self.modseq_key
    }

    fn id(hit: &SearchHit, uid: bool) -> NonZeroU32 {
        if uid { hit.uid } else { hit.seq }
    }

    fn max_modseq<'h>(&self, hits: impl IntoIterator<Item = &'h SearchHit>) -> Option<u64> {
        if !self.modseq_key {
            return None;
        }
        hits.into_iter()
            .filter_map(|h| h.modseq)
            .max()
            .map(NonZeroU64::get)
    }

    /// `* SEARCH` (RFC 3501 section 7.2.5): sequence numbers, or UIDs when `uid` (UID
    /// SEARCH); with the highest mod-sequence of the matches when a `MODSEQ` key was used and
    /// something matched (`* SEARCH 2 5 (MODSEQ 917162500)`, RFC 7162 section 3.1.5).
    pub fn to_search_data(&self, uid: bool) -> Data<'static> {
        Data::Search {
            ids: self.hits.iter().map(|h| Self::id(h, uid)).collect(),
            modseq: self.max_modseq(&self.hits),
        }
    }

    /// `* ESEARCH` for `RETURN (options)` (RFC 4731, RFC 9051 section 6.4.4.1): the tag of the
    /// command as correlator, `UID` when `uid`, then `MIN`, `MAX`, `ALL` (a compact sequence
    /// set) when something matched, `COUNT` always, and `MODSEQ` when a `MODSEQ` key was used
    /// and something matched (the highest mod-sequence of the messages returned: of all
    /// matches with `ALL` or `COUNT`, else of the `MIN`/`MAX` ones). `RETURN ()` means
    /// `RETURN (ALL)`. `None` when `SAVE` is the only option: then no `ESEARCH` is sent
    /// (RFC 5182 section 2.1).
    pub fn to_esearch(
        &self,
        tag: Option<&Tag<'_>>,
        uid: bool,
        options: &[SearchReturnOption],
    ) -> Option<Data<'static>> {
        use SearchReturnOption as O;
        let has = |o: O| options.contains(&o);
        let (min, max, all, count) = if options.is_empty() {
            (false, false, true, false)
        } else {
            (has(O::Min), has(O::Max), has(O::All), has(O::Count))
        };
        if !(min || max || all || count) {
            return None;
        }
        let mut items = List::new();
        let first = self.hits.iter().min_by_key(|h| Self::id(h, uid));
        let last = self.hits.iter().max_by_key(|h| Self::id(h, uid));
        if let (true, Some(h)) = (min, first) {
            items.push(ESearchItem::Min(Self::id(h, uid)));
        }
        if let (true, Some(h)) = (max, last) {
            items.push(ESearchItem::Max(Self::id(h, uid)));
        }
        if all {
            if let Some(set) = compact_set(self.hits.iter().map(|h| Self::id(h, uid)).collect()) {
                items.push(ESearchItem::All(set));
            }
        }
        if count {
            items.push(ESearchItem::Count(
                u32::try_from(self.hits.len()).unwrap_or(u32::MAX),
            ));
        }
        let modseq = if all || count {
            self.max_modseq(&self.hits)
        } else {
            let ends = [first.filter(|_| min), last.filter(|_| max)];
            self.max_modseq(ends.into_iter().flatten())
        };
        if let Some(m) = modseq {
            items.push(ESearchItem::ModSeq(m));
        }
        let tag = tag.and_then(|t| {
            IString::from_bytes(t.as_str().as_bytes().to_vec())
                .ok()
                .map(AString::String)
        });
        Some(Data::ESearch(ESearch { tag, uid, items }))
    }

    /// What `SAVE` keeps for `$` (RFC 5182 section 2.4, RFC 9051 section 6.4.4.1): `None`
    /// without `SAVE` among `options`; with `SAVE` and `MIN` and/or `MAX` but neither `ALL`
    /// nor `COUNT`, only the UIDs of those messages; else the UIDs of every match. Ascending.
    pub fn saved(&self, options: &[SearchReturnOption]) -> Option<Vec<NonZeroU32>> {
        use SearchReturnOption as O;
        if !options.contains(&O::Save) {
            return None;
        }
        let (min, max) = (options.contains(&O::Min), options.contains(&O::Max));
        let rest = options.contains(&O::All) || options.contains(&O::Count);
        let mut uids: Vec<NonZeroU32> = if (min || max) && !rest {
            let mut v = Vec::new();
            if let (true, Some(h)) = (min, self.hits.iter().map(|h| h.uid).min()) {
                v.push(h);
            }
            if let (true, Some(h)) = (max, self.hits.iter().map(|h| h.uid).max()) {
                v.push(h);
            }
            v
        } else {
            self.hits.iter().map(|h| h.uid).collect()
        };
        uids.sort_unstable();
        uids.dedup();
        Some(uids)
    }
}

/// `ids` as a sequence set of runs (`1:3,7,9:10`); `None` when empty.
fn compact_set(mut ids: Vec<NonZeroU32>) -> Option<SequenceSet> {
    ids.sort_unstable();
    ids.dedup();
    let mut items: List<Sequence> = List::new();
    let mut iter = ids.into_iter();
    let mut start = iter.next()?;
    let mut end = start;
    let push = |a: NonZeroU32, b: NonZeroU32, items: &mut List<Sequence>| {
        items.push(if a == b {
            Sequence::Single(SeqOrUid::Value(a))
        } else {
            Sequence::Range(SeqOrUid::Value(a), SeqOrUid::Value(b))
        });
    };
    for id in iter {
        if end.get().checked_add(1) == Some(id.get()) {
            end = id;
        } else {
            push(start, end, &mut items);
            start = id;
            end = id;
        }
    }
    push(start, end, &mut items);
    SequenceSet::new(items).ok()
}

/// Which charset the search strings are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strings {
    Utf8,
    Ascii,
}

fn check_charset(charset: Option<&Charset<'_>>) -> Result<Strings, SearchError> {
    let Some(charset) = charset else {
        // No CHARSET: US-ASCII in RFC 3501, UTF-8 (a superset) in RFC 9051.
        return Ok(Strings::Utf8);
    };
    let name = charset.as_str();
    if name.eq_ignore_ascii_case("UTF-8") {
        Ok(Strings::Utf8)
    } else if name.eq_ignore_ascii_case("US-ASCII") {
        Ok(Strings::Ascii)
    } else {
        Err(SearchError::BadCharset {
            charset: name.to_owned(),
        })
    }
}

/// Evaluates `keys` (all of which must match) for one message with sequence number `seq`.
/// Search strings are read as UTF-8 (a search without `CHARSET`).
pub fn matches(
    keys: &[SearchKey<'_>],
    seq: NonZeroU32,
    message: &dyn SearchMessage,
    ctx: &SearchContext<'_>,
) -> Result<bool, SearchError> {
    let compiled = Compiled::new(keys, Strings::Utf8, ctx)?;
    Ok(compiled.eval(seq, message))
}

/// Runs a SEARCH: checks `charset` (none, `UTF-8` or `US-ASCII`, in any case; others are
/// [`SearchError::BadCharset`]) and the search strings against it, then evaluates `keys` (all
/// must match) for every `(sequence number, message)` of `messages`, which should come in
/// ascending order of sequence numbers.
pub fn search<'m, I: IntoIterator<Item = (NonZeroU32, &'m dyn SearchMessage)>>(
    charset: Option<&Charset<'_>>,
    keys: &[SearchKey<'_>],
    messages: I,
    ctx: &SearchContext<'_>,
) -> Result<SearchResult, SearchError> {
    let strings = check_charset(charset)?;
    let compiled = Compiled::new(keys, strings, ctx)?;
    let hits = messages
        .into_iter()
        .filter(|(seq, m)| compiled.eval(*seq, *m))
        .map(|(seq, m)| SearchHit {
            seq,
            uid: m.uid(),
            modseq: m.modseq(),
        })
        .collect();
    Ok(SearchResult::new(hits, compiled.modseq_key))
}

/// Case-folds `s` for the substring comparisons of SEARCH: every character mapped to its
/// single-character upper case, then to its single-character lower case (a character whose
/// mapping has several characters, such as `ß` to `SS`, is kept). Borrowed when nothing
/// changes.
pub fn fold(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Cow::Owned(s.to_ascii_lowercase());
        }
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(fold_char).collect())
}

/// The characters beyond ASCII that [`fold`] maps to ASCII: KELVIN SIGN to `k`, LATIN SMALL
/// LETTER LONG S to `s`.
const FOLDS_TO_ASCII: [char; 2] = ['\u{212A}', '\u{17F}'];

fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    if c == '\u{131}' {
        // LATIN SMALL LETTER DOTLESS I: its upper case is `I`, but case folding keeps it
        return c;
    }
    let mut up = c.to_uppercase();
    let u = match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    };
    let mut lo = u.to_lowercase();
    match (lo.next(), lo.next()) {
        (Some(l), None) => l,
        _ => u,
    }
}

/// Whether `haystack`, case-folded with [`fold`], contains `folded_needle` (already folded).
/// An empty needle is contained in every haystack. ASCII haystacks are compared without
/// copying.
pub fn contains_folded(haystack: &str, folded_needle: &str) -> bool {
    if folded_needle.is_empty() {
        return true;
    }
    if folded_needle.is_ascii() {
        if haystack.is_ascii() {
            return ascii_contains(haystack.as_bytes(), folded_needle.as_bytes());
        }
        // Only two characters beyond ASCII fold to ASCII (the test
        // `search::tests::folds_to_ascii`); without them, the multi-octet sequences of the
        // haystack (which hold no ASCII octet) never match, and the octets are compared as
        // they are.
        if !haystack.contains(FOLDS_TO_ASCII) {
            return ascii_contains(haystack.as_bytes(), folded_needle.as_bytes());
        }
    } else if haystack.is_ascii() {
        // every ASCII character folds to ASCII
        return false;
    }
    fold(haystack).contains(folded_needle)
}

/// `needle` (lower case ASCII) in `hay`, ignoring ASCII case.
fn ascii_contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    if hay.len() < needle.len() {
        return false;
    }
    let last_start = hay.len() - needle.len();
    let upper = first.to_ascii_uppercase();
    let mut from = 0;
    while let Some(i) = hay
        .get(from..=last_start)
        .and_then(|h| memchr::memchr2(first, upper, h))
    {
        let at = from + i;
        if hay
            .get(at + 1..at + needle.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(rest))
        {
            return true;
        }
        from = at + 1;
    }
    false
}

/// A key ready to evaluate: strings checked and folded, `$` resolved.
#[derive(Debug)]
enum Cond<'k> {
    All,
    None,
    Flag(Flag<'k>, bool),
    Recent(bool),
    New,
    Before(Date),
    On(Date),
    Since(Date),
    SentBefore(Date),
    SentOn(Date),
    SentSince(Date),
    Larger(u64),
    Smaller(u64),
    Header(Cow<'k, str>, String),
    Body(String),
    Text(String),
    Seq(&'k SequenceSet),
    Uid(&'k SequenceSet),
    SavedUid(&'k [NonZeroU32], bool),
    ModSeq(u64),
    Not(Box<Cond<'k>>),
    Or(Box<(Cond<'k>, Cond<'k>)>),
    And(Vec<Cond<'k>>),
}

impl Cond<'_> {
    /// A rough cost, to evaluate cheap keys of a list first.
    fn cost(&self) -> u32 {
        match self {
            Cond::Header(..) => 10,
            Cond::Body(_) | Cond::Text(_) => 100,
            Cond::Not(k) => k.cost(),
            Cond::Or(p) => p.0.cost().saturating_add(p.1.cost()),
            Cond::And(ks) => ks.iter().map(Cond::cost).fold(0, u32::saturating_add),
            _ => 1,
        }
    }
}

struct Compiled<'k, 's> {
    root: Cond<'k>,
    modseq_key: bool,
    ctx: SearchContext<'s>,
}

impl<'k, 's: 'k> Compiled<'k, 's> {
    fn new(
        keys: &'k [SearchKey<'_>],
        strings: Strings,
        ctx: &SearchContext<'s>,
    ) -> Result<Self, SearchError> {
        let mut c = Compiler {
            strings,
            saved: ctx.saved.unwrap_or(&[]),
            saved_sorted: ctx
                .saved
                .is_none_or(|s| s.windows(2).all(|w| w.first() < w.get(1))),
            modseq_key: false,
        };
        let mut list = keys
            .iter()
            .map(|k| c.compile(k, 0))
            .collect::<Result<Vec<_>, _>>()?;
        list.sort_by_key(Cond::cost);
        Ok(Compiled {
            root: Cond::And(list),
            modseq_key: c.modseq_key,
            ctx: *ctx,
        })
    }

    fn eval(&self, seq: NonZeroU32, m: &dyn SearchMessage) -> bool {
        eval(&self.root, seq, m, &self.ctx)
    }
}

struct Compiler<'s> {
    strings: Strings,
    saved: &'s [NonZeroU32],
    saved_sorted: bool,
    modseq_key: bool,
}

impl<'s> Compiler<'s> {
    fn string(&self, s: &AString<'_>) -> Result<String, SearchError> {
        let data = s.data();
        if self.strings == Strings::Ascii && !data.is_ascii() {
            return Err(SearchError::NotAscii);
        }
        let s = std::str::from_utf8(data).map_err(|_| SearchError::NotUtf8)?;
        Ok(fold(s).into_owned())
    }

    fn header(&self, name: &'static str, s: &AString<'_>) -> Result<Cond<'static>, SearchError> {
        Ok(Cond::Header(Cow::Borrowed(name), self.string(s)?))
    }

    fn compile<'k>(&mut self, key: &'k SearchKey<'_>, depth: u32) -> Result<Cond<'k>, SearchError>
    where
        's: 'k,
    {
        // depth 0 for a key of the command's list: the parser accepts MAX_DEPTH levels of
        // nesting below it
        if depth > MAX_DEPTH {
            return Err(SearchError::TooDeep);
        }
        use SearchKey as K;
        Ok(match key {
            K::All => Cond::All,
            K::Answered => Cond::Flag(Flag::Answered, true),
            K::Deleted => Cond::Flag(Flag::Deleted, true),
            K::Draft => Cond::Flag(Flag::Draft, true),
            K::Flagged => Cond::Flag(Flag::Flagged, true),
            K::Seen => Cond::Flag(Flag::Seen, true),
            K::Unanswered => Cond::Flag(Flag::Answered, false),
            K::Undeleted => Cond::Flag(Flag::Deleted, false),
            K::Undraft => Cond::Flag(Flag::Draft, false),
            K::Unflagged => Cond::Flag(Flag::Flagged, false),
            K::Unseen => Cond::Flag(Flag::Seen, false),
            K::Keyword(a) => keyword(a.as_str(), true),
            K::Unkeyword(a) => keyword(a.as_str(), false),
            K::Recent => Cond::Recent(true),
            K::Old => Cond::Recent(false),
            K::New => Cond::New,
            K::Before(d) => Cond::Before(*d),
            K::On(d) => Cond::On(*d),
            K::Since(d) => Cond::Since(*d),
            K::SentBefore(d) => Cond::SentBefore(*d),
            K::SentOn(d) => Cond::SentOn(*d),
            K::SentSince(d) => Cond::SentSince(*d),
            K::Larger(n) => Cond::Larger(*n),
            K::Smaller(n) => Cond::Smaller(*n),
            K::Bcc(s) => self.header("Bcc", s)?,
            K::Cc(s) => self.header("Cc", s)?,
            K::From(s) => self.header("From", s)?,
            K::Subject(s) => self.header("Subject", s)?,
            K::To(s) => self.header("To", s)?,
            K::Header(name, s) => {
                let data = name.data();
                if self.strings == Strings::Ascii && !data.is_ascii() {
                    return Err(SearchError::NotAscii);
                }
                match std::str::from_utf8(data) {
                    // a field name is printable US-ASCII without ':' (RFC 5322 section
                    // 2.2): any other name is no field of any message
                    Ok(n)
                        if !n.is_empty()
                            && n.bytes().all(|b| (33..127).contains(&b) && b != b':') =>
                    {
                        Cond::Header(Cow::Borrowed(n), self.string(s)?)
                    }
                    Ok(_) => {
                        self.string(s)?;
                        Cond::None
                    }
                    Err(_) => return Err(SearchError::NotUtf8),
                }
            }
            K::Body(s) => Cond::Body(self.string(s)?),
            K::Text(s) => Cond::Text(self.string(s)?),
            K::SequenceSet(SequenceSet::Saved) | K::Uid(SequenceSet::Saved) => {
                Cond::SavedUid(self.saved, self.saved_sorted)
            }
            K::SequenceSet(set) => Cond::Seq(set),
            K::Uid(set) => Cond::Uid(set),
            K::ModSeq(m) => {
                self.modseq_key = true;
                Cond::ModSeq(m.value.get())
            }
            K::Not(k) => Cond::Not(Box::new(self.compile(k, depth + 1)?)),
            K::Or(p) => {
                let a = self.compile(&p.0, depth + 1)?;
                let b = self.compile(&p.1, depth + 1)?;
                Cond::Or(Box::new((a, b)))
            }
            K::And(ks) => {
                let mut list = ks
                    .iter()
                    .map(|k| self.compile(k, depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                list.sort_by_key(Cond::cost);
                Cond::And(list)
            }
        })
    }
}

/// `KEYWORD`/`UNKEYWORD` of `name`, borrowed from the key.
fn keyword(name: &str, want: bool) -> Cond<'_> {
    match crate::core::Atom::new(name) {
        Ok(a) => Cond::Flag(Flag::Keyword(a), want),
        // an atom from the parser is always valid; one that is not names no flag
        Err(_) if want => Cond::None,
        Err(_) => Cond::All,
    }
}

fn eval(c: &Cond<'_>, seq: NonZeroU32, m: &dyn SearchMessage, ctx: &SearchContext<'_>) -> bool {
    match c {
        Cond::All => true,
        Cond::None => false,
        Cond::Flag(f, want) => m.has_flag(f) == *want,
        Cond::Recent(want) => m.is_recent() == *want,
        Cond::New => m.is_recent() && !m.has_flag(&Flag::Seen),
        Cond::Before(d) => m.internal_date().date() < *d,
        Cond::On(d) => m.internal_date().date() == *d,
        Cond::Since(d) => m.internal_date().date() >= *d,
        Cond::SentBefore(d) => m.sent_date().is_some_and(|s| s < *d),
        Cond::SentOn(d) => m.sent_date().is_some_and(|s| s == *d),
        Cond::SentSince(d) => m.sent_date().is_some_and(|s| s >= *d),
        Cond::Larger(n) => m.size() > *n,
        Cond::Smaller(n) => m.size() < *n,
        Cond::Header(name, needle) => m
            .header_values(name)
            .iter()
            .any(|v| contains_folded(v, needle)),
        Cond::Body(needle) => m.body_contains(needle),
        Cond::Text(needle) => m.header_text_contains(needle) || m.body_contains(needle),
        Cond::Seq(set) => set.contains(seq.get(), ctx.exists),
        Cond::Uid(set) => ctx
            .largest_uid
            .is_some_and(|largest| set.contains(m.uid().get(), largest.get())),
        Cond::SavedUid(saved, sorted) => {
            let uid = m.uid();
            if *sorted {
                saved.binary_search(&uid).is_ok()
            } else {
                saved.contains(&uid)
            }
        }
        Cond::ModSeq(v) => m.modseq().is_some_and(|ms| ms.get() >= *v),
        Cond::Not(k) => !eval(k, seq, m, ctx),
        Cond::Or(p) => eval(&p.0, seq, m, ctx) || eval(&p.1, seq, m, ctx),
        Cond::And(ks) => ks.iter().all(|k| eval(k, seq, m, ctx)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding() {
        assert_eq!(fold("Hello"), "hello");
        assert!(matches!(fold("hello"), Cow::Borrowed(_)));
        assert_eq!(fold("ÄÖÜ straße"), "äöü straße");
        assert_eq!(fold("\u{212A}elvin"), "kelvin");
        assert_eq!(fold("ΣΊΣΥΦΟΣ ς"), "σίσυφοσ σ");
        assert!(contains_folded("Grüße aus KÖLN", &fold("köln")));
        assert!(contains_folded("abcABC", "cab"));
        assert!(!contains_folded("abc", "abcd"));
        assert!(contains_folded("", ""));
        assert!(!contains_folded("", "a"));
        assert!(!contains_folded("plain ascii", "é"));
        assert!(contains_folded("xxaxab", "ab"));
        assert!(contains_folded("the \u{212A} sign", "k s"));
        assert!(contains_folded(
            "Gr\u{fc}\u{df}e \u{17F}ind \u{212A}alt",
            "sind kalt"
        ));
        assert!(contains_folded("Gr\u{fc}\u{df}e und KALT", "und kalt"));
        assert!(!contains_folded("Gr\u{fc}\u{df}e und KALT", "ss"));
        assert_eq!(fold("\u{131}I"), "\u{131}i");
    }

    /// The premise of the ASCII fast path of `contains_folded`: no other character folds to
    /// ASCII.
    #[test]
    fn folds_to_ascii() {
        let to_ascii: Vec<char> = (0x80..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|&c| fold_char(c).is_ascii())
            .collect();
        assert_eq!(
            to_ascii,
            FOLDS_TO_ASCII.iter().rev().copied().collect::<Vec<_>>()
        );
    }

    #[test]
    fn compact_sets() {
        let nz = |v: &[u32]| v.iter().map(|&n| NonZeroU32::new(n).unwrap()).collect();
        let enc = |v: &[u32]| {
            use crate::Encode;
            String::from_utf8(compact_set(nz(v)).unwrap().to_bytes()).unwrap()
        };
        assert_eq!(enc(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(enc(&[5]), "5");
        assert_eq!(enc(&[4, 2, 3, 3]), "2:4");
        assert_eq!(enc(&[u32::MAX - 1, u32::MAX]), "4294967294:4294967295");
        assert!(compact_set(Vec::new()).is_none());
    }
}
