//! FETCH data: body sections and partial ranges (shared with the FETCH command), and the
//! message data items of a FETCH response (RFC 3501 section 7.4.2, RFC 9051 section 7.5.2,
//! RFC 3516 BINARY, RFC 7162 CONDSTORE): flags, UID, dates, sizes, message text, the
//! [`Envelope`] and the [`BodyStructure`].

mod body;
mod envelope;
mod section;

pub use body::{
    BodyExtension, BodyFields, BodyStructure, Disposition, DispositionTail, ExtensionList,
    LanguageTail, Languages, LocationTail, MediaType, MessagePart, MultiPartExtension, Multipart,
    Parameters, PartKind, SinglePart, SinglePartExtension,
};
pub use envelope::{Address, AddressList, Envelope};
pub use section::{HeaderNames, HeaderNamesIter, Part, Partial, Section};
pub(crate) use section::{
    encode_section, encode_section_binary, read_section, read_section_binary,
};

use crate::core::{Atom, IString, Literal8, LiteralMode, NString, NString8, Quoted};
use crate::datetime::DateTime;
use crate::encode::{Encode, Writer};
use crate::error::{ErrorKind, ParseError};
use crate::flag::{FlagFetch, read_flag_fetch_list, write_list};
use crate::list::List;
use crate::parse::{PResult, Quirks, Reader};
use crate::response::RawValue;
use std::borrow::Cow;
use std::num::{NonZeroU32, NonZeroU64};

/// The value of a `BODY[section]<origin>` (or `RFC822`, `RFC822.HEADER`, `RFC822.TEXT`)
/// item holding `data`, for a server to send: an `nstring`, quoted when the octets allow
/// (short UTF-8 without CR, LF, NUL; [`IString::from_bytes`]), else a literal; `""` when
/// empty. No IMAP string may hold NUL (RFC 3501 and RFC 9051 section 4.3: `CHAR8` excludes
/// it), and a message may: each NUL is sent as the octet 0x80, as Dovecot does (`BINARY`,
/// [`binary_content`], sends it as it is). Never `NIL`.
///
/// ```
/// use imap_proto::fetch::{MessageDataItem, body_content};
/// use imap_proto::Encode;
///
/// let item = MessageDataItem::BodySection {
///     section: None,
///     origin: Some(10),
///     data: body_content(&b"a\0b\r\n"[..]),
/// };
/// assert_eq!(item.to_bytes(), b"BODY[]<10> {5}\r\na\x80b\r\n");
/// ```
pub fn body_content<'a>(data: impl Into<Cow<'a, [u8]>>) -> NString<'a> {
    let data = data.into();
    let data = if data.contains(&0) {
        Cow::Owned(
            data.iter()
                .map(|&b| if b == 0 { 0x80 } else { b })
                .collect(),
        )
    } else {
        data
    };
    // NUL replaced above: always a string.
    NString(IString::from_bytes(data).ok())
}

/// The value of a `BINARY[part]<origin>` item holding `data` (the decoded content), for a
/// server to send: a `literal8` (`~{n}`) when it holds NUL, which only a `literal8` may
/// carry (RFC 3516 section 4.2, RFC 9051 section 7.5.2 `BINARY`), or any other 8-bit octet
/// (as Dovecot does: the content is binary); otherwise an `nstring` as
/// [`body_content`] writes it (`""` when empty). Never `NIL`.
///
/// ```
/// use imap_proto::core::NString8;
/// use imap_proto::fetch::{MessageDataItem, binary_content};
/// use imap_proto::Encode;
///
/// let binary = binary_content(&b"\0\xff"[..]);
/// assert!(matches!(binary, NString8::Literal8(_)));
/// let item = MessageDataItem::Binary { section: None, origin: None, data: binary };
/// assert_eq!(item.to_bytes(), b"BINARY[] ~{2}\r\n\0\xff");
/// assert_eq!(binary_content(&b"text"[..]).to_bytes(), b"\"text\"");
/// ```
pub fn binary_content<'a>(data: impl Into<Cow<'a, [u8]>>) -> NString8<'a> {
    let data = data.into();
    if data.iter().any(|&b| b == 0 || b >= 0x80) {
        NString8::Literal8(Literal8::new(data, LiteralMode::Sync))
    } else {
        // No NUL: always a string.
        NString8::NString(NString(IString::from_bytes(data).ok()))
    }
}

/// One `msg-att` item of a FETCH response (RFC 3501 section 7.4.2, RFC 9051 section 7.5.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageDataItem<'a> {
    /// `FLAGS (...)`. Two flags are kept inline (no heap), so that the item, and the list of
    /// items of a FETCH response, stay small.
    Flags(List<FlagFetch<'a>, 2>),
    /// `UID n`.
    Uid(NonZeroU32),
    /// `INTERNALDATE "..."`.
    InternalDate(DateTime),
    /// `RFC822.SIZE n` (`number64` in RFC 9051; read up to 2^64 - 1).
    Rfc822Size(u64),
    /// `RFC822 nstring`: the whole message (IMAP4rev1).
    Rfc822(NString<'a>),
    /// `RFC822.HEADER nstring` (IMAP4rev1).
    Rfc822Header(NString<'a>),
    /// `RFC822.TEXT nstring` (IMAP4rev1).
    Rfc822Text(NString<'a>),
    /// `ENVELOPE (...)`.
    Envelope(Box<Envelope<'a>>),
    /// `BODY (...)`: the body structure without extension data (the extension fields are
    /// kept if a server sends them anyway).
    Body(Box<BodyStructure<'a>>),
    /// `BODYSTRUCTURE (...)`: the body structure with extension data.
    BodyStructure(Box<BodyStructure<'a>>),
    /// `BODY[section]<origin> nstring`: the content of a section.
    BodySection {
        /// The section; `None` for `BODY[]`, the whole message. Boxed, so that the items
        /// of a list (flags, UIDs) stay small.
        section: Option<Box<Section<'a>>>,
        /// The first octet when a partial range was fetched (`<origin>`).
        origin: Option<u32>,
        /// The content.
        data: NString<'a>,
    },
    /// `BINARY[part]<origin> (nstring / literal8)` (RFC 3516, RFC 9051): decoded content.
    Binary {
        /// The part; `None` for `BINARY[]`. Boxed, so that the items of a list (flags, UIDs)
        /// stay small; the item carries its content anyway.
        section: Option<Box<Part>>,
        /// The first octet when a partial range was fetched (`<origin>`, RFC 3516).
        origin: Option<u32>,
        /// The content.
        data: NString8<'a>,
    },
    /// `BINARY.SIZE[part] n` (RFC 3516, RFC 9051): the decoded size.
    BinarySize {
        /// The part; `None` for `BINARY.SIZE[]`.
        section: Option<Part>,
        /// The size in octets.
        size: u32,
    },
    /// `MODSEQ (n)` (RFC 7162 section 3.1.4: `mod-sequence-value`, 1 to 2^63 - 1; clamped
    /// with [`Quirks::clamp_numbers`]).
    ModSeq(NonZeroU64),
    /// An item this crate does not know (Gmail's `X-GM-MSGID`, RFC 8474 `EMAILID`, RFC 8970
    /// `PREVIEW`, RFC 8514 `SAVEDATE`, ...; RFC 9051 section 7.5.2 lets extensions add
    /// items), kept so that the response is not lost: its name and its value as sent (a
    /// number or other token, a string or `NIL`, a literal, or a parenthesised list of
    /// these). Build the value with [`RawValue::fetch_value`].
    Other {
        /// The item's name.
        name: Atom<'a>,
        /// Its value, as sent.
        value: RawValue<'a>,
    },
}

/// The items of one FETCH response (`Data::Fetch`): two are kept inline (`FLAGS` and `UID`,
/// the common pair, cost no heap), more spill to the heap.
pub type MsgAtt<'a> = List<MessageDataItem<'a>, 2>;

/// A number of up to 64 bits (clamped with [`Quirks::clamp_numbers`]). RFC 9051 caps
/// `number64` at 2^63 - 1; reading the full unsigned range keeps every `u64` value
/// encodable.
#[inline]
pub(crate) fn number_u64(r: &mut Reader<'_>) -> PResult<u64> {
    r.digits(u64::MAX, "number")
}

/// Consume `NIL` (in any case, not followed by a letter, digit, `.`, `-` or `_`) if it comes
/// next: the same test as `r.keyword("NIL")`, unrolled, because FETCH data is full of NILs.
#[inline(always)]
pub(crate) fn eat_nil(r: &mut Reader<'_>) -> bool {
    match r.rest() {
        [n, i, l, rest @ ..]
            if (n | 0x20) == b'n'
                && (i | 0x20) == b'i'
                && (l | 0x20) == b'l'
                && !rest.first().is_some_and(|&b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')
                }) =>
        {
            r.reset(r.pos() + 3);
            true
        }
        _ => false,
    }
}

/// `nstring`, as [`NString::read`] reads it, with the common cases (a plain quoted string,
/// `NIL`) inlined into the caller.
#[inline(always)]
pub(crate) fn nstring<'a>(r: &mut Reader<'a>) -> PResult<NString<'a>> {
    if let Some(data) = Quoted::read_plain(r) {
        return Ok(NString(Some(IString::Quoted(Quoted::from_plain(data)))));
    }
    if eat_nil(r) {
        return Ok(NString(None));
    }
    nstring_general(r)
}

#[inline(never)]
fn nstring_general<'a>(r: &mut Reader<'a>) -> PResult<NString<'a>> {
    match r.peek() {
        Some(b'"' | b'{') => IString::read(r).map(|s| NString(Some(s))),
        _ => NString::read(r),
    }
}

/// `nstring` into `out` (built in place rather than moved there). The common case, a plain
/// quoted string, is inlined into the caller; the rest is [`nstring_into_general`].
#[inline(always)]
pub(crate) fn nstring_into<'a>(r: &mut Reader<'a>, out: &mut NString<'a>) -> PResult<()> {
    if let Some(data) = Quoted::read_plain(r) {
        out.0 = Some(IString::Quoted(Quoted::from_plain(data)));
        return Ok(());
    }
    if eat_nil(r) {
        out.0 = None;
        return Ok(());
    }
    nstring_into_general(r, out)
}

#[inline(never)]
fn nstring_into_general<'a>(r: &mut Reader<'a>, out: &mut NString<'a>) -> PResult<()> {
    *out = match r.peek() {
        Some(b'"' | b'{') => NString(Some(IString::read(r)?)),
        _ => NString::read(r)?,
    };
    Ok(())
}

/// A `string` of the response grammar: with [`Quirks::nil_as_string`], `NIL` reads as the
/// empty string ([`IString::read_lenient`]). The common case, a plain quoted string, is
/// inlined into the caller.
#[inline(always)]
pub(crate) fn string<'a>(r: &mut Reader<'a>) -> PResult<IString<'a>> {
    if let Some(data) = Quoted::read_plain(r) {
        return Ok(IString::Quoted(Quoted::from_plain(data)));
    }
    string_general(r)
}

/// [`string`] into `out`, built in place (for values that go straight into a list).
#[inline(always)]
pub(crate) fn string_into<'a>(r: &mut Reader<'a>, out: &mut IString<'a>) -> PResult<()> {
    if let Some(data) = Quoted::read_plain(r) {
        *out = IString::Quoted(Quoted::from_plain(data));
        return Ok(());
    }
    *out = string_general(r)?;
    Ok(())
}

/// An empty string, a placeholder for a slot that [`string_into`] fills.
#[inline(always)]
pub(crate) fn empty_string<'a>() -> IString<'a> {
    IString::Quoted(Quoted::from_plain(&[]))
}

#[inline(never)]
fn string_general<'a>(r: &mut Reader<'a>) -> PResult<IString<'a>> {
    match r.peek() {
        Some(b'"' | b'{') => IString::read(r),
        _ => IString::read_lenient(r),
    }
}

/// `["<" number ">"]` after a section.
fn read_origin(r: &mut Reader<'_>) -> PResult<Option<u32>> {
    if r.eat(b'<') {
        let n = r.number()?;
        r.expect(b'>', "\">\"")?;
        Ok(Some(n))
    } else {
        Ok(None)
    }
}

fn encode_origin(origin: Option<u32>, w: &mut Writer) {
    if let Some(o) = origin {
        w.byte(b'<');
        w.number(u64::from(o));
        w.byte(b'>');
    }
}

impl<'a> MessageDataItem<'a> {
    /// Parse `input`, which must be exactly one item (`UID 4`), accepting `quirks`.
    pub fn parse_with(input: &'a [u8], quirks: Quirks) -> Result<Self, ParseError> {
        parse_whole_with(input, quirks, Self::read)
    }

    /// One `msg-att-dynamic` or `msg-att-static` item. The name is taken as one word (letters,
    /// digits, `.`, `-`, `_`, as `Reader::keyword` delimits it) and matched case-insensitively
    /// by length first: one pass over the name instead of one keyword test per candidate.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        use MessageDataItem as M;
        let start = r.pos();
        let name = r.take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        let is = |kw: &[u8]| name.eq_ignore_ascii_case(kw);
        match name.len() {
            5 if is(b"FLAGS") => {
                r.sp()?;
                read_flag_fetch_list(r).map(M::Flags)
            }
            3 if is(b"UID") => {
                r.sp()?;
                r.nz_number().map(M::Uid)
            }
            12 if is(b"INTERNALDATE") => {
                r.sp()?;
                DateTime::read(r).map(M::InternalDate)
            }
            8 if is(b"ENVELOPE") => {
                r.sp()?;
                let mut e = Box::<Envelope<'a>>::default();
                e.read_into(r)?;
                Ok(M::Envelope(e))
            }
            6 if is(b"MODSEQ") => {
                r.sp()?;
                r.expect(b'(', "\"(\"")?;
                let at = r.pos();
                let n = NonZeroU64::new(r.number64()?)
                    .ok_or_else(|| ParseError::new(at, "mod-sequence-value", ErrorKind::Number))?;
                r.expect(b')', "\")\"")?;
                Ok(M::ModSeq(n))
            }
            11 if is(b"RFC822.SIZE") => {
                r.sp()?;
                r.number64().map(M::Rfc822Size)
            }
            13 if is(b"RFC822.HEADER") => {
                r.sp()?;
                nstring(r).map(M::Rfc822Header)
            }
            11 if is(b"RFC822.TEXT") => {
                r.sp()?;
                nstring(r).map(M::Rfc822Text)
            }
            6 if is(b"RFC822") => {
                r.sp()?;
                nstring(r).map(M::Rfc822)
            }
            13 if is(b"BODYSTRUCTURE") => {
                r.sp()?;
                BodyStructure::read_boxed(r).map(M::BodyStructure)
            }
            4 if is(b"BODY") => {
                if r.peek() == Some(b'[') {
                    let section = read_section(r)?.map(Box::new);
                    let origin = read_origin(r)?;
                    r.sp()?;
                    let data = nstring(r)?;
                    Ok(M::BodySection {
                        section,
                        origin,
                        data,
                    })
                } else {
                    r.sp()?;
                    BodyStructure::read_boxed(r).map(M::Body)
                }
            }
            11 if is(b"BINARY.SIZE") => {
                let section = read_section_binary(r)?;
                r.sp()?;
                let size = r.number()?;
                Ok(M::BinarySize { section, size })
            }
            6 if is(b"BINARY") => {
                let section = read_section_binary(r)?.map(Box::new);
                let origin = read_origin(r)?;
                r.sp()?;
                let data = NString8::read(r)?;
                Ok(M::Binary {
                    section,
                    origin,
                    data,
                })
            }
            _ => {
                // an unknown item: `name SP value`, kept as sent
                let has_value = !name.is_empty() && r.peek() == Some(b' ');
                let atom = std::str::from_utf8(name)
                    .ok()
                    .and_then(|n| Atom::new(n).ok());
                match atom.filter(|_| has_value) {
                    Some(name) => {
                        r.sp()?;
                        let value = read_generic_value(r)?;
                        Ok(M::Other {
                            name,
                            value: RawValue::parsed(value),
                        })
                    }
                    None => {
                        r.reset(start);
                        Err(r.error("msg-att"))
                    }
                }
            }
        }
    }

    /// The same item, owning its data.
    pub fn into_static(self) -> MessageDataItem<'static> {
        use MessageDataItem as M;
        match self {
            M::Flags(f) => M::Flags(f.map(FlagFetch::into_static)),
            M::Uid(u) => M::Uid(u),
            M::InternalDate(d) => M::InternalDate(d),
            M::Rfc822Size(n) => M::Rfc822Size(n),
            M::Rfc822(s) => M::Rfc822(s.into_static()),
            M::Rfc822Header(s) => M::Rfc822Header(s.into_static()),
            M::Rfc822Text(s) => M::Rfc822Text(s.into_static()),
            M::Envelope(e) => M::Envelope(Box::new(e.into_static())),
            M::Body(b) => M::Body(Box::new(b.into_static())),
            M::BodyStructure(b) => M::BodyStructure(Box::new(b.into_static())),
            M::BodySection {
                section,
                origin,
                data,
            } => M::BodySection {
                section: section.map(|s| Box::new(s.into_static())),
                origin,
                data: data.into_static(),
            },
            M::Binary {
                section,
                origin,
                data,
            } => M::Binary {
                section,
                origin,
                data: data.into_static(),
            },
            M::BinarySize { section, size } => M::BinarySize { section, size },
            M::ModSeq(n) => M::ModSeq(n),
            M::Other { name, value } => M::Other {
                name: name.into_static(),
                value: value.into_static(),
            },
        }
    }
}

impl Encode for MessageDataItem<'_> {
    fn encode(&self, w: &mut Writer) {
        use MessageDataItem as M;
        match self {
            M::Flags(f) => {
                w.raw(b"FLAGS ");
                write_list(w, f);
            }
            M::Uid(u) => {
                w.raw(b"UID ");
                w.number(u64::from(u.get()));
            }
            M::InternalDate(d) => {
                w.raw(b"INTERNALDATE ");
                d.encode(w);
            }
            M::Rfc822Size(n) => {
                w.raw(b"RFC822.SIZE ");
                w.number(*n);
            }
            M::Rfc822(s) => {
                w.raw(b"RFC822 ");
                s.encode(w);
            }
            M::Rfc822Header(s) => {
                w.raw(b"RFC822.HEADER ");
                s.encode(w);
            }
            M::Rfc822Text(s) => {
                w.raw(b"RFC822.TEXT ");
                s.encode(w);
            }
            M::Envelope(e) => {
                w.raw(b"ENVELOPE ");
                e.encode(w);
            }
            M::Body(b) => {
                w.raw(b"BODY ");
                b.encode(w);
            }
            M::BodyStructure(b) => {
                w.raw(b"BODYSTRUCTURE ");
                b.encode(w);
            }
            M::BodySection {
                section,
                origin,
                data,
            } => {
                w.raw(b"BODY");
                encode_section(section.as_deref(), w);
                encode_origin(*origin, w);
                w.sp();
                data.encode(w);
            }
            M::Binary {
                section,
                origin,
                data,
            } => {
                w.raw(b"BINARY");
                encode_section_binary(section.as_deref(), w);
                encode_origin(*origin, w);
                w.sp();
                data.encode(w);
            }
            M::BinarySize { section, size } => {
                w.raw(b"BINARY.SIZE");
                encode_section_binary(section.as_ref(), w);
                w.sp();
                w.number(u64::from(*size));
            }
            M::ModSeq(n) => {
                w.raw(b"MODSEQ (");
                w.number(n.get());
                w.byte(b')');
            }
            M::Other { name, value } => value.encode_named(name, w),
        }
    }
}

/// The parenthesised `msg-att` list of a FETCH response: `"(" (msg-att-dynamic /
/// msg-att-static) *(SP (msg-att-dynamic / msg-att-static)) ")"`. With
/// [`Quirks::extra_spaces`], runs of spaces between items and a space before the closing
/// parenthesis are accepted.
pub(crate) fn read_msg_att<'a>(r: &mut Reader<'a>) -> PResult<MsgAtt<'a>> {
    r.expect(b'(', "\"(\"")?;
    let mut items = MsgAtt::new();
    loop {
        if items.len() == 2 {
            // A response with more items than the two kept inline usually has several more (UID,
            // RFC822.SIZE, FLAGS, INTERNALDATE, ENVELOPE, BODYSTRUCTURE): one allocation
            // for eight rather than growing 2 -> 4 -> 8.
            items.reserve(8 - items.len());
        }
        items.push(MessageDataItem::read(r)?);
        if r.peek() != Some(b' ') {
            break;
        }
        r.sp()?;
        if r.quirks.extra_spaces && r.peek() == Some(b')') {
            break;
        }
    }
    r.expect(b')', "SP or \")\"")?;
    Ok(items)
}

/// Write the parenthesised `msg-att` list.
pub fn encode_msg_att(items: &[MessageDataItem<'_>], w: &mut Writer) {
    write_list(w, items);
}

/// Parse a whole `msg-att` list, `(FLAGS (\Seen) UID 4 ...)`, the part of a
/// `* n FETCH (...)` response after `FETCH `; `input` must hold nothing else (no CRLF). A
/// response parser reads the same list inside the whole line.
pub fn parse_msg_att(input: &[u8], quirks: Quirks) -> Result<MsgAtt<'_>, ParseError> {
    parse_whole_with(input, quirks, read_msg_att)
}

/// Parse all of `input` with `read` under `quirks`; bytes after the value are an error at
/// their offset.
fn parse_whole_with<'a, T>(
    input: &'a [u8],
    quirks: Quirks,
    read: impl FnOnce(&mut Reader<'a>) -> PResult<T>,
) -> Result<T, ParseError> {
    let mut r = Reader::new(input, quirks);
    r.from_server = true;
    let value = read(&mut r)?;
    if r.is_empty() {
        Ok(value)
    } else {
        Err(r.error("end of input"))
    }
}

/// The value of an unknown FETCH item, as the bytes it spans: a string (quoted or literal),
/// a literal8, or a parenthesised list of values separated by single spaces, or a token (a
/// number, `NIL`, an atom, a flag: printable ASCII but SP, `(`, `)`, `"`, `{`).
pub(crate) fn read_generic_value<'a>(r: &mut Reader<'a>) -> PResult<&'a [u8]> {
    let start = r.pos();
    read_generic_value_inner(r)?;
    Ok(r.input().get(start..r.pos()).unwrap_or(&[]))
}

fn read_generic_value_inner(r: &mut Reader<'_>) -> PResult<()> {
    match r.peek() {
        Some(b'(') => {
            r.eat(b'(');
            r.enter()?;
            if r.peek() != Some(b')') {
                loop {
                    read_generic_value_inner(r)?;
                    if r.peek() != Some(b' ') {
                        break;
                    }
                    r.sp()?;
                }
            }
            r.expect(b')', "\")\"")?;
            r.leave();
        }
        Some(b'"' | b'{') => {
            IString::read(r)?;
        }
        Some(b'~') => {
            Literal8::read(r)?;
        }
        _ => {
            let t = r.take_while(|b| {
                matches!(b, 0x21..=0x7e) && !matches!(b, b'(' | b')' | b'"' | b'{')
            });
            if t.is_empty() {
                return Err(r.error("fetch item value"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
