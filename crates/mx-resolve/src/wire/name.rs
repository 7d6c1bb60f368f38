//! Domain names: labels kept as their wire octets, compared ASCII case-insensitively.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// The longest label, in octets (RFC 1035 section 2.3.4).
pub const MAX_LABEL_LEN: usize = 63;

/// The longest name on the wire, in octets, counting every length octet and the root's zero
/// octet (RFC 1035 section 2.3.4).
pub const MAX_NAME_LEN: usize = 255;

/// An absolute domain name.
///
/// The labels are kept as one buffer of wire octets (each label preceded by its length, the
/// root's zero octet left out), so a parsed name costs one allocation and the root none.
/// Two names are equal when their labels are equal ignoring ASCII case (RFC 1035 section
/// 2.3.3, RFC 4343); `Hash` agrees with that. The case of the octets is kept as received.
///
/// ```
/// use mx_resolve::wire::Name;
///
/// let name = Name::from_ascii("MX1.Example.org").unwrap();
/// assert_eq!(name, Name::from_ascii("mx1.example.org.").unwrap());
/// assert_eq!(name.to_string(), "MX1.Example.org.");
/// assert_eq!(name.labels().count(), 3);
/// ```
#[derive(Clone, Default)]
pub struct Name {
    /// Length-prefixed labels, without the final zero octet; at most 254 octets.
    wire: Vec<u8>,
}

/// Why a text or a list of labels is not a domain name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The text is empty, or has two dots in a row, or a leading dot (only the root is
    /// written `.`).
    #[error("empty label")]
    EmptyLabel,
    /// A label is longer than 63 octets.
    #[error("label longer than 63 octets")]
    LabelTooLong,
    /// The name is longer than 255 octets on the wire.
    #[error("name longer than 255 octets on the wire")]
    NameTooLong,
    /// The text has a character outside printable ASCII (a U-label must be converted to an
    /// A-label first), or a space.
    #[error("character outside printable ASCII")]
    NotAscii,
    /// A backslash is not followed by a character or by three decimal digits up to 255.
    #[error("bad backslash escape")]
    BadEscape,
}

impl Name {
    /// The root name, `.`.
    pub const fn root() -> Name {
        Name { wire: Vec::new() }
    }

    /// Whether this is the root name.
    pub fn is_root(&self) -> bool {
        self.wire.is_empty()
    }

    /// Parses a name in presentation form: labels separated by dots, with or without the final
    /// dot, `.` alone for the root. A label may carry a dot or any octet as a master-file
    /// escape (`\.`, `\\`, `\DDD`), the form [`Display`](fmt::Display) writes.
    ///
    /// Rejects empty labels, labels over 63 octets, names over 255 octets on the wire, and
    /// characters outside printable ASCII (spaces included).
    pub fn from_ascii(text: &str) -> Result<Name, NameError> {
        if text == "." {
            return Ok(Name::root());
        }
        let bytes = text.as_bytes();
        let body = bytes.strip_suffix(b".").unwrap_or(bytes);
        // A trailing escaped dot (`a\.`) is part of the last label, not the root.
        let body = if body.len() < bytes.len() && ends_with_escape(body) {
            bytes
        } else {
            body
        };
        if body.is_empty() {
            return Err(NameError::EmptyLabel);
        }
        let mut wire = Vec::with_capacity(body.len() + 1);
        let mut label_start = 0;
        wire.push(0);
        let mut i = 0;
        while let Some(&c) = body.get(i) {
            i += 1;
            let octet = match c {
                b'.' => {
                    close_label(&mut wire, label_start)?;
                    label_start = wire.len();
                    wire.push(0);
                    continue;
                }
                b'\\' => {
                    let (octet, used) = unescape(body.get(i..).unwrap_or_default())?;
                    i += used;
                    octet
                }
                0x21..=0x7e => c,
                _ => return Err(NameError::NotAscii),
            };
            wire.push(octet);
        }
        close_label(&mut wire, label_start)?;
        if wire.len() + 1 > MAX_NAME_LEN {
            return Err(NameError::NameTooLong);
        }
        Ok(Name { wire })
    }

    /// Builds a name from its labels, most specific first (`["mx1", "example", "org"]`); no
    /// labels make the root. Any octets are allowed in a label.
    pub fn from_labels<I, L>(labels: I) -> Result<Name, NameError>
    where
        I: IntoIterator<Item = L>,
        L: AsRef<[u8]>,
    {
        let mut wire = Vec::new();
        for label in labels {
            let label = label.as_ref();
            if label.is_empty() {
                return Err(NameError::EmptyLabel);
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(NameError::LabelTooLong);
            }
            if wire.len() + 1 + label.len() + 1 > MAX_NAME_LEN {
                return Err(NameError::NameTooLong);
            }
            wire.push(label.len() as u8);
            wire.extend_from_slice(label);
        }
        Ok(Name { wire })
    }

    /// The labels, most specific first, as octets; none for the root.
    pub fn labels(&self) -> Labels<'_> {
        Labels { rest: &self.wire }
    }

    /// The length of the name on the wire, uncompressed, root octet included (1 for the root).
    pub fn wire_len(&self) -> usize {
        self.wire.len() + 1
    }

    /// Whether `self` is `other` or a name below it (`mx.example.org.` is below `example.org.`
    /// and below the root), comparing labels ignoring ASCII case.
    pub fn is_subdomain_of(&self, other: &Name) -> bool {
        let mut rest: &[u8] = &self.wire;
        loop {
            if rest.len() == other.wire.len() {
                return rest.eq_ignore_ascii_case(&other.wire);
            }
            match rest.split_first() {
                Some((&len, tail)) if tail.len() >= usize::from(len) => {
                    rest = tail.get(usize::from(len)..).unwrap_or_default();
                }
                _ => return false,
            }
        }
    }

    /// The wire octets without the final zero octet (crate-internal: the parser and encoder).
    pub(crate) fn wire_labels(&self) -> &[u8] {
        &self.wire
    }

    /// Wraps wire octets the parser has already checked (labels of 1 to 63 octets, under 255).
    pub(crate) fn from_checked_wire(wire: Vec<u8>) -> Name {
        Name { wire }
    }
}

/// Checks the label that starts with its length placeholder at `start` and fills that in.
fn close_label(wire: &mut [u8], start: usize) -> Result<(), NameError> {
    let len = wire.len() - start - 1;
    if len == 0 {
        return Err(NameError::EmptyLabel);
    }
    if len > MAX_LABEL_LEN {
        return Err(NameError::LabelTooLong);
    }
    if let Some(slot) = wire.get_mut(start) {
        *slot = len as u8;
    }
    Ok(())
}

/// Whether `text` ends inside an unfinished escape: an odd number of backslashes at the end.
fn ends_with_escape(text: &[u8]) -> bool {
    text.iter().rev().take_while(|&&c| c == b'\\').count() % 2 == 1
}

/// Decodes what follows a backslash: one printable character, or three decimal digits.
/// Returns the octet and how many characters it used.
fn unescape(after: &[u8]) -> Result<(u8, usize), NameError> {
    match after {
        [a, b, c, ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            let value = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
            u8::try_from(value)
                .map(|octet| (octet, 3))
                .map_err(|_| NameError::BadEscape)
        }
        [d, ..] if d.is_ascii_digit() => Err(NameError::BadEscape),
        [c, ..] if (0x21..=0x7e).contains(c) => Ok((*c, 1)),
        _ => Err(NameError::BadEscape),
    }
}

impl FromStr for Name {
    type Err = NameError;

    fn from_str(text: &str) -> Result<Name, NameError> {
        Name::from_ascii(text)
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        // Length octets are at most 63, below every ASCII letter, so comparing the whole wire
        // form ignoring ASCII case compares the labels ignoring case and nothing else.
        self.wire.eq_ignore_ascii_case(&other.wire)
    }
}

impl Eq for Name {}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.wire.len());
        for octet in &self.wire {
            state.write_u8(octet.to_ascii_lowercase());
        }
    }
}

impl fmt::Display for Name {
    /// Dotted, with the final dot (`mx1.example.org.`; the root is `.`). Dots and
    /// backslashes inside a label are escaped with a backslash, and octets outside printable
    /// ASCII written `\DDD`, so the text parses back with [`Name::from_ascii`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str(".");
        }
        for label in self.labels() {
            for &octet in label {
                match octet {
                    b'.' | b'\\' => write!(f, "\\{}", char::from(octet))?,
                    0x21..=0x7e => fmt::Write::write_char(f, char::from(octet))?,
                    _ => write!(f, "\\{octet:03}")?,
                }
            }
            f.write_str(".")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

/// The labels of a [`Name`], most specific first; from [`Name::labels`].
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, tail) = self.rest.split_first()?;
        let (label, rest) = tail.split_at_checked(usize::from(len))?;
        self.rest = rest;
        Some(label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presentation_round_trip_with_escapes() {
        let name = Name::from_labels([&b"a.b"[..], b"c\\d", b"\x00\xff", b"x"]).unwrap();
        let text = name.to_string();
        assert_eq!(text, "a\\.b.c\\\\d.\\000\\255.x.");
        assert_eq!(Name::from_ascii(&text).unwrap(), name);
    }

    #[test]
    fn trailing_escaped_dot_is_part_of_the_label() {
        let name = Name::from_ascii("a\\.").unwrap();
        assert_eq!(name.labels().collect::<Vec<_>>(), [&b"a."[..]]);
    }

    #[test]
    fn rejects_bad_text() {
        assert_eq!(Name::from_ascii(""), Err(NameError::EmptyLabel));
        assert_eq!(Name::from_ascii("a..b"), Err(NameError::EmptyLabel));
        assert_eq!(Name::from_ascii(".a"), Err(NameError::EmptyLabel));
        assert_eq!(Name::from_ascii("a b"), Err(NameError::NotAscii));
        assert_eq!(Name::from_ascii("ä.de"), Err(NameError::NotAscii));
        assert_eq!(Name::from_ascii("a\\256"), Err(NameError::BadEscape));
        assert_eq!(Name::from_ascii("a\\25"), Err(NameError::BadEscape));
        assert_eq!(Name::from_ascii("a\\"), Err(NameError::BadEscape));
        let long = "a".repeat(64);
        assert_eq!(Name::from_ascii(&long), Err(NameError::LabelTooLong));
        assert!(Name::from_ascii(&"a".repeat(63)).is_ok());
    }

    #[test]
    fn name_length_limit_counts_the_wire_form() {
        // 4 labels of 63 octets: 4 * 64 + 1 = 257 octets on the wire.
        let label = "a".repeat(63);
        let too_long = [label.as_str(); 4].join(".");
        assert_eq!(Name::from_ascii(&too_long), Err(NameError::NameTooLong));
        // 3 * 64 + 62 (61 + 1) + 1 = 255 octets: the longest name.
        let longest = format!("{0}.{0}.{0}.{1}", label, "a".repeat(61));
        let name = Name::from_ascii(&longest).unwrap();
        assert_eq!(name.wire_len(), 255);
        let over = format!("{0}.{0}.{0}.{1}", label, "a".repeat(62));
        assert_eq!(Name::from_ascii(&over), Err(NameError::NameTooLong));
        let labels = vec![&b"a"[..]; 128];
        assert_eq!(Name::from_labels(labels), Err(NameError::NameTooLong));
    }

    #[test]
    fn subdomains() {
        let mx = Name::from_ascii("mx.Example.org").unwrap();
        assert!(mx.is_subdomain_of(&Name::from_ascii("example.ORG").unwrap()));
        assert!(mx.is_subdomain_of(&Name::root()));
        assert!(mx.is_subdomain_of(&mx));
        assert!(!mx.is_subdomain_of(&Name::from_ascii("ample.org").unwrap()));
        assert!(!Name::root().is_subdomain_of(&mx));
    }
}
