//! EHLO replies (RFC 5321 section 4.1.1.1) into [`Capabilities`].

use crate::ReplyError;
use crate::reply::{AuthMechanisms, Capabilities, Reply};

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
///
/// With `lenient`, a line that breaks these rules is skipped (for a client, which must not
/// find a server unreachable over one odd line); otherwise it is an error.
pub(crate) fn capabilities(reply: &Reply<'_>, lenient: bool) -> Result<Capabilities, ReplyError> {
    let mut lines = reply.lines();
    let mut caps = Capabilities {
        greeting: lines.next().unwrap_or_default().to_vec(),
        ..Capabilities::default()
    };
    if reply.code().get() != 250 {
        return Err(ReplyError::Value {
            rule: "ehlo-ok-rsp",
            line: 0,
            offset: 0,
        });
    }
    for (n, line) in lines.enumerate() {
        match ehlo_line(&mut caps, line) {
            Ok(()) => {}
            Err(_) if lenient => {}
            // Offsets count from the start of the text (after "250-").
            Err((rule, offset)) => {
                return Err(ReplyError::Value {
                    rule,
                    line: n + 1,
                    offset,
                });
            }
        }
    }
    Ok(caps)
}

/// The longest keyword interpreted here (`ENHANCEDSTATUSCODES`).
const LONGEST_KEYWORD: usize = 19;

/// Applies one `ehlo-line` to `caps`, or returns the rule it breaks and where, leaving `caps`
/// as it was.
fn ehlo_line(caps: &mut Capabilities, line: &[u8]) -> Result<(), (&'static str, usize)> {
    let outside = |b: u8| u8::from(b != b' ') & u8::from(!(33..=126).contains(&b));
    // Branch-free over the line (the compiler vectorises it); the position only on failure.
    let mut any = 0u8;
    for b in line {
        any |= outside(*b);
    }
    if any != 0 {
        let bad = line
            .iter()
            .position(|b| outside(*b) != 0)
            .unwrap_or_default();
        return Err(("ehlo-param", bad));
    }
    let mut words = line.split(|b| *b == b' ').filter(|w| !w.is_empty());
    let Some(keyword) = words.next() else {
        return Err(("ehlo-keyword", 0));
    };
    // Keywords are case-insensitive: match an upper-case copy on the stack. A longer keyword
    // is none of those interpreted here.
    let mut upper = [0u8; LONGEST_KEYWORD];
    let key: &[u8] = match upper.get_mut(..keyword.len()) {
        Some(key) => {
            key.copy_from_slice(keyword);
            key.make_ascii_uppercase();
            key
        }
        None => &[],
    };
    // Checked printable ASCII above, so every word is UTF-8.
    let s = |w: &[u8]| String::from_utf8_lossy(w).into_owned();
    match key {
        b"PIPELINING" => caps.pipelining = true,
        b"SIZE" => {
            let limit = match words.next() {
                Some(w) => match std::str::from_utf8(w)
                    .ok()
                    .and_then(|w| w.parse::<u64>().ok())
                {
                    Some(0) => None,
                    Some(v) => Some(v),
                    None => return Err(("size-param", 5)),
                },
                None => None,
            };
            caps.size = Some(limit);
        }
        b"8BITMIME" => caps.eight_bit_mime = true,
        b"SMTPUTF8" => caps.smtputf8 = true,
        b"STARTTLS" => caps.starttls = true,
        b"AUTH" => {
            let list = caps.auth.get_or_insert_with(AuthMechanisms::new);
            // Room for every name at once: one allocation for the line.
            list.reserve(line.len());
            for w in words {
                // A word is printable ASCII without SP (checked above): always accepted.
                let _ = list.push(std::str::from_utf8(w).unwrap_or_default());
            }
        }
        b"ENHANCEDSTATUSCODES" => caps.enhanced_status_codes = true,
        b"CHUNKING" => caps.chunking = true,
        b"BINARYMIME" => caps.binary_mime = true,
        b"DSN" => caps.dsn = true,
        b"ETRN" => caps.etrn = true,
        b"VRFY" => caps.vrfy = true,
        b"REQUIRETLS" => caps.requiretls = true,
        b"LIMITS" => {
            // All pairs are checked before any is kept.
            let mut pairs = Vec::new();
            for w in words {
                let Some(eq) = w.iter().position(|b| *b == b'=') else {
                    return Err(("limit-name-value", 0));
                };
                pairs.push((s(&w[..eq]).to_ascii_uppercase(), s(&w[eq + 1..])));
            }
            caps.limits.get_or_insert_with(Vec::new).extend(pairs);
        }
        _ => caps.unknown.push((s(keyword), words.map(s).collect())),
    }
    Ok(())
}
