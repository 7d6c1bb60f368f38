//! smtp-proto benchmarks: command parsing (EHLO, MAIL with SIZE and BODY, RCPT with NOTIFY and
//! ORCPT), a 5,000-command pipelined stream (framed with `LineFramer`, borrowed or into `Bytes`,
//! then parsed), RCPT with a dotted local part and with a quoted one, 1,000 whole pipelined
//! transactions mixing them, a 9-line EHLO reply, and a 1 MiB DATA body through the server state machine
//! (64 KiB reads, events drained as a driver does) against the peer's `DataReceiver` fed the
//! same reads; the registry crate `smtp-proto` 0.2.5 side by side on the same inputs.
//! Before the timings, the allocations per parse are counted and printed.
//!
//! Run with `cargo bench -p sansmail-benches --bench smtp`.

use std::alloc::System;
use std::hint::black_box;

use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use mail_wire::dot::DotEncoder;
use mail_wire::line::{Frame, FrameRef, LineFramer};
use peer_smtp_proto::{EhloResponse as PeerEhlo, Request as PeerRequest};
use sansmail_benches::message_body;
use smtp_proto::server::{Event, Server, ServerConfig};
use smtp_proto::{Capabilities, Command, ForwardPath, Reply, ReplyParser};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const EHLO: &[u8] = b"EHLO mail-client.sub.example.org\r\n";
const MAIL: &[u8] = b"MAIL FROM:<sender.name@mail.example.org> SIZE=1048576 BODY=8BITMIME\r\n";
const RCPT: &[u8] = b"RCPT TO:<recipient@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;recipient@example.net\r\n";
/// Shapes of real traffic: a dotted local part with its ORCPT, and a quoted local part.
const RCPT_DOTTED: &[u8] = b"RCPT TO:<first.last@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;first.last@example.net\r\n";
const RCPT_QUOTED: &[u8] = b"RCPT TO:<\"first last\"@example.net>\r\n";
const EHLO_REPLY: &[u8] = b"250-mx.example.org Hello client.example [192.0.2.1]\r\n\
250-PIPELINING\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n250-STARTTLS\r\n\
250-AUTH PLAIN LOGIN XOAUTH2\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n";

/// 5,000 commands as a pipelining client sends them: per message MAIL, three RCPT, DATA-less
/// BDAT, RSET, in a loop.
fn pipelined() -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < 5000 {
        let lines = [
            format!(
                "MAIL FROM:<sender{i}@example.org> SIZE={} BODY=8BITMIME\r\n",
                1000 + i
            ),
            format!("RCPT TO:<a{i}@example.net> NOTIFY=FAILURE\r\n"),
            format!("RCPT TO:<b{i}@example.net>\r\n"),
            format!(
                "RCPT TO:<c{i}@example.com> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;c{i}@example.com\r\n"
            ),
            "RSET\r\n".to_string(),
        ];
        for l in lines {
            if i < 5000 {
                out.extend_from_slice(l.as_bytes());
                i += 1;
            }
        }
    }
    out
}

/// 1,000 whole transactions as a pipelining client sends them (5,000 commands): MAIL with
/// SIZE, an RCPT with a dotted local part, NOTIFY and ORCPT, an RCPT with a quoted local part,
/// DATA, RSET. (The bodies are not part of the stream: this measures command parsing.)
fn transactions() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..1000 {
        let lines = [
            format!(
                "MAIL FROM:<sender.name{i}@mail.example.org> SIZE={}\r\n",
                2000 + 7 * i
            ),
            format!(
                "RCPT TO:<first.last{i}@example.net> NOTIFY=SUCCESS,FAILURE \
                 ORCPT=rfc822;first.last{i}@example.net\r\n"
            ),
            format!("RCPT TO:<\"first last{i}\"@example.net>\r\n"),
            "DATA\r\n".to_string(),
            "RSET\r\n".to_string(),
        ];
        for l in lines {
            out.extend_from_slice(l.as_bytes());
        }
    }
    out
}

/// Our parser on one line with its CRLF (the peer's parser takes the CRLF too, and finds it
/// while parsing). Ours takes a line without its CRLF, so the line is framed here first, with
/// `LineFramer::next_frame_in` under the SMTP limit as a user of the crates would frame it:
/// the same work the peer does, timed on both sides.
/// The result is returned as is, not unwrapped: unwrapping copies the command out of the
/// `Result`, which measures the caller's code rather than the parser; both sides are treated
/// alike, and `check_inputs` makes sure that every input parses before anything is timed.
fn ours(line: &[u8]) -> Result<Command<'_>, smtp_proto::CommandError> {
    let mut rest = line;
    let text = match LineFramer::new(512).next_frame_in(&mut rest) {
        Some(FrameRef::Line(text)) => text,
        _ => line,
    };
    Command::parse(text)
}

/// The peer's parser on the same line; see [`ours`].
fn peer(line: &[u8]) -> Result<PeerRequest<std::borrow::Cow<'_, str>>, peer_smtp_proto::Error> {
    PeerRequest::parse(&mut line.iter())
}

/// Every benchmark input parses, on both sides, to what it says.
fn check_inputs() {
    assert!(matches!(ours(EHLO), Ok(Command::Ehlo(_))));
    assert!(matches!(ours(MAIL), Ok(Command::Mail { params, .. })
        if params.size == Some(1048576) && params.body.is_some()));
    assert!(matches!(ours(RCPT), Ok(Command::Rcpt { params, .. })
        if params.notify.is_some() && params.orcpt.is_some()));
    assert!(matches!(ours(RCPT_DOTTED), Ok(Command::Rcpt { to, params })
        if matches!(&to, ForwardPath::Mailbox(m) if m.local.as_str() == "first.last")
            && params.notify.is_some() && params.orcpt.is_some()));
    assert!(matches!(ours(RCPT_QUOTED), Ok(Command::Rcpt { to, .. })
        if matches!(&to, ForwardPath::Mailbox(m) if m.local.as_str() == "\"first last\"")));
    assert!(matches!(peer(EHLO), Ok(PeerRequest::Ehlo { .. })));
    assert!(matches!(peer(RCPT_DOTTED), Ok(PeerRequest::Rcpt { to })
        if to.address == "first.last@example.net" && to.orcpt.is_some()));
    assert!(matches!(peer(RCPT_QUOTED), Ok(PeerRequest::Rcpt { to })
        if to.address == "first last@example.net"));
    assert!(matches!(peer(MAIL), Ok(PeerRequest::Mail { from }) if from.size == 1048576));
    assert!(matches!(peer(RCPT), Ok(PeerRequest::Rcpt { to }) if to.orcpt.is_some()));
}

/// Ours on the borrowed buffer, as the peer is run: `LineFramer::next_frame_in` finds each
/// line (under the 512-octet limit, CRLF required) as a slice of the buffer, then each line is
/// parsed in place.
fn ours_stream(stream: &[u8]) -> usize {
    let mut framer = LineFramer::new(512);
    let mut rest = stream;
    let mut n = 0;
    while let Some(FrameRef::Line(line)) = framer.next_frame_in(&mut rest) {
        let command = Command::parse(line);
        n += usize::from(black_box(&command).is_ok());
    }
    n
}

/// Ours with `Bytes` frames: `LineFramer::next_frame` splits a `BytesMut` receive buffer into
/// lines (each a reference-counted `Bytes`), then each line is parsed. The buffer is filled
/// before the timing starts, as a socket read fills it in a server.
fn ours_bytes_stream(buf: &mut BytesMut) -> usize {
    let mut framer = LineFramer::new(512);
    let mut n = 0;
    while let Some(Frame::Line(line)) = framer.next_frame(buf) {
        let command = Command::parse(&line);
        n += usize::from(black_box(&command).is_ok());
    }
    n
}

/// Ours with the framing the peer does: find each LF in the borrowed buffer (within the 512
/// octet line limit), require the CR before it, parse the line in place.
fn ours_slice_stream(stream: &[u8]) -> usize {
    let mut rest = stream;
    let mut n = 0;
    while let Some(lf) = memchr::memchr(b'\n', &rest[..rest.len().min(512)]) {
        let (line, tail) = rest.split_at(lf + 1);
        rest = tail;
        if let Some(line) = line.strip_suffix(b"\r\n") {
            let command = Command::parse(line);
            n += usize::from(black_box(&command).is_ok());
        }
    }
    n
}

/// `LineFramer::next_frame_in` alone on the same buffer: the framing share of [`ours_stream`].
fn framing_only(stream: &[u8]) -> usize {
    let mut framer = LineFramer::new(512);
    let mut rest = stream;
    let mut n = 0;
    while let Some(FrameRef::Line(line)) = framer.next_frame_in(&mut rest) {
        n += usize::from(!black_box(line).is_empty());
    }
    n
}

/// `LineFramer::next_frame` alone: the framing share of [`ours_bytes_stream`].
fn bytes_framing_only(buf: &mut BytesMut) -> usize {
    let mut framer = LineFramer::new(512);
    let mut n = 0;
    while let Some(Frame::Line(line)) = framer.next_frame(buf) {
        n += usize::from(!black_box(line).is_empty());
    }
    n
}

/// The peer's `RequestReceiver` on the borrowed buffer: it finds the end of each line while
/// parsing it.
fn peer_stream(stream: &[u8]) -> usize {
    let mut receiver = peer_smtp_proto::request::receiver::RequestReceiver::default();
    let mut iter = stream.iter();
    let mut n = 0;
    while !iter.as_slice().is_empty() {
        let request = receiver.ingest(&mut iter);
        n += usize::from(black_box(&request).is_ok());
    }
    n
}

fn ours_ehlo_reply(wire: &[u8]) -> Capabilities {
    let mut p = ReplyParser::default();
    let mut reply = None;
    for line in wire.split_inclusive(|b| *b == b'\n') {
        reply = p.push_line(&line[..line.len() - 2]).expect("valid");
    }
    Capabilities::from_reply(&reply.expect("complete")).expect("valid")
}

fn peer_ehlo_reply(wire: &[u8]) -> PeerEhlo<String> {
    PeerEhlo::parse(&mut wire.iter()).expect("valid")
}

/// Allocations made by `f` run `n` times, divided by `n`.
fn allocs_per_call<T>(n: usize, mut f: impl FnMut() -> T) -> f64 {
    let region = Region::new(GLOBAL);
    for _ in 0..n {
        drop(black_box(f()));
    }
    region.change().allocations as f64 / n as f64
}

fn report_allocations() {
    const N: usize = 10_000;
    let stream = pipelined();
    let rows: [(&str, f64, f64); 7] = [
        (
            "EHLO",
            allocs_per_call(N, || ours(EHLO)),
            allocs_per_call(N, || peer(EHLO)),
        ),
        (
            "MAIL SIZE BODY",
            allocs_per_call(N, || ours(MAIL)),
            allocs_per_call(N, || peer(MAIL)),
        ),
        (
            "RCPT NOTIFY ORCPT",
            allocs_per_call(N, || ours(RCPT)),
            allocs_per_call(N, || peer(RCPT)),
        ),
        (
            "RCPT dotted NOTIFY ORCPT",
            allocs_per_call(N, || ours(RCPT_DOTTED)),
            allocs_per_call(N, || peer(RCPT_DOTTED)),
        ),
        (
            "RCPT quoted local part",
            allocs_per_call(N, || ours(RCPT_QUOTED)),
            allocs_per_call(N, || peer(RCPT_QUOTED)),
        ),
        (
            "Reply::parse 9-line EHLO (no caps)",
            allocs_per_call(N, || Reply::parse(EHLO_REPLY).map(|r| r.lines().len())),
            f64::NAN,
        ),
        (
            "9-line EHLO reply to capabilities",
            allocs_per_call(N, || ours_ehlo_reply(EHLO_REPLY)),
            allocs_per_call(N, || peer_ehlo_reply(EHLO_REPLY)),
        ),
    ];
    println!("allocations per call (sansmail smtp-proto / peer smtp-proto 0.2.5):");
    for (name, a, b) in rows {
        println!("  {name:<36} {a:>6.2} / {b:>6.2}");
    }
    // Parsing alone, over the lines of the stream as borrowed slices.
    let parse_allocs = allocs_per_call(20, || ours_slice_stream(&stream)) / 5000.0;
    // Framing with `next_frame_in` and parsing.
    let borrowed_allocs = allocs_per_call(20, || ours_stream(&stream)) / 5000.0;
    let peer_stream_allocs = allocs_per_call(20, || peer_stream(&stream)) / 5000.0;
    println!(
        "  {:<36} {parse_allocs:>6.2} / {peer_stream_allocs:>6.2}",
        "pipelined stream, per command"
    );
    println!(
        "  {:<36} {borrowed_allocs:>6.2} / {peer_stream_allocs:>6.2}",
        "the same with next_frame_in"
    );
    // With `Bytes` frames: the receive buffer and its one promotion to shared storage, per
    // stream.
    let transactions = transactions();
    let tx_allocs = allocs_per_call(20, || ours_stream(&transactions)) / 5000.0;
    let peer_tx_allocs = allocs_per_call(20, || peer_stream(&transactions)) / 5000.0;
    println!(
        "  {:<36} {tx_allocs:>6.2} / {peer_tx_allocs:>6.2}",
        "1,000 transactions, per command"
    );
    let framed_allocs = allocs_per_call(20, || ours_bytes_stream(&mut BytesMut::from(&stream[..])));
    println!(
        "  {:<36} {framed_allocs:>6.2} per 5,000 commands",
        "pipelined stream with Bytes frames"
    );
    // The rule: no heap allocation per command on the common path.
    for (name, allocs) in [
        ("EHLO", rows[0].1),
        ("MAIL", rows[1].1),
        ("RCPT", rows[2].1),
        ("RCPT dotted", rows[3].1),
        ("RCPT quoted", rows[4].1),
        ("1,000 transactions with next_frame_in", tx_allocs),
        ("pipelined stream", parse_allocs),
        ("pipelined stream with next_frame_in", borrowed_allocs),
    ] {
        assert_eq!(allocs, 0.0, "{name}: our parser allocated");
    }
}

fn commands(c: &mut Criterion) {
    check_inputs();
    report_allocations();
    for (name, line) in [
        ("ehlo", EHLO),
        ("mail_size_body", MAIL),
        ("rcpt_notify_orcpt", RCPT),
        ("rcpt_dotted_notify_orcpt", RCPT_DOTTED),
        ("rcpt_quoted_local_part", RCPT_QUOTED),
    ] {
        let mut group = c.benchmark_group(format!("smtp_command_{name}"));
        group.throughput(Throughput::Bytes(line.len() as u64));
        // The result is inspected through a reference (`black_box(&result)`) and dropped in the
        // loop, on both sides: returning it to criterion would time a copy of it as well.
        group.bench_function("sansmail", |b| {
            b.iter(|| black_box(&ours(black_box(line))).is_ok())
        });
        group.bench_function("peer_smtp_proto_0.2.5", |b| {
            b.iter(|| black_box(&peer(black_box(line))).is_ok())
        });
        group.finish();
    }
}

fn stream(c: &mut Criterion) {
    let stream = pipelined();
    let filled = || BytesMut::from(&stream[..]);
    assert_eq!(ours_stream(&stream), 5000);
    assert_eq!(ours_bytes_stream(&mut filled()), 5000);
    assert_eq!(ours_slice_stream(&stream), 5000);
    assert_eq!(framing_only(&stream), 5000);
    assert_eq!(bytes_framing_only(&mut filled()), 5000);
    assert_eq!(peer_stream(&stream), 5000);
    assert_eq!(server_stream(&mut server_after_ehlo(), &stream), 5000);
    let mut group = c.benchmark_group("smtp_pipelined_5000");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    // Every side starts from the bytes as read. The borrowed rows and the peer frame the buffer
    // in place. The `Bytes` rows copy it into the `BytesMut` the framer splits (a server reads
    // into that buffer directly): the copy is timed, and costs under 1% (1.7 µs of a 209 KB
    // buffer that stays in cache; filling it untimed in `iter_batched` measured slower, as the
    // buffers set up in a batch evict each other from the cache).
    group.bench_function("sansmail", |b| b.iter(|| ours_stream(black_box(&stream))));
    group.bench_function("sansmail_bytes_frames", |b| {
        b.iter(|| ours_bytes_stream(&mut filled()))
    });
    group.bench_function("sansmail_slice_framing", |b| {
        b.iter(|| ours_slice_stream(black_box(&stream)))
    });
    group.bench_function("sansmail_line_framer_only", |b| {
        b.iter(|| framing_only(black_box(&stream)))
    });
    group.bench_function("sansmail_bytes_framer_only", |b| {
        b.iter(|| bytes_framing_only(&mut filled()))
    });
    group.bench_function("peer_smtp_proto_0.2.5", |b| {
        b.iter(|| peer_stream(black_box(&stream)))
    });
    // The whole server session on the same stream (the peer has none): framing, parsing,
    // an event per MAIL and RCPT answered by the application, the replies encoded. Fed in
    // 64 KiB reads.
    group.bench_function("sansmail_server_session", |b| {
        b.iter_batched(
            server_after_ehlo,
            |mut server| {
                let replies = server_stream(&mut server, &stream);
                (replies, server)
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// The 1,000 transactions of [`transactions`], framed in place and parsed on our side, through
/// the peer's `RequestReceiver` on the other.
fn mixed_stream(c: &mut Criterion) {
    let stream = transactions();
    assert_eq!(ours_stream(&stream), 5000);
    assert_eq!(peer_stream(&stream), 5000);
    let mut group = c.benchmark_group("smtp_transactions_1000");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function("sansmail", |b| b.iter(|| ours_stream(black_box(&stream))));
    group.bench_function("peer_smtp_proto_0.2.5", |b| {
        b.iter(|| peer_stream(black_box(&stream)))
    });
    group.finish();
}

/// A server session that has accepted `EHLO` and waits for commands; DSN is offered (the
/// stream's RCPT commands carry NOTIFY and ORCPT).
fn server_after_ehlo() -> Server {
    let now = std::time::Instant::now();
    let mut config = ServerConfig::default();
    config.dsn = true;
    // The stream's 1,000 RSETs are junk commands; the limit on them is not measured here.
    config.max_junk_commands = u32::MAX;
    let mut server = Server::new(config, now);
    server.feed(now, b"EHLO c.example\r\n");
    while let Some(event) = server.poll_event() {
        if matches!(event, Event::Hello { .. }) {
            server.accept().unwrap();
        }
    }
    while server.poll_transmit().is_some() {}
    server
}

/// Feeds `stream` to `server` in 64 KiB reads, accepting every MAIL and RCPT; the reply
/// lines written.
fn server_stream(server: &mut Server, stream: &[u8]) -> usize {
    let now = std::time::Instant::now();
    let mut lines = 0;
    for read in stream.chunks(64 * 1024) {
        server.feed(now, read);
        while let Some(event) = server.poll_event() {
            if matches!(event, Event::Mail { .. } | Event::Rcpt { .. }) {
                server.accept().unwrap();
            }
        }
        while let Some(out) = server.poll_transmit() {
            lines += out.iter().filter(|&&b| b == b'\n').count();
        }
    }
    lines
}

fn ehlo_reply(c: &mut Criterion) {
    let mut group = c.benchmark_group("smtp_ehlo_reply_9_lines");
    group.throughput(Throughput::Bytes(EHLO_REPLY.len() as u64));
    group.bench_function("sansmail", |b| {
        b.iter_batched(
            || (),
            |()| ours_ehlo_reply(black_box(EHLO_REPLY)),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("peer_smtp_proto_0.2.5", |b| {
        b.iter_batched(
            || (),
            |()| peer_ehlo_reply(black_box(EHLO_REPLY)),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// A server session that has answered `354` and waits for the body.
fn server_in_data() -> Server {
    let now = std::time::Instant::now();
    let mut config = ServerConfig::default();
    config.max_message_size = 4 << 20;
    let mut server = Server::new(config, now);
    server.feed(
        now,
        b"EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n",
    );
    while let Some(event) = server.poll_event() {
        if matches!(
            event,
            Event::Hello { .. } | Event::Mail { .. } | Event::Rcpt { .. }
        ) {
            server.accept().unwrap();
        }
    }
    while server.poll_transmit().is_some() {}
    server
}

/// How the DATA bench hands each 64 KiB read to the session.
#[derive(Clone, Copy)]
enum Feed {
    /// `Server::feed` of the read.
    Slice,
    /// The read copied into a `BytesMut`, then `Server::feed_buf`.
    Buf,
    /// The read copied into a `BytesMut`, then `Server::feed` of it (a second copy).
    ReadCopy,
}

/// Polls every event of a session in DATA, accepting the message at its end; the body octets.
fn drain_body(server: &mut Server) -> usize {
    let mut received = 0;
    while let Some(event) = server.poll_event() {
        match event {
            Event::BodyChunk(chunk) => received += chunk.len(),
            Event::BodyEnd { .. } => server.accept().unwrap(),
            _ => {}
        }
    }
    received
}

fn data(c: &mut Criterion) {
    // `message_body(1 MiB)` is at least 1 MiB: it ends on a whole line (1,048,632 octets).
    let body = message_body(1 << 20);
    let mut wire = BytesMut::new();
    let mut encoder = DotEncoder::new();
    encoder.encode(&body, &mut wire);
    encoder.finish(&mut wire);
    let mut group = c.benchmark_group("smtp_data_1MiB");
    group.throughput(Throughput::Bytes(wire.len() as u64));
    // `Server::feed` of each read; then what `ServerConnection` does: each read lands in the
    // driver's `BytesMut` (the copy a socket read makes, timed on both sides) and `feed_buf`
    // hands it to the session without a second copy; then the same with `feed` of that
    // buffer, as `ServerConnection` did before `feed_buf` (a second copy of every octet).
    for (name, how) in [
        ("sansmail_server_session", Feed::Slice),
        ("sansmail_server_session_feed_buf", Feed::Buf),
        ("sansmail_server_session_read_then_feed", Feed::ReadCopy),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || (server_in_data(), BytesMut::with_capacity(64 * 1024)),
                |(mut server, mut read_buf)| {
                    let now = std::time::Instant::now();
                    let mut received = 0;
                    for read in wire.chunks(64 * 1024) {
                        match how {
                            Feed::Slice => server.feed(now, read),
                            Feed::Buf => {
                                read_buf.extend_from_slice(read);
                                server.feed_buf(now, &mut read_buf);
                            }
                            Feed::ReadCopy => {
                                read_buf.extend_from_slice(read);
                                server.feed(now, &read_buf);
                                read_buf.clear();
                            }
                        }
                        received += drain_body(&mut server);
                    }
                    assert_eq!(received, body.len());
                    (server, read_buf)
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.bench_function("peer_smtp_proto_0.2.5_data_receiver", |b| {
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
                assert_eq!(out.len(), body.len());
                (read_buf, out)
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// `criterion_group!` defines an undocumented public function; keep it out of the lint.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, commands, stream, mixed_stream, ehlo_reply, data);
}
criterion_main!(group::benches);
