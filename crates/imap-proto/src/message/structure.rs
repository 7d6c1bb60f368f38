//! ENVELOPE and BODY/BODYSTRUCTURE from the part tree and the raw header fields (RFC 9051
//! section 7.5.2), with Dovecot's choices where the RFC leaves room (see `docs/imap.md`,
//! "Message helpers").

use super::address::address_list;
use super::header::Block;
use super::tree::{Kind, Node};
use crate::core::{IString, NString};
use crate::fetch::{
    AddressList, BodyFields, BodyStructure, Disposition, DispositionTail, Envelope, LanguageTail,
    LocationTail, MediaType, MessagePart, MultiPartExtension, Multipart, Parameters, PartKind,
    SinglePart, SinglePartExtension,
};

/// A string of a header value; callers pass values through `unfold`, which replaced NUL
/// (the one octet no IMAP string holds), so the empty-string fallback is never taken.
fn istring(data: Vec<u8>) -> IString<'static> {
    IString::from_bytes(data).unwrap_or_else(|_| crate::fetch::empty_string())
}

fn lit(s: &str) -> IString<'static> {
    istring(s.as_bytes().to_vec())
}

fn nstring(v: Option<Vec<u8>>) -> NString<'static> {
    NString(v.map(istring))
}

fn header<'r>(raw: &'r [u8], node: &Node) -> Block<'r> {
    Block::new(raw.get(node.header.clone()).unwrap_or_default())
}

/// The envelope of the message whose header is `block`.
pub(crate) fn envelope(block: &Block<'_>) -> Envelope<'static> {
    let list = |name: &str| {
        block
            .value(name)
            .map(|v| address_list(&v).into_iter().collect::<AddressList<'_>>())
            .unwrap_or_default()
    };
    let from = list("From");
    let mut sender = list("Sender");
    if sender.is_empty() {
        sender = from.clone();
    }
    let mut reply_to = list("Reply-To");
    if reply_to.is_empty() {
        reply_to = from.clone();
    }
    Envelope {
        date: nstring(block.value("Date")),
        subject: nstring(block.value("Subject")),
        from,
        sender,
        reply_to,
        to: list("To"),
        cc: list("Cc"),
        bcc: list("Bcc"),
        in_reply_to: nstring(block.value("In-Reply-To")),
        message_id: nstring(block.value("Message-ID")),
    }
}

/// A `Content-Type` or `Content-Disposition` value: the value before the first `;`, and the
/// parameters as written (names and values in their case, quotes removed), RFC 2231
/// continuations merged as Dovecot merges them ([`merge_continuations`]).
fn split_params(value: &[u8]) -> (Vec<u8>, Parameters<'static>) {
    let mut parts = Vec::new();
    let mut current = Vec::new();
    let mut quoted = false;
    let mut escaped = false;
    let mut comment = 0usize;
    for &b in value {
        if escaped {
            current.push(b);
            escaped = false;
            continue;
        }
        match b {
            b'\\' if quoted => escaped = true,
            b'"' if comment == 0 => {
                quoted = !quoted;
                current.push(b);
            }
            b'(' if !quoted => comment += 1,
            b')' if !quoted && comment > 0 => comment -= 1,
            _ if comment > 0 => {}
            b';' if !quoted => parts.push(std::mem::take(&mut current)),
            _ => current.push(b),
        }
    }
    parts.push(current);
    let mut parts = parts.into_iter();
    let head = parts.next().map(|h| trim(&h).to_vec()).unwrap_or_default();
    let mut params = Vec::new();
    for p in parts {
        let Some(eq) = p.iter().position(|&b| b == b'=') else {
            continue;
        };
        let name = trim(p.get(..eq).unwrap_or_default());
        let mut value = trim(p.get(eq + 1..).unwrap_or_default());
        if let [b'"', inner @ .., b'"'] = value {
            value = inner;
        }
        if name.is_empty() {
            continue;
        }
        params.push((name.to_vec(), value.to_vec()));
    }
    let params = merge_continuations(params)
        .into_iter()
        .map(|(k, v)| (istring(k), istring(v)))
        .collect();
    (head, params)
}

/// RFC 2231 section 3 continuations (`name*0="a"; name*1="b"`, or `name*0*=...` when
/// encoded) joined into one parameter, as Dovecot reports them: the plain parameters first,
/// in order, then each joined one under the name of its first segment (with a `*` when that
/// segment is encoded; the value stays encoded), segments in the order of their numbers.
/// A parameter `name*` without a number is a plain parameter.
fn merge_continuations(params: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<(Vec<u8>, Vec<u8>)> {
    // (base name as first seen, segments: (number, encoded, value))
    type Segments = Vec<(u64, bool, Vec<u8>)>;
    let mut plain = Vec::new();
    let mut joined: Vec<(Vec<u8>, Segments)> = Vec::new();
    for (name, value) in params {
        let Some(star) = name.iter().position(|&b| b == b'*') else {
            plain.push((name, value));
            continue;
        };
        let (base, rest) = name.split_at(star);
        let rest = rest.get(1..).unwrap_or_default();
        let (digits, encoded) = match rest {
            [d @ .., b'*'] => (d, true),
            d => (d, false),
        };
        let number = std::str::from_utf8(digits)
            .ok()
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<u64>().ok());
        let Some(number) = number else {
            plain.push((name, value));
            continue;
        };
        let segment = (number, encoded, value);
        match joined
            .iter_mut()
            .find(|(b, _)| b.eq_ignore_ascii_case(base))
        {
            Some((_, segments)) => segments.push(segment),
            None => joined.push((base.to_vec(), vec![segment])),
        }
    }
    for (base, mut segments) in joined {
        segments.sort_by_key(|(n, _, _)| *n);
        let mut name = base;
        if segments.first().is_some_and(|(_, encoded, _)| *encoded) {
            name.push(b'*');
        }
        let value = segments.into_iter().flat_map(|(_, _, v)| v).collect();
        plain.push((name, value));
    }
    plain
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or_default()
}

fn is_token(s: &[u8]) -> bool {
    !s.is_empty()
        && s.iter()
            .all(|&b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
}

/// The type, subtype and parameters of a part: its `Content-Type`, or the default
/// (`text/plain; charset=us-ascii`, RFC 2045 section 5.2) when it has none or an unreadable
/// one. A text part without a charset gets `charset=us-ascii` last, as Dovecot adds it.
fn content_type(block: &Block<'_>) -> (Vec<u8>, Vec<u8>, Parameters<'static>) {
    let (mut t, mut s, mut params) = (b"text".to_vec(), b"plain".to_vec(), Parameters::new());
    if let Some(value) = block.value("Content-Type") {
        let (head, p) = split_params(&value);
        let mut halves = head.splitn(2, |&b| b == b'/');
        let (ty, sub) = (
            trim(halves.next().unwrap_or_default()),
            trim(halves.next().unwrap_or_default()),
        );
        if is_token(ty) && is_token(sub) {
            (t, s) = (ty.to_vec(), sub.to_vec());
            params = p;
        }
    }
    let has_charset = params
        .iter()
        .any(|(k, _)| k.data().eq_ignore_ascii_case(b"charset"));
    if !has_charset && t.eq_ignore_ascii_case(b"text") {
        params.push((lit("charset"), lit("us-ascii")));
    }
    (t, s, params)
}

fn lines(body: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', body).count() as u64
}

fn fields(block: &Block<'_>, params: Parameters<'static>, body_len: usize) -> BodyFields<'static> {
    BodyFields {
        parameters: params,
        id: nstring(block.value("Content-ID")),
        description: nstring(block.value("Content-Description")),
        encoding: istring(
            block
                .value("Content-Transfer-Encoding")
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| b"7bit".to_vec()),
        ),
        octets: u32::try_from(body_len).unwrap_or(u32::MAX),
    }
}

fn disposition_tail(block: &Block<'_>) -> DispositionTail<'static> {
    let disposition = block
        .value("Content-Disposition")
        .map(|v| split_params(&v))
        .filter(|(kind, _)| !kind.is_empty())
        .map(|(kind, parameters)| Disposition {
            kind: istring(kind),
            parameters,
        });
    let language = block
        .value("Content-Language")
        .map(|v| {
            v.split(|&b| b == b',')
                .map(trim)
                .filter(|l| !l.is_empty())
                .map(|l| istring(l.to_vec()))
                .collect()
        })
        .unwrap_or_default();
    DispositionTail {
        disposition,
        tail: Some(LanguageTail {
            language,
            tail: Some(LocationTail {
                location: nstring(block.value("Content-Location")),
                extensions: Vec::new(),
            }),
        }),
    }
}

/// The body structure of `node` (of the octets `raw`), with extension data when
/// `extensions`.
pub(crate) fn body(raw: &[u8], node: &Node, extensions: bool) -> BodyStructure<'static> {
    let block = header(raw, node);
    let octets = raw.get(node.body.clone()).unwrap_or_default();
    let (t, s, params) = content_type(&block);
    match &node.kind {
        Kind::Multi(children) => {
            let bodies = children.iter().map(|c| body(raw, c, extensions)).collect();
            let extension = extensions.then(|| MultiPartExtension {
                parameters: params,
                tail: Some(disposition_tail(&block)),
            });
            match Multipart::new(bodies, istring(s), extension) {
                Ok(m) => BodyStructure::Multi(m),
                // not reached: the tree gives every multipart a part
                Err(_) => BodyStructure::Single(opaque(&block, octets, extensions)),
            }
        }
        Kind::Message(inner) => {
            let inner_block = header(raw, inner);
            // a message part by default (in a multipart/digest) has no parameters
            let params = if t.eq_ignore_ascii_case(b"message") {
                params
            } else {
                Parameters::new()
            };
            let global = s.eq_ignore_ascii_case(b"global");
            BodyStructure::Single(SinglePart {
                kind: PartKind::Message(Box::new(MessagePart {
                    global,
                    envelope: envelope(&inner_block),
                    body: body(raw, inner, extensions),
                    lines: lines(octets),
                })),
                fields: fields(&block, params, octets.len()),
                extension: single_extension(&block, extensions),
            })
        }
        Kind::TooDeep
            if t.eq_ignore_ascii_case(b"multipart") || t.eq_ignore_ascii_case(b"message") =>
        {
            BodyStructure::Single(opaque(&block, octets, extensions))
        }
        Kind::Leaf | Kind::TooDeep => {
            let kind = if t.eq_ignore_ascii_case(b"text") {
                PartKind::Text {
                    subtype: istring(s),
                    lines: lines(octets),
                }
            } else {
                match MediaType::new(istring(t), istring(s)) {
                    Ok(m) => PartKind::Basic(m),
                    // message/rfc822 that is no message part (the tree made it one when
                    // it could): reported as opaque octets
                    Err(_) => return BodyStructure::Single(opaque(&block, octets, extensions)),
                }
            };
            BodyStructure::Single(SinglePart {
                kind,
                fields: fields(&block, params, octets.len()),
                extension: single_extension(&block, extensions),
            })
        }
    }
}

fn single_extension(block: &Block<'_>, extensions: bool) -> Option<SinglePartExtension<'static>> {
    extensions.then(|| SinglePartExtension {
        md5: nstring(block.value("Content-MD5")),
        tail: Some(disposition_tail(block)),
    })
}

/// `APPLICATION/OCTET-STREAM` for a part whose structure is not reported (nested too deep).
fn opaque(block: &Block<'_>, body: &[u8], extensions: bool) -> SinglePart<'static> {
    let kind = match MediaType::new(lit("application"), lit("octet-stream")) {
        Ok(media) => PartKind::Basic(media),
        // not reached: application/octet-stream is a basic type
        Err(_) => PartKind::Text {
            subtype: lit("plain"),
            lines: lines(body),
        },
    };
    SinglePart {
        kind,
        fields: fields(block, Parameters::new(), body.len()),
        extension: single_extension(block, extensions),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_are_joined() {
        let (_, p) = split_params(
            b"a/b; NAME*1=\"name.bin\"; x=1; name*0=\"long\"; t*=utf-8''%41; f*0*=utf-8''%41; F*1=b",
        );
        let p: Vec<_> = p
            .iter()
            .map(|(k, v)| {
                (
                    String::from_utf8(k.data().to_vec()).unwrap(),
                    String::from_utf8(v.data().to_vec()).unwrap(),
                )
            })
            .collect();
        let want = [
            ("x", "1"),
            ("t*", "utf-8''%41"),
            ("NAME", "longname.bin"),
            ("f*", "utf-8''%41b"),
        ];
        assert_eq!(p, want.map(|(k, v)| (k.to_owned(), v.to_owned())));
    }

    #[test]
    fn parameters_as_written() {
        let (head, p) = split_params(b"TEXT/Plain; Charset=\"UTF-8\" (c); x=\"a;b\"; bad; =v");
        assert_eq!(head, b"TEXT/Plain");
        let p: Vec<_> = p
            .iter()
            .map(|(k, v)| (k.data().to_vec(), v.data().to_vec()))
            .collect();
        assert_eq!(
            p,
            [
                (b"Charset".to_vec(), b"UTF-8".to_vec()),
                (b"x".to_vec(), b"a;b".to_vec())
            ]
        );
    }
}
