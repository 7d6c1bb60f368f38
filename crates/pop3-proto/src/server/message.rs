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
/// lines are passed and the rest dropped.
#[derive(Debug)]
struct TopCut {
    in_header: bool,
    line_len: usize,
    left: u32,
    done: bool,
}

impl Outgoing {
    pub(super) fn new(lines: Option<u32>) -> Self {
        Outgoing {
            // RFC 1939 section 3: every line of a multi-line response ends in CRLF, also
            // when the application stores messages with bare LF (or CR) line endings.
            encoder: DotEncoder::normalizing(),
            top: lines.map(|left| TopCut {
                in_header: true,
                line_len: 0,
                left,
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
        if self.done {
            return 0;
        }
        for (i, &b) in data.iter().enumerate() {
            match b {
                b'\n' => {
                    if self.in_header {
                        if self.line_len == 0 {
                            self.in_header = false;
                            if self.left == 0 {
                                self.done = true;
                                return i + 1;
                            }
                        }
                    } else {
                        self.left -= 1;
                        if self.left == 0 {
                            self.done = true;
                            return i + 1;
                        }
                    }
                    self.line_len = 0;
                }
                b'\r' => {}
                _ => self.line_len += 1,
            }
        }
        data.len()
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
}
