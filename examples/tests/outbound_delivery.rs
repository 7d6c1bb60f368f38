//! The mail server's outbound delivery (`examples/mail-server/outbound/`), in process: the
//! module is compiled into this test binary and delivers to Python's aiosmtpd, a server we
//! did not write, started by each test on loopback (`support/outbound_peer.py`). Each test
//! checks what the remote server stored and saw (envelope, body, TLS, login, which TCP
//! connection) and the result each recipient got.
//!
//! The Python interpreter is `$SANSMAIL_PYTHON`, else `python3`. Without `aiosmtpd` the tests
//! print why and pass, except under `CI=true`, where they fail.
#![allow(dead_code, unreachable_pub)]

#[path = "../mail-server/accounts.rs"]
mod accounts;
#[path = "../mail-server/options.rs"]
mod options;
#[path = "../mail-server/outbound/mod.rs"]
mod outbound;
// The store is here for `accounts` (atomic writes); its re-exports are unused.
#[allow(unused_imports)]
#[path = "../mail-server/store/mod.rs"]
mod store;

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use outbound::{Outbound, OutboundJob, RecipientResult, Tuning};
use support::{LIMIT, TempDir, ci};

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
        "SKIPPED: aiosmtpd is not importable by {} (these tests never skip with CI=true)",
        python.display()
    );
    None
}

/// A running aiosmtpd (`support/outbound_peer.py`) with its output directory; stopped on drop.
struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    dir: TempDir,
}

impl Peer {
    fn start(python: &Path, options: &[&str]) -> Peer {
        let dir = TempDir::new("outbound-peer");
        std::fs::create_dir_all(dir.path().join("mail")).expect("mail dir");
        let cert = tls_files(dir.path());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/outbound_peer.py");
        let mut child = Command::new(python)
            .arg("-u")
            .arg(script)
            .arg("--outdir")
            .arg(dir.path().join("mail"))
            .arg("--cert")
            .arg(&cert.0)
            .arg("--key")
            .arg(&cert.1)
            .args(options)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(LIMIT).unwrap_or_default();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("aiosmtpd did not start: {line:?}"));
        Peer {
            child,
            stdin,
            port,
            dir,
        }
    }

    /// The certificate the peer presents (self-signed, for `localhost` and `127.0.0.1`).
    fn cert(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// The `n`th message it stored (from 1): its facts and body.
    fn message(&self, n: usize) -> Option<(String, Vec<u8>)> {
        let mail = self.dir.path().join("mail");
        let env = std::fs::read_to_string(mail.join(format!("{n}.env"))).ok()?;
        Some((env, std::fs::read(mail.join(format!("{n}.body"))).ok()?))
    }

    /// How many messages it stored.
    fn count(&self) -> usize {
        (1..).take_while(|&n| self.message(n).is_some()).count()
    }

    fn events(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mail/events")).unwrap_or_default()
    }

    fn max_active(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("mail/max-active"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A self-signed certificate and key in `dir`.
fn tls_files(dir: &Path) -> (PathBuf, PathBuf) {
    let files = mail_tls::dev_certs::generate(&["localhost", "127.0.0.1"])
        .expect("certificate")
        .write(&dir.join("cert.pem"), &dir.join("key.pem"))
        .expect("write certificate");
    (files.cert, files.key)
}

/// The value of the `key` line of a peer's `.env` file, each one.
fn facts<'a>(env: &'a str, key: &str) -> Vec<&'a str> {
    env.lines()
        .filter_map(|line| line.split_once(' '))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v)
        .collect()
}

/// The outbound side built from a command line, with short timeouts.
fn outbound(args: &[&str], tuning: Tuning) -> Outbound {
    let options = match options::parse(args.iter().copied()) {
        Ok(options::Parsed::Run(options)) => options,
        other => panic!("{args:?}: {other:?}"),
    };
    Outbound::with_tuning(&options, tuning).expect("outbound")
}

fn quick() -> Tuning {
    let mut tuning = Tuning::default();
    tuning.timeouts.greeting = Duration::from_secs(10);
    tuning.connect_timeout = Duration::from_secs(10);
    tuning
}

/// A spooled message in `dir` and a job for it.
fn job(dir: &Path, domain: &str, from: &str, to: &[&str], body: &[u8]) -> OutboundJob {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let path = dir.join(format!("message-{n}"));
    std::fs::write(&path, body).expect("spool");
    OutboundJob {
        domain: domain.to_owned(),
        reverse_path: from.to_owned(),
        recipients: to.iter().map(|s| s.to_string()).collect(),
        message: path,
        size: body.len() as u64,
        smtputf8: false,
        eight_bit: false,
    }
}

const BODY: &[u8] = b"From: alice@sender.test\r\nTo: bob@[127.0.0.1]\r\nSubject: out\r\n\r\n\
Hello.\r\n.A line that starts with a dot.\r\n..and two.\r\n";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn delivered(result: &RecipientResult) -> bool {
    matches!(result, RecipientResult::Delivered { .. })
}

/// Log lines written while `f` runs, on this thread.
fn with_logs<T>(f: impl FnOnce() -> T) -> (T, String) {
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let value = tracing::subscriber::with_default(subscriber, f);
    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    (value, logs)
}

/// Plaintext to a domain literal on --mx-port: the envelope, SIZE, the EHLO name and the
/// body byte for byte (the client dot-stuffs, aiosmtpd unstuffs).
#[test]
fn delivers_to_a_domain_literal_on_the_mx_port() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &[]);
    let spool = TempDir::new("outbound-spool");
    let port = peer.port.to_string();
    let out = outbound(
        &["--mx-port", &port, "--hostname", "relay.sender.test"],
        quick(),
    );
    let job = job(
        spool.path(),
        "[127.0.0.1]",
        "alice@sender.test",
        &["bob@[127.0.0.1]"],
        BODY,
    );
    let results = runtime().block_on(out.deliver(&job));
    assert_eq!(results.len(), 1);
    match &results[0] {
        RecipientResult::Delivered { remote, reply } => {
            assert_eq!(remote, &format!("127.0.0.1[127.0.0.1]:{port}"));
            assert!(reply.starts_with("250 2.0.0 OK: queued as 1"), "{reply}");
        }
        other => panic!("{other:?}"),
    }
    let (env, body) = peer.message(1).expect("stored");
    assert_eq!(body, BODY);
    assert_eq!(facts(&env, "from"), ["alice@sender.test"]);
    assert_eq!(facts(&env, "to"), ["bob@[127.0.0.1]"]);
    assert_eq!(facts(&env, "option"), [format!("SIZE={}", BODY.len())]);
    assert_eq!(facts(&env, "helo"), ["relay.sender.test"]);
    assert_eq!(facts(&env, "tls"), ["0"]);
}

/// The null reverse path of a bounce goes out as `MAIL FROM:<>`.
#[test]
fn a_bounce_goes_out_with_the_null_reverse_path() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &[]);
    let spool = TempDir::new("outbound-spool");
    let out = outbound(&["--mx-port", &peer.port.to_string()], quick());
    let job = job(spool.path(), "[127.0.0.1]", "", &["bob@[127.0.0.1]"], BODY);
    let results = runtime().block_on(out.deliver(&job));
    assert!(delivered(&results[0]), "{results:?}");
    let (env, _) = peer.message(1).expect("stored");
    assert_eq!(facts(&env, "from"), ["<>"]);
}

/// One RCPT refused with 550, one deferred with 450, with and without PIPELINING: each
/// recipient gets its own result, in order, and only the accepted ones get the message.
#[test]
fn each_recipient_gets_the_result_of_its_rcpt() {
    let Some(python) = python() else { return };
    for pipelining in [false, true] {
        let mut args = vec![
            "--reject",
            "gone@[127.0.0.1]",
            "--defer",
            "busy@[127.0.0.1]",
        ];
        if pipelining {
            args.push("--pipelining");
        }
        let peer = Peer::start(&python, &args);
        let spool = TempDir::new("outbound-spool");
        let out = outbound(&["--mx-port", &peer.port.to_string()], quick());
        let to = [
            "one@[127.0.0.1]",
            "gone@[127.0.0.1]",
            "busy@[127.0.0.1]",
            "two@[127.0.0.1]",
        ];
        let job = job(spool.path(), "[127.0.0.1]", "alice@sender.test", &to, BODY);
        let results = runtime().block_on(out.deliver(&job));
        assert_eq!(results.len(), 4, "{results:?}");
        assert!(delivered(&results[0]), "{results:?}");
        match &results[1] {
            RecipientResult::Permanent {
                remote,
                status,
                diagnostic,
            } => {
                assert_eq!(status, "5.1.1");
                assert!(remote.is_some());
                assert!(
                    diagnostic.starts_with("550 5.1.1 <gone@[127.0.0.1]>"),
                    "{diagnostic}"
                );
            }
            other => panic!("{other:?}"),
        }
        match &results[2] {
            RecipientResult::Temporary { diagnostic, .. } => {
                assert!(diagnostic.starts_with("450 4.2.1"), "{diagnostic}")
            }
            other => panic!("{other:?}"),
        }
        assert!(delivered(&results[3]), "{results:?}");
        let (env, body) = peer.message(1).expect("stored");
        assert_eq!(facts(&env, "to"), ["one@[127.0.0.1]", "two@[127.0.0.1]"]);
        assert_eq!(body, BODY);
        assert_eq!(peer.count(), 1);
    }
}

/// A 554 after DATA: every recipient that was accepted gets a permanent failure with the
/// reply's enhanced code; one refused at RCPT keeps its own.
#[test]
fn a_refusal_after_data_fails_every_accepted_recipient() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &["--reject-data", "--reject", "gone@[127.0.0.1]"]);
    let spool = TempDir::new("outbound-spool");
    let out = outbound(&["--mx-port", &peer.port.to_string()], quick());
    let to = ["one@[127.0.0.1]", "gone@[127.0.0.1]", "two@[127.0.0.1]"];
    let job = job(spool.path(), "[127.0.0.1]", "alice@sender.test", &to, BODY);
    let results = runtime().block_on(out.deliver(&job));
    let statuses: Vec<&str> = results
        .iter()
        .map(|r| match r {
            RecipientResult::Permanent { status, .. } => status.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(statuses, ["5.7.1", "5.1.1", "5.7.1"]);
    assert_eq!(peer.count(), 0);
}
