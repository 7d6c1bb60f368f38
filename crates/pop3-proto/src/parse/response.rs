//! `response` (RFC 1939 section 3, RFC 2449 section 8), `scan-listing` and the `UIDL`
//! listing line (RFC 1939 section 7).

use std::borrow::Cow;

use super::{number, size};
use crate::error::ResponseError;
use crate::response::{Response, ScanListing, Status, UidListing};
use crate::types::{RespCode, Uid};

/// A status line without its CRLF.
pub(crate) fn response(line: &[u8]) -> Result<Response<'_>, ResponseError> {
    let (status, rest) = if let Some(rest) = line.strip_prefix(b"+OK") {
        (Status::Ok, rest)
    } else if let Some(rest) = line.strip_prefix(b"-ERR") {
        (Status::Err, rest)
    } else {
        return Err(ResponseError::BadStatus);
    };
    let start = line.len() - rest.len();
    let rest = match rest {
        [] => rest,
        [b' ', rest @ ..] => rest,
        _ => return Err(ResponseError::BadStatus),
    };
    let text_start = line.len() - rest.len();
    if let Some(offset) = rest
        .iter()
        .position(|&b| (b < 0x20 && b != b'\t') || b == 0x7f)
    {
        return Err(ResponseError::BadText {
            offset: text_start + offset,
        });
    }
    let (code, text) = match rest.strip_prefix(b"[") {
        Some(inner) => {
            let close =
                memchr::memchr(b']', inner).ok_or(ResponseError::BadCode { offset: text_start })?;
            let name = std::str::from_utf8(&inner[..close])
                .ok()
                .filter(|name| RespCode::parses(name))
                .ok_or(ResponseError::BadCode { offset: text_start })?;
            let after = &inner[close + 1..];
            let after = after.strip_prefix(b" ").unwrap_or(after);
            (Some(RespCode::from_name(name)), after)
        }
        None => (None, rest),
    };
    let _ = start;
    Ok(Response::from_parts(
        status,
        code,
        String::from_utf8_lossy(text),
    ))
}

/// `msg SP size [SP text]`.
pub(crate) fn scan_listing(line: &[u8]) -> Result<ScanListing, ResponseError> {
    let text = std::str::from_utf8(line).map_err(|e| ResponseError::BadText {
        offset: e.valid_up_to(),
    })?;
    let mut fields = text.splitn(3, ' ');
    let message = fields
        .next()
        .and_then(number)
        .ok_or(ResponseError::BadField {
            field: "message number",
            offset: 0,
        })?;
    let offset = text.find(' ').map_or(text.len(), |space| space + 1);
    let size = fields
        .next()
        .and_then(size)
        .ok_or(ResponseError::BadField {
            field: "size",
            offset,
        })?;
    Ok(ScanListing { message, size })
}

/// `msg SP unique-id`.
pub(crate) fn uid_listing(line: &[u8]) -> Result<UidListing<'_>, ResponseError> {
    let text = std::str::from_utf8(line).map_err(|e| ResponseError::BadText {
        offset: e.valid_up_to(),
    })?;
    let (message, uid) = text.split_once(' ').ok_or(ResponseError::BadField {
        field: "unique-id",
        offset: text.len(),
    })?;
    let message = number(message).ok_or(ResponseError::BadField {
        field: "message number",
        offset: 0,
    })?;
    let uid = Uid::new(Cow::Borrowed(uid)).map_err(|_| ResponseError::BadField {
        field: "unique-id",
        offset: text.len() - uid.len(),
    })?;
    Ok(UidListing { message, uid })
}
