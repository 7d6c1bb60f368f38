//! The cross-protocol attack: a web page makes a browser POST POP3 commands to the port. The
//! request line closes the session before the header fields or the body are read
//! (`ServerConfig::refuse_http`, default on).

use pop3_proto::server::{Event, ServerConfig, SessionError};

use crate::harness::{config, replay};

fn closed_by_http(events: &[Event]) {
    assert_eq!(
        events.last(),
        Some(&Event::Closed(Err(SessionError::HttpRequest)))
    );
}

#[test]
fn a_browser_post_at_greeting_time_gets_one_reply_and_runs_nothing() {
    let events = replay(
        config(),
        r"S: +OK POP3 server ready
          C: POST / HTTP/1.1
          C: Host: 127.0.0.1:1110
          C: Content-Type: text/plain
          C: Content-Length: 43
          C:
          C: USER alice
          C: PASS secret
          C: DELE 1
          C: QUIT
          S: -ERR This is a POP3 server, not a web server: HTTP request refused, closing
          S! eof",
    );
    // No login was asked for: the body's USER and PASS were never read.
    assert_eq!(events, [Event::Closed(Err(SessionError::HttpRequest))]);
}

#[test]
fn a_request_line_after_login_and_mid_pipeline_closes_there() {
    let events = replay(
        config(),
        r"S: +OK POP3 server ready
          C: USER alice
          C: PASS secret
          C: STAT
          C: GET / HTTP/1.1
          C: DELE 1
          C: QUIT
          S: +OK Send PASS
          S: +OK maildrop has 2 messages (60 octets)
          S: +OK 2 60
          S: -ERR This is a POP3 server, not a web server: HTTP request refused, closing
          S! eof",
    );
    closed_by_http(&events);
    // No deletion: the session never reached UPDATE.
    assert!(!events.iter().any(|e| matches!(e, Event::Update { .. })));
}

/// Methods are case-sensitive (RFC 9110 section 9.1): a lowercase `get` is an unknown
/// command, and a header line alone is too.
#[test]
fn a_lowercase_method_or_a_header_line_is_an_unknown_command() {
    let events = replay(
        config(),
        r"S: +OK POP3 server ready
          C: get / HTTP/1.1
          S: -ERR Unknown command
          C: Host: example.org
          S: -ERR Unknown command
          C: QUIT
          S: +OK Bye
          S! eof",
    );
    assert_eq!(events.last(), Some(&Event::Closed(Ok(()))));
}

#[test]
fn with_the_switch_off_the_request_is_answered_line_by_line() {
    assert!(ServerConfig::default().refuse_http);
    let mut config = config();
    config.refuse_http = false;
    let events = replay(
        config,
        r"S: +OK POP3 server ready
          C: CONNECT 127.0.0.1:110 HTTP/1.1
          S: -ERR Unknown command
          C: QUIT
          S: +OK Bye
          S! eof",
    );
    assert_eq!(events.last(), Some(&Event::Closed(Ok(()))));
}
