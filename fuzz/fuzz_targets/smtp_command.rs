//! SMTP command parser: arbitrary bytes as one line (the first byte selects the SMTPUTF8
//! option). Asserts: no panic; the parser (hand-written fast path, then the reference
//! grammar) gives exactly what the reference grammar alone gives, value or error; whatever
//! parses encodes to one CRLF-terminated line without other CR or LF, and that line parses
//! to the same command; `into_owned` keeps the value.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use smtp_proto::{Command, ParseOptions};

fuzz_target!(|data: &[u8]| {
    let Some((&control, line)) = data.split_first() else {
        return;
    };
    let options = ParseOptions::default().with_smtputf8(control & 1 == 1);
    let parsed = Command::parse_with(line, options);
    assert_eq!(
        parsed,
        Command::parse_reference(line, options),
        "fast path and reference differ"
    );
    let Ok(command) = parsed else {
        return;
    };
    let mut out = BytesMut::new();
    command.encode(&mut out);
    assert!(out.ends_with(b"\r\n"));
    let encoded = &out[..out.len() - 2];
    assert!(!encoded.contains(&b'\r') && !encoded.contains(&b'\n'));
    let again = Command::parse_with(encoded, options).expect("an encoded command parses");
    assert_eq!(again, command);
    assert_eq!(command.clone().into_owned(), command);
});
