"""IMAP scenarios for examples/tests/imap_server.rs: Python's imaplib (with smtplib and poplib
for the cross-protocol ones) against the mail server, one scenario per run.

Usage: python3 imap_scenarios.py SCENARIO. The environment gives the ports (IMAP_PORT with
STARTTLS, IMAPS_PORT implicit TLS, SMTP_PORT the relay, POP3_PORT with STLS) and the account
(USER, PASSWORD). Every scenario prints one line per step, `STEP repr(...)`, so that the Rust
test asserts the bytes imaplib received; it ends with `done`. Any exception fails the run.
"""

import imaplib
import os
import poplib
import smtplib
import socket
import ssl
import sys

HOST = "127.0.0.1"
ENV = os.environ
USER = ENV.get("USER_NAME", "alice@localhost")
PASSWORD = ENV.get("USER_PASSWORD", "secret")
TIMEOUT = 20

CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def port(name):
    return int(ENV[name])


def out(step, *values):
    print(step, *[repr(v) for v in values], flush=True)


# ---- messages (CRLF line endings, as IMAP stores them) ----

SIMPLE = (
    b"From: Ann Example <ann@example.org>\r\n"
    b"To: Alice <alice@localhost>\r\n"
    b"Subject: hello one\r\n"
    b"Date: Mon, 7 Dec 2026 10:00:00 +0000\r\n"
    b"Message-ID: <one@example.org>\r\n"
    b"\r\n"
    b"First body line.\r\n"
    b"Second line.\r\n"
)

MULTIPART = (
    b"From: Bob <bob@example.net>\r\n"
    b"To: Alice <alice@localhost>, carol@example.com\r\n"
    b"Cc: Dan <dan@example.com>\r\n"
    b"Subject: the report\r\n"
    b"Date: Tue, 8 Dec 2026 11:30:00 +0100\r\n"
    b"Message-ID: <two@example.net>\r\n"
    b"In-Reply-To: <one@example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="XYZ"\r\n'
    b"\r\n"
    b"preamble\r\n"
    b"--XYZ\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
    b"Hello Alice\r\n"
    b"--XYZ\r\n"
    b'Content-Type: application/octet-stream; name="a.bin"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b'Content-Disposition: attachment; filename="a.bin"\r\n'
    b"\r\n"
    b"AAECAw==\r\n"
    b"--XYZ--\r\n"
)


def message(subject, body=b"Hello.\r\n", sender=b"Ann <ann@example.org>"):
    return (
        b"From: " + sender + b"\r\n"
        b"To: alice@localhost\r\n"
        b"Subject: " + subject.encode() + b"\r\n"
        b"\r\n" + body
    )


# ---- sessions ----


def connect():
    return imaplib.IMAP4(HOST, port("IMAP_PORT"), timeout=TIMEOUT)


def login(user=USER, password=PASSWORD):
    """STARTTLS on the IMAP port, then LOGIN."""
    m = connect()
    m.starttls(ssl_context=CTX)
    m.login(user, password)
    return m


def login_tls(user=USER, password=PASSWORD):
    """Implicit TLS on the IMAPS port, then LOGIN."""
    m = imaplib.IMAP4_SSL(HOST, port("IMAPS_PORT"), ssl_context=CTX, timeout=TIMEOUT)
    m.login(user, password)
    return m


def seed(*messages):
    """APPENDs the messages to INBOX in one session that then SELECTs INBOX (taking their
    \\Recent) and logs out, so that later sessions see them without \\Recent."""
    m = login()
    answers = [m.append("INBOX", None, None, msg) for msg in messages]
    m.select("INBOX")
    m.logout()
    return answers


def deliver(subject, body="Hello.\r\n", to=None):
    with smtplib.SMTP(HOST, port("SMTP_PORT"), timeout=TIMEOUT) as s:
        s.sendmail(
            "sender@example.org",
            [to or USER],
            "Subject: %s\r\n\r\n%s" % (subject, body),
        )


def pop3_login():
    p = poplib.POP3(HOST, port("POP3_PORT"), timeout=TIMEOUT)
    p.stls(context=CTX)
    p.user(USER)
    p.pass_(PASSWORD)
    return p


# ---- raw commands on an imaplib connection, for the exact bytes ----

RAW_TAGS = [0]


def read_response_line(m):
    """One response line with its literals inlined; b"" at EOF."""
    line = m.readline()
    while line.endswith(b"}\r\n") and b"{" in line:
        size = int(line[line.rindex(b"{") + 1 : -3].rstrip(b"+"))
        line += m.read(size) + m.readline()
    return line


def read_until_tagged(m, tag):
    lines = []
    while True:
        line = read_response_line(m)
        if not line:
            lines.append(b"<EOF>")
            return lines
        lines.append(line)
        if line.startswith(tag + b" "):
            return lines


def raw(m, command):
    """Sends `Rn command` and returns every line up to and including the tagged one."""
    RAW_TAGS[0] += 1
    tag = b"R%d" % RAW_TAGS[0]
    m.send(tag + b" " + command + b"\r\n")
    return read_until_tagged(m, tag)


def idle_start(m):
    RAW_TAGS[0] += 1
    tag = b"R%d" % RAW_TAGS[0]
    m.send(tag + b" IDLE\r\n")
    line = read_response_line(m)
    assert line.startswith(b"+ "), line
    return tag


def idle_until(m, prefix, needle=b""):
    """Lines read in IDLE until one that starts with `prefix` and holds `needle` (bounded by
    the socket timeout); the last line is b"" at EOF."""
    lines = []
    while True:
        line = read_response_line(m)
        lines.append(line)
        if not line or (line.startswith(prefix) and needle in line):
            return lines


def idle_done(m, tag):
    m.send(b"DONE\r\n")
    return read_until_tagged(m, tag)


# ---- scenarios ----


def starttls_login():
    m = connect()
    out("PLAIN-CAPS", sorted(m.capabilities))
    try:
        m.login(USER, PASSWORD)
        out("PLAIN-LOGIN", "accepted")
    except imaplib.IMAP4.error as e:
        out("PLAIN-LOGIN", str(e))
    m.starttls(ssl_context=CTX)
    out("TLS-CAPS", sorted(m.capabilities))
    out("LOGIN", *m.login(USER, PASSWORD))
    out("CAPABILITY", *m.capability())
    out("LOGOUT", *m.logout())


def plaintext_login():
    m = connect()
    out("PLAIN-CAPS", sorted(m.capabilities))
    out("LOGIN", *m.login(USER, PASSWORD))
    out("SELECT", *m.select("INBOX"))
    out("LOGOUT", *m.logout())


def append_fetch():
    m = login()
    out(
        "APPEND1",
        *m.append("INBOX", r"(\Flagged $Important)", '"07-Dec-2026 10:00:00 +0000"', SIMPLE),
    )
    out("APPEND2", *m.append("INBOX", None, None, MULTIPART))
    m.select("INBOX")  # takes \Recent, so that the next session sees none
    m.logout()
    m = login()
    out("SELECT", *m.select("INBOX"))
    out("UIDVALIDITY", m.response("UIDVALIDITY"))
    out("FLAGS0", *m.fetch("1", "(FLAGS)"))
    out("PEEK-HEADER", *m.fetch("1", "(BODY.PEEK[HEADER])"))
    out("FLAGS1", *m.fetch("1", "(FLAGS)"))
    out("PARTIAL", *m.fetch("1", "(BODY.PEEK[]<0.10>)"))
    out("PARTIAL-TEXT", *m.fetch("1", "(BODY.PEEK[TEXT]<6.4>)"))
    out("BODY", *m.fetch("1", "(BODY[])"))
    out("FLAGS2", *m.fetch("1", "(FLAGS)"))
    out("ATTRS", *m.fetch("1", "(UID RFC822.SIZE INTERNALDATE)"))
    out("ENVELOPE", *m.fetch("2", "(ENVELOPE)"))
    out("BODYSTRUCTURE", *m.fetch("2", "(BODYSTRUCTURE)"))
    out("PART2", *m.fetch("2", "(BODY.PEEK[2])"))
    out("PART2-MIME", *m.fetch("2", "(BODY.PEEK[2.MIME])"))
    out("LOGOUT", *m.logout())


def store_search():
    seed(
        message("alpha"),
        message("beta", b"a needle in the body\r\n" + b"x" * 600 + b"\r\n", b"Bob <bob@example.net>"),
        message("gamma"),
    )
    m = login()
    out("SELECT", *m.select("INBOX"))
    out("STORE-FLAGGED", *m.store("1", "+FLAGS", r"(\Flagged)"))
    out("STORE-SEEN-SILENT", *m.store("2", "+FLAGS.SILENT", r"(\Seen \Answered)"))
    out("STORE-UNSEEN-SILENT", *m.store("2", "-FLAGS.SILENT", r"(\Seen)"))
    out("STORE-KEYWORDS", *m.store("3", "+FLAGS", "($Work custom1)"))
    out("STORE-REPLACE", *m.store("3", "FLAGS", r"($Work \Seen)"))
    out("FLAGS", *m.fetch("1:3", "(FLAGS)"))
    out("SEARCH-FLAGGED", *m.search(None, "FLAGGED"))
    out("SEARCH-FROM-UNSEEN", *m.search(None, "FROM", '"bob"', "UNSEEN"))
    out("SEARCH-OR", *m.search(None, "OR", "SUBJECT", "alpha", "SUBJECT", "gamma"))
    out("SEARCH-KEYWORD", *m.search(None, "KEYWORD", "$Work"))
    out("SEARCH-LARGER", *m.search(None, "LARGER", "500"))
    out("SEARCH-BODY", *m.search(None, "BODY", "needle"))
    out("SEARCH-ANSWERED-NOT-DELETED", *m.search(None, "ANSWERED", "NOT", "DELETED"))
    out("SEARCH-SEQ", *m.search(None, "2:3", "NOT", "KEYWORD", "$Work"))
    out("UID-SEARCH-ALL", *m.uid("SEARCH", "ALL"))
    out("UID-SEARCH-RANGE", *m.uid("SEARCH", "UID", "2:*", "UNFLAGGED"))
    out("LOGOUT", *m.logout())


def copy_move_expunge():
    seed(message("one"), message("two"), message("three"))
    m = login()
    out("SELECT", *m.select("INBOX"))
    out("COPY", *m.copy("1:2", "Archive"))
    out("COPY-MISSING", *m.copy("1", "NoSuch"))
    out("UID-MOVE", raw(m, b"UID MOVE 3 Trash"))
    out("STORE", *m.store("1", "+FLAGS", r"(\Deleted)"))
    out("EXPUNGE", *m.expunge())
    out("STATUS-INBOX", *m.status("INBOX", "(MESSAGES UIDNEXT)"))
    out("STATUS-ARCHIVE", *m.status("Archive", "(MESSAGES UIDNEXT)"))
    out("STATUS-TRASH", *m.status("Trash", "(MESSAGES UIDNEXT)"))
    out("INBOX-LEFT", *m.fetch("1:*", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    out("SELECT-TRASH", *m.select("Trash"))
    out("TRASH", *m.fetch("1:*", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    out("SELECT-ARCHIVE", *m.select("Archive"))
    out("ARCHIVE", *m.fetch("1:*", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    out("LOGOUT", *m.logout())


def idle():
    seed(message("before"))
    watcher = login()
    out("SELECT", *watcher.select("INBOX"))
    tag = idle_start(watcher)
    # A second device appends over implicit TLS.
    other = login_tls()
    out("APPEND", *other.append("INBOX", None, None, message("from another client")))
    # The watcher is the only session with INBOX selected: each new message is \Recent to
    # it, so each EXISTS is followed by the new RECENT count (RFC 3501 section 7.3.2).
    out("IDLE-APPEND", idle_until(watcher, b"* 1 RECENT\r\n"))
    # SMTP delivers.
    deliver("by smtp")
    out("IDLE-SMTP", idle_until(watcher, b"* 2 RECENT\r\n"))
    # Another session's flag change.
    other.select("INBOX")
    out("STORE", *other.store("1", "+FLAGS.SILENT", r"(\Flagged)"))
    out("IDLE-FLAGS", idle_until(watcher, b"* 1 FETCH (", b"\\Flagged"))
    # POP3 deletes the delivered message (found by its subject).
    p = pop3_login()
    for n in range(1, p.stat()[0] + 1):
        if b"Subject: by smtp" in p.top(n, 0)[1]:
            out("POP3-DELE", p.dele(n))
    out("POP3-QUIT", p.quit())
    out("IDLE-POP3", idle_until(watcher, b"* 1 RECENT\r\n"))
    out("DONE", idle_done(watcher, tag))
    out("FETCH", raw(watcher, b"FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    other.logout()
    watcher.logout()


def claim_recent():
    """A session that SELECTs INBOX and logs out, taking the \\Recent of its messages."""
    m = login()
    m.select("INBOX")
    m.logout()


def cross_pop3():
    deliver("first")
    deliver("second")
    claim_recent()
    m = login()
    out("SELECT", *m.select("INBOX"))
    p = pop3_login()
    out("POP3-STAT", p.stat())
    p.retr(1)
    out("POP3-DELE", p.dele(2))
    out("POP3-QUIT", p.quit())
    out("NOOP", raw(m, b"NOOP"))
    out("FLAGS", raw(m, b"FETCH 1 (FLAGS)"))
    # IMAP \Seen and \Deleted + EXPUNGE reach the next POP3 session.
    deliver("third")
    out("NOOP2", raw(m, b"NOOP"))
    out("STORE-SEEN", raw(m, b"STORE 2 +FLAGS (\\Seen)"))
    p = pop3_login()
    out("POP3-STAT2", p.stat())
    out("POP3-UIDL2", p.uidl())
    p.quit()
    out("STORE-DELETED", raw(m, b"STORE 1 +FLAGS (\\Deleted)"))
    out("EXPUNGE", raw(m, b"EXPUNGE"))
    p = pop3_login()
    out("POP3-STAT3", p.stat())
    out("POP3-TOP3", p.top(1, 0)[1])
    p.quit()
    m.logout()


def recent():
    seed(message("old"))
    m = login()
    out("SELECT", raw(m, b"SELECT INBOX"))
    deliver("new")
    out("NOOP", raw(m, b"NOOP"))
    out("FLAGS", raw(m, b"FETCH 1:2 (FLAGS)"))
    other = login()
    out("OTHER-SELECT", raw(other, b"SELECT INBOX"))
    other.logout()
    m.logout()


def next_command():
    """Fifty times each: a change acknowledged to its maker (SMTP 250, another session's
    tagged OK), then at once a NOOP here, which must carry it."""
    m = login()
    other = login_tls()
    out("SELECT", *m.select("INBOX"))
    count = 0
    for i in range(50):
        deliver("delivered %d" % i)
        count += 1
        lines = raw(m, b"NOOP")
        if (b"* %d EXISTS\r\n" % count) not in lines:
            out("MISSED-DELIVERY", i, lines)
        other.append("INBOX", None, None, message("appended %d" % i))
        count += 1
        lines = raw(m, b"NOOP")
        if (b"* %d EXISTS\r\n" % count) not in lines:
            out("MISSED-APPEND", i, lines)
    out("COUNT", count)
    other.logout()
    m.logout()


def multi_session():
    seed(message("one"), message("two"), message("three"))
    a = login()
    b = login()
    out("A-SELECT", *a.select("INBOX"))
    out("B-SELECT", *b.select("INBOX"))
    out("A-STORE", *a.store("1", "+FLAGS", r"(\Flagged)"))
    out("B-NOOP", raw(b, b"NOOP"))
    out("A-DELETE", *a.store("1", "+FLAGS.SILENT", r"(\Deleted)"))
    out("A-EXPUNGE", *a.expunge())
    # B still numbers the messages as before the expunge until it is told.
    out("B-FETCH", raw(b, b"FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    out("B-NOOP2", raw(b, b"NOOP"))
    out("B-FETCH2", raw(b, b"FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    a.logout()
    b.logout()


SCENARIOS = {
    f.__name__: f
    for f in [
        starttls_login,
        plaintext_login,
        append_fetch,
        store_search,
        copy_move_expunge,
        idle,
        cross_pop3,
        multi_session,
        recent,
        next_command,
    ]
}

if __name__ == "__main__":
    socket.setdefaulttimeout(TIMEOUT)
    SCENARIOS[sys.argv[1]]()
    print("done", flush=True)
