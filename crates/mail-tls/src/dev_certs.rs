//! Self-signed development certificates (feature `dev-certs`).
//!
//! For an example server's first start: generate an ECDSA P-256 key and a self-signed
//! certificate for a set of names, and write both as PEM. Clients will not trust it unless
//! told to (pin it, or add it as a custom root).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::certs::PemFiles;
use crate::error::{FileRole, TlsError};

/// A generated certificate and its key, as PEM text.
#[derive(Clone)]
pub struct DevCertificate {
    /// The certificate (`BEGIN CERTIFICATE`).
    pub cert_pem: String,
    /// The PKCS#8 private key (`BEGIN PRIVATE KEY`).
    pub key_pem: String,
}

impl std::fmt::Debug for DevCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevCertificate")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// Generate a self-signed certificate for `names` (DNS names or IP addresses; the first is also
/// the common name), valid from now for about a year (rcgen's defaults).
pub fn generate(names: &[&str]) -> Result<DevCertificate, TlsError> {
    let err = |e: rcgen::Error| TlsError::DevCertificate(e.to_string());
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    if names.is_empty() {
        return Err(TlsError::DevCertificate(
            "at least one name is needed".into(),
        ));
    }
    let mut params = rcgen::CertificateParams::new(names.clone()).map_err(err)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, names[0].clone());
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "sansmail development");
    let key = rcgen::KeyPair::generate().map_err(err)?;
    let cert = params.self_signed(&key).map_err(err)?;
    Ok(DevCertificate {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

impl DevCertificate {
    /// Write the certificate and key; the key file is created with mode 0600 on Unix.
    pub fn write(&self, cert_path: &Path, key_path: &Path) -> Result<PemFiles, TlsError> {
        write_file(
            cert_path,
            self.cert_pem.as_bytes(),
            FileRole::CertificateChain,
            false,
        )?;
        write_file(
            key_path,
            self.key_pem.as_bytes(),
            FileRole::PrivateKey,
            true,
        )?;
        Ok(PemFiles::new(cert_path, key_path))
    }
}

fn write_file(path: &Path, data: &[u8], role: FileRole, secret: bool) -> Result<(), TlsError> {
    let io = |e: std::io::Error| TlsError::FileUnreadable {
        role,
        path: path.to_path_buf(),
        kind: e.kind(),
        message: format!("cannot write: {e}"),
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = opts.open(path).map_err(io)?;
    // The mode given to `open` applies only to a file it creates: an existing key file (left
    // readable by others, say) is tightened before the new key goes into it.
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io)?;
    }
    f.write_all(data).map_err(io)?;
    f.sync_all().map_err(io)
}

/// Return `dir/cert.pem` and `dir/key.pem`, generating them for `names` first if either is
/// missing. Existing files are left alone (they may be real certificates).
pub fn ensure(dir: &Path, names: &[&str]) -> Result<PemFiles, TlsError> {
    let cert: PathBuf = dir.join("cert.pem");
    let key: PathBuf = dir.join("key.pem");
    if cert.exists() && key.exists() {
        return Ok(PemFiles::new(cert, key));
    }
    std::fs::create_dir_all(dir).map_err(|e| TlsError::FileUnreadable {
        role: FileRole::CertificateChain,
        path: dir.to_path_buf(),
        kind: e.kind(),
        message: format!("cannot create directory: {e}"),
    })?;
    generate(names)?.write(&cert, &key)
}
