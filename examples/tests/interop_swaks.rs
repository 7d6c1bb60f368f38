//! The mail server's SMTP side driven by swaks (Debian package `swaks`, with its TLS modules
//! `libnet-ssleay-perl` and `libio-socket-ssl-perl`), the SMTP test tool we did not write:
//! submission with STARTTLS and AUTH PLAIN, with PIPELINING, of an 8-bit body with lines that
//! start with dots; AUTH LOGIN over implicit TLS; a wrong password; and the relay listener's
//! acceptance of mail for a local user and its refusals. swaks verifies the server's
//! certificate against the one the server generated (`--tls-verify --tls-ca-path`).
//!
//! Checks: what swaks reports (its exit code, which names the failed step, and the replies in
//! its transcript) and the bytes of the Maildir files.
//!
//! Without swaks (or its TLS modules) the tests print why and pass, except under `CI=true`,
//! where they fail (`.ci/run` installs them).

mod clients_support;
mod support;

use std::path::Path;
use std::process::Output;

use clients_support::*;
use support::*;

fn have_swaks() -> bool {
    // swaks runs without its TLS modules and only fails once asked for TLS: check them too.
    have_client("swaks", &["--version"], "swaks")
        && have_client(
            "perl",
            &["-MNet::SSLeay", "-MIO::Socket::SSL", "-e", "1"],
            "libnet-ssleay-perl and libio-socket-ssl-perl",
        )
}

/// Runs swaks with `args`; returns its exit code and transcript (standard output and error).
fn swaks(args: &[&str]) -> (i32, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = run_bounded("swaks", args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    (status.code().unwrap_or(-1), text)
}

/// The flags that make swaks verify the server's certificate: the one generated into `data`
/// is the only CA, and the name checked is `localhost` (the server's `--hostname`).
fn verify_with(cert: &Path) -> Vec<String> {
    vec![
        "--tls-verify".into(),
        "--tls-ca-path".into(),
        cert.display().to_string(),
        "--tls-sni".into(),
        "localhost".into(),
    ]
}

fn server(tag: &str) -> (TempDir, MailServer) {
    let data = TempDir::new(tag);
    let server = MailServer::start(data.path(), &users());
    (data, server)
}

#[test]
fn swaks_submits_over_starttls_with_auth_plain_and_pipelining_an_8bit_body_with_leading_dots() {
    if !have_swaks() {
        return;
    }
    let (data, server) = server("swaks-submission");
    let message: &[u8] = b"From: Alice <alice@localhost>\r\nTo: <bob@localhost>\r\n\
        Subject: dots and 8 bits\r\nMIME-Version: 1.0\r\n\
        Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
        .a line that starts with a dot\r\n..two dots\r\n.\r\ncaf\xc3\xa9 \xe2\x82\xac\r\nend\r\n";
    let file = data.path().join("message.eml");
    std::fs::write(&file, message).expect("write the message");
    let port = server.submission.to_string();
    let mut args: Vec<String> = [
        "--server",
        "127.0.0.1",
        "--port",
        &port,
        "--tls",
        "--auth",
        "PLAIN",
        "--auth-user",
        ALICE,
        "--auth-password",
        ALICE_PASSWORD,
        "--from",
        ALICE,
        "--to",
        BOB,
        "--pipeline",
        "--data",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("@{}", file.display()));
    args.extend(verify_with(&server_cert(data.path())));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, log) = swaks(&args);
    assert_eq!(code, 0, "{log}\n{}", server.logs());
    // swaks marks the TLS part of the session with `~>`/`<~`.
    assert!(log.contains("<-  220 2.0.0 Ready to start TLS"), "{log}");
    assert!(log.contains("<~  235 2.7.0"), "{log}");
    // Pipelined: MAIL, RCPT and DATA went out before the first of their replies came back.
    let mail = log
        .find("~> MAIL FROM:<alice@localhost>")
        .expect("MAIL sent");
    let data_cmd = log.find("~> DATA").expect("DATA sent");
    let sender_ok = log.find("<~  250 2.1.0").expect("MAIL accepted");
    assert!(
        mail < data_cmd && data_cmd < sender_ok,
        "not pipelined:\n{log}"
    );
    assert!(log.contains("<~  250 2.0.0 Ok: delivered"), "{log}");

    // The dots were stuffed on the wire and removed again; the 8-bit octets are unchanged.
    // swaks ends the DATA with one more CRLF than the file has.
    let (_, stored) = only_message(data.path(), BOB);
    let mut expected = message.to_vec();
    expected.extend_from_slice(b"\r\n");
    assert_eq!(
        String::from_utf8_lossy(strip_trace(&stored)),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(strip_trace(&stored), &expected[..]);
    assert!(
        String::from_utf8_lossy(&stored).contains("with ESMTPSA"),
        "Received: names TLS and AUTH:\n{}",
        String::from_utf8_lossy(&stored)
    );
}

#[test]
fn swaks_auth_login_over_implicit_tls_and_a_wrong_password_gets_535() {
    if !have_swaks() {
        return;
    }
    let (data, server) = server("swaks-submissions");
    let port = server.submissions.to_string();
    let cert = server_cert(data.path());
    let login = |password: &str, subject: &str| {
        let mut args: Vec<String> = [
            "--server",
            "127.0.0.1",
            "--port",
            &port,
            "--tls-on-connect",
            "--auth",
            "LOGIN",
            "--auth-user",
            ALICE,
            "--auth-password",
            password,
            "--from",
            ALICE,
            "--to",
            BOB,
            "--header",
            &format!("Subject: {subject}"),
            "--body",
            "sent over implicit TLS",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(verify_with(&cert));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        swaks(&args)
    };

    let (code, log) = login("not the password", "refused");
    assert_eq!(code, 28, "swaks: error in AUTH\n{log}");
    assert!(log.contains("<~* 535 5.7.8"), "{log}");
    assert!(files(&server.maildir(BOB).join("new")).is_empty());

    let (code, log) = login(ALICE_PASSWORD, "accepted");
    assert_eq!(code, 0, "{log}\n{}", server.logs());
    assert!(
        log.contains("<~  334 VXNlcm5hbWU6"),
        "LOGIN prompts Username:\n{log}"
    );
    assert!(log.contains("<~  235 2.7.0"), "{log}");
    let (_, stored) = only_message(data.path(), BOB);
    let text = String::from_utf8_lossy(&stored);
    assert!(text.contains("Subject: accepted\r\n"), "{text}");
    assert!(
        text.contains("\r\n\r\nsent over implicit TLS\r\n"),
        "{text}"
    );
}

#[test]
fn swaks_refuses_a_certificate_it_cannot_verify() {
    if !have_swaks() {
        return;
    }
    let (data, server) = server("swaks-untrusted");
    let port = server.submission.to_string();
    // The system's roots only: the self-signed certificate fails, nothing is sent.
    let (code, log) = swaks(&[
        "--server",
        "127.0.0.1",
        "--port",
        &port,
        "--tls",
        "--tls-verify",
        "--auth",
        "PLAIN",
        "--auth-user",
        ALICE,
        "--auth-password",
        ALICE_PASSWORD,
        "--from",
        ALICE,
        "--to",
        BOB,
    ]);
    assert_eq!(code, 29, "swaks: error in TLS\n{log}");
    assert!(log.contains("certificate verify failed"), "{log}");
    assert!(files(&server.maildir(BOB).join("new")).is_empty());
    drop(data);
}

#[test]
fn swaks_on_the_relay_port_delivers_to_local_users_and_gets_the_refusal_codes() {
    if !have_swaks() {
        return;
    }
    let (data, server) = server("swaks-relay");
    let port = server.smtp.to_string();
    let send = |from: &str, to: &str| {
        swaks(&[
            "--server",
            "127.0.0.1",
            "--port",
            &port,
            "--from",
            from,
            "--to",
            to,
            "--header",
            "Subject: from outside",
            "--body",
            "relay body",
        ])
    };

    // Mail from outside for a local user: delivered, no AUTH needed.
    let (code, log) = send("someone@example.org", ALICE);
    assert_eq!(code, 0, "{log}\n{}", server.logs());
    let (_, stored) = only_message(data.path(), ALICE);
    let text = String::from_utf8_lossy(&stored);
    assert!(
        text.starts_with("Return-Path: <someone@example.org>\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\n\r\nrelay body\r\n"), "{text}");

    // Mail for another domain: not an open relay.
    let (code, log) = send("someone@example.org", "someone@example.net");
    assert_eq!(code, 24, "swaks: no RCPT accepted\n{log}");
    assert!(log.contains("<** 550 5.7.1"), "{log}");

    // A sender in a local domain without AUTH: pointed at the submission port.
    let (code, log) = send(ALICE, BOB);
    assert_eq!(code, 23, "swaks: error in MAIL\n{log}");
    assert!(log.contains("<** 553 5.7.1"), "{log}");

    // An unknown local user.
    let (code, log) = send("someone@example.org", "nobody@localhost");
    assert_eq!(code, 24, "{log}");
    assert!(log.contains("<** 550 5.1.1"), "{log}");

    assert_eq!(files(&server.maildir(ALICE).join("new")).len(), 1);
    assert!(files(&server.maildir(BOB).join("new")).is_empty());
}

/// The swaks arguments for a submission over STARTTLS as [`ALICE`] (AUTH PLAIN, certificate
/// verified) to `to` (comma-separated), pipelined, with `extra` after them.
fn submit(server: &MailServer, cert: &Path, to: &str, extra: &[&str]) -> (i32, String) {
    let port = server.submission.to_string();
    let mut args: Vec<String> = [
        "--server",
        "127.0.0.1",
        "--port",
        &port,
        "--tls",
        "--auth",
        "PLAIN",
        "--auth-user",
        ALICE,
        "--auth-password",
        ALICE_PASSWORD,
        "--from",
        ALICE,
        "--to",
        to,
        "--pipeline",
    ]
    .iter()
    .chain(extra)
    .map(|s| s.to_string())
    .collect();
    args.extend(verify_with(cert));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    swaks(&args)
}

#[test]
fn swaks_pipelined_recipients_get_one_reply_each_and_an_unknown_one_is_refused_alone() {
    if !have_swaks() {
        return;
    }
    let (data, server) = server("swaks-rcpts");
    let cert = server_cert(data.path());
    let (code, log) = submit(
        &server,
        &cert,
        &format!("{BOB},nobody@localhost,{ALICE}"),
        &["--header", "Subject: three recipients"],
    );
    assert_eq!(code, 0, "{log}\n{}", server.logs());
    // The three RCPTs went out together, then their replies came in their order.
    let last_rcpt = log
        .find("~> RCPT TO:<alice@localhost>")
        .expect("third RCPT");
    let first_reply = log
        .find("<~  250 2.1.5 Recipient ok")
        .expect("a RCPT reply");
    assert!(last_rcpt < first_reply, "not pipelined:\n{log}");
    let replies: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" 2.1.5 ") || l.contains(" 5.1.1 "))
        .collect();
    assert_eq!(
        replies,
        [
            "<~  250 2.1.5 Recipient ok",
            "<~* 550 5.1.1 No such user here",
            "<~  250 2.1.5 Recipient ok"
        ],
        "{log}"
    );
    for rcpt in [BOB, ALICE] {
        let (_, stored) = only_message(data.path(), rcpt);
        assert!(
            String::from_utf8_lossy(&stored).contains("Subject: three recipients\r\n"),
            "{rcpt}"
        );
    }
}

#[test]
fn swaks_over_the_size_limit_gets_552_and_nothing_is_stored() {
    if !have_swaks() {
        return;
    }
    let data = TempDir::new("swaks-size");
    let mut args = users();
    args.extend(["--max-message-size".into(), "2000".into()]);
    let server = MailServer::start(data.path(), &args);
    let cert = server_cert(data.path());
    let big = "x".repeat(3000);
    let (code, log) = submit(&server, &cert, BOB, &["--body", &big]);
    assert_eq!(code, 26, "swaks: mail not accepted after DATA\n{log}");
    assert!(log.contains("250-SIZE 2000"), "{log}");
    assert!(log.contains("<~* 552 5.3.4"), "{log}");
    assert!(files(&server.maildir(BOB).join("new")).is_empty());
    // Under the limit the same session shape delivers.
    let (code, log) = submit(&server, &cert, BOB, &["--body", "small"]);
    assert_eq!(code, 0, "{log}");
    assert_eq!(files(&server.maildir(BOB).join("new")).len(), 1);
}
