//! mail-wire benchmarks: dot decoding and encoding of a 1 MiB body, line framing of 80-octet
//! lines (into `Bytes` and borrowed in place); the registry crate `smtp-proto` 0.2.5's `DataReceiver` side by side on the same body.
//!
//! Run with `cargo bench -p sansmail-benches --bench wire`.

use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use mail_wire::dot::{BareLineEnding, DotDecoder, DotEncoder, DotEvent};
use mail_wire::line::{Frame, FrameRef, LineFramer};
use sansmail_benches::{lines_80, message_body};
use std::hint::black_box;

const MIB: usize = 1 << 20;

fn wire_body() -> Vec<u8> {
    let mut out = BytesMut::new();
    let mut encoder = DotEncoder::new();
    encoder.encode(&message_body(MIB), &mut out);
    encoder.finish(&mut out);
    out.to_vec()
}

/// Decodes the whole of `buf`, returning the decoded size.
fn decode_all(decoder: &mut DotDecoder, buf: &mut BytesMut) -> u64 {
    let mut total = 0u64;
    while let Some(event) = decoder.next_event(buf) {
        match event {
            DotEvent::Data(chunk) => total += black_box(chunk).len() as u64,
            DotEvent::End(result) => return result.expect("accepted"),
            other => panic!("unexpected {other:?}"),
        }
    }
    total
}

fn dot_decode(c: &mut Criterion) {
    let wire = wire_body();
    let mut group = c.benchmark_group("dot_decode_1MiB");
    group.throughput(Throughput::Bytes(wire.len() as u64));
    for (name, policy) in [
        ("sansmail_reject", BareLineEnding::Reject),
        ("sansmail_normalize", BareLineEnding::Normalize),
        ("sansmail_preserve", BareLineEnding::Preserve),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || BytesMut::from(&wire[..]),
                // The buffer is returned so that freeing it is not timed (criterion drops
                // outputs outside the measurement, as it does the peer's output `Vec`).
                |mut buf| {
                    let size = decode_all(&mut DotDecoder::new(policy, u64::MAX), &mut buf);
                    (size, buf)
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.bench_function("sansmail_reject_64KiB_reads", |b| {
        b.iter_batched(
            || BytesMut::with_capacity(128 * 1024),
            |mut buf| {
                let mut decoder = DotDecoder::new(BareLineEnding::Reject, u64::MAX);
                let mut total = 0;
                for read in wire.chunks(64 * 1024) {
                    buf.extend_from_slice(read);
                    total += decode_all(&mut decoder, &mut buf);
                }
                (total, buf)
            },
            BatchSize::LargeInput,
        )
    });
    // The same pipeline for the peer: each 64 KiB read lands in a read buffer (as from a
    // socket), and the receiver copies the decoded body out of it.
    group.bench_function("peer_smtp_proto_0.2.5_64KiB_reads", |b| {
        b.iter_batched(
            || {
                (
                    Vec::with_capacity(64 * 1024),
                    Vec::with_capacity(wire.len()),
                )
            },
            |(mut read_buf, mut out)| {
                let mut receiver = peer_smtp_proto::request::receiver::DataReceiver::new();
                let mut done = false;
                for read in wire.chunks(64 * 1024) {
                    read_buf.clear();
                    read_buf.extend_from_slice(read);
                    done = receiver.ingest(&mut read_buf.iter(), &mut out);
                }
                assert!(done);
                (read_buf, out)
            },
            BatchSize::LargeInput,
        )
    });
    // The peer as its users drive it: the message `Vec` starts empty and grows, and is taken
    // (here: returned) at the end of each message.
    group.bench_function("peer_smtp_proto_0.2.5_growing", |b| {
        b.iter_batched(
            || (),
            |()| {
                let mut out = Vec::new();
                let mut receiver = peer_smtp_proto::request::receiver::DataReceiver::new();
                assert!(receiver.ingest(&mut wire.iter(), &mut out));
                out
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("peer_smtp_proto_0.2.5", |b| {
        b.iter_batched(
            || Vec::with_capacity(wire.len()),
            |mut out| {
                let mut receiver = peer_smtp_proto::request::receiver::DataReceiver::new();
                assert!(receiver.ingest(&mut wire.iter(), &mut out));
                out
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn dot_encode(c: &mut Criterion) {
    let body = message_body(MIB);
    let mut group = c.benchmark_group("dot_encode_1MiB");
    group.throughput(Throughput::Bytes(body.len() as u64));
    for (name, make) in [
        ("sansmail_preserve", DotEncoder::new as fn() -> DotEncoder),
        ("sansmail_normalize", DotEncoder::normalizing),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || BytesMut::with_capacity(body.len() + body.len() / 32),
                |mut out| {
                    let mut encoder = make();
                    encoder.encode(&body, &mut out);
                    encoder.finish(&mut out);
                    out
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn line_framer(c: &mut Criterion) {
    let input = lines_80(MIB / 80);
    let mut group = c.benchmark_group("line_framer_80B_lines");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("sansmail", |b| {
        b.iter_batched(
            || BytesMut::from(&input[..]),
            |mut buf| {
                let mut framer = LineFramer::new(512);
                let mut lines = 0usize;
                while let Some(frame) = framer.next_frame(&mut buf) {
                    match frame {
                        Frame::Line(line) => lines += black_box(line).len(),
                        other => panic!("unexpected {other:?}"),
                    }
                }
                (lines, buf)
            },
            BatchSize::LargeInput,
        )
    });
    // The same lines framed in place with the borrowing entry point.
    group.bench_function("sansmail_borrowed", |b| {
        b.iter(|| {
            let mut framer = LineFramer::new(512);
            let mut rest = black_box(&input[..]);
            let mut lines = 0usize;
            while let Some(frame) = framer.next_frame_in(&mut rest) {
                match frame {
                    FrameRef::Line(line) => lines += black_box(line).len(),
                    other => panic!("unexpected {other:?}"),
                }
            }
            lines
        })
    });
    group.finish();
}

/// `criterion_group!` defines an undocumented public function; keep it out of the lint.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, dot_decode, dot_encode, line_framer);
}
criterion_main!(group::benches);
