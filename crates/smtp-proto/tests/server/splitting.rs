//! Chunk-split invariance: the same input cut anywhere (and handed over with `feed` or
//! `feed_buf`) gives the same replies and events; `feed_buf` delivers the body without
//! copying it.

use mail_testkit::chunk;
use mail_wire::dot::BodyError;
use mail_wire::sasl::Mechanism;
use proptest::prelude::*;
use smtp_proto::server::{Event, ServerConfig, SessionError};
use smtp_proto::{Body, ForwardPath, MailParams};

use crate::harness::{
    Decision, Harness, Policy, bdat_start, body_end, chunk, closed, data_start, domain, ehlo, mail,
    mail_with, rcpt, reply,
};
use crate::{
    MESSAGE_ACCEPTED, PLAIN_WRONG, SIZE_EXCEEDED, START_DATA, config, ehlo_reply, in_transaction,
    reply_esc,
};

/// A session to replay under every chunking.
struct Scenario {
    name: &'static str,
    config: fn() -> ServerConfig,
    lmtp: bool,
    input: Vec<u8>,
}

/// Deterministic decisions: `reject*` recipients are refused; LMTP messages get one reply
/// per recipient, alternating 250 and 452.
fn scenario_policy(lmtp: bool) -> Policy {
    Box::new(move |event| match event {
        Event::Rcpt {
            to: ForwardPath::Mailbox(m),
            ..
        } if m.local.as_str().starts_with("reject") => {
            Decision::Reject(reply_esc(550, (5, 1, 1), "No such user".into()))
        }
        Event::BodyEnd { recipients, .. } if lmtp => Decision::ReplyEach(
            (0..*recipients)
                .map(|i| {
                    if i % 2 == 0 {
                        reply(250, "Delivered")
                    } else {
                        reply(452, "Over quota")
                    }
                })
                .collect(),
        ),
        _ => Decision::Accept,
    })
}

fn rich_config() -> ServerConfig {
    let mut config = config("mx.example");
    config.max_line_len = 256;
    config
}

fn rich_input() -> Vec<u8> {
    [
        "EHLO client.example\r\nNOOP\r\n",
        "MAIL FROM:<a@example.org> SIZE=500\r\nRCPT TO:<b@example.net>\r\n",
        "RCPT TO:<reject@example.net>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n",
        "Subject: x\r\n\r\n..stuffed\r\n...\r\nnot the end\n.\nstill\rbody\r\r\n.\r\n",
        "MAIL FROM:<a@example.org> BODY=BINARYMIME\r\nRCPT TO:<b@example.net>\r\n",
        "BDAT 12\r\nhello\r\n.\r\nQU",
        "BDAT 7 LAST\r\nIT\r\nxyz",
        &format!("NOOP {}\r\n", "x".repeat(300)),
        "MAIL FROM:<>\r\nRCPT TO:<postmaster>\r\nRSET\r\n",
        "MAIL FROM:<>\r\nRCPT TO:<Postmaster>\r\nBDAT 0 LAST\r\n",
        "VRFY x\r\nFOO\r\nNOOP\nQUIT\r\nNOOP\r\n",
    ]
    .concat()
    .into_bytes()
}

fn auth_scenario_config() -> ServerConfig {
    let mut config = config("mx.example");
    config.max_line_len = 256;
    config.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
    config.allow_plaintext_auth = true;
    // Replies to failures at once: the delay is not what these scenarios split.
    config.auth_failure_delay = std::time::Duration::ZERO;
    config
}

fn limits_config() -> ServerConfig {
    let mut config = config("mx.example");
    config.max_message_size = 50;
    config.max_recipients = 1;
    config.max_errors = 5;
    config
}

fn lmtp_config() -> ServerConfig {
    ServerConfig::lmtp(domain("foo.edu"))
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "rich",
            config: rich_config,
            lmtp: false,
            input: rich_input(),
        },
        Scenario {
            name: "auth",
            config: auth_scenario_config,
            lmtp: false,
            input: format!(
                "EHLO c.example\r\nAUTH LOGIN\r\nYWxpY2U=\r\n*\r\nAUTH PLAIN {PLAIN_WRONG}\r\n\
                 NOOP {}\r\nAUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\nMAIL FROM:<a@c.example>\r\n\
                 RCPT TO:<b@mx.example>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n",
                "x".repeat(300)
            )
            .into_bytes(),
        },
        Scenario {
            name: "limits",
            config: limits_config,
            lmtp: false,
            input: format!(
                "EHLO c.example\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@x.example>\r\n\
                 RCPT TO:<c@x.example>\r\nDATA\r\n{}\r\n.\r\nMAIL FROM:<a@c.example>\r\n\
                 RCPT TO:<b@x.example>\r\nBDAT 30\r\n{}BDAT 30 LAST\r\n{}\
                 FOO\r\nFOO\r\nFOO\r\nFOO\r\n",
                "0123456789".repeat(8),
                "a".repeat(30),
                "b".repeat(30)
            )
            .into_bytes(),
        },
        Scenario {
            name: "lmtp",
            config: lmtp_config,
            lmtp: true,
            input: b"LHLO c.example\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<x@foo.edu>\r\n\
                     RCPT TO:<reject@foo.edu>\r\nRCPT TO:<y@foo.edu>\r\nRCPT TO:<z@foo.edu>\r\n\
                     DATA\r\nline\r\n..dot\r\n.\r\nMAIL FROM:<a@c.example>\r\n\
                     RCPT TO:<x@foo.edu>\r\nBDAT 3 LAST\r\nabcQUIT\r\n"
                .to_vec(),
        },
    ]
}

/// Runs `scenario` with its input cut at `cuts` ([`chunk::split_at`]); returns everything sent
/// and every event (body chunks merged).
fn run_split(scenario: &Scenario, cuts: &[usize]) -> (Vec<u8>, Vec<Event>) {
    run_split_with(scenario, cuts, |_| false)
}

/// [`run_split`], feeding the pieces for which `by_buf(piece index)` holds through
/// `Server::feed_buf` (the driver's zero-copy hand-over) instead of `Server::feed`.
fn run_split_with(
    scenario: &Scenario,
    cuts: &[usize],
    by_buf: impl Fn(usize) -> bool,
) -> (Vec<u8>, Vec<Event>) {
    let mut h = Harness::with_policy((scenario.config)(), scenario_policy(scenario.lmtp));
    for (piece, bytes) in chunk::split_at(&scenario.input, cuts)
        .into_iter()
        .enumerate()
    {
        if by_buf(piece) {
            h.send_buf(bytes);
        } else {
            h.send(bytes);
        }
    }
    (h.take_bytes(), h.events())
}

/// The reference runs, whole input in one chunk, are what they should be.
#[test]
fn chunking_scenarios_reference_runs() {
    let scenarios = scenarios();
    let (out, events) = run_split(&scenarios[0], &[]);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!(
            "220 mx.example ESMTP ready\r\n{}250 2.0.0 Ok\r\n\
             250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n550 5.1.1 No such user\r\n\
             250 2.1.5 Recipient ok\r\n{START_DATA}{MESSAGE_ACCEPTED}\
             250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n250 2.0.0 12 octets received\r\n\
             {MESSAGE_ACCEPTED}500 5.5.2 Line too long\r\n\
             250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n250 2.0.0 Ok\r\n\
             250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n{MESSAGE_ACCEPTED}\
             252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n\
             500 5.5.2 Command not recognized\r\n\
             500 5.5.2 Command line must end with CRLF (bare LF received)\r\n\
             221 2.0.0 Bye\r\n",
            ehlo_reply("mx.example", false, None)
        )
    );
    let stuffed = "Subject: x\r\n\r\n.stuffed\r\n..\r\nnot the end\r\n\r\nstill\r\nbody\r\n\r\n";
    let mut size_params = MailParams::default();
    size_params.size = Some(500);
    let mut binary = MailParams::default();
    binary.body = Some(Body::BinaryMime);
    let null = |to: ForwardPath<'static>| {
        [
            Event::Mail {
                from: smtp_proto::ReversePath::Null,
                params: MailParams::default(),
            },
            Event::Rcpt {
                to,
                params: Default::default(),
            },
        ]
    };
    let expected: Vec<Event> = [
        vec![
            ehlo("client.example"),
            mail_with("a@example.org", size_params),
            rcpt("b@example.net"),
            rcpt("reject@example.net"),
            rcpt("c@example.net"),
            data_start(),
            chunk(stuffed),
            body_end(stuffed.len() as u64, 2),
            mail_with("a@example.org", binary),
            rcpt("b@example.net"),
            bdat_start(),
            chunk("hello\r\n.\r\nQUIT\r\nxyz"),
            body_end(19, 1),
        ],
        null(ForwardPath::Postmaster).to_vec(),
        null(ForwardPath::Postmaster).to_vec(),
        vec![bdat_start(), body_end(0, 1), closed(Ok(()))],
    ]
    .concat();
    assert_eq!(events, expected);

    let (out, events) = run_split(&scenarios[1], &[]);
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.ends_with(
            "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n501 5.0.0 Authentication cancelled\r\n\
             535 5.7.8 Authentication credentials invalid\r\n500 5.5.2 Line too long\r\n\
             334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.7.0 Authentication successful\r\n\
             250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n\
             354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Message accepted\r\n\
             221 2.0.0 Bye\r\n"
        ),
        "{out}"
    );
    assert!(events.iter().any(|e| matches!(e, Event::Authenticated(_))));

    let (out, events) = run_split(&scenarios[2], &[]);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!(
            "220 mx.example ESMTP ready\r\n{}250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n\
             452 4.5.3 Too many recipients\r\n{START_DATA}{SIZE_EXCEEDED}\
             250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n250 2.0.0 30 octets received\r\n\
             {SIZE_EXCEEDED}500 5.5.2 Command not recognized\r\n\
             500 5.5.2 Command not recognized\r\n\
             500 5.5.2 Command not recognized\r\n\
             421 4.7.0 Too many errors, closing connection\r\n",
            ehlo_reply("mx.example", false, None)
                .replace("SIZE 10240000", "SIZE 50")
                .replace("RCPTMAX=100", "RCPTMAX=1")
        )
    );
    assert_eq!(
        events[3..],
        [
            data_start(),
            chunk("0123456789".repeat(5)),
            Event::BodyAborted(BodyError::TooLarge { limit: 50 }),
            mail("a@c.example"),
            rcpt("b@x.example"),
            bdat_start(),
            chunk("a".repeat(30)),
            Event::BodyAborted(BodyError::TooLarge { limit: 50 }),
            closed(Err(SessionError::TooManyErrors)),
        ]
    );

    let (out, events) = run_split(&scenarios[3], &[]);
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.ends_with(
            "354 End data with <CR><LF>.<CR><LF>\r\n250 Delivered\r\n452 Over quota\r\n\
             250 Delivered\r\n250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n\
             250 Delivered\r\n221 2.0.0 Bye\r\n"
        ),
        "{out}"
    );
    assert_eq!(events.last(), Some(&closed(Ok(()))));
}

#[test]
fn chunking_byte_by_byte_and_every_two_way_split() {
    for scenario in scenarios() {
        let reference = run_split(&scenario, &[]);
        let every: Vec<usize> = (1..scenario.input.len()).collect();
        assert!(
            run_split(&scenario, &every) == reference,
            "{}: byte by byte",
            scenario.name
        );
        for cuts in chunk::one_cuts(scenario.input.len()) {
            assert!(
                run_split(&scenario, &cuts) == reference,
                "{}: cut at {cuts:?}",
                scenario.name
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn chunking_never_changes_events_or_replies(
        which in 0..4usize,
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..60),
    ) {
        let scenario = &scenarios()[which];
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(scenario.input.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let reference = run_split(scenario, &[]);
        let split = run_split(scenario, &cuts);
        prop_assert_eq!(&split.0, &reference.0, "{}: output, cuts {:?}", scenario.name, cuts);
        prop_assert_eq!(&split.1, &reference.1, "{}: events, cuts {:?}", scenario.name, cuts);
    }

    /// `feed_buf` (all pieces, or some mixed with `feed`) is the same session as `feed`.
    #[test]
    fn feed_buf_never_changes_events_or_replies(
        which in 0..4usize,
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..60),
        mix in any::<u64>(),
    ) {
        let scenario = &scenarios()[which];
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(scenario.input.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let reference = run_split(scenario, &cuts);
        for by_buf in [&(|_| true) as &dyn Fn(usize) -> bool, &|piece| mix >> (piece % 64) & 1 == 1] {
            let run = run_split_with(scenario, &cuts, by_buf);
            prop_assert_eq!(&run.0, &reference.0, "{}: output, cuts {:?}", scenario.name, cuts);
            prop_assert_eq!(&run.1, &reference.1, "{}: events, cuts {:?}", scenario.name, cuts);
        }
    }
}

/// `feed_buf` hands a body to the application in slices of the buffer the read filled: no
/// copy between the socket read and `Event::BodyChunk`.
#[test]
fn feed_buf_delivers_the_body_without_copying_it() {
    let mut h = in_transaction(config("mx.example"));
    h.send("DATA\r\n");
    assert_eq!(h.take_out(), START_DATA);
    assert_eq!(h.events(), [data_start()]);
    let mut read_buf = bytes::BytesMut::from(&b"Subject: zero copy\r\n\r\nbody line\r\n.\r\n"[..]);
    let range = read_buf.as_ptr() as usize..read_buf.as_ptr() as usize + read_buf.len();
    h.server.feed_buf(h.now, &mut read_buf);
    assert!(read_buf.is_empty());
    let mut body = Vec::new();
    let mut chunks = 0;
    while let Some(event) = h.server.poll_event() {
        match event {
            Event::BodyChunk(chunk) => {
                assert!(
                    range.contains(&(chunk.as_ptr() as usize)),
                    "the chunk is a slice of the read buffer"
                );
                body.extend_from_slice(&chunk);
                chunks += 1;
            }
            Event::BodyEnd { .. } => h.server.accept().unwrap(),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(chunks > 0);
    assert_eq!(body, b"Subject: zero copy\r\n\r\nbody line\r\n");
    assert_eq!(h.take_out(), MESSAGE_ACCEPTED);
}
