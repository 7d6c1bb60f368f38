//! SNI certificate selection with run-time reload.
//!
//! [`CertResolver`] picks a certificate by the server name the client sent (RFC 6066 section 3),
//! falls back to a default for an unknown or missing name, and can have its whole set of
//! certificates replaced at any time. rustls asks the resolver once per handshake and keeps
//! the `Arc<CertifiedKey>` it got, so a swap never touches a session that already chose its
//! certificate; new handshakes see the new set.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::UnixTime;

use crate::certs::PemFiles;
use crate::error::TlsError;

/// An immutable set of certificates: one per server name, plus a default.
#[derive(Debug, Clone, Default)]
pub struct CertSet {
    by_name: HashMap<String, Arc<CertifiedKey>>,
    default: Option<Arc<CertifiedKey>>,
}

fn normalise(name: &str) -> Result<String, TlsError> {
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let wildcard_ok = lower
        .strip_prefix("*.")
        .map(|rest| rest.contains('.') && rest.split('.').all(label_ok));
    let plain_ok = lower.split('.').all(label_ok);
    if lower.len() > 253 || !(plain_ok || wildcard_ok == Some(true)) {
        return Err(TlsError::InvalidServerName(name.to_string()));
    }
    Ok(lower)
}

impl CertSet {
    /// An empty set: every handshake fails until a certificate is added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a certificate for a DNS name, or for all names one label below a domain with
    /// `*.example.org`. Names are case-insensitive; a trailing dot is ignored.
    pub fn insert(&mut self, name: &str, key: Arc<CertifiedKey>) -> Result<(), TlsError> {
        self.by_name.insert(normalise(name)?, key);
        Ok(())
    }

    /// Set the certificate for clients that send no SNI or an unknown name.
    pub fn set_default(&mut self, key: Arc<CertifiedKey>) {
        self.default = Some(key);
    }

    /// The certificate for a name: exact match, then a wildcard one label up, then the default.
    pub fn lookup(&self, name: Option<&str>) -> Option<Arc<CertifiedKey>> {
        if let Some(name) = name {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if let Some(k) = self.by_name.get(&name) {
                return Some(k.clone());
            }
            if let Some((_, parent)) = name.split_once('.') {
                if let Some(k) = self.by_name.get(&format!("*.{parent}")) {
                    return Some(k.clone());
                }
            }
        }
        self.default.clone()
    }

    /// How many names have a certificate (the default not counted).
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// True when there is neither a named certificate nor a default.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty() && self.default.is_none()
    }
}

/// Where a [`CertSet`] comes from on disk, so that it can be loaded again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertSources {
    /// Per-name certificate files.
    pub names: Vec<(String, PemFiles)>,
    /// The default certificate files.
    pub default: Option<PemFiles>,
}

impl CertSources {
    /// No sources.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add per-name files (builder style).
    pub fn with_name(mut self, name: impl Into<String>, files: PemFiles) -> Self {
        self.names.push((name.into(), files));
        self
    }

    /// Set the default files (builder style).
    pub fn with_default(mut self, files: PemFiles) -> Self {
        self.default = Some(files);
        self
    }

    /// Load every file as of `now`. Any error fails the whole load, so a half-written renewal
    /// never produces a half-updated set.
    pub fn load_at(&self, now: UnixTime) -> Result<CertSet, TlsError> {
        let mut set = CertSet::new();
        for (name, files) in &self.names {
            set.insert(name, Arc::new(files.load_at(now)?))?;
        }
        if let Some(files) = &self.default {
            set.set_default(Arc::new(files.load_at(now)?));
        }
        Ok(set)
    }
}

/// A [`ResolvesServerCert`] that selects by SNI and can be reloaded while serving.
#[derive(Debug)]
pub struct CertResolver {
    current: RwLock<Arc<CertSet>>,
    sources: RwLock<Option<CertSources>>,
}

impl CertResolver {
    /// Serve a fixed set (swap it later with [`CertResolver::replace`]).
    pub fn new(set: CertSet) -> Self {
        Self {
            current: RwLock::new(Arc::new(set)),
            sources: RwLock::new(None),
        }
    }

    /// Load a set from disk and remember where it came from, for [`CertResolver::reload`].
    pub fn from_sources(sources: CertSources) -> Result<Self, TlsError> {
        let set = sources.load_at(UnixTime::now())?;
        Ok(Self {
            current: RwLock::new(Arc::new(set)),
            sources: RwLock::new(Some(sources)),
        })
    }

    /// Replace the served set; returns the previous one. Sessions that already chose a
    /// certificate keep it.
    pub fn replace(&self, set: CertSet) -> Arc<CertSet> {
        let mut cur = self.current.write().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *cur, Arc::new(set))
    }

    /// Load the remembered sources from disk again and swap them in.
    ///
    /// On error the current set keeps serving and the error says which file is wrong.
    /// Without remembered sources this is [`TlsError::Config`].
    pub fn reload(&self) -> Result<(), TlsError> {
        self.reload_at(UnixTime::now())
    }

    /// [`CertResolver::reload`] with an explicit clock.
    pub fn reload_at(&self, now: UnixTime) -> Result<(), TlsError> {
        let sources = self
            .sources
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| TlsError::Config("resolver has no files to reload from".into()))?;
        let set = sources.load_at(now)?;
        self.replace(set);
        Ok(())
    }

    /// Load new sources and, on success, serve them and remember them for later reloads.
    pub fn reload_from(&self, sources: CertSources) -> Result<(), TlsError> {
        let set = sources.load_at(UnixTime::now())?;
        self.replace(set);
        *self.sources.write().unwrap_or_else(|p| p.into_inner()) = Some(sources);
        Ok(())
    }

    /// The set currently served.
    pub fn current(&self) -> Arc<CertSet> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current().lookup(client_hello.server_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_validation() {
        assert_eq!(normalise("MX.Example.ORG.").unwrap(), "mx.example.org");
        assert_eq!(normalise("*.example.org").unwrap(), "*.example.org");
        assert!(normalise("*.org").is_err());
        assert!(normalise("bad name").is_err());
        assert!(normalise("a..b").is_err());
        assert!(normalise("").is_err());
        assert!(normalise("mail.*.org").is_err());
    }

    #[test]
    fn reload_without_sources_is_an_error() {
        let r = CertResolver::new(CertSet::new());
        assert!(matches!(r.reload(), Err(TlsError::Config(_))));
        assert!(r.current().is_empty());
    }
}
