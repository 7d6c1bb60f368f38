//! Login and commands: USER/PASS when SASL is not offered, AUTH PLAIN with an initial
//! response when it is, pipelined commands when PIPELINING is offered and one at a time
//! otherwise, streamed RETR with dot-unstuffing, listings, refusals, UIDL sync.

use bytes::Bytes;
use pop3_proto::client::{ClientConfig, Event, SessionError, UidlSync};
use pop3_proto::{ScanListing, Uid, UidListing};

use crate::harness::{credentials, replay};

fn pop3s() -> ClientConfig {
    ClientConfig::pop3s(credentials())
}

#[test]
fn user_pass_then_one_command_at_a_time() {
    let events = replay(
        pop3s(),
        r"S: +OK ready
          C: CAPA
          S: +OK
          S: USER
          S: UIDL
          S: .
          C: USER alice
          S: +OK
          C: PASS secret
          S: +OK logged in
          C: STAT
          S: +OK 2 320
          C: LIST
          S: +OK
          S: 1 120
          S: 2 200
          S: .
          C: UIDL 2
          S: +OK 2 uid-b
          C: RETR 2
          S: +OK
          S: Subject: x
          S:
          S: ..dot
          S: .
          C: DELE 2
          S: -ERR no such message
          C: QUIT
          S: +OK bye",
        |client, event, now| {
            if let Event::LoggedIn = event {
                client.stat(now).unwrap();
                client.list(now, None).unwrap();
                client.uidl(now, Some(2)).unwrap();
                client.retr(now, 2).unwrap();
                client.dele(now, 2).unwrap();
                client.quit(now).unwrap();
            }
        },
    );
    let tail: Vec<&Event> = events
        .iter()
        .skip_while(|e| **e != Event::LoggedIn)
        .collect();
    assert_eq!(
        tail[1],
        &Event::Stat {
            count: 2,
            size: 320
        }
    );
    assert_eq!(
        tail[2],
        &Event::Listed(ScanListing {
            message: 1,
            size: 120
        })
    );
    assert_eq!(tail[4], &Event::ListingEnd);
    assert_eq!(
        tail[5],
        &Event::Uid(UidListing {
            message: 2,
            uid: Uid::new("uid-b").unwrap()
        })
    );
    assert_eq!(tail[7], &Event::MessageStart { message: 2 });
    assert_eq!(
        tail[8],
        &Event::MessageChunk(Bytes::from_static(b"Subject: x\r\n\r\n.dot\r\n"))
    );
    assert_eq!(
        tail[9],
        &Event::MessageEnd {
            message: 2,
            size: 20
        }
    );
    assert!(matches!(
        tail[10],
        Event::Refused {
            command: "DELE",
            ..
        }
    ));
    assert_eq!(events.last(), Some(&Event::Closed(Ok(()))));
}

#[test]
fn sasl_plain_and_pipelining_when_offered() {
    replay(
        pop3s(),
        r"S: +OK ready
          C: CAPA
          S: +OK
          S: SASL PLAIN
          S: PIPELINING
          S: .
          C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
          S: +OK logged in
          C: STAT
          C: NOOP
          C: QUIT
          S: +OK 0 0
          S: +OK
          S: +OK bye",
        |client, event, now| {
            if let Event::LoggedIn = event {
                client.stat(now).unwrap();
                client.noop(now).unwrap();
                client.quit(now).unwrap();
            }
        },
    );
}

#[test]
fn a_failed_login_ends_the_session() {
    let events = replay(
        pop3s(),
        r"S: +OK ready
          C: CAPA
          S: -ERR what
          C: USER alice
          S: +OK
          C: PASS secret
          S: -ERR [AUTH] bad
          C: QUIT",
        |_, _, _| {},
    );
    assert!(matches!(
        events.last(),
        Some(Event::Closed(Err(SessionError::AuthFailed(_))))
    ));
}

#[test]
fn a_response_before_its_command_ends_the_session() {
    // The CAPA answer arrives in the same read as the greeting: before CAPA was sent
    // (docs/design.md section 2.2). Split over two reads it cannot be told from an answer.
    let clock = mail_testkit::SimClock::new();
    let mut client = pop3_proto::client::Client::new(pop3s(), clock.now());
    client.feed(clock.now(), b"+OK ready\r\n+OK\r\nUSER\r\n.\r\n");
    let events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
    assert_eq!(
        events.last(),
        Some(&Event::Closed(Err(SessionError::ReplyBeforeCommand)))
    );
    let mut wire = Vec::new();
    while let Some(bytes) = client.poll_transmit() {
        wire.extend_from_slice(&bytes);
    }
    assert_eq!(wire, b"CAPA\r\nQUIT\r\n");
}

#[test]
fn uidl_sync_fetches_only_new_messages() {
    let mut sync = UidlSync::new(["a".to_string(), "c".to_string()]);
    for (message, uid) in [(1, "a"), (2, "b"), (3, "c"), (4, "d")] {
        sync.add(&UidListing {
            message,
            uid: Uid::new(uid).unwrap(),
        });
    }
    assert_eq!(
        sync.to_fetch(),
        [(2, "b".to_string()), (4, "d".to_string())]
    );
}

#[test]
fn rfc2449_capa_example() {
    // RFC 2449 section 5, the CAPA example, answered to our CAPA.
    let events = replay(
        pop3s(),
        r"S: +OK POP3 server ready
          C: CAPA
          S: +OK Capability list follows
          S: TOP
          S: USER
          S: SASL CRAM-MD5 KERBEROS_V4
          S: RESP-CODES
          S: LOGIN-DELAY 900
          S: PIPELINING
          S: EXPIRE 60
          S: UIDL
          S: IMPLEMENTATION Shlemazle-Plotz-v302
          S: .
          # No mechanism we implement: USER and PASS.
          C: USER alice",
        |_, _, _| {},
    );
    let Some(Event::Capabilities(capabilities)) =
        events.iter().find(|e| matches!(e, Event::Capabilities(_)))
    else {
        panic!("no capabilities: {events:?}");
    };
    use pop3_proto::Capability;
    assert_eq!(
        capabilities.list,
        [
            Capability::Top,
            Capability::User,
            Capability::Sasl(vec!["CRAM-MD5".into(), "KERBEROS_V4".into()]),
            Capability::RespCodes,
            Capability::LoginDelay(vec!["900".into()]),
            Capability::Pipelining,
            Capability::Expire(vec!["60".into()]),
            Capability::Uidl,
            Capability::Implementation("Shlemazle-Plotz-v302".into()),
        ]
    );
    assert!(capabilities.pipelining() && capabilities.top() && capabilities.uidl());
    assert!(capabilities.sasl().is_empty());
}
