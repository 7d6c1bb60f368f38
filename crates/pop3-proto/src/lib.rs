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
//! | idle before login, and time to log in from the session's start | 60 s | our choice, shorter than after login; absolute as Dovecot's pre-login timeouts |
//! | `TOP` line count | any; past `u32::MAX` read as every line, at most 255 digits | RFC 1939 section 7 |
//! | failed logins | 3, each answer held 2 s | as the SMTP server (Dovecot `auth_failure_delay`) |
//! | refused commands | 20 | Postfix `smtpd_hard_error_limit` |
//! | junk commands before login | 100 | Postfix `smtpd_junk_command_limit` |
//! | output queued before pipelined commands wait (server) | 256 KiB ([`server::OUTPUT_HIGH_WATER`]) | our choice: bounds what pipelined `LIST`/`UIDL` can queue |
//! | `CAPA` lines kept (client) | 256 ([`client::MAX_CAPABILITIES`]) | our choice: RFC 2449 defines about a dozen |
//!
//! # A session, both machines
//!
//! The driver loop in its smallest form: our client and our server, each machine's output
//! fed to the other. A real driver puts a socket between them (or uses the `tokio` feature);
//! [`server`] and [`client`] show each side's loop on its own.
//!
//! ```
//! use std::time::Instant;
//! use mail_wire::Secret;
//! use mail_wire::sasl::{Authenticator, Nonce};
//! use pop3_proto::Uid;
//! use pop3_proto::client::{self, Client, ClientConfig, Credentials, TlsPolicy};
//! use pop3_proto::server::{self, MessageInfo, Server, ServerConfig};
//!
//! /// The application's credential store.
//! struct Accounts;
//! impl Authenticator for Accounts {
//!     fn verify_password(&self, user: &str, password: &Secret<String>) -> bool {
//!         user == "alice" && password.ct_eq(b"secret")
//!     }
//! }
//! const MESSAGE: &[u8] = b"Subject: hello\r\n\r\n.a line with a dot\r\n";
//!
//! let now = Instant::now();
//! // No TLS in this example: both sides must be told that credentials may go in the clear.
//! let mut server_config = ServerConfig::default();
//! server_config.allow_plaintext_auth = true;
//! let mut server = Server::new(server_config, now);
//! let mut client_config =
//!     ClientConfig::new(Credentials::password("alice", Secret::new("secret".into())));
//! client_config.tls = TlsPolicy::Never;
//! client_config.allow_plaintext_auth = true;
//! let mut client = Client::new(client_config, now);
//!
//! let mut fetched = Vec::new();
//! while !client.is_closed() {
//!     while let Some(bytes) = server.poll_transmit() {
//!         client.feed(now, &bytes);
//!     }
//!     while let Some(event) = client.poll_event() {
//!         match event {
//!             client::Event::LoggedIn => client.retr(now, 1)?,
//!             client::Event::MessageChunk(chunk) => fetched.extend_from_slice(&chunk),
//!             client::Event::MessageEnd { .. } => client.quit(now)?,
//!             _ => {}
//!         }
//!     }
//!     while let Some(bytes) = client.poll_transmit() {
//!         server.feed(now, &bytes);
//!     }
//!     while let Some(event) = server.poll_event() {
//!         match event {
//!             server::Event::AuthStep { .. } => {
//!                 // A fresh random nonce per exchange (used by SCRAM).
//!                 server.auth_step(&Accounts, Nonce::new("fyko+d2lbbFgONRv9qkxdawL")?)?
//!             }
//!             server::Event::OpenMaildrop { .. } => server.open_maildrop(vec![
//!                 MessageInfo::new(MESSAGE.len() as u64, Uid::new("1")?),
//!             ])?,
//!             server::Event::Retrieve { .. } => {
//!                 server.send_message_data(MESSAGE)?;
//!                 server.end_message()?;
//!             }
//!             _ => {}
//!         }
//!     }
//! }
//! assert_eq!(fetched, MESSAGE);
//! assert!(server.is_closed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
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
