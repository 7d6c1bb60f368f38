//! Reply lines: `code-` on continuation lines, `code SP` on the last, enhanced code on every
//! line (RFC 2034 section 4).

use std::fmt::Write;

use bytes::{BufMut, BytesMut};

use crate::reply::Reply;

/// `Reply-line`
pub(crate) fn reply(r: &Reply<'_>, out: &mut BytesMut) {
    let n = r.lines().len();
    for (i, text) in r.lines().enumerate() {
        // Writing to BytesMut cannot fail.
        let _ = write!(out, "{}", r.code());
        let sep = if i + 1 == n { b' ' } else { b'-' };
        match r.enhanced() {
            Some(e) => {
                out.put_u8(sep);
                let _ = write!(out, "{e}");
                if !text.is_empty() {
                    out.put_u8(b' ');
                    out.put_slice(text);
                }
            }
            None => {
                if !text.is_empty() || sep == b'-' {
                    out.put_u8(sep);
                }
                out.put_slice(text);
            }
        }
        out.put_slice(b"\r\n");
    }
}
