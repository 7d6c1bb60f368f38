//! Chunk-split invariance as a property: a whole pipelined session, cut at arbitrary points,
//! gives the same responses and events as fed in one read.

use mail_testkit::SimClock;
use mail_testkit::chunk::{self, strategy};
use pop3_proto::server::{Event, Server};
use proptest::prelude::*;

use crate::harness::{answer, config};

const SESSION: &[u8] = b"CAPA\r\nUSER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nUIDL 2\r\n\
TOP 2 1\r\nRETR 1\r\nDELE 1\r\nNOOP\r\nRSET\r\nDELE 2\r\nBOGUS\r\nQUIT\r\n";

fn run(reads: &[&[u8]]) -> (Vec<u8>, Vec<Event>) {
    let clock = SimClock::new();
    let mut server = Server::new(config(), clock.now());
    let (mut out, mut events) = (Vec::new(), Vec::new());
    for read in reads {
        server.feed(clock.now(), read);
        while let Some(event) = server.poll_event() {
            answer(&mut server, &event);
            events.push(event);
        }
        while let Some(bytes) = server.poll_transmit() {
            out.extend_from_slice(&bytes);
        }
    }
    (out, events)
}

proptest! {
    #[test]
    fn any_split_gives_the_same_session(cuts in strategy::cuts(SESSION.len())) {
        let whole = run(&[SESSION]);
        prop_assert!(whole.1.last() == Some(&Event::Closed(Ok(()))));
        let split = run(&chunk::split_at(SESSION, &cuts));
        prop_assert_eq!(String::from_utf8_lossy(&split.0), String::from_utf8_lossy(&whole.0));
        prop_assert_eq!(split.1, whole.1);
    }
}
