//! Log escaping for every string a client controls: a log reader that splits lines, or a
//! terminal that shows them, must see one line per event, written by us.
//!
//! What a client sends reaches the log in the EHLO name, the MAIL and RCPT addresses, the
//! user name of a failed AUTH and the texts of errors that quote its input. Under SMTPUTF8
//! (RFC 6531) those may hold characters that end a line for some readers (U+0085 NEXT LINE,
//! U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR), control characters (C0, DEL, C1: a
//! terminal acts on them), and bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and its
//! kin make a line read differently from what it holds). [`Escaped`] writes each of them as
//! `\u{XX}` (hexadecimal code point), and a backslash or a double quote as `\\` and `\"`, so
//! that an escaped string cannot end a line, cannot fake an escape, and cannot end a quoted
//! value. A string holding white space is written in double quotes: the log's fields are
//! `key=value` separated by spaces, so an unquoted space would end the value and let the
//! client add fields of its own (` peer=10.9.8.7:25 user=root`). Nothing is dropped: the log
//! still shows what the client sent.
//!
//! The rule is protocol-neutral: the POP3 and IMAP listeners log their user names and
//! arguments through [`Escaped`] as the SMTP one does.
//!
//! ```text
//! info!(%peer, helo = %Escaped(&host), "hello");
//! ```

use std::fmt::{self, Write};

/// A client-controlled string as it may appear in a log line (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // White space that is not escaped would end the value: quote the whole value.
        let quoted = self
            .0
            .chars()
            .any(|c| c.is_whitespace() && !needs_escape(c));
        if quoted {
            f.write_str("\"")?;
        }
        let mut rest = self.0;
        while let Some(at) = rest.find(needs_escape) {
            f.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            match c {
                '\\' => f.write_str("\\\\")?,
                '"' => f.write_str("\\\"")?,
                _ => write!(f, "\\u{{{:x}}}", u32::from(c))?,
            }
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)?;
        if quoted {
            f.write_str("\"")?;
        }
        Ok(())
    }
}

/// `text` escaped for a log line, as an owned string.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let _ = write!(out, "{}", Escaped(text));
    out
}

/// `text` for a listing a person reads on a terminal (`--list-queue`): the characters of
/// [`needs_escape`] escaped as in a log line, but no quotes around text with spaces (a listing
/// has no `key=value` fields to protect). A remote server's reply or a client's address cannot
/// move the cursor, clear the screen or reorder the line.
pub fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push('"'),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether `c` is written as an escape: C0 controls and DEL, C1 controls (U+0085 among them),
/// the line and paragraph separators, the bidirectional controls, backslash and double quote.
pub fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '\0'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{2028}'
            | '\u{2029}'
            // Bidirectional controls: ALM, LRM, RLM, LRE/RLE/PDF/LRO/RLO, LRI/RLI/FSI/PDI.
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\\'
            | '"'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_escapes_controls_without_quoting() {
        assert_eq!(shown("550 5.1.1 no such user"), "550 5.1.1 no such user");
        assert_eq!(shown("jöran@bücher.example"), "jöran@bücher.example");
        assert_eq!(
            shown("550 \u{1b}[2J\u{1b}[1;1Hall clear\r\nfake"),
            "550 \\u{1b}[2J\\u{1b}[1;1Hall clear\\u{d}\\u{a}fake"
        );
        assert_eq!(
            shown("evil\u{202e}moc.elpmaxe@x"),
            "evil\\u{202e}moc.elpmaxe@x"
        );
        assert_eq!(shown("say \"hi\" \\u{a}"), "say \"hi\" \\\\u{a}");
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        for text in [
            "",
            "client.example",
            "alice@localhost",
            "jöran@bücher.example",
            "日本",
        ] {
            assert_eq!(escape(text), text);
        }
    }

    #[test]
    fn separators_controls_and_bidi_are_escaped_not_dropped() {
        for (raw, escaped) in [
            (
                "a\r\nINFO authenticated user=root",
                "\"a\\u{d}\\u{a}INFO authenticated user=root\"",
            ),
            ("x\u{85}INFO forged", "\"x\\u{85}INFO forged\""),
            ("x\u{2028}y\u{2029}z", "x\\u{2028}y\\u{2029}z"),
            ("evil\u{202e}txt.exe", "evil\\u{202e}txt.exe"),
            (
                "\u{2066}\u{2067}\u{2068}\u{2069}",
                "\\u{2066}\\u{2067}\\u{2068}\\u{2069}",
            ),
            ("\u{200e}\u{200f}\u{61c}", "\\u{200e}\\u{200f}\\u{61c}"),
            (
                "\u{202a}\u{202b}\u{202c}\u{202d}",
                "\\u{202a}\\u{202b}\\u{202c}\\u{202d}",
            ),
            (
                "nul\0bell\u{7}esc\u{1b}[31m",
                "nul\\u{0}bell\\u{7}esc\\u{1b}[31m",
            ),
            (
                "del\u{7f}c1\u{80}\u{9b}\u{9f}",
                "del\\u{7f}c1\\u{80}\\u{9b}\\u{9f}",
            ),
            ("tab\there", "tab\\u{9}here"),
            // An escape the client writes itself cannot pass for one of ours.
            ("fake\\u{a}", "fake\\\\u{a}"),
            ("say \"hi\"", "\"say \\\"hi\\\"\""),
            ("\"quoted\"", "\\\"quoted\\\""),
            // White space (any, Unicode too) cannot end the value and start a field.
            (
                "mallory peer=10.9.8.7:25 user=root",
                "\"mallory peer=10.9.8.7:25 user=root\"",
            ),
            ("a\u{a0}b\u{3000}c", "\"a\u{a0}b\u{3000}c\""),
        ] {
            assert_eq!(escape(raw), escaped, "{raw:?}");
            assert_eq!(Escaped(raw).to_string(), escaped);
            // One line, nothing a reader could take for a line end or a direction change.
            assert!(
                !escape(raw)
                    .chars()
                    .any(|c| needs_escape(c) && c != '\\' && c != '"')
            );
        }
    }

    #[test]
    fn every_character_that_needs_it_is_escaped_and_the_rest_pass() {
        for c in (0..=0x3000u32).filter_map(char::from_u32) {
            let text = c.to_string();
            let out = escape(&text);
            if needs_escape(c) {
                assert_ne!(out, text, "{c:?}");
                assert!(out.is_ascii(), "{c:?} -> {out}");
            } else if c.is_whitespace() {
                assert_eq!(out, format!("\"{c}\""), "{c:?}");
            } else {
                assert_eq!(out, text, "{c:?}");
            }
        }
    }
}
