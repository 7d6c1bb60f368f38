//! Whole sessions: the example of RFC 1939 section 10 (with USER/PASS for APOP), CAPA by
//! state, LIST/UIDL/TOP/RETR, deletion only after QUIT, RSET, a dropped connection, IN-USE,
//! SASL PLAIN with and without an initial response, APOP off by default, UTF8 and LANG.

use pop3_proto::server::{Event, LoginMethod, ServerConfig, SessionError};

use crate::harness::{config, replay};

#[test]
fn rfc1939_section_10_example() {
    let events = replay(
        config(),
        r"S: +OK POP3 server ready
          C: USER alice
          S: +OK Send PASS
          C: PASS secret
          S: +OK maildrop has 2 messages (60 octets)
          C: STAT
          S: +OK 2 60
          C: LIST
          S: +OK 2 messages (60 octets)
          S: 1 23
          S: 2 37
          S: .
          C: RETR 1
          S: +OK Message follows
          S: Subject: one
          S:
          S: first
          S: .
          C: DELE 1
          S: +OK Message deleted
          C: RETR 2
          S: +OK Message follows
          S: Subject: two
          S:
          S: ..dot
          S: second
          S: third
          S: .
          C: DELE 2
          S: +OK Message deleted
          C: QUIT
          S: +OK Bye, deleted messages removed
          S! eof",
    );
    assert!(events.contains(&Event::Update {
        deleted: vec![0, 1]
    }));
    assert_eq!(events.last(), Some(&Event::Closed(Ok(()))));
}

#[test]
fn capa_depends_on_state_and_tls() {
    let mut plain = ServerConfig::default();
    plain.auth_failure_delay = std::time::Duration::ZERO;
    replay(
        plain,
        r"S: +OK POP3 server ready
          C: CAPA
          S: +OK Capability list follows
          S: TOP
          S: UIDL
          S: RESP-CODES
          S: AUTH-RESP-CODE
          S: PIPELINING
          S: STLS
          S: UTF8 USER
          S: .
          # no credentials before TLS (security rule 3.3)
          C: USER alice
          S: -ERR Use STLS first: no credentials before TLS
          C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
          S: -ERR Use STLS first: no credentials before TLS
          C: QUIT
          S: +OK Bye",
    );
    replay(
        config(),
        r"S: +OK POP3 server ready
          C: CAPA
          S: +OK Capability list follows
          S: TOP
          S: UIDL
          S: RESP-CODES
          S: AUTH-RESP-CODE
          S: PIPELINING
          S: USER
          S: SASL PLAIN SCRAM-SHA-256
          S: STLS
          S: UTF8 USER
          S: .
          C: USER alice
          C: PASS secret
          C: CAPA
          S: +OK Send PASS
          S: +OK maildrop has 2 messages (60 octets)
          S: +OK Capability list follows
          S: TOP
          S: UIDL
          S: RESP-CODES
          S: AUTH-RESP-CODE
          S: PIPELINING
          S: .",
    );
}

#[test]
fn uidl_top_rset_and_numbering() {
    replay(
        config(),
        r"S: +OK POP3 server ready
          C: USER alice
          C: PASS secret
          C: UIDL
          C: UIDL 2
          C: LIST 2
          C: TOP 2 1
          C: DELE 1
          C: DELE 1
          C: LIST 1
          C: RETR 1
          C: STAT
          C: RSET
          C: LIST 1
          C: RETR 3
          C: TOP 0 1
          C: QUIT
          S: +OK Send PASS
          S: +OK maildrop has 2 messages (60 octets)
          S: +OK
          S: 1 uid-1
          S: 2 uid-2
          S: .
          S: +OK 2 uid-2
          S: +OK 2 37
          S: +OK Message follows
          S: Subject: two
          S:
          S: ..dot
          S: .
          S: +OK Message deleted
          S: -ERR Message already deleted
          S: -ERR No such message
          S: -ERR No such message
          S: +OK 1 37
          S: +OK maildrop has 2 messages (60 octets)
          S: +OK 1 23
          S: -ERR No such message
          S: -ERR No such message
          S: +OK Bye",
    );
}

#[test]
fn dropped_connection_deletes_nothing() {
    let events = replay(
        config(),
        r"S: +OK POP3 server ready
          C: USER alice
          C: PASS secret
          C: DELE 1
          S: +OK Send PASS
          S: +OK maildrop has 2 messages (60 octets)
          S: +OK Message deleted
          C! eof",
    );
    assert!(!events.iter().any(|e| matches!(e, Event::Update { .. })));
    assert_eq!(
        events.last(),
        Some(&Event::Closed(Err(SessionError::PeerClosed {
            logged_in: true
        })))
    );
}

#[test]
fn maildrop_in_use_keeps_authorization() {
    replay(
        config(),
        r"S: +OK POP3 server ready
          C: USER admin
          C: PASS root pw
          C: STAT
          C: USER alice
          C: PASS secret
          S: +OK Send PASS
          S: -ERR [IN-USE] maildrop locked
          S: -ERR Not valid before login
          S: +OK Send PASS
          S: +OK maildrop has 2 messages (60 octets)",
    );
}

#[test]
fn sasl_plain_with_and_without_initial_response() {
    let events = replay(
        config(),
        r"S: +OK POP3 server ready
          C: AUTH PLAIN AGFsaWNlAHdyb25n
          S: -ERR [AUTH] Authentication failed
          C: AUTH PLAIN
          S: +\x20
          C: AGFsaWNlAHNlY3JldA==
          S: +OK maildrop has 2 messages (60 octets)",
    );
    assert!(events.contains(&Event::AuthFailed {
        method: LoginMethod::Sasl(mail_wire::sasl::Mechanism::Plain),
        error: Some(mail_wire::sasl::SaslError::AuthenticationFailed),
        user: Some("alice".into()),
    }));
}

#[test]
fn sasl_cancel_and_unknown_mechanism() {
    replay(
        config(),
        r"S: +OK POP3 server ready
          C: AUTH PLAIN
          S: +\x20
          C: *
          S: -ERR Authentication cancelled
          C: AUTH CRAM-MD5
          S: -ERR Unsupported authentication mechanism",
    );
}

#[test]
fn apop_is_off_by_default_and_on_when_configured() {
    replay(
        config(),
        r"S: +OK POP3 server ready
          C: APOP alice c4c9334bac560ecc979e58001b3e22fb
          S: -ERR APOP is not offered",
    );
    let mut apop = config();
    apop.apop_timestamp = Some("<1896.697170952@dbc.mtview.ca.us>".into());
    let transcript = mail_testkit::Transcript::new(
        r"S: +OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>
          C: APOP mrose c4c9334bac560ecc979e58001b3e22fb
          S: +OK maildrop has 2 messages (60 octets)",
    );
    let clock = mail_testkit::SimClock::new();
    let mut server = pop3_proto::server::Server::new(apop, clock.now());
    let mut seen = Vec::new();
    mail_testkit::transcript::replay(
        &mut server,
        mail_testkit::Side::Server,
        &transcript,
        &clock,
        mail_testkit::Chunking::Whole,
        |server, event, _| {
            match &event {
                Event::Apop { digest, .. } => {
                    // RFC 1939 section 7's example digest for the secret "tanstaaf".
                    assert_eq!(digest, "c4c9334bac560ecc979e58001b3e22fb");
                    server.accept().unwrap();
                }
                Event::OpenMaildrop { .. } => {
                    server.open_maildrop(crate::harness::maildrop()).unwrap()
                }
                _ => {}
            }
            seen.push(event);
        },
    );
    assert!(seen.contains(&Event::OpenMaildrop {
        user: "mrose".into()
    }));
}

#[test]
fn utf8_and_lang() {
    let mut langs = config();
    langs.languages = vec![
        ("en".into(), "English".into()),
        ("de".into(), "Deutsch".into()),
    ];
    let events = replay(
        langs,
        r"S: +OK POP3 server ready
          C: UTF8
          S: +OK UTF8 enabled
          C: LANG
          S: +OK Language listing follows
          S: en English
          S: de Deutsch
          S: .
          C: LANG DE
          S: +OK de Language changed
          C: LANG fr
          S: -ERR Unsupported language
          C: LANG *
          S: +OK en Language changed",
    );
    assert!(events.contains(&Event::Utf8));
}

#[test]
fn commands_in_the_wrong_state_and_unknown_ones() {
    replay(
        config(),
        r"S: +OK POP3 server ready
          C: STAT
          S: -ERR Not valid before login
          C: PASS secret
          S: -ERR Send USER first
          C: XYZZY
          S: -ERR Unknown command
          C: RETR one
          S: -ERR Syntax error in arguments
          C: USER alice
          C: PASS secret
          C: USER alice
          C: STLS
          S: +OK Send PASS
          S: +OK maildrop has 2 messages (60 octets)
          S: -ERR Not valid after login
          S: -ERR Not valid after login",
    );
}

#[test]
fn a_login_refused_by_the_application_carries_its_code() {
    let transcript = mail_testkit::Transcript::new(
        r"S: +OK POP3 server ready
          C: USER alice
          C: PASS secret
          S: +OK Send PASS
          S: -ERR [SYS/TEMP] credential store unavailable",
    );
    let clock = mail_testkit::SimClock::new();
    let mut server = pop3_proto::server::Server::new(config(), clock.now());
    let mut seen = Vec::new();
    mail_testkit::transcript::replay(
        &mut server,
        mail_testkit::Side::Server,
        &transcript,
        &clock,
        mail_testkit::Chunking::Whole,
        |server, event, _| {
            if let Event::AuthStep { .. } = event {
                server
                    .reject(
                        Some(pop3_proto::RespCode::SysTemp),
                        "credential store unavailable",
                    )
                    .unwrap();
            }
            seen.push(event);
        },
    );
    assert!(seen.contains(&Event::AuthFailed {
        method: LoginMethod::UserPass,
        error: None,
        user: Some("alice".into()),
    }));
}

#[test]
fn capa_advertises_expire_login_delay_and_implementation_when_configured() {
    let mut config = config();
    config.expire = Some("60".into());
    config.login_delay = Some(900);
    config.implementation = Some("sansmail-pop3".into());
    config.sasl_mechanisms = Vec::new();
    config.utf8 = false;
    replay(
        config,
        r"S: +OK POP3 server ready
          C: CAPA
          S: +OK Capability list follows
          S: TOP
          S: UIDL
          S: RESP-CODES
          S: AUTH-RESP-CODE
          S: PIPELINING
          S: EXPIRE 60
          S: LOGIN-DELAY 900
          S: USER
          S: STLS
          S: IMPLEMENTATION sansmail-pop3
          S: .
          C: AUTH PLAIN
          S: -ERR Unsupported authentication mechanism",
    );
}

#[test]
fn invalid_utf8_in_a_command_is_refused() {
    replay(
        config(),
        r"S: +OK POP3 server ready
          C: USER al\xffice
          S: -ERR Command is not valid UTF-8
          C: USER ålice
          S: +OK Send PASS",
    );
}

/// Runs `script` once, whole, answering with `on_event` instead of the standard answers.
fn replay_with(
    script: &str,
    mut on_event: impl FnMut(&mut pop3_proto::server::Server, &Event),
) -> Vec<Event> {
    let transcript = mail_testkit::Transcript::new(script);
    let clock = mail_testkit::SimClock::new();
    let mut server = pop3_proto::server::Server::new(config(), clock.now());
    let mut seen = Vec::new();
    mail_testkit::transcript::replay(
        &mut server,
        mail_testkit::Side::Server,
        &transcript,
        &clock,
        mail_testkit::Chunking::Whole,
        |server, event, _| {
            on_event(server, &event);
            seen.push(event);
        },
    );
    seen
}

#[test]
fn a_vanished_message_gets_an_error_and_numbering_stays() {
    replay_with(
        r"S: +OK POP3 server ready
          C: USER alice
          C: PASS secret
          C: RETR 1
          C: RETR 2
          C: LIST
          S: +OK Send PASS
          S: +OK maildrop has 2 messages (60 octets)
          S: -ERR Message was removed by another session
          S: +OK Message follows
          S: Subject: two
          S:
          S: ..dot
          S: second
          S: third
          S: .
          S: +OK 2 messages (60 octets)
          S: 1 23
          S: 2 37
          S: .",
        |server, event| match event {
            Event::Retrieve { index: 0, .. } => server
                .reject(None, "Message was removed by another session")
                .unwrap(),
            other => crate::harness::answer(server, other),
        },
    );
}

#[test]
fn a_failed_update_still_ends_the_session() {
    let events = replay_with(
        r"S: +OK POP3 server ready
          C: USER alice
          C: PASS secret
          C: DELE 2
          C: QUIT
          S: +OK Send PASS
          S: +OK maildrop has 2 messages (60 octets)
          S: +OK Message deleted
          S: -ERR [SYS/TEMP] Some deleted messages not removed
          S! eof",
        |server, event| match event {
            Event::Update { deleted } => {
                assert_eq!(deleted, &[1]);
                server
                    .reject(
                        Some(pop3_proto::RespCode::SysTemp),
                        "Some deleted messages not removed",
                    )
                    .unwrap()
            }
            other => crate::harness::answer(server, other),
        },
    );
    assert_eq!(events.last(), Some(&Event::Closed(Ok(()))));
}

#[test]
fn shutdown_deletes_nothing() {
    let clock = mail_testkit::SimClock::new();
    let mut server = pop3_proto::server::Server::new(config(), clock.now());
    server.feed(clock.now(), b"USER alice\r\nPASS secret\r\nDELE 1\r\n");
    while let Some(event) = server.poll_event() {
        crate::harness::answer(&mut server, &event);
        assert!(!matches!(event, Event::Update { .. }));
    }
    server.shutdown();
    assert_eq!(
        server.poll_event(),
        Some(Event::Closed(Err(SessionError::Shutdown)))
    );
    let mut out = Vec::new();
    while let Some(bytes) = server.poll_transmit() {
        out.extend_from_slice(&bytes);
    }
    assert!(out.ends_with(b"+OK Message deleted\r\n-ERR [SYS/TEMP] Server shutting down\r\n"));
    assert!(server.is_closed());
}
