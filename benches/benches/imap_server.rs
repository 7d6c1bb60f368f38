//! imap-proto server machine benchmark: one session serving `FETCH 1:* (FLAGS)` over a
//! 10,000-message mailbox, i.e. 10,000 `* n FETCH (FLAGS (...))` responses. The machine
//! parses the command, resolves `1:*` through its mailbox view into (sequence number, UID)
//! pairs, and the application answers each message with `Server::fetch`; output is taken
//! every 64 responses, as a driver writes while the application works, and once at the end.
//! Throughput is in octets written.
//!
//! Run with `cargo bench -p sansmail-benches --bench imap_server`.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imap_proto::command::CommandBody;
use imap_proto::fetch::MessageDataItem;
use imap_proto::flag::{Flag, FlagFetch};
use imap_proto::list::List;
use imap_proto::response::StatusKind;
use imap_proto::server::{Event, SelectInfo, Server, ServerConfig};
use imap_proto::view::Snapshot;
use mail_wire::Secret;
use mail_wire::sasl::{Authenticator, Nonce};

const MESSAGES: u32 = 10_000;

struct Accounts;
impl Authenticator for Accounts {
    fn verify_password(&self, user: &str, password: &Secret<String>) -> bool {
        user == "alice" && password.ct_eq(b"secret")
    }
}

fn uid(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).expect("non-zero")
}

/// The flags of message `n`: every other one seen, every seventh flagged too.
fn flags(n: u32) -> List<FlagFetch<'static>, 2> {
    let mut list = List::new();
    if n % 2 == 0 {
        list.push(FlagFetch::Flag(Flag::Seen));
    }
    if n % 7 == 0 {
        list.push(FlagFetch::Flag(Flag::Flagged));
    }
    list
}

/// A session logged in, INBOX selected with `MESSAGES` messages (UIDs 1 to `MESSAGES`).
fn selected_server(now: Instant) -> Server {
    let mut config = ServerConfig::default();
    config.allow_plaintext_auth = true;
    config.auth_failure_delay = Duration::ZERO;
    let mut server = Server::new(config, now);
    server.feed(now, b"a1 LOGIN alice secret\r\na2 SELECT INBOX\r\n");
    while let Some(event) = server.poll_event() {
        match event {
            Event::AuthStep { .. } => server
                .auth_step(&Accounts, Nonce::new("fyko+d2lbbFgONRv9qkxdawL").unwrap())
                .unwrap(),
            Event::Command { .. } => {
                let snapshot = Snapshot {
                    uid_validity: uid(1),
                    uid_next: uid(MESSAGES + 1),
                    highest_modseq: None,
                    uids: (1..=MESSAGES).map(uid).collect(),
                };
                server
                    .selected(snapshot, SelectInfo::new(vec![Flag::Seen, Flag::Flagged]))
                    .unwrap();
            }
            _ => {}
        }
    }
    while server.poll_transmit().is_some() {}
    server
}

/// One `FETCH 1:* (FLAGS)` answered whole: the octets written.
fn fetch_all_flags(server: &mut Server, now: Instant) -> usize {
    server.feed(now, b"f1 FETCH 1:* (FLAGS)\r\n");
    let mut written = 0;
    while let Some(event) = server.poll_event() {
        if let Event::Command { command, messages } = event {
            assert!(matches!(command.body, CommandBody::Fetch { .. }));
            for (i, &(_, message)) in messages.iter().enumerate() {
                let items = vec![MessageDataItem::Flags(flags(message.get()))];
                server.fetch(message, items).unwrap();
                if i % 64 == 63 {
                    while let Some(bytes) = server.poll_transmit() {
                        written += black_box(bytes).len();
                    }
                }
            }
            server
                .complete(StatusKind::Ok, None, "FETCH completed")
                .unwrap();
        }
    }
    while let Some(bytes) = server.poll_transmit() {
        written += black_box(bytes).len();
    }
    written
}

fn bench(c: &mut Criterion) {
    let now = Instant::now();
    let mut server = selected_server(now);
    let size = fetch_all_flags(&mut server, now);
    let mut check = Vec::new();
    server.feed(now, b"f2 FETCH 1:* (FLAGS)\r\n");
    while let Some(event) = server.poll_event() {
        if let Event::Command { messages, .. } = event {
            assert_eq!(messages.len(), MESSAGES as usize);
            for &(_, message) in &messages {
                server
                    .fetch(message, vec![MessageDataItem::Flags(flags(message.get()))])
                    .unwrap();
            }
            server
                .complete(StatusKind::Ok, None, "FETCH completed")
                .unwrap();
        }
    }
    while let Some(bytes) = server.poll_transmit() {
        check.extend_from_slice(&bytes);
    }
    let text = String::from_utf8(check).unwrap();
    assert!(text.starts_with("* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS (\\Seen))\r\n"));
    assert!(text.ends_with("* 10000 FETCH (FLAGS (\\Seen))\r\nf2 OK FETCH completed\r\n"));
    assert_eq!(text.matches(" FETCH (FLAGS ").count(), MESSAGES as usize);
    println!("imap_server: FETCH 1:* (FLAGS) over {MESSAGES} messages writes {size} octets");

    let mut group = c.benchmark_group("imap_server");
    group.throughput(Throughput::Bytes(size as u64));
    group.bench_function("fetch_flags_10000", |b| {
        b.iter(|| black_box(fetch_all_flags(&mut server, now)))
    });
    group.finish();
}

/// `criterion_group!` defines an undocumented public function; keep it out of the lint.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, bench);
}
criterion_main!(group::benches);
