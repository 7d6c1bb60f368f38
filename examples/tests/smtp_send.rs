//! End-to-end tests of the `smtp-send` example: the real binary (built by `cargo test` next to
//! this test binary) against Python's `aiosmtpd`, a server we did not write, started by each
//! test on 127.0.0.1 with an ephemeral port (`crates/smtp-proto/tests/support/aiosmtpd_server.py`).
//!
//! The Python interpreter is `$SANSMAIL_PYTHON`, else `python3`. Without `aiosmtpd` the tests
//! print why and pass, except under `CI=true`, where they fail.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::{ci, example_bin};

const LIMIT: Duration = Duration::from_secs(30);
const PASSWORD: &str = "correct horse battery staple";

fn python() -> Option<PathBuf> {
    let python = std::env::var_os("SANSMAIL_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"));
    let ok = Command::new(&python)
        .args(["-c", "import aiosmtpd.smtp"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(python);
    }
    assert!(
        !ci(),
        "CI=true: aiosmtpd is not importable by {}; `.ci/run` installs it into .venv-ci",
        python.display()
    );
    eprintln!(
        "SKIPPED: aiosmtpd is not importable by {} (set SANSMAIL_PYTHON to a Python that has \
         it; these tests never skip with CI=true)",
        python.display()
    );
    None
}

/// A running aiosmtpd with its output directory; stopped and removed on drop.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    dir: PathBuf,
}

impl Server {
    fn start(python: &Path, options: &[&str]) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "smtp-send-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("mail")).expect("temp dir");
        let cert = mail_tls::dev_certs::generate(&["localhost", "127.0.0.1"])
            .expect("certificate")
            .write(&dir.join("cert.pem"), &dir.join("key.pem"))
            .expect("write certificate");
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../crates/smtp-proto/tests/support/aiosmtpd_server.py");
        let mut child = Command::new(python)
            .arg("-u")
            .arg(script)
            .arg("--outdir")
            .arg(dir.join("mail"))
            .arg("--cert")
            .arg(&cert.cert)
            .arg("--key")
            .arg(&cert.key)
            .args(options)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start aiosmtpd");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(LIMIT).unwrap_or_default();
        let mut server = Server {
            child,
            stdin,
            port: 0,
            dir,
        };
        server.port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("aiosmtpd did not start: {line:?}"));
        server
    }

    fn stored(&self, n: usize) -> Option<(String, Vec<u8>)> {
        let mail = self.dir.join("mail");
        let env = std::fs::read_to_string(mail.join(format!("{n}.env"))).ok()?;
        Some((env, std::fs::read(mail.join(format!("{n}.body"))).ok()?))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && !matches!(self.child.try_wait(), Ok(Some(_))) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs smtp-send with `args` and `stdin`; returns (exit code, stdout, stderr).
fn smtp_send(args: &[String], stdin: &[u8]) -> (i32, String, String) {
    smtp_send_with_env(args, stdin, &[])
}

/// [`smtp_send`] with these environment variables set (and `SMTP_SEND_PASSWORD` removed
/// unless given).
fn smtp_send_with_env(
    args: &[String],
    stdin: &[u8],
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let mut child = Command::new(example_bin("smtp-send"))
        .args(args)
        .env_remove("SMTP_SEND_PASSWORD")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run smtp-send");
    let mut input = child.stdin.take().expect("stdin");
    let body = stdin.to_vec();
    std::thread::spawn(move || {
        let _ = input.write_all(&body);
    });
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("smtp-send did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status.code().unwrap_or(-1),
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    )
}

fn args(server: &Server, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["--server".to_owned(), format!("127.0.0.1:{}", server.port)];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[test]
fn sends_over_starttls_with_auth_and_prints_a_redacted_transcript() {
    let Some(python) = python() else {
        return;
    };
    let user = format!("alice:{PASSWORD}");
    let server = Server::start(
        &python,
        &[
            "--tls",
            "starttls",
            "--user",
            &user,
            "--reject",
            "nobody@example.test",
        ],
    );
    let message = b"Subject: smtp-send\n\n.a dotted line\nbye\n";
    let (code, out, err) = smtp_send(
        &args(
            &server,
            &[
                "--tls",
                "starttls",
                "--insecure",
                "--user",
                "alice",
                "--password",
                PASSWORD,
                "--from",
                "alice@client.test",
                "--to",
                "bob@example.test",
            ],
        ),
        message,
    );
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("S: 220 aiosmtpd.test"), "{out}");
    assert!(out.contains("C: STARTTLS\n"), "{out}");
    assert!(out.contains("* TLS established: TLSv1_3"), "{out}");
    assert!(out.contains("C: AUTH PLAIN <redacted>\n"), "{out}");
    assert!(out.contains("C: RCPT TO:<bob@example.test>\n"), "{out}");
    assert!(out.contains("C: <message body: "), "{out}");
    assert!(out.contains("* accepted: 250"), "{out}");
    assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD));
    // The base64 of "\0alice\0correct horse battery staple" does not appear either.
    assert!(!out.contains("AGFsaWNl"), "{out}");
    let (env, body) = server.stored(1).expect("the message was stored");
    assert!(
        env.contains("from alice@client.test\nto bob@example.test\n"),
        "{env}"
    );
    assert!(env.contains("tls 1\nlogin alice\n"), "{env}");
    assert_eq!(body, b"Subject: smtp-send\r\n\r\n.a dotted line\r\nbye\r\n");

    // One recipient refused: exit code 3; every recipient refused: 1.
    let (code, out, _) = smtp_send(
        &args(
            &server,
            &[
                "--insecure",
                "--user",
                "alice",
                "--password",
                PASSWORD,
                "--from",
                "<>",
                "--to",
                "nobody@example.test",
                "--to",
                "carol@example.test",
            ],
        ),
        message,
    );
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("* refused <nobody@example.test>: 550"),
        "{out}"
    );
    let (code, out, err) = smtp_send(
        &args(
            &server,
            &[
                "--insecure",
                "--user",
                "alice",
                "--password",
                PASSWORD,
                "--from",
                "a@b.test",
                "--to",
                "nobody@example.test",
            ],
        ),
        message,
    );
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("every recipient was refused"), "{err}");
    assert!(server.stored(3).is_none());
}

#[test]
fn refuses_to_continue_without_starttls_and_reads_a_file() {
    let Some(python) = python() else {
        return;
    };
    let server = Server::start(&python, &[]);
    let file = server.dir.join("message.eml");
    std::fs::write(&file, b"Subject: file\r\n\r\nfrom a file\r\n").expect("write message");
    let file = file.to_str().expect("utf-8").to_owned();
    // --tls starttls is the default: aiosmtpd without TLS does not offer it.
    let (code, out, err) = smtp_send(
        &args(&server, &["--from", "a@b.test", "--to", "c@d.test", &file]),
        b"",
    );
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("does not offer STARTTLS"), "{err}");
    assert!(!out.contains("C: MAIL"), "{out}");
    assert!(server.stored(1).is_none());

    let (code, out, _) = smtp_send(
        &args(
            &server,
            &[
                "--tls", "none", "--from", "a@b.test", "--to", "c@d.test", &file,
            ],
        ),
        b"",
    );
    assert_eq!(code, 0, "{out}");
    let (_, body) = server.stored(1).expect("stored");
    assert_eq!(body, b"Subject: file\r\n\r\nfrom a file\r\n");

    let (code, _, err) = smtp_send(&["--help".to_owned()], b"");
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = smtp_send(&["--server".to_owned()], b"");
    assert_eq!(code, 2, "{err}");
}

/// A hostile server (`support/hostile_smtp.py`) on 127.0.0.1, in one of its modes.
struct Hostile {
    child: Child,
    lines: mpsc::Receiver<String>,
    port: u16,
    dir: PathBuf,
}

impl Hostile {
    fn start(python: &Path, mode: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "smtp-send-hostile-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let cert = mail_tls::dev_certs::generate(&["localhost", "127.0.0.1"])
            .expect("certificate")
            .write(&dir.join("cert.pem"), &dir.join("key.pem"))
            .expect("write certificate");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/hostile_smtp.py");
        let mut child = Command::new(python)
            .arg("-u")
            .arg(script)
            .args(["--mode", mode, "--cert"])
            .arg(&cert.cert)
            .arg("--key")
            .arg(&cert.key)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the hostile server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let first = lines.recv_timeout(LIMIT).unwrap_or_default();
        let port = first
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the hostile server did not start: {first:?}"));
        Hostile {
            child,
            lines,
            port,
            dir,
        }
    }

    /// What the client sent after the attack, once it closed the connection.
    fn after(&self) -> Vec<u8> {
        let line = self.lines.recv_timeout(LIMIT).unwrap_or_default();
        let hex = line
            .strip_prefix("AFTER ")
            .unwrap_or_else(|| panic!("no AFTER line: {line:?}"));
        (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
            .collect()
    }

    fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Whether `text` holds a character a terminal acts on (other than the newline ending lines).
fn raw_controls(text: &str) -> bool {
    text.chars().any(|c| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

/// The attack: after STARTTLS, the second EHLO is answered with an AUTH LOGIN offer
/// and both challenges in one write. The session ends before any credential goes out, and
/// nothing prints one.
#[test]
fn a_pushed_auth_exchange_ends_the_session_and_shows_no_credential() {
    let Some(python) = python() else {
        return;
    };
    let hostile = Hostile::start(&python, "auth-push");
    let password_file = hostile.dir.join("password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).expect("write password");
    let (code, out, err) = smtp_send(
        &strings(&[
            "--server",
            &hostile.server(),
            "--insecure",
            "--user",
            "alice",
            "--password-file",
            password_file.to_str().expect("utf-8"),
            "--from",
            "alice@client.test",
            "--to",
            "bob@example.test",
        ]),
        b"Subject: x\n\nhi\n",
    );
    let sent = hostile.after();
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    // AUTH LOGIN was queued when the EHLO reply was read; nothing followed it.
    assert_eq!(String::from_utf8_lossy(&sent), "AUTH LOGIN\r\n");
    assert!(
        err.contains("reply to AUTH before it was sent: 334 VXNlcm5hbWU6"),
        "{err}"
    );
    // "alice" and the password, plain and in base64, appear nowhere.
    for secret in [
        PASSWORD,
        "YWxpY2U",
        "Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ",
    ] {
        assert!(!out.contains(secret) && !err.contains(secret), "{secret}");
    }
    assert!(out.contains("C: AUTH LOGIN\n"), "{out}");
    assert!(
        !out.contains("<redacted>"),
        "nothing secret was sent: {out}"
    );
    // --insecure with a password says where the password may go.
    assert!(
        err.contains("warning: --insecure accepts any certificate"),
        "{err}"
    );
}

#[test]
fn server_text_never_reaches_the_terminal_raw() {
    let Some(python) = python() else {
        return;
    };
    let hostile = Hostile::start(&python, "greeting");
    let (code, out, err) = smtp_send(
        &strings(&[
            "--server",
            &hostile.server(),
            "--tls",
            "none",
            "--from",
            "a@b.test",
            "--to",
            "c@d.test",
        ]),
        b"hi\n",
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        !raw_controls(&out) && !raw_controls(&err),
        "{out:?}\n{err:?}"
    );
    assert!(
        out.contains("S: 554 \\x1b[2J\\x1b[31mfake: accepted\n"),
        "{out}"
    );
    assert!(
        err.contains("not accepted: the server refused the session: 554 \\x1b[2J\\x1b[31mfake"),
        "{err}"
    );

    let hostile = Hostile::start(&python, "final-reply");
    let (code, out, err) = smtp_send(
        &strings(&[
            "--server",
            &hostile.server(),
            "--tls",
            "none",
            "--from",
            "a@b.test",
            "--to",
            "c@d.test",
        ]),
        b"hi\n",
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        !raw_controls(&out) && !raw_controls(&err),
        "{out:?}\n{err:?}"
    );
    assert!(
        err.contains(
            "not accepted: message refused: 554 5.7.1 no\\x1b[1A\\x1b[2K\\x1b[G250 queued \
             \\u{202e}deyalp"
        ),
        "{err}"
    );
}

/// In STARTTLS mode a server that never greets is most likely an implicit-TLS port: the
/// client says so (mail-tls's `silent_server_hint`).
#[test]
fn a_silent_server_in_starttls_mode_gets_a_diagnosis() {
    // The kernel completes the connection; nobody ever answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let server = listener.local_addr().expect("address").to_string();
    let (code, out, err) = smtp_send(
        &strings(&[
            "--server",
            &server,
            "--greeting-timeout",
            "1",
            "--from",
            "a@b.test",
            "--to",
            "c@d.test",
        ]),
        b"hi\n",
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("no greeting from the server on port"), "{err}");
    assert!(err.contains("implicit TLS"), "{err}");
    assert!(err.contains("--tls implicit"), "{err}");
    drop(listener);
}

/// The password from `--password-file` or `$SMTP_SEND_PASSWORD` logs in; with neither and
/// no terminal to ask on, smtp-send says how to give one and connects nowhere.
#[test]
fn the_password_comes_from_a_file_or_the_environment() {
    let Some(python) = python() else {
        return;
    };
    let user = format!("alice:{PASSWORD}");
    let server = Server::start(&python, &["--tls", "starttls", "--user", &user]);
    let file = server.dir.join("password");
    std::fs::write(&file, format!("{PASSWORD}\r\nsecond line ignored\n")).expect("write");
    let common = [
        "--insecure",
        "--user",
        "alice",
        "--from",
        "alice@client.test",
        "--to",
        "bob@example.test",
    ];
    let mut with_file = args(&server, &common);
    with_file.extend(strings(&["--password-file", file.to_str().expect("utf-8")]));
    let (code, out, err) = smtp_send(&with_file, b"Subject: file\n\nhi\n");
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("* authenticated with PLAIN"), "{out}");
    assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD));
    assert!(err.contains("warning: --insecure"), "{err}");
    let (env, _) = server.stored(1).expect("stored");
    assert!(env.contains("login alice\n"), "{env}");

    let (code, out, err) = smtp_send_with_env(
        &args(&server, &common),
        b"Subject: env\n\nhi\n",
        &[("SMTP_SEND_PASSWORD", PASSWORD)],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(server.stored(2).is_some());

    // No source: standard input is a pipe here, so there is nobody to ask.
    let (code, out, err) = smtp_send(&args(&server, &common), b"hi\n");
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("--password-file"), "{err}");
    assert!(!out.contains("connected"), "{out}");
    assert!(server.stored(3).is_none());

    // An unreadable file is named, its (absent) contents are not.
    let mut missing = args(&server, &common);
    missing.extend(strings(&["--password-file", "/nonexistent/password"]));
    let (code, _, err) = smtp_send(&missing, b"hi\n");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/nonexistent/password"), "{err}");
}

/// With `--user` and no other source, smtp-send asks on the terminal with echo off: the
/// password logs in and never shows on the screen.
#[test]
fn the_password_prompt_does_not_echo() {
    let Some(python) = python() else {
        return;
    };
    let user = format!("alice:{PASSWORD}");
    let server = Server::start(&python, &["--tls", "starttls", "--user", &user]);
    let file = server.dir.join("message.eml");
    std::fs::write(&file, b"Subject: prompt\n\nhi\n").expect("write message");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/on_a_terminal.py");
    let output = Command::new(&python)
        .arg(script)
        .arg("Password for alice: ")
        .arg(PASSWORD)
        .arg(example_bin("smtp-send"))
        .args(args(
            &server,
            &[
                "--insecure",
                "--user",
                "alice",
                "--from",
                "alice@client.test",
                "--to",
                "bob@example.test",
                file.to_str().expect("utf-8"),
            ],
        ))
        .env_remove("SMTP_SEND_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .expect("run on a terminal");
    let report = String::from_utf8_lossy(&output.stdout);
    let exit = report
        .lines()
        .find_map(|l| l.strip_prefix("EXIT "))
        .unwrap_or_else(|| panic!("no EXIT line: {report}"));
    let hex = report
        .lines()
        .find_map(|l| l.strip_prefix("SCREEN "))
        .unwrap_or_default();
    let screen: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    let screen = String::from_utf8_lossy(&screen);
    assert_eq!(exit, "0", "{screen}");
    assert!(screen.contains("Password for alice: "), "{screen}");
    assert!(
        !screen.contains(PASSWORD),
        "the password was echoed: {screen}"
    );
    assert!(screen.contains("* accepted: 250"), "{screen}");
    let (env, _) = server.stored(1).expect("stored");
    assert!(env.contains("login alice\n"), "{env}");
}
