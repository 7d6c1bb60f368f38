//! `capability` (RFC 2449 section 5): `capa-tag *(SP param)`.

use std::borrow::Cow;

use crate::capability::Capability;
use crate::error::ResponseError;

/// One line of a `CAPA` response, without its CRLF.
pub(crate) fn capability(line: &[u8]) -> Result<Capability<'_>, ResponseError> {
    let text = std::str::from_utf8(line).map_err(|e| ResponseError::BadText {
        offset: e.valid_up_to(),
    })?;
    if let Some(offset) = text.bytes().position(|b| b < 0x20 || b == 0x7f) {
        return Err(ResponseError::BadText { offset });
    }
    let mut words = text.split(' ').filter(|w| !w.is_empty());
    let name = words.next().ok_or(ResponseError::BadText { offset: 0 })?;
    let params = || words.clone().map(Cow::Borrowed).collect::<Vec<_>>();
    let upper = name.to_ascii_uppercase();
    Ok(match upper.as_str() {
        "TOP" => Capability::Top,
        "USER" => Capability::User,
        "SASL" => Capability::Sasl(params()),
        "RESP-CODES" => Capability::RespCodes,
        "LOGIN-DELAY" => Capability::LoginDelay(params()),
        "PIPELINING" => Capability::Pipelining,
        "EXPIRE" => Capability::Expire(params()),
        "UIDL" => Capability::Uidl,
        "IMPLEMENTATION" => {
            Capability::Implementation(Cow::Borrowed(text[name.len()..].trim_start_matches(' ')))
        }
        "STLS" => Capability::Stls,
        "AUTH-RESP-CODE" => Capability::AuthRespCode,
        "UTF8" => Capability::Utf8 {
            user: words.any(|w| w.eq_ignore_ascii_case("USER")),
        },
        "LANG" => Capability::Lang,
        _ => Capability::Other {
            name: Cow::Borrowed(name),
            params: params(),
        },
    })
}
