//! STLS policy: required TLS never falls back and never sends credentials in plaintext,
//! CAPA is asked again after TLS, and a response injected after the `+OK` to STLS ends the
//! session (RFC 2595 section 4).

use mail_testkit::SimClock;
use pop3_proto::client::{Client, ClientConfig, Event, SessionError, TlsPolicy};

use crate::harness::{credentials, replay};

#[test]
fn required_tls_without_stls_quits_without_credentials() {
    let events = replay(
        ClientConfig::new(credentials()),
        r"S: +OK ready
          C: CAPA
          S: +OK
          S: USER
          S: .
          C: QUIT",
        |_, _, _| {},
    );
    assert_eq!(
        events.last(),
        Some(&Event::Closed(Err(SessionError::TlsUnavailable)))
    );
}

#[test]
fn refused_stls_never_falls_back_when_required() {
    let events = replay(
        ClientConfig::new(credentials()),
        r"S: +OK ready
          C: CAPA
          S: +OK
          S: STLS
          S: .
          C: STLS
          S: -ERR no
          C: QUIT",
        |_, _, _| {},
    );
    assert_eq!(
        events.last(),
        Some(&Event::Closed(Err(SessionError::TlsUnavailable)))
    );
}

#[test]
fn opportunistic_without_stls_refuses_plaintext_credentials() {
    let mut config = ClientConfig::new(credentials());
    config.tls = TlsPolicy::Opportunistic;
    let events = replay(
        config,
        r"S: +OK ready
          C: CAPA
          S: +OK
          S: USER
          S: .
          C: QUIT",
        |_, _, _| {},
    );
    assert!(events.contains(&Event::PlaintextFallback));
    assert_eq!(
        events.last(),
        Some(&Event::Closed(Err(SessionError::PlaintextCredentials)))
    );
}

#[test]
fn response_injected_after_stls_ok_is_refused() {
    for split in [false, true] {
        let clock = SimClock::new();
        let mut client = Client::new(ClientConfig::new(credentials()), clock.now());
        client.feed(clock.now(), b"+OK ready\r\n");
        while client.poll_transmit().is_some() {}
        client.feed(clock.now(), b"+OK\r\nSTLS\r\n.\r\n");
        while client.poll_transmit().is_some() {}
        if split {
            client.feed(clock.now(), b"+OK begin\r\n");
            client.feed(clock.now(), b"+OK\r\nUSER\r\n.\r\n");
        } else {
            client.feed(clock.now(), b"+OK begin\r\n+OK\r\nUSER\r\n.\r\n");
        }
        let events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
        assert_eq!(
            events.last(),
            Some(&Event::Closed(Err(SessionError::StartTlsInjection))),
            "split: {split}"
        );
        assert!(client.tls_established(clock.now()).is_err());
    }
}

#[test]
fn capa_again_after_tls() {
    let clock = SimClock::new();
    let mut client = Client::new(ClientConfig::new(credentials()), clock.now());
    client.feed(clock.now(), b"+OK ready\r\n");
    while client.poll_transmit().is_some() {}
    client.feed(clock.now(), b"+OK\r\nSTLS\r\n.\r\n");
    while client.poll_transmit().is_some() {}
    client.feed(clock.now(), b"+OK begin\r\n");
    let events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
    assert_eq!(events.last(), Some(&Event::StartTls));
    client.tls_established(clock.now()).unwrap();
    assert_eq!(&client.poll_transmit().unwrap()[..], b"CAPA\r\n");
    client.feed(clock.now(), b"+OK\r\nUSER\r\n.\r\n");
    let mut wire = Vec::new();
    while let Some(piece) = client.poll_transmit_marked() {
        assert!(!piece.is_secret());
        wire.extend_from_slice(piece.bytes());
    }
    assert_eq!(wire, b"USER alice\r\n");
    client.feed(clock.now(), b"+OK\r\n");
    let piece = client.poll_transmit_marked().unwrap();
    assert!(piece.is_secret(), "the PASS line is marked secret");
    assert_eq!(format!("{piece:?}"), "Secret(<13 octets>)");
}
