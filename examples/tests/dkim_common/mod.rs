//! What the DKIM tests share: the server's modules they sign with, a test message, and
//! mail-auth's verifier fed with the TXT records either from memory or from a DNS server.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fs;
use std::hash::Hash;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts,
};
use mail_auth::{
    AuthenticatedMessage, DkimResult, MessageAuthenticator, Parameters, ResolverCache, Txt,
};

/// A fresh directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sansmail-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A message from `from`, with most of the signed header fields and a body whose whitespace
/// relaxed canonicalisation folds.
pub(crate) fn message(from: &str) -> Vec<u8> {
    format!(
        "From: Alice Example <{from}>\r\n\
         To: bob@elsewhere.test\r\n\
         Subject: Quarterly figures\r\n\
         Date: Sun, 06 Dec 2026 23:00:00 +0000\r\n\
         Message-ID: <figures-1@example.org>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         X-Mailer: not signed\r\n\
         \r\n\
         Dear Bob,  \r\n\
         \r\n\
         the figures\tare attached.\r\n\
         \r\n\
         \r\n"
    )
    .into_bytes()
}

/// TXT records handed to mail-auth as if they had been looked up.
#[derive(Default)]
pub(crate) struct TxtCache(Mutex<HashMap<Box<str>, Txt>>);

impl TxtCache {
    /// A cache holding `records` (name, value), as `Dkim::dns_records` gives them.
    pub(crate) fn with(records: &[(String, String)]) -> TxtCache {
        let cache = TxtCache::default();
        for (name, value) in records {
            let key = DomainKey::parse(value.as_bytes()).expect("a valid DKIM record");
            cache
                .0
                .lock()
                .unwrap()
                .insert(format!("{name}.").into(), Txt::DomainKey(Arc::new(key)));
        }
        cache
    }
}

impl ResolverCache<Box<str>, Txt> for TxtCache {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().unwrap().get(name).cloned()
    }

    fn remove<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().unwrap().remove(name)
    }

    fn insert(&self, key: Box<str>, value: Txt, _: Instant) {
        self.0.lock().unwrap().insert(key, value);
    }
}

/// A mail-auth verifier that asks `server` (UDP, then TCP), or nobody.
pub(crate) fn authenticator(server: Option<SocketAddr>) -> MessageAuthenticator {
    let servers = match server {
        Some(addr) => {
            let mut udp = ConnectionConfig::udp();
            udp.port = addr.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = addr.port();
            vec![NameServerConfig::new(addr.ip(), true, vec![udp, tcp])]
        }
        None => Vec::new(),
    };
    let mut options = ResolverOpts::default();
    options.attempts = 2;
    MessageAuthenticator::new(ResolverConfig::from_parts(None, vec![], servers), options)
        .expect("a resolver")
}

/// The result of each DKIM signature of `message` (as `(a=, result)`), checked by mail-auth
/// with the keys from `cache` or, without one, from `authenticator`'s DNS server.
pub(crate) fn verify(
    authenticator: &MessageAuthenticator,
    cache: Option<&TxtCache>,
    message: &[u8],
) -> Vec<(String, DkimResult)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let parsed = AuthenticatedMessage::parse(message).expect("a parsable message");
    let outputs = runtime.block_on(async {
        match cache {
            Some(cache) => {
                authenticator
                    .verify_dkim(Parameters::new(&parsed).with_txt_cache(cache))
                    .await
            }
            None => authenticator.verify_dkim(&parsed).await,
        }
    });
    outputs
        .iter()
        .map(|output| {
            let algorithm = output
                .signature()
                .map(|s| format!("{:?}", s.a))
                .unwrap_or_default();
            (algorithm, output.result().clone())
        })
        .collect()
}

/// The value of tag `tag` in a `DKIM-Signature:` field (whitespace removed).
pub(crate) fn tag(field: &str, tag: &str) -> Option<String> {
    let value = field.split_once(':')?.1;
    value.split(';').find_map(|part| {
        let (name, value) = part.split_once('=')?;
        (name.trim() == tag).then(|| value.split_whitespace().collect())
    })
}

/// The `DKIM-Signature:` fields of `signatures` (the bytes `Dkim::sign` returns), unfolded.
pub(crate) fn fields(signatures: &[u8]) -> Vec<String> {
    let text = String::from_utf8(signatures.to_vec()).expect("ASCII header fields");
    assert!(text.ends_with("\r\n"), "{text:?}");
    let mut fields: Vec<String> = Vec::new();
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        match line.starts_with([' ', '\t']) {
            true => fields
                .last_mut()
                .expect("a field to continue")
                .push_str(line),
            false => fields.push(line.to_owned()),
        }
    }
    fields
}

/// Whether the tests run under CI (`CI=true`), where a missing peer fails a test.
pub(crate) fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A running dnsmasq (Debian's `dnsmasq-base`) on a free loopback port, serving the TXT
/// records it was started with; killed on drop.
pub(crate) struct Dnsmasq {
    child: Child,
    /// Where it listens, UDP and TCP.
    pub(crate) addr: SocketAddr,
}

impl Dnsmasq {
    /// Starts dnsmasq serving each `(name, strings)` as one TXT record of those
    /// character-strings; `None` (outside CI) when dnsmasq is not installed.
    pub(crate) fn start(records: &[(String, Vec<String>)]) -> Option<Dnsmasq> {
        let program = ["dnsmasq", "/usr/sbin/dnsmasq"].into_iter().find(|p| {
            Command::new(p)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        let Some(program) = program else {
            assert!(
                !ci(),
                "dnsmasq (Debian's dnsmasq-base) is required when CI=true"
            );
            eprintln!("SKIPPED: dnsmasq not found (this test never skips with CI=true)");
            return None;
        };
        let options: Vec<String> = records
            .iter()
            .map(|(name, strings)| {
                // dnsmasq keeps quotes given outside a configuration file: the strings go
                // as they are, which works as long as none holds a comma (no DKIM record does).
                assert!(strings.iter().all(|s| !s.contains(',')), "{strings:?}");
                format!("--txt-record={name},{}", strings.join(","))
            })
            .collect();
        // A port that was free may be taken before dnsmasq binds it: try a few.
        for _ in 0..5 {
            let port = free_udp_and_tcp_port();
            let child = Command::new(program)
                .args([
                    "--keep-in-foreground".to_owned(),
                    format!("--port={port}"),
                    "--listen-address=127.0.0.1".into(),
                    "--bind-interfaces".into(),
                    "--no-resolv".into(),
                    "--no-hosts".into(),
                    "--conf-file=/dev/null".into(),
                    "--pid-file=".into(),
                ])
                .args(&options)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start dnsmasq");
            let mut server = Dnsmasq {
                child,
                addr: ([127, 0, 0, 1], port).into(),
            };
            if server.wait_ready() {
                return Some(server);
            }
        }
        panic!("dnsmasq did not start on any of 5 ports");
    }

    /// Waits (bounded) until it answers a query; false if it exited first (port taken).
    fn wait_ready(&mut self) -> bool {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        // A query for `ready.invalid. A`: any answer will do.
        let mut query = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        query.extend_from_slice(b"\x05ready\x07invalid\x00\x00\x01\x00\x01");
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if self.child.try_wait().ok().flatten().is_some() {
                return false;
            }
            let _ = socket.send_to(&query, self.addr);
            let mut buffer = [0u8; 512];
            if socket.recv_from(&mut buffer).is_ok() {
                return true;
            }
        }
        panic!("dnsmasq did not answer within 20 s");
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port free for both UDP and TCP at the time of asking.
fn free_udp_and_tcp_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket");
        let port = udp.local_addr().expect("local address").port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
