//! Checks the session targets share. Each panics, with the offending bytes or event in its
//! message, when the property does not hold.

use std::time::Instant;

use mail_wire::session::{EventKind, Session};
use smtp_proto::{Command, ParseOptions, ReplyParser};

/// One write of an SMTP server: whole reply lines, each ended by CRLF and starting with a
/// 3-digit code, which a reply parser accepts, and no multi-line reply cut off (so the lines of
/// a multi-line reply keep their code).
pub fn reply_lines(bytes: &[u8]) {
    assert!(bytes.ends_with(b"\r\n"), "partial line written: {bytes:?}");
    let mut parser = ReplyParser::new(usize::MAX);
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let line = line
            .strip_suffix(b"\r\n")
            .unwrap_or_else(|| panic!("reply line not ended by CRLF in {bytes:?}"));
        assert!(
            line.len() >= 3 && line[..3].iter().all(u8::is_ascii_digit),
            "reply line without a 3-digit code: {line:?}"
        );
        parser
            .push_line(line)
            .unwrap_or_else(|e| panic!("malformed reply line {line:?}: {e}"));
    }
    assert!(!parser.is_pending(), "multi-line reply cut off: {bytes:?}");
}

/// What an SMTP client writes outside a message body: CRLF-terminated lines without another
/// CR, each a command (SMTPUTF8 allowed), a SASL response (base64 or empty), the `*` that
/// cancels an exchange, or the `.` that ends a pipelined DATA after a failed transaction.
pub fn command_lines(bytes: &[u8]) {
    assert!(
        bytes.ends_with(b"\r\n"),
        "partial command written: {bytes:?}"
    );
    let options = ParseOptions::default().with_smtputf8(true);
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let line = line
            .strip_suffix(b"\r\n")
            .unwrap_or_else(|| panic!("command not ended by CRLF in {bytes:?}"));
        assert!(!line.contains(&b'\r'), "bare CR in a command: {bytes:?}");
        let sasl = line
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(b));
        assert!(
            line == b"." || line == b"*" || sasl || Command::parse_with(line, options).is_ok(),
            "not a command line: {line:?}"
        );
    }
}

/// A whole DATA body as an SMTP client wrote it: CRLF line endings only, and one end marker,
/// at its end (`.` CRLF alone for the empty message).
pub fn data_body(body: &[u8]) {
    assert!(
        body.ends_with(b"\r\n.\r\n") || body == b".\r\n",
        "DATA body without its end marker: {body:?}"
    );
    for (i, &b) in body.iter().enumerate() {
        match b {
            b'\r' => assert_eq!(body.get(i + 1), Some(&b'\n'), "bare CR in {body:?}"),
            b'\n' => assert!(i > 0 && body[i - 1] == b'\r', "bare LF in {body:?}"),
            _ => {}
        }
    }
    if body == b".\r\n" {
        // The empty message (a pipelined 354 after every recipient was refused).
        return;
    }
    let content = &body[..body.len() - 3];
    assert!(
        !content.starts_with(b".\r\n") || content.is_empty(),
        "end marker at the start of {body:?}"
    );
    // Up to the final ".\r\n": an earlier marker may share its CRLF with the final one
    // (`...\r\n.\r\n.\r\n`, a last line "." left unstuffed).
    let marker = b"\r\n.\r\n";
    let early = content.windows(marker.len()).any(|w| w == marker);
    assert!(!early, "end marker inside the body: {body:?}");
}

/// BDAT chunks as an SMTP client wrote them: each a `BDAT n` command line followed by exactly
/// n octets.
pub fn bdat_chunks(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let end = bytes
            .windows(2)
            .position(|w| w == b"\r\n")
            .unwrap_or_else(|| panic!("BDAT line not ended: {bytes:?}"));
        let Ok(Command::Bdat { size, .. }) = Command::parse(&bytes[..end]) else {
            panic!("not a BDAT command: {bytes:?}");
        };
        let size = usize::try_from(size).expect("small chunk");
        assert!(bytes.len() >= end + 2 + size, "BDAT chunk cut short");
        bytes = &bytes[end + 2 + size..];
    }
}

/// Output grows at most linearly with input: `written <= fixed + per_octet * read`.
pub fn linear_output(written: usize, read: usize, fixed: usize, per_octet: usize) {
    assert!(
        written <= fixed + per_octet * read,
        "{written} octets written for {read} read"
    );
}

/// After the application answered every event: the machine wants input, is closed, or runs
/// a deadline that will move it on (a server holding its greeting back takes no more input
/// from an early talker until the greeting is out).
pub fn settled<S: Session>(session: &S) {
    assert!(
        session.wants_input() || session.is_closed() || session.poll_timeout().is_some(),
        "every event answered, yet the machine wants no input and waits for nothing"
    );
}

/// Watches the events of one session: nothing after `Closed`, and `Closed` only once the
/// machine says it is closed, with no deadline left.
#[derive(Debug, Default)]
pub struct Lifecycle {
    closes: usize,
}

impl Lifecycle {
    /// Checks `event`, just returned by `session.poll_event()`; returns whether it is the
    /// `Closed` event.
    pub fn observe<S>(&mut self, session: &S, event: &S::Event) -> bool
    where
        S: Session,
        S::Event: std::fmt::Debug,
    {
        assert_eq!(self.closes, 0, "event after Closed: {event:?}");
        let closed = matches!(S::classify(event), EventKind::Closed(_));
        if closed {
            self.closes += 1;
            assert!(session.is_closed(), "Closed, yet the machine is open");
            assert!(session.poll_timeout().is_none(), "a deadline after Closed");
        }
        closed
    }

    /// Whether `Closed` was observed.
    pub fn is_closed(&self) -> bool {
        self.closes > 0
    }

    /// Checks the end of a session whose driver called `handle_eof` and then answered every
    /// event: exactly one `Closed` came; then feeds `late` input and another end of input, and
    /// checks that neither produces an event or output.
    pub fn ended<S: Session>(&self, session: &mut S, now: Instant, late: &[u8]) {
        assert!(session.is_closed(), "open after handle_eof");
        assert_eq!(
            self.closes, 1,
            "not exactly one Closed event after handle_eof"
        );
        session.feed(now, late);
        session.handle_eof();
        assert!(session.poll_event().is_none(), "event after Closed");
        assert!(session.poll_transmit().is_none(), "output after Closed");
    }
}
