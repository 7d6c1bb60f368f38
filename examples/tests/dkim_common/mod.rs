//! What the DKIM tests share: the server's modules they sign with, a test message, and
//! mail-auth's verifier fed with the TXT records either from memory or from a DNS server.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fs;
use std::hash::Hash;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

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
