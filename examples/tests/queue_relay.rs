//! End-to-end tests of the outbound queue (issue 16): the real `mail-server` binary, a user
//! submitting mail for another domain, and Python's aiosmtpd as the remote mail exchanger
//! (`support/queue_mx.py`, started by each test on loopback). Recipients are domain literals
//! (`user@[127.0.0.1]`), which bypass DNS, and the server delivers to aiosmtpd's port with
//! `--mx-port`. Retry schedules are seconds here, so the retries, the delay notice and the
//! expiry happen within a test.
//!
//! Without aiosmtpd the tests print why and pass, except under `CI=true`, where they fail.

mod support;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::{
    ALICE, ALICE_PASSWORD, BOB, LIMIT, MailServer, Smtp, TempDir, ci, example_bin, files, poll,
    run_bounded, users,
};

/// The foreign recipient every test writes to: a domain literal, so no DNS is involved.
const REMOTE: &str = "user@[127.0.0.1]";

/// Whether `python3` can import aiosmtpd (required under `CI=true`).
fn have_aiosmtpd() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd.smtp"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            !ci(),
            "CI=true: aiosmtpd is not importable by python3; `.ci/run` installs it into .venv-ci"
        );
        eprintln!("SKIPPED: aiosmtpd not importable by python3 (never skipped with CI=true)");
    }
    ok
}

/// The remote MX: aiosmtpd on loopback, writing what it takes to `dir`. Stopped on drop.
struct Mx {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    dir: PathBuf,
}

impl Mx {
    /// Starts it on `port` (0: a free one) with the script's `options`.
    fn start(dir: &Path, port: u16, options: &[&str]) -> Mx {
        std::fs::create_dir_all(dir).expect("mx dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/queue_mx.py");
        let mut child = Command::new("python3")
            .arg("-u")
            .arg(script)
            .arg("--outdir")
            .arg(dir)
            .args(["--port", &port.to_string()])
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
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("aiosmtpd did not start: {line:?}"));
        Mx {
            child,
            stdin,
            port,
            dir: dir.to_path_buf(),
        }
    }

    /// The messages it took: (envelope facts, body), in order.
    fn messages(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for n in 1.. {
            let env = std::fs::read_to_string(self.dir.join(format!("{n}.env")));
            let body = std::fs::read(self.dir.join(format!("{n}.body")));
            match (env, body) {
                (Ok(env), Ok(body)) => out.push((env, body)),
                _ => break,
            }
        }
        out
    }

    /// Waits (bounded) until it took `n` messages, and returns them.
    fn wait_for(&self, n: usize) -> Vec<(String, Vec<u8>)> {
        poll(&format!("{n} messages at aiosmtpd"), || {
            let all = self.messages();
            (all.len() >= n).then_some(all)
        })
    }
}

impl Drop for Mx {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && !matches!(self.child.try_wait(), Ok(Some(_))) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nobody listens on (bound, then released): a remote that is down.
fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// The server's flags: the test accounts, plaintext AUTH, the remote's port, and `extra`.
fn server_args(mx_port: u16, extra: &[&str]) -> Vec<String> {
    let mut args = users();
    args.push("--allow-plaintext-auth".into());
    args.extend(["--mx-port".into(), mx_port.to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// A submission session logged in as alice.
fn submit_session(server: &MailServer) -> Smtp {
    let mut conn = Smtp::connect(server.submission);
    conn.expect(220);
    conn.cmd_expect("EHLO client.test", 250);
    let token = base64(format!("\0{ALICE}\0{ALICE_PASSWORD}").as_bytes());
    conn.cmd_expect(&format!("AUTH PLAIN {token}"), 235);
    conn
}

/// Submits one message from alice to `rcpts` and returns the final reply's text.
fn submit(server: &MailServer, rcpts: &[&str], subject: &str) -> String {
    let mut conn = submit_session(server);
    conn.cmd_expect(&format!("MAIL FROM:<{ALICE}>"), 250);
    for rcpt in rcpts {
        conn.cmd_expect(&format!("RCPT TO:<{rcpt}>"), 250);
    }
    conn.cmd_expect("DATA", 354);
    conn.send(message(subject));
    let reply = conn.expect(250);
    conn.cmd_expect("QUIT", 221);
    reply.text().to_owned()
}

/// The message a test sends, dot-stuffed and terminated.
fn message(subject: &str) -> String {
    format!(
        "From: <{ALICE}>\r\nTo: <{REMOTE}>\r\nSubject: {subject}\r\n\r\nHello over there.\r\n\
         ..a line that starts with a dot\r\n.\r\n"
    )
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
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

/// The envelope files of the queue.
fn queued(data: &Path) -> Vec<String> {
    // Not the hidden `.<id>.tmp.*` file of an envelope update the worker is writing.
    files(&data.join("queue/env"))
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !name.starts_with('.'))
        .collect()
}

/// `--list-queue` on `data`: (exit code, stdout).
fn list_queue(data: &Path) -> (i32, String) {
    let bin = example_bin("mail-server");
    let out = run_bounded(
        bin.to_str().expect("utf-8 path"),
        &["--data", data.to_str().expect("utf-8 path"), "--list-queue"],
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The messages in alice's Maildir (`new/`).
fn alice_mail(data: &Path) -> Vec<Vec<u8>> {
    files(&support::maildir(data, ALICE).join("new"))
        .into_iter()
        .map(|(_, bytes)| bytes)
        .collect()
}

/// What Python's `email` package (a parser we did not write) makes of a delivery status
/// notification: one `key value` line per fact.
fn parse_dsn(dsn: &[u8], dir: &Path) -> String {
    let path = dir.join("dsn.eml");
    std::fs::write(&path, dsn).expect("write dsn");
    const SCRIPT: &str = r#"
import email, sys
from email import policy
msg = email.message_from_bytes(open(sys.argv[1], "rb").read())
print("type", msg.get_content_type())
print("report-type", msg.get_param("report-type"))
print("to", msg["To"])
print("from", msg["From"])
parts = msg.get_payload()
print("parts", " ".join(p.get_content_type() for p in parts))
status = parts[1].get_payload()
for block in status:
    for key, value in block.items():
        print("field", key, value)
headers = parts[2].get_payload()
if isinstance(headers, list):
    headers = headers[0].as_string()
for line in str(headers).splitlines():
    print("original", line)
"#;
    let out = run_bounded("python3", &["-c", SCRIPT, path.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "python could not parse the DSN:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(dsn)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn submitted_mail_for_another_domain_arrives_with_its_envelope_and_body() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = TempDir::new("queue-deliver");
    let mx = Mx::start(&dir.path().join("mx"), 0, &[]);
    let data = dir.path().join("data");
    let server = MailServer::start(&data, &server_args(mx.port, &[]));

    // One foreign and one local recipient in the same message.
    let reply = submit(&server, &[REMOTE, BOB], "to both");
    assert!(reply.contains("delivered as"), "{reply}");
    let received = mx.wait_for(1);
    let (env, body) = &received[0];
    assert_eq!(
        env.lines()
            .filter(|l| !l.starts_with("option"))
            .collect::<Vec<_>>(),
        [format!("from {ALICE}"), format!("to {REMOTE}")],
        "{env}"
    );
    let text = String::from_utf8_lossy(body);
    // The DKIM-Signature fields of the sender's local domain first (issue 16; dkim_interop.rs
    // verifies them), then our Received: header, no Return-Path: (the final delivery adds
    // that), then the message as sent, dot-unstuffed.
    assert!(
        text.starts_with("DKIM-Signature: v=1; a=rsa-sha256;"),
        "{text}"
    );
    assert_eq!(text.matches("DKIM-Signature: ").count(), 2, "{text}");
    let received_at = text.find("\r\nReceived: ").expect("a Received: header");
    let text = text.get(received_at + 2..).unwrap_or_default();
    assert!(text.starts_with("Received: from client.test"), "{text}");
    assert!(!text.contains("Return-Path:"), "{text}");
    assert!(
        text.ends_with(&format!(
            "From: <{ALICE}>\r\nTo: <{REMOTE}>\r\nSubject: to both\r\n\r\nHello over there.\r\n\
             .a line that starts with a dot\r\n"
        )),
        "{text}"
    );
    // The local recipient got it in its Maildir, as before.
    let (_, local) = support::only_message(&data, BOB);
    assert!(String::from_utf8_lossy(&local).contains("Subject: to both"));
    // Delivered: the queue is empty again, and the log says so.
    poll("the queue to empty", || {
        queued(&data).is_empty().then_some(())
    });
    poll("the delivery log line", || {
        server.stderr().contains("queue: delivered").then_some(())
    });

    // A foreign recipient alone: answered "queued as".
    let reply = submit(&server, &[REMOTE], "only remote");
    assert!(reply.contains("queued as"), "{reply}");
    let received = mx.wait_for(2);
    assert!(String::from_utf8_lossy(&received[1].1).contains("Subject: only remote"));
}

#[test]
fn a_temporary_failure_is_retried_and_then_delivered() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = TempDir::new("queue-retry");
    // The first RCPT gets 451, the next attempt is accepted.
    let mx = Mx::start(&dir.path().join("mx"), 0, &["--tempfail", "1"]);
    let data = dir.path().join("data");
    let server = MailServer::start(&data, &server_args(mx.port, &["--retry-schedule", "2s"]));
    let sent = Instant::now();
    submit(&server, &[REMOTE], "retried");
    let received = mx.wait_for(1);
    // Not before the retry delay: the first attempt was refused.
    assert!(
        sent.elapsed() >= Duration::from_secs(2),
        "{:?}",
        sent.elapsed()
    );
    assert!(String::from_utf8_lossy(&received[0].1).contains("Subject: retried"));
    let log = poll("the deferral in the log", || {
        let log = server.stderr();
        log.contains("queue: deferred").then_some(log)
    });
    assert!(log.contains("451 4.3.0"), "{log}");
    poll("the queue to empty", || {
        queued(&data).is_empty().then_some(())
    });
    assert_eq!(mx.messages().len(), 1, "delivered once");
}

#[test]
fn a_permanent_failure_bounces_to_the_sender() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = TempDir::new("queue-bounce");
    let mx = Mx::start(&dir.path().join("mx"), 0, &["--reject", REMOTE]);
    let data = dir.path().join("data");
    let server = MailServer::start(&data, &server_args(mx.port, &[]));
    submit(&server, &[REMOTE], "doomed");
    let dsn = poll("a bounce in alice's Maildir", || alice_mail(&data).pop());
    assert!(
        dsn.starts_with(b"Return-Path: <>\r\n"),
        "the null reverse path"
    );
    let facts = parse_dsn(&dsn, dir.path());
    for needle in [
        "type multipart/report\n",
        "report-type delivery-status\n",
        &format!("to <{ALICE}>\n"),
        "parts text/plain message/delivery-status text/rfc822-headers\n",
        "field Reporting-MTA dns; localhost\n",
        &format!("field Final-Recipient rfc822; {REMOTE}\n"),
        "field Action failed\n",
        "field Status 5.1.1\n",
        "field Diagnostic-Code smtp; 550 5.1.1",
        "field Remote-MTA dns; [127.0.0.1]\n",
        "original Subject: doomed\n",
        "original Received: from client.test",
    ] {
        assert!(facts.contains(needle), "{needle:?} not in\n{facts}");
    }
    assert!(!facts.contains("Hello over there"), "headers only");
    poll("the queue to empty", || {
        queued(&data).is_empty().then_some(())
    });
    assert!(mx.messages().is_empty());
    assert_eq!(alice_mail(&data).len(), 1, "one bounce");
}

#[test]
fn a_message_past_its_lifetime_bounces_with_4_4_7() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = TempDir::new("queue-expire");
    let data = dir.path().join("data");
    let args = server_args(
        dead_port(),
        &[
            "--retry-schedule",
            "1s",
            "--max-queue-lifetime",
            "2s",
            "--delay-warning",
            "0",
        ],
    );
    let server = MailServer::start(&data, &args);
    let sent = Instant::now();
    submit(&server, &[REMOTE], "expires");
    let dsn = poll("a bounce in alice's Maildir", || alice_mail(&data).pop());
    assert!(
        sent.elapsed() >= Duration::from_secs(2),
        "not before the lifetime"
    );
    let facts = parse_dsn(&dsn, dir.path());
    for needle in [
        "field Action failed\n",
        "field Status 4.4.7\n",
        "original Subject: expires\n",
    ] {
        assert!(facts.contains(needle), "{needle:?} not in\n{facts}");
    }
    poll("the queue to empty", || {
        queued(&data).is_empty().then_some(())
    });
    poll("the expiry log line", || {
        server.stderr().contains("queue: expired").then_some(())
    });
}

#[test]
fn a_delay_notice_is_sent_once() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = TempDir::new("queue-delay");
    let data = dir.path().join("data");
    let args = server_args(
        dead_port(),
        &[
            "--retry-schedule",
            "1s",
            "--delay-warning",
            "1s",
            "--max-queue-lifetime",
            "1h",
        ],
    );
    let server = MailServer::start(&data, &args);
    submit(&server, &[REMOTE], "slow");
    let notice = poll("a delay notice in alice's Maildir", || {
        alice_mail(&data).pop()
    });
    let facts = parse_dsn(&notice, dir.path());
    for needle in [
        "report-type delivery-status\n",
        "field Action delayed\n",
        "field Status 4.",
        "field Will-Retry-Until ",
        "original Subject: slow\n",
    ] {
        assert!(facts.contains(needle), "{needle:?} not in\n{facts}");
    }
    // Three more attempts later, still one notice, and the message still queued.
    poll("three more attempts", || {
        let (_, listing) = list_queue(&data);
        listing
            .lines()
            .find_map(|l| l.trim().strip_prefix("attempts "))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<u32>().ok())
            .filter(|&n| n >= 4)
    });
    assert_eq!(alice_mail(&data).len(), 1, "one delay notice only");
    assert_eq!(queued(&data).len(), 1);
    drop(server);
}

#[test]
fn the_relay_port_refuses_foreign_domains() {
    let dir = TempDir::new("queue-relay");
    let data = dir.path().join("data");
    let server = MailServer::start(&data, &server_args(dead_port(), &[]));
    let mut conn = server.relay();
    conn.cmd_expect("EHLO client.test", 250);
    conn.cmd_expect("MAIL FROM:<someone@example.org>", 250);
    for rcpt in ["user@example.net", REMOTE, "user@[IPv6:::1]"] {
        let reply = conn.cmd_expect(&format!("RCPT TO:<{rcpt}>"), 550);
        assert!(reply.contains("5.7.1 Relaying denied"), "{rcpt}: {reply:?}");
    }
    // Local users are still served there.
    conn.cmd_expect(&format!("RCPT TO:<{BOB}>"), 250);
    conn.cmd_expect("QUIT", 221);
    assert!(queued(&data).is_empty());
}

#[test]
fn the_queue_size_guard_refuses_with_452() {
    let dir = TempDir::new("queue-full");
    let data = dir.path().join("data");
    let args = server_args(dead_port(), &["--max-queue-messages", "1"]);
    let server = MailServer::start(&data, &args);
    submit(&server, &[REMOTE], "fills the queue");
    assert_eq!(queued(&data).len(), 1);
    let mut conn = submit_session(&server);
    conn.cmd_expect(&format!("MAIL FROM:<{ALICE}>"), 250);
    let reply = conn.cmd_expect(&format!("RCPT TO:<{REMOTE}>"), 452);
    assert!(reply.contains("4.3.1"), "{reply:?}");
    // Local recipients are not held up by the queue.
    conn.cmd_expect(&format!("RCPT TO:<{BOB}>"), 250);
    conn.cmd_expect("QUIT", 221);
    assert_eq!(queued(&data).len(), 1);
    poll("the log line of the refusal", || {
        server
            .stderr()
            .contains("the outbound queue is full")
            .then_some(())
    });
}

#[test]
fn the_queue_size_in_octets_is_guarded_at_the_end_of_the_data() {
    let dir = TempDir::new("queue-bytes");
    let data = dir.path().join("data");
    let args = server_args(dead_port(), &["--max-queue-size", "300"]);
    let server = MailServer::start(&data, &args);
    // Empty queue: RCPT is accepted; the message (with its Received: header) is over 300
    // octets, so the end of the data is answered 452 4.3.1 and nothing stays queued.
    let mut conn = submit_session(&server);
    conn.cmd_expect(&format!("MAIL FROM:<{ALICE}>"), 250);
    conn.cmd_expect(&format!("RCPT TO:<{REMOTE}>"), 250);
    conn.cmd_expect("DATA", 354);
    let big = format!("Subject: big\r\n\r\n{}\r\n.\r\n", "x".repeat(400));
    conn.send(big);
    let reply = conn.expect(452);
    assert!(reply.contains("4.3.1"), "{reply:?}");
    assert!(queued(&data).is_empty());
    assert!(files(&data.join("queue/msg")).is_empty());
    assert!(files(&data.join("queue/tmp")).is_empty());
    // A small one still fits.
    conn.cmd_expect(&format!("MAIL FROM:<{ALICE}>"), 250);
    conn.cmd_expect(&format!("RCPT TO:<{REMOTE}>"), 250);
    conn.cmd_expect("DATA", 354);
    conn.send("Subject: small\r\n\r\nhi\r\n.\r\n");
    conn.expect(250);
    conn.cmd_expect("QUIT", 221);
    assert_eq!(queued(&data).len(), 1);
}

#[test]
fn more_than_1000_queued_recipients_get_452_4_5_3() {
    let dir = TempDir::new("queue-rcpts");
    let data = dir.path().join("data");
    let args = server_args(dead_port(), &["--max-recipients", "2000"]);
    let server = MailServer::start(&data, &args);
    let mut conn = submit_session(&server);
    conn.cmd_expect(&format!("MAIL FROM:<{ALICE}>"), 250);
    let rcpts: String = (0..1001)
        .map(|i| format!("RCPT TO:<u{i}@[127.0.0.1]>\r\n"))
        .collect();
    conn.send(rcpts);
    for _ in 0..1000 {
        conn.expect(250);
    }
    let reply = conn.expect(452);
    assert!(reply.contains("4.5.3"), "{reply:?}");
    // Local recipients are not counted against it.
    conn.cmd_expect(&format!("RCPT TO:<{BOB}>"), 250);
    conn.cmd_expect("DATA", 354);
    conn.send("Subject: many\r\n\r\nhi\r\n.\r\n");
    conn.expect(250);
    conn.cmd_expect("QUIT", 221);
    let ids = queued(&data);
    assert_eq!(ids.len(), 1);
    let envelope = std::fs::read_to_string(data.join("queue/env").join(&ids[0])).unwrap();
    assert_eq!(envelope.matches("\nrcpt\t").count(), 1000);
}

#[test]
fn list_queue_prints_the_pending_messages_and_exits() {
    let dir = TempDir::new("queue-list");
    let data = dir.path().join("data");
    let mut server = MailServer::start(&data, &server_args(dead_port(), &[]));
    submit(&server, &[REMOTE, "other@[127.0.0.1]"], "listed");
    // While the server runs, and after it is gone: the listing reads the files only.
    let listing = poll("the first attempt in the listing", || {
        let (code, listing) = list_queue(&data);
        assert_eq!(code, 0, "{listing}");
        listing.contains("attempts 1 ").then_some(listing)
    });
    let ids = queued(&data);
    assert_eq!(ids.len(), 1);
    server.kill();
    let (code, after) = list_queue(&data);
    assert_eq!(code, 0);
    assert_eq!(listing, after);
    let size = std::fs::metadata(data.join("queue/msg").join(&ids[0]))
        .expect("message file")
        .len();
    for needle in [
        "1 queued message in ".to_owned(),
        format!("{}  {size} octets  from <{ALICE}>  arrived ", ids[0]),
        "  attempts 1  next try ".to_owned(),
        format!("  pending <{REMOTE}>  last error: "),
        "  pending <other@[127.0.0.1]>  last error: ".to_owned(),
    ] {
        assert!(listing.contains(&needle), "{needle:?} not in\n{listing}");
    }
    assert!(!listing.contains("last error: none yet"), "{listing}");
    assert!(!listing.contains("ready"), "no server started:\n{listing}");
}

#[test]
fn nothing_queued_is_lost_to_kill_9() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = TempDir::new("queue-kill");
    let data = dir.path().join("data");
    let port = dead_port();
    let args = server_args(port, &["--retry-schedule", "1h"]);
    let mut server = MailServer::start(&data, &args);
    let subjects: Vec<String> = (0..5).map(|i| format!("queued {i}")).collect();
    for subject in &subjects {
        submit(&server, &[REMOTE], subject);
    }
    assert_eq!(queued(&data).len(), 5);
    server.kill();
    // The remote comes up on the port the server delivers to; the restarted server tries
    // everything pending at once, whatever the 1-hour schedule said.
    let mx = Mx::start(&dir.path().join("mx"), port, &[]);
    let server = MailServer::start(&data, &args);
    let received = mx.wait_for(5);
    for subject in &subjects {
        let n = received
            .iter()
            .filter(|(_, body)| {
                String::from_utf8_lossy(body).contains(&format!("Subject: {subject}\r\n"))
            })
            .count();
        assert!(n >= 1, "{subject} never arrived");
    }
    poll("the queue to empty", || {
        queued(&data).is_empty().then_some(())
    });
    drop(server);
}

/// Puts a message into the queue of `data` as the server writes one: `from` is the reverse
/// path without brackets (empty for a bounce), `to` the one recipient.
fn seed_queue(data: &Path, id: &str, from: &str, to: &str, message: &[u8]) {
    let queue = data.join("queue");
    for sub in ["env", "msg"] {
        std::fs::create_dir_all(queue.join(sub)).expect("queue dirs");
    }
    std::fs::write(queue.join("msg").join(id), message).unwrap();
    let user = if from.is_empty() { "-" } else { from };
    let envelope = format!(
        "sansmail-queue 1\nid {id}\narrival 1700000000\nfrom <{from}>\nuser {user}\n\
         size {}\nsmtputf8 no\n8bitmime no\nattempts 0\nnext-try 1700000000\nwarned no\n\
         rcpt\tpending\t{to}\t\t\t\n",
        message.len()
    );
    std::fs::write(queue.join("env").join(id), envelope).unwrap();
}

#[test]
fn a_bounce_to_another_domain_is_queued_with_the_null_sender_and_never_bounced() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = TempDir::new("queue-foreign-bounce");
    let data = dir.path().join("data");
    // A message from a sender in another domain (as a forwarding setup would queue one) to a
    // recipient the remote refuses, and a bounce to a recipient the remote refuses too.
    let sender = "sender@[127.0.0.1]";
    let mx = Mx::start(
        &dir.path().join("mx"),
        0,
        &[
            "--reject",
            "refused@[127.0.0.1]",
            "--reject",
            "gone@[127.0.0.1]",
        ],
    );
    let original = b"Subject: from afar\r\n\r\nbody\r\n";
    seed_queue(
        &data,
        "1700000000.Q1P1Rforeign",
        sender,
        "refused@[127.0.0.1]",
        original,
    );
    seed_queue(
        &data,
        "1700000000.Q2P1Rbounce",
        "",
        "gone@[127.0.0.1]",
        original,
    );
    let args = server_args(mx.port, &["--max-queue-lifetime", "100000d"]);
    let server = MailServer::start(&data, &args);
    // The first message's bounce goes to its sender through the queue, with MAIL FROM:<>.
    let received = mx.wait_for(1);
    let (env, body) = &received[0];
    assert_eq!(
        env.lines()
            .filter(|l| !l.starts_with("option"))
            .collect::<Vec<_>>(),
        ["from <>", &format!("to {sender}")],
        "{env}"
    );
    let facts = parse_dsn(body, dir.path());
    for needle in [
        "type multipart/report\n",
        "field Final-Recipient rfc822; refused@[127.0.0.1]\n",
        "field Status 5.1.1\n",
        "original Subject: from afar\n",
    ] {
        assert!(facts.contains(needle), "{needle:?} not in\n{facts}");
    }
    // The bounce that failed is dropped with a log line, and nothing is sent about it.
    let log = poll("the dropped bounce in the log", || {
        let log = server.stderr();
        log.contains("bounces are never bounced").then_some(log)
    });
    let line = log
        .lines()
        .find(|l| l.contains("bounces are never bounced"))
        .unwrap_or_default();
    assert!(line.contains("1700000000.Q2P1Rbounce"), "{line}");
    assert!(line.contains("gone@[127.0.0.1]"), "{line}");
    // Once the queue is empty nothing more can be sent: one bounce, nothing about the bounce.
    poll("the queue to empty", || {
        queued(&data).is_empty().then_some(())
    });
    assert_eq!(mx.messages().len(), 1);
}

#[test]
fn corrupt_queue_files_are_set_aside_and_reported() {
    let dir = TempDir::new("queue-corrupt");
    let data = dir.path().join("data");
    let queue = data.join("queue");
    for sub in ["env", "msg"] {
        std::fs::create_dir_all(queue.join(sub)).expect("queue dirs");
    }
    // One from a future version, one damaged, one envelope without its message.
    let future = "1700000000.Q1P1Rfuture";
    let damaged = "1700000000.Q2P1Rdamaged";
    let orphan = "1700000000.Q3P1Rorphan";
    std::fs::write(
        queue.join("env").join(future),
        "sansmail-queue 2\nwhatever\n",
    )
    .unwrap();
    std::fs::write(
        queue.join("env").join(damaged),
        format!("sansmail-queue 1\nid {damaged}\narrival soon\n"),
    )
    .unwrap();
    let valid = format!(
        "sansmail-queue 1\nid {orphan}\narrival 1700000000\nfrom <{ALICE}>\nuser {ALICE}\n\
         size 5\nsmtputf8 no\n8bitmime no\nattempts 0\nnext-try 1700000000\nwarned no\n\
         rcpt\tpending\t{REMOTE}\t\t\t\n"
    );
    std::fs::write(queue.join("env").join(orphan), valid).unwrap();
    for id in [future, damaged] {
        std::fs::write(queue.join("msg").join(id), "Subject: x\r\n\r\nkept\r\n").unwrap();
    }
    // --list-queue reports them without moving anything.
    let (code, listing) = list_queue(&data);
    assert_eq!(code, 0);
    assert!(
        listing.contains(&format!(
            "{future}  UNREADABLE: format version line `sansmail-queue 2` is not one this server knows"
        )),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("{damaged}  UNREADABLE: line 3: not a number")),
        "{listing}"
    );
    assert!(queue.join("env").join(future).exists());

    let server = MailServer::start(&data, &server_args(dead_port(), &[]));
    let log = poll("three set-aside log lines", || {
        let log = server.stderr();
        (log.matches("set aside").count() >= 3).then_some(log)
    });
    for (id, reason) in [
        (future, "is not one this server knows"),
        (damaged, "line 3: not a number"),
        (orphan, "its message file is missing"),
    ] {
        let line = log
            .lines()
            .find(|l| l.contains(id) && l.contains("set aside"))
            .unwrap_or_else(|| panic!("no log line for {id}:\n{log}"));
        assert!(line.contains(reason), "{line}");
        assert!(!queue.join("env").join(id).exists(), "{id} still in env/");
        assert!(
            queue.join("corrupt").join(format!("{id}.env")).is_file(),
            "{id}"
        );
    }
    // The message files went with them, intact.
    for id in [future, damaged] {
        let kept = std::fs::read(queue.join("corrupt").join(format!("{id}.msg"))).unwrap();
        assert_eq!(kept, b"Subject: x\r\n\r\nkept\r\n");
    }
    assert!(queued(&data).is_empty());
    // The banner counts what is left: nothing.
    poll("the banner's queue line", || {
        server
            .stdout()
            .contains("(0 messages, 0 octets pending)")
            .then_some(())
    });
}

/// An envelope update the file system refuses (a full disk; here a file-size limit that the
/// rewritten envelope passes) must not make the worker take the message again at once, over
/// and over: each of those attempts delivers the recipients the remote accepts once more.
#[test]
fn an_envelope_update_that_fails_does_not_redeliver_in_a_loop() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = TempDir::new("queue-update-fails");
    let data = dir.path().join("data");
    let mx = Mx::start(&dir.path().join("mx"), 0, &[]);
    // One recipient at aiosmtpd, and 300 at an address nobody listens on: after the attempt
    // each of those has a diagnostic, and the envelope (about 30 KiB) passes the 16 KiB a file
    // of the server may have (`ulimit -f 32` blocks of 512 octets, SIGXFSZ ignored, so the
    // write fails with EFBIG).
    let id = "1700000000.Q1P1Rupdate";
    let message = format!("From: <{ALICE}>\r\nSubject: once\r\n\r\nOnly once, please.\r\n");
    let queue = data.join("queue");
    for sub in ["env", "msg"] {
        std::fs::create_dir_all(queue.join(sub)).expect("queue dirs");
    }
    std::fs::write(queue.join("msg").join(id), &message).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut envelope = format!(
        "sansmail-queue 1\nid {id}\narrival {now}\nfrom <{ALICE}>\nuser {ALICE}\nsize {}\n\
         smtputf8 no\n8bitmime no\nattempts 0\nnext-try {now}\nwarned no\n\
         rcpt\tpending\t{REMOTE}\t\t\t\n",
        message.len()
    );
    for i in 0..300 {
        envelope.push_str(&format!("rcpt\tpending\tu{i}@[127.0.0.2]\t\t\t\n"));
    }
    assert!(envelope.len() < 16 * 1024);
    std::fs::write(queue.join("env").join(id), envelope).unwrap();
    let wrapper: Vec<String> = ["sh", "-c", "trap '' XFSZ; ulimit -f 32; exec \"$0\" \"$@\""]
        .map(String::from)
        .to_vec();
    let server = MailServer::start_wrapped(
        &data,
        &server_args(mx.port, &["--retry-schedule", "1h"]),
        &wrapper,
    );
    mx.wait_for(1);
    poll("the failed envelope update in the log", || {
        server
            .stderr()
            .contains("queue: cannot update the envelope")
            .then_some(())
    });
    // A deliberate wait: a worker that retried at once would have delivered many more copies.
    std::thread::sleep(Duration::from_secs(2));
    let copies = mx.messages().len();
    assert_eq!(copies, 1, "the remote received {copies} copies");
    drop(server);
}
