//! STARTTLS (RFC 3207) in memory: the hand-off, the state reset, no downgrade, and the
//! injection of plaintext after the `220` on either side.

use mail_testkit::{Chunking, Side};
use smtp_proto::client::{self, SessionError as ClientSessionError, TlsPolicy};
use smtp_proto::server::{self, BodyTransfer, HelloVerb, SessionError as ServerSessionError};

use crate::support::{Run, Scenario, chunkings, envelope, run_all};

const BODY: &[u8] = b"Subject: secret\r\n\r\nover TLS\r\n";

fn required() -> Scenario {
    let mut scenario = Scenario::relay();
    scenario.client.tls = TlsPolicy::Required;
    scenario.server.starttls = true;
    scenario
}

/// TlsPolicy::Required against a relay offering STARTTLS: EHLO, STARTTLS, the handshake,
/// EHLO again; the capabilities are read again (no STARTTLS on offer any more), the server
/// sees a second EHLO, and the message travels over "TLS".
#[test]
fn starttls_resets_state_and_rereads_capabilities() {
    let scenario = required().message(
        envelope("alice@client.example", &["bob@mx.example"]),
        &[BODY],
    );
    let run = run_all(&scenario, |run| {
        run.assert_quit();
        assert_eq!(run.pair.tls_handshakes(), 1);
        assert!(run.pair.client().is_tls() && run.pair.server().is_tls());
        assert_eq!(run.received(), [(BodyTransfer::Bdat, BODY.to_vec())]);
    });
    let capabilities: Vec<bool> = run
        .client
        .iter()
        .filter_map(|e| match e {
            client::Event::Capabilities(c) => Some(c.starttls),
            _ => None,
        })
        .collect();
    assert_eq!(capabilities, [true, false], "{run:#?}");
    let start_tls = run
        .client
        .iter()
        .position(|e| *e == client::Event::StartTls)
        .expect("client StartTls");
    let ready = run
        .client
        .iter()
        .position(|e| *e == client::Event::Ready)
        .expect("client Ready");
    assert!(start_tls < ready, "nothing is sent before TLS: {run:#?}");
    let hellos = run
        .server
        .iter()
        .filter(|e| {
            matches!(
                e,
                server::Event::Hello {
                    verb: HelloVerb::Ehlo,
                    ..
                }
            )
        })
        .count();
    assert_eq!(hellos, 2);
    assert_eq!(run.server[1], server::Event::StartTls);
    assert!(
        run.client_text()
            .starts_with("EHLO client.example\r\nSTARTTLS\r\nEHLO client.example\r\nMAIL FROM:"),
        "{}",
        run.client_text()
    );
}

/// No downgrade: TlsPolicy::Required against a server that does not offer STARTTLS; the
/// client sends nothing but QUIT and reports why.
#[test]
fn required_tls_not_offered_ends_with_quit() {
    let mut scenario = required().message(
        envelope("alice@client.example", &["bob@mx.example"]),
        &[BODY],
    );
    scenario.server.starttls = false;
    run_all(&scenario, |run| {
        assert_eq!(
            run.client_ending(),
            Some(&Err(ClientSessionError::TlsNotOffered))
        );
        assert_eq!(
            run.server_ending(),
            Some(&Ok(())),
            "the client said QUIT: {run:#?}"
        );
        assert_eq!(run.client_text(), "EHLO client.example\r\nQUIT\r\n");
        assert!(run.received().is_empty());
    });
}

/// Opportunistic TLS takes STARTTLS when offered.
#[test]
fn opportunistic_tls_upgrades() {
    let mut scenario = required().message(
        envelope("alice@client.example", &["bob@mx.example"]),
        &[BODY],
    );
    scenario.client.tls = TlsPolicy::Opportunistic;
    run_all(&scenario, |run| {
        run.assert_quit();
        assert_eq!(run.pair.tls_handshakes(), 1);
        assert_eq!(run.received().len(), 1);
    });
}

fn injected(reader: Side, bytes: &[u8], chunking: Chunking) -> Run {
    let scenario = required().message(
        envelope("alice@client.example", &["bob@mx.example"]),
        &[BODY],
    );
    let (mut pair, log) = scenario.pair(chunking);
    pair.inject_on_start_tls(reader, bytes);
    pair.drive();
    Run::new(pair, &log)
}

/// A response injected behind the server's `220` (RFC 3207 section 4.2, CVE-2021-38371
/// class), whole lines or a partial one, in the same read or a later one: the client ends
/// the session, sends nothing more, and no handshake happens.
#[test]
fn response_injection_after_the_220_ends_the_client() {
    for bytes in [
        &b"250 injected\r\n"[..],
        b"250-PIPELINING\r\n250 AUTH PLAIN\r\n",
        b"2",
    ] {
        for chunking in chunkings() {
            let run = injected(Side::Client, bytes, chunking.clone());
            assert_eq!(
                run.client_ending(),
                Some(&Err(ClientSessionError::StartTlsInjection)),
                "{chunking:?}: {run:#?}"
            );
            assert_eq!(run.pair.tls_handshakes(), 0);
            assert!(!run.pair.client().is_tls());
            assert_eq!(run.client_text(), "EHLO client.example\r\nSTARTTLS\r\n");
            assert_eq!(
                run.server_ending(),
                Some(&Err(ServerSessionError::PeerClosed {
                    in_transaction: false
                })),
                "{chunking:?}: {run:#?}"
            );
            assert!(run.received().is_empty());
        }
    }
}

/// A command injected behind the client's STARTTLS before the handshake (CVE-2011-0411):
/// the server ends the session and the client sees the connection close.
#[test]
fn command_injection_after_the_220_ends_the_server() {
    for bytes in [
        &b"MAIL FROM:<evil@example.org>\r\n"[..],
        b"NOOP\r\nNOOP\r\n",
        b"N",
    ] {
        for chunking in chunkings() {
            let run = injected(Side::Server, bytes, chunking.clone());
            assert_eq!(
                run.server_ending(),
                Some(&Err(ServerSessionError::StartTlsInjection)),
                "{chunking:?}: {run:#?}"
            );
            assert!(
                !run.server
                    .iter()
                    .any(|e| matches!(e, server::Event::Mail { .. }))
            );
            assert_eq!(run.pair.tls_handshakes(), 0);
            assert!(!run.pair.server().is_tls());
            assert_eq!(
                run.client_ending(),
                Some(&Err(ClientSessionError::ConnectionClosed)),
                "{chunking:?}: {run:#?}"
            );
            let server = run.server_text();
            assert!(
                server.ends_with("220 2.0.0 Ready to start TLS\r\n"),
                "{server}"
            );
        }
    }
}

/// A server that requires TLS and a client that never uses it: MAIL is refused with `530`
/// (RFC 3207 section 4); nothing is delivered, the session ends with QUIT.
#[test]
fn server_requiring_tls_refuses_a_plaintext_client() {
    let mut scenario = required().message(
        envelope("alice@client.example", &["bob@mx.example"]),
        &[BODY],
    );
    scenario.client.tls = TlsPolicy::Never;
    scenario.server.require_tls = true;
    let run = run_all(&scenario, |run| {
        run.assert_quit();
        assert!(run.received().is_empty());
        assert_eq!(run.pair.tls_handshakes(), 0);
    });
    let rejection = run.client.iter().find_map(|e| match e {
        client::Event::MessageRejected(client::Rejection::Sender(reply)) => Some(reply),
        _ => None,
    });
    assert_eq!(rejection.map(|r| r.code().get()), Some(530), "{run:#?}");
}
