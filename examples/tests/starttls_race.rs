//! The first commands after an IMAP STARTTLS handshake, at every timing a client can give
//! them: the real `mail-server` binary on loopback, and Python's `ssl` (OpenSSL, a TLS stack we
//! did not write) driving the handshake through memory buffers so that the test, not the
//! library, decides which bytes leave in which write.
//!
//! Why: OpenSSL-based OfflineIMAP (imaplib2) stalled after STARTTLS in a few runs in a hundred
//! or so. The capture showed the client never sent its first command; the cause is imaplib2
//! calling `SSL_read` and `SSL_write` on one OpenSSL object from two threads while the
//! server's TLS 1.3 session tickets arrive (interop_offlineimap.rs's module doc has the
//! evidence). These checks pin down the server's side of that moment: whatever the client
//! sends with or right behind its `Finished`, before or while the server's session tickets are
//! on their way, is answered.
//!
//! Each of three ways, 25 connections in a row on one server:
//! - `coalesced`: the client's `Finished` and two commands in one write (one TCP segment);
//! - `split`: the `Finished` in one write, the commands in the next, sent at once without
//!   reading the server's session tickets first;
//! - `bytewise`: the `Finished` and the commands one byte a write (`TCP_NODELAY`).
//!
//! Every connection must get the `CAPABILITY` answer (without `STARTTLS`, with `AUTH=PLAIN`)
//! and both tagged `OK`s, and the server must log `TLS started` once for each.
//!
//! The check bites: with the driver changed to drop the plaintext rustls had taken in with the
//! client's `Finished` (the STARTTLS hand-off of buffered bytes), `coalesced` fails at its
//! first run with no answer within 20 s.

mod support;

use support::*;

/// Connections per way.
const RUNS: usize = 25;

/// The Python client: `port`, the trust anchor, the number of runs; prints one
/// `ok <way> <runs>` line per way that passed, and exits 1 naming the run that did not.
const CLIENT: &str = r#"
import socket, ssl, sys
port, cafile, runs = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context(cafile=cafile)

def line(s):
    out = b""
    while not out.endswith(b"\n"):
        b = s.recv(1)
        if not b:
            sys.exit("connection closed in plaintext after %r" % out)
        out += b
    return out

def fail(way, run, why):
    sys.exit("%s run %d: %s" % (way, run, why))

def session(way, run):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    line(s)
    s.sendall(b"a STARTTLS\r\n")
    reply = line(s)
    if not reply.startswith(b"a OK"):
        fail(way, run, "STARTTLS answered %r" % reply)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            flight = outgoing.read()
            if flight:
                s.sendall(flight)
            chunk = s.recv(65536)
            if not chunk:
                fail(way, run, "connection closed in the handshake")
            incoming.write(chunk)
    # The client's side of the handshake is done: its Finished is in `outgoing`, unsent.
    finished = outgoing.read()
    tls.write(b"b CAPABILITY\r\nc NOOP\r\n")
    commands = outgoing.read()
    if way == "coalesced":
        s.sendall(finished + commands)
    elif way == "split":
        s.sendall(finished)
        s.sendall(commands)
    else:
        for i in range(len(finished + commands)):
            s.sendall((finished + commands)[i:i + 1])
    answer = b""
    while b"c OK" not in answer:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            fail(way, run, "no answer within 20 s after %r" % answer)
        if not chunk:
            fail(way, run, "connection closed after %r" % answer)
        incoming.write(chunk)
        while True:
            try:
                data = tls.read(65536)
            except ssl.SSLWantReadError:
                break
            if not data:
                fail(way, run, "TLS closed after %r" % answer)
            answer += data
    caps = [l for l in answer.split(b"\r\n") if l.startswith(b"* CAPABILITY ")]
    if len(caps) != 1 or b" STARTTLS" in caps[0] or b" AUTH=PLAIN" not in caps[0]:
        fail(way, run, "CAPABILITY answer %r" % answer)
    if b"\r\nb OK" not in b"\r\n" + answer:
        fail(way, run, "no tagged OK for CAPABILITY in %r" % answer)
    s.close()

for way in ("coalesced", "split", "bytewise"):
    for run in range(1, runs + 1):
        session(way, run)
    print("ok", way, runs, flush=True)
"#;

#[test]
fn commands_with_or_right_behind_the_client_finished_are_answered() {
    if !have_python() {
        return;
    }
    let dir = TempDir::new("starttls-race");
    let (server, imap, _imaps) = start_with_imap(&dir, &[]);
    let cert = dir.path().join("data").join("tls").join("cert.pem");
    let output = run_bounded(
        "python3",
        &[
            "-c",
            CLIENT,
            &imap.to_string(),
            cert.to_str().expect("a UTF-8 temporary path"),
            &RUNS.to_string(),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\nstdout:\n{stdout}\nstderr:\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        server.logs()
    );
    assert_eq!(
        stdout,
        format!("ok coalesced {RUNS}\nok split {RUNS}\nok bytewise {RUNS}\n")
    );
    // The log lines reach the test through a pipe: wait for the last one.
    poll("one `TLS started` per connection", || {
        (server.stderr().matches("TLS started").count() == 3 * RUNS).then_some(())
    });
}
