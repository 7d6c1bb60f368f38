//! SMTP and LMTP server sessions: `smtp_proto::server::Server` driven by an application whose
//! decisions come from the input, with the client's bytes split into arbitrary reads.
//!
//! Input: a [`ServerCase`] (`sansmail_fuzz::server`): the configuration (a preset, settings
//! turned around, AUTH mechanisms, limits, bare CR/LF policies), the application's decision
//! to each event (accept, accept with its own reply or one reply per LMTP recipient, reject
//! permanently or temporarily), the chunking, whether a late deadline passes, then the
//! client's bytes. Every other read goes through `feed_buf`, the rest through `feed`. The
//! application calls `tls_established` on `Event::StartTls` and answers `Event::AuthStep`
//! with the fixtures' credential store (or a refusal).
//!
//! Asserts: no panic; every write is whole CRLF-terminated reply lines with a 3-digit code,
//! and multi-line replies keep their code; no event after `Event::Closed`, and exactly one
//! `Closed` once `handle_eof` was called; output grows at most linearly with input; body octets
//! never exceed input octets; a single read over `max_buffered_input` closes the session;
//! after the application answered every event the machine wants input or is closed; a
//! timeout due at the instant of the last read never closes the session; and the same input
//! fed whole gives the same events and replies as fed in chunks (up to STARTTLS, where
//! chunking is part of the protocol: bytes after STARTTLS in the same read are an injection,
//! bytes in a later read come after the handshake).
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use sansmail_fuzz::check::{self, Lifecycle};
use sansmail_fuzz::server::{Application, ServerCase};
use smtp_proto::server::{Event, Server, ServerConfig, SessionError};

/// What one run produced.
#[derive(Default)]
struct Trace {
    /// Events, with consecutive body chunks merged (their boundaries follow the reads).
    events: Vec<Event>,
    /// For each event, how much output had been written when it was returned.
    out_len_at: Vec<usize>,
    out: Vec<u8>,
}

impl Trace {
    fn push(&mut self, event: Event) {
        if let (Some(Event::BodyChunk(last)), Event::BodyChunk(more)) =
            (self.events.last_mut(), &event)
        {
            *last = [&last[..], more].concat().into();
            *self.out_len_at.last_mut().expect("one per event") = self.out.len();
            return;
        }
        self.events.push(event);
        self.out_len_at.push(self.out.len());
    }
}

struct Run {
    server: Server,
    app: Application,
    lifecycle: Lifecycle,
    trace: Trace,
    body_octets: usize,
}

impl Run {
    fn transmit(&mut self) {
        while let Some(bytes) = self.server.poll_transmit() {
            check::reply_lines(&bytes);
            self.trace.out.extend_from_slice(&bytes);
        }
    }

    /// Answers every event the machine has; returns when it needs input.
    fn drain(&mut self) {
        self.transmit();
        while let Some(event) = self.server.poll_event() {
            let closed = self.lifecycle.observe(&self.server, &event);
            self.transmit();
            if let Event::BodyChunk(chunk) = &event {
                self.body_octets += chunk.len();
            }
            let answer = self.app.answer(&mut self.server, &event);
            assert!(answer.is_ok(), "decision refused: {answer:?} for {event:?}");
            if closed {
                assert!(self.server.accept().is_err(), "a decision after Closed");
            }
            self.trace.push(event);
            self.transmit();
        }
        check::settled(&self.server);
    }
}

/// Runs a session over `reads`; returns what happened.
fn run(case: &ServerCase<'_>, config: &ServerConfig, reads: &[&[u8]]) -> Trace {
    let now = Instant::now();
    let total = case.input.0.len();
    let mut run = Run {
        server: Server::new(config.clone(), now),
        app: Application::new(case.decisions.clone(), config, now),
        lifecycle: Lifecycle::default(),
        trace: Trace::default(),
        body_octets: 0,
    };
    run.drain();
    for (index, read) in reads.iter().enumerate() {
        let was_open = !run.server.is_closed();
        // Every other read goes through `feed_buf` (the driver's zero-copy hand-over), so
        // the whole-against-chunked comparison also compares it with `feed`.
        if index % 2 == 0 {
            let mut buf = bytes::BytesMut::from(*read);
            run.server.feed_buf(now, &mut buf);
            assert!(buf.is_empty(), "feed_buf left bytes in the read buffer");
        } else {
            run.server.feed(now, read);
        }
        if was_open && read.len() > config.max_buffered_input {
            assert!(
                run.server.is_closed(),
                "a read over max_buffered_input was kept"
            );
        }
        run.drain();
        // The driver handles a timeout that is due (after a decision it is due at once, to
        // restart the idle time). At the instant of the last read it never times out.
        if run.server.poll_timeout().is_some_and(|due| due <= now) {
            run.server.handle_timeout(now);
            run.drain();
            assert!(
                !matches!(
                    run.trace.events.last(),
                    Some(Event::Closed(Err(SessionError::Timeout)))
                ),
                "timed out at the instant of the last read"
            );
        }
        check::linear_output(run.trace.out.len(), total, 1024, 64);
    }
    if case.timeout_at_end {
        run.server.handle_timeout(now + Duration::from_secs(3600));
        run.drain();
    }
    run.server.handle_eof();
    run.drain();
    // A reply held back (a failed AUTH's delay) goes out, and the session ends, when its
    // deadline passes: the driver keeps waiting on `poll_timeout` after the end of input.
    let mut later = now;
    while !run.server.is_closed() {
        let Some(due) = run.server.poll_timeout() else {
            break;
        };
        later = later.max(due);
        run.server.handle_timeout(later);
        run.drain();
    }
    run.lifecycle.ended(&mut run.server, now, b"NOOP\r\n");
    // Normalizing a bare CR or LF to CRLF (DATA, and BDAT text bodies) adds an octet per
    // octet at most.
    assert!(run.body_octets <= 2 * total, "more body than twice the input");
    check::linear_output(run.trace.out.len(), total, 1024, 64);
    run.trace
}

fn is_tls_boundary(event: &Event) -> bool {
    matches!(
        event,
        Event::StartTls | Event::Closed(Err(SessionError::StartTlsInjection))
    )
}

/// Output up to `len`, without its last line (the reply to STARTTLS).
fn before_last_line(out: &[u8], len: usize) -> &[u8] {
    let out = &out[..len];
    let body = out.strip_suffix(b"\r\n").unwrap_or(out);
    match body.iter().rposition(|&b| b == b'\n') {
        Some(i) => &out[..=i],
        None => &[],
    }
}

fuzz_target!(|case: ServerCase<'_>| {
    let config = case.setup.config();
    let input = case.input.0;
    let chunked = run(&case, &config, &case.chunking.chunker().split(input));
    if input.len() > config.max_buffered_input {
        // Fed whole, the input itself is over the limit, and is refused before any of it is
        // processed: the one decision that depends on how much arrives at once
        // (docs/smtp.md, Robustness). In chunks the session never holds more than the whole
        // input would bring, so below the limit every cut must agree.
        return;
    }
    let whole = run(&case, &config, &[input]);

    let boundary = |t: &Trace| t.events.iter().position(is_tls_boundary);
    match boundary(&whole).into_iter().chain(boundary(&chunked)).min() {
        None => {
            assert_eq!(whole.events, chunked.events, "chunking changed the events");
            assert_eq!(whole.out, chunked.out, "chunking changed the replies");
        }
        Some(k) => {
            assert_eq!(
                whole.events[..k],
                chunked.events[..k],
                "chunking changed the events before STARTTLS"
            );
            assert!(
                whole.events.get(k).is_some_and(is_tls_boundary)
                    && chunked.events.get(k).is_some_and(is_tls_boundary),
                "STARTTLS answered differently: {:?} vs {:?}",
                whole.events.get(k),
                chunked.events.get(k)
            );
            assert_eq!(
                before_last_line(&whole.out, whole.out_len_at[k]),
                before_last_line(&chunked.out, chunked.out_len_at[k]),
                "chunking changed the replies before STARTTLS"
            );
        }
    }
});
