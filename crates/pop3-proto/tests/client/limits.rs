//! The client's limits, breached: a response line over 512 octets, a server silent past the
//! response timeout, a server that closes; and bounded memory for a listing.

use std::time::Duration;

use mail_testkit::SimClock;
use pop3_proto::client::{Client, ClientConfig, Event, SessionError};

use crate::harness::credentials;

fn events(client: &mut Client) -> Vec<Event> {
    std::iter::from_fn(|| client.poll_event()).collect()
}

fn logged_in(clock: &SimClock) -> Client {
    let mut client = Client::new(ClientConfig::pop3s(credentials()), clock.now());
    for read in [
        &b"+OK ready\r\n"[..],
        b"-ERR\r\n",
        b"+OK\r\n",
        b"+OK in\r\n",
    ] {
        while client.poll_transmit().is_some() {}
        client.feed(clock.now(), read);
    }
    assert_eq!(events(&mut client).last(), Some(&Event::LoggedIn));
    client
}

#[test]
fn a_response_line_over_512_octets_ends_the_session() {
    let clock = SimClock::new();
    let mut client = logged_in(&clock);
    client.noop(clock.now()).unwrap();
    while client.poll_transmit().is_some() {}
    let mut line = b"+OK ".to_vec();
    line.resize(511, b'x');
    line.extend_from_slice(b"\r\n");
    client.feed(clock.now(), &line[..]);
    assert_eq!(
        events(&mut client).last(),
        Some(&Event::Closed(Err(SessionError::LineTooLong)))
    );
    // 510 octets and CRLF fit.
    let mut client = logged_in(&clock);
    client.noop(clock.now()).unwrap();
    while client.poll_transmit().is_some() {}
    let mut fits = b"+OK ".to_vec();
    fits.resize(510, b'x');
    fits.extend_from_slice(b"\r\n");
    client.feed(clock.now(), &fits[..]);
    assert_eq!(events(&mut client), [Event::Done { command: "NOOP" }]);
}

#[test]
fn a_silent_server_times_out() {
    let mut clock = SimClock::new();
    let mut client = logged_in(&clock);
    // Nothing awaited: no deadline.
    assert_eq!(client.poll_timeout(), None);
    client.stat(clock.now()).unwrap();
    let due = client.poll_timeout().unwrap();
    assert_eq!(due, clock.now() + Duration::from_secs(600));
    clock.advance(Duration::from_secs(599));
    client.handle_timeout(clock.now());
    assert!(!client.is_closed());
    clock.advance(Duration::from_secs(1));
    client.handle_timeout(clock.now());
    assert_eq!(
        events(&mut client),
        [Event::Closed(Err(SessionError::Timeout))]
    );
}

#[test]
fn a_closing_server_ends_the_session() {
    let clock = SimClock::new();
    let mut client = logged_in(&clock);
    client.handle_eof();
    assert_eq!(
        events(&mut client),
        [Event::Closed(Err(SessionError::PeerClosed))]
    );
    assert!(client.stat(clock.now()).is_err());
}

#[test]
fn a_refused_greeting_ends_the_session() {
    let clock = SimClock::new();
    let mut client = Client::new(ClientConfig::pop3s(credentials()), clock.now());
    client.feed(clock.now(), b"-ERR [SYS/TEMP] busy\r\n");
    assert!(matches!(
        events(&mut client).last(),
        Some(Event::Closed(Err(SessionError::Refused(_))))
    ));
}

#[test]
fn a_listing_streams_entry_by_entry() {
    let clock = SimClock::new();
    let mut client = logged_in(&clock);
    client.list(clock.now(), None).unwrap();
    while client.poll_transmit().is_some() {}
    client.feed(clock.now(), b"+OK\r\n");
    for n in 1..=10_000u32 {
        client.feed(clock.now(), format!("{n} 100\r\n").as_bytes());
        // Each entry comes out as it arrives: nothing accumulates in the machine.
        assert_eq!(events(&mut client).len(), 1);
    }
    client.feed(clock.now(), b".\r\n");
    assert_eq!(events(&mut client), [Event::ListingEnd]);
}

#[test]
fn a_server_dribbling_a_line_still_times_out() {
    let mut clock = SimClock::new();
    let mut client = logged_in(&clock);
    client.stat(clock.now()).unwrap();
    while client.poll_transmit().is_some() {}
    for _ in 0..9 {
        clock.advance(Duration::from_secs(60));
        client.feed(clock.now(), b"+");
        client.handle_timeout(clock.now());
    }
    clock.advance(Duration::from_secs(59));
    client.handle_timeout(clock.now());
    assert!(!client.is_closed());
    clock.advance(Duration::from_secs(1));
    client.handle_timeout(clock.now());
    assert_eq!(
        events(&mut client),
        [Event::Closed(Err(SessionError::Timeout))]
    );
}
