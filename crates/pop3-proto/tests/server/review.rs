//! Review findings on the server, each reproduced: a message body with bare LF line endings
//! goes out in CRLF lines (RFC 1939 section 3), and a flood of pipelined listing commands
//! cannot make the machine queue output without bound; an application's `-ERR` text cannot
//! make a response line longer than RFC 2449 allows; a maildrop whose unique-ids repeat is
//! refused; `TOP` with a line count past `u32::MAX` sends every line.

use mail_testkit::SimClock;
use mail_testkit::users::{Users, server_nonce};
use pop3_proto::server::{Event, MessageInfo, Server, ServerError, SessionError};
use pop3_proto::{MAX_RESPONSE_LINE, RespCode, Uid};

use crate::harness::config;

fn drain(server: &mut Server) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(bytes) = server.poll_transmit() {
        out.extend_from_slice(&bytes);
    }
    out
}

/// Logs `alice` in to a maildrop of `messages`, each of `size` octets.
fn logged_in(clock: &SimClock, messages: usize, size: u64) -> Server {
    let mut server = Server::new(config(), clock.now());
    server.feed(clock.now(), b"USER alice\r\nPASS secret\r\n");
    while let Some(event) = server.poll_event() {
        match event {
            Event::AuthStep { .. } => server
                .auth_step(&Users::standard(), server_nonce())
                .unwrap(),
            Event::OpenMaildrop { .. } => server
                .open_maildrop(
                    (0..messages)
                        .map(|i| {
                            let uid = format!("{i:0>70}");
                            MessageInfo::new(size, Uid::new(uid).unwrap())
                        })
                        .collect(),
                )
                .unwrap(),
            _ => {}
        }
    }
    drain(&mut server);
    server
}

/// RETR of a message the application stores with LF line endings (as Maildir files often
/// are): every line on the wire ends in CRLF, a dot after a bare LF is stuffed, and the end
/// marker follows a CRLF.
#[test]
fn bare_lf_in_a_message_goes_out_as_crlf() {
    let clock = SimClock::new();
    let body = b"Subject: lf\n\n.dot\nlast line without newline";
    let mut server = logged_in(&clock, 1, 50);
    server.feed(clock.now(), b"RETR 1\r\n");
    assert!(matches!(
        server.poll_event(),
        Some(Event::Retrieve { index: 0, .. })
    ));
    server.send_message_data(body).unwrap();
    server.end_message().unwrap();
    assert_eq!(
        String::from_utf8(drain(&mut server)).unwrap(),
        "+OK Message follows\r\nSubject: lf\r\n\r\n..dot\r\nlast line without newline\r\n.\r\n"
    );
    // TOP cuts LF-only messages too, and sends them in CRLF.
    server.feed(clock.now(), b"TOP 1 0\r\n");
    assert!(matches!(
        server.poll_event(),
        Some(Event::Retrieve { index: 0, .. })
    ));
    server.send_message_data(body).unwrap();
    server.end_message().unwrap();
    assert_eq!(
        String::from_utf8(drain(&mut server)).unwrap(),
        "+OK Message follows\r\nSubject: lf\r\n\r\n.\r\n"
    );
}

/// 6,000 octets of pipelined `UIDL` against a maildrop of 200 messages: each answer is about
/// 15 KB, so answering all 1,000 at once queues 15 MB (a full 64 KiB of input against a
/// larger maildrop: gigabytes). The machine must stop taking commands while its output is
/// large, and still answer every one once the driver writes.
#[test]
fn pipelined_listings_do_not_queue_output_without_bound() {
    let clock = SimClock::new();
    let mut server = logged_in(&clock, 200, 100);
    let flood = b"UIDL\r\n".repeat(1000);
    server.feed(clock.now(), &flood);
    let mut answered = 0usize;
    let mut peak = 0usize;
    let mut rounds = 0;
    loop {
        if let Some(event) = server.poll_event() {
            panic!("unexpected event {event:?}");
        }
        let mut queued = 0;
        while let Some(bytes) = server.poll_transmit() {
            queued += bytes.len();
            answered += bytes.windows(5).filter(|w| w == b"\r\n.\r\n").count();
        }
        peak = peak.max(queued);
        assert!(
            peak <= 1024 * 1024,
            "{peak} octets queued at once after {answered} answers"
        );
        if queued == 0 {
            // Nothing more to write: the machine must not hold unanswered commands.
            break;
        }
        // The driver wrote everything; it tells the machine the time when its deadline is due.
        if let Some(due) = server.poll_timeout() {
            if due <= clock.now() {
                server.handle_timeout(clock.now());
            }
        }
        rounds += 1;
        assert!(rounds < 1_000_000);
    }
    assert_eq!(answered, flood.len() / 6);
    assert!(!server.is_closed());
    assert!(server.wants_input());
}

/// `reject` with a long text (an error message that quotes a path, say) would send a status
/// line over 512 octets, which RFC 2449 section 4 forbids and our own client refuses (it
/// ends the session). The machine must refuse the text and keep the decision pending.
#[test]
fn a_reject_text_longer_than_a_response_line_is_refused() {
    let clock = SimClock::new();
    let mut server = Server::new(config(), clock.now());
    server.feed(clock.now(), b"USER alice\r\nPASS secret\r\n");
    loop {
        match server.poll_event() {
            Some(Event::AuthStep { .. }) => server
                .auth_step(&Users::standard(), server_nonce())
                .unwrap(),
            Some(Event::OpenMaildrop { .. }) => break,
            Some(Event::Authenticated(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    drain(&mut server);
    // "-ERR [IN-USE] " is 14 octets and CRLF 2: 496 octets of text fit exactly.
    let too_long = "x".repeat(MAX_RESPONSE_LINE - 15);
    assert_eq!(
        server.reject(Some(RespCode::InUse), &too_long),
        Err(ServerError::BadText)
    );
    assert!(drain(&mut server).is_empty());
    let fits = "x".repeat(MAX_RESPONSE_LINE - 16);
    server.reject(Some(RespCode::InUse), &fits).unwrap();
    let out = drain(&mut server);
    assert_eq!(out.len(), MAX_RESPONSE_LINE);
    assert!(out.starts_with(b"-ERR [IN-USE] xxx"));
}

/// TOP counts lines as they go out: since a bare CR is sent as CRLF, it ends a line for TOP
/// too, in any split of the content (the header ends at the first empty line).
#[test]
fn top_counts_bare_cr_lines_as_sent() {
    let body = b"A: 1\r\rone\rtwo\rthree\r";
    for split in 0..=body.len() {
        let clock = SimClock::new();
        let mut server = logged_in(&clock, 1, 50);
        for (lines, expected) in [
            (0, "A: 1\r\n\r\n"),
            (1, "A: 1\r\n\r\none\r\n"),
            (3, "A: 1\r\n\r\none\r\ntwo\r\nthree\r\n"),
        ] {
            server.feed(clock.now(), format!("TOP 1 {lines}\r\n").as_bytes());
            assert!(matches!(
                server.poll_event(),
                Some(Event::Retrieve { index: 0, .. })
            ));
            server.send_message_data(&body[..split]).unwrap();
            server.send_message_data(&body[split..]).unwrap();
            server.end_message().unwrap();
            assert_eq!(
                String::from_utf8(drain(&mut server)).unwrap(),
                format!("+OK Message follows\r\n{expected}.\r\n"),
                "TOP 1 {lines}, split at {split}"
            );
        }
    }
}

/// RFC 1939 section 7: a unique-id identifies one message of the maildrop. Two messages with
/// the same one would make a client that keeps mail on the server (UIDL sync) skip the
/// second for ever; the machine must refuse such a list and keep the decision pending.
#[test]
fn a_maildrop_with_a_repeated_unique_id_is_refused() {
    let clock = SimClock::new();
    let mut server = Server::new(config(), clock.now());
    server.feed(clock.now(), b"USER alice\r\nPASS secret\r\n");
    loop {
        match server.poll_event() {
            Some(Event::AuthStep { .. }) => server
                .auth_step(&Users::standard(), server_nonce())
                .unwrap(),
            Some(Event::OpenMaildrop { .. }) => break,
            Some(Event::Authenticated(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    drain(&mut server);
    let uid = |s: &str| Uid::new(s.to_owned()).unwrap();
    let repeated = vec![
        MessageInfo::new(10, uid("a")),
        MessageInfo::new(20, uid("b")),
        MessageInfo::new(30, uid("a")),
    ];
    assert_eq!(
        server.open_maildrop(repeated),
        Err(ServerError::DuplicateUid { index: 2 })
    );
    assert!(drain(&mut server).is_empty());
    // Still pending: a good list is taken.
    server
        .open_maildrop(vec![
            MessageInfo::new(10, uid("a")),
            MessageInfo::new(20, uid("b")),
        ])
        .unwrap();
    assert_eq!(
        String::from_utf8(drain(&mut server)).unwrap(),
        "+OK maildrop has 2 messages (30 octets)\r\n"
    );
}

/// Attack review (round 20): `TOP 1 99999999999` and `TOP 1 4294967296` were refused with
/// `-ERR Syntax error in arguments` while `TOP 1 4294967295` worked; RFC 1939 section 7 allows
/// any non-negative number of lines. A count past `u32::MAX` now sends every line; a count
/// longer than a command line still ends the session as any line too long does.
#[test]
fn top_with_a_line_count_past_u32_sends_every_line() {
    let body = b"Subject: big\r\n\r\none\r\n.two\r\nthree\r\n";
    let clock = SimClock::new();
    let mut server = logged_in(&clock, 1, body.len() as u64);
    for count in ["4294967295", "4294967296", "99999999999", &"9".repeat(200)] {
        server.feed(clock.now(), format!("TOP 1 {count}\r\n").as_bytes());
        assert_eq!(
            server.poll_event(),
            Some(Event::Retrieve {
                index: 0,
                lines: Some(u32::MAX)
            }),
            "TOP 1 {count}"
        );
        server.send_message_data(body).unwrap();
        server.end_message().unwrap();
        assert_eq!(
            String::from_utf8(drain(&mut server)).unwrap(),
            "+OK Message follows\r\nSubject: big\r\n\r\none\r\n..two\r\nthree\r\n.\r\n",
            "TOP 1 {count}"
        );
    }
    server.feed(
        clock.now(),
        format!("TOP 1 {}\r\n", "9".repeat(300)).as_bytes(),
    );
    assert_eq!(
        server.poll_event(),
        Some(Event::Closed(Err(SessionError::LineTooLong)))
    );
    assert_eq!(drain(&mut server), b"-ERR Line too long, closing\r\n");
}
