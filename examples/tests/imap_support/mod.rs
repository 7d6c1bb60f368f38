//! Support for the IMAP end-to-end tests (`imap_server.rs`): the mail server with its IMAP,
//! POP3 and SMTP listeners on free loopback ports, the Python scenarios of
//! `support/imap_scenarios.py` (imaplib, smtplib, poplib), and a raw IMAP connection that
//! shows the exact bytes the server sends (for the limits, where a real client would hide
//! them).

#![allow(dead_code)] // not every test uses every helper

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;

use crate::support::{
    ALICE, ALICE_PASSWORD, LIMIT, MailServer, free_ports, run_bounded, tool_available,
};

/// The scenarios run by [`scenario`].
const SCENARIOS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/support/imap_scenarios.py"
);

/// A running `mail-server` with IMAP (STARTTLS and implicit TLS) and POP3 (STLS and implicit
/// TLS) listeners on free loopback ports besides its SMTP ones. Killed on drop.
pub(crate) struct ImapServer {
    /// The server (SMTP ports, data directory, logs).
    pub(crate) server: MailServer,
    /// `--imap` (STARTTLS).
    pub(crate) imap: u16,
    /// `--imaps` (implicit TLS).
    pub(crate) imaps: u16,
    /// `--pop3` (STLS).
    pub(crate) pop3: u16,
    /// `--pop3s` (implicit TLS).
    pub(crate) pop3s: u16,
}

impl ImapServer {
    /// Starts the server on `data` with `args`, retrying with new ports when one was taken
    /// between the probe and the server's bind.
    pub(crate) fn start(data: &Path, args: &[String]) -> ImapServer {
        let mut last_error = String::new();
        for _attempt in 0..5 {
            // One probe for all seven, so that no port is handed out twice.
            let [smtp, submission, submissions, pop3, pop3s, imap, imaps] = free_ports();
            let mut all = args.to_vec();
            for (flag, port) in [
                ("--pop3", pop3),
                ("--pop3s", pop3s),
                ("--imap", imap),
                ("--imaps", imaps),
            ] {
                all.extend([flag.to_owned(), port.to_string()]);
            }
            match MailServer::try_start(data, &all, &[], &[], smtp, submission, submissions) {
                Ok(server) => {
                    return ImapServer {
                        server,
                        imap,
                        imaps,
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

/// `python3` with `imaplib`, `poplib`, `smtplib` and `ssl` (required under `CI=true`).
pub(crate) fn have_imaplib() -> bool {
    tool_available(
        "python3",
        &["-c", "import imaplib, poplib, smtplib, ssl"],
        "python3 with imaplib, poplib, smtplib and ssl",
    )
}

/// Runs the scenario `name` of `imap_scenarios.py` against `server` as [`ALICE`]; returns its
/// standard output, panicking with everything (its output and the server's logs) unless it
/// ran to `done`.
pub(crate) fn scenario(server: &ImapServer, name: &str) -> String {
    let env = [
        ("IMAP_PORT", server.imap.to_string()),
        ("IMAPS_PORT", server.imaps.to_string()),
        ("POP3_PORT", server.pop3.to_string()),
        ("SMTP_PORT", server.server.smtp.to_string()),
        ("USER_NAME", ALICE.to_owned()),
        ("USER_PASSWORD", ALICE_PASSWORD.to_owned()),
    ];
    // `env` passes the variables, as run_bounded takes a program and its arguments only.
    let mut argv: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    argv.extend(["python3".to_owned(), SCENARIOS.to_owned(), name.to_owned()]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = run_bounded("env", &argv);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.ends_with("done\n"),
        "scenario {name} failed: {}\n--- stdout ---\n{stdout}--- stderr ---\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        server.server.logs()
    );
    stdout
}

/// The line of `out` that starts with `step` and a space, without the step; panics when
/// there is none.
pub(crate) fn step<'a>(out: &'a str, step: &str) -> &'a str {
    let prefix = format!("{step} ");
    out.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no step {step}:\n{out}"))
}

/// `text` with the flags of every `FLAGS (...)` list sorted, since the order of flags in a
/// list carries no meaning (RFC 9051 section 7.5.2).
pub(crate) fn sorted_flags(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("FLAGS (") {
        let open = start + "FLAGS (".len();
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        let Some(close) = rest.find(')') else { break };
        let mut flags: Vec<&str> = rest[..close].split(' ').filter(|f| !f.is_empty()).collect();
        flags.sort_unstable();
        out.push_str(&flags.join(" "));
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// Runs curl with `args` (bounded); returns (exit success, stdout, stderr).
pub(crate) fn curl(args: &[&str]) -> (bool, Vec<u8>, String) {
    let out = run_bounded("curl", args);
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A plaintext IMAP connection read line by line, for the exact bytes of the server's
/// answers to what no well-behaved client sends.
pub(crate) struct RawImap {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Everything received so far, for failure messages.
    pub(crate) transcript: Vec<u8>,
}

impl RawImap {
    /// Connects to `port` without reading anything.
    pub(crate) fn connect(port: u16) -> RawImap {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"));
        stream.set_read_timeout(Some(LIMIT)).expect("timeout");
        stream.set_write_timeout(Some(LIMIT)).expect("timeout");
        RawImap {
            stream,
            buf: Vec::new(),
            transcript: Vec::new(),
        }
    }

    /// Connects and reads the greeting, which must be `* OK`.
    pub(crate) fn greeted(port: u16) -> RawImap {
        let mut conn = RawImap::connect(port);
        let greeting = conn.line();
        assert!(
            greeting.as_deref().is_some_and(|g| g.starts_with("* OK")),
            "greeting: {greeting:?}"
        );
        conn
    }

    /// Connects, and logs in with LOGIN before TLS (the server must run with
    /// `--allow-plaintext-auth`).
    pub(crate) fn logged_in(port: u16, user: &str, password: &str) -> RawImap {
        let mut conn = RawImap::greeted(port);
        let lines = conn.cmd("L1", &format!("LOGIN \"{user}\" \"{password}\""));
        assert!(
            lines.last().is_some_and(|l| l.starts_with("L1 OK")),
            "{lines:?}"
        );
        conn
    }

    pub(crate) fn send(&mut self, bytes: impl AsRef<[u8]>) {
        if let Err(e) = self.stream.write_all(bytes.as_ref()) {
            panic!("write: {e}; received so far:\n{}", self.received());
        }
    }

    /// Writes what it can of `bytes`: false when the server closed the connection meanwhile.
    pub(crate) fn try_send(&mut self, bytes: impl AsRef<[u8]>) -> bool {
        self.stream.write_all(bytes.as_ref()).is_ok()
    }

    pub(crate) fn received(&self) -> String {
        String::from_utf8_lossy(&self.transcript).into_owned()
    }

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

    /// The next line with its CRLF, or `None` at EOF.
    pub(crate) fn line(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..end + 2).collect();
                return Some(String::from_utf8_lossy(&line).into_owned());
            }
            if !self.fill() {
                return None;
            }
        }
    }

    /// Every line up to and including the one tagged `tag`; panics at EOF before it.
    pub(crate) fn until_tagged(&mut self, tag: &str) -> Vec<String> {
        let prefix = format!("{tag} ");
        let mut lines = Vec::new();
        loop {
            match self.line() {
                Some(line) => {
                    let done = line.starts_with(&prefix);
                    lines.push(line);
                    if done {
                        return lines;
                    }
                }
                None => panic!(
                    "EOF before the answer to {tag}; received:\n{}",
                    self.received()
                ),
            }
        }
    }

    /// Sends `tag text` CRLF and returns the lines up to the tagged one.
    pub(crate) fn cmd(&mut self, tag: &str, text: &str) -> Vec<String> {
        self.send(format!("{tag} {text}\r\n"));
        self.until_tagged(tag)
    }

    /// Everything until the server closes the connection (bounded).
    pub(crate) fn until_eof(&mut self) -> String {
        while self.fill() {}
        String::from_utf8_lossy(&std::mem::take(&mut self.buf)).into_owned()
    }
}
