//! MAIL and RCPT parameters (RFC 5321 section 4.1.2; RFC 1870, 6152, 3030, 6531, 3461, 4954,
//! 8689) and xtext (RFC 3461 section 4).

use super::{Kind, PResult, fail, fatal, number, utf8};
use crate::command::{Body, MailParams, Notify, Orcpt, Param, RcptParams, Ret};
use crate::types::Xtext;

const KNOWN: [&str; 9] = [
    "SIZE",
    "BODY",
    "SMTPUTF8",
    "RET",
    "ENVID",
    "AUTH",
    "REQUIRETLS",
    "NOTIFY",
    "ORCPT",
];

/// Whether `keyword` is interpreted by this crate (as a MAIL or RCPT parameter).
pub(crate) fn is_known(keyword: &[u8]) -> bool {
    KNOWN
        .iter()
        .any(|k| k.as_bytes().eq_ignore_ascii_case(keyword))
}

/// `esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")`
#[inline]
pub(crate) fn esmtp_keyword(i: &[u8]) -> PResult<'_, &str> {
    if !i.first().is_some_and(u8::is_ascii_alphanumeric) {
        return fail(i, "esmtp-keyword");
    }
    let len = i
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
        .count();
    Ok((
        &i[len..],
        std::str::from_utf8(&i[..len]).unwrap_or_default(),
    ))
}

/// ```text
/// esmtp-value = 1*(%d33-60 / %d62-126)
/// esmtp-value =/ UTF8-non-ascii          ; RFC 6531 section 3.3
/// ```
#[inline]
pub(crate) fn esmtp_value(i: &[u8], utf8_ok: bool) -> PResult<'_, &str> {
    let len = i
        .iter()
        .take_while(|&&b| super::is(b, super::VALUE) || b >= 0x80)
        .count();
    if len == 0 {
        return fail(i, "esmtp-value");
    }
    let s = utf8(&i[..len], utf8_ok, "esmtp-value")?;
    Ok((&i[len..], s))
}

/// ```text
/// xtext   = *( xchar / hexchar )     ; here 1*, as an esmtp-value cannot be empty
/// xchar   = any ASCII CHAR between "!" (33) and "~" (126) inclusive, except for "+" and "="
/// hexchar = ASCII "+" immediately followed by two upper case hexadecimal digits
/// ```
#[inline]
pub(crate) fn xtext(i: &[u8]) -> PResult<'_, Xtext<'_>> {
    let mut pos = 0;
    while pos < i.len() {
        match i[pos] {
            b'+' => {
                let hex = |b: Option<&u8>| {
                    b.is_some_and(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b))
                };
                if !hex(i.get(pos + 1)) || !hex(i.get(pos + 2)) {
                    return fail(&i[pos..], "hexchar");
                }
                pos += 3;
            }
            b if super::is(b, super::XCHAR) => pos += 1,
            _ => break,
        }
    }
    if pos == 0 {
        // Empty xtext cannot be an `esmtp-value` (`1*`), so we require at least one character.
        return fail(i, "xtext");
    }
    Ok((
        &i[pos..],
        Xtext::from_parsed(std::str::from_utf8(&i[..pos]).unwrap_or_default()),
    ))
}

/// `atom = 1*atext` (ASCII), the `addr-type` of ORCPT; `=` cannot appear in an
/// `esmtp-value`, so it is excluded here.
pub(crate) fn atom(i: &[u8]) -> PResult<'_, &str> {
    let len = i
        .iter()
        .take_while(|&&b| b != b'=' && super::is(b, super::ATEXT))
        .count();
    if len == 0 {
        return fail(i, "atom");
    }
    Ok((
        &i[len..],
        std::str::from_utf8(&i[..len]).unwrap_or_default(),
    ))
}

/// `esmtp-param = esmtp-keyword ["=" esmtp-value]`
#[inline]
pub(crate) fn esmtp_param(i: &[u8], utf8_ok: bool) -> PResult<'_, (&str, Option<&[u8]>)> {
    let (rest, k) = esmtp_keyword(i)?;
    match rest.split_first() {
        Some((b'=', r)) => {
            let (r2, v) = esmtp_value(r, utf8_ok)?;
            Ok((r2, (k, Some(&r[..v.len()]))))
        }
        _ => Ok((rest, (k, None))),
    }
}

/// Runs `p` over the whole value, as a fatal error in `rule` if it does not match.
#[inline]
fn whole<'a, O>(
    v: &'a [u8],
    rule: &'static str,
    p: impl FnOnce(&'a [u8]) -> PResult<'a, O>,
) -> Result<O, nom::Err<super::PErr<'a>>> {
    match p(v) {
        Ok(([], o)) => Ok(o),
        Ok((r, _)) => Err(nom::Err::Failure(super::PErr {
            input: r,
            rule,
            kind: Kind::Syntax,
        })),
        Err(e) => Err(nom::Err::Failure(super::into_perr(e, v))),
    }
}

fn no_value<'a>(v: Option<&'a [u8]>, rule: &'static str) -> Result<(), nom::Err<super::PErr<'a>>> {
    match v {
        None => Ok(()),
        Some(v) => Err(nom::Err::Failure(super::PErr {
            input: v,
            rule,
            kind: Kind::Syntax,
        })),
    }
}

fn value<'a>(
    v: Option<&'a [u8]>,
    at: &'a [u8],
    rule: &'static str,
) -> Result<&'a [u8], nom::Err<super::PErr<'a>>> {
    v.ok_or(nom::Err::Failure(super::PErr {
        input: at,
        rule,
        kind: Kind::Syntax,
    }))
}

fn dup<'a>(
    set: bool,
    at: &'a [u8],
    keyword: &'static str,
) -> Result<(), nom::Err<super::PErr<'a>>> {
    if set {
        return Err(nom::Err::Failure(super::PErr {
            input: at,
            rule: keyword,
            kind: Kind::Duplicate(keyword),
        }));
    }
    Ok(())
}

/// Iterates `esmtp-param *(SP esmtp-param)`, calling `f` for each.
#[inline]
fn params<'a>(
    i: &'a [u8],
    utf8_ok: bool,
    mut f: impl FnMut(&'a [u8], &'a str, Option<&'a [u8]>) -> Result<(), nom::Err<super::PErr<'a>>>,
) -> PResult<'a, ()> {
    let mut rest = i;
    loop {
        let at = rest;
        let (r, (k, v)) = esmtp_param(rest, utf8_ok)?;
        f(at, k, v)?;
        match r.split_first() {
            Some((b' ', r2)) => rest = r2,
            None => return Ok((r, ())),
            Some(_) => return fail(r, "esmtp-param"),
        }
    }
}

/// The value among `choices` whose keyword equals `v`, ignoring ASCII case; a syntax failure of
/// `rule` otherwise.
fn one_of<'a, T: Copy>(
    v: &'a [u8],
    rule: &'static str,
    choices: &[(&[u8], T)],
) -> Result<T, nom::Err<super::PErr<'a>>> {
    choices
        .iter()
        .find(|(keyword, _)| v.eq_ignore_ascii_case(keyword))
        .map(|&(_, value)| value)
        .ok_or(nom::Err::Failure(super::PErr {
            input: v,
            rule,
            kind: Kind::Syntax,
        }))
}

/// ```text
/// Mail-parameters = esmtp-param *(SP esmtp-param)
/// size-param   = "SIZE=" size-value ; size-value = 1*20DIGIT          (RFC 1870)
/// body-param   = "BODY=" ("7BIT" / "8BITMIME" / "BINARYMIME")      (RFC 6152, RFC 3030)
/// "SMTPUTF8"                                                        (RFC 6531)
/// ret-param    = "RET=" ("FULL" / "HDRS") ; envid-param = "ENVID=" xtext (RFC 3461)
/// auth-param   = "AUTH=" xtext                                       (RFC 4954)
/// "REQUIRETLS"                                                      (RFC 8689)
/// ```
///
/// Keywords and the keyword-like values are case-insensitive. SIZE overflowing 64 bits is an
/// error, as is a known parameter given twice.
pub(crate) fn mail_parameters(i: &[u8], utf8_ok: bool) -> PResult<'_, MailParams<'_>> {
    let mut p = MailParams::default();
    let (rest, ()) = params(i, utf8_ok, |at, k, v| {
        let kb = k.as_bytes();
        let is = |name: &str| kb.eq_ignore_ascii_case(name.as_bytes());
        if is("SIZE") {
            dup(p.size.is_some(), at, "SIZE")?;
            let v = value(v, at, "size-value")?;
            p.size = Some(whole(v, "size-value", |v| number(v, "size-value"))?);
        } else if is("BODY") {
            dup(p.body.is_some(), at, "BODY")?;
            let v = value(v, at, "body-value")?;
            p.body = Some(one_of(
                v,
                "body-value",
                &[
                    (b"7BIT", Body::SevenBit),
                    (b"8BITMIME", Body::EightBitMime),
                    (b"BINARYMIME", Body::BinaryMime),
                ],
            )?);
        } else if is("SMTPUTF8") {
            dup(p.smtputf8, at, "SMTPUTF8")?;
            no_value(v, "SMTPUTF8")?;
            p.smtputf8 = true;
        } else if is("REQUIRETLS") {
            dup(p.requiretls, at, "REQUIRETLS")?;
            no_value(v, "REQUIRETLS")?;
            p.requiretls = true;
        } else if is("RET") {
            dup(p.ret.is_some(), at, "RET")?;
            let v = value(v, at, "ret-value")?;
            p.ret = Some(one_of(
                v,
                "ret-value",
                &[(b"FULL", Ret::Full), (b"HDRS", Ret::Hdrs)],
            )?);
        } else if is("ENVID") {
            dup(p.envid.is_some(), at, "ENVID")?;
            p.envid = Some(whole(value(v, at, "envid-value")?, "envid-value", xtext)?);
        } else if is("AUTH") {
            dup(p.auth.is_some(), at, "AUTH")?;
            p.auth = Some(whole(value(v, at, "auth-param")?, "auth-param", xtext)?);
        } else {
            // ASCII checked by esmtp_value unless UTF-8 was allowed, in which case it is valid.
            p.unknown.push(Param::from_parsed(
                k,
                v.map(|v| std::str::from_utf8(v).unwrap_or_default()),
            ));
        }
        Ok(())
    })?;
    Ok((rest, p))
}

/// ```text
/// Rcpt-parameters = esmtp-param *(SP esmtp-param)
/// notify-esmtp-value = "NEVER" / 1#notify-list-element              (RFC 3461)
/// notify-list-element = "SUCCESS" / "FAILURE" / "DELAY"
/// orcpt-parameter = "ORCPT=" original-recipient-address
/// original-recipient-address = addr-type ";" xtext
/// ```
pub(crate) fn rcpt_parameters(i: &[u8], utf8_ok: bool) -> PResult<'_, RcptParams<'_>> {
    let mut p = RcptParams::default();
    let (rest, ()) = params(i, utf8_ok, |at, k, v| {
        let kb = k.as_bytes();
        if kb.eq_ignore_ascii_case(b"NOTIFY") {
            dup(p.notify.is_some(), at, "NOTIFY")?;
            let v = value(v, at, "notify-esmtp-value")?;
            p.notify = Some(whole(v, "notify-esmtp-value", notify_esmtp_value)?);
        } else if kb.eq_ignore_ascii_case(b"ORCPT") {
            dup(p.orcpt.is_some(), at, "ORCPT")?;
            let v = value(v, at, "original-recipient-address")?;
            p.orcpt = Some(whole(
                v,
                "original-recipient-address",
                original_recipient_address,
            )?);
        } else {
            p.unknown.push(Param::from_parsed(
                k,
                v.map(|v| std::str::from_utf8(v).unwrap_or_default()),
            ));
        }
        Ok(())
    })?;
    Ok((rest, p))
}

/// `notify-esmtp-value = "NEVER" / 1#notify-list-element`
pub(crate) fn notify_esmtp_value(i: &[u8]) -> PResult<'_, Notify> {
    if i.len() >= 5 && i[..5].eq_ignore_ascii_case(b"NEVER") {
        return Ok((&i[5..], Notify::never()));
    }
    let mut bits = 0u8;
    let mut rest = i;
    loop {
        let len = rest.iter().take_while(|b| b.is_ascii_alphabetic()).count();
        let word = &rest[..len];
        let bit = if word.eq_ignore_ascii_case(b"SUCCESS") {
            1
        } else if word.eq_ignore_ascii_case(b"FAILURE") {
            2
        } else if word.eq_ignore_ascii_case(b"DELAY") {
            4
        } else {
            return fail(rest, "notify-list-element");
        };
        if bits & bit != 0 {
            return fail(rest, "notify-list-element");
        }
        bits |= bit;
        rest = &rest[len..];
        match rest.split_first() {
            Some((b',', r)) => rest = r,
            _ => return Ok((rest, Notify::from_bits(bits))),
        }
    }
}

/// `original-recipient-address = addr-type ";" xtext`
pub(crate) fn original_recipient_address(i: &[u8]) -> PResult<'_, Orcpt<'_>> {
    let len = i
        .iter()
        .take_while(|&&b| b != b';' && super::is(b, super::ATEXT))
        .count();
    if len == 0 {
        return fail(i, "addr-type");
    }
    let addr_type = std::str::from_utf8(&i[..len]).unwrap_or_default();
    let Some((b';', rest)) = i[len..].split_first() else {
        return fatal(&i[len..], "original-recipient-address", Kind::Syntax);
    };
    let (rest, x) = xtext(rest)?;
    Ok((rest, Orcpt::from_parsed(addr_type, x)))
}
