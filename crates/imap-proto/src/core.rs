//! The lexical building blocks: tags, atoms, strings (quoted and literal), `astring`,
//! `nstring`, and free text (RFC 3501 section 9, RFC 9051 section 9).
//!
//! Parsed values borrow from the input: an atom, a tag, a text, a literal and a quoted string
//! without escapes point into the message; only a quoted string with `\"` or `\\` in it owns
//! its (unescaped) content.
//!
//! The encoder of [`IString`] and [`AString`] writes the form the value holds, with one
//! exception: a quoted string holding non-ASCII bytes is written as a synchronising literal
//! unless [`EncodeOptions::utf8`](crate::EncodeOptions::utf8) is set, because a quoted string
//! may carry UTF-8 only under IMAP4rev2 or UTF8=ACCEPT (a bare [`Quoted`], for the places
//! where the grammar has `quoted` and no literal, is always written quoted). The constructors
//! [`IString::from_bytes`] and [`AString::from_bytes`] choose the form: an atom when every byte
//! is an `ASTRING-CHAR` (for `astring`), a quoted string when the content is valid UTF-8
//! without CR, LF or NUL and at most [`QUOTED_MAX`] octets long, else a synchronising literal.
//!
//! ```
//! use imap_proto::core::{AString, IString, Literal, LiteralMode};
//! use imap_proto::{Encode, ErrorKind};
//!
//! // The encoder picks the form: atom, quoted string or literal.
//! assert_eq!(AString::from_bytes(&b"fred"[..]).unwrap().to_bytes(), b"fred");
//! assert_eq!(AString::from_bytes(&b"my \"pw\""[..]).unwrap().to_bytes(), br#""my \"pw\"""#);
//! let multi_line = IString::from_bytes(&b"a\r\nb"[..]).unwrap();
//! let encoded = multi_line.encoded();
//! assert_eq!(encoded.as_bytes(), b"{4}\r\na\r\nb");
//! assert_eq!(encoded.wait_points(), &[5]); // wait for "+ ..." before the data
//!
//! // Parsing borrows, and a literal cannot claim more than the input holds.
//! let s = AString::parse(b"{5}\r\nhello").unwrap();
//! assert_eq!(s.data(), b"hello");
//! let e = Literal::parse(b"{4000000000}\r\nabc").unwrap_err();
//! assert_eq!((e.offset(), e.kind()), (0, ErrorKind::Incomplete));
//!
//! // A value that would not encode to itself cannot be built.
//! assert!(Literal::new(&b"nul\0"[..], LiteralMode::Sync).is_err());
//! ```

use std::borrow::Cow;

use crate::encode::{Encode, Writer};
use crate::error::{ErrorKind, ParseError, ValidationError};
use crate::parse::{PResult, Quirks, Reader, is_astring_char, is_atom_char, is_tag_char};

/// How a literal was sent (RFC 3501 section 4.3, RFC 7888). The encoder does not follow it:
/// the form it writes depends on [`EncodeOptions::literal_plus`](crate::EncodeOptions) alone
/// (what the peer allows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LiteralMode {
    /// `{n}`: the client waits for a continuation request before sending the data.
    #[default]
    Sync,
    /// `{n+}` (LITERAL+ / LITERAL-): the data follows at once.
    NonSync,
}

/// Longest content that [`IString::from_bytes`] and [`AString::from_bytes`] send as a quoted
/// string; longer content goes as a literal. Quoted strings count towards the line length that
/// servers limit (Dovecot: 64 KiB per line), literals do not, and a literal of known length is
/// cheaper for the peer to read than a long string it must scan for escapes.
pub const QUOTED_MAX: usize = 1000;

/// An error at the current offset: [`ErrorKind::Incomplete`] when the input has ended there
/// (the parser was handed less than a frame), [`ErrorKind::Syntax`] otherwise.
pub(crate) fn fail(r: &Reader<'_>, expected: &'static str) -> ParseError {
    if r.is_empty() {
        r.error_kind(expected, ErrorKind::Incomplete)
    } else {
        r.error(expected)
    }
}

/// Parse all of `input` as one value read by `read` ([`Quirks::STRICT`]); bytes after the
/// value are an error at their offset.
pub(crate) fn parse_whole<'a, T>(
    input: &'a [u8],
    read: impl FnOnce(&mut Reader<'a>) -> PResult<T>,
) -> Result<T, ParseError> {
    let mut r = Reader::new(input, Quirks::STRICT);
    let value = read(&mut r)?;
    if r.is_empty() {
        Ok(value)
    } else {
        Err(r.error("end of input"))
    }
}

/// The 7-bit bytes a token parser took, as `str` (they are ASCII by construction; the check
/// costs one pass and avoids `unsafe`).
fn ascii<'a>(bytes: &'a [u8], at: usize, expected: &'static str) -> PResult<&'a str> {
    std::str::from_utf8(bytes).map_err(|_| ParseError::new(at, expected, ErrorKind::Encoding))
}

/// Check that `seg` (starting at offset `base`) holds no NUL, CR or LF and is UTF-8; the error
/// points at the first offending byte. With `open_end` (`seg` runs to the end of the input) a
/// UTF-8 sequence cut by the end is [`ErrorKind::Incomplete`].
fn check_text(seg: &[u8], base: usize, expected: &'static str, open_end: bool) -> PResult<()> {
    let bad = memchr::memchr3(0, b'\r', b'\n', seg);
    let head = bad.map_or(seg, |p| &seg[..p]);
    if !head.is_ascii() {
        if let Err(e) = std::str::from_utf8(head) {
            let cut = open_end && bad.is_none() && e.error_len().is_none();
            return Err(ParseError::new(
                base + e.valid_up_to(),
                expected,
                if cut {
                    ErrorKind::Incomplete
                } else {
                    ErrorKind::Encoding
                },
            ));
        }
    }
    match bad {
        Some(p) => Err(ParseError::new(base + p, expected, ErrorKind::Syntax)),
        None => Ok(()),
    }
}

/// Why `data` cannot be the content of a quoted string, if it cannot.
fn quoted_refusal(data: &[u8]) -> Option<&'static str> {
    if memchr::memchr3(0, b'\r', b'\n', data).is_some() {
        Some("NUL, CR and LF cannot be quoted")
    } else if !data.is_ascii() && std::str::from_utf8(data).is_err() {
        Some("a quoted string holds UTF-8 only")
    } else {
        None
    }
}

fn check_token(
    s: &str,
    pred: fn(u8) -> bool,
    what: &'static str,
    reason: &'static str,
) -> Result<(), ValidationError> {
    if s.is_empty() {
        Err(ValidationError::new(what, "empty"))
    } else if !s.bytes().all(pred) {
        Err(ValidationError::new(what, reason))
    } else {
        Ok(())
    }
}

/// A byte class as a lookup table (one load per byte in the token loops), built at compile
/// time from a `const fn(u8) -> bool`.
macro_rules! class_table {
    ($pred:path) => {{
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = $pred(i as u8);
            i += 1;
        }
        t
    }};
}
pub(crate) use class_table;

/// The length of the run of bytes at the start of `bytes` that are in `class`.
#[inline]
pub(crate) fn run_len(bytes: &[u8], class: &[bool; 256]) -> usize {
    bytes
        .iter()
        .position(|&b| !class[usize::from(b)])
        .unwrap_or(bytes.len())
}

/// Bytes of a quoted string that need no attention: 7-bit, not NUL, CR, LF, `"` or `\`.
const fn is_quoted_plain(b: u8) -> bool {
    matches!(b, 0x01..=0x7f) && !matches!(b, b'\r' | b'\n' | b'"' | b'\\')
}

static QUOTED_PLAIN: [bool; 256] = class_table!(is_quoted_plain);

/// The length of the run of 7-bit bytes other than NUL and `specials` at the start of
/// `bytes` (`table` holds the same class byte by byte), eight bytes at a time (SWAR, no
/// `unsafe`): a word goes through when none of its bytes is 8-bit, NUL or special (the classic
/// "has a zero byte" test on the word and on its XOR with each special byte). In a word that
/// holds such a byte the lowest flagged byte is exactly the first one (the borrows of the
/// subtraction only run upwards from a zero byte), so the scan stops there.
fn plain_len<const N: usize>(bytes: &[u8], specials: [u8; N], table: &[bool; 256]) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const fn has_zero(x: u64) -> u64 {
        x.wrapping_sub(LO) & !x & HI
    }
    let mut done = 0;
    for chunk in bytes.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let mut special = (x & HI) | has_zero(x);
        for s in specials {
            special |= has_zero(x ^ (LO * u64::from(s)));
        }
        if special != 0 {
            return done + (special.trailing_zeros() / 8) as usize;
        }
        done += 8;
    }
    done + run_len(bytes.get(done..).unwrap_or(&[]), table)
}

/// [`plain_len`] for the content of a quoted string.
fn quoted_plain_len(bytes: &[u8]) -> usize {
    plain_len(bytes, [b'"', b'\\', b'\r', b'\n'], &QUOTED_PLAIN)
}

/// Bytes of a text that need no attention: 7-bit, not NUL, CR or LF.
const fn is_text_plain(b: u8) -> bool {
    matches!(b, 0x01..=0x7f) && !matches!(b, b'\r' | b'\n')
}

static TEXT_PLAIN: [bool; 256] = class_table!(is_text_plain);

static TAG_CHARS: [bool; 256] = class_table!(is_tag_char);
static ATOM_CHARS: [bool; 256] = class_table!(is_atom_char);
static ASTRING_CHARS: [bool; 256] = class_table!(is_astring_char);

fn read_token<'a>(
    r: &mut Reader<'a>,
    class: &[bool; 256],
    expected: &'static str,
) -> PResult<&'a str> {
    let at = r.pos();
    let n = run_len(r.rest(), class);
    let t = r.take(n, expected)?;
    if t.is_empty() {
        return Err(fail(r, expected));
    }
    ascii(t, at, expected)
}

/// `pub fn into_static(self) -> Type<'static>` for an enum whose variants each hold one value
/// with an `into_static` of its own (the string types with two forms).
macro_rules! into_static_by_variant {
    ($(#[$doc:meta])* $ty:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        pub fn into_static(self) -> $ty<'static> {
            match self {
                $($ty::$variant(v) => $ty::$variant(v.into_static()),)+
            }
        }
    };
}

macro_rules! token_type {
    (
        $(#[$doc:meta])*
        $name:ident, $pred:path, $table:ident, $what:literal, $reason:literal
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name<'a>(Cow<'a, str>);

        impl<'a> $name<'a> {
            #[doc = concat!("A ", $what, "; refused when empty or when a character is not allowed.")]
            pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, ValidationError> {
                let s = s.into();
                check_token(&s, $pred, $what, $reason)?;
                Ok(Self(s))
            }

            /// The characters.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The characters, owned or borrowed as they are held.
            pub fn into_inner(self) -> Cow<'a, str> {
                self.0
            }

            /// The same value owning its characters.
            pub fn into_static(self) -> $name<'static> {
                $name(Cow::Owned(self.0.into_owned()))
            }

            #[doc = concat!("Parse `input`, which must be exactly one ", $what, " (nothing before or after it).")]
            pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
                parse_whole(input, Self::read)
            }

            #[doc = concat!("Read one ", $what, ".")]
            pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
                read_token(r, &$table, $what).map(|s| Self(Cow::Borrowed(s)))
            }
        }

        impl Encode for $name<'_> {
            fn encode(&self, w: &mut Writer) {
                w.raw(self.0.as_bytes());
            }
        }

        impl std::fmt::Display for $name<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// A command tag: `tag = 1*<any ASTRING-CHAR except "+">` (RFC 3501 section 9, RFC 9051
/// section 9).
///
/// The characters are kept as the octets they were read from: a tag is 7-bit by construction,
/// and every command and tagged response carries one, so the parser does not spend a UTF-8
/// check on each. [`Tag::as_str`] makes the `&str` when it is asked for (the check then runs
/// on the tag's few octets); [`Tag::as_bytes`] and the encoder use the octets as they are.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag<'a>(Cow<'a, [u8]>);

/// Why [`Tag::new`] refuses a tag.
const TAG_REFUSAL: &str = "a tag holds ASTRING-CHARs except '+' (no SP, CTL, 8-bit, '(', ')', '{', '%', '*', '\"' or '\\')";

impl<'a> Tag<'a> {
    /// A tag; refused when empty or when a character is not allowed.
    pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, ValidationError> {
        let s = s.into();
        check_token(&s, is_tag_char, "tag", TAG_REFUSAL)?;
        Ok(Self(match s {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        }))
    }

    /// The characters (made from the tag's octets on each call: keep the `&str` rather than
    /// asking again in a loop).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The characters as the octets they are written with (7-bit).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The characters, owned or borrowed as they are held.
    pub fn into_inner(self) -> Cow<'a, str> {
        match self.0 {
            Cow::Borrowed(b) => Cow::Borrowed(std::str::from_utf8(b).unwrap_or_default()),
            Cow::Owned(v) => Cow::Owned(String::from_utf8(v).unwrap_or_default()),
        }
    }

    /// The same value owning its characters.
    pub fn into_static(self) -> Tag<'static> {
        Tag(Cow::Owned(self.0.into_owned()))
    }

    /// Parse `input`, which must be exactly one tag (nothing before or after it).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Read one tag.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        let n = run_len(r.rest(), &TAG_CHARS);
        let t = r.take(n, "tag")?;
        if t.is_empty() {
            return Err(fail(r, "tag"));
        }
        Ok(Self(Cow::Borrowed(t)))
    }

    /// The tag over `bytes`, which the caller has checked are one or more tag characters
    /// ([`tag_len`] of them).
    #[inline]
    pub(crate) fn from_checked(bytes: &'a [u8]) -> Self {
        debug_assert!(!bytes.is_empty() && bytes.iter().all(|&b| is_tag_char(b)));
        Self(Cow::Borrowed(bytes))
    }
}

/// The length of the run of tag characters at the start of `bytes` (0 when it does not start
/// with a tag).
#[inline]
pub(crate) fn tag_len(bytes: &[u8]) -> usize {
    run_len(bytes, &TAG_CHARS)
}

impl Encode for Tag<'_> {
    fn encode(&self, w: &mut Writer) {
        w.raw(&self.0);
    }
}

impl std::fmt::Display for Tag<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// As a tuple of its characters, `Tag("A001")`, as when it held a `str`.
impl std::fmt::Debug for Tag<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Tag").field(&self.as_str()).finish()
    }
}

token_type!(
    /// `atom = 1*ATOM-CHAR` (RFC 3501 section 9): printable 7-bit characters except the
    /// atom-specials `(`, `)`, `{`, SP, `%`, `*`, `"`, `\` and `]`.
    Atom,
    is_atom_char,
    ATOM_CHARS,
    "atom",
    "an atom holds printable 7-bit characters except '(', ')', '{', SP, '%', '*', '\"', '\\' and ']'"
);

token_type!(
    /// The atom form of an `astring`: `1*ASTRING-CHAR` (RFC 3501 section 9), that is an atom
    /// in which `]` is also allowed.
    AtomExt,
    is_astring_char,
    ASTRING_CHARS,
    "astring atom",
    "an astring atom holds printable 7-bit characters except '(', ')', '{', SP, '%', '*', '\"' and '\\'"
);

impl<'a> From<Atom<'a>> for AtomExt<'a> {
    /// Every atom is an astring atom.
    fn from(a: Atom<'a>) -> Self {
        AtomExt(a.0)
    }
}

/// `quoted = DQUOTE *QUOTED-CHAR DQUOTE` (RFC 3501 section 9; UTF-8 allowed as in RFC 9051
/// and RFC 6855). The value is the unescaped content: `\"` and `\\` are the only escapes, and
/// the encoder writes them back. Content is UTF-8 without NUL, CR or LF.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quoted<'a>(Cow<'a, [u8]>);

impl<'a> Quoted<'a> {
    /// A quoted string with this (unescaped) content; refused when it holds NUL, CR or LF or
    /// is not UTF-8.
    pub fn new(data: impl Into<Cow<'a, [u8]>>) -> Result<Self, ValidationError> {
        let data = data.into();
        match quoted_refusal(&data) {
            Some(reason) => Err(ValidationError::new("quoted string", reason)),
            None => Ok(Self(data)),
        }
    }

    /// The unescaped content.
    pub fn data(&self) -> &[u8] {
        &self.0
    }

    /// The unescaped content as text (it is UTF-8 by construction).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The content, owned or borrowed as it is held.
    pub fn into_inner(self) -> Cow<'a, [u8]> {
        self.0
    }

    /// The same value owning its content.
    pub fn into_static(self) -> Quoted<'static> {
        Quoted(Cow::Owned(self.0.into_owned()))
    }

    /// Parse `input`, which must be exactly one `quoted` (nothing before or after it).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Read a `quoted`. Without escapes the content is borrowed; errors point at the
    /// offending byte (a CR, LF or NUL, bytes that are not UTF-8, a `\` followed by anything
    /// but `"` or `\`), or at the end of the input when the closing quote is missing.
    #[inline]
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        // Fast path, inlined into the callers (so the value is built in place): 7-bit content
        // without escapes, which most quoted strings on the wire are. Anything else is
        // scanned again by the general reader.
        match Self::read_plain(r) {
            Some(data) => Ok(Quoted(Cow::Borrowed(data))),
            None => Self::read_general(r),
        }
    }

    /// The content of a `quoted` that is 7-bit without escapes (no NUL, CR or LF), consumed
    /// with its quotes, in one pass; `None`, with nothing consumed, for anything else (which
    /// [`Quoted::read`] handles). Returns a plain slice so that hot callers can build their
    /// value in place (see [`Quoted::from_plain`]).
    #[inline(always)]
    pub(crate) fn read_plain(r: &mut Reader<'a>) -> Option<&'a [u8]> {
        if r.peek() != Some(b'"') {
            return None;
        }
        let rest = r.rest().get(1..).unwrap_or(&[]);
        let n = quoted_plain_len(rest);
        if rest.get(n) == Some(&b'"') {
            r.reset(r.pos() + n + 2);
            return rest.get(..n);
        }
        None
    }

    /// The quoted string over content that [`Quoted::read_plain`] returned.
    #[inline]
    pub(crate) fn from_plain(data: &'a [u8]) -> Self {
        Quoted(Cow::Borrowed(data))
    }

    /// [`Quoted::read`] for any content: escapes, UTF-8, and the errors.
    #[inline(never)]
    fn read_general(r: &mut Reader<'a>) -> PResult<Self> {
        if r.peek() != Some(b'"') {
            return Err(fail(r, "quoted"));
        }
        r.next_byte();
        let base = r.pos();
        let rest = r.rest();
        let mut owned: Option<Vec<u8>> = None;
        let mut i = 0;
        loop {
            let tail = rest.get(i..).unwrap_or(&[]);
            let Some(j) = memchr::memchr2(b'"', b'\\', tail) else {
                check_text(tail, base + i, "QUOTED-CHAR", true)?;
                return Err(ParseError::new(
                    base + rest.len(),
                    "'\"'",
                    ErrorKind::Incomplete,
                ));
            };
            let seg = &tail[..j];
            check_text(seg, base + i, "QUOTED-CHAR", false)?;
            let end = i + j;
            if tail[j] == b'"' {
                r.take(end + 1, "'\"'")?;
                let data = match owned {
                    None => Cow::Borrowed(seg),
                    Some(mut v) => {
                        v.extend_from_slice(seg);
                        Cow::Owned(v)
                    }
                };
                return Ok(Quoted(data));
            }
            match tail.get(j + 1) {
                Some(&c @ (b'"' | b'\\')) => {
                    let v = owned.get_or_insert_with(|| Vec::with_capacity(end + 16));
                    v.extend_from_slice(seg);
                    v.push(c);
                    i = end + 2;
                }
                Some(_) => {
                    return Err(ParseError::new(
                        base + end + 1,
                        "'\"' or '\\' after '\\'",
                        ErrorKind::Syntax,
                    ));
                }
                None => {
                    return Err(ParseError::new(
                        base + end + 1,
                        "'\"' or '\\' after '\\'",
                        ErrorKind::Incomplete,
                    ));
                }
            }
        }
    }
}

/// Write `data` as a quoted string with `"` and `\` escaped.
fn write_quoted(w: &mut Writer, data: &[u8]) {
    w.byte(b'"');
    let mut rest = data;
    while let Some(i) = memchr::memchr2(b'"', b'\\', rest) {
        w.raw(&rest[..i]);
        w.byte(b'\\');
        w.byte(rest[i]);
        rest = &rest[i + 1..];
    }
    w.raw(rest);
    w.byte(b'"');
}

impl Encode for Quoted<'_> {
    /// Writes `"..."` with `"` and `\` escaped, whatever the content (where the grammar has
    /// `string`, [`IString`] falls back to a literal for UTF-8 the peer does not accept).
    fn encode(&self, w: &mut Writer) {
        write_quoted(w, &self.0);
    }
}

/// The header of a literal after its `{`: `number64 ["+"] "}" CRLF`, then the data, bounded by
/// the input: a length beyond the rest of the input is [`ErrorKind::Incomplete`] at `start`
/// (the literal's first byte), never an allocation.
fn read_literal_body<'a>(r: &mut Reader<'a>, start: usize) -> PResult<(&'a [u8], LiteralMode)> {
    if r.is_empty() {
        return Err(fail(r, "number"));
    }
    let n = r.number64()?;
    if r.from_server && !r.quirks.nonsync_literals && r.peek() == Some(b'+') {
        return Err(r.error("'}' (no non-synchronising literal from a server)"));
    }
    let mode = if r.eat(b'+') {
        LiteralMode::NonSync
    } else {
        LiteralMode::Sync
    };
    if !r.eat(b'}') {
        return Err(fail(r, "'}'"));
    }
    let rest = r.rest();
    if rest.starts_with(b"\r\n") {
        r.take(2, "CRLF")?;
    } else if b"\r\n".starts_with(rest) {
        return Err(r.error_kind("CRLF", ErrorKind::Incomplete));
    } else {
        return Err(r.error("CRLF"));
    }
    let have = r.rest().len();
    let n = usize::try_from(n)
        .ok()
        .filter(|&n| n <= have)
        .ok_or_else(|| ParseError::new(start, "literal data", ErrorKind::Incomplete))?;
    Ok((r.take(n, "literal data")?, mode))
}

/// `literal = "{" number64 ["+"] "}" CRLF *CHAR8` (RFC 9051 section 9; RFC 3501 section 9
/// has `number`, RFC 7888 section 8 adds the `+`): data of known length, any octet but NUL.
/// The length is bounded by the input, so a 63-bit length costs nothing.
///
/// Equality and hashing look at the data only: the mode is a wire detail (the encoder picks
/// the form from its options, see [`Writer::literal`](crate::encode::Writer::literal)).
#[derive(Debug, Clone)]
pub struct Literal<'a> {
    data: Cow<'a, [u8]>,
    mode: LiteralMode,
}

impl<'a> Literal<'a> {
    /// A literal with this data and `mode` (kept, not used by the encoder, which writes the
    /// form the options allow); refused when the data holds NUL
    /// (`CHAR8` is `%x01-ff`; use [`Literal8`] for binary data).
    pub fn new(data: impl Into<Cow<'a, [u8]>>, mode: LiteralMode) -> Result<Self, ValidationError> {
        let data = data.into();
        if memchr::memchr(0, &data).is_some() {
            return Err(ValidationError::new(
                "literal",
                "NUL is not a CHAR8 (use literal8)",
            ));
        }
        Ok(Self { data, mode })
    }

    /// The data.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Synchronising or not, as read (or given to `new`).
    pub fn mode(&self) -> LiteralMode {
        self.mode
    }

    /// The data, owned or borrowed as it is held.
    pub fn into_inner(self) -> Cow<'a, [u8]> {
        self.data
    }

    /// The same value owning its data.
    pub fn into_static(self) -> Literal<'static> {
        Literal {
            data: Cow::Owned(self.data.into_owned()),
            mode: self.mode,
        }
    }

    /// Parse `input`, which must be exactly one `literal` (nothing before or after it).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Read a `literal`; the data is borrowed.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        let start = r.pos();
        if !r.eat(b'{') {
            return Err(fail(r, "literal"));
        }
        let (data, mode) = read_literal_body(r, start)?;
        if let Some(p) = memchr::memchr(0, data) {
            return Err(ParseError::new(
                r.pos() - data.len() + p,
                "CHAR8 (not NUL)",
                ErrorKind::Syntax,
            ));
        }
        Ok(Self {
            data: Cow::Borrowed(data),
            mode,
        })
    }
}

impl Encode for Literal<'_> {
    fn encode(&self, w: &mut Writer) {
        w.literal(&self.data, self.mode, false);
    }
}

/// `literal8 = "~{" number64 ["+"] "}" CRLF *OCTET` (RFC 3516 section 4.2, RFC 7888,
/// RFC 9051 section 9): binary data of known length, NUL allowed. Equality and hashing look
/// at the data only (the mode is a wire detail).
#[derive(Debug, Clone)]
pub struct Literal8<'a> {
    data: Cow<'a, [u8]>,
    mode: LiteralMode,
}

impl<'a> Literal8<'a> {
    /// A binary literal with this data (any octets) and `mode` (kept, not used by the
    /// encoder, which writes the form the options allow).
    pub fn new(data: impl Into<Cow<'a, [u8]>>, mode: LiteralMode) -> Self {
        Self {
            data: data.into(),
            mode,
        }
    }

    /// The data.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Synchronising or not, as read (or given to `new`).
    pub fn mode(&self) -> LiteralMode {
        self.mode
    }

    /// The data, owned or borrowed as it is held.
    pub fn into_inner(self) -> Cow<'a, [u8]> {
        self.data
    }

    /// The same value owning its data.
    pub fn into_static(self) -> Literal8<'static> {
        Literal8 {
            data: Cow::Owned(self.data.into_owned()),
            mode: self.mode,
        }
    }

    /// Parse `input`, which must be exactly one `literal8` (nothing before or after it).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Read a `literal8`; the data is borrowed.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        let start = r.pos();
        if !r.eat(b'~') {
            return Err(fail(r, "literal8"));
        }
        if !r.eat(b'{') {
            return Err(fail(r, "'{'"));
        }
        let (data, mode) = read_literal_body(r, start)?;
        Ok(Self {
            data: Cow::Borrowed(data),
            mode,
        })
    }
}

impl Encode for Literal8<'_> {
    fn encode(&self, w: &mut Writer) {
        w.literal(&self.data, self.mode, true);
    }
}

/// `string = quoted / literal` (RFC 3501 section 9).
///
/// Equality and hashing look at the content ([`IString::data`]) only, not at the form: a
/// quoted string and a literal with the same octets are equal (the encoder may write either,
/// depending on its options, so the form is a wire detail).
#[derive(Debug, Clone)]
pub enum IString<'a> {
    /// `quoted`.
    Quoted(Quoted<'a>),
    /// `literal`.
    Literal(Literal<'a>),
}

impl<'a> IString<'a> {
    /// A string with this content, quoted when it can be (UTF-8 without CR, LF or NUL, at
    /// most [`QUOTED_MAX`] octets), else a synchronising literal; refused when it holds NUL.
    pub fn from_bytes(data: impl Into<Cow<'a, [u8]>>) -> Result<Self, ValidationError> {
        let data = data.into();
        if data.len() <= QUOTED_MAX && quoted_refusal(&data).is_none() {
            Ok(IString::Quoted(Quoted(data)))
        } else {
            Literal::new(data, LiteralMode::Sync).map(IString::Literal)
        }
    }

    /// The content.
    pub fn data(&self) -> &[u8] {
        match self {
            IString::Quoted(q) => q.data(),
            IString::Literal(l) => l.data(),
        }
    }

    /// The content, owned or borrowed as it is held.
    pub fn into_inner(self) -> Cow<'a, [u8]> {
        match self {
            IString::Quoted(q) => q.into_inner(),
            IString::Literal(l) => l.into_inner(),
        }
    }

    into_static_by_variant!(
        /// The same value owning its content.
        IString { Quoted, Literal }
    );

    /// Parse `input`, which must be exactly one `string` (nothing before or after it).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Read a `string`.
    #[inline]
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        match r.peek() {
            Some(b'"') => Quoted::read(r).map(IString::Quoted),
            Some(b'{') => Literal::read(r).map(IString::Literal),
            _ => Err(fail(r, "string")),
        }
    }

    /// Read a `string`, or with [`Quirks::nil_as_string`](crate::Quirks::nil_as_string)
    /// also `NIL`, read as the empty quoted string (servers that send `NIL` where the
    /// response grammar has `string`).
    #[allow(dead_code)] // called by the response parsers (branch i17-response); lifted at merge
    pub(crate) fn read_lenient(r: &mut Reader<'a>) -> PResult<Self> {
        if r.quirks.nil_as_string && r.keyword("NIL") {
            return Ok(IString::Quoted(Quoted(Cow::Borrowed(&[]))));
        }
        Self::read(r)
    }
}

impl<'a> From<Quoted<'a>> for IString<'a> {
    fn from(q: Quoted<'a>) -> Self {
        IString::Quoted(q)
    }
}

impl<'a> From<Literal<'a>> for IString<'a> {
    fn from(l: Literal<'a>) -> Self {
        IString::Literal(l)
    }
}

impl Encode for IString<'_> {
    /// Writes the form held, except that a quoted string with non-ASCII content is written as
    /// a synchronising literal unless [`EncodeOptions::utf8`](crate::EncodeOptions::utf8) is
    /// set (a quoted string may carry UTF-8 only under IMAP4rev2 or UTF8=ACCEPT).
    fn encode(&self, w: &mut Writer) {
        match self {
            IString::Quoted(q) if !w.options().utf8 && !q.0.is_ascii() => {
                w.literal(&q.0, LiteralMode::Sync, false);
            }
            IString::Quoted(q) => q.encode(w),
            IString::Literal(l) => l.encode(w),
        }
    }
}

/// `astring = 1*ASTRING-CHAR / string` (RFC 3501 section 9).
///
/// Equality and hashing look at the content ([`AString::data`]) only: the atom, quoted and
/// literal forms of the same octets are equal (as are [`NString`]s holding them).
#[derive(Debug, Clone)]
pub enum AString<'a> {
    /// The atom form.
    Atom(AtomExt<'a>),
    /// A quoted string or literal.
    String(IString<'a>),
}

impl<'a> AString<'a> {
    /// An astring with this content: an atom when every byte is an `ASTRING-CHAR`, else as
    /// [`IString::from_bytes`] chooses; refused when it holds NUL.
    pub fn from_bytes(data: impl Into<Cow<'a, [u8]>>) -> Result<Self, ValidationError> {
        let data = data.into();
        if !data.is_empty() && data.iter().all(|&b| is_astring_char(b)) {
            let s = match data {
                Cow::Borrowed(b) => std::str::from_utf8(b).map(Cow::Borrowed),
                Cow::Owned(v) => String::from_utf8(v)
                    .map(Cow::Owned)
                    .map_err(|e| e.utf8_error()),
            };
            // ASTRING-CHARs are ASCII, so the conversion cannot fail.
            let s = s.map_err(|_| ValidationError::new("astring", "not ASCII"))?;
            return Ok(AString::Atom(AtomExt(s)));
        }
        IString::from_bytes(data).map(AString::String)
    }

    /// The content.
    pub fn data(&self) -> &[u8] {
        match self {
            AString::Atom(a) => a.as_str().as_bytes(),
            AString::String(s) => s.data(),
        }
    }

    into_static_by_variant!(
        /// The same value owning its content.
        AString { Atom, String }
    );

    /// Parse `input`, which must be exactly one `astring` (nothing before or after it).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Read an `astring`.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        match r.peek() {
            Some(b'"' | b'{') => IString::read(r).map(AString::String),
            _ => read_token(r, &ASTRING_CHARS, "astring")
                .map(|s| AString::Atom(AtomExt(Cow::Borrowed(s)))),
        }
    }
}

impl<'a> From<AtomExt<'a>> for AString<'a> {
    fn from(a: AtomExt<'a>) -> Self {
        AString::Atom(a)
    }
}

impl<'a> From<Atom<'a>> for AString<'a> {
    fn from(a: Atom<'a>) -> Self {
        AString::Atom(a.into())
    }
}

impl<'a> From<IString<'a>> for AString<'a> {
    fn from(s: IString<'a>) -> Self {
        AString::String(s)
    }
}

impl Encode for AString<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            AString::Atom(a) => a.encode(w),
            AString::String(s) => s.encode(w),
        }
    }
}

/// `nstring = string / nil` (RFC 3501 section 9): `None` is `NIL`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NString<'a>(pub Option<IString<'a>>);

impl<'a> NString<'a> {
    /// `NIL`.
    pub const NIL: NString<'static> = NString(None);

    /// The content, `None` for `NIL`.
    pub fn data(&self) -> Option<&[u8]> {
        self.0.as_ref().map(IString::data)
    }

    /// The same value owning its content.
    pub fn into_static(self) -> NString<'static> {
        NString(self.0.map(IString::into_static))
    }

    /// Parse `input`, which must be exactly one `nstring` (nothing before or after it).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Read an `nstring` (`NIL` in any case).
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        match r.peek() {
            Some(b'"' | b'{') => IString::read(r).map(|s| NString(Some(s))),
            _ if r.keyword("NIL") => Ok(NString(None)),
            _ => Err(fail(r, "nstring")),
        }
    }
}

impl<'a> From<Option<IString<'a>>> for NString<'a> {
    fn from(s: Option<IString<'a>>) -> Self {
        NString(s)
    }
}

impl<'a> From<IString<'a>> for NString<'a> {
    fn from(s: IString<'a>) -> Self {
        NString(Some(s))
    }
}

impl Encode for NString<'_> {
    fn encode(&self, w: &mut Writer) {
        match &self.0 {
            Some(s) => s.encode(w),
            None => w.raw(b"NIL"),
        }
    }
}

/// `nstring / literal8`, the value of a `BINARY[...]` FETCH item (RFC 3516 section 4.2,
/// RFC 9051 section 9).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NString8<'a> {
    /// A string or `NIL`.
    NString(NString<'a>),
    /// Binary data.
    Literal8(Literal8<'a>),
}

impl<'a> NString8<'a> {
    /// The content, `None` for `NIL`.
    pub fn data(&self) -> Option<&[u8]> {
        match self {
            NString8::NString(n) => n.data(),
            NString8::Literal8(l) => Some(l.data()),
        }
    }

    into_static_by_variant!(
        /// The same value owning its content.
        NString8 { NString, Literal8 }
    );

    /// Parse `input`, which must be exactly one `nstring / literal8` (nothing before or after it).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Read an `nstring` or a `literal8`.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        if r.peek() == Some(b'~') {
            return Literal8::read(r).map(NString8::Literal8);
        }
        let start = r.pos();
        match NString::read(r) {
            Ok(n) => Ok(NString8::NString(n)),
            // nothing matched at all: name both alternatives
            Err(e) if e.offset() == start && r.pos() == start && e.kind() == ErrorKind::Syntax => {
                Err(r.error("nstring or literal8"))
            }
            Err(e) => Err(e),
        }
    }
}

impl Encode for NString8<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            NString8::NString(n) => n.encode(w),
            NString8::Literal8(l) => l.encode(w),
        }
    }
}

/// `text = 1*TEXT-CHAR` (RFC 3501 section 9; UTF-8 allowed as in RFC 9051): any characters
/// but CR, LF and NUL, at least one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text<'a>(Cow<'a, str>);

impl<'a> Text<'a> {
    /// A text; refused when empty, holding CR, LF or NUL, or ending like a literal header
    /// (`{5}`, `{5+}`: the framer would take the line for a literal announcement).
    pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, ValidationError> {
        let s = s.into();
        if s.is_empty() {
            Err(ValidationError::new("text", "empty"))
        } else if memchr::memchr3(0, b'\r', b'\n', s.as_bytes()).is_some() {
            Err(ValidationError::new(
                "text",
                "NUL, CR and LF are not TEXT-CHARs",
            ))
        } else if ends_like_literal_header(s.as_bytes()) {
            Err(ValidationError::new(
                "text",
                "ends like a literal header ({n} or {n+}), which frames as a literal",
            ))
        } else {
            Ok(Self(s))
        }
    }

    /// The characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The characters, owned or borrowed as they are held.
    pub fn into_inner(self) -> Cow<'a, str> {
        self.0
    }

    /// The same value owning its characters.
    pub fn into_static(self) -> Text<'static> {
        Text(Cow::Owned(self.0.into_owned()))
    }

    /// Parse `input`, which must be exactly one `text` (nothing before or after it).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Read a `text`: everything up to the next CR or LF (a NUL or bytes that are not UTF-8
    /// are errors at their offset).
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        let at = r.pos();
        let rest = r.rest();
        // Fast path: 7-bit text up to CR, LF or the end needs no other check.
        let plain = plain_len(rest, [b'\r', b'\n'], &TEXT_PLAIN);
        if plain > 0 && matches!(rest.get(plain), None | Some(b'\r' | b'\n')) {
            if ends_like_literal_header(rest.get(..plain).unwrap_or(&[])) {
                return Err(ParseError::new(at + plain - 1, "text", ErrorKind::Syntax));
            }
            let t = r.take(plain, "text")?;
            return ascii(t, at, "TEXT-CHAR").map(|s| Text(Cow::Borrowed(s)));
        }
        let end = memchr::memchr2(b'\r', b'\n', rest).unwrap_or(rest.len());
        let seg = &rest[..end];
        if seg.is_empty() {
            return Err(fail(r, "text"));
        }
        let nul = memchr::memchr(0, seg);
        let s = match (std::str::from_utf8(seg), nul) {
            (Ok(s), None) => s,
            (Ok(_), Some(p)) => {
                return Err(ParseError::new(at + p, "TEXT-CHAR", ErrorKind::Syntax));
            }
            (Err(e), Some(p)) if p < e.valid_up_to() => {
                return Err(ParseError::new(at + p, "TEXT-CHAR", ErrorKind::Syntax));
            }
            // a UTF-8 sequence cut by the end of the input
            (Err(e), _) if e.error_len().is_none() && end == rest.len() => {
                return Err(ParseError::new(
                    at + e.valid_up_to(),
                    "TEXT-CHAR",
                    ErrorKind::Incomplete,
                ));
            }
            (Err(e), _) => {
                return Err(ParseError::new(
                    at + e.valid_up_to(),
                    "TEXT-CHAR",
                    ErrorKind::Encoding,
                ));
            }
        };
        if ends_like_literal_header(seg) {
            return Err(ParseError::new(at + end - 1, "text", ErrorKind::Syntax));
        }
        r.take(end, "text")?;
        Ok(Text(Cow::Borrowed(s)))
    }
}

impl Encode for Text<'_> {
    fn encode(&self, w: &mut Writer) {
        w.raw(self.0.as_bytes());
    }
}

impl std::fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `charset = atom / quoted` (RFC 3501 section 9), as in `SEARCH CHARSET` and the
/// `BADCHARSET` response code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Charset<'a> {
    /// The atom form (`UTF-8`).
    Atom(Atom<'a>),
    /// The quoted form (`"UTF-8"`).
    Quoted(Quoted<'a>),
}

impl<'a> Charset<'a> {
    /// A charset name, as an atom when it is one, else quoted; refused when it is not
    /// US-ASCII (charset names are, RFC 2978 section 2.3) or holds NUL, CR or LF.
    pub fn new(name: impl Into<Cow<'a, str>>) -> Result<Self, ValidationError> {
        let name = name.into();
        if !name.is_ascii() {
            return Err(ValidationError::new("charset", "not US-ASCII"));
        }
        if !name.is_empty() && name.bytes().all(is_atom_char) {
            return Ok(Charset::Atom(Atom(name)));
        }
        let bytes = match name {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        };
        Quoted::new(bytes).map(Charset::Quoted)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        match self {
            Charset::Atom(a) => a.as_str(),
            Charset::Quoted(q) => q.as_str(),
        }
    }

    into_static_by_variant!(
        /// The same value owning its name.
        Charset { Atom, Quoted }
    );

    /// Parse `input`, which must be exactly one `charset` (nothing before or after it).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Read a `charset`.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        if r.peek() == Some(b'"') {
            Quoted::read(r).map(Charset::Quoted)
        } else {
            read_token(r, &ATOM_CHARS, "charset").map(|s| Charset::Atom(Atom(Cow::Borrowed(s))))
        }
    }
}

impl Encode for Charset<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            Charset::Atom(a) => a.encode(w),
            Charset::Quoted(q) => q.encode(w),
        }
    }
}

/// Whether `bytes` end like a literal header (`{digits}` or `{digits+}`, also `~{digits}`): a
/// line ending so is taken by the framer for a literal announcement, so text, continuation
/// text and raw bytes that end so are refused (they could never be framed as themselves).
pub(crate) fn ends_like_literal_header(bytes: &[u8]) -> bool {
    let Some(inner) = bytes.strip_suffix(b"}") else {
        return false;
    };
    let inner = inner.strip_suffix(b"+").unwrap_or(inner);
    let digits = inner
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    digits > 0 && inner.len() > digits && inner.get(inner.len() - digits - 1) == Some(&b'{')
}

/// Equality and hashing by content for the string types whose form is a wire detail.
macro_rules! content_eq {
    ($($t:ident),*) => {$(
        impl PartialEq for $t<'_> {
            fn eq(&self, other: &Self) -> bool {
                self.data() == other.data()
            }
        }

        impl Eq for $t<'_> {}

        impl std::hash::Hash for $t<'_> {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.data().hash(state);
            }
        }
    )*};
}

content_eq!(Literal, Literal8, IString, AString);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::EncodeOptions;
    use std::fmt::Debug;

    /// Offset and kind of a parse error.
    fn err<T: Debug>(res: Result<T, ParseError>) -> (usize, ErrorKind) {
        let e = res.expect_err("must not parse");
        (e.offset(), e.kind())
    }

    /// bytes -> value -> bytes (the same) -> value (the same).
    fn known<'a, T: Encode + PartialEq + Debug>(
        input: &'a [u8],
        parse: fn(&'a [u8]) -> Result<T, ParseError>,
    ) -> T {
        let v = parse(input).expect("parses");
        let out = v.to_bytes();
        assert_eq!(out, input, "re-encoded");
        v
    }

    /// The wire form for a peer with LITERAL+ (default options write `{n}` always).
    fn plus_bytes(v: &impl Encode) -> Vec<u8> {
        let o = EncodeOptions {
            literal_plus: crate::encode::LiteralPlus::Plus,
            ..EncodeOptions::default()
        };
        let mut w = Writer::new(o);
        v.encode(&mut w);
        w.finish().into_bytes()
    }

    fn utf8_bytes(v: &impl Encode) -> Vec<u8> {
        let o = EncodeOptions {
            utf8: true,
            ..EncodeOptions::default()
        };
        let mut w = Writer::new(o);
        v.encode(&mut w);
        w.finish().into_bytes()
    }

    use ErrorKind::{Encoding, Incomplete, Number, Syntax};

    #[test]
    fn tags() {
        assert_eq!(known(b"A001", Tag::parse).as_str(), "A001");
        assert_eq!(known(b"a]b", Tag::parse).as_str(), "a]b");
        assert_eq!(err(Tag::parse(b"")), (0, Incomplete));
        assert_eq!(err(Tag::parse(b"+")), (0, Syntax));
        assert_eq!(err(Tag::parse(b"A1+")), (2, Syntax));
        assert_eq!(err(Tag::parse(b"A1 ")), (2, Syntax));
        assert!(Tag::new("").is_err());
        assert!(Tag::new("a+b").is_err());
        assert!(Tag::new("a b").is_err());
        assert!(Tag::new("a*").is_err());
        assert!(Tag::new("t\u{e9}").is_err());
        assert_eq!(Tag::new("x.1").unwrap().to_bytes(), b"x.1");
    }

    #[test]
    fn atoms() {
        assert_eq!(known(b"FOO+bar", Atom::parse).as_str(), "FOO+bar");
        assert_eq!(err(Atom::parse(b"a]")), (1, Syntax));
        assert_eq!(err(Atom::parse(b"(")), (0, Syntax));
        assert_eq!(known(b"a]", AtomExt::parse).as_str(), "a]");
        assert_eq!(err(AtomExt::parse(b"a%")), (1, Syntax));
        for bad in [
            "", "a b", "a(", "a)", "a{", "a%", "a*", "a\"", "a\\", "a]", "\u{e9}",
        ] {
            assert!(Atom::new(bad).is_err(), "{bad:?}");
        }
        assert!(AtomExt::new("a]").is_ok());
        assert!(AtomExt::new("a\x7f").is_err());
    }

    #[test]
    fn quoted_borrows_without_escapes() {
        let q = known(b"\"hello world\"", Quoted::parse);
        assert!(matches!(
            q.clone().into_inner(),
            Cow::Borrowed(b"hello world")
        ));
        assert_eq!(q.as_str(), "hello world");
        let q = known(b"\"\"", Quoted::parse);
        assert_eq!(q.data(), b"");
    }

    #[test]
    fn quoted_escapes() {
        let q = known(br#""a\"b\\c""#, Quoted::parse);
        assert_eq!(q.data(), br#"a"b\c"#);
        assert!(matches!(q.into_inner(), Cow::Owned(_)));
        let q = known(br#""\\""#, Quoted::parse);
        assert_eq!(q.data(), b"\\");
        assert_eq!(
            Quoted::new(&b"say \"hi\""[..]).unwrap().to_bytes(),
            br#""say \"hi\"""#
        );
    }

    #[test]
    fn quoted_errors_point_at_the_byte() {
        assert_eq!(err(Quoted::parse(b"\"a\nb\"")), (2, Syntax));
        assert_eq!(err(Quoted::parse(b"\"ab\r\n")), (3, Syntax));
        assert_eq!(err(Quoted::parse(b"\"a\0b\"")), (2, Syntax));
        assert_eq!(err(Quoted::parse(b"\"abc")), (4, Incomplete));
        assert_eq!(err(Quoted::parse(br#""a\x""#)), (3, Syntax));
        assert_eq!(err(Quoted::parse(br#""a\"#)), (3, Incomplete));
        assert_eq!(err(Quoted::parse(b"\"ab\xffc\"")), (3, Encoding));
        assert_eq!(err(Quoted::parse(b"\"\\\"\xc3\"")), (3, Encoding));
        assert_eq!(err(Quoted::parse(b"\"ab\xc3")), (3, Incomplete));
        assert_eq!(err(Quoted::parse(b"\"ab\xc3\r\n")), (3, Encoding));
        assert_eq!(err(Quoted::parse(b"\"ab\xc3x")), (3, Encoding));
        assert_eq!(err(Quoted::parse(b"abc")), (0, Syntax));
        assert_eq!(err(Quoted::parse(b"")), (0, Incomplete));
        assert_eq!(err(Quoted::parse(b"\"a\"b")), (3, Syntax));
        assert!(Quoted::new(&b"a\rb"[..]).is_err());
        assert!(Quoted::new(&b"a\nb"[..]).is_err());
        assert!(Quoted::new(&b"a\0b"[..]).is_err());
        assert!(Quoted::new(&b"a\xffb"[..]).is_err());
    }

    #[test]
    fn utf8_quoted_goes_literal_unless_enabled() {
        let input = "\"caf\u{e9}\"".as_bytes();
        let q = Quoted::parse(input).unwrap();
        assert_eq!(q.as_str(), "caf\u{e9}");
        // a bare quoted is always quoted
        assert_eq!(q.to_bytes(), input);
        // a string falls back to a literal, unless UTF-8 is enabled
        let s = IString::parse(input).unwrap();
        assert_eq!(s.to_bytes(), b"{5}\r\ncaf\xc3\xa9");
        assert_eq!(s.encoded().wait_points(), &[5]);
        assert_eq!(utf8_bytes(&s), input);
        assert_eq!(IString::parse(&s.to_bytes()).unwrap().data(), s.data());
        let a = AString::parse(input).unwrap();
        assert_eq!(a.to_bytes(), b"{5}\r\ncaf\xc3\xa9");
        assert_eq!(utf8_bytes(&a), input);
    }

    #[test]
    fn literals() {
        let l = known(b"{3}\r\nabc", Literal::parse);
        assert_eq!((l.data(), l.mode()), (&b"abc"[..], LiteralMode::Sync));
        assert!(matches!(l.into_inner(), Cow::Borrowed(_)));
        let l = Literal::parse(b"{3+}\r\na\r\n").unwrap();
        assert_eq!((l.data(), l.mode()), (&b"a\r\n"[..], LiteralMode::NonSync));
        // the form follows the options, not the mode read
        assert_eq!(l.to_bytes(), b"{3}\r\na\r\n");
        assert_eq!(plus_bytes(&l), b"{3+}\r\na\r\n");
        // equal to the sync literal of the same data (the mode is a wire detail)
        assert_eq!(l, Literal::new(&b"a\r\n"[..], LiteralMode::Sync).unwrap());
        assert_eq!(known(b"{0}\r\n", Literal::parse).data(), b"");
        assert!(Literal::new(&b"a\0"[..], LiteralMode::Sync).is_err());
        assert_eq!(
            Literal::new(&b"\xff"[..], LiteralMode::Sync)
                .unwrap()
                .to_bytes(),
            b"{1}\r\n\xff"
        );
    }

    #[test]
    fn literal_errors() {
        // longer than the rest of the input: incomplete at the brace, nothing allocated
        assert_eq!(err(Literal::parse(b"{4}\r\nabc")), (0, Incomplete));
        assert_eq!(err(Literal::parse(b"{4294967295}\r\n")), (0, Incomplete));
        assert_eq!(err(Literal::parse(b"{4294967296}\r\n")), (0, Incomplete));
        assert_eq!(
            err(Literal::parse(b"{9223372036854775808}\r\n")),
            (1, Number)
        );
        assert_eq!(err(Literal::parse(b"{")), (1, Incomplete));
        assert_eq!(err(Literal::parse(b"{x}\r\n")), (1, Syntax));
        assert_eq!(err(Literal::parse(b"{3")), (2, Incomplete));
        assert_eq!(err(Literal::parse(b"{3x")), (2, Syntax));
        assert_eq!(err(Literal::parse(b"{3+x")), (3, Syntax));
        assert_eq!(err(Literal::parse(b"{3}")), (3, Incomplete));
        assert_eq!(err(Literal::parse(b"{3}\r")), (3, Incomplete));
        assert_eq!(err(Literal::parse(b"{3}\nabc")), (3, Syntax));
        assert_eq!(err(Literal::parse(b"{3} \r\nabc")), (3, Syntax));
        assert_eq!(err(Literal::parse(b"{3}\r\na\0c")), (6, Syntax));
        assert_eq!(err(Literal::parse(b"{3}\r\nabcd")), (8, Syntax));
        assert_eq!(err(Literal::parse(b"~{1}\r\na")), (0, Syntax));
        let mut r = Reader::new(b"{3}\r\nabc", Quirks::LENIENT);
        assert_eq!(Literal::read(&mut r).unwrap().data(), b"abc");
        let mut r = Reader::new(b"{99999999999}\r\nabc", Quirks::LENIENT);
        assert_eq!(
            Literal::read(&mut r).unwrap_err().kind(),
            Incomplete,
            "a clamped length is still bounded by the input"
        );
    }

    #[test]
    fn literal8() {
        let l = known(b"~{3}\r\na\0c", Literal8::parse);
        assert_eq!((l.data(), l.mode()), (&b"a\0c"[..], LiteralMode::Sync));
        let l = Literal8::parse(b"~{1+}\r\n\0").unwrap();
        assert_eq!(l.mode(), LiteralMode::NonSync);
        assert_eq!(l.to_bytes(), b"~{1}\r\n\0");
        assert_eq!(plus_bytes(&l), b"~{1+}\r\n\0");
        assert_eq!(err(Literal8::parse(b"~{5}\r\nabc")), (0, Incomplete));
        assert_eq!(
            err(Literal8::parse(b"~{9223372036854775807}\r\n")),
            (0, Incomplete)
        );
        assert_eq!(
            err(Literal8::parse(b"~{9223372036854775808}\r\n")),
            (2, Number)
        );
        assert_eq!(err(Literal8::parse(b"~")), (1, Incomplete));
        assert_eq!(err(Literal8::parse(b"~x")), (1, Syntax));
        assert_eq!(err(Literal8::parse(b"{1}\r\na")), (0, Syntax));
        assert_eq!(
            plus_bytes(&Literal8::new(vec![0u8, 1], LiteralMode::NonSync)),
            b"~{2+}\r\n\0\x01"
        );
    }

    #[test]
    fn istrings() {
        assert_eq!(known(b"\"x\"", IString::parse).data(), b"x");
        assert_eq!(known(b"{1}\r\nx", IString::parse).data(), b"x");
        assert_eq!(err(IString::parse(b"x")), (0, Syntax));
        assert_eq!(err(IString::parse(b"NIL")), (0, Syntax));
        assert!(matches!(
            IString::from_bytes(&b"abc"[..]),
            Ok(IString::Quoted(_))
        ));
        assert!(matches!(
            IString::from_bytes("caf\u{e9}".as_bytes()),
            Ok(IString::Quoted(_))
        ));
        assert!(matches!(
            IString::from_bytes(&b"a\r\nb"[..]),
            Ok(IString::Literal(_))
        ));
        assert!(matches!(
            IString::from_bytes(&b"\xff"[..]),
            Ok(IString::Literal(_))
        ));
        assert!(matches!(
            IString::from_bytes(vec![b'a'; QUOTED_MAX]),
            Ok(IString::Quoted(_))
        ));
        assert!(matches!(
            IString::from_bytes(vec![b'a'; QUOTED_MAX + 1]),
            Ok(IString::Literal(_))
        ));
        assert!(IString::from_bytes(&b"a\0"[..]).is_err());
        assert_eq!(
            IString::from_bytes(&b"a\r\nb"[..]).unwrap().to_bytes(),
            b"{4}\r\na\r\nb"
        );
    }

    #[test]
    fn nil_as_string_is_a_quirk() {
        let mut r = Reader::new(b"NIL", Quirks::LENIENT);
        assert_eq!(IString::read_lenient(&mut r).unwrap().data(), b"");
        assert!(r.is_empty());
        let mut r = Reader::new(b"NIL", Quirks::STRICT);
        assert_eq!(IString::read_lenient(&mut r).unwrap_err().offset(), 0);
        let mut r = Reader::new(b"\"a\"", Quirks::LENIENT);
        assert_eq!(IString::read_lenient(&mut r).unwrap().data(), b"a");
    }

    #[test]
    fn astrings() {
        let a = known(b"INBOX]", AString::parse);
        assert!(matches!(a, AString::Atom(_)));
        assert_eq!(a.data(), b"INBOX]");
        assert!(matches!(
            known(b"\"a b\"", AString::parse),
            AString::String(_)
        ));
        assert!(matches!(
            known(b"{1}\r\n(", AString::parse),
            AString::String(_)
        ));
        assert_eq!(err(AString::parse(b"(")), (0, Syntax));
        assert_eq!(err(AString::parse(b"")), (0, Incomplete));
        assert_eq!(err(AString::parse(b"a%")), (1, Syntax));
        assert_eq!(
            AString::from_bytes(&b"fred"[..]).unwrap().to_bytes(),
            b"fred"
        );
        assert_eq!(AString::from_bytes(&b""[..]).unwrap().to_bytes(), b"\"\"");
        assert_eq!(
            AString::from_bytes(&b"a b"[..]).unwrap().to_bytes(),
            b"\"a b\""
        );
        assert_eq!(
            AString::from_bytes(&b"a*"[..]).unwrap().to_bytes(),
            b"\"a*\""
        );
        assert_eq!(
            AString::from_bytes(&b"a\"\\"[..]).unwrap().to_bytes(),
            br#""a\"\\""#
        );
        assert_eq!(
            AString::from_bytes(b"a\nb".to_vec()).unwrap().to_bytes(),
            b"{3}\r\na\nb"
        );
        assert!(AString::from_bytes(&b"\0"[..]).is_err());
    }

    #[test]
    fn nstrings() {
        assert_eq!(known(b"NIL", NString::parse), NString::NIL);
        assert_eq!(NString::parse(b"nil").unwrap(), NString(None));
        assert_eq!(known(b"\"NIL\"", NString::parse).data(), Some(&b"NIL"[..]));
        assert_eq!(known(b"{1}\r\nx", NString::parse).data(), Some(&b"x"[..]));
        assert_eq!(err(NString::parse(b"NILS")), (0, Syntax));
        assert_eq!(err(NString::parse(b"x")), (0, Syntax));
        assert_eq!(err(NString::parse(b"")), (0, Incomplete));
        let n = known(b"~{2}\r\n\0\0", NString8::parse);
        assert_eq!(n.data(), Some(&b"\0\0"[..]));
        assert_eq!(known(b"NIL", NString8::parse).data(), None);
        assert_eq!(known(b"\"a\"", NString8::parse).data(), Some(&b"a"[..]));
        assert_eq!(err(NString8::parse(b"x")), (0, Syntax));
        assert_eq!(
            NString8::parse(b"x").unwrap_err().expected(),
            "nstring or literal8"
        );
        let e = NString8::parse(b"{5}\r\na").unwrap_err();
        assert_eq!(
            (e.offset(), e.kind(), e.expected()),
            (0, Incomplete, "literal data")
        );
        assert_eq!(err(NString8::parse(b"\"a")), (2, Incomplete));
    }

    #[test]
    fn texts() {
        let t = known("OK done, caf\u{e9} [x]".as_bytes(), Text::parse);
        assert!(matches!(t.into_inner(), Cow::Borrowed(_)));
        let mut r = Reader::new(b"hello world\r\n", Quirks::STRICT);
        assert_eq!(Text::read(&mut r).unwrap().as_str(), "hello world");
        assert_eq!(r.rest(), b"\r\n");
        assert_eq!(err(Text::parse(b"")), (0, Incomplete));
        assert_eq!(err(Text::parse(b"\r\n")), (0, Syntax));
        assert_eq!(err(Text::parse(b"a\0b")), (1, Syntax));
        assert_eq!(err(Text::parse(b"ab\xffc")), (2, Encoding));
        assert_eq!(err(Text::parse(b"ab\xe2\x82")), (2, Incomplete));
        assert_eq!(err(Text::parse(b"ab\xe2\x82\r\n")), (2, Encoding));
        assert_eq!(err(Text::parse(b"ab\nc")), (2, Syntax));
        assert!(Text::new("").is_err());
        assert!(Text::new("a\rb").is_err());
        assert!(Text::new("a\nb").is_err());
        assert!(Text::new("a\0b").is_err());
    }

    #[test]
    fn charsets() {
        assert_eq!(known(b"UTF-8", Charset::parse).as_str(), "UTF-8");
        assert!(matches!(
            known(b"\"UTF-8\"", Charset::parse),
            Charset::Quoted(_)
        ));
        assert_eq!(err(Charset::parse(b"(")), (0, Syntax));
        assert_eq!(Charset::new("utf-8").unwrap().to_bytes(), b"utf-8");
        assert_eq!(Charset::new("a b").unwrap().to_bytes(), b"\"a b\"");
        assert!(Charset::new("a\r\n").is_err());
        assert!(Charset::new("\u{e9}").is_err());
        assert!(Charset::new("").is_ok_and(|c| c.to_bytes() == b"\"\""));
    }

    #[test]
    fn conversions_keep_the_wire_form() {
        let a: AString = Atom::new("FOO").unwrap().into();
        assert_eq!(a.to_bytes(), b"FOO");
        let q: IString = Quoted::new(&b"a b"[..]).unwrap().into();
        let n: NString = q.clone().into();
        assert_eq!(n.to_bytes(), b"\"a b\"");
        assert_eq!(NString::from(None).to_bytes(), b"NIL");
        let a: AString = q.into();
        assert_eq!(a.to_bytes(), b"\"a b\"");
        let l: IString = Literal::new(&b"x"[..], LiteralMode::NonSync)
            .unwrap()
            .into();
        assert_eq!(plus_bytes(&l), b"{1+}\r\nx");
        assert_eq!(l.to_bytes(), b"{1}\r\nx");
    }

    #[test]
    fn into_static_keeps_the_value() {
        let input = b"\"a\\\"b\"".to_vec();
        let q = Quoted::parse(&input).unwrap().into_static();
        drop(input);
        assert_eq!(q.data(), b"a\"b");
        let input = b"{2}\r\nab".to_vec();
        let a = AString::parse(&input).unwrap();
        let s: AString<'static> = a.clone().into_static();
        assert_eq!(a, s);
    }
}
