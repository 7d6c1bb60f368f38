//! DKIM signing (RFC 6376) of the mail local users submit, so that receiving servers can check
//! that a message with a `From:` in one of our domains really comes from us.
//!
//! - Keys: one per local domain and algorithm, generated on first start under `--data`
//!   (`DATA/dkim/<domain>/<selector>.pem`, PKCS#8 PEM, mode 0600, written to a temporary file,
//!   fsynced and renamed) and reused on every later start. A key file that cannot be read as a
//!   key of its algorithm stops the start with an error naming the file: it is never replaced,
//!   since a new key would silently invalidate the DNS record already published for it.
//! - Selectors: one per algorithm, `<NAME>-rsa` and `<NAME>-ed25519` (`--dkim-selector NAME`,
//!   default `sansmail`), because a verifier looks up one TXT record per selector and each record
//!   names one key type (`k=`).
//! - Signatures: relaxed/relaxed canonicalisation (RFC 6376 section 3.4), `rsa-sha256` with an
//!   RSA 2048 key and `ed25519-sha256` (RFC 8463, which recommends signing with both while
//!   verifiers catch up); `d=` is the domain of the `From:` address when it is a local domain
//!   (never a foreign one), `s=` the selector, `t=` the clock. The signed header fields are those
//!   of [`SIGNED_HEADERS`] that the message has.
//! - Memory: only the header block is held (at most [`MAX_HEADER_BLOCK`] octets); the body is
//!   read in chunks and hashed as it goes, so a spooled file is never read into memory whole.
//!
//! The signatures come from Stalwart's `mail-auth` crate (its `ring` backend); this module
//! chooses what to sign with which key, stores the keys, and prints the DNS records.

use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use mail_auth::common::crypto::{self, DkimKey, Ed25519Key, HashImpl, RsaKey, Sha256, SigningKey};
use mail_auth::common::headers::{HeaderWriter, Writable};
use mail_auth::dkim::{Canonicalization, DkimSigner, DkimSigningStream, Done};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use tracing::warn;

/// Default of `--dkim-selector`: the selectors are `sansmail-rsa` and `sansmail-ed25519`.
pub const DEFAULT_SELECTOR: &str = "sansmail";

/// Size of a generated RSA key in bits: RFC 8301 section 3.2 asks signers for at least 1024
/// and recommends 2048; 2048 still fits one DNS TXT record of two strings.
pub const RSA_BITS: usize = 2048;

/// The most octets of header block a message may have to be signed: Postfix's
/// `header_size_limit` (102400). A message with a larger header block is sent unsigned, with a
/// warning in the log.
pub const MAX_HEADER_BLOCK: usize = 102_400;

/// The header fields signed when present (`From` is always present in a signed message): the
/// ones RFC 6376 section 5.4.1 lists as those a signature should cover, less the trace and
/// resent fields that relays legitimately add.
pub const SIGNED_HEADERS: [&str; 12] = [
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "In-Reply-To",
    "References",
];

/// Size of the chunks a message body is read and hashed in.
const CHUNK: usize = 64 * 1024;

/// A signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `rsa-sha256` with an RSA 2048 key (RFC 6376, RFC 8301).
    Rsa,
    /// `ed25519-sha256` (RFC 8463).
    Ed25519,
}

impl Algorithm {
    /// Both, in the order the signatures are added.
    pub const ALL: [Algorithm; 2] = [Algorithm::Rsa, Algorithm::Ed25519];

    /// The key type: the `k=` tag of the DNS record, and the suffix of the selector.
    pub fn key_type(self) -> &'static str {
        match self {
            Algorithm::Rsa => "rsa",
            Algorithm::Ed25519 => "ed25519",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key_type())
    }
}

/// What `--dkim-selector` and `--dkim-algorithm` choose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimConfig {
    /// The selector name; each algorithm's selector is `<selector>-<key type>`.
    pub selector: String,
    /// The algorithms to sign with, each once.
    pub algorithms: Vec<Algorithm>,
}

impl Default for DkimConfig {
    fn default() -> Self {
        DkimConfig {
            selector: DEFAULT_SELECTOR.to_owned(),
            algorithms: Algorithm::ALL.to_vec(),
        }
    }
}

impl DkimConfig {
    /// The DKIM selector (`s=`) of `algorithm`'s key.
    pub fn selector_for(&self, algorithm: Algorithm) -> String {
        format!("{}-{}", self.selector, algorithm.key_type())
    }
}

/// Checks a `--dkim-selector` value: the selector becomes a DNS label prefix and a file name,
/// so it is one or more dot-separated labels of ASCII letters, digits and hyphens (RFC 6376
/// section 3.1), not starting or ending with a hyphen, and short enough that
/// `<selector>-ed25519` is still a label of at most 63 octets.
pub fn check_selector(selector: &str) -> Result<(), &'static str> {
    if selector.is_empty() {
        return Err("it is empty");
    }
    for label in selector.split('.') {
        if label.is_empty() {
            return Err("it has an empty label");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err("only ASCII letters, digits, hyphens and dots are allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label starts or ends with a hyphen");
        }
    }
    // The last label gets the `-ed25519` suffix.
    let last = selector.rsplit('.').next().unwrap_or(selector);
    if last.len() + "-ed25519".len() > 63 {
        return Err("its last label is longer than 55 octets");
    }
    Ok(())
}

/// One key: its selector, file, signing half and the public half for the DNS record.
struct Key {
    algorithm: Algorithm,
    selector: String,
    file: PathBuf,
    signing: DkimKey,
    /// `p=`: the SubjectPublicKeyInfo (RSA) or the 32-octet public key (Ed25519).
    public: Vec<u8>,
}

/// The keys of one local domain.
struct DomainKeys {
    /// The domain in its ASCII (A-label) form, lowercase: `d=` and the key directory.
    domain: String,
    keys: Vec<Key>,
}

/// The DKIM keys of every local domain, and the signer.
pub struct Dkim {
    domains: Vec<DomainKeys>,
}

impl fmt::Debug for Dkim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the private keys.
        let mut list = f.debug_list();
        for domain in &self.domains {
            for key in &domain.keys {
                list.entry(&format_args!(
                    "{} {} {}",
                    domain.domain,
                    key.selector,
                    key.file.display()
                ));
            }
        }
        list.finish()
    }
}

impl Dkim {
    /// Loads the key of each domain and algorithm from `DATA/dkim/<domain>/<selector>.pem`,
    /// generating the missing ones, with the default selector `sansmail` and both algorithms.
    pub fn load_or_create(data_dir: &Path, domains: &[String]) -> Result<Dkim, String> {
        Dkim::open(data_dir, domains, &DkimConfig::default())
    }

    /// [`Dkim::load_or_create`] with the selector and algorithms of `config`.
    pub fn open(data_dir: &Path, domains: &[String], config: &DkimConfig) -> Result<Dkim, String> {
        let mut loaded = Vec::new();
        for domain in domains {
            let ascii = ascii_domain(domain)
                .ok_or_else(|| format!("DKIM: `{domain}` has no ASCII (A-label) form"))?;
            if loaded.iter().any(|d: &DomainKeys| d.domain == ascii) {
                continue;
            }
            let dir = data_dir.join("dkim").join(&ascii);
            let mut keys = Vec::new();
            for &algorithm in &config.algorithms {
                let selector = config.selector_for(algorithm);
                let file = dir.join(format!("{selector}.pem"));
                keys.push(load_or_generate(algorithm, selector, file)?);
            }
            loaded.push(DomainKeys {
                domain: ascii,
                keys,
            });
        }
        Ok(Dkim { domains: loaded })
    }

    /// The TXT records to publish, as `(name, value)`: `<selector>._domainkey.<domain>` (no
    /// trailing dot) and `v=DKIM1; k=<type>; p=<base64>`, one per domain and algorithm.
    pub fn dns_records(&self) -> Vec<(String, String)> {
        let mut records = Vec::new();
        for domain in &self.domains {
            for key in &domain.keys {
                records.push((
                    format!("{}._domainkey.{}", key.selector, domain.domain),
                    format!(
                        "v=DKIM1; k={}; p={}",
                        key.algorithm.key_type(),
                        BASE64.encode(&key.public)
                    ),
                ));
            }
        }
        records
    }

    /// The key files, as `(domain, selector, file)`.
    pub fn key_files(&self) -> Vec<(&str, &str, &Path)> {
        let mut files = Vec::new();
        for domain in &self.domains {
            for key in &domain.keys {
                files.push((
                    domain.domain.as_str(),
                    key.selector.as_str(),
                    key.file.as_path(),
                ));
            }
        }
        files
    }

    /// Signs `message` (CRLF lines, not dot-stuffed): the `DKIM-Signature:` header fields to
    /// prepend, one per algorithm, each ending in CRLF; `None` when the message is not ours to
    /// sign (no single `From:` in a local domain, a header block over [`MAX_HEADER_BLOCK`]).
    pub fn sign(&self, message: &[u8]) -> Option<Vec<u8>> {
        // Reading a slice never fails.
        self.sign_reader(message).ok().flatten()
    }

    /// [`Dkim::sign`] for a spooled message file, read in chunks: only the header block is
    /// held in memory.
    pub fn sign_file(&self, path: &Path) -> io::Result<Option<Vec<u8>>> {
        self.sign_reader(fs::File::open(path)?)
    }

    /// Signs the message file at `path` (a spooled message, closed by its writer) and, when it
    /// is signed, rewrites it with the `DKIM-Signature:` fields first: a new file beside it
    /// (`<name>.dkim-<pid>`, mode 0600) gets the fields and then the old contents, copied in
    /// chunks, is fsynced and renamed over `path`. Returns the octets added (0: not signed,
    /// the file is untouched).
    ///
    /// The file at `path` is a new one afterwards: a handle opened before does not see it,
    /// and the rename still needs the directory's fsync that the queue does when it moves
    /// the file on.
    pub fn sign_file_in_place(&self, path: &Path) -> io::Result<u64> {
        let Some(fields) = self.sign_file(path)? else {
            return Ok(0);
        };
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        // Not hidden: the queue removes whatever a crash leaves in its tmp/ at the next start
        // (and skips hidden names).
        let signed = path.with_file_name(format!("{name}.dkim-{}", std::process::id()));
        let written = (|| {
            use std::io::Write as _;
            let mut options = fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut out = io::BufWriter::with_capacity(CHUNK, options.open(&signed)?);
            out.write_all(&fields)?;
            io::copy(&mut fs::File::open(path)?, &mut out)?;
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            fs::rename(&signed, path)
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&signed);
            return Err(e);
        }
        Ok(fields.len() as u64)
    }

    /// [`Dkim::sign`] for a message read from `reader`.
    pub fn sign_reader(&self, mut reader: impl Read) -> io::Result<Option<Vec<u8>>> {
        let Some((header, rest)) = read_header_block(&mut reader)? else {
            warn!(
                limit = MAX_HEADER_BLOCK,
                "DKIM: not signed, the header block is larger than the limit"
            );
            return Ok(None);
        };
        let Some(prepared) = self.prepare(&header) else {
            return Ok(None);
        };
        let mut body = prepared.start();
        body.write(&rest);
        let mut chunk = vec![0; CHUNK];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => body.write(chunk.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(body.finish())
    }

    /// Chooses the keys for a message from its header block (the octets up to and including
    /// the empty line, or the whole message when it has no body): `None` unless the message
    /// has exactly one `From:` field whose addresses are all in one local domain, and a header
    /// block of at most [`MAX_HEADER_BLOCK`] octets.
    ///
    /// For a caller that receives the message in pieces: [`Prepared::start`], then
    /// [`BodySigner::write`] with each piece of the body, then [`BodySigner::finish`].
    pub fn prepare<'a>(&'a self, header: &'a [u8]) -> Option<Prepared<'a>> {
        if header.len() > MAX_HEADER_BLOCK {
            return None;
        }
        let fields = header_names(header);
        let mut from = fields
            .iter()
            .filter(|name| name.eq_ignore_ascii_case("From"));
        let (Some(_), None) = (from.next(), from.next()) else {
            return None;
        };
        let domain = from_domain(header)?;
        let keys = self.domains.iter().find(|d| d.domain == domain)?;
        // The fields to sign, in the order of SIGNED_HEADERS; mail-auth signs every instance
        // of a named field, from the bottom up (RFC 6376 section 5.4.2).
        let names: Vec<&str> = SIGNED_HEADERS
            .into_iter()
            .filter(|signed| fields.iter().any(|name| name.eq_ignore_ascii_case(signed)))
            .collect();
        let signers = keys
            .keys
            .iter()
            .map(|key| {
                DkimSigner::from_key(KeyRef(&key.signing))
                    .domain(keys.domain.as_str())
                    .selector(key.selector.as_str())
                    .headers(names.iter().copied())
                    .header_canonicalization(Canonicalization::Relaxed)
                    .body_canonicalization(Canonicalization::Relaxed)
            })
            .collect();
        Some(Prepared { header, signers })
    }
}

/// The signers chosen for one message by [`Dkim::prepare`].
pub struct Prepared<'a> {
    header: &'a [u8],
    signers: Vec<DkimSigner<KeyRef<'a>, Done>>,
}

impl fmt::Debug for Prepared<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prepared")
            .field("header_octets", &self.header.len())
            .field("signatures", &self.signers.len())
            .finish()
    }
}

impl Prepared<'_> {
    /// Starts hashing: the header block goes in now, the body with [`BodySigner::write`].
    pub fn start(&self) -> BodySigner<'_> {
        let mut streams: Vec<_> = self.signers.iter().map(|s| s.sign_streaming()).collect();
        for stream in &mut streams {
            stream.write(self.header);
        }
        BodySigner { streams }
    }
}

/// The body hashes of one message in progress (one per algorithm).
pub struct BodySigner<'a> {
    streams: Vec<DkimSigningStream<'a, KeyRef<'a>>>,
}

impl fmt::Debug for BodySigner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodySigner")
            .field("signatures", &self.streams.len())
            .finish()
    }
}

impl BodySigner<'_> {
    /// Hashes the next piece of the body.
    pub fn write(&mut self, chunk: &[u8]) {
        for stream in &mut self.streams {
            stream.write(chunk);
        }
    }

    /// The `DKIM-Signature:` fields to prepend, each ending in CRLF; `None` (and a warning in
    /// the log) if a signature could not be made.
    pub fn finish(self) -> Option<Vec<u8>> {
        let mut fields = Vec::new();
        for stream in self.streams {
            match stream.finish() {
                Ok(signature) => fields.extend_from_slice(signature.to_header().as_bytes()),
                Err(error) => {
                    warn!(%error, "DKIM: the message could not be signed");
                    return None;
                }
            }
        }
        Some(fields)
    }
}

/// A borrowed key: the signer of each message borrows the loaded key instead of copying it.
struct KeyRef<'a>(&'a DkimKey);

impl SigningKey for KeyRef<'_> {
    type Hasher = Sha256;

    fn sign(&self, input: impl Writable) -> mail_auth::Result<Vec<u8>> {
        self.0.sign(input)
    }

    fn hash(&self, data: impl Writable) -> crypto::HashOutput {
        let mut hasher = <Sha256 as HashImpl>::hasher();
        data.write(&mut hasher);
        crypto::HashContext::complete(hasher)
    }

    fn algorithm(&self) -> crypto::Algorithm {
        self.0.algorithm()
    }
}

/// The lowercase ASCII form of a domain (A-labels for U-labels, UTS #46).
fn ascii_domain(domain: &str) -> Option<String> {
    let ascii = idna::domain_to_ascii(domain.trim_end_matches('.')).ok()?;
    (!ascii.is_empty()).then(|| ascii.to_ascii_lowercase())
}

/// The one domain of every address of the `From:` field, in ASCII; `None` if there is no
/// address, or addresses in different domains.
fn from_domain(header: &[u8]) -> Option<String> {
    let parsed = mail_parser::MessageParser::new().parse_headers(header)?;
    let mut domain: Option<String> = None;
    for addr in parsed.from()?.iter() {
        let address = addr.address.as_deref()?;
        let (_, at) = address.rsplit_once('@')?;
        let this = ascii_domain(at)?;
        match &domain {
            Some(seen) if *seen != this => return None,
            Some(_) => {}
            None => domain = Some(this),
        }
    }
    domain
}

/// The names of the header fields of a header block, in order (continuation lines and lines
/// without a colon are no field of their own).
fn header_names(header: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for line in header.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            continue;
        }
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            let name = String::from_utf8_lossy(line.get(..colon).unwrap_or_default());
            names.push(name.trim().to_owned());
        }
    }
    names
}

/// Reads the header block of a message: up to and including the first empty line (the first
/// CRLF CRLF), or the whole message when it has none. Returns the header block and the octets
/// read past it, or `None` when the header block is longer than [`MAX_HEADER_BLOCK`].
fn read_header_block(reader: &mut impl Read) -> io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut scanned = 0;
    loop {
        if let Some(end) = find(&buffer, scanned, b"\r\n\r\n") {
            if end + 4 > MAX_HEADER_BLOCK {
                return Ok(None);
            }
            let rest = buffer.split_off(end + 4);
            return Ok(Some((buffer, rest)));
        }
        if buffer.len() > MAX_HEADER_BLOCK {
            return Ok(None);
        }
        scanned = buffer.len().saturating_sub(3);
        let n = match reader.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(Some((buffer, Vec::new())));
        }
        buffer.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

/// The position of `needle` in `haystack` at or after `from`.
fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Loads `file`, or generates and writes it when it does not exist.
fn load_or_generate(algorithm: Algorithm, selector: String, file: PathBuf) -> Result<Key, String> {
    let pem = match fs::read(&file) {
        Ok(pem) => pem,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let der = generate(algorithm).map_err(|e| {
                format!("DKIM: cannot generate the {algorithm} key for {selector}: {e}")
            })?;
            let pem = pem_encode(&der);
            write_private(&file, pem.as_bytes())
                .map_err(|e| format!("DKIM: cannot write {}: {e}", file.display()))?;
            tracing::info!(file = %file.display(), %selector, "DKIM key generated");
            pem.into_bytes()
        }
        Err(e) => return Err(format!("DKIM: cannot read {}: {e}", file.display())),
    };
    check_mode(&file);
    let (signing, public) = parse_key(algorithm, &pem).map_err(|reason| {
        format!(
            "DKIM key {}: {reason}. It is never replaced automatically (its DNS record may be \
             published): restore it, or move it away to have a new key generated",
            file.display()
        )
    })?;
    Ok(Key {
        algorithm,
        selector,
        file,
        signing,
        public,
    })
}

/// Writes a new key file: a temporary file of mode 0600 beside it, fsynced, renamed into place,
/// the directory fsynced (the same steps as the store's writes), so that a crash leaves the
/// whole key or none.
fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let written = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        // A stale temporary file keeps its old mode: tighten it whatever it was.
        #[cfg(unix)]
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::File::open(dir)?.sync_all()
}

/// Warns when a key file can be read by others than its owner.
fn check_mode(file: &Path) {
    #[cfg(unix)]
    if let Ok(meta) = fs::metadata(file) {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            warn!(
                file = %file.display(),
                mode = format_args!("{mode:o}"),
                "DKIM key readable by others than its owner: chmod 600 it"
            );
        }
    }
}

/// A new private key, PKCS#8 DER.
fn generate(algorithm: Algorithm) -> Result<Vec<u8>, String> {
    match algorithm {
        // ring cannot generate RSA keys: RustCrypto's rsa crate does, from the OS's RNG.
        Algorithm::Rsa => {
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS)
                .map_err(|e| e.to_string())?;
            let der = key.to_pkcs8_der().map_err(|e| e.to_string())?;
            Ok(der.as_bytes().to_vec())
        }
        Algorithm::Ed25519 => {
            let rng = ring::rand::SystemRandom::new();
            let der =
                ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| e.to_string())?;
            Ok(der.as_ref().to_vec())
        }
    }
}

/// A PKCS#8 DER key as PEM (`PRIVATE KEY`, 64 columns, RFC 7468).
fn pem_encode(der: &[u8]) -> String {
    let text = BASE64.encode(der);
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in text.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

/// Reads a PEM key file of `algorithm`: the signing key and the `p=` octets of its DNS record.
/// RSA keys may be PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`), as OpenSSL writes
/// them; Ed25519 keys PKCS#8 with or without the public key (v2 or v1).
fn parse_key(algorithm: Algorithm, pem: &[u8]) -> Result<(DkimKey, Vec<u8>), String> {
    let der =
        PrivateKeyDer::from_pem_slice(pem).map_err(|e| format!("not a PEM private key ({e})"))?;
    match algorithm {
        Algorithm::Rsa => {
            let invalid = |e: &dyn fmt::Display| format!("not an RSA private key ({e})");
            let private = match &der {
                PrivateKeyDer::Pkcs8(key) => {
                    rsa::RsaPrivateKey::from_pkcs8_der(key.secret_pkcs8_der())
                        .map_err(|e| invalid(&e))?
                }
                PrivateKeyDer::Pkcs1(key) => {
                    rsa::RsaPrivateKey::from_pkcs1_der(key.secret_pkcs1_der())
                        .map_err(|e| invalid(&e))?
                }
                _ => return Err("not an RSA private key".to_owned()),
            };
            let public = private
                .to_public_key()
                .to_public_key_der()
                .map_err(|e| format!("its public key cannot be encoded ({e})"))?
                .into_vec();
            let signing = RsaKey::<Sha256>::from_key_der(der)
                .map_err(|e| format!("not a usable RSA key ({e})"))?;
            Ok((DkimKey::Rsa(signing), public))
        }
        Algorithm::Ed25519 => {
            let PrivateKeyDer::Pkcs8(key) = &der else {
                return Err("not a PKCS#8 Ed25519 private key".to_owned());
            };
            let signing = Ed25519Key::from_pkcs8_maybe_unchecked_der(key.secret_pkcs8_der())
                .map_err(|e| format!("not an Ed25519 private key ({e})"))?;
            let public = signing.public_key();
            Ok((DkimKey::Ed25519(signing), public))
        }
    }
}

/// The TXT record `value` as character-strings of at most 255 octets each (RFC 1035 section
/// 3.3.14; RFC 6376 section 3.6.2.2: a verifier joins them), cut between characters.
pub fn txt_strings(value: &str) -> Vec<&str> {
    let mut strings = Vec::new();
    let mut rest = value;
    while rest.len() > 255 {
        let mut cut = 255;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        strings.push(head);
        rest = tail;
    }
    strings.push(rest);
    strings
}

/// A zone file line for a record of [`Dkim::dns_records`]:
/// `NAME. IN TXT "first 255 octets" "rest"`.
pub fn zone_line(name: &str, value: &str) -> String {
    let strings: Vec<String> = txt_strings(value)
        .into_iter()
        .map(|s| format!("\"{s}\""))
        .collect();
    format!("{name}. IN TXT {}", strings.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_skip_continuations_and_stop_at_the_body() {
        let header = b"From: a@example.org\r\nSubject: one\r\n two\r\n\tthree\r\nX-No-Colon\r\n\
                       to : b@example.org\r\n\r\nBody: not a field\r\n";
        assert_eq!(header_names(header), ["From", "Subject", "to"]);
        assert_eq!(header_names(b""), Vec::<String>::new());
    }

    #[test]
    fn the_header_block_is_read_up_to_its_empty_line_in_any_pieces() {
        /// A reader that hands out one octet at a time.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let Some((first, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                let Some(slot) = buf.first_mut() else {
                    return Ok(0);
                };
                *slot = *first;
                self.0 = rest;
                Ok(1)
            }
        }
        let message = b"From: a@example.org\r\n\r\nbody\r\n\r\nmore\r\n";
        let (header, rest) = read_header_block(&mut Trickle(message)).unwrap().unwrap();
        assert_eq!(header, b"From: a@example.org\r\n\r\n");
        assert_eq!(rest, b"");
        let (header, rest) = read_header_block(&mut &message[..]).unwrap().unwrap();
        assert_eq!(header, b"From: a@example.org\r\n\r\n");
        assert_eq!(rest, b"body\r\n\r\nmore\r\n");
        // No empty line: all of it is header.
        let (header, rest) = read_header_block(&mut &b"From: a\r\n"[..])
            .unwrap()
            .unwrap();
        assert_eq!(
            (header.as_slice(), rest.as_slice()),
            (&b"From: a\r\n"[..], &b""[..])
        );
    }

    #[test]
    fn selectors_are_dns_labels_and_file_names() {
        for good in ["sansmail", "mail-2027", "a.b", "A1", &"x".repeat(55)] {
            assert_eq!(check_selector(good), Ok(()), "{good}");
        }
        for bad in [
            "", "a..b", ".a", "a/b", "..", "-a", "a-", "a_b", "s\u{e9}l", "a b",
        ] {
            assert!(check_selector(bad).is_err(), "{bad}");
        }
        assert!(check_selector(&"x".repeat(56)).is_err());
        let config = DkimConfig::default();
        assert_eq!(config.selector_for(Algorithm::Rsa), "sansmail-rsa");
        assert_eq!(config.selector_for(Algorithm::Ed25519), "sansmail-ed25519");
    }
}
