//! Dot decoder and encoder: arbitrary input decoded under every policy with a size limit.
//! Asserts: no panic; the outcome does not depend on the chunking; at most four octets stay
//! buffered while the body is open; and encoding the input as a body then decoding it gives
//! the body back (Preserve), CRLF-terminated as SMTP requires.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mail_wire::dot::{BareLineEnding, DotDecoder, DotEncoder, DotEvent};

#[derive(Debug, PartialEq)]
struct Outcome {
    body: Vec<u8>,
    events: Vec<DotEvent>,
    rest: Option<Vec<u8>>,
}

fn decode(input: &[u8], policy: BareLineEnding, max: u64, chunk: usize) -> Outcome {
    let mut decoder = DotDecoder::new(policy, max);
    let mut buf = BytesMut::new();
    let mut out = Outcome {
        body: Vec::new(),
        events: Vec::new(),
        rest: None,
    };
    for piece in input.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        while let Some(event) = decoder.next_event(&mut buf) {
            match event {
                DotEvent::Data(data) => {
                    assert!(out.events.is_empty(), "data after the refusal or the end");
                    out.body.extend_from_slice(&data);
                }
                other => out.events.push(other),
            }
        }
        if decoder.is_done() {
            out.rest = Some(buf.to_vec());
        } else {
            assert!(buf.len() <= 4, "{} octets left buffered", buf.len());
        }
    }
    assert!(out.body.len() as u64 <= max);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let policy = [
        BareLineEnding::Reject,
        BareLineEnding::Normalize,
        BareLineEnding::Preserve,
    ][usize::from(control % 3)];
    let max = if control & 0x80 == 0 {
        u64::MAX
    } else {
        u64::from(control & 0x7f) * 8
    };
    let chunk = usize::from((control >> 2) & 0x1f) + 1;
    let whole = decode(input, policy, max, input.len());
    assert_eq!(whole, decode(input, policy, max, chunk));

    let mut wire = BytesMut::new();
    let mut encoder = DotEncoder::new();
    for piece in input.chunks(chunk) {
        encoder.encode(piece, &mut wire);
    }
    encoder.finish(&mut wire);
    let decoded = decode(&wire, BareLineEnding::Preserve, u64::MAX, chunk);
    let mut expected = input.to_vec();
    if !expected.is_empty() && !expected.ends_with(b"\r\n") {
        expected.extend_from_slice(b"\r\n");
    }
    assert_eq!(decoded.body, expected);
    assert_eq!(decoded.rest.as_deref(), Some(&b""[..]));
});
