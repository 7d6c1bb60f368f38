//! IMAP response parser: arbitrary bytes as one message (the first byte picks strict or
//! lenient parsing). Asserts: no panic; an error's offset lies within the message. When the
//! bytes are one whole message for a client-side framer (what `Response::parse` is given in
//! use), whatever parses encodes (UTF-8 allowed in quoted strings) to exactly one message,
//! which parses to the same response.
#![no_main]

use imap_proto::framer::Side;
use imap_proto::response::Response;
use libfuzzer_sys::fuzz_target;
use sansmail_fuzz::imap::{encoded_message, first_message, quirks};

fuzz_target!(|data: &[u8]| {
    let Some((&control, message)) = data.split_first() else {
        return;
    };
    let quirks = quirks(control);
    match Response::parse_with(message, quirks) {
        Ok(response) => {
            if first_message(message, Side::Client) != Some((message, true)) {
                return;
            }
            let encoded = encoded_message(&response, Side::Client);
            let again =
                Response::parse_with(&encoded, quirks).expect("an encoded response parses");
            assert_eq!(again.into_static(), response.into_static());
        }
        Err(error) => assert!(error.offset() <= message.len()),
    }
});
