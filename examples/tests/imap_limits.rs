//! Issue 19, the IMAP service's memory bounds against clients that do not read: the real
//! `mail-server` binary on loopback, spoken to by raw sockets whose receive buffer is small
//! (`SO_RCVBUF` 4 KiB) and which stop reading, with the server's memory read from
//! `/proc/PID/status`.
//!
//! - A FETCH of large messages is read from disk one message at a time as the client reads:
//!   what waits in memory is one message and one 256 KiB piece, not a batch of 64 messages.
//! - One FETCH asking for many content items of one large message (`BODY.PEEK[]<0.N>
//!   BODY.PEEK[]<1.N> ...`) is completed with `NO [LIMIT]` before that message, instead of
//!   encoding every item into memory at once; exact duplicate items are answered once.
//!   A partial FETCH of a message whose file vanished (a concurrent EXPUNGE) skips it.
//! - A client in IDLE that stops reading takes no more than 64 KiB of changes into memory:
//!   the rest waits in the store's queue, which overflows into `* BYE [ALERT]` as for a
//!   client that sends nothing.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::*;

/// A running server with its IMAP listener (plaintext login allowed) on a free port.
struct Imap {
    server: MailServer,
    port: u16,
}

fn start(dir: &TempDir, extra: &[&str]) -> Imap {
    let mut flags = extra.to_vec();
    flags.push("--allow-plaintext-auth");
    let (server, port, _) = start_with_imap(dir, &flags);
    Imap { server, port }
}

/// The most resident memory of `pid` seen over `span`, sampled every 50 ms.
fn peak_rss(pid: u32, span: Duration) -> u64 {
    let end = Instant::now() + span;
    let mut peak = 0;
    while Instant::now() < end {
        peak = peak.max(status_bytes(pid, "VmRSS"));
        std::thread::sleep(Duration::from_millis(50));
    }
    peak
}

/// A raw plaintext IMAP connection.
struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Every octet received.
    received: usize,
}

impl Raw {
    /// Connects to `port`, with a 4 KiB receive buffer when `small`, and reads the greeting.
    fn connect(port: u16, small: bool) -> Raw {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stream = if small {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let socket = tokio::net::TcpSocket::new_v4().expect("socket");
                socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
                let stream = socket.connect(addr).await.expect("connect");
                stream.into_std().expect("std stream")
            })
        } else {
            TcpStream::connect(addr).expect("connect")
        };
        stream.set_nonblocking(false).expect("blocking");
        stream.set_read_timeout(Some(LIMIT)).expect("timeout");
        stream.set_write_timeout(Some(LIMIT)).expect("timeout");
        let mut raw = Raw {
            stream,
            buf: Vec::new(),
            received: 0,
        };
        let greeting = raw.line().expect("greeting");
        assert!(greeting.starts_with("* OK"), "{greeting}");
        raw
    }

    /// Connects and logs in as [`ALICE`] with LOGIN.
    fn logged_in(port: u16, small: bool) -> Raw {
        let mut raw = Raw::connect(port, small);
        let answer = raw.cmd("L", &format!("LOGIN {ALICE} {ALICE_PASSWORD}"));
        assert!(answer.ends_with("L OK"), "{answer}");
        raw
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 65536];
        match self.stream.read(&mut chunk) {
            Ok(0) => false,
            Ok(n) => {
                self.buf
                    .extend_from_slice(chunk.get(..n).unwrap_or_default());
                self.received += n;
                true
            }
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset) => false,
            Err(e) => panic!("read: {e}"),
        }
    }

    /// The next line without its CRLF (lossy), `None` at EOF.
    fn line(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..end + 2).collect();
                return Some(String::from_utf8_lossy(line.get(..end).unwrap_or_default()).into());
            }
            if !self.fill() {
                return None;
            }
        }
    }

    /// Reads up to the line tagged `tag`; returns that line's status part (`TAG OK`), after
    /// skipping any literal data.
    fn until_tagged(&mut self, tag: &str) -> String {
        let prefix = format!("{tag} ");
        loop {
            let line = self.line().unwrap_or_else(|| panic!("EOF before {tag}"));
            if line.starts_with(&prefix) {
                return line.split(' ').take(2).collect::<Vec<_>>().join(" ");
            }
        }
    }

    fn cmd(&mut self, tag: &str, text: &str) -> String {
        self.send(format!("{tag} {text}\r\n").as_bytes());
        self.until_tagged(tag)
    }

    /// APPENDs `message` to INBOX with a non-synchronising literal.
    fn append(&mut self, tag: &str, message: &[u8]) {
        self.send(format!("{tag} APPEND INBOX {{{}+}}\r\n", message.len()).as_bytes());
        self.send(message);
        self.send(b"\r\n");
        let answer = self.until_tagged(tag);
        assert_eq!(answer, format!("{tag} OK"));
    }

    /// Everything until the server closes the connection, lossy.
    fn until_eof(&mut self) -> String {
        while self.fill() {}
        String::from_utf8_lossy(&std::mem::take(&mut self.buf)).into_owned()
    }
}

/// A message of `size` octets whose body is lines of `fill`.
fn message(i: usize, size: usize, fill: u8) -> Vec<u8> {
    let mut message = format!("Subject: large {i}\r\n\r\n").into_bytes();
    while message.len() + 80 <= size {
        message.extend(std::iter::repeat_n(fill, 78));
        message.extend_from_slice(b"\r\n");
    }
    message
}

#[test]
fn a_fetch_of_large_messages_by_a_client_that_does_not_read_holds_one_message() {
    const COUNT: usize = 40;
    const SIZE: usize = 1 << 20;
    let dir = TempDir::new("imaplimits-fetch");
    let imap = start(&dir, &[]);
    let pid = imap.server.pid();
    let mut writer = Raw::logged_in(imap.port, false);
    for i in 0..COUNT {
        writer.append(&format!("A{i}"), &message(i, SIZE, b'a' + (i % 26) as u8));
    }
    writer.cmd("Z", "LOGOUT");

    let mut reader = Raw::logged_in(imap.port, true);
    assert_eq!(reader.cmd("S", "SELECT INBOX"), "S OK");
    let before = peak_rss(pid, Duration::from_millis(300));
    reader.send(format!("F FETCH 1:{COUNT} BODY.PEEK[]\r\n").as_bytes());
    // A deliberate pause while the client reads nothing: what the server queues meanwhile
    // stays in its memory.
    let stalled = peak_rss(pid, Duration::from_secs(2));
    let growth = stalled.saturating_sub(before);
    assert!(
        growth < 16 << 20,
        "the server grew by {growth} octets for a client that does not read \
         ({COUNT} messages of {SIZE} octets asked)"
    );
    // Reading now, the client gets every message whole, then the tagged OK.
    let mut bodies = 0;
    loop {
        let line = reader.line().expect("FETCH answer");
        if line.starts_with("F ") {
            assert!(line.starts_with("F OK"), "{line}");
            break;
        }
        if let Some(open) = line.strip_suffix('}') {
            if let Some((_, size)) = open.rsplit_once('{') {
                let size: usize = size.parse().expect("literal size");
                while reader.buf.len() < size {
                    assert!(reader.fill(), "EOF inside a literal");
                }
                let body: Vec<u8> = reader.buf.drain(..size).collect();
                assert_eq!(body, message(bodies, SIZE, b'a' + (bodies % 26) as u8));
                bodies += 1;
            }
        }
    }
    assert_eq!(bodies, COUNT);

    // Without PEEK, in pieces too: every answer carries the \Seen the FETCH set.
    reader.send(format!("G FETCH 1:{COUNT} BODY[]\r\n").as_bytes());
    let mut seen = 0;
    loop {
        let line = reader.line().expect("FETCH answer");
        if line.starts_with("G ") {
            assert!(line.starts_with("G OK"), "{line}");
            break;
        }
        if line.starts_with("* ") && line.contains("\\Seen") {
            seen += 1;
        }
        if let Some((_, size)) = line.strip_suffix('}').and_then(|l| l.rsplit_once('{')) {
            let size: usize = size.parse().expect("literal size");
            while reader.buf.len() < size {
                assert!(reader.fill(), "EOF inside a literal");
            }
            reader.buf.drain(..size);
            // The rest of the FETCH line, after the literal, may carry the flags.
            let rest = reader.line().expect("rest of the FETCH line");
            if rest.contains("\\Seen") {
                seen += 1;
            }
        }
    }
    assert_eq!(seen, COUNT);
}

#[test]
fn a_client_in_idle_that_stops_reading_is_closed_with_bye_alert() {
    const MESSAGES: usize = 100;
    const ROUNDS: usize = 300;
    let dir = TempDir::new("imaplimits-idle");
    let imap = start(&dir, &[]);
    let pid = imap.server.pid();
    let mut writer = Raw::logged_in(imap.port, false);
    for i in 0..MESSAGES {
        writer.append(&format!("A{i}"), &message(i, 200, b'x'));
    }
    assert_eq!(writer.cmd("S", "SELECT INBOX"), "S OK");

    let mut idler = Raw::logged_in(imap.port, true);
    assert_eq!(idler.cmd("S", "SELECT INBOX"), "S OK");
    idler.send(b"I IDLE\r\n");
    let go_ahead = idler.line().expect("IDLE continuation");
    assert!(go_ahead.starts_with("+ "), "{go_ahead}");
    let before = status_bytes(pid, "VmRSS");
    let received_before = idler.received;

    // 30,000 flag changes, each a FETCH line of some 750 octets for the idler: far more than
    // the kernel's socket buffers (4 MiB for the server's send buffer), which it does not read.
    let keywords: Vec<String> = (0..30)
        .map(|k| format!("keyword-of-some-length-{k:02}"))
        .collect();
    let keywords = keywords.join(" ");
    for round in 0..ROUNDS {
        let sign = if round % 2 == 0 { '+' } else { '-' };
        let answer = writer.cmd(
            &format!("T{round}"),
            &format!("STORE 1:{MESSAGES} {sign}FLAGS.SILENT (\\Flagged {keywords})"),
        );
        assert_eq!(answer, format!("T{round} OK"));
    }
    let after = status_bytes(pid, "VmRSS");
    let growth = after.saturating_sub(before);
    assert!(
        growth < 16 << 20,
        "the server grew by {growth} octets for an idle client that does not read"
    );

    // Reading now: what was queued before the high-water mark, then the BYE, then the end.
    let rest = idler.until_eof();
    let total = idler.received - received_before;
    assert!(
        rest.contains("* BYE [ALERT] Too many changes to the mailbox"),
        "no BYE in the last {} octets",
        rest.len().min(2000)
    );
    assert!(
        total < 8 << 20,
        "the idle client was sent {total} octets of the {} changes",
        MESSAGES * ROUNDS
    );
    let logs = imap.server.stderr();
    assert!(logs.contains("missed too many changes"), "{logs}");
}

/// Files in the account's Maildir `tmp/`, where staged APPEND messages wait.
fn staged_files(imap: &Imap) -> usize {
    std::fs::read_dir(imap.server.maildir(ALICE).join("tmp")).map_or(0, |dir| dir.count())
}

/// Open file descriptors of `pid`.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read /proc/PID/fd")
        .count()
}

/// `count` messages of one MULTIAPPEND to INBOX, with non-synchronising literals, without
/// the final CRLF.
fn multiappend_start(raw: &mut Raw, tag: &str, count: usize) {
    raw.send(format!("{tag} APPEND INBOX").as_bytes());
    for i in 0..count {
        let message = message(i, 120, b'm');
        raw.send(format!(" {{{}+}}\r\n", message.len()).as_bytes());
        raw.send(&message);
    }
}

#[test]
fn a_multiappend_holds_no_open_file_per_staged_message_and_is_capped() {
    const STAGED: usize = 600;
    let dir = TempDir::new("imaplimits-multiappend");
    let imap = start(&dir, &[]);
    let pid = imap.server.pid();
    let mut raw = Raw::logged_in(imap.port, false);
    let before = open_fds(pid);
    multiappend_start(&mut raw, "M", STAGED);
    poll("every message staged", || {
        (staged_files(&imap) == STAGED).then_some(())
    });
    let during = open_fds(pid);
    assert!(
        during < before + 50,
        "{during} open files with {STAGED} messages staged ({before} before)"
    );
    raw.send(b"\r\n");
    let answer = raw.until_tagged("M");
    assert_eq!(answer, "M OK");
    assert_eq!(raw.cmd("S", "STATUS INBOX (MESSAGES)"), "S OK");

    // One message over the cap: refused, and nothing of it kept.
    multiappend_start(&mut raw, "N", 1001);
    raw.send(b"\r\n");
    let mut lines = Vec::new();
    loop {
        let line = raw.line().expect("answer to N");
        let done = line.starts_with("N ");
        lines.push(line);
        if done {
            break;
        }
    }
    let last = lines.last().expect("a line");
    assert!(last.starts_with("N NO [LIMIT]"), "{lines:?}");
    poll("the staged messages removed", || {
        (staged_files(&imap) == 0).then_some(())
    });
    let status = {
        raw.send(b"T STATUS INBOX (MESSAGES)\r\n");
        let mut found = String::new();
        loop {
            let line = raw.line().expect("STATUS");
            if line.starts_with("* STATUS") {
                found = line;
            } else if line.starts_with("T ") {
                assert!(line.starts_with("T OK"), "{line}");
                break;
            }
        }
        found
    };
    assert!(
        status.ends_with(&format!("(MESSAGES {STAGED})")),
        "{status}"
    );
}

#[test]
fn a_multiappend_over_the_quota_is_refused_as_its_data_arrives() {
    let dir = TempDir::new("imaplimits-quota");
    let imap = start(&dir, &["--quota", "10000"]);
    let mut raw = Raw::logged_in(imap.port, false);
    // Two messages of 6,000 octets: over the quota together. The command is left open: the
    // refusal must come before its end.
    raw.send(b"Q APPEND INBOX");
    for i in 0..2 {
        let message = message(i, 6000, b'q');
        raw.send(format!(" {{{}+}}\r\n", message.len()).as_bytes());
        raw.send(&message);
    }
    let answer = loop {
        let line = raw.line().expect("answer to Q");
        if line.starts_with("Q ") {
            break line;
        }
    };
    assert!(answer.starts_with("Q NO [OVERQUOTA]"), "{answer}");
    poll("the staged messages removed", || {
        (staged_files(&imap) == 0).then_some(())
    });
    raw.send(b"\r\n");
    assert_eq!(raw.cmd("N", "NOOP"), "N OK");
}

impl Raw {
    /// Sends `text` tagged `tag` and returns everything received up to and including the
    /// tagged line (lossy, literals included), and the tagged line.
    fn transcript(&mut self, tag: &str, text: &str) -> (String, String) {
        self.send(format!("{tag} {text}\r\n").as_bytes());
        let prefix = format!("{tag} ");
        let mut all = String::new();
        loop {
            let line = self.line().unwrap_or_else(|| panic!("EOF before {tag}"));
            all.push_str(&line);
            all.push_str("\r\n");
            if line.starts_with(&prefix) {
                return (all, line);
            }
        }
    }
}

#[test]
fn a_fetch_of_too_many_content_items_of_one_message_is_refused_with_limit() {
    // The append limit is 2 MiB, so the cap is 4 MiB of content per message.
    const LARGE: usize = 2_000_000;
    const ITEMS: usize = 100;
    let dir = TempDir::new("imaplimits-fetchcap");
    let imap = start(&dir, &["--max-message-size", "2M"]);
    let pid = imap.server.pid();
    let mut raw = Raw::logged_in(imap.port, false);
    let small = message(0, 500, b's');
    raw.append("A0", &small);
    let large = message(1, LARGE, b'l');
    raw.append("A1", &large);
    assert_eq!(raw.cmd("S", "SELECT INBOX"), "S OK");

    // 100 distinct partials of the whole message, each up to 2,000,000 octets: 200 MB of
    // the large message. The small one is answered; the large one is not.
    let items: Vec<String> = (0..ITEMS)
        .map(|i| format!("BODY.PEEK[]<{i}.{LARGE}>"))
        .collect();
    let before = status_bytes(pid, "VmHWM");
    let (all, tagged) = raw.transcript("F", &format!("FETCH 1:2 ({})", items.join(" ")));
    let peak = status_bytes(pid, "VmHWM");
    assert!(tagged.starts_with("F NO [LIMIT]"), "{tagged}");
    assert_eq!(all.matches("* 1 FETCH").count(), 1, "{tagged}");
    assert_eq!(all.matches("* 2 FETCH").count(), 0, "{tagged}");
    assert_eq!(all.matches("BODY[]<").count(), ITEMS, "{tagged}");
    let growth = peak.saturating_sub(before);
    assert!(
        growth < 32 << 20,
        "the server's peak memory grew by {growth} octets for one refused FETCH"
    );
    let logs = imap.server.stderr();
    assert!(logs.contains("FETCH refused"), "{logs}");

    // Whole sections, read from the parsed message: four copies of 2 MB are over the cap.
    let (_, tagged) = raw.transcript(
        "G",
        "FETCH 2 (BODY.PEEK[HEADER] BODY.PEEK[TEXT] BODY.PEEK[] RFC822.TEXT)",
    );
    assert!(tagged.starts_with("G NO [LIMIT]"), "{tagged}");

    // The session goes on: the large message whole, once, and duplicates answered once.
    assert_eq!(raw.cmd("N", "NOOP"), "N OK");
    let (all, tagged) = raw.transcript("H", "FETCH 2 (BODY.PEEK[HEADER] BODY.PEEK[TEXT])");
    assert_eq!(tagged, "H OK FETCH completed");
    let text = large.len() - "Subject: large 1\r\n\r\n".len();
    assert!(all.contains(&format!("BODY[TEXT] {{{text}}}")), "{tagged}");
    let (all, tagged) = raw.transcript(
        "D",
        "FETCH 2 (UID BODY.PEEK[TEXT]<0.10> UID BODY.PEEK[TEXT]<0.10> BODY.PEEK[]<0.7> \
         BODY.PEEK[]<0.7> BODY.PEEK[]<0.7>)",
    );
    assert_eq!(tagged, "D OK FETCH completed");
    assert_eq!(
        all,
        "* 2 FETCH (UID 2 BODY[TEXT]<0> \"llllllllll\" BODY[]<0> \"Subject\")\r\n\
         D OK FETCH completed\r\n"
    );
}

#[test]
fn a_partial_fetch_of_a_message_whose_file_vanished_skips_it() {
    let dir = TempDir::new("imaplimits-vanished");
    let imap = start(&dir, &[]);
    let mut raw = Raw::logged_in(imap.port, false);
    raw.append("A0", &message(0, 300, b'v'));
    raw.append("A1", &message(1, 300, b'w'));
    assert_eq!(raw.cmd("S", "SELECT INBOX"), "S OK");
    // The first message's file removed behind the server's back, as a concurrent EXPUNGE
    // does between the metadata and the file read: the index still lists it.
    let maildir = imap.server.maildir(ALICE);
    let files: Vec<_> = ["new", "cur"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(maildir.join(sub)).expect("read_dir"))
        .map(|entry| entry.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    let first = files
        .iter()
        .find(|path| {
            std::fs::read(path).is_ok_and(|data| data.starts_with(b"Subject: large 0\r\n"))
        })
        .expect("the first message's file");
    std::fs::remove_file(first).expect("remove");
    let (all, tagged) = raw.transcript("F", "FETCH 1:2 (UID BODY.PEEK[]<0.16>)");
    assert_eq!(
        all,
        "* 2 FETCH (UID 2 BODY[]<0> \"Subject: large 1\")\r\n\
         F NO [EXPUNGEISSUED] Some of the requested messages no longer exist\r\n",
        "{tagged}"
    );
}
