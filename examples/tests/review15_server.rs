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
