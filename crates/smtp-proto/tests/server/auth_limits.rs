//! Password guessing (issue 14, item 2): a failed AUTH's reply is held back for
//! `auth_failure_delay` (nothing is read meanwhile, and the client's idle time does not run),
//! the failure that reaches `max_auth_failures` closes the session with `421 4.7.0`, and the
//! failure names the user the client tried. All on the simulated clock; a delay is only ever
//! checked to be at least its length.

use std::time::Duration;

use mail_testkit::users::{self, USER};
use mail_wire::sasl::{Mechanism, SaslError};
use smtp_proto::server::{Event, ServerConfig, SessionError};

use crate::harness::{Decision, Harness, Policy, closed};
use crate::{PLAIN_ALICE, PLAIN_WRONG, after_ehlo, after_ehlo_with, auth_config, auth_step};

const INVALID: &str = "535 5.7.8 Authentication credentials invalid\r\n";
const TOO_MANY_FAILURES: &str =
    "421 4.7.0 Too many authentication failures, closing connection\r\n";

fn failed(user: Option<&str>) -> Event {
    Event::AuthFailed {
        mechanism: Mechanism::Plain,
        error: SaslError::AuthenticationFailed,
        user: user.map(str::to_owned),
    }
}

/// The AUTH configuration with the default failure delay (2 s) and limit (3).
fn delayed() -> ServerConfig {
    let mut cfg = auth_config();
    cfg.auth_failure_delay = ServerConfig::default().auth_failure_delay;
    cfg
}

#[test]
fn the_defaults_are_three_failures_and_two_seconds() {
    let cfg = ServerConfig::default();
    assert_eq!(cfg.max_auth_failures, 3);
    assert_eq!(cfg.auth_failure_delay, Duration::from_secs(2));
    assert_eq!(cfg.max_junk_commands, 100);
    assert_eq!(cfg.min_data_rate, 500);
}

/// The attack: wrong guesses were answered `535` at once, 58 to 76 a second. Now the
/// `535` is not sent before the delay; meanwhile a pipelined command is not read; the
/// release comes from `poll_timeout`, and the idle time starts at the release.
#[test]
fn a_failed_auth_is_answered_only_after_the_delay() {
    let mut h = after_ehlo(delayed());
    let start = h.now;
    h.send(format!("AUTH PLAIN {PLAIN_WRONG}\r\nNOOP\r\n"));
    assert_eq!(h.take_out(), "", "no reply before the delay");
    assert_eq!(
        h.events(),
        [auth_step(Mechanism::Plain), failed(Some(USER))]
    );
    assert!(!h.server.wants_input());
    assert_eq!(
        h.server.poll_timeout(),
        Some(start + Duration::from_secs(2))
    );
    // Nothing is read or answered meanwhile, and the command timeout does not run.
    h.send("NOOP\r\n");
    h.advance(Duration::from_millis(1999));
    assert_eq!(h.take_out(), "");
    assert!(h.server.poll_event().is_none());
    h.advance(Duration::from_millis(1));
    assert_eq!(
        h.take_out(),
        format!("{INVALID}250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n")
    );
    assert!(h.server.wants_input());
    assert_eq!(
        h.server.poll_timeout(),
        Some(start + Duration::from_secs(2) + h.server.config().command_timeout)
    );
    // A right password afterwards is answered at once.
    h.send(format!("AUTH PLAIN {PLAIN_ALICE}\r\n"));
    assert_eq!(h.take_out(), "235 2.7.0 Authentication successful\r\n");
}

/// The delay holds every kind of failed exchange: a cancelled one, a malformed response, and
/// the application's refusal.
#[test]
fn every_failed_exchange_is_delayed() {
    let reject: Policy = Box::new(|event| match event {
        Event::AuthStep { .. } => Decision::Reject(crate::harness::reply(454, "Try later")),
        _ => Decision::Accept,
    });
    let cases: [(&str, Policy, &str); 3] = [
        (
            "AUTH LOGIN\r\n*\r\n",
            crate::harness::accept_all(),
            "334 VXNlcm5hbWU6\r\n|501 5.0.0 Authentication cancelled\r\n",
        ),
        (
            "AUTH PLAIN bm8gc2VwYXJhdG9ycw==\r\n",
            crate::harness::accept_all(),
            "|501 5.5.2 Malformed authentication response\r\n",
        ),
        ("AUTH PLAIN AGFsaWNlAHg=\r\n", reject, "|454 Try later\r\n"),
    ];
    for (wire, policy, replies) in cases {
        let (before, after) = replies.split_once('|').unwrap();
        let mut h = after_ehlo_with(delayed(), policy);
        h.send(wire);
        assert_eq!(h.take_out(), before, "{wire:?}");
        h.advance(Duration::from_millis(1999));
        assert_eq!(h.take_out(), "", "{wire:?}");
        h.advance(Duration::from_millis(1));
        assert_eq!(h.take_out(), after, "{wire:?}");
    }
}

/// The third failure is answered with its `535`, then `421 4.7.0`, and the session closes;
/// before, only the error limit (20) closed it.
#[test]
fn the_third_failure_closes_the_session() {
    let mut h = after_ehlo(auth_config());
    h.send(format!(
        "AUTH PLAIN {PLAIN_WRONG}\r\nAUTH PLAIN {PLAIN_WRONG}\r\nAUTH PLAIN {PLAIN_WRONG}\r\n\
         AUTH PLAIN {PLAIN_ALICE}\r\n"
    ));
    assert_eq!(
        h.take_out(),
        format!("{INVALID}{INVALID}{INVALID}{TOO_MANY_FAILURES}")
    );
    let failure = [auth_step(Mechanism::Plain), failed(Some(USER))];
    assert_eq!(
        h.events(),
        [
            &failure[..],
            &failure[..],
            &failure[..],
            &[closed(Err(SessionError::TooManyAuthFailures))][..],
        ]
        .concat()
    );
    assert!(h.server.is_closed());

    // A limit of one; zero turns the limit off.
    let mut cfg = auth_config();
    cfg.max_auth_failures = 1;
    let mut h = after_ehlo(cfg);
    h.send(format!("AUTH PLAIN {PLAIN_WRONG}\r\n"));
    assert_eq!(h.take_out(), format!("{INVALID}{TOO_MANY_FAILURES}"));
    let mut cfg = auth_config();
    cfg.max_auth_failures = 0;
    let mut h = after_ehlo(cfg);
    h.send(format!("AUTH PLAIN {PLAIN_WRONG}\r\n").repeat(10));
    assert_eq!(h.take_out(), INVALID.repeat(10));
    assert!(!h.server.is_closed());
}

/// With the delay, the last `535` and the `421` come together after it, and the session
/// stays open (it is not `is_closed`, nor is `Event::Closed` reported) until then: a driver
/// that closes on either would cut the delay short.
#[test]
fn the_closing_failure_is_delayed_too() {
    let mut cfg = delayed();
    cfg.max_auth_failures = 1;
    let mut h = after_ehlo(cfg);
    let start = h.now;
    h.send(format!("AUTH PLAIN {PLAIN_WRONG}\r\n"));
    assert_eq!(h.take_out(), "");
    assert_eq!(
        h.events(),
        [auth_step(Mechanism::Plain), failed(Some(USER))]
    );
    assert!(!h.server.is_closed());
    assert_eq!(
        h.server.poll_timeout(),
        Some(start + Duration::from_secs(2))
    );
    h.advance(Duration::from_secs(2));
    assert_eq!(h.take_out(), format!("{INVALID}{TOO_MANY_FAILURES}"));
    assert_eq!(h.events(), [closed(Err(SessionError::TooManyAuthFailures))]);
    assert!(h.server.is_closed());
}

/// A client that sends its guess and closes its side at once still waits for the delay: the
/// reply is not sent earlier, then the session ends.
#[test]
fn closing_the_connection_does_not_cut_the_delay_short() {
    let mut h = after_ehlo(delayed());
    h.send(format!("AUTH PLAIN {PLAIN_WRONG}\r\n"));
    h.server.handle_eof();
    h.drive();
    assert_eq!(h.take_out(), "");
    assert!(!h.server.is_closed());
    h.advance(Duration::from_millis(1999));
    assert_eq!(h.take_out(), "");
    h.advance(Duration::from_millis(1));
    assert_eq!(h.take_out(), INVALID);
    assert_eq!(
        h.events(),
        [
            auth_step(Mechanism::Plain),
            failed(Some(USER)),
            closed(Err(SessionError::PeerClosed {
                in_transaction: false
            }))
        ]
    );
}

/// `set_auth_failure_delay` overrides the configured delay for the session: longer (a
/// per-address penalty, set when the AuthStep arrives) or zero.
#[test]
fn set_auth_failure_delay_overrides_the_configuration() {
    let hold: Policy = Box::new(|event| match event {
        Event::AuthStep { .. } => Decision::Hold,
        _ => Decision::Accept,
    });
    let mut h = after_ehlo_with(delayed(), hold);
    h.send(format!("AUTH PLAIN {PLAIN_WRONG}\r\n"));
    assert_eq!(h.events(), [auth_step(Mechanism::Plain)]);
    h.server.set_auth_failure_delay(Duration::from_secs(15));
    let start = h.now;
    answer_auth(&mut h);
    assert_eq!(
        h.server.poll_timeout(),
        Some(start + Duration::from_secs(15))
    );
    h.advance(Duration::from_secs(14));
    assert_eq!(h.take_out(), "");
    h.advance(Duration::from_secs(1));
    assert_eq!(h.take_out(), INVALID);

    h.server.set_auth_failure_delay(Duration::ZERO);
    h.send(format!("AUTH PLAIN {PLAIN_WRONG}\r\n"));
    answer_auth(&mut h);
    assert_eq!(h.take_out(), INVALID);
}

fn answer_auth(h: &mut Harness) {
    let auth = users::Users::standard();
    h.server
        .auth_step(&auth, users::server_nonce())
        .expect("an AuthStep is pending");
    h.drive();
}

/// The user name tried is reported with the failure for every mechanism, never the password.
#[test]
fn the_failure_names_the_user_tried() {
    let cases: [(&str, Mechanism, Option<&str>); 4] = [
        // "\0alice\0wrong"
        (
            "AUTH PLAIN AGFsaWNlAHdyb25n\r\n",
            Mechanism::Plain,
            Some("alice"),
        ),
        // "bob", then "wrong"
        (
            "AUTH LOGIN Ym9i\r\nd3Jvbmc=\r\n",
            Mechanism::Login,
            Some("bob"),
        ),
        // "n,,n=carol,r=nonce", then a client-final with a wrong proof
        (
            "AUTH SCRAM-SHA-256 biwsbj1jYXJvbCxyPW5vbmNl\r\nYz1iaXdzLHI9eCxwPUFBQUE=\r\n",
            Mechanism::ScramSha256,
            Some("carol"),
        ),
        // LOGIN cancelled before naming anyone
        ("AUTH LOGIN\r\n*\r\n", Mechanism::Login, None),
    ];
    for (wire, mechanism, user) in cases {
        let mut h = after_ehlo(auth_config());
        h.send(wire);
        let events = h.events();
        let reported = events.iter().find_map(|event| match event {
            Event::AuthFailed {
                mechanism: m, user, ..
            } => Some((*m, user.clone())),
            _ => None,
        });
        assert_eq!(
            reported,
            Some((mechanism, user.map(str::to_owned))),
            "{wire:?}"
        );
        assert!(!format!("{events:?}").contains("wrong"), "{events:?}");
    }
}
