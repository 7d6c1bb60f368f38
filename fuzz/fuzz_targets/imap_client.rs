//! IMAP client sessions: `imap_proto::client::Client` fed a server's flights (separated by
//! `0xFF`) cut into arbitrary reads, with an application that issues the commands a 16-octet
//! header lists (NOOP, LOGIN with and without a literal, AUTHENTICATE PLAIN, SELECT, FETCH,
//! STORE, SEARCH, APPEND with a literal, IDLE, DONE, LOGOUT), one after `Ready` and one after
//! each completion, completes STARTTLS, and, when the header says so, lets 29 minutes pass
//! after each flight (IDLE renewals, timeouts).
//!
//! Header octet 0: bit 0 implicit TLS, bits 1-2 the TLS policy, bit 3 a 200-octet line limit,
//! bit 4 time passes, bit 5 plaintext credentials allowed; octets 1-12 the commands; octet 13
//! the command limit (1 to 4). Then a `Chunking`, then the flights.
//!
//! Asserts: no panic; no event after `Closed`, exactly one `Closed` after `handle_eof`,
//! nothing after it; output at most linear in input and commands; the events never outnumber
//! the input octets; calls the application makes either succeed or fail with a misuse error
//! (never a panic); with the application reacting after each flight, chunking inside a flight
//! changes neither events nor bytes written.
#![no_main]

use std::time::{Duration, Instant};

use imap_proto::List;
use imap_proto::client::{Client, ClientConfig, Event, TlsPolicy};
use imap_proto::command::{
    AppendData, AppendMessage, CommandBody, FetchAttribute, FetchItems, NonEmpty, NonEmptyVec,
    SearchKey, StoreKind,
};
use imap_proto::core::{Literal, LiteralMode};
use imap_proto::flag::Flag;
use imap_proto::mailbox::Mailbox;
use imap_proto::sequence::SequenceSet;
use libfuzzer_sys::fuzz_target;
use mail_wire::Secret;
use mail_wire::sasl::ClientSession;
use sansmail_fuzz::chunk::{self, Chunking};
use sansmail_fuzz::check::{self, Lifecycle};
use sansmail_fuzz::{Wire, fixtures};

#[derive(arbitrary::Arbitrary, Debug)]
struct Case<'a> {
    header: [u8; 16],
    chunking: Chunking,
    flights: Wire<'a>,
}

impl Case<'_> {
    fn config(&self) -> ClientConfig {
        let flags = self.header[0];
        let mut config = if flags & 1 != 0 {
            ClientConfig::imaps()
        } else {
            ClientConfig::new()
        };
        config.tls = match (flags >> 1) & 3 {
            0 => TlsPolicy::Never,
            1 => TlsPolicy::Opportunistic,
            _ => TlsPolicy::Required,
        };
        if flags & 8 != 0 {
            config.framer.max_line = 200;
        }
        config.allow_plaintext_auth = flags & 32 != 0;
        config.max_commands = usize::from(self.header[13] % 4) + 1;
        config
    }

    fn time_passes(&self) -> bool {
        self.header[0] & 16 != 0
    }
}

/// Issues the command `code` names; misuse errors are the application's to handle.
fn issue(client: &mut Client, code: u8, now: Instant) {
    let one = || SequenceSet::single(1).expect("1 is a sequence number");
    let password = || Secret::new(fixtures::PASSWORD.to_owned());
    let _ = match code % 12 {
        0 => client.noop(now).map(drop),
        1 => client.login(now, fixtures::USER, &password()).map(drop),
        // An 8-bit password: a literal.
        2 => client
            .login(now, fixtures::USER, &Secret::new("p\u{e4}ss".to_owned()))
            .map(drop),
        3 => match ClientSession::plain(None, fixtures::USER, password()) {
            Ok(session) => client.authenticate(now, session).map(drop),
            Err(_) => Ok(()),
        },
        4 => client.select(now, "INBOX").map(drop),
        5 => {
            let items: List<FetchAttribute<'static>, 2> =
                [FetchAttribute::Uid, FetchAttribute::Envelope].into_iter().collect();
            match NonEmpty::new(items) {
                Ok(items) => client
                    .fetch(now, true, one(), FetchItems::Attributes(items))
                    .map(drop),
                Err(_) => Ok(()),
            }
        }
        6 => client
            .store(now, false, one(), StoreKind::Add, false, vec![Flag::Seen])
            .map(drop),
        7 => client
            .search(now, true, NonEmpty::one(SearchKey::All))
            .map(drop),
        8 => match Literal::new(&b"Subject: x\r\n\r\nbody\r\n"[..], LiteralMode::Sync) {
            Ok(literal) => client
                .command(
                    now,
                    CommandBody::Append {
                        mailbox: Mailbox::Inbox,
                        messages: NonEmptyVec::one(AppendMessage {
                            flags: List::new(),
                            date_time: None,
                            data: AppendData::Literal(literal),
                        }),
                    },
                )
                .map(drop),
            Err(_) => Ok(()),
        },
        9 => client.idle(now).map(drop),
        10 => client.done(now),
        _ => client.logout(now).map(drop),
    };
}

struct Run<'c> {
    case: &'c Case<'c>,
    client: Client,
    now: Instant,
    lifecycle: Lifecycle,
    events: Vec<Event>,
    wire: Vec<u8>,
    next: usize,
}

impl Run<'_> {
    fn next_command(&mut self) {
        if let Some(&code) = self.case.header.get(1 + self.next).filter(|_| self.next < 12) {
            self.next += 1;
            issue(&mut self.client, code, self.now);
        }
    }

    fn react_all(&mut self) {
        self.write();
        while let Some(event) = self.client.poll_event() {
            let closed = self.lifecycle.observe(&self.client, &event);
            match &event {
                // Bytes after the OK (injection) close the session before the handshake.
                Event::StartTls if self.client.is_closed() => {}
                Event::StartTls => self
                    .client
                    .tls_established(self.now)
                    .unwrap_or_else(|e| panic!("tls_established after StartTls: {e}")),
                Event::Ready { .. } | Event::Completed { .. } => self.next_command(),
                // News during IDLE: end it, as a client fetching the news would.
                Event::Data(_) if self.client.is_idling() => {
                    let _ = self.client.done(self.now);
                }
                _ => {}
            }
            if closed {
                assert!(self.client.noop(self.now).is_err());
            }
            self.events.push(event);
            self.write();
        }
        self.write();
    }

    fn write(&mut self) {
        while let Some(bytes) = self.client.poll_transmit() {
            self.wire.extend_from_slice(&bytes);
        }
    }
}

fn run(case: &Case<'_>, flights: &[Vec<&[u8]>], eager: bool) -> (Vec<Event>, Vec<u8>) {
    let mut now = Instant::now();
    let total = case.flights.0.len();
    let mut run = Run {
        case,
        client: Client::new(case.config(), now),
        now,
        lifecycle: Lifecycle::default(),
        events: Vec::new(),
        wire: Vec::new(),
        next: 0,
    };
    run.react_all();
    for flight in flights {
        for read in flight {
            run.client.feed(now, read);
            if eager {
                run.react_all();
            }
        }
        run.react_all();
        if case.time_passes() {
            now += Duration::from_secs(29 * 60);
            run.now = now;
            run.client.handle_timeout(now);
            run.react_all();
        }
        // Each command and each IDLE renewal writes a bounded amount; the rest answers input.
        check::linear_output(run.wire.len(), total, 64 * 1024, 64);
        assert!(run.events.len() <= total + 64, "more events than input");
    }
    run.client.handle_eof();
    run.react_all();
    run.lifecycle.ended(&mut run.client, now, b"* OK late\r\n");
    (run.events, run.wire)
}

fuzz_target!(|case: Case<'_>| {
    let whole: Vec<Vec<&[u8]>> = chunk::at_separators(case.flights.0)
        .map(|flight| vec![flight])
        .collect();
    let mut chunker = case.chunking.chunker();
    let cut: Vec<Vec<&[u8]>> = chunk::at_separators(case.flights.0)
        .map(|flight| chunker.split(flight))
        .collect();
    let reference = run(&case, &whole, false);
    let split = run(&case, &cut, false);
    assert_eq!(reference.0, split.0, "chunking changed the events");
    assert_eq!(reference.1, split.1, "chunking changed the bytes written");
    run(&case, &cut, true);
});
