//! The server going away: a `421` at any point, and the connection closing.

use smtp_proto::client::{ClientError, SessionError};

use mail_testkit::Side;
use mail_testkit::transcript::Step;

use crate::harness::{Session, config, envelope, reply, transcript};
use crate::sessions::{D1, d1_app};
use crate::{closed_with, ready};

#[test]
fn a_421_at_any_point_ends_the_session() {
    let steps = transcript(D1);
    let server_steps: Vec<usize> = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            matches!(
                s,
                Step::Send {
                    from: Side::Server,
                    ..
                }
            )
        })
        .map(|(i, _)| i)
        .collect();
    let shutdown = "421 4.3.2 Service shutting down\r\n";
    // Every server step but the reply to QUIT (to which 421 is as good as 221).
    for &at in &server_steps[..server_steps.len() - 1] {
        let mut session = Session::new(config("bar.com"), d1_app());
        session.run_whole(&steps[..at]);
        session.feed(shutdown.as_bytes());
        assert_eq!(
            closed_with(&session),
            &Err(SessionError::ServiceUnavailable(reply(shutdown))),
            "at step {at}"
        );
        assert!(
            session.output().is_empty(),
            "nothing is sent after 421 (step {at})"
        );
        assert_eq!(
            session
                .client
                .send_message(session.now, envelope("a@b.example", &["c@d.example"])),
            Err(ClientError::Session(SessionError::ServiceUnavailable(
                reply(shutdown)
            )))
        );
    }
    // While the body streams, and while idle.
    let mut session = ready("250 mx.example\r\n");
    let now = session.now;
    session
        .client
        .send_message(now, envelope("a@client.example", &["b@mx.example"]))
        .unwrap();
    session.feed_replies(b"250 Ok\r\n250 Ok\r\n354 Go\r\n");
    session.client.send_body(now, b"half a body").unwrap();
    session.feed(shutdown.as_bytes());
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::ServiceUnavailable(reply(shutdown)))
    );
    assert_eq!(
        session.client.send_body(now, b"more"),
        Err(ClientError::Session(SessionError::ServiceUnavailable(
            reply(shutdown)
        )))
    );
    let mut session = ready("250 mx.example\r\n");
    session.feed(shutdown.as_bytes());
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::ServiceUnavailable(reply(shutdown)))
    );
}

#[test]
fn the_server_closing_the_connection_ends_the_session() {
    let mut steps = transcript(D1);
    steps.truncate(10); // up to the last RCPT
    steps.push(Step::Eof { from: Side::Server });
    let mut session = Session::new(config("bar.com"), d1_app());
    session.run_whole(&steps);
    assert_eq!(closed_with(&session), &Err(SessionError::ConnectionClosed));
}
