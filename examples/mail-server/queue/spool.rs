//! The queue on disk: message files and envelope records under `<data>/queue/`, written as
//! durably as a local delivery.
//!
//! ```text
//! <data>/queue/tmp/<id>        a message being received (removed if it is not acknowledged)
//! <data>/queue/msg/<id>        the message as received (trace header, then the data), CRLF
//! <data>/queue/env/<id>        its envelope record (envelope.rs), "sansmail-queue 1"
//! <data>/queue/corrupt/<id>.*  files set aside: an unknown version or a damaged record
//! ```
//!
//! Queuing a message ([`Spool::commit`]): fsync the file in `tmp/`, rename it into `msg/`,
//! fsync `msg/`, then write the envelope with write-tmp, fsync, rename, fsync of `env/`
//! ([`write_atomically`]); the `250` comes after that. The envelope is the commit point: a
//! message file without an envelope was never acknowledged (or was already finished) and is
//! removed at start, and so is the hidden temporary file of a state update a crash cut short.
//! Every later state change rewrites the envelope the same way, and a finished message loses
//! its envelope first, then its file.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tracing::{info, warn};

use super::envelope::{Envelope, EnvelopeError, valid_id};
use crate::store::maildir::{ensure_dir, sync_dir};
use crate::store::write_atomically;

/// Buffer between [`Spool::write`] and the file.
const WRITE_BUFFER: usize = 64 * 1024;

/// The most octets of an envelope file read back (a larger one is corrupt): room for
/// [`MAX_RECIPIENTS`](super::envelope::MAX_RECIPIENTS) lines of the longest fields.
pub const MAX_ENVELOPE: u64 = 4 * 1024 * 1024;

/// The size guard of the queue (`--max-queue-messages`, `--max-queue-size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    /// The most messages queued at once.
    pub max_messages: u64,
    /// The most octets of message files queued at once.
    pub max_bytes: u64,
}

impl Default for QueueLimits {
    fn default() -> Self {
        QueueLimits {
            max_messages: 10_000,
            max_bytes: 1 << 30,
        }
    }
}

/// The outbound queue under `<data>/queue`. Cheap to clone; clones share it.
#[derive(Debug, Clone)]
pub struct Queue {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    limits: QueueLimits,
    /// Messages and octets queued (committed or being committed).
    usage: Mutex<(u64, u64)>,
    /// Wakes the worker when a message is queued.
    wake: Notify,
    /// Messages committed whose session has not answered yet (id and size): the worker leaves
    /// them alone until [`Queue::confirm`], and [`Queue::withdraw`] takes them back.
    held: Mutex<HashMap<String, u64>>,
    /// Rewrites a submitted message file before it is queued (DKIM signing), see
    /// [`Queue::set_signer`].
    signer: std::sync::OnceLock<Signer>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("root", &self.root)
            .field("limits", &self.limits)
            .field("usage", &self.usage)
            .field("signer", &self.signer.get().is_some())
            .finish_non_exhaustive()
    }
}

/// A function that rewrites a closed message file in place (for example prepending
/// `DKIM-Signature:` fields, `dkim.rs`'s `sign_file_in_place`) and returns the octets it added.
pub type Signer = Box<dyn Fn(&Path) -> io::Result<u64> + Send + Sync>;

/// Why a message could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The queue is at `--max-queue-messages` or `--max-queue-size`.
    #[error("the queue is full")]
    Full,
    /// The file system failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// What reading one envelope gave.
#[derive(Debug)]
pub enum Entry {
    /// A valid envelope whose message file is there.
    Ready(Envelope),
    /// A file that could not be used: it has been moved to `corrupt/` (or could not be).
    SetAside {
        /// The queue id (the file name).
        id: String,
        /// What was wrong.
        reason: String,
    },
}

impl Queue {
    /// Opens (creating as needed) the queue under `data`; removes message files that have no
    /// envelope (never acknowledged; one whose envelope is in `corrupt/`, which a crash
    /// separated from it, joins it there), left-over `tmp/` files and the temporary files of
    /// envelope updates a crash cut short, sets aside unreadable envelopes (logged), and counts
    /// what is queued. Nothing else runs on the queue yet.
    pub fn open(data: &Path, limits: QueueLimits) -> io::Result<Queue> {
        let root = data.join("queue");
        for sub in ["tmp", "msg", "env", "corrupt"] {
            ensure_dir(&root.join(sub))?;
        }
        let queue = Queue {
            inner: Arc::new(Inner {
                root,
                limits,
                usage: Mutex::new((0, 0)),
                wake: Notify::new(),
                held: Mutex::new(HashMap::new()),
                signer: std::sync::OnceLock::new(),
            }),
        };
        for name in names(&queue.dir("tmp"))? {
            let _ = fs::remove_file(queue.dir("tmp").join(&name));
        }
        // A state update that a crash cut short leaves the hidden temporary file of
        // `write_atomically` (`.<id>.tmp.<pid>.<n>`) beside the envelopes.
        for name in stale_temporaries(&queue.dir("env"))? {
            info!(file = %name, "queue: removed the temporary file of an envelope update a crash cut short");
            let _ = fs::remove_file(queue.dir("env").join(&name));
        }
        let mut usage = (0, 0);
        let envelopes = names(&queue.dir("env"))?;
        for entry in queue.scan()? {
            if let Entry::Ready(envelope) = entry {
                usage.0 += 1;
                usage.1 += envelope.size;
            }
        }
        for name in names(&queue.dir("msg"))? {
            if envelopes.contains(&name) {
                continue;
            }
            let corrupt = queue.dir("corrupt");
            if corrupt.join(format!("{name}.env")).exists() {
                // A crash between set_aside's two renames: the message follows its envelope.
                let to = corrupt.join(format!("{name}.msg"));
                match fs::rename(queue.dir("msg").join(&name), &to) {
                    Ok(()) => {
                        warn!(id = %name, moved_to = %to.display(), "queue: the message of an envelope set aside before a crash was set aside too (not deleted)")
                    }
                    Err(e) => warn!(id = %name, error = %e, "queue: cannot set a file aside"),
                }
                sync_dir(&corrupt)?;
                continue;
            }
            info!(id = %name, "queue: removed a message file without an envelope (never acknowledged, or already finished)");
            let _ = fs::remove_file(queue.dir("msg").join(&name));
        }
        sync_dir(&queue.dir("msg"))?;
        *queue.usage() = usage;
        Ok(queue)
    }

    /// Reads the queue without changing it, for `--list-queue`: the envelopes that read, and
    /// the ids of those that do not with the reason. Does not create anything.
    pub fn list(data: &Path) -> io::Result<Vec<Result<Envelope, (String, String)>>> {
        let root = data.join("queue");
        let mut out = Vec::new();
        for id in names(&root.join("env"))? {
            let path = root.join("env").join(&id);
            out.push(match read_envelope(&path, &id) {
                Ok(envelope) => Ok(envelope),
                Err(reason) => Err((id, reason)),
            });
        }
        Ok(out)
    }

    fn dir(&self, sub: &str) -> PathBuf {
        self.inner.root.join(sub)
    }

    fn usage(&self) -> std::sync::MutexGuard<'_, (u64, u64)> {
        // A poisoned lock only means a panic elsewhere; the counts are still usable.
        self.inner.usage.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `<data>/queue`.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The message file of `id`.
    pub fn message_path(&self, id: &str) -> PathBuf {
        self.dir("msg").join(id)
    }

    /// Whether another message may be queued now (checked at RCPT; the commit checks again
    /// with the message's size).
    pub fn has_room(&self) -> bool {
        let (messages, bytes) = *self.usage();
        messages < self.inner.limits.max_messages && bytes < self.inner.limits.max_bytes
    }

    /// Messages and octets queued.
    pub fn counts(&self) -> (u64, u64) {
        *self.usage()
    }

    /// Counts a message of `size` octets in, unless that would pass a limit (`force`: counts
    /// it anyway, for the notifications the server makes itself).
    fn reserve(&self, size: u64, force: bool) -> bool {
        let mut usage = self.usage();
        let limits = self.inner.limits;
        let fits =
            usage.0 < limits.max_messages && usage.1.saturating_add(size) <= limits.max_bytes;
        if fits || force {
            usage.0 += 1;
            usage.1 = usage.1.saturating_add(size);
        }
        fits || force
    }

    fn release(&self, size: u64) {
        let mut usage = self.usage();
        usage.0 = usage.0.saturating_sub(1);
        usage.1 = usage.1.saturating_sub(size);
    }

    /// Sets the function every message a user submits goes through after its last octet and
    /// before it is queued (fsynced after it, so the `250` still follows a durable file; the
    /// size guard counts the octets it adds);
    /// notifications the server makes are not passed to it. Only the first call counts.
    pub fn set_signer(&self, signer: Signer) {
        let _ = self.inner.signer.set(signer);
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        self.inner.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the message `id` is committed but its session has not answered yet.
    pub fn is_held(&self, id: &str) -> bool {
        self.held().contains_key(id)
    }

    /// The session acknowledged the message `id`: the worker may take it, now.
    pub fn confirm(&self, id: &str) {
        self.held().remove(id);
        self.wake();
    }

    /// The session refused the message `id` after all (its local delivery failed): takes it
    /// out of the queue again.
    pub fn withdraw(&self, id: &str) {
        let Some(size) = self.held().get(id).copied() else {
            return;
        };
        // The files go first, and only then the hold: while it is held, the worker's scan
        // passes the message by, so it can never deliver what the client was refused.
        let _ = fs::remove_file(self.dir("env").join(id));
        let _ = sync_dir(&self.dir("env"));
        let _ = fs::remove_file(self.message_path(id));
        self.held().remove(id);
        self.release(size);
        info!(
            id,
            "queue: message withdrawn (the client was not told it was accepted)"
        );
    }

    /// Wakes the worker (a message was queued).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Waits for [`wake`](Self::wake) (one that came while nobody waited counts too).
    pub async fn woken(&self) {
        self.inner.wake.notified().await;
    }

    /// Starts a message with a fresh unique `id` (a store name). Write it with
    /// [`Spool::write`], then [`Spool::commit`] (dropping it aborts).
    pub fn spool(&self, id: &str) -> io::Result<Spool> {
        if !valid_id(id) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a queue id",
            ));
        }
        let tmp = self.dir("tmp").join(id);
        let file = create_private(&tmp)?;
        Ok(Spool {
            queue: self.clone(),
            id: id.to_owned(),
            tmp,
            file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
            size: 0,
            failed: false,
            done: false,
        })
    }

    /// Every envelope, read: the usable ones, and the others set aside into `corrupt/` with
    /// their message file (an unknown version, a damaged record, a missing message file), each
    /// reported in the log. Nothing is ever deleted here.
    pub fn scan(&self) -> io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        for id in names(&self.dir("env"))? {
            // Being committed or withdrawn by its session right now.
            if self.is_held(&id) {
                continue;
            }
            let path = self.dir("env").join(&id);
            match read_envelope(&path, &id) {
                Ok(envelope) if self.message_path(&id).is_file() => {
                    out.push(Entry::Ready(envelope))
                }
                // Finished (envelope, then message removed) between the read and the check.
                Ok(_) if !path.exists() => {}
                Ok(_) => {
                    let reason = "its message file is missing".to_owned();
                    self.set_aside(&id, &reason);
                    out.push(Entry::SetAside { id, reason });
                }
                // Vanished between the listing and the read: finished meanwhile.
                Err(reason) if !path.exists() => {
                    let _ = reason;
                }
                Err(reason) => {
                    self.set_aside(&id, &reason);
                    out.push(Entry::SetAside { id, reason });
                }
            }
        }
        Ok(out)
    }

    /// Moves the envelope and message of `id` into `corrupt/` (as `<id>.env` and `<id>.msg`)
    /// and logs why; they are kept for a person to look at, never deleted.
    fn set_aside(&self, id: &str, reason: &str) {
        let corrupt = self.dir("corrupt");
        let mut moved = Vec::new();
        for (sub, suffix) in [("env", "env"), ("msg", "msg")] {
            let from = self.dir(sub).join(id);
            if from.exists() {
                let to = corrupt.join(format!("{id}.{suffix}"));
                match fs::rename(&from, &to) {
                    Ok(()) => moved.push(to.display().to_string()),
                    Err(e) => warn!(id, error = %e, "queue: cannot set a file aside"),
                }
            }
        }
        let _ = sync_dir(&corrupt);
        let _ = sync_dir(&self.dir("env"));
        warn!(
            id,
            reason,
            moved_to = ?moved,
            "queue: an envelope could not be used and was set aside (not deleted)"
        );
    }

    /// Reads the envelope of `id` again (the worker's copy may be stale after a restart).
    pub fn load(&self, id: &str) -> Result<Envelope, String> {
        read_envelope(&self.dir("env").join(id), id)
    }

    /// Rewrites the envelope of a queued message (write-tmp, fsync, rename, fsync).
    pub fn save(&self, envelope: &Envelope) -> io::Result<()> {
        write_atomically(
            &self.dir("env").join(&envelope.id),
            envelope.encode().as_bytes(),
        )
    }

    /// Queues a message the server made itself (a notification) with its `envelope`: the
    /// size guard does not refuse it, since nobody could be told.
    pub fn enqueue(&self, envelope: &mut Envelope, message: &[u8]) -> io::Result<()> {
        let mut spool = self.spool(&envelope.id)?;
        spool.write(message)?;
        spool.commit_inner(envelope, true).map_err(|e| match e {
            SpoolError::Io(e) => e,
            SpoolError::Full => io::Error::other("the queue is full"),
        })
    }

    /// Takes a finished message out of the queue: its envelope first (the commit point), then
    /// its message file.
    pub fn remove(&self, envelope: &Envelope) -> io::Result<()> {
        fs::remove_file(self.dir("env").join(&envelope.id))?;
        sync_dir(&self.dir("env"))?;
        let _ = fs::remove_file(self.message_path(&envelope.id));
        self.release(envelope.size);
        Ok(())
    }
}

/// Creates a new file (failing if it exists), mode 0600 on unix.
fn create_private(path: &Path) -> io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// The file names in `dir`, sorted (hidden temporary files of [`write_atomically`] skipped).
fn names(dir: &Path) -> io::Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        if let Ok(name) = entry.file_name().into_string() {
            if !name.starts_with('.') && entry.file_type()?.is_file() {
                out.push(name);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The hidden temporary files [`write_atomically`] leaves in `dir` when a crash interrupts
/// it: `.<id>.tmp.<pid>.<n>` for a valid queue id.
fn stale_temporaries(dir: &Path) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let ours = name
            .strip_prefix('.')
            .and_then(|rest| rest.rsplit_once(".tmp."))
            .is_some_and(|(id, suffix)| {
                valid_id(id)
                    && suffix
                        .split_once('.')
                        .is_some_and(|(pid, n)| number(pid) && number(n))
            });
        if ours && entry.file_type()?.is_file() {
            out.push(name);
        }
    }
    Ok(out)
}

/// Whether `s` is a non-empty run of ASCII digits.
fn number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Reads and parses one envelope file; the error says why it cannot be used.
fn read_envelope(path: &Path, id: &str) -> Result<Envelope, String> {
    use std::io::Read;
    let file = File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
    let mut text = String::new();
    file.take(MAX_ENVELOPE + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if text.len() as u64 > MAX_ENVELOPE {
        return Err(format!("it is larger than {MAX_ENVELOPE} octets"));
    }
    let envelope = Envelope::parse(&text).map_err(|e: EnvelopeError| e.to_string())?;
    if envelope.id != id {
        return Err(format!("it names the id `{}`", envelope.id));
    }
    Ok(envelope)
}

/// One message on its way into the queue. Dropping it without [`commit`](Self::commit)
/// removes its file from `tmp/`.
#[derive(Debug)]
pub struct Spool {
    queue: Queue,
    id: String,
    tmp: PathBuf,
    file: Option<BufWriter<File>>,
    size: u64,
    failed: bool,
    done: bool,
}

impl Spool {
    /// Appends `bytes`. After an error the spool can only be dropped.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let file = match (&mut self.file, self.failed) {
            (Some(file), false) => file,
            _ => return Err(io::Error::other("an earlier write of this message failed")),
        };
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

    /// The octets written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The queue id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Makes the message durable in the queue with `envelope` (whose id and size are set
    /// here), and returns only when both are on disk: answer 250 after that. Refused with
    /// [`SpoolError::Full`] when the queue has no room for it.
    pub fn commit(mut self, envelope: &mut Envelope) -> Result<(), SpoolError> {
        envelope.id = self.id.clone();
        self.commit_inner(envelope, false)
    }

    fn commit_inner(&mut self, envelope: &mut Envelope, force: bool) -> Result<(), SpoolError> {
        if self.failed {
            return Err(io::Error::other("an earlier write of this message failed").into());
        }
        if !self.queue.reserve(self.size, force) {
            return Err(SpoolError::Full);
        }
        if !force {
            self.queue.held().insert(self.id.clone(), self.size);
        }
        let result = self.place(envelope, force);
        match result {
            Ok(()) => {
                self.done = true;
                Ok(())
            }
            Err(e) => {
                self.queue.held().remove(&self.id);
                self.queue.release(self.size);
                let _ = fs::remove_file(self.queue.message_path(&self.id));
                Err(e)
            }
        }
    }

    fn place(&mut self, envelope: &mut Envelope, force: bool) -> Result<(), SpoolError> {
        let file = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("the message file is closed"))?;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        match self.queue.inner.signer.get() {
            Some(sign) if !force => {
                drop(file);
                let added = sign(&self.tmp)?;
                // The rewritten file is a new one: fsync it through a fresh handle.
                File::open(&self.tmp)?.sync_all()?;
                // The size guard holds for the message as queued, signature included.
                {
                    let mut usage = self.queue.usage();
                    if usage.1.saturating_add(added) > self.queue.inner.limits.max_bytes {
                        return Err(SpoolError::Full);
                    }
                    usage.1 += added;
                }
                self.size += added;
                if let Some(size) = self.queue.held().get_mut(&self.id) {
                    *size += added;
                }
            }
            _ => {
                file.sync_all()?;
                drop(file);
            }
        }
        envelope.size = self.size;
        let target = self.queue.message_path(&self.id);
        fs::rename(&self.tmp, &target)?;
        sync_dir(&self.queue.dir("msg"))?;
        Ok(self.queue.save(envelope)?)
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if !self.done {
            self.file = None;
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The queue's messages by domain of their pending recipients, for the worker.
pub fn by_domain(envelope: &Envelope) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rcpt in envelope.pending() {
        out.entry(rcpt.domain().to_lowercase())
            .or_default()
            .push(rcpt.address.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::tests::TempDir;

    #[test]
    fn an_oversized_envelope_is_set_aside() {
        let dir = TempDir::new("queue-oversized");
        let queue = Queue::open(&dir.0, QueueLimits::default()).unwrap();
        let id = "1700000000.Q1P1Rbig";
        let mut text = String::from("sansmail-queue 1\n");
        while text.len() as u64 <= MAX_ENVELOPE {
            text.push_str("# padding padding padding padding padding padding padding\n");
        }
        fs::write(queue.dir("env").join(id), &text).unwrap();
        fs::write(queue.message_path(id), b"x").unwrap();
        let entries = queue.scan().unwrap();
        match &entries[..] {
            [Entry::SetAside { id: got, reason }] => {
                assert_eq!(got, id);
                assert!(reason.contains("larger than"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(queue.dir("corrupt").join(format!("{id}.env")).is_file());
        assert!(queue.dir("corrupt").join(format!("{id}.msg")).is_file());
    }

    #[test]
    fn a_signer_rewrites_submitted_messages_before_they_are_queued() {
        let dir = TempDir::new("queue-signer");
        let queue = Queue::open(&dir.0, QueueLimits::default()).unwrap();
        queue.set_signer(Box::new(|path: &Path| {
            let old = fs::read(path)?;
            fs::write(path, [&b"X-Signed: yes\r\n"[..], &old].concat())?;
            Ok(15)
        }));
        let mut spool = queue.spool("Q1").unwrap();
        spool.write(b"Subject: s\r\n\r\nbody\r\n").unwrap();
        let mut envelope = sample_envelope("Q1");
        spool.commit(&mut envelope).unwrap();
        assert_eq!(
            fs::read(queue.message_path("Q1")).unwrap(),
            b"X-Signed: yes\r\nSubject: s\r\n\r\nbody\r\n"
        );
        assert_eq!(envelope.size, 15 + 20);
        assert_eq!(queue.load("Q1").unwrap().size, 35);
        assert_eq!(queue.counts(), (1, 35));
        // The server's own notifications are not signed here.
        let mut bounce = sample_envelope("Q2");
        queue.enqueue(&mut bounce, b"Subject: b\r\n\r\n").unwrap();
        assert_eq!(
            fs::read(queue.message_path("Q2")).unwrap(),
            b"Subject: b\r\n\r\n"
        );
        // A signer that fails refuses the message, and nothing of it stays.
        let dir = TempDir::new("queue-signer-fails");
        let queue = Queue::open(&dir.0, QueueLimits::default()).unwrap();
        queue.set_signer(Box::new(|_: &Path| Err(io::Error::other("no key"))));
        let mut spool = queue.spool("Q3").unwrap();
        spool.write(b"Subject: s\r\n\r\n").unwrap();
        assert!(matches!(
            spool.commit(&mut sample_envelope("Q3")),
            Err(SpoolError::Io(_))
        ));
        assert_eq!(queue.counts(), (0, 0));
        assert!(!queue.is_held("Q3"));
        assert!(!queue.message_path("Q3").exists());
        assert!(queue.scan().unwrap().is_empty());
    }

    fn sample_envelope(id: &str) -> Envelope {
        Envelope {
            id: id.into(),
            arrival: std::time::UNIX_EPOCH,
            from: "a@b.example".into(),
            user: None,
            size: 0,
            smtputf8: false,
            eight_bit: false,
            attempts: 0,
            next_try: std::time::UNIX_EPOCH,
            warned: false,
            recipients: vec![super::super::envelope::Recipient::new("c@d.example".into())],
        }
    }

    #[test]
    fn the_size_guard_counts_messages_and_octets() {
        let dir = TempDir::new("queue-guard");
        let limits = QueueLimits {
            max_messages: 2,
            max_bytes: 100,
        };
        let queue = Queue::open(&dir.0, limits).unwrap();
        let envelope = sample_envelope;
        let queue_one = |id: &str, size: usize| {
            let mut spool = queue.spool(id).unwrap();
            spool.write(&vec![b'x'; size]).unwrap();
            let mut e = envelope(id);
            spool.commit(&mut e).map(|()| e)
        };
        let first = queue_one("Q1", 60).unwrap();
        queue.confirm("Q1");
        // 60 + 41 octets is over 100: refused, and nothing is left of it.
        assert!(matches!(queue_one("Q2", 41), Err(SpoolError::Full)));
        assert!(!queue.message_path("Q2").exists());
        assert!(!queue.dir("tmp").join("Q2").exists());
        queue_one("Q3", 40).unwrap();
        assert_eq!(queue.counts(), (2, 100));
        assert!(!queue.has_room());
        // Two messages: a third is refused whatever its size.
        assert!(matches!(queue_one("Q4", 0), Err(SpoolError::Full)));
        // Withdrawn and removed messages give their room back; the counts survive a reopen.
        queue.withdraw("Q3");
        assert_eq!(queue.counts(), (1, 60));
        let reopened = Queue::open(&dir.0, limits).unwrap();
        assert_eq!(reopened.counts(), (1, 60));
        queue.remove(&first).unwrap();
        assert_eq!(queue.counts(), (0, 0));
        assert!(queue.scan().unwrap().is_empty());
    }
    #[test]
    fn the_temporary_file_of_an_envelope_update_cut_short_by_a_crash_is_removed_at_start() {
        let dir = TempDir::new("queue-crashed-update");
        let queue = Queue::open(&dir.0, QueueLimits::default()).unwrap();
        let mut spool = queue.spool("Q1").unwrap();
        spool.write(b"Subject: s\r\n\r\nbody\r\n").unwrap();
        spool.commit(&mut sample_envelope("Q1")).unwrap();
        queue.confirm("Q1");
        // kill -9 during a state update (`save`, write-tmp then rename) leaves the half-written
        // temporary file of `write_atomically` beside the envelope: `.<id>.tmp.<pid>.<n>`.
        let stale = queue.dir("env").join(".Q1.tmp.4242.7");
        fs::write(&stale, "sansmail-queue 1\nid Q1\narriv").unwrap();
        // A hidden file that is no such temporary file is not ours to remove.
        let other = queue.dir("env").join(".keep");
        fs::write(&other, "x").unwrap();
        drop(queue);
        let queue = Queue::open(&dir.0, QueueLimits::default()).unwrap();
        assert!(
            !stale.exists(),
            "the crash's temporary file is left in env/"
        );
        assert!(other.exists());
        assert_eq!(queue.counts(), (1, 20));
        assert_eq!(queue.load("Q1").unwrap().recipients.len(), 1);
    }
    #[test]
    fn the_size_guard_counts_the_octets_the_signer_adds() {
        let dir = TempDir::new("queue-signer-guard");
        let limits = QueueLimits {
            max_messages: 10,
            max_bytes: 30,
        };
        let queue = Queue::open(&dir.0, limits).unwrap();
        queue.set_signer(Box::new(|path: &Path| {
            let old = fs::read(path)?;
            fs::write(path, [&b"X-Signed: yes\r\n"[..], &old].concat())?;
            Ok(15)
        }));
        // 20 octets fit in 30, but not once signed (35): refused, and nothing is left of it.
        let mut spool = queue.spool("Q1").unwrap();
        spool.write(&[b'x'; 20]).unwrap();
        assert!(matches!(
            spool.commit(&mut sample_envelope("Q1")),
            Err(SpoolError::Full)
        ));
        assert_eq!(queue.counts(), (0, 0));
        assert!(!queue.message_path("Q1").exists());
        assert!(!queue.is_held("Q1"));
        // 15 octets signed make 30: they fit.
        let mut spool = queue.spool("Q2").unwrap();
        spool.write(&[b'x'; 15]).unwrap();
        spool.commit(&mut sample_envelope("Q2")).unwrap();
        assert_eq!(queue.counts(), (1, 30));
    }
    #[test]
    fn a_message_whose_envelope_was_being_set_aside_by_a_crash_is_set_aside_too() {
        let dir = TempDir::new("queue-crashed-set-aside");
        let queue = Queue::open(&dir.0, QueueLimits::default()).unwrap();
        let id = "1700000000.Q1P1Rcorrupt";
        // What kill -9 between set_aside's two renames leaves: the damaged envelope already
        // in corrupt/, its message still in msg/.
        fs::write(
            queue.dir("corrupt").join(format!("{id}.env")),
            "sansmail-queue 9\n",
        )
        .unwrap();
        fs::write(queue.message_path(id), b"Subject: keep me\r\n\r\n").unwrap();
        drop(queue);
        let queue = Queue::open(&dir.0, QueueLimits::default()).unwrap();
        assert_eq!(
            fs::read(queue.dir("corrupt").join(format!("{id}.msg"))).ok(),
            Some(b"Subject: keep me\r\n\r\n".to_vec()),
            "the message of a set-aside envelope is deleted"
        );
        assert!(!queue.message_path(id).exists());
        assert_eq!(queue.counts(), (0, 0));
    }
}
