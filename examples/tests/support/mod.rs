//! Shared helpers for the end-to-end tests of the examples (`mail-server`, `smtp-send`,
//! `tls-check`): the example binaries, temporary directories, the peers we did not write
//! (Python, curl) with the never-skip-under-CI rule, and, for the mail server, a running server
//! on free loopback ports with a temporary `--data` directory, a raw SMTP connection and the
//! checks of a delivered Maildir file.
//!
//! Every wait is bounded by [`LIMIT`] and every child process is killed on drop, so a failing
//! test never hangs or leaves a process behind.

#![allow(dead_code)] // each test binary that includes this module uses a different part of it

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The longest any single wait may take (a server to start, a reply, a peer to finish).
/// Everything normally takes well under a second; this only bounds a hang on a loaded machine.
pub(crate) const LIMIT: Duration = Duration::from_secs(30);

/// The accounts most tests create.
pub(crate) const ALICE: &str = "alice@localhost";
pub(crate) const ALICE_PASSWORD: &str = "secret";
pub(crate) const BOB: &str = "bob@localhost";
pub(crate) const BOB_PASSWORD: &str = "hunter2";

/// `--user` flags for [`ALICE`] and [`BOB`].
pub(crate) fn users() -> Vec<String> {
    vec![
        "--user".into(),
        format!("{ALICE}:{ALICE_PASSWORD}"),
        "--user".into(),
        format!("{BOB}:{BOB_PASSWORD}"),
    ]
}

/// Whether the tests run under CI (`CI=true`), where a missing peer fails a test.
pub(crate) fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether `program args` runs successfully; when it does not, panics under `CI=true` and
/// otherwise prints why the calling test skips.
pub(crate) fn tool_available(program: &str, args: &[&str], what: &str) -> bool {
    let ok = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(!ci(), "{what} is required when CI=true");
        eprintln!("SKIPPED: {what} not found (this test never skips with CI=true)");
    }
    ok
}

/// `python3` with `smtplib` and `ssl` (required under `CI=true`).
pub(crate) fn have_python() -> bool {
    tool_available(
        "python3",
        &["-c", "import smtplib, ssl"],
        "python3 with smtplib and ssl",
    )
}

/// `curl` with SMTP support (required under `CI=true`).
pub(crate) fn have_curl() -> bool {
    tool_available("curl", &["--version"], "curl")
}

/// The example binary: `cargo test` builds examples into `<target>/<profile>/examples/`, and
/// the test binary runs from `<target>/<profile>/deps/` (so `CARGO_TARGET_DIR` is honoured).
pub(crate) fn example_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary is not in <target>/<profile>/deps/");
    let bin = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the {name} example binary is missing at {}; `cargo test -p sansmail-examples` builds it",
        bin.display()
    );
    bin
}

/// A unique directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sansmail-example-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `N` distinct ports that were free a moment ago (bound together, then released), none of
/// them handed out before in this test process: the kernel may give a just-released port to
/// the next probe, and a test that asks twice (its own `--imap` port, then the server's
/// SMTP ports) must not get the same port for two listeners. Another process may still take
/// one before the server binds it; [`MailServer::start`] then retries.
pub(crate) fn free_ports<const N: usize>() -> [u16; N] {
    static HANDED_OUT: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    // Every listener stays open until N fresh ports are found, so they differ from each other.
    let mut listeners = Vec::new();
    let mut ports = Vec::with_capacity(N);
    while ports.len() < N {
        assert!(listeners.len() < 10_000, "no fresh ephemeral port left");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        let port = listener.local_addr().expect("local_addr").port();
        if !handed_out.contains(&port) {
            handed_out.push(port);
            ports.push(port);
        }
        listeners.push(listener);
    }
    std::array::from_fn(|i| ports[i])
}

/// Collects everything `stream` yields into `sink`, in a thread.
fn drain(stream: impl Read + Send + 'static, sink: Arc<Mutex<Vec<u8>>>) {
    thread::spawn(move || {
        let mut stream = stream;
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => sink.lock().unwrap().extend_from_slice(&buf[..n]),
            }
        }
    });
}

/// A running `mail-server` on free loopback ports (POP3 and IMAP disabled). Killed on drop.
pub(crate) struct MailServer {
    child: Option<Child>,
    pub(crate) data: PathBuf,
    pub(crate) smtp: u16,
    pub(crate) submission: u16,
    pub(crate) submissions: u16,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl MailServer {
    /// Starts the server on `data` with `args` (for example [`users`] and limit flags), and
    /// returns once it printed its ready banner, that is once every listener is bound.
    pub(crate) fn start(data: &Path, args: &[String]) -> MailServer {
        Self::start_full(data, args, &[], &[])
    }

    /// As [`MailServer::start`], run through `wrapper` (a program and its arguments, which
    /// must exec the command that follows them), for example to start it under a lower
    /// resource limit.
    pub(crate) fn start_wrapped(data: &Path, args: &[String], wrapper: &[String]) -> MailServer {
        Self::start_full(data, args, wrapper, &[])
    }

    /// [`start`](Self::start) with extra environment variables for the server process (for
    /// example `TOKIO_WORKER_THREADS`, which the runtime reads).
    pub(crate) fn start_with_env(data: &Path, args: &[String], env: &[(&str, &str)]) -> MailServer {
        Self::start_full(data, args, &[], env)
    }

    /// The one way every `start` variant starts the server.
    fn start_full(
        data: &Path,
        args: &[String],
        wrapper: &[String],
        env: &[(&str, &str)],
    ) -> MailServer {
        let mut last_error = String::new();
        for _attempt in 0..5 {
            let [smtp, submission, submissions] = free_ports();
            match Self::try_start(data, args, wrapper, env, smtp, submission, submissions) {
                Ok(server) => return server,
                // Someone took a port between our probe and the server's bind: new ports.
                Err(stderr) if stderr.contains("cannot listen on") => last_error = stderr,
                Err(stderr) => panic!("mail-server {args:?} did not start:\n{stderr}"),
            }
        }
        panic!("mail-server never found free ports:\n{last_error}");
    }

    pub(crate) fn try_start(
        data: &Path,
        args: &[String],
        wrapper: &[String],
        env: &[(&str, &str)],
        smtp: u16,
        submission: u16,
        submissions: u16,
    ) -> Result<MailServer, String> {
        let bin = example_bin("mail-server");
        let mut command = match wrapper.split_first() {
            Some((program, wrapper_args)) => {
                let mut command = Command::new(program);
                command.args(wrapper_args).arg(&bin);
                command
            }
            None => Command::new(&bin),
        };
        let mut child = command
            .arg("--data")
            .arg(data)
            .args(["--smtp", &smtp.to_string()])
            .args(["--submission", &submission.to_string()])
            .args(["--submissions", &submissions.to_string()])
            .args(["--pop3", "0", "--pop3s", "0", "--imap", "0", "--imaps", "0"])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        drain(child.stderr.take().expect("stderr"), stderr.clone());
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let (tx, ready) = mpsc::channel();
        {
            let stdout = stdout.clone();
            let pipe = child.stdout.take().expect("stdout");
            thread::spawn(move || {
                let mut reader = BufReader::new(pipe);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match reader.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            stdout.lock().unwrap().extend_from_slice(&line);
                            if line.starts_with(b"sansmail mail server")
                                && line.ends_with(b"ready\n")
                            {
                                let _ = tx.send(());
                            }
                        }
                    }
                }
            });
        }
        let mut server = MailServer {
            child: Some(child),
            data: data.to_path_buf(),
            smtp,
            submission,
            submissions,
            stdout,
            stderr,
        };
        // The banner comes after every listener is bound; the channel closes if the server
        // exits first.
        match ready.recv_timeout(LIMIT) {
            Ok(()) => Ok(server),
            Err(RecvTimeoutError::Disconnected) => {
                let status = server.wait_exit(LIMIT);
                Err(format!("exit {status}\n{}", server.logs()))
            }
            Err(RecvTimeoutError::Timeout) => {
                panic!("mail-server not ready within {LIMIT:?}:\n{}", server.logs())
            }
        }
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().expect("server running").id()
    }

    /// Everything the server printed so far.
    pub(crate) fn logs(&self) -> String {
        format!(
            "--- stdout ---\n{}--- stderr ---\n{}",
            String::from_utf8_lossy(&self.stdout.lock().unwrap()),
            String::from_utf8_lossy(&self.stderr.lock().unwrap())
        )
    }

    /// Its standard output so far (the banner).
    pub(crate) fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    /// Its standard error so far: the `tracing` log.
    pub(crate) fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reap it.
    pub(crate) fn kill(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGINT (as Ctrl-C does) with `kill -INT`.
    pub(crate) fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.pid().to_string()])
            .status()
            .expect("run kill -INT");
        assert!(status.success(), "kill -INT failed: {status}");
    }

    /// Waits (bounded) for the process to exit on its own.
    pub(crate) fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let child = self.child.as_mut().expect("server running");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().expect("wait for mail-server") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "mail-server did not exit within {limit:?}"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Connects to the relay listener and reads the greeting.
    pub(crate) fn relay(&self) -> Smtp {
        let mut conn = Smtp::connect(self.smtp);
        conn.expect(220);
        conn
    }

    /// The Maildir of `address` (`local@domain`).
    pub(crate) fn maildir(&self, address: &str) -> PathBuf {
        maildir(&self.data, address)
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        self.kill();
        if thread::panicking() {
            eprintln!("{}", self.logs());
        }
    }
}

/// `<data>/mail/<domain>/<local>`.
pub(crate) fn maildir(data: &Path, address: &str) -> PathBuf {
    let (local, domain) = address.split_once('@').expect("local@domain");
    data.join("mail").join(domain).join(local)
}

/// The files in `dir` (`new/`, `tmp/`...) as (name, contents), sorted by name; none if the
/// directory does not exist.
pub(crate) fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Vec::new(),
        Err(e) => panic!("read {}: {e}", dir.display()),
    };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .map(|entry| {
            let entry = entry.expect("dir entry");
            let name = entry.file_name().into_string().expect("utf-8 file name");
            let bytes = std::fs::read(entry.path()).expect("read message");
            (name, bytes)
        })
        .collect();
    out.sort();
    out
}

/// The one message in `new/` of `address`'s Maildir; panics unless there is exactly one.
pub(crate) fn only_message(data: &Path, address: &str) -> (String, Vec<u8>) {
    let mut all = files(&maildir(data, address).join("new"));
    assert_eq!(
        all.len(),
        1,
        "expected one message for {address}, found {:?}",
        all.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    all.pop().expect("one")
}

// ---- replies and raw connections ----

/// One SMTP reply: the code and its lines (without CRLF).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) code: u16,
    pub(crate) lines: Vec<String>,
}

impl Reply {
    /// The text of the last line after the code and separator.
    pub(crate) fn text(&self) -> &str {
        self.lines.last().map_or("", |l| l.get(4..).unwrap_or(""))
    }

    /// Whether any line contains `needle`.
    pub(crate) fn contains(&self, needle: &str) -> bool {
        self.lines.iter().any(|l| l.contains(needle))
    }
}

/// A plain TCP connection speaking SMTP byte for byte, with bounded reads.
pub(crate) struct Smtp {
    pub(crate) stream: TcpStream,
    buf: Vec<u8>,
    /// Everything received so far, for failure messages.
    pub(crate) transcript: Vec<u8>,
}

impl Smtp {
    pub(crate) fn connect(port: u16) -> Smtp {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"));
        stream.set_read_timeout(Some(LIMIT)).expect("timeout");
        stream.set_write_timeout(Some(LIMIT)).expect("timeout");
        Smtp {
            stream,
            buf: Vec::new(),
            transcript: Vec::new(),
        }
    }

    /// Wraps a connection opened otherwise (from a chosen source address, say).
    pub(crate) fn from_stream(stream: TcpStream) -> Smtp {
        stream.set_read_timeout(Some(LIMIT)).expect("timeout");
        stream.set_write_timeout(Some(LIMIT)).expect("timeout");
        Smtp {
            stream,
            buf: Vec::new(),
            transcript: Vec::new(),
        }
    }

    pub(crate) fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream
            .write_all(bytes.as_ref())
            .unwrap_or_else(|e| panic!("write: {e}; received so far:\n{}", self.received()));
    }

    fn received(&self) -> String {
        String::from_utf8_lossy(&self.transcript).into_owned()
    }

    /// Reads more bytes into the buffer; false at EOF (or a reset connection).
    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16384];
        match self.stream.read(&mut chunk) {
            Ok(0) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                self.transcript.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
                false
            }
            Err(e) => panic!(
                "read (bounded by {LIMIT:?}): {e}; received so far:\n{}",
                self.received()
            ),
        }
    }

    /// The next complete reply, or `None` at EOF.
    pub(crate) fn try_reply(&mut self) -> Option<Reply> {
        let mut lines = Vec::new();
        loop {
            while let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..end + 2).collect();
                let line = String::from_utf8_lossy(&line[..end]).into_owned();
                let code = line.get(..3).and_then(|c| c.parse::<u16>().ok());
                let Some(code) = code else {
                    panic!("not a reply line: {line:?}; received:\n{}", self.received());
                };
                let last = line.as_bytes().get(3) != Some(&b'-');
                lines.push(line);
                if last {
                    return Some(Reply { code, lines });
                }
            }
            if !self.fill() {
                assert!(
                    lines.is_empty() && self.buf.is_empty(),
                    "EOF inside a reply; received:\n{}",
                    self.received()
                );
                return None;
            }
        }
    }

    /// The next reply; panics at EOF.
    pub(crate) fn reply(&mut self) -> Reply {
        match self.try_reply() {
            Some(reply) => reply,
            None => panic!("EOF instead of a reply; received:\n{}", self.received()),
        }
    }

    /// The next reply, which must have `code`.
    pub(crate) fn expect(&mut self, code: u16) -> Reply {
        let reply = self.reply();
        assert_eq!(
            reply.code,
            code,
            "expected {code}, got {reply:?}; received:\n{}",
            self.received()
        );
        reply
    }

    /// Sends `line` and CRLF, and returns the reply.
    pub(crate) fn cmd(&mut self, line: &str) -> Reply {
        self.send(format!("{line}\r\n"));
        self.reply()
    }

    /// Sends `line` and CRLF, and checks the reply code.
    pub(crate) fn cmd_expect(&mut self, line: &str, code: u16) -> Reply {
        self.send(format!("{line}\r\n"));
        self.expect(code)
    }

    /// Reads until the server closes the connection (bounded) and returns what came after the
    /// last reply read.
    pub(crate) fn expect_eof(&mut self) -> Vec<u8> {
        while self.fill() {}
        std::mem::take(&mut self.buf)
    }

    /// EHLO, MAIL, RCPT for each recipient (each must be accepted), DATA.
    pub(crate) fn start_message(&mut self, from: &str, rcpts: &[&str]) {
        self.cmd_expect("EHLO raw.test", 250);
        self.cmd_expect(&format!("MAIL FROM:<{from}>"), 250);
        for rcpt in rcpts {
            self.cmd_expect(&format!("RCPT TO:<{rcpt}>"), 250);
        }
        self.cmd_expect("DATA", 354);
    }

    pub(crate) fn close(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

// ---- Python and curl ----

/// Runs `program args` with a bounded wait and returns its output.
pub(crate) fn run_bounded(program: &str, args: &[&str]) -> Output {
    run_within(program, args, LIMIT)
}

/// Runs the `name` example binary with `args`, killed (and the test failed) past `limit`;
/// fails the test if `secret` (a password given on its command line) shows in its output.
/// Returns its exit code, standard output and standard error.
pub(crate) fn run_example(
    name: &str,
    args: &[&str],
    limit: Duration,
    secret: &str,
) -> (Option<i32>, String, String) {
    let output = run_within(&example_bin(name).to_string_lossy(), args, limit);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !stdout.contains(secret) && !stderr.contains(secret),
        "{name} {args:?} printed the password:\n{stdout}\n{stderr}"
    );
    (output.status.code(), stdout, stderr)
}

/// Runs `program args`, killed (and the test failed) past `limit`, and returns its output.
pub(crate) fn run_within(program: &str, args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let stdout = Arc::new(Mutex::new(Vec::new()));
    let stderr = Arc::new(Mutex::new(Vec::new()));
    drain(child.stdout.take().expect("stdout"), stdout.clone());
    drain(child.stderr.take().expect("stderr"), stderr.clone());
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{program} did not finish within {limit:?}; stderr so far:\n{}",
                String::from_utf8_lossy(&stderr.lock().unwrap())
            );
        }
        thread::sleep(Duration::from_millis(10));
    };
    // The pipes close when the process exits; give the drain threads a moment to finish.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Arc::strong_count(&stdout) > 1 || Arc::strong_count(&stderr) > 1 {
        if Instant::now() >= deadline {
            break;
        }
        thread::sleep(Duration::from_millis(5));
    }
    let take = |m: &Arc<Mutex<Vec<u8>>>| std::mem::take(&mut *m.lock().unwrap());
    Output {
        status,
        stdout: take(&stdout),
        stderr: take(&stderr),
    }
}

/// An SMTP client session in Python's `smtplib`. Arguments: mode (`plain`, `starttls`,
/// `ssl`), port, auth (`-` or `MECH:user:password`, `MECH` being `PLAIN` or `LOGIN`), the
/// MAIL FROM address, recipients (comma-separated), the message file (`-`: no DATA), MAIL
/// parameters (space-separated, may be empty). It prints one line per step,
/// `step code text` (text with line breaks as `|`), `error Type text` when smtplib raises,
/// and `done` at the end.
const PY_SMTP: &str = r#"
import smtplib, ssl, sys

mode, port, auth, sender, rcpts, msgfile, params = sys.argv[1:8]
port = int(port)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

def text(t):
    if isinstance(t, bytes):
        t = t.decode("latin-1")
    return str(t).replace("\r\n", "|").replace("\n", "|")

def out(step, code, msg):
    print(step, code, text(msg), flush=True)

try:
    if mode == "ssl":
        s = smtplib.SMTP_SSL("127.0.0.1", port, local_hostname="py.test", context=ctx, timeout=25)
    else:
        s = smtplib.SMTP("127.0.0.1", port, local_hostname="py.test", timeout=25)
    out("ehlo", *s.ehlo())
    if mode == "starttls":
        out("starttls", *s.starttls(context=ctx))
        out("ehlo", *s.ehlo())
    out("auth-offered", 0, s.esmtp_features.get("auth", "-").strip() or "-")
    out("size-offered", 0, s.esmtp_features.get("size", "-").strip() or "-")
    ok = True
    if auth != "-":
        mech, s.user, s.password = auth.split(":", 2)
        try:
            out("auth", *s.auth(mech, getattr(s, "auth_" + mech.lower()),
                               initial_response_ok=(mech == "PLAIN")))
        except smtplib.SMTPAuthenticationError as e:
            out("auth", e.smtp_code, e.smtp_error)
            ok = False
    if ok:
        code, msg = s.mail(sender, params.split() if params else [])
        out("mail", code, msg)
        accepted = 0
        if code == 250:
            for rcpt in rcpts.split(","):
                code, msg = s.rcpt(rcpt)
                out("rcpt", code, msg)
                accepted += code == 250
        if accepted and msgfile != "-":
            with open(msgfile, "rb") as f:
                body = f.read()
            try:
                out("data", *s.data(body))
            except smtplib.SMTPDataError as e:
                out("data", e.smtp_code, e.smtp_error)
    out("quit", *s.quit())
except smtplib.SMTPServerDisconnected as e:
    out("error", "SMTPServerDisconnected", e)
except Exception as e:
    out("error", type(e).__name__, e)
print("done", flush=True)
"#;

/// One step of a [`py_smtp`] session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    pub(crate) step: String,
    pub(crate) code: String,
    pub(crate) text: String,
}

/// The transcript of a [`py_smtp`] session.
#[derive(Debug)]
pub(crate) struct PySession {
    pub(crate) steps: Vec<Step>,
    pub(crate) raw: String,
}

impl PySession {
    /// The code of the (last) step named `step`, panicking when it did not happen.
    pub(crate) fn code(&self, step: &str) -> u16 {
        let found = self.steps.iter().rev().find(|s| s.step == step);
        let Some(found) = found else {
            panic!("smtplib never reached {step:?}:\n{}", self.raw);
        };
        found
            .code
            .parse()
            .unwrap_or_else(|_| panic!("{step}: not a code: {:?}\n{}", found.code, self.raw))
    }

    /// The text of the (last) step named `step`.
    pub(crate) fn text(&self, step: &str) -> &str {
        self.steps
            .iter()
            .rev()
            .find(|s| s.step == step)
            .map_or("", |s| s.text.as_str())
    }

    pub(crate) fn has(&self, step: &str) -> bool {
        self.steps.iter().any(|s| s.step == step)
    }
}

/// Parameters of a [`py_smtp`] session.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PyArgs<'a> {
    /// `plain`, `starttls` or `ssl`.
    pub(crate) mode: &'a str,
    pub(crate) port: u16,
    /// `(mechanism, user, password)`.
    pub(crate) auth: Option<(&'a str, &'a str, &'a str)>,
    pub(crate) from: &'a str,
    pub(crate) to: &'a [&'a str],
    /// The message exactly as it should arrive (CRLF line endings; smtplib dot-stuffs it).
    pub(crate) message: Option<&'a [u8]>,
    /// MAIL parameters, space-separated.
    pub(crate) params: &'a str,
}

/// Runs [`PY_SMTP`] and returns its steps; panics unless it ran to `done`.
pub(crate) fn py_smtp(dir: &Path, args: PyArgs<'_>) -> PySession {
    static N: AtomicUsize = AtomicUsize::new(0);
    let msgfile = match args.message {
        Some(message) => {
            let path = dir.join(format!("py-message-{}", N.fetch_add(1, Ordering::SeqCst)));
            std::fs::write(&path, message).expect("write message file");
            path.to_str().expect("utf-8 temp path").to_owned()
        }
        None => "-".to_owned(),
    };
    let auth = args
        .auth
        .map_or("-".to_owned(), |(m, u, p)| format!("{m}:{u}:{p}"));
    let out = run_bounded(
        "python3",
        &[
            "-c",
            PY_SMTP,
            args.mode,
            &args.port.to_string(),
            &auth,
            args.from,
            &args.to.join(","),
            &msgfile,
            args.params,
        ],
    );
    let raw = format!(
        "exit {}\n--- stdout ---\n{}--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && out.stdout.ends_with(b"done\n"),
        "smtplib session failed:\n{raw}"
    );
    let steps = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| *l != "done")
        .map(|l| {
            let mut it = l.splitn(3, ' ');
            Step {
                step: it.next().unwrap_or("").to_owned(),
                code: it.next().unwrap_or("").to_owned(),
                text: it.next().unwrap_or("").to_owned(),
            }
        })
        .collect();
    PySession { steps, raw }
}

/// Load from Python's `smtplib`: `threads` clients at once, each running `sessions` sessions in
/// a row (every one opened as soon as the last one's `221` was read) of `messages` messages
/// to one recipient. Every client opens its first session, says EHLO and waits for all the
/// others to have done the same, so the first sessions are all open together. Arguments:
/// port, threads, sessions, messages, recipient. It prints `sessions N` (sessions ended with
/// `221`), `messages N` (messages answered `250`), one `problem ...` line for anything else
/// (a `421` at connect, a refused message, an exception), and `done`.
const PY_LOAD: &str = r#"
import smtplib, sys, threading

port, threads, sessions, messages = (int(a) for a in sys.argv[1:5])
rcpt = sys.argv[5]
lock = threading.Lock()
counts = {"sessions": 0, "messages": 0}
problems = []
everyone_open = threading.Barrier(threads)

def problem(text):
    with lock:
        problems.append(text.replace("\r", " ").replace("\n", " "))

def client(t):
    for n in range(sessions):
        try:
            s = smtplib.SMTP("127.0.0.1", port, local_hostname="load.test", timeout=25)
            s.ehlo()
        except smtplib.SMTPConnectError as e:
            problem(f"connect {e.smtp_code} {e.smtp_error!r}")
            s = None
        except Exception as e:
            problem(f"connect {type(e).__name__} {e}")
            s = None
        if n == 0:
            try:
                everyone_open.wait(timeout=25)
            except threading.BrokenBarrierError:
                problem("not every client got its first session open")
        if s is None:
            continue
        try:
            for m in range(messages):
                body = f"Subject: load {t}-{n}-{m}\r\n\r\nmessage {t}-{n}-{m}\r\n"
                s.sendmail("load@example.org", [rcpt], body)
                with lock:
                    counts["messages"] += 1
            code, text = s.quit()
            if code == 221:
                with lock:
                    counts["sessions"] += 1
            else:
                problem(f"quit {code} {text!r}")
        except Exception as e:
            problem(f"session {type(e).__name__} {e}")

workers = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print("sessions", counts["sessions"])
print("messages", counts["messages"])
for p in problems:
    print("problem", p)
print("done", flush=True)
"#;

/// What [`py_load`] reports.
#[derive(Debug)]
pub(crate) struct PyLoad {
    /// Sessions that ended with `221`.
    pub(crate) sessions: usize,
    /// Messages answered `250`.
    pub(crate) messages: usize,
    /// Everything else, one line each (a `421` at connect, a refused message...).
    pub(crate) problems: Vec<String>,
    pub(crate) raw: String,
}

/// Runs [`PY_LOAD`] against `port`; panics unless it ran to `done`.
pub(crate) fn py_load(
    port: u16,
    threads: usize,
    sessions: usize,
    messages: usize,
    rcpt: &str,
) -> PyLoad {
    let numbers = [port as usize, threads, sessions, messages].map(|n| n.to_string());
    let mut args = vec!["-c", PY_LOAD];
    args.extend(numbers.iter().map(String::as_str));
    args.push(rcpt);
    let out = run_bounded("python3", &args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let raw = format!(
        "exit {}\n--- stdout ---\n{stdout}--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && stdout.ends_with("done\n"),
        "the smtplib load failed:\n{raw}"
    );
    let count = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {key:?} count:\n{raw}"))
    };
    PyLoad {
        sessions: count("sessions "),
        messages: count("messages "),
        problems: stdout
            .lines()
            .filter_map(|l| l.strip_prefix("problem "))
            .map(str::to_owned)
            .collect(),
        raw,
    }
}

/// A TLS client from Python's `ssl` (OpenSSL) that connects to a port expecting implicit TLS:
/// it sends its ClientHello, reads until the server closes the connection, then hands what it
/// read to its handshake. Argument: the port. Prints `sent N` (ClientHello octets), `received`
/// with what came back (CRLF as `|`), `handshake failed REASON` or `handshake succeeded`, and
/// `done`.
const PY_TLS_HELLO: &str = r#"
import socket, ssl, sys

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
try:
    tls.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = outgoing.read()
print("sent", len(hello), flush=True)
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=25)
s.sendall(hello)
received = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    received += chunk
print("received", received.decode("latin-1").replace("\r\n", "|"), flush=True)
incoming.write(received)
incoming.write_eof()
try:
    tls.do_handshake()
    print("handshake succeeded")
except ssl.SSLError as e:
    print("handshake failed", e.reason or e)
print("done", flush=True)
"#;

/// Runs [`PY_TLS_HELLO`] against `port` and returns its output lines; panics unless it ran to
/// `done` (so the server closed the connection).
pub(crate) fn py_tls_hello(port: u16) -> Vec<String> {
    let out = run_bounded("python3", &["-c", PY_TLS_HELLO, &port.to_string()]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.ends_with("done\n"),
        "the ssl client failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().map(str::to_owned).collect()
}

/// Sends `message` with curl (`url` is `smtp://...` or `smtps://...`; `extra` adds flags such
/// as `--ssl-reqd` and `--user`), accepting the self-signed certificate with `-k`.
pub(crate) fn curl_send(
    dir: &Path,
    url: &str,
    from: &str,
    to: &str,
    message: &[u8],
    extra: &[&str],
) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = dir.join(format!("curl-message-{}", N.fetch_add(1, Ordering::SeqCst)));
    std::fs::write(&path, message).expect("write message file");
    let path = path.to_str().expect("utf-8 temp path");
    let mut args = vec![
        "-sS",
        "-k",
        "--max-time",
        "25",
        "--url",
        url,
        "--mail-from",
        from,
        "--mail-rcpt",
        to,
        "--upload-file",
        path,
        "-v",
    ];
    args.extend_from_slice(extra);
    let out = run_bounded("curl", &args);
    assert!(
        out.status.success(),
        "curl {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---- checks of delivered files ----

/// What the trace headers of a delivered message must say.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Trace<'a> {
    /// The reverse path, without brackets (empty for `<>`).
    pub(crate) return_path: &'a str,
    /// The EHLO name the client gave.
    pub(crate) helo: &'a str,
    /// `ESMTP`, `ESMTPS`, `ESMTPSA`...
    pub(crate) protocol: &'a str,
    /// The `for` clause, present only with a single recipient.
    pub(crate) for_rcpt: Option<&'a str>,
}

/// Checks a delivered Maildir file byte for byte: the name carries the right size, the file
/// starts with `Return-Path:` and a `Received:` header of the expected shape (RFC 5321
/// section 4.4, folded with CRLF TAB, lines of at most 78 characters, an RFC 5322 date),
/// followed by exactly `body`, and every line ends in CRLF.
pub(crate) fn check_delivered(name: &str, file: &[u8], trace: Trace<'_>, body: &[u8]) {
    let show = || String::from_utf8_lossy(file).into_owned();
    let (base, sizes) = name
        .rsplit_once(",S=")
        .unwrap_or_else(|| panic!("no ,S= in the Maildir name {name}"));
    let (size, sent) = sizes
        .split_once(",W=")
        .unwrap_or_else(|| panic!("no ,W= after ,S= in the Maildir name {name}"));
    assert_eq!(
        size.parse::<usize>().ok(),
        Some(file.len()),
        "S= of {name} is not the file size"
    );
    assert_no_bare_line_endings(file);
    // Every line ends in CRLF (checked above), so the size as sent is the file size.
    assert_eq!(
        sent.parse::<usize>().ok(),
        Some(file.len()),
        "W= of {name} is not the size as sent"
    );

    let return_path = format!("Return-Path: <{}>\r\n", trace.return_path);
    assert!(
        file.starts_with(return_path.as_bytes()),
        "expected {return_path:?} first:\n{}",
        show()
    );
    let rest = &file[return_path.len()..];
    assert!(
        rest.starts_with(b"Received: "),
        "expected Received: second:\n{}",
        show()
    );
    // The Received: header: its first line and every continuation line (starting with TAB).
    let mut end = 0;
    let mut unfolded = String::new();
    loop {
        let line_end = rest[end..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map(|p| end + p)
            .unwrap_or_else(|| panic!("unterminated header:\n{}", show()));
        let line = std::str::from_utf8(&rest[end..line_end]).expect("ASCII header");
        assert!(line.len() <= 78, "header line over 78 characters: {line:?}");
        if end > 0 {
            assert!(line.starts_with('\t'), "bad continuation {line:?}");
            unfolded.push(' ');
            unfolded.push_str(&line[1..]);
        } else {
            unfolded.push_str(line);
        }
        end = line_end + 2;
        if rest.get(end) != Some(&b'\t') {
            break;
        }
    }
    let mut expected = format!(
        "Received: from {} ([127.0.0.1]) by localhost with {} id {base}",
        trace.helo, trace.protocol
    );
    if let Some(rcpt) = trace.for_rcpt {
        expected.push_str(&format!(" for <{rcpt}>"));
    }
    expected.push_str("; ");
    let Some(date) = unfolded.strip_prefix(&expected) else {
        panic!("Received: header\n  {unfolded:?}\ndoes not start with\n  {expected:?}");
    };
    assert_rfc5322_date(date);
    let content = &rest[end..];
    assert!(
        content == body,
        "the stored message differs from what was sent:\n--- stored ---\n{}\n--- sent ---\n{}",
        String::from_utf8_lossy(content).escape_debug(),
        String::from_utf8_lossy(body).escape_debug()
    );
}

/// `Mon, 30 Nov 2026 09:48:23 +0000`.
fn assert_rfc5322_date(date: &str) {
    let parts: Vec<&str> = date.split(' ').collect();
    let ok = parts.len() == 6
        && ["Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"].contains(&parts[0])
        && parts[1].parse::<u8>().is_ok_and(|d| (1..=31).contains(&d))
        && [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ]
        .contains(&parts[2])
        && parts[3].len() == 4
        && parts[3].parse::<u16>().is_ok_and(|y| y >= 2024)
        && parts[4].len() == 8
        && parts[4]
            .split(':')
            .map(|p| p.len() == 2 && p.parse::<u8>().is_ok())
            .filter(|ok| *ok)
            .count()
            == 3
        && parts[5] == "+0000";
    assert!(ok, "not an RFC 5322 date in UTC: {date:?}");
}

/// Every CR is followed by LF and every LF preceded by CR.
pub(crate) fn assert_no_bare_line_endings(bytes: &[u8]) {
    for (i, &b) in bytes.iter().enumerate() {
        let ok = match b {
            b'\r' => bytes.get(i + 1) == Some(&b'\n'),
            b'\n' => i > 0 && bytes[i - 1] == b'\r',
            _ => true,
        };
        assert!(
            ok,
            "bare line ending at byte {i}: {:?}",
            String::from_utf8_lossy(&bytes[i.saturating_sub(20)..(i + 20).min(bytes.len())])
        );
    }
}

/// The message after the two trace headers (`Return-Path:` and the folded `Received:`).
pub(crate) fn strip_trace(file: &[u8]) -> &[u8] {
    let mut rest = file;
    for _ in 0..2 {
        loop {
            let end = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("a header line");
            rest = &rest[end + 2..];
            if rest.first() != Some(&b'\t') {
                break;
            }
        }
    }
    rest
}

/// Polls `f` until it returns `Some`, bounded by [`LIMIT`].
pub(crate) fn poll<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(value) = f() {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {LIMIT:?}");
        thread::sleep(Duration::from_millis(20));
    }
}

// ---- POP3 (issue 15) ----

/// A running `mail-server` with its POP3 listeners on free loopback ports.
pub(crate) struct Pop3Server {
    /// The server (SMTP ports, data directory, logs).
    pub(crate) server: MailServer,
    /// `--pop3` (STLS).
    pub(crate) pop3: u16,
    /// `--pop3s` (implicit TLS).
    pub(crate) pop3s: u16,
}

impl Pop3Server {
    /// Starts the server on `data` with `args` and both POP3 listeners on free ports,
    /// retrying with new ports when one was taken meanwhile.
    pub(crate) fn start(data: &Path, args: &[String]) -> Pop3Server {
        let mut last_error = String::new();
        for _attempt in 0..5 {
            // One probe for all five: two probes could hand out the same port twice.
            let [smtp, submission, submissions, pop3, pop3s] = free_ports();
            let mut all = args.to_vec();
            all.extend([
                "--pop3".to_owned(),
                pop3.to_string(),
                "--pop3s".to_owned(),
                pop3s.to_string(),
            ]);
            match MailServer::try_start(data, &all, &[], &[], smtp, submission, submissions) {
                Ok(server) => {
                    return Pop3Server {
                        server,
                        pop3,
                        pop3s,
                    };
                }
                Err(stderr) if stderr.contains("cannot listen on") => last_error = stderr,
                Err(stderr) => panic!("mail-server {all:?} did not start:\n{stderr}"),
            }
        }
        panic!("mail-server never found free ports:\n{last_error}");
    }
}

/// `python3` with `poplib`, `smtplib` and `ssl` (required under `CI=true`).
pub(crate) fn have_poplib() -> bool {
    tool_available(
        "python3",
        &["-c", "import poplib, smtplib, ssl"],
        "python3 with poplib, smtplib and ssl",
    )
}

/// What every POP3 Python script starts with: `login(user, password)` over STLS on
/// `POP3_PORT` (self-signed certificate accepted) and `deliver(to, subject)` through the
/// relay on `SMTP_PORT`.
const PY_POP3_PRELUDE: &str = r#"
import os, poplib, smtplib, ssl, sys, time
POP3_PORT = int(os.environ["POP3_PORT"])
SMTP_PORT = int(os.environ["SMTP_PORT"])
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
def login(user, password):
    p = poplib.POP3("127.0.0.1", POP3_PORT, timeout=20)
    p.stls(context=CTX)
    p.user(user)
    p.pass_(password)
    return p
def deliver(to, subject, body="Hello.\r\n"):
    with smtplib.SMTP("127.0.0.1", SMTP_PORT, timeout=20) as s:
        s.sendmail("sender@example.org", [to], "Subject: %s\r\n\r\n%s" % (subject, body))
def out(*words):
    print(*words, flush=True)
"#;

/// Runs the Python `script` (after [`PY_POP3_PRELUDE`]) against `server`, with `env` as extra
/// environment variables; returns its standard output, panicking with its output when it
/// fails.
pub(crate) fn py_pop3(server: &Pop3Server, script: &str, env: &[(&str, &str)]) -> String {
    let program = format!("{PY_POP3_PRELUDE}\n{script}");
    let mut command = Command::new("python3");
    command
        .args(["-c", &program])
        .env("POP3_PORT", server.pop3.to_string())
        .env("SMTP_PORT", server.server.smtp.to_string())
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    let output = bounded_output(command);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "python failed: {}\nstdout:\n{stdout}\nstderr:\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        server.server.logs()
    );
    stdout
}

/// Runs `command` to its end within [`LIMIT`] (killed after it), collecting its output.
fn bounded_output(mut command: Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = Arc::new(Mutex::new(Vec::new()));
    let stderr = Arc::new(Mutex::new(Vec::new()));
    drain(child.stdout.take().expect("stdout"), stdout.clone());
    drain(child.stderr.take().expect("stderr"), stderr.clone());
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process did not finish within {LIMIT:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while (Arc::strong_count(&stdout) > 1 || Arc::strong_count(&stderr) > 1)
        && Instant::now() < deadline
    {
        thread::sleep(Duration::from_millis(5));
    }
    let take = |m: &Arc<Mutex<Vec<u8>>>| std::mem::take(&mut *m.lock().unwrap());
    Output {
        status,
        stdout: take(&stdout),
        stderr: take(&stderr),
    }
}

/// The files of `address`'s Maildir `sub` directory (`new` or `cur`), in delivery order.
pub(crate) fn maildir_names(data: &Path, address: &str, sub: &str) -> Vec<String> {
    let dir = maildir(data, address).join(sub);
    let mut names: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    // Delivery order: `<secs>.M<micros>` compared as numbers, as the server lists them.
    names.sort_by_key(|name| {
        let time = name.split_once('.').and_then(|(secs, rest)| {
            let micros = rest.strip_prefix('M')?;
            let end = micros.find(|c: char| !c.is_ascii_digit())?;
            Some((
                secs.parse::<u64>().ok()?,
                micros[..end].parse::<u64>().ok()?,
            ))
        });
        (time, name.clone())
    });
    names
}

/// `field` of `/proc/PID/status` (`VmRSS`, `VmHWM`), in bytes (Linux).
pub(crate) fn status_bytes(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    let kib: u64 = line
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .expect("a number of kB");
    kib * 1024
}

/// The capabilities issue 19 asks the mail server's IMAP listeners to advertise after login,
/// as they are spelled in the capability list (compare without case: RFC 9051 section 9).
pub(crate) const IMAP_CAPABILITIES_ASKED: [&str; 15] = [
    "IMAP4REV1",
    "IDLE",
    "UIDPLUS",
    "MOVE",
    "ENABLE",
    "NAMESPACE",
    "ID",
    "UNSELECT",
    "SPECIAL-USE",
    "LIST-EXTENDED",
    "LIST-STATUS",
    "CHILDREN",
    "ESEARCH",
    "LITERAL+",
    "CONDSTORE",
];

/// The mail server on `dir` with the [`users`] accounts, `extra` flags, and its IMAP
/// listeners on free loopback ports: the server, its `--imap` (STARTTLS) port and its
/// `--imaps` (implicit TLS) port.
pub(crate) fn start_with_imap(dir: &TempDir, extra: &[&str]) -> (MailServer, u16, u16) {
    let [imap, imaps] = free_ports();
    let mut args = users();
    args.extend(extra.iter().map(|s| s.to_string()));
    // Later flags win: these replace the support's `--imap 0 --imaps 0`.
    args.extend([
        "--imap".to_owned(),
        imap.to_string(),
        "--imaps".to_owned(),
        imaps.to_string(),
    ]);
    let server = MailServer::start(&dir.path().join("data"), &args);
    (server, imap, imaps)
}

/// A load tool (`pop3-load`, `imap-load`) given `--help` or `-h` prints its usage, naming
/// each of `options`, and nothing on standard error, exits 0 and never connects to its
/// `--server`; without `--user` and `--password` it exits 2 and says so.
pub(crate) fn assert_load_help(name: &str, options: &[&str]) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let server = listener.local_addr().expect("address").to_string();
    let program = example_bin(name);
    let program = program.to_string_lossy();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    for flag in ["--help", "-h"] {
        let output = run_bounded(&program, &["--server", &server, "--sessions", "2", flag]);
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(
            stdout.starts_with(&format!("{name}:")) && stdout.contains("USAGE:"),
            "{stdout}"
        );
        for option in options {
            assert!(stdout.contains(option), "{option}: {stdout}");
        }
        assert!(stderr.is_empty(), "{stderr}");
    }
    assert!(listener.accept().is_err(), "{name} connected");
    let output = run_bounded(&program, &["--server", &server]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("--user and --password"), "{stderr}");
}
