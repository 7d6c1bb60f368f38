//! What the client tells the application: [`Event`], how a session ends
//! ([`SessionError`]) and API misuse ([`ClientError`]).

use bytes::Bytes;
use mail_wire::sasl::SaslError;

use crate::capability::Capabilities;
use crate::error::ResponseError;
use crate::response::{Response, ScanListing, UidListing};

#[cfg(doc)]
use super::Client;

/// Something the application may want to know; the client asks for no decisions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The server's `+OK` greeting.
    Greeting(Response<'static>),
    /// The `CAPA` list (empty if the server does not know `CAPA`); again after STLS.
    Capabilities(Capabilities),
    /// `+OK` to `STLS`: write what is queued, do the handshake, call
    /// [`Client::tls_established`].
    StartTls,
    /// [`TlsPolicy::Opportunistic`](super::TlsPolicy::Opportunistic) and no `STLS` offered:
    /// the session goes on in plaintext.
    PlaintextFallback,
    /// Logged in: the maildrop is open, and commands may be sent.
    LoggedIn,
    /// The answer to `STAT`.
    Stat {
        /// Messages in the maildrop.
        count: u32,
        /// Their total size in octets.
        size: u64,
    },
    /// One message of a `LIST` answer.
    Listed(ScanListing),
    /// One message of a `UIDL` answer.
    Uid(UidListing<'static>),
    /// The end of a `LIST` or `UIDL` answer (after its entries).
    ListingEnd,
    /// `RETR` or `TOP` answered `+OK`: the message's content follows.
    MessageStart {
        /// The message number.
        message: u32,
    },
    /// The next piece of the message, dot-unstuffed, bare CR and LF preserved.
    MessageChunk(Bytes),
    /// The end of the message.
    MessageEnd {
        /// The message number.
        message: u32,
        /// Octets received.
        size: u64,
    },
    /// `DELE` answered `+OK`: the message is marked, removed at `QUIT`.
    Deleted {
        /// The message number.
        message: u32,
    },
    /// `NOOP` or `RSET` answered `+OK`.
    Done {
        /// The command's keyword.
        command: &'static str,
    },
    /// A command answered `-ERR`; the session goes on.
    Refused {
        /// The command's keyword.
        command: &'static str,
        /// The response.
        response: Response<'static>,
    },
    /// The session is over. `Ok(())` after `QUIT` was answered `+OK`.
    Closed(Result<(), SessionError>),
}

/// Why a session ended other than by `QUIT`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The greeting was `-ERR`.
    #[error("the server refused the connection: {0}")]
    Refused(Response<'static>),
    /// The server closed the connection.
    #[error("the server closed the connection")]
    PeerClosed,
    /// No response within the timeout.
    #[error("timeout waiting for a response")]
    Timeout,
    /// A response arrived before the command it would answer was sent (docs/design.md
    /// section 2.2).
    #[error("a response arrived before its command was sent")]
    ReplyBeforeCommand,
    /// A response that is not one: no status, a malformed listing line.
    #[error("malformed response: {0}")]
    Malformed(ResponseError),
    /// A response line over the limit.
    #[error("response line too long")]
    LineTooLong,
    /// A `CAPA` listing longer than [`MAX_CAPABILITIES`](crate::client::MAX_CAPABILITIES)
    /// lines: a server that never ends it would otherwise fill memory.
    #[error("CAPA listing too long")]
    TooManyCapabilities,
    /// Bytes arrived after `+OK` to `STLS` and before the handshake (RFC 2595 section 4).
    #[error("data after the +OK to STLS")]
    StartTlsInjection,
    /// TLS is required and the server does not offer `STLS`, or refused it.
    #[error("TLS is required and STLS is not available")]
    TlsUnavailable,
    /// Credentials would have gone over a connection without TLS (security rule 3.3).
    #[error("refusing to send credentials without TLS")]
    PlaintextCredentials,
    /// The user name or password holds a CR, LF or other control octet, which `USER` and
    /// `PASS` cannot carry (the line would end early and the rest go out as a command).
    #[error("the user name or password holds a control character USER/PASS cannot send")]
    UnsendableCredentials,
    /// The login failed.
    #[error("login failed: {0}")]
    AuthFailed(Response<'static>),
    /// The SASL exchange failed on our side (a bad server message).
    #[error("authentication exchange failed: {0}")]
    Sasl(SaslError),
    /// The server did not take `QUIT` (`-ERR`: some deleted messages were not removed,
    /// RFC 1939 section 6).
    #[error("QUIT refused: {0}")]
    QuitRefused(Response<'static>),
}

/// API misuse: the peer cannot cause these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Commands are accepted only after [`Event::LoggedIn`].
    #[error("not logged in")]
    NotReady,
    /// The session is over or `QUIT` was sent.
    #[error("the session is over")]
    Closed,
    /// [`Client::tls_established`] without a preceding [`Event::StartTls`].
    #[error("no STLS handshake is pending")]
    NoTlsPending,
}
