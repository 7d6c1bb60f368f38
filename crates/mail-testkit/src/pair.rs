//! [`Pair`]: a client machine against a server machine, in memory.
//!
//! The pair plays the part of two drivers and the network between them: it moves what one
//! machine writes to the other in reads cut by a [`Chunking`], hands each machine's events to
//! a handler closure (or keeps them for the test to take), handles deadlines on a
//! [`SimClock`], closes the connection when a machine is done, and does the STARTTLS
//! hand-off with an in-memory "handshake". It is generic over
//! [`Session`], so it runs SMTP today and POP3 or IMAP as they come; what is protocol
//! about a test (answering a server's decisions, giving the client its messages) happens in
//! the handlers or through [`Pair::client_mut`] and [`Pair::server_mut`].
//!
//! # One step
//!
//! [`Pair::step`] does, in order: each machine's events go to its handler and into its log
//! (a [`StartTls`](EventKind::StartTls) event flushes that machine's output and starts its
//! hand-off; a [`Closed`](EventKind::Closed) event records its ending); each machine's output
//! goes onto the wire toward the other; due deadlines are handled; each machine gets one read
//! from the wire toward it, if it [wants input](Session::wants_input) and is not in a
//! hand-off; a machine whose peer has closed gets [`handle_eof`](Session::handle_eof) once it
//! has read everything on the wire and its events were polled since (a machine that stops
//! reading for a decision learns of the close only after it is answered); and when both machines are in the hand-off, the
//! handshake completes ([`Session::tls_established`] on the server, then the client) unless
//! plaintext is still waiting on a wire: then that plaintext is fed to the machine it was
//! sent to, as a real driver would have read it before the handshake (a response or command
//! injection), and no handshake happens. [`Pair::drive`] steps until nothing moves.
//!
//! The wire toward a machine that has closed drops what is on it, as a closed socket does.
//!
//! # Example
//!
//! A toy protocol, so that the example stands alone: the client sends `PING` and closes on
//! `PONG`; the server answers each `PING` with `PONG`. Real suites pass `smtp_proto`'s
//! `Client` and `Server`.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use mail_testkit::{Chunking, Pair, Side, SimClock};
//! # use bytes::Bytes;
//! # use mail_wire::session::{EventKind, Session};
//! #
//! # #[derive(Debug, Clone, PartialEq)]
//! # enum Ev { Line(Vec<u8>), Closed(Result<(), std::fmt::Error>) }
//! # #[derive(Debug)]
//! # struct Toy { client: bool, input: Vec<u8>, out: Vec<u8>, events: Vec<Ev>, closed: bool,
//! #              deadline: Option<Instant> }
//! # impl Toy {
//! #     fn new(client: bool, now: Instant) -> Self {
//! #         let out = if client { b"PING\r\n".to_vec() } else { Vec::new() };
//! #         Toy { client, input: Vec::new(), out, events: Vec::new(), closed: false,
//! #               deadline: Some(now + Duration::from_secs(30)) }
//! #     }
//! #     fn close(&mut self, ending: Result<(), std::fmt::Error>) {
//! #         self.closed = true; self.deadline = None; self.events.push(Ev::Closed(ending));
//! #     }
//! # }
//! # impl Session for Toy {
//! #     type Event = Ev;
//! #     type Error = std::fmt::Error;
//! #     type Misuse = std::fmt::Error;
//! #     fn feed(&mut self, _: Instant, bytes: &[u8]) {
//! #         self.input.extend_from_slice(bytes);
//! #         while let Some(end) = self.input.windows(2).position(|w| w == b"\r\n") {
//! #             let line: Vec<u8> = self.input.drain(..end + 2).collect();
//! #             self.events.push(Ev::Line(line[..end].to_vec()));
//! #             if self.client { self.close(Ok(())) } else { self.out.extend_from_slice(b"PONG\r\n") }
//! #         }
//! #     }
//! #     fn handle_eof(&mut self) { if !self.closed { self.close(Err(std::fmt::Error)) } }
//! #     fn poll_transmit(&mut self) -> Option<Bytes> {
//! #         (!self.out.is_empty()).then(|| Bytes::from(std::mem::take(&mut self.out)))
//! #     }
//! #     fn poll_event(&mut self) -> Option<Ev> {
//! #         (!self.events.is_empty()).then(|| self.events.remove(0))
//! #     }
//! #     fn poll_timeout(&self) -> Option<Instant> { self.deadline }
//! #     fn handle_timeout(&mut self, now: Instant) {
//! #         if self.deadline.is_some_and(|d| d <= now) { self.close(Err(std::fmt::Error)) }
//! #     }
//! #     fn wants_input(&self) -> bool { !self.closed }
//! #     fn is_tls(&self) -> bool { false }
//! #     fn tls_established(&mut self, _: Instant) -> Result<(), std::fmt::Error> { Err(std::fmt::Error) }
//! #     fn is_closed(&self) -> bool { self.closed }
//! #     fn classify(event: &Ev) -> EventKind<'_, std::fmt::Error> {
//! #         match event { Ev::Closed(e) => EventKind::Closed(e), Ev::Line(_) => EventKind::Other }
//! #     }
//! # }
//! for chunking in Chunking::standard(7) {
//!     let clock = SimClock::new();
//!     let (client, server) = (Toy::new(true, clock.now()), Toy::new(false, clock.now()));
//!     let mut pair = Pair::new(client, server, clock).with_chunking(chunking);
//!     pair.drive();
//!     assert_eq!(pair.client_events(), [Ev::Line(b"PONG".to_vec()), Ev::Closed(Ok(()))]);
//!     assert_eq!(pair.written(Side::Client), b"PING\r\n");
//!     assert_eq!(pair.client_ending(), Some(&Ok(())));
//!     // The client closed the connection: the server saw the end of the stream.
//!     assert_eq!(pair.server_ending(), Some(&Err(std::fmt::Error)));
//! }
//!
//! // Deadlines run on the simulated clock.
//! let clock = SimClock::new();
//! let (client, server) = (Toy::new(true, clock.now()), Toy::new(false, clock.now()));
//! let mut pair = Pair::new(client, server, clock);
//! pair.set_chunking(Side::Server, Chunking::Whole);
//! pair.server_mut().deadline = Some(pair.now() + Duration::from_secs(1));
//! pair.client_mut().out.clear(); // the client says nothing this time
//! pair.drive();
//! assert_eq!(pair.server_ending(), None);
//! assert_eq!(pair.advance_to_next_timeout(), Some(Duration::from_secs(1)));
//! assert_eq!(pair.server_ending(), Some(&Err(std::fmt::Error)));
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use mail_wire::session::{Ending, EventKind, Session};

use crate::Side;
use crate::chunk::{Chunker, Chunking};
use crate::clock::SimClock;

/// What a handler closure gets: the machine (to answer through its API), the event, and the
/// simulated time.
pub type Handler<M> = Box<dyn FnMut(&mut M, &<M as Session>::Event, Instant)>;

/// Steps [`Pair::drive`] takes before it gives up on machines that never settle.
pub const DEFAULT_MAX_STEPS: usize = 1_000_000;

/// The bytes on their way toward one machine.
#[derive(Debug)]
struct Wire {
    bytes: VecDeque<u8>,
    chunker: Chunker,
    /// Deliver through `feed_buf` instead of `feed`.
    feed_buf: bool,
    /// The writer closed the connection: after the bytes, the reader gets EOF.
    shut: bool,
    eof_delivered: bool,
}

impl Wire {
    fn new(chunking: Chunking) -> Self {
        Wire {
            bytes: VecDeque::new(),
            chunker: Chunker::new(chunking),
            feed_buf: false,
            shut: false,
            eof_delivered: false,
        }
    }
}

/// One machine with what its driver keeps about it.
struct End<M: Session> {
    machine: M,
    events: Vec<M::Event>,
    handler: Option<Handler<M>>,
    written: Vec<u8>,
    writes: Vec<Vec<u8>>,
    reads: usize,
    /// [`EventKind::StartTls`] seen, [`Session::tls_established`] not called yet.
    handoff: bool,
    ending: Option<Ending<M::Error>>,
    /// Fed since its events were last polled: a driver polls (and so lets the machine
    /// process what it read) before it reads again, end of stream included.
    fed_since_pump: bool,
}

impl<M: Session> End<M> {
    fn new(machine: M) -> Self {
        End {
            machine,
            events: Vec::new(),
            handler: None,
            written: Vec::new(),
            writes: Vec::new(),
            reads: 0,
            handoff: false,
            ending: None,
            fed_since_pump: false,
        }
    }

    /// Hands every queued event to the handler and the log. Returns whether there was one
    /// and whether one was the STARTTLS hand-off.
    fn pump(&mut self, now: Instant) -> (bool, bool) {
        let (mut any, mut start_tls) = (false, false);
        self.fed_since_pump = false;
        while let Some(event) = self.machine.poll_event() {
            any = true;
            if let Some(handler) = self.handler.as_mut() {
                handler(&mut self.machine, &event, now);
            }
            match M::classify(&event) {
                EventKind::StartTls => {
                    self.handoff = true;
                    start_tls = true;
                }
                EventKind::Closed(ending) => {
                    if self.ending.is_none() {
                        self.ending = Some(ending.clone());
                    }
                }
                EventKind::Other => {}
            }
            self.events.push(event);
        }
        (any, start_tls)
    }

    /// Moves what the machine wrote onto `wire`; marks the wire shut once the machine has
    /// closed.
    fn collect(&mut self, wire: &mut Wire) -> bool {
        let mut write = Vec::new();
        while let Some(bytes) = self.machine.poll_transmit() {
            write.extend_from_slice(&bytes);
        }
        // After its driver closed the connection, nothing more reaches the peer.
        let wrote = !write.is_empty() && !wire.shut;
        if wrote {
            wire.bytes.extend(&write);
            self.written.extend_from_slice(&write);
            self.writes.push(write);
        }
        let shut = self.machine.is_closed() && !wire.shut;
        if shut {
            wire.shut = true;
        }
        wrote || shut
    }

    fn timeout(&mut self, now: Instant) -> bool {
        if self.machine.is_closed() {
            return false;
        }
        match self.machine.poll_timeout() {
            Some(due) if due <= now => {
                self.machine.handle_timeout(now);
                self.machine.poll_timeout() != Some(due)
            }
            _ => false,
        }
    }

    fn feed(&mut self, wire: &mut Wire, len: usize, now: Instant) {
        let bytes: Vec<u8> = wire.bytes.drain(..len).collect();
        self.reads += 1;
        self.fed_since_pump = true;
        if wire.feed_buf {
            let mut buf = BytesMut::from(&bytes[..]);
            self.machine.feed_buf(now, &mut buf);
            assert!(buf.is_empty(), "feed_buf must leave the read buffer empty");
        } else {
            self.machine.feed(now, &bytes);
        }
    }

    /// One read from `wire`, if the machine takes input; drops the wire's bytes once it has
    /// closed.
    fn deliver(&mut self, wire: &mut Wire, now: Instant) -> bool {
        if wire.bytes.is_empty() {
            return false;
        }
        if self.machine.is_closed() {
            wire.bytes.clear();
            return true;
        }
        if self.handoff || !self.machine.wants_input() {
            return false;
        }
        let len = wire.chunker.next_len(wire.bytes.len());
        self.feed(wire, len, now);
        true
    }

    fn eof(&mut self, wire: &mut Wire) -> bool {
        if !wire.shut || !wire.bytes.is_empty() || wire.eof_delivered || self.fed_since_pump {
            return false;
        }
        if self.machine.is_closed() {
            wire.eof_delivered = true;
            return false;
        }
        // A real driver reads, and so sees the end of the stream, only while the machine
        // takes input (or during a TLS hand-off, where any read is the peer's business): a
        // machine waiting for a decision learns of the close once the decision is answered.
        if !self.handoff && !self.machine.wants_input() {
            return false;
        }
        wire.eof_delivered = true;
        self.machine.handle_eof();
        true
    }
}

/// A client machine and a server machine connected in memory. See the [module docs](self).
pub struct Pair<C: Session, S: Session> {
    clock: SimClock,
    client: End<C>,
    server: End<S>,
    to_client: Wire,
    to_server: Wire,
    /// Plaintext to put on a wire at the next STARTTLS hand-off: (toward, bytes).
    on_start_tls: Vec<(Side, Vec<u8>)>,
    handshakes: usize,
    max_steps: usize,
}

impl<C, S> fmt::Debug for Pair<C, S>
where
    C: Session + fmt::Debug,
    S: Session + fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pair")
            .field("now", &self.clock.elapsed())
            .field("client", &self.client.machine)
            .field("server", &self.server.machine)
            .field("to_client", &self.to_client)
            .field("to_server", &self.to_server)
            .field("handshakes", &self.handshakes)
            .finish_non_exhaustive()
    }
}

impl<C: Session, S: Session> Pair<C, S> {
    /// Connects `client` and `server`, both created at `clock.now()`. Nothing runs until
    /// [`drive`](Pair::drive) or [`step`](Pair::step). Reads are whole (everything on the
    /// wire at once) until [`with_chunking`](Pair::with_chunking) says otherwise.
    pub fn new(client: C, server: S, clock: SimClock) -> Self {
        Pair {
            clock,
            client: End::new(client),
            server: End::new(server),
            to_client: Wire::new(Chunking::Whole),
            to_server: Wire::new(Chunking::Whole),
            on_start_tls: Vec::new(),
            handshakes: 0,
            max_steps: DEFAULT_MAX_STEPS,
        }
    }

    /// Cuts the reads of both machines by `chunking`. With [`Chunking::Seeded`] the two
    /// directions get different seeds drawn from the one given.
    #[must_use]
    pub fn with_chunking(mut self, chunking: Chunking) -> Self {
        let toward_client = match &chunking {
            Chunking::Seeded { seed, max } => Chunking::Seeded {
                seed: seed.rotate_left(32) ^ 0x5555_5555_5555_5555,
                max: *max,
            },
            other => other.clone(),
        };
        self.set_chunking(Side::Server, chunking);
        self.set_chunking(Side::Client, toward_client);
        self
    }

    /// Cuts the reads of the machine playing `reader` by `chunking`, from the next read on
    /// (offsets of [`Chunking::Cuts`] count from the start of the stream).
    pub fn set_chunking(&mut self, reader: Side, chunking: Chunking) {
        let wire = self.wire_mut(reader);
        let offset = wire.chunker.offset();
        wire.chunker = Chunker::new(chunking);
        // Keep offsets of `Cuts` relative to the whole stream.
        let mut skip = offset;
        while skip > 0 {
            let taken = wire.chunker.next_len(skip);
            skip -= taken;
        }
    }

    /// Delivers the reads of `reader` through [`Session::feed_buf`] (as a driver reading
    /// into a `BytesMut` does) instead of [`Session::feed`], checking that the buffer is
    /// left empty.
    pub fn set_feed_buf(&mut self, reader: Side, feed_buf: bool) {
        self.wire_mut(reader).feed_buf = feed_buf;
    }

    /// Gives every client event to `handler` (before it goes into the log), which answers
    /// through the machine's API. The pair does the STARTTLS hand-off itself: the handler
    /// must not call [`Session::tls_established`].
    pub fn on_client_event(&mut self, handler: impl FnMut(&mut C, &C::Event, Instant) + 'static) {
        self.client.handler = Some(Box::new(handler));
    }

    /// Gives every server event to `handler`; see [`on_client_event`](Pair::on_client_event).
    pub fn on_server_event(&mut self, handler: impl FnMut(&mut S, &S::Event, Instant) + 'static) {
        self.server.handler = Some(Box::new(handler));
    }

    /// How many steps [`drive`](Pair::drive) takes before it panics (machines that keep
    /// each other busy forever are a bug). Default [`DEFAULT_MAX_STEPS`].
    pub fn set_max_steps(&mut self, max_steps: usize) {
        self.max_steps = max_steps;
    }

    /// The simulated time.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The simulated clock.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// The client machine.
    pub fn client(&self) -> &C {
        &self.client.machine
    }

    /// The client machine, to call its API; then [`drive`](Pair::drive) again.
    pub fn client_mut(&mut self) -> &mut C {
        &mut self.client.machine
    }

    /// The server machine.
    pub fn server(&self) -> &S {
        &self.server.machine
    }

    /// The server machine, to call its API; then [`drive`](Pair::drive) again.
    pub fn server_mut(&mut self) -> &mut S {
        &mut self.server.machine
    }

    /// The client's events so far (those not taken), in order.
    pub fn client_events(&self) -> &[C::Event] {
        &self.client.events
    }

    /// The server's events so far (those not taken), in order.
    pub fn server_events(&self) -> &[S::Event] {
        &self.server.events
    }

    /// Takes the client's events so far.
    pub fn take_client_events(&mut self) -> Vec<C::Event> {
        std::mem::take(&mut self.client.events)
    }

    /// Takes the server's events so far.
    pub fn take_server_events(&mut self) -> Vec<S::Event> {
        std::mem::take(&mut self.server.events)
    }

    /// How the client's session ended, once it has.
    pub fn client_ending(&self) -> Option<&Ending<C::Error>> {
        self.client.ending.as_ref()
    }

    /// How the server's session ended, once it has.
    pub fn server_ending(&self) -> Option<&Ending<S::Error>> {
        self.server.ending.as_ref()
    }

    /// Everything `side` has put on the wire, in order (injected bytes are not included,
    /// nor what it wrote after [`shutdown`](Pair::shutdown)).
    pub fn written(&self, side: Side) -> &[u8] {
        match side {
            Side::Client => &self.client.written,
            Side::Server => &self.server.written,
        }
    }

    /// What `side` wrote, one entry per flush: each entry is everything the machine queued
    /// between two of the peer's reads, so a pipelined group of commands is one entry.
    pub fn writes(&self, side: Side) -> &[Vec<u8>] {
        match side {
            Side::Client => &self.client.writes,
            Side::Server => &self.server.writes,
        }
    }

    /// How many reads `side` has been fed.
    pub fn reads(&self, side: Side) -> usize {
        match side {
            Side::Client => self.client.reads,
            Side::Server => self.server.reads,
        }
    }

    /// Bytes on the wire toward `reader`, not yet read.
    pub fn in_flight(&self, reader: Side) -> usize {
        self.wire(reader).bytes.len()
    }

    /// Whether `side` is in the STARTTLS hand-off (it reported it and the handshake has not
    /// completed).
    pub fn in_handoff(&self, side: Side) -> bool {
        match side {
            Side::Client => self.client.handoff,
            Side::Server => self.server.handoff,
        }
    }

    /// How many in-memory TLS handshakes have completed.
    pub fn tls_handshakes(&self) -> usize {
        self.handshakes
    }

    /// Puts `bytes` on the wire toward `reader` now, behind what is already there, as an
    /// attacker on the path would.
    pub fn inject(&mut self, reader: Side, bytes: &[u8]) {
        self.wire_mut(reader).bytes.extend(bytes);
    }

    /// Puts `bytes` on the wire toward `reader` at the next STARTTLS hand-off, right behind
    /// the output of the machine that reported it (for the server, its `220`): the plaintext
    /// an attacker injects before the handshake.
    pub fn inject_on_start_tls(&mut self, reader: Side, bytes: &[u8]) {
        self.on_start_tls.push((reader, bytes.to_vec()));
    }

    /// `side`'s driver closes the connection: the peer gets the end of the stream once it
    /// has read what is on the wire, and what `side` writes from now on is dropped.
    pub fn shutdown(&mut self, side: Side) {
        self.wire_mut(side.peer()).shut = true;
    }

    /// Steps until neither machine makes progress.
    ///
    /// # Panics
    ///
    /// After [`set_max_steps`](Pair::set_max_steps) steps that all made progress.
    pub fn drive(&mut self) {
        for _ in 0..self.max_steps {
            if !self.step() {
                return;
            }
        }
        panic!(
            "the pair did not settle within {} steps: {} bytes toward the client, {} toward the server",
            self.max_steps,
            self.to_client.bytes.len(),
            self.to_server.bytes.len()
        );
    }

    /// Moves the clock on by `by`, then [`drive`](Pair::drive)s (due deadlines are handled
    /// there).
    pub fn advance(&mut self, by: Duration) {
        self.clock.advance(by);
        self.drive();
    }

    /// Moves the clock to the earliest deadline of the two machines (if it is in the future)
    /// and drives. Returns how far the clock moved, or `None` when no deadline runs.
    pub fn advance_to_next_timeout(&mut self) -> Option<Duration> {
        let deadlines = [
            (!self.client.machine.is_closed())
                .then(|| self.client.machine.poll_timeout())
                .flatten(),
            (!self.server.machine.is_closed())
                .then(|| self.server.machine.poll_timeout())
                .flatten(),
        ];
        let next = deadlines.into_iter().flatten().min()?;
        let moved = self.clock.advance_to(next);
        self.drive();
        Some(moved)
    }

    /// One step (see the [module docs](self)). Returns whether anything moved.
    pub fn step(&mut self) -> bool {
        let now = self.clock.now();
        let mut progress = false;

        let (any, start_tls) = self.client.pump(now);
        progress |= any;
        if start_tls {
            self.client.collect(&mut self.to_server);
            self.start_tls_injections();
        }
        let (any, start_tls) = self.server.pump(now);
        progress |= any;
        if start_tls {
            self.server.collect(&mut self.to_client);
            self.start_tls_injections();
        }

        progress |= self.client.collect(&mut self.to_server);
        progress |= self.server.collect(&mut self.to_client);

        progress |= self.client.timeout(now);
        progress |= self.server.timeout(now);

        progress |= self.server.deliver(&mut self.to_server, now);
        progress |= self.client.deliver(&mut self.to_client, now);

        progress |= self.server.eof(&mut self.to_server);
        progress |= self.client.eof(&mut self.to_client);

        progress |= self.handshake(now);
        progress
    }

    fn start_tls_injections(&mut self) {
        for (reader, bytes) in std::mem::take(&mut self.on_start_tls) {
            self.inject(reader, &bytes);
        }
    }

    /// Completes the hand-off once both machines are in it, or feeds them the plaintext that
    /// arrived before the handshake.
    fn handshake(&mut self, now: Instant) -> bool {
        let ready = self.client.handoff
            && self.server.handoff
            && !self.client.machine.is_closed()
            && !self.server.machine.is_closed();
        if !ready {
            return false;
        }
        if !self.to_client.bytes.is_empty() || !self.to_server.bytes.is_empty() {
            // The drivers read these before the handshake: the machines must refuse them.
            for (end_is_server, len) in [
                (true, self.to_server.bytes.len()),
                (false, self.to_client.bytes.len()),
            ] {
                if len == 0 {
                    continue;
                }
                if end_is_server {
                    self.server.handoff = false;
                    self.server.feed(&mut self.to_server, len, now);
                } else {
                    self.client.handoff = false;
                    self.client.feed(&mut self.to_client, len, now);
                }
            }
            return true;
        }
        if let Err(error) = self.server.machine.tls_established(now) {
            panic!("the server refused the in-memory handshake: {error}");
        }
        if let Err(error) = self.client.machine.tls_established(now) {
            panic!("the client refused the in-memory handshake: {error}");
        }
        self.server.handoff = false;
        self.client.handoff = false;
        self.handshakes += 1;
        true
    }

    fn wire(&self, reader: Side) -> &Wire {
        match reader {
            Side::Client => &self.to_client,
            Side::Server => &self.to_server,
        }
    }

    fn wire_mut(&mut self, reader: Side) -> &mut Wire {
        match reader {
            Side::Client => &mut self.to_client,
            Side::Server => &mut self.to_server,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt;
    use std::time::Instant;

    use bytes::Bytes;
    use mail_wire::session::{EventKind, Session};

    use super::*;

    /// A toy protocol with a STARTTLS hand-off: the client sends `STLS`, the server answers
    /// `+OK go` and both hand off; after the handshake the client sends `QUIT`, the server
    /// answers `+OK bye` and both end. Bytes during the hand-off are an injection.
    #[derive(Debug)]
    struct Toy {
        client: bool,
        input: Vec<u8>,
        out: Vec<u8>,
        events: VecDeque<Ev>,
        handoff: bool,
        tls: bool,
        closed: bool,
    }

    #[derive(Debug, Clone, PartialEq)]
    enum Ev {
        StartTls,
        Closed(Result<(), ToyError>),
    }

    #[derive(Debug, Clone, PartialEq)]
    enum ToyError {
        Injection,
        Eof,
    }

    impl fmt::Display for ToyError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{self:?}")
        }
    }

    impl std::error::Error for ToyError {}

    impl Toy {
        fn new(client: bool) -> Self {
            Toy {
                client,
                input: Vec::new(),
                out: if client {
                    b"STLS\r\n".to_vec()
                } else {
                    Vec::new()
                },
                events: VecDeque::new(),
                handoff: false,
                tls: false,
                closed: false,
            }
        }

        fn close(&mut self, ending: Result<(), ToyError>) {
            self.closed = true;
            self.events.push_back(Ev::Closed(ending));
        }

        fn line(&mut self, line: &[u8]) {
            match (self.client, line) {
                (false, b"STLS") => {
                    self.out.extend_from_slice(b"+OK go\r\n");
                    self.handoff = true;
                    self.events.push_back(Ev::StartTls);
                }
                (false, b"QUIT") => {
                    self.out.extend_from_slice(b"+OK bye\r\n");
                    self.close(Ok(()));
                }
                (true, b"+OK go") => {
                    self.handoff = true;
                    self.events.push_back(Ev::StartTls);
                }
                (true, b"+OK bye") => self.close(Ok(())),
                _ => self.out.extend_from_slice(b"-ERR\r\n"),
            }
        }
    }

    impl Session for Toy {
        type Event = Ev;
        type Error = ToyError;
        type Misuse = ToyError;

        fn feed(&mut self, _: Instant, bytes: &[u8]) {
            for &byte in bytes {
                if self.closed {
                    return;
                }
                if self.handoff {
                    self.close(Err(ToyError::Injection));
                    return;
                }
                self.input.push(byte);
                if self.input.ends_with(b"\r\n") {
                    let line = std::mem::take(&mut self.input);
                    self.line(&line[..line.len() - 2]);
                }
            }
        }

        fn handle_eof(&mut self) {
            if !self.closed {
                self.close(Err(ToyError::Eof));
            }
        }

        fn poll_transmit(&mut self) -> Option<Bytes> {
            (!self.out.is_empty()).then(|| Bytes::from(std::mem::take(&mut self.out)))
        }

        fn poll_event(&mut self) -> Option<Ev> {
            self.events.pop_front()
        }

        fn poll_timeout(&self) -> Option<Instant> {
            None
        }

        fn handle_timeout(&mut self, _: Instant) {}

        fn wants_input(&self) -> bool {
            !self.closed && !self.handoff
        }

        fn is_tls(&self) -> bool {
            self.tls
        }

        fn tls_established(&mut self, _: Instant) -> Result<(), ToyError> {
            if !self.handoff || self.closed {
                return Err(ToyError::Injection);
            }
            self.handoff = false;
            self.tls = true;
            if self.client {
                self.out.extend_from_slice(b"QUIT\r\n");
            }
            Ok(())
        }

        fn is_closed(&self) -> bool {
            self.closed
        }

        fn classify(event: &Ev) -> EventKind<'_, ToyError> {
            match event {
                Ev::StartTls => EventKind::StartTls,
                Ev::Closed(ending) => EventKind::Closed(ending),
            }
        }
    }

    fn toys(chunking: Chunking) -> Pair<Toy, Toy> {
        Pair::new(Toy::new(true), Toy::new(false), SimClock::new()).with_chunking(chunking)
    }

    fn chunkings() -> Vec<Chunking> {
        let mut chunkings = Chunking::standard(3);
        chunkings.push(Chunking::Sizes(vec![3, 1]));
        chunkings
    }

    #[test]
    fn handoff_completes_in_memory() {
        for chunking in chunkings() {
            let mut pair = toys(chunking.clone());
            pair.drive();
            assert_eq!(pair.tls_handshakes(), 1, "{chunking:?}");
            assert!(pair.client().is_tls() && pair.server().is_tls());
            assert_eq!(pair.client_ending(), Some(&Ok(())));
            assert_eq!(pair.server_ending(), Some(&Ok(())));
            assert_eq!(pair.client_events(), [Ev::StartTls, Ev::Closed(Ok(()))]);
            assert_eq!(pair.written(Side::Client), b"STLS\r\nQUIT\r\n");
            assert_eq!(pair.written(Side::Server), b"+OK go\r\n+OK bye\r\n");
            assert_eq!(pair.writes(Side::Client), [b"STLS\r\n", b"QUIT\r\n"]);
            assert!(!pair.in_handoff(Side::Client) && !pair.in_handoff(Side::Server));
            assert_eq!(pair.in_flight(Side::Server), 0);
        }
    }

    #[test]
    fn plaintext_injected_at_the_handoff_reaches_the_machine_not_the_handshake() {
        for chunking in chunkings() {
            // Behind the server's "+OK go", whole line or partial.
            for injected in [&b"+OK bye\r\n"[..], b"+"] {
                let mut pair = toys(chunking.clone());
                pair.inject_on_start_tls(Side::Client, injected);
                pair.drive();
                assert_eq!(pair.tls_handshakes(), 0, "{chunking:?}");
                assert_eq!(pair.client_ending(), Some(&Err(ToyError::Injection)));
                assert_eq!(pair.server_ending(), Some(&Err(ToyError::Eof)));
                assert_eq!(pair.written(Side::Client), b"STLS\r\n");
            }
            // Toward the server, which is in its hand-off.
            let mut pair = toys(chunking.clone());
            pair.inject_on_start_tls(Side::Server, b"QUIT\r\n");
            pair.drive();
            assert_eq!(pair.tls_handshakes(), 0, "{chunking:?}");
            assert_eq!(pair.server_ending(), Some(&Err(ToyError::Injection)));
            assert_eq!(pair.client_ending(), Some(&Err(ToyError::Eof)));
        }
    }

    #[test]
    fn handlers_shutdown_and_manual_steps() {
        let mut pair = toys(Chunking::Whole);
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let log = std::rc::Rc::clone(&seen);
        pair.on_server_event(move |server, event, _| {
            log.borrow_mut().push((event.clone(), server.is_tls()));
        });
        // The server's driver closes before anything happens: the client sees the end of
        // the stream and never the server's answer; the server, its peer gone, the client's
        // close.
        pair.shutdown(Side::Server);
        assert!(pair.step());
        pair.drive();
        assert_eq!(pair.client_ending(), Some(&Err(ToyError::Eof)));
        assert_eq!(pair.server_ending(), Some(&Err(ToyError::Eof)));
        assert_eq!(pair.tls_handshakes(), 0);
        assert_eq!(pair.reads(Side::Server), 1, "the server read STLS");
        assert_eq!(pair.reads(Side::Client), 0, "the client read nothing");
        assert!(pair.written(Side::Server).is_empty());
        assert_eq!(seen.borrow()[0], (Ev::StartTls, false));
        assert_eq!(pair.take_server_events()[0], Ev::StartTls);
        assert!(pair.server_events().is_empty());
        assert!(!pair.step(), "settled");

        // Injected bytes go straight onto the wire.
        let mut pair = toys(Chunking::Bytewise);
        pair.inject(Side::Server, b"XYZ\r\n");
        pair.set_feed_buf(Side::Server, true);
        pair.drive();
        assert!(pair.written(Side::Server).starts_with(b"-ERR\r\n"));
    }

    #[test]
    fn cuts_count_from_the_start_of_the_stream() {
        let mut pair = toys(Chunking::Whole);
        pair.set_chunking(Side::Server, Chunking::Cuts(vec![2, 4]));
        pair.drive();
        // "STLS\r\n" in reads of 2, 2 and 2; then "QUIT\r\n" whole.
        assert_eq!(pair.reads(Side::Server), 4);
        assert_eq!(pair.server_ending(), Some(&Ok(())));
    }

    #[test]
    #[should_panic(expected = "did not settle")]
    fn machines_that_never_settle_are_reported() {
        let mut pair = toys(Chunking::Bytewise);
        pair.set_max_steps(3);
        pair.drive();
    }
}
