//! Issue 19, IMAP in the mail server: the real `mail-server` binary on loopback, used by
//! peers we did not write (Python's `imaplib`, with `smtplib` and `poplib` for the other
//! protocols, and `curl`), and by a raw connection where the limits are breached. Every test
//! starts its own server with a temporary `--data` directory and asserts what the client
//! received, byte for byte where the bytes are defined.
//!
//! The Python side is `support/imap_scenarios.py`: one scenario per test, printing each
//! step's result as Python's `repr`, which this file checks.

mod imap_support;
mod support;

use std::thread;
use std::time::{Duration, Instant};

use imap_support::*;
use support::*;

fn start(tag: &str, extra: &[&str]) -> (TempDir, ImapServer) {
    let dir = TempDir::new(tag);
    let mut args = users();
    args.extend(extra.iter().map(|s| s.to_string()));
    let server = ImapServer::start(&dir.path().join("data"), &args);
    (dir, server)
}

// ---- imaplib ----

/// Before TLS the server announces STARTTLS and LOGINDISABLED and refuses LOGIN with
/// `NO [PRIVACYREQUIRED]` (RFC 9051 sections 6.2.3 and 7.1); after imaplib's STARTTLS the
/// login works, and CAPABILITY lists what the issue asks for.
#[test]
fn imaplib_starttls_then_login_and_no_login_before_tls() {
    if !have_imaplib() {
        return;
    }
    let (_dir, server) = start("imap-starttls", &[]);
    let out = scenario(&server, "starttls_login");
    let plain = step(&out, "PLAIN-CAPS");
    for cap in ["'IMAP4REV1'", "'STARTTLS'", "'LOGINDISABLED'"] {
        assert!(plain.contains(cap), "{cap} missing before TLS: {plain}");
    }
    assert!(!plain.contains("AUTH="), "no AUTH= before TLS: {plain}");
    // imaplib raises the text of a NO as it is (a BAD would read "LOGIN command error: BAD").
    let refused = step(&out, "PLAIN-LOGIN");
    assert!(refused.starts_with("\"b'[PRIVACYREQUIRED] "), "{refused}");
    let tls = step(&out, "TLS-CAPS");
    // SASL-IR is about AUTHENTICATE, so it is announced before login only.
    assert!(
        tls.contains("'AUTH=PLAIN'") && tls.contains("'SASL-IR'"),
        "{tls}"
    );
    assert!(!tls.contains("STARTTLS"), "{tls}");
    assert!(!tls.contains("LOGINDISABLED"), "{tls}");
    assert!(step(&out, "LOGIN").starts_with("'OK' "), "{out}");
    let caps = step(&out, "CAPABILITY");
    let caps_words: Vec<&str> = caps
        .strip_prefix("'OK' [b'")
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("CAPABILITY: {caps}"))
        .split(' ')
        .collect();
    for cap in IMAP_CAPABILITIES_ASKED.iter().chain(&["IMAP4rev2"]) {
        assert!(
            caps_words.iter().any(|w| w.eq_ignore_ascii_case(cap)),
            "{cap} is not advertised after login: {caps}"
        );
    }
    assert!(
        caps_words.iter().any(|w| w
            .strip_prefix("APPENDLIMIT=")
            .is_some_and(|n| n.parse::<u64>().is_ok())),
        "APPENDLIMIT=n is not advertised after login: {caps}"
    );
    assert!(step(&out, "LOGOUT").starts_with("'BYE' "), "{out}");
}

/// `--allow-plaintext-auth` lifts LOGINDISABLED: imaplib logs in without TLS.
#[test]
fn allow_plaintext_auth_lets_imaplib_log_in_without_tls() {
    if !have_imaplib() {
        return;
    }
    let (_dir, server) = start("imap-plainauth", &["--allow-plaintext-auth"]);
    let out = scenario(&server, "plaintext_login");
    let plain = step(&out, "PLAIN-CAPS");
    assert!(!plain.contains("LOGINDISABLED"), "{plain}");
    assert!(plain.contains("'AUTH=PLAIN'"), "{plain}");
    assert!(step(&out, "LOGIN").starts_with("'OK' "), "{out}");
    assert_eq!(step(&out, "SELECT"), "'OK' [b'0']", "{out}");
}

/// APPEND with flags and a date (APPENDUID), then FETCH of the whole body, the header with
/// PEEK (no `\Seen`), partial bodies, ENVELOPE and BODYSTRUCTURE of a multipart message, a
/// part and its MIME header. The expected ENVELOPE and BODYSTRUCTURE are what Dovecot 2.3
/// answers for the same message.
#[test]
fn imaplib_append_fetch_envelope_and_bodystructure() {
    if !have_imaplib() {
        return;
    }
    let (_dir, server) = start("imap-fetch", &[]);
    let out = scenario(&server, "append_fetch");
    let validity = step(&out, "UIDVALIDITY");
    let validity = validity
        .strip_prefix("('UIDVALIDITY', [b'")
        .and_then(|v| v.strip_suffix("'])"))
        .unwrap_or_else(|| panic!("UIDVALIDITY: {validity}"));
    assert!(validity.parse::<u32>().is_ok_and(|v| v > 0), "{validity}");
    for (name, uid) in [("APPEND1", 1), ("APPEND2", 2)] {
        let appended = step(&out, name);
        assert!(
            appended.starts_with(&format!("'OK' [b'[APPENDUID {validity} {uid}] ")),
            "{name}: {appended}"
        );
    }
    assert_eq!(step(&out, "SELECT"), "'OK' [b'2']");
    let flags = "'OK' [b'1 (FLAGS ($Important \\\\Flagged))']";
    assert_eq!(sorted_flags(step(&out, "FLAGS0")), flags);
    assert_eq!(
        step(&out, "PEEK-HEADER"),
        "'OK' [(b'1 (BODY[HEADER] {157}', b'From: Ann Example <ann@example.org>\\r\\n\
         To: Alice <alice@localhost>\\r\\nSubject: hello one\\r\\n\
         Date: Mon, 7 Dec 2026 10:00:00 +0000\\r\\nMessage-ID: <one@example.org>\\r\\n\\r\\n'), b')']"
    );
    // PEEK left the flags alone.
    assert_eq!(sorted_flags(step(&out, "FLAGS1")), flags);
    // A short string may come as a literal or quoted (RFC 9051 section 4.3).
    assert_short_string(step(&out, "PARTIAL"), "1 (BODY[]<0>", "From: Ann ");
    assert_short_string(step(&out, "PARTIAL-TEXT"), "1 (BODY[TEXT]<6>", "body");
    // BODY[] sets \Seen, and the FETCH says so (RFC 9051 section 6.4.5).
    let body = step(&out, "BODY");
    assert!(body.contains("BODY[] {189}"), "{body}");
    assert!(
        body.contains(
            "b'From: Ann Example <ann@example.org>\\r\\nTo: Alice <alice@localhost>\\r\\n\
             Subject: hello one\\r\\nDate: Mon, 7 Dec 2026 10:00:00 +0000\\r\\n\
             Message-ID: <one@example.org>\\r\\n\\r\\nFirst body line.\\r\\nSecond line.\\r\\n'"
        ),
        "{body}"
    );
    assert!(body.contains("\\\\Seen"), "no FLAGS with \\Seen: {body}");
    assert_eq!(
        sorted_flags(step(&out, "FLAGS2")),
        "'OK' [b'1 (FLAGS ($Important \\\\Flagged \\\\Seen))']"
    );
    assert_eq!(
        step(&out, "ATTRS"),
        "'OK' [b'1 (UID 1 RFC822.SIZE 189 INTERNALDATE \"07-Dec-2026 10:00:00 +0000\")']"
    );
    assert_eq!(
        step(&out, "ENVELOPE"),
        "'OK' [b'2 (ENVELOPE (\"Tue, 8 Dec 2026 11:30:00 +0100\" \"the report\" \
         ((\"Bob\" NIL \"bob\" \"example.net\")) ((\"Bob\" NIL \"bob\" \"example.net\")) \
         ((\"Bob\" NIL \"bob\" \"example.net\")) \
         ((\"Alice\" NIL \"alice\" \"localhost\")(NIL NIL \"carol\" \"example.com\")) \
         ((\"Dan\" NIL \"dan\" \"example.com\")) NIL \"<one@example.org>\" \
         \"<two@example.net>\"))']"
    );
    // Strings of BODYSTRUCTURE are case-insensitive where they are MIME tokens.
    assert_eq!(
        step(&out, "BODYSTRUCTURE").to_ascii_lowercase(),
        "'ok' [b'2 (bodystructure ((\"text\" \"plain\" (\"charset\" \"us-ascii\") nil nil \
         \"7bit\" 11 0 nil nil nil nil)(\"application\" \"octet-stream\" (\"name\" \"a.bin\") \
         nil nil \"base64\" 8 nil (\"attachment\" (\"filename\" \"a.bin\")) nil nil) \
         \"mixed\" (\"boundary\" \"xyz\") nil nil nil))']"
    );
    assert_short_string(step(&out, "PART2"), "2 (BODY[2]", "AAECAw==");
    assert_eq!(
        step(&out, "PART2-MIME"),
        "'OK' [(b'2 (BODY[2.MIME] {142}', b'Content-Type: application/octet-stream; \
         name=\"a.bin\"\\r\\nContent-Transfer-Encoding: base64\\r\\n\
         Content-Disposition: attachment; filename=\"a.bin\"\\r\\n\\r\\n'), b')']"
    );
}

/// Checks imaplib's result for a FETCH of one item whose value is `data` (no CR, LF or
/// quote in it): `'OK' [(b'ITEM {n}', b'DATA'), b')']` when it came as a literal, `'OK'
/// [b'ITEM "DATA")']` when quoted.
fn assert_short_string(got: &str, item: &str, data: &str) {
    let literal = format!("'OK' [(b'{item} {{{}}}', b'{data}'), b')']", data.len());
    let quoted = format!("'OK' [b'{item} \"{data}\")']");
    assert!(
        got == literal || got == quoted,
        "expected {literal} or {quoted}, got {got}"
    );
}

/// STORE (+FLAGS, -FLAGS.SILENT, keywords, FLAGS replacing), then SEARCH with several keys
/// and UID SEARCH.
#[test]
fn imaplib_store_and_search() {
    if !have_imaplib() {
        return;
    }
    let (_dir, server) = start("imap-search", &[]);
    let out = scenario(&server, "store_search");
    let expect = [
        ("SELECT", "'OK' [b'3']"),
        ("STORE-FLAGGED", "'OK' [b'1 (FLAGS (\\\\Flagged))']"),
        ("STORE-SEEN-SILENT", "'OK' [None]"),
        ("STORE-UNSEEN-SILENT", "'OK' [None]"),
        ("STORE-KEYWORDS", "'OK' [b'3 (FLAGS ($Work custom1))']"),
        ("STORE-REPLACE", "'OK' [b'3 (FLAGS ($Work \\\\Seen))']"),
        (
            "FLAGS",
            "'OK' [b'1 (FLAGS (\\\\Flagged))', b'2 (FLAGS (\\\\Answered))', \
             b'3 (FLAGS ($Work \\\\Seen))']",
        ),
        ("SEARCH-FLAGGED", "'OK' [b'1']"),
        ("SEARCH-FROM-UNSEEN", "'OK' [b'2']"),
        ("SEARCH-OR", "'OK' [b'1 3']"),
        ("SEARCH-KEYWORD", "'OK' [b'3']"),
        ("SEARCH-LARGER", "'OK' [b'2']"),
        ("SEARCH-BODY", "'OK' [b'2']"),
        ("SEARCH-ANSWERED-NOT-DELETED", "'OK' [b'2']"),
        ("SEARCH-SEQ", "'OK' [b'2']"),
        ("UID-SEARCH-ALL", "'OK' [b'1 2 3']"),
        ("UID-SEARCH-RANGE", "'OK' [b'2 3']"),
    ];
    for (name, expected) in expect {
        assert_eq!(sorted_flags(step(&out, name)), expected, "{name}:\n{out}");
    }
}

/// COPY (COPYUID), COPY to a missing folder (TRYCREATE), UID MOVE (COPYUID then EXPUNGE),
/// EXPUNGE, then STATUS and the folders' contents with their UIDs.
#[test]
fn imaplib_copy_uid_move_and_expunge() {
    if !have_imaplib() {
        return;
    }
    let (_dir, server) = start("imap-move", &[]);
    let out = scenario(&server, "copy_move_expunge");
    assert_eq!(step(&out, "SELECT"), "'OK' [b'3']");
    let copy = step(&out, "COPY");
    assert!(copy.starts_with("'OK' [b'[COPYUID "), "{copy}");
    assert!(copy.contains(" 1:2 1:2] "), "{copy}");
    let missing = step(&out, "COPY-MISSING");
    assert!(missing.starts_with("'NO' [b'[TRYCREATE] "), "{missing}");
    let moved = step(&out, "UID-MOVE");
    let lines: Vec<&str> = moved
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(", ")
        .collect();
    assert_eq!(lines.len(), 3, "{moved}");
    assert!(lines[0].starts_with("b'* OK [COPYUID "), "{moved}");
    assert!(lines[0].contains(" 3 1] "), "{moved}");
    assert_eq!(lines[1], "b'* 3 EXPUNGE\\r\\n'", "{moved}");
    assert!(lines[2].starts_with("b'R1 OK "), "{moved}");
    assert_eq!(step(&out, "STORE"), "'OK' [b'1 (FLAGS (\\\\Deleted))']");
    assert_eq!(step(&out, "EXPUNGE"), "'OK' [b'1']");
    assert_eq!(
        step(&out, "STATUS-INBOX"),
        "'OK' [b'INBOX (MESSAGES 1 UIDNEXT 4)']"
    );
    assert_eq!(
        step(&out, "STATUS-ARCHIVE"),
        "'OK' [b'Archive (MESSAGES 2 UIDNEXT 3)']"
    );
    assert_eq!(
        step(&out, "STATUS-TRASH"),
        "'OK' [b'Trash (MESSAGES 1 UIDNEXT 2)']"
    );
    assert_eq!(
        step(&out, "INBOX-LEFT"),
        "'OK' [(b'1 (UID 2 BODY[HEADER.FIELDS (SUBJECT)] {16}', b'Subject: two\\r\\n\\r\\n'), b')']"
    );
    assert_eq!(
        step(&out, "TRASH"),
        "'OK' [(b'1 (UID 1 BODY[HEADER.FIELDS (SUBJECT)] {18}', b'Subject: three\\r\\n\\r\\n'), b')']"
    );
    assert_eq!(
        step(&out, "ARCHIVE"),
        "'OK' [(b'1 (UID 1 BODY[HEADER.FIELDS (SUBJECT)] {16}', b'Subject: one\\r\\n\\r\\n'), \
         b')', (b'2 (UID 2 BODY[HEADER.FIELDS (SUBJECT)] {16}', b'Subject: two\\r\\n\\r\\n'), b')']"
    );
}

/// IDLE by raw commands on an imaplib connection: an APPEND by a second imaplib client (over
/// implicit TLS), an SMTP delivery (smtplib), another session's STORE and a POP3 DELE+QUIT
/// each reach the IDLE session without it sending anything; DONE ends the IDLE with a
/// tagged OK.
#[test]
fn idle_hears_an_append_a_delivery_a_flag_change_and_a_pop3_deletion() {
    if !have_imaplib() {
        return;
    }
    let (_dir, server) = start("imap-idle", &[]);
    let out = scenario(&server, "idle");
    assert!(
        step(&out, "APPEND").starts_with("'OK' [b'[APPENDUID "),
        "{out}"
    );
    // Each new message is \Recent to the one session with INBOX selected: the new count
    // follows each size change (RFC 3501 section 7.3.2).
    assert_eq!(
        step(&out, "IDLE-APPEND"),
        "[b'* 2 EXISTS\\r\\n', b'* 1 RECENT\\r\\n']",
        "{out}"
    );
    assert_eq!(
        step(&out, "IDLE-SMTP"),
        "[b'* 3 EXISTS\\r\\n', b'* 2 RECENT\\r\\n']",
        "{out}"
    );
    assert_eq!(
        step(&out, "IDLE-FLAGS"),
        "[b'* 1 FETCH (FLAGS (\\\\Flagged))\\r\\n']",
        "{out}"
    );
    assert!(step(&out, "POP3-DELE").starts_with("b'+OK"), "{out}");
    assert!(step(&out, "POP3-QUIT").starts_with("b'+OK"), "{out}");
    assert_eq!(
        step(&out, "IDLE-POP3"),
        "[b'* 3 EXPUNGE\\r\\n', b'* 1 RECENT\\r\\n']",
        "{out}"
    );
    assert_eq!(
        step(&out, "DONE"),
        "[b'R1 OK IDLE terminated\\r\\n']",
        "{out}"
    );
    let fetched = step(&out, "FETCH");
    assert!(
        fetched.starts_with(
            "[b'* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {19}\\r\\nSubject: before\\r\\n\\r\\n)\\r\\n', \
             b'* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {32}\\r\\nSubject: from another client\\r\\n\\r\\n)\\r\\n', b'R"
        ),
        "{out}"
    );
}

// ---- curl ----

/// curl lists the folders and fetches a message by UID over STARTTLS (`imap://` with
/// `--ssl-reqd`) and implicit TLS (`imaps://`), and APPENDs with `--upload-file`.
#[test]
fn curl_lists_fetches_by_uid_and_appends() {
    if !have_imaplib() || !have_curl() {
        return;
    }
    let (dir, server) = start("imap-curl", &[]);
    let user = format!("{ALICE}:{ALICE_PASSWORD}");
    let message = b"From: Carl <carl@example.org>\r\nSubject: uploaded by curl\r\n\r\nbody\r\n";
    let file = dir.path().join("upload.eml");
    std::fs::write(&file, message).unwrap();
    let file = file.to_str().unwrap();
    let stls = format!("imap://127.0.0.1:{}/", server.imap);
    let implicit = format!("imaps://127.0.0.1:{}/", server.imaps);
    let base = ["-sS", "-k", "--max-time", "20", "--user", &user];
    // APPEND over STARTTLS.
    let upload = format!("{stls}INBOX");
    let (ok, _, err) = curl(&[&base[..], &["--ssl-reqd", "--upload-file", file, &upload]].concat());
    assert!(
        ok,
        "curl --upload-file {upload}: {err}\n{}",
        server.server.logs()
    );
    for url in [&stls, &implicit] {
        let mut args = base.to_vec();
        if url.starts_with("imap:") {
            args.push("--ssl-reqd");
        }
        let (ok, listed, err) = curl(&[&args[..], &[url.as_str()]].concat());
        assert!(ok, "curl {url}: {err}");
        let listed = String::from_utf8_lossy(&listed);
        for folder in ["INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"] {
            assert!(
                listed
                    .lines()
                    .any(|l| l.starts_with("* LIST (") && l.ends_with(&format!(" \"/\" {folder}"))),
                "{folder} not listed by {url}:\n{listed}"
            );
        }
        let one = format!("{url}INBOX;UID=1");
        let (ok, fetched, err) = curl(&[&args[..], &[one.as_str()]].concat());
        assert!(ok, "curl {one}: {err}");
        assert_eq!(fetched, message, "curl {one}");
    }
}

// ---- the other protocols, other sessions ----

/// POP3 and IMAP over one store: POP3's RETR sets `\Seen` and its DELE+QUIT expunges, both
/// told to an IMAP session with INBOX selected at its next NOOP; IMAP's `\Seen` is in the
/// Maildir name for POP3, and IMAP's EXPUNGE removes the message from the next POP3 session.
#[test]
fn pop3_and_imap_see_one_store() {
    if !have_imaplib() {
        return;
    }
    let (_dir, server) = start("imap-pop3", &[]);
    let out = scenario(&server, "cross_pop3");
    assert_eq!(step(&out, "SELECT"), "'OK' [b'2']");
    assert!(step(&out, "POP3-QUIT").starts_with("b'+OK"), "{out}");
    let noop = step(&out, "NOOP");
    assert!(noop.contains("b'* 2 EXPUNGE\\r\\n'"), "{out}");
    assert!(
        noop.contains("b'* 1 FETCH (FLAGS (\\\\Seen))\\r\\n'"),
        "RETR's \\Seen not told: {out}"
    );
    let flags = step(&out, "FLAGS");
    assert!(
        flags.starts_with("[b'* 1 FETCH (FLAGS (\\\\Seen))\\r\\n'"),
        "{out}"
    );
    assert!(step(&out, "NOOP2").contains("b'* 2 EXISTS\\r\\n'"), "{out}");
    // The third message arrived while INBOX was selected: it is \Recent to this session
    // (RFC 3501 section 2.3.2). The order of flags in a list is free (RFC 3501 section
    // 7.2.6): the list is compared sorted.
    let seen = sorted_flags(step(&out, "STORE-SEEN"));
    assert!(
        seen.starts_with("[b'* 2 FETCH (FLAGS (\\\\Recent \\\\Seen))\\r\\n', b'R"),
        "{out}"
    );
    assert!(step(&out, "POP3-STAT2").starts_with("(2, "), "{out}");
    assert!(
        step(&out, "EXPUNGE").starts_with("[b'* 1 EXPUNGE\\r\\n'"),
        "{out}"
    );
    assert!(step(&out, "POP3-STAT3").starts_with("(1, "), "{out}");
    assert!(
        step(&out, "POP3-TOP3").contains("b'Subject: third'"),
        "{out}"
    );
    // On disk: the one message left is seen (`:2,S`) in cur/, as any Maildir reader sees it.
    let data = &server.server.data;
    assert!(maildir_names(data, ALICE, "new").is_empty());
    let cur = maildir_names(data, ALICE, "cur");
    assert_eq!(cur.len(), 1, "{cur:?}");
    assert!(cur[0].ends_with(":2,S"), "{cur:?}");
}

/// IMAP4rev1's `\Recent` (RFC 3501 sections 2.3.2 and 7.3.2): a message that arrives while a
/// session has INBOX selected is recent to that session, announced with `* n RECENT` beside
/// `* n EXISTS` and shown in its FLAGS, and to no later session.
#[test]
fn a_message_arriving_during_a_session_is_recent_to_it() {
    if !have_imaplib() {
        return;
    }
    let (_dir, server) = start("imap-recent", &[]);
    let out = scenario(&server, "recent");
    let select = step(&out, "SELECT");
    assert!(
        select.contains("b'* 1 EXISTS\\r\\n'") && select.contains("b'* 0 RECENT\\r\\n'"),
        "{out}"
    );
    let noop = step(&out, "NOOP");
    assert!(noop.contains("b'* 2 EXISTS\\r\\n'"), "{out}");
    assert!(noop.contains("b'* 1 RECENT\\r\\n'"), "no * 1 RECENT: {out}");
    assert!(
        step(&out, "FLAGS").starts_with(
            "[b'* 1 FETCH (FLAGS ())\\r\\n', b'* 2 FETCH (FLAGS (\\\\Recent))\\r\\n', b'R"
        ),
        "{out}"
    );
    let other = step(&out, "OTHER-SELECT");
    assert!(
        other.contains("b'* 2 EXISTS\\r\\n'") && other.contains("b'* 0 RECENT\\r\\n'"),
        "{out}"
    );
}

/// A change acknowledged to the client that made it (SMTP's 250, another IMAP session's
/// tagged OK) is in the very next command's answer of a session with the folder selected:
/// fifty times over for each kind, a NOOP sent at once carries the `* n EXISTS`. (A session
/// that lets a command overtake the changes queued before it misses one now and then: the
/// loop makes that visible.)
#[test]
fn the_next_command_after_an_acknowledged_change_carries_it() {
    if !have_imaplib() {
        return;
    }
    let (_dir, server) = start("imap-next", &[]);
    let out = scenario(&server, "next_command");
    assert!(out.contains("COUNT 100\n"), "{out}");
    assert!(!out.contains("MISSED"), "{out}");
}

/// Two imaplib sessions on INBOX: a flag set by one reaches the other at its NOOP; after one
/// expunges, the other still FETCHes by its old sequence numbers (no EXPUNGE during a FETCH,
/// RFC 9051 section 7.5.1) until its NOOP tells it.
#[test]
fn two_sessions_on_inbox_see_each_others_changes() {
    if !have_imaplib() {
        return;
    }
    let (_dir, server) = start("imap-multi", &[]);
    let out = scenario(&server, "multi_session");
    assert_eq!(step(&out, "A-SELECT"), "'OK' [b'3']");
    assert_eq!(step(&out, "B-SELECT"), "'OK' [b'3']");
    assert_eq!(step(&out, "A-STORE"), "'OK' [b'1 (FLAGS (\\\\Flagged))']");
    let noop = step(&out, "B-NOOP");
    assert!(
        noop.starts_with("[b'* 1 FETCH (") && noop.contains("FLAGS (\\\\Flagged)"),
        "{out}"
    );
    assert_eq!(step(&out, "A-EXPUNGE"), "'OK' [b'1']");
    let fetch = step(&out, "B-FETCH");
    assert!(
        fetch.starts_with(
            "[b'* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {16}\\r\\nSubject: two\\r\\n\\r\\n)\\r\\n'"
        ),
        "{out}"
    );
    assert!(!fetch.contains("EXPUNGE"), "EXPUNGE during FETCH: {out}");
    assert!(
        step(&out, "B-NOOP2").starts_with("[b'* 1 EXPUNGE\\r\\n'"),
        "{out}"
    );
    let after = step(&out, "B-FETCH2");
    assert!(
        after.starts_with(
            "[b'* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {16}\\r\\nSubject: two\\r\\n\\r\\n)\\r\\n', \
             b'* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {18}\\r\\nSubject: three\\r\\n\\r\\n)\\r\\n', b'R"
        ),
        "{out}"
    );
}

// ---- limits ----

/// Waits for the log line of a session the server ended with its own `* BYE` for `reason`,
/// and checks that no session's end was logged as the machine's "server shutting down"
/// instead.
fn assert_closed_for(server: &ImapServer, reason: &str) {
    let wanted = format!("reason=\"{reason}\"");
    poll("the log line of the close", || {
        server
            .server
            .stderr()
            .lines()
            .find(|l| l.contains("imap session closed") && l.contains(&wanted))?;
        Some(())
    });
    assert!(
        !server.server.stderr().contains("server shutting down"),
        "{}",
        server.server.logs()
    );
}

/// A raw session logged in before TLS (the server runs with `--allow-plaintext-auth`).
fn alice_raw(server: &ImapServer) -> RawImap {
    RawImap::logged_in(server.imap, ALICE, ALICE_PASSWORD)
}

/// A command line over the 64 KiB limit is answered `BAD` with its tag and skipped; the
/// session goes on.
#[test]
fn a_command_line_over_the_limit_is_answered_bad() {
    let (_dir, server) = start("imap-line", &["--allow-plaintext-auth"]);
    let mut conn = alice_raw(&server);
    let long = "x".repeat(70 * 1024);
    let lines = conn.cmd("a1", &format!("NOOP {long}"));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("a1 BAD "), "{lines:?}");
    assert!(lines[0].len() < 200, "{lines:?}");
    let lines = conn.cmd("a2", "NOOP");
    assert!(lines.last().unwrap().starts_with("a2 OK"), "{lines:?}");
}

/// A literal over the 64 KiB limit is refused before the client sends it: `NO [TOOBIG]`, no
/// continuation; the session goes on.
#[test]
fn a_literal_over_the_limit_is_refused_toobig() {
    let (_dir, server) = start("imap-literal", &["--allow-plaintext-auth"]);
    let mut conn = alice_raw(&server);
    conn.cmd("a1", "SELECT INBOX");
    conn.send("a2 SEARCH TEXT {70000}\r\n");
    let line = conn.line().expect("an answer");
    assert!(line.starts_with("a2 NO [TOOBIG]"), "{line:?}");
    let lines = conn.cmd("a3", "NOOP");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("a3 OK"), "{lines:?}");
    // With LITERAL+ the client sends the data at once: the server skips all of it (a command
    // hidden in the data is not run) and stays in step.
    let mut data = "x".repeat(70_000 - 13);
    data.push_str("\r\nz1 LOGOUT\r\n");
    assert_eq!(data.len(), 70_000);
    conn.send(format!("a4 SEARCH TEXT {{70000+}}\r\n{data}\r\n"));
    let line = conn.line().expect("an answer");
    assert!(line.starts_with("a4 NO [TOOBIG]"), "{line:?}");
    let lines = conn.cmd("a5", "NOOP");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("a5 OK"), "{lines:?}");
}

/// APPENDLIMIT is `--max-message-size`: an APPEND of one octet more is refused with
/// `NO [TOOBIG]` before the data is sent (RFC 7889); the session goes on.
#[test]
fn an_append_over_appendlimit_is_refused_toobig() {
    let (_dir, server) = start(
        "imap-appendlimit",
        &["--allow-plaintext-auth", "--max-message-size", "20000"],
    );
    let mut conn = alice_raw(&server);
    let caps = conn.cmd("a1", "CAPABILITY");
    let limit: u64 = caps
        .iter()
        .flat_map(|l| l.split_whitespace())
        .find_map(|w| w.strip_prefix("APPENDLIMIT="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no APPENDLIMIT=n: {caps:?}"));
    assert_eq!(limit, 20000, "{caps:?}");
    conn.send(format!("a2 APPEND INBOX {{{}}}\r\n", limit + 1));
    let line = conn.line().expect("an answer");
    assert!(line.starts_with("a2 NO [TOOBIG]"), "{line:?}");
    let lines = conn.cmd("a3", "NOOP");
    assert!(lines.last().unwrap().starts_with("a3 OK"), "{lines:?}");
    // With LITERAL+ the message comes anyway: skipped, refused, and the session in step.
    let size = usize::try_from(limit + 1).unwrap();
    let mut message = b"Subject: too big\r\n\r\n".to_vec();
    message.resize(size, b'x');
    conn.send(format!("a4 APPEND INBOX {{{size}+}}\r\n"));
    conn.send(&message);
    conn.send("\r\n");
    let lines = conn.until_tagged("a4");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("a4 NO [TOOBIG]"), "{lines:?}");
    let lines = conn.cmd("a5", "NOOP");
    assert!(lines.last().unwrap().starts_with("a5 OK"), "{lines:?}");
    assert!(maildir_names(&server.server.data, ALICE, "new").is_empty());
    assert!(maildir_names(&server.server.data, ALICE, "cur").is_empty());
}

/// APPENDs `message` with a synchronising literal; returns the tagged answer (the server may
/// refuse before the data or after it).
fn append(conn: &mut RawImap, tag: &str, message: &[u8]) -> String {
    conn.send(format!("{tag} APPEND INBOX {{{}}}\r\n", message.len()));
    let first = conn.line().expect("an answer to APPEND");
    if first.starts_with('+') {
        conn.send(message);
        conn.send("\r\n");
        conn.until_tagged(tag).pop().unwrap()
    } else {
        first
    }
}

/// `--quota`: an APPEND that would pass the account's quota is refused with
/// `NO [OVERQUOTA]` (RFC 5530), and nothing of it is stored.
#[test]
fn an_append_over_quota_is_refused_overquota() {
    let (_dir, server) = start("imap-quota", &["--allow-plaintext-auth", "--quota", "5000"]);
    let mut conn = alice_raw(&server);
    let mut message = b"Subject: big\r\n\r\n".to_vec();
    message.extend(b"y".repeat(70).iter().chain(b"\r\n").cycle().take(3000));
    let first = append(&mut conn, "a1", &message);
    assert!(first.starts_with("a1 OK [APPENDUID "), "{first:?}");
    let second = append(&mut conn, "a2", &message);
    assert!(second.starts_with("a2 NO [OVERQUOTA]"), "{second:?}");
    let lines = conn.cmd("a3", "STATUS INBOX (MESSAGES)");
    assert!(
        lines.iter().any(|l| l == "* STATUS INBOX (MESSAGES 1)\r\n"),
        "{lines:?}"
    );
}

/// `--max-connections-per-ip` on the IMAP listener: the connection over the count is told
/// `* BYE` and closed; the others are served.
#[test]
fn a_connection_over_the_per_address_limit_gets_bye() {
    let (_dir, server) = start(
        "imap-perip",
        &["--max-connections-per-ip", "2", "--limit-loopback"],
    );
    let mut first = RawImap::greeted(server.imap);
    let mut second = RawImap::greeted(server.imap);
    let mut third = RawImap::connect(server.imap);
    assert_eq!(
        third.until_eof(),
        "* BYE [UNAVAILABLE] Too many connections from your address\r\n"
    );
    for conn in [&mut first, &mut second] {
        let lines = conn.cmd("a1", "NOOP");
        assert!(lines.last().unwrap().starts_with("a1 OK"), "{lines:?}");
    }
}

/// `--imap-max-pending`: a session with INBOX selected that sends nothing while more changes
/// happen than its view may queue ends with `* BYE [ALERT]`; the server stays healthy: a new
/// session selects INBOX and sees every message.
#[test]
fn a_session_that_falls_behind_ends_with_bye_and_the_server_stays_healthy() {
    let (_dir, server) = start(
        "imap-pending",
        &["--allow-plaintext-auth", "--imap-max-pending", "50"],
    );
    let mut sleeper = alice_raw(&server);
    let lines = sleeper.cmd("s1", "SELECT INBOX");
    assert!(lines.last().unwrap().starts_with("s1 OK"), "{lines:?}");
    let count = 80;
    let mut appender = alice_raw(&server);
    // One MULTIAPPEND with non-synchronising literals (LITERAL+).
    let mut command = b"m1 APPEND INBOX".to_vec();
    for i in 0..count {
        let message = format!("Subject: {i}\r\n\r\nx\r\n");
        command.extend(format!(" {{{}+}}\r\n", message.len()).bytes());
        command.extend(message.bytes());
    }
    command.extend(b"\r\n");
    appender.send(&command);
    let done = appender.until_tagged("m1");
    assert!(done.last().unwrap().starts_with("m1 OK"), "{done:?}");
    let rest = sleeper.until_eof();
    let bye: Vec<&str> = rest
        .lines()
        .filter(|l| l.starts_with("* BYE [ALERT] "))
        .collect();
    assert_eq!(bye.len(), 1, "{rest:?}");
    assert!(
        rest.ends_with("\r\n") && rest.lines().last() == bye.last().copied(),
        "{rest:?}"
    );
    // The machine's view or the store's queue may be the first to overflow: either way the
    // session's last log line gives the overflow as its reason, never a shutdown.
    assert_closed_for(&server, "too many changes queued for the selected mailbox");
    let mut fresh = alice_raw(&server);
    let lines = fresh.cmd("f1", "SELECT INBOX");
    assert!(
        lines.iter().any(|l| *l == format!("* {count} EXISTS\r\n")),
        "{lines:?}"
    );
    assert!(lines.last().unwrap().starts_with("f1 OK"), "{lines:?}");
}

/// SELECT's `OK [UNSEEN n]` and FETCH's `\Seen` over more messages than the service reads
/// from the index at once: of 300 messages the first 260 are seen, SELECT names the 261st;
/// a FETCH of every body sets `\Seen` on the 40 others, each answer carrying its new flags,
/// after which no message is unseen.
#[test]
fn unseen_and_fetch_seen_hold_across_index_batches() {
    let (_dir, server) = start("imap-unseen", &["--allow-plaintext-auth"]);
    let mut alice = alice_raw(&server);
    let count = 300;
    let mut command = b"m1 APPEND INBOX".to_vec();
    for i in 1..=count {
        let message = format!("Subject: {i}\r\n\r\nx\r\n");
        command.extend(format!(" {{{}+}}\r\n", message.len()).bytes());
        command.extend(message.bytes());
    }
    command.extend(b"\r\n");
    alice.send(&command);
    let done = alice.until_tagged("m1");
    assert!(done.last().unwrap().starts_with("m1 OK"), "{done:?}");
    let lines = alice.cmd("s1", "SELECT INBOX");
    assert!(
        lines.iter().any(|l| l.starts_with("* OK [UNSEEN 1] ")),
        "{lines:?}"
    );
    let lines = alice.cmd("s2", "STORE 1:260 +FLAGS.SILENT (\\Seen)");
    assert_eq!(
        lines.last().unwrap(),
        "s2 OK STORE completed\r\n",
        "{lines:?}"
    );
    let lines = alice.cmd("s3", "SELECT INBOX");
    assert!(
        lines.iter().any(|l| l.starts_with("* OK [UNSEEN 261] ")),
        "{lines:?}"
    );
    let lines = alice.cmd("f1", "FETCH 1:* (BODY[])");
    assert_eq!(lines.last().unwrap(), "f1 OK FETCH completed\r\n");
    let fetched = lines.iter().filter(|l| l.starts_with("* ")).count();
    assert_eq!(fetched, count, "{lines:?}");
    let newly_seen = lines
        .iter()
        .filter(|l| l.contains("FLAGS (") && l.contains("\\Seen"))
        .count();
    assert_eq!(newly_seen, 40, "{lines:?}");
    assert_eq!(
        alice.cmd("f2", "SEARCH UNSEEN"),
        ["* SEARCH\r\n", "f2 OK SEARCH completed\r\n"]
    );
}

/// What a client that has not logged in sees for `tag SELECT INBOX`.
fn before_login(tag: &str) -> String {
    format!("{tag} BAD Command not permitted before login\r\n")
}

/// The machine's last line to a client past the junk limit.
const TOO_MANY: &str = "* BYE Too many invalid commands\r\n";

/// Junk before login ends a session; after login it does not (the listener rules: junk
/// limits hold before login only; RFC 9051 puts no limit on a logged-in client's errors).
/// With `--max-errors 3`, a client that has not logged in has its fourth command answered
/// `BAD` and then `* BYE`, and the connection ends; a client that was answered `BAD` twice
/// before its LOGIN is answered `BAD` ten times more after it and still served.
#[test]
fn commands_answered_bad_end_a_session_before_login_only() {
    let (_dir, server) = start(
        "imap-junk",
        &["--allow-plaintext-auth", "--max-errors", "3"],
    );
    let mut junk = RawImap::greeted(server.imap);
    for tag in ["j1", "j2", "j3"] {
        assert_eq!(junk.cmd(tag, "SELECT INBOX"), [before_login(tag)]);
    }
    junk.send("j4 SELECT INBOX\r\n");
    assert_eq!(
        junk.until_eof(),
        format!("{}{TOO_MANY}", before_login("j4"))
    );

    let mut alice = RawImap::greeted(server.imap);
    for tag in ["a1", "a2"] {
        assert_eq!(alice.cmd(tag, "SELECT INBOX"), [before_login(tag)]);
    }
    let login = alice.cmd("a3", &format!("LOGIN {ALICE} {ALICE_PASSWORD}"));
    assert!(login.last().unwrap().starts_with("a3 OK"), "{login:?}");
    for i in 4..14 {
        let tag = format!("a{i}");
        assert_eq!(
            alice.cmd(&tag, "FETCH 1 (FLAGS)"),
            [format!("{tag} BAD No mailbox selected\r\n")]
        );
    }
    let lines = alice.cmd("a14", "NOOP");
    assert_eq!(
        lines.last().unwrap(),
        "a14 OK NOOP completed\r\n",
        "{lines:?}"
    );
}

/// `--max-junk-commands` is IMAP's junk limit before login too, and the lower of it and
/// `--max-errors` holds: with 2, the third command answered `BAD` ends the session.
#[test]
fn max_junk_commands_limits_bad_commands_before_login() {
    let (_dir, server) = start("imap-junk2", &["--max-junk-commands", "2"]);
    let mut junk = RawImap::greeted(server.imap);
    for tag in ["j1", "j2"] {
        assert_eq!(junk.cmd(tag, "SELECT INBOX"), [before_login(tag)]);
    }
    junk.send("j3 SELECT INBOX\r\n");
    assert_eq!(
        junk.until_eof(),
        format!("{}{TOO_MANY}", before_login("j3"))
    );
}

/// Stress mode shortens the login timeout and never the idle timeout after login (the
/// listener rules of issue 14; RFC 9051 section 5.4's 30 minutes). With a pool of four and a
/// stress threshold of 75%, two logged-in sessions and a third connection put the pool under
/// stress: the connection that has not logged in is closed with `* BYE` after the 1 s stress
/// command timeout (and not before), as is one that connects under stress, and the log says
/// why; the logged-in sessions, idle for longer than that, are still served.
#[test]
fn stress_closes_sessions_that_do_not_log_in_and_never_a_logged_in_one() {
    let (_dir, server) = start(
        "imap-timeouts",
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
    let mut alice = alice_raw(&server);
    let mut victim = RawImap::greeted(server.imap);
    // Three of four: the pool is under stress from here on.
    let started = Instant::now();
    let mut bob = RawImap::logged_in(server.imap, BOB, BOB_PASSWORD);
    // A session that starts under stress has the stress junk limit, 1, before login.
    let mut junk = RawImap::greeted(server.imap);
    assert_eq!(junk.cmd("j1", "SELECT INBOX"), [before_login("j1")]);
    junk.send("j2 SELECT INBOX\r\n");
    assert_eq!(
        junk.until_eof(),
        format!("{}{TOO_MANY}", before_login("j2"))
    );
    let rest = victim.until_eof();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(
        rest,
        "* BYE [UNAVAILABLE] Server busy and no login in time\r\n"
    );
    let started = Instant::now();
    let mut late = RawImap::greeted(server.imap);
    let rest = late.until_eof();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(
        rest.starts_with("* BYE ") && rest.ends_with("\r\n"),
        "{rest:?}"
    );
    // A logged-in session under stress is not held to the junk limit.
    for tag in ["b1", "b2", "b3"] {
        assert_eq!(
            bob.cmd(tag, "FETCH 1 (FLAGS)"),
            [format!("{tag} BAD No mailbox selected\r\n")]
        );
    }
    // Idle for longer than the stress timeout, after login: still served.
    thread::sleep(Duration::from_millis(1500));
    for (tag, conn) in [("a2", &mut alice), ("b2", &mut bob)] {
        let lines = conn.cmd(tag, "NOOP");
        assert!(
            lines.last().unwrap().starts_with(&format!("{tag} OK")),
            "{lines:?}"
        );
    }
    assert_closed_for(&server, "no login within the stress timeout");
}

// ---- the wrong mode on a port ----

/// A client set to implicit TLS on the STARTTLS port: the listener logs mail-tls's
/// diagnosis, naming this server's IMAP ports, and closes the connection after the greeting
/// (the client cannot read a plaintext explanation); the listener goes on serving.
#[test]
fn a_tls_client_on_the_starttls_port_is_diagnosed_in_the_log() {
    if !have_imaplib() {
        return;
    }
    let (_dir, server) = start("imap-tls-on-plain", &[]);
    let client = py_tls_hello(server.imap);
    let received = client[1].strip_prefix("received ").unwrap_or_default();
    assert!(received.starts_with("* OK "), "{client:?}");
    assert_eq!(received.matches('|').count(), 1, "{client:?}");
    assert!(client[2].starts_with("handshake failed"), "{client:?}");
    let imap = server.imap;
    let imaps = server.imaps;
    let line = poll("the diagnosis in the log", || {
        server
            .server
            .stderr()
            .lines()
            .find(|l| l.contains("connection closed: mode mismatch"))
            .map(str::to_owned)
    });
    assert!(
        line.contains(&format!(
            "the client started a TLS handshake (implicit TLS) on IMAP port {imap}"
        )),
        "{line}"
    );
    assert!(
        line.contains(&format!(
            "on this server: implicit TLS on port {imaps}, STARTTLS on port {imap}"
        )),
        "{line}"
    );
    let mut conn = RawImap::greeted(imap);
    let lines = conn.cmd("a1", "NOOP");
    assert!(lines.last().unwrap().starts_with("a1 OK"), "{lines:?}");
}

/// A plaintext client on the implicit-TLS port gets nothing in plaintext (at most a TLS
/// alert); the failed handshake is logged with mail-tls's diagnosis naming the port.
#[test]
fn a_plaintext_client_on_the_implicit_tls_port_gets_nothing() {
    let (_dir, server) = start("imap-plain-on-tls", &[]);
    let mut conn = RawImap::connect(server.imaps);
    conn.try_send("a1 CAPABILITY\r\n");
    // Nothing readable: at most a TLS alert record (content type 21, 7 octets) before the
    // close, never an IMAP line.
    let rest = conn.until_eof();
    assert!(
        rest.is_empty() || (rest.len() == 7 && rest.starts_with("\u{15}\u{3}")),
        "{rest:?}"
    );
    let line = poll("the failed handshake in the log", || {
        server
            .server
            .stderr()
            .lines()
            .find(|l| l.contains("TLS handshake failed"))
            .map(str::to_owned)
    });
    let imaps = server.imaps;
    assert!(
        line.contains("mode mismatch: the client sent a plaintext command")
            && line.contains("a1 CAPABILITY")
            && line.contains(&format!("on this implicit-TLS port (port {imaps})")),
        "{line}"
    );
}

// ---- partial FETCH of a large message ----

/// A 20 MB message dropped into the Maildir: partial `BODY[]`, `BODY[TEXT]` and `BINARY[]`
/// answer the octets asked for at the start, in the middle, across the end and past it
/// (the server reads only those octets: `ranged_content` in `imap/commands.rs`, whose unit
/// tests check the read is bounded). A non-PEEK partial fetch sets `\Seen`.
#[test]
fn partial_fetches_of_a_20_mb_message_answer_the_octets_asked_for() {
    let (_dir, server) = start("imap-partial", &["--allow-plaintext-auth"]);
    let header = b"Subject: big\r\nFrom: alice@localhost\r\n\r\n";
    let mut raw = header.to_vec();
    let mut n = 0u32;
    while raw.len() < 20_000_000 {
        raw.extend(format!("line {n:08} of the large message, some text to fill it\r\n").bytes());
        n += 1;
    }
    let len = raw.len();
    let new = server.server.maildir(ALICE).join("new");
    std::fs::create_dir_all(&new).unwrap();
    std::fs::write(new.join("1900000000.M1P1.big"), &raw).unwrap();
    let mut alice = alice_raw(&server);
    let lines = alice.cmd("s1", "SELECT INBOX");
    assert!(lines.iter().any(|l| l == "* 1 EXISTS\r\n"), "{lines:?}");
    let literal = |data: &[u8]| {
        let mut out = format!("{{{}}}\r\n", data.len()).into_bytes();
        out.extend(data);
        out
    };
    let text = header.len();
    for (tag, item, answer, origin, data) in [
        ("f1", "BODY.PEEK[]<0.100>", "BODY[]", 0, &raw[..100]),
        (
            "f2",
            "BODY.PEEK[]<10000000.100>",
            "BODY[]",
            10_000_000,
            &raw[10_000_000..10_000_100],
        ),
        (
            "f3",
            "BODY.PEEK[TEXT]<10000000.100>",
            "BODY[TEXT]",
            10_000_000,
            &raw[text + 10_000_000..text + 10_000_100],
        ),
        (
            "f4",
            "BINARY.PEEK[]<5000000.100>",
            "BINARY[]",
            5_000_000,
            &raw[5_000_000..5_000_100],
        ),
        (
            "f5",
            &format!("BODY.PEEK[]<{}.100>", len - 30),
            "BODY[]",
            len - 30,
            &raw[len - 30..],
        ),
        (
            "f6",
            &format!("BODY.PEEK[TEXT]<{}.100>", len - text - 30),
            "BODY[TEXT]",
            len - text - 30,
            &raw[len - 30..],
        ),
    ] {
        let lines = alice.cmd(tag, &format!("FETCH 1 ({item})"));
        let mut want = format!("* 1 FETCH ({answer}<{origin}> ").into_bytes();
        want.extend(literal(data));
        want.extend(b")\r\n");
        want.extend(format!("{tag} OK FETCH completed\r\n").bytes());
        assert_eq!(
            String::from_utf8_lossy(&lines.concat().into_bytes()),
            String::from_utf8_lossy(&want),
            "{item}"
        );
    }
    // Past the end: empty.
    let lines = alice.cmd(
        "f7",
        "FETCH 1 (BODY.PEEK[]<30000000.10> BINARY.PEEK[]<30000000.10>)",
    );
    assert_eq!(
        lines,
        [
            "* 1 FETCH (BODY[]<30000000> \"\" BINARY[]<30000000> \"\")\r\n",
            "f7 OK FETCH completed\r\n"
        ]
    );
    // Not PEEK: \Seen is set, and the answer says so (the message arrived in `new/`: recent
    // to this IMAP4rev1 session).
    let lines = alice.cmd("f8", "FETCH 1 (BODY[]<0.12>)");
    assert_eq!(
        lines,
        [
            "* 1 FETCH (BODY[]<0> \"Subject: big\" FLAGS (\\Seen \\Recent))\r\n",
            "f8 OK FETCH completed\r\n"
        ]
    );
}
