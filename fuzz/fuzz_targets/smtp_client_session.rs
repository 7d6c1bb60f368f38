//! SMTP and LMTP client sessions: `smtp_proto::client::Client` fed arbitrary server bytes in
//! arbitrary chunks, driven by an application that sends one or two messages and quits.
//!
//! Input: an 8-byte header, then the server's bytes as "flights" separated by 0xFF (what the
//! server sends before it waits for the client again).
//!
//! | header byte | chooses |
//! |---|---|
//! | 0 | preset (relay, submission, submissions, LMTP), TLS policy, PIPELINING, CHUNKING, plaintext AUTH |
//! | 1 | credentials (none, password, password with a SCRAM nonce, bearer token), one or two messages, the body, a declared size |
//! | 2 | reply line and reply length limits |
//! | 3..7 | seed of the chunk sizes |
//! | 7 | largest chunk |
//!
//! The application sends a message on `Event::Ready` (and quits after the last), streams the
//! body on `Event::BodyReady` while `can_send_body()`, and calls `tls_established` on
//! `Event::StartTls`.
//!
//! Asserts: no panic; the client writes only CRLF-terminated command lines (or SASL response
//! lines, or the `.` that ends a pipelined DATA after a failed transaction), except the body:
//! a DATA body has CRLF line endings only and one end marker, at its end; a BDAT body is
//! `BDAT n` and exactly n octets; API calls the application makes at the right time never
//! fail except for envelope checks; no event after `Event::Closed`, exactly one `Closed` once
//! `handle_eof` was called; output grows at most linearly with input; and chunking inside a
//! flight changes neither events nor bytes when the application reacts after each flight.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use mail_wire::Secret;
use mail_wire::sasl::Nonce;
use smtp_proto::client::{
    Client, ClientConfig, ClientError, Credentials, Envelope, Event, SessionError, TlsPolicy,
};
use smtp_proto::{Body, Command, Domain, ForwardPath, Host, Mailbox, ParseOptions, ReversePath};

const HEADER: usize = 8;
const FLIGHT_SEPARATOR: u8 = 0xff;

/// Everything the header decides.
struct Setup {
    config: ClientConfig,
    messages: usize,
    body: &'static [&'static [u8]],
    declared_size: Option<u64>,
    max_chunk: usize,
    seed: u32,
}

const BODIES: [&[&[u8]]; 4] = [
    &[b"Subject: hi\r\n\r\n", b"hello\r\n"],
    &[
        b"line\r\n.\r\nsmuggled",
        b"\n.\nbare\r.\r",
        b".leading dot\r\n",
        b"no end",
    ],
    &[],
    &[b"0123456789abcdef0123456789abcdef", b"", b"\r\n"],
];

fn setup(header: &[u8; HEADER]) -> Setup {
    let hello = Host::Domain(Domain::new("client.example").expect("valid domain"));
    let credentials = match (header[1] >> 2) & 3 {
        0 => None,
        1 => Some(Credentials::password("user", Secret::new("pencil".into()))),
        2 => Some(
            Credentials::password("user", Secret::new("pencil".into()))
                .with_scram_nonce(Nonce::from_random_bytes(&[7; 18]).expect("valid nonce")),
        ),
        _ => Some(
            Credentials::bearer_token("user@example.com", Secret::new("token".into()))
                .with_oauth_server("mx.example", Some(587)),
        ),
    };
    let mut config = match header[0] & 3 {
        0 => ClientConfig::relay(hello),
        1 => ClientConfig::submission(hello, Credentials::password("u", Secret::new("p".into()))),
        2 => ClientConfig::submissions(hello, Credentials::password("u", Secret::new("p".into()))),
        _ => ClientConfig::lmtp(hello),
    };
    config.credentials = credentials;
    config.tls = match (header[0] >> 2) & 3 {
        0 => config.tls,
        1 => TlsPolicy::Never,
        2 => TlsPolicy::Opportunistic,
        _ => TlsPolicy::Required,
    };
    config.pipelining = header[0] & 0x10 == 0;
    config.chunking = header[0] & 0x20 == 0;
    config.allow_plaintext_auth = header[0] & 0x40 != 0;

    config.max_reply_line_len = [16, 80, 512, 2048][usize::from(header[2] & 3)];
    config.max_reply_lines = [1, 3, 100, 1000][usize::from((header[2] >> 2) & 3)];

    Setup {
        config,
        messages: 1 + usize::from(header[1] & 1),
        body: BODIES[usize::from((header[1] >> 4) & 3)],
        declared_size: (header[1] & 0x40 != 0).then_some(100),
        max_chunk: [1, 7, 64, 1 << 20][usize::from(header[7] & 3)],
        seed: u32::from_le_bytes(header[3..7].try_into().expect("4 bytes")) | 1,
    }
}

fn mailbox(text: &str) -> Mailbox<'static> {
    Mailbox::parse(text).expect("valid mailbox").into_owned()
}

fn envelope(setup: &Setup, index: usize) -> Envelope {
    if index == 0 {
        let mut envelope = Envelope::new(ReversePath::Mailbox(mailbox("a@client.example")))
            .with_recipient(ForwardPath::Mailbox(mailbox("b@mx.example")))
            .with_recipient(ForwardPath::Mailbox(mailbox("c@mx.example")));
        if let Some(size) = setup.declared_size {
            envelope = envelope.with_size(size);
        }
        envelope
    } else {
        let mut params = smtp_proto::MailParams::default();
        params.body = Some(Body::EightBitMime);
        Envelope::new(ReversePath::Null)
            .with_recipient(ForwardPath::Postmaster)
            .with_params(params)
    }
}

/// Chunk lengths from an xorshift generator, each in `1..=max`.
fn chunks(data: &[u8], max: usize, seed: &mut u32) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 17;
        *seed ^= *seed << 5;
        let len = (*seed as usize % max.max(1)) + 1;
        let (chunk, tail) = rest.split_at(len.min(rest.len()));
        out.push(chunk.to_vec());
        rest = tail;
    }
    out
}

/// How the current message's body goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transfer {
    Data,
    Bdat,
}

/// Checks lines the client wrote outside a body.
fn check_commands(bytes: &[u8]) {
    assert!(
        bytes.ends_with(b"\r\n"),
        "partial command written: {bytes:?}"
    );
    let options = ParseOptions::default().with_smtputf8(true);
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let line = line
            .strip_suffix(b"\r\n")
            .unwrap_or_else(|| panic!("command not ended by CRLF in {bytes:?}"));
        assert!(!line.contains(&b'\r'), "bare CR in a command: {bytes:?}");
        let sasl = line
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(b));
        assert!(
            line == b"." || line == b"*" || sasl || Command::parse_with(line, options).is_ok(),
            "not a command line: {line:?}"
        );
    }
}

/// Checks a whole DATA body as written: CRLF only, one end marker, at the end.
fn check_data_body(body: &[u8]) {
    assert!(
        body.ends_with(b"\r\n.\r\n") || body == b".\r\n",
        "DATA body without its end marker: {body:?}"
    );
    for (i, &b) in body.iter().enumerate() {
        match b {
            b'\r' => assert_eq!(body.get(i + 1), Some(&b'\n'), "bare CR in {body:?}"),
            b'\n' => assert!(i > 0 && body[i - 1] == b'\r', "bare LF in {body:?}"),
            _ => {}
        }
    }
    if body == b".\r\n" {
        // The empty message (a pipelined 354 after every recipient was refused).
        return;
    }
    let content = &body[..body.len() - 3];
    let marker = b"\r\n.\r\n";
    assert!(
        !content.starts_with(b".\r\n") || content.is_empty(),
        "end marker at the start of {body:?}"
    );
    // Up to the final ".\r\n": an earlier marker may share its CRLF with the final one
    // (`...\r\n.\r\n.\r\n`, a last line "." left unstuffed).
    let early = body[..body.len() - 3]
        .windows(marker.len())
        .any(|w| w == marker);
    assert!(!early, "end marker inside the body: {body:?}");
}

/// Checks BDAT chunks as written: each `BDAT n` line followed by exactly n octets.
fn check_bdat(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let end = bytes
            .windows(2)
            .position(|w| w == b"\r\n")
            .unwrap_or_else(|| panic!("BDAT line not ended: {bytes:?}"));
        let Ok(Command::Bdat { size, .. }) = Command::parse(&bytes[..end]) else {
            panic!("not a BDAT command: {bytes:?}");
        };
        let size = usize::try_from(size).expect("small chunk");
        assert!(bytes.len() >= end + 2 + size, "BDAT chunk cut short");
        bytes = &bytes[end + 2 + size..];
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// React after every read.
    Eager,
    /// React only after a whole flight has been read.
    PerFlight,
}

struct Run<'a> {
    client: Client,
    setup: &'a Setup,
    now: Instant,
    events: Vec<Event>,
    wire: Vec<u8>,
    closed: bool,
    sent: usize,
    transfer: Transfer,
    /// Body pieces still to send for the current message, and what DATA wrote so far.
    body_left: Option<usize>,
    data_body: Vec<u8>,
    body_octets: usize,
}

impl Run<'_> {
    fn commands_written(&mut self) {
        while let Some(bytes) = self.client.poll_transmit() {
            check_commands(&bytes);
            self.wire.extend_from_slice(&bytes);
        }
    }

    fn body_written(&mut self, last: bool) {
        let mut written = Vec::new();
        while let Some(bytes) = self.client.poll_transmit() {
            written.extend_from_slice(&bytes);
        }
        match self.transfer {
            Transfer::Bdat => check_bdat(&written),
            Transfer::Data => {
                self.data_body.extend_from_slice(&written);
                if last {
                    check_data_body(&self.data_body);
                    self.data_body.clear();
                }
            }
        }
        self.wire.extend_from_slice(&written);
    }

    fn react_all(&mut self) {
        self.commands_written();
        while let Some(event) = self.client.poll_event() {
            assert!(!self.closed, "event after Closed: {event:?}");
            self.events.push(event.clone());
            self.react(event);
        }
    }

    fn react(&mut self, event: Event) {
        match event {
            // With the application reacting late, later replies of the same read may have
            // moved the session on (or closed it) since the event was queued.
            Event::Ready if !self.client.is_ready() => {}
            Event::Ready => {
                if self.sent < self.setup.messages {
                    let envelope = envelope(self.setup, self.sent);
                    self.sent += 1;
                    match self.client.send_message(self.now, envelope) {
                        Ok(()) => {
                            let chunking = self.client.config().chunking
                                && self.client.capabilities().is_some_and(|c| c.chunking);
                            self.transfer = if chunking {
                                Transfer::Bdat
                            } else {
                                Transfer::Data
                            };
                            self.body_left = Some(0);
                            self.data_body.clear();
                        }
                        Err(ClientError::Envelope(_)) => self.client.quit(self.now),
                        Err(other) => panic!("send_message when Ready: {other}"),
                    }
                } else {
                    self.client.quit(self.now);
                }
                self.commands_written();
            }
            Event::BodyReady => self.send_body(),
            Event::StartTls => {
                let result = self.client.tls_established(self.now);
                assert!(
                    result.is_ok() || self.client.is_closed(),
                    "tls_established after StartTls: {result:?}"
                );
                self.commands_written();
            }
            Event::MessageRejected(_) => {
                self.body_left = None;
                self.data_body.clear();
            }
            Event::Closed(_) => {
                self.closed = true;
                assert!(self.client.is_closed());
                assert!(self.client.poll_timeout().is_none());
                assert!(self.client.send_body(self.now, b"x").is_err());
                self.commands_written();
            }
            _ => {}
        }
    }

    fn send_body(&mut self) {
        let pieces = self.setup.body;
        while let Some(next) = self.body_left {
            if !self.client.can_send_body() {
                break;
            }
            let last = next + 1 >= pieces.len();
            let piece = pieces.get(next).copied().unwrap_or_default();
            self.body_octets += piece.len();
            let result = if last {
                self.body_left = None;
                self.client.finish_body_with(self.now, piece)
            } else {
                self.body_left = Some(next + 1);
                self.client.send_body(self.now, piece)
            };
            assert!(result.is_ok(), "body call while can_send_body: {result:?}");
            self.body_written(last);
        }
    }
}

/// Runs a session over `flights`, each already cut into reads.
fn run(setup: &Setup, flights: &[Vec<Vec<u8>>], mode: Mode, total: usize) -> (Vec<Event>, Vec<u8>) {
    let now = Instant::now();
    let mut run = Run {
        client: Client::new(setup.config.clone(), now),
        setup,
        now,
        events: Vec::new(),
        wire: Vec::new(),
        closed: false,
        sent: 0,
        transfer: Transfer::Data,
        body_left: None,
        data_body: Vec::new(),
        body_octets: 0,
    };
    run.react_all();
    for flight in flights {
        for read in flight {
            run.client.feed(now, read);
            if mode == Mode::Eager {
                run.react_all();
            }
        }
        run.react_all();
        assert!(
            run.wire.len() <= 8192 + 128 * total + run.body_octets,
            "{} octets written for {total} read",
            run.wire.len()
        );
    }
    run.client.handle_eof();
    run.react_all();
    assert!(run.client.is_closed(), "open after handle_eof");
    assert!(run.closed, "no Closed event after handle_eof");
    let closes = run
        .events
        .iter()
        .filter(|e| matches!(e, Event::Closed(_)))
        .count();
    assert_eq!(closes, 1);
    run.client.feed(now, b"250 OK\r\n");
    run.client.handle_eof();
    assert!(run.client.poll_event().is_none(), "event after Closed");
    assert!(run.client.poll_transmit().is_none(), "output after Closed");
    (run.events, run.wire)
}

/// `StartTls` then the injection close is the same as the injection close alone: whether
/// the bytes after the `220` came in the same read decides only which call noticed them.
fn normalise(mut events: Vec<Event>) -> Vec<Event> {
    let injection = Event::Closed(Err(SessionError::StartTlsInjection));
    if events.ends_with(&[Event::StartTls, injection]) {
        events.remove(events.len() - 2);
    }
    events
}

fuzz_target!(|data: &[u8]| {
    let Some((header, input)) = data.split_first_chunk::<HEADER>() else {
        return;
    };
    let setup = setup(header);
    let mut seed = setup.seed;
    let whole: Vec<Vec<Vec<u8>>> = input
        .split(|&b| b == FLIGHT_SEPARATOR)
        .map(|flight| vec![flight.to_vec()])
        .collect();
    let cut: Vec<Vec<Vec<u8>>> = input
        .split(|&b| b == FLIGHT_SEPARATOR)
        .map(|flight| chunks(flight, setup.max_chunk, &mut seed))
        .collect();

    let reference = run(&setup, &whole, Mode::PerFlight, input.len());
    let split = run(&setup, &cut, Mode::PerFlight, input.len());
    assert_eq!(
        normalise(reference.0),
        normalise(split.0),
        "chunking changed the events"
    );
    assert_eq!(reference.1, split.1, "chunking changed the bytes written");
    run(&setup, &cut, Mode::Eager, input.len());
});
