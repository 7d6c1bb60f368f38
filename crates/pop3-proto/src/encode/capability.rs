//! `capability`: the mirror of `parse/capability.rs`.

use bytes::{BufMut, BytesMut};

use crate::capability::Capability;

/// Writes one `CAPA` line and its CRLF.
pub(crate) fn capability(capability: &Capability<'_>, out: &mut BytesMut) {
    let mut put = |name: &str, params: &[std::borrow::Cow<'_, str>]| {
        out.put_slice(name.as_bytes());
        for param in params {
            out.put_u8(b' ');
            out.put_slice(param.as_bytes());
        }
    };
    match capability {
        Capability::Top => put("TOP", &[]),
        Capability::User => put("USER", &[]),
        Capability::Sasl(names) => put("SASL", names),
        Capability::RespCodes => put("RESP-CODES", &[]),
        Capability::LoginDelay(params) => put("LOGIN-DELAY", params),
        Capability::Pipelining => put("PIPELINING", &[]),
        Capability::Expire(params) => put("EXPIRE", params),
        Capability::Uidl => put("UIDL", &[]),
        Capability::Implementation(text) => put("IMPLEMENTATION", std::slice::from_ref(text)),
        Capability::Stls => put("STLS", &[]),
        Capability::AuthRespCode => put("AUTH-RESP-CODE", &[]),
        Capability::Utf8 { user: false } => put("UTF8", &[]),
        Capability::Utf8 { user: true } => put("UTF8 USER", &[]),
        Capability::Lang => put("LANG", &[]),
        Capability::Other { name, params } => put(name, params),
    }
    out.put_slice(b"\r\n");
}
