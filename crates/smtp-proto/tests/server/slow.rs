//! Slow clients (issue 14, item 1): a command line, or a SASL response line, sent an octet at a
//! time is still bound by the command timeout; a body is bound by the minimum data rate;
//! the timeouts of a live session can be changed (stress mode). All on the simulated clock.

use std::time::Duration;

use smtp_proto::server::{Event, ServerConfig, SessionError};

use crate::harness::{Harness, bdat_start, closed, data_start};
use crate::{START_DATA, after_ehlo, auth_config, config, in_transaction};

const TIMEOUT: &str = "421 4.4.2 mx.example Error: timeout exceeded, closing connection\r\n";

fn seconds(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// A config with a 5 s command timeout, as the attack ran with `--command-timeout 5s`.
fn five_seconds() -> ServerConfig {
    let mut cfg = config("mx.example");
    cfg.command_timeout = seconds(5);
    cfg
}

/// Sends `text` one octet every 3 seconds until the session closes; returns when it closed,
/// measured from the start, and what the server wrote.
fn dribble(h: &mut Harness, text: &[u8]) -> (Duration, String) {
    let start = h.now;
    for byte in text {
        h.send([*byte]);
        // Three seconds pass, the clock stopping at every deadline on the way.
        let next = h.now + seconds(3);
        while h.now < next && !h.server.is_closed() {
            let due = h
                .server
                .poll_timeout()
                .expect("an open session runs a deadline");
            h.advance(due.clamp(h.now, next) - h.now);
        }
        if h.server.is_closed() {
            break;
        }
    }
    (h.now - start, h.take_out())
}

/// The attack: one octet every 3 seconds with a 5 s command timeout kept the
/// connection open for good, since each octet restarted the timeout. The command line's
/// deadline now holds from the end of the last command: the session closes at 5 s.
#[test]
fn a_command_sent_an_octet_every_3_s_is_closed_at_the_command_timeout() {
    let mut h = after_ehlo(five_seconds());
    let start = h.now;
    h.send("N");
    assert_eq!(h.server.poll_timeout(), Some(start + seconds(5)));
    h.advance(seconds(3));
    h.send("O");
    // The octet does not move the deadline.
    assert_eq!(h.server.poll_timeout(), Some(start + seconds(5)));
    h.advance(Duration::from_millis(1999));
    assert_eq!(h.take_out(), "");
    assert!(!h.server.is_closed());
    h.advance(Duration::from_millis(1));
    assert_eq!(h.take_out(), TIMEOUT);
    assert_eq!(h.events(), [closed(Err(SessionError::Timeout))]);

    // However long the line, it never outlives the timeout.
    let mut h = after_ehlo(five_seconds());
    let (after, out) = dribble(&mut h, b"MAIL FROM:<slow@client.example>\r\n");
    assert_eq!((after, out.as_str()), (seconds(5), TIMEOUT));
}

/// A complete command line restarts the time: a client that finishes each line in time is
/// served as before.
#[test]
fn each_complete_command_line_restarts_the_command_timeout() {
    let mut h = after_ehlo(five_seconds());
    for _ in 0..10 {
        h.advance(seconds(4));
        h.send("NOOP\r\n");
        assert_eq!(h.take_out(), "250 2.0.0 Ok\r\n");
        assert_eq!(h.server.poll_timeout(), Some(h.now + seconds(5)));
    }
    // Two octets of a line, then the rest 4 s later: 4 s after the last line, so in time.
    h.send("NO");
    h.advance(seconds(4));
    h.send("OP\r\n");
    assert_eq!(h.take_out(), "250 2.0.0 Ok\r\n");
    assert!(!h.server.is_closed());
}

/// The SASL response lines are command lines too: dribbled, they are closed at the command
/// timeout, counted from the `334` challenge.
#[test]
fn a_sasl_response_sent_an_octet_every_3_s_is_closed_at_the_command_timeout() {
    let mut cfg = auth_config();
    cfg.command_timeout = seconds(5);
    let mut h = after_ehlo(cfg);
    h.advance(seconds(1));
    h.send("AUTH LOGIN\r\n");
    assert_eq!(h.take_out(), "334 VXNlcm5hbWU6\r\n");
    let (after, out) = dribble(&mut h, b"YWxpY2U=\r\n");
    assert_eq!(after, seconds(5));
    assert_eq!(
        out,
        "421 4.4.2 mx.example Error: timeout exceeded, closing connection\r\n"
    );
    let events = h.events();
    assert_eq!(events.last(), Some(&closed(Err(SessionError::Timeout))));
}

/// A DATA body trickling 10 octets a second never leaves the 10 s data timeout between
/// reads, but falls below the minimum rate (100 octets a second here): the body must be
/// complete by its start + 10 s + received / 100, which, with 10 octets more each second,
/// it passes at 12 s (10 + 120 / 100 = 11.2).
#[test]
fn a_data_body_below_the_minimum_rate_is_closed() {
    let mut cfg = config("mx.example");
    cfg.data_timeout = seconds(10);
    cfg.min_data_rate = 100;
    let mut h = in_transaction(cfg);
    h.send("DATA\r\n");
    assert_eq!(h.take_out(), START_DATA);
    let start = h.now;
    let mut sent = 0;
    while !h.server.is_closed() {
        h.send("x".repeat(8) + "\r\n");
        sent += 10;
        h.advance(seconds(1));
        assert!(h.now - start <= seconds(13), "never closed");
    }
    assert_eq!(h.now - start, seconds(12));
    assert_eq!(sent, 120);
    assert_eq!(h.take_out(), TIMEOUT);
    let events = h.events();
    assert_eq!(events.first(), Some(&data_start()));
    assert_eq!(events.last(), Some(&closed(Err(SessionError::Timeout))));
    assert!(!events.iter().any(|e| matches!(e, Event::BodyEnd { .. })));
}

/// The same rate over a BDAT body, counted over all its chunks: each chunk's BDAT line is a
/// complete command line, but the message's deadline runs from its first chunk.
#[test]
fn a_bdat_body_below_the_minimum_rate_is_closed_across_chunks() {
    let mut cfg = config("mx.example");
    cfg.data_timeout = seconds(10);
    cfg.min_data_rate = 100;
    let mut h = in_transaction(cfg);
    let start = h.now;
    let mut chunks = 0;
    while !h.server.is_closed() {
        h.send("BDAT 10\r\n0123456789");
        chunks += 1;
        h.advance(seconds(1));
        assert!(h.now - start <= seconds(13), "never closed");
    }
    assert_eq!(h.now - start, seconds(12));
    assert_eq!(chunks, 12);
    let out = h.take_out();
    assert!(
        out.ends_with(&format!("250 2.0.0 120 octets received\r\n{TIMEOUT}")),
        "{out}"
    );
    let events = h.events();
    assert_eq!(events.first(), Some(&bdat_start()));
    assert_eq!(events.last(), Some(&closed(Err(SessionError::Timeout))));

    // One chunk announced whole, trickled in.
    let mut cfg = config("mx.example");
    cfg.data_timeout = seconds(10);
    cfg.min_data_rate = 100;
    let mut h = in_transaction(cfg);
    h.send("BDAT 100000 LAST\r\n");
    let start = h.now;
    while !h.server.is_closed() {
        h.send("0123456789");
        h.advance(seconds(1));
        assert!(h.now - start <= seconds(13), "never closed");
    }
    assert_eq!(h.now - start, seconds(12));
    assert_eq!(h.take_out(), TIMEOUT);
}

/// A sender slow but above the rate (200 octets a second against 100) for longer than the
/// data timeout gets its message through, by DATA and by BDAT.
#[test]
fn a_steady_sender_above_the_minimum_rate_is_served() {
    let mut cfg = config("mx.example");
    cfg.data_timeout = seconds(10);
    cfg.min_data_rate = 100;
    let mut h = in_transaction(cfg.clone());
    h.send("DATA\r\n");
    for _ in 0..30 {
        h.advance(seconds(1));
        h.send("y".repeat(198) + "\r\n");
    }
    h.send(".\r\n");
    assert_eq!(
        h.take_out(),
        format!("{START_DATA}250 2.0.0 Message accepted\r\n")
    );
    assert!(matches!(
        h.events().last(),
        Some(Event::BodyEnd { size: 6000, .. })
    ));

    let mut h = in_transaction(cfg);
    for i in 0..30 {
        h.advance(seconds(1));
        let last = if i == 29 { " LAST" } else { "" };
        h.send(format!("BDAT 200{last}\r\n{}\r\n", "z".repeat(198)));
    }
    let out = h.take_out();
    assert!(out.ends_with("250 2.0.0 Message accepted\r\n"), "{out}");
    assert!(!h.server.is_closed());
}

/// The minimum rate at zero leaves only the data timeout between reads.
#[test]
fn a_minimum_rate_of_zero_turns_the_body_deadline_off() {
    let mut cfg = config("mx.example");
    cfg.data_timeout = seconds(10);
    cfg.min_data_rate = 0;
    let mut h = in_transaction(cfg);
    h.send("DATA\r\n");
    for _ in 0..60 {
        h.advance(seconds(1));
        h.send("x\r\n");
    }
    assert!(!h.server.is_closed());
    h.send(".\r\n");
    assert!(h.take_out().ends_with("250 2.0.0 Message accepted\r\n"));
}

/// Stress mode: shortening the command timeout of a live session moves the deadline of the
/// wait under way; lengthening it too.
#[test]
fn set_command_timeout_moves_the_current_deadline() {
    let mut h = after_ehlo(config("mx.example"));
    let start = h.now;
    assert_eq!(h.server.poll_timeout(), Some(start + seconds(300)));
    h.advance(seconds(10));
    h.server.set_command_timeout(seconds(60));
    assert_eq!(h.server.poll_timeout(), Some(start + seconds(60)));
    assert_eq!(h.server.config().command_timeout, seconds(60));
    h.advance(seconds(49));
    assert!(!h.server.is_closed());
    h.advance(seconds(1));
    assert_eq!(h.take_out(), TIMEOUT);

    // Shortened below the time already waited: the next handle_timeout closes.
    let mut h = after_ehlo(config("mx.example"));
    let start = h.now;
    h.advance(seconds(30));
    h.server.set_command_timeout(seconds(10));
    assert_eq!(h.server.poll_timeout(), Some(start + seconds(10)));
    h.drive();
    assert_eq!(h.take_out(), TIMEOUT);
    assert_eq!(h.events(), [closed(Err(SessionError::Timeout))]);
}

/// The data timeout of a live session, inside a body: the wait for the next octets and the
/// body's own deadline both move.
#[test]
fn set_data_timeout_moves_the_current_deadline() {
    let mut h = in_transaction(config("mx.example"));
    h.send("DATA\r\n");
    let start = h.now;
    assert_eq!(h.server.poll_timeout(), Some(start + seconds(300)));
    h.server.set_data_timeout(seconds(20));
    assert_eq!(h.server.poll_timeout(), Some(start + seconds(20)));
    h.advance(seconds(19));
    assert_eq!(h.take_out(), START_DATA);
    h.advance(seconds(1));
    assert_eq!(h.take_out(), TIMEOUT);
}
