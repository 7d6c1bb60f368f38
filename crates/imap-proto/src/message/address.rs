//! RFC 5322 address lists (section 3.4, with the obsolete forms of section 4.4 that mail
//! still carries) read from a raw field value into ENVELOPE addresses (RFC 9051 section
//! 7.5.2): display names as written (quotes and escapes removed, RFC 2047 encoded words kept
//! encoded), the source route, groups as start and end markers.
//!
//! `mail-parser` reads these fields too, but hands back decoded names and no source route;
//! IMAP wants them as written, so this reads the tokens itself. It never fails: what does
//! not parse is skipped, as Dovecot skips it.

use crate::core::{IString, NString};
use crate::fetch::Address;

/// What Dovecot puts as the host of an address written without a domain (a host of `NIL`
/// would make it a group marker).
pub(crate) const MISSING_DOMAIN: &[u8] = b"MISSING_DOMAIN";

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// An atom, a dot-atom, or a domain literal with its brackets.
    Word(Vec<u8>),
    /// A quoted string, unescaped.
    Quoted(Vec<u8>),
    /// A comment, unescaped, without its parentheses.
    Comment(Vec<u8>),
    /// One of `< > : ; @ ,`.
    Special(u8),
}

fn tokens(value: &[u8]) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = value.get(i) {
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'<' | b'>' | b':' | b';' | b'@' | b',' => {
                out.push(Tok::Special(b));
                i += 1;
            }
            b'"' => {
                let mut s = Vec::new();
                i += 1;
                while let Some(&c) = value.get(i) {
                    i += 1;
                    match c {
                        b'"' => break,
                        b'\\' => {
                            if let Some(&e) = value.get(i) {
                                s.push(e);
                                i += 1;
                            }
                        }
                        b'\r' | b'\n' => {}
                        _ => s.push(c),
                    }
                }
                out.push(Tok::Quoted(s));
            }
            b'(' => {
                let mut s = Vec::new();
                let mut depth = 0usize;
                i += 1;
                while let Some(&c) = value.get(i) {
                    i += 1;
                    match c {
                        b'(' => {
                            depth += 1;
                            s.push(c);
                        }
                        b')' if depth == 0 => break,
                        b')' => {
                            depth -= 1;
                            s.push(c);
                        }
                        b'\\' => {
                            if let Some(&e) = value.get(i) {
                                s.push(e);
                                i += 1;
                            }
                        }
                        b'\r' | b'\n' => {}
                        _ => s.push(c),
                    }
                }
                out.push(Tok::Comment(s));
            }
            b')' => i += 1,
            b'[' => {
                let end = value
                    .get(i..)
                    .and_then(|r| memchr::memchr(b']', r))
                    .map_or(value.len(), |e| i + e + 1);
                out.push(Tok::Word(value.get(i..end).unwrap_or_default().to_vec()));
                i = end;
            }
            _ => {
                let start = i;
                while let Some(&c) = value.get(i) {
                    if matches!(
                        c,
                        b' ' | b'\t'
                            | b'\r'
                            | b'\n'
                            | b'<'
                            | b'>'
                            | b':'
                            | b';'
                            | b'@'
                            | b','
                            | b'"'
                            | b'('
                            | b')'
                            | b'['
                    ) {
                        break;
                    }
                    i += 1;
                }
                out.push(Tok::Word(value.get(start..i).unwrap_or_default().to_vec()));
            }
        }
    }
    out
}

fn nstring(data: Vec<u8>) -> NString<'static> {
    // NUL never reaches here (the caller replaced it), so the string is always valid
    NString(IString::from_bytes(data).ok())
}

/// Reads the tokens of one address list.
struct Reader {
    toks: Vec<Tok>,
    at: usize,
    /// The last comment passed, for a name-less `addr-spec (Name)`.
    comment: Option<Vec<u8>>,
}

impl Reader {
    fn peek(&mut self) -> Option<&Tok> {
        while let Some(Tok::Comment(c)) = self.toks.get(self.at) {
            self.comment = Some(c.clone());
            self.at += 1;
        }
        self.toks.get(self.at)
    }

    fn special(&mut self) -> Option<u8> {
        match self.peek() {
            Some(Tok::Special(s)) => Some(*s),
            _ => None,
        }
    }

    /// Words and quoted strings up to the next special: a phrase or a local part.
    fn words(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => {
                    out.push(w.clone());
                    self.at += 1;
                }
                _ => return out,
            }
        }
    }

    /// `domain` after an `@`: words (dots are inside them) up to a special.
    fn domain(&mut self) -> Vec<u8> {
        self.words().concat()
    }

    /// A mailbox (or, at the top level, a group) and the addresses it adds.
    fn mailbox(&mut self, out: &mut Vec<Address<'static>>, in_group: bool) {
        self.comment = None;
        let phrase = self.words();
        match self.special() {
            Some(b':') if !in_group => {
                self.at += 1;
                out.push(Address {
                    mailbox: nstring(phrase.join(&b' ')),
                    ..Address::default()
                });
                loop {
                    match self.special() {
                        Some(b';') => {
                            self.at += 1;
                            break;
                        }
                        Some(b',') => self.at += 1,
                        _ if self.peek().is_none() => break,
                        _ => {
                            let before = self.at;
                            self.mailbox(out, true);
                            if self.at == before {
                                self.at += 1;
                            }
                        }
                    }
                }
                out.push(Address::default());
            }
            Some(b'<') => {
                self.at += 1;
                let mut adl = Vec::new();
                while self.special() == Some(b'@') {
                    self.at += 1;
                    if !adl.is_empty() {
                        adl.push(b',');
                    }
                    adl.push(b'@');
                    adl.extend(self.domain());
                    if self.special() == Some(b',') {
                        self.at += 1;
                    }
                }
                if !adl.is_empty() && self.special() == Some(b':') {
                    self.at += 1;
                }
                let local = self.words().concat();
                let host = if self.special() == Some(b'@') {
                    self.at += 1;
                    self.domain()
                } else {
                    MISSING_DOMAIN.to_vec()
                };
                if self.special() == Some(b'>') {
                    self.at += 1;
                }
                out.push(Address {
                    name: if phrase.is_empty() {
                        NString(None)
                    } else {
                        nstring(phrase.join(&b' '))
                    },
                    adl: if adl.is_empty() {
                        NString(None)
                    } else {
                        nstring(adl)
                    },
                    mailbox: nstring(local),
                    host: nstring(host),
                });
            }
            Some(b'@') if !phrase.is_empty() => {
                self.at += 1;
                let host = self.domain();
                self.peek();
                out.push(Address {
                    name: NString(self.comment.take().map(nstring).and_then(|n| n.0)),
                    adl: NString(None),
                    mailbox: nstring(phrase.concat()),
                    host: nstring(host),
                });
            }
            _ if !phrase.is_empty() => {
                self.peek();
                out.push(Address {
                    name: NString(self.comment.take().map(nstring).and_then(|n| n.0)),
                    adl: NString(None),
                    mailbox: nstring(phrase.concat()),
                    host: nstring(MISSING_DOMAIN.to_vec()),
                });
            }
            _ => {}
        }
    }
}

/// The addresses of a raw (unfolded) address-list field value, with group markers.
pub(crate) fn address_list(value: &[u8]) -> Vec<Address<'static>> {
    let mut r = Reader {
        toks: tokens(value),
        at: 0,
        comment: None,
    };
    let mut out = Vec::new();
    while r.peek().is_some() {
        let before = r.at;
        r.mailbox(&mut out, false);
        // skip what ends or breaks this element (a comma, a stray special)
        if r.at == before || r.special().is_some() {
            r.at += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::Encode;

    fn wire(value: &str) -> String {
        let list = address_list(value.as_bytes());
        let mut s = String::new();
        for a in list {
            s.push_str(&String::from_utf8(a.to_bytes()).unwrap());
        }
        s
    }

    #[test]
    fn the_forms_dovecot_reads() {
        assert_eq!(
            wire("\"Alice Example\" <alice@example.org>"),
            "(\"Alice Example\" NIL \"alice\" \"example.org\")"
        );
        assert_eq!(
            wire("carol@example.net (Carol C.), Bob  Smith <b@x>"),
            "(\"Carol C.\" NIL \"carol\" \"example.net\")(\"Bob Smith\" NIL \"b\" \"x\")"
        );
        assert_eq!(
            wire("<@route.example:x@y.example>, bare@host"),
            "(NIL \"@route.example\" \"x\" \"y.example\")(NIL NIL \"bare\" \"host\")"
        );
        assert_eq!(
            wire(
                "undisclosed-recipients:;, friends: dan@example.com, \"Eve, E.\" <eve@example.com>;"
            ),
            "(NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)(NIL NIL \"friends\" NIL)(NIL NIL \"dan\" \"example.com\")(\"Eve, E.\" NIL \"eve\" \"example.com\")(NIL NIL NIL NIL)"
        );
        assert_eq!(
            wire("nobody, =?UTF-8?B?SsO2cmc=?= <joerg@example.de>"),
            "(NIL NIL \"nobody\" \"MISSING_DOMAIN\")(\"=?UTF-8?B?SsO2cmc=?=\" NIL \"joerg\" \"example.de\")"
        );
        assert_eq!(
            wire("\"q\\\"uoted\" <q@h> (c)"),
            "(\"q\\\"uoted\" NIL \"q\" \"h\")"
        );
        assert_eq!(wire(""), "");
        assert_eq!(wire(",,;<>:@"), "(NIL NIL \"\" \"MISSING_DOMAIN\")");
    }
}
