//! The body: DATA dot-stuffing and line endings, a refused DATA, the reply to the body,
//! several messages in one session.

use smtp_proto::client::{ClientError, Event, Rejection};

use crate::harness::{App, Message, QuitWhen, config, envelope, replay, reply, transcript};
use crate::ready;

#[test]
fn data_bodies_are_dot_stuffed_and_line_endings_normalised() {
    let mut session = ready("250 mx.example\r\n");
    let now = session.now;
    session
        .client
        .send_message(now, envelope("a@client.example", &["b@mx.example"]))
        .unwrap();
    session.feed_replies(b"250 Ok\r\n250 Ok\r\n354 Go\r\n");
    assert_eq!(session.events.last(), Some(&Event::BodyReady));
    session.output();
    for piece in [
        &b".starts with a dot\r\n"[..],
        b"..two dots\r\n.\r",
        b"\nbare lf\nthen .dot after bare lf\n",
        b".",
        b"\r\n\r\n.\r\nlast line without CRLF",
    ] {
        session.client.send_body(now, piece).unwrap();
    }
    session.client.finish_body(now).unwrap();
    assert_eq!(
        String::from_utf8(session.output()).unwrap(),
        "..starts with a dot\r\n\
         ...two dots\r\n..\r\n\
         bare lf\r\nthen .dot after bare lf\r\n\
         ..\r\n\r\n..\r\nlast line without CRLF\r\n.\r\n"
    );
    assert_eq!(
        session.client.send_body(now, b"more"),
        Err(ClientError::NoBody)
    );
    session.feed(b"250 2.0.0 Ok\r\n");
    assert_eq!(session.events.last(), Some(&Event::Ready));
}

#[test]
fn a_refused_data_command_fails_the_message() {
    let mut session = ready("250 mx.example\r\n");
    let now = session.now;
    session
        .client
        .send_message(now, envelope("a@client.example", &["b@mx.example"]))
        .unwrap();
    session.feed_replies(b"250 Ok\r\n250 Ok\r\n");
    assert_eq!(
        session.output(),
        b"MAIL FROM:<a@client.example>\r\nRCPT TO:<b@mx.example>\r\nDATA\r\n"
    );
    session.feed(b"451 4.3.0 Try later\r\n");
    assert_eq!(
        &session.events[session.events.len() - 2..],
        [
            Event::MessageRejected(Rejection::Data(reply("451 4.3.0 Try later\r\n"))),
            Event::Ready
        ]
    );
    // The transaction is still open on the server: the next one starts with RSET.
    session
        .client
        .send_message(now, envelope("a@client.example", &["b@mx.example"]))
        .unwrap();
    assert_eq!(session.output(), b"RSET\r\n");
    session.feed(b"250 Ok\r\n");
    assert_eq!(session.output(), b"MAIL FROM:<a@client.example>\r\n");
}

#[test]
fn the_reply_to_the_body_is_reported() {
    let mut session = ready("250-mx.example\r\n250 PIPELINING\r\n");
    let now = session.now;
    session
        .client
        .send_message(now, envelope("a@client.example", &["b@mx.example"]))
        .unwrap();
    session.feed_replies(b"250 Ok\r\n250 Ok\r\n354 Go\r\n");
    session.client.finish_body_with(now, b"spam\r\n").unwrap();
    session.feed(b"554 5.7.1 Looks like spam\r\n");
    assert_eq!(
        &session.events[session.events.len() - 2..],
        [
            Event::MessageRejected(Rejection::Message(reply("554 5.7.1 Looks like spam\r\n"))),
            Event::Ready
        ]
    );
    // The transaction ended with the reply: no RSET.
    session
        .client
        .send_message(now, envelope("a@client.example", &["b@mx.example"]))
        .unwrap();
    assert!(
        session
            .output()
            .ends_with(b"\r\nMAIL FROM:<a@client.example>\r\nRCPT TO:<b@mx.example>\r\nDATA\r\n")
    );
}

#[test]
fn several_messages_in_one_session() {
    let steps = transcript(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250-mx.example
        S: 250 PIPELINING
        C: MAIL FROM:<a@client.example>
        C: RCPT TO:<b@mx.example>
        C: DATA
        S: 250 Ok
        S: 250 Ok
        S: 354 Go
        C: one
        C: .
        S: 250 Ok 1
        C: MAIL FROM:<a@client.example>
        C: RCPT TO:<c@mx.example>
        C: DATA
        S: 250 Ok
        S: 250 Ok
        S: 354 Go
        C: two
        C: .
        S: 250 Ok 2
        C: QUIT
        S: 221 Bye
        ",
    );
    let app = App::new(
        vec![
            Message::new(envelope("a@client.example", &["b@mx.example"]), b"one\r\n"),
            Message::new(envelope("a@client.example", &["c@mx.example"]), b"two\r\n"),
        ],
        QuitWhen::Ready,
    );
    let session = replay(config("client.example"), app, &steps);
    let accepted: Vec<_> = session
        .events
        .iter()
        .filter(|e| matches!(e, Event::MessageAccepted(_)))
        .collect();
    assert_eq!(accepted.len(), 2);
}
