//! IMAP command parser: arbitrary bytes as one message (the first byte picks strict or
//! lenient parsing). Asserts: no panic; an error's offset lies within the message and its tag,
//! when there is one, is the message's first word. When the bytes are one whole message for a
//! server-side framer (what `Command::parse` is given in use), whatever parses encodes (UTF-8
//! allowed in quoted strings, as the parser allows it) to exactly one message, which parses to
//! the same command.
#![no_main]

use imap_proto::command::Command;
use imap_proto::framer::Side;
use libfuzzer_sys::fuzz_target;
use sansmail_fuzz::imap::{encoded_message, first_message, quirks};

fuzz_target!(|data: &[u8]| {
    let Some((&control, message)) = data.split_first() else {
        return;
    };
    let quirks = quirks(control);
    match Command::parse_with(message, quirks) {
        Ok(command) => {
            if first_message(message, Side::Server) != Some((message, true)) {
                return;
            }
            let encoded = encoded_message(&command, Side::Server);
            let again = Command::parse_with(&encoded, quirks).expect("an encoded command parses");
            assert_eq!(again.into_static(), command.into_static());
        }
        Err(error) => {
            assert!(error.error.offset() <= message.len());
            if let Some(tag) = &error.tag {
                assert!(message.starts_with(tag.as_str().as_bytes()));
            }
        }
    }
});
