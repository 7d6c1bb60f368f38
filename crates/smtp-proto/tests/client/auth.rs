//! AUTH (RFC 4954): PLAIN, LOGIN, XOAUTH2 and SCRAM-SHA-256 against a real server session,
//! the choice of mechanism, failures, no AUTH in plaintext unless allowed, and credentials
//! kept out of debug output.

use std::time::Instant;

use mail_testkit::users::{self, Users};
use mail_wire::Secret;
use mail_wire::sasl::framing::Response;
use mail_wire::sasl::{Mechanism, SaslError, ServerSession, ServerStep, framing};
use smtp_proto::AuthMechanisms;
use smtp_proto::client::{Client, Credentials, Event, SessionError};

use crate::harness::{App, QuitWhen, Session, config, replay, reply, transcript};
use crate::{Direct, alice, auth_config, closed_with, drain, feed_replies};

fn auth_session(credentials: Credentials, ehlo: &str, rest: &str) -> Session {
    let steps = transcript(&format!(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250-mx.example
        S: 250 {ehlo}
        {rest}
        "
    ));
    replay(
        auth_config(credentials),
        App::new(vec![], QuitWhen::Ready),
        &steps,
    )
}

#[test]
fn auth_plain() {
    let session = auth_session(
        alice(),
        "AUTH PLAIN",
        "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
         S: 235 2.7.0 Authentication successful
         C: QUIT
         S: 221 Bye",
    );
    assert!(
        session
            .events
            .contains(&Event::Authenticated(Mechanism::Plain))
    );
}

#[test]
fn auth_login() {
    let session = auth_session(
        alice(),
        "AUTH LOGIN",
        "C: AUTH LOGIN
         S: 334 VXNlcm5hbWU6
         C: YWxpY2U=
         S: 334 UGFzc3dvcmQ6
         C: c2VjcmV0
         S: 235 2.7.0 Authentication successful
         C: QUIT
         S: 221 Bye",
    );
    assert_eq!(session.client.authenticated(), Some(Mechanism::Login));
}

#[test]
fn the_best_offered_mechanism_is_chosen() {
    // PLAIN over LOGIN whatever the server's order; SCRAM needs a nonce.
    let session = auth_session(
        alice(),
        "AUTH LOGIN SCRAM-SHA-256 plain",
        "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
         S: 235 2.7.0 Ok
         C: QUIT
         S: 221 Bye",
    );
    assert_eq!(session.client.authenticated(), Some(Mechanism::Plain));

    // The configured preference list restricts the choice.
    let mut config = auth_config(alice());
    config.auth_mechanisms = vec![Mechanism::Login];
    let steps = transcript(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250-mx.example
        S: 250 AUTH PLAIN LOGIN
        C: AUTH LOGIN
        S: 535 5.7.8 No
        C: QUIT
        ",
    );
    replay(config, App::new(vec![], QuitWhen::Ready), &steps);
}

#[test]
fn auth_failure_ends_the_session() {
    let session = auth_session(
        alice(),
        "AUTH PLAIN",
        "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
         S: 535 5.7.8 Authentication credentials invalid
         C: QUIT",
    );
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::AuthFailed {
            mechanism: Mechanism::Plain,
            reply: reply("535 5.7.8 Authentication credentials invalid\r\n"),
            server_error: None,
        })
    );
    assert!(!session.events.contains(&Event::Ready));
}

#[test]
fn no_auth_in_plaintext_unless_allowed() {
    let mut config = config("client.example");
    config.credentials = Some(alice());
    let steps = transcript(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250-mx.example
        S: 250 AUTH PLAIN LOGIN
        C: QUIT
        ",
    );
    let session = replay(config.clone(), App::new(vec![], QuitWhen::Ready), &steps);
    assert_eq!(closed_with(&session), &Err(SessionError::AuthRequiresTls));

    config.allow_plaintext_auth = true;
    let steps = transcript(
        "
        S: 220 mx.example ESMTP
        C: EHLO client.example
        S: 250-mx.example
        S: 250 AUTH PLAIN LOGIN
        C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
        S: 235 2.7.0 Ok
        C: QUIT
        S: 221 Bye
        ",
    );
    replay(config, App::new(vec![], QuitWhen::Ready), &steps);
}

#[test]
fn unusable_credentials_end_the_session() {
    let session = auth_session(alice(), "SIZE", "C: QUIT");
    assert_eq!(closed_with(&session), &Err(SessionError::AuthNotOffered));

    let session = auth_session(alice(), "AUTH CRAM-MD5 XOAUTH2", "C: QUIT");
    let mut offered = AuthMechanisms::new();
    offered.push("CRAM-MD5").unwrap();
    offered.push("XOAUTH2").unwrap();
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::NoCommonMechanism { offered })
    );
}

#[test]
fn xoauth2_failure_carries_the_server_error() {
    let token = Credentials::bearer_token("alice", Secret::new("ya29.token".into()));
    let session = auth_session(
        token,
        "AUTH XOAUTH2 PLAIN",
        "C: AUTH XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciB5YTI5LnRva2VuAQE=
         S: 334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=
         C:
         S: 535 5.7.8 Username and Password not accepted
         C: QUIT",
    );
    assert_eq!(
        closed_with(&session),
        &Err(SessionError::AuthFailed {
            mechanism: Mechanism::XOAuth2,
            reply: reply("535 5.7.8 Username and Password not accepted\r\n"),
            server_error: Some(r#"{"status":"401","schemes":"bearer"}"#.into()),
        })
    );
}

#[test]
fn a_long_initial_response_waits_for_the_servers_challenge() {
    // RFC 4954 section 4: an AUTH line over 512 octets may not carry the initial response.
    let token = "a".repeat(600);
    let credentials = Credentials::bearer_token("alice", Secret::new(token.clone()));
    let message = format!("user=alice\x01auth=Bearer {token}\x01\x01");
    let encoded = framing::encode_response(message.as_bytes());
    let session = auth_session(
        credentials,
        "AUTH XOAUTH2",
        &format!(
            "C: AUTH XOAUTH2
             S: 334
             C: {}
             S: 235 2.7.0 Ok
             C: QUIT
             S: 221 Bye",
            encoded.expose()
        ),
    );
    assert_eq!(session.client.authenticated(), Some(Mechanism::XOAuth2));
}

fn scram_client() -> Direct {
    let credentials = Credentials::password("user", Secret::new("pencil".into()))
        .with_scram_nonce(users::client_nonce());
    let mut client = Direct::new(Client::new(auth_config(credentials), Instant::now()));
    feed_replies(
        &mut client,
        Instant::now(),
        b"220 mx.example\r\n250-mx.example\r\n250 AUTH PLAIN SCRAM-SHA-256\r\n",
    );
    client
}

/// The client's next line, without CRLF and the given prefix.
fn next_line(client: &mut Direct, prefix: &str) -> Vec<u8> {
    let (_, out) = drain(client);
    let line = out.strip_suffix(b"\r\n").expect("one line").to_vec();
    line.strip_prefix(prefix.as_bytes())
        .unwrap_or_else(|| panic!("{:?} lacks {prefix:?}", String::from_utf8_lossy(&line)))
        .to_vec()
}

#[test]
fn auth_scram_sha256_against_a_real_server_session() {
    let store = Users::new().with_scram("user", users::scram_keys("pencil"));
    let mut server = ServerSession::new(Mechanism::ScramSha256, users::server_nonce());
    let mut client = scram_client();
    let now = Instant::now();
    let initial = next_line(&mut client, "EHLO client.example\r\nAUTH SCRAM-SHA-256 ");
    let mut response = framing::decode_initial_response(&initial).unwrap();
    let mut rounds = 0;
    loop {
        match server.step(&store, response.expose()).unwrap() {
            ServerStep::Challenge(challenge) => {
                rounds += 1;
                let line = format!("334 {}\r\n", framing::encode_challenge(&challenge));
                client.feed(now, line.as_bytes());
                let line = next_line(&mut client, "");
                response = match framing::decode_response(&line).unwrap() {
                    Response::Data(data) => data,
                    Response::Cancel => panic!("client cancelled"),
                };
            }
            ServerStep::Success(authenticated) => {
                assert_eq!(authenticated.identity(), "user");
                break;
            }
        }
    }
    assert_eq!(rounds, 2, "server-first, then server-final as a challenge");
    client.feed(now, b"235 2.7.0 Authentication successful\r\n");
    let (events, _) = drain(&mut client);
    assert_eq!(
        &events[events.len() - 2..],
        [Event::Authenticated(Mechanism::ScramSha256), Event::Ready]
    );
}

#[test]
fn a_scram_server_that_cannot_prove_itself_is_cancelled() {
    let store = Users::new().with_scram("user", users::scram_keys("pencil"));
    let mut server = ServerSession::new(Mechanism::ScramSha256, users::server_nonce());
    let mut client = scram_client();
    let now = Instant::now();
    let initial = next_line(&mut client, "EHLO client.example\r\nAUTH SCRAM-SHA-256 ");
    let first = framing::decode_initial_response(&initial).unwrap();
    let ServerStep::Challenge(challenge) = server.step(&store, first.expose()).unwrap() else {
        panic!("server-first expected");
    };
    client.feed(
        now,
        format!("334 {}\r\n", framing::encode_challenge(&challenge)).as_bytes(),
    );
    next_line(&mut client, "");
    // A forged server-final: the signature of an impostor.
    let forged = format!("v={}", framing::encode_challenge(&[0u8; 32]));
    client.feed(
        now,
        format!("334 {}\r\n", framing::encode_challenge(forged.as_bytes())).as_bytes(),
    );
    assert_eq!(next_line(&mut client, ""), b"*");
    client.feed(now, b"501 5.7.0 Authentication cancelled\r\n");
    let (events, out) = drain(&mut client);
    assert_eq!(
        events,
        [Event::Closed(Err(SessionError::Sasl(
            SaslError::ServerSignatureMismatch
        )))]
    );
    assert_eq!(out, b"QUIT\r\n");
}

#[test]
fn a_malformed_challenge_is_cancelled() {
    let session = auth_session(
        alice(),
        "AUTH LOGIN",
        "C: AUTH LOGIN
         S: 334 not base64!
         C: *
         S: 501 5.7.0 Cancelled
         C: QUIT",
    );
    assert!(matches!(
        closed_with(&session),
        Err(SessionError::Sasl(SaslError::InvalidBase64 { .. }))
    ));
}

#[test]
fn debug_output_never_shows_credentials() {
    let credentials = Credentials::password("alice", Secret::new("tr0ub4dor".into()));
    let mut client = Direct::new(Client::new(auth_config(credentials), Instant::now()));
    feed_replies(
        &mut client,
        Instant::now(),
        b"220 mx.example\r\n250-mx.example\r\n250 AUTH PLAIN\r\n",
    );
    // The AUTH line is waiting in the output buffer.
    let printed = format!("{:?} {:?}", client.client, client.config());
    assert!(!printed.contains("tr0ub4dor"), "{printed}");
    assert!(!printed.contains("AGFsaWNlAHRyMHViNGRvcg"), "{printed}");
    assert_eq!(
        drain(&mut client).1,
        b"EHLO client.example\r\nAUTH PLAIN AGFsaWNlAHRyMHViNGRvcg==\r\n"
    );
}

/// Credentials go out as pieces marked secret, whatever the server says around them: the
/// initial response after a plain `AUTH PLAIN `, each LOGIN response whole. `poll_transmit`
/// returns the same bytes unmarked.
#[test]
fn sasl_responses_are_marked_secret() {
    use mail_wire::session::Transmit;

    fn marked(client: &mut Client) -> Vec<Transmit> {
        std::iter::from_fn(|| client.poll_transmit_marked()).collect()
    }
    let plain = |bytes: &'static [u8]| Transmit::Plain(bytes::Bytes::from_static(bytes));
    let secret = |bytes: &'static [u8]| Transmit::Secret(bytes::Bytes::from_static(bytes));

    // Driven directly: everything queued is taken (marked) before each read.
    let now = Instant::now();
    let credentials = Credentials::password("alice", Secret::new("tr0ub4dor".into()));
    let mut client = Client::new(auth_config(credentials.clone()), now);
    client.feed(now, b"220 mx.example\r\n");
    assert_eq!(marked(&mut client), [plain(b"EHLO client.example\r\n")]);
    client.feed(now, b"250-mx.example\r\n250 AUTH PLAIN\r\n");
    assert_eq!(
        marked(&mut client),
        [
            plain(b"AUTH PLAIN "),
            secret(b"AGFsaWNlAHRyMHViNGRvcg==\r\n"),
        ]
    );
    client.feed(now, b"235 2.7.0 ok\r\n");
    client.quit(now);
    assert_eq!(marked(&mut client), [plain(b"QUIT\r\n")]);

    let mut config = auth_config(credentials);
    config.auth_mechanisms = vec![Mechanism::Login];
    let mut client = Client::new(config, now);
    let mut pieces = Vec::new();
    for read in [
        &b"220 mx.example\r\n"[..],
        b"250-mx.example\r\n250 AUTH LOGIN\r\n",
        b"334 VXNlcm5hbWU6\r\n",
        b"334 UGFzc3dvcmQ6\r\n",
    ] {
        pieces.extend(marked(&mut client));
        client.feed(now, read);
    }
    pieces.extend(marked(&mut client));
    assert_eq!(
        pieces,
        [
            plain(b"EHLO client.example\r\n"),
            plain(b"AUTH LOGIN\r\n"),
            secret(b"YWxpY2U=\r\n"),
            secret(b"dHIwdWI0ZG9y\r\n"),
        ]
    );
    // `poll_transmit` hands the same bytes over in one piece, whole lines.
    let mut client = Client::new(auth_config(alice()), now);
    client.feed(now, b"220 mx.example\r\n");
    let _ = client.poll_transmit();
    client.feed(now, b"250-mx.example\r\n250 AUTH PLAIN\r\n");
    let whole = client.poll_transmit().expect("the AUTH line");
    assert!(whole.starts_with(b"AUTH PLAIN ") && whole.ends_with(b"\r\n"));
    assert_eq!(client.poll_transmit(), None);
    // The secret's bytes never show in `Debug`.
    let shown = format!("{:?}", secret(b"dHIwdWI0ZG9y\r\n"));
    assert_eq!(shown, "Secret(<14 octets>)");
}
