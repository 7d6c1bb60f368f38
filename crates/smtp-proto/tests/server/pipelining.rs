//! RFC 2920 pipelining: command groups answered in order, and DATA after no valid recipient.

use crate::harness::{Harness, body_end, chunk, closed, data_start, ehlo, mail, rcpt};
use crate::{
    MESSAGE_ACCEPTED, START_DATA, after_ehlo_with, config, ehlo_reply, reject_some_recipients,
};

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
