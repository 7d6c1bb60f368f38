//! The in-memory multi-mailbox store the server tests answer from: mailboxes of messages
//! (raw bytes, flags, internal date, mod-sequence, UID), sessions that register with it, and
//! the changes each session must hear about.
//!
//! The store knows nothing of IMAP sessions beyond their number: every mutation returns what
//! it did, and queues a [`Change`] for every *other* session that has the mailbox selected
//! (the session that made the change answers its own command, see `app.rs`), except for new
//! messages and expunges, which go to every session with the mailbox selected, the acting one
//! included: its view must count them too. [`Store::take_changes`] hands a session its queue.

use std::collections::BTreeMap;
use std::num::{NonZeroU32, NonZeroU64};

use bytes::Bytes;
use imap_proto::command::StoreKind;
use imap_proto::datetime::{Date, DateTime};
use imap_proto::flag::Flag;
use imap_proto::view::{Change, Snapshot};

/// A session's number in the store.
pub(crate) type SessionId = usize;

/// The internal date given to messages appended without one: the RFC 3501 sample's.
pub(crate) fn default_date() -> DateTime {
    DateTime::new(Date::new(1996, 7, 17).unwrap(), 2, 44, 25, -420).unwrap()
}

/// One message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    /// Its UID.
    pub(crate) uid: NonZeroU32,
    /// Its flags, without duplicates, in the order they were set.
    pub(crate) flags: Vec<Flag<'static>>,
    /// INTERNALDATE.
    pub(crate) internal_date: DateTime,
    /// The mod-sequence of its last change.
    pub(crate) modseq: NonZeroU64,
    /// The message as appended.
    pub(crate) raw: Bytes,
}

impl Message {
    /// Whether it has `flag` (keywords compared without case, RFC 3501 section 2.3.2).
    pub(crate) fn has_flag(&self, flag: &Flag<'_>) -> bool {
        self.flags.iter().any(|f| same_flag(f, flag))
    }
}

/// Whether two flags are the same flag (keywords and extensions compare without case).
pub(crate) fn same_flag(a: &Flag<'_>, b: &Flag<'_>) -> bool {
    match (a, b) {
        (Flag::Keyword(a), Flag::Keyword(b)) | (Flag::Extension(a), Flag::Extension(b)) => {
            a.as_str().eq_ignore_ascii_case(b.as_str())
        }
        _ => a == b,
    }
}

/// One mailbox.
#[derive(Debug, Clone)]
pub(crate) struct Folder {
    /// UIDVALIDITY.
    pub(crate) uid_validity: NonZeroU32,
    /// The next UID to assign.
    pub(crate) uid_next: NonZeroU32,
    /// The mod-sequence of the last change.
    pub(crate) highest_modseq: NonZeroU64,
    /// The messages, by ascending UID.
    pub(crate) messages: Vec<Message>,
    /// Whether the user subscribed to it.
    pub(crate) subscribed: bool,
    /// Messages from this UID on are `\Recent` for the next session that selects the
    /// mailbox (RFC 3501 section 2.3.2). `None` (the default): no message is recent, which
    /// IMAP4rev2 allows; [`Store::set_first_recent`] turns it on (the RFC 3501 sample).
    pub(crate) first_recent: Option<NonZeroU32>,
}

impl Folder {
    fn new(uid_validity: NonZeroU32) -> Folder {
        Folder {
            uid_validity,
            uid_next: NonZeroU32::MIN,
            highest_modseq: NonZeroU64::MIN,
            messages: Vec::new(),
            subscribed: false,
            first_recent: None,
        }
    }

    /// The message with `uid`.
    pub(crate) fn message(&self, uid: NonZeroU32) -> Option<&Message> {
        self.messages
            .binary_search_by_key(&uid, |m| m.uid)
            .ok()
            .and_then(|i| self.messages.get(i))
    }

    fn message_mut(&mut self, uid: NonZeroU32) -> Option<&mut Message> {
        let index = self.messages.binary_search_by_key(&uid, |m| m.uid).ok()?;
        self.messages.get_mut(index)
    }

    fn bump_modseq(&mut self) -> NonZeroU64 {
        self.highest_modseq = self.highest_modseq.saturating_add(1);
        self.highest_modseq
    }

    /// What a session selecting it knows.
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            uid_validity: self.uid_validity,
            uid_next: self.uid_next,
            highest_modseq: Some(self.highest_modseq),
            uids: self.messages.iter().map(|m| m.uid).collect(),
        }
    }
}

/// What [`Store::store_flags`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stored {
    /// The message's flags now.
    pub(crate) flags: Vec<Flag<'static>>,
    /// Its mod-sequence now.
    pub(crate) modseq: NonZeroU64,
    /// Whether the flags changed (else nobody was told).
    pub(crate) changed: bool,
}

/// Why the store refused an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreError {
    /// No mailbox of that name.
    NoMailbox,
    /// The mailbox exists already.
    Exists,
    /// INBOX cannot be deleted.
    Inbox,
    /// The UID space is used up.
    UidsExhausted,
}

#[derive(Debug, Default)]
struct Slot {
    /// The mailbox selected, if any.
    selected: Option<String>,
    /// Changes not yet handed to the session.
    changes: Vec<Change>,
    /// The messages of the selected mailbox recent to this session (RFC 3501 section
    /// 2.3.2): claimed at SELECT, and those it was the first to hear of since, ascending.
    recent: Vec<NonZeroU32>,
}

/// The store. See the [module docs](self).
#[derive(Debug)]
pub(crate) struct Store {
    folders: BTreeMap<String, Folder>,
    sessions: Vec<Slot>,
    next_uid_validity: u32,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl Store {
    /// A store with an empty INBOX (UIDVALIDITY 3857529045, the RFCs' sample value).
    pub(crate) fn new() -> Store {
        let mut store = Store {
            folders: BTreeMap::new(),
            sessions: Vec::new(),
            next_uid_validity: 3_857_529_045,
        };
        store.create("INBOX").unwrap();
        store
    }

    /// A new session's number.
    pub(crate) fn register(&mut self) -> SessionId {
        self.sessions.push(Slot::default());
        self.sessions.len() - 1
    }

    fn slot(&mut self, session: SessionId) -> &mut Slot {
        if session >= self.sessions.len() {
            self.sessions.resize_with(session + 1, Slot::default);
        }
        &mut self.sessions[session]
    }

    /// The canonical name: `INBOX` in any case is INBOX (RFC 3501 section 5.1).
    pub(crate) fn canonical(name: &str) -> String {
        if name.eq_ignore_ascii_case("INBOX") {
            "INBOX".to_owned()
        } else {
            name.to_owned()
        }
    }

    /// The mailbox `name`.
    pub(crate) fn folder(&self, name: &str) -> Option<&Folder> {
        self.folders.get(&Store::canonical(name))
    }

    /// Every mailbox name, in order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.folders.keys().map(String::as_str)
    }

    /// Creates `name`.
    pub(crate) fn create(&mut self, name: &str) -> Result<(), StoreError> {
        let name = Store::canonical(name);
        if self.folders.contains_key(&name) {
            return Err(StoreError::Exists);
        }
        let validity = NonZeroU32::new(self.next_uid_validity).ok_or(StoreError::UidsExhausted)?;
        self.next_uid_validity = self.next_uid_validity.wrapping_add(1).max(1);
        self.folders.insert(name, Folder::new(validity));
        Ok(())
    }

    /// Deletes `name`.
    pub(crate) fn delete(&mut self, name: &str) -> Result<(), StoreError> {
        let name = Store::canonical(name);
        if name == "INBOX" {
            return Err(StoreError::Inbox);
        }
        self.folders.remove(&name).ok_or(StoreError::NoMailbox)?;
        Ok(())
    }

    /// Renames `from` to `to` (a new UIDVALIDITY is not needed: the UIDs keep their meaning).
    pub(crate) fn rename(&mut self, from: &str, to: &str) -> Result<(), StoreError> {
        let (from, to) = (Store::canonical(from), Store::canonical(to));
        if self.folders.contains_key(&to) {
            return Err(StoreError::Exists);
        }
        let folder = self.folders.remove(&from).ok_or(StoreError::NoMailbox)?;
        self.folders.insert(to, folder);
        if from == "INBOX" {
            // RFC 3501 section 6.3.5: renaming INBOX moves its messages and leaves it empty.
            let validity =
                NonZeroU32::new(self.next_uid_validity).ok_or(StoreError::UidsExhausted)?;
            self.next_uid_validity = self.next_uid_validity.wrapping_add(1).max(1);
            self.folders.insert(from, Folder::new(validity));
        }
        Ok(())
    }

    /// Sets the subscription of `name` (which need not exist for UNSUBSCRIBE).
    pub(crate) fn subscribe(&mut self, name: &str, on: bool) -> Result<(), StoreError> {
        let folder = self
            .folders
            .get_mut(&Store::canonical(name))
            .ok_or(StoreError::NoMailbox)?;
        folder.subscribed = on;
        Ok(())
    }

    /// `session` selects `name`: its snapshot. `None` deselects.
    pub(crate) fn select(
        &mut self,
        session: SessionId,
        name: Option<&str>,
    ) -> Result<Snapshot, StoreError> {
        let name = name.map(Store::canonical);
        let snapshot = match &name {
            Some(name) => self
                .folders
                .get(name)
                .ok_or(StoreError::NoMailbox)?
                .snapshot(),
            None => Snapshot {
                uid_validity: NonZeroU32::MIN,
                uid_next: NonZeroU32::MIN,
                highest_modseq: None,
                uids: Vec::new(),
            },
        };
        let slot = self.slot(session);
        slot.selected = name;
        slot.changes.clear();
        slot.recent.clear();
        Ok(snapshot)
    }

    /// The messages of `name` that are `\Recent` for `session`, which selects it now: no
    /// later session sees them as recent (RFC 3501 section 2.3.2).
    pub(crate) fn claim_recent(&mut self, session: SessionId, name: &str) -> Vec<NonZeroU32> {
        let Some(folder) = self.folders.get_mut(&Store::canonical(name)) else {
            return Vec::new();
        };
        let Some(first) = folder.first_recent else {
            return Vec::new();
        };
        folder.first_recent = Some(folder.uid_next);
        let claimed: Vec<NonZeroU32> = folder
            .messages
            .iter()
            .map(|m| m.uid)
            .filter(|&uid| uid >= first)
            .collect();
        self.slot(session).recent = claimed.clone();
        claimed
    }

    /// The messages of its selected mailbox recent to `session`, ascending.
    pub(crate) fn recent(&self, session: SessionId) -> &[NonZeroU32] {
        self.sessions.get(session).map_or(&[], |s| &s.recent)
    }

    /// Messages of `name` from `uid` on are `\Recent` for the next session selecting it.
    pub(crate) fn set_first_recent(&mut self, name: &str, uid: NonZeroU32) {
        if let Some(folder) = self.folders.get_mut(&Store::canonical(name)) {
            folder.first_recent = Some(uid);
        }
    }

    /// The mailbox `session` has selected.
    pub(crate) fn selected(&self, session: SessionId) -> Option<&str> {
        self.sessions.get(session)?.selected.as_deref()
    }

    /// Whether changes wait for `session`.
    pub(crate) fn has_changes(&self, session: SessionId) -> bool {
        self.sessions
            .get(session)
            .is_some_and(|s| !s.changes.is_empty())
    }

    /// Hands `session` the changes queued for it.
    pub(crate) fn take_changes(&mut self, session: SessionId) -> Vec<Change> {
        std::mem::take(&mut self.slot(session).changes)
    }

    /// Queues `change` for the sessions with `name` selected, other than `except`.
    fn broadcast(&mut self, name: &str, except: Option<SessionId>, change: &Change) {
        for (id, slot) in self.sessions.iter_mut().enumerate() {
            if Some(id) != except && slot.selected.as_deref() == Some(name) {
                slot.changes.push(change.clone());
            }
        }
    }

    /// Appends a message to `name`: its UID. Every session with the mailbox selected hears.
    pub(crate) fn append(
        &mut self,
        name: &str,
        raw: Bytes,
        flags: Vec<Flag<'static>>,
        date: Option<DateTime>,
    ) -> Result<NonZeroU32, StoreError> {
        let name = Store::canonical(name);
        let folder = self.folders.get_mut(&name).ok_or(StoreError::NoMailbox)?;
        let uid = folder.uid_next;
        folder.uid_next = uid.checked_add(1).ok_or(StoreError::UidsExhausted)?;
        let modseq = folder.bump_modseq();
        let mut unique: Vec<Flag<'static>> = Vec::new();
        for flag in flags {
            if !unique.iter().any(|f| same_flag(f, &flag)) {
                unique.push(flag);
            }
        }
        folder.messages.push(Message {
            uid,
            flags: unique.clone(),
            internal_date: date.unwrap_or_else(default_date),
            modseq,
            raw,
        });
        // Recent to the first session with the mailbox selected, the one that hears of it
        // first (RFC 3501 section 2.3.2), when the mailbox tracks recent messages.
        if folder.first_recent.is_some() {
            if let Some(slot) = self
                .sessions
                .iter_mut()
                .find(|slot| slot.selected.as_deref() == Some(name.as_str()))
            {
                slot.recent.push(uid);
                folder.first_recent = Some(folder.uid_next);
            }
        }
        let change = Change::Added {
            uid,
            flags: unique,
            modseq: Some(modseq),
        };
        self.broadcast(&name, None, &change);
        Ok(uid)
    }

    /// Changes the flags of `uid` in `name` as STORE does: what it did, or `None` when the
    /// message is gone. Other sessions with the mailbox selected hear of an actual change,
    /// and `session` too when `notify_self`; `unchanged_since` refuses (returns
    /// `Err(current modseq)`) a message modified since.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn store_flags(
        &mut self,
        session: SessionId,
        name: &str,
        uid: NonZeroU32,
        kind: StoreKind,
        flags: &[Flag<'_>],
        unchanged_since: Option<u64>,
        notify_self: bool,
    ) -> Option<Result<Stored, NonZeroU64>> {
        let name = Store::canonical(name);
        let folder = self.folders.get_mut(&name)?;
        let current = folder.message(uid)?.modseq;
        if unchanged_since.is_some_and(|limit| current.get() > limit) {
            return Some(Err(current));
        }
        let message = folder.message_mut(uid)?;
        let mut new = message.flags.clone();
        match kind {
            StoreKind::Replace => {
                new.clear();
                for flag in flags {
                    if !new.iter().any(|f| same_flag(f, flag)) {
                        new.push(flag.clone().into_static());
                    }
                }
            }
            StoreKind::Add => {
                for flag in flags {
                    if !new.iter().any(|f| same_flag(f, flag)) {
                        new.push(flag.clone().into_static());
                    }
                }
            }
            StoreKind::Remove => new.retain(|f| !flags.iter().any(|g| same_flag(f, g))),
        }
        if new == message.flags {
            return Some(Ok(Stored {
                flags: new,
                modseq: message.modseq,
                changed: false,
            }));
        }
        let modseq = folder.bump_modseq();
        let message = folder.message_mut(uid)?;
        message.flags = new.clone();
        message.modseq = modseq;
        let change = Change::Flags {
            uid,
            flags: new.clone(),
            modseq: Some(modseq),
        };
        let except = if notify_self { None } else { Some(session) };
        self.broadcast(&name, except, &change);
        Some(Ok(Stored {
            flags: new,
            modseq,
            changed: true,
        }))
    }

    /// Removes the messages of `name` that have `\Deleted` and pass `filter`: their UIDs.
    /// Every session with the mailbox selected hears.
    pub(crate) fn expunge(
        &mut self,
        name: &str,
        filter: impl Fn(NonZeroU32) -> bool,
    ) -> Result<Vec<NonZeroU32>, StoreError> {
        let name = Store::canonical(name);
        let folder = self.folders.get_mut(&name).ok_or(StoreError::NoMailbox)?;
        let doomed: Vec<NonZeroU32> = folder
            .messages
            .iter()
            .filter(|m| m.has_flag(&Flag::Deleted) && filter(m.uid))
            .map(|m| m.uid)
            .collect();
        self.remove(&name, &doomed)?;
        Ok(doomed)
    }

    /// Removes `uids` from `name` (MOVE's second half). Every session with the mailbox
    /// selected hears.
    pub(crate) fn remove(&mut self, name: &str, uids: &[NonZeroU32]) -> Result<(), StoreError> {
        let name = Store::canonical(name);
        let folder = self.folders.get_mut(&name).ok_or(StoreError::NoMailbox)?;
        let mut changes = Vec::new();
        for &uid in uids {
            if let Ok(index) = folder.messages.binary_search_by_key(&uid, |m| m.uid) {
                folder.messages.remove(index);
                let modseq = folder.bump_modseq();
                changes.push(Change::Expunged {
                    uid,
                    modseq: Some(modseq),
                });
            }
        }
        for change in &changes {
            self.broadcast(&name, None, change);
        }
        Ok(())
    }

    /// Copies `uids` of `from` into `to`: the destination UIDs, in order.
    pub(crate) fn copy(
        &mut self,
        from: &str,
        uids: &[NonZeroU32],
        to: &str,
    ) -> Result<Vec<NonZeroU32>, StoreError> {
        let source = self.folder(from).ok_or(StoreError::NoMailbox)?;
        let messages: Vec<Message> = uids
            .iter()
            .filter_map(|&uid| source.message(uid).cloned())
            .collect();
        if self.folder(to).is_none() {
            return Err(StoreError::NoMailbox);
        }
        let mut new = Vec::with_capacity(messages.len());
        for message in messages {
            new.push(self.append(to, message.raw, message.flags, Some(message.internal_date))?);
        }
        Ok(new)
    }

    /// The number of sessions registered.
    pub(crate) fn sessions(&self) -> usize {
        self.sessions.len()
    }
}
