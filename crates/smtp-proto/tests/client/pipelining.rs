//! RFC 2920 pipelining: the transaction sent as one group, and what the client does when
//! the sender or every recipient is refused.

use smtp_proto::client::{Event, Rejection};

use crate::harness::{App, Message, QuitWhen, config, envelope, replay, reply, transcript};
use crate::recipient;

pub(crate) const RFC2920: &str = r#"
    S: 220 innosoft.com SMTP service ready
    C: EHLO dbc.mtview.ca.us
    S: 250-innosoft.com
    S: 250 PIPELINING
    C: MAIL FROM:<mrose@dbc.mtview.ca.us>
    C: RCPT TO:<ned@innosoft.com>
    C: RCPT TO:<dan@innosoft.com>
    C: RCPT TO:<kvc@innosoft.com>
    C: DATA
    S: 250 sender <mrose@dbc.mtview.ca.us> OK
    S: 250 recipient <ned@innosoft.com> OK
    S: 250 recipient <dan@innosoft.com> OK
    S: 250 recipient <kvc@innosoft.com> OK
    S: 354 enter mail, end with line containing only "."
    C: Subject: pipelining
    C:
    C: Hi.
    C: .
    C: QUIT
    S: 250 message sent
    S: 221 goodbye
"#;

pub(crate) fn rfc2920_app() -> App {
    let env = envelope(
        "mrose@dbc.mtview.ca.us",
        &["ned@innosoft.com", "dan@innosoft.com", "kvc@innosoft.com"],
    );
    App::new(
        vec![Message::new(env, b"Subject: pipelining\r\n\r\nHi.\r\n")],
        QuitWhen::AfterBody,
    )
}

#[test]
fn rfc2920_pipelining_sends_the_transaction_as_one_group() {
    // MAIL, the RCPTs and DATA in one flight; the end of data and QUIT in another
    // (RFC 2920 section 3.1: DATA and QUIT may only end a group).
    let session = replay(
        config("dbc.mtview.ca.us"),
        rfc2920_app(),
        &transcript(RFC2920),
    );
    let tail = &session.events[session.events.len() - 4..];
    assert_eq!(
        tail,
        [
            recipient(2, "250 recipient <kvc@innosoft.com> OK\r\n"),
            Event::BodyReady,
            Event::MessageAccepted(reply("250 message sent\r\n")),
            Event::Closed(Ok(())),
        ]
    );
}

#[test]
fn rfc2920_all_recipients_rejected_skips_the_body() {
    let steps = transcript(
        "
        S: 220 innosoft.com SMTP service ready
        C: EHLO dbc.mtview.ca.us
        S: 250-innosoft.com
        S: 250 PIPELINING
        C: MAIL FROM:<mrose@dbc.mtview.ca.us>
        C: RCPT TO:<ned@innosoft.com>
        C: RCPT TO:<dan@innosoft.com>
        C: DATA
        S: 250 sender <mrose@dbc.mtview.ca.us> OK
        S: 550 remote mail to <ned@innosoft.com> not allowed
        S: 550 remote mail to <dan@innosoft.com> not allowed
        S: 554 no valid recipients given
        C: QUIT
        S: 221 goodbye
        ",
    );
    let env = envelope(
        "mrose@dbc.mtview.ca.us",
        &["ned@innosoft.com", "dan@innosoft.com"],
    );
    let app = App::new(vec![Message::new(env, b"never sent\r\n")], QuitWhen::Ready);
    let session = replay(config("dbc.mtview.ca.us"), app, &steps);
    assert_eq!(
        &session.events[3..],
        [
            recipient(0, "550 remote mail to <ned@innosoft.com> not allowed\r\n"),
            recipient(1, "550 remote mail to <dan@innosoft.com> not allowed\r\n"),
            Event::MessageRejected(Rejection::NoRecipients),
            Event::Ready,
            Event::Closed(Ok(())),
        ]
    );
}

#[test]
fn a_failed_transaction_is_reset_before_the_next_one() {
    // RSET goes out with the next MAIL group (RFC 2920 allows it mid-group).
    let steps = transcript(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250-mx.example
        S: 250 PIPELINING
        C: MAIL FROM:<a@client.example>
        C: RCPT TO:<nobody@mx.example>
        C: DATA
        S: 250 2.1.0 Ok
        S: 550 5.1.1 No such user
        S: 554 5.5.1 No valid recipients
        C: RSET
        C: MAIL FROM:<a@client.example>
        C: RCPT TO:<b@mx.example>
        C: DATA
        S: 250 2.0.0 Ok
        S: 250 2.1.0 Ok
        S: 250 2.1.5 Ok
        S: 354 Go ahead
        C: second
        C: .
        S: 250 2.0.0 Queued
        C: QUIT
        S: 221 2.0.0 Bye
        ",
    );
    let app = App::new(
        vec![
            Message::new(
                envelope("a@client.example", &["nobody@mx.example"]),
                b"first\r\n",
            ),
            Message::new(
                envelope("a@client.example", &["b@mx.example"]),
                b"second\r\n",
            ),
        ],
        QuitWhen::Ready,
    );
    let session = replay(config("client.example"), app, &steps);
    let outcomes: Vec<_> = session
        .events
        .iter()
        .filter(|e| matches!(e, Event::MessageAccepted(_) | Event::MessageRejected(_)))
        .cloned()
        .collect();
    assert_eq!(
        outcomes,
        [
            Event::MessageRejected(Rejection::NoRecipients),
            Event::MessageAccepted(reply("250 2.0.0 Queued\r\n")),
        ]
    );
}

#[test]
fn no_accepted_recipient_without_pipelining_sends_no_data() {
    let steps = transcript(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250 mx.example
        C: MAIL FROM:<a@client.example>
        S: 250 2.1.0 Ok
        C: RCPT TO:<x@mx.example>
        S: 550 5.1.1 No
        C: RCPT TO:<y@mx.example>
        S: 450 4.2.0 Later
        C: QUIT
        S: 221 2.0.0 Bye
        ",
    );
    let env = envelope("a@client.example", &["x@mx.example", "y@mx.example"]);
    let app = App::new(vec![Message::new(env, b"body\r\n")], QuitWhen::Ready);
    let session = replay(config("client.example"), app, &steps);
    assert_eq!(
        &session.events[3..],
        [
            recipient(0, "550 5.1.1 No\r\n"),
            recipient(1, "450 4.2.0 Later\r\n"),
            Event::MessageRejected(Rejection::NoRecipients),
            Event::Ready,
            Event::Closed(Ok(())),
        ]
    );
}

#[test]
fn a_pipelined_354_after_a_failed_transaction_is_ended_with_an_empty_message() {
    // A server that answers DATA with 354 although no recipient was accepted gets the end
    // marker alone (RFC 2920 section 3.1); the body is not sent.
    let steps = transcript(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250-mx.example
        S: 250 PIPELINING
        C: MAIL FROM:<a@client.example>
        C: RCPT TO:<x@mx.example>
        C: DATA
        S: 250 Ok
        S: 550 No
        S: 354 Go ahead anyway
        C: .
        S: 554 No valid recipients
        C: QUIT
        S: 221 Bye
        ",
    );
    let env = envelope("a@client.example", &["x@mx.example"]);
    let app = App::new(vec![Message::new(env, b"secret body\r\n")], QuitWhen::Ready);
    let session = replay(config("client.example"), app, &steps);
    assert!(
        session
            .events
            .contains(&Event::MessageRejected(Rejection::NoRecipients))
    );
    assert!(!session.events.contains(&Event::BodyReady));
}

#[test]
fn sender_rejection_swallows_the_rest_of_the_group() {
    let steps = transcript(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250-mx.example
        S: 250 PIPELINING
        C: MAIL FROM:<spam@client.example>
        C: RCPT TO:<b@mx.example>
        C: DATA
        S: 550 5.7.1 Sender rejected
        S: 503 5.5.1 Need MAIL first
        S: 503 5.5.1 Need RCPT first
        C: MAIL FROM:<a@client.example>
        C: RCPT TO:<b@mx.example>
        C: DATA
        S: 250 Ok
        S: 250 Ok
        S: 354 Go
        C: hi
        C: .
        S: 250 Ok
        ",
    );
    let app = App::new(
        vec![
            Message::new(envelope("spam@client.example", &["b@mx.example"]), b"x\r\n"),
            Message::new(envelope("a@client.example", &["b@mx.example"]), b"hi\r\n"),
        ],
        QuitWhen::Never,
    );
    let session = replay(config("client.example"), app, &steps);
    // No Recipient event for the 503 (MAIL was refused), and no RSET before the next MAIL
    // (nothing was open).
    assert_eq!(
        &session.events[3..6],
        [
            Event::MessageRejected(Rejection::Sender(reply("550 5.7.1 Sender rejected\r\n"))),
            Event::Ready,
            recipient(0, "250 Ok\r\n"),
        ]
    );
}
