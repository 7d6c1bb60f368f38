//! The FETCH helpers of `imap_proto::message` over a corpus of real-shaped messages
//! (`tests/corpus/message/*.eml`): each message and FETCH item, with the answer Dovecot gave
//! for the same message, committed next to it (`NAME.dovecot`), and the same comparison
//! against a live Dovecot (`/usr/lib/dovecot/imap`, one pre-authenticated session on its
//! standard input, with a temporary configuration and Maildir; Debian `dovecot-imapd`,
//! installed by `.ci/run`; under `CI=true` the live test never skips).
//!
//! `UPDATE_DOVECOT_CORPUS=1 cargo test -p sansmail-imap-proto --features mime --test message
//! live` rewrites the committed answers from the live Dovecot.
//!
//! Deliberate differences from Dovecot (docs/imap.md, "Message helpers") have their own
//! tests at the end.
#![cfg(feature = "mime")]

use imap_proto::command::{Command, CommandBody, FetchAttribute};
use imap_proto::core::NString8;
use imap_proto::fetch::{BodyStructure, MessageDataItem, Part, PartKind, Partial, Section};
use imap_proto::framer::{Framed, Framer, FramerConfig};
use imap_proto::message::{MAX_PART_DEPTH, ParsedMessage, SectionError};
use imap_proto::response::{Data, Response};
use imap_proto::{Encode, Quirks};
use std::borrow::Cow;
use std::io::{Read, Write};
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command as Process, Stdio};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/message")
}

/// What every message is asked.
const COMMON: &[&str] = &[
    "ENVELOPE",
    "BODY",
    "BODYSTRUCTURE",
    "RFC822.SIZE",
    "RFC822.HEADER",
    "BODY.PEEK[]",
    "BODY.PEEK[HEADER]",
    "BODY.PEEK[TEXT]",
    "BODY.PEEK[HEADER.FIELDS (From SUBJECT x-none)]",
    "BODY.PEEK[HEADER.FIELDS.NOT (from Subject)]",
    "BODY.PEEK[1]",
    "BODY.PEEK[1.MIME]",
    "BODY.PEEK[1.HEADER]",
    "BODY.PEEK[1.TEXT]",
    "BODY.PEEK[2]",
    "BODY.PEEK[9.9]",
    "BODY.PEEK[TEXT]<5.10>",
    "BODY.PEEK[]<0.20>",
    "BODY.PEEK[]<100000.5>",
];

/// The corpus: each message (not the bare-LF one, which Dovecot stores with CRLF and so
/// answers differently; see `bare_line_feeds_are_counted_as_stored`) with what it is asked
/// beyond [`COMMON`].
const TABLE: &[(&str, &[&str])] = &[
    (
        "simple.eml",
        &["BINARY.PEEK[1]", "BINARY.SIZE[1]", "BODY.PEEK[1.1]"],
    ),
    (
        "multipart.eml",
        &[
            "BODY.PEEK[1.1]",
            "BODY.PEEK[1.2]",
            "BODY.PEEK[1.1.MIME]",
            "BODY.PEEK[1.2.MIME]",
            "BODY.PEEK[2.MIME]",
            "BODY.PEEK[2.1]",
            "BODY.PEEK[2.1.MIME]",
            "BODY.PEEK[2.2.MIME]",
            "BODY.PEEK[2.1.1]",
            "BODY.PEEK[3]",
            "BINARY.PEEK[1.1]",
            "BINARY.PEEK[1.2]",
            "BINARY.PEEK[2]",
            "BINARY.SIZE[2]",
            "BINARY.PEEK[2]<700.100>",
        ],
    ),
    (
        "nested.eml",
        &[
            "BODY.PEEK[2.MIME]",
            "BODY.PEEK[2.HEADER]",
            "BODY.PEEK[2.TEXT]",
            "BODY.PEEK[2.HEADER.FIELDS (subject date)]",
            "BODY.PEEK[2.HEADER.FIELDS.NOT (subject date)]",
            "BODY.PEEK[2.1]",
            "BODY.PEEK[2.2]",
            "BODY.PEEK[2.1.MIME]",
            "BODY.PEEK[2.2.MIME]",
            "BODY.PEEK[2.3]",
            "BODY.PEEK[2.TEXT]<10.20>",
            "BINARY.PEEK[1]",
            "BINARY.SIZE[1]",
            "BINARY.SIZE[2]",
            "BINARY.PEEK[2.1]",
        ],
    ),
    (
        "eightbit.eml",
        &["BINARY.PEEK[1]", "BINARY.SIZE[1]", "RFC822.TEXT"],
    ),
    ("noheader.eml", &["BINARY.PEEK[1]", "BINARY.SIZE[1]"]),
    ("headeronly.eml", &["BINARY.PEEK[1]", "BINARY.SIZE[1]"]),
    (
        "encodings.eml",
        &[
            "BINARY.PEEK[1]",
            "BINARY.PEEK[2]",
            "BINARY.SIZE[2]",
            "BINARY.PEEK[3]",
            "BODY.PEEK[3.MIME]",
        ],
    ),
    ("addresses.eml", &["BINARY.PEEK[1]"]),
    ("no-charset.eml", &[]),
    ("no-boundary.eml", &["BODY.PEEK[1.MIME]"]),
    (
        "encoded-rfc822.eml",
        &["BODY.PEEK[1.HEADER]", "BODY.PEEK[1.1]", "BINARY.PEEK[1]"],
    ),
    (
        "top-rfc822.eml",
        &[
            "BODY.PEEK[1.HEADER]",
            "BODY.PEEK[1.TEXT]",
            "BODY.PEEK[1.1]",
            "BODY.PEEK[1.1.MIME]",
            "BODY.PEEK[1.2]",
            "BODY.PEEK[1.2.MIME]",
            "BODY.PEEK[1.3]",
        ],
    ),
    ("nul.eml", &["BINARY.PEEK[1]", "BINARY.PEEK[]"]),
    ("empty-multipart.eml", &["BODY.PEEK[1.MIME]"]),
    ("quirks.eml", &[]),
    ("rfc2231.eml", &["BODY.PEEK[2.MIME]"]),
    (
        "digest.eml",
        &["BODY.PEEK[1.HEADER]", "BODY.PEEK[1.1]", "BODY.PEEK[2.1]"],
    ),
];

fn items_of(name: &str) -> Vec<&'static str> {
    let extra = TABLE
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, e)| *e)
        .unwrap_or_default();
    COMMON.iter().chain(extra).copied().collect()
}

/// The FETCH attribute `item` stands for, through the codec's command parser.
fn attribute(item: &str) -> FetchAttribute<'static> {
    let line = format!("a FETCH 1 ({item})\r\n");
    let command = Command::parse(line.as_bytes()).expect("a FETCH command");
    match command.body {
        CommandBody::Fetch { items, .. } => items.expand()[0].clone().into_static(),
        other => panic!("not a FETCH: {other:?}"),
    }
}

/// Dovecot's answer to one item: the data items of its FETCH responses (as the codec reads
/// them), or the refusal code of its tagged NO.
#[derive(Debug)]
enum Answer {
    Items(Vec<MessageDataItem<'static>>),
    No(String),
}

/// Reads what Dovecot sent for one item: its untagged FETCH responses, then `NO [CODE]`
/// when it refused (the tagged line without its timing text).
fn answer(bytes: &[u8]) -> Answer {
    if let Some(rest) = bytes.strip_prefix(b"NO ") {
        return Answer::No(String::from_utf8_lossy(rest).trim().to_owned());
    }
    let mut framer = Framer::client(FramerConfig::default());
    let mut input = bytes;
    let mut items = Vec::new();
    while let Some(frame) = framer.next_frame(&mut input) {
        let Framed::Message(message) = frame else {
            panic!("a frame error in a stored answer: {frame:?}")
        };
        match Response::parse_with(message, Quirks::LENIENT).expect("Dovecot's response parses") {
            Response::Data(Data::Fetch { items: i, .. }) => {
                items.extend(i.into_iter().map(MessageDataItem::into_static))
            }
            other => panic!("not a FETCH response: {other:?}"),
        }
    }
    Answer::Items(items)
}

/// The items that answer `attribute` (FLAGS and UID, which Dovecot adds, are not the
/// message's).
fn relevant(items: Vec<MessageDataItem<'static>>) -> Vec<MessageDataItem<'static>> {
    items
        .into_iter()
        .filter(|i| !matches!(i, MessageDataItem::Flags(_) | MessageDataItem::Uid(_)))
        .collect()
}

/// BINARY content compares by its octets (a string and a literal8 with the same octets are
/// the same answer); the section of `BODY[section]` compares without regard to case
/// (Dovecot upper-cases the header field names it echoes, we echo them as asked).
fn normalise(item: MessageDataItem<'static>) -> MessageDataItem<'static> {
    match item {
        MessageDataItem::BodySection {
            section: Some(section),
            origin,
            data,
        } => {
            let upper = section.to_bytes().to_ascii_uppercase();
            let section = Section::parse(&upper).expect("reads back").into_static();
            MessageDataItem::BodySection {
                section: Some(Box::new(section)),
                origin,
                data,
            }
        }
        MessageDataItem::Binary {
            section,
            origin,
            data,
        } => MessageDataItem::Binary {
            section,
            origin,
            data: NString8::Literal8(imap_proto::core::Literal8::new(
                data.data().unwrap_or_default().to_vec(),
                imap_proto::core::LiteralMode::Sync,
            )),
        },
        other => other,
    }
}

/// Compares our answer to `item` for `message` with Dovecot's `expected`.
fn check(name: &str, message: &ParsedMessage<'_>, item: &str, expected: &Answer) {
    let ours = message.fetch(&attribute(item));
    match expected {
        Answer::No(code) => {
            assert!(code.starts_with("[UNKNOWN-CTE]"), "{name} {item}: {code}");
            assert!(
                matches!(ours, Err(SectionError::UnknownCte { .. })),
                "{name} {item}: Dovecot answers NO {code}, we {ours:?}"
            );
        }
        Answer::Items(theirs) => {
            let theirs: Vec<_> = relevant(theirs.clone())
                .into_iter()
                .map(normalise)
                .collect();
            let ours = ours
                .unwrap_or_else(|e| panic!("{name} {item}: {e}"))
                .unwrap_or_else(|| panic!("{name} {item}: no item"));
            let ours = normalise(ours.into_static());
            assert_eq!(
                theirs,
                std::slice::from_ref(&ours),
                "{name} {item}:\nDovecot {:?}\nours    {:?}",
                theirs
                    .iter()
                    .map(|i| String::from_utf8_lossy(&i.to_bytes()).into_owned())
                    .collect::<Vec<_>>(),
                String::from_utf8_lossy(&ours.to_bytes())
            );
        }
    }
}

/// The committed answers of `NAME.dovecot`: `=== LEN ITEM\n`, then LEN octets, then `\n`.
fn read_answers(name: &str) -> Vec<(String, Vec<u8>)> {
    let path = corpus().join(format!("{name}.dovecot"));
    let file = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    let mut rest = &file[..];
    while !rest.is_empty() {
        let nl = rest
            .iter()
            .position(|&b| b == b'\n')
            .expect("a header line");
        let header = std::str::from_utf8(&rest[..nl]).expect("UTF-8 header");
        let header = header.strip_prefix("=== ").expect("=== LEN ITEM");
        let (len, item) = header.split_once(' ').expect("LEN ITEM");
        let len: usize = len.parse().expect("a length");
        let body = &rest[nl + 1..nl + 1 + len];
        out.push((item.to_owned(), body.to_vec()));
        rest = &rest[nl + 1 + len..];
        rest = rest
            .strip_prefix(b"\n")
            .expect("a newline after the answer");
    }
    out
}

fn write_answers(name: &str, answers: &[(String, Vec<u8>)]) {
    let mut file = Vec::new();
    for (item, bytes) in answers {
        file.extend_from_slice(format!("=== {} {item}\n", bytes.len()).as_bytes());
        file.extend_from_slice(bytes);
        file.push(b'\n');
    }
    std::fs::write(corpus().join(format!("{name}.dovecot")), file).expect("write the answers");
}

fn load(name: &str) -> Vec<u8> {
    std::fs::read(corpus().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn corpus_matches_the_committed_dovecot_answers() {
    for (name, _) in TABLE {
        let raw = load(name);
        let message = ParsedMessage::parse(&raw);
        let answers = read_answers(name);
        let items = items_of(name);
        assert_eq!(
            answers.iter().map(|(i, _)| i.as_str()).collect::<Vec<_>>(),
            items,
            "{name}: the committed answers are for other items (rerun with UPDATE_DOVECOT_CORPUS=1)"
        );
        for (item, bytes) in &answers {
            check(name, &message, item, &answer(bytes));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Live Dovecot

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

const IMAP: &str = "/usr/lib/dovecot/imap";

fn id(args: &[&str]) -> String {
    let out = Process::new("id").args(args).output().expect("run id");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// One pre-authenticated Dovecot IMAP session on a pipe.
struct Dovecot {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    buffer: Vec<u8>,
    framer: Framer,
    dir: PathBuf,
}

impl Dovecot {
    fn start() -> Option<Dovecot> {
        if !Path::new(IMAP).exists() {
            assert!(
                !ci(),
                "CI=true: {IMAP} is missing (Debian dovecot-imapd; .ci/run installs it)"
            );
            eprintln!("SKIPPED: {IMAP} is missing (this test never skips with CI=true)");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("imap-message-dovecot-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("Maildir")).expect("create the Maildir");
        let d = dir.display();
        std::fs::write(
            dir.join("dovecot.conf"),
            format!(
                "protocols = imap\nssl = no\nlog_path = {d}/log\n\
                 mail_location = maildir:{d}/Maildir\nfirst_valid_uid = 1\n"
            ),
        )
        .expect("write dovecot.conf");
        let mut process = Process::new(IMAP);
        process
            .arg("-c")
            .arg(dir.join("dovecot.conf"))
            .env("HOME", &dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        // Dovecot refuses to give mail access to root: run the session as nobody
        if id(&["-u"]) == "0" {
            use std::os::unix::process::CommandExt;
            let uid: u32 = id(&["-u", "nobody"]).parse().expect("nobody's uid");
            let gid: u32 = id(&["-g", "nobody"]).parse().expect("nobody's gid");
            for entry in [dir.clone(), dir.join("Maildir"), dir.join("dovecot.conf")] {
                std::os::unix::fs::chown(&entry, Some(uid), Some(gid)).expect("chown");
            }
            process.uid(uid).gid(gid).env("USER", "nobody");
        } else {
            process.env("USER", id(&["-un"]));
        }
        let mut child = process.spawn().expect("start dovecot's imap");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let mut dovecot = Dovecot {
            child,
            stdin,
            stdout,
            buffer: Vec::new(),
            framer: Framer::client(FramerConfig {
                max_message: 1 << 20,
                ..FramerConfig::default()
            }),
            dir,
        };
        let greeting = dovecot.response();
        assert!(greeting.starts_with(b"* PREAUTH"), "{greeting:?}");
        dovecot.command(b"s SELECT INBOX\r\n", "s");
        Some(dovecot)
    }

    /// One complete response.
    fn response(&mut self) -> Vec<u8> {
        loop {
            let mut input = &self.buffer[..];
            let before = input.len();
            if let Some(frame) = self.framer.next_frame(&mut input) {
                let Framed::Message(message) = frame else {
                    panic!("dovecot's response breaks a limit: {frame:?}")
                };
                let message = message.to_vec();
                let used = before - input.len();
                self.buffer.drain(..used);
                return message;
            }
            let mut chunk = [0u8; 65536];
            let n = self.stdout.read(&mut chunk).expect("read from dovecot");
            assert!(
                n > 0,
                "dovecot closed; log: {}",
                std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
            );
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends `command` and returns the untagged responses and the tagged one.
    fn command(&mut self, command: &[u8], tag: &str) -> (Vec<u8>, Vec<u8>) {
        self.stdin.write_all(command).expect("write to dovecot");
        self.stdin.flush().expect("flush");
        let mut untagged = Vec::new();
        loop {
            let r = self.response();
            if r.starts_with(format!("{tag} ").as_bytes()) {
                return (untagged, r);
            }
            untagged.extend_from_slice(&r);
        }
    }

    fn append(&mut self, raw: &[u8]) {
        let mut c = format!("p APPEND INBOX {{{}+}}\r\n", raw.len()).into_bytes();
        c.extend_from_slice(raw);
        c.extend_from_slice(b"\r\n");
        let (_, done) = self.command(&c, "p");
        assert!(
            done.starts_with(b"p OK"),
            "{}",
            String::from_utf8_lossy(&done)
        );
    }

    /// Dovecot's answer to `item` for message `seq`, as stored in the corpus files.
    fn fetch(&mut self, seq: usize, item: &str) -> Vec<u8> {
        let (untagged, done) = self.command(format!("f FETCH {seq} ({item})\r\n").as_bytes(), "f");
        if done.starts_with(b"f OK") {
            return untagged;
        }
        // keep the code, not the timing text
        let text = String::from_utf8_lossy(&done);
        let code = text
            .split_once('[')
            .and_then(|(_, c)| c.split_once(']'))
            .map(|(c, _)| c)
            .unwrap_or_default();
        format!("NO [{code}]\r\n").into_bytes()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.stdin.write_all(b"z LOGOUT\r\n");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn live_dovecot_agrees() {
    let Some(mut dovecot) = Dovecot::start() else {
        return;
    };
    let update = std::env::var("UPDATE_DOVECOT_CORPUS").is_ok_and(|v| v == "1");
    for (seq, (name, _)) in TABLE.iter().enumerate() {
        let raw = load(name);
        dovecot.append(&raw);
        let message = ParsedMessage::parse(&raw);
        let mut answers = Vec::new();
        for item in items_of(name) {
            let bytes = dovecot.fetch(seq + 1, item);
            check(name, &message, item, &answer(&bytes));
            answers.push((item.to_owned(), bytes));
        }
        if update {
            write_answers(name, &answers);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Our own rules, and the deliberate differences from Dovecot

fn part(numbers: &[u32]) -> Part {
    let mut text = String::new();
    for (i, n) in numbers.iter().enumerate() {
        if i > 0 {
            text.push('.');
        }
        text.push_str(&n.to_string());
    }
    Part::parse(text.as_bytes()).expect("a part number")
}

fn partial(start: u64, length: u64) -> Option<Partial> {
    Some(Partial {
        start,
        length: NonZeroU64::new(length).expect("a length"),
    })
}

/// Dovecot stores a bare-LF message with CRLF line ends and answers with CRLF sizes; we
/// answer for the octets as stored (RFC822.SIZE is their number, BODY[] returns them), so
/// sizes and line counts are of the LF octets.
#[test]
fn bare_line_feeds_are_counted_as_stored() {
    let raw = load("barelf.eml");
    assert!(!raw.contains(&b'\r'));
    let m = ParsedMessage::parse(&raw);
    assert_eq!(m.size(), raw.len() as u64);
    assert_eq!(
        m.body_structure(true).to_bytes(),
        b"((\"TEXT\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 7 1 NIL NIL NIL NIL)\
          (\"application\" \"octet-stream\" NIL NIL NIL \"base64\" 8 NIL NIL NIL NIL) \
          \"mixed\" (\"boundary\" \"b\") NIL NIL NIL)"
    );
    let text = |s: Section<'_>| m.section(Some(&s), None).unwrap().into_owned();
    assert_eq!(text(Section::Part(part(&[1]))), b"one\ntwo");
    assert_eq!(
        text(Section::Mime(part(&[1]))),
        b"Content-Type: text/plain\n\n"
    );
    assert_eq!(text(Section::Part(part(&[2]))), b"AAECAw==");
    let header = text(Section::Header(None));
    assert!(header.ends_with(b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"));
    assert_eq!(
        text(
            Section::header_fields(
                None,
                [imap_proto::core::AString::from_bytes(&b"subject"[..]).unwrap()]
                    .into_iter()
                    .collect()
            )
            .unwrap()
        ),
        b"Subject: bare LF\n\n"
    );
    assert_eq!(
        header.len() + text(Section::Text(None)).len(),
        raw.len(),
        "HEADER and TEXT together are the message"
    );
    assert_eq!(
        &*m.binary(Some(&part(&[2])), None).unwrap(),
        b"\x00\x01\x02\x03"
    );
    assert_eq!(m.binary_size(Some(&part(&[1]))).unwrap(), 7);
}

#[test]
fn partial_ranges_are_cut_at_the_end() {
    let raw = load("simple.eml");
    let m = ParsedMessage::parse(&raw);
    let len = raw.len() as u64;
    assert_eq!(
        &*m.section(None, partial(len - 3, 100)).unwrap(),
        b"ce\r\n"[1..].as_ref()
    );
    assert_eq!(&*m.section(None, partial(len, 1)).unwrap(), b"");
    assert_eq!(&*m.section(None, partial(u64::MAX, u64::MAX)).unwrap(), b"");
    assert_eq!(&*m.section(None, partial(0, u64::MAX)).unwrap(), &raw[..]);
    assert_eq!(&*m.binary(None, partial(2, 3)).unwrap(), &raw[2..5]);
    // the item says where the range started, and is empty past the end
    let item = m
        .fetch(&attribute("BODY.PEEK[TEXT]<1000.10>"))
        .unwrap()
        .unwrap();
    assert_eq!(item.to_bytes(), b"BODY[TEXT]<1000> \"\"");
}

#[test]
fn unknown_transfer_encoding_is_a_typed_error() {
    let raw = load("encodings.eml");
    let m = ParsedMessage::parse(&raw);
    assert_eq!(
        m.binary(Some(&part(&[2])), None),
        Err(SectionError::UnknownCte {
            encoding: "x-uuencode".to_owned()
        })
    );
    assert!(matches!(
        m.binary_size(Some(&part(&[2]))),
        Err(SectionError::UnknownCte { .. })
    ));
    // BODY[2] is the octets as stored, whatever the encoding
    assert_eq!(
        &*m.section(Some(&Section::Part(part(&[2]))), None).unwrap(),
        b"begin 644 f\r\n`\r\nend"
    );
    // Dovecot refuses BINARY.SIZE of every part once one part has an unknown encoding;
    // the others have their size
    assert_eq!(m.binary_size(Some(&part(&[1]))).unwrap(), 20);
    assert_eq!(m.binary_size(Some(&part(&[3]))).unwrap(), 8);
    assert_eq!(
        &*m.binary(Some(&part(&[1])), None).unwrap(),
        b"K\xf6ln\r\nsoft break end"
    );
    let broken = b"Content-Transfer-Encoding: base64\r\n\r\n%%%%\r\n";
    assert_eq!(
        ParsedMessage::parse(broken).binary(Some(&part(&[1])), None),
        Err(SectionError::Corrupt { encoding: "base64" })
    );
}

/// BINARY of a multipart or an encapsulated message gives its octets as stored (Dovecot
/// decodes the leaves inside and rewrites their Content-Transfer-Encoding headers).
#[test]
fn binary_of_a_multipart_is_its_octets() {
    let raw = load("multipart.eml");
    let m = ParsedMessage::parse(&raw);
    let body = m.section(Some(&Section::Part(part(&[1]))), None).unwrap();
    assert_eq!(m.binary(Some(&part(&[1])), None).unwrap(), body);
    assert!(body.starts_with(b"--inner-b\r\n"));
    assert_eq!(&*m.binary(None, None).unwrap(), &raw[..]);
}

/// Parameter names and values keep their case, as Dovecot keeps it; RFC 2231
/// continuations are joined after the other parameters (the corpus's `rfc2231.eml` has the
/// encoded forms, compared with Dovecot).
#[test]
fn parameters_keep_their_case_and_continuations_are_joined() {
    let raw = b"Content-Type: Application/X-Thing; NAME*0=\"long\"; name*1=\"name.bin\"; Format=Flowed\r\n\
                Content-Disposition: ATTACHMENT; FileName=\"x.txt\"\r\n\r\nx\r\n";
    let m = ParsedMessage::parse(raw);
    assert_eq!(
        m.body_structure(true).to_bytes(),
        b"(\"Application\" \"X-Thing\" (\"Format\" \"Flowed\" \"NAME\" \"longname.bin\") \
          NIL NIL \"7bit\" 3 NIL (\"ATTACHMENT\" (\"FileName\" \"x.txt\")) NIL NIL)"
    );
}

/// Parts nested past MAX_PART_DEPTH are one opaque part; the structure still reads back
/// through the codec's parser, whose nesting limit is 64.
#[test]
fn nesting_past_the_limit_is_one_opaque_part() {
    let levels = MAX_PART_DEPTH + 6;
    let mut raw = Vec::new();
    for i in 0..levels {
        raw.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n").as_bytes(),
        );
    }
    raw.extend_from_slice(b"Content-Type: text/plain\r\n\r\ndeep\r\n");
    for i in (0..levels).rev() {
        raw.extend_from_slice(format!("--b{i}--\r\n").as_bytes());
    }
    let m = ParsedMessage::parse(&raw);
    let structure = m.body_structure(true);
    let wire = structure.to_bytes();
    assert_eq!(BodyStructure::parse(&wire).expect("reads back"), structure);
    let mut depth = 0;
    let mut at = &structure;
    while let BodyStructure::Multi(multi) = at {
        depth += 1;
        at = &multi.bodies()[0];
    }
    assert_eq!(depth, MAX_PART_DEPTH);
    let BodyStructure::Single(leaf) = at else {
        unreachable!()
    };
    let PartKind::Basic(media) = &leaf.kind else {
        panic!("{leaf:?}")
    };
    assert_eq!(media.media_type().data(), b"application");
    assert_eq!(media.subtype().data(), b"octet-stream");
    // the opaque part is addressable; what is inside it is not
    let path: Vec<u32> = vec![1; MAX_PART_DEPTH];
    let opaque = m.section(Some(&Section::Part(part(&path))), None).unwrap();
    assert!(opaque.starts_with(format!("--b{MAX_PART_DEPTH}\r\n").as_bytes()));
    let itself: Vec<u32> = vec![1; MAX_PART_DEPTH + 1];
    assert_eq!(
        m.section(Some(&Section::Part(part(&itself))), None)
            .unwrap(),
        opaque,
        "part 1 of a leaf is the leaf itself"
    );
    let inside: Vec<u32> = vec![1; MAX_PART_DEPTH + 2];
    assert_eq!(
        m.section(Some(&Section::Part(part(&inside))), None)
            .unwrap(),
        Cow::Borrowed(&b""[..])
    );
    assert_eq!(
        m.section(Some(&Section::Part(part(&[1, 2]))), None)
            .unwrap(),
        Cow::Borrowed(&b""[..])
    );
}

/// Arbitrary octets never make a helper fail or panic, and every structure reads back.
#[test]
fn odd_messages() {
    for raw in [
        &b""[..],
        b"\r\n",
        b"no header here",
        b"Subject: x",
        b"Content-Type: multipart/mixed\r\n\r\nno boundary\r\n",
        b"Content-Type: message/rfc822\r\n\r\n",
        b"Content-Type: multipart/mixed; boundary=q\r\n\r\n--q--\r\n",
        b"Subject: nul\x00here\r\n\r\nbody\x00\r\n",
        b"Content-Type: /\r\n\r\n",
    ] {
        let m = ParsedMessage::parse(raw);
        let s = m.body_structure(true);
        assert_eq!(BodyStructure::parse(&s.to_bytes()).unwrap(), s, "{raw:?}");
        let e = m.envelope();
        assert_eq!(
            imap_proto::fetch::Envelope::parse(&e.to_bytes()).unwrap(),
            e
        );
        for item in COMMON {
            m.fetch(&attribute(item)).unwrap();
        }
    }
    // NUL, which no IMAP string may hold, is U+FFFD in ENVELOPE and 0x80 in BODY[] (as
    // Dovecot sends them), and itself in BINARY (a literal8)
    let m = ParsedMessage::parse(b"Subject: nul\x00here\r\n\r\nbody\x00\r\n");
    assert_eq!(
        m.envelope().subject.data(),
        Some("nul\u{FFFD}here".as_bytes())
    );
    assert_eq!(
        m.fetch(&attribute("BODY.PEEK[1]"))
            .unwrap()
            .unwrap()
            .to_bytes(),
        b"BODY[1] {7}\r\nbody\x80\r\n"
    );
    assert_eq!(
        &*m.binary(Some(&part(&[1])), None).unwrap(),
        b"body\x00\r\n"
    );
}

/// Every prefix of every corpus message (a message cut anywhere, inside a header, a
/// boundary or a nested message) keeps the invariants: structures read back, HEADER and
/// TEXT are the message, sizes are the octets.
#[test]
fn truncated_messages_keep_every_invariant() {
    let mut names: Vec<String> = std::fs::read_dir(corpus())
        .expect("the corpus")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".eml"))
        .collect();
    names.sort();
    assert!(names.len() >= 17, "{names:?}");
    for name in names {
        let raw = load(&name);
        for end in (0..=raw.len()).step_by(5) {
            let cut = &raw[..end];
            let m = ParsedMessage::parse(cut);
            assert_eq!(m.size(), end as u64);
            for extensions in [false, true] {
                let s = m.body_structure(extensions);
                assert_eq!(
                    BodyStructure::parse(&s.to_bytes()).unwrap(),
                    s,
                    "{name} cut at {end}"
                );
            }
            let e = m.envelope();
            assert_eq!(
                imap_proto::fetch::Envelope::parse(&e.to_bytes()).unwrap(),
                e
            );
            let header = m.section(Some(&Section::Header(None)), None).unwrap();
            let text = m.section(Some(&Section::Text(None)), None).unwrap();
            assert_eq!(
                [&header[..], &text[..]].concat(),
                cut,
                "{name} cut at {end}"
            );
            for p in [&[1][..], &[2], &[1, 1], &[2, 1], &[2, 2]] {
                let body = m.section(Some(&Section::Part(part(p))), None).unwrap();
                let mime = m.section(Some(&Section::Mime(part(p))), None).unwrap();
                assert!(body.len() + mime.len() <= end, "{name} cut at {end}");
                match (
                    m.binary(Some(&part(p)), None),
                    m.binary_size(Some(&part(p))),
                ) {
                    (Ok(d), Ok(n)) => assert_eq!(d.len() as u64, n),
                    (Err(a), Err(b)) => assert_eq!(a, b),
                    (a, b) => panic!("{name} cut at {end}: {a:?} {b:?}"),
                }
            }
        }
    }
}

/// A message found by the fuzz target `imap_message` that trips a debug assertion inside
/// `mail-parser` 0.11.9 ("Invalid part ID, could not find multipart"; compiled out of
/// release builds): the parse is caught and the message read as one part.
#[test]
fn a_message_that_trips_mail_parser_is_one_part() {
    let raw = load("mail-parser-debug-assertion.bin");
    let m = ParsedMessage::parse(&raw);
    let header = m.section(Some(&Section::Header(None)), None).unwrap();
    let text = m.section(Some(&Section::Text(None)), None).unwrap();
    assert_eq!([&header[..], &text[..]].concat(), raw);
    assert!(
        header.ends_with(b"\r\n\r\n"),
        "the header ends at the first empty line"
    );
    let s = m.body_structure(true);
    assert_eq!(BodyStructure::parse(&s.to_bytes()).unwrap(), s);
    assert_eq!(m.envelope().subject.data(), Some(&b"b64 message"[..]));
}
