//! End-to-end tests of the `tls-check` example: the real example binary (built by `cargo test`
//! next to this test binary) against servers we did not write, Python 3's standard library
//! (`socket` and `ssl`, OpenSSL underneath) on 127.0.0.1 with an ephemeral port and a self-signed
//! certificate for `localhost` generated per test.
//!
//! Covered: implicit TLS (TLS 1.3 and TLS 1.2) with `--insecure`, a trusted run with `--ca`,
//! the SMTP, POP3 and IMAP STARTTLS preludes, certificate verification failure, mode mismatch
//! in both directions, servers that do not offer or refuse STARTTLS, and a response injected
//! after the STARTTLS reply. Every wait is bounded and every child process is killed on drop.
//! These tests never skip when `CI=true`.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use support::{TempDir, ci, example_bin};

/// The longest any single wait may take (a process to exit, a peer to report). Runs take well
/// under a second each; this only bounds a hang on a loaded machine.
const LIMIT: Duration = Duration::from_secs(20);

/// The `--timeout` given to the example, in seconds.
const TOOL_TIMEOUT: &str = "5";

/// A one-connection server in Python's standard library. Arguments: mode, certificate, key,
/// option. It prints `PORT n` first, then one line per event: `C: line` for each plaintext line
/// received, `SNI name`, `TLS version cipher` after a completed server handshake, `BYTES n hh`
/// for raw bytes read where a plaintext server waits (`hh`: the first byte in hex), `EOF`,
/// `ERROR type message`, and `DONE` last.
const PY_SERVER: &str = r#"
import socket, ssl, sys

mode, cert, key = sys.argv[1], sys.argv[2], sys.argv[3]
opt = sys.argv[4] if len(sys.argv) > 4 else ""

def out(*args):
    print(*args, flush=True)

def context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    # No session tickets: the handshake ends when the client's Finished is read, so a client
    # that closes right away cannot make the server side fail.
    ctx.num_tickets = 0
    if opt == "tls12":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    def sni(sock, name, ctx2):
        out("SNI", name)
    ctx.sni_callback = sni
    return ctx

def send(conn, text):
    conn.sendall(text.encode())

def readline(conn):
    buf = b""
    while not buf.endswith(b"\n"):
        b = conn.recv(1)
        if not b:
            break
        buf += b
    if not buf:
        out("EOF")
        return None
    line = buf.decode("latin-1").rstrip("\r\n")
    out("C:", line)
    return line

def rest(conn):
    # Log whatever else the client sends in plaintext, until it closes.
    while readline(conn) is not None:
        pass

def raw(conn):
    while True:
        data = conn.recv(4096)
        if not data:
            out("EOF")
            return
        out("BYTES", len(data), data[:1].hex())

def tls(conn, greeting=None):
    s = context().wrap_socket(conn, server_side=True)
    out("TLS", s.version(), s.cipher()[0])
    try:
        if greeting:
            send(s, greeting)
        while s.recv(4096):
            pass
    except OSError:
        pass  # the client hangs up without close_notify; the handshake is what counts
    out("EOF")

def serve(conn):
    offer = opt != "no"
    if mode == "implicit":
        tls(conn, "* OK [CAPABILITY IMAP4rev1] ready\r\n")
    elif mode == "plain":
        send(conn, {
            "smtp": "220 localhost ESMTP plain\r\n",
            "pop3": "+OK POP3 plain\r\n",
            "imap": "* OK IMAP4rev1 plain\r\n",
        }[opt])
        raw(conn)
    elif mode == "smtp":
        send(conn, "220 localhost ESMTP python\r\n")
        readline(conn)
        send(conn, "250-localhost\r\n250-PIPELINING\r\n"
             + ("250-STARTTLS\r\n" if offer else "") + "250 8BITMIME\r\n")
        if not offer:
            return rest(conn)
        readline(conn)
        if opt == "refuse":
            send(conn, "454 4.7.0 TLS not available\r\n")
            return rest(conn)
        if opt == "inject":
            send(conn, "220 2.0.0 ready\r\n250 injected\r\n")
            return rest(conn)
        send(conn, "220 2.0.0 ready\r\n")
        tls(conn)
    elif mode == "pop3":
        send(conn, "+OK POP3 python\r\n")
        readline(conn)
        send(conn, "+OK capability list follows\r\nUSER\r\nUIDL\r\n"
             + ("STLS\r\n" if offer else "") + ".\r\n")
        if not offer:
            return rest(conn)
        readline(conn)
        send(conn, "+OK begin TLS negotiation\r\n")
        tls(conn)
    elif mode == "imap":
        caps = "IMAP4rev1 " + ("STARTTLS " if offer else "") + "LOGINDISABLED"
        send(conn, "* OK [CAPABILITY " + caps + "] python\r\n")
        tag = (readline(conn) or "x").split(" ")[0]
        send(conn, "* CAPABILITY " + caps + "\r\n" + tag + " OK CAPABILITY completed\r\n")
        if not offer:
            return rest(conn)
        tag = (readline(conn) or "x").split(" ")[0]
        send(conn, tag + " OK begin TLS negotiation now\r\n")
        tls(conn)
    else:
        raise ValueError("unknown mode " + mode)

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
srv.settimeout(15)
out("PORT", srv.getsockname()[1])
try:
    conn, _ = srv.accept()
    conn.settimeout(10)
    try:
        serve(conn)
    finally:
        conn.close()
except Exception as e:
    out("ERROR", type(e).__name__, str(e).replace("\n", " "))
out("DONE")
"#;

/// `python3` with its `ssl` module, or `None` (with a printed reason) outside CI; panics under
/// `CI=true`.
fn python3() -> Option<PathBuf> {
    let ok = Command::new("python3")
        .args(["-c", "import socket, ssl"])
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(PathBuf::from("python3"));
    }
    if ci() {
        panic!("python3 with the ssl module is required when CI=true (apt-get install python3)");
    }
    eprintln!(
        "SKIPPED: python3 (with ssl) not found; this test needs it (never skips with CI=true)"
    );
    None
}

/// Kills a child process on drop, so a failed test never leaves a process running.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Python, a temp dir and a fresh self-signed certificate for `localhost`.
struct Fixture {
    python: PathBuf,
    cert: String,
    key: String,
    _dir: TempDir,
}

fn fixture(tag: &str) -> Option<Fixture> {
    let python = python3()?;
    let dir = TempDir::new(tag);
    let files = mail_tls::dev_certs::generate(&["localhost"])
        .expect("generate certificate")
        .write(&dir.0.join("cert.pem"), &dir.0.join("key.pem"))
        .expect("write certificate");
    let s = |p: PathBuf| p.to_str().expect("utf-8 temp path").to_string();
    Some(Fixture {
        python,
        cert: s(files.cert),
        key: s(files.key),
        _dir: dir,
    })
}

/// Send each line of `stream` to `tx`, with a prefix.
fn forward(stream: impl Read + Send + 'static, prefix: &'static str, tx: Sender<String>) {
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(format!("{prefix}{line}")).is_err() {
                break;
            }
        }
    });
}

/// A running Python server and the events it has reported so far.
struct Peer {
    _child: ChildGuard,
    port: u16,
    events: Receiver<String>,
    log: Vec<String>,
}

impl Peer {
    fn start(fx: &Fixture, mode: &str, opt: &str) -> Self {
        let mut child = Command::new(&fx.python)
            .args(["-u", "-c", PY_SERVER, mode, &fx.cert, &fx.key, opt])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn python3");
        let (tx, events) = mpsc::channel();
        forward(child.stdout.take().expect("stdout"), "", tx.clone());
        forward(child.stderr.take().expect("stderr"), "stderr: ", tx);
        let mut peer = Self {
            _child: ChildGuard(child),
            port: 0,
            events,
            log: Vec::new(),
        };
        let line = peer.expect("PORT ");
        peer.port = line["PORT ".len()..].trim().parse().expect("port number");
        peer
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Wait (bounded) for the next event starting with `prefix`; earlier events stay in the log.
    fn expect(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "python peer: no {prefix:?} within {LIMIT:?}; it reported:\n{}",
                    self.log.join("\n")
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "python peer exited before {prefix:?}; it reported:\n{}",
                    self.log.join("\n")
                ),
            }
        }
    }

    /// Wait (bounded) for the peer to finish its one connection; returns all it reported.
    fn finish(mut self) -> Vec<String> {
        self.expect("DONE");
        std::mem::take(&mut self.log)
    }
}

/// The plaintext lines a peer received, in order.
fn received(log: &[String]) -> Vec<&str> {
    log.iter().filter_map(|l| l.strip_prefix("C: ")).collect()
}

/// The peer's `TLS version cipher` event, if its handshake completed.
fn peer_tls(log: &[String]) -> Option<(&str, &str)> {
    log.iter().find_map(|l| {
        let mut it = l.strip_prefix("TLS ")?.split(' ');
        Some((it.next()?, it.next()?))
    })
}

/// How one run of the example ended.
struct Outcome {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

fn collect(stream: impl Read + Send + 'static) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = BufReader::new(stream).read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Run the example with `args` (plus `--timeout` unless given), bounded by [`LIMIT`].
fn tls_check(args: &[&str]) -> Outcome {
    let bin = example_bin("tls-check");
    let mut cmd = Command::new(&bin);
    cmd.args(args);
    if !args.contains(&"--timeout") {
        cmd.args(["--timeout", TOOL_TIMEOUT]);
    }
    let mut child = ChildGuard(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display())),
    );
    let stdout = collect(child.0.stdout.take().expect("stdout"));
    let stderr = collect(child.0.stderr.take().expect("stderr"));
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait for tls-check") {
            break status;
        }
        // The guard kills the process when this panic unwinds.
        assert!(
            Instant::now() < deadline,
            "tls-check {args:?} did not exit within {LIMIT:?}"
        );
        thread::sleep(Duration::from_millis(10));
    };
    Outcome {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn assert_contains(out: &Outcome, haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected {needle:?} in the output of tls-check, got exit {out}"
    );
}

/// The letters and digits of a cipher suite name without `TLS`, `TLS13` and `WITH`, so that
/// rustls's `TLS13_AES_256_GCM_SHA384` and OpenSSL's `TLS_AES_256_GCM_SHA384` (or
/// `TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384` and `ECDHE-ECDSA-AES256-GCM-SHA384`) compare.
fn suite_key(name: &str) -> String {
    name.split(['_', '-'])
        .filter(|t| !matches!(*t, "TLS" | "TLS13" | "WITH"))
        .collect::<String>()
        .to_ascii_uppercase()
}

/// The example printed a completed session that matches what the Python server negotiated:
/// version, cipher suite, no ALPN, the one self-signed `localhost` certificate.
fn assert_session(out: &Outcome, peer_log: &[String], rustls_version: &str, py_version: &str) {
    let (version, cipher) = peer_tls(peer_log).unwrap_or_else(|| {
        panic!(
            "the python server did not complete a handshake:\n{}\ntls-check exit {out}",
            peer_log.join("\n")
        )
    });
    assert_eq!(version, py_version, "python's view of the version");
    let s = &out.stdout;
    assert_contains(out, s, &format!("protocol version: {rustls_version}\n"));
    let ours = s
        .lines()
        .find_map(|l| l.strip_prefix("cipher suite:"))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no cipher suite line; exit {out}"));
    let prefix = if rustls_version == "TLSv1_3" {
        "TLS13_"
    } else {
        "TLS_ECDHE_ECDSA_WITH_"
    };
    assert!(
        ours.starts_with(prefix),
        "cipher suite {ours:?}; exit {out}"
    );
    assert!(
        suite_key(ours).starts_with(&suite_key(cipher)),
        "tls-check says {ours}, python negotiated {cipher}"
    );
    assert_contains(out, s, "ALPN:             none\n");
    assert_contains(out, s, "certificate chain (1):\n");
    assert_contains(
        out,
        s,
        "  [0] subject: CN=localhost, O=sansmail development\n",
    );
    assert_contains(
        out,
        s,
        "      issuer:  CN=localhost, O=sansmail development\n",
    );
    assert_contains(out, s, "(valid now)\n");
    assert_contains(out, s, "      names:   localhost\n");
}

/// `--insecure` against the self-signed certificate: the handshake completes and everything is
/// printed, and the verifier's verdict is still reported as a failure (exit status 1), as the
/// example documents: "--insecure completes the handshake anyway and reports the failure".
fn assert_insecure_verdict(out: &Outcome) {
    assert_eq!(out.status.code(), Some(1), "exit {out}");
    assert_contains(
        out,
        &out.stdout,
        "verification:     FAILED: invalid peer certificate: UnknownIssuer (continued: --insecure)\n",
    );
    assert!(out.stderr.is_empty(), "nothing on stderr expected: {out}");
}

#[test]
fn implicit_tls13_insecure_prints_the_session() {
    let Some(fx) = fixture("implicit") else {
        return;
    };
    let peer = Peer::start(&fx, "implicit", "");
    let addr = peer.addr();
    let out = tls_check(&[&addr, "--insecure"]);
    let log = peer.finish();
    assert_contains(
        &out,
        &out.stdout,
        &format!("connected to {addr} (implicit TLS)\n"),
    );
    assert_session(&out, &log, "TLSv1_3", "TLSv1.3");
    assert_insecure_verdict(&out);
    // No SNI for an IP address (RFC 6066 section 3).
    assert!(log.iter().any(|l| l == "SNI None"), "{log:?}");
}

#[test]
fn implicit_tls12_reports_the_negotiated_version() {
    let Some(fx) = fixture("tls12") else {
        return;
    };
    let peer = Peer::start(&fx, "implicit", "tls12");
    let out = tls_check(&[&peer.addr(), "--insecure"]);
    let log = peer.finish();
    assert_session(&out, &log, "TLSv1_2", "TLSv1.2");
    assert_insecure_verdict(&out);
}

#[test]
fn trusted_with_ca_and_servername_passes_verification() {
    let Some(fx) = fixture("trusted") else {
        return;
    };
    let peer = Peer::start(&fx, "implicit", "");
    let out = tls_check(&[&peer.addr(), "--ca", &fx.cert, "--servername", "localhost"]);
    let log = peer.finish();
    assert!(out.status.success(), "exit {out}");
    assert_session(&out, &log, "TLSv1_3", "TLSv1.3");
    assert_contains(
        &out,
        &out.stdout,
        "verification:     passed (name localhost)\n",
    );
    assert!(log.iter().any(|l| l == "SNI localhost"), "{log:?}");
}

/// Run a STARTTLS prelude against the Python server and check the transcript, what the server
/// received in plaintext, and the session.
fn starttls_roundtrip(flag: &str, transcript: &[&str], commands: &[&str]) {
    let Some(fx) = fixture(flag) else {
        return;
    };
    let peer = Peer::start(&fx, flag, "");
    let addr = peer.addr();
    let out = tls_check(&[&addr, "--starttls", flag, "--insecure"]);
    let log = peer.finish();
    let command = if flag == "pop3" { "STLS" } else { "STARTTLS" };
    assert_contains(
        &out,
        &out.stdout,
        &format!("connected to {addr} (plaintext, then {command})\n"),
    );
    let lines: Vec<&str> = out.stdout.lines().collect();
    let mut at = 0;
    for want in transcript {
        match lines[at..].iter().position(|l| l == want) {
            Some(i) => at += i + 1,
            None => panic!("transcript line {want:?} missing or out of order; exit {out}"),
        }
    }
    assert_eq!(received(&log), commands, "plaintext the server received");
    assert_session(&out, &log, "TLSv1_3", "TLSv1.3");
    assert_insecure_verdict(&out);
}

#[test]
fn smtp_starttls_prelude() {
    starttls_roundtrip(
        "smtp",
        &[
            "S: 220 localhost ESMTP python",
            "C: EHLO tls-check.invalid",
            "S: 250-STARTTLS",
            "S: 250 8BITMIME",
            "C: STARTTLS",
            "S: 220 2.0.0 ready",
        ],
        &["EHLO tls-check.invalid", "STARTTLS"],
    );
}

#[test]
fn pop3_stls_prelude() {
    starttls_roundtrip(
        "pop3",
        &[
            "S: +OK POP3 python",
            "C: CAPA",
            "S: STLS",
            "S: .",
            "C: STLS",
            "S: +OK begin TLS negotiation",
        ],
        &["CAPA", "STLS"],
    );
}

#[test]
fn imap_starttls_prelude() {
    starttls_roundtrip(
        "imap",
        &[
            "C: a1 CAPABILITY",
            "S: * CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED",
            "S: a1 OK CAPABILITY completed",
            "C: a2 STARTTLS",
            "S: a2 OK begin TLS negotiation now",
        ],
        &["a1 CAPABILITY", "a2 STARTTLS"],
    );
}

#[test]
fn untrusted_certificate_fails_verification_without_insecure() {
    let Some(fx) = fixture("untrusted") else {
        return;
    };
    for (mode, extra) in [("implicit", &[][..]), ("smtp", &["--starttls", "smtp"][..])] {
        let peer = Peer::start(&fx, mode, "");
        let mut args = vec![peer.addr()];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = tls_check(&args);
        let log = peer.finish();
        assert_eq!(out.status.code(), Some(1), "{mode}: exit {out}");
        assert_contains(
            &out,
            &out.stderr,
            "error: TLS handshake failed: invalid peer certificate: UnknownIssuer\n",
        );
        assert_contains(
            &out,
            &out.stderr,
            "(certificate verification failed; rerun with --insecure to see the chain, or --ca \
             FILE to trust a private CA)",
        );
        assert!(
            !out.stdout.contains("protocol version:"),
            "{mode}: no session may be printed; exit {out}"
        );
        // The client rejected the certificate with an alert the server saw.
        assert!(peer_tls(&log).is_none(), "{mode}: {log:?}");
        assert!(
            log.iter()
                .any(|l| l.starts_with("ERROR") && l.contains("UNKNOWN_CA")),
            "{mode}: the server should see an unknown_ca alert: {log:?}"
        );
    }
}

#[test]
fn implicit_tls_against_plaintext_server_diagnoses_mode_mismatch() {
    let Some(fx) = fixture("mismatch") else {
        return;
    };
    for (proto, greeting, what, implicit_port) in [
        (
            "smtp",
            "220 localhost ESMTP plain",
            "plaintext SMTP greeting",
            465,
        ),
        ("pop3", "+OK POP3 plain", "plaintext POP3 greeting", 995),
        (
            "imap",
            "* OK IMAP4rev1 plain",
            "plaintext IMAP greeting",
            993,
        ),
    ] {
        let peer = Peer::start(&fx, "plain", proto);
        let port = peer.port;
        let out = tls_check(&[&peer.addr(), "--insecure"]);
        let log = peer.finish();
        assert_eq!(out.status.code(), Some(1), "{proto}: exit {out}");
        let e = &out.stderr;
        assert_contains(&out, e, "error: mode mismatch: the server sent a ");
        assert_contains(
            &out,
            e,
            &format!("{what} \"{greeting}\\r\\n\" where a TLS handshake was expected"),
        );
        assert_contains(
            &out,
            e,
            &format!("port {port} is a plaintext/STARTTLS port"),
        );
        let command = if proto == "pop3" { "STLS" } else { "STARTTLS" };
        // The example names the port it was given; on 587 this reads "use STARTTLS on port 587".
        assert_contains(
            &out,
            e,
            &format!(
                "use {command} on port {port} (for tls-check: --starttls {proto}), or implicit \
                 TLS on port {implicit_port}"
            ),
        );
        // What the server got was a TLS ClientHello (a handshake record, 0x16).
        assert!(
            log.iter()
                .any(|l| l.starts_with("BYTES ") && l.ends_with(" 16")),
            "{proto}: {log:?}"
        );
    }
}

#[test]
fn starttls_against_implicit_tls_server_hints_at_implicit_tls() {
    let Some(fx) = fixture("silent") else {
        return;
    };
    let peer = Peer::start(&fx, "implicit", "");
    let port = peer.port;
    // A short tool timeout: the implicit-TLS server never greets.
    let out = tls_check(&[&peer.addr(), "--starttls", "smtp", "--timeout", "1"]);
    let log = peer.finish();
    assert_eq!(out.status.code(), Some(1), "exit {out}");
    assert_contains(
        &out,
        &out.stderr,
        &format!(
            "error: no greeting from the server on port {port}: if this is an implicit-TLS port \
             (like 465), the server is waiting for a TLS handshake: use implicit TLS, or connect \
             to port 587 for STARTTLS"
        ),
    );
    assert!(peer_tls(&log).is_none(), "{log:?}");
}

#[test]
fn server_without_starttls_is_refused_before_any_credential() {
    let Some(fx) = fixture("nostarttls") else {
        return;
    };
    for (proto, expect_err, commands) in [
        (
            "smtp",
            "error: the server does not advertise STARTTLS; refusing to continue in plaintext",
            &["EHLO tls-check.invalid"][..],
        ),
        (
            "pop3",
            "error: the server does not advertise STLS (CAPA); refusing to continue in plaintext",
            &["CAPA"][..],
        ),
        (
            "imap",
            "error: the server does not advertise STARTTLS; refusing to continue in plaintext",
            &["a1 CAPABILITY"][..],
        ),
    ] {
        let peer = Peer::start(&fx, proto, "no");
        let out = tls_check(&[&peer.addr(), "--starttls", proto, "--insecure"]);
        let log = peer.finish();
        assert_ne!(out.status.code(), Some(0), "{proto}: exit {out}");
        assert_contains(&out, &out.stderr, expect_err);
        // Only the capability query went out, then the client hung up.
        assert_eq!(received(&log), commands, "{proto}: {log:?}");
        assert!(log.iter().any(|l| l == "EOF"), "{proto}: {log:?}");
        assert!(!out.stdout.contains("protocol version:"), "{out}");
    }
}

#[test]
fn refused_starttls_is_an_error() {
    let Some(fx) = fixture("refuse") else {
        return;
    };
    let peer = Peer::start(&fx, "smtp", "refuse");
    let out = tls_check(&[&peer.addr(), "--starttls", "smtp", "--insecure"]);
    let log = peer.finish();
    assert_eq!(out.status.code(), Some(1), "exit {out}");
    assert_contains(
        &out,
        &out.stderr,
        "error: STARTTLS refused: 454 4.7.0 TLS not available\n",
    );
    assert_eq!(
        received(&log),
        ["EHLO tls-check.invalid", "STARTTLS"],
        "{log:?}"
    );
}

#[test]
fn response_injected_after_starttls_reply_closes_without_handshake() {
    let Some(fx) = fixture("inject") else {
        return;
    };
    let peer = Peer::start(&fx, "smtp", "inject");
    let out = tls_check(&[&peer.addr(), "--starttls", "smtp", "--insecure"]);
    let log = peer.finish();
    assert_eq!(out.status.code(), Some(1), "exit {out}");
    assert_contains(&out, &out.stderr, "error: STARTTLS injection: 14 inbound ");
    assert_contains(
        &out,
        &out.stderr,
        "buffered at the TLS boundary (first bytes: \"250 injected\\r\\n\"); closing the session",
    );
    assert!(!out.stdout.contains("protocol version:"), "{out}");
    // Nothing, not even a ClientHello, followed the STARTTLS command.
    assert_eq!(
        received(&log),
        ["EHLO tls-check.invalid", "STARTTLS"],
        "{log:?}"
    );
    let after = log
        .iter()
        .skip_while(|l| *l != "C: STARTTLS")
        .skip(1)
        .find(|l| !l.starts_with("SNI"));
    assert_eq!(after.map(String::as_str), Some("EOF"), "{log:?}");
}
