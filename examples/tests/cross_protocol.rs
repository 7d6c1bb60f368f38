//! The cross-protocol (HTML form) attack against the real `mail-server`: `curl` plays the
//! browser of a web page that POSTs a `text/plain` body holding an SMTP session to each mail
//! port (SMTP, submission, POP3, IMAP). Each port answers its greeting and one line, closes
//! before the body is read, and logs the refusal; nothing is delivered to bob's Maildir.

mod imap_support;
mod support;

use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use imap_support::ImapServer;
use support::*;

/// What the page makes the browser post: an SMTP session delivering to bob.
const BODY: &str = "EHLO x\r\nMAIL FROM:<eve@attacker.example>\r\nRCPT TO:<bob@localhost>\r\n\
                    DATA\r\nSubject: cross-protocol\r\n\r\nspam\r\n.\r\nQUIT\r\n";

/// POSTs [`BODY`] to `port` as a browser's `text/plain` form would; returns the raw bytes the
/// server sent back (`--http0.9` makes curl hand over a response that is not HTTP).
fn post(dir: &Path, port: u16) -> String {
    let body = dir.join("body.txt");
    std::fs::write(&body, BODY).expect("write the body");
    let out = Command::new("curl")
        .args([
            "-s",
            "--http0.9",
            "-m",
            "8",
            "-H",
            "Content-Type: text/plain",
        ])
        .arg("--data-binary")
        .arg(format!("@{}", body.display()))
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .expect("run curl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits (boundedly) until the server's logs hold `needle` `count` times; returns the logs.
fn logs_with(server: &MailServer, needle: &str, count: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let logs = server.logs();
        if logs.matches(needle).count() >= count || Instant::now() > deadline {
            return logs;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_browser_post_to_any_mail_port_is_refused_at_the_request_line() {
    if !have_curl() {
        return;
    }
    let dir = TempDir::new("cross-protocol");
    let data = dir.path().join("data");
    let server = ImapServer::start(&data, &users());
    let ports = [
        (
            "smtp",
            server.server.smtp,
            "220 ",
            "421 4.7.0 This is an SMTP server, not a web server: HTTP request refused, closing connection\r\n",
        ),
        (
            "submission",
            server.server.submission,
            "220 ",
            "421 4.7.0 This is an SMTP server, not a web server: HTTP request refused, closing connection\r\n",
        ),
        (
            "pop3",
            server.pop3,
            "+OK ",
            "-ERR This is a POP3 server, not a web server: HTTP request refused, closing\r\n",
        ),
        (
            "imap",
            server.imap,
            "* OK ",
            "* BYE This is an IMAP server, not a web server: HTTP request refused\r\n",
        ),
    ];
    for (name, port, greeting, refusal) in ports {
        let reply = post(dir.path(), port);
        let (first, rest) = reply
            .split_once("\r\n")
            .unwrap_or_else(|| panic!("{name}: no greeting in {reply:?}"));
        assert!(first.starts_with(greeting), "{name}: {reply:?}");
        assert_eq!(rest, refusal, "{name}: {reply:?}");
    }
    let logs = logs_with(
        &server.server,
        "HTTP request refused (cross-protocol attack)",
        ports.len(),
    );
    assert_eq!(
        logs.matches("HTTP request refused (cross-protocol attack)")
            .count(),
        ports.len(),
        "{logs}"
    );
    // Nothing was delivered: bob's Maildir holds no message.
    let maildir = server.server.maildir(BOB);
    for sub in ["new", "cur", "tmp"] {
        assert_eq!(files(&maildir.join(sub)), [], "{sub}");
    }
}
