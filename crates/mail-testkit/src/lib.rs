//! The sansmail test kit: what the protocol crates' tests share. It depends on `mail-wire`
//! only, and the protocol crates take it as a dev-dependency, so nothing depends in a circle.
//! It is not published.
//!
//! | module | what it holds |
//! |---|---|
//! | [`transcript`] | one `C:`/`S:` transcript format, its parser and a replay loop for one machine |
//! | [`chunk`] | one chunk splitter: cut points, every 1- and 2-split, seeded random sizes, proptest strategies |
//! | [`users`] | one configurable [`Authenticator`](mail_wire::sasl::Authenticator): passwords, SCRAM keys, tokens, authzid rules, a failing user |
//! | [`clock`] | [`SimClock`]: simulated time for deadlines |
//! | [`pair`] | [`Pair`]: a client machine against a server machine in memory, generic over [`Session`](mail_wire::session::Session) |
//! | [`dovecot`] | [`Dovecot`](dovecot::Dovecot): a real Dovecot (IMAP or POP3) started on loopback with a temporary configuration, for interop tests |
//!
//! The kit knows no protocol: what is SMTP (or POP3, IMAP) about a test stays in that
//! protocol crate's tests, which reach the machines through [`Pair::client_mut`] and
//! [`Pair::server_mut`] or answer their events in closures.
#![forbid(unsafe_code)]

pub mod chunk;
pub mod clock;
pub mod dovecot;
pub mod pair;
pub mod transcript;
pub mod users;

pub use chunk::{Chunker, Chunking};
pub use clock::SimClock;
pub use pair::Pair;
pub use transcript::Transcript;
pub use users::Users;

/// One end of a connection: the side that opened it ([`Side::Client`]) or the side that
/// accepted it ([`Side::Server`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The side that connects: an SMTP client, a POP3 or IMAP client.
    Client,
    /// The side that listens.
    Server,
}

impl Side {
    /// The other end.
    ///
    /// ```
    /// use mail_testkit::Side;
    /// assert_eq!(Side::Client.peer(), Side::Server);
    /// ```
    #[must_use]
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

#[cfg(doctest)]
mod doc_files;
