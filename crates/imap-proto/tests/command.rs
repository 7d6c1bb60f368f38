//! Commands: known answers (bytes -> value -> bytes -> value) for every command, the example
//! commands of RFC 3501 section 6 and RFC 9051 section 6, error offsets, continuation points,
//! allocation-free parsing, proptest round trips, and constructor refusals.

use imap_proto::command::{
    AppendData, AppendMessage, AuthenticateData, Base64, Command, CommandBody, FetchAttribute,
    FetchItems, IdleDone, ModSeq, ModSeqValzer, NonEmpty, NonEmptyVec, QuotaLimit, SearchKey,
    SearchReturnOption, StatusItem, StoreKind,
};
use imap_proto::core::{AString, Atom, Literal, LiteralMode, Tag};
use imap_proto::datetime::Date;
use imap_proto::encode::{EncodeOptions, LiteralPlus};
use imap_proto::error::{ErrorKind, MAX_DEPTH};
use imap_proto::flag::Flag;
use imap_proto::mailbox::Mailbox;
use imap_proto::sequence::SequenceSet;
use imap_proto::{Encode, List, Quirks, Writer};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The fewest allocations seen while running `f` 50 times. The counter is process-wide and
/// other tests run at the same time, but a parse allocates the same on every run: if one
/// window saw no allocation at all, the parse makes none.
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

// ---------------------------------------------------------------------------------------------

/// Parse `input`, check it encodes to `canonical`, and that `canonical` parses to the same value.
#[track_caller]
fn round_trip(input: &[u8], canonical: &[u8]) -> Command<'static> {
    let cmd = Command::parse(input)
        .unwrap_or_else(|e| panic!("{:?} does not parse: {e}", String::from_utf8_lossy(input)));
    let bytes = cmd.to_bytes();
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        String::from_utf8_lossy(canonical),
        "encoding of {:?}",
        String::from_utf8_lossy(input)
    );
    let again = Command::parse(&bytes).expect("the encoding parses");
    // `List` is invariant in its element type, so values of two inputs compare as owned.
    let cmd = cmd.into_static();
    assert_eq!(again.into_static(), cmd);
    cmd
}

/// A command whose encoding is its input.
#[track_caller]
fn same(input: &[u8]) -> Command<'static> {
    round_trip(input, input)
}

#[track_caller]
fn err(input: &[u8]) -> (Option<String>, usize, &'static str) {
    let e = Command::parse(input).expect_err("must not parse");
    (
        e.tag.map(|t| t.as_str().to_owned()),
        e.error.offset(),
        e.error.expected(),
    )
}

fn astr(s: &str) -> AString<'static> {
    AString::from_bytes(s.as_bytes().to_vec()).unwrap()
}

fn mbox(s: &str) -> Mailbox<'static> {
    Mailbox::from_bytes(s.as_bytes().to_vec()).unwrap()
}

#[test]
fn simple_commands() {
    for (input, body) in [
        (&b"a CAPABILITY\r\n"[..], CommandBody::Capability),
        (b"a NOOP\r\n", CommandBody::Noop),
        (b"a LOGOUT\r\n", CommandBody::Logout),
        (b"a STARTTLS\r\n", CommandBody::StartTls),
        (b"a NAMESPACE\r\n", CommandBody::Namespace),
        (b"a IDLE\r\n", CommandBody::Idle),
        (b"a CHECK\r\n", CommandBody::Check),
        (b"a CLOSE\r\n", CommandBody::Close),
        (b"a UNSELECT\r\n", CommandBody::Unselect),
        (b"a EXPUNGE\r\n", CommandBody::Expunge),
    ] {
        assert_eq!(same(input).body, body);
    }
}

/// The commands without arguments are told by their name alone; what is not exactly
/// `tag SP name CRLF` goes through the general reader, with its errors and quirks.
#[test]
fn argument_less_commands_in_and_out_of_their_one_form() {
    for input in [&b"7 noop\r\n"[..], b"7 NoOp\r\n", b"7 NOOP\r\n"] {
        let c = Command::parse(input).unwrap();
        assert_eq!((c.tag.as_str(), c.body), ("7", CommandBody::Noop));
    }
    assert_eq!(
        Command::parse(b"7 capability\r\n").unwrap().body,
        CommandBody::Capability
    );
    // Refused, with the offset of what is wrong: one more letter, an argument, a bare LF,
    // a NUL after the name, text after the CRLF.
    for (input, offset) in [
        (&b"7 NOOPS\r\n"[..], 2),
        (b"7 NOOP x\r\n", 6),
        (b"7 NOOP\n", 6),
        (b"7 NOOP\0\r\n", 6),
        (b"7 NOOP\r\n\r\n", 8),
        (b"7 NOO\r\n", 2),
    ] {
        let e = Command::parse(input).unwrap_err();
        assert_eq!(e.tag.as_ref().map(Tag::as_str), Some("7"), "{input:?}");
        assert_eq!(e.error.offset(), offset, "{input:?}");
    }
    // A trailing space before the CRLF: refused when strict, skipped when lenient.
    assert_eq!(
        Command::parse(b"7 IDLE \r\n").unwrap_err().error.offset(),
        6
    );
    assert_eq!(
        Command::parse_with(b"7 IDLE \r\n", Quirks::LENIENT)
            .unwrap()
            .body,
        CommandBody::Idle
    );
}

#[test]
fn names_are_case_insensitive_and_encoded_in_upper_case() {
    round_trip(b"x noop\r\n", b"x NOOP\r\n");
    round_trip(b"x Uid Fetch 1 flags\r\n", b"x UID FETCH 1 FLAGS\r\n");
    round_trip(
        b"x search or seen unseen not from x\r\n",
        b"x SEARCH OR SEEN UNSEEN NOT FROM x\r\n",
    );
    round_trip(
        b"x store 1 +flags.silent (\\seen)\r\n",
        b"x STORE 1 +FLAGS.SILENT (\\Seen)\r\n",
    );
    round_trip(
        b"x fetch 1 body.peek[header.fields (from)]<0.10>\r\n",
        b"x FETCH 1 BODY.PEEK[HEADER.FIELDS (from)]<0.10>\r\n",
    );
}

#[test]
fn authenticate_with_and_without_initial_response() {
    let c = same(b"A1 AUTHENTICATE PLAIN\r\n");
    assert_eq!(
        c.body,
        CommandBody::Authenticate {
            mechanism: Atom::new("PLAIN").unwrap(),
            initial_response: None
        }
    );
    let c = same(b"A1 AUTHENTICATE PLAIN AGZyZWQAc2VjcmV0\r\n");
    let CommandBody::Authenticate {
        initial_response: Some(ir),
        ..
    } = &c.body
    else {
        panic!("{c:?}")
    };
    assert_eq!(ir.as_str(), "AGZyZWQAc2VjcmV0");
    // SASL-IR: `=` is the empty initial response.
    let c = same(b"A1 AUTHENTICATE EXTERNAL =\r\n");
    let CommandBody::Authenticate {
        initial_response: Some(ir),
        ..
    } = &c.body
    else {
        panic!("{c:?}")
    };
    assert!(ir.is_empty());
    assert_eq!(err(b"A1 AUTHENTICATE PLAIN abc\r\n").1, 25);
    assert_eq!(err(b"A1 AUTHENTICATE PLAIN \r\n").1, 22);
}

#[test]
fn authenticate_data_and_idle_done() {
    assert_eq!(
        AuthenticateData::parse(b"AGZyZWQAc2VjcmV0\r\n").unwrap(),
        AuthenticateData::Response(Base64::new("AGZyZWQAc2VjcmV0").unwrap())
    );
    assert_eq!(
        AuthenticateData::parse(b"*\r\n").unwrap().to_bytes(),
        b"*\r\n"
    );
    assert_eq!(
        IdleDone::parse(b"done\r\n").unwrap().to_bytes(),
        b"DONE\r\n"
    );
    assert!(IdleDone::parse(b"DONE\n").is_err());
}

#[test]
fn login_with_every_string_form() {
    let c = same(b"A1 LOGIN fred secret\r\n");
    assert_eq!(
        c.body,
        CommandBody::Login {
            username: astr("fred"),
            password: astr("secret")
        }
    );
    same(b"A1 LOGIN \"fred smith\" \"a \\\"b\\\" \\\\\"\r\n");
    // A literal stays a literal and its wait point is marked; without LITERAL+ in the
    // options the `{3+}` read is written `{3}` (RFC 7888: the peer's permission, not the
    // value's mode, decides).
    let c = round_trip(
        b"A1 LOGIN {4}\r\nfred {3+}\r\n\x01\x02\x03\r\n",
        b"A1 LOGIN {4}\r\nfred {3}\r\n\x01\x02\x03\r\n",
    );
    let e = c.encoded();
    assert_eq!(e.wait_points(), &[14, 24]);
    let chunks: Vec<_> = e.chunks().collect();
    assert_eq!(chunks[0].bytes, b"A1 LOGIN {4}\r\n");
    assert!(chunks[0].wait_for_continuation);
    assert_eq!(chunks[1].bytes, b"fred {3}\r\n");
    assert_eq!(chunks[2].bytes, b"\x01\x02\x03\r\n");
    // With LITERAL+ nothing waits.
    let mut options = EncodeOptions::default();
    options.literal_plus = LiteralPlus::Plus;
    let mut w = Writer::new(options);
    c.encode(&mut w);
    let e = w.finish();
    assert!(e.wait_points().is_empty());
    assert_eq!(
        e.as_bytes(),
        b"A1 LOGIN {4+}\r\nfred {3+}\r\n\x01\x02\x03\r\n"
    );
}

#[test]
fn select_and_examine_with_condstore_and_qresync() {
    assert_eq!(
        same(b"A1 SELECT INBOX\r\n").body,
        CommandBody::Select {
            mailbox: Mailbox::Inbox,
            params: Default::default()
        }
    );
    round_trip(b"A1 select inbox\r\n", b"A1 SELECT INBOX\r\n");
    same(b"A1 EXAMINE blurdybloop\r\n");
    same(b"A1 SELECT INBOX (CONDSTORE)\r\n");
    same(b"A1 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n");
    same(
        b"A1 EXAMINE INBOX (QRESYNC (67890007 90060115194045000 41:211,214:541 (1:* 41:211)))\r\n",
    );
    same(b"A1 SELECT INBOX (QRESYNC (1 2 (1,3 5,9)))\r\n");
    same(b"A1 SELECT INBOX (CONDSTORE QRESYNC (1 2))\r\n");
    round_trip(
        b"A1 SELECT INBOX (QRESYNC (1 2) CONDSTORE)\r\n",
        b"A1 SELECT INBOX (CONDSTORE QRESYNC (1 2))\r\n",
    );
    assert_eq!(err(b"A1 SELECT INBOX (QRESYNC (0 2))\r\n").1, 26);
    assert_eq!(err(b"A1 SELECT INBOX (QRESYNC (1 0))\r\n").1, 28);
    assert_eq!(err(b"A1 SELECT INBOX (FOO)\r\n").1, 17);
}

#[test]
fn mailbox_management() {
    same(b"A1 CREATE owatagusiam/\r\n");
    let c = same(b"A1 CREATE MySpecial (USE (\\Drafts \\Sent))\r\n");
    let CommandBody::Create { special_use, .. } = &c.body else {
        panic!()
    };
    assert_eq!(special_use.len(), 2);
    round_trip(b"A1 CREATE x (USE ())\r\n", b"A1 CREATE x\r\n");
    same(b"A1 DELETE blurdybloop\r\n");
    let c = same(b"A1 RENAME INBOX old-mail\r\n");
    assert_eq!(
        c.body,
        CommandBody::Rename {
            from: Mailbox::Inbox,
            to: mbox("old-mail")
        }
    );
    same(b"A1 SUBSCRIBE #news.comp.mail.mime\r\n");
    same(b"A1 UNSUBSCRIBE #news.comp.mail.mime\r\n");
    same(b"A1 STATUS blurdybloop (UIDNEXT MESSAGES)\r\n");
    same(b"A1 STATUS x (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ APPENDLIMIT)\r\n");
    assert_eq!(err(b"A1 STATUS x ()\r\n").1, 13);
    assert_eq!(err(b"A1 STATUS x (MESSAGES BOGUS)\r\n").1, 22);
}

#[test]
fn list_basic_and_extended() {
    let c = same(b"A1 LIST \"\" *\r\n");
    let CommandBody::List {
        selection,
        patterns,
        return_options,
        ..
    } = &c.body
    else {
        panic!()
    };
    assert!(selection.is_empty() && return_options.is_empty());
    assert_eq!(patterns[0].as_bytes(), b"*");
    same(b"A1 LIST ~/Mail/ %\r\n");
    same(b"A1 LSUB \"#news.\" \"comp.mail.*\"\r\n");
    same(b"A1 LIST (SUBSCRIBED) \"\" *\r\n");
    same(b"A1 LIST (REMOTE SUBSCRIBED RECURSIVEMATCH SPECIAL-USE) \"\" *\r\n");
    same(b"A1 LIST \"\" (INBOX Drafts Sent/%) RETURN (SUBSCRIBED CHILDREN SPECIAL-USE)\r\n");
    same(b"A1 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))\r\n");
    round_trip(b"A1 LIST () \"\" (%) RETURN ()\r\n", b"A1 LIST \"\" %\r\n");
    assert_eq!(err(b"A1 LIST \"\" % RETURN (BOGUS)\r\n").1, 21);
    assert_eq!(err(b"A1 LIST \"\" ()\r\n").1, 12);
}

#[test]
fn append_single_multi_binary_utf8() {
    let c = round_trip(
        b"A1 APPEND saved (\\Seen) \" 7-Feb-1994 21:52:25 -0800\" {5}\r\nHello\r\n",
        b"A1 APPEND saved (\\Seen) \"07-Feb-1994 21:52:25 -0800\" {5}\r\nHello\r\n",
    );
    let CommandBody::Append { mailbox, messages } = &c.body else {
        panic!()
    };
    assert_eq!(mailbox, &mbox("saved"));
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].flags[..], [Flag::Seen]);
    assert!(messages[0].date_time.is_some());
    assert_eq!(messages[0].data.data(), b"Hello");
    assert_eq!(c.encoded().wait_points().len(), 1);
    same(b"A1 APPEND saved {0}\r\n\r\n");
    // MULTIAPPEND: two messages.
    let c = round_trip(
        b"A1 APPEND x (\\Seen) {1}\r\na {1+}\r\nb\r\n",
        b"A1 APPEND x (\\Seen) {1}\r\na {1}\r\nb\r\n",
    );
    let CommandBody::Append { messages, .. } = &c.body else {
        panic!()
    };
    assert_eq!(messages.len(), 2);
    assert_eq!(c.encoded().wait_points().len(), 2);
    // BINARY: a literal8 may carry NUL.
    let c = same(b"A1 APPEND x ~{3}\r\na\x00b\r\n");
    let CommandBody::Append { messages, .. } = &c.body else {
        panic!()
    };
    assert!(matches!(messages[0].data, AppendData::Binary(_)));
    // UTF8=ACCEPT.
    let c = round_trip(
        b"A1 APPEND x UTF8 (~{4+}\r\n\xc3\xa9t\xc3)\r\n",
        b"A1 APPEND x UTF8 (~{4}\r\n\xc3\xa9t\xc3)\r\n",
    );
    let CommandBody::Append { messages, .. } = &c.body else {
        panic!()
    };
    assert!(matches!(messages[0].data, AppendData::Utf8(_)));
    assert_eq!(err(b"A1 APPEND x\r\n").1, 11);
    assert_eq!(err(b"A1 APPEND x \"bogus\" {1}\r\na\r\n").1, 13);
    assert_eq!(err(b"A1 APPEND x {5}\r\nab\r\n").2, "literal data");
}

#[test]
fn uid_expunge_copy_move() {
    assert_eq!(
        same(b"A1 UID EXPUNGE 3000:3002\r\n").body,
        CommandBody::UidExpunge {
            uids: SequenceSet::range(3000, 3002).unwrap()
        }
    );
    same(b"A1 COPY 2:4 MEETING\r\n");
    same(b"A1 UID COPY 2:4 MEETING\r\n");
    same(b"A1 MOVE 1:* Trash\r\n");
    same(b"A1 UID MOVE 42:69 foo\r\n");
    same(b"A1 COPY $ INBOX\r\n");
    assert_eq!(
        err(b"A1 UID NOOP\r\n"),
        (
            Some("A1".into()),
            7,
            "COPY, MOVE, FETCH, STORE, SEARCH, SORT, THREAD or EXPUNGE"
        )
    );
}

#[test]
fn search_every_key() {
    let c = round_trip(
        b"A1 SEARCH ALL ANSWERED BCC a BEFORE 1-Feb-1994 BODY b CC c DELETED DRAFT FLAGGED FROM d \
HEADER X-Foo e KEYWORD $Junk LARGER 10 NEW NOT SEEN OLD ON 2-Feb-1994 OR SEEN UNSEEN RECENT \
SEEN SENTBEFORE 3-Mar-2000 SENTON 4-Apr-2001 SENTSINCE 5-May-2002 SINCE 6-Jun-2003 SMALLER 20 \
SUBJECT f TEXT g TO h UID 1:5,7 UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNKEYWORD $Junk UNSEEN \
1,2:* $ (SEEN FLAGGED) MODSEQ 5 MODSEQ \"/flags/\\\\draft\" all 620162338 MODSEQ \"/flags/$x\" priv 0\r\n",
        b"A1 SEARCH ALL ANSWERED BCC a BEFORE 1-Feb-1994 BODY b CC c DELETED DRAFT FLAGGED FROM d \
HEADER X-Foo e KEYWORD $Junk LARGER 10 NEW NOT SEEN OLD ON 2-Feb-1994 OR SEEN UNSEEN RECENT \
SEEN SENTBEFORE 3-Mar-2000 SENTON 4-Apr-2001 SENTSINCE 5-May-2002 SINCE 6-Jun-2003 SMALLER 20 \
SUBJECT f TEXT g TO h UID 1:5,7 UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNKEYWORD $Junk UNSEEN \
1,2:* $ (SEEN FLAGGED) MODSEQ 5 MODSEQ \"/flags/\\\\Draft\" all 620162338 MODSEQ \"/flags/$x\" priv 0\r\n",
    );
    let CommandBody::Search {
        uid,
        return_options,
        charset,
        criteria,
    } = &c.body
    else {
        panic!()
    };
    assert!(!uid && return_options.is_none() && charset.is_none());
    assert_eq!(criteria.len(), 41);
    assert_eq!(criteria[0], SearchKey::All);
    assert_eq!(
        criteria[3],
        SearchKey::Before(Date::new(1994, 2, 1).unwrap())
    );
    assert_eq!(criteria[14], !SearchKey::Seen);
    assert_eq!(criteria[16], SearchKey::On(Date::new(1994, 2, 2).unwrap()));
    assert_eq!(
        criteria[17],
        SearchKey::or(SearchKey::Seen, SearchKey::Unseen)
    );
    assert_eq!(criteria[36], SearchKey::SequenceSet(SequenceSet::Saved));
    assert_eq!(
        criteria[37],
        SearchKey::and(NonEmpty::new(vec![SearchKey::Seen, SearchKey::Flagged]).unwrap())
    );
    let SearchKey::ModSeq(m) = &criteria[39] else {
        panic!("{:?}", criteria[39])
    };
    assert_eq!(m.entry.as_ref().unwrap().0, Flag::Draft);
    assert_eq!(m.value.get(), 620162338);
    round_trip(
        b"A1 SEARCH modseq \"/FLAGS/\\\\Seen\" SHARED 1\r\n",
        b"A1 SEARCH MODSEQ \"/flags/\\\\Seen\" shared 1\r\n",
    );
}

#[test]
fn search_charset_return_and_uid() {
    let c =
        same(b"A1 UID SEARCH RETURN (MIN MAX ALL COUNT SAVE) CHARSET UTF-8 TEXT {6}\r\nstring\r\n");
    let CommandBody::Search {
        uid,
        return_options,
        charset,
        ..
    } = &c.body
    else {
        panic!()
    };
    assert!(uid);
    assert_eq!(
        return_options.as_deref(),
        Some(
            &[
                SearchReturnOption::Min,
                SearchReturnOption::Max,
                SearchReturnOption::All,
                SearchReturnOption::Count,
                SearchReturnOption::Save
            ][..]
        )
    );
    assert_eq!(charset.as_ref().unwrap().as_str(), "UTF-8");
    // `RETURN ()` (ESEARCH, meaning ALL) differs from no RETURN.
    let c = same(b"A1 SEARCH RETURN () SEEN\r\n");
    assert!(matches!(
        &c.body,
        CommandBody::Search { return_options: Some(o), .. } if o.is_empty()
    ));
    same(b"A1 SEARCH CHARSET \"UTF-8\" SEEN\r\n");
    assert_eq!(err(b"A1 SEARCH\r\n").1, 9);
    assert_eq!(
        err(b"A1 SEARCH BOGUS\r\n"),
        (Some("A1".into()), 10, "search-key")
    );
    assert_eq!(err(b"A1 SEARCH SINCE 30-Feb-2000\r\n").1, 16);
    assert_eq!(err(b"A1 SEARCH RETURN (MIN BOGUS) ALL\r\n").1, 22);
    assert_eq!(err(b"A1 SEARCH OR SEEN\r\n").1, 17);
    assert_eq!(err(b"A1 SEARCH (SEEN\r\n").1, 15);
    assert_eq!(err(b"A1 SEARCH ()\r\n").1, 11);
    assert_eq!(
        err(b"A1 SEARCH LARGER 18446744073709551616\r\n"),
        (Some("A1".into()), 17, "number64")
    );
    same(b"A1 SEARCH LARGER 18446744073709551615 SMALLER 4294967296\r\n");
    assert_eq!(err(b"A1 SEARCH SMALLER x\r\n").1, 18);
    assert_eq!(
        err(b"A1 SEARCH MODSEQ \"/flags/\\\\seen\" bogus 1\r\n").1,
        33
    );
}

#[test]
fn search_nesting_is_bounded() {
    let depth = MAX_DEPTH as usize + 1;
    let mut deep = b"A1 SEARCH ".to_vec();
    deep.extend(std::iter::repeat_n(b'(', depth));
    deep.extend_from_slice(b"SEEN");
    deep.extend(std::iter::repeat_n(b')', depth));
    deep.extend_from_slice(b"\r\n");
    let e = Command::parse(&deep).unwrap_err();
    assert_eq!(e.error.kind(), ErrorKind::TooDeep);
    let mut nots = b"A1 SEARCH ".to_vec();
    for _ in 0..depth {
        nots.extend_from_slice(b"NOT ");
    }
    nots.extend_from_slice(b"SEEN\r\n");
    assert_eq!(
        Command::parse(&nots).unwrap_err().error.kind(),
        ErrorKind::TooDeep
    );
    // Just under the bound parses, and reports its depth.
    let ok_depth = MAX_DEPTH as usize - 1;
    let mut fine = b"A1 SEARCH ".to_vec();
    for _ in 0..ok_depth {
        fine.extend_from_slice(b"NOT ");
    }
    fine.extend_from_slice(b"SEEN\r\n");
    let c = Command::parse(&fine).unwrap();
    let CommandBody::Search { criteria, .. } = &c.body else {
        panic!()
    };
    assert_eq!(criteria[0].depth() as usize, ok_depth + 1);
}

#[test]
fn fetch_macros_attributes_and_modifiers() {
    for (m, items) in [
        ("ALL", FetchItems::All),
        ("FAST", FetchItems::Fast),
        ("FULL", FetchItems::Full),
    ] {
        let c = same(format!("A1 FETCH 1 {m}\r\n").as_bytes());
        let CommandBody::Fetch { items: got, .. } = &c.body else {
            panic!()
        };
        assert_eq!(got, &items);
    }
    assert_eq!(FetchItems::Full.expand().len(), 5);
    let c = same(b"A1 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n");
    let CommandBody::Fetch { items, .. } = &c.body else {
        panic!()
    };
    let FetchItems::Attributes(attrs) = items else {
        panic!()
    };
    assert_eq!(attrs[0], FetchAttribute::Flags);
    assert!(matches!(
        attrs[1],
        FetchAttribute::BodySection {
            peek: false,
            section: Some(_),
            partial: None
        }
    ));
    same(b"A1 FETCH 1:* (ENVELOPE FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT BODY BODYSTRUCTURE UID MODSEQ)\r\n");
    same(b"A1 FETCH 1 (BODY[] BODY.PEEK[1.2.MIME] BODY[TEXT]<0.2048> BODY.PEEK[HEADER.FIELDS.NOT (Received)]<10.5>)\r\n");
    same(b"A1 FETCH 1 (BINARY[] BINARY.PEEK[1.2]<0.100> BINARY.SIZE[2] BINARY.SIZE[])\r\n");
    same(b"A1 UID FETCH 4827313:4828442 FLAGS\r\n");
    same(b"A1 UID FETCH 1:* FLAGS (CHANGEDSINCE 12345)\r\n");
    round_trip(
        b"A1 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n",
        b"A1 UID FETCH 300:500 FLAGS (CHANGEDSINCE 12345 VANISHED)\r\n",
    );
    round_trip(
        b"A1 UID FETCH 1 (FLAGS) (VANISHED CHANGEDSINCE 9)\r\n",
        b"A1 UID FETCH 1 FLAGS (CHANGEDSINCE 9 VANISHED)\r\n",
    );
    assert_eq!(err(b"A1 FETCH 1 (FLAGS BOGUS)\r\n").1, 18);
    assert_eq!(err(b"A1 FETCH 1 ()\r\n").1, 12);
    assert_eq!(err(b"A1 FETCH 0 FLAGS\r\n").1, 9);
    assert_eq!(err(b"A1 FETCH 1 BODY[HEADER.FIELDS ()]\r\n").1, 31);
    assert_eq!(err(b"A1 FETCH 1 BODY[]<0.0>\r\n").1, 20);
    assert_eq!(err(b"A1 FETCH 1 FLAGS (CHANGEDSINCE 0)\r\n").1, 31);
    assert_eq!(err(b"A1 FETCH 1 FLAGS (BOGUS)\r\n").1, 18);
}

#[test]
fn store_forms() {
    let c = same(b"A1 STORE 2:4 +FLAGS (\\Deleted)\r\n");
    assert_eq!(
        c.body,
        CommandBody::Store {
            uid: false,
            sequence_set: SequenceSet::range(2, 4).unwrap(),
            unchanged_since: None,
            kind: StoreKind::Add,
            silent: false,
            flags: [Flag::Deleted].into_iter().collect(),
        }
    );
    same(b"A1 STORE 1 FLAGS ()\r\n");
    same(b"A1 STORE 1 -FLAGS.SILENT (\\Seen $Junk \\Custom)\r\n");
    round_trip(
        b"A1 STORE 1 FLAGS \\Seen \\Answered\r\n",
        b"A1 STORE 1 FLAGS (\\Seen \\Answered)\r\n",
    );
    same(b"A1 UID STORE 1:* (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)\r\n");
    same(b"A1 STORE 1 (UNCHANGEDSINCE 0) FLAGS (\\Seen)\r\n");
    assert_eq!(err(b"A1 STORE 1 *FLAGS (\\Seen)\r\n").1, 11);
    assert_eq!(err(b"A1 STORE 1 FLAGS.LOUD (\\Seen)\r\n").1, 11);
    assert_eq!(err(b"A1 STORE 1 FLAGS (\\*)\r\n").1, 19);
}

#[test]
fn enable_id_quota_compress() {
    let c = same(b"A1 ENABLE CONDSTORE X-GOOD-IDEA\r\n");
    let CommandBody::Enable { capabilities } = &c.body else {
        panic!()
    };
    assert_eq!(capabilities[1].as_str(), "X-GOOD-IDEA");
    same(b"A1 ENABLE UTF8=ACCEPT\r\n");
    assert_eq!(err(b"A1 ENABLE\r\n").1, 9);
    same(b"A1 ID (\"name\" \"sodr\" \"version\" \"19.34\" \"vendor\" NIL)\r\n");
    assert_eq!(
        same(b"A1 ID NIL\r\n").body,
        CommandBody::Id { parameters: None }
    );
    same(b"A1 ID ()\r\n");
    assert_eq!(err(b"A1 ID (\"name\")\r\n").1, 13);
    same(b"A1 GETQUOTA \"\"\r\n");
    same(b"A1 GETQUOTAROOT INBOX\r\n");
    let c = same(b"A1 SETQUOTA \"\" (STORAGE 512 MESSAGE 1000)\r\n");
    let CommandBody::SetQuota { limits, .. } = &c.body else {
        panic!()
    };
    assert_eq!(limits[0].resource().as_str(), "STORAGE");
    assert_eq!(limits[1].limit(), 1000);
    same(b"A1 SETQUOTA root ()\r\n");
    same(b"A1 COMPRESS DEFLATE\r\n");
}

#[test]
fn sort_and_thread() {
    same(b"A1 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994\r\n");
    same(b"A1 UID SORT (REVERSE ARRIVAL CC DATE FROM SIZE TO DISPLAYFROM REVERSE DISPLAYTO) US-ASCII ALL\r\n");
    round_trip(
        b"A1 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000\r\n",
        b"A1 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-Mar-2000\r\n",
    );
    same(b"A1 UID THREAD REFERENCES US-ASCII TEXT \"gewp\"\r\n");
    same(b"A1 THREAD X-ALG UTF-8 ALL\r\n");
    assert_eq!(err(b"A1 SORT () UTF-8 ALL\r\n").1, 9);
    assert_eq!(err(b"A1 SORT (BOGUS) UTF-8 ALL\r\n").1, 9);
    assert_eq!(err(b"A1 SORT (DATE) ALL\r\n").1, 18);
}

#[test]
fn errors_carry_the_tag_offset_and_expectation() {
    assert_eq!(
        err(b"A442 XPIG-LATIN\r\n"),
        (Some("A442".into()), 5, "command name")
    );
    assert_eq!(err(b"+ NOOP\r\n"), (None, 0, "tag"));
    assert_eq!(err(b"A1NOOP\r\n"), (Some("A1NOOP".into()), 6, "SP"));
    assert_eq!(err(b"A(1 NOOP\r\n"), (None, 1, "SP"));
    assert_eq!(err(b"A1\r\n"), (Some("A1".into()), 2, "SP"));
    assert_eq!(err(b"A1 NOOP"), (Some("A1".into()), 7, "CRLF"));
    assert_eq!(err(b"A1 NOOP\n").1, 7);
    assert_eq!(err(b"A1 NOOP\r\nA2 NOOP\r\n").1, 9);
    assert_eq!(err(b"A1  NOOP\r\n").1, 3);
    assert_eq!(err(b"A1 NOOP \r\n").1, 7);
    assert_eq!(err(b"A1 SELECT\r\n").1, 9);
    assert_eq!(err(b"A1 LOGIN fred\r\n").1, 13);
    assert_eq!(err(b"A1 LOGIN {10}\r\nfred\r\n").2, "literal data");
    let e = Command::parse(b"A1 FROB\r\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "command A1: syntax error at offset 3: expected command name"
    );
    assert_eq!(e.clone().into_static(), e);
    // Lenient quirks are off by default on the server side; with them, trailing spaces end
    // optional lists and runs of spaces count as one.
    for input in [
        &b"A1 NOOP \r\n"[..],
        b"A1 SEARCH SEEN  \r\n",
        b"A1 FETCH 1 FLAGS \r\n",
        b"A1 APPEND x {1}\r\na \r\n",
        b"A1 STORE 1 FLAGS \\Seen \r\n",
        b"A1  SEARCH   SEEN  UNSEEN\r\n",
    ] {
        assert!(Command::parse(input).is_err());
        let c = Command::parse_with(input, Quirks::LENIENT).unwrap();
        assert!(Command::parse(&c.to_bytes()).is_ok());
    }
}

#[test]
fn every_error_path_points_at_the_fault() {
    let cases: &[(&[u8], usize, &str)] = &[
        (
            b"A1 STORE 1 (CHANGEDSINCE 1) FLAGS ()\r\n",
            12,
            "\"UNCHANGEDSINCE\"",
        ),
        (b"A1 STORE 1 (UNCHANGEDSINCE 1 FLAGS ()\r\n", 28, "\")\""),
        (
            b"A1 STORE 1 (UNCHANGEDSINCE x) FLAGS ()\r\n",
            27,
            "number64",
        ),
        (b"A1 LIST \"\" % BOGUS\r\n", 13, "\"RETURN\""),
        (b"A1 LIST (BOGUS) \"\" %\r\n", 9, "list-select-opt"),
        (b"A1 CREATE x USE\r\n", 12, "\"(\""),
        (b"A1 CREATE x (FOO (\\Sent))\r\n", 13, "\"USE\""),
        (b"A1 CREATE x (USE \\Sent)\r\n", 17, "\"(\""),
        (b"A1 CREATE x (USE (\\Sent)\r\n", 24, "\")\""),
        (b"A1 ID \"name\"\r\n", 6, "\"(\" or NIL"),
        (b"A1 SETQUOTA r STORAGE 1\r\n", 14, "\"(\""),
        (b"A1 SETQUOTA r (STORAGE x)\r\n", 23, "number64"),
        (
            b"A1 SETQUOTA r (STORAGE 9223372036854775808)\r\n",
            23,
            "number64",
        ),
        (
            b"A1 SEARCH MODSEQ \"/flogs/x\" all 1\r\n",
            18,
            "\"/flags/\"",
        ),
        (b"A1 SEARCH MODSEQ \"/flags/x all 1\r\n", 26, "DQUOTE"),
        (b"A1 SEARCH MODSEQ x\r\n", 17, "number64"),
        (b"A1 SORT DATE UTF-8 ALL\r\n", 8, "\"(\""),
        (b"A1 THREAD REFERENCES UTF-8\r\n", 26, "SP"),
        (b"A1 FETCH 1 FLAGS (CHANGEDSINCE 1\r\n", 32, "SP"),
        (b"A1 SELECT INBOX (QRESYNC (1 2 1:5 (1:2)))\r\n", 38, "SP"),
        (b"A1 APPEND x (\\Seen) UTF8 {1}\r\na\r\n", 25, "\"(\""),
        (b"A1 APPEND x (\\Seen) BOGUS\r\n", 20, "literal"),
        (b"A1 ENABLE CONDSTORE (\r\n", 20, "atom"),
        (b"A1 COMPRESS\r\n", 11, "SP"),
        (b"A1 GETQUOTAROOT\r\n", 15, "SP"),
        (b"A1 UID EXPUNGE *x\r\n", 16, "CRLF"),
        (b"A1 MOVE 1\r\n", 9, "SP"),
    ];
    for (input, offset, expected) in cases {
        let e = Command::parse(input).expect_err(&String::from_utf8_lossy(input));
        assert_eq!(e.tag.as_ref().map(|t| t.as_str()), Some("A1"));
        assert_eq!(
            (e.error.offset(), e.error.expected()),
            (*offset, *expected),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn rfc3501_section_6_examples() {
    let examples: &[&[u8]] = &[
        b"abcd CAPABILITY\r\n",
        b"a002 NOOP\r\n",
        b"a047 NOOP\r\n",
        b"A023 LOGOUT\r\n",
        b"a002 STARTTLS\r\n",
        b"A001 AUTHENTICATE GSSAPI\r\n",
        b"a001 LOGIN SMITH SESAME\r\n",
        b"A142 SELECT INBOX\r\n",
        b"A932 EXAMINE blurdybloop\r\n",
        b"A003 CREATE owatagusiam/\r\n",
        b"A004 CREATE owatagusiam/blurdybloop\r\n",
        b"A682 LIST \"\" *\r\n",
        b"A683 DELETE blurdybloop\r\n",
        b"A685 DELETE foo/bar\r\n",
        b"A683 RENAME blurdybloop sarasoop\r\n",
        b"Z433 RENAME INBOX old-mail\r\n",
        b"A002 SUBSCRIBE #news.comp.mail.mime\r\n",
        b"A002 UNSUBSCRIBE #news.comp.mail.mime\r\n",
        b"A101 LIST \"\" \"\"\r\n",
        b"A102 LIST #news.comp.mail.misc \"\"\r\n",
        b"A103 LIST /usr/staff/jones \"\"\r\n",
        b"A202 LIST ~/Mail/ %\r\n",
        b"A002 LSUB \"#news.\" \"comp.mail.*\"\r\n",
        b"A003 LSUB \"#news.\" \"comp.%\"\r\n",
        b"A042 STATUS blurdybloop (UIDNEXT MESSAGES)\r\n",
        b"A003 APPEND saved-messages (\\Seen) {24}\r\nSubject: afternoon\r\n\r\nhi\r\n",
        b"FXXZ CHECK\r\n",
        b"A341 CLOSE\r\n",
        b"A202 EXPUNGE\r\n",
        b"A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n",
        b"A283 SEARCH TEXT \"string not in mailbox\"\r\n",
        b"A284 SEARCH CHARSET UTF-8 TEXT {6}\r\nstring\r\n",
        b"A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n",
        b"A003 STORE 2:4 +FLAGS (\\Deleted)\r\n",
        b"A003 COPY 2:4 MEETING\r\n",
        b"A999 UID FETCH 4827313:4828442 FLAGS\r\n",
        b"a441 CAPABILITY\r\n",
    ];
    for ex in examples {
        same(ex);
    }
    // Section 6.5.1: an X- command of an extension this codec does not know is an error with
    // its tag, which a server answers with BAD.
    assert_eq!(err(b"A442 XPIG-LATIN\r\n").0.as_deref(), Some("A442"));
}

#[test]
fn rfc9051_section_6_examples() {
    let examples: &[&[u8]] = &[
        b"t1 CAPABILITY\r\n",
        b"A001 AUTHENTICATE PLAIN\r\n",
        b"t2 ENABLE CONDSTORE X-GOOD-IDEA\r\n",
        b"A142 SELECT INBOX\r\n",
        b"A002 CREATE foo\r\n",
        b"A02 LIST (SUBSCRIBED) \"\" *\r\n",
        b"A03 LIST \"\" % RETURN (CHILDREN)\r\n",
        b"A04 LIST (REMOTE) \"\" % RETURN (CHILDREN)\r\n",
        b"A05 LIST (REMOTE SUBSCRIBED) \"\" *\r\n",
        b"A06 LIST (SUBSCRIBED) \"\" % RETURN (CHILDREN)\r\n",
        b"A07 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" % RETURN (CHILDREN)\r\n",
        b"BBB LIST \"\" (INBOX Drafts Sent/%)\r\n",
        b"A01 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))\r\n",
        b"A02 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" % RETURN (STATUS (MESSAGES))\r\n",
        b"A001 NAMESPACE\r\n",
        b"A042 STATUS blurdybloop (UIDNEXT MESSAGES)\r\n",
        b"A001 IDLE\r\n",
        b"A342 UNSELECT\r\n",
        b"A202 EXPUNGE\r\n",
        b"A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n",
        b"A283 SEARCH RETURN () FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n",
        b"A301 SEARCH RETURN (SAVE) SINCE 1-Jan-2004 NOT FROM \"Smith\"\r\n",
        b"A302 COPY $ \"Other Messages\"\r\n",
        b"A303 SEARCH RETURN (SAVE) SINCE 1-Jan-2004 NOT FROM \"Smith\" UID $\r\n",
        b"A003 UID STORE 1:* FLAGS (\\Seen)\r\n",
        b"A003 MOVE 2:4 MEETING\r\n",
        b"A004 UID EXPUNGE 3000:3002\r\n",
        b"A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n",
        b"A001 FETCH 1 BINARY.PEEK[1]\r\n",
    ];
    for ex in examples {
        same(ex);
    }
}

#[test]
fn benchmark_inputs_do_not_allocate() {
    let inputs: &[&[u8]] = &[
        b"A1 NOOP\r\n",
        b"A1 SEARCH CHARSET UTF-8 UNDELETED SINCE 1-Feb-1994 FROM \"Smith\" LARGER 1000\r\n",
        b"A2 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE)])\r\n",
        b"A3 UID STORE 1:5 +FLAGS.SILENT (\\Seen \\Deleted)\r\n",
        b"A4 SELECT INBOX\r\n",
        // Any number of header names: they stay in their wire form (`HeaderNames`).
        b"A5 UID FETCH 1:500,600:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])\r\n",
        b"A6 FETCH 4 (UID FLAGS)\r\n",
    ];
    for input in inputs {
        let n = allocations_in(|| {
            std::hint::black_box(Command::parse(std::hint::black_box(input)).unwrap());
        });
        assert_eq!(n, 0, "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn constructors_refuse_what_would_not_round_trip() {
    assert!(NonEmpty::<SearchKey<'_>>::new(Vec::new()).is_err());
    assert!(NonEmpty::try_from(List::<StatusItem>::new()).is_err());
    assert!(NonEmptyVec::<AppendMessage<'_>>::new(Vec::new()).is_err());
    assert!(NonEmptyVec::try_from(vec![1]).is_ok());
    assert_eq!(NonEmpty::<_, 4>::one(StatusItem::Size).len(), 1);
    assert!(ModSeq::new(0).is_err());
    assert!(ModSeq::new(1 << 63).is_err());
    assert_eq!(ModSeq::new((1 << 63) - 1).unwrap().get(), (1 << 63) - 1);
    assert!(ModSeqValzer::new(1 << 63).is_err());
    assert_eq!(ModSeqValzer::new(0).unwrap().get(), 0);
    assert!(QuotaLimit::new(Atom::new("STORAGE").unwrap(), 1 << 63).is_err());
    assert!(QuotaLimit::new(Atom::new("STORAGE").unwrap(), 10).is_ok());
    assert!(Base64::new("abc").is_err());
    assert!(Base64::new("ab c").is_err());
    assert!(Base64::new("a===").is_err());
}

#[test]
fn built_commands_encode_as_expected() {
    let cmd = Command::new(
        Tag::new("A7").unwrap(),
        CommandBody::Append {
            mailbox: mbox("Sent Items"),
            messages: NonEmptyVec::one(AppendMessage::new(AppendData::Literal(
                Literal::new(&b"Hi\r\n"[..], LiteralMode::Sync).unwrap(),
            ))),
        },
    );
    let e = cmd.encoded();
    assert_eq!(e.as_bytes(), b"A7 APPEND \"Sent Items\" {4}\r\nHi\r\n\r\n");
    assert_eq!(e.wait_points(), &[28]);
    assert_eq!(
        Command::parse(e.as_bytes()).unwrap().into_static(),
        cmd.clone()
    );
    let search = Command::new(
        Tag::new("s").unwrap(),
        CommandBody::Search {
            uid: true,
            return_options: None,
            charset: None,
            criteria: NonEmpty::one(SearchKey::or(
                SearchKey::Subject(astr("a b")),
                !SearchKey::Header(astr("List-Id"), astr("")),
            )),
        },
    );
    assert_eq!(
        search.to_bytes(),
        b"s UID SEARCH OR SUBJECT \"a b\" NOT HEADER List-Id \"\"\r\n"
    );
    assert_eq!(CommandBody::Noop.name(), "NOOP");
}

mod props {
    use super::*;
    use imap_proto::command::{
        EntryType, ListReturnOption, ListSelectOption, QResync, SearchModSeq, SelectParams,
        SortCriterion, SortKey, ThreadAlgorithm,
    };
    use imap_proto::core::{Charset, IString, Literal8, NString};
    use imap_proto::datetime::DateTime;
    use imap_proto::fetch::{Part, Partial, Section};
    use imap_proto::mailbox::ListMailbox;
    use imap_proto::sequence::{SeqOrUid, Sequence};
    use proptest::collection::vec;
    use proptest::prelude::*;
    use std::num::NonZeroU32;

    fn atom() -> impl Strategy<Value = Atom<'static>> {
        "[A-Za-z0-9$._-]{1,8}".prop_map(|s| Atom::new(s).unwrap())
    }

    fn astring() -> impl Strategy<Value = AString<'static>> {
        prop_oneof![
            "[A-Za-z0-9]{1,8}",
            "[ -~]{0,10}",
            "[a-z\u{e9}\u{4e2d}\r\n\"\\\\]{0,6}",
        ]
        .prop_map(|s| AString::from_bytes(s.into_bytes()).unwrap())
    }

    fn istring() -> impl Strategy<Value = IString<'static>> {
        "[ -~]{0,10}".prop_map(|s| IString::from_bytes(s.into_bytes()).unwrap())
    }

    fn mailbox() -> impl Strategy<Value = Mailbox<'static>> {
        prop_oneof![
            Just(Mailbox::Inbox),
            "[ -~]{1,10}".prop_map(|s| Mailbox::from_bytes(s.into_bytes()).unwrap()),
            "[a-z\u{e9}]{1,6}".prop_map(|s| Mailbox::from_utf8(&s, false).unwrap()),
        ]
    }

    fn list_mailbox() -> impl Strategy<Value = ListMailbox<'static>> {
        "[ -~]{0,10}".prop_map(|s| ListMailbox::from_bytes(s.into_bytes()).unwrap())
    }

    fn seq_or_uid() -> impl Strategy<Value = SeqOrUid> {
        prop_oneof![
            Just(SeqOrUid::Asterisk),
            (1u32..).prop_map(|n| SeqOrUid::Value(NonZeroU32::new(n).unwrap())),
        ]
    }

    fn sequence_set() -> impl Strategy<Value = SequenceSet> {
        prop_oneof![
            1 => Just(SequenceSet::Saved),
            8 => vec(
                prop_oneof![
                    seq_or_uid().prop_map(Sequence::Single),
                    (seq_or_uid(), seq_or_uid()).prop_map(|(a, b)| Sequence::Range(a, b)),
                ],
                1..4
            )
            .prop_map(|v| SequenceSet::new(v.into()).unwrap()),
        ]
    }

    fn date() -> impl Strategy<Value = Date> {
        (1900u16..2100, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| Date::new(y, m, d).unwrap())
    }

    fn date_time() -> impl Strategy<Value = DateTime> {
        (date(), 0u8..24, 0u8..60, 0u8..60, -720i16..=720)
            .prop_map(|(d, h, m, s, z)| DateTime::new(d, h, m, s, z).unwrap())
    }

    fn flag() -> impl Strategy<Value = Flag<'static>> {
        prop_oneof![
            Just(Flag::Seen),
            Just(Flag::Answered),
            Just(Flag::Flagged),
            Just(Flag::Deleted),
            Just(Flag::Draft),
            atom().prop_map(Flag::Keyword),
            "X[a-z]{1,5}".prop_map(|s| Flag::extension(s).unwrap()),
        ]
    }

    fn modseq() -> impl Strategy<Value = ModSeq> {
        (1u64..=i64::MAX as u64).prop_map(|n| ModSeq::new(n).unwrap())
    }

    fn search_key() -> impl Strategy<Value = SearchKey<'static>> {
        let leaf = prop_oneof![
            Just(SearchKey::All),
            Just(SearchKey::Seen),
            Just(SearchKey::Unseen),
            Just(SearchKey::Recent),
            Just(SearchKey::Undraft),
            astring().prop_map(SearchKey::From),
            astring().prop_map(SearchKey::Text),
            (astring(), astring()).prop_map(|(h, v)| SearchKey::Header(h, v)),
            date().prop_map(SearchKey::Since),
            date().prop_map(SearchKey::SentOn),
            any::<u64>().prop_map(SearchKey::Larger),
            any::<u64>().prop_map(SearchKey::Smaller),
            atom().prop_map(SearchKey::Keyword),
            atom().prop_map(SearchKey::Unkeyword),
            sequence_set().prop_map(SearchKey::Uid),
            sequence_set().prop_map(SearchKey::SequenceSet),
            (
                proptest::option::of((
                    flag(),
                    prop_oneof![
                        Just(EntryType::Private),
                        Just(EntryType::Shared),
                        Just(EntryType::All)
                    ]
                )),
                0u64..=i64::MAX as u64
            )
                .prop_map(|(entry, v)| SearchKey::ModSeq(SearchModSeq {
                    entry,
                    value: ModSeqValzer::new(v).unwrap()
                })),
        ];
        leaf.prop_recursive(4, 16, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(|k| !k),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| SearchKey::or(a, b)),
                vec(inner, 1..4).prop_map(|v| SearchKey::and(NonEmpty::new(v).unwrap())),
            ]
        })
    }

    fn keys() -> impl Strategy<Value = NonEmpty<SearchKey<'static>>> {
        vec(search_key(), 1..5).prop_map(|v| NonEmpty::new(v).unwrap())
    }

    fn charset() -> impl Strategy<Value = Charset<'static>> {
        prop_oneof!["UTF-8", "US-ASCII", "[a-z]{1,3} [a-z]{1,3}"]
            .prop_map(|s| Charset::new(s).unwrap())
    }

    fn part() -> impl Strategy<Value = Part> {
        vec(1u32..20, 1..4).prop_map(|v| {
            Part::new(v.into_iter().map(|n| NonZeroU32::new(n).unwrap()).collect()).unwrap()
        })
    }

    fn partial() -> impl Strategy<Value = Partial> {
        (0..=i64::MAX as u64, 1..=i64::MAX as u64).prop_map(|(start, len)| Partial {
            start,
            length: std::num::NonZeroU64::new(len).unwrap(),
        })
    }

    fn section() -> impl Strategy<Value = Section<'static>> {
        let fields = || vec(astring(), 1..4).prop_map(List::from);
        prop_oneof![
            part().prop_map(Section::Part),
            proptest::option::of(part()).prop_map(Section::Header),
            proptest::option::of(part()).prop_map(Section::Text),
            part().prop_map(Section::Mime),
            (proptest::option::of(part()), fields())
                .prop_map(|(p, f)| Section::header_fields(p, f).unwrap()),
            (proptest::option::of(part()), fields())
                .prop_map(|(p, f)| Section::header_fields_not(p, f).unwrap()),
        ]
    }

    fn fetch_attribute() -> impl Strategy<Value = FetchAttribute<'static>> {
        prop_oneof![
            Just(FetchAttribute::Envelope),
            Just(FetchAttribute::Flags),
            Just(FetchAttribute::InternalDate),
            Just(FetchAttribute::Rfc822),
            Just(FetchAttribute::Rfc822Header),
            Just(FetchAttribute::Rfc822Size),
            Just(FetchAttribute::Rfc822Text),
            Just(FetchAttribute::Body),
            Just(FetchAttribute::BodyStructure),
            Just(FetchAttribute::Uid),
            Just(FetchAttribute::ModSeq),
            (
                any::<bool>(),
                proptest::option::of(section()),
                proptest::option::of(partial())
            )
                .prop_map(|(peek, section, partial)| FetchAttribute::BodySection {
                    peek,
                    section,
                    partial
                }),
            (
                any::<bool>(),
                proptest::option::of(part()),
                proptest::option::of(partial())
            )
                .prop_map(|(peek, part, partial)| FetchAttribute::Binary {
                    peek,
                    part,
                    partial
                }),
            proptest::option::of(part()).prop_map(|part| FetchAttribute::BinarySize { part }),
        ]
    }

    fn fetch_items() -> impl Strategy<Value = FetchItems<'static>> {
        prop_oneof![
            Just(FetchItems::All),
            Just(FetchItems::Fast),
            Just(FetchItems::Full),
            vec(fetch_attribute(), 1..5)
                .prop_map(|v| FetchItems::Attributes(NonEmpty::new(v).unwrap())),
        ]
    }

    fn status_items() -> impl Strategy<Value = NonEmpty<StatusItem>> {
        vec(
            prop_oneof![
                Just(StatusItem::Messages),
                Just(StatusItem::Recent),
                Just(StatusItem::UidNext),
                Just(StatusItem::UidValidity),
                Just(StatusItem::Unseen),
                Just(StatusItem::Deleted),
                Just(StatusItem::Size),
                Just(StatusItem::HighestModSeq),
                Just(StatusItem::AppendLimit),
            ],
            1..5,
        )
        .prop_map(|v| NonEmpty::new(v).unwrap())
    }

    fn select_params() -> impl Strategy<Value = SelectParams> {
        (
            any::<bool>(),
            proptest::option::of((
                1u32..,
                modseq(),
                proptest::option::of(sequence_set()),
                proptest::option::of((sequence_set(), sequence_set())),
            )),
        )
            .prop_map(|(condstore, q)| SelectParams {
                condstore,
                qresync: q.map(|(v, m, known_uids, seq_match)| QResync {
                    uid_validity: NonZeroU32::new(v).unwrap(),
                    mod_seq: m,
                    known_uids,
                    seq_match,
                }),
            })
    }

    fn append_message() -> impl Strategy<Value = AppendMessage<'static>> {
        (
            vec(flag(), 0..3),
            proptest::option::of(date_time()),
            vec(any::<u8>(), 0..20),
            0u8..4,
            any::<bool>(),
        )
            .prop_map(|(flags, date_time, data, kind, sync)| {
                let mode = if sync {
                    LiteralMode::Sync
                } else {
                    LiteralMode::NonSync
                };
                let data = match kind {
                    0 => AppendData::Binary(Literal8::new(data, mode)),
                    1 => AppendData::Utf8(Literal8::new(data, mode)),
                    _ => {
                        let clean: Vec<u8> = data.into_iter().filter(|&b| b != 0).collect();
                        AppendData::Literal(Literal::new(clean, mode).unwrap())
                    }
                };
                AppendMessage {
                    flags: flags.into(),
                    date_time,
                    data,
                }
            })
    }

    fn body() -> impl Strategy<Value = CommandBody<'static>> {
        use CommandBody as C;
        prop_oneof![
            Just(C::Capability),
            Just(C::Noop),
            Just(C::Logout),
            Just(C::Idle),
            Just(C::Unselect),
            (
                atom(),
                proptest::option::of(
                    "([A-Za-z0-9+/]{4}){0,3}".prop_map(|s| Base64::new(s).unwrap())
                )
            )
                .prop_map(|(mechanism, initial_response)| C::Authenticate {
                    mechanism,
                    initial_response
                }),
            (astring(), astring()).prop_map(|(username, password)| C::Login { username, password }),
            (mailbox(), select_params(), any::<bool>()).prop_map(|(mailbox, params, ex)| {
                if ex {
                    C::Examine { mailbox, params }
                } else {
                    C::Select { mailbox, params }
                }
            }),
            (
                mailbox(),
                vec(
                    "(Drafts|Sent|Junk|X[a-z]{1,4})"
                        .prop_map(|s| imap_proto::flag::MailboxAttribute::new(s).unwrap()),
                    0..3
                )
            )
                .prop_map(|(mailbox, u)| C::Create {
                    mailbox,
                    special_use: u.into()
                }),
            (mailbox(), mailbox()).prop_map(|(from, to)| C::Rename { from, to }),
            mailbox().prop_map(|mailbox| C::Subscribe { mailbox }),
            (
                vec(
                    prop_oneof![
                        Just(ListSelectOption::Subscribed),
                        Just(ListSelectOption::Remote),
                        Just(ListSelectOption::RecursiveMatch),
                        Just(ListSelectOption::SpecialUse),
                    ],
                    0..3
                ),
                mailbox(),
                vec(list_mailbox(), 1..3),
                vec(
                    prop_oneof![
                        Just(ListReturnOption::Subscribed),
                        Just(ListReturnOption::Children),
                        Just(ListReturnOption::SpecialUse),
                        status_items().prop_map(ListReturnOption::Status),
                    ],
                    0..3
                )
            )
                .prop_map(|(mut s, reference, p, r)| {
                    // RFC 5258: RECURSIVEMATCH needs a base option
                    if s.contains(&ListSelectOption::RecursiveMatch)
                        && !s.iter().any(|o| {
                            matches!(
                                o,
                                ListSelectOption::Subscribed | ListSelectOption::SpecialUse
                            )
                        })
                    {
                        s.push(ListSelectOption::Subscribed);
                    }
                    (s, reference, p, r)
                })
                .prop_map(|(s, reference, p, r)| C::List {
                    selection: s.into(),
                    reference,
                    patterns: NonEmpty::new(p).unwrap(),
                    return_options: r.into(),
                }),
            (mailbox(), list_mailbox())
                .prop_map(|(reference, pattern)| C::Lsub { reference, pattern }),
            (mailbox(), status_items()).prop_map(|(mailbox, items)| C::Status { mailbox, items }),
            (mailbox(), vec(append_message(), 1..3)).prop_map(|(mailbox, m)| C::Append {
                mailbox,
                messages: NonEmptyVec::new(m).unwrap()
            }),
            sequence_set().prop_map(|uids| C::UidExpunge { uids }),
            (
                any::<bool>(),
                proptest::option::of(vec(
                    prop_oneof![
                        Just(SearchReturnOption::Min),
                        Just(SearchReturnOption::Max),
                        Just(SearchReturnOption::All),
                        Just(SearchReturnOption::Count),
                        Just(SearchReturnOption::Save),
                    ],
                    0..3
                )),
                proptest::option::of(charset()),
                keys()
            )
                .prop_map(|(uid, r, charset, criteria)| C::Search {
                    uid,
                    return_options: r.map(List::from),
                    charset,
                    criteria
                }),
            (
                any::<bool>(),
                sequence_set(),
                fetch_items(),
                proptest::option::of(modseq()),
                any::<bool>()
            )
                .prop_map(|(uid, sequence_set, items, changed_since, vanished)| {
                    C::Fetch {
                        uid,
                        sequence_set,
                        items,
                        // VANISHED only in UID FETCH with CHANGEDSINCE (RFC 7162)
                        vanished: vanished && uid && changed_since.is_some(),
                        changed_since,
                    }
                }),
            (
                any::<bool>(),
                sequence_set(),
                proptest::option::of(0u64..=i64::MAX as u64),
                prop_oneof![
                    Just(StoreKind::Replace),
                    Just(StoreKind::Add),
                    Just(StoreKind::Remove)
                ],
                any::<bool>(),
                vec(flag(), 0..4)
            )
                .prop_map(|(uid, sequence_set, u, kind, silent, flags)| C::Store {
                    uid,
                    sequence_set,
                    unchanged_since: u.map(|v| ModSeqValzer::new(v).unwrap()),
                    kind,
                    silent,
                    flags: flags.into(),
                }),
            (any::<bool>(), any::<bool>(), sequence_set(), mailbox()).prop_map(
                |(uid, mv, sequence_set, mailbox)| if mv {
                    C::Move {
                        uid,
                        sequence_set,
                        mailbox,
                    }
                } else {
                    C::Copy {
                        uid,
                        sequence_set,
                        mailbox,
                    }
                }
            ),
            vec(atom(), 1..4).prop_map(|v| C::Enable {
                capabilities: NonEmpty::new(v).unwrap()
            }),
            proptest::option::of(vec(
                (istring(), proptest::option::of(istring()).prop_map(NString)),
                0..3
            ))
            .prop_map(|p| C::Id {
                parameters: p.map(List::from)
            }),
            astring().prop_map(|root| C::GetQuota { root }),
            mailbox().prop_map(|mailbox| C::GetQuotaRoot { mailbox }),
            (astring(), vec((atom(), 0u64..=i64::MAX as u64), 0..3)).prop_map(|(root, l)| {
                C::SetQuota {
                    root,
                    limits: l
                        .into_iter()
                        .map(|(a, n)| QuotaLimit::new(a, n).unwrap())
                        .collect(),
                }
            }),
            (
                any::<bool>(),
                vec(
                    (
                        any::<bool>(),
                        prop_oneof![
                            Just(SortKey::Arrival),
                            Just(SortKey::Cc),
                            Just(SortKey::Date),
                            Just(SortKey::From),
                            Just(SortKey::Size),
                            Just(SortKey::Subject),
                            Just(SortKey::To),
                            Just(SortKey::DisplayFrom),
                            Just(SortKey::DisplayTo),
                        ]
                    )
                        .prop_map(|(reverse, key)| SortCriterion { reverse, key }),
                    1..3
                ),
                charset(),
                keys()
            )
                .prop_map(|(uid, c, charset, search)| C::Sort {
                    uid,
                    criteria: NonEmpty::new(c).unwrap(),
                    charset,
                    search
                }),
            (
                any::<bool>(),
                prop_oneof![
                    Just(ThreadAlgorithm::OrderedSubject),
                    Just(ThreadAlgorithm::References),
                    "X-[A-Z]{1,5}".prop_map(|s| ThreadAlgorithm::Other(Atom::new(s).unwrap())),
                ],
                charset(),
                keys()
            )
                .prop_map(|(uid, algorithm, charset, search)| C::Thread {
                    uid,
                    algorithm,
                    charset,
                    search
                }),
            atom().prop_map(|algorithm| C::Compress { algorithm }),
        ]
    }

    fn tag() -> impl Strategy<Value = Tag<'static>> {
        "[A-Za-z0-9.]{1,6}".prop_map(|s| Tag::new(s).unwrap())
    }

    proptest! {
        #[test]
        fn generated_commands_round_trip(tag in tag(), body in body()) {
            let cmd = Command::new(tag, body);
            // A quoted string with 8-bit text is written as a literal without UTF8=ACCEPT,
            // and the two forms are different values: generated values encode as they are
            // with `utf8` on.
            let mut options = EncodeOptions::default();
            options.utf8 = true;
            let mut w = Writer::new(options);
            cmd.encode(&mut w);
            let e = w.finish();
            let parsed = Command::parse(e.as_bytes());
            prop_assert!(parsed.is_ok(), "{:?}: {:?}", String::from_utf8_lossy(e.as_bytes()), parsed);
            prop_assert_eq!(parsed.unwrap().into_static(), cmd.clone());
            prop_assert_eq!(cmd.clone().into_static(), cmd);
        }

        #[test]
        fn mutated_commands_never_panic(
            tag in tag(),
            body in body(),
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            cut in any::<bool>(),
        ) {
            let mut bytes = Command::new(tag, body).to_bytes();
            let i = at.index(bytes.len());
            if cut {
                bytes.truncate(i);
            } else {
                bytes[i] = byte;
            }
            if let Ok(cmd) = Command::parse(&bytes) {
                let again = cmd.to_bytes();
                let reparsed = Command::parse(&again);
                prop_assert!(reparsed.is_ok(), "{:?}", String::from_utf8_lossy(&again));
                prop_assert_eq!(reparsed.unwrap().into_static(), cmd.into_static());
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..64)) {
            let mut input = b"A1 ".to_vec();
            input.extend_from_slice(&bytes);
            input.extend_from_slice(b"\r\n");
            if let Ok(cmd) = Command::parse(&input) {
                let bytes = cmd.to_bytes();
                let again = Command::parse(&bytes).unwrap();
                prop_assert_eq!(again.into_static(), cmd.clone().into_static());
            }
        }
    }
}
