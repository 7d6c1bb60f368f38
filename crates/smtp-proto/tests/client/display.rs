//! Server text never reaches a terminal raw: the `Display` of `SessionError` and `Rejection`
//! escapes control characters and bidirectional overrides.

use std::time::Instant;

use smtp_proto::client::{Client, Event, Printable, Rejection, SessionError};

use crate::harness::{config, envelope, reply};
use crate::{Direct, drain, ready};

/// Whether `text` holds a character a terminal would act on.
fn raw_controls(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
}

#[test]
fn a_greeting_with_escape_codes_is_displayed_escaped() {
    let now = Instant::now();
    let mut client = Direct::new(Client::new(config("client.example"), now));
    client.feed(now, b"554 \x1b[2J\x1b[31mfake: accepted\r\n");
    let (events, _) = drain(&mut client);
    let Some(Event::Closed(Err(error @ SessionError::GreetingRejected(_)))) = events.last() else {
        panic!("{events:?}");
    };
    let shown = error.to_string();
    assert_eq!(
        shown,
        "the server refused the session: 554 \\x1b[2J\\x1b[31mfake: accepted"
    );
    assert!(!raw_controls(&shown));
}

#[test]
fn a_final_reply_with_cursor_movement_is_displayed_escaped() {
    let now = Instant::now();
    let mut session = ready("250-mx.example\r\n250 PIPELINING\r\n");
    session
        .client
        .send_message(now, envelope("a@client.example", &["b@mx.example"]))
        .unwrap();
    session.output();
    session.feed(b"250 Ok\r\n250 Ok\r\n354 Go\r\n");
    session.client.finish_body_with(now, b"hi\r\n").unwrap();
    session.feed("554 5.7.1 no\x1b[1A\x1b[2K\x1b[G250 queued \u{202e}deyalp\r\n".as_bytes());
    let rejection = session
        .events
        .iter()
        .find_map(|event| match event {
            Event::MessageRejected(rejection) => Some(rejection.clone()),
            _ => None,
        })
        .expect("the message was refused");
    let shown = rejection.to_string();
    assert_eq!(
        shown,
        "message refused: 554 5.7.1 no\\x1b[1A\\x1b[2K\\x1b[G250 queued \\u{202e}deyalp"
    );
    assert!(!raw_controls(&shown));
}

#[test]
fn every_rejection_and_error_with_a_reply_escapes_it() {
    let evil = reply("550 \u{7f}\u{85}\u{2066}x\u{2069}\x07\r\n");
    for shown in [
        Rejection::Sender(evil.clone()).to_string(),
        Rejection::Data(evil.clone()).to_string(),
        Rejection::Message(evil.clone()).to_string(),
        SessionError::UnexpectedReply(evil.clone()).to_string(),
        SessionError::HelloRejected(evil.clone()).to_string(),
        SessionError::StartTlsRefused(evil.clone()).to_string(),
        SessionError::ServiceUnavailable(evil.clone()).to_string(),
    ] {
        assert!(!raw_controls(&shown), "{shown:?}");
        assert!(
            shown.ends_with("550 \\x7f\\u{0085}\\u{2066}x\\u{2069}\\x07"),
            "{shown:?}"
        );
    }
    assert_eq!(
        Rejection::NoRecipients.to_string(),
        "every recipient was refused"
    );
    assert_eq!(
        Printable(b"ok \xff tab\t").to_string(),
        "ok \u{fffd} tab\\x09"
    );
}
