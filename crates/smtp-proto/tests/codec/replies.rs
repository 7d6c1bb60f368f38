//! Replies and EHLO capabilities: known answers, the line limit, errors.

use std::borrow::Cow;

use bytes::BytesMut;
use smtp_proto::*;

fn enc(r: &Reply<'_>) -> Vec<u8> {
    let mut out = BytesMut::new();
    r.encode(&mut out);
    out.to_vec()
}

/// Wire bytes, code, enhanced code, lines of text.
type Case = (
    &'static [u8],
    u16,
    Option<&'static str>,
    &'static [&'static [u8]],
);

#[test]
fn known_answers() {
    let table: &[Case] = &[
        (b"250 OK\r\n", 250, None, &[b"OK"]),
        (
            b"220 mx.example ESMTP ready\r\n",
            220,
            None,
            &[b"mx.example ESMTP ready"],
        ),
        (
            b"250 2.1.0 Sender ok\r\n",
            250,
            Some("2.1.0"),
            &[b"Sender ok"],
        ),
        (
            b"550-5.1.1 No such\r\n550-5.1.1 user\r\n550 5.1.1 here\r\n",
            550,
            Some("5.1.1"),
            &[b"No such", b"user", b"here"],
        ),
        (b"354 Go ahead\r\n", 354, None, &[b"Go ahead"]),
        (b"221\r\n", 221, None, &[b""]),
        (b"250-a\r\n250-\r\n250 b\r\n", 250, None, &[b"a", b"", b"b"]),
        (b"421 4.3.2 \r\n", 421, Some("4.3.2"), &[b""]),
    ];
    for (wire, code, enhanced, lines) in table {
        let r = Reply::parse(wire).unwrap();
        assert_eq!(r.code().get(), *code);
        assert_eq!(r.enhanced().map(|e| e.to_string()).as_deref(), *enhanced);
        let got: Vec<&[u8]> = r.lines().collect();
        assert_eq!(&got, lines);
        let wire2 = enc(&r);
        let again = Reply::parse(&wire2).unwrap();
        assert_eq!(again, r);
    }
    // Canonical encodings.
    assert_eq!(enc(&Reply::parse(b"221\r\n").unwrap()), b"221\r\n");
    assert_eq!(
        enc(&Reply::parse(b"550-5.1.1 a\r\n550 b\r\n").unwrap()),
        b"550-5.1.1 a\r\n550 5.1.1 b\r\n"
    );
}

#[test]
fn reply_parser_line_by_line() {
    let mut p = ReplyParser::default();
    assert_eq!(p.push_line(b"250-mx.example").unwrap(), None);
    assert!(p.is_pending());
    let r = p.push_line(b"250 PIPELINING").unwrap().unwrap();
    assert_eq!(r.lines().len(), 2);
    assert!(!p.is_pending());
    // The next reply starts fresh.
    assert_eq!(
        p.push_line(b"354 go").unwrap().unwrap().code(),
        ReplyCode::START_DATA
    );
}

#[test]
fn reply_parser_bounds_lines_and_errors_stick() {
    let mut p = ReplyParser::new(100);
    for _ in 0..100 {
        assert_eq!(p.push_line(b"250-x").unwrap(), None);
    }
    assert_eq!(
        p.push_line(b"250 x").unwrap_err(),
        ReplyError::TooManyLines { limit: 100 }
    );
    assert_eq!(
        p.push_line(b"250 ok").unwrap_err(),
        ReplyError::TooManyLines { limit: 100 }
    );
    let mut many = Vec::new();
    for _ in 0..150 {
        many.extend_from_slice(b"250-x\r\n");
    }
    many.extend_from_slice(b"250 x\r\n");
    assert_eq!(
        Reply::parse(&many).unwrap_err(),
        ReplyError::TooManyLines { limit: 100 }
    );
}

#[test]
fn reply_errors() {
    let mut p = ReplyParser::default();
    p.push_line(b"250-a").unwrap();
    assert_eq!(
        p.push_line(b"251 b").unwrap_err(),
        ReplyError::CodeMismatch {
            line: 1,
            expected: 250,
            found: 251
        }
    );
    assert_eq!(
        Reply::parse(b"25 x").unwrap_err(),
        ReplyError::Syntax {
            rule: "Reply-code",
            line: 0,
            offset: 2
        }
    );
    assert_eq!(
        Reply::parse(b"260 x").unwrap_err(),
        ReplyError::Syntax {
            rule: "Reply-code",
            line: 0,
            offset: 1
        }
    );
    assert_eq!(
        Reply::parse(b"250x").unwrap_err(),
        ReplyError::Syntax {
            rule: "Reply-line",
            line: 0,
            offset: 3
        }
    );
    assert_eq!(
        Reply::parse(b"250-a\r\n").unwrap_err(),
        ReplyError::Incomplete
    );
    assert_eq!(
        Reply::parse(b"250-a\n250 b\r\n").unwrap_err(),
        ReplyError::Syntax {
            rule: "CRLF",
            line: 0,
            offset: 5
        }
    );
    assert_eq!(
        Reply::parse(b"250 a\rb\r\n").unwrap_err(),
        ReplyError::Syntax {
            rule: "textstring",
            line: 0,
            offset: 5
        }
    );
    assert_eq!(
        Reply::parse(b"250 a\r\n250 b\r\n").unwrap_err(),
        ReplyError::TrailingData { line: 1 }
    );
}

#[test]
fn one_line_replies_borrow_and_lines_iterate_in_order() {
    // A one-line reply borrows its text from the input.
    let input = b"250 2.1.0 Sender ok\r\n";
    let r = Reply::parse(input).unwrap();
    assert_eq!(r.first_line(), b"Sender ok");
    assert!(input.as_ptr_range().contains(&r.first_line().as_ptr()));
    // A multi-line reply keeps every line, empty ones included, in order.
    let r = Reply::parse(b"250-first\r\n250-\r\n250-third line\r\n250\r\n").unwrap();
    let mut lines = r.lines();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines.next(), Some(&b"first"[..]));
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines.collect::<Vec<_>>(),
        [&b""[..], &b"third line"[..], &b""[..]]
    );
    assert_eq!(r.first_line(), b"first");
    // The line-at-a-time parser builds the same value.
    let mut p = ReplyParser::default();
    for line in [&b"250-first"[..], b"250-", b"250-third line"] {
        assert_eq!(p.push_line(line).unwrap(), None);
    }
    assert_eq!(p.push_line(b"250").unwrap().unwrap(), r);
    // Built replies: no lines is one empty line.
    let empty = Reply::new(ReplyCode::OK, None, []).unwrap();
    assert_eq!(empty.lines().collect::<Vec<_>>(), [&b""[..]]);
    assert_eq!(enc(&empty), b"250\r\n");
}

#[test]
fn reply_constructor_refuses_injection() {
    // A CR or LF in any line, not only the first.
    for bad in [&b"ok\rmore"[..], b"ok\n250 injected"] {
        let lines = [Cow::Borrowed(&b"fine"[..]), Cow::Borrowed(bad)];
        assert_eq!(
            Reply::new(ReplyCode::OK, None, lines).unwrap_err(),
            ValueError {
                rule: "textstring",
                offset: 2
            }
        );
    }
    let code = ReplyCode::OK;
    assert!(Reply::text(code, None, "ok\r\n250 injected").is_err());
    assert!(Reply::text(code, None, "2.0.0 looks enhanced").is_err());
    let e = EnhancedStatusCode::new(2, 0, 0).unwrap();
    let r = Reply::new(
        code,
        Some(e),
        [Cow::Borrowed(&b"a"[..]), Cow::Borrowed(&b"b"[..])],
    )
    .unwrap();
    assert_eq!(enc(&r), b"250-2.0.0 a\r\n250 2.0.0 b\r\n");
}

#[test]
fn auth_mechanisms_are_upper_case_unique_and_printable() {
    let mut auth = AuthMechanisms::new();
    assert!(auth.is_empty());
    auth.push("plain").unwrap();
    auth.push("XOAUTH2").unwrap();
    auth.push("Plain").unwrap();
    assert_eq!(auth.iter().collect::<Vec<_>>(), ["PLAIN", "XOAUTH2"]);
    assert_eq!(auth.len(), 2);
    assert!(auth.contains("xoauth2") && !auth.contains("LOGIN"));
    assert!(auth.offers(mail_wire::sasl::Mechanism::Plain));
    assert!(!auth.offers(mail_wire::sasl::Mechanism::ScramSha256));
    for (bad, offset) in [("", 0), ("TWO WORDS", 3), ("CR\rLF", 2), ("caf\u{e9}", 3)] {
        assert_eq!(
            auth.push(bad).unwrap_err(),
            ValueError {
                rule: "sasl-mech",
                offset
            },
            "{bad:?}"
        );
    }
    assert_eq!(format!("{auth}"), "PLAIN XOAUTH2");
    assert_eq!(format!("{auth:?}"), r#"["PLAIN", "XOAUTH2"]"#);
    let built: AuthMechanisms = mail_wire::sasl::Mechanism::ALL.into_iter().collect();
    assert_eq!(
        built.as_str(),
        "SCRAM-SHA-256 OAUTHBEARER XOAUTH2 PLAIN LOGIN"
    );
}

#[test]
fn ehlo_capabilities() {
    let wire = b"250-mx.example Hello client [192.0.2.1]\r\n\
250-PIPELINING\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-STARTTLS\r\n\
250-AUTH PLAIN login XOAUTH2\r\n250-AUTH=LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n\
250-BINARYMIME\r\n250-DSN\r\n250-ETRN\r\n250-VRFY\r\n250-REQUIRETLS\r\n\
250-LIMITS RCPTMAX=100 MAILMAX=1000\r\n250 X-CUSTOM a b\r\n";
    let reply = Reply::parse(wire).unwrap();
    let caps = Capabilities::from_reply(&reply).unwrap();
    assert_eq!(caps.greeting, b"mx.example Hello client [192.0.2.1]");
    assert!(caps.pipelining && caps.eight_bit_mime && caps.smtputf8 && caps.starttls);
    assert!(caps.enhanced_status_codes && caps.chunking && caps.binary_mime && caps.dsn);
    assert!(caps.etrn && caps.vrfy && caps.requiretls);
    assert_eq!(caps.size, Some(Some(35882577)));
    assert_eq!(
        caps.auth.as_ref().map(|a| a.iter().collect::<Vec<_>>()),
        Some(vec!["PLAIN", "LOGIN", "XOAUTH2"])
    );
    assert_eq!(caps.limit("rcptmax"), Some(100));
    assert_eq!(caps.limit("MAILMAX"), Some(1000));
    assert_eq!(caps.limit("RCPTDOMAINMAX"), None);
    assert_eq!(
        caps.unknown,
        vec![
            ("AUTH=LOGIN".to_string(), vec![]),
            (
                "X-CUSTOM".to_string(),
                vec!["a".to_string(), "b".to_string()]
            )
        ]
    );
    let back = caps.to_reply().unwrap();
    let mut out = BytesMut::new();
    back.encode(&mut out);
    assert_eq!(
        Capabilities::from_reply(&Reply::parse(&out).unwrap()).unwrap(),
        caps
    );
    // SIZE without a value, and a one-line EHLO reply.
    let caps = Capabilities::from_reply(&Reply::parse(b"250-x\r\n250 SIZE\r\n").unwrap()).unwrap();
    assert_eq!(caps.size, Some(None));
    let caps = Capabilities::from_reply(&Reply::parse(b"250 x.example\r\n").unwrap()).unwrap();
    let mut want = Capabilities::default();
    want.greeting = b"x.example".to_vec();
    assert_eq!(caps, want);
    // Errors.
    assert!(Capabilities::from_reply(&Reply::parse(b"500 no\r\n").unwrap()).is_err());
    assert_eq!(
        Capabilities::from_reply(&Reply::parse(b"250-x\r\n250 SIZE big\r\n").unwrap()).unwrap_err(),
        ReplyError::Value {
            rule: "size-param",
            line: 1,
            offset: 5
        }
    );
    assert!(Capabilities::from_reply(&Reply::parse(b"250-x\r\n250 X\x01\r\n").unwrap()).is_err());
}
