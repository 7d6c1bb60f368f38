//! The client state machine: RFC transcripts replayed from the client's side, the STARTTLS
//! boundary, AUTH, envelope checks, limits, timeouts, `421` anywhere, and chunking
//! invariance.

#[path = "client/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::{
    App, Message, QuitWhen, Session, Step, config, envelope, mailbox, replay, reply, transcript,
};
use mail_wire::Secret;
use mail_wire::sasl::framing::{self, Response};
use mail_wire::sasl::{
    Authenticator, Mechanism, Nonce, SaslError, ScramCredentials, ServerSession, ServerStep,
};
use proptest::prelude::*;
use smtp_proto::client::{
    Awaiting, Client, ClientConfig, ClientError, Credentials, EnvelopeError, Event, Rejection,
    SessionError, TlsPolicy,
};
use smtp_proto::{
    AddressLiteral, AuthMechanisms, Body, Capabilities, ForwardPath, Host, MailParams, Notify,
    RcptParams, ReplyError,
};

const MINUTE: Duration = Duration::from_secs(60);

fn caps(wire: &str) -> Event {
    Event::Capabilities(Capabilities::from_reply(&reply(wire)).expect("EHLO reply"))
}

fn recipient(index: usize, wire: &str) -> Event {
    Event::Recipient {
        index,
        reply: reply(wire),
    }
}

/// Everything the client has queued: events and bytes.
fn drain(client: &mut Client) -> (Vec<Event>, Vec<u8>) {
    let events = std::iter::from_fn(|| client.poll_event()).collect();
    let mut out = Vec::new();
    while let Some(bytes) = client.poll_transmit() {
        out.extend_from_slice(&bytes);
    }
    (events, out)
}

fn closed_with(session: &Session) -> &Result<(), SessionError> {
    match session.events.last() {
        Some(Event::Closed(result)) => result,
        other => panic!("session not closed; last event {other:?}"),
    }
}

const D1: &str = "
    S: 220 foo.com Simple Mail Transfer Service Ready
    C: EHLO bar.com
    S: 250-foo.com greets bar.com
    S: 250-8BITMIME
    S: 250-SIZE
    S: 250-DSN
    S: 250 HELP
    C: MAIL FROM:<Smith@bar.com>
    S: 250 OK
    C: RCPT TO:<Jones@foo.com>
    S: 250 OK
    C: RCPT TO:<Green@foo.com>
    S: 550 No such user here
    C: RCPT TO:<Brown@foo.com>
    S: 250 OK
    C: DATA
    S: 354 Start mail input; end with <CRLF>.<CRLF>
    C: Blah blah blah...
    # the RFC shows the line as typed; on the wire its leading dot is doubled
    C: ....etc. etc. etc.
    C: .
    S: 250 OK
    C: QUIT
    S: 221 foo.com Service closing transmission channel
";

const D1_BODY: &[u8] = b"Blah blah blah...\r\n...etc. etc. etc.\r\n";

fn d1_app() -> App {
    let env = envelope(
        "Smith@bar.com",
        &["Jones@foo.com", "Green@foo.com", "Brown@foo.com"],
    );
    App::new(vec![Message::new(env, D1_BODY)], QuitWhen::Ready)
}

#[test]
fn rfc5321_appendix_d1_typical_session() {
    let session = replay(config("bar.com"), d1_app(), &transcript(D1));
    assert_eq!(
        session.events,
        [
            Event::Greeting(reply("220 foo.com Simple Mail Transfer Service Ready\r\n")),
            caps(
                "250-foo.com greets bar.com\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n250 HELP\r\n"
            ),
            Event::Ready,
            recipient(0, "250 OK\r\n"),
            recipient(1, "550 No such user here\r\n"),
            recipient(2, "250 OK\r\n"),
            Event::BodyReady,
            Event::MessageAccepted(reply("250 OK\r\n")),
            Event::Ready,
            Event::Closed(Ok(())),
        ]
    );
    assert!(session.client.is_closed());
    assert!(!session.client.is_tls());
    let capabilities = Capabilities::from_reply(&reply(
        "250-foo.com greets bar.com\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n250 HELP\r\n",
    ))
    .unwrap();
    assert_eq!(session.client.capabilities(), Some(&capabilities));
}

const RFC2920: &str = r#"
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

fn rfc2920_app() -> App {
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

const RFC3030_SIMPLE: &str = "
    S: 220 cnri.reston.va.us SMTP service ready
    C: EHLO ymir.claremont.edu
    S: 250-cnri.reston.va.us says hello
    S: 250 CHUNKING
    C: MAIL FROM:<Sam@Random.com>
    S: 250 <Sam@Random.com>... Sender ok
    C: RCPT TO:<Susan@Random.com>
    S: 250 <Susan@random.com>... Recipient ok
    C: BDAT 86 LAST
    C: To: Susan@random.com
    C: From: Sam@random.com
    C: Subject: This is a bodyless test message
    S: 250 Message OK, 86 octets received
    C: QUIT
    S: 221 Goodbye
";

fn rfc3030_app() -> App {
    let body = b"To: Susan@random.com\r\nFrom: Sam@random.com\r\nSubject: This is a bodyless test message\r\n";
    let env = envelope("Sam@Random.com", &["Susan@Random.com"]);
    App::new(vec![Message::new(env, body)], QuitWhen::Ready)
}

#[test]
fn rfc3030_simple_chunking() {
    let session = replay(
        config("ymir.claremont.edu"),
        rfc3030_app(),
        &transcript(RFC3030_SIMPLE),
    );
    assert!(session.events.contains(&Event::MessageAccepted(reply(
        "250 Message OK, 86 octets received\r\n"
    ))));
}

#[test]
fn rfc3030_pipelined_binarymime_chunks_go_through_unchanged() {
    // Binary data full of CR, LF, NUL and dots: BDAT sends it byte for byte.
    let first: Vec<u8> = (0..100_000u32).map(|i| (i % 256) as u8).collect();
    let second: Vec<u8> = b"\r\n.\r\n".iter().copied().cycle().take(324).collect();
    let mut params = MailParams::default();
    params.body = Some(Body::BinaryMime);
    let env = envelope(
        "ned@ymir.claremont.edu",
        &["gvaudre@cnri.reston.va.us", "jstewart@cnri.reston.va.us"],
    )
    .with_params(params);
    let app = App::new(
        vec![Message::chunked(env, &[&first, &second])],
        QuitWhen::AfterBody,
    );
    let mut steps = transcript(
        "
        S: 220 cnri.reston.va.us SMTP service ready
        C: EHLO ymir.claremont.edu
        S: 250-cnri.reston.va.us says hello
        S: 250-PIPELINING
        S: 250-BINARYMIME
        S: 250 CHUNKING
        C: MAIL FROM:<ned@ymir.claremont.edu> BODY=BINARYMIME
        C: RCPT TO:<gvaudre@cnri.reston.va.us>
        C: RCPT TO:<jstewart@cnri.reston.va.us>
        S: 250 <ned@ymir.claremont.edu>... Sender and BINARYMIME ok
        S: 250 <gvaudre@cnri.reston.va.us>... Recipient ok
        S: 250 <jstewart@cnri.reston.va.us>... Recipient ok
        ",
    );
    let mut chunks = b"BDAT 100000\r\n".to_vec();
    chunks.extend_from_slice(&first);
    chunks.extend_from_slice(b"BDAT 324\r\n");
    chunks.extend_from_slice(&second);
    chunks.extend_from_slice(b"BDAT 0 LAST\r\n");
    steps.push(Step::Client(chunks));
    steps.extend(transcript(
        "
        S: 250 100000 bytes received
        S: 250 324 bytes received
        S: 250 Message OK, 100324 octets received
        C: QUIT
        S: 221 Goodbye
        ",
    ));
    let session = replay(config("ymir.claremont.edu"), app, &steps);
    assert_eq!(
        &session.events[session.events.len() - 2..],
        [
            Event::MessageAccepted(reply("250 Message OK, 100324 octets received\r\n")),
            Event::Closed(Ok(())),
        ]
    );
}

/// A session with a server offering `extensions` (the last EHLO lines), a message to one
/// recipient accepted and its body open. The output still holds MAIL and RCPT.
fn body_open(extensions: &str) -> Session {
    let mut session = Session::new(config("client.example"), App::new(vec![], QuitWhen::Never));
    session.feed(format!("220 mx.example\r\n250-mx.example\r\n{extensions}").as_bytes());
    session.output();
    let now = session.now;
    session
        .client
        .send_message(now, envelope("a@client.example", &["b@mx.example"]))
        .unwrap();
    session.feed(b"250 Ok\r\n250 Ok\r\n");
    assert_eq!(session.events.last(), Some(&Event::BodyReady));
    session
}

#[test]
fn bdat_without_pipelining_waits_for_each_chunk() {
    let mut session = body_open("250 CHUNKING\r\n");
    let now = session.now;
    assert!(session.client.can_send_body());
    session.client.send_body(now, b"one").unwrap();
    assert!(!session.client.can_send_body());
    assert_eq!(
        session.client.send_body(now, b"two"),
        Err(ClientError::BodyNotReady)
    );
    assert_eq!(
        session.client.finish_body(now),
        Err(ClientError::BodyNotReady)
    );
    session.feed(b"250 3 octets\r\n");
    assert_eq!(session.events.last(), Some(&Event::BodyReady));
    session.client.finish_body_with(now, b"two").unwrap();
    assert_eq!(
        session.output(),
        b"MAIL FROM:<a@client.example>\r\nRCPT TO:<b@mx.example>\r\nBDAT 3\r\noneBDAT 3 LAST\r\ntwo"
    );
    session.feed(b"250 Message OK\r\n");
    assert_eq!(
        &session.events[session.events.len() - 2..],
        [
            Event::MessageAccepted(reply("250 Message OK\r\n")),
            Event::Ready
        ]
    );
}

/// RFC 5321 section 2.3.8: bare CR and LF are not sent as line endings, by BDAT as by DATA;
/// only a BINARYMIME body (above) goes byte for byte. A CR at the end of a chunk waits for
/// the next one to show whether an LF follows.
#[test]
fn bdat_chunks_of_a_text_body_get_crlf_line_endings() {
    let mut session = body_open("250-PIPELINING\r\n250 CHUNKING\r\n");
    let now = session.now;
    session.output();
    session.client.send_body(now, b"a\nb\r").unwrap();
    // A lone CR: nothing to send yet.
    session.client.send_body(now, b"").unwrap();
    session.client.send_body(now, b"\r").unwrap();
    session.client.send_body(now, b"\nc\r\n").unwrap();
    session
        .client
        .finish_body_with(now, b"\n.\n\rend\r")
        .unwrap();
    assert_eq!(
        session.output(),
        b"BDAT 4\r\na\r\nbBDAT 2\r\n\r\nBDAT 5\r\n\r\nc\r\nBDAT 12 LAST\r\n\r\n.\r\n\r\nend\r\n"
    );
}

#[test]
fn a_refused_chunk_fails_the_message_and_resets() {
    let mut session = Session::new(config("client.example"), App::new(vec![], QuitWhen::Never));
    session.feed(b"220 mx.example\r\n250-mx.example\r\n250-PIPELINING\r\n250 CHUNKING\r\n");
    let now = session.now;
    session
        .client
        .send_message(now, envelope("a@client.example", &["b@mx.example"]))
        .unwrap();
    session.feed(b"250 Ok\r\n250 Ok\r\n");
    session.client.send_body(now, b"first").unwrap();
    session.client.send_body(now, b"second").unwrap();
    session.output();
    session.feed(b"552 5.3.4 Too big\r\n");
    assert_eq!(
        session.events.last(),
        Some(&Event::MessageRejected(Rejection::Message(reply(
            "552 5.3.4 Too big\r\n"
        ))))
    );
    assert_eq!(
        session.client.send_body(now, b"third"),
        Err(ClientError::NoBody)
    );
    assert!(!session.client.is_ready());
    // The reply to the chunk already sent is swallowed; then the session is ready.
    session.feed(b"503 5.5.1 Bad sequence\r\n");
    assert_eq!(session.events.last(), Some(&Event::Ready));
    session
        .client
        .send_message(now, envelope("a@client.example", &["b@mx.example"]))
        .unwrap();
    assert_eq!(
        session.output(),
        b"RSET\r\nMAIL FROM:<a@client.example>\r\nRCPT TO:<b@mx.example>\r\n"
    );
}

const RFC2033: &str = "
    S: 220 foo.edu LMTP server ready
    C: LHLO foo.edu
    S: 250-foo.edu
    S: 250-PIPELINING
    S: 250 SIZE
    C: MAIL FROM:<chris@bar.com>
    S: 250 OK
    C: RCPT TO:<pat@foo.edu>
    S: 250 OK
    C: RCPT TO:<jones@foo.edu>
    S: 550 No such user here
    C: RCPT TO:<green@foo.edu>
    S: 250 OK
    C: DATA
    S: 354 Start mail input; end with <CRLF>.<CRLF>
    C: Blah blah blah...
    C: ....etc. etc. etc.
    C: .
    S: 250 OK
    S: 452 <green@foo.edu> is temporarily over quota
    C: QUIT
    S: 221 foo.edu closing connection
";

fn lmtp_config(pipelining: bool) -> ClientConfig {
    let mut config = ClientConfig::lmtp(config("foo.edu").hello_name);
    config.pipelining = pipelining;
    config
}

fn lmtp_app() -> App {
    let env = envelope(
        "chris@bar.com",
        &["pat@foo.edu", "jones@foo.edu", "green@foo.edu"],
    );
    App::new(vec![Message::new(env, D1_BODY)], QuitWhen::Ready)
}

#[test]
fn rfc2033_lmtp_one_reply_per_accepted_recipient() {
    // The RFC shows the commands one at a time: replay it without pipelining.
    let session = replay(lmtp_config(false), lmtp_app(), &transcript(RFC2033));
    assert_eq!(
        &session.events[session.events.len() - 5..],
        [
            Event::BodyReady,
            Event::Delivery {
                index: 0,
                reply: reply("250 OK\r\n")
            },
            Event::Delivery {
                index: 2,
                reply: reply("452 <green@foo.edu> is temporarily over quota\r\n")
            },
            Event::Ready,
            Event::Closed(Ok(())),
        ]
    );
    assert!(
        !session
            .events
            .iter()
            .any(|e| matches!(e, Event::MessageAccepted(_)))
    );
}

const RFC2033_PIPELINED: &str = "
    S: 220 foo.edu LMTP server ready
    C: LHLO foo.edu
    S: 250-foo.edu
    S: 250-PIPELINING
    S: 250 SIZE
    C: MAIL FROM:<chris@bar.com>
    C: RCPT TO:<pat@foo.edu>
    C: RCPT TO:<jones@foo.edu>
    C: RCPT TO:<green@foo.edu>
    C: DATA
    S: 250 OK
    S: 250 OK
    S: 550 No such user here
    S: 250 OK
    S: 354 Start mail input; end with <CRLF>.<CRLF>
    C: Blah blah blah...
    C: ....etc. etc. etc.
    C: .
    S: 250 OK
    S: 452 <green@foo.edu> is temporarily over quota
    C: QUIT
    S: 221 foo.edu closing connection
";

#[test]
fn lmtp_pipelined() {
    let session = replay(
        lmtp_config(true),
        lmtp_app(),
        &transcript(RFC2033_PIPELINED),
    );
    let deliveries: Vec<_> = session
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Delivery { index, reply } => Some((*index, reply.code().get())),
            _ => None,
        })
        .collect();
    assert_eq!(deliveries, [(0, 250), (2, 452)]);
}

const HELO_FALLBACK: &str = "
    S: 220 old.example SMTP
    C: EHLO client.example
    S: 502 Command not implemented
    C: HELO client.example
    S: 250 old.example
    C: MAIL FROM:<a@client.example>
    S: 250 Ok
    C: RCPT TO:<b@old.example>
    S: 250 Ok
    C: DATA
    S: 354 Go
    C: hi
    C: .
    S: 250 Ok
    C: QUIT
    S: 221 Bye
";

fn helo_app() -> App {
    // SIZE and BODY=7BIT are dropped: HELO offers no extensions.
    let mut params = MailParams::default();
    params.body = Some(Body::SevenBit);
    let env = envelope("a@client.example", &["b@old.example"])
        .with_params(params)
        .with_size(3);
    App::new(vec![Message::new(env, b"hi\r\n")], QuitWhen::Ready)
}

#[test]
fn ehlo_falls_back_to_helo_on_500_or_502() {
    let session = replay(
        config("client.example"),
        helo_app(),
        &transcript(HELO_FALLBACK),
    );
    assert_eq!(
        session.events[1],
        Event::Capabilities(session.client.capabilities().unwrap().clone())
    );
    assert_eq!(
        session.client.capabilities().unwrap().greeting,
        b"old.example"
    );
    assert!(!session.client.capabilities().unwrap().pipelining);

    let steps = transcript(&HELO_FALLBACK.replace("502 Command not implemented", "500 What?"));
    replay(config("client.example"), helo_app(), &steps);
}

#[test]
fn helo_sessions_refuse_extensions() {
    let mut session = Session::new(config("client.example"), App::new(vec![], QuitWhen::Never));
    session.feed(b"220 old.example\r\n502 No\r\n250 old.example\r\n");
    assert!(session.client.is_ready());
    let now = session.now;
    let mut params = MailParams::default();
    params.body = Some(Body::EightBitMime);
    let eight_bit = envelope("a@client.example", &["b@old.example"]).with_params(params);
    assert_eq!(
        session.client.send_message(now, eight_bit),
        Err(ClientError::Envelope(EnvelopeError::NotOffered {
            extension: "8BITMIME"
        }))
    );
    let mut params = MailParams::default();
    params
        .unknown
        .push(smtp_proto::Param::new("XFOO", None).unwrap());
    let unknown = envelope("a@client.example", &["b@old.example"]).with_params(params);
    assert_eq!(
        session.client.send_message(now, unknown),
        Err(ClientError::Envelope(EnvelopeError::NotOffered {
            extension: "EHLO"
        }))
    );
    assert_eq!(
        session.output(),
        b"EHLO client.example\r\nHELO client.example\r\n"
    );
}

#[test]
fn other_hello_failures_end_the_session() {
    let steps = transcript(
        "
        S: 220 mx.example
        C: EHLO client.example
        S: 554 5.7.1 Go away
        C: QUIT
        ",
    );
    let session = replay(
        config("client.example"),
        App::new(vec![], QuitWhen::Never),
        &steps,
    );
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::HelloRejected(reply("554 5.7.1 Go away\r\n")))
    );

    // HELO cannot carry an address literal (RFC 5321 section 4.1.1.1).
    let mut literal = ClientConfig::default();
    literal.hello_name = Host::Literal(AddressLiteral::new("[192.0.2.1]").unwrap().into_owned());
    let steps = transcript(
        "
        S: 220 mx.example
        C: EHLO [192.0.2.1]
        S: 502 No
        C: QUIT
        ",
    );
    let session = replay(literal, App::new(vec![], QuitWhen::Never), &steps);
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::HelloRejected(reply("502 No\r\n")))
    );
}

#[test]
fn a_refused_greeting_ends_the_session_with_quit() {
    let steps = transcript(
        "
        S: 554 mx.example no SMTP service here
        C: QUIT
        ",
    );
    let session = replay(
        config("client.example"),
        App::new(vec![], QuitWhen::Never),
        &steps,
    );
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::GreetingRejected(reply(
            "554 mx.example no SMTP service here\r\n"
        )))
    );
}

// ---- STARTTLS ----

fn tls_config(policy: TlsPolicy) -> ClientConfig {
    let mut config = config("client.example");
    config.tls = policy;
    config
}

#[test]
fn starttls_required_but_not_offered_aborts() {
    let steps = transcript(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250-mx.example
        S: 250 AUTH PLAIN
        C: QUIT
        ",
    );
    let app = App::new(
        vec![Message::new(
            envelope("a@client.example", &["b@mx.example"]),
            b"x\r\n",
        )],
        QuitWhen::Ready,
    );
    let session = replay(tls_config(TlsPolicy::Required), app, &steps);
    assert_eq!(closed_with(&session), &Err(SessionError::TlsNotOffered));
    assert!(!session.events.contains(&Event::Ready));
}

#[test]
fn starttls_refused_under_required_policy_aborts() {
    let steps = transcript(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250-mx.example
        S: 250 STARTTLS
        C: STARTTLS
        S: 454 4.7.0 TLS not available due to temporary reason
        C: QUIT
        ",
    );
    let session = replay(
        tls_config(TlsPolicy::Required),
        App::new(vec![], QuitWhen::Ready),
        &steps,
    );
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::StartTlsRefused(reply(
            "454 4.7.0 TLS not available due to temporary reason\r\n"
        )))
    );
}

#[test]
fn opportunistic_tls_goes_on_in_plaintext_when_refused_and_never_skips_it() {
    let steps = transcript(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250-mx.example
        S: 250 STARTTLS
        C: STARTTLS
        S: 454 4.7.0 Not now
        C: QUIT
        S: 221 Bye
        ",
    );
    let session = replay(
        tls_config(TlsPolicy::Opportunistic),
        App::new(vec![], QuitWhen::Ready),
        &steps,
    );
    assert!(session.events.contains(&Event::Ready));
    assert!(!session.client.is_tls());

    let steps = transcript(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250-mx.example
        S: 250 STARTTLS
        C: QUIT
        S: 221 Bye
        ",
    );
    replay(
        tls_config(TlsPolicy::Never),
        App::new(vec![], QuitWhen::Ready),
        &steps,
    );
}

const STARTTLS_THEN_AUTH: &str = "
    S: 220 mx.example ESMTP
    C: EHLO client.example
    S: 250-mx.example
    S: 250-STARTTLS
    S: 250 AUTH LOGIN
    C: STARTTLS
    S: 220 2.0.0 Ready to start TLS
    C: EHLO client.example
    S: 250-mx.example
    S: 250-PIPELINING
    S: 250 AUTH PLAIN LOGIN
    C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
    S: 235 2.7.0 Authentication successful
    C: MAIL FROM:<alice@client.example>
    C: RCPT TO:<b@mx.example>
    C: DATA
    S: 250 Ok
    S: 250 Ok
    S: 354 Go
    C: hi
    C: .
    C: QUIT
    S: 250 Ok
    S: 221 Bye
";

fn submission_config() -> ClientConfig {
    ClientConfig::submission(
        config("client.example").hello_name,
        Credentials::password("alice", Secret::new("secret".into())),
    )
}

fn submission_app() -> App {
    App::new(
        vec![Message::new(
            envelope("alice@client.example", &["b@mx.example"]),
            b"hi\r\n",
        )],
        QuitWhen::AfterBody,
    )
}

#[test]
fn starttls_then_ehlo_again_then_auth() {
    let session = replay(
        submission_config(),
        submission_app(),
        &transcript(STARTTLS_THEN_AUTH),
    );
    assert_eq!(
        &session.events[..6],
        [
            Event::Greeting(reply("220 mx.example ESMTP\r\n")),
            caps("250-mx.example\r\n250-STARTTLS\r\n250 AUTH LOGIN\r\n"),
            Event::StartTls,
            caps("250-mx.example\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n"),
            Event::Authenticated(Mechanism::Plain),
            Event::Ready,
        ]
    );
    assert!(session.client.is_tls());
    assert_eq!(session.client.authenticated(), Some(Mechanism::Plain));
}

#[test]
fn capabilities_learned_before_tls_are_forgotten() {
    let mut client = Client::new(submission_config(), Instant::now());
    let now = Instant::now();
    client.feed(
        now,
        b"220 mx.example\r\n250-mx.example\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n",
    );
    client.feed(now, b"220 Go ahead\r\n");
    let (events, _) = drain(&mut client);
    assert_eq!(events.last(), Some(&Event::StartTls));
    client.tls_established(now).unwrap();
    assert_eq!(client.capabilities(), None);
    // After TLS the server no longer offers AUTH: what it said before does not count.
    client.feed(now, b"250-mx.example\r\n250 PIPELINING\r\n");
    let (events, out) = drain(&mut client);
    assert_eq!(
        events.last(),
        Some(&Event::Closed(Err(SessionError::AuthNotOffered)))
    );
    assert_eq!(out, b"EHLO client.example\r\nQUIT\r\n");
}

/// A client that has sent STARTTLS and waits for the reply.
fn awaiting_starttls() -> Client {
    let now = Instant::now();
    let mut client = Client::new(tls_config(TlsPolicy::Required), now);
    client.feed(now, b"220 mx.example\r\n250-mx.example\r\n250 STARTTLS\r\n");
    let (_, out) = drain(&mut client);
    assert_eq!(out, b"EHLO client.example\r\nSTARTTLS\r\n");
    client
}

#[test]
fn bytes_after_the_starttls_reply_in_the_same_read_abort() {
    for injected in [
        &b"220 ready\r\n250 fake\r\n"[..],
        b"220 ready\r\n250-PIPELINING\r\n",
        b"220 ready\r\n2",
        b"220 ready\r\n\r\n",
    ] {
        let mut client = awaiting_starttls();
        client.feed(Instant::now(), injected);
        let (events, out) = drain(&mut client);
        assert_eq!(
            events,
            [Event::Closed(Err(SessionError::StartTlsInjection))],
            "{injected:?}"
        );
        assert!(out.is_empty(), "nothing more is sent in plaintext");
        assert_eq!(
            client.tls_established(Instant::now()),
            Err(ClientError::Session(SessionError::StartTlsInjection))
        );
    }
}

#[test]
fn bytes_after_the_starttls_reply_at_a_framing_boundary_abort() {
    // `feed` frames a large read in 4096-octet pieces: a 220 that ends exactly where a piece
    // ends is still followed by the rest of the read.
    let last = b"220 ready\r\n";
    let mut read = Vec::new();
    while read.len() + 400 + last.len() < 4096 {
        read.extend_from_slice(format!("220-{}\r\n", "x".repeat(394)).as_bytes());
    }
    let pad = 4096 - last.len() - read.len() - 6;
    read.extend_from_slice(format!("220-{}\r\n", "y".repeat(pad)).as_bytes());
    read.extend_from_slice(last);
    assert_eq!(read.len(), 4096);
    read.extend_from_slice(b"250 fake\r\n");
    let mut client = awaiting_starttls();
    client.feed(Instant::now(), &read);
    let (events, out) = drain(&mut client);
    assert_eq!(
        events,
        [Event::Closed(Err(SessionError::StartTlsInjection))]
    );
    assert!(out.is_empty(), "nothing more is sent in plaintext");
}

#[test]
fn bytes_fed_before_tls_established_abort() {
    for injected in [&b"250 fake\r\n"[..], b"2", b"\r\n"] {
        let mut client = awaiting_starttls();
        let now = Instant::now();
        client.feed(now, b"220 ready\r\n");
        assert_eq!(drain(&mut client).0, [Event::StartTls]);
        client.feed(now, injected);
        let (events, out) = drain(&mut client);
        assert_eq!(
            events,
            [Event::Closed(Err(SessionError::StartTlsInjection))]
        );
        assert!(out.is_empty());
        assert!(client.is_closed());
        assert_eq!(
            client.tls_established(now),
            Err(ClientError::Session(SessionError::StartTlsInjection))
        );
    }
    // Feeding nothing is not injection.
    let mut client = awaiting_starttls();
    let now = Instant::now();
    client.feed(now, b"220 ready\r\n");
    client.feed(now, b"");
    assert_eq!(drain(&mut client).0, [Event::StartTls]);
    client.tls_established(now).unwrap();
    assert_eq!(drain(&mut client).1, b"EHLO client.example\r\n");
}

#[test]
fn implicit_tls_sends_no_starttls() {
    let mut config = tls_config(TlsPolicy::Required);
    config.implicit_tls = true;
    let steps = transcript(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250-mx.example
        S: 250 STARTTLS
        C: QUIT
        S: 221 Bye
        ",
    );
    let session = replay(config, App::new(vec![], QuitWhen::Ready), &steps);
    assert!(session.client.is_tls());
    assert!(!session.events.contains(&Event::StartTls));
}

// ---- AUTH ----

fn auth_config(credentials: Credentials) -> ClientConfig {
    let mut config = config("client.example");
    config.implicit_tls = true;
    config.credentials = Some(credentials);
    config
}

fn alice() -> Credentials {
    Credentials::password("alice", Secret::new("secret".into()))
}

fn auth_session(credentials: Credentials, ehlo: &str, rest: &str) -> Session {
    let steps = transcript(&format!(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250-mx.example
        S: 250 {ehlo}
        {rest}
        "
    ));
    replay(
        auth_config(credentials),
        App::new(vec![], QuitWhen::Ready),
        &steps,
    )
}

#[test]
fn auth_plain() {
    let session = auth_session(
        alice(),
        "AUTH PLAIN",
        "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
         S: 235 2.7.0 Authentication successful
         C: QUIT
         S: 221 Bye",
    );
    assert!(
        session
            .events
            .contains(&Event::Authenticated(Mechanism::Plain))
    );
}

#[test]
fn auth_login() {
    let session = auth_session(
        alice(),
        "AUTH LOGIN",
        "C: AUTH LOGIN
         S: 334 VXNlcm5hbWU6
         C: YWxpY2U=
         S: 334 UGFzc3dvcmQ6
         C: c2VjcmV0
         S: 235 2.7.0 Authentication successful
         C: QUIT
         S: 221 Bye",
    );
    assert_eq!(session.client.authenticated(), Some(Mechanism::Login));
}

#[test]
fn the_best_offered_mechanism_is_chosen() {
    // PLAIN over LOGIN whatever the server's order; SCRAM needs a nonce.
    let session = auth_session(
        alice(),
        "AUTH LOGIN SCRAM-SHA-256 plain",
        "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
         S: 235 2.7.0 Ok
         C: QUIT
         S: 221 Bye",
    );
    assert_eq!(session.client.authenticated(), Some(Mechanism::Plain));

    // The configured preference list restricts the choice.
    let mut config = auth_config(alice());
    config.auth_mechanisms = vec![Mechanism::Login];
    let steps = transcript(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250-mx.example
        S: 250 AUTH PLAIN LOGIN
        C: AUTH LOGIN
        S: 535 5.7.8 No
        C: QUIT
        ",
    );
    replay(config, App::new(vec![], QuitWhen::Ready), &steps);
}

#[test]
fn auth_failure_ends_the_session() {
    let session = auth_session(
        alice(),
        "AUTH PLAIN",
        "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
         S: 535 5.7.8 Authentication credentials invalid
         C: QUIT",
    );
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::AuthFailed {
            mechanism: Mechanism::Plain,
            reply: reply("535 5.7.8 Authentication credentials invalid\r\n"),
            server_error: None,
        })
    );
    assert!(!session.events.contains(&Event::Ready));
}

#[test]
fn no_auth_in_plaintext_unless_allowed() {
    let mut config = config("client.example");
    config.credentials = Some(alice());
    let steps = transcript(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250-mx.example
        S: 250 AUTH PLAIN LOGIN
        C: QUIT
        ",
    );
    let session = replay(config.clone(), App::new(vec![], QuitWhen::Ready), &steps);
    assert_eq!(closed_with(&session), &Err(SessionError::AuthRequiresTls));

    config.allow_plaintext_auth = true;
    let steps = transcript(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250-mx.example
        S: 250 AUTH PLAIN LOGIN
        C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
        S: 235 2.7.0 Ok
        C: QUIT
        S: 221 Bye
        ",
    );
    replay(config, App::new(vec![], QuitWhen::Ready), &steps);
}

#[test]
fn unusable_credentials_end_the_session() {
    let session = auth_session(alice(), "SIZE", "C: QUIT");
    assert_eq!(closed_with(&session), &Err(SessionError::AuthNotOffered));

    let session = auth_session(alice(), "AUTH CRAM-MD5 XOAUTH2", "C: QUIT");
    let mut offered = AuthMechanisms::new();
    offered.push("CRAM-MD5").unwrap();
    offered.push("XOAUTH2").unwrap();
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::NoCommonMechanism { offered })
    );
}

#[test]
fn xoauth2_failure_carries_the_server_error() {
    let token = Credentials::bearer_token("alice", Secret::new("ya29.token".into()));
    let session = auth_session(
        token,
        "AUTH XOAUTH2 PLAIN",
        "C: AUTH XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciB5YTI5LnRva2VuAQE=
         S: 334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=
         C:
         S: 535 5.7.8 Username and Password not accepted
         C: QUIT",
    );
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::AuthFailed {
            mechanism: Mechanism::XOAuth2,
            reply: reply("535 5.7.8 Username and Password not accepted\r\n"),
            server_error: Some(r#"{"status":"401","schemes":"bearer"}"#.into()),
        })
    );
}

#[test]
fn a_long_initial_response_waits_for_the_servers_challenge() {
    // RFC 4954 section 4: an AUTH line over 512 octets may not carry the initial response.
    let token = "a".repeat(600);
    let credentials = Credentials::bearer_token("alice", Secret::new(token.clone()));
    let message = format!("user=alice\x01auth=Bearer {token}\x01\x01");
    let encoded = framing::encode_response(message.as_bytes());
    let session = auth_session(
        credentials,
        "AUTH XOAUTH2",
        &format!(
            "C: AUTH XOAUTH2
             S: 334
             C: {}
             S: 235 2.7.0 Ok
             C: QUIT
             S: 221 Bye",
            encoded.expose()
        ),
    );
    assert_eq!(session.client.authenticated(), Some(Mechanism::XOAuth2));
}

struct Store(ScramCredentials);

impl Authenticator for Store {
    fn scram_credentials(&self, authcid: &str) -> Option<ScramCredentials> {
        (authcid == "user").then(|| self.0.clone())
    }
}

fn scram_client() -> Client {
    let credentials = Credentials::password("user", Secret::new("pencil".into()))
        .with_scram_nonce(Nonce::new("rOprNGfwEbeRWgbNEkqO").unwrap());
    let mut client = Client::new(auth_config(credentials), Instant::now());
    client.feed(
        Instant::now(),
        b"220 mx.example\r\n250-mx.example\r\n250 AUTH PLAIN SCRAM-SHA-256\r\n",
    );
    client
}

/// The client's next line, without CRLF and the given prefix.
fn next_line(client: &mut Client, prefix: &str) -> Vec<u8> {
    let (_, out) = drain(client);
    let line = out.strip_suffix(b"\r\n").expect("one line").to_vec();
    line.strip_prefix(prefix.as_bytes())
        .unwrap_or_else(|| panic!("{:?} lacks {prefix:?}", String::from_utf8_lossy(&line)))
        .to_vec()
}

#[test]
fn auth_scram_sha256_against_a_real_server_session() {
    let store = Store(
        ScramCredentials::derive(&Secret::new("pencil".into()), b"sixteen byte slt", 4096).unwrap(),
    );
    let mut server = ServerSession::new(
        Mechanism::ScramSha256,
        Nonce::new("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0").unwrap(),
    );
    let mut client = scram_client();
    let now = Instant::now();
    let initial = next_line(&mut client, "EHLO client.example\r\nAUTH SCRAM-SHA-256 ");
    let mut response = framing::decode_initial_response(&initial).unwrap();
    let mut rounds = 0;
    loop {
        match server.step(&store, response.expose()).unwrap() {
            ServerStep::Challenge(challenge) => {
                rounds += 1;
                let line = format!("334 {}\r\n", framing::encode_challenge(&challenge));
                client.feed(now, line.as_bytes());
                let line = next_line(&mut client, "");
                response = match framing::decode_response(&line).unwrap() {
                    Response::Data(data) => data,
                    Response::Cancel => panic!("client cancelled"),
                };
            }
            ServerStep::Success(authenticated) => {
                assert_eq!(authenticated.identity(), "user");
                break;
            }
        }
    }
    assert_eq!(rounds, 2, "server-first, then server-final as a challenge");
    client.feed(now, b"235 2.7.0 Authentication successful\r\n");
    let (events, _) = drain(&mut client);
    assert_eq!(
        &events[events.len() - 2..],
        [Event::Authenticated(Mechanism::ScramSha256), Event::Ready]
    );
}

#[test]
fn a_scram_server_that_cannot_prove_itself_is_cancelled() {
    let store = Store(
        ScramCredentials::derive(&Secret::new("pencil".into()), b"sixteen byte slt", 4096).unwrap(),
    );
    let mut server = ServerSession::new(
        Mechanism::ScramSha256,
        Nonce::new("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0").unwrap(),
    );
    let mut client = scram_client();
    let now = Instant::now();
    let initial = next_line(&mut client, "EHLO client.example\r\nAUTH SCRAM-SHA-256 ");
    let first = framing::decode_initial_response(&initial).unwrap();
    let ServerStep::Challenge(challenge) = server.step(&store, first.expose()).unwrap() else {
        panic!("server-first expected");
    };
    client.feed(
        now,
        format!("334 {}\r\n", framing::encode_challenge(&challenge)).as_bytes(),
    );
    next_line(&mut client, "");
    // A forged server-final: the signature of an impostor.
    let forged = format!("v={}", framing::encode_challenge(&[0u8; 32]));
    client.feed(
        now,
        format!("334 {}\r\n", framing::encode_challenge(forged.as_bytes())).as_bytes(),
    );
    assert_eq!(next_line(&mut client, ""), b"*");
    client.feed(now, b"501 5.7.0 Authentication cancelled\r\n");
    let (events, out) = drain(&mut client);
    assert_eq!(
        events,
        [Event::Closed(Err(SessionError::Sasl(
            SaslError::ServerSignatureMismatch
        )))]
    );
    assert_eq!(out, b"QUIT\r\n");
}

#[test]
fn a_malformed_challenge_is_cancelled() {
    let session = auth_session(
        alice(),
        "AUTH LOGIN",
        "C: AUTH LOGIN
         S: 334 not base64!
         C: *
         S: 501 5.7.0 Cancelled
         C: QUIT",
    );
    assert!(matches!(
        closed_with(&session),
        Err(SessionError::Sasl(SaslError::InvalidBase64 { .. }))
    ));
}

#[test]
fn debug_output_never_shows_credentials() {
    let credentials = Credentials::password("alice", Secret::new("tr0ub4dor".into()));
    let mut client = Client::new(auth_config(credentials), Instant::now());
    client.feed(
        Instant::now(),
        b"220 mx.example\r\n250-mx.example\r\n250 AUTH PLAIN\r\n",
    );
    // The AUTH line is waiting in the output buffer.
    let printed = format!("{client:?} {:?}", client.config());
    assert!(!printed.contains("tr0ub4dor"), "{printed}");
    assert!(!printed.contains("AGFsaWNlAHRyMHViNGRvcg"), "{printed}");
    assert_eq!(
        drain(&mut client).1,
        b"EHLO client.example\r\nAUTH PLAIN AGFsaWNlAHRyMHViNGRvcg==\r\n"
    );
}

#[test]
fn unreadable_capability_lines_are_ignored() {
    let session = ready(
        "250-mx.example\r\n250-SIZE lots\r\n250-LIMITS RCPTMAX\r\n250-X\x01Y\r\n\
         250-LIMITS MAILMAX=5 RCPTMAX\r\n250 PIPELINING\r\n",
    );
    let capabilities = session.client.capabilities().unwrap();
    assert!(capabilities.pipelining);
    assert_eq!(capabilities.size, None);
    // A line is dropped whole: nothing of the half-readable LIMITS line is kept.
    assert_eq!(capabilities.limits, None);
    assert!(capabilities.unknown.is_empty());

    // Dropping a line only removes an extension: a garbled STARTTLS is not offered.
    let mut client = Client::new(tls_config(TlsPolicy::Required), Instant::now());
    client.feed(
        Instant::now(),
        b"220 mx.example\r\n250-mx.example\r\n250 STARTTLS\x7f\r\n",
    );
    let (events, out) = drain(&mut client);
    assert_eq!(
        events.last(),
        Some(&Event::Closed(Err(SessionError::TlsNotOffered)))
    );
    assert_eq!(out, b"EHLO client.example\r\nQUIT\r\n");
}

// ---- envelopes ----

/// A session ready for a message after this EHLO reply.
fn ready(ehlo: &str) -> Session {
    let mut session = Session::new(config("client.example"), App::new(vec![], QuitWhen::Never));
    session.feed(format!("220 mx.example\r\n{ehlo}").as_bytes());
    assert!(session.client.is_ready(), "{:?}", session.events);
    session.output();
    session
}

#[test]
fn size_over_the_servers_limit_is_refused_before_sending() {
    let mut session = ready("250-mx.example\r\n250 SIZE 1000\r\n");
    let now = session.now;
    let big = envelope("a@client.example", &["b@mx.example"]).with_size(5000);
    assert_eq!(
        session.client.send_message(now, big),
        Err(ClientError::Envelope(EnvelopeError::TooLarge {
            size: 5000,
            limit: 1000
        }))
    );
    assert!(session.output().is_empty());
    assert!(session.client.is_ready());
    let small = envelope("a@client.example", &["b@mx.example"]).with_size(1000);
    session.client.send_message(now, small).unwrap();
    assert_eq!(
        session.output(),
        b"MAIL FROM:<a@client.example> SIZE=1000\r\n"
    );
}

#[test]
fn size_is_only_sent_when_offered() {
    let mut session = ready("250 mx.example\r\n");
    let now = session.now;
    let sized = envelope("a@client.example", &["b@mx.example"]).with_size(5000);
    session.client.send_message(now, sized).unwrap();
    assert_eq!(session.output(), b"MAIL FROM:<a@client.example>\r\n");

    // SIZE without a number (or SIZE 0) means no fixed limit.
    let mut session = ready("250-mx.example\r\n250 SIZE\r\n");
    let sized = envelope("a@client.example", &["b@mx.example"]).with_size(u64::MAX);
    session.client.send_message(now, sized).unwrap();
}

#[test]
fn utf8_addresses_need_smtputf8() {
    let international = envelope("jöran@client.example", &["b@mx.example"]);
    let mut session = ready("250 mx.example\r\n");
    let now = session.now;
    assert_eq!(
        session.client.send_message(now, international.clone()),
        Err(ClientError::Envelope(EnvelopeError::NotOffered {
            extension: "SMTPUTF8"
        }))
    );
    let mut session = ready("250-mx.example\r\n250 SMTPUTF8\r\n");
    session.client.send_message(now, international).unwrap();
    assert_eq!(
        String::from_utf8(session.output()).unwrap(),
        "MAIL FROM:<jöran@client.example> SMTPUTF8\r\n"
    );
}

#[test]
fn envelope_parameters_need_their_extensions() {
    let mut session = ready("250-mx.example\r\n250-PIPELINING\r\n250 LIMITS RCPTMAX=2\r\n");
    let now = session.now;
    let cases: Vec<(smtp_proto::client::Envelope, EnvelopeError)> = vec![
        (
            envelope("a@client.example", &[]),
            EnvelopeError::NoRecipients,
        ),
        (
            envelope(
                "a@client.example",
                &["b@mx.example", "c@mx.example", "d@mx.example"],
            ),
            EnvelopeError::TooManyRecipients { count: 3, limit: 2 },
        ),
        (
            envelope("a@client.example", &["b@mx.example"]).with_params({
                let mut p = MailParams::default();
                p.body = Some(Body::BinaryMime);
                p
            }),
            EnvelopeError::NotOffered {
                extension: "BINARYMIME",
            },
        ),
        (
            envelope("a@client.example", &[]).with_recipient_params(
                ForwardPath::Mailbox(mailbox("b@mx.example")),
                {
                    let mut p = RcptParams::default();
                    p.notify = Notify::on(false, true, false);
                    p
                },
            ),
            EnvelopeError::NotOffered { extension: "DSN" },
        ),
        (
            envelope("a@client.example", &["b@mx.example"]).with_params({
                let mut p = MailParams::default();
                p.requiretls = true;
                p
            }),
            EnvelopeError::NotOffered {
                extension: "REQUIRETLS",
            },
        ),
    ];
    for (env, error) in cases {
        assert_eq!(
            session.client.send_message(now, env),
            Err(ClientError::Envelope(error))
        );
    }
    assert!(session.output().is_empty());

    // BINARYMIME without CHUNKING is refused too (RFC 3030 section 3).
    let mut session = ready("250-mx.example\r\n250 BINARYMIME\r\n");
    let mut p = MailParams::default();
    p.body = Some(Body::BinaryMime);
    assert_eq!(
        session.client.send_message(
            now,
            envelope("a@client.example", &["b@mx.example"]).with_params(p)
        ),
        Err(ClientError::Envelope(EnvelopeError::NotOffered {
            extension: "CHUNKING"
        }))
    );
}

#[test]
fn dsn_parameters_go_out_when_offered() {
    let mut session = ready("250-mx.example\r\n250-PIPELINING\r\n250 DSN\r\n");
    let now = session.now;
    let mut p = RcptParams::default();
    p.notify = Notify::on(true, true, false);
    let mut m = MailParams::default();
    m.ret = Some(smtp_proto::Ret::Hdrs);
    let env = envelope("a@client.example", &[])
        .with_params(m)
        .with_recipient_params(ForwardPath::Mailbox(mailbox("b@mx.example")), p);
    session.client.send_message(now, env).unwrap();
    assert_eq!(
        session.output(),
        b"MAIL FROM:<a@client.example> RET=HDRS\r\nRCPT TO:<b@mx.example> NOTIFY=SUCCESS,FAILURE\r\nDATA\r\n"
    );
}

// ---- the body ----

#[test]
fn data_bodies_are_dot_stuffed_and_line_endings_normalised() {
    let mut session = ready("250 mx.example\r\n");
    let now = session.now;
    session
        .client
        .send_message(now, envelope("a@client.example", &["b@mx.example"]))
        .unwrap();
    session.feed(b"250 Ok\r\n250 Ok\r\n354 Go\r\n");
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
    session.feed(b"250 Ok\r\n250 Ok\r\n");
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
    session.feed(b"250 Ok\r\n250 Ok\r\n354 Go\r\n");
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

// ---- API misuse ----

#[test]
fn calls_out_of_order_are_errors() {
    let now = Instant::now();
    let mut client = Client::new(config("client.example"), now);
    let env = envelope("a@client.example", &["b@mx.example"]);
    assert_eq!(
        client.send_message(now, env.clone()),
        Err(ClientError::NotReady)
    );
    assert_eq!(client.send_body(now, b"x"), Err(ClientError::NoBody));
    assert_eq!(client.finish_body(now), Err(ClientError::NoBody));
    assert_eq!(client.tls_established(now), Err(ClientError::NoTlsPending));
    client.feed(now, b"220 mx.example\r\n250 mx.example\r\n");
    client.send_message(now, env.clone()).unwrap();
    assert_eq!(
        client.send_message(now, env.clone()),
        Err(ClientError::NotReady)
    );
    assert_eq!(client.send_body(now, b"x"), Err(ClientError::NoBody));

    // A clean QUIT: later calls say the session is closed.
    let mut client = Client::new(config("client.example"), now);
    client.feed(now, b"220 mx.example\r\n250 mx.example\r\n");
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

// ---- limits ----

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
    session.feed(b"220 mx.example\r\n250-a\r\n250-b\r\n250 c\r\n");
    assert!(session.client.is_ready());
    // The configured limit, not only the default, is breached by one more line.
    let mut session = Session::new(config, App::new(vec![], QuitWhen::Never));
    session.feed(b"220 mx.example\r\n250-a\r\n250-b\r\n250-c\r\n250 d\r\n");
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
    session.feed(b"220 mx.example\r\n250-mx.example\r\n250 AUTH LOGIN\r\n");
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
    session.feed(b"334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.7.0 ok\r\n");
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

// ---- timeouts ----

#[test]
fn the_greeting_deadline_is_five_minutes() {
    let t0 = Instant::now();
    let mut client = Client::new(config("client.example"), t0);
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
    session.feed(b"220 mx.example\r\n250-mx.example\r\n250 CHUNKING\r\n");
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
    session.feed(b"250 Ok\r\n250 Ok\r\n");
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

// ---- the server going away ----

#[test]
fn a_421_at_any_point_ends_the_session() {
    let steps = transcript(D1);
    let server_steps: Vec<usize> = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s, Step::Server(_)))
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
    session.feed(b"250 Ok\r\n250 Ok\r\n354 Go\r\n");
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
    steps.push(Step::Eof);
    let mut session = Session::new(config("bar.com"), d1_app());
    session.run_whole(&steps);
    assert_eq!(closed_with(&session), &Err(SessionError::ConnectionClosed));
}

// ---- chunking invariance and robustness ----

fn scenarios() -> Vec<(ClientConfig, App, Vec<Step>)> {
    vec![
        (config("bar.com"), d1_app(), transcript(D1)),
        (
            config("dbc.mtview.ca.us"),
            rfc2920_app(),
            transcript(RFC2920),
        ),
        (
            config("ymir.claremont.edu"),
            rfc3030_app(),
            transcript(RFC3030_SIMPLE),
        ),
        (lmtp_config(false), lmtp_app(), transcript(RFC2033)),
        (lmtp_config(true), lmtp_app(), transcript(RFC2033_PIPELINED)),
        (
            config("client.example"),
            helo_app(),
            transcript(HELO_FALLBACK),
        ),
        (
            submission_config(),
            submission_app(),
            transcript(STARTTLS_THEN_AUTH),
        ),
    ]
}

fn run_split(
    (config, app, steps): (ClientConfig, App, Vec<Step>),
    split: &mut dyn FnMut(&[u8]) -> Vec<usize>,
) -> (Vec<Event>, Vec<u8>) {
    let mut session = Session::new(config, app);
    session.run(&steps, split);
    (session.events, session.wire)
}

#[test]
fn byte_at_a_time_gives_the_same_events_and_bytes() {
    for scenario in scenarios() {
        let whole = run_split(scenario.clone(), &mut |_| Vec::new());
        let bytewise = run_split(scenario, &mut |bytes| (1..bytes.len()).collect());
        assert_eq!(whole, bytewise);
        assert!(matches!(whole.0.last(), Some(Event::Closed(Ok(())))));
    }
}

proptest! {
    #[test]
    fn any_split_of_the_server_bytes_gives_the_same_events_and_bytes(
        which in 0..7usize,
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
    ) {
        let scenario = scenarios().swap_remove(which);
        let whole = run_split(scenario.clone(), &mut |_| Vec::new());
        let mut cuts = cuts.into_iter();
        let split = run_split(scenario, &mut |bytes| {
            cuts.by_ref().take(3).map(|c| c % (bytes.len() + 1)).collect()
        });
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn arbitrary_server_bytes_never_panic_and_close_for_good(
        stage in 0..4usize,
        garbage in proptest::collection::vec(any::<u8>(), 0..3000),
        pieces in proptest::collection::vec(1..64usize, 1..8),
    ) {
        let now = Instant::now();
        let mut config = config("client.example");
        config.credentials = Some(alice());
        config.allow_plaintext_auth = true;
        let mut client = Client::new(config, now);
        let prefix: &[u8] = match stage {
            0 => b"",
            1 => b"220 mx.example\r\n",
            2 => b"220 mx.example\r\n250-mx.example\r\n250 AUTH LOGIN\r\n",
            _ => b"220 mx.example\r\n250-mx.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
        };
        client.feed(now, prefix);
        let (events, _) = drain(&mut client);
        let mut closed = events.iter().any(|e| matches!(e, Event::Closed(_)));
        prop_assert!(!closed, "a valid prefix closed the session: {:?}", events);
        let mut rest = &garbage[..];
        for size in pieces.iter().cycle().take(garbage.len()) {
            let take = (*size).min(rest.len());
            client.feed(now, &rest[..take]);
            rest = &rest[take..];
            let (events, _) = drain(&mut client);
            prop_assert!(!closed || events.is_empty(), "events after Closed: {:?}", events);
            closed |= events.iter().any(|e| matches!(e, Event::Closed(_)));
            if rest.is_empty() {
                break;
            }
        }
        client.handle_eof();
        client.handle_timeout(now + 60 * MINUTE);
        let (events, _) = drain(&mut client);
        prop_assert!(client.is_closed());
        prop_assert!(events.len() <= usize::from(!closed));
    }
}
