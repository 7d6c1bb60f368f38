//! One open folder: its index in memory, its log, the group commit that makes changes
//! durable, and the queues of the sessions that have it selected.
//!
//! # Locks
//! Two per folder, always taken in this order, never across an await:
//! - `log` (the commit lock): held by whoever writes the log. Operations that read the
//!   index to decide what to change (STORE, EXPUNGE, the POP3 hooks) hold it from the
//!   decision until the change is durable and applied, so no two of them interleave.
//! - `state`: the index and everything else in memory; held briefly.
//!
//! # Group commit
//! An APPEND (or COPY, or a delivery) places its files and queues its records under
//! `state` alone, with its UIDs reserved in order; then it takes `log`. Whoever holds
//! `log` takes every queued record, fsyncs the directories the files went into, writes the
//! records in one write and fsyncs the log once, then applies them to the index and
//! announces them. A waiter that gets `log` after that finds its records done and returns.
//! So ten concurrent appenders pay for about one log fsync between them, not ten.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::num::{NonZeroU32, NonZeroU64};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use imap_proto::view::Change;
use tracing::{info, warn};

use super::index::{
    self, Entry, Flags, Index, LOG_FILE, Record, SNAPSHOT_FILE, file_name_with, flags_from_info,
};
use super::{Interrupted, MAX_KEYWORDS, MailboxError};
use crate::store::maildir::{sync_dir, write_atomically};
use crate::store::maildrop::{delivery_order, sent_size, unique_name};

/// The log is folded into a new snapshot once it holds this many records more than the
/// folder has messages (so the log never grows past about twice the snapshot's size).
pub(super) const COMPACT_AFTER: usize = 4096;

/// The log is also folded into a new snapshot once its octets pass this or the snapshot's
/// size, whichever is larger (large records, such as many long keywords, reach it long
/// before [`COMPACT_AFTER`] records).
pub(super) const COMPACT_BYTES: u64 = 4 << 20;

/// How old a directory's modification time must be before an unchanged one is trusted to
/// mean that nothing changed (see [`Folder::refresh`]).
const STAMP_SETTLE: std::time::Duration = std::time::Duration::from_secs(2);

/// The account-level file holding the last UIDVALIDITY issued for any folder of it.
pub(super) const UIDVALIDITY_FILE: &str = "sansmail-uidvalidity";

/// Where a message's file is in the folder's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Loc {
    /// In `cur/` (else `new/`).
    pub(super) in_cur: bool,
    /// The file name (unique name and info).
    pub(super) file: Box<str>,
}

impl Loc {
    fn path(&self, dir: &Path) -> PathBuf {
        dir.join(if self.in_cur { "cur" } else { "new" })
            .join(&*self.file)
    }
}

/// The changes queued for one session.
#[derive(Debug)]
pub(super) struct Queue {
    /// Its id (for not echoing a session's own `.SILENT` STORE).
    pub(super) id: u64,
    /// The most changes it may hold.
    max: usize,
    inner: Mutex<QueueInner>,
    /// Woken when a change is queued.
    pub(super) notify: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct QueueInner {
    changes: Vec<Change>,
    overflowed: bool,
    /// Why the session cannot follow the folder any more (deleted or renamed, or read
    /// again after a failed write with a state it cannot be told as changes).
    interrupted: Option<Interrupted>,
}

impl Queue {
    pub(super) fn new(id: u64, max: usize) -> Queue {
        Queue {
            id,
            max,
            inner: Mutex::new(QueueInner::default()),
            notify: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, change: Change) {
        {
            let mut q = self.lock();
            if q.overflowed {
                return;
            }
            if q.changes.len() >= self.max {
                q.overflowed = true;
                q.changes = Vec::new();
            } else {
                q.changes.push(change);
            }
        }
        self.notify.notify_one();
    }

    /// Ends the session's view of the folder (`why`: [`Interrupted::Gone`] or
    /// [`Interrupted::Unavailable`]), and wakes its session.
    fn interrupt(&self, why: Interrupted) {
        {
            let mut q = self.lock();
            q.interrupted.get_or_insert(why);
            q.changes = Vec::new();
        }
        self.notify.notify_one();
    }

    /// Takes the queued changes; an error once the session was interrupted or the queue
    /// overflowed.
    pub(super) fn take(&self) -> Result<Vec<Change>, Interrupted> {
        let mut q = self.lock();
        if let Some(why) = q.interrupted {
            return Err(why);
        }
        if q.overflowed {
            return Err(Interrupted::Overflowed);
        }
        Ok(std::mem::take(&mut q.changes))
    }

    /// Whether something is queued (or it overflowed, or the session was interrupted).
    pub(super) fn ready(&self) -> bool {
        let q = self.lock();
        q.interrupted.is_some() || q.overflowed || !q.changes.is_empty()
    }
}

/// The outcome of one operation's records, set by whoever committed them.
#[derive(Debug, Default)]
struct Slot(Mutex<Option<Result<(), String>>>);

impl Slot {
    fn set(&self, result: Result<(), String>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
    }

    fn get(&self) -> Option<Result<(), String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// One record waiting to be made durable.
#[derive(Debug)]
struct Pending {
    record: Record,
    /// For an add: where its file is.
    loc: Option<Loc>,
    /// The directories to fsync first: bit 1 `new/`, bit 2 `cur/`.
    sync: u8,
    /// A file to remove if the record cannot be written (an add's placed file).
    undo: Option<PathBuf>,
    /// The session not to tell (a `.SILENT` STORE's own).
    skip: Option<u64>,
    slot: Arc<Slot>,
}

const SYNC_NEW: u8 = 1;
const SYNC_CUR: u8 = 2;

/// The commit lock's data.
#[derive(Debug)]
pub(super) struct Log {
    file: File,
    /// Records in the log since the last snapshot.
    records: usize,
    /// The log's length in octets.
    bytes: u64,
    /// The snapshot's length in octets (when last written or read).
    snapshot: u64,
}

/// What is in memory of a folder.
#[derive(Debug)]
pub(super) struct State {
    /// The index, as durable and announced.
    pub(super) index: Index,
    /// Where each message's file is, by UID.
    files: HashMap<u32, Loc>,
    /// UID by unique name.
    by_name: HashMap<Box<str>, u32>,
    /// Records waiting for the group commit.
    pending: Vec<Pending>,
    /// The unique names of the adds in the batch being written (taken off `pending`, not
    /// yet applied): known, so a delivery's hook does not index one of them again.
    writing: HashSet<Box<str>>,
    /// The next UID to reserve.
    next_uid: u32,
    /// The last mod-sequence reserved.
    last_modseq: u64,
    /// The sessions with the folder selected.
    sessions: Vec<Weak<Queue>>,
    /// Messages from this UID on are `\Recent` to the next session that selects the folder.
    pub(super) first_recent: u32,
    /// The sum of RFC822.SIZE.
    pub(super) total_size: u64,
    /// A write failed: the folder must be read again from disk ([`Folder::recover`], which
    /// the next operation on it tries) before it is changed again.
    pub(super) broken: Option<String>,
    /// Deleted or renamed away: every operation answers "no such mailbox".
    pub(super) gone: bool,
    /// The keywords defined in the folder: those of its messages when it was read, and every
    /// one given since (at most [`MAX_KEYWORDS`]).
    keywords: HashSet<Box<str>>,
    /// The modification times of `new/` and `cur/` when they were last read: when they
    /// differ, something may have changed the files behind the index's back.
    stamp: Option<(SystemTime, SystemTime)>,
}

/// One folder, open in the hub.
#[derive(Debug)]
pub(super) struct Folder {
    /// Its directory (the Maildir for INBOX).
    pub(super) dir: PathBuf,
    /// Its canonical name.
    pub(super) name: String,
    /// The account's Maildir (for the UIDVALIDITY counter when it is read again).
    maildir: PathBuf,
    log: Mutex<Log>,
    state: Mutex<State>,
    /// Tests: called by the group commit between taking a batch and writing it.
    #[cfg(test)]
    pub(super) in_commit: Mutex<Option<TestHook>>,
    /// Tests: a write fault of the disk the folder is on while set (the one seam for a full
    /// disk: a test cannot fill a file system portably).
    #[cfg(test)]
    pub(super) fault: Mutex<Option<Fault>>,
}

/// A disk fault a test injects into a folder's log writes ([`Folder::fault`]).
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    /// Every write of the log fails (`ENOSPC`), and so does reading the folder again.
    Write,
    /// The records are written but the fsync after them fails: they may be on disk,
    /// unacknowledged.
    Sync,
}

/// A test's hook into the group commit.
#[cfg(test)]
pub(super) struct TestHook(pub(super) Box<dyn Fn() + Send>);

#[cfg(test)]
impl std::fmt::Debug for TestHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestHook")
    }
}

/// A new message for [`Folder::add`]: its file (in the account's `tmp/`), renamed into
/// the folder's `cur/`.
#[derive(Debug)]
pub(super) struct NewFile {
    /// The file now, in a `tmp/` of the same file system.
    pub(super) tmp: PathBuf,
    /// Its unique name (with `,S=`, `,W=`).
    pub(super) name: String,
    /// Its flags.
    pub(super) flags: Flags,
    /// INTERNALDATE.
    pub(super) secs: i64,
    /// INTERNALDATE's zone.
    pub(super) zone: i16,
    /// RFC822.SIZE.
    pub(super) size: u64,
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn io_err(message: &str) -> MailboxError {
    MailboxError::Io(io::Error::other(message.to_owned()))
}

impl Folder {
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn log(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the folder at `dir` (its index, its log, its files) and reconciles them; see
    /// the module docs of `mailboxes` for the rules. `maildir` is the account's (for the
    /// UIDVALIDITY counter).
    pub(super) fn load(dir: &Path, name: &str, maildir: &Path) -> io::Result<Folder> {
        let snapshot = read_optional(&dir.join(SNAPSHOT_FILE))?;
        let log_bytes = read_optional(&dir.join(LOG_FILE))?;
        let mut problem = None;
        let mut index = match &snapshot {
            Some(bytes) => match Index::decode(bytes) {
                Ok(index) => Some(index),
                Err(bad) => {
                    problem = Some(bad.to_string());
                    None
                }
            },
            None if log_bytes.is_some() => {
                problem = Some("the index snapshot is missing".to_owned());
                None
            }
            None => None,
        };
        let mut replayed = 0;
        let mut torn = false;
        if let (Some(idx), Some(bytes)) = (index.as_mut(), &log_bytes) {
            match index::decode_log(bytes, idx.uid_validity) {
                Ok(replay) => {
                    torn = replay.torn;
                    if replay.torn {
                        warn!(
                            folder = %dir.display(),
                            kept = replay.good_len,
                            "dropped the torn tail of the index log (never acknowledged)"
                        );
                    }
                    for record in &replay.records {
                        if let Err(bad) = idx.apply(record) {
                            problem = Some(bad.to_string());
                            break;
                        }
                        replayed += 1;
                    }
                }
                Err(bad) => problem = Some(bad.to_string()),
            }
            if problem.is_some() {
                index = None;
            }
        }
        let stamp = settled_stamp(dir)?;
        let files = scan(dir)?;
        let mut changed = replayed > 0 || torn || log_bytes.is_none();
        let (mut index, mut first_recent) = match index {
            Some(index) => (index, None),
            None => {
                let uid_validity = next_uid_validity(maildir)?;
                match &problem {
                    Some(problem) => warn!(
                        folder = %dir.display(),
                        %problem,
                        uid_validity,
                        "index rebuilt from the message files with a new UIDVALIDITY"
                    ),
                    None => info!(folder = %dir.display(), uid_validity, "folder indexed"),
                }
                changed = true;
                (Index::new(uid_validity), None)
            }
        };
        // Reconcile: entries without a file are expunged, files without an entry added in
        // delivery order.
        let mut locs: HashMap<u32, Loc> = HashMap::with_capacity(files.len());
        let mut by_name: HashMap<Box<str>, u32> = HashMap::with_capacity(files.len());
        let mut kept = Vec::with_capacity(index.entries.len());
        let mut files = files;
        for entry in std::mem::take(&mut index.entries) {
            match files.remove(&*entry.name) {
                Some(loc) => {
                    locs.insert(entry.uid, loc);
                    by_name.insert(entry.name.clone(), entry.uid);
                    kept.push(entry);
                }
                None => {
                    changed = true;
                    index.highest_modseq += 1;
                }
            }
        }
        index.entries = kept;
        let mut new_files: Vec<(String, Loc)> = files.into_iter().collect();
        new_files.sort_by_cached_key(|(name, _)| delivery_order(name));
        for (name, loc) in new_files {
            let Some((secs, size)) = file_facts(dir, &name, &loc)? else {
                continue;
            };
            let uid = index.uid_next;
            let Some(next) = uid.checked_add(1) else {
                warn!(folder = %dir.display(), "no UIDs left: a file is not indexed");
                break;
            };
            index.uid_next = next;
            index.highest_modseq += 1;
            if !loc.in_cur && first_recent.is_none() {
                first_recent = Some(uid);
            }
            let name: Box<str> = name.into();
            index.entries.push(Entry {
                uid,
                modseq: index.highest_modseq,
                secs,
                zone: 0,
                size,
                flags: Flags {
                    system: flags_from_info(&loc.file),
                    keywords: Vec::new(),
                },
                name: name.clone(),
            });
            locs.insert(uid, loc);
            by_name.insert(name, uid);
            changed = true;
        }
        let log_path = dir.join(LOG_FILE);
        if changed {
            write_atomically(&dir.join(SNAPSHOT_FILE), &index.encode())?;
            write_atomically(&log_path, index::log_header(index.uid_validity).as_bytes())?;
        }
        let file = OpenOptions::new().append(true).open(&log_path)?;
        let total_size = index.entries.iter().map(|e| e.size).sum();
        // What an index holds was accepted under the bound (or written before it: kept).
        let keywords = index
            .entries
            .iter()
            .flat_map(|e| e.flags.keywords.iter().cloned())
            .collect();
        let state = State {
            keywords,
            next_uid: index.uid_next,
            last_modseq: index.highest_modseq,
            first_recent: first_recent.unwrap_or(index.uid_next),
            files: locs,
            by_name,
            pending: Vec::new(),
            writing: HashSet::new(),
            sessions: Vec::new(),
            total_size,
            broken: None,
            gone: false,
            stamp,
            index,
        };
        Ok(Folder {
            dir: dir.to_path_buf(),
            name: name.to_owned(),
            maildir: maildir.to_path_buf(),
            log: Mutex::new(Log {
                bytes: file.metadata()?.len(),
                snapshot: fs::metadata(dir.join(SNAPSHOT_FILE)).map_or(0, |m| m.len()),
                file,
                records: 0,
            }),
            state: Mutex::new(state),
            #[cfg(test)]
            in_commit: Mutex::new(None),
            #[cfg(test)]
            fault: Mutex::new(None),
        })
    }

    /// Reconciles the index with the files again when `new/` or `cur/` changed since they
    /// were last read, or were last read too soon after a change to tell ([`settled_stamp`])
    /// (another program delivered, moved or removed files while the folder was open): files without an entry are added, entries without a file expunged, both
    /// durably and announced, and moved files followed. Called at SELECT and STATUS.
    ///
    /// The directories are first read with no lock held, and the listing compared with the
    /// index under the state lock alone: when every difference is this process's own work
    /// (a file placed, renamed for its flags or unlinked while the listing was read, each
    /// checked with a `stat`), nothing is reconciled and no lock was held during the
    /// listing. Only a difference from outside takes the commit lock and reads the
    /// directories again under both locks, as before. A folder this server keeps changing
    /// (APPEND and STORE under load) never has a settled stamp, so this listing is what
    /// every SELECT of it costs; held under the locks it stalled every other command on
    /// the folder, and waited for the group commit's fsyncs.
    pub(super) fn refresh(&self) -> Result<(), MailboxError> {
        self.recover()?;
        let now = dir_stamp(&self.dir)?;
        if self.state().stamp == Some(now) {
            return Ok(());
        }
        let stamp = settled_stamp(&self.dir)?;
        let listed = scan(&self.dir)?;
        {
            let mut st = self.state();
            st.usable()?;
            if st.only_own_changes(&self.dir, &listed) {
                st.stamp = stamp;
                return Ok(());
            }
        }
        let mut log = self.log();
        // Only adds can be queued while the commit lock is held: commit them first.
        self.flush(&mut log);
        let slot = Arc::new(Slot::default());
        let mut any = false;
        {
            let mut st = self.state();
            st.usable()?;
            let stamp = settled_stamp(&self.dir)?;
            let mut files = scan(&self.dir)?;
            let queued: HashSet<Box<str>> = st
                .pending
                .iter()
                .filter_map(|p| match &p.record {
                    Record::Add(e) => Some(e.name.clone()),
                    _ => None,
                })
                .collect();
            let entries: Vec<(u32, Box<str>)> = st
                .index
                .entries
                .iter()
                .map(|e| (e.uid, e.name.clone()))
                .collect();
            for (uid, name) in entries {
                match files.remove(&*name) {
                    Some(loc) => {
                        st.files.insert(uid, loc);
                    }
                    None => {
                        st.last_modseq += 1;
                        let modseq = st.last_modseq;
                        st.pending.push(Pending {
                            record: Record::Expunge { modseq, uid },
                            loc: None,
                            sync: 0,
                            undo: None,
                            skip: None,
                            slot: slot.clone(),
                        });
                        any = true;
                    }
                }
            }
            let mut new_files: Vec<(String, Loc)> = files
                .into_iter()
                .filter(|(name, _)| !queued.contains(name.as_str()))
                .collect();
            new_files.sort_by_cached_key(|(name, _)| delivery_order(name));
            for (name, loc) in new_files {
                let Some((secs, size)) = file_facts(&self.dir, &name, &loc)? else {
                    continue;
                };
                let Some(next) = st.next_uid.checked_add(1) else {
                    return Err(MailboxError::UidsExhausted);
                };
                let uid = st.next_uid;
                st.next_uid = next;
                st.last_modseq += 1;
                let modseq = st.last_modseq;
                let system = flags_from_info(&loc.file);
                st.pending.push(Pending {
                    record: Record::Add(Entry {
                        uid,
                        modseq,
                        secs,
                        zone: 0,
                        size,
                        flags: Flags {
                            system,
                            keywords: Vec::new(),
                        },
                        name: name.into(),
                    }),
                    loc: Some(loc),
                    sync: 0,
                    undo: None,
                    skip: None,
                    slot: slot.clone(),
                });
                any = true;
            }
            st.stamp = stamp;
        }
        if any {
            warn!(folder = %self.dir.display(), "message files changed behind the index; reconciled");
            self.flush(&mut log);
            if let Some(Err(e)) = slot.get() {
                return Err(io_err(&e));
            }
        }
        Ok(())
    }

    /// Registers a session's queue; returns the state for the snapshot (still locked, so
    /// no change slips between the snapshot and the registration).
    pub(super) fn register(
        &self,
        queue: &Arc<Queue>,
    ) -> Result<MutexGuard<'_, State>, MailboxError> {
        let mut st = self.state();
        st.usable()?;
        st.sessions.retain(|w| w.strong_count() > 0);
        st.sessions.push(Arc::downgrade(queue));
        Ok(st)
    }

    /// Forgets a session's queue.
    pub(super) fn unregister(&self, id: u64) {
        self.state()
            .sessions
            .retain(|w| w.upgrade().is_some_and(|q| q.id != id));
    }

    /// Commits every queued record (see the module docs). On a broken folder they all fail
    /// (their placed files removed): records queued before a write failed would follow
    /// its torn tail in the log, where a restart would never read them.
    fn flush(&self, log: &mut Log) {
        let batch = {
            let mut st = self.state();
            let batch = std::mem::take(&mut st.pending);
            if let Some(broken) = st.broken.clone() {
                drop(st);
                fail(batch, &broken);
                return;
            }
            let names: Vec<Box<str>> = batch
                .iter()
                .filter_map(|p| match &p.record {
                    Record::Add(e) => Some(e.name.clone()),
                    _ => None,
                })
                .collect();
            st.writing.extend(names);
            batch
        };
        if batch.is_empty() {
            return;
        }
        // (A fault the hook sets hits the next batch, not this one.)
        #[cfg(test)]
        let fault = *self.fault.lock().unwrap_or_else(|e| e.into_inner());
        #[cfg(test)]
        if let Some(hook) = &*self.in_commit.lock().unwrap_or_else(|e| e.into_inner()) {
            (hook.0)();
        }
        let sync = batch.iter().fold(0, |acc, p| acc | p.sync);
        let written = (|| {
            #[cfg(test)]
            if fault == Some(Fault::Write) {
                return Err(io::Error::from(io::ErrorKind::StorageFull));
            }
            if sync & SYNC_NEW != 0 {
                sync_dir(&self.dir.join("new"))?;
            }
            if sync & SYNC_CUR != 0 {
                sync_dir(&self.dir.join("cur"))?;
            }
            let mut text = String::with_capacity(batch.len() * 100);
            for p in &batch {
                index::encode_record(&p.record, &mut text);
            }
            log.file.write_all(text.as_bytes())?;
            #[cfg(test)]
            if fault == Some(Fault::Sync) {
                return Err(io::Error::from(io::ErrorKind::StorageFull));
            }
            log.file.sync_data()?;
            Ok::<u64, io::Error>(text.len() as u64)
        })();
        let mut st = self.state();
        st.writing.clear();
        match written {
            Ok(text_len) => {
                log.records += batch.len();
                log.bytes += text_len;
                for p in batch {
                    st.apply(&self.dir, p.record, p.loc, p.skip);
                    p.slot.set(Ok(()));
                }
                if log.records > COMPACT_AFTER + st.index.entries.len()
                    || log.bytes > COMPACT_BYTES.max(log.snapshot)
                {
                    match self.compact(&st, log) {
                        Ok(()) => log.records = 0,
                        Err(e) => {
                            warn!(folder = %self.dir.display(), error = %e, "index compaction failed; the log keeps growing")
                        }
                    }
                }
            }
            Err(e) => {
                warn!(folder = %self.dir.display(), error = %e, "index log write failed; the folder will be read again");
                st.broken = Some(e.to_string());
                drop(st);
                fail(batch, &e.to_string());
            }
        }
    }

    /// Reads the folder again from disk if a failed write broke it, under both locks, and
    /// puts what was read in place of what is in memory, keeping the sessions that have it
    /// selected: the failed batch was never acknowledged, so what is read is what they
    /// know, or that plus changes they can be told (messages delivered or expunged
    /// meanwhile, records that reached the disk though their fsync failed), which are
    /// queued for them. A session that cannot be kept consistent (the index had to be
    /// rebuilt with a new UIDVALIDITY, or a UID or mod-sequence went backwards) is ended
    /// with [`Interrupted::Unavailable`]. Every operation that changes the folder calls
    /// this first, so the folder recovers by itself once the disk has room again; while it
    /// has none, the operation fails as the write did (reading the folder again writes a
    /// new snapshot when the log has a torn tail).
    pub(super) fn recover(&self) -> Result<(), MailboxError> {
        if self.state().broken.is_none() {
            return Ok(());
        }
        let mut log = self.log();
        // What was queued before the break fails with it.
        self.flush(&mut log);
        let broken = {
            let st = self.state();
            st.usable_unless_broken()?;
            match &st.broken {
                Some(broken) => broken.clone(),
                // Recovered by another operation meanwhile.
                None => return Ok(()),
            }
        };
        let read = {
            #[cfg(test)]
            if *self.fault.lock().unwrap_or_else(|e| e.into_inner()) == Some(Fault::Write) {
                return Err(io_err(&broken));
            }
            Folder::load(&self.dir, &self.name, &self.maildir)
        };
        let fresh = match read {
            Ok(fresh) => fresh,
            Err(e) => {
                warn!(folder = %self.dir.display(), error = %e, was = %broken, "the folder could not be read again; it stays broken");
                return Err(e.into());
            }
        };
        let Folder {
            log: fresh_log,
            state: fresh_state,
            ..
        } = fresh;
        *log = fresh_log.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut fresh = fresh_state.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut st = self.state();
        let changes = told_as_changes(&st.index, &fresh.index);
        fresh.sessions = std::mem::take(&mut st.sessions);
        if changes.is_some() {
            // Every UID read anew is at or past the old UIDNEXT: the messages nobody has
            // claimed as recent stay recent.
            fresh.first_recent = st.first_recent;
        }
        // Keywords sessions were told of in FLAGS stay, even past the cap (as `load` keeps
        // the ones written before it): the cap refuses new keywords, it never drops one.
        fresh.keywords.extend(st.keywords.drain());
        *st = fresh;
        match changes {
            Some(changes) => {
                info!(folder = %self.dir.display(), was = %broken, changes = changes.len(), "folder read again after a failed write; its sessions go on");
                st.sessions.retain(|w| w.strong_count() > 0);
                for queue in st.sessions.iter().filter_map(Weak::upgrade) {
                    for change in &changes {
                        queue.push(change.clone());
                    }
                }
            }
            None => {
                warn!(folder = %self.dir.display(), was = %broken, "folder read again after a failed write differs from what its sessions know; they are closed");
                st.interrupt(Interrupted::Unavailable);
                // The operation that called this came with UIDs and sequence numbers of the
                // folder as it was: applied to what was read, they could name other messages.
                return Err(MailboxError::Io(io::Error::other(
                    "the folder was read again and changed; its sessions are closed",
                )));
            }
        }
        Ok(())
    }

    /// Writes the snapshot and empties the log.
    fn compact(&self, st: &State, log: &mut Log) -> io::Result<()> {
        let snapshot = st.index.encode();
        write_atomically(&self.dir.join(SNAPSHOT_FILE), &snapshot)?;
        log.snapshot = snapshot.len() as u64;
        log.file.set_len(0)?;
        let header = index::log_header(st.index.uid_validity);
        log.file.write_all(header.as_bytes())?;
        log.bytes = header.len() as u64;
        log.file.sync_data()
    }

    /// Waits for `slot`'s records to be committed (committing them, and whatever else is
    /// queued, if nobody else has).
    fn commit(&self, slot: &Slot) -> Result<(), MailboxError> {
        let mut log = self.log();
        if slot.get().is_none() {
            self.flush(&mut log);
        }
        match slot.get() {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(io_err(&e)),
            None => Err(io_err("the change was not committed")),
        }
    }

    /// Adds `files` (all or none), returning their UIDs.
    pub(super) fn add(&self, files: Vec<NewFile>) -> Result<Vec<NonZeroU32>, MailboxError> {
        self.recover()?;
        if files.is_empty() {
            self.state().usable()?;
            return Ok(Vec::new());
        }
        let slot = Arc::new(Slot::default());
        let mut uids = Vec::with_capacity(files.len());
        {
            let mut st = self.state();
            st.usable()?;
            let count = u32::try_from(files.len()).map_err(|_| MailboxError::UidsExhausted)?;
            if st.next_uid.checked_add(count).is_none() {
                return Err(MailboxError::UidsExhausted);
            }
            st.define_keywords(files.iter().map(|f| &f.flags))?;
            let cur = self.dir.join("cur");
            let mut placed: Vec<(PathBuf, Loc)> = Vec::with_capacity(files.len());
            for f in &files {
                let file = file_name_with(&f.name, "", f.flags.system);
                let target = cur.join(&file);
                if let Err(e) = fs::rename(&f.tmp, &target) {
                    // All or none: what was placed goes (it was never acknowledged).
                    for (path, _) in &placed {
                        let _ = fs::remove_file(path);
                    }
                    return Err(e.into());
                }
                placed.push((
                    target,
                    Loc {
                        in_cur: true,
                        file: file.into(),
                    },
                ));
            }
            for (f, (path, loc)) in files.into_iter().zip(placed) {
                let uid = st.next_uid;
                st.next_uid += 1;
                st.last_modseq += 1;
                let modseq = st.last_modseq;
                st.pending.push(Pending {
                    record: Record::Add(Entry {
                        uid,
                        modseq,
                        secs: f.secs,
                        zone: f.zone,
                        size: f.size,
                        flags: f.flags,
                        name: f.name.into(),
                    }),
                    loc: Some(loc),
                    sync: SYNC_CUR,
                    undo: Some(path),
                    skip: None,
                    slot: slot.clone(),
                });
                uids.extend(NonZeroU32::new(uid));
            }
        }
        self.commit(&slot)?;
        Ok(uids)
    }

    /// Indexes a file a delivery put in `new/` (already durable there); nothing when it is
    /// indexed already.
    pub(super) fn add_delivered(&self, file: &str) -> Result<(), MailboxError> {
        self.recover()?;
        let name = unique_name(file);
        let path = self.dir.join("new").join(file);
        let size = sent_size(&path, name)?;
        let slot = Arc::new(Slot::default());
        {
            let mut st = self.state();
            st.usable()?;
            let queued = st
                .pending
                .iter()
                .any(|p| matches!(&p.record, Record::Add(e) if &*e.name == name));
            if queued || st.writing.contains(name) || st.by_name.contains_key(name) {
                return Ok(());
            }
            let Some(next) = st.next_uid.checked_add(1) else {
                return Err(MailboxError::UidsExhausted);
            };
            let uid = st.next_uid;
            st.next_uid = next;
            st.last_modseq += 1;
            let modseq = st.last_modseq;
            st.pending.push(Pending {
                record: Record::Add(Entry {
                    uid,
                    modseq,
                    secs: now_secs(),
                    zone: 0,
                    size,
                    flags: Flags::default(),
                    name: name.into(),
                }),
                loc: Some(Loc {
                    in_cur: false,
                    file: file.into(),
                }),
                sync: 0,
                undo: None,
                skip: None,
                slot: slot.clone(),
            });
        }
        self.commit(&slot)
    }

    /// Changes flags (see `Selected::store`). `skip`: the session not to tell.
    pub(super) fn store(
        &self,
        uids: &[NonZeroU32],
        change: impl Fn(&Flags) -> Flags,
        unchanged_since: Option<NonZeroU64>,
        skip: Option<u64>,
    ) -> Result<Vec<super::Stored>, MailboxError> {
        use super::Stored;
        self.recover()?;
        let mut log = self.log();
        let slot = Arc::new(Slot::default());
        let mut out = Vec::with_capacity(uids.len());
        let mut any = false;
        {
            let mut st = self.state();
            st.usable()?;
            // The keywords this STORE would define, checked before anything is queued.
            let new_flags: Vec<Flags> = uids
                .iter()
                .filter_map(|uid| st.index.find(uid.get()))
                .filter_map(|at| st.index.entries.get(at))
                .map(|entry| change(&entry.flags))
                .collect();
            st.define_keywords(new_flags.iter())?;
            for &uid in uids {
                let Some(at) = st.index.find(uid.get()) else {
                    out.push(Stored::Gone(uid));
                    continue;
                };
                let entry = &st.index.entries[at];
                if unchanged_since.is_some_and(|since| entry.modseq > since.get()) {
                    out.push(Stored::Modified(uid));
                    continue;
                }
                let flags = change(&entry.flags);
                if flags == entry.flags {
                    out.push(Stored::Unchanged {
                        uid,
                        flags: flags.to_list(),
                        modseq: nz64(entry.modseq),
                    });
                    continue;
                }
                st.last_modseq += 1;
                let modseq = st.last_modseq;
                out.push(Stored::Changed {
                    uid,
                    flags: flags.to_list(),
                    modseq: nz64(modseq),
                });
                st.pending.push(Pending {
                    record: Record::Flags {
                        modseq,
                        uid: uid.get(),
                        flags,
                    },
                    loc: None,
                    sync: 0,
                    undo: None,
                    skip,
                    slot: slot.clone(),
                });
                any = true;
            }
        }
        if any {
            self.flush(&mut log);
            match slot.get() {
                Some(Ok(())) => {}
                Some(Err(e)) => return Err(io_err(&e)),
                None => return Err(io_err("the change was not committed")),
            }
        }
        Ok(out)
    }

    /// Expunges the messages `pick` chooses: unlink, fsync of the directories, then the
    /// records. Returns the UIDs expunged, ascending.
    pub(super) fn expunge(
        &self,
        pick: impl Fn(&Entry) -> bool,
    ) -> Result<Vec<NonZeroU32>, MailboxError> {
        self.recover()?;
        let mut log = self.log();
        self.expunge_locked(&mut log, pick, true)
    }

    /// [`Folder::expunge`] with the commit lock held; `unlink` false when the files were
    /// moved away already (RENAME INBOX).
    pub(super) fn expunge_locked(
        &self,
        log: &mut Log,
        pick: impl Fn(&Entry) -> bool,
        unlink: bool,
    ) -> Result<Vec<NonZeroU32>, MailboxError> {
        let slot = Arc::new(Slot::default());
        let mut done = Vec::new();
        let mut failure = None;
        {
            let mut st = self.state();
            st.usable()?;
            let chosen: Vec<(u32, Option<Loc>)> = st
                .index
                .entries
                .iter()
                .filter(|e| pick(e))
                .map(|e| (e.uid, st.files.get(&e.uid).cloned()))
                .collect();
            for (uid, loc) in chosen {
                let mut sync = 0;
                if let Some(loc) = loc.filter(|_| unlink) {
                    match fs::remove_file(loc.path(&self.dir)) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => {
                            failure = Some(e);
                            break;
                        }
                    }
                    sync = if loc.in_cur { SYNC_CUR } else { SYNC_NEW };
                }
                st.last_modseq += 1;
                let modseq = st.last_modseq;
                st.pending.push(Pending {
                    record: Record::Expunge { modseq, uid },
                    loc: None,
                    sync,
                    undo: None,
                    skip: None,
                    slot: slot.clone(),
                });
                done.extend(NonZeroU32::new(uid));
            }
        }
        if !done.is_empty() {
            self.flush(log);
            match slot.get() {
                Some(Ok(())) => {}
                Some(Err(e)) => return Err(io_err(&e)),
                None => return Err(io_err("the change was not committed")),
            }
        }
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(done),
        }
    }

    /// The UIDs of the messages with these unique names.
    pub(super) fn uids_of(&self, names: &[&str]) -> Vec<u32> {
        let st = self.state();
        names
            .iter()
            .filter_map(|n| st.by_name.get(*n).copied())
            .collect()
    }

    /// Where message `uid`'s file is now.
    pub(super) fn path_of(&self, uid: u32) -> Option<PathBuf> {
        self.state().files.get(&uid).map(|loc| loc.path(&self.dir))
    }

    /// Marks the folder deleted (or renamed away): every later operation fails.
    pub(super) fn set_gone(&self) {
        let _log = self.log();
        self.state().set_gone();
    }

    /// Gives the folder a new UIDVALIDITY (RENAME: the new name must not show a UIDVALIDITY
    /// used before for it), keeping its UIDs and flags, and marks this handle gone (the
    /// directory is about to move). The log is folded into the snapshot first, so a crash
    /// at any point leaves a snapshot and a log that agree.
    pub(super) fn revalidate(&self, maildir: &Path) -> Result<(), MailboxError> {
        self.recover()?;
        let mut log = self.log();
        self.flush(&mut log);
        let mut st = self.state();
        st.usable()?;
        self.compact(&st, &mut log)?;
        st.index.uid_validity = next_uid_validity(maildir)?;
        self.compact(&st, &mut log)?;
        st.set_gone();
        Ok(())
    }

    /// Holds the commit lock (for RENAME INBOX, which reads the index, moves the files,
    /// then expunges them).
    pub(super) fn lock_commit(&self) -> MutexGuard<'_, Log> {
        self.log()
    }
}

impl State {
    /// Defines the keywords of `flags` in the folder, all or none: refused when that would
    /// make more than [`MAX_KEYWORDS`].
    fn define_keywords<'f>(
        &mut self,
        flags: impl Iterator<Item = &'f Flags>,
    ) -> Result<(), MailboxError> {
        let mut new: HashSet<&Box<str>> = HashSet::new();
        for k in flags.flat_map(|f| f.keywords.iter()) {
            if !self.keywords.contains(k) {
                new.insert(k);
                if self.keywords.len() + new.len() > MAX_KEYWORDS {
                    return Err(MailboxError::TooManyKeywords);
                }
            }
        }
        for k in new {
            self.keywords.insert(k.clone());
        }
        Ok(())
    }

    /// Marks the folder gone (deleted or renamed away) and tells every session that has it
    /// selected ([`Interrupted::Gone`]).
    fn set_gone(&mut self) {
        self.gone = true;
        self.interrupt(Interrupted::Gone);
    }

    /// Ends the view of every session that has the folder selected, telling it `why`.
    fn interrupt(&mut self, why: Interrupted) {
        for queue in std::mem::take(&mut self.sessions)
            .iter()
            .filter_map(Weak::upgrade)
        {
            queue.interrupt(why);
        }
    }

    /// Whether `listed` (the message files of the folder's directories, read with no lock
    /// held) differs from what the state knows only by changes this process made meanwhile:
    /// a known file missing from the listing is still where the state says it is (placed,
    /// or renamed for its flags, during the listing), and a listed file the index does not
    /// know is an add being committed, or gone again (expunged during the listing). A file
    /// another program added, moved or removed gives `false` (reconcile); so does a known
    /// file missing from its place, which may be an expunge still being committed (the
    /// reconciliation waits for it under the commit lock).
    fn only_own_changes(&self, dir: &Path, listed: &HashMap<String, Loc>) -> bool {
        let exists = |loc: &Loc| fs::symlink_metadata(loc.path(dir)).is_ok();
        for entry in &self.index.entries {
            let Some(known) = self.files.get(&entry.uid) else {
                return false;
            };
            match listed.get(&*entry.name) {
                Some(loc) if loc == known => {}
                _ if exists(known) => {}
                _ => return false,
            }
        }
        if listed.len() <= self.index.entries.len() {
            // Every entry was found (above), and each listed name is one file: nothing new.
            let found = listed
                .keys()
                .filter(|name| self.by_name.contains_key(name.as_str()))
                .count();
            if found == listed.len() {
                return true;
            }
        }
        // The adds being committed, looked up once per listing (a MULTIAPPEND of a thousand
        // messages in flight must not make this a thousand times a thousand comparisons
        // under the state lock).
        let pending: HashSet<&str> = self
            .pending
            .iter()
            .filter_map(|p| match &p.record {
                Record::Add(e) => Some(&*e.name),
                _ => None,
            })
            .collect();
        let adding = |name: &str| self.writing.contains(name) || pending.contains(name);
        listed.iter().all(|(name, loc)| {
            self.by_name.contains_key(name.as_str()) || adding(name) || !exists(loc)
        })
    }

    /// Refuses work on a folder that is gone (deleted or renamed away).
    fn usable_unless_broken(&self) -> Result<(), MailboxError> {
        if self.gone {
            return Err(MailboxError::NoSuchMailbox);
        }
        Ok(())
    }

    /// Refuses work on a folder that is gone or broken.
    pub(super) fn usable(&self) -> Result<(), MailboxError> {
        self.usable_unless_broken()?;
        if let Some(e) = &self.broken {
            return Err(io_err(e));
        }
        Ok(())
    }

    /// Where the file of `uid` is.
    pub(super) fn loc(&self, uid: u32) -> Option<&Loc> {
        self.files.get(&uid)
    }

    /// Applies a durable record and announces it.
    fn apply(&mut self, dir: &Path, record: Record, loc: Option<Loc>, skip: Option<u64>) {
        let modseq = Some(nz64(record.modseq()));
        let change = match &record {
            Record::Add(entry) => {
                let Some(uid) = NonZeroU32::new(entry.uid) else {
                    return;
                };
                if let Some(loc) = loc {
                    self.files.insert(entry.uid, loc);
                }
                self.by_name.insert(entry.name.clone(), entry.uid);
                self.total_size += entry.size;
                Change::Added {
                    uid,
                    flags: entry.flags.to_list(),
                    modseq,
                }
            }
            Record::Flags { uid, flags, .. } => {
                let Some(nz) = NonZeroU32::new(*uid) else {
                    return;
                };
                // The index is durable: now mirror the system flags into the file name.
                if let Some(old) = self.files.get(uid).cloned() {
                    if flags_from_info(&old.file) != flags.system {
                        let name = unique_name(&old.file);
                        let file = file_name_with(name, &old.file, flags.system);
                        let new = Loc {
                            in_cur: true,
                            file: file.into(),
                        };
                        match fs::rename(old.path(dir), new.path(dir)) {
                            Ok(()) => {
                                self.files.insert(*uid, new);
                            }
                            Err(e) => warn!(
                                folder = %dir.display(),
                                error = %e,
                                "could not mirror flags into a file name (the index holds them)"
                            ),
                        }
                    }
                }
                Change::Flags {
                    uid: nz,
                    flags: flags.to_list(),
                    modseq,
                }
            }
            Record::Expunge { uid, .. } => {
                let Some(nz) = NonZeroU32::new(*uid) else {
                    return;
                };
                if let Some(at) = self.index.find(*uid) {
                    let entry = &self.index.entries[at];
                    self.total_size = self.total_size.saturating_sub(entry.size);
                    self.by_name.remove(&entry.name);
                }
                self.files.remove(uid);
                Change::Expunged { uid: nz, modseq }
            }
        };
        if let Err(bad) = self.index.apply(&record) {
            warn!(folder = %dir.display(), problem = %bad, "index record not applied");
            return;
        }
        self.sessions.retain(|w| w.strong_count() > 0);
        for queue in self.sessions.iter().filter_map(Weak::upgrade) {
            if Some(queue.id) != skip {
                queue.push(change.clone());
            }
        }
    }
}

/// Fails every record of `batch` with `message`, removing the files placed for them.
fn fail(batch: Vec<Pending>, message: &str) {
    for p in batch {
        if let Some(path) = &p.undo {
            let _ = fs::remove_file(path);
        }
        p.slot.set(Err(message.to_owned()));
    }
}

/// How a session that knows `old` is told `new` (the same folder read again from disk):
/// the messages expunged, added and with changed flags, or `None` when it cannot be told
/// (another UIDVALIDITY, a message of a known UID replaced or added below the known
/// UIDNEXT, or a mod-sequence that went backwards).
fn told_as_changes(old: &Index, new: &Index) -> Option<Vec<Change>> {
    if old.uid_validity != new.uid_validity || new.highest_modseq < old.highest_modseq {
        return None;
    }
    let expunged = Some(nz64(new.highest_modseq));
    let mut changes = Vec::new();
    let (mut a, mut b) = (old.entries.iter().peekable(), new.entries.iter().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(o), n) if n.is_none_or(|n| o.uid < n.uid) => {
                changes.push(Change::Expunged {
                    uid: NonZeroU32::new(o.uid)?,
                    modseq: expunged,
                });
                a.next();
            }
            (o, Some(n)) if o.is_none_or(|o| n.uid < o.uid) => {
                if n.uid < old.uid_next {
                    return None;
                }
                changes.push(Change::Added {
                    uid: NonZeroU32::new(n.uid)?,
                    flags: n.flags.to_list(),
                    modseq: Some(nz64(n.modseq)),
                });
                b.next();
            }
            (Some(o), Some(n)) => {
                if o.name != n.name || o.size != n.size || n.modseq < o.modseq {
                    return None;
                }
                if o.flags != n.flags {
                    if n.modseq == o.modseq {
                        return None;
                    }
                    changes.push(Change::Flags {
                        uid: NonZeroU32::new(n.uid)?,
                        flags: n.flags.to_list(),
                        modseq: Some(nz64(n.modseq)),
                    });
                }
                a.next();
                b.next();
            }
            // Unreachable: the arms above cover every pair.
            _ => return None,
        }
    }
    Some(changes)
}

/// The INTERNALDATE (the file's modification time) and RFC822.SIZE of a message file found
/// in a folder; `None` when it is gone already.
fn file_facts(dir: &Path, name: &str, loc: &Loc) -> io::Result<Option<(i64, u64)>> {
    let path = loc.path(dir);
    let meta = match fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let size = match sent_size(&path, name) {
        Ok(size) => size,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let secs = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
        .map_or_else(now_secs, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    Ok(Some((secs, size)))
}

/// The modification times of a folder's `new/` and `cur/`.
fn dir_stamp(dir: &Path) -> io::Result<(SystemTime, SystemTime)> {
    Ok((
        fs::metadata(dir.join("new"))?.modified()?,
        fs::metadata(dir.join("cur"))?.modified()?,
    ))
}

/// [`dir_stamp`] when it can be trusted: a directory's modification time is coarse (a clock
/// tick on Linux), so a change made in the same tick as a reading would leave it unchanged.
/// A reading taken more than [`STAMP_SETTLE`] after the last change is safe (any later
/// change gives a later time); a more recent one is `None`, and the next SELECT reads the
/// directories again.
fn settled_stamp(dir: &Path) -> io::Result<Option<(SystemTime, SystemTime)>> {
    let stamp = dir_stamp(dir)?;
    let settled = SystemTime::now()
        .duration_since(stamp.0.max(stamp.1))
        .is_ok_and(|age| age > STAMP_SETTLE);
    Ok(settled.then_some(stamp))
}

/// A mod-sequence as the API gives it (mod-sequences start at 1).
pub(super) fn nz64(modseq: u64) -> NonZeroU64 {
    NonZeroU64::new(modseq).unwrap_or(NonZeroU64::MIN)
}

fn read_optional(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The message files of a folder by unique name (a name in both places: the one in
/// `cur/`).
fn scan(dir: &Path) -> io::Result<HashMap<String, Loc>> {
    let mut files = HashMap::new();
    for (sub, in_cur) in [("new", false), ("cur", true)] {
        let entries = match fs::read_dir(dir.join(sub)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let Ok(file) = entry.file_name().into_string() else {
                continue;
            };
            if file.starts_with('.') {
                continue;
            }
            // On a file system without file types in its directory entries this is a `stat`,
            // and the listing runs beside this server's own renames (STORE) and unlinks
            // (EXPUNGE): a file gone meanwhile is not an error, just not there.
            match entry.file_type() {
                Ok(kind) if kind.is_file() => {}
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
            files.insert(
                unique_name(&file).to_owned(),
                Loc {
                    in_cur,
                    file: file.into(),
                },
            );
        }
    }
    Ok(files)
}

/// A UIDVALIDITY above every one issued before in the account: the account's counter
/// plus one, or the time in seconds if that is larger (so a lost counter file still gives
/// a value above the earlier ones), written durably before it is used.
pub(super) fn next_uid_validity(maildir: &Path) -> io::Result<u32> {
    let path = maildir.join(UIDVALIDITY_FILE);
    let last: u32 = match fs::read_to_string(&path) {
        Ok(text) => text.trim().parse().unwrap_or(0),
        Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e),
    };
    let now = u32::try_from(now_secs()).unwrap_or(u32::MAX - 1);
    let next = last.saturating_add(1).max(now).max(1);
    write_atomically(&path, format!("{next}\n").as_bytes())?;
    Ok(next)
}
