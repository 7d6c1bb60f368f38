//! The server's configuration: [`ServerConfig`], [`Mode`], and every limit with its source.

use std::time::Duration;

use mail_wire::dot::BareLineEnding;
use mail_wire::line::BareLf;
use mail_wire::sasl::Mechanism;

use crate::types::Domain;

#[cfg(doc)]
use super::{Event, Server};

/// Longest AUTH command line a server must accept: 12288 octets (RFC 4954 section 4).
pub const AUTH_LINE_LIMIT: usize = 12288;

/// Which protocol the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// SMTP and ESMTP (RFC 5321): HELO or EHLO, one reply after the message.
    #[default]
    Smtp,
    /// LMTP (RFC 2033): LHLO only, one reply per accepted recipient after the message.
    Lmtp,
}

/// The server's configuration: its name, limits, TLS and AUTH policy and extensions.
///
/// `#[non_exhaustive]`: start from [`Default`] (a relay on port 25 with STARTTLS off) or one
/// of the listener presets and set fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The name in the greeting and the EHLO reply. Default `localhost`.
    pub hostname: Domain<'static>,
    /// SMTP or LMTP.
    pub mode: Mode,
    /// Longest command line, CRLF included: 2048 (Postfix `line_length_limit`; RFC 5321
    /// section 4.5.3.1.4 sets 512 as the minimum and lets extensions raise it). While AUTH is
    /// available the limit is at least [`AUTH_LINE_LIMIT`].
    pub max_line_len: usize,
    /// Largest message in octets, advertised as `SIZE` (RFC 1870): 10,240,000 (Postfix
    /// `message_size_limit`). Enforced while the body streams.
    pub max_message_size: u64,
    /// Most recipients per transaction: 100, the minimum RFC 5321 section 4.5.3.1.8 requires a
    /// server to buffer. Advertised as `LIMITS RCPTMAX` (RFC 9422).
    pub max_recipients: usize,
    /// Negative replies tolerated before the session is closed with `421`: 20 (Postfix
    /// `smtpd_hard_error_limit`).
    pub max_errors: u32,
    /// Most unprocessed input held at once: 1 MiB. A driver that reads only while
    /// [`Server::wants_input`] holds never comes near it; input beyond it closes the session.
    ///
    /// This is the one limit that depends on how the input is cut into reads: a read that
    /// would pass it closes the session (`421 4.7.0`) before any of it is processed, since
    /// its commands may wait for decisions the application makes only after the read. Every
    /// other reply and event is the same however the reads split (up to STARTTLS), and so is
    /// this one whenever all of the input would fit at once.
    pub max_buffered_input: usize,
    /// How long to wait for the next command: 5 minutes (RFC 5321 section 4.5.3.2.7). The time
    /// runs from the end of the last complete command line (or SASL response line), or from
    /// the last reply to a decision, not from the last octet: a client sending a command
    /// one octet at a time must still finish it within this time. A timeout too long for an
    /// `Instant` to represent (`Duration::MAX`) never expires. [`Server::set_command_timeout`]
    /// changes it for a live session.
    pub command_timeout: Duration,
    /// How long to wait for the next piece of a message body: 5 minutes (RFC 5321 section
    /// 4.5.3.2.7; the client's data block timeout of 4.5.3.2.5 is 3 minutes). Each read of
    /// body octets restarts it; [`min_data_rate`](ServerConfig::min_data_rate) bounds the
    /// body as a whole. [`Server::set_data_timeout`] changes it for a live session.
    pub data_timeout: Duration,
    /// The slowest a message body may come, in octets per second: a body (DATA, or all the
    /// BDAT chunks of one message) must be complete by its start + [`data_timeout`] +
    /// received octets / `min_data_rate`, or the session is closed with `421 4.4.2`, however
    /// steadily the octets trickle in. Default 500 (Postfix `smtpd_min_data_rate`); 0 turns
    /// the deadline off, leaving only [`data_timeout`] between reads.
    ///
    /// [`data_timeout`]: ServerConfig::data_timeout
    pub min_data_rate: u64,
    /// NOOP, RSET, VRFY, EXPN and HELP commands, and greetings (HELO, EHLO, LHLO) repeated
    /// in the same TLS layer, a client may send before a successful AUTH without penalty; each one beyond counts as an error toward [`max_errors`] (its reply
    /// is unchanged until the error limit closes the session). Default 100 (Postfix
    /// `smtpd_junk_command_limit`). After AUTH they are not counted.
    ///
    /// [`max_errors`]: ServerConfig::max_errors
    pub max_junk_commands: u32,
    /// Failed AUTH exchanges allowed in a session: the failure that reaches this number is
    /// answered with its own reply (`535 5.7.8`) and then `421 4.7.0 Too many authentication
    /// failures`, and the session closes ([`SessionError::TooManyAuthFailures`]). Default 3
    /// (Dovecot and Postfix close after a few failures); 0 turns the limit off.
    ///
    /// [`SessionError::TooManyAuthFailures`]: super::SessionError::TooManyAuthFailures
    pub max_auth_failures: u32,
    /// How long the reply to a failed AUTH exchange (and a `421` that follows it) is held
    /// back. Meanwhile the session reads nothing, [`Server::poll_timeout`] is the time of the
    /// release, and the client's idle time does not run. Default 2 seconds (Dovecot
    /// `auth_failure_delay`); zero sends the reply at once. [`Server::set_auth_failure_delay`]
    /// changes it for one session (a per-address penalty).
    pub auth_failure_delay: Duration,
    /// Hold the greeting back this long and report a client that talks first
    /// ([`Event::EarlyTalker`]), as Postfix's postscreen greet pause does. Default `None`: the
    /// greeting is queued at once.
    pub greeting_delay: Option<Duration>,
    /// Bare CR or LF inside a text body, DATA or BDAT without `BODY=BINARYMIME`:
    /// [`BareLineEnding::Normalize`] (Postfix 3.9 `smtpd_forbid_bare_newline = normalize`)
    /// turns each into CRLF, also when a CR ends one BDAT chunk and the LF starts the next;
    /// [`BareLineEnding::Reject`] refuses the message with `550 5.6.0`. NUL and other octets
    /// are passed on unchanged. Never part of the DATA end marker whatever the policy (RFC
    /// 5321 section 2.3.8, SMTP smuggling). A `BODY=BINARYMIME` body is passed on byte for
    /// byte (RFC 3030).
    pub bare_line_ending: BareLineEnding,
    /// Command lines ending in a bare LF: [`BareLf::Reject`] with `500 5.5.2` (RFC 5321
    /// section 2.3.8).
    pub bare_lf_in_commands: BareLf,
    /// Offer STARTTLS (RFC 3207). The driver must be able to do the handshake. Default off.
    pub starttls: bool,
    /// The connection is already TLS (implicit TLS, RFC 8314): no STARTTLS, AUTH allowed.
    pub implicit_tls: bool,
    /// Refuse MAIL and AUTH before TLS with `530 5.7.0` (RFC 3207 section 4). Default off.
    pub require_tls: bool,
    /// SASL mechanisms to offer, strongest first. Empty (the default): no AUTH.
    pub auth_mechanisms: Vec<Mechanism>,
    /// Refuse MAIL before a successful AUTH with `530 5.7.0` (submission, RFC 6409 section
    /// 4.3). Default off.
    pub require_auth: bool,
    /// Offer and accept AUTH before TLS. Default off (docs/design.md security rule 3; RFC 4954
    /// section 4 and RFC 8314 want credentials protected).
    pub allow_plaintext_auth: bool,
    /// Offer `CHUNKING` and `BINARYMIME` (RFC 3030). Default on.
    pub chunking: bool,
    /// Offer `8BITMIME` (RFC 6152). Default on.
    pub eight_bit_mime: bool,
    /// Offer `SMTPUTF8` (RFC 6531). Default on.
    pub smtputf8: bool,
    /// Offer `DSN` (RFC 3461) and accept its parameters. Default off: the application must
    /// generate delivery status notifications to offer it.
    pub dsn: bool,
    /// Offer `REQUIRETLS` (RFC 8689) on TLS sessions. Default off: the application must
    /// honour it when relaying.
    pub requiretls: bool,
    /// Pass MAIL and RCPT parameters this crate does not know to the application instead of
    /// answering `555 5.5.4` (RFC 5321 section 4.1.1.11). Default off.
    pub accept_unknown_parameters: bool,
    /// Close the session on an HTTP request line, at any point of the command phase: a line
    /// starting with an HTTP method (`GET`, `POST`, `CONNECT`, ... of
    /// [`mail_wire::http::METHODS`], case-sensitive) and a space, complete or too long to
    /// frame. The reply is `421 4.7.0`, the session ends with [`SessionError::HttpRequest`],
    /// and nothing sent after the line is read: a web page cannot make a browser deliver
    /// mail with the SMTP commands in a form's body (Postfix `smtpd_forbidden_commands`).
    /// No SMTP command starts with those words. Default on; off, such a line is an unknown
    /// command (`500 5.5.2`) as before.
    ///
    /// [`SessionError::HttpRequest`]: super::SessionError::HttpRequest
    pub refuse_http: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            hostname: Domain::from_parsed("localhost"),
            mode: Mode::Smtp,
            max_line_len: 2048,
            max_message_size: 10_240_000,
            max_recipients: 100,
            max_errors: 20,
            max_buffered_input: 1 << 20,
            command_timeout: Duration::from_secs(300),
            data_timeout: Duration::from_secs(300),
            min_data_rate: 500,
            max_junk_commands: 100,
            max_auth_failures: 3,
            auth_failure_delay: Duration::from_secs(2),
            greeting_delay: None,
            bare_line_ending: BareLineEnding::Normalize,
            bare_lf_in_commands: BareLf::Reject,
            starttls: false,
            implicit_tls: false,
            require_tls: false,
            auth_mechanisms: Vec::new(),
            require_auth: false,
            allow_plaintext_auth: false,
            chunking: true,
            eight_bit_mime: true,
            smtputf8: true,
            dsn: false,
            requiretls: false,
            accept_unknown_parameters: false,
            refuse_http: true,
        }
    }
}

impl ServerConfig {
    /// A relay (MX) listener, port 25: STARTTLS offered, no AUTH.
    pub fn relay(hostname: Domain<'static>) -> Self {
        ServerConfig {
            hostname,
            starttls: true,
            ..ServerConfig::default()
        }
    }

    /// A submission listener, port 587 (RFC 6409): STARTTLS required, then AUTH with
    /// SCRAM-SHA-256, PLAIN or LOGIN required before MAIL.
    pub fn submission(hostname: Domain<'static>) -> Self {
        ServerConfig {
            hostname,
            starttls: true,
            require_tls: true,
            require_auth: true,
            auth_mechanisms: vec![Mechanism::ScramSha256, Mechanism::Plain, Mechanism::Login],
            ..ServerConfig::default()
        }
    }

    /// A submissions listener, port 465 (RFC 8314): the connection is TLS from the first byte,
    /// AUTH required before MAIL.
    pub fn submissions(hostname: Domain<'static>) -> Self {
        ServerConfig {
            implicit_tls: true,
            starttls: false,
            require_tls: false,
            ..ServerConfig::submission(hostname)
        }
    }

    /// An LMTP listener (RFC 2033).
    pub fn lmtp(hostname: Domain<'static>) -> Self {
        ServerConfig {
            hostname,
            mode: Mode::Lmtp,
            ..ServerConfig::default()
        }
    }
}

/// RCPTs past `max_recipients` answered `452` in one transaction before they count toward
/// `max_errors`: Postfix's `smtpd_recipient_overshoot_limit`.
pub(super) const RECIPIENT_OVERSHOOT: usize = 1000;
