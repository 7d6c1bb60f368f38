//! Every line the client writes is written here: commands (encoded by [`Command::encode`]),
//! the BDAT chunk headers, the two SASL lines that are not commands, and the end of an empty
//! DATA body. (A DATA body is dot-stuffed straight into the output in [`body`](super::body).)
//! Each write that asks for a reply also puts what the reply answers on the
//! [`Pending`](super::pending::Pending) queue.
//!
//! Credentials (the initial response of AUTH, each SASL response line) go out as pieces of
//! their own, marked [`Transmit::Secret`], so that every trace hides them
//! ([`Session::poll_transmit_marked`](mail_wire::session::Session::poll_transmit_marked)).

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use mail_wire::sasl::framing;
use mail_wire::session::Transmit;

use crate::command::Command;

use super::Client;
use super::pending::Expect;

/// The line ending of every line the client writes (RFC 5321 section 2.3.8).
const CRLF: &[u8] = b"\r\n";

/// The end of a DATA body with nothing in it: a line with a single dot (RFC 5321 section
/// 4.1.1.4).
const END_OF_EMPTY_DATA: &[u8] = b".\r\n";

impl Client {
    /// Writes `command` and waits for its reply.
    pub(super) fn send_command(&mut self, now: Instant, expect: Expect, command: &Command<'_>) {
        command.encode(&mut self.output);
        self.expect(now, expect);
    }

    /// Writes a line made earlier with [`encode`] and waits for its reply.
    pub(super) fn send_line(&mut self, now: Instant, expect: Expect, line: &[u8]) {
        self.output.extend_from_slice(line);
        self.expect(now, expect);
    }

    /// Writes QUIT without waiting for its reply: the session ends now.
    pub(super) fn write_quit(&mut self) {
        Command::Quit.encode(&mut self.output);
    }

    /// Writes `AUTH mechanism`, with the initial response (already in base64, or `=` for an
    /// empty one) as a secret piece of its own (RFC 4954 section 4), and waits for the reply.
    pub(super) fn send_auth(&mut self, now: Instant, mechanism: &str, initial: Option<&str>) {
        self.output.extend_from_slice(b"AUTH ");
        self.output.extend_from_slice(mechanism.as_bytes());
        match initial {
            Some(initial) => {
                self.output.extend_from_slice(b" ");
                self.write_secret(&[initial.as_bytes(), CRLF]);
            }
            None => self.output.extend_from_slice(CRLF),
        }
        self.expect(now, Expect::Auth);
    }

    /// Writes one SASL response line, the response in base64 (RFC 4954 section 4), as a
    /// secret piece.
    pub(super) fn send_sasl_response(&mut self, now: Instant, response: &[u8]) {
        let line = framing::encode_response(response);
        self.write_secret(&[line.expose().as_bytes(), CRLF]);
        self.expect(now, Expect::Auth);
    }

    /// Queues `parts` as one [`Transmit::Secret`], after everything written before it.
    fn write_secret(&mut self, parts: &[&[u8]]) {
        if !self.output.is_empty() {
            let before = self.output.split().freeze();
            self.marked.push_back(Transmit::Plain(before));
        }
        let mut secret = BytesMut::with_capacity(parts.iter().map(|p| p.len()).sum());
        for part in parts {
            secret.extend_from_slice(part);
        }
        self.marked.push_back(Transmit::Secret(secret.freeze()));
    }

    /// The next piece of output: the pieces queued around a secret first, then what was
    /// written since. Once the output is empty, every command written is on its way: the
    /// next read may answer it.
    pub(super) fn next_transmit(&mut self) -> Option<Transmit> {
        let next = self.marked.pop_front().or_else(|| {
            (!self.output.is_empty()).then(|| Transmit::Plain(self.output.split().freeze()))
        });
        if self.marked.is_empty() && self.output.is_empty() {
            self.pending.sent(self.reads + 1);
        }
        next
    }

    /// Cancels the SASL exchange with `*` (RFC 4954 section 4); the server answers 501.
    pub(super) fn send_sasl_cancel(&mut self, now: Instant) {
        self.output.extend_from_slice(framing::CANCEL);
        self.output.extend_from_slice(CRLF);
        self.expect(now, Expect::AuthCancel);
    }

    /// Ends a DATA body that was never opened, so that the server replies.
    pub(super) fn send_end_of_empty_data(&mut self, now: Instant) {
        self.output.extend_from_slice(END_OF_EMPTY_DATA);
        self.expect(now, Expect::EndOfData);
    }

    /// Writes one BDAT chunk, `BDAT n` or `BDAT n LAST` and its octets, and waits for its
    /// reply.
    pub(super) fn send_chunk(&mut self, now: Instant, chunk: &[u8], last: bool) {
        let size = chunk.len() as u64;
        Command::Bdat { size, last }.encode(&mut self.output);
        self.output.extend_from_slice(chunk);
        self.expect(
            now,
            if last {
                Expect::EndOfData
            } else {
                Expect::Chunk
            },
        );
    }

    /// Waits for a reply to what was just written.
    pub(super) fn expect(&mut self, now: Instant, expect: Expect) {
        self.pending.push(now, expect, &self.config.timeouts);
    }
}

/// A command line, ready to write later (lock-step mode keeps the rest of a transaction's
/// commands until each reply comes).
pub(super) fn encode(command: &Command<'_>) -> Bytes {
    let mut line = BytesMut::new();
    command.encode(&mut line);
    line.freeze()
}
