//! SMTP reply parsers: arbitrary bytes split at LF and fed line by line to a `ReplyParser`
//! with a small line limit (first byte), and whole to `Reply::parse`. Asserts: no panic; each
//! reply encodes and parses back to itself; errors stick.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use smtp_proto::{Reply, ReplyParser};

fn round_trip(reply: &Reply<'_>) {
    let mut out = BytesMut::new();
    reply.encode(&mut out);
    assert!(out.ends_with(b"\r\n"));
    assert_eq!(&Reply::parse(&out).expect("an encoded reply parses"), reply);
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    if let Ok(reply) = Reply::parse(input) {
        round_trip(&reply);
    }
    let mut parser = ReplyParser::new(usize::from(control % 8) + 1);
    let mut failed = None;
    for line in input.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match parser.push_line(line) {
            Ok(Some(reply)) => round_trip(&reply),
            Ok(None) => {}
            Err(e) => {
                if let Some(first) = &failed {
                    assert_eq!(first, &e, "errors stick");
                }
                failed = Some(e);
            }
        }
    }
});
