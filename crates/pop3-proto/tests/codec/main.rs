//! The codec: command and response parsing, errors naming the rule and offset, and
//! `parse(encode(x)) == x` as property tests.

use bytes::BytesMut;
use mail_wire::Secret;
use pop3_proto::{
    Capability, Command, CommandError, MAX_COMMAND_LINE, RespCode, Response, ResponseError,
    ScanListing, Status, Uid, UidListing,
};
use proptest::prelude::*;

mod review;

#[test]
fn commands_parse_case_insensitively_and_errors_name_the_offset() {
    assert_eq!(Command::parse(b"stat"), Ok(Command::Stat));
    assert_eq!(Command::parse(b"list 3"), Ok(Command::List(Some(3))));
    assert_eq!(
        Command::parse(b"PASS two words"),
        Ok(Command::Pass(Secret::new("two words".into())))
    );
    assert_eq!(
        Command::parse(b"STAT 1"),
        Err(CommandError::UnexpectedArgument {
            verb: "STAT",
            offset: 4
        })
    );
    assert_eq!(
        Command::parse(b"RETR x"),
        Err(CommandError::BadArgument {
            verb: "RETR",
            offset: 5
        })
    );
    assert_eq!(
        Command::parse(b"RETR"),
        Err(CommandError::MissingArgument { verb: "RETR" })
    );
    assert_eq!(
        Command::parse(b"RETR 99999999999"),
        Err(CommandError::BadArgument {
            verb: "RETR",
            offset: 5
        })
    );
    assert_eq!(Command::parse(b"HELO"), Err(CommandError::UnknownCommand));
    assert_eq!(
        Command::parse(b"USER a\0b"),
        Err(CommandError::BadArgument {
            verb: "",
            offset: 6
        })
    );
    // An error never quotes a password.
    let error = Command::parse(b"PASS").unwrap_err();
    assert_eq!(error.to_string(), "PASS: missing argument");
}

/// Attack review (round 20): RFC 1939 section 7 lets `TOP` ask for any non-negative number of
/// lines. A count past `u32::MAX` asks for more lines than the message can have: it is read
/// as `u32::MAX` (every line), not refused. Digits are bounded all the same: no count is
/// longer than the command line that carries it (`MAX_COMMAND_LINE`).
#[test]
fn top_takes_any_line_count_and_reads_a_huge_one_as_every_line() {
    let top = |lines| Ok(Command::Top { message: 1, lines });
    assert_eq!(Command::parse(b"TOP 1 4294967295"), top(u32::MAX));
    assert_eq!(Command::parse(b"TOP 1 4294967296"), top(u32::MAX));
    assert_eq!(Command::parse(b"TOP 1 99999999999"), top(u32::MAX));
    assert_eq!(Command::parse(b"top 1 000000000000000000007"), top(7));
    assert_eq!(Command::parse(b"TOP 1 00000000000000000000"), top(0));
    let longest = format!("TOP 1 {}", "9".repeat(MAX_COMMAND_LINE));
    assert_eq!(Command::parse(longest.as_bytes()), top(u32::MAX));
    let too_long = format!("TOP 1 {}", "9".repeat(MAX_COMMAND_LINE + 1));
    assert_eq!(
        Command::parse(too_long.as_bytes()),
        Err(CommandError::BadArgument {
            verb: "TOP",
            offset: 6
        })
    );
    for refused in [&b"TOP 1 -1"[..], b"TOP 1 +5", b"TOP 1 1e9", b"TOP 1 "] {
        assert_eq!(
            Command::parse(refused),
            Err(CommandError::BadArgument {
                verb: "TOP",
                offset: 6
            }),
            "{}",
            String::from_utf8_lossy(refused)
        );
    }
    // The message number is still a u32: there is no message past it.
    assert_eq!(
        Command::parse(b"TOP 4294967296 1"),
        Err(CommandError::BadArgument {
            verb: "TOP",
            offset: 4
        })
    );
    // What the encoder writes for the clamped count parses back to it.
    let mut wire = BytesMut::new();
    Command::parse(b"TOP 1 99999999999")
        .unwrap()
        .encode(&mut wire)
        .unwrap();
    assert_eq!(&wire[..], b"TOP 1 4294967295\r\n");
    assert_eq!(Command::parse(&wire[..wire.len() - 2]), top(u32::MAX));
}

#[test]
fn responses_codes_and_listings() {
    let r = Response::parse(b"+OK").unwrap();
    assert_eq!((r.status(), r.code(), r.text()), (Status::Ok, None, ""));
    let r = Response::parse(b"-ERR [SYS/TEMP] try later").unwrap();
    assert_eq!(r.code(), Some(&RespCode::SysTemp));
    assert_eq!(Response::parse(b"OK"), Err(ResponseError::BadStatus));
    assert_eq!(
        Response::parse(b"-ERR [AUTH"),
        Err(ResponseError::BadCode { offset: 5 })
    );
    assert_eq!(
        ScanListing::parse(b"2 200 extra").unwrap(),
        ScanListing {
            message: 2,
            size: 200
        }
    );
    assert!(UidListing::parse(b"1 ").is_err());
    assert_eq!(
        Capability::parse(b"utf8 user").unwrap(),
        Capability::Utf8 { user: true }
    );
    assert_eq!(
        Capability::parse(b"IMPLEMENTATION Shlemazle Plotz v302").unwrap(),
        Capability::Implementation("Shlemazle Plotz v302".into())
    );
}

fn command() -> impl Strategy<Value = Command<'static>> {
    let word = "[A-Za-z0-9@._-]{1,20}";
    prop_oneof![
        Just(Command::Stat),
        Just(Command::Noop),
        Just(Command::Rset),
        Just(Command::Quit),
        Just(Command::Capa),
        Just(Command::Stls),
        Just(Command::Utf8),
        proptest::option::of(any::<u32>()).prop_map(Command::List),
        proptest::option::of(any::<u32>()).prop_map(Command::Uidl),
        any::<u32>().prop_map(Command::Retr),
        any::<u32>().prop_map(Command::Dele),
        (any::<u32>(), any::<u32>()).prop_map(|(message, lines)| Command::Top { message, lines }),
        word.prop_map(|w| Command::User(Box::leak(w.into_boxed_str()))),
        "[ -~]{1,40}".prop_map(|p| Command::Pass(Secret::new(p))),
        (word, "[0-9a-f]{32}").prop_map(|(n, d)| Command::Apop {
            name: Box::leak(n.into_boxed_str()),
            digest: Box::leak(d.into_boxed_str()),
        }),
        (
            "[A-Z0-9-]{1,20}",
            proptest::option::of("[A-Za-z0-9+/=]{1,60}")
        )
            .prop_map(|(m, i)| {
                Command::Auth {
                    mechanism: Box::leak(m.into_boxed_str()),
                    initial_response: i.map(Secret::new),
                }
            }),
    ]
}

proptest! {
    #[test]
    fn commands_round_trip(command in command()) {
        let mut wire = BytesMut::new();
        command.encode(&mut wire).unwrap();
        prop_assert!(wire.ends_with(b"\r\n"));
        let parsed = Command::parse(&wire[..wire.len() - 2]).unwrap();
        prop_assert_eq!(parsed, command);
    }

    #[test]
    fn responses_round_trip(
        ok in any::<bool>(),
        code in proptest::option::of("[A-Z0-9-]{1,10}(/[A-Z0-9-]{1,10})?"),
        text in "([!-Z\\\\-~][ -~]{0,40})?",
    ) {
        let status = if ok { Status::Ok } else { Status::Err };
        let code = code.as_deref().map(RespCode::from_name);
        let response = Response::new(status, code, text.as_str()).unwrap();
        let mut wire = BytesMut::new();
        response.encode(&mut wire);
        let parsed = Response::parse(&wire[..wire.len() - 2]).unwrap();
        prop_assert_eq!(parsed, response);
    }

    #[test]
    fn listings_round_trip(message in any::<u32>(), size in any::<u64>(), uid in "[!-~]{1,70}") {
        let scan = ScanListing { message, size };
        let mut wire = BytesMut::new();
        scan.encode(&mut wire);
        prop_assert_eq!(ScanListing::parse(&wire[..wire.len() - 2]).unwrap(), scan);
        let listing = UidListing { message, uid: Uid::new(uid).unwrap() };
        let mut wire = BytesMut::new();
        listing.encode(&mut wire);
        prop_assert_eq!(UidListing::parse(&wire[..wire.len() - 2]).unwrap(), listing);
    }

    #[test]
    fn top_line_counts_of_any_size_clamp_and_round_trip(digits in "[0-9]{1,38}") {
        let line = format!("TOP 2 {digits}");
        let expected = digits
            .parse::<u128>()
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            .unwrap();
        let parsed = Command::parse(line.as_bytes()).unwrap();
        prop_assert_eq!(&parsed, &Command::Top { message: 2, lines: expected });
        let mut wire = BytesMut::new();
        parsed.encode(&mut wire).unwrap();
        prop_assert_eq!(Command::parse(&wire[..wire.len() - 2]).unwrap(), parsed);
    }

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Command::parse(&bytes);
        let _ = Response::parse(&bytes);
        let _ = Capability::parse(&bytes);
        let _ = ScanListing::parse(&bytes);
        let _ = UidListing::parse(&bytes);
    }
}

#[test]
fn commands_that_would_not_parse_back_are_refused_and_write_nothing() {
    use pop3_proto::ValueError;
    let refused = [
        (
            Command::User("alice\r\nDELE 1"),
            ValueError::Octet { offset: 5 },
        ),
        (Command::User("two words"), ValueError::Octet { offset: 3 }),
        (Command::User(""), ValueError::Length { limit: usize::MAX }),
        (
            Command::Pass(Secret::new("pw\nQUIT".into())),
            ValueError::Octet { offset: 2 },
        ),
        (
            Command::Apop {
                name: "alice",
                digest: "c4c9334bac560ecc979e58001b3e22f",
            },
            ValueError::Length { limit: 32 },
        ),
        (
            Command::Apop {
                name: "alice",
                digest: "c4c9334bac560ecc979e58001b3e22fz",
            },
            ValueError::Octet { offset: 31 },
        ),
        (
            Command::Auth {
                mechanism: "PLAIN\r\n",
                initial_response: None,
            },
            ValueError::Octet { offset: 5 },
        ),
        (
            Command::Auth {
                mechanism: "PLAIN",
                initial_response: Some(Secret::new("AGFsaWNl AA==".into())),
            },
            ValueError::Octet { offset: 8 },
        ),
        (Command::Lang(Some("en\r")), ValueError::Octet { offset: 2 }),
    ];
    for (command, error) in refused {
        let mut wire = BytesMut::new();
        assert_eq!(command.check(), Err(error), "{command:?}");
        assert_eq!(command.encode(&mut wire), Err(error), "{command:?}");
        assert!(wire.is_empty(), "{command:?} wrote {wire:?}");
    }
    let mut wire = BytesMut::new();
    Command::Pass(Secret::new("two words".into()))
        .encode(&mut wire)
        .unwrap();
    assert_eq!(&wire[..], b"PASS two words\r\n");
}
