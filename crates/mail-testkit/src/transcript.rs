//! One transcript format for every protocol test, its parser, and [`replay`], which runs a
//! transcript against one machine.
//!
//! # The format
//!
//! A transcript is what goes over the wire, one line of the script per line of the protocol,
//! as RFCs write their examples:
//!
//! ```text
//! # A comment: the whole line is ignored, as are blank lines and leading blanks.
//! S: 220 mx.example ESMTP          the server sends "220 mx.example ESMTP\r\n"
//! C: EHLO client.example           the client sends "EHLO client.example\r\n"
//! S: 250-mx.example                a multi-line reply is one S: line per wire line;
//! S: 250 PIPELINING                the "-" after the code is the protocol's continuation
//! C: MAIL FROM:<a@client.example>  consecutive lines of one side form one step: the client
//! C: RCPT TO:<b@mx.example>        sends both lines in one write (pipelining)
//! --                               ends the step: the next line starts a new one even if
//! C: DATA                          it comes from the same side
//! C:                               an empty line: just CRLF
//! C: bare\nLF, tab\t, \\, \x00     escapes: \r \n \t \\ and \xHH (two hex digits)
//! C: no line ending\               a final lone backslash: no CRLF after this line
//! C! eof                           the client closes its side of the connection
//! ```
//!
//! Only one space after `C:` or `S:` is dropped, so `S:  x` sends `" x\r\n"`; trailing blanks
//! are kept. A line ending in a real `\r` (a Rust `"...\r\n..."` literal) loses it, as
//! [`str::lines`] does: write `\r` as the two characters `\` `r` instead.
//!
//! ```
//! use mail_testkit::{Side, Transcript};
//! use mail_testkit::transcript::Step;
//!
//! let transcript = Transcript::new(
//!     r"# STARTTLS with a response injected behind the 220, in the same read
//!       C: STARTTLS
//!       S: 220 Go ahead
//!       S: 250 injected\
//!       C! eof",
//! );
//! assert_eq!(
//!     transcript.steps(),
//!     [
//!         Step::Send { from: Side::Client, bytes: b"STARTTLS\r\n".to_vec() },
//!         Step::Send { from: Side::Server, bytes: b"220 Go ahead\r\n250 injected".to_vec() },
//!         Step::Eof { from: Side::Client },
//!     ]
//! );
//! assert_eq!(transcript.sent_by(Side::Server), b"220 Go ahead\r\n250 injected");
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Instant;

use mail_wire::session::Session;

use crate::Side;
use crate::chunk::{Chunker, Chunking};
use crate::clock::SimClock;

/// One step of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `from` writes these bytes (one write; the reader may see them in several reads).
    Send {
        /// Who writes.
        from: Side,
        /// What goes over the wire.
        bytes: Vec<u8>,
    },
    /// `from` closes its side of the connection.
    Eof {
        /// Who closes.
        from: Side,
    },
}

/// A script line the parser does not understand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The line number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transcript line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// A parsed transcript: the steps of both sides, in order. See the [module docs](self).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    steps: Vec<Step>,
}

impl FromStr for Transcript {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        Transcript::parse(text)
    }
}

impl Transcript {
    /// Parses a script, panicking with the line number if it is malformed: for tests, whose
    /// scripts are literals.
    pub fn new(text: &str) -> Self {
        Transcript::parse(text).unwrap_or_else(|error| panic!("{error}"))
    }

    /// Parses a script.
    ///
    /// # Errors
    ///
    /// A line that is not blank, a comment, `--`, `C:`, `S:`, `C! eof` or `S! eof`, or that
    /// has a malformed escape.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut steps: Vec<Step> = Vec::new();
        // Whether the last step may still grow (no `--` or EOF since).
        let mut open = false;
        for (index, raw) in text.lines().enumerate() {
            let number = index + 1;
            let error = |message: String| ParseError {
                line: number,
                message,
            };
            let line = raw.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.trim_end() == "--" {
                open = false;
                continue;
            }
            let (from, rest) = match line.get(..2) {
                Some("C:" | "C!") => (Side::Client, &line[1..]),
                Some("S:" | "S!") => (Side::Server, &line[1..]),
                _ => {
                    return Err(error(format!(
                        "expected C:, S:, C! eof, S! eof, -- or a # comment: {raw:?}"
                    )));
                }
            };
            if let Some(directive) = rest.strip_prefix('!') {
                if directive.trim() != "eof" {
                    return Err(error(format!("unknown directive {:?}", directive.trim())));
                }
                steps.push(Step::Eof { from });
                open = false;
                continue;
            }
            let text = &rest[1..];
            let text = text.strip_prefix(' ').unwrap_or(text);
            let bytes = unescape(text).map_err(error)?;
            match steps.last_mut() {
                Some(Step::Send {
                    from: last,
                    bytes: previous,
                }) if open && *last == from => {
                    previous.extend_from_slice(&bytes);
                }
                _ => steps.push(Step::Send { from, bytes }),
            }
            open = true;
        }
        Ok(Transcript { steps })
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Everything `side` sends, concatenated.
    pub fn sent_by(&self, side: Side) -> Vec<u8> {
        let mut out = Vec::new();
        for step in &self.steps {
            if let Step::Send { from, bytes } = step {
                if *from == side {
                    out.extend_from_slice(bytes);
                }
            }
        }
        out
    }
}

/// The bytes of one script line's text: escapes decoded, CRLF appended unless the text ends
/// in a lone backslash.
fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() + 2);
    let mut chars = text.char_indices();
    while let Some((_, c)) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            None => return Ok(out),
            Some((_, 'r')) => out.push(b'\r'),
            Some((_, 'n')) => out.push(b'\n'),
            Some((_, 't')) => out.push(b'\t'),
            Some((_, '\\')) => out.push(b'\\'),
            Some((at, 'x')) => {
                let hex = text
                    .get(at + 1..at + 3)
                    .ok_or_else(|| format!("\\x needs two hex digits: {text:?}"))?;
                let byte = u8::from_str_radix(hex, 16)
                    .map_err(|_| format!("\\x needs two hex digits, not {hex:?}"))?;
                out.push(byte);
                chars.next();
                chars.next();
            }
            Some((_, other)) => return Err(format!("unknown escape \\{other} in {text:?}")),
        }
    }
    out.extend_from_slice(b"\r\n");
    Ok(out)
}

/// Runs `transcript` against `machine`, which plays `me`.
///
/// The peer's steps are fed to the machine in reads cut by `chunking` (EOF steps call
/// [`Session::handle_eof`]); after each read every event goes to `on_event` with the
/// machine and the time, and a deadline that is due ([`Session::poll_timeout`] at or before
/// the clock) is handled. At each of `me`'s steps, everything the machine wrote since the
/// previous one must be exactly that step's bytes; at the end nothing more may be written.
/// An EOF step of `me` checks that the machine has closed.
///
/// `on_event` answers decisions through the machine's own API; for the STARTTLS hand-off it
/// calls [`Session::tls_established`] when the test wants the handshake to succeed.
///
/// # Panics
///
/// When the machine writes anything else than the transcript says: that is the test failing.
///
/// ```
/// use std::time::Instant;
/// # use bytes::Bytes;
/// # use mail_wire::session::{EventKind, Session};
/// use mail_testkit::{transcript, Chunking, Side, SimClock, Transcript};
///
/// # // A machine that answers every line with "OK <line>" and closes after "BYE".
/// # #[derive(Debug, Default)]
/// # struct Echo { input: Vec<u8>, out: Vec<u8>, events: Vec<Result<(), std::fmt::Error>>, closed: bool }
/// # impl Session for Echo {
/// #     type Event = Result<(), std::fmt::Error>;
/// #     type Error = std::fmt::Error;
/// #     type Misuse = std::fmt::Error;
/// #     fn feed(&mut self, _: Instant, bytes: &[u8]) {
/// #         self.input.extend_from_slice(bytes);
/// #         while let Some(end) = self.input.windows(2).position(|w| w == b"\r\n") {
/// #             let line: Vec<u8> = self.input.drain(..end + 2).collect();
/// #             self.out.extend_from_slice(b"OK ");
/// #             self.out.extend_from_slice(&line);
/// #             if line == b"BYE\r\n" { self.closed = true; self.events.push(Ok(())); }
/// #         }
/// #     }
/// #     fn handle_eof(&mut self) {}
/// #     fn poll_transmit(&mut self) -> Option<Bytes> {
/// #         (!self.out.is_empty()).then(|| Bytes::from(std::mem::take(&mut self.out)))
/// #     }
/// #     fn poll_event(&mut self) -> Option<Self::Event> { self.events.pop() }
/// #     fn poll_timeout(&self) -> Option<Instant> { None }
/// #     fn handle_timeout(&mut self, _: Instant) {}
/// #     fn wants_input(&self) -> bool { !self.closed }
/// #     fn is_tls(&self) -> bool { false }
/// #     fn tls_established(&mut self, _: Instant) -> Result<(), std::fmt::Error> { Err(std::fmt::Error) }
/// #     fn is_closed(&self) -> bool { self.closed }
/// #     fn classify(event: &Self::Event) -> EventKind<'_, std::fmt::Error> { EventKind::Closed(event) }
/// # }
/// let script = Transcript::new(
///     "C: HELLO
///      C: BYE
///      S: OK HELLO
///      S: OK BYE
///      S! eof",
/// );
/// for chunking in Chunking::standard(1) {
///     let mut events = Vec::new();
///     let mut machine = Echo::default();
///     transcript::replay(&mut machine, Side::Server, &script, &SimClock::new(), chunking,
///         |_, event, _| events.push(event));
///     assert_eq!(events, [Ok(())]);
/// }
/// ```
pub fn replay<M: Session>(
    machine: &mut M,
    me: Side,
    transcript: &Transcript,
    clock: &SimClock,
    chunking: Chunking,
    mut on_event: impl FnMut(&mut M, M::Event, Instant),
) {
    let now = clock.now();
    let mut chunker = Chunker::new(chunking);
    let mut written = Vec::new();
    let mut settle = |machine: &mut M, written: &mut Vec<u8>| {
        loop {
            while let Some(event) = machine.poll_event() {
                on_event(machine, event, now);
            }
            match machine.poll_timeout() {
                Some(due) if due <= now && !machine.is_closed() => {
                    machine.handle_timeout(now);
                    if machine.poll_timeout() == Some(due) {
                        break;
                    }
                }
                _ => break,
            }
        }
        while let Some(bytes) = machine.poll_transmit() {
            written.extend_from_slice(&bytes);
        }
    };
    settle(machine, &mut written);
    for (number, step) in transcript.steps().iter().enumerate() {
        match step {
            Step::Send { from, bytes } if *from == me => {
                assert_eq!(
                    String::from_utf8_lossy(&written),
                    String::from_utf8_lossy(bytes),
                    "{me:?} output at step {number}"
                );
                written.clear();
            }
            Step::Send { bytes, .. } => {
                for read in chunker.split(bytes) {
                    machine.feed(now, read);
                    settle(machine, &mut written);
                }
            }
            Step::Eof { from } if *from == me => {
                assert!(
                    machine.is_closed(),
                    "{me:?} should have closed at step {number}"
                );
            }
            Step::Eof { .. } => {
                machine.handle_eof();
                settle(machine, &mut written);
            }
        }
    }
    settle(machine, &mut written);
    assert!(
        written.is_empty(),
        "{me:?} wrote more than the transcript shows: {:?}",
        String::from_utf8_lossy(&written)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(from: Side, bytes: &[u8]) -> Step {
        Step::Send {
            from,
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn lines_of_one_side_join_and_sides_alternate() {
        let t = Transcript::new(
            "S: 220 ready
             C: EHLO a
             S: 250-x
             S: 250 y
             C: MAIL FROM:<>
             C: RCPT TO:<b@c>",
        );
        assert_eq!(
            t.steps(),
            [
                send(Side::Server, b"220 ready\r\n"),
                send(Side::Client, b"EHLO a\r\n"),
                send(Side::Server, b"250-x\r\n250 y\r\n"),
                send(Side::Client, b"MAIL FROM:<>\r\nRCPT TO:<b@c>\r\n"),
            ]
        );
        assert_eq!(
            t.sent_by(Side::Client),
            b"EHLO a\r\nMAIL FROM:<>\r\nRCPT TO:<b@c>\r\n"
        );
    }

    #[test]
    fn comments_blank_lines_and_separators() {
        let t = Transcript::new(
            "# greeting
             S: 220 ready

               # indented comment
             C: A
             --
             C: B
             -- 
             --
             S: 1",
        );
        assert_eq!(
            t.steps(),
            [
                send(Side::Server, b"220 ready\r\n"),
                send(Side::Client, b"A\r\n"),
                send(Side::Client, b"B\r\n"),
                send(Side::Server, b"1\r\n"),
            ]
        );
        // A `#` inside a line is text.
        assert_eq!(
            Transcript::new("C: a # b").steps(),
            [send(Side::Client, b"a # b\r\n")]
        );
    }

    #[test]
    fn spaces_escapes_and_missing_line_endings() {
        let t = Transcript::new(r"C:  two spaces, trailing  ");
        assert_eq!(
            t.steps(),
            [send(Side::Client, b" two spaces, trailing  \r\n")]
        );
        let t = Transcript::new(r"C:nospace");
        assert_eq!(t.steps(), [send(Side::Client, b"nospace\r\n")]);
        let t = Transcript::new("C:\nC: ");
        assert_eq!(t.steps(), [send(Side::Client, b"\r\n\r\n")]);
        let t = Transcript::new(r"C: a\rb\nc\td\\e\x00\xfF\x41");
        assert_eq!(
            t.steps(),
            [send(Side::Client, b"a\rb\nc\td\\e\x00\xffA\r\n")]
        );
        let t = Transcript::new("C: STARTTLS\\\nC: \\\\\\\nC: \\");
        assert_eq!(t.steps(), [send(Side::Client, b"STARTTLS\\")]);
        let t = Transcript::new("C: héllo\\\nC: \\r\\n.\\r\\n\\");
        assert_eq!(t.steps(), [send(Side::Client, "héllo\r\n.\r\n".as_bytes())]);
    }

    #[test]
    fn eof_directives_end_steps() {
        let t = Transcript::new("C: QUIT\nS: 221 Bye\nS! eof\nS: late\nC!   eof  ");
        assert_eq!(
            t.steps(),
            [
                send(Side::Client, b"QUIT\r\n"),
                send(Side::Server, b"221 Bye\r\n"),
                Step::Eof { from: Side::Server },
                send(Side::Server, b"late\r\n"),
                Step::Eof { from: Side::Client },
            ]
        );
    }

    #[test]
    fn malformed_lines_are_errors_with_their_number() {
        let error = |text: &str| Transcript::parse(text).unwrap_err();
        assert_eq!(error("C: a\nX: b").line, 2);
        assert_eq!(error("\n\nc: lower case").line, 3);
        assert_eq!(error("S! close").line, 1);
        assert!(error(r"C: \q").message.contains("unknown escape"));
        assert!(error(r"C: \x4").message.contains("two hex digits"));
        assert!(error(r"C: \xZZ").message.contains("two hex digits"));
        assert!(error(r"C: \xé0").message.contains("two hex digits"));
        assert_eq!(
            error("C: a\nwhat").to_string(),
            "transcript line 2: expected C:, S:, C! eof, S! eof, -- or a # comment: \"what\""
        );
        assert_eq!("C: x".parse::<Transcript>(), Ok(Transcript::new("C: x")));
        assert_eq!(Transcript::new("").steps(), []);
    }

    #[test]
    #[should_panic(expected = "transcript line 1")]
    fn new_panics_on_malformed_scripts() {
        let _ = Transcript::new("HELO");
    }
}
