//! APPEND's messages (RFC 3501 section 6.3.11, RFC 9051 section 6.3.12, MULTIAPPEND RFC 3502,
//! BINARY RFC 3516, UTF8=ACCEPT RFC 6855).

use crate::core::{Literal, Literal8};
use crate::datetime::DateTime;
use crate::encode::{Encode, Writer};
use crate::flag::{Flag, read_flag_list};
use crate::list::List;
use crate::parse::{PResult, Reader};

/// One message of an APPEND command (`append-message` of MULTIAPPEND): optional flags and
/// internal date, then the message itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppendMessage<'a> {
    /// Flags to set (`flag-list`; an empty list is not written).
    pub flags: List<Flag<'a>>,
    /// The internal date to give the message.
    pub date_time: Option<DateTime>,
    /// The message.
    pub data: AppendData<'a>,
}

/// `append-data`: the message as a literal, a `literal8` (BINARY), or `UTF8 (literal8)`
/// (RFC 6855).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AppendData<'a> {
    /// `literal`: `{n}` or `{n+}`.
    Literal(Literal<'a>),
    /// `literal8`: `~{n}` (BINARY; the message may contain NUL and 8-bit data).
    Binary(Literal8<'a>),
    /// `"UTF8" SP "(" literal8 ")"` (UTF8=ACCEPT): a message with UTF-8 headers.
    Utf8(Literal8<'a>),
}

impl<'a> AppendData<'a> {
    /// The message bytes.
    pub fn data(&self) -> &[u8] {
        match self {
            AppendData::Literal(l) => l.data(),
            AppendData::Binary(l) | AppendData::Utf8(l) => l.data(),
        }
    }

    /// The value with its borrowed data copied.
    pub fn into_static(self) -> AppendData<'static> {
        match self {
            AppendData::Literal(l) => AppendData::Literal(l.into_static()),
            AppendData::Binary(l) => AppendData::Binary(l.into_static()),
            AppendData::Utf8(l) => AppendData::Utf8(l.into_static()),
        }
    }

    fn read(r: &mut Reader<'a>) -> PResult<Self> {
        match r.peek() {
            Some(b'{') => Ok(AppendData::Literal(Literal::read(r)?)),
            Some(b'~') => Ok(AppendData::Binary(Literal8::read(r)?)),
            _ => {
                r.expect_keyword("UTF8", "literal")?;
                r.sp()?;
                r.expect(b'(', "\"(\"")?;
                let l = Literal8::read(r)?;
                r.expect(b')', "\")\"")?;
                Ok(AppendData::Utf8(l))
            }
        }
    }
}

impl Encode for AppendData<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            AppendData::Literal(l) => l.encode(w),
            AppendData::Binary(l) => l.encode(w),
            AppendData::Utf8(l) => {
                w.raw(b"UTF8 (");
                l.encode(w);
                w.byte(b')');
            }
        }
    }
}

impl<'a> AppendMessage<'a> {
    /// A message without flags or date.
    pub fn new(data: AppendData<'a>) -> Self {
        AppendMessage {
            flags: List::new(),
            date_time: None,
            data,
        }
    }

    /// The value with its borrowed data copied.
    pub fn into_static(self) -> AppendMessage<'static> {
        AppendMessage {
            flags: self.flags.map(Flag::into_static),
            date_time: self.date_time,
            data: self.data.into_static(),
        }
    }

    /// `append-message` after its leading SP: `[flag-list SP] [date-time SP] append-data`.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        let mut flags = List::new();
        if r.peek() == Some(b'(') {
            flags = read_flag_list(r)?;
            r.sp()?;
        }
        let mut date_time = None;
        if r.peek() == Some(b'"') {
            date_time = Some(DateTime::read(r)?);
            r.sp()?;
        }
        let data = AppendData::read(r)?;
        Ok(AppendMessage {
            flags,
            date_time,
            data,
        })
    }
}

impl Encode for AppendMessage<'_> {
    fn encode(&self, w: &mut Writer) {
        if !self.flags.is_empty() {
            w.byte(b'(');
            for (i, f) in self.flags.iter().enumerate() {
                if i > 0 {
                    w.sp();
                }
                f.encode(w);
            }
            w.raw(b") ");
        }
        if let Some(d) = &self.date_time {
            d.encode(w);
            w.sp();
        }
        self.data.encode(w);
    }
}
