//! Sans-IO SMTP, ESMTP and LMTP: a codec (commands, paths, parameters, replies and EHLO
//! capabilities, parsed without copying and encoded canonically) and the two session state
//! machines built on it, [`server::Server`] and [`client::Client`].
//!
//! This crate performs no I/O. It never touches a socket, a clock or a random number
//! generator. At the codec level you frame the bytes you read into lines (with
//! `mail_wire::line::LineFramer` or your own framer), hand each line to a parser, and get
//! typed values back; encoders append the bytes to write to a [`bytes::BytesMut`]. At the
//! session level you feed raw bytes to a state machine and drive it with the loop shown in
//! the [`server`] and [`client`] module docs: `feed`, `poll_event`, `poll_transmit`,
//! `poll_timeout`/`handle_timeout`. The `tokio` feature adds a thin async driver for each.
//!
//! ```text
//!  socket ──read──▶ BytesMut ──▶ LineFramer ──▶ line ──▶ Command::parse ──▶ Command<'_>
//!                                                  └───▶ ReplyParser::push_line ──▶ Reply
//!                                                              Capabilities::from_reply ◀┘
//!  Command / Reply ──encode──▶ BytesMut ──write──▶ socket
//! ```
//!
//! # Example
//!
//! ```
//! use bytes::BytesMut;
//! use mail_wire::line::{Frame, LineFramer};
//! use smtp_proto::{Body, Command, ForwardPath, ReversePath};
//!
//! let mut buf = BytesMut::from(
//!     &b"ehlo client.example\r\nMAIL FROM:<a@example.org> SIZE=1000 BODY=8BITMIME\r\n\
//!        RCPT TO:<b@[IPv6:2001:db8::1]> NOTIFY=FAILURE,DELAY\r\nDATA\r\n"[..],
//! );
//! let mut framer = LineFramer::new(512); // RFC 5321 section 4.5.3.1.4
//! let mut out = BytesMut::new();
//! while let Some(Frame::Line(line)) = framer.next_frame(&mut buf) {
//!     let command = Command::parse(&line).expect("valid command");
//!     match &command {
//!         Command::Mail { from: ReversePath::Mailbox(m), params } => {
//!             assert_eq!(m.to_string(), "a@example.org");
//!             assert_eq!((params.size, params.body), (Some(1000), Some(Body::EightBitMime)));
//!         }
//!         Command::Rcpt { to: ForwardPath::Mailbox(_), params } => {
//!             assert!(params.notify.is_some_and(|n| n.failure() && n.delay()));
//!         }
//!         _ => {}
//!     }
//!     command.encode(&mut out); // canonical form
//! }
//! assert!(out.starts_with(b"EHLO client.example\r\nMAIL FROM:<a@example.org> SIZE=1000"));
//!
//! // Replies arrive line by line too.
//! let mut replies = smtp_proto::ReplyParser::default();
//! assert!(replies.push_line(b"250-mx.example Hello").unwrap().is_none());
//! let reply = replies.push_line(b"250 SIZE 35882577").unwrap().expect("complete");
//! let caps = smtp_proto::Capabilities::from_reply(&reply).unwrap();
//! assert_eq!(caps.size, Some(Some(35882577)));
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `tokio` | no | [`codec`]: `tokio_util` codecs for commands and replies; [`tokio`]: async drivers for the server and client, typed wrappers over `mail-tokio`'s generic driver (which does the STARTTLS hand-off through `mail-tls`) |
//!
//! # Limits
//!
//! | what | limit | source |
//! |---|---|---|
//! | command line | set by your framer; 512 octets including CRLF is the RFC minimum | RFC 5321 section 4.5.3.1.4 |
//! | domain | 255 octets, labels 63 | RFC 5321 section 4.5.3.1.2, RFC 1035 |
//! | SIZE, BDAT chunk size | `u64`; larger is [`CommandError::Overflow`] | RFC 1870 |
//! | lines per reply | [`ReplyParser::DEFAULT_MAX_LINES`] (100), configurable | none in RFC 5321; bounds memory |
//! | SASL mechanism name | 20 characters | RFC 4422 section 3.1 |
//!
//! # Parsing rules in brief
//!
//! - Parsers take one line **without** its CRLF and are complete (not streaming).
//! - Verbs and parameter keywords are case-insensitive; encoders write upper case.
//! - DATA, RSET, QUIT and STARTTLS take no argument (RFC 5321 section 4.1.1).
//! - UTF-8 in addresses requires SMTPUTF8 (see [`ParseOptions`]); invalid UTF-8 is an error,
//!   never replaced. Reply text is kept as raw bytes.
//! - UTF-8 text never holds a C1 control, U+2028, U+2029 or a bidi control
//!   ([`CommandError::ForbiddenCharacter`]), and a domain's U-labels must pass IDNA.
//! - Source routes are accepted and ignored; `<Postmaster>` and `<>` are recognised.
//! - Known MAIL/RCPT parameters are typed fields (no allocation); unknown ones are kept.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod client;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod codec;
pub mod command;
mod encode;
pub mod error;
mod parse;
pub mod reply;
pub mod server;
mod session;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;
pub mod trace;
pub mod types;

pub use command::{
    Body, Command, InitialResponse, MailParams, Mechanism, Notify, Orcpt, Param, ParseOptions,
    RcptParams, Ret,
};
pub use error::{CommandError, ReplyError, ValueError};
pub use reply::{AuthMechanisms, Capabilities, Lines, Reply, ReplyParser};
pub use types::{
    AddressLiteral, Argument, Domain, EnhancedStatusCode, ForwardPath, GeneralLiteral, Host,
    LocalPart, Mailbox, ReplyCode, ReversePath, Xtext,
};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
