//! Both SMTP machines implement the session contract of `mail_wire::session`, so that one
//! driver (mail-tokio, the test kit's in-memory `Pair`, a fuzz target) runs either. Each trait
//! method forwards to the inherent method of the same name (`mail_wire::delegate_session!`);
//! what the methods mean is documented on `mail_wire::session::Session`.

use crate::{client, server};

mail_wire::delegate_session!(server::Server {
    Event = server::Event,
    Error = server::SessionError,
    Misuse = server::ServerError,
    StartTls = server::Event::StartTls,
    Closed = server::Event::Closed,
    also = [feed_buf, handle_connection_lost],
});

mail_wire::delegate_session!(client::Client {
    Event = client::Event,
    Error = client::SessionError,
    Misuse = client::ClientError,
    StartTls = client::Event::StartTls,
    Closed = client::Event::Closed,
    also = [poll_transmit_marked],
});

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
