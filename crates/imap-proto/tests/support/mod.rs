//! What the server proof tests share: an in-memory multi-mailbox store ([`store`]), the
//! application that answers a `Server`'s events from it ([`app`]), the messages it holds
//! ([`corpus`]), the RFC sample sessions and their normalisation ([`rfc`]), and [`World`]:
//! several real `Server` machines on one store, driven in memory.
#![allow(dead_code)]

pub(crate) mod app;
pub(crate) mod corpus;
pub(crate) mod pair;
pub(crate) mod rfc;
pub(crate) mod store;

use std::collections::VecDeque;
use std::time::Duration;

use imap_proto::server::{Event, Server, ServerConfig};
use mail_testkit::{Chunker, Chunking, SimClock, Users};

use app::{App, deliver};
use store::Store;

/// A configuration for tests without TLS: credentials accepted in plaintext, a failed login
/// answered at once.
pub(crate) fn plaintext_config() -> ServerConfig {
    let mut config = ServerConfig::default();
    config.allow_plaintext_auth = true;
    config.auth_failure_delay = Duration::ZERO;
    config
}

/// [`plaintext_config`] advertising the extensions the test store implements (the machine
/// answers `BAD` to commands of extensions not advertised): UIDPLUS, MOVE, ESEARCH, SEARCHRES.
pub(crate) fn store_config() -> ServerConfig {
    let mut config = plaintext_config();
    config.capabilities = ["UIDPLUS", "MOVE", "ESEARCH", "SEARCHRES"]
        .into_iter()
        .filter_map(|name| imap_proto::response::Capability::new(name).ok())
        .collect();
    config
}

/// One connection of a [`World`]: its machine, the application answering it, what it wrote.
#[derive(Debug)]
pub(crate) struct Conn {
    /// The machine.
    pub(crate) server: Server,
    /// The application side.
    pub(crate) app: App,
    /// Bytes written since the last [`World::take`].
    pub(crate) out: Vec<u8>,
    /// Every event the machine emitted, in order.
    pub(crate) events: Vec<Event>,
    /// While true, decisions wait in `held` until [`World::release`].
    pub(crate) hold: bool,
    /// Decisions held back.
    pub(crate) held: VecDeque<Event>,
    /// How the client's bytes are cut into reads.
    pub(crate) chunker: Chunker,
}

/// Several sessions on one store, each a real `Server`, driven in memory on a simulated
/// clock. After every read each session's events are answered by its [`App`] (unless held),
/// the changes the store queued are delivered to every session, and output is collected,
/// until nothing moves.
#[derive(Debug)]
pub(crate) struct World {
    /// The shared store.
    pub(crate) store: Store,
    /// The connections, by index.
    pub(crate) conns: Vec<Conn>,
    /// The clock.
    pub(crate) clock: SimClock,
}

impl Default for World {
    fn default() -> Self {
        World::new(Store::new())
    }
}

impl World {
    /// A world over `store`, no connection yet.
    pub(crate) fn new(store: Store) -> World {
        World {
            store,
            conns: Vec::new(),
            clock: SimClock::new(),
        }
    }

    /// Opens a connection with `config`, its reads cut by `chunking`: its index. The
    /// greeting is in its output.
    pub(crate) fn connect(&mut self, config: ServerConfig, chunking: Chunking) -> usize {
        let server = Server::new(config, self.clock.now());
        let app = App::new(&mut self.store, Users::standard());
        self.conns.push(Conn {
            server,
            app,
            out: Vec::new(),
            events: Vec::new(),
            hold: false,
            held: VecDeque::new(),
            chunker: Chunker::new(chunking),
        });
        self.settle();
        self.conns.len() - 1
    }

    /// Opens a plaintext connection, logs in as the standard user and, with `select`, selects
    /// that mailbox; the output so far is dropped.
    pub(crate) fn login(&mut self, select: Option<&str>, chunking: Chunking) -> usize {
        let i = self.connect(store_config(), chunking);
        self.send(i, b"L1 LOGIN alice secret\r\n");
        assert!(self.take(i).contains("L1 OK"), "login failed");
        if let Some(name) = select {
            self.send(i, format!("S1 SELECT {name}\r\n").as_bytes());
            assert!(self.take(i).contains("S1 OK"), "select failed");
        }
        i
    }

    /// The client of connection `i` sends `bytes`, cut into reads by its chunking.
    pub(crate) fn send(&mut self, i: usize, bytes: &[u8]) {
        let now = self.clock.now();
        let mut rest = bytes;
        while !rest.is_empty() {
            let len = self.conns[i].chunker.next_len(rest.len());
            let (read, tail) = rest.split_at(len);
            self.conns[i].server.feed(now, read);
            rest = tail;
            self.settle();
        }
    }

    /// Everything connection `i` wrote since the last call, as text.
    pub(crate) fn take(&mut self, i: usize) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut self.conns[i].out)).into_owned()
    }

    /// Holds (or stops holding) connection `i`'s decisions: they wait for [`World::release`].
    pub(crate) fn hold(&mut self, i: usize, on: bool) {
        self.conns[i].hold = on;
    }

    /// Answers the decisions connection `i` holds, and stops holding.
    pub(crate) fn release(&mut self, i: usize) {
        self.conns[i].hold = false;
        while let Some(event) = self.conns[i].held.pop_front() {
            let conn = &mut self.conns[i];
            conn.app
                .answer(&mut self.store, &mut conn.server, event)
                .expect("the application answers as the machine asks");
        }
        self.settle();
    }

    /// Runs every connection until nothing moves: events answered (or held), changes
    /// delivered, output collected, due deadlines handled.
    pub(crate) fn settle(&mut self) {
        let now = self.clock.now();
        loop {
            let mut moved = false;
            for conn in &mut self.conns {
                while let Some(event) = conn.server.poll_event() {
                    moved = true;
                    conn.events.push(event.clone());
                    match event {
                        Event::StartTls => conn
                            .server
                            .tls_established(now)
                            .expect("a TLS hand-off is pending"),
                        event if conn.hold && is_decision(&event) => conn.held.push_back(event),
                        event => conn
                            .app
                            .answer(&mut self.store, &mut conn.server, event)
                            .expect("the application answers as the machine asks"),
                    }
                }
            }
            for conn in &mut self.conns {
                if self.store.has_changes(conn.app.id) {
                    moved = true;
                    deliver(&mut self.store, conn.app.id, &mut conn.server);
                }
                while let Some(bytes) = conn.server.poll_transmit() {
                    moved = true;
                    conn.out.extend_from_slice(&bytes);
                }
                if let Some(due) = conn.server.poll_timeout() {
                    if due <= now && !conn.server.is_closed() {
                        conn.server.handle_timeout(now);
                        moved |= conn.server.poll_timeout() != Some(due);
                    }
                }
            }
            if !moved {
                break;
            }
        }
    }
}

/// Whether `event` waits for the application's answer.
pub(crate) fn is_decision(event: &Event) -> bool {
    matches!(
        event,
        Event::AuthStep { .. }
            | Event::Command { .. }
            | Event::AppendStart { .. }
            | Event::AppendEnd { last: true, .. }
    )
}
