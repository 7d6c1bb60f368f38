//! SEARCH over 10,000 messages (imap-proto's `search` module, feature `mime`): an in-memory
//! mailbox of 10,000 raw messages of three shapes (plain text; multipart/alternative with
//! quoted-printable UTF-8 parts and an encoded-word subject; base64 UTF-8 text), each parsed
//! once by `ParsedMessage::parse` as a store would keep it, with flags, dates, sizes and
//! mod-sequences beside it in `search::mime::StoredMessage`. Each benchmark runs one parsed
//! SEARCH command over the whole mailbox and encodes the answer (`* SEARCH` or `* ESEARCH`):
//! flags only, a header (FROM, SUBJECT), the body text (BODY, TEXT), UID ranges, and a mix a
//! mail client sends.
//!
//! Run with `cargo bench -p sansmail-benches --bench imap_search`.

use std::hint::black_box;
use std::num::{NonZeroU32, NonZeroU64};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imap_proto::Encode;
use imap_proto::command::{Command, CommandBody};
use imap_proto::datetime::{Date, DateTime};
use imap_proto::flag::Flag;
use imap_proto::message::ParsedMessage;
use imap_proto::search::mime::StoredMessage;
use imap_proto::search::{self, SearchContext, SearchMessage};

/// Messages in the mailbox.
const MESSAGES: u32 = 10_000;

const FROMS: [&str; 8] = [
    "Alice Archer <alice@example.org>",
    "Bob Baker <bob@example.net>",
    "=?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.de>",
    "Carol Clark <carol@example.com>",
    "Dave Dunn <dave@example.org>",
    "\"Erin Evans\" <erin@example.com>",
    "Frank Fischer <frank@example.de>",
    "Grace Green <grace@lists.example.org>",
];

const WORDS: [&str; 16] = [
    "report", "meeting", "invoice", "lunch", "release", "budget", "review", "travel", "numbers",
    "schedule", "draft", "contract", "holiday", "update", "question", "notes",
];

/// A small deterministic generator (a linear congruential one), so that every run searches
/// the same mailbox.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.next() % list.len()]
    }
}

/// A paragraph of about `words` words, with "kumquat" in one message of 50.
fn paragraph(rng: &mut Lcg, words: usize, kumquat: bool) -> String {
    let mut text = String::new();
    for i in 0..words {
        if i > 0 {
            text.push_str(if i % 12 == 0 { "\r\n" } else { " " });
        }
        text.push_str(rng.pick(&WORDS));
    }
    if kumquat {
        text.push_str(" and the kumquat harvest");
    }
    text.push_str(".\r\n");
    text
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (i, chunk) in data.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push_str("\r\n");
        }
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for j in 0..4 {
            if j <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * j)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out.push_str("\r\n");
    out
}

/// Message `n` of the mailbox.
fn message(rng: &mut Lcg, n: u32) -> Vec<u8> {
    let from = rng.pick(&FROMS);
    let subject_word = rng.pick(&WORDS);
    let day = 1 + n % 28;
    let kumquat = n % 50 == 7;
    let head = format!(
        "Date: Mon, {day:02} Nov 2026 10:{:02}:00 +0100\r\nFrom: {from}\r\n\
         To: Bob Baker <bob@example.net>\r\nMessage-ID: <{n}@example.org>\r\nMIME-Version: 1.0\r\n",
        n % 60
    );
    let words = 60 + rng.next() % 200;
    let body = paragraph(rng, words, kumquat);
    let text = match n % 3 {
        0 => format!(
            "{head}Subject: {subject_word} for week {n}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{body}"
        ),
        1 => {
            let qp = body.replace('=', "=3D");
            format!(
                "{head}Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_{subject_word}?=\r\n\
                 Content-Type: multipart/alternative; boundary=\"b{n}\"\r\n\r\n\
                 --b{n}\r\nContent-Type: text/plain; charset=utf-8\r\n\
                 Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe, {qp}\r\n\
                 --b{n}\r\nContent-Type: text/html; charset=utf-8\r\n\
                 Content-Transfer-Encoding: quoted-printable\r\n\r\n<html><body><p>{qp}</p></body></html>\r\n\
                 --b{n}--\r\n"
            )
        }
        _ => format!(
            "{head}Subject: Re: {subject_word}\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}",
            base64(format!("Straßenfest: {body}").as_bytes())
        ),
    };
    text.into_bytes()
}

/// The keys each benchmark runs, as a client sends them.
const SEARCHES: [(&str, &[u8]); 8] = [
    ("flags", b"s UID SEARCH UNSEEN FLAGGED\r\n"),
    ("from", b"s UID SEARCH FROM alice\r\n"),
    (
        "subject_encoded",
        "s UID SEARCH SUBJECT \"grüße review\"\r\n".as_bytes(),
    ),
    ("body", b"s UID SEARCH BODY kumquat\r\n"),
    ("text", b"s UID SEARCH TEXT kumquat\r\n"),
    (
        "uid_ranges",
        b"s UID SEARCH UID 1000:2000,5000:5100,9000:*\r\n",
    ),
    (
        "client_mix",
        b"s UID SEARCH UNDELETED SINCE 10-Nov-2026 OR FROM alice SUBJECT report\r\n",
    ),
    (
        "esearch_flags",
        b"s UID SEARCH RETURN (MIN MAX COUNT ALL) SEEN NOT DELETED\r\n",
    ),
];

fn bench(c: &mut Criterion) {
    let mut rng = Lcg(17);
    let raws: Vec<Vec<u8>> = (1..=MESSAGES).map(|n| message(&mut rng, n)).collect();
    let parsed: Vec<ParsedMessage<'_>> = raws.iter().map(|r| ParsedMessage::parse(r)).collect();
    let flag_sets: [Vec<Flag<'static>>; 4] = [
        vec![Flag::Seen],
        vec![],
        vec![Flag::Seen, Flag::Flagged],
        vec![Flag::Flagged, Flag::Deleted],
    ];
    let mailbox: Vec<StoredMessage<'_, '_>> = parsed
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let n = u32::try_from(i).unwrap() + 1;
            let date = Date::new(2026, 11, u8::try_from(1 + n % 28).unwrap()).unwrap();
            let mut m = StoredMessage::new(
                p,
                NonZeroU32::new(n).unwrap(),
                DateTime::new(date, 10, 0, 0, 60).unwrap(),
            );
            m.flags = &flag_sets[rng.next() % flag_sets.len()];
            m.modseq = NonZeroU64::new(u64::from(n));
            m
        })
        .collect();
    let octets: usize = raws.iter().map(Vec::len).sum();
    println!(
        "imap_search: {MESSAGES} messages, {octets} octets ({} per message on average)",
        octets / raws.len()
    );
    let ctx = SearchContext {
        exists: MESSAGES,
        largest_uid: NonZeroU32::new(MESSAGES),
        saved: None,
    };
    let mut group = c.benchmark_group("imap_search");
    group.throughput(Throughput::Elements(u64::from(MESSAGES)));
    group.sample_size(20);
    for (name, text) in SEARCHES {
        let command = Command::parse(text).unwrap();
        let CommandBody::Search {
            uid,
            return_options,
            charset,
            criteria,
        } = &command.body
        else {
            unreachable!()
        };
        let run = || {
            let messages = mailbox.iter().enumerate().map(|(i, m)| {
                (
                    NonZeroU32::new(i as u32 + 1).unwrap(),
                    m as &dyn SearchMessage,
                )
            });
            let result = search::search(charset.as_ref(), criteria, messages, &ctx).unwrap();
            let data = match return_options {
                None => Some(result.to_search_data(*uid)),
                Some(options) => result.to_esearch(Some(&command.tag), *uid, options),
            };
            (result.len(), data.map(|d| d.to_bytes().len()))
        };
        let (hits, answer) = run();
        println!("imap_search/{name}: {hits} matches, answer {answer:?} octets");
        group.bench_function(name, |b| b.iter(|| black_box(run())));
    }
    group.finish();
}

/// `criterion_group!` defines an undocumented public function; keep it out of the lint.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, bench);
}
criterion_main!(group::benches);
