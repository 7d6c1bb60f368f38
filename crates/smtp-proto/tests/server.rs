//! The SMTP/LMTP server state machine, tested from the outside: RFC transcripts replayed
//! through [`Server`] with a scripted decision policy, asserting the exact reply bytes and
//! the exact sequence of events.
//!
//! `C:` lines are what the client sends (each gets CRLF; consecutive ones are pipelined in
//! one chunk), `S:` lines what the server must answer, nothing more and nothing less.

#[path = "support/server_harness.rs"]
mod harness;

use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;
use harness::*;
use mail_wire::Secret;
use mail_wire::dot::{BareLineEnding, BodyError};
use mail_wire::line::BareLf;
use mail_wire::sasl::framing::{self, Response};
use mail_wire::sasl::{
    ClientSession, Mechanism, Nonce, SaslError, ScramClientConfig, ServerSession, ServerStep,
};
use proptest::prelude::*;
use smtp_proto::server::{
    AUTH_LINE_LIMIT, Event, HelloVerb, Mode, Server, ServerConfig, ServerError, SessionError,
};
use smtp_proto::{
    Body, EnhancedStatusCode, ForwardPath, MailParams, Reply, ReplyCode, ReplyParser,
};

// ---- configurations and shared expectations ----

fn config(hostname: &str) -> ServerConfig {
    let mut config = ServerConfig::default();
    config.hostname = domain(hostname);
    config
}

/// The EHLO reply of a default configuration named `host`, with `extra` lines (STARTTLS,
/// AUTH ...) in their canonical places.
fn ehlo_reply(host: &str, starttls: bool, auth: Option<&str>) -> String {
    let mut lines = vec![host.to_owned(), "PIPELINING".into(), "8BITMIME".into()];
    lines.push("SMTPUTF8".into());
    if starttls {
        lines.push("STARTTLS".into());
    }
    lines.extend([
        "ENHANCEDSTATUSCODES".to_owned(),
        "CHUNKING".into(),
        "BINARYMIME".into(),
        "SIZE 10240000".into(),
    ]);
    if let Some(mechanisms) = auth {
        lines.push(format!("AUTH {mechanisms}"));
    }
    lines.push("LIMITS RCPTMAX=100".into());
    let last = lines.len() - 1;
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("250{}{l}\r\n", if i == last { ' ' } else { '-' }))
        .collect()
}

/// An owned reply with an enhanced status code.
fn reply_esc(code: u16, esc: (u8, u16, u16), text: String) -> Reply<'static> {
    Reply::new(
        ReplyCode::new(code).unwrap(),
        Some(EnhancedStatusCode::new(esc.0, esc.1, esc.2).unwrap()),
        [Cow::Owned(text.into_bytes())],
    )
    .unwrap()
}

/// A session that has said EHLO, with the greeting and EHLO reply already taken.
fn after_ehlo(config: ServerConfig) -> Harness {
    after_ehlo_with(config, accept_all())
}

fn after_ehlo_with(config: ServerConfig, policy: Policy) -> Harness {
    let mut h = Harness::with_policy(config, policy);
    h.send("EHLO client.example\r\n");
    let out = h.take_out();
    assert!(out.starts_with("220 "), "{out}");
    assert!(out.ends_with(" LIMITS RCPTMAX=100\r\n"), "{out}");
    assert_eq!(h.events(), [ehlo("client.example")]);
    h
}

/// A session with an open transaction: MAIL and one RCPT accepted, replies taken.
fn in_transaction(config: ServerConfig) -> Harness {
    let mut h = after_ehlo(config);
    h.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
    assert_eq!(
        h.take_out(),
        "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n"
    );
    assert_eq!(h.events(), [mail("a@example.org"), rcpt("b@example.net")]);
    h
}

const MESSAGE_ACCEPTED: &str = "250 2.0.0 Message accepted\r\n";
const START_DATA: &str = "354 End data with <CR><LF>.<CR><LF>\r\n";
const SIZE_EXCEEDED: &str = "552 5.3.4 Message size exceeds fixed maximum message size\r\n";

/// Rejects recipients whose local part starts with `reject`, accepts everything else.
fn reject_some_recipients() -> Policy {
    Box::new(|event| match event {
        Event::Rcpt {
            to: ForwardPath::Mailbox(m),
            ..
        } if m.local.as_str().starts_with("reject") => {
            Decision::Reject(reply_esc(550, (5, 1, 1), "No such user".into()))
        }
        _ => Decision::Accept,
    })
}

// ---- 1. RFC 5321 transcripts ----

/// RFC 5321 Appendix D.1, a typical SMTP transaction scenario, with our reply texts.
#[test]
fn rfc5321_d1_typical_session() {
    let policy: Policy = Box::new(|event| match event {
        Event::Rcpt {
            to: ForwardPath::Mailbox(m),
            ..
        } if m.local.as_str() == "Green" => Decision::Reject(reply(550, "No such user here")),
        _ => Decision::Accept,
    });
    let mut h = Harness::with_policy(config("foo.com"), policy);
    h.transcript(
        "S: 220 foo.com ESMTP ready
         C: EHLO bar.com
         S: 250-foo.com
         S: 250-PIPELINING
         S: 250-8BITMIME
         S: 250-SMTPUTF8
         S: 250-ENHANCEDSTATUSCODES
         S: 250-CHUNKING
         S: 250-BINARYMIME
         S: 250-SIZE 10240000
         S: 250 LIMITS RCPTMAX=100
         C: MAIL FROM:<Smith@bar.com>
         S: 250 2.1.0 Sender ok
         C: RCPT TO:<Jones@foo.com>
         S: 250 2.1.5 Recipient ok
         C: RCPT TO:<Green@foo.com>
         S: 550 No such user here
         C: RCPT TO:<Brown@foo.com>
         S: 250 2.1.5 Recipient ok
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: Blah blah blah...
         C: ...etc. etc. etc.
         C: .
         S: 250 2.0.0 Message accepted
         C: QUIT
         S: 221 2.0.0 Bye",
    );
    assert!(h.server.is_closed());
    assert_eq!(
        h.events(),
        [
            hello(HelloVerb::Ehlo, "bar.com"),
            mail("Smith@bar.com"),
            rcpt("Jones@foo.com"),
            rcpt("Green@foo.com"),
            rcpt("Brown@foo.com"),
            data_start(),
            // The client did not stuff "...etc.", so one dot goes (RFC 5321 section 4.5.2).
            chunk("Blah blah blah...\r\n..etc. etc. etc.\r\n"),
            body_end(37, 2),
            closed(Ok(())),
        ]
    );
}

/// RFC 5321 Appendix D.2, aborted transaction: a refused recipient, then RSET.
#[test]
fn rfc5321_d2_aborted_transaction() {
    let policy: Policy = Box::new(|event| match event {
        Event::Rcpt {
            to: ForwardPath::Mailbox(m),
            ..
        } if m.local.as_str() == "Green" => Decision::Reject(reply(550, "No such user here")),
        _ => Decision::Accept,
    });
    let mut h = after_ehlo_with(config("foo.com"), policy);
    h.transcript(
        "C: MAIL FROM:<Smith@bar.com>
         S: 250 2.1.0 Sender ok
         C: RCPT TO:<Jones@foo.com>
         S: 250 2.1.5 Recipient ok
         C: RCPT TO:<Green@foo.com>
         S: 550 No such user here
         C: RSET
         S: 250 2.0.0 Ok
         C: QUIT
         S: 221 2.0.0 Bye",
    );
    assert!(h.server.is_closed());
    assert_eq!(
        h.events(),
        [
            mail("Smith@bar.com"),
            rcpt("Jones@foo.com"),
            rcpt("Green@foo.com"),
            closed(Ok(())),
        ]
    );
}

/// RFC 5321 Appendix D.3, relayed mail, step 1 as the relay sees it: a recipient in another
/// domain is the application's decision (here: accept, as a relay for XYZ.COM would).
#[test]
fn rfc5321_d3_relayed_mail_at_the_relay() {
    let mut h = after_ehlo(config("foo.com"));
    h.transcript(
        "C: MAIL FROM:<JQP@bar.com>
         S: 250 2.1.0 Sender ok
         C: RCPT TO:<Jones@XYZ.COM>
         S: 250 2.1.5 Recipient ok
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: Date: Thu, 21 May 1998 05:33:29 -0700
         C: From: John Q. Public <JQP@bar.com>
         C: Subject: The Next Meeting of the Board
         C: To: Jones@xyz.com
         C: 
         C: Bill:
         C: The next meeting of the board of directors will be
         C: on Tuesday.
         C:                                         John.
         C: .
         S: 250 2.0.0 Message accepted
         C: QUIT
         S: 221 2.0.0 Bye",
    );
    let events = h.events();
    assert_eq!(
        events[..3],
        [mail("JQP@bar.com"), rcpt("Jones@XYZ.COM"), data_start()]
    );
    let body: Vec<u8> = events
        .iter()
        .filter_map(|e| match e {
            Event::BodyChunk(c) => Some(c.to_vec()),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(body.starts_with(b"Date: Thu, 21 May 1998 05:33:29 -0700\r\n"));
    assert!(body.ends_with(b"on Tuesday.\r\n                                        John.\r\n"));
    assert!(matches!(
        events[events.len() - 2],
        Event::BodyEnd { recipients: 1, .. }
    ));
}

/// RFC 5321 Appendix D.4, verifying and sending. VRFY is answered `252` (section 3.5.3: a
/// server that does not disclose its users), then the transaction goes on as in the appendix.
#[test]
fn rfc5321_d4_verifying_and_sending() {
    let mut h = after_ehlo(config("foo.com"));
    h.transcript(
        "C: VRFY Crispin
         S: 252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery
         C: MAIL FROM:<EAK@bar.com>
         S: 250 2.1.0 Sender ok
         C: RCPT TO:<Admin.MRC@foo.com>
         S: 250 2.1.5 Recipient ok
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: Blah blah blah...
         C: ...etc. etc. etc.
         C: .
         S: 250 2.0.0 Message accepted
         C: QUIT
         S: 221 2.0.0 Bye",
    );
    assert_eq!(
        h.events(),
        [
            mail("EAK@bar.com"),
            rcpt("Admin.MRC@foo.com"),
            data_start(),
            chunk("Blah blah blah...\r\n..etc. etc. etc.\r\n"),
            body_end(37, 1),
            closed(Ok(())),
        ]
    );
}

/// The same session with HELO: a one-line greeting reply, no ESMTP parameters.
#[test]
fn helo_session() {
    let mut h = Harness::new(config("foo.com"));
    h.transcript(
        "S: 220 foo.com ESMTP ready
         C: HELO bar.com
         S: 250 foo.com
         C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
         S: 502 5.5.1 AUTH not offered
         C: MAIL FROM:<Smith@bar.com> BODY=8BITMIME
         S: 555 5.5.4 MAIL parameters need EHLO
         C: MAIL FROM:<Smith@bar.com> BODY=BINARYMIME
         S: 555 5.5.4 MAIL parameters need EHLO
         C: MAIL FROM:<Smith@bar.com> SMTPUTF8
         S: 555 5.5.4 MAIL parameters need EHLO
         C: MAIL FROM:<Smith@bar.com>
         S: 250 2.1.0 Sender ok
         C: RCPT TO:<Jones@foo.com>
         S: 250 2.1.5 Recipient ok
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: Hello Jones.
         C: .
         S: 250 2.0.0 Message accepted
         C: QUIT
         S: 221 2.0.0 Bye",
    );
    assert_eq!(
        h.events(),
        [
            hello(HelloVerb::Helo, "bar.com"),
            mail("Smith@bar.com"),
            rcpt("Jones@foo.com"),
            data_start(),
            chunk("Hello Jones.\r\n"),
            body_end(14, 1),
            closed(Ok(())),
        ]
    );
}

#[test]
fn accept_with_names_the_queue_id_and_helo_state_is_exposed() {
    let policy: Policy = Box::new(|event| match event {
        Event::BodyEnd { size, .. } => Decision::AcceptWith(reply_esc(
            250,
            (2, 0, 0),
            format!("Ok: queued as 4F2A1 ({size} octets)"),
        )),
        Event::Mail { .. } => Decision::AcceptWith(reply(250, "Sender looks fine")),
        _ => Decision::Accept,
    });
    let mut h = Harness::with_policy(config("foo.com"), policy);
    assert_eq!(h.server.hello(), None);
    h.transcript(
        "S: 220 foo.com ESMTP ready
         C: EHLO bar.com
         C: MAIL FROM:<a@bar.com>
         C: RCPT TO:<b@foo.com>
         C: DATA
         S: 250-foo.com
         S: 250-PIPELINING
         S: 250-8BITMIME
         S: 250-SMTPUTF8
         S: 250-ENHANCEDSTATUSCODES
         S: 250-CHUNKING
         S: 250-BINARYMIME
         S: 250-SIZE 10240000
         S: 250 LIMITS RCPTMAX=100
         S: 250 Sender looks fine
         S: 250 2.1.5 Recipient ok
         S: 354 End data with <CR><LF>.<CR><LF>",
    );
    assert_eq!(h.server.hello(), Some(HelloVerb::Ehlo));
    assert!(h.server.in_transaction());
    h.transcript(
        "C: x
         C: .
         S: 250 2.0.0 Ok: queued as 4F2A1 (3 octets)",
    );
    assert!(!h.server.in_transaction());
}

// ---- 2. RFC 2920 pipelining ----

/// RFC 2920 section 3.1: the client pipelines MAIL, RCPTs and DATA; the replies come back in
/// order, and the final dot is pipelined with QUIT.
#[test]
fn rfc2920_pipelined_transaction() {
    let mut h = Harness::new(config("innosoft.com"));
    h.transcript(&format!(
        "S: 220 innosoft.com ESMTP ready
         C: EHLO dbc.mtview.ca.us
         {}
         C: MAIL FROM:<mrose@dbc.mtview.ca.us>
         C: RCPT TO:<ned@innosoft.com>
         C: RCPT TO:<dan@innosoft.com>
         C: RCPT TO:<kvc@innosoft.com>
         C: DATA
         S: 250 2.1.0 Sender ok
         S: 250 2.1.5 Recipient ok
         S: 250 2.1.5 Recipient ok
         S: 250 2.1.5 Recipient ok
         S: 354 End data with <CR><LF>.<CR><LF>
         C: Date: Thu, 21 May 1998 05:33:29 -0700
         C: .
         C: QUIT
         S: 250 2.0.0 Message accepted
         S: 221 2.0.0 Bye",
        ehlo_reply("innosoft.com", false, None)
            .lines()
            .map(|l| format!("S: {l}\n"))
            .collect::<String>()
    ));
    assert_eq!(
        h.events(),
        [
            ehlo("dbc.mtview.ca.us"),
            mail("mrose@dbc.mtview.ca.us"),
            rcpt("ned@innosoft.com"),
            rcpt("dan@innosoft.com"),
            rcpt("kvc@innosoft.com"),
            data_start(),
            chunk("Date: Thu, 21 May 1998 05:33:29 -0700\r\n"),
            body_end(39, 3),
            closed(Ok(())),
        ]
    );
}

/// The whole session in one chunk, body included: one answer per command, in order.
#[test]
fn whole_session_in_one_chunk() {
    let mut h = Harness::with_policy(config("mx.example"), reject_some_recipients());
    h.take_out();
    h.send(
        "EHLO c.example\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@mx.example>\r\n\
         RCPT TO:<reject-me@mx.example>\r\nRCPT TO:<d@mx.example>\r\nDATA\r\n\
         body\r\n.\r\nNOOP\r\nQUIT\r\n",
    );
    assert_eq!(
        h.take_out(),
        format!(
            "{}250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n550 5.1.1 No such user\r\n\
             250 2.1.5 Recipient ok\r\n{START_DATA}{MESSAGE_ACCEPTED}250 2.0.0 Ok\r\n\
             221 2.0.0 Bye\r\n",
            ehlo_reply("mx.example", false, None)
        )
    );
    assert_eq!(
        h.events(),
        [
            ehlo("c.example"),
            mail("a@c.example"),
            rcpt("b@mx.example"),
            rcpt("reject-me@mx.example"),
            rcpt("d@mx.example"),
            data_start(),
            chunk("body\r\n"),
            body_end(6, 2),
            closed(Ok(())),
        ]
    );
}

/// RFC 2920 section 3.1: when every RCPT failed, DATA gets `554` and the message that the
/// client pipelined after it is read as commands (which is why clients must wait for 354).
#[test]
fn rfc2920_data_without_valid_recipients_is_554() {
    let mut h = after_ehlo_with(config("mx.example"), reject_some_recipients());
    h.transcript(
        "C: MAIL FROM:<a@c.example>
         C: RCPT TO:<reject-1@mx.example>
         C: RCPT TO:<reject-2@mx.example>
         C: DATA
         S: 250 2.1.0 Sender ok
         S: 550 5.1.1 No such user
         S: 550 5.1.1 No such user
         S: 554 5.5.1 No valid recipients
         C: RSET
         C: DATA
         S: 250 2.0.0 Ok
         S: 503 5.5.1 Need MAIL command",
    );
    assert!(!h.server.in_transaction());
    assert_eq!(
        h.events(),
        [
            mail("a@c.example"),
            rcpt("reject-1@mx.example"),
            rcpt("reject-2@mx.example"),
        ]
    );
}

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

/// A second EHLO resets the transaction (RFC 5321 section 4.1.4).
#[test]
fn ehlo_resets_the_transaction() {
    let mut h = in_transaction(config("mx.example"));
    h.send("EHLO again.example\r\nDATA\r\n");
    assert_eq!(
        h.take_out(),
        format!(
            "{}503 5.5.1 Need MAIL command\r\n",
            ehlo_reply("mx.example", false, None)
        )
    );
    assert_eq!(h.events(), [ehlo("again.example")]);
}

#[test]
fn rejected_ehlo_forgets_the_greeting() {
    let policy: Policy = Box::new(|event| match event {
        Event::Hello { .. } => Decision::Reject(reply_esc(550, (5, 7, 1), "Go away".into())),
        _ => Decision::Accept,
    });
    let mut h = Harness::with_policy(config("mx.example"), policy);
    h.take_out();
    h.transcript(
        "C: EHLO spammer.example
         C: MAIL FROM:<a@spammer.example>
         S: 550 5.7.1 Go away
         S: 503 5.5.1 Send HELO or EHLO first",
    );
    assert_eq!(h.server.hello(), None);
}

// ---- 3. RFC 3030 CHUNKING ----

/// RFC 3030 section 4.2: a message in one BDAT LAST chunk, answered by the application with
/// the octet count.
#[test]
fn rfc3030_simple_chunking() {
    let policy: Policy = Box::new(|event| match event {
        Event::BodyEnd { size, .. } => Decision::AcceptWith(reply_esc(
            250,
            (2, 0, 0),
            format!("Message OK, {size} octets received"),
        )),
        _ => Decision::Accept,
    });
    let mut h = after_ehlo_with(config("example.com"), policy);
    h.transcript(
        "C: MAIL FROM:<Sam@Random.com>
         S: 250 2.1.0 Sender ok
         C: RCPT TO:<Susan@Random.com>
         S: 250 2.1.5 Recipient ok
         C: BDAT 86 LAST
         C: To: Susan@random.com
         C: From: Sam@random.com
         C: Subject: This is a bodyless test message
         S: 250 2.0.0 Message OK, 86 octets received
         C: QUIT
         S: 221 2.0.0 Bye",
    );
    assert_eq!(
        h.events(),
        [
            mail("Sam@Random.com"),
            rcpt("Susan@Random.com"),
            bdat_start(),
            chunk(
                "To: Susan@random.com\r\nFrom: Sam@random.com\r\n\
                 Subject: This is a bodyless test message\r\n"
            ),
            body_end(86, 1),
            closed(Ok(())),
        ]
    );
}

/// RFC 3030 section 4.3: BINARYMIME with pipelined BDAT chunks. Chunk octets are passed
/// through untouched: NUL, bare CR, a dot line and command-looking text are all content.
#[test]
fn rfc3030_pipelined_binarymime() {
    let mut first = b"MIME-Version: 1.0\r\n\0\x01\xff\r\n.\r\nQUIT\r\n\rRSET\n".to_vec();
    first.resize(69, b'x');
    let second: Vec<u8> = (0..1000u32).map(|i| (i % 256) as u8).collect();
    let mut h = after_ehlo(config("innosoft.com"));
    let mut wire = b"MAIL FROM:<ned@thor.innosoft.com> BODY=BINARYMIME\r\n\
                     RCPT TO:<ned@innosoft.com>\r\nBDAT 69\r\n"
        .to_vec();
    wire.extend_from_slice(&first);
    wire.extend_from_slice(b"BDAT 1000 LAST\r\n");
    wire.extend_from_slice(&second);
    h.send(&wire);
    assert_eq!(
        h.take_out(),
        format!(
            "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n\
             250 2.0.0 69 octets received\r\n{MESSAGE_ACCEPTED}"
        )
    );
    let mut params = MailParams::default();
    params.body = Some(Body::BinaryMime);
    let body = [first, second].concat();
    assert_eq!(
        h.events(),
        [
            mail_with("ned@thor.innosoft.com", params),
            rcpt("ned@innosoft.com"),
            bdat_start(),
            chunk(&body),
            body_end(1069, 1),
        ]
    );
    assert!(!h.server.in_transaction());
}

#[test]
fn bdat_chunks_fed_in_pieces_and_bdat_0_last() {
    let mut h = in_transaction(config("mx.example"));
    h.send("BDAT 10\r\n0123");
    assert_eq!(h.take_out(), "");
    h.send("456789bdat 0 last\r\n");
    assert_eq!(
        h.take_out(),
        format!("250 2.0.0 10 octets received\r\n{MESSAGE_ACCEPTED}")
    );
    assert_eq!(
        h.events(),
        [bdat_start(), chunk("0123456789"), body_end(10, 1)]
    );
    // An empty message: BDAT 0 LAST alone.
    h.transcript(
        "C: MAIL FROM:<>
         C: RCPT TO:<postmaster>
         C: BDAT 0 LAST
         S: 250 2.1.0 Sender ok
         S: 250 2.1.5 Recipient ok
         S: 250 2.0.0 Message accepted",
    );
    let events = h.events();
    assert!(matches!(
        &events[..],
        [
            Event::Mail {
                from: smtp_proto::ReversePath::Null,
                ..
            },
            Event::Rcpt {
                to: ForwardPath::Postmaster,
                ..
            },
            _,
            _
        ]
    ));
    assert_eq!(events[2..], [bdat_start(), body_end(0, 1)]);
}

/// RFC 3030 section 3: a BDAT that cannot be accepted still has its octets read, so a
/// chunk that looks like commands is never executed.
#[test]
fn bdat_out_of_sequence_consumes_its_octets() {
    let mut h = after_ehlo_with(config("mx.example"), reject_some_recipients());
    h.send("BDAT 6\r\nQUIT\r\nNOOP\r\n");
    assert_eq!(
        h.take_out(),
        "503 5.5.1 Need MAIL command\r\n250 2.0.0 Ok\r\n"
    );
    h.send("MAIL FROM:<a@c.example>\r\nRCPT TO:<reject@mx.example>\r\nBDAT 12 LAST\r\nRSET\r\nQUIT\r\nNOOP\r\n");
    assert_eq!(
        h.take_out(),
        "250 2.1.0 Sender ok\r\n550 5.1.1 No such user\r\n554 5.5.1 No valid recipients\r\n\
         250 2.0.0 Ok\r\n"
    );
    assert!(!h.server.is_closed());
    assert_eq!(
        h.events(),
        [mail("a@c.example"), rcpt("reject@mx.example")],
        "no body events for a refused chunk"
    );
    // The transaction is still open: the client may RSET or add a recipient.
    assert!(h.server.in_transaction());
}

#[test]
fn bdat_without_chunking_is_502_and_still_consumes() {
    let mut cfg = config("mx.example");
    cfg.chunking = false;
    let mut h = Harness::new(cfg);
    h.take_out();
    h.send("EHLO c.example\r\n");
    let ehlo = h.take_out();
    assert!(
        !ehlo.contains("CHUNKING") && !ehlo.contains("BINARYMIME"),
        "{ehlo}"
    );
    h.transcript(
        "C: MAIL FROM:<a@c.example> BODY=BINARYMIME
         C: MAIL FROM:<a@c.example>
         C: RCPT TO:<b@mx.example>
         C: BDAT 6 LAST
         C: QUIT
         C: NOOP
         S: 555 5.5.4 BODY=BINARYMIME not supported
         S: 250 2.1.0 Sender ok
         S: 250 2.1.5 Recipient ok
         S: 502 5.5.1 CHUNKING not offered
         S: 250 2.0.0 Ok",
    );
}

#[test]
fn data_after_bdat_is_503() {
    let mut h = in_transaction(config("mx.example"));
    h.transcript(
        "C: BDAT 3
         C: abcDATA
         S: 250 2.0.0 3 octets received
         S: 503 5.5.1 DATA after BDAT in the same transaction
         C: BDAT 0 LAST
         S: 250 2.0.0 Message accepted",
    );
    assert_eq!(h.events(), [bdat_start(), chunk("abc"), body_end(3, 1)]);
}

#[test]
fn binarymime_with_data_is_503() {
    let mut h = after_ehlo(config("mx.example"));
    h.transcript(
        "C: MAIL FROM:<a@c.example> BODY=BINARYMIME
         C: RCPT TO:<b@mx.example>
         C: DATA
         S: 250 2.1.0 Sender ok
         S: 250 2.1.5 Recipient ok
         S: 503 5.5.1 BODY=BINARYMIME requires BDAT
         C: BDAT 4 LAST
         C: ok
         S: 250 2.0.0 Message accepted",
    );
}

#[test]
fn bdat_with_unreadable_size_closes() {
    for line in [
        "BDAT abc",
        "BDAT 99999999999999999999999 LAST",
        "BDAT -1",
        "BDAT",
        "bdat 5 NOTLAST",
    ] {
        let mut h = in_transaction(config("mx.example"));
        h.send(format!("{line}\r\nNOOP\r\n"));
        assert_eq!(
            h.take_out(),
            "421 4.5.4 Invalid BDAT chunk size, closing connection\r\n",
            "{line}"
        );
        assert_eq!(
            h.events(),
            [closed(Err(SessionError::Desynchronised))],
            "{line}"
        );
        assert!(h.server.is_closed());
        h.send("NOOP\r\n");
        assert_eq!(h.take_out(), "");
    }
}

/// A BDAT line the framing refuses (a bare LF, too long with or without AUTH offered) has a
/// chunk after it that cannot be found: its octets must not run as commands (RFC 3030
/// section 2), so the session closes.
#[test]
fn bdat_lines_refused_by_their_framing_close() {
    let long = format!("BDAT {}12 LAST\r\n", "0".repeat(3000));
    let mut auth_offered = config("mx.example");
    auth_offered.allow_plaintext_auth = true;
    auth_offered.auth_mechanisms = vec![Mechanism::Plain];
    for (cfg, line) in [
        (config("mx.example"), "BDAT 12 LAST\n".to_owned()),
        (config("mx.example"), long.clone()),
        // With AUTH offered the framer lets 12288 octets through; the 2048 limit still holds.
        (auth_offered, long),
    ] {
        let mut h = in_transaction(cfg);
        h.send(format!("{line}NOOP\r\nRSET\r\n"));
        assert_eq!(
            h.take_out(),
            "421 4.5.4 Unreadable BDAT command, closing connection\r\n",
            "{line:.40}"
        );
        assert_eq!(h.events(), [closed(Err(SessionError::Desynchronised))]);
    }
    // Other refused lines leave the session going.
    let mut h = in_transaction(config("mx.example"));
    h.send("NOOP\nRSET\r\n");
    assert_eq!(
        h.take_out(),
        "500 5.5.2 Command line must end with CRLF (bare LF received)\r\n250 2.0.0 Ok\r\n"
    );
}

// ---- 4. RFC 2033 LMTP ----

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
fn auth_during_a_mail_transaction_is_503() {
    // RFC 4954 section 4: AUTH is not permitted during a mail transaction.
    let mut config = config("mx.example");
    config.allow_plaintext_auth = true;
    config.auth_mechanisms = vec![Mechanism::Plain];
    let mut h = in_transaction(config);
    h.transcript(
        "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
         S: 503 5.5.1 AUTH not allowed during a mail transaction",
    );
    assert!(h.server.in_transaction());
    assert!(h.server.authenticated().is_none());
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

// ---- 5. SMTP smuggling and dot transparency ----

/// The end-marker look-alikes of the SMTP smuggling attacks (December 2023). None of them
/// ends a body.
const LOOK_ALIKES: [&str; 6] = ["\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\r\n.\r"];

/// What a smuggler puts after the fake end marker.
const SMUGGLED: &str =
    "MAIL FROM:<ceo@bank.example>\r\nRCPT TO:<victim@mx.example>\r\nDATA\r\nPay now\r\n";

/// Feeds `bytes` one octet at a time.
fn send_bytewise(h: &mut Harness, bytes: &[u8]) {
    for byte in bytes {
        h.send([*byte]);
    }
}

#[test]
fn smuggling_look_alikes_are_content_under_normalize() {
    for look_alike in LOOK_ALIKES {
        for bytewise in [false, true] {
            let mut h = in_transaction(config("mx.example"));
            let wire =
                format!("DATA\r\nSubject: a\r\n\r\nhello{look_alike}{SMUGGLED}.\r\nQUIT\r\n");
            if bytewise {
                send_bytewise(&mut h, wire.as_bytes());
            } else {
                h.send(&wire);
            }
            assert_eq!(
                h.take_out(),
                format!("{START_DATA}{MESSAGE_ACCEPTED}221 2.0.0 Bye\r\n"),
                "{look_alike:?}"
            );
            // Bare CR and LF become CRLF; the dot after one is taken as stuffing (never as
            // the end marker), and the smuggled commands stay in the body.
            let body = format!("Subject: a\r\n\r\nhello\r\n\r\n{SMUGGLED}");
            assert_eq!(
                h.events(),
                [
                    data_start(),
                    chunk(&body),
                    body_end(body.len() as u64, 1),
                    closed(Ok(()))
                ],
                "{look_alike:?}"
            );
        }
    }
}

#[test]
fn smuggling_look_alikes_are_refused_under_reject_after_the_real_end() {
    let cases: [(&str, &str, BodyError); 6] = [
        ("\n.\n", "", BodyError::BareLf { offset: 19 }),
        ("\r.\r", "", BodyError::BareCr { offset: 19 }),
        ("\n.\r\n", "", BodyError::BareLf { offset: 19 }),
        ("\r\n.\n", "\r\n", BodyError::BareLf { offset: 22 }),
        ("\r.\r\n", "", BodyError::BareCr { offset: 19 }),
        ("\r\n.\r", "\r\n", BodyError::BareCr { offset: 22 }),
    ];
    for (look_alike, kept, error) in cases {
        let mut cfg = config("mx.example");
        cfg.bare_line_ending = BareLineEnding::Reject;
        let mut h = in_transaction(cfg);
        h.send(format!(
            "DATA\r\nSubject: a\r\n\r\nhello{look_alike}{SMUGGLED}.\r\nNOOP\r\n"
        ));
        assert_eq!(
            h.take_out(),
            format!(
                "{START_DATA}550 5.6.0 Message refused: bare CR or LF in the body \
                 (RFC 5321 section 2.3.8)\r\n250 2.0.0 Ok\r\n"
            ),
            "{look_alike:?}"
        );
        assert_eq!(
            h.events(),
            [
                data_start(),
                chunk(format!("Subject: a\r\n\r\nhello{kept}")),
                Event::BodyAborted(error),
            ],
            "{look_alike:?}"
        );
        assert!(!h.server.in_transaction());
    }
}

#[test]
fn a_dot_as_the_first_line_ends_an_empty_message() {
    let mut h = in_transaction(config("mx.example"));
    h.transcript(
        "C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: .
         S: 250 2.0.0 Message accepted",
    );
    assert_eq!(h.events(), [data_start(), body_end(0, 1)]);
}

#[test]
fn dot_unstuffing() {
    let mut h = in_transaction(config("mx.example"));
    h.transcript(
        "C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: ..
         C: ...x
         C: .y
         C: z.
         C: ..
         C: .
         S: 250 2.0.0 Message accepted",
    );
    let body = ".\r\n..x\r\ny\r\nz.\r\n.\r\n";
    assert_eq!(
        h.events(),
        [data_start(), chunk(body), body_end(body.len() as u64, 1)]
    );
}

/// The real end marker split across reads at every position still ends the body.
#[test]
fn end_marker_split_across_reads() {
    let wire = b"DATA\r\nab\r\n.\r\nNOOP\r\n";
    for cut in 0..=wire.len() {
        let mut h = in_transaction(config("mx.example"));
        h.send(&wire[..cut]);
        h.send(&wire[cut..]);
        assert_eq!(
            h.take_out(),
            format!("{START_DATA}{MESSAGE_ACCEPTED}250 2.0.0 Ok\r\n"),
            "cut at {cut}"
        );
        assert_eq!(
            h.events(),
            [data_start(), chunk("ab\r\n"), body_end(4, 1)],
            "cut at {cut}"
        );
    }
}

// ---- 6. STARTTLS ----

fn tls_config() -> ServerConfig {
    let mut config = config("mx.example");
    config.starttls = true;
    config
}

/// RFC 3207 section 4.2: after the handshake the session starts over; the transaction
/// and the EHLO from before TLS are forgotten, STARTTLS is no longer offered.
#[test]
fn starttls_session_starts_over() {
    let mut h = Harness::new(tls_config());
    assert!(!h.server.is_tls());
    h.transcript(&format!(
        "S: 220 mx.example ESMTP ready
         C: EHLO c.example
         {}
         C: MAIL FROM:<a@c.example>
         S: 250 2.1.0 Sender ok
         C: STARTTLS
         S: 220 2.0.0 Ready to start TLS",
        script_lines(&ehlo_reply("mx.example", true, None))
    ));
    assert!(h.server.is_tls());
    assert!(!h.server.in_transaction());
    assert_eq!(h.server.hello(), None);
    h.transcript(&format!(
        "C: RCPT TO:<b@mx.example>
         C: MAIL FROM:<a@c.example>
         S: 503 5.5.1 Need MAIL before RCPT
         S: 503 5.5.1 Send HELO or EHLO first
         C: EHLO c.example
         {}
         C: STARTTLS
         S: 503 5.5.1 TLS already active",
        script_lines(&ehlo_reply("mx.example", false, None))
    ));
    assert_eq!(
        h.events(),
        [
            ehlo("c.example"),
            mail("a@c.example"),
            Event::StartTls,
            ehlo("c.example"),
        ]
    );
}

/// Turns reply text into `S:` script lines.
fn script_lines(replies: &str) -> String {
    replies.lines().map(|l| format!("S: {l}\n")).collect()
}

/// CVE-2011-0411: anything pipelined after STARTTLS, even a partial line or the first bytes
/// of a TLS ClientHello sent too early, closes the session without the `220`.
#[test]
fn starttls_with_pipelined_input_closes_without_220() {
    for tail in [
        "NOOP\r\n",
        "NO",
        "\r\n",
        "\x16\x03\x01",
        "MAIL FROM:<a@c.example>\r\n",
    ] {
        let mut h = after_ehlo(tls_config());
        h.send(format!("STARTTLS\r\n{tail}"));
        assert_eq!(
            h.take_out(),
            "421 4.7.0 Commands pipelined after STARTTLS, closing connection\r\n",
            "{tail:?}"
        );
        assert_eq!(
            h.events(),
            [closed(Err(SessionError::StartTlsInjection))],
            "{tail:?}"
        );
        assert!(h.server.is_closed() && !h.server.is_tls());
        assert_eq!(
            h.server.tls_established(h.now),
            Err(ServerError::NoTlsPending)
        );
    }
}

#[test]
fn bytes_before_the_handshake_completes_close_the_session() {
    let mut h = after_ehlo(tls_config());
    h.auto_tls = false;
    h.send("STARTTLS\r\n");
    assert_eq!(h.take_out(), "220 2.0.0 Ready to start TLS\r\n");
    assert_eq!(h.events(), [Event::StartTls]);
    assert!(!h.server.wants_input());
    assert_eq!(h.server.poll_timeout(), None);
    h.send("EHLO mitm.example\r\n");
    assert_eq!(h.take_out(), "");
    assert_eq!(h.events(), [closed(Err(SessionError::StartTlsInjection))]);
    assert!(h.server.is_closed());
    assert_eq!(
        h.server.tls_established(h.now),
        Err(ServerError::NoTlsPending)
    );
    h.send("NOOP\r\n");
    assert_eq!((h.take_out(), h.events()), (String::new(), vec![]));
}

#[test]
fn tls_established_without_starttls_is_misuse() {
    let mut h = after_ehlo(tls_config());
    assert_eq!(
        h.server.tls_established(h.now),
        Err(ServerError::NoTlsPending)
    );
    assert!(!h.server.is_tls());
    // STARTTLS that is not offered, or refused, does not start a hand-off either.
    let mut h = after_ehlo(config("mx.example"));
    h.transcript(
        "C: STARTTLS
         S: 502 5.5.1 STARTTLS not offered",
    );
    assert_eq!(
        h.server.tls_established(h.now),
        Err(ServerError::NoTlsPending)
    );
    let mut h = after_ehlo(tls_config());
    h.transcript(
        "C: STARTTLS now
         S: 501 5.5.4 Syntax error: STARTTLS takes no argument (byte 8)",
    );
    assert_eq!(
        h.server.tls_established(h.now),
        Err(ServerError::NoTlsPending)
    );
}

#[test]
fn require_tls_refuses_mail_before_starttls() {
    let mut cfg = tls_config();
    cfg.require_tls = true;
    let mut h = after_ehlo(cfg);
    h.transcript(
        "C: MAIL FROM:<a@c.example>
         S: 530 5.7.0 Must issue a STARTTLS command first
         C: STARTTLS
         S: 220 2.0.0 Ready to start TLS",
    );
    h.send("EHLO c.example\r\n");
    h.take_out();
    h.transcript(
        "C: MAIL FROM:<a@c.example>
         S: 250 2.1.0 Sender ok",
    );
}

/// RFC 8689: REQUIRETLS needs a TLS session and the configuration's consent.
#[test]
fn requiretls_parameter() {
    let mut cfg = tls_config();
    cfg.requiretls = true;
    let mut h = after_ehlo(cfg);
    h.transcript(
        "C: MAIL FROM:<a@c.example> REQUIRETLS
         S: 530 5.7.10 REQUIRETLS needs a TLS session
         C: STARTTLS
         S: 220 2.0.0 Ready to start TLS
         C: EHLO c.example
         S: 250-mx.example
         S: 250-PIPELINING
         S: 250-8BITMIME
         S: 250-SMTPUTF8
         S: 250-ENHANCEDSTATUSCODES
         S: 250-CHUNKING
         S: 250-BINARYMIME
         S: 250-REQUIRETLS
         S: 250-SIZE 10240000
         S: 250 LIMITS RCPTMAX=100
         C: MAIL FROM:<a@c.example> REQUIRETLS
         S: 250 2.1.0 Sender ok",
    );
    let mut params = MailParams::default();
    params.requiretls = true;
    assert_eq!(
        h.events(),
        [
            Event::StartTls,
            ehlo("c.example"),
            mail_with("a@c.example", params)
        ]
    );
    let mut h = after_ehlo(tls_config());
    h.send("STARTTLS\r\n");
    h.send("EHLO c.example\r\n");
    h.take_out();
    h.transcript(
        "C: MAIL FROM:<a@c.example> REQUIRETLS
         S: 555 5.5.4 REQUIRETLS not supported",
    );
}

// ---- 7. AUTH ----

const PLAIN_ALICE: &str = "AGFsaWNlAHNlY3JldA=="; // "\0alice\0secret"
const PLAIN_WRONG: &str = "AGFsaWNlAHdyb25n"; // "\0alice\0wrong"

/// Implicit TLS with SCRAM-SHA-256, PLAIN and LOGIN.
fn auth_config() -> ServerConfig {
    let mut config = config("mx.example");
    config.implicit_tls = true;
    config.auth_mechanisms = vec![Mechanism::ScramSha256, Mechanism::Plain, Mechanism::Login];
    config
}

const AUTH_MECHANISMS: &str = "SCRAM-SHA-256 PLAIN LOGIN";

/// The [`Event::Authenticated`] that a correct exchange of `mechanism` yields.
fn authenticated_event(mechanism: Mechanism, responses: &[&[u8]]) -> Event {
    let mut session = ServerSession::new(mechanism, Nonce::new(SERVER_NONCE).unwrap());
    for response in responses {
        if let ServerStep::Success(outcome) = session.step(&Users, response).unwrap() {
            return Event::Authenticated(outcome);
        }
    }
    panic!("the exchange did not succeed");
}

fn auth_step(mechanism: Mechanism) -> Event {
    Event::AuthStep { mechanism }
}

fn auth_failed(mechanism: Mechanism, error: SaslError) -> Event {
    Event::AuthFailed { mechanism, error }
}

#[test]
fn auth_plain_with_initial_response() {
    let mut h = Harness::new(auth_config());
    assert!(h.server.is_tls());
    h.transcript(&format!(
        "S: 220 mx.example ESMTP ready
         C: EHLO c.example
         {}
         C: AUTH PLAIN {PLAIN_ALICE}
         S: 235 2.7.0 Authentication successful
         C: AUTH PLAIN {PLAIN_ALICE}
         S: 503 5.5.1 Already authenticated
         C: EHLO c.example
         {}",
        script_lines(&ehlo_reply("mx.example", false, Some(AUTH_MECHANISMS))),
        script_lines(&ehlo_reply("mx.example", false, None)),
    ));
    assert_eq!(
        h.events(),
        [
            ehlo("c.example"),
            auth_step(Mechanism::Plain),
            authenticated_event(Mechanism::Plain, &[b"\0alice\0secret"]),
            ehlo("c.example"),
        ]
    );
    let outcome = h.server.authenticated().expect("authenticated");
    assert_eq!(
        (outcome.identity(), outcome.mechanism()),
        ("alice", Mechanism::Plain)
    );
}

#[test]
fn auth_plain_without_initial_response() {
    let mut h = after_ehlo(auth_config());
    h.transcript(&format!(
        "C: AUTH PLAIN
         S: 334 
         C: {PLAIN_ALICE}
         S: 235 2.7.0 Authentication successful"
    ));
    assert_eq!(
        h.events(),
        [
            auth_step(Mechanism::Plain),
            auth_step(Mechanism::Plain),
            authenticated_event(Mechanism::Plain, &[b"\0alice\0secret"]),
        ]
    );
    assert!(h.server.authenticated().is_some());
}

#[test]
fn auth_login() {
    let mut h = after_ehlo(auth_config());
    h.transcript(
        "C: AUTH LOGIN
         S: 334 VXNlcm5hbWU6
         C: YWxpY2U=
         S: 334 UGFzc3dvcmQ6
         C: c2VjcmV0
         S: 235 2.7.0 Authentication successful",
    );
    assert_eq!(
        h.events(),
        [
            auth_step(Mechanism::Login),
            auth_step(Mechanism::Login),
            auth_step(Mechanism::Login),
            authenticated_event(Mechanism::Login, &[b"alice", b"secret"]),
        ]
    );
    assert_eq!(h.server.authenticated().unwrap().identity(), "alice");
}

/// Runs a SCRAM-SHA-256 exchange with `password`, driven by the mail-wire client.
/// Returns what the server sent after the client's final message.
fn scram_exchange(h: &mut Harness, password: &str) -> (String, ClientSession) {
    let mut client = ClientSession::scram_sha256(
        None,
        USER,
        Secret::new(password.to_owned()),
        Nonce::new("rOprNGfwEbeRWgbNEkqO").unwrap(),
        ScramClientConfig::default(),
    )
    .unwrap();
    let initial = client.initial_response().unwrap().unwrap();
    h.send(format!(
        "AUTH SCRAM-SHA-256 {}\r\n",
        framing::encode_initial_response(initial.expose()).expose()
    ));
    let out = h.take_out();
    let challenge = out
        .strip_prefix("334 ")
        .and_then(|c| c.strip_suffix("\r\n"))
        .unwrap_or_else(|| panic!("not a challenge: {out:?}"));
    let server_first = framing::decode_challenge(challenge.as_bytes()).unwrap();
    let expected_start = format!("r=rOprNGfwEbeRWgbNEkqO{SERVER_NONCE},s=");
    assert!(
        server_first.starts_with(expected_start.as_bytes()),
        "{}",
        String::from_utf8_lossy(&server_first)
    );
    let client_final = client.step(&server_first).unwrap();
    h.send(format!(
        "{}\r\n",
        framing::encode_response(client_final.expose()).expose()
    ));
    (h.take_out(), client)
}

#[test]
fn auth_scram_sha256_driven_by_the_sasl_client() {
    let mut h = after_ehlo(auth_config());
    let (out, mut client) = scram_exchange(&mut h, PASSWORD);
    let challenge = out
        .strip_prefix("334 ")
        .and_then(|c| c.strip_suffix("\r\n"))
        .unwrap_or_else(|| panic!("not a challenge: {out:?}"));
    let server_final = framing::decode_challenge(challenge.as_bytes()).unwrap();
    assert!(server_final.starts_with(b"v="));
    // The client checks the server signature and answers with an empty line.
    let ack = client.step(&server_final).unwrap();
    assert_eq!(ack.expose(), b"");
    assert_eq!(
        framing::decode_response(b""),
        Ok(Response::Data(Secret::new(vec![])))
    );
    h.send("\r\n");
    assert_eq!(h.take_out(), "235 2.7.0 Authentication successful\r\n");
    client.finish(None).unwrap();
    let events = h.events();
    assert_eq!(events[..3], vec![auth_step(Mechanism::ScramSha256); 3]);
    match &events[3..] {
        [Event::Authenticated(outcome)] => {
            assert_eq!(outcome.mechanism(), Mechanism::ScramSha256);
            assert_eq!(outcome.identity(), "alice");
            assert_eq!(h.server.authenticated(), Some(outcome));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn auth_scram_sha256_wrong_password() {
    let mut h = after_ehlo(auth_config());
    let (out, _) = scram_exchange(&mut h, "wrong");
    assert_eq!(out, "535 5.7.8 Authentication credentials invalid\r\n");
    assert_eq!(
        h.events(),
        [
            auth_step(Mechanism::ScramSha256),
            auth_step(Mechanism::ScramSha256),
            auth_failed(Mechanism::ScramSha256, SaslError::AuthenticationFailed),
        ]
    );
    assert!(h.server.authenticated().is_none());
}

#[test]
fn auth_wrong_password_then_right_one() {
    let mut h = after_ehlo(auth_config());
    h.transcript(&format!(
        "C: AUTH PLAIN {PLAIN_WRONG}
         S: 535 5.7.8 Authentication credentials invalid
         C: AUTH PLAIN {PLAIN_ALICE}
         S: 235 2.7.0 Authentication successful"
    ));
    assert_eq!(
        h.events(),
        [
            auth_step(Mechanism::Plain),
            auth_failed(Mechanism::Plain, SaslError::AuthenticationFailed),
            auth_step(Mechanism::Plain),
            authenticated_event(Mechanism::Plain, &[b"\0alice\0secret"]),
        ]
    );
}

#[test]
fn auth_cancelled_with_a_star() {
    let mut h = after_ehlo(auth_config());
    h.transcript(
        "C: AUTH LOGIN
         S: 334 VXNlcm5hbWU6
         C: *
         S: 501 5.0.0 Authentication cancelled
         C: AUTH LOGIN YWxpY2U=
         S: 334 UGFzc3dvcmQ6
         C: *
         S: 501 5.0.0 Authentication cancelled
         C: NOOP
         S: 250 2.0.0 Ok",
    );
    assert_eq!(
        h.events(),
        [
            auth_step(Mechanism::Login),
            auth_failed(Mechanism::Login, SaslError::Cancelled),
            auth_step(Mechanism::Login),
            auth_failed(Mechanism::Login, SaslError::Cancelled),
        ]
    );
    assert!(h.server.authenticated().is_none());
}

#[test]
fn auth_protocol_errors() {
    let mut h = Harness::new(auth_config());
    h.take_out();
    h.transcript(&format!(
        "C: AUTH PLAIN {PLAIN_ALICE}
         S: 503 5.5.1 Send EHLO first
         C: HELO c.example
         C: AUTH PLAIN {PLAIN_ALICE}
         S: 250 mx.example
         S: 503 5.5.1 Send EHLO first"
    ));
    h.send("EHLO c.example\r\n");
    h.take_out();
    h.transcript(&format!(
        "C: AUTH CRAM-MD5
         S: 504 5.5.4 Unrecognized authentication type
         C: AUTH XOAUTH2 dXNlcj1h
         S: 504 5.5.4 Unrecognized authentication type
         C: AUTH PLAIN AHRpbQ
         S: 501 5.5.4 Syntax error: syntax error in base64 at byte 11
         C: AUTH PLAIN AHRpbR==
         S: 501 5.5.2 Cannot decode response
         C: AUTH LOGIN
         S: 334 VXNlcm5hbWU6
         C: YWxpY2U
         S: 501 5.5.2 Cannot decode response
         C: MAIL FROM:<a@c.example>
         C: AUTH PLAIN {PLAIN_ALICE}
         S: 250 2.1.0 Sender ok
         S: 503 5.5.1 AUTH not allowed during a mail transaction"
    ));
    let events = h.events();
    assert_eq!(
        events,
        [
            hello(HelloVerb::Helo, "c.example"),
            ehlo("c.example"),
            auth_step(Mechanism::Login),
            auth_failed(Mechanism::Login, SaslError::InvalidBase64 { offset: 7 }),
            mail("a@c.example"),
        ]
    );
}

/// The application may refuse an exchange outright (rate limiting, say).
#[test]
fn auth_step_rejected_by_the_application() {
    let policy: Policy = Box::new(|event| match event {
        Event::AuthStep { .. } => Decision::Reject(reply_esc(
            454,
            (4, 7, 0),
            "Temporary authentication failure".into(),
        )),
        _ => Decision::Accept,
    });
    let mut h = after_ehlo_with(auth_config(), policy);
    h.transcript(&format!(
        "C: AUTH PLAIN {PLAIN_ALICE}
         S: 454 4.7.0 Temporary authentication failure
         C: NOOP
         S: 250 2.0.0 Ok"
    ));
    assert_eq!(
        h.events(),
        [
            auth_step(Mechanism::Plain),
            auth_failed(Mechanism::Plain, SaslError::AuthenticationFailed),
        ]
    );
}

/// docs/design.md security rule 3: no AUTH before TLS unless configured.
#[test]
fn auth_not_offered_nor_accepted_before_tls() {
    let mut cfg = tls_config();
    cfg.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
    let mut h = Harness::new(cfg.clone());
    h.transcript(&format!(
        "S: 220 mx.example ESMTP ready
         C: EHLO c.example
         {}
         C: AUTH PLAIN {PLAIN_ALICE}
         S: 538 5.7.11 Encryption required for requested authentication mechanism
         C: AUTH LOGIN
         S: 538 5.7.11 Encryption required for requested authentication mechanism
         C: STARTTLS
         S: 220 2.0.0 Ready to start TLS
         C: EHLO c.example
         {}
         C: AUTH PLAIN {PLAIN_ALICE}
         S: 235 2.7.0 Authentication successful",
        script_lines(&ehlo_reply("mx.example", true, None)),
        script_lines(&ehlo_reply("mx.example", false, Some("PLAIN LOGIN"))),
    ));
    assert_eq!(
        h.events(),
        [
            ehlo("c.example"),
            Event::StartTls,
            ehlo("c.example"),
            auth_step(Mechanism::Plain),
            authenticated_event(Mechanism::Plain, &[b"\0alice\0secret"]),
        ]
    );
    // With TLS required the refusal says so.
    cfg.require_tls = true;
    let mut h = after_ehlo(cfg);
    h.transcript(&format!(
        "C: AUTH PLAIN {PLAIN_ALICE}
         S: 530 5.7.0 Must issue a STARTTLS command first"
    ));
    assert_eq!(h.events(), []);
}

#[test]
fn auth_after_starttls_forgets_nothing_it_should_not() {
    // Authentication never happened before TLS here, but a completed one must not survive a
    // hand-off either: with plaintext AUTH allowed, authenticate, then STARTTLS.
    let mut cfg = tls_config();
    cfg.auth_mechanisms = vec![Mechanism::Plain];
    cfg.allow_plaintext_auth = true;
    let mut h = after_ehlo(cfg);
    h.transcript(&format!(
        "C: AUTH PLAIN {PLAIN_ALICE}
         S: 235 2.7.0 Authentication successful
         C: STARTTLS
         S: 220 2.0.0 Ready to start TLS"
    ));
    assert!(h.server.authenticated().is_none());
    h.send("EHLO c.example\r\n");
    assert!(h.take_out().contains("250-AUTH PLAIN\r\n"));
}

#[test]
fn plaintext_auth_when_allowed() {
    let mut cfg = config("mx.example");
    cfg.auth_mechanisms = vec![Mechanism::Plain];
    cfg.allow_plaintext_auth = true;
    let mut h = Harness::new(cfg);
    h.transcript(&format!(
        "S: 220 mx.example ESMTP ready
         C: EHLO c.example
         {}
         C: AUTH PLAIN {PLAIN_ALICE}
         S: 235 2.7.0 Authentication successful",
        script_lines(&ehlo_reply("mx.example", false, Some("PLAIN"))),
    ));
    assert!(!h.server.is_tls());
    assert!(h.server.authenticated().is_some());
}

#[test]
fn require_auth_refuses_mail_until_authenticated() {
    let mut h = after_ehlo(ServerConfig::submissions(domain("mx.example")));
    h.transcript(&format!(
        "C: MAIL FROM:<alice@mx.example>
         S: 530 5.7.0 Authentication required
         C: AUTH PLAIN {PLAIN_WRONG}
         C: MAIL FROM:<alice@mx.example>
         S: 535 5.7.8 Authentication credentials invalid
         S: 530 5.7.0 Authentication required
         C: AUTH PLAIN {PLAIN_ALICE}
         C: MAIL FROM:<alice@mx.example>
         S: 235 2.7.0 Authentication successful
         S: 250 2.1.0 Sender ok"
    ));
    assert_eq!(h.server.authenticated().unwrap().identity(), "alice");
}

/// RFC 4954 section 4: AUTH lines may be 12288 octets; other commands keep the normal limit.
#[test]
fn auth_line_limit_applies_to_auth_only() {
    struct LongPassword;
    impl mail_wire::sasl::Authenticator for LongPassword {
        fn verify_password(&self, authcid: &str, password: &Secret<String>) -> bool {
            authcid == USER && *password.expose() == "p".repeat(8984)
        }
    }
    let mut h = after_ehlo(auth_config());
    h.auth = Box::new(LongPassword);
    h.transcript(&format!(
        "C: NOOP {}
         C: NOOP
         S: 500 5.5.2 Line too long
         S: 250 2.0.0 Ok
         C: AUTH PLAIN {}
         C: NOOP
         S: 500 5.5.2 Line too long
         S: 250 2.0.0 Ok",
        "x".repeat(2995),
        "A".repeat(AUTH_LINE_LIMIT),
    ));
    let credentials = format!("\0alice\0{}", "p".repeat(8984));
    let line = format!(
        "AUTH PLAIN {}\r\n",
        framing::encode_response(credentials.as_bytes()).expose()
    );
    assert_eq!(line.len(), 12_001);
    h.send(line);
    assert_eq!(h.take_out(), "235 2.7.0 Authentication successful\r\n");
    let events = h.events();
    assert_eq!(events[0], auth_step(Mechanism::Plain));
    assert!(matches!(&events[1..], [Event::Authenticated(a)] if a.identity() == "alice"));
}

#[test]
fn auth_response_line_too_long() {
    let mut h = after_ehlo(auth_config());
    h.transcript(&format!(
        "C: AUTH LOGIN
         S: 334 VXNlcm5hbWU6
         C: {}
         C: NOOP
         S: 500 5.5.6 Authentication exchange line is too long
         S: 250 2.0.0 Ok",
        "A".repeat(framing::MAX_ENCODED_LEN + 8)
    ));
    let events = h.events();
    assert_eq!(events[0], auth_step(Mechanism::Login));
    assert!(
        matches!(
            &events[1..],
            [Event::AuthFailed {
                mechanism: Mechanism::Login,
                error: SaslError::TooLong { .. }
            }]
        ),
        "{events:?}"
    );
}

/// An authentication failure that passes the error limit: the failure is reported, then
/// the session closes, and nothing is sent after the `421`.
#[test]
fn auth_failures_past_the_error_limit() {
    let long = "A".repeat(framing::MAX_ENCODED_LEN + 8);
    let cases: [(&str, Policy, Event); 3] = [
        (
            "AUTH LOGIN\r\nYWxpY2U=\r\nd3Jvbmc=\r\n",
            accept_all(),
            auth_failed(Mechanism::Login, SaslError::AuthenticationFailed),
        ),
        (
            "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n",
            Box::new(|event| match event {
                Event::AuthStep { .. } => Decision::Reject(reply(454, "Try later")),
                _ => Decision::Accept,
            }),
            auth_failed(Mechanism::Plain, SaslError::AuthenticationFailed),
        ),
        (
            &*Box::leak(format!("AUTH LOGIN\r\n{long}\r\n").into_boxed_str()),
            accept_all(),
            Event::AuthFailed {
                mechanism: Mechanism::Login,
                error: SaslError::TooLong {
                    len: framing::MAX_ENCODED_LEN + 2,
                    limit: framing::MAX_ENCODED_LEN,
                },
            },
        ),
    ];
    for (wire, policy, failure) in cases {
        let mut cfg = auth_config();
        cfg.max_errors = 1;
        let mut h = after_ehlo_with(cfg, policy);
        h.send("FOO\r\n");
        assert_eq!(h.take_out(), "500 5.5.2 Command not recognized\r\n");
        h.send(wire);
        let out = h.take_out();
        assert!(
            out.ends_with("\r\n421 4.7.0 Too many errors, closing connection\r\n")
                || out == "421 4.7.0 Too many errors, closing connection\r\n",
            "{wire:?}: {out}"
        );
        let events = h.events();
        assert_eq!(
            events[events.len() - 2..],
            [failure, closed(Err(SessionError::TooManyErrors))],
            "{wire:?}"
        );
    }
}

// ---- 8. Limits ----

#[test]
fn line_too_long_and_the_session_stays_in_sync() {
    let mut h = after_ehlo(config("mx.example"));
    h.transcript(&format!(
        "C: NOOP {}
         C: NOOP
         S: 500 5.5.2 Line too long
         S: 250 2.0.0 Ok",
        "x".repeat(3000)
    ));
    // Fed in pieces, with a would-be command inside the over-long line.
    h.send(format!("MAIL FROM:<a@c.example> X={}", "y".repeat(1500)));
    h.send(format!("{}\r\nRSET\r\nQUIT", "y".repeat(1500)));
    assert_eq!(h.take_out(), "500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n");
    h.send("\r\n");
    assert_eq!(h.take_out(), "221 2.0.0 Bye\r\n");
    assert_eq!(h.events(), [closed(Ok(()))]);
}

/// The limit counts the CRLF: 2048 octets in all is the longest line.
#[test]
fn line_length_boundary() {
    let mut h = after_ehlo(config("mx.example"));
    let longest = format!("NOOP {}\r\n", "x".repeat(2048 - 7));
    assert_eq!(longest.len(), 2048);
    h.send(&longest);
    assert_eq!(h.take_out(), "250 2.0.0 Ok\r\n");
    let one_more = format!("NOOP {}\r\n", "x".repeat(2048 - 6));
    h.send(&one_more);
    assert_eq!(h.take_out(), "500 5.5.2 Line too long\r\n");
}

#[test]
fn declared_size_over_the_limit() {
    let mut h = after_ehlo(config("mx.example"));
    h.transcript(
        "C: MAIL FROM:<a@c.example> SIZE=10240001
         S: 552 5.3.4 Message size exceeds fixed maximum message size
         C: MAIL FROM:<a@c.example> SIZE=99999999999999999999999
         S: 552 5.3.4 Message size exceeds fixed maximum message size
         C: MAIL FROM:<a@c.example> SIZE=10240000
         S: 250 2.1.0 Sender ok",
    );
    let mut params = MailParams::default();
    params.size = Some(10_240_000);
    assert_eq!(h.events(), [mail_with("a@c.example", params)]);
}

fn small_message_config(limit: u64) -> ServerConfig {
    let mut config = config("mx.example");
    config.max_message_size = limit;
    config
}

#[test]
fn data_body_over_the_limit() {
    let body: String = (0..10)
        .map(|i| format!("line {i:02} of the body\r\n"))
        .collect();
    assert_eq!(body.len(), 210);
    for bytewise in [false, true] {
        let mut h = in_transaction(small_message_config(100));
        let wire = format!("DATA\r\n{body}.\r\nNOOP\r\n");
        if bytewise {
            send_bytewise(&mut h, wire.as_bytes());
        } else {
            h.send(&wire);
        }
        assert_eq!(
            h.take_out(),
            format!("{START_DATA}{SIZE_EXCEEDED}250 2.0.0 Ok\r\n")
        );
        assert_eq!(
            h.events(),
            [
                data_start(),
                chunk(&body[..100]),
                Event::BodyAborted(BodyError::TooLarge { limit: 100 }),
            ]
        );
        assert!(!h.server.in_transaction());
        h.transcript(
            "C: MAIL FROM:<a@c.example>
             S: 250 2.1.0 Sender ok",
        );
    }
    // Exactly the limit is fine.
    let mut h = in_transaction(small_message_config(105));
    h.send(format!("DATA\r\n{}.\r\n", &body[..105]));
    assert_eq!(h.take_out(), format!("{START_DATA}{MESSAGE_ACCEPTED}"));
    assert_eq!(
        h.events(),
        [data_start(), chunk(&body[..105]), body_end(105, 1)]
    );
}

#[test]
fn bdat_over_the_limit() {
    let mut h = in_transaction(small_message_config(100));
    let first = "a".repeat(60);
    let second = format!("QUIT\r\n{}", "b".repeat(54));
    h.send(format!(
        "BDAT 60\r\n{first}BDAT 60 LAST\r\n{second}NOOP\r\nBDAT 5 LAST\r\nhelloNOOP\r\n"
    ));
    assert_eq!(
        h.take_out(),
        format!(
            "250 2.0.0 60 octets received\r\n{SIZE_EXCEEDED}250 2.0.0 Ok\r\n\
             503 5.5.1 Need MAIL command\r\n250 2.0.0 Ok\r\n"
        )
    );
    assert_eq!(
        h.events(),
        [
            bdat_start(),
            chunk(&first),
            Event::BodyAborted(BodyError::TooLarge { limit: 100 }),
        ]
    );
    assert!(!h.server.in_transaction());
    // A single chunk over the limit is refused before any of it is delivered.
    let mut h = in_transaction(small_message_config(100));
    h.send(format!("BDAT 101 LAST\r\n{}NOOP\r\n", "c".repeat(101)));
    assert_eq!(h.take_out(), format!("{SIZE_EXCEEDED}250 2.0.0 Ok\r\n"));
    assert_eq!(
        h.events(),
        [
            bdat_start(),
            Event::BodyAborted(BodyError::TooLarge { limit: 100 })
        ]
    );
}

/// RFC 5321 section 4.5.3.1.10: the 452 for recipients past the limit lets the client go on
/// with those accepted, so it is not a client error: it does not count toward `max_errors`
/// until 1000 over the limit (Postfix's `smtpd_recipient_overshoot_limit`).
#[test]
fn recipients_over_the_limit_do_not_count_as_errors() {
    let mut cfg = config("mx.example");
    cfg.max_recipients = 1;
    cfg.max_errors = 2;
    let in_transaction = |cfg: ServerConfig| {
        let mut h = Harness::new(cfg);
        h.send("EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
        assert!(h.take_out().ends_with("250 2.1.5 Recipient ok\r\n"));
        h
    };
    let mut h = in_transaction(cfg.clone());
    h.send("RCPT TO:<c@example.net>\r\n".repeat(10));
    h.send("DATA\r\nhello\r\n.\r\n");
    assert_eq!(
        h.take_out(),
        format!(
            "{}{START_DATA}{MESSAGE_ACCEPTED}",
            "452 4.5.3 Too many recipients\r\n".repeat(10)
        )
    );
    // Past the overshoot they count: the 1001st and 1002nd are errors 1 and 2, the 1003rd
    // passes the limit.
    let mut h = in_transaction(cfg);
    h.send("RCPT TO:<c@example.net>\r\n".repeat(1003));
    assert_eq!(
        h.take_out(),
        format!(
            "{}421 4.7.0 Too many errors, closing connection\r\n",
            "452 4.5.3 Too many recipients\r\n".repeat(1002)
        )
    );
}

/// RFC 3030 section 2: after a refused chunk, the chunks already in the client's pipeline are
/// accepted and discarded, and do not count as errors.
#[test]
fn chunks_pipelined_after_a_refused_chunk_are_discarded() {
    let mut cfg = config("mx.example");
    cfg.max_message_size = 10;
    cfg.max_errors = 3;
    let mut h = in_transaction(cfg);
    h.send(format!(
        "{}BDAT 0 LAST\r\nNOOP\r\n",
        "BDAT 4\r\nabcd".repeat(6)
    ));
    let discarded = "503 5.5.1 Chunk discarded: an earlier chunk of this message was refused\r\n";
    assert_eq!(
        h.take_out(),
        format!(
            "250 2.0.0 4 octets received\r\n250 2.0.0 8 octets received\r\n{SIZE_EXCEEDED}{}\
             250 2.0.0 Ok\r\n",
            discarded.repeat(4)
        )
    );
    assert!(!h.server.is_closed());
    // Once another command ended the pipeline, a BDAT without MAIL is a sequence error again.
    h.send("BDAT 2\r\nxy");
    assert_eq!(h.take_out(), "503 5.5.1 Need MAIL command\r\n");
}

#[test]
fn parameters_after_helo_are_555() {
    // RFC 5321 section 4.1.1.11: after HELO no extension is in effect, so no parameter is.
    let mut cfg = config("mx.example");
    cfg.dsn = true;
    let mut h = Harness::new(cfg);
    h.take_out();
    h.transcript(
        "C: HELO c.example
         S: 250 mx.example",
    );
    for params in [
        "SIZE=100",
        "BODY=7BIT",
        "AUTH=<>",
        "X-UNKNOWN=1",
        "RET=HDRS",
    ] {
        h.send(format!("MAIL FROM:<a@b.example> {params}\r\n"));
        assert_eq!(
            h.take_out(),
            "555 5.5.4 MAIL parameters need EHLO\r\n",
            "{params}"
        );
    }
    h.transcript(
        "C: MAIL FROM:<a@b.example>
         S: 250 2.1.0 Sender ok
         C: RCPT TO:<c@d.example> NOTIFY=NEVER
         S: 555 5.5.4 RCPT parameters need EHLO
         C: RCPT TO:<c@d.example>
         S: 250 2.1.5 Recipient ok",
    );
}

#[test]
fn too_many_recipients() {
    let mut cfg = config("mx.example");
    cfg.max_recipients = 2;
    let mut h = Harness::new(cfg);
    h.take_out();
    h.send("EHLO c.example\r\n");
    assert!(h.take_out().ends_with("250 LIMITS RCPTMAX=2\r\n"));
    h.transcript(
        "C: MAIL FROM:<a@c.example>
         C: RCPT TO:<r1@mx.example>
         C: RCPT TO:<r2@mx.example>
         C: RCPT TO:<r3@mx.example>
         C: RCPT TO:<r4@mx.example>
         C: DATA
         S: 250 2.1.0 Sender ok
         S: 250 2.1.5 Recipient ok
         S: 250 2.1.5 Recipient ok
         S: 452 4.5.3 Too many recipients
         S: 452 4.5.3 Too many recipients
         S: 354 End data with <CR><LF>.<CR><LF>
         C: .
         S: 250 2.0.0 Message accepted",
    );
    assert_eq!(
        h.events(),
        [
            ehlo("c.example"),
            mail("a@c.example"),
            rcpt("r1@mx.example"),
            rcpt("r2@mx.example"),
            data_start(),
            body_end(0, 2),
        ]
    );
}

#[test]
fn too_many_errors() {
    let mut cfg = config("mx.example");
    cfg.max_errors = 3;
    let mut h = Harness::new(cfg);
    h.transcript(
        "S: 220 mx.example ESMTP ready
         C: FOO
         C: BAR
         C: NOOP
         C: BAZ
         C: QUX
         C: NOOP
         S: 500 5.5.2 Command not recognized
         S: 500 5.5.2 Command not recognized
         S: 250 2.0.0 Ok
         S: 500 5.5.2 Command not recognized
         S: 421 4.7.0 Too many errors, closing connection",
    );
    assert_eq!(h.events(), [closed(Err(SessionError::TooManyErrors))]);
    assert!(h.server.is_closed());
}

/// The application's refusals count too.
#[test]
fn application_refusals_count_toward_the_error_limit() {
    let mut cfg = config("mx.example");
    cfg.max_errors = 1;
    let mut h = after_ehlo_with(cfg, reject_some_recipients());
    h.transcript(
        "C: MAIL FROM:<a@c.example>
         C: RCPT TO:<reject-1@mx.example>
         C: RCPT TO:<reject-2@mx.example>
         C: RCPT TO:<ok@mx.example>
         S: 250 2.1.0 Sender ok
         S: 550 5.1.1 No such user
         S: 421 4.7.0 Too many errors, closing connection",
    );
    assert_eq!(
        h.events(),
        [
            mail("a@c.example"),
            rcpt("reject-1@mx.example"),
            rcpt("reject-2@mx.example"),
            closed(Err(SessionError::TooManyErrors)),
        ]
    );
}

/// In LMTP every refused recipient counts; once over the limit the session closes once.
#[test]
fn lmtp_refusals_past_the_error_limit_close_once() {
    let mut cfg = ServerConfig::lmtp(domain("foo.edu"));
    cfg.max_errors = 1;
    let policy: Policy = Box::new(|event| match event {
        Event::BodyEnd { recipients, .. } => {
            Decision::ReplyEach(vec![reply(452, "Over quota"); *recipients])
        }
        _ => Decision::Accept,
    });
    let mut h = Harness::with_policy(cfg, policy);
    h.take_out();
    h.send(
        "LHLO c.example\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<x@foo.edu>\r\n\
         RCPT TO:<y@foo.edu>\r\nRCPT TO:<z@foo.edu>\r\nDATA\r\nhi\r\n.\r\nNOOP\r\n",
    );
    let out = h.take_out();
    assert!(
        out.ends_with(
            "354 End data with <CR><LF>.<CR><LF>\r\n452 Over quota\r\n\
             421 4.7.0 Too many errors, closing connection\r\n"
        ),
        "{out}"
    );
    let events = h.events();
    assert_eq!(
        events[events.len() - 2..],
        [body_end(4, 3), closed(Err(SessionError::TooManyErrors))]
    );
}

#[test]
fn command_timeout() {
    let mut h = after_ehlo(config("mx.example"));
    let start = h.now;
    assert_eq!(
        h.server.poll_timeout(),
        Some(start + Duration::from_secs(300))
    );
    h.advance(Duration::from_secs(299));
    assert_eq!((h.take_out(), h.events()), (String::new(), vec![]));
    h.advance(Duration::from_secs(1));
    assert_eq!(
        h.take_out(),
        "421 4.4.2 mx.example Error: timeout exceeded, closing connection\r\n"
    );
    assert_eq!(h.events(), [closed(Err(SessionError::Timeout))]);
    assert_eq!(h.server.poll_timeout(), None);
    assert!(h.server.is_closed());
}

/// Each read restarts the clock, with the data timeout while a body is expected and the
/// command timeout otherwise.
#[test]
fn data_timeout_applies_while_a_body_is_expected() {
    let mut cfg = config("mx.example");
    cfg.data_timeout = Duration::from_secs(60);
    let mut h = in_transaction(cfg);
    h.advance(Duration::from_secs(10));
    h.send("DATA\r\n");
    assert_eq!(h.take_out(), START_DATA);
    assert_eq!(
        h.server.poll_timeout(),
        Some(h.now + Duration::from_secs(60))
    );
    h.advance(Duration::from_secs(30));
    h.send("partial body\r\n");
    assert_eq!(
        h.server.poll_timeout(),
        Some(h.now + Duration::from_secs(60))
    );
    h.send(".\r\n");
    assert_eq!(h.take_out(), MESSAGE_ACCEPTED);
    assert_eq!(
        h.server.poll_timeout(),
        Some(h.now + Duration::from_secs(300))
    );
    // BDAT waits for its octets with the data timeout.
    h.send("MAIL FROM:<a@c.example>\r\nRCPT TO:<b@mx.example>\r\nBDAT 10\r\n01234");
    assert_eq!(
        h.server.poll_timeout(),
        Some(h.now + Duration::from_secs(60))
    );
    h.advance(Duration::from_secs(60));
    assert_eq!(
        h.take_out(),
        "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n\
         421 4.4.2 mx.example Error: timeout exceeded, closing connection\r\n"
    );
}

#[test]
fn no_timeout_while_a_decision_is_pending() {
    let policy: Policy = Box::new(|event| match event {
        Event::Mail { .. } => Decision::Hold,
        _ => Decision::Accept,
    });
    let mut h = after_ehlo_with(config("mx.example"), policy);
    h.send("MAIL FROM:<a@c.example>\r\n");
    assert_eq!(h.server.poll_timeout(), None);
    h.advance(Duration::from_secs(3600));
    assert_eq!(
        (h.take_out(), h.events()),
        (String::new(), vec![mail("a@c.example")])
    );
    h.server.accept().unwrap();
    // The decision took an hour; the client's 5 minutes for its next command start now
    // (RFC 5321 section 4.5.3.2.7), not at the MAIL it sent an hour ago. The timeout is due
    // at once, and handling it restarts the idle time instead of closing.
    let due = h.server.poll_timeout().unwrap();
    assert!(due <= h.now, "due at once, to restart the idle time");
    h.server.handle_timeout(h.now);
    h.drive();
    assert_eq!(h.take_out(), "250 2.1.0 Sender ok\r\n");
    assert_eq!(
        h.server.poll_timeout(),
        Some(h.now + Duration::from_secs(300))
    );
    h.advance(Duration::from_secs(299));
    assert_eq!((h.take_out(), h.events()), (String::new(), vec![]));
    h.advance(Duration::from_secs(1));
    assert!(h.take_out().starts_with("421 4.4.2 "));
    assert_eq!(h.events(), [closed(Err(SessionError::Timeout))]);
}

#[test]
fn timeouts_too_long_to_represent_never_expire() {
    // `Instant + Duration::MAX` overflows: such a timeout means no timeout, not a panic.
    let mut cfg = config("mx.example");
    cfg.command_timeout = Duration::MAX;
    cfg.data_timeout = Duration::MAX;
    let mut h = after_ehlo(cfg);
    assert_eq!(h.server.poll_timeout(), None);
    h.advance(Duration::from_secs(100 * 365 * 24 * 3600));
    h.send("DATA\r\n");
    assert_eq!(h.server.poll_timeout(), None);
    assert!(!h.server.is_closed());
    // A greeting delay that long: the greeting never comes, and nothing panics.
    let mut cfg = config("mx.example");
    cfg.greeting_delay = Some(Duration::MAX);
    let mut h = Harness::new(cfg);
    assert_eq!(h.server.poll_timeout(), None);
    h.advance(Duration::from_secs(3600));
    assert_eq!(h.take_out(), "");
}

#[test]
fn too_much_pipelined_input() {
    let mut cfg = config("mx.example");
    cfg.max_buffered_input = 256;
    let policy: Policy = Box::new(|event| match event {
        Event::Hello { .. } => Decision::Hold,
        _ => Decision::Accept,
    });
    let mut h = Harness::with_policy(cfg, policy);
    h.take_out();
    h.send("EHLO c.example\r\n");
    assert!(!h.server.wants_input());
    // A driver that ignores wants_input keeps reading.
    h.send("NOOP\r\n".repeat(40)); // 240 octets: still within the limit
    assert_eq!(
        (h.take_out(), h.events()),
        (String::new(), vec![ehlo("c.example")])
    );
    h.send("NOOP\r\nNOOP\r\nNOOP\r\n");
    assert_eq!(
        h.take_out(),
        "421 4.7.0 Too much pipelined input, closing connection\r\n"
    );
    assert_eq!(h.events(), [closed(Err(SessionError::InputOverflow))]);
    assert_eq!(h.server.accept(), Err(ServerError::NoPendingDecision));
}

#[test]
fn bare_lf_ends_no_command() {
    let mut h = after_ehlo(config("mx.example"));
    h.send("NOOP\nQUIT\nNOOP\r\n");
    assert_eq!(
        h.take_out(),
        "500 5.5.2 Command line must end with CRLF (bare LF received)\r\n\
         500 5.5.2 Command line must end with CRLF (bare LF received)\r\n\
         250 2.0.0 Ok\r\n"
    );
    assert!(!h.server.is_closed());
    let mut cfg = config("mx.example");
    cfg.bare_lf_in_commands = BareLf::Accept;
    let mut h = after_ehlo(cfg);
    h.send("NOOP\nQUIT\n");
    assert_eq!(h.take_out(), "250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n");
}

// ---- 9. Everything else ----

#[test]
fn vrfy_expn_help_noop_etrn_unknown() {
    let mut h = after_ehlo(config("mx.example"));
    h.transcript(
        "C: VRFY Smith
         S: 252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery
         C: EXPN staff
         S: 502 5.5.1 EXPN not available
         C: HELP
         C: help mail
         S: 214 2.0.0 See RFC 5321
         S: 214 2.0.0 See RFC 5321
         C: NOOP
         C: noop with an argument
         S: 250 2.0.0 Ok
         S: 250 2.0.0 Ok
         C: ETRN example.org
         S: 502 5.5.1 ETRN not available
         C: XYZZY
         C: 
         S: 500 5.5.2 Command not recognized
         S: 500 5.5.2 Command not recognized
         C: RSET now
         S: 501 5.5.4 Syntax error: RSET takes no argument (byte 4)
         C: MAIL FROM:a@c.example
         S: 501 5.5.4 Syntax error: syntax error in Path at byte 10",
    );
    assert_eq!(h.events(), []);
}

#[test]
fn rset_clears_the_transaction() {
    let mut h = in_transaction(config("mx.example"));
    assert!(h.server.in_transaction());
    h.transcript(
        "C: RSET
         C: RCPT TO:<b@mx.example>
         C: DATA
         S: 250 2.0.0 Ok
         S: 503 5.5.1 Need MAIL before RCPT
         S: 503 5.5.1 Need MAIL command",
    );
    assert!(!h.server.in_transaction());
    // The greeting survives RSET.
    h.transcript(
        "C: MAIL FROM:<a@c.example>
         S: 250 2.1.0 Sender ok",
    );
}

#[test]
fn quit_closes() {
    let mut h = after_ehlo(config("mx.example"));
    h.transcript(
        "C: QUIT
         C: NOOP
         S: 221 2.0.0 Bye",
    );
    assert!(h.server.is_closed());
    assert!(!h.server.wants_input());
    assert_eq!(h.events(), [closed(Ok(()))]);
    h.send("NOOP\r\n");
    h.server.handle_eof();
    h.advance(Duration::from_secs(1000));
    assert_eq!((h.take_out(), h.events()), (String::new(), vec![]));
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

#[test]
fn greeting_delay_and_early_talker() {
    let mut cfg = config("mx.example");
    cfg.greeting_delay = Some(Duration::from_secs(5));
    let mut h = Harness::new(cfg.clone());
    let start = h.now;
    assert_eq!(h.take_out(), "");
    assert_eq!(
        h.server.poll_timeout(),
        Some(start + Duration::from_secs(5))
    );
    h.advance(Duration::from_secs(1));
    h.send("EHLO early.example\r\n");
    assert_eq!(h.take_out(), "");
    assert_eq!(h.events(), [Event::EarlyTalker]);
    h.send("NOOP\r\n");
    assert_eq!(h.events(), [], "reported once");
    h.advance(Duration::from_secs(3));
    assert_eq!(h.take_out(), "");
    h.advance(Duration::from_secs(1));
    assert_eq!(
        h.take_out(),
        format!(
            "220 mx.example ESMTP ready\r\n{}250 2.0.0 Ok\r\n",
            ehlo_reply("mx.example", false, None)
        )
    );
    assert_eq!(h.events(), [ehlo("early.example")]);
    // A patient client sees no EarlyTalker.
    let mut h = Harness::new(cfg.clone());
    h.advance(Duration::from_secs(5));
    assert_eq!(h.take_out(), "220 mx.example ESMTP ready\r\n");
    assert_eq!(h.events(), []);
    // The application may hang up on an early talker.
    let mut h = Harness::new(cfg);
    h.send("EHLO early.example\r\n");
    assert_eq!(h.events(), [Event::EarlyTalker]);
    h.server
        .close(&reply_esc(554, (5, 7, 1), "Talked too early".into()));
    h.drive();
    assert_eq!(h.take_out(), "554 5.7.1 Talked too early\r\n");
    assert_eq!(h.events(), [closed(Err(SessionError::Shutdown))]);
    assert!(h.server.is_closed());
}

#[test]
fn shutdown_when_idle_is_immediate() {
    let mut h = after_ehlo(config("mx.example"));
    h.server.shutdown();
    h.drive();
    assert_eq!(
        h.take_out(),
        "421 4.3.2 Service shutting down, closing connection\r\n"
    );
    assert_eq!(h.events(), [closed(Err(SessionError::Shutdown))]);
    assert!(h.server.is_closed());
}

#[test]
fn shutdown_mid_transaction_waits_for_the_message() {
    let mut h = in_transaction(config("mx.example"));
    h.send("DATA\r\nbody\r\n");
    assert_eq!(h.take_out(), START_DATA);
    h.server.shutdown();
    h.drive();
    assert_eq!(h.take_out(), "");
    assert!(!h.server.is_closed());
    h.send(".\r\nQUIT\r\n");
    assert_eq!(
        h.take_out(),
        format!("{MESSAGE_ACCEPTED}421 4.3.2 Service shutting down, closing connection\r\n")
    );
    assert_eq!(
        h.events(),
        [
            data_start(),
            chunk("body\r\n"),
            body_end(6, 1),
            closed(Err(SessionError::Shutdown))
        ]
    );
}

#[test]
fn peer_close() {
    let mut h = in_transaction(config("mx.example"));
    h.send("DATA\r\nunfinished");
    h.server.handle_eof();
    h.drive();
    assert_eq!(h.take_out(), START_DATA);
    assert_eq!(
        h.events(),
        [
            data_start(),
            chunk("unfinished"),
            closed(Err(SessionError::PeerClosed {
                in_transaction: true
            }))
        ]
    );
    assert!(h.server.is_closed());
    let mut h = after_ehlo(config("mx.example"));
    h.server.handle_eof();
    h.drive();
    assert_eq!(
        h.events(),
        [closed(Err(SessionError::PeerClosed {
            in_transaction: false
        }))]
    );
}

#[test]
fn decision_misuse_is_an_error_and_keeps_the_decision() {
    let policy: Policy = Box::new(|event| match event {
        Event::Mail { .. } | Event::AuthStep { .. } => Decision::Hold,
        _ => Decision::Accept,
    });
    let mut h = after_ehlo_with(auth_config(), policy);
    assert!(h.server.wants_input());
    assert_eq!(h.server.accept(), Err(ServerError::NoPendingDecision));
    assert_eq!(
        h.server.reject(reply(550, "No")),
        Err(ServerError::NoPendingDecision)
    );
    h.send("MAIL FROM:<a@c.example>\r\nNOOP\r\n");
    assert_eq!(h.events(), [mail("a@c.example")]);
    assert!(!h.server.wants_input());
    assert_eq!(
        h.server.poll_event(),
        None,
        "the NOOP waits for the decision"
    );
    assert_eq!(
        h.server.reject(reply(250, "OK")),
        Err(ServerError::WrongReplyClass(250))
    );
    assert_eq!(
        h.server.reject(reply(354, "Go on")),
        Err(ServerError::WrongReplyClass(354))
    );
    assert_eq!(
        h.server.accept_with(reply(550, "No")),
        Err(ServerError::WrongReplyClass(550))
    );
    assert_eq!(
        h.server.accept_with(reply(421, "No")),
        Err(ServerError::WrongReplyClass(421))
    );
    assert!(matches!(
        h.server
            .auth_step(&Users, Nonce::new(SERVER_NONCE).unwrap()),
        Err(ServerError::WrongDecision(_))
    ));
    h.drive();
    assert_eq!(h.take_out(), "");
    h.server.accept().unwrap();
    h.drive();
    assert_eq!(h.take_out(), "250 2.1.0 Sender ok\r\n250 2.0.0 Ok\r\n");
    assert!(h.server.wants_input());
    // An AuthStep is answered with auth_step, not accept.
    h.send("RSET\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
    assert_eq!(h.events(), [auth_step(Mechanism::Plain)]);
    assert!(matches!(
        h.server.accept(),
        Err(ServerError::WrongDecision(_))
    ));
    assert!(!h.server.wants_input());
    h.server
        .auth_step(&Users, Nonce::new(SERVER_NONCE).unwrap())
        .unwrap();
    h.drive();
    assert_eq!(
        h.take_out(),
        "250 2.0.0 Ok\r\n235 2.7.0 Authentication successful\r\n"
    );
}

// ---- 10. Chunk-split invariance ----

/// A session to replay under every chunking.
struct Scenario {
    name: &'static str,
    config: fn() -> ServerConfig,
    lmtp: bool,
    input: Vec<u8>,
}

/// Deterministic decisions: `reject*` recipients are refused; LMTP messages get one reply
/// per recipient, alternating 250 and 452.
fn scenario_policy(lmtp: bool) -> Policy {
    Box::new(move |event| match event {
        Event::Rcpt {
            to: ForwardPath::Mailbox(m),
            ..
        } if m.local.as_str().starts_with("reject") => {
            Decision::Reject(reply_esc(550, (5, 1, 1), "No such user".into()))
        }
        Event::BodyEnd { recipients, .. } if lmtp => Decision::ReplyEach(
            (0..*recipients)
                .map(|i| {
                    if i % 2 == 0 {
                        reply(250, "Delivered")
                    } else {
                        reply(452, "Over quota")
                    }
                })
                .collect(),
        ),
        _ => Decision::Accept,
    })
}

fn rich_config() -> ServerConfig {
    let mut config = config("mx.example");
    config.max_line_len = 256;
    config
}

fn rich_input() -> Vec<u8> {
    [
        "EHLO client.example\r\nNOOP\r\n",
        "MAIL FROM:<a@example.org> SIZE=500\r\nRCPT TO:<b@example.net>\r\n",
        "RCPT TO:<reject@example.net>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n",
        "Subject: x\r\n\r\n..stuffed\r\n...\r\nnot the end\n.\nstill\rbody\r\r\n.\r\n",
        "MAIL FROM:<a@example.org> BODY=BINARYMIME\r\nRCPT TO:<b@example.net>\r\n",
        "BDAT 12\r\nhello\r\n.\r\nQU",
        "BDAT 7 LAST\r\nIT\r\nxyz",
        &format!("NOOP {}\r\n", "x".repeat(300)),
        "MAIL FROM:<>\r\nRCPT TO:<postmaster>\r\nRSET\r\n",
        "MAIL FROM:<>\r\nRCPT TO:<Postmaster>\r\nBDAT 0 LAST\r\n",
        "VRFY x\r\nFOO\r\nNOOP\nQUIT\r\nNOOP\r\n",
    ]
    .concat()
    .into_bytes()
}

fn auth_scenario_config() -> ServerConfig {
    let mut config = config("mx.example");
    config.max_line_len = 256;
    config.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
    config.allow_plaintext_auth = true;
    config
}

fn limits_config() -> ServerConfig {
    let mut config = config("mx.example");
    config.max_message_size = 50;
    config.max_recipients = 1;
    config.max_errors = 5;
    config
}

fn lmtp_config() -> ServerConfig {
    ServerConfig::lmtp(domain("foo.edu"))
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "rich",
            config: rich_config,
            lmtp: false,
            input: rich_input(),
        },
        Scenario {
            name: "auth",
            config: auth_scenario_config,
            lmtp: false,
            input: format!(
                "EHLO c.example\r\nAUTH LOGIN\r\nYWxpY2U=\r\n*\r\nAUTH PLAIN {PLAIN_WRONG}\r\n\
                 NOOP {}\r\nAUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\nMAIL FROM:<a@c.example>\r\n\
                 RCPT TO:<b@mx.example>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n",
                "x".repeat(300)
            )
            .into_bytes(),
        },
        Scenario {
            name: "limits",
            config: limits_config,
            lmtp: false,
            input: format!(
                "EHLO c.example\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@x.example>\r\n\
                 RCPT TO:<c@x.example>\r\nDATA\r\n{}\r\n.\r\nMAIL FROM:<a@c.example>\r\n\
                 RCPT TO:<b@x.example>\r\nBDAT 30\r\n{}BDAT 30 LAST\r\n{}\
                 FOO\r\nFOO\r\nFOO\r\nFOO\r\n",
                "0123456789".repeat(8),
                "a".repeat(30),
                "b".repeat(30)
            )
            .into_bytes(),
        },
        Scenario {
            name: "lmtp",
            config: lmtp_config,
            lmtp: true,
            input: b"LHLO c.example\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<x@foo.edu>\r\n\
                     RCPT TO:<reject@foo.edu>\r\nRCPT TO:<y@foo.edu>\r\nRCPT TO:<z@foo.edu>\r\n\
                     DATA\r\nline\r\n..dot\r\n.\r\nMAIL FROM:<a@c.example>\r\n\
                     RCPT TO:<x@foo.edu>\r\nBDAT 3 LAST\r\nabcQUIT\r\n"
                .to_vec(),
        },
    ]
}

/// Runs `scenario` with its input cut at `cuts` (sorted offsets); returns everything sent
/// and every event (body chunks merged).
fn run_split(scenario: &Scenario, cuts: &[usize]) -> (Vec<u8>, Vec<Event>) {
    run_split_with(scenario, cuts, |_| false)
}

/// [`run_split`], feeding the pieces for which `by_buf(piece index)` holds through
/// `Server::feed_buf` (the driver's zero-copy hand-over) instead of `Server::feed`.
fn run_split_with(
    scenario: &Scenario,
    cuts: &[usize],
    by_buf: impl Fn(usize) -> bool,
) -> (Vec<u8>, Vec<Event>) {
    let mut h = Harness::with_policy((scenario.config)(), scenario_policy(scenario.lmtp));
    let mut start = 0;
    let mut piece = 0;
    for &cut in cuts.iter().chain(std::iter::once(&scenario.input.len())) {
        if cut > start {
            if by_buf(piece) {
                h.send_buf(&scenario.input[start..cut]);
            } else {
                h.send(&scenario.input[start..cut]);
            }
            start = cut;
            piece += 1;
        }
    }
    (h.take_bytes(), h.events())
}

/// The reference runs, whole input in one chunk, are what they should be.
#[test]
fn chunking_scenarios_reference_runs() {
    let scenarios = scenarios();
    let (out, events) = run_split(&scenarios[0], &[]);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!(
            "220 mx.example ESMTP ready\r\n{}250 2.0.0 Ok\r\n\
             250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n550 5.1.1 No such user\r\n\
             250 2.1.5 Recipient ok\r\n{START_DATA}{MESSAGE_ACCEPTED}\
             250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n250 2.0.0 12 octets received\r\n\
             {MESSAGE_ACCEPTED}500 5.5.2 Line too long\r\n\
             250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n250 2.0.0 Ok\r\n\
             250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n{MESSAGE_ACCEPTED}\
             252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n\
             500 5.5.2 Command not recognized\r\n\
             500 5.5.2 Command line must end with CRLF (bare LF received)\r\n\
             221 2.0.0 Bye\r\n",
            ehlo_reply("mx.example", false, None)
        )
    );
    let stuffed = "Subject: x\r\n\r\n.stuffed\r\n..\r\nnot the end\r\n\r\nstill\r\nbody\r\n\r\n";
    let mut size_params = MailParams::default();
    size_params.size = Some(500);
    let mut binary = MailParams::default();
    binary.body = Some(Body::BinaryMime);
    let null = |to: ForwardPath<'static>| {
        [
            Event::Mail {
                from: smtp_proto::ReversePath::Null,
                params: MailParams::default(),
            },
            Event::Rcpt {
                to,
                params: Default::default(),
            },
        ]
    };
    let expected: Vec<Event> = [
        vec![
            ehlo("client.example"),
            mail_with("a@example.org", size_params),
            rcpt("b@example.net"),
            rcpt("reject@example.net"),
            rcpt("c@example.net"),
            data_start(),
            chunk(stuffed),
            body_end(stuffed.len() as u64, 2),
            mail_with("a@example.org", binary),
            rcpt("b@example.net"),
            bdat_start(),
            chunk("hello\r\n.\r\nQUIT\r\nxyz"),
            body_end(19, 1),
        ],
        null(ForwardPath::Postmaster).to_vec(),
        null(ForwardPath::Postmaster).to_vec(),
        vec![bdat_start(), body_end(0, 1), closed(Ok(()))],
    ]
    .concat();
    assert_eq!(events, expected);

    let (out, events) = run_split(&scenarios[1], &[]);
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.ends_with(
            "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n501 5.0.0 Authentication cancelled\r\n\
             535 5.7.8 Authentication credentials invalid\r\n500 5.5.2 Line too long\r\n\
             334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.7.0 Authentication successful\r\n\
             250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n\
             354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Message accepted\r\n\
             221 2.0.0 Bye\r\n"
        ),
        "{out}"
    );
    assert!(events.iter().any(|e| matches!(e, Event::Authenticated(_))));

    let (out, events) = run_split(&scenarios[2], &[]);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!(
            "220 mx.example ESMTP ready\r\n{}250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n\
             452 4.5.3 Too many recipients\r\n{START_DATA}{SIZE_EXCEEDED}\
             250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n250 2.0.0 30 octets received\r\n\
             {SIZE_EXCEEDED}500 5.5.2 Command not recognized\r\n\
             500 5.5.2 Command not recognized\r\n\
             500 5.5.2 Command not recognized\r\n\
             421 4.7.0 Too many errors, closing connection\r\n",
            ehlo_reply("mx.example", false, None)
                .replace("SIZE 10240000", "SIZE 50")
                .replace("RCPTMAX=100", "RCPTMAX=1")
        )
    );
    assert_eq!(
        events[3..],
        [
            data_start(),
            chunk("0123456789".repeat(5)),
            Event::BodyAborted(BodyError::TooLarge { limit: 50 }),
            mail("a@c.example"),
            rcpt("b@x.example"),
            bdat_start(),
            chunk("a".repeat(30)),
            Event::BodyAborted(BodyError::TooLarge { limit: 50 }),
            closed(Err(SessionError::TooManyErrors)),
        ]
    );

    let (out, events) = run_split(&scenarios[3], &[]);
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.ends_with(
            "354 End data with <CR><LF>.<CR><LF>\r\n250 Delivered\r\n452 Over quota\r\n\
             250 Delivered\r\n250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n\
             250 Delivered\r\n221 2.0.0 Bye\r\n"
        ),
        "{out}"
    );
    assert_eq!(events.last(), Some(&closed(Ok(()))));
}

#[test]
fn chunking_byte_by_byte_and_every_two_way_split() {
    for scenario in scenarios() {
        let reference = run_split(&scenario, &[]);
        let every: Vec<usize> = (1..scenario.input.len()).collect();
        assert!(
            run_split(&scenario, &every) == reference,
            "{}: byte by byte",
            scenario.name
        );
        for cut in 1..scenario.input.len() {
            assert!(
                run_split(&scenario, &[cut]) == reference,
                "{}: cut at {cut}",
                scenario.name
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn chunking_never_changes_events_or_replies(
        which in 0..4usize,
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..60),
    ) {
        let scenario = &scenarios()[which];
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(scenario.input.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let reference = run_split(scenario, &[]);
        let split = run_split(scenario, &cuts);
        prop_assert_eq!(&split.0, &reference.0, "{}: output, cuts {:?}", scenario.name, cuts);
        prop_assert_eq!(&split.1, &reference.1, "{}: events, cuts {:?}", scenario.name, cuts);
    }

    /// `feed_buf` (all pieces, or some mixed with `feed`) is the same session as `feed`.
    #[test]
    fn feed_buf_never_changes_events_or_replies(
        which in 0..4usize,
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..60),
        mix in any::<u64>(),
    ) {
        let scenario = &scenarios()[which];
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(scenario.input.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let reference = run_split(scenario, &cuts);
        for by_buf in [&(|_| true) as &dyn Fn(usize) -> bool, &|piece| mix >> (piece % 64) & 1 == 1] {
            let run = run_split_with(scenario, &cuts, by_buf);
            prop_assert_eq!(&run.0, &reference.0, "{}: output, cuts {:?}", scenario.name, cuts);
            prop_assert_eq!(&run.1, &reference.1, "{}: events, cuts {:?}", scenario.name, cuts);
        }
    }
}

// ---- 11. Garbage in ----

const TOKENS: &[&str] = &[
    "EHLO x.example\r\n",
    "HELO x.example\r\n",
    "LHLO x.example\r\n",
    "MAIL FROM:<a@b.example>\r\n",
    "MAIL FROM:<a@b.example> BODY=BINARYMIME SIZE=20\r\n",
    "MAIL FROM:<> SMTPUTF8\r\n",
    "RCPT TO:<c@d.example>\r\n",
    "RCPT TO:<reject@d.example>\r\n",
    "DATA\r\n",
    "BDAT 5\r\n",
    "BDAT 0 LAST\r\n",
    "BDAT 3 LAST\r\n",
    "BDAT x\r\n",
    "BDAT 18446744073709551615\r\n",
    "RSET\r\n",
    "NOOP\r\n",
    "QUIT\r\n",
    "STARTTLS\r\n",
    "AUTH PLAIN\r\n",
    "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n",
    "AUTH LOGIN\r\n",
    "AUTH SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=\r\n",
    "YWxpY2U=\r\n",
    "c2VjcmV0\r\n",
    "*\r\n",
    "VRFY a\r\n",
    ".\r\n",
    "\r\n.\r\n",
    "..\r\n",
    "\r\n",
    "\n",
    "\r",
    ".",
    "\n.\n",
    "x",
    "\u{e9}",
];

#[derive(Debug, Clone)]
enum Action {
    Feed(Vec<u8>),
    Tick(u64),
    Eof,
    Shutdown,
}

fn action() -> impl Strategy<Value = Action> {
    let token = prop_oneof![
        4 => proptest::sample::select(TOKENS).prop_map(|t| t.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..24),
    ];
    prop_oneof![
        20 => proptest::collection::vec(token, 1..6).prop_map(|t| Action::Feed(t.concat())),
        1 => (0..400u64).prop_map(Action::Tick),
        1 => Just(Action::Eof),
        1 => Just(Action::Shutdown),
    ]
}

fn garbage_config(kind: u8) -> ServerConfig {
    let mut config = match kind % 4 {
        0 => config("mx.example"),
        1 => ServerConfig::lmtp(domain("foo.edu")),
        2 => {
            let mut c = ServerConfig::submission(domain("mx.example"));
            c.allow_plaintext_auth = true;
            c
        }
        _ => ServerConfig::submissions(domain("mx.example")),
    };
    if kind & 4 != 0 {
        config.max_message_size = 10;
        config.max_recipients = 1;
        config.max_errors = 3;
        config.max_line_len = 20;
        config.max_buffered_input = 64;
        config.bare_line_ending = BareLineEnding::Reject;
        config.greeting_delay = Some(Duration::from_secs(1));
    }
    config
}

/// A policy driven by coin flips: accept or refuse each decision.
fn random_policy(coins: Vec<bool>, lmtp: bool) -> Policy {
    let mut next = 0;
    Box::new(move |event| {
        let mut flip = || {
            let coin = coins[next % coins.len()];
            next += 1;
            coin
        };
        let refusal = || reply_esc(550, (5, 7, 1), "No".into());
        match event {
            Event::BodyEnd { recipients, .. } if lmtp && flip() => Decision::ReplyEach(
                (0..*recipients)
                    .map(|_| if flip() { reply(250, "Ok") } else { refusal() })
                    .collect(),
            ),
            Event::AuthStep { .. } if flip() => Decision::Accept,
            Event::AuthStep { .. } => Decision::Reject(refusal()),
            _ if flip() => Decision::Accept,
            _ => Decision::Reject(refusal()),
        }
    })
}

/// Checks that `out` is a sequence of well-formed replies.
fn assert_replies(out: &[u8]) {
    assert!(out.is_empty() || out.ends_with(b"\r\n"), "{out:?}");
    let mut parser = ReplyParser::default();
    for line in out.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let line = line.strip_suffix(b"\r").expect("CRLF");
        assert!(
            parser.push_line(line).is_ok(),
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
    assert!(!parser.is_pending());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn garbage_never_panics_and_output_stays_bounded(
        kind in any::<u8>(),
        auto_tls in any::<bool>(),
        coins in proptest::collection::vec(any::<bool>(), 1..16),
        actions in proptest::collection::vec(action(), 0..40),
    ) {
        let config = garbage_config(kind);
        let lmtp = config.mode == Mode::Lmtp;
        let mut h = Harness::with_policy(config, random_policy(coins, lmtp));
        h.auto_tls = auto_tls;
        let mut fed = 0usize;
        let mut out = Vec::new();
        let mut events = Vec::new();
        for action in actions {
            let was_closed = h.server.is_closed();
            match action {
                Action::Feed(bytes) => {
                    fed += bytes.len();
                    h.send(&bytes);
                }
                Action::Tick(secs) => h.advance(Duration::from_secs(secs)),
                Action::Eof => {
                    h.server.handle_eof();
                    h.drive();
                }
                Action::Shutdown => {
                    h.server.shutdown();
                    h.drive();
                }
            }
            if !auto_tls && !h.server.is_closed() && !h.server.wants_input()
                && h.server.poll_timeout().is_none()
                && matches!(events.last(), Some(Event::StartTls))
            {
                // Some handshakes finish, others never do.
                let _ = h.server.tls_established(h.now);
            }
            let new_out = h.take_bytes();
            let new_events = h.events();
            if was_closed {
                prop_assert!(new_out.is_empty() && new_events.is_empty());
            }
            out.extend(new_out);
            events.extend(new_events);
        }
        assert_replies(&out);
        prop_assert!(out.len() <= 600 + 40 * fed, "{} octets out for {} in", out.len(), fed);
        let closes = events.iter().filter(|e| matches!(e, Event::Closed(_))).count();
        prop_assert!(closes <= 1, "{events:?}");
        if closes == 1 {
            prop_assert!(matches!(events.last(), Some(Event::Closed(_))), "{events:?}");
            prop_assert!(h.server.is_closed());
        }
        if lmtp {
            let ehlo_accepted = events.iter().any(|e| matches!(e, Event::Hello { verb: HelloVerb::Ehlo, .. }));
            prop_assert!(!ehlo_accepted);
        }
    }
}

#[test]
fn random_bytes_at_every_state_do_not_panic() {
    // Every byte value, after each step of a session, in a few configurations.
    let prefixes: [&[u8]; 6] = [
        b"",
        b"EHLO x.example\r\n",
        b"EHLO x.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n",
        b"EHLO x.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nBDAT 4\r\n",
        b"EHLO x.example\r\nAUTH LOGIN\r\n",
        b"EHLO x.example\r\nAUTH LOGIN\r\nYWxpY2U=\r\n",
    ];
    for kind in 0..8u8 {
        for prefix in prefixes {
            for byte in 0..=255u8 {
                let config = garbage_config(kind);
                let lmtp = config.mode == Mode::Lmtp;
                let mut h = Harness::with_policy(config, random_policy(vec![true, false], lmtp));
                h.advance(Duration::from_secs(1));
                h.send(prefix);
                h.send([byte, byte, b'\r', b'\n', byte]);
                h.send(b"\r\n.\r\n");
                assert_replies(&h.take_bytes());
            }
        }
    }
}

// Keep the imports honest.
#[allow(dead_code)]
fn _types(_: Bytes, _: Server) {}

/// `feed_buf` hands a body to the application in slices of the buffer the read filled: no
/// copy between the socket read and `Event::BodyChunk`.
#[test]
fn feed_buf_delivers_the_body_without_copying_it() {
    let mut h = in_transaction(config("mx.example"));
    h.send("DATA\r\n");
    assert_eq!(h.take_out(), START_DATA);
    assert_eq!(h.events(), [data_start()]);
    let mut read_buf = bytes::BytesMut::from(&b"Subject: zero copy\r\n\r\nbody line\r\n.\r\n"[..]);
    let range = read_buf.as_ptr() as usize..read_buf.as_ptr() as usize + read_buf.len();
    h.server.feed_buf(h.now, &mut read_buf);
    assert!(read_buf.is_empty());
    let mut body = Vec::new();
    let mut chunks = 0;
    while let Some(event) = h.server.poll_event() {
        match event {
            Event::BodyChunk(chunk) => {
                assert!(
                    range.contains(&(chunk.as_ptr() as usize)),
                    "the chunk is a slice of the read buffer"
                );
                body.extend_from_slice(&chunk);
                chunks += 1;
            }
            Event::BodyEnd { .. } => h.server.accept().unwrap(),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(chunks > 0);
    assert_eq!(body, b"Subject: zero copy\r\n\r\nbody line\r\n");
    assert_eq!(h.take_out(), MESSAGE_ACCEPTED);
}

/// `feed_buf` keeps the limit on unprocessed input: a read that would take the session past
/// `max_buffered_input` closes it with 421, as with `feed`.
#[test]
fn feed_buf_input_overflow_closes_with_421() {
    let mut c = config("mx.example");
    c.max_buffered_input = 64;
    let mut h = Harness::new(c);
    h.take_out();
    // The session holds a partial line, so the next read is appended, not swapped in.
    h.send_buf("NOOP");
    h.send_buf("x".repeat(100));
    assert_eq!(
        h.take_out(),
        "421 4.7.0 Too much pipelined input, closing connection\r\n"
    );
    assert_eq!(h.events(), [closed(Err(SessionError::InputOverflow))]);
}
