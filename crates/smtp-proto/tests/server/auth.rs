//! AUTH (RFC 4954) with PLAIN, LOGIN and SCRAM-SHA-256: exchanges, failures, cancellation,
//! no AUTH before TLS unless configured, line limits, and failures past the error limit.

use mail_testkit::users::{self, CLIENT_NONCE, PASSWORD, SERVER_NONCE, USER, Users};
use mail_wire::Secret;
use mail_wire::sasl::framing::Response;
use mail_wire::sasl::{
    ClientSession, Mechanism, SaslError, ScramClientConfig, ServerSession, ServerStep, framing,
};
use smtp_proto::server::{AUTH_LINE_LIMIT, Event, HelloVerb, ServerConfig, SessionError};

use crate::harness::{
    Decision, Harness, Policy, accept_all, closed, domain, ehlo, hello, mail, reply,
};
use crate::{
    PLAIN_ALICE, PLAIN_WRONG, after_ehlo, after_ehlo_with, auth_config, auth_step, config,
    ehlo_reply, in_transaction, reply_esc, script_lines, tls_config,
};

const AUTH_MECHANISMS: &str = "SCRAM-SHA-256 PLAIN LOGIN";

/// The [`Event::Authenticated`] that a correct exchange of `mechanism` yields.
fn authenticated_event(mechanism: Mechanism, responses: &[&[u8]]) -> Event {
    let mut session = ServerSession::new(mechanism, users::server_nonce());
    for response in responses {
        if let ServerStep::Success(outcome) = session.step(&Users::standard(), response).unwrap() {
            return Event::Authenticated(outcome);
        }
    }
    panic!("the exchange did not succeed");
}

fn auth_failed(mechanism: Mechanism, error: SaslError, user: Option<&str>) -> Event {
    Event::AuthFailed {
        mechanism,
        error,
        user: user.map(str::to_owned),
    }
}

#[test]
fn auth_plain_with_initial_response() {
    let mut h = Harness::new(auth_config());
    assert!(h.server.is_tls());
    h.transcript(&format!(
        "S: 220 mx.example ESMTP ready
         C: EHLO c.example
         {}
         C: AUTH PLAIN {PLAIN_ALICE}
         S: 235 2.7.0 Authentication successful
         C: AUTH PLAIN {PLAIN_ALICE}
         S: 503 5.5.1 Already authenticated
         C: EHLO c.example
         {}",
        script_lines(&ehlo_reply("mx.example", false, Some(AUTH_MECHANISMS))),
        script_lines(&ehlo_reply("mx.example", false, None)),
    ));
    assert_eq!(
        h.events(),
        [
            ehlo("c.example"),
            auth_step(Mechanism::Plain),
            authenticated_event(Mechanism::Plain, &[b"\0alice\0secret"]),
            ehlo("c.example"),
        ]
    );
    let outcome = h.server.authenticated().expect("authenticated");
    assert_eq!(
        (outcome.identity(), outcome.mechanism()),
        ("alice", Mechanism::Plain)
    );
}

#[test]
fn auth_plain_without_initial_response() {
    let mut h = after_ehlo(auth_config());
    h.transcript(&format!(
        "C: AUTH PLAIN
         S: 334 
         C: {PLAIN_ALICE}
         S: 235 2.7.0 Authentication successful"
    ));
    assert_eq!(
        h.events(),
        [
            auth_step(Mechanism::Plain),
            auth_step(Mechanism::Plain),
            authenticated_event(Mechanism::Plain, &[b"\0alice\0secret"]),
        ]
    );
    assert!(h.server.authenticated().is_some());
}

#[test]
fn auth_login() {
    let mut h = after_ehlo(auth_config());
    h.transcript(
        "C: AUTH LOGIN
         S: 334 VXNlcm5hbWU6
         C: YWxpY2U=
         S: 334 UGFzc3dvcmQ6
         C: c2VjcmV0
         S: 235 2.7.0 Authentication successful",
    );
    assert_eq!(
        h.events(),
        [
            auth_step(Mechanism::Login),
            auth_step(Mechanism::Login),
            auth_step(Mechanism::Login),
            authenticated_event(Mechanism::Login, &[b"alice", b"secret"]),
        ]
    );
    assert_eq!(h.server.authenticated().unwrap().identity(), "alice");
}

/// Runs a SCRAM-SHA-256 exchange with `password`, driven by the mail-wire client.
/// Returns what the server sent after the client's final message.
fn scram_exchange(h: &mut Harness, password: &str) -> (String, ClientSession) {
    let mut client = ClientSession::scram_sha256(
        None,
        USER,
        Secret::new(password.to_owned()),
        users::client_nonce(),
        ScramClientConfig::default(),
    )
    .unwrap();
    let initial = client.initial_response().unwrap().unwrap();
    h.send(format!(
        "AUTH SCRAM-SHA-256 {}\r\n",
        framing::encode_initial_response(initial.expose()).expose()
    ));
    let out = h.take_out();
    let challenge = out
        .strip_prefix("334 ")
        .and_then(|c| c.strip_suffix("\r\n"))
        .unwrap_or_else(|| panic!("not a challenge: {out:?}"));
    let server_first = framing::decode_challenge(challenge.as_bytes()).unwrap();
    let expected_start = format!("r={CLIENT_NONCE}{SERVER_NONCE},s=");
    assert!(
        server_first.starts_with(expected_start.as_bytes()),
        "{}",
        String::from_utf8_lossy(&server_first)
    );
    let client_final = client.step(&server_first).unwrap();
    h.send(format!(
        "{}\r\n",
        framing::encode_response(client_final.expose()).expose()
    ));
    (h.take_out(), client)
}

#[test]
fn auth_scram_sha256_driven_by_the_sasl_client() {
    let mut h = after_ehlo(auth_config());
    let (out, mut client) = scram_exchange(&mut h, PASSWORD);
    let challenge = out
        .strip_prefix("334 ")
        .and_then(|c| c.strip_suffix("\r\n"))
        .unwrap_or_else(|| panic!("not a challenge: {out:?}"));
    let server_final = framing::decode_challenge(challenge.as_bytes()).unwrap();
    assert!(server_final.starts_with(b"v="));
    // The client checks the server signature and answers with an empty line.
    let ack = client.step(&server_final).unwrap();
    assert_eq!(ack.expose(), b"");
    assert_eq!(
        framing::decode_response(b""),
        Ok(Response::Data(Secret::new(vec![])))
    );
    h.send("\r\n");
    assert_eq!(h.take_out(), "235 2.7.0 Authentication successful\r\n");
    client.finish(None).unwrap();
    let events = h.events();
    assert_eq!(events[..3], vec![auth_step(Mechanism::ScramSha256); 3]);
    match &events[3..] {
        [Event::Authenticated(outcome)] => {
            assert_eq!(outcome.mechanism(), Mechanism::ScramSha256);
            assert_eq!(outcome.identity(), "alice");
            assert_eq!(h.server.authenticated(), Some(outcome));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn auth_scram_sha256_wrong_password() {
    let mut h = after_ehlo(auth_config());
    let (out, _) = scram_exchange(&mut h, "wrong");
    assert_eq!(out, "535 5.7.8 Authentication credentials invalid\r\n");
    assert_eq!(
        h.events(),
        [
            auth_step(Mechanism::ScramSha256),
            auth_step(Mechanism::ScramSha256),
            auth_failed(
                Mechanism::ScramSha256,
                SaslError::AuthenticationFailed,
                Some(USER)
            ),
        ]
    );
    assert!(h.server.authenticated().is_none());
}

#[test]
fn auth_wrong_password_then_right_one() {
    let mut h = after_ehlo(auth_config());
    h.transcript(&format!(
        "C: AUTH PLAIN {PLAIN_WRONG}
         S: 535 5.7.8 Authentication credentials invalid
         C: AUTH PLAIN {PLAIN_ALICE}
         S: 235 2.7.0 Authentication successful"
    ));
    assert_eq!(
        h.events(),
        [
            auth_step(Mechanism::Plain),
            auth_failed(
                Mechanism::Plain,
                SaslError::AuthenticationFailed,
                Some(USER)
            ),
            auth_step(Mechanism::Plain),
            authenticated_event(Mechanism::Plain, &[b"\0alice\0secret"]),
        ]
    );
}

#[test]
fn auth_cancelled_with_a_star() {
    let mut h = after_ehlo(auth_config());
    h.transcript(
        "C: AUTH LOGIN
         S: 334 VXNlcm5hbWU6
         C: *
         S: 501 5.0.0 Authentication cancelled
         C: AUTH LOGIN YWxpY2U=
         S: 334 UGFzc3dvcmQ6
         C: *
         S: 501 5.0.0 Authentication cancelled
         C: NOOP
         S: 250 2.0.0 Ok",
    );
    assert_eq!(
        h.events(),
        [
            auth_step(Mechanism::Login),
            auth_failed(Mechanism::Login, SaslError::Cancelled, None),
            auth_step(Mechanism::Login),
            auth_failed(Mechanism::Login, SaslError::Cancelled, Some(USER)),
        ]
    );
    assert!(h.server.authenticated().is_none());
}

#[test]
fn auth_protocol_errors() {
    let mut h = Harness::new(auth_config());
    h.take_out();
    h.transcript(&format!(
        "C: AUTH PLAIN {PLAIN_ALICE}
         S: 503 5.5.1 Send EHLO first
         C: HELO c.example
         C: AUTH PLAIN {PLAIN_ALICE}
         S: 250 mx.example
         S: 503 5.5.1 Send EHLO first"
    ));
    h.send("EHLO c.example\r\n");
    h.take_out();
    h.transcript(&format!(
        "C: AUTH CRAM-MD5
         S: 504 5.5.4 Unrecognized authentication type
         C: AUTH XOAUTH2 dXNlcj1h
         S: 504 5.5.4 Unrecognized authentication type
         C: AUTH PLAIN AHRpbQ
         S: 501 5.5.4 Syntax error: syntax error in base64 at byte 11
         C: AUTH PLAIN AHRpbR==
         S: 501 5.5.2 Cannot decode response
         C: AUTH LOGIN
         S: 334 VXNlcm5hbWU6
         C: YWxpY2U
         S: 501 5.5.2 Cannot decode response
         C: MAIL FROM:<a@c.example>
         C: AUTH PLAIN {PLAIN_ALICE}
         S: 250 2.1.0 Sender ok
         S: 503 5.5.1 AUTH not allowed during a mail transaction"
    ));
    let events = h.events();
    assert_eq!(
        events,
        [
            hello(HelloVerb::Helo, "c.example"),
            ehlo("c.example"),
            auth_step(Mechanism::Login),
            auth_failed(
                Mechanism::Login,
                SaslError::InvalidBase64 { offset: 7 },
                None
            ),
            mail("a@c.example"),
        ]
    );
}

/// The application may refuse an exchange outright (rate limiting, say).
#[test]
fn auth_step_rejected_by_the_application() {
    let policy: Policy = Box::new(|event| match event {
        Event::AuthStep { .. } => Decision::Reject(reply_esc(
            454,
            (4, 7, 0),
            "Temporary authentication failure".into(),
        )),
        _ => Decision::Accept,
    });
    let mut h = after_ehlo_with(auth_config(), policy);
    h.transcript(&format!(
        "C: AUTH PLAIN {PLAIN_ALICE}
         S: 454 4.7.0 Temporary authentication failure
         C: NOOP
         S: 250 2.0.0 Ok"
    ));
    assert_eq!(
        h.events(),
        [
            auth_step(Mechanism::Plain),
            auth_failed(Mechanism::Plain, SaslError::AuthenticationFailed, None),
        ]
    );
}

/// docs/design.md security rule 3: no AUTH before TLS unless configured.
#[test]
fn auth_not_offered_nor_accepted_before_tls() {
    let mut cfg = tls_config();
    cfg.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
    let mut h = Harness::new(cfg.clone());
    h.transcript(&format!(
        "S: 220 mx.example ESMTP ready
         C: EHLO c.example
         {}
         C: AUTH PLAIN {PLAIN_ALICE}
         S: 538 5.7.11 Encryption required for requested authentication mechanism
         C: AUTH LOGIN
         S: 538 5.7.11 Encryption required for requested authentication mechanism
         C: STARTTLS
         S: 220 2.0.0 Ready to start TLS
         C: EHLO c.example
         {}
         C: AUTH PLAIN {PLAIN_ALICE}
         S: 235 2.7.0 Authentication successful",
        script_lines(&ehlo_reply("mx.example", true, None)),
        script_lines(&ehlo_reply("mx.example", false, Some("PLAIN LOGIN"))),
    ));
    assert_eq!(
        h.events(),
        [
            ehlo("c.example"),
            Event::StartTls,
            ehlo("c.example"),
            auth_step(Mechanism::Plain),
            authenticated_event(Mechanism::Plain, &[b"\0alice\0secret"]),
        ]
    );
    // With TLS required the refusal says so.
    cfg.require_tls = true;
    let mut h = after_ehlo(cfg);
    h.transcript(&format!(
        "C: AUTH PLAIN {PLAIN_ALICE}
         S: 530 5.7.0 Must issue a STARTTLS command first"
    ));
    assert_eq!(h.events(), []);
}

#[test]
fn auth_after_starttls_forgets_nothing_it_should_not() {
    // Authentication never happened before TLS here, but a completed one must not survive a
    // hand-off either: with plaintext AUTH allowed, authenticate, then STARTTLS.
    let mut cfg = tls_config();
    cfg.auth_mechanisms = vec![Mechanism::Plain];
    cfg.allow_plaintext_auth = true;
    let mut h = after_ehlo(cfg);
    h.transcript(&format!(
        "C: AUTH PLAIN {PLAIN_ALICE}
         S: 235 2.7.0 Authentication successful
         C: STARTTLS
         S: 220 2.0.0 Ready to start TLS"
    ));
    assert!(h.server.authenticated().is_none());
    h.send("EHLO c.example\r\n");
    assert!(h.take_out().contains("250-AUTH PLAIN\r\n"));
}

#[test]
fn plaintext_auth_when_allowed() {
    let mut cfg = config("mx.example");
    cfg.auth_mechanisms = vec![Mechanism::Plain];
    cfg.allow_plaintext_auth = true;
    let mut h = Harness::new(cfg);
    h.transcript(&format!(
        "S: 220 mx.example ESMTP ready
         C: EHLO c.example
         {}
         C: AUTH PLAIN {PLAIN_ALICE}
         S: 235 2.7.0 Authentication successful",
        script_lines(&ehlo_reply("mx.example", false, Some("PLAIN"))),
    ));
    assert!(!h.server.is_tls());
    assert!(h.server.authenticated().is_some());
}

#[test]
fn require_auth_refuses_mail_until_authenticated() {
    let mut cfg = ServerConfig::submissions(domain("mx.example"));
    cfg.auth_failure_delay = std::time::Duration::ZERO;
    let mut h = after_ehlo(cfg);
    h.transcript(&format!(
        "C: MAIL FROM:<alice@mx.example>
         S: 530 5.7.0 Authentication required
         C: AUTH PLAIN {PLAIN_WRONG}
         C: MAIL FROM:<alice@mx.example>
         S: 535 5.7.8 Authentication credentials invalid
         S: 530 5.7.0 Authentication required
         C: AUTH PLAIN {PLAIN_ALICE}
         C: MAIL FROM:<alice@mx.example>
         S: 235 2.7.0 Authentication successful
         S: 250 2.1.0 Sender ok"
    ));
    assert_eq!(h.server.authenticated().unwrap().identity(), "alice");
}

#[test]
fn auth_during_a_mail_transaction_is_503() {
    // RFC 4954 section 4: AUTH is not permitted during a mail transaction.
    let mut config = config("mx.example");
    config.allow_plaintext_auth = true;
    config.auth_mechanisms = vec![Mechanism::Plain];
    let mut h = in_transaction(config);
    h.transcript(
        "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
         S: 503 5.5.1 AUTH not allowed during a mail transaction",
    );
    assert!(h.server.in_transaction());
    assert!(h.server.authenticated().is_none());
}

/// RFC 4954 section 4: AUTH lines may be 12288 octets; other commands keep the normal limit.
#[test]
fn auth_line_limit_applies_to_auth_only() {
    let mut h = after_ehlo(auth_config());
    h.auth = Box::new(Users::new().with_plain_password(USER, &"p".repeat(8984)));
    h.transcript(&format!(
        "C: NOOP {}
         C: NOOP
         S: 500 5.5.2 Line too long
         S: 250 2.0.0 Ok
         C: AUTH PLAIN {}
         C: NOOP
         S: 500 5.5.2 Line too long
         S: 250 2.0.0 Ok",
        "x".repeat(2995),
        "A".repeat(AUTH_LINE_LIMIT),
    ));
    let credentials = format!("\0alice\0{}", "p".repeat(8984));
    let line = format!(
        "AUTH PLAIN {}\r\n",
        framing::encode_response(credentials.as_bytes()).expose()
    );
    assert_eq!(line.len(), 12_001);
    h.send(line);
    assert_eq!(h.take_out(), "235 2.7.0 Authentication successful\r\n");
    let events = h.events();
    assert_eq!(events[0], auth_step(Mechanism::Plain));
    assert!(matches!(&events[1..], [Event::Authenticated(a)] if a.identity() == "alice"));
}

#[test]
fn auth_response_line_too_long() {
    let mut h = after_ehlo(auth_config());
    h.transcript(&format!(
        "C: AUTH LOGIN
         S: 334 VXNlcm5hbWU6
         C: {}
         C: NOOP
         S: 500 5.5.6 Authentication exchange line is too long
         S: 250 2.0.0 Ok",
        "A".repeat(framing::MAX_ENCODED_LEN + 8)
    ));
    let events = h.events();
    assert_eq!(events[0], auth_step(Mechanism::Login));
    assert!(
        matches!(
            &events[1..],
            [Event::AuthFailed {
                mechanism: Mechanism::Login,
                error: SaslError::TooLong { .. },
                user: None,
            }]
        ),
        "{events:?}"
    );
}

/// An authentication failure that passes the error limit: the failure is reported, then
/// the session closes, and nothing is sent after the `421`.
#[test]
fn auth_failures_past_the_error_limit() {
    let long = "A".repeat(framing::MAX_ENCODED_LEN + 8);
    let cases: [(&str, Policy, Event); 3] = [
        (
            "AUTH LOGIN\r\nYWxpY2U=\r\nd3Jvbmc=\r\n",
            accept_all(),
            auth_failed(
                Mechanism::Login,
                SaslError::AuthenticationFailed,
                Some(USER),
            ),
        ),
        (
            "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n",
            Box::new(|event| match event {
                Event::AuthStep { .. } => Decision::Reject(reply(454, "Try later")),
                _ => Decision::Accept,
            }),
            auth_failed(Mechanism::Plain, SaslError::AuthenticationFailed, None),
        ),
        (
            &*Box::leak(format!("AUTH LOGIN\r\n{long}\r\n").into_boxed_str()),
            accept_all(),
            Event::AuthFailed {
                mechanism: Mechanism::Login,
                error: SaslError::TooLong {
                    len: framing::MAX_ENCODED_LEN + 2,
                    limit: framing::MAX_ENCODED_LEN,
                },
                user: None,
            },
        ),
    ];
    for (wire, policy, failure) in cases {
        let mut cfg = auth_config();
        cfg.max_errors = 1;
        let mut h = after_ehlo_with(cfg, policy);
        h.send("FOO\r\n");
        assert_eq!(h.take_out(), "500 5.5.2 Command not recognized\r\n");
        h.send(wire);
        let out = h.take_out();
        assert!(
            out.ends_with("\r\n421 4.7.0 Too many errors, closing connection\r\n")
                || out == "421 4.7.0 Too many errors, closing connection\r\n",
            "{wire:?}: {out}"
        );
        let events = h.events();
        assert_eq!(
            events[events.len() - 2..],
            [failure, closed(Err(SessionError::TooManyErrors))],
            "{wire:?}"
        );
    }
}
