//! The greeting and HELO/EHLO: a second EHLO, a refused one, parameters after HELO, and the
//! greeting delay with its early talkers.

use std::time::Duration;

use smtp_proto::server::{Event, SessionError};

use crate::harness::{Decision, Harness, Policy, closed, ehlo};
use crate::{config, ehlo_reply, in_transaction, reply_esc};

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
