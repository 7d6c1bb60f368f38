//! A transcript harness for the server state machine.
//!
//! A [`Harness`] owns a [`Server`] and a decision policy (a closure from [`Event`] to
//! [`Decision`]). Feeding it client bytes runs the driver loop of the module docs: every event
//! is recorded (consecutive body chunks merged into one, since chunk boundaries depend on how
//! the input was split) and every decision is answered by the policy; everything the server
//! transmits is collected. [`Harness::transcript`] replays `C:`/`S:` scripts.

#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mail_wire::sasl::Authenticator;
use smtp_proto::server::{BodyTransfer, Event, HelloVerb, Server, ServerConfig, SessionError};
use smtp_proto::{
    Domain, ForwardPath, Host, MailParams, Mailbox, RcptParams, Reply, ReplyCode, ReversePath,
};

use mail_testkit::Side;
use mail_testkit::transcript::{Step, Transcript};
use mail_testkit::users::{self, Users};

/// The policy's answer to an event. Information events ignore it.
#[derive(Debug, Clone)]
pub enum Decision {
    /// [`Server::accept`], or [`Server::auth_step`] for an [`Event::AuthStep`].
    Accept,
    /// [`Server::accept_with`].
    AcceptWith(Reply<'static>),
    /// [`Server::reject`].
    Reject(Reply<'static>),
    /// [`Server::reply_each`].
    ReplyEach(Vec<Reply<'static>>),
    /// Leave the decision pending; the test answers it through [`Harness::server`].
    Hold,
}

/// The policy: called once per event, in order.
pub type Policy = Box<dyn FnMut(&Event) -> Decision>;

/// One session under test.
pub struct Harness {
    /// The machine; tests may call it directly, then [`Harness::drive`].
    pub server: Server,
    /// The simulated clock.
    pub now: Instant,
    /// Complete the TLS handshake at once when the server asks for it.
    pub auto_tls: bool,
    /// Credentials for [`Event::AuthStep`]: [`Users::standard`] unless a test sets others.
    pub auth: Box<dyn Authenticator>,
    policy: Policy,
    events: Vec<Event>,
    out: Vec<u8>,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("server", &self.server)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

/// A policy that accepts every decision.
pub fn accept_all() -> Policy {
    Box::new(|_| Decision::Accept)
}

impl Harness {
    /// A session that accepts everything. The greeting (if not delayed) is collected.
    pub fn new(config: ServerConfig) -> Self {
        Self::with_policy(config, accept_all())
    }

    /// A session answered by `policy`.
    pub fn with_policy(config: ServerConfig, policy: Policy) -> Self {
        let now = Instant::now();
        let mut harness = Harness {
            server: Server::new(config, now),
            now,
            auto_tls: true,
            auth: Box::new(Users::standard()),
            policy,
            events: Vec::new(),
            out: Vec::new(),
        };
        harness.drive();
        harness
    }

    /// Feeds one chunk from the client and runs the driver loop.
    pub fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.server.feed(self.now, bytes.as_ref());
        self.drive();
    }

    /// Feeds one chunk through [`Server::feed_buf`], as a driver that reads into a
    /// `BytesMut` does, checks that the buffer was emptied, and runs the driver loop.
    pub fn send_buf(&mut self, bytes: impl AsRef<[u8]>) {
        let mut buf = bytes::BytesMut::from(bytes.as_ref());
        self.server.feed_buf(self.now, &mut buf);
        assert!(buf.is_empty(), "feed_buf leaves the read buffer empty");
        self.drive();
    }

    /// Moves the clock on and calls [`Server::handle_timeout`].
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        self.server.handle_timeout(self.now);
        self.drive();
    }

    /// Polls every event (answering decisions), calls [`Server::handle_timeout`] when
    /// [`Server::poll_timeout`] is due (after a decision it is due at once: the idle time
    /// restarts), and collects every byte to transmit.
    pub fn drive(&mut self) {
        loop {
            while let Some(event) = self.server.poll_event() {
                let decision = (self.policy)(&event);
                self.apply(&event, decision);
                self.record(event);
            }
            match self.server.poll_timeout() {
                Some(due) if due <= self.now => self.server.handle_timeout(self.now),
                _ => break,
            }
        }
        self.collect();
    }

    fn collect(&mut self) {
        while let Some(bytes) = self.server.poll_transmit() {
            assert!(!bytes.is_empty(), "poll_transmit returned an empty chunk");
            self.out.extend_from_slice(&bytes);
        }
    }

    fn apply(&mut self, event: &Event, decision: Decision) {
        let result = match event {
            Event::Hello { .. }
            | Event::Mail { .. }
            | Event::Rcpt { .. }
            | Event::BodyEnd { .. } => match decision {
                Decision::Accept => self.server.accept(),
                Decision::AcceptWith(reply) => self.server.accept_with(reply),
                Decision::Reject(reply) => self.server.reject(reply),
                Decision::ReplyEach(replies) => self.server.reply_each(&replies),
                Decision::Hold => Ok(()),
            },
            Event::AuthStep { .. } => match decision {
                Decision::Accept => self.server.auth_step(&*self.auth, users::server_nonce()),
                Decision::Reject(reply) => self.server.reject(reply),
                Decision::Hold => Ok(()),
                other => panic!("{other:?} does not answer an AuthStep"),
            },
            Event::StartTls if self.auto_tls => {
                self.collect();
                self.server.tls_established(self.now)
            }
            _ => Ok(()),
        };
        if let Err(error) = result {
            panic!("the policy's answer to {event:?} was refused: {error}");
        }
    }

    fn record(&mut self, event: Event) {
        if let (Event::BodyChunk(new), Some(Event::BodyChunk(previous))) =
            (&event, self.events.last_mut())
        {
            let mut joined = BytesMut::from(&previous[..]);
            joined.extend_from_slice(new);
            *previous = joined.freeze();
            return;
        }
        self.events.push(event);
    }

    /// Everything transmitted since the last call, as text (replies are ASCII here).
    pub fn take_out(&mut self) -> String {
        self.collect();
        let out = std::mem::take(&mut self.out);
        String::from_utf8(out).expect("the server wrote UTF-8")
    }

    /// Everything transmitted since the last call, as bytes.
    pub fn take_bytes(&mut self) -> Vec<u8> {
        self.collect();
        std::mem::take(&mut self.out)
    }

    /// The events since the last call, body chunks merged.
    pub fn events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Replays a transcript in the test kit's format ([`Transcript`]), the harness playing
    /// the client: each client step is fed as one chunk (pipelined), and the server must
    /// have sent exactly the server steps that came before it, and nothing more: the check
    /// runs before each client step and at the end.
    pub fn transcript(&mut self, script: &str) {
        self.replay(Transcript::new(script).steps());
    }

    /// Replays `steps` as [`Harness::transcript`] does; the client's end of input calls
    /// [`Server::handle_eof`], the server's checks that the session is closed.
    pub fn replay(&mut self, steps: &[Step]) {
        let mut expected = Vec::new();
        for step in steps {
            match step {
                Step::Send {
                    from: Side::Server,
                    bytes,
                } => expected.extend_from_slice(bytes),
                Step::Send {
                    from: Side::Client,
                    bytes,
                } => {
                    self.check(&mut expected);
                    self.send(bytes);
                }
                Step::Eof { from: Side::Client } => {
                    self.check(&mut expected);
                    self.server.handle_eof();
                    self.drive();
                }
                Step::Eof { from: Side::Server } => {
                    self.check(&mut expected);
                    assert!(self.server.is_closed(), "the server should have closed");
                }
            }
        }
        self.check(&mut expected);
    }

    fn check(&mut self, expected: &mut Vec<u8>) {
        let expected = String::from_utf8(std::mem::take(expected)).expect("UTF-8 transcript");
        assert_eq!(self.take_out(), expected);
    }
}

// ---- expected values ----

pub fn domain(name: &str) -> Domain<'static> {
    Domain::new(name.to_owned()).expect("valid domain")
}

pub fn hello(verb: HelloVerb, name: &str) -> Event {
    Event::Hello {
        verb,
        host: Host::Domain(domain(name)),
    }
}

pub fn ehlo(name: &str) -> Event {
    hello(HelloVerb::Ehlo, name)
}

pub fn mailbox(address: &str) -> Mailbox<'static> {
    Mailbox::parse(address).expect("valid mailbox").into_owned()
}

pub fn mail(address: &str) -> Event {
    mail_with(address, MailParams::default())
}

pub fn mail_with(address: &str, params: MailParams<'static>) -> Event {
    Event::Mail {
        from: ReversePath::Mailbox(mailbox(address)),
        params,
    }
}

pub fn rcpt(address: &str) -> Event {
    Event::Rcpt {
        to: ForwardPath::Mailbox(mailbox(address)),
        params: RcptParams::default(),
    }
}

pub fn data_start() -> Event {
    Event::BodyStart {
        transfer: BodyTransfer::Data,
    }
}

pub fn bdat_start() -> Event {
    Event::BodyStart {
        transfer: BodyTransfer::Bdat,
    }
}

pub fn chunk(bytes: impl AsRef<[u8]>) -> Event {
    Event::BodyChunk(Bytes::copy_from_slice(bytes.as_ref()))
}

pub fn body_end(size: u64, recipients: usize) -> Event {
    Event::BodyEnd { size, recipients }
}

pub fn closed(ending: Result<(), SessionError>) -> Event {
    Event::Closed(ending)
}

/// A one-line reply without an enhanced status code.
pub fn reply(code: u16, text: &'static str) -> Reply<'static> {
    Reply::text(ReplyCode::new(code).expect("valid code"), None, text).expect("valid reply")
}
