//! Bare CR and bare LF in a BDAT text body (RFC 3030 without `BODY=BINARYMIME`): the same
//! policy as in a DATA body ([`ServerConfig::bare_line_ending`]), applied as the chunks'
//! octets arrive, whatever the chunk and read boundaries.
//!
//! A DATA body goes through the dot decoder, which applies the policy. BDAT has no dot
//! stuffing, and its octets used to be passed on as they came, so a text body with bare line
//! endings was stored byte for byte (issue 14, item 7), unlike the same body sent with DATA.
//! Other octets, NUL included, are passed on unchanged, as DATA passes them.

use bytes::{BufMut, Bytes, BytesMut};
use mail_wire::dot::{BareLineEnding, BodyError};

#[cfg(doc)]
use super::ServerConfig;

/// The line-ending state of one BDAT text body between two pieces of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct TextBody {
    /// The last piece ended in a CR, held back until the next octet says whether it starts
    /// a CRLF.
    cr: bool,
    /// Octets of the body before the current piece, as sent: where a refused octet is.
    offset: u64,
}

/// What [`TextBody::piece`] and [`TextBody::finish`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Filtered {
    /// The octets to pass on (possibly none).
    pub(super) bytes: Bytes,
    /// Under [`BareLineEnding::Reject`], the bare CR or LF that refuses the message; `bytes`
    /// is what came before it.
    pub(super) refused: Option<BodyError>,
}

const CRLF: &[u8] = b"\r\n";

impl TextBody {
    /// Applies `policy` ([`BareLineEnding::Normalize`] or [`BareLineEnding::Reject`]) to the
    /// next `piece` of the body. A piece without a bare line ending, and without a CR at
    /// either end, is passed on as it is, without a copy.
    pub(super) fn piece(&mut self, policy: BareLineEnding, piece: Bytes) -> Filtered {
        let base = self.offset;
        self.offset += piece.len() as u64;
        let mut out: Option<BytesMut> = None;
        // `piece[start..]` is not passed on yet; the scan starts at `from`.
        let (mut start, mut from) = (0, 0);
        if self.cr {
            match piece.first() {
                None => return pass(piece),
                // The held CR and this LF are one CRLF.
                Some(b'\n') => (start, from) = (1, 1),
                Some(_) if policy == BareLineEnding::Reject => {
                    self.cr = false;
                    return refuse(Bytes::new(), BodyError::BareCr { offset: base - 1 });
                }
                // A bare CR: it becomes CRLF.
                Some(_) => {}
            }
            self.cr = false;
            out = Some(BytesMut::from(CRLF));
        }
        for at in memchr::memchr2_iter(b'\r', b'\n', &piece[from..]) {
            let at = at + from;
            let error = if piece[at] == b'\r' {
                match piece.get(at + 1) {
                    Some(b'\n') => continue,
                    Some(_) => BodyError::BareCr {
                        offset: base + at as u64,
                    },
                    None => {
                        // The last octet: held back until the next piece says what it is.
                        self.cr = true;
                        return pass(take(out, &piece, start, at));
                    }
                }
            } else if at > 0 && piece[at - 1] == b'\r' {
                continue;
            } else {
                BodyError::BareLf {
                    offset: base + at as u64,
                }
            };
            if policy == BareLineEnding::Reject {
                return refuse(take(out, &piece, start, at), error);
            }
            let buf = out.get_or_insert_with(|| BytesMut::with_capacity(piece.len() + 16));
            buf.put_slice(&piece[start..at]);
            buf.put_slice(CRLF);
            start = at + 1;
        }
        pass(take(out, &piece, start, piece.len()))
    }

    /// The body's last chunk has ended: a CR held back is a bare CR.
    pub(super) fn finish(&mut self, policy: BareLineEnding) -> Filtered {
        if !std::mem::take(&mut self.cr) {
            return pass(Bytes::new());
        }
        match policy {
            BareLineEnding::Reject => refuse(
                Bytes::new(),
                BodyError::BareCr {
                    offset: self.offset - 1,
                },
            ),
            _ => pass(Bytes::from_static(CRLF)),
        }
    }
}

fn pass(bytes: Bytes) -> Filtered {
    Filtered {
        bytes,
        refused: None,
    }
}

fn refuse(bytes: Bytes, error: BodyError) -> Filtered {
    Filtered {
        bytes,
        refused: Some(error),
    }
}

/// `out` followed by `piece[start..end]`: a slice of `piece` when nothing was copied yet.
fn take(out: Option<BytesMut>, piece: &Bytes, start: usize, end: usize) -> Bytes {
    match out {
        None => piece.slice(start..end),
        Some(mut buf) => {
            buf.put_slice(&piece[start..end]);
            buf.freeze()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `pieces` then finishes; returns what was passed on and the refusal, if any.
    fn run(policy: BareLineEnding, pieces: &[&[u8]]) -> (Vec<u8>, Option<BodyError>) {
        let mut body = TextBody::default();
        let mut out = Vec::new();
        for piece in pieces {
            let filtered = body.piece(policy, Bytes::copy_from_slice(piece));
            out.extend_from_slice(&filtered.bytes);
            if filtered.refused.is_some() {
                return (out, filtered.refused);
            }
        }
        let filtered = body.finish(policy);
        out.extend_from_slice(&filtered.bytes);
        (out, filtered.refused)
    }

    #[test]
    fn normalize_turns_each_bare_ending_into_crlf() {
        let n = BareLineEnding::Normalize;
        assert_eq!(
            run(n, &[b"a\nb\rc\r\nd\0e"]),
            (b"a\r\nb\r\nc\r\nd\0e".to_vec(), None)
        );
        assert_eq!(run(n, &[b"\n\n\r\r"]), (b"\r\n\r\n\r\n\r\n".to_vec(), None));
        assert_eq!(run(n, &[b"\r"]), (b"\r\n".to_vec(), None));
        assert_eq!(run(n, &[b"\n"]), (b"\r\n".to_vec(), None));
        assert_eq!(run(n, &[b""]), (b"".to_vec(), None));
    }

    #[test]
    fn a_crlf_split_between_pieces_stays_one_crlf() {
        let n = BareLineEnding::Normalize;
        assert_eq!(run(n, &[b"a\r", b"\nb"]), (b"a\r\nb".to_vec(), None));
        assert_eq!(run(n, &[b"a\r", b"", b"\nb"]), (b"a\r\nb".to_vec(), None));
        assert_eq!(run(n, &[b"a\r", b"b"]), (b"a\r\nb".to_vec(), None));
        assert_eq!(
            run(n, &[b"a\r", b"\r", b"\n"]),
            (b"a\r\n\r\n".to_vec(), None)
        );
        assert_eq!(run(n, &[b"a\r", b"\n\n"]), (b"a\r\n\r\n".to_vec(), None));
        assert_eq!(run(n, &[b"a", b"\n"]), (b"a\r\n".to_vec(), None));
    }

    /// However the body is cut, the result is the same as in one piece.
    #[test]
    fn every_split_gives_the_same_body() {
        let body: &[u8] = b"\r\na\nb\r\r\nc\rd\n\n\r\0e\r";
        for policy in [BareLineEnding::Normalize, BareLineEnding::Reject] {
            let whole = run(policy, &[body]);
            for cut in 0..=body.len() {
                for cut2 in cut..=body.len() {
                    let pieces = [&body[..cut], &body[cut..cut2], &body[cut2..]];
                    assert_eq!(run(policy, &pieces), whole, "{policy:?} at {cut}, {cut2}");
                }
            }
        }
    }

    #[test]
    fn reject_stops_at_the_first_bare_ending() {
        let r = BareLineEnding::Reject;
        assert_eq!(
            run(r, &[b"ok\r\nfine\r\n"]),
            (b"ok\r\nfine\r\n".to_vec(), None)
        );
        assert_eq!(
            run(r, &[b"ok\r\nx\ny"]),
            (b"ok\r\nx".to_vec(), Some(BodyError::BareLf { offset: 5 }))
        );
        let bare_cr = Some(BodyError::BareCr { offset: 2 });
        assert_eq!(run(r, &[b"ok\rx"]), (b"ok".to_vec(), bare_cr));
        assert_eq!(run(r, &[b"ok\r", b"x"]), (b"ok".to_vec(), bare_cr));
        assert_eq!(run(r, &[b"ok\r"]), (b"ok".to_vec(), bare_cr));
        assert_eq!(run(r, &[b"ok\r", b"\n"]), (b"ok\r\n".to_vec(), None));
    }

    #[test]
    fn a_clean_piece_is_not_copied() {
        let piece = Bytes::from_static(b"line\r\nline\r\n");
        let filtered = TextBody::default().piece(BareLineEnding::Normalize, piece.clone());
        assert_eq!(filtered.bytes.as_ptr(), piece.as_ptr());
    }
}
