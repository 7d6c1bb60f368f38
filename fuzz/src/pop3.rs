//! The typed input of the `pop3_server_session` target, and the application that answers a
//! POP3 server's decisions as the input scripts them.

use std::time::Duration;

use arbitrary::Arbitrary;
use mail_wire::sasl::Mechanism;
use pop3_proto::server::{Event, MessageInfo, Server, ServerConfig, ServerError};
use pop3_proto::{RespCode, Uid};

use crate::chunk::Chunking;
use crate::fixtures::{Store, server_nonce};
use crate::{Size, Wire};

/// One `pop3_server_session` input: the configuration, the application's decisions, how
/// the client's bytes are cut, then the bytes.
#[derive(Arbitrary, Debug)]
pub struct Pop3ServerCase<'a> {
    /// The configuration.
    pub setup: Pop3ServerSetup,
    /// The application's answers, cycled.
    pub decisions: Vec<Pop3Decision>,
    /// How the client's bytes are cut into reads.
    pub chunking: Chunking,
    /// Whether a deadline far in the future passes at the end.
    pub timeout_at_end: bool,
    /// The client's bytes.
    pub input: Wire<'a>,
}

/// The server's configuration, turned around by the input.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Pop3ServerSetup {
    /// Implicit TLS (port 995).
    pub implicit_tls: bool,
    /// STLS offered.
    pub stls: bool,
    /// Credentials accepted before TLS.
    pub allow_plaintext_auth: bool,
    /// USER/PASS offered.
    pub user_pass: bool,
    /// APOP on.
    pub apop: bool,
    /// SASL mechanisms offered: none, PLAIN, PLAIN and SCRAM, all.
    pub sasl: Size,
    /// Line limit: 16, 64, 255, 1024.
    pub max_line_len: Size,
    /// Error limit: 0, 2, 20, 1000.
    pub max_errors: Size,
    /// Failed-login limit: 1, 2, 3, 100.
    pub max_auth_failures: Size,
    /// Buffered input: 64, 1024, 64 KiB, 1 MiB.
    pub max_buffered_input: Size,
    /// Number of messages in the maildrop: 0, 1, 3, 20.
    pub messages: Size,
    /// LANG offered.
    pub languages: bool,
}

impl Pop3ServerSetup {
    /// The configuration this setup stands for. The failure delay is zero, so that a held
    /// reply is released by a timeout due at once.
    pub fn config(&self) -> ServerConfig {
        let mut config = ServerConfig::default();
        config.implicit_tls = self.implicit_tls;
        config.stls = self.stls;
        config.allow_plaintext_auth = self.allow_plaintext_auth;
        config.user_pass = self.user_pass;
        if self.apop {
            config.apop_timestamp = Some("<1.2@fuzz.example>".into());
        }
        config.sasl_mechanisms = self
            .sasl
            .pick([
                &[][..],
                &[Mechanism::Plain][..],
                &[Mechanism::Plain, Mechanism::ScramSha256][..],
                &Mechanism::ALL[..],
            ])
            .to_vec();
        config.max_line_len = self.max_line_len.pick([16, 64, 255, 1024]);
        config.max_errors = self.max_errors.pick([0, 2, 20, 1000]);
        config.max_auth_failures = self.max_auth_failures.pick([1, 2, 3, 100]);
        config.max_buffered_input = self.max_buffered_input.pick([64, 1024, 64 << 10, 1 << 20]);
        config.auth_failure_delay = Duration::ZERO;
        if self.languages {
            config.languages = vec![("en".into(), "English".into())];
        }
        config
    }

    /// The maildrop the application opens.
    pub fn maildrop(&self) -> Vec<MessageInfo> {
        (0..self.messages.pick([0, 1, 3, 20]))
            .map(|i| MessageInfo::new(MESSAGE.len() as u64, Uid::new(format!("uid{i}")).unwrap()))
            .collect()
    }
}

/// The content of every message: a header, a blank line, a dot-led line, a bare LF.
pub const MESSAGE: &[u8] = b"Subject: fuzz\r\n\r\n.dot\r\nbare\nlf\r\nlast";

/// What the application answers to one decision.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pop3Decision {
    /// Accept: the credentials are checked by the store, the maildrop opens, the message
    /// streams, the removal succeeds.
    Accept,
    /// Refuse, with `[IN-USE]`.
    InUse,
    /// Refuse, with `[SYS/TEMP]`.
    Temporary,
}

/// The application of the server target.
#[derive(Debug)]
pub struct Pop3Application {
    decisions: Vec<Pop3Decision>,
    next: usize,
    setup: Pop3ServerSetup,
    store: Store,
}

impl Pop3Application {
    /// An application answering with `decisions` in turn (accepting when there are none).
    pub fn new(decisions: Vec<Pop3Decision>, setup: Pop3ServerSetup) -> Self {
        Pop3Application {
            decisions,
            next: 0,
            setup,
            store: Store::default(),
        }
    }

    fn decision(&mut self) -> Pop3Decision {
        let decision = self
            .decisions
            .get(self.next % self.decisions.len().max(1))
            .copied()
            .unwrap_or(Pop3Decision::Accept);
        self.next += 1;
        decision
    }

    /// Answers `event` on `server`; returns what the machine said.
    ///
    /// # Errors
    ///
    /// The machine's misuse error, which a correct application never sees.
    pub fn answer(&mut self, server: &mut Server, event: &Event) -> Result<(), ServerError> {
        let decision = match event {
            Event::AuthStep { .. }
            | Event::Apop { .. }
            | Event::OpenMaildrop { .. }
            | Event::Retrieve { .. }
            | Event::Update { .. } => self.decision(),
            _ => return Ok(()),
        };
        let code = match decision {
            Pop3Decision::Accept => None,
            Pop3Decision::InUse => Some(RespCode::InUse),
            Pop3Decision::Temporary => Some(RespCode::SysTemp),
        };
        if let Some(code) = code {
            return server.reject(Some(code), "refused");
        }
        match event {
            Event::AuthStep { .. } => server.auth_step(&self.store, server_nonce()),
            Event::OpenMaildrop { .. } => server.open_maildrop(self.setup.maildrop()),
            Event::Retrieve { .. } => {
                for piece in MESSAGE.chunks(5) {
                    server.send_message_data(piece)?;
                }
                server.end_message()
            }
            _ => server.accept(),
        }
    }
}

/// Checks one write of a POP3 server whose application answers each decision whole: it ends
/// in CRLF (a response, a listing or a message is never cut), it has no NUL (nothing the
/// server writes, [`MESSAGE`] included, holds one), and a status line starts every write.
pub fn response_lines(bytes: &[u8]) {
    assert!(bytes.ends_with(b"\r\n"), "a write not ending in CRLF");
    assert!(!bytes.contains(&0), "NUL in server output");
    assert!(
        bytes.starts_with(b"+OK") || bytes.starts_with(b"-ERR") || bytes.starts_with(b"+ "),
        "a write not starting with a status"
    );
}

/// One `pop3_client_session` input: the configuration, how each flight is cut, then the
/// server's bytes as flights separated by [`SEPARATOR`](crate::chunk::SEPARATOR).
#[derive(Arbitrary, Debug)]
pub struct Pop3ClientCase<'a> {
    /// The configuration.
    pub setup: Pop3ClientSetup,
    /// How each flight is cut into reads.
    pub chunking: Chunking,
    /// The server's flights.
    pub flights: Wire<'a>,
}

/// The client's STLS policy, as the input picks it.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pop3TlsPolicy {
    /// `TlsPolicy::Never`.
    Never,
    /// `TlsPolicy::Opportunistic`.
    Opportunistic,
    /// `TlsPolicy::Required`.
    Required,
}

/// The client's configuration, turned around by the input.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Pop3ClientSetup {
    /// Implicit TLS (port 995).
    pub implicit_tls: bool,
    /// The STLS policy.
    pub tls: Pop3TlsPolicy,
    /// Credentials allowed without TLS.
    pub allow_plaintext_auth: bool,
    /// A SCRAM client nonce is given (SCRAM-SHA-256 when offered).
    pub scram: bool,
    /// Response line limit: 8, 64, 512, 4096.
    pub max_response_line: Size,
}

impl Pop3ClientSetup {
    /// The configuration this setup stands for, with the fixtures' user and password.
    pub fn config(&self) -> pop3_proto::client::ClientConfig {
        use pop3_proto::client::{ClientConfig, Credentials, TlsPolicy};
        let mut credentials = Credentials::password(
            crate::fixtures::USER,
            mail_wire::Secret::new(crate::fixtures::PASSWORD.into()),
        );
        if self.scram {
            credentials = credentials
                .with_scram_nonce(mail_wire::sasl::Nonce::new("rOprNGfwEbeRWgbNEkqO").unwrap());
        }
        let mut config = ClientConfig::new(credentials);
        config.implicit_tls = self.implicit_tls;
        config.tls = match self.tls {
            Pop3TlsPolicy::Never => TlsPolicy::Never,
            Pop3TlsPolicy::Opportunistic => TlsPolicy::Opportunistic,
            Pop3TlsPolicy::Required => TlsPolicy::Required,
        };
        config.allow_plaintext_auth = self.allow_plaintext_auth;
        config.max_response_line = self.max_response_line.pick([8, 64, 512, 4096]);
        config
    }
}

/// What the client application does: on `LoggedIn` it sends `STAT`, `LIST`, `UIDL`,
/// `RETR 1`, `TOP 1 0`, `DELE 1`, `NOOP`, `RSET` and `QUIT`; on `StartTls` it completes the
/// hand-off. The machine reads a whole read at once, so a session may already be closed
/// (by what followed in the same read) when the application sees an earlier event: then it
/// calls nothing, as a real application checking `is_closed` would.
///
/// # Errors
///
/// The machine's misuse error, which a correct application never sees.
pub fn answer_client(
    client: &mut pop3_proto::client::Client,
    event: &pop3_proto::client::Event,
    now: std::time::Instant,
) -> Result<(), pop3_proto::client::ClientError> {
    use pop3_proto::client::Event;
    if client.is_closed() {
        return Ok(());
    }
    match event {
        Event::LoggedIn => {
            client.stat(now)?;
            client.list(now, None)?;
            client.uidl(now, None)?;
            client.retr(now, 1)?;
            client.top(now, 1, 0)?;
            client.dele(now, 1)?;
            client.noop(now)?;
            client.rset(now)?;
            client.quit(now)
        }
        Event::StartTls => client.tls_established(now),
        _ => Ok(()),
    }
}

/// Checks what a POP3 client wrote in one go: whole CRLF lines, no bare CR or LF.
pub fn command_lines(bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    assert!(bytes.ends_with(b"\r\n"), "client output not ending in CRLF");
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            assert!(i > 0 && bytes[i - 1] == b'\r', "bare LF in client output");
        }
        if b == b'\r' {
            assert_eq!(bytes.get(i + 1), Some(&b'\n'), "bare CR in client output");
        }
    }
}
