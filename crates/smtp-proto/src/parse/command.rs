//! Command lines (RFC 5321 section 4.1.1, RFC 3030, RFC 4954, RFC 1985, RFC 2033).

use std::borrow::Cow;

use super::{Kind, PErr, PResult, fail, into_perr, number, offset, params, path, utf8};
use crate::CommandError;
use crate::command::{Command, InitialResponse, Mechanism, ParseOptions};
use crate::types::Argument;

/// `String = Atom / Quoted-string`, loosened to any printable text with inner spaces (as VRFY,
/// EXPN, HELP, NOOP and ETRN arguments are used in practice). UTF-8 only when allowed.
pub(crate) fn argument(i: &[u8], utf8_ok: bool) -> PResult<'_, Argument<'_>> {
    let len = i
        .iter()
        .take_while(|&&b| (32..=126).contains(&b) || b >= 0x80)
        .count();
    let arg = &i[..len];
    if arg.is_empty() || arg[0] == b' ' || arg[len - 1] == b' ' {
        return fail(i, "String");
    }
    let s = utf8(arg, utf8_ok, "String")?;
    Ok((&i[len..], Argument::from_parsed(s)))
}

/// `initial-response = base64 / "="` (RFC 4954 section 4)
pub(crate) fn initial_response(i: &[u8]) -> PResult<'_, InitialResponse<'_>> {
    if let Some(rest) = i.strip_prefix(b"=") {
        if rest.first().is_none_or(|b| *b == b' ') {
            return Ok((rest, InitialResponse::from_parsed("=")));
        }
    }
    let len = i
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'+' || **b == b'/')
        .count();
    let pad = i[len..].iter().take(2).take_while(|b| **b == b'=').count();
    if len == 0 || (len + pad) % 4 != 0 {
        return fail(i, "base64");
    }
    let s = std::str::from_utf8(&i[..len + pad]).unwrap_or_default();
    Ok((&i[len + pad..], InitialResponse::from_parsed(s)))
}

/// `sasl-mech = 1*20mech-char` ; `mech-char = UPPER-ALPHA / DIGIT / HYPHEN / UNDERSCORE`
/// (RFC 4422), accepted in any case and upper-cased.
pub(crate) fn sasl_mech(i: &[u8]) -> PResult<'_, Mechanism<'_>> {
    let len = i
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_')
        .count();
    if len == 0 || len > 20 {
        return fail(i, "sasl-mech");
    }
    let s = std::str::from_utf8(&i[..len]).unwrap_or_default();
    let s = if s.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(s.to_ascii_uppercase())
    } else {
        Cow::Borrowed(s)
    };
    Ok((&i[len..], Mechanism::from_parsed(s)))
}

#[inline]
fn sp(i: &[u8]) -> PResult<'_, ()> {
    match i.split_first() {
        Some((b' ', r)) => Ok((r, ())),
        _ => fail(i, "SP"),
    }
}

#[inline]
fn eol<'a>(i: &'a [u8], rule: &'static str) -> PResult<'a, ()> {
    if i.is_empty() {
        Ok((i, ()))
    } else {
        fail(i, rule)
    }
}

/// ```text
/// helo = "HELO" SP Domain CRLF
/// ehlo = "EHLO" SP ( Domain / address-literal ) CRLF
/// mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF
/// rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" /
///        Forward-path ) [SP Rcpt-parameters] CRLF
/// data = "DATA" CRLF          rset = "RSET" CRLF        quit = "QUIT" CRLF
/// vrfy = "VRFY" SP String CRLF                          expn = "EXPN" SP String CRLF
/// help = "HELP" [ SP String ] CRLF                      noop = "NOOP" [ SP String ] CRLF
/// bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CRLF   ; RFC 3030
/// auth-command = "AUTH" SP sasl-mech [SP initial-response] ; RFC 4954
/// starttls = "STARTTLS" CRLF                               ; RFC 3207
/// etrn = "ETRN" SP ["@" / "#"] domain                      ; RFC 1985
/// ```
///
/// The line is given without its CRLF. One leniency: a single space after `FROM:`/`TO:` is
/// accepted (common in the wild; RFC 5321 section 4.1.2 has none).
///
/// The common shapes go through the hand-written [`super::fast`] path; everything else, and
/// every error, through [`reference`], the grammar, which the fast path agrees with.
#[inline]
pub(crate) fn command_line(
    line: &[u8],
    options: ParseOptions,
) -> Result<Command<'_>, CommandError> {
    super::fast::command_line::<super::fast::Reference>(line, options)
}

/// The reference parser for a command line: the grammar of [`command_line`], rule by rule.
#[inline(never)]
pub(crate) fn reference(line: &[u8], options: ParseOptions) -> Result<Command<'_>, CommandError> {
    let vlen = line.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let verb = &line[..vlen];
    let rest = &line[vlen..];
    let upper = |v: &[u8]| -> u64 {
        v.iter()
            .take(8)
            .fold(0u64, |a, b| a << 8 | u64::from(b.to_ascii_uppercase()))
    };
    const fn k(s: &[u8]) -> u64 {
        let mut a = 0u64;
        let mut n = 0;
        while n < s.len() {
            a = a << 8 | s[n] as u64;
            n += 1;
        }
        a
    }
    let r = match (vlen, upper(verb)) {
        (4, v) if v == k(b"HELO") => arg1(rest, |i| path::domain(i, true)).map(Command::Helo),
        (4, v) if v == k(b"EHLO") => arg1(rest, |i| path::host(i, true)).map(Command::Ehlo),
        (4, v) if v == k(b"LHLO") => arg1(rest, |i| path::host(i, true)).map(Command::Lhlo),
        (4, v) if v == k(b"MAIL") => mail(rest, options),
        (4, v) if v == k(b"RCPT") => rcpt(rest, options),
        (4, v) if v == k(b"DATA") => none(rest, "DATA", Command::Data),
        (4, v) if v == k(b"RSET") => none(rest, "RSET", Command::Rset),
        (4, v) if v == k(b"QUIT") => none(rest, "QUIT", Command::Quit),
        (8, v) if v == k(b"STARTTLS") => none(rest, "STARTTLS", Command::StartTls),
        (4, v) if v == k(b"VRFY") => {
            arg1(rest, |i| argument(i, options.smtputf8)).map(Command::Vrfy)
        }
        (4, v) if v == k(b"EXPN") => {
            arg1(rest, |i| argument(i, options.smtputf8)).map(Command::Expn)
        }
        (4, v) if v == k(b"ETRN") => {
            arg1(rest, |i| argument(i, options.smtputf8)).map(Command::Etrn)
        }
        (4, v) if v == k(b"HELP") => opt_arg(rest, options).map(Command::Help),
        (4, v) if v == k(b"NOOP") => opt_arg(rest, options).map(Command::Noop),
        (4, v) if v == k(b"BDAT") => bdat(rest),
        (4, v) if v == k(b"AUTH") => auth(rest),
        _ => return Err(CommandError::UnknownCommand),
    };
    r.map_err(|e| to_public(into_perr(e, line), line))
}

/// Maps the private error to the public one.
pub(crate) fn to_public(p: PErr<'_>, line: &[u8]) -> CommandError {
    let offset = offset(line, p.input);
    let rule = if p.rule.is_empty() { "command" } else { p.rule };
    match p.kind {
        Kind::Syntax => CommandError::Syntax { rule, offset },
        Kind::Overflow => CommandError::Overflow { rule, offset },
        Kind::InvalidUtf8 => CommandError::InvalidUtf8 { rule, offset },
        Kind::Utf8NotAllowed => CommandError::Utf8NotAllowed { rule, offset },
        Kind::Duplicate(keyword) => CommandError::DuplicateParameter { keyword, offset },
        Kind::UnexpectedArgument(verb) => CommandError::UnexpectedArgument { verb, offset },
        Kind::LocalPartTooLong => CommandError::LocalPartTooLong { offset },
        Kind::PathTooLong => CommandError::PathTooLong { offset },
        Kind::Forbidden(character) => CommandError::ForbiddenCharacter {
            rule,
            offset,
            character,
        },
    }
}

type CResult<'a> = Result<Command<'a>, nom::Err<PErr<'a>>>;

#[inline]
fn none<'a>(rest: &'a [u8], verb: &'static str, c: Command<'a>) -> CResult<'a> {
    if rest.is_empty() {
        Ok(c)
    } else {
        Err(nom::Err::Failure(PErr {
            input: rest,
            rule: verb,
            kind: Kind::UnexpectedArgument(verb),
        }))
    }
}

#[inline]
fn arg1<'a, O>(
    rest: &'a [u8],
    p: impl FnOnce(&'a [u8]) -> PResult<'a, O>,
) -> Result<O, nom::Err<PErr<'a>>> {
    let (r, ()) = sp(rest)?;
    let (r, o) = p(r)?;
    eol(r, "command")?;
    Ok(o)
}

#[inline]
fn opt_arg(rest: &[u8], options: ParseOptions) -> Result<Option<Argument<'_>>, nom::Err<PErr<'_>>> {
    if rest.is_empty() {
        return Ok(None);
    }
    arg1(rest, |i| argument(i, options.smtputf8)).map(Some)
}

#[inline]
fn prefix<'a>(i: &'a [u8], p: &[u8], rule: &'static str) -> PResult<'a, ()> {
    if i.len() >= p.len() && i[..p.len()].eq_ignore_ascii_case(p) {
        let r = &i[p.len()..];
        // Leniency: one space after the colon.
        let r = if r.first() == Some(&b' ') { &r[1..] } else { r };
        Ok((r, ()))
    } else {
        fail(i, rule)
    }
}

#[inline]
fn mail(rest: &[u8], options: ParseOptions) -> CResult<'_> {
    let (r, ()) = prefix(rest, b" FROM:", "mail")?;
    let (r, from) = path::reverse_path(r, true)?;
    let (r, params) = if r.is_empty() {
        (r, Default::default())
    } else {
        params::mail_parameters(sp(r)?.0, true)?
    };
    eol(r, "Mail-parameters")?;
    if !options.smtputf8 && !rest.is_ascii() && !params.smtputf8 {
        if let Some(bad) = rest.iter().position(|b| !b.is_ascii()) {
            return Err(nom::Err::Failure(PErr {
                input: &rest[bad..],
                rule: "Mailbox",
                kind: Kind::Utf8NotAllowed,
            }));
        }
    }
    Ok(Command::Mail { from, params })
}

#[inline]
fn rcpt(rest: &[u8], options: ParseOptions) -> CResult<'_> {
    let (r, ()) = prefix(rest, b" TO:", "rcpt")?;
    let (r, to) = path::forward_path(r, options.smtputf8)?;
    let (r, params) = if r.is_empty() {
        (r, Default::default())
    } else {
        params::rcpt_parameters(sp(r)?.0, options.smtputf8)?
    };
    eol(r, "Rcpt-parameters")?;
    Ok(Command::Rcpt { to, params })
}

/// `chunk-size = 1*DIGIT` ; `end-marker = "LAST"`
#[inline]
fn bdat(rest: &[u8]) -> CResult<'_> {
    let (r, ()) = sp(rest)?;
    let (r, size) = number(r, "chunk-size")?;
    if r.is_empty() {
        return Ok(Command::Bdat { size, last: false });
    }
    let (r2, ()) = sp(r)?;
    if r2.eq_ignore_ascii_case(b"LAST") {
        Ok(Command::Bdat { size, last: true })
    } else {
        Err(nom::Err::Error(PErr {
            input: r2,
            rule: "end-marker",
            kind: Kind::Syntax,
        }))
    }
}

#[inline]
fn auth(rest: &[u8]) -> CResult<'_> {
    let (r, ()) = sp(rest)?;
    let (r, mechanism) = sasl_mech(r)?;
    if r.is_empty() {
        return Ok(Command::Auth {
            mechanism,
            initial_response: None,
        });
    }
    let (r, ()) = sp(r)?;
    let (r, ir) = initial_response(r)?;
    eol(r, "initial-response")?;
    Ok(Command::Auth {
        mechanism,
        initial_response: Some(ir),
    })
}
