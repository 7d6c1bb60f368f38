//! What a FETCH command asks for (RFC 3501 section 6.4.5, RFC 9051 section 6.4.5, BINARY
//! RFC 3516, CONDSTORE/QRESYNC RFC 7162).

use super::NonEmpty;
use crate::encode::{Encode, Writer};
use crate::fetch::{
    Part, Partial, Section, encode_section, encode_section_binary, read_section,
    read_section_binary,
};
use crate::list::List;
use crate::parse::{PResult, Reader};

/// The items a FETCH command asks for: a macro or a list of attributes (`fetch-att` or
/// `"(" fetch-att *(SP fetch-att) ")"`).
// The attribute list is stored inline (no heap for up to four attributes), which is what makes
// the enum large; it lives on the stack of a parse, not in collections.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FetchItems<'a> {
    /// `ALL`: `(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)`.
    All,
    /// `FAST`: `(FLAGS INTERNALDATE RFC822.SIZE)`.
    Fast,
    /// `FULL`: `(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY)`.
    Full,
    /// One attribute (written without parentheses) or several (in parentheses).
    Attributes(NonEmpty<FetchAttribute<'a>>),
}

impl<'a> FetchItems<'a> {
    /// The attributes a macro stands for (RFC 3501 section 6.4.5), or the list itself.
    pub fn expand(&self) -> List<FetchAttribute<'a>> {
        use FetchAttribute as A;
        match self {
            FetchItems::All => [A::Flags, A::InternalDate, A::Rfc822Size, A::Envelope]
                .into_iter()
                .collect(),
            FetchItems::Fast => [A::Flags, A::InternalDate, A::Rfc822Size]
                .into_iter()
                .collect(),
            FetchItems::Full => [
                A::Flags,
                A::InternalDate,
                A::Rfc822Size,
                A::Envelope,
                A::Body,
            ]
            .into_iter()
            .collect(),
            FetchItems::Attributes(l) => l.iter().cloned().collect(),
        }
    }

    /// The value with its borrowed data copied.
    pub fn into_static(self) -> FetchItems<'static> {
        match self {
            FetchItems::All => FetchItems::All,
            FetchItems::Fast => FetchItems::Fast,
            FetchItems::Full => FetchItems::Full,
            FetchItems::Attributes(l) => FetchItems::Attributes(l.map(FetchAttribute::into_static)),
        }
    }

    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        if r.keyword("ALL") {
            return Ok(FetchItems::All);
        }
        if r.keyword("FAST") {
            return Ok(FetchItems::Fast);
        }
        if r.keyword("FULL") {
            return Ok(FetchItems::Full);
        }
        let mut list = List::new();
        if r.eat(b'(') {
            list.push(FetchAttribute::read(r)?);
            while !r.eat(b')') {
                r.sp()?;
                list.push(FetchAttribute::read(r)?);
            }
        } else {
            list.push(FetchAttribute::read(r)?);
        }
        Ok(FetchItems::Attributes(NonEmpty(list)))
    }
}

impl Encode for FetchItems<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            FetchItems::All => w.raw(b"ALL"),
            FetchItems::Fast => w.raw(b"FAST"),
            FetchItems::Full => w.raw(b"FULL"),
            FetchItems::Attributes(l) => {
                if let [one] = &l[..] {
                    one.encode(w);
                } else {
                    w.byte(b'(');
                    for (i, a) in l.iter().enumerate() {
                        if i > 0 {
                            w.sp();
                        }
                        a.encode(w);
                    }
                    w.byte(b')');
                }
            }
        }
    }
}

/// `fetch-att`: one item a FETCH command asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FetchAttribute<'a> {
    /// `ENVELOPE`
    Envelope,
    /// `FLAGS`
    Flags,
    /// `INTERNALDATE`
    InternalDate,
    /// `RFC822` (RFC 3501 only; `BODY[]`)
    Rfc822,
    /// `RFC822.HEADER` (RFC 3501 only; `BODY.PEEK[HEADER]`)
    Rfc822Header,
    /// `RFC822.SIZE`
    Rfc822Size,
    /// `RFC822.TEXT` (RFC 3501 only; `BODY[TEXT]`)
    Rfc822Text,
    /// `BODY`: the body structure without extension data.
    Body,
    /// `BODYSTRUCTURE`
    BodyStructure,
    /// `UID`
    Uid,
    /// `BODY[section]<partial>` or `BODY.PEEK[section]<partial>` (`peek`: do not set `\Seen`);
    /// `section` is `None` for `[]`, the whole message.
    BodySection {
        /// `BODY.PEEK`
        peek: bool,
        /// The section, `None` for the whole message.
        section: Option<Section<'a>>,
        /// `<start.length>`
        partial: Option<Partial>,
    },
    /// `BINARY[part]<partial>` or `BINARY.PEEK[...]` (BINARY RFC 3516, RFC 9051): the part
    /// with its content transfer encoding removed.
    Binary {
        /// `BINARY.PEEK`
        peek: bool,
        /// The part, `None` for the whole message.
        part: Option<Part>,
        /// `<start.length>`
        partial: Option<Partial>,
    },
    /// `BINARY.SIZE[part]`: the decoded size.
    BinarySize {
        /// The part, `None` for the whole message.
        part: Option<Part>,
    },
    /// `MODSEQ` (CONDSTORE RFC 7162)
    ModSeq,
}

impl<'a> FetchAttribute<'a> {
    /// The value with its borrowed data copied.
    pub fn into_static(self) -> FetchAttribute<'static> {
        use FetchAttribute as A;
        match self {
            A::Envelope => A::Envelope,
            A::Flags => A::Flags,
            A::InternalDate => A::InternalDate,
            A::Rfc822 => A::Rfc822,
            A::Rfc822Header => A::Rfc822Header,
            A::Rfc822Size => A::Rfc822Size,
            A::Rfc822Text => A::Rfc822Text,
            A::Body => A::Body,
            A::BodyStructure => A::BodyStructure,
            A::Uid => A::Uid,
            A::BodySection {
                peek,
                section,
                partial,
            } => A::BodySection {
                peek,
                section: section.map(Section::into_static),
                partial,
            },
            A::Binary {
                peek,
                part,
                partial,
            } => A::Binary {
                peek,
                part,
                partial,
            },
            A::BinarySize { part } => A::BinarySize { part },
            A::ModSeq => A::ModSeq,
        }
    }

    /// `fetch-att`.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        use FetchAttribute as A;
        let peek_b = r.peek().map(|b| b.to_ascii_uppercase());
        let attr = match peek_b {
            Some(b'B') => {
                let body_peek = if r.keyword("BODY.PEEK[") {
                    Some(true)
                } else if r.keyword("BODY[") {
                    Some(false)
                } else {
                    None
                };
                let binary_peek = if body_peek.is_some() {
                    None
                } else if r.keyword("BINARY.PEEK[") {
                    Some(true)
                } else if r.keyword("BINARY[") {
                    Some(false)
                } else {
                    None
                };
                if let Some(peek) = body_peek {
                    // Step back onto the `[` the keyword consumed.
                    r.reset(r.pos() - 1);
                    let section = read_section(r)?;
                    let partial = read_partial(r)?;
                    A::BodySection {
                        peek,
                        section,
                        partial,
                    }
                } else if let Some(peek) = binary_peek {
                    r.reset(r.pos() - 1);
                    let part = read_section_binary(r)?;
                    let partial = read_partial(r)?;
                    A::Binary {
                        peek,
                        part,
                        partial,
                    }
                } else if r.keyword("BINARY.SIZE[") {
                    r.reset(r.pos() - 1);
                    A::BinarySize {
                        part: read_section_binary(r)?,
                    }
                } else if r.keyword("BODYSTRUCTURE") {
                    A::BodyStructure
                } else if r.keyword("BODY") {
                    A::Body
                } else {
                    return Err(r.error("fetch-att"));
                }
            }
            Some(b'E') if r.keyword("ENVELOPE") => A::Envelope,
            Some(b'F') if r.keyword("FLAGS") => A::Flags,
            Some(b'I') if r.keyword("INTERNALDATE") => A::InternalDate,
            Some(b'R') => {
                if r.keyword("RFC822") {
                    A::Rfc822
                } else if r.keyword("RFC822.HEADER") {
                    A::Rfc822Header
                } else if r.keyword("RFC822.SIZE") {
                    A::Rfc822Size
                } else if r.keyword("RFC822.TEXT") {
                    A::Rfc822Text
                } else {
                    return Err(r.error("fetch-att"));
                }
            }
            Some(b'U') if r.keyword("UID") => A::Uid,
            Some(b'M') if r.keyword("MODSEQ") => A::ModSeq,
            _ => return Err(r.error("fetch-att")),
        };
        Ok(attr)
    }
}

fn read_partial(r: &mut Reader<'_>) -> PResult<Option<Partial>> {
    if r.peek() == Some(b'<') {
        Ok(Some(Partial::read(r)?))
    } else {
        Ok(None)
    }
}

impl Encode for FetchAttribute<'_> {
    fn encode(&self, w: &mut Writer) {
        use FetchAttribute as A;
        match self {
            A::Envelope => w.raw(b"ENVELOPE"),
            A::Flags => w.raw(b"FLAGS"),
            A::InternalDate => w.raw(b"INTERNALDATE"),
            A::Rfc822 => w.raw(b"RFC822"),
            A::Rfc822Header => w.raw(b"RFC822.HEADER"),
            A::Rfc822Size => w.raw(b"RFC822.SIZE"),
            A::Rfc822Text => w.raw(b"RFC822.TEXT"),
            A::Body => w.raw(b"BODY"),
            A::BodyStructure => w.raw(b"BODYSTRUCTURE"),
            A::Uid => w.raw(b"UID"),
            A::ModSeq => w.raw(b"MODSEQ"),
            A::BodySection {
                peek,
                section,
                partial,
            } => {
                w.raw(if *peek { b"BODY.PEEK" } else { b"BODY" });
                encode_section(section.as_ref(), w);
                if let Some(p) = partial {
                    p.encode(w);
                }
            }
            A::Binary {
                peek,
                part,
                partial,
            } => {
                w.raw(if *peek { b"BINARY.PEEK" } else { b"BINARY" });
                encode_section_binary(part.as_ref(), w);
                if let Some(p) = partial {
                    p.encode(w);
                }
            }
            A::BinarySize { part } => {
                w.raw(b"BINARY.SIZE");
                encode_section_binary(part.as_ref(), w);
            }
        }
    }
}
