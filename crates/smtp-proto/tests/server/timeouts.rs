//! Timeouts: the command and data timeouts, none while a decision is pending, and timeouts
//! too long to represent.

use std::time::Duration;

use smtp_proto::server::{Event, SessionError};

use crate::harness::{Decision, Harness, Policy, closed, mail};
use crate::{MESSAGE_ACCEPTED, START_DATA, after_ehlo, after_ehlo_with, config, in_transaction};

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
    // Only the timeout between reads here; the body's own deadline is tested in slow.rs.
    cfg.min_data_rate = 0;
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
