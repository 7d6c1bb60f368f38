//! Issue 14, items 6 and 8: local senders spoofed on the relay port, the free-space guard and
//! the per-account quota, against the running example server over raw SMTP.

mod support;

use support::*;

fn start(tag: &str, extra: &[&str]) -> (TempDir, MailServer) {
    let dir = TempDir::new(tag);
    let mut args = users();
    args.extend(extra.iter().map(|s| s.to_string()));
    let server = MailServer::start(&dir.path().join("data"), &args);
    (dir, server)
}

/// Sends `body` (CRLF lines, no dot at a line start) and the terminating dot; returns the reply.
fn send_body(conn: &mut Smtp, body: &str) -> Reply {
    conn.send(format!("{body}.\r\n"));
    conn.reply()
}

/// Waits until the server's stderr holds `needle`: the log is read from a pipe by another
/// thread, so a line written just before a reply may not be in yet when the reply is.
fn wait_logged(server: &MailServer, needle: &str) {
    poll(&format!("the log line `{needle}`"), || {
        server.stderr().contains(needle).then_some(())
    });
}

fn assert_reply(reply: &Reply, start: &str) {
    assert!(
        reply.lines.last().is_some_and(|l| l.starts_with(start)),
        "expected `{start}...`, got {reply:?}"
    );
}

/// A body of about `size` octets in lines of 70.
fn body_of(size: usize) -> String {
    let line = format!("{}\r\n", "x".repeat(68));
    let mut body = String::from("Subject: filler\r\n\r\n");
    while body.len() + line.len() <= size {
        body.push_str(&line);
    }
    body
}

#[test]
fn a_local_sender_without_auth_is_refused_on_the_relay() {
    let (dir, server) = start("local-sender", &[]);
    let mut conn = server.relay();
    conn.cmd_expect("EHLO spoofer.test", 250);
    let reply = conn.cmd(&format!("MAIL FROM:<{BOB}>"));
    assert_eq!(reply.code, 553, "{reply:?}");
    assert_reply(
        &reply,
        "553 5.7.1 Sender address in a local domain needs authentication",
    );
    // In any case.
    let reply = conn.cmd("MAIL FROM:<Bob@LOCALHOST>");
    assert_reply(&reply, "553 5.7.1 ");
    // A foreign sender and the null sender still reach alice.
    for from in ["<someone@elsewhere.example>", "<>"] {
        conn.cmd_expect(&format!("MAIL FROM:{from}"), 250);
        conn.cmd_expect(&format!("RCPT TO:<{ALICE}>"), 250);
        conn.cmd_expect("DATA", 354);
        assert_eq!(
            send_body(&mut conn, "Subject: hi\r\n\r\nhello\r\n").code,
            250
        );
    }
    conn.cmd_expect("QUIT", 221);
    assert_eq!(files(&server.maildir(ALICE).join("new")).len(), 2);
    wait_logged(
        &server,
        "a local domain without authentication on the relay port",
    );
    drop((dir, server));

    // With the flag, the relay takes it.
    let (_dir, server) = start("local-sender-allowed", &["--allow-local-senders-on-relay"]);
    let mut conn = server.relay();
    conn.cmd_expect("EHLO trusted.test", 250);
    conn.cmd_expect(&format!("MAIL FROM:<{BOB}>"), 250);
    conn.cmd_expect(&format!("RCPT TO:<{ALICE}>"), 250);
    conn.cmd_expect("DATA", 354);
    assert_eq!(
        send_body(&mut conn, "Subject: hi\r\n\r\nfrom bob\r\n").code,
        250
    );
    conn.cmd_expect("QUIT", 221);
    let (_, message) = only_message(&server.data, ALICE);
    assert!(String::from_utf8_lossy(&message).starts_with(&format!("Return-Path: <{BOB}>")));
}

#[test]
fn mail_is_refused_while_free_space_is_short() {
    // No disk has this much free: the threshold simulates a full disk.
    let (_dir, server) = start("free-space", &["--min-free-space", "999999G"]);
    let mut conn = server.relay();
    conn.cmd_expect("EHLO client.test", 250);
    let reply = conn.cmd("MAIL FROM:<someone@elsewhere.example>");
    assert_eq!(reply.code, 452, "{reply:?}");
    assert_reply(&reply, "452 4.3.1 Insufficient system storage");
    conn.cmd_expect("QUIT", 221);
    wait_logged(&server, "mail refused: too little free disk space");
    assert!(files(&server.maildir(ALICE).join("new")).is_empty());
}

#[test]
fn a_recipient_over_quota_is_refused_alone() {
    let (_dir, server) = start("quota", &["--quota", "2K"]);
    let mut conn = server.relay();
    conn.cmd_expect("EHLO client.test", 250);
    // Bob's mailbox takes 1500 octets of its 2048.
    conn.cmd_expect("MAIL FROM:<someone@elsewhere.example>", 250);
    conn.cmd_expect(&format!("RCPT TO:<{BOB}>"), 250);
    conn.cmd_expect("DATA", 354);
    assert_eq!(send_body(&mut conn, &body_of(1200)).code, 250);

    // SIZE=1000 does not fit bob: 452 4.2.2 for him alone; alice takes the message.
    conn.cmd_expect("MAIL FROM:<someone@elsewhere.example> SIZE=1000", 250);
    let reply = conn.cmd(&format!("RCPT TO:<{BOB}>"));
    assert_eq!(reply.code, 452, "{reply:?}");
    assert_reply(&reply, "452 4.2.2 Mailbox full");
    conn.cmd_expect(&format!("RCPT TO:<{ALICE}>"), 250);
    conn.cmd_expect("DATA", 354);
    let reply = send_body(&mut conn, &body_of(900));
    assert_eq!(reply.code, 250, "{reply:?}");
    assert_eq!(files(&server.maildir(BOB).join("new")).len(), 1);
    let (_, to_alice) = only_message(&server.data, ALICE);
    assert!(!String::from_utf8_lossy(&to_alice).contains(BOB));

    // Without SIZE=, alice is accepted at RCPT, but the message itself would take her over:
    // 552 5.2.2 after DATA, and nothing more is stored.
    conn.cmd_expect("MAIL FROM:<someone@elsewhere.example>", 250);
    conn.cmd_expect(&format!("RCPT TO:<{ALICE}>"), 250);
    conn.cmd_expect("DATA", 354);
    let reply = send_body(&mut conn, &body_of(1200));
    assert_eq!(reply.code, 552, "{reply:?}");
    assert_reply(&reply, "552 5.2.2 Mailbox full");
    conn.cmd_expect("QUIT", 221);
    assert_eq!(files(&server.maildir(ALICE).join("new")).len(), 1);
    assert!(files(&server.maildir(ALICE).join("tmp")).is_empty());
    assert!(files(&server.maildir(BOB).join("tmp")).is_empty());
    wait_logged(&server, "recipient over quota");
    wait_logged(&server, "message refused: recipient over quota");
}
