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
use crate::encode::{Chunk, Encode, EncodeOptions, Writer};
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
    pub fn with_options(mut self, options: EncodeOptions) -> Self {
        self.options = options;
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
/// Waiting for continuation requests is the session's business: `Encoder<&Command>` writes a
/// whole command, the data of synchronising literals included, which is right only when there
/// are none or the server announced LITERAL+ (encode with [`EncodeOptions::literal_plus`]).
/// Otherwise encode the command with [`Writer`], send [`Encoded::chunks`](crate::Encoded::chunks)
/// one at a time through `Encoder<Chunk>`, and after each chunk with
/// `wait_for_continuation` wait for a [`Response::Continuation`] (or the tagged answer that
/// refuses the literal) before sending the next.
#[derive(Debug, Clone)]
pub struct ClientCodec {
    framer: Framer,
    quirks: Quirks,
    options: EncodeOptions,
    greeted: bool,
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
                    Response::parse_with(&message, self.quirks)
                        .map(|r| ClientItem::Response(Box::new(r.into_static())))
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

    fn encode(&mut self, item: &Command<'_>, dst: &mut BytesMut) -> io::Result<()> {
        write(item, self.options, dst);
        Ok(())
    }
}

impl Encoder<Chunk<'_>> for ClientCodec {
    type Error = io::Error;

    fn encode(&mut self, item: Chunk<'_>, dst: &mut BytesMut) -> io::Result<()> {
        dst.extend_from_slice(item.bytes);
        Ok(())
    }
}

impl Encoder<&AuthenticateData<'_>> for ClientCodec {
    type Error = io::Error;

    fn encode(&mut self, item: &AuthenticateData<'_>, dst: &mut BytesMut) -> io::Result<()> {
        write(item, self.options, dst);
        Ok(())
    }
}

impl Encoder<IdleDone> for ClientCodec {
    type Error = io::Error;

    fn encode(&mut self, item: IdleDone, dst: &mut BytesMut) -> io::Result<()> {
        write(&item, self.options, dst);
        Ok(())
    }
}
