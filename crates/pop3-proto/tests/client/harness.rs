//! What the client tests share.

use std::time::Instant;

use mail_testkit::transcript::{self, Transcript};
use mail_testkit::{Chunking, Side, SimClock};
use mail_wire::Secret;
use pop3_proto::client::{Client, ClientConfig, Credentials, Event};

pub(crate) fn credentials() -> Credentials {
    Credentials::password("alice", Secret::new("secret".into()))
}

/// Replays `script` in every chunking; `on_event` may send commands. Returns the events of
/// the last run (all runs must agree).
pub(crate) fn replay(
    config: ClientConfig,
    script: &str,
    on_event: impl Fn(&mut Client, &Event, Instant) + Copy,
) -> Vec<Event> {
    let transcript = Transcript::new(script);
    let mut last: Option<Vec<Event>> = None;
    for chunking in Chunking::standard(21) {
        let clock = SimClock::new();
        let mut client = Client::new(config.clone(), clock.now());
        let mut events = Vec::new();
        transcript::replay(
            &mut client,
            Side::Client,
            &transcript,
            &clock,
            chunking.clone(),
            |client, event, now| {
                on_event(client, &event, now);
                events.push(event);
            },
        );
        // Chunks of a message may be cut differently: compare them joined.
        let events = join_chunks(events);
        if let Some(last) = &last {
            assert_eq!(last, &events, "events differ under {chunking:?}");
        }
        last = Some(events);
    }
    last.unwrap()
}

fn join_chunks(events: Vec<Event>) -> Vec<Event> {
    let mut joined: Vec<Event> = Vec::new();
    for event in events {
        if let (Event::MessageChunk(chunk), Some(Event::MessageChunk(prev))) =
            (&event, joined.last_mut())
        {
            let mut both = prev.to_vec();
            both.extend_from_slice(chunk);
            *prev = both.into();
            continue;
        }
        joined.push(event);
    }
    joined
}
