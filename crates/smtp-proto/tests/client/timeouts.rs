//! Timeouts: the deadlines of RFC 5321 section 4.5.3.2, and an unanswered QUIT.

use std::time::{Duration, Instant};

use smtp_proto::client::{Awaiting, Client, Event, SessionError};

use crate::harness::{App, QuitWhen, Session, config, envelope};
use crate::{Direct, MINUTE, closed_with, drain, ready};

#[test]
fn the_greeting_deadline_is_five_minutes() {
    let t0 = Instant::now();
    let mut client = Direct::new(Client::new(config("client.example"), t0));
    assert_eq!(client.poll_timeout(), Some(t0 + 5 * MINUTE));
    client.handle_timeout(t0 + 5 * MINUTE - Duration::from_secs(1));
    assert!(drain(&mut client).0.is_empty());
    client.handle_timeout(t0 + 5 * MINUTE);
    assert_eq!(
        drain(&mut client).0,
        [Event::Closed(Err(SessionError::Timeout(
            Awaiting::Greeting
        )))]
    );
    assert_eq!(client.poll_timeout(), None);
}

#[test]
fn deadlines_follow_rfc5321_section_4_5_3_2() {
    let mut session = Session::new(config("client.example"), App::new(vec![], QuitWhen::Never));
    let t0 = session.now;
    session.feed_replies(b"220 mx.example\r\n250-mx.example\r\n250 CHUNKING\r\n");
    assert_eq!(
        session.client.poll_timeout(),
        None,
        "idle: nothing to wait for"
    );

    session.now = t0 + MINUTE;
    let now = session.now;
    session
        .client
        .send_message(now, envelope("a@client.example", &["b@mx.example"]))
        .unwrap();
    assert_eq!(
        session.client.poll_timeout(),
        Some(now + 5 * MINUTE),
        "MAIL"
    );
    session.now += MINUTE;
    session.feed(b"250 Ok\r\n");
    assert_eq!(
        session.client.poll_timeout(),
        Some(session.now + 5 * MINUTE),
        "RCPT, counted from the MAIL reply"
    );
    session.feed(b"250 Ok\r\n");
    session.client.send_body(session.now, b"chunk").unwrap();
    assert_eq!(
        session.client.poll_timeout(),
        Some(session.now + 3 * MINUTE),
        "BDAT chunk: data block"
    );
    session.feed(b"250 Ok\r\n");
    session.client.finish_body(session.now).unwrap();
    assert_eq!(
        session.client.poll_timeout(),
        Some(session.now + 10 * MINUTE),
        "end of data"
    );
    session.advance(10 * MINUTE);
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::Timeout(Awaiting::EndOfData))
    );
}

#[test]
fn the_data_initiation_deadline_is_two_minutes() {
    let mut session = ready("250 mx.example\r\n");
    let now = session.now;
    session
        .client
        .send_message(now, envelope("a@client.example", &["b@mx.example"]))
        .unwrap();
    session.feed_replies(b"250 Ok\r\n250 Ok\r\n");
    assert!(session.output().ends_with(b"DATA\r\n"));
    assert_eq!(session.client.poll_timeout(), Some(now + 2 * MINUTE));
    session.advance(2 * MINUTE);
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::Timeout(Awaiting::Data))
    );
    assert!(
        session.output().is_empty(),
        "no QUIT to a server that does not answer"
    );
}

#[test]
fn an_unanswered_quit_still_closes_cleanly() {
    let mut session = ready("250 mx.example\r\n");
    session.client.quit(session.now);
    assert_eq!(session.output(), b"QUIT\r\n");
    session.advance(5 * MINUTE);
    assert_eq!(closed_with(&session), &Ok(()));

    let mut session = ready("250 mx.example\r\n");
    session.client.quit(session.now);
    session.client.handle_eof();
    session.react();
    assert_eq!(closed_with(&session), &Ok(()));
}
