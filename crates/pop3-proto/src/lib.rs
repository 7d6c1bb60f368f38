//! Sans-IO POP3: the codec, and the server and client state machines.
//!
//! POP3 (RFC 1939) with its extensions: `CAPA` and its capabilities (RFC 2449), `STLS`
//! (RFC 2595), response codes (RFC 2449 section 8, RFC 3206), `AUTH` with SASL (RFC 5034,
//! through mail-wire's mechanisms), and `UTF8` and `LANG` (RFC 6856). The machines perform no
//! I/O: they take bytes and the time, and hand back bytes to write, events and deadlines
//! (docs/design.md section 2). Message bodies stream through mail-wire's dot transparency in
//! bounded pieces, in both directions; a whole message is never held.
//!
//! | module | what |
//! |---|---|
//! | [`Command`], [`Response`], [`Capability`], [`ScanListing`], [`UidListing`] | the codec, both directions |
//! | [`server`] | the server machine: AUTHORIZATION, TRANSACTION, UPDATE |
//! | [`client`] | the client machine: CAPA, STLS, login, pipelined commands, streamed `RETR`/`TOP`, UIDL sync |
//! | `tokio` (feature `tokio`) | typed wrappers over mail-tokio's generic driver |
//!
//! # Features
//!
//! | feature | adds |
//! |---|---|
//! | `tokio` | `tokio::ServerConnection` and `tokio::ClientConnection` over `mail_tokio::Connection` (STLS through mail-tls) |
//!
//! # Limits
//!
//! | limit | default | source |
//! |---|---|---|
//! | command line | 255 octets ([`MAX_COMMAND_LINE`]); 12,288 while SASL is offered | RFC 2449 section 4, RFC 5034 section 4 |
//! | response line (client) | 512 octets ([`MAX_RESPONSE_LINE`]) | RFC 2449 section 4 |
//! | unique-id | 70 octets ([`MAX_UID_LEN`]) | RFC 1939 section 7 |
//! | idle after login | 10 minutes | RFC 1939 section 3 |
//! | idle before login | 60 s | our choice, shorter than after login |
//! | failed logins | 3, each answer held 2 s | as the SMTP server (Dovecot `auth_failure_delay`) |
//! | refused commands | 20 | Postfix `smtpd_hard_error_limit` |
//! | junk commands before login | 100 | Postfix `smtpd_junk_command_limit` |
//!
//! # A session, both machines
//!
//! See [`server`] for the server's driver loop and [`client`] for the client's.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod capability;
pub mod client;
mod command;
mod encode;
mod error;
mod parse;
mod response;
pub mod server;
mod session;
#[cfg(feature = "tokio")]
pub mod tokio;
mod types;

pub use capability::{Capabilities, Capability};
pub use command::{Command, MAX_COMMAND_LINE};
pub use error::{CommandError, ResponseError, ValueError};
pub use response::{MAX_RESPONSE_LINE, Response, ScanListing, Status, UidListing};
pub use types::{MAX_UID_LEN, RespCode, Uid};

/// The README's example, compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
