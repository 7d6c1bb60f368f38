//! The STARTTLS boundary and implicit TLS over tokio streams: successful upgrades, injection in
//! both directions, unflushed output, and mode-mismatch diagnosis.
#![cfg(feature = "tokio")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Ca;
use futures_util::{SinkExt, StreamExt};
use mail_tls::tokio::{
    HandshakeOptions, accept_implicit, connect_implicit, starttls_accept_framed,
    starttls_connect_framed,
};
use mail_tls::{
    CertSet, ClientTls, Direction, Observed, ServerTls, Service, TlsError, server_name,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};
use tokio_util::codec::{Framed, LinesCodec};

fn configs() -> (
    Arc<mail_tls::rustls::ServerConfig>,
    Arc<mail_tls::rustls::ClientConfig>,
) {
    let ca = Ca::new();
    let leaf = ca.issue(&["localhost"], "Test");
    let mut set = CertSet::new();
    set.set_default(leaf.certified_key());
    let server = ServerTls::new(Service::Submission)
        .build_with_set(set)
        .unwrap();
    let client = ClientTls::custom_roots(ca.roots()).build().unwrap();
    (server, client)
}

fn opts() -> HandshakeOptions {
    HandshakeOptions::new(Duration::from_secs(5))
        .service(Service::Submission)
        .port(587)
}

const LIMIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn starttls_upgrade_then_fresh_codec() {
    let (server_cfg, client_cfg) = configs();
    let (a, b) = duplex(64 * 1024);
    let server = tokio::spawn(async move {
        let mut f = Framed::new(a, LinesCodec::new());
        f.send("220 localhost ESMTP").await.unwrap();
        assert_eq!(f.next().await.unwrap().unwrap(), "EHLO client");
        f.send("250-localhost\r\n250 STARTTLS").await.unwrap();
        assert_eq!(f.next().await.unwrap().unwrap(), "STARTTLS");
        f.send("220 2.0.0 Ready to start TLS").await.unwrap();
        let tls = starttls_accept_framed(server_cfg, f, opts()).await.unwrap();
        let mut f = Framed::new(tls, LinesCodec::new());
        assert_eq!(f.next().await.unwrap().unwrap(), "EHLO client");
        f.send("250 localhost").await.unwrap();
    });
    let client = async move {
        let mut f = Framed::new(b, LinesCodec::new());
        assert!(f.next().await.unwrap().unwrap().starts_with("220 "));
        f.send("EHLO client").await.unwrap();
        assert_eq!(f.next().await.unwrap().unwrap(), "250-localhost");
        assert_eq!(f.next().await.unwrap().unwrap(), "250 STARTTLS");
        f.send("STARTTLS").await.unwrap();
        assert!(f.next().await.unwrap().unwrap().starts_with("220 2.0.0"));
        let tls = starttls_connect_framed(client_cfg, server_name("localhost").unwrap(), f, opts())
            .await
            .unwrap();
        assert_eq!(
            tls.get_ref().1.protocol_version(),
            Some(mail_tls::rustls::ProtocolVersion::TLSv1_3)
        );
        let mut f = Framed::new(tls, LinesCodec::new());
        f.send("EHLO client").await.unwrap();
        assert_eq!(f.next().await.unwrap().unwrap(), "250 localhost");
    };
    tokio::time::timeout(LIMIT, async { tokio::join!(server, client).0.unwrap() })
        .await
        .unwrap();
}

/// The server reads `STARTTLS` with `payload` pipelined behind it, answers 220, and must refuse
/// to start TLS. Returns the server's error and everything the client received.
async fn server_side_injection(payload: &[u8]) -> (TlsError, Vec<u8>) {
    let (server_cfg, _) = configs();
    let (a, mut b) = duplex(64 * 1024);
    // The attacker's bytes are all in flight before the server reads anything.
    let mut attack = b"STARTTLS\r\n".to_vec();
    attack.extend_from_slice(payload);
    b.write_all(&attack).await.unwrap();
    let server = tokio::spawn(async move {
        let mut f = Framed::new(a, LinesCodec::new());
        assert_eq!(f.next().await.unwrap().unwrap(), "STARTTLS");
        f.send("220 2.0.0 Ready to start TLS").await.unwrap();
        starttls_accept_framed(server_cfg, f, opts())
            .await
            .map(|_| ())
            .unwrap_err()
    });
    let err = tokio::time::timeout(LIMIT, server).await.unwrap().unwrap();
    let mut seen = Vec::new();
    tokio::time::timeout(LIMIT, b.read_to_end(&mut seen))
        .await
        .unwrap()
        .unwrap();
    (err, seen)
}

#[tokio::test]
async fn server_rejects_whole_pipelined_command() {
    let (err, seen) = server_side_injection(b"NOOP\r\n").await;
    assert_eq!(
        err,
        TlsError::StartTlsInjection {
            direction: Direction::Inbound,
            len: 6,
            preview: "\"NOOP\\r\\n\"".into()
        }
    );
    // The session closed right after the reply: no TLS byte ever went out.
    assert_eq!(seen, b"220 2.0.0 Ready to start TLS\n");
}

#[tokio::test]
async fn server_rejects_partial_line_without_crlf() {
    let (err, seen) = server_side_injection(b"MAIL FROM:<attacker@example.org>").await;
    assert!(
        matches!(
            err,
            TlsError::StartTlsInjection {
                direction: Direction::Inbound,
                len: 32,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!seen.contains(&0x16));
}

#[tokio::test]
async fn server_rejects_even_a_tls_looking_byte() {
    // Even bytes that look like the start of a ClientHello are refused: they were read by the
    // plaintext codec, so they cannot be handed to TLS without a replay.
    let (err, _) = server_side_injection(b"\x16\x03\x01").await;
    assert!(matches!(err, TlsError::StartTlsInjection { len: 3, .. }));
}

#[tokio::test]
async fn client_rejects_injected_response_after_220() {
    let (_, client_cfg) = configs();
    let (a, mut b) = duplex(64 * 1024);
    let server = tokio::spawn(async move {
        let mut line = [0u8; 10];
        b.read_exact(&mut line).await.unwrap();
        assert_eq!(&line, b"STARTTLS\r\n");
        // A man in the middle appends a forged response to the real 220.
        b.write_all(b"220 2.0.0 Ready\r\n250-evil\r\n250 AUTH PLAIN\r\n")
            .await
            .unwrap();
        let mut rest = Vec::new();
        b.read_to_end(&mut rest).await.unwrap();
        rest
    });
    let client = async move {
        let mut f = Framed::new(a, LinesCodec::new());
        f.send("STARTTLS\r").await.unwrap();
        assert_eq!(f.next().await.unwrap().unwrap(), "220 2.0.0 Ready");
        starttls_connect_framed(client_cfg, server_name("localhost").unwrap(), f, opts())
            .await
            .map(|_| ())
            .unwrap_err()
    };
    let err = tokio::time::timeout(LIMIT, client).await.unwrap();
    assert!(
        matches!(
            err,
            TlsError::StartTlsInjection {
                direction: Direction::Inbound,
                len: 26,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("250-evil"));
    // No ClientHello was sent: the server saw EOF right after STARTTLS.
    let rest = tokio::time::timeout(LIMIT, server).await.unwrap().unwrap();
    assert!(rest.is_empty(), "{rest:?}");
}

#[tokio::test]
async fn unflushed_output_is_refused() {
    let (server_cfg, _) = configs();
    let (a, _b) = duplex(64 * 1024);
    let mut f = Framed::new(a, LinesCodec::new());
    // Queued, never flushed.
    f.feed("250 queued but not sent").await.unwrap();
    let err = starttls_accept_framed(server_cfg, f, opts())
        .await
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(
        err,
        TlsError::StartTlsInjection {
            direction: Direction::Outbound,
            ..
        }
    ));
}

#[tokio::test]
async fn implicit_tls_on_loopback_tcp() {
    let (server_cfg, client_cfg) = configs();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let mut tls = accept_implicit(server_cfg, sock, opts()).await.unwrap();
        tls.write_all(b"220 localhost ESMTP\r\n").await.unwrap();
        tls.shutdown().await.unwrap();
    });
    let sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = connect_implicit(client_cfg, server_name("localhost").unwrap(), sock, opts())
        .await
        .unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(LIMIT, tls.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, b"220 localhost ESMTP\r\n");
    let info = mail_tls::SessionInfo::from_connection(tls.get_ref().1);
    assert_eq!(info.peer_certificates[0].dns_names, ["localhost"]);
    server.await.unwrap();
}

#[tokio::test]
async fn implicit_client_on_plaintext_port_is_told_to_use_starttls() {
    let (_, client_cfg) = configs();
    let (a, mut b) = duplex(64 * 1024);
    // A plaintext SMTP server greets at once.
    b.write_all(b"220 mx.example.org ESMTP Postfix\r\n")
        .await
        .unwrap();
    let err = connect_implicit(client_cfg, server_name("localhost").unwrap(), a, opts())
        .await
        .map(|_| ())
        .unwrap_err();
    let TlsError::ModeMismatch(m) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(m.observed(), Observed::SmtpGreeting);
    let text = err.to_string();
    assert!(text.contains("plaintext SMTP greeting"), "{text}");
    assert!(text.contains("use STARTTLS on port 587"), "{text}");
    assert!(text.contains("implicit TLS on port 465"), "{text}");
}

#[tokio::test]
async fn implicit_server_receiving_plaintext_names_the_starttls_port() {
    let (server_cfg, _) = configs();
    let (a, mut b) = duplex(64 * 1024);
    b.write_all(b"EHLO client.example\r\n").await.unwrap();
    let opts = HandshakeOptions::new(Duration::from_secs(5))
        .service(Service::Submission)
        .port(465);
    let err = accept_implicit(server_cfg, a, opts)
        .await
        .map(|_| ())
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, TlsError::ModeMismatch(_)), "{err:?}");
    assert!(text.contains("\"EHLO client.example\\r\\n\""), "{text}");
    assert!(text.contains("port 587 and use STARTTLS"), "{text}");
}

#[tokio::test]
async fn silent_client_on_implicit_port_times_out_with_a_hint() {
    let (server_cfg, _) = configs();
    let (a, _b) = duplex(1024);
    let opts = HandshakeOptions::new(Duration::from_millis(200))
        .service(Service::Imap)
        .port(993);
    let err = accept_implicit(server_cfg, a, opts)
        .await
        .map(|_| ())
        .unwrap_err();
    let TlsError::HandshakeTimeout { after, hint } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*after, Duration::from_millis(200));
    assert!(
        hint.as_deref().unwrap().contains("connect it to port 143"),
        "{err}"
    );
}

/// Every handshake entry point gives up after its timeout when the peer stays silent (a
/// silent peer must not hold a connection slot).
#[tokio::test]
async fn every_handshake_times_out_on_a_silent_peer() {
    let (server_cfg, client_cfg) = configs();
    let short = || HandshakeOptions::new(Duration::from_millis(200));
    let timed_out = |err: TlsError| match err {
        TlsError::HandshakeTimeout { after, .. } => assert_eq!(after, Duration::from_millis(200)),
        other => panic!("{other:?}"),
    };
    // The peer ends are kept open and never answer.
    let (a, _silent) = duplex(64 * 1024);
    let name = server_name("localhost").unwrap();
    let result = tokio::time::timeout(
        LIMIT,
        connect_implicit(client_cfg.clone(), name, a, short()),
    )
    .await
    .expect("bounded");
    timed_out(result.map(|_| ()).unwrap_err());
    let (a, _silent) = duplex(64 * 1024);
    let result = tokio::time::timeout(
        LIMIT,
        mail_tls::tokio::starttls_accept(server_cfg, a, b"", b"", short()),
    )
    .await
    .expect("bounded");
    timed_out(result.map(|_| ()).unwrap_err());
    let (a, _silent) = duplex(64 * 1024);
    let name = server_name("localhost").unwrap();
    let result = tokio::time::timeout(
        LIMIT,
        mail_tls::tokio::starttls_connect(client_cfg, name, a, b"", b"", short()),
    )
    .await
    .expect("bounded");
    timed_out(result.map(|_| ()).unwrap_err());
}

/// `Sniffed` keeps the first `SNIFF_LEN` octets read through it, no more, however they arrive.
#[tokio::test]
async fn sniffed_keeps_only_the_first_bytes() {
    use mail_tls::tokio::{SNIFF_LEN, Sniffed};
    let (a, mut b) = duplex(1024);
    let sent: Vec<u8> = (0..=255u8).cycle().take(300).collect();
    b.write_all(&sent).await.unwrap();
    drop(b);
    let mut sniffed = Sniffed::new(a);
    let mut piece = [0u8; 7];
    let mut got = Vec::new();
    loop {
        let n = sniffed.read(&mut piece).await.unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&piece[..n]);
    }
    assert_eq!(got, sent, "reads pass through unchanged");
    assert_eq!(sniffed.first_bytes(), &sent[..SNIFF_LEN]);
}

#[tokio::test]
async fn plaintext_port_detects_client_hello() {
    let (_, client_cfg) = configs();
    let (a, mut b) = duplex(64 * 1024);
    let client = tokio::spawn(async move {
        connect_implicit(client_cfg, server_name("localhost").unwrap(), a, opts())
            .await
            .map(|_| ())
    });
    // The plaintext server reads the first bytes before parsing a command.
    let mut first = [0u8; 16];
    let n = tokio::time::timeout(LIMIT, b.read(&mut first))
        .await
        .unwrap()
        .unwrap();
    let err =
        mail_tls::check_plaintext_port(Service::Submission, Some(2587), &first[..n]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("TLS handshake (implicit TLS) on submission port 2587"),
        "{text}"
    );
    assert!(text.contains("port 465 for implicit TLS"), "{text}");
    drop(b);
    assert!(client.await.unwrap().is_err());
}
