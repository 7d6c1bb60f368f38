//! SMTP and LMTP client sessions: `smtp_proto::client::Client` fed arbitrary server bytes in
//! arbitrary chunks, driven by an application that sends one or two messages and quits.
//!
//! Input: a [`ClientCase`] (`sansmail_fuzz::client`): the configuration (a preset, TLS policy,
//! the fixtures' credentials, PIPELINING, CHUNKING, reply limits) and what the application
//! sends (one or two messages, the body, a declared size), the chunking, then the server's
//! bytes as "flights" separated by 0xFF (what the server sends before it waits for the client
//! again). The application (`sansmail_fuzz::client::Application`) sends a message on
//! `Event::Ready` (and quits after the last), streams the body on `Event::BodyReady` while
//! `can_send_body()`, and calls `tls_established` on `Event::StartTls`.
//!
//! Asserts: no panic; the client writes only CRLF-terminated command lines (or SASL response
//! lines, or the `.` that ends a pipelined DATA after a failed transaction), except the body:
//! a DATA body has CRLF line endings only and one end marker, at its end; a BDAT body is
//! `BDAT n` and exactly n octets; API calls the application makes at the right time never
//! fail except for envelope checks; no event after `Event::Closed`, exactly one `Closed` once
//! `handle_eof` was called; output grows at most linearly with input; and chunking inside a
//! flight changes neither events nor bytes when the application reacts after each flight.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use sansmail_fuzz::check::{self, Lifecycle};
use sansmail_fuzz::chunk;
use sansmail_fuzz::client::{Application, ClientCase, Transfer, Written};
use smtp_proto::client::{Client, Event, SessionError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// React after every read.
    Eager,
    /// React only after a whole flight has been read.
    PerFlight,
}

struct Run {
    client: Client,
    app: Application,
    now: Instant,
    lifecycle: Lifecycle,
    events: Vec<Event>,
    wire: Vec<u8>,
    /// What DATA wrote so far of the current body.
    data_body: Vec<u8>,
}

impl Run {
    /// Collects what the client wrote while the application answered an event, and checks it.
    fn written(&mut self, what: Written) {
        let mut written = Vec::new();
        while let Some(bytes) = self.client.poll_transmit() {
            if what == Written::Commands {
                check::command_lines(&bytes);
            }
            written.extend_from_slice(&bytes);
        }
        match what {
            Written::Commands => {}
            Written::Body {
                transfer: Transfer::Bdat,
                ..
            } => check::bdat_chunks(&written),
            Written::Body {
                transfer: Transfer::Data,
                starts,
                complete,
            } => {
                if starts {
                    self.data_body.clear();
                }
                self.data_body.extend_from_slice(&written);
                if complete {
                    check::data_body(&self.data_body);
                    self.data_body.clear();
                }
            }
        }
        self.wire.extend_from_slice(&written);
    }

    fn react_all(&mut self) {
        self.written(Written::Commands);
        while let Some(event) = self.client.poll_event() {
            let closed = self.lifecycle.observe(&self.client, &event);
            let what = self
                .app
                .answer(&mut self.client, &event)
                .unwrap_or_else(|e| panic!("a call at the right time failed: {e} ({event:?})"));
            if closed {
                assert!(self.client.send_body(self.now, b"x").is_err());
            }
            self.written(what);
            self.events.push(event);
        }
    }
}

/// Runs a session over `flights`, each already cut into reads.
fn run(case: &ClientCase<'_>, flights: &[Vec<&[u8]>], mode: Mode) -> (Vec<Event>, Vec<u8>) {
    let now = Instant::now();
    let total = case.flights.0.len();
    let mut run = Run {
        client: Client::new(case.setup.config(), now),
        app: Application::new(case.setup.clone(), now),
        now,
        lifecycle: Lifecycle::default(),
        events: Vec::new(),
        wire: Vec::new(),
        data_body: Vec::new(),
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
        check::linear_output(run.wire.len(), total, 8192 + run.app.body_octets(), 128);
    }
    run.client.handle_eof();
    run.react_all();
    run.lifecycle.ended(&mut run.client, now, b"250 OK\r\n");
    (run.events, run.wire)
}

/// `StartTls` then the injection close is the same as the injection close alone: whether
/// the bytes after the `220` came in the same read decides only which call noticed them.
fn normalise(mut events: Vec<Event>) -> Vec<Event> {
    let injection = Event::Closed(Err(SessionError::StartTlsInjection));
    if events.ends_with(&[Event::StartTls, injection]) {
        events.remove(events.len() - 2);
    }
    events
}

fuzz_target!(|case: ClientCase<'_>| {
    let whole: Vec<Vec<&[u8]>> = chunk::at_separators(case.flights.0)
        .map(|flight| vec![flight])
        .collect();
    let mut chunker = case.chunking.chunker();
    let cut: Vec<Vec<&[u8]>> = chunk::at_separators(case.flights.0)
        .map(|flight| chunker.split(flight))
        .collect();

    let reference = run(&case, &whole, Mode::PerFlight);
    let split = run(&case, &cut, Mode::PerFlight);
    assert_eq!(
        normalise(reference.0),
        normalise(split.0),
        "chunking changed the events"
    );
    assert_eq!(reference.1, split.1, "chunking changed the bytes written");
    run(&case, &cut, Mode::Eager);
});
