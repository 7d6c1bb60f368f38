//! Review findings on the client, each reproduced: a server streaming an endless `CAPA`
//! listing must not make the client keep every line.

use mail_testkit::SimClock;
use pop3_proto::client::{Client, ClientConfig, Event, SessionError};

use crate::harness::credentials;

#[test]
fn an_endless_capa_listing_is_bounded() {
    let clock = SimClock::new();
    let mut client = Client::new(ClientConfig::pop3s(credentials()), clock.now());
    client.feed(clock.now(), b"+OK ready\r\n");
    while client.poll_transmit().is_some() {}
    client.feed(clock.now(), b"+OK capabilities\r\n");
    // 100,000 capability lines (about 1.2 MB) and no end marker: a hostile server can go on
    // for ever, so the client must give up at its limit rather than store them all.
    let mut closed = None;
    for i in 0..100_000u32 {
        client.feed(clock.now(), format!("X-CAP-{i}\r\n").as_bytes());
        while let Some(event) = client.poll_event() {
            if let Event::Closed(ending) = event {
                closed = Some(ending);
            }
        }
        if closed.is_some() {
            break;
        }
    }
    assert_eq!(
        closed,
        Some(Err(SessionError::TooManyCapabilities)),
        "the client kept {} capabilities",
        client.capabilities().list.len()
    );
}
