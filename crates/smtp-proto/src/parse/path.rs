//! Paths, mailboxes, domains and address literals (RFC 5321 sections 4.1.2 and 4.1.3,
//! RFC 6531 section 3.3).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Kind, PResult, fail, fatal, rule, utf8};
use crate::types::{
    AddressLiteral, Domain, ForwardPath, GeneralLiteral, Host, LocalPart, Mailbox, ReversePath,
};

/// RFC 5321 section 4.5.3.1.1: "The maximum total length of a user name or other local-part
/// is 64 octets."
pub(crate) const LOCAL_PART_MAX: usize = 64;
/// RFC 5321 section 4.5.3.1.2: "The maximum total length of a domain name or number is 255
/// octets."
pub(crate) const DOMAIN_MAX: usize = 255;
/// RFC 5321 section 4.5.3.1.3: "The maximum total length of a reverse-path or forward-path is
/// 256 octets (including the punctuation and element separators)."
pub(crate) const PATH_MAX: usize = 256;

#[inline(always)]
fn is_atext(b: u8) -> bool {
    super::is(b, super::ATEXT)
}

/// ```text
/// Domain     = sub-domain *("." sub-domain)
/// sub-domain = Let-dig [Ldh-str]
/// Let-dig    = ALPHA / DIGIT
/// Ldh-str    = *( ALPHA / DIGIT / "-" ) Let-dig
/// sub-domain =/ U-label                        ; RFC 6531 section 3.3
/// ```
///
/// At most 255 octets (RFC 5321 section 4.5.3.1.2) and 63 per label. A domain with non-ASCII
/// labels (allowed only when `utf8_ok`) must pass IDNA (UTS #46 processing with the STD3
/// rules and DNS lengths, the `idna` crate's `domain_to_ascii_strict`), and never holds a
/// [`forbidden`](super::forbidden) character: RFC 6531 section 3.3 wants U-labels, not any
/// octets of 0x80 or more.
#[inline]
pub(crate) fn domain(i: &[u8], utf8_ok: bool) -> PResult<'_, Domain<'_>> {
    let mut pos = 0;
    loop {
        let start = pos;
        while pos < i.len() && (i[pos].is_ascii_alphanumeric() || i[pos] == b'-' || i[pos] >= 0x80)
        {
            pos += 1;
        }
        let label = &i[start..pos];
        if label.is_empty()
            || label[0] == b'-'
            || label[label.len() - 1] == b'-'
            || label.len() > 63
        {
            return fail(&i[start..], "sub-domain");
        }
        if pos < i.len()
            && i[pos] == b'.'
            && pos + 1 < i.len()
            && (i[pos + 1].is_ascii_alphanumeric() || i[pos + 1] >= 0x80)
        {
            pos += 1;
            continue;
        }
        break;
    }
    if pos > DOMAIN_MAX {
        return fatal(&i[DOMAIN_MAX..], "Domain", Kind::Syntax);
    }
    let s = utf8(&i[..pos], utf8_ok, "Domain")?;
    if (!s.is_ascii() || has_a_label(s)) && !labels_pass_idna(s) {
        // Its U-labels are not IDNA: unassigned or disallowed code points, labels that are
        // not in NFC or that IDNA processing would rewrite (map, ignore, split), bidi or
        // joiner rules broken, an A-label form over 63 octets, or an A-label that does not
        // decode to such a U-label.
        return fatal(i, "U-label", Kind::Syntax);
    }
    Ok((&i[pos..], Domain::from_parsed(s)))
}

/// Whether a label of the ASCII domain `s` starts with the ACE prefix `xn--`, which makes it
/// an A-label to be checked (RFC 5890 section 2.3.2.1).
#[inline]
fn has_a_label(s: &str) -> bool {
    s.split('.').any(is_a_label)
}

fn is_a_label(label: &str) -> bool {
    label.len() >= 4 && label.as_bytes()[..4].eq_ignore_ascii_case(b"xn--")
}

/// Whether the domain `s`, non-ASCII or with A-labels, passes IDNA (UTS #46 with the STD3
/// rules and DNS lengths) label for label: each non-ASCII label must be a U-label as sent,
/// that is what IDNA processing makes of it up to case (not mapped from fullwidth forms, no
/// ignored code points such as U+00AD or U+200B, in NFC), and IDNA must see the same labels as
/// the grammar (U+3002, U+FF0E and U+FF61 are label separators to UTS #46, but not to RFC
/// 6531). Each A-label must decode to a U-label that has no [`forbidden`](super::forbidden)
/// character and encodes back to it (RFC 5891 section 5.4). Out of line and cold: ASCII
/// domains without A-labels never get here, and the code stays out of their path.
#[cold]
#[inline(never)]
fn labels_pass_idna(s: &str) -> bool {
    let a_labels_pass = s.split('.').filter(|l| is_a_label(l)).all(a_label_passes);
    if s.is_ascii() || !a_labels_pass {
        return a_labels_pass;
    }
    let Ok(ascii) = idna::domain_to_ascii_strict(s) else {
        return false;
    };
    if ascii.split('.').count() != s.split('.').count() {
        return false;
    }
    s.split('.').zip(ascii.split('.')).all(|(sent, ace)| {
        if sent.is_ascii() {
            return true;
        }
        let (unicode, result) = idna::domain_to_unicode(ace);
        result.is_ok() && unicode == sent.to_lowercase()
    })
}

/// Whether the A-label `label` decodes to a U-label without a forbidden character that
/// encodes back to `label` (up to ASCII case).
fn a_label_passes(label: &str) -> bool {
    let (unicode, result) = idna::domain_to_unicode(label);
    result.is_ok()
        && !unicode.is_ascii()
        && !unicode.contains('.')
        && !unicode.chars().any(super::forbidden)
        && idna::domain_to_ascii_strict(&unicode).is_ok_and(|ace| ace.eq_ignore_ascii_case(label))
}

/// ```text
/// Snum = 1*3DIGIT   ; representing a decimal integer value in the range 0 through 255
/// IPv4-address-literal = Snum 3("."  Snum)
/// ```
pub(crate) fn ipv4_address_literal(i: &[u8]) -> PResult<'_, Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut rest = i;
    for (n, o) in octets.iter_mut().enumerate() {
        if n > 0 {
            match rest.split_first() {
                Some((b'.', r)) => rest = r,
                _ => return fail(rest, "IPv4-address-literal"),
            }
        }
        let len = rest
            .iter()
            .take(3)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if len == 0 {
            return fail(rest, "Snum");
        }
        let v = rest[..len]
            .iter()
            .fold(0u16, |a, &b| a * 10 + u16::from(b - b'0'));
        *o = match u8::try_from(v) {
            Ok(v) => v,
            Err(_) => return fail(rest, "Snum"),
        };
        rest = &rest[len..];
    }
    Ok((rest, Ipv4Addr::from(octets)))
}

/// ```text
/// address-literal  = "[" ( IPv4-address-literal /
///                    IPv6-address-literal /
///                    General-address-literal ) "]"
/// IPv6-address-literal  = "IPv6:" IPv6-addr
/// General-address-literal  = Standardized-tag ":" 1*dcontent
/// Standardized-tag  = Ldh-str
/// dcontent       = %d33-90 / %d94-126
/// ```
///
/// The IPv6 address is validated (all the `IPv6-addr` forms, including the embedded IPv4 ones).
pub(crate) fn address_literal(i: &[u8]) -> PResult<'_, AddressLiteral<'_>> {
    let Some((b'[', body)) = i.split_first() else {
        return fail(i, "address-literal");
    };
    let Some(close) = memchr::memchr(b']', body) else {
        return fail(body, "address-literal");
    };
    let inner = &body[..close];
    let rest = &body[close + 1..];
    if inner.first().is_some_and(u8::is_ascii_digit) {
        return match ipv4_address_literal(inner) {
            Ok(([], a)) => Ok((rest, AddressLiteral::Ipv4(a))),
            Ok((r, _)) => fatal(r, "IPv4-address-literal", Kind::Syntax),
            Err(e) => Err(nom::Err::Failure(super::into_perr(e, inner))),
        };
    }
    let tag_len = inner
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
        .count();
    let tag = &inner[..tag_len];
    if tag.is_empty() || tag[tag_len - 1] == b'-' || inner.get(tag_len) != Some(&b':') {
        return fatal(&inner[tag_len..], "Standardized-tag", Kind::Syntax);
    }
    let content = &inner[tag_len + 1..];
    if tag.eq_ignore_ascii_case(b"IPv6") {
        let parsed = std::str::from_utf8(content)
            .ok()
            .and_then(|s| s.parse::<Ipv6Addr>().ok());
        return match parsed {
            Some(a) => Ok((rest, AddressLiteral::Ipv6(a))),
            None => fatal(content, "IPv6-addr", Kind::Syntax),
        };
    }
    if let Some(bad) = content
        .iter()
        .position(|&b| !(33..=90).contains(&b) && !(94..=126).contains(&b))
    {
        return fatal(&content[bad..], "dcontent", Kind::Syntax);
    }
    if content.is_empty() {
        return fatal(content, "General-address-literal", Kind::Syntax);
    }
    // ASCII checked above.
    let tag = std::str::from_utf8(tag).unwrap_or_default();
    let content = std::str::from_utf8(content).unwrap_or_default();
    Ok((
        rest,
        AddressLiteral::General(GeneralLiteral::from_parsed(tag, content)),
    ))
}

/// ```text
/// Local-part     = Dot-string / Quoted-string
/// Dot-string     = Atom *("."  Atom)
/// Atom           = 1*atext
/// Quoted-string  = DQUOTE *QcontentSMTP DQUOTE
/// QcontentSMTP   = qtextSMTP / quoted-pairSMTP
/// quoted-pairSMTP  = %d92 %d32-126
/// qtextSMTP      = %d32-33 / %d35-91 / %d93-126
/// atext =/ UTF8-non-ascii ; qtextSMTP =/ UTF8-non-ascii   ; RFC 6531 section 3.3
/// ```
///
/// At most 64 octets as sent, quotes included (RFC 5321 section 4.5.3.1.1): a longer one is
/// a fatal error at its 65th octet.
#[inline]
pub(crate) fn local_part(i: &[u8], utf8_ok: bool) -> PResult<'_, LocalPart<'_>> {
    let mut pos;
    if i.first() == Some(&b'"') {
        pos = 1;
        loop {
            match i.get(pos) {
                Some(b'"') => {
                    pos += 1;
                    break;
                }
                Some(b'\\') => match i.get(pos + 1) {
                    Some(32..=126) => pos += 2,
                    _ => return fail(&i[pos..], "quoted-pairSMTP"),
                },
                Some(&b) if (32..=126).contains(&b) || b >= 0x80 => pos += 1,
                _ => return fail(&i[pos..], "Quoted-string"),
            }
        }
    } else {
        pos = 0;
        loop {
            let start = pos;
            while pos < i.len() && (is_atext(i[pos]) || i[pos] >= 0x80) {
                pos += 1;
            }
            if pos == start {
                return fail(&i[pos..], "Atom");
            }
            if i.get(pos) == Some(&b'.') {
                pos += 1;
            } else {
                break;
            }
        }
    }
    if pos > LOCAL_PART_MAX {
        return fatal(&i[LOCAL_PART_MAX..], "Local-part", Kind::LocalPartTooLong);
    }
    let s = utf8(&i[..pos], utf8_ok, "Local-part")?;
    Ok((&i[pos..], LocalPart::from_parsed(s)))
}

/// `Mailbox = Local-part "@" ( Domain / address-literal )`
#[inline]
pub(crate) fn mailbox(i: &[u8], utf8_ok: bool) -> PResult<'_, Mailbox<'_>> {
    let (rest, local) = local_part(i, utf8_ok)?;
    let Some((b'@', rest)) = rest.split_first() else {
        return fail(rest, "Mailbox");
    };
    let (rest, host) = host(rest, utf8_ok)?;
    Ok((rest, Mailbox { local, host }))
}

/// `( Domain / address-literal )`
#[inline]
pub(crate) fn host(i: &[u8], utf8_ok: bool) -> PResult<'_, Host<'_>> {
    if i.first() == Some(&b'[') {
        let (rest, l) = address_literal(i)?;
        Ok((rest, Host::Literal(l)))
    } else {
        let (rest, d) = domain(i, utf8_ok)?;
        Ok((rest, Host::Domain(d)))
    }
}

/// ```text
/// A-d-l     = At-domain *( "," At-domain )   ; source route, accepted and ignored
/// At-domain = "@" Domain
/// ```
fn a_d_l(i: &[u8]) -> PResult<'_, ()> {
    let mut rest = i;
    loop {
        let Some((b'@', r)) = rest.split_first() else {
            return fail(rest, "At-domain");
        };
        let (r, _) = domain(r, true)?;
        match r.split_first() {
            Some((b',', r)) => rest = r,
            _ => return Ok((r, ())),
        }
    }
}

/// `Path = "<" [ A-d-l ":" ] Mailbox ">"`
///
/// At most 256 octets from `<` to `>` inclusive (RFC 5321 section 4.5.3.1.3): a longer path
/// is a fatal error at its 257th octet.
#[inline]
pub(crate) fn path(i: &[u8], utf8_ok: bool) -> PResult<'_, Mailbox<'_>> {
    let (rest, m) = rule("Path", path_inner(i, utf8_ok))?;
    if i.len() - rest.len() > PATH_MAX {
        return fatal(&i[PATH_MAX..], "Path", Kind::PathTooLong);
    }
    Ok((rest, m))
}

#[inline]
fn path_inner(i: &[u8], utf8_ok: bool) -> PResult<'_, Mailbox<'_>> {
    let Some((b'<', mut rest)) = i.split_first() else {
        return fail(i, "Path");
    };
    if rest.first() == Some(&b'@') {
        let (r, ()) = a_d_l(rest)?;
        let Some((b':', r)) = r.split_first() else {
            return fail(r, "A-d-l");
        };
        rest = r;
    }
    let (rest, m) = mailbox(rest, utf8_ok)?;
    let Some((b'>', rest)) = rest.split_first() else {
        return fail(rest, "Path");
    };
    Ok((rest, m))
}

/// `Reverse-path = Path / "<>"`
#[inline]
pub(crate) fn reverse_path(i: &[u8], utf8_ok: bool) -> PResult<'_, ReversePath<'_>> {
    if let Some(rest) = i.strip_prefix(b"<>") {
        return Ok((rest, ReversePath::Null));
    }
    let (rest, m) = path(i, utf8_ok)?;
    Ok((rest, ReversePath::Mailbox(m)))
}

/// ```text
/// "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path )
/// Forward-path = Path
/// ```
#[inline]
pub(crate) fn forward_path(i: &[u8], utf8_ok: bool) -> PResult<'_, ForwardPath<'_>> {
    if i.len() >= 12 && i[..12].eq_ignore_ascii_case(b"<postmaster>") {
        return Ok((&i[12..], ForwardPath::Postmaster));
    }
    let (rest, m) = path(i, utf8_ok)?;
    Ok((rest, ForwardPath::Mailbox(m)))
}
