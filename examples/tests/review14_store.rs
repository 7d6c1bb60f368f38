//! Review of issue 14, items 3, 4, 6, 8 and 9 (accounts and store): attacks on the relay's
//! local-sender rule, against the running example server over raw SMTP.

mod support;

use support::*;

/// The relay's local-sender rule (item 6) must know a local domain in every form a client may
/// write it: a Unicode domain in another case (the domain is case-insensitive, and its
/// accounts are matched that way), and its A-label (`xn--`) form, which RFC 5890 makes the
/// same domain and which a client without SMTPUTF8 must use. Before the fix both were taken
/// as foreign senders and reached the local user.
#[test]
fn a_local_idn_domain_cannot_be_spoofed_in_another_case_or_as_an_a_label() {
    let dir = TempDir::new("idn-sender");
    let mut args = users();
    args.extend(
        [
            "--domain",
            "localhost",
            "--domain",
            "bücher.example",
            "--user",
            "carol@bücher.example:pw-carol",
            "--allow-plaintext-auth",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let server = MailServer::start(&dir.path().join("data"), &args);
    let mut conn = server.relay();
    conn.cmd_expect("EHLO spoofer.test", 250);
    for from in [
        "<bob@bücher.example> SMTPUTF8",
        "<bob@BÜCHER.example> SMTPUTF8",
        "<bob@BÜCHER.EXAMPLE> SMTPUTF8",
        "<bob@xn--bcher-kva.example>",
        "<bob@XN--BCHER-KVA.EXAMPLE>",
    ] {
        let reply = conn.cmd(&format!("MAIL FROM:{from}"));
        assert_eq!(reply.code, 553, "MAIL FROM:{from}: {reply:?}");
        assert!(
            reply
                .lines
                .last()
                .is_some_and(|l| l.starts_with("553 5.7.1 ")),
            "{reply:?}"
        );
    }
    // A foreign domain that merely resembles it still passes.
    conn.cmd_expect("MAIL FROM:<bob@xn--bcher-kva.example.org>", 250);
    conn.cmd_expect("RSET", 250);
    // Mail for the domain's account in its A-label form, as a sender without SMTPUTF8 must
    // write it, reaches that account (it was refused as relaying).
    conn.cmd_expect("MAIL FROM:<someone@elsewhere.example>", 250);
    conn.cmd_expect("RCPT TO:<carol@xn--bcher-kva.example>", 250);
    conn.cmd_expect("RCPT TO:<Carol@XN--BCHER-KVA.EXAMPLE>", 250);
    conn.cmd_expect("DATA", 354);
    conn.send("Subject: hi\r\n\r\nhello carol\r\n.\r\n");
    assert_eq!(conn.reply().code, 250);
    conn.cmd_expect("QUIT", 221);
    assert!(files(&server.maildir(ALICE).join("new")).is_empty());
    let carol = server.data.join("mail/b%C3%BCcher.example/carol/new");
    assert_eq!(files(&carol).len(), 1, "{}", server.logs());

    // On submission, carol may write her own address in the A-label form (a client without
    // SMTPUTF8 has no other): it is hers, not someone else's (553 5.7.1 before).
    let mut sub = Smtp::connect(server.submission);
    sub.expect(220);
    sub.cmd_expect("EHLO carol.test", 250);
    let token = b64(b"\0carol@b\xc3\xbccher.example\0pw-carol");
    sub.cmd_expect(&format!("AUTH PLAIN {token}"), 235);
    sub.cmd_expect("MAIL FROM:<carol@xn--bcher-kva.example>", 250);
    sub.cmd_expect("RSET", 250);
    // Someone else's address, in either form, is still refused.
    for from in ["<dave@xn--bcher-kva.example>", "<alice@localhost>"] {
        let reply = sub.cmd(&format!("MAIL FROM:{from}"));
        assert_eq!(reply.code, 553, "{from}: {reply:?}");
    }
    sub.cmd_expect("QUIT", 221);
}

/// Standard base64 (RFC 4648 section 4), for an AUTH PLAIN response.
fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The quota (item 8) must hold against one client's concurrent sessions: each checked the
/// mailbox's total before any of them had added its message, so of eight sessions ending
/// their DATA together, four got 250 and put 12,760 octets into a mailbox with a quota of
/// 10,240 (the overshoot grows with the sessions: up to --max-connections messages of
/// --max-message-size).
#[test]
fn concurrent_sessions_cannot_overrun_the_quota() {
    const QUOTA: usize = 10 * 1024;
    const SESSIONS: usize = 8;
    let dir = TempDir::new("quota-race");
    let mut args = users();
    args.extend(["--quota".to_owned(), QUOTA.to_string()]);
    let server = MailServer::start(&dir.path().join("data"), &args);
    let line = format!("{}\r\n", "y".repeat(70));
    let body = format!("Subject: race\r\n\r\n{}", line.repeat(3000 / line.len()));
    let mut conns: Vec<Smtp> = (0..SESSIONS)
        .map(|_| {
            let mut conn = server.relay();
            conn.cmd_expect("EHLO racer.test", 250);
            conn.cmd_expect("MAIL FROM:<someone@elsewhere.example>", 250);
            conn.cmd_expect(&format!("RCPT TO:<{ALICE}>"), 250);
            conn.cmd_expect("DATA", 354);
            conn.send(&body);
            conn
        })
        .collect();
    // Every body is in; the final dots go out together.
    for conn in &mut conns {
        conn.send(".\r\n");
    }
    let accepted = conns
        .iter_mut()
        .map(|conn| conn.reply())
        .filter(|reply| {
            assert!(matches!(reply.code, 250 | 552), "{reply:?}");
            reply.code == 250
        })
        .count();
    let stored: usize = files(&server.maildir(ALICE).join("new"))
        .iter()
        .map(|(_, bytes)| bytes.len())
        .sum();
    assert!(accepted >= 1, "{}", server.logs());
    assert!(
        stored <= QUOTA,
        "{accepted} of {SESSIONS} accepted: {stored} octets stored over a quota of {QUOTA}"
    );
}

/// smtp-load read its arguments with `std::env::args`, which panics on one that is not UTF-8
/// and prints it whole: `--password 'secretpw<0xff>'` ended on stderr. A stray word (a
/// password that lost its flag) was repeated in the error too.
#[test]
fn smtp_load_never_prints_a_password_it_cannot_use() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let bin = example_bin("smtp-load");
    let cases: [&[&OsStr]; 3] = [
        &[
            OsStr::new("--user"),
            OsStr::new("a@localhost"),
            OsStr::new("--password"),
            OsStr::from_bytes(b"secretpw\xff"),
        ],
        &[OsStr::from_bytes(b"--password=secretpw\xff")],
        &[
            OsStr::new("--user"),
            OsStr::new("a@localhost"),
            OsStr::new("secretpw"),
        ],
    ];
    for args in cases {
        let out = std::process::Command::new(&bin)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run smtp-load");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("secretpw") && !stdout.contains("secretpw"),
            "{args:?}: {stderr}"
        );
    }
}
