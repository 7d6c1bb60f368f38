//! CRLF line framing under a length limit.
//!
//! SMTP, POP3 and IMAP are line protocols: every command and reply ends with CRLF, and each
//! RFC bounds the length of a line (RFC 5321 section 4.5.3.1.4: 512 octets for an SMTP command
//! line; RFC 2449 section 4: 255 octets for a POP3 command; IMAP servers commonly allow 64 KiB
//! plus literals). [`LineFramer`] finds complete lines in a [`BytesMut`] receive buffer without
//! copying them and enforces the limit the caller sets for the current protocol state.
//!
//! A line longer than the limit is reported once as [`Frame::TooLong`] as soon as the limit is
//! passed, and the framer then discards input up to and including the next LF, so the protocol
//! can answer (for example `500 5.5.2 Line too long`) and resynchronise, or close. Memory use is
//! bounded by the limit: bytes of an over-long line are dropped as they arrive.
//!
//! ```
//! use bytes::BytesMut;
//! use mail_wire::line::{Frame, LineFramer};
//!
//! let mut framer = LineFramer::new(512);
//! let mut buf = BytesMut::from(&b"EHLO client.example\r\nMAIL FROM:<a@b.example>\r\nRCPT"[..]);
//! assert_eq!(framer.next_frame(&mut buf), Some(Frame::Line("EHLO client.example".into())));
//! assert_eq!(framer.next_frame(&mut buf), Some(Frame::Line("MAIL FROM:<a@b.example>".into())));
//! assert_eq!(framer.next_frame(&mut buf), None); // "RCPT" has no CRLF yet
//! assert_eq!(&buf[..], b"RCPT");
//! ```

use bytes::{Buf, Bytes, BytesMut};

/// What the framer does with a line that ends in a bare LF (an LF not preceded by CR).
///
/// RFC 5321 section 2.3.8 says lines end with CRLF only, and bare LF line endings are the
/// raw material of SMTP smuggling, so servers should default to [`BareLf::Reject`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BareLf {
    /// Report the line as [`Frame::BareLf`] so the protocol can reply with an error.
    #[default]
    Reject,
    /// Accept LF alone as a line ending (for talking to old or sloppy peers).
    Accept,
}

/// One result of [`LineFramer::next_frame`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Frame {
    /// A complete line, without its CRLF (or, under [`BareLf::Accept`], its LF).
    Line(Bytes),
    /// The line passed the limit. Reported once, as soon as the limit is passed; the rest of
    /// the line, up to and including the next LF, is discarded as it arrives.
    TooLong {
        /// The limit in force, in octets including the line ending.
        limit: usize,
    },
    /// A line that ends in a bare LF while the policy is [`BareLf::Reject`]. The line is
    /// consumed; its content (without the LF) is given for diagnostics.
    BareLf(Bytes),
    /// Input that ended (end of stream) in the middle of a line; produced only by
    /// [`LineFramer::finish`].
    Unterminated(Bytes),
}

/// Splits a byte stream into CRLF-terminated lines under a length limit.
///
/// The framer keeps no copy of the data: lines are split off the caller's buffer as
/// [`Bytes`]. It remembers how far it has already searched a partial line, so feeding a long
/// line one byte at a time costs linear, not quadratic, time. If you remove bytes from the
/// front of the buffer yourself (to read an IMAP literal, say), do it only after the framer
/// has returned a frame, when no partial line is pending, or call [`LineFramer::reset`].
#[derive(Debug, Clone)]
pub struct LineFramer {
    max_len: usize,
    bare_lf: BareLf,
    /// Bytes of the pending partial line already searched for LF.
    scanned: usize,
    /// Inside an over-long line: drop everything up to and including the next LF.
    discarding: bool,
}

impl LineFramer {
    /// A framer for lines of at most `max_len` octets including CRLF, rejecting bare LF.
    ///
    /// A `max_len` below 2 is raised to 2 (room for the CRLF of an empty line).
    pub fn new(max_len: usize) -> Self {
        LineFramer {
            max_len: max_len.max(2),
            bare_lf: BareLf::Reject,
            scanned: 0,
            discarding: false,
        }
    }

    /// Sets the bare-LF policy.
    pub fn with_bare_lf(mut self, policy: BareLf) -> Self {
        self.bare_lf = policy;
        self
    }

    /// The current limit, in octets including the line ending.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Changes the limit, for example when a protocol moves to a state with longer lines.
    /// Takes effect for the line being assembled too.
    pub fn set_max_len(&mut self, max_len: usize) {
        self.max_len = max_len.max(2);
    }

    /// The bare-LF policy in force.
    pub fn bare_lf(&self) -> BareLf {
        self.bare_lf
    }

    /// Forgets any partial-line progress (after the caller consumed buffer bytes itself).
    pub fn reset(&mut self) {
        self.scanned = 0;
        self.discarding = false;
    }

    /// Whether the framer is discarding the rest of an over-long line.
    pub fn is_discarding(&self) -> bool {
        self.discarding
    }

    /// Takes the next frame out of `buf`, or returns `None` when no complete line is buffered.
    ///
    /// `None` is not an error: it means "no CRLF yet", and the caller reads more input.
    pub fn next_frame(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        if self.discarding {
            match memchr::memchr(b'\n', buf) {
                Some(lf) => {
                    buf.advance(lf + 1);
                    self.discarding = false;
                }
                None => {
                    buf.clear();
                    return None;
                }
            }
        }
        let start = self.scanned.min(buf.len());
        let window_end = buf.len().min(self.max_len);
        let found = if start < window_end {
            memchr::memchr(b'\n', &buf[start..window_end]).map(|i| start + i)
        } else {
            None
        };
        match found {
            Some(lf) => {
                self.scanned = 0;
                let mut line = buf.split_to(lf + 1);
                line.truncate(lf);
                if line.last() == Some(&b'\r') {
                    line.truncate(lf - 1);
                    Some(Frame::Line(line.freeze()))
                } else {
                    match self.bare_lf {
                        BareLf::Accept => Some(Frame::Line(line.freeze())),
                        BareLf::Reject => Some(Frame::BareLf(line.freeze())),
                    }
                }
            }
            None if buf.len() >= self.max_len => {
                // No LF within the first `max_len` octets: the line cannot fit.
                self.scanned = 0;
                self.discarding = true;
                buf.advance(self.max_len);
                if let Some(lf) = memchr::memchr(b'\n', buf) {
                    buf.advance(lf + 1);
                    self.discarding = false;
                } else {
                    buf.clear();
                }
                Some(Frame::TooLong {
                    limit: self.max_len,
                })
            }
            None => {
                self.scanned = buf.len();
                None
            }
        }
    }

    /// Call at end of input: returns a final partial line as [`Frame::Unterminated`], if any.
    ///
    /// Bytes of an over-long line being discarded are dropped silently (the
    /// [`Frame::TooLong`] was already reported).
    pub fn finish(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        if let Some(frame) = self.next_frame(buf) {
            return Some(frame);
        }
        self.reset();
        if buf.is_empty() {
            None
        } else {
            Some(Frame::Unterminated(buf.split().freeze()))
        }
    }
}

#[cfg(feature = "tokio")]
impl tokio_util::codec::Decoder for LineFramer {
    type Item = Frame;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, std::io::Error> {
        Ok(self.next_frame(buf))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, std::io::Error> {
        Ok(self.finish(buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framer: &mut LineFramer, input: &[u8]) -> Vec<Frame> {
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(frame) = framer.next_frame(&mut buf) {
            out.push(frame);
        }
        out
    }

    fn line(s: &str) -> Frame {
        Frame::Line(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn splits_crlf_lines_and_keeps_partial() {
        let mut framer = LineFramer::new(512);
        let mut buf = BytesMut::from(&b"NOOP\r\n\r\nQUIT\r"[..]);
        assert_eq!(framer.next_frame(&mut buf), Some(line("NOOP")));
        assert_eq!(framer.next_frame(&mut buf), Some(line("")));
        assert_eq!(framer.next_frame(&mut buf), None);
        buf.extend_from_slice(b"\n");
        assert_eq!(framer.next_frame(&mut buf), Some(line("QUIT")));
        assert!(buf.is_empty());
    }

    #[test]
    fn limit_counts_the_crlf() {
        // 510 octets of text plus CRLF is exactly RFC 5321's 512.
        let mut ok = vec![b'a'; 510];
        ok.extend_from_slice(b"\r\n");
        let mut framer = LineFramer::new(512);
        assert_eq!(
            frames(&mut framer, &ok),
            vec![Frame::Line(vec![b'a'; 510].into())]
        );

        let mut long = vec![b'a'; 511];
        long.extend_from_slice(b"\r\nNOOP\r\n");
        assert_eq!(
            frames(&mut framer, &long),
            vec![Frame::TooLong { limit: 512 }, line("NOOP")]
        );
    }

    #[test]
    fn too_long_is_reported_once_and_memory_stays_bounded() {
        let mut framer = LineFramer::new(16);
        let mut buf = BytesMut::new();
        let mut reported = 0;
        for _ in 0..1000 {
            buf.extend_from_slice(b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
            while let Some(frame) = framer.next_frame(&mut buf) {
                assert_eq!(frame, Frame::TooLong { limit: 16 });
                reported += 1;
            }
            assert!(buf.len() < 16, "buffer grew to {}", buf.len());
        }
        assert_eq!(reported, 1);
        assert!(framer.is_discarding());
        buf.extend_from_slice(b"tail\r\nQUIT\r\n");
        assert_eq!(framer.next_frame(&mut buf), Some(line("QUIT")));
        assert!(!framer.is_discarding());
    }

    #[test]
    fn bare_lf_policy() {
        let input = b"HELO a\nNOOP\r\n";
        let mut strict = LineFramer::new(64);
        assert_eq!(
            frames(&mut strict, input),
            vec![Frame::BareLf("HELO a".into()), line("NOOP")]
        );
        let mut lenient = LineFramer::new(64).with_bare_lf(BareLf::Accept);
        assert_eq!(
            frames(&mut lenient, input),
            vec![line("HELO a"), line("NOOP")]
        );
    }

    #[test]
    fn bare_cr_stays_in_the_line() {
        let mut framer = LineFramer::new(64);
        assert_eq!(frames(&mut framer, b"a\rb\r\n"), vec![line("a\rb")]);
    }

    #[test]
    fn byte_at_a_time_scan_is_remembered() {
        let mut framer = LineFramer::new(1 << 20);
        let mut buf = BytesMut::new();
        for _ in 0..10_000 {
            buf.extend_from_slice(b"a");
            assert_eq!(framer.next_frame(&mut buf), None);
        }
        assert_eq!(framer.scanned, 10_000);
        buf.extend_from_slice(b"\r\n");
        assert!(matches!(framer.next_frame(&mut buf), Some(Frame::Line(l)) if l.len() == 10_000));
    }

    #[test]
    fn raising_the_limit_mid_line_takes_effect() {
        let mut framer = LineFramer::new(8);
        let mut buf = BytesMut::from(&b"abcdef"[..]);
        assert_eq!(framer.next_frame(&mut buf), None);
        framer.set_max_len(64);
        buf.extend_from_slice(b"ghijkl\r\n");
        assert_eq!(framer.next_frame(&mut buf), Some(line("abcdefghijkl")));
    }

    #[test]
    fn finish_returns_unterminated_tail() {
        let mut framer = LineFramer::new(64);
        let mut buf = BytesMut::from(&b"QUIT\r\nNOO"[..]);
        assert_eq!(framer.finish(&mut buf), Some(line("QUIT")));
        assert_eq!(
            framer.finish(&mut buf),
            Some(Frame::Unterminated("NOO".into()))
        );
        assert_eq!(framer.finish(&mut buf), None);
    }

    #[test]
    fn tiny_limit_is_clamped() {
        let mut framer = LineFramer::new(0);
        assert_eq!(framer.max_len(), 2);
        assert_eq!(
            frames(&mut framer, b"\r\na\r\n"),
            vec![line(""), Frame::TooLong { limit: 2 }]
        );
    }
}

#[cfg(all(test, feature = "tokio"))]
mod tokio_tests {
    use super::*;
    use tokio_util::codec::Decoder;

    #[test]
    fn decoder_trait_matches_next_frame() {
        let mut framer = LineFramer::new(64);
        let mut buf = BytesMut::from(&b"NOOP\r\nQUI"[..]);
        assert_eq!(
            framer.decode(&mut buf).unwrap(),
            Some(Frame::Line("NOOP".into()))
        );
        assert_eq!(framer.decode(&mut buf).unwrap(), None);
        assert_eq!(
            framer.decode_eof(&mut buf).unwrap(),
            Some(Frame::Unterminated("QUI".into()))
        );
    }
}
