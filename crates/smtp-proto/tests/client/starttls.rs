//! STARTTLS (RFC 3207): the TLS policies, the session starting over after the hand-off, and
//! bytes injected around the `220` (CVE-2011-0411 from the client's side).

use std::time::Instant;

use mail_wire::sasl::Mechanism;
use smtp_proto::client::{Client, ClientConfig, ClientError, Event, SessionError, TlsPolicy};

use crate::harness::{App, Message, QuitWhen, config, envelope, replay, reply, transcript};
use crate::{Direct, alice, caps, closed_with, drain, feed_replies, tls_config};

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

pub(crate) const STARTTLS_THEN_AUTH: &str = "
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

pub(crate) fn submission_config() -> ClientConfig {
    ClientConfig::submission(config("client.example").hello_name, alice())
}

pub(crate) fn submission_app() -> App {
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
    let mut client = Direct::new(Client::new(submission_config(), Instant::now()));
    let now = Instant::now();
    feed_replies(
        &mut client,
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
fn awaiting_starttls() -> Direct {
    let now = Instant::now();
    let mut client = Direct::new(Client::new(tls_config(TlsPolicy::Required), now));
    feed_replies(
        &mut client,
        now,
        b"220 mx.example\r\n250-mx.example\r\n250 STARTTLS\r\n",
    );
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
