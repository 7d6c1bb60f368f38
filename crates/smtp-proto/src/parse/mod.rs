//! Complete (not streaming) nom 8 parsers, one file per grammar area, named after the ABNF
//! rule they implement. They run on one line without its CRLF.
//!
//! [`command::command_line`] first tries [`fast`], a hand-written byte-level path for the common
//! commands, and falls back to the grammar ([`command::reference`]) for everything else and for
//! every error.

pub(crate) mod command;
pub(crate) mod ehlo;
pub(crate) mod fast;
pub(crate) mod params;
pub(crate) mod path;
pub(crate) mod reply;

use nom::error::{ContextError, ErrorKind, ParseError};

/// Character classes, as bits of [`CLASS`].
pub(crate) const ATEXT: u8 = 1; // RFC 5322 atext (ASCII)
pub(crate) const LDH: u8 = 2; // ALPHA / DIGIT / "-"
pub(crate) const VALUE: u8 = 4; // esmtp-value: %d33-60 / %d62-126
pub(crate) const XCHAR: u8 = 8; // xtext xchar: %d33-126 except "+" and "="
pub(crate) const QTEXT: u8 = 16; // qtextSMTP (ASCII): %d32-33 / %d35-91 / %d93-126
pub(crate) const DOT: u8 = 32; // "."

/// One table lookup per byte instead of a chain of comparisons (the hot paths).
pub(crate) static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let alnum = c.is_ascii_alphanumeric();
        let mut v = 0;
        if alnum
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'/'
                    | b'='
                    | b'?'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'{'
                    | b'|'
                    | b'}'
                    | b'~'
            )
        {
            v |= ATEXT;
        }
        if alnum || c == b'-' {
            v |= LDH;
        }
        if c >= 33 && c <= 126 && c != b'=' {
            v |= VALUE;
            if c != b'+' {
                v |= XCHAR;
            }
        }
        if c >= 32 && c <= 126 && c != b'"' && c != b'\\' {
            v |= QTEXT;
        }
        if c == b'.' {
            v |= DOT;
        }
        t[b] = v;
        b += 1;
    }
    t
};

/// Whether `b` is in `class`.
#[inline(always)]
pub(crate) fn is(b: u8, class: u8) -> bool {
    CLASS[usize::from(b)] & class != 0
}

/// What went wrong, inside the parsers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Syntax,
    Overflow,
    InvalidUtf8,
    Utf8NotAllowed,
    Duplicate(&'static str),
    UnexpectedArgument(&'static str),
    LocalPartTooLong,
    PathTooLong,
    /// A character refused in any UTF-8 text of a command ([`forbidden`]).
    Forbidden(char),
}

/// The private nom error: where, which rule, what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PErr<'a> {
    pub(crate) input: &'a [u8],
    pub(crate) rule: &'static str,
    pub(crate) kind: Kind,
}

impl<'a> ParseError<&'a [u8]> for PErr<'a> {
    fn from_error_kind(input: &'a [u8], _kind: ErrorKind) -> Self {
        PErr {
            input,
            rule: "",
            kind: Kind::Syntax,
        }
    }
    fn append(_input: &'a [u8], _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

impl<'a> ContextError<&'a [u8]> for PErr<'a> {
    fn add_context(_input: &'a [u8], ctx: &'static str, mut other: Self) -> Self {
        if other.rule.is_empty() {
            other.rule = ctx;
        }
        other
    }
}

pub(crate) type PResult<'a, O> = nom::IResult<&'a [u8], O, PErr<'a>>;

/// A recoverable syntax error for `rule` at `input`.
#[inline]
pub(crate) fn fail<'a, O>(input: &'a [u8], rule: &'static str) -> PResult<'a, O> {
    Err(nom::Err::Error(PErr {
        input,
        rule,
        kind: Kind::Syntax,
    }))
}

/// A fatal (no backtracking) error.
pub(crate) fn fatal<'a, O>(input: &'a [u8], rule: &'static str, kind: Kind) -> PResult<'a, O> {
    Err(nom::Err::Failure(PErr { input, rule, kind }))
}

/// Sets `rule` on an error that has none yet.
pub(crate) fn rule<'a, O>(name: &'static str, r: PResult<'a, O>) -> PResult<'a, O> {
    r.map_err(|e| {
        e.map(|mut p| {
            if p.rule.is_empty() {
                p.rule = name;
            }
            p
        })
    })
}

/// Unwraps a nom error into the private error (Incomplete cannot happen with complete parsers).
pub(crate) fn into_perr<'a>(e: nom::Err<PErr<'a>>, whole: &'a [u8]) -> PErr<'a> {
    match e {
        nom::Err::Error(p) | nom::Err::Failure(p) => p,
        nom::Err::Incomplete(_) => PErr {
            input: &whole[whole.len()..],
            rule: "",
            kind: Kind::Syntax,
        },
    }
}

/// Byte offset of `part` (a subslice of `whole`, as every error position is) within `whole`.
pub(crate) fn offset(whole: &[u8], part: &[u8]) -> usize {
    let start = whole.as_ptr() as usize;
    let at = part.as_ptr() as usize;
    if (start..=start + whole.len()).contains(&at) {
        at - start
    } else {
        whole.len().saturating_sub(part.len())
    }
}

/// Characters refused in the UTF-8 text of a command (an SMTPUTF8 address, an EHLO name,
/// a parameter value), although RFC 6531 section 3.3's `UTF8-non-ascii` admits them: they
/// break lines, or reorder what a reader sees, wherever the text is shown or logged (issue
/// 14, item 5: an address with U+2028 forged a log line). The C1 controls U+0080 to U+009F
/// (U+0085, NEL, among them), the line and paragraph separators U+2028 and U+2029, and the
/// bidirectional controls: the marks U+200E, U+200F and U+061C, the embeddings and overrides
/// U+202A to U+202E and the isolates U+2066 to U+2069. (C0 controls and DEL are ASCII, which
/// the grammar refuses everywhere in these rules already.)
#[inline]
pub(crate) fn forbidden(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// The first [`forbidden`] character of the non-ASCII text `s`, and where it is. Only
/// non-ASCII characters need looking at: the ASCII controls are outside every rule that takes
/// UTF-8. Out of line and cold, so the ASCII paths of the grammar stay as small as before.
#[cold]
#[inline(never)]
fn first_forbidden(s: &str) -> Option<(usize, char)> {
    s.char_indices().find(|&(_, c)| forbidden(c))
}

/// Converts a recognised slice to `&str`, reporting invalid UTF-8, non-ASCII without
/// permission and a [`forbidden`] character as fatal errors.
#[inline]
pub(crate) fn utf8<'a>(
    slice: &'a [u8],
    utf8_ok: bool,
    rule: &'static str,
) -> Result<&'a str, nom::Err<PErr<'a>>> {
    if let Ok(s) = std::str::from_utf8(slice) {
        if s.is_ascii() {
            return Ok(s);
        }
        if utf8_ok {
            return match first_forbidden(s) {
                None => Ok(s),
                Some((at, c)) => Err(nom::Err::Failure(PErr {
                    input: &slice[at..],
                    rule,
                    kind: Kind::Forbidden(c),
                })),
            };
        }
    }
    let first = slice.iter().position(|b| !b.is_ascii()).unwrap_or(0);
    if !utf8_ok {
        return Err(nom::Err::Failure(PErr {
            input: &slice[first..],
            rule,
            kind: Kind::Utf8NotAllowed,
        }));
    }
    std::str::from_utf8(slice).map_err(|e| {
        nom::Err::Failure(PErr {
            input: &slice[e.valid_up_to()..],
            rule,
            kind: Kind::InvalidUtf8,
        })
    })
}

/// Runs `parser` on the whole of `s` for a validating constructor.
pub(crate) fn validate<'a, O>(
    s: &'a [u8],
    name: &'static str,
    parser: impl FnOnce(&'a [u8]) -> PResult<'a, O>,
) -> Result<O, crate::ValueError> {
    match parser(s) {
        Ok(([], out)) => Ok(out),
        Ok((rest, _)) => Err(crate::ValueError {
            rule: name,
            offset: offset(s, rest),
        }),
        Err(e) => {
            let p = into_perr(e, s);
            Err(crate::ValueError {
                rule: if p.rule.is_empty() { name } else { p.rule },
                offset: offset(s, p.input),
            })
        }
    }
}

/// Parses an unsigned decimal number of 1 or more digits, with overflow as a fatal error.
#[inline]
pub(crate) fn number<'a>(i: &'a [u8], rule: &'static str) -> PResult<'a, u64> {
    let len = i.iter().take_while(|b| b.is_ascii_digit()).count();
    if len == 0 {
        return fail(i, rule);
    }
    let mut n: u64 = 0;
    for &b in &i[..len] {
        n = match n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
        {
            Some(n) => n,
            None => return fatal(i, rule, Kind::Overflow),
        };
    }
    Ok((&i[len..], n))
}
