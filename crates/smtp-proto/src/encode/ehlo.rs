//! EHLO replies from [`Capabilities`], in a canonical keyword order.

use std::borrow::Cow;

use crate::ValueError;
use crate::reply::{Capabilities, Reply};
use crate::types::ReplyCode;

/// `ehlo-ok-rsp`
pub(crate) fn ehlo_ok_rsp(c: &Capabilities) -> Result<Reply<'static>, ValueError> {
    let mut lines: Vec<Cow<'static, [u8]>> = vec![Cow::Owned(c.greeting.clone())];
    let mut push = |s: String| lines.push(Cow::Owned(s.into_bytes()));
    let flags = [
        (c.pipelining, "PIPELINING"),
        (c.eight_bit_mime, "8BITMIME"),
        (c.smtputf8, "SMTPUTF8"),
        (c.starttls, "STARTTLS"),
        (c.enhanced_status_codes, "ENHANCEDSTATUSCODES"),
        (c.chunking, "CHUNKING"),
        (c.binary_mime, "BINARYMIME"),
        (c.dsn, "DSN"),
        (c.etrn, "ETRN"),
        (c.vrfy, "VRFY"),
        (c.requiretls, "REQUIRETLS"),
    ];
    for (on, k) in flags {
        if on {
            push(k.to_string());
        }
    }
    if let Some(size) = c.size {
        push(match size {
            Some(n) => format!("SIZE {n}"),
            None => "SIZE".to_string(),
        });
    }
    if let Some(auth) = &c.auth {
        push(match auth.is_empty() {
            true => "AUTH".to_string(),
            false => format!("AUTH {auth}"),
        });
    }
    if let Some(limits) = &c.limits {
        let mut s = "LIMITS".to_string();
        for (n, v) in limits {
            s.push(' ');
            s.push_str(n);
            s.push('=');
            s.push_str(v);
        }
        push(s);
    }
    for (k, params) in &c.unknown {
        let mut s = k.clone();
        for p in params {
            s.push(' ');
            s.push_str(p);
        }
        push(s);
    }
    Reply::new(ReplyCode::OK, None, lines)
}
