//! STLS (RFC 2595 section 4): commands pipelined behind STLS close the session, bytes before
//! the handshake close it, and the session starts over in TLS.

use mail_testkit::{Chunker, Chunking, SimClock};
use pop3_proto::server::{Event, Server, ServerConfig, SessionError};

use crate::harness::replay;

#[test]
fn commands_pipelined_after_stls_close_the_session() {
    // In one read: refused at once. Split: the +OK goes out, and the next bytes, which
    // should have been the handshake, close the session. Never is CAPA answered, and never
    // does a handshake start on a stream with plaintext behind it.
    let wire = b"STLS\r\nCAPA\r\n";
    for chunking in Chunking::standard(3) {
        let clock = SimClock::new();
        let mut server = Server::new(ServerConfig::default(), clock.now());
        let mut out = Vec::new();
        let mut events = Vec::new();
        for read in Chunker::new(chunking.clone()).split(wire) {
            server.feed(clock.now(), read);
            while let Some(event) = server.poll_event() {
                events.push(event);
            }
            while let Some(bytes) = server.poll_transmit() {
                out.extend_from_slice(&bytes);
            }
        }
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("Capability"), "{chunking:?}: {out}");
        assert_eq!(
            events.last(),
            Some(&Event::Closed(Err(SessionError::StartTlsInjection))),
            "{chunking:?}"
        );
        assert!(server.is_closed());
    }
    replay(
        ServerConfig::default(),
        r"S: +OK POP3 server ready
          C: STLS
          S: +OK Begin TLS negotiation",
    );
}

#[test]
fn bytes_before_the_handshake_close_the_session_and_tls_resets_state() {
    let clock = SimClock::new();
    let mut server = Server::new(ServerConfig::default(), clock.now());
    server.feed(clock.now(), b"UTF8\r\nSTLS\r\n");
    assert_eq!(server.poll_event(), Some(Event::Utf8));
    assert_eq!(server.poll_event(), Some(Event::StartTls));
    assert!(server.is_utf8());
    server.feed(clock.now(), b"CAPA\r\n");
    assert_eq!(
        server.poll_event(),
        Some(Event::Closed(Err(SessionError::StartTlsInjection)))
    );

    let mut server = Server::new(ServerConfig::default(), clock.now());
    server.feed(clock.now(), b"UTF8\r\nSTLS\r\n");
    while server.poll_event().is_some() {}
    server.tls_established(clock.now()).unwrap();
    assert!(server.is_tls() && !server.is_utf8());
    while server.poll_transmit().is_some() {}
    server.feed(clock.now(), b"STLS\r\nCAPA\r\n");
    while server.poll_event().is_some() {}
    let out = server.poll_transmit().unwrap();
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("-ERR STLS not available\r\n+OK Capability list follows\r\n"));
    assert!(out.contains("USER\r\nSASL PLAIN SCRAM-SHA-256\r\n"));
    assert!(!out.contains("STLS\r\n"));
}
