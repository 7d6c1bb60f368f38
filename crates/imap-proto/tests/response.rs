//! Server-to-client messages: known answers for every response kind (bytes -> value -> bytes
//! -> value), the examples of RFC 3501 and RFC 9051 section 7, error offsets, the server
//! quirks with their switches, proptest round trips and constructor refusals.

use std::borrow::Cow;
use std::num::NonZeroU32;

use imap_proto::core::{AString, Atom, Charset, IString, NString, Quoted, Tag, Text};
use imap_proto::flag::{Flag, FlagPerm, MailboxAttribute};
use imap_proto::mailbox::Mailbox;
use imap_proto::response::{
    Capability, Code, Continuation, ContinuationText, Data, Delimiter, ESearch, ESearchItem,
    Greeting, GreetingKind, ListData, ListExtendedItem, Namespace, NamespaceDescr,
    NamespaceExtension, QuotaResource, Resource, Response, StatusKind, StatusResponse, StatusValue,
    Thread,
};
use imap_proto::sequence::{SequenceSet, UidSet};
use imap_proto::{Encode, ErrorKind, List, Quirks};
use proptest::prelude::*;

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

/// Parse under both switch sets, encode, parse again: the same value each time. Returns the
/// value.
fn round_trip(wire: &[u8]) -> Response<'static> {
    let lenient = Response::parse(wire)
        .unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(wire)));
    let strict = Response::parse_with(wire, Quirks::STRICT)
        .unwrap_or_else(|e| panic!("strict {:?}: {e}", String::from_utf8_lossy(wire)));
    assert_eq!(lenient, strict, "{:?}", String::from_utf8_lossy(wire));
    let bytes = lenient.to_bytes();
    let lenient = lenient.into_static();
    let again = Response::parse_with(&bytes, Quirks::STRICT)
        .unwrap_or_else(|e| panic!("re-parse {:?}: {e}", String::from_utf8_lossy(&bytes)))
        .into_static();
    assert_eq!(again, lenient, "{:?}", String::from_utf8_lossy(&bytes));
    lenient
}

/// [`round_trip`], and the encoding is the input byte for byte.
fn canonical(wire: &[u8]) -> Response<'static> {
    let r = round_trip(wire);
    assert_eq!(
        String::from_utf8_lossy(&r.to_bytes()),
        String::from_utf8_lossy(wire)
    );
    r
}

fn status(r: &Response<'_>) -> StatusResponse<'static> {
    match r {
        Response::Status(s) => s.clone().into_static(),
        other => panic!("not a status response: {other:?}"),
    }
}

fn data(r: Response<'static>) -> Data<'static> {
    match r {
        Response::Data(d) => d,
        other => panic!("not data: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Status responses and greetings

#[test]
fn status_responses() {
    let s = status(&canonical(b"A1 OK [READ-WRITE] SELECT completed\r\n"));
    assert_eq!(s.tag().unwrap().as_str(), "A1");
    assert_eq!(s.kind(), StatusKind::Ok);
    assert_eq!(s.code(), Some(&Code::ReadWrite));
    assert_eq!(s.text().unwrap().as_str(), "SELECT completed");

    let s = status(&canonical(b"* BYE Autologout; idle for too long\r\n"));
    assert_eq!((s.tag(), s.kind()), (None, StatusKind::Bye));

    // RFC 9051 makes the text optional: the SP stays.
    let s = status(&canonical(b"A2 NO \r\n"));
    assert_eq!((s.code(), s.text()), (None, None));
    let s = status(&canonical(b"* OK [UIDNEXT 4392] \r\n"));
    assert_eq!((s.code(), s.text()), (Some(&Code::UidNext(nz(4392))), None));

    // Keywords are case-insensitive; the encoder writes them in upper case.
    let s = status(&round_trip(b"a3 ok [read-only] done\r\n"));
    assert_eq!(s.code(), Some(&Code::ReadOnly));
    assert_eq!(
        Response::Status(s).to_bytes(),
        b"a3 OK [READ-ONLY] done\r\n"
    );

    // A `[` that does not open a well-formed code is text (RFC 3501 section 9:
    // `["[" resp-text-code "]" SP] text`).
    let s = status(&canonical(b"* NO [TRYCREATE\r\n"));
    assert_eq!((s.code(), s.text().unwrap().as_str()), (None, "[TRYCREATE"));
    let s = status(&canonical(b"* NO [FOO(BAR)] x\r\n"));
    assert_eq!(s.code(), None);
    // Microsoft Exchange's bracketed diagnostics are no resp-text-code: text, in both modes
    // (ruby/net-imap#597).
    let s = status(&canonical(
        b"RUBY0001 OK [Error=\"Microsoft.Exchange.Data.Storage.WrongServerException: Cross \
          Server access is not allowed\" Proxy=X.PROD.OUTLOOK.COM:1993:SSL Service=Imap4] \
          AUTHENTICATE completed.\r\n",
    ));
    assert_eq!(s.code(), None);
    assert!(s.text().unwrap().as_str().starts_with("[Error="));

    // UTF-8 text (RFC 9051).
    let s = status(&canonical("* OK Grüße\r\n".as_bytes()));
    assert_eq!(s.text().unwrap().as_str(), "Grüße");
}

#[test]
fn greetings() {
    for (wire, kind) in [
        (&b"* OK IMAP4rev1 Service Ready\r\n"[..], GreetingKind::Ok),
        (
            b"* PREAUTH IMAP4rev1 server logged in as Smith\r\n",
            GreetingKind::PreAuth,
        ),
        (
            b"* BYE Autologout; idle for too long\r\n",
            GreetingKind::Bye,
        ),
        (
            b"* OK [CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI LOGINDISABLED] ready\r\n",
            GreetingKind::Ok,
        ),
    ] {
        let g = Greeting::parse_with(wire, Quirks::STRICT).unwrap();
        assert_eq!(g.kind(), kind);
        assert_eq!(g.to_bytes(), wire);
        let bytes = g.to_bytes();
        assert_eq!(
            Greeting::parse(&bytes).unwrap().into_static(),
            g.clone().into_static()
        );
    }
    let g = Greeting::parse(b"* OK [CAPABILITY IMAP4rev1 IDLE] hi\r\n").unwrap();
    assert_eq!(
        g.code(),
        Some(&Code::Capability(
            vec![Capability::Imap4Rev1, Capability::Idle]
                .try_into()
                .unwrap()
        ))
    );
    // A tagged line or NO is not a greeting.
    assert_eq!(Greeting::parse(b"A1 OK hi\r\n").unwrap_err().offset(), 0);
    let e = Greeting::parse(b"* NO go away\r\n").unwrap_err();
    assert_eq!((e.offset(), e.expected()), (2, "OK, PREAUTH or BYE"));
}

#[test]
fn response_codes() {
    let cases: Vec<(&str, Code<'static>)> = vec![
        ("ALERT", Code::Alert),
        ("BADCHARSET", Code::BadCharset(List::new())),
        (
            "BADCHARSET (UTF-8 \"ISO-8859-1\")",
            Code::BadCharset(List::from(vec![
                Charset::new("UTF-8").unwrap(),
                Charset::Quoted(Quoted::new(&b"ISO-8859-1"[..]).unwrap()),
            ])),
        ),
        ("PARSE", Code::Parse),
        (
            "PERMANENTFLAGS (\\Deleted \\Seen \\*)",
            Code::PermanentFlags(List::from(vec![
                FlagPerm::Flag(Flag::Deleted),
                FlagPerm::Flag(Flag::Seen),
                FlagPerm::Wildcard,
            ])),
        ),
        ("PERMANENTFLAGS ()", Code::PermanentFlags(List::new())),
        ("READ-ONLY", Code::ReadOnly),
        ("READ-WRITE", Code::ReadWrite),
        ("TRYCREATE", Code::TryCreate),
        ("UIDNEXT 4392", Code::UidNext(nz(4392))),
        (
            "UIDVALIDITY 3857529045",
            Code::UidValidity(nz(3_857_529_045)),
        ),
        ("UNSEEN 12", Code::Unseen(nz(12))),
        ("UNAVAILABLE", Code::Unavailable),
        ("AUTHENTICATIONFAILED", Code::AuthenticationFailed),
        ("AUTHORIZATIONFAILED", Code::AuthorizationFailed),
        ("EXPIRED", Code::Expired),
        ("PRIVACYREQUIRED", Code::PrivacyRequired),
        ("CONTACTADMIN", Code::ContactAdmin),
        ("NOPERM", Code::NoPerm),
        ("INUSE", Code::InUse),
        ("EXPUNGEISSUED", Code::ExpungeIssued),
        ("CORRUPTION", Code::Corruption),
        ("SERVERBUG", Code::ServerBug),
        ("CLIENTBUG", Code::ClientBug),
        ("CANNOT", Code::Cannot),
        ("LIMIT", Code::Limit),
        ("OVERQUOTA", Code::OverQuota),
        ("ALREADYEXISTS", Code::AlreadyExists),
        ("NONEXISTENT", Code::NonExistent),
        (
            "APPENDUID 38505 3955",
            Code::AppendUid {
                uid_validity: nz(38505),
                uids: UidSet::parse(b"3955").unwrap(),
            },
        ),
        (
            "COPYUID 38505 304,319:320 3956:3958",
            Code::CopyUid {
                uid_validity: nz(38505),
                source: UidSet::parse(b"304,319:320").unwrap(),
                destination: UidSet::parse(b"3956:3958").unwrap(),
            },
        ),
        ("UIDNOTSTICKY", Code::UidNotSticky),
        (
            "HIGHESTMODSEQ 715194045007",
            Code::HighestModSeq(715_194_045_007),
        ),
        ("NOMODSEQ", Code::NoModSeq),
        (
            "MODIFIED 7,9",
            Code::Modified(SequenceSet::parse(b"7,9").unwrap()),
        ),
        ("CLOSED", Code::Closed),
        ("TOOBIG", Code::TooBig),
        ("NOTSAVED", Code::NotSaved),
        ("COMPRESSIONACTIVE", Code::CompressionActive),
        ("HASCHILDREN", Code::HasChildren),
        ("UNKNOWN-CTE", Code::UnknownCte),
        ("USEATTR", Code::UseAttr),
        (
            "CAPABILITY IMAP4rev1 LITERAL+ SASL-IR",
            Code::Capability(
                vec![
                    Capability::Imap4Rev1,
                    Capability::LiteralPlus,
                    Capability::SaslIr,
                ]
                .try_into()
                .unwrap(),
            ),
        ),
        // Unknown codes are kept, with their text.
        ("XFOO", Code::other("XFOO", None).unwrap()),
        (
            "WEBALERT https://example.com/x?y=1",
            Code::other("WEBALERT", Some(Cow::Borrowed("https://example.com/x?y=1"))).unwrap(),
        ),
        // A known code whose arguments do not match its rule is the generic alternative.
        (
            "UIDNEXT abc",
            Code::Other {
                name: Atom::new("UIDNEXT").unwrap(),
                text: Some(imap_proto::response::CodeText::new("abc").unwrap()),
            },
        ),
        (
            "UNSEEN",
            Code::Other {
                name: Atom::new("UNSEEN").unwrap(),
                text: None,
            },
        ),
    ];
    for (code, want) in cases {
        let wire = format!("A1 NO [{code}] text\r\n");
        let s = status(&canonical(wire.as_bytes()));
        assert_eq!(s.code(), Some(&want), "{code}");
    }
}

// ---------------------------------------------------------------------------------------
// Continuation requests

#[test]
fn continuation_requests() {
    let r = canonical(b"+ Ready for additional command text\r\n");
    let Response::Continuation(Continuation::Text(t)) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(
        (t.code(), t.text().unwrap().as_str()),
        (None, "Ready for additional command text")
    );

    let r = canonical(b"+ [ALERT] go ahead\r\n");
    let Response::Continuation(Continuation::Text(t)) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(t.code(), Some(&Code::Alert));

    // AUTHENTICATE challenges are base64, decoded (RFC 9051 section 6.2.2).
    let r = canonical(b"+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UuZXhhbXBsZS5uZXQ+\r\n");
    assert_eq!(
        r,
        Response::Continuation(Continuation::base64(
            &b"<1896.697170952@postoffice.example.net>"[..]
        ))
    );
    // `+ ` alone is an empty challenge.
    assert_eq!(
        canonical(b"+ \r\n"),
        Response::Continuation(Continuation::base64(&b""[..]))
    );
    // Text that is not base64 (length not a multiple of four) stays text.
    let r = canonical(b"+ idling\r\n");
    assert!(matches!(r, Response::Continuation(Continuation::Text(_))));
}

// ---------------------------------------------------------------------------------------
// Untagged data

#[test]
fn capability_data() {
    let d = data(canonical(
        b"* CAPABILITY IMAP4rev1 IMAP4rev2 STARTTLS AUTH=GSSAPI AUTH=PLAIN LOGINDISABLED IDLE \
          LITERAL+ LITERAL- UIDPLUS MOVE ENABLE NAMESPACE ID UNSELECT SASL-IR SPECIAL-USE \
          LIST-EXTENDED LIST-STATUS CHILDREN ESEARCH SEARCHRES CONDSTORE QRESYNC BINARY QUOTA \
          QUOTA=RES-STORAGE QUOTA=RES-MESSAGE STATUS=SIZE APPENDLIMIT=35651584 MULTIAPPEND SORT \
          THREAD=REFERENCES THREAD=ORDEREDSUBJECT UTF8=ACCEPT COMPRESS=DEFLATE XPIG-LATIN\r\n",
    ));
    let Data::Capability(caps) = d else { panic!() };
    let a = |s| Atom::new(s).unwrap();
    assert_eq!(
        caps.into_vec(),
        vec![
            Capability::Imap4Rev1,
            Capability::Imap4Rev2,
            Capability::StartTls,
            Capability::Auth(a("GSSAPI")),
            Capability::Auth(a("PLAIN")),
            Capability::LoginDisabled,
            Capability::Idle,
            Capability::LiteralPlus,
            Capability::LiteralMinus,
            Capability::UidPlus,
            Capability::Move,
            Capability::Enable,
            Capability::Namespace,
            Capability::Id,
            Capability::Unselect,
            Capability::SaslIr,
            Capability::SpecialUse,
            Capability::ListExtended,
            Capability::ListStatus,
            Capability::Children,
            Capability::Esearch,
            Capability::SearchRes,
            Capability::CondStore,
            Capability::QResync,
            Capability::Binary,
            Capability::Quota,
            Capability::QuotaRes(a("STORAGE")),
            Capability::QuotaRes(a("MESSAGE")),
            Capability::StatusSize,
            Capability::AppendLimit(Some(35_651_584)),
            Capability::MultiAppend,
            Capability::Sort,
            Capability::Thread(a("REFERENCES")),
            Capability::Thread(a("ORDEREDSUBJECT")),
            Capability::Utf8Accept,
            Capability::Compress(a("DEFLATE")),
            Capability::Other(a("XPIG-LATIN")),
        ]
    );
    let d = data(canonical(b"* ENABLED CONDSTORE QRESYNC\r\n"));
    assert_eq!(
        d,
        Data::Enabled(List::from(vec![Capability::CondStore, Capability::QResync]))
    );
    assert_eq!(
        data(canonical(b"* ENABLED\r\n")),
        Data::Enabled(List::new())
    );
}

#[test]
fn list_data() {
    let d = data(canonical(b"* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n"));
    let Data::List(l) = d else { panic!() };
    assert_eq!(&l.attributes[..], &[MailboxAttribute::Noselect]);
    assert_eq!(l.delimiter.map(Delimiter::as_char), Some('/'));
    assert_eq!(l.mailbox.as_bytes(), b"~/Mail/foo");
    assert!(l.extended.is_empty());

    // NIL delimiter; a quoted INBOX is INBOX (re-encoded as an atom).
    let d = data(round_trip(b"* LIST (\\NoInferiors) NIL \"INBOX\"\r\n"));
    let Data::List(l) = d else { panic!() };
    assert_eq!((l.delimiter, l.mailbox), (None, Mailbox::Inbox));

    // An escaped delimiter.
    let d = data(canonical(b"* LSUB () \"\\\\\" #news.comp.mail.misc\r\n"));
    let Data::Lsub(l) = d else { panic!() };
    assert_eq!(l.delimiter.unwrap().as_char(), '\\');

    // LIST-EXTENDED (RFC 5258): CHILDINFO, OLDNAME (RFC 9051), and unknown items kept.
    let d = data(canonical(
        b"* LIST (\\NonExistent \\HasChildren) \"/\" Foo (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n",
    ));
    let Data::List(l) = d else { panic!() };
    assert_eq!(
        &l.extended[..],
        &[ListExtendedItem::ChildInfo(List::from(vec![
            Atom::new("SUBSCRIBED").unwrap()
        ]))]
    );
    let d = data(canonical(
        b"* LIST () \"/\" NewName (\"OLDNAME\" (OldName))\r\n",
    ));
    let Data::List(l) = d else { panic!() };
    assert_eq!(
        &l.extended[..],
        &[ListExtendedItem::OldName(
            Mailbox::from_utf8("OldName", false).unwrap()
        )]
    );
    let d = data(canonical(
        b"* LIST (\\Sent) \"/\" Sent (X-THING (1 (a \"b c\")) \"X-N\" 4:7)\r\n",
    ));
    let Data::List(l) = d else { panic!() };
    assert_eq!(l.attributes[0], MailboxAttribute::Sent);
    assert!(
        matches!(&l.extended[0], ListExtendedItem::Other { raw, .. } if &raw[..] == b"(1 (a \"b c\"))")
    );
    assert!(matches!(&l.extended[1], ListExtendedItem::Other { raw, .. } if &raw[..] == b"4:7"));
    // Nested extension values are bounded (MAX_DEPTH), not recursed without end.
    let deep = format!(
        "* LIST () \"/\" x (X {}a{})\r\n",
        "(".repeat(100),
        ")".repeat(100)
    );
    assert_eq!(
        Response::parse(deep.as_bytes()).unwrap_err().kind(),
        ErrorKind::TooDeep
    );
    let ok = format!(
        "* LIST () \"/\" x (X {}a{})\r\n",
        "(".repeat(10),
        ")".repeat(10)
    );
    round_trip(ok.as_bytes());
}

#[test]
fn status_data() {
    let d = data(canonical(
        b"* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n",
    ));
    assert_eq!(
        d,
        Data::Status {
            mailbox: Mailbox::from_utf8("blurdybloop", false).unwrap(),
            items: List::from(vec![
                StatusValue::Messages(231),
                StatusValue::UidNext(44292)
            ]),
        }
    );
    let d = data(canonical(
        b"* STATUS INBOX (MESSAGES 17 RECENT 0 UIDNEXT 4 UIDVALIDITY 1 UNSEEN 2 DELETED 3 \
          SIZE 44827 HIGHESTMODSEQ 7011231777 APPENDLIMIT NIL MAILBOXID (F2212ea87))\r\n",
    ));
    let Data::Status { items, .. } = d else {
        panic!()
    };
    assert_eq!(
        &items[..8],
        &[
            StatusValue::Messages(17),
            StatusValue::Recent(0),
            StatusValue::UidNext(4),
            StatusValue::UidValidity(1),
            StatusValue::Unseen(2),
            StatusValue::Deleted(3),
            StatusValue::Size(44827),
            StatusValue::HighestModSeq(7_011_231_777),
        ]
    );
    assert_eq!(items[8], StatusValue::AppendLimit(None));
    assert!(
        matches!(&items[9], StatusValue::Other { name, raw } if name.as_str() == "MAILBOXID" && &raw[..] == b"(F2212ea87)")
    );
    assert_eq!(
        data(canonical(b"* STATUS x (APPENDLIMIT 1000)\r\n")),
        Data::Status {
            mailbox: Mailbox::from_utf8("x", false).unwrap(),
            items: List::from(vec![StatusValue::AppendLimit(Some(1000))]),
        }
    );
    assert!(
        matches!(data(canonical(b"* STATUS x ()\r\n")), Data::Status { items, .. } if items.is_empty())
    );
}

#[test]
fn search_sort_esearch() {
    assert_eq!(
        data(canonical(b"* SEARCH 2 3 6\r\n")),
        Data::Search {
            ids: vec![nz(2), nz(3), nz(6)],
            modseq: None
        }
    );
    assert_eq!(
        data(canonical(b"* SEARCH\r\n")),
        Data::Search {
            ids: vec![],
            modseq: None
        }
    );
    assert_eq!(
        data(canonical(
            b"* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)\r\n"
        )),
        Data::Search {
            ids: [2, 5, 6, 7, 11, 12, 18, 19, 20, 23].map(nz).to_vec(),
            modseq: Some(917_162_500)
        }
    );
    assert_eq!(
        data(canonical(b"* SORT 2 84 882\r\n")),
        Data::Sort {
            ids: vec![nz(2), nz(84), nz(882)],
            modseq: None
        }
    );
    let d = data(canonical(b"* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n"));
    assert_eq!(
        d,
        Data::ESearch(ESearch {
            tag: Some(AString::String(IString::from_bytes(&b"A282"[..]).unwrap())),
            uid: false,
            items: List::from(vec![ESearchItem::Min(nz(2)), ESearchItem::Count(3)]),
        })
    );
    let d = data(canonical(b"* ESEARCH UID COUNT 17 ALL 4:18,21,28\r\n"));
    let Data::ESearch(e) = d else { panic!() };
    assert!(e.uid && e.tag.is_none());
    assert_eq!(
        e.items[1],
        ESearchItem::All(SequenceSet::parse(b"4:18,21,28").unwrap())
    );
    let d = data(canonical(
        b"* ESEARCH (TAG \"A00000008\") UID ALL 343:393,395:400 MODSEQ 41506 MAX 400 XPARTIAL (1:10 5)\r\n",
    ));
    let Data::ESearch(e) = d else { panic!() };
    assert_eq!(e.items[1], ESearchItem::ModSeq(41506));
    assert_eq!(e.items[2], ESearchItem::Max(nz(400)));
    assert!(
        matches!(&e.items[3], ESearchItem::Other { name, raw } if name.as_str() == "XPARTIAL" && &raw[..] == b"(1:10 5)")
    );
    assert!(matches!(data(canonical(b"* ESEARCH\r\n")), Data::ESearch(e) if e.items.is_empty()));
}

#[test]
fn thread_data() {
    let d = data(canonical(b"* THREAD (2)(3 6 (4 23)(44 7 96))\r\n"));
    let Data::Thread(t) = d else { panic!() };
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].members(), &[nz(2)]);
    assert_eq!(t[1].members(), &[nz(3), nz(6)]);
    assert_eq!(t[1].children().len(), 2);
    assert_eq!(t[1].children()[1].members(), &[nz(44), nz(7), nz(96)]);
    let d = data(canonical(b"* THREAD ((3)(5))\r\n"));
    let Data::Thread(t) = d else { panic!() };
    assert!(t[0].members().is_empty());
    assert_eq!(data(canonical(b"* THREAD\r\n")), Data::Thread(vec![]));
    // thread-nested needs two lists.
    let e = Response::parse(b"* THREAD (3 (4))\r\n").unwrap_err();
    assert_eq!(
        (e.offset(), e.expected()),
        (12, "thread-nested (2*thread-list)")
    );
    // Nesting is bounded.
    let deep = format!("* THREAD {}1{}\r\n", "((1)".repeat(100), ")".repeat(100));
    assert_eq!(
        Response::parse(deep.as_bytes()).unwrap_err().kind(),
        ErrorKind::TooDeep
    );
}

#[test]
fn message_counts_flags_vanished() {
    assert_eq!(data(canonical(b"* 23 EXISTS\r\n")), Data::Exists(23));
    assert_eq!(data(canonical(b"* 0 EXISTS\r\n")), Data::Exists(0));
    assert_eq!(data(canonical(b"* 5 RECENT\r\n")), Data::Recent(5));
    assert_eq!(data(canonical(b"* 44 EXPUNGE\r\n")), Data::Expunge(nz(44)));
    assert_eq!(
        data(canonical(
            b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n"
        )),
        Data::Flags(List::from(vec![
            Flag::Answered,
            Flag::Flagged,
            Flag::Deleted,
            Flag::Seen,
            Flag::Draft,
            Flag::keyword("$Forwarded").unwrap(),
        ]))
    );
    assert_eq!(
        data(canonical(b"* VANISHED (EARLIER) 300:310,405,411\r\n")),
        Data::Vanished {
            earlier: true,
            uids: UidSet::parse(b"300:310,405,411").unwrap()
        }
    );
    assert_eq!(
        data(canonical(b"* VANISHED 405,407,410,425\r\n")),
        Data::Vanished {
            earlier: false,
            uids: UidSet::parse(b"405,407,410,425").unwrap()
        }
    );
}

#[test]
fn fetch_data() {
    let d = data(canonical(b"* 12 FETCH (FLAGS (\\Seen) UID 4827)\r\n"));
    let Data::Fetch { seq, items } = d else {
        panic!()
    };
    assert_eq!((seq, items.len()), (nz(12), 2));
    // FETCH and EXPUNGE take nz-number.
    let e = Response::parse(b"* 0 FETCH (UID 1)\r\n").unwrap_err();
    assert_eq!((e.offset(), e.kind()), (2, ErrorKind::Number));
    let e = Response::parse(b"* 0 EXPUNGE\r\n").unwrap_err();
    assert_eq!((e.offset(), e.kind()), (2, ErrorKind::Number));
}

/// The FETCH response of the RFC 3501 section 8 sample session (ENVELOPE and BODY).
const FETCH_ENVELOPE_BODY: &[u8] = b"* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" \
RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \
\"IMAP4rev1 WG mtg summary and minutes\" ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((NIL NIL \"imap\" \"cac.washington.edu\")) ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")\
(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL \"<B27397-0100000@cac.washington.edu>\") \
BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n";

#[test]
fn fetch_with_envelope_bodystructure_and_literals() {
    let d = data(round_trip(FETCH_ENVELOPE_BODY));
    let Data::Fetch { seq, items } = d else {
        panic!()
    };
    assert_eq!((seq, items.len()), (nz(12), 5));
    let d = data(round_trip(
        b"* 3 FETCH (UID 9 BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 23)\
(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\") \"<960723163407.20117h@cac.washington.edu>\" \
\"Compiler diff\" \"BASE64\" 4554 73) \"MIXED\") MODSEQ (12121231000))\r\n",
    ));
    let Data::Fetch { items, .. } = d else {
        panic!()
    };
    assert_eq!(items.len(), 3);
    // A body section as a literal; the literal's bytes are kept.
    let d = data(round_trip(
        b"* 12 FETCH (BODY[HEADER] {12}\r\nSubject: x\r\n UID 4)\r\n",
    ));
    let Data::Fetch { items, .. } = d else {
        panic!()
    };
    assert_eq!(items.len(), 2);
    // BINARY (RFC 3516) with a literal8 holding a NUL.
    round_trip(b"* 2 FETCH (BINARY[1] ~{5}\r\nab\x00cd)\r\n");
}

#[test]
fn namespace_id_quota() {
    let d = data(canonical(
        b"* NAMESPACE ((\"\" \"/\")) ((\"~\" \"/\")) ((\"#shared/\" \"/\")(\"#public/\" \"/\")(\"#news.\" \".\"))\r\n",
    ));
    let Data::Namespace(n) = d else { panic!() };
    assert_eq!(n.personal().unwrap()[0].prefix.data(), b"");
    assert_eq!(n.other().unwrap()[0].prefix.data(), b"~");
    assert_eq!(n.shared().unwrap().len(), 3);
    assert_eq!(n.shared().unwrap()[2].delimiter.unwrap().as_char(), '.');
    let d = data(canonical(b"* NAMESPACE NIL NIL NIL\r\n"));
    assert_eq!(
        d,
        Data::Namespace(Namespace::new(None, None, None).unwrap())
    );
    let d = data(canonical(
        b"* NAMESPACE ((\"\" \"/\")(\"#mh/\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\"))) NIL NIL\r\n",
    ));
    let Data::Namespace(n) = d else { panic!() };
    let ext = &n.personal().unwrap()[1].extensions[0];
    assert_eq!(ext.name().data(), b"X-PARAM");
    assert_eq!(ext.values().len(), 2);

    let d = data(canonical(
        b"* ID (\"name\" \"Cyrus\" \"version\" \"1.5\" \"os\" NIL \"support-url\" \"mailto:cyrus-bugs+@andrew.cmu.edu\")\r\n",
    ));
    let Data::Id(Some(params)) = d else { panic!() };
    assert_eq!(params.len(), 4);
    assert_eq!(params[2].1, NString(None));
    assert_eq!(data(canonical(b"* ID NIL\r\n")), Data::Id(None));
    assert_eq!(data(canonical(b"* ID ()\r\n")), Data::Id(Some(vec![])));

    let d = data(canonical(b"* QUOTA \"\" (STORAGE 10 512)\r\n"));
    assert_eq!(
        d,
        Data::Quota {
            root: AString::String(IString::from_bytes(&b""[..]).unwrap()),
            resources: List::from(vec![QuotaResource {
                resource: Resource::Storage,
                usage: 10,
                limit: 512
            }]),
        }
    );
    let d = data(canonical(
        b"* QUOTA #user/alice (STORAGE 54 111 MESSAGE 42 1000 MAILBOX 3 10 ANNOTATION-STORAGE 1 2 X-FOO 0 1)\r\n",
    ));
    let Data::Quota { resources, .. } = d else {
        panic!()
    };
    assert_eq!(resources[3].resource, Resource::AnnotationStorage);
    assert_eq!(
        resources[4].resource,
        Resource::Other(Atom::new("X-FOO").unwrap())
    );
    let d = data(canonical(b"* QUOTAROOT INBOX \"\"\r\n"));
    let Data::QuotaRoot { mailbox, roots } = d else {
        panic!()
    };
    assert_eq!((mailbox, roots.len()), (Mailbox::Inbox, 1));
    let d = data(canonical(b"* QUOTAROOT comp.mail.mime\r\n"));
    assert!(matches!(d, Data::QuotaRoot { roots, .. } if roots.is_empty()));
}

#[test]
fn unknown_untagged_responses_are_kept() {
    let d = data(canonical(b"* XAPPLEPUSHSERVICE aps-version 2\r\n"));
    assert!(
        matches!(&d, Data::Other { name, raw } if name.as_str() == "XAPPLEPUSHSERVICE" && &raw[..] == b"XAPPLEPUSHSERVICE aps-version 2")
    );
    let d = data(canonical(b"* 3 XMSGEVENT (A {3}\r\nabc)\r\n"));
    assert!(
        matches!(&d, Data::Other { name, raw } if name.as_str() == "XMSGEVENT" && &raw[..] == b"3 XMSGEVENT (A {3}\r\nabc)")
    );
    // Its CRLFs other than the last must close literal headers, as the framer cut it.
    let e = Response::parse(b"* XFOO a\r\n* 5 EXISTS\r\n").unwrap_err();
    assert_eq!((e.offset(), e.expected()), (8, "end of message"));
    let e = Response::parse(b"* XFOO a\nb\r\n").unwrap_err();
    assert_eq!((e.offset(), e.expected()), (8, "CRLF"));
    let e = Response::parse(b"* XFOO {10}\r\nabc\r\n").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Incomplete);
    let e = Response::parse(b"* XFOO {99999999999999999999999}\r\nabc\r\n").unwrap_err();
    assert_eq!(e.offset(), 32);
    canonical(b"* XFOO {4+}\r\na\r\nb ~{2}\r\n\r\n\r\n");
    // Responses no RFC defines, with and without a number (ruby/net-imap's NOOP cases).
    assert!(
        matches!(data(canonical(b"* NOOP\r\n")), Data::Other { name, .. } if name.as_str() == "NOOP")
    );
    let d = data(canonical(b"* 86 NOOP froopy snood\r\n"));
    assert!(
        matches!(&d, Data::Other { name, raw } if name.as_str() == "NOOP" && &raw[..] == b"86 NOOP froopy snood")
    );
    let d = data(canonical(b"* METADATA\r\n"));
    assert_eq!(d, Data::other(&b"METADATA"[..]).unwrap());
}

#[test]
fn parsed_values_borrow_from_the_input() {
    // The workspace forbids `unsafe`, so the allocation count itself is taken by the
    // benchmark's counting allocator (benches/); here, what a parse returns borrows.
    let wire = b"A142 OK [READ-WRITE] SELECT completed\r\n";
    let Response::Status(s) = Response::parse(wire).unwrap() else {
        panic!()
    };
    let (tag, _, _, text) = s.into_parts();
    assert!(matches!(tag.unwrap().into_inner(), Cow::Borrowed("A142")));
    assert!(matches!(
        text.unwrap().into_inner(),
        Cow::Borrowed("SELECT completed")
    ));
    let wire = b"* XUNKNOWN some data\r\n";
    let Response::Data(Data::Other { raw, .. }) = Response::parse(wire).unwrap() else {
        panic!()
    };
    assert!(matches!(raw.into_inner(), Cow::Borrowed(_)));
}

// ---------------------------------------------------------------------------------------
// The examples of RFC 3501 section 7 and RFC 9051 section 7

#[test]
fn rfc3501_section_7_examples() {
    for line in [
        "* OK IMAP4rev1 server ready",
        "A001 OK LOGIN completed",
        "* NO Disk is 98% full, please delete unnecessary data",
        "A222 NO COPY failed: disk is full",
        "* BAD Command line too long",
        "* BAD Empty command line",
        "A443 BAD Missing command",
        "* PREAUTH IMAP4rev1 server logged in as Smith",
        "* BYE Autologout; idle for too long",
        "* OK [ALERT] System shutdown in 10 minutes",
        "* OK [UNSEEN 12] Message 12 is first unseen",
        "* OK [UIDVALIDITY 3857529045] UIDs valid",
        "* OK [UIDNEXT 4392] Predicted next UID",
        "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited",
        "A142 OK [READ-WRITE] SELECT completed",
        "A932 OK [READ-ONLY] EXAMINE completed",
        "A003 NO [TRYCREATE] No such mailbox",
        "* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI XPIG-LATIN",
        "* LIST (\\Noselect) \"/\" ~/Mail/foo",
        "* LSUB () \".\" #news.comp.mail.misc",
        "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)",
        "* SEARCH 2 3 6",
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
        "* 23 EXISTS",
        "* 5 RECENT",
        "* 44 EXPUNGE",
        "* 12 FETCH (FLAGS (\\Seen) UID 4827)",
        "* 23 FETCH (FLAGS (\\Seen) RFC822.SIZE 44827)",
        "+ Ready for additional command text",
    ] {
        canonical(format!("{line}\r\n").as_bytes());
    }
    round_trip(FETCH_ENVELOPE_BODY);
}

#[test]
fn rfc3501_section_8_server_lines() {
    for line in [
        "* OK IMAP4rev1 Service Ready",
        "a001 OK LOGIN completed",
        "* 18 EXISTS",
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
        "* 2 RECENT",
        "* OK [UNSEEN 17] Message 17 is the first unseen message",
        "* OK [UIDVALIDITY 3857529045] UIDs valid",
        "a002 OK [READ-WRITE] SELECT completed",
        "a003 OK FETCH completed",
        "* 12 FETCH (FLAGS (\\Seen \\Deleted))",
        "a005 OK +FLAGS completed",
        "* BYE IMAP4rev1 server terminating connection",
        "a006 OK LOGOUT completed",
    ] {
        canonical(format!("{line}\r\n").as_bytes());
    }
    round_trip(FETCH_ENVELOPE_BODY);
    let header = "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n\
                  From: Terry Gray <gray@cac.washington.edu>\r\n\
                  Subject: IMAP4rev1 WG mtg summary and minutes\r\n\
                  To: imap@cac.washington.edu\r\n\
                  cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n\
                  Message-Id: <B27397-0100000@cac.washington.edu>\r\n\
                  MIME-Version: 1.0\r\n\
                  Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\n";
    assert_eq!(header.len(), 342);
    let wire = format!("* 12 FETCH (BODY[HEADER] {{342}}\r\n{header})\r\n");
    canonical(wire.as_bytes());
}

#[test]
fn rfc9051_section_7_examples() {
    for line in [
        "* OK IMAP4rev2 server ready",
        "* OK [CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI] Capabilities",
        "a NO [UNAVAILABLE] User's backend down for maintenance",
        "b NO [AUTHENTICATIONFAILED] Authentication failed",
        "c1 NO [AUTHORIZATIONFAILED] No such authorization-ID",
        "c2 NO [AUTHORIZATIONFAILED] Authenticator is not an admin",
        "d NO [EXPIRED] That password isn't valid any more",
        "d NO [PRIVACYREQUIRED] Connection offers no privacy",
        "f NO [NOPERM] Access denied",
        "g NO [INUSE] Mailbox in use",
        "h OK [EXPUNGEISSUED] Search completed",
        "i NO [CORRUPTION] Cannot open mailbox",
        "j NO [SERVERBUG] This should not happen",
        "k2 OK [CLIENTBUG] Done",
        "l NO [CANNOT] Adjacent slashes are not supported",
        "m NO [LIMIT] At most 32 flags in one mailbox supported",
        "n1 NO [OVERQUOTA] Sorry",
        "n2 OK [OVERQUOTA] You are now over your soft quota",
        "o356 NO [ALREADYEXISTS] Mailbox \"that\" already exists",
        "p NO [NONEXISTENT] No such mailbox",
        "o356 NO [HASCHILDREN] Mailbox \"Notes\" has children",
        "B283 NO [BADCHARSET (UTF-8)] KOI8-R is not supported",
        "A003 OK [APPENDUID 38505 3955] APPEND completed",
        "A004 OK [COPYUID 38505 304,319:320 3956:3958] Done",
        "A005 OK [CLOSED] Previous mailbox closed",
        "A007 NO [UNKNOWN-CTE] Can't decode Content-Transfer-Encoding",
        "A008 NO [USEATTR] \\All not supported",
        "* CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI XPIG-LATIN",
        "* ENABLED IMAP4rev2",
        "* LIST () \"/\" NewName (\"OLDNAME\" (OldName))",
        "* LIST (\\Marked \\NoInferiors) \"/\" inbox",
        "* NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) NIL",
        "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)",
        "* ESEARCH (TAG \"A282\") MIN 2 COUNT 3",
        "* ESEARCH (TAG \"A283\") ALL 2,10:11",
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
        "* 23 EXISTS",
        "* 44 EXPUNGE",
        "* 23 FETCH (FLAGS (\\Seen) UID 4827313)",
        "+ Ready for additional command text",
        "+ YDMGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=",
        "+ ",
    ] {
        round_trip(format!("{line}\r\n").as_bytes());
    }
    // The CONTACTADMIN example has neither SP nor text after the code, which the formal
    // syntax does not allow: a quirk (`missing_text`); strictly it is text.
    let wire = b"e NO [CONTACTADMIN]\r\n";
    assert_eq!(
        status(&Response::parse(wire).unwrap()).code(),
        Some(&Code::ContactAdmin)
    );
    assert_eq!(
        status(&Response::parse_with(wire, Quirks::STRICT).unwrap()).code(),
        None
    );
}

// ---------------------------------------------------------------------------------------
// Errors point at the offending byte

#[test]
fn error_offsets() {
    for (wire, offset, expected, kind) in [
        (&b""[..], 0, "response", ErrorKind::Incomplete),
        (b"A1 OK done", 10, "CRLF", ErrorKind::Incomplete),
        (b"A1 MAYBE done\r\n", 3, "OK, NO or BAD", ErrorKind::Syntax),
        (b"A1 BYE done\r\n", 3, "OK, NO or BAD", ErrorKind::Syntax),
        (b"+A\r\n", 1, "SP", ErrorKind::Syntax),
        (b"*OK x\r\n", 1, "SP", ErrorKind::Syntax),
        (b"* 5 EXISTS extra\r\n", 10, "CRLF", ErrorKind::Syntax),
        (b"* SEARCH 1 x\r\n", 11, "number", ErrorKind::Syntax),
        (b"* SEARCH 1 0\r\n", 11, "nz-number", ErrorKind::Number),
        (
            b"* LIST (\\Noselect) \"//\" foo\r\n",
            21,
            "\"",
            ErrorKind::Syntax,
        ),
        (
            b"* LIST () \"\r\" foo\r\n",
            11,
            "QUOTED-CHAR",
            ErrorKind::Syntax,
        ),
        (
            b"* STATUS foo (MESSAGES x)\r\n",
            23,
            "number",
            ErrorKind::Syntax,
        ),
        (b"* FLAGS \\Seen\r\n", 8, "flag-list", ErrorKind::Syntax),
        (b"* OK text\nmore\r\n", 9, "CRLF", ErrorKind::Syntax),
        (b"* OK bad\x00text\r\n", 8, "TEXT-CHAR", ErrorKind::Syntax),
        (
            b"* NAMESPACE ((\"\" \"/\")) NIL\r\n",
            26,
            "SP",
            ErrorKind::Syntax,
        ),
        (b"* QUOTA root (STORAGE 1)\r\n", 23, "SP", ErrorKind::Syntax),
        (b"* VANISHED 1:*\r\n", 13, "uniqueid", ErrorKind::Syntax),
    ] {
        let e = Response::parse_with(wire, Quirks::STRICT).unwrap_err();
        assert_eq!(
            (e.offset(), e.expected(), e.kind()),
            (offset, expected, kind),
            "{:?}",
            String::from_utf8_lossy(wire)
        );
    }
}

// ---------------------------------------------------------------------------------------
// Server quirks: each accepted under LENIENT (the default), refused under STRICT, and each
// switch alone suffices.

fn only(set: impl FnOnce(&mut Quirks)) -> Quirks {
    let mut q = Quirks::STRICT;
    set(&mut q);
    q
}

/// `wire` is refused under STRICT and accepted under LENIENT and under `switch` alone, with
/// the same value; returns it.
fn quirk(wire: &'static [u8], switch: Quirks) -> Response<'static> {
    assert!(
        Response::parse_with(wire, Quirks::STRICT).is_err(),
        "strict accepted {:?}",
        String::from_utf8_lossy(wire)
    );
    let lenient = Response::parse(wire).unwrap();
    assert_eq!(Response::parse_with(wire, switch).unwrap(), lenient);
    lenient
}

#[test]
fn quirk_trailing_space_yahoo_greenmail_search() {
    // Yahoo: `* SEARCH 61 62 63 ` (mxk/go-imap#9, djc/imap-proto#108).
    let q = only(|q| q.trailing_space = true);
    let r = quirk(b"* SEARCH 61 62 63 \r\n", q);
    assert_eq!(
        data(r).clone(),
        Data::Search {
            ids: vec![nz(61), nz(62), nz(63)],
            modseq: None
        }
    );
    // GreenMail: `* SEARCH ` with no results (djc/imap-proto#34, greenmail#264).
    assert_eq!(
        data(quirk(b"* SEARCH \r\n", q)),
        Data::Search {
            ids: vec![],
            modseq: None
        }
    );
}

#[test]
fn quirk_trailing_space_capability_and_status() {
    let q = only(|q| q.trailing_space = true);
    // A CAPABILITY line ending in a space (emersion/go-imap#571).
    let r = data(quirk(
        b"* CAPABILITY IMAP4 IMAP4rev1 XLIST MOVE IDLE UIDPLUS \r\n",
        q,
    ));
    assert!(matches!(r, Data::Capability(c) if c.len() == 6));
    // A STATUS line ending in a space (modern-email/defects#9, Dovecot behind Exchange).
    let r = data(quirk(b"* STATUS INBOX (MESSAGES 0) \r\n", q));
    assert!(matches!(r, Data::Status { .. }));
}

#[test]
fn quirk_missing_text() {
    let q = only(|q| q.missing_text = true);
    // ppops.net: `A6 OK` after COPY (mscdex/node-imap#537).
    let s = status(&quirk(b"A6 OK\r\n", q));
    assert_eq!((s.kind(), s.code(), s.text()), (StatusKind::Ok, None, None));
    // iCloud: `* BYE` on logout (djc/imap-proto#131).
    let s = status(&quirk(b"* BYE\r\n", q));
    assert_eq!(s.kind(), StatusKind::Bye);
    // Gmail: `[HIGHESTMODSEQ n]` with neither SP nor text (modern-email/defects#28). Under
    // STRICT the line is grammatical, but as text (`resp-text = text`), without the code.
    let wire = b"* OK [HIGHESTMODSEQ 715194045007]\r\n";
    let s = status(&Response::parse(wire).unwrap());
    assert_eq!(
        (s.code(), s.text()),
        (Some(&Code::HighestModSeq(715_194_045_007)), None)
    );
    let s = status(&Response::parse_with(wire, Quirks::STRICT).unwrap());
    assert_eq!(s.code(), None);
    assert_eq!(s.text().unwrap().as_str(), "[HIGHESTMODSEQ 715194045007]");
    // The encoder never reproduces the fault: the SP is written.
    assert_eq!(
        Response::parse(b"A6 OK\r\n").unwrap().to_bytes(),
        b"A6 OK \r\n"
    );
}

#[test]
fn quirk_empty_continuation_yandex() {
    // Yandex: `+` with no SP (djc/imap-proto#67).
    let r = quirk(b"+\r\n", only(|q| q.empty_continuation = true));
    assert_eq!(r, Response::Continuation(Continuation::base64(&b""[..])));
    assert_eq!(r.to_bytes(), b"+ \r\n");
}

#[test]
fn quirk_out_of_range_numbers() {
    let q = only(|q| q.clamp_numbers = true);
    // A STATUS with a 64-bit UIDVALIDITY (neomutt/neomutt#3830).
    let r = data(quirk(
        b"* STATUS folder_0 (UIDNEXT 1 UIDVALIDITY 1666390893380 UNSEEN 0)\r\n",
        q,
    ));
    let Data::Status { items, .. } = r else {
        panic!()
    };
    assert_eq!(items[1], StatusValue::UidValidity(u32::MAX));
    // GreenMail and dynadot.com: `[UIDVALIDITY 1528896777421]` (greenmail#247,
    // emersion/go-imap#612). Clamped under the switch; under STRICT the generic code
    // alternative keeps it as an unknown code rather than a UIDVALIDITY.
    let wire = b"* OK [UIDVALIDITY 1528896777421] UIDs valid\r\n";
    let s = status(&Response::parse_with(wire, q).unwrap());
    assert_eq!(s.code(), Some(&Code::UidValidity(nz(u32::MAX))));
    let s = status(&Response::parse_with(wire, Quirks::STRICT).unwrap());
    assert!(matches!(s.code(), Some(Code::Other { name, .. }) if name.as_str() == "UIDVALIDITY"));
    // An EXISTS past 2^32.
    assert_eq!(
        data(quirk(b"* 4294967296 EXISTS\r\n", q)),
        Data::Exists(u32::MAX)
    );
}

#[test]
fn quirk_extra_spaces_global_mail() {
    // imap-n.global-mail.cn: two spaces inside a CAPABILITY line (emersion/go-imap#653).
    let q = only(|q| q.extra_spaces = true);
    let r = data(quirk(
        b"* CAPABILITY IMAP4rev1 LITERAL+  STARTTLS SPECIAL-USE\r\n",
        q,
    ));
    assert_eq!(
        r,
        Data::Capability(List::from(vec![
            Capability::Imap4Rev1,
            Capability::LiteralPlus,
            Capability::StartTls,
            Capability::SpecialUse,
        ]))
    );
    let e = Response::parse_with(
        b"* CAPABILITY IMAP4rev1 LITERAL+  STARTTLS\r\n",
        Quirks::STRICT,
    )
    .unwrap_err();
    assert_eq!(e.offset(), 32);
    quirk(b"*  3 EXISTS\r\n", q);
}

#[test]
fn quirk_nil_as_string_id_field() {
    // `NIL` where the `string` of an ID field name is due: read as the empty string.
    let q = only(|q| q.nil_as_string = true);
    let r = data(quirk(b"* ID (NIL \"x\" \"name\" \"y\")\r\n", q));
    let Data::Id(Some(p)) = r else { panic!() };
    assert_eq!(p[0].0.data(), b"");
}

#[test]
fn quirk_address_spaces_outlook() {
    // Outlook.com: a SP between the addresses of an envelope address list
    // (ruby/net-imap#240; GreenMail did the same, greenmail#871).
    let wire: &'static [u8] = b"* 1 FETCH (ENVELOPE (NIL \"s\" ((NIL NIL \"a\" \"x.example\") \
(NIL NIL \"b\" \"x.example\")) NIL NIL NIL NIL NIL NIL NIL))\r\n";
    let r = data(quirk(wire, only(|q| q.address_spaces = true)));
    assert!(matches!(r, Data::Fetch { .. }));
}

#[test]
fn quirk_nil_as_string_mail_ru_boundary() {
    // imap.mail.ru: `("boundary" NIL)` in a body-fld-param, where a string is due
    // (kisli/vmime#159, modern-email/defects#50 and #53).
    let wire: &'static [u8] = b"* 4 FETCH (BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 536 0 NIL NIL NIL NIL)\
(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 7130 0 NIL NIL NIL NIL) \"alternative\" (\"boundary\" NIL) NIL NIL NIL))\r\n";
    let r = Response::Data(data(quirk(wire, only(|q| q.nil_as_string = true))));
    // The encoder never reproduces the fault: the empty string is written.
    let bytes = r.to_bytes();
    assert!(
        bytes
            .windows(15)
            .any(|w| w == b"(\"BOUNDARY\" \"\")" || w == b"(\"boundary\" \"\")")
    );
    assert_eq!(
        Response::parse_with(&bytes, Quirks::STRICT)
            .unwrap()
            .into_static(),
        r
    );
}

#[test]
fn quirk_extra_spaces_qq_fetch() {
    // imap.qq.com: a SP before the `)` of a FETCH response (jakartaee/mail-api#209).
    let r = data(quirk(
        b"* 11487 FETCH (UID 19436 )\r\n",
        only(|q| q.extra_spaces = true),
    ));
    assert!(matches!(r, Data::Fetch { items, .. } if items.len() == 1));
}

// ---------------------------------------------------------------------------------------
// Constructors refuse what would not encode faithfully

#[test]
fn constructor_refusals() {
    let t = |s| Text::new(s).ok();
    assert!(
        StatusResponse::tagged(Tag::new("A1").unwrap(), StatusKind::Bye, None, t("x")).is_err()
    );
    assert!(
        StatusResponse::tagged(Tag::new("A1").unwrap(), StatusKind::PreAuth, None, t("x")).is_err()
    );
    assert!(StatusResponse::untagged(StatusKind::Ok, None, t("[ALERT] x")).is_err());
    assert!(StatusResponse::untagged(StatusKind::Ok, Some(Code::Alert), t("[x")).is_ok());
    assert!(Greeting::new(GreetingKind::Ok, None, t("[CAPABILITY IMAP4rev1] hi")).is_err());
    // A code-less continuation text that is valid base64 would read back as base64.
    assert!(ContinuationText::new(None, t("abcd")).is_err());
    assert!(ContinuationText::new(None, None).is_err());
    assert!(ContinuationText::new(None, t("abc")).is_ok());
    assert!(ContinuationText::new(Some(Code::Alert), t("abcd")).is_ok());
    // Unknown codes: names are atoms, texts have no `]`, and known codes are refused.
    assert!(Code::other("ALERT", None).is_err());
    assert!(Code::other("UIDNEXT", Some(Cow::Borrowed("12"))).is_err());
    assert!(Code::other("UIDNEXT", Some(Cow::Borrowed("x"))).is_ok());
    assert!(Code::other("X Y", None).is_err());
    assert!(Code::other("X", Some(Cow::Borrowed("a]b"))).is_err());
    assert!(Code::other("X", Some(Cow::Borrowed(""))).is_err());
    assert!(Code::other("X", Some(Cow::Borrowed("a\r\nb"))).is_err());
    // Unknown untagged responses must read back as unknown.
    assert!(Data::other(&b"5 EXISTS"[..]).is_err());
    assert!(Data::other(&b"OK fine"[..]).is_err());
    assert!(Data::other(&b"X\r\n* 5 EXISTS"[..]).is_err());
    assert!(Data::other(&b""[..]).is_err());
    assert!(Data::other(&b"XFOO bar"[..]).is_ok());
    // Threads, namespaces, delimiters.
    assert!(Thread::new(vec![nz(1)], vec![Thread::new(vec![nz(2)], vec![]).unwrap()]).is_err());
    assert!(Thread::new(vec![], vec![Thread::new(vec![nz(2)], vec![]).unwrap()]).is_err());
    assert!(Thread::new(vec![], vec![]).is_err());
    assert!(Namespace::new(Some(vec![]), None, None).is_err());
    assert!(NamespaceExtension::new(IString::from_bytes(&b"X"[..]).unwrap(), List::new()).is_err());
    assert!(Delimiter::new('\r').is_err());
    assert!(Delimiter::new('\0').is_err());
    assert!(Capability::new("A B").is_err());
}

// ---------------------------------------------------------------------------------------
// proptest: generated valid responses encode, then parse (strict and lenient) to themselves

fn atom_str() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9.-]{0,8}"
}

fn text_opt() -> impl Strategy<Value = Option<Text<'static>>> {
    proptest::option::of("[A-Za-z0-9 .,;:!?()é-]{1,24}".prop_filter_map("text", |s| {
        (!s.starts_with('[')).then(|| Text::new(s).ok()).flatten()
    }))
}

fn nz_any() -> impl Strategy<Value = NonZeroU32> {
    (1u32..=u32::MAX).prop_map(nz)
}

fn uid_set() -> impl Strategy<Value = UidSet> {
    prop_oneof![
        nz_any().prop_map(|n| SequenceSet::single(n.get()).unwrap()),
        (nz_any(), nz_any()).prop_map(|(a, b)| SequenceSet::range(a.get(), b.get()).unwrap()),
    ]
    .prop_map(|s| UidSet::new(s).unwrap())
}

fn modseq() -> impl Strategy<Value = u64> {
    0u64..=i64::MAX as u64
}

fn flag() -> impl Strategy<Value = Flag<'static>> {
    prop_oneof![
        Just(Flag::Answered),
        Just(Flag::Flagged),
        Just(Flag::Deleted),
        Just(Flag::Seen),
        Just(Flag::Draft),
        "[A-Za-z$][A-Za-z0-9_]{0,8}".prop_map(|s| Flag::keyword(s).unwrap()),
    ]
}

fn capability() -> impl Strategy<Value = Capability<'static>> {
    prop_oneof![
        atom_str().prop_map(|s| Capability::new(s).unwrap()),
        atom_str().prop_map(|s| Capability::new(format!("AUTH={s}")).unwrap()),
        Just(Capability::Imap4Rev2),
        Just(Capability::LiteralMinus),
        any::<u32>().prop_map(|n| Capability::AppendLimit(Some(n))),
        Just(Capability::AppendLimit(None)),
    ]
}

fn code() -> impl Strategy<Value = Code<'static>> {
    prop_oneof![
        Just(Code::Alert),
        Just(Code::TryCreate),
        Just(Code::OverQuota),
        Just(Code::UidNotSticky),
        Just(Code::CompressionActive),
        nz_any().prop_map(Code::UidNext),
        nz_any().prop_map(Code::UidValidity),
        modseq().prop_map(Code::HighestModSeq),
        (nz_any(), uid_set()).prop_map(|(v, u)| Code::AppendUid {
            uid_validity: v,
            uids: u
        }),
        (nz_any(), uid_set(), uid_set()).prop_map(|(v, s, d)| Code::CopyUid {
            uid_validity: v,
            source: s,
            destination: d
        }),
        proptest::collection::vec(capability(), 1..5)
            .prop_map(|c| Code::Capability(c.try_into().unwrap())),
        proptest::collection::vec(flag(), 0..5)
            .prop_map(|f| Code::PermanentFlags(f.into_iter().map(FlagPerm::Flag).collect())),
        (atom_str(), proptest::option::of("[a-z0-9 :/.=]{1,12}"))
            .prop_filter_map("known code", |(n, t)| Code::other(n, t.map(Cow::Owned))
                .ok()),
    ]
}

fn mailbox() -> impl Strategy<Value = Mailbox<'static>> {
    "[A-Za-z0-9 ._&-]{1,12}(/[A-Za-zé]{1,5})?".prop_map(|s| Mailbox::from_utf8(&s, false).unwrap())
}

fn thread(depth: u32) -> BoxedStrategy<Thread> {
    let leaf = proptest::collection::vec(nz_any(), 1..4)
        .prop_map(|m| Thread::new(m, vec![]).unwrap())
        .boxed();
    if depth == 0 {
        return leaf;
    }
    prop_oneof![
        leaf,
        (
            proptest::collection::vec(nz_any(), 0..3),
            proptest::collection::vec(thread(depth - 1), 2..4)
        )
            .prop_map(|(m, c)| Thread::new(m, c).unwrap()),
    ]
    .boxed()
}

fn istring() -> impl Strategy<Value = IString<'static>> {
    "[ -~]{0,10}".prop_map(|s| IString::from_bytes(s.into_bytes()).unwrap())
}

fn data_strategy() -> impl Strategy<Value = Data<'static>> {
    prop_oneof![
        proptest::collection::vec(capability(), 0..6).prop_map(|c| Data::Capability(c.into())),
        (
            proptest::collection::vec(
                prop_oneof![
                    Just(MailboxAttribute::Noselect),
                    Just(MailboxAttribute::HasChildren),
                    Just(MailboxAttribute::Trash)
                ],
                0..3
            ),
            proptest::option::of(prop_oneof![Just('/'), Just('.'), Just('\\'), Just('"')]),
            mailbox(),
            proptest::collection::vec(
                prop_oneof![
                    mailbox().prop_map(ListExtendedItem::OldName),
                    Just(ListExtendedItem::ChildInfo(List::from(vec![
                        Atom::new("SUBSCRIBED").unwrap()
                    ]))),
                ],
                0..2
            ),
        )
            .prop_map(|(a, d, m, e)| Data::List(ListData {
                attributes: a.into(),
                delimiter: d.map(|c| Delimiter::new(c).unwrap()),
                mailbox: m,
                extended: e.into(),
            })),
        (
            mailbox(),
            proptest::collection::vec(
                prop_oneof![
                    any::<u32>().prop_map(StatusValue::Messages),
                    any::<u32>().prop_map(StatusValue::UidNext),
                    modseq().prop_map(StatusValue::Size),
                    modseq().prop_map(StatusValue::HighestModSeq),
                    proptest::option::of(any::<u32>()).prop_map(StatusValue::AppendLimit),
                ],
                0..4
            )
        )
            .prop_map(|(mailbox, items)| Data::Status {
                mailbox,
                items: items.into()
            }),
        (
            proptest::collection::vec(nz_any(), 0..20),
            proptest::option::of(modseq())
        )
            .prop_map(|(ids, modseq)| Data::Search { ids, modseq }),
        (
            proptest::collection::vec(nz_any(), 0..20),
            proptest::option::of(modseq())
        )
            .prop_map(|(ids, modseq)| Data::Sort { ids, modseq }),
        (
            proptest::option::of("[A-Za-z0-9]{1,6}"),
            any::<bool>(),
            proptest::collection::vec(
                prop_oneof![
                    nz_any().prop_map(ESearchItem::Min),
                    nz_any().prop_map(ESearchItem::Max),
                    any::<u32>().prop_map(ESearchItem::Count),
                    modseq().prop_map(ESearchItem::ModSeq),
                    uid_set().prop_map(|u| ESearchItem::All(u.into_sequence_set())),
                ],
                0..4
            )
        )
            .prop_map(|(tag, uid, items)| Data::ESearch(ESearch {
                tag: tag.map(|t| AString::String(IString::from_bytes(t.into_bytes()).unwrap())),
                uid,
                items: items.into()
            })),
        proptest::collection::vec(thread(3), 0..4).prop_map(Data::Thread),
        proptest::collection::vec(flag(), 0..6).prop_map(|f| Data::Flags(f.into())),
        any::<u32>().prop_map(Data::Exists),
        any::<u32>().prop_map(Data::Recent),
        nz_any().prop_map(Data::Expunge),
        (any::<bool>(), uid_set()).prop_map(|(earlier, uids)| Data::Vanished { earlier, uids }),
        proptest::option::of(proptest::collection::vec(
            (istring(), proptest::option::of(istring()).prop_map(NString)),
            0..4
        ))
        .prop_map(Data::Id),
        (
            proptest::option::of(proptest::collection::vec(
                (
                    istring(),
                    proptest::option::of(Just('/')),
                    proptest::collection::vec(istring(), 1..3)
                ),
                1..3
            )),
            any::<bool>()
        )
            .prop_map(|(p, nil_other)| {
                let descr = p.map(|l| {
                    l.into_iter()
                        .map(|(prefix, d, values)| NamespaceDescr {
                            prefix,
                            delimiter: d.map(|c| Delimiter::new(c).unwrap()),
                            extensions: List::from(vec![
                                NamespaceExtension::new(
                                    IString::from_bytes(&b"X-EXT"[..]).unwrap(),
                                    values.into(),
                                )
                                .unwrap(),
                            ]),
                        })
                        .collect::<Vec<_>>()
                });
                let other = (!nil_other).then(|| {
                    vec![NamespaceDescr {
                        prefix: IString::from_bytes(&b"~"[..]).unwrap(),
                        delimiter: Some(Delimiter::new('/').unwrap()),
                        extensions: List::new(),
                    }]
                });
                Data::Namespace(Namespace::new(descr, other, None).unwrap())
            }),
        proptest::collection::vec(capability(), 0..4).prop_map(|c| Data::Enabled(c.into())),
        (
            "[A-Za-z0-9#/]{0,8}",
            proptest::collection::vec((modseq(), modseq()), 0..3)
        )
            .prop_map(|(root, r)| Data::Quota {
                root: AString::from_bytes(root.into_bytes()).unwrap(),
                resources: r
                    .into_iter()
                    .enumerate()
                    .map(|(i, (usage, limit))| QuotaResource {
                        resource: [Resource::Storage, Resource::Message, Resource::Mailbox][i]
                            .clone(),
                        usage,
                        limit
                    })
                    .collect()
            }),
        (
            mailbox(),
            proptest::collection::vec("[A-Za-z0-9]{0,6}", 0..3)
        )
            .prop_map(|(mailbox, roots)| {
                Data::QuotaRoot {
                    mailbox,
                    roots: roots
                        .into_iter()
                        .map(|r| AString::from_bytes(r.into_bytes()).unwrap())
                        .collect(),
                }
            }),
        "X[A-Z]{1,6}( [a-z0-9 ()]{1,10})?".prop_map(|s| Data::other(s.into_bytes()).unwrap()),
    ]
}

fn response_strategy() -> impl Strategy<Value = Response<'static>> {
    prop_oneof![
        (
            proptest::option::of("[A-Za-z0-9.]{1,8}"),
            prop_oneof![
                Just(StatusKind::Ok),
                Just(StatusKind::No),
                Just(StatusKind::Bad)
            ],
            proptest::option::of(code()),
            text_opt()
        )
            .prop_map(|(tag, kind, code, text)| Response::Status(match tag {
                Some(t) => StatusResponse::tagged(Tag::new(t).unwrap(), kind, code, text).unwrap(),
                None => StatusResponse::untagged(kind, code, text).unwrap(),
            })),
        (proptest::option::of(code()), text_opt())
            .prop_map(|(c, t)| StatusResponse::untagged(StatusKind::Bye, c, t).unwrap())
            .prop_map(Response::Status),
        data_strategy().prop_map(Response::Data),
        proptest::collection::vec(any::<u8>(), 0..40)
            .prop_map(|d| Response::Continuation(Continuation::base64(d))),
        (proptest::option::of(code()), text_opt())
            .prop_filter_map("base64-like", |(c, t)| Continuation::text(c, t).ok())
            .prop_map(Response::Continuation),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn responses_round_trip(resp in response_strategy()) {
        let bytes = resp.to_bytes();
        let strict = Response::parse_with(&bytes, Quirks::STRICT).map(Response::into_static);
        prop_assert_eq!(strict.as_ref(), Ok(&resp), "{:?}", String::from_utf8_lossy(&bytes));
        prop_assert_eq!(Response::parse(&bytes).map(Response::into_static), Ok(resp.clone()));
        prop_assert_eq!(resp.clone().into_static(), resp);
    }

    #[test]
    fn greetings_round_trip(kind in prop_oneof![Just(GreetingKind::Ok), Just(GreetingKind::PreAuth), Just(GreetingKind::Bye)],
                            code in proptest::option::of(code()), text in text_opt()) {
        let g = Greeting::new(kind, code, text).unwrap();
        let bytes = g.to_bytes();
        prop_assert_eq!(Greeting::parse_with(&bytes, Quirks::STRICT).map(Greeting::into_static), Ok(g.clone()));
        prop_assert_eq!(Greeting::parse(&bytes).map(Greeting::into_static), Ok(g));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = Response::parse(&bytes);
        let _ = Response::parse_with(&bytes, Quirks::STRICT);
        let _ = Greeting::parse(&bytes);
    }

    #[test]
    fn mutated_responses_never_panic(resp in response_strategy(), at in any::<usize>(), b in any::<u8>()) {
        let mut bytes = resp.to_bytes();
        let i = at % bytes.len();
        bytes[i] = b;
        if let Ok(r) = Response::parse(&bytes).map(Response::into_static) {
            // Whatever parses re-encodes to something that parses to the same value.
            let again = r.to_bytes();
            prop_assert_eq!(Response::parse(&again).map(Response::into_static), Ok(r));
        }
    }
}
