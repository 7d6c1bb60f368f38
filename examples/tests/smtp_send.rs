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
    let mut child = Command::new(example_bin("smtp-send"))
        .args(args)
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
