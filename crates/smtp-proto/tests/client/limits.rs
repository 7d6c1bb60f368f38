//! Limits on replies: line length (12288 octets only during AUTH), number of lines, and a
//! malformed reply.

use mail_wire::sasl::Mechanism;
use smtp_proto::ReplyError;
use smtp_proto::client::{Event, SessionError};

use crate::harness::{App, QuitWhen, Session, config};
use crate::{alice, auth_config, closed_with};

#[test]
fn an_over_long_reply_line_ends_the_session() {
    let mut session = Session::new(config("client.example"), App::new(vec![], QuitWhen::Never));
    let mut line = b"220 ".to_vec();
    line.extend(std::iter::repeat_n(b'x', 5000));
    session.feed(&line);
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::ReplyTooLong { limit: 2048 })
    );
    // Nothing more is taken in or sent.
    session.feed(b"\r\n220 ok\r\n");
    assert_eq!(session.events.len(), 1);
    assert!(session.output().is_empty());

    // The limit counts the CRLF.
    let mut config = config("client.example");
    config.max_reply_line_len = 16;
    let mut session = Session::new(config, App::new(vec![], QuitWhen::Never));
    session.feed(b"220 exactly 16\r\n");
    assert!(matches!(session.events[0], Event::Greeting(_)));
    session.feed(b"250 seventeen 17\r\n");
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::ReplyTooLong { limit: 16 })
    );
}

#[test]
fn a_reply_with_too_many_lines_ends_the_session() {
    let mut session = Session::new(config("client.example"), App::new(vec![], QuitWhen::Never));
    let mut ehlo = b"220 mx.example\r\n".to_vec();
    for _ in 0..100 {
        ehlo.extend_from_slice(b"250-X-FILLER\r\n");
    }
    ehlo.extend_from_slice(b"250 LAST\r\n");
    session.feed(&ehlo);
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::MalformedReply(ReplyError::TooManyLines {
            limit: 100
        }))
    );

    let mut config = config("client.example");
    config.max_reply_lines = 3;
    let mut session = Session::new(config.clone(), App::new(vec![], QuitWhen::Never));
    session.feed_replies(b"220 mx.example\r\n250-a\r\n250-b\r\n250 c\r\n");
    assert!(session.client.is_ready());
    // The configured limit, not only the default, is breached by one more line.
    let mut session = Session::new(config, App::new(vec![], QuitWhen::Never));
    session.feed_replies(b"220 mx.example\r\n250-a\r\n250-b\r\n250-c\r\n250 d\r\n");
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::MalformedReply(ReplyError::TooManyLines {
            limit: 3
        }))
    );
}

/// A client in AUTH LOGIN, past the EHLO reply, before the username prompt.
fn in_auth_login() -> Session {
    let mut session = Session::new(auth_config(alice()), App::new(vec![], QuitWhen::Never));
    session.feed_replies(b"220 mx.example\r\n250-mx.example\r\n250 AUTH LOGIN\r\n");
    assert!(session.output().ends_with(b"AUTH LOGIN\r\n"));
    session
}

#[test]
fn reply_lines_may_reach_12288_octets_only_during_auth() {
    // RFC 4954 section 4: a challenge line may be up to 12288 octets. A 334 of 5002 octets
    // (valid base64) is taken: LOGIN answers with the username whatever the prompt says.
    let mut session = in_auth_login();
    let long = format!("334 {}\r\n", "A".repeat(4996));
    assert_eq!(long.len(), 5002);
    session.feed(long.as_bytes());
    assert_eq!(session.output(), b"YWxpY2U=\r\n");
    // One octet over 12288 ends the session.
    let mut session = in_auth_login();
    let over = format!("334 {}\r\n", "A".repeat(12289 - 6));
    assert_eq!(over.len(), 12289);
    session.feed(over.as_bytes());
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::ReplyTooLong { limit: 12288 })
    );
    // After the exchange the normal limit (2048) is back.
    let mut session = in_auth_login();
    session.feed_replies(b"334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.7.0 ok\r\n");
    assert!(
        session
            .events
            .contains(&Event::Authenticated(Mechanism::Login))
    );
    let after = format!("250 {}\r\n", "x".repeat(2049 - 6));
    assert_eq!(after.len(), 2049);
    session.feed(after.as_bytes());
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::ReplyTooLong { limit: 2048 })
    );
}

#[test]
fn a_malformed_reply_ends_the_session() {
    let mut session = Session::new(config("client.example"), App::new(vec![], QuitWhen::Never));
    session.feed(b"HTTP/1.1 400 Bad Request\r\n");
    assert!(matches!(
        closed_with(&session),
        Err(SessionError::MalformedReply(ReplyError::Syntax { .. }))
    ));
}
