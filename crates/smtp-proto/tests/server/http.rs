//! The cross-protocol attack: a web page makes a browser POST SMTP commands to the port. The
//! request line closes the session with `421 4.7.0` before the header fields or the body are
//! read ([`ServerConfig::refuse_http`], default on).

use smtp_proto::server::{ServerConfig, SessionError};

use crate::harness::{Harness, closed, ehlo, mail};
use crate::{after_ehlo, config};

const REFUSED: &str = "421 4.7.0 This is an SMTP server, not a web server: \
                       HTTP request refused, closing connection\r\n";

/// What a browser sends for a `no-cors` `text/plain` POST whose body is an SMTP session.
const BROWSER_POST: &str = "POST / HTTP/1.1\r\n\
    Host: 127.0.0.1:2525\r\n\
    User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
    Accept: */*\r\n\
    Accept-Language: en-US,en;q=0.5\r\n\
    Accept-Encoding: gzip, deflate\r\n\
    Content-Type: text/plain;charset=UTF-8\r\n\
    Content-Length: 120\r\n\
    Origin: http://attacker.example\r\n\
    Connection: keep-alive\r\n\
    \r\n\
    EHLO x\r\n\
    MAIL FROM:<eve@attacker.example>\r\n\
    RCPT TO:<bob@localhost>\r\n\
    DATA\r\n\
    Subject: hi\r\n\
    \r\n\
    spam\r\n\
    .\r\n\
    QUIT\r\n";

#[test]
fn a_browser_post_at_greeting_time_gets_one_reply_and_runs_nothing() {
    // Whole, and an octet at a time: nothing of the body is ever run.
    for whole in [true, false] {
        let mut h = Harness::new(config("mx.example"));
        if whole {
            h.send(BROWSER_POST);
        } else {
            for octet in BROWSER_POST.as_bytes() {
                h.send([*octet]);
            }
        }
        assert_eq!(
            h.take_out(),
            format!("220 mx.example ESMTP ready\r\n{REFUSED}")
        );
        assert_eq!(h.events(), [closed(Err(SessionError::HttpRequest))]);
        assert!(h.server.is_closed());
    }
}

#[test]
fn a_request_line_after_ehlo_closes() {
    let mut h = after_ehlo(config("mx.example"));
    h.send("GET /favicon.ico HTTP/1.1\r\nMAIL FROM:<a@example.org>\r\n");
    assert_eq!(h.take_out(), REFUSED);
    assert_eq!(h.events(), [closed(Err(SessionError::HttpRequest))]);
}

#[test]
fn a_request_line_in_the_middle_of_a_pipelined_batch_closes_there() {
    let mut h = Harness::new(config("mx.example"));
    h.take_out();
    h.send(
        "EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nCONNECT 127.0.0.1:25 HTTP/1.1\r\n\
         RCPT TO:<bob@localhost>\r\nDATA\r\n",
    );
    let out = h.take_out();
    assert!(
        out.ends_with(&format!(
            " LIMITS RCPTMAX=100\r\n250 2.1.0 Sender ok\r\n{REFUSED}"
        )),
        "{out}"
    );
    assert_eq!(
        h.events(),
        [
            ehlo("c.example"),
            mail("a@example.org"),
            closed(Err(SessionError::HttpRequest)),
        ]
    );
}

/// Any method of RFC 9110 section 9 and PATCH, followed by a space, is enough: no SMTP command
/// starts with those words.
#[test]
fn every_method_closes_without_a_version() {
    for method in [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ] {
        let mut h = after_ehlo(config("mx.example"));
        h.send(format!("{method} /x\r\nQUIT\r\n"));
        assert_eq!(h.take_out(), REFUSED, "{method}");
        assert_eq!(h.events(), [closed(Err(SessionError::HttpRequest))]);
    }
}

/// A request line longer than the line limit (a long URL) is refused all the same: it is
/// recognized by its first octets.
#[test]
fn a_request_line_too_long_to_frame_closes() {
    let mut cfg = config("mx.example");
    cfg.max_line_len = 64;
    let mut h = after_ehlo(cfg);
    h.send(format!("POST /{} HTTP/1.1\r\nQUIT\r\n", "a".repeat(200)));
    assert_eq!(h.take_out(), REFUSED);
    assert_eq!(h.events(), [closed(Err(SessionError::HttpRequest))]);
}

/// HTTP methods are case-sensitive (RFC 9110 section 9.1) and browsers send capitals: a
/// lowercase `get` is an unknown SMTP command, as before, and the session goes on.
#[test]
fn a_lowercase_method_is_an_unknown_command() {
    let mut h = after_ehlo(config("mx.example"));
    h.send("get / HTTP/1.1\r\nNOOP\r\n");
    assert_eq!(
        h.take_out(),
        "500 5.5.2 Command not recognized\r\n250 2.0.0 Ok\r\n"
    );
    assert!(!h.server.is_closed());
}

/// A header field line alone is not refused: a request always starts with its request line.
#[test]
fn a_header_line_alone_is_an_unknown_command() {
    let mut h = after_ehlo(config("mx.example"));
    h.send("Host: 127.0.0.1:25\r\nNOOP\r\n");
    assert_eq!(
        h.take_out(),
        "500 5.5.2 Command not recognized\r\n250 2.0.0 Ok\r\n"
    );
}

/// With `refuse_http` off, the old behaviour: one `500` per line, and the body's commands run
/// (the reason the switch is on by default).
#[test]
fn with_the_switch_off_the_request_is_answered_line_by_line() {
    let mut cfg = config("mx.example");
    cfg.refuse_http = false;
    let mut h = Harness::new(cfg);
    h.take_out();
    h.send("POST / HTTP/1.1\r\nHost: x\r\n\r\nEHLO x\r\n");
    let out = h.take_out();
    assert!(
        out.starts_with(
            "500 5.5.2 Command not recognized\r\n\
             500 5.5.2 Command not recognized\r\n\
             500 5.5.2 Command not recognized\r\n250-mx.example\r\n"
        ),
        "{out}"
    );
    assert_eq!(h.events(), [ehlo("x")]);
    assert!(ServerConfig::default().refuse_http);
}
