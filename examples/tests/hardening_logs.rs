//! Issue 14, item 5 (the logging half): forged log lines. Under SMTPUTF8 a client could put
//! U+0085, U+2028, U+202E or C1 controls in an address or an EHLO name, and the server wrote
//! them raw to its log, so a reader splitting lines saw a forged `INFO authenticated
//! user=root`. Against the real `mail-server` binary: whatever the client sends, accepted or
//! refused, the log stays one line per event with every client string escaped (backslash and
//! double quote too, so a value cannot end early). The escaper itself is unit-tested on every
//! risky character in `mail-server/logsafe.rs`.

mod support;

use support::*;

fn start(tag: &str) -> (TempDir, MailServer) {
    let dir = TempDir::new(tag);
    let server = MailServer::start(&dir.path().join("data"), &users());
    (dir, server)
}

/// Characters that end a line for some readers, steer a terminal, or reverse the reading
/// order: NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR, RIGHT-TO-LEFT OVERRIDE, CSI (C1), ESC.
const RISKY: [char; 6] = [
    '\u{85}', '\u{2028}', '\u{2029}', '\u{202e}', '\u{9b}', '\u{1b}',
];

/// Every line of the log is an event of the server: it starts with the timestamp
/// `tracing-subscriber` writes (`2026-12-06T20:41:26...`), and no risky character is in it raw.
fn assert_log_is_one_line_per_event(server: &MailServer) {
    let log = server.stderr();
    for c in RISKY {
        assert!(!log.contains(c), "raw {c:?} in the log:\n{log}");
    }
    for line in log.lines() {
        let stamped = line.len() > 20
            && line.as_bytes()[..4].iter().all(u8::is_ascii_digit)
            && line.as_bytes()[4] == b'-'
            && line.as_bytes()[10] == b'T';
        assert!(stamped, "a line the server did not start: {line:?}\n{log}");
    }
    assert!(!log.contains("authenticated user=root"), "{log}");
}

/// Risky characters in the EHLO name and the MAIL address, under SMTPUTF8: the protocol may
/// refuse them or accept them, but the log never carries them raw.
#[test]
fn risky_characters_from_the_client_never_reach_the_log_raw() {
    let (_dir, server) = start("forged-utf8");
    for c in RISKY {
        let mut conn = server.relay();
        conn.send(format!(
            "EHLO client{c}INFO authenticated user=root.example\r\n"
        ));
        conn.reply();
        conn.cmd_expect("EHLO client.example", 250);
        conn.send(format!(
            "MAIL FROM:<x{c}INFO authenticated user=root@example.org> SMTPUTF8\r\n"
        ));
        conn.reply();
        conn.cmd_expect("RSET", 250);
        conn.cmd_expect("MAIL FROM:<jöran@bücher.example> SMTPUTF8", 250);
        conn.cmd_expect("QUIT", 221);
        conn.expect_eof();
    }
    poll("the sessions logged", || {
        (server.stderr().matches("session closed").count() >= RISKY.len()).then_some(())
    });
    // Ordinary UTF-8 is logged as it is.
    assert!(
        server.stderr().contains("from=jöran@bücher.example"),
        "{}",
        server.logs()
    );
    assert_log_is_one_line_per_event(&server);
}

/// A quoted local part may hold a double quote and a backslash (RFC 5321 quoted-pair). The
/// log escapes both, so the value cannot end early and pass the rest for another field.
#[test]
fn quotes_and_backslashes_in_an_address_are_escaped_in_the_log() {
    let (_dir, server) = start("forged-quote");
    let mut conn = server.relay();
    conn.cmd_expect("EHLO client.example", 250);
    conn.cmd_expect(r#"MAIL FROM:<"a\" user=root \\"@example.org>"#, 250);
    conn.cmd_expect("QUIT", 221);
    let line = poll("the sender logged", || {
        server
            .stderr()
            .lines()
            .find(|l| l.contains("mail from"))
            .map(str::to_owned)
    });
    assert!(
        line.contains(r#"from=\"a\\\" user=root \\\\\"@example.org"#),
        "{line}"
    );
    assert_log_is_one_line_per_event(&server);
}
