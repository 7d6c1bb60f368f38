//! POP3 client sessions: `pop3_proto::client::Client` fed a server's flights (separated by
//! `0xFF`) cut into arbitrary reads, with an application that runs every transaction command
//! once logged in (`sansmail_fuzz::pop3::answer_client`).
//!
//! Asserts: no panic; every write is whole CRLF lines; calls the application makes at the
//! right time never fail; no event after `Closed`, exactly one `Closed` after `handle_eof`,
//! nothing after it; output at most linear in input; message content never exceeds input;
//! and with the application reacting after each flight, chunking inside a flight changes
//! neither events (message chunks joined) nor bytes written.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use pop3_proto::client::{Client, Event};
use sansmail_fuzz::check::{self, Lifecycle};
use sansmail_fuzz::chunk;
use sansmail_fuzz::pop3::{Pop3ClientCase, answer_client, command_lines};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Eager,
    PerFlight,
}

struct Run {
    client: Client,
    now: Instant,
    lifecycle: Lifecycle,
    events: Vec<Event>,
    wire: Vec<u8>,
    content: usize,
}

impl Run {
    fn react_all(&mut self) {
        self.write();
        while let Some(event) = self.client.poll_event() {
            let closed = self.lifecycle.observe(&self.client, &event);
            answer_client(&mut self.client, &event, self.now)
                .unwrap_or_else(|e| panic!("a call at the right time failed: {e} ({event:?})"));
            if closed {
                assert!(self.client.noop(self.now).is_err());
            }
            if let Event::MessageChunk(chunk) = &event {
                self.content += chunk.len();
                if let Some(Event::MessageChunk(last)) = self.events.last_mut() {
                    *last = [&last[..], &chunk[..]].concat().into();
                    continue;
                }
            }
            self.events.push(event);
            self.write();
        }
        self.write();
    }

    fn write(&mut self) {
        let mut written = Vec::new();
        while let Some(bytes) = self.client.poll_transmit() {
            written.extend_from_slice(&bytes);
        }
        command_lines(&written);
        self.wire.extend_from_slice(&written);
    }
}

fn run(case: &Pop3ClientCase<'_>, flights: &[Vec<&[u8]>], mode: Mode) -> (Vec<Event>, Vec<u8>) {
    let now = Instant::now();
    let total = case.flights.0.len();
    let mut run = Run {
        client: Client::new(case.setup.config(), now),
        now,
        lifecycle: Lifecycle::default(),
        events: Vec::new(),
        wire: Vec::new(),
        content: 0,
    };
    run.react_all();
    for flight in flights {
        for read in flight {
            run.client.feed(now, read);
            if mode == Mode::Eager {
                run.react_all();
            }
        }
        run.react_all();
        check::linear_output(run.wire.len(), total, 4096, 64);
    }
    run.client.handle_eof();
    run.react_all();
    run.lifecycle.ended(&mut run.client, now, b"+OK\r\n");
    assert!(run.content <= total, "more message content than input");
    (run.events, run.wire)
}

fuzz_target!(|case: Pop3ClientCase<'_>| {
    let whole: Vec<Vec<&[u8]>> = chunk::at_separators(case.flights.0)
        .map(|flight| vec![flight])
        .collect();
    let mut chunker = case.chunking.chunker();
    let cut: Vec<Vec<&[u8]>> = chunk::at_separators(case.flights.0)
        .map(|flight| chunker.split(flight))
        .collect();
    let reference = run(&case, &whole, Mode::PerFlight);
    let split = run(&case, &cut, Mode::PerFlight);
    assert_eq!(reference.0, split.0, "chunking changed the events");
    assert_eq!(reference.1, split.1, "chunking changed the bytes written");
    run(&case, &cut, Mode::Eager);
});
