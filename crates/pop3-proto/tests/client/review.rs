//! Review findings on the client, each reproduced: a server streaming an endless `CAPA`
//! listing must not make the client keep every line; a server silent in the middle of a
//! listing or message, or dribbling a message line, must still time out; credentials with a
//! line break must not turn into extra commands on `USER`/`PASS`; without PIPELINING no command
//! goes out while a multi-line answer is still coming; a `LIST n` or `UIDL n` answer about
//! another message is refused.

use std::time::Duration;

use mail_testkit::SimClock;
use mail_wire::Secret;
use pop3_proto::client::{
    Client, ClientConfig, Credentials, Event, MAX_CAPABILITIES, SessionError,
};

use crate::harness::credentials;

#[test]
fn an_endless_capa_listing_is_bounded() {
    let clock = SimClock::new();
    let mut client = Client::new(ClientConfig::pop3s(credentials()), clock.now());
    client.feed(clock.now(), b"+OK ready\r\n");
    while client.poll_transmit().is_some() {}
    client.feed(clock.now(), b"+OK capabilities\r\n");
    // 100,000 capability lines (about 1.2 MB) and no end marker: a hostile server can go on
    // for ever, so the client must give up at its limit rather than store them all.
    let mut closed = None;
    for i in 0..100_000u32 {
        client.feed(clock.now(), format!("X-CAP-{i}\r\n").as_bytes());
        while let Some(event) = client.poll_event() {
            if let Event::Closed(ending) = event {
                closed = Some(ending);
            }
        }
        if closed.is_some() {
            break;
        }
    }
    assert_eq!(
        closed,
        Some(Err(SessionError::TooManyCapabilities)),
        "the client kept {} capabilities",
        client.capabilities().list.len()
    );
    assert_eq!(client.capabilities().list.len(), MAX_CAPABILITIES);
    // Exactly the limit is a listing like any other.
    let mut client = Client::new(ClientConfig::pop3s(credentials()), clock.now());
    client.feed(clock.now(), b"+OK ready\r\n");
    while client.poll_transmit().is_some() {}
    let mut listing = b"+OK\r\n".to_vec();
    for i in 0..MAX_CAPABILITIES {
        listing.extend_from_slice(format!("X-CAP-{i}\r\n").as_bytes());
    }
    listing.extend_from_slice(b".\r\n");
    client.feed(clock.now(), &listing);
    let events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
    assert!(
        matches!(events.get(1), Some(Event::Capabilities(c)) if c.list.len() == MAX_CAPABILITIES),
        "{:?}",
        events.last()
    );
    assert!(!client.is_closed());
}

/// A server dribbling one octet of a message line every 500 s (under the 600 s response
/// timeout) must not keep the client waiting for ever: the response time starts over at a
/// complete line of the message, not at any byte.
#[test]
fn a_server_silent_in_a_listing_or_message_times_out() {
    // After the `+OK` of a multi-line answer, its command is answered in part only: the
    // client must still be waiting with a deadline, not for ever.
    for (command, first) in [
        ("LIST", &b"+OK 2 messages\r\n1 100\r\n"[..]),
        ("RETR", b"+OK\r\nSubject: x\r\n"),
    ] {
        let mut clock = SimClock::new();
        let mut client = Client::new(ClientConfig::pop3s(credentials()), clock.now());
        for read in [
            &b"+OK ready\r\n"[..],
            b"-ERR\r\n",
            b"+OK\r\n",
            b"+OK in\r\n",
        ] {
            while client.poll_transmit().is_some() {}
            client.feed(clock.now(), read);
        }
        while client.poll_event().is_some() {}
        match command {
            "LIST" => client.list(clock.now(), None).unwrap(),
            _ => client.retr(clock.now(), 1).unwrap(),
        }
        while client.poll_transmit().is_some() {}
        client.feed(clock.now(), first);
        assert_eq!(
            client.poll_timeout(),
            Some(clock.now() + Duration::from_secs(600)),
            "{command}"
        );
        clock.advance(Duration::from_secs(600));
        client.handle_timeout(clock.now());
        let ending = std::iter::from_fn(|| client.poll_event()).find_map(|e| match e {
            Event::Closed(end) => Some(end),
            _ => None,
        });
        assert_eq!(ending, Some(Err(SessionError::Timeout)), "{command}");
    }
}

#[test]
fn a_server_dribbling_a_message_line_still_times_out() {
    let mut clock = SimClock::new();
    let mut client = Client::new(ClientConfig::pop3s(credentials()), clock.now());
    for read in [
        &b"+OK ready\r\n"[..],
        b"-ERR\r\n",
        b"+OK\r\n",
        b"+OK in\r\n",
    ] {
        while client.poll_transmit().is_some() {}
        client.feed(clock.now(), read);
    }
    while client.poll_event().is_some() {}
    client.retr(clock.now(), 1).unwrap();
    while client.poll_transmit().is_some() {}
    client.feed(clock.now(), b"+OK\r\nfirst line\r\n");
    let mut ending = None;
    for _ in 0..30 {
        clock.advance(Duration::from_secs(500));
        client.feed(clock.now(), b"a");
        client.handle_timeout(clock.now());
        while let Some(event) = client.poll_event() {
            if let Event::Closed(end) = event {
                ending = Some(end);
            }
        }
        if ending.is_some() {
            break;
        }
    }
    assert_eq!(ending, Some(Err(SessionError::Timeout)));
    // 600 s after the last complete line: the second dribbled octet (at 1000 s) is too late.
    assert_eq!(clock.elapsed(), Duration::from_secs(1000));
}

/// `USER`/`PASS` puts the name and the password on the command line as they are: a CR or LF
/// in either (a name or password taken from a form or a file) would end the line early and
/// send the rest as a command of its own. The client must refuse to send them.
#[test]
fn credentials_with_a_line_break_are_not_sent_as_commands() {
    for credentials in [
        Credentials::password("alice\r\nDELE 1", Secret::new("secret".into())),
        Credentials::password("alice", Secret::new("secret\r\nDELE 1".into())),
        Credentials::password("alice", Secret::new("secret\nDELE 1".into())),
    ] {
        let clock = SimClock::new();
        let mut client = Client::new(ClientConfig::pop3s(credentials), clock.now());
        let mut wire = Vec::new();
        let mut ending = None;
        for read in [&b"+OK ready\r\n"[..], b"+OK\r\nUSER\r\n.\r\n", b"+OK\r\n"] {
            client.feed(clock.now(), read);
            while let Some(bytes) = client.poll_transmit() {
                wire.extend_from_slice(&bytes);
            }
            while let Some(event) = client.poll_event() {
                if let Event::Closed(end) = event {
                    ending = Some(end);
                }
            }
        }
        let wire = String::from_utf8(wire).unwrap();
        assert!(!wire.contains("DELE"), "{wire:?}");
        assert_eq!(
            ending,
            Some(Err(SessionError::UnsendableCredentials)),
            "{wire:?}"
        );
    }
}

/// Without PIPELINING (RFC 2449 section 6.6) the client sends a command only once the last
/// one is answered in full. A command the application gives while a message or a listing is
/// still arriving must wait for the end marker, not go out in the middle of it.
#[test]
fn without_pipelining_no_command_goes_out_during_a_multi_line_answer() {
    for (command, start, rest) in [
        (
            "RETR",
            &b"+OK\r\nSubject: x\r\n"[..],
            &b"\r\nbody\r\n.\r\n"[..],
        ),
        ("LIST", b"+OK\r\n1 100\r\n", b"2 200\r\n.\r\n"),
    ] {
        let clock = SimClock::new();
        let mut client = Client::new(ClientConfig::pop3s(credentials()), clock.now());
        // CAPA without PIPELINING.
        for read in [
            &b"+OK ready\r\n"[..],
            b"+OK\r\nUSER\r\n.\r\n",
            b"+OK\r\n",
            b"+OK in\r\n",
        ] {
            while client.poll_transmit().is_some() {}
            client.feed(clock.now(), read);
        }
        while client.poll_event().is_some() {}
        match command {
            "RETR" => client.retr(clock.now(), 1).unwrap(),
            _ => client.list(clock.now(), None).unwrap(),
        }
        while client.poll_transmit().is_some() {}
        client.feed(clock.now(), start);
        while client.poll_event().is_some() {}
        // The application asks for the next command while the answer is half in.
        client.noop(clock.now()).unwrap();
        let mut early = Vec::new();
        while let Some(bytes) = client.poll_transmit() {
            early.extend_from_slice(&bytes);
        }
        assert_eq!(String::from_utf8_lossy(&early), "", "{command}");
        client.feed(clock.now(), rest);
        let mut after = Vec::new();
        while let Some(bytes) = client.poll_transmit() {
            after.extend_from_slice(&bytes);
        }
        assert_eq!(String::from_utf8_lossy(&after), "NOOP\r\n", "{command}");
        client.feed(clock.now(), b"+OK\r\n");
        let events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
        assert!(
            events.contains(&Event::Done { command: "NOOP" }),
            "{command}: {events:?}"
        );
    }
}

/// `LIST n` and `UIDL n` are answered `+OK n ...` (RFC 1939 section 5 and 7). An answer
/// about another message belongs to another command (a server out of step, or answering
/// pipelined commands out of order): the client must not hand it over as the answer.
#[test]
fn a_single_listing_about_another_message_is_refused() {
    for (command, answer) in [
        ("LIST", &b"+OK 3 200\r\n"[..]),
        ("UIDL", b"+OK 3 uid-c\r\n"),
    ] {
        let clock = SimClock::new();
        let mut client = Client::new(ClientConfig::pop3s(credentials()), clock.now());
        for read in [
            &b"+OK ready\r\n"[..],
            b"-ERR\r\n",
            b"+OK\r\n",
            b"+OK in\r\n",
        ] {
            while client.poll_transmit().is_some() {}
            client.feed(clock.now(), read);
        }
        while client.poll_event().is_some() {}
        match command {
            "LIST" => client.list(clock.now(), Some(5)).unwrap(),
            _ => client.uidl(clock.now(), Some(5)).unwrap(),
        }
        while client.poll_transmit().is_some() {}
        client.feed(clock.now(), answer);
        let events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, Event::Listed(_) | Event::Uid(_))),
            "{command}: {events:?}"
        );
        assert!(
            matches!(
                events.last(),
                Some(Event::Closed(Err(SessionError::Malformed(_))))
            ),
            "{command}: {events:?}"
        );
    }
}
