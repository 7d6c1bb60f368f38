//! POP3 responses (RFC 1939 section 3): the status line (`+OK` or `-ERR`, an optional
//! response code of RFC 2449 section 8, text), the SASL continuation line (`+ base64`, RFC
//! 5034 section 4), and the lines of the multi-line `LIST` and `UIDL` listings.

use std::borrow::Cow;
use std::fmt;

use bytes::BytesMut;

use crate::error::{ResponseError, ValueError};
use crate::types::{RespCode, Uid, check_text};

/// The longest response line a server may send: 512 octets including CRLF (RFC 2449
/// section 4). Message content (`RETR`, `TOP`) is not bound by it.
pub const MAX_RESPONSE_LINE: usize = 512;

/// The status indicator of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `+OK`.
    Ok,
    /// `-ERR`.
    Err,
}

/// A status line: `+OK` or `-ERR`, an optional response code, and text.
///
/// ```
/// use bytes::BytesMut;
/// use pop3_proto::{RespCode, Response, Status};
///
/// let response = Response::parse(b"-ERR [IN-USE] maildrop locked").unwrap();
/// assert_eq!(response.status(), Status::Err);
/// assert_eq!(response.code(), Some(&RespCode::InUse));
/// assert_eq!(response.text(), "maildrop locked");
/// let mut wire = BytesMut::new();
/// response.encode(&mut wire);
/// assert_eq!(&wire[..], b"-ERR [IN-USE] maildrop locked\r\n");
/// assert!(Response::new(pop3_proto::Status::Ok, None, "two\r\nlines").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Response<'a> {
    status: Status,
    code: Option<RespCode<'a>>,
    text: Cow<'a, str>,
}

impl<'a> Response<'a> {
    /// A status line with this code and text.
    ///
    /// # Errors
    ///
    /// [`ValueError::Octet`] for a CR, LF or other control octet in `text`, or a code
    /// that is not `1*(ALPHA / DIGIT / "-")` parts joined by `/`.
    pub fn new(
        status: Status,
        code: Option<RespCode<'a>>,
        text: impl Into<Cow<'a, str>>,
    ) -> Result<Self, ValueError> {
        let text = text.into();
        check_text(&text)?;
        if let Some(code) = &code {
            if !RespCode::valid_name(code.name()) {
                return Err(ValueError::Octet { offset: 0 });
            }
        }
        // A text starting with `[` would read back as a code.
        if code.is_none() && text.starts_with('[') {
            return Err(ValueError::Octet { offset: 0 });
        }
        Ok(Response { status, code, text })
    }

    /// Parses a status line without its CRLF. A code is recognised when `[` follows the
    /// status and one space (RFC 2449 section 8); its `]` must come before the end of line.
    ///
    /// # Errors
    ///
    /// A [`ResponseError`] naming what failed and where.
    pub fn parse(line: &'a [u8]) -> Result<Self, ResponseError> {
        crate::parse::response::response(line)
    }

    /// Writes the line and its CRLF.
    pub fn encode(&self, out: &mut BytesMut) {
        crate::encode::response::response(self, out);
    }

    /// `+OK` or `-ERR`.
    pub fn status(&self) -> Status {
        self.status
    }

    /// Whether the status is `+OK`.
    pub fn is_ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// The response code, if any.
    pub fn code(&self) -> Option<&RespCode<'a>> {
        self.code.as_ref()
    }

    /// The text after the status (and the code).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The same value owning its text.
    pub fn into_owned(self) -> Response<'static> {
        Response {
            status: self.status,
            code: self.code.map(RespCode::into_owned),
            text: Cow::Owned(self.text.into_owned()),
        }
    }

    pub(crate) fn from_parts(
        status: Status,
        code: Option<RespCode<'a>>,
        text: Cow<'a, str>,
    ) -> Self {
        Response { status, code, text }
    }
}

impl fmt::Display for Response<'_> {
    /// The line as sent, without CRLF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.status {
            Status::Ok => "+OK",
            Status::Err => "-ERR",
        })?;
        if let Some(code) = &self.code {
            write!(f, " [{}]", code.name())?;
        }
        if !self.text.is_empty() {
            write!(f, " {}", self.text)?;
        }
        Ok(())
    }
}

/// A line of a multi-line `LIST` response, or the argument of a single-line one: `msg size`
/// (RFC 1939 section 7, "scan listing").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScanListing {
    /// The message number.
    pub message: u32,
    /// Its size in octets, counted with CRLF line endings as `RETR` would send it.
    pub size: u64,
}

impl ScanListing {
    /// Parses `msg size` (extra text after the size is allowed, RFC 1939 section 7).
    ///
    /// # Errors
    ///
    /// [`ResponseError::BadField`] naming the field.
    pub fn parse(line: &[u8]) -> Result<Self, ResponseError> {
        crate::parse::response::scan_listing(line)
    }

    /// Writes `msg size` and CRLF.
    pub fn encode(&self, out: &mut BytesMut) {
        crate::encode::response::scan_listing(self, out);
    }
}

/// A line of a multi-line `UIDL` response, or the argument of a single-line one:
/// `msg unique-id` (RFC 1939 section 7).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UidListing<'a> {
    /// The message number.
    pub message: u32,
    /// Its unique-id.
    pub uid: Uid<'a>,
}

impl<'a> UidListing<'a> {
    /// Parses `msg unique-id`.
    ///
    /// # Errors
    ///
    /// [`ResponseError::BadField`] naming the field.
    pub fn parse(line: &'a [u8]) -> Result<Self, ResponseError> {
        crate::parse::response::uid_listing(line)
    }

    /// Writes `msg unique-id` and CRLF.
    pub fn encode(&self, out: &mut BytesMut) {
        crate::encode::response::uid_listing(self, out);
    }

    /// The same value owning its text.
    pub fn into_owned(self) -> UidListing<'static> {
        UidListing {
            message: self.message,
            uid: self.uid.into_owned(),
        }
    }
}
