//! The SMTP side of the Pair suite: a client application and a server policy that answer
//! the machines' events, scenarios that wire them up, and what a run leaves to assert on.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use bytes::Bytes;
use mail_testkit::users::{self, Users};
use mail_testkit::{Chunking, Pair, Side, SimClock};
use mail_wire::Secret;
use mail_wire::sasl::Mechanism;
use smtp_proto::client::{
    self, Client, ClientConfig, ClientError, Credentials, Envelope, TlsPolicy,
};
use smtp_proto::server::{self, BodyTransfer, Server, ServerConfig};
use smtp_proto::{Domain, ForwardPath, Host, Mailbox, Reply, ReversePath};

pub(crate) type SmtpPair = Pair<Client, Server>;

pub(crate) fn domain(name: &str) -> Domain<'static> {
    Domain::new(name.to_owned()).expect("valid domain")
}

pub(crate) fn mailbox(address: &str) -> Mailbox<'static> {
    Mailbox::parse(address).expect("valid mailbox").into_owned()
}

pub(crate) fn envelope(from: &str, to: &[&str]) -> Envelope {
    to.iter().fold(
        Envelope::new(ReversePath::Mailbox(mailbox(from))),
        |envelope, to| envelope.with_recipient(ForwardPath::Mailbox(mailbox(to))),
    )
}

/// A reply from its wire form.
pub(crate) fn reply(wire: &str) -> Reply<'static> {
    Reply::parse(wire.as_bytes())
        .expect("valid reply")
        .into_owned()
}

/// The client of the suite: EHLO `client.example`, TLS never (tests turn it on).
pub(crate) fn client_config() -> ClientConfig {
    let mut config = ClientConfig::relay(Host::Domain(domain("client.example")));
    config.tls = TlsPolicy::Never;
    config
}

/// The server of the suite: `mx.example`, STARTTLS off (tests turn it on).
pub(crate) fn server_config() -> ServerConfig {
    let mut config = ServerConfig::default();
    config.hostname = domain("mx.example");
    config
}

/// Password credentials of the standard user, SCRAM nonce included.
pub(crate) fn password_credentials(password: &str) -> Credentials {
    Credentials::password(users::USER, Secret::new(password.to_owned()))
        .with_scram_nonce(users::client_nonce())
}

/// Bearer-token credentials of the standard user.
pub(crate) fn token_credentials(token: &str) -> Credentials {
    Credentials::bearer_token(users::USER, Secret::new(token.to_owned()))
        .with_oauth_server("mx.example", Some(587))
}

/// Submission on both sides: STARTTLS required, AUTH with `mechanism` only.
pub(crate) fn submission(mechanism: Mechanism, credentials: Credentials) -> Scenario {
    let mut client = ClientConfig::submission(Host::Domain(domain("client.example")), credentials);
    client.auth_mechanisms = vec![mechanism];
    let mut server = ServerConfig::submission(domain("mx.example"));
    server.auth_mechanisms = vec![mechanism];
    // The failure delay holds a 535 back until the clock moves; these scenarios run without
    // moving it (the delay has its own tests in the server binary).
    server.auth_failure_delay = std::time::Duration::ZERO;
    Scenario::new(client, server)
}

/// One message the application sends: the envelope and the body, as the pieces handed to
/// `send_body` (all but the last) and `finish_body_with` (the last).
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub(crate) envelope: Envelope,
    pub(crate) pieces: Vec<Vec<u8>>,
}

impl Message {
    pub(crate) fn new(envelope: Envelope, pieces: &[&[u8]]) -> Self {
        Message {
            envelope,
            pieces: pieces.iter().map(|piece| piece.to_vec()).collect(),
        }
    }
}

/// What the client application saw besides the machine's events.
#[derive(Debug, Default)]
pub(crate) struct AppLog {
    /// Envelopes `send_message` refused, with the error.
    pub(crate) refused: Vec<ClientError>,
}

#[derive(Debug, Default)]
struct App {
    outbox: VecDeque<Message>,
    body: VecDeque<Vec<u8>>,
    quit: bool,
    log: AppLog,
}

impl App {
    /// Offers the next message, skipping those the client refuses; quits when none is left.
    fn next_message(&mut self, client: &mut Client, now: std::time::Instant) {
        while let Some(message) = self.outbox.pop_front() {
            match client.send_message(now, message.envelope) {
                Ok(()) => {
                    self.body = message.pieces.into();
                    return;
                }
                Err(error) => self.log.refused.push(error),
            }
        }
        if self.quit {
            client.quit(now);
        }
    }

    fn send_body(&mut self, client: &mut Client, now: std::time::Instant) {
        while client.can_send_body() {
            match self.body.pop_front() {
                Some(piece) if !self.body.is_empty() => {
                    client.send_body(now, &piece).expect("body open");
                }
                last => {
                    let last = last.unwrap_or_default();
                    client.finish_body_with(now, &last).expect("body open");
                    // QUIT right behind the last body: pipelined with it (RFC 2920 3.1).
                    if self.quit && self.outbox.is_empty() {
                        client.quit(now);
                    }
                    return;
                }
            }
        }
    }

    fn handle(&mut self, client: &mut Client, event: &client::Event, now: std::time::Instant) {
        match event {
            client::Event::Ready => self.next_message(client, now),
            client::Event::BodyReady => self.send_body(client, now),
            client::Event::MessageRejected(_) => self.body.clear(),
            _ => {}
        }
    }
}

/// How the server application answers.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// Senders whose address starts with `reject` get `550 5.7.1`, recipients `550 5.1.1`.
    pub(crate) reject_prefix: &'static str,
    /// LMTP: recipients whose address starts with `full` get `452 4.2.2` after the body.
    pub(crate) full_prefix: &'static str,
    /// Answer decisions at all (off: the test answers through `server_mut`).
    pub(crate) answer: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            reject_prefix: "reject",
            full_prefix: "full",
            answer: true,
        }
    }
}

fn address(to: &ForwardPath<'_>) -> String {
    match to {
        ForwardPath::Mailbox(mailbox) => mailbox.to_string(),
        other => format!("{other:?}"),
    }
}

struct ServerApp {
    policy: Policy,
    users: Rc<Users>,
    /// Accepted recipients of the open transaction, for LMTP's per-recipient replies.
    accepted: Vec<String>,
}

impl ServerApp {
    fn handle(&mut self, server: &mut Server, event: &server::Event) {
        if !self.policy.answer {
            return;
        }
        let result = match event {
            server::Event::Hello { .. } => server.accept(),
            server::Event::Mail { from, .. } => {
                self.accepted.clear();
                let from = match from {
                    ReversePath::Mailbox(mailbox) => mailbox.to_string(),
                    ReversePath::Null => String::new(),
                };
                if from.starts_with(self.policy.reject_prefix) {
                    server.reject(reply("550 5.7.1 Sender refused\r\n"))
                } else {
                    server.accept()
                }
            }
            server::Event::Rcpt { to, .. } => {
                let to = address(to);
                if to.starts_with(self.policy.reject_prefix) {
                    server.reject(reply("550 5.1.1 No such user\r\n"))
                } else {
                    self.accepted.push(to);
                    server.accept()
                }
            }
            server::Event::BodyEnd { .. } if server.config().mode == server::Mode::Lmtp => {
                let replies: Vec<Reply<'static>> = self
                    .accepted
                    .iter()
                    .map(|to| {
                        if to.starts_with(self.policy.full_prefix) {
                            reply("452 4.2.2 Mailbox full\r\n")
                        } else {
                            reply("250 2.1.5 Delivered\r\n")
                        }
                    })
                    .collect();
                server.reply_each(&replies)
            }
            server::Event::BodyEnd { .. } => server.accept(),
            server::Event::AuthStep { .. } => server.auth_step(&*self.users, users::server_nonce()),
            _ => Ok(()),
        };
        if let Err(error) = result {
            panic!("the server refused the policy's answer to {event:?}: {error}");
        }
    }
}

/// A client configuration, a server configuration, the messages and how the server answers.
#[derive(Debug, Clone)]
pub(crate) struct Scenario {
    pub(crate) client: ClientConfig,
    pub(crate) server: ServerConfig,
    pub(crate) messages: Vec<Message>,
    pub(crate) policy: Policy,
    /// The client quits once its messages are sent.
    pub(crate) quit: bool,
    /// The server's credential store (shared by every run of the scenario).
    pub(crate) users: Rc<Users>,
}

impl Scenario {
    pub(crate) fn new(client: ClientConfig, server: ServerConfig) -> Self {
        Scenario {
            client,
            server,
            messages: Vec::new(),
            policy: Policy::default(),
            quit: true,
            users: Rc::new(Users::standard()),
        }
    }

    /// The suite's plain relay pair.
    pub(crate) fn relay() -> Self {
        Scenario::new(client_config(), server_config())
    }

    pub(crate) fn message(mut self, envelope: Envelope, pieces: &[&[u8]]) -> Self {
        self.messages.push(Message::new(envelope, pieces));
        self
    }

    /// The pair, with the application and the policy installed, not yet driven.
    pub(crate) fn pair(&self, chunking: Chunking) -> (SmtpPair, Rc<RefCell<AppLog>>) {
        let clock = SimClock::new();
        let client = Client::new(self.client.clone(), clock.now());
        let server = Server::new(self.server.clone(), clock.now());
        let mut pair = Pair::new(client, server, clock).with_chunking(chunking);
        let log = Rc::new(RefCell::new(AppLog::default()));
        let app = Rc::new(RefCell::new(App {
            outbox: self.messages.clone().into(),
            quit: self.quit,
            ..App::default()
        }));
        {
            let app = Rc::clone(&app);
            let log = Rc::clone(&log);
            pair.on_client_event(move |client, event, now| {
                let mut app = app.borrow_mut();
                app.handle(client, event, now);
                log.borrow_mut().refused.append(&mut app.log.refused);
            });
        }
        let mut server_app = ServerApp {
            policy: self.policy.clone(),
            users: Rc::clone(&self.users),
            accepted: Vec::new(),
        };
        pair.on_server_event(move |server, event, _| server_app.handle(server, event));
        (pair, log)
    }

    /// Runs the scenario under `chunking` until neither side moves.
    pub(crate) fn run(&self, chunking: Chunking) -> Run {
        self.run_with(chunking, false)
    }

    /// [`Scenario::run`], handing the server its reads through `feed_buf` when `feed_buf`.
    pub(crate) fn run_with(&self, chunking: Chunking, feed_buf: bool) -> Run {
        let (mut pair, log) = self.pair(chunking);
        pair.set_feed_buf(Side::Server, feed_buf);
        pair.drive();
        Run::new(pair, &log)
    }
}

/// What a run left: the pair, the events of both sides (body chunks merged), the messages
/// the server received.
pub(crate) struct Run {
    pub(crate) pair: SmtpPair,
    pub(crate) client: Vec<client::Event>,
    pub(crate) server: Vec<server::Event>,
    pub(crate) refused: Vec<ClientError>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("client", &self.client)
            .field("server", &self.server)
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

/// Merges consecutive body chunks: their boundaries follow the reads.
pub(crate) fn merge_chunks(events: Vec<server::Event>) -> Vec<server::Event> {
    let mut merged: Vec<server::Event> = Vec::with_capacity(events.len());
    for event in events {
        if let (server::Event::BodyChunk(new), Some(server::Event::BodyChunk(previous))) =
            (&event, merged.last_mut())
        {
            *previous = Bytes::from([&previous[..], &new[..]].concat());
            continue;
        }
        merged.push(event);
    }
    merged
}

impl Run {
    pub(crate) fn new(mut pair: SmtpPair, log: &Rc<RefCell<AppLog>>) -> Self {
        let client = pair.take_client_events();
        let server = merge_chunks(pair.take_server_events());
        let refused = std::mem::take(&mut log.borrow_mut().refused);
        Run {
            pair,
            client,
            server,
            refused,
        }
    }

    /// The messages the server accepted the end of (BodyEnd), each with how it came.
    pub(crate) fn received(&self) -> Vec<(BodyTransfer, Vec<u8>)> {
        let mut received = Vec::new();
        let mut current: Option<(BodyTransfer, Vec<u8>)> = None;
        for event in &self.server {
            match event {
                server::Event::BodyStart { transfer } => current = Some((*transfer, Vec::new())),
                server::Event::BodyChunk(chunk) => {
                    if let Some((_, body)) = current.as_mut() {
                        body.extend_from_slice(chunk);
                    }
                }
                server::Event::BodyAborted(_) => current = None,
                server::Event::BodyEnd { .. } => received.extend(current.take()),
                _ => {}
            }
        }
        received
    }

    /// The client's ending.
    pub(crate) fn client_ending(&self) -> Option<&Result<(), client::SessionError>> {
        self.pair.client_ending()
    }

    /// The server's ending.
    pub(crate) fn server_ending(&self) -> Option<&Result<(), server::SessionError>> {
        self.pair.server_ending()
    }

    /// Both sides ended with QUIT answered by 221.
    pub(crate) fn assert_quit(&self) {
        assert_eq!(self.client_ending(), Some(&Ok(())), "client: {self:#?}");
        assert_eq!(self.server_ending(), Some(&Ok(())), "server: {self:#?}");
        assert!(self.pair.client().is_closed() && self.pair.server().is_closed());
    }

    /// The server's wire output as text.
    pub(crate) fn server_text(&self) -> String {
        String::from_utf8_lossy(self.pair.written(Side::Server)).into_owned()
    }

    /// The client's wire output as text.
    pub(crate) fn client_text(&self) -> String {
        String::from_utf8_lossy(self.pair.written(Side::Client)).into_owned()
    }
}

/// The chunkings every scenario runs under: whole, byte by byte and seeded random sizes.
pub(crate) fn chunkings() -> Vec<Chunking> {
    let mut chunkings = Chunking::standard(1);
    chunkings.extend((2..6).map(|seed| Chunking::Seeded { seed, max: 13 }));
    chunkings
}

/// Runs `scenario` under every chunking of [`chunkings`] (and twice more with the server
/// reading through `feed_buf`), checks each run with `check`, and checks that the events
/// and bytes of both sides do not depend on the chunking. Returns the run with whole reads.
pub(crate) fn run_all(scenario: &Scenario, check: impl Fn(&Run)) -> Run {
    let variants = chunkings()
        .into_iter()
        .map(|chunking| (chunking, false))
        .chain([
            (Chunking::Whole, true),
            (Chunking::Seeded { seed: 9, max: 5 }, true),
        ]);
    let mut runs = variants.map(|(chunking, feed_buf)| {
        let run = scenario.run_with(chunking.clone(), feed_buf);
        check(&run);
        (chunking, run)
    });
    let (_, reference) = runs.next().expect("at least one chunking");
    for (chunking, run) in runs {
        assert_eq!(
            run.client, reference.client,
            "client events under {chunking:?}"
        );
        assert_eq!(
            run.server, reference.server,
            "server events under {chunking:?}"
        );
        assert_eq!(
            run.refused, reference.refused,
            "refusals under {chunking:?}"
        );
        assert_eq!(
            run.pair.written(Side::Client),
            reference.pair.written(Side::Client),
            "client bytes under {chunking:?}"
        );
        assert_eq!(
            run.pair.written(Side::Server),
            reference.pair.written(Side::Server),
            "server bytes under {chunking:?}"
        );
    }
    reference
}
