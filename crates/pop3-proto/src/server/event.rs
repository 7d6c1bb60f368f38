//! What the machine tells the application: [`Event`], how a session ends
//! ([`SessionError`]) and API misuse ([`ServerError`]).

use mail_wire::sasl::{Authenticated, Mechanism, SaslError};

#[cfg(doc)]
use super::{MessageInfo, Server, ServerConfig};

/// How the client tried to log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoginMethod {
    /// `USER` and `PASS` (checked as SASL `PLAIN` through the authenticator).
    UserPass,
    /// `APOP`.
    Apop,
    /// `AUTH` with this mechanism.
    Sasl(Mechanism),
}

/// Why a session ended other than by `QUIT`: the `Err` of [`Event::Closed`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The client closed the connection. Nothing was deleted: deletions happen only in the
    /// UPDATE state after `QUIT` (RFC 1939 section 6). `logged_in` says whether the session
    /// had reached TRANSACTION.
    #[error("client closed the connection")]
    PeerClosed {
        /// Whether the maildrop was open.
        logged_in: bool,
    },
    /// Too many refused commands ([`ServerConfig::max_errors`]).
    #[error("too many errors")]
    TooManyErrors,
    /// Too many failed logins ([`ServerConfig::max_auth_failures`]).
    #[error("too many authentication failures")]
    TooManyAuthFailures,
    /// The client was idle past the deadline.
    #[error("timeout")]
    Timeout,
    /// Bytes arrived after `STLS` and before the TLS handshake (RFC 2595 section 4).
    #[error("plaintext after STLS")]
    StartTlsInjection,
    /// A command line over the limit: the stream cannot be followed.
    #[error("command line too long")]
    LineTooLong,
    /// More unprocessed input than [`ServerConfig::max_buffered_input`].
    #[error("too much unprocessed input")]
    InputOverflow,
    /// The application called [`Server::shutdown`].
    #[error("server shutting down")]
    Shutdown,
    /// The client sent an HTTP request line (a command line starting with an HTTP method
    /// and a space, see [`mail_wire::http`]): most likely a web page making a browser post
    /// POP3 commands to the port (the cross-protocol attack). Answered `-ERR` before anything
    /// after the line is read ([`ServerConfig::refuse_http`]).
    #[error("HTTP request refused (cross-protocol attack)")]
    HttpRequest,
}

/// Something the application must decide or may want to know.
///
/// Events marked *decision* wait for the answer named; until then the session reads no
/// further input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// *Decision*: a login step needs the credential store. Answer with
    /// [`Server::auth_step`] (or [`Server::reject`]). `USER`/`PASS` arrives as a `PLAIN`
    /// exchange with no authorization identity.
    AuthStep {
        /// How the client logs in.
        method: LoginMethod,
    },
    /// *Decision*: an `APOP` login. The application checks `digest` (the MD5 of
    /// `timestamp` followed by the user's secret, lower-case hex) and answers
    /// [`Server::accept`] or [`Server::reject`]. Only when APOP is on
    /// ([`ServerConfig::apop_timestamp`]).
    Apop {
        /// The mailbox name.
        user: String,
        /// The timestamp of the greeting.
        timestamp: String,
        /// The digest the client sent.
        digest: String,
    },
    /// The credentials were accepted (`USER`/`PASS` or `AUTH`); the maildrop is asked for next.
    Authenticated(Authenticated),
    /// A login failed; the `-ERR [AUTH]` reply is held back
    /// ([`ServerConfig::auth_failure_delay`]) and sent.
    AuthFailed {
        /// How the client tried.
        method: LoginMethod,
        /// Why the SASL exchange failed, when one ran (never carries a secret).
        error: Option<SaslError>,
        /// The identity the client tried, never a password; `None` when it gave none.
        user: Option<String>,
    },
    /// *Decision*: open and lock the maildrop of `user`. Answer with
    /// [`Server::open_maildrop`] and the message list, or [`Server::reject`] with
    /// [`RespCode::InUse`](crate::RespCode::InUse) when another session holds it (RFC 2449
    /// section 8.1.1): the client stays in AUTHORIZATION.
    OpenMaildrop {
        /// The identity logged in.
        user: String,
    },
    /// *Decision*: `RETR` (or `TOP` with `lines`). Stream the message with
    /// [`Server::send_message_data`] and end it with [`Server::end_message`], or refuse with
    /// [`Server::reject`] before sending anything (the message vanished).
    Retrieve {
        /// The index of the message in the list given to [`Server::open_maildrop`].
        index: usize,
        /// How many body lines `TOP` asked for; `None` for `RETR`. The machine cuts the
        /// content itself: send the whole message either way.
        lines: Option<u32>,
    },
    /// *Decision*: `QUIT` in TRANSACTION with messages marked: remove them (the indexes in
    /// the list given to [`Server::open_maildrop`]), then [`Server::accept`], or
    /// [`Server::reject`] if some could not be removed (RFC 1939 section 6).
    Update {
        /// The messages to remove.
        deleted: Vec<usize>,
    },
    /// The client switched to UTF8 mode (RFC 6856 section 2).
    Utf8,
    /// `+OK` to `STLS` is queued: write everything [`Server::poll_transmit`] returns, do the
    /// handshake, then call [`Server::tls_established`]. A byte received before that closes
    /// the session.
    StartTls,
    /// The session is over: write what remains and close. `Ok(())` after `QUIT`.
    Closed(Result<(), SessionError>),
}

/// API misuse: a call that does not fit the session's state. The peer cannot cause these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// No event is waiting for a decision.
    #[error("no decision is pending")]
    NoPendingDecision,
    /// The call does not fit the pending decision.
    #[error("{0}")]
    WrongDecision(&'static str),
    /// [`Server::tls_established`] without a preceding [`Event::StartTls`].
    #[error("no STLS handshake is pending")]
    NoTlsPending,
    /// A reply text holding CR, LF or another control octet, or too long for a response
    /// line (512 octets, RFC 2449 section 4).
    #[error("reply text holds a control octet or is too long for a response line")]
    BadText,
    /// The message at `index` of the list given to [`Server::open_maildrop`] has the
    /// unique-id of an earlier one (RFC 1939 section 7: a unique-id identifies one message).
    #[error("message {index} repeats the unique-id of an earlier message")]
    DuplicateUid {
        /// The index of the second message with that unique-id.
        index: usize,
    },
}
