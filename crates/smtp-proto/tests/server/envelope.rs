//! MAIL and RCPT: paths and their limits, command sequence, parameters, UTF-8 addresses.

use smtp_proto::server::Event;
use smtp_proto::{Body, MailParams};

use crate::harness::{Harness, mail, mail_with, rcpt};
use crate::{after_ehlo, config};

/// RFC 5321 section 4.5.3.1.10: "501 Path too long"; the local part (64) and path (256)
/// limits of sections 4.5.3.1.1 and 4.5.3.1.3, one octet over each.
#[test]
fn over_long_local_part_and_path_are_501() {
    let mut h = after_ehlo(config("mx.example"));
    let local = "a".repeat(65);
    let domain = format!("{}.example", "d".repeat(63));
    let long_path = format!(
        "{}@{}.{}.{}",
        "a".repeat(60),
        domain,
        domain,
        "e".repeat(50)
    );
    assert_eq!(long_path.len() + 2, 257);
    h.transcript(&format!(
        "C: MAIL FROM:<{local}@c.example>
         S: 501 5.5.4 Syntax error: local-part longer than 64 octets at byte 75
         C: MAIL FROM:<{long_path}>
         S: 501 5.5.4 Syntax error: path longer than 256 octets at byte 266
         C: MAIL FROM:<{}@c.example>
         S: 250 2.1.0 Sender ok",
        "a".repeat(64)
    ));
}

#[test]
fn sequence_errors() {
    let mut h = Harness::new(config("mx.example"));
    h.transcript(
        "S: 220 mx.example ESMTP ready
         C: MAIL FROM:<a@c.example>
         C: RCPT TO:<b@mx.example>
         C: DATA
         S: 503 5.5.1 Send HELO or EHLO first
         S: 503 5.5.1 Need MAIL before RCPT
         S: 503 5.5.1 Need MAIL command",
    );
    h.send("EHLO c.example\r\n");
    h.take_out();
    h.transcript(
        "C: RCPT TO:<b@mx.example>
         C: MAIL FROM:<a@c.example>
         C: MAIL FROM:<a@c.example>
         C: DATA
         S: 503 5.5.1 Need MAIL before RCPT
         S: 250 2.1.0 Sender ok
         S: 503 5.5.1 Nested MAIL command
         S: 554 5.5.1 No valid recipients",
    );
    assert!(h.server.in_transaction());
}

#[test]
fn mail_and_rcpt_parameters() {
    let mut h = after_ehlo(config("mx.example"));
    h.transcript(
        "C: MAIL FROM:<a@c.example> X-FOO=bar
         S: 555 5.5.4 Unsupported MAIL parameter
         C: MAIL FROM:<a@c.example> RET=HDRS
         S: 555 5.5.4 DSN parameters not supported
         C: MAIL FROM:<a@c.example> ENVID=QQ314159
         S: 555 5.5.4 DSN parameters not supported
         C: MAIL FROM:<a@c.example> BODY=8BITMIME
         S: 250 2.1.0 Sender ok
         C: RCPT TO:<b@mx.example> NOTIFY=NEVER
         S: 555 5.5.4 DSN parameters not supported
         C: RCPT TO:<b@mx.example> ORCPT=rfc822;b@mx.example
         S: 555 5.5.4 DSN parameters not supported
         C: RCPT TO:<b@mx.example> X-BAR
         S: 555 5.5.4 Unsupported RCPT parameter",
    );
    let mut params = MailParams::default();
    params.body = Some(Body::EightBitMime);
    assert_eq!(h.events(), [mail_with("a@c.example", params)]);
    // With DSN offered, and unknown parameters passed through.
    let mut cfg = config("mx.example");
    cfg.dsn = true;
    cfg.accept_unknown_parameters = true;
    let mut h = Harness::new(cfg);
    h.take_out();
    h.send("EHLO c.example\r\n");
    assert!(h.take_out().contains("\r\n250-DSN\r\n"));
    h.transcript(
        "C: MAIL FROM:<a@c.example> RET=HDRS ENVID=QQ314159 X-FOO=bar
         C: RCPT TO:<b@mx.example> NOTIFY=NEVER ORCPT=rfc822;b@mx.example X-BAR
         S: 250 2.1.0 Sender ok
         S: 250 2.1.5 Recipient ok",
    );
    let events = h.events();
    match &events[..] {
        [
            Event::Hello { .. },
            Event::Mail { params: mp, .. },
            Event::Rcpt { params: rp, .. },
        ] => {
            assert_eq!(mp.ret, Some(smtp_proto::Ret::Hdrs));
            assert_eq!(mp.envid.as_ref().map(|e| e.as_str()), Some("QQ314159"));
            assert_eq!(mp.unknown.len(), 1);
            assert_eq!(
                (mp.unknown[0].keyword(), mp.unknown[0].value()),
                ("X-FOO", Some("bar"))
            );
            assert!(rp.notify.is_some_and(|n| n.is_never()));
            assert_eq!(rp.orcpt.as_ref().map(|o| o.addr_type()), Some("rfc822"));
            assert_eq!(rp.unknown[0].keyword(), "X-BAR");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn utf8_addresses_need_smtputf8() {
    let mut h = after_ehlo(config("mx.example"));
    h.transcript(
        "C: MAIL FROM:<josé@exämple.org>
         S: 553 5.6.7 Non-ASCII addresses require SMTPUTF8
         C: MAIL FROM:<a@c.example>
         C: RCPT TO:<müller@mx.example>
         S: 250 2.1.0 Sender ok
         S: 553 5.6.7 Non-ASCII addresses require SMTPUTF8
         C: RSET
         C: MAIL FROM:<josé@exämple.org> SMTPUTF8
         C: RCPT TO:<müller@mx.example>
         S: 250 2.0.0 Ok
         S: 250 2.1.0 Sender ok
         S: 250 2.1.5 Recipient ok",
    );
    let mut params = MailParams::default();
    params.smtputf8 = true;
    assert_eq!(
        h.events(),
        [
            mail("a@c.example"),
            mail_with("josé@exämple.org", params),
            rcpt("müller@mx.example"),
        ]
    );
    let mut cfg = config("mx.example");
    cfg.smtputf8 = false;
    let mut h = after_ehlo(cfg);
    h.transcript(
        "C: MAIL FROM:<josé@exämple.org> SMTPUTF8
         S: 555 5.5.4 SMTPUTF8 not supported",
    );
}
