//! RFC 3030 CHUNKING: BDAT with and without PIPELINING, BINARYMIME bodies byte for byte, text
//! bodies with CRLF line endings, and a refused chunk.

use smtp_proto::client::{ClientError, Event, Rejection};
use smtp_proto::{Body, MailParams};

use mail_testkit::Side;
use mail_testkit::transcript::Step;

use crate::harness::{
    App, Message, QuitWhen, Session, config, envelope, replay, reply, transcript,
};

pub(crate) const RFC3030_SIMPLE: &str = "
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

pub(crate) fn rfc3030_app() -> App {
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
    steps.push(Step::Send {
        from: Side::Client,
        bytes: chunks,
    });
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
    session.feed_replies(format!("220 mx.example\r\n250-mx.example\r\n{extensions}").as_bytes());
    session.output();
    let now = session.now;
    session
        .client
        .send_message(now, envelope("a@client.example", &["b@mx.example"]))
        .unwrap();
    session.feed_replies(b"250 Ok\r\n250 Ok\r\n");
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
    session.feed_replies(b"220 mx.example\r\n250-mx.example\r\n250-PIPELINING\r\n250 CHUNKING\r\n");
    let now = session.now;
    session
        .client
        .send_message(now, envelope("a@client.example", &["b@mx.example"]))
        .unwrap();
    session.feed_replies(b"250 Ok\r\n250 Ok\r\n");
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
