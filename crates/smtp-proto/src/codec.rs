//! tokio-util codecs: [`CommandCodec`] for a server reading commands and writing replies,
//! [`ReplyCodec`] for a client reading replies and writing commands.
//!
//! They frame and parse lines only. Message bodies are not lines: switch to
//! `mail_wire::dot::DotDecoder` (which implements `Decoder` with mail-wire's `tokio` feature)
//! after a `354`, or read BDAT chunks by length, with `Framed::map_codec`. The session drivers
//! in [`crate::tokio`] do all of that for you; use these codecs for proxies, filters and tests.
//!
//! ```
//! use bytes::BytesMut;
//! use smtp_proto::codec::{CommandCodec, LineError};
//! use smtp_proto::Command;
//! use tokio_util::codec::Decoder;
//!
//! let mut codec = CommandCodec::new(512);
//! let mut buf = BytesMut::from(&b"NOOP\r\nFOO bar\r\nQU"[..]);
//! assert_eq!(codec.decode(&mut buf)?, Some(Ok(Command::Noop(None))));
//! assert!(matches!(codec.decode(&mut buf)?, Some(Err(LineError::Command(_)))));
//! assert_eq!(codec.decode(&mut buf)?, None); // "QU" waits for its CRLF
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;

use bytes::BytesMut;
use mail_wire::line::{Frame, LineFramer};
use tokio_util::codec::{Decoder, Encoder};

use crate::command::{Command, ParseOptions};
use crate::error::CommandError;
use crate::reply::{Reply, ReplyParser};

/// A command line the server cannot use. The codec stays in step with the stream after any of
/// them, so the server answers and goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// The line does not parse; answer `500` or `501`.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The line passed the limit (reported once; the rest of it is skipped); answer
    /// `500 5.5.2 Line too long`.
    #[error("command line longer than {limit} octets")]
    TooLong {
        /// The limit, CRLF included.
        limit: usize,
    },
    /// The line ended in a bare LF (RFC 5321 section 2.3.8).
    #[error("command line ends in a bare LF")]
    BareLf,
}

/// Decodes command lines into owned [`Command`]s and encodes [`Reply`]s.
#[derive(Debug, Clone)]
pub struct CommandCodec {
    framer: LineFramer,
    options: ParseOptions,
}

impl CommandCodec {
    /// A codec for lines of at most `max_line_len` octets, CRLF included (RFC 5321 section
    /// 4.5.3.1.4 sets 512 as the minimum).
    pub fn new(max_line_len: usize) -> Self {
        CommandCodec {
            framer: LineFramer::new(max_line_len),
            options: ParseOptions::default(),
        }
    }

    /// Sets the parse options, such as UTF-8 acceptance once SMTPUTF8 is in effect.
    pub fn set_options(&mut self, options: ParseOptions) {
        self.options = options;
    }

    /// Changes the line limit (for example to 12288 octets while AUTH is possible, RFC 4954
    /// section 4).
    pub fn set_max_line_len(&mut self, max_line_len: usize) {
        self.framer.set_max_len(max_line_len);
    }
}

impl Decoder for CommandCodec {
    type Item = Result<Command<'static>, LineError>;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<Self::Item>> {
        Ok(self.framer.next_frame(src).map(|frame| match frame {
            Frame::Line(line) => Command::parse_with(&line, self.options)
                .map(Command::into_owned)
                .map_err(LineError::Command),
            Frame::TooLong { limit } => Err(LineError::TooLong { limit }),
            _ => Err(LineError::BareLf),
        }))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> io::Result<Option<Self::Item>> {
        match self.decode(src)? {
            Some(item) => Ok(Some(item)),
            None if src.is_empty() => Ok(None),
            None => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed in the middle of a command line",
            )),
        }
    }
}

impl Encoder<&Reply<'_>> for CommandCodec {
    type Error = io::Error;

    fn encode(&mut self, reply: &Reply<'_>, dst: &mut BytesMut) -> io::Result<()> {
        reply.encode(dst);
        Ok(())
    }
}

/// Decodes replies (single and multi-line) and encodes [`Command`]s.
///
/// A malformed reply, a line over the limit or a reply of too many lines is an
/// [`io::ErrorKind::InvalidData`] error wrapping the [`crate::ReplyError`]: a client cannot
/// tell where the next reply starts, so the session must end.
#[derive(Debug, Clone)]
pub struct ReplyCodec {
    framer: LineFramer,
    parser: ReplyParser,
}

impl ReplyCodec {
    /// A codec for reply lines of at most `max_line_len` octets (RFC 5321 section 4.5.3.1.5
    /// sets 512 as the minimum) and replies of at most `max_lines` lines.
    pub fn new(max_line_len: usize, max_lines: usize) -> Self {
        ReplyCodec {
            framer: LineFramer::new(max_line_len),
            parser: ReplyParser::new(max_lines),
        }
    }
}

impl Default for ReplyCodec {
    /// 512-octet lines, [`ReplyParser::DEFAULT_MAX_LINES`] lines.
    fn default() -> Self {
        ReplyCodec::new(512, ReplyParser::DEFAULT_MAX_LINES)
    }
}

impl Decoder for ReplyCodec {
    type Item = Reply<'static>;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<Reply<'static>>> {
        while let Some(frame) = self.framer.next_frame(src) {
            let line = match frame {
                Frame::Line(line) => line,
                Frame::TooLong { limit } => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("reply line longer than {limit} octets"),
                    ));
                }
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "reply line ends in a bare LF",
                    ));
                }
            };
            match self.parser.push_line(&line) {
                Ok(Some(reply)) => return Ok(Some(reply)),
                Ok(None) => {}
                Err(err) => return Err(io::Error::new(io::ErrorKind::InvalidData, err)),
            }
        }
        Ok(None)
    }
}

impl Encoder<&Command<'_>> for ReplyCodec {
    type Error = io::Error;

    fn encode(&mut self, command: &Command<'_>, dst: &mut BytesMut) -> io::Result<()> {
        command.encode(dst);
        Ok(())
    }
}
