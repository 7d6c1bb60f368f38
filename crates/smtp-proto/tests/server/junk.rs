//! Junk commands (issue 14, item 1): NOOP, RSET, VRFY, EXPN and HELP past
//! `max_junk_commands` count as errors before AUTH (Postfix `smtpd_junk_command_limit`), so
//! a client cannot hold a connection open with them; after AUTH they do not count.

use smtp_proto::server::{Event, SessionError};

use crate::harness::closed;
use crate::{PLAIN_ALICE, after_ehlo, auth_config, config};

const OK: &str = "250 2.0.0 Ok\r\n";
const TOO_MANY_ERRORS: &str = "421 4.7.0 Too many errors, closing connection\r\n";

/// The attack, NOOP after NOOP: the first 100 are free, the next 20 are answered as
/// usual but counted as errors (the default `max_errors`), and the 121st closes the session.
#[test]
fn noops_past_the_junk_limit_count_as_errors_until_the_session_closes() {
    let mut h = after_ehlo(config("mx.example"));
    for _ in 0..100 {
        h.send("NOOP\r\n");
    }
    assert_eq!(h.take_out(), OK.repeat(100));
    assert!(!h.server.is_closed());
    for _ in 0..20 {
        h.send("NOOP\r\n");
    }
    assert_eq!(h.take_out(), OK.repeat(20));
    assert!(!h.server.is_closed());
    h.send("NOOP\r\n");
    assert_eq!(h.take_out(), TOO_MANY_ERRORS);
    assert_eq!(h.events(), [closed(Err(SessionError::TooManyErrors))]);
    assert!(h.server.is_closed());
}

/// Every junk verb counts, and the allowance is shared: with 2 free junk commands and 1
/// error allowed, the fourth junk command closes the session.
#[test]
fn every_junk_verb_counts() {
    let cases: [(&str, &str); 5] = [
        ("NOOP", OK),
        ("RSET", OK),
        (
            "VRFY postmaster",
            "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n",
        ),
        ("HELP", "214 2.0.0 See RFC 5321\r\n"),
        ("EXPN staff", "502 5.5.1 EXPN not available\r\n"),
    ];
    for (verb, reply) in cases {
        let mut cfg = config("mx.example");
        cfg.max_junk_commands = 2;
        cfg.max_errors = 1;
        let mut h = after_ehlo(cfg);
        // EXPN is an error by itself: its first use past the allowance is its second error.
        let allowed = if verb.starts_with("EXPN") { 1 } else { 3 };
        for _ in 0..allowed {
            h.send(format!("{verb}\r\n"));
            assert_eq!(h.take_out(), reply, "{verb}");
        }
        h.send(format!("{verb}\r\n"));
        assert_eq!(h.take_out(), TOO_MANY_ERRORS, "{verb}");
        assert!(h.server.is_closed(), "{verb}");
    }
    // Mixed: the count is one for all verbs.
    let mut cfg = config("mx.example");
    cfg.max_junk_commands = 2;
    cfg.max_errors = 1;
    let mut h = after_ehlo(cfg);
    h.send("NOOP\r\nRSET\r\nHELP\r\nVRFY x\r\n");
    assert_eq!(
        h.take_out(),
        format!("{OK}{OK}214 2.0.0 See RFC 5321\r\n{TOO_MANY_ERRORS}")
    );
}

/// After a successful AUTH the client is known: its junk commands are not counted.
#[test]
fn junk_commands_after_auth_do_not_count() {
    let mut h = after_ehlo(auth_config());
    h.send(format!("AUTH PLAIN {PLAIN_ALICE}\r\n"));
    assert_eq!(h.take_out(), "235 2.7.0 Authentication successful\r\n");
    assert!(matches!(
        h.events()[..],
        [Event::AuthStep { .. }, Event::Authenticated(_)]
    ));
    for _ in 0..500 {
        h.send("NOOP\r\n");
    }
    assert_eq!(h.take_out(), OK.repeat(500));
    assert!(!h.server.is_closed());
    assert_eq!(h.events(), []);
}
