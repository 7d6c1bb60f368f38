//! The sizes of the values a parse returns. Every `Result` layer of a parse that is not
//! inlined copies the whole value, so a large `Command` or `Response` costs time on every
//! message (docs/performance.md, "IMAP codec"). These bounds keep the sizes from creeping back.

use imap_proto::command::{Command, CommandBody, FetchAttribute, FetchItems, SearchKey};
use imap_proto::core::{AString, IString, NString};
use imap_proto::fetch::{MessageDataItem, Section};
use imap_proto::flag::{Flag, FlagFetch};
use imap_proto::response::{Code, Data, Response, StatusResponse};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::mem::size_of;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The fewest allocations seen while running `f` 50 times (the counter is process-wide and
/// other tests run at the same time; a parse allocates the same on every run).
fn allocations_in(mut f: impl FnMut()) -> usize {
    (0..50)
        .map(|_| {
            let region = Region::new(GLOBAL);
            f();
            region.change().allocations
        })
        .min()
        .unwrap_or(0)
}

fn sizes() -> Vec<(&'static str, usize)> {
    vec![
        ("Command", size_of::<Command<'static>>()),
        ("CommandBody", size_of::<CommandBody<'static>>()),
        ("FetchItems", size_of::<FetchItems<'static>>()),
        ("FetchAttribute", size_of::<FetchAttribute<'static>>()),
        ("SearchKey", size_of::<SearchKey<'static>>()),
        ("Section", size_of::<Section<'static>>()),
        ("Response", size_of::<Response<'static>>()),
        ("Data", size_of::<Data<'static>>()),
        ("StatusResponse", size_of::<StatusResponse<'static>>()),
        ("Code", size_of::<Code<'static>>()),
        ("MessageDataItem", size_of::<MessageDataItem<'static>>()),
        ("AString", size_of::<AString<'static>>()),
        ("IString", size_of::<IString<'static>>()),
        ("NString", size_of::<NString<'static>>()),
        ("Flag", size_of::<Flag<'static>>()),
        ("FlagFetch", size_of::<FlagFetch<'static>>()),
    ]
}

fn check(name: &str, bound: usize) {
    let all = sizes();
    let size = all
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .expect("a measured type");
    assert!(
        size <= bound,
        "size_of::<{name}>() is {size} octets, bound {bound}; all sizes: {all:?}"
    );
}

// The bounds are the sizes reached (docs/performance.md, "IMAP codec"); the aims are
// `Command` and `Response` <= 192 octets and `MessageDataItem`/`FetchAttribute` <= 64. Left on
// the command side: the SEARCH criteria keep four 64-octet `SearchKey`s inline (a flat SEARCH
// of up to four keys costs no heap), which makes `Command` 360; a `FetchAttribute` holds an
// optional `Part` (32 octets) beside the section's names.

#[test]
fn command_is_small() {
    check("Command", 360);
}

#[test]
fn response_is_small() {
    check("Response", 192);
}

#[test]
fn status_response_is_small() {
    check("StatusResponse", 144);
}

#[test]
fn message_data_item_is_small() {
    // Two 32-octet flags inline, and the enum's tag.
    check("MessageDataItem", 80);
}

#[test]
fn section_is_small() {
    // The HEADER.FIELDS names are kept in their wire form (`HeaderNames`), not as a list.
    check("Section", 64);
}

#[test]
fn fetch_attribute_is_small() {
    // 88: `Partial` holds `number64` offsets (RFC 9051), 16 octets.
    check("FetchAttribute", 88);
}

/// The inline capacities chosen to keep the values small still hold the common messages:
/// these parse without touching the heap.
#[test]
fn borrowing_responses_do_not_allocate() {
    let inputs: &[&[u8]] = &[
        b"* 12 FETCH (FLAGS (\\Seen) UID 4827)\r\n",
        b"* 12 FETCH (FLAGS (\\Seen \\Answered) UID 4827)\r\n",
        b"* 12 FETCH (UID 4827 FLAGS ())\r\n",
        b"* 23 EXISTS\r\n",
        b"* 1 RECENT\r\n",
        b"A1 OK [UIDNEXT 4392] SELECT completed\r\n",
        b"A2 OK [READ-WRITE] done\r\n",
        b"* OK [PERMANENTFLAGS (\\*)] Limited\r\n",
        b"A3 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n",
        b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen)\r\n",
        b"* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n",
        b"* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n",
    ];
    for input in inputs {
        let n = allocations_in(|| {
            std::hint::black_box(Response::parse(std::hint::black_box(input)).unwrap());
        });
        assert_eq!(n, 0, "{:?}", String::from_utf8_lossy(input));
    }
    // Beyond the inline capacity the list spills to the heap (and still parses).
    let three = b"* 12 FETCH (FLAGS (\\Seen) UID 4827 MODSEQ (12))\r\n";
    let n = allocations_in(|| {
        std::hint::black_box(Response::parse(std::hint::black_box(three)).unwrap());
    });
    assert_eq!(n, 1);
}

/// The benchmark's FETCH response (Gmail's shape: a reply with a text and HTML alternative and
/// a PDF attachment): its address lists, body parameters and languages of one element are
/// inline (`imap_proto::Few`), so what allocates is the envelope's and the body structure's
/// boxes, the two multiparts' lists of parts, the `To:` list of two addresses, the
/// `text/plain` part's two parameters and the list of six FETCH items: 7, against 17 when
/// those lists were `Vec`s (docs/performance.md, "Inline lists").
#[test]
fn envelope_and_bodystructure_allocate_only_for_what_does_not_fit_inline() {
    let input: &[u8] = b"* 1234 FETCH (UID 98765 RFC822.SIZE 48213 FLAGS (\\Seen $NotJunk) \
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
    let n = allocations_in(|| {
        std::hint::black_box(Response::parse(std::hint::black_box(input)).unwrap());
    });
    assert_eq!(n, 7, "allocations for the ENVELOPE/BODYSTRUCTURE response");
}
