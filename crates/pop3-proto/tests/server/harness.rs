//! What the server tests share: a configuration, a standard maildrop, and a replay that
//! answers the machine's decisions and feeds the transcript in every chunking.

use std::time::Duration;

use mail_testkit::transcript::{self, Transcript};
use mail_testkit::users::{Users, server_nonce};
use mail_testkit::{Chunking, Side, SimClock};
use pop3_proto::server::{Event, MessageInfo, Server, ServerConfig};
use pop3_proto::{RespCode, Uid};

/// The messages of the standard maildrop.
pub(crate) const MESSAGES: [&[u8]; 2] = [
    b"Subject: one\r\n\r\nfirst\r\n",
    b"Subject: two\r\n\r\n.dot\r\nsecond\r\nthird\r\n",
];

/// A plaintext server that accepts credentials (no TLS in these transcripts) and answers a
/// failed login at once.
pub(crate) fn config() -> ServerConfig {
    let mut config = ServerConfig::default();
    config.allow_plaintext_auth = true;
    config.auth_failure_delay = Duration::ZERO;
    config
}

pub(crate) fn maildrop() -> Vec<MessageInfo> {
    MESSAGES
        .iter()
        .enumerate()
        .map(|(i, m)| MessageInfo::new(m.len() as u64, Uid::new(format!("uid-{}", i + 1)).unwrap()))
        .collect()
}

/// Answers every decision the standard way: `alice`/`secret` logs in, `locked` is in use,
/// messages stream whole, removal succeeds. Returns the events seen.
pub(crate) fn answer(server: &mut Server, event: &Event) {
    let result = match event {
        Event::AuthStep { .. } => server.auth_step(&Users::standard(), server_nonce()),
        Event::OpenMaildrop { user } if user == "admin" => {
            server.reject(Some(RespCode::InUse), "maildrop locked")
        }
        Event::OpenMaildrop { .. } => server.open_maildrop(maildrop()),
        Event::Retrieve { index, .. } => {
            server.send_message_data(MESSAGES[*index]).unwrap();
            server.end_message()
        }
        Event::Update { .. } => server.accept(),
        _ => Ok(()),
    };
    result.unwrap();
}

/// Replays `script` against a server with `config` in every standard chunking and returns
/// the events of the last run (all runs must agree).
pub(crate) fn replay(config: ServerConfig, script: &str) -> Vec<Event> {
    let transcript = Transcript::new(script);
    let mut last: Option<Vec<Event>> = None;
    for chunking in Chunking::standard(15) {
        let clock = SimClock::new();
        let mut server = Server::new(config.clone(), clock.now());
        let mut events = Vec::new();
        transcript::replay(
            &mut server,
            Side::Server,
            &transcript,
            &clock,
            chunking.clone(),
            |server, event, _| {
                answer(server, &event);
                events.push(event);
            },
        );
        if let Some(last) = &last {
            assert_eq!(last, &events, "events differ under {chunking:?}");
        }
        last = Some(events);
    }
    last.unwrap()
}
