//! Review of issue 15's POP3 listeners: attacks on the real `mail-server` binary, each test
//! a reproduction of a defect found (kept as the regression test of its fix).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;

use support::*;

fn start(tag: &str, extra: &[&str]) -> (TempDir, Pop3Server) {
    let dir = TempDir::new(tag);
    let mut args = users();
    args.extend(extra.iter().map(|s| s.to_string()));
    let server = Pop3Server::start(&dir.path().join("data"), &args);
    (dir, server)
}

/// Reads one response line.
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

/// Reads a multi-line response's body, up to and without the `.` CRLF terminator.
fn body(stream: &mut TcpStream) -> Vec<u8> {
    let mut body = Vec::new();
    let mut byte = [0u8; 1];
    while !(body == b".\r\n" || body.ends_with(b"\r\n.\r\n")) {
        match stream.read(&mut byte) {
            Ok(0) | Err(_) => panic!("cut multi-line response: {body:?}"),
            Ok(_) => body.push(byte[0]),
        }
    }
    body.truncate(body.len() - 3);
    body
}

fn logged_in(port: u16, user: &str, password: &str) -> TcpStream {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.set_read_timeout(Some(LIMIT)).unwrap();
    assert!(line(&mut conn).starts_with("+OK"));
    conn.write_all(format!("USER {user}\r\nPASS {password}\r\n").as_bytes())
        .unwrap();
    assert!(line(&mut conn).starts_with("+OK"));
    let reply = line(&mut conn);
    assert!(reply.starts_with("+OK"), "{reply}");
    conn
}

/// Delivers one message to alice through the relay, so her Maildir exists.
fn deliver_one(server: &Pop3Server) {
    py_pop3(
        server,
        &format!("deliver('{ALICE}', 'first', 'Body.\\r\\n')\n"),
        &[],
    );
    let data = &server.server.data;
    poll("delivered", || {
        (!maildir_names(data, ALICE, "new").is_empty()).then_some(())
    });
}

/// A stored file without a final line end (written by another tool) goes out with a CRLF
/// before the terminator, so `LIST` must count those two octets: the size a client is told
/// is the octets `RETR` sends (RFC 1939 section 5, `LIST`; section 11).
#[test]
fn list_counts_the_crlf_retr_adds_to_a_file_without_a_final_newline() {
    if !have_poplib() {
        return;
    }
    let (_dir, server) = start("rp3srv-nofinal", &["--allow-plaintext-auth"]);
    deliver_one(&server);
    let data = server.server.data.clone();
    let new = maildir(&data, ALICE).join("new");
    std::fs::write(
        new.join("1999999999.M1P1Q1.other-tool"),
        b"Subject: no final newline\r\n\r\nlast line without end",
    )
    .unwrap();
    let mut conn = logged_in(server.pop3, ALICE, ALICE_PASSWORD);
    conn.write_all(b"LIST 2\r\n").unwrap();
    let list = line(&mut conn);
    let size: usize = list.trim_end().rsplit(' ').next().unwrap().parse().unwrap();
    conn.write_all(b"RETR 2\r\n").unwrap();
    assert!(line(&mut conn).starts_with("+OK"));
    let sent = body(&mut conn);
    assert_eq!(size, sent.len(), "{list:?} but RETR sent {sent:?}");
    conn.write_all(b"STAT\r\n").unwrap();
    let stat = line(&mut conn);
    let files: u64 = ["new", "cur"]
        .iter()
        .flat_map(|d| std::fs::read_dir(maildir(&data, ALICE).join(d)).unwrap())
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert_eq!(stat, format!("+OK 2 {}\r\n", files + 2));
}

/// The maildrop lock is per account, whatever form of the address the client logs in with
/// and whichever POP3 listener it uses.
#[test]
fn the_lock_holds_across_address_case() {
    let (_dir, server) = start("rp3srv-case", &["--allow-plaintext-auth"]);
    let mut first = logged_in(server.pop3, ALICE, ALICE_PASSWORD);
    let mut second = TcpStream::connect(("127.0.0.1", server.pop3)).unwrap();
    second.set_read_timeout(Some(LIMIT)).unwrap();
    assert!(line(&mut second).starts_with("+OK"));
    let upper = ALICE.to_uppercase();
    second
        .write_all(format!("USER {upper}\r\nPASS {ALICE_PASSWORD}\r\n").as_bytes())
        .unwrap();
    assert!(line(&mut second).starts_with("+OK"));
    let reply = line(&mut second);
    assert!(reply.starts_with("-ERR [IN-USE]"), "{reply}");
    first.write_all(b"QUIT\r\n").unwrap();
    assert!(line(&mut first).starts_with("+OK"));
}

/// Before TLS, without `--allow-plaintext-auth`, no credential is taken on `--pop3`: not with
/// `USER`/`PASS`, not with `AUTH PLAIN` and its initial response, not with `APOP`.
#[test]
fn no_credentials_are_taken_before_stls() {
    let (_dir, server) = start("rp3srv-plain", &[]);
    let mut conn = TcpStream::connect(("127.0.0.1", server.pop3)).unwrap();
    conn.set_read_timeout(Some(LIMIT)).unwrap();
    assert!(line(&mut conn).starts_with("+OK"));
    let plain = "AGFsaWNlQGxvY2FsaG9zdABwdw==";
    for command in [
        format!("USER {ALICE}"),
        format!("PASS {ALICE_PASSWORD}"),
        format!("AUTH PLAIN {plain}"),
        format!("APOP {ALICE} 0123456789abcdef0123456789abcdef"),
    ] {
        conn.write_all(format!("{command}\r\n").as_bytes()).unwrap();
        let reply = line(&mut conn);
        assert!(reply.starts_with("-ERR"), "{command}: {reply}");
    }
    conn.write_all(b"STAT\r\n").unwrap();
    let reply = line(&mut conn);
    assert!(reply.starts_with("-ERR"), "{reply}");
    // CAPA offers neither way to log in yet, only STLS.
    conn.write_all(b"CAPA\r\n").unwrap();
    assert!(line(&mut conn).starts_with("+OK"));
    let capa = String::from_utf8(body(&mut conn)).unwrap();
    let lines: Vec<&str> = capa.split("\r\n").collect();
    assert!(lines.contains(&"STLS"), "{capa}");
    assert!(
        !lines
            .iter()
            .any(|l| *l == "USER" || l.starts_with("SASL") || l.starts_with("APOP")),
        "{capa}"
    );
}

/// `QUIT` sent and the sending side closed at once (the client does not wait for the
/// answer): the server still reads the `QUIT` and enters UPDATE, as RFC 1939 section 6 says.
#[test]
fn quit_then_a_half_close_still_removes_the_marked_messages() {
    if !have_poplib() {
        return;
    }
    let (_dir, server) = start("rp3srv-halfclose", &["--allow-plaintext-auth"]);
    deliver_one(&server);
    let data = server.server.data.clone();
    let mut conn = logged_in(server.pop3, ALICE, ALICE_PASSWORD);
    conn.write_all(b"DELE 1\r\nQUIT\r\n").unwrap();
    conn.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = String::new();
    let _ = conn.read_to_string(&mut rest);
    assert!(rest.starts_with("+OK"), "{rest:?}");
    poll("removed", || {
        (maildir_names(&data, ALICE, "new").is_empty()).then_some(())
    });
}

/// A file in `new/` that carries an info part (`NAME:2,`: some readers move a message back to
/// `new/` keeping it) is listed, so `DELE` and `QUIT` must remove it too; before the fix it
/// was looked up only as `new/NAME`, not found, and silently kept while `QUIT` said `+OK`.
#[test]
fn dele_removes_a_file_in_new_that_has_an_info_part() {
    if !have_poplib() {
        return;
    }
    let (_dir, server) = start("rp3srv-newinfo", &["--allow-plaintext-auth"]);
    deliver_one(&server);
    let data = server.server.data.clone();
    let new = maildir(&data, ALICE).join("new");
    std::fs::write(
        new.join("1999999999.M1P1Q1.other-tool:2,"),
        b"Subject: moved back\r\n\r\nbody\r\n",
    )
    .unwrap();
    let mut conn = logged_in(server.pop3, ALICE, ALICE_PASSWORD);
    conn.write_all(b"UIDL 2\r\n").unwrap();
    assert_eq!(line(&mut conn), "+OK 2 1999999999.M1P1Q1.other-tool\r\n");
    conn.write_all(b"DELE 2\r\nQUIT\r\n").unwrap();
    assert!(line(&mut conn).starts_with("+OK"));
    let quit = line(&mut conn);
    assert!(quit.starts_with("+OK"), "{quit}");
    let mut rest = String::new();
    let _ = conn.read_to_string(&mut rest);
    let left: Vec<String> = ["new", "cur"]
        .iter()
        .flat_map(|d| maildir_names(&data, ALICE, d))
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(!left[0].contains("other-tool"), "{left:?}");
}

/// Logs in, retrying while the maildrop is still locked by a session that is ending.
fn logged_in_when_free(port: u16) -> TcpStream {
    for _ in 0..200 {
        let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
        conn.set_read_timeout(Some(LIMIT)).unwrap();
        assert!(line(&mut conn).starts_with("+OK"));
        conn.write_all(format!("USER {ALICE}\r\nPASS {ALICE_PASSWORD}\r\n").as_bytes())
            .unwrap();
        assert!(line(&mut conn).starts_with("+OK"));
        let reply = line(&mut conn);
        if reply.starts_with("+OK") {
            return conn;
        }
        assert!(reply.starts_with("-ERR [IN-USE]"), "{reply}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the maildrop stayed locked");
}

/// Sessions ended by the server for a framing error (a line too long) or too many errors
/// give the maildrop lock back, and delete nothing.
#[test]
fn sessions_ended_by_errors_unlock_the_maildrop_and_delete_nothing() {
    if !have_poplib() {
        return;
    }
    let (_dir, server) = start(
        "rp3srv-errors",
        &["--allow-plaintext-auth", "--max-errors", "2"],
    );
    deliver_one(&server);
    let data = server.server.data.clone();
    let mut conn = logged_in(server.pop3, ALICE, ALICE_PASSWORD);
    conn.write_all(b"DELE 1\r\n").unwrap();
    assert!(line(&mut conn).starts_with("+OK"));
    conn.write_all(format!("NOOP {}\r\n", "x".repeat(4000)).as_bytes())
        .unwrap();
    let mut rest = String::new();
    let _ = conn.read_to_string(&mut rest);
    assert!(rest.starts_with("-ERR"), "{rest:?}");
    let mut conn = logged_in_when_free(server.pop3);
    conn.write_all(b"DELE 1\r\nBOGUS\r\nBOGUS\r\nBOGUS\r\n")
        .unwrap();
    let mut rest = String::new();
    let _ = conn.read_to_string(&mut rest);
    assert!(rest.starts_with("+OK"), "{rest:?}");
    let mut conn = logged_in_when_free(server.pop3);
    conn.write_all(b"STAT\r\n").unwrap();
    assert!(line(&mut conn).starts_with("+OK 1 "));
    assert_eq!(maildir_names(&data, ALICE, "new").len(), 1);
}

/// Messages removed on disk by another reader during a session are refused on `RETR`, which
/// is the store's doing, not the client's: those refusals must not count toward
/// `--max-errors`, or a client fetching a maildrop that another program emptied meanwhile is
/// cut off before `QUIT` and its `DELE` marks are lost (it fetches those messages again).
#[test]
fn retr_of_messages_removed_by_another_reader_is_no_client_error() {
    if !have_poplib() {
        return;
    }
    let (_dir, server) = start(
        "rp3srv-gone",
        &["--allow-plaintext-auth", "--max-errors", "2"],
    );
    py_pop3(
        &server,
        &format!("for i in range(4):\n    deliver('{ALICE}', 'm%d' % i, 'Body.\\r\\n')\n"),
        &[],
    );
    let data = server.server.data.clone();
    poll("delivered", || {
        (maildir_names(&data, ALICE, "new").len() == 4).then_some(())
    });
    let mut conn = logged_in(server.pop3, ALICE, ALICE_PASSWORD);
    let mut names = maildir_names(&data, ALICE, "new");
    names.sort_by_key(|n| {
        let (secs, rest) = n.split_once(".M").unwrap();
        let micros: String = rest.chars().take_while(char::is_ascii_digit).collect();
        (secs.parse::<u64>().unwrap(), micros.parse::<u64>().unwrap())
    });
    for name in &names[..3] {
        std::fs::remove_file(maildir(&data, ALICE).join("new").join(name)).unwrap();
    }
    for n in 1..=3 {
        conn.write_all(format!("RETR {n}\r\n").as_bytes()).unwrap();
        let reply = line(&mut conn);
        assert!(
            reply.starts_with("-ERR Message was removed"),
            "{n}: {reply}"
        );
    }
    conn.write_all(b"RETR 4\r\n").unwrap();
    assert!(line(&mut conn).starts_with("+OK"));
    body(&mut conn);
    conn.write_all(b"DELE 4\r\nQUIT\r\n").unwrap();
    assert!(line(&mut conn).starts_with("+OK"));
    let quit = line(&mut conn);
    assert!(quit.starts_with("+OK"), "{quit}");
    poll("removed", || {
        (maildir_names(&data, ALICE, "new").is_empty()
            && maildir_names(&data, ALICE, "cur").is_empty())
        .then_some(())
    });
}

/// `DELE` of every message of a big maildrop, then `QUIT`: every file is removed. (The
/// removal reads `new/` and `cur/` once; it used to read `cur/` once per message, 10,000 by
/// 10,000 directory entries here: see the report of the review.)
#[test]
fn quit_removes_every_message_of_a_big_maildrop() {
    let count: usize = std::env::var("RP3SRV_COUNT")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(2000);
    let (_dir, server) = start("rp3srv-big", &["--allow-plaintext-auth"]);
    let data = server.server.data.clone();
    let cur = maildir(&data, ALICE).join("cur");
    std::fs::create_dir_all(&cur).unwrap();
    std::fs::create_dir_all(maildir(&data, ALICE).join("new")).unwrap();
    std::fs::create_dir_all(maildir(&data, ALICE).join("tmp")).unwrap();
    for i in 0..count {
        std::fs::write(
            cur.join(format!("1700000000.M{i}P1Q1.big:2,S")),
            b"Subject: s\r\n\r\nb\r\n",
        )
        .unwrap();
    }
    let mut conn = logged_in(server.pop3, ALICE, ALICE_PASSWORD);
    let mut commands = String::new();
    for i in 1..=count {
        commands.push_str(&format!("DELE {i}\r\n"));
    }
    let mut writer = conn.try_clone().unwrap();
    let sender = std::thread::spawn(move || writer.write_all(commands.as_bytes()).unwrap());
    for _ in 0..count {
        assert!(line(&mut conn).starts_with("+OK"));
    }
    sender.join().unwrap();
    let started = std::time::Instant::now();
    conn.write_all(b"QUIT\r\n").unwrap();
    let quit = line(&mut conn);
    eprintln!("QUIT of {count} took {:?}", started.elapsed());
    assert!(quit.starts_with("+OK"), "{quit}");
    assert!(maildir_names(&data, ALICE, "cur").is_empty());
}

/// One lock for both POP3 listeners: a session on `--pop3` (after STLS) keeps a `--pop3s`
/// login to the same account, written in another case, out with `[IN-USE]`.
#[test]
fn the_lock_holds_across_the_pop3_and_pop3s_listeners() {
    if !have_poplib() {
        return;
    }
    let (_dir, server) = start("rp3srv-cross", &[]);
    let pop3s = server.pop3s.to_string();
    let out = py_pop3(
        &server,
        &format!(
            r#"
p = login('{ALICE}', '{ALICE_PASSWORD}')
s = poplib.POP3_SSL("127.0.0.1", int(os.environ["POP3S_PORT"]), context=CTX, timeout=20)
s.user('{upper}')
try:
    s.pass_('{ALICE_PASSWORD}')
    out("SECOND +OK")
except poplib.error_proto as e:
    out("SECOND", e.args[0].decode())
p.quit()
"#,
            upper = ALICE.to_uppercase()
        ),
        &[("POP3S_PORT", &pop3s)],
    );
    assert!(out.contains("SECOND -ERR [IN-USE]"), "{out}");
}
