//! IMAP framer: arbitrary bytes through `imap_proto::framer` on either side, under small
//! limits, with the session refusing the literals the input says, fed whole and in reads cut
//! by a `Chunking`. Asserts: no panic; the frames, literal reports and errors do not depend on
//! the chunking; the caller never has to keep more than `max_message` octets; every message
//! ends with LF and is within `max_message`; only a server-side framer reports literals, each
//! within `max_literal`; every message that parses as a command (strict) or a response
//! (lenient) encodes to bytes that parse to the same value.
#![no_main]

use arbitrary::Arbitrary;
use imap_proto::command::Command;
use imap_proto::encode::{EncodeOptions, Writer};
use imap_proto::framer::{Framed, Framer, FramerConfig};
use imap_proto::response::Response;
use imap_proto::{Encode, Quirks};
use libfuzzer_sys::fuzz_target;
use sansmail_fuzz::chunk::Chunking;

#[derive(Arbitrary, Debug)]
struct Case<'a> {
    /// A server-side framer (commands) or a client-side one (responses).
    server: bool,
    max_line: u8,
    max_literal: u8,
    max_message: u16,
    max_literals: u8,
    max_lines_total: u16,
    /// Bit n set: the n-th literal reported is refused.
    refuse: u64,
    chunking: Chunking,
    bytes: &'a [u8],
}

#[derive(Debug, PartialEq, Eq)]
enum Event {
    Message(Vec<u8>),
    Literal(imap_proto::framer::LiteralHeader),
    Error(imap_proto::framer::FrameError),
}

fn run(case: &Case<'_>, config: FramerConfig, reads: &[&[u8]]) -> Vec<Event> {
    let mut framer = if case.server {
        Framer::server(config)
    } else {
        Framer::client(config)
    };
    let mut buffer: Vec<u8> = Vec::new();
    let mut events = Vec::new();
    let mut literals = 0u32;
    for read in reads {
        buffer.extend_from_slice(read);
        let mut input = &buffer[..];
        while let Some(framed) = framer.next_frame(&mut input) {
            events.push(match framed {
                Framed::Message(m) => {
                    assert!(m.ends_with(b"\n"));
                    assert!(m.len() <= config.max_message.max(1));
                    Event::Message(m.to_vec())
                }
                Framed::Literal(header) => {
                    assert!(case.server);
                    assert!(header.size <= config.max_literal);
                    if case.refuse >> (literals % 64) & 1 == 1 {
                        framer.refuse_literal();
                    } else {
                        framer.accept_literal();
                    }
                    literals += 1;
                    Event::Literal(header)
                }
                Framed::Error(e) => Event::Error(e),
            });
        }
        let consumed = buffer.len() - input.len();
        buffer.drain(..consumed);
        assert!(buffer.len() <= config.max_message.max(1));
    }
    events
}

/// The wire form of `value`, UTF-8 allowed in quoted strings (as the parsers allow it).
fn encode(value: &impl Encode) -> Vec<u8> {
    let mut options = EncodeOptions::default();
    options.utf8 = true;
    let mut w = Writer::new(options);
    value.encode(&mut w);
    w.finish().into_bytes()
}

/// Parse `message` both ways; whatever parses encodes and parses back to itself.
fn round_trip(message: &[u8]) {
    if let Ok(command) = Command::parse_with(message, Quirks::STRICT) {
        let encoded = encode(&command);
        let again =
            Command::parse_with(&encoded, Quirks::STRICT).expect("an encoded command parses");
        assert_eq!(again.into_static(), command.into_static());
    }
    if let Ok(response) = Response::parse_with(message, Quirks::LENIENT) {
        let encoded = encode(&response);
        let again =
            Response::parse_with(&encoded, Quirks::LENIENT).expect("an encoded response parses");
        assert_eq!(again.into_static(), response.into_static());
    }
}

fuzz_target!(|case: Case<'_>| {
    let config = FramerConfig {
        max_line: usize::from(case.max_line),
        max_literal: u64::from(case.max_literal),
        max_message: usize::from(case.max_message),
        max_literals: usize::from(case.max_literals),
        max_lines_total: usize::from(case.max_lines_total),
    };
    let whole = run(&case, config, &[case.bytes]);
    let reads = case.chunking.chunker().split(case.bytes);
    assert_eq!(whole, run(&case, config, &reads));
    for event in &whole {
        if let Event::Message(message) = event {
            round_trip(message);
        }
    }
});
