//! IMAP AUTHENTICATE data and IDLE's DONE: arbitrary bytes as one client line into
//! `AuthenticateData::parse` and `IdleDone::parse`. Asserts: no panic; an error's offset lies
//! within the line; whatever parses encodes to one CRLF line without other CR or LF, which
//! parses to the same value.
#![no_main]

use imap_proto::Encode;
use imap_proto::command::{AuthenticateData, IdleDone};
use libfuzzer_sys::fuzz_target;

fn one_line(encoded: &[u8]) {
    assert!(encoded.ends_with(b"\r\n"));
    let line = &encoded[..encoded.len() - 2];
    assert!(!line.contains(&b'\r') && !line.contains(&b'\n'));
}

fuzz_target!(|line: &[u8]| {
    match AuthenticateData::parse(line) {
        Ok(data) => {
            let encoded = data.to_bytes();
            one_line(&encoded);
            let again = AuthenticateData::parse(&encoded).expect("encoded data parses");
            let data = data.into_static();
            assert_eq!(again.into_static(), data);
        }
        Err(error) => assert!(error.offset() <= line.len()),
    }
    match IdleDone::parse(line) {
        Ok(done) => {
            let encoded = done.to_bytes();
            one_line(&encoded);
            assert_eq!(IdleDone::parse(&encoded), Ok(done));
        }
        Err(error) => assert!(error.offset() <= line.len()),
    }
});
