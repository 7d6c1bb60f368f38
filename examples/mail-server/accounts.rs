//! Mail accounts: addresses and their Argon2id password hashes, kept in `<data>/accounts`.
//!
//! The file holds one `address:PHC-string` per line; blank lines and lines starting with `#`
//! are comments and survive rewrites. It is only ever replaced atomically (temporary file,
//! fsync, rename, fsync of the directory) and created with mode 0600 on unix, so a crash leaves
//! either the old or the new file and other local users cannot read the hashes.
//!
//! Passwords are hashed with Argon2id (RFC 9106) through the `argon2` crate, with that crate's
//! default parameters: m = 19456 KiB, t = 2 iterations, p = 1 lane, 32-byte output (the OWASP
//! password storage recommendation), and a random 16-byte salt from `ring`'s `SystemRandom`.
//! Verification uses `argon2`'s own comparison. Passwords only ever travel as
//! [`Secret<String>`]; neither they nor the hashes appear in any `Debug` output or error.
//!
//! # Address comparison
//! An [`Address`] is `local@domain`, and both parts are matched without regard to case, as
//! Postfix, Dovecot and the large providers match accounts. RFC 5321 section 2.4 lets only
//! the receiving host interpret the local part; this one folds ASCII letters, so
//! `Alice@Example.COM` is the account `alice@example.com` wherever an address is looked up:
//! SMTP recipients, the submission sender check, and every login ([`Accounts::lookup`],
//! which [`Accounts::verify`] and the SASL [`Authenticator`] use). The canonical form, kept
//! in the file and used for the Maildir, is the ASCII-lowercased local part and the
//! lowercased domain (RFC 5321 section 2.4: domains are case-insensitive). Non-ASCII letters
//! of a UTF-8 local part (RFC 6531) are kept as they are. Two lines of the accounts file that
//! differ only in case are refused at load, naming both.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use mail_wire::Secret;
use mail_wire::sasl::Authenticator;
use ring::rand::{SecureRandom, SystemRandom};
use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

use crate::store::write_atomically;

/// Longest local part, in octets (RFC 5321 section 4.5.3.1.1).
pub const MAX_LOCAL_PART: usize = 64;
/// Longest domain, in octets (RFC 5321 section 4.5.3.1.2 allows 255; a DNS name in text form
/// is at most 253 without the root dot, RFC 1035 section 2.3.4).
pub const MAX_DOMAIN: usize = 253;
/// Longest label of a domain, in octets (RFC 1035 section 2.3.4).
pub const MAX_LABEL: usize = 63;
/// Length of a password made by [`generate_password`].
pub const GENERATED_PASSWORD_LEN: usize = 20;
/// The alphabet of [`generate_password`]: letters and digits without the look-alikes
/// `0 O o 1 l I i`, so a password read off a terminal can be typed back.
pub const PASSWORD_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
/// Salt length in bytes (the PHC string format recommends 16; RFC 9106 section 3.1).
const SALT_LEN: usize = 16;

/// Why a string is not an account address or a domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// No `@` between a local part and a domain.
    #[error("`{0}` is not an address of the form local@domain")]
    MissingAt(String),
    /// The local part is empty.
    #[error("the local part is empty")]
    EmptyLocalPart,
    /// The local part is longer than [`MAX_LOCAL_PART`] octets.
    #[error("the local part is longer than {MAX_LOCAL_PART} octets")]
    LocalPartTooLong,
    /// The local part holds a control character or white space.
    #[error("the local part contains the character {0:?}, which accounts cannot use")]
    LocalPartCharacter(char),
    /// The local part starts with `#`, the comment marker of the accounts file.
    #[error("the local part starts with `#`, which accounts cannot use")]
    LocalPartHash,
    /// The domain is not a host name.
    #[error("`{domain}` is not a domain name: {reason}")]
    Domain {
        /// The domain as given.
        domain: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// An account address: a local part with its ASCII letters lowercased and a lowercased
/// domain, so that equal addresses are the same account whatever case they were written in.
///
/// The local part is the unquoted value (`john.doe`, not `"john.doe"`), 1 to 64 octets, UTF-8
/// allowed (RFC 6531), without control characters or white space and not starting with `#`.
/// It may contain `/`, `.`, `@` or `:`; the store encodes it before using it as a directory
/// name. The domain is a host name: dot-separated labels of letters, digits, hyphens and
/// non-ASCII letters (an IDN U-label), no address literals.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    local: String,
    domain: String,
}

impl Address {
    /// Builds an address from its unquoted local part and its domain, in canonical form:
    /// ASCII letters of the local part lowercased, the domain lowercased.
    pub fn new(local: &str, domain: &str) -> Result<Self, AddressError> {
        if local.is_empty() {
            return Err(AddressError::EmptyLocalPart);
        }
        if local.len() > MAX_LOCAL_PART {
            return Err(AddressError::LocalPartTooLong);
        }
        if let Some(c) = local.chars().find(|c| c.is_control() || c.is_whitespace()) {
            return Err(AddressError::LocalPartCharacter(c));
        }
        if local.starts_with('#') {
            return Err(AddressError::LocalPartHash);
        }
        Ok(Address {
            local: local.to_ascii_lowercase(),
            domain: normalize_domain(domain)?,
        })
    }

    /// Parses `local@domain`, splitting at the last `@` (a quoted local part may hold one).
    pub fn parse(s: &str) -> Result<Self, AddressError> {
        match s.rsplit_once('@') {
            Some((local, domain)) => Address::new(local, domain),
            None => Err(AddressError::MissingAt(s.to_owned())),
        }
    }

    /// The local part, ASCII letters lowercased.
    pub fn local(&self) -> &str {
        &self.local
    }

    /// The domain, lowercased.
    pub fn domain(&self) -> &str {
        &self.domain
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

impl FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse(s)
    }
}

/// Validates a host name and returns it lowercased (ASCII and Unicode letters alike).
///
/// Accepts dot-separated labels of 1 to 63 octets made of letters, digits, hyphens (not at
/// either end) and non-ASCII alphanumerics, 253 octets in all; refuses a trailing dot,
/// address literals, and anything that could act as a path (`/`, `\`, `..`, NUL).
pub fn normalize_domain(domain: &str) -> Result<String, AddressError> {
    let fail = |reason| {
        Err(AddressError::Domain {
            domain: domain.to_owned(),
            reason,
        })
    };
    if domain.is_empty() {
        return fail("it is empty");
    }
    let lower = domain.to_lowercase();
    if lower.len() > MAX_DOMAIN {
        return fail("it is longer than 253 octets");
    }
    for label in lower.split('.') {
        if label.is_empty() {
            return fail("it has an empty label");
        }
        if label.len() > MAX_LABEL {
            return fail("a label is longer than 63 octets");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return fail("a label starts or ends with a hyphen");
        }
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c.is_alphanumeric();
        if !label.chars().all(valid) {
            return fail("only letters, digits, hyphens and dots are allowed");
        }
    }
    Ok(lower)
}

/// What is wrong with one line of the accounts file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// No `:` between the address and the hash.
    #[error("expected `address:hash`")]
    MissingSeparator,
    /// The address part is not an address.
    #[error("bad address: {0}")]
    Address(AddressError),
    /// The hash part is not a complete Argon2 PHC string with valid parameters, a salt and a
    /// hash (its text is not repeated here).
    #[error(
        "the hash is not a complete Argon2 PHC string (algorithm, valid parameters, salt, hash)"
    )]
    NotArgon2Hash,
    /// The address already appeared on an earlier line.
    #[error("`{address}` already appears on line {first}")]
    Duplicate {
        /// The address.
        address: String,
        /// The line (1-based) where it first appears.
        first: usize,
    },
    /// The address is written differently from one on an earlier line, but only in case:
    /// since accounts are matched without regard to case, both name one account.
    #[error(
        "`{address}` and `{other}` on line {first} differ only in case, and accounts are \
         matched without regard to case: keep one of the two lines"
    )]
    DiffersOnlyInCase {
        /// The address as written on this line.
        address: String,
        /// The address as written on the earlier line.
        other: String,
        /// The earlier line (1-based).
        first: usize,
    },
}

/// Why the accounts could not be loaded, changed or saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountsError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A line of the accounts file is malformed.
    #[error("{}, line {line}: {error}", path.display())]
    Malformed {
        /// The accounts file.
        path: PathBuf,
        /// The line number, 1-based.
        line: usize,
        /// What is wrong with the line.
        error: LineError,
    },
    /// Argon2 refused to hash (it does not say anything about the password).
    #[error("hashing the password failed: {0}")]
    Hash(String),
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// One line of the accounts file, kept in order so comments survive a rewrite.
enum Line {
    /// A blank or comment line, verbatim.
    Other(String),
    /// An account and its PHC string.
    Account { address: Address, hash: String },
}

/// The accounts of the server, backed by the accounts file.
///
/// Its `Debug` output lists the file and the number of accounts, never a hash.
pub struct Accounts {
    path: PathBuf,
    lines: Vec<Line>,
    index: HashMap<Address, usize>,
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accounts")
            .field("path", &self.path)
            .field("accounts", &self.index.len())
            .finish_non_exhaustive()
    }
}

impl Accounts {
    /// Reads the accounts file at `path`; a missing file gives no accounts (it is created by
    /// the first [`upsert`](Self::upsert)).
    pub fn load(path: impl Into<PathBuf>) -> Result<Self, AccountsError> {
        let path = path.into();
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(AccountsError::Io { path, source }),
        };
        // Compute the unknown-user hash now, so the first failed login is not faster.
        dummy_hash();
        let mut accounts = Accounts {
            path,
            lines: Vec::new(),
            index: HashMap::new(),
        };
        let lines: Vec<&str> = text.lines().collect();
        for (n, raw) in lines.iter().enumerate() {
            let line = match parse_line(raw) {
                Ok(line) => line,
                Err(error) => return Err(accounts.malformed(n + 1, error)),
            };
            if let Line::Account { address, .. } = &line {
                if let Some(&first) = accounts.index.get(address) {
                    let (written, earlier) = (written_address(raw), written_address(lines[first]));
                    let error = match written == earlier {
                        true => LineError::Duplicate {
                            address: written.to_owned(),
                            first: first + 1,
                        },
                        false => LineError::DiffersOnlyInCase {
                            address: written.to_owned(),
                            other: earlier.to_owned(),
                            first: first + 1,
                        },
                    };
                    return Err(accounts.malformed(n + 1, error));
                }
                accounts.index.insert(address.clone(), n);
            }
            accounts.lines.push(line);
        }
        Ok(accounts)
    }

    fn malformed(&self, line: usize, error: LineError) -> AccountsError {
        AccountsError::Malformed {
            path: self.path.clone(),
            line,
            error,
        }
    }

    /// The accounts file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates the account or replaces its password, then rewrites the file atomically.
    ///
    /// Hashing takes tens of milliseconds and about 19 MiB of memory (Argon2 defaults).
    pub fn upsert(
        &mut self,
        address: &Address,
        password: &Secret<String>,
    ) -> Result<(), AccountsError> {
        let hash = hash_password(password)?;
        match self.index.get(address) {
            Some(&i) => {
                self.lines[i] = Line::Account {
                    address: address.clone(),
                    hash,
                }
            }
            None => {
                if self.lines.is_empty() {
                    self.lines.push(Line::Other(FILE_HEADER.to_owned()));
                }
                self.index.insert(address.clone(), self.lines.len());
                self.lines.push(Line::Account {
                    address: address.clone(),
                    hash,
                });
            }
        }
        self.save()
    }

    /// The account `name` (`local@domain`) names, written in any case: the login lookup of
    /// every protocol (SMTP AUTH, and POP3 and IMAP when they land). `None` when `name` is no
    /// address or no account.
    pub fn lookup(&self, name: &str) -> Option<&Address> {
        self.account_line(name).map(|(address, _)| address)
    }

    /// The account `name` names, in any case, and its hash.
    fn account_line(&self, name: &str) -> Option<(&Address, &str)> {
        let address = Address::parse(name).ok()?;
        match &self.lines[*self.index.get(&address)?] {
            Line::Account { address, hash } => Some((address, hash)),
            Line::Other(_) => None,
        }
    }

    /// Whether `password` is the password of the account `address` (found with
    /// [`Accounts::lookup`], so its case does not matter).
    ///
    /// Runs Argon2 whether or not the account exists (against a fixed dummy hash with the same
    /// parameters for an unknown or malformed address), so the time taken does not tell which
    /// accounts exist. The comparison inside `argon2` is constant-time. Call it off the async
    /// runtime's threads (`spawn_blocking`): it takes tens of milliseconds.
    pub fn verify(&self, address: &str, password: &Secret<String>) -> bool {
        let argon2 = Argon2::default();
        let stored = self.account_line(address).map(|(_, hash)| hash);
        let pw = password.expose().as_bytes();
        match stored {
            Some(hash) => argon2.verify_password(pw, hash).is_ok(),
            None => {
                let _ = argon2.verify_password(pw, dummy_hash());
                false
            }
        }
    }

    /// Whether the account exists (an [`Address`] is already in canonical form).
    pub fn contains(&self, address: &Address) -> bool {
        self.index.contains_key(address)
    }

    /// The account addresses, in file order.
    pub fn addresses(&self) -> impl Iterator<Item = &Address> + '_ {
        self.lines.iter().filter_map(|line| match line {
            Line::Account { address, .. } => Some(address),
            Line::Other(_) => None,
        })
    }

    /// The number of accounts.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there are no accounts.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Writes the file with [`write_atomically`]: a temporary file beside it (mode 0600),
    /// fsync, rename over the old file, fsync of the directory.
    fn save(&self) -> Result<(), AccountsError> {
        let mut text = String::new();
        for line in &self.lines {
            match line {
                Line::Other(s) => text.push_str(s),
                Line::Account { address, hash } => {
                    text.push_str(&address.to_string());
                    text.push(':');
                    text.push_str(hash);
                }
            }
            text.push('\n');
        }
        write_atomically(&self.path, text.as_bytes()).map_err(|source| AccountsError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

/// Lets the SASL server check `PLAIN` and `LOGIN` credentials against these accounts.
impl Authenticator for Accounts {
    fn verify_password(&self, authcid: &str, password: &Secret<String>) -> bool {
        self.verify(authcid, password)
    }

    /// An account may act only as itself; the authorization identity may differ from the
    /// authentication identity in case only.
    fn authorize(&self, authcid: &str, authzid: Option<&str>) -> bool {
        match authzid {
            None => true,
            Some(authzid) => match (Address::parse(authcid), Address::parse(authzid)) {
                (Ok(a), Ok(b)) => a == b,
                _ => authcid == authzid,
            },
        }
    }
}

/// The comment written at the top of a new accounts file.
const FILE_HEADER: &str = "# sansmail mail-server accounts: one `address:Argon2id PHC string` per line.\n\
                           # Managed with --user ADDR:PASSWORD; passwords are never stored in clear.";

/// The address part of an account line, as written.
fn written_address(raw: &str) -> &str {
    raw.trim()
        .rsplit_once(':')
        .map_or("", |(address, _)| address.trim())
}

fn parse_line(raw: &str) -> Result<Line, LineError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(Line::Other(raw.to_owned()));
    }
    // PHC strings hold no `:`, so the last one separates (a local part may hold one).
    let (address, hash) = trimmed
        .rsplit_once(':')
        .ok_or(LineError::MissingSeparator)?;
    let address = Address::parse(address.trim()).map_err(LineError::Address)?;
    let hash = hash.trim();
    // Everything a verification needs, checked now: a line that can never verify is an
    // error at load, not an account nobody can log in to.
    let usable = PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Algorithm::try_from(parsed.algorithm.as_str()).is_ok()
            && parsed.salt.is_some()
            && parsed.hash.is_some()
            && argon2::Params::try_from(&parsed).is_ok()
    });
    if !usable {
        return Err(LineError::NotArgon2Hash);
    }
    Ok(Line::Account {
        address,
        hash: hash.to_owned(),
    })
}

/// Hashes `password` with Argon2id and a fresh random salt; returns the PHC string.
fn hash_password(password: &Secret<String>) -> Result<String, AccountsError> {
    let mut salt = [0u8; SALT_LEN];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| AccountsError::Random)?;
    Argon2::default()
        .hash_password_with_salt(password.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AccountsError::Hash(e.to_string()))
}

/// A hash with the default parameters that no password is checked against for real: the
/// work done for an unknown user.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        Argon2::default()
            .hash_password_with_salt(b"sansmail unknown user", b"sansmail-dummy-salt")
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    })
}

/// Makes a random password of [`GENERATED_PASSWORD_LEN`] characters from
/// [`PASSWORD_ALPHABET`] (about 115 bits), with `ring`'s `SystemRandom` and rejection sampling
/// so every character is equally likely.
pub fn generate_password() -> Result<Secret<String>, AccountsError> {
    let rng = SystemRandom::new();
    let n = PASSWORD_ALPHABET.len();
    // The largest multiple of n that fits in a byte: bytes at or above it are drawn again.
    let limit = 256 - 256 % n;
    let mut password = String::with_capacity(GENERATED_PASSWORD_LEN);
    let mut buf = [0u8; 32];
    while password.len() < GENERATED_PASSWORD_LEN {
        rng.fill(&mut buf).map_err(|_| AccountsError::Random)?;
        for &b in &buf {
            if usize::from(b) < limit && password.len() < GENERATED_PASSWORD_LEN {
                password.push(char::from(PASSWORD_ALPHABET[usize::from(b) % n]));
            }
        }
    }
    Ok(Secret::new(password))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fresh directory under the system temp dir, removed on drop (the store's tests use it
    /// too).
    pub(crate) struct TempDir(pub(crate) PathBuf);
    impl TempDir {
        pub(crate) fn new(tag: &str) -> Self {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let dir = std::env::temp_dir().join(format!(
                "sansmail-mail-server-{tag}-{}-{}",
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

    fn secret(s: &str) -> Secret<String> {
        Secret::new(s.to_owned())
    }

    fn addr(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    #[test]
    fn round_trip_through_the_file() {
        let dir = TempDir::new("roundtrip");
        let path = dir.0.join("accounts");
        let mut accounts = Accounts::load(&path).unwrap();
        assert!(accounts.is_empty());
        accounts
            .upsert(&addr("alice@example.com"), &secret("alice pw"))
            .unwrap();
        accounts
            .upsert(&addr("bob@Example.org"), &secret("bob:pw#1"))
            .unwrap();

        let again = Accounts::load(&path).unwrap();
        assert_eq!(again.len(), 2);
        let listed: Vec<String> = again.addresses().map(|a| a.to_string()).collect();
        assert_eq!(listed, ["alice@example.com", "bob@example.org"]);
        assert!(again.verify("alice@example.com", &secret("alice pw")));
        assert!(again.verify("bob@EXAMPLE.org", &secret("bob:pw#1")));
        assert!(again.contains(&addr("alice@EXAMPLE.COM")));
        // Local parts too are matched without regard to case.
        assert!(again.contains(&addr("Alice@example.com")));
        assert!(again.verify("ALICE@Example.Com", &secret("alice pw")));

        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with('#'), "{text}");
        assert!(text.contains("\nalice@example.com:$argon2id$v=19$m=19456,t=2,p=1$"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // No temporary file is left beside it.
        assert_eq!(fs::read_dir(&dir.0).unwrap().count(), 1);
    }

    #[test]
    fn wrong_password_and_unknown_user_are_refused() {
        let dir = TempDir::new("refuse");
        let mut accounts = Accounts::load(dir.0.join("accounts")).unwrap();
        accounts
            .upsert(&addr("alice@example.com"), &secret("right"))
            .unwrap();
        assert!(!accounts.verify("alice@example.com", &secret("wrong")));
        assert!(!accounts.verify("alice@example.com", &secret("")));
        assert!(!accounts.verify("Alice@example.com", &secret("wrong")));
        assert!(!accounts.verify("mallory@example.com", &secret("right")));
        assert!(!accounts.verify("not an address", &secret("right")));
        // The dummy hash's password does not open an unknown account either.
        assert!(!accounts.verify("nobody@example.com", &secret("sansmail unknown user")));
    }

    #[test]
    fn file_holds_no_clear_password_and_debug_shows_no_hash() {
        let dir = TempDir::new("clear");
        let path = dir.0.join("accounts");
        let mut accounts = Accounts::load(&path).unwrap();
        let password = "Tr0ub4dor&3-correct-horse";
        accounts
            .upsert(&addr("carol@example.com"), &secret(password))
            .unwrap();
        let bytes = fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(password));
        let hash = text.lines().last().unwrap().rsplit_once(':').unwrap().1;
        let debug = format!("{accounts:?} {accounts:#?}");
        assert!(
            !debug.contains(password) && !debug.contains(hash),
            "{debug}"
        );
    }

    #[test]
    fn update_replaces_the_hash_and_keeps_comments() {
        let dir = TempDir::new("update");
        let path = dir.0.join("accounts");
        fs::write(&path, "# my accounts\n\n").unwrap();
        let mut accounts = Accounts::load(&path).unwrap();
        let alice = addr("alice@example.com");
        accounts.upsert(&alice, &secret("one")).unwrap();
        let before = fs::read_to_string(&path).unwrap();
        accounts.upsert(&alice, &secret("two")).unwrap();
        let after = fs::read_to_string(&path).unwrap();
        assert_ne!(before, after);
        assert!(after.starts_with("# my accounts\n\n"), "{after}");
        assert_eq!(after.matches("alice@example.com:").count(), 1);

        let accounts = Accounts::load(&path).unwrap();
        assert_eq!(accounts.len(), 1);
        assert!(!accounts.verify("alice@example.com", &secret("one")));
        assert!(accounts.verify("alice@example.com", &secret("two")));
    }

    #[test]
    fn salts_differ_between_hashes_of_the_same_password() {
        let a = hash_password(&secret("same")).unwrap();
        let b = hash_password(&secret("same")).unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    }

    #[test]
    fn malformed_lines_name_their_line_number() {
        let dir = TempDir::new("malformed");
        let path = dir.0.join("accounts");
        let good = hash_password(&secret("pw")).unwrap();
        type Check = fn(&LineError) -> bool;
        let cases: [(String, usize, Check); 7] = [
            // No hash part, and a memory cost below Argon2's minimum.
            (
                "a@example.com:$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ\n".into(),
                1,
                |e| *e == LineError::NotArgon2Hash,
            ),
            (
                "a@example.com:$argon2id$v=19$m=1,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\n"
                    .into(),
                1,
                |e| *e == LineError::NotArgon2Hash,
            ),
            ("# comment\nno separator here\n".into(), 2, |e| {
                *e == LineError::MissingSeparator
            }),
            (format!("\n\nnot-an-address:{good}\n"), 3, |e| {
                matches!(e, LineError::Address(AddressError::MissingAt(_)))
            }),
            ("a@example.com:$argon2id$garbage\n".into(), 1, |e| {
                *e == LineError::NotArgon2Hash
            }),
            (
                "a@example.com:$pbkdf2-sha256$i=1000$c2FsdA$aGFzaA\n".into(),
                1,
                |e| *e == LineError::NotArgon2Hash,
            ),
            (
                format!("a@example.com:{good}\n#\nb@example.com:{good}\na@example.com:{good}\n"),
                4,
                |e| matches!(e, LineError::Duplicate { first: 1, .. }),
            ),
        ];
        for (text, line_no, check) in cases {
            fs::write(&path, &text).unwrap();
            match Accounts::load(&path) {
                Err(AccountsError::Malformed { line, error, .. }) => {
                    assert_eq!(line, line_no, "{text:?}: {error}");
                    assert!(check(&error), "{text:?}: {error:?}");
                    let message = Accounts::load(&path).unwrap_err().to_string();
                    assert!(message.contains(&format!("line {line_no}")), "{message}");
                    assert!(
                        !message.contains(&good) && !message.contains("garbage"),
                        "{message}"
                    );
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn accounts_differing_only_in_case_are_refused_naming_both() {
        let dir = TempDir::new("case");
        let path = dir.0.join("accounts");
        let good = hash_password(&secret("pw")).unwrap();
        fs::write(
            &path,
            format!(
                "# old file\nalice@localhost:{good}\nbob@localhost:{good}\nAlice@LOCALHOST:{good}\n"
            ),
        )
        .unwrap();
        let error = Accounts::load(&path).unwrap_err();
        match &error {
            AccountsError::Malformed {
                line: 4,
                error:
                    LineError::DiffersOnlyInCase {
                        address,
                        other,
                        first: 2,
                    },
                ..
            } => assert_eq!(
                (address.as_str(), other.as_str()),
                ("Alice@LOCALHOST", "alice@localhost")
            ),
            other => panic!("{other:?}"),
        }
        let message = error.to_string();
        assert!(
            message.contains(
                "line 4: `Alice@LOCALHOST` and `alice@localhost` on line 2 differ only in case"
            ),
            "{message}"
        );
        assert!(!message.contains(&good), "{message}");
    }

    #[test]
    fn lookup_finds_the_account_in_any_case() {
        let dir = TempDir::new("lookup");
        let mut accounts = Accounts::load(dir.0.join("accounts")).unwrap();
        // Created in mixed case: stored, and written to the file, in canonical form.
        accounts
            .upsert(&addr("Carol.Smith@Example.ORG"), &secret("pw"))
            .unwrap();
        let text = fs::read_to_string(accounts.path()).unwrap();
        assert!(
            text.contains("\ncarol.smith@example.org:$argon2id$"),
            "{text}"
        );
        for name in [
            "carol.smith@example.org",
            "CAROL.SMITH@EXAMPLE.ORG",
            "Carol.Smith@example.org",
        ] {
            assert_eq!(
                accounts.lookup(name).map(Address::to_string).as_deref(),
                Some("carol.smith@example.org"),
                "{name}"
            );
            assert!(accounts.verify(name, &secret("pw")), "{name}");
        }
        assert_eq!(accounts.lookup("carol@example.org"), None);
        assert_eq!(accounts.lookup("no address"), None);
        // Updating the password in another case updates the one account.
        accounts
            .upsert(&addr("CAROL.SMITH@example.org"), &secret("new"))
            .unwrap();
        let again = Accounts::load(accounts.path()).unwrap();
        assert_eq!(again.len(), 1);
        assert!(again.verify("carol.smith@example.org", &secret("new")));
    }

    #[test]
    fn addresses_parse_and_compare() {
        let a = addr("John.Doe@Mail.Example.COM");
        assert_eq!(a.local(), "john.doe");
        assert_eq!(a.domain(), "mail.example.com");
        assert_eq!(a.to_string(), "john.doe@mail.example.com");
        assert_eq!(a, addr("john.doe@mail.example.com"));
        // Only ASCII letters of the local part fold; the domain lowercases fully.
        let b = addr("JÖRG@BÜCHER.example");
        assert_eq!((b.local(), b.domain()), ("jÖrg", "bücher.example"));
        assert_eq!(addr("x@b@example.com").local(), "x@b");
        assert_eq!(addr("jörg@bücher.example").domain(), "bücher.example");
        assert_eq!(addr("../..@example.com").local(), "../..");
        for bad in [
            "nobody",
            "@example.com",
            "a b@example.com",
            "a\r\n@example.com",
            "#x@example.com",
            "a@",
            "a@example..com",
            "a@.example.com",
            "a@example.com.",
            "a@../etc",
            "a@ex/ample.com",
            "a@-example.com",
            "a@[192.0.2.1]",
            "a@exa\0mple.com",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad:?}");
        }
        let long = "x".repeat(65);
        assert_eq!(
            Address::new(&long, "example.com"),
            Err(AddressError::LocalPartTooLong)
        );
        // Domains: 253 octets and 63 per label at most (RFC 1035 section 2.3.4).
        let label = |c: &str, n| c.repeat(n);
        let longest = [
            label("a", 63),
            label("b", 63),
            label("c", 63),
            label("d", 61),
        ]
        .join(".");
        assert_eq!(longest.len(), MAX_DOMAIN);
        assert!(normalize_domain(&longest).is_ok());
        assert!(normalize_domain(&format!("{longest}e")).is_err());
        assert!(normalize_domain(&format!("{}.example", label("x", MAX_LABEL))).is_ok());
        assert!(normalize_domain(&format!("{}.example", label("x", MAX_LABEL + 1))).is_err());
    }

    #[test]
    fn generated_passwords_use_the_alphabet() {
        let a = generate_password().unwrap();
        let b = generate_password().unwrap();
        assert_eq!(a.expose().len(), GENERATED_PASSWORD_LEN);
        assert!(a.expose().bytes().all(|c| PASSWORD_ALPHABET.contains(&c)));
        assert_ne!(a.expose(), b.expose());
        assert_eq!(format!("{a:?}"), "Secret([REDACTED])");
    }

    #[test]
    fn authenticator_checks_passwords_and_identities() {
        let dir = TempDir::new("authn");
        let mut accounts = Accounts::load(dir.0.join("accounts")).unwrap();
        accounts
            .upsert(&addr("dave@example.com"), &secret("pw"))
            .unwrap();
        let authn: &dyn Authenticator = &accounts;
        assert!(authn.verify_password("dave@example.com", &secret("pw")));
        assert!(!authn.verify_password("dave@example.com", &secret("pW")));
        assert!(authn.authorize("dave@example.com", None));
        assert!(authn.authorize("dave@example.com", Some("dave@EXAMPLE.com")));
        assert!(authn.authorize("Dave@example.com", Some("dAVE@example.com")));
        assert!(authn.verify_password("DAVE@example.com", &secret("pw")));
        assert!(!authn.authorize("dave@example.com", Some("eve@example.com")));
    }
}
