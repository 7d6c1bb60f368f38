//! Garbage in: random tokens, bytes, clock ticks, end of input and shutdowns never panic,
//! output stays well-formed and bounded, and a session closes once.

use std::time::Duration;

use mail_wire::dot::BareLineEnding;
use proptest::prelude::*;
use smtp_proto::ReplyParser;
use smtp_proto::server::{Event, HelloVerb, Mode, ServerConfig};

use crate::harness::{Decision, Harness, Policy, domain, reply};
use crate::{config, reply_esc};

const TOKENS: &[&str] = &[
    "EHLO x.example\r\n",
    "HELO x.example\r\n",
    "LHLO x.example\r\n",
    "MAIL FROM:<a@b.example>\r\n",
    "MAIL FROM:<a@b.example> BODY=BINARYMIME SIZE=20\r\n",
    "MAIL FROM:<> SMTPUTF8\r\n",
    "RCPT TO:<c@d.example>\r\n",
    "RCPT TO:<reject@d.example>\r\n",
    "DATA\r\n",
    "BDAT 5\r\n",
    "BDAT 0 LAST\r\n",
    "BDAT 3 LAST\r\n",
    "BDAT x\r\n",
    "BDAT 18446744073709551615\r\n",
    "RSET\r\n",
    "NOOP\r\n",
    "QUIT\r\n",
    "STARTTLS\r\n",
    "AUTH PLAIN\r\n",
    "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n",
    "AUTH LOGIN\r\n",
    "AUTH SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=\r\n",
    "YWxpY2U=\r\n",
    "c2VjcmV0\r\n",
    "*\r\n",
    "VRFY a\r\n",
    ".\r\n",
    "\r\n.\r\n",
    "..\r\n",
    "\r\n",
    "\n",
    "\r",
    ".",
    "\n.\n",
    "x",
    "\u{e9}",
];

#[derive(Debug, Clone)]
enum Action {
    Feed(Vec<u8>),
    Tick(u64),
    Eof,
    Shutdown,
}

fn action() -> impl Strategy<Value = Action> {
    let token = prop_oneof![
        4 => proptest::sample::select(TOKENS).prop_map(|t| t.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..24),
    ];
    prop_oneof![
        20 => proptest::collection::vec(token, 1..6).prop_map(|t| Action::Feed(t.concat())),
        1 => (0..400u64).prop_map(Action::Tick),
        1 => Just(Action::Eof),
        1 => Just(Action::Shutdown),
    ]
}

fn garbage_config(kind: u8) -> ServerConfig {
    let mut config = match kind % 4 {
        0 => config("mx.example"),
        1 => ServerConfig::lmtp(domain("foo.edu")),
        2 => {
            let mut c = ServerConfig::submission(domain("mx.example"));
            c.allow_plaintext_auth = true;
            c
        }
        _ => ServerConfig::submissions(domain("mx.example")),
    };
    if kind & 4 != 0 {
        config.max_message_size = 10;
        config.max_recipients = 1;
        config.max_errors = 3;
        config.max_line_len = 20;
        config.max_buffered_input = 64;
        config.bare_line_ending = BareLineEnding::Reject;
        config.greeting_delay = Some(Duration::from_secs(1));
    }
    config
}

/// A policy driven by coin flips: accept or refuse each decision.
fn random_policy(coins: Vec<bool>, lmtp: bool) -> Policy {
    let mut next = 0;
    Box::new(move |event| {
        let mut flip = || {
            let coin = coins[next % coins.len()];
            next += 1;
            coin
        };
        let refusal = || reply_esc(550, (5, 7, 1), "No".into());
        match event {
            Event::BodyEnd { recipients, .. } if lmtp && flip() => Decision::ReplyEach(
                (0..*recipients)
                    .map(|_| if flip() { reply(250, "Ok") } else { refusal() })
                    .collect(),
            ),
            Event::AuthStep { .. } if flip() => Decision::Accept,
            Event::AuthStep { .. } => Decision::Reject(refusal()),
            _ if flip() => Decision::Accept,
            _ => Decision::Reject(refusal()),
        }
    })
}

/// Checks that `out` is a sequence of well-formed replies.
fn assert_replies(out: &[u8]) {
    assert!(out.is_empty() || out.ends_with(b"\r\n"), "{out:?}");
    let mut parser = ReplyParser::default();
    for line in out.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let line = line.strip_suffix(b"\r").expect("CRLF");
        assert!(
            parser.push_line(line).is_ok(),
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
    assert!(!parser.is_pending());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn garbage_never_panics_and_output_stays_bounded(
        kind in any::<u8>(),
        auto_tls in any::<bool>(),
        coins in proptest::collection::vec(any::<bool>(), 1..16),
        actions in proptest::collection::vec(action(), 0..40),
    ) {
        let config = garbage_config(kind);
        let lmtp = config.mode == Mode::Lmtp;
        let mut h = Harness::with_policy(config, random_policy(coins, lmtp));
        h.auto_tls = auto_tls;
        let mut fed = 0usize;
        let mut out = Vec::new();
        let mut events = Vec::new();
        for action in actions {
            let was_closed = h.server.is_closed();
            match action {
                Action::Feed(bytes) => {
                    fed += bytes.len();
                    h.send(&bytes);
                }
                Action::Tick(secs) => h.advance(Duration::from_secs(secs)),
                Action::Eof => {
                    h.server.handle_eof();
                    h.drive();
                }
                Action::Shutdown => {
                    h.server.shutdown();
                    h.drive();
                }
            }
            if !auto_tls && !h.server.is_closed() && !h.server.wants_input()
                && h.server.poll_timeout().is_none()
                && matches!(events.last(), Some(Event::StartTls))
            {
                // Some handshakes finish, others never do.
                let _ = h.server.tls_established(h.now);
            }
            let new_out = h.take_bytes();
            let new_events = h.events();
            if was_closed {
                prop_assert!(new_out.is_empty() && new_events.is_empty());
            }
            out.extend(new_out);
            events.extend(new_events);
        }
        assert_replies(&out);
        prop_assert!(out.len() <= 600 + 40 * fed, "{} octets out for {} in", out.len(), fed);
        let closes = events.iter().filter(|e| matches!(e, Event::Closed(_))).count();
        prop_assert!(closes <= 1, "{events:?}");
        if closes == 1 {
            prop_assert!(matches!(events.last(), Some(Event::Closed(_))), "{events:?}");
            prop_assert!(h.server.is_closed());
        }
        if lmtp {
            let ehlo_accepted = events.iter().any(|e| matches!(e, Event::Hello { verb: HelloVerb::Ehlo, .. }));
            prop_assert!(!ehlo_accepted);
        }
    }
}

#[test]
fn random_bytes_at_every_state_do_not_panic() {
    // Every byte value, after each step of a session, in a few configurations.
    let prefixes: [&[u8]; 6] = [
        b"",
        b"EHLO x.example\r\n",
        b"EHLO x.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n",
        b"EHLO x.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nBDAT 4\r\n",
        b"EHLO x.example\r\nAUTH LOGIN\r\n",
        b"EHLO x.example\r\nAUTH LOGIN\r\nYWxpY2U=\r\n",
    ];
    for kind in 0..8u8 {
        for prefix in prefixes {
            for byte in 0..=255u8 {
                let config = garbage_config(kind);
                let lmtp = config.mode == Mode::Lmtp;
                let mut h = Harness::with_policy(config, random_policy(vec![true, false], lmtp));
                h.advance(Duration::from_secs(1));
                h.send(prefix);
                h.send([byte, byte, b'\r', b'\n', byte]);
                h.send(b"\r\n.\r\n");
                assert_replies(&h.take_bytes());
            }
        }
    }
}
