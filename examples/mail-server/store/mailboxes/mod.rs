//! IMAP mailboxes over the Maildirs: folders, the durable index (UIDVALIDITY, UIDNEXT, UIDs,
//! flags and keywords, MODSEQ) and the live changes every open session hears.
//!
//! SKELETON (issue 19, branch i19-base): the public API below is pinned; the bodies are
//! filled in by the store work. Nothing here is protocol syntax: the IMAP service
//! (`crate::imap`) turns these values into responses with imap-proto.
//!
//! ```text
//! <maildir>/{tmp,new,cur}                 INBOX (the account's Maildir, as SMTP and POP3 use it)
//! <maildir>/.<Sent>/{tmp,new,cur}         a folder (Maildir++), `/` the IMAP hierarchy delimiter
//! ```
//!
//! Every change goes through one in-process hub ([`Mailboxes`], kept in the [`Store`]) so
//! that SMTP delivery, POP3 and IMAP sessions see one consistent store: the hub writes the
//! change durably, then queues an [`imap_proto::view::Change`] for every [`Selected`] of the
//! folder and wakes it.

use std::io;
use std::num::{NonZeroU32, NonZeroU64};
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use imap_proto::command::StoreKind;
use imap_proto::datetime::DateTime;
use imap_proto::flag::Flag;
use imap_proto::view::{Change, Snapshot};

use super::Store;
use crate::accounts::Address;

/// The IMAP hierarchy delimiter of every account's folders.
pub const DELIMITER: char = '/';

/// The special-use folders created for every account (RFC 6154), with their names.
pub const SPECIAL_USE: [(&str, SpecialUse); 5] = [
    ("Sent", SpecialUse::Sent),
    ("Drafts", SpecialUse::Drafts),
    ("Trash", SpecialUse::Trash),
    ("Junk", SpecialUse::Junk),
    ("Archive", SpecialUse::Archive),
];

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

/// One message of an APPEND, written to `tmp/` as it streams in; nothing of it is visible
/// until [`Account::append`] commits it. Dropping it removes the file.
#[derive(Debug)]
pub struct NewMessage {
    _private: (),
}

impl NewMessage {
    /// Adds `bytes` to the message.
    ///
    /// # Errors
    ///
    /// The file system's.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let _ = bytes;
        Err(io::Error::other("skeleton"))
    }

    /// Octets written so far.
    pub fn size(&self) -> u64 {
        0
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

/// The session's queue overflowed: it missed changes and must end with `* BYE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many changes queued for this session")]
pub struct Overflowed;

/// The hub of every account's folders: one per [`Store`], shared by SMTP, POP3 and IMAP.
#[derive(Debug, Clone, Default)]
pub struct Mailboxes {
    _private: Arc<()>,
}

impl Store {
    /// The IMAP view of `account`'s mail: opens (creating on first use) its Maildir, its
    /// index and the special-use folders.
    ///
    /// # Errors
    ///
    /// The file system's.
    pub fn account(&self, account: &Address) -> Result<Account, MailboxError> {
        let _ = account;
        Err(MailboxError::Cannot("skeleton"))
    }
}

/// One account's folders; cheap to clone. Every method does blocking file I/O (run it
/// where blocking is allowed).
#[derive(Debug, Clone)]
pub struct Account {
    _private: Arc<()>,
}

impl Account {
    /// Every folder, INBOX first, then by name.
    ///
    /// # Errors
    ///
    /// The file system's.
    pub fn list(&self) -> Result<Vec<FolderInfo>, MailboxError> {
        Err(MailboxError::Cannot("skeleton"))
    }

    /// CREATE `name` (and any missing parents); a trailing delimiter is ignored.
    ///
    /// # Errors
    ///
    /// `AlreadyExists`, `BadName`, the file system's.
    pub fn create(&self, name: &str) -> Result<(), MailboxError> {
        let _ = name;
        Err(MailboxError::Cannot("skeleton"))
    }

    /// DELETE `name` with its messages (its children stay).
    ///
    /// # Errors
    ///
    /// `NoSuchMailbox`, `Cannot` for INBOX, the file system's.
    pub fn delete(&self, name: &str) -> Result<(), MailboxError> {
        let _ = name;
        Err(MailboxError::Cannot("skeleton"))
    }

    /// RENAME `from` to `to`, children with it; renaming INBOX moves its messages to `to`
    /// and leaves INBOX empty (RFC 3501 section 6.3.5).
    ///
    /// # Errors
    ///
    /// `NoSuchMailbox`, `AlreadyExists`, `BadName`, the file system's.
    pub fn rename(&self, from: &str, to: &str) -> Result<(), MailboxError> {
        let _ = (from, to);
        Err(MailboxError::Cannot("skeleton"))
    }

    /// SUBSCRIBE (`on`) or UNSUBSCRIBE `name` (which need not exist to unsubscribe).
    ///
    /// # Errors
    ///
    /// `NoSuchMailbox` when subscribing to a folder that does not exist, the file system's.
    pub fn subscribe(&self, name: &str, on: bool) -> Result<(), MailboxError> {
        let _ = (name, on);
        Err(MailboxError::Cannot("skeleton"))
    }

    /// The subscribed names (some may no longer exist, as LSUB shows them).
    ///
    /// # Errors
    ///
    /// The file system's.
    pub fn subscriptions(&self) -> Result<Vec<String>, MailboxError> {
        Err(MailboxError::Cannot("skeleton"))
    }

    /// STATUS of `name`.
    ///
    /// # Errors
    ///
    /// `NoSuchMailbox`, the file system's.
    pub fn status(&self, name: &str) -> Result<FolderStatus, MailboxError> {
        let _ = name;
        Err(MailboxError::Cannot("skeleton"))
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
        let _ = (name, read_only, max_pending);
        Err(MailboxError::Cannot("skeleton"))
    }

    /// A new message to stream an APPEND into (in the account's `tmp/`).
    ///
    /// # Errors
    ///
    /// The file system's.
    pub fn new_message(&self) -> Result<NewMessage, MailboxError> {
        Err(MailboxError::Cannot("skeleton"))
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
        let _ = (folder, messages);
        Err(MailboxError::Cannot("skeleton"))
    }
}

/// A folder selected by one session. Dropping it stops its changes.
#[derive(Debug)]
pub struct Selected {
    _private: (),
}

impl Selected {
    /// The folder's name.
    pub fn name(&self) -> &str {
        ""
    }

    /// Opened by EXAMINE.
    pub fn read_only(&self) -> bool {
        true
    }

    /// The folder when it was selected (the view starts from this).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            uid_validity: NonZeroU32::MIN,
            uid_next: NonZeroU32::MIN,
            highest_modseq: None,
            uids: Vec::new(),
        }
    }

    /// The flags defined in the folder: the system flags and every keyword in use.
    pub fn flags(&self) -> Vec<Flag<'static>> {
        Vec::new()
    }

    /// The special use of the folder.
    pub fn special_use(&self) -> Option<SpecialUse> {
        None
    }

    /// The UIDs `\Recent` to this session (claimed at select: no later session sees them
    /// as recent).
    pub fn recent(&self) -> &[NonZeroU32] {
        &[]
    }

    /// What the store knows of each of `uids` now (`None`: expunged), under one lock.
    pub fn metas(&self, uids: &[NonZeroU32]) -> Vec<Option<MessageMeta>> {
        uids.iter().map(|_| None).collect()
    }

    /// The octets of message `uid` as stored; `None` when it was expunged.
    ///
    /// # Errors
    ///
    /// The file system's.
    pub fn read(&self, uid: NonZeroU32) -> Result<Option<Bytes>, MailboxError> {
        let _ = uid;
        Err(MailboxError::Cannot("skeleton"))
    }

    /// The changes queued for this session since the last call, in order.
    ///
    /// # Errors
    ///
    /// [`Overflowed`] when more than `max_pending` queued.
    pub fn changes(&self) -> Result<Vec<Change>, Overflowed> {
        Ok(Vec::new())
    }

    /// Resolves when changes are queued for this session (at once if some already are).
    pub async fn changed(&self) {
        std::future::pending::<()>().await
    }

    /// STORE `flags` on `uids` (`unchanged_since`: CONDSTORE's UNCHANGEDSINCE), durably.
    /// The change is queued for every other session with the folder selected, and for this
    /// one too when `echo` (not `.SILENT`).
    ///
    /// # Errors
    ///
    /// `Cannot` when read-only, the file system's.
    pub fn store(
        &self,
        uids: &[NonZeroU32],
        kind: StoreKind,
        flags: &[Flag<'static>],
        unchanged_since: Option<NonZeroU64>,
        echo: bool,
    ) -> Result<Vec<Stored>, MailboxError> {
        let _ = (uids, kind, flags, unchanged_since, echo);
        Err(MailboxError::Cannot("skeleton"))
    }

    /// EXPUNGE the messages with `\Deleted` (only those among `uids` when given: UID
    /// EXPUNGE), durably; queued for every session with the folder selected, this one
    /// included. Returns the UIDs expunged.
    ///
    /// # Errors
    ///
    /// `Cannot` when read-only, the file system's.
    pub fn expunge(&self, uids: Option<&[NonZeroU32]>) -> Result<Vec<NonZeroU32>, MailboxError> {
        let _ = uids;
        Err(MailboxError::Cannot("skeleton"))
    }

    /// COPY `uids` to `to`, with their flags and INTERNALDATE.
    ///
    /// # Errors
    ///
    /// `NoSuchMailbox` (TRYCREATE), `OverQuota`, the file system's.
    pub fn copy(&self, uids: &[NonZeroU32], to: &str) -> Result<Copied, MailboxError> {
        let _ = (uids, to);
        Err(MailboxError::Cannot("skeleton"))
    }

    /// MOVE `uids` to `to`: copied, then expunged here (queued for every session, this one
    /// included).
    ///
    /// # Errors
    ///
    /// As [`Selected::copy`], and `Cannot` when read-only.
    pub fn move_to(&self, uids: &[NonZeroU32], to: &str) -> Result<Copied, MailboxError> {
        let _ = (uids, to);
        Err(MailboxError::Cannot("skeleton"))
    }
}
