//! Tests of the fixes for the issue 17 reviews (helper fix1) that are not in the reviewers'
//! own files: what the new checked types refuse, what a line ending like a literal header
//! does, and the wire forms chosen.

use imap_proto::core::Text;
use imap_proto::mailbox::{ListMailbox, ListToken, Mailbox};
use imap_proto::response::{Code, CodeText, Data, Greeting, RawValue, Response};
use imap_proto::{Encode, ErrorKind, Quirks};

/// Framer review, finding 3: text ending in `{digits}` / `{digits+}` would be framed as a
/// literal header; refused by the parsers (at the `}`) and by the constructors.
#[test]
fn text_ending_like_a_literal_header_is_refused() {
    for (wire, at) in [
        (&b"a1 OK done {0}\r\n"[..], 13),
        (b"+ {5}\r\n", 4),
        (b"* OK [ALERT] x{2+}\r\n", 17),
        (b"* BYE {3}\r\n", 8),
        (b"* XFOO {0+}\r\n", 10),
    ] {
        for q in [Quirks::STRICT, Quirks::LENIENT] {
            let e = Response::parse_with(wire, q).unwrap_err();
            assert_eq!((e.offset(), e.kind()), (at, ErrorKind::Syntax), "{wire:?}");
        }
    }
    assert!(Greeting::parse(b"* OK IMAP4rev2 ready {0}\r\n").is_err());
    for t in ["done {0}", "x{2+}", "{12}"] {
        assert!(Text::new(t).is_err(), "{t}");
    }
    assert!(Data::other(&b"XFOO {0}"[..]).is_err());
    // braces elsewhere are text
    for t in ["{0} done", "x{}", "a {b}", "{+}", "x{1+2}"] {
        assert!(Text::new(t).is_ok(), "{t}");
    }
    assert!(Response::parse(b"a1 OK {0} done\r\n").is_ok());
}

#[test]
fn checked_payload_types_refuse_what_ends_their_syntax() {
    assert!(CodeText::new("").is_err());
    assert!(CodeText::new("a]").is_err());
    assert!(CodeText::new("a\0").is_err());
    assert_eq!(&*CodeText::new("a [b").unwrap(), "a [b");
    assert!(RawValue::tagged_ext_val(&b""[..]).is_err());
    assert!(RawValue::tagged_ext_val(&b"1 2"[..]).is_err());
    assert!(RawValue::tagged_ext_val(&b"(a"[..]).is_err());
    // a server's value never holds `{n+}`
    assert!(RawValue::tagged_ext_val(&b"(a {1+}\r\nb)"[..]).is_err());
    assert!(RawValue::fetch_value(&b"{1+}\r\nb"[..]).is_err());
    assert!(Data::other(&b"XFOO {1+}\r\nb"[..]).is_err());
    assert_eq!(
        RawValue::tagged_ext_val(&b"(a {1}\r\nb)"[..])
            .unwrap()
            .as_bytes(),
        b"(a {1}\r\nb)"
    );
    assert!(ListToken::new("").is_err());
    assert!(ListToken::new("a b").is_err());
    assert!(ListToken::new("a\r\n").is_err());
    let t = ListToken::new("foo/%*").unwrap();
    let l = ListMailbox::Token(t);
    assert_eq!(l.to_bytes(), b"foo/%*");
    assert_eq!(Code::other("X-Y", None).unwrap().to_bytes(), b"X-Y");
}

/// Codec review, finding 7: control characters are refused by `to_utf8`, in every form.
#[test]
fn to_utf8_refuses_control_characters_in_every_form() {
    for wire in [&b"&AA0ACg-"[..], b"a&AAA-", b"&AH8-", b"\"a\xc2\x85\""] {
        let m = Mailbox::parse(wire).unwrap();
        assert!(m.to_utf8().is_err(), "{wire:?}");
    }
    assert_eq!(
        Mailbox::parse(b"&ZeVnLIqe-").unwrap().to_utf8().unwrap(),
        "\u{65e5}\u{672c}\u{8a9e}"
    );
}

/// Codec review, finding 4: unknown FETCH items are kept (`MessageDataItem::Other`), under
/// both quirk sets, and written back as sent.
#[test]
fn unknown_fetch_items_are_kept_and_round_trip() {
    use imap_proto::fetch::MessageDataItem;
    for wire in [
        &b"* 1 FETCH (X-GM-MSGID 1278455344230334865 UID 4 FLAGS (\\Seen))\r\n"[..],
        b"* 2 FETCH (EMAILID (M6d99ac3275bb4e) THREADID (T64b478a75b7ea9))\r\n",
        b"* 3 FETCH (PREVIEW \"Hello there\" SAVEDATE NIL)\r\n",
        b"* 4 FETCH (X-GM-LABELS (\\Inbox \\Sent \"a b\" foo) UID 9)\r\n",
        b"* 5 FETCH (PREVIEW {5}\r\nhello X-BIN ~{1}\r\n\0 X-E ())\r\n",
    ] {
        for q in [Quirks::STRICT, Quirks::LENIENT] {
            let r = Response::parse_with(wire, q)
                .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(wire)));
            assert_eq!(r.to_bytes(), wire);
        }
    }
    let Response::Data(Data::Fetch { items, .. }) =
        Response::parse(b"* 1 FETCH (X-GM-MSGID 127 UID 4)\r\n").unwrap()
    else {
        panic!()
    };
    assert!(matches!(&items[0], MessageDataItem::Other { name, value }
        if name.as_str() == "X-GM-MSGID" && value.as_bytes() == b"127"));
    // values that are not one value are refused, at the offending byte
    for (wire, at) in [
        (&b"* 1 FETCH (X-A (b)c)\r\n"[..], 18),
        (b"* 1 FETCH (X-A (b)\r\n", 18),
        (b"* 1 FETCH (X-A )\r\n", 15),
    ] {
        assert_eq!(Response::parse(wire).unwrap_err().offset(), at, "{wire:?}");
    }
    assert!(RawValue::fetch_value(&b"1\r\nA1 OK x"[..]).is_err());
    assert!(RawValue::fetch_value(&b"(a b"[..]).is_err());
    assert!(RawValue::fetch_value(&b""[..]).is_err());
    assert_eq!(
        RawValue::fetch_value(&b"(\"x\" 1)"[..]).unwrap().as_bytes(),
        b"(\"x\" 1)"
    );
}

/// The new refusals point at the offending option or byte.
#[test]
fn new_refusals_point_at_the_fault() {
    use imap_proto::command::Command;
    for (wire, at) in [
        (&b"A1 LIST (RECURSIVEMATCH) \"\" \"*\"\r\n"[..], 9),
        (b"A1 LIST (REMOTE RECURSIVEMATCH) \"\" \"*\"\r\n", 16),
        (b"A1 FETCH 1:* (FLAGS) (CHANGEDSINCE 5 VANISHED)\r\n", 37),
        (b"A1 UID FETCH 1:* (FLAGS) (VANISHED)\r\n", 26),
        (b"A1 FETCH 1 BODY[]<0.0>\r\n", 20),
        (b"A1 FETCH 1 BODY[]<9223372036854775808.1>\r\n", 18),
    ] {
        let e = Command::parse(wire).unwrap_err();
        assert_eq!(e.error.offset(), at, "{}", String::from_utf8_lossy(wire));
    }
    for wire in [
        &b"A1 LIST (SPECIAL-USE RECURSIVEMATCH) \"\" \"*\"\r\n"[..],
        b"A1 UID FETCH 1:* FLAGS (CHANGEDSINCE 5 VANISHED)\r\n",
        b"A1 FETCH 1 BODY[]<9223372036854775807.1>\r\n",
    ] {
        let c = Command::parse(wire).unwrap();
        assert_eq!(c.to_bytes(), wire);
    }
    // a server's `{n+}`: STRICT refuses at the `+`, LENIENT keeps it
    let wire = b"* 1 FETCH (BODY[] {5+}\r\nhello)\r\n";
    assert_eq!(
        Response::parse_with(wire, Quirks::STRICT)
            .unwrap_err()
            .offset(),
        20
    );
    let mut q = Quirks::STRICT;
    q.nonsync_literals = true;
    assert!(Response::parse_with(wire, q).is_ok());
    // MODSEQ past 2^63 - 1: STRICT refuses, LENIENT clamps
    let wire = b"* 1 FETCH (MODSEQ (9223372036854775808))\r\n";
    assert!(Response::parse_with(wire, Quirks::STRICT).is_err());
    let r = Response::parse(wire).unwrap();
    assert_eq!(
        r.to_bytes(),
        b"* 1 FETCH (MODSEQ (9223372036854775807))\r\n"
    );
}

/// RFC 9208 DELETED-STORAGE in STATUS (command and response, number64).
#[test]
fn deleted_storage_both_ways() {
    use imap_proto::command::{Command, CommandBody, StatusItem};
    use imap_proto::response::StatusValue;
    let c = Command::parse(b"A1 STATUS INBOX (DELETED-STORAGE)\r\n").unwrap();
    assert!(matches!(&c.body, CommandBody::Status { items, .. }
        if items[..] == [StatusItem::DeletedStorage]));
    let wire = b"* STATUS INBOX (DELETED-STORAGE 5000000000)\r\n";
    let r = Response::parse_with(wire, Quirks::STRICT).unwrap();
    let Response::Data(Data::Status { items, .. }) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(items[..], [StatusValue::DeletedStorage(5_000_000_000)]);
    assert_eq!(r.to_bytes(), wire);
}
