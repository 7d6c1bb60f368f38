//! IMAP command parser: arbitrary bytes as one message (the first byte picks strict or
//! lenient parsing). Asserts: no panic; an error's offset lies within the message and its tag,
//! when there is one, is the message's first word. When the bytes are one whole message for a
//! server-side framer (what `Command::parse` is given in use), whatever parses encodes (UTF-8
//! allowed in quoted strings, as the parser allows it) to exactly one message, which parses to
//! the same command.
#![no_main]

use imap_proto::command::Command;
use imap_proto::encode::{EncodeOptions, Writer};
use imap_proto::framer::{Framed, Framer, FramerConfig};
use imap_proto::{Encode, Quirks};
use libfuzzer_sys::fuzz_target;

/// `bytes` through a server-side framer that accepts every literal: the first message, and
/// whether it is all of `bytes`.
fn first_message(bytes: &[u8]) -> Option<(&[u8], bool)> {
    let mut framer = Framer::server(FramerConfig::default());
    let mut input = bytes;
    loop {
        match framer.next_frame(&mut input) {
            Some(Framed::Message(m)) => return Some((m, input.is_empty())),
            Some(Framed::Literal(_)) => framer.accept_literal(),
            _ => return None,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, message)) = data.split_first() else {
        return;
    };
    let quirks = if control & 1 == 0 {
        Quirks::STRICT
    } else {
        Quirks::LENIENT
    };
    match Command::parse_with(message, quirks) {
        Ok(command) => {
            if first_message(message) != Some((message, true)) {
                return;
            }
            let mut options = EncodeOptions::default();
            options.utf8 = true;
            let mut w = Writer::new(options);
            command.encode(&mut w);
            let encoded = w.finish().into_bytes();
            let (framed, whole) = first_message(&encoded).expect("an encoded command frames");
            assert!(whole, "an encoded command is one message");
            let again = Command::parse_with(framed, quirks).expect("an encoded command parses");
            let command = command.into_static();
            assert_eq!(again.into_static(), command);
        }
        Err(error) => {
            assert!(error.error.offset() <= message.len());
            if let Some(tag) = &error.tag {
                assert!(message.starts_with(tag.as_str().as_bytes()));
            }
        }
    }
});
