//! IMAP server sessions: `imap_proto::server::Server` fed arbitrary client bytes, cut into
//! reads by a `Chunking`, and driven by an application whose every answer comes from the
//! input: accept or refuse each decision, select a mailbox of 0 to 40 messages, answer FETCH
//! with flags, report changes of other sessions (new messages, flag changes, expunges) at
//! arbitrary moments, refuse or accept APPEND messages. `tls_established` on `StartTls`.
//!
//! Asserts: no panic; every decision the application makes is accepted by the machine; all
//! output frames and parses with the codec (the greeting with `Greeting::parse`, the rest
//! with `Response::parse`, strict); no event after `Closed`, exactly one `Closed` after
//! `handle_eof`, nothing after it; with every event answered the machine wants input, is
//! closed, or runs a deadline; and the same input fed whole gives the same output as fed in
//! reads, up to a STARTTLS hand-off (where bytes in the same read are an injection).
#![no_main]

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use imap_proto::command::CommandBody;
use imap_proto::fetch::MessageDataItem;
use imap_proto::flag::{Flag, FlagFetch};
use imap_proto::framer::{Framed, Framer, FramerConfig};
use imap_proto::list::List;
use imap_proto::response::{Code, Data, Delimiter, Greeting, Response, StatusKind};
use imap_proto::server::{Event, SelectInfo, Server, ServerConfig, SessionError};
use imap_proto::view::{Change, Snapshot, ViewConfig};
use libfuzzer_sys::fuzz_target;
use mail_wire::sasl::Mechanism;
use sansmail_fuzz::check::{self, Lifecycle};
use sansmail_fuzz::chunk::Chunking;
use sansmail_fuzz::fixtures::{Store, server_nonce};
use sansmail_fuzz::{Size, Wire};

/// The server's configuration, turned around by the input.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Setup {
    implicit_tls: bool,
    starttls: bool,
    allow_plaintext_auth: bool,
    imap4rev2: bool,
    /// CONDSTORE, QRESYNC, UIDPLUS, MOVE offered by the application.
    extensions: bool,
    /// LITERAL+ or LITERAL-, or none.
    literal_plus: u8,
    /// Line limit: 64, 256, 4096, 64 KiB.
    max_line: Size,
    /// Literal limit: 0, 16, 1024, 64 KiB.
    max_literal: Size,
    /// APPEND limit: 16, 1024, 64 KiB, none.
    append_limit: Size,
    /// APPEND data pieces: 1, 7, 512, 64 KiB.
    append_chunk: Size,
    /// Errors before BYE: 0, 2, 20, 1000.
    max_errors: Size,
    /// Changes a view queues: 1, 4, 64, 4096.
    max_pending: Size,
    /// Messages in every mailbox selected: 0, 1, 5, 40.
    messages: Size,
}

impl Setup {
    fn config(&self) -> ServerConfig {
        use imap_proto::server::LiteralPlus;
        let mut config = ServerConfig::default();
        config.implicit_tls = self.implicit_tls;
        config.starttls = self.starttls;
        config.allow_plaintext_auth = self.allow_plaintext_auth;
        config.imap4rev2 = self.imap4rev2;
        config.sasl_mechanisms = Mechanism::ALL.to_vec();
        if self.extensions {
            config.capabilities = [
                "CONDSTORE",
                "QRESYNC",
                "UIDPLUS",
                "MOVE",
                "ESEARCH",
                "SEARCHRES",
            ]
            .iter()
            .filter_map(|name| imap_proto::response::Capability::new(*name).ok())
            .collect();
        }
        config.literal_plus = match self.literal_plus % 3 {
            0 => LiteralPlus::Plus,
            1 => LiteralPlus::Minus,
            _ => LiteralPlus::Off,
        };
        config.max_line = self.max_line.pick([64, 256, 4096, 64 << 10]);
        config.max_literal = self.max_literal.pick([0, 16, 1024, 64 << 10]);
        config.append_limit = self
            .append_limit
            .pick([Some(16), Some(1024), Some(64 << 10), None]);
        config.append_chunk = self.append_chunk.pick([1, 7, 512, 64 << 10]);
        config.max_errors = self.max_errors.pick([0, 2, 20, 1000]);
        config.view = ViewConfig::with_max_pending(self.max_pending.pick([1, 4, 64, 4096]));
        config.auth_failure_delay = Duration::ZERO;
        config
    }
}

/// What the application answers to one decision, or does beside it.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// The normal answer: select, fetch, store, accept the message...
    Accept,
    /// `NO`.
    No,
    /// `BAD`.
    Bad,
    /// Another session added a message first, then the normal answer.
    Added,
    /// Another session changed the flags of the first message first.
    Flags,
    /// Another session expunged the first message first.
    Expunged,
}

#[derive(Arbitrary, Debug)]
struct Case<'a> {
    setup: Setup,
    /// The application's answers, cycled.
    answers: Vec<Answer>,
    chunking: Chunking,
    /// A deadline far in the future passes at the end.
    timeout_at_end: bool,
    input: Wire<'a>,
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// The application: one mailbox model per selection, changes applied to it as they are
/// reported, answers as the input says.
struct App {
    answers: Vec<Answer>,
    next: usize,
    messages: u32,
    /// The UIDs of the selected mailbox as the store knows them.
    uids: Vec<u32>,
    uid_next: u32,
    store: Store,
}

impl App {
    fn answer_kind(&mut self) -> Answer {
        let answer = self
            .answers
            .get(self.next % self.answers.len().max(1))
            .copied()
            .unwrap_or(Answer::Accept);
        self.next += 1;
        answer
    }

    /// Reports a change of another session, as `answer` says.
    fn change(&mut self, server: &mut Server, answer: Answer) {
        let change = match answer {
            Answer::Added => {
                let uid = nz(self.uid_next);
                self.uid_next = self.uid_next.saturating_add(1);
                self.uids.push(uid.get());
                server.mark_recent(uid);
                Change::Added {
                    uid,
                    flags: vec![Flag::Seen],
                    modseq: None,
                }
            }
            Answer::Flags => match self.uids.first() {
                Some(&uid) => Change::Flags {
                    uid: nz(uid),
                    flags: vec![Flag::Flagged],
                    modseq: None,
                },
                None => return,
            },
            Answer::Expunged => match self.uids.first() {
                Some(&uid) => {
                    self.uids.remove(0);
                    Change::Expunged {
                        uid: nz(uid),
                        modseq: None,
                    }
                }
                None => return,
            },
            _ => return,
        };
        // Ignored without a selected mailbox; Overflow ends the session: both are fine.
        let _ = server.mailbox_changed(change);
    }

    fn answer(&mut self, server: &mut Server, event: &Event) -> Result<(), String> {
        let answer = self.answer_kind();
        self.change(server, answer);
        let refuse = match answer {
            Answer::No => Some(StatusKind::No),
            Answer::Bad => Some(StatusKind::Bad),
            _ => None,
        };
        let result = match event {
            Event::AuthStep { .. } => server.auth_step(&self.store, server_nonce()),
            Event::AppendStart { .. } => match refuse {
                Some(kind) => server.complete(kind, None, "refused"),
                None => server.accept_append(),
            },
            Event::AppendEnd {
                last: true, index, ..
            } => match refuse {
                Some(kind) => server.complete(kind, None, "refused"),
                None => {
                    // One UID per message of the APPEND (MULTIAPPEND: `index + 1` of them).
                    let uids: Vec<NonZeroU32> = (0..=*index)
                        .map(|_| {
                            let uid = nz(self.uid_next);
                            self.uid_next = self.uid_next.saturating_add(1);
                            uid
                        })
                        .collect();
                    server.append_done(nz(7), &uids)
                }
            },
            Event::Command { command, messages } => {
                if let Some(kind) = refuse {
                    server.complete(kind, None, "refused")
                } else {
                    self.command(server, &command.body, messages)
                }
            }
            Event::StartTls => return Ok(()),
            _ => return Ok(()),
        };
        result.map_err(|e| format!("{e:?}"))
    }

    fn command(
        &mut self,
        server: &mut Server,
        body: &CommandBody<'static>,
        messages: &[(NonZeroU32, NonZeroU32)],
    ) -> Result<(), imap_proto::server::ServerError> {
        match body {
            CommandBody::Select { .. } | CommandBody::Examine { .. } => {
                self.uids = (1..=self.messages).collect();
                self.uid_next = self.messages + 1;
                let snapshot = Snapshot {
                    uid_validity: nz(7),
                    uid_next: nz(self.uid_next),
                    highest_modseq: None,
                    uids: self.uids.iter().map(|&u| nz(u)).collect(),
                };
                let mut info = SelectInfo::new(vec![Flag::Seen, Flag::Flagged]);
                info.delimiter = Delimiter::new('/').ok();
                info.recent_uids = self.uids.last().map(|&u| nz(u)).into_iter().collect();
                server.selected(snapshot, info)
            }
            CommandBody::Fetch { .. } => {
                for &(_, uid) in messages {
                    if !self.uids.contains(&uid.get()) {
                        continue;
                    }
                    let mut flags: List<FlagFetch<'static>, 2> = List::new();
                    flags.push(FlagFetch::Flag(Flag::Seen));
                    server.fetch(uid, vec![MessageDataItem::Flags(flags)])?;
                }
                server.complete(StatusKind::Ok, None, "FETCH completed")
            }
            CommandBody::Store { .. } => {
                for &(_, uid) in messages {
                    if self.uids.contains(&uid.get()) {
                        let _ = server.mailbox_changed(Change::Flags {
                            uid,
                            flags: vec![Flag::Deleted],
                            modseq: None,
                        });
                    }
                }
                server.complete(StatusKind::Ok, None, "STORE completed")
            }
            CommandBody::Expunge | CommandBody::UidExpunge { .. } => {
                let doomed: Vec<u32> = match body {
                    CommandBody::Expunge => self.uids.clone(),
                    _ => messages.iter().map(|&(_, uid)| uid.get()).collect(),
                };
                for uid in doomed {
                    if let Some(at) = self.uids.iter().position(|&u| u == uid) {
                        self.uids.remove(at);
                        let _ = server.mailbox_changed(Change::Expunged {
                            uid: nz(uid),
                            modseq: None,
                        });
                    }
                }
                server.complete(StatusKind::Ok, None, "EXPUNGE completed")
            }
            CommandBody::Search { return_options, .. } => {
                // `$` in the keys would read saved_search(); the answer is every message.
                let saved = server.saved_search().map_or(0, <[NonZeroU32]>::len);
                server.respond(Data::Search {
                    ids: messages.iter().map(|&(seq, _)| seq).collect(),
                    modseq: None,
                })?;
                if return_options.is_some() {
                    server.save_search_result(messages.iter().map(|&(_, uid)| uid).collect());
                }
                if saved > 0 {
                    server.respond_status(StatusKind::Ok, None, "a saved result was there")?;
                }
                server.complete(StatusKind::Ok, None, "SEARCH completed")
            }
            CommandBody::Move { .. } => {
                server.respond_status(StatusKind::Ok, Some(Code::Alert), "moving")?;
                server.complete(StatusKind::No, Some(Code::TryCreate), "no such mailbox")
            }
            CommandBody::Copy { .. } => {
                server.complete(StatusKind::No, Some(Code::TryCreate), "no such mailbox")
            }
            _ => server.complete(StatusKind::Ok, None, "done"),
        }
    }
}

/// Every message of `out` parses: the greeting first, then responses.
fn parses(out: &[u8]) {
    let mut framer = Framer::client(FramerConfig::default());
    let mut input = out;
    let mut first = true;
    while let Some(framed) = framer.next_frame(&mut input) {
        let Framed::Message(message) = framed else {
            panic!("output does not frame: {framed:?}");
        };
        if first {
            first = false;
            if let Err(error) = Greeting::parse(message) {
                panic!("greeting {:?}: {error}", String::from_utf8_lossy(message));
            }
        } else if let Err(error) = Response::parse_with(message, imap_proto::Quirks::STRICT) {
            panic!("response {:?}: {error}", String::from_utf8_lossy(message));
        }
    }
    assert!(input.is_empty(), "output ends inside a response: {input:?}");
}

struct Trace {
    out: Vec<u8>,
    tls_boundary: bool,
}

fn run(case: &Case<'_>, reads: &[&[u8]]) -> Trace {
    let now = Instant::now();
    let config = case.setup.config();
    let mut server = Server::new(config, now);
    let mut app = App {
        answers: case.answers.clone(),
        next: 0,
        messages: case.setup.messages.pick([0, 1, 5, 40]),
        uids: Vec::new(),
        uid_next: 1,
        store: Store::default(),
    };
    let mut lifecycle = Lifecycle::default();
    let mut trace = Trace {
        out: Vec::new(),
        tls_boundary: false,
    };
    let mut drain = |server: &mut Server, app: &mut App, trace: &mut Trace| {
        loop {
            while let Some(event) = server.poll_event() {
                let closed = lifecycle.observe(server, &event);
                match &event {
                    Event::StartTls => {
                        trace.tls_boundary = true;
                        server.tls_established(now).expect("a hand-off is pending");
                    }
                    Event::Closed(Err(SessionError::StartTlsInjection)) => {
                        trace.tls_boundary = true;
                    }
                    _ => {
                        if let Err(error) = app.answer(server, &event) {
                            panic!("decision refused: {error} for {event:?}");
                        }
                    }
                }
                if closed {
                    assert!(server.poll_event().is_none(), "event after Closed");
                }
            }
            while let Some(bytes) = server.poll_transmit() {
                trace.out.extend_from_slice(&bytes);
            }
            match server.poll_timeout() {
                Some(due) if due <= now && !server.is_closed() => {
                    server.handle_timeout(now);
                    if server.poll_timeout() == Some(due) && server.poll_event().is_none() {
                        break;
                    }
                }
                _ => break,
            }
        }
        check::settled(&*server);
    };
    drain(&mut server, &mut app, &mut trace);
    for (index, read) in reads.iter().enumerate() {
        if index % 2 == 0 {
            let mut buf = bytes::BytesMut::from(*read);
            server.feed_buf(now, &mut buf);
            assert!(buf.is_empty());
        } else {
            server.feed(now, read);
        }
        drain(&mut server, &mut app, &mut trace);
    }
    if case.timeout_at_end {
        server.handle_timeout(now + Duration::from_secs(7200));
        drain(&mut server, &mut app, &mut trace);
    }
    server.handle_eof();
    drain(&mut server, &mut app, &mut trace);
    lifecycle.ended(&mut server, now, b"a NOOP\r\n");
    parses(&trace.out);
    trace
}

fuzz_target!(|case: Case<'_>| {
    let input = case.input.0;
    let chunked = run(&case, &case.chunking.chunker().split(input));
    let whole = run(&case, &[input]);
    if !whole.tls_boundary && !chunked.tls_boundary {
        assert_eq!(
            String::from_utf8_lossy(&whole.out),
            String::from_utf8_lossy(&chunked.out),
            "chunking changed the output"
        );
    }
});
