//! `response`, `scan-listing` and the `UIDL` listing line: the mirror of `parse/response.rs`.

use std::fmt::Write as _;

use bytes::{BufMut, BytesMut};

use crate::response::{Response, ScanListing, UidListing};

/// Writes a status line and its CRLF.
pub(crate) fn response(response: &Response<'_>, out: &mut BytesMut) {
    let _ = write!(out, "{response}\r\n");
}

/// Writes `msg size` and CRLF.
pub(crate) fn scan_listing(listing: &ScanListing, out: &mut BytesMut) {
    let _ = write!(out, "{} {}\r\n", listing.message, listing.size);
}

/// Writes `msg unique-id` and CRLF.
pub(crate) fn uid_listing(listing: &UidListing<'_>, out: &mut BytesMut) {
    let _ = write!(out, "{} ", listing.message);
    out.put_slice(listing.uid.as_str().as_bytes());
    out.put_slice(b"\r\n");
}
