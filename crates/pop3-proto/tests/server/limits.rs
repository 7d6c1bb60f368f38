//! Every limit of the server, breached: line length, refused commands, junk before login,
//! failed logins and their delay, the idle timeouts before and after login (from the last
//! complete line, not the last byte), the time to log in (from the session's start), buffered
//! input.

use std::time::Duration;

use mail_testkit::SimClock;
use mail_testkit::users::{Users, server_nonce};
use pop3_proto::server::{Event, LoginMethod, Server, ServerConfig, SessionError};

use crate::harness::{answer, config, replay};

fn drain(server: &mut Server) -> String {
    let mut out = Vec::new();
    while let Some(bytes) = server.poll_transmit() {
        out.extend_from_slice(&bytes);
    }
    String::from_utf8(out).unwrap()
}

fn events(server: &mut Server) -> Vec<Event> {
    let mut all = Vec::new();
    while let Some(event) = server.poll_event() {
        answer(server, &event);
        all.push(event);
    }
    all
}

#[test]
fn line_too_long_closes_with_a_clear_error() {
    let long = "N".repeat(300);
    let events = replay(
        ServerConfig::default(),
        &format!(
            "S: +OK POP3 server ready
             C: {long}
             S: -ERR Line too long, closing
             S! eof"
        ),
    );
    assert_eq!(
        events.last(),
        Some(&Event::Closed(Err(SessionError::LineTooLong)))
    );
    // Just under the limit (255 with CRLF) is an ordinary unknown command.
    let fits = "N".repeat(253);
    replay(
        ServerConfig::default(),
        &format!(
            "S: +OK POP3 server ready
             C: {fits}
             S: -ERR Unknown command"
        ),
    );
}

#[test]
fn too_many_errors_close_the_session() {
    let mut config = config();
    config.max_errors = 2;
    let events = replay(
        config,
        r"S: +OK POP3 server ready
          C: BAD1
          S: -ERR Unknown command
          C: BAD2
          S: -ERR Unknown command
          C: BAD3
          S: -ERR Too many errors, closing
          S! eof",
    );
    assert_eq!(
        events.last(),
        Some(&Event::Closed(Err(SessionError::TooManyErrors)))
    );
}

#[test]
fn junk_before_login_counts_as_errors() {
    let mut config = config();
    config.max_junk_commands = 2;
    config.max_errors = 1;
    replay(
        config,
        r"S: +OK POP3 server ready
          C: UTF8
          S: +OK UTF8 enabled
          C: UTF8
          S: +OK UTF8 enabled
          # the third is junk: one error, still within max_errors
          C: UTF8
          S: +OK UTF8 enabled
          C: UTF8
          S: -ERR Too many errors, closing
          S! eof",
    );
}

#[test]
fn failed_logins_are_held_back_and_limited() {
    let mut clock = SimClock::new();
    let mut server = Server::new(config_with_delay(), clock.now());
    assert_eq!(drain(&mut server), "+OK POP3 server ready\r\n");
    server.feed(clock.now(), b"USER alice\r\nPASS wrong\r\nNOOP\r\n");
    let seen = events(&mut server);
    assert_eq!(
        seen,
        [
            Event::AuthStep {
                method: LoginMethod::UserPass
            },
            Event::AuthFailed {
                method: LoginMethod::UserPass,
                error: Some(mail_wire::sasl::SaslError::AuthenticationFailed),
                user: Some("alice".into()),
            }
        ]
    );
    // Held: nothing is answered, nothing read, and the release is the deadline.
    assert_eq!(drain(&mut server), "+OK Send PASS\r\n");
    assert!(!server.wants_input());
    assert_eq!(
        server.poll_timeout(),
        Some(clock.now() + Duration::from_secs(2))
    );
    clock.advance(Duration::from_millis(1999));
    server.handle_timeout(clock.now());
    assert_eq!(drain(&mut server), "");
    clock.advance(Duration::from_millis(1));
    server.handle_timeout(clock.now());
    assert!(events(&mut server).is_empty());
    assert_eq!(
        drain(&mut server),
        "-ERR [AUTH] Authentication failed\r\n-ERR Not valid before login\r\n"
    );
    // The application lengthens the delay for this session.
    server.set_auth_failure_delay(Duration::from_secs(5));
    server.feed(
        clock.now(),
        b"USER alice\r\nPASS wrong\r\nUSER alice\r\nPASS wrong\r\n",
    );
    events(&mut server);
    assert_eq!(
        server.poll_timeout(),
        Some(clock.now() + Duration::from_secs(5))
    );
    clock.advance(Duration::from_secs(5));
    server.handle_timeout(clock.now());
    let seen = events(&mut server);
    assert_eq!(seen.len(), 2, "{seen:?}");
    clock.advance(Duration::from_secs(5));
    server.handle_timeout(clock.now());
    let seen = events(&mut server);
    assert_eq!(
        seen.last(),
        Some(&Event::Closed(Err(SessionError::TooManyAuthFailures)))
    );
    assert_eq!(
        drain(&mut server),
        "+OK Send PASS\r\n-ERR [AUTH] Authentication failed\r\n+OK Send PASS\r\n\
         -ERR [AUTH] Authentication failed; too many failures, closing\r\n"
    );
    assert!(server.is_closed());
}

fn config_with_delay() -> ServerConfig {
    let mut config = ServerConfig::default();
    config.allow_plaintext_auth = true;
    config
}

#[test]
fn login_timeout_runs_from_the_last_complete_line() {
    let mut clock = SimClock::new();
    let mut server = Server::new(config(), clock.now());
    drain(&mut server);
    assert_eq!(
        server.poll_timeout(),
        Some(clock.now() + Duration::from_secs(60))
    );
    // A client dribbling a line one octet at a time does not push the deadline.
    for _ in 0..59 {
        clock.advance(Duration::from_secs(1));
        server.feed(clock.now(), b"N");
        events(&mut server);
        server.handle_timeout(clock.now());
    }
    assert!(!server.is_closed());
    clock.advance(Duration::from_secs(1));
    server.handle_timeout(clock.now());
    assert_eq!(
        events(&mut server),
        [Event::Closed(Err(SessionError::Timeout))]
    );
    assert_eq!(drain(&mut server), "-ERR Disconnected for inactivity\r\n");
}

#[test]
fn idle_timeout_after_login_is_ten_minutes() {
    let mut clock = SimClock::new();
    let mut server = Server::new(config(), clock.now());
    server.feed(clock.now(), b"USER alice\r\nPASS secret\r\nDELE 1\r\n");
    events(&mut server);
    server.handle_timeout(clock.now()); // the idle time restarts after the decisions
    events(&mut server);
    let due = server.poll_timeout().unwrap();
    assert_eq!(due, clock.now() + Duration::from_secs(600));
    clock.advance(Duration::from_secs(599));
    server.handle_timeout(clock.now());
    assert!(!server.is_closed());
    clock.advance(Duration::from_secs(1));
    server.handle_timeout(clock.now());
    // No UPDATE: the deletion mark dies with the session.
    assert_eq!(
        events(&mut server),
        [Event::Closed(Err(SessionError::Timeout))]
    );
}

#[test]
fn buffered_input_is_bounded() {
    let mut config = config();
    config.max_buffered_input = 1024;
    let clock = SimClock::new();
    let mut server = Server::new(config, clock.now());
    drain(&mut server);
    server.feed(clock.now(), b"USER alice\r\nPASS secret\r\n");
    // The AuthStep decision is pending: input piles up until the limit closes the session.
    let _ = server.poll_event();
    server.feed(clock.now(), &[b'x'; 2000]);
    assert_eq!(
        events(&mut server).last(),
        Some(&Event::Closed(Err(SessionError::InputOverflow)))
    );
    let _ = Users::standard();
    let _ = server_nonce();
}

#[test]
fn auth_lines_may_be_longer_but_not_without_end() {
    // While SASL is offered an AUTH line may pass 255 octets (RFC 5034 section 4)...
    let long = "A".repeat(400);
    replay(
        config(),
        &format!(
            "S: +OK POP3 server ready
             C: AUTH PLAIN {long}
             S: -ERR [AUTH] Authentication failed"
        ),
    );
    // ... up to AUTH_LINE_LIMIT; past it the session ends like any line too long.
    let too_long = "A".repeat(pop3_proto::server::AUTH_LINE_LIMIT);
    let events = replay(
        config(),
        &format!(
            "S: +OK POP3 server ready
             C: AUTH PLAIN {too_long}
             S: -ERR Line too long, closing
             S! eof"
        ),
    );
    assert_eq!(
        events.last(),
        Some(&Event::Closed(Err(SessionError::LineTooLong)))
    );
    // After login the 255-octet limit is back.
    let after = "N".repeat(300);
    replay(
        config(),
        &format!(
            "S: +OK POP3 server ready
             C: USER alice
             C: PASS secret
             S: +OK Send PASS
             S: +OK maildrop has 2 messages (60 octets)
             C: NOOP {after}
             S: -ERR Line too long, closing
             S! eof"
        ),
    );
}

#[test]
fn a_sasl_response_over_the_limit_fails_the_login() {
    let huge = "A".repeat(mail_wire::sasl::framing::MAX_ENCODED_LEN + 10);
    let events = replay(
        config(),
        &format!(
            "S: +OK POP3 server ready
             C: AUTH PLAIN
             S: +\\x20
             C: {huge}
             S: -ERR [AUTH] Authentication failed
             C: NOOP
             S: -ERR Not valid before login"
        ),
    );
    assert!(events.iter().any(|e| matches!(
        e,
        Event::AuthFailed {
            error: Some(mail_wire::sasl::SaslError::TooLong { .. }),
            ..
        }
    )));
}

#[test]
fn configured_texts_cannot_inject_lines() {
    let clock = SimClock::new();
    let mut config = config();
    config.greeting = "ready\r\n+OK injected".into();
    config.implementation = Some("sansmail\r\nUSER".into());
    assert_eq!(
        config.check(),
        Err(pop3_proto::ValueError::Octet { offset: 5 })
    );
    let mut server = Server::new(config, clock.now());
    assert_eq!(drain(&mut server), "+OK ready  +OK injected\r\n");
    let mut clean = ServerConfig::default();
    clean.languages = vec![("en".into(), "English".into())];
    assert_eq!(clean.check(), Ok(()));
    clean.languages.push(("i-default\n".into(), "x".into()));
    assert_eq!(
        clean.check(),
        Err(pop3_proto::ValueError::Octet { offset: 9 })
    );
}

/// Attack review (round 20): a client that keeps sending `CAPA` within the idle time (one
/// octet every 3 s makes a complete line about every 18 s) must not hold a slot before login
/// for ever: the login timeout also counts from the session's start, whatever the client
/// sends meanwhile (as imap-proto's and Dovecot's pre-login timeouts do).
#[test]
fn the_login_timeout_counts_from_the_session_start_whatever_the_client_sends() {
    let mut clock = SimClock::new();
    let start = clock.now();
    let mut server = Server::new(config(), start);
    drain(&mut server);
    let mut answered = 0;
    // One octet every 3 s: `CAPA\r\n` completes at 18 s, 36 s and 54 s.
    for octet in b"CAPA\r\n".repeat(3) {
        clock.advance(Duration::from_secs(3));
        server.feed(clock.now(), &[octet]);
        events(&mut server);
        if drain(&mut server).starts_with("+OK Capability list follows\r\n") {
            answered += 1;
        }
        server.handle_timeout(clock.now());
        assert!(!server.is_closed(), "closed at {:?}", clock.now() - start);
    }
    assert_eq!(answered, 3);
    // The idle time ran from 54 s, but the session must log in by 60 s.
    assert_eq!(server.poll_timeout(), Some(start + Duration::from_secs(60)));
    clock.advance(Duration::from_secs(5));
    server.feed(clock.now(), b"CA");
    events(&mut server);
    server.handle_timeout(clock.now());
    assert!(!server.is_closed());
    clock.advance(Duration::from_secs(1));
    server.handle_timeout(clock.now());
    assert_eq!(
        events(&mut server),
        [Event::Closed(Err(SessionError::Timeout))]
    );
    assert_eq!(drain(&mut server), "-ERR No login in time, closing\r\n");
}

/// The login deadline holds across STLS (the TLS handshake does not start it over) and a
/// refused maildrop (the client is still in AUTHORIZATION), and no longer applies once the
/// maildrop is open: then only the idle timeout after login counts.
#[test]
fn the_login_deadline_ends_at_login_and_not_before() {
    // STLS at 20 s: the idle time starts over, the deadline to log in does not.
    let mut clock = SimClock::new();
    let start = clock.now();
    let mut server = Server::new(ServerConfig::default(), start);
    clock.advance(Duration::from_secs(20));
    server.feed(clock.now(), b"STLS\r\n");
    assert_eq!(events(&mut server), [Event::StartTls]);
    server.tls_established(clock.now()).unwrap();
    drain(&mut server);
    assert_eq!(server.poll_timeout(), Some(start + Duration::from_secs(60)));
    clock.advance(Duration::from_secs(40));
    server.handle_timeout(clock.now());
    assert_eq!(
        events(&mut server),
        [Event::Closed(Err(SessionError::Timeout))]
    );
    assert_eq!(drain(&mut server), "-ERR No login in time, closing\r\n");

    // A refused maildrop ([IN-USE]) leaves the client before login: the deadline stands.
    let mut clock = SimClock::new();
    let start = clock.now();
    let mut server = Server::new(config(), start);
    clock.advance(Duration::from_secs(30));
    server.feed(clock.now(), b"USER admin\r\nPASS root pw\r\n");
    let seen = events(&mut server);
    assert!(
        seen.iter()
            .any(|e| matches!(e, Event::OpenMaildrop { user } if user == "admin")),
        "{seen:?}"
    );
    server.handle_timeout(clock.now()); // the idle time restarts after the decisions
    assert!(drain(&mut server).ends_with("-ERR [IN-USE] maildrop locked\r\n"));
    assert_eq!(server.poll_timeout(), Some(start + Duration::from_secs(60)));
    clock.advance(Duration::from_secs(30));
    server.handle_timeout(clock.now());
    assert!(server.is_closed());
    assert_eq!(drain(&mut server), "-ERR No login in time, closing\r\n");

    // Logged in at 50 s: past 60 s the session goes on, idle until 50 s + 10 minutes.
    let mut clock = SimClock::new();
    let start = clock.now();
    let mut server = Server::new(config(), start);
    clock.advance(Duration::from_secs(50));
    server.feed(clock.now(), b"USER alice\r\nPASS secret\r\n");
    events(&mut server);
    server.handle_timeout(clock.now());
    events(&mut server);
    assert_eq!(
        drain(&mut server),
        "+OK POP3 server ready\r\n+OK Send PASS\r\n+OK maildrop has 2 messages (60 octets)\r\n"
    );
    let after_login = start + Duration::from_secs(50) + Duration::from_secs(600);
    assert_eq!(server.poll_timeout(), Some(after_login));
    clock.advance(Duration::from_secs(30));
    server.handle_timeout(clock.now());
    server.feed(clock.now(), b"STAT\r\n");
    events(&mut server);
    assert_eq!(drain(&mut server), "+OK 2 60\r\n");
    assert!(!server.is_closed());
}
