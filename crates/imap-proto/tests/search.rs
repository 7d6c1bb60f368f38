//! SEARCH evaluation (`imap_proto::search`) over a corpus of real-shaped messages
//! (`tests/corpus/search/`): every key of RFC 3501 and RFC 9051 with the UIDs it must find, as
//! the `* SEARCH` line a client reads; ESEARCH and SAVE answers; charsets; and properties
//! (NOT is the complement, OR the union, a key list the intersection, nothing panics).
#![cfg(feature = "mime")]

use std::num::{NonZeroU32, NonZeroU64};

use imap_proto::Encode;
use imap_proto::command::{Command, CommandBody, NonEmpty, SearchKey};
use imap_proto::datetime::DateTime;
use imap_proto::flag::Flag;
use imap_proto::message::ParsedMessage;
use imap_proto::search::mime::StoredMessage;
use imap_proto::search::{self, SearchContext, SearchError, SearchMessage, SearchResult};
use proptest::prelude::*;

/// One message of the test mailbox: its file and what the store keeps beside it.
struct Entry {
    file: &'static str,
    uid: u32,
    flags: &'static [&'static str],
    recent: bool,
    internal_date: &'static str,
    size: u64,
    modseq: u64,
}

/// The mailbox, in sequence-number order (seq 1 is UID 3, ..., seq 9 is UID 30).
const MAILBOX: [Entry; 9] = [
    Entry {
        file: "plain.eml",
        uid: 3,
        flags: &["\\Seen", "\\Answered"],
        recent: false,
        internal_date: "07-Dec-2026 09:16:00 +0100",
        size: 1200,
        modseq: 100,
    },
    Entry {
        file: "alternative.eml",
        uid: 5,
        flags: &["\\Flagged", "$Important"],
        recent: true,
        internal_date: "05-Dec-2026 12:00:00 +0000",
        size: 3000,
        modseq: 250,
    },
    Entry {
        file: "nested.eml",
        uid: 6,
        flags: &["\\Seen", "\\Deleted"],
        recent: false,
        internal_date: "01-Dec-2026 08:00:00 -0500",
        size: 5000,
        modseq: 180,
    },
    Entry {
        file: "base64.eml",
        uid: 9,
        flags: &["\\Draft", "\\Seen"],
        recent: true,
        internal_date: "07-Dec-2026 10:00:00 +0100",
        size: 800,
        modseq: 300,
    },
    Entry {
        file: "eightbit.eml",
        uid: 10,
        flags: &["\\Seen", "$Work"],
        recent: false,
        internal_date: "30-Nov-2026 23:59:59 +0000",
        size: 1500,
        modseq: 90,
    },
    Entry {
        file: "nodate.eml",
        uid: 11,
        flags: &[],
        recent: true,
        internal_date: "02-Dec-2026 12:00:00 +0000",
        size: 600,
        modseq: 400,
    },
    Entry {
        file: "garbled-date.eml",
        uid: 20,
        flags: &["\\Seen", "\\Flagged"],
        recent: false,
        internal_date: "03-Dec-2026 12:00:00 +0000",
        size: 9000,
        modseq: 120,
    },
    Entry {
        file: "latin1-body.eml",
        uid: 21,
        flags: &["\\Answered"],
        recent: false,
        internal_date: "04-Dec-2026 12:00:00 +0000",
        size: 700,
        modseq: 110,
    },
    Entry {
        file: "zone.eml",
        // Received at 16:30 Pacific on the 6th: the 7th in UTC, the 6th in its own zone.
        uid: 30,
        flags: &["\\Seen"],
        recent: false,
        internal_date: "06-Dec-2026 16:30:00 -0800",
        size: 2000,
        modseq: 500,
    },
];

fn read_corpus() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/search/");
    MAILBOX
        .iter()
        .map(|e| std::fs::read(format!("{dir}{}", e.file)).expect(e.file))
        .collect()
}

fn flags() -> Vec<Vec<Flag<'static>>> {
    MAILBOX
        .iter()
        .map(|e| {
            e.flags
                .iter()
                .map(|f| Flag::parse(f.as_bytes()).unwrap().into_static())
                .collect()
        })
        .collect()
}

fn stored<'m>(
    parsed: &'m [ParsedMessage<'m>],
    flags: &'m [Vec<Flag<'static>>],
) -> Vec<StoredMessage<'m, 'm>> {
    MAILBOX
        .iter()
        .zip(parsed)
        .zip(flags)
        .map(|((e, p), f)| {
            let date = format!("\"{}\"", e.internal_date);
            let mut m = StoredMessage::new(
                p,
                NonZeroU32::new(e.uid).unwrap(),
                DateTime::parse(date.as_bytes()).unwrap(),
            );
            m.flags = f;
            m.recent = e.recent;
            m.size = e.size;
            m.modseq = NonZeroU64::new(e.modseq);
            m
        })
        .collect()
}

/// The test mailbox, ready to search.
struct Mailbox {
    raw: Vec<Vec<u8>>,
    flags: Vec<Vec<Flag<'static>>>,
}

impl Mailbox {
    fn new() -> Self {
        Mailbox {
            raw: read_corpus(),
            flags: flags(),
        }
    }

    /// Runs one `SEARCH` command (`tag SEARCH ...` with CRLF) and returns its result and
    /// the command's return options.
    fn run(
        &self,
        command: &[u8],
        saved: Option<&[NonZeroU32]>,
    ) -> Result<(SearchResult, Command<'static>), SearchError> {
        let parsed: Vec<ParsedMessage<'_>> =
            self.raw.iter().map(|r| ParsedMessage::parse(r)).collect();
        let messages = stored(&parsed, &self.flags);
        let command = Command::parse(command)
            .unwrap_or_else(|e| panic!("{:?}: {e:?}", String::from_utf8_lossy(command)))
            .into_static();
        let CommandBody::Search {
            charset, criteria, ..
        } = &command.body
        else {
            panic!("not a SEARCH");
        };
        let ctx = SearchContext {
            exists: 9,
            largest_uid: NonZeroU32::new(30),
            saved,
        };
        let list = messages
            .iter()
            .enumerate()
            .map(|(i, m)| (seq(i + 1), m as &dyn SearchMessage));
        let result = search::search(charset.as_ref(), criteria, list, &ctx)?;
        Ok((result, command))
    }

    /// What the server writes for `command`: `* SEARCH ...` or, with RETURN, `* ESEARCH ...`
    /// (nothing when SAVE is the only option).
    fn answer(&self, command: &str, saved: Option<&[NonZeroU32]>) -> String {
        let (result, command) = self.run(command.as_bytes(), saved).unwrap();
        let CommandBody::Search {
            uid,
            return_options,
            ..
        } = &command.body
        else {
            unreachable!()
        };
        let data = match return_options {
            None => Some(result.to_search_data(*uid)),
            Some(options) => result.to_esearch(Some(&command.tag), *uid, options),
        };
        data.map(|d| String::from_utf8(d.to_bytes()).unwrap())
            .unwrap_or_default()
    }
}

fn seq(n: usize) -> NonZeroU32 {
    NonZeroU32::new(u32::try_from(n).unwrap()).unwrap()
}

fn uids(list: &[u32]) -> Vec<NonZeroU32> {
    list.iter().map(|&u| NonZeroU32::new(u).unwrap()).collect()
}

/// Every key, as a client writes it, and the UIDs it finds in the test mailbox.
const TABLE: &[(&str, &str)] = &[
    ("ALL", "3 5 6 9 10 11 20 21 30"),
    ("ANSWERED", "3 21"),
    ("UNANSWERED", "5 6 9 10 11 20 30"),
    ("DELETED", "6"),
    ("UNDELETED", "3 5 9 10 11 20 21 30"),
    ("DRAFT", "9"),
    ("UNDRAFT", "3 5 6 10 11 20 21 30"),
    ("FLAGGED", "5 20"),
    ("UNFLAGGED", "3 6 9 10 11 21 30"),
    ("SEEN", "3 6 9 10 20 30"),
    ("UNSEEN", "5 11 21"),
    ("KEYWORD $Important", "5"),
    // keywords compare case-insensitively
    ("KEYWORD $IMPORTANT", "5"),
    ("KEYWORD $Nothing", ""),
    ("UNKEYWORD $Work", "3 5 6 9 11 20 21 30"),
    ("RECENT", "5 9 11"),
    ("OLD", "3 6 10 20 21 30"),
    // RECENT and UNSEEN
    ("NEW", "5 11"),
    // the internal date's day in its own zone: UID 30 arrived on the 6th at -0800
    ("BEFORE 3-Dec-2026", "6 10 11"),
    ("ON 7-Dec-2026", "3 9"),
    ("ON 6-Dec-2026", "30"),
    ("SINCE 6-Dec-2026", "3 9 30"),
    ("SINCE \"1-Jan-2027\"", ""),
    // the Date: field's day as written; no Date (11) or an unreadable one (20): never
    ("SENTBEFORE 4-Dec-2026", "6 10"),
    ("SENTON 6-Dec-2026", "30"),
    ("SENTON 7-Dec-2026", "3 9"),
    ("SENTSINCE 5-Dec-2026", "3 5 9 30"),
    ("SENTBEFORE 1-Jan-2100", "3 5 6 9 10 21 30"),
    ("NOT SENTON 7-Dec-2026", "5 6 10 11 20 21 30"),
    ("LARGER 2000", "5 6 20"),
    ("LARGER 0", "3 5 6 9 10 11 20 21 30"),
    ("SMALLER 800", "11 21"),
    ("SMALLER 0", ""),
    ("FROM alice", "3"),
    ("FROM example.org", "3 11"),
    // ISO-8859-1 encoded word, matched in any case
    ("FROM \"jörg\"", "5"),
    ("FROM \"JÖRG MÜLLER\"", "5"),
    // 8-bit UTF-8 header (RFC 6532)
    ("FROM \"галина\"", "10"),
    // a nested message's fields are not the message's
    ("FROM dunn", ""),
    ("TO team", "5"),
    ("TO carol", "21"),
    ("CC carol", "3"),
    ("BCC secret-archive", "10"),
    ("BCC bob", ""),
    // UTF-8 base64 encoded word
    ("SUBJECT \"grüße aus köln\"", "5"),
    // ISO-8859-1 quoted-printable encoded word
    ("SUBJECT \"CAFÉ CRÈME\"", "9"),
    ("SUBJECT \"ОТЧЁТ\"", "10"),
    // a folded field is unfolded
    ("SUBJECT \"is folded across\"", "11"),
    ("SUBJECT \"\"", "3 5 6 9 10 11 20 21 30"),
    ("SUBJECT report", "3"),
    ("HEADER X-Ticket 4711", "11"),
    ("HEADER x-ticket \"\"", "11"),
    // an empty field: has it
    ("HEADER X-Empty \"\"", "11"),
    ("HEADER X-Missing \"\"", ""),
    ("HEADER Message-ID q4-2026", "3"),
    ("HEADER X-Inner-Only marker", ""),
    ("HEADER \"\" \"\"", ""),
    ("BODY quarterly", "3"),
    ("BODY \"QUARTERLY NUMBERS\"", "3"),
    // quoted-printable UTF-8 text part of multipart/alternative
    ("BODY \"grüße vom dom\"", "5"),
    // the HTML part is searched as its text
    ("BODY \"<b>dom</b>\"", "5"),
    // the nested message/rfc822: its text and its header fields are body text
    ("BODY kumquat", "6"),
    ("BODY dunn", "6"),
    // base64 UTF-8 part
    ("BODY \"straßenfest\"", "9"),
    ("BODY \"MÜNCHEN\"", "9"),
    // simple case folding keeps ß: no match for SS
    ("BODY STRASSENFEST", ""),
    // ISO-8859-1 quoted-printable part
    ("BODY \"café au lait\"", "21"),
    // 8-bit part
    ("BODY \"МИР\"", "10"),
    ("BODY \"date header\"", "11"),
    // headers are not body
    ("BODY \"Return-Path\"", ""),
    ("BODY \"\"", "3 5 6 9 10 11 20 21 30"),
    ("TEXT \"Return-Path: <alice\"", "3"),
    ("TEXT marker-xyzzy", "6"),
    // field names are header text too
    ("TEXT x-ticket", "11"),
    ("TEXT \" 4711\"", "11"),
    ("TEXT quarterly", "3"),
    ("TEXT bob@example.net", "3 6 9 10 11 20 21 30"),
    ("TEXT invoice.pdf", ""),
    ("UID 5:10", "5 6 9 10"),
    ("UID 20:*", "20 21 30"),
    // `*` is the largest UID, 30: 31:* is 30:31
    ("UID 31:*", "30"),
    ("UID 1,4,7", ""),
    ("UID 3,30", "3 30"),
    ("1:3", "3 5 6"),
    ("8:*", "21 30"),
    ("*", "30"),
    ("2,4", "5 9"),
    ("10:12", ""),
    ("NOT SEEN", "5 11 21"),
    ("NOT NOT SEEN", "3 6 9 10 20 30"),
    ("OR FLAGGED DRAFT", "5 9 20"),
    ("OR (FROM alice) (BODY kumquat)", "3 6"),
    ("(SEEN FLAGGED)", "20"),
    ("(SEEN (FROM alice))", "3"),
    ("SEEN SINCE 6-Dec-2026", "3 9 30"),
    ("UNSEEN UNANSWERED RECENT", "5 11"),
    // a per-message mod-sequence (entry names are not kept apart)
    ("MODSEQ 300", "9 11 30"),
    ("MODSEQ \"/flags/\\\\seen\" all 200", "5 9 11 30"),
    ("MODSEQ 501", ""),
];

#[test]
fn every_key_finds_its_messages() {
    let mailbox = Mailbox::new();
    let mut failures = Vec::new();
    for (key, expected) in TABLE {
        let got = mailbox.answer(&format!("t UID SEARCH {key}\r\n"), None);
        let got = got.split(" (MODSEQ").next().unwrap_or_default();
        let want = if expected.is_empty() {
            "* SEARCH\r\n".to_owned()
        } else {
            format!("* SEARCH {expected}\r\n")
        };
        if got.trim_end() != want.trim_end() {
            failures.push(format!("{key}: got {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_key_of_the_codec_is_in_the_table() {
    let names = [
        "ALL",
        "ANSWERED",
        "BCC",
        "BEFORE",
        "BODY",
        "CC",
        "DELETED",
        "DRAFT",
        "FLAGGED",
        "FROM",
        "HEADER",
        "KEYWORD",
        "LARGER",
        "NEW",
        "NOT",
        "OLD",
        "ON",
        "OR",
        "RECENT",
        "SEEN",
        "SENTBEFORE",
        "SENTON",
        "SENTSINCE",
        "SINCE",
        "SMALLER",
        "SUBJECT",
        "TEXT",
        "TO",
        "UID",
        "UNANSWERED",
        "UNDELETED",
        "UNDRAFT",
        "UNFLAGGED",
        "UNKEYWORD",
        "UNSEEN",
        "MODSEQ",
    ];
    for name in names {
        assert!(
            TABLE
                .iter()
                .any(|(k, _)| k.split([' ', '(']).any(|w| w == name)),
            "{name} has no row"
        );
    }
    assert!(TABLE.iter().any(|(k, _)| k.starts_with('(')));
    assert!(
        TABLE
            .iter()
            .any(|(k, _)| k.starts_with(|c: char| c.is_ascii_digit()))
    );
}

#[test]
fn sequence_numbers_in_search() {
    let mailbox = Mailbox::new();
    assert_eq!(
        mailbox.answer("t SEARCH SEEN\r\n", None),
        "* SEARCH 1 3 4 5 7 9\r\n"
    );
    assert_eq!(
        mailbox.answer("t SEARCH 2:3 UID 6:30\r\n", None),
        "* SEARCH 3\r\n"
    );
    assert_eq!(
        mailbox.answer("t SEARCH DELETED FLAGGED\r\n", None),
        "* SEARCH\r\n"
    );
}

#[test]
fn modseq_in_search_responses() {
    let mailbox = Mailbox::new();
    // RFC 7162 section 3.1.5: the highest mod-sequence of the matches
    assert_eq!(
        mailbox.answer("t UID SEARCH MODSEQ 200 UNSEEN\r\n", None),
        "* SEARCH 5 11 (MODSEQ 400)\r\n"
    );
    assert_eq!(
        mailbox.answer("t SEARCH MODSEQ 501\r\n", None),
        "* SEARCH\r\n"
    );
    // no MODSEQ key: no MODSEQ in the answer
    assert_eq!(
        mailbox.answer("t UID SEARCH UNSEEN\r\n", None),
        "* SEARCH 5 11 21\r\n"
    );
    assert_eq!(
        mailbox.answer("t UID SEARCH RETURN (ALL) MODSEQ 200\r\n", None),
        "* ESEARCH (TAG \"t\") UID ALL 5,9,11,30 MODSEQ 500\r\n"
    );
    // MIN only: the mod-sequence of the message returned
    assert_eq!(
        mailbox.answer("t UID SEARCH RETURN (MIN) MODSEQ 200\r\n", None),
        "* ESEARCH (TAG \"t\") UID MIN 5 MODSEQ 250\r\n"
    );
    assert_eq!(
        mailbox.answer("t UID SEARCH RETURN (COUNT) MODSEQ 200\r\n", None),
        "* ESEARCH (TAG \"t\") UID COUNT 4 MODSEQ 500\r\n"
    );
    assert_eq!(
        mailbox.answer("t UID SEARCH RETURN (COUNT) MODSEQ 900\r\n", None),
        "* ESEARCH (TAG \"t\") UID COUNT 0\r\n"
    );
}

#[test]
fn esearch_answers() {
    let mailbox = Mailbox::new();
    let cases = [
        (
            "a1 UID SEARCH RETURN (MIN MAX COUNT ALL) SEEN\r\n",
            "* ESEARCH (TAG \"a1\") UID MIN 3 MAX 30 ALL 3,6,9:10,20,30 COUNT 6\r\n",
        ),
        // RETURN () is RETURN (ALL), the set compact
        (
            "a2 SEARCH RETURN () SEEN\r\n",
            "* ESEARCH (TAG \"a2\") ALL 1,3:5,7,9\r\n",
        ),
        (
            "a3 SEARCH RETURN (COUNT) DELETED FLAGGED\r\n",
            "* ESEARCH (TAG \"a3\") COUNT 0\r\n",
        ),
        // nothing matched: MIN, MAX and ALL are left out
        (
            "a4 SEARCH RETURN (MIN MAX ALL) DELETED FLAGGED\r\n",
            "* ESEARCH (TAG \"a4\")\r\n",
        ),
        (
            "a5 SEARCH RETURN (MAX) 1:4\r\n",
            "* ESEARCH (TAG \"a5\") MAX 4\r\n",
        ),
        (
            "a6 SEARCH RETURN (ALL) ALL\r\n",
            "* ESEARCH (TAG \"a6\") ALL 1:9\r\n",
        ),
        // SAVE alone: no ESEARCH (RFC 5182 section 2.1)
        ("a7 UID SEARCH RETURN (SAVE) FLAGGED\r\n", ""),
        (
            "a8 UID SEARCH RETURN (SAVE MIN) FLAGGED\r\n",
            "* ESEARCH (TAG \"a8\") UID MIN 5\r\n",
        ),
    ];
    for (command, want) in cases {
        assert_eq!(mailbox.answer(command, None), want, "{command}");
    }
}

fn saved_by(mailbox: &Mailbox, command: &str) -> Option<Vec<NonZeroU32>> {
    let (result, command) = mailbox.run(command.as_bytes(), None).unwrap();
    let CommandBody::Search { return_options, .. } = &command.body else {
        unreachable!()
    };
    result.saved(return_options.as_deref().unwrap_or_default())
}

#[test]
fn save_keeps_what_rfc_5182_says() {
    let mailbox = Mailbox::new();
    let saved = |c: &str| saved_by(&mailbox, c);
    assert_eq!(
        saved("t SEARCH RETURN (SAVE) SEEN\r\n"),
        Some(uids(&[3, 6, 9, 10, 20, 30]))
    );
    // MIN and/or MAX without ALL or COUNT: only those
    assert_eq!(
        saved("t SEARCH RETURN (SAVE MIN) SEEN\r\n"),
        Some(uids(&[3]))
    );
    assert_eq!(
        saved("t SEARCH RETURN (MAX SAVE) SEEN\r\n"),
        Some(uids(&[30]))
    );
    assert_eq!(
        saved("t SEARCH RETURN (SAVE MIN MAX) SEEN\r\n"),
        Some(uids(&[3, 30]))
    );
    // with COUNT or ALL: every match
    assert_eq!(
        saved("t SEARCH RETURN (SAVE MIN COUNT) SEEN\r\n"),
        Some(uids(&[3, 6, 9, 10, 20, 30]))
    );
    assert_eq!(
        saved("t SEARCH RETURN (SAVE ALL) FLAGGED\r\n"),
        Some(uids(&[5, 20]))
    );
    // nothing matched: the empty set is saved
    assert_eq!(
        saved("t SEARCH RETURN (SAVE) DELETED FLAGGED\r\n"),
        Some(vec![])
    );
    assert_eq!(saved("t SEARCH RETURN (MIN) SEEN\r\n"), None);
    assert_eq!(saved("t SEARCH SEEN\r\n"), None);
}

#[test]
fn dollar_is_the_saved_result() {
    let mailbox = Mailbox::new();
    let saved = saved_by(&mailbox, "t UID SEARCH RETURN (SAVE) FLAGGED\r\n").unwrap();
    assert_eq!(
        mailbox.answer("t UID SEARCH $\r\n", Some(&saved)),
        "* SEARCH 5 20\r\n"
    );
    assert_eq!(
        mailbox.answer("t SEARCH UID $\r\n", Some(&saved)),
        "* SEARCH 2 7\r\n"
    );
    assert_eq!(
        mailbox.answer("t UID SEARCH NOT $ SEEN\r\n", Some(&saved)),
        "* SEARCH 3 6 9 10 30\r\n"
    );
    // an unsorted saved list is still read right
    let unsorted = uids(&[20, 5]);
    assert_eq!(
        mailbox.answer("t UID SEARCH $\r\n", Some(&unsorted)),
        "* SEARCH 5 20\r\n"
    );
    // nothing saved: `$` is the empty set (RFC 5182 section 2.1)
    assert_eq!(mailbox.answer("t UID SEARCH $\r\n", None), "* SEARCH\r\n");
}

#[test]
fn charsets() {
    let mailbox = Mailbox::new();
    for charset in ["UTF-8", "utf-8", "US-ASCII", "us-ascii", "\"UTF-8\""] {
        assert_eq!(
            mailbox.answer(
                &format!("t UID SEARCH CHARSET {charset} SUBJECT report\r\n"),
                None
            ),
            "* SEARCH 3\r\n",
            "{charset}"
        );
    }
    assert_eq!(
        mailbox.answer("t UID SEARCH CHARSET UTF-8 BODY {6}\r\nMÜNCH\r\n", None),
        "* SEARCH 9\r\n"
    );
    let err = mailbox
        .run(b"t SEARCH CHARSET ISO-8859-1 SUBJECT report\r\n", None)
        .unwrap_err();
    assert_eq!(
        err,
        SearchError::BadCharset {
            charset: "ISO-8859-1".into()
        }
    );
    // what the server writes: NO [BADCHARSET (UTF-8 US-ASCII)]
    assert_eq!(
        err.code().unwrap().to_bytes(),
        b"BADCHARSET (UTF-8 US-ASCII)"
    );
    assert!(SearchError::NotAscii.code().is_none());
    // an 8-bit octet under US-ASCII
    assert_eq!(
        mailbox
            .run(
                b"t SEARCH CHARSET US-ASCII SUBJECT {4}\r\ncaf\xe9\r\n",
                None
            )
            .unwrap_err(),
        SearchError::NotAscii
    );
    assert_eq!(
        mailbox
            .run(
                "t SEARCH CHARSET US-ASCII HEADER \"X-Tück\" 1\r\n".as_bytes(),
                None
            )
            .map(|_| ()),
        Err(SearchError::NotAscii)
    );
    // octets that are not UTF-8 under UTF-8 (and without a charset)
    for command in [
        &b"t SEARCH CHARSET UTF-8 BODY {4}\r\ncaf\xe9\r\n"[..],
        &b"t SEARCH TEXT {2}\r\n\xff\xfe\r\n"[..],
    ] {
        assert_eq!(
            mailbox.run(command, None).unwrap_err(),
            SearchError::NotUtf8
        );
    }
}

#[test]
fn keys_nested_beyond_the_bound_are_refused() {
    let mailbox = Mailbox::new();
    let parsed: Vec<ParsedMessage<'_>> = mailbox
        .raw
        .iter()
        .map(|r| ParsedMessage::parse(r))
        .collect();
    let messages = stored(&parsed, &mailbox.flags);
    let ctx = SearchContext::default();
    // the deepest key the codec's parser accepts is evaluated
    let nots = "NOT ".repeat(usize::try_from(imap_proto::error::MAX_DEPTH).unwrap());
    let deepest = format!("t SEARCH {nots}ALL\r\n");
    let command = Command::parse(deepest.as_bytes()).unwrap();
    let CommandBody::Search { criteria, .. } = &command.body else {
        unreachable!()
    };
    let key = criteria.first().unwrap().clone();
    assert!(Command::parse(format!("t SEARCH NOT {nots}ALL\r\n").as_bytes()).is_err());
    assert_eq!(
        search::matches(std::slice::from_ref(&key), seq(1), &messages[0], &ctx),
        Ok(true)
    );
    // one level more, built in code: refused
    let deeper = !key;
    assert_eq!(
        search::matches(&[deeper], seq(1), &messages[0], &ctx),
        Err(SearchError::TooDeep)
    );
}

/// A message/rfc822 part sent base64-encoded: mail-parser decodes and parses it on its own,
/// so its fields' offsets count from its own octets (those of `nested.eml` count from the
/// outer message's); both are read.
#[test]
fn a_base64_encoded_nested_message_is_searched() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/search/");
    let raw = std::fs::read(format!("{dir}forward-base64.eml")).unwrap();
    let parsed = ParsedMessage::parse(&raw);
    let date = DateTime::parse(b"\"24-Nov-2026 09:00:01 +0000\"").unwrap();
    let message = StoredMessage::new(&parsed, NonZeroU32::new(40).unwrap(), date);
    let ctx = SearchContext::default();
    let found = |key: &str| {
        let command = Command::parse(format!("t SEARCH {key}\r\n").as_bytes())
            .unwrap()
            .into_static();
        let CommandBody::Search { criteria, .. } = &command.body else {
            unreachable!()
        };
        search::matches(criteria, seq(1), &message, &ctx).unwrap()
    };
    // the nested message's text, quoted-printable inside base64
    assert!(found("BODY \"RÉSUMÉ is attached\""));
    assert!(found("BODY frobnitz"));
    // its header fields are body text of the outer message, decoded
    assert!(found("BODY \"X-Deep-Marker: plover\""));
    assert!(found("TEXT \"subject: résumé\""));
    assert!(found("TEXT kim@example.org"));
    // but not fields of the outer message
    assert!(!found("HEADER X-Deep-Marker plover"));
    assert!(!found("FROM kim"));
    assert!(found("FROM judy"));
    assert!(found("SENTON 24-Nov-2026"));
    assert!(!found("SENTON 19-Nov-2026"));
    // the base64 octets themselves are not text
    assert!(!found("BODY RGF0ZTog"));
}

/// A result built by hand, out of order: MIN, MAX, ALL and SAVE still name the right
/// messages, and MODSEQ comes from the MIN/MAX message.
#[test]
fn results_built_out_of_order() {
    use imap_proto::command::SearchReturnOption as O;
    use imap_proto::search::SearchHit;
    let hit = |seq: u32, uid: u32, modseq: u64| SearchHit {
        seq: NonZeroU32::new(seq).unwrap(),
        uid: NonZeroU32::new(uid).unwrap(),
        modseq: NonZeroU64::new(modseq),
    };
    let result = SearchResult::new(vec![hit(4, 40, 7), hit(2, 20, 9), hit(3, 30, 5)], true);
    let answer = |uid: bool, options: &[O]| {
        let data = result.to_esearch(None, uid, options).unwrap();
        String::from_utf8(data.to_bytes()).unwrap()
    };
    assert_eq!(answer(true, &[O::Min]), "* ESEARCH UID MIN 20 MODSEQ 9\r\n");
    assert_eq!(answer(false, &[O::Max]), "* ESEARCH MAX 4 MODSEQ 7\r\n");
    assert_eq!(answer(false, &[O::All]), "* ESEARCH ALL 2:4 MODSEQ 9\r\n");
    assert_eq!(result.saved(&[O::Save, O::Max]), Some(uids(&[40])));
    assert_eq!(result.saved(&[O::Save, O::Min]), Some(uids(&[20])));
    assert_eq!(result.saved(&[O::Save]), Some(uids(&[20, 30, 40])));
    assert_eq!(
        String::from_utf8(result.to_search_data(true).to_bytes()).unwrap(),
        "* SEARCH 40 20 30 (MODSEQ 9)\r\n"
    );
    assert_eq!(result.len(), 3);
    assert!(result.used_modseq() && !result.is_empty());
}

// ---- properties ----

/// Leaf keys the properties combine.
const LEAVES: &[&str] = &[
    "SEEN",
    "FLAGGED",
    "DELETED",
    "RECENT",
    "NEW",
    "KEYWORD $Work",
    "SINCE 4-Dec-2026",
    "SENTBEFORE 5-Dec-2026",
    "LARGER 1000",
    "FROM example",
    "SUBJECT re",
    "BODY the",
    "TEXT bob",
    "HEADER X-Ticket \"\"",
    "UID 5:20",
    "2:5,8",
    "MODSEQ 150",
    "$",
];

fn leaf(i: usize) -> SearchKey<'static> {
    let text = LEAVES[i % LEAVES.len()];
    let command = format!("t SEARCH {text}\r\n");
    let command = Command::parse(command.as_bytes()).unwrap().into_static();
    match command.body {
        CommandBody::Search { criteria, .. } => criteria.into_list().into_iter().next().unwrap(),
        _ => unreachable!(),
    }
}

fn key_strategy() -> impl Strategy<Value = SearchKey<'static>> {
    let leaf = (0..LEAVES.len()).prop_map(leaf);
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|k| !k),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| SearchKey::or(a, b)),
            prop::collection::vec(inner, 1..4)
                .prop_map(|ks| SearchKey::and(NonEmpty::try_from(ks).unwrap())),
        ]
    })
}

fn uids_of(mailbox: &Mailbox, keys: &[SearchKey<'_>]) -> Vec<u32> {
    let parsed: Vec<ParsedMessage<'_>> = mailbox
        .raw
        .iter()
        .map(|r| ParsedMessage::parse(r))
        .collect();
    let messages = stored(&parsed, &mailbox.flags);
    let saved = uids(&[5, 10, 30]);
    let ctx = SearchContext {
        exists: 9,
        largest_uid: NonZeroU32::new(30),
        saved: Some(&saved),
    };
    let list = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (seq(i + 1), m as &dyn SearchMessage));
    search::search(None, keys, list, &ctx)
        .unwrap()
        .hits()
        .iter()
        .map(|h| h.uid.get())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn not_is_the_complement(k in key_strategy()) {
        let mailbox = Mailbox::new();
        let all = uids_of(&mailbox, &[SearchKey::All]);
        let yes = uids_of(&mailbox, std::slice::from_ref(&k));
        let no = uids_of(&mailbox, &[!k]);
        let mut union: Vec<u32> = yes.iter().chain(&no).copied().collect();
        union.sort_unstable();
        prop_assert_eq!(union, all);
        prop_assert!(yes.iter().all(|u| !no.contains(u)));
    }

    #[test]
    fn or_is_the_union(a in key_strategy(), b in key_strategy()) {
        let mailbox = Mailbox::new();
        let ua = uids_of(&mailbox, std::slice::from_ref(&a));
        let ub = uids_of(&mailbox, std::slice::from_ref(&b));
        let mut union: Vec<u32> = ua.iter().chain(&ub).copied().collect();
        union.sort_unstable();
        union.dedup();
        prop_assert_eq!(uids_of(&mailbox, &[SearchKey::or(a, b)]), union);
    }

    #[test]
    fn a_key_list_is_the_intersection(keys in prop::collection::vec(key_strategy(), 1..5)) {
        let mailbox = Mailbox::new();
        let mut expected = uids_of(&mailbox, &[SearchKey::All]);
        for k in &keys {
            let one = uids_of(&mailbox, std::slice::from_ref(k));
            expected.retain(|u| one.contains(u));
        }
        prop_assert_eq!(uids_of(&mailbox, &keys), expected.clone());
        let and = SearchKey::and(NonEmpty::try_from(keys).unwrap());
        prop_assert_eq!(uids_of(&mailbox, &[and]), expected);
    }

    /// Any command the codec accepts evaluates without a panic, over any message octets.
    #[test]
    fn evaluating_never_panics(
        tail in prop::collection::vec(any::<u8>(), 0..60),
        words in prop::collection::vec(prop::sample::select(vec![
            "NOT ", "OR ", "(", ")", "SEEN ", "BODY ", "TEXT ", "HEADER ", "SUBJECT ",
            "SENTON 1-Jan-2000 ", "UID ", "$ ", "*:3 ", "MODSEQ 5 ", "x ", "\"\" ",
            "CHARSET UTF-8 ", "CHARSET US-ASCII ", "CHARSET KOI8-R ", "{1}\r\n\u{e9} ",
        ]), 1..8),
        raw in prop::collection::vec(any::<u8>(), 0..400),
        header in prop::sample::select(vec![
            "", "Date: 31 Feb 2026 25:61:00 +9999\r\n", "Subject: =?x?q?=FF?=\r\n",
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n",
        ]),
    ) {
        let mut command = b"t SEARCH ".to_vec();
        command.extend(words.concat().bytes());
        command.extend(&tail);
        command.extend(b"\r\n");
        let mut octets = header.as_bytes().to_vec();
        octets.extend(&raw);
        let parsed = ParsedMessage::parse(&octets);
        let date = DateTime::parse(b"\"01-Jan-2000 00:00:00 +0000\"").unwrap();
        let message = StoredMessage::new(&parsed, NonZeroU32::MIN, date);
        if let Ok(command) = Command::parse(&command) {
            if let CommandBody::Search { charset, criteria, .. } = &command.body {
                let ctx = SearchContext { exists: 1, largest_uid: Some(NonZeroU32::MIN), saved: None };
                let list = [(NonZeroU32::MIN, &message as &dyn SearchMessage)];
                let _ = search::search(charset.as_ref(), criteria, list, &ctx);
            }
        }
        for key in ["t SEARCH TEXT a\r\n", "t SEARCH BODY \"\"\r\n", "t SEARCH SENTON 1-Jan-2000\r\n", "t SEARCH FROM x HEADER Subject y\r\n"] {
            let command = Command::parse(key.as_bytes()).unwrap();
            let CommandBody::Search { criteria, .. } = &command.body else { unreachable!() };
            let ctx = SearchContext::default();
            let _ = search::matches(criteria, NonZeroU32::MIN, &message, &ctx);
        }
    }
}
