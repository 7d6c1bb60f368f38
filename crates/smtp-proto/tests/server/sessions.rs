//! Whole sessions: the transcripts of RFC 5321 Appendix D, a HELO session, and what the
//! application's `accept_with` puts in a reply.

use smtp_proto::ForwardPath;
use smtp_proto::server::{Event, HelloVerb};

use crate::harness::{
    Decision, Harness, Policy, body_end, chunk, closed, data_start, hello, mail, rcpt, reply,
};
use crate::{after_ehlo, after_ehlo_with, config, reply_esc};

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
