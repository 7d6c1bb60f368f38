//! Streaming `RETR` and `TOP`: dot-stuffing through mail-wire's encoder (security rule 3.4:
//! every line start is stuffed, the end marker is ours; bare CR and LF go out as CRLF), and cutting `TOP` after the header
//! and the requested number of body lines (RFC 1939 section 7).

use bytes::BytesMut;
use mail_wire::dot::DotEncoder;

/// One message on its way out.
#[derive(Debug)]
pub(super) struct Outgoing {
    encoder: DotEncoder,
    top: Option<TopCut>,
}

/// Where `TOP` is in the message: the header ends at the first empty line; then `left` body
/// lines are passed and the rest dropped. A line ends at an LF, or at a bare CR (which goes
/// out as CRLF), so that lines are counted as they are sent.
#[derive(Debug)]
struct TopCut {
    in_header: bool,
    line_len: usize,
    left: u32,
    /// The last octet seen was a CR: a line ended, with a CRLF or a bare CR.
    after_cr: bool,
    done: bool,
}

impl Outgoing {
    /// `lines`: `TOP`'s count, `None` for `RETR`. `u32::MAX` (what the parser makes of any
    /// larger count) is every line: nothing is cut.
    pub(super) fn new(lines: Option<u32>) -> Self {
        Outgoing {
            // RFC 1939 section 3: every line of a multi-line response ends in CRLF, also
            // when the application stores messages with bare LF (or CR) line endings.
            encoder: DotEncoder::normalizing(),
            top: lines.filter(|&left| left != u32::MAX).map(|left| TopCut {
                in_header: true,
                line_len: 0,
                left,
                after_cr: false,
                done: false,
            }),
        }
    }

    pub(super) fn encode(&mut self, data: &[u8], out: &mut BytesMut) {
        let data = match &mut self.top {
            None => data,
            Some(top) => &data[..top.pass(data)],
        };
        self.encoder.encode(data, out);
    }

    pub(super) fn finish(&mut self, out: &mut BytesMut) {
        self.encoder.finish(out);
    }
}

impl TopCut {
    /// How many octets of `data` to pass.
    fn pass(&mut self, data: &[u8]) -> usize {
        // Done at a CR that ended a piece: its LF, if it comes next, still passes.
        if self.done && !self.after_cr {
            return 0;
        }
        for (i, &b) in data.iter().enumerate() {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    // The CRLF's line was counted at its CR: pass the LF too.
                    if self.done {
                        return i + 1;
                    }
                    continue;
                }
                // A bare CR ended the line.
                if self.done {
                    return i;
                }
            }
            match b {
                b'\n' => {
                    if self.line_end() {
                        return i + 1;
                    }
                }
                b'\r' => {
                    self.after_cr = true;
                    self.line_end();
                }
                _ => self.line_len += 1,
            }
        }
        data.len()
    }

    /// A line ended; whether that was the last one to pass.
    fn line_end(&mut self) -> bool {
        if self.in_header {
            if self.line_len == 0 {
                self.in_header = false;
                self.done = self.left == 0;
            }
        } else {
            self.left -= 1;
            self.done = self.left == 0;
        }
        self.line_len = 0;
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top(message: &[u8], lines: u32, split: usize) -> Vec<u8> {
        let mut out = BytesMut::new();
        let mut outgoing = Outgoing::new(Some(lines));
        let split = split.min(message.len());
        outgoing.encode(&message[..split], &mut out);
        outgoing.encode(&message[split..], &mut out);
        outgoing.finish(&mut out);
        out.to_vec()
    }

    #[test]
    fn top_cuts_after_the_header_and_n_lines_in_any_split() {
        let message = b"A: 1\r\nB: 2\r\n\r\none\r\n.two\r\nthree\r\n";
        for split in 0..=message.len() {
            assert_eq!(top(message, 0, split), b"A: 1\r\nB: 2\r\n\r\n.\r\n");
            assert_eq!(
                top(message, 2, split),
                b"A: 1\r\nB: 2\r\n\r\none\r\n..two\r\n.\r\n"
            );
            assert_eq!(
                top(message, 9, split),
                b"A: 1\r\nB: 2\r\n\r\none\r\n..two\r\nthree\r\n.\r\n"
            );
        }
        // A message without a body: everything passes.
        assert_eq!(top(b"A: 1\r\n", 3, 2), b"A: 1\r\n.\r\n");
    }

    /// `TOP n 4294967295` (and any larger count, which the parser reads as `u32::MAX`) asks
    /// for every line: nothing is cut, even after 4,294,967,295 body lines.
    #[test]
    fn top_with_u32_max_lines_cuts_nothing() {
        assert!(Outgoing::new(Some(u32::MAX)).top.is_none());
        assert!(Outgoing::new(Some(u32::MAX - 1)).top.is_some());
        let message = b"A: 1\r\n\r\none\r\n.two\r\nthree";
        assert_eq!(
            top(message, u32::MAX, 3),
            b"A: 1\r\n\r\none\r\n..two\r\nthree\r\n.\r\n"
        );
    }
}
