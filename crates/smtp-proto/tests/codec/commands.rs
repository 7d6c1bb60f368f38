//! Known-answer tables for commands: bytes -> value -> bytes -> value.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::BytesMut;
use smtp_proto::*;

fn enc(c: &Command<'_>) -> Vec<u8> {
    let mut out = BytesMut::new();
    c.encode(&mut out);
    out.to_vec()
}

/// Parses `input`, checks the canonical encoding, and that it parses back to the same value.
fn check(input: &str, canonical: &str) -> Command<'static> {
    let opts = ParseOptions::default().with_smtputf8(true);
    let c = Command::parse_with(input.as_bytes(), opts).unwrap_or_else(|e| panic!("{input}: {e}"));
    let wire = enc(&c);
    assert_eq!(
        String::from_utf8_lossy(&wire),
        format!("{canonical}\r\n"),
        "{input}"
    );
    let again = Command::parse_with(&wire[..wire.len() - 2], opts).unwrap();
    assert_eq!(again, c);
    c.into_owned()
}

fn mb(s: &'static str) -> Mailbox<'static> {
    Mailbox::parse(s).unwrap()
}

#[test]
fn known_answers() {
    let table: &[(&str, &str)] = &[
        ("HELO client.example", "HELO client.example"),
        ("helo client.example", "HELO client.example"),
        ("EHLO [192.0.2.1]", "EHLO [192.0.2.1]"),
        ("ehlo [IPv6:2001:db8::1]", "EHLO [IPv6:2001:db8::1]"),
        ("LHLO lmtp.example", "LHLO lmtp.example"),
        ("MAIL FROM:<>", "MAIL FROM:<>"),
        (
            "mail from:<a@b.example> size=10 body=8bitmime",
            "MAIL FROM:<a@b.example> SIZE=10 BODY=8BITMIME",
        ),
        ("MAIL FROM: <a@b.example>", "MAIL FROM:<a@b.example>"),
        (
            "MAIL FROM:<@relay.example,@r2.example:a@b.example>",
            "MAIL FROM:<a@b.example>",
        ),
        (
            "MAIL FROM:<\"john doe\"@b.example> RET=HDRS ENVID=QQ+2B1 AUTH=<>",
            "MAIL FROM:<\"john doe\"@b.example> RET=HDRS ENVID=QQ+2B1 AUTH=<>",
        ),
        (
            "MAIL FROM:<a@b.example> BODY=BINARYMIME SMTPUTF8 REQUIRETLS X-FOO=bar X-BARE",
            "MAIL FROM:<a@b.example> BODY=BINARYMIME SMTPUTF8 REQUIRETLS X-FOO=bar X-BARE",
        ),
        (
            "MAIL FROM:<用户@例子.广告> SMTPUTF8",
            "MAIL FROM:<用户@例子.广告> SMTPUTF8",
        ),
        ("RCPT TO:<postmaster>", "RCPT TO:<Postmaster>"),
        (
            "RCPT TO:<Postmaster@b.example>",
            "RCPT TO:<Postmaster@b.example>",
        ),
        (
            "RCPT TO:<c@[IPv6:::ffff:192.0.2.1]> NOTIFY=delay,success ORCPT=rfc822;c+40b.example",
            "RCPT TO:<c@[IPv6:::ffff:192.0.2.1]> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;c+40b.example",
        ),
        (
            "RCPT TO:<c@[x-tag:any.thing]> NOTIFY=NEVER",
            "RCPT TO:<c@[x-tag:any.thing]> NOTIFY=NEVER",
        ),
        ("data", "DATA"),
        ("BDAT 1000", "BDAT 1000"),
        ("bdat 0 last", "BDAT 0 LAST"),
        ("RSET", "RSET"),
        ("VRFY postmaster", "VRFY postmaster"),
        ("EXPN list-name", "EXPN list-name"),
        ("HELP", "HELP"),
        ("HELP mail", "HELP mail"),
        ("NOOP", "NOOP"),
        ("noop hello there", "NOOP hello there"),
        ("QUIT", "QUIT"),
        ("StartTLS", "STARTTLS"),
        (
            "AUTH plain AGFsaWNlAHNlY3JldA==",
            "AUTH PLAIN AGFsaWNlAHNlY3JldA==",
        ),
        ("AUTH PLAIN =", "AUTH PLAIN ="),
        ("AUTH SCRAM-SHA-256", "AUTH SCRAM-SHA-256"),
        ("ETRN @example.org", "ETRN @example.org"),
    ];
    for (input, canonical) in table {
        check(input, canonical);
    }
}

#[test]
fn values() {
    assert_eq!(
        check("MAIL FROM:<>", "MAIL FROM:<>"),
        Command::Mail {
            from: ReversePath::Null,
            params: MailParams::default()
        }
    );
    let Command::Mail {
        from: ReversePath::Mailbox(m),
        params,
    } = check(
        "MAIL FROM:<a@b.example> SIZE=10 BODY=7BIT RET=FULL",
        "MAIL FROM:<a@b.example> SIZE=10 BODY=7BIT RET=FULL",
    )
    else {
        panic!()
    };
    assert_eq!(m, mb("a@b.example"));
    assert_eq!(
        (params.size, params.body, params.ret),
        (Some(10), Some(Body::SevenBit), Some(Ret::Full))
    );
    let Command::Rcpt {
        to: ForwardPath::Mailbox(m),
        params,
    } = check(
        "RCPT TO:<x@[192.0.2.1]> ORCPT=rfc822;x+2By@z X-Y=1",
        "RCPT TO:<x@[192.0.2.1]> ORCPT=rfc822;x+2By@z X-Y=1",
    )
    else {
        panic!()
    };
    assert_eq!(
        m.host,
        Host::Literal(AddressLiteral::Ipv4(Ipv4Addr::new(192, 0, 2, 1)))
    );
    let o = params.orcpt.unwrap();
    assert_eq!(
        (o.addr_type(), &o.address().decode()[..]),
        ("rfc822", &b"x+y@z"[..])
    );
    assert_eq!(params.unknown[0].keyword(), "X-Y");
    assert_eq!(params.unknown[0].value(), Some("1"));
    let Command::Ehlo(Host::Literal(AddressLiteral::Ipv6(a))) =
        check("EHLO [IPv6:2001:db8::1]", "EHLO [IPv6:2001:db8::1]")
    else {
        panic!()
    };
    assert_eq!(a, "2001:db8::1".parse::<Ipv6Addr>().unwrap());
    assert_eq!(
        check("BDAT 0 LAST", "BDAT 0 LAST"),
        Command::Bdat {
            size: 0,
            last: true
        }
    );
    assert_eq!(LocalPart::new("\"a\\\"b\"").unwrap().unquoted(), "a\"b");
    assert_eq!(
        LocalPart::from_unquoted("john doe").unwrap().as_str(),
        "\"john doe\""
    );
    assert_eq!(
        LocalPart::from_unquoted("john.doe").unwrap().as_str(),
        "john.doe"
    );
}

#[test]
fn syntax_errors_name_rule_and_offset() {
    let cases: &[(&str, CommandError)] = &[
        ("FOO bar", CommandError::UnknownCommand),
        (
            "MAIL FROM:<a@b.example",
            CommandError::Syntax {
                rule: "Path",
                offset: 22,
            },
        ),
        (
            "MAIL FROM:<a@-b.example>",
            CommandError::Syntax {
                rule: "sub-domain",
                offset: 13,
            },
        ),
        (
            "RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS",
            CommandError::Syntax {
                rule: "notify-esmtp-value",
                offset: 26,
            },
        ),
        (
            "MAIL FROM:<a@b> SIZE=1 SIZE=2",
            CommandError::DuplicateParameter {
                keyword: "SIZE",
                offset: 23,
            },
        ),
        (
            "MAIL FROM:<a@b> BODY=9BIT",
            CommandError::Syntax {
                rule: "body-value",
                offset: 21,
            },
        ),
        (
            "MAIL FROM:<a@b> SMTPUTF8=yes",
            CommandError::Syntax {
                rule: "SMTPUTF8",
                offset: 25,
            },
        ),
        (
            "MAIL FROM:<a@b> ENVID=a+2",
            CommandError::Syntax {
                rule: "hexchar",
                offset: 23,
            },
        ),
        (
            "HELO",
            CommandError::Syntax {
                rule: "SP",
                offset: 4,
            },
        ),
        (
            "HELO [192.0.2.1]",
            CommandError::Syntax {
                rule: "sub-domain",
                offset: 5,
            },
        ),
        (
            "EHLO [300.0.2.1]",
            CommandError::Syntax {
                rule: "Snum",
                offset: 6,
            },
        ),
        (
            "EHLO [IPv6:2001:db8:::1]",
            CommandError::Syntax {
                rule: "IPv6-addr",
                offset: 11,
            },
        ),
        (
            "VRFY",
            CommandError::Syntax {
                rule: "SP",
                offset: 4,
            },
        ),
        (
            "BDAT 10 FIRST",
            CommandError::Syntax {
                rule: "end-marker",
                offset: 8,
            },
        ),
        (
            "AUTH PLAIN abc",
            CommandError::Syntax {
                rule: "base64",
                offset: 11,
            },
        ),
        (
            "RCPT TO:<a@b> ",
            CommandError::Syntax {
                rule: "esmtp-keyword",
                offset: 14,
            },
        ),
    ];
    for (input, want) in cases {
        assert_eq!(
            &Command::parse(input.as_bytes()).unwrap_err(),
            want,
            "{input}"
        );
    }
}

#[test]
fn utf8_needs_smtputf8() {
    let line = "MAIL FROM:<用户@例子.广告>".as_bytes();
    assert_eq!(
        Command::parse(line).unwrap_err(),
        CommandError::Utf8NotAllowed {
            rule: "Mailbox",
            offset: 11
        }
    );
    assert!(Command::parse_with(line, ParseOptions::default().with_smtputf8(true)).is_ok());
    let rcpt = "RCPT TO:<ü@x.example>".as_bytes();
    assert_eq!(
        Command::parse(rcpt).unwrap_err(),
        CommandError::Utf8NotAllowed {
            rule: "Local-part",
            offset: 9
        }
    );
    assert!(Command::parse_with(rcpt, ParseOptions::default().with_smtputf8(true)).is_ok());
}

#[test]
fn into_owned_outlives_the_line() {
    let owned = {
        let line = b"RCPT TO:<a@b.example> NOTIFY=FAILURE X-Z=1".to_vec();
        Command::parse(&line).unwrap().into_owned()
    };
    assert_eq!(
        enc(&owned),
        b"RCPT TO:<a@b.example> NOTIFY=FAILURE X-Z=1\r\n"
    );
}

#[test]
fn constructors_refuse_injection() {
    assert!(Domain::new("a.example\r\nRSET").is_err());
    assert!(Domain::new("a..example").is_err());
    assert!(Domain::new("a-.example").is_err());
    assert!(Domain::new("x".repeat(64)).is_err());
    // RFC 5321 section 4.5.3.1.2: at most 255 octets.
    let longest = vec!["a".repeat(63); 4].join(".");
    assert_eq!(longest.len(), 255);
    assert!(Domain::new(longest.clone()).is_ok());
    assert!(Domain::new(format!("{longest}.b")).is_err());
    assert!(LocalPart::new("a\r\nb").is_err());
    assert!(LocalPart::from_unquoted("a\nb").is_err());
    assert!(Mailbox::parse("a@b.example>").is_err());
    assert!(Argument::new("x\r\nQUIT").is_err());
    assert!(Argument::new(" x").is_err());
    assert!(Xtext::new("a b").is_err());
    assert!(Xtext::new("a=b").is_err());
    assert_eq!(Xtext::encode(b"a+b=c d").unwrap().as_str(), "a+2Bb+3Dc+20d");
    assert!(Xtext::encode(b"").is_err());
    assert!(Xtext::new("").is_err());
    assert!(Param::new("SIZE", Some(Cow::Borrowed("1"))).is_err());
    assert!(Param::new("X-A", Some(Cow::Borrowed("a b"))).is_err());
    assert!(Param::new("X-A", Some(Cow::Borrowed("a=b"))).is_err());
    assert!(Mechanism::new("plain").is_err());
    assert!(InitialResponse::new("abc").is_err());
    assert!(Orcpt::new("rfc=822", Xtext::new("a").unwrap()).is_err());
    assert!(ReplyCode::new(600).is_err());
    assert!(ReplyCode::new(260).is_err());
    assert!(EnhancedStatusCode::new(3, 0, 0).is_err());
    assert!(Notify::on(false, false, false).is_none());
    assert!(AddressLiteral::new("[IPv6:1::2::3]").is_err());
    // A General-address-literal is built only through its validating constructor.
    for (tag, content) in [
        ("x", "1]>\r\nRSET\r\nRCPT TO:<evil@attacker.example"),
        ("x", "a b"),
        ("x", "a]b"),
        ("x", ""),
        ("x-", "a"),
        ("", "a"),
        ("a:b", "c"),
        ("ipv6", "::1"),
    ] {
        assert!(
            GeneralLiteral::new(tag, content).is_err(),
            "{tag:?} {content:?}"
        );
    }
    let literal = GeneralLiteral::new("x-new", "a.b").unwrap();
    let rcpt = Command::Rcpt {
        to: ForwardPath::Mailbox(Mailbox {
            local: LocalPart::new("bob").unwrap(),
            host: Host::Literal(AddressLiteral::General(literal)),
        }),
        params: RcptParams::default(),
    };
    let mut out = BytesMut::new();
    rcpt.encode(&mut out);
    assert_eq!(&out[..], b"RCPT TO:<bob@[x-new:a.b]>\r\n");
}

#[test]
fn the_debug_of_an_auth_command_hides_the_initial_response() {
    // base64 of "\0alice\0hunter2": the password, readable by anyone who decodes it.
    let command = Command::parse(b"AUTH PLAIN AGFsaWNlAGh1bnRlcjI=").unwrap();
    let shown = format!("{command:?}");
    assert!(!shown.contains("AGFsaWNlAGh1bnRlcjI"), "{shown}");
    assert!(
        shown.contains("PLAIN") && shown.contains("20 octets"),
        "{shown}"
    );
    // The value itself is still there for the SASL layer.
    let Command::Auth {
        initial_response: Some(response),
        ..
    } = command
    else {
        panic!("{command:?}")
    };
    assert_eq!(response.as_str(), "AGFsaWNlAGh1bnRlcjI=");
}

#[test]
fn invalid_utf8_is_an_error_not_replaced() {
    let line = b"MAIL FROM:<a\xff@b.example> SMTPUTF8";
    assert_eq!(
        Command::parse(line).unwrap_err(),
        CommandError::InvalidUtf8 {
            rule: "Local-part",
            offset: 12
        }
    );
    let vrfy = b"VRFY caf\xc3";
    assert!(matches!(
        Command::parse_with(vrfy, ParseOptions::default().with_smtputf8(true)),
        Err(CommandError::InvalidUtf8 { .. })
    ));
}

/// RFC 5321 section 4.5.3.1: local part at most 64 octets, domain at most 255, path at most
/// 256 (from `<` to `>`), each breach a typed error at the first octet over the limit.
#[test]
fn size_limits_of_section_4_5_3_1() {
    let label = "d".repeat(63);
    // Local part: 64 octets pass, 65 fail (RFC 5321 section 4.5.3.1.1).
    let at_limit = format!("MAIL FROM:<{}@b.example>", "a".repeat(64));
    assert!(Command::parse(at_limit.as_bytes()).is_ok());
    let quoted = &"a b".repeat(21)[..62];
    let quoted_at_limit = format!("RCPT TO:<\"{quoted}\"@b.example>");
    assert!(Command::parse(quoted_at_limit.as_bytes()).is_ok());
    let over = format!("MAIL FROM:<{}@b.example>", "a".repeat(65));
    assert_eq!(
        Command::parse(over.as_bytes()).unwrap_err(),
        CommandError::LocalPartTooLong { offset: 11 + 64 }
    );
    let over = format!("RCPT TO:<\"{}\"@b.example>", "a".repeat(63));
    assert_eq!(
        Command::parse(over.as_bytes()).unwrap_err(),
        CommandError::LocalPartTooLong { offset: 9 + 64 }
    );
    assert!(LocalPart::new("a".repeat(64)).is_ok());
    assert_eq!(
        LocalPart::new("a".repeat(65)).unwrap_err(),
        ValueError {
            rule: "Local-part",
            offset: 64
        }
    );
    assert!(Mailbox::parse(&format!("{}@b.example", "a".repeat(65))).is_err());

    // Domain: 255 octets pass, 256 fail (RFC 5321 section 4.5.3.1.2).
    let domain255 = [label.as_str(); 4].join(".");
    assert_eq!(domain255.len(), 255);
    assert!(Command::parse(format!("EHLO {domain255}").as_bytes()).is_ok());
    let over = format!("EHLO {domain255}d");
    assert_eq!(
        Command::parse(over.as_bytes()).unwrap_err(),
        CommandError::Syntax {
            rule: "sub-domain",
            offset: 5 + 192
        }
    );
    let over = format!("EHLO {domain255}.d");
    assert_eq!(
        Command::parse(over.as_bytes()).unwrap_err(),
        CommandError::Syntax {
            rule: "Domain",
            offset: 5 + 255
        }
    );

    // Path: 256 octets pass, 257 fail (RFC 5321 section 4.5.3.1.3).
    let domain = |len: usize| {
        let mut labels = Vec::new();
        let mut left = len;
        while left > 0 {
            let n = left.min(63);
            labels.push("x".repeat(n));
            left -= n;
            if left > 0 {
                left -= 1; // the dot
                if left == 0 {
                    labels.last_mut().unwrap().pop();
                    left = 1;
                }
            }
        }
        labels.join(".")
    };
    let local = "a".repeat(64);
    // "<" + 64 + "@" + domain + ">" = 256 with a 189-octet domain.
    let path256 = format!("<{local}@{}>", domain(189));
    assert_eq!(path256.len(), 256);
    assert!(Command::parse(format!("MAIL FROM:{path256}").as_bytes()).is_ok());
    assert!(Command::parse(format!("RCPT TO:{path256} NOTIFY=NEVER").as_bytes()).is_ok());
    let path257 = format!("<{local}@{}>", domain(190));
    assert_eq!(path257.len(), 257);
    assert_eq!(
        Command::parse(format!("MAIL FROM:{path257}").as_bytes()).unwrap_err(),
        CommandError::PathTooLong { offset: 10 + 256 }
    );
    assert_eq!(
        Command::parse(format!("RCPT TO: {path257}").as_bytes()).unwrap_err(),
        CommandError::PathTooLong { offset: 9 + 256 }
    );
    // A source route counts toward the path.
    let routed = format!("<@{}:a@b.example>", domain(250));
    assert_eq!(
        Command::parse(format!("MAIL FROM:{routed}").as_bytes()).unwrap_err(),
        CommandError::PathTooLong { offset: 10 + 256 }
    );
    assert_eq!(
        CommandError::PathTooLong { offset: 266 }.offset(),
        Some(266)
    );
}
