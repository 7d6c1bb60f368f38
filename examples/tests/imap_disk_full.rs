//! The mail server's IMAP store when a write of a folder's index fails (a full disk): the
//! real `mail-server` binary, its file writes limited with `RLIMIT_FSIZE` (`prlimit`, which
//! makes a write past the limit fail with `EFBIG`, as a full disk fails with `ENOSPC`, and
//! which the test lifts or lowers on the running server), raw IMAP sessions on loopback.
//!
//! What a user sees: the STORE whose record cannot be written gets `NO [SERVERBUG]`; while
//! the disk stays full every change is refused the same way and nothing else breaks; once
//! it has room the next command succeeds, and every session (an IDLE one too) goes on and
//! hears the change. Only when the folder read again is not what the sessions know (its
//! index had to be rebuilt) are they closed, with `* BYE [UNAVAILABLE]`, never with the
//! words for a deleted mailbox.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;

use support::*;

/// A raw plaintext IMAP connection.
struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    /// Connects, reads the greeting and logs in as [`ALICE`].
    fn logged_in(port: u16) -> Raw {
        let stream = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).expect("connect");
        stream.set_read_timeout(Some(LIMIT)).expect("timeout");
        stream.set_write_timeout(Some(LIMIT)).expect("timeout");
        let mut raw = Raw {
            stream,
            buf: Vec::new(),
        };
        let greeting = raw.line().expect("greeting");
        assert!(greeting.starts_with("* OK"), "{greeting}");
        let answer = raw.cmd("L", &format!("LOGIN {ALICE} {ALICE_PASSWORD}"));
        assert!(
            answer.starts_with("L OK") || answer.contains("\nL OK"),
            "{answer}"
        );
        raw
    }

    fn send(&mut self, text: &str) {
        self.stream.write_all(text.as_bytes()).expect("write");
    }

    /// The next line without its CRLF (lossy), `None` at EOF.
    fn line(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..end + 2).collect();
                return Some(String::from_utf8_lossy(line.get(..end).unwrap_or_default()).into());
            }
            let mut chunk = [0u8; 16384];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self
                    .buf
                    .extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    /// Reads lines up to the first that `stop` accepts (panics at EOF); all of them, joined
    /// with newlines.
    fn until(&mut self, stop: impl Fn(&str) -> bool) -> String {
        let mut out = Vec::new();
        loop {
            let line = self.line().unwrap_or_else(|| panic!("EOF after {out:?}"));
            let done = stop(&line);
            out.push(line);
            if done {
                return out.join("\n");
            }
        }
    }

    /// Sends `tag text`; every line of the answer up to the tagged one.
    fn cmd(&mut self, tag: &str, text: &str) -> String {
        self.send(&format!("{tag} {text}\r\n"));
        let prefix = format!("{tag} ");
        self.until(|line| line.starts_with(&prefix))
    }

    /// Every line until the server closes the connection.
    fn until_eof(&mut self) -> String {
        let mut out = Vec::new();
        while let Some(line) = self.line() {
            out.push(line);
        }
        out.join("\n")
    }
}

/// The keywords the STOREs alternate between (40 characters each): two, so the folder's
/// keyword bound is never what refuses them.
const KEYWORDS: [&str; 2] = [
    "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy1",
    "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy2",
];

/// Sets the soft file size limit of `pid` (`unlimited` or octets).
fn set_fsize(pid: u32, limit: &str) {
    let out = Command::new("prlimit")
        .args(["--pid", &pid.to_string(), &format!("--fsize={limit}:")])
        .output()
        .expect("prlimit (util-linux) runs");
    assert!(out.status.success(), "prlimit: {out:?}");
}

/// A server whose files may not grow past 16 KiB, with two messages in ALICE's INBOX,
/// session `a` with INBOX selected and session `b` in IDLE on it; `a` STOREs keywords until
/// the index log passes the limit and the STORE is refused. Then the limit is lowered to
/// one octet, so the folder cannot be read again (that writes a new snapshot): the disk
/// stays full until the test lifts it.
fn broken(dir: &TempDir) -> (MailServer, u16, Raw, Raw) {
    let [imap, imaps] = free_ports();
    let mut args = users();
    args.extend(
        [
            "--allow-plaintext-auth",
            "--imap",
            &imap.to_string(),
            "--imaps",
            &imaps.to_string(),
        ]
        .map(str::to_owned),
    );
    // SIGXFSZ ignored (inherited across exec): a write past the limit fails with EFBIG.
    let wrapper = [
        "sh",
        "-c",
        "trap '' XFSZ; exec prlimit --fsize=16384: -- \"$@\"",
        "sh",
    ]
    .map(str::to_owned);
    let server = MailServer::start_wrapped(&dir.path().join("data"), &args, &wrapper);
    let mut a = Raw::logged_in(imap);
    for (tag, body) in [("A1", "one"), ("A2", "two")] {
        let message = format!("Subject: {body}\r\n\r\n{body}\r\n");
        a.send(&format!(
            "{tag} APPEND INBOX {{{}+}}\r\n{message}\r\n",
            message.len()
        ));
        let prefix = format!("{tag} ");
        let answer = a.until(|line| line.starts_with(&prefix));
        assert!(answer.contains(&format!("{tag} OK")), "{answer}");
    }
    let selected = a.cmd("S", "SELECT INBOX");
    assert!(selected.contains("* 2 EXISTS"), "{selected}");
    let mut b = Raw::logged_in(imap);
    let selected = b.cmd("S", "SELECT INBOX");
    assert!(selected.contains("S OK"), "{selected}");
    b.send("I IDLE\r\n");
    assert_eq!(b.line().as_deref(), Some("+ idling"));
    let mut refused = None;
    for i in 0..2000 {
        let tag = format!("s{i}");
        let answer = a.cmd(&tag, &format!("STORE 2 FLAGS ({})", KEYWORDS[i % 2]));
        if !answer.contains(&format!("{tag} OK")) {
            refused = Some((tag, answer));
            break;
        }
    }
    let (tag, answer) = refused.expect("the index log never reached the file size limit");
    assert!(
        answer.ends_with(&format!(
            "{tag} NO [SERVERBUG] Internal error, try again later"
        )),
        "{answer}"
    );
    set_fsize(server.pid(), "1");
    (server, imap, a, b)
}

#[test]
fn a_folder_whose_index_write_failed_recovers_once_the_disk_has_room() {
    if !tool_available("prlimit", &["--version"], "prlimit (util-linux)") {
        return;
    }
    let dir = TempDir::new("imap-disk-full");
    let (server, _, mut a, mut b) = broken(&dir);
    // The disk is still full: refused again, and nothing else breaks.
    let answer = a.cmd("x1", "STORE 2 +FLAGS (\\Flagged)");
    assert!(
        answer.ends_with("x1 NO [SERVERBUG] Internal error, try again later"),
        "{answer}"
    );
    let answer = a.cmd("x2", "NOOP");
    assert!(answer.contains("x2 OK"), "{answer}");
    assert!(!answer.contains("BYE"), "{answer}");
    // Room again: the next STORE reads the folder again and succeeds, in the same session.
    set_fsize(server.pid(), "unlimited");
    let answer = a.cmd("x3", "STORE 2 +FLAGS (\\Flagged)");
    assert!(answer.contains("x3 OK"), "{answer}");
    assert!(
        answer
            .lines()
            .any(|line| line.starts_with("* 2 FETCH") && line.contains("\\Flagged")),
        "{answer}"
    );
    // The session in IDLE was kept and hears it.
    let heard = b.until(|line| line.starts_with("* 2 FETCH") && line.contains("\\Flagged"));
    assert!(!heard.contains("BYE"), "{heard}");
    b.send("DONE\r\n");
    let done = b.until(|line| line.starts_with("I "));
    assert!(done.contains("I OK"), "{done}");
    let answer = b.cmd("b1", "FETCH 2 FLAGS");
    assert!(answer.contains("\\Flagged"), "{answer}");
    assert!(answer.contains("b1 OK"), "{answer}");
    let answer = a.cmd("x4", "NOOP");
    assert!(answer.contains("x4 OK"), "{answer}");
    assert!(!answer.contains("BYE"), "{answer}");
    let logs = server.logs();
    assert!(logs.contains("index log write failed"), "{logs}");
    assert!(
        logs.contains("folder read again after a failed write; its sessions go on"),
        "{logs}"
    );
    assert!(!logs.contains("deleted or renamed"), "{logs}");
}

#[test]
fn sessions_that_cannot_follow_the_folder_read_again_are_closed_with_unavailable() {
    if !tool_available("prlimit", &["--version"], "prlimit (util-linux)") {
        return;
    }
    let dir = TempDir::new("imap-disk-full-bye");
    let (server, imap, mut a, mut b) = broken(&dir);
    // While the folder is broken its index snapshot is lost: read again, it is rebuilt
    // with a new UIDVALIDITY, which no selected session can follow.
    let snapshot = maildir(&dir.path().join("data"), ALICE).join("sansmail-index");
    std::fs::write(&snapshot, b"damaged\n").expect("damage the snapshot");
    set_fsize(server.pid(), "unlimited");
    a.send("x1 NOOP\r\n");
    let closed = a.until_eof();
    assert_eq!(
        closed,
        "* BYE [UNAVAILABLE] Mailbox index could not be written, please reconnect"
    );
    let closed = b.until_eof();
    assert!(
        closed
            .ends_with("* BYE [UNAVAILABLE] Mailbox index could not be written, please reconnect"),
        "{closed}"
    );
    // The mailbox is there: a new session selects it.
    let mut c = Raw::logged_in(imap);
    let answer = c.cmd("c1", "SELECT INBOX");
    assert!(answer.contains("* 2 EXISTS"), "{answer}");
    let logs = server.logs();
    assert!(
        logs.contains(
            "reason=\"the selected mailbox was read again after a failed index write and changed\""
        ),
        "{logs}"
    );
    assert!(!logs.contains("deleted or renamed"), "{logs}");
}
