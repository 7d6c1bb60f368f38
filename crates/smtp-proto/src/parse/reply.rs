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
    if let Some(bad) = line.iter().position(|b| *b == b'\r' || *b == b'\n') {
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

/// Builds a reply from its lines (each already checked by [`reply_line_head`]).
pub(crate) fn assemble<'a>(lines: impl Iterator<Item = &'a [u8]>) -> Result<Reply<'a>, ReplyError> {
    let mut code = None;
    let mut enhanced = None;
    let mut out = Vec::new();
    for (n, line) in lines.enumerate() {
        let (c, _) = reply_line_head(line, n)?;
        code.get_or_insert(c);
        let text = line.get(4..).unwrap_or_default();
        if n == 0 {
            enhanced = enhanced_prefix(text).map(|(e, _)| e);
        }
        let text = match (enhanced, enhanced_prefix(text)) {
            (Some(e), Some((f, rest))) if e == f => rest,
            _ => text,
        };
        out.push(Cow::Borrowed(text));
    }
    let Some(code) = code else {
        return Err(ReplyError::Incomplete);
    };
    Ok(Reply::from_parsed(code, enhanced, out))
}

/// Builds a reply from owned lines already checked by [`reply_line_head`], reusing their
/// buffers (the text is moved to the front of each line, not copied into new ones).
pub(crate) fn assemble_owned(code: ReplyCode, lines: Vec<Vec<u8>>) -> Reply<'static> {
    let enhanced = lines
        .first()
        .and_then(|l| enhanced_prefix(l.get(4..).unwrap_or_default()))
        .map(|(e, _)| e);
    // `into_iter` and `collect` reuse the allocation of `lines` (a `Vec<u8>` and a
    // `Cow<[u8]>` have the same size and alignment).
    let texts = lines
        .into_iter()
        .map(|mut line| {
            let text = line.get(4..).unwrap_or_default();
            let skip = match (enhanced, enhanced_prefix(text)) {
                (Some(e), Some((f, rest))) if e == f => line.len() - rest.len(),
                _ => line.len().min(4),
            };
            line.drain(..skip);
            Cow::Owned(line)
        })
        .collect();
    Reply::from_parsed(code, enhanced, texts)
}

/// A whole reply: `Reply-line`s separated by CRLF, the last CRLF optional.
pub(crate) fn reply(input: &[u8]) -> Result<Reply<'_>, ReplyError> {
    let body = input.strip_suffix(b"\r\n").unwrap_or(input);
    let segments = body.split(|b| *b == b'\n').count();
    // Every line but the last ends in CRLF; a bare LF is not a line ending (RFC 5321 2.3.8).
    let mut expected = None;
    for (n, seg) in body.split(|b| *b == b'\n').enumerate() {
        let line = line_of(n, seg, segments)?;
        let (c, last) = reply_line_head(line, n)?;
        if let Some(e) = expected {
            if e != c {
                return Err(ReplyError::CodeMismatch {
                    line: n,
                    expected: ReplyCode::get(e),
                    found: c.get(),
                });
            }
        }
        expected = Some(c);
        if n >= ReplyParserLimit::MAX {
            return Err(ReplyError::TooManyLines {
                limit: ReplyParserLimit::MAX,
            });
        }
        if last {
            if n + 1 < segments {
                return Err(ReplyError::TrailingData { line: n + 1 });
            }
            let lines: Result<Vec<&[u8]>, ReplyError> = body
                .split(|b| *b == b'\n')
                .enumerate()
                .map(|(n, seg)| line_of(n, seg, segments))
                .collect();
            return assemble(lines?.into_iter());
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
