//! What a server computes from a stored message for FETCH and SEARCH: ENVELOPE,
//! BODYSTRUCTURE, `BODY[section]<partial>` and `BINARY[section]` extraction, the header fields
//! and text a SEARCH key looks at, all through the `mail-parser` MIME parser (feature `mime`).
//!
//! The MIME structure (where each part's header and body start and end) is `mail-parser`'s;
//! every section is a slice of the stored octets, never re-encoded, so sizes, line counts and
//! section contents agree with `RFC822.SIZE` and `BODY[]` of the same octets, bare line
//! feeds included. Values follow RFC 9051 section 6.4.5 and 7.5.2 and, where the RFC leaves
//! room, what Dovecot answers for the same message; `docs/imap.md` ("Message helpers") lists
//! the deliberate differences.
//!
//! ```
//! use imap_proto::fetch::{Part, Section};
//! use imap_proto::message::ParsedMessage;
//! use imap_proto::Encode;
//! use std::num::NonZeroU32;
//!
//! let raw = b"From: Alice <alice@example.org>\r\nSubject: Hi\r\n\r\nHello\r\n";
//! let message = ParsedMessage::parse(raw);
//! assert_eq!(
//!     message.envelope().to_bytes(),
//!     b"(NIL \"Hi\" ((\"Alice\" NIL \"alice\" \"example.org\")) \
//!       ((\"Alice\" NIL \"alice\" \"example.org\")) ((\"Alice\" NIL \"alice\" \"example.org\")) \
//!       NIL NIL NIL NIL NIL)"
//! );
//! assert_eq!(
//!     message.body_structure(false).to_bytes(),
//!     b"(\"TEXT\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 7 1)"
//! );
//! let part1 = Section::Part(Part::single(NonZeroU32::MIN));
//! assert_eq!(&*message.section(Some(&part1), None).unwrap(), b"Hello\r\n");
//! assert_eq!(&*message.section(Some(&Section::Header(None)), None).unwrap(), &raw[..48]);
//! ```

mod address;
mod fetch;
mod header;
mod structure;
mod tree;

pub use tree::MAX_PART_DEPTH;

use crate::fetch::{BodyStructure, Envelope, Part, Partial, Section};
use header::Block;
use std::borrow::Cow;
use tree::{Kind, Node};

/// Why a section could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SectionError {
    /// `BINARY` of a part whose Content-Transfer-Encoding this crate cannot decode (anything
    /// but 7bit, 8bit, binary, base64 and quoted-printable). The server answers
    /// `NO [UNKNOWN-CTE]` (RFC 3516 section 4.3, RFC 9051 section 7.1).
    #[error("unknown Content-Transfer-Encoding {encoding:?}")]
    UnknownCte {
        /// The encoding as the part's header names it.
        encoding: String,
    },
    /// `BINARY` of a part whose content is not valid in its declared encoding (base64 with
    /// octets outside its alphabet, quoted-printable with a broken escape). The server
    /// answers `NO` (RFC 3516 names no response code for it).
    #[error("the content is not valid {encoding}")]
    Corrupt {
        /// `base64` or `quoted-printable`.
        encoding: &'static str,
    },
}

/// A raw message (RFC 5322, possibly MIME) parsed once, for every FETCH and SEARCH helper of
/// this module. It borrows the raw octets; nothing is copied until a helper must decode.
pub struct ParsedMessage<'a> {
    raw: &'a [u8],
    /// `None` when `raw` holds no header field at all (mail-parser then finds no message):
    /// the helpers treat such octets as a body with an empty header.
    parsed: Option<mail_parser::Message<'a>>,
    /// The part tree as octet ranges of `raw`.
    root: Node,
}

impl<'a> ParsedMessage<'a> {
    /// Parses `raw`. Never fails: any octets are a message (with no header fields, or a body
    /// only, when they are not RFC 5322).
    ///
    /// `mail-parser` 0.11.9 has debug assertions that some malformed messages trip (its
    /// `parsers/message.rs`: "Invalid part ID"; they are compiled out of release builds).
    /// The parse runs under [`std::panic::catch_unwind`], and a message whose parse panics
    /// is read as one part (its header up to the first empty line, the rest its body), so
    /// that no input makes this panic where panics unwind.
    pub fn parse(raw: &'a [u8]) -> Self {
        let parse = || mail_parser::MessageParser::new().parse(raw);
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)) {
            Ok(parsed) => {
                let root = tree::build(raw, parsed.as_ref());
                ParsedMessage { raw, parsed, root }
            }
            Err(_) => ParsedMessage {
                raw,
                parsed: None,
                root: tree::single_part(raw),
            },
        }
    }

    /// The octets as stored.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// `RFC822.SIZE`: the number of octets stored.
    pub fn size(&self) -> u64 {
        self.raw.len() as u64
    }

    /// The parse, for the helpers of this module; `None` for octets without a header field.
    #[allow(dead_code)] // read by the SEARCH helpers (`search/mime.rs`, branch i18-search)
    pub(crate) fn parsed(&self) -> Option<&mail_parser::Message<'a>> {
        self.parsed.as_ref()
    }

    /// `ENVELOPE` (RFC 9051 section 7.5.2): the Date, Subject, In-Reply-To and Message-ID
    /// fields as written (unfolded and trimmed, encoded words not decoded; `NIL` when
    /// absent), the address lists with groups as start and end markers, Sender and Reply-To
    /// defaulting to From when absent or empty.
    pub fn envelope(&self) -> Envelope<'static> {
        structure::envelope(&self.block(&self.root))
    }

    /// `BODY` (`extensions` false) or `BODYSTRUCTURE` (`extensions` true): the MIME
    /// structure with each part's type, parameters, id, description, encoding, size in
    /// octets as stored, lines for text and message parts, the envelope and structure of an
    /// encapsulated message; with extension data (MD5, disposition, language, location)
    /// for `BODYSTRUCTURE`.
    pub fn body_structure(&self, extensions: bool) -> BodyStructure<'static> {
        structure::body(self.raw, &self.root, extensions)
    }

    /// The content of `BODY[section]<partial>` (RFC 9051 section 6.4.5), `None` being
    /// `BODY[]`, the whole message. A part that does not exist, and `HEADER`/`TEXT` of a
    /// part that is not an encapsulated message, give the empty string, as Dovecot answers;
    /// a partial range past the end gives the empty string, one that runs past the end is
    /// cut there. Never fails today; the `Result` leaves room for sections that may.
    pub fn section(
        &self,
        section: Option<&Section<'_>>,
        partial: Option<Partial>,
    ) -> Result<Cow<'a, [u8]>, SectionError> {
        let whole = match section {
            None => Cow::Borrowed(self.raw),
            Some(section) => self.section_content(section),
        };
        Ok(cut(whole, partial))
    }

    fn section_content(&self, section: &Section<'_>) -> Cow<'a, [u8]> {
        let empty = Cow::Borrowed(&b""[..]);
        let Some(node) = self.resolve(section.part()) else {
            return empty;
        };
        // the message whose header and text HEADER, HEADER.FIELDS and TEXT name
        let message = match (section.part(), &node.kind) {
            (None, _) => Some(node),
            (Some(_), Kind::Message(inner)) => Some(&**inner),
            (Some(_), _) => None,
        };
        match section {
            Section::Part(_) => self.slice(node.body.clone()),
            Section::Mime(_) => self.slice(node.header.clone()),
            Section::Header(_) => message.map_or(empty, |m| self.slice(m.header.clone())),
            Section::Text(_) => message.map_or(empty, |m| self.slice(m.body.clone())),
            Section::HeaderFields(_, names) | Section::HeaderFieldsNot(_, names) => {
                let Some(m) = message else { return empty };
                let not = matches!(section, Section::HeaderFieldsNot(..));
                let names: Vec<crate::core::AString<'_>> = names.iter().collect();
                let names: Vec<&[u8]> = names.iter().map(|n| n.data()).collect();
                Cow::Owned(header::filter(&self.block(m), &names, not))
            }
        }
    }

    /// The content of `BINARY[part]<partial>` (RFC 3516, RFC 9051 section 6.4.5): the part's
    /// body with its Content-Transfer-Encoding undone (base64, quoted-printable; 7bit, 8bit
    /// and binary as stored). `None` and parts that are multiparts or encapsulated messages
    /// give their octets as stored (Dovecot decodes the leaves inside them; see
    /// `docs/imap.md`). A part that does not exist gives the empty string.
    pub fn binary(
        &self,
        part: Option<&Part>,
        partial: Option<Partial>,
    ) -> Result<Cow<'a, [u8]>, SectionError> {
        Ok(cut(self.decoded(part)?, partial))
    }

    /// `BINARY.SIZE[part]`: the size of what [`binary`](Self::binary) returns for the whole
    /// part.
    pub fn binary_size(&self, part: Option<&Part>) -> Result<u64, SectionError> {
        Ok(self.decoded(part)?.len() as u64)
    }

    fn decoded(&self, part: Option<&Part>) -> Result<Cow<'a, [u8]>, SectionError> {
        let Some(part) = part else {
            return Ok(Cow::Borrowed(self.raw));
        };
        let Some(node) = self.resolve(Some(part)) else {
            return Ok(Cow::Borrowed(&b""[..]));
        };
        let body = self.slice(node.body.clone());
        if !matches!(node.kind, Kind::Leaf) {
            return Ok(body);
        }
        let encoding = self
            .block(node)
            .value("Content-Transfer-Encoding")
            .unwrap_or_default();
        let is = |name: &str| encoding.eq_ignore_ascii_case(name.as_bytes());
        if encoding.is_empty() || is("7bit") || is("8bit") || is("binary") {
            Ok(body)
        } else if is("base64") {
            mail_parser::decoders::base64::base64_decode(&body)
                .map(Cow::Owned)
                .ok_or(SectionError::Corrupt { encoding: "base64" })
        } else if is("quoted-printable") {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(&body)
                .map(Cow::Owned)
                .ok_or(SectionError::Corrupt {
                    encoding: "quoted-printable",
                })
        } else {
            Err(SectionError::UnknownCte {
                encoding: String::from_utf8_lossy(&encoding).into_owned(),
            })
        }
    }

    /// The part a part number names (the whole message for `None`); `None` when it does not
    /// exist. RFC 9051 section 6.4.5 as Dovecot applies it: a number picks a part of a
    /// multipart; a part that is not a multipart has only part 1, itself, and only as the
    /// last number unless it is an encapsulated message; after an encapsulated message,
    /// the numbers go on in the message it encapsulates.
    fn resolve(&self, part: Option<&Part>) -> Option<&Node> {
        let mut node = &self.root;
        let Some(part) = part else {
            return Some(node);
        };
        let numbers = part.numbers();
        for (i, n) in numbers.iter().enumerate() {
            let last = i + 1 == numbers.len();
            node = match &node.kind {
                Kind::Multi(children) => children.get(n.get() as usize - 1)?,
                Kind::Message(_) if n.get() == 1 => node,
                _ if n.get() == 1 && last => node,
                _ => return None,
            };
            if let (false, Kind::Message(inner)) = (last, &node.kind) {
                node = inner;
            }
        }
        Some(node)
    }

    fn slice(&self, range: std::ops::Range<usize>) -> Cow<'a, [u8]> {
        Cow::Borrowed(self.raw.get(range).unwrap_or_default())
    }

    fn block(&self, node: &Node) -> Block<'a> {
        Block::new(self.raw.get(node.header.clone()).unwrap_or_default())
    }
}

/// `<start.length>`: the octets from `start`, at most `length` of them; empty when `start`
/// is past the end.
fn cut(data: Cow<'_, [u8]>, partial: Option<Partial>) -> Cow<'_, [u8]> {
    let Some(p) = partial else { return data };
    let len = data.len() as u64;
    let start = p.start.min(len);
    let end = start.saturating_add(p.length.get()).min(len);
    // both bounds are at most data.len(), which is a usize
    let (start, end) = (start as usize, end as usize);
    match data {
        Cow::Borrowed(b) => Cow::Borrowed(b.get(start..end).unwrap_or_default()),
        Cow::Owned(v) => Cow::Owned(v.get(start..end).unwrap_or_default().to_vec()),
    }
}

impl std::fmt::Debug for ParsedMessage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedMessage")
            .field("octets", &self.raw.len())
            .field("parts", &self.parsed.as_ref().map_or(0, |m| m.parts.len()))
            .finish()
    }
}
