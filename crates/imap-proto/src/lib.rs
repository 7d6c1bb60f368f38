//! Sans-IO IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051) codec: greetings, commands, responses,
//! AUTHENTICATE data and IDLE's `DONE`, parsed and encoded in both directions, with literals,
//! the common extensions, limits, and errors that say where and what was expected.
//!
//! This crate performs no I/O. Bytes from the network go through the [`framer`], which splits
//! them into complete messages (lines plus literals) under limits; each message parses into a
//! value that borrows from the input; values encode back into bytes through a
//! [`Writer`], which marks where a client must wait for a continuation request
//! before sending a synchronising literal. The session machines ([`server`], [`client`]) decide
//! what to answer and when to wait, on top of these.
//!
//! | module | contents |
//! |---|---|
//! | [`framer`] | `Framer`: received bytes to complete messages, line/literal/message limits, literal reports for a server to accept or refuse |
//! | [`command`] | `Command::parse` and every command of RFC 3501, RFC 9051 and the extensions; `AuthenticateData`, `IdleDone` |
//! | [`response`] | `Greeting::parse`, `Response::parse`: status responses with codes, untagged data, continuation requests; server quirks |
//! | [`fetch`] | FETCH data items: sections, partial ranges, ENVELOPE, BODYSTRUCTURE |
//! | [`core`] | tags, atoms, quoted strings, literals, `astring`, `nstring`, text, charsets |
//! | [`mailbox`] | mailbox names, modified UTF-7, LIST patterns |
//! | [`sequence`] | sequence sets with `*` and `$` |
//! | [`flag`] | flags, keywords, mailbox attributes |
//! | [`datetime`] | `date` and `date-time` |
//! | [`encode`] | `Encode`, `Writer`, `Encoded` with its wait points, `EncodeOptions` (LITERAL+, UTF-8) |
//! | [`error`] | `ParseError` (offset, expected rule, kind), `ValidationError` |
//! | [`list`] | `List`, short lists without a heap allocation |
//! | `codec` | tokio-util `Decoder`/`Encoder` for both sides (feature `tokio`) |
//! | [`server`] | the server session machine |
//! | [`client`] | the client session machine |
//! | [`view`] | the per-session view of the selected mailbox, changes queued until they may be sent |
//! | [`search`] | SEARCH evaluation over a trait, ESEARCH results |
//! | `message` | ENVELOPE, BODYSTRUCTURE, FETCH sections from raw messages (feature `mime`) |
//! | `tokio` | the session machines on the shared tokio driver (feature `tokio`) |
//!
//! # A server's driver loop
//!
//! Bytes in through the framer, parse, answer, encode:
//!
//! ```
//! use imap_proto::command::{Command, CommandBody};
//! use imap_proto::core::{LiteralMode, Tag, Text};
//! use imap_proto::framer::{Framed, Framer, FramerConfig};
//! use imap_proto::response::{
//!     Continuation, ContinuationText, Response, StatusKind, StatusResponse,
//! };
//! use imap_proto::Encode;
//!
//! fn status(tag: Option<&str>, kind: StatusKind, text: &str) -> Response<'static> {
//!     let text = Some(Text::new(text.to_owned()).unwrap());
//!     let status = match tag {
//!         Some(tag) => StatusResponse::tagged(Tag::new(tag.to_owned()).unwrap(), kind, None, text),
//!         None => StatusResponse::untagged(kind, None, text),
//!     };
//!     Response::Status(status.unwrap())
//! }
//!
//! let mut framer = Framer::server(FramerConfig::default());
//! let mut buffer: Vec<u8> = Vec::new();
//! let mut output: Vec<u8> = Vec::new();
//! // What the client sends, in the pieces the network delivers.
//! let reads: [&[u8]; 4] = [b"a1 NOOP\r\na2 LOGIN {4}\r\n", b"fred sec", b"ret\r\na3 FROB\r\n", b"a4 LOGOUT\r\n"];
//! for read in reads {
//!     buffer.extend_from_slice(read);
//!     let mut input = &buffer[..];
//!     while let Some(framed) = framer.next_frame(&mut input) {
//!         let answer = match framed {
//!             Framed::Message(message) => match Command::parse(message) {
//!                 Ok(command) => {
//!                     let tag = Some(command.tag.as_str());
//!                     match command.body {
//!                         CommandBody::Logout => status(tag, StatusKind::Ok, "bye"),
//!                         _ => status(tag, StatusKind::Ok, "done"),
//!                     }
//!                 }
//!                 // The tag when it was readable, so the client knows which command failed.
//!                 Err(error) => {
//!                     let tag = error.tag.as_ref().map(|t| t.as_str());
//!                     status(tag, StatusKind::Bad, &error.error.to_string())
//!                 }
//!             },
//!             Framed::Literal(header) => {
//!                 framer.accept_literal();
//!                 if header.mode == LiteralMode::NonSync {
//!                     continue;
//!                 }
//!                 let text = Text::new("go ahead").unwrap();
//!                 let go = ContinuationText::new(None, Some(text)).unwrap();
//!                 Response::Continuation(Continuation::Text(go))
//!             }
//!             Framed::Error(error) => status(error.tag(), StatusKind::Bad, &error.to_string()),
//!         };
//!         output.extend_from_slice(&answer.to_bytes());
//!     }
//!     let consumed = buffer.len() - input.len();
//!     buffer.drain(..consumed);
//! }
//! assert_eq!(
//!     String::from_utf8(output).unwrap(),
//!     "a1 OK done\r\n+ go ahead\r\na2 OK done\r\n\
//!      a3 BAD syntax error at offset 3: expected command name\r\na4 OK bye\r\n"
//! );
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod core;
pub mod datetime;
pub mod encode;
pub mod error;
pub mod fetch;
pub mod flag;
pub mod framer;
pub mod list;
pub mod mailbox;
#[allow(dead_code)] // lifted when the parsers that use the reader land
pub(crate) mod parse;
pub mod sequence;

pub mod command;
pub mod response;

pub mod client;
pub mod search;
pub mod server;
pub mod view;

#[cfg(feature = "mime")]
#[cfg_attr(docsrs, doc(cfg(feature = "mime")))]
pub mod message;

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod codec;

pub use encode::{Encode, EncodeOptions, Encoded, Writer};
pub use error::{ErrorKind, ParseError, ValidationError};
pub use list::{Few, List};
pub use parse::Quirks;
