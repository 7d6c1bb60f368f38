//! Any chunking of a stream gives the same messages: a stream of commands (with synchronising,
//! non-synchronising and binary literals whose data holds CRLF and literal headers) and a stream
//! of responses (with literals) are fed to a [`Framer`] in pieces, as reads from a socket
//! deliver them, and every framed message must be exactly one of the messages the stream was
//! made of, in order, and parse to the same value as that message parsed on its own.
//!
//! Fixed streams are split at every byte (two pieces) and fed one byte at a time; proptest
//! builds streams from a pool of messages plus generated APPENDs with arbitrary literal data,
//! and splits them at random points.

use imap_proto::command::Command;
use imap_proto::framer::{Framed, Framer, FramerConfig, Side};
use imap_proto::response::Response;
use proptest::prelude::*;

/// Commands, each one whole message.
fn command_pool() -> Vec<Vec<u8>> {
    let rfc3501_append = b"A003 APPEND saved-messages (\\Seen) {310}\r\n\
Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n\
From: Fred Foobar <foobar@Blurdybloop.COM>\r\n\
Subject: afternoon meeting\r\n\
To: mooch@owatagu.siam.edu\r\n\
Message-Id: <B27397-0100000@Blurdybloop.COM>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\
\r\n\
Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n\
\r\n";
    let mut pool: Vec<Vec<u8>> = vec![
        b"a1 NOOP\r\n".to_vec(),
        b"a2 LOGIN {4}\r\nfred {6}\r\nsecret\r\n".to_vec(),
        rfc3501_append.to_vec(),
        // Literal data that looks like lines and literal headers is data.
        b"a4 APPEND INBOX {14+}\r\nx {3}\r\nA1 NOOP\r\n".to_vec(),
        b"a5 APPEND INBOX (\\Seen $Junk) \"17-Jul-1996 02:44:25 -0700\" ~{5}\r\n\x00\r\n\xff\x01\r\n"
            .to_vec(),
        b"a6 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE)])\r\n".to_vec(),
        b"a7 SEARCH CHARSET UTF-8 OR SUBJECT {5}\r\n\xc3\xa9t\xc3\xa9 TO \"bob\" 1:5,7\r\n".to_vec(),
        b"a8 STORE 2:4 +FLAGS.SILENT (\\Deleted)\r\n".to_vec(),
        b"a9 SELECT {5}\r\nINBOX\r\n".to_vec(),
        b"b1 APPEND INBOX {0}\r\n\r\n".to_vec(),
        b"b2 LOGOUT\r\n".to_vec(),
    ];
    pool.push(b"b3 ID (\"name\" \"sansmail\" \"version\" NIL)\r\n".to_vec());
    pool
}

/// Responses, each one whole message.
fn response_pool() -> Vec<Vec<u8>> {
    vec![
        b"* OK [CAPABILITY IMAP4rev1 LITERAL+ IDLE] ready\r\n".to_vec(),
        b"* 18 EXISTS\r\n".to_vec(),
        b"* 12 FETCH (FLAGS (\\Seen) UID 4827 BODY[HEADER] {15}\r\nX: {3}\r\nabc\r\n\r\n)\r\n"
            .to_vec(),
        b"* 13 FETCH (BODY[] {0}\r\n UID 9)\r\n".to_vec(),
        b"* LIST (\\HasNoChildren) \"/\" {5}\r\nA\r\nB)\r\n".to_vec(),
        b"+ go ahead\r\n".to_vec(),
        b"a1 OK [READ-WRITE] SELECT completed\r\n".to_vec(),
        b"* 3 FETCH (BINARY[1] ~{4}\r\n\x00\x01\r\n)\r\n".to_vec(),
        b"* SEARCH 2 84 882\r\n".to_vec(),
        b"* BYE bye\r\n".to_vec(),
    ]
}

/// Feed `stream` to a framer of `side` in the pieces that `cuts` (sorted offsets) make, keeping
/// what is not consumed as a socket reader would, and return every framed message.
fn frame(side: Side, stream: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut framer = Framer::new(FramerConfig::default(), side);
    let mut buffer: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    let mut start = 0;
    for end in cuts.iter().copied().chain([stream.len()]) {
        let end = end.clamp(start, stream.len());
        buffer.extend_from_slice(&stream[start..end]);
        start = end;
        let mut input = &buffer[..];
        while let Some(framed) = framer.next_frame(&mut input) {
            match framed {
                Framed::Message(m) => out.push(m.to_vec()),
                Framed::Literal(_) => framer.accept_literal(),
                Framed::Error(e) => panic!("framing error {e}"),
            }
        }
        let consumed = buffer.len() - input.len();
        buffer.drain(..consumed);
    }
    assert!(buffer.is_empty(), "bytes left over: {buffer:?}");
    out
}

/// Frames equal the messages, and each frame parses as its message does on its own.
fn check(side: Side, messages: &[Vec<u8>], cuts: &[usize]) {
    let stream = messages.concat();
    let frames = frame(side, &stream, cuts);
    assert_eq!(frames, messages, "cuts {cuts:?}");
    for (f, m) in frames.iter().zip(messages) {
        match side {
            Side::Server => {
                let got = Command::parse(f).map(Command::into_static);
                let want = Command::parse(m).map(Command::into_static);
                assert!(got.is_ok(), "{:?}: {got:?}", String::from_utf8_lossy(f));
                assert_eq!(got, want);
            }
            Side::Client => {
                let got = Response::parse(f).map(Response::into_static);
                let want = Response::parse(m).map(Response::into_static);
                assert!(got.is_ok(), "{:?}: {got:?}", String::from_utf8_lossy(f));
                assert_eq!(got, want);
            }
        }
    }
}

#[test]
fn every_pool_message_parses() {
    for m in command_pool() {
        assert!(
            Command::parse(&m).is_ok(),
            "{:?}",
            String::from_utf8_lossy(&m)
        );
    }
    for m in response_pool() {
        assert!(
            Response::parse(&m).is_ok(),
            "{:?}",
            String::from_utf8_lossy(&m)
        );
    }
}

#[test]
fn commands_split_at_every_byte() {
    let pool = command_pool();
    let len = pool.concat().len();
    for cut in 0..=len {
        check(Side::Server, &pool, &[cut]);
    }
}

#[test]
fn commands_one_byte_at_a_time() {
    let pool = command_pool();
    let cuts: Vec<usize> = (1..pool.concat().len()).collect();
    check(Side::Server, &pool, &cuts);
}

#[test]
fn responses_split_at_every_byte() {
    let pool = response_pool();
    let len = pool.concat().len();
    for cut in 0..=len {
        check(Side::Client, &pool, &[cut]);
    }
}

#[test]
fn responses_one_byte_at_a_time() {
    let pool = response_pool();
    let cuts: Vec<usize> = (1..pool.concat().len()).collect();
    check(Side::Client, &pool, &cuts);
}

/// An APPEND whose literal holds arbitrary octets (NUL excepted: a `literal` may not hold it;
/// `binary` makes it a `literal8`, which may), in any of the three literal forms.
fn append() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(any::<u8>(), 0..200),
        0..3u8,
        "[a-z][a-z0-9]{0,5}",
    )
        .prop_map(|(mut data, form, tag)| {
            if form < 2 {
                for b in &mut data {
                    if *b == 0 {
                        *b = b'0';
                    }
                }
            }
            let header = match form {
                0 => format!("{{{}}}", data.len()),
                1 => format!("{{{}+}}", data.len()),
                _ => format!("~{{{}}}", data.len()),
            };
            let mut m = format!("{tag} APPEND INBOX {header}\r\n").into_bytes();
            m.extend_from_slice(&data);
            m.extend_from_slice(b"\r\n");
            m
        })
}

/// A FETCH response carrying a literal of arbitrary octets (no NUL) as `BODY[]`.
fn fetch_body() -> impl Strategy<Value = Vec<u8>> {
    (proptest::collection::vec(1..=255u8, 0..200), 1..100_000u32).prop_map(|(data, n)| {
        let mut m = format!("* {n} FETCH (UID {n} BODY[] {{{}}}\r\n", data.len()).into_bytes();
        m.extend_from_slice(&data);
        m.extend_from_slice(b")\r\n");
        m
    })
}

/// Sorted cut points inside a stream of `len` octets.
fn cuts(len: usize, raw: Vec<usize>) -> Vec<usize> {
    let mut c: Vec<usize> = raw.into_iter().map(|x| x % (len + 1)).collect();
    c.sort_unstable();
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_chunking_of_commands_gives_the_same_messages(
        picks in proptest::collection::vec(
            prop_oneof![
                (0..command_pool().len()).prop_map(|i| command_pool()[i].clone()),
                append(),
            ],
            1..12,
        ),
        raw in proptest::collection::vec(any::<usize>(), 0..20),
    ) {
        let len = picks.concat().len();
        check(Side::Server, &picks, &cuts(len, raw));
    }

    #[test]
    fn any_chunking_of_responses_gives_the_same_messages(
        picks in proptest::collection::vec(
            prop_oneof![
                (0..response_pool().len()).prop_map(|i| response_pool()[i].clone()),
                fetch_body(),
            ],
            1..12,
        ),
        raw in proptest::collection::vec(any::<usize>(), 0..20),
    ) {
        let len = picks.concat().len();
        check(Side::Client, &picks, &cuts(len, raw));
    }
}
