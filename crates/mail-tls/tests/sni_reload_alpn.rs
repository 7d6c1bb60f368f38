//! SNI selection, certificate reload under live sessions, ALPN (ALPACA) and verification modes,
//! with real rustls handshakes driven in memory.

mod common;

use std::sync::Arc;

use common::{Ca, TempDir, pump, pump_both};
use mail_tls::rustls::{ClientConnection, ServerConnection};
use mail_tls::{CertResolver, CertSet, CertSources, ClientTls, ServerTls, Service, server_name};

fn connect(
    client: &ClientTls,
    server: &Arc<mail_tls::rustls::ServerConfig>,
    sni: &str,
) -> (ClientConnection, ServerConnection) {
    let c = ClientConnection::new(client.build().unwrap(), server_name(sni).unwrap()).unwrap();
    let s = ServerConnection::new(server.clone()).unwrap();
    (c, s)
}

fn peer_cert(c: &ClientConnection) -> Vec<u8> {
    c.peer_certificates().unwrap()[0].as_ref().to_vec()
}

#[test]
fn sni_selects_per_name_and_falls_back_to_default() {
    let ca = Ca::new();
    let mx = ca.issue(&["mx.example.org"], "MX");
    let imap = ca.issue(&["imap.example.org"], "IMAP");
    let wild = ca.issue(&["*.users.example.org"], "Wild");
    let default = ca.issue(&["default.example.org"], "Default");
    let mut set = CertSet::new();
    set.insert("mx.example.org", mx.certified_key()).unwrap();
    set.insert("IMAP.example.org.", imap.certified_key())
        .unwrap();
    set.insert("*.users.example.org", wild.certified_key())
        .unwrap();
    set.set_default(default.certified_key());
    let server = ServerTls::new(Service::Imap).build_with_set(set).unwrap();

    // Pin every certificate so the client accepts whichever it gets; we check which one.
    let client = ClientTls::pinned(vec![
        mx.der.clone(),
        imap.der.clone(),
        wild.der.clone(),
        default.der.clone(),
    ]);
    for (sni, want) in [
        ("mx.example.org", &mx),
        ("imap.example.org", &imap),
        ("alice.users.example.org", &wild),
        ("unknown.example.net", &default),
    ] {
        let (mut c, mut s) = connect(&client, &server, sni);
        pump(&mut c, &mut s).unwrap();
        assert!(!c.is_handshaking());
        assert_eq!(peer_cert(&c), want.der.as_ref(), "{sni}");
        assert_eq!(s.server_name(), Some(sni));
    }
    // No SNI at all: an IP address is never sent as SNI (RFC 6066 section 3).
    let (mut c, mut s) = connect(&client, &server, "127.0.0.1");
    pump(&mut c, &mut s).unwrap();
    assert_eq!(s.server_name(), None);
    assert_eq!(peer_cert(&c), default.der.as_ref());
}

#[test]
fn unknown_name_without_default_fails_the_handshake() {
    let ca = Ca::new();
    let mx = ca.issue(&["mx.example.org"], "MX");
    let mut set = CertSet::new();
    set.insert("mx.example.org", mx.certified_key()).unwrap();
    let server = ServerTls::new(Service::SmtpRelay)
        .build_with_set(set)
        .unwrap();
    let (mut c, mut s) = connect(
        &ClientTls::custom_roots(ca.roots()),
        &server,
        "other.example",
    );
    let (_, server_err) = pump_both(&mut c, &mut s);
    assert!(server_err.is_some());
}

#[test]
fn reload_keeps_live_sessions_and_serves_new_ones() {
    let ca = Ca::new();
    let dir = TempDir::new("reload");
    let old = ca.issue(&["mail.example.org"], "Old");
    let files = old.write(&dir, "mail");
    let resolver = Arc::new(
        CertResolver::from_sources(CertSources::new().with_default(files.clone())).unwrap(),
    );
    let server = ServerTls::new(Service::Submission)
        .build_with_resolver(resolver.clone())
        .unwrap();
    let client = ClientTls::custom_roots(ca.roots());

    // Session 1: the server reads the ClientHello and picks its certificate...
    let (mut c1, mut s1) = connect(&client, &server, "mail.example.org");
    let mut hello = Vec::new();
    while c1.wants_write() {
        c1.write_tls(&mut hello).unwrap();
    }
    s1.read_tls(&mut &hello[..]).unwrap();
    s1.process_new_packets().unwrap();
    assert!(s1.is_handshaking());

    // ...then the files are renewed on disk and reloaded...
    let new = ca.issue(&["mail.example.org"], "New");
    new.write(&dir, "mail");
    resolver.reload().unwrap();

    // ...and session 1 completes with the old certificate.
    pump(&mut c1, &mut s1).unwrap();
    assert!(!c1.is_handshaking() && !s1.is_handshaking());
    assert_eq!(peer_cert(&c1), old.der.as_ref());
    // It still carries data.
    use std::io::{Read, Write};
    c1.writer().write_all(b"EHLO client\r\n").unwrap();
    pump(&mut c1, &mut s1).unwrap();
    let mut got = [0u8; 13];
    s1.reader().read_exact(&mut got).unwrap();
    assert_eq!(&got, b"EHLO client\r\n");

    // Session 2 sees the new certificate.
    let (mut c2, mut s2) = connect(&client, &server, "mail.example.org");
    pump(&mut c2, &mut s2).unwrap();
    assert_eq!(peer_cert(&c2), new.der.as_ref());
}

#[test]
fn failed_reload_keeps_serving_the_old_set() {
    let ca = Ca::new();
    let dir = TempDir::new("reload-bad");
    let old = ca.issue(&["mail.example.org"], "Old");
    let files = old.write(&dir, "mail");
    let resolver =
        CertResolver::from_sources(CertSources::new().with_default(files.clone())).unwrap();
    // A half-finished renewal: new certificate, old key.
    let new = ca.issue(&["mail.example.org"], "New");
    std::fs::write(&files.cert, new.cert_pem.as_bytes()).unwrap();
    let err = resolver.reload().unwrap_err();
    assert!(
        matches!(err, mail_tls::TlsError::KeyMismatch { .. }),
        "{err:?}"
    );
    let current = resolver.current().lookup(None).unwrap();
    assert_eq!(current.cert[0].as_ref(), old.der.as_ref());
}

#[test]
fn alpn_refuses_non_mail_protocols_but_not_clients_without_alpn() {
    let ca = Ca::new();
    let leaf = ca.issue(&["imap.example.org"], "IMAP");
    let mut set = CertSet::new();
    set.set_default(leaf.certified_key());
    let server = ServerTls::new(Service::Imap).build_with_set(set).unwrap();
    let roots = ClientTls::custom_roots(ca.roots());

    // A browser-like client (ALPACA): refused.
    let http = roots
        .clone()
        .alpn(vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
    let (mut c, mut s) = connect(&http, &server, "imap.example.org");
    let (client_err, server_err) = pump_both(&mut c, &mut s);
    assert_eq!(
        server_err,
        Some(mail_tls::rustls::Error::NoApplicationProtocol)
    );
    assert!(client_err.is_some());

    // A mail client that offers no ALPN: served, nothing negotiated.
    let (mut c, mut s) = connect(&roots, &server, "imap.example.org");
    pump(&mut c, &mut s).unwrap();
    assert_eq!(c.alpn_protocol(), None);

    // A client offering imap: negotiated.
    let imap = roots.alpn(vec![b"http/1.1".to_vec(), Service::Imap.alpn_id().to_vec()]);
    let (mut c, mut s) = connect(&imap, &server, "imap.example.org");
    pump(&mut c, &mut s).unwrap();
    assert_eq!(c.alpn_protocol(), Some(&b"imap"[..]));
}

#[test]
fn verification_modes() {
    let ca = Ca::new();
    let leaf = ca.issue(&["mx.example.org"], "MX");
    let other = ca.issue(&["mx.example.org"], "Other");
    let mut set = CertSet::new();
    set.set_default(leaf.certified_key());
    let server = ServerTls::new(Service::SmtpRelay)
        .build_with_set(set)
        .unwrap();

    let cases: Vec<(&str, ClientTls, &str, bool)> = vec![
        (
            "custom roots, right name",
            ClientTls::custom_roots(ca.roots()),
            "mx.example.org",
            true,
        ),
        (
            "custom roots, wrong name (RFC 6125)",
            ClientTls::custom_roots(ca.roots()),
            "evil.example.org",
            false,
        ),
        (
            "web PKI roots, private CA",
            ClientTls::webpki_roots(),
            "mx.example.org",
            false,
        ),
        (
            "pinned, right cert",
            ClientTls::pinned(vec![leaf.der.clone()]),
            "whatever.example",
            true,
        ),
        (
            "pinned, other cert",
            ClientTls::pinned(vec![other.der.clone()]),
            "mx.example.org",
            false,
        ),
        (
            "accept any (RFC 7435)",
            ClientTls::opportunistic_accept_any_certificate(),
            "wrong.example",
            true,
        ),
    ];
    for (what, client, sni, ok) in cases {
        let (mut c, mut s) = connect(&client, &server, sni);
        let (client_err, _) = pump_both(&mut c, &mut s);
        assert_eq!(
            client_err.is_none() && !c.is_handshaking(),
            ok,
            "{what}: {client_err:?}"
        );
    }
}

#[test]
fn negotiates_tls13_and_tls12_and_reports_the_session() {
    use mail_tls::rustls::{self, ProtocolVersion};
    let ca = Ca::new();
    let leaf = ca.issue(&["mx.example.org"], "MX");
    let mut set = CertSet::new();
    set.set_default(leaf.certified_key());
    let server = ServerTls::new(Service::Submission)
        .build_with_set(set)
        .unwrap();
    let (mut c, mut s) = connect(
        &ClientTls::custom_roots(ca.roots()),
        &server,
        "mx.example.org",
    );
    pump(&mut c, &mut s).unwrap();
    let info = mail_tls::SessionInfo::from_connection(&c);
    assert_eq!(info.protocol_version.as_deref(), Some("TLSv1_3"));
    assert!(info.cipher_suite.as_deref().unwrap().starts_with("TLS13_"));
    assert_eq!(info.peer_certificates[0].subject, "CN=mx.example.org, O=MX");
    assert_eq!(info.peer_certificates[0].issuer, "CN=mail-tls test CA");

    // A TLS 1.2-only client (ours, restricted) still gets served.
    let tls12 = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS12])
    .unwrap()
    .with_root_certificates(ca.roots())
    .with_no_client_auth();
    let mut c =
        ClientConnection::new(Arc::new(tls12), server_name("mx.example.org").unwrap()).unwrap();
    let mut s = ServerConnection::new(server.clone()).unwrap();
    pump(&mut c, &mut s).unwrap();
    assert_eq!(c.protocol_version(), Some(ProtocolVersion::TLSv1_2));
}

#[cfg(feature = "platform-verifier")]
#[test]
fn platform_store_builds_and_rejects_a_private_ca() {
    let ca = Ca::new();
    let leaf = ca.issue(&["mx.example.org"], "MX");
    let mut set = CertSet::new();
    set.set_default(leaf.certified_key());
    let server = ServerTls::new(Service::Submission)
        .build_with_set(set)
        .unwrap();
    let client = ClientTls::platform();
    assert!(matches!(
        client.verification(),
        mail_tls::ServerVerification::Platform
    ));
    let (mut c, mut s) = connect(&client, &server, "mx.example.org");
    let (client_err, _) = pump_both(&mut c, &mut s);
    assert!(
        matches!(
            client_err,
            Some(mail_tls::rustls::Error::InvalidCertificate(_))
        ),
        "{client_err:?}"
    );
}
