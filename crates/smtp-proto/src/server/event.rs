//! What the machine tells the application: [`Event`] and the types it carries, how a session
//! ends ([`SessionError`]) and API misuse ([`ServerError`]).

use bytes::Bytes;
use mail_wire::dot::BodyError;
use mail_wire::sasl::{Authenticated, Mechanism, SaslError};

use crate::command::{MailParams, RcptParams};
use crate::types::{ForwardPath, Host, ReversePath};

#[cfg(doc)]
use super::{Server, ServerConfig};

/// Which greeting command the client used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HelloVerb {
    /// `HELO`: plain SMTP, no extensions.
    Helo,
    /// `EHLO`: extended SMTP.
    Ehlo,
    /// `LHLO`: LMTP.
    Lhlo,
}

/// How the message body arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyTransfer {
    /// `DATA`, dot-stuffed, ended by CRLF "." CRLF; the machine unstuffs it.
    Data,
    /// `BDAT` chunks (RFC 3030): a text body with its bare CR and LF treated as in DATA
    /// ([`ServerConfig::bare_line_ending`]), a `BODY=BINARYMIME` body byte for byte.
    Bdat,
}

/// Why a session ended other than by `QUIT`: the `Err` of [`Event::Closed`], whose `Ok(())`
/// means the client sent QUIT and got `221`. The same shape as the client's
/// [`SessionError`](crate::client::SessionError) (see [`mail_wire::session::Ending`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The client closed the connection ([`Server::handle_eof`]). `in_transaction` says
    /// whether a mail transaction was open (its message, if any, is lost and was never
    /// acknowledged).
    #[error("{}", if *.in_transaction {
        "client closed the connection during a transaction"
    } else {
        "client closed the connection"
    })]
    PeerClosed {
        /// Whether MAIL had been accepted and the transaction not finished.
        in_transaction: bool,
    },
    /// Too many negative replies ([`ServerConfig::max_errors`]).
    #[error("too many errors")]
    TooManyErrors,
    /// The client was silent past the deadline, did not finish a command line within
    /// [`ServerConfig::command_timeout`], or sent a body slower than
    /// [`ServerConfig::min_data_rate`].
    #[error("timeout")]
    Timeout,
    /// Too many failed AUTH exchanges ([`ServerConfig::max_auth_failures`]).
    #[error("too many authentication failures")]
    TooManyAuthFailures,
    /// Bytes arrived after STARTTLS and before the TLS handshake (RFC 3207 section 4.2).
    #[error("plaintext after STARTTLS")]
    StartTlsInjection,
    /// A BDAT command whose chunk size cannot be read: the stream cannot be followed.
    #[error("unreadable BDAT chunk size")]
    Desynchronised,
    /// More unprocessed input than [`ServerConfig::max_buffered_input`].
    #[error("too much unprocessed input")]
    InputOverflow,
    /// The application called [`Server::shutdown`] or [`Server::close`].
    #[error("server shutting down")]
    Shutdown,
    /// The client sent an HTTP request line (a command line starting with an HTTP method
    /// and a space, see [`mail_wire::http`]): most likely a web page making a browser post
    /// SMTP commands to the port (the cross-protocol attack). Answered `421 4.7.0` before
    /// anything after the line is read ([`ServerConfig::refuse_http`]).
    #[error("HTTP request refused (cross-protocol attack)")]
    HttpRequest,
}

/// Something the application must decide or may want to know.
///
/// Events marked *decision* wait for [`Server::accept`], [`Server::accept_with`],
/// [`Server::reject`] (or [`Server::reply_each`] in LMTP); until then the session processes
/// no further input. The others are information.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// *Decision*: HELO, EHLO or LHLO. Accepting answers with the capabilities (EHLO, LHLO)
    /// or a `250` greeting (HELO) and resets any transaction.
    Hello {
        /// The verb used.
        verb: HelloVerb,
        /// The name the client gave.
        host: Host<'static>,
    },
    /// *Decision*: MAIL FROM, already checked for sequence, TLS and AUTH requirements and
    /// size. Accepting opens a transaction (`250 2.1.0`).
    Mail {
        /// The reverse path.
        from: ReversePath<'static>,
        /// Its parameters.
        params: MailParams<'static>,
    },
    /// *Decision*: RCPT TO, already checked for sequence and the recipient limit. Accepting
    /// adds the recipient (`250 2.1.5`).
    Rcpt {
        /// The forward path.
        to: ForwardPath<'static>,
        /// Its parameters.
        params: RcptParams<'static>,
    },
    /// The body begins: `354` was sent (DATA) or the first BDAT chunk arrives.
    BodyStart {
        /// DATA or BDAT.
        transfer: BodyTransfer,
    },
    /// The next piece of the body (unstuffed for DATA), in order.
    BodyChunk(Bytes),
    /// The body was refused while it streamed: discard what you received. The machine drains
    /// the rest and answers (`552 5.3.4` for size, `550 5.6.0` for bare CR or LF). No
    /// [`Event::BodyEnd`] follows.
    BodyAborted(BodyError),
    /// *Decision*: the body is complete. Accept only once the message is stored durably (the
    /// `250` is the promise to deliver, RFC 5321 section 6.1). In LMTP, answer with
    /// [`Server::reply_each`], one reply per accepted recipient, or accept or reject all.
    BodyEnd {
        /// The body size in octets, as handed over in [`Event::BodyChunk`]s (unstuffed,
        /// bare line endings normalized).
        size: u64,
        /// How many recipients were accepted.
        recipients: usize,
    },
    /// *Decision*: the SASL exchange needs the application's credentials. Call
    /// [`Server::auth_step`] (or [`Server::reject`] to refuse the exchange).
    AuthStep {
        /// The mechanism in use.
        mechanism: Mechanism,
    },
    /// The client authenticated (`235` was sent).
    Authenticated(Authenticated),
    /// An authentication exchange failed; the reply (`535 5.7.8`, `501`...) is queued, held
    /// back for [`ServerConfig::auth_failure_delay`]. When the failure reaches
    /// [`ServerConfig::max_auth_failures`], `421 4.7.0` follows it and the session closes.
    AuthFailed {
        /// The mechanism that was tried.
        mechanism: Mechanism,
        /// Why it failed (for logs and rate limiting; it never carries a secret).
        error: SaslError,
        /// The identity the client tried (the `PLAIN` authcid, the `LOGIN` user name, the
        /// SCRAM `n=`, the `XOAUTH2` or `OAUTHBEARER` user), never a password; `None` when
        /// the client named nobody. Client-controlled: escape it before logging it.
        user: Option<String>,
    },
    /// `220` to STARTTLS is queued: write everything [`Server::poll_transmit`] returns, do the
    /// TLS handshake, then call [`Server::tls_established`]. Any byte received before that
    /// closes the session.
    StartTls,
    /// The client sent data before the greeting (see [`ServerConfig::greeting_delay`]); a
    /// well-behaved client waits. The session goes on unless the application closes it.
    EarlyTalker,
    /// The session is over: write what remains in [`Server::poll_transmit`] and close.
    /// `Ok(())` after QUIT was answered with `221`; otherwise why it ended.
    Closed(Result<(), SessionError>),
}

/// API misuse: a call that does not fit the session's state. The peer cannot cause these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// No event is waiting for a decision.
    #[error("no decision is pending")]
    NoPendingDecision,
    /// The call does not fit the pending decision (for example `auth_step` for a MAIL event).
    #[error("{0}")]
    WrongDecision(&'static str),
    /// [`Server::reject`] with a positive reply, or [`Server::accept_with`] with a negative one.
    #[error("reply code {0} does not fit the call")]
    WrongReplyClass(u16),
    /// [`Server::reply_each`] with a number of replies other than the accepted recipients.
    #[error("expected {expected} replies, one per accepted recipient, got {got}")]
    ReplyCount {
        /// Accepted recipients.
        expected: usize,
        /// Replies given.
        got: usize,
    },
    /// [`Server::tls_established`] without a preceding [`Event::StartTls`].
    #[error("no STARTTLS handshake is pending")]
    NoTlsPending,
}
