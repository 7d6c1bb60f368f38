//! Issue 14 review: attacks on the listener policy and the login guard of the example mail
//! server that the first implementation let through. Each test reproduces one attack against
//! the real `mail-server` binary on loopback; timing assertions are lower bounds only.

mod support;

use std::time::{Duration, Instant};

use support::*;

fn start(tag: &str, extra: &[&str]) -> (TempDir, MailServer) {
    let dir = TempDir::new(tag);
    let mut args = users();
    args.extend(["--allow-plaintext-auth".to_owned()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let server = MailServer::start(&dir.path().join("data"), &args);
    (dir, server)
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
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `AUTH PLAIN` with the initial response for `user` and `password`.
fn auth_plain(user: &str, password: &str) -> String {
    format!(
        "AUTH PLAIN {}",
        base64(format!("\0{user}\0{password}").as_bytes())
    )
}

/// A plaintext submission session (the server runs with `--allow-plaintext-auth`) after EHLO.
fn submission(server: &MailServer) -> Smtp {
    let mut conn = Smtp::connect(server.submission);
    conn.expect(220);
    conn.cmd_expect("EHLO guesser.example", 250);
    conn
}

/// How many failed logins the log shows.
fn failures_logged(server: &MailServer) -> usize {
    server
        .stderr()
        .lines()
        .filter(|l| l.contains(" authentication failed peer="))
        .count()
}

/// A success is answered at once and a failure only after the delay, so a guesser need not wait
/// for the `535`: no `235` within the time a check takes means "wrong", and it hangs up and
/// tries the next password on a new connection. The first implementation only held back the
/// failure replies, so such a guesser was never slowed by the per-client penalty. Now a check
/// from a client with recent failures waits until the last failure's delay has passed, so the
/// guess that happens to be right is answered no sooner than that.
#[test]
fn a_guesser_that_hangs_up_before_the_535_still_waits_out_its_penalty() {
    let (_dir, server) = start(
        "hangup-guesser",
        &["--auth-failure-delay", "2", "--auth-penalty-max", "15"],
    );
    // Two wrong guesses; the guesser hangs up as soon as each check is done (the log shows it),
    // without reading the 535.
    for n in 1..=2 {
        let mut conn = submission(&server);
        conn.send(format!("{}\r\n", auth_plain(ALICE, "wrong-guess")));
        poll("the failure logged", || {
            (failures_logged(&server) >= n).then_some(())
        });
        conn.close();
    }
    let failed = Instant::now();
    // The next guess is right. Its check waits out the delay of the last failure (4 s: the
    // second failure of the client); 2 s is a safe lower bound.
    let mut conn = submission(&server);
    conn.cmd_expect(&auth_plain(ALICE, ALICE_PASSWORD), 235);
    let waited = failed.elapsed();
    assert!(waited >= Duration::from_secs(2), "235 after {waited:?}");
    conn.cmd_expect("QUIT", 221);
}

/// The junk limit counts NOOP, RSET, VRFY, EXPN and HELP, but a greeting is no junk command
/// and resets the idle time, so a client that sent `EHLO` instead of `NOOP` every few seconds
/// held its place for ever (the attack of issue 14 with another verb). Now greetings repeated
/// before login (beyond the one after each TLS start) count against the junk allowance: past
/// it each counts as an error, and the error limit closes the session.
#[test]
fn repeated_greetings_cannot_hold_a_place_for_ever() {
    let (_dir, server) = start(
        "hello-loop",
        &["--max-junk-commands", "3", "--max-errors", "2"],
    );
    let mut conn = server.relay();
    let mut codes = Vec::new();
    for _ in 0..40 {
        conn.send(b"EHLO keepalive.example\r\n");
        match conn.try_reply() {
            Some(reply) => {
                codes.push(reply.code);
                if reply.code == 421 {
                    break;
                }
            }
            None => break,
        }
    }
    // The first greeting and three repeats are served; then each repeat is an error.
    assert_eq!(&codes[..4], [250, 250, 250, 250], "{codes:?}");
    assert_eq!(codes.last(), Some(&421), "{codes:?}");
    assert!(codes.len() <= 8, "{codes:?}");
    conn.expect_eof();
}

/// Runs the command that follows with its open-files limit (soft and hard) set to the first
/// argument.
const PY_NOFILE: &str = "import os, resource, sys
n = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
os.execv(sys.argv[2], sys.argv[2:])";

/// The pools are per listener, but the open-files limit is one for the process: under the
/// usual soft limit of 1024 (here 256), relay connections (each pool 1,000 by default) used up
/// every descriptor, `accept` failed on submission, and a submission user got no greeting while
/// the relay was full. Now the pools are cut at start to fit the limit, each keeping its share,
/// so the relay refuses its extra clients with `421` and submission still serves.
#[test]
fn a_full_relay_cannot_use_up_the_descriptors_of_submission() {
    if !have_python() {
        return;
    }
    let dir = TempDir::new("nofile");
    let mut args = users();
    args.push("--allow-plaintext-auth".to_owned());
    let wrapper = ["python3", "-c", PY_NOFILE, "256"].map(str::to_owned);
    let server = MailServer::start_wrapped(&dir.path().join("data"), &args, &wrapper);
    // 300 relay clients that only read the greeting and stay: more than the process can hold.
    let mut relay = Vec::new();
    let mut refused = 0;
    for _ in 0..300 {
        let mut conn = Smtp::connect(server.smtp);
        conn.stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout");
        let mut byte = [0u8; 4];
        match std::io::Read::read(&mut conn.stream, &mut byte) {
            Ok(4) if &byte == b"421 " => refused += 1,
            _ => relay.push(conn),
        }
    }
    let mut conn = submission(&server);
    conn.cmd_expect(&auth_plain(ALICE, ALICE_PASSWORD), 235);
    conn.cmd_expect("QUIT", 221);
    assert!(refused > 0, "the relay took all 300 connections");
    drop(relay);
    assert!(
        server.stderr().contains("open-files limit"),
        "{}",
        server.logs()
    );
}

/// The `key=value` fields of a log line as a logfmt reader splits them: at spaces outside
/// double quotes, with a backslash escaping the next character inside them.
fn logfmt_keys(line: &str) -> Vec<String> {
    let (mut keys, mut token, mut quoted, mut escaped) = (Vec::new(), String::new(), false, false);
    for c in line.chars().chain([' ']) {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if let Some((key, _)) = token.split_once('=') {
                    keys.push(key.to_owned());
                }
                token.clear();
                continue;
            }
            _ => {}
        }
        token.push(c);
    }
    keys
}

/// Escaping quotes and backslashes was said to keep a value from ending early, but the values
/// were written without quotes, so a space ended them: a user name (or a quoted local part)
/// holding ` peer=10.9.8.7:25 user=root` added fields of its own to the line, and a reader
/// (or a ban filter matching `peer=`) took them for the server's. Now a value holding white
/// space is written in double quotes, so it stays one field.
#[test]
fn a_client_string_with_spaces_cannot_add_fields_to_a_log_line() {
    let (_dir, server) = start("forged-fields", &["--auth-failure-delay", "1"]);
    let mut conn = submission(&server);
    conn.cmd_expect(&auth_plain("mallory peer=10.9.8.7:25 user=root", "x"), 535);
    conn.cmd_expect("QUIT", 221);
    let mut relay = server.relay();
    relay.cmd_expect("EHLO client.example", 250);
    relay.cmd_expect(r#"MAIL FROM:<"a peer=10.9.8.7:25"@example.org>"#, 250);
    relay.cmd_expect("QUIT", 221);
    for event in ["authentication failed", "mail from"] {
        let line = poll(event, || {
            server
                .stderr()
                .lines()
                .find(|l| l.contains(&format!(" {event} ")))
                .map(str::to_owned)
        });
        let keys = logfmt_keys(&line);
        assert_eq!(keys.iter().filter(|k| *k == "peer").count(), 1, "{line}");
        assert!(keys.iter().filter(|k| *k == "user").count() <= 1, "{line}");
    }
}

/// The pools are per listener, but the submission port takes anyone before login: clients
/// that connect there and never log in (here they never finish a line) filled its pool, and a
/// user got `421` for as long as they kept reconnecting. Now a full login listener gives the
/// place of its oldest session that has not logged in to the newcomer (as Dovecot's login
/// processes do at their `client_limit`): that session gets `421 4.7.0`, and the user is
/// served.
#[test]
fn clients_that_never_log_in_cannot_keep_a_user_off_submission() {
    let (_dir, server) = start("evict", &["--max-connections-submission", "4"]);
    let mut idle: Vec<Smtp> = (0..4)
        .map(|_| {
            let mut conn = Smtp::connect(server.submission);
            conn.expect(220);
            conn.send(b"EHLO never-fini");
            conn
        })
        .collect();
    let mut user = submission(&server);
    user.cmd_expect(&auth_plain(ALICE, ALICE_PASSWORD), 235);
    // The oldest idle session made room.
    let reply = idle[0].expect(421);
    assert!(reply.text().starts_with("4.7.0"), "{reply:?}");
    idle[0].expect_eof();
    // A logged-in session is never evicted: four newcomers take the other idle places.
    let newcomers: Vec<Smtp> = (0..4)
        .map(|_| {
            let mut conn = Smtp::connect(server.submission);
            conn.expect(220);
            conn
        })
        .collect();
    for conn in &mut idle[1..] {
        conn.expect(421);
    }
    user.cmd_expect("MAIL FROM:<alice@localhost>", 250);
    user.cmd_expect("QUIT", 221);
    drop(newcomers);
}

/// An evicted session must not outlive its place: one waiting out its client's login penalty
/// (up to 15 s) would otherwise stay open beyond the pool while newcomers keep evicting, and
/// a flood of such sessions would hold descriptors without bound. Its wait is cut short: the
/// session's next reply is the `421`, not the answer to its login.
#[test]
fn an_evicted_session_does_not_wait_out_its_login_penalty() {
    let (_dir, server) = start(
        "evict-penalty",
        &[
            "--max-connections-submission",
            "2",
            "--auth-failure-delay",
            "5",
        ],
    );
    // A failure: the client's next check waits until 5 s after it.
    let mut guesser = submission(&server);
    guesser.send(format!("{}\r\n", auth_plain(ALICE, "wrong-guess")));
    poll("the failure logged", || {
        (failures_logged(&server) >= 1).then_some(())
    });
    guesser.close();
    // The oldest session now waits in its login penalty; a newcomer evicts it.
    let mut waiting = submission(&server);
    waiting.send(format!("{}\r\n", auth_plain(ALICE, ALICE_PASSWORD)));
    let mut second = Smtp::connect(server.submission);
    second.expect(220);
    let mut newcomer = Smtp::connect(server.submission);
    newcomer.expect(220);
    let reply = waiting.expect(421);
    assert!(reply.text().starts_with("4.7.0"), "{reply:?}");
    waiting.expect_eof();
    drop((second, newcomer));
}

/// A connection evicted during its implicit-TLS handshake ends at once rather than at the
/// handshake deadline (100 s here), so connections that never handshake cannot pile up beyond
/// the pool while newcomers evict them.
#[test]
fn a_connection_evicted_in_its_tls_handshake_is_closed() {
    let (_dir, server) = start(
        "evict-tls",
        &[
            "--max-connections-submissions",
            "1",
            "--tls-handshake-timeout",
            "100",
            "--stress-threshold",
            "100",
        ],
    );
    let mut silent = Smtp::connect(server.submissions);
    // Accepted and in its handshake before the newcomer comes.
    poll("the first connection accepted", || {
        server.stderr().contains("connected").then_some(())
    });
    let _newcomer = Smtp::connect(server.submissions);
    assert_eq!(silent.expect_eof(), b"", "nothing is sent in plaintext");
}
