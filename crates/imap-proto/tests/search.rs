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

#[path = "search_dovecot/mailbox.rs"]
mod mailbox;
use mailbox::{MAILBOX, TABLE};

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
