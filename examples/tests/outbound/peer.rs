//! The remote MX of the outbound tests: `support/outbound_peer.py` (Python's aiosmtpd) started
//! on loopback, and what it recorded. Shared by `outbound/delivery.rs` (in `example_units`) and
//! `outbound_relay.rs`.

#![allow(dead_code)] // each test binary that includes this module uses a different part of it

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use crate::support::{LIMIT, TempDir, ci};

/// The Python with aiosmtpd: `$SANSMAIL_PYTHON`, else `python3`; `None` (after saying why)
/// when it cannot import aiosmtpd, which fails the test under `CI=true`.
pub(crate) fn python() -> Option<PathBuf> {
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
pub(crate) struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    pub(crate) port: u16,
    dir: TempDir,
}

impl Peer {
    pub(crate) fn start(python: &Path, options: &[&str]) -> Peer {
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
    pub(crate) fn cert(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// The `n`th message it stored (from 1): its facts and body.
    pub(crate) fn message(&self, n: usize) -> Option<(String, Vec<u8>)> {
        let mail = self.dir.path().join("mail");
        let env = std::fs::read_to_string(mail.join(format!("{n}.env"))).ok()?;
        Some((env, std::fs::read(mail.join(format!("{n}.body"))).ok()?))
    }

    /// How many messages it stored.
    pub(crate) fn count(&self) -> usize {
        (1..).take_while(|&n| self.message(n).is_some()).count()
    }

    pub(crate) fn events(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mail/events")).unwrap_or_default()
    }

    pub(crate) fn max_active(&self) -> usize {
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
pub(crate) fn tls_files(dir: &Path) -> (PathBuf, PathBuf) {
    let files = mail_tls::dev_certs::generate(&["localhost", "127.0.0.1"])
        .expect("certificate")
        .write(&dir.join("cert.pem"), &dir.join("key.pem"))
        .expect("write certificate");
    (files.cert, files.key)
}

/// The value of the `key` line of a peer's `.env` file, each one.
pub(crate) fn facts<'a>(env: &'a str, key: &str) -> Vec<&'a str> {
    env.lines()
        .filter_map(|line| line.split_once(' '))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v)
        .collect()
}
