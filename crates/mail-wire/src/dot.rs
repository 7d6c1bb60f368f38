//! Dot transparency: the body encoding of SMTP `DATA` (RFC 5321 section 4.5.2) and of POP3
//! multi-line responses (RFC 1939 section 3).
//!
//! On the wire a body ends with a line holding a single dot, so the sender doubles the dot at
//! the start of any line that begins with one ("dot stuffing") and the receiver removes it.
//!
//! [`DotDecoder`] removes the stuffing and finds the end marker in a stream, handing out body
//! chunks as [`Bytes`] slices of the receive buffer (no copy unless a bare line ending is
//! normalised). [`DotEncoder`] stuffs and terminates.
//!
//! # The end marker, and SMTP smuggling
//!
//! The end of the body is exactly CRLF "." CRLF, or "." CRLF as the very first line. Nothing
//! else ends a body: none of `\n.\n`, `\r.\r`, `\n.\r\n`, `\r\n.\n`, `\r.\r\n` or `\r\n.\r`
//! does, under any [`BareLineEnding`] policy. A server that accepted one of them as the end
//! while the next hop did not (or the reverse) would let a sender smuggle a second message
//! with a forged envelope through the first (SMTP smuggling, December 2023).
//!
//! Bare CR and bare LF (a CR not followed by LF, an LF not preceded by CR) are not line
//! endings in SMTP. What happens to them is the [`BareLineEnding`] policy.
//!
//! ```
//! use bytes::BytesMut;
//! use mail_wire::dot::{BareLineEnding, DotDecoder, DotEvent};
//!
//! let mut decoder = DotDecoder::new(BareLineEnding::Reject, 1 << 20);
//! let mut buf = BytesMut::from(&b"Subject: hi\r\n\r\n..dots\r\n.\r\nQUIT\r\n"[..]);
//! let mut body = Vec::new();
//! let size = loop {
//!     match decoder.next_event(&mut buf) {
//!         Some(DotEvent::Data(chunk)) => body.extend_from_slice(&chunk),
//!         Some(DotEvent::End(result)) => break result.expect("accepted"),
//!         Some(DotEvent::Rejected(error)) => panic!("{error}"),
//!         None => unreachable!("the whole body is buffered"),
//!         Some(_) => unreachable!("no other events exist today"),
//!     }
//! };
//! assert_eq!(body, b"Subject: hi\r\n\r\n.dots\r\n");
//! assert_eq!(size, body.len() as u64);
//! assert_eq!(&buf[..], b"QUIT\r\n"); // what follows the body stays for the command parser
//! ```

use bytes::{Buf, Bytes, BytesMut};
use memchr::memmem::Finder;

/// What to do with a bare CR or a bare LF inside a body.
///
/// Whatever the policy, a bare CR or LF is never part of the end marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BareLineEnding {
    /// Refuse the message: report [`DotEvent::Rejected`] with [`BodyError::BareCr`] or
    /// [`BodyError::BareLf`], then consume input up to the end marker and end with an error.
    /// The behaviour of Postfix with `smtpd_forbid_bare_newline = reject`.
    #[default]
    Reject,
    /// Replace each bare CR and bare LF with CRLF in the decoded body, and treat the position
    /// after it as the start of a line for dot unstuffing (never for the end marker). The
    /// behaviour of Postfix with `smtpd_forbid_bare_newline = normalize`.
    Normalize,
    /// Keep bare CR and LF as content, byte for byte, unstuffing a dot that follows one (as
    /// [`DotEncoder`] stuffs it). For clients reading POP3 bodies and for lossless transport
    /// between two ends that both use this crate.
    Preserve,
}

/// Why a body was refused. The decoder consumes input to the end marker regardless, so the
/// protocol can answer and stay in step with the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The decoded body grew past the limit.
    #[error("message body exceeds the limit of {limit} octets")]
    TooLarge {
        /// The limit in force, in decoded octets.
        limit: u64,
    },
    /// A CR not followed by LF, under [`BareLineEnding::Reject`].
    #[error("bare CR at octet {offset} of the body")]
    BareCr {
        /// Offset of the CR from the start of the body on the wire.
        offset: u64,
    },
    /// An LF not preceded by CR, under [`BareLineEnding::Reject`].
    #[error("bare LF at octet {offset} of the body")]
    BareLf {
        /// Offset of the LF from the start of the body on the wire.
        offset: u64,
    },
}

/// One result of [`DotDecoder::next_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DotEvent {
    /// The next piece of the decoded body.
    Data(Bytes),
    /// The body is refused. Reported once; no `Data` follows. For [`BodyError::TooLarge`] the
    /// data before it is exactly the first `limit` octets of the body, however the input was
    /// split. The decoder goes on consuming input until the end marker and then reports
    /// [`DotEvent::End`] with the same error.
    Rejected(BodyError),
    /// The end marker was consumed. `Ok` carries the decoded body size in octets.
    End(Result<u64, BodyError>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a line that follows CRLF (or at the start of the body): a dot here is
    /// either stuffing or, followed by CRLF, the end marker.
    LineStart,
    /// At the start of a line that follows a bare CR or LF (Normalize and Preserve only): a
    /// dot here is stuffing, never the end marker.
    LooseLineStart,
    /// Inside a line.
    InLine,
    /// The body was refused: look only for the end marker. `line_start` says whether the
    /// next byte starts a line after CRLF.
    Draining { line_start: bool },
    /// The end marker was consumed.
    Done,
}

/// Streaming decoder for a dot-stuffed body; see the [module docs](self).
///
/// Feed it the receive buffer, positioned just after the `DATA` command's `354` reply (SMTP) or
/// the `+OK` line of a multi-line response (POP3). It splits decoded chunks off the front of
/// the buffer and leaves whatever follows the end marker in place. When it returns `None` it
/// has consumed all but at most four bytes of the buffer (a possible prefix of the end marker),
/// so memory use does not depend on the body.
#[derive(Debug, Clone)]
pub struct DotDecoder {
    policy: BareLineEnding,
    max_size: u64,
    size: u64,
    consumed: u64,
    state: State,
    error: Option<BodyError>,
    /// A refusal to report on the next call (after the data that reached the limit).
    announce: Option<BodyError>,
    end_marker: Finder<'static>,
}

/// What the scan of an in-line stretch found.
enum Scan {
    /// `len` octets of valid content; `then` is the state after them.
    Content { len: usize, then: State },
    /// Valid content of `len` octets, followed by a bare CR or LF.
    Bare { len: usize },
    /// Not enough input to decide anything.
    NeedMore,
}

impl DotDecoder {
    /// A decoder for one body with the given policy and a limit on the decoded size.
    ///
    /// Pass `u64::MAX` for no limit. RFC 1870 servers advertise their limit with `SIZE`.
    pub fn new(policy: BareLineEnding, max_size: u64) -> Self {
        DotDecoder {
            policy,
            max_size,
            size: 0,
            consumed: 0,
            state: State::LineStart,
            error: None,
            announce: None,
            end_marker: Finder::new(b"\r\n.\r\n"),
        }
    }

    /// Makes the decoder ready for the next body, keeping policy and limit.
    pub fn reset(&mut self) {
        self.size = 0;
        self.consumed = 0;
        self.state = State::LineStart;
        self.error = None;
        self.announce = None;
    }

    /// Decoded octets so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether the end marker has been consumed.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Takes the next event out of `buf`, or `None` when more input is needed (or the body
    /// already ended).
    pub fn next_event(&mut self, buf: &mut BytesMut) -> Option<DotEvent> {
        if let Some(error) = self.announce.take() {
            return Some(DotEvent::Rejected(error));
        }
        loop {
            match self.state {
                State::Done => return None,
                State::Draining { line_start } => return self.drain(buf, line_start),
                State::LineStart | State::LooseLineStart => {
                    let first = *buf.first()?;
                    if first == b'.' {
                        if self.state == State::LineStart {
                            match (buf.get(1), buf.get(2)) {
                                (None, _) | (Some(b'\r'), None) => return None,
                                (Some(b'\r'), Some(b'\n')) => {
                                    self.advance(buf, 3);
                                    return Some(self.end());
                                }
                                _ => {}
                            }
                        }
                        // Stuffing: drop the dot.
                        self.advance(buf, 1);
                    }
                    self.state = State::InLine;
                }
                State::InLine => match self.scan(buf) {
                    Scan::NeedMore => return None,
                    Scan::Content { len, then } => {
                        self.state = then;
                        return Some(self.emit(buf, len));
                    }
                    Scan::Bare { len } if len > 0 => return Some(self.emit(buf, len)),
                    Scan::Bare { .. } => return Some(self.bare(buf)),
                },
            }
        }
    }

    /// Scans the in-line stretch at the front of `buf` up to the next dot at a line start.
    fn scan(&self, buf: &[u8]) -> Scan {
        // A CR at the very end may be the first half of a CRLF: wait for the next byte.
        let check = buf.len() - usize::from(buf.last() == Some(&b'\r'));
        let stop = match self.policy {
            BareLineEnding::Preserve => find_loose_dot(&buf[..check]),
            BareLineEnding::Reject | BareLineEnding::Normalize => find_dot_or_bare(&buf[..check]),
        };
        match stop {
            // A dot at a line start: the content runs up to the line ending before it.
            Some(at) if buf[at] == b'.' => Scan::Content {
                len: at,
                then: line_state_after(&buf[..at]),
            },
            Some(at) => Scan::Bare { len: at },
            None if check == 0 => Scan::NeedMore,
            None => Scan::Content {
                len: check,
                then: line_state_after(&buf[..check]),
            },
        }
    }

    /// Handles the bare CR or LF at the front of `buf`. (Under `Preserve` the scan never
    /// stops at one; it is content like any other octet.)
    fn bare(&mut self, buf: &mut BytesMut) -> DotEvent {
        let offset = self.consumed;
        let error = if buf[0] == b'\r' {
            BodyError::BareCr { offset }
        } else {
            BodyError::BareLf { offset }
        };
        match self.policy {
            BareLineEnding::Reject => self.reject(error),
            BareLineEnding::Normalize => {
                self.advance(buf, 1);
                self.state = State::LooseLineStart;
                self.account(Bytes::from_static(b"\r\n"), false)
            }
            BareLineEnding::Preserve => {
                self.state = State::LooseLineStart;
                self.emit(buf, 1)
            }
        }
    }

    /// Splits `len` content octets off `buf` as a data event, enforcing the size limit.
    fn emit(&mut self, buf: &mut BytesMut, len: usize) -> DotEvent {
        let chunk = buf.split_to(len).freeze();
        self.consumed += len as u64;
        let line_start = chunk.ends_with(b"\r\n");
        self.account(chunk, line_start)
    }

    /// Counts `chunk` against the limit. `line_start` says whether the wire input consumed so
    /// far ends in CRLF, which matters for finding the end marker if the body is refused here.
    fn account(&mut self, chunk: Bytes, line_start: bool) -> DotEvent {
        let room = self.max_size - self.size;
        if chunk.len() as u64 > room {
            // Deliver exactly up to the limit (whatever the chunking), then refuse.
            let error = BodyError::TooLarge {
                limit: self.max_size,
            };
            self.error = Some(error);
            self.state = State::Draining { line_start };
            if room == 0 {
                return DotEvent::Rejected(error);
            }
            self.announce = Some(error);
            self.size = self.max_size;
            // `room` is below `chunk.len()`, a usize.
            return DotEvent::Data(chunk.slice(..room as usize));
        }
        self.size += chunk.len() as u64;
        DotEvent::Data(chunk)
    }

    fn reject(&mut self, error: BodyError) -> DotEvent {
        self.error = Some(error);
        self.state = State::Draining { line_start: false };
        DotEvent::Rejected(error)
    }

    /// After a refusal: consume everything up to and including the end marker.
    fn drain(&mut self, buf: &mut BytesMut, line_start: bool) -> Option<DotEvent> {
        if line_start {
            match (buf.first(), buf.get(1), buf.get(2)) {
                (None, ..) | (Some(b'.'), None, _) | (Some(b'.'), Some(b'\r'), None) => {
                    return None;
                }
                (Some(b'.'), Some(b'\r'), Some(b'\n')) => {
                    self.advance(buf, 3);
                    return Some(self.end());
                }
                _ => self.state = State::Draining { line_start: false },
            }
        }
        if let Some(at) = self.end_marker.find(buf) {
            self.advance(buf, at + 5);
            return Some(self.end());
        }
        // Keep the last four octets: they may be the start of the end marker.
        let keep = buf.len().min(4);
        let drop = buf.len() - keep;
        self.advance(buf, drop);
        None
    }

    fn advance(&mut self, buf: &mut BytesMut, n: usize) {
        buf.advance(n);
        self.consumed += n as u64;
    }

    fn end(&mut self) -> DotEvent {
        self.state = State::Done;
        DotEvent::End(match self.error {
            Some(error) => Err(error),
            None => Ok(self.size),
        })
    }
}

#[cfg(feature = "tokio")]
impl tokio_util::codec::Decoder for DotDecoder {
    type Item = DotEvent;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<DotEvent>, std::io::Error> {
        Ok(self.next_event(buf))
    }

    /// The stream ended: an open body is an error (the message was never terminated and must
    /// not be delivered).
    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<DotEvent>, std::io::Error> {
        match self.next_event(buf) {
            Some(event) => Ok(Some(event)),
            None if self.is_done() => Ok(None),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the connection closed inside a message body, before CRLF.CRLF",
            )),
        }
    }
}

/// The state after a non-empty stretch of content: a line start after CRLF, a loose line
/// start after a bare LF or CR (content ends in a CR only when the CR is known to be bare),
/// inside a line otherwise.
fn line_state_after(content: &[u8]) -> State {
    match content {
        [.., b'\r', b'\n'] => State::LineStart,
        [.., b'\n' | b'\r'] => State::LooseLineStart,
        _ => State::InLine,
    }
}

/// Octets per block in the branch-free fast path of the scanners.
const BLOCK: usize = 256;

/// Runs `flag(octet, previous octet)` over `bytes[1..]` in branch-free blocks of [`BLOCK`]
/// octets (which the compiler vectorises) and returns the start of the first block with a
/// non-zero flag, or `None`. Blocks may overlap; everything before the returned start, except
/// possibly the octet just before it, has a zero flag.
#[inline(always)]
fn first_flagged_block(bytes: &[u8], flag: impl Fn(u8, u8) -> u8) -> Option<usize> {
    let len = bytes.len();
    if len <= BLOCK {
        return Some(1.min(len));
    }
    let mut next = 1;
    loop {
        // The last block is moved back to end at `len`, overlapping the one before it.
        let start = next.min(len - BLOCK);
        let block = &bytes[start..start + BLOCK];
        let before = &bytes[start - 1..start - 1 + BLOCK];
        let mut any = 0u8;
        for (&octet, &prev) in block.iter().zip(before) {
            any |= flag(octet, prev);
        }
        if any != 0 {
            return Some(start);
        }
        if start + BLOCK == len {
            return None;
        }
        next = start + BLOCK;
    }
}

/// Returns the index of the first bare CR, bare LF, or dot that follows a CRLF in `bytes`
/// (a CR in the last position counts as bare; octet 0 never counts as following anything).
pub(crate) fn find_dot_or_bare(bytes: &[u8]) -> Option<usize> {
    match bytes.first() {
        None => return None,
        Some(b'\n') => return Some(0),
        Some(_) => {}
    }
    // An LF must sit exactly where a CR was one octet before, and a dot after an LF stops.
    let flagged = first_flagged_block(bytes, |octet, prev| {
        (u8::from(octet == b'\n') ^ u8::from(prev == b'\r'))
            | (u8::from(octet == b'.') & u8::from(prev == b'\n'))
    });
    let Some(start) = flagged else {
        // Clean throughout, except that a CR in the last position is bare.
        return (bytes.last() == Some(&b'\r')).then(|| bytes.len() - 1);
    };
    // Octets before `start - 1` are clean. An LF at `start - 1` was checked with its CR; a CR
    // there was not (its LF would be at `start`), so rescan from it.
    let from = if bytes[start - 1] == b'\r' {
        start - 1
    } else {
        start
    };
    find_dot_or_bare_slow(bytes, from)
}

/// Octet-by-octet [`find_dot_or_bare`] from `from`, which must not be the LF of a CRLF whose
/// CR lies before `from`; any LF before `from` must be the second half of a CRLF.
fn find_dot_or_bare_slow(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            b'\r' | b'\n' => return Some(i),
            b'.' if i > 0 && bytes[i - 1] == b'\n' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Returns the index of the first dot that follows a CR or an LF in `bytes` (for
/// [`BareLineEnding::Preserve`], where both start a line).
fn find_loose_dot(bytes: &[u8]) -> Option<usize> {
    let start = first_flagged_block(bytes, |octet, prev| {
        u8::from(octet == b'.') & (u8::from(prev == b'\n') | u8::from(prev == b'\r'))
    })?;
    (start.max(1)..bytes.len()).find(|&i| bytes[i] == b'.' && matches!(bytes[i - 1], b'\r' | b'\n'))
}

/// Streaming dot-stuffing encoder; see the [module docs](self).
///
/// A dot is doubled at the start of every line, where a line starts at the beginning of the
/// body and after every LF or bare CR, so the output never contains a line (under any reading
/// of line endings) that a receiver could take for the end marker. [`DotEncoder::finish`] adds
/// a CRLF if the body does not end with one, then the end marker.
///
/// ```
/// use bytes::BytesMut;
/// use mail_wire::dot::DotEncoder;
///
/// let mut encoder = DotEncoder::new();
/// let mut wire = BytesMut::new();
/// encoder.encode(b".hidden\r\nline\r\n.", &mut wire);
/// encoder.encode(b"\r\nend", &mut wire);
/// encoder.finish(&mut wire);
/// assert_eq!(&wire[..], b"..hidden\r\nline\r\n..\r\nend\r\n.\r\n");
/// ```
#[derive(Debug, Clone)]
pub struct DotEncoder {
    normalize: bool,
    /// The next input octet starts a line.
    line_start: bool,
    /// The last input octet was a CR (the line ending is not known yet).
    after_cr: bool,
    /// The last line ending written was a complete CRLF (or nothing was written).
    ends_with_crlf: bool,
}

impl Default for DotEncoder {
    fn default() -> Self {
        DotEncoder::new()
    }
}

impl DotEncoder {
    /// An encoder that keeps bare CR and LF as they are (stuffing a dot after them too).
    pub fn new() -> Self {
        DotEncoder {
            normalize: false,
            line_start: true,
            after_cr: false,
            ends_with_crlf: true,
        }
    }

    /// An encoder that also turns every bare CR and bare LF into CRLF, so that the output is
    /// acceptable to receivers that reject bare line endings (RFC 5321 section 2.3.8).
    pub fn normalizing() -> Self {
        DotEncoder {
            normalize: true,
            ..DotEncoder::new()
        }
    }

    /// Encodes the next piece of the body into `out`.
    pub fn encode(&mut self, mut input: &[u8], out: &mut BytesMut) {
        out.reserve(input.len() + input.len() / 64 + 8);
        if input.is_empty() {
            return;
        }
        if self.after_cr {
            self.after_cr = false;
            if input[0] == b'\n' {
                out.extend_from_slice(b"\n");
                input = &input[1..];
                self.line_start = true;
                self.ends_with_crlf = true;
            } else {
                // The CR written last was bare.
                if self.normalize {
                    out.extend_from_slice(b"\n");
                }
                self.line_start = true;
                self.ends_with_crlf = self.normalize;
            }
        }
        if self.normalize {
            self.encode_normalizing(input, out);
        } else {
            self.encode_preserving(input, out);
        }
    }

    fn encode_preserving(&mut self, input: &[u8], out: &mut BytesMut) {
        let mut rest = input;
        while !rest.is_empty() {
            if self.line_start && rest[0] == b'.' {
                out.extend_from_slice(b".");
            }
            // Copy up to (not including) the next dot after a CR or an LF; the next round
            // stuffs it.
            let run = find_loose_dot(rest).unwrap_or(rest.len());
            out.extend_from_slice(&rest[..run]);
            self.note_tail(&rest[..run], rest.get(run).copied());
            rest = &rest[run..];
        }
    }

    fn encode_normalizing(&mut self, input: &[u8], out: &mut BytesMut) {
        let mut rest = input;
        while !rest.is_empty() {
            if self.line_start && rest[0] == b'.' {
                out.extend_from_slice(b".");
            }
            // A CR at the very end of the input may be half a CRLF: `after_cr` handles it.
            let check = rest.len() - usize::from(rest.last() == Some(&b'\r'));
            match find_dot_or_bare(&rest[..check]) {
                // A dot after CRLF: copy up to it; the next round stuffs it.
                Some(at) if rest[at] == b'.' => {
                    out.extend_from_slice(&rest[..at]);
                    self.note_tail(&rest[..at], Some(b'.'));
                    rest = &rest[at..];
                }
                Some(at) => {
                    out.extend_from_slice(&rest[..at]);
                    out.extend_from_slice(b"\r\n");
                    self.line_start = true;
                    self.ends_with_crlf = true;
                    rest = &rest[at + 1..];
                }
                None => {
                    out.extend_from_slice(rest);
                    self.note_tail(rest, None);
                    rest = &[];
                }
            }
        }
    }

    /// Updates the line state after `run` (non-empty) was copied to the output; `next` is the
    /// input octet after it, if this call has one.
    fn note_tail(&mut self, run: &[u8], next: Option<u8>) {
        match run {
            [.., b'\r', b'\n'] => {
                self.line_start = true;
                self.ends_with_crlf = true;
            }
            [.., b'\n'] => {
                self.line_start = true;
                self.ends_with_crlf = false;
            }
            [.., b'\r'] => {
                // A run ends in CR before a dot (a bare CR) or at the end of the input, where
                // the next call to `encode` decides.
                self.after_cr = next.is_none();
                self.line_start = next.is_some();
                self.ends_with_crlf = false;
            }
            _ => {
                // The run stops right after a line ending only when a dot follows it.
                self.line_start = false;
                self.ends_with_crlf = false;
            }
        }
    }

    /// Writes the end of the body: CRLF if the body does not already end with one, then
    /// "." CRLF. The encoder is ready for the next body afterwards.
    pub fn finish(&mut self, out: &mut BytesMut) {
        if self.after_cr && self.normalize {
            // A trailing bare CR becomes CRLF.
            out.extend_from_slice(b"\n.\r\n");
        } else if self.ends_with_crlf && !self.after_cr {
            out.extend_from_slice(b".\r\n");
        } else {
            out.extend_from_slice(b"\r\n.\r\n");
        }
        let normalize = self.normalize;
        *self = DotEncoder::new();
        self.normalize = normalize;
    }
}

#[cfg(all(test, feature = "tokio"))]
mod tokio_tests {
    use super::*;
    use tokio_util::codec::Decoder;

    #[test]
    fn decoder_trait_yields_events_and_refuses_a_truncated_body() {
        let mut decoder = DotDecoder::new(BareLineEnding::Reject, 100);
        let mut buf = BytesMut::from(&b"ab\r\n.\r\n"[..]);
        assert_eq!(
            decoder.decode(&mut buf).unwrap(),
            Some(DotEvent::Data(Bytes::from_static(b"ab\r\n")))
        );
        assert_eq!(
            decoder.decode_eof(&mut buf).unwrap(),
            Some(DotEvent::End(Ok(4)))
        );
        assert_eq!(decoder.decode_eof(&mut buf).unwrap(), None);

        let mut decoder = DotDecoder::new(BareLineEnding::Reject, 100);
        let mut buf = BytesMut::from(&b"ab\r\n."[..]);
        assert!(decoder.decode_eof(&mut buf).unwrap().is_some());
        let error = decoder.decode_eof(&mut buf).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof);
    }
}
