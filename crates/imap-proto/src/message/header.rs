//! Header blocks as stored: fields split on line starts (folded lines kept with their field),
//! field values unfolded for ENVELOPE and BODYSTRUCTURE, and the `HEADER.FIELDS` filters.
//!
//! The MIME structure (where each header block starts and ends) comes from `mail-parser`;
//! this module only cuts a block it was handed into fields, because IMAP returns header
//! values as they were written (RFC 9051 section 7.5.2: no RFC 2047 decoding), which
//! `mail-parser`'s decoded values no longer are.

/// One header field of a block: its name and every octet of it, folded lines and line end
/// included.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field<'a> {
    /// The name, without the colon and without white space before it.
    pub(crate) name: &'a [u8],
    /// The whole field as stored (name, colon, value, continuation lines, the last line end).
    pub(crate) raw: &'a [u8],
    /// The octets after the colon up to the end of the field (line ends included).
    pub(crate) value: &'a [u8],
}

/// A header block split into its fields and its terminating empty line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Block<'a> {
    /// The fields and any junk lines before the empty line.
    pub(crate) fields: &'a [u8],
    /// The empty line that ends the block (`\r\n` or `\n`), empty when the block has none
    /// (a message that ends inside its header).
    pub(crate) terminator: &'a [u8],
}

impl<'a> Block<'a> {
    /// Splits `header` (a part's header as `mail-parser` delimits it) at its first empty
    /// line.
    pub(crate) fn new(header: &'a [u8]) -> Self {
        let mut at = 0;
        while at < header.len() {
            let rest = header.get(at..).unwrap_or_default();
            let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
            let line = rest.get(..end).unwrap_or_default();
            if line == b"\r\n" || line == b"\n" {
                return Block {
                    fields: header.get(..at).unwrap_or_default(),
                    terminator: line,
                };
            }
            at += end;
        }
        Block {
            fields: header,
            terminator: &[],
        }
    }

    /// The fields, in order.
    pub(crate) fn iter(&self) -> Fields<'a> {
        Fields { rest: self.fields }
    }

    /// The first field called `name` (compared without regard to ASCII case).
    pub(crate) fn first(&self, name: &str) -> Option<Field<'a>> {
        self.iter()
            .find(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
    }

    /// The unfolded, trimmed value of the first field called `name`.
    pub(crate) fn value(&self, name: &str) -> Option<Vec<u8>> {
        self.first(name).map(|f| unfold(f.value))
    }
}

/// The fields of a [`Block`], one by one.
#[derive(Debug, Clone)]
pub(crate) struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;
    fn next(&mut self) -> Option<Field<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        // A field runs to the end of a line that the next line does not continue (a
        // continuation line starts with a space or a tab).
        let mut end = 0;
        loop {
            let rest = self.rest.get(end..).unwrap_or_default();
            match memchr::memchr(b'\n', rest) {
                Some(i) => {
                    end += i + 1;
                    if !matches!(self.rest.get(end), Some(b' ' | b'\t')) {
                        break;
                    }
                }
                None => {
                    end = self.rest.len();
                    break;
                }
            }
        }
        let (raw, rest) = self.rest.split_at(end.min(self.rest.len()));
        self.rest = rest;
        let (name, value) = match memchr::memchr(b':', raw) {
            Some(colon) => (
                trim_end(raw.get(..colon).unwrap_or_default()),
                raw.get(colon + 1..).unwrap_or_default(),
            ),
            // a line without a colon is no field: it matches no name
            None => (&b""[..], &b""[..]),
        };
        Some(Field { name, raw, value })
    }
}

fn trim_end(s: &[u8]) -> &[u8] {
    let mut s = s;
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// A field value as ENVELOPE and BODYSTRUCTURE carry it, as Dovecot makes it: white space
/// after the colon skipped, line ends removed (the white space that starts a continuation
/// line stays, even when the value starts on it), white space at the end trimmed, NUL
/// (which no IMAP string may hold) replaced by U+FFFD.
pub(crate) fn unfold(value: &[u8]) -> Vec<u8> {
    let start = value
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(value.len());
    let mut out: Vec<u8> = Vec::with_capacity(value.len());
    for &b in value.get(start..).unwrap_or_default() {
        match b {
            b'\r' | b'\n' => {}
            0 => out.extend_from_slice("\u{FFFD}".as_bytes()),
            _ => out.push(b),
        }
    }
    while let Some(b' ' | b'\t') = out.last() {
        out.pop();
    }
    out
}

/// `HEADER.FIELDS (names)` (`not` false) or `HEADER.FIELDS.NOT (names)` (`not` true): the
/// fields of `block` whose name is (is not) in `names`, as stored, in message order, then
/// the empty line. As Dovecot does, `HEADER.FIELDS` always ends with an empty line (`\r\n`
/// when the block had none), `HEADER.FIELDS.NOT` with the block's own (none when it had
/// none).
pub(crate) fn filter(block: &Block<'_>, names: &[&[u8]], not: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for field in block.iter() {
        let named =
            !field.name.is_empty() && names.iter().any(|n| n.eq_ignore_ascii_case(field.name));
        if named != not {
            out.extend_from_slice(field.raw);
        }
    }
    if !block.terminator.is_empty() {
        out.extend_from_slice(block.terminator);
    } else if !not {
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_folded_lines_and_end_at_the_empty_line() {
        let b = Block::new(b"A: 1\r\nSubject: x\r\n  y\r\nB : 2\r\n\r\n");
        assert_eq!(b.terminator, b"\r\n");
        let f: Vec<_> = b.iter().map(|f| (f.name, f.raw)).collect();
        assert_eq!(
            f,
            [
                (&b"A"[..], &b"A: 1\r\n"[..]),
                (b"Subject", b"Subject: x\r\n  y\r\n"),
                (b"B", b"B : 2\r\n"),
            ]
        );
        assert_eq!(b.value("subject").unwrap(), b"x  y");
        assert_eq!(b.value("b").unwrap(), b"2");
        assert!(b.value("c").is_none());
    }

    #[test]
    fn a_block_without_empty_line_or_line_end() {
        let b = Block::new(b"A: 1\nB: 2");
        assert_eq!(b.terminator, b"");
        assert_eq!(b.iter().count(), 2);
        assert_eq!(filter(&b, &[b"b"], false), b"B: 2\r\n");
        assert_eq!(filter(&b, &[b"a", b"b"], true), b"");
        let lf = Block::new(b"A: 1\nB: 2\n\nbody");
        assert_eq!(lf.terminator, b"\n");
        assert_eq!(filter(&lf, &[b"A"], true), b"B: 2\n\n");
    }

    #[test]
    fn unfold_trims_and_replaces_nul() {
        assert_eq!(unfold(b"  a\r\n\tb \0 \r\n"), "a\tb \u{FFFD}".as_bytes());
        assert_eq!(unfold(b" \r\n "), b"");
        assert_eq!(
            unfold(b"\r\n <folded@example.org>\r\n"),
            b" <folded@example.org>"
        );
    }
}
