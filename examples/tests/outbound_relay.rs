//! End to end through the `mail-server` binary: a user submits with Python's smtplib
//! (STARTTLS, AUTH) to another domain, the queue hands the message to the outbound side, and
//! it arrives at Python's aiosmtpd (`support/outbound_peer.py`) on loopback. The MX comes from
//! Debian's dnsmasq through `--dns` (`crates/mx-resolve/tests/support/dnsmasq.rs`), or the
//! recipient is a domain literal; in the last test the MX is a second mail-server. The
//! in-process tests of the same code are in
//! `outbound/delivery.rs` (run by `example_units`).
//!
//! Without aiosmtpd or dnsmasq the tests print why and pass, except under `CI=true`, where
//! they fail.

#[path = "../../crates/mx-resolve/tests/support/dnsmasq.rs"]
mod dnsmasq;
#[path = "outbound/peer.rs"]
mod outbound_peer;
mod support;

use outbound_peer::{Peer, facts, python};
use support::{ALICE, ALICE_PASSWORD, MailServer, PyArgs, TempDir, poll, py_smtp, users};

/// Submits `message` from alice to `to` on the submission port (STARTTLS, AUTH PLAIN) with
/// smtplib; asserts the `250`.
fn submit(server: &MailServer, dir: &TempDir, to: &str, message: &[u8]) {
    let session = py_smtp(
        dir.path(),
        PyArgs {
            mode: "starttls",
            port: server.submission,
            auth: Some(("PLAIN", ALICE, ALICE_PASSWORD)),
            from: ALICE,
            to: &[to],
            message: Some(message),
            params: "",
        },
    );
    assert_eq!(session.code("data"), 250, "{}", session.raw);
}

fn message(subject: &str) -> Vec<u8> {
    format!(
        "From: <{ALICE}>\r\nTo: <user@b.test>\r\nSubject: {subject}\r\n\r\nHello over there.\r\n\
         .a line that starts with a dot\r\n"
    )
    .into_bytes()
}

/// The MX of b.test from dnsmasq, STARTTLS to it, and the second message over the connection
/// the first one opened.
#[test]
fn submitted_mail_reaches_the_mx_over_starttls_and_reuses_the_connection() {
    let Some(python) = python() else { return };
    let Some(dns) = dnsmasq::Dnsmasq::start(&[
        "--mx-host=b.test,mx.b.test,10".into(),
        "--host-record=mx.b.test,127.0.0.1".into(),
    ]) else {
        return;
    };
    let peer = Peer::start(&python, &["--tls", "starttls", "--pipelining"]);
    let data = TempDir::new("outbound-relay");
    let mut args = users();
    args.extend([
        "--dns".into(),
        dns.addr.to_string(),
        "--mx-port".into(),
        peer.port.to_string(),
        "--hostname".into(),
        "relay.localhost".into(),
    ]);
    let server = MailServer::start(data.path(), &args);
    let scratch = TempDir::new("outbound-relay-py");

    submit(&server, &scratch, "user@b.test", &message("first"));
    poll("the first message at the MX", || peer.message(1));
    submit(&server, &scratch, "other@b.test", &message("second"));
    poll("the second message at the MX", || peer.message(2));

    let (first, body) = peer.message(1).expect("first");
    let (second, _) = peer.message(2).expect("second");
    assert_eq!(facts(&first, "from"), [ALICE]);
    assert_eq!(facts(&first, "to"), ["user@b.test"]);
    assert_eq!(facts(&second, "to"), ["other@b.test"]);
    assert_eq!(facts(&first, "tls"), ["1"], "{first}");
    assert_eq!(facts(&first, "helo"), ["relay.localhost"]);
    // One TCP connection carried both.
    assert_eq!(
        facts(&first, "peer"),
        facts(&second, "peer"),
        "{}",
        peer.events()
    );
    assert!(
        body.ends_with(&message("first")),
        "{}",
        String::from_utf8_lossy(&body)
    );
    let logs = server.stderr();
    let remote = format!("remote=mx.b.test[127.0.0.1]:{}", peer.port);
    assert!(
        logs.lines()
            .any(|l| l.contains("STARTTLS established") && l.contains(&remote)),
        "{logs}"
    );
    let connected = logs
        .lines()
        .filter(|l| l.contains("connected for outbound delivery"))
        .count();
    assert_eq!(connected, 1, "{logs}");
}

/// A remote MX whose STARTTLS handshake fails: the server retries in plaintext, says so in its
/// log, and the message arrives.
#[test]
fn a_failed_handshake_is_retried_in_plaintext_and_logged_by_the_server() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &["--tls", "broken"]);
    let data = TempDir::new("outbound-relay");
    let mut args = users();
    args.extend(["--mx-port".into(), peer.port.to_string()]);
    let server = MailServer::start(data.path(), &args);
    let scratch = TempDir::new("outbound-relay-py");
    submit(&server, &scratch, "user@[127.0.0.1]", &message("fallback"));
    let (env, _) = poll("the message at the MX", || peer.message(1));
    assert_eq!(facts(&env, "tls"), ["0"]);
    assert_eq!(facts(&env, "to"), ["user@[127.0.0.1]"]);
    let logs = server.stderr();
    let line = logs
        .lines()
        .find(|l| l.contains("STARTTLS handshake failed: delivering in plaintext"))
        .unwrap_or_else(|| panic!("{logs}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(
        line.contains(&format!("remote=127.0.0.1[127.0.0.1]:{}", peer.port)),
        "{line}"
    );
}

/// Two servers: mail submitted to the first for `user@b.test` arrives in the Maildir of the
/// second (bound to 127.0.0.2), which dnsmasq names as b.test's MX; the second's `Received:`
/// says the first delivered over TLS (`ESMTPS`: the second offers STARTTLS with a self-signed
/// certificate, which opportunistic TLS accepts).
#[test]
fn mail_for_another_domain_arrives_in_the_second_servers_maildir() {
    let Some(dns) = dnsmasq::Dnsmasq::start(&[
        "--mx-host=b.test,mx.b.test,10".into(),
        "--host-record=mx.b.test,127.0.0.2".into(),
    ]) else {
        return;
    };
    if !support::have_python() {
        return;
    }
    let data_b = TempDir::new("outbound-relay-b");
    let second = MailServer::start(
        data_b.path(),
        &[
            "--bind".into(),
            "127.0.0.2".into(),
            "--hostname".into(),
            "mx.b.test".into(),
            "--domain".into(),
            "b.test".into(),
            "--user".into(),
            "user@b.test:user-password".into(),
        ],
    );
    let data_a = TempDir::new("outbound-relay-a");
    let mut args = users();
    args.extend([
        "--dns".into(),
        dns.addr.to_string(),
        "--mx-port".into(),
        second.smtp.to_string(),
        "--hostname".into(),
        "relay.localhost".into(),
    ]);
    let first = MailServer::start(data_a.path(), &args);
    let scratch = TempDir::new("outbound-relay-py");
    let sent = message("between servers");
    submit(&first, &scratch, "user@b.test", &sent);

    let inbox = second.maildir("user@b.test").join("new");
    let (_, stored) = poll("the message in the second server's Maildir", || {
        support::files(&inbox).pop()
    });
    let text = String::from_utf8_lossy(&stored);
    assert!(stored.ends_with(&sent), "{text}");
    assert!(
        text.starts_with("Return-Path: <alice@localhost>\r\n"),
        "{text}"
    );
    let received = text
        .lines()
        .find(|l| l.starts_with("Received: from relay.localhost"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        received.contains("(127.0.0.1)") || text.contains("[127.0.0.1]"),
        "{text}"
    );
    assert!(text.contains("with ESMTPS"), "{text}");
    let logs = first.stderr();
    let remote = format!("remote=mx.b.test[127.0.0.2]:{}", second.smtp);
    assert!(
        logs.lines()
            .any(|l| l.contains("STARTTLS established") && l.contains(&remote)),
        "{logs}"
    );
}
