//! Limits: line length, message size (declared and actual), recipients, errors, pipelined
//! input, bare LF in commands.

use mail_wire::dot::BodyError;
use mail_wire::line::BareLf;
use smtp_proto::MailParams;
use smtp_proto::server::{Event, ServerConfig, ServerError, SessionError};

use crate::harness::{
    Decision, Harness, Policy, bdat_start, body_end, chunk, closed, data_start, domain, ehlo, mail,
    mail_with, rcpt, reply,
};
use crate::{
    MESSAGE_ACCEPTED, SIZE_EXCEEDED, START_DATA, after_ehlo, after_ehlo_with, config,
    in_transaction, reject_some_recipients, send_bytewise,
};

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
