//! The client state machine: RFC transcripts replayed from the client's side, the STARTTLS
//! boundary, AUTH, envelope checks, limits, timeouts, `421` anywhere, and chunking
//! invariance. One test binary, a module per topic; this file holds the helpers the topics
//! share.
//!
//! Transcripts are in the test kit's format (`mail_testkit::transcript`); `harness.rs` plays
//! the server's side and checks every byte the client writes.
//!
//! proptest keeps the seeds of failed cases in `tests/proptest-regressions/<module file>.txt`,
//! named by the module file alone, so a module with property tests needs a file name no other
//! test binary uses.

mod harness;

mod auth;
mod bdat;
mod body;
mod disconnects;
mod display;
mod envelope;
mod hello;
mod limits;
mod lmtp;
mod misuse;
mod pipelining;
mod premature;
mod robustness;
mod sessions;
mod starttls;
mod timeouts;

use std::time::Duration;

use mail_testkit::users::{PASSWORD, USER};
use mail_wire::Secret;
use smtp_proto::Capabilities;
use smtp_proto::client::{Client, ClientConfig, Credentials, Event, SessionError, TlsPolicy};

use crate::harness::{App, QuitWhen, Session, config, reply};

const MINUTE: Duration = Duration::from_secs(60);

fn caps(wire: &str) -> Event {
    Event::Capabilities(Capabilities::from_reply(&reply(wire)).expect("EHLO reply"))
}

fn recipient(index: usize, wire: &str) -> Event {
    Event::Recipient {
        index,
        reply: reply(wire),
    }
}

/// A client driven directly, with what it wrote: `feed` takes the client's output first, as
/// a driver writes before it reads again (the client matches replies only to commands taken
/// for the wire).
struct Direct {
    client: Client,
    /// Taken from the client and not yet returned by [`drain`].
    unread: Vec<u8>,
}

impl Direct {
    fn new(client: Client) -> Self {
        Direct {
            client,
            unread: Vec::new(),
        }
    }

    fn feed(&mut self, now: std::time::Instant, bytes: &[u8]) {
        while let Some(out) = self.client.poll_transmit() {
            self.unread.extend_from_slice(&out);
        }
        self.client.feed(now, bytes);
    }
}

impl std::ops::Deref for Direct {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::ops::DerefMut for Direct {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// Feeds `bytes` one complete reply per read, as a server that answers each command once it
/// has arrived sends them: the client rejects a reply read before its command was taken for
/// the wire (`SessionError::ReplyBeforeCommand`), so a greeting and an EHLO reply in one read
/// do not make a session.
fn feed_replies(client: &mut Direct, now: std::time::Instant, bytes: &[u8]) {
    for reply in harness::replies(bytes) {
        client.feed(now, reply);
    }
}

/// Everything the client has queued (and `Direct::feed` took): events and bytes.
fn drain(client: &mut Direct) -> (Vec<Event>, Vec<u8>) {
    let events = std::iter::from_fn(|| client.client.poll_event()).collect();
    let mut out = std::mem::take(&mut client.unread);
    while let Some(bytes) = client.client.poll_transmit() {
        out.extend_from_slice(&bytes);
    }
    (events, out)
}

fn closed_with(session: &Session) -> &Result<(), SessionError> {
    match session.events.last() {
        Some(Event::Closed(result)) => result,
        other => panic!("session not closed; last event {other:?}"),
    }
}

/// A session ready for a message after this EHLO reply.
fn ready(ehlo: &str) -> Session {
    let mut session = Session::new(config("client.example"), App::new(vec![], QuitWhen::Never));
    session.feed_replies(format!("220 mx.example\r\n{ehlo}").as_bytes());
    assert!(session.client.is_ready(), "{:?}", session.events);
    session.output();
    session
}

fn tls_config(policy: TlsPolicy) -> ClientConfig {
    let mut config = config("client.example");
    config.tls = policy;
    config
}

fn auth_config(credentials: Credentials) -> ClientConfig {
    let mut config = config("client.example");
    config.implicit_tls = true;
    config.credentials = Some(credentials);
    config
}

fn alice() -> Credentials {
    Credentials::password(USER, Secret::new(PASSWORD.into()))
}
