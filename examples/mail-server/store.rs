//! The mailbox store: one Maildir per account, with durable, streaming delivery.
//!
//! ```text
//! <data>/mail/<domain>/<local part>/{tmp,new,cur}
//! ```
//!
//! The domain is the account's lowercased domain and the local part its exact local part, both
//! encoded by [`encode_component`] so that no address can name a path outside its Maildir
//! (`/`, `\`, NUL, controls, `%`, non-ASCII and a leading `.` become `%XX`).
//!
//! # Delivery protocol (the Maildir convention, made crash-safe)
//! 1. [`Store::deliver`] creates a file with a unique name in the first recipient's `tmp/`.
//! 2. [`Delivery::write`] appends the trace headers and the body as they arrive.
//! 3. [`Delivery::commit`] fsyncs the file, hard-links it into the `new/` of every other
//!    recipient (copying through their `tmp/` when a link is impossible), renames it into the
//!    first recipient's `new/`, fsyncs every `new/` directory, and only then returns: the SMTP
//!    server answers 250 after that.
//!
//! A crash before the renames leaves at most a file in `tmp/`, which no reader looks at and
//! which [`Store::open`] removes once it is 36 hours old; a crash after them but before the 250
//! may deliver a message the client will send again (SMTP's at-least-once contract). No crash
//! leaves a partial file in `new/`, and no message is acknowledged before it is on disk.
//!
//! Every call blocks on the file system, and `commit` waits for the disk: from async code,
//! move the [`Delivery`] (it is `Send + 'static`) into `tokio::task::spawn_blocking` for the
//! commit, and for writes of large chunks.
//!
//! Files hold the message exactly as written (for SMTP: the unstuffed DATA with CRLF line
//! endings, as Dovecot's `mail_save_crlf = yes` keeps them). File names follow the Maildir
//! specification with Courier's and Dovecot's extensions:
//! `<secs>.M<micros>P<pid>Q<counter>R<random hex>.<hostname>,S=<size>`.

use ring::rand::{SecureRandom, SystemRandom};
use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::accounts::Address;

/// Age after which a file left in `tmp/` is removed: the Maildir specification's 36 hours
/// ("a file in tmp/ that has not been accessed in 36 hours" is stale).
pub const STALE_TMP_AGE: Duration = Duration::from_secs(36 * 60 * 60);

/// Buffer between [`Delivery::write`] and the file, so small chunks cost no system call each.
const WRITE_BUFFER: usize = 64 * 1024;

/// How many fresh names [`Store::deliver`] tries before giving up on `tmp/` collisions.
const NAME_ATTEMPTS: u32 = 8;

/// Deliveries made by this process, for the `Q` part of unique names.
static DELIVERY_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The Maildir tree under `<data>/mail`. Cheap to clone; every clone shares the same tree.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// `<data>/mail`.
    root: PathBuf,
    /// The host name part of unique names, already escaped.
    host: String,
}

impl Store {
    /// Opens (creating as needed) the store under `data`, and removes files older than
    /// [`STALE_TMP_AGE`] from every Maildir's `tmp/`.
    ///
    /// `hostname` goes into unique file names, with `/` and `:` escaped as `\057` and `\072`
    /// (as Courier and Dovecot do).
    pub fn open(data: &Path, hostname: &str) -> io::Result<Store> {
        let root = data.join("mail");
        ensure_dir(&root)?;
        let host = if hostname.is_empty() {
            "localhost".to_owned()
        } else {
            escape_hostname(hostname)
        };
        let store = Store {
            inner: Arc::new(Inner { root, host }),
        };
        store.remove_stale_tmp(STALE_TMP_AGE)?;
        Ok(store)
    }

    /// `<data>/mail`.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The Maildir of `account` (it may not exist yet).
    pub fn maildir(&self, account: &Address) -> PathBuf {
        self.inner
            .root
            .join(encode_component(account.domain()))
            .join(encode_component(account.local()))
    }

    /// Creates the Maildir of `account` (`tmp/`, `new/`, `cur/`, mode 0700 on unix) if it does
    /// not exist, making every new directory entry durable, and returns its path.
    pub fn create_maildir(&self, account: &Address) -> io::Result<PathBuf> {
        let maildir = self.maildir(account);
        for sub in ["tmp", "new", "cur"] {
            ensure_dir(&maildir.join(sub))?;
        }
        Ok(maildir)
    }

    /// Starts a delivery of one message to the Maildirs of `recipients` (each once, however
    /// often it is listed), creating them if needed. Write the message with
    /// [`Delivery::write`], then [`Delivery::commit`] or [`Delivery::abort`].
    pub fn deliver(&self, recipients: &[Address]) -> io::Result<Delivery> {
        let mut seen = HashSet::new();
        let mut maildirs = Vec::new();
        for rcpt in recipients {
            if seen.insert(rcpt) {
                maildirs.push(self.create_maildir(rcpt)?);
            }
        }
        let Some(first) = maildirs.first() else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a delivery needs at least one recipient",
            ));
        };
        let mut attempt = 0;
        loop {
            let name = self.unique_name()?;
            let tmp = first.join("tmp").join(&name);
            match create_private(&tmp) {
                Ok(file) => {
                    return Ok(Delivery {
                        maildirs,
                        name,
                        tmp,
                        file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
                        size: 0,
                        failed: false,
                        done: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < NAME_ATTEMPTS => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// A unique Maildir base name (without the `,S=` size):
    /// `<secs>.M<micros>P<pid>Q<counter>R<random hex>.<hostname>`.
    fn unique_name(&self) -> io::Result<String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let counter = DELIVERY_COUNTER.fetch_add(1, Ordering::Relaxed);
        let random = random_hex(8)?;
        Ok(format!(
            "{}.M{}P{}Q{}R{}.{}",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id(),
            counter,
            random,
            self.inner.host
        ))
    }

    /// The messages of `account` in `new/` and then `cur/`, each sorted by name (which starts
    /// with the delivery time). An account without a Maildir has none.
    pub fn messages(&self, account: &Address) -> io::Result<Vec<PathBuf>> {
        let maildir = self.maildir(account);
        let mut all = Vec::new();
        for sub in ["new", "cur"] {
            let mut files = Vec::new();
            let entries = match fs::read_dir(maildir.join(sub)) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            for entry in entries {
                let entry = entry?;
                if entry.file_type()?.is_file() {
                    files.push(entry.path());
                }
            }
            files.sort();
            all.extend(files);
        }
        Ok(all)
    }

    /// Removes regular files older than `max_age` (by modification time) from the `tmp/` of
    /// every Maildir in the store; returns how many it removed.
    pub fn remove_stale_tmp(&self, max_age: Duration) -> io::Result<usize> {
        let now = SystemTime::now();
        let mut removed = 0;
        for domain in read_dirs(&self.inner.root)? {
            for maildir in read_dirs(&domain)? {
                let tmp = maildir.join("tmp");
                let entries = match fs::read_dir(&tmp) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                for entry in entries {
                    let entry = entry?;
                    let meta = entry.metadata()?;
                    let age = meta
                        .modified()
                        .ok()
                        .and_then(|m| now.duration_since(m).ok())
                        .unwrap_or_default();
                    if meta.is_file() && age > max_age {
                        match fs::remove_file(entry.path()) {
                            Ok(()) => removed += 1,
                            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
            }
        }
        Ok(removed)
    }
}

/// One message on its way into one or more Maildirs.
///
/// Dropping it without [`commit`](Self::commit) is the same as [`abort`](Self::abort): the
/// file in `tmp/` is removed and nothing appears in `new/`.
pub struct Delivery {
    /// The recipients' Maildirs; the file is created in the first one's `tmp/`.
    maildirs: Vec<PathBuf>,
    /// The unique base name.
    name: String,
    /// The file in the first Maildir's `tmp/`.
    tmp: PathBuf,
    file: Option<BufWriter<File>>,
    size: u64,
    /// A write failed: the file may be incomplete, so it can no longer be committed.
    failed: bool,
    /// Committed or cleaned up.
    done: bool,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("name", &self.name)
            .field("maildirs", &self.maildirs)
            .field("size", &self.size)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    /// Appends `bytes` to the message. After an error the delivery can only be aborted.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.failed {
            return Err(poisoned());
        }
        let file = self.file.as_mut().ok_or_else(poisoned)?;
        match file.write_all(bytes) {
            Ok(()) => {
                self.size += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    /// The number of bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The unique base name of the message (usable as a queue id in logs).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Makes the message durable in every recipient's `new/` and returns the paths there.
    ///
    /// Returns only after the file and every `new/` directory have been fsynced; answer 250
    /// after that, never before. On error, nothing written by this delivery is left behind (as
    /// far as removing it succeeds) and the client should be told to retry (4xx).
    pub fn commit(mut self) -> io::Result<Vec<PathBuf>> {
        let result = self.try_commit();
        if result.is_ok() {
            self.done = true;
        }
        result
    }

    fn try_commit(&mut self) -> io::Result<Vec<PathBuf>> {
        if self.failed {
            return Err(poisoned());
        }
        let file = self.file.take().ok_or_else(poisoned)?;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);

        let final_name = format!("{},S={}", self.name, self.size);
        let mut placed: Vec<PathBuf> = Vec::with_capacity(self.maildirs.len());
        let result = (|| {
            for maildir in &self.maildirs[1..] {
                let target = maildir.join("new").join(&final_name);
                if fs::hard_link(&self.tmp, &target).is_err() {
                    // Another file system, or one without hard links: copy via its tmp/.
                    let copy = maildir.join("tmp").join(&self.name);
                    let copied =
                        copy_durably(&self.tmp, &copy).and_then(|()| fs::rename(&copy, &target));
                    if let Err(e) = copied {
                        let _ = fs::remove_file(&copy);
                        return Err(e);
                    }
                }
                placed.push(target);
            }
            let target = self.maildirs[0].join("new").join(&final_name);
            fs::rename(&self.tmp, &target)?;
            placed.push(target);
            for maildir in &self.maildirs {
                sync_dir(&maildir.join("new"))?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                // In recipient order: the renamed file (first recipient) was placed last.
                placed.rotate_right(1);
                Ok(placed)
            }
            Err(e) => {
                for path in &placed {
                    let _ = fs::remove_file(path);
                }
                Err(e)
            }
        }
    }

    /// Abandons the message: removes its file from `tmp/`.
    pub fn abort(mut self) {
        self.clean_up();
    }

    fn clean_up(&mut self) {
        if !self.done {
            self.done = true;
            self.file = None;
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        self.clean_up();
    }
}

fn poisoned() -> io::Error {
    io::Error::other("an earlier write of this delivery failed")
}

/// Copies `from` to a new file `to` (mode 0600) and fsyncs it.
fn copy_durably(from: &Path, to: &Path) -> io::Result<()> {
    let mut src = File::open(from)?;
    let mut dst = create_private(to)?;
    io::copy(&mut src, &mut dst)?;
    dst.sync_all()
}

/// Creates a new file (failing if it exists), mode 0600 on unix.
fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// The subdirectories of `dir` (none if it does not exist).
fn read_dirs(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            dirs.push(entry.path());
        }
    }
    Ok(dirs)
}

/// Creates `dir` and its missing parents (mode 0700 on unix), fsyncing the parent of each
/// directory it creates so the new entries survive a crash.
pub fn ensure_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    ensure_dir(parent)?;
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(dir) {
        Ok(()) => sync_dir(parent),
        // Another delivery created it first.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Flushes a directory's entries (new, renamed or removed names) to disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        // Directories cannot be opened as files there; rely on the file system's ordering.
        let _ = dir;
        Ok(())
    }
}

/// Replaces `path` with `contents` so that a crash leaves the old or the new file, never a
/// mix or nothing: a temporary file beside it (mode 0600 on unix), fsync, rename over `path`,
/// fsync of the directory. Creates the directory if needed.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    ensure_dir(dir)?;
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy());
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.tmp.{}.{n}", std::process::id()));
    let written = (|| {
        let mut options = OpenOptions::new();
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
    sync_dir(dir)
}

/// Encodes an address part as one safe file name component.
///
/// ASCII letters, digits and ``!#$&'*+-=?^_`{|}~`` stay as they are, and so does `.` except
/// in first position; every other byte (`/`, `\`, `%`, `:`, NUL, controls, space, non-ASCII
/// UTF-8) becomes `%XX`. The result is never empty (for a non-empty input), `.` or `..`, holds
/// no separator, and distinct inputs give distinct results.
pub fn encode_component(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for (i, &b) in part.as_bytes().iter().enumerate() {
        let safe =
            b.is_ascii_alphanumeric() || b"!#$&'*+-=?^_`{|}~".contains(&b) || (b == b'.' && i > 0);
        if safe {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Escapes a host name for a Maildir file name: `/` as `\057` and `:` as `\072` (Courier's
/// and Dovecot's convention).
pub fn escape_hostname(hostname: &str) -> String {
    hostname.replace('/', "\\057").replace(':', "\\072")
}

/// `n` random bytes from `ring`'s `SystemRandom`, as lowercase hex.
fn random_hex(n: usize) -> io::Result<String> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| io::Error::other("the system random number generator failed"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A fresh random transaction id (16 hex digits) for the `id` clause of `Received:` and for
/// logs.
pub fn transaction_id() -> io::Result<String> {
    random_hex(8)
}

// ---------------------------------------------------------------------------------------------
// Trace headers (RFC 5321 section 4.4)
// ---------------------------------------------------------------------------------------------

/// The longest line a trace header produces when its parts allow (RFC 5322 section 2.1.1:
/// lines SHOULD be at most 78 characters).
pub const FOLD_AT: usize = 78;

/// The `with` protocol of a `Received:` header (RFC 3848 and the IANA "Mail Transmission
/// Types" registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `SMTP`: HELO.
    Smtp,
    /// `ESMTP`: EHLO, no TLS, no AUTH.
    Esmtp,
    /// `ESMTPA`: EHLO with AUTH.
    Esmtpa,
    /// `ESMTPS`: EHLO with STARTTLS or implicit TLS.
    Esmtps,
    /// `ESMTPSA`: EHLO with TLS and AUTH.
    Esmtpsa,
    /// `LMTP`.
    Lmtp,
    /// `LMTPA`: LMTP with AUTH.
    Lmtpa,
    /// `LMTPS`: LMTP with TLS.
    Lmtps,
    /// `LMTPSA`: LMTP with TLS and AUTH.
    Lmtpsa,
}

impl Protocol {
    /// The value for a session: LMTP or SMTP, EHLO or HELO (ignored for LMTP), TLS, AUTH.
    pub fn for_session(lmtp: bool, ehlo: bool, tls: bool, auth: bool) -> Protocol {
        match (lmtp, ehlo, tls, auth) {
            (true, _, false, false) => Protocol::Lmtp,
            (true, _, false, true) => Protocol::Lmtpa,
            (true, _, true, false) => Protocol::Lmtps,
            (true, _, true, true) => Protocol::Lmtpsa,
            (false, false, _, _) => Protocol::Smtp,
            (false, true, false, false) => Protocol::Esmtp,
            (false, true, false, true) => Protocol::Esmtpa,
            (false, true, true, false) => Protocol::Esmtps,
            (false, true, true, true) => Protocol::Esmtpsa,
        }
    }

    /// The registered keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Smtp => "SMTP",
            Protocol::Esmtp => "ESMTP",
            Protocol::Esmtpa => "ESMTPA",
            Protocol::Esmtps => "ESMTPS",
            Protocol::Esmtpsa => "ESMTPSA",
            Protocol::Lmtp => "LMTP",
            Protocol::Lmtpa => "LMTPA",
            Protocol::Lmtps => "LMTPS",
            Protocol::Lmtpsa => "LMTPSA",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The fields of a `Received:` header (RFC 5321 section 4.4):
///
/// ```text
/// Received: from HELO-NAME ([client-ip]) by HOSTNAME with ESMTPS id ID
///         for <rcpt>; Tue, 1 Jul 2003 10:52:37 +0000
/// ```
#[derive(Debug, Clone)]
pub struct Received<'a> {
    /// The name the client gave in HELO/EHLO/LHLO.
    pub helo: &'a str,
    /// The client's IP address (written as an address literal, `[192.0.2.1]` or
    /// `[IPv6:2001:db8::1]`).
    pub client_ip: IpAddr,
    /// This server's name (`--hostname`).
    pub hostname: &'a str,
    /// How the message came in.
    pub protocol: Protocol,
    /// The transaction id.
    pub id: &'a str,
    /// The recipient, for the `for` clause. Give it only when the message has exactly one
    /// recipient, so the header does not disclose the other (perhaps blind) recipients
    /// (RFC 5321 section 7.2).
    pub recipient: Option<&'a str>,
    /// When the message was received.
    pub date: SystemTime,
}

impl Received<'_> {
    /// The header, folded before a clause wherever a line would exceed [`FOLD_AT`]
    /// characters, ending in CRLF. Characters of the client-supplied parts that could break
    /// the header (controls, CR, LF, white space, `;`, parentheses, angle brackets) become `?`.
    pub fn header(&self) -> String {
        let ip = match self.client_ip.to_canonical() {
            IpAddr::V4(v4) => format!("[{v4}]"),
            IpAddr::V6(v6) => format!("[IPv6:{v6}]"),
        };
        let mut clauses = vec![
            format!("from {}", header_word(self.helo, 255)),
            format!("({ip})"),
            format!("by {}", header_word(self.hostname, 255)),
            format!("with {}", self.protocol),
            format!("id {}", header_word(self.id, 64)),
        ];
        if let Some(rcpt) = self.recipient {
            clauses.push(format!("for <{}>", header_word(rcpt, 256)));
        }
        if let Some(last) = clauses.last_mut() {
            last.push(';');
        }
        clauses.push(rfc5322_date(self.date));
        fold("Received:", &clauses)
    }
}

/// The `Return-Path:` header for a reverse path given without angle brackets (`""` for the
/// null reverse path `<>`), ending in CRLF (RFC 5321 section 4.4).
pub fn return_path(reverse_path: &str) -> String {
    format!("Return-Path: <{}>\r\n", header_safe(reverse_path, 256))
}

/// Replaces characters that could end or restructure a header with `?`, and cuts `s` to
/// `max` characters.
fn header_safe(s: &str, max: usize) -> String {
    let cleaned: String = s
        .chars()
        .take(max)
        .map(|c| {
            if c.is_control() || c.is_whitespace() || "();<>".contains(c) {
                '?'
            } else {
                c
            }
        })
        .collect();
    cleaned
}

/// [`header_safe`], or `unknown` for an empty value.
fn header_word(s: &str, max: usize) -> String {
    match header_safe(s, max) {
        empty if empty.is_empty() => "unknown".to_owned(),
        word => word,
    }
}

/// Joins `name` and `parts` with spaces, folding (CRLF TAB) before a part that would take the
/// line past [`FOLD_AT`] characters; ends with CRLF.
fn fold(name: &str, parts: &[String]) -> String {
    let mut out = String::new();
    let mut line = name.to_owned();
    let mut line_len = name.chars().count();
    let mut first = true;
    for part in parts {
        let len = part.chars().count();
        if !first && line_len + 1 + len > FOLD_AT {
            out.push_str(&line);
            out.push_str("\r\n");
            line = format!("\t{part}");
            line_len = 1 + len;
        } else {
            line.push(' ');
            line.push_str(part);
            line_len += 1 + len;
        }
        first = false;
    }
    out.push_str(&line);
    out.push_str("\r\n");
    out
}

/// Formats `t` as an RFC 5322 section 3.3 date in UTC: `Thu, 1 Jan 1970 00:00:00 +0000`.
pub fn rfc5322_date(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs: i64 = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            // Before 1970: round towards the earlier whole second.
            let d = e.duration();
            let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            -whole - i64::from(d.subsec_nanos() > 0)
        }
    };
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday.
    let weekday = DAYS[usize::try_from((days + 4).rem_euclid(7)).unwrap_or(0)];
    format!(
        "{weekday}, {day} {} {year:04} {:02}:{:02}:{:02} +0000",
        MONTHS[usize::try_from(month - 1).unwrap_or(0)],
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

/// The proleptic Gregorian date (year, month 1-12, day 1-31) of a day count from 1970-01-01
/// (Howard Hinnant's `civil_from_days`, shifting the year to start in March so the leap day
/// comes last).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468; // days from 0000-03-01
    let era = z.div_euclid(146_097); // 400-year eras
    let doe = z.rem_euclid(146_097); // day of era, [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the March year, [0, 365]
    let mp = (5 * doy + 2) / 153; // month from March, [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::tests::TempDir;

    fn addr(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    fn files_in(dir: &Path) -> Vec<PathBuf> {
        match fs::read_dir(dir) {
            Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }

    #[test]
    fn delivery_lands_byte_for_byte() {
        let dir = TempDir::new("bytes");
        let store = Store::open(&dir.0, "mx.example").unwrap();
        let alice = addr("alice@Example.com");
        let mut delivery = store.deliver(std::slice::from_ref(&alice)).unwrap();
        let mut expected = Vec::new();
        let chunks: Vec<Vec<u8>> = vec![
            return_path("bob@example.org").into_bytes(),
            b"Subject: hi\r\n\r\n".to_vec(),
            (0..=255u8).collect(),
            vec![b'x'; 200_000],
            b"\r\n.\r\nlast line\r\n".to_vec(),
        ];
        for chunk in &chunks {
            delivery.write(chunk).unwrap();
            expected.extend_from_slice(chunk);
        }
        assert_eq!(delivery.size(), expected.len() as u64);
        let name = delivery.name().to_owned();
        let paths = delivery.commit().unwrap();
        assert_eq!(paths.len(), 1);
        let maildir = dir.0.join("mail/example.com/alice");
        assert_eq!(paths[0].parent().unwrap(), maildir.join("new"));
        assert_eq!(fs::read(&paths[0]).unwrap(), expected);
        let file_name = paths[0].file_name().unwrap().to_str().unwrap().to_owned();
        assert_eq!(file_name, format!("{name},S={}", expected.len()));
        assert!(files_in(&maildir.join("tmp")).is_empty());
        assert!(maildir.join("cur").is_dir());
        assert_eq!(store.messages(&alice).unwrap(), paths);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&paths[0]).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn unique_names_have_the_maildir_shape() {
        let dir = TempDir::new("shape");
        let store = Store::open(&dir.0, "host/with:odd").unwrap();
        let name = store.unique_name().unwrap();
        let (time, rest) = name.split_once('.').unwrap();
        assert!(time.bytes().all(|b| b.is_ascii_digit()), "{name}");
        assert!(rest.starts_with('M'), "{name}");
        let pid = format!("P{}Q", std::process::id());
        assert!(rest.contains(&pid), "{name}");
        let random = rest.split_once('R').unwrap().1.split_once('.').unwrap().0;
        assert_eq!(random.len(), 16);
        assert!(random.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
        assert!(name.ends_with(".host\\057with\\072odd"), "{name}");
        assert!(!name.contains('/') && !name.contains(':'));
    }

    #[test]
    fn handles_move_between_threads() {
        fn sendable<T: Send + Sync + 'static>() {}
        sendable::<Store>();
        fn movable<T: Send + 'static>() {}
        movable::<Delivery>();
    }

    #[test]
    fn abort_and_drop_leave_nothing() {
        let dir = TempDir::new("abort");
        let store = Store::open(&dir.0, "mx.example").unwrap();
        let alice = addr("alice@example.com");
        let maildir = store.create_maildir(&alice).unwrap();

        let mut aborted = store.deliver(std::slice::from_ref(&alice)).unwrap();
        aborted.write(b"partial").unwrap();
        assert_eq!(files_in(&maildir.join("tmp")).len(), 1);
        aborted.abort();

        {
            let mut dropped = store.deliver(std::slice::from_ref(&alice)).unwrap();
            dropped.write(&[b'y'; 100_000]).unwrap();
        }

        for sub in ["tmp", "new", "cur"] {
            assert!(files_in(&maildir.join(sub)).is_empty(), "{sub}");
        }
        assert!(store.messages(&alice).unwrap().is_empty());
    }

    #[test]
    fn multiple_recipients_each_get_the_message() {
        let dir = TempDir::new("multi");
        let store = Store::open(&dir.0, "mx.example").unwrap();
        let rcpts = [
            addr("alice@example.com"),
            addr("bob@example.com"),
            addr("carol@example.org"),
            addr("alice@EXAMPLE.com"),
        ];
        let mut delivery = store.deliver(&rcpts).unwrap();
        delivery.write(b"Subject: all\r\n\r\nbody\r\n").unwrap();
        let paths = delivery.commit().unwrap();
        assert_eq!(paths.len(), 3, "alice appears twice but gets one copy");
        for rcpt in &rcpts {
            let messages = store.messages(rcpt).unwrap();
            assert_eq!(messages.len(), 1, "{rcpt}");
            assert_eq!(
                fs::read(&messages[0]).unwrap(),
                b"Subject: all\r\n\r\nbody\r\n"
            );
            let tmp = store.maildir(rcpt).join("tmp");
            assert!(files_in(&tmp).is_empty(), "{rcpt}");
        }
        assert!(store.deliver(&[]).is_err());
    }

    #[test]
    fn addresses_cannot_escape_the_store() {
        let dir = TempDir::new("traversal");
        let store = Store::open(&dir.0, "mx.example").unwrap();
        let root = store.root().to_owned();
        for local in [
            "..",
            ".",
            "../../etc",
            "a/b",
            "..\\x",
            "%2e%2e",
            ".hidden",
            "a/../../b",
            "ünï",
        ] {
            let account = Address::new(local, "example.com").unwrap();
            let maildir = store.maildir(&account);
            assert_eq!(
                maildir.parent().unwrap(),
                root.join("example.com"),
                "{local}"
            );
            let component = maildir.file_name().unwrap().to_str().unwrap();
            assert!(!component.starts_with('.'), "{local} -> {component}");
            assert!(!component.contains('/') && !component.contains('\\'));
            let mut delivery = store.deliver(std::slice::from_ref(&account)).unwrap();
            delivery.write(b"x").unwrap();
            let path = delivery.commit().unwrap().remove(0);
            assert!(path.starts_with(&maildir), "{local}: {}", path.display());
        }
        // Distinct local parts never share a Maildir.
        let a = store.maildir(&Address::new("a/b", "example.com").unwrap());
        let b = store.maildir(&Address::new("a%2Fb", "example.com").unwrap());
        assert_ne!(a, b);
        // Nothing was created outside <data>/mail.
        let mut top: Vec<_> = files_in(&dir.0);
        top.sort();
        assert_eq!(top, std::slice::from_ref(&root));
        assert_eq!(files_in(&root), [root.join("example.com")]);
        // Domains that could act as paths are refused before they reach the store.
        for domain in ["..", "../x", "a/b", "", ".", "x\0y"] {
            assert!(Address::new("a", domain).is_err(), "{domain:?}");
        }
        assert_eq!(encode_component(".."), "%2E.");
        assert_eq!(encode_component("a/b\0"), "a%2Fb%00");
    }

    #[test]
    fn names_never_collide_across_10000_deliveries() {
        let dir = TempDir::new("unique");
        let store = Store::open(&dir.0, "mx.example").unwrap();
        let alice = addr("alice@example.com");
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let store = store.clone();
                let alice = alice.clone();
                std::thread::spawn(move || {
                    for i in 0..2500 {
                        let mut d = store.deliver(std::slice::from_ref(&alice)).unwrap();
                        d.write(format!("{t}-{i}").as_bytes()).unwrap();
                        d.commit().unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let messages = store.messages(&alice).unwrap();
        assert_eq!(messages.len(), 10_000);
        let mut contents: Vec<Vec<u8>> = messages.iter().map(|p| fs::read(p).unwrap()).collect();
        contents.sort();
        contents.dedup();
        assert_eq!(contents.len(), 10_000, "every delivery kept its own file");
        let names: HashSet<String> = (0..10_000).map(|_| store.unique_name().unwrap()).collect();
        assert_eq!(names.len(), 10_000);
    }

    #[test]
    fn stale_tmp_files_are_removed_on_open() {
        let dir = TempDir::new("stale");
        let store = Store::open(&dir.0, "mx.example").unwrap();
        let alice = addr("alice@example.com");
        let tmp = store.create_maildir(&alice).unwrap().join("tmp");
        let old = tmp.join("old");
        let fresh = tmp.join("fresh");
        fs::write(&old, b"left by a crash").unwrap();
        fs::write(&fresh, b"in progress").unwrap();
        let long_ago = SystemTime::now() - STALE_TMP_AGE - Duration::from_secs(60);
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        drop(store);
        let store = Store::open(&dir.0, "mx.example").unwrap();
        assert!(!old.exists());
        assert!(fresh.exists());
        assert_eq!(store.remove_stale_tmp(STALE_TMP_AGE).unwrap(), 0);
        assert_eq!(store.remove_stale_tmp(Duration::ZERO).unwrap(), 1);
        assert!(!fresh.exists());
    }

    #[test]
    fn dates_match_known_values() {
        let at = |secs: i64| {
            if secs >= 0 {
                UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
            } else {
                UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
            }
        };
        for (secs, text) in [
            (0, "Thu, 1 Jan 1970 00:00:00 +0000"),
            (-1, "Wed, 31 Dec 1969 23:59:59 +0000"),
            (68_169_600, "Tue, 29 Feb 1972 00:00:00 +0000"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 +0000"),
            (1_057_056_757, "Tue, 1 Jul 2003 10:52:37 +0000"),
            (1_234_567_890, "Fri, 13 Feb 2009 23:31:30 +0000"),
            (1_709_251_199, "Thu, 29 Feb 2024 23:59:59 +0000"),
            (4_107_542_400, "Mon, 1 Mar 2100 00:00:00 +0000"),
            (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 +0000"),
        ] {
            assert_eq!(rfc5322_date(at(secs)), text, "{secs}");
        }
        // Sub-second parts are truncated, before 1970 towards the earlier second.
        assert_eq!(
            rfc5322_date(UNIX_EPOCH + Duration::from_millis(1_999)),
            "Thu, 1 Jan 1970 00:00:01 +0000"
        );
        assert_eq!(
            rfc5322_date(UNIX_EPOCH - Duration::from_millis(500)),
            "Wed, 31 Dec 1969 23:59:59 +0000"
        );
        // Every day for 800 years round-trips through a naive day counter.
        let mut days = 0i64;
        for year in 1970..2770 {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            let lengths = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            for (m, &len) in lengths.iter().enumerate() {
                for d in 1..=len {
                    assert_eq!(civil_from_days(days), (year, m as i64 + 1, d));
                    days += 1;
                }
            }
        }
    }

    #[test]
    fn received_header_is_folded_and_safe() {
        let date = UNIX_EPOCH + Duration::from_secs(1_057_056_757);
        let header = Received {
            helo: "client.example.org",
            client_ip: "192.0.2.7".parse().unwrap(),
            hostname: "mx.example.com",
            protocol: Protocol::for_session(false, true, true, false),
            id: "0123456789abcdef",
            recipient: Some("alice@example.com"),
            date,
        }
        .header();
        assert_eq!(
            header,
            "Received: from client.example.org ([192.0.2.7]) by mx.example.com with ESMTPS\r\n\
             \tid 0123456789abcdef for <alice@example.com>; Tue, 1 Jul 2003 10:52:37 +0000\r\n"
        );

        let short = Received {
            helo: "a",
            client_ip: "::ffff:192.0.2.1".parse().unwrap(),
            hostname: "b",
            protocol: Protocol::Lmtp,
            id: "1",
            recipient: None,
            date,
        }
        .header();
        assert_eq!(
            short,
            "Received: from a ([192.0.2.1]) by b with LMTP id 1;\r\n\
             \tTue, 1 Jul 2003 10:52:37 +0000\r\n"
        );

        let v6 = Received {
            client_ip: "2001:db8::1".parse().unwrap(),
            ..short_fields(date)
        }
        .header();
        assert!(v6.contains("([IPv6:2001:db8::1])"), "{v6}");

        let hostile = Received {
            helo: "evil\r\nX-Injected: yes; (a) <b>",
            recipient: Some("x\r\n@y"),
            ..short_fields(date)
        }
        .header();
        assert_eq!(hostile.matches("\r\n").count(), hostile.lines().count());
        assert!(
            hostile.lines().skip(1).all(|l| l.starts_with('\t')),
            "{hostile}"
        );
        assert!(!hostile.contains("\nX-Injected"), "{hostile}");
        assert_eq!(hostile.matches(';').count(), 1, "{hostile}");

        // Each value is cut to its own limit: HELO and host name 255, id 64, `for` 256.
        let (long_helo, long_host, long_id) = ("h".repeat(300), "n".repeat(300), "i".repeat(100));
        let long_rcpt = "r".repeat(300);
        let long = Received {
            helo: &long_helo,
            hostname: &long_host,
            id: &long_id,
            recipient: Some(&long_rcpt),
            ..short_fields(date)
        }
        .header();
        for line in long.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 998, "{}", line.len());
        }
        let words: Vec<&str> = long.split_whitespace().collect();
        let after = |word: &str| {
            let at = words.iter().position(|w| *w == word).expect(word);
            words[at + 1]
        };
        assert_eq!(after("from"), "h".repeat(255));
        assert_eq!(after("by"), "n".repeat(255));
        assert_eq!(after("id"), "i".repeat(64));
        assert_eq!(after("for"), format!("<{}>;", "r".repeat(256)));
        for header in [&header, &short, &v6, &hostile] {
            for line in header.split("\r\n") {
                assert!(line.chars().count() <= FOLD_AT, "{line:?}");
            }
        }
    }

    fn short_fields(date: SystemTime) -> Received<'static> {
        Received {
            helo: "client.example",
            client_ip: "192.0.2.1".parse().unwrap(),
            hostname: "mx.example",
            protocol: Protocol::Esmtp,
            id: "abc",
            recipient: None,
            date,
        }
    }

    #[test]
    fn return_path_headers() {
        // The reverse path is cut to 256 characters.
        let long = format!("{}@example.org", "s".repeat(300));
        assert_eq!(
            return_path(&long),
            format!("Return-Path: <{}>\r\n", "s".repeat(256))
        );
        assert_eq!(
            return_path("bob@example.org"),
            "Return-Path: <bob@example.org>\r\n"
        );
        assert_eq!(return_path(""), "Return-Path: <>\r\n");
        assert_eq!(return_path("a\r\nb@c"), "Return-Path: <a??b@c>\r\n");
    }

    #[test]
    fn protocol_keywords() {
        assert_eq!(
            Protocol::for_session(false, false, true, true),
            Protocol::Smtp
        );
        assert_eq!(
            Protocol::for_session(false, true, false, false).as_str(),
            "ESMTP"
        );
        assert_eq!(
            Protocol::for_session(false, true, true, true).as_str(),
            "ESMTPSA"
        );
        assert_eq!(
            Protocol::for_session(false, true, false, true).as_str(),
            "ESMTPA"
        );
        assert_eq!(
            Protocol::for_session(true, true, false, false).as_str(),
            "LMTP"
        );
        assert_eq!(
            Protocol::for_session(true, false, true, true).as_str(),
            "LMTPSA"
        );
    }

    #[test]
    fn write_atomically_replaces_whole_files() {
        let dir = TempDir::new("atomic");
        let path = dir.0.join("sub/file");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(files_in(&dir.0.join("sub")), [path]);
    }
}
