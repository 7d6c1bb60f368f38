//! IMAP response parser: arbitrary bytes as one message (the first byte picks strict or
//! lenient parsing). Asserts: no panic; an error's offset lies within the message. When the
//! bytes are one whole message for a client-side framer (what `Response::parse` is given in
//! use), whatever parses encodes (UTF-8 allowed in quoted strings) to exactly one message,
//! which parses to the same response.
#![no_main]

use imap_proto::encode::{EncodeOptions, Writer};
use imap_proto::framer::{Framed, Framer, FramerConfig};
use imap_proto::response::Response;
use imap_proto::{Encode, Quirks};
use libfuzzer_sys::fuzz_target;

/// The first message a client-side framer finds in `bytes`, and whether it is all of them.
fn first_message(bytes: &[u8]) -> Option<(&[u8], bool)> {
    let mut input = bytes;
    match Framer::client(FramerConfig::default()).next_frame(&mut input) {
        Some(Framed::Message(m)) => Some((m, input.is_empty())),
        _ => None,
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
    match Response::parse_with(message, quirks) {
        Ok(response) => {
            if first_message(message) != Some((message, true)) {
                return;
            }
            let mut options = EncodeOptions::default();
            options.utf8 = true;
            let mut w = Writer::new(options);
            response.encode(&mut w);
            let encoded = w.finish().into_bytes();
            let (framed, whole) = first_message(&encoded).expect("an encoded response frames");
            assert!(whole, "an encoded response is one message");
            let again = Response::parse_with(framed, quirks).expect("an encoded response parses");
            let response = response.into_static();
            assert_eq!(again.into_static(), response);
        }
        Err(error) => assert!(error.offset() <= message.len()),
    }
});
