//! Splitting received bytes into complete IMAP messages, under limits, before parsing.
//!
//! An IMAP message is a line ending in CRLF; a line that ends with a literal header (`{n}`,
//! `{n+}`, `~{n}`, `~{n+}`, RFC 3501 section 4.3, RFC 7888, RFC 3516) is followed by `n`
//! octets of data, after which the message continues with the rest of its line. A [`Framer`]
//! finds where each message ends in a buffer that the caller owns and fills; the parsers
//! (`Command::parse`, `Response::parse`, ...) then take one whole message each.
//!
//! # How it is driven
//!
//! [`Framer::next_frame`] takes `&mut &[u8]`: the bytes received and not yet consumed. It
//! moves the slice past what it consumes (a whole message, or bytes it discards) and leaves
//! the start of an incomplete message in place; the caller keeps those bytes, appends what it
//! receives next, and calls again with all of them. The framer remembers how far it has
//! scanned, so each call costs time in proportion to the new bytes only.
//!
//! ```
//! use imap_proto::framer::{Framed, Framer, FramerConfig};
//!
//! let mut framer = Framer::client(FramerConfig::default());
//! let mut buffer: Vec<u8> = Vec::new();
//! let mut messages: Vec<Vec<u8>> = Vec::new();
//! // What the network delivers, in arbitrary pieces.
//! let reads: [&[u8]; 3] = [b"* 1 FETCH (BODY[] {5}\r\nhel", b"lo)\r\n* 2 EXI", b"STS\r\n"];
//! for read in reads {
//!     buffer.extend_from_slice(read);
//!     let mut input = &buffer[..];
//!     while let Some(framed) = framer.next_frame(&mut input) {
//!         match framed {
//!             // Parse it here: `Response::parse(message)`.
//!             Framed::Message(message) => messages.push(message.to_vec()),
//!             Framed::Error(error) => panic!("{error}"),
//!             Framed::Literal(_) => unreachable!("only a server-side framer asks"),
//!         }
//!     }
//!     let consumed = buffer.len() - input.len();
//!     buffer.drain(..consumed);
//! }
//! assert_eq!(messages, [&b"* 1 FETCH (BODY[] {5}\r\nhello)\r\n"[..], b"* 2 EXISTS\r\n"]);
//! ```
//!
//! # Server side: synchronising literals
//!
//! A client that sends a synchronising literal (`{n}`) stops after the header and waits for a
//! continuation request. A framer made with [`Framer::server`] therefore reports every literal
//! header, as [`Framed::Literal`], before it looks for the data. The session then either calls
//! [`Framer::accept_literal`] (and, for a synchronising literal, sends `+ ...`), or
//! [`Framer::refuse_literal`] (and answers `tag NO [TOOBIG] ...` or `tag BAD ...`). After a
//! refused synchronising literal the client sends no data: the next bytes are the next
//! command. After a refused non-synchronising literal (RFC 7888 section 4) the data comes all
//! the same: the framer skips it, and the rest of the message, without ever returning it as a
//! message, so that literal data cannot be smuggled in as commands.
//!
//! ```
//! use imap_proto::core::LiteralMode;
//! use imap_proto::framer::{tag_of, Framed, Framer, FramerConfig};
//!
//! let mut framer = Framer::server(FramerConfig::default());
//! let mut answers: Vec<String> = Vec::new();
//! let mut commands: Vec<Vec<u8>> = Vec::new();
//! let mut buffer: Vec<u8> = Vec::new();
//! let reads: [&[u8]; 3] = [
//!     b"a1 LOGIN {4}\r\n",
//!     b"fred {6}\r\nsecret\r\n",
//!     b"a2 APPEND INBOX {9999+}\r\na3 NOOP\r\n",
//! ];
//! for read in reads {
//!     buffer.extend_from_slice(read);
//!     let mut input = &buffer[..];
//!     while let Some(framed) = framer.next_frame(&mut input) {
//!         match framed {
//!             Framed::Message(command) => commands.push(command.to_vec()),
//!             Framed::Literal(header) if header.size <= 100 => {
//!                 framer.accept_literal();
//!                 if header.mode == LiteralMode::Sync {
//!                     answers.push("+ go ahead".into());
//!                 }
//!             }
//!             Framed::Literal(_) => {
//!                 let tag = tag_of(input).unwrap_or("*").to_string();
//!                 framer.refuse_literal();
//!                 answers.push(format!("{tag} NO [TOOBIG] too large"));
//!             }
//!             Framed::Error(error) => {
//!                 answers.push(format!("{} BAD {error}", error.tag().unwrap_or("*")));
//!             }
//!         }
//!     }
//!     let consumed = buffer.len() - input.len();
//!     buffer.drain(..consumed);
//! }
//! assert_eq!(commands, [&b"a1 LOGIN {4}\r\nfred {6}\r\nsecret\r\n"[..]]);
//! assert_eq!(answers, ["+ go ahead", "+ go ahead", "a2 NO [TOOBIG] too large"]);
//! // The refused literal's 9999 octets are awaited and skipped: "a3 NOOP\r\n" was among them.
//! assert!(framer.is_discarding());
//! ```
//!
//! # Limits
//!
//! Memory stays bounded whatever the peer sends: an incomplete message never needs more than
//! [`FramerConfig::max_message`] octets, an incomplete line never more than
//! [`FramerConfig::max_line`]. A line over the limit is reported once ([`FrameError`], with
//! the message's tag when its start holds one, so that a server can answer `tag BAD`) and then
//! discarded as it arrives, up to its CRLF, together with the rest of its message: literal
//! data it announces is skipped too, except after a synchronising literal header on the server
//! side (the client waits for a continuation request that never comes, and reads the `BAD`).
//!
//! A message may chain many lines through literals (even `{0}` ones), and a parsed value
//! costs tens of times its input, so one message is also bounded in literals
//! ([`FramerConfig::max_literals`], default 1000) and in the sum of its lines
//! ([`FramerConfig::max_lines_total`], default 256 KiB); breaking either is reported and
//! discarded in the same way, with the tag.

use std::fmt;

use crate::core::LiteralMode;
use crate::parse::is_tag_char;

/// Default [`FramerConfig::max_line`]: 64 KiB, Dovecot's `imap_max_line_length`.
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;
/// Default [`FramerConfig::max_literal`]: 64 MiB.
pub const DEFAULT_MAX_LITERAL: u64 = 64 * 1024 * 1024;
/// Default [`FramerConfig::max_message`]: 65 MiB, one literal of the default maximum and its
/// lines.
pub const DEFAULT_MAX_MESSAGE: usize = 65 * 1024 * 1024;
/// Default [`FramerConfig::max_literals`]: 1000 literal headers in one message (a MULTIAPPEND
/// of 1000 messages; Dovecot has no such bound).
pub const DEFAULT_MAX_LITERALS: usize = 1000;
/// Default [`FramerConfig::max_lines_total`]: 256 KiB, four lines of the default maximum.
pub const DEFAULT_MAX_LINES_TOTAL: usize = 4 * DEFAULT_MAX_LINE;

/// The limits a [`Framer`] enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FramerConfig {
    /// Longest line, in octets, CRLF included. A line is what lies between the start of a
    /// message or the end of a literal's data and the next LF.
    pub max_line: usize,
    /// Largest literal, in octets (the `n` of `{n}`).
    pub max_literal: u64,
    /// Largest message, in octets: every line and every literal's data of one message.
    pub max_message: usize,
    /// Most literal headers in one message. Each literal, even `{0}`, may start a new line of
    /// up to [`FramerConfig::max_line`] octets, and a parsed value costs tens of times its
    /// input, so this and [`FramerConfig::max_lines_total`] bound what one message costs to
    /// parse.
    pub max_literals: usize,
    /// Largest sum of the lengths of one message's lines (its octets outside literal data,
    /// CRLFs included).
    pub max_lines_total: usize,
}

impl Default for FramerConfig {
    fn default() -> Self {
        Self {
            max_line: DEFAULT_MAX_LINE,
            max_literal: DEFAULT_MAX_LITERAL,
            max_message: DEFAULT_MAX_MESSAGE,
            max_literals: DEFAULT_MAX_LITERALS,
            max_lines_total: DEFAULT_MAX_LINES_TOTAL,
        }
    }
}

/// A literal header that ends a line of the message being framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LiteralHeader {
    /// Octets of data announced.
    pub size: u64,
    /// `{n}` (the client waits for a continuation request) or `{n+}` (the data follows).
    pub mode: LiteralMode,
    /// `~{n}`: a `literal8` (RFC 3516), whose data may hold NUL.
    pub binary: bool,
    /// Offset from the start of the message where the data begins (after the header's CRLF).
    pub data_offset: usize,
}

/// What [`Framer::next_frame`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framed<'b> {
    /// One complete message, lines and literal data, ending with its final CRLF (or LF: the
    /// parser refuses a bare LF). It has been removed from the input.
    Message(&'b [u8]),
    /// Server side only: the message so far (still at the start of the input) ends with a
    /// literal header. Call [`Framer::accept_literal`] or [`Framer::refuse_literal`] before
    /// calling [`Framer::next_frame`] again; calling it without either accepts.
    Literal(LiteralHeader),
    /// The message at the start of the input breaks a limit. Its bytes so far have been
    /// removed from the input, and the rest of it is discarded as it arrives.
    Error(FrameError),
}

/// Which limit a message broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FrameErrorKind {
    /// A line is longer than [`FramerConfig::max_line`].
    LineTooLong {
        /// The limit.
        limit: usize,
    },
    /// A literal is larger than [`FramerConfig::max_literal`].
    LiteralTooLarge {
        /// The size announced.
        size: u64,
        /// The limit.
        limit: u64,
        /// How the literal was announced; a client that sent `{n}` sends no data.
        mode: LiteralMode,
    },
    /// The message is larger than [`FramerConfig::max_message`].
    MessageTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The message has more literals than [`FramerConfig::max_literals`].
    TooManyLiterals {
        /// The limit.
        limit: usize,
    },
    /// The message's lines add up to more than [`FramerConfig::max_lines_total`] octets.
    LinesTooLong {
        /// The limit.
        limit: usize,
    },
    /// A literal header's length does not fit 64 bits. After a non-synchronising one the
    /// framer discards everything that follows: close the connection.
    LiteralLengthOverflow,
}

/// A message refused by the framer: which limit it broke and, when the start of the message
/// holds one, its tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    kind: FrameErrorKind,
    tag: Option<String>,
}

impl FrameError {
    /// The limit broken.
    pub fn kind(&self) -> FrameErrorKind {
        self.kind
    }

    /// The tag of the refused message (1*tag-char followed by SP at its start), if any: a
    /// server answers `tag BAD ...`, or `* BAD ...` without one.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            FrameErrorKind::LineTooLong { limit } => {
                write!(f, "line longer than {limit} octets")
            }
            FrameErrorKind::LiteralTooLarge { size, limit, .. } => {
                write!(f, "literal of {size} octets, larger than {limit}")
            }
            FrameErrorKind::MessageTooLarge { limit } => {
                write!(f, "message larger than {limit} octets")
            }
            FrameErrorKind::TooManyLiterals { limit } => {
                write!(f, "more than {limit} literals in one message")
            }
            FrameErrorKind::LinesTooLong { limit } => {
                write!(f, "lines of one message longer than {limit} octets in all")
            }
            FrameErrorKind::LiteralLengthOverflow => f.write_str("literal length overflows"),
        }
    }
}

impl std::error::Error for FrameError {}

/// The tag at the start of `message`: one or more tag-chars followed by SP. `None` for an
/// untagged (`*`) or continuation (`+`) line and for anything else.
pub fn tag_of(message: &[u8]) -> Option<&str> {
    let len = message.iter().position(|&b| !is_tag_char(b))?;
    if len == 0 || message.get(len) != Some(&b' ') {
        return None;
    }
    // Tag characters are 7-bit.
    std::str::from_utf8(message.get(..len)?).ok()
}

/// Which peer's messages a framer splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Commands from a client: literal headers are reported for the server to accept or
    /// refuse.
    Server,
    /// Responses from a server: literal data always follows its header.
    Client,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Looking for the end of the line that starts at `line_start` (offsets from the start
    /// of the message, which is the start of the input); bytes before `scanned` hold no LF.
    /// `line_start` beyond the input: literal data is still awaited.
    Scan { line_start: usize, scanned: usize },
    /// A literal header was reported; the session's decision is awaited.
    Decide { header: LiteralHeader },
    /// The session refused a literal: the message up to `header_end` is to be dropped.
    Refused {
        header_end: usize,
        size: u64,
        mode: LiteralMode,
    },
    /// Dropping the rest of a refused message: `skip` octets of literal data, then lines.
    Discard { skip: u64, tail: Tail },
}

const START: State = State::Scan {
    line_start: 0,
    scanned: 0,
};

/// Recognises a literal header just before CRLF in a line that is discarded as it arrives
/// (so is not in the buffer as a whole), in constant memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Tail {
    #[default]
    Other,
    /// After `{` and `value`'s digits (`any`: at least one).
    Digits { value: u64, any: bool },
    /// After `{n+`.
    Plus { value: u64 },
    /// After `}`.
    Close { value: u64, plus: bool },
    /// After `}\r`.
    CloseCr { value: u64, plus: bool },
}

impl Tail {
    /// Feed one byte; on the LF that ends a header line, the header (size saturated at
    /// `u64::MAX`, and whether it had `+`).
    fn push(&mut self, b: u8) -> Option<(u64, bool)> {
        let mut found = None;
        *self = match (*self, b) {
            (_, b'{') => Tail::Digits {
                value: 0,
                any: false,
            },
            (Tail::Digits { value, .. }, b'0'..=b'9') => Tail::Digits {
                value: value.saturating_mul(10).saturating_add(u64::from(b - b'0')),
                any: true,
            },
            (Tail::Digits { value, any: true }, b'+') => Tail::Plus { value },
            (Tail::Digits { value, any: true }, b'}') => Tail::Close { value, plus: false },
            (Tail::Plus { value }, b'}') => Tail::Close { value, plus: true },
            (Tail::Close { value, plus }, b'\r') => Tail::CloseCr { value, plus },
            (Tail::CloseCr { value, plus }, b'\n') => {
                found = Some((value, plus));
                Tail::Other
            }
            _ => Tail::Other,
        };
        found
    }
}

/// A literal header at the end of `line` (which ends with LF): `Some(Ok((size, mode,
/// binary)))`, `Some(Err(mode))` when the length overflows, `None` when the line does not
/// end with `{digits}` or `{digits+}` followed by CRLF.
fn header_at_end(line: &[u8]) -> Option<Result<(u64, LiteralMode, bool), LiteralMode>> {
    let body = line.strip_suffix(b"}\r\n")?;
    let (body, mode) = match body.strip_suffix(b"+") {
        Some(body) => (body, LiteralMode::NonSync),
        None => (body, LiteralMode::Sync),
    };
    let digits = body.len() - body.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    let (before, digits) = body.split_at(digits);
    let before = before.strip_suffix(b"{")?;
    if digits.is_empty() {
        return None;
    }
    let binary = before.ends_with(b"~");
    let mut size: u64 = 0;
    for &d in digits {
        size = match size
            .checked_mul(10)
            .and_then(|s| s.checked_add(u64::from(d - b'0')))
        {
            Some(size) => size,
            None => return Some(Err(mode)),
        };
    }
    Some(Ok((size, mode, binary)))
}

/// Splits a peer's byte stream into complete messages; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Framer {
    config: FramerConfig,
    side: Side,
    state: State,
    /// Whether a line may end with a literal header (see [`Framer::set_literals`]).
    literals: bool,
    /// Literal headers in the message being framed, up to its current line.
    message_literals: usize,
    /// Octets of the message's lines before its current line.
    message_lines: usize,
}

impl Framer {
    /// A framer for commands (the server's side of the connection).
    pub fn server(config: FramerConfig) -> Self {
        Self::new(config, Side::Server)
    }

    /// A framer for greetings and responses (the client's side of the connection).
    pub fn client(config: FramerConfig) -> Self {
        Self::new(config, Side::Client)
    }

    /// A framer for `side`.
    pub fn new(config: FramerConfig, side: Side) -> Self {
        Self {
            config,
            side,
            state: START,
            literals: true,
            message_literals: 0,
            message_lines: 0,
        }
    }

    /// Whether lines may end with literal headers (the default) or the peer sends plain
    /// lines only, as AUTHENTICATE data (`base64 CRLF`, RFC 3501 section 6.2.2) and IDLE's
    /// `DONE CRLF` (RFC 2177): with `false`, `{n}` before CRLF is text and every line is a
    /// message. Call it between messages (after one was framed, before the next arrives).
    pub fn set_literals(&mut self, literals: bool) {
        self.literals = literals;
    }

    /// Whether lines may end with literal headers (see [`Framer::set_literals`]).
    pub fn literals(&self) -> bool {
        self.literals
    }

    /// The literal header at the end of `line`, unless in line-only mode.
    fn header(&self, line: &[u8]) -> Option<Result<(u64, LiteralMode, bool), LiteralMode>> {
        if self.literals {
            header_at_end(line)
        } else {
            None
        }
    }

    /// The limits in force.
    pub fn config(&self) -> FramerConfig {
        self.config
    }

    /// The side this framer is on.
    pub fn side(&self) -> Side {
        self.side
    }

    /// Forget any partial message, as after STARTTLS (the caller drops its buffer too).
    pub fn reset(&mut self) {
        self.state = START;
    }

    /// The literal reported by the last [`Framed::Literal`], while no decision is made.
    pub fn pending_literal(&self) -> Option<LiteralHeader> {
        match self.state {
            State::Decide { header } => Some(header),
            _ => None,
        }
    }

    /// Whether the framer is dropping the rest of a refused message (its literal data or its
    /// lines) as it arrives.
    pub fn is_discarding(&self) -> bool {
        matches!(self.state, State::Discard { .. })
    }

    /// Take the literal reported by [`Framed::Literal`]: the framer waits for its data. For a
    /// synchronising literal the server must now send a continuation request. Does nothing
    /// when no literal is pending.
    pub fn accept_literal(&mut self) {
        if let State::Decide { header } = self.state {
            let end = header.data_offset.saturating_add(header.size as usize);
            self.state = State::Scan {
                line_start: end,
                scanned: end,
            };
        }
    }

    /// Refuse the literal reported by [`Framed::Literal`] (the server answers `NO`/`BAD`).
    /// The next [`Framer::next_frame`] drops the message so far; after a non-synchronising
    /// literal it then skips the data and the rest of the message as they arrive. Does
    /// nothing when no literal is pending.
    pub fn refuse_literal(&mut self) {
        if let State::Decide { header } = self.state {
            self.state = State::Refused {
                header_end: header.data_offset,
                size: header.size,
                mode: header.mode,
            };
        }
    }

    /// The next message, literal header or error at the start of `input` (the bytes received
    /// and not yet consumed), moving `input` past what was consumed. `None` when more bytes
    /// are needed: keep the rest of `input`, append to it, and call again.
    #[inline]
    pub fn next_frame<'b>(&mut self, input: &mut &'b [u8]) -> Option<Framed<'b>> {
        if matches!(
            self.state,
            State::Scan {
                line_start: 0,
                scanned: 0
            }
        ) {
            return self.message_start(input);
        }
        self.next_frame_within(input)
    }

    /// [`Framer::next_frame`] within a message, or after a literal or a refusal.
    #[inline(never)]
    fn next_frame_within<'b>(&mut self, input: &mut &'b [u8]) -> Option<Framed<'b>> {
        loop {
            match self.state {
                State::Scan {
                    line_start,
                    scanned,
                } => return self.scan(input, line_start, scanned),
                State::Decide { .. } => self.accept_literal(),
                State::Refused {
                    header_end,
                    size,
                    mode,
                } => {
                    consume(input, header_end);
                    self.after_refusal(size, mode);
                }
                State::Discard { skip, tail } => {
                    if !self.discard(input, skip, tail) {
                        return None;
                    }
                }
            }
        }
    }

    /// At the start of a message: the common case, a message of one line that ends within
    /// every limit and without a literal header, is cut off here; anything else goes on to
    /// [`Framer::scan`], told how far the search for LF went.
    #[inline]
    fn message_start<'b>(&mut self, input: &mut &'b [u8]) -> Option<Framed<'b>> {
        // With nothing of the message counted yet, a line whose LF is at an offset below
        // each limit crosses none of them (see `crossed`).
        let limit = self
            .config
            .max_line
            .min(self.config.max_lines_total)
            .min(self.config.max_message)
            .max(1);
        let window = input.get(..limit).unwrap_or(input);
        match find_lf_near(window) {
            Some(lf) => self.cut_line(input, lf),
            None if window.len() > NEAR => self.message_start_far(input, window.len()),
            None => self.scan(input, 0, window.len()),
        }
    }

    /// [`Framer::message_start`] for a line with no LF in its first [`NEAR`] octets, out of
    /// line (so that the short lines' path saves no registers for the calls made here):
    /// `memchr` searches the rest of the window of `window_len` octets.
    #[inline(never)]
    fn message_start_far<'b>(
        &mut self,
        input: &mut &'b [u8],
        window_len: usize,
    ) -> Option<Framed<'b>> {
        let rest = input.get(NEAR..window_len).unwrap_or(&[]);
        match memchr::memchr(b'\n', rest) {
            Some(i) => self.cut_line(input, NEAR + i),
            None => self.scan(input, 0, window_len),
        }
    }

    /// The message is the line of `input` that ends with the LF at `lf` (within every limit),
    /// unless it ends with a literal header, which [`Framer::scan`] handles.
    #[inline(always)]
    fn cut_line<'b>(&mut self, input: &mut &'b [u8], lf: usize) -> Option<Framed<'b>> {
        match input.split_at_checked(lf + 1) {
            Some((line, _)) if self.literals && line.ends_with(b"}\r\n") => self.scan(input, 0, lf),
            Some((message, rest)) => {
                *input = rest;
                self.message_literals = 0;
                self.message_lines = 0;
                Some(Framed::Message(message))
            }
            // not reached: the LF is in the input
            None => self.scan(input, 0, lf),
        }
    }

    /// The state after a refused literal: a client that sent `{n}` to a server waits, so the
    /// message is over; otherwise the data follows and is skipped, then the message's rest.
    fn after_refusal(&mut self, size: u64, mode: LiteralMode) {
        self.state = if self.side == Side::Server && mode == LiteralMode::Sync {
            START
        } else {
            State::Discard {
                skip: size,
                tail: Tail::Other,
            }
        };
    }

    /// Drop bytes of a refused message; `true` once it has ended (the framer is back at the
    /// start of a message), `false` when the input is used up first.
    fn discard(&mut self, input: &mut &[u8], mut skip: u64, mut tail: Tail) -> bool {
        loop {
            if skip > 0 {
                let n = usize::try_from(skip).unwrap_or(usize::MAX).min(input.len());
                consume(input, n);
                skip -= n as u64;
                if skip > 0 {
                    self.state = State::Discard { skip, tail };
                    return false;
                }
            }
            let Some(lf) = memchr::memchr(b'\n', input) else {
                for &b in input.iter() {
                    tail.push(b);
                }
                consume(input, input.len());
                self.state = State::Discard { skip: 0, tail };
                return false;
            };
            let mut header = None;
            for &b in input.get(..=lf).unwrap_or(&[]) {
                header = tail.push(b);
            }
            consume(input, lf + 1);
            tail = Tail::Other;
            match header {
                Some((size, plus)) if self.literals && (plus || self.side == Side::Client) => {
                    skip = size
                }
                _ => {
                    self.state = START;
                    return true;
                }
            }
        }
    }

    /// Report `kind` for the message at the start of `input` (with the tag found in its
    /// first `seen` octets, the same whatever the chunking), drop its first `consumed`
    /// octets, and go on as `then` says.
    fn fail<'b>(
        &mut self,
        input: &mut &'b [u8],
        kind: FrameErrorKind,
        seen: usize,
        consumed: usize,
        then: State,
    ) -> Option<Framed<'b>> {
        let start = input.get(..seen).unwrap_or(input);
        let tag = tag_of(start).map(str::to_owned);
        consume(input, consumed);
        self.state = then;
        Some(Framed::Error(FrameError { kind, tag }))
    }

    /// The state after a refused line that ends at `end` of the input (`line` is that line):
    /// what its literal header, if any, makes of the rest of the message.
    fn after_bad_line(&self, line: &[u8]) -> State {
        match self.header(line) {
            None => START,
            Some(Ok((_, LiteralMode::Sync, _)) | Err(LiteralMode::Sync))
                if self.side == Side::Server =>
            {
                START
            }
            Some(Ok((size, _, _))) => State::Discard {
                skip: size,
                tail: Tail::Other,
            },
            Some(Err(_)) => State::Discard {
                skip: u64::MAX,
                tail: Tail::Other,
            },
        }
    }

    /// The limit a message breaks when `present` octets of it (from its start) are in hand
    /// and the line that starts at `line_start` has no LF among them: whichever limit such
    /// a stream crosses first (the line limit on a tie), so that the error does not depend
    /// on how the bytes were cut into reads.
    /// Also where it is crossed: the tag is read from the octets before that point only.
    /// The sum of the message's lines is checked the same way: the current line may hold
    /// `max_lines_total` less the earlier lines' octets.
    fn crossed(&self, line_start: usize, present: usize) -> Option<(FrameErrorKind, usize)> {
        let max_line = self.config.max_line.max(1);
        let max_message = self.config.max_message.max(1);
        let max_lines = self.config.max_lines_total.max(1);
        let room = max_lines.saturating_sub(self.message_lines);
        // In order of precedence on a tie.
        let limits = [
            (
                line_start.saturating_add(max_line),
                FrameErrorKind::LineTooLong { limit: max_line },
            ),
            (
                line_start.saturating_add(room),
                FrameErrorKind::LinesTooLong { limit: max_lines },
            ),
            (
                max_message,
                FrameErrorKind::MessageTooLarge { limit: max_message },
            ),
        ];
        let mut first: Option<(FrameErrorKind, usize)> = None;
        for (at, kind) in limits {
            if present >= at && first.is_none_or(|(_, earlier)| at < earlier) {
                first = Some((kind, at));
            }
        }
        first
    }

    fn scan<'b>(
        &mut self,
        input: &mut &'b [u8],
        mut line_start: usize,
        mut scanned: usize,
    ) -> Option<Framed<'b>> {
        let max_message = self.config.max_message.max(1);
        if line_start == 0 {
            // At the first line of a message: nothing of it counted yet.
            self.message_literals = 0;
            self.message_lines = 0;
        }
        loop {
            let Some(rest) = input.get(scanned..) else {
                // Literal data still awaited.
                self.state = State::Scan {
                    line_start,
                    scanned,
                };
                return None;
            };
            let Some(lf) = memchr::memchr(b'\n', rest) else {
                if let Some((kind, at)) = self.crossed(line_start, input.len()) {
                    let mut tail = Tail::Other;
                    for &b in input.get(line_start..).unwrap_or(&[]) {
                        tail.push(b);
                    }
                    let then = State::Discard { skip: 0, tail };
                    return self.fail(input, kind, at, input.len(), then);
                }
                self.state = State::Scan {
                    line_start,
                    scanned: input.len(),
                };
                return None;
            };
            let end = scanned + lf + 1;
            let line = input.get(line_start..end).unwrap_or(&[]);
            if let Some((kind, at)) = self.crossed(line_start, end - 1) {
                let then = self.after_bad_line(line);
                return self.fail(input, kind, at, end, then);
            }
            let (size, mode, binary) = match self.header(line) {
                None => {
                    let (message, rest) = input.split_at(end);
                    *input = rest;
                    self.state = START;
                    return Some(Framed::Message(message));
                }
                Some(Err(mode)) => {
                    let then = if self.side == Side::Server && mode == LiteralMode::Sync {
                        START
                    } else {
                        State::Discard {
                            skip: u64::MAX,
                            tail: Tail::Other,
                        }
                    };
                    let kind = FrameErrorKind::LiteralLengthOverflow;
                    return self.fail(input, kind, end, end, then);
                }
                Some(Ok(header)) => header,
            };
            self.message_lines = self.message_lines.saturating_add(line.len());
            self.message_literals += 1;
            if self.message_literals > self.config.max_literals {
                let then = if self.side == Side::Server && mode == LiteralMode::Sync {
                    START
                } else {
                    State::Discard {
                        skip: size,
                        tail: Tail::Other,
                    }
                };
                let kind = FrameErrorKind::TooManyLiterals {
                    limit: self.config.max_literals,
                };
                return self.fail(input, kind, end, end, then);
            }
            if size > self.config.max_literal {
                let then = if self.side == Side::Server && mode == LiteralMode::Sync {
                    START
                } else {
                    State::Discard {
                        skip: size,
                        tail: Tail::Other,
                    }
                };
                let kind = FrameErrorKind::LiteralTooLarge {
                    size,
                    limit: self.config.max_literal,
                    mode,
                };
                return self.fail(input, kind, end, end, then);
            }
            if (end as u64).saturating_add(size) > max_message as u64 {
                let then = if self.side == Side::Server && mode == LiteralMode::Sync {
                    START
                } else {
                    State::Discard {
                        skip: size,
                        tail: Tail::Other,
                    }
                };
                let kind = FrameErrorKind::MessageTooLarge { limit: max_message };
                return self.fail(input, kind, end, end, then);
            }
            // Fits in usize: at most max_message.
            let data_end = end + size as usize;
            if self.side == Side::Server {
                let header = LiteralHeader {
                    size,
                    mode,
                    binary,
                    data_offset: end,
                };
                self.state = State::Decide { header };
                return Some(Framed::Literal(header));
            }
            line_start = data_end;
            scanned = data_end;
        }
    }
}

/// How many octets at the start of a message [`find_lf_near`] searches for its LF (most
/// messages are lines shorter than this).
const NEAR: usize = 32;

/// The offset of the first LF in the first [`NEAR`] octets of `bytes` (in all of them when
/// there are fewer). They are searched eight at a time in a `u64`, the last few of a line
/// under 32 octets in the (overlapping) last eight, which costs less than setting up the
/// vector search `memchr` does (used beyond them).
#[inline]
fn find_lf_near(bytes: &[u8]) -> Option<usize> {
    let n = bytes.len();
    if n < 8 {
        return bytes.iter().position(|&b| b == b'\n');
    }
    let mut at = 0;
    while at < NEAR && at + 8 <= n {
        if let Some(i) = lf_in_word_at(bytes, at) {
            return Some(at + i);
        }
        at += 8;
    }
    if at == NEAR || at == n {
        return None;
    }
    // The last eight octets: those before `at` hold no LF, so one found is past them.
    lf_in_word_at(bytes, n - 8).map(|i| n - 8 + i)
}

/// The offset of the first LF in the eight octets of `bytes` from `at` (`None` when there
/// are fewer): the "has a zero byte" test on the word XOR LF, whose lowest flagged byte is
/// the first LF.
#[inline(always)]
fn lf_in_word_at(bytes: &[u8], at: usize) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let word = bytes.get(at..)?.first_chunk::<8>()?;
    let x = u64::from_le_bytes(*word) ^ (LO * u64::from(b'\n'));
    let found = x.wrapping_sub(LO) & !x & HI;
    (found != 0).then(|| (found.trailing_zeros() / 8) as usize)
}

/// Drop the first `n` octets of `input` (all of them if it is shorter).
fn consume(input: &mut &[u8], n: usize) {
    *input = input.get(n..).unwrap_or(&[]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_at_line_end() {
        assert_eq!(
            header_at_end(b"a {5}\r\n"),
            Some(Ok((5, LiteralMode::Sync, false)))
        );
        assert_eq!(
            header_at_end(b"a ~{12+}\r\n"),
            Some(Ok((12, LiteralMode::NonSync, true)))
        );
        assert_eq!(header_at_end(b"a {}\r\n"), None);
        assert_eq!(header_at_end(b"a {+}\r\n"), None);
        assert_eq!(header_at_end(b"a {5}\n"), None);
        assert_eq!(header_at_end(b"a {5} \r\n"), None);
        assert_eq!(header_at_end(b"a 5}\r\n"), None);
        assert_eq!(header_at_end(b"}\r\n"), None);
        assert_eq!(
            header_at_end(b"{18446744073709551615}\r\n"),
            Some(Ok((u64::MAX, LiteralMode::Sync, false)))
        );
        assert_eq!(
            header_at_end(b"{18446744073709551616+}\r\n"),
            Some(Err(LiteralMode::NonSync))
        );
    }

    #[test]
    fn tail_agrees_with_header_at_end() {
        for line in [
            &b"a {5}\r\n"[..],
            b"a ~{12+}\r\n",
            b"a {}\r\n",
            b"a {+}\r\n",
            b"a {5}\n",
            b"a {5}\r\r\n",
            b"{{7}\r\n",
            b"{0}\r\n",
            b"x{3+}}\r\n",
        ] {
            let mut tail = Tail::Other;
            let mut found = None;
            for &b in line {
                found = tail.push(b);
            }
            let expected = header_at_end(line).map(|h| match h {
                Ok((size, mode, _)) => (size, mode == LiteralMode::NonSync),
                Err(_) => unreachable!(),
            });
            assert_eq!(found, expected, "{:?}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn find_lf_near_finds_the_first_lf_in_the_first_32_octets() {
        let mut bytes = vec![b'a'; 80];
        assert_eq!(find_lf_near(&bytes), None);
        for at in 0..80 {
            bytes.fill(b'a');
            bytes[at] = b'\n';
            // every octet value beside it, 8-bit ones included
            bytes[(at + 1) % 80] = 0x8a;
            if at + 2 < 80 {
                bytes[at + 2] = b'\n';
            }
            for len in 0..=80 {
                let expected = bytes[..len.min(NEAR)].iter().position(|&b| b == b'\n');
                assert_eq!(
                    find_lf_near(&bytes[..len]),
                    expected,
                    "LF at {at}, length {len}"
                );
            }
        }
    }

    #[test]
    fn a_line_is_cut_at_its_first_lf_wherever_it_lies() {
        // before, at and after the 32 octets searched a word at a time, and past the window
        // of the line limit
        for len in [1, 7, 8, 9, 31, 32, 33, 40, 100, 5000] {
            let mut line = vec![b'x'; len - 1];
            line.push(b'\n');
            let mut stream = line.clone();
            stream.extend_from_slice(b"a1 NOOP\r\n");
            let mut rest = &stream[..];
            let mut framer = Framer::client(FramerConfig::default());
            assert_eq!(
                framer.next_frame(&mut rest),
                Some(Framed::Message(&line[..])),
                "{len}"
            );
            assert_eq!(
                framer.next_frame(&mut rest),
                Some(Framed::Message(&b"a1 NOOP\r\n"[..]))
            );
            assert_eq!(rest, b"");
        }
        let config = FramerConfig {
            max_line: 40,
            ..FramerConfig::default()
        };
        let long = [b'x'; 60];
        let mut rest = &long[..];
        let mut framer = Framer::client(config);
        assert!(matches!(
            framer.next_frame(&mut rest),
            Some(Framed::Error(_))
        ));
    }

    #[test]
    fn tags() {
        assert_eq!(tag_of(b"a1 NOOP\r\n"), Some("a1"));
        assert_eq!(tag_of(b"* OK\r\n"), None);
        assert_eq!(tag_of(b"+ go\r\n"), None);
        assert_eq!(tag_of(b"a1"), None);
        assert_eq!(tag_of(b"a+1 NOOP"), None);
        assert_eq!(tag_of(b""), None);
    }
}
