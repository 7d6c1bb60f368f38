//! IMAP mailboxes over the Maildirs: folders, the durable index (UIDVALIDITY, UIDNEXT, UIDs,
//! flags and keywords, MODSEQ) and the live changes every open session hears.
//!
//! Nothing here is protocol syntax: the IMAP service (`crate::imap`) turns these values into
//! responses with imap-proto.
//!
//! ```text
//! <maildir>/{tmp,new,cur}                 INBOX (the account's Maildir, as SMTP and POP3 use it)
//! <maildir>/.<a>.<b>/{tmp,new,cur}        the folder a/b (Maildir++, `names` encodes each level)
//! <folder>/sansmail-index                 the index snapshot of the folder (`index`)
//! <folder>/sansmail-index.log             the changes since the snapshot, checksummed records
//! <maildir>/sansmail-uidvalidity          the last UIDVALIDITY issued in the account
//! <maildir>/subscriptions                 the subscribed names, one a line
//! ```
//!
//! Every change goes through one in-process hub ([`Mailboxes`], kept in the [`Store`]) so
//! that SMTP delivery, POP3 and IMAP sessions see one consistent store: the hub writes the
//! change durably, then queues an [`imap_proto::view::Change`] for every [`Selected`] of the
//! folder and wakes it.
//!
//! # Crash rules
//! - **Add** (APPEND, COPY, MOVE, delivery): the message file is fsynced, renamed (or
//!   hard-linked) into the folder's `cur/` (a delivery: `new/`), the directory fsynced, and
//!   only then the index record written and fsynced. A crash before the record leaves a file
//!   the index does not know: the next open gives it a new UID (it was never acknowledged,
//!   so no client holds a UID for it).
//! - **Expunge** (EXPUNGE, MOVE, POP3 QUIT): unlink, fsync of the directory, then the
//!   record. Were the record first, a crash before the unlink would bring the message back
//!   under a new UID.
//! - **Flags** (STORE, POP3 RETR): the record first (the index is authoritative), then the
//!   standard flags are mirrored into the file name (`:2,DFRST`) for other Maildir readers.
//!   A crash before the rename leaves a stale file name, which the index overrides.
//! - **Open**: the snapshot is read, the log replayed (records at or below the snapshot's
//!   HIGHESTMODSEQ skipped, a torn last record dropped), and the result reconciled with the
//!   files: entries without a file are expunged, files without an entry get new UIDs in
//!   delivery order. A snapshot or log that is damaged, of another version, or missing (a
//!   log without its snapshot) is not trusted: the folder is indexed again from its files
//!   with a new UIDVALIDITY, above every one issued before in the account, with a warning.
//!
//! UIDs are reserved in memory and written by the record that adds the message, so a UID
//! is never given twice: UIDNEXT only grows, and survives restarts and kill -9 with the
//! records (a reserved UID whose record was never written was never acknowledged either).

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::num::{NonZeroU32, NonZeroU64};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use imap_proto::command::StoreKind;
use imap_proto::datetime::DateTime;
use imap_proto::flag::Flag;
use imap_proto::view::{Change, Snapshot};
use tracing::{debug, warn};

use super::Store;
use super::maildir::{copy_durably, create_private, ensure_dir, sync_dir, write_atomically};
use super::maildrop::{CrlfCounter, unique_name};
use crate::accounts::Address;
use folder::{Folder, NewFile, Queue, next_uid_validity};
use index::{Entry, Flags, Index};

mod folder;
mod index;
mod names;
#[cfg(test)]
mod tests;

/// The IMAP hierarchy delimiter of every account's folders.
pub const DELIMITER: char = '/';

/// The longest keyword (octets) APPEND and STORE accept. imap-proto bounds a keyword only
/// by the command line; 64 holds every registered keyword (`$MDNSent`, `$NotJunk`, ...) and
/// what clients make up.
pub const MAX_KEYWORD_LEN: usize = 64;

/// The most keywords one message may carry.
pub const MAX_KEYWORDS_PER_MESSAGE: usize = 64;

/// The most folders an account may have, INBOX included (CREATE and RENAME past it:
/// `NO [LIMIT]`).
pub const MAX_FOLDERS: usize = 1000;

/// The most levels a folder name may have (`a/b/c` has 3).
pub const MAX_DEPTH: usize = 16;

/// Refuses a name deeper than [`MAX_DEPTH`].
fn check_depth(name: &str) -> Result<(), MailboxError> {
    if name.split(DELIMITER).count() > MAX_DEPTH {
        return Err(MailboxError::Limit("mailbox hierarchy too deep"));
    }
    Ok(())
}

/// Refuses `flags` whose keywords are past [`MAX_KEYWORD_LEN`] or [`MAX_KEYWORDS_PER_MESSAGE`].
fn check_keywords(flags: &Flags) -> Result<(), MailboxError> {
    if flags.keywords.iter().any(|k| k.len() > MAX_KEYWORD_LEN) {
        return Err(MailboxError::Limit("keyword too long"));
    }
    if flags.keywords.len() > MAX_KEYWORDS_PER_MESSAGE {
        return Err(MailboxError::Limit("too many keywords on a message"));
    }
    Ok(())
}

/// The special-use folders created for every account (RFC 6154), with their names.
pub const SPECIAL_USE: [(&str, SpecialUse); 5] = [
    ("Sent", SpecialUse::Sent),
    ("Drafts", SpecialUse::Drafts),
    ("Trash", SpecialUse::Trash),
    ("Junk", SpecialUse::Junk),
    ("Archive", SpecialUse::Archive),
];

/// The most keywords a folder may define (the distinct keywords its messages have had since
/// it was opened): a STORE, APPEND, COPY or MOVE that would define one more is refused with
/// [`MailboxError::TooManyKeywords`]. Each keyword is kept in the folder's index and in
/// every FLAGS answer, so the bound keeps both small; Dovecot's Maildir allows 26 per folder
/// (one letter each), 128 leaves room for every client seen in practice ($Junk, $NotJunk,
/// $Forwarded, $MDNSent, labels). Each keyword is at most [`MAX_KEYWORD_LEN`] octets.
pub const MAX_KEYWORDS: usize = 128;

/// A special use of a folder (RFC 6154).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialUse {
    /// `\Sent`.
    Sent,
    /// `\Drafts`.
    Drafts,
    /// `\Trash`.
    Trash,
    /// `\Junk`.
    Junk,
    /// `\Archive`.
    Archive,
}

/// Why a mailbox operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    /// The folder does not exist (`NO [NONEXISTENT]`, `NO [TRYCREATE]` for APPEND/COPY/MOVE).
    #[error("no such mailbox")]
    NoSuchMailbox,
    /// CREATE or RENAME to a name that exists (`NO [ALREADYEXISTS]`).
    #[error("mailbox already exists")]
    AlreadyExists,
    /// A name this store cannot hold (empty component, `.` or `..`, control characters,
    /// too long): `NO [CANNOT]`.
    #[error("mailbox name not allowed: {0}")]
    BadName(&'static str),
    /// What the store refuses for the folder itself (DELETE INBOX): `NO [CANNOT]`.
    #[error("{0}")]
    Cannot(&'static str),
    /// The account's quota would be exceeded (`NO [OVERQUOTA]`).
    #[error("over quota")]
    OverQuota,
    /// The folder has used every UID (`NO [LIMIT]`; a new UIDVALIDITY is needed).
    #[error("no UIDs left in this mailbox")]
    UidsExhausted,
    /// Past one of the store's bounds ([`MAX_KEYWORD_LEN`], [`MAX_KEYWORDS_PER_MESSAGE`],
    /// [`MAX_FOLDERS`], [`MAX_DEPTH`]): `NO [LIMIT]`.
    #[error("{0}")]
    Limit(&'static str),
    /// STORE, APPEND, COPY or MOVE would define a keyword beyond [`MAX_KEYWORDS`] in the
    /// folder (`NO [LIMIT]`); nothing was changed.
    #[error("too many keywords in this mailbox")]
    TooManyKeywords,
    /// A file-system failure (`NO [SERVERBUG]`-free text: `NO` with the reason logged).
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// A folder as LIST shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderInfo {
    /// Its IMAP name (`INBOX`, `Sent`, `Projects/2026`), UTF-8.
    pub name: String,
    /// Its special use, if any.
    pub special_use: Option<SpecialUse>,
    /// Whether it is subscribed.
    pub subscribed: bool,
    /// Whether other folders sit under it (`\HasChildren` / `\HasNoChildren`).
    pub has_children: bool,
}

/// STATUS values of a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderStatus {
    /// MESSAGES.
    pub messages: u32,
    /// RECENT: messages no session has selected the folder since they arrived.
    pub recent: u32,
    /// UIDNEXT.
    pub uid_next: NonZeroU32,
    /// UIDVALIDITY.
    pub uid_validity: NonZeroU32,
    /// UNSEEN: messages without `\Seen`.
    pub unseen: u32,
    /// DELETED: messages with `\Deleted`.
    pub deleted: u32,
    /// SIZE: the octets of every message, as FETCH RFC822.SIZE counts them.
    pub size: u64,
    /// HIGHESTMODSEQ.
    pub highest_modseq: NonZeroU64,
}

/// What the store knows of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMeta {
    /// Its UID.
    pub uid: NonZeroU32,
    /// Its flags and keywords (never `\Recent`).
    pub flags: Vec<Flag<'static>>,
    /// Its mod-sequence.
    pub modseq: NonZeroU64,
    /// INTERNALDATE.
    pub internal_date: DateTime,
    /// RFC822.SIZE: its octets with every line ending CRLF.
    pub size: u64,
    /// Where its file is now (it may move when its flags change: read it with
    /// [`Selected::read`]).
    pub path: PathBuf,
}

/// What the store knows of one message, borrowed under its folder's lock (see
/// [`Selected::with_metas`]): [`MessageMeta`] without its copies (the flags, the path).
#[derive(Debug, Clone, Copy)]
pub struct MetaRef<'a> {
    entry: &'a Entry,
}

impl MetaRef<'_> {
    /// Its UID.
    pub fn uid(&self) -> NonZeroU32 {
        NonZeroU32::new(self.entry.uid).unwrap_or(NonZeroU32::MIN)
    }

    /// Its mod-sequence.
    pub fn modseq(&self) -> NonZeroU64 {
        folder::nz64(self.entry.modseq)
    }

    /// INTERNALDATE.
    pub fn internal_date(&self) -> DateTime {
        index::datetime_from(self.entry.secs, self.entry.zone)
    }

    /// RFC822.SIZE.
    pub fn size(&self) -> u64 {
        self.entry.size
    }

    /// Whether it has `\Seen`.
    pub fn seen(&self) -> bool {
        self.entry.flags.system & index::SEEN != 0
    }

    /// Its flags and keywords (never `\Recent`), as [`MessageMeta::flags`].
    pub fn flags(&self) -> Vec<Flag<'static>> {
        self.entry.flags.to_list()
    }

    /// Its flags and keywords as the index keeps them ([`FlagSet`]): nothing allocated for a
    /// message without keywords, where [`MetaRef::flags`] makes a list of every flag.
    pub fn flag_set(&self) -> FlagSet {
        FlagSet(self.entry.flags.clone())
    }
}

/// A message's flags and keywords (never `\Recent`) as the index keeps them: a byte of
/// system flags and the keywords, nothing allocated for a message without keywords
/// ([`MetaRef::flag_set`]). For SEARCH, which asks each message whether it has a flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagSet(Flags);

impl FlagSet {
    /// Whether `flag` is set: a system flag, or a keyword spelt exactly so (as
    /// [`Flag`]'s equality compares keywords). `\Recent` and flag extensions never are.
    pub fn contains(&self, flag: &Flag<'_>) -> bool {
        let bit = match flag {
            Flag::Answered => index::ANSWERED,
            Flag::Flagged => index::FLAGGED,
            Flag::Deleted => index::DELETED,
            Flag::Seen => index::SEEN,
            Flag::Draft => index::DRAFT,
            Flag::Keyword(k) => {
                return self.0.keywords.iter().any(|mine| **mine == *k.as_str());
            }
            _ => return false,
        };
        self.0.system & bit != 0
    }

    /// As a list: the system flags, then the keywords ([`MetaRef::flags`]).
    pub fn to_list(&self) -> Vec<Flag<'static>> {
        self.0.to_list()
    }
}

/// One message of an APPEND, written to `tmp/` as it streams in; nothing of it is visible
/// until [`Account::append`] commits it. Dropping it removes the file.
#[derive(Debug)]
pub struct NewMessage {
    /// The file in the account's `tmp/`.
    tmp: PathBuf,
    /// The unique base name (without sizes).
    base: String,
    file: Option<BufWriter<File>>,
    size: u64,
    sent: CrlfCounter,
    /// A write failed: it can no longer be appended.
    failed: bool,
    /// [`NewMessage::close`] succeeded: written whole, flushed and fsynced.
    closed: bool,
}

impl NewMessage {
    /// Adds `bytes` to the message.
    ///
    /// # Errors
    ///
    /// The file system's.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let file = match (&mut self.file, self.failed) {
            (Some(file), false) => file,
            _ => return Err(io::Error::other("an earlier write of this message failed")),
        };
        match file.write_all(bytes) {
            Ok(()) => {
                self.size += bytes.len() as u64;
                self.sent.update(bytes);
                Ok(())
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    /// Octets written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Flushes, fsyncs and closes the file, keeping the message to append: a MULTIAPPEND
    /// holds no open file (nor buffer) for the messages it received whole. Writes after it
    /// fail; closing again does nothing.
    ///
    /// # Errors
    ///
    /// The file system's, or an earlier write's failure.
    pub fn close(&mut self) -> io::Result<()> {
        let file = match (self.file.take(), self.failed) {
            (Some(file), false) => file,
            (None, false) if self.closed => return Ok(()),
            _ => return Err(io::Error::other("an earlier write of this message failed")),
        };
        self.failed = true;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        self.failed = false;
        self.closed = true;
        Ok(())
    }

    /// Closes the file ([`NewMessage::close`]); returns its unique name with `,S=` and `,W=`.
    fn finish(&mut self) -> io::Result<String> {
        self.close()?;
        Ok(format!(
            "{},S={},W={}",
            self.base,
            self.size,
            self.sent.total()
        ))
    }
}

impl Drop for NewMessage {
    fn drop(&mut self) {
        // After a commit the file is no longer here; before, it is abandoned.
        self.file = None;
        let _ = fs::remove_file(&self.tmp);
    }
}

/// The result of an APPEND, for `OK [APPENDUID ...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The folder's UIDVALIDITY.
    pub uid_validity: NonZeroU32,
    /// The UIDs given, one per message, in order.
    pub uids: Vec<NonZeroU32>,
}

/// The result of COPY or MOVE, for `[COPYUID ...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// The target folder's UIDVALIDITY.
    pub uid_validity: NonZeroU32,
    /// The source UIDs copied, ascending (UIDs already expunged are left out).
    pub source: Vec<NonZeroU32>,
    /// The new UIDs in the target, in the same order.
    pub destination: Vec<NonZeroU32>,
}

/// The outcome of STORE for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// The flags changed: now `flags`, at `modseq`.
    Changed {
        /// The message.
        uid: NonZeroU32,
        /// Every flag it has now.
        flags: Vec<Flag<'static>>,
        /// Its new mod-sequence.
        modseq: NonZeroU64,
    },
    /// Nothing changed (the flags were already so).
    Unchanged {
        /// The message.
        uid: NonZeroU32,
        /// Its flags.
        flags: Vec<Flag<'static>>,
        /// Its mod-sequence.
        modseq: NonZeroU64,
    },
    /// UNCHANGEDSINCE failed: its mod-sequence is above the one given (RFC 7162 3.1.3).
    Modified(NonZeroU32),
    /// It was expunged meanwhile.
    Gone(NonZeroU32),
}

/// Why a session can no longer follow its selected folder: it must end with `* BYE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Interrupted {
    /// The session's queue overflowed: it missed changes.
    #[error("too many changes queued for this session")]
    Overflowed,
    /// The folder was deleted or renamed (by another session): its UIDs mean nothing any
    /// more, so the session cannot go on with it (as Dovecot, which ends such a session
    /// with `* BYE Selected mailbox was deleted, have to disconnect.`).
    #[error("the selected mailbox was deleted or renamed")]
    Gone,
    /// A write of the folder's index failed and the folder, read again from disk, is not
    /// what the session knows in a way it can be told as changes (its index had to be
    /// rebuilt with a new UIDVALIDITY): the session must reconnect.
    #[error("the mailbox index could not be written; the mailbox was read again")]
    Unavailable,
}

/// The most folders the hub keeps in memory that no session has selected and no operation
/// uses (a cache: reading a folder again costs its snapshot, its log and a directory
/// listing); folders in use are kept whatever their number.
pub const CACHED_FOLDERS: usize = 64;

/// The hub of every account's folders: one per [`Store`], shared by SMTP, POP3 and IMAP.
///
/// It holds each folder in use (its index in memory: about 150 octets a message), the
/// [`CACHED_FOLDERS`] used last besides, and the queues of the sessions that have a folder
/// selected.
#[derive(Debug, Clone, Default)]
pub struct Mailboxes {
    inner: Arc<Hub>,
}

#[derive(Debug, Default)]
struct Hub {
    /// The open folders by directory, with when each was last asked for.
    folders: Mutex<HashMap<PathBuf, (Arc<Folder>, u64)>>,
    /// The clock of `folders`' last uses.
    uses: AtomicU64,
    /// One lock per account for the folder tree (CREATE, DELETE, RENAME, subscriptions).
    accounts: Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>,
    /// Session ids.
    sessions: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Mailboxes {
    /// The folder `name` of the account at `maildir`, opened (indexed, reconciled) on first
    /// use.
    fn folder(&self, maildir: &Path, name: &str) -> Result<Arc<Folder>, MailboxError> {
        let dir = names::dir_of(maildir, name);
        let now = self.inner.uses.fetch_add(1, Ordering::Relaxed);
        let mut folders = lock(&self.inner.folders);
        if let Some((folder, used)) = folders.get_mut(&dir) {
            if !folder.state().gone {
                *used = now;
                let folder = folder.clone();
                drop(folders);
                // Broken by a failed write: read again from disk, in place (its sessions
                // stay), and refused while that fails.
                folder.recover()?;
                return Ok(folder);
            }
            folders.remove(&dir);
        }
        if !dir.join("cur").is_dir() {
            return Err(MailboxError::NoSuchMailbox);
        }
        let folder = Arc::new(Folder::load(&dir, name, maildir)?);
        folders.insert(dir, (folder.clone(), now));
        trim(&mut folders, None);
        Ok(folder)
    }

    /// The folder at `dir` if it is open.
    fn loaded(&self, dir: &Path) -> Option<Arc<Folder>> {
        lock(&self.inner.folders)
            .get(dir)
            .map(|(folder, _)| folder.clone())
    }

    /// Closes the folder at `dir` (deleted or renamed): its handles fail from now on.
    fn forget(&self, dir: &Path) {
        let folder = lock(&self.inner.folders).remove(dir);
        if let Some((folder, _)) = folder {
            folder.set_gone();
        }
    }

    /// Unloads the folders beyond the cache that nothing but the hub holds, `releasing`
    /// (held once more by a handle being dropped) counted as unheld.
    fn release(&self, releasing: &Arc<Folder>) {
        trim(&mut lock(&self.inner.folders), Some(releasing));
    }

    /// How many folders the hub holds in memory.
    #[cfg(test)]
    fn loaded_count(&self) -> usize {
        lock(&self.inner.folders).len()
    }

    fn account_lock(&self, maildir: &Path) -> Arc<Mutex<()>> {
        lock(&self.inner.accounts)
            .entry(maildir.to_path_buf())
            .or_default()
            .clone()
    }

    /// The INBOX of the Maildir at `maildir` if it has an IMAP index (open, or on disk).
    fn indexed_inbox(&self, maildir: &Path) -> Result<Option<Arc<Folder>>, MailboxError> {
        if let Some(folder) = self.loaded(maildir) {
            return Ok(Some(folder));
        }
        if maildir.join(index::SNAPSHOT_FILE).exists() {
            return self.folder(maildir, "INBOX").map(Some);
        }
        Ok(None)
    }

    /// The delivery hook: a message was committed to `path` (in a Maildir's `new/`). If
    /// that INBOX is open, the message is indexed (durably) and announced now; otherwise
    /// its index picks the file up when it is opened.
    pub(super) fn delivered(&self, path: &Path) {
        let (Some(new), Some(file)) = (path.parent(), path.file_name().and_then(|f| f.to_str()))
        else {
            return;
        };
        let Some(maildir) = new.parent() else {
            return;
        };
        if let Some(folder) = self.loaded(maildir) {
            if let Err(e) = folder.add_delivered(file) {
                warn!(folder = %maildir.display(), error = %e, "delivered message not indexed now; it will be when the folder is read again");
            }
        }
    }

    /// The POP3 hook of [`Store::mark_seen`]: when the INBOX holding `path` has an index,
    /// `\Seen` is set through it (durably, announced, mirrored into the file name) and the
    /// new path returned; `None` when there is no index or the message is not in it.
    pub(super) fn mark_seen(&self, path: &Path) -> Result<Option<PathBuf>, MailboxError> {
        let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
        let Some(maildir) = path.parent().and_then(Path::parent) else {
            return Ok(None);
        };
        let Some(folder) = self.indexed_inbox(maildir)? else {
            return Ok(None);
        };
        let uids = folder.uids_of(&[unique_name(file)]);
        let Some(uid) = uids.first().copied().and_then(NonZeroU32::new) else {
            return Ok(None);
        };
        let seen = Flags {
            system: index::SEEN,
            keywords: Vec::new(),
        };
        folder.store(
            &[uid],
            |old| {
                let mut f = old.clone();
                f.add(&seen);
                f
            },
            None,
            None,
        )?;
        Ok(folder.path_of(uid.get()))
    }

    /// The POP3 hook of [`Store::remove_messages`]: when the INBOX at `maildir` has an
    /// index, the messages with these unique names that it holds are expunged through it
    /// (unlink, fsync, record, announced). Returns how many.
    pub(super) fn remove(&self, maildir: &Path, names: &[String]) -> Result<usize, MailboxError> {
        let Some(folder) = self.indexed_inbox(maildir)? else {
            return Ok(0);
        };
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let uids: HashSet<u32> = folder.uids_of(&names).into_iter().collect();
        if uids.is_empty() {
            return Ok(0);
        }
        Ok(folder.expunge(|e| uids.contains(&e.uid))?.len())
    }
}

/// Unloads the least recently used folders that nothing holds (but the hub, and `releasing`
/// once) until at most [`CACHED_FOLDERS`] such are left. Everything of a folder is durable
/// (every operation commits before it returns), so one read again is the same, except
/// `\Recent`: the messages that arrived since the last SELECT are no longer recent to the
/// next one (those still in `new/` are).
fn trim(folders: &mut HashMap<PathBuf, (Arc<Folder>, u64)>, releasing: Option<&Arc<Folder>>) {
    let unheld = |folder: &Arc<Folder>| {
        let extra = usize::from(releasing.is_some_and(|r| Arc::ptr_eq(r, folder)));
        Arc::strong_count(folder) <= 1 + extra
    };
    let mut idle: Vec<(u64, PathBuf)> = folders
        .iter()
        .filter(|(_, (folder, _))| unheld(folder))
        .map(|(dir, (_, used))| (*used, dir.clone()))
        .collect();
    if idle.len() <= CACHED_FOLDERS {
        return;
    }
    idle.sort_unstable();
    let excess = idle.len() - CACHED_FOLDERS;
    for (_, dir) in idle.into_iter().take(excess) {
        folders.remove(&dir);
    }
}

impl Store {
    /// The IMAP view of `account`'s mail: opens (creating on first use) its Maildir, its
    /// index and the special-use folders.
    ///
    /// # Errors
    ///
    /// The file system's.
    pub fn account(&self, account: &Address) -> Result<Account, MailboxError> {
        let maildir = self.create_maildir(account)?;
        let hub = self.inner.mailboxes.clone();
        let tree = hub.account_lock(&maildir);
        let account = Account {
            inner: Arc::new(AccountInner {
                store: self.clone(),
                address: account.clone(),
                maildir,
                quota: None,
                tree,
            }),
        };
        {
            let _tree = lock(&account.inner.tree);
            account.remove_deleted_leftovers()?;
            for (name, _) in SPECIAL_USE {
                if !account.exists(name) {
                    account.create_dirs(name)?;
                    account.set_subscribed(name, true)?;
                }
            }
        }
        Ok(account)
    }
}

/// One account's folders; cheap to clone. Every method does blocking file I/O (run it
/// where blocking is allowed).
#[derive(Debug, Clone)]
pub struct Account {
    inner: Arc<AccountInner>,
}

#[derive(Debug)]
struct AccountInner {
    store: Store,
    address: Address,
    maildir: PathBuf,
    /// The most the account may hold (APPEND and COPY count against it).
    quota: Option<u64>,
    /// The account's folder-tree lock.
    tree: Arc<Mutex<()>>,
}

/// The prefix of a folder directory being deleted (not a folder name: its first component
/// is empty).
const DELETING: &str = "..sansmail-deleting-";

/// The file of subscribed names, one a line.
const SUBSCRIPTIONS: &str = "subscriptions";

impl Account {
    /// The same account with `quota` (octets, `None` for none) applied to APPEND and COPY,
    /// as `--quota` applies it to SMTP deliveries.
    pub fn with_quota(&self, quota: Option<u64>) -> Account {
        Account {
            inner: Arc::new(AccountInner {
                store: self.inner.store.clone(),
                address: self.inner.address.clone(),
                maildir: self.inner.maildir.clone(),
                quota,
                tree: self.inner.tree.clone(),
            }),
        }
    }

    /// The account's Maildir (INBOX).
    pub fn maildir(&self) -> &Path {
        &self.inner.maildir
    }

    fn hub(&self) -> &Mailboxes {
        &self.inner.store.inner.mailboxes
    }

    fn dir(&self, name: &str) -> PathBuf {
        names::dir_of(&self.inner.maildir, name)
    }

    /// Whether the canonical folder `name` exists.
    fn exists(&self, name: &str) -> bool {
        self.dir(name).join("cur").is_dir()
    }

    /// The open folder `name` (any spelling).
    fn folder(&self, name: &str) -> Result<Arc<Folder>, MailboxError> {
        let name = names::canonical(name)?;
        self.hub().folder(&self.inner.maildir, &name)
    }

    /// [`Account::folder`], reconciled with its files if they changed behind its back.
    fn fresh_folder(&self, name: &str) -> Result<Arc<Folder>, MailboxError> {
        let folder = self.folder(name)?;
        folder.refresh()?;
        Ok(folder)
    }

    /// Creates the directories of canonical `name` (`cur/` last: it marks a folder).
    fn create_dirs(&self, name: &str) -> Result<(), MailboxError> {
        let dir = self.dir(name);
        for sub in ["tmp", "new", "cur"] {
            ensure_dir(&dir.join(sub))?;
        }
        Ok(())
    }

    /// Removes folder directories a crash left half deleted.
    fn remove_deleted_leftovers(&self) -> Result<(), MailboxError> {
        for entry in fs::read_dir(&self.inner.maildir)? {
            let entry = entry?;
            if entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(DELETING))
            {
                fs::remove_dir_all(entry.path())?;
            }
        }
        Ok(())
    }

    /// Every folder name on disk, INBOX included, sorted (INBOX first).
    fn names(&self) -> Result<Vec<String>, MailboxError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.inner.maildir)? {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().and_then(names::name_of_dir) else {
                continue;
            };
            if entry.path().join("cur").is_dir() {
                out.push(name);
            }
        }
        out.sort();
        out.insert(0, "INBOX".to_owned());
        Ok(out)
    }

    fn read_subscriptions(&self) -> Result<Vec<String>, MailboxError> {
        match fs::read_to_string(self.inner.maildir.join(SUBSCRIPTIONS)) {
            Ok(text) => Ok(text
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// Subscribes or unsubscribes canonical `name` (the tree lock held).
    fn set_subscribed(&self, name: &str, on: bool) -> Result<(), MailboxError> {
        let mut subs = self.read_subscriptions()?;
        let had = subs.iter().any(|s| s == name);
        if had == on {
            return Ok(());
        }
        if on {
            subs.push(name.to_owned());
            subs.sort();
        } else {
            subs.retain(|s| s != name);
        }
        let mut text = String::new();
        for s in &subs {
            text.push_str(s);
            text.push('\n');
        }
        write_atomically(&self.inner.maildir.join(SUBSCRIPTIONS), text.as_bytes())?;
        Ok(())
    }

    /// Every folder, INBOX first, then by name.
    ///
    /// # Errors
    ///
    /// The file system's.
    pub fn list(&self) -> Result<Vec<FolderInfo>, MailboxError> {
        let names = self.names()?;
        let subs: HashSet<String> = self.read_subscriptions()?.into_iter().collect();
        Ok(names
            .iter()
            .map(|name| FolderInfo {
                name: name.clone(),
                special_use: special_use_of(name),
                subscribed: subs.contains(name),
                has_children: names
                    .iter()
                    .any(|other| other != name && names::is_within(other, name)),
            })
            .collect())
    }

    /// CREATE `name` (and any missing parents); a trailing delimiter is ignored.
    ///
    /// # Errors
    ///
    /// `AlreadyExists`, `BadName`, `Limit` past [`MAX_FOLDERS`] or [`MAX_DEPTH`], the file
    /// system's.
    pub fn create(&self, name: &str) -> Result<(), MailboxError> {
        let name = names::canonical(name)?;
        let _tree = lock(&self.inner.tree);
        if names::is_inbox(&name) || self.exists(&name) {
            return Err(MailboxError::AlreadyExists);
        }
        check_depth(&name)?;
        let missing = names::parents(&name)
            .into_iter()
            .filter(|p| !names::is_inbox(p) && !self.exists(p))
            .count();
        if self.names()?.len() + missing + 1 > MAX_FOLDERS {
            return Err(MailboxError::Limit("too many mailboxes"));
        }
        for parent in names::parents(&name) {
            if !names::is_inbox(parent) && !self.exists(parent) {
                self.create_dirs(parent)?;
            }
        }
        self.create_dirs(&name)
    }

    /// DELETE `name` with its messages (its children stay).
    ///
    /// # Errors
    ///
    /// `NoSuchMailbox`, `Cannot` for INBOX, the file system's.
    pub fn delete(&self, name: &str) -> Result<(), MailboxError> {
        let name = names::canonical(name)?;
        if names::is_inbox(&name) {
            return Err(MailboxError::Cannot("INBOX cannot be deleted"));
        }
        let _tree = lock(&self.inner.tree);
        if !self.exists(&name) {
            return Err(MailboxError::NoSuchMailbox);
        }
        let dir = self.dir(&name);
        self.hub().forget(&dir);
        // Out of sight first (one atomic rename), then removed: a crash in between leaves
        // a directory no listing shows, removed when the account is next opened.
        let doomed = self
            .inner
            .maildir
            .join(format!("{DELETING}{}", self.inner.store.unique_name()?));
        fs::rename(&dir, &doomed)?;
        sync_dir(&self.inner.maildir)?;
        fs::remove_dir_all(&doomed)?;
        self.inner.store.forget_usage(&self.inner.address);
        Ok(())
    }

    /// RENAME `from` to `to`, children with it; renaming INBOX moves its messages to `to`
    /// and leaves INBOX empty (RFC 3501 section 6.3.5).
    ///
    /// # Errors
    ///
    /// `NoSuchMailbox`, `AlreadyExists`, `BadName`, the file system's.
    pub fn rename(&self, from: &str, to: &str) -> Result<(), MailboxError> {
        let from = names::canonical(from)?;
        let to = names::canonical(to)?;
        let _tree = lock(&self.inner.tree);
        if !self.exists(&from) {
            return Err(MailboxError::NoSuchMailbox);
        }
        if names::is_inbox(&to) || self.exists(&to) {
            return Err(MailboxError::AlreadyExists);
        }
        check_depth(&to)?;
        if names::is_inbox(&from) {
            let missing = names::parents(&to)
                .into_iter()
                .filter(|p| !self.exists(p))
                .count();
            if self.names()?.len() + missing + 1 > MAX_FOLDERS {
                return Err(MailboxError::Limit("too many mailboxes"));
            }
            return self.rename_inbox(&to);
        }
        let moves: Vec<(String, String)> = self
            .names()?
            .into_iter()
            .filter(|n| names::is_within(n, &from))
            .map(|n| {
                let target = format!("{to}{}", &n[from.len()..]);
                (n, target)
            })
            .collect();
        for (_, target) in &moves {
            let target = names::canonical(target)?;
            if self.exists(&target) {
                return Err(MailboxError::AlreadyExists);
            }
            check_depth(&target)?;
        }
        let missing = names::parents(&to)
            .into_iter()
            .filter(|p| !names::is_inbox(p) && !self.exists(p) && !names::is_within(p, &from))
            .count();
        if self.names()?.len() + missing > MAX_FOLDERS {
            return Err(MailboxError::Limit("too many mailboxes"));
        }
        for parent in names::parents(&to) {
            if !names::is_inbox(parent) && !self.exists(parent) && !names::is_within(parent, &from)
            {
                self.create_dirs(parent)?;
            }
        }
        let subs = self.read_subscriptions()?;
        for (old, new) in &moves {
            // A new UIDVALIDITY: the new name must not show one it had before.
            let folder = self.hub().folder(&self.inner.maildir, old)?;
            folder.revalidate(&self.inner.maildir)?;
            self.hub().forget(&folder.dir);
            fs::rename(self.dir(old), self.dir(new))?;
            if subs.iter().any(|s| s == old) {
                self.set_subscribed(old, false)?;
                self.set_subscribed(new, true)?;
            }
        }
        sync_dir(&self.inner.maildir)?;
        Ok(())
    }

    /// RENAME INBOX `to`: a new folder with INBOX's messages (their flags, dates, in
    /// order, with new UIDs), INBOX left empty. The new folder's index is written before
    /// the files move, and INBOX's expunges recorded after: a crash between leaves every
    /// message in one folder or the other, each index reconciled with its files on open.
    fn rename_inbox(&self, to: &str) -> Result<(), MailboxError> {
        let inbox = self.hub().folder(&self.inner.maildir, "INBOX")?;
        let mut log = inbox.lock_commit();
        let (entries, locs): (Vec<Entry>, Vec<Option<folder::Loc>>) = {
            let st = inbox.state();
            st.usable()?;
            let entries = st.index.entries.clone();
            let locs = entries.iter().map(|e| st.loc(e.uid).cloned()).collect();
            (entries, locs)
        };
        self.create_dirs(to)?;
        let dir = self.dir(to);
        let mut new_index = Index::new(next_uid_validity(&self.inner.maildir)?);
        for (i, e) in entries.iter().enumerate() {
            let uid = u32::try_from(i + 1).map_err(|_| MailboxError::UidsExhausted)?;
            new_index.entries.push(Entry {
                uid,
                modseq: 1,
                ..e.clone()
            });
            new_index.uid_next = uid + 1;
        }
        write_atomically(&dir.join(index::SNAPSHOT_FILE), &new_index.encode())?;
        write_atomically(
            &dir.join(index::LOG_FILE),
            index::log_header(new_index.uid_validity).as_bytes(),
        )?;
        for loc in locs.iter().flatten() {
            let sub = if loc.in_cur { "cur" } else { "new" };
            match fs::rename(
                self.inner.maildir.join(sub).join(&*loc.file),
                dir.join(sub).join(&*loc.file),
            ) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        for sub in ["new", "cur"] {
            sync_dir(&dir.join(sub))?;
            sync_dir(&self.inner.maildir.join(sub))?;
        }
        let moved: HashSet<u32> = entries.iter().map(|e| e.uid).collect();
        inbox.expunge_locked(&mut log, |e| moved.contains(&e.uid), false)?;
        Ok(())
    }

    /// SUBSCRIBE (`on`) or UNSUBSCRIBE `name` (which need not exist to unsubscribe).
    ///
    /// # Errors
    ///
    /// `NoSuchMailbox` when subscribing to a folder that does not exist, the file system's.
    pub fn subscribe(&self, name: &str, on: bool) -> Result<(), MailboxError> {
        let name = names::canonical(name)?;
        let _tree = lock(&self.inner.tree);
        if on && !self.exists(&name) {
            return Err(MailboxError::NoSuchMailbox);
        }
        self.set_subscribed(&name, on)
    }

    /// The subscribed names (some may no longer exist, as LSUB shows them).
    ///
    /// # Errors
    ///
    /// The file system's.
    pub fn subscriptions(&self) -> Result<Vec<String>, MailboxError> {
        let _tree = lock(&self.inner.tree);
        self.read_subscriptions()
    }

    /// STATUS of `name`.
    ///
    /// # Errors
    ///
    /// `NoSuchMailbox`, the file system's.
    pub fn status(&self, name: &str) -> Result<FolderStatus, MailboxError> {
        let folder = self.fresh_folder(name)?;
        let st = folder.state();
        st.usable()?;
        let idx = &st.index;
        let count = |pred: &dyn Fn(&Entry) -> bool| {
            u32::try_from(idx.entries.iter().filter(|e| pred(e)).count()).unwrap_or(u32::MAX)
        };
        Ok(FolderStatus {
            messages: u32::try_from(idx.entries.len()).unwrap_or(u32::MAX),
            recent: count(&|e| e.uid >= st.first_recent),
            uid_next: NonZeroU32::new(idx.uid_next).unwrap_or(NonZeroU32::MAX),
            uid_validity: NonZeroU32::new(idx.uid_validity).unwrap_or(NonZeroU32::MIN),
            unseen: count(&|e| e.flags.system & index::SEEN == 0),
            deleted: count(&|e| e.flags.system & index::DELETED != 0),
            size: st.total_size,
            highest_modseq: folder::nz64(idx.highest_modseq),
        })
    }

    /// SELECT (`read_only` false) or EXAMINE `name`: the session's handle, which hears
    /// every later change until dropped. `max_pending` bounds its queue ([`Overflowed`]).
    ///
    /// # Errors
    ///
    /// `NoSuchMailbox`, the file system's.
    pub fn select(
        &self,
        name: &str,
        read_only: bool,
        max_pending: usize,
    ) -> Result<Selected, MailboxError> {
        let folder = self.fresh_folder(name)?;
        let id = self.hub().inner.sessions.fetch_add(1, Ordering::Relaxed);
        let queue = Arc::new(Queue::new(id, max_pending));
        let (snapshot, flags, recent) = {
            let mut st = folder.register(&queue)?;
            let idx = &st.index;
            let snapshot = Snapshot {
                uid_validity: NonZeroU32::new(idx.uid_validity).unwrap_or(NonZeroU32::MIN),
                uid_next: NonZeroU32::new(idx.uid_next).unwrap_or(NonZeroU32::MAX),
                highest_modseq: Some(folder::nz64(idx.highest_modseq)),
                uids: idx
                    .entries
                    .iter()
                    .filter_map(|e| NonZeroU32::new(e.uid))
                    .collect(),
            };
            let mut keywords = Flags {
                system: index::ALL_SYSTEM,
                keywords: Vec::new(),
            };
            for k in idx.entries.iter().flat_map(|e| &e.flags.keywords) {
                keywords.add_keyword(k);
            }
            let first = st.first_recent;
            let recent: Vec<NonZeroU32> = snapshot
                .uids
                .iter()
                .copied()
                .filter(|u| u.get() >= first)
                .collect();
            if !read_only {
                st.first_recent = st.index.uid_next;
            }
            (snapshot, keywords.to_list(), recent)
        };
        Ok(Selected {
            account: self.clone(),
            name: folder.name.clone(),
            folder,
            queue,
            read_only,
            snapshot,
            flags,
            recent,
        })
    }

    /// A new message to stream an APPEND into (in the account's `tmp/`).
    ///
    /// # Errors
    ///
    /// The file system's.
    pub fn new_message(&self) -> Result<NewMessage, MailboxError> {
        let base = self.inner.store.unique_name()?;
        let tmp = self.inner.maildir.join("tmp").join(&base);
        let file = create_private(&tmp)?;
        Ok(NewMessage {
            tmp,
            base,
            file: Some(BufWriter::with_capacity(64 * 1024, file)),
            size: 0,
            sent: CrlfCounter::default(),
            failed: false,
            closed: false,
        })
    }

    /// APPEND (MULTIAPPEND: all or none) `messages` to `folder`, each with its flags and
    /// INTERNALDATE (now when `None`): fsynced, indexed and announced to every session
    /// with `folder` selected before this returns.
    ///
    /// # Errors
    ///
    /// `NoSuchMailbox`, `OverQuota`, `UidsExhausted`, the file system's.
    pub fn append(
        &self,
        folder: &str,
        messages: Vec<(NewMessage, Vec<Flag<'static>>, Option<DateTime>)>,
    ) -> Result<Appended, MailboxError> {
        let target = self.folder(folder)?;
        let mut files = Vec::with_capacity(messages.len());
        let mut keep = Vec::with_capacity(messages.len());
        let mut octets = 0u64;
        for (mut message, flags, date) in messages {
            let name = message.finish()?;
            let (secs, zone) = match date {
                Some(date) => index::secs_of(&date),
                None => (now(), 0),
            };
            octets += message.size;
            let flags = Flags::from_list(&flags);
            check_keywords(&flags)?;
            files.push(NewFile {
                tmp: message.tmp.clone(),
                name,
                flags,
                secs,
                zone,
                size: message.sent.total(),
            });
            keep.push(message);
        }
        let uids = self.add_counted(&target, files, octets, true)?;
        drop(keep);
        Ok(Appended {
            uid_validity: target.uid_validity(),
            uids,
        })
    }

    /// Adds `files` to `target`, counting `octets` in the usage; refused when they do not
    /// fit the quota if `check` (false for a MOVE within the account, which frees as much
    /// as it takes).
    fn add_counted(
        &self,
        target: &Folder,
        files: Vec<NewFile>,
        octets: u64,
        check: bool,
    ) -> Result<Vec<NonZeroU32>, MailboxError> {
        let store = &self.inner.store;
        let address = &self.inner.address;
        if let Some(quota) = self.inner.quota.filter(|_| check) {
            if !store.reserve(address, octets, quota)? {
                return Err(MailboxError::OverQuota);
            }
        } else {
            store.add_usage(address, octets);
        }
        let added = target.add(files);
        if added.is_err() {
            store.release(address, octets);
        }
        added
    }
}

/// The special use of the canonical folder `name`.
fn special_use_of(name: &str) -> Option<SpecialUse> {
    SPECIAL_USE
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, use_)| *use_)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Folder {
    fn uid_validity(&self) -> NonZeroU32 {
        NonZeroU32::new(self.state().index.uid_validity).unwrap_or(NonZeroU32::MIN)
    }
}

/// A folder selected by one session. Dropping it stops its changes.
#[derive(Debug)]
pub struct Selected {
    account: Account,
    folder: Arc<Folder>,
    queue: Arc<Queue>,
    name: String,
    read_only: bool,
    snapshot: Snapshot,
    flags: Vec<Flag<'static>>,
    recent: Vec<NonZeroU32>,
}

impl Drop for Selected {
    fn drop(&mut self) {
        self.folder.unregister(self.queue.id);
        self.account.hub().release(&self.folder);
    }
}

impl Selected {
    /// The folder's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Opened by EXAMINE.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// The folder when it was selected (the view starts from this).
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot.clone()
    }

    /// The flags defined in the folder: the system flags and every keyword in use.
    pub fn flags(&self) -> Vec<Flag<'static>> {
        self.flags.clone()
    }

    /// The special use of the folder.
    pub fn special_use(&self) -> Option<SpecialUse> {
        special_use_of(&self.name)
    }

    /// The UIDs `\Recent` to this session (claimed at select: no later session sees them
    /// as recent).
    pub fn recent(&self) -> &[NonZeroU32] {
        &self.recent
    }

    /// Claims `uid`, a message that arrived while the folder is selected, as `\Recent` to
    /// this session (RFC 3501 section 2.3.2: recent to the first session notified of it):
    /// true for the first read-write session to claim it, false for every later one and for
    /// EXAMINE, which claims nothing. (Added for the IMAP service, issue 19.)
    pub fn claim_recent(&self, uid: NonZeroU32) -> bool {
        if self.read_only {
            return false;
        }
        let mut st = self.folder.state();
        if uid.get() >= st.first_recent {
            st.first_recent = uid.get().saturating_add(1);
            true
        } else {
            false
        }
    }

    /// What the store knows of each of `uids` now (`None`: expunged), under one lock.
    pub fn metas(&self, uids: &[NonZeroU32]) -> Vec<Option<MessageMeta>> {
        let dir = self.folder.dir.as_os_str().len();
        let st = self.folder.state();
        uids.iter()
            .map(|uid| {
                let e = &st.index.entries[st.index.find(uid.get())?];
                let loc = st.loc(e.uid)?;
                // One allocation for the path, not one per component.
                let mut path = PathBuf::with_capacity(dir + loc.file.len() + 6);
                path.push(&self.folder.dir);
                path.push(if loc.in_cur { "cur" } else { "new" });
                path.push(&*loc.file);
                Some(MessageMeta {
                    uid: *uid,
                    flags: e.flags.to_list(),
                    modseq: folder::nz64(e.modseq),
                    internal_date: index::datetime_from(e.secs, e.zone),
                    size: e.size,
                    path,
                })
            })
            .collect()
    }

    /// Calls `f` with what the store knows of each of `uids` now (`None`: expunged), under
    /// one lock and without copying anything: for FETCH items and SEARCH keys that need no
    /// file. `f` must not call back into this folder (its lock is held).
    pub fn with_metas(
        &self,
        uids: &[NonZeroU32],
        mut f: impl FnMut(NonZeroU32, Option<MetaRef<'_>>),
    ) {
        let st = self.folder.state();
        for uid in uids {
            let meta = st
                .index
                .find(uid.get())
                .and_then(|at| st.index.entries.get(at))
                .map(|entry| MetaRef { entry });
            f(*uid, meta);
        }
    }

    /// The message sequence number, in the folder as selected ([`Selected::snapshot`]), of
    /// the first message without `\Seen` (for `OK [UNSEEN n]`); messages expunged since
    /// count, as the session has not been told of them yet.
    pub fn first_unseen(&self) -> Option<NonZeroU32> {
        let st = self.folder.state();
        let entries = &st.index.entries;
        // Both ascending: one walk.
        let mut at = 0;
        for (seq, uid) in self.snapshot.uids.iter().enumerate() {
            while entries.get(at).is_some_and(|e| e.uid < uid.get()) {
                at += 1;
            }
            match entries.get(at) {
                Some(e) if e.uid == uid.get() && e.flags.system & index::SEEN == 0 => {
                    return u32::try_from(seq + 1).ok().and_then(NonZeroU32::new);
                }
                Some(_) => {}
                None => return None,
            }
        }
        None
    }

    /// The octets of message `uid` as stored; `None` when it was expunged.
    ///
    /// # Errors
    ///
    /// The file system's.
    pub fn read(&self, uid: NonZeroU32) -> Result<Option<Bytes>, MailboxError> {
        Ok(self.with_file(uid, |path| fs::read(path))?.map(Bytes::from))
    }

    /// The octets `start..start + len` of message `uid` as stored (fewer where the file
    /// ends, none from past its end), read from that offset without reading the rest of the
    /// file, with the file's length; `None` when it was expunged. For partial FETCHes
    /// (`BODY[]<start.len>`): what is allocated and read is bounded by `len`, not by the
    /// message.
    ///
    /// # Errors
    ///
    /// The file system's.
    pub fn read_range(
        &self,
        uid: NonZeroU32,
        start: u64,
        len: u64,
    ) -> Result<Option<(Vec<u8>, u64)>, MailboxError> {
        self.with_file(uid, |path| {
            let mut file = File::open(path)?;
            let total = file.metadata()?.len();
            let from = start.min(total);
            let take = len.min(total - from);
            file.seek(SeekFrom::Start(from))?;
            let mut out = Vec::with_capacity(usize::try_from(take).unwrap_or(0));
            file.take(take).read_to_end(&mut out)?;
            Ok((out, total))
        })
    }

    /// `read` applied to the path of message `uid`'s file; `None` when it was expunged.
    fn with_file<T>(
        &self,
        uid: NonZeroU32,
        mut read: impl FnMut(&Path) -> io::Result<T>,
    ) -> Result<Option<T>, MailboxError> {
        // A flag change may rename the file between the lookup and the open: look again.
        for _ in 0..4 {
            let Some(path) = self.folder.path_of(uid.get()) else {
                return Ok(None);
            };
            match read(&path) {
                Ok(value) => return Ok(Some(value)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            }
        }
        match self.folder.path_of(uid.get()) {
            None => Ok(None),
            Some(path) => Err(MailboxError::Io(io::Error::new(
                io::ErrorKind::NotFound,
                format!("message file {} is missing", path.display()),
            ))),
        }
    }

    /// The changes queued for this session since the last call, in order.
    ///
    /// # Errors
    ///
    /// [`Interrupted::Overflowed`] when more than `max_pending` queued,
    /// [`Interrupted::Gone`] once the folder was deleted or renamed,
    /// [`Interrupted::Unavailable`] when it was read again after a failed write and this
    /// session cannot follow it; each for good.
    ///
    /// A folder broken by a failed write is read again first (so a session that only asks
    /// for its changes, at NOOP or FETCH, recovers it once the disk has room); while that
    /// fails, the changes queued so far are returned and the next call tries again.
    pub fn changes(&self) -> Result<Vec<Change>, Interrupted> {
        if let Err(e) = self.folder.recover() {
            debug!(folder = %self.name, error = %e, "the broken folder could not be read again yet");
        }
        self.queue.take()
    }

    /// Resolves when changes are queued for this session (at once if some already are), or
    /// when [`Selected::changes`] has an error to tell.
    pub async fn changed(&self) {
        loop {
            let notified = self.queue.notify.notified();
            if self.queue.ready() {
                return;
            }
            notified.await;
        }
    }

    fn writable(&self) -> Result<(), MailboxError> {
        if self.read_only {
            return Err(MailboxError::Cannot("the mailbox is read-only (EXAMINE)"));
        }
        Ok(())
    }

    /// STORE `flags` on `uids` (`unchanged_since`: CONDSTORE's UNCHANGEDSINCE), durably.
    /// The change is queued for every other session with the folder selected, and for this
    /// one too when `echo` (not `.SILENT`).
    ///
    /// # Errors
    ///
    /// `Cannot` when read-only, `Limit` when a message would get a keyword longer than
    /// [`MAX_KEYWORD_LEN`] or more than [`MAX_KEYWORDS_PER_MESSAGE`] (nothing changed), the file
    /// system's.
    pub fn store(
        &self,
        uids: &[NonZeroU32],
        kind: StoreKind,
        flags: &[Flag<'static>],
        unchanged_since: Option<NonZeroU64>,
        echo: bool,
    ) -> Result<Vec<Stored>, MailboxError> {
        self.writable()?;
        let given = Flags::from_list(flags);
        check_keywords(&given)?;
        if kind == StoreKind::Add {
            let st = self.folder.state();
            for uid in uids {
                if let Some(at) = st.index.find(uid.get()) {
                    let mut f = st.index.entries[at].flags.clone();
                    f.add(&given);
                    check_keywords(&f)?;
                }
            }
        }
        let skip = (!echo).then_some(self.queue.id);
        self.folder.store(
            uids,
            |old| match kind {
                StoreKind::Replace => given.clone(),
                StoreKind::Add => {
                    let mut f = old.clone();
                    f.add(&given);
                    // A concurrent STORE added some since the check: left as it is.
                    if f.keywords.len() > MAX_KEYWORDS_PER_MESSAGE {
                        return old.clone();
                    }
                    f
                }
                StoreKind::Remove => {
                    let mut f = old.clone();
                    f.remove(&given);
                    f
                }
            },
            unchanged_since,
            skip,
        )
    }

    /// EXPUNGE the messages with `\Deleted` (only those among `uids` when given: UID
    /// EXPUNGE), durably; queued for every session with the folder selected, this one
    /// included. Returns the UIDs expunged.
    ///
    /// # Errors
    ///
    /// `Cannot` when read-only, the file system's.
    pub fn expunge(&self, uids: Option<&[NonZeroU32]>) -> Result<Vec<NonZeroU32>, MailboxError> {
        self.writable()?;
        let only: Option<HashSet<u32>> = uids.map(|u| u.iter().map(|u| u.get()).collect());
        self.folder.expunge(|e| {
            e.flags.system & index::DELETED != 0
                && only.as_ref().is_none_or(|only| only.contains(&e.uid))
        })
    }

    /// COPY `uids` to `to`, with their flags and INTERNALDATE.
    ///
    /// # Errors
    ///
    /// `NoSuchMailbox` (TRYCREATE), `OverQuota`, the file system's.
    pub fn copy(&self, uids: &[NonZeroU32], to: &str) -> Result<Copied, MailboxError> {
        self.copy_counted(uids, to, true)
            .map(|(copied, _, _)| copied)
    }

    /// [`Selected::copy`], the quota checked if `check`; also returns the target and the
    /// octets copied.
    fn copy_counted(
        &self,
        uids: &[NonZeroU32],
        to: &str,
        check: bool,
    ) -> Result<(Copied, Arc<Folder>, u64), MailboxError> {
        let target = self.account.folder(to)?;
        let mut uids = uids.to_vec();
        uids.sort_unstable();
        uids.dedup();
        let store = &self.account.inner.store;
        let tmp = self.account.inner.maildir.join("tmp");
        let mut files = Vec::with_capacity(uids.len());
        let mut source = Vec::with_capacity(uids.len());
        let mut octets = 0u64;
        let result = (|| {
            for uid in uids {
                let Some(entry) = ({
                    let st = self.folder.state();
                    st.index
                        .find(uid.get())
                        .map(|at| st.index.entries[at].clone())
                }) else {
                    continue;
                };
                let sizes = entry.name.find(",S=").map_or("", |at| &entry.name[at..]);
                let name = format!("{}{sizes}", store.unique_name()?);
                let link = tmp.join(&name);
                let Some(len) = self.link_into(uid, &link)? else {
                    continue;
                };
                octets += len;
                files.push(NewFile {
                    tmp: link,
                    name,
                    flags: entry.flags,
                    secs: entry.secs,
                    zone: entry.zone,
                    size: entry.size,
                });
                source.push(uid);
            }
            Ok::<(), MailboxError>(())
        })();
        let tmps: Vec<PathBuf> = files.iter().map(|f| f.tmp.clone()).collect();
        let added = result.and_then(|()| self.account.add_counted(&target, files, octets, check));
        // What was not renamed into the target (an error) is removed from tmp/.
        for path in tmps {
            let _ = fs::remove_file(path);
        }
        let copied = Copied {
            uid_validity: target.uid_validity(),
            source,
            destination: added?,
        };
        Ok((copied, target, octets))
    }

    /// Hard-links (or copies, durably) the file of `uid` to `link`; returns its length,
    /// `None` when the message was expunged.
    fn link_into(&self, uid: NonZeroU32, link: &Path) -> Result<Option<u64>, MailboxError> {
        for _ in 0..4 {
            let Some(path) = self.folder.path_of(uid.get()) else {
                return Ok(None);
            };
            match fs::hard_link(&path, link) {
                Ok(()) => return Ok(Some(fs::metadata(link)?.len())),
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(_) => match copy_durably(&path, link) {
                    Ok(()) => return Ok(Some(fs::metadata(link)?.len())),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        let _ = fs::remove_file(link);
                        continue;
                    }
                    Err(e) => {
                        let _ = fs::remove_file(link);
                        return Err(e.into());
                    }
                },
            }
        }
        Ok(None)
    }

    /// MOVE `uids` to `to`: copied, then expunged here (queued for every session, this one
    /// included). The quota is not checked: the account holds as much after as before.
    ///
    /// When the expunge fails after the copy was committed, the copy is expunged again from
    /// `to` and the error returned (nothing moved); if that fails too, the move is reported
    /// done (the messages are in `to`, and still here: a retry would duplicate them).
    ///
    /// # Errors
    ///
    /// As [`Selected::copy`] (but never `OverQuota`), and `Cannot` when read-only.
    pub fn move_to(&self, uids: &[NonZeroU32], to: &str) -> Result<Copied, MailboxError> {
        self.writable()?;
        let (copied, target, octets) = self.copy_counted(uids, to, false)?;
        let moved: HashSet<u32> = copied.source.iter().map(|u| u.get()).collect();
        let store = &self.account.inner.store;
        let address = &self.account.inner.address;
        match self.folder.expunge(|e| moved.contains(&e.uid)) {
            Ok(_) => {
                store.release(address, octets);
                Ok(copied)
            }
            Err(e) => {
                let added: HashSet<u32> = copied.destination.iter().map(|u| u.get()).collect();
                match target.expunge(|en| added.contains(&en.uid)) {
                    Ok(_) => {
                        store.release(address, octets);
                        Err(e)
                    }
                    Err(undo) => {
                        warn!(folder = %self.folder.name, error = %e, undo = %undo, "MOVE: the source messages could not be expunged nor the copy undone; reported as moved");
                        Ok(copied)
                    }
                }
            }
        }
    }
}

impl From<MailboxError> for io::Error {
    fn from(e: MailboxError) -> io::Error {
        match e {
            MailboxError::Io(e) => e,
            other => io::Error::other(other.to_string()),
        }
    }
}
