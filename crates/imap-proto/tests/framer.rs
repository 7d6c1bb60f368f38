//! The framer from the outside: messages and literals, every limit breached, refused
//! literals, and the same frames whatever the chunking.

use imap_proto::core::LiteralMode;
use imap_proto::framer::{
    FrameError, FrameErrorKind, Framed, Framer, FramerConfig, LiteralHeader, tag_of,
};
use proptest::prelude::*;

/// What the framer reported, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Message(Vec<u8>),
    Literal(LiteralHeader),
    Error(FrameError),
}

use Event::{Error, Literal, Message};

/// Feeds `reads` one after the other into `framer` through a caller-owned buffer, deciding
/// each literal with `decide` (true: accept). Asserts the buffer never holds more than
/// `bound` octets after a read has been framed.
fn drive(
    framer: &mut Framer,
    reads: &[&[u8]],
    decide: &mut dyn FnMut(&LiteralHeader) -> bool,
    bound: usize,
) -> Vec<Event> {
    let mut buffer: Vec<u8> = Vec::new();
    let mut events = Vec::new();
    for read in reads {
        buffer.extend_from_slice(read);
        let mut input = &buffer[..];
        while let Some(framed) = framer.next_frame(&mut input) {
            events.push(match framed {
                Framed::Message(m) => Message(m.to_vec()),
                Framed::Literal(header) => {
                    if decide(&header) {
                        framer.accept_literal();
                    } else {
                        framer.refuse_literal();
                    }
                    Literal(header)
                }
                Framed::Error(e) => Error(e),
            });
        }
        let consumed = buffer.len() - input.len();
        buffer.drain(..consumed);
        assert!(
            buffer.len() <= bound,
            "{} octets buffered, bound {bound}",
            buffer.len()
        );
    }
    events
}

fn accept_all(_: &LiteralHeader) -> bool {
    true
}

fn server(config: FramerConfig, input: &[u8]) -> Vec<Event> {
    drive(
        &mut Framer::server(config),
        &[input],
        &mut accept_all,
        usize::MAX,
    )
}

fn client(config: FramerConfig, input: &[u8]) -> Vec<Event> {
    drive(
        &mut Framer::client(config),
        &[input],
        &mut accept_all,
        usize::MAX,
    )
}

fn msg(bytes: &[u8]) -> Event {
    Message(bytes.to_vec())
}

fn lit(size: u64, mode: LiteralMode, binary: bool, data_offset: usize) -> Event {
    Literal(LiteralHeader {
        size,
        mode,
        binary,
        data_offset,
    })
}

fn kind(event: &Event) -> FrameErrorKind {
    match event {
        Error(e) => e.kind(),
        other => panic!("not an error: {other:?}"),
    }
}

fn tag(event: &Event) -> Option<&str> {
    match event {
        Error(e) => e.tag(),
        other => panic!("not an error: {other:?}"),
    }
}

fn small(max_line: usize, max_literal: u64, max_message: usize) -> FramerConfig {
    FramerConfig {
        max_line,
        max_literal,
        max_message,
        ..FramerConfig::default()
    }
}

#[test]
fn default_limits_are_dovecots_line_length() {
    let config = FramerConfig::default();
    assert_eq!(config.max_line, 65536);
    assert_eq!(config.max_literal, 64 << 20);
    assert!(config.max_message as u64 > config.max_literal);
}

#[test]
fn lines_and_a_partial_line() {
    let mut framer = Framer::client(FramerConfig::default());
    let mut input: &[u8] = b"* OK hi\r\na1 OK done\r\n* 3 EXI";
    assert_eq!(
        framer.next_frame(&mut input),
        Some(Framed::Message(b"* OK hi\r\n"))
    );
    assert_eq!(
        framer.next_frame(&mut input),
        Some(Framed::Message(b"a1 OK done\r\n"))
    );
    assert_eq!(framer.next_frame(&mut input), None);
    assert_eq!(input, b"* 3 EXI");
}

#[test]
fn client_side_literals_follow_at_once() {
    let input = b"* 1 FETCH (BODY[] {11}\r\nab\r\n{5}\r\ncd UID 7 BINARY[] ~{3}\r\n\0\0\0)\r\n* 2 EXISTS\r\n";
    assert_eq!(
        client(FramerConfig::default(), input),
        [
            msg(b"* 1 FETCH (BODY[] {11}\r\nab\r\n{5}\r\ncd UID 7 BINARY[] ~{3}\r\n\0\0\0)\r\n"),
            msg(b"* 2 EXISTS\r\n"),
        ]
    );
}

#[test]
fn server_side_reports_every_literal_header() {
    let input = b"a1 LOGIN {4}\r\nfred ~{6+}\r\nsecret\r\n";
    assert_eq!(
        server(FramerConfig::default(), input),
        [
            lit(4, LiteralMode::Sync, false, 14),
            lit(6, LiteralMode::NonSync, true, 26),
            msg(input),
        ]
    );
}

#[test]
fn a_literal_of_zero_octets() {
    let input = b"a1 LOGIN {0}\r\n {0+}\r\n\r\na2 NOOP\r\n";
    assert_eq!(
        server(FramerConfig::default(), input),
        [
            lit(0, LiteralMode::Sync, false, 14),
            lit(0, LiteralMode::NonSync, false, 21),
            msg(b"a1 LOGIN {0}\r\n {0+}\r\n\r\n"),
            msg(b"a2 NOOP\r\n"),
        ]
    );
}

#[test]
fn literal_data_holding_crlf_and_a_header_is_data() {
    // The 12 octets of data contain a CRLF and "{5}\r\n": neither ends the message nor
    // announces a literal.
    let input = b"a1 APPEND x {12}\r\nhi {5}\r\nyo\r\n\r\na2 NOOP\r\n";
    assert_eq!(
        server(FramerConfig::default(), input),
        [
            lit(12, LiteralMode::Sync, false, 18),
            msg(b"a1 APPEND x {12}\r\nhi {5}\r\nyo\r\n\r\n"),
            msg(b"a2 NOOP\r\n"),
        ]
    );
}

#[test]
fn a_header_counts_only_at_the_end_of_a_line() {
    for line in [
        &b"a1 LOGIN {5} fred\r\n"[..],
        b"a1 LOGIN {5}\n",
        b"a1 LOGIN {5} \r\n",
        b"a1 LOGIN {}\r\n",
        b"a1 LOGIN {+}\r\n",
        b"a1 LOGIN {5a}\r\n",
        b"a1 LOGIN 5}\r\n",
    ] {
        assert_eq!(
            server(FramerConfig::default(), line),
            [msg(line)],
            "{}",
            String::from_utf8_lossy(line)
        );
    }
    assert_eq!(
        server(FramerConfig::default(), b"a1 X {{5}\r\n"),
        [lit(5, LiteralMode::Sync, false, 11)]
    );
    assert_eq!(
        server(FramerConfig::default(), b"a1 X {005}\r\n"),
        [lit(5, LiteralMode::Sync, false, 12)]
    );
}

#[test]
fn a_line_over_the_limit_is_discarded_with_its_tag() {
    let config = small(16, 100, 1000);
    // Exactly 16 octets with CRLF is allowed.
    assert_eq!(
        server(config, b"a1 NOOP 345678\r\n"),
        [msg(b"a1 NOOP 345678\r\n")]
    );
    let events = server(config, b"a1 NOOP 3456789\r\na2 NOOP\r\n");
    assert_eq!(events.len(), 2);
    assert_eq!(kind(&events[0]), FrameErrorKind::LineTooLong { limit: 16 });
    assert_eq!(tag(&events[0]), Some("a1"));
    assert_eq!(events[1], msg(b"a2 NOOP\r\n"));
}

#[test]
fn an_endless_line_is_never_buffered_beyond_the_limit() {
    let mut framer = Framer::server(small(64, 100, 1000));
    let mut reads: Vec<Vec<u8>> = vec![b"x1 APPEND ".to_vec()];
    reads.extend(std::iter::repeat_n(vec![b'a'; 50], 2000));
    reads.push(b"\r\nx2 NOOP\r\n".to_vec());
    let reads: Vec<&[u8]> = reads.iter().map(Vec::as_slice).collect();
    let events = drive(&mut framer, &reads, &mut accept_all, 63);
    assert_eq!(events.len(), 2);
    assert_eq!(kind(&events[0]), FrameErrorKind::LineTooLong { limit: 64 });
    assert_eq!(tag(&events[0]), Some("x1"));
    assert_eq!(events[1], msg(b"x2 NOOP\r\n"));
}

#[test]
fn an_untagged_or_unreadable_start_gives_no_tag() {
    let config = small(8, 100, 1000);
    let events = client(config, b"* OK 123456789\r\n");
    assert_eq!(tag(&events[0]), None);
    let events = server(config, b"abcdefghijklmnop\r\n");
    assert_eq!(tag(&events[0]), None);
}

#[test]
fn a_continuation_line_over_the_limit_after_a_literal() {
    let config = small(16, 100, 1000);
    let input = b"a1 LOGIN {3}\r\nabc 0123456789abcdef\r\na2 NOOP\r\n";
    let events = server(config, input);
    assert_eq!(events.len(), 3);
    assert_eq!(events[0], lit(3, LiteralMode::Sync, false, 14));
    assert_eq!(kind(&events[1]), FrameErrorKind::LineTooLong { limit: 16 });
    assert_eq!(tag(&events[1]), Some("a1"));
    assert_eq!(events[2], msg(b"a2 NOOP\r\n"));
}

#[test]
fn a_sync_literal_over_the_limit_ends_the_command() {
    // The client waits for a continuation request, gets the error instead, and goes on with
    // its next command.
    let config = small(1000, 10, 1000);
    let events = server(config, b"a1 APPEND INBOX {11}\r\na2 NOOP\r\n");
    assert_eq!(events.len(), 2);
    assert_eq!(
        kind(&events[0]),
        FrameErrorKind::LiteralTooLarge {
            size: 11,
            limit: 10,
            mode: LiteralMode::Sync
        }
    );
    assert_eq!(tag(&events[0]), Some("a1"));
    assert_eq!(events[1], msg(b"a2 NOOP\r\n"));
}

#[test]
fn a_nonsync_literal_over_the_limit_is_skipped_not_parsed() {
    let config = small(1000, 10, 1000);
    // The 11 octets of data are a command; then the message goes on with a line and another
    // literal, all discarded.
    let input = b"a1 APPEND INBOX {11+}\r\nb1 DELETE x {3+}\r\nc1 \r\na2 NOOP\r\n";
    let events = server(config, input);
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        kind(&events[0]),
        FrameErrorKind::LiteralTooLarge {
            size: 11,
            limit: 10,
            mode: LiteralMode::NonSync
        }
    );
    assert_eq!(events[1], msg(b"a2 NOOP\r\n"));
}

#[test]
fn on_the_client_side_an_oversize_literal_is_skipped() {
    let config = small(1000, 4, 1000);
    let input = b"* 1 FETCH (BODY[] {5}\r\n* BYE)\r\n* 2 EXISTS\r\n";
    let events = client(config, input);
    assert_eq!(events.len(), 2);
    assert_eq!(
        kind(&events[0]),
        FrameErrorKind::LiteralTooLarge {
            size: 5,
            limit: 4,
            mode: LiteralMode::Sync
        }
    );
    assert_eq!(events[1], msg(b"* 2 EXISTS\r\n"));
}

#[test]
fn a_message_over_the_limit() {
    // Two literals that each fit but not together.
    let config = small(1000, 100, 60);
    let input = b"a1 APPEND x {30+}\r\n012345678901234567890123456789 {30+}\r\n012345678901234567890123456789\r\na2 NOOP\r\n";
    let events = server(config, input);
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[0], lit(30, LiteralMode::NonSync, false, 19));
    assert_eq!(
        kind(&events[1]),
        FrameErrorKind::MessageTooLarge { limit: 60 }
    );
    assert_eq!(tag(&events[1]), Some("a1"));
    assert_eq!(events[2], msg(b"a2 NOOP\r\n"));

    // Lines after a literal that push the message over.
    let config = small(1000, 100, 40);
    let input = b"a1 LOGIN {5+}\r\nhello 0123456789012345678901234\r\na2 NOOP\r\n";
    let events = server(config, input);
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(
        kind(&events[1]),
        FrameErrorKind::MessageTooLarge { limit: 40 }
    );
    assert_eq!(events[2], msg(b"a2 NOOP\r\n"));
}

#[test]
fn literal_length_digits_overflowing_u64() {
    let config = FramerConfig::default();
    // The largest u64 is a size (over the limit); one more overflows.
    let events = server(config, b"a1 X {18446744073709551615}\r\na2 NOOP\r\n");
    assert_eq!(
        kind(&events[0]),
        FrameErrorKind::LiteralTooLarge {
            size: u64::MAX,
            limit: config.max_literal,
            mode: LiteralMode::Sync
        }
    );
    let events = server(config, b"a1 X {18446744073709551616}\r\na2 NOOP\r\n");
    assert_eq!(events.len(), 2);
    assert_eq!(kind(&events[0]), FrameErrorKind::LiteralLengthOverflow);
    assert_eq!(tag(&events[0]), Some("a1"));
    assert_eq!(events[1], msg(b"a2 NOOP\r\n"));
    // A non-synchronising one: nothing after it is ever a message.
    let mut framer = Framer::server(config);
    let events = drive(
        &mut framer,
        &[b"a1 X {99999999999999999999999+}\r\n", b"a2 NOOP\r\n"],
        &mut accept_all,
        0,
    );
    assert_eq!(events.len(), 1);
    assert_eq!(kind(&events[0]), FrameErrorKind::LiteralLengthOverflow);
    assert!(framer.is_discarding());
}

#[test]
fn a_refused_sync_literal_sends_no_data() {
    let mut refuse = |_: &LiteralHeader| false;
    let events = drive(
        &mut Framer::server(FramerConfig::default()),
        &[b"a1 APPEND INBOX {5}\r\n", b"a2 NOOP\r\n"],
        &mut refuse,
        usize::MAX,
    );
    assert_eq!(
        events,
        [lit(5, LiteralMode::Sync, false, 21), msg(b"a2 NOOP\r\n")]
    );
}

#[test]
fn a_refused_nonsync_literal_is_not_parsed_as_commands() {
    // The injection case: the data of the refused literal is a whole command, and the rest
    // of the message ends with another literal carrying another command.
    let refuse_first = {
        let mut first = true;
        move |_: &LiteralHeader| !std::mem::take(&mut first)
    };
    let input: &[u8] =
        b"a1 APPEND INBOX {14+}\r\nb1 DELETE X\r\n {11+}\r\nc1 LOGOUT\r\n\r\na2 NOOP\r\n";
    for chunk in [1, 2, 5, input.len()] {
        let reads: Vec<&[u8]> = input.chunks(chunk).collect();
        let mut decide = refuse_first;
        let events = drive(
            &mut Framer::server(FramerConfig::default()),
            &reads,
            &mut decide,
            usize::MAX,
        );
        assert_eq!(
            events,
            [
                lit(14, LiteralMode::NonSync, false, 23),
                msg(b"a2 NOOP\r\n")
            ],
            "chunk {chunk}"
        );
    }
}

#[test]
fn an_oversize_line_ending_in_a_nonsync_header_skips_its_data() {
    let config = small(16, 100, 1000);
    for input in [
        &b"a1 APPEND INBOX {9+}\r\nb1 NOOP\r\n\r\na2 NOOP\r\n"[..],
        // The header itself crosses the limit.
        b"a1 APPEND INBOX {000000000000000000000000000009+}\r\nb1 NOOP\r\n\r\na2 NOOP\r\n",
    ] {
        for chunk in [1, 3, input.len()] {
            let reads: Vec<&[u8]> = input.chunks(chunk).collect();
            let events = drive(
                &mut Framer::server(config),
                &reads,
                &mut accept_all,
                usize::MAX,
            );
            assert_eq!(events.len(), 2, "{events:?}");
            assert_eq!(kind(&events[0]), FrameErrorKind::LineTooLong { limit: 16 });
            assert_eq!(events[1], msg(b"a2 NOOP\r\n"));
        }
    }
    // A synchronising one: the client waits; its next command is framed.
    let events = server(config, b"a1 APPEND INBOX {9}\r\na2 NOOP\r\n");
    assert_eq!(events.len(), 2);
    assert_eq!(events[1], msg(b"a2 NOOP\r\n"));
    // On the client side the server sends the data at once.
    let events = client(
        config,
        b"* 1 FETCH (BODY[] {9}\r\nb1 NOOP\r\n)\r\n* 2 EXISTS\r\n",
    );
    assert_eq!(events.len(), 2);
    assert_eq!(events[1], msg(b"* 2 EXISTS\r\n"));
}

#[test]
fn next_frame_without_a_decision_accepts() {
    let mut framer = Framer::server(FramerConfig::default());
    let mut input: &[u8] = b"a1 LOGIN {2}\r\nab {1}\r\nc\r\n";
    assert!(matches!(
        framer.next_frame(&mut input),
        Some(Framed::Literal(_))
    ));
    assert_eq!(framer.pending_literal().map(|h| h.size), Some(2));
    assert!(matches!(
        framer.next_frame(&mut input),
        Some(Framed::Literal(_))
    ));
    assert_eq!(
        framer.next_frame(&mut input),
        Some(Framed::Message(b"a1 LOGIN {2}\r\nab {1}\r\nc\r\n"))
    );
    assert_eq!(framer.pending_literal(), None);
}

#[test]
fn reset_forgets_a_partial_message() {
    let mut framer = Framer::client(FramerConfig::default());
    let mut input: &[u8] = b"* 1 FETCH (BODY[] {100}\r\nabc";
    assert_eq!(framer.next_frame(&mut input), None);
    framer.reset();
    let mut input: &[u8] = b"* OK fresh\r\n";
    assert_eq!(
        framer.next_frame(&mut input),
        Some(Framed::Message(b"* OK fresh\r\n"))
    );
}

#[test]
fn tags_of_messages() {
    assert_eq!(tag_of(b"A001 LOGIN x y\r\n"), Some("A001"));
    assert_eq!(tag_of(b"* OK\r\n"), None);
    assert_eq!(tag_of(b"+ go\r\n"), None);
    assert_eq!(tag_of(b" a1 NOOP\r\n"), None);
}

#[test]
fn errors_display_the_limit() {
    let events = server(small(8, 10, 100), b"a1 NOOP 1234\r\n");
    let Error(e) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(e.to_string(), "line longer than 8 octets");
}

/// A stream of commands built from pieces that exercise literals and limits.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"a1 NOOP\r\n".to_vec()),
        Just(b"a2 LOGIN {3}\r\nabc {0+}\r\n\r\n".to_vec()),
        Just(b"a3 APPEND x ~{4+}\r\n\r\n{1}\r\n\r\n".to_vec()),
        Just(b"a4 X {40}\r\n".to_vec()),
        Just(b"a5 X {7+}\r\n".to_vec()),
        Just(b"* 1 FETCH (BODY[] {5}\r\nab\r\nc)\r\n".to_vec()),
        Just(b"{99999999999999999999}\r\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b" ".to_vec()),
        Just(b"}".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
        "[a-z0-9 {}+~\r\n]{0,60}".prop_map(String::into_bytes),
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

fn cut(input: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut reads = Vec::new();
    let mut rest = input;
    for &c in cuts {
        if rest.is_empty() {
            break;
        }
        let (read, tail) = rest.split_at(c.min(rest.len()));
        reads.push(read.to_vec());
        rest = tail;
    }
    reads.push(rest.to_vec());
    reads
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_chunking_gives_the_same_frames(
        input in stream(),
        cuts in proptest::collection::vec(1usize..20, 0..40),
        max_line in 4usize..80,
        max_literal in 0u64..30,
        max_message in 10usize..200,
        refuse in any::<u64>(),
        server_side in any::<bool>(),
        max_literals in 0usize..6,
        max_lines_total in 4usize..160,
        literals in any::<bool>(),
    ) {
        let config = FramerConfig {
            max_literals,
            max_lines_total,
            ..small(max_line, max_literal, max_message)
        };
        let make = || {
            let mut framer = if server_side { Framer::server(config) } else { Framer::client(config) };
            framer.set_literals(literals);
            framer
        };
        // The n-th literal is refused when bit n of `refuse` is set.
        let decider = || {
            let mut n = 0u32;
            move |_: &LiteralHeader| {
                let accept = refuse >> (n % 64) & 1 == 0;
                n += 1;
                accept
            }
        };
        let whole = drive(&mut make(), &[&input], &mut decider(), usize::MAX);
        let bytewise: Vec<&[u8]> = input.chunks(1).collect();
        // Byte by byte, the buffer never holds more than a message can.
        let bound = max_message.max(1);
        prop_assert_eq!(&whole, &drive(&mut make(), &bytewise, &mut decider(), bound));
        let reads = cut(&input, &cuts);
        let reads: Vec<&[u8]> = reads.iter().map(Vec::as_slice).collect();
        prop_assert_eq!(&whole, &drive(&mut make(), &reads, &mut decider(), usize::MAX));
        for event in &whole {
            match event {
                Message(m) => {
                    prop_assert!(m.len() <= max_message);
                    prop_assert!(m.ends_with(b"\n"));
                }
                Literal(h) => {
                    prop_assert!(server_side && literals);
                    prop_assert!(h.size <= max_literal);
                }
                Error(_) => {}
            }
        }
    }
}

#[test]
fn line_only_mode_takes_a_header_for_text() {
    // AUTHENTICATE data and DONE carry no literals: `{9}` before CRLF is text, and the next
    // line is the next message (not literal data).
    for mut framer in [
        Framer::server(FramerConfig::default()),
        Framer::client(FramerConfig::default()),
    ] {
        framer.set_literals(false);
        assert!(!framer.literals());
        let events = drive(
            &mut framer,
            &[b"DONE {9}\r\n", b"a2 NOOP\r\n"],
            &mut accept_all,
            usize::MAX,
        );
        assert_eq!(events, [msg(b"DONE {9}\r\n"), msg(b"a2 NOOP\r\n")]);
        // An over-long line ending like a header announces nothing either.
        let mut framer = Framer::server(small(8, 100, 1000));
        framer.set_literals(false);
        let events = drive(
            &mut framer,
            &[b"xxxxxxxx {2+}\r\nab\r\n"],
            &mut accept_all,
            usize::MAX,
        );
        assert!(matches!(
            kind(&events[0]),
            FrameErrorKind::LineTooLong { limit: 8 }
        ));
        assert_eq!(events[1..], [msg(b"ab\r\n")]);
        framer.set_literals(true);
        let events = drive(&mut framer, &[b"a {2}\r\n"], &mut accept_all, usize::MAX);
        assert_eq!(events, [lit(2, LiteralMode::Sync, false, 7)]);
    }
}

#[test]
fn too_many_literals_in_one_message() {
    let config = FramerConfig {
        max_literals: 3,
        ..FramerConfig::default()
    };
    // Three literals are allowed.
    let three = b"a1 APPEND INBOX {0+}\r\n {0+}\r\n {1+}\r\nx\r\n";
    let events = client(config, three);
    assert_eq!(events, [msg(three)]);
    // The fourth header is refused with the tag; on the client side (and after {n+}) its data
    // and the rest of the message are skipped, then the next message is framed.
    let wire = b"* 1 FETCH (A {0}\r\n B {0}\r\n C {0}\r\n D {3}\r\nabc)\r\n* 2 EXISTS\r\n";
    let events = client(config, wire);
    assert_eq!(
        kind(&events[0]),
        FrameErrorKind::TooManyLiterals { limit: 3 }
    );
    assert_eq!(tag(&events[0]), None);
    assert_eq!(events[1..], [msg(b"* 2 EXISTS\r\n")]);
    let wire = b"a1 APPEND INBOX {0+}\r\n {0+}\r\n {0+}\r\n {6+}\r\na2 X\r\n\r\na3 NOOP\r\n";
    let events = server(config, wire);
    assert_eq!(events.len(), 5);
    assert_eq!(
        kind(&events[3]),
        FrameErrorKind::TooManyLiterals { limit: 3 }
    );
    assert_eq!(tag(&events[3]), Some("a1"));
    assert_eq!(events[4], msg(b"a3 NOOP\r\n"));
    // After a synchronising header the client waits: the next bytes are the next command.
    let events = server(config, b"a1 X {0}\r\n {0}\r\n {0}\r\n {4}\r\na2 NOOP\r\n");
    assert_eq!(tag(&events[3]), Some("a1"));
    assert_eq!(events[4], msg(b"a2 NOOP\r\n"));
}

#[test]
fn the_lines_of_one_message_have_a_total_limit() {
    let config = FramerConfig {
        max_line: 16,
        max_lines_total: 40,
        ..FramerConfig::default()
    };
    // 15 + 15 + 10 = 40 octets of lines: allowed.
    let fits = b"a1 X 8901 {0}\r\n 34567890 {0}\r\n 3456789\r\n";
    assert_eq!(client(config, fits), [msg(fits)]);
    // One more octet in the last line: refused with the tag, the line discarded, the next
    // message framed; byte by byte the same.
    let over = b"a1 X 8901 {0}\r\n 34567890 {0}\r\n 34567890\r\na2 NOOP\r\n";
    let whole = client(config, over);
    assert_eq!(kind(&whole[0]), FrameErrorKind::LinesTooLong { limit: 40 });
    assert_eq!(tag(&whole[0]), Some("a1"));
    assert_eq!(whole[1..], [msg(b"a2 NOOP\r\n")]);
    let reads: Vec<&[u8]> = over.chunks(1).collect();
    let bytes = drive(
        &mut Framer::client(config),
        &reads,
        &mut accept_all,
        usize::MAX,
    );
    assert_eq!(bytes, whole);
    // A line that breaks the total while its CRLF has not arrived is discarded as it
    // arrives, and a literal it announces is skipped.
    let endless =
        b"a1 X {0}\r\n 3456789 {0}\r\n 3456789 {0}\r\n 345678901234 {2}\r\nab\r\na2 NOOP\r\n";
    let events = client(config, endless);
    assert_eq!(kind(&events[0]), FrameErrorKind::LinesTooLong { limit: 40 });
    assert_eq!(events[1..], [msg(b"a2 NOOP\r\n")]);
}

#[test]
fn default_limits_bound_literals_and_lines_per_message() {
    let config = FramerConfig::default();
    assert_eq!(config.max_literals, 1000);
    assert_eq!(config.max_lines_total, 4 * config.max_line);
    let mut append = b"a1 APPEND INBOX".to_vec();
    for _ in 0..1001 {
        append.extend_from_slice(b" {0+}\r\n");
    }
    append.extend_from_slice(b"\r\na2 NOOP\r\n");
    let events = server(config, &append);
    assert_eq!(
        kind(&events[1000]),
        FrameErrorKind::TooManyLiterals { limit: 1000 }
    );
    assert_eq!(events[1001..], [msg(b"a2 NOOP\r\n")]);
}
