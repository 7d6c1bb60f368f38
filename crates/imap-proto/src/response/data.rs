//! [`Data`]: untagged server data (`response-data` other than status responses).

use std::borrow::Cow;
use std::num::NonZeroU32;

use crate::core::{AString, Atom, IString, NString};
use crate::encode::{Encode, Writer};
use crate::error::{ErrorKind, ParseError, ValidationError};
use crate::fetch::MessageDataItem;
use crate::flag::{Flag, MailboxAttribute};
use crate::list::List;
use crate::mailbox::Mailbox;
use crate::parse::{PResult, Reader};
use crate::response::capability::Capability;
use crate::response::{encode_list, sp_follows};
use crate::sequence::SequenceSet;

/// Untagged data: `mailbox-data`, `message-data`, `capability-data` and the data responses of
/// the extensions (RFC 3501 sections 7.2 to 7.4, RFC 9051 sections 7.2 to 7.5, and the RFCs
/// named per variant).
/// Encoding writes the whole line, from `* ` to the CRLF.
// FETCH keeps up to four items inline so that `* n FETCH (FLAGS (...) UID n)` parses without
// a heap allocation; boxing it (or the enum) would cost one per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Data<'a> {
    /// `* CAPABILITY ...` (RFC 3501 section 7.2.1, RFC 9051 section 7.2.2).
    Capability(List<Capability<'a>>),
    /// `* LIST ...` (RFC 3501 section 7.2.2, RFC 9051 section 7.3.1; RFC 5258 extended data).
    List(ListData<'a>),
    /// `* LSUB ...` (RFC 3501 section 7.2.3).
    Lsub(ListData<'a>),
    /// `* STATUS mailbox (...)` (RFC 3501 section 7.2.4, RFC 9051 section 7.3.3; RFC 7162,
    /// RFC 8438, RFC 7889 items).
    Status {
        /// The mailbox.
        mailbox: Mailbox<'a>,
        /// Its attributes.
        items: List<StatusValue<'a>, 2>,
    },
    /// `* SEARCH n ... [(MODSEQ n)]` (RFC 3501 section 7.2.5, RFC 7162).
    Search {
        /// Matching message numbers or UIDs.
        ids: Vec<NonZeroU32>,
        /// The highest mod-sequence of the matches (RFC 7162).
        modseq: Option<u64>,
    },
    /// `* ESEARCH ...` (RFC 4731, RFC 9051 section 7.3.4).
    ESearch(ESearch<'a>),
    /// `* SORT n ... [(MODSEQ n)]` (RFC 5256, RFC 7162).
    Sort {
        /// Message numbers or UIDs in sort order.
        ids: Vec<NonZeroU32>,
        /// The highest mod-sequence of the matches (RFC 7162).
        modseq: Option<u64>,
    },
    /// `* THREAD (...)(...)` (RFC 5256).
    Thread(Vec<Thread>),
    /// `* FLAGS (...)` (RFC 3501 section 7.2.6, RFC 9051 section 7.3.5).
    Flags(List<Flag<'a>>),
    /// `* n EXISTS` (RFC 3501 section 7.3.1, RFC 9051 section 7.4.1).
    Exists(u32),
    /// `* n RECENT` (RFC 3501 section 7.3.2).
    Recent(u32),
    /// `* n EXPUNGE` (RFC 3501 section 7.4.1, RFC 9051 section 7.5.1).
    Expunge(NonZeroU32),
    /// `* VANISHED [(EARLIER)] uids` (RFC 7162 section 3.2.10).
    Vanished {
        /// `(EARLIER)`: an answer to a FETCH or SELECT, not news.
        earlier: bool,
        /// The UIDs of the expunged messages.
        uids: crate::sequence::UidSet,
    },
    /// `* n FETCH (...)` (RFC 3501 section 7.4.2, RFC 9051 section 7.5.2).
    Fetch {
        /// The message sequence number.
        seq: NonZeroU32,
        /// The data items.
        items: crate::fetch::MsgAtt<'a>,
    },
    /// `* NAMESPACE ...` (RFC 2342, RFC 9051 section 7.3.2).
    Namespace(Namespace<'a>),
    /// `* ID (...)` or `* ID NIL` (RFC 2971): field and value pairs.
    Id(Option<Vec<(IString<'a>, NString<'a>)>>),
    /// `* ENABLED ...` (RFC 5161, RFC 9051 section 7.2.1).
    Enabled(List<Capability<'a>>),
    /// `* QUOTA root (...)` (RFC 9208).
    Quota {
        /// The quota root.
        root: AString<'a>,
        /// Usage and limit per resource.
        resources: List<QuotaResource<'a>, 2>,
    },
    /// `* QUOTAROOT mailbox root...` (RFC 9208).
    QuotaRoot {
        /// The mailbox.
        mailbox: Mailbox<'a>,
        /// Its quota roots.
        roots: List<AString<'a>, 2>,
    },
    /// An untagged response this crate does not know, kept: `name` is its name (the atom
    /// after `* `, or after `* n ` for one that starts with a number), `raw` everything
    /// between `* ` and the final CRLF, literals included. Encoding writes `* `, `raw` and
    /// CRLF; build it with [`Data::other`].
    Other {
        /// The response's name.
        name: Atom<'a>,
        /// The bytes after `* `, up to the final CRLF.
        raw: RawValue<'a>,
    },
}

impl<'a> Data<'a> {
    /// An unknown untagged response from the bytes after `* ` (without the CRLF); refused
    /// unless it reads back as [`Data::Other`] (a known response, a bare CR or LF, or no
    /// name are refused).
    pub fn other(raw: impl Into<Cow<'a, [u8]>>) -> Result<Data<'a>, ValidationError> {
        let raw = raw.into();
        let refuse = || ValidationError::new("untagged response", "does not read back as unknown");
        let mut line = Vec::with_capacity(raw.len() + 4);
        line.extend_from_slice(b"* ");
        line.extend_from_slice(&raw);
        line.extend_from_slice(b"\r\n");
        if raw.iter().any(|&b| b == b'\r' || b == b'\n')
            || crate::core::ends_like_literal_header(&raw)
        {
            return Err(refuse());
        }
        let name = match super::Response::parse_with(&line, crate::parse::Quirks::STRICT) {
            Ok(super::Response::Data(Data::Other { name, .. })) => name.into_static(),
            _ => return Err(refuse()),
        };
        Ok(Data::Other {
            name,
            raw: RawValue(raw),
        })
    }

    /// After `* ` when a digit follows: `n EXISTS`, `n RECENT`, `n EXPUNGE`, `n FETCH ...`,
    /// or an unknown response, through the final CRLF.
    pub(crate) fn read_numbered(r: &mut Reader<'a>) -> PResult<super::Response<'a>> {
        let start = r.pos();
        let n = r.number()?;
        r.sp()?;
        let name_at = r.pos();
        let nz = || {
            NonZeroU32::new(n).ok_or_else(|| ParseError::new(start, "nz-number", ErrorKind::Number))
        };
        if r.keyword("FETCH") {
            let seq = nz()?;
            r.sp()?;
            let items = crate::fetch::read_msg_att(r)?;
            // The end of the message is checked before the value is built: the item list is
            // large, and each move of it is a copy.
            r.crlf_end()?;
            return Ok(super::Response::Data(Data::Fetch { seq, items }));
        }
        if r.keyword("EXISTS") {
            r.crlf_end()?;
            return Ok(super::Response::Data(Data::Exists(n)));
        }
        if r.keyword("EXPUNGE") {
            let n = nz()?;
            r.crlf_end()?;
            return Ok(super::Response::Data(Data::Expunge(n)));
        }
        if r.keyword("RECENT") {
            r.crlf_end()?;
            return Ok(super::Response::Data(Data::Recent(n)));
        }
        let name = r.atom()?;
        let name =
            Atom::new(name).map_err(|_| ParseError::new(name_at, "atom", ErrorKind::Syntax))?;
        let raw = RawValue(Cow::Borrowed(read_raw_rest(r, start)?));
        r.crlf_end()?;
        Ok(super::Response::Data(Data::Other { name, raw }))
    }

    /// After `* name` (the atom `name` began at `start`).
    pub(crate) fn read_named(r: &mut Reader<'a>, start: usize, name: &'a str) -> PResult<Data<'a>> {
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if is("CAPABILITY") {
            Ok(Data::Capability(read_capabilities(r)?))
        } else if is("LIST") {
            r.sp()?;
            Ok(Data::List(ListData::read(r)?))
        } else if is("LSUB") {
            r.sp()?;
            Ok(Data::Lsub(ListData::read(r)?))
        } else if is("STATUS") {
            r.sp()?;
            let mailbox = Mailbox::read(r)?;
            r.sp()?;
            r.expect(b'(', "(")?;
            let mut items = List::new();
            if r.peek() != Some(b')') {
                items.push(StatusValue::read(r)?);
                while sp_follows(r) {
                    r.sp()?;
                    items.push(StatusValue::read(r)?);
                }
            }
            r.expect(b')', ")")?;
            Ok(Data::Status { mailbox, items })
        } else if is("SEARCH") {
            let (ids, modseq) = read_ids(r)?;
            Ok(Data::Search { ids, modseq })
        } else if is("SORT") {
            let (ids, modseq) = read_ids(r)?;
            Ok(Data::Sort { ids, modseq })
        } else if is("ESEARCH") {
            Ok(Data::ESearch(ESearch::read(r)?))
        } else if is("THREAD") {
            let mut threads = Vec::new();
            if sp_follows(r) {
                r.sp()?;
                threads.push(Thread::read(r)?);
                while r.peek() == Some(b'(') {
                    threads.push(Thread::read(r)?);
                }
            }
            Ok(Data::Thread(threads))
        } else if is("FLAGS") {
            r.sp()?;
            Ok(Data::Flags(crate::flag::read_flag_list(r)?))
        } else if is("VANISHED") {
            r.sp()?;
            let earlier = r.keyword("(EARLIER)");
            if earlier {
                r.sp()?;
            }
            Ok(Data::Vanished {
                earlier,
                uids: crate::sequence::UidSet::read(r)?,
            })
        } else if is("NAMESPACE") {
            Ok(Data::Namespace(Namespace::read(r)?))
        } else if is("ID") {
            r.sp()?;
            if r.keyword("NIL") {
                return Ok(Data::Id(None));
            }
            r.expect(b'(', "( or NIL")?;
            let mut params = Vec::new();
            if r.peek() != Some(b')') {
                loop {
                    let key = IString::read_lenient(r)?;
                    r.sp()?;
                    params.push((key, NString::read(r)?));
                    if r.peek() == Some(b' ') {
                        r.sp()?;
                    } else {
                        break;
                    }
                }
            }
            r.expect(b')', ")")?;
            Ok(Data::Id(Some(params)))
        } else if is("ENABLED") {
            let mut caps = List::new();
            while sp_follows(r) {
                r.sp()?;
                caps.push(Capability::read(r)?);
            }
            Ok(Data::Enabled(caps))
        } else if is("QUOTA") {
            r.sp()?;
            let root = AString::read(r)?;
            r.sp()?;
            r.expect(b'(', "(")?;
            let mut resources = List::new();
            if r.peek() != Some(b')') {
                resources.push(QuotaResource::read(r)?);
                while r.peek() == Some(b' ') {
                    r.sp()?;
                    resources.push(QuotaResource::read(r)?);
                }
            }
            r.expect(b')', ")")?;
            Ok(Data::Quota { root, resources })
        } else if is("QUOTAROOT") {
            r.sp()?;
            let mailbox = Mailbox::read(r)?;
            let mut roots = List::new();
            while sp_follows(r) {
                r.sp()?;
                roots.push(AString::read(r)?);
            }
            Ok(Data::QuotaRoot { mailbox, roots })
        } else {
            let name =
                Atom::new(name).map_err(|_| ParseError::new(start, "atom", ErrorKind::Syntax))?;
            Ok(Data::Other {
                name,
                raw: RawValue(Cow::Borrowed(read_raw_rest(r, start)?)),
            })
        }
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> Data<'static> {
        match self {
            Data::Capability(l) => Data::Capability(l.map(Capability::into_static)),
            Data::List(l) => Data::List(l.into_static()),
            Data::Lsub(l) => Data::Lsub(l.into_static()),
            Data::Status { mailbox, items } => Data::Status {
                mailbox: mailbox.into_static(),
                items: items.map(StatusValue::into_static),
            },
            Data::Search { ids, modseq } => Data::Search { ids, modseq },
            Data::ESearch(e) => Data::ESearch(e.into_static()),
            Data::Sort { ids, modseq } => Data::Sort { ids, modseq },
            Data::Thread(t) => Data::Thread(t),
            Data::Flags(l) => Data::Flags(l.map(Flag::into_static)),
            Data::Exists(n) => Data::Exists(n),
            Data::Recent(n) => Data::Recent(n),
            Data::Expunge(n) => Data::Expunge(n),
            Data::Vanished { earlier, uids } => Data::Vanished { earlier, uids },
            Data::Fetch { seq, items } => Data::Fetch {
                seq,
                items: items.map(MessageDataItem::into_static),
            },
            Data::Namespace(n) => Data::Namespace(n.into_static()),
            Data::Id(p) => Data::Id(p.map(|p| {
                p.into_iter()
                    .map(|(k, v)| (k.into_static(), v.into_static()))
                    .collect()
            })),
            Data::Enabled(l) => Data::Enabled(l.map(Capability::into_static)),
            Data::Quota { root, resources } => Data::Quota {
                root: root.into_static(),
                resources: resources.map(QuotaResource::into_static),
            },
            Data::QuotaRoot { mailbox, roots } => Data::QuotaRoot {
                mailbox: mailbox.into_static(),
                roots: roots.map(AString::into_static),
            },
            Data::Other { name, raw } => Data::Other {
                name: name.into_static(),
                raw: raw.into_static(),
            },
        }
    }
}

impl Encode for Data<'_> {
    fn encode(&self, w: &mut Writer) {
        w.raw(b"* ");
        match self {
            Data::Capability(l) => {
                w.raw(b"CAPABILITY");
                for c in l {
                    w.sp();
                    c.encode(w);
                }
            }
            Data::List(l) => {
                w.raw(b"LIST ");
                l.encode(w);
            }
            Data::Lsub(l) => {
                w.raw(b"LSUB ");
                l.encode(w);
            }
            Data::Status { mailbox, items } => {
                w.raw(b"STATUS ");
                mailbox.encode(w);
                w.sp();
                encode_list(w, items);
            }
            Data::Search { ids, modseq } => encode_ids(w, "SEARCH", ids, *modseq),
            Data::Sort { ids, modseq } => encode_ids(w, "SORT", ids, *modseq),
            Data::ESearch(e) => e.encode(w),
            Data::Thread(t) => {
                w.raw(b"THREAD");
                if !t.is_empty() {
                    w.sp();
                    for t in t {
                        t.encode(w);
                    }
                }
            }
            Data::Flags(l) => {
                w.raw(b"FLAGS ");
                encode_list(w, l);
            }
            Data::Exists(n) => {
                w.number(u64::from(*n));
                w.raw(b" EXISTS");
            }
            Data::Recent(n) => {
                w.number(u64::from(*n));
                w.raw(b" RECENT");
            }
            Data::Expunge(n) => {
                w.number(u64::from(n.get()));
                w.raw(b" EXPUNGE");
            }
            Data::Vanished { earlier, uids } => {
                w.raw(if *earlier {
                    b"VANISHED (EARLIER) "
                } else {
                    b"VANISHED "
                });
                uids.encode(w);
            }
            Data::Fetch { seq, items } => {
                w.number(u64::from(seq.get()));
                w.raw(b" FETCH ");
                encode_list(w, items);
            }
            Data::Namespace(n) => n.encode(w),
            Data::Id(None) => w.raw(b"ID NIL"),
            Data::Id(Some(params)) => {
                w.raw(b"ID (");
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
            Data::Enabled(l) => {
                w.raw(b"ENABLED");
                for c in l {
                    w.sp();
                    c.encode(w);
                }
            }
            Data::Quota { root, resources } => {
                w.raw(b"QUOTA ");
                root.encode(w);
                w.sp();
                encode_list(w, resources);
            }
            Data::QuotaRoot { mailbox, roots } => {
                w.raw(b"QUOTAROOT ");
                mailbox.encode(w);
                for root in roots {
                    w.sp();
                    root.encode(w);
                }
            }
            Data::Other { raw, .. } => w.raw(raw.as_bytes()),
        }
        w.crlf();
    }
}

/// The rest of an unknown response: everything from `start` up to the final CRLF of the
/// message. A CRLF before the end must close a literal header (`{n}`, `{n+}`, `~{n}`), whose
/// `n` octets are then skipped, as the framer cut the message.
fn read_raw_rest<'a>(r: &mut Reader<'a>, start: usize) -> PResult<&'a [u8]> {
    let input = r.input();
    let mut pos = r.pos();
    loop {
        let rest = input.get(pos..).unwrap_or(&[]);
        let Some(i) = memchr::memchr2(b'\r', b'\n', rest) else {
            r.reset(input.len());
            return Err(r.error_kind("CRLF", ErrorKind::Incomplete));
        };
        let at = pos + i;
        if !rest.get(i..).is_some_and(|t| t.starts_with(b"\r\n")) {
            return Err(ParseError::new(at, "CRLF", ErrorKind::Syntax));
        }
        if at + 2 == input.len() {
            if crate::core::ends_like_literal_header(input.get(start..at).unwrap_or(&[])) {
                return Err(ParseError::new(at - 1, "end of message", ErrorKind::Syntax));
            }
            r.reset(at);
            return Ok(input.get(start..at).unwrap_or(&[]));
        }
        let line = input.get(start..at).unwrap_or(&[]);
        let n = literal_header_len(line)
            .ok_or_else(|| ParseError::new(at, "end of message", ErrorKind::Syntax))?;
        pos = (at + 2).saturating_add(n);
        if pos > input.len() {
            r.reset(input.len());
            return Err(r.error_kind("literal data", ErrorKind::Incomplete));
        }
    }
}

/// The length of the literal whose header (`{n}`, `{n+}`) ends `line`.
fn literal_header_len(line: &[u8]) -> Option<usize> {
    let inner = line.strip_suffix(b"}")?;
    let inner = inner.strip_suffix(b"+").unwrap_or(inner);
    let digits_at = inner.iter().rposition(|b| !b.is_ascii_digit())? + 1;
    let (head, digits) = inner.split_at(digits_at);
    if digits.is_empty() || !head.ends_with(b"{") {
        return None;
    }
    digits.iter().try_fold(0usize, |v, &d| {
        v.checked_mul(10)?.checked_add(usize::from(d - b'0'))
    })
}

/// `*(SP capability)` after CAPABILITY.
fn read_capabilities<'a>(r: &mut Reader<'a>) -> PResult<List<Capability<'a>>> {
    let mut caps = List::new();
    while sp_follows(r) {
        r.sp()?;
        caps.push(Capability::read(r)?);
    }
    Ok(caps)
}

/// `*(SP nz-number) [SP search-sort-mod-seq]` after SEARCH or SORT.
fn read_ids(r: &mut Reader<'_>) -> PResult<(Vec<NonZeroU32>, Option<u64>)> {
    let mut ids = Vec::new();
    let mut modseq = None;
    while sp_follows(r) {
        r.sp()?;
        if r.eat(b'(') {
            r.expect_keyword("MODSEQ", "MODSEQ")?;
            r.sp()?;
            modseq = Some(r.number64()?);
            r.expect(b')', ")")?;
            break;
        }
        ids.push(r.nz_number()?);
    }
    Ok((ids, modseq))
}

fn encode_ids(w: &mut Writer, name: &str, ids: &[NonZeroU32], modseq: Option<u64>) {
    w.raw(name.as_bytes());
    for id in ids {
        w.sp();
        w.number(u64::from(id.get()));
    }
    if let Some(m) = modseq {
        w.raw(b" (MODSEQ ");
        w.number(m);
        w.byte(b')');
    }
}

/// The hierarchy delimiter of a LIST response or namespace: `QUOTED-CHAR` (any text
/// character; `"` and `\` are escaped on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Delimiter(char);

impl Delimiter {
    /// A delimiter: any character but CR, LF and NUL.
    pub fn new(c: char) -> Result<Delimiter, ValidationError> {
        if matches!(c, '\r' | '\n' | '\0') {
            return Err(ValidationError::new(
                "delimiter",
                "CR, LF and NUL are not text",
            ));
        }
        Ok(Delimiter(c))
    }

    /// The character.
    pub fn as_char(self) -> char {
        self.0
    }

    /// `DQUOTE QUOTED-CHAR DQUOTE / nil`.
    fn read_opt(r: &mut Reader<'_>) -> PResult<Option<Delimiter>> {
        if r.keyword("NIL") {
            return Ok(None);
        }
        r.expect(b'"', "quoted delimiter or NIL")?;
        let at = r.pos();
        let c = if r.eat(b'\\') {
            match r.next_byte() {
                Some(b @ (b'"' | b'\\')) => char::from(b),
                _ => {
                    return Err(ParseError::new(
                        at,
                        "quoted-specials after \\",
                        ErrorKind::Syntax,
                    ));
                }
            }
        } else {
            let rest = r.rest();
            let len = match rest.first() {
                Some(&b) if b < 0x80 => 1,
                Some(&b) if b >= 0xf0 => 4,
                Some(&b) if b >= 0xe0 => 3,
                Some(_) => 2,
                None => return Err(r.error_kind("QUOTED-CHAR", ErrorKind::Incomplete)),
            };
            let bytes = r.take(len, "QUOTED-CHAR")?;
            let c = std::str::from_utf8(bytes)
                .ok()
                .and_then(|s| s.chars().next())
                .ok_or_else(|| ParseError::new(at, "QUOTED-CHAR", ErrorKind::Encoding))?;
            if matches!(c, '"' | '\\' | '\r' | '\n' | '\0') {
                return Err(ParseError::new(at, "QUOTED-CHAR", ErrorKind::Syntax));
            }
            c
        };
        r.expect(b'"', "\"")?;
        Ok(Some(Delimiter(c)))
    }

    fn encode_opt(d: Option<Delimiter>, w: &mut Writer) {
        match d {
            None => w.raw(b"NIL"),
            Some(Delimiter(c)) => {
                w.byte(b'"');
                if matches!(c, '"' | '\\') {
                    w.byte(b'\\');
                }
                let mut buf = [0u8; 4];
                w.raw(c.encode_utf8(&mut buf).as_bytes());
                w.byte(b'"');
            }
        }
    }
}

/// `mailbox-list` (RFC 3501 / RFC 9051 section 9, RFC 5258 section 9):
/// `"(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox
/// [SP mbox-list-extended]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListData<'a> {
    /// The name attributes (`\Noselect`, `\HasChildren`, `\Sent`, ...).
    pub attributes: List<MailboxAttribute<'a>, 2>,
    /// The hierarchy delimiter, `None` for `NIL` (a flat name space).
    pub delimiter: Option<Delimiter>,
    /// The mailbox name.
    pub mailbox: Mailbox<'a>,
    /// The extended data items (RFC 5258); encoded only when there are some.
    pub extended: List<ListExtendedItem<'a>, 1>,
}

impl<'a> ListData<'a> {
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<ListData<'a>> {
        let attributes = crate::flag::read_mailbox_attribute_list(r)?;
        r.sp()?;
        let delimiter = Delimiter::read_opt(r)?;
        r.sp()?;
        let mailbox = Mailbox::read(r)?;
        let mut extended = List::new();
        if sp_follows(r) {
            r.sp()?;
            r.expect(b'(', "(")?;
            r.enter()?;
            if r.peek() != Some(b')') {
                extended.push(ListExtendedItem::read(r)?);
                while r.peek() == Some(b' ') {
                    r.sp()?;
                    extended.push(ListExtendedItem::read(r)?);
                }
            }
            r.expect(b')', ")")?;
            r.leave();
        }
        Ok(ListData {
            attributes,
            delimiter,
            mailbox,
            extended,
        })
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> ListData<'static> {
        ListData {
            attributes: self.attributes.map(MailboxAttribute::into_static),
            delimiter: self.delimiter,
            mailbox: self.mailbox.into_static(),
            extended: self.extended.map(ListExtendedItem::into_static),
        }
    }
}

/// Writes the `mailbox-list` (without `LIST ` and CRLF).
impl Encode for ListData<'_> {
    fn encode(&self, w: &mut Writer) {
        encode_list(w, &self.attributes);
        w.sp();
        Delimiter::encode_opt(self.delimiter, w);
        w.sp();
        self.mailbox.encode(w);
        if !self.extended.is_empty() {
            w.sp();
            encode_list(w, &self.extended);
        }
    }
}

/// `mbox-list-extended-item` (RFC 5258 section 9, RFC 9051 section 9).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListExtendedItem<'a> {
    /// `"CHILDINFO" ("SUBSCRIBED" ...)`: why a non-matching parent is listed (RFC 5258
    /// section 3.5). The options are atoms, sent quoted.
    ChildInfo(List<Atom<'a>, 1>),
    /// `"OLDNAME" (mailbox)`: the name before a RENAME (RFC 9051 section 6.3.9).
    OldName(Mailbox<'a>),
    /// Any other item: its tag, and its value (`tagged-ext-val`) as sent.
    Other {
        /// `mbox-list-extended-item-tag`.
        tag: AString<'a>,
        /// The `tagged-ext-val`, as sent.
        raw: RawValue<'a>,
    },
}

impl<'a> ListExtendedItem<'a> {
    fn read(r: &mut Reader<'a>) -> PResult<ListExtendedItem<'a>> {
        let tag = AString::read(r)?;
        r.sp()?;
        let value_at = r.pos();
        let known = if tag.data().eq_ignore_ascii_case(b"CHILDINFO") {
            Self::read_childinfo(r).map(ListExtendedItem::ChildInfo)
        } else if tag.data().eq_ignore_ascii_case(b"OLDNAME") {
            (|| {
                r.expect(b'(', "(")?;
                let m = Mailbox::read(r)?;
                r.expect(b')', ")")?;
                Ok(ListExtendedItem::OldName(m))
            })()
        } else {
            Err(r.error("known item"))
        };
        match known {
            Ok(item) if matches!(r.peek(), Some(b' ' | b')')) => return Ok(item),
            Err(e) if e.kind() == ErrorKind::TooDeep => return Err(e),
            _ => r.reset(value_at),
        }
        let raw = read_tagged_ext_val(r)?;
        Ok(ListExtendedItem::Other {
            tag,
            raw: RawValue(Cow::Borrowed(raw)),
        })
    }

    fn read_childinfo(r: &mut Reader<'a>) -> PResult<List<Atom<'a>, 1>> {
        r.expect(b'(', "(")?;
        let mut opts = List::new();
        loop {
            r.expect(b'"', "quoted option")?;
            let at = r.pos();
            let a = r.atom()?;
            opts.push(Atom::new(a).map_err(|_| ParseError::new(at, "atom", ErrorKind::Syntax))?);
            r.expect(b'"', "\"")?;
            if r.peek() == Some(b' ') {
                r.sp()?;
            } else {
                break;
            }
        }
        r.expect(b')', ")")?;
        Ok(opts)
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> ListExtendedItem<'static> {
        match self {
            ListExtendedItem::ChildInfo(l) => ListExtendedItem::ChildInfo(l.map(Atom::into_static)),
            ListExtendedItem::OldName(m) => ListExtendedItem::OldName(m.into_static()),
            ListExtendedItem::Other { tag, raw } => ListExtendedItem::Other {
                tag: tag.into_static(),
                raw: raw.into_static(),
            },
        }
    }
}

impl Encode for ListExtendedItem<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            ListExtendedItem::ChildInfo(opts) => {
                w.raw(b"\"CHILDINFO\" (");
                for (i, o) in opts.iter().enumerate() {
                    if i > 0 {
                        w.sp();
                    }
                    w.byte(b'"');
                    w.raw(o.as_str().as_bytes());
                    w.byte(b'"');
                }
                w.byte(b')');
            }
            ListExtendedItem::OldName(m) => {
                w.raw(b"\"OLDNAME\" (");
                m.encode(w);
                w.byte(b')');
            }
            ListExtendedItem::Other { tag, raw } => {
                tag.encode(w);
                w.sp();
                w.raw(raw.as_bytes());
            }
        }
    }
}

/// The bytes of a value this crate does not know, kept as sent: the `tagged-ext-val` of an
/// unknown STATUS, ESEARCH, LIST-EXTENDED or FETCH item, or the rest of an unknown untagged
/// response ([`Data::Other`]). The field is private: a value read from the wire reads back as
/// itself, and one built by [`RawValue::tagged_ext_val`] (or [`Data::other`]) is checked, so no
/// value can put a CRLF (outside a literal) on the wire. Dereferences to the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawValue<'a>(Cow<'a, [u8]>);

impl<'a> RawValue<'a> {
    /// A `tagged-ext-val` (RFC 4466 section 2.1): a sequence set, a number, or a
    /// parenthesised list of astrings and lists; refused unless the bytes are exactly one, or
    /// when they hold a non-synchronising literal (a server never sends one).
    pub fn tagged_ext_val(
        bytes: impl Into<Cow<'a, [u8]>>,
    ) -> Result<RawValue<'a>, ValidationError> {
        let bytes = bytes.into();
        let whole = reads_whole(&bytes, |r| read_tagged_ext_val(r).is_ok());
        if !whole || crate::core::ends_like_literal_header(&bytes) {
            return Err(ValidationError::new(
                "tagged-ext-val",
                "not one tagged-ext-val",
            ));
        }
        Ok(RawValue(bytes))
    }

    /// The value of an unknown FETCH item ([`MessageDataItem::Other`]): a number or other
    /// token, a quoted string, a literal, or a parenthesised list of these; refused unless
    /// the bytes are exactly one, or when they hold a non-synchronising literal.
    pub fn fetch_value(bytes: impl Into<Cow<'a, [u8]>>) -> Result<RawValue<'a>, ValidationError> {
        let bytes = bytes.into();
        if !reads_whole(&bytes, |r| crate::fetch::read_generic_value(r).is_ok()) {
            return Err(ValidationError::new("fetch item value", "not one value"));
        }
        Ok(RawValue(bytes))
    }

    /// A value a parser read (exactly these bytes).
    pub(crate) fn parsed(bytes: &'a [u8]) -> RawValue<'a> {
        RawValue(Cow::Borrowed(bytes))
    }

    /// The bytes, as sent.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, owned or borrowed as they are held.
    pub fn into_inner(self) -> Cow<'a, [u8]> {
        self.0
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> RawValue<'static> {
        RawValue(Cow::Owned(self.0.into_owned()))
    }

    /// `name SP value`: an unknown item as it is written (FETCH, STATUS, ESEARCH).
    pub(crate) fn encode_named(&self, name: &Atom<'_>, w: &mut Writer) {
        w.raw(name.as_str().as_bytes());
        w.sp();
        w.raw(&self.0);
    }
}

/// Whether `read` (which says whether it read a value) takes exactly `bytes`, read as a
/// server's value: no `{n+}` (RFC 7888 section 4).
fn reads_whole(bytes: &[u8], read: impl FnOnce(&mut Reader<'_>) -> bool) -> bool {
    let mut r = Reader::new(bytes, crate::parse::Quirks::STRICT);
    r.from_server = true;
    read(&mut r) && r.rest().is_empty()
}

impl std::ops::Deref for RawValue<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// `tagged-ext-val = tagged-ext-simple / "(" [tagged-ext-comp] ")"` (RFC 4466 section 2.1),
/// returned as the bytes it spans.
pub(crate) fn read_tagged_ext_val<'a>(r: &mut Reader<'a>) -> PResult<&'a [u8]> {
    let start = r.pos();
    if r.eat(b'(') {
        r.enter()?;
        if r.peek() != Some(b')') {
            read_tagged_ext_comp(r)?;
        }
        r.expect(b')', ")")?;
        r.leave();
    } else {
        let simple = r.take_while(|b| b.is_ascii_digit() || matches!(b, b':' | b',' | b'*' | b'$'));
        if simple.is_empty() {
            return Err(r.error("tagged-ext-val"));
        }
    }
    Ok(r.input().get(start..r.pos()).unwrap_or(&[]))
}

/// `tagged-ext-comp = astring / tagged-ext-comp *(SP tagged-ext-comp) / "(" tagged-ext-comp ")"`.
fn read_tagged_ext_comp(r: &mut Reader<'_>) -> PResult<()> {
    loop {
        if r.eat(b'(') {
            r.enter()?;
            read_tagged_ext_comp(r)?;
            r.expect(b')', ")")?;
            r.leave();
        } else {
            AString::read(r)?;
        }
        if r.peek() == Some(b' ') {
            r.sp()?;
        } else {
            return Ok(());
        }
    }
}

/// `status-att-val` (RFC 9051 section 9; RFC 7162 HIGHESTMODSEQ, RFC 8438 SIZE, RFC 7889
/// APPENDLIMIT).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusValue<'a> {
    /// `MESSAGES n`.
    Messages(u32),
    /// `RECENT n` (RFC 3501).
    Recent(u32),
    /// `UIDNEXT n`.
    UidNext(u32),
    /// `UIDVALIDITY n`.
    UidValidity(u32),
    /// `UNSEEN n`.
    Unseen(u32),
    /// `DELETED n` (RFC 9051).
    Deleted(u32),
    /// `DELETED-STORAGE n` (RFC 9208 section 4.2.2, number64): storage freed by an expunge
    /// of the messages with `\Deleted`, in units of 1024 octets.
    DeletedStorage(u64),
    /// `SIZE n` (RFC 8438, RFC 9051).
    Size(u64),
    /// `HIGHESTMODSEQ n` (RFC 7162).
    HighestModSeq(u64),
    /// `APPENDLIMIT n` or `APPENDLIMIT NIL` (RFC 7889).
    AppendLimit(Option<u32>),
    /// Any other item (`MAILBOXID (...)`, ...), its value as sent (`tagged-ext-val`).
    Other {
        /// The item's name.
        name: Atom<'a>,
        /// Its value, as sent.
        raw: RawValue<'a>,
    },
}

impl<'a> StatusValue<'a> {
    fn read(r: &mut Reader<'a>) -> PResult<StatusValue<'a>> {
        let at = r.pos();
        let name = r.atom()?;
        r.sp()?;
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        Ok(if is("MESSAGES") {
            StatusValue::Messages(r.number()?)
        } else if is("RECENT") {
            StatusValue::Recent(r.number()?)
        } else if is("UIDNEXT") {
            StatusValue::UidNext(r.number()?)
        } else if is("UIDVALIDITY") {
            StatusValue::UidValidity(r.number()?)
        } else if is("UNSEEN") {
            StatusValue::Unseen(r.number()?)
        } else if is("DELETED") {
            StatusValue::Deleted(r.number()?)
        } else if is("DELETED-STORAGE") {
            StatusValue::DeletedStorage(r.number64()?)
        } else if is("SIZE") {
            StatusValue::Size(r.number64()?)
        } else if is("HIGHESTMODSEQ") {
            StatusValue::HighestModSeq(r.number64()?)
        } else if is("APPENDLIMIT") {
            if r.keyword("NIL") {
                StatusValue::AppendLimit(None)
            } else {
                StatusValue::AppendLimit(Some(r.number()?))
            }
        } else {
            let name =
                Atom::new(name).map_err(|_| ParseError::new(at, "atom", ErrorKind::Syntax))?;
            StatusValue::Other {
                name,
                raw: RawValue(Cow::Borrowed(read_tagged_ext_val(r)?)),
            }
        })
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> StatusValue<'static> {
        match self {
            StatusValue::Other { name, raw } => StatusValue::Other {
                name: name.into_static(),
                raw: raw.into_static(),
            },
            StatusValue::Messages(n) => StatusValue::Messages(n),
            StatusValue::Recent(n) => StatusValue::Recent(n),
            StatusValue::UidNext(n) => StatusValue::UidNext(n),
            StatusValue::UidValidity(n) => StatusValue::UidValidity(n),
            StatusValue::Unseen(n) => StatusValue::Unseen(n),
            StatusValue::Deleted(n) => StatusValue::Deleted(n),
            StatusValue::DeletedStorage(n) => StatusValue::DeletedStorage(n),
            StatusValue::Size(n) => StatusValue::Size(n),
            StatusValue::HighestModSeq(n) => StatusValue::HighestModSeq(n),
            StatusValue::AppendLimit(n) => StatusValue::AppendLimit(n),
        }
    }
}

impl Encode for StatusValue<'_> {
    fn encode(&self, w: &mut Writer) {
        let (name, n): (&str, u64) = match self {
            StatusValue::Messages(n) => ("MESSAGES", (*n).into()),
            StatusValue::Recent(n) => ("RECENT", (*n).into()),
            StatusValue::UidNext(n) => ("UIDNEXT", (*n).into()),
            StatusValue::UidValidity(n) => ("UIDVALIDITY", (*n).into()),
            StatusValue::Unseen(n) => ("UNSEEN", (*n).into()),
            StatusValue::Deleted(n) => ("DELETED", (*n).into()),
            StatusValue::DeletedStorage(n) => ("DELETED-STORAGE", *n),
            StatusValue::Size(n) => ("SIZE", *n),
            StatusValue::HighestModSeq(n) => ("HIGHESTMODSEQ", *n),
            StatusValue::AppendLimit(Some(n)) => ("APPENDLIMIT", (*n).into()),
            StatusValue::AppendLimit(None) => {
                w.raw(b"APPENDLIMIT NIL");
                return;
            }
            StatusValue::Other { name, raw } => {
                raw.encode_named(name, w);
                return;
            }
        };
        w.raw(name.as_bytes());
        w.sp();
        w.number(n);
    }
}

/// `esearch-response` (RFC 4731, RFC 9051 section 9, RFC 7162 MODSEQ):
/// `"ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ESearch<'a> {
    /// `(TAG "...")`: the tag of the command this answers.
    pub tag: Option<AString<'a>>,
    /// The numbers are UIDs.
    pub uid: bool,
    /// The results.
    pub items: List<ESearchItem<'a>, 2>,
}

impl<'a> ESearch<'a> {
    fn read(r: &mut Reader<'a>) -> PResult<ESearch<'a>> {
        let mut tag = None;
        let mut uid = false;
        let mut items = List::new();
        if r.rest().starts_with(b" (") {
            r.sp()?;
            r.next_byte();
            r.expect_keyword("TAG", "TAG")?;
            r.sp()?;
            tag = Some(AString::read(r)?);
            r.expect(b')', ")")?;
        }
        while sp_follows(r) {
            r.sp()?;
            let at = r.pos();
            if items.is_empty() && !uid && r.keyword("UID") {
                uid = true;
                continue;
            }
            let name = r.atom()?;
            r.sp()?;
            let is = |n: &str| name.eq_ignore_ascii_case(n);
            items.push(if is("MIN") {
                ESearchItem::Min(r.nz_number()?)
            } else if is("MAX") {
                ESearchItem::Max(r.nz_number()?)
            } else if is("ALL") {
                ESearchItem::All(SequenceSet::read(r)?)
            } else if is("COUNT") {
                ESearchItem::Count(r.number()?)
            } else if is("MODSEQ") {
                ESearchItem::ModSeq(r.number64()?)
            } else {
                let name =
                    Atom::new(name).map_err(|_| ParseError::new(at, "atom", ErrorKind::Syntax))?;
                ESearchItem::Other {
                    name,
                    raw: RawValue(Cow::Borrowed(read_tagged_ext_val(r)?)),
                }
            });
        }
        Ok(ESearch { tag, uid, items })
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> ESearch<'static> {
        ESearch {
            tag: self.tag.map(AString::into_static),
            uid: self.uid,
            items: self.items.map(ESearchItem::into_static),
        }
    }
}

/// Writes `ESEARCH ...` (without `* ` and CRLF).
impl Encode for ESearch<'_> {
    fn encode(&self, w: &mut Writer) {
        w.raw(b"ESEARCH");
        if let Some(t) = &self.tag {
            w.raw(b" (TAG ");
            t.encode(w);
            w.byte(b')');
        }
        if self.uid {
            w.raw(b" UID");
        }
        for item in &self.items {
            w.sp();
            item.encode(w);
        }
    }
}

/// `search-return-data` (RFC 4731, RFC 9051, RFC 7162).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ESearchItem<'a> {
    /// `MIN n`.
    Min(NonZeroU32),
    /// `MAX n`.
    Max(NonZeroU32),
    /// `ALL sequence-set`.
    All(SequenceSet),
    /// `COUNT n`.
    Count(u32),
    /// `MODSEQ n` (RFC 7162).
    ModSeq(u64),
    /// Any other item, its value as sent (`tagged-ext-val`).
    Other {
        /// The item's name.
        name: Atom<'a>,
        /// Its value, as sent.
        raw: RawValue<'a>,
    },
}

impl ESearchItem<'_> {
    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> ESearchItem<'static> {
        match self {
            ESearchItem::Min(n) => ESearchItem::Min(n),
            ESearchItem::Max(n) => ESearchItem::Max(n),
            ESearchItem::All(s) => ESearchItem::All(s),
            ESearchItem::Count(n) => ESearchItem::Count(n),
            ESearchItem::ModSeq(n) => ESearchItem::ModSeq(n),
            ESearchItem::Other { name, raw } => ESearchItem::Other {
                name: name.into_static(),
                raw: raw.into_static(),
            },
        }
    }
}

impl Encode for ESearchItem<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            ESearchItem::Min(n) => {
                w.raw(b"MIN ");
                w.number(n.get().into());
            }
            ESearchItem::Max(n) => {
                w.raw(b"MAX ");
                w.number(n.get().into());
            }
            ESearchItem::All(s) => {
                w.raw(b"ALL ");
                s.encode(w);
            }
            ESearchItem::Count(n) => {
                w.raw(b"COUNT ");
                w.number((*n).into());
            }
            ESearchItem::ModSeq(n) => {
                w.raw(b"MODSEQ ");
                w.number(*n);
            }
            ESearchItem::Other { name, raw } => raw.encode_named(name, w),
        }
    }
}

/// One `thread-list` (RFC 5256 section 5): a chain of messages, each the parent of the next,
/// the last of which has two or more sub-threads (or none).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Thread {
    members: Vec<NonZeroU32>,
    children: Vec<Thread>,
}

impl Thread {
    /// A thread: `members` in parent-to-child order, then `children` branching off the last
    /// member. Refused: exactly one child (it would be written as more members), or no
    /// members and fewer than two children.
    pub fn new(members: Vec<NonZeroU32>, children: Vec<Thread>) -> Result<Thread, ValidationError> {
        if children.len() == 1 {
            return Err(ValidationError::new(
                "thread",
                "a single sub-thread continues the members",
            ));
        }
        if members.is_empty() && children.len() < 2 {
            return Err(ValidationError::new(
                "thread",
                "a thread without members has two sub-threads at least",
            ));
        }
        Ok(Thread { members, children })
    }

    /// The chain of messages.
    pub fn members(&self) -> &[NonZeroU32] {
        &self.members
    }

    /// The sub-threads below the last member.
    pub fn children(&self) -> &[Thread] {
        &self.children
    }

    /// `thread-list = "(" (thread-members / thread-nested) ")"`, where `thread-members =
    /// nz-number *(SP nz-number) [SP thread-nested]` and `thread-nested = 2*thread-list`.
    fn read(r: &mut Reader<'_>) -> PResult<Thread> {
        r.expect(b'(', "(")?;
        r.enter()?;
        let mut members = Vec::new();
        let mut children = Vec::new();
        if r.peek().is_some_and(|b| b.is_ascii_digit()) {
            members.push(r.nz_number()?);
            while r.peek() == Some(b' ') {
                r.sp()?;
                if r.peek() == Some(b'(') {
                    break;
                }
                members.push(r.nz_number()?);
            }
        }
        if r.peek() == Some(b'(') {
            let at = r.pos();
            while r.peek() == Some(b'(') {
                children.push(Thread::read(r)?);
            }
            if children.len() < 2 {
                return Err(ParseError::new(
                    at,
                    "thread-nested (2*thread-list)",
                    ErrorKind::Syntax,
                ));
            }
        }
        if members.is_empty() && children.is_empty() {
            return Err(r.error("nz-number or ("));
        }
        r.expect(b')', ")")?;
        r.leave();
        Ok(Thread { members, children })
    }
}

impl Encode for Thread {
    fn encode(&self, w: &mut Writer) {
        w.byte(b'(');
        for (i, m) in self.members.iter().enumerate() {
            if i > 0 {
                w.sp();
            }
            w.number(m.get().into());
        }
        if !self.children.is_empty() && !self.members.is_empty() {
            w.sp();
        }
        for c in &self.children {
            c.encode(w);
        }
        w.byte(b')');
    }
}

/// `namespace-response` (RFC 2342, RFC 9051 section 9): the personal, other users' and
/// shared namespaces, each `NIL` or one descriptor at least.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace<'a> {
    personal: Option<Vec<NamespaceDescr<'a>>>,
    other: Option<Vec<NamespaceDescr<'a>>>,
    shared: Option<Vec<NamespaceDescr<'a>>>,
}

impl<'a> Namespace<'a> {
    /// The three namespaces; a `Some` list must not be empty.
    pub fn new(
        personal: Option<Vec<NamespaceDescr<'a>>>,
        other: Option<Vec<NamespaceDescr<'a>>>,
        shared: Option<Vec<NamespaceDescr<'a>>>,
    ) -> Result<Namespace<'a>, ValidationError> {
        if [&personal, &other, &shared]
            .iter()
            .any(|n| n.as_ref().is_some_and(Vec::is_empty))
        {
            return Err(ValidationError::new(
                "namespace",
                "a namespace is NIL or one descriptor at least",
            ));
        }
        Ok(Namespace {
            personal,
            other,
            shared,
        })
    }

    /// The personal namespaces.
    pub fn personal(&self) -> Option<&[NamespaceDescr<'a>]> {
        self.personal.as_deref()
    }

    /// Other users' namespaces.
    pub fn other(&self) -> Option<&[NamespaceDescr<'a>]> {
        self.other.as_deref()
    }

    /// The shared namespaces.
    pub fn shared(&self) -> Option<&[NamespaceDescr<'a>]> {
        self.shared.as_deref()
    }

    /// After `NAMESPACE`: `SP namespace SP namespace SP namespace`.
    fn read(r: &mut Reader<'a>) -> PResult<Namespace<'a>> {
        r.sp()?;
        let personal = Self::read_one(r)?;
        r.sp()?;
        let other = Self::read_one(r)?;
        r.sp()?;
        let shared = Self::read_one(r)?;
        Ok(Namespace {
            personal,
            other,
            shared,
        })
    }

    /// `namespace = nil / "(" 1*namespace-descr ")"`.
    fn read_one(r: &mut Reader<'a>) -> PResult<Option<Vec<NamespaceDescr<'a>>>> {
        if r.keyword("NIL") {
            return Ok(None);
        }
        r.expect(b'(', "( or NIL")?;
        r.enter()?;
        let mut list = vec![NamespaceDescr::read(r)?];
        loop {
            if r.quirks.extra_spaces && r.rest().starts_with(b" (") {
                r.next_byte();
            }
            if r.peek() != Some(b'(') {
                break;
            }
            list.push(NamespaceDescr::read(r)?);
        }
        r.expect(b')', ")")?;
        r.leave();
        Ok(Some(list))
    }

    fn encode_one(n: &Option<Vec<NamespaceDescr<'_>>>, w: &mut Writer) {
        match n {
            None => w.raw(b"NIL"),
            Some(list) => {
                w.byte(b'(');
                for d in list {
                    d.encode(w);
                }
                w.byte(b')');
            }
        }
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> Namespace<'static> {
        let conv = |n: Option<Vec<NamespaceDescr<'a>>>| {
            n.map(|l| l.into_iter().map(NamespaceDescr::into_static).collect())
        };
        Namespace {
            personal: conv(self.personal),
            other: conv(self.other),
            shared: conv(self.shared),
        }
    }
}

/// Writes `NAMESPACE ...` (without `* ` and CRLF).
impl Encode for Namespace<'_> {
    fn encode(&self, w: &mut Writer) {
        w.raw(b"NAMESPACE ");
        Self::encode_one(&self.personal, w);
        w.sp();
        Self::encode_one(&self.other, w);
        w.sp();
        Self::encode_one(&self.shared, w);
    }
}

/// `namespace-descr = "(" string SP (DQUOTE QUOTED-CHAR DQUOTE / nil)
/// [namespace-response-extensions] ")"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceDescr<'a> {
    /// The prefix of the namespace's names.
    pub prefix: IString<'a>,
    /// The hierarchy delimiter, `None` for `NIL`.
    pub delimiter: Option<Delimiter>,
    /// Extension data (RFC 2342 section 6, e.g. `"TRANSLATION" ("...")`).
    pub extensions: List<NamespaceExtension<'a>>,
}

impl<'a> NamespaceDescr<'a> {
    fn read(r: &mut Reader<'a>) -> PResult<NamespaceDescr<'a>> {
        r.expect(b'(', "(")?;
        let prefix = IString::read_lenient(r)?;
        r.sp()?;
        let delimiter = Delimiter::read_opt(r)?;
        let mut extensions = List::new();
        while r.peek() == Some(b' ') {
            r.sp()?;
            extensions.push(NamespaceExtension::read(r)?);
        }
        r.expect(b')', ")")?;
        Ok(NamespaceDescr {
            prefix,
            delimiter,
            extensions,
        })
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> NamespaceDescr<'static> {
        NamespaceDescr {
            prefix: self.prefix.into_static(),
            delimiter: self.delimiter,
            extensions: self.extensions.map(NamespaceExtension::into_static),
        }
    }
}

impl Encode for NamespaceDescr<'_> {
    fn encode(&self, w: &mut Writer) {
        w.byte(b'(');
        self.prefix.encode(w);
        w.sp();
        Delimiter::encode_opt(self.delimiter, w);
        for e in &self.extensions {
            w.sp();
            e.encode(w);
        }
        w.byte(b')');
    }
}

/// `namespace-response-extension = SP string SP "(" string *(SP string) ")"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceExtension<'a> {
    name: IString<'a>,
    values: List<IString<'a>>,
}

impl<'a> NamespaceExtension<'a> {
    /// An extension with one value at least.
    pub fn new(
        name: IString<'a>,
        values: List<IString<'a>>,
    ) -> Result<NamespaceExtension<'a>, ValidationError> {
        if values.is_empty() {
            return Err(ValidationError::new(
                "namespace extension",
                "one value at least",
            ));
        }
        Ok(NamespaceExtension { name, values })
    }

    /// The extension's name.
    pub fn name(&self) -> &IString<'a> {
        &self.name
    }

    /// Its values.
    pub fn values(&self) -> &[IString<'a>] {
        &self.values
    }

    fn read(r: &mut Reader<'a>) -> PResult<NamespaceExtension<'a>> {
        let name = IString::read(r)?;
        r.sp()?;
        r.expect(b'(', "(")?;
        let mut values = List::new();
        values.push(IString::read(r)?);
        while r.peek() == Some(b' ') {
            r.sp()?;
            values.push(IString::read(r)?);
        }
        r.expect(b')', ")")?;
        Ok(NamespaceExtension { name, values })
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> NamespaceExtension<'static> {
        NamespaceExtension {
            name: self.name.into_static(),
            values: self.values.map(IString::into_static),
        }
    }
}

impl Encode for NamespaceExtension<'_> {
    fn encode(&self, w: &mut Writer) {
        self.name.encode(w);
        w.sp();
        encode_list(w, &self.values);
    }
}

/// A quota resource name (RFC 9208 section 5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Resource<'a> {
    /// `STORAGE`: the sum of messages' sizes, in units of 1024 octets.
    Storage,
    /// `MESSAGE`: the number of messages.
    Message,
    /// `MAILBOX`: the number of mailboxes.
    Mailbox,
    /// `ANNOTATION-STORAGE`: the size of annotations, in units of 1024 octets.
    AnnotationStorage,
    /// Any other resource (a name this crate does not know).
    Other(Atom<'a>),
}

impl<'a> Resource<'a> {
    /// The resource an atom names.
    pub fn from_atom(atom: Atom<'a>) -> Resource<'a> {
        let s = atom.as_str();
        if s.eq_ignore_ascii_case("STORAGE") {
            Resource::Storage
        } else if s.eq_ignore_ascii_case("MESSAGE") {
            Resource::Message
        } else if s.eq_ignore_ascii_case("MAILBOX") {
            Resource::Mailbox
        } else if s.eq_ignore_ascii_case("ANNOTATION-STORAGE") {
            Resource::AnnotationStorage
        } else {
            Resource::Other(atom)
        }
    }

    /// The name on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Resource::Storage => "STORAGE",
            Resource::Message => "MESSAGE",
            Resource::Mailbox => "MAILBOX",
            Resource::AnnotationStorage => "ANNOTATION-STORAGE",
            Resource::Other(a) => a.as_str(),
        }
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> Resource<'static> {
        match self {
            Resource::Storage => Resource::Storage,
            Resource::Message => Resource::Message,
            Resource::Mailbox => Resource::Mailbox,
            Resource::AnnotationStorage => Resource::AnnotationStorage,
            Resource::Other(a) => Resource::Other(a.into_static()),
        }
    }
}

/// `quota-resource = resource-name SP resource-usage SP resource-limit` (RFC 9208).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuotaResource<'a> {
    /// The resource.
    pub resource: Resource<'a>,
    /// Current usage.
    pub usage: u64,
    /// The limit.
    pub limit: u64,
}

impl<'a> QuotaResource<'a> {
    fn read(r: &mut Reader<'a>) -> PResult<QuotaResource<'a>> {
        let at = r.pos();
        let name = r.atom()?;
        let name = Atom::new(name).map_err(|_| ParseError::new(at, "atom", ErrorKind::Syntax))?;
        r.sp()?;
        let usage = r.number64()?;
        r.sp()?;
        let limit = r.number64()?;
        Ok(QuotaResource {
            resource: Resource::from_atom(name),
            usage,
            limit,
        })
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> QuotaResource<'static> {
        QuotaResource {
            resource: self.resource.into_static(),
            usage: self.usage,
            limit: self.limit,
        }
    }
}

impl Encode for QuotaResource<'_> {
    fn encode(&self, w: &mut Writer) {
        w.raw(self.resource.as_str().as_bytes());
        w.sp();
        w.number(self.usage);
        w.sp();
        w.number(self.limit);
    }
}
