//! What the client tells the application: [`Event`], [`CommandId`], how a session ends
//! ([`SessionError`]) and API misuse ([`ClientError`]).

use mail_wire::sasl::SaslError;

use crate::ValidationError;
use crate::error::ParseError;
use crate::framer::FrameError;
use crate::response::{Capability, Code, Data, Greeting, StatusKind, StatusResponse};

#[cfg(doc)]
use super::Client;

/// Names one command the application issued; [`Event::Completed`] carries it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommandId(pub(super) u64);

impl CommandId {
    /// The number, counting from 1 in the order the commands were issued.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// Something the application may want to know. The client asks for no decisions: commands
/// are the application's, through [`Client::command`] and its typed conveniences.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The server's `OK` or `PREAUTH` greeting.
    Greeting(Greeting<'static>),
    /// The server's capabilities, whenever they are learnt: from the greeting's code, a
    /// `CAPABILITY` response or response code (after STARTTLS and after login the client
    /// asks again when the server did not say). A list in the `OK` to STARTTLS, sent
    /// before TLS, is ignored.
    Capabilities(Vec<Capability<'static>>),
    /// `OK` to `STARTTLS`: write what is queued, do the handshake, call
    /// [`Client::tls_established`].
    StartTls,
    /// [`TlsPolicy::Opportunistic`](super::TlsPolicy::Opportunistic) and no STARTTLS
    /// possible: the session goes on in plaintext.
    PlaintextFallback,
    /// The greeting, the capabilities and the TLS policy are dealt with: commands may be
    /// issued. `authenticated` after a `PREAUTH` greeting.
    Ready {
        /// The server greeted with `PREAUTH`.
        authenticated: bool,
    },
    /// The server accepted `IDLE` (its continuation request): untagged data now arrives as
    /// it happens, until [`Client::done`].
    Idling {
        /// The IDLE command.
        id: CommandId,
    },
    /// Untagged data: the answer to a command in flight (`* SEARCH`, `* n FETCH`, `* LIST`)
    /// or news the server sends unasked (`* n EXISTS`, `* n EXPUNGE`, `* n FETCH (FLAGS
    /// ...)`, `* VANISHED`). Delivered in the order received, before the completion of the
    /// command it answers, and never dropped. `* CAPABILITY` comes as
    /// [`Event::Capabilities`] instead.
    Data(Data<'static>),
    /// An untagged `OK`, `NO` or `BAD` (RFC 9051 section 7.1), with its code
    /// (`[UIDVALIDITY n]`, `[UIDNEXT n]`, `[PERMANENTFLAGS ...]`, ...).
    Status(StatusResponse<'static>),
    /// An untagged status with the `ALERT` code: RFC 9051 section 7.1 says the text must be
    /// shown to the user.
    Alert(String),
    /// The tagged completion of a command.
    Completed {
        /// The command.
        id: CommandId,
        /// `OK`, `NO` or `BAD`.
        status: StatusKind,
        /// The response code, if any (`[READ-WRITE]`, `[APPENDUID ...]`, `[TRYCREATE]`).
        code: Option<Code<'static>>,
        /// The human-readable text.
        text: Option<String>,
    },
    /// The session is over. `Ok(())` after `LOGOUT` was answered (or the server closed the
    /// connection after its `BYE` to it, once the `LOGOUT` went out). Nothing more goes out
    /// after it: output still queued is dropped.
    Closed(Result<(), SessionError>),
}

/// Why a session ended other than by `LOGOUT`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The greeting was `BYE`.
    #[error("the server refused the connection: {0}")]
    Refused(String),
    /// An untagged `BYE` the client did not ask for (RFC 9051 section 7.1.5): the server is
    /// closing the connection.
    #[error("the server said BYE: {0}")]
    Bye(String),
    /// The server closed the connection.
    #[error("the server closed the connection")]
    PeerClosed,
    /// No greeting, or no response to a command in flight, within the timeout.
    #[error("timeout waiting for the server")]
    Timeout,
    /// A tagged response with a tag the client never sent, or did not send yet.
    #[error("a tagged response to no command of ours: {0}")]
    UnknownTag(String),
    /// A continuation request (`+`) when no command waits for one, or before the command
    /// it would answer was written.
    #[error("a continuation request when none was expected")]
    UnexpectedContinuation,
    /// A message that does not parse as a response.
    #[error("malformed response: {0}")]
    Malformed(ParseError),
    /// A response over a limit of [`ClientConfig::framer`](super::ClientConfig::framer).
    #[error("response too large: {0}")]
    TooLarge(FrameError),
    /// Bytes arrived after the `OK` to `STARTTLS` and before the handshake: response
    /// injection (RFC 9051 section 6.2.1, RFC 2595 section 3.1); nothing of them was used.
    #[error("data after the OK to STARTTLS")]
    StartTlsInjection,
    /// TLS is required and the server does not offer STARTTLS, or refused it.
    #[error("TLS is required and STARTTLS is not available")]
    TlsUnavailable,
    /// TLS is required and the server greeted with `PREAUTH` on a plaintext connection,
    /// which leaves no STARTTLS possible.
    #[error("TLS is required and the server greeted with PREAUTH in plaintext")]
    PreauthWithoutTls,
    /// The SASL exchange failed on our side after the server accepted it (a SCRAM server
    /// that did not prove it knows the keys).
    #[error("authentication exchange failed: {0}")]
    Sasl(SaslError),
}

/// API misuse: the peer cannot cause these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Commands are accepted only after [`Event::Ready`].
    #[error("the session is not ready for commands")]
    NotReady,
    /// The session is over or `LOGOUT` was sent.
    #[error("the session is over")]
    Closed,
    /// An IDLE runs: call [`Client::done`] first (and, for another IDLE, wait for the
    /// completion of this one).
    #[error("IDLE is running: call done() first")]
    Idling,
    /// [`Client::done`] without an IDLE running.
    #[error("no IDLE is running")]
    NotIdling,
    /// [`Client::tls_established`] without a preceding [`Event::StartTls`].
    #[error("no STARTTLS handshake is pending")]
    NoTlsPending,
    /// Credentials would go over a connection without TLS (docs/design.md section 3;
    /// [`ClientConfig::allow_plaintext_auth`](super::ClientConfig::allow_plaintext_auth)).
    #[error("refusing to send credentials without TLS")]
    PlaintextCredentials,
    /// The server advertises `LOGINDISABLED`: `LOGIN` would be refused.
    #[error("the server advertises LOGINDISABLED")]
    LoginDisabled,
    /// [`ClientConfig::max_commands`](super::ClientConfig::max_commands) commands are in
    /// flight or queued.
    #[error("too many commands in flight")]
    TooManyCommands,
    /// The command is one the client sends itself or through a dedicated method:
    /// `STARTTLS` (the [`TlsPolicy`](super::TlsPolicy)), `AUTHENTICATE`
    /// ([`Client::authenticate`], which needs a SASL exchange).
    #[error("{0} cannot be issued through command()")]
    Reserved(&'static str),
    /// An argument that cannot be written (a mailbox name with a control character).
    #[error("invalid argument: {0}")]
    Invalid(ValidationError),
    /// The SASL exchange could not start (its initial response failed).
    #[error("SASL: {0}")]
    Sasl(SaslError),
    /// The server's capabilities, as last learnt, lack what the command needs; the
    /// capability is named (`"IDLE"` for an IDLE to a server advertising neither `IDLE`, RFC
    /// 2177, nor `IMAP4rev2`, RFC 9051 section 6.3.13). The table of what needs what is at
    /// [`Client::command`]. Nothing was sent.
    #[error("the server does not advertise {0}")]
    NotAdvertised(&'static str),
}
