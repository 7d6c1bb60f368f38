//! Temporary stand-ins for the core string types until branch i17-core lands (deleted on merge).
#![allow(dead_code, missing_docs, unreachable_pub, private_interfaces)]

use crate::core::LiteralMode;
use crate::encode::{Encode, Writer};
use crate::error::ValidationError;
use crate::parse::{PResult, Reader, is_astring_char};
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AtomExt<'a>(Cow<'a, str>);
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Quoted<'a>(Cow<'a, [u8]>);
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Literal<'a> {
    data: Cow<'a, [u8]>,
    mode: LiteralMode,
}
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IString<'a> {
    Quoted(Quoted<'a>),
    Literal(Literal<'a>),
}
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AString<'a> {
    Atom(AtomExt<'a>),
    String(IString<'a>),
}
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NString<'a>(pub Option<IString<'a>>);

impl<'a> IString<'a> {
    pub fn data(&self) -> &[u8] {
        match self {
            IString::Quoted(q) => &q.0,
            IString::Literal(l) => &l.data,
        }
    }
    pub fn from_bytes(b: impl Into<Cow<'a, [u8]>>) -> Result<Self, ValidationError> {
        let b = b.into();
        if b.iter()
            .all(|&c| c != b'\r' && c != b'\n' && c != 0 && c < 0x80)
        {
            Ok(IString::Quoted(Quoted(b)))
        } else if b.contains(&0) {
            Err(ValidationError::new("string", "NUL"))
        } else {
            Ok(IString::Literal(Literal {
                data: b,
                mode: LiteralMode::Sync,
            }))
        }
    }
    pub fn into_static(self) -> IString<'static> {
        match self {
            IString::Quoted(q) => IString::Quoted(Quoted(Cow::Owned(q.0.into_owned()))),
            IString::Literal(l) => IString::Literal(Literal {
                data: Cow::Owned(l.data.into_owned()),
                mode: l.mode,
            }),
        }
    }
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        match r.peek() {
            Some(b'"') => {
                r.next_byte();
                let start = r.pos();
                let mut owned: Option<Vec<u8>> = None;
                loop {
                    match r.next_byte() {
                        Some(b'"') => break,
                        Some(b'\\') => {
                            let c = r.next_byte().ok_or_else(|| r.error("quoted"))?;
                            let v =
                                owned.get_or_insert_with(|| r.input()[start..r.pos() - 2].to_vec());
                            v.push(c);
                        }
                        Some(b'\r' | b'\n' | 0) | None => return Err(r.error("quoted")),
                        Some(c) => {
                            if let Some(v) = owned.as_mut() {
                                v.push(c)
                            }
                        }
                    }
                }
                let d = match owned {
                    Some(v) => Cow::Owned(v),
                    None => Cow::Borrowed(&r.input()[start..r.pos() - 1]),
                };
                Ok(IString::Quoted(Quoted(d)))
            }
            Some(b'{') => {
                r.next_byte();
                let n = r.number()? as usize;
                let mode = if r.eat(b'+') {
                    LiteralMode::NonSync
                } else {
                    LiteralMode::Sync
                };
                r.expect(b'}', "}")?;
                r.crlf()?;
                let d = r.take(n, "literal")?;
                Ok(IString::Literal(Literal {
                    data: Cow::Borrowed(d),
                    mode,
                }))
            }
            _ => Err(r.error("string")),
        }
    }
}

impl Encode for IString<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            IString::Quoted(q) => {
                w.byte(b'"');
                for &c in q.0.iter() {
                    if c == b'"' || c == b'\\' {
                        w.byte(b'\\');
                    }
                    w.byte(c);
                }
                w.byte(b'"');
            }
            IString::Literal(l) => w.literal(&l.data, l.mode, false),
        }
    }
}

impl<'a> AString<'a> {
    pub fn data(&self) -> &[u8] {
        match self {
            AString::Atom(a) => a.0.as_bytes(),
            AString::String(s) => s.data(),
        }
    }
    pub fn from_bytes(b: impl Into<Cow<'a, [u8]>>) -> Result<Self, ValidationError> {
        let b = b.into();
        if !b.is_empty() && b.iter().all(|&c| is_astring_char(c)) {
            let s = match b {
                Cow::Borrowed(b) => Cow::Borrowed(std::str::from_utf8(b).unwrap_or("")),
                Cow::Owned(b) => Cow::Owned(String::from_utf8(b).unwrap_or_default()),
            };
            return Ok(AString::Atom(AtomExt(s)));
        }
        IString::from_bytes(b).map(AString::String)
    }
    pub fn into_static(self) -> AString<'static> {
        match self {
            AString::Atom(a) => AString::Atom(AtomExt(Cow::Owned(a.0.into_owned()))),
            AString::String(s) => AString::String(s.into_static()),
        }
    }
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        if matches!(r.peek(), Some(b'"' | b'{')) {
            return IString::read(r).map(AString::String);
        }
        let a = r.take_while(is_astring_char);
        if a.is_empty() {
            return Err(r.error("astring"));
        }
        Ok(AString::Atom(AtomExt(Cow::Borrowed(
            std::str::from_utf8(a).unwrap_or(""),
        ))))
    }
}

impl Encode for AString<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            AString::Atom(a) => w.raw(a.0.as_bytes()),
            AString::String(s) => s.encode(w),
        }
    }
}

impl<'a> NString<'a> {
    pub fn into_static(self) -> NString<'static> {
        NString(self.0.map(IString::into_static))
    }
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        if r.keyword("NIL") {
            Ok(NString(None))
        } else {
            IString::read(r).map(|s| NString(Some(s)))
        }
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
