//! POP3 server sessions: `pop3_proto::server::Server` driven by an application whose
//! decisions come from the input (`sansmail_fuzz::pop3::Pop3ServerCase`), with the client's
//! bytes split into arbitrary reads. `tls_established` on `Event::StartTls`.
//!
//! Asserts: no panic; no NUL in the output; no event after `Closed`, exactly one `Closed`
//! after `handle_eof`, nothing after it; every decision the application makes is taken;
//! output at most linear in input; a read over `max_buffered_input` closes the session;
//! with every event answered the machine wants input, is closed, or runs a deadline; and the
//! same input fed whole gives the same events and output as fed in chunks, up to STLS
//! (where bytes in the same read are an injection).
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use pop3_proto::server::{Event, Server, ServerConfig, SessionError};
use sansmail_fuzz::check::{self, Lifecycle};
use sansmail_fuzz::pop3::{Pop3Application, Pop3ServerCase, response_lines};

#[derive(Default)]
struct Trace {
    events: Vec<Event>,
    out: Vec<u8>,
    /// Output length when each event was returned.
    out_len_at: Vec<usize>,
}

struct Run {
    server: Server,
    app: Pop3Application,
    lifecycle: Lifecycle,
    trace: Trace,
    now: Instant,
}

impl Run {
    fn transmit(&mut self) {
        while let Some(bytes) = self.server.poll_transmit() {
            response_lines(&bytes);
            self.trace.out.extend_from_slice(&bytes);
        }
    }

    fn drain(&mut self) {
        loop {
            self.transmit();
            while let Some(event) = self.server.poll_event() {
                let closed = self.lifecycle.observe(&self.server, &event);
                self.transmit();
                if let Event::StartTls = event {
                    self.server
                        .tls_established(self.now)
                        .expect("a hand-off is pending");
                } else {
                    let answer = self.app.answer(&mut self.server, &event);
                    assert!(answer.is_ok(), "decision refused: {answer:?} for {event:?}");
                }
                if closed {
                    assert!(self.server.accept().is_err(), "a decision after Closed");
                }
                self.trace.events.push(event);
                self.trace.out_len_at.push(self.trace.out.len());
                self.transmit();
            }
            // A held failed-login reply (zero delay) is due at once.
            match self.server.poll_timeout() {
                Some(due) if due <= self.now => {
                    self.server.handle_timeout(self.now);
                    if self.server.poll_timeout() == Some(due) && self.server.poll_event().is_none()
                    {
                        break;
                    }
                }
                _ => break,
            }
        }
        self.transmit();
        check::settled(&self.server);
    }
}

fn run(case: &Pop3ServerCase<'_>, config: &ServerConfig, reads: &[&[u8]]) -> Trace {
    let now = Instant::now();
    let total = case.input.0.len();
    let mut run = Run {
        server: Server::new(config.clone(), now),
        app: Pop3Application::new(case.decisions.clone(), case.setup),
        lifecycle: Lifecycle::default(),
        trace: Trace::default(),
        now,
    };
    run.drain();
    for (index, read) in reads.iter().enumerate() {
        let was_open = !run.server.is_closed();
        if index % 2 == 0 {
            let mut buf = bytes::BytesMut::from(*read);
            run.server.feed_buf(now, &mut buf);
            assert!(buf.is_empty());
        } else {
            run.server.feed(now, read);
        }
        if was_open && read.len() > config.max_buffered_input && !run.server.is_closed() {
            panic!("a read over max_buffered_input was kept");
        }
        run.drain();
        // Each message is at most the fixture's size, per command line of at least 4 octets.
        check::linear_output(run.trace.out.len(), total, 4096, 1024);
    }
    if case.timeout_at_end {
        run.server.handle_timeout(now + Duration::from_secs(3600));
        run.drain();
    }
    run.server.handle_eof();
    run.drain();
    run.lifecycle.ended(&mut run.server, now, b"NOOP\r\n");
    run.trace
}

fn is_tls_boundary(event: &Event) -> bool {
    matches!(
        event,
        Event::StartTls | Event::Closed(Err(SessionError::StartTlsInjection))
    )
}

fuzz_target!(|case: Pop3ServerCase<'_>| {
    let config = case.setup.config();
    let input = case.input.0;
    let chunked = run(&case, &config, &case.chunking.chunker().split(input));
    if input.len() > config.max_buffered_input {
        return;
    }
    let whole = run(&case, &config, &[input]);
    let boundary = |t: &Trace| t.events.iter().position(is_tls_boundary);
    match boundary(&whole).into_iter().chain(boundary(&chunked)).min() {
        None => {
            assert_eq!(whole.events, chunked.events, "chunking changed the events");
            assert_eq!(whole.out, chunked.out, "chunking changed the output");
        }
        Some(k) => {
            assert_eq!(whole.events[..k], chunked.events[..k], "events before STLS");
        }
    }
});
