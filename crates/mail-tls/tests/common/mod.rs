//! Test helpers: run-time certificates (rcgen), temp dirs, in-memory handshakes, external peers.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mail_tls::pki_types::CertificateDer;
use mail_tls::rustls::{ClientConnection, RootCertStore, ServerConnection};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// A unique directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "mail-tls-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, data).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A test certificate authority.
pub struct Ca {
    pub cert: rcgen::Certificate,
    pub key: KeyPair,
}

/// A leaf certificate issued by [`Ca`].
#[derive(Clone)]
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: CertificateDer<'static>,
}

impl Ca {
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "mail-tls test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self { cert, key }
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    pub fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert.der().clone()).unwrap();
        roots
    }

    pub fn issue(&self, names: &[&str], org: &str) -> Leaf {
        self.issue_with(names, org, |_| {})
    }

    pub fn issue_with(
        &self,
        names: &[&str],
        org: &str,
        tweak: impl FnOnce(&mut CertificateParams),
    ) -> Leaf {
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params
            .distinguished_name
            .push(DnType::OrganizationName, org);
        tweak(&mut params);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
        }
    }
}

impl Leaf {
    /// Write `<stem>.crt` and `<stem>.key`; returns their paths.
    pub fn write(&self, dir: &TempDir, stem: &str) -> mail_tls::PemFiles {
        let c = dir.write(&format!("{stem}.crt"), self.cert_pem.as_bytes());
        let k = dir.write(&format!("{stem}.key"), self.key_pem.as_bytes());
        mail_tls::PemFiles::new(c, k)
    }

    pub fn certified_key(&self) -> Arc<mail_tls::rustls::sign::CertifiedKey> {
        let dir = TempDir::new("leaf");
        Arc::new(self.write(&dir, "leaf").load().unwrap())
    }
}

/// Which side of an in-memory handshake failed.
#[derive(Debug)]
pub enum Failed {
    Client(mail_tls::rustls::Error),
    Server(mail_tls::rustls::Error),
}

/// Exchange records until neither side has anything to send. Returns the first error.
pub fn pump(client: &mut ClientConnection, server: &mut ServerConnection) -> Result<(), Failed> {
    for _ in 0..32 {
        let mut c2s = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut c2s).unwrap();
        }
        let mut progressed = !c2s.is_empty();
        let mut rd = &c2s[..];
        while !rd.is_empty() {
            server.read_tls(&mut rd).unwrap();
            server.process_new_packets().map_err(Failed::Server)?;
        }
        let mut s2c = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut s2c).unwrap();
        }
        progressed |= !s2c.is_empty();
        let mut rd = &s2c[..];
        while !rd.is_empty() {
            client.read_tls(&mut rd).unwrap();
            client.process_new_packets().map_err(Failed::Client)?;
        }
        if !progressed {
            return Ok(());
        }
    }
    panic!("handshake did not settle");
}

/// Like [`pump`], but keeps delivering the server's alert to the client after a server error,
/// so that both sides' errors are visible.
pub fn pump_both(
    client: &mut ClientConnection,
    server: &mut ServerConnection,
) -> (
    Option<mail_tls::rustls::Error>,
    Option<mail_tls::rustls::Error>,
) {
    match pump(client, server) {
        Ok(()) => (None, None),
        Err(Failed::Client(e)) => (Some(e), None),
        Err(Failed::Server(e)) => {
            let mut s2c = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut s2c).unwrap();
            }
            let mut rd = &s2c[..];
            let mut client_err = None;
            while !rd.is_empty() {
                client.read_tls(&mut rd).unwrap();
                if let Err(e) = client.process_new_packets() {
                    client_err = Some(e);
                    break;
                }
            }
            (client_err, Some(e))
        }
    }
}

fn ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

fn tool(program: &str, version_arg: &str) -> Option<PathBuf> {
    let ok = Command::new(program)
        .arg(version_arg)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        return Some(PathBuf::from(program));
    }
    if ci() {
        panic!("{program} is required when CI=true (install it: apt-get install {program})");
    }
    eprintln!(
        "SKIPPED: {program} not found; this interop test needs it (it never skips with CI=true)"
    );
    None
}

/// `python3`, or `None` (with a printed reason) outside CI; panics under CI=true.
pub fn python3() -> Option<PathBuf> {
    tool("python3", "--version")
}

/// `openssl`, or `None` (with a printed reason) outside CI; panics under CI=true.
pub fn openssl() -> Option<PathBuf> {
    tool("openssl", "version")
}

/// Kills a child process on drop, so a failed test never leaves a peer running.
pub struct ChildGuard(pub Option<std::process::Child>);

impl ChildGuard {
    pub fn take(&mut self) -> std::process::Child {
        self.0.take().unwrap()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn path_str(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}
