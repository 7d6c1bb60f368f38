//! Our client against our server in memory (`mail_testkit::Pair`), on a simulated clock,
//! under every chunking: login with STLS, listing, streamed RETR, DELE and QUIT.

mod review;

use std::time::Duration;

use mail_testkit::users::{Users, server_nonce};
use mail_testkit::{Chunking, Pair, Side, SimClock};
use mail_wire::Secret;
use pop3_proto::Uid;
use pop3_proto::client::{self, Client, ClientConfig, Credentials};
use pop3_proto::server::{self, MessageInfo, Server, ServerConfig};

const MESSAGE: &[u8] = b"Subject: pair\r\n\r\n.starts with a dot\r\nbare\nLF\r\n";
/// What the client receives: the bare LF goes out as CRLF (RFC 1939 section 3).
const RECEIVED: &[u8] = b"Subject: pair\r\n\r\n.starts with a dot\r\nbare\r\nLF\r\n";

#[test]
fn stls_login_retrieve_delete_quit_in_every_chunking() {
    for chunking in Chunking::standard(9) {
        let clock = SimClock::new();
        let mut server_config = ServerConfig::default();
        server_config.auth_failure_delay = Duration::ZERO;
        let server = Server::new(server_config, clock.now());
        let credentials = Credentials::password("alice", Secret::new("secret".into()));
        let client = Client::new(ClientConfig::new(credentials), clock.now());
        let mut pair = Pair::new(client, server, clock).with_chunking(chunking.clone());
        pair.on_server_event(|server, event, _| match event {
            server::Event::AuthStep { .. } => server
                .auth_step(&Users::standard(), server_nonce())
                .unwrap(),
            server::Event::OpenMaildrop { .. } => server
                .open_maildrop(vec![MessageInfo::new(
                    RECEIVED.len() as u64,
                    Uid::new("only").unwrap(),
                )])
                .unwrap(),
            server::Event::Retrieve { .. } => {
                for piece in MESSAGE.chunks(7) {
                    server.send_message_data(piece).unwrap();
                }
                server.end_message().unwrap();
            }
            server::Event::Update { deleted } => {
                assert_eq!(deleted, &[0]);
                server.accept().unwrap();
            }
            _ => {}
        });
        pair.on_client_event(|client, event, now| match event {
            client::Event::LoggedIn => {
                client.uidl(now, None).unwrap();
                client.retr(now, 1).unwrap();
            }
            client::Event::MessageEnd { .. } => {
                client.dele(now, 1).unwrap();
                client.quit(now).unwrap();
            }
            _ => {}
        });
        pair.drive();
        assert_eq!(pair.client_ending(), Some(&Ok(())), "{chunking:?}");
        assert_eq!(pair.server_ending(), Some(&Ok(())), "{chunking:?}");
        assert_eq!(pair.tls_handshakes(), 1);
        let mut body = Vec::new();
        for event in pair.client_events() {
            if let client::Event::MessageChunk(chunk) = event {
                body.extend_from_slice(chunk);
            }
        }
        assert_eq!(body, RECEIVED, "{chunking:?}");
        let written = String::from_utf8_lossy(pair.written(Side::Client)).into_owned();
        assert!(
            written.starts_with("CAPA\r\nSTLS\r\nCAPA\r\nAUTH PLAIN "),
            "{written}"
        );
    }
}

/// Logs in with `credentials` against a server with `users`; returns the pair after QUIT.
fn login(credentials: Credentials, users: Users) -> Pair<Client, Server> {
    let clock = SimClock::new();
    let server = Server::new(ServerConfig::default(), clock.now());
    let client = Client::new(ClientConfig::new(credentials), clock.now());
    let mut pair = Pair::new(client, server, clock);
    pair.on_server_event(move |server, event, _| match event {
        server::Event::AuthStep { .. } => server.auth_step(&users, server_nonce()).unwrap(),
        server::Event::OpenMaildrop { .. } => server.open_maildrop(Vec::new()).unwrap(),
        _ => {}
    });
    pair.on_client_event(|client, event, now| {
        if let client::Event::LoggedIn = event {
            client.quit(now).unwrap();
        }
    });
    pair.drive();
    pair
}

#[test]
fn scram_sha256_when_offered_and_a_nonce_is_given() {
    let credentials = Credentials::password("alice", Secret::new("secret".into()))
        .with_scram_nonce(mail_testkit::users::client_nonce());
    let pair = login(credentials, Users::standard());
    assert_eq!(pair.client_ending(), Some(&Ok(())));
    let written = String::from_utf8_lossy(pair.written(Side::Client)).into_owned();
    assert!(written.contains("AUTH SCRAM-SHA-256 "), "{written}");
    assert!(!written.contains("secret"));
    assert!(pair.server_events().iter().any(|e| matches!(
        e,
        server::Event::Authenticated(a) if a.mechanism() == mail_wire::sasl::Mechanism::ScramSha256
    )));
}

#[test]
fn an_initial_response_too_long_for_the_line_waits_for_the_challenge() {
    let user = "u".repeat(200);
    let credentials = Credentials::password(user.clone(), Secret::new("secret".into()));
    let pair = login(
        credentials,
        Users::new().with_plain_password(&user, "secret"),
    );
    assert_eq!(pair.client_ending(), Some(&Ok(())));
    let written = String::from_utf8_lossy(pair.written(Side::Client)).into_owned();
    assert!(written.contains("AUTH PLAIN\r\n"), "{written}");
    for line in written.split("\r\n") {
        assert!(line.len() + 2 <= 255 || !line.starts_with("AUTH"), "{line}");
    }
}

/// A client and a server that would log in over STLS, with `injected` put on the wire toward
/// `reader` at the hand-off.
fn injected(reader: Side, injected: &[u8]) -> Pair<Client, Server> {
    let clock = SimClock::new();
    let server = Server::new(ServerConfig::default(), clock.now());
    let credentials = Credentials::password("alice", Secret::new("secret".into()));
    let client = Client::new(ClientConfig::new(credentials), clock.now());
    let mut pair = Pair::new(client, server, clock);
    pair.inject_on_start_tls(reader, injected);
    pair.on_server_event(|server, event, _| {
        if let server::Event::AuthStep { .. } = event {
            server
                .auth_step(&Users::standard(), server_nonce())
                .unwrap();
        }
    });
    pair.drive();
    pair
}

#[test]
fn plaintext_injected_toward_the_server_at_stls_closes_it() {
    let pair = injected(Side::Server, b"USER mallory\r\n");
    assert_eq!(
        pair.server_ending(),
        Some(&Err(server::SessionError::StartTlsInjection))
    );
    assert_eq!(pair.tls_handshakes(), 0);
    assert!(
        !pair
            .server_events()
            .iter()
            .any(|e| matches!(e, server::Event::AuthStep { .. }))
    );
}

#[test]
fn a_response_injected_toward_the_client_at_stls_is_refused() {
    let pair = injected(Side::Client, b"+OK\r\nUSER\r\n.\r\n");
    assert_eq!(
        pair.client_ending(),
        Some(&Err(client::SessionError::StartTlsInjection))
    );
    assert_eq!(pair.tls_handshakes(), 0);
    let written = String::from_utf8_lossy(pair.written(Side::Client)).into_owned();
    assert!(
        !written.contains("USER") && !written.contains("AUTH"),
        "{written}"
    );
}
