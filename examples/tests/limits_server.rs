//! Limits of the mail server whose defaults are too long to breach in a test, breached at a
//! short setting of their flag (docs/limits.md lists every limit and its test):
//!
//! - `--imap-stall-timeout` (default 60 s): an IMAP client that takes no byte of a large
//!   FETCH answer is dropped, the session's error logged, the answer never completed.
//! - `--shutdown-grace` (default 30 s): after SIGINT, a session whose transaction does not
//!   finish in time is cut, the server logs it and exits 0, and the unfinished message is
//!   not stored (it was never acknowledged).

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::*;

/// Connects to the IMAP `port` with a 4 KiB receive buffer (so what the client does not
/// read stays in the server's socket) and logs in as [`ALICE`].
fn imap_logged_in(port: u16) -> TcpStream {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("runtime");
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
        let stream = socket.connect(addr).await.expect("connect");
        stream.into_std().expect("std stream")
    });
    stream.set_nonblocking(false).expect("blocking");
    stream.set_read_timeout(Some(LIMIT)).expect("timeout");
    let mut stream = stream;
    stream
        .write_all(format!("L LOGIN {ALICE} {ALICE_PASSWORD}\r\n").as_bytes())
        .expect("LOGIN");
    let answer = read_until(&mut stream, b"\r\nL ");
    assert!(answer.contains("\r\nL OK"), "{answer}");
    stream
}

/// Reads until `needle` and the rest of its line arrived; everything read, lossy, after a
/// CRLF standing for the start of the first line (so that `\r\nTAG ` finds a first line too).
fn read_until(stream: &mut TcpStream, needle: &[u8]) -> String {
    let mut seen = b"\r\n".to_vec();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(at) = seen.windows(needle.len()).position(|w| w == needle) {
            if seen
                .get(at + needle.len()..)
                .is_some_and(|rest| rest.ends_with(b"\r\n"))
            {
                return String::from_utf8_lossy(&seen).into_owned();
            }
        }
        let n = stream.read(&mut chunk).expect("read");
        assert!(n > 0, "EOF before {:?}", String::from_utf8_lossy(needle));
        seen.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

/// Reads everything until the server closes the connection.
fn until_eof(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return all,
            Ok(n) => all.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return all,
            Err(e) => panic!("read: {e}"),
        }
    }
}

#[test]
fn an_imap_client_that_stops_reading_is_dropped_at_the_stall_timeout() {
    const COUNT: usize = 12;
    const SIZE: usize = 1 << 20;
    let dir = TempDir::new("limits-stall");
    let (server, port, _) = start_with_imap(
        &dir,
        &["--allow-plaintext-auth", "--imap-stall-timeout", "1"],
    );
    // 12 MiB of mail: more than the loopback socket buffers hold.
    let mut line = "x".repeat(78);
    line.push_str("\r\n");
    let body = line.repeat(SIZE / line.len());
    let mut writer = imap_logged_in(port);
    for i in 0..COUNT {
        let message = format!("Subject: large {i}\r\n\r\n{body}");
        let command = format!("A{i} APPEND INBOX {{{}+}}\r\n{message}\r\n", message.len());
        writer.write_all(command.as_bytes()).expect("APPEND");
        let answer = read_until(&mut writer, format!("\r\nA{i} ").as_bytes());
        assert!(answer.contains(&format!("A{i} OK")), "{answer}");
    }

    let mut reader = imap_logged_in(port);
    reader.write_all(b"S SELECT INBOX\r\n").expect("SELECT");
    read_until(&mut reader, b"\r\nS OK");
    reader
        .write_all(format!("F FETCH 1:{COUNT} BODY.PEEK[]\r\n").as_bytes())
        .expect("FETCH");
    let asked = Instant::now();
    // The client reads nothing: the server's writes stop moving, and after the stall timeout
    // the session ends, logged as the client's doing, however long the idle timeout (30
    // minutes).
    let logged = poll("the stall logged", || {
        let logs = server.stderr();
        logs.contains("the peer took no data for 1s")
            .then_some(logs)
    });
    assert!(
        asked.elapsed() >= Duration::from_secs(1),
        "dropped before the stall timeout"
    );
    let line = logged
        .lines()
        .find(|l| l.contains("the peer took no data for 1s"))
        .unwrap_or_default();
    assert!(
        line.contains("closed: the client stopped reading"),
        "{line}"
    );
    // What the client reads now is a part of the answer, then the end: never the tagged OK.
    let received = until_eof(&mut reader);
    assert!(!received.is_empty(), "nothing of the FETCH was sent");
    assert!(
        received.len() < COUNT * SIZE,
        "the whole answer was sent: {} octets",
        received.len()
    );
    let tail = String::from_utf8_lossy(&received[received.len().saturating_sub(64)..]);
    assert!(!tail.contains("F OK"), "{tail}");
    // The writer's session, which reads, is served on.
    writer.write_all(b"N NOOP\r\n").expect("NOOP");
    let answer = read_until(&mut writer, b"\r\nN ");
    assert!(answer.contains("N OK"), "{answer}");
}

#[test]
fn a_transaction_still_open_at_the_end_of_the_shutdown_grace_gets_421_and_nothing_is_stored() {
    cut_at_the_end_of_the_grace(1);
}

/// Starts a transaction, interrupts the server with `--shutdown-grace grace` (seconds), and
/// checks the transaction's 421 and that nothing of it is stored.
fn cut_at_the_end_of_the_grace(grace: u64) {
    let dir = TempDir::new("limits-grace");
    let mut args = users();
    args.extend(["--shutdown-grace".to_owned(), grace.to_string()]);
    let mut server = MailServer::start(&dir.path().join("data"), &args);
    let mut conn = server.relay();
    conn.start_message("carol@example.org", &[ALICE]);
    conn.send(b"Subject: never finished\r\n\r\nthe first half and no end");
    let interrupted = Instant::now();
    server.interrupt();
    // The client sends nothing more: the grace runs out, the server says so and exits 0.
    let status = server.wait_exit(LIMIT);
    assert!(status.success(), "exit {status}\n{}", server.logs());
    assert!(
        interrupted.elapsed() >= Duration::from_secs(grace),
        "exited before the grace was over"
    );
    let logs = server.stderr();
    assert!(
        logs.contains(&format!(
            "sessions still open after {:?}; closing them",
            Duration::from_secs(grace)
        )),
        "{logs}"
    );
    // The connection is closed with a 421 (RFC 5321 section 3.8) and without a 250: the
    // message was never acknowledged, and no part of it is stored.
    let rest = conn.expect_eof();
    let rest = String::from_utf8_lossy(&rest);
    assert!(!rest.contains("250"), "{rest}");
    assert_eq!(
        rest,
        "421 4.3.2 Server shutting down; transaction aborted, nothing was accepted\r\n",
        "{}",
        server.logs()
    );
    assert!(
        logs.contains("closed: the shutdown grace is over"),
        "{logs}"
    );
    for sub in ["new", "tmp", "cur"] {
        let kept = files(&server.maildir(ALICE).join(sub));
        assert!(kept.is_empty(), "{sub}: {} files", kept.len());
    }
}
