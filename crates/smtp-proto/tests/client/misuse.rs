//! API misuse: calls out of order are errors, and an unsolicited reply ends the session.

use std::time::Instant;

use smtp_proto::client::{Client, ClientError, Event, SessionError};

use crate::harness::{config, envelope, reply};
use crate::{Direct, closed_with, drain, feed_replies, ready};

#[test]
fn calls_out_of_order_are_errors() {
    let now = Instant::now();
    let mut client = Direct::new(Client::new(config("client.example"), now));
    let env = envelope("a@client.example", &["b@mx.example"]);
    assert_eq!(
        client.send_message(now, env.clone()),
        Err(ClientError::NotReady)
    );
    assert_eq!(client.send_body(now, b"x"), Err(ClientError::NoBody));
    assert_eq!(client.finish_body(now), Err(ClientError::NoBody));
    assert_eq!(client.tls_established(now), Err(ClientError::NoTlsPending));
    feed_replies(&mut client, now, b"220 mx.example\r\n250 mx.example\r\n");
    client.send_message(now, env.clone()).unwrap();
    assert_eq!(
        client.send_message(now, env.clone()),
        Err(ClientError::NotReady)
    );
    assert_eq!(client.send_body(now, b"x"), Err(ClientError::NoBody));

    // A clean QUIT: later calls say the session is closed.
    let mut client = Direct::new(Client::new(config("client.example"), now));
    feed_replies(&mut client, now, b"220 mx.example\r\n250 mx.example\r\n");
    client.quit(now);
    client.feed(now, b"221 Bye\r\n");
    assert_eq!(drain(&mut client).0.last(), Some(&Event::Closed(Ok(()))));
    assert_eq!(client.send_message(now, env), Err(ClientError::Closed));
    assert_eq!(client.error(), None);
}

#[test]
fn an_unsolicited_reply_ends_the_session() {
    let mut session = ready("250 mx.example\r\n");
    session.feed(b"250 I was not asked\r\n");
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::UnexpectedReply(reply(
            "250 I was not asked\r\n"
        )))
    );
    assert!(session.output().is_empty());
}
