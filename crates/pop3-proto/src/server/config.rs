//! [`ServerConfig`]: what the server offers and every limit, each with its default and source.

use std::time::Duration;

use mail_wire::sasl::Mechanism;

use crate::command::MAX_COMMAND_LINE;
use crate::error::ValueError;

/// The longest `AUTH` command line accepted while SASL is offered: 12,288 octets, room for a
/// large initial response (RFC 5034 section 4 exempts SASL responses from the 255-octet
/// command limit; an OAuth token in an initial response needs several KiB).
pub const AUTH_LINE_LIMIT: usize = 12288;

/// The server's configuration. `#[non_exhaustive]`: start from [`ServerConfig::default`] and
/// set fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Text of the `+OK` greeting. Default: `POP3 server ready`.
    pub greeting: String,
    /// The connection is TLS from the first byte (port 995): STLS is not offered and
    /// credentials are accepted at once. Default `false`.
    pub implicit_tls: bool,
    /// Offer `STLS` (RFC 2595) before TLS and before login. Default `true`; the driver must
    /// then be able to do the handshake.
    pub stls: bool,
    /// Accept `USER`/`PASS` and password mechanisms before TLS (security rule 3.3). Default
    /// `false`: before TLS `USER` and `SASL` are not advertised and are refused with
    /// `-ERR [AUTH]`-less `-ERR` telling the client to use STLS.
    pub allow_plaintext_auth: bool,
    /// Offer `USER`/`PASS` (RFC 1939 section 7). Default `true`.
    pub user_pass: bool,
    /// The SASL mechanisms offered through `AUTH` (RFC 5034). Default `PLAIN` and
    /// `SCRAM-SHA-256`.
    pub sasl_mechanisms: Vec<Mechanism>,
    /// The timestamp for `APOP` (RFC 1939 section 7), `<process-id.clock@hostname>`, made
    /// fresh by the application for each session. `None` (the default) turns APOP off: the
    /// greeting carries no timestamp and `APOP` is refused. APOP is an MD5 challenge-response
    /// over a secret the server must store in the clear, and MD5 is broken: a passive
    /// listener can recover short passwords from one exchange. Use TLS and `PASS` or SASL.
    pub apop_timestamp: Option<String>,
    /// Offer `UTF8` (RFC 6856 section 2). Default `true`: the server passes messages through
    /// unchanged and accepts UTF-8 user names.
    pub utf8: bool,
    /// Languages for `LANG` (RFC 6856 section 3), as `(tag, description)`; the first is the
    /// default. Default empty: `LANG` is not offered.
    pub languages: Vec<(String, String)>,
    /// The `EXPIRE` capability's policy (RFC 2449 section 6.7), e.g. `NEVER` or `30`. Default
    /// `None`: not advertised.
    pub expire: Option<String>,
    /// The `LOGIN-DELAY` capability's seconds (RFC 2449 section 6.5). Default `None`.
    pub login_delay: Option<u32>,
    /// The `IMPLEMENTATION` capability's text (RFC 2449 section 6.9). Default `None`.
    pub implementation: Option<String>,
    /// Longest command line, including CRLF: 255 (RFC 2449 section 4). While SASL is offered
    /// the limit is at least [`AUTH_LINE_LIMIT`]. A longer line ends the session with
    /// `-ERR Line too long`: a client that sent one cannot tell where its next command starts.
    pub max_line_len: usize,
    /// Refused commands tolerated before the session is closed: 20 (Postfix
    /// `smtpd_hard_error_limit`).
    pub max_errors: u32,
    /// `CAPA`, `LANG`, `UTF8` and `NOOP` before login beyond this many count as errors toward
    /// `max_errors`: 100 (Postfix `smtpd_junk_command_limit`).
    pub max_junk_commands: u32,
    /// Failed logins (`PASS`, `APOP`, `AUTH`) per session: 3. The failure that reaches it is
    /// answered `-ERR [AUTH] ... too many failures` and the session closes.
    pub max_auth_failures: u32,
    /// How long the reply to a failed login is held back: 2 s (Dovecot
    /// `auth_failure_delay`). Meanwhile nothing is read and the client's idle time stands
    /// still.
    pub auth_failure_delay: Duration,
    /// How long the client may be idle after login: 10 minutes, the least RFC 1939 section 3
    /// allows for the autologout timer.
    pub idle_timeout: Duration,
    /// Time allowed to log in, from the session's start (whatever the client sends meanwhile;
    /// STLS does not start it over), and idle time allowed before login: 60 s, then
    /// `-ERR No login in time, closing` (or `-ERR Disconnected for inactivity` for a client
    /// idle that long). Shorter than after login and absolute, as Dovecot's pre-login
    /// timeouts and imap-proto's `login_timeout` are, so that unauthenticated connections do
    /// not hold slots.
    pub login_timeout: Duration,
    /// Most unprocessed input held at once: 64 KiB. A driver that reads only while
    /// `wants_input` holds never comes near it; more input closes the session.
    pub max_buffered_input: usize,
    /// Close the session on an HTTP request line, at any point of the session outside a SASL
    /// exchange: a line starting with an HTTP method (`GET`, `POST`, `CONNECT`, ... of
    /// [`mail_wire::http::METHODS`], case-sensitive) and a space. The reply is `-ERR`, the
    /// session ends with [`SessionError::HttpRequest`], and nothing sent after the line is
    /// read: a web page cannot make a browser log in and delete mail with the POP3 commands
    /// in a form's body. No POP3 command starts with those words. Default on; off, such a
    /// line is an unknown command (`-ERR Unknown command`) as before.
    ///
    /// [`SessionError::HttpRequest`]: super::SessionError::HttpRequest
    pub refuse_http: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            greeting: "POP3 server ready".into(),
            implicit_tls: false,
            stls: true,
            allow_plaintext_auth: false,
            user_pass: true,
            sasl_mechanisms: vec![Mechanism::Plain, Mechanism::ScramSha256],
            apop_timestamp: None,
            utf8: true,
            languages: Vec::new(),
            expire: None,
            login_delay: None,
            implementation: None,
            max_line_len: MAX_COMMAND_LINE,
            max_errors: 20,
            max_junk_commands: 100,
            refuse_http: true,
            max_auth_failures: 3,
            auth_failure_delay: Duration::from_secs(2),
            idle_timeout: Duration::from_secs(600),
            login_timeout: Duration::from_secs(60),
            max_buffered_input: 64 * 1024,
        }
    }
}

impl ServerConfig {
    /// Checks the texts the server puts on the wire (`greeting`, `apop_timestamp`, `expire`,
    /// `implementation`, `languages`): none may hold a control octet, since a CR or LF would
    /// end the line early and make the rest a response of its own. [`Server::new`] does not
    /// refuse such a configuration: it sends each control octet as a space, so a text can
    /// never inject a line; call this to refuse instead.
    ///
    /// # Errors
    ///
    /// [`ValueError::Octet`] with the offset of the first control octet in its text.
    ///
    /// [`Server::new`]: crate::server::Server::new
    pub fn check(&self) -> Result<(), ValueError> {
        self.texts().try_for_each(
            |text| match text.bytes().position(|b| b < 0x20 || b == 0x7f) {
                Some(offset) => Err(ValueError::Octet { offset }),
                None => Ok(()),
            },
        )
    }

    /// The configuration with every control octet of its wire texts made a space.
    pub(crate) fn sanitised(mut self) -> Self {
        fn clean(text: &mut String) {
            if text.bytes().any(|b| b < 0x20 || b == 0x7f) {
                *text = text
                    .chars()
                    .map(|c| if c.is_ascii_control() { ' ' } else { c })
                    .collect();
            }
        }
        clean(&mut self.greeting);
        for text in [
            self.apop_timestamp.as_mut(),
            self.expire.as_mut(),
            self.implementation.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            clean(text);
        }
        for (tag, description) in &mut self.languages {
            clean(tag);
            clean(description);
        }
        self
    }

    fn texts(&self) -> impl Iterator<Item = &str> {
        [
            Some(self.greeting.as_str()),
            self.apop_timestamp.as_deref(),
            self.expire.as_deref(),
            self.implementation.as_deref(),
        ]
        .into_iter()
        .flatten()
        .chain(
            self.languages
                .iter()
                .flat_map(|(tag, description)| [tag.as_str(), description.as_str()]),
        )
    }

    /// Port 995: implicit TLS, no STLS.
    pub fn pop3s() -> Self {
        ServerConfig {
            implicit_tls: true,
            stls: false,
            ..ServerConfig::default()
        }
    }
}
