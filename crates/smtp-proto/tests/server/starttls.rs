//! STARTTLS (RFC 3207): the session starts over after the hand-off, nothing pipelined past
//! it survives, and the REQUIRETLS parameter (RFC 8689).

use smtp_proto::MailParams;
use smtp_proto::server::{Event, ServerError, SessionError};

use crate::harness::{Harness, closed, ehlo, mail, mail_with};
use crate::{after_ehlo, config, ehlo_reply, script_lines, tls_config};

/// RFC 3207 section 4.2: after the handshake the session starts over; the transaction
/// and the EHLO from before TLS are forgotten, STARTTLS is no longer offered.
#[test]
fn starttls_session_starts_over() {
    let mut h = Harness::new(tls_config());
    assert!(!h.server.is_tls());
    h.transcript(&format!(
        "S: 220 mx.example ESMTP ready
         C: EHLO c.example
         {}
         C: MAIL FROM:<a@c.example>
         S: 250 2.1.0 Sender ok
         C: STARTTLS
         S: 220 2.0.0 Ready to start TLS",
        script_lines(&ehlo_reply("mx.example", true, None))
    ));
    assert!(h.server.is_tls());
    assert!(!h.server.in_transaction());
    assert_eq!(h.server.hello(), None);
    h.transcript(&format!(
        "C: RCPT TO:<b@mx.example>
         C: MAIL FROM:<a@c.example>
         S: 503 5.5.1 Need MAIL before RCPT
         S: 503 5.5.1 Send HELO or EHLO first
         C: EHLO c.example
         {}
         C: STARTTLS
         S: 503 5.5.1 TLS already active",
        script_lines(&ehlo_reply("mx.example", false, None))
    ));
    assert_eq!(
        h.events(),
        [
            ehlo("c.example"),
            mail("a@c.example"),
            Event::StartTls,
            ehlo("c.example"),
        ]
    );
}

/// CVE-2011-0411: anything pipelined after STARTTLS, even a partial line or the first bytes
/// of a TLS ClientHello sent too early, closes the session without the `220`.
#[test]
fn starttls_with_pipelined_input_closes_without_220() {
    for tail in [
        "NOOP\r\n",
        "NO",
        "\r\n",
        "\x16\x03\x01",
        "MAIL FROM:<a@c.example>\r\n",
    ] {
        let mut h = after_ehlo(tls_config());
        h.send(format!("STARTTLS\r\n{tail}"));
        assert_eq!(
            h.take_out(),
            "421 4.7.0 Commands pipelined after STARTTLS, closing connection\r\n",
            "{tail:?}"
        );
        assert_eq!(
            h.events(),
            [closed(Err(SessionError::StartTlsInjection))],
            "{tail:?}"
        );
        assert!(h.server.is_closed() && !h.server.is_tls());
        assert_eq!(
            h.server.tls_established(h.now),
            Err(ServerError::NoTlsPending)
        );
    }
}

#[test]
fn bytes_before_the_handshake_completes_close_the_session() {
    let mut h = after_ehlo(tls_config());
    h.auto_tls = false;
    h.send("STARTTLS\r\n");
    assert_eq!(h.take_out(), "220 2.0.0 Ready to start TLS\r\n");
    assert_eq!(h.events(), [Event::StartTls]);
    assert!(!h.server.wants_input());
    assert_eq!(h.server.poll_timeout(), None);
    h.send("EHLO mitm.example\r\n");
    assert_eq!(h.take_out(), "");
    assert_eq!(h.events(), [closed(Err(SessionError::StartTlsInjection))]);
    assert!(h.server.is_closed());
    assert_eq!(
        h.server.tls_established(h.now),
        Err(ServerError::NoTlsPending)
    );
    h.send("NOOP\r\n");
    assert_eq!((h.take_out(), h.events()), (String::new(), vec![]));
}

#[test]
fn tls_established_without_starttls_is_misuse() {
    let mut h = after_ehlo(tls_config());
    assert_eq!(
        h.server.tls_established(h.now),
        Err(ServerError::NoTlsPending)
    );
    assert!(!h.server.is_tls());
    // STARTTLS that is not offered, or refused, does not start a hand-off either.
    let mut h = after_ehlo(config("mx.example"));
    h.transcript(
        "C: STARTTLS
         S: 502 5.5.1 STARTTLS not offered",
    );
    assert_eq!(
        h.server.tls_established(h.now),
        Err(ServerError::NoTlsPending)
    );
    let mut h = after_ehlo(tls_config());
    h.transcript(
        "C: STARTTLS now
         S: 501 5.5.4 Syntax error: STARTTLS takes no argument (byte 8)",
    );
    assert_eq!(
        h.server.tls_established(h.now),
        Err(ServerError::NoTlsPending)
    );
}

#[test]
fn require_tls_refuses_mail_before_starttls() {
    let mut cfg = tls_config();
    cfg.require_tls = true;
    let mut h = after_ehlo(cfg);
    h.transcript(
        "C: MAIL FROM:<a@c.example>
         S: 530 5.7.0 Must issue a STARTTLS command first
         C: STARTTLS
         S: 220 2.0.0 Ready to start TLS",
    );
    h.send("EHLO c.example\r\n");
    h.take_out();
    h.transcript(
        "C: MAIL FROM:<a@c.example>
         S: 250 2.1.0 Sender ok",
    );
}

/// RFC 8689: REQUIRETLS needs a TLS session and the configuration's consent.
#[test]
fn requiretls_parameter() {
    let mut cfg = tls_config();
    cfg.requiretls = true;
    let mut h = after_ehlo(cfg);
    h.transcript(
        "C: MAIL FROM:<a@c.example> REQUIRETLS
         S: 530 5.7.10 REQUIRETLS needs a TLS session
         C: STARTTLS
         S: 220 2.0.0 Ready to start TLS
         C: EHLO c.example
         S: 250-mx.example
         S: 250-PIPELINING
         S: 250-8BITMIME
         S: 250-SMTPUTF8
         S: 250-ENHANCEDSTATUSCODES
         S: 250-CHUNKING
         S: 250-BINARYMIME
         S: 250-REQUIRETLS
         S: 250-SIZE 10240000
         S: 250 LIMITS RCPTMAX=100
         C: MAIL FROM:<a@c.example> REQUIRETLS
         S: 250 2.1.0 Sender ok",
    );
    let mut params = MailParams::default();
    params.requiretls = true;
    assert_eq!(
        h.events(),
        [
            Event::StartTls,
            ehlo("c.example"),
            mail_with("a@c.example", params)
        ]
    );
    let mut h = after_ehlo(tls_config());
    h.send("STARTTLS\r\n");
    h.send("EHLO c.example\r\n");
    h.take_out();
    h.transcript(
        "C: MAIL FROM:<a@c.example> REQUIRETLS
         S: 555 5.5.4 REQUIRETLS not supported",
    );
}
