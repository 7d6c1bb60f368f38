//! IMAP greeting parser: arbitrary bytes as one message (the first byte picks strict or
//! lenient parsing). Asserts: no panic; an error's offset lies within the message. When the
//! bytes are one CRLF line (what `Greeting::parse` is given in use), whatever parses encodes
//! (UTF-8 allowed in quoted strings) to one CRLF line that parses to the same greeting.
#![no_main]

use imap_proto::encode::{EncodeOptions, Writer};
use imap_proto::response::Greeting;
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
    match Greeting::parse_with(message, quirks) {
        Ok(greeting) => {
            let one_line =
                message.ends_with(b"\n") && message.iter().filter(|&&b| b == b'\n').count() == 1;
            if !one_line {
                return;
            }
            let mut options = EncodeOptions::default();
            options.utf8 = true;
            let mut w = Writer::new(options);
            greeting.encode(&mut w);
            let encoded = w.finish().into_bytes();
            assert!(encoded.ends_with(b"\r\n"));
            let line = &encoded[..encoded.len() - 2];
            assert!(!line.contains(&b'\r') && !line.contains(&b'\n'));
            let again = Greeting::parse_with(&encoded, quirks).expect("an encoded greeting parses");
            let greeting = greeting.into_static();
            assert_eq!(again.into_static(), greeting);
        }
        Err(error) => assert!(error.offset() <= message.len()),
    }
});
