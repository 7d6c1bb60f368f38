//! Load figures for docs/performance.md: full TLS handshakes per second over loopback TCP, and
//! the memory an idle TLS session holds.
//!
//! ```text
//! cargo run --release -p mail-tls --features tokio,dev-certs --example tls-load -- [SECONDS] [SESSIONS] [server|client]
//! ```
//!
//! Handshakes run client and server on one current-thread tokio runtime, so the rate is the
//! cost of *both* sides on one core. Memory is measured as the growth of the process's resident
//! set (Linux `/proc/self/statm`) while holding many established, idle rustls connections, after
//! one short line has gone each way (so the buffers have been used once).

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mail_tls::rustls::{ClientConnection, ServerConnection};
use mail_tls::tokio::{HandshakeOptions, accept_implicit, connect_implicit};
use mail_tls::{CertSet, ClientTls, ServerTls, Service, server_name};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn pump(c: &mut ClientConnection, s: &mut ServerConnection) {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        while c.wants_write() {
            c.write_tls(&mut buf).expect("client write_tls");
        }
        let mut moved = !buf.is_empty();
        let mut rd = &buf[..];
        while !rd.is_empty() {
            s.read_tls(&mut rd).expect("server read_tls");
            s.process_new_packets().expect("server handshake");
        }
        buf.clear();
        while s.wants_write() {
            s.write_tls(&mut buf).expect("server write_tls");
        }
        moved |= !buf.is_empty();
        let mut rd = &buf[..];
        while !rd.is_empty() {
            c.read_tls(&mut rd).expect("client read_tls");
            c.process_new_packets().expect("client handshake");
        }
        if !moved {
            return;
        }
    }
}

/// The usage text printed by `--help`.
const USAGE: &str = "\
tls-load: full TLS handshakes per second over loopback, and the memory of idle sessions.

USAGE:
    cargo run --release -p mail-tls --features tokio,dev-certs --example tls-load -- \\
        [SECONDS] [SESSIONS] [server|client]

    SECONDS     How long to run handshakes [default: 5]
    SESSIONS    How many idle sessions to hold for the memory figure [default: 2000]
    server      Measure the server side's idle memory [default]
    client      Measure the client side's instead
    -h, --help  Print this text
";

fn main() {
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        print!("{USAGE}");
        return;
    }
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let sessions: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2000);
    // Which side's idle memory to measure; one per run, so freed pages are not reused.
    let side = args.next().unwrap_or_else(|| "server".into());

    let dev = mail_tls::dev_certs::generate(&["localhost"]).expect("generate certificate");
    let dir = std::env::temp_dir().join(format!("mail-tls-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let files = dev
        .write(&dir.join("cert.pem"), &dir.join("key.pem"))
        .expect("write PEM");
    let key = Arc::new(files.load().expect("load"));
    let mut set = CertSet::new();
    set.set_default(key.clone());
    let server = ServerTls::new(Service::Imap)
        .build_with_set(set)
        .expect("server config");
    let cert = mail_tls::load_certificates(&files.cert)
        .expect("cert")
        .remove(0);
    let client = ClientTls::pinned(vec![cert])
        .build()
        .expect("client config");
    let _ = std::fs::remove_dir_all(&dir);

    // 1. Handshakes per second over loopback TCP.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (count, elapsed) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let scfg = server.clone();
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let scfg = scfg.clone();
                tokio::spawn(async move {
                    let opts = HandshakeOptions::new(Duration::from_secs(5));
                    if let Ok(mut tls) = accept_implicit(scfg, sock, opts).await {
                        let _ = tls.write_all(b"* OK ready\r\n").await;
                        let _ = tls.shutdown().await;
                    }
                });
            }
        });
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_secs(seconds) {
            let sock = tokio::net::TcpStream::connect(addr).await.expect("connect");
            let opts = HandshakeOptions::new(Duration::from_secs(5));
            let mut tls = connect_implicit(
                client.clone(),
                server_name("localhost").expect("name"),
                sock,
                opts,
            )
            .await
            .expect("handshake");
            let mut greeting = [0u8; 12];
            tls.read_exact(&mut greeting).await.expect("greeting");
            n += 1;
        }
        (n, start.elapsed())
    });
    println!(
        "loopback TCP, TLS 1.3, ECDSA P-256, X25519, client+server on one core: {count} handshakes \
         in {:.2}s = {:.0} handshakes/s",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    );

    // 2. Memory held by idle sessions.
    println!(
        "size_of: ServerConnection {} B, ClientConnection {} B",
        std::mem::size_of::<ServerConnection>(),
        std::mem::size_of::<ClientConnection>()
    );
    let establish = || {
        let mut c = ClientConnection::new(client.clone(), server_name("localhost").expect("name"))
            .expect("client");
        let mut s = ServerConnection::new(server.clone()).expect("server");
        pump(&mut c, &mut s);
        s.writer().write_all(b"* OK ready\r\n").expect("write");
        pump(&mut c, &mut s);
        let mut line = [0u8; 12];
        c.reader().read_exact(&mut line).expect("read");
        c.writer().write_all(b"a1 NOOP\r\n").expect("write");
        pump(&mut c, &mut s);
        let mut line = [0u8; 9];
        s.reader().read_exact(&mut line).expect("read");
        (c, s)
    };
    // Warm up the allocator so that the first measurement is not skewed.
    drop((0..64).map(|_| establish()).collect::<Vec<_>>());
    let per_session = |keep_server: bool| {
        let before = rss_bytes()?;
        let mut kept_servers = Vec::with_capacity(sessions);
        let mut kept_clients = Vec::with_capacity(sessions);
        for _ in 0..sessions {
            let (c, s) = establish();
            if keep_server {
                kept_servers.push(s);
            } else {
                kept_clients.push(c);
            }
        }
        let after = rss_bytes()?;
        Some(after.saturating_sub(before) as f64 / sessions as f64 / 1024.0)
    };
    match per_session(side != "client") {
        Some(kib) => println!(
            "{sessions} idle {side} sessions (after one line each way): {kib:.1} KiB RSS each"
        ),
        None => println!("RSS unavailable (not Linux?)"),
    }
}
