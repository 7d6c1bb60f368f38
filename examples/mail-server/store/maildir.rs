//! The Maildir tree under `<data>/mail`: where each account's Maildir is, how files are named,
//! how they are written durably, and how they are read back.
//!
//! The domain is the account's lowercased domain and the local part its canonical
//! (ASCII-lowercased) local part, both encoded by [`encode_component`] so that no address can
//! name a path outside its Maildir (`/`, `\`, NUL, controls, `%`, non-ASCII and a leading `.`
//! become `%XX`). Since accounts are matched without regard to case, [`Store::check_case`]
//! refuses a tree where two names differ only in case, or a name is not in that canonical
//! form: mail would be split between two Maildirs, or land beside one nobody reads.
//!
//! File names follow the Maildir specification with Courier's and Dovecot's extensions:
//! `<secs>.M<micros>P<pid>Q<counter>R<random hex>.<hostname>,S=<size>`. Files hold the message
//! exactly as written (for SMTP: the unstuffed DATA with CRLF line endings, as Dovecot's
//! `mail_save_crlf = yes` keeps them).
//!
//! Every call blocks on the file system: from async code, call the slow ones (those that
//! fsync) through `tokio::task::spawn_blocking`.

use ring::rand::{SecureRandom, SystemRandom};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::accounts::Address;

/// Age after which a file left in `tmp/` is removed: the Maildir specification's 36 hours
/// ("a file in tmp/ that has not been accessed in 36 hours" is stale).
pub const STALE_TMP_AGE: Duration = Duration::from_secs(36 * 60 * 60);

/// Deliveries made by this process, for the `Q` part of unique names.
static DELIVERY_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The Maildir tree under `<data>/mail`. Cheap to clone; every clone shares the same tree.
#[derive(Debug, Clone)]
pub struct Store {
    pub(super) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(super) struct Inner {
    /// `<data>/mail`.
    pub(super) root: PathBuf,
    /// The host name part of unique names, already escaped.
    host: String,
    /// The kept usage totals of the mailboxes (`store::quota`).
    pub(super) usage: super::quota::Usage,
    /// The IMAP hub: open folders and the sessions that hear their changes
    /// (`store::mailboxes`).
    pub(super) mailboxes: super::mailboxes::Mailboxes,
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
            inner: Arc::new(Inner {
                root,
                host,
                usage: Default::default(),
                mailboxes: Default::default(),
            }),
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

    /// A unique Maildir base name (without the `,S=` size):
    /// `<secs>.M<micros>P<pid>Q<counter>R<random hex>.<hostname>`.
    pub(super) fn unique_name(&self) -> io::Result<String> {
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

/// Why the Maildir tree cannot serve accounts matched without regard to case.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaseError {
    /// Two domains, or two Maildirs of one domain, whose names differ only in case.
    #[error(
        "the Maildirs {} and {} differ only in case, and accounts are matched without regard \
         to case, so both would be one account's: move the messages of both into {} and \
         remove the other",
        first.display(),
        second.display(),
        canonical.display()
    )]
    Collision {
        /// One of the two (the first in byte order).
        first: PathBuf,
        /// The other.
        second: PathBuf,
        /// Where the account's mail goes: the canonical (lowercase) name.
        canonical: PathBuf,
    },
    /// A name that is not in canonical (lowercase) form: the account's mail goes elsewhere.
    #[error(
        "the Maildir {} is not named in lowercase, and accounts are matched without regard to \
         case, so its account's mail goes to {}: rename it to that",
        path.display(),
        canonical.display()
    )]
    NotCanonical {
        /// The directory.
        path: PathBuf,
        /// The name the account's Maildir has.
        canonical: PathBuf,
    },
    /// The tree could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl Store {
    /// Checks the names under `<data>/mail` against case-insensitive accounts: no two domain
    /// directories, and no two Maildirs of one domain, may differ only in case, and each
    /// must be in the canonical form [`Store::maildir`] gives (ASCII lowercase outside the
    /// `%XX` escapes). The server runs it at start and refuses to start on an error, which
    /// names the directories. Names that are not UTF-8 are not the store's and are skipped.
    pub fn check_case(&self) -> Result<(), CaseError> {
        for domain in check_level(&self.inner.root)? {
            check_level(&domain)?;
        }
        Ok(())
    }
}

/// Checks the subdirectories of `dir` (see [`Store::check_case`]) and returns them.
fn check_level(dir: &Path) -> Result<Vec<PathBuf>, CaseError> {
    let subdirs = read_dirs(dir).map_err(|source| CaseError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut by_canonical: BTreeMap<String, Vec<(&str, &PathBuf)>> = BTreeMap::new();
    for path in &subdirs {
        if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
            let entry = by_canonical.entry(canonical_component(name)).or_default();
            entry.push((name, path));
        }
    }
    for (canonical, names) in &mut by_canonical {
        names.sort();
        if let [(_, first), (_, second), ..] = names[..] {
            return Err(CaseError::Collision {
                first: first.clone(),
                second: second.clone(),
                canonical: dir.join(canonical),
            });
        }
    }
    for (canonical, names) in &by_canonical {
        if let Some((_, path)) = names.iter().find(|(name, _)| name != canonical) {
            return Err(CaseError::NotCanonical {
                path: (*path).clone(),
                canonical: dir.join(canonical),
            });
        }
    }
    Ok(subdirs)
}

/// The canonical form of a name [`encode_component`] could have made: ASCII letters
/// lowercased, except the hex digits of `%XX` escapes, which the encoder writes in capitals.
fn canonical_component(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut escape = 0;
    for c in name.chars() {
        if c == '%' && escape == 0 {
            escape = 2;
            out.push(c);
        } else if escape > 0 {
            escape -= 1;
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Copies `from` to a new file `to` (mode 0600) and fsyncs it.
pub(super) fn copy_durably(from: &Path, to: &Path) -> io::Result<()> {
    let mut src = File::open(from)?;
    let mut dst = create_private(to)?;
    io::copy(&mut src, &mut dst)?;
    dst.sync_all()
}

/// Creates a new file (failing if it exists), mode 0600 on unix.
pub(super) fn create_private(path: &Path) -> io::Result<File> {
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
    fn maildirs_differing_only_in_case_are_refused_naming_both() {
        let dir = TempDir::new("case");
        let store = Store::open(&dir.0, "mx.example").unwrap();
        let root = store.root().to_owned();
        // What the store makes passes: escapes are capitals, letters lowercase.
        for account in ["alice@example.com", "A/B@example.com", "ünï@Bücher.example"] {
            store.create_maildir(&addr(account)).unwrap();
        }
        assert_eq!(canonical_component("a%2Fb"), "a%2Fb");
        assert_eq!(canonical_component("A%2fB"), "a%2Fb");
        store.check_case().unwrap();

        // A Maildir left by an older version that kept the case of local parts.
        let upper = root.join("example.com/Bob");
        fs::create_dir_all(&upper).unwrap();
        match store.check_case().unwrap_err() {
            CaseError::NotCanonical { path, canonical } => {
                assert_eq!(
                    (path, canonical),
                    (upper.clone(), root.join("example.com/bob"))
                )
            }
            other => panic!("{other:?}"),
        }
        // Two that differ only in case: both are named.
        fs::create_dir_all(root.join("example.com/bob")).unwrap();
        let error = store.check_case().unwrap_err();
        let message = error.to_string();
        match error {
            CaseError::Collision {
                first,
                second,
                canonical,
            } => {
                assert_eq!(first, upper);
                assert_eq!(second, root.join("example.com/bob"));
                assert_eq!(canonical, second);
            }
            other => panic!("{other:?}"),
        }
        for named in [
            "example.com/Bob and ",
            "example.com/bob differ only in case",
        ] {
            assert!(message.contains(named), "{message}");
        }
        fs::remove_dir(&upper).unwrap();
        store.check_case().unwrap();
        // Domains too.
        fs::create_dir_all(root.join("Example.COM/carol")).unwrap();
        match store.check_case().unwrap_err() {
            CaseError::Collision { first, second, .. } => {
                assert_eq!(
                    (first, second),
                    (root.join("Example.COM"), root.join("example.com"))
                )
            }
            other => panic!("{other:?}"),
        }
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
