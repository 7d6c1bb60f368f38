//! Issue 19, the IMAP listeners of the mail server: the real `mail-server` binary on
//! loopback with `--imap` and `--imaps`, spoken to by peers we did not write (Python's
//! `imaplib`, `curl`) and by raw lines where a client library hides the wire. Mail arrives
//! through the SMTP relay (Python's `smtplib`), so IMAP reads what SMTP delivered.
//!
//! The broad interop and limits suite is `imap_server.rs`; these are the service's own
//! end-to-end checks: login only after STARTTLS, the storage commands, IDLE woken by a
//! delivery, the change-queue limit, the banner's `curl` command.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

use support::*;

/// A running server with both IMAP listeners on free loopback ports.
struct Imap {
    server: MailServer,
    imap: u16,
    imaps: u16,
}

fn start(dir: &TempDir, extra: &[&str]) -> Imap {
    let (server, imap, imaps) = start_with_imap(dir, extra);
    Imap {
        server,
        imap,
        imaps,
    }
}

/// `python3` with `imaplib`, `smtplib` and `ssl` (required under `CI=true`).
fn have_imaplib() -> bool {
    tool_available(
        "python3",
        &["-c", "import imaplib, smtplib, ssl"],
        "python3 with imaplib, smtplib and ssl",
    )
}

/// What every script starts with: `login()` over STARTTLS (the self-signed certificate
/// accepted) and `deliver()` through the relay.
fn prelude(imap: &Imap) -> String {
    format!(
        r#"
import imaplib, smtplib, ssl, socket, sys, time
IMAP_PORT = {imap}
IMAPS_PORT = {imaps}
SMTP_PORT = {smtp}
ALICE = '{ALICE}'
PW = '{ALICE_PASSWORD}'
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
def login(user=ALICE, password=PW):
    m = imaplib.IMAP4('127.0.0.1', IMAP_PORT, timeout=20)
    m.starttls(ssl_context=CTX)
    m.login(user, password)
    return m
def deliver(to, subject, body='Hello.\r\n'):
    with smtplib.SMTP('127.0.0.1', SMTP_PORT, timeout=20) as s:
        s.sendmail('sender@example.org', [to], 'From: Sender <sender@example.org>\r\nTo: %s\r\nSubject: %s\r\n\r\n%s' % (to, subject, body))
def out(*words):
    print(*words, flush=True)
"#,
        imap = imap.imap,
        imaps = imap.imaps,
        smtp = imap.server.smtp,
    )
}

/// Runs the Python `script` after [`prelude`]; its standard output, or a panic with the
/// server's logs when it fails.
fn python(imap: &Imap, script: &str) -> String {
    let program = format!("{}\n{script}", prelude(imap));
    let output = run_bounded("python3", &["-c", &program]);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "python failed: {}\nstdout:\n{stdout}\nstderr:\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        imap.server.logs()
    );
    stdout
}

/// The line of `out` that starts with `key `, without it.
fn line<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key} ")))
        .unwrap_or_else(|| panic!("no {key} line in:\n{out}"))
}

#[test]
fn imaplib_login_after_starttls_select_fetch_store_search_append() {
    if !have_imaplib() {
        return;
    }
    let dir = TempDir::new("imapsvc-full");
    let imap = start(&dir, &[]);
    let out = python(
        &imap,
        r#"
deliver(ALICE, 'first', 'Line one.\r\nLine two.\r\n')
deliver(ALICE, 'second')
m = imaplib.IMAP4('127.0.0.1', IMAP_PORT, timeout=20)
out('CAPS_BEFORE', ' '.join(sorted(m.capabilities)))
try:
    m.login(ALICE, PW)
    out('PLAIN_LOGIN', 'accepted')
except imaplib.IMAP4.error as e:
    out('PLAIN_LOGIN', 'refused', e)
m.starttls(ssl_context=CTX)
typ, data = m.capability()
out('CAPS_TLS', data[0].decode())
typ, data = m.login(ALICE.upper(), PW)
out('LOGIN', typ)
typ, data = m.select('INBOX')
out('SELECT', typ, data[0].decode())
typ, data = m.fetch('1', '(FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY.PEEK[TEXT])')
out('FETCH1', repr(data))
typ, data = m.fetch('1', '(FLAGS)')
out('FLAGS_AFTER_PEEK', repr(data))
typ, data = m.fetch('1', '(BODY[HEADER.FIELDS (SUBJECT)])')
out('FETCH_BODY', repr(data))
typ, data = m.store('2', '+FLAGS', '(\\Flagged $Label1)')
out('STORE', typ, repr(data))
typ, data = m.search(None, 'FLAGGED')
out('SEARCH_FLAGGED', typ, repr(data))
typ, data = m.search(None, 'SUBJECT', 'first')
out('SEARCH_SUBJECT', typ, repr(data))
typ, data = m.search(None, 'BODY', '"Line two"')
out('SEARCH_BODY', typ, repr(data))
typ, data = m.append('INBOX', '(\\Seen)', None, b'Subject: appended\r\n\r\nBy APPEND.\r\n')
out('APPEND', typ, repr(data))
typ, data = m.uid('FETCH', '1:*', '(UID FLAGS)')
out('UIDFETCH', repr(data))
typ, data = m.store('1', '+FLAGS.SILENT', '(\\Deleted)')
out('SILENT', typ, repr(data))
typ, data = m.expunge()
out('EXPUNGE', typ, repr(data))
typ, data = m.fetch('1:*', '(UID)')
out('LEFT', repr(data))
out('LOGOUT', m.logout()[0])
"#,
    );
    let caps = line(&out, "CAPS_BEFORE");
    assert!(
        caps.contains("LOGINDISABLED") && caps.contains("STARTTLS"),
        "{caps}"
    );
    assert!(!caps.contains("AUTH="), "{caps}");
    assert!(line(&out, "PLAIN_LOGIN").starts_with("refused"), "{out}");
    let caps = line(&out, "CAPS_TLS");
    for cap in [
        "AUTH=PLAIN",
        "SASL-IR",
        "IDLE",
        "UIDPLUS",
        "MOVE",
        "CONDSTORE",
    ] {
        assert!(caps.contains(cap), "{cap} in {caps}");
    }
    assert!(
        !caps.contains("LOGINDISABLED") && !caps.contains("STARTTLS"),
        "{caps}"
    );
    // The account matched in any case.
    assert_eq!(line(&out, "LOGIN"), "OK");
    assert_eq!(line(&out, "SELECT"), "OK 2");
    let fetch1 = line(&out, "FETCH1");
    assert!(fetch1.contains("ENVELOPE ("), "{fetch1}");
    assert!(fetch1.contains("\"first\""), "{fetch1}");
    assert!(
        fetch1
            .to_lowercase()
            .contains("bodystructure (\"text\" \"plain\""),
        "{fetch1}"
    );
    assert!(
        fetch1.contains("Line one.\\r\\nLine two.\\r\\n"),
        "{fetch1}"
    );
    // BODY.PEEK leaves \Seen unset; BODY[...] sets it and says so.
    assert!(
        !line(&out, "FLAGS_AFTER_PEEK").contains("\\\\Seen"),
        "{out}"
    );
    let body = line(&out, "FETCH_BODY");
    assert!(body.contains("Subject: first"), "{body}");
    assert!(body.contains("\\\\Seen"), "{body}");
    let store = line(&out, "STORE");
    assert!(
        store.starts_with("OK") && store.contains("\\\\Flagged") && store.contains("$Label1"),
        "{store}"
    );
    assert_eq!(line(&out, "SEARCH_FLAGGED"), "OK [b'2']");
    assert_eq!(line(&out, "SEARCH_SUBJECT"), "OK [b'1']");
    assert_eq!(line(&out, "SEARCH_BODY"), "OK [b'1']");
    let append = line(&out, "APPEND");
    assert!(
        append.starts_with("OK") && append.contains("APPENDUID"),
        "{append}"
    );
    let uids = line(&out, "UIDFETCH");
    // The appended message is \Recent to this session, the first to hear of it.
    assert!(uids.contains("UID 3 FLAGS (\\\\Seen \\\\Recent)"), "{uids}");
    // .SILENT: no FETCH answer for the session's own change.
    assert_eq!(line(&out, "SILENT"), "OK [None]");
    assert_eq!(line(&out, "EXPUNGE"), "OK [b'1']");
    let left = line(&out, "LEFT");
    assert!(
        left.contains("1 (UID 2)") && left.contains("2 (UID 3)"),
        "{left}"
    );
    assert_eq!(line(&out, "LOGOUT"), "BYE");
    let logs = imap.server.stderr();
    assert!(logs.contains("imap login"), "{logs}");
}

/// Raw lines over TLS: what imaplib would hide.
struct Raw {
    reader: BufReader<TcpStream>,
    stream: TcpStream,
}

impl Raw {
    /// A plaintext connection (no TLS) to `port`, greeting read.
    fn plain(port: u16) -> (Raw, String) {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(LIMIT)).expect("read timeout");
        let mut raw = Raw {
            reader: BufReader::new(stream.try_clone().expect("clone")),
            stream,
        };
        let greeting = raw.line();
        (raw, greeting)
    }

    fn send(&mut self, line: &str) {
        self.stream
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("write");
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read");
        line
    }

    /// Lines up to and including the one starting with `end`.
    fn until(&mut self, end: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line();
            assert!(
                !line.is_empty(),
                "connection closed before {end}: {lines:?}"
            );
            let done = line.starts_with(end);
            lines.push(line);
            if done {
                return lines;
            }
        }
    }
}

#[test]
fn plaintext_login_is_refused_before_starttls() {
    let dir = TempDir::new("imapsvc-plain");
    let imap = start(&dir, &[]);
    let (mut raw, greeting) = Raw::plain(imap.imap);
    assert!(
        greeting.starts_with("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 STARTTLS LOGINDISABLED"),
        "{greeting}"
    );
    raw.send(&format!("a1 LOGIN {ALICE} {ALICE_PASSWORD}"));
    let answer = raw.until("a1 ");
    assert!(
        answer
            .last()
            .unwrap()
            .starts_with("a1 NO [PRIVACYREQUIRED]"),
        "{answer:?}"
    );
    raw.send("a2 LOGOUT");
    let bye = raw.until("a2 ");
    assert_eq!(bye[0], "* BYE Logging out\r\n");
    // With --allow-plaintext-auth, LOGIN works without TLS.
    drop(imap);
    let dir = TempDir::new("imapsvc-plain-allowed");
    let imap = start(&dir, &["--allow-plaintext-auth"]);
    let (mut raw, greeting) = Raw::plain(imap.imap);
    assert!(
        !greeting.contains("LOGINDISABLED") && greeting.contains("AUTH=PLAIN"),
        "{greeting}"
    );
    raw.send(&format!("a1 LOGIN {ALICE} {ALICE_PASSWORD}"));
    let answer = raw.until("a1 ");
    assert!(
        answer.last().unwrap().starts_with("a1 OK [CAPABILITY "),
        "{answer:?}"
    );
    // AUTHENTICATE PLAIN with SASL-IR ("\0alice@localhost\0secret"): no continuation; a
    // wrong password ("\0alice@localhost\0wrong") is AUTHENTICATIONFAILED, logged.
    let (mut raw, _) = Raw::plain(imap.imap);
    raw.send("b1 AUTHENTICATE PLAIN AGFsaWNlQGxvY2FsaG9zdAB3cm9uZw==");
    let answer = raw.until("b1 ");
    assert!(
        answer
            .last()
            .unwrap()
            .starts_with("b1 NO [AUTHENTICATIONFAILED]"),
        "{answer:?}"
    );
    raw.send("b2 AUTHENTICATE PLAIN AGFsaWNlQGxvY2FsaG9zdABzZWNyZXQ=");
    let answer = raw.until("b2 ");
    assert_eq!(answer.len(), 1, "{answer:?}");
    assert!(answer[0].starts_with("b2 OK [CAPABILITY "), "{answer:?}");
    let logs = imap.server.stderr();
    assert!(logs.contains("imap login failed"), "{logs}");
    assert!(!logs.contains("wrong"), "no password in the log: {logs}");
}

#[test]
fn idle_hears_an_smtp_delivery_and_another_sessions_append() {
    if !have_imaplib() {
        return;
    }
    let dir = TempDir::new("imapsvc-idle");
    let imap = start(&dir, &[]);
    let out = python(
        &imap,
        r#"
deliver(ALICE, 'before')
m = login()
typ, data = m.select('INBOX')
out('SELECT', typ, data[0].decode())
tag = m._new_tag().decode()
m.send(('%s IDLE\r\n' % tag).encode())
out('IDLE', m.readline().decode().strip())
deliver(ALICE, 'during idle')
out('PUSH1', m.readline().decode().strip())
out('RECENT1', m.readline().decode().strip())
other = login()
other.append('INBOX', None, None, b'Subject: from another session\r\n\r\nHi.\r\n')
out('PUSH2', m.readline().decode().strip())
out('RECENT2', m.readline().decode().strip())
m.send(b'DONE\r\n')
out('DONE', m.readline().decode().strip())
# Both arrived while this session had INBOX selected: \Recent to it, to no later session.
typ, data = m.fetch('2:3', '(FLAGS)')
out('RECENT_FLAGS', repr(data))
other.select('INBOX')
out('OTHER_RECENT', other.response('RECENT')[1][0].decode())
other.logout()
m.logout()
"#,
    );
    assert_eq!(line(&out, "SELECT"), "OK 1");
    assert_eq!(line(&out, "IDLE"), "+ idling");
    assert_eq!(line(&out, "PUSH1"), "* 2 EXISTS");
    assert_eq!(line(&out, "PUSH2"), "* 3 EXISTS");
    // The new count follows each size change (RFC 3501 section 7.3.2); the first message,
    // delivered before the SELECT, is recent to this session too.
    assert_eq!(line(&out, "RECENT1"), "* 2 RECENT");
    assert_eq!(line(&out, "RECENT2"), "* 3 RECENT");
    assert!(line(&out, "DONE").ends_with("OK IDLE terminated"), "{out}");
    assert_eq!(
        line(&out, "RECENT_FLAGS"),
        "[b'2 (FLAGS (\\\\Recent))', b'3 (FLAGS (\\\\Recent))']"
    );
    assert_eq!(line(&out, "OTHER_RECENT"), "0");
}

#[test]
fn a_session_that_misses_too_many_changes_is_closed_with_bye_alert() {
    if !have_imaplib() {
        return;
    }
    let dir = TempDir::new("imapsvc-overflow");
    let imap = start(&dir, &["--imap-max-pending", "3"]);
    let out = python(
        &imap,
        r#"
slow = login()
slow.select('INBOX')
other = login()
for i in range(6):
    other.append('INBOX', None, None, b'Subject: %d\r\n\r\nHi.\r\n' % i)
other.logout()
# The slow session, which sent nothing since, was told and closed.
out('UNSOLICITED', slow.readline().decode().strip())
out('EOF', repr(slow.readline()))
"#,
    );
    assert_eq!(
        line(&out, "UNSOLICITED"),
        "* BYE [ALERT] Too many changes to the mailbox; reconnect to resynchronise"
    );
    assert_eq!(line(&out, "EOF"), "b''");
    let logs = imap.server.stderr();
    assert!(
        logs.contains("too many changes") || logs.contains("missed too many changes"),
        "{logs}"
    );
}

#[test]
fn curl_reads_over_imaps_and_the_banner_prints_a_working_curl_command() {
    if !have_python() || !have_curl() {
        return;
    }
    let dir = TempDir::new("imapsvc-curl");
    let imap = start(&dir, &[]);
    let mut relay = imap.server.relay();
    relay.start_message("sender@example.org", &[ALICE]);
    relay.send("Subject: for curl\r\n\r\nRead by curl.\r\n.\r\n");
    relay.expect(250);
    relay.cmd_expect("QUIT", 221);
    let banner = imap.server.stdout();
    let command = banner
        .lines()
        .find(|l| l.trim_start().starts_with("curl -sk --ssl-reqd 'imap://"))
        .unwrap_or_else(|| panic!("no curl imap:// line in the banner:\n{banner}"));
    assert!(
        command.contains(&format!(":{}/INBOX;UID=1'", imap.imap)),
        "{command}"
    );
    // The banner's command (with this test's password for its placeholder) reads it.
    let url = format!("imap://127.0.0.1:{}/INBOX;UID=1", imap.imap);
    let user = format!("{ALICE}:{ALICE_PASSWORD}");
    let out = run_bounded("curl", &["-sk", "--ssl-reqd", &url, "--user", &user]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("Read by curl."),
        "{text}\n{}",
        imap.server.logs()
    );
    let url = format!("imaps://127.0.0.1:{}/INBOX;UID=1", imap.imaps);
    let out = run_bounded("curl", &["-sk", &url, "--user", &user]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("Subject: for curl"),
        "{text}\n{}",
        imap.server.logs()
    );
    // A wrong password: curl fails, the guard logs the failure.
    let out = run_bounded("curl", &["-sk", &url, "--user", &format!("{ALICE}:wrong")]);
    assert!(!out.status.success());
    poll("failure logged", || {
        imap.server
            .stderr()
            .contains("imap login failed")
            .then_some(())
    });
}

#[test]
fn a_full_pool_evicts_its_oldest_session_before_login_but_not_after() {
    let dir = TempDir::new("imapsvc-evict");
    let imap = start(
        &dir,
        &["--allow-plaintext-auth", "--max-connections-imap", "1"],
    );
    let (mut old, greeting) = Raw::plain(imap.imap);
    assert!(greeting.starts_with("* OK "), "{greeting}");
    let (mut new, greeting) = Raw::plain(imap.imap);
    assert!(greeting.starts_with("* OK "), "{greeting}");
    assert_eq!(
        old.line(),
        "* BYE [UNAVAILABLE] Too many connections; closing the oldest session that has not \
         logged in\r\n"
    );
    assert_eq!(old.line(), "", "closed after the BYE");
    // The newcomer logs in: now a further client is refused, never the logged-in session.
    new.send(&format!("a1 LOGIN {ALICE} {ALICE_PASSWORD}"));
    let answer = new.until("a1 ");
    assert!(answer.last().unwrap().starts_with("a1 OK "), "{answer:?}");
    let (mut third, refused) = Raw::plain(imap.imap);
    assert_eq!(
        refused,
        "* BYE [UNAVAILABLE] Too many connections, try again later\r\n"
    );
    assert_eq!(third.line(), "");
    new.send("a2 NOOP");
    let answer = new.until("a2 ");
    assert!(answer.last().unwrap().starts_with("a2 OK "), "{answer:?}");
    poll("the log line about the eviction", || {
        imap.server.stderr().contains("evicted").then_some(())
    });
}

#[test]
fn copy_and_uid_move_answer_copyuid_and_condstore_reports_modified() {
    if !have_imaplib() {
        return;
    }
    let dir = TempDir::new("imapsvc-copy");
    let imap = start(&dir, &[]);
    let out = python(
        &imap,
        r#"
for i in range(3):
    deliver(ALICE, 'message %d' % (i + 1))
m = login()
typ, data = m.enable('CONDSTORE')
out('ENABLE', typ)
m.select('INBOX')
typ, data = m.copy('1:2', 'Archive')
out('COPY', typ, repr(data))
typ, data = m.uid('MOVE', '3', 'Trash')
out('MOVE', typ, repr(data), repr(m.untagged_responses.get('EXPUNGE')))
typ, data = m.copy('1', 'Nowhere')
out('TRYCREATE', typ, repr(data))
typ, data = m.fetch('1', '(MODSEQ)')
out('MODSEQ', repr(data))
modseq = int(data[0].decode().split('MODSEQ (')[1].split(')')[0])
typ, data = m._simple_command('STORE', '1', '(UNCHANGEDSINCE %d)' % modseq, '+FLAGS', '(\\Answered)')
out('STORE_OK', typ, repr(data))
typ, data = m._simple_command('STORE', '1', '(UNCHANGEDSINCE %d)' % modseq, '+FLAGS', '(\\Flagged)')
out('STORE_MODIFIED', typ, repr(data))
typ, data = m.select('Archive', readonly=True)
out('ARCHIVE', typ, repr(data))
typ, data = m.store('1', '+FLAGS', '(\\Seen)')
out('READONLY', typ, repr(data))
m.logout()
"#,
    );
    let copy = line(&out, "COPY");
    assert!(
        copy.starts_with("OK") && copy.contains("[COPYUID "),
        "{copy}"
    );
    assert!(copy.contains(" 1:2 1:2]"), "{copy}");
    let moved = line(&out, "MOVE");
    assert!(
        moved.starts_with("OK") && moved.contains("[b'3']"),
        "{moved}"
    );
    let trycreate = line(&out, "TRYCREATE");
    assert!(
        trycreate.starts_with("NO") && trycreate.contains("[TRYCREATE]"),
        "{trycreate}"
    );
    assert_eq!(line(&out, "ENABLE"), "OK");
    assert!(line(&out, "MODSEQ").contains("MODSEQ ("), "{out}");
    assert!(line(&out, "STORE_OK").starts_with("OK"), "{out}");
    let modified = line(&out, "STORE_MODIFIED");
    assert!(modified.contains("[MODIFIED 1]"), "{modified}");
    assert_eq!(line(&out, "ARCHIVE"), "OK [b'2']");
    let read_only = line(&out, "READONLY");
    assert!(
        read_only.starts_with("NO") && read_only.contains("READ-ONLY"),
        "{read_only}"
    );
}

/// Logs in over plaintext (the server started with `--allow-plaintext-auth`).
fn logged_in(port: u16) -> Raw {
    let (mut raw, greeting) = Raw::plain(port);
    assert!(greeting.starts_with("* OK "), "{greeting}");
    raw.send(&format!("l1 LOGIN {ALICE} {ALICE_PASSWORD}"));
    let answer = raw.until("l1 ");
    assert!(answer.last().unwrap().starts_with("l1 OK "), "{answer:?}");
    raw
}

/// APPEND of `size` octets (a synchronising literal); every line of the answer.
fn append(raw: &mut Raw, tag: &str, folder: &str, size: usize) -> Vec<String> {
    let mut message = b"Subject: sized\r\n\r\n".to_vec();
    message.resize(size.max(message.len()), b'x');
    raw.send(&format!("{tag} APPEND {folder} {{{}}}", message.len()));
    let first = raw.line();
    if !first.starts_with('+') {
        return vec![first];
    }
    raw.stream.write_all(&message).expect("write");
    raw.stream.write_all(b"\r\n").expect("write");
    let mut lines = vec![first];
    lines.extend(raw.until(&format!("{tag} ")));
    lines
}

#[test]
fn append_over_appendlimit_is_toobig_and_over_the_quota_is_overquota() {
    let dir = TempDir::new("imapsvc-limits");
    let imap = start(
        &dir,
        &[
            "--allow-plaintext-auth",
            "--max-message-size",
            "2000",
            "--quota",
            "5000",
        ],
    );
    let mut raw = logged_in(imap.imap);
    raw.send("c1 CAPABILITY");
    let caps = raw.until("c1 ");
    assert!(caps[0].contains(" APPENDLIMIT=2000"), "{caps:?}");
    // Over APPENDLIMIT: refused before any data is sent (RFC 7889).
    let answer = append(&mut raw, "a1", "INBOX", 2001);
    assert!(answer[0].starts_with("a1 NO [TOOBIG]"), "{answer:?}");
    // Within it, twice; the third passes the 5000-octet quota.
    for tag in ["a2", "a3"] {
        let answer = append(&mut raw, tag, "INBOX", 2000);
        let last = answer.last().unwrap();
        assert!(
            last.starts_with(&format!("{tag} OK [APPENDUID ")),
            "{answer:?}"
        );
    }
    let answer = append(&mut raw, "a4", "Archive", 2000);
    assert!(
        answer.last().unwrap().starts_with("a4 NO [OVERQUOTA]"),
        "{answer:?}"
    );
    // A folder that does not exist.
    let answer = append(&mut raw, "a5", "Nowhere", 10);
    assert!(
        answer.last().unwrap().starts_with("a5 NO [TRYCREATE]"),
        "{answer:?}"
    );
    raw.send("s1 STATUS INBOX (MESSAGES)");
    let status = raw.until("s1 ");
    assert_eq!(status[0], "* STATUS INBOX (MESSAGES 2)\r\n");
}

/// Stress mode before login: when the pool enters stress, an open session that has not
/// logged in must log in within the stress command timeout (1 s here, against a normal
/// login timeout of 60 s); a session that starts under stress has it as its login timeout;
/// logged-in sessions stay.
#[test]
fn a_pool_under_stress_closes_sessions_that_do_not_log_in() {
    let dir = TempDir::new("imapsvc-stress");
    let imap = start(
        &dir,
        &[
            "--allow-plaintext-auth",
            "--max-connections-imap",
            "4",
            "--stress-threshold",
            "75",
            "--stress-command-timeout",
            "1",
        ],
    );
    let mut holder = logged_in(imap.imap);
    let (mut victim, greeting) = Raw::plain(imap.imap);
    assert!(greeting.starts_with("* OK "), "{greeting}");
    // Three of four: the pool is under stress from here on (the holders stay).
    let started = std::time::Instant::now();
    let mut second_holder = logged_in(imap.imap);
    assert_eq!(
        victim.line(),
        "* BYE [UNAVAILABLE] Server busy and no login in time\r\n"
    );
    assert_eq!(victim.line(), "");
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    let started = std::time::Instant::now();
    let (mut late, greeting) = Raw::plain(imap.imap);
    assert!(greeting.starts_with("* OK "), "{greeting}");
    let bye = late.line();
    assert!(bye.starts_with("* BYE "), "{bye:?}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    for (tag, conn) in [("n1", &mut holder), ("n2", &mut second_holder)] {
        conn.send(&format!("{tag} NOOP"));
        let answer = conn.until(&format!("{tag} "));
        assert!(
            answer.last().unwrap().starts_with(&format!("{tag} OK")),
            "{answer:?}"
        );
    }
    let log = imap.server.stderr();
    assert!(log.contains("no login within the stress timeout"), "{log}");
}

/// Messages larger than APPEND's pieces (64 KiB) and a FETCH answer larger than the driver's
/// piece (256 KiB of content): every octet comes back, in order.
#[test]
fn large_messages_append_in_pieces_and_fetch_in_pieces_whole() {
    if !have_imaplib() {
        return;
    }
    let dir = TempDir::new("imapsvc-large");
    let imap = start(&dir, &[]);
    let out = python(
        &imap,
        r#"
import hashlib
m = login()
bodies = []
for i in range(4):
    line = ('%d' % i).encode() * 70 + b'\r\n'
    body = b'Subject: large %d\r\n\r\n' % i + line * 3000
    bodies.append(body)
    typ, data = m.append('INBOX', None, None, body)
    out('APPEND', i, typ)
m.select('INBOX', readonly=True)
typ, data = m.fetch('1:*', '(RFC822.SIZE BODY.PEEK[])')
got = [part[1] for part in data if isinstance(part, tuple)]
out('COUNT', len(got))
out('SAME', all(a == b for a, b in zip(got, bodies)) and len(got) == len(bodies))
out('SIZES', ' '.join(str(len(b)) for b in got))
m.logout()
"#,
    );
    for i in 0..4 {
        assert_eq!(line(&out, &format!("APPEND {i}")), "OK", "{out}");
    }
    assert_eq!(line(&out, "COUNT"), "4");
    assert_eq!(line(&out, "SAME"), "True", "{out}");
    assert_eq!(line(&out, "SIZES"), "216020 216020 216020 216020");
}

/// A folder deleted by one session while another has it selected, and one renamed while a
/// third idles in it: each of those sessions is told at once with `* BYE` and closed (the
/// store gives a renamed folder a new UIDVALIDITY, so no session can follow it); a session
/// on another folder goes on.
#[test]
fn a_session_whose_folder_is_deleted_or_renamed_is_closed_with_bye() {
    if !have_imaplib() {
        return;
    }
    let dir = TempDir::new("imapsvc-gone");
    let imap = start(&dir, &[]);
    let out = python(
        &imap,
        r#"
admin = login()
admin.create('Doomed')
admin.create('Moving')
admin.append('Doomed', None, None, b'Subject: doomed\r\n\r\nHi.\r\n')
reader = login()
out('SELECTED', reader.select('Doomed')[0])
idler = login()
idler.select('Moving')
idler.send(b'i1 IDLE\r\n')
out('IDLING', idler.readline().decode().strip())
bystander = login()
bystander.select('INBOX')
out('DELETE', admin.delete('Doomed')[0])
out('RENAME', admin.rename('Moving', 'Moved')[0])
# Neither sent anything since: both were told unsolicited, then closed.
out('READER', reader.readline().decode().strip())
out('READER_EOF', repr(reader.readline()))
out('IDLER', idler.readline().decode().strip())
out('IDLER_EOF', repr(idler.readline()))
out('BYSTANDER', bystander.noop()[0])
out('MOVED', admin.select('Moved')[0])
bystander.logout()
admin.logout()
"#,
    );
    assert_eq!(line(&out, "SELECTED"), "OK");
    assert_eq!(line(&out, "IDLING"), "+ idling");
    assert_eq!(line(&out, "DELETE"), "OK");
    assert_eq!(line(&out, "RENAME"), "OK");
    let bye = "* BYE Selected mailbox was deleted or renamed, have to disconnect.";
    assert_eq!(line(&out, "READER"), bye);
    assert_eq!(line(&out, "READER_EOF"), "b''");
    assert_eq!(line(&out, "IDLER"), bye);
    assert_eq!(line(&out, "IDLER_EOF"), "b''");
    assert_eq!(line(&out, "BYSTANDER"), "OK");
    assert_eq!(line(&out, "MOVED"), "OK");
    let logs = imap.server.stderr();
    assert!(
        logs.contains("the selected mailbox was deleted or renamed"),
        "{logs}"
    );
}

/// A folder defines at most 128 keywords (`MAX_KEYWORDS` of the store): the STORE or APPEND
/// that would define one more is `NO [LIMIT]` and changes nothing; defined ones stay usable.
#[test]
fn a_keyword_beyond_the_folders_bound_is_no_limit() {
    let dir = TempDir::new("imapsvc-keywords");
    let imap = start(&dir, &["--allow-plaintext-auth"]);
    let mut raw = logged_in(imap.imap);
    // Three messages: one holds at most 64 keywords (the store's MAX_KEYWORDS_PER_MESSAGE).
    for tag in ["a1", "a1b", "a1c"] {
        let answer = append(&mut raw, tag, "INBOX", 30);
        assert!(
            answer.last().unwrap().starts_with(&format!("{tag} OK ")),
            "{answer:?}"
        );
    }
    raw.send("s1 SELECT INBOX");
    let answer = raw.until("s1 ");
    assert!(answer.last().unwrap().starts_with("s1 OK "), "{answer:?}");
    let keywords: Vec<String> = (0..128).map(|i| format!("k{i}")).collect();
    raw.send(&format!(
        "t1 STORE 1 +FLAGS.SILENT ({})",
        keywords[..64].join(" ")
    ));
    let answer = raw.until("t1 ");
    assert!(answer.last().unwrap().starts_with("t1 OK "), "{answer:?}");
    raw.send(&format!(
        "t1b STORE 2 +FLAGS.SILENT ({})",
        keywords[64..].join(" ")
    ));
    let answer = raw.until("t1b ");
    assert!(answer.last().unwrap().starts_with("t1b OK "), "{answer:?}");
    // A 65th keyword on one message: past the per-message bound.
    raw.send("t1c STORE 1 +FLAGS (k64)");
    let answer = raw.until("t1c ");
    assert_eq!(
        answer,
        ["t1c NO [LIMIT] too many keywords on a message\r\n"]
    );
    raw.send("t2 STORE 3 +FLAGS (k7 one-too-many)");
    let answer = raw.until("t2 ");
    assert_eq!(
        answer,
        ["t2 NO [LIMIT] Too many keywords in this mailbox\r\n"]
    );
    raw.send("t3 STORE 1 -FLAGS.SILENT (k7)");
    let answer = raw.until("t3 ");
    assert!(answer.last().unwrap().starts_with("t3 OK "), "{answer:?}");
    raw.send("t4 STORE 1 +FLAGS.SILENT (k7)");
    let answer = raw.until("t4 ");
    assert!(answer.last().unwrap().starts_with("t4 OK "), "{answer:?}");
    let message = "Subject: kw\r\n\r\nHi.\r\n";
    raw.send(&format!(
        "a2 APPEND INBOX (fresh) {{{}+}}\r\n{message}",
        message.len()
    ));
    let answer = raw.until("a2 ");
    assert!(
        answer.last().unwrap().starts_with("a2 NO [LIMIT] "),
        "{answer:?}"
    );
    raw.send("f1 FETCH 1:* (FLAGS)");
    let answer = raw.until("f1 ");
    assert_eq!(answer.len(), 4, "{answer:?}");
    assert!(
        !answer.iter().any(|l| l.contains("one-too-many")),
        "{answer:?}"
    );
    assert!(answer[1].contains(" k127"), "{answer:?}");
}
