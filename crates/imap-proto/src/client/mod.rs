//! The IMAP client state machine: tags, literal synchronisation, responses routed to their
//! command, unsolicited responses delivered, IDLE, the STARTTLS policy.
//!
//! [`Client`] reads the greeting, learns the capabilities (from the greeting's code or a
//! `CAPABILITY` command), upgrades with `STARTTLS` as its [`TlsPolicy`] says (and asks for
//! the capabilities again inside TLS), then reports [`Event::Ready`]. From then on the
//! application issues commands: [`Client::command`] takes any
//! [`CommandBody`] and returns the [`CommandId`] that its
//! [`Event::Completed`] carries back; [`Client::login`], [`Client::authenticate`] (a
//! mail-wire SASL exchange, with SASL-IR when the server has it), [`Client::select`],
//! [`Client::fetch`], [`Client::store`], [`Client::search`], [`Client::idle`] and
//! [`Client::done`], [`Client::logout`] are typed conveniences.
//!
//! Each command gets the next tag (`A0001`, `A0002`, ...). A command with a synchronising
//! literal is written up to the literal's header, and its data only after the server's
//! continuation request (`+`); with `LITERAL+` (or `LITERAL-` for small literals) it goes
//! out whole. Commands are pipelined, except behind a command that waits for a continuation
//! request, `AUTHENTICATE`, `STARTTLS` and `IDLE`, which queue the commands issued after
//! them. Untagged data is delivered as it arrives ([`Event::Data`], [`Event::Status`],
//! [`Event::Alert`]), never dropped, whether a command asked for it or not.
//!
//! An IDLE runs until [`Client::done`]; the client ends and re-issues it by itself every
//! [`ClientConfig::idle_refresh`] (28 minutes; RFC 2177 asks for less than 29), without
//! reporting the renewal.
//!
//! # The driver loop
//!
//! ```
//! use std::time::Instant;
//! use imap_proto::client::{Client, ClientConfig, Event};
//! use imap_proto::response::{Data, StatusKind};
//! use mail_wire::Secret;
//!
//! let now = Instant::now();
//! let mut client = Client::new(ClientConfig::imaps(), now);
//! let mut wire = Vec::new();
//! let mut exists = 0;
//! let (mut login, mut select) = (None, None);
//! let server_says: [&[u8]; 5] = [
//!     b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n",
//!     b"A0001 OK [CAPABILITY IMAP4rev1 IDLE] logged in\r\n",
//!     b"* 3 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\nA0002 OK [READ-WRITE] done\r\n",
//!     b"* BYE see you\r\n",
//!     b"A0003 OK bye\r\n",
//! ];
//! for bytes in server_says {
//!     client.feed(now, bytes);
//!     while let Some(event) = client.poll_event() {
//!         match event {
//!             Event::Ready { .. } => {
//!                 login = Some(client.login(now, "alice", &Secret::new("secret".into()))?);
//!             }
//!             Event::Completed { id, status, .. } if Some(id) == login => {
//!                 assert_eq!(status, StatusKind::Ok);
//!                 select = Some(client.select(now, "INBOX")?);
//!             }
//!             Event::Data(Data::Exists(n)) => exists = n,
//!             Event::Completed { id, .. } if Some(id) == select => {
//!                 client.logout(now)?;
//!             }
//!             Event::Closed(ending) => assert_eq!(ending, Ok(())),
//!             _ => {}
//!         }
//!     }
//!     while let Some(out) = client.poll_transmit() {
//!         wire.extend_from_slice(&out);
//!     }
//! }
//! assert_eq!(exists, 3);
//! assert_eq!(
//!     String::from_utf8(wire).unwrap(),
//!     "A0001 LOGIN alice secret\r\nA0002 SELECT INBOX\r\nA0003 LOGOUT\r\n"
//! );
//! assert!(client.is_closed());
//! # Ok::<(), imap_proto::client::ClientError>(())
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use mail_wire::Secret;
use mail_wire::sasl::{ClientSession, framing};
use mail_wire::session::Transmit;

use crate::command::{
    AuthenticateData, Base64, Command, CommandBody, FetchItems, IdleDone, NonEmpty, SearchKey,
    SelectParams, StoreKind,
};
use crate::core::{AString, Atom, Tag};
use crate::encode::{Encode, EncodeOptions, Encoded, LiteralPlus, Writer};
use crate::flag::Flag;
use crate::framer::{Framed, Framer};
use crate::mailbox::Mailbox;
use crate::response::{
    Capability, Code, Continuation, Data, Greeting, GreetingKind, Response, StatusKind,
    StatusResponse,
};
use crate::sequence::SequenceSet;
use crate::{List, ParseError};

mod config;
mod event;
mod gate;

pub use config::{
    ClientConfig, DEFAULT_COMMAND_TIMEOUT, DEFAULT_GREETING_TIMEOUT, DEFAULT_IDLE_REFRESH,
    DEFAULT_MAX_COMMANDS, MAX_IDLE_REFRESH, TlsPolicy,
};
pub use event::{ClientError, CommandId, Event, SessionError};

/// What a command in flight is, for what its completion does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A command of the application with nothing special about it.
    Plain,
    /// `SELECT` or `EXAMINE`: its `OK` means a mailbox is selected.
    Select,
    /// `CLOSE` or `UNSELECT`: its `OK` means none is.
    Unselect,
    /// `ENABLE`: only while one is in flight does `* ENABLED` count.
    Enable,
    /// The client's own `CAPABILITY` (setup, after STARTTLS, after login).
    Capability,
    /// The client's own `STARTTLS`.
    StartTls,
    /// `LOGIN`.
    Login,
    /// `AUTHENTICATE`: the SASL exchange is in `Client::sasl`.
    Authenticate,
    /// `IDLE`.
    Idle,
    /// `LOGOUT`.
    Logout,
}

impl Kind {
    /// Whether commands issued after it must wait for its completion (or, for IDLE, its
    /// `DONE`) before they go out.
    fn blocks(self) -> bool {
        matches!(self, Kind::StartTls | Kind::Authenticate | Kind::Idle)
    }

    /// Whether the server answers it with continuation requests (besides literals).
    fn waits_for_continuation(self) -> bool {
        matches!(self, Kind::Authenticate | Kind::Idle)
    }
}

/// Which output pieces carry credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Secrecy {
    None,
    /// Every piece (LOGIN).
    All,
    /// The last `n` octets (an AUTHENTICATE's initial response and its CRLF).
    Tail(usize),
}

/// A command on its way out: its encoding and how much of it was written.
struct Outgoing {
    encoded: Encoded,
    sent: usize,
    secrecy: Secrecy,
}

/// A command written (wholly or up to a synchronising literal) and not yet completed.
#[derive(Debug)]
struct InFlight {
    tag: String,
    /// `None` for the client's own commands, whose completion the application never sees.
    id: Option<CommandId>,
    kind: Kind,
    /// The count of output pieces queued once its latest piece was: a response to it may
    /// only come once the driver took that many.
    written_upto: u64,
}

/// Where an IDLE stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Idle {
    /// No IDLE.
    Off,
    /// `IDLE` sent, its `+` awaited.
    Requested,
    /// The server said `+` at this instant.
    Active(Instant),
    /// The refresh timer sent `DONE`: the completion is awaited, then `IDLE` goes out again.
    Renewing,
    /// The application called `done()` and `DONE` went out: the completion is awaited.
    Ending,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Greeting,
    Setup,
    TlsHandoff,
    Ready,
    Closed,
}

/// One IMAP client session; see the [module docs](self).
pub struct Client {
    config: ClientConfig,
    framer: Framer,
    input: BytesMut,
    out: VecDeque<Transmit>,
    /// Output pieces queued, and taken by the driver, since the start.
    pushed: u64,
    taken: u64,
    phase: Phase,
    tls: bool,
    preauth: bool,
    authenticated: bool,
    selected: bool,
    capabilities: Vec<Capability<'static>>,
    /// UTF8=ACCEPT or IMAP4rev2 enabled.
    utf8: bool,
    in_flight: VecDeque<InFlight>,
    /// The command in flight whose rest waits for a continuation request.
    writing: Option<(String, Outgoing)>,
    /// Commands issued behind a blocking one.
    queued: VecDeque<(InFlight, Outgoing)>,
    sasl: Option<ClientSession>,
    idle: Idle,
    idle_id: Option<CommandId>,
    /// `done()` was called while the IDLE's `+` or its renewal was awaited.
    done_wanted: bool,
    /// The IDLE awaiting its `+` is a renewal: its acceptance is not reported again.
    idle_renewal: bool,
    /// The application issued `LOGOUT` (it may still wait behind another command).
    logout_issued: bool,
    next_tag: u64,
    next_id: u64,
    events: VecDeque<Event>,
    created: Instant,
    /// When the last complete response arrived, or the first command went out after a
    /// quiet spell: the command timeout runs from here.
    progress: Instant,
}

impl fmt::Debug for Client {
    // The output is left out: it can hold a LOGIN line (docs/design.md section 3.6).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("phase", &self.phase)
            .field("tls", &self.tls)
            .field("authenticated", &self.authenticated)
            .field("in_flight", &self.in_flight)
            .field("queued", &self.queued.len())
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A session on a connection just opened at `now` (the greeting is still to come).
    pub fn new(config: ClientConfig, now: Instant) -> Self {
        Client {
            framer: Framer::client(config.framer),
            input: BytesMut::new(),
            out: VecDeque::new(),
            pushed: 0,
            taken: 0,
            phase: Phase::Greeting,
            tls: config.implicit_tls,
            preauth: false,
            authenticated: false,
            selected: false,
            capabilities: Vec::new(),
            utf8: false,
            in_flight: VecDeque::new(),
            writing: None,
            queued: VecDeque::new(),
            sasl: None,
            idle: Idle::Off,
            idle_id: None,
            done_wanted: false,
            idle_renewal: false,
            logout_issued: false,
            next_tag: 1,
            next_id: 1,
            events: VecDeque::new(),
            created: now,
            progress: now,
            config,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The capabilities last learnt (empty while unknown: after STARTTLS or a login whose
    /// `OK` did not list them, until the client's own `CAPABILITY` is answered).
    pub fn capabilities(&self) -> &[Capability<'static>] {
        &self.capabilities
    }

    /// Whether the server has `capability`.
    pub fn has_capability(&self, capability: &Capability<'_>) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    /// Whether the connection is TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Whether a login (or a `PREAUTH` greeting) succeeded.
    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// Whether a `SELECT` or `EXAMINE` succeeded (and no `CLOSE`/`UNSELECT` or failed
    /// `SELECT` followed).
    pub fn is_selected(&self) -> bool {
        self.selected
    }

    /// Whether an IDLE runs (requested, accepted, or being renewed) and `done()` was not
    /// called.
    pub fn is_idling(&self) -> bool {
        matches!(
            self.idle,
            Idle::Requested | Idle::Active(_) | Idle::Renewing
        ) && !self.done_wanted
    }

    /// Whether the session is over.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Whether the machine processes input now (not during the TLS hand-off, not once
    /// closed).
    pub fn wants_input(&self) -> bool {
        !matches!(self.phase, Phase::Closed | Phase::TlsHandoff)
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Bytes to write, if any.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.poll_transmit_marked().map(Transmit::into_bytes)
    }

    /// Bytes to write, marked [`Transmit::Secret`] for a `LOGIN` command and SASL
    /// responses.
    #[must_use]
    pub fn poll_transmit_marked(&mut self) -> Option<Transmit> {
        let piece = self.out.pop_front()?;
        self.taken += 1;
        Some(piece)
    }

    /// When [`Client::handle_timeout`] is due: the greeting timeout until the greeting, the
    /// IDLE refresh while an IDLE runs, the command timeout while a command is in flight.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Closed | Phase::TlsHandoff => None,
            Phase::Greeting => self.created.checked_add(self.config.greeting_timeout),
            _ => match self.idle {
                Idle::Active(since) if !self.done_wanted => {
                    since.checked_add(self.config.effective_idle_refresh())
                }
                _ if self.in_flight.is_empty() => None,
                _ => self.progress.checked_add(self.config.command_timeout),
            },
        }
    }

    /// Tells the machine the time: past the IDLE refresh, `DONE` goes out (and `IDLE` again
    /// once it is answered); past another deadline the session ends with
    /// [`SessionError::Timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(due) = self.poll_timeout() else {
            return;
        };
        if now < due {
            return;
        }
        if let Idle::Active(_) = self.idle {
            self.idle = Idle::Renewing;
            self.progress = now;
            self.push_plain(&IdleDone);
            return;
        }
        self.close(Err(SessionError::Timeout));
    }

    /// The server closed the connection.
    pub fn handle_eof(&mut self) {
        if self.logout_written() {
            self.close(Ok(()));
        } else {
            self.close(Err(SessionError::PeerClosed));
        }
    }

    /// The TLS handshake after [`Event::StartTls`] succeeded: the capabilities are
    /// forgotten and asked again (RFC 9051 section 6.2.1).
    ///
    /// # Errors
    ///
    /// [`ClientError::NoTlsPending`] without a preceding [`Event::StartTls`].
    pub fn tls_established(&mut self, now: Instant) -> Result<(), ClientError> {
        if self.phase != Phase::TlsHandoff {
            return Err(ClientError::NoTlsPending);
        }
        self.tls = true;
        self.phase = Phase::Setup;
        self.capabilities.clear();
        self.framer.reset();
        self.input.clear();
        self.progress = now;
        self.internal(CommandBody::Capability, Kind::Capability);
        Ok(())
    }

    /// Issues any command; the answer comes as [`Event::Data`] and the other untagged
    /// events, then [`Event::Completed`] with the returned id. `IDLE`, `LOGIN` and `LOGOUT`
    /// do what [`Client::idle`], [`Client::login`] and [`Client::logout`] do.
    ///
    /// # Errors
    ///
    /// [`ClientError::NotReady`] before [`Event::Ready`], [`ClientError::Closed`] after
    /// `LOGOUT` or the end, [`ClientError::Idling`] while an IDLE runs,
    /// [`ClientError::TooManyCommands`], [`ClientError::Reserved`] for `STARTTLS` and
    /// `AUTHENTICATE`, [`ClientError::PlaintextCredentials`] and
    /// [`ClientError::LoginDisabled`] for `LOGIN`, [`ClientError::NotAdvertised`] for a
    /// command (or an option of one) of an extension the server does not advertise:
    ///
    /// | Command or option | Needs |
    /// |---|---|
    /// | `IDLE` | `IDLE` or `IMAP4rev2` |
    /// | `[UID] MOVE` | `MOVE` or `IMAP4rev2` |
    /// | `UID EXPUNGE` | `UIDPLUS` or `IMAP4rev2` |
    /// | `ENABLE` | `ENABLE` or `IMAP4rev2` |
    /// | `NAMESPACE` | `NAMESPACE` or `IMAP4rev2` |
    /// | `UNSELECT` | `UNSELECT` or `IMAP4rev2` |
    /// | `ID` | `ID` |
    /// | `SEARCH RETURN (...)` | `ESEARCH` or `IMAP4rev2` |
    /// | `$` in a sequence set, `SEARCH RETURN (SAVE)` | `SEARCHRES` or `IMAP4rev2` |
    /// | `LIST` selection options, several patterns, `RETURN (SUBSCRIBED)`/`(CHILDREN)` | `LIST-EXTENDED` or `IMAP4rev2` |
    /// | `LIST ... RETURN (STATUS (...))` | `LIST-STATUS` or `IMAP4rev2` |
    /// | `LIST` `SPECIAL-USE` option (either kind) | `SPECIAL-USE` or `IMAP4rev2` |
    /// | `STATUS (SIZE)` | `STATUS=SIZE` or `IMAP4rev2` |
    /// | `STATUS (DELETED)` | `IMAP4rev2` or `QUOTA=RES-MESSAGE` |
    /// | `STATUS (DELETED-STORAGE)` | `QUOTA=RES-STORAGE` |
    /// | `STATUS (APPENDLIMIT)` | `APPENDLIMIT` |
    /// | `STATUS (HIGHESTMODSEQ)`, `FETCH MODSEQ`, `SEARCH MODSEQ`, `(CHANGEDSINCE n)`, `(UNCHANGEDSINCE n)`, `SELECT (CONDSTORE)` | `CONDSTORE` |
    /// | `SELECT (QRESYNC (...))`, `UID FETCH ... (VANISHED)` | `QRESYNC` |
    /// | `FETCH BINARY[...]`, `BINARY.SIZE[...]`, `APPEND` with a `~{n}` literal | `BINARY` or `IMAP4rev2` |
    /// | `APPEND` of several messages | `MULTIAPPEND` |
    /// | `APPEND` `UTF8 (~{n})` | `UTF8=ACCEPT` |
    /// | `CREATE ... (USE (...))` | `CREATE-SPECIAL-USE` |
    /// | `GETQUOTA`, `GETQUOTAROOT` / `SETQUOTA` | `QUOTA` / `QUOTASET` |
    /// | `SORT` / `THREAD alg` / `COMPRESS alg` | `SORT` / `THREAD=alg` / `COMPRESS=alg` |
    ///
    /// Nothing is sent then. While the capabilities are unknown (after a login whose `OK`
    /// did not list them, until the client's own `CAPABILITY` is answered) every command
    /// goes out and the server answers it. Literals need no capability: without `LITERAL+`
    /// (or `LITERAL-`, which `IMAP4rev2` includes, for literals up to 4096 octets) they are
    /// synchronising and wait for the server's `+`.
    pub fn command(
        &mut self,
        now: Instant,
        body: CommandBody<'_>,
    ) -> Result<CommandId, ClientError> {
        let kind = match &body {
            CommandBody::StartTls => return Err(ClientError::Reserved("STARTTLS")),
            CommandBody::Authenticate { .. } => return Err(ClientError::Reserved("AUTHENTICATE")),
            CommandBody::Login { .. } => {
                self.check_credentials_allowed()?;
                if self.has_capability(&Capability::LoginDisabled) {
                    return Err(ClientError::LoginDisabled);
                }
                Kind::Login
            }
            CommandBody::Idle => Kind::Idle,
            CommandBody::Logout => Kind::Logout,
            CommandBody::Select { .. } | CommandBody::Examine { .. } => Kind::Select,
            CommandBody::Close | CommandBody::Unselect => Kind::Unselect,
            CommandBody::Enable { .. } => Kind::Enable,
            _ => Kind::Plain,
        };
        // A command of an extension only to a server that advertises it (or IMAP4rev2,
        // which folds most in): see `gate`. While the capabilities are unknown (a login's OK
        // without them, the client's own CAPABILITY not yet answered) it goes out and the
        // server answers it.
        if let Some(capability) = gate::missing(&body, &self.capabilities) {
            return Err(ClientError::NotAdvertised(capability));
        }
        self.check_ready()?;
        let idle_pending = self
            .in_flight
            .iter()
            .chain(self.queued.iter().map(|(c, _)| c));
        if kind == Kind::Idle && idle_pending.into_iter().any(|c| c.kind == Kind::Idle) {
            // One IDLE at a time: the previous one's completion comes first.
            return Err(ClientError::Idling);
        }
        let secrecy = if kind == Kind::Login {
            Secrecy::All
        } else {
            Secrecy::None
        };
        let id = self.issue(now, body, kind, secrecy);
        if kind == Kind::Idle {
            self.idle_id = Some(id);
            self.idle = Idle::Requested;
            self.done_wanted = false;
        }
        if kind == Kind::Logout {
            self.logout_issued = true;
        }
        Ok(id)
    }

    /// `LOGIN user password` (the whole line marked secret).
    ///
    /// # Errors
    ///
    /// As [`Client::command`]; [`ClientError::Invalid`] for a user name or password with
    /// NUL.
    pub fn login(
        &mut self,
        now: Instant,
        user: &str,
        password: &Secret<String>,
    ) -> Result<CommandId, ClientError> {
        let username = AString::from_bytes(user.as_bytes()).map_err(ClientError::Invalid)?;
        let password =
            AString::from_bytes(password.expose().as_bytes()).map_err(ClientError::Invalid)?;
        self.command(now, CommandBody::Login { username, password })
    }

    /// `AUTHENTICATE` with a mail-wire SASL exchange (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER,
    /// SCRAM-SHA-256). The initial response goes with the command when the server has
    /// `SASL-IR` (RFC 4959) or `IMAP4rev2` (RFC 9051 section 6.2.2), otherwise in answer to
    /// the server's first, empty, challenge; each challenge is answered by the exchange; a challenge it
    /// cannot answer is cancelled (`*`), which the server answers `BAD`. On `OK` the
    /// exchange is finished (SCRAM checks the server's signature there), and a failure ends
    /// the session with [`SessionError::Sasl`].
    ///
    /// # Errors
    ///
    /// As [`Client::command`]; [`ClientError::Sasl`] when the initial response fails.
    pub fn authenticate(
        &mut self,
        now: Instant,
        mut session: ClientSession,
    ) -> Result<CommandId, ClientError> {
        self.check_ready()?;
        self.check_credentials_allowed()?;
        let mechanism =
            Atom::new(session.mechanism().name().to_owned()).map_err(ClientError::Invalid)?;
        // SASL-IR (RFC 4959), which IMAP4rev2 includes (RFC 9051 section 6.2.2); without it
        // the initial response answers the server's first, empty, challenge.
        let initial = if self.has_capability(&Capability::SaslIr)
            || self.has_capability(&Capability::Imap4Rev2)
        {
            session.initial_response().map_err(ClientError::Sasl)?
        } else {
            None
        };
        let initial = initial.map(|ir| framing::encode_initial_response(ir.expose()));
        let (initial_response, tail) = match &initial {
            Some(encoded) => {
                let text = Base64::new(encoded.expose().clone()).map_err(ClientError::Invalid)?;
                // The response, its CRLF: what the driver must never show.
                (Some(text), encoded.expose().len() + 2)
            }
            None => (None, 0),
        };
        let body = CommandBody::Authenticate {
            mechanism,
            initial_response,
        };
        let secrecy = if tail > 0 {
            Secrecy::Tail(tail)
        } else {
            Secrecy::None
        };
        let id = self.issue(now, body, Kind::Authenticate, secrecy);
        self.sasl = Some(session);
        Ok(id)
    }

    /// `SELECT mailbox` (`mailbox` as people write it: modified UTF-7 encoded unless UTF-8
    /// is enabled).
    ///
    /// # Errors
    ///
    /// As [`Client::command`]; [`ClientError::Invalid`] for a name with a control character.
    pub fn select(&mut self, now: Instant, mailbox: &str) -> Result<CommandId, ClientError> {
        let mailbox = Mailbox::from_utf8(mailbox, self.utf8).map_err(ClientError::Invalid)?;
        self.command(
            now,
            CommandBody::Select {
                mailbox,
                params: SelectParams::default(),
            },
        )
    }

    /// `[UID] FETCH set items`.
    ///
    /// # Errors
    ///
    /// As [`Client::command`].
    pub fn fetch(
        &mut self,
        now: Instant,
        uid: bool,
        sequence_set: SequenceSet,
        items: FetchItems<'_>,
    ) -> Result<CommandId, ClientError> {
        self.command(
            now,
            CommandBody::Fetch {
                uid,
                sequence_set,
                items,
                changed_since: None,
                vanished: false,
            },
        )
    }

    /// `[UID] STORE set [+|-]FLAGS[.SILENT] (flags)`.
    ///
    /// # Errors
    ///
    /// As [`Client::command`].
    pub fn store(
        &mut self,
        now: Instant,
        uid: bool,
        sequence_set: SequenceSet,
        kind: StoreKind,
        silent: bool,
        flags: Vec<Flag<'_>>,
    ) -> Result<CommandId, ClientError> {
        self.command(
            now,
            CommandBody::Store {
                uid,
                sequence_set,
                unchanged_since: None,
                kind,
                silent,
                flags: flags.into_iter().collect::<List<_>>(),
            },
        )
    }

    /// `[UID] SEARCH keys` (no charset: write non-ASCII strings only with UTF-8 enabled).
    ///
    /// # Errors
    ///
    /// As [`Client::command`].
    pub fn search(
        &mut self,
        now: Instant,
        uid: bool,
        criteria: NonEmpty<SearchKey<'_>>,
    ) -> Result<CommandId, ClientError> {
        self.command(
            now,
            CommandBody::Search {
                uid,
                return_options: None,
                charset: None,
                criteria,
            },
        )
    }

    /// `NOOP`: gives the server a chance to send news.
    ///
    /// # Errors
    ///
    /// As [`Client::command`].
    pub fn noop(&mut self, now: Instant) -> Result<CommandId, ClientError> {
        self.command(now, CommandBody::Noop)
    }

    /// `IDLE` (RFC 2177, RFC 9051 section 6.3.13): [`Event::Idling`] once the server
    /// accepts, then news as [`Event::Data`] until [`Client::done`]; its
    /// [`Event::Completed`] comes after `done()` (or when the server ends it). The client
    /// renews it by itself every [`ClientConfig::idle_refresh`].
    ///
    /// # Errors
    ///
    /// As [`Client::command`]; [`ClientError::Idling`] until the previous IDLE completed;
    /// [`ClientError::NotAdvertised`] when the server advertises neither `IDLE` nor
    /// `IMAP4rev2` (poll with [`Client::noop`] instead).
    pub fn idle(&mut self, now: Instant) -> Result<CommandId, ClientError> {
        self.command(now, CommandBody::Idle)
    }

    /// Ends the IDLE: `DONE` goes out now (or as soon as the server accepted the IDLE), and
    /// commands may be issued at once; they go out after `DONE`.
    ///
    /// # Errors
    ///
    /// [`ClientError::NotIdling`] when no IDLE runs, [`ClientError::Closed`] once over.
    pub fn done(&mut self, now: Instant) -> Result<(), ClientError> {
        if self.phase == Phase::Closed {
            return Err(ClientError::Closed);
        }
        if !self.is_idling() {
            return Err(ClientError::NotIdling);
        }
        match self.idle {
            Idle::Active(_) => {
                self.progress = now;
                self.idle = Idle::Ending;
                self.push_plain(&IdleDone);
                self.pump();
            }
            // `DONE` goes out when the `+` comes; a renewal's completion ends it.
            _ => self.done_wanted = true,
        }
        Ok(())
    }

    /// `LOGOUT`: the session ends with `Ok(())` on its completion.
    ///
    /// # Errors
    ///
    /// As [`Client::command`].
    pub fn logout(&mut self, now: Instant) -> Result<CommandId, ClientError> {
        self.command(now, CommandBody::Logout)
    }

    fn check_ready(&self) -> Result<(), ClientError> {
        match self.phase {
            Phase::Closed => Err(ClientError::Closed),
            Phase::Ready if self.logout_issued => Err(ClientError::Closed),
            Phase::Ready if self.is_idling() => Err(ClientError::Idling),
            Phase::Ready
                if self.in_flight.len() + self.queued.len() >= self.config.max_commands =>
            {
                Err(ClientError::TooManyCommands)
            }
            Phase::Ready => Ok(()),
            _ => Err(ClientError::NotReady),
        }
    }

    /// Whether the `LOGOUT` went out (the driver took it): only then are a `BYE` and the
    /// end of the connection its answer rather than the server's own doing.
    fn logout_written(&self) -> bool {
        self.in_flight
            .iter()
            .any(|c| c.kind == Kind::Logout && self.taken >= c.written_upto)
    }

    fn check_credentials_allowed(&self) -> Result<(), ClientError> {
        if !self.tls && !self.config.allow_plaintext_auth {
            return Err(ClientError::PlaintextCredentials);
        }
        Ok(())
    }

    /// Tags, encodes and queues an application command.
    fn issue(
        &mut self,
        now: Instant,
        body: CommandBody<'_>,
        kind: Kind,
        secrecy: Secrecy,
    ) -> CommandId {
        if self.in_flight.is_empty() && self.queued.is_empty() {
            // The command timeout runs from the first command after a quiet spell.
            self.progress = now;
        }
        let id = CommandId(self.next_id);
        self.next_id += 1;
        self.enqueue(body, kind, Some(id), secrecy);
        id
    }

    /// Queues one of the client's own commands.
    fn internal(&mut self, body: CommandBody<'_>, kind: Kind) {
        self.enqueue(body, kind, None, Secrecy::None);
    }

    fn encode_options(&self) -> EncodeOptions {
        let literal_plus = if self.has_capability(&Capability::LiteralPlus) {
            LiteralPlus::Plus
        } else if self.has_capability(&Capability::LiteralMinus)
            || self.has_capability(&Capability::Imap4Rev2)
        {
            // IMAP4rev2 includes LITERAL- (RFC 9051 section 4.3).
            LiteralPlus::Minus
        } else {
            LiteralPlus::None
        };
        EncodeOptions {
            literal_plus,
            utf8: self.utf8,
        }
    }

    fn enqueue(
        &mut self,
        body: CommandBody<'_>,
        kind: Kind,
        id: Option<CommandId>,
        secrecy: Secrecy,
    ) {
        let tag_text = format!("A{:04}", self.next_tag);
        self.next_tag += 1;
        // `A` and digits: always a valid tag.
        let Ok(tag) = Tag::new(tag_text.clone()) else {
            return;
        };
        let mut w = Writer::new(self.encode_options());
        Command::new(tag, body).encode(&mut w);
        let outgoing = Outgoing {
            encoded: w.finish(),
            sent: 0,
            secrecy,
        };
        let in_flight = InFlight {
            tag: tag_text,
            id,
            kind,
            written_upto: 0,
        };
        self.queued.push_back((in_flight, outgoing));
        self.pump();
    }

    /// Whether a command in flight keeps later ones from going out.
    fn blocked(&self) -> bool {
        self.writing.is_some()
            || self
                .in_flight
                .iter()
                .any(|c| c.kind.blocks() && !(c.kind == Kind::Idle && self.idle == Idle::Ending))
    }

    /// Writes queued commands while nothing blocks them.
    fn pump(&mut self) {
        while self.phase != Phase::Closed && !self.blocked() {
            let Some((mut in_flight, mut outgoing)) = self.queued.pop_front() else {
                break;
            };
            let whole = self.write_next(&mut outgoing);
            in_flight.written_upto = self.pushed;
            if !whole {
                self.writing = Some((in_flight.tag.clone(), outgoing));
            }
            self.in_flight.push_back(in_flight);
        }
    }

    /// Queues the next piece of `outgoing` (up to its next wait point); `true` once whole.
    fn write_next(&mut self, outgoing: &mut Outgoing) -> bool {
        let bytes = outgoing.encoded.as_bytes();
        let end = outgoing
            .encoded
            .wait_points()
            .iter()
            .copied()
            .find(|&w| w > outgoing.sent)
            .unwrap_or(bytes.len());
        let piece = bytes.get(outgoing.sent..end).unwrap_or(&[]);
        match outgoing.secrecy {
            Secrecy::None => self.push(Transmit::Plain(Bytes::copy_from_slice(piece))),
            Secrecy::All => self.push(Transmit::Secret(Bytes::copy_from_slice(piece))),
            Secrecy::Tail(n) => {
                let split = bytes.len().saturating_sub(n).clamp(outgoing.sent, end);
                let (head, tail) = piece.split_at(split - outgoing.sent);
                if !head.is_empty() {
                    self.push(Transmit::Plain(Bytes::copy_from_slice(head)));
                }
                if !tail.is_empty() {
                    self.push(Transmit::Secret(Bytes::copy_from_slice(tail)));
                }
            }
        }
        outgoing.sent = end;
        end >= bytes.len()
    }

    fn push(&mut self, piece: Transmit) {
        self.out.push_back(piece);
        self.pushed += 1;
    }

    fn push_plain(&mut self, value: &impl Encode) {
        self.push(Transmit::Plain(Bytes::from(value.to_bytes())));
    }

    fn close(&mut self, ending: Result<(), SessionError>) {
        if self.phase == Phase::Closed {
            return;
        }
        self.phase = Phase::Closed;
        self.input.clear();
        // Nothing more goes out once the session is over: not a command (nor a password)
        // queued before the server's BYE or a protocol error was read.
        self.out.clear();
        self.in_flight.clear();
        self.queued.clear();
        self.writing = None;
        self.sasl = None;
        self.idle = Idle::Off;
        self.events.push_back(Event::Closed(ending));
    }

    /// Bytes read from the server, in any chunking.
    pub fn feed(&mut self, now: Instant, bytes: &[u8]) {
        if bytes.is_empty() || self.phase == Phase::Closed {
            return;
        }
        if self.phase == Phase::TlsHandoff {
            return self.close(Err(SessionError::StartTlsInjection));
        }
        self.input.extend_from_slice(bytes);
        while matches!(self.phase, Phase::Greeting | Phase::Setup | Phase::Ready) {
            let mut rest = &self.input[..];
            let before = rest.len();
            let frame = self.framer.next_frame(&mut rest);
            let consumed = before - rest.len();
            let parsed = match frame {
                None => None,
                Some(Framed::Message(message)) => Some(Ok(if self.phase == Phase::Greeting {
                    Greeting::parse(message).map(|g| Parsed::Greeting(g.into_static()))
                } else {
                    Response::parse(message).map(|r| Parsed::Response(r.into_static()))
                })),
                Some(Framed::Error(error)) => Some(Err(error)),
                // A client-side framer reports no literals.
                Some(Framed::Literal(_)) => None,
            };
            let _ = self.input.split_to(consumed);
            let Some(parsed) = parsed else {
                break;
            };
            self.progress = now;
            match parsed {
                Err(error) => return self.close(Err(SessionError::TooLarge(error))),
                Ok(Err(error)) => return self.malformed(error),
                Ok(Ok(Parsed::Greeting(greeting))) => self.on_greeting(greeting),
                Ok(Ok(Parsed::Response(response))) => self.on_response(now, response),
            }
        }
        if self.phase == Phase::TlsHandoff && !self.input.is_empty() {
            // RFC 9051 section 6.2.1: nothing may come between the OK and the handshake.
            self.close(Err(SessionError::StartTlsInjection));
        }
    }

    fn malformed(&mut self, error: ParseError) {
        self.close(Err(SessionError::Malformed(error)));
    }

    fn on_greeting(&mut self, greeting: Greeting<'static>) {
        match greeting.kind() {
            GreetingKind::Bye => {
                let text = greeting
                    .text()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default();
                return self.close(Err(SessionError::Refused(text)));
            }
            GreetingKind::PreAuth => {
                self.preauth = true;
                self.authenticated = true;
            }
            GreetingKind::Ok => {}
        }
        let capabilities = match greeting.code() {
            Some(Code::Capability(list)) => Some(list.iter().cloned().collect::<Vec<_>>()),
            _ => None,
        };
        self.events.push_back(Event::Greeting(greeting));
        if self.preauth && !self.tls && self.config.tls == TlsPolicy::Required {
            return self.close(Err(SessionError::PreauthWithoutTls));
        }
        self.phase = Phase::Setup;
        match capabilities {
            Some(list) => {
                self.set_capabilities(list);
                self.after_capabilities();
            }
            None => self.internal(CommandBody::Capability, Kind::Capability),
        }
    }

    fn set_capabilities(&mut self, list: Vec<Capability<'static>>) {
        self.capabilities = list.clone();
        self.events.push_back(Event::Capabilities(list));
    }

    /// In setup, once the capabilities are known: STARTTLS as the policy says, or ready.
    fn after_capabilities(&mut self) {
        if self.phase != Phase::Setup {
            return;
        }
        if !self.tls && !self.preauth {
            let offered = self.has_capability(&Capability::StartTls);
            match self.config.tls {
                TlsPolicy::Required if !offered => {
                    return self.close(Err(SessionError::TlsUnavailable));
                }
                TlsPolicy::Required | TlsPolicy::Opportunistic if offered => {
                    return self.internal(CommandBody::StartTls, Kind::StartTls);
                }
                TlsPolicy::Opportunistic => self.events.push_back(Event::PlaintextFallback),
                _ => {}
            }
        } else if !self.tls && self.config.tls == TlsPolicy::Opportunistic {
            // PREAUTH: STARTTLS is only possible before authentication.
            self.events.push_back(Event::PlaintextFallback);
        }
        self.ready();
    }

    fn ready(&mut self) {
        self.phase = Phase::Ready;
        self.events.push_back(Event::Ready {
            authenticated: self.preauth,
        });
    }

    fn on_response(&mut self, now: Instant, response: Response<'static>) {
        match response {
            Response::Continuation(continuation) => self.on_continuation(now, continuation),
            Response::Data(Data::Capability(list)) => {
                self.set_capabilities(list.into_vec());
            }
            Response::Data(data) => {
                // Only the answer to our ENABLE (RFC 5161 section 3.2): one sent before TLS or
                // login by a man in the middle must not switch the mailbox name encoding.
                let asked = self.in_flight.iter().any(|c| c.kind == Kind::Enable);
                if let (Data::Enabled(list), true) = (&data, asked) {
                    if list
                        .iter()
                        .any(|c| matches!(c, Capability::Utf8Accept | Capability::Imap4Rev2))
                    {
                        self.utf8 = true;
                    }
                }
                self.events.push_back(Event::Data(data));
            }
            Response::Status(status) if status.tag().is_some() => self.on_tagged(status),
            Response::Status(status) => self.on_untagged(status),
        }
    }

    fn on_untagged(&mut self, status: StatusResponse<'static>) {
        if let Some(Code::Capability(list)) = status.code() {
            let list = list.iter().cloned().collect();
            self.set_capabilities(list);
        }
        let text = || {
            status
                .text()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default()
        };
        match status.kind() {
            StatusKind::Bye if self.logout_written() => {}
            StatusKind::Bye => self.close(Err(SessionError::Bye(text()))),
            _ if matches!(status.code(), Some(Code::Alert)) => {
                self.events.push_back(Event::Alert(text()));
            }
            _ => self.events.push_back(Event::Status(status)),
        }
    }

    fn on_tagged(&mut self, status: StatusResponse<'static>) {
        let tag = status.tag().map(|t| t.as_str()).unwrap_or_default();
        let position = self.in_flight.iter().position(|c| c.tag == tag);
        let Some(command) = position.and_then(|p| self.in_flight.remove(p)) else {
            return self.close(Err(SessionError::UnknownTag(tag.to_owned())));
        };
        if self.taken < command.written_upto {
            // The server answered bytes the driver has not written yet.
            return self.close(Err(SessionError::UnknownTag(command.tag)));
        }
        if self
            .writing
            .as_ref()
            .is_some_and(|(t, _)| *t == command.tag)
        {
            // Refused before its literal's data: the rest is never sent.
            self.writing = None;
        }
        let ok = status.kind() == StatusKind::Ok;
        match status.code() {
            // The OK to STARTTLS comes before TLS: its list may be a man in the middle's
            // (RFC 9051 section 6.2.1); the one asked for inside TLS is what counts.
            Some(Code::Capability(_)) if command.kind == Kind::StartTls => {}
            Some(Code::Capability(list)) => {
                let list = list.iter().cloned().collect();
                self.set_capabilities(list);
            }
            _ => {}
        }
        match command.kind {
            Kind::Capability => {
                self.after_capabilities();
                return self.pump();
            }
            Kind::StartTls if ok => {
                self.phase = Phase::TlsHandoff;
                self.events.push_back(Event::StartTls);
                return;
            }
            Kind::StartTls => {
                if self.config.tls == TlsPolicy::Required {
                    return self.close(Err(SessionError::TlsUnavailable));
                }
                self.events.push_back(Event::PlaintextFallback);
                self.ready();
                return self.pump();
            }
            Kind::Login | Kind::Authenticate => {
                let sasl = self.sasl.take();
                if ok {
                    if let Some(mut sasl) = sasl {
                        if let Err(error) = sasl.finish(None) {
                            return self.close(Err(SessionError::Sasl(error)));
                        }
                    }
                    self.authenticated = true;
                    if !matches!(status.code(), Some(Code::Capability(_))) {
                        // RFC 9051 section 6.2.2: capabilities may change with login.
                        self.capabilities.clear();
                        self.internal(CommandBody::Capability, Kind::Capability);
                    }
                }
            }
            Kind::Select => self.selected = ok,
            Kind::Unselect if ok => self.selected = false,
            Kind::Idle if self.idle == Idle::Renewing && ok && !self.done_wanted => {
                // The refresh: IDLE again, under the same id, unreported.
                self.idle = Idle::Requested;
                self.idle_renewal = true;
                self.enqueue(CommandBody::Idle, Kind::Idle, command.id, Secrecy::None);
                return;
            }
            Kind::Idle => {
                self.idle = Idle::Off;
                self.done_wanted = false;
                self.idle_renewal = false;
                self.idle_id = None;
            }
            _ => {}
        }
        if let Some(id) = command.id {
            let (_, kind, code, text) = status.into_parts();
            self.events.push_back(Event::Completed {
                id,
                status: kind,
                code,
                text: text.map(|t| t.as_str().to_owned()),
            });
        }
        if command.kind == Kind::Logout && ok {
            return self.close(Ok(()));
        }
        self.pump();
    }

    fn on_continuation(&mut self, now: Instant, continuation: Continuation<'static>) {
        if self
            .in_flight
            .iter()
            .any(|c| c.kind.waits_for_continuation() && self.taken < c.written_upto)
            || self.writing.as_ref().is_some_and(|(tag, _)| {
                self.in_flight
                    .iter()
                    .any(|c| c.tag == *tag && self.taken < c.written_upto)
            })
        {
            // A `+` read before the line it would answer was even written.
            return self.close(Err(SessionError::UnexpectedContinuation));
        }
        if let Some((tag, mut outgoing)) = self.writing.take() {
            let whole = self.write_next(&mut outgoing);
            if let Some(command) = self.in_flight.iter_mut().find(|c| c.tag == tag) {
                command.written_upto = self.pushed;
            }
            if !whole {
                self.writing = Some((tag, outgoing));
            }
            return self.pump();
        }
        if self.in_flight.iter().any(|c| c.kind == Kind::Authenticate) {
            return self.sasl_step(continuation);
        }
        // Only an IDLE that went out can be accepted (one may wait behind a literal).
        let idle_sent = self.in_flight.iter().any(|c| c.kind == Kind::Idle);
        if self.idle == Idle::Requested && idle_sent {
            if self.done_wanted {
                self.idle = Idle::Ending;
                self.progress = now;
                self.push_plain(&IdleDone);
                return self.pump();
            }
            self.idle = Idle::Active(now);
            if let (Some(id), false) = (self.idle_id, self.idle_renewal) {
                self.events.push_back(Event::Idling { id });
            }
            self.idle_renewal = false;
            return;
        }
        self.close(Err(SessionError::UnexpectedContinuation));
    }

    fn sasl_step(&mut self, continuation: Continuation<'static>) {
        let step = match (&continuation, self.sasl.as_mut()) {
            (Continuation::Base64(challenge), Some(sasl)) => sasl.step(challenge).ok(),
            // A challenge that is not base64 cannot be answered.
            _ => None,
        };
        let line = match step {
            Some(response) => {
                let encoded = framing::encode_response(response.expose());
                match Base64::new(encoded.expose().clone()) {
                    Ok(text) => Some(AuthenticateData::Response(text)),
                    Err(_) => None,
                }
            }
            None => None,
        };
        match line {
            Some(line) => {
                let bytes = Bytes::from(line.to_bytes());
                self.push(Transmit::Secret(bytes));
            }
            // RFC 9051 section 6.2.2: `*` cancels; the server answers BAD.
            None => self.push_plain(&AuthenticateData::Cancel),
        }
        let pushed = self.pushed;
        if let Some(command) = self
            .in_flight
            .iter_mut()
            .find(|c| c.kind == Kind::Authenticate)
        {
            command.written_upto = pushed;
        }
    }
}

/// A parsed message from the server.
enum Parsed {
    Greeting(Greeting<'static>),
    Response(Response<'static>),
}

mail_wire::delegate_session!(Client {
    Event = Event,
    Error = SessionError,
    Misuse = ClientError,
    StartTls = Event::StartTls,
    Closed = Event::Closed,
    also = [poll_transmit_marked],
});
