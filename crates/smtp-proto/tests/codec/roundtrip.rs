//! Properties: `parse(encode(x)) == x` for generated commands and replies; arbitrary bytes
//! never panic any parser.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::BytesMut;
use proptest::prelude::*;
use smtp_proto::*;

fn domain() -> impl Strategy<Value = Domain<'static>> {
    prop::collection::vec("[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", 1..4)
        .prop_map(|l| Domain::new(l.join(".")).unwrap())
}

fn host() -> impl Strategy<Value = Host<'static>> {
    prop_oneof![
        3 => domain().prop_map(Host::Domain),
        1 => any::<[u8; 4]>().prop_map(|a| Host::Literal(AddressLiteral::Ipv4(Ipv4Addr::from(a)))),
        1 => any::<[u16; 8]>().prop_map(|a| Host::Literal(AddressLiteral::Ipv6(Ipv6Addr::from(a)))),
        1 => ("x-[a-z]{1,5}", "[!-Z^-~]{1,10}").prop_map(|(t, c)| Host::Literal(AddressLiteral::General(GeneralLiteral::new(&t, &c).unwrap()))),
    ]
}

fn mailbox() -> impl Strategy<Value = Mailbox<'static>> {
    let local = prop_oneof![
        "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]{1,8}(\\.[a-zA-Z0-9_-]{1,8}){0,2}",
        "[ -~]{0,12}".prop_map(|s| LocalPart::from_unquoted(&s).unwrap().as_str().to_string()),
    ];
    (local, host()).prop_map(|(l, h)| Mailbox::new(LocalPart::new(l).unwrap(), h))
}

fn xtext() -> impl Strategy<Value = Xtext<'static>> {
    prop::collection::vec(any::<u8>(), 1..12).prop_map(|b| Xtext::encode(&b).unwrap())
}

fn unknown() -> impl Strategy<Value = Vec<Param<'static>>> {
    prop::collection::vec(
        ("X-[A-Z0-9]{1,6}", prop::option::of("[!-<>-~]{1,8}"))
            .prop_map(|(k, v)| Param::new(k, v.map(Cow::Owned)).unwrap()),
        0..3,
    )
}

fn mail_params() -> impl Strategy<Value = MailParams<'static>> {
    (
        prop::option::of(any::<u64>()),
        prop::option::of(prop_oneof![
            Just(Body::SevenBit),
            Just(Body::EightBitMime),
            Just(Body::BinaryMime)
        ]),
        any::<(bool, bool)>(),
        prop::option::of(prop_oneof![Just(Ret::Full), Just(Ret::Hdrs)]),
        prop::option::of(xtext()),
        prop::option::of(xtext()),
        unknown(),
    )
        .prop_map(
            |(size, body, (smtputf8, requiretls), ret, envid, auth, unknown)| {
                let mut p = MailParams::default();
                p.size = size;
                p.body = body;
                p.smtputf8 = smtputf8;
                p.requiretls = requiretls;
                p.ret = ret;
                p.envid = envid;
                p.auth = auth;
                p.unknown = unknown;
                p
            },
        )
}

fn rcpt_params() -> impl Strategy<Value = RcptParams<'static>> {
    (
        prop::option::of(prop_oneof![
            Just(Notify::never()),
            any::<(bool, bool, bool)>().prop_filter_map("empty", |(a, b, c)| Notify::on(a, b, c))
        ]),
        prop::option::of(("[a-z0-9-]{1,8}", xtext()).prop_map(|(t, x)| Orcpt::new(t, x).unwrap())),
        unknown(),
    )
        .prop_map(|(notify, orcpt, unknown)| {
            let mut p = RcptParams::default();
            p.notify = notify;
            p.orcpt = orcpt;
            p.unknown = unknown;
            p
        })
}

fn argument() -> impl Strategy<Value = Argument<'static>> {
    "[!-~]([ -~]{0,10}[!-~])?".prop_map(|s| Argument::new(s).unwrap())
}

fn command() -> impl Strategy<Value = Command<'static>> {
    prop_oneof![
        domain().prop_map(Command::Helo),
        host().prop_map(Command::Ehlo),
        host().prop_map(Command::Lhlo),
        (
            prop_oneof![
                Just(ReversePath::Null),
                mailbox().prop_map(ReversePath::Mailbox)
            ],
            mail_params()
        )
            .prop_map(|(from, params)| Command::Mail { from, params }),
        (
            prop_oneof![
                Just(ForwardPath::Postmaster),
                mailbox().prop_map(ForwardPath::Mailbox)
            ],
            rcpt_params()
        )
            .prop_map(|(to, params)| Command::Rcpt { to, params }),
        Just(Command::Data),
        Just(Command::Rset),
        Just(Command::Quit),
        Just(Command::StartTls),
        any::<(u64, bool)>().prop_map(|(size, last)| Command::Bdat { size, last }),
        argument().prop_map(Command::Vrfy),
        argument().prop_map(Command::Expn),
        argument().prop_map(Command::Etrn),
        prop::option::of(argument()).prop_map(Command::Help),
        prop::option::of(argument()).prop_map(Command::Noop),
        (
            "[A-Z0-9_-]{1,20}",
            prop::option::of(prop_oneof![
                Just(String::from("=")),
                "([A-Za-z0-9+/]{4}){1,4}"
            ])
        )
            .prop_map(|(m, ir)| Command::Auth {
                mechanism: Mechanism::new(m).unwrap(),
                initial_response: ir.map(|ir| InitialResponse::new(ir).unwrap()),
            }),
    ]
}

fn reply() -> impl Strategy<Value = Reply<'static>> {
    (
        (2u16..=5, 0u16..=5, 0u16..=9)
            .prop_map(|(a, b, c)| ReplyCode::new(a * 100 + b * 10 + c).unwrap()),
        prop::option::of(
            (
                prop_oneof![Just(2u8), Just(4), Just(5)],
                0u16..1000,
                0u16..1000,
            )
                .prop_map(|(c, s, d)| EnhancedStatusCode::new(c, s, d).unwrap()),
        ),
        prop::collection::vec(
            prop::collection::vec(
                any::<u8>().prop_filter("crlf", |b| *b != b'\r' && *b != b'\n'),
                0..20,
            ),
            1..5,
        ),
    )
        .prop_filter_map("ambiguous", |(code, enhanced, lines)| {
            Reply::new(code, enhanced, lines.into_iter().map(Cow::Owned)).ok()
        })
}

proptest! {
    #[test]
    fn command_round_trip(c in command()) {
        let mut out = BytesMut::new();
        c.encode(&mut out);
        prop_assert!(out.ends_with(b"\r\n"));
        let line = &out[..out.len() - 2];
        prop_assert!(!line.contains(&b'\r') && !line.contains(&b'\n'));
        prop_assert_eq!(Command::parse(line).unwrap(), c);
    }

    #[test]
    fn reply_round_trip(r in reply()) {
        let mut out = BytesMut::new();
        r.encode(&mut out);
        prop_assert_eq!(&Reply::parse(&out).unwrap(), &r);
        let mut p = ReplyParser::default();
        let mut got = None;
        for line in out[..].split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            got = p.push_line(line.strip_suffix(b"\r").unwrap()).unwrap();
        }
        prop_assert_eq!(got.unwrap(), r);
    }

    #[test]
    fn ehlo_round_trip(
        flags in any::<[bool; 11]>(),
        size in prop::option::of(prop::option::of(1u64..)),
        auth in prop::option::of(prop::collection::vec("[A-Z0-9_-]{1,10}", 0..4)),
        unknown in prop::collection::vec(("X-[A-Z]{1,6}", prop::collection::vec("[!-~]{1,6}", 0..3)), 0..3),
    ) {
        let mut caps = Capabilities::default();
        caps.greeting = b"mx.example hi".to_vec();
        [caps.pipelining, caps.eight_bit_mime, caps.smtputf8, caps.starttls, caps.enhanced_status_codes, caps.chunking,
            caps.binary_mime, caps.dsn, caps.etrn, caps.vrfy, caps.requiretls] = flags;
        caps.size = size;
        caps.auth = auth.map(|names| {
            let mut list = AuthMechanisms::new();
            for name in names {
                list.push(&name).unwrap();
            }
            list
        });
        caps.unknown = unknown;
        let mut out = BytesMut::new();
        caps.to_reply().unwrap().encode(&mut out);
        prop_assert_eq!(Capabilities::from_reply(&Reply::parse(&out).unwrap()).unwrap(), caps);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        for o in [ParseOptions::default(), ParseOptions::default().with_smtputf8(true)] {
            if let Ok(c) = Command::parse_with(&bytes, o) {
                let mut out = BytesMut::new();
                c.encode(&mut out);
                prop_assert_eq!(Command::parse_with(&out[..out.len() - 2], o).unwrap(), c);
            }
        }
        if let Ok(r) = Reply::parse(&bytes) {
            let _ = Capabilities::from_reply(&r);
        }
        let mut p = ReplyParser::new(3);
        for line in bytes.split(|b| *b == b'\n') {
            let _ = p.push_line(line);
        }
    }

    #[test]
    fn mutated_commands_never_panic(c in command(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut out = BytesMut::new();
        c.encode(&mut out);
        let mut line = out[..out.len() - 2].to_vec();
        let i = pos.index(line.len());
        line[i] = byte;
        if let Ok(c) = Command::parse(&line) {
            let mut out = BytesMut::new();
            c.encode(&mut out);
            prop_assert_eq!(Command::parse(&out[..out.len() - 2]).unwrap(), c);
        }
    }
}
