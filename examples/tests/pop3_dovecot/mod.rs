//! A Dovecot POP3 server for the end-to-end tests of `pop3-fetch` and `pop3-load`: the shared
//! harness `mail_testkit::dovecot` (a server we did not write, Debian `dovecot-pop3d`, started
//! by each test with a temporary configuration on free loopback ports, STLS on one, implicit
//! TLS on the other) with one user [`USER`] / [`PASSWORD`] and a Maildir the test fills.
//! Stopped and removed on drop.
//!
//! Without Dovecot on the machine [`Dovecot::start`] prints why and returns `None`, except
//! under `CI=true`, where it panics.

#![allow(dead_code)] // each test binary that includes this module uses a different part of it

use std::ops::Deref;
use std::path::{Path, PathBuf};

use mail_testkit::dovecot::{self as harness, Config, Protocol};

/// The account's user name.
pub(crate) const USER: &str = "alice";
/// The account's password.
pub(crate) const PASSWORD: &str = "pop3 fetch secret";

pub(crate) fn ci() -> bool {
    harness::ci()
}

/// A running Dovecot POP3 server (the shared harness's methods through `Deref`).
pub(crate) struct Dovecot {
    inner: harness::Dovecot,
    /// The STLS port (plain POP3).
    pub(crate) port: u16,
    /// The implicit-TLS port (pop3s).
    pub(crate) tls_port: u16,
    pub(crate) dir: PathBuf,
}

impl Dovecot {
    /// Starts Dovecot with `messages` in the user's Maildir (`new/`).
    pub(crate) fn start(tag: &str, messages: &[&[u8]]) -> Option<Dovecot> {
        let cert = mail_tls::dev_certs::generate(&["localhost"]).expect("a certificate");
        let config = Config::new(&format!("p3tools-{tag}"), Protocol::Pop3)
            .user(USER, PASSWORD)
            .tls(&cert.cert_pem, &cert.key_pem);
        let inner = harness::Dovecot::start(config)?;
        for message in messages {
            inner.deliver(message);
        }
        Some(Dovecot {
            port: inner.port,
            tls_port: inner.tls_port.expect("TLS is configured"),
            dir: inner.dir.clone(),
            inner,
        })
    }
}

impl Deref for Dovecot {
    type Target = harness::Dovecot;
    fn deref(&self) -> &harness::Dovecot {
        &self.inner
    }
}

/// The contents of the files in `dir`, sorted.
pub(crate) fn read_dir_files(dir: &Path) -> Vec<Vec<u8>> {
    harness::read_dir_files(dir)
}

/// `text` with every line ending CRLF, as POP3 sends it.
pub(crate) fn crlf(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 16);
    let mut previous = 0u8;
    for &b in text {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
    out
}
