//! Both POP3 machines implement the session contract of `mail_wire::session`, so that one
//! driver (mail-tokio, the test kit's in-memory `Pair`, a fuzz target) runs either.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use mail_wire::session::{EventKind, Session, Transmit};

use crate::{client, server};

impl Session for server::Server {
    type Event = server::Event;
    type Error = server::SessionError;
    type Misuse = server::ServerError;

    fn feed(&mut self, now: Instant, bytes: &[u8]) {
        server::Server::feed(self, now, bytes);
    }

    fn feed_buf(&mut self, now: Instant, buf: &mut BytesMut) {
        server::Server::feed_buf(self, now, buf);
    }

    fn handle_eof(&mut self) {
        server::Server::handle_eof(self);
    }

    fn handle_connection_lost(&mut self) {
        server::Server::handle_connection_lost(self);
    }

    fn poll_transmit(&mut self) -> Option<Bytes> {
        server::Server::poll_transmit(self)
    }

    fn poll_event(&mut self) -> Option<server::Event> {
        server::Server::poll_event(self)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        server::Server::poll_timeout(self)
    }

    fn handle_timeout(&mut self, now: Instant) {
        server::Server::handle_timeout(self, now);
    }

    fn wants_input(&self) -> bool {
        server::Server::wants_input(self)
    }

    fn is_tls(&self) -> bool {
        server::Server::is_tls(self)
    }

    fn tls_established(&mut self, now: Instant) -> Result<(), server::ServerError> {
        server::Server::tls_established(self, now)
    }

    fn is_closed(&self) -> bool {
        server::Server::is_closed(self)
    }

    fn classify(event: &server::Event) -> EventKind<'_, server::SessionError> {
        match event {
            server::Event::StartTls => EventKind::StartTls,
            server::Event::Closed(ending) => EventKind::Closed(ending),
            _ => EventKind::Other,
        }
    }
}

impl Session for client::Client {
    type Event = client::Event;
    type Error = client::SessionError;
    type Misuse = client::ClientError;

    fn feed(&mut self, now: Instant, bytes: &[u8]) {
        client::Client::feed(self, now, bytes);
    }

    fn handle_eof(&mut self) {
        client::Client::handle_eof(self);
    }

    fn poll_transmit(&mut self) -> Option<Bytes> {
        client::Client::poll_transmit(self)
    }

    fn poll_transmit_marked(&mut self) -> Option<Transmit> {
        client::Client::poll_transmit_marked(self)
    }

    fn poll_event(&mut self) -> Option<client::Event> {
        client::Client::poll_event(self)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        client::Client::poll_timeout(self)
    }

    fn handle_timeout(&mut self, now: Instant) {
        client::Client::handle_timeout(self, now);
    }

    fn wants_input(&self) -> bool {
        client::Client::wants_input(self)
    }

    fn is_tls(&self) -> bool {
        client::Client::is_tls(self)
    }

    fn tls_established(&mut self, now: Instant) -> Result<(), client::ClientError> {
        client::Client::tls_established(self, now)
    }

    fn is_closed(&self) -> bool {
        client::Client::is_closed(self)
    }

    fn classify(event: &client::Event) -> EventKind<'_, client::SessionError> {
        match event {
            client::Event::StartTls => EventKind::StartTls,
            client::Event::Closed(ending) => EventKind::Closed(ending),
            _ => EventKind::Other,
        }
    }
}
