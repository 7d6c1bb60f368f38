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
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
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
    pub(crate) fn read_lenient(r: &mut Reader<'a>) -> PResult<Self> {
        if r.quirks.nil_as_string && r.keyword("NIL") {
            return Ok(IString::Quoted(Quoted(Cow::Borrowed(&[]))));
        }
        Self::read(r)
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
    pub fn data(&self) -> Option<&[u8]> {
        self.0.as_ref().map(IString::data)
    }
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

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlagFetch<'a>(Cow<'a, str>);
impl<'a> FlagFetch<'a> {
    pub fn into_static(self) -> FlagFetch<'static> {
        FlagFetch(Cow::Owned(self.0.into_owned()))
    }
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        let start = r.pos();
        r.eat(b'\\');
        r.atom()?;
        Ok(FlagFetch(Cow::Borrowed(
            std::str::from_utf8(&r.input()[start..r.pos()]).unwrap_or(""),
        )))
    }
}
impl Encode for FlagFetch<'_> {
    fn encode(&self, w: &mut Writer) {
        w.raw(self.0.as_bytes())
    }
}
pub(crate) fn read_flag_fetch_list<'a>(
    r: &mut Reader<'a>,
) -> PResult<crate::list::List<FlagFetch<'a>>> {
    r.expect(b'(', "(")?;
    let mut l = crate::list::List::new();
    if r.eat(b')') {
        return Ok(l);
    }
    loop {
        l.push(FlagFetch::read(r)?);
        if !r.eat(b' ') {
            break;
        }
    }
    r.expect(b')', ")")?;
    Ok(l)
}
pub(crate) fn write_paren_list<T: Encode>(w: &mut Writer, items: &[T]) {
    w.byte(b'(');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            w.sp();
        }
        x.encode(w);
    }
    w.byte(b')');
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime([u8; 26]);
impl DateTime {
    pub(crate) fn read(r: &mut Reader<'_>) -> PResult<Self> {
        r.expect(b'"', "date-time")?;
        let d = r.take(26, "date-time")?;
        r.expect(b'"', "date-time")?;
        let mut a = [0u8; 26];
        a.copy_from_slice(d);
        Ok(DateTime(a))
    }
}
impl Encode for DateTime {
    fn encode(&self, w: &mut Writer) {
        w.byte(b'"');
        w.raw(&self.0);
        w.byte(b'"');
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NString8<'a> {
    NString(NString<'a>),
    Literal8(Cow<'a, [u8]>),
}
impl<'a> NString8<'a> {
    pub fn data(&self) -> Option<&[u8]> {
        match self {
            NString8::NString(n) => n.data(),
            NString8::Literal8(l) => Some(l),
        }
    }
    pub fn into_static(self) -> NString8<'static> {
        match self {
            NString8::NString(n) => NString8::NString(n.into_static()),
            NString8::Literal8(l) => NString8::Literal8(Cow::Owned(l.into_owned())),
        }
    }
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        if r.eat(b'~') {
            r.expect(b'{', "{")?;
            let n = r.number()? as usize;
            r.expect(b'}', "}")?;
            r.crlf()?;
            return Ok(NString8::Literal8(Cow::Borrowed(r.take(n, "literal8")?)));
        }
        NString::read(r).map(NString8::NString)
    }
}
impl Encode for NString8<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            NString8::NString(n) => n.encode(w),
            NString8::Literal8(l) => w.literal(l, LiteralMode::Sync, true),
        }
    }
}
