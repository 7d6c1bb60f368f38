//! End-to-end tests of the `imap-watch` example: the real binary against Dovecot, an IMAP
//! server we did not write, started by each test on loopback (the harness of
//! `crates/imap-proto/tests/interop/dovecot.rs`). What a user sees is checked: the lines
//! printed for new messages (and none for the old ones), the exit code after SIGINT, the
//! usage, and the error line for a refused login. A scripted server (at the end) plays the
//! hostile or broken cases Dovecot does not.

#[path = "../../crates/imap-proto/tests/interop/dovecot.rs"]
mod dovecot;
mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use dovecot::{Dovecot, PASSWORD, USER};

const LIMIT: Duration = Duration::from_secs(30);

const OLD: &[u8] = b"From: Ann <ann@example.org>\r\nSubject: old\r\n\r\nalready there\r\n";
const NEW: &[u8] = b"From: Bob <bob@example.net>\r\nTo: alice@example.org\r\n\
Subject: =?UTF-8?Q?gr=C3=BC=C3=9Fe?= from Bob\r\n\r\nhi\r\n";

fn bin() -> PathBuf {
    support::example_bin("imap-watch")
}

/// The lines a child writes to one of its streams, as they come.
fn lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line that `wanted` accepts; every line seen is kept in `seen`.
fn wait_for(
    rx: &mpsc::Receiver<String>,
    seen: &mut Vec<String>,
    wanted: impl Fn(&str) -> bool,
) -> String {
    loop {
        match rx.recv_timeout(LIMIT) {
            Ok(line) => {
                seen.push(line.clone());
                if wanted(&line) {
                    return line;
                }
            }
            Err(_) => panic!("no such line in time; seen: {seen:?}"),
        }
    }
}

fn watch(dovecot: &Dovecot, tls: &str, password: &str) -> Child {
    let port = if tls == "implicit" {
        dovecot.tls_port
    } else {
        dovecot.port
    };
    Command::new(bin())
        .args(["--server", &format!("127.0.0.1:{port}"), "--tls", tls])
        .args(["--insecure", "--user", USER, "--password", password])
        .args(["--mailbox", "INBOX", "--timeout", "20"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("imap-watch starts")
}

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success());
}

/// Waits for the child to exit, killing it past [`LIMIT`].
fn exit_code(child: &mut Child) -> Option<i32> {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status.code();
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("imap-watch did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn new_message_line_then_sigint(tls: &str) {
    let Some(dovecot) = Dovecot::start(&format!("watch-{tls}")) else {
        return;
    };
    dovecot.append(OLD);
    let mut child = watch(&dovecot, tls, PASSWORD);
    let stdout = lines(child.stdout.take().expect("stdout"));
    let stderr = lines(child.stderr.take().expect("stderr"));
    let mut errors = Vec::new();
    let started = wait_for(&stderr, &mut errors, |l| {
        l.starts_with("imap-watch: watching")
    });
    assert_eq!(started, "imap-watch: watching INBOX (1 messages)");
    dovecot.append(NEW);
    let mut out = Vec::new();
    let line = wait_for(&stdout, &mut out, |_| true);
    assert_eq!(line, "2\tbob@example.net\tgr\u{fc}\u{df}e from Bob");
    // Still watching: a third message is printed too.
    dovecot.append(b"From: carol@example.com\r\n\r\nno subject\r\n");
    let line = wait_for(&stdout, &mut out, |_| true);
    assert_eq!(line, "3\tcarol@example.com\t-");
    interrupt(&child);
    assert_eq!(exit_code(&mut child), Some(0), "stderr: {errors:?}");
    // Nothing more was printed, and the old message never was.
    let rest: Vec<String> = stdout.try_iter().collect();
    assert!(rest.is_empty(), "{rest:?}");
    assert_eq!(out.len(), 2);
}

#[test]
fn prints_new_messages_over_starttls_and_exits_0_on_sigint() {
    new_message_line_then_sigint("starttls");
}

#[test]
fn prints_new_messages_over_implicit_tls_and_exits_0_on_sigint() {
    new_message_line_then_sigint("implicit");
}

#[test]
fn a_refused_login_is_an_error_line_and_exit_1() {
    let Some(dovecot) = Dovecot::start("watch-wrong") else {
        return;
    };
    let mut child = watch(&dovecot, "implicit", "wrong password");
    let stderr = lines(child.stderr.take().expect("stderr"));
    assert_eq!(exit_code(&mut child), Some(1));
    let errors: Vec<String> = stderr.iter().collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("imap-watch: login refused: "),
        "{errors:?}"
    );
    assert!(!errors[0].contains("wrong password"));
}

#[test]
fn help_prints_the_usage_and_exit_0() {
    let out = Command::new(bin())
        .args(["--server", "127.0.0.1:1", "--help"])
        .output()
        .expect("imap-watch runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.starts_with("imap-watch: "), "{text}");
    assert!(text.contains("--mailbox NAME"));
    assert!(out.stderr.is_empty());
    // A wrong command line: exit 2 and one error line.
    let out = Command::new(bin())
        .args(["--server", "127.0.0.1:1", "--tls", "maybe"])
        .output()
        .expect("imap-watch runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("imap-watch: invalid value `maybe`"));
}

// ---- Review (issue 18): imap-watch against a scripted server that misbehaves ----

/// A scripted IMAP server on loopback for one connection, plaintext (`--tls none`).
struct Fake {
    port: u16,
    /// Every command line the client sent, as it comes.
    commands: mpsc::Receiver<String>,
    server: std::thread::JoinHandle<()>,
}

/// What the scripted server does at certain points.
#[derive(Clone, Copy)]
enum Script {
    /// A new message (UID 3) arrives while the client fetches UID 2, announced by an
    /// `* 3 EXISTS` before that FETCH's OK (as Dovecot does), not in its results.
    ArrivesDuringFetch,
    /// The subject of UID 2 is a literal holding a bare CR LF and a forged field.
    SubjectWithNewline,
    /// The server closes the connection during the first IDLE.
    DropsDuringIdle,
    /// A second message arrives when the test says so (through `go`).
    TwoMessages,
    /// An IMAP4rev2-only server: IDLE is part of IMAP4rev2 (RFC 9051 section 6.3.13), so
    /// the capability list does not name it.
    Rev2Only,
    /// An IMAP4rev1 server without IDLE: a new message is announced in the answer to the
    /// first NOOP; IDLE is answered BAD.
    NoIdle,
    /// UID 4294967295, the largest, is reached: with `uidnext`, SELECT says UIDNEXT
    /// 4294967295 and the next message takes it; without, the message already there has it
    /// (a restart after it was printed). Then another message arrives.
    MaxUid { uidnext: bool },
}

fn envelope(uid: u32, subject: &str) -> String {
    format!(
        "* {uid} FETCH (UID {uid} ENVELOPE (NIL {subject} ((\"Bob\" NIL \"bob\" \"example.net\")) \
         NIL NIL NIL NIL NIL NIL NIL))\r\n"
    )
}

fn fake(script: Script, go: Option<mpsc::Receiver<()>>) -> Fake {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, commands) = mpsc::channel();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        stream.set_read_timeout(Some(LIMIT)).expect("timeout");
        let mut out = stream.try_clone().expect("clone");
        let mut input = BufReader::new(stream);
        let mut send = |text: &str| {
            let _ = out.write_all(text.as_bytes());
        };
        let caps = match script {
            Script::Rev2Only => "IMAP4rev2",
            Script::NoIdle => "IMAP4rev1",
            _ => "IMAP4rev1 IDLE",
        };
        send(&format!("* OK [CAPABILITY {caps} AUTH=PLAIN] fake\r\n"));
        let mut idle_tag = String::new();
        let mut idles = 0;
        let mut fetches = 0;
        let mut noops = 0;
        loop {
            let mut line = String::new();
            match input.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = line.trim_end().to_owned();
            let _ = tx.send(line.clone());
            let (tag, command) = line.split_once(' ').unwrap_or((line.as_str(), ""));
            let upper = command.to_ascii_uppercase();
            if line == "DONE" {
                send(&format!("{idle_tag} OK idle done\r\n"));
            } else if upper.starts_with("LOGIN") {
                send(&format!("{tag} OK [CAPABILITY {caps}] in\r\n"));
            } else if upper.starts_with("SELECT") {
                match script {
                    Script::MaxUid { uidnext: true } => {
                        send("* 1 EXISTS\r\n* OK [UIDNEXT 4294967295] next\r\n");
                    }
                    Script::MaxUid { uidnext: false } => send("* 1 EXISTS\r\n"),
                    _ => send("* 1 EXISTS\r\n* OK [UIDNEXT 2] next\r\n"),
                }
                send(&format!("{tag} OK [READ-WRITE] selected\r\n"));
            } else if upper.starts_with("NOOP") {
                noops += 1;
                if let (Script::NoIdle, 1) = (script, noops) {
                    send("* 2 EXISTS\r\n");
                }
                send(&format!("{tag} OK noop\r\n"));
            } else if upper.starts_with("IDLE") && matches!(script, Script::NoIdle) {
                send(&format!("{tag} BAD no IDLE here\r\n"));
            } else if upper.starts_with("FETCH *") {
                // The last message's UID, asked for without UIDNEXT.
                send(&format!(
                    "* 1 FETCH (UID {})\r\n{tag} OK fetched\r\n",
                    u32::MAX
                ));
            } else if upper.starts_with("UID FETCH") && matches!(script, Script::MaxUid { .. }) {
                fetches += 1;
                // Whatever the range, the server sends the message with UID 4294967295 (as
                // `1:*` or `4294967295:*` would).
                send(&format!(
                    "* 2 FETCH (UID {} ENVELOPE (NIL \"last\" ((\"Bob\" NIL \"bob\" \"example.net\")) \
                     NIL NIL NIL NIL NIL NIL NIL))\r\n{tag} OK fetched\r\n",
                    u32::MAX
                ));
            } else if upper.starts_with("IDLE") {
                idles += 1;
                idle_tag = tag.to_owned();
                send("+ idling\r\n");
                match (script, idles) {
                    (Script::DropsDuringIdle, _) => return,
                    (Script::MaxUid { .. }, 2) => send("* 3 EXISTS\r\n"),
                    (_, 1) => send("* 2 EXISTS\r\n"),
                    (Script::TwoMessages, 2) => {
                        if let Some(go) = &go {
                            let _ = go.recv_timeout(LIMIT);
                        }
                        send("* 3 EXISTS\r\n");
                    }
                    _ => {}
                }
            } else if upper.starts_with("UID FETCH") {
                fetches += 1;
                let from: u32 = upper
                    .trim_start_matches("UID FETCH ")
                    .split(':')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                let exists = match (script, fetches) {
                    (Script::ArrivesDuringFetch, 1)
                    | (Script::TwoMessages, 1)
                    | (Script::NoIdle, _) => 2,
                    _ => 3,
                };
                for uid in from.max(2)..=exists {
                    let subject = match script {
                        Script::SubjectWithNewline if uid == 2 => {
                            "{26}\r\nhello\r\nSubject: forged xyz".to_owned()
                        }
                        _ => format!("\"message {uid}\""),
                    };
                    send(&envelope(uid, &subject));
                }
                if let (Script::ArrivesDuringFetch, 1) = (script, fetches) {
                    send("* 3 EXISTS\r\n");
                }
                send(&format!("{tag} OK fetched\r\n"));
            } else if upper.starts_with("LOGOUT") {
                send(&format!("* BYE bye\r\n{tag} OK out\r\n"));
                return;
            } else {
                send(&format!("{tag} BAD what\r\n"));
            }
        }
    });
    Fake {
        port,
        commands,
        server,
    }
}

fn watch_fake(fake: &Fake) -> Child {
    watch_fake_with(fake, &[])
}

fn watch_fake_with(fake: &Fake, extra: &[&str]) -> Child {
    Command::new(bin())
        .args([
            "--server",
            &format!("127.0.0.1:{}", fake.port),
            "--tls",
            "none",
        ])
        .args(["--user", "alice", "--password", "pw", "--timeout", "20"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("imap-watch starts")
}

/// A message announced by `* n EXISTS` at the end of the FETCH of the previous one (after
/// that FETCH's results, as Dovecot announces) is printed at once, not when a third one
/// happens to arrive.
#[test]
fn a_message_announced_during_the_fetch_is_printed_at_once() {
    let fake = fake(Script::ArrivesDuringFetch, None);
    let mut child = watch_fake(&fake);
    let stdout = lines(child.stdout.take().expect("stdout"));
    let mut out = Vec::new();
    assert_eq!(
        wait_for(&stdout, &mut out, |_| true),
        "2\tbob@example.net\tmessage 2"
    );
    assert_eq!(
        wait_for(&stdout, &mut out, |_| true),
        "3\tbob@example.net\tmessage 3"
    );
    interrupt(&child);
    assert_eq!(exit_code(&mut child), Some(0));
    let sent: Vec<String> = fake.commands.try_iter().collect();
    assert!(
        sent.contains(&"A0005 UID FETCH 3:* (UID ENVELOPE)".to_owned()),
        "{sent:?}"
    );
    let _ = fake.server.join();
}

/// A subject holding a bare CR LF (a literal from a broken or hostile server) stays on its
/// line, escaped, whole: the text after the CR LF is neither dropped nor taken for another
/// field.
#[test]
fn a_subject_with_a_newline_stays_on_one_line_and_whole() {
    let fake = fake(Script::SubjectWithNewline, None);
    let mut child = watch_fake(&fake);
    let stdout = lines(child.stdout.take().expect("stdout"));
    let mut out = Vec::new();
    assert_eq!(
        wait_for(&stdout, &mut out, |_| true),
        "2\tbob@example.net\thello\\u{d}\\u{a}Subject: forged xyz"
    );
    interrupt(&child);
    assert_eq!(exit_code(&mut child), Some(0));
    let _ = fake.server.join();
}

/// A server that drops the connection: exit 1 and one line saying so.
#[test]
fn a_dropped_connection_is_exit_1_with_a_message() {
    let fake = fake(Script::DropsDuringIdle, None);
    let mut child = watch_fake(&fake);
    let stderr = lines(child.stderr.take().expect("stderr"));
    assert_eq!(exit_code(&mut child), Some(1));
    let errors: Vec<String> = stderr.iter().collect();
    assert_eq!(
        errors.last().map(String::as_str),
        Some("imap-watch: the server closed the connection"),
        "{errors:?}"
    );
    let _ = fake.server.join();
}

/// `--tls none` sends the password in clear: imap-watch says so on standard error.
#[test]
fn tls_none_warns_that_the_password_goes_in_clear() {
    let fake = fake(Script::DropsDuringIdle, None);
    let mut child = watch_fake(&fake);
    let stderr = lines(child.stderr.take().expect("stderr"));
    assert_eq!(exit_code(&mut child), Some(1));
    let errors: Vec<String> = stderr.iter().collect();
    assert_eq!(
        errors.first().map(String::as_str),
        Some("imap-watch: warning: --tls none: the password crosses the network in clear"),
        "{errors:?}"
    );
    assert!(!errors.iter().any(|l| l.contains("pw")), "{errors:?}");
    let _ = fake.server.join();
}

/// When the reader of standard output goes away (`imap-watch | head -1`), the next line
/// ends the watch with an error line and exit 1, not a panic.
#[test]
fn a_closed_standard_output_ends_the_watch_without_a_panic() {
    let (go_tx, go) = mpsc::channel();
    let fake = fake(Script::TwoMessages, Some(go));
    let mut child = watch_fake(&fake);
    let stderr = lines(child.stderr.take().expect("stderr"));
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    reader.read_line(&mut first).expect("first line");
    assert_eq!(first, "2\tbob@example.net\tmessage 2\n");
    drop(reader);
    go_tx.send(()).expect("server waits");
    assert_eq!(exit_code(&mut child), Some(1));
    let errors: Vec<String> = stderr.iter().collect();
    assert!(!errors.iter().any(|l| l.contains("panicked")), "{errors:?}");
    assert!(
        errors
            .last()
            .is_some_and(|l| l.starts_with("imap-watch: cannot write to standard output")),
        "{errors:?}"
    );
}

/// SIGINT while the TLS handshake waits on a silent server: exit 0, as after the watch
/// started, not death by the signal.
#[test]
fn sigint_during_the_tls_handshake_exits_0() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mut child = Command::new(bin())
        .args([
            "--server",
            &format!("127.0.0.1:{port}"),
            "--tls",
            "implicit",
        ])
        .args(["--user", "alice", "--password", "pw", "--timeout", "20"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("imap-watch starts");
    // Accepted: the client is past connect() and waits for the handshake.
    let (silent, _) = listener.accept().expect("accept");
    // The ClientHello arrives once the handshake started.
    let mut hello = [0u8; 1];
    use std::io::Read;
    (&silent).read_exact(&mut hello).expect("ClientHello");
    interrupt(&child);
    assert_eq!(exit_code(&mut child), Some(0));
    drop(silent);
}

/// An IMAP4rev2 server need not list IDLE, which IMAP4rev2 includes: imap-watch watches it.
#[test]
fn an_imap4rev2_server_without_an_idle_capability_is_watched() {
    let fake = fake(Script::Rev2Only, None);
    let mut child = watch_fake(&fake);
    let stdout = lines(child.stdout.take().expect("stdout"));
    let stderr = lines(child.stderr.take().expect("stderr"));
    let mut out = Vec::new();
    let first = stdout.recv_timeout(LIMIT);
    if first.is_err() {
        let _ = child.kill();
        let errors: Vec<String> = stderr.try_iter().collect();
        panic!("no line; stderr: {errors:?}");
    }
    out.push(first.unwrap_or_default());
    assert_eq!(out, ["2\tbob@example.net\tmessage 2"]);
    interrupt(&child);
    assert_eq!(exit_code(&mut child), Some(0));
    let _ = fake.server.join();
}

/// A server that offers neither IDLE nor IMAP4rev2 is polled with NOOP: a line on standard
/// error says so, a message announced in a NOOP's answer is printed, and no IDLE is sent
/// (the client refuses it locally with `ClientError::NotAdvertised`).
#[test]
fn a_server_without_idle_is_polled_with_noop() {
    let fake = fake(Script::NoIdle, None);
    let mut child = watch_fake_with(&fake, &["--poll", "1"]);
    let stdout = lines(child.stdout.take().expect("stdout"));
    let stderr = lines(child.stderr.take().expect("stderr"));
    let mut errors = Vec::new();
    wait_for(&stderr, &mut errors, |l| {
        l == "imap-watch: the server does not offer IDLE: polling with NOOP every 1 s"
    });
    let started = wait_for(&stderr, &mut errors, |l| {
        l.starts_with("imap-watch: watching")
    });
    assert_eq!(started, "imap-watch: watching INBOX (1 messages)");
    let mut out = Vec::new();
    assert_eq!(
        wait_for(&stdout, &mut out, |_| true),
        "2\tbob@example.net\tmessage 2"
    );
    interrupt(&child);
    assert_eq!(exit_code(&mut child), Some(0), "stderr: {errors:?}");
    let sent: Vec<String> = fake.commands.try_iter().collect();
    assert!(sent.contains(&"A0003 NOOP".to_owned()), "{sent:?}");
    assert!(
        sent.contains(&"A0004 UID FETCH 2:* (UID ENVELOPE)".to_owned()),
        "{sent:?}"
    );
    assert!(!sent.iter().any(|c| c.contains("IDLE")), "{sent:?}");
    let _ = fake.server.join();
}

/// Once UID 4294967295, the largest, was seen (printed, or the last message at a restart),
/// imap-watch never asks for `UID FETCH 4294967296:*` (no UID) nor wraps to `1:*` (which
/// would print the old messages again): it fetches nothing more and says why once.
#[test]
fn the_largest_uid_is_never_passed_nor_wrapped() {
    for uidnext in [true, false] {
        let fake = fake(Script::MaxUid { uidnext }, None);
        let mut child = watch_fake(&fake);
        let stdout = lines(child.stdout.take().expect("stdout"));
        let stderr = lines(child.stderr.take().expect("stderr"));
        let mut out = Vec::new();
        if uidnext {
            // The message that takes UID 4294967295 is printed.
            assert_eq!(
                wait_for(&stdout, &mut out, |_| true),
                "4294967295\tbob@example.net\tlast"
            );
        }
        let mut errors = Vec::new();
        wait_for(&stderr, &mut errors, |l| {
            l.starts_with("imap-watch: UID 4294967295, the largest, was seen")
        });
        interrupt(&child);
        assert_eq!(exit_code(&mut child), Some(0), "stderr: {errors:?}");
        let sent: Vec<String> = fake.commands.try_iter().collect();
        let fetches: Vec<&String> = sent.iter().filter(|c| c.contains("UID FETCH")).collect();
        if uidnext {
            assert_eq!(
                fetches,
                ["A0004 UID FETCH 4294967295:* (UID ENVELOPE)"],
                "{sent:?}"
            );
        } else {
            assert!(fetches.is_empty(), "{sent:?}");
        }
        // Nothing else printed: the message the server sends again is not new.
        let rest: Vec<String> = stdout.try_iter().collect();
        assert!(rest.is_empty(), "{rest:?}");
        let _ = fake.server.join();
    }
}
