//! Deadlines on the simulated clock: the server's idle timeout and the client's reply
//! timeout.

use std::time::Duration;

use smtp_proto::client::{self, Awaiting, SessionError as ClientSessionError};
use smtp_proto::server::{self, SessionError as ServerSessionError};

use crate::support::{Scenario, chunkings, envelope, reply};

/// The client is idle after EHLO (its application sends nothing and does not quit): after
/// the server's command timeout it answers `421 4.4.2` and closes; the client reports the
/// `421`.
#[test]
fn server_idle_timeout() {
    for chunking in chunkings() {
        let mut scenario = Scenario::relay();
        scenario.quit = false;
        scenario.server.command_timeout = Duration::from_secs(60);
        let (mut pair, _) = scenario.pair(chunking);
        pair.drive();
        assert!(pair.client().is_ready());
        assert_eq!(
            pair.client().poll_timeout(),
            None,
            "an idle client waits for nothing"
        );
        pair.advance(Duration::from_secs(59));
        assert_eq!(pair.server_ending(), None);
        assert_eq!(pair.advance_to_next_timeout(), Some(Duration::from_secs(1)));
        assert_eq!(
            pair.server_ending(),
            Some(&Err(ServerSessionError::Timeout))
        );
        let Some(Err(ClientSessionError::ServiceUnavailable(reply))) = pair.client_ending() else {
            panic!("the client sees the 421: {:?}", pair.client_ending());
        };
        assert_eq!(reply.code().get(), 421);
        assert_eq!(
            reply.enhanced().map(|e| e.to_string()),
            Some("4.4.2".into())
        );
        assert!(
            pair.take_server_events()
                .ends_with(&[server::Event::Closed(Err(ServerSessionError::Timeout))])
        );
    }
}

/// The server's application never answers MAIL: the client gives up after its MAIL timeout
/// and closes the connection; the server sees the client go in the middle of a transaction.
#[test]
fn client_reply_timeout() {
    for chunking in chunkings() {
        let mut scenario = Scenario::relay().message(
            envelope("alice@client.example", &["bob@mx.example"]),
            &[b"x\r\n"],
        );
        scenario.client.timeouts.mail = Duration::from_secs(30);
        scenario.policy.answer = false;
        let (mut pair, _) = scenario.pair(chunking);
        pair.drive();
        // Answer EHLO by hand, hold MAIL.
        let events = pair.take_server_events();
        assert!(
            matches!(events[..], [server::Event::Hello { .. }]),
            "{events:?}"
        );
        pair.server_mut().accept().unwrap();
        pair.drive();
        let events = pair.take_server_events();
        assert!(
            matches!(events[..], [server::Event::Mail { .. }]),
            "{events:?}"
        );
        assert_eq!(pair.client_ending(), None);
        assert_eq!(
            pair.advance_to_next_timeout(),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            pair.client_ending(),
            Some(&Err(ClientSessionError::Timeout(Awaiting::Mail)))
        );
        assert!(
            pair.take_client_events()
                .ends_with(&[client::Event::Closed(Err(ClientSessionError::Timeout(
                    Awaiting::Mail
                )))])
        );
        // The server reads the end of the stream only after what came before it: with the
        // RCPT still unread (it stopped reading for its decision) it learns of the close once
        // its application answers.
        if pair.server_ending().is_none() {
            pair.server_mut()
                .reject(reply("451 4.3.0 Try again later\r\n"))
                .unwrap();
            pair.drive();
        }
        assert_eq!(
            pair.server_ending(),
            Some(&Err(ServerSessionError::PeerClosed {
                in_transaction: false
            }))
        );
    }
}

/// A greeting delay (postscreen's greet pause): the server holds the `220` until its timer
/// fires on the simulated clock; our client waits for it, so it is no early talker.
#[test]
fn greeting_delay_on_the_simulated_clock() {
    for chunking in chunkings() {
        let mut scenario = Scenario::relay().message(
            envelope("alice@client.example", &["bob@mx.example"]),
            &[b"x\r\n"],
        );
        scenario.server.greeting_delay = Some(Duration::from_secs(6));
        let (mut pair, _) = scenario.pair(chunking);
        pair.drive();
        assert!(pair.written(mail_testkit::Side::Server).is_empty());
        assert!(pair.written(mail_testkit::Side::Client).is_empty());
        assert_eq!(pair.advance_to_next_timeout(), Some(Duration::from_secs(6)));
        assert_eq!(pair.client_ending(), Some(&Ok(())));
        assert_eq!(pair.server_ending(), Some(&Ok(())));
        let events = pair.take_server_events();
        assert!(!events.contains(&server::Event::EarlyTalker), "{events:?}");
        assert!(
            events
                .iter()
                .any(|e| matches!(e, server::Event::BodyEnd { .. }))
        );
    }
}

/// A greeting delay longer than the client's greeting timeout: the client gives up first
/// and closes; the server, still holding its greeting, sees the connection close.
#[test]
fn client_greeting_timeout() {
    for chunking in chunkings() {
        let mut scenario = Scenario::relay();
        scenario.server.greeting_delay = Some(Duration::from_secs(60));
        scenario.client.timeouts.greeting = Duration::from_secs(20);
        let (mut pair, _) = scenario.pair(chunking);
        pair.drive();
        assert_eq!(
            pair.advance_to_next_timeout(),
            Some(Duration::from_secs(20))
        );
        assert_eq!(
            pair.client_ending(),
            Some(&Err(ClientSessionError::Timeout(Awaiting::Greeting)))
        );
        assert_eq!(
            pair.server_ending(),
            Some(&Err(ServerSessionError::PeerClosed {
                in_transaction: false
            }))
        );
        assert!(pair.written(mail_testkit::Side::Server).is_empty());
    }
}

/// The server's application shuts the session down between transactions: `421`, and the
/// client reports it.
#[test]
fn server_shutdown_is_reported_to_the_client() {
    for chunking in chunkings() {
        let mut scenario = Scenario::relay();
        scenario.quit = false;
        let (mut pair, _) = scenario.pair(chunking);
        pair.drive();
        assert!(pair.client().is_ready());
        pair.server_mut()
            .close(&reply("421 4.3.2 Shutting down\r\n"));
        pair.drive();
        assert_eq!(
            pair.server_ending(),
            Some(&Err(ServerSessionError::Shutdown))
        );
        assert_eq!(
            pair.client_ending(),
            Some(&Err(ClientSessionError::ServiceUnavailable(reply(
                "421 4.3.2 Shutting down\r\n"
            ))))
        );
        assert!(
            pair.take_client_events()
                .iter()
                .all(|e| !matches!(e, client::Event::MessageAccepted(_)))
        );
    }
}
