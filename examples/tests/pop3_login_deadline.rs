//! Attack review (round 20), POP3 in the real `mail-server` binary: a client that keeps
//! sending commands within the idle time before login must still be closed when its time to
//! log in is over, counted from the connection's start (pop3-proto's
//! `ServerConfig::login_timeout`, absolute as the IMAP listener's). A session started under
//! stress has `--stress-command-timeout` as its login timeout, which keeps the test short.
//! Timing assertions are lower bounds only.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::*;

/// One response line, or everything until the close when the server ends the session.
fn reply(stream: &mut TcpStream) -> String {
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

/// Whether the server sent something unasked within `wait` (then returns it, up to the
/// close); `None` when it stayed silent.
fn unasked(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut first = [0u8; 1];
    let got = match stream.read(&mut first) {
        Ok(0) => Some(String::new()),
        Ok(_) => {
            stream.set_read_timeout(Some(LIMIT)).unwrap();
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest);
            Some(format!(
                "{}{}",
                first[0] as char,
                String::from_utf8_lossy(&rest)
            ))
        }
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        Err(e) => Some(format!("read error: {e}")),
    };
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    got
}

#[test]
fn a_client_busy_before_login_is_closed_when_its_time_to_log_in_is_over() {
    let dir = TempDir::new("p3-login-deadline");
    let mut args = users();
    args.extend(
        [
            "--allow-plaintext-auth",
            "--max-connections-pop3",
            "4",
            // One open connection puts the pool under stress: the next session starts with
            // the stress command timeout as its login timeout.
            "--stress-threshold",
            "25",
            "--stress-command-timeout",
            "2",
        ]
        .map(str::to_owned),
    );
    let server = Pop3Server::start(&dir.path().join("data"), &args);

    // A logged-in session holds a place: the pool is under stress from here on.
    let mut holder = TcpStream::connect(("127.0.0.1", server.pop3)).unwrap();
    holder.set_read_timeout(Some(LIMIT)).unwrap();
    assert!(reply(&mut holder).starts_with("+OK"));
    holder
        .write_all(format!("USER {ALICE}\r\nPASS {ALICE_PASSWORD}\r\n").as_bytes())
        .unwrap();
    assert_eq!(reply(&mut holder), "+OK Send PASS\r\n");
    assert!(reply(&mut holder).starts_with("+OK maildrop has"));

    // The client answers every 0.7 s, well within the 2 s idle time, and never logs in.
    let started = Instant::now();
    let mut client = TcpStream::connect(("127.0.0.1", server.pop3)).unwrap();
    client.set_read_timeout(Some(LIMIT)).unwrap();
    assert!(reply(&mut client).starts_with("+OK"));
    let mut answered = 0;
    let closing = loop {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still open after {:?} and {answered} answers\n{}",
            started.elapsed(),
            server.server.logs()
        );
        if let Some(closing) = unasked(&mut client, Duration::from_millis(700)) {
            break closing;
        }
        client
            .write_all(format!("USER {BOB}\r\n").as_bytes())
            .unwrap();
        let answer = reply(&mut client);
        if answer != "+OK Send PASS\r\n" {
            break format!(
                "{answer}{}",
                unasked(&mut client, LIMIT).unwrap_or_default()
            );
        }
        answered += 1;
    };
    assert_eq!(closing, "-ERR No login in time, closing\r\n");
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(answered >= 2, "{answered}");

    // The logged-in session is still served.
    holder.write_all(b"STAT\r\n").unwrap();
    assert!(reply(&mut holder).starts_with("+OK"));
}
