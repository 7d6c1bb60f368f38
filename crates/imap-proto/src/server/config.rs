//! [`ServerConfig`]: what the server offers, and every limit with its source.

use std::time::Duration;

use mail_wire::sasl::Mechanism;

use crate::response::{Capability, Namespace};
use crate::view::ViewConfig;

/// Which non-synchronising literals the server accepts (RFC 7888).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LiteralPlus {
    /// `LITERAL+`: every literal may be sent as `{n+}`.
    Plus,
    /// `LITERAL-`: `{n+}` only up to [`LITERAL_MINUS_MAX`] octets; a larger one is answered
    /// `BAD` and its data skipped (RFC 7888 section 4).
    Minus,
    /// Neither: a `{n+}` literal is answered `BAD` and its data skipped.
    Off,
}

/// The largest non-synchronising literal under `LITERAL-`: 4096 octets (RFC 7888 section 5).
pub const LITERAL_MINUS_MAX: u64 = 4096;

/// Default [`ServerConfig::max_line`]: 64 KiB, Dovecot's `imap_max_line_length`.
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

/// Why [`ServerConfig::check`] refuses a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A text the server sends (`greeting_text`, `preauth`) holds a control octet or starts
    /// with `[`.
    #[error("{field}: a control octet, or a leading '[', in a text the server sends")]
    BadText {
        /// Which field.
        field: &'static str,
    },
    /// A PREAUTH greeting where TLS is required: the client would be logged in over
    /// plaintext (RFC 9051 section 11.1 asks for TLS before any authenticated state).
    #[error("a PREAUTH greeting needs TLS: implicit_tls, or allow_plaintext_auth")]
    PreauthWithoutTls,
    /// No TLS, no STARTTLS, no plaintext credentials and no PREAUTH: the server announces
    /// `LOGINDISABLED` and no client can ever log in.
    #[error("no way to log in: enable starttls, implicit_tls or allow_plaintext_auth")]
    NoWayToLogIn,
    /// `idle_timeout` under 30 minutes (RFC 9051 section 5.4).
    #[error("idle_timeout under 30 minutes (RFC 9051 section 5.4)")]
    IdleTimeoutTooShort,
    /// A limit of zero that would refuse everything (`max_line` under 64 octets,
    /// `append_chunk` 0, `max_pipelined` 0).
    #[error("{field}: too small")]
    TooSmall {
        /// Which field.
        field: &'static str,
    },
}

/// What the server offers, and its limits. Build it from [`ServerConfig::default`] and
/// change the fields you need.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The greeting's text: `* OK [CAPABILITY ...] text`.
    pub greeting_text: String,
    /// The connection is TLS from its start (port 993): no STARTTLS, credentials allowed.
    pub implicit_tls: bool,
    /// Offer STARTTLS before TLS: true.
    pub starttls: bool,
    /// Accept credentials without TLS: false, so that before TLS the server announces
    /// `LOGINDISABLED` and no `AUTH=` (RFC 9051 section 6.2.3, RFC 3501 section 6.2.3).
    pub allow_plaintext_auth: bool,
    /// The SASL mechanisms offered (`AUTH=`): PLAIN and SCRAM-SHA-256. LOGIN, XOAUTH2 and
    /// OAUTHBEARER are possible too.
    pub sasl_mechanisms: Vec<Mechanism>,
    /// A PREAUTH greeting with this text: the session starts authenticated (the connection
    /// was authenticated by other means). [`ServerConfig::check`] refuses it where TLS is
    /// required. No [`Event::Authenticated`](super::Event::Authenticated) comes for it.
    pub preauth: Option<String>,
    /// Advertise IMAP4rev2 beside IMAP4rev1 and accept `ENABLE IMAP4rev2`: false.
    pub imap4rev2: bool,
    /// What the application implements beyond the machine's own capabilities: `UIDPLUS`,
    /// `MOVE`, `CONDSTORE`, `QRESYNC`, `SPECIAL-USE`, `LIST-EXTENDED`, `LIST-STATUS`,
    /// `ESEARCH`, `QUOTA`, ... ENABLE accepts `CONDSTORE`, `QRESYNC` and `UTF8=ACCEPT` only
    /// when they are listed here. What the machine announces by itself from the state, TLS
    /// and the other fields is ignored here: `IMAP4rev2`, `AUTH=`, `LOGINDISABLED`,
    /// `STARTTLS`, `SASL-IR`, `LITERAL+`, `LITERAL-`, `NAMESPACE`, `APPENDLIMIT`.
    pub capabilities: Vec<Capability<'static>>,
    /// Non-synchronising literals: `LITERAL+`.
    pub literal_plus: LiteralPlus,
    /// The largest message APPEND takes (`APPENDLIMIT=n`, RFC 7889): 64 MiB. A larger one is
    /// answered `NO [TOOBIG]`. `None`: no limit is announced, and messages of any size are
    /// streamed (the application bounds what it stores).
    pub append_limit: Option<u64>,
    /// The longest command line, CRLF included: 64 KiB (Dovecot's `imap_max_line_length`).
    /// A longer one is answered `BAD` (with its tag when readable) and skipped.
    pub max_line: usize,
    /// The largest literal of a command other than APPEND's message: 64 KiB. A larger one is
    /// answered `NO [TOOBIG]`.
    pub max_literal: u64,
    /// The most octets of one command other than APPEND's messages, its literals included:
    /// 256 KiB. A command that would pass it is answered `NO [TOOBIG]`.
    pub max_command: u64,
    /// Commands answered `BAD` before the session ends with `* BYE`: 20.
    pub max_errors: u32,
    /// Failed logins before the session ends with `* BYE`: 3.
    pub max_auth_failures: u32,
    /// How long the answer to a failed login is held back: 2 s (Dovecot
    /// `auth_failure_delay`).
    pub auth_failure_delay: Duration,
    /// Time allowed to log in, from the session's start (whatever the client sends
    /// meanwhile), and idle time allowed before login: 60 s, then `* BYE Autologout`
    /// (Dovecot's pre-login timeout is absolute too; unauthenticated connections must not
    /// hold slots).
    pub login_timeout: Duration,
    /// Idle time allowed after login, IDLE included: 30 minutes, the least RFC 9051 section
    /// 5.4 allows.
    pub idle_timeout: Duration,
    /// The selected mailbox's view: how many changes may queue.
    pub view: ViewConfig,
    /// What `ID` answers (RFC 2971): `None` answers `* ID NIL`.
    pub id: Option<Vec<(String, String)>>,
    /// What `NAMESPACE` answers (RFC 2342); `None`: NAMESPACE is not offered.
    pub namespace: Option<Namespace<'static>>,
    /// APPEND's message data is handed over in pieces of at most this many octets: 64 KiB.
    pub append_chunk: usize,
    /// Most commands framed ahead while one waits for the application: 16. Beyond that
    /// the machine reads nothing more ([`Server::wants_input`](super::Server::wants_input) is
    /// false) until commands are answered; 0 reads nothing while a command is pending.
    /// Commands are still answered one at a time, in order (RFC 9051 section 5.5).
    pub max_pipelined: usize,
    /// NOOP and CHECK in the selected state come out as
    /// [`Event::Command`](super::Event::Command), answered with
    /// [`Server::complete`](super::Server::complete), instead of being answered by the
    /// machine: false. Turn it on when the store reports changes asynchronously (a queue
    /// the driver drains into [`Server::mailbox_changed`](super::Server::mailbox_changed)):
    /// the application then hands over what is queued before completing, and every change
    /// committed before the NOOP was read is in its answer. Off, the machine answers at
    /// once with what it was told (RFC 9051 section 5.2 asks no more; docs/imap.md, "The
    /// NOOP window").
    pub noop_as_command: bool,
    /// Most unprocessed input held, commands framed ahead included: 300 KiB (a command of `max_command` and a line more). A
    /// driver that reads only while `wants_input` holds stays under it; more closes the
    /// session.
    pub max_buffered_input: usize,
    /// Close the session on an HTTP request line in the command phase: a whole line of the
    /// shape `METHOD SP request-target SP HTTP/d.d` ([`mail_wire::http::is_request_line`];
    /// `GET NOOP`, the command NOOP tagged `GET`, is not one), or a line too long to frame
    /// that starts like one ([`mail_wire::http::starts_like_request_line`]). The reply is
    /// `* BYE`, the session ends with [`SessionError::HttpRequest`], and nothing sent after
    /// the line is read: a web page cannot make a browser log in with credentials it knows
    /// through the IMAP commands of a form's body. Default on; off, such a line is answered
    /// `BAD` as before.
    ///
    /// [`SessionError::HttpRequest`]: super::SessionError::HttpRequest
    pub refuse_http: bool,
}

/// Default [`ServerConfig::append_limit`]: 64 MiB.
pub const DEFAULT_APPEND_LIMIT: u64 = 64 * 1024 * 1024;

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            greeting_text: "IMAP server ready".into(),
            implicit_tls: false,
            starttls: true,
            allow_plaintext_auth: false,
            sasl_mechanisms: vec![Mechanism::Plain, Mechanism::ScramSha256],
            preauth: None,
            imap4rev2: false,
            capabilities: Vec::new(),
            literal_plus: LiteralPlus::Plus,
            append_limit: Some(DEFAULT_APPEND_LIMIT),
            max_line: DEFAULT_MAX_LINE,
            max_literal: 64 * 1024,
            max_command: 256 * 1024,
            refuse_http: true,
            max_errors: 20,
            max_auth_failures: 3,
            auth_failure_delay: Duration::from_secs(2),
            login_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(30 * 60),
            view: ViewConfig::default(),
            id: None,
            namespace: None,
            append_chunk: 64 * 1024,
            max_pipelined: 16,
            noop_as_command: false,
            max_buffered_input: 300 * 1024,
        }
    }
}

impl ServerConfig {
    /// Port 993: implicit TLS, no STARTTLS.
    pub fn imaps() -> Self {
        ServerConfig {
            implicit_tls: true,
            starttls: false,
            ..ServerConfig::default()
        }
    }

    /// Refuses what would break the protocol or a rule: texts that could inject a line,
    /// PREAUTH without TLS, no way to log in, an idle timeout under 30 minutes, limits too
    /// small to work.
    /// [`Server::new`](super::Server::new) does not refuse: it sends control octets as
    /// spaces and clamps the limits.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found.
    pub fn check(&self) -> Result<(), ConfigError> {
        let bad = |t: &str| t.bytes().any(|b| b < 0x20 || b == 0x7f) || t.starts_with('[');
        if bad(&self.greeting_text) {
            return Err(ConfigError::BadText {
                field: "greeting_text",
            });
        }
        if let Some(text) = &self.preauth {
            if bad(text) {
                return Err(ConfigError::BadText { field: "preauth" });
            }
            if !self.implicit_tls && !self.allow_plaintext_auth {
                return Err(ConfigError::PreauthWithoutTls);
            }
        }
        if !self.implicit_tls
            && !self.starttls
            && !self.allow_plaintext_auth
            && self.preauth.is_none()
        {
            return Err(ConfigError::NoWayToLogIn);
        }
        if self.idle_timeout < Duration::from_secs(30 * 60) {
            return Err(ConfigError::IdleTimeoutTooShort);
        }
        if self.max_line < 64 {
            return Err(ConfigError::TooSmall { field: "max_line" });
        }
        if self.append_chunk == 0 {
            return Err(ConfigError::TooSmall {
                field: "append_chunk",
            });
        }
        Ok(())
    }

    /// The configuration with its wire texts cleaned and its limits clamped to working
    /// values.
    pub(super) fn sanitised(mut self) -> Self {
        fn clean(text: &mut String) {
            let cleaned: String = text
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            *text = cleaned.trim_start_matches('[').to_owned();
            if text.trim().is_empty() {
                *text = "ready".into();
            }
        }
        clean(&mut self.greeting_text);
        if let Some(text) = &mut self.preauth {
            clean(text);
        }
        self.max_line = self.max_line.max(64);
        self.append_chunk = self.append_chunk.max(1);
        self.max_buffered_input = self.max_buffered_input.max(self.max_line + 64);
        self
    }
}
