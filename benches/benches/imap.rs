//! imap-proto benchmarks: our IMAP codec beside imap-codec 2.0.0-alpha.10 and the registry crate
//! `imap-proto` 0.17 (responses only), on the same inputs, every side parsing fully into its
//! values: a NOOP, a complex SEARCH command, a FETCH command with
//! `BODY.PEEK[HEADER.FIELDS (...)]`, a FETCH response with ENVELOPE and a multipart
//! BODYSTRUCTURE (the shape Gmail sends), 10,000 `* n FETCH (FLAGS (\Seen) UID n)` lines as one
//! stream, and both sides of the RFC 3501 section 8 transcript. Before the timings, the
//! allocations per message are counted and printed.
//!
//! Run with `cargo bench -p sansmail-benches --bench imap`.

use std::alloc::System;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imap_codec::decode::Decoder;
use imap_codec::{CommandCodec, GreetingCodec, ResponseCodec};
use imap_proto::command::Command;
use imap_proto::framer::{Framed, Framer, FramerConfig};
use imap_proto::response::{Greeting, Response};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const NOOP: &[u8] = b"A001 NOOP\r\n";
/// A search a mail client sends for a saved filter: a charset, nested OR and parentheses, dates,
/// a header, sizes, flags and a sequence set.
const SEARCH: &[u8] =
    b"A002 UID SEARCH CHARSET UTF-8 OR (FROM \"alice@example.org\" SINCE 1-Feb-2024) \
(TO bob BEFORE 1-Mar-2024) NOT DELETED UNSEEN LARGER 10240 HEADER X-Mailer \"Thunderbird\" \
SUBJECT \"quarterly report\" 1:500,600:*\r\n";
const FETCH_COMMAND: &[u8] =
    b"A003 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE)])\r\n";
/// A FETCH response as Gmail sends it for a reply with a text and HTML alternative and a PDF
/// attachment (names and sizes changed).
const FETCH_RESPONSE: &[u8] = b"* 1234 FETCH (UID 98765 RFC822.SIZE 48213 FLAGS (\\Seen $NotJunk) \
INTERNALDATE \"14-Mar-2024 09:21:07 +0100\" ENVELOPE (\"Thu, 14 Mar 2024 09:20:58 +0100\" \
\"Re: Quarterly report - figures for Q1 (draft 3)\" ((\"Alice Example\" NIL \"alice\" \"example.org\")) \
((\"Alice Example\" NIL \"alice\" \"example.org\")) ((\"Alice Example\" NIL \"alice\" \"example.org\")) \
((\"Bob Builder\" NIL \"bob\" \"example.net\")(\"Carol Smith\" NIL \"carol.smith\" \"example.com\")) \
((\"Finance Team\" NIL \"finance\" \"lists.example.org\")) NIL \"<CAF3x9Zq2m@mail.example.net>\" \
\"<20240314082058.GA12345@mx1.example.org>\") BODYSTRUCTURE (((\"text\" \"plain\" (\"charset\" \"utf-8\" \
\"format\" \"flowed\") NIL NIL \"quoted-printable\" 2311 58 NIL NIL NIL NIL)(\"text\" \"html\" \
(\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 9843 201 NIL NIL NIL NIL) \"alternative\" \
(\"boundary\" \"000000000000a1b2c3d4e5f6\") NIL NIL NIL)(\"application\" \"pdf\" (\"name\" \
\"Q1 report draft 3.pdf\") \"<f_lt9x2k1p0>\" NIL \"base64\" 34422 NIL (\"attachment\" (\"filename\" \
\"Q1 report draft 3.pdf\")) NIL NIL) \"mixed\" (\"boundary\" \"000000000000f6e5d4c3b2a1\") NIL \"en\" NIL))\r\n";

/// Number of lines of [`flags_stream`].
const STREAM_LINES: usize = 10_000;

/// `* n FETCH (FLAGS (\Seen) UID n)` for n = 1..=10,000, as one buffer.
fn flags_stream() -> Vec<u8> {
    let mut out = Vec::with_capacity(STREAM_LINES * 40);
    for n in 1..=STREAM_LINES {
        out.extend_from_slice(
            format!("* {n} FETCH (FLAGS (\\Seen) UID {})\r\n", n + 4000).as_bytes(),
        );
    }
    out
}

/// The header block of the RFC 3501 section 8 example's `BODY[HEADER]`, with CRLF line ends.
const RFC3501_HEADER: &str = "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n\
From: Terry Gray <gray@cac.washington.edu>\r\n\
Subject: IMAP4rev1 WG mtg summary and minutes\r\n\
To: imap@cac.washington.edu\r\n\
cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n\
Message-Id: <B27397-0100000@cac.washington.edu>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\
\r\n";

/// The client side of the RFC 3501 section 8 transcript: six commands.
const RFC3501_CLIENT: &[u8] = b"a001 login mrc secret\r\n\
a002 select inbox\r\n\
a003 fetch 12 full\r\n\
a004 fetch 12 body[header]\r\n\
a005 store 12 +flags \\deleted\r\n\
a006 logout\r\n";

/// The server side of the RFC 3501 section 8 transcript after the greeting (with the
/// `BODY[HEADER]` literal): fifteen responses.
fn rfc3501_server() -> Vec<u8> {
    let mut s = String::new();
    s.push_str("a001 OK LOGIN completed\r\n");
    s.push_str("* 18 EXISTS\r\n");
    s.push_str("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n");
    s.push_str("* 2 RECENT\r\n");
    s.push_str("* OK [UNSEEN 17] Message 17 is the first unseen message\r\n");
    s.push_str("* OK [UIDVALIDITY 3857529045] UIDs valid\r\n");
    s.push_str("a002 OK [READ-WRITE] SELECT completed\r\n");
    s.push_str(
        "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" \
         RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \
         \"IMAP4rev1 WG mtg summary and minutes\" \
         ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
         ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
         ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
         ((NIL NIL \"imap\" \"cac.washington.edu\")) \
         ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")\
         (\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL \
         \"<B27397-0100000@cac.washington.edu>\") \
         BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n",
    );
    s.push_str("a003 OK FETCH completed\r\n");
    s.push_str(&format!(
        "* 12 FETCH (BODY[HEADER] {{{}}}\r\n{RFC3501_HEADER})\r\n",
        RFC3501_HEADER.len()
    ));
    s.push_str("a004 OK FETCH completed\r\n");
    s.push_str("* 12 FETCH (FLAGS (\\Seen \\Deleted))\r\n");
    s.push_str("a005 OK +FLAGS completed\r\n");
    s.push_str("* BYE IMAP4rev1 server terminating connection\r\n");
    s.push_str("a006 OK LOGOUT completed\r\n");
    s.into_bytes()
}

const RFC3501_GREETING: &[u8] = b"* OK IMAP4rev1 Service Ready\r\n";

// ---- ours ----------------------------------------------------------------------------------

/// Ours on one command: the server-side framer finds the end of the message (as the peers'
/// decoders do while parsing), then `Command::parse` parses it in place.
fn ours_command(input: &[u8]) -> bool {
    let mut rest = input;
    match Framer::server(FramerConfig::default()).next_frame(&mut rest) {
        Some(Framed::Message(message)) => {
            let r = Command::parse(message);
            black_box(&r).is_ok() && rest.is_empty()
        }
        _ => false,
    }
}

/// Ours on a buffer of commands: the server-side framer (accepting every literal) and
/// `Command::parse` on each message.
fn ours_command_stream(stream: &[u8]) -> usize {
    let mut framer = Framer::server(FramerConfig::default());
    let mut rest = stream;
    let mut n = 0;
    while let Some(framed) = framer.next_frame(&mut rest) {
        match framed {
            Framed::Message(message) => {
                let r = Command::parse(message);
                n += usize::from(black_box(&r).is_ok());
            }
            Framed::Literal(_) => framer.accept_literal(),
            Framed::Error(_) => break,
        }
    }
    n
}

/// Ours on one response: the client-side framer, then `Response::parse`.
fn ours_response(input: &[u8]) -> bool {
    let mut rest = input;
    match Framer::client(FramerConfig::default()).next_frame(&mut rest) {
        Some(Framed::Message(message)) => {
            let r = Response::parse(message);
            black_box(&r).is_ok() && rest.is_empty()
        }
        _ => false,
    }
}

/// Ours on a buffer of responses: the client-side framer and `Response::parse` on each
/// message.
fn ours_response_stream(stream: &[u8]) -> usize {
    let mut framer = Framer::client(FramerConfig::default());
    let mut rest = stream;
    let mut n = 0;
    while let Some(Framed::Message(message)) = framer.next_frame(&mut rest) {
        let r = Response::parse(message);
        n += usize::from(black_box(&r).is_ok());
    }
    n
}

/// Ours on the server side of the transcript: the greeting, then the responses, all through
/// one client-side framer.
fn ours_server_transcript(greeting: &[u8], stream: &[u8]) -> usize {
    let mut framer = Framer::client(FramerConfig::default());
    let mut rest = greeting;
    let mut n = 0;
    if let Some(Framed::Message(message)) = framer.next_frame(&mut rest) {
        let r = Greeting::parse(message);
        n += usize::from(black_box(&r).is_ok());
    }
    let mut rest = stream;
    while let Some(Framed::Message(message)) = framer.next_frame(&mut rest) {
        let r = Response::parse(message);
        n += usize::from(black_box(&r).is_ok());
    }
    n
}

// ---- imap-codec ---------------------------------------------------------------------------

/// imap-codec on one command (its decoder takes the whole message with its CRLF).
fn codec_command(input: &[u8]) -> bool {
    let r = CommandCodec::default().decode(input);
    matches!(black_box(&r), Ok((rest, _)) if rest.is_empty())
}

/// imap-codec on one response.
fn codec_response(input: &[u8]) -> bool {
    let r = ResponseCodec::default().decode(input);
    matches!(black_box(&r), Ok((rest, _)) if rest.is_empty())
}

/// imap-codec's streaming decode of a buffer of commands: decode, continue with the rest.
fn codec_command_stream(stream: &[u8]) -> usize {
    let codec = CommandCodec::default();
    let mut rest = stream;
    let mut n = 0;
    while !rest.is_empty() {
        match codec.decode(rest) {
            Ok((tail, command)) => {
                black_box(&command);
                rest = tail;
                n += 1;
            }
            Err(_) => break,
        }
    }
    n
}

/// imap-codec's streaming decode of a buffer of responses.
fn codec_response_stream(stream: &[u8]) -> usize {
    let codec = ResponseCodec::default();
    let mut rest = stream;
    let mut n = 0;
    while !rest.is_empty() {
        match codec.decode(rest) {
            Ok((tail, response)) => {
                black_box(&response);
                rest = tail;
                n += 1;
            }
            Err(_) => break,
        }
    }
    n
}

/// imap-codec on the server side of the transcript: the greeting, then the responses.
fn codec_server_transcript(greeting: &[u8], stream: &[u8]) -> usize {
    let ok = GreetingCodec::default().decode(greeting);
    usize::from(black_box(&ok).is_ok()) + codec_response_stream(stream)
}

// ---- imap-proto 0.17 ----------------------------------------------------------------------

/// imap-proto on one response.
fn proto_response(input: &[u8]) -> bool {
    let r = imap_proto_peer::Response::parse(input);
    matches!(black_box(&r), Ok((rest, _)) if rest.is_empty())
}

/// imap-proto's streaming parse of a buffer of responses (its parser is nom's streaming kind:
/// it returns the rest of the buffer after each response).
fn proto_response_stream(stream: &[u8]) -> usize {
    let mut rest = stream;
    let mut n = 0;
    while !rest.is_empty() {
        match imap_proto_peer::Response::parse(rest) {
            Ok((tail, response)) => {
                black_box(&response);
                rest = tail;
                n += 1;
            }
            Err(_) => break,
        }
    }
    n
}

// ---- checks and allocation counts ----------------------------------------------------------

/// Every input parses completely on every side that models it, before anything is timed.
fn check_inputs() {
    for (name, input) in [("noop", NOOP), ("search", SEARCH), ("fetch", FETCH_COMMAND)] {
        assert!(ours_command(input), "we refuse {name}");
        assert!(codec_command(input), "imap-codec refuses {name}");
    }
    assert!(
        ours_response(FETCH_RESPONSE),
        "we refuse the FETCH response"
    );
    assert!(
        codec_response(FETCH_RESPONSE),
        "imap-codec refuses the FETCH response"
    );
    assert!(
        proto_response(FETCH_RESPONSE),
        "imap-proto refuses the FETCH response"
    );
    let stream = flags_stream();
    assert_eq!(ours_response_stream(&stream), STREAM_LINES);
    assert_eq!(codec_response_stream(&stream), STREAM_LINES);
    assert_eq!(proto_response_stream(&stream), STREAM_LINES);
    assert_eq!(ours_command_stream(RFC3501_CLIENT), 6);
    assert_eq!(codec_command_stream(RFC3501_CLIENT), 6);
    let server = rfc3501_server();
    assert_eq!(ours_server_transcript(RFC3501_GREETING, &server), 16);
    assert_eq!(codec_server_transcript(RFC3501_GREETING, &server), 16);
    // imap-proto 0.17 has no parser for the non-extensible `BODY (...)` of FETCH FULL: it stops
    // at the eighth message, so it sits out the transcript.
    assert!(proto_response(RFC3501_GREETING));
    assert_eq!(proto_response_stream(&server), 7);
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
    const N: usize = 1000;
    let stream = flags_stream();
    let server = rfc3501_server();
    // The peer has no parser for the input: printed as `-`.
    let na = f64::NAN;
    let rows: [(&str, f64, f64, f64); 7] = [
        (
            "NOOP",
            allocs_per_call(N, || ours_command(NOOP)),
            allocs_per_call(N, || codec_command(NOOP)),
            na,
        ),
        (
            "SEARCH",
            allocs_per_call(N, || ours_command(SEARCH)),
            allocs_per_call(N, || codec_command(SEARCH)),
            na,
        ),
        (
            "FETCH command",
            allocs_per_call(N, || ours_command(FETCH_COMMAND)),
            allocs_per_call(N, || codec_command(FETCH_COMMAND)),
            na,
        ),
        (
            "FETCH ENVELOPE BODYSTRUCTURE",
            allocs_per_call(N, || ours_response(FETCH_RESPONSE)),
            allocs_per_call(N, || codec_response(FETCH_RESPONSE)),
            allocs_per_call(N, || proto_response(FETCH_RESPONSE)),
        ),
        (
            "FETCH FLAGS line (per line)",
            allocs_per_call(10, || ours_response_stream(&stream)) / STREAM_LINES as f64,
            allocs_per_call(10, || codec_response_stream(&stream)) / STREAM_LINES as f64,
            allocs_per_call(10, || proto_response_stream(&stream)) / STREAM_LINES as f64,
        ),
        (
            "RFC 3501 s8 client (per command)",
            allocs_per_call(N, || ours_command_stream(RFC3501_CLIENT)) / 6.0,
            allocs_per_call(N, || codec_command_stream(RFC3501_CLIENT)) / 6.0,
            na,
        ),
        (
            "RFC 3501 s8 server (per message)",
            allocs_per_call(N, || ours_server_transcript(RFC3501_GREETING, &server)) / 16.0,
            allocs_per_call(N, || codec_server_transcript(RFC3501_GREETING, &server)) / 16.0,
            na,
        ),
    ];
    println!(
        "allocations per message (sansmail imap-proto / imap-codec 2.0.0-alpha.10 / imap-proto 0.17):"
    );
    for (name, a, b, c) in rows {
        let show = |x: f64| {
            if x.is_nan() {
                "     -".to_string()
            } else {
                format!("{x:>6.2}")
            }
        };
        println!("  {name:<34} {} / {} / {}", show(a), show(b), show(c));
    }
}

fn bench(c: &mut Criterion) {
    check_inputs();
    report_allocations();

    for (name, input) in [
        ("noop", NOOP),
        ("search", SEARCH),
        ("fetch_command", FETCH_COMMAND),
    ] {
        let mut group = c.benchmark_group(format!("imap/{name}"));
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function("ours", |b| b.iter(|| ours_command(black_box(input))));
        group.bench_function("imap-codec", |b| b.iter(|| codec_command(black_box(input))));
        group.finish();
    }

    let mut group = c.benchmark_group("imap/fetch_envelope_bodystructure");
    group.throughput(Throughput::Bytes(FETCH_RESPONSE.len() as u64));
    group.bench_function("ours", |b| {
        b.iter(|| ours_response(black_box(FETCH_RESPONSE)))
    });
    group.bench_function("imap-codec", |b| {
        b.iter(|| codec_response(black_box(FETCH_RESPONSE)))
    });
    group.bench_function("imap-proto", |b| {
        b.iter(|| proto_response(black_box(FETCH_RESPONSE)))
    });
    group.finish();

    let stream = flags_stream();
    let mut group = c.benchmark_group("imap/fetch_flags_stream_10000");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function("ours", |b| {
        b.iter(|| ours_response_stream(black_box(&stream)))
    });
    group.bench_function("imap-codec", |b| {
        b.iter(|| codec_response_stream(black_box(&stream)))
    });
    group.bench_function("imap-proto", |b| {
        b.iter(|| proto_response_stream(black_box(&stream)))
    });
    group.finish();

    let mut group = c.benchmark_group("imap/rfc3501_s8_client");
    group.throughput(Throughput::Bytes(RFC3501_CLIENT.len() as u64));
    group.bench_function("ours", |b| {
        b.iter(|| ours_command_stream(black_box(RFC3501_CLIENT)))
    });
    group.bench_function("imap-codec", |b| {
        b.iter(|| codec_command_stream(black_box(RFC3501_CLIENT)))
    });
    group.finish();

    let server = rfc3501_server();
    let mut group = c.benchmark_group("imap/rfc3501_s8_server");
    group.throughput(Throughput::Bytes(
        (RFC3501_GREETING.len() + server.len()) as u64,
    ));
    group.bench_function("ours", |b| {
        b.iter(|| ours_server_transcript(black_box(RFC3501_GREETING), black_box(&server)))
    });
    group.bench_function("imap-codec", |b| {
        b.iter(|| codec_server_transcript(black_box(RFC3501_GREETING), black_box(&server)))
    });
    group.finish();
}

/// `criterion_group!` defines an undocumented public function; keep it out of the lint.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, bench);
}
criterion_main!(group::benches);
