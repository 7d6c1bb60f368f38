//! Issue 14, item 5 (the logging half): forged log lines. Under SMTPUTF8 a client could put
//! U+0085, U+2028, U+202E or C1 controls in an address or an EHLO name, and the server wrote
//! them raw to its log, so a reader splitting lines saw a forged `INFO authenticated
//! user=root`. Against the real `mail-server` binary: whatever the client sends, accepted or
//! refused, the log stays one line per event with every client string escaped (backslash and
//! double quote too, so a value cannot end early). The escaper itself is unit-tested on every
//! risky character in `mail-server/logsafe.rs`.

mod support;

use support::*;

fn start(tag: &str, extra: &[&str]) -> (TempDir, MailServer) {
    let dir = TempDir::new(tag);
    let mut args = users();
    args.extend(extra.iter().map(|s| s.to_string()));
    let server = MailServer::start(&dir.path().join("data"), &args);
    (dir, server)
}

/// Characters that end a line for some readers, steer a terminal, or reverse the reading
/// order: NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR, RIGHT-TO-LEFT OVERRIDE, CSI (C1), ESC.
const RISKY: [char; 6] = [
    '\u{85}', '\u{2028}', '\u{2029}', '\u{202e}', '\u{9b}', '\u{1b}',
];

/// Every line of the log is an event of the server: it starts with the timestamp
/// `tracing-subscriber` writes (`2026-12-06T20:41:26...`), no risky character is in it raw, and
/// none is a forged event.
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
    // No event of the server is a forged `authenticated` for root: the text a client sends
    // only ever appears inside a value.
    let forged = log
        .lines()
        .any(|l| l.split_whitespace().nth(2) == Some("authenticated") && l.contains("user=root"));
    assert!(!forged, "{log}");
}

/// Risky characters in the EHLO name and the MAIL address, under SMTPUTF8: the protocol may
/// refuse them or accept them, but the log never carries them raw; what is accepted is logged
/// with the character escaped.
#[test]
fn risky_characters_from_the_client_never_reach_the_log_raw() {
    let (_dir, server) = start("forged-utf8", &[]);
    let mut expected = Vec::new();
    for c in RISKY {
        let escape = format!("\\u{{{:x}}}", u32::from(c));
        let mut conn = server.relay();
        let reply = conn.cmd(&format!("EHLO client{c}forged.example"));
        if reply.code == 250 {
            expected.push(format!("helo=client{escape}forged.example"));
        }
        conn.cmd_expect("EHLO client.example", 250);
        let reply = conn.cmd(&format!(
            "MAIL FROM:<x{c}INFO=authenticated@example.org> SMTPUTF8"
        ));
        if reply.code == 250 {
            expected.push(format!("from=x{escape}INFO=authenticated@example.org"));
        }
        conn.cmd_expect("RSET", 250);
        conn.cmd_expect("MAIL FROM:<jöran@bücher.example> SMTPUTF8", 250);
        // Refused recipients are logged too (an unknown local user, another domain) when they
        // make an account address, which holds no control or white space.
        for domain in ["localhost", "example.org"] {
            let reply = conn.cmd(&format!("RCPT TO:<x{c}y@{domain}>"));
            if reply.code == 550 && !c.is_control() && !c.is_whitespace() {
                expected.push(format!("to=x{escape}y@{domain}"));
            }
        }
        conn.cmd_expect("QUIT", 221);
        conn.expect_eof();
    }
    poll("the sessions logged", || {
        (server.stderr().matches("session closed").count() >= RISKY.len()).then_some(())
    });
    let log = server.stderr();
    for escaped in &expected {
        assert!(log.contains(escaped.as_str()), "{escaped} not in\n{log}");
    }
    // Ordinary UTF-8 is logged as it is.
    assert!(log.contains("from=jöran@bücher.example"), "{log}");
    assert_log_is_one_line_per_event(&server);
}

/// A quoted local part may hold a double quote and a backslash (RFC 5321 quoted-pair). The
/// log escapes both, so the value cannot end early and pass the rest for another field.
#[test]
fn quotes_and_backslashes_in_an_address_are_escaped_in_the_log() {
    let (_dir, server) = start("forged-quote", &[]);
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
        line.contains(r#"from="\"a\\\" user=root \\\\\"@example.org""#),
        "{line}"
    );
    assert_log_is_one_line_per_event(&server);
}

/// The user name of an AUTH attempt is any UTF-8 the client likes (SASL PLAIN's authcid), and
/// the failure is logged with it: every risky character in it is written as an escape, in the
/// one line of the failure.
#[test]
fn the_user_name_of_a_failed_login_is_escaped_in_the_log() {
    let (_dir, server) = start(
        "forged-user",
        &["--allow-plaintext-auth", "--auth-failure-delay", "1"],
    );
    let forged: String = RISKY
        .iter()
        .map(|c| format!("x{c}INFO authenticated user=root "))
        .collect();
    let mut conn = Smtp::connect(server.submission);
    conn.expect(220);
    conn.cmd_expect("EHLO client.example", 250);
    let plain = format!("\0{forged}\0wrong-guess");
    conn.cmd_expect(&format!("AUTH PLAIN {}", base64(plain.as_bytes())), 535);
    conn.cmd_expect("QUIT", 221);
    let line = poll("the failure logged", || {
        server
            .stderr()
            .lines()
            .find(|l| l.contains("authentication failed"))
            .map(str::to_owned)
    });
    // Quoted, since it holds spaces: the `user=root` inside is no field of the line.
    let escaped = "user=\"x\\u{85}INFO authenticated user=root x\\u{2028}INFO authenticated \
                   user=root x\\u{2029}INFO authenticated user=root x\\u{202e}INFO \
                   authenticated user=root x\\u{9b}INFO authenticated user=root \
                   x\\u{1b}INFO authenticated user=root \"";
    assert!(line.contains(escaped), "{line}");
    assert_log_is_one_line_per_event(&server);
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            match i <= chunk.len() {
                true => out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize])),
                false => out.push('='),
            }
        }
    }
    out
}
