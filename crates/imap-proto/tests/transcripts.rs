//! The examples of RFC 3501 and RFC 9051 (every command section, the responses of section 7,
//! and the sample sessions of section 8) as transcripts in `tests/transcripts/`: each side is
//! framed, each message parsed, encoded, parsed again, and the two values compared.
//!
//! # The transcript format
//!
//! One wire line per text line; the first characters say who sends it and what it is, and the
//! rest of the line (after one space) is the line's content, to which CRLF is added:
//!
//! | prefix | sender | parsed with |
//! |---|---|---|
//! | `G:` | server | `Greeting::parse` |
//! | `S:` | server | `Response::parse` |
//! | `C:` | client | `Command::parse` |
//! | `C!` | client | `Command::parse`, which must refuse it |
//! | `A:` | client | `AuthenticateData::parse` (a line of an AUTHENTICATE exchange) |
//! | `D:` | client | `IdleDone::parse` |
//!
//! Lines starting with `#` and empty lines are comments. The lines of each side are joined
//! into one stream, which the framer splits: a line ending in a literal header is followed by
//! its data on the next lines of the same side (with their CRLFs), as on the wire. A message
//! takes the kind of its first line. Wrapped lines of the RFC text are joined with a space
//! (base64 without one); elided or descriptive lines of the RFC are comments.

use std::path::{Path, PathBuf};

use imap_proto::Encode;
use imap_proto::command::{AuthenticateData, Command, IdleDone};
use imap_proto::framer::{Framed, Framer, FramerConfig, tag_of};
use imap_proto::response::{Greeting, Response};

/// What a message is, from the prefix of its first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Greeting,
    Response,
    Command,
    BadCommand,
    Authenticate,
    Done,
}

impl Kind {
    fn client(self) -> bool {
        matches!(
            self,
            Kind::Command | Kind::BadCommand | Kind::Authenticate | Kind::Done
        )
    }
}

/// One side's bytes, with where each line starts and what it is.
#[derive(Default)]
struct Stream {
    bytes: Vec<u8>,
    lines: Vec<(usize, Kind, usize)>,
}

/// A framed message: its kind, the file line it starts on, its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Message {
    kind: Kind,
    line: usize,
    bytes: Vec<u8>,
}

struct Transcript {
    path: PathBuf,
    client: Stream,
    server: Stream,
}

fn load(path: &Path) -> Transcript {
    let text = std::fs::read_to_string(path).expect("transcript readable");
    let mut t = Transcript {
        path: path.to_owned(),
        client: Stream::default(),
        server: Stream::default(),
    };
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (prefix, rest) = line.split_at(line.len().min(2));
        let kind = match prefix {
            "G:" => Kind::Greeting,
            "S:" => Kind::Response,
            "C:" => Kind::Command,
            "C!" => Kind::BadCommand,
            "A:" => Kind::Authenticate,
            "D:" => Kind::Done,
            _ => panic!("{}:{}: unknown prefix {prefix:?}", path.display(), n + 1),
        };
        let content = rest.strip_prefix(' ').unwrap_or(rest);
        assert!(
            rest.is_empty() || rest.starts_with(' '),
            "{}:{}: a space must follow the prefix",
            path.display(),
            n + 1
        );
        let stream = if kind.client() {
            &mut t.client
        } else {
            &mut t.server
        };
        stream.lines.push((stream.bytes.len(), kind, n + 1));
        stream.bytes.extend_from_slice(content.as_bytes());
        stream.bytes.extend_from_slice(b"\r\n");
    }
    t
}

/// Frames `stream` fed in reads of `chunk` octets (every literal accepted); returns the
/// messages and what is left unframed at the end.
fn frame(stream: &Stream, mut framer: Framer, chunk: usize) -> (Vec<Message>, Vec<u8>) {
    let mut buffer: Vec<u8> = Vec::new();
    let mut consumed_total = 0;
    let mut messages = Vec::new();
    for read in stream.bytes.chunks(chunk.max(1)) {
        buffer.extend_from_slice(read);
        let mut input = &buffer[..];
        while let Some(framed) = framer.next_frame(&mut input) {
            match framed {
                Framed::Message(bytes) => {
                    let start = consumed_total + (buffer.len() - input.len()) - bytes.len();
                    let (_, kind, line) = *stream
                        .lines
                        .iter()
                        .find(|(offset, _, _)| *offset == start)
                        .expect("a message starts at a line");
                    messages.push(Message {
                        kind,
                        line,
                        bytes: bytes.to_vec(),
                    });
                }
                Framed::Literal(_) => framer.accept_literal(),
                Framed::Error(e) => panic!("framing error {e}"),
            }
        }
        let consumed = buffer.len() - input.len();
        consumed_total += consumed;
        buffer.drain(..consumed);
    }
    (messages, buffer)
}

fn transcripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/transcripts exists")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    paths
}

/// Both sides of a transcript, framed; the framing does not depend on the chunking.
fn frame_both(t: &Transcript) -> Vec<Message> {
    let (client, client_rest) = frame(&t.client, Framer::server(FramerConfig::default()), 1 << 20);
    let (server, server_rest) = frame(&t.server, Framer::client(FramerConfig::default()), 1 << 20);
    for chunk in [1, 7] {
        let (c, _) = frame(&t.client, Framer::server(FramerConfig::default()), chunk);
        assert_eq!(c, client, "{}: client side in {chunk}", t.path.display());
        let (s, _) = frame(&t.server, Framer::client(FramerConfig::default()), chunk);
        assert_eq!(s, server, "{}: server side in {chunk}", t.path.display());
    }
    assert!(
        server_rest.is_empty(),
        "{}: the server side ends inside a message",
        t.path.display()
    );
    if !client_rest.is_empty() {
        // A command whose synchronising literal the server refused (RFC 3501 section 7.5:
        // `A044 BLURDYBLOOP {102856}`): the client sends no data, and the server answered
        // the tag.
        let tag = tag_of(&client_rest).expect("the unfinished command has a tag");
        let answer = format!("{tag} BAD ");
        assert!(
            t.server
                .bytes
                .windows(answer.len())
                .any(|w| w == answer.as_bytes()),
            "{}: the client side ends inside a message that was not refused",
            t.path.display()
        );
    }
    let mut all = client;
    all.extend(server);
    all.sort_by_key(|m| m.line);
    all
}

#[test]
fn every_transcript_frames() {
    let paths = transcripts();
    assert!(paths.len() >= 90, "{} transcripts", paths.len());
    let mut total = 0;
    for path in &paths {
        let t = load(path);
        let messages = frame_both(&t);
        assert!(!messages.is_empty(), "{}", path.display());
        total += messages.len();
    }
    assert!(total > 600, "{total} messages");
}

/// `bytes` through a framer of `side` that accepts every literal: exactly one message.
fn one_message(bytes: &[u8], server: bool) -> &[u8] {
    let mut framer = if server {
        Framer::server(FramerConfig::default())
    } else {
        Framer::client(FramerConfig::default())
    };
    let mut input = bytes;
    loop {
        match framer.next_frame(&mut input) {
            Some(Framed::Message(m)) => {
                assert!(input.is_empty(), "an encoding is one message");
                return m;
            }
            Some(Framed::Literal(_)) => framer.accept_literal(),
            other => panic!("an encoding does not frame: {other:?}"),
        }
    }
}

fn same<T: PartialEq + std::fmt::Debug>(value: &T, again: &T) -> Result<(), String> {
    if value == again {
        Ok(())
    } else {
        Err(format!("{value:?} became {again:?}"))
    }
}

/// Parse `m` as its kind says, encode it, check the encoding frames as one message, parse
/// it again, and compare; `Err` says why not.
fn round_trip(m: &Message) -> Result<(), String> {
    let bytes = &m.bytes[..];
    match m.kind {
        Kind::Command => {
            let value = Command::parse(bytes).map_err(|e| format!("{e:?}"))?;
            let encoded = value.to_bytes();
            let again = Command::parse(one_message(&encoded, true))
                .map_err(|e| format!("re-parse of {:?}: {e:?}", String::from_utf8_lossy(&encoded)))?
                .into_static();
            same(&value.into_static(), &again)
        }
        Kind::BadCommand => match Command::parse(bytes) {
            Ok(value) => Err(format!("accepted: {value:?}")),
            Err(e) if e.error.offset() > bytes.len() => {
                Err(format!("offset out of the message: {e:?}"))
            }
            // A server answers `tag BAD` when the tag is readable.
            Err(e) => same(&tag_of(bytes), &e.tag.as_ref().map(|t| t.as_str())),
        },
        Kind::Response => {
            let value = Response::parse(bytes).map_err(|e| format!("{e:?}"))?;
            let encoded = value.to_bytes();
            let again = Response::parse(one_message(&encoded, false))
                .map_err(|e| format!("re-parse of {:?}: {e:?}", String::from_utf8_lossy(&encoded)))?
                .into_static();
            same(&value.into_static(), &again)
        }
        Kind::Greeting => {
            let value = Greeting::parse(bytes).map_err(|e| format!("{e:?}"))?;
            let encoded = value.to_bytes();
            let again = Greeting::parse(one_message(&encoded, false))
                .map_err(|e| format!("re-parse of {:?}: {e:?}", String::from_utf8_lossy(&encoded)))?
                .into_static();
            same(&value.into_static(), &again)
        }
        Kind::Authenticate => {
            let value = AuthenticateData::parse(bytes).map_err(|e| format!("{e:?}"))?;
            let encoded = value.to_bytes();
            let again = AuthenticateData::parse(&encoded).map_err(|e| format!("{e:?}"))?;
            same(&value, &again)
        }
        Kind::Done => {
            let value = IdleDone::parse(bytes).map_err(|e| format!("{e:?}"))?;
            let encoded = value.to_bytes();
            let again = IdleDone::parse(&encoded).map_err(|e| format!("{e:?}"))?;
            same(&value, &again)
        }
    }
}

#[test]
fn every_message_parses_encodes_and_parses_back() {
    let mut failures = Vec::new();
    let mut counts = [0usize; 6];
    for path in transcripts() {
        let t = load(&path);
        for m in frame_both(&t) {
            counts[m.kind as usize] += 1;
            if let Err(why) = round_trip(&m) {
                failures.push(format!(
                    "{}:{} {:?} {:?}: {why}",
                    path.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default(),
                    m.line,
                    m.kind,
                    String::from_utf8_lossy(&m.bytes),
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Greetings, responses, commands, refused commands, AUTHENTICATE lines, DONE: all seen.
    assert!(counts.iter().all(|&n| n > 0), "{counts:?}");
}

#[test]
fn rfc_literals_frame_with_their_data() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let t = load(&dir.join("rfc3501-8.txt"));
    let messages = frame_both(&t);
    let fetch = messages
        .iter()
        .find(|m| m.bytes.starts_with(b"* 12 FETCH (BODY[HEADER] {342}\r\n"))
        .expect("the FETCH with a literal");
    assert_eq!(
        fetch.bytes.len(),
        "* 12 FETCH (BODY[HEADER] {342}\r\n".len() + 342 + 3
    );
    assert!(fetch.bytes.ends_with(b"\r\n\r\n)\r\n"));
    let t = load(&dir.join("rfc3501-7.5.txt"));
    let login = frame_both(&t)
        .into_iter()
        .find(|m| m.kind == Kind::Command)
        .expect("LOGIN");
    assert_eq!(
        login.bytes,
        b"A001 LOGIN {11}\r\nFRED FOOBAR {7}\r\nfat man\r\n"
    );
}

// Findings of the fuzz targets, kept as tests.

/// `imap_command` found a LIST pattern in a quoted string holding UTF-8 and control
/// characters: it parses (quoted strings accept UTF-8), and encodes back to itself only when
/// quoted strings may hold UTF-8; otherwise the encoder sends the same octets as a literal.
#[test]
fn fuzz_a_quoted_utf8_pattern_round_trips_when_utf8_is_allowed() {
    let message: &[u8] = b"A02 LIST (SUBSCRIBED) \"\" \"\x16\x16\x16\x16\x16\x16\x16\x16INCE 1-Feb-1A93 NOT FROM \xd9\xacmithLATE\x16\x16\x12\x16\x16\x16\x16\x16\x16\x16\x16\x16\x16\x16\x16\x16\x16\x16\x16\x16\x16\x16\x16*\"\r\n";
    let command = Command::parse(message).expect("parses");
    let mut options = imap_proto::EncodeOptions::default();
    options.utf8 = true;
    let mut w = imap_proto::Writer::new(options);
    command.encode(&mut w);
    let utf8 = w.finish().into_bytes();
    assert!(utf8.starts_with(b"A02 LIST (SUBSCRIBED) \"\" \"\x16"));
    assert_eq!(
        Command::parse(&utf8).expect("re-parses").into_static(),
        command.clone().into_static()
    );
    let ascii = command.to_bytes();
    assert!(ascii.starts_with(b"A02 LIST (SUBSCRIBED) \"\" {67}\r\n\x16"));
    // strings compare by content (the quoted/literal form is a wire detail): equal again
    let again = Command::parse(&ascii).expect("re-parses").into_static();
    assert_eq!(again, command.into_static());
}

/// `imap_response` found two lines handed to `Response::parse` as one message. A client never
/// does that: its framer splits them, and each parses and round-trips on its own.
#[test]
fn fuzz_two_lines_are_two_responses() {
    let bytes: &[u8] = b"* NAM}\r\nACE (2 \" \"/\")) NIL NIL\r\n";
    let mut framer = Framer::client(FramerConfig::default());
    let mut input = bytes;
    let mut messages = Vec::new();
    while let Some(framed) = framer.next_frame(&mut input) {
        let Framed::Message(m) = framed else {
            panic!("{framed:?}")
        };
        messages.push(m);
    }
    assert_eq!(
        messages,
        [&b"* NAM}\r\n"[..], b"ACE (2 \" \"/\")) NIL NIL\r\n"]
    );
    let unknown = Response::parse(messages[0]).expect("unknown untagged data is kept");
    assert_eq!(
        Response::parse(&unknown.to_bytes())
            .expect("re-parses")
            .into_static(),
        unknown.into_static()
    );
    assert!(Response::parse(messages[1]).is_err());
}
