//! Segmentation independence: every decision the server makes (each reply, each event, why
//! the session closed) is the same whatever TCP segmentation cut the client's bytes into,
//! up to STARTTLS, where the cut is part of the protocol (RFC 3207 section 4.2: bytes in
//! the same read as the command are an injection). Issue 13's two fuzz inputs replayed under
//! every split, a tiny line limit, the one limit that is about how much arrives at once
//! (`max_buffered_input`), and a property over random SMTP-ish command streams.

use std::time::Duration;

use mail_testkit::chunk::{self, Chunker, Chunking};
use mail_wire::dot::BareLineEnding;
use mail_wire::line::BareLf;
use mail_wire::sasl::Mechanism;
use proptest::prelude::*;
use smtp_proto::server::{Event, ServerConfig, SessionError};

use crate::harness::{Decision, Harness, Policy, closed, domain, reply};

/// The application's answers, taken in turn from `script` (starting over after the last):
/// 0 accept, 1 accept with a reply of its own, 2 refuse permanently, 3 refuse temporarily.
/// LMTP messages get one reply per recipient, alternating 250 and 452.
fn scripted(script: Vec<u8>) -> Policy {
    let mut made = 0;
    Box::new(move |event| {
        let next = if script.is_empty() {
            0
        } else {
            script[made % script.len()] % 4
        };
        match event {
            Event::Hello { .. } | Event::Mail { .. } | Event::Rcpt { .. } => {
                made += 1;
                match next {
                    1 => Decision::AcceptWith(reply(250, "Fine by the application")),
                    2 => Decision::Reject(reply(550, "Refused")),
                    3 => Decision::Reject(reply(451, "Try later")),
                    _ => Decision::Accept,
                }
            }
            Event::BodyEnd { recipients, .. } => {
                made += 1;
                match next {
                    1 => Decision::ReplyEach(
                        (0..*recipients)
                            .map(|i| {
                                if i % 2 == 0 {
                                    reply(250, "Delivered")
                                } else {
                                    reply(452, "Over quota")
                                }
                            })
                            .collect(),
                    ),
                    2 => Decision::Reject(reply(554, "Content refused")),
                    3 => Decision::Reject(reply(451, "Try later")),
                    _ => Decision::Accept,
                }
            }
            Event::AuthStep { .. } => {
                made += 1;
                match next {
                    2 | 3 => Decision::Reject(reply(454, "Temporary authentication failure")),
                    _ => Decision::Accept,
                }
            }
            _ => Decision::Accept,
        }
    })
}

/// What a session showed the client and the application.
#[derive(Debug, PartialEq)]
struct Outcome {
    written: String,
    events: Vec<Event>,
}

/// Runs a session over `reads` (every read at the same instant, alternately through `feed`
/// and `feed_buf`), then, if `late_timeout`, lets an hour pass, then ends the client's side.
fn run(config: &ServerConfig, script: &[u8], late_timeout: bool, reads: &[&[u8]]) -> Outcome {
    let mut h = Harness::with_policy(config.clone(), scripted(script.to_vec()));
    for (index, read) in reads.iter().enumerate() {
        if index % 2 == 0 {
            h.send_buf(read);
        } else {
            h.send(read);
        }
    }
    if late_timeout {
        h.advance(Duration::from_secs(3600));
    }
    h.server.handle_eof();
    h.drive();
    // A reply held back (a failed AUTH's delay) goes out when its time comes: a driver waits
    // for `poll_timeout`, so the clock moves to each deadline until the session has ended.
    for _ in 0..16 {
        match h.server.poll_timeout() {
            Some(due) if !h.server.is_closed() => {
                let by = due.saturating_duration_since(h.now);
                h.advance(by);
            }
            _ => break,
        }
    }
    Outcome {
        written: String::from_utf8_lossy(&h.take_bytes()).into_owned(),
        events: h.events(),
    }
}

/// Every chunking a fixed case is checked under: every one-cut, every two-cut of inputs up to
/// `two_cut_limit` octets, byte by byte, and random reads of at most 1, 2, 7 and 64 octets
/// from 50 seeds.
fn every_chunking(input: &[u8], two_cut_limit: usize) -> Vec<Vec<&[u8]>> {
    let mut splits: Vec<Vec<&[u8]>> = vec![Chunker::new(Chunking::Bytewise).split(input)];
    for cuts in chunk::one_cuts(input.len()) {
        splits.push(chunk::split_at(input, &cuts));
    }
    if input.len() <= two_cut_limit {
        for cuts in chunk::two_cuts(input.len()) {
            splits.push(chunk::split_at(input, &cuts));
        }
    }
    for seed in 0..50 {
        for max in [2, 7, 64] {
            splits.push(Chunker::new(Chunking::Seeded { seed, max }).split(input));
        }
    }
    splits
}

/// Checks that `input` gives `expected` fed whole and under [`every_chunking`].
fn same_under_every_split(
    config: &ServerConfig,
    script: &[u8],
    late_timeout: bool,
    input: &[u8],
    expected: &Outcome,
) {
    assert_eq!(
        &run(config, script, late_timeout, &[input]),
        expected,
        "whole"
    );
    for reads in every_chunking(input, 200) {
        let lengths: Vec<usize> = reads.iter().map(|r| r.len()).collect();
        assert_eq!(
            &run(config, script, late_timeout, &reads),
            expected,
            "reads of {lengths:?}"
        );
    }
}

/// The configuration issue 13's inputs chose in the fuzz target's old 16-octet header
/// (`4c 4f 20 64 62`): the relay preset with implicit TLS turned on and STARTTLS and CHUNKING
/// turned off, TLS required, plaintext AUTH allowed, DSN on, bare CR or LF in a body
/// refused; 16-octet lines, 20-octet messages, 3 recipients, 2 errors, 4096 octets of
/// buffered input; and an hour passing after the last read.
fn issue_config() -> ServerConfig {
    let mut config = ServerConfig::relay(domain("mx.example"));
    config.bare_line_ending = BareLineEnding::Reject;
    config.starttls = false;
    config.implicit_tls = true;
    config.require_tls = true;
    config.allow_plaintext_auth = true;
    config.chunking = false;
    config.dsn = true;
    config.max_line_len = 16;
    config.max_message_size = 20;
    config.max_recipients = 3;
    config.max_errors = 2;
    config.max_buffered_input = 4096;
    config
}

const GREETING: &str = "220 mx.example ESMTP ready\r\n";
const LINE_TOO_LONG: &str = "500 5.5.2 Line too long\r\n";
const UNREADABLE_BDAT: &str = "421 4.5.4 Unreadable BDAT command, closing connection\r\n";

/// Issue 13, minimised (53 octets with its header): fed whole it closed `Desynchronised`,
/// in chunks `TooManyErrors` or `Timeout`. An over-long line ending in a bare LF, then an
/// over-long, unterminated BDAT line: the first is a `500`, the second closes the session,
/// since its chunk cannot be found.
#[test]
fn issue_13_minimised_input_closes_alike_however_the_reads_split() {
    let input = b"\xff\xffAST\r<x@\x86\x86\x86\x86\x86\x86 1\r<d\nBDAT <x@<de.abcQ";
    let expected = Outcome {
        written: [GREETING, LINE_TOO_LONG, UNREADABLE_BDAT].concat(),
        events: vec![closed(Err(SessionError::Desynchronised))],
    };
    same_under_every_split(&issue_config(), &[], true, input, &expected);
}

/// Issue 13, the original input (169 octets with its header): two over-long lines (the
/// error limit is 2, so a third error would close with `421 4.7.0`), then a BDAT line that is
/// too long, whose chunk `abc` must not run as commands.
#[test]
fn issue_13_original_input_closes_alike_however_the_reads_split() {
    let input: &[u8] = b"T oleh1 LAST\r<x@\
        \x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\
        \x86\x86\x86\x86\x86\x86\xa0\x00\x00\x00\x00\x00\x00\x00EXPN \
        \x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86\x86<Sfoo.edu>\r\n\
        BAAview\x00\xf8\x00\x00SIZE=>\r\nBDAT 1 LAST\r<x@<Sfoo.edu>\r\nBDAT 1 LAST\r\nabcQUIT\r\n";
    assert_eq!(input.len(), 153);
    let expected = Outcome {
        written: [GREETING, LINE_TOO_LONG, LINE_TOO_LONG, UNREADABLE_BDAT].concat(),
        events: vec![closed(Err(SessionError::Desynchronised))],
    };
    same_under_every_split(&issue_config(), &[], true, input, &expected);
}

/// A line limit below the length of a verb: the line the framer finds too long still holds
/// the whole verb, so a BDAT line closes the session however the reads split (cut after
/// `BD`, it used to be a plain `500`, and the chunk `QUIT` ran as a command).
#[test]
fn a_line_limit_shorter_than_a_verb_still_finds_bdat() {
    let mut config = ServerConfig::default();
    config.max_line_len = 3;
    let expected = Outcome {
        written: ["220 localhost ESMTP ready\r\n", UNREADABLE_BDAT].concat(),
        events: vec![closed(Err(SessionError::Desynchronised))],
    };
    same_under_every_split(&config, &[], false, b"BDAT 4 LAST\r\nQUIT\r\n", &expected);

    // Any other line is refused as too long, and the session goes on.
    let expected = Outcome {
        written: [
            "220 localhost ESMTP ready\r\n",
            LINE_TOO_LONG,
            LINE_TOO_LONG,
        ]
        .concat(),
        events: vec![closed(Err(SessionError::PeerClosed {
            in_transaction: false,
        }))],
    };
    same_under_every_split(&config, &[], false, b"NOOP\r\nQUIT\r\n", &expected);
}

/// `max_buffered_input` is the one limit about how much arrives at once: it bounds what the
/// session holds, and a read that would pass it is refused before any of it is processed
/// (its commands may wait for decisions the application makes only after the read was
/// handed over). Fed whole, this 70-octet stream is over a 64-octet bound; in reads of at
/// most 40 octets the session holds at most a partial line plus one read, and runs.
/// Whenever the whole input fits, every split gives the same outcome: the input held before
/// a read is never more than what the whole input would have brought.
#[test]
fn only_input_over_the_buffer_bound_at_once_depends_on_the_reads() {
    let mut config = ServerConfig::default();
    config.max_buffered_input = 64;
    let input =
        b"EHLO client.example\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nQUIT\r\n";
    assert_eq!(input.len(), 69);

    let whole = run(&config, &[], false, &[input]);
    assert_eq!(
        whole.written,
        "220 localhost ESMTP ready\r\n421 4.7.0 Too much pipelined input, closing connection\r\n"
    );
    assert_eq!(whole.events, [closed(Err(SessionError::InputOverflow))]);

    let in_pieces = run(&config, &[], false, &chunk::split_at(input, &[21, 45]));
    assert!(
        in_pieces
            .written
            .ends_with("250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n"),
        "{}",
        in_pieces.written
    );
    assert_eq!(in_pieces.events.last(), Some(&closed(Ok(()))));

    // Within the bound, the outcome is the same under every split.
    let fits = &input[..45];
    let expected = run(&config, &[], false, &[fits]);
    assert_eq!(
        expected.events.last(),
        Some(&closed(Err(SessionError::PeerClosed {
            in_transaction: false
        })))
    );
    same_under_every_split(&config, &[], false, fits, &expected);
}

// The property: random command streams, the same outcome whole and in random reads.

/// One piece of a client's stream.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    let address = prop::sample::select(vec![
        "a@example.org",
        "reject@example.net",
        "b@example.net",
        "",
        "postmaster",
    ]);
    let ending = prop::sample::select(vec!["\r\n", "\r\n", "\r\n", "\n", "\r"]);
    let line = (
        prop::sample::select(vec![
            "EHLO client.example",
            "HELO client.example",
            "LHLO client.example",
            "NOOP",
            "RSET",
            "VRFY someone",
            "EXPN list",
            "HELP",
            "FOO bar",
            "MAIL FROM:<a@example.org> SIZE=30",
            "MAIL FROM:<a@example.org> BODY=BINARYMIME",
            "DATA",
            "BDAT x",
            "BDAT 99999999999999999999999 LAST",
            "BDAT -1",
            "AUTH PLAIN AGFsaWNlAHNlY3JldA==",
            "AUTH PLAIN AGFsaWNlAHdyb25n",
            "AUTH LOGIN",
            "YWxpY2U=",
            "*",
            "QUIT",
        ]),
        ending.clone(),
    )
        .prop_map(|(text, ending)| format!("{text}{ending}").into_bytes());
    prop_oneof![
        6 => line,
        2 => (address.clone(), ending.clone())
            .prop_map(|(a, e)| format!("MAIL FROM:<{a}>{e}").into_bytes()),
        3 => (address, ending.clone()).prop_map(|(a, e)| format!("RCPT TO:<{a}>{e}").into_bytes()),
        // An over-long line, maybe a BDAT command.
        2 => (any::<bool>(), 10..300usize, ending.clone()).prop_map(|(bdat, len, e)| {
            let verb = if bdat { "BDAT 3 " } else { "NOOP " };
            format!("{verb}{}{e}", "x".repeat(len)).into_bytes()
        }),
        // A DATA body: lines, dot-stuffed or not, with any line endings, then maybe its end.
        2 => (
            proptest::collection::vec(
                (prop::sample::select(vec!["Subject: x", "", ".", "..x", "body text"]), ending.clone()),
                0..5,
            ),
            any::<bool>(),
        )
            .prop_map(|(lines, end)| {
                let mut body: Vec<u8> = b"DATA\r\n".to_vec();
                for (text, e) in lines {
                    body.extend_from_slice(format!("{text}{e}").as_bytes());
                }
                if end {
                    body.extend_from_slice(b".\r\n");
                }
                body
            }),
        // BDAT with a chunk of `sent` octets where `size` were announced.
        3 => (0..40u64, 0..40usize, any::<bool>(), ending)
            .prop_map(|(size, sent, last, e)| {
                let last = if last { " LAST" } else { "" };
                let mut bytes = format!("BDAT {size}{last}{e}").into_bytes();
                bytes.extend(std::iter::repeat_n(b'z', sent));
                bytes
            }),
        // Arbitrary octets.
        1 => proptest::collection::vec(any::<u8>(), 0..20),
    ]
}

/// A configuration with small limits, chosen by the strategy.
fn small_config() -> impl Strategy<Value = ServerConfig> {
    (
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        (
            prop::sample::select(vec![3usize, 16, 80, 512]),
            prop::sample::select(vec![0u32, 2, 5, 20]),
            prop::sample::select(vec![0u64, 20, 200, 10_240_000]),
            prop::sample::select(vec![0usize, 1, 3, 100]),
            prop::sample::select(vec![
                BareLineEnding::Reject,
                BareLineEnding::Normalize,
                BareLineEnding::Preserve,
            ]),
        ),
    )
        .prop_map(
            |((lmtp, chunking, bare_lf, auth), (line, errors, size, recipients, body))| {
                let mut config = if lmtp {
                    ServerConfig::lmtp(domain("mx.example"))
                } else {
                    ServerConfig::default()
                };
                config.chunking = chunking;
                if bare_lf {
                    config.bare_lf_in_commands = BareLf::Accept;
                }
                if auth {
                    config.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
                    config.allow_plaintext_auth = true;
                }
                config.max_line_len = line;
                config.max_errors = errors;
                config.max_message_size = size;
                config.max_recipients = recipients;
                config.bare_line_ending = body;
                config
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    /// Whatever the stream, configuration and decisions, the replies, the events and the way
    /// the session ends are the same fed whole and in any reads.
    #[test]
    fn random_command_streams_end_alike_whole_and_in_pieces(
        pieces in proptest::collection::vec(piece(), 0..24),
        config in small_config(),
        script in proptest::collection::vec(any::<u8>(), 0..8),
        late_timeout in any::<bool>(),
        chunking in chunk::strategy::chunking(),
        cuts_seed in any::<u64>(),
    ) {
        let input = pieces.concat();
        let whole = run(&config, &script, late_timeout, &[&input]);
        let split = run(&config, &script, late_timeout, &Chunker::new(chunking.clone()).split(&input));
        prop_assert_eq!(&whole, &split, "{:?}", chunking);
        let bytewise = Chunking::Seeded { seed: cuts_seed, max: 3 };
        let small = run(&config, &script, late_timeout, &Chunker::new(bytewise).split(&input));
        prop_assert_eq!(&whole, &small);
        // Every session ends, in exactly one Closed, the last event.
        prop_assert!(matches!(whole.events.last(), Some(Event::Closed(_))));
        prop_assert_eq!(whole.events.iter().filter(|e| matches!(e, Event::Closed(_))).count(), 1);
    }
}
