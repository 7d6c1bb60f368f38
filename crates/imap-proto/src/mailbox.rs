//! Mailbox names: `mailbox` and `list-mailbox` (RFC 3501 section 9), and the modified UTF-7
//! of international names ([`utf7`], RFC 3501 section 5.1.3) or plain UTF-8 (UTF8=ACCEPT,
//! RFC 6855 section 3; IMAP4rev2, RFC 9051 section 5.1).
//!
//! Reading keeps a name's bytes as they came (a server answers a name that is not valid
//! modified UTF-7 with `NO`, not with a syntax error); [`Mailbox::to_utf8`] decodes it.
//!
//! ```
//! use imap_proto::Encode;
//! use imap_proto::mailbox::{Mailbox, utf7};
//!
//! let name = "~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}";
//! let m = Mailbox::from_utf8(name, false).unwrap();
//! assert_eq!(m.to_bytes(), b"~peter/mail/&U,BTFw-/&ZeVnLIqe-");
//! assert_eq!(m.to_utf8().unwrap(), name);
//! assert_eq!(Mailbox::parse(b"inbox").unwrap(), Mailbox::Inbox);
//! assert_eq!(utf7::encode("Tom & Jerry"), "Tom &- Jerry");
//! assert!(utf7::decode(b"&AGE-").is_err()); // "a" must stand for itself
//! ```

use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use crate::core::{AString, IString, class_table, fail, parse_whole, run_len};
use crate::encode::{Encode, Writer};
use crate::error::{ParseError, ValidationError};
use crate::parse::{PResult, Reader, is_atom_char};

/// `mailbox = "INBOX" / astring` (RFC 3501 section 9): `INBOX` in any case is
/// [`Mailbox::Inbox`].
///
/// Equality (and hashing) treat an [`Mailbox::Other`] whose name is `INBOX` in any case as
/// [`Mailbox::Inbox`], which is what it reads back as.
#[derive(Debug, Clone)]
pub enum Mailbox<'a> {
    /// The INBOX.
    Inbox,
    /// Any other name, as it is on the wire (modified UTF-7, or UTF-8 under UTF8=ACCEPT).
    Other(AString<'a>),
}

fn is_inbox(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"INBOX")
}

impl<'a> Mailbox<'a> {
    /// The mailbox named `name` (a name as people write it): modified UTF-7 encoded unless
    /// `utf8` (UTF8=ACCEPT is enabled or IMAP4rev2 is in use), then written as an atom, a
    /// quoted string or a literal. `INBOX` in any case is [`Mailbox::Inbox`]. Refused when the
    /// name holds a control character (RFC 9051 section 5.1: names are Net-Unicode, RFC 5198).
    pub fn from_utf8(name: &str, utf8: bool) -> Result<Mailbox<'static>, ValidationError> {
        if is_inbox(name.as_bytes()) {
            return Ok(Mailbox::Inbox);
        }
        if name.chars().any(char::is_control) {
            return Err(ValidationError::new("mailbox", "control character"));
        }
        let wire = if utf8 {
            name.to_owned()
        } else {
            utf7::encode(name)
        };
        AString::from_bytes(wire.into_bytes()).map(Mailbox::Other)
    }

    /// The mailbox whose name on the wire is `name` (no encoding applied); refused when the
    /// name holds NUL, CR or LF.
    pub fn from_bytes(name: impl Into<Cow<'a, [u8]>>) -> Result<Self, ValidationError> {
        let name = name.into();
        if is_inbox(&name) {
            return Ok(Mailbox::Inbox);
        }
        if memchr::memchr3(0, b'\r', b'\n', &name).is_some() {
            return Err(ValidationError::new("mailbox", "NUL, CR or LF"));
        }
        AString::from_bytes(name).map(Mailbox::Other)
    }

    /// The name on the wire (`INBOX` for [`Mailbox::Inbox`]).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Mailbox::Inbox => b"INBOX",
            Mailbox::Other(a) => a.data(),
        }
    }

    /// The name as people write it: a 7-bit name is decoded from modified UTF-7 (borrowed when
    /// it holds no `&`), a name with 8-bit bytes is taken as UTF-8 (UTF8=ACCEPT). Refused when
    /// the name is neither valid modified UTF-7 nor UTF-8. A 7-bit name sent under UTF8=ACCEPT
    /// that holds a bare `&` must be decoded with [`Mailbox::to_utf8_as`].
    pub fn to_utf8(&self) -> Result<Cow<'_, str>, ValidationError> {
        let name = self.as_bytes();
        self.to_utf8_as(!name.is_ascii())
    }

    /// The name as people write it, decoding modified UTF-7 unless `utf8` (then the name must
    /// be UTF-8 and is borrowed as it is). Refused, as by [`Mailbox::from_utf8`], when the
    /// name holds a control character (C0, DEL, C1), even encoded (`&AA0ACg-` is CR LF).
    pub fn to_utf8_as(&self, utf8: bool) -> Result<Cow<'_, str>, ValidationError> {
        let name = self.as_bytes();
        let s = if utf8 {
            std::str::from_utf8(name)
                .map(Cow::Borrowed)
                .map_err(|_| ValidationError::new("mailbox", "not UTF-8"))?
        } else if memchr::memchr(b'&', name).is_none() {
            utf7::check_direct(name)?;
            std::str::from_utf8(name)
                .map(Cow::Borrowed)
                .map_err(|_| ValidationError::new("modified UTF-7", "8-bit byte"))?
        } else {
            Cow::Owned(utf7::decode(name)?)
        };
        // as `from_utf8`: names are Net-Unicode (RFC 9051 section 5.1), no control characters
        if s.chars().any(char::is_control) {
            return Err(ValidationError::new("mailbox", "control character"));
        }
        Ok(s)
    }

    /// The same value owning its name.
    pub fn into_static(self) -> Mailbox<'static> {
        match self {
            Mailbox::Inbox => Mailbox::Inbox,
            Mailbox::Other(a) => Mailbox::Other(a.into_static()),
        }
    }

    /// Parse `input`, which must be exactly one `mailbox` (nothing before or after it).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Read a `mailbox`.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        let start = r.pos();
        match AString::read(r) {
            Ok(a) if is_inbox(a.data()) => Ok(Mailbox::Inbox),
            Ok(a) => Ok(Mailbox::Other(a)),
            // nothing consumed: name the rule
            Err(e) if e.offset() == start && r.pos() == start => Err(fail(r, "mailbox")),
            Err(e) => Err(e),
        }
    }
}

impl PartialEq for Mailbox<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Mailbox::Other(a), Mailbox::Other(b)) => {
                a == b || (is_inbox(a.data()) && is_inbox(b.data()))
            }
            _ => is_inbox(self.as_bytes()) && is_inbox(other.as_bytes()),
        }
    }
}

impl Eq for Mailbox<'_> {}

impl Hash for Mailbox<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Mailbox::Other(a) if !is_inbox(a.data()) => {
                1u8.hash(state);
                a.hash(state);
            }
            _ => 0u8.hash(state),
        }
    }
}

impl Encode for Mailbox<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            Mailbox::Inbox => w.raw(b"INBOX"),
            Mailbox::Other(a) => a.encode(w),
        }
    }
}

/// `list-char = ATOM-CHAR / list-wildcards / resp-specials` (RFC 3501 section 9).
pub(crate) const fn is_list_char(b: u8) -> bool {
    is_atom_char(b) || matches!(b, b'%' | b'*' | b']')
}

static LIST_CHARS: [bool; 256] = class_table!(is_list_char);

/// `list-mailbox = 1*list-char / string` (RFC 3501 section 9): the pattern of LIST and LSUB,
/// where `%` and `*` are wildcards.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ListMailbox<'a> {
    /// `1*list-char`; build it with [`ListMailbox::from_bytes`] or [`ListToken::new`], which
    /// check the characters (a token with other characters would not encode to itself).
    Token(ListToken<'a>),
    /// A quoted string or literal.
    String(IString<'a>),
}

/// `1*list-char` (RFC 3501 section 9): the token form of a LIST pattern. The field is private:
/// a token holds only list-chars (no space, CR, LF, quote...). Dereferences to the `str`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListToken<'a>(Cow<'a, str>);

impl<'a> ListToken<'a> {
    /// A token; refused when empty or holding a byte that is not a list-char.
    pub fn new(token: impl Into<Cow<'a, str>>) -> Result<ListToken<'a>, ValidationError> {
        let t = token.into();
        if t.is_empty() || !t.bytes().all(is_list_char) {
            return Err(ValidationError::new("list-mailbox", "1*list-char"));
        }
        Ok(ListToken(t))
    }

    /// The characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The same value owning its characters.
    pub fn into_static(self) -> ListToken<'static> {
        ListToken(Cow::Owned(self.0.into_owned()))
    }
}

impl std::ops::Deref for ListToken<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'a> ListMailbox<'a> {
    /// A pattern whose wire form is `pattern` (no encoding applied): a token when every byte is
    /// a `list-char`, else a string as [`IString::from_bytes`] chooses (the empty pattern is
    /// `""`). Refused when it holds NUL.
    pub fn from_bytes(pattern: impl Into<Cow<'a, [u8]>>) -> Result<Self, ValidationError> {
        let pattern = pattern.into();
        if !pattern.is_empty() && pattern.iter().all(|&b| is_list_char(b)) {
            let s = match pattern {
                Cow::Borrowed(b) => std::str::from_utf8(b).map(Cow::Borrowed),
                Cow::Owned(v) => String::from_utf8(v)
                    .map(Cow::Owned)
                    .map_err(|e| e.utf8_error()),
            };
            // list-chars are ASCII, so the conversion cannot fail.
            let s = s.map_err(|_| ValidationError::new("list-mailbox", "not ASCII"))?;
            return Ok(ListMailbox::Token(ListToken(s)));
        }
        IString::from_bytes(pattern).map(ListMailbox::String)
    }

    /// A pattern as people write it (`%` and `*` are wildcards), modified UTF-7 encoded unless
    /// `utf8`.
    pub fn from_utf8(pattern: &str, utf8: bool) -> Result<ListMailbox<'static>, ValidationError> {
        if pattern.chars().any(char::is_control) {
            return Err(ValidationError::new("list-mailbox", "control character"));
        }
        let wire = if utf8 {
            pattern.to_owned()
        } else {
            utf7::encode(pattern)
        };
        ListMailbox::from_bytes(wire.into_bytes())
    }

    /// The pattern on the wire.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            ListMailbox::Token(t) => t.as_bytes(),
            ListMailbox::String(s) => s.data(),
        }
    }

    /// The same value owning its pattern.
    pub fn into_static(self) -> ListMailbox<'static> {
        match self {
            ListMailbox::Token(t) => ListMailbox::Token(t.into_static()),
            ListMailbox::String(s) => ListMailbox::String(s.into_static()),
        }
    }

    /// Parse `input`, which must be exactly one `list-mailbox` (nothing before or after it).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Read a `list-mailbox`.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        if matches!(r.peek(), Some(b'"' | b'{')) {
            return IString::read(r).map(ListMailbox::String);
        }
        let n = run_len(r.rest(), &LIST_CHARS);
        let t = r.take(n, "list-mailbox")?;
        if t.is_empty() {
            return Err(fail(r, "list-mailbox"));
        }
        // list-chars are ASCII: this cannot fail.
        let s = std::str::from_utf8(t).map_err(|_| r.error("list-mailbox"))?;
        Ok(ListMailbox::Token(ListToken(Cow::Borrowed(s))))
    }
}

impl Encode for ListMailbox<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            ListMailbox::Token(t) => w.raw(t.as_bytes()),
            ListMailbox::String(s) => s.encode(w),
        }
    }
}

/// Modified UTF-7 (RFC 3501 section 5.1.3): printable US-ASCII but `&` stands for itself,
/// `&` is `&-`, every other run of characters is UTF-16 in modified base64 (`,` for `/`, no
/// padding) between `&` and `-`.
pub mod utf7 {
    use crate::error::ValidationError;

    const WHAT: &str = "modified UTF-7";
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

    fn refuse(reason: &'static str) -> ValidationError {
        ValidationError::new(WHAT, reason)
    }

    /// Characters that stand for themselves: printable US-ASCII (`&` too, but it opens a
    /// shift and is written `&-`).
    const fn is_direct(b: u8) -> bool {
        matches!(b, 0x20..=0x7e)
    }

    /// Check that a name without `&` holds only characters that stand for themselves.
    pub(crate) fn check_direct(name: &[u8]) -> Result<(), ValidationError> {
        if name.iter().all(|&b| is_direct(b)) {
            Ok(())
        } else if name.is_ascii() {
            Err(refuse("control character"))
        } else {
            Err(refuse("8-bit byte"))
        }
    }

    fn flush(out: &mut String, units: &[u16]) {
        out.push('&');
        let mut acc: u32 = 0;
        let mut bits = 0;
        for &u in units {
            acc = (acc << 16) | u32::from(u);
            bits += 16;
            while bits >= 6 {
                bits -= 6;
                out.push(char::from(ALPHABET[((acc >> bits) & 0x3f) as usize]));
            }
            acc &= (1 << bits) - 1;
        }
        if bits > 0 {
            out.push(char::from(ALPHABET[((acc << (6 - bits)) & 0x3f) as usize]));
        }
        out.push('-');
    }

    /// Encode `name` in modified UTF-7 (the shortest form: one shift per run of characters
    /// that are not printable US-ASCII).
    pub fn encode(name: &str) -> String {
        let mut out = String::with_capacity(name.len() + name.len() / 2);
        let mut units: Vec<u16> = Vec::new();
        for c in name.chars() {
            if c.is_ascii() && is_direct(c as u8) {
                if !units.is_empty() {
                    flush(&mut out, &units);
                    units.clear();
                }
                out.push(c);
                if c == '&' {
                    out.push('-');
                }
            } else {
                let mut buf = [0u16; 2];
                units.extend_from_slice(c.encode_utf16(&mut buf));
            }
        }
        if !units.is_empty() {
            flush(&mut out, &units);
        }
        out
    }

    fn sextet(b: u8) -> Option<u32> {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b',' => 63,
            _ => return None,
        };
        Some(u32::from(v))
    }

    /// Decode a name in modified UTF-7, strictly: refused are raw 8-bit bytes and control
    /// characters, a `&` without its `-`, characters outside the modified base64 alphabet,
    /// leftover bits that are not zero or make a whole sextet, UTF-16 that is not well formed
    /// (lone surrogates), an encoded printable US-ASCII character, and two shifts in a row
    /// (`&...-&...-`, which the shortest form joins).
    pub fn decode(name: &[u8]) -> Result<String, ValidationError> {
        let mut out = String::with_capacity(name.len());
        let mut i = 0;
        let mut after_shift = false;
        while let Some(&b) = name.get(i) {
            if b != b'&' {
                if !is_direct(b) {
                    return Err(if b.is_ascii() {
                        refuse("control character")
                    } else {
                        refuse("8-bit byte")
                    });
                }
                let run_end = name[i..]
                    .iter()
                    .position(|&c| c == b'&' || !is_direct(c))
                    .map_or(name.len(), |p| i + p);
                // direct printable ASCII: valid UTF-8
                out.push_str(std::str::from_utf8(&name[i..run_end]).unwrap_or_default());
                i = run_end;
                after_shift = false;
                continue;
            }
            i += 1;
            let start = i;
            while name.get(i).is_some_and(|&c| sextet(c).is_some()) {
                i += 1;
            }
            match name.get(i) {
                Some(b'-') => {}
                Some(_) => return Err(refuse("byte outside modified base64 in a shift")),
                None => return Err(refuse("'&' without its '-'")),
            }
            let encoded = &name[start..i];
            i += 1;
            if encoded.is_empty() {
                out.push('&');
                after_shift = false;
                continue;
            }
            if after_shift {
                return Err(refuse("two shifts in a row (not the shortest form)"));
            }
            decode_shift(encoded, &mut out)?;
            after_shift = true;
        }
        Ok(out)
    }

    fn decode_shift(encoded: &[u8], out: &mut String) -> Result<(), ValidationError> {
        let mut acc: u32 = 0;
        let mut bits = 0;
        let mut high: Option<u16> = None;
        for &c in encoded {
            acc = (acc << 6) | sextet(c).unwrap_or(0);
            bits += 6;
            if bits >= 16 {
                bits -= 16;
                let unit = ((acc >> bits) & 0xffff) as u16;
                acc &= (1 << bits) - 1;
                match (high.take(), unit) {
                    (None, 0xd800..=0xdbff) => high = Some(unit),
                    (None, 0xdc00..=0xdfff) => return Err(refuse("lone low surrogate")),
                    (None, u) => {
                        let c = char::from_u32(u32::from(u))
                            .ok_or_else(|| refuse("not a character"))?;
                        if c.is_ascii() && is_direct(c as u8) {
                            return Err(refuse(
                                "printable US-ASCII encoded (must stand for itself)",
                            ));
                        }
                        out.push(c);
                    }
                    (Some(h), 0xdc00..=0xdfff) => {
                        let v =
                            0x10000 + ((u32::from(h) - 0xd800) << 10) + (u32::from(unit) - 0xdc00);
                        out.push(char::from_u32(v).ok_or_else(|| refuse("not a character"))?);
                    }
                    (Some(_), _) => return Err(refuse("high surrogate without its low half")),
                }
            }
        }
        if high.is_some() {
            return Err(refuse("high surrogate without its low half"));
        }
        if bits >= 6 {
            return Err(refuse("a whole sextet too many (not the shortest form)"));
        }
        if acc != 0 {
            return Err(refuse("leftover bits are not zero"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::EncodeOptions;
    use crate::error::ErrorKind;

    const RFC_EXAMPLE: &str = "~peter/mail/&U,BTFw-/&ZeVnLIqe-";
    const RFC_EXAMPLE_UTF8: &str = "~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}";

    #[test]
    fn rfc3501_example_both_ways() {
        assert_eq!(utf7::encode(RFC_EXAMPLE_UTF8), RFC_EXAMPLE);
        assert_eq!(
            utf7::decode(RFC_EXAMPLE.as_bytes()).unwrap(),
            RFC_EXAMPLE_UTF8
        );
    }

    #[test]
    fn ampersand_is_ampersand_dash() {
        assert_eq!(utf7::encode("Tom & Jerry"), "Tom &- Jerry");
        assert_eq!(utf7::encode("&&"), "&-&-");
        assert_eq!(utf7::decode(b"Tom &- Jerry").unwrap(), "Tom & Jerry");
        assert_eq!(utf7::decode(b"&-&U,BTFw-&-").unwrap(), "&\u{53f0}\u{5317}&");
    }

    #[test]
    fn utf7_known_answers() {
        assert_eq!(utf7::encode(""), "");
        assert_eq!(utf7::encode("\u{e9}"), "&AOk-");
        assert_eq!(utf7::encode("caf\u{e9}s"), "caf&AOk-s");
        // a character outside the BMP: a surrogate pair
        assert_eq!(utf7::encode("\u{1f600}"), "&2D3eAA-");
        assert_eq!(utf7::decode(b"&2D3eAA-").unwrap(), "\u{1f600}");
        // three UTF-16 units: 48 bits, 8 sextets, no leftover
        assert_eq!(utf7::encode("\u{e9}\u{e9}\u{e9}"), "&AOkA6QDp-");
        assert_eq!(utf7::decode(b"&AOkA6QDp-").unwrap(), "\u{e9}\u{e9}\u{e9}");
        assert_eq!(utf7::decode(b"a/b c~").unwrap(), "a/b c~");
    }

    #[test]
    fn utf7_refusals() {
        let cases: &[(&[u8], &str)] = &[
            (b"a&b", "'&' without its '-'"),
            (b"Tom & Jerry", "byte outside modified base64 in a shift"),
            (b"&U,BTFw", "'&' without its '-'"),
            (b"&", "'&' without its '-'"),
            (b"&AOk=-", "byte outside modified base64 in a shift"),
            (b"&AO/-", "byte outside modified base64 in a shift"),
            (b"caf\xc3\xa9", "8-bit byte"),
            (b"a\x01", "control character"),
            (b"a\x7f", "control character"),
            (
                b"&AGE-",
                "printable US-ASCII encoded (must stand for itself)",
            ),
            (
                b"&ACY-",
                "printable US-ASCII encoded (must stand for itself)",
            ),
            (b"&AOk-&AOk-", "two shifts in a row (not the shortest form)"),
            (b"&AOkA-", "a whole sextet too many (not the shortest form)"),
            (b"&AOl-", "leftover bits are not zero"),
            (b"&2D0-", "high surrogate without its low half"),
            (b"&2D0AOQ-", "high surrogate without its low half"),
            (b"&3gA-", "lone low surrogate"),
        ];
        for (input, reason) in cases {
            let e = utf7::decode(input).unwrap_err();
            assert_eq!(e.reason, *reason, "{:?}", String::from_utf8_lossy(input));
            assert_eq!(e.what, "modified UTF-7");
        }
    }

    #[test]
    fn mailbox_reads_inbox_in_any_case() {
        for input in [&b"INBOX"[..], b"inbox", b"\"InBoX\"", b"{5}\r\ninbOX"] {
            assert_eq!(Mailbox::parse(input).unwrap(), Mailbox::Inbox);
            assert!(matches!(Mailbox::parse(input).unwrap(), Mailbox::Inbox));
        }
        assert_eq!(Mailbox::Inbox.to_bytes(), b"INBOX");
        let m = Mailbox::parse(b"INBOX.Sent").unwrap();
        assert_eq!(m.as_bytes(), b"INBOX.Sent");
        assert_eq!(m.to_bytes(), b"INBOX.Sent");
        assert_eq!(Mailbox::parse(b"(").unwrap_err().offset(), 0);
        assert_eq!(
            Mailbox::parse(b"").unwrap_err().kind(),
            ErrorKind::Incomplete
        );
        assert_eq!(Mailbox::parse(b"\"a").unwrap_err().offset(), 2);
        let e = Mailbox::parse(b"(").unwrap_err();
        assert_eq!((e.offset(), e.expected()), (0, "mailbox"));
        let e = Mailbox::parse(b"{10}\r\nabc").unwrap_err();
        assert_eq!(
            (e.offset(), e.kind(), e.expected()),
            (0, ErrorKind::Incomplete, "literal data")
        );
    }

    #[test]
    fn other_named_inbox_equals_inbox() {
        let other = Mailbox::Other(AString::from_bytes(&b"Inbox"[..]).unwrap());
        assert_eq!(other, Mailbox::Inbox);
        assert_eq!(Mailbox::parse(&other.to_bytes()).unwrap(), other);
        let mut set = std::collections::HashSet::new();
        set.insert(other);
        assert!(set.contains(&Mailbox::Inbox));
        assert_ne!(Mailbox::from_bytes(&b"Sent"[..]).unwrap(), Mailbox::Inbox);
    }

    #[test]
    fn from_utf8_encodes() {
        let m = Mailbox::from_utf8(RFC_EXAMPLE_UTF8, false).unwrap();
        assert_eq!(m.to_bytes(), RFC_EXAMPLE.as_bytes());
        assert_eq!(m.to_utf8().unwrap(), RFC_EXAMPLE_UTF8);
        assert_eq!(Mailbox::from_utf8("inbox", false).unwrap(), Mailbox::Inbox);
        assert_eq!(
            Mailbox::from_utf8("Tom & Jerry", false).unwrap().to_bytes(),
            b"\"Tom &- Jerry\""
        );
        assert!(Mailbox::from_utf8("a\nb", false).is_err());
        assert!(Mailbox::from_utf8("a\u{7f}", true).is_err());
        assert!(Mailbox::from_bytes(&b"a\rb"[..]).is_err());
    }

    #[test]
    fn utf8_names() {
        let m = Mailbox::from_utf8("Entw\u{fc}rfe", true).unwrap();
        assert_eq!(m.to_bytes(), b"{9}\r\nEntw\xc3\xbcrfe");
        let o = EncodeOptions {
            utf8: true,
            ..EncodeOptions::default()
        };
        let mut w = Writer::new(o);
        m.encode(&mut w);
        assert_eq!(w.finish().as_bytes(), b"\"Entw\xc3\xbcrfe\"");
        assert!(matches!(
            m.to_utf8().unwrap(),
            Cow::Borrowed("Entw\u{fc}rfe")
        ));
        let amp = Mailbox::from_utf8("a&b", true).unwrap();
        assert!(amp.to_utf8().is_err());
        assert_eq!(amp.to_utf8_as(true).unwrap(), "a&b");
        let bad = Mailbox::from_bytes(&b"a\xffb"[..]).unwrap();
        assert!(bad.to_utf8().is_err());
        assert!(bad.to_utf8_as(false).is_err());
    }

    #[test]
    fn to_utf8_borrows_plain_names() {
        let m = Mailbox::parse(b"Archive/2024").unwrap();
        assert!(matches!(
            m.to_utf8().unwrap(),
            Cow::Borrowed("Archive/2024")
        ));
        let m = Mailbox::parse(b"\"a\x01b\"").unwrap();
        assert!(m.to_utf8().is_err());
        assert_eq!(Mailbox::Inbox.to_utf8().unwrap(), "INBOX");
    }

    #[test]
    fn list_mailboxes() {
        for (input, token) in [
            (&b"%"[..], true),
            (b"*", true),
            (b"INBOX.%", true),
            (b"foo]*", true),
            (b"\"\"", false),
            (b"\"a b*\"", false),
            (b"{1}\r\n%", false),
        ] {
            let l = ListMailbox::parse(input).unwrap();
            assert_eq!(matches!(l, ListMailbox::Token(_)), token);
            assert_eq!(l.to_bytes(), input);
        }
        assert_eq!(ListMailbox::parse(b"(").unwrap_err().offset(), 0);
        assert_eq!(ListMailbox::parse(b"a(").unwrap_err().offset(), 1);
        assert_eq!(
            ListMailbox::from_bytes(&b""[..]).unwrap().to_bytes(),
            b"\"\""
        );
        assert_eq!(
            ListMailbox::from_utf8("\u{53f0}/%", false)
                .unwrap()
                .to_bytes(),
            b"&U,A-/%"
        );
        assert!(ListMailbox::from_utf8("a\r", false).is_err());
        assert!(ListMailbox::from_bytes(&b"\0"[..]).is_err());
    }
}
