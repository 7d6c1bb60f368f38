//! Paths, mailboxes, domains and address literals.

use bytes::{BufMut, BytesMut};

use crate::types::{AddressLiteral, ForwardPath, Host, Mailbox, ReversePath};

/// `address-literal`
pub(crate) fn address_literal(a: &AddressLiteral<'_>, out: &mut BytesMut) {
    use std::fmt::Write;
    out.put_u8(b'[');
    // Writing to BytesMut cannot fail.
    let _ = match a {
        AddressLiteral::Ipv4(a) => write!(out, "{a}"),
        AddressLiteral::Ipv6(a) => write!(out, "IPv6:{a}"),
        AddressLiteral::General(g) => write!(out, "{}:{}", g.tag(), g.content()),
    };
    out.put_u8(b']');
}

/// `Domain / address-literal`
pub(crate) fn host(h: &Host<'_>, out: &mut BytesMut) {
    match h {
        Host::Domain(d) => out.put_slice(d.as_str().as_bytes()),
        Host::Literal(a) => address_literal(a, out),
    }
}

/// `Mailbox`
pub(crate) fn mailbox(m: &Mailbox<'_>, out: &mut BytesMut) {
    out.put_slice(m.local.as_str().as_bytes());
    out.put_u8(b'@');
    host(&m.host, out);
}

/// `Reverse-path` (never a source route)
pub(crate) fn reverse_path(p: &ReversePath<'_>, out: &mut BytesMut) {
    match p {
        ReversePath::Null => out.put_slice(b"<>"),
        ReversePath::Mailbox(m) => {
            out.put_u8(b'<');
            mailbox(m, out);
            out.put_u8(b'>');
        }
    }
}

/// `Forward-path` / `<Postmaster>`
pub(crate) fn forward_path(p: &ForwardPath<'_>, out: &mut BytesMut) {
    match p {
        ForwardPath::Postmaster => out.put_slice(b"<Postmaster>"),
        ForwardPath::Mailbox(m) => {
            out.put_u8(b'<');
            mailbox(m, out);
            out.put_u8(b'>');
        }
    }
}
