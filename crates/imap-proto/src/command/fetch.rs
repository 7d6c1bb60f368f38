//! What a FETCH command asks for (RFC 3501 section 6.4.5, RFC 9051 section 6.4.5, BINARY
//! RFC 3516, CONDSTORE/QRESYNC RFC 7162).

use super::NonEmpty;
use crate::encode::{Encode, Writer};
use crate::error::{ErrorKind, ParseError};
use crate::fetch::{
    Part, Partial, Section, encode_section, encode_section_binary, read_section,
    read_section_binary,
};
use crate::list::List;
use crate::parse::{PResult, Reader};

/// The items a FETCH command asks for: a macro or a list of attributes (`fetch-att` or
/// `"(" fetch-att *(SP fetch-att) ")"`).
// The attribute list is stored inline (no heap for up to two attributes), which is what makes
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
    /// One attribute (written without parentheses) or several (in parentheses). Two are kept
    /// inline (no heap), more are on the heap, so that every command value stays small.
    Attributes(NonEmpty<FetchAttribute<'a>, 2>),
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

    /// `fetch-att` macro, single attribute, or parenthesised list.
    #[allow(dead_code)] // the house entry point; the command parser fills in place with `read_into`
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        let mut items = FetchItems::Fast;
        Self::read_into(r, &mut items)?;
        Ok(items)
    }

    /// [`FetchItems::read`] into `out`, so that the inline attribute list is filled in place.
    pub(crate) fn read_into(r: &mut Reader<'a>, out: &mut Self) -> PResult<()> {
        if r.eat(b'(') {
            *out = FetchItems::Attributes(NonEmpty(List::new()));
            if let FetchItems::Attributes(NonEmpty(list)) = out {
                list.push(FetchAttribute::read(r)?);
                while !r.eat(b')') {
                    r.sp()?;
                    list.push(FetchAttribute::read(r)?);
                }
            }
            return Ok(());
        }
        let start = r.pos();
        let word = read_word(r);
        *out = if word.eq_ignore_ascii_case(b"ALL") {
            FetchItems::All
        } else if word.eq_ignore_ascii_case(b"FAST") {
            FetchItems::Fast
        } else if word.eq_ignore_ascii_case(b"FULL") {
            FetchItems::Full
        } else {
            r.reset(start);
            FetchItems::Attributes(NonEmpty::one(FetchAttribute::read(r)?))
        };
        Ok(())
    }
}

/// The name of a FETCH item: letters, digits and dots (`BODY.PEEK`, `RFC822.SIZE`).
fn read_word<'a>(r: &mut Reader<'a>) -> &'a [u8] {
    r.take_while(|b| b.is_ascii_alphanumeric() || b == b'.')
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
        let start = r.pos();
        let word = read_word(r);
        let is = |kw: &[u8]| word.eq_ignore_ascii_case(kw);
        let bracket = r.peek() == Some(b'[');
        let attr = match word.len() {
            3 if is(b"UID") => A::Uid,
            4 if is(b"BODY") && bracket => A::BodySection {
                peek: false,
                section: read_section(r)?,
                partial: read_partial(r)?,
            },
            4 if is(b"BODY") => A::Body,
            5 if is(b"FLAGS") => A::Flags,
            6 if is(b"RFC822") => A::Rfc822,
            6 if is(b"MODSEQ") => A::ModSeq,
            6 if is(b"BINARY") && bracket => A::Binary {
                peek: false,
                part: read_section_binary(r)?,
                partial: read_partial(r)?,
            },
            8 if is(b"ENVELOPE") => A::Envelope,
            9 if is(b"BODY.PEEK") && bracket => A::BodySection {
                peek: true,
                section: read_section(r)?,
                partial: read_partial(r)?,
            },
            11 if is(b"RFC822.SIZE") => A::Rfc822Size,
            11 if is(b"RFC822.TEXT") => A::Rfc822Text,
            11 if is(b"BINARY.PEEK") && bracket => A::Binary {
                peek: true,
                part: read_section_binary(r)?,
                partial: read_partial(r)?,
            },
            11 if is(b"BINARY.SIZE") && bracket => A::BinarySize {
                part: read_section_binary(r)?,
            },
            12 if is(b"INTERNALDATE") => A::InternalDate,
            13 if is(b"RFC822.HEADER") => A::Rfc822Header,
            13 if is(b"BODYSTRUCTURE") => A::BodyStructure,
            _ => {
                // Point at the `[` that a section-less item may not have, else at the name.
                if bracket && !word.is_empty() {
                    return Err(r.error("fetch-att"));
                }
                return Err(ParseError::new(start, "fetch-att", ErrorKind::Syntax));
            }
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
