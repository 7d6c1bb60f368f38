//! Known answers and error offsets for the FETCH data items.

use super::*;
use crate::core::IString;
use crate::error::{ErrorKind, MAX_DEPTH};

fn parse(input: &[u8], quirks: Quirks) -> Result<MsgAtt<'_>, ParseError> {
    parse_msg_att(input, quirks)
}

fn encode(items: &[MessageDataItem<'_>]) -> Vec<u8> {
    let mut w = Writer::new(Default::default());
    encode_msg_att(items, &mut w);
    w.finish().into_bytes()
}

/// Parse strictly, check the encoding is `canonical` (the input when `None`), reparse, equal.
fn round_trip<'a>(input: &'a [u8], canonical: Option<&[u8]>) -> MsgAtt<'a> {
    let items = parse(input, Quirks::STRICT)
        .unwrap_or_else(|e| panic!("{e} in {}", String::from_utf8_lossy(input)));
    let bytes = encode(&items);
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        String::from_utf8_lossy(canonical.unwrap_or(input))
    );
    let again = parse(&bytes, Quirks::STRICT)
        .unwrap()
        .map(MessageDataItem::into_static);
    let owned = items.clone().map(MessageDataItem::into_static);
    assert_eq!(again, owned);
    items
}

fn err(input: &[u8], quirks: Quirks) -> ParseError {
    match parse(input, quirks) {
        Ok(v) => panic!("{} parsed: {v:?}", String::from_utf8_lossy(input)),
        Err(e) => e,
    }
}

fn s<'b>(v: &'b IString<'_>) -> &'b [u8] {
    v.data()
}

fn ns<'b>(v: &'b NString<'_>) -> Option<&'b [u8]> {
    v.data()
}

/// RFC 3501 section 7.4.2 (and RFC 9051 section 7.5.2): the example FETCH response.
const RFC3501_FETCH: &[u8] = b"(FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" \
RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \
\"IMAP4rev1 WG mtg summary and minutes\" \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((NIL NIL \"imap\" \"cac.washington.edu\")) \
((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL \
\"<B27397-0100000@cac.washington.edu>\") \
BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))";

#[test]
fn rfc3501_example_fetch_response() {
    let items = round_trip(RFC3501_FETCH, None);
    assert_eq!(items.len(), 5);
    assert!(matches!(&items[0], MessageDataItem::Flags(f) if f.len() == 1));
    assert!(matches!(items[1], MessageDataItem::InternalDate(_)));
    assert_eq!(items[2], MessageDataItem::Rfc822Size(4286));
    let MessageDataItem::Envelope(e) = &items[3] else {
        panic!("{:?}", items[3])
    };
    assert_eq!(
        ns(&e.subject),
        Some(&b"IMAP4rev1 WG mtg summary and minutes"[..])
    );
    assert_eq!(e.from.len(), 1);
    assert_eq!(ns(&e.from[0].name), Some(&b"Terry Gray"[..]));
    assert_eq!(ns(&e.from[0].adl), None);
    assert_eq!(ns(&e.from[0].mailbox), Some(&b"gray"[..]));
    assert_eq!(ns(&e.from[0].host), Some(&b"cac.washington.edu"[..]));
    assert_eq!(e.cc.len(), 2);
    assert_eq!(ns(&e.cc[1].mailbox), Some(&b"KLENSIN"[..]));
    assert!(e.bcc.is_empty());
    assert_eq!(ns(&e.in_reply_to), None);
    assert_eq!(
        ns(&e.message_id),
        Some(&b"<B27397-0100000@cac.washington.edu>"[..])
    );
    let MessageDataItem::Body(b) = &items[4] else {
        panic!()
    };
    let BodyStructure::Single(p) = &**b else {
        panic!()
    };
    assert!(matches!(&p.kind, PartKind::Text { subtype, lines: 92 } if s(subtype) == b"PLAIN"));
    assert_eq!(p.fields.octets, 3028);
    assert_eq!(s(&p.fields.encoding), b"7BIT");
    assert_eq!(s(&p.fields.parameters[0].0), b"CHARSET");
    assert_eq!(s(&p.fields.parameters[0].1), b"US-ASCII");
    assert!(p.extension.is_none());
}

#[test]
fn rfc3501_example_bodystructure() {
    // RFC 3501 section 7.4.2 (BODYSTRUCTURE), the same in RFC 9051 section 7.5.2.
    let input =
        b"(BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 23)\
(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\") \
\"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" \"BASE64\" 4554 73) \"MIXED\"))";
    let items = round_trip(input, None);
    let MessageDataItem::BodyStructure(b) = &items[0] else {
        panic!()
    };
    let BodyStructure::Multi(m) = &**b else {
        panic!()
    };
    assert_eq!(s(&m.subtype), b"MIXED");
    assert_eq!(m.bodies().len(), 2);
    let BodyStructure::Single(p) = &m.bodies()[1] else {
        panic!()
    };
    assert_eq!(p.fields.parameters.len(), 2);
    assert_eq!(ns(&p.fields.description), Some(&b"Compiler diff"[..]));
    assert_eq!(p.fields.octets, 4554);
}

#[test]
fn rfc3501_small_examples() {
    // RFC 3501 section 6.4.6 (STORE) and 6.4.8 (UID), section 8.
    round_trip(b"(FLAGS (\\Deleted \\Seen))", None);
    round_trip(b"(FLAGS (\\Seen) UID 4827313)", None);
    round_trip(b"(FLAGS ())", None);
    let items = round_trip(b"(RFC822.SIZE 44827)", None);
    assert_eq!(items[0], MessageDataItem::Rfc822Size(44827));
    // RFC 3501 section 8: BODY[HEADER] as a literal.
    let items = round_trip(b"(BODY[HEADER] {12}\r\nSubject: x\r\n)", None);
    assert!(matches!(&items[0], MessageDataItem::BodySection {
        section: Some(s), origin: None, data
    } if **s == Section::Header(None) && ns(data) == Some(&b"Subject: x\r\n"[..])));
}

#[test]
fn every_item_round_trips() {
    let input = b"(RFC822 NIL RFC822.HEADER \"a\" RFC822.TEXT \"b\" BODY[] \"x\" \
BODY[1.2.MIME]<10> NIL BODY[HEADER.FIELDS (SUBJECT \"X-A b\")] \"Subject: q\" \
BINARY[1] ~{3}\r\na\x00b BINARY[] NIL BINARY[2]<5> \"part\" BINARY.SIZE[1.1] 4096 \
BINARY.SIZE[] 7 MODSEQ (624140003) UID 1)";
    let items = round_trip(input, None);
    assert_eq!(items.len(), 13);
    assert!(matches!(
        &items[4],
        MessageDataItem::BodySection {
            section: Some(s),
            origin: Some(10),
            ..
        } if matches!(**s, Section::Mime(_))
    ));
    assert!(matches!(&items[6], MessageDataItem::Binary { data, .. }
        if data.data() == Some(&b"a\x00b"[..])));
    assert_eq!(
        items[11],
        MessageDataItem::ModSeq(NonZeroU64::new(624140003).unwrap())
    );
}

#[test]
fn keywords_are_case_insensitive() {
    round_trip(
        b"(flags (\\Seen) uid 7 rfc822.size 3 body[text] NIL bodystructure (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0) modseq (1))",
        Some(b"(FLAGS (\\Seen) UID 7 RFC822.SIZE 3 BODY[TEXT] NIL BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0) MODSEQ (1))"),
    );
}

#[test]
fn group_syntax_markers() {
    // RFC 3501 section 7.4.2: "undisclosed-recipients:;" as a start and an end marker.
    let input = b"(ENVELOPE (NIL NIL NIL NIL NIL ((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL))";
    let items = round_trip(input, None);
    let MessageDataItem::Envelope(e) = &items[0] else {
        panic!()
    };
    assert!(e.to[0].is_group_start());
    assert!(!e.to[0].is_group_end());
    assert!(e.to[1].is_group_end());
    assert!(e.from.is_empty() && e.date.0.is_none());
}

#[test]
fn message_rfc822_and_global() {
    let input = b"(BODYSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 342 \
(NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 1) 12))";
    let items = round_trip(input, None);
    let MessageDataItem::BodyStructure(b) = &items[0] else {
        panic!()
    };
    let BodyStructure::Single(SinglePart {
        kind: PartKind::Message(m),
        ..
    }) = &**b
    else {
        panic!("{b:?}")
    };
    assert!(!m.global);
    assert_eq!(m.lines, 12);
    assert_eq!(ns(&m.envelope.subject), Some(&b"inner"[..]));
    // RFC 6532 message/global, lower case on the wire: written in upper case.
    let input = b"(BODY (\"message\" \"global\" NIL NIL NIL \"8bit\" 5 \
(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" NIL NIL NIL \"8bit\" 1 1) 1))";
    let items = round_trip(
        input,
        Some(
            b"(BODY (\"MESSAGE\" \"GLOBAL\" NIL NIL NIL \"8bit\" 5 \
(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"TEXT\" \"plain\" NIL NIL NIL \"8bit\" 1 1) 1))",
        ),
    );
    assert!(matches!(&items[0], MessageDataItem::Body(b)
        if matches!(&**b, BodyStructure::Single(SinglePart { kind: PartKind::Message(m), .. }) if m.global)));
    // message/delivery-status is a basic part: no envelope.
    round_trip(
        b"(BODY (\"MESSAGE\" \"DELIVERY-STATUS\" NIL NIL NIL \"7BIT\" 500))",
        None,
    );
}

#[test]
fn extension_data_round_trips() {
    let input = b"(BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"7BIT\" 10 1 \
\"md5sum\" (\"inline\" NIL) (\"en\" \"de\") \"http://x/\" 7 (\"a\" (1 NIL) \"b\") NIL)\
(\"IMAGE\" \"PNG\" NIL \"<id@x>\" NIL \"BASE64\" 300 NIL (\"attachment\" (\"FILENAME\" \"a.png\")) \"en\") \
\"MIXED\" (\"BOUNDARY\" \"xyz\") NIL NIL NIL))";
    let items = round_trip(input, None);
    let MessageDataItem::BodyStructure(b) = &items[0] else {
        panic!()
    };
    let BodyStructure::Multi(m) = &**b else {
        panic!()
    };
    let BodyStructure::Single(text) = &m.bodies()[0] else {
        panic!()
    };
    let ext = text.extension.as_ref().unwrap();
    assert_eq!(ns(&ext.md5), Some(&b"md5sum"[..]));
    let dsp = ext.tail.as_ref().unwrap();
    assert_eq!(s(&dsp.disposition.as_ref().unwrap().kind), b"inline");
    let lang = dsp.tail.as_ref().unwrap();
    assert_eq!(lang.language.len(), 2);
    let loc = lang.tail.as_ref().unwrap();
    assert_eq!(ns(&loc.location), Some(&b"http://x/"[..]));
    assert_eq!(loc.extensions.len(), 3);
    assert_eq!(loc.extensions[0], BodyExtension::Number(7));
    assert!(matches!(&loc.extensions[1], BodyExtension::List(l) if l.items().len() == 3));
    let mext = m.extension.as_ref().unwrap();
    assert_eq!(s(&mext.parameters[0].1), b"xyz");
    let mdsp = mext.tail.as_ref().unwrap();
    assert!(mdsp.disposition.is_none());
    assert!(mdsp.tail.as_ref().unwrap().language.is_empty());
    // A one-tag language list reads like a single string and is written as one.
    round_trip(
        b"(BODY (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1 NIL NIL (\"en\")))",
        Some(b"(BODY (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1 NIL NIL \"en\"))"),
    );
}

#[test]
fn errors_point_at_the_offending_byte() {
    let strict = Quirks::STRICT;
    let cases: &[(&[u8], usize, ErrorKind)] = &[
        (b"FLAGS ()", 0, ErrorKind::Syntax),
        (b"()", 1, ErrorKind::Syntax),
        // an unknown item with a value is kept (MessageDataItem::Other); without one it is not
        (b"(FOO)", 1, ErrorKind::Syntax),
        (b"(RFC822.FOO)", 1, ErrorKind::Syntax),
        (b"(FOO \r)", 5, ErrorKind::Syntax),
        (b"(BINARY.FOO[] 1)", 1, ErrorKind::Syntax),
        (b"(UID 0)", 5, ErrorKind::Number),
        (b"(UID 1", 6, ErrorKind::Syntax),
        (b"(UID 1 )", 7, ErrorKind::Syntax),
        (b"(UID 1  UID 2)", 7, ErrorKind::Syntax),
        (b"(UID 1)x", 7, ErrorKind::Syntax),
        (b"(UID\t1)", 4, ErrorKind::Syntax),
        (b"(RFC822.SIZE 18446744073709551616)", 13, ErrorKind::Number),
        (b"(MODSEQ (0))", 9, ErrorKind::Number),
        (b"(MODSEQ 5)", 8, ErrorKind::Syntax),
        (b"(MODSEQ (5 6))", 10, ErrorKind::Syntax),
        (b"(BODY[1.FOO] NIL)", 8, ErrorKind::Syntax),
        (b"(BODY[]<x> NIL)", 8, ErrorKind::Syntax),
        (b"(BODY[]<1 NIL)", 9, ErrorKind::Syntax),
        (b"(BODY[] FOO)", 8, ErrorKind::Syntax),
        (b"(BODY x)", 6, ErrorKind::Syntax),
        (b"(BINARY[1.TEXT] NIL)", 9, ErrorKind::Syntax),
        (b"(BINARY.SIZE[1] NIL)", 16, ErrorKind::Syntax),
        // envelope: nine fields where ten are due
        (
            b"(ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL))",
            46,
            ErrorKind::Syntax,
        ),
        // an address list that is neither a list nor NIL
        (
            b"(ENVELOPE (NIL NIL \"a\" NIL NIL NIL NIL NIL NIL NIL))",
            19,
            ErrorKind::Syntax,
        ),
        // spaces between addresses are refused when strict
        (
            b"(ENVELOPE (NIL NIL ((NIL NIL \"a\" \"b\") (NIL NIL \"c\" \"d\")) NIL NIL NIL NIL NIL NIL NIL))",
            37,
            ErrorKind::Syntax,
        ),
        // an address with three fields
        (
            b"(ENVELOPE (NIL NIL ((NIL \"a\" \"b\")) NIL NIL NIL NIL NIL NIL NIL))",
            32,
            ErrorKind::Syntax,
        ),
        // NIL where body-fld-enc is a string
        (
            b"(BODY (\"TEXT\" \"PLAIN\" NIL NIL NIL NIL 0 0))",
            34,
            ErrorKind::Syntax,
        ),
        // NIL subtype
        (
            b"(BODY (\"APPLICATION\" NIL NIL NIL NIL \"7BIT\" 0))",
            21,
            ErrorKind::Syntax,
        ),
        // text part without lines
        (
            b"(BODY (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0))",
            42,
            ErrorKind::Syntax,
        ),
        // octets beyond 32 bits
        (
            b"(BODY (\"A\" \"B\" NIL NIL NIL \"7BIT\" 4294967296))",
            34,
            ErrorKind::Number,
        ),
        // a parameter without value
        (
            b"(BODY (\"A\" \"B\" (\"CHARSET\") NIL NIL \"7BIT\" 0))",
            25,
            ErrorKind::Syntax,
        ),
        // body-fld-param neither list nor NIL
        (
            b"(BODY (\"A\" \"B\" \"x\" NIL NIL \"7BIT\" 0))",
            15,
            ErrorKind::Syntax,
        ),
        // a multipart without subtype
        (
            b"(BODY ((\"A\" \"B\" NIL NIL NIL \"7BIT\" 0)))",
            37,
            ErrorKind::Syntax,
        ),
        // body-fld-dsp that is a string
        (
            b"(BODY (\"A\" \"B\" NIL NIL NIL \"7BIT\" 0 NIL \"inline\"))",
            40,
            ErrorKind::Syntax,
        ),
        // body-fld-lang that is a number
        (
            b"(BODY (\"A\" \"B\" NIL NIL NIL \"7BIT\" 0 NIL NIL 5))",
            44,
            ErrorKind::Syntax,
        ),
        // a body-extension that is an atom
        (
            b"(BODY (\"A\" \"B\" NIL NIL NIL \"7BIT\" 0 NIL NIL NIL NIL FOO))",
            52,
            ErrorKind::Syntax,
        ),
        // an empty body-extension list
        (
            b"(BODY (\"A\" \"B\" NIL NIL NIL \"7BIT\" 0 NIL NIL NIL NIL ()))",
            53,
            ErrorKind::Syntax,
        ),
        // a message/rfc822 part without its envelope
        (
            b"(BODY (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 0 5))",
            47,
            ErrorKind::Syntax,
        ),
        // a literal longer than the input
        (b"(RFC822 {10}\r\nabc)", 8, ErrorKind::Incomplete),
    ];
    let mut wrong = Vec::new();
    for &(input, offset, kind) in cases {
        let e = err(input, strict);
        if (e.offset(), e.kind()) != (offset, kind) {
            wrong.push(format!("{} -> {e}", String::from_utf8_lossy(input)));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn expected_names_the_rule() {
    let e = err(b"(FOO)", Quirks::STRICT);
    assert_eq!(e.expected(), "msg-att");
    let e = err(b"(UID 1 UID 2", Quirks::STRICT);
    assert_eq!(e.expected(), "SP or \")\"");
    let e = err(b"(MODSEQ (0))", Quirks::STRICT);
    assert_eq!(e.expected(), "mod-sequence-value");
    let e = err(b"(ENVELOPE (NIL NIL 5", Quirks::STRICT);
    assert_eq!(e.expected(), "address list or NIL");
    let e = err(b"(BODY (\"A\" \"B\" \"x\"", Quirks::STRICT);
    assert_eq!(e.expected(), "body-fld-param");
    let e = err(
        b"(BODY (\"A\" \"B\" NIL NIL NIL \"7BIT\" 0 NIL 5",
        Quirks::STRICT,
    );
    assert_eq!(e.expected(), "body-fld-dsp");
}

fn nested_multipart(depth: usize) -> Vec<u8> {
    let mut v = b"(BODYSTRUCTURE ".to_vec();
    v.extend(std::iter::repeat_n(b'(', depth));
    v.extend_from_slice(b"\"A\" \"B\" NIL NIL NIL \"7BIT\" 0)");
    for _ in 1..depth {
        v.extend_from_slice(b" \"MIXED\")");
    }
    v.push(b')');
    v
}

#[test]
fn nesting_is_bounded() {
    let ok = nested_multipart(MAX_DEPTH as usize);
    assert!(parse(&ok, Quirks::STRICT).is_ok());
    let deep = nested_multipart(MAX_DEPTH as usize + 1);
    let e = err(&deep, Quirks::STRICT);
    assert_eq!(e.kind(), ErrorKind::TooDeep);
    assert_eq!(e.offset(), 15 + MAX_DEPTH as usize);
    // body-extension lists nest under the same bound (the body counts as one level)
    let mut ext = b"(BODY (\"A\" \"B\" NIL NIL NIL \"7BIT\" 0 NIL NIL NIL NIL ".to_vec();
    let prefix = ext.len();
    ext.extend(std::iter::repeat_n(b'(', MAX_DEPTH as usize));
    ext.push(b'1');
    ext.extend(std::iter::repeat_n(b')', MAX_DEPTH as usize + 2));
    let e = err(&ext, Quirks::STRICT);
    assert_eq!(e.kind(), ErrorKind::TooDeep);
    assert_eq!(e.offset(), prefix + MAX_DEPTH as usize - 1);
    // message/rfc822 parts nest too
    let mut msg = b"(BODY ".to_vec();
    let env = b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ";
    for _ in 0..=MAX_DEPTH {
        msg.extend_from_slice(b"(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 0 ");
        msg.extend_from_slice(env);
    }
    assert_eq!(err(&msg, Quirks::STRICT).kind(), ErrorKind::TooDeep);
}

#[test]
fn quirk_address_spaces() {
    let input = b"(ENVELOPE (NIL NIL ((NIL NIL \"a\" \"b\") (NIL NIL \"c\" \"d\")) NIL NIL NIL NIL NIL NIL NIL))";
    let mut q = Quirks::STRICT;
    assert!(parse(input, q).is_err());
    q.address_spaces = true;
    let items = parse(input, q).unwrap();
    let MessageDataItem::Envelope(e) = &items[0] else {
        panic!()
    };
    assert_eq!(e.from.len(), 2);
    assert_eq!(
        encode(&items),
        b"(ENVELOPE (NIL NIL ((NIL NIL \"a\" \"b\")(NIL NIL \"c\" \"d\")) NIL NIL NIL NIL NIL NIL NIL))"
    );
    // a space before the closing parenthesis is still refused
    let e = err(
        b"(ENVELOPE (NIL NIL ((NIL NIL \"a\" \"b\") ) NIL NIL NIL NIL NIL NIL NIL))",
        q,
    );
    assert_eq!(e.offset(), 37);
}

#[test]
fn quirk_nil_as_string() {
    let input = b"(BODYSTRUCTURE (\"APPLICATION\" NIL NIL NIL NIL NIL 10))";
    assert_eq!(err(input, Quirks::STRICT).offset(), 30);
    let mut q = Quirks::STRICT;
    q.nil_as_string = true;
    let items = parse(input, q).unwrap();
    assert_eq!(
        encode(&items),
        b"(BODYSTRUCTURE (\"APPLICATION\" \"\" NIL NIL NIL \"\" 10))"
    );
    // and the disposition type, parameter values, multipart subtype
    let input = b"(BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" NIL) NIL NIL \"7BIT\" 1 1 NIL (NIL NIL)) NIL))";
    let items = parse(input, q).unwrap();
    assert_eq!(
        encode(&items),
        b"(BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"\") NIL NIL \"7BIT\" 1 1 NIL (\"\" NIL)) \"\"))"
    );
}

#[test]
fn quirk_clamp_numbers() {
    let input =
        b"(RFC822.SIZE 99999999999999999999 BODY (\"A\" \"B\" NIL NIL NIL \"7BIT\" 4294967296))";
    assert_eq!(err(input, Quirks::STRICT).kind(), ErrorKind::Number);
    let mut q = Quirks::STRICT;
    q.clamp_numbers = true;
    let items = parse(input, q).unwrap();
    // RFC822.SIZE is number64 (RFC 9051): clamped to 2^63 - 1
    assert_eq!(items[0], MessageDataItem::Rfc822Size(i64::MAX as u64));
    let MessageDataItem::Body(b) = &items[1] else {
        panic!()
    };
    let BodyStructure::Single(p) = &**b else {
        panic!()
    };
    assert_eq!(p.fields.octets, u32::MAX);
}

#[test]
fn quirk_extra_spaces() {
    let input = b"(FLAGS (\\Seen)  UID 4 BODY ((\"A\" \"B\" NIL NIL NIL \"7BIT\" 0) (\"A\" \"B\" NIL NIL NIL \"7BIT\" 0)  \"MIXED\") )";
    assert_eq!(err(input, Quirks::STRICT).offset(), 15);
    let mut q = Quirks::STRICT;
    q.extra_spaces = true;
    let items = parse(input, q).unwrap();
    assert_eq!(
        encode(&items),
        b"(FLAGS (\\Seen) UID 4 BODY ((\"A\" \"B\" NIL NIL NIL \"7BIT\" 0)(\"A\" \"B\" NIL NIL NIL \"7BIT\" 0) \"MIXED\"))"
    );
}

#[test]
fn quirk_extra_spaces_before_closing_parentheses_in_bodies() {
    let input = b"(BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\" ) NIL NIL \"7BIT\" 1 1 NIL (\"inline\" NIL ) (\"en\" ) NIL (1 2 ) ) \"MIXED\"  ))";
    let e = err(input, Quirks::STRICT);
    // the `)` after the space that follows "UTF-8"
    assert_eq!(e.offset(), 51);
    let mut q = Quirks::STRICT;
    q.extra_spaces = true;
    let items = parse(input, q).unwrap();
    assert_eq!(
        encode(&items),
        b"(BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"7BIT\" 1 1 NIL (\"inline\" NIL) \"en\" NIL (1 2)) \"MIXED\"))"
    );
}

#[test]
fn constructors_refuse_what_would_not_read_back() {
    let st = |b: &'static [u8]| IString::from_bytes(b).unwrap();
    assert!(MediaType::new(st(b"text"), st(b"x")).is_err());
    assert!(MediaType::new(st(b"Message"), st(b"rfc822")).is_err());
    assert!(MediaType::new(st(b"MESSAGE"), st(b"GLOBAL")).is_err());
    let ok = MediaType::new(st(b"MESSAGE"), st(b"PARTIAL")).unwrap();
    assert_eq!(s(ok.media_type()), b"MESSAGE");
    assert_eq!(s(ok.subtype()), b"PARTIAL");
    assert!(Multipart::new(Vec::new(), st(b"MIXED"), None).is_err());
    assert!(ExtensionList::new(Vec::new()).is_err());
    let l = ExtensionList::new(vec![BodyExtension::Number(1)]).unwrap();
    assert_eq!(l.clone().into_vec(), vec![BodyExtension::Number(1)]);
}

#[test]
fn a_failed_body_leaves_the_depth_as_it_found_it() {
    // A caller that recovers from an error (and reads something else with the same reader)
    // must not inherit the nesting levels of the failed attempt.
    let mut bad = b"(".repeat(10);
    bad.extend_from_slice(b"\"A\" \"B\" NIL NIL NIL \"7BIT\" 0 NIL NIL NIL NIL (1 FOO)");
    let good = nested_multipart(MAX_DEPTH as usize);
    let good = &good[b"(BODYSTRUCTURE ".len()..good.len() - 1];
    let mut input = Vec::new();
    for _ in 0..MAX_DEPTH {
        input.extend_from_slice(&bad);
    }
    let failures_end = input.len();
    input.extend_from_slice(good);
    let mut r = Reader::new(&input, Quirks::STRICT);
    let mut at = 0;
    while at < failures_end {
        r.reset(at);
        assert!(BodyStructure::read(&mut r).is_err());
        at += bad.len();
    }
    r.reset(failures_end);
    assert!(BodyStructure::read(&mut r).is_ok());
    assert!(r.is_empty());
}

/// `body_content`: NUL goes as 0x80 (no string may hold NUL), 8-bit or long content as a
/// literal, short text quoted, empty content `""`; never NIL.
#[test]
fn body_content_is_a_string_without_nul() {
    let wire = |data: &[u8]| {
        let item = MessageDataItem::BodySection {
            section: None,
            origin: None,
            data: body_content(data.to_vec()),
        };
        encode(&[item])
    };
    assert_eq!(wire(b""), b"(BODY[] \"\")");
    assert_eq!(wire(b"Hi there"), b"(BODY[] \"Hi there\")");
    assert_eq!(wire(b"a\0b\0"), b"(BODY[] {4}\r\na\x80b\x80)");
    assert_eq!(wire(b"caf\xc3\xa9"), b"(BODY[] {5}\r\ncaf\xc3\xa9)");
    assert_eq!(wire(b"\xff\xfe"), b"(BODY[] {2}\r\n\xff\xfe)");
    assert_eq!(wire(b"line\r\n"), b"(BODY[] {6}\r\nline\r\n)");
    // Borrowed content stays borrowed unless a NUL had to be replaced.
    let data = b"x\r\n".as_slice();
    assert!(matches!(
        body_content(data).0,
        Some(IString::Literal(ref l)) if l.data().as_ptr() == data.as_ptr()
    ));
    assert_eq!(body_content(b"\0".as_slice()).data(), Some(&b"\x80"[..]));
}

/// `binary_content`: a `literal8` for NUL (RFC 3516 section 4.2, RFC 9051 section 7.5.2) and
/// for any other 8-bit octet; 7-bit content as the string `body_content` would write.
#[test]
fn binary_content_chooses_literal8_for_binary_octets() {
    let wire = |data: &[u8]| {
        let item = MessageDataItem::Binary {
            section: None,
            origin: Some(3),
            data: binary_content(data.to_vec()),
        };
        encode(&[item])
    };
    assert_eq!(wire(b""), b"(BINARY[]<3> \"\")");
    assert_eq!(wire(b"plain"), b"(BINARY[]<3> \"plain\")");
    assert_eq!(wire(b"two\r\nlines"), b"(BINARY[]<3> {10}\r\ntwo\r\nlines)");
    assert_eq!(wire(b"a\0b"), b"(BINARY[]<3> ~{3}\r\na\0b)");
    assert_eq!(wire(b"\x80"), b"(BINARY[]<3> ~{1}\r\n\x80)");
    assert_eq!(wire(b"\0"), b"(BINARY[]<3> ~{1}\r\n\0)");
    // What it writes parses back to the same octets.
    for data in [&b""[..], b"plain", b"a\0b", b"\xff\r\n\0"] {
        let bytes = wire(data);
        let items = parse(&bytes, Quirks::STRICT).unwrap();
        match items.iter().next() {
            Some(MessageDataItem::Binary { data: got, .. }) => assert_eq!(got.data(), Some(data)),
            other => panic!("{other:?}"),
        }
    }
}
