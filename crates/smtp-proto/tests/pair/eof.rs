//! The Pair against a real server: end of stream reaches a machine only once it takes input.
//!
//! A real driver (mail-tokio) reads, and so sees the end of the stream, only while the machine
//! takes input; the Pair must follow the same order of calls, or a test of "the client closes
//! while a decision is pending" would run an order no real driver makes.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use mail_testkit::{Pair, Side, SimClock};
use mail_wire::session::{EventKind, Session};
use smtp_proto::client::{Client, ClientConfig, Envelope, TlsPolicy};
use smtp_proto::server::{Event, Server, ServerConfig};
use smtp_proto::{Domain, ForwardPath, Host, Mailbox, ReversePath};

/// A server that records whether `handle_eof` came while a decision was pending.
struct Watched {
    server: Server,
    eof_while_pending: Rc<Cell<bool>>,
}

impl Session for Watched {
    type Event = Event;
    type Error = smtp_proto::server::SessionError;
    type Misuse = smtp_proto::server::ServerError;
    fn feed(&mut self, now: Instant, bytes: &[u8]) {
        self.server.feed(now, bytes);
    }
    fn feed_buf(&mut self, now: Instant, buf: &mut BytesMut) {
        self.server.feed_buf(now, buf);
    }
    fn handle_eof(&mut self) {
        if !self.server.wants_input() && !self.server.is_closed() {
            self.eof_while_pending.set(true);
        }
        self.server.handle_eof();
    }
    fn poll_transmit(&mut self) -> Option<Bytes> {
        self.server.poll_transmit()
    }
    fn poll_event(&mut self) -> Option<Event> {
        self.server.poll_event()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.server.poll_timeout()
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.server.handle_timeout(now);
    }
    fn wants_input(&self) -> bool {
        self.server.wants_input()
    }
    fn is_tls(&self) -> bool {
        self.server.is_tls()
    }
    fn tls_established(&mut self, now: Instant) -> Result<(), Self::Misuse> {
        self.server.tls_established(now)
    }
    fn is_closed(&self) -> bool {
        self.server.is_closed()
    }
    fn classify(event: &Event) -> EventKind<'_, Self::Error> {
        <Server as Session>::classify(event)
    }
}

#[test]
fn the_close_reaches_a_server_only_after_its_pending_decision() {
    let clock = SimClock::new();
    let mut config = ClientConfig::relay(Host::Domain(Domain::new("client.example").unwrap()));
    config.tls = TlsPolicy::Never;
    let client = Client::new(config, clock.now());
    let flag = Rc::new(Cell::new(false));
    let server = Watched {
        server: Server::new(ServerConfig::default(), clock.now()),
        eof_while_pending: Rc::clone(&flag),
    };
    let mut pair = Pair::new(client, server, clock);
    pair.on_client_event(|client, event, now| {
        if *event == smtp_proto::client::Event::Ready {
            let from =
                ReversePath::Mailbox(Mailbox::parse("a@client.example").unwrap().into_owned());
            let to = ForwardPath::Mailbox(Mailbox::parse("b@mx.example").unwrap().into_owned());
            let _ = client.send_message(now, Envelope::new(from).with_recipient(to));
        }
    });
    // Accept HELO/EHLO; hold MAIL (the application is still looking the sender up).
    pair.on_server_event(|watched, event, _| {
        if matches!(event, Event::Hello { .. }) {
            watched.server.accept().unwrap();
        }
    });
    pair.drive();
    assert!(
        pair.server_events()
            .iter()
            .any(|e| matches!(e, Event::Mail { .. })),
        "{:?}",
        pair.server_events()
    );
    assert!(!pair.server().wants_input(), "the MAIL decision is pending");
    // The client's driver closes the connection while the server's decision is pending.
    pair.shutdown(Side::Client);
    pair.drive();
    assert!(
        !flag.get(),
        "the server was told of the close while its decision was pending, \
         contrary to the Pair's docs and to what a real driver does"
    );
}
