//! Sans-IO IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051) codec: commands, responses,
//! greetings, AUTHENTICATE data and IDLE's `DONE`, parsed and encoded in both directions.
//!
//! This crate performs no I/O. Bytes from the network go through the [`framer`], which splits
//! them into complete messages (lines plus literals) under limits; each message parses into a
//! value that borrows from the input; values encode back into bytes through a
//! [`Writer`](encode::Writer), which marks where a client must wait for a continuation request
//! before sending a synchronising literal.

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

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod codec;

pub use encode::{Encode, EncodeOptions, Encoded, Writer};
pub use error::{ErrorKind, ParseError, ValidationError};
pub use list::List;
pub use parse::Quirks;
