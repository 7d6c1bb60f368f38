//! Mail-loop protection by hop count (RFC 5321 section 6.3): the `Received:` header fields of
//! a message are counted as its data streams in, and a message with more than `--max-hops`
//! (ours included) is refused with `554 5.4.6` (RFC 3463: "routing loop detected").
//!
//! [`HopCounter`] reads the data once, in the chunks the SMTP session receives (DATA after
//! dot-unstuffing, or BDAT), and keeps a few bytes of state: no copy of the header block.

/// Default of `--max-hops`: Postfix's `hopcount_limit`.
pub const DEFAULT_MAX_HOPS: usize = 50;

/// The field name counted, lowercased.
const RECEIVED: &[u8] = b"received";

/// Where in the header block the counter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a line, or `n` bytes into it, each matching `received`
    /// case-insensitively.
    Name(usize),
    /// After `received` and optional blanks (the obsolete syntax of RFC 5322 section 4.5.3
    /// allows them before the colon).
    Blanks,
    /// At the start of a line, after a CR: an LF makes it the empty line.
    Cr,
    /// In a line that is not (or no longer may be) a `Received:` field, until its LF.
    Rest,
    /// After the empty line: the body, never counted.
    Body,
}

/// Counts the `Received:` fields of a message's header block as it streams in.
///
/// A field counts when a line of the header block starts with `Received` (any case) followed
/// by optional blanks and a colon; a folded continuation line starts with a blank and so
/// does not count again. The header block ends at the first empty line; `Received:` lines
/// after it are body text. Chunk boundaries do not matter: the state carries across them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopCounter {
    state: State,
    count: usize,
}

impl Default for HopCounter {
    fn default() -> Self {
        HopCounter::new()
    }
}

impl HopCounter {
    /// A counter at the start of a message.
    pub fn new() -> Self {
        HopCounter {
            state: State::Name(0),
            count: 0,
        }
    }

    /// The `Received:` fields seen so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Reads the next bytes of the message.
    pub fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if self.state == State::Body {
                return;
            }
            self.state = self.next(byte);
        }
    }

    fn next(&mut self, byte: u8) -> State {
        match (self.state, byte) {
            (State::Body, _) => State::Body,
            // The empty line: CRLF (or a bare LF) at the start of a line.
            (State::Name(0), b'\n') | (State::Cr, b'\n') => State::Body,
            (State::Name(0), b'\r') => State::Cr,
            (State::Cr, _) => State::Rest,
            (_, b'\n') => State::Name(0),
            (State::Name(n), _) if n == RECEIVED.len() => self.after_name(byte),
            (State::Name(n), _) => match RECEIVED.get(n) {
                Some(expected) if byte.eq_ignore_ascii_case(expected) => State::Name(n + 1),
                _ => State::Rest,
            },
            (State::Blanks, _) => self.after_name(byte),
            (State::Rest, _) => State::Rest,
        }
    }

    /// The byte after `received` (and any blanks): a colon makes the line a field.
    fn after_name(&mut self, byte: u8) -> State {
        match byte {
            b':' => {
                self.count = self.count.saturating_add(1);
                State::Rest
            }
            b' ' | b'\t' => State::Blanks,
            _ => State::Rest,
        }
    }

    /// Whether the message, with the `Received:` field this server adds, has more hops than
    /// `max_hops` allows.
    pub fn over(&self, max_hops: usize) -> bool {
        self.count.saturating_add(1) > max_hops
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(message: &[u8]) -> usize {
        let mut counter = HopCounter::new();
        counter.feed(message);
        counter.count()
    }

    #[test]
    fn counts_received_fields_of_the_header_block_only() {
        let message = b"Received: from a by b\r\nSubject: hi\r\nReceived: from c\r\n by d\r\n\
                        \r\nReceived: from the body\r\n";
        assert_eq!(count(message), 2);
    }

    #[test]
    fn field_names_in_any_case_and_with_blanks_before_the_colon_count() {
        assert_eq!(
            count(b"received: x\r\nRECEIVED:y\r\nReCeIvEd \t: z\r\n\r\n"),
            3
        );
    }

    #[test]
    fn lookalikes_do_not_count() {
        let message = b"X-Received: a\r\nReceived-SPF: pass\r\nReceivedx: b\r\n \
                        Received: folded\r\nReceived\r\nSubject: Received: no\r\n\r\n";
        assert_eq!(count(message), 0);
    }

    #[test]
    fn a_field_split_across_chunks_counts_once_at_every_split() {
        let message =
            b"Subject: s\r\nReceived: from a\r\n\tby b\r\nreceived : c\r\n\r\nReceived: d\r\n";
        for split in 0..=message.len() {
            let (head, tail) = message.split_at(split);
            let mut counter = HopCounter::new();
            counter.feed(head);
            counter.feed(tail);
            assert_eq!(counter.count(), 2, "split at {split}");
        }
        // One byte at a time.
        let mut counter = HopCounter::new();
        for byte in message {
            counter.feed(std::slice::from_ref(byte));
        }
        assert_eq!(counter.count(), 2);
    }

    #[test]
    fn the_empty_line_ends_the_header_block_even_with_bare_line_feeds() {
        assert_eq!(count(b"Received: a\n\nReceived: b\n"), 1);
        // A lone CR at the start of a line is not the empty line.
        assert_eq!(count(b"Received: a\r\n\rX\r\nReceived: b\r\n\r\n"), 2);
        // A message without a header block: its first line is empty.
        assert_eq!(count(b"\r\nReceived: a\r\n"), 0);
    }

    #[test]
    fn a_bounce_of_a_looping_message_has_no_hops_of_its_own() {
        // The queue's notifications carry the original header block in a MIME part, that is
        // in their body: a bounce of a message at the limit is not itself over it.
        use crate::queue::dsn::{Action, Line, Report, build, header_block};
        use std::time::{Duration, UNIX_EPOCH};
        let original = [
            b"Received: from loop.example by mx.example\r\n".repeat(60),
            b"Subject: loop\r\n\r\nbody\r\n".to_vec(),
        ]
        .concat();
        let lines = [Line {
            address: "bob@example.org".into(),
            action: Action::Failed,
            status: "5.4.6".into(),
            remote: String::new(),
            diagnostic: "mail for example.org loops back to myself".into(),
        }];
        let bounce = build(&Report {
            hostname: "mx.example.com",
            id: "Q1",
            to: "alice@example.com",
            arrival: UNIX_EPOCH + Duration::from_secs(1_234_567_890),
            now: UNIX_EPOCH + Duration::from_secs(1_234_567_990),
            retry_until: None,
            lines: &lines,
            headers: header_block(&original),
        });
        assert_eq!(count(&original), 60);
        assert!(bounce.windows(9).any(|w| w == b"Received:"));
        let mut counter = HopCounter::new();
        counter.feed(&bounce);
        assert_eq!(counter.count(), 0);
        assert!(!counter.over(1));
    }

    #[test]
    fn the_limit_counts_our_own_field() {
        let mut counter = HopCounter::new();
        counter.feed(&b"Received: x\r\n".repeat(49));
        assert!(
            !counter.over(DEFAULT_MAX_HOPS),
            "49 + ours = 50 is within 50"
        );
        counter.feed(b"Received: x\r\n");
        assert!(counter.over(DEFAULT_MAX_HOPS), "50 + ours = 51 is over 50");
    }
}
