//! IMAP command parser: arbitrary bytes as one message (the first byte picks strict or
//! lenient parsing). Asserts: no panic; an error's offset lies within the message and its tag,
//! when there is one, is the message's first word; whatever parses encodes to a message that
//! a server-side framer takes as exactly one message, which parses to the same command.
#![no_main]

use imap_proto::command::Command;
use imap_proto::framer::{Framed, Framer, FramerConfig};
use imap_proto::{Encode, Quirks};
use libfuzzer_sys::fuzz_target;

/// `bytes` through a server-side framer that accepts every literal: the one message.
fn one_message(bytes: &[u8]) -> &[u8] {
    let mut framer = Framer::server(FramerConfig::default());
    let mut input = bytes;
    loop {
        match framer.next_frame(&mut input) {
            Some(Framed::Message(m)) => {
                assert!(input.is_empty(), "more than one message");
                return m;
            }
            Some(Framed::Literal(_)) => framer.accept_literal(),
            other => panic!("encoded command does not frame: {other:?}"),
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
            let encoded = command.to_bytes();
            let framed = one_message(&encoded);
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
