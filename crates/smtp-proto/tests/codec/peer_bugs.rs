//! The four known bugs of the registry crate `smtp-proto` 0.2.5, which we must not have.

use std::net::Ipv6Addr;

use smtp_proto::*;

#[test]
fn size_overflow_is_an_error() {
    assert_eq!(
        Command::parse(b"MAIL FROM:<a@b.example> SIZE=99999999999999999999999").unwrap_err(),
        CommandError::Overflow {
            rule: "size-value",
            offset: 29
        }
    );
    assert_eq!(
        Command::parse(b"BDAT 99999999999999999999999").unwrap_err(),
        CommandError::Overflow {
            rule: "chunk-size",
            offset: 5
        }
    );
    let max = format!("MAIL FROM:<a@b.example> SIZE={}", u64::MAX);
    assert!(
        matches!(Command::parse(max.as_bytes()), Ok(Command::Mail { params, .. }) if params.size == Some(u64::MAX))
    );
}

#[test]
fn ipv6_address_literal_is_accepted_and_validated() {
    let Command::Rcpt {
        to: ForwardPath::Mailbox(m),
        ..
    } = Command::parse(b"RCPT TO:<a@[IPv6:2001:db8::1]>").unwrap()
    else {
        panic!("not a mailbox")
    };
    assert_eq!(
        m.host,
        Host::Literal(AddressLiteral::Ipv6(
            "2001:db8::1".parse::<Ipv6Addr>().unwrap()
        ))
    );
    assert!(Command::parse(b"MAIL FROM:<a@[IPv6:2001:db8::1]>").is_ok());
    for bad in [
        "RCPT TO:<a@[IPv6:2001:db8::g]>",
        "RCPT TO:<a@[IPv6:1:2:3:4:5:6:7:8:9]>",
        "RCPT TO:<a@[IPv6:]>",
    ] {
        assert!(
            matches!(
                Command::parse(bad.as_bytes()),
                Err(CommandError::Syntax {
                    rule: "IPv6-addr",
                    ..
                })
            ),
            "{bad}"
        );
    }
}

#[test]
fn commands_without_arguments_refuse_them() {
    for (line, verb) in [
        ("DATA foo", "DATA"),
        ("RSET x", "RSET"),
        ("QUIT now", "QUIT"),
        ("STARTTLS x", "STARTTLS"),
        ("DATA ", "DATA"),
    ] {
        assert_eq!(
            Command::parse(line.as_bytes()).unwrap_err(),
            CommandError::UnexpectedArgument {
                verb,
                offset: verb.len()
            },
            "{line}"
        );
    }
}

#[test]
fn non_utf8_is_never_replaced() {
    // Commands: a typed error naming the offset.
    assert_eq!(
        Command::parse_with(
            b"RCPT TO:<\xe9@b.example>",
            ParseOptions::default().with_smtputf8(true)
        )
        .unwrap_err(),
        CommandError::InvalidUtf8 {
            rule: "Local-part",
            offset: 9
        }
    );
    assert_eq!(
        Command::parse(b"RCPT TO:<\xe9@b.example>").unwrap_err(),
        CommandError::Utf8NotAllowed {
            rule: "Local-part",
            offset: 9
        }
    );
    // Replies: kept as bytes.
    let reply = Reply::parse(b"550 5.1.1 caf\xe9 unknown\r\n").unwrap();
    assert_eq!(reply.first_line(), b"caf\xe9 unknown");
}
