//! The part tree of a message, as octet ranges into the stored octets, built once from
//! `mail-parser`'s parts (`offset_header`, `offset_body`, `offset_end` and the part tree).

use mail_parser::{Message, MessagePart, PartType};
use std::ops::Range;

/// How deep parts may nest (multiparts and encapsulated messages together). A part deeper
/// than this is reported as one opaque part (`APPLICATION/OCTET-STREAM` unless its own
/// type is a leaf type), and its sub-parts are not addressable: the codec's parser refuses
/// body structures nested past [`MAX_DEPTH`](crate::error::MAX_DEPTH) (64), and each level
/// here may cost two there (a message part and its body).
pub const MAX_PART_DEPTH: usize = 24;

/// One part: where its header and its body are in the stored octets.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// The header block, with the empty line that ends it when there is one.
    pub(crate) header: Range<usize>,
    /// The body (for a part of a multipart, without the line end before the next
    /// boundary).
    pub(crate) body: Range<usize>,
    pub(crate) kind: Kind,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// A part with no sub-parts.
    Leaf,
    /// A multipart and its parts (never empty: a multipart without any part gets one
    /// empty part, as Dovecot reports it).
    Multi(Vec<Node>),
    /// `message/rfc822` (or `message/global`): the encapsulated message, header and body.
    Message(Box<Node>),
    /// A part nested deeper than [`MAX_PART_DEPTH`].
    TooDeep,
}

fn range(raw_len: usize, start: u32, end: u32) -> Range<usize> {
    let start = (start as usize).min(raw_len);
    let end = (end as usize).clamp(start, raw_len);
    start..end
}

/// The whole message as one node. `parsed` is `None` when `mail-parser` found no header.
pub(crate) fn build(raw: &[u8], parsed: Option<&Message<'_>>) -> Node {
    let mut root = match parsed.and_then(|m| m.parts.first().map(|p| (m, p))) {
        Some((message, root)) => node(raw, message, root, 0),
        None => headerless(raw),
    };
    // the message's header starts at its first octet and its text runs from the end of
    // the header to the last octet (RFC 9051 section 6.4.5: HEADER and TEXT are the
    // message)
    root.header = 0..root.header.end;
    root.body = root.header.end..raw.len();
    root
}

/// Octets in which `mail-parser` finds no header: an empty line first is an empty header
/// (Dovecot reads it so), anything else is a body under an empty header.
fn headerless(raw: &[u8]) -> Node {
    let header_end = if raw.starts_with(b"\r\n") {
        2
    } else if raw.starts_with(b"\n") {
        1
    } else {
        0
    };
    Node {
        header: 0..header_end,
        body: header_end..raw.len(),
        kind: Kind::Leaf,
    }
}

fn node(raw: &[u8], message: &Message<'_>, part: &MessagePart<'_>, depth: usize) -> Node {
    let raw_len = raw.len();
    let header = range(raw_len, part.offset_header, part.offset_body);
    let mut body = range(raw_len, part.offset_body, part.offset_end);
    let kind = if depth >= MAX_PART_DEPTH {
        Kind::TooDeep
    } else {
        match &part.body {
            PartType::Multipart(ids) => {
                let children: Vec<Node> = ids
                    .iter()
                    .filter_map(|&id| message.parts.get(id as usize))
                    .map(|p| node(raw, message, p, depth + 1))
                    .collect();
                // mail-parser leaves offset_end of a multipart at 0 when the message ends
                // inside it; its body then runs to the end of its last part's body
                if body.end <= body.start {
                    let end = children.last().map_or(body.start, |c| c.body.end);
                    body = body.start..end.max(body.start);
                }
                if children.is_empty() {
                    Kind::Multi(vec![empty_at(body.start)])
                } else {
                    Kind::Multi(children)
                }
            }
            // an encapsulated message that was not content-transfer-encoded: its parts
            // are ranges of the same octets
            PartType::Message(inner)
                if part.encoding == mail_parser::Encoding::None && !part.is_encoding_problem =>
            {
                match inner.parts.first() {
                    Some(root) => {
                        let mut n = node(raw, inner, root, depth + 1);
                        // the encapsulated message is the whole body of its part
                        n.header = body.start..n.header.end.max(body.start).min(body.end);
                        // and its body (epilogue included) runs to the end of the part
                        n.body = n.header.end.max(n.body.start).min(body.end)..body.end;
                        Kind::Message(Box::new(n))
                    }
                    None => Kind::Message(Box::new(undecoded(raw, body.clone()))),
                }
            }
            // encoded (base64, quoted-printable) or unparsable encapsulated messages: the
            // octets as stored read as a header and a body, not decoded, as Dovecot reads
            // them
            PartType::Message(_) => Kind::Message(Box::new(undecoded(raw, body.clone()))),
            _ if is_message_type(&part.headers) => {
                Kind::Message(Box::new(undecoded(raw, body.clone())))
            }
            _ if is_multipart_type(&part.headers) => Kind::Multi(vec![empty_at(body.start)]),
            _ => Kind::Leaf,
        }
    };
    Node { header, body, kind }
}

/// The octets `body` of `raw` as a message of one part: a header up to the first empty
/// line (all of them when there is none), the rest its body.
fn undecoded(raw: &[u8], body: Range<usize>) -> Node {
    let octets = raw.get(body.clone()).unwrap_or_default();
    let header = super::header::Block::new(octets);
    let header_len = header.fields.len() + header.terminator.len();
    let split = body.start + header_len.min(octets.len());
    Node {
        header: body.start..split,
        body: split..body.end,
        kind: Kind::Leaf,
    }
}

/// The whole of `raw` as a message of one part (for octets `mail-parser` could not read).
pub(crate) fn single_part(raw: &[u8]) -> Node {
    undecoded(raw, 0..raw.len())
}

/// A part with an empty header and an empty body at `at`.
fn empty_at(at: usize) -> Node {
    Node {
        header: at..at,
        body: at..at,
        kind: Kind::Leaf,
    }
}

fn content_type<'p>(
    headers: &'p [mail_parser::Header<'_>],
) -> Option<&'p mail_parser::ContentType<'p>> {
    headers
        .iter()
        .find(|h| h.name == mail_parser::HeaderName::ContentType)
        .and_then(|h| h.value.as_content_type())
}

/// A `message/rfc822` or `message/global` part that mail-parser kept as a leaf.
fn is_message_type(headers: &[mail_parser::Header<'_>]) -> bool {
    content_type(headers).is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("message")
            && ct.subtype().is_some_and(|s| {
                s.eq_ignore_ascii_case("rfc822") || s.eq_ignore_ascii_case("global")
            })
    })
}

/// A `multipart/*` part that mail-parser kept as a leaf (no boundary, or the boundary
/// never appears).
fn is_multipart_type(headers: &[mail_parser::Header<'_>]) -> bool {
    content_type(headers).is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("multipart"))
}
