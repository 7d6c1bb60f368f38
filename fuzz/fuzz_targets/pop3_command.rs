//! POP3 command and response parsers: arbitrary bytes as one line. Asserts: no panic;
//! whatever parses as a command encodes to one CRLF-terminated line without other CR or LF,
//! which parses to the same command; the same for a response line, a `CAPA` line and the
//! `LIST` and `UIDL` listing lines.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use pop3_proto::{Capability, Command, Response, ScanListing, UidListing};

fn one_line(out: &BytesMut) -> &[u8] {
    assert!(out.ends_with(b"\r\n"));
    let line = &out[..out.len() - 2];
    assert!(!line.contains(&b'\r') && !line.contains(&b'\n'));
    line
}

fuzz_target!(|line: &[u8]| {
    if let Ok(command) = Command::parse(line) {
        let mut out = BytesMut::new();
        command.encode(&mut out).expect("a parsed command encodes");
        let again = Command::parse(one_line(&out)).expect("an encoded command parses");
        assert_eq!(again, command);
    }
    if let Ok(response) = Response::parse(line) {
        let mut out = BytesMut::new();
        response.encode(&mut out);
        let again = Response::parse(one_line(&out)).expect("an encoded response parses");
        assert_eq!(again.status(), response.status());
        assert_eq!(again.code(), response.code());
        assert_eq!(response.clone().into_owned(), response);
    }
    if let Ok(capability) = Capability::parse(line) {
        let mut out = BytesMut::new();
        capability.encode(&mut out);
        let _ = one_line(&out);
    }
    if let Ok(listing) = ScanListing::parse(line) {
        let mut out = BytesMut::new();
        listing.encode(&mut out);
        assert_eq!(ScanListing::parse(one_line(&out)), Ok(listing));
    }
    if let Ok(listing) = UidListing::parse(line) {
        let mut out = BytesMut::new();
        listing.encode(&mut out);
        assert_eq!(UidListing::parse(one_line(&out)), Ok(listing));
    }
});
