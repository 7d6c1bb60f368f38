//! Mail accounts: addresses and their Argon2id password hashes, kept in `<data>/accounts`.
//!
//! The file starts with its format version, `sansmail-accounts 1` ([`FORMAT_VERSION`]), then
//! holds one `address:PHC-string` per line; blank lines and lines starting with `#` are
//! comments and survive rewrites. A file whose first line names another version is refused
//! ([`AccountsError::UnknownVersion`]), never guessed at. A file without a version line (the
//! format before issue 14, otherwise identical) is read, and written back with the version
//! line at start. The file is only ever replaced atomically (temporary file, fsync, rename,
//! fsync of the directory), created with mode 0600 on unix, and rewritten only when an account
//! or the format changes, so a crash leaves either the old or the new file and other local
//! users cannot read the hashes.
//!
//! Passwords are hashed with Argon2id (RFC 9106) through the `argon2` crate, with that crate's
//! default parameters: m = 19456 KiB, t = 2 iterations, p = 1 lane, 32-byte output (the OWASP
//! password storage recommendation), and a random 16-byte salt from `ring`'s `SystemRandom`.
//! Passwords only ever travel as [`Secret<String>`]; neither they nor the hashes appear in any
//! `Debug` output or error.
//!
//! # Bounded hashing memory
//! Every Argon2 computation needs a work area of `m` KiB (19 MiB by default). Left to the
//! `argon2` crate, each verification allocates and frees its own, and the C allocator keeps
//! the freed areas in per-thread arenas: under an AUTH flood the server grew by hundreds of
//! megabytes and kept them (issue 14, item 3). Here the work areas are allocated once, at most
//! [`Accounts::set_hashing_slots`] of them, and reused for every hash and verification through
//! `hash_password_into_with_memory`; a verification recomputes the hash from the PHC string's
//! parameters and salt into a work area and compares the outputs in constant time. The memory
//! for hashing is therefore at most `slots × m` KiB, whatever the number of logins.
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

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use mail_wire::Secret;
use mail_wire::sasl::Authenticator;
use ring::rand::{SecureRandom, SystemRandom};
use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};

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
/// The format version this server reads and writes, on the first line of the accounts file
/// as `sansmail-accounts 1`.
pub const FORMAT_VERSION: u32 = 1;
/// What the version line starts with; the version number follows.
pub const VERSION_PREFIX: &str = "sansmail-accounts ";
/// The largest Argon2 memory cost a hash in the accounts file may ask for, in KiB (256 MiB,
/// 13 times the default): every hashing slot holds a work area of the largest cost in the
/// file, so one line must not be able to make the server reserve gigabytes.
pub const MAX_MEMORY_COST_KIB: u32 = 256 * 1024;
/// The most Argon2 passes (`t`) a hash in the accounts file may ask for: each pass costs as
/// much as the first, and a verification holds a hashing slot until it ends, so one line with
/// `t` in the billions would stop every login. 16 is eight times the default and above every
/// published recommendation (RFC 9106 section 4: 1 or 3; OWASP: 1 to 5).
pub const MAX_TIME_COST: u32 = 16;

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
    /// The hash asks for more memory than [`MAX_MEMORY_COST_KIB`].
    #[error("the hash's memory cost, {kib} KiB, is above the limit of {MAX_MEMORY_COST_KIB} KiB")]
    MemoryCost {
        /// The memory cost the hash names, in KiB.
        kib: u32,
    },
    /// The hash asks for more passes than [`MAX_TIME_COST`].
    #[error("the hash's time cost, {passes} passes, is above the limit of {MAX_TIME_COST}")]
    TimeCost {
        /// The number of passes (`t`) the hash names.
        passes: u32,
    },
    /// A format version line after a comment or an account: it must come first (blank lines
    /// may precede it).
    #[error("the format version line must come before every comment and account")]
    VersionNotFirst,
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
    /// The first line names a format version this server does not know: the file was written
    /// by a newer version, or is no accounts file. It is not read at all.
    #[error(
        "{}: format version `{version}` is not one this server knows (it reads version \
         {FORMAT_VERSION}); refusing to read the file rather than misread it",
        path.display()
    )]
    UnknownVersion {
        /// The accounts file.
        path: PathBuf,
        /// The version as written on the first line.
        version: String,
    },
    /// A `--password-file` (or standard input) cannot give a password.
    #[error("--password-file {}: {reason}", path.display())]
    PasswordFile {
        /// The file (`-` for standard input).
        path: PathBuf,
        /// Why (never the password).
        reason: String,
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
    /// The file exists but has no version line (the format before issue 14).
    unversioned: bool,
    /// The reusable Argon2 work areas.
    work: WorkAreas,
    /// The keyed hash (random keys for each process) that picks the account whose hash an
    /// unknown name is checked against.
    decoy_key: std::hash::RandomState,
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
        // A byte order mark (some editors start a UTF-8 file with one) is no part of the
        // first line: behind it, a version line would not be seen and an account's address
        // would start with U+FEFF. It is dropped, and not written back.
        let all: Vec<&str> = text
            .strip_prefix('\u{feff}')
            .unwrap_or(&text)
            .lines()
            .collect();
        // The version line, when there is one, is the first; `skipped` lines come before the
        // accounts, so line numbers in errors stay those of the file.
        // Blank lines (and white space) before the version line do not hide it: a file of
        // another version behind them must be refused as such, not read line by line.
        let leading_blank = all.iter().take_while(|l| l.trim().is_empty()).count();
        let first = all.get(leading_blank).map(|l| l.trim_start());
        let (skipped, unversioned) = match first {
            Some(first) => match first.strip_prefix(VERSION_PREFIX) {
                Some(version) if version.trim() == FORMAT_VERSION.to_string() => {
                    (leading_blank + 1, false)
                }
                Some(version) => {
                    return Err(AccountsError::UnknownVersion {
                        path,
                        version: version.trim().to_owned(),
                    });
                }
                None if first.trim_end() == VERSION_PREFIX.trim_end() => {
                    return Err(AccountsError::UnknownVersion {
                        path,
                        version: String::new(),
                    });
                }
                None => (0, true),
            },
            None => (0, false),
        };
        let mut accounts = Accounts {
            path,
            lines: Vec::new(),
            index: HashMap::new(),
            unversioned,
            work: WorkAreas::new(1),
            decoy_key: std::hash::RandomState::new(),
        };
        let lines = &all[skipped..];
        for (n, raw) in lines.iter().enumerate() {
            let line = match parse_line(raw) {
                Ok(line) => line,
                Err(error) => return Err(accounts.malformed(n + 1 + skipped, error)),
            };
            if let Line::Account { address, .. } = &line {
                if let Some(&first) = accounts.index.get(address) {
                    let (written, earlier) = (written_address(raw), written_address(lines[first]));
                    let error = match written == earlier {
                        true => LineError::Duplicate {
                            address: written.to_owned(),
                            first: first + 1 + skipped,
                        },
                        false => LineError::DiffersOnlyInCase {
                            address: written.to_owned(),
                            other: earlier.to_owned(),
                            first: first + 1 + skipped,
                        },
                    };
                    return Err(accounts.malformed(n + 1 + skipped, error));
                }
                accounts.index.insert(address.clone(), n);
            }
            accounts.lines.push(line);
        }
        accounts.work = WorkAreas::new(1).sized_for(accounts.hashes());
        // Compute the unknown-user hash now, so the first failed login is not faster.
        accounts.work.dummy_hash();
        Ok(accounts)
    }

    /// The PHC strings of the accounts.
    fn hashes(&self) -> impl Iterator<Item = &str> + '_ {
        self.lines.iter().filter_map(|line| match line {
            Line::Account { hash, .. } => Some(hash.as_str()),
            Line::Other(_) => None,
        })
    }

    /// Sets how many Argon2 computations may run at once, each with its own work area of the
    /// largest memory cost in the file (19 MiB by default). Call it with the number of
    /// hashing slots the server allows (its `auth_slots` semaphore): a verification beyond
    /// that many waits for a work area to come back rather than allocate one. The areas are
    /// allocated when first needed and kept.
    pub fn set_hashing_slots(&mut self, slots: usize) {
        self.work = WorkAreas::new(slots.max(1)).sized_for(self.hashes());
        self.work.dummy_hash();
    }

    /// The memory the work areas may take at most, in bytes: slots × the largest memory cost.
    pub fn hashing_memory_bound(&self) -> usize {
        self.work.limit * self.work.blocks * Block::SIZE
    }

    /// Writes the file once if it has no version line yet (the format before issue 14), so it
    /// carries one from then on. Returns whether it wrote.
    pub fn upgrade(&mut self) -> Result<bool, AccountsError> {
        if !self.unversioned {
            return Ok(false);
        }
        self.save()?;
        Ok(true)
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

    /// Creates the account or replaces its password, then rewrites the file atomically; an
    /// account that already has this password (with the current hash parameters) is left
    /// alone and the file is not written. Returns whether anything changed.
    ///
    /// Hashing takes tens of milliseconds and a work area of 19 MiB (Argon2 defaults).
    pub fn upsert(
        &mut self,
        address: &Address,
        password: &Secret<String>,
    ) -> Result<bool, AccountsError> {
        if let Some((_, hash)) = self.account_line(&address.to_string()) {
            let current = PasswordHash::new(hash)
                .ok()
                .and_then(|parsed| Params::try_from(&parsed).ok())
                .is_some_and(|params| {
                    let default = Params::default();
                    (params.m_cost(), params.t_cost(), params.p_cost())
                        == (default.m_cost(), default.t_cost(), default.p_cost())
                });
            if current && self.work.verify(password.expose().as_bytes(), Some(hash)) {
                return Ok(false);
            }
        }
        let hash = self.work.hash_password(password)?;
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
        self.save()?;
        Ok(true)
    }

    /// The account `name` (`local@domain`) names, written in any case: the login lookup of
    /// every protocol (SMTP AUTH, POP3 and IMAP). `None` when `name` is no
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
    /// Runs Argon2 whether or not the account exists (for an unknown or malformed address,
    /// against the hash of an account of the file picked by a keyed hash of the name, or a
    /// dummy hash with the default parameters when there is none), so the time taken does not
    /// tell which accounts exist, whatever parameters the file's hashes use. The outputs are
    /// compared in constant time. The computation uses one of the reusable work areas
    /// ([`set_hashing_slots`](Self::set_hashing_slots)), waiting for one if all are in use. Call it off the async runtime's threads (`spawn_blocking` or
    /// `block_in_place`): it takes tens of milliseconds.
    pub fn verify(&self, address: &str, password: &Secret<String>) -> bool {
        let password = password.expose().as_bytes();
        match self.account_line(address) {
            Some((_, hash)) => self.work.verify(password, Some(hash)),
            None => {
                // The same work as for an account of the file, whatever its parameters: the
                // hash of one of them, picked by a keyed hash of the name, so a name costs the
                // same at every attempt. The answer is no whatever the computation says.
                match self.decoy(address) {
                    Some(hash) => {
                        let _ = self.work.verify(password, Some(hash));
                    }
                    None => {
                        let _ = self.work.verify(password, None);
                    }
                }
                false
            }
        }
    }

    /// The hash an unknown `name` is checked against: one of the accounts', chosen by
    /// [`Accounts::decoy_key`]'s hash of the name; `None` without accounts.
    fn decoy(&self, name: &str) -> Option<&str> {
        use std::hash::BuildHasher;
        let n = self.index.len();
        if n == 0 {
            return None;
        }
        let pick = self.decoy_key.hash_one(name) % n as u64;
        self.hashes().nth(pick as usize)
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
    fn save(&mut self) -> Result<(), AccountsError> {
        let mut text = format!("{VERSION_PREFIX}{FORMAT_VERSION}\n");
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
        })?;
        self.unversioned = false;
        Ok(())
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
                           # Managed with --user ADDR --password-file FILE; passwords are never \
                           stored in clear.";

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
    // No address holds white space, so this is no account line (the account
    // `sansmail-accounts@example.com` is one).
    if trimmed.starts_with(VERSION_PREFIX) || trimmed == VERSION_PREFIX.trim_end() {
        return Err(LineError::VersionNotFirst);
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
    let (kib, passes) = costs(hash);
    if kib > MAX_MEMORY_COST_KIB {
        return Err(LineError::MemoryCost { kib });
    }
    if passes > MAX_TIME_COST {
        return Err(LineError::TimeCost { passes });
    }
    Ok(Line::Account {
        address,
        hash: hash.to_owned(),
    })
}

/// The memory cost (`m`, KiB) and the time cost (`t`, passes) a PHC string names; zeros when
/// it names none.
fn costs(hash: &str) -> (u32, u32) {
    PasswordHash::new(hash)
        .ok()
        .and_then(|parsed| Params::try_from(&parsed).ok())
        .map_or((0, 0), |params| (params.m_cost(), params.t_cost()))
}

/// The reusable Argon2 work areas: at most `limit` of `blocks` blocks (1 KiB each), allocated
/// when first needed, then handed from one computation to the next and never freed.
struct WorkAreas {
    /// Blocks per area: enough for the largest memory cost in the accounts file.
    blocks: usize,
    /// The most areas there may be.
    limit: usize,
    pool: Mutex<Pool>,
    /// Signalled when an area comes back.
    returned: Condvar,
    /// The parameters (m, t, p) of the last computation, for the tests.
    #[cfg(test)]
    last: Mutex<Option<(u32, u32, u32)>>,
}

/// The areas not in use, and how many exist.
struct Pool {
    free: Vec<Vec<Block>>,
    created: usize,
}

impl fmt::Debug for WorkAreas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkAreas")
            .field("blocks", &self.blocks)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl WorkAreas {
    /// At most `limit` areas of the default memory cost.
    fn new(limit: usize) -> Self {
        WorkAreas {
            blocks: Params::default().block_count(),
            limit,
            pool: Mutex::new(Pool {
                free: Vec::new(),
                created: 0,
            }),
            returned: Condvar::new(),
            #[cfg(test)]
            last: Mutex::new(None),
        }
    }

    /// Areas large enough for every hash in `hashes` (each already checked against
    /// [`MAX_MEMORY_COST_KIB`] at load).
    fn sized_for<'a>(mut self, hashes: impl Iterator<Item = &'a str>) -> Self {
        for hash in hashes {
            let blocks = PasswordHash::new(hash)
                .ok()
                .and_then(|parsed| Params::try_from(&parsed).ok())
                .map_or(0, |params| params.block_count());
            self.blocks = self.blocks.max(blocks);
        }
        self
    }

    fn lock(&self) -> MutexGuard<'_, Pool> {
        // Nothing panics while holding the lock; if something did, the pool is still whole.
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` with a work area: a free one, a new one while fewer than `limit` exist, or
    /// the next one to come back.
    fn with_area<R>(&self, f: impl FnOnce(&mut [Block]) -> R) -> R {
        let reused = {
            let mut pool = self.lock();
            loop {
                if let Some(area) = pool.free.pop() {
                    break Some(area);
                }
                if pool.created < self.limit {
                    pool.created += 1;
                    break None;
                }
                pool = self.returned.wait(pool).unwrap_or_else(|e| e.into_inner());
            }
        };
        // A new area is allocated after the lock is released.
        let mut area = reused.unwrap_or_else(|| vec![Block::new(); self.blocks]);
        let result = f(&mut area);
        self.lock().free.push(area);
        self.returned.notify_one();
        result
    }

    /// Computes the Argon2 output of `password` with `salt` into `out`, in a work area.
    fn hash_into(
        &self,
        argon2: &Argon2<'_>,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), argon2::Error> {
        self.with_area(|area| argon2.hash_password_into_with_memory(password, salt, out, area))
    }

    /// Hashes `password` with Argon2id, the default parameters and a fresh random salt;
    /// returns the PHC string.
    fn hash_password(&self, password: &Secret<String>) -> Result<String, AccountsError> {
        let mut salt = [0u8; SALT_LEN];
        SystemRandom::new()
            .fill(&mut salt)
            .map_err(|_| AccountsError::Random)?;
        self.hash_with_salt(password.expose().as_bytes(), &salt)
    }

    /// The PHC string of `password` hashed with Argon2id, the default parameters and `salt`.
    fn hash_with_salt(&self, password: &[u8], salt: &[u8]) -> Result<String, AccountsError> {
        let failed = |e: &dyn fmt::Display| AccountsError::Hash(e.to_string());
        let params = Params::default();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.hash_into(&argon2, password, salt, &mut out)
            .map_err(|e| failed(&e))?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
            salt: Some(Salt::new(salt).map_err(|e| failed(&e))?),
            hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
        };
        Ok(hash.to_string())
    }

    /// Whether `password` matches the PHC string `stored`; with `None` (no such account) the
    /// same work is done against the dummy hash and the answer is no.
    fn verify(&self, password: &[u8], stored: Option<&str>) -> bool {
        match stored {
            Some(hash) => self.matches(password, hash),
            None => {
                let _ = self.matches(password, self.dummy_hash());
                false
            }
        }
    }

    /// Recomputes the hash of `password` with the algorithm, version, parameters and salt of
    /// the PHC string `hash`, and compares the outputs in constant time (`Output`'s equality).
    fn matches(&self, password: &[u8], hash: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return false;
        };
        let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
            return false;
        };
        let version = match parsed.version.map(Version::try_from) {
            None => Version::default(),
            Some(Ok(version)) => version,
            Some(Err(_)) => return false,
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return false;
        };
        if params.block_count() > self.blocks {
            return false;
        }
        #[cfg(test)]
        {
            *self.last.lock().unwrap() = Some((params.m_cost(), params.t_cost(), params.p_cost()));
        }
        let argon2 = Argon2::new(algorithm, version, params);
        let mut out = [0u8; Output::MAX_LENGTH];
        let Some(out) = out.get_mut(..expected.len()) else {
            return false;
        };
        if self
            .hash_into(&argon2, password, salt.as_ref(), out)
            .is_err()
        {
            return false;
        }
        Output::new(out).is_ok_and(|computed| computed == *expected)
    }

    /// A hash with the default parameters that no password is checked against for real: the
    /// work done for an unknown user.
    fn dummy_hash(&self) -> &'static str {
        static DUMMY: OnceLock<String> = OnceLock::new();
        DUMMY.get_or_init(|| {
            self.hash_with_salt(b"sansmail unknown user", b"sansmail-dummy-salt")
                .unwrap_or_default()
        })
    }
}

/// The longest password file read, in octets: a password line, not a file to slurp.
pub const MAX_PASSWORD_FILE: u64 = 4096;

/// Reads a password from `path`: its first and only line, without the line ending.
///
/// The file must not be readable or writable by group or others (mode 0600 or stricter on
/// unix, checked on the opened file): a password file others can read is no better than the
/// command line, and the refusal says how to fix it.
pub fn read_password_file(path: &Path) -> Result<Secret<String>, AccountsError> {
    let fail = |reason: String| AccountsError::PasswordFile {
        path: path.to_owned(),
        reason,
    };
    let mut options = fs::OpenOptions::new();
    options.read(true);
    // Without blocking: opening a FIFO for reading would wait for a writer, and whoever
    // writes to it would choose the password. Regular files read the same either way.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        rustix::fs::OFlags::NONBLOCK.bits() as i32,
    );
    let file = options.open(path).map_err(|e| fail(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = file.metadata().map_err(|e| fail(e.to_string()))?;
        if !meta.is_file() {
            return Err(fail("is not a regular file".into()));
        }
        // Checked on the opened file, so a symlink is judged by its target: a file of
        // another user (even mode 0600, which only root could read) holds the password that
        // user chose, as a file planted in a shared directory would.
        let me = rustix::process::geteuid().as_raw();
        if meta.uid() != me && meta.uid() != 0 {
            return Err(fail(format!(
                "the file is owned by user {}, not by the user running the server ({me}) or \
                 root",
                meta.uid()
            )));
        }
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(fail(format!(
                "the file may be read or changed by group or others (mode {:04o}); make it \
                 private with `chmod 600 {}`",
                mode & 0o7777,
                path.display()
            )));
        }
    }
    read_password(file).map_err(fail)
}

/// Reads a password from standard input: after a prompt naming `address`, with echo turned
/// off, when it is a terminal; otherwise its first and only line.
pub fn read_password_stdin(address: &Address) -> Result<Secret<String>, AccountsError> {
    let fail = |reason: String| AccountsError::PasswordFile {
        path: PathBuf::from("-"),
        reason,
    };
    let stdin = io::stdin();
    if !io::IsTerminal::is_terminal(&stdin) {
        return read_password(stdin.lock()).map_err(fail);
    }
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let saved = tcgetattr(&stdin).map_err(|e| fail(e.to_string()))?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    eprint!("Password for {address}: ");
    tcsetattr(&stdin, OptionalActions::Flush, &quiet).map_err(|e| fail(e.to_string()))?;
    let mut line = String::new();
    let read = io::BufRead::read_line(&mut stdin.lock(), &mut line);
    let restored = tcsetattr(&stdin, OptionalActions::Flush, &saved);
    eprintln!();
    read.map_err(|e| fail(e.to_string()))?;
    restored.map_err(|e| fail(e.to_string()))?;
    password_line(line.into_bytes()).map_err(fail)
}

/// The password in what `reader` yields (at most [`MAX_PASSWORD_FILE`] octets).
fn read_password(reader: impl io::Read) -> Result<Secret<String>, String> {
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut reader.take(MAX_PASSWORD_FILE + 1), &mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_PASSWORD_FILE {
        return Err(format!("longer than {MAX_PASSWORD_FILE} octets"));
    }
    password_line(bytes)
}

/// One line, without its line ending (LF or CRLF): the password.
fn password_line(mut bytes: Vec<u8>) -> Result<Secret<String>, String> {
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    if bytes.contains(&b'\n') || bytes.contains(&b'\r') {
        return Err("holds more than one line; put only the password in it".into());
    }
    if bytes.is_empty() {
        return Err("the password is empty".into());
    }
    String::from_utf8(bytes)
        .map(Secret::new)
        .map_err(|_| "the password is not UTF-8".into())
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

    fn hash_password(password: &Secret<String>) -> Result<String, AccountsError> {
        WorkAreas::new(1).hash_password(password)
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
        assert!(text.starts_with("sansmail-accounts 1\n#"), "{text}");
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
    fn the_file_carries_its_version_and_an_unknown_one_is_refused() {
        let dir = TempDir::new("version");
        let path = dir.0.join("accounts");
        let mut accounts = Accounts::load(&path).unwrap();
        accounts
            .upsert(&addr("alice@example.com"), &secret("pw"))
            .unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("sansmail-accounts 1\n#"), "{text}");

        // A file without the line (the format before issue 14) is read, and upgraded once.
        let old = text.strip_prefix("sansmail-accounts 1\n").unwrap();
        fs::write(&path, old).unwrap();
        let mut accounts = Accounts::load(&path).unwrap();
        assert!(accounts.verify("alice@example.com", &secret("pw")));
        assert!(accounts.upgrade().unwrap());
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
        assert!(!Accounts::load(&path).unwrap().upgrade().unwrap());

        // Line numbers in errors are those of the file, version line included.
        fs::write(&path, format!("{text}broken line\n")).unwrap();
        let error = Accounts::load(&path).unwrap_err().to_string();
        let lines = text.lines().count();
        assert!(error.contains(&format!("line {}:", lines + 1)), "{error}");

        for (first, version) in [
            ("sansmail-accounts 2", "2"),
            ("sansmail-accounts 1.1", "1.1"),
            ("sansmail-accounts", ""),
        ] {
            fs::write(&path, format!("{first}\n{old}")).unwrap();
            let error = Accounts::load(&path).unwrap_err();
            assert!(
                matches!(&error, AccountsError::UnknownVersion { version: v, .. } if v == version),
                "{error:?}"
            );
            let message = error.to_string();
            assert!(
                message.contains(&path.display().to_string())
                    && message.contains(&format!("format version `{version}`")),
                "{message}"
            );
        }
    }

    #[test]
    fn an_unchanged_password_does_not_rewrite_the_file() {
        let dir = TempDir::new("unchanged");
        let path = dir.0.join("accounts");
        let mut accounts = Accounts::load(&path).unwrap();
        let alice = addr("alice@example.com");
        assert!(accounts.upsert(&alice, &secret("one")).unwrap());
        let before = fs::read_to_string(&path).unwrap();
        let mut accounts = Accounts::load(&path).unwrap();
        assert!(!accounts.upsert(&alice, &secret("one")).unwrap());
        assert!(
            !accounts
                .upsert(&addr("ALICE@example.com"), &secret("one"))
                .unwrap()
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), before);
        assert!(accounts.upsert(&alice, &secret("two")).unwrap());
        assert_ne!(fs::read_to_string(&path).unwrap(), before);
    }

    #[test]
    fn hashes_are_standard_argon2id_and_work_areas_are_bounded() {
        use argon2::PasswordVerifier;
        let dir = TempDir::new("standard");
        let mut accounts = Accounts::load(dir.0.join("accounts")).unwrap();
        accounts.set_hashing_slots(3);
        assert_eq!(accounts.hashing_memory_bound(), 3 * 19456 * 1024);
        accounts
            .upsert(&addr("erin@example.com"), &secret("pw"))
            .unwrap();
        let text = fs::read_to_string(accounts.path()).unwrap();
        let hash = text.lines().last().unwrap().split_once(':').unwrap().1;
        // The argon2 crate's own verifier accepts what the reused work areas produced, and
        // ours accepts a hash with other parameters that argon2 made.
        let parsed = PasswordHash::new(hash).unwrap();
        assert!(Argon2::default().verify_password(b"pw", &parsed).is_ok());
        let params = Params::new(8192, 1, 1, None).unwrap();
        let other = argon2::PasswordHasher::hash_password_with_salt(
            &Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            b"pw2",
            b"0123456789abcdef",
        )
        .unwrap()
        .to_string();
        assert!(accounts.work.verify(b"pw2", Some(&other)));
        assert!(!accounts.work.verify(b"pw3", Some(&other)));
        // Concurrent verifications never create more areas than slots.
        std::thread::scope(|scope| {
            for _ in 0..6 {
                scope.spawn(|| assert!(accounts.verify("erin@example.com", &secret("pw"))));
            }
        });
        assert!(accounts.work.lock().created <= 3);
        // A hash asking for more than the memory cost limit is refused at load.
        let huge = hash.replace("m=19456", "m=300000");
        fs::write(accounts.path(), format!("x@example.com:{huge}\n")).unwrap();
        match Accounts::load(accounts.path()) {
            Err(AccountsError::Malformed {
                error: LineError::MemoryCost { kib: 300000 },
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn password_files_must_be_private_and_hold_one_line() {
        let dir = TempDir::new("pwfile");
        let path = dir.0.join("pw");
        let write = |bytes: &[u8], mode: u32| {
            fs::write(&path, bytes).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            }
        };
        for (bytes, expected) in [
            (&b"wonderland-7\n"[..], "wonderland-7"),
            (b"wonderland-7\r\n", "wonderland-7"),
            (b"no newline", "no newline"),
            (b"  spaces kept  \n", "  spaces kept  "),
        ] {
            write(bytes, 0o600);
            assert_eq!(read_password_file(&path).unwrap().expose(), expected);
        }
        write(b"pw\n", 0o400);
        assert!(read_password_file(&path).is_ok());
        for (bytes, reason) in [
            (&b"\n"[..], "the password is empty"),
            (b"one\ntwo\n", "more than one line"),
            (b"\xff\n", "not UTF-8"),
        ] {
            write(bytes, 0o600);
            let message = read_password_file(&path).unwrap_err().to_string();
            assert!(message.contains(reason), "{message}");
            assert!(message.starts_with("--password-file "), "{message}");
        }
        write(&vec![b'x'; 5000], 0o600);
        let message = read_password_file(&path).unwrap_err().to_string();
        assert!(message.contains("longer than 4096 octets"), "{message}");
        #[cfg(unix)]
        for mode in [0o640, 0o604, 0o620] {
            write(b"secret-pw\n", mode);
            let message = read_password_file(&path).unwrap_err().to_string();
            assert!(
                message.contains(&format!("(mode {mode:04o})"))
                    && message.contains("chmod 600")
                    && !message.contains("secret-pw"),
                "{message}"
            );
        }
        let missing = read_password_file(&dir.0.join("missing")).unwrap_err();
        assert!(missing.to_string().contains("missing"), "{missing}");
    }

    #[test]
    fn a_byte_order_mark_is_not_read_as_part_of_the_first_line() {
        let dir = TempDir::new("bom");
        let path = dir.0.join("accounts");
        let good = hash_password(&secret("pw")).unwrap();
        // A file saved by an editor that starts it with a byte order mark: the first account
        // is alice, not U+FEFF followed by alice, and the rewrite drops the mark.
        fs::write(&path, format!("\u{feff}alice@example.com:{good}\r\n")).unwrap();
        let mut accounts = Accounts::load(&path).unwrap();
        let listed: Vec<String> = accounts.addresses().map(|a| a.to_string()).collect();
        assert_eq!(listed, ["alice@example.com"]);
        assert!(accounts.verify("alice@example.com", &secret("pw")));
        assert!(accounts.upgrade().unwrap());
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("sansmail-accounts 1\n"), "{text:?}");
        // A version line behind the mark is still the version line.
        fs::write(
            &path,
            format!("\u{feff}sansmail-accounts 1\r\nalice@example.com:{good}\r\n"),
        )
        .unwrap();
        let mut accounts = Accounts::load(&path).unwrap();
        assert!(accounts.verify("alice@example.com", &secret("pw")));
        assert!(!accounts.upgrade().unwrap());
        fs::write(
            &path,
            format!("\u{feff}sansmail-accounts 2\nalice@example.com:{good}\n"),
        )
        .unwrap();
        match Accounts::load(&path) {
            Err(AccountsError::UnknownVersion { version, .. }) => assert_eq!(version, "2"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_hash_asking_for_too_many_passes_is_refused_at_load() {
        let dir = TempDir::new("passes");
        let path = dir.0.join("accounts");
        let hash_with = |t_cost: u32| {
            let params = Params::new(8, t_cost, 1, None).unwrap();
            argon2::PasswordHasher::hash_password_with_salt(
                &Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
                b"pw",
                b"0123456789abcdef",
            )
            .unwrap()
            .to_string()
        };
        fs::write(
            &path,
            format!("a@example.com:{}\n", hash_with(MAX_TIME_COST)),
        )
        .unwrap();
        assert!(
            Accounts::load(&path)
                .unwrap()
                .verify("a@example.com", &secret("pw"))
        );
        // Each pass costs as much as the first: a line asking for billions would hold a
        // hashing slot for days at every login.
        for t_cost in [MAX_TIME_COST + 1, u32::MAX] {
            let huge = hash_with(1).replace("t=1,", &format!("t={t_cost},"));
            fs::write(&path, format!("a@example.com:{huge}\n")).unwrap();
            match Accounts::load(&path) {
                Err(AccountsError::Malformed {
                    line: 1,
                    error: LineError::TimeCost { passes },
                    ..
                }) => assert_eq!(passes, t_cost),
                other => panic!("t={t_cost}: {other:?}"),
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_password_file_must_be_a_regular_file_of_ours() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("pwkind");
        // A FIFO (mode 0600) is refused at once, not waited on: a start must not hang on a
        // pipe someone planted where the password file should be, nor read what they write.
        let fifo = dir.0.join("fifo");
        let made = std::process::Command::new("mkfifo")
            .args(["-m", "600"])
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(
                read_password_file(&path)
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
            );
        });
        let result = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("read_password_file blocked on a FIFO");
        let message = result.unwrap_err();
        assert!(message.contains("not a regular file"), "{message}");
        // A file (or a symlink's target) owned by another user, even mode 0600: that user
        // chooses the password. Only a process that can make such a file checks this.
        let theirs = dir.0.join("theirs");
        fs::write(&theirs, "chosen-by-them\n").unwrap();
        fs::set_permissions(&theirs, fs::Permissions::from_mode(0o600)).unwrap();
        if std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).is_ok() {
            let message = read_password_file(&theirs).unwrap_err().to_string();
            assert!(message.contains("owned by user 65534"), "{message}");
            assert!(!message.contains("chosen-by-them"), "{message}");
            let link = dir.0.join("link");
            std::os::unix::fs::symlink(&theirs, &link).unwrap();
            let message = read_password_file(&link).unwrap_err().to_string();
            assert!(message.contains("owned by user 65534"), "{message}");
        }
        // Ours, through a symlink, is fine.
        let ours = dir.0.join("ours");
        fs::write(&ours, "mine\n").unwrap();
        fs::set_permissions(&ours, fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.0.join("ours-link");
        std::os::unix::fs::symlink(&ours, &link).unwrap();
        assert_eq!(read_password_file(&link).unwrap().expose(), "mine");
    }

    #[test]
    fn an_unknown_user_costs_what_an_account_of_the_file_costs() {
        let dir = TempDir::new("decoy");
        let path = dir.0.join("accounts");
        // Every account hashed with other parameters than the crate's defaults (imported, or
        // written before a change of the defaults): an unknown user must not cost the
        // defaults, or the time of a failed login tells which accounts exist.
        let hash_with = |m_cost: u32, t_cost: u32, password: &[u8]| {
            let params = Params::new(m_cost, t_cost, 1, None).unwrap();
            argon2::PasswordHasher::hash_password_with_salt(
                &Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
                password,
                b"0123456789abcdef",
            )
            .unwrap()
            .to_string()
        };
        fs::write(
            &path,
            format!(
                "a@example.com:{}\nb@example.com:{}\n",
                hash_with(64, 3, b"pw-a"),
                hash_with(64, 3, b"pw-b")
            ),
        )
        .unwrap();
        let accounts = Accounts::load(&path).unwrap();
        let last = || *accounts.work.last.lock().unwrap();
        assert!(!accounts.verify("a@example.com", &secret("wrong")));
        assert_eq!(last(), Some((64, 3, 1)));
        for name in ["nobody@example.com", "no address", "A@example.org"] {
            *accounts.work.last.lock().unwrap() = None;
            assert!(!accounts.verify(name, &secret("wrong")), "{name}");
            assert_eq!(last(), Some((64, 3, 1)), "{name}");
            // An account's password does not open an unknown name.
            for password in ["pw-a", "pw-b"] {
                assert!(!accounts.verify(name, &secret(password)), "{name}");
            }
        }
        assert!(accounts.verify("b@example.com", &secret("pw-b")));
    }

    #[test]
    fn a_version_line_behind_blank_lines_or_comments_is_not_taken_for_an_account() {
        let dir = TempDir::new("version-place");
        let path = dir.0.join("accounts");
        let good = hash_password(&secret("pw")).unwrap();
        // Blank lines (and white space) before it: still the version line, so an unknown
        // version is refused as such, and version 1 is read.
        for version in ["2", "1.1"] {
            fs::write(
                &path,
                format!("\n \r\n  sansmail-accounts {version}  \r\nalice@example.com:{good}\n"),
            )
            .unwrap();
            match Accounts::load(&path) {
                Err(AccountsError::UnknownVersion { version: v, .. }) => assert_eq!(v, version),
                other => panic!("{version}: {other:?}"),
            }
        }
        fs::write(
            &path,
            format!("\n\nsansmail-accounts 1\nalice@example.com:{good}\n"),
        )
        .unwrap();
        let mut accounts = Accounts::load(&path).unwrap();
        assert!(accounts.verify("alice@example.com", &secret("pw")));
        assert!(!accounts.upgrade().unwrap());
        // Behind a comment, it is refused naming the problem, not as a malformed account.
        fs::write(
            &path,
            format!("# mine\nsansmail-accounts 2\nalice@example.com:{good}\n"),
        )
        .unwrap();
        match Accounts::load(&path) {
            Err(AccountsError::Malformed {
                line: 2,
                error: LineError::VersionNotFirst,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        // An account whose name starts like the version line is an account.
        fs::write(&path, format!("sansmail-accounts@example.com:{good}\n")).unwrap();
        let accounts = Accounts::load(&path).unwrap();
        assert!(accounts.verify("sansmail-accounts@example.com", &secret("pw")));
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
        assert!(
            after.starts_with("sansmail-accounts 1\n# my accounts\n\n"),
            "{after}"
        );
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
