//! FETCH data items from the outside: real-server shaped BODYSTRUCTUREs and ENVELOPEs, the
//! quirks of named servers, and proptest round trips.

use imap_proto::Quirks;
use imap_proto::fetch::{BodyStructure, MessageDataItem, PartKind, encode_msg_att, parse_msg_att};
use imap_proto::{List, Writer};

// ---------------------------------------------------------------------------------------
// Real-server shaped responses.

fn round_trip(input: &[u8], quirks: Quirks) -> List<MessageDataItem<'static>> {
    let items = parse_msg_att(input, quirks)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(input)));
    let mut w = Writer::new(Default::default());
    encode_msg_att(&items, &mut w);
    let bytes = w.finish().into_bytes();
    let again = parse_msg_att(&bytes, Quirks::STRICT)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)));
    let items = items.map(MessageDataItem::into_static);
    assert_eq!(again.map(MessageDataItem::into_static), items);
    items
}

fn body(items: &[MessageDataItem<'_>]) -> BodyStructure<'static> {
    for i in items {
        if let MessageDataItem::BodyStructure(b) | MessageDataItem::Body(b) = i {
            return (**b).clone().into_static();
        }
    }
    panic!("no body structure in {items:?}")
}

/// The media type of every part, depth first, as `type/subtype` (`multipart/x` for
/// multiparts).
fn shape(b: &BodyStructure<'_>, out: &mut Vec<String>) {
    let s = |d: &[u8]| String::from_utf8_lossy(d).to_ascii_lowercase();
    match b {
        BodyStructure::Single(p) => match &p.kind {
            PartKind::Basic(m) => out.push(format!(
                "{}/{}",
                s(m.media_type().data()),
                s(m.subtype().data())
            )),
            PartKind::Text { subtype, .. } => out.push(format!("text/{}", s(subtype.data()))),
            PartKind::Message(m) => {
                out.push(if m.global {
                    "message/global".into()
                } else {
                    "message/rfc822".into()
                });
                shape(&m.body, out);
            }
        },
        BodyStructure::Multi(m) => {
            out.push(format!("multipart/{}", s(m.subtype.data())));
            for b in m.bodies() {
                shape(b, out);
            }
        }
    }
}

fn shape_of(items: &[MessageDataItem<'_>]) -> Vec<String> {
    let mut v = Vec::new();
    shape(&body(items), &mut v);
    v
}

#[test]
fn gmail_multipart_alternative() {
    // Gmail writes types in upper case and three extension fields on each part.
    let input = b"(UID 52 BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"7BIT\" 403 9 NIL NIL NIL)(\"TEXT\" \"HTML\" (\"CHARSET\" \"UTF-8\") NIL NIL \"QUOTED-PRINTABLE\" 1270 26 NIL NIL NIL) \"ALTERNATIVE\" (\"BOUNDARY\" \"0000000000001a2b3c05f1d2e3f4\") NIL NIL))";
    let items = round_trip(input, Quirks::STRICT);
    assert_eq!(
        shape_of(&items),
        ["multipart/alternative", "text/plain", "text/html"]
    );
    let BodyStructure::Multi(m) = body(&items) else {
        panic!()
    };
    let ext = m.extension.unwrap();
    assert_eq!(ext.parameters[0].1.data(), b"0000000000001a2b3c05f1d2e3f4");
    let tail = ext.tail.unwrap();
    assert!(tail.disposition.is_none());
    assert!(tail.tail.unwrap().language.is_empty());
}

#[test]
fn unknown_items_are_refused_at_their_offset() {
    // Gmail's X-GM-MSGID is an extension item this crate does not know.
    let input = b"(UID 52 X-GM-MSGID 1278455344230334865)";
    let e = parse_msg_att(input, Quirks::LENIENT).unwrap_err();
    assert_eq!((e.offset(), e.expected()), (8, "msg-att"));
}

#[test]
fn dovecot_mixed_with_attachment() {
    // Dovecot writes types in lower case and all four extension fields.
    let input = b"(UID 7 RFC822.SIZE 48213 BODYSTRUCTURE (((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 512 14 NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 2048 40 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"=_alt_17\") NIL NIL NIL)(\"application\" \"pdf\" (\"name\" \"report Q3.pdf\") NIL NIL \"base64\" 44120 NIL (\"attachment\" (\"filename\" \"report Q3.pdf\" \"size\" \"32240\")) NIL NIL) \"mixed\" (\"boundary\" \"=_mixed_17\") NIL NIL NIL))";
    let items = round_trip(input, Quirks::STRICT);
    assert_eq!(
        shape_of(&items),
        [
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "text/html",
            "application/pdf"
        ]
    );
    let BodyStructure::Multi(m) = body(&items) else {
        panic!()
    };
    let BodyStructure::Single(pdf) = &m.bodies()[1] else {
        panic!()
    };
    assert_eq!(pdf.fields.octets, 44120);
    assert_eq!(pdf.fields.encoding.data(), b"base64");
    let dsp = pdf.extension.as_ref().unwrap().tail.as_ref().unwrap();
    let d = dsp.disposition.as_ref().unwrap();
    assert_eq!(d.kind.data(), b"attachment");
    assert_eq!(d.parameters.len(), 2);
    assert_eq!(d.parameters[0].1.data(), b"report Q3.pdf");
}

#[test]
fn exchange_language_and_disposition_parameters() {
    // Exchange fills body-fld-lang and puts sizes and dates in the disposition.
    let input = b"(BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"quoted-printable\" 1532 41 NIL NIL \"en-US\" NIL)(\"application\" \"vnd.openxmlformats-officedocument.wordprocessingml.document\" (\"name\" \"Plan.docx\") \"<0F1E2D3C4B5A@EURPRD01.PROD.OUTLOOK.COM>\" \"Plan.docx\" \"base64\" 30558 NIL (\"attachment\" (\"filename\" \"Plan.docx\" \"size\" \"22330\" \"creation-date\" \"Tue, 02 Jan 2024 09:15:00 GMT\" \"modification-date\" \"Tue, 02 Jan 2024 09:15:00 GMT\")) NIL NIL) \"mixed\" (\"boundary\" \"_004_EURPRD01_\") NIL \"en-US\"))";
    let items = round_trip(input, Quirks::STRICT);
    let BodyStructure::Multi(m) = body(&items) else {
        panic!()
    };
    let BodyStructure::Single(text) = &m.bodies()[0] else {
        panic!()
    };
    let lang = text.extension.as_ref().unwrap().tail.as_ref().unwrap();
    assert_eq!(lang.tail.as_ref().unwrap().language[0].data(), b"en-US");
    let BodyStructure::Single(doc) = &m.bodies()[1] else {
        panic!()
    };
    let d = doc.extension.as_ref().unwrap().tail.as_ref().unwrap();
    // four parameters: more than the inline capacity of a List
    assert_eq!(d.disposition.as_ref().unwrap().parameters.len(), 4);
    assert_eq!(doc.fields.description.data(), Some(&b"Plan.docx"[..]));
    let mtail = m.extension.as_ref().unwrap().tail.as_ref().unwrap();
    assert_eq!(mtail.tail.as_ref().unwrap().language.len(), 1);
}

#[test]
fn nested_message_rfc822_in_a_report() {
    // A delivery report: text, delivery-status, and the returned message with its own
    // multipart/alternative body.
    let input = b"(BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL \"Notification\" \"7bit\" 520 12 NIL NIL NIL NIL)(\"message\" \"delivery-status\" NIL NIL \"Delivery report\" \"7bit\" 410 NIL NIL NIL NIL)(\"message\" \"rfc822\" NIL NIL \"Undelivered Message\" \"8bit\" 2810 (\"Mon, 8 Jan 2024 10:00:00 +0100\" \"Hello\" ((\"Ann Example\" NIL \"ann\" \"example.org\")) ((\"Ann Example\" NIL \"ann\" \"example.org\")) ((\"Ann Example\" NIL \"ann\" \"example.org\")) ((NIL NIL \"nobody\" \"example.net\")) NIL NIL NIL \"<msg-1@example.org>\") ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 20 1 NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 90 2 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"inner\") NIL NIL NIL) 61 NIL (\"inline\" NIL) NIL NIL) \"report\" (\"report-type\" \"delivery-status\" \"boundary\" \"outer\") NIL NIL NIL))";
    let items = round_trip(input, Quirks::STRICT);
    assert_eq!(
        shape_of(&items),
        [
            "multipart/report",
            "text/plain",
            "message/delivery-status",
            "message/rfc822",
            "multipart/alternative",
            "text/plain",
            "text/html"
        ]
    );
    let BodyStructure::Multi(m) = body(&items) else {
        panic!()
    };
    let BodyStructure::Single(msg) = &m.bodies()[2] else {
        panic!()
    };
    let PartKind::Message(inner) = &msg.kind else {
        panic!()
    };
    assert_eq!(inner.lines, 61);
    assert_eq!(inner.envelope.to[0].host.data(), Some(&b"example.net"[..]));
}

// ---------------------------------------------------------------------------------------
// Quirks of named servers (docs/imap.md lists them).

/// Offset of the first occurrence of `needle` in `input`.
fn at(input: &[u8], needle: &[u8]) -> usize {
    input
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle")
}

fn only(f: impl FnOnce(&mut Quirks)) -> Quirks {
    let mut q = Quirks::STRICT;
    f(&mut q);
    q
}

#[test]
fn quirk_icloud_and_maddy_nil_encoding() {
    // iCloud and maddy send NIL as body-fld-enc for a part without
    // Content-Transfer-Encoding.
    let input = b"(UID 111 BODYSTRUCTURE ((\"text\" \"plain\" (\"CHARSET\" \"UTF-8\") NIL NIL NIL 1694 51 NIL NIL NIL NIL)(\"text\" \"html\" (\"CHARSET\" \"UTF-8\") NIL NIL \"quoted-printable\" 5750 77 NIL NIL NIL NIL) \"alternative\" (\"BOUNDARY\" \"x\") NIL NIL NIL))";
    let e = parse_msg_att(input, Quirks::STRICT).unwrap_err();
    assert_eq!(e.offset(), at(input, b"NIL 1694"));
    let items = round_trip(input, only(|q| q.nil_as_string = true));
    let BodyStructure::Multi(m) = body(&items) else {
        panic!()
    };
    let BodyStructure::Single(p) = &m.bodies()[0] else {
        panic!()
    };
    assert_eq!(p.fields.encoding.data(), b"");
}

#[test]
fn quirk_mail_ru_nil_parameter_value() {
    // Mail.ru sends NIL as the value of a body parameter (the boundary).
    let input = b"(BODYSTRUCTURE ((\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1) \"mixed\" (\"boundary\" NIL) NIL NIL))";
    assert_eq!(
        parse_msg_att(input, Quirks::STRICT).unwrap_err().offset(),
        at(input, b"NIL)")
    );
    let items = round_trip(input, only(|q| q.nil_as_string = true));
    let BodyStructure::Multi(m) = body(&items) else {
        panic!()
    };
    assert_eq!(m.extension.unwrap().parameters[0].1.data(), b"");
}

#[test]
fn quirk_outlook_address_spaces() {
    // Outlook.com and GreenMail put a space between the addresses of a list.
    let input = b"(ENVELOPE (\"Tue, 28 Nov 2023 10:00:00 +0000\" \"hi\" ((\"A\" NIL \"a\" \"x.com\")) ((\"A\" NIL \"a\" \"x.com\")) ((\"A\" NIL \"a\" \"x.com\")) ((\"B\" NIL \"b\" \"y.com\") (\"C\" NIL \"c\" \"z.com\")) NIL NIL NIL \"<1@x.com>\"))";
    let e = parse_msg_att(input, Quirks::STRICT).unwrap_err();
    assert_eq!(
        (e.offset(), e.expected()),
        (at(input, b") (\"C\"") + 1, "address or \")\"")
    );
    let items = round_trip(input, only(|q| q.address_spaces = true));
    let MessageDataItem::Envelope(e) = &items[0] else {
        panic!()
    };
    assert_eq!(e.to.len(), 2);
    assert_eq!(e.to[1].mailbox.data(), Some(&b"c"[..]));
}

#[test]
fn quirk_qq_space_before_closing_parenthesis() {
    // imap.qq.com ends a FETCH list with a space: `(UID 19436 )`.
    let input = b"(UID 19436 )";
    let e = parse_msg_att(input, Quirks::STRICT).unwrap_err();
    assert_eq!((e.offset(), e.expected()), (11, "msg-att"));
    let items = round_trip(input, only(|q| q.extra_spaces = true));
    assert_eq!(items.len(), 1);
}

#[test]
fn quirk_clamped_sizes() {
    let input = b"(RFC822.SIZE 18446744073709551616 BINARY.SIZE[1] 4294967296)";
    let e = parse_msg_att(input, Quirks::STRICT).unwrap_err();
    assert_eq!(e.offset(), 13);
    let items = round_trip(input, only(|q| q.clamp_numbers = true));
    assert_eq!(items[0], MessageDataItem::Rfc822Size(u64::MAX));
    assert!(matches!(
        items[1],
        MessageDataItem::BinarySize { size: u32::MAX, .. }
    ));
}
