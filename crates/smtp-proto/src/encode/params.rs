//! MAIL and RCPT parameters, in a canonical order (known ones first, then unknown as given).

use std::fmt::Write;

use bytes::{BufMut, BytesMut};

use crate::command::{Body, MailParams, Param, RcptParams, Ret};

fn unknown(p: &Param<'_>, out: &mut BytesMut) {
    out.put_u8(b' ');
    out.put_slice(p.keyword().as_bytes());
    if let Some(v) = p.value() {
        out.put_u8(b'=');
        out.put_slice(v.as_bytes());
    }
}

/// `[SP Mail-parameters]`
pub(crate) fn mail_parameters(p: &MailParams<'_>, out: &mut BytesMut) {
    if let Some(size) = p.size {
        // Writing to BytesMut cannot fail.
        let _ = write!(out, " SIZE={size}");
    }
    if let Some(body) = p.body {
        out.put_slice(match body {
            Body::SevenBit => b" BODY=7BIT".as_slice(),
            Body::EightBitMime => b" BODY=8BITMIME",
            Body::BinaryMime => b" BODY=BINARYMIME",
        });
    }
    if p.smtputf8 {
        out.put_slice(b" SMTPUTF8");
    }
    if let Some(ret) = p.ret {
        out.put_slice(if ret == Ret::Full {
            b" RET=FULL"
        } else {
            b" RET=HDRS"
        });
    }
    if let Some(e) = &p.envid {
        out.put_slice(b" ENVID=");
        out.put_slice(e.as_str().as_bytes());
    }
    if let Some(a) = &p.auth {
        out.put_slice(b" AUTH=");
        out.put_slice(a.as_str().as_bytes());
    }
    if p.requiretls {
        out.put_slice(b" REQUIRETLS");
    }
    for u in &p.unknown {
        unknown(u, out);
    }
}

/// `[SP Rcpt-parameters]`
pub(crate) fn rcpt_parameters(p: &RcptParams<'_>, out: &mut BytesMut) {
    if let Some(n) = p.notify {
        out.put_slice(b" NOTIFY=");
        if n.is_never() {
            out.put_slice(b"NEVER");
        } else {
            let mut first = true;
            for (on, name) in [
                (n.success(), "SUCCESS"),
                (n.failure(), "FAILURE"),
                (n.delay(), "DELAY"),
            ] {
                if on {
                    if !first {
                        out.put_u8(b',');
                    }
                    out.put_slice(name.as_bytes());
                    first = false;
                }
            }
        }
    }
    if let Some(o) = &p.orcpt {
        out.put_slice(b" ORCPT=");
        out.put_slice(o.addr_type().as_bytes());
        out.put_u8(b';');
        out.put_slice(o.address().as_str().as_bytes());
    }
    for u in &p.unknown {
        unknown(u, out);
    }
}
