//! tokio-util codecs: [`ServerCodec`] for a server reading commands and writing responses,
//! [`ClientCodec`] for a client reading the greeting and responses and writing commands.
//!
//! Both frame with [`crate::framer`] under a [`FramerConfig`] and hand out owned
//! (`'static`) values. Whatever the peer sends, decoding goes on: a message that does not
//! parse, or that breaks a limit, is an item (with the tag when one was readable), not an
//! error of the stream, so a server answers `BAD` and reads the next command.
//!
//! ```
//! use bytes::BytesMut;
//! use imap_proto::codec::{ServerCodec, ServerItem};
//! use tokio_util::codec::Decoder;
//!
//! let mut codec = ServerCodec::default();
//! let mut buf = BytesMut::from(&b"a1 NOOP\r\na2 FROB\r\na3 LOGIN {4}\r\n"[..]);
//! assert!(matches!(codec.decode(&mut buf)?, Some(ServerItem::Command(c)) if c.tag.as_str() == "a1"));
//! let Some(ServerItem::Invalid(error)) = codec.decode(&mut buf)? else { panic!() };
//! assert_eq!(error.tag.map(|t| t.as_str().to_owned()).as_deref(), Some("a2"));
//! // A synchronising literal: the client waits for a continuation request.
//! let Some(ServerItem::Literal { header, tag }) = codec.decode(&mut buf)? else { panic!() };
//! assert_eq!((header.size, tag.as_ref().map(|t| t.as_str())), (4, Some("a3")));
//! codec.accept_literal(); // and send "+ Ready"
//! assert!(codec.decode(&mut buf)?.is_none());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;

use bytes::{Buf, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::command::{AuthenticateData, Command, CommandError, IdleDone};
use crate::core::Tag;
use crate::encode::{Chunk, Encode, EncodeOptions, Encoded, LiteralPlus, Writer};
use crate::error::ParseError;
use crate::framer::{FrameError, Framed, Framer, FramerConfig, LiteralHeader, tag_of};
use crate::parse::Quirks;
use crate::response::{Greeting, Response};

/// Take the next frame from `src`: `Ok(len)` when the last `len` octets of what the framer
/// consumed are a message (which is then at the front of `src`), the other outcomes as they
/// are. Discarded octets are removed from `src`.
fn next(framer: &mut Framer, src: &mut BytesMut) -> Option<Result<usize, Outcome>> {
    let mut input = &src[..];
    let before = input.len();
    let framed = framer.next_frame(&mut input);
    let consumed = before - input.len();
    let result = match framed {
        None => None,
        Some(Framed::Message(message)) => {
            let len = message.len();
            src.advance(consumed - len);
            return Some(Ok(len));
        }
        Some(Framed::Literal(header)) => {
            // The message stays at the start of what was not consumed; octets the framer
            // discarded in the same call (a refused message's rest) come before it.
            let rest = src.get(consumed..).unwrap_or(&[]);
            let tag = tag_of(rest).and_then(|t| Tag::new(t.to_owned()).ok());
            Some(Err(Outcome::Literal(header, tag)))
        }
        Some(Framed::Error(e)) => Some(Err(Outcome::Error(e))),
    };
    src.advance(consumed);
    result
}

enum Outcome {
    Literal(LiteralHeader, Option<Tag<'static>>),
    Error(FrameError),
}

/// What the server expects the client to send next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ServerInput {
    /// Commands (the default).
    #[default]
    Commands,
    /// Lines of an AUTHENTICATE exchange (after a `+` challenge).
    AuthenticateData,
    /// IDLE's `DONE`.
    IdleDone,
}

/// What [`ServerCodec`] decodes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerItem {
    /// A command (boxed: commands are large, the other items small).
    Command(Box<Command<'static>>),
    /// A message that is not a command: answer `tag BAD` (or `* BAD` without a tag).
    Invalid(CommandError<'static>),
    /// A literal header ends the command so far. Call [`ServerCodec::accept_literal`] and
    /// (for [`LiteralMode::Sync`](crate::core::LiteralMode::Sync)) send a continuation
    /// request, or [`ServerCodec::refuse_literal`] and answer `tag NO [TOOBIG]` or `tag BAD`.
    /// Decoding again without either accepts.
    Literal {
        /// The literal's size and kind.
        header: LiteralHeader,
        /// The command's tag, when readable.
        tag: Option<Tag<'static>>,
    },
    /// A line of an AUTHENTICATE exchange (in [`ServerInput::AuthenticateData`]).
    AuthenticateData(AuthenticateData<'static>),
    /// IDLE's `DONE` (in [`ServerInput::IdleDone`]).
    Done,
    /// A line that is not what [`ServerInput::AuthenticateData`] or
    /// [`ServerInput::IdleDone`] expects.
    InvalidLine(ParseError),
    /// A message that breaks a limit of the framer; its octets are discarded.
    TooLarge(FrameError),
}

/// Decodes commands (or AUTHENTICATE lines, or `DONE`) and encodes responses and greetings.
#[derive(Debug, Clone)]
pub struct ServerCodec {
    framer: Framer,
    quirks: Quirks,
    options: EncodeOptions,
    input: ServerInput,
}

impl Default for ServerCodec {
    fn default() -> Self {
        Self::new(FramerConfig::default())
    }
}

impl ServerCodec {
    /// A codec with the framer's limits, [`Quirks::STRICT`] and default encode options.
    pub fn new(config: FramerConfig) -> Self {
        Self {
            framer: Framer::server(config),
            quirks: Quirks::STRICT,
            options: EncodeOptions::default(),
            input: ServerInput::Commands,
        }
    }

    /// Parse commands with `quirks`.
    pub fn with_quirks(mut self, quirks: Quirks) -> Self {
        self.quirks = quirks;
        self
    }

    /// Encode responses with `options` (UTF8=ACCEPT or IMAP4rev2: UTF-8 in quoted strings).
    /// [`EncodeOptions::literal_plus`] is ignored: a server never writes a non-synchronising
    /// literal (RFC 9051 section 9, RFC 7888 section 4), so it stays [`LiteralPlus::None`].
    pub fn with_options(mut self, options: EncodeOptions) -> Self {
        self.options = options;
        self.options.literal_plus = LiteralPlus::None;
        self
    }

    /// What the next messages are parsed as, from now on. AUTHENTICATE lines and `DONE`
    /// carry no literals (RFC 3501 section 6.2.2, RFC 2177): outside
    /// [`ServerInput::Commands`] the framer reads lines only (see [`Framer::set_literals`]),
    /// so a line ending in `{n}` is an [`ServerItem::InvalidLine`], not a literal header.
    pub fn expect(&mut self, input: ServerInput) {
        self.input = input;
        self.framer.set_literals(input == ServerInput::Commands);
    }

    /// What the next messages are parsed as.
    pub fn expecting(&self) -> ServerInput {
        self.input
    }

    /// Take the literal reported by [`ServerItem::Literal`] (see [`Framer::accept_literal`]).
    pub fn accept_literal(&mut self) {
        self.framer.accept_literal();
    }

    /// Refuse the literal reported by [`ServerItem::Literal`] (see [`Framer::refuse_literal`]).
    pub fn refuse_literal(&mut self) {
        self.framer.refuse_literal();
    }

    /// The framer, to reset it (after STARTTLS) or to read its state.
    pub fn framer_mut(&mut self) -> &mut Framer {
        &mut self.framer
    }

    fn parse(&self, message: &[u8]) -> ServerItem {
        match self.input {
            ServerInput::Commands => match Command::parse_with(message, self.quirks) {
                Ok(command) => ServerItem::Command(Box::new(command.into_static())),
                Err(error) => ServerItem::Invalid(error.into_static()),
            },
            ServerInput::AuthenticateData => {
                match AuthenticateData::parse_with(message, self.quirks) {
                    Ok(data) => ServerItem::AuthenticateData(data.into_static()),
                    Err(error) => ServerItem::InvalidLine(error),
                }
            }
            ServerInput::IdleDone => match IdleDone::parse_with(message, self.quirks) {
                Ok(IdleDone) => ServerItem::Done,
                Err(error) => ServerItem::InvalidLine(error),
            },
        }
    }
}

impl Decoder for ServerCodec {
    type Item = ServerItem;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<ServerItem>> {
        Ok(match next(&mut self.framer, src) {
            None => None,
            Some(Ok(len)) => {
                let message = src.split_to(len);
                Some(self.parse(&message))
            }
            Some(Err(Outcome::Literal(header, tag))) => Some(ServerItem::Literal { header, tag }),
            Some(Err(Outcome::Error(e))) => Some(ServerItem::TooLarge(e)),
        })
    }
}

fn write(value: &impl Encode, options: EncodeOptions, dst: &mut BytesMut) {
    let mut w = Writer::new(options);
    value.encode(&mut w);
    dst.extend_from_slice(w.finish().as_bytes());
}

impl Encoder<&Response<'_>> for ServerCodec {
    type Error = io::Error;

    fn encode(&mut self, item: &Response<'_>, dst: &mut BytesMut) -> io::Result<()> {
        write(item, self.options, dst);
        Ok(())
    }
}

impl Encoder<&Greeting<'_>> for ServerCodec {
    type Error = io::Error;

    fn encode(&mut self, item: &Greeting<'_>, dst: &mut BytesMut) -> io::Result<()> {
        write(item, self.options, dst);
        Ok(())
    }
}

/// What [`ClientCodec`] decodes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientItem {
    /// The server's greeting (the first message).
    Greeting(Greeting<'static>),
    /// A response (boxed: responses are large, the other items small).
    Response(Box<Response<'static>>),
    /// A message that does not parse, with its octets.
    Invalid {
        /// Where and why.
        error: ParseError,
        /// The message.
        message: Bytes,
    },
    /// A message that breaks a limit of the framer; its octets are discarded.
    TooLarge(FrameError),
}

/// Decodes the greeting, then responses; encodes commands, AUTHENTICATE lines and `DONE`.
///
/// # Synchronising literals
///
/// After a synchronising literal's header (`{n}`) a client must wait for the server's
/// continuation request (RFC 3501 / RFC 9051 section 7.5): a server that refuses the literal
/// reads what follows as commands. `Encoder<&Command>` therefore writes a command only up to
/// its first synchronising literal header and keeps the rest. When the server's `+` arrives
/// ([`ClientItem::is_continuation`]), send the next piece with
/// [`ClientCodec::continue_literal`] (or `Encoder<ContinueLiteral>` through a `Framed`
/// sink); when the tagged `NO`/`BAD` for the command arrives instead, the codec drops the
/// rest by itself ([`ClientCodec::abandon_command`] drops it by hand). While a command waits,
/// encoding anything else is an [`io::ErrorKind::InvalidInput`] error. Literals the server
/// lets the client send at once (LITERAL+ or LITERAL-, see [`EncodeOptions::literal_plus`])
/// need no wait.
///
/// ```
/// use bytes::BytesMut;
/// use imap_proto::codec::{ClientCodec, ClientItem};
/// use imap_proto::command::Command;
/// use tokio_util::codec::{Decoder, Encoder};
///
/// let mut codec = ClientCodec::default();
/// let (mut from_server, mut to_server) = (BytesMut::new(), BytesMut::new());
/// from_server.extend_from_slice(b"* OK IMAP4rev2 ready\r\n");
/// assert!(matches!(codec.decode(&mut from_server)?, Some(ClientItem::Greeting(_))));
///
/// let login = Command::parse(b"a1 LOGIN {4}\r\nfred {6}\r\nsecret\r\n").unwrap();
/// codec.encode(&login, &mut to_server)?;
/// assert_eq!(&to_server[..], b"a1 LOGIN {4}\r\n");
/// assert!(codec.awaiting_continuation());
///
/// from_server.extend_from_slice(b"+ Ready\r\n");
/// let item = codec.decode(&mut from_server)?.unwrap();
/// assert!(item.is_continuation());
/// codec.continue_literal(&mut to_server)?;
/// assert_eq!(&to_server[..], b"a1 LOGIN {4}\r\nfred {6}\r\n");
///
/// // This time the server refuses: the password is never sent.
/// from_server.extend_from_slice(b"a1 NO [TOOBIG] too long\r\n");
/// assert!(matches!(codec.decode(&mut from_server)?, Some(ClientItem::Response(_))));
/// assert!(!codec.awaiting_continuation());
/// assert!(codec.continue_literal(&mut to_server).is_err());
/// assert_eq!(&to_server[..], b"a1 LOGIN {4}\r\nfred {6}\r\n");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClientCodec {
    framer: Framer,
    quirks: Quirks,
    options: EncodeOptions,
    greeted: bool,
    pending: Option<Pending>,
}

/// The rest of a command that waits for a continuation request.
#[derive(Debug, Clone)]
struct Pending {
    /// The command's tag: its tagged response ends the wait.
    tag: String,
    /// The whole encoding.
    encoded: Encoded,
    /// Octets of it already written.
    sent: usize,
}

impl Pending {
    /// Write the next piece (up to the next wait point, or the end) into `dst`; `true` when
    /// the command has been written whole.
    fn write_next(&mut self, dst: &mut BytesMut) -> bool {
        let bytes = self.encoded.as_bytes();
        let end = self
            .encoded
            .wait_points()
            .iter()
            .copied()
            .find(|&w| w > self.sent)
            .unwrap_or(bytes.len());
        dst.extend_from_slice(bytes.get(self.sent..end).unwrap_or(&[]));
        self.sent = end;
        end >= bytes.len()
    }
}

/// Send the next piece of the command that waits for a continuation request, through a sink:
/// `Encoder<ContinueLiteral>` does what [`ClientCodec::continue_literal`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ContinueLiteral;

fn waiting() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "a command waits for a continuation request: continue_literal or abandon_command first",
    )
}

impl ClientItem {
    /// Whether this is the server's continuation request (`+ ...`): after a command that
    /// waits ([`ClientCodec::awaiting_continuation`]) send its next piece with
    /// [`ClientCodec::continue_literal`].
    pub fn is_continuation(&self) -> bool {
        matches!(self, ClientItem::Response(r) if matches!(**r, Response::Continuation(_)))
    }
}

impl Default for ClientCodec {
    fn default() -> Self {
        Self::new(FramerConfig::default())
    }
}

impl ClientCodec {
    /// A codec with the framer's limits, [`Quirks::LENIENT`] and default encode options.
    pub fn new(config: FramerConfig) -> Self {
        Self {
            framer: Framer::client(config),
            quirks: Quirks::LENIENT,
            options: EncodeOptions::default(),
            greeted: false,
            pending: None,
        }
    }

    /// Whether a command written by `Encoder<&Command>` waits for the server's continuation
    /// request before the data of a synchronising literal.
    pub fn awaiting_continuation(&self) -> bool {
        self.pending.is_some()
    }

    /// After the server's continuation request: write the next piece of the waiting command
    /// (a literal's data and what follows, up to the next synchronising literal header or the
    /// end) into `dst`. An [`io::ErrorKind::InvalidInput`] error when no command waits.
    pub fn continue_literal(&mut self, dst: &mut BytesMut) -> io::Result<()> {
        let pending = self.pending.as_mut().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "no command waits for a continuation request",
            )
        })?;
        if pending.write_next(dst) {
            self.pending = None;
        }
        Ok(())
    }

    /// Drop the rest of the waiting command (the server refused its literal); `true` when a
    /// command was waiting. Decoding the command's tagged response does this by itself.
    pub fn abandon_command(&mut self) -> bool {
        self.pending.take().is_some()
    }

    fn ensure_idle(&self) -> io::Result<()> {
        match self.pending {
            Some(_) => Err(waiting()),
            None => Ok(()),
        }
    }

    /// Parse the greeting and responses with `quirks`.
    pub fn with_quirks(mut self, quirks: Quirks) -> Self {
        self.quirks = quirks;
        self
    }

    /// Encode commands with `options` (LITERAL+, UTF8=ACCEPT).
    pub fn with_options(mut self, options: EncodeOptions) -> Self {
        self.options = options;
        self
    }

    /// Change the encode options, as after ENABLE or a CAPABILITY response.
    pub fn set_options(&mut self, options: EncodeOptions) {
        self.options = options;
    }

    /// Whether the greeting has been decoded.
    pub fn greeted(&self) -> bool {
        self.greeted
    }

    /// The framer, to reset it (after STARTTLS) or to read its state.
    pub fn framer_mut(&mut self) -> &mut Framer {
        &mut self.framer
    }
}

impl Decoder for ClientCodec {
    type Item = ClientItem;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<ClientItem>> {
        Ok(match next(&mut self.framer, src) {
            None => None,
            Some(Ok(len)) => {
                let message = src.split_to(len).freeze();
                let parsed = if self.greeted {
                    Response::parse_with(&message, self.quirks).map(|r| {
                        if let (Response::Status(status), Some(pending)) = (&r, &self.pending) {
                            if status.tag().is_some_and(|t| t.as_str() == pending.tag) {
                                // The command ended (refused) before its literal's data.
                                self.pending = None;
                            }
                        }
                        ClientItem::Response(Box::new(r.into_static()))
                    })
                } else {
                    Greeting::parse_with(&message, self.quirks)
                        .map(|g| ClientItem::Greeting(g.into_static()))
                };
                self.greeted = true;
                Some(parsed.unwrap_or_else(|error| ClientItem::Invalid { error, message }))
            }
            // A client-side framer reports no literals.
            Some(Err(Outcome::Literal(..))) => None,
            Some(Err(Outcome::Error(e))) => Some(ClientItem::TooLarge(e)),
        })
    }
}

impl Encoder<&Command<'_>> for ClientCodec {
    type Error = io::Error;

    /// Writes the command up to its first synchronising literal header, if any, and keeps
    /// the rest for [`ClientCodec::continue_literal`] (see [`ClientCodec`]).
    fn encode(&mut self, item: &Command<'_>, dst: &mut BytesMut) -> io::Result<()> {
        self.ensure_idle()?;
        let mut w = Writer::new(self.options);
        item.encode(&mut w);
        let mut pending = Pending {
            tag: item.tag.as_str().to_owned(),
            encoded: w.finish(),
            sent: 0,
        };
        if !pending.write_next(dst) {
            self.pending = Some(pending);
        }
        Ok(())
    }
}

impl Encoder<ContinueLiteral> for ClientCodec {
    type Error = io::Error;

    fn encode(&mut self, _: ContinueLiteral, dst: &mut BytesMut) -> io::Result<()> {
        self.continue_literal(dst)
    }
}

impl Encoder<Chunk<'_>> for ClientCodec {
    type Error = io::Error;

    fn encode(&mut self, item: Chunk<'_>, dst: &mut BytesMut) -> io::Result<()> {
        self.ensure_idle()?;
        dst.extend_from_slice(item.bytes);
        Ok(())
    }
}

impl Encoder<&AuthenticateData<'_>> for ClientCodec {
    type Error = io::Error;

    fn encode(&mut self, item: &AuthenticateData<'_>, dst: &mut BytesMut) -> io::Result<()> {
        self.ensure_idle()?;
        write(item, self.options, dst);
        Ok(())
    }
}

impl Encoder<IdleDone> for ClientCodec {
    type Error = io::Error;

    fn encode(&mut self, item: IdleDone, dst: &mut BytesMut) -> io::Result<()> {
        self.ensure_idle()?;
        write(&item, self.options, dst);
        Ok(())
    }
}
