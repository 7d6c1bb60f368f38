//! RFC 2033 LMTP: LHLO, one reply per accepted recipient after the message, and the
//! `reply_each` decision.

use smtp_proto::ForwardPath;
use smtp_proto::server::{Event, HelloVerb, ServerConfig, ServerError};

use crate::harness::{
    Decision, Harness, Policy, body_end, chunk, closed, data_start, domain, hello, mail, rcpt,
    reply,
};
use crate::{MESSAGE_ACCEPTED, after_ehlo_with, config, reply_esc};

/// RFC 2033 section 4.2: one reply per accepted recipient after the message.
#[test]
fn rfc2033_lmtp_session() {
    let policy: Policy = Box::new(|event| match event {
        Event::Rcpt {
            to: ForwardPath::Mailbox(m),
            ..
        } if m.local.as_str() == "jones" => Decision::Reject(reply(550, "No such user here")),
        Event::BodyEnd { .. } => Decision::ReplyEach(vec![
            reply(250, "OK"),
            reply(452, "<green@foo.edu> is temporarily over quota"),
        ]),
        _ => Decision::Accept,
    });
    let mut h = Harness::with_policy(ServerConfig::lmtp(domain("foo.edu")), policy);
    h.transcript(
        "S: 220 foo.edu LMTP ready
         C: LHLO foo.edu
         S: 250-foo.edu
         S: 250-PIPELINING
         S: 250-8BITMIME
         S: 250-SMTPUTF8
         S: 250-ENHANCEDSTATUSCODES
         S: 250-CHUNKING
         S: 250-BINARYMIME
         S: 250-SIZE 10240000
         S: 250 LIMITS RCPTMAX=100
         C: MAIL FROM:<chris@bar.com>
         S: 250 2.1.0 Sender ok
         C: RCPT TO:<pat@foo.edu>
         S: 250 2.1.5 Recipient ok
         C: RCPT TO:<jones@foo.edu>
         S: 550 No such user here
         C: RCPT TO:<green@foo.edu>
         S: 250 2.1.5 Recipient ok
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: Blah blah blah...
         C: ...etc. etc. etc.
         C: .
         S: 250 OK
         S: 452 <green@foo.edu> is temporarily over quota
         C: QUIT
         S: 221 2.0.0 Bye",
    );
    assert_eq!(
        h.events(),
        [
            hello(HelloVerb::Lhlo, "foo.edu"),
            mail("chris@bar.com"),
            rcpt("pat@foo.edu"),
            rcpt("jones@foo.edu"),
            rcpt("green@foo.edu"),
            data_start(),
            chunk("Blah blah blah...\r\n..etc. etc. etc.\r\n"),
            body_end(37, 2),
            closed(Ok(())),
        ]
    );
}

#[test]
fn lmtp_data_without_valid_recipients_is_503() {
    // RFC 2033 section 4.2: DATA after no successful RCPT MUST fail with 503 (SMTP says 554).
    let policy: Policy = Box::new(|event| match event {
        Event::Rcpt { .. } => Decision::Reject(reply(550, "No such user here")),
        _ => Decision::Accept,
    });
    let mut h = Harness::with_policy(ServerConfig::lmtp(domain("foo.edu")), policy);
    h.transcript(
        "S: 220 foo.edu LMTP ready
         C: LHLO foo.edu
         S: 250-foo.edu
         S: 250-PIPELINING
         S: 250-8BITMIME
         S: 250-SMTPUTF8
         S: 250-ENHANCEDSTATUSCODES
         S: 250-CHUNKING
         S: 250-BINARYMIME
         S: 250-SIZE 10240000
         S: 250 LIMITS RCPTMAX=100
         C: MAIL FROM:<chris@bar.com>
         C: RCPT TO:<jones@foo.edu>
         C: DATA
         S: 250 2.1.0 Sender ok
         S: 550 No such user here
         S: 503 5.5.1 No valid recipients",
    );
    assert!(h.server.in_transaction());
}

/// An LMTP session with three accepted recipients and a 5-octet message limit.
fn lmtp_three_recipients() -> Harness {
    let mut config = ServerConfig::lmtp(domain("foo.edu"));
    config.max_message_size = 5;
    let mut h = Harness::new(config);
    h.send("LHLO foo.edu\r\nMAIL FROM:<chris@bar.com>\r\n");
    for user in ["jones", "green", "brown"] {
        h.send(format!("RCPT TO:<{user}@foo.edu>\r\n"));
    }
    let out = h.take_out();
    assert!(
        out.ends_with("250 2.1.5 Recipient ok\r\n".repeat(3).as_str()),
        "{out}"
    );
    h.events();
    h
}

#[test]
fn lmtp_refusals_by_the_machine_answer_every_recipient() {
    // RFC 2033 section 4.2: after the body, one reply for each successful RCPT, also when the
    // machine itself refuses the message; otherwise the client takes the next command's reply
    // for a recipient's.
    let size = "552 5.3.4 Message size exceeds fixed maximum message size\r\n";
    let mut h = lmtp_three_recipients();
    h.send("DATA\r\nhello world\r\n.\r\nRSET\r\n");
    assert_eq!(
        h.take_out(),
        format!(
            "354 End data with <CR><LF>.<CR><LF>\r\n{}250 2.0.0 Ok\r\n",
            size.repeat(3)
        )
    );
    assert!(!h.server.in_transaction());

    let mut config = ServerConfig::lmtp(domain("foo.edu"));
    config.bare_line_ending = mail_wire::dot::BareLineEnding::Reject;
    let mut h = Harness::new(config);
    h.send("LHLO foo.edu\r\nMAIL FROM:<chris@bar.com>\r\nRCPT TO:<jones@foo.edu>\r\n");
    h.send("RCPT TO:<green@foo.edu>\r\n");
    h.take_out();
    h.send("DATA\r\nbare\nLF\r\n.\r\n");
    let bare = "550 5.6.0 Message refused: bare CR or LF in the body (RFC 5321 section 2.3.8)\r\n";
    assert_eq!(
        h.take_out(),
        format!("354 End data with <CR><LF>.<CR><LF>\r\n{}", bare.repeat(2))
    );

    // BDAT: the last chunk answers every recipient, an earlier one only itself.
    let mut h = lmtp_three_recipients();
    h.send("BDAT 11 LAST\r\nhello world");
    assert_eq!(h.take_out(), size.repeat(3));
    let mut h = lmtp_three_recipients();
    h.send("BDAT 11\r\nhello world");
    assert_eq!(h.take_out(), size);
    assert!(!h.server.in_transaction());
}

#[test]
fn lmtp_refuses_ehlo_and_helo_and_smtp_refuses_lhlo() {
    let mut h = Harness::new(ServerConfig::lmtp(domain("foo.edu")));
    h.transcript(
        "S: 220 foo.edu LMTP ready
         C: EHLO foo.edu
         C: HELO foo.edu
         C: MAIL FROM:<a@foo.edu>
         S: 500 5.5.1 This is an LMTP server; use LHLO
         S: 500 5.5.1 This is an LMTP server; use LHLO
         S: 503 5.5.1 Send HELO or EHLO first",
    );
    assert_eq!(h.events(), []);
    let mut h = Harness::new(config("mx.example"));
    h.transcript(
        "S: 220 mx.example ESMTP ready
         C: LHLO foo.edu
         S: 500 5.5.1 LHLO is for LMTP; use EHLO",
    );
    assert_eq!(h.events(), []);
}

/// `accept` and `reject` answer for every recipient in LMTP; `reply_each` insists on one
/// reply per accepted recipient and leaves the decision pending when the count is wrong.
#[test]
fn lmtp_reply_each_count_and_accept_all() {
    let policy: Policy = Box::new(|event| match event {
        Event::BodyEnd { .. } => Decision::Hold,
        _ => Decision::Accept,
    });
    let mut h = Harness::with_policy(ServerConfig::lmtp(domain("foo.edu")), policy);
    h.send("LHLO c.example\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<x@foo.edu>\r\nRCPT TO:<y@foo.edu>\r\nDATA\r\nhi\r\n.\r\nNOOP\r\n");
    h.take_out();
    assert_eq!(h.events().last(), Some(&body_end(4, 2)));
    assert!(!h.server.wants_input());
    assert_eq!(
        h.server.reply_each(&[reply(250, "OK")]),
        Err(ServerError::ReplyCount {
            expected: 2,
            got: 1
        })
    );
    assert_eq!(
        h.server
            .reply_each(&[reply(250, "OK"), reply(250, "OK"), reply(250, "OK")]),
        Err(ServerError::ReplyCount {
            expected: 2,
            got: 3
        })
    );
    h.drive();
    assert_eq!(h.take_out(), "", "nothing is sent for a refused call");
    // Still pending: accept answers for both recipients, then the NOOP is read.
    h.server.accept().unwrap();
    h.drive();
    assert_eq!(
        h.take_out(),
        format!("{MESSAGE_ACCEPTED}{MESSAGE_ACCEPTED}250 2.0.0 Ok\r\n")
    );
    // reject, too, answers once per recipient.
    h.send("MAIL FROM:<a@c.example>\r\nRCPT TO:<x@foo.edu>\r\nRCPT TO:<y@foo.edu>\r\nDATA\r\nhi\r\n.\r\n");
    h.take_out();
    h.server
        .reject(reply_esc(451, (4, 3, 0), "Try later".into()))
        .unwrap();
    h.drive();
    assert_eq!(
        h.take_out(),
        "451 4.3.0 Try later\r\n451 4.3.0 Try later\r\n"
    );
}

#[test]
fn reply_each_outside_lmtp_is_misuse() {
    let policy: Policy = Box::new(|event| match event {
        Event::BodyEnd { .. } => Decision::Hold,
        _ => Decision::Accept,
    });
    let mut h = after_ehlo_with(config("mx.example"), policy);
    h.send("MAIL FROM:<a@c.example>\r\nRCPT TO:<b@mx.example>\r\nDATA\r\nhi\r\n.\r\n");
    h.take_out();
    assert!(matches!(
        h.server.reply_each(&[reply(250, "OK")]),
        Err(ServerError::WrongDecision(_))
    ));
    h.server.accept().unwrap();
    h.drive();
    assert_eq!(h.take_out(), MESSAGE_ACCEPTED);
    // LMTP with nothing pending.
    let mut h = Harness::new(ServerConfig::lmtp(domain("foo.edu")));
    assert!(matches!(
        h.server.reply_each(&[]),
        Err(ServerError::WrongDecision(_))
    ));
}
