//! FETCH data items from the outside: real-server shaped BODYSTRUCTUREs and ENVELOPEs, the
//! quirks of named servers, and proptest round trips.

use imap_proto::Quirks;
use imap_proto::Writer;
use imap_proto::fetch::{
    BodyStructure, MessageDataItem, MsgAtt, PartKind, encode_msg_att, parse_msg_att,
};

// ---------------------------------------------------------------------------------------
// Real-server shaped responses.

fn round_trip(input: &[u8], quirks: Quirks) -> MsgAtt<'static> {
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
fn unknown_items_are_kept() {
    // Gmail's X-GM-MSGID is an extension item this crate does not know: kept as sent
    // (review fix: the response is no longer lost)
    let input = b"(UID 52 X-GM-MSGID 1278455344230334865)";
    let items = round_trip(input, Quirks::STRICT);
    assert!(matches!(&items[1], MessageDataItem::Other { name, value }
        if name.as_str() == "X-GM-MSGID" && value.as_bytes() == b"1278455344230334865"));
    // an unknown name without a value is still refused at its offset
    let e = parse_msg_att(b"(UID 52 X-GM-MSGID)", Quirks::LENIENT).unwrap_err();
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

#[test]
fn values_borrow_from_the_input() {
    // Strings without escapes and literal data point into the input: nothing is copied.
    let input = b"(ENVELOPE (\"d\" \"Subject here\" NIL NIL NIL NIL NIL NIL NIL NIL) \
BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"7BIT\" 1 1) BODY[TEXT] {4}\r\nbody)";
    let range = input.as_ptr_range();
    let inside = |d: &[u8]| range.contains(&d.as_ptr()) && d.as_ptr_range().end <= range.end;
    let items = parse_msg_att(input, Quirks::STRICT).unwrap();
    let MessageDataItem::Envelope(e) = &items[0] else {
        panic!()
    };
    assert!(inside(e.subject.data().unwrap()));
    let MessageDataItem::BodyStructure(b) = &items[1] else {
        panic!()
    };
    let BodyStructure::Single(p) = &**b else {
        panic!()
    };
    assert!(inside(p.fields.parameters[0].1.data()));
    let MessageDataItem::BodySection { data, .. } = &items[2] else {
        panic!()
    };
    assert_eq!(data.data(), Some(&b"body"[..]));
    assert!(inside(data.data().unwrap()));
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
    // number64 (RFC 9051): clamped to 2^63 - 1
    assert_eq!(items[0], MessageDataItem::Rfc822Size(i64::MAX as u64));
    assert!(matches!(
        items[1],
        MessageDataItem::BinarySize { size: u32::MAX, .. }
    ));
}

// ---------------------------------------------------------------------------------------
// Constructors refuse what would not read back as itself.

mod refusals {
    use imap_proto::List;
    use imap_proto::core::{AString, IString};
    use imap_proto::fetch::{BodyExtension, ExtensionList, MediaType, Multipart, Part, Section};

    fn st(b: &'static str) -> IString<'static> {
        IString::from_bytes(b.as_bytes()).unwrap()
    }

    #[test]
    fn basic_media_types_exclude_text_and_messages() {
        for (t, s) in [
            ("TEXT", "PLAIN"),
            ("text", "anything"),
            ("MESSAGE", "RFC822"),
            ("message", "global"),
        ] {
            let e = MediaType::new(st(t), st(s)).unwrap_err();
            assert_eq!(e.what, "media-basic", "{t}/{s}");
        }
        assert!(MediaType::new(st("MESSAGE"), st("DELIVERY-STATUS")).is_ok());
        assert!(MediaType::new(st("TEXTUAL"), st("X")).is_ok());
    }

    #[test]
    fn empty_lists_are_refused() {
        assert!(Multipart::new(Vec::new(), st("MIXED"), None).is_err());
        assert!(ExtensionList::new(Vec::new()).is_err());
        assert!(ExtensionList::new(vec![BodyExtension::Number(0)]).is_ok());
        assert!(Part::new(List::new()).is_err());
        assert!(Section::header_fields(None, List::new()).is_err());
        assert!(Section::header_fields_not(None, List::new()).is_err());
        let one: List<AString<'_>> = [AString::from_bytes(&b"Date"[..]).unwrap()]
            .into_iter()
            .collect();
        assert!(Section::header_fields(None, one).is_ok());
    }
}

// ---------------------------------------------------------------------------------------
// proptest: generated values encode, parse back strictly, and are equal.

mod round_trips {
    use imap_proto::core::{AString, IString, Literal, Literal8, LiteralMode, NString, NString8};
    use imap_proto::datetime::{Date, DateTime};
    use imap_proto::fetch::{
        Address, AddressList, BodyExtension, BodyFields, BodyStructure, Disposition,
        DispositionTail, Envelope, ExtensionList, LanguageTail, LocationTail, MediaType,
        MessageDataItem, MessagePart, MultiPartExtension, Multipart, Parameters, Part, PartKind,
        Partial, Section, SinglePart, SinglePartExtension, encode_msg_att, parse_msg_att,
    };
    use imap_proto::flag::{Flag, FlagFetch};
    use imap_proto::{Encode, EncodeOptions, List, Quirks, Writer};
    use proptest::prelude::*;
    use std::num::{NonZeroU32, NonZeroU64};

    fn options() -> EncodeOptions {
        // UTF-8 may stay quoted, so a generated quoted string is written as one
        let mut o = EncodeOptions::default();
        o.utf8 = true;
        o
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            3 => proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b' '), Just(b'"'), Just(b'\\'), Just(b'('), Just(b'Z')],
                0..8
            ),
            1 => proptest::collection::vec(1u8..=255, 0..12),
        ]
    }

    fn istring() -> BoxedStrategy<IString<'static>> {
        prop_oneof![
            4 => bytes().prop_map(|b| IString::from_bytes(b).unwrap()),
            1 => (bytes(), any::<bool>()).prop_map(|(b, sync)| {
                let mode = if sync { LiteralMode::Sync } else { LiteralMode::NonSync };
                IString::Literal(Literal::new(b, mode).unwrap())
            }),
        ]
        .boxed()
    }

    fn nstring() -> BoxedStrategy<NString<'static>> {
        proptest::option::weighted(0.7, istring())
            .prop_map(NString)
            .boxed()
    }

    fn address() -> BoxedStrategy<Address<'static>> {
        (nstring(), nstring(), nstring(), nstring())
            .prop_map(|(name, adl, mailbox, host)| Address {
                name,
                adl,
                mailbox,
                host,
            })
            .boxed()
    }

    fn addresses() -> BoxedStrategy<AddressList<'static>> {
        proptest::collection::vec(address(), 0..4)
            .prop_map(|v| v.into_iter().collect())
            .boxed()
    }

    fn envelope() -> BoxedStrategy<Envelope<'static>> {
        (
            (nstring(), nstring(), addresses(), addresses(), addresses()),
            (addresses(), addresses(), addresses(), nstring(), nstring()),
        )
            .prop_map(
                |((date, subject, from, sender, reply_to), (to, cc, bcc, irt, mid))| Envelope {
                    date,
                    subject,
                    from,
                    sender,
                    reply_to,
                    to,
                    cc,
                    bcc,
                    in_reply_to: irt,
                    message_id: mid,
                },
            )
            .boxed()
    }

    fn params() -> BoxedStrategy<Parameters<'static>> {
        proptest::collection::vec((istring(), istring()), 0..6)
            .prop_map(|v| v.into_iter().collect())
            .boxed()
    }

    fn body_extension() -> BoxedStrategy<BodyExtension<'static>> {
        let leaf = prop_oneof![
            nstring().prop_map(BodyExtension::NString),
            any::<u64>().prop_map(BodyExtension::Number),
        ];
        leaf.prop_recursive(3, 12, 4, |inner| {
            proptest::collection::vec(inner, 1..4)
                .prop_map(|v| BodyExtension::List(ExtensionList::new(v).unwrap()))
        })
        .boxed()
    }

    fn tail() -> BoxedStrategy<Option<DispositionTail<'static>>> {
        let disposition = proptest::option::of(
            (istring(), params()).prop_map(|(kind, parameters)| Disposition { kind, parameters }),
        );
        let location = proptest::option::of(
            (nstring(), proptest::collection::vec(body_extension(), 0..3)).prop_map(
                |(location, extensions)| LocationTail {
                    location,
                    extensions,
                },
            ),
        );
        let language = proptest::option::of(
            (proptest::collection::vec(istring(), 0..4), location).prop_map(|(l, tail)| {
                LanguageTail {
                    language: l.into_iter().collect(),
                    tail,
                }
            }),
        );
        proptest::option::of(
            (disposition, language)
                .prop_map(|(disposition, tail)| DispositionTail { disposition, tail }),
        )
        .boxed()
    }

    fn fields() -> BoxedStrategy<BodyFields<'static>> {
        (params(), nstring(), nstring(), istring(), any::<u32>())
            .prop_map(
                |(parameters, id, description, encoding, octets)| BodyFields {
                    parameters,
                    id,
                    description,
                    encoding,
                    octets,
                },
            )
            .boxed()
    }

    fn single_ext() -> BoxedStrategy<Option<SinglePartExtension<'static>>> {
        proptest::option::of(
            (nstring(), tail()).prop_map(|(md5, tail)| SinglePartExtension { md5, tail }),
        )
        .boxed()
    }

    fn media_type() -> BoxedStrategy<MediaType<'static>> {
        (istring(), istring())
            .prop_filter_map("not TEXT or MESSAGE/RFC822", |(t, s)| {
                MediaType::new(t, s).ok()
            })
            .boxed()
    }

    fn body() -> BoxedStrategy<BodyStructure<'static>> {
        let leaf = prop_oneof![
            (media_type(), fields(), single_ext()).prop_map(|(m, fields, extension)| {
                BodyStructure::Single(SinglePart {
                    kind: PartKind::Basic(m),
                    fields,
                    extension,
                })
            }),
            (istring(), any::<u64>(), fields(), single_ext()).prop_map(
                |(subtype, lines, fields, extension)| {
                    BodyStructure::Single(SinglePart {
                        kind: PartKind::Text { subtype, lines },
                        fields,
                        extension,
                    })
                }
            ),
        ];
        leaf.prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                (
                    proptest::collection::vec(inner.clone(), 1..4),
                    istring(),
                    proptest::option::of(
                        (params(), tail())
                            .prop_map(|(parameters, tail)| MultiPartExtension { parameters, tail })
                    ),
                )
                    .prop_map(|(bodies, subtype, extension)| {
                        BodyStructure::Multi(Multipart::new(bodies, subtype, extension).unwrap())
                    }),
                (
                    any::<bool>(),
                    envelope(),
                    inner,
                    any::<u64>(),
                    fields(),
                    single_ext()
                )
                    .prop_map(
                        |(global, envelope, body, lines, fields, extension)| {
                            BodyStructure::Single(SinglePart {
                                kind: PartKind::Message(Box::new(MessagePart {
                                    global,
                                    envelope,
                                    body,
                                    lines,
                                })),
                                fields,
                                extension,
                            })
                        }
                    ),
            ]
        })
        .boxed()
    }

    fn part() -> BoxedStrategy<Part> {
        proptest::collection::vec(1u32..100, 1..4)
            .prop_map(|v| Part::new(v.into_iter().filter_map(NonZeroU32::new).collect()).unwrap())
            .boxed()
    }

    fn astring() -> BoxedStrategy<AString<'static>> {
        bytes()
            .prop_map(|b| AString::from_bytes(b).unwrap())
            .boxed()
    }

    fn section() -> BoxedStrategy<Option<Section<'static>>> {
        let fields = || proptest::collection::vec(astring(), 1..4).prop_map(List::from);
        proptest::option::of(prop_oneof![
            part().prop_map(Section::Part),
            proptest::option::of(part()).prop_map(Section::Header),
            (proptest::option::of(part()), fields())
                .prop_map(|(p, f)| Section::header_fields(p, f).unwrap()),
            (proptest::option::of(part()), fields())
                .prop_map(|(p, f)| Section::header_fields_not(p, f).unwrap()),
            proptest::option::of(part()).prop_map(Section::Text),
            part().prop_map(Section::Mime),
        ])
        .boxed()
    }

    fn flag() -> impl Strategy<Value = FlagFetch<'static>> {
        prop_oneof![
            Just(FlagFetch::Recent),
            Just(FlagFetch::Flag(Flag::Seen)),
            Just(FlagFetch::Flag(Flag::Answered)),
            Just(FlagFetch::Flag(Flag::Deleted)),
            "[A-Za-z$][A-Za-z0-9_-]{0,8}".prop_map(|k| FlagFetch::Flag(Flag::keyword(k).unwrap())),
            "[A-Z][a-z]{0,8}"
                .prop_map(|k| FlagFetch::Flag(Flag::extension(format!("X{k}")).unwrap())),
        ]
    }

    fn date_time() -> impl Strategy<Value = DateTime> {
        (
            1970u16..2100,
            1u8..=12,
            1u8..=28,
            0u8..24,
            0u8..60,
            0u8..60,
            -720i16..=840,
        )
            .prop_map(|(y, mo, d, h, mi, s, z)| {
                DateTime::new(Date::new(y, mo, d).unwrap(), h, mi, s, z).unwrap()
            })
    }

    fn nstring8() -> BoxedStrategy<NString8<'static>> {
        prop_oneof![
            nstring().prop_map(NString8::NString),
            (proptest::collection::vec(any::<u8>(), 0..12), any::<bool>()).prop_map(|(b, s)| {
                let mode = if s {
                    LiteralMode::Sync
                } else {
                    LiteralMode::NonSync
                };
                NString8::Literal8(Literal8::new(b, mode))
            }),
        ]
        .boxed()
    }

    fn item() -> BoxedStrategy<MessageDataItem<'static>> {
        use MessageDataItem as M;
        prop_oneof![
            proptest::collection::vec(flag(), 0..5).prop_map(|f| M::Flags(List::from(f))),
            any::<u32>()
                .prop_filter_map("nz", NonZeroU32::new)
                .prop_map(M::Uid),
            date_time().prop_map(M::InternalDate),
            (0..=i64::MAX as u64).prop_map(M::Rfc822Size),
            nstring().prop_map(M::Rfc822),
            nstring().prop_map(M::Rfc822Header),
            nstring().prop_map(M::Rfc822Text),
            envelope().prop_map(|e| M::Envelope(Box::new(e))),
            body().prop_map(|b| M::Body(Box::new(b))),
            body().prop_map(|b| M::BodyStructure(Box::new(b))),
            (section(), proptest::option::of(any::<u32>()), nstring()).prop_map(
                |(section, origin, data)| M::BodySection {
                    section: section.map(Box::new),
                    origin,
                    data
                }
            ),
            (
                proptest::option::of(part()),
                proptest::option::of(any::<u32>()),
                nstring8()
            )
                .prop_map(|(section, origin, data)| M::Binary {
                    section: section.map(Box::new),
                    origin,
                    data
                }),
            (proptest::option::of(part()), any::<u32>())
                .prop_map(|(section, size)| M::BinarySize { section, size }),
            (1..=i64::MAX as u64)
                .prop_filter_map("nz", NonZeroU64::new)
                .prop_map(M::ModSeq),
        ]
        .boxed()
    }

    fn encode_items(items: &[MessageDataItem<'_>]) -> Vec<u8> {
        let mut w = Writer::new(options());
        encode_msg_att(items, &mut w);
        w.finish().into_bytes()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn msg_att_lists(items in proptest::collection::vec(item(), 1..5)) {
            let bytes = encode_items(&items);
            let back = parse_msg_att(&bytes, Quirks::STRICT)
                .map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(&bytes))))?;
            prop_assert_eq!(back.map(MessageDataItem::into_static).into_vec(), items.clone());
            // and the lenient reader agrees on well-formed input
            let back = parse_msg_att(&bytes, Quirks::LENIENT).unwrap();
            prop_assert_eq!(back.map(MessageDataItem::into_static).into_vec(), items);
        }

        #[test]
        fn body_structures(b in body()) {
            let mut w = Writer::new(options());
            b.encode(&mut w);
            let bytes = w.finish().into_bytes();
            let back = BodyStructure::parse(&bytes)
                .map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(&bytes))))?;
            prop_assert_eq!(back.into_static(), b);
        }

        #[test]
        fn envelopes(e in envelope()) {
            let mut w = Writer::new(options());
            e.encode(&mut w);
            let bytes = w.finish().into_bytes();
            prop_assert_eq!(Envelope::parse(&bytes).unwrap().into_static(), e);
        }

        #[test]
        fn sections_and_partials(s in section(), start in 0..=i64::MAX as u64, len in 1..=i64::MAX as u64) {
            if let Some(s) = &s {
                let mut w = Writer::new(options());
                s.encode(&mut w);
                let bytes = w.finish().into_bytes();
                prop_assert_eq!(&Section::parse(&bytes).unwrap().into_static(), s);
            }
            let p = Partial { start, length: std::num::NonZeroU64::new(len).unwrap() };
            prop_assert_eq!(Partial::parse(&p.to_bytes()).unwrap(), p);
        }

        /// The quoted strings of FETCH data go through the word-at-a-time scan of
        /// `Quoted::read`: it must accept exactly what the byte-wise rules accept.
        #[test]
        fn quoted_scan_agrees_with_the_grammar(content in proptest::collection::vec(
            prop_oneof![8 => 0x20u8..0x7f, 1 => 1u8..=0xff],
            0..40,
        )) {
            let mut wire = vec![b'"'];
            for &b in &content {
                if b == b'"' || b == b'\\' {
                    wire.push(b'\\');
                }
                wire.push(b);
            }
            wire.push(b'"');
            let parsed = imap_proto::core::Quoted::parse(&wire);
            let forbidden = content.iter().position(|&b| b == b'\r' || b == b'\n');
            let utf8 = std::str::from_utf8(&content).is_ok();
            match parsed {
                Ok(q) => {
                    prop_assert!(forbidden.is_none() && utf8);
                    prop_assert_eq!(q.data(), &content[..]);
                }
                Err(_) => prop_assert!(forbidden.is_some() || !utf8),
            }
        }

        #[test]
        fn garbage_never_panics(input in proptest::collection::vec(
            prop_oneof![
                Just(b'('), Just(b')'), Just(b' '), Just(b'"'), Just(b'N'), Just(b'I'),
                Just(b'L'), Just(b'1'), Just(b'{'), Just(b'}'), Just(b'\r'), Just(b'\n'),
                any::<u8>()
            ],
            0..64,
        )) {
            let mut framed = b"(BODYSTRUCTURE ".to_vec();
            framed.extend_from_slice(&input);
            let _ = parse_msg_att(&framed, Quirks::LENIENT);
            let _ = parse_msg_att(&input, Quirks::STRICT);
            let _ = Envelope::parse_with(&input, Quirks::LENIENT);
        }
    }
}
