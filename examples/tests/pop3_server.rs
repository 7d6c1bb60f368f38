//! Issue 15, POP3 in the mail server: the real `mail-server` binary on loopback, read with
//! peers we did not write (Python `poplib`, `curl`), the Maildir checked on disk. Mail is
//! delivered through the SMTP relay first, so POP3 reads what SMTP wrote.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use support::*;

fn start(tag: &str, extra: &[&str]) -> (TempDir, Pop3Server) {
    let dir = TempDir::new(tag);
    let mut args = users();
    args.extend(extra.iter().map(|s| s.to_string()));
    let server = Pop3Server::start(&dir.path().join("data"), &args);
    (dir, server)
}

/// Delivers `count` messages to alice through the relay (Python smtplib) and waits until
/// they are in her `new/`.
fn deliver(server: &Pop3Server, count: usize) {
    let script = format!(
        "for i in range({count}):\n    deliver('{ALICE}', 'message %d' % (i + 1), 'Line one.\\r\\n.dot line\\r\\nLine three.\\r\\n')\n"
    );
    py_pop3(server, &script, &[]);
    let data = &server.server.data;
    poll("delivered", || {
        (maildir_names(data, ALICE, "new").len() >= count).then_some(())
    });
}

fn alice(script: &str) -> String {
    format!("ALICE = '{ALICE}'\nPW = '{ALICE_PASSWORD}'\n{script}")
}

/// The Maildir unique name of a file name (before `:2,`).
fn unique(name: &str) -> &str {
    name.split(':').next().unwrap_or(name)
}

#[test]
fn poplib_stls_list_uidl_top_retr_dele_quit() {
    if !have_poplib() {
        return;
    }
    let (_dir, server) = start("p3srv-full", &[]);
    deliver(&server, 2);
    let data = server.server.data.clone();
    let new = maildir_names(&data, ALICE, "new");
    let sizes: Vec<u64> = new
        .iter()
        .map(|n| {
            std::fs::metadata(maildir(&data, ALICE).join("new").join(n))
                .unwrap()
                .len()
        })
        .collect();
    let out = py_pop3(
        &server,
        &alice(
            r#"
p = login(ALICE, PW)
out("STAT", *p.stat())
resp, lines, _ = p.list()
out("LIST", *[l.decode() for l in lines])
resp, lines, _ = p.uidl()
out("UIDL", *[l.decode() for l in lines])
resp, lines, _ = p.top(1, 0)
out("TOP", repr(lines))
resp, lines, _ = p.retr(1)
out("RETR", repr(lines))
out("DELE", p.dele(2).decode())
out("QUIT", p.quit().decode())
"#,
        ),
        &[],
    );
    let total: u64 = sizes.iter().sum();
    assert!(out.contains(&format!("STAT 2 {total}\n")), "{out}");
    assert!(
        out.contains(&format!("LIST 1 {} 2 {}\n", sizes[0], sizes[1])),
        "{out}"
    );
    // UIDL: the Maildir unique names, in delivery order.
    assert!(
        out.contains(&format!(
            "UIDL 1 {} 2 {}\n",
            unique(&new[0]),
            unique(&new[1])
        )),
        "{out}"
    );
    // TOP 1 0: the header only (trace headers and Subject), no body line.
    let top = out.lines().find(|l| l.starts_with("TOP")).unwrap();
    assert!(top.contains("b'Subject: message 1'"), "{top}");
    assert!(!top.contains("Line one."), "{top}");
    // RETR: the whole message, the dot line unstuffed by poplib.
    let retr = out.lines().find(|l| l.starts_with("RETR")).unwrap();
    assert!(
        retr.contains("b'Line one.', b'.dot line', b'Line three.'"),
        "{retr}"
    );
    assert!(out.contains("QUIT +OK"), "{out}");
    // On disk: message 2 removed by QUIT; message 1 seen, moved to cur/ with :2,S.
    assert!(maildir_names(&data, ALICE, "new").is_empty());
    assert_eq!(
        maildir_names(&data, ALICE, "cur"),
        [format!("{}:2,S", new[0])]
    );
}

#[test]
fn dele_then_a_dropped_connection_deletes_nothing() {
    if !have_poplib() {
        return;
    }
    let (_dir, server) = start("p3srv-drop", &[]);
    deliver(&server, 2);
    let data = server.server.data.clone();
    let before = maildir_names(&data, ALICE, "new");
    let out = py_pop3(
        &server,
        &alice(
            r#"
p = login(ALICE, PW)
out("DELE", p.dele(1).decode(), p.dele(2).decode())
p.close()  # the connection dropped: no QUIT
# The server sees the connection drop and unlocks the maildrop; then both are still there.
for attempt in range(200):
    try:
        p = login(ALICE, PW)
        break
    except poplib.error_proto as e:
        assert b"[IN-USE]" in e.args[0], e
        time.sleep(0.05)
else:
    raise SystemExit("the maildrop stayed locked")
out("STAT", *p.stat())
p.quit()
"#,
        ),
        &[],
    );
    assert!(out.contains("DELE +OK"), "{out}");
    assert!(out.contains("STAT 2 "), "{out}");
    assert_eq!(maildir_names(&data, ALICE, "new"), before);
    poll("the log line saying nothing was deleted", || {
        server
            .server
            .stderr()
            .contains("nothing deleted")
            .then_some(())
    });
}

#[test]
fn a_second_session_gets_in_use_until_the_first_ends() {
    if !have_poplib() {
        return;
    }
    let (_dir, server) = start("p3srv-inuse", &[]);
    deliver(&server, 1);
    let out = py_pop3(
        &server,
        &alice(
            r#"
first = login(ALICE, PW)
try:
    login(ALICE.upper(), PW)
    out("SECOND logged in")
except poplib.error_proto as e:
    out("SECOND", e.args[0].decode())
first.quit()
third = login(ALICE.upper(), PW)
out("THIRD", *third.stat())
third.quit()
"#,
        ),
        &[],
    );
    // The account matched in any case; the second session is refused with IN-USE.
    assert!(out.contains("SECOND -ERR [IN-USE]"), "{out}");
    assert!(out.contains("THIRD 1 "), "{out}");
}

#[test]
fn retr_marks_seen_and_uidl_is_stable_across_the_move_and_a_restart() {
    if !have_poplib() {
        return;
    }
    let (dir, server) = start("p3srv-restart", &[]);
    deliver(&server, 1);
    let data = server.server.data.clone();
    let name = maildir_names(&data, ALICE, "new").remove(0);
    let script = alice(
        r#"
p = login(ALICE, PW)
out("UIDL", p.uidl(1).decode())
p.retr(1)
out("UIDL", p.uidl(1).decode())
p.quit()
"#,
    );
    let out = py_pop3(&server, &script, &[]);
    let expected = format!("UIDL +OK 1 {name}\n");
    assert_eq!(out.matches(&expected).count(), 2, "{out}");
    assert_eq!(maildir_names(&data, ALICE, "cur"), [format!("{name}:2,S")]);
    assert!(maildir_names(&data, ALICE, "new").is_empty());
    drop(server);
    let server = Pop3Server::start(&dir.path().join("data"), &users());
    let out = py_pop3(&server, &script, &[]);
    assert_eq!(out.matches(&expected).count(), 2, "{out}");
}

#[test]
fn a_long_hostname_gives_hashed_uids_of_at_most_70_octets_stable_across_sessions() {
    if !have_poplib() {
        return;
    }
    let host = format!(
        "{}.{}.example.org",
        "a".repeat(40),
        "very-long-host-name-label"
    );
    let (_dir, server) = start("p3srv-longhost", &["--hostname", &host]);
    deliver(&server, 1);
    let data = server.server.data.clone();
    let name = maildir_names(&data, ALICE, "new").remove(0);
    assert!(
        name.len() > 70,
        "the test needs a unique name over 70: {name}"
    );
    let script = alice(
        r#"
p = login(ALICE, PW)
out("UIDL", p.uidl(1).decode())
p.retr(1)
out("UIDL", p.uidl(1).decode())
p.quit()
p = login(ALICE, PW)
out("UIDL", p.uidl(1).decode())
p.quit()
"#,
    );
    let out = py_pop3(&server, &script, &[]);
    let uids: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("UIDL +OK 1 "))
        .collect();
    assert_eq!(uids.len(), 3, "{out}");
    assert!(uids.iter().all(|u| *u == uids[0]), "{out}");
    assert!(uids[0].len() <= 70, "{out}");
    assert!(uids[0].bytes().all(|b| b.is_ascii_hexdigit()), "{out}");
}

#[test]
fn curl_lists_and_retrieves_over_stls_and_implicit_tls() {
    if !have_poplib() || !have_curl() {
        return;
    }
    let (_dir, server) = start("p3srv-curl", &[]);
    deliver(&server, 1);
    let data = server.server.data.clone();
    let name = maildir_names(&data, ALICE, "new").remove(0);
    let size = std::fs::metadata(maildir(&data, ALICE).join("new").join(&name))
        .unwrap()
        .len();
    let user = format!("{ALICE}:{ALICE_PASSWORD}");
    let stls = format!("pop3://127.0.0.1:{}/", server.pop3);
    let implicit = format!("pop3s://127.0.0.1:{}/", server.pop3s);
    for url in [&stls, &implicit] {
        let mut args = vec!["-sS", "-k", "--max-time", "20", "--user", &user];
        if url.starts_with("pop3:") {
            args.push("--ssl-reqd");
        }
        let list = run_bounded("curl", &[&args[..], &[url.as_str()]].concat());
        assert!(list.status.success(), "curl {url}: {list:?}");
        assert_eq!(
            String::from_utf8_lossy(&list.stdout),
            format!("1 {size}\r\n")
        );
        let one = format!("{url}1");
        let retr = run_bounded("curl", &[&args[..], &[one.as_str()]].concat());
        assert!(retr.status.success(), "curl {one}: {retr:?}");
        let text = String::from_utf8_lossy(&retr.stdout);
        assert!(text.contains("Subject: message 1\r\n"), "{text}");
        assert!(text.contains("\r\n.dot line\r\n"), "{text}");
    }
    // The RETR marked it seen.
    assert_eq!(maildir_names(&data, ALICE, "cur"), [format!("{name}:2,S")]);
}

#[test]
fn a_wrong_password_is_answered_after_the_failure_delay() {
    if !have_poplib() {
        return;
    }
    let (_dir, server) = start("p3srv-badpass", &["--auth-failure-delay", "1"]);
    let out = py_pop3(
        &server,
        &alice(
            r#"
p = poplib.POP3("127.0.0.1", POP3_PORT, timeout=20)
p.stls(context=CTX)
p.user(ALICE)
t = time.monotonic()
try:
    p.pass_("wrong")
    out("LOGGED IN")
except poplib.error_proto as e:
    out("FAILED", e.args[0].decode(), time.monotonic() - t)
"#,
        ),
        &[],
    );
    let line = out.lines().find(|l| l.starts_with("FAILED")).expect(&out);
    assert!(line.contains("-ERR [AUTH]"), "{out}");
    let took: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(took >= 1.0, "answered after {took} s: {out}");
    let log = server.server.stderr();
    assert!(log.contains("pop3 login failed"), "{log}");
    assert!(
        !log.contains("wrong"),
        "the password must not be logged: {log}"
    );
}

#[test]
fn stls_with_a_pipelined_command_closes_the_session() {
    let (_dir, server) = start("p3srv-inject", &[]);
    let mut stream = TcpStream::connect(("127.0.0.1", server.pop3)).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    let mut greeting = [0u8; 512];
    let n = stream.read(&mut greeting).unwrap();
    assert!(greeting[..n].starts_with(b"+OK"), "{:?}", &greeting[..n]);
    stream.write_all(b"STLS\r\nCAPA\r\n").unwrap();
    let mut rest = Vec::new();
    let started = Instant::now();
    while started.elapsed() < LIMIT {
        let mut buf = [0u8; 512];
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => rest.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&rest);
    // Nothing of CAPA is answered, and the connection is closed.
    assert!(!text.contains("Capability"), "{text}");
    assert!(!text.contains("\r\nUSER"), "{text}");
    assert!(text.contains("-ERR"), "{text}");
}

#[test]
fn a_message_delivered_during_a_session_appears_in_the_next_only() {
    if !have_poplib() {
        return;
    }
    let (_dir, server) = start("p3srv-during", &[]);
    deliver(&server, 1);
    let out = py_pop3(
        &server,
        &alice(
            r#"
p = login(ALICE, PW)
out("BEFORE", *p.stat())
deliver(ALICE, "during")
out("DURING", *p.stat(), len(p.list()[1]))
p.quit()
p = login(ALICE, PW)
out("NEXT", p.stat()[0])
p.quit()
"#,
        ),
        &[],
    );
    let before: Vec<&str> = out
        .lines()
        .find(|l| l.starts_with("BEFORE"))
        .unwrap()
        .split(' ')
        .collect();
    assert!(
        out.contains(&format!("DURING 1 {} 1\n", before[2])),
        "{out}"
    );
    assert!(out.contains("NEXT 2\n"), "{out}");
}

#[test]
fn a_message_removed_on_disk_during_a_session_gets_err_and_the_numbering_stays() {
    if !have_poplib() {
        return;
    }
    let (_dir, server) = start("p3srv-removed", &[]);
    deliver(&server, 2);
    let data = server.server.data.clone();
    let first = maildir(&data, ALICE)
        .join("new")
        .join(maildir_names(&data, ALICE, "new").remove(0));
    let out = py_pop3(
        &server,
        &alice(
            r#"
p = login(ALICE, PW)
os.remove(os.environ["VICTIM"])
try:
    p.retr(1)
    out("RETR1 +OK")
except poplib.error_proto as e:
    out("RETR1", e.args[0].decode())
resp, lines, _ = p.retr(2)
out("RETR2", resp.decode(), [l for l in lines if l.startswith(b"Subject")][0].decode())
out("STAT", p.stat()[0])
p.quit()
"#,
        ),
        &[("VICTIM", first.to_str().unwrap())],
    );
    assert!(out.contains("RETR1 -ERR Message was removed"), "{out}");
    assert!(out.contains("RETR2 +OK"), "{out}");
    assert!(out.contains("Subject: message 2"), "{out}");
    assert!(out.contains("STAT 2\n"), "{out}");
}

/// The banner names both POP3 listeners and prints a `curl pop3://` command that lists the
/// demo mailbox as pasted: stdout is a pipe here, so the password is read from the
/// demo-password file by the command and never printed.
#[test]
fn the_banner_names_the_pop3_ports_and_its_curl_command_lists_the_demo_mailbox() {
    if !have_poplib() || !have_curl() {
        return;
    }
    let dir = TempDir::new("p3srv-banner");
    let data = dir.path().join("data");
    let server = Pop3Server::start(&data, &[]);
    let banner = poll("the POP3 command in the banner", || {
        let out = server.server.stdout();
        out.lines()
            .any(|l| l.trim_start().starts_with("curl -sk --ssl-reqd pop3://"))
            .then_some(out)
    });
    assert!(
        banner.contains(&format!("  pop3         127.0.0.1:{}", server.pop3)),
        "{banner}"
    );
    assert!(
        banner.contains(&format!("  pop3s        127.0.0.1:{}", server.pop3s)),
        "{banner}"
    );
    let password = std::fs::read_to_string(data.join("demo-password")).unwrap();
    assert!(!banner.contains(password.trim()), "{banner}");
    let command = banner
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("curl -sk --ssl-reqd pop3://"))
        .unwrap();
    assert!(command.contains("$(cat '"), "{command}");
    py_pop3(&server, "deliver('demo@localhost', 'to the demo')\n", &[]);
    poll("delivered", || {
        (!maildir_names(&data, "demo@localhost", "new").is_empty()).then_some(())
    });
    let name = maildir_names(&data, "demo@localhost", "new").remove(0);
    let size = std::fs::metadata(maildir(&data, "demo@localhost").join("new").join(&name))
        .unwrap()
        .len();
    let out = run_bounded("sh", &["-c", command]);
    assert!(out.status.success(), "{command}: {out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("1 {size}\r\n")
    );
}

/// Reads a whole POP3 response line from a raw connection.
fn line(stream: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        match stream.read(&mut byte) {
            Ok(0) | Err(_) => break,
            Ok(_) => line.push(byte[0]),
        }
    }
    String::from_utf8_lossy(&line).into_owned()
}

/// Everything until the server closes the connection.
fn until_eof(stream: &mut TcpStream) -> String {
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    String::from_utf8_lossy(&rest).into_owned()
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    stream
}

/// A full POP3 pool gives the place of its oldest session that has not logged in to a
/// newcomer (the listener policy of issue 14): the old one is closed, the new one served.
#[test]
fn a_full_pool_evicts_its_oldest_session_before_login() {
    let (_dir, server) = start("p3srv-evict", &["--max-connections-pop3", "1"]);
    let mut old = connect(server.pop3);
    assert!(line(&mut old).starts_with("+OK"));
    let mut new = connect(server.pop3);
    assert!(line(&mut new).starts_with("+OK"));
    let rest = until_eof(&mut old);
    assert_eq!(
        rest,
        "-ERR [SYS/TEMP] Too many connections; closing the oldest session that has not logged in\r\n"
    );
    new.write_all(b"CAPA\r\n").unwrap();
    assert!(line(&mut new).starts_with("+OK"));
    // The log line is written by the server after the refusal: wait for it.
    poll("the log line about the eviction", || {
        server.server.stderr().contains("evicted").then_some(())
    });
}

/// A raw plaintext session logged in with USER/PASS (the server allows plaintext logins).
fn logged_in(port: u16, user: &str, password: &str) -> TcpStream {
    let mut conn = connect(port);
    assert!(line(&mut conn).starts_with("+OK"));
    conn.write_all(format!("USER {user}\r\nPASS {password}\r\n").as_bytes())
        .unwrap();
    assert!(line(&mut conn).starts_with("+OK"));
    let reply = line(&mut conn);
    assert!(reply.starts_with("+OK"), "{reply}");
    conn
}

/// Stress mode before login: when the pool enters stress, an open session that has not
/// logged in must log in within the stress command timeout (1 s here, against a normal
/// login timeout of 60 s); a session that starts under stress has it as its login timeout;
/// logged-in sessions keep their 10 minutes.
#[test]
fn a_pool_under_stress_closes_sessions_that_do_not_log_in() {
    let (_dir, server) = start(
        "p3srv-stress",
        &[
            "--allow-plaintext-auth",
            "--max-connections-pop3",
            "4",
            "--stress-threshold",
            "75",
            "--stress-command-timeout",
            "1",
        ],
    );
    let mut holder = logged_in(server.pop3, ALICE, ALICE_PASSWORD);
    let mut victim = connect(server.pop3);
    assert!(line(&mut victim).starts_with("+OK"));
    // Three of four: the pool is under stress from here on (the holders stay).
    let started = Instant::now();
    let mut second_holder = logged_in(server.pop3, BOB, BOB_PASSWORD);
    let rest = until_eof(&mut victim);
    assert_eq!(
        rest,
        "-ERR [SYS/TEMP] Server busy and no login in time, closing\r\n"
    );
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    let started = Instant::now();
    let mut late = connect(server.pop3);
    assert!(line(&mut late).starts_with("+OK"));
    let rest = until_eof(&mut late);
    assert!(rest.starts_with("-ERR"), "{rest:?}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    // The logged-in sessions are still served.
    for conn in [&mut holder, &mut second_holder] {
        conn.write_all(b"NOOP\r\n").unwrap();
        assert!(line(conn).starts_with("+OK"));
    }
    let log = server.server.stderr();
    assert!(log.contains("no login within the stress timeout"), "{log}");
}

/// The place is given back when the goodbye is queued, before it is written: with a pool of
/// one, a client that quits and connects again at once, twenty times over, is never refused
/// (a logged-in session cannot be evicted, so a place still held would refuse it).
#[test]
fn a_client_reconnecting_after_quit_finds_its_place_free() {
    if !have_poplib() {
        return;
    }
    let (_dir, server) = start("p3srv-reconnect", &["--max-connections-pop3", "1"]);
    let out = py_pop3(
        &server,
        &alice(
            r#"
for i in range(20):
    p = login(ALICE, PW)
    p.stat()
    p.quit()
out("DONE")
"#,
        ),
        &[],
    );
    assert!(out.contains("DONE"), "{out}");
    assert!(
        !server.server.stderr().contains("connection refused"),
        "{}",
        server.server.logs()
    );
}

/// Deleting over POP3 frees quota at once: the store's kept usage total is forgotten after
/// UPDATE, so the next delivery's check scans again (without that, the total would stay until
/// its 5-minute re-scan and the delivery below would be refused as over quota).
#[test]
fn messages_removed_over_pop3_free_their_quota_at_once() {
    if !have_poplib() {
        return;
    }
    let (_dir, server) = start("p3srv-quota", &["--quota", "3000"]);
    let out = py_pop3(
        &server,
        &alice(
            r#"
big = "x" * 70 + "\r\n"
deliver(ALICE, "first", big * 25)
try:
    deliver(ALICE, "second", big * 25)
    out("SECOND accepted")
except smtplib.SMTPException as e:
    out("SECOND refused", e)
p = login(ALICE, PW)
p.dele(1)
p.quit()
deliver(ALICE, "third", big * 25)
out("THIRD accepted")
"#,
        ),
        &[],
    );
    assert!(out.contains("SECOND refused"), "{out}");
    assert!(out.contains("THIRD accepted"), "{out}");
    let data = &server.server.data;
    let names = maildir_names(data, ALICE, "new");
    assert_eq!(names.len(), 1, "{names:?}");
}
