//! The `base64` rule of RFC 3501 / RFC 9051 section 9 (RFC 4648 alphabet, padded), as a
//! continuation request of AUTHENTICATE carries it.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The value of a `base64-char`, or `None`.
fn value(b: u8) -> Option<u32> {
    match b {
        b'A'..=b'Z' => Some(u32::from(b - b'A')),
        b'a'..=b'z' => Some(u32::from(b - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(b - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Whether `s` matches `base64 = *(4base64-char) [base64-terminal]` exactly.
pub(crate) fn is_base64(s: &[u8]) -> bool {
    if s.len() % 4 != 0 {
        return false;
    }
    let pad = s.iter().rev().take_while(|&&b| b == b'=').count();
    if pad > 2 {
        return false;
    }
    let body = s.get(..s.len() - pad).unwrap_or(&[]);
    body.iter().all(|&b| value(b).is_some())
}

/// Decode `s`, which [`is_base64`] accepted (bits left over in the last group are dropped).
pub(crate) fn decode(s: &[u8]) -> Option<Vec<u8>> {
    if !is_base64(s) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for group in s.chunks(4) {
        let mut acc: u32 = 0;
        let mut n = 0;
        for &b in group {
            if b == b'=' {
                break;
            }
            acc = (acc << 6) | value(b)?;
            n += 1;
        }
        match n {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
            2 => out.push((acc >> 4) as u8),
            _ => return None,
        }
    }
    Some(out)
}

/// Append the padded base64 form of `data` to `out`.
pub(crate) fn encode(data: &[u8], out: &mut Vec<u8>) {
    for group in data.chunks(3) {
        let b0 = u32::from(group[0]);
        let b1 = group.get(1).copied().map_or(0, u32::from);
        let b2 = group.get(2).copied().map_or(0, u32::from);
        let acc = (b0 << 16) | (b1 << 8) | b2;
        let c = |shift: u32| ALPHABET[((acc >> shift) & 63) as usize];
        out.push(c(18));
        out.push(c(12));
        out.push(if group.len() > 1 { c(6) } else { b'=' });
        out.push(if group.len() > 2 { c(0) } else { b'=' });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        for (plain, coded) in [
            (&b""[..], &b""[..]),
            (b"f", b"Zg=="),
            (b"fo", b"Zm8="),
            (b"foo", b"Zm9v"),
            (b"foobar", b"Zm9vYmFy"),
            (b"\x00\xff\xfe", b"AP/+"),
        ] {
            let mut out = Vec::new();
            encode(plain, &mut out);
            assert_eq!(out, coded);
            assert_eq!(decode(coded).unwrap(), plain);
        }
    }

    #[test]
    fn refusals() {
        for bad in [
            &b"Zg="[..],
            b"Zg===",
            b"Z===",
            b"Zm9v!A==",
            b"=AAA",
            b"A=AA",
            b"Ready",
        ] {
            assert!(decode(bad).is_none(), "{:?}", bad);
        }
    }
}
