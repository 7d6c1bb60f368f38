//! A Dovecot IMAP server for interop tests: the shared harness `mail_testkit::dovecot` (a
//! server we did not write, Debian `dovecot-imapd`, started by each test with a temporary
//! configuration on free loopback ports: plaintext with STARTTLS on one, implicit TLS on the
//! other; `ssl = required`, so credentials are refused before TLS and LOGINDISABLED is
//! advertised there), one user [`USER`] with [`PASSWORD`] and a Maildir, TLS with a
//! certificate from mail-tls's dev certificates. Stopped and removed on drop.
//!
//! [`Dovecot::append`] (the harness's, through `Deref`) adds a message through a second
//! connection of Python's `imaplib` (another IMAP client we did not write), as a second
//! device would.
//!
//! Without Dovecot on the machine [`Dovecot::start`] prints why and returns `None`, except
//! under `CI=true`, where it panics. Shared by `crates/imap-proto/tests/client_dovecot.rs` and
//! `examples/tests/imap_watch.rs`.

#![allow(dead_code)] // each test binary that includes this module uses a different part of it

use std::ops::Deref;
use std::path::PathBuf;

use mail_testkit::dovecot::{self as harness, Config, Protocol};

/// The account's user name.
pub(crate) const USER: &str = "alice";
/// The account's password.
pub(crate) const PASSWORD: &str = "imap secret";

/// Whether the tests run under CI, where nothing skips.
pub(crate) fn ci() -> bool {
    harness::ci()
}

/// A running Dovecot IMAP server (the shared harness's methods through `Deref`).
pub(crate) struct Dovecot {
    inner: harness::Dovecot,
    /// The plaintext port (STARTTLS).
    pub(crate) port: u16,
    /// The implicit-TLS port (imaps).
    pub(crate) tls_port: u16,
    /// The temporary directory of this instance.
    pub(crate) dir: PathBuf,
}

impl Dovecot {
    /// Starts Dovecot with an empty INBOX; `None` (after printing why) without Dovecot,
    /// unless `CI=true`.
    pub(crate) fn start(tag: &str) -> Option<Dovecot> {
        let cert = mail_tls::dev_certs::generate(&["localhost"]).expect("a certificate");
        let config = Config::new(&format!("imap-{tag}"), Protocol::Imap)
            .user(USER, PASSWORD)
            .tls(&cert.cert_pem, &cert.key_pem);
        let inner = harness::Dovecot::start(config)?;
        Some(Dovecot {
            port: inner.port,
            tls_port: inner.tls_port.expect("TLS is configured"),
            dir: inner.dir.clone(),
            inner,
        })
    }

    /// The server's certificate (PEM), to trust.
    pub(crate) fn cert(&self) -> PathBuf {
        self.inner.cert().expect("TLS is configured")
    }
}

impl Deref for Dovecot {
    type Target = harness::Dovecot;
    fn deref(&self) -> &harness::Dovecot {
        &self.inner
    }
}
