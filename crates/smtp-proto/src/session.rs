//! Both SMTP machines implement the session contract of `mail_wire::session`, so that one
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

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use mail_wire::session::{EventKind, Session};

    use crate::client::{self, Client, ClientConfig, TlsPolicy};
    use crate::server::{self, Server, ServerConfig};
    use crate::types::{Domain, Host};

    /// How a session ended, read through the trait alone.
    fn ending<S: Session>(event: &S::Event) -> Option<Result<(), S::Error>> {
        match S::classify(event) {
            EventKind::Closed(ending) => Some(ending.clone()),
            EventKind::StartTls | EventKind::Other => None,
        }
    }

    #[test]
    fn both_machines_run_through_the_trait_and_end_in_the_same_shape() {
        let now = Instant::now();
        let mut server = Server::new(ServerConfig::relay(Domain::new("mx.example").unwrap()), now);
        let mut config = ClientConfig::relay(Host::Domain(Domain::new("client.example").unwrap()));
        config.tls = TlsPolicy::Never;
        let mut client = Client::new(config, now);
        let (mut server_end, mut client_end) = (None, None);
        for _ in 0..20 {
            while let Some(bytes) = Session::poll_transmit(&mut server) {
                Session::feed(&mut client, now, &bytes);
            }
            while let Some(bytes) = Session::poll_transmit(&mut client) {
                Session::feed(&mut server, now, &bytes);
            }
            while let Some(event) = Session::poll_event(&mut server) {
                server_end = server_end.or(ending::<Server>(&event));
                if let server::Event::Hello { .. } = event {
                    server.accept().unwrap();
                }
            }
            while let Some(event) = Session::poll_event(&mut client) {
                client_end = client_end.or(ending::<Client>(&event));
                if event == client::Event::Ready {
                    client.quit(now);
                }
            }
        }
        assert_eq!(server_end, Some(Ok(())));
        assert_eq!(client_end, Some(Ok(())));
        assert!(Session::is_closed(&client) && Session::is_closed(&server));
        assert!(!Session::wants_input(&client) && !Session::wants_input(&server));
        assert_eq!(
            Session::tls_established(&mut server, now),
            Err(server::ServerError::NoTlsPending)
        );
    }
}

#[cfg(test)]
mod end_of_stream {
    use std::time::Instant;

    use crate::server::{Event, Server, ServerConfig, SessionError};

    /// Feeds `bytes`, then the end of the stream, accepting every decision; returns what the
    /// server wrote and reported.
    fn fed_then_closed(bytes: &[u8]) -> (String, Vec<Event>) {
        let now = Instant::now();
        let mut server = Server::new(ServerConfig::default(), now);
        server.feed(now, bytes);
        server.handle_eof();
        let mut events = Vec::new();
        while let Some(event) = server.poll_event() {
            if !matches!(
                event,
                Event::BodyStart { .. } | Event::BodyChunk(_) | Event::Closed(_)
            ) {
                server.accept().unwrap();
            }
            events.push(event);
        }
        let mut written = Vec::new();
        while let Some(bytes) = server.poll_transmit() {
            written.extend_from_slice(&bytes);
        }
        assert!(server.is_closed());
        (String::from_utf8_lossy(&written).into_owned(), events)
    }

    /// Found by the in-memory Pair: commands that arrived before the client closed its side
    /// were dropped unanswered when the end of the stream came before the driver polled.
    #[test]
    fn commands_sent_before_the_close_are_still_answered() {
        let (written, events) = fed_then_closed(b"EHLO a.example\r\nQUIT\r\n");
        assert!(written.ends_with("221 2.0.0 Bye\r\n"), "{written}");
        assert!(matches!(events.first(), Some(Event::Hello { .. })));
        assert_eq!(events.last(), Some(&Event::Closed(Ok(()))));
    }

    #[test]
    fn a_complete_message_before_the_close_is_still_offered_for_delivery() {
        let (written, events) = fed_then_closed(
            b"EHLO a.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\n\
              DATA\r\nSubject: s\r\n\r\nbody\r\n.\r\n",
        );
        assert!(
            events.contains(&Event::BodyEnd {
                size: 20,
                recipients: 1
            }),
            "{events:?}"
        );
        assert!(written.contains("250 2.0.0"), "{written}");
        assert_eq!(
            events.last(),
            Some(&Event::Closed(Err(SessionError::PeerClosed {
                in_transaction: false
            })))
        );
    }

    #[test]
    fn an_unfinished_message_is_abandoned_at_the_close() {
        let (_, events) = fed_then_closed(
            b"EHLO a.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\n\
              DATA\r\nSubject: s\r\n\r\nbody",
        );
        assert!(
            !events
                .iter()
                .any(|event| matches!(event, Event::BodyEnd { .. }))
        );
        assert_eq!(
            events.last(),
            Some(&Event::Closed(Err(SessionError::PeerClosed {
                in_transaction: true
            })))
        );
    }

    #[test]
    fn input_after_the_close_is_ignored() {
        let now = Instant::now();
        let mut server = Server::new(ServerConfig::default(), now);
        server.feed(now, b"NOOP\r\n");
        server.handle_eof();
        server.feed(now, b"QUIT\r\n");
        assert!(!server.wants_input());
        let events: Vec<Event> = std::iter::from_fn(|| server.poll_event()).collect();
        assert_eq!(
            events,
            [Event::Closed(Err(SessionError::PeerClosed {
                in_transaction: false
            }))]
        );
    }
}
