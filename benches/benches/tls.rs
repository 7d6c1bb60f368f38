//! mail-tls benchmarks: full TLS handshakes driven in memory (client and server both ours, so
//! the figure is the CPU cost of one handshake on both sides, without sockets), and the
//! per-connection sans-IO checks (STARTTLS boundary, first-bytes classification).
//!
//! Run with `cargo bench -p sansmail-benches --bench tls`. The loopback-TCP figure lives in the
//! `tls-load` example of the mail-tls crate.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mail_tls::rustls::{self, ClientConfig, ClientConnection, ServerConfig, ServerConnection};
use mail_tls::{
    CertResolver, CertSet, ClientTls, ServerTls, Service, check_boundary, classify_first_bytes,
};

fn configs() -> (Arc<ServerConfig>, Arc<ServerConfig>, Arc<ClientConfig>) {
    let dev = mail_tls::dev_certs::generate(&["localhost"]).expect("generate");
    let dir = std::env::temp_dir().join(format!("mail-tls-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let files = dev
        .write(&dir.join("cert.pem"), &dir.join("key.pem"))
        .expect("write");
    let mut set = CertSet::new();
    set.set_default(Arc::new(files.load().expect("load")));
    let cert = mail_tls::load_certificates(&files.cert)
        .expect("cert")
        .remove(0);
    let _ = std::fs::remove_dir_all(&dir);
    let server = ServerTls::new(Service::Imap)
        .build_with_set(set.clone())
        .expect("server");
    // The same certificate on a server restricted to TLS 1.2.
    let mut tls12 = ServerConfig::builder_with_provider(server.crypto_provider().clone())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .expect("versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(CertResolver::new(set)));
    tls12.alpn_protocols = server.alpn_protocols.clone();
    // Resumption off, so that every iteration is a full handshake.
    let mut client = ClientConfig::clone(&ClientTls::pinned(vec![cert]).build().expect("client"));
    client.resumption = rustls::client::Resumption::disabled();
    (server, Arc::new(tls12), Arc::new(client))
}

fn handshake(client: &Arc<ClientConfig>, server: &Arc<ServerConfig>) {
    let name = mail_tls::server_name("localhost").expect("name");
    let mut c = ClientConnection::new(client.clone(), name).expect("client");
    let mut s = ServerConnection::new(server.clone()).expect("server");
    let mut buf = Vec::with_capacity(4096);
    while c.is_handshaking() || s.is_handshaking() {
        buf.clear();
        while c.wants_write() {
            c.write_tls(&mut buf).expect("write");
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            s.read_tls(&mut rd).expect("read");
            s.process_new_packets().expect("server");
        }
        buf.clear();
        while s.wants_write() {
            s.write_tls(&mut buf).expect("write");
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            c.read_tls(&mut rd).expect("read");
            c.process_new_packets().expect("client");
        }
    }
    black_box((c, s));
}

fn bench_handshakes(c: &mut Criterion) {
    let (server, server12, client) = configs();
    let mut g = c.benchmark_group("tls_handshake_in_memory");
    g.throughput(Throughput::Elements(1));
    g.bench_function("tls13_ecdsa_p256_full", |b| {
        b.iter(|| handshake(&client, &server))
    });
    g.bench_function("tls12_ecdsa_p256_full", |b| {
        b.iter(|| handshake(&client, &server12))
    });
    g.finish();
}

fn bench_checks(c: &mut Criterion) {
    let hello = [0x16u8, 0x03, 0x01, 0x02, 0x00, 0x01];
    let greeting = b"220 mx.example.org ESMTP ready\r\n";
    let mut g = c.benchmark_group("tls_sans_io_checks");
    g.throughput(Throughput::Bytes(greeting.len() as u64));
    g.bench_function("classify_smtp_greeting", |b| {
        b.iter(|| classify_first_bytes(black_box(greeting)))
    });
    g.bench_function("classify_client_hello", |b| {
        b.iter(|| classify_first_bytes(black_box(&hello)))
    });
    g.bench_function("check_boundary_clean", |b| {
        b.iter(|| check_boundary(black_box(b""), black_box(b"")))
    });
    g.finish();
}

/// `criterion_group!` defines an undocumented public function; keep it out of the lint.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, bench_handshakes, bench_checks);
}
criterion_main!(group::benches);
