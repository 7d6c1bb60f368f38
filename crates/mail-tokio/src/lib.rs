//! One tokio driver for every sans-IO mail session, client or server, of any protocol.
//!
//! The protocol crates of sansmail write their state machines without I/O and implement the
//! driver contract, [`mail_wire::session::Session`]. This crate runs any of them over any
//! tokio stream with one type, [`Connection<S, IO>`](Connection), so that the reading,
//! writing, timing and STARTTLS code exists once rather than once per protocol and side.
//! The protocol crates' `tokio` features wrap it in typed connections (for SMTP,
//! `smtp_proto::tokio::ServerConnection` and `ClientConnection`) that add what only their
//! protocol knows; [`typed_connection!`] writes the part of such a wrapper that is the same
//! for every protocol.
//!
//! ```text
//!  stream ──read (≤4 KiB, while the session takes input)─▶ read buffer ──feed_buf──▶ ┐
//!    ▲                                                                                   Session
//!    └──write (write timeout, stall timeout; reading meanwhile if asked)◀── poll_transmit ◀┤
//!  timer ◀── poll_timeout ─────────────────────────────────── handle_timeout(now) ──────▶ │
//!  application ◀── next_event ◀── poll_event ◀───────────────────────────────────────────┘
//!       EventKind::StartTls: write all, read nothing, mail_tls::tokio::starttls_accept /
//!                            starttls_connect (nothing buffered either side), tls_established
//!       EventKind::Closed:   write the last words, shut down, deliver once, then None
//! ```
//!
//! What the driver guarantees, on both sides of every protocol:
//!
//! - **Bounded reads**: one read of at most [`READ_CHUNK`] octets at a time, handed to the
//!   session whole before the next; reads wait at most until the session's deadline. Reads
//!   start at 512 octets and grow only while they fill their space, and an idle session gives
//!   back a large read or output buffer, so that it waits on little memory.
//! - **Bounded writes**: a write timeout on each flush ([`Connection::with_write_timeout`],
//!   [`DEFAULT_WRITE_TIMEOUT`]) and an optional stall timeout
//!   ([`Connection::with_stall_timeout`]) end a session whose peer stops reading, with an
//!   error of kind [`std::io::ErrorKind::TimedOut`].
//! - **No deadlock with an early answer**: with [`Connection::with_read_while_writing`] the
//!   driver reads while it writes (whether the session takes input or not), and after a
//!   failed write reads the peer's last words until the end of the stream, waiting at most
//!   [`DRAIN_GRACE`] for each read. After the end of the stream it reads nothing more.
//! - **Cancel-safe events**: see [`Connection::next_event`].
//! - **The STARTTLS boundary**: the hand-off writes everything queued, reads nothing more,
//!   and hands mail-tls both buffers, which refuses the upgrade if the peer's bytes are
//!   buffered behind the hand-off (the output is always empty there: the machines queue
//!   nothing behind STARTTLS).
//! - **Implicit TLS**: pass a stream that is TLS already (`mail_tls::tokio::accept_implicit`
//!   or `connect_implicit`) and configure the session for implicit TLS.
//! - **A byte trace** on both sides ([`Connection::with_trace`]) and a `Debug` that shows no
//!   buffer (they can hold credentials).
//!
//! The mail-tls types the configuration calls take are re-exported as [`tls`], so that a
//! protocol crate needs no dependency of its own on mail-tls.
//!
//! # Example
//!
//! The whole loop of a server or a client, for any protocol: the application answers each
//! event on the session, the driver does the rest. The README runs a toy protocol this way
//! over an in-memory pipe.
//!
//! ```
//! use std::time::Duration;
//! use mail_tokio::{Connection, Session};
//!
//! async fn run<S: Session>(
//!     stream: tokio::net::TcpStream,
//!     session: S,
//!     mut answer: impl FnMut(&mut S, S::Event),
//! ) -> std::io::Result<()> {
//!     let mut conn = Connection::new(stream, session)
//!         .with_write_timeout(Some(Duration::from_secs(60)));
//!     while let Some(event) = conn.next_event().await? {
//!         answer(conn.session_mut(), event);
//!     }
//!     Ok(())
//! }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod connection;
mod stream;
#[cfg(test)]
mod tests;
mod typed;

pub use connection::{Connection, DEFAULT_WRITE_TIMEOUT, DRAIN_GRACE, READ_CHUNK, Traffic};
/// mail-tls, whose types [`Connection`]'s STARTTLS configuration takes
/// (`tls::rustls::ServerConfig`, `tls::pki_types::ServerName`, `tls::tokio::HandshakeOptions`)
/// and whose [`SessionInfo`](tls::SessionInfo) it reports.
pub use mail_tls as tls;
pub use mail_wire::session::{Ending, EventKind, Session};

/// What [`typed_connection!`] names in the code it writes; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use tokio::io::{AsyncRead, AsyncWrite};
}

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
