//! Replies read before the command they would answer was queued: a server that pushes
//! replies ahead ends the session with `SessionError::ReplyBeforeCommand`, whatever it
//! pushed, while replies to pipelined commands written together, in one read or many, are
//! answers.

use std::time::Instant;

use mail_wire::Secret;
use smtp_proto::client::{Awaiting, Client, Credentials, Event, SessionError, TlsPolicy};

use crate::harness::{config, envelope, reply};
use crate::{Direct, auth_config, drain, ready, tls_config};

fn premature(awaiting: Awaiting, wire: &str) -> Event {
    Event::Closed(Err(SessionError::ReplyBeforeCommand {
        awaiting,
        reply: reply(wire),
    }))
}

#[test]
fn a_greeting_and_an_ehlo_reply_in_one_read_is_not_a_session() {
    let now = Instant::now();
    let mut client = Direct::new(Client::new(config("client.example"), now));
    client.feed(now, b"220 evil\r\n250 x\r\n");
    let (events, out) = drain(&mut client);
    assert_eq!(
        events,
        [
            Event::Greeting(reply("220 evil\r\n")),
            premature(Awaiting::Hello, "250 x\r\n")
        ]
    );
    // EHLO was queued when the greeting was read; nothing follows it.
    assert_eq!(out, b"EHLO client.example\r\n");
    assert!(client.is_closed());
}

#[test]
fn a_reply_that_began_before_its_command_is_premature_even_if_it_ends_later() {
    let now = Instant::now();
    let mut client = Direct::new(Client::new(config("client.example"), now));
    client.feed(now, b"220 evil\r\n250 ");
    client.feed(now, b"x\r\n");
    let (events, _) = drain(&mut client);
    assert_eq!(
        events.last(),
        Some(&premature(Awaiting::Hello, "250 x\r\n"))
    );
}

#[test]
fn a_starttls_reply_pushed_before_starttls_is_not_a_handshake() {
    let now = Instant::now();
    let mut client = Direct::new(Client::new(tls_config(TlsPolicy::Required), now));
    client.feed(now, b"220 mx.example\r\n");
    client.feed(now, b"250-mx.example\r\n250 STARTTLS\r\n220 go ahead\r\n");
    let (events, out) = drain(&mut client);
    assert!(!events.contains(&Event::StartTls), "{events:?}");
    assert_eq!(
        events.last(),
        Some(&premature(Awaiting::StartTls, "220 go ahead\r\n"))
    );
    assert_eq!(out, b"EHLO client.example\r\nSTARTTLS\r\n");
}

/// The attack: the second EHLO answered together with two LOGIN challenges. The
/// client sends no credential, and the session ends.
#[test]
fn a_pushed_auth_exchange_gets_no_credential() {
    let now = Instant::now();
    let credentials = Credentials::password("alice", Secret::new("hunter2".into()));
    let mut client = Direct::new(Client::new(auth_config(credentials), now));
    client.feed(now, b"220 mx.example\r\n");
    client.feed(
        now,
        b"250-evil\r\n250 AUTH LOGIN\r\n334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n",
    );
    let (events, out) = drain(&mut client);
    assert_eq!(
        events.last(),
        Some(&premature(Awaiting::Auth, "334 VXNlcm5hbWU6\r\n"))
    );
    assert_eq!(out, b"EHLO client.example\r\nAUTH LOGIN\r\n");
}

/// A challenge pushed behind the one that was due: the response to the first goes out, the
/// second ends the session before the password does.
#[test]
fn a_challenge_pushed_before_the_previous_response_gets_no_response() {
    let now = Instant::now();
    let credentials = Credentials::password("alice", Secret::new("hunter2".into()));
    let mut client = Direct::new(Client::new(auth_config(credentials), now));
    client.feed(now, b"220 mx.example\r\n");
    client.feed(now, b"250-mx.example\r\n250 AUTH LOGIN\r\n");
    assert_eq!(
        drain(&mut client).1,
        b"EHLO client.example\r\nAUTH LOGIN\r\n"
    );
    client.feed(now, b"334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n");
    let (events, out) = drain(&mut client);
    assert_eq!(
        events.last(),
        Some(&premature(Awaiting::Auth, "334 UGFzc3dvcmQ6\r\n"))
    );
    // "alice" in base64; "hunter2" (aHVudGVyMg==) never goes out.
    assert_eq!(out, b"YWxpY2U=\r\n");
}

/// A PLAIN response too long for the AUTH line waits for the first `334`: one pushed before
/// AUTH went out gets nothing.
#[test]
fn a_challenge_pushed_before_a_long_plain_auth_gets_no_response() {
    let now = Instant::now();
    let long = "p".repeat(600);
    let credentials = Credentials::password("alice", Secret::new(long));
    let mut client = Direct::new(Client::new(auth_config(credentials), now));
    client.feed(now, b"220 mx.example\r\n");
    client.feed(now, b"250-mx.example\r\n250 AUTH PLAIN\r\n334 \r\n");
    let (events, out) = drain(&mut client);
    assert_eq!(events.last(), Some(&premature(Awaiting::Auth, "334 \r\n")));
    assert_eq!(out, b"EHLO client.example\r\nAUTH PLAIN\r\n");
}

#[test]
fn without_pipelining_a_pushed_rcpt_reply_ends_the_session() {
    let now = Instant::now();
    let mut session = ready("250 mx.example\r\n");
    session
        .client
        .send_message(now, envelope("a@client.example", &["b@mx.example"]))
        .unwrap();
    assert_eq!(session.output(), b"MAIL FROM:<a@client.example>\r\n");
    session.feed(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
    assert_eq!(
        session.events.last(),
        Some(&premature(Awaiting::Rcpt, "250 2.1.5 Ok\r\n"))
    );
    assert_eq!(session.output(), b"RCPT TO:<b@mx.example>\r\n");
}

/// Replies to commands written together are answers, in one read or cut anywhere.
#[test]
fn replies_to_pipelined_commands_are_answers_however_they_are_read() {
    let wire = b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 Go\r\n";
    for cut in 0..=wire.len() {
        let now = Instant::now();
        let mut session = ready("250-mx.example\r\n250 PIPELINING\r\n");
        session
            .client
            .send_message(now, envelope("a@client.example", &["b@mx.example"]))
            .unwrap();
        assert_eq!(
            session.output(),
            b"MAIL FROM:<a@client.example>\r\nRCPT TO:<b@mx.example>\r\nDATA\r\n"
        );
        session.feed(&wire[..cut]);
        session.feed(&wire[cut..]);
        assert_eq!(session.events.last(), Some(&Event::BodyReady), "cut {cut}");
    }
}

#[test]
fn a_pushed_421_still_says_the_service_is_unavailable() {
    let now = Instant::now();
    let mut client = Direct::new(Client::new(config("client.example"), now));
    client.feed(now, b"220 mx.example\r\n421 4.3.2 going down\r\n");
    let (events, _) = drain(&mut client);
    assert_eq!(
        events.last(),
        Some(&Event::Closed(Err(SessionError::ServiceUnavailable(
            reply("421 4.3.2 going down\r\n")
        ))))
    );
}

/// A command counts as sent once the driver took it (`poll_transmit` emptied the output): a
/// reply read while EHLO still waited in the output answers nothing, even in a later read.
#[test]
fn a_reply_to_a_command_the_driver_has_not_taken_is_premature() {
    let now = Instant::now();
    let mut client = Client::new(config("client.example"), now);
    client.feed(now, b"220 mx.example\r\n");
    client.feed(now, b"250 mx.example\r\n");
    let events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
    assert_eq!(
        events.last(),
        Some(&premature(Awaiting::Hello, "250 mx.example\r\n"))
    );
    // Taken first, the same reply is the answer.
    let mut client = Client::new(config("client.example"), now);
    client.feed(now, b"220 mx.example\r\n");
    assert_eq!(
        client.poll_transmit().as_deref(),
        Some(&b"EHLO client.example\r\n"[..])
    );
    client.feed(now, b"250 mx.example\r\n");
    assert!(client.is_ready());
}
