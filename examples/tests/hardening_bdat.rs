//! Issue 14, item 7, against the running `mail-server`: a BDAT text body (no
//! `BODY=BINARYMIME`) with bare LF, bare CR and NUL is stored as a DATA body is, with CRLF
//! line endings and NUL kept; a `BODY=BINARYMIME` body is stored exactly as sent. Before,
//! the text body was stored byte for byte, bare line endings and all: smuggling-shaped
//! content for any tool that forwards the file.
//!
//! The client is a raw TCP socket on loopback: BDAT with bare line endings is exactly what a
//! well-behaved client library refuses to send.

mod support;

use support::*;

/// Starts the server with the two standard accounts.
fn start(tag: &str) -> (TempDir, MailServer) {
    let dir = TempDir::new(tag);
    let server = MailServer::start(&dir.path().join("data"), &users());
    (dir, server)
}

/// A text body in three chunks, cut so that a CR ends the first chunk and the LF that
/// completes its line starts the second: bare LF, bare CR, NUL, a lone dot line and a
/// command look-alike after a bare LF.
const CHUNKS: [&[u8]; 3] = [
    b"Subject: bdat\r\n\r\nbare LF\nbare CR\rNUL \0 kept\r",
    b"\nafter a split CRLF\n.\nMAIL FROM:<evil@example.org>\r\n",
    b"last line\rend\n",
];

/// What the server must store after its trace headers.
const NORMALIZED: &[u8] = b"Subject: bdat\r\n\r\nbare LF\r\nbare CR\r\nNUL \0 kept\r\n\
after a split CRLF\r\n.\r\nMAIL FROM:<evil@example.org>\r\nlast line\r\nend\r\n";

#[test]
fn a_bdat_text_body_is_stored_with_crlf_line_endings() {
    let (_dir, server) = start("bdat-text");
    let mut conn = server.relay();
    let ehlo = conn.cmd_expect("EHLO raw.test", 250);
    assert!(ehlo.contains("CHUNKING"), "{ehlo:?}");
    conn.cmd_expect("MAIL FROM:<carol@example.org>", 250);
    conn.cmd_expect(&format!("RCPT TO:<{ALICE}>"), 250);
    for (i, chunk) in CHUNKS.iter().enumerate() {
        let last = if i == CHUNKS.len() - 1 { " LAST" } else { "" };
        conn.send([format!("BDAT {}{last}\r\n", chunk.len()).as_bytes(), chunk].concat());
    }
    conn.expect(250);
    conn.expect(250);
    let done = conn.expect(250);
    assert!(done.text().contains("delivered as"), "{done:?}");
    conn.cmd_expect("QUIT", 221);
    conn.expect_eof();

    let (name, file) = only_message(&server.data, ALICE);
    // Every line of the file ends in CRLF (the helper checks it), the NUL is there, and the
    // body is exactly the normalized one.
    check_delivered(
        &name,
        &file,
        Trace {
            return_path: "carol@example.org",
            helo: "raw.test",
            protocol: "ESMTP",
            for_rcpt: Some(ALICE),
        },
        NORMALIZED,
    );
    assert!(file.contains(&0));
    // Nobody else got anything from the command look-alike.
    assert!(files(&server.maildir(BOB).join("new")).is_empty());
}

#[test]
fn a_binarymime_body_is_stored_exactly_as_sent() {
    let (_dir, server) = start("bdat-binary");
    let mut conn = server.relay();
    conn.cmd_expect("EHLO raw.test", 250);
    conn.cmd_expect("MAIL FROM:<carol@example.org> BODY=BINARYMIME", 250);
    conn.cmd_expect(&format!("RCPT TO:<{ALICE}>"), 250);
    let body: Vec<u8> = CHUNKS.concat();
    let body = [&body[..], &[0x80, 0xff, 0x00, b'\r']].concat();
    conn.send([format!("BDAT {} LAST\r\n", body.len()).as_bytes(), &body].concat());
    let done = conn.expect(250);
    assert!(done.text().contains("delivered as"), "{done:?}");
    conn.cmd_expect("QUIT", 221);
    conn.expect_eof();

    let (name, file) = only_message(&server.data, ALICE);
    let stored = strip_trace(&file);
    assert!(
        stored == &body[..],
        "the BINARYMIME body changed:\n--- stored ---\n{}\n--- sent ---\n{}",
        String::from_utf8_lossy(stored).escape_debug(),
        String::from_utf8_lossy(&body).escape_debug()
    );
    assert!(name.contains(&format!(",S={},W=", file.len())), "{name}");
}
