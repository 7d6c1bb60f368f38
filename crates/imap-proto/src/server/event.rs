//! What the machine tells the application: [`Event`], how a session ends
//! ([`SessionError`]), API misuse ([`ServerError`]), and the small types the answers take.

use std::num::NonZeroU32;

use bytes::Bytes;
use mail_wire::sasl::{Authenticated, Mechanism, SaslError};

use crate::command::Command;
use crate::core::Tag;
use crate::datetime::DateTime;
use crate::flag::{Flag, FlagPerm, MailboxAttribute};
use crate::mailbox::Mailbox;
use crate::response::{Capability, Delimiter};

#[cfg(doc)]
use super::{Server, ServerConfig};

/// The protocol state (RFC 9051 section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Before login.
    NotAuthenticated,
    /// Logged in, no mailbox selected.
    Authenticated,
    /// A mailbox is selected.
    Selected,
    /// LOGOUT was received, or the session ended.
    Logout,
}

/// What the client enabled (RFC 5161), or what a command implied (RFC 7162 section 3.1: the
/// CONDSTORE SELECT parameter, FETCH CHANGEDSINCE and STORE UNCHANGEDSINCE enable CONDSTORE
/// when it is offered).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Enabled {
    /// CONDSTORE (RFC 7162): MODSEQ in unsolicited FETCH responses.
    pub condstore: bool,
    /// QRESYNC (RFC 7162): VANISHED instead of EXPUNGE; implies `condstore`.
    pub qresync: bool,
    /// UTF8=ACCEPT (RFC 6855).
    pub utf8_accept: bool,
    /// IMAP4rev2 (RFC 9051): rev2 rules (no RECENT, `OK [CLOSED]`, ...).
    pub imap4rev2: bool,
}

/// What the application says of a mailbox it selects, beside its
/// [`Snapshot`](crate::view::Snapshot).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SelectInfo {
    /// `* FLAGS (...)`: the flags defined in the mailbox.
    pub flags: Vec<Flag<'static>>,
    /// `OK [PERMANENTFLAGS (...)]`: the flags the client may change permanently (`\*`: new
    /// keywords too). Empty for a read-only mailbox.
    pub permanent_flags: Vec<FlagPerm<'static>>,
    /// Opened read-only (EXAMINE always is): `OK [READ-ONLY]`, STORE, EXPUNGE refused.
    pub read_only: bool,
    /// `* n RECENT` for IMAP4rev1 clients (RFC 3501 section 7.3.2); not sent under rev2.
    /// Normally `recent_uids.len()`: after a size change the machine sends `* n RECENT`
    /// again when its own count of `recent_uids` (with [`Server::mark_recent`]'s, less the
    /// expunged) differs from the last one sent, this one first.
    pub recent: u32,
    /// The UIDs of the messages recent to this session, for an IMAP4rev1 session: the FLAGS
    /// of a message among them that the view announces (a flag change another session made)
    /// carry `\Recent` (RFC 3501 section 2.3.2), and the `* n RECENT` after a size change
    /// counts them. Messages that arrive later and are recent to this session are added
    /// with [`Server::mark_recent`].
    pub recent_uids: Vec<NonZeroU32>,
    /// `OK [UNSEEN n]` for IMAP4rev1 clients: the first unseen message's sequence number.
    pub unseen: Option<NonZeroU32>,
    /// The hierarchy delimiter of the untagged `LIST` an IMAP4rev2 session gets (RFC 9051
    /// section 6.3.2); `None` sends `NIL` (a flat name space).
    pub delimiter: Option<Delimiter>,
    /// The name attributes of that `LIST` (`\Sent`, `\HasChildren`, ...).
    pub attributes: Vec<MailboxAttribute<'static>>,
}

impl SelectInfo {
    /// A mailbox with these flags, read-write, every one of them permanent plus new keywords.
    pub fn new(flags: Vec<Flag<'static>>) -> Self {
        let mut permanent: Vec<FlagPerm<'static>> =
            flags.iter().cloned().map(FlagPerm::Flag).collect();
        permanent.push(FlagPerm::Wildcard);
        SelectInfo {
            flags,
            permanent_flags: permanent,
            read_only: false,
            recent: 0,
            recent_uids: Vec::new(),
            unseen: None,
            delimiter: None,
            attributes: Vec::new(),
        }
    }

    /// The same, read-only.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self.permanent_flags.clear();
        self
    }
}

/// Why a session ended other than by `LOGOUT`: the `Err` of [`Event::Closed`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The client closed the connection.
    #[error("client closed the connection")]
    PeerClosed,
    /// Too many commands answered `BAD` ([`ServerConfig::max_errors`]).
    #[error("too many errors")]
    TooManyErrors,
    /// Too many failed logins ([`ServerConfig::max_auth_failures`]).
    #[error("too many authentication failures")]
    TooManyAuthFailures,
    /// The client was idle past the deadline: `* BYE Autologout`.
    #[error("timeout")]
    Timeout,
    /// Bytes arrived after the STARTTLS command and before the TLS handshake (RFC 9051
    /// section 6.2.1, RFC 2595 section 3.1): a plaintext command injected into the TLS
    /// session.
    #[error("plaintext after STARTTLS")]
    StartTlsInjection,
    /// A literal length beyond 64 bits: what follows cannot be framed.
    #[error("literal length overflows")]
    LiteralOverflow,
    /// More unprocessed input than [`ServerConfig::max_buffered_input`].
    #[error("too much unprocessed input")]
    InputOverflow,
    /// The selected mailbox's changes passed the view's limit: the session ends with
    /// `* BYE` so that the client resynchronises.
    #[error("too many changes queued for the selected mailbox")]
    ViewOverflow,
    /// The application called [`Server::shutdown`].
    #[error("server shutting down")]
    Shutdown,
    /// The client sent an HTTP request line (`POST / HTTP/1.1`, see
    /// [`mail_wire::http::is_request_line`]): most likely a web page making a browser post
    /// IMAP commands to the port (the cross-protocol attack). Answered `* BYE` before anything
    /// after the line is read ([`ServerConfig::refuse_http`]).
    #[error("HTTP request refused (cross-protocol attack)")]
    HttpRequest,
}

/// Something the application must decide or may want to know.
///
/// Events marked *decision* wait for the answer named; until then the session reads no
/// further commands.
// `Command` carries the parsed command inline (as `CommandBody` keeps FETCH's items inline):
// an event is moved once per command, and boxing it would cost an allocation per command.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// *Decision*: a login step needs the credential store: answer with
    /// [`Server::auth_step`]. `LOGIN user password` arrives as a `PLAIN` exchange without an
    /// authorization identity.
    AuthStep {
        /// The mechanism (`PLAIN` for LOGIN).
        mechanism: Mechanism,
    },
    /// The credentials were accepted: the session is authenticated.
    Authenticated(Authenticated),
    /// A login failed; the `NO [AUTHENTICATIONFAILED]` is held back
    /// ([`ServerConfig::auth_failure_delay`]) and sent.
    AuthFailed {
        /// The mechanism tried (`PLAIN` for LOGIN).
        mechanism: Mechanism,
        /// Why the SASL exchange failed (never carries a secret).
        error: Option<SaslError>,
        /// The identity the client named, never a password.
        user: Option<String>,
    },
    /// *Decision*: a command only the application can answer (SELECT, EXAMINE, CREATE,
    /// DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB, STATUS, FETCH, STORE, SEARCH,
    /// SORT, THREAD, COPY, MOVE, EXPUNGE, UID EXPUNGE, CLOSE (expunge silently), GETQUOTA,
    /// GETQUOTAROOT, SETQUOTA). Send untagged data with [`Server::respond`] and
    /// [`Server::fetch`], then [`Server::complete`] (SELECT/EXAMINE: [`Server::selected`]).
    Command {
        /// The command.
        command: Command<'static>,
        /// For FETCH, STORE, COPY, MOVE and UID EXPUNGE: the messages the sequence set
        /// names, as (sequence number, UID), ascending. For SEARCH, SORT and THREAD: every
        /// message of the view. Empty otherwise.
        messages: Vec<(NonZeroU32, NonZeroU32)>,
    },
    /// *Decision*: one message of an APPEND (each of a MULTIAPPEND in turn): call
    /// [`Server::accept_append`] to receive its data, or [`Server::complete`] with `NO` to
    /// refuse the whole command (data the client sends anyway is skipped).
    AppendStart {
        /// The command's tag.
        tag: Tag<'static>,
        /// The target mailbox.
        mailbox: Mailbox<'static>,
        /// The flags to set.
        flags: Vec<Flag<'static>>,
        /// The internal date asked for.
        date: Option<DateTime>,
        /// The message's size in octets.
        size: u64,
        /// Which message of the command: 0 for the first.
        index: usize,
    },
    /// A piece of the accepted message's data, at most [`ServerConfig::append_chunk`]
    /// octets.
    AppendData(Bytes),
    /// The message's data is complete. With `last` the command is over: answer it with
    /// [`Server::append_done`] or [`Server::complete`] (*decision*); otherwise the next
    /// [`Event::AppendStart`] follows.
    AppendEnd {
        /// Which message of the command.
        index: usize,
        /// Whether it was the command's last message.
        last: bool,
    },
    /// The APPEND in progress failed after messages were handed over (a later message too
    /// large, or bad syntax after a message): drop what it stored (MULTIAPPEND is atomic,
    /// RFC 3502 section 6.3.11). The machine has answered the client.
    AppendAborted {
        /// The command's tag.
        tag: Tag<'static>,
    },
    /// ENABLE turned these on (the machine applies CONDSTORE, QRESYNC, UTF8=ACCEPT and
    /// IMAP4rev2 itself).
    Enabled(Vec<Capability<'static>>),
    /// The OK to STARTTLS is queued: write everything [`Server::poll_transmit`] returns, do
    /// the handshake, then call [`Server::tls_established`]. A byte received before that
    /// closes the session.
    StartTls,
    /// The session is over: write what remains and close. `Ok(())` after `LOGOUT`.
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
    #[error("no STARTTLS handshake is pending")]
    NoTlsPending,
    /// A response text holding a control octet, or a value the codec refuses.
    #[error("invalid response: {0}")]
    Invalid(&'static str),
    /// The UID is not in the selected mailbox's view (or not announced yet).
    #[error("UID {0} is not in the view")]
    UnknownUid(u32),
    /// The snapshot given to [`Server::selected`] is inconsistent.
    #[error("inconsistent snapshot: {0}")]
    View(#[from] crate::view::ViewError),
}
