//! EHLO replies (RFC 5321 section 4.1.1.1) into [`Capabilities`].

use crate::ReplyError;
use crate::reply::{Capabilities, Reply};

/// ```text
/// ehlo-ok-rsp  = ( "250" SP Domain [ SP ehlo-greet ] CRLF )
///                / ( "250-" Domain [ SP ehlo-greet ] CRLF
///                *( "250-" ehlo-line CRLF )
///                "250" SP ehlo-line CRLF )
/// ehlo-line    = ehlo-keyword *( SP ehlo-param )
/// ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
/// ehlo-param   = 1*(%d33-126)
/// ```
///
/// Keywords outside the `ehlo-keyword` grammar but printable (the old `AUTH=LOGIN` form) are
/// kept as unknown keywords; bytes outside `%d33-126` other than SP are an error.
pub(crate) fn ehlo_ok_rsp(reply: &Reply<'_>) -> Result<Capabilities, ReplyError> {
    let lines = reply.lines();
    let mut caps = Capabilities {
        greeting: lines[0].to_vec(),
        ..Capabilities::default()
    };
    if reply.code().get() != 250 {
        return Err(ReplyError::Value {
            rule: "ehlo-ok-rsp",
            line: 0,
            offset: 0,
        });
    }
    for (n, line) in lines.iter().enumerate().skip(1) {
        // Offsets count from the start of the text (after "250-").
        if let Some(bad) = line
            .iter()
            .position(|b| *b != b' ' && !(33..=126).contains(b))
        {
            return Err(ReplyError::Value {
                rule: "ehlo-param",
                line: n,
                offset: bad,
            });
        }
        let mut words = line.split(|b| *b == b' ').filter(|w| !w.is_empty());
        let Some(keyword) = words.next() else {
            return Err(ReplyError::Value {
                rule: "ehlo-keyword",
                line: n,
                offset: 0,
            });
        };
        // Checked printable ASCII above.
        let s = |w: &[u8]| String::from_utf8_lossy(w).into_owned();
        let is = |k: &str| keyword.eq_ignore_ascii_case(k.as_bytes());
        let flag = |f: &mut bool| *f = true;
        if is("PIPELINING") {
            flag(&mut caps.pipelining);
        } else if is("SIZE") {
            let limit = match words.next() {
                Some(w) => match std::str::from_utf8(w)
                    .ok()
                    .and_then(|w| w.parse::<u64>().ok())
                {
                    Some(0) => None,
                    Some(v) => Some(v),
                    None => {
                        return Err(ReplyError::Value {
                            rule: "size-param",
                            line: n,
                            offset: 5,
                        });
                    }
                },
                None => None,
            };
            caps.size = Some(limit);
        } else if is("8BITMIME") {
            flag(&mut caps.eight_bit_mime);
        } else if is("SMTPUTF8") {
            flag(&mut caps.smtputf8);
        } else if is("STARTTLS") {
            flag(&mut caps.starttls);
        } else if is("AUTH") {
            let list = caps.auth.get_or_insert_with(Vec::new);
            for w in words {
                let m = String::from_utf8_lossy(w).to_ascii_uppercase();
                if !list.contains(&m) {
                    list.push(m);
                }
            }
        } else if is("ENHANCEDSTATUSCODES") {
            flag(&mut caps.enhanced_status_codes);
        } else if is("CHUNKING") {
            flag(&mut caps.chunking);
        } else if is("BINARYMIME") {
            flag(&mut caps.binary_mime);
        } else if is("DSN") {
            flag(&mut caps.dsn);
        } else if is("ETRN") {
            flag(&mut caps.etrn);
        } else if is("VRFY") {
            flag(&mut caps.vrfy);
        } else if is("REQUIRETLS") {
            flag(&mut caps.requiretls);
        } else if is("LIMITS") {
            let list = caps.limits.get_or_insert_with(Vec::new);
            for w in words {
                let Some(eq) = w.iter().position(|b| *b == b'=') else {
                    return Err(ReplyError::Value {
                        rule: "limit-name-value",
                        line: n,
                        offset: 0,
                    });
                };
                list.push((s(&w[..eq]).to_ascii_uppercase(), s(&w[eq + 1..])));
            }
        } else {
            caps.unknown.push((s(keyword), words.map(s).collect()));
        }
    }
    Ok(caps)
}
