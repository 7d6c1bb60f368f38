//! The other commands: VRFY, EXPN, HELP, NOOP, ETRN, unknown ones, and RSET.

use crate::{after_ehlo, config, in_transaction};

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
