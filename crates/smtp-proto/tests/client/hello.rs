//! The greeting and EHLO/HELO: the fall-back to HELO, HELO sessions refusing extensions,
//! refused greetings and hellos, and EHLO lines that cannot be read.

use std::time::Instant;

use smtp_proto::client::{
    Client, ClientConfig, ClientError, EnvelopeError, Event, SessionError, TlsPolicy,
};
use smtp_proto::{AddressLiteral, Body, Host, MailParams};

use crate::harness::{
    App, Message, QuitWhen, Session, config, envelope, replay, reply, transcript,
};
use crate::{Direct, closed_with, drain, feed_replies, ready, tls_config};

pub(crate) const HELO_FALLBACK: &str = "
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

pub(crate) fn helo_app() -> App {
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
    session.feed_replies(b"220 old.example\r\n502 No\r\n250 old.example\r\n");
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
    let mut client = Direct::new(Client::new(tls_config(TlsPolicy::Required), Instant::now()));
    feed_replies(
        &mut client,
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
