//! SMTP reply parsers: arbitrary bytes split at LF and fed line by line to a `ReplyParser`
//! with a small line limit (first byte), and whole to `Reply::parse`. Asserts: no panic; each
//! reply encodes and parses back to itself; errors stick; a reply `Reply::parse` accepts comes
//! out of a `ReplyParser` fed its lines as the same value.
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
        // The two parsers build the joined text of the lines separately: they must agree.
        let body = input.strip_suffix(b"\r\n").unwrap_or(input);
        let mut whole = ReplyParser::default();
        let mut assembled = None;
        for line in body.split(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            assembled = whole
                .push_line(line)
                .expect("the lines of a parsed reply parse");
        }
        assert_eq!(assembled.as_ref(), Some(&reply));
    }
    let mut parser = ReplyParser::new(usize::from(control % 8) + 1);
    let mut failed = None;
    for line in input.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let result = parser.push_line(line);
        assert!(
            result.is_err() || failed.is_none(),
            "a line accepted after an error"
        );
        match result {
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
