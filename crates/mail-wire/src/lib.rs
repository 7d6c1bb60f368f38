//! Sans-IO building blocks shared by the SMTP, POP3 and IMAP crates of sansmail: CRLF line
//! framing under limits, dot transparency, SASL mechanisms, redacting secrets, and the session
//! contract every protocol state machine implements.
//!
//! This crate performs no I/O. It never touches a socket, a clock or a random number
//! generator: you hand it the bytes you read and the randomness you generate, and it hands
//! back typed values and the bytes to write.
//!
//! ```text
//!  socket ──read──▶ BytesMut ──▶ line::LineFramer ──▶ Frame::Line ──▶ protocol parser
//!                      │                                    (command "DATA")
//!                      └──────▶ dot::DotDecoder ──▶ DotEvent::Data(Bytes) ──▶ mail store
//!  mail store ──▶ dot::DotEncoder ──▶ BytesMut ──write──▶ socket
//!  AUTH lines ◀─▶ sasl::framing ◀─▶ sasl::ServerSession / sasl::ClientSession
//! ```
//!
//! | module | what it holds |
//! |---|---|
//! | [`line`](mod@line) | CRLF line framing under a per-state limit |
//! | [`http`] | recognizing an HTTP request line sent to a mail port (the cross-protocol attack) |
//! | [`dot`] | dot transparency: the streaming body decoder (immune to SMTP smuggling) and encoder |
//! | [`sasl`] | SASL mechanisms as client and server step machines, and their base64 framing |
//! | [`Secret`] | passwords, tokens and keys, redacted in `Debug` and compared in constant time |
//! | [`session`] | the driver contract: the [`Session`](session::Session) trait every protocol state machine (SMTP server and client, later POP3 and IMAP) implements, so that one driver runs them all, [`Ending`](session::Ending), how every session ends, and [`delegate_session!`], which writes a machine's impl of the trait from its inherent methods |
//!
//! # The driver loop
//!
//! A protocol reads into one receive buffer and switches between the line framer (commands)
//! and the dot decoder (message bodies) on the same buffer, so nothing is lost at the switch:
//!
//! ```
//! use bytes::BytesMut;
//! use mail_wire::dot::{BareLineEnding, DotDecoder, DotEvent};
//! use mail_wire::line::{Frame, LineFramer};
//!
//! // What a client sent, arriving in arbitrary pieces.
//! let reads: [&[u8]; 4] = [b"MAIL FROM:<a@example.org>\r\nDA", b"TA\r\nSubject: t\r\n\r\n..", b"hi\r\n.\r", b"\nQUIT\r\n"];
//!
//! let mut buf = BytesMut::new();
//! let mut framer = LineFramer::new(512); // RFC 5321 section 4.5.3.1.4
//! let mut body: Option<DotDecoder> = None;
//! let mut stored = Vec::new();
//! let mut replies = Vec::new();
//! for read in reads {
//!     buf.extend_from_slice(read); // socket.read_buf(&mut buf) in real code
//!     loop {
//!         if let Some(decoder) = body.as_mut() {
//!             match decoder.next_event(&mut buf) {
//!                 Some(DotEvent::Data(chunk)) => stored.extend_from_slice(&chunk),
//!                 Some(DotEvent::End(Ok(size))) => {
//!                     replies.push(format!("250 2.0.0 {size} octets queued"));
//!                     body = None;
//!                 }
//!                 Some(DotEvent::End(Err(error))) => {
//!                     replies.push(format!("554 5.6.0 {error}"));
//!                     body = None;
//!                 }
//!                 Some(_) => {} // Rejected: stop storing, wait for End
//!                 None => break,
//!             }
//!         } else {
//!             match framer.next_frame(&mut buf) {
//!                 Some(Frame::Line(line)) if &line[..] == b"DATA" => {
//!                     replies.push("354 End data with <CR><LF>.<CR><LF>".into());
//!                     body = Some(DotDecoder::new(BareLineEnding::Reject, 10 << 20));
//!                 }
//!                 Some(Frame::Line(line)) => replies.push(format!("250 ok {}", String::from_utf8_lossy(&line))),
//!                 Some(_) => replies.push("500 5.5.2 syntax error".into()),
//!                 None => break,
//!             }
//!         }
//!     }
//! }
//! assert_eq!(stored, b"Subject: t\r\n\r\n.hi\r\n");
//! assert_eq!(replies, [
//!     "250 ok MAIL FROM:<a@example.org>",
//!     "354 End data with <CR><LF>.<CR><LF>",
//!     "250 2.0.0 19 octets queued",
//!     "250 ok QUIT",
//! ]);
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `tokio` | no | `tokio_util::codec::Decoder` for [`line::LineFramer`] and [`dot::DotDecoder`] |
//!
//! # Limits
//!
//! | limit | where | default or source |
//! |---|---|---|
//! | line length, CRLF included | [`line::LineFramer::new`] | set per state by the caller: 512 for SMTP commands (RFC 5321 section 4.5.3.1.4), 255 for POP3 (RFC 2449 section 4), 64 KiB is common for IMAP |
//! | decoded body size | [`dot::DotDecoder::new`] | set by the caller, typically the SMTP `SIZE` (RFC 1870) |
//! | octets kept between calls while a body is open | [`dot::DotDecoder`] | at most 4 (a possible prefix of the end marker) |
//! | SASL message size | [`sasl`] | see [`sasl::MAX_MESSAGE_LEN`] |
//!
//! Peer input never makes these types panic or allocate without bound; misbehaviour comes
//! back as values ([`line::Frame::TooLong`], [`dot::DotEvent::Rejected`], [`sasl::SaslError`]).
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod dot;
pub mod http;
pub mod line;
pub mod sasl;
mod secret;
pub mod session;

pub use secret::Secret;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
