//! SMTP and LMTP server sessions: `smtp_proto::server::Server` driven by an application whose
//! decisions come from the input, with the client's bytes split into arbitrary chunks.
//!
//! Input: a 16-byte header, then the client's bytes.
//!
//! | header byte | chooses |
//! |---|---|
//! | 0 | preset (default, relay, submission, submissions, LMTP), bare CR/LF policy in DATA, bare LF in commands, a final timeout |
//! | 1 | toggles: STARTTLS, plaintext AUTH, CHUNKING, DSN, REQUIRETLS, unknown parameters, require TLS, require AUTH |
//! | 2 | AUTH mechanisms (one bit per mechanism; 0 keeps the preset's) |
//! | 3 | limits: line length, message size, recipients, errors |
//! | 4 | buffered-input limit, SMTPUTF8, 8BITMIME, largest chunk, implicit TLS |
//! | 5..9 | seed of the chunk sizes (byte 8 is shared with the decisions) |
//! | 8..16 | the application's decisions, two bits per decision: 0 and 1 accept, 2 accepts with a reply of its own (LMTP: one reply per recipient), 3 rejects |
//!
//! The application calls `tls_established` on `Event::StartTls` and answers `Event::AuthStep`
//! with an in-memory credential store (or a refusal).
//!
//! Asserts: no panic; every write is whole CRLF-terminated reply lines with a 3-digit code, and
//! multi-line replies keep their code; no event after `Event::Closed`, and exactly one
//! `Closed` once `handle_eof` was called; output grows at most linearly with input; body octets
//! never exceed input octets; a single read over `max_buffered_input` closes the session;
//! after the application answered every event the machine wants input or is closed; and the
//! same input fed whole gives the same events and replies as fed in chunks (up to STARTTLS,
//! where chunking is part of the protocol: bytes after STARTTLS in the same read are an
//! injection, bytes in a later read come after the handshake).
#![no_main]

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use mail_wire::Secret;
use mail_wire::dot::BareLineEnding;
use mail_wire::line::BareLf;
use mail_wire::sasl::{Authenticator, Mechanism, Nonce, ScramCredentials};
use smtp_proto::server::{Event, Server, ServerConfig, SessionError};
use smtp_proto::{Domain, EnhancedStatusCode, Reply, ReplyCode, ReplyParser};

const HEADER: usize = 16;

const USER: &str = "user";
const PASSWORD: &str = "pencil";
const TOKEN: &str = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==";
/// RFC 7677 section 3: "pencil" with salt W22ZaJ0SNY7soEsUEjb6gQ== and 4096 iterations.
const STORED: &str = "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$\
WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";

fn credentials() -> &'static ScramCredentials {
    static CREDENTIALS: OnceLock<ScramCredentials> = OnceLock::new();
    CREDENTIALS
        .get_or_init(|| ScramCredentials::parse_stored(STORED).expect("valid stored credentials"))
}

/// One user with a password, SCRAM keys and a bearer token.
struct Store;

impl Authenticator for Store {
    fn verify_password(&self, authcid: &str, password: &Secret<String>) -> bool {
        authcid == USER && password.ct_eq(PASSWORD.as_bytes())
    }

    fn scram_credentials(&self, authcid: &str) -> Option<ScramCredentials> {
        (authcid == USER).then(|| credentials().clone())
    }

    fn verify_bearer_token(&self, _user: Option<&str>, token: &Secret<String>) -> Option<String> {
        token.ct_eq(TOKEN.as_bytes()).then(|| USER.to_owned())
    }
}

/// Everything the header decides.
struct Setup {
    config: ServerConfig,
    max_chunk: usize,
    seed: u32,
    decisions: u64,
    timeout_at_end: bool,
}

fn setup(header: &[u8; HEADER]) -> Setup {
    let hostname = Domain::new("mx.example").expect("valid domain");
    let mut config = match header[0] % 5 {
        0 => ServerConfig::default(),
        1 => ServerConfig::relay(hostname),
        2 => ServerConfig::submission(hostname),
        3 => ServerConfig::submissions(hostname),
        _ => ServerConfig::lmtp(hostname),
    };
    config.bare_line_ending = match (header[0] >> 3) % 3 {
        0 => BareLineEnding::Reject,
        1 => BareLineEnding::Normalize,
        _ => BareLineEnding::Preserve,
    };
    if header[0] & 0x20 != 0 {
        config.bare_lf_in_commands = BareLf::Accept;
    }
    let timeout_at_end = header[0] & 0x40 != 0;

    let flags = header[1];
    config.starttls ^= flags & 0x01 != 0;
    config.allow_plaintext_auth = flags & 0x02 != 0;
    config.chunking ^= flags & 0x04 != 0;
    config.dsn = flags & 0x08 != 0;
    config.requiretls = flags & 0x10 != 0;
    config.accept_unknown_parameters = flags & 0x20 != 0;
    config.require_tls ^= flags & 0x40 != 0;
    config.require_auth ^= flags & 0x80 != 0;

    let mechanisms: Vec<Mechanism> = Mechanism::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| header[2] & (1 << i) != 0)
        .map(|(_, m)| *m)
        .collect();
    if !mechanisms.is_empty() {
        config.auth_mechanisms = mechanisms;
    }
    if header[2] & 0x80 != 0 {
        config.auth_mechanisms.clear();
    }

    let limits = header[3];
    config.max_line_len = [16, 80, 512, 2048][usize::from(limits & 3)];
    config.max_message_size = [0, 20, 200, 10_240_000][usize::from((limits >> 2) & 3)];
    config.max_recipients = [0, 1, 3, 100][usize::from((limits >> 4) & 3)];
    config.max_errors = [0, 2, 5, 20][usize::from((limits >> 6) & 3)];

    let more = header[4];
    config.max_buffered_input = [64, 300, 4096, 1 << 20][usize::from(more & 3)];
    config.smtputf8 ^= more & 0x04 != 0;
    config.eight_bit_mime ^= more & 0x08 != 0;
    let max_chunk = [1, 7, 64, 1 << 20][usize::from((more >> 4) & 3)];
    config.implicit_tls ^= more & 0x40 != 0;

    Setup {
        config,
        max_chunk,
        seed: u32::from_le_bytes(header[5..9].try_into().expect("4 bytes")) | 1,
        decisions: u64::from_le_bytes(header[8..16].try_into().expect("8 bytes")),
        timeout_at_end,
    }
}

/// Chunk lengths from an xorshift generator, each in `1..=max`.
fn chunks(data: &[u8], max: usize, mut seed: u32) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let len = (seed as usize % max.max(1)) + 1;
        let (chunk, tail) = rest.split_at(len.min(rest.len()));
        out.push(chunk);
        rest = tail;
    }
    out
}

fn reply(code: u16, enhanced: (u8, u16, u16), text: &'static str) -> Reply<'static> {
    let (class, subject, detail) = enhanced;
    Reply::new(
        ReplyCode::new(code).expect("valid code"),
        Some(EnhancedStatusCode::new(class, subject, detail).expect("valid enhanced code")),
        [Cow::Borrowed(text.as_bytes())],
    )
    .expect("valid reply")
}

/// What one run produced.
#[derive(Default)]
struct Trace {
    /// Events, with consecutive body chunks merged (their boundaries follow the reads).
    events: Vec<Event>,
    /// For each event, how much output had been written when it was returned.
    out_len_at: Vec<usize>,
    out: Vec<u8>,
}

impl Trace {
    fn push(&mut self, event: Event) {
        if let (Some(Event::BodyChunk(last)), Event::BodyChunk(more)) =
            (self.events.last_mut(), &event)
        {
            let mut joined = last.to_vec();
            joined.extend_from_slice(more);
            *last = joined.into();
            *self.out_len_at.last_mut().expect("one per event") = self.out.len();
            return;
        }
        self.events.push(event);
        self.out_len_at.push(self.out.len());
    }
}

/// Checks one write: whole reply lines, CRLF-terminated, with codes that hold per reply.
fn check_write(bytes: &[u8]) {
    assert!(bytes.ends_with(b"\r\n"), "partial line written: {bytes:?}");
    let mut parser = ReplyParser::new(usize::MAX);
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r\n").unwrap_or_else(|| {
            panic!("reply line not ended by CRLF in {bytes:?}");
        });
        assert!(
            line.len() >= 3 && line[..3].iter().all(u8::is_ascii_digit),
            "reply line without a 3-digit code: {line:?}"
        );
        parser
            .push_line(line)
            .unwrap_or_else(|e| panic!("malformed reply line {line:?}: {e}"));
    }
    assert!(!parser.is_pending(), "multi-line reply cut off: {bytes:?}");
}

struct Run<'a> {
    server: Server,
    setup: &'a Setup,
    now: Instant,
    trace: Trace,
    decisions_made: u32,
    closed: bool,
    body_octets: usize,
}

impl Run<'_> {
    fn transmit(&mut self) {
        while let Some(bytes) = self.server.poll_transmit() {
            check_write(&bytes);
            self.trace.out.extend_from_slice(&bytes);
        }
    }

    fn choice(&mut self) -> u64 {
        let bits = self.setup.decisions >> ((self.decisions_made * 2) % 64);
        self.decisions_made += 1;
        bits & 3
    }

    /// Answers every event the machine has; returns when it needs input.
    fn drain(&mut self) {
        loop {
            self.transmit();
            let Some(event) = self.server.poll_event() else {
                break;
            };
            assert!(!self.closed, "event after Closed: {event:?}");
            self.transmit();
            self.trace.push(event.clone());
            self.react(event);
        }
        self.transmit();
        assert!(
            self.server.wants_input() || self.server.is_closed(),
            "every event answered, yet the machine wants no input"
        );
    }

    fn react(&mut self, event: Event) {
        let n = self.decisions_made;
        let result = match event {
            Event::Hello { .. } | Event::Mail { .. } | Event::Rcpt { .. } => match self.choice() {
                2 => self
                    .server
                    .accept_with(reply(250, (2, 0, 0), "Fine by the application")),
                3 if n % 2 == 0 => self.server.reject(reply(550, (5, 7, 1), "Refused")),
                3 => self.server.reject(reply(451, (4, 3, 0), "Try later")),
                _ => self.server.accept(),
            },
            Event::BodyEnd { recipients, .. } => match self.choice() {
                2 if self.setup.config.mode == smtp_proto::server::Mode::Lmtp => {
                    let replies: Vec<Reply<'static>> = (0..recipients)
                        .map(|i| {
                            if (self.setup.decisions >> (i % 64)) & 1 == 0 {
                                reply(250, (2, 1, 5), "Delivered")
                            } else {
                                reply(452, (4, 2, 2), "Over quota")
                            }
                        })
                        .collect();
                    self.server.reply_each(&replies)
                }
                2 => self
                    .server
                    .accept_with(reply(250, (2, 0, 0), "Queued as 4F1D3")),
                3 => self.server.reject(reply(554, (5, 6, 0), "Content refused")),
                _ => self.server.accept(),
            },
            Event::AuthStep { .. } => match self.choice() {
                3 => self
                    .server
                    .reject(reply(454, (4, 7, 0), "Temporary authentication failure")),
                _ => self
                    .server
                    .auth_step(&Store, Nonce::new(SERVER_NONCE).expect("valid nonce")),
            },
            Event::StartTls => {
                let result = self.server.tls_established(self.now);
                assert!(result.is_ok(), "tls_established after StartTls: {result:?}");
                Ok(())
            }
            Event::BodyChunk(chunk) => {
                self.body_octets += chunk.len();
                Ok(())
            }
            Event::Closed(_) => {
                self.closed = true;
                assert!(self.server.is_closed());
                assert!(self.server.poll_timeout().is_none());
                assert!(self.server.accept().is_err(), "a decision after Closed");
                Ok(())
            }
            _ => Ok(()),
        };
        assert!(result.is_ok(), "decision refused: {result:?}");
    }
}

/// Runs a session over `pieces`; returns what happened.
fn run(setup: &Setup, pieces: &[&[u8]], total: usize) -> Trace {
    let now = Instant::now();
    let mut run = Run {
        server: Server::new(setup.config.clone(), now),
        setup,
        now,
        trace: Trace::default(),
        decisions_made: 0,
        closed: false,
        body_octets: 0,
    };
    run.drain();
    for (index, piece) in pieces.iter().enumerate() {
        let was_open = !run.server.is_closed();
        // Every other read goes through `feed_buf` (the driver's zero-copy hand-over), so
        // the whole-against-chunked comparison also compares it with `feed`.
        if index % 2 == 0 {
            let mut buf = bytes::BytesMut::from(*piece);
            run.server.feed_buf(now, &mut buf);
            assert!(buf.is_empty(), "feed_buf left bytes in the read buffer");
        } else {
            run.server.feed(now, piece);
        }
        if was_open && piece.len() > setup.config.max_buffered_input {
            assert!(
                run.server.is_closed(),
                "a read over max_buffered_input was kept"
            );
        }
        run.drain();
        // The driver handles a timeout that is due (after a decision it is due at once, to
        // restart the idle time). At the instant of the last read it never times out.
        if run.server.poll_timeout().is_some_and(|due| due <= now) {
            run.server.handle_timeout(now);
            run.drain();
            assert!(
                !matches!(
                    run.trace.events.last(),
                    Some(Event::Closed(Err(SessionError::Timeout)))
                ),
                "timed out at the instant of the last read"
            );
        }
        assert!(
            run.trace.out.len() <= 1024 + 64 * total,
            "{} octets of output for {total} of input",
            run.trace.out.len()
        );
    }
    if setup.timeout_at_end {
        run.server.handle_timeout(now + Duration::from_secs(3600));
        run.drain();
    }
    run.server.handle_eof();
    run.drain();
    assert!(run.server.is_closed(), "open after handle_eof");
    assert!(run.closed, "no Closed event after handle_eof");
    let closes = run
        .trace
        .events
        .iter()
        .filter(|e| matches!(e, Event::Closed(_)))
        .count();
    assert_eq!(closes, 1);
    run.server.feed(now, b"NOOP\r\n");
    run.server.handle_eof();
    assert!(run.server.poll_event().is_none(), "event after Closed");
    assert!(run.server.poll_transmit().is_none(), "output after Closed");
    assert!(run.body_octets <= total, "more body than input");
    assert!(run.trace.out.len() <= 1024 + 64 * total);
    run.trace
}

fn is_tls_boundary(event: &Event) -> bool {
    matches!(
        event,
        Event::StartTls | Event::Closed(Err(SessionError::StartTlsInjection))
    )
}

/// Output up to `len`, without its last line (the reply to STARTTLS).
fn before_last_line(out: &[u8], len: usize) -> &[u8] {
    let out = &out[..len];
    let body = out.strip_suffix(b"\r\n").unwrap_or(out);
    match body.iter().rposition(|&b| b == b'\n') {
        Some(i) => &out[..=i],
        None => &[],
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((header, input)) = data.split_first_chunk::<HEADER>() else {
        return;
    };
    let setup = setup(header);
    let pieces = chunks(input, setup.max_chunk, setup.seed);
    let chunked = run(&setup, &pieces, input.len());
    if input.len() > setup.config.max_buffered_input {
        // Fed whole, the input itself is over the limit.
        return;
    }
    let whole = run(&setup, &[input], input.len());

    let boundary = |t: &Trace| t.events.iter().position(is_tls_boundary);
    match boundary(&whole).into_iter().chain(boundary(&chunked)).min() {
        None => {
            assert_eq!(whole.events, chunked.events, "chunking changed the events");
            assert_eq!(whole.out, chunked.out, "chunking changed the replies");
        }
        Some(k) => {
            assert_eq!(
                whole.events[..k],
                chunked.events[..k],
                "chunking changed the events before STARTTLS"
            );
            assert!(
                whole.events.get(k).is_some_and(is_tls_boundary)
                    && chunked.events.get(k).is_some_and(is_tls_boundary),
                "STARTTLS answered differently: {:?} vs {:?}",
                whole.events.get(k),
                chunked.events.get(k)
            );
            assert_eq!(
                before_last_line(&whole.out, whole.out_len_at[k]),
                before_last_line(&chunked.out, chunked.out_len_at[k]),
                "chunking changed the replies before STARTTLS"
            );
        }
    }
});
