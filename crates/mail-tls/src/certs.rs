//! Loading certificate chains, private keys and trust anchors from PEM, with clear errors.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};

use crate::cert_info::{CertificateInfo, Validity};
use crate::error::{FileRole, TlsError};

/// The crypto provider every configuration in this crate uses: rustls' `ring` provider.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_file(path: &Path, role: FileRole) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => TlsError::FileNotFound {
            role,
            path: path.to_path_buf(),
        },
        kind => TlsError::FileUnreadable {
            role,
            path: path.to_path_buf(),
            kind,
            message: e.to_string(),
        },
    })
}

fn pem_error(role: FileRole, path: &Path, err: rustls_pki_types::pem::Error) -> TlsError {
    TlsError::Pem {
        role,
        path: path.to_path_buf(),
        message: err.to_string(),
    }
}

/// Parse every `CERTIFICATE` block of a PEM text. `path` is only used in errors.
pub fn certificates_from_pem(
    pem: &[u8],
    path: &Path,
    role: FileRole,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(role, path, e))?;
    if certs.is_empty() {
        return Err(TlsError::NothingFound {
            role,
            path: path.to_path_buf(),
            expected: "\"BEGIN CERTIFICATE\" blocks",
        });
    }
    Ok(certs)
}

/// Parse the first private key of a PEM text: `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY`
/// (PKCS#1) or `EC PRIVATE KEY` (SEC1). `path` is only used in errors.
pub fn private_key_from_pem(pem: &[u8], path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| match e {
        rustls_pki_types::pem::Error::NoItemsFound => TlsError::NothingFound {
            role: FileRole::PrivateKey,
            path: path.to_path_buf(),
            expected: "\"BEGIN PRIVATE KEY\", \"BEGIN RSA PRIVATE KEY\" or \"BEGIN EC PRIVATE KEY\"",
        },
        e => pem_error(FileRole::PrivateKey, path, e),
    })
}

/// Read a PEM certificate chain file (end-entity certificate first).
pub fn load_certificates(path: impl AsRef<Path>) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let path = path.as_ref();
    let pem = read_file(path, FileRole::CertificateChain)?;
    certificates_from_pem(&pem, path, FileRole::CertificateChain)
}

/// Read a PEM private key file (PKCS#8, PKCS#1 or SEC1).
pub fn load_private_key(path: impl AsRef<Path>) -> Result<PrivateKeyDer<'static>, TlsError> {
    let path = path.as_ref();
    let pem = read_file(path, FileRole::PrivateKey)?;
    private_key_from_pem(&pem, path)
}

/// Read a PEM bundle of trust anchors into a root store.
pub fn load_root_store(path: impl AsRef<Path>) -> Result<RootCertStore, TlsError> {
    let path = path.as_ref();
    let pem = read_file(path, FileRole::RootCertificates)?;
    let certs = certificates_from_pem(&pem, path, FileRole::RootCertificates)?;
    let mut store = RootCertStore::empty();
    for cert in certs {
        store
            .add(cert)
            .map_err(|e| TlsError::MalformedCertificate(format!("{path:?}: {e}")))?;
    }
    Ok(store)
}

/// Build a rustls [`CertifiedKey`] from a chain and key, checking that the key matches the
/// end-entity certificate and that the certificate is valid at `now`.
///
/// `cert_path` and `key_path` are only used in error messages.
pub fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    now: UnixTime,
    cert_path: &Path,
    key_path: &Path,
) -> Result<CertifiedKey, TlsError> {
    let end_entity = chain.first().ok_or_else(|| TlsError::NothingFound {
        role: FileRole::CertificateChain,
        path: cert_path.to_path_buf(),
        expected: "\"BEGIN CERTIFICATE\" blocks",
    })?;
    let info = CertificateInfo::parse(end_entity).map_err(|e| match e {
        TlsError::MalformedCertificate(m) => {
            TlsError::MalformedCertificate(format!("{cert_path:?}: {m}"))
        }
        other => other,
    })?;
    match info.validity_at(now) {
        Validity::Valid => {}
        Validity::Expired => {
            return Err(TlsError::CertificateExpired {
                path: cert_path.to_path_buf(),
                not_after: info.not_after_utc(),
                subject: info.subject,
            });
        }
        Validity::NotYetValid => {
            return Err(TlsError::CertificateNotYetValid {
                path: cert_path.to_path_buf(),
                not_before: info.not_before_utc(),
                subject: info.subject,
            });
        }
    }
    let signing_key =
        provider()
            .key_provider
            .load_private_key(key)
            .map_err(|e| TlsError::UnusableKey {
                path: key_path.to_path_buf(),
                message: e.to_string(),
            })?;
    let ck = CertifiedKey::new(chain, signing_key);
    match ck.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(ck),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(TlsError::KeyMismatch {
                cert_path: cert_path.to_path_buf(),
                key_path: key_path.to_path_buf(),
                subject: info.subject,
            })
        }
        Err(e) => Err(TlsError::MalformedCertificate(format!(
            "{cert_path:?}: {e}"
        ))),
    }
}

/// Where a certificate and its key live on disk.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PemFiles {
    /// The PEM certificate chain, end-entity certificate first.
    pub cert: PathBuf,
    /// The PEM private key.
    pub key: PathBuf,
}

impl PemFiles {
    /// Name a certificate chain file and a key file.
    pub fn new(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        Self {
            cert: cert.into(),
            key: key.into(),
        }
    }

    /// Load and check both files as of `now`; see [`certified_key`].
    pub fn load_at(&self, now: UnixTime) -> Result<CertifiedKey, TlsError> {
        let chain = load_certificates(&self.cert)?;
        let key = load_private_key(&self.key)?;
        certified_key(chain, key, now, &self.cert, &self.key)
    }

    /// Load and check both files as of the system clock.
    pub fn load(&self) -> Result<CertifiedKey, TlsError> {
        self.load_at(UnixTime::now())
    }
}
