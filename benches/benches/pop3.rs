//! pop3-proto benchmarks: response and listing parsing, a 10 MiB message streamed out by the
//! server machine for `RETR` (64 KiB pieces, output taken after each as a driver does) and
//! read back by the client machine (64 KiB reads). Before the timings, the heap held by an
//! idle server session (greeting sent, nothing else) and an idle logged-in client session
//! is measured and printed.
//!
//! Run with `cargo bench -p sansmail-benches --bench pop3`.

use std::alloc::System;
use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mail_wire::Secret;
use mail_wire::sasl::{Authenticator, Nonce};
use pop3_proto::client::{Client, ClientConfig, Credentials, TlsPolicy};
use pop3_proto::server::{Event, MessageInfo, Server, ServerConfig};
use pop3_proto::{Response, ScanListing, Uid, UidListing};
use sansmail_benches::message_body;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const MESSAGE_SIZE: usize = 10 << 20;
const PIECE: usize = 64 << 10;

struct Accounts;
impl Authenticator for Accounts {
    fn verify_password(&self, user: &str, password: &Secret<String>) -> bool {
        user == "alice" && password.ct_eq(b"secret")
    }
}

/// A server logged in with one message of `size` octets.
fn logged_in_server(size: usize) -> Server {
    let now = Instant::now();
    let mut config = ServerConfig::default();
    config.allow_plaintext_auth = true;
    let mut server = Server::new(config, now);
    server.feed(now, b"USER alice\r\nPASS secret\r\n");
    while let Some(event) = server.poll_event() {
        match event {
            Event::AuthStep { .. } => server
                .auth_step(&Accounts, Nonce::new("fyko+d2lbbFgONRv9qkxdawL").unwrap())
                .unwrap(),
            Event::OpenMaildrop { .. } => server
                .open_maildrop(vec![MessageInfo::new(size as u64, Uid::new("1").unwrap())])
                .unwrap(),
            _ => {}
        }
    }
    while server.poll_transmit().is_some() {}
    server
}

/// One RETR of `message` through the server: returns the octets written.
fn retr(server: &mut Server, message: &[u8]) -> usize {
    let now = Instant::now();
    server.feed(now, b"RETR 1\r\n");
    let mut written = 0;
    while let Some(event) = server.poll_event() {
        if let Event::Retrieve { .. } = event {
            for piece in message.chunks(PIECE) {
                server.send_message_data(piece).unwrap();
                while let Some(bytes) = server.poll_transmit() {
                    written += black_box(bytes).len();
                }
            }
            server.end_message().unwrap();
        }
    }
    while let Some(bytes) = server.poll_transmit() {
        written += bytes.len();
    }
    written
}

/// A client logged in (plaintext allowed), as after `+OK` to PASS.
fn logged_in_client() -> Client {
    let now = Instant::now();
    let mut config =
        ClientConfig::new(Credentials::password("alice", Secret::new("secret".into())));
    config.tls = TlsPolicy::Never;
    config.allow_plaintext_auth = true;
    let mut client = Client::new(config, now);
    for read in [
        &b"+OK ready\r\n"[..],
        b"-ERR\r\n",
        b"+OK\r\n",
        b"+OK in\r\n",
    ] {
        while client.poll_transmit().is_some() {}
        client.feed(now, read);
        while client.poll_event().is_some() {}
    }
    client
}

fn memory() {
    let n = 1000;
    let now = Instant::now();
    let region = Region::new(GLOBAL);
    let mut servers: Vec<Server> = (0..n)
        .map(|_| {
            let mut server = Server::new(ServerConfig::default(), now);
            while server.poll_transmit().is_some() {}
            server
        })
        .collect();
    let change = region.change();
    let held = change.bytes_allocated - change.bytes_deallocated;
    println!(
        "idle POP3 server session: {:.1} KiB heap + {} B inline",
        held as f64 / n as f64 / 1024.0,
        std::mem::size_of::<Server>()
    );
    servers.clear();
    let region = Region::new(GLOBAL);
    let clients: Vec<Client> = (0..n).map(|_| logged_in_client()).collect();
    let change = region.change();
    let held = change.bytes_allocated - change.bytes_deallocated;
    println!(
        "idle logged-in POP3 client session: {:.1} KiB heap + {} B inline",
        held as f64 / n as f64 / 1024.0,
        std::mem::size_of::<Client>()
    );
    drop(clients);
}

fn bench(c: &mut Criterion) {
    memory();
    let mut group = c.benchmark_group("pop3");
    let lines: [&[u8]; 3] = [
        b"+OK maildrop has 2 messages (320 octets)",
        b"-ERR [IN-USE] maildrop already locked",
        b"+OK 2 320",
    ];
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("parse 3 status lines", |b| {
        b.iter(|| {
            for line in lines {
                black_box(Response::parse(black_box(line)).unwrap());
            }
        })
    });
    group.throughput(Throughput::Elements(2));
    group.bench_function("parse a LIST and a UIDL line", |b| {
        b.iter(|| {
            black_box(ScanListing::parse(black_box(b"17 48213")).unwrap());
            black_box(UidListing::parse(black_box(b"17 1735689600.M1P2Q3.host,S=48213")).unwrap());
        })
    });

    let message = message_body(MESSAGE_SIZE);
    group.throughput(Throughput::Bytes(message.len() as u64));
    group.sample_size(20);
    let mut server = logged_in_server(message.len());
    group.bench_function("server RETR 10 MiB", |b| {
        b.iter(|| black_box(retr(&mut server, &message)))
    });
    // What the server writes, read back by the client in 64 KiB reads.
    let mut wire = Vec::new();
    {
        let mut server = logged_in_server(message.len());
        server.feed(Instant::now(), b"RETR 1\r\n");
        while let Some(event) = server.poll_event() {
            if let Event::Retrieve { .. } = event {
                server.send_message_data(&message).unwrap();
                server.end_message().unwrap();
            }
        }
        while let Some(bytes) = server.poll_transmit() {
            wire.extend_from_slice(&bytes);
        }
    }
    group.bench_function("client RETR 10 MiB", |b| {
        b.iter_batched(
            || {
                let mut client = logged_in_client();
                client.retr(Instant::now(), 1).unwrap();
                while client.poll_transmit().is_some() {}
                client
            },
            |mut client| {
                let now = Instant::now();
                let mut got = 0;
                for read in wire.chunks(PIECE) {
                    client.feed(now, read);
                    while let Some(event) = client.poll_event() {
                        if let pop3_proto::client::Event::MessageChunk(chunk) = event {
                            got += chunk.len();
                        }
                    }
                }
                assert!(got >= message.len());
                client
            },
            criterion::BatchSize::LargeInput,
        )
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
