//! IMAP response parser: arbitrary bytes as one message (the first byte picks strict or
//! lenient parsing). Asserts: no panic; an error's offset lies within the message; whatever
//! parses encodes to a message that a client-side framer takes as exactly one message, which
//! parses to the same response.
#![no_main]

use imap_proto::framer::{Framed, Framer, FramerConfig};
use imap_proto::response::Response;
use imap_proto::{Encode, Quirks};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&control, message)) = data.split_first() else {
        return;
    };
    let quirks = if control & 1 == 0 {
        Quirks::STRICT
    } else {
        Quirks::LENIENT
    };
    match Response::parse_with(message, quirks) {
        Ok(response) => {
            let encoded = response.to_bytes();
            let mut input = &encoded[..];
            let framed = match Framer::client(FramerConfig::default()).next_frame(&mut input) {
                Some(Framed::Message(m)) => m,
                other => panic!("encoded response does not frame: {other:?}"),
            };
            assert!(input.is_empty(), "more than one message");
            let again = Response::parse_with(framed, quirks).expect("an encoded response parses");
            let response = response.into_static();
            assert_eq!(again.into_static(), response);
        }
        Err(error) => assert!(error.offset() <= message.len()),
    }
});
