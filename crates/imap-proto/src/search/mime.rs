//! [`SearchMessage`] for a raw message parsed by `mail-parser` (feature `mime`): the header
//! fields and text come from the [`ParsedMessage`], flags, dates, size and mod-sequence from
//! the store, which knows them without reading the message.
//!
//! - Header values are decoded: RFC 2047 encoded words in any charset `mail-parser` knows
//!   (UTF-8, ISO-8859-*, Windows-125*, KOI8, ...), folding undone. Address fields are searched
//!   as their decoded text (`"Jörg Müller" <joerg@example.de>`).
//! - The body text is every `text/*` part, content-transfer-decoded (base64,
//!   quoted-printable) and converted to UTF-8, and every nested `message/rfc822` part: its
//!   header fields (they are body text of the outer message) and its text parts, as Dovecot
//!   searches them. Other parts (images, applications) are not searched.
//! - The `Date:` field's day as written, ignoring time and zone; a missing or unreadable
//!   field gives no date, so that no `SENT*` key matches.
//!
//! ```
//! use std::num::NonZeroU32;
//! use imap_proto::command::SearchKey;
//! use imap_proto::core::AString;
//! use imap_proto::datetime::{Date, DateTime};
//! use imap_proto::message::ParsedMessage;
//! use imap_proto::search::{self, SearchContext, mime::StoredMessage};
//!
//! let raw = b"From: =?ISO-8859-1?Q?J=F6rg?= <joerg@example.de>\r\n\
//!             Subject: Gr=?utf-8?q?=C3=BC=C3=9Fe?=\r\n\r\nHallo!\r\n";
//! let parsed = ParsedMessage::parse(raw);
//! let date = DateTime::new(Date::new(2026, 12, 7).unwrap(), 6, 0, 0, 60).unwrap();
//! let message = StoredMessage::new(&parsed, NonZeroU32::new(4).unwrap(), date);
//! let key = SearchKey::From(AString::from_bytes("jörg".as_bytes()).unwrap());
//! let ctx = SearchContext::default();
//! assert!(search::matches(&[key], NonZeroU32::MIN, &message, &ctx).unwrap());
//! let key = SearchKey::Body(AString::from_bytes(&b"HALLO"[..]).unwrap());
//! assert!(search::matches(&[key], NonZeroU32::MIN, &message, &ctx).unwrap());
//! ```

use std::borrow::Cow;
use std::num::{NonZeroU32, NonZeroU64};

use mail_parser::{HeaderValue, Message, PartType};

use super::{SearchMessage, contains_folded};
use crate::datetime::{Date, DateTime};
use crate::flag::Flag;
use crate::message::ParsedMessage;

/// How many `message/rfc822` parts deep the text search descends (`mail-parser` itself
/// parses three levels of nested messages).
const MAX_NESTED: usize = 8;

/// A stored message as SEARCH sees it: the parse of its octets and what the store keeps
/// beside them.
#[derive(Debug, Clone)]
pub struct StoredMessage<'m, 'a> {
    /// The message's octets, parsed.
    pub parsed: &'m ParsedMessage<'a>,
    /// Its UID.
    pub uid: NonZeroU32,
    /// Its flags (without `\Recent`).
    pub flags: &'m [Flag<'m>],
    /// Whether it is `\Recent` in this session.
    pub recent: bool,
    /// INTERNALDATE.
    pub internal_date: DateTime,
    /// RFC822.SIZE.
    pub size: u64,
    /// Its mod-sequence (CONDSTORE), when the mailbox has them.
    pub modseq: Option<NonZeroU64>,
}

impl<'m, 'a> StoredMessage<'m, 'a> {
    /// A message without flags or mod-sequence, not recent, whose RFC822.SIZE is the length
    /// of its octets; set the other fields as the store knows them.
    pub fn new(parsed: &'m ParsedMessage<'a>, uid: NonZeroU32, internal_date: DateTime) -> Self {
        StoredMessage {
            parsed,
            uid,
            flags: &[],
            recent: false,
            internal_date,
            size: parsed.raw().len() as u64,
            modseq: None,
        }
    }
}

/// The decoded value of the header field whose value octets are `raw` (folding undone,
/// encoded words decoded). A value without a fold or an encoded word is borrowed.
fn decode_value(raw: &[u8]) -> Cow<'_, str> {
    let line = raw
        .strip_suffix(b"\n")
        .map_or(raw, |l| l.strip_suffix(b"\r").unwrap_or(l));
    if !line.contains(&b'\n') && !line.windows(2).any(|w| w == b"=?") {
        return match std::str::from_utf8(line) {
            Ok(s) => Cow::Borrowed(s.trim()),
            Err(_) => String::from_utf8_lossy(line).trim().to_owned().into(),
        };
    }
    // The unstructured parser reads up to the line end that is not followed by a fold.
    let mut line = line.to_vec();
    line.extend_from_slice(b"\n");
    match mail_parser::parsers::MessageStream::new(&line).parse_unstructured() {
        HeaderValue::Text(t) => Cow::Owned(t.into_owned()),
        _ => Cow::Borrowed(""),
    }
}

/// The decoded values of every field `name` of `message`'s header.
fn field_values<'x>(message: &'x Message<'_>, name: &str) -> Vec<Cow<'x, str>> {
    let raws = [message.raw_message()];
    let Some(root) = message.parts.first() else {
        return Vec::new();
    };
    root.headers
        .iter()
        .filter(|h| h.name().eq_ignore_ascii_case(name))
        .map(|h| decode_value(value_octets(&raws, h)))
        .collect()
}

/// The value octets of the field `h`. `mail-parser` counts the offsets of a nested message's
/// fields from the start of its own octets or from the start of the outermost message,
/// depending on how it reached the nested message: the first of `raws` where the octets at
/// the offsets are the field's name and a colon is the right one.
fn value_octets<'x>(raws: &[&'x [u8]], h: &mail_parser::Header<'_>) -> &'x [u8] {
    let (field, start, end) = (
        h.offset_field() as usize,
        h.offset_start() as usize,
        h.offset_end() as usize,
    );
    let name = h.name().as_bytes();
    raws.iter()
        .find(|raw| {
            raw.get(field..start).is_some_and(|f| {
                f.get(..name.len())
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
                    && f.get(name.len()..)
                        .is_some_and(|rest| rest.trim_ascii_start().starts_with(b":"))
            })
        })
        .and_then(|raw| raw.get(start..end))
        .unwrap_or_default()
}

/// Whether some field of `message`'s header, as `name: value` decoded, contains `needle`;
/// `raws` as [`value_octets`] reads them.
fn header_contains(message: &Message<'_>, raws: &[&[u8]], needle: &str) -> bool {
    let Some(root) = message.parts.first() else {
        return false;
    };
    // A needle without ':' that does not start with a space lies within the name or within
    // the value: no need to join them.
    let apart = !needle.contains(':') && !needle.starts_with(' ');
    root.headers.iter().any(|h| {
        let value = decode_value(value_octets(raws, h));
        if apart {
            contains_folded(h.name(), needle) || contains_folded(&value, needle)
        } else {
            contains_folded(&format!("{}: {}", h.name(), value), needle)
        }
    })
}

/// Whether the text of `message` (its text parts; nested messages' headers and text)
/// contains `needle`; `root` is the outermost message's octets.
fn body_contains(message: &Message<'_>, root: &[u8], needle: &str, depth: usize) -> bool {
    message.parts.iter().any(|part| match &part.body {
        PartType::Text(text) | PartType::Html(text) => contains_folded(text, needle),
        PartType::Message(nested) if depth < MAX_NESTED => {
            header_contains(nested, &[nested.raw_message(), root], needle)
                || body_contains(nested, root, needle, depth + 1)
        }
        _ => false,
    })
}

impl SearchMessage for StoredMessage<'_, '_> {
    fn uid(&self) -> NonZeroU32 {
        self.uid
    }

    fn has_flag(&self, flag: &Flag<'_>) -> bool {
        self.flags.iter().any(|f| match (f, flag) {
            (Flag::Keyword(a), Flag::Keyword(b)) => a.as_str().eq_ignore_ascii_case(b.as_str()),
            (a, b) => a == b,
        })
    }

    fn is_recent(&self) -> bool {
        self.recent
    }

    fn internal_date(&self) -> DateTime {
        self.internal_date
    }

    fn sent_date(&self) -> Option<Date> {
        let message = self.parsed.parsed()?;
        let date = message.date()?;
        Date::new(date.year, date.month, date.day).ok()
    }

    fn size(&self) -> u64 {
        self.size
    }

    fn modseq(&self) -> Option<NonZeroU64> {
        self.modseq
    }

    fn header_values(&self, name: &str) -> Vec<Cow<'_, str>> {
        match self.parsed.parsed() {
            Some(message) => field_values(message, name),
            None => Vec::new(),
        }
    }

    fn header_text_contains(&self, needle: &str) -> bool {
        self.parsed
            .parsed()
            .is_some_and(|m| header_contains(m, &[m.raw_message()], needle))
    }

    fn body_contains(&self, needle: &str) -> bool {
        match self.parsed.parsed() {
            Some(message) => body_contains(message, message.raw_message(), needle, 0),
            // octets without a header field: all of them are the body
            None => contains_folded(&String::from_utf8_lossy(self.parsed.raw()), needle),
        }
    }
}
