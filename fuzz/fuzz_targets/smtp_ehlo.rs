//! EHLO replies to capabilities: arbitrary bytes as a whole reply. Asserts: no panic; the
//! capabilities of a parsed EHLO reply rebuild a reply whose capabilities are the same.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use smtp_proto::{Capabilities, Reply};

fuzz_target!(|data: &[u8]| {
    let Ok(reply) = Reply::parse(data) else {
        return;
    };
    let Ok(caps) = Capabilities::from_reply(&reply) else {
        return;
    };
    let Ok(rebuilt) = caps.to_reply() else {
        return;
    };
    let mut out = BytesMut::new();
    rebuilt.encode(&mut out);
    let again = Reply::parse(&out).expect("an encoded reply parses");
    assert_eq!(
        Capabilities::from_reply(&again).expect("rebuilt capabilities parse"),
        caps
    );
});
