//! Dot transparency: known answers, SMTP smuggling variants, limits, chunking invariance and
//! encode/decode round trips.

use bytes::{Bytes, BytesMut};
use mail_wire::dot::{BareLineEnding, BodyError, DotDecoder, DotEncoder, DotEvent};
use proptest::prelude::*;

const POLICIES: [BareLineEnding; 3] = [
    BareLineEnding::Reject,
    BareLineEnding::Normalize,
    BareLineEnding::Preserve,
];

/// What a decoder made of an input: the body, the events other than data, and the leftover.
#[derive(Debug, PartialEq)]
struct Outcome {
    body: Vec<u8>,
    rejected: Option<BodyError>,
    end: Option<Result<u64, BodyError>>,
    rest: Vec<u8>,
}

/// Feeds `input` split at the given points; checks the buffered-bytes bound after each call.
fn decode_split(policy: BareLineEnding, max: u64, input: &[u8], splits: &[usize]) -> Outcome {
    let mut decoder = DotDecoder::new(policy, max);
    let mut buf = BytesMut::new();
    let mut out = Outcome {
        body: Vec::new(),
        rejected: None,
        end: None,
        rest: Vec::new(),
    };
    let mut points: Vec<usize> = splits.iter().map(|&s| s.min(input.len())).collect();
    points.push(input.len());
    points.sort_unstable();
    let mut fed = 0;
    for point in points {
        buf.extend_from_slice(&input[fed..point]);
        fed = point;
        while let Some(event) = decoder.next_event(&mut buf) {
            match event {
                DotEvent::Data(chunk) => {
                    assert!(out.rejected.is_none(), "data after rejection");
                    out.body.extend_from_slice(&chunk)
                }
                DotEvent::Rejected(error) => {
                    assert!(out.rejected.replace(error).is_none(), "rejected twice")
                }
                DotEvent::End(result) => {
                    assert!(out.end.replace(result).is_none(), "ended twice")
                }
                other => panic!("unknown event {other:?}"),
            }
        }
        if out.end.is_none() {
            assert!(buf.len() <= 4, "decoder left {} octets buffered", buf.len());
        }
    }
    // Before the end, what stays buffered (at most four octets) depends on the chunking.
    if out.end.is_some() {
        out.rest = buf.to_vec();
    }
    out
}

fn decode(policy: BareLineEnding, input: &[u8]) -> Outcome {
    decode_split(policy, u64::MAX, input, &[])
}

fn encode(encoder: &mut DotEncoder, body: &[u8], splits: &[usize]) -> Vec<u8> {
    let mut out = BytesMut::new();
    let mut points: Vec<usize> = splits.iter().map(|&s| s.min(body.len())).collect();
    points.push(body.len());
    points.sort_unstable();
    let mut fed = 0;
    for point in points {
        encoder.encode(&body[fed..point], &mut out);
        fed = point;
    }
    encoder.finish(&mut out);
    out.to_vec()
}

#[test]
fn known_answers() {
    let cases: &[(&[u8], &[u8], &[u8])] = &[
        (b".\r\n", b"", b""),
        (b".\r\nMAIL FROM:<a@b>\r\n", b"", b"MAIL FROM:<a@b>\r\n"),
        (b"a\r\n.\r\n", b"a\r\n", b""),
        (b"..\r\n.\r\n", b".\r\n", b""),
        (b"...\r\n.\r\n", b"..\r\n", b""),
        (b"a\r\n..b\r\n.\r\n", b"a\r\n.b\r\n", b""),
        (b"\r\n.\r\n", b"\r\n", b""),
        (b"a\r\n.b\r\n.\r\n", b"a\r\nb\r\n", b""),
        (b"a\r\n. \r\n.\r\n", b"a\r\n \r\n", b""),
    ];
    for policy in POLICIES {
        for &(wire, body, rest) in cases {
            let out = decode(policy, wire);
            assert_eq!(out.body, body, "{policy:?} {wire:?}");
            assert_eq!(out.end, Some(Ok(body.len() as u64)), "{policy:?} {wire:?}");
            assert_eq!(out.rest, rest, "{policy:?} {wire:?}");
        }
    }
}

#[test]
fn empty_message_is_seen_on_the_first_line() {
    // The registry crate smtp-proto 0.2 misses this one.
    for policy in POLICIES {
        let out = decode_split(policy, 100, b".\r\nQUIT\r\n", &[1, 2]);
        assert_eq!(out.end, Some(Ok(0)));
        assert_eq!(out.rest, b"QUIT\r\n");
    }
}

/// Every bare CR/LF end-marker variant of the SMTP smuggling research is content, never the
/// end, under every policy; the real end marker that follows is found.
#[test]
fn smuggling_variants_never_end_the_body() {
    let variants: [&[u8]; 6] = [
        b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r",
    ];
    let smuggled = b"MAIL FROM:<admin@bank.example>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n";
    for variant in variants {
        let mut wire = b"Subject: hi\r\n\r\nfirst".to_vec();
        wire.extend_from_slice(variant);
        wire.extend_from_slice(smuggled);
        wire.extend_from_slice(b"forged\r\n.\r\nQUIT\r\n");
        for policy in POLICIES {
            for split in [0, 17, 18, 19, 20, 21] {
                let out = decode_split(policy, u64::MAX, &wire, &[split]);
                assert_eq!(out.rest, b"QUIT\r\n", "{policy:?} {variant:?} ended early");
                match policy {
                    BareLineEnding::Reject => {
                        assert!(
                            matches!(
                                out.rejected,
                                Some(BodyError::BareCr { .. } | BodyError::BareLf { .. })
                            ),
                            "{variant:?}: {out:?}"
                        );
                        assert_eq!(out.end, Some(Err(out.rejected.unwrap())));
                    }
                    _ => {
                        assert!(out.rejected.is_none());
                        // The smuggled commands stayed in the body.
                        let body = String::from_utf8_lossy(&out.body);
                        assert!(body.contains("RCPT TO:<victim@example.org>"), "{body:?}");
                        assert!(body.ends_with("forged\r\n"), "{body:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn normalize_turns_bare_endings_into_crlf() {
    let out = decode(BareLineEnding::Normalize, b"a\nb\rc\r\r\n..d\n..e\r\n.\r\n");
    assert_eq!(out.body, b"a\r\nb\r\nc\r\n\r\n.d\r\n.e\r\n");
    assert_eq!(out.end, Some(Ok(out.body.len() as u64)));
}

#[test]
fn preserve_keeps_bare_endings_and_unstuffs_after_them() {
    let out = decode(BareLineEnding::Preserve, b"a\n..b\r..c\r\n.\r\n");
    assert_eq!(out.body, b"a\n.b\r.c\r\n");
}

#[test]
fn reject_reports_the_offset_of_the_first_bare_ending() {
    let out = decode(BareLineEnding::Reject, b"abc\r\ndef\nghi\r.\r\n.\r\n");
    assert_eq!(out.rejected, Some(BodyError::BareLf { offset: 8 }));
    assert_eq!(out.body, b"abc\r\ndef");
    let out = decode(BareLineEnding::Reject, b"abc\rdef\r\n.\r\n");
    assert_eq!(out.rejected, Some(BodyError::BareCr { offset: 3 }));
}

#[test]
fn size_limit_stops_data_but_consumes_to_the_end() {
    let mut wire = Vec::new();
    for _ in 0..1000 {
        wire.extend_from_slice(b"0123456789012345678901234567890123456789\r\n");
    }
    wire.extend_from_slice(b".\r\nRSET\r\n");
    for policy in POLICIES {
        let out = decode_split(policy, 1000, &wire, &[5000, 5001, 20_000]);
        assert_eq!(out.rejected, Some(BodyError::TooLarge { limit: 1000 }));
        assert_eq!(out.end, Some(Err(BodyError::TooLarge { limit: 1000 })));
        assert!(out.body.len() <= 1000);
        assert_eq!(out.rest, b"RSET\r\n");
    }
    // Exactly at the limit is accepted.
    let out = decode(BareLineEnding::Reject, b"12345\r\n.\r\n");
    assert_eq!(out.end, Some(Ok(7)));
    let out = decode_split(BareLineEnding::Reject, 7, b"12345\r\n.\r\n", &[]);
    assert_eq!(out.end, Some(Ok(7)));
    let out = decode_split(BareLineEnding::Reject, 6, b"12345\r\n.\r\n", &[]);
    assert_eq!(out.end, Some(Err(BodyError::TooLarge { limit: 6 })));
}

#[test]
fn rejection_right_before_the_end_marker_still_finds_it() {
    // The limit is passed by the chunk that ends in the CRLF of the end marker.
    let out = decode_split(
        BareLineEnding::Reject,
        3,
        b"abcd\r\n.\r\nNOOP\r\n",
        &[6, 7, 8],
    );
    assert_eq!(out.end, Some(Err(BodyError::TooLarge { limit: 3 })));
    assert_eq!(out.rest, b"NOOP\r\n");
}

#[test]
fn data_chunks_are_slices_of_the_input() {
    let mut buf = BytesMut::from(&b"line one\r\nline two\r\n.\r\n"[..]);
    let base = buf.as_ptr() as usize;
    let mut decoder = DotDecoder::new(BareLineEnding::Reject, u64::MAX);
    let Some(DotEvent::Data(chunk)) = decoder.next_event(&mut buf) else {
        panic!("expected data")
    };
    assert_eq!(chunk.as_ptr() as usize, base, "the chunk was copied");
    assert_eq!(chunk, Bytes::from_static(b"line one\r\nline two\r\n"));
}

#[test]
fn long_body_with_many_stuffed_lines() {
    let mut body = Vec::new();
    for i in 0..5000 {
        if i % 3 == 0 {
            body.push(b'.');
        }
        body.extend_from_slice(format!("line {i} with some text in it\r\n").as_bytes());
    }
    let wire = encode(&mut DotEncoder::new(), &body, &[]);
    for policy in POLICIES {
        let out = decode_split(policy, u64::MAX, &wire, &[1, 300, 301, 70_000]);
        assert_eq!(out.body, body, "{policy:?}");
    }
}

#[test]
fn encoder_stuffs_and_terminates() {
    let cases: &[(&[u8], &[u8])] = &[
        (b"", b".\r\n"),
        (b"a", b"a\r\n.\r\n"),
        (b"a\r\n", b"a\r\n.\r\n"),
        (b".", b"..\r\n.\r\n"),
        (b".\r\n", b"..\r\n.\r\n"),
        (b"a\r\n.\r\nb", b"a\r\n..\r\nb\r\n.\r\n"),
        (b"a\n.b", b"a\n..b\r\n.\r\n"),
        (b"a\r.b", b"a\r..b\r\n.\r\n"),
        (b"a\r", b"a\r\r\n.\r\n"),
    ];
    for &(body, wire) in cases {
        for split in 0..=body.len() {
            assert_eq!(
                encode(&mut DotEncoder::new(), body, &[split]),
                wire,
                "{body:?} split at {split}"
            );
        }
    }
    let normalized: &[(&[u8], &[u8])] = &[
        (b"a\nb", b"a\r\nb\r\n.\r\n"),
        (b"a\r.b\n.", b"a\r\n..b\r\n..\r\n.\r\n"),
        (b"a\r", b"a\r\n.\r\n"),
        (b"\n", b"\r\n.\r\n"),
    ];
    for &(body, wire) in normalized {
        for split in 0..=body.len() {
            assert_eq!(
                encode(&mut DotEncoder::normalizing(), body, &[split]),
                wire,
                "{body:?} split at {split}"
            );
        }
    }
}

/// Bodies made of the octets that matter, so that line starts, dots, CR and LF collide often.
fn body_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            Just(b'.'),
            Just(b'\r'),
            Just(b'\n'),
            Just(b'a'),
            any::<u8>()
        ],
        0..600,
    )
}

/// The body after [`DotEncoder::normalizing`]-style canonicalisation.
fn normalize(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < body.len() {
        match (body[i], body.get(i + 1)) {
            (b'\r', Some(b'\n')) => {
                out.extend_from_slice(b"\r\n");
                i += 2;
                continue;
            }
            (b'\r' | b'\n', _) => out.extend_from_slice(b"\r\n"),
            (octet, _) => out.push(octet),
        }
        i += 1;
    }
    out
}

/// What a body becomes after SMTP transport: CRLF is added if it does not end with one.
fn terminated(mut body: Vec<u8>) -> Vec<u8> {
    if !body.is_empty() && !body.ends_with(b"\r\n") {
        body.extend_from_slice(b"\r\n");
    }
    body
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Encode then decode is the identity (up to the final CRLF SMTP requires), for bodies
    /// with and without dots at line starts, CRLF, bare CR and bare LF.
    #[test]
    fn preserve_round_trip(body in body_strategy(), enc_split in any::<prop::sample::Index>(), dec_splits in prop::collection::vec(0usize..2000, 0..6)) {
        let wire = encode(&mut DotEncoder::new(), &body, &[enc_split.index(body.len() + 1)]);
        let out = decode_split(BareLineEnding::Preserve, u64::MAX, &wire, &dec_splits);
        prop_assert_eq!(&out.body, &terminated(body.clone()));
        prop_assert_eq!(out.end, Some(Ok(out.body.len() as u64)));
        prop_assert!(out.rest.is_empty());
    }

    #[test]
    fn normalize_round_trip(body in body_strategy(), dec_splits in prop::collection::vec(0usize..2000, 0..6)) {
        let wire = encode(&mut DotEncoder::normalizing(), &body, &[]);
        let expected = terminated(normalize(&body));
        for policy in POLICIES {
            let out = decode_split(policy, u64::MAX, &wire, &dec_splits);
            prop_assert_eq!(&out.body, &expected);
            prop_assert!(out.rest.is_empty());
        }
        // Decoding the preserving encoding under Normalize canonicalises what was sent.
        let wire = encode(&mut DotEncoder::new(), &body, &[]);
        let out = decode_split(BareLineEnding::Normalize, u64::MAX, &wire, &dec_splits);
        prop_assert_eq!(&out.body, &normalize(&terminated(body.clone())));
    }

    /// Any split of arbitrary input gives the same outcome, and never more than four octets
    /// stay buffered while the body is open.
    #[test]
    fn chunking_does_not_change_the_outcome(input in body_strategy(), splits in prop::collection::vec(0usize..700, 0..8), max in prop_oneof![Just(u64::MAX), 0u64..400]) {
        for policy in POLICIES {
            let whole = decode_split(policy, max, &input, &[]);
            let split = decode_split(policy, max, &input, &splits);
            prop_assert_eq!(&whole, &split);
            let bytewise: Vec<usize> = (0..input.len()).collect();
            prop_assert_eq!(&whole, &decode_split(policy, max, &input, &bytewise));
        }
    }

    /// Decoding agrees with a line-by-line reference implementation of RFC 5321 4.5.2 for
    /// inputs without bare line endings.
    #[test]
    fn matches_reference_decoder(lines in prop::collection::vec(prop::collection::vec(prop_oneof![Just(b'.'), Just(b'x'), (0x20u8..0x7f)], 0..12), 0..40)) {
        let mut wire = Vec::new();
        for line in &lines {
            wire.extend_from_slice(line);
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(b".\r\n");
        let mut expected = Vec::new();
        for line in wire.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)) {
            if line == b"." {
                break;
            }
            expected.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
            expected.extend_from_slice(b"\r\n");
        }
        let out = decode(BareLineEnding::Reject, &wire);
        prop_assert_eq!(out.body, expected);
    }
}
