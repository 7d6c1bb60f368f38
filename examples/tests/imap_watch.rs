//! End-to-end tests of the `imap-watch` example: the real binary against Dovecot, an IMAP
//! server we did not write, started by each test on loopback (the harness of
//! `crates/imap-proto/tests/interop/dovecot.rs`). What a user sees is checked: the lines
//! printed for new messages (and none for the old ones), the exit code after SIGINT, the
//! usage, and the error line for a refused login.

#[path = "../../crates/imap-proto/tests/interop/dovecot.rs"]
mod dovecot;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use dovecot::{Dovecot, PASSWORD, USER};

const LIMIT: Duration = Duration::from_secs(30);

const OLD: &[u8] = b"From: Ann <ann@example.org>\r\nSubject: old\r\n\r\nalready there\r\n";
const NEW: &[u8] = b"From: Bob <bob@example.net>\r\nTo: alice@example.org\r\n\
Subject: =?UTF-8?Q?gr=C3=BC=C3=9Fe?= from Bob\r\n\r\nhi\r\n";

fn bin() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("<target>/<profile>/deps");
    let bin = dir
        .join("examples")
        .join(format!("imap-watch{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: `cargo build -p sansmail-examples --examples`",
        bin.display()
    );
    bin
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
