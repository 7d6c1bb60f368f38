//! Reply lines (RFC 5321 section 4.2, RFC 2034, RFC 3463).

use std::borrow::Cow;

use crate::ReplyError;
use crate::reply::Reply;
use crate::types::{EnhancedStatusCode, ReplyCode};

/// ```text
/// Reply-code  = %x32-35 %x30-35 %x30-39
/// Reply-line  = *( Reply-code "-" [ textstring ] CRLF )
///               Reply-code [ SP textstring ] CRLF
/// ```
///
/// Returns the code and whether this is the last line.
pub(crate) fn reply_line_head(line: &[u8], index: usize) -> Result<(ReplyCode, bool), ReplyError> {
    let syntax = |offset, rule| ReplyError::Syntax {
        rule,
        line: index,
        offset,
    };
    let d = |n: usize, lo: u8, hi: u8| {
        line.get(n)
            .filter(|b| (lo..=hi).contains(b))
            .map(|b| u16::from(b - b'0'))
    };
    let (Some(a), Some(b), Some(c)) = (d(0, b'2', b'5'), d(1, b'0', b'5'), d(2, b'0', b'9')) else {
        let ranges = [(b'2', b'5'), (b'0', b'5'), (b'0', b'9')];
        let off = (0..3)
            .find(|&n| d(n, ranges[n].0, ranges[n].1).is_none())
            .unwrap_or(0);
        return Err(syntax(off, "Reply-code"));
    };
    let code = ReplyCode::new(a * 100 + b * 10 + c).map_err(|e| syntax(e.offset, "Reply-code"))?;
    let last = match line.get(3) {
        None | Some(b' ') => true,
        Some(b'-') => false,
        Some(_) => return Err(syntax(3, "Reply-line")),
    };
    // Branch-free over the line (the compiler vectorises it); the position only on failure.
    let mut any = 0u8;
    for b in line {
        any |= u8::from(*b == b'\r') | u8::from(*b == b'\n');
    }
    if any != 0 {
        let bad = line
            .iter()
            .position(|b| *b == b'\r' || *b == b'\n')
            .unwrap_or_default();
        return Err(syntax(bad, "textstring"));
    }
    Ok((code, last))
}

/// ```text
/// status-code = class "." subject "." detail      ; RFC 3463 section 2
/// class       = "2" / "4" / "5"
/// subject     = 1*3digit
/// detail      = 1*3digit
/// ```
///
/// Followed by SP or the end of the text. Returns the code and the text after it.
pub(crate) fn enhanced_prefix(text: &[u8]) -> Option<(EnhancedStatusCode, &[u8])> {
    let class = match text.first()? {
        c @ (b'2' | b'4' | b'5') => c - b'0',
        _ => return None,
    };
    let num = |i: &[u8]| -> Option<(u16, usize)> {
        let len = i.iter().take(4).take_while(|b| b.is_ascii_digit()).count();
        if len == 0 || len > 3 {
            return None;
        }
        Some((
            i[..len]
                .iter()
                .fold(0u16, |a, b| a * 10 + u16::from(b - b'0')),
            len,
        ))
    };
    if text.get(1) != Some(&b'.') {
        return None;
    }
    let (subject, l1) = num(&text[2..])?;
    let p = 2 + l1;
    if text.get(p) != Some(&b'.') {
        return None;
    }
    let (detail, l2) = num(&text[p + 1..])?;
    let end = p + 1 + l2;
    let rest = match text.get(end) {
        None => &text[end..],
        Some(b' ') => &text[end + 1..],
        Some(_) => return None,
    };
    Some((EnhancedStatusCode::new(class, subject, detail).ok()?, rest))
}

/// The text of a line after its enhanced code, when it repeats `first`, the enhanced code of
/// the reply's first line (RFC 2034: the code is on every line); the text unchanged otherwise.
pub(crate) fn strip_enhanced(first: Option<EnhancedStatusCode>, text: &[u8]) -> &[u8] {
    match (first, first.and_then(|_| enhanced_prefix(text))) {
        (Some(e), Some((f, rest))) if e == f => rest,
        _ => text,
    }
}

/// A whole reply: `Reply-line`s separated by CRLF, the last CRLF optional. A one-line reply
/// borrows its text; a longer one joins the texts into one buffer.
pub(crate) fn reply(input: &[u8]) -> Result<Reply<'_>, ReplyError> {
    let body = input.strip_suffix(b"\r\n").unwrap_or(input);
    let segments = body.split(|b| *b == b'\n').count();
    // Every line but the last ends in CRLF; a bare LF is not a line ending (RFC 5321 2.3.8).
    let mut code = None;
    let mut enhanced = None;
    let mut first_text: &[u8] = &[];
    let mut joined = Vec::new();
    for (n, seg) in body.split(|b| *b == b'\n').enumerate() {
        let line = line_of(n, seg, segments)?;
        let (c, last) = reply_line_head(line, n)?;
        if let Some(e) = code {
            if e != c {
                return Err(ReplyError::CodeMismatch {
                    line: n,
                    expected: ReplyCode::get(e),
                    found: c.get(),
                });
            }
        }
        code = Some(c);
        if n >= ReplyParserLimit::MAX {
            return Err(ReplyError::TooManyLines {
                limit: ReplyParserLimit::MAX,
            });
        }
        let text = line.get(4..).unwrap_or_default();
        if n == 0 {
            enhanced = enhanced_prefix(text).map(|(e, _)| e);
            first_text = strip_enhanced(enhanced, text);
        } else {
            if n == 1 {
                joined.reserve(body.len());
                joined.extend_from_slice(first_text);
            }
            joined.push(b'\n');
            joined.extend_from_slice(strip_enhanced(enhanced, text));
        }
        if last {
            if n + 1 < segments {
                return Err(ReplyError::TrailingData { line: n + 1 });
            }
            let text = match n {
                0 => Cow::Borrowed(first_text),
                _ => Cow::Owned(joined),
            };
            return Ok(Reply::from_parsed(c, enhanced, text, n + 1));
        }
    }
    Err(ReplyError::Incomplete)
}

/// Segment `n` of `segments` (split at LF) as a line: every line but the last ends in CRLF;
/// a bare LF is not a line ending (RFC 5321 section 2.3.8).
fn line_of(n: usize, seg: &[u8], segments: usize) -> Result<&[u8], ReplyError> {
    if n + 1 == segments {
        return Ok(seg);
    }
    seg.strip_suffix(b"\r").ok_or(ReplyError::Syntax {
        rule: "CRLF",
        line: n,
        offset: seg.len(),
    })
}

struct ReplyParserLimit;
impl ReplyParserLimit {
    const MAX: usize = crate::reply::ReplyParser::DEFAULT_MAX_LINES;
}
