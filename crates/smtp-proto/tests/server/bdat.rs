//! RFC 3030 CHUNKING: BDAT chunks, BINARYMIME, and BDAT lines and chunks that cannot be
//! accepted (their octets are still consumed, never run as commands).

use mail_wire::sasl::Mechanism;
use smtp_proto::server::{Event, SessionError};
use smtp_proto::{Body, ForwardPath, MailParams};

use crate::harness::{
    Decision, Harness, Policy, bdat_start, body_end, chunk, closed, mail, mail_with, rcpt,
};
use crate::{
    MESSAGE_ACCEPTED, after_ehlo, after_ehlo_with, config, in_transaction, reject_some_recipients,
    reply_esc,
};

/// RFC 3030 section 4.2: a message in one BDAT LAST chunk, answered by the application with
/// the octet count.
#[test]
fn rfc3030_simple_chunking() {
    let policy: Policy = Box::new(|event| match event {
        Event::BodyEnd { size, .. } => Decision::AcceptWith(reply_esc(
            250,
            (2, 0, 0),
            format!("Message OK, {size} octets received"),
        )),
        _ => Decision::Accept,
    });
    let mut h = after_ehlo_with(config("example.com"), policy);
    h.transcript(
        "C: MAIL FROM:<Sam@Random.com>
         S: 250 2.1.0 Sender ok
         C: RCPT TO:<Susan@Random.com>
         S: 250 2.1.5 Recipient ok
         C: BDAT 86 LAST
         C: To: Susan@random.com
         C: From: Sam@random.com
         C: Subject: This is a bodyless test message
         S: 250 2.0.0 Message OK, 86 octets received
         C: QUIT
         S: 221 2.0.0 Bye",
    );
    assert_eq!(
        h.events(),
        [
            mail("Sam@Random.com"),
            rcpt("Susan@Random.com"),
            bdat_start(),
            chunk(
                "To: Susan@random.com\r\nFrom: Sam@random.com\r\n\
                 Subject: This is a bodyless test message\r\n"
            ),
            body_end(86, 1),
            closed(Ok(())),
        ]
    );
}

/// RFC 3030 section 4.3: BINARYMIME with pipelined BDAT chunks. Chunk octets are passed
/// through untouched: NUL, bare CR, a dot line and command-looking text are all content.
#[test]
fn rfc3030_pipelined_binarymime() {
    let mut first = b"MIME-Version: 1.0\r\n\0\x01\xff\r\n.\r\nQUIT\r\n\rRSET\n".to_vec();
    first.resize(69, b'x');
    let second: Vec<u8> = (0..1000u32).map(|i| (i % 256) as u8).collect();
    let mut h = after_ehlo(config("innosoft.com"));
    let mut wire = b"MAIL FROM:<ned@thor.innosoft.com> BODY=BINARYMIME\r\n\
                     RCPT TO:<ned@innosoft.com>\r\nBDAT 69\r\n"
        .to_vec();
    wire.extend_from_slice(&first);
    wire.extend_from_slice(b"BDAT 1000 LAST\r\n");
    wire.extend_from_slice(&second);
    h.send(&wire);
    assert_eq!(
        h.take_out(),
        format!(
            "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n\
             250 2.0.0 69 octets received\r\n{MESSAGE_ACCEPTED}"
        )
    );
    let mut params = MailParams::default();
    params.body = Some(Body::BinaryMime);
    let body = [first, second].concat();
    assert_eq!(
        h.events(),
        [
            mail_with("ned@thor.innosoft.com", params),
            rcpt("ned@innosoft.com"),
            bdat_start(),
            chunk(&body),
            body_end(1069, 1),
        ]
    );
    assert!(!h.server.in_transaction());
}

#[test]
fn bdat_chunks_fed_in_pieces_and_bdat_0_last() {
    let mut h = in_transaction(config("mx.example"));
    h.send("BDAT 10\r\n0123");
    assert_eq!(h.take_out(), "");
    h.send("456789bdat 0 last\r\n");
    assert_eq!(
        h.take_out(),
        format!("250 2.0.0 10 octets received\r\n{MESSAGE_ACCEPTED}")
    );
    assert_eq!(
        h.events(),
        [bdat_start(), chunk("0123456789"), body_end(10, 1)]
    );
    // An empty message: BDAT 0 LAST alone.
    h.transcript(
        "C: MAIL FROM:<>
         C: RCPT TO:<postmaster>
         C: BDAT 0 LAST
         S: 250 2.1.0 Sender ok
         S: 250 2.1.5 Recipient ok
         S: 250 2.0.0 Message accepted",
    );
    let events = h.events();
    assert!(matches!(
        &events[..],
        [
            Event::Mail {
                from: smtp_proto::ReversePath::Null,
                ..
            },
            Event::Rcpt {
                to: ForwardPath::Postmaster,
                ..
            },
            _,
            _
        ]
    ));
    assert_eq!(events[2..], [bdat_start(), body_end(0, 1)]);
}

/// RFC 3030 section 3: a BDAT that cannot be accepted still has its octets read, so a
/// chunk that looks like commands is never executed.
#[test]
fn bdat_out_of_sequence_consumes_its_octets() {
    let mut h = after_ehlo_with(config("mx.example"), reject_some_recipients());
    h.send("BDAT 6\r\nQUIT\r\nNOOP\r\n");
    assert_eq!(
        h.take_out(),
        "503 5.5.1 Need MAIL command\r\n250 2.0.0 Ok\r\n"
    );
    h.send("MAIL FROM:<a@c.example>\r\nRCPT TO:<reject@mx.example>\r\nBDAT 12 LAST\r\nRSET\r\nQUIT\r\nNOOP\r\n");
    assert_eq!(
        h.take_out(),
        "250 2.1.0 Sender ok\r\n550 5.1.1 No such user\r\n554 5.5.1 No valid recipients\r\n\
         250 2.0.0 Ok\r\n"
    );
    assert!(!h.server.is_closed());
    assert_eq!(
        h.events(),
        [mail("a@c.example"), rcpt("reject@mx.example")],
        "no body events for a refused chunk"
    );
    // The transaction is still open: the client may RSET or add a recipient.
    assert!(h.server.in_transaction());
}

#[test]
fn bdat_without_chunking_is_502_and_still_consumes() {
    let mut cfg = config("mx.example");
    cfg.chunking = false;
    let mut h = Harness::new(cfg);
    h.take_out();
    h.send("EHLO c.example\r\n");
    let ehlo = h.take_out();
    assert!(
        !ehlo.contains("CHUNKING") && !ehlo.contains("BINARYMIME"),
        "{ehlo}"
    );
    h.transcript(
        "C: MAIL FROM:<a@c.example> BODY=BINARYMIME
         C: MAIL FROM:<a@c.example>
         C: RCPT TO:<b@mx.example>
         C: BDAT 6 LAST
         C: QUIT
         C: NOOP
         S: 555 5.5.4 BODY=BINARYMIME not supported
         S: 250 2.1.0 Sender ok
         S: 250 2.1.5 Recipient ok
         S: 502 5.5.1 CHUNKING not offered
         S: 250 2.0.0 Ok",
    );
}

#[test]
fn data_after_bdat_is_503() {
    let mut h = in_transaction(config("mx.example"));
    h.transcript(
        "C: BDAT 3
         C: abcDATA
         S: 250 2.0.0 3 octets received
         S: 503 5.5.1 DATA after BDAT in the same transaction
         C: BDAT 0 LAST
         S: 250 2.0.0 Message accepted",
    );
    assert_eq!(h.events(), [bdat_start(), chunk("abc"), body_end(3, 1)]);
}

#[test]
fn binarymime_with_data_is_503() {
    let mut h = after_ehlo(config("mx.example"));
    h.transcript(
        "C: MAIL FROM:<a@c.example> BODY=BINARYMIME
         C: RCPT TO:<b@mx.example>
         C: DATA
         S: 250 2.1.0 Sender ok
         S: 250 2.1.5 Recipient ok
         S: 503 5.5.1 BODY=BINARYMIME requires BDAT
         C: BDAT 4 LAST
         C: ok
         S: 250 2.0.0 Message accepted",
    );
}

#[test]
fn bdat_with_unreadable_size_closes() {
    for line in [
        "BDAT abc",
        "BDAT 99999999999999999999999 LAST",
        "BDAT -1",
        "BDAT",
        "bdat 5 NOTLAST",
    ] {
        let mut h = in_transaction(config("mx.example"));
        h.send(format!("{line}\r\nNOOP\r\n"));
        assert_eq!(
            h.take_out(),
            "421 4.5.4 Invalid BDAT chunk size, closing connection\r\n",
            "{line}"
        );
        assert_eq!(
            h.events(),
            [closed(Err(SessionError::Desynchronised))],
            "{line}"
        );
        assert!(h.server.is_closed());
        h.send("NOOP\r\n");
        assert_eq!(h.take_out(), "");
    }
}

/// A BDAT line the framing refuses (a bare LF, too long with or without AUTH offered) has a
/// chunk after it that cannot be found: its octets must not run as commands (RFC 3030
/// section 2), so the session closes.
#[test]
fn bdat_lines_refused_by_their_framing_close() {
    let long = format!("BDAT {}12 LAST\r\n", "0".repeat(3000));
    let mut auth_offered = config("mx.example");
    auth_offered.allow_plaintext_auth = true;
    auth_offered.auth_mechanisms = vec![Mechanism::Plain];
    for (cfg, line) in [
        (config("mx.example"), "BDAT 12 LAST\n".to_owned()),
        (config("mx.example"), long.clone()),
        // With AUTH offered the framer lets 12288 octets through; the 2048 limit still holds.
        (auth_offered, long),
    ] {
        let mut h = in_transaction(cfg);
        h.send(format!("{line}NOOP\r\nRSET\r\n"));
        assert_eq!(
            h.take_out(),
            "421 4.5.4 Unreadable BDAT command, closing connection\r\n",
            "{line:.40}"
        );
        assert_eq!(h.events(), [closed(Err(SessionError::Desynchronised))]);
    }
    // Other refused lines leave the session going.
    let mut h = in_transaction(config("mx.example"));
    h.send("NOOP\nRSET\r\n");
    assert_eq!(
        h.take_out(),
        "500 5.5.2 Command line must end with CRLF (bare LF received)\r\n250 2.0.0 Ok\r\n"
    );
}

/// Issue 14, item 7: a BDAT text body (no `BODY=BINARYMIME`) goes through the same bare CR
/// and LF policy as DATA. By default (`Normalize`) each bare LF and bare CR becomes CRLF, also
/// when a CR ends one chunk and an LF starts the next (one CRLF, not two); NUL is kept, as
/// DATA keeps it. `BodyEnd` gives the size handed over; the per-chunk replies count octets
/// as sent. Before, the chunks were passed on byte for byte.
#[test]
fn bdat_text_bodies_get_their_bare_line_endings_normalized() {
    let wire: &[u8] = b"BDAT 13\r\nline\nbare\rcr\rBDAT 9\r\n\nnul\0\r\n\n\rBDAT 0 LAST\r\n";
    let expected = b"line\r\nbare\r\ncr\r\nnul\0\r\n\r\n\r\n";
    // The same body however the reads split.
    for cut in 0..=wire.len() {
        let mut h = in_transaction(config("mx.example"));
        h.send(&wire[..cut]);
        h.send(&wire[cut..]);
        assert_eq!(
            h.take_out(),
            format!(
                "250 2.0.0 13 octets received\r\n250 2.0.0 22 octets received\r\n\
                 {MESSAGE_ACCEPTED}"
            ),
            "cut at {cut}"
        );
        assert_eq!(
            h.events(),
            [
                bdat_start(),
                chunk(expected),
                body_end(expected.len() as u64, 1)
            ],
            "cut at {cut}"
        );
    }
}

/// A CR that ends the last chunk is a bare CR too.
#[test]
fn a_cr_ending_the_last_chunk_becomes_crlf() {
    let mut h = in_transaction(config("mx.example"));
    h.send("BDAT 3 LAST\r\nab\r");
    assert_eq!(h.take_out(), MESSAGE_ACCEPTED);
    assert_eq!(h.events(), [bdat_start(), chunk("ab\r\n"), body_end(4, 1)]);
}

/// `BODY=BINARYMIME` bodies stay byte for byte (RFC 3030), and so do text bodies under
/// `Preserve`.
#[test]
fn binarymime_and_preserve_bodies_stay_byte_for_byte() {
    let body: &[u8] = b"line\nbare\rcr\r\0\x80\xff";
    let mut h = after_ehlo(config("mx.example"));
    h.send("MAIL FROM:<a@example.org> BODY=BINARYMIME\r\nRCPT TO:<b@example.net>\r\n");
    h.send([format!("BDAT {} LAST\r\n", body.len()).as_bytes(), body].concat());
    assert!(h.take_out().ends_with(MESSAGE_ACCEPTED));
    let events = h.events();
    assert_eq!(
        events[2..],
        [bdat_start(), chunk(body), body_end(body.len() as u64, 1)]
    );

    let mut cfg = config("mx.example");
    cfg.bare_line_ending = mail_wire::dot::BareLineEnding::Preserve;
    let mut h = in_transaction(cfg);
    h.send([format!("BDAT {} LAST\r\n", body.len()).as_bytes(), body].concat());
    assert_eq!(h.take_out(), MESSAGE_ACCEPTED);
    assert_eq!(
        h.events(),
        [bdat_start(), chunk(body), body_end(body.len() as u64, 1)]
    );
}

/// Under `Reject` a bare line ending refuses the message as in DATA (`550 5.6.0`): in the
/// last chunk at its end; in an earlier chunk with that chunk's reply, the chunks pipelined
/// after it being discarded (RFC 3030 section 2).
#[test]
fn bdat_text_bodies_with_bare_line_endings_are_refused_under_reject() {
    use mail_wire::dot::{BareLineEnding, BodyError};
    const REFUSED: &str =
        "550 5.6.0 Message refused: bare CR or LF in the body (RFC 5321 section 2.3.8)\r\n";
    let reject = || {
        let mut cfg = config("mx.example");
        cfg.bare_line_ending = BareLineEnding::Reject;
        cfg
    };
    let mut h = in_transaction(reject());
    h.send("BDAT 9 LAST\r\nok\r\nbad\nxQUIT\r\n");
    assert_eq!(h.take_out(), format!("{REFUSED}221 2.0.0 Bye\r\n"));
    assert_eq!(
        h.events(),
        [
            bdat_start(),
            chunk("ok\r\nbad"),
            Event::BodyAborted(BodyError::BareLf { offset: 7 }),
            closed(Ok(())),
        ]
    );

    let mut h = in_transaction(reject());
    h.send("BDAT 3\r\nab\rBDAT 2\r\nxyBDAT 1 LAST\r\nzNOOP\r\n");
    assert_eq!(
        h.take_out(),
        "250 2.0.0 3 octets received\r\n\
         550 5.6.0 Message refused: bare CR or LF in the body (RFC 5321 section 2.3.8)\r\n\
         503 5.5.1 Chunk discarded: an earlier chunk of this message was refused\r\n\
         250 2.0.0 Ok\r\n"
    );
    assert_eq!(
        h.events(),
        [
            bdat_start(),
            chunk("ab"),
            Event::BodyAborted(BodyError::BareCr { offset: 2 }),
        ]
    );
    assert!(!h.server.in_transaction());

    // A clean text body passes under Reject.
    let mut h = in_transaction(reject());
    h.send("BDAT 4 LAST\r\nok\r\n");
    assert_eq!(h.take_out(), MESSAGE_ACCEPTED);
}
