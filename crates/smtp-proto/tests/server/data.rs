//! DATA: SMTP smuggling (end-marker look-alikes), dot transparency, and the end marker
//! split across reads.

use mail_wire::dot::{BareLineEnding, BodyError};
use smtp_proto::server::Event;

use crate::harness::{body_end, chunk, closed, data_start};
use crate::{MESSAGE_ACCEPTED, START_DATA, config, in_transaction, send_bytewise};

/// The end-marker look-alikes of the SMTP smuggling attacks (December 2023). None of them
/// ends a body.
const LOOK_ALIKES: [&str; 6] = ["\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\r\n.\r"];

/// What a smuggler puts after the fake end marker.
const SMUGGLED: &str =
    "MAIL FROM:<ceo@bank.example>\r\nRCPT TO:<victim@mx.example>\r\nDATA\r\nPay now\r\n";

#[test]
fn smuggling_look_alikes_are_content_under_normalize() {
    for look_alike in LOOK_ALIKES {
        for bytewise in [false, true] {
            let mut h = in_transaction(config("mx.example"));
            let wire =
                format!("DATA\r\nSubject: a\r\n\r\nhello{look_alike}{SMUGGLED}.\r\nQUIT\r\n");
            if bytewise {
                send_bytewise(&mut h, wire.as_bytes());
            } else {
                h.send(&wire);
            }
            assert_eq!(
                h.take_out(),
                format!("{START_DATA}{MESSAGE_ACCEPTED}221 2.0.0 Bye\r\n"),
                "{look_alike:?}"
            );
            // Bare CR and LF become CRLF; the dot after one is taken as stuffing (never as
            // the end marker), and the smuggled commands stay in the body.
            let body = format!("Subject: a\r\n\r\nhello\r\n\r\n{SMUGGLED}");
            assert_eq!(
                h.events(),
                [
                    data_start(),
                    chunk(&body),
                    body_end(body.len() as u64, 1),
                    closed(Ok(()))
                ],
                "{look_alike:?}"
            );
        }
    }
}

#[test]
fn smuggling_look_alikes_are_refused_under_reject_after_the_real_end() {
    let cases: [(&str, &str, BodyError); 6] = [
        ("\n.\n", "", BodyError::BareLf { offset: 19 }),
        ("\r.\r", "", BodyError::BareCr { offset: 19 }),
        ("\n.\r\n", "", BodyError::BareLf { offset: 19 }),
        ("\r\n.\n", "\r\n", BodyError::BareLf { offset: 22 }),
        ("\r.\r\n", "", BodyError::BareCr { offset: 19 }),
        ("\r\n.\r", "\r\n", BodyError::BareCr { offset: 22 }),
    ];
    for (look_alike, kept, error) in cases {
        let mut cfg = config("mx.example");
        cfg.bare_line_ending = BareLineEnding::Reject;
        let mut h = in_transaction(cfg);
        h.send(format!(
            "DATA\r\nSubject: a\r\n\r\nhello{look_alike}{SMUGGLED}.\r\nNOOP\r\n"
        ));
        assert_eq!(
            h.take_out(),
            format!(
                "{START_DATA}550 5.6.0 Message refused: bare CR or LF in the body \
                 (RFC 5321 section 2.3.8)\r\n250 2.0.0 Ok\r\n"
            ),
            "{look_alike:?}"
        );
        assert_eq!(
            h.events(),
            [
                data_start(),
                chunk(format!("Subject: a\r\n\r\nhello{kept}")),
                Event::BodyAborted(error),
            ],
            "{look_alike:?}"
        );
        assert!(!h.server.in_transaction());
    }
}

#[test]
fn a_dot_as_the_first_line_ends_an_empty_message() {
    let mut h = in_transaction(config("mx.example"));
    h.transcript(
        "C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: .
         S: 250 2.0.0 Message accepted",
    );
    assert_eq!(h.events(), [data_start(), body_end(0, 1)]);
}

#[test]
fn dot_unstuffing() {
    let mut h = in_transaction(config("mx.example"));
    h.transcript(
        "C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: ..
         C: ...x
         C: .y
         C: z.
         C: ..
         C: .
         S: 250 2.0.0 Message accepted",
    );
    let body = ".\r\n..x\r\ny\r\nz.\r\n.\r\n";
    assert_eq!(
        h.events(),
        [data_start(), chunk(body), body_end(body.len() as u64, 1)]
    );
}

/// The real end marker split across reads at every position still ends the body.
#[test]
fn end_marker_split_across_reads() {
    let wire = b"DATA\r\nab\r\n.\r\nNOOP\r\n";
    for cut in 0..=wire.len() {
        let mut h = in_transaction(config("mx.example"));
        h.send(&wire[..cut]);
        h.send(&wire[cut..]);
        assert_eq!(
            h.take_out(),
            format!("{START_DATA}{MESSAGE_ACCEPTED}250 2.0.0 Ok\r\n"),
            "cut at {cut}"
        );
        assert_eq!(
            h.events(),
            [data_start(), chunk("ab\r\n"), body_end(4, 1)],
            "cut at {cut}"
        );
    }
}
