//! A scripted server for the client state machine: `S:`/`C:` transcripts replayed against a
//! [`Client`] driven by a small application ([`App`]) that reacts to its events the way a
//! real driver would.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use smtp_proto::client::{Client, ClientConfig, Envelope, Event};
use smtp_proto::{Domain, ForwardPath, Host, Mailbox, Reply, ReversePath};

use mail_testkit::transcript::{Step, Transcript};
use mail_testkit::{Side, chunk};

/// A message the application sends: the envelope, body pieces for `send_body`, and the piece
/// for `finish_body_with`.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub(crate) envelope: Envelope,
    pub(crate) chunks: Vec<Vec<u8>>,
    pub(crate) last: Vec<u8>,
}

impl Message {
    /// A message whose whole body goes to `finish_body_with`.
    pub(crate) fn new(envelope: Envelope, body: &[u8]) -> Self {
        Message {
            envelope,
            chunks: Vec::new(),
            last: body.to_vec(),
        }
    }

    /// A message sent as these `send_body` pieces, then `finish_body`.
    pub(crate) fn chunked(envelope: Envelope, chunks: &[&[u8]]) -> Self {
        Message {
            envelope,
            chunks: chunks.iter().map(|c| c.to_vec()).collect(),
            last: Vec::new(),
        }
    }
}

/// When the application calls `quit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QuitWhen {
    /// Never (the test does it).
    Never,
    /// On `Event::Ready` with no message left.
    Ready,
    /// Right after finishing the last body (QUIT may then be pipelined).
    AfterBody,
}

/// The application: sends its messages one by one, then quits; does the TLS "handshake" on
/// `Event::StartTls` at once.
#[derive(Debug, Clone)]
pub(crate) struct App {
    pub(crate) messages: VecDeque<Message>,
    pub(crate) quit: QuitWhen,
    body: Option<(VecDeque<Vec<u8>>, Vec<u8>)>,
}

impl App {
    pub(crate) fn new(messages: Vec<Message>, quit: QuitWhen) -> Self {
        App {
            messages: messages.into(),
            quit,
            body: None,
        }
    }
}

/// A client, its application, and everything that happened.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) client: Client,
    pub(crate) app: App,
    pub(crate) now: Instant,
    pub(crate) events: Vec<Event>,
    pub(crate) wire: Vec<u8>,
    /// Taken from the client (as a driver writes before it reads) and not yet returned by
    /// [`Session::output`].
    unread: Vec<u8>,
}

impl Session {
    pub(crate) fn new(config: ClientConfig, app: App) -> Self {
        let now = Instant::now();
        Session {
            client: Client::new(config, now),
            app,
            now,
            events: Vec::new(),
            wire: Vec::new(),
            unread: Vec::new(),
        }
    }

    /// Handles every queued event the way the application would.
    pub(crate) fn react(&mut self) {
        let now = self.now;
        while let Some(event) = self.client.poll_event() {
            self.events.push(event.clone());
            match event {
                Event::Ready => match self.app.messages.pop_front() {
                    Some(m) => {
                        self.client
                            .send_message(now, m.envelope)
                            .expect("envelope accepted");
                        self.app.body = Some((m.chunks.into(), m.last));
                    }
                    None if self.app.quit != QuitWhen::Never => self.client.quit(now),
                    None => {}
                },
                Event::BodyReady => self.send_body(),
                Event::StartTls => self.client.tls_established(now).expect("TLS pending"),
                Event::MessageRejected(_) => self.app.body = None,
                _ => {}
            }
        }
    }

    fn send_body(&mut self) {
        let now = self.now;
        let Some((chunks, last)) = self.app.body.as_mut() else {
            return;
        };
        while self.client.can_send_body() {
            if let Some(chunk) = chunks.pop_front() {
                self.client.send_body(now, &chunk).expect("body open");
                continue;
            }
            self.client.finish_body_with(now, last).expect("body open");
            self.app.body = None;
            if self.app.messages.is_empty() && self.app.quit == QuitWhen::AfterBody {
                self.client.quit(now);
            }
            break;
        }
    }

    /// Takes what the client queued, as a driver writes it before it reads again.
    fn take_output(&mut self) {
        while let Some(bytes) = self.client.poll_transmit() {
            self.unread.extend_from_slice(&bytes);
        }
    }

    /// Feeds server bytes and reacts. What the client queued before is taken first, as a
    /// driver writes before it reads: the client matches replies only to commands taken.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        self.take_output();
        self.client.feed(self.now, bytes);
        self.react();
    }

    /// Feeds server bytes one complete reply per read, reacting after each: a server that
    /// answers each command once it has arrived (see [`replies`]).
    pub(crate) fn feed_replies(&mut self, bytes: &[u8]) {
        for reply in replies(bytes) {
            self.feed(reply);
        }
    }

    /// Moves the clock and lets the client see it.
    pub(crate) fn advance(&mut self, by: Duration) {
        self.now += by;
        self.client.handle_timeout(self.now);
        self.react();
    }

    /// What the client wrote since the last call.
    pub(crate) fn output(&mut self) -> Vec<u8> {
        self.take_output();
        let out = std::mem::take(&mut self.unread);
        self.wire.extend_from_slice(&out);
        out
    }

    /// Replays `steps`, feeding each server step in the pieces `split` cuts it into (cut
    /// offsets, any order, out-of-range ones ignored), and checking each client step. Fails if
    /// the client writes anything the transcript does not show.
    pub(crate) fn run(&mut self, steps: &[Step], split: &mut dyn FnMut(&[u8]) -> Vec<usize>) {
        self.react();
        for (n, step) in steps.iter().enumerate() {
            match step {
                Step::Send {
                    from: Side::Server,
                    bytes,
                } => {
                    for piece in chunk::split_at(bytes, &split(bytes)) {
                        self.feed(piece);
                    }
                }
                Step::Send {
                    from: Side::Client,
                    bytes: expected,
                } => {
                    let got = self.output();
                    assert_eq!(
                        String::from_utf8_lossy(&got),
                        String::from_utf8_lossy(expected),
                        "client bytes at step {n}; events so far: {:#?}",
                        self.events
                    );
                }
                Step::Eof { from: Side::Server } => {
                    self.client.handle_eof();
                    self.react();
                }
                Step::Eof { from: Side::Client } => {
                    assert!(
                        self.client.is_closed(),
                        "the client should have closed at step {n}"
                    );
                }
            }
        }
        let rest = self.output();
        assert!(
            rest.is_empty(),
            "unexpected client bytes after the transcript: {:?}",
            String::from_utf8_lossy(&rest)
        );
    }

    /// Replays `steps` with every server step fed whole.
    pub(crate) fn run_whole(&mut self, steps: &[Step]) {
        self.run(steps, &mut |_| Vec::new());
    }
}

/// `bytes` cut after the last line of each reply (`ddd` SP or `ddd` CRLF); a partial reply at
/// the end is its own piece.
pub(crate) fn replies(bytes: &[u8]) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let (mut start, mut line) = (0, 0);
    for (at, &byte) in bytes.iter().enumerate() {
        if byte != b'\n' {
            continue;
        }
        let text = &bytes[line..at];
        if text.len() <= 4 || text[3] == b' ' {
            pieces.push(&bytes[start..=at]);
            start = at + 1;
        }
        line = at + 1;
    }
    if start < bytes.len() {
        pieces.push(&bytes[start..]);
    }
    pieces
}

/// The steps of a transcript in the test kit's format ([`Transcript`]).
pub(crate) fn transcript(text: &str) -> Vec<Step> {
    Transcript::new(text).steps().to_vec()
}

/// Runs a transcript whole and returns the session.
pub(crate) fn replay(config: ClientConfig, app: App, steps: &[Step]) -> Session {
    let mut session = Session::new(config, app);
    session.run_whole(steps);
    session
}

pub(crate) fn mailbox(s: &str) -> Mailbox<'static> {
    Mailbox::parse(s).expect("valid mailbox").into_owned()
}

pub(crate) fn envelope(from: &str, to: &[&str]) -> Envelope {
    to.iter().fold(
        Envelope::new(ReversePath::Mailbox(mailbox(from))),
        |envelope, to| envelope.with_recipient(ForwardPath::Mailbox(mailbox(to))),
    )
}

/// A client configuration saying EHLO with `name`.
pub(crate) fn config(name: &str) -> ClientConfig {
    let mut config = ClientConfig::default();
    config.hello_name = Host::Domain(Domain::new(name.to_owned()).expect("valid domain"));
    config
}

/// A reply parsed from its wire form.
pub(crate) fn reply(wire: &str) -> Reply<'static> {
    Reply::parse(wire.as_bytes())
        .expect("valid reply")
        .into_owned()
}
