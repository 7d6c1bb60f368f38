//! The per-session view of the selected mailbox (sans-IO): the sequence number to UID map,
//! UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, and the changes other sessions made, queued until the
//! protocol allows them to be announced (RFC 3501 section 7.4.1, RFC 2180 section 4, RFC 9051
//! section 7.5.1, RFC 7162 section 3.2.10).
//!
//! A [`MailboxView`] holds what the CLIENT knows: the messages it has been told of, in
//! sequence number order. The application reports every change of the mailbox with
//! [`MailboxView::push`] as it happens; the session calls [`MailboxView::announce`] when the
//! protocol lets it send untagged data, with [`Announce::NoExpunge`] during FETCH, STORE and
//! SEARCH by sequence number (expunges wait, so that the client's sequence numbers stay
//! valid) and [`Announce::All`] at command completion, NOOP and IDLE.
//!
//! ```
//! use std::num::NonZeroU32;
//! use imap_proto::Encode;
//! use imap_proto::view::{Announce, AnnounceOptions, Change, MailboxView, Snapshot, ViewConfig};
//!
//! let nz = |n| NonZeroU32::new(n).unwrap();
//! let snapshot = Snapshot {
//!     uid_validity: nz(7),
//!     uid_next: nz(11),
//!     highest_modseq: None,
//!     uids: vec![nz(4), nz(5), nz(6), nz(10)],
//! };
//! let mut view = MailboxView::new(snapshot, ViewConfig::default()).unwrap();
//! assert_eq!(view.seq(nz(10)), Some(nz(4)));
//!
//! // Another session expunges UID 5 and delivers UID 11.
//! view.push(Change::Expunged { uid: nz(5), modseq: None }).unwrap();
//! view.push(Change::Added { uid: nz(11), flags: vec![], modseq: None }).unwrap();
//!
//! // During FETCH by sequence number: the new message, not the expunge.
//! let mut out = Vec::new();
//! view.announce(Announce::NoExpunge, AnnounceOptions::default(), &mut out);
//! assert_eq!(out.iter().map(|d| d.to_bytes()).collect::<Vec<_>>(), [b"* 5 EXISTS\r\n"]);
//! assert_eq!(view.seq(nz(5)), Some(nz(2)));
//!
//! // At its completion: the expunge.
//! out.clear();
//! view.announce(Announce::All, AnnounceOptions::default(), &mut out);
//! assert_eq!(out.iter().map(|d| d.to_bytes()).collect::<Vec<_>>(), [b"* 2 EXPUNGE\r\n"]);
//! assert_eq!(view.exists(), 4);
//! assert_eq!(view.seq(nz(11)), Some(nz(4)));
//! ```

mod map;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::num::{NonZeroU32, NonZeroU64};

use crate::fetch::{MessageDataItem, MsgAtt};
use crate::flag::{Flag, FlagFetch};
use crate::list::List;
use crate::response::Data;
use crate::sequence::{SeqOrUid, Sequence, SequenceSet, UidSet};

use map::UidMap;

/// The view's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewConfig {
    /// The most changes queued at once, counted after coalescing: each pending expunge, each
    /// message with pending flags, each pending new message is one. Default 4096, this
    /// crate's choice (no RFC sets a bound; a server that rereads its index at each
    /// announcement, as Dovecot does, holds no queue): a session that falls that far behind
    /// costs less to resynchronise (the client reconnects and, with QRESYNC, catches up in
    /// one SELECT) than to follow. The queue costs 4 bytes per pending expunge or new
    /// message, and a map entry with its flag list per message with pending flags.
    pub max_pending: usize,
}

impl Default for ViewConfig {
    fn default() -> Self {
        ViewConfig { max_pending: 4096 }
    }
}

impl ViewConfig {
    /// A configuration with this queue bound.
    pub fn with_max_pending(max_pending: usize) -> ViewConfig {
        ViewConfig { max_pending }
    }
}

/// What the application knows of a mailbox when it is selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// UIDVALIDITY.
    pub uid_validity: NonZeroU32,
    /// UIDNEXT: every UID in the mailbox is below it, every later new message at or above.
    pub uid_next: NonZeroU32,
    /// None when the mailbox has no mod-sequences (CONDSTORE off for it: NOMODSEQ).
    pub highest_modseq: Option<NonZeroU64>,
    /// UIDs of the messages, strictly ascending, each < uid_next.
    pub uids: Vec<NonZeroU32>,
}

/// A change made to the mailbox (by this session or another), as the store reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new message (UID > every UID the view knows and pending).
    Added {
        /// Its UID: at or above the view's UIDNEXT.
        uid: NonZeroU32,
        /// Its flags (the client fetches them; the view does not announce them).
        flags: Vec<Flag<'static>>,
        /// Its mod-sequence.
        modseq: Option<NonZeroU64>,
    },
    /// A message was expunged.
    Expunged {
        /// Its UID.
        uid: NonZeroU32,
        /// The mod-sequence of the expunge.
        modseq: Option<NonZeroU64>,
    },
    /// The message's flags are now exactly `flags`.
    Flags {
        /// Its UID.
        uid: NonZeroU32,
        /// Every flag it has now.
        flags: Vec<Flag<'static>>,
        /// Its new mod-sequence.
        modseq: Option<NonZeroU64>,
    },
}

/// What may be announced now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announce {
    /// Everything: at command completion (other than FETCH, STORE, SEARCH by sequence
    /// number), NOOP, IDLE, and during the UID forms of FETCH, STORE and SEARCH.
    All,
    /// Everything but expunges: during FETCH, STORE, SEARCH (and COPY, MOVE) by sequence
    /// number, and at their completion (RFC 3501 section 7.4.1, RFC 9051 section 7.5.1,
    /// RFC 2180 section 4.3).
    NoExpunge,
}

/// How [`MailboxView::announce`] writes its data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnnounceOptions {
    /// CONDSTORE is enabled: FETCH responses carry `MODSEQ (n)` (RFC 7162 section 3.2.4).
    pub condstore: bool,
    /// QRESYNC is enabled: expunges go out as `VANISHED` (RFC 7162 section 3.2.10).
    pub qresync: bool,
    /// The current command is a UID command: FETCH responses carry `UID n` (RFC 9051
    /// section 7.5.2 requires it in unsolicited FETCH responses during UID commands).
    pub uid: bool,
}

/// Inconsistent input from the application, or a queue past its bound. The view is left as it
/// was, except after [`ViewError::Overflow`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ViewError {
    /// The snapshot's UIDs are not strictly ascending at this index.
    #[error("snapshot UIDs are not strictly ascending at index {index}")]
    NotAscending {
        /// The index of the first UID not above its predecessor.
        index: usize,
    },
    /// A snapshot UID is not below the snapshot's UIDNEXT.
    #[error("UID {uid} is not below UIDNEXT")]
    UidNotBelowNext {
        /// The UID.
        uid: u32,
    },
    /// A new message's UID is not above every UID the view knows of.
    #[error("new message UID {uid} is not above {last}, the highest UID already assigned")]
    AddedOutOfOrder {
        /// The new message's UID.
        uid: u32,
        /// The highest UID that may already have been assigned (UIDNEXT - 1).
        last: u32,
    },
    /// A new message took UID 4294967295: no UIDNEXT can follow it; the mailbox needs a new
    /// UIDVALIDITY (RFC 9051 section 2.3.1.1).
    #[error("new message UID {uid} leaves no UIDNEXT")]
    UidSpaceExhausted {
        /// The UID.
        uid: u32,
    },
    /// A mod-sequence above 2^63 - 1, the largest `mod-sequence-value` (RFC 7162 section 7).
    #[error("mod-sequence {modseq} is above 2^63 - 1")]
    ModSeqOutOfRange {
        /// The mod-sequence.
        modseq: u64,
    },
    /// An expunge or flag change of a UID the view has no message for (never known, or
    /// already expunged).
    #[error("no message with UID {uid} in the view")]
    UnknownUid {
        /// The UID.
        uid: u32,
    },
    /// More than `max_pending` changes are queued: the session must end with BYE (the
    /// client resynchronises when it reconnects).
    #[error("too many changes queued for the session")]
    Overflow,
}

/// Why a sequence set names no messages that could be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// A sequence number above the number of messages (or any message number in an empty
    /// mailbox): the caller answers BAD (RFC 9051 section 9, `seq-number`).
    #[error("no such message")]
    NoSuchMessage,
}

/// Flags waiting to be announced for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PendingFlags {
    flags: Vec<Flag<'static>>,
    modseq: Option<NonZeroU64>,
}

/// The most ranges one `VANISHED` response carries; more go out as several responses, so that
/// no line grows without bound.
pub const VANISHED_RANGES_PER_LINE: usize = 500;

/// The per-session view of the selected mailbox: what the client knows, and the changes
/// queued until they may be announced. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct MailboxView {
    uid_validity: NonZeroU32,
    /// UIDNEXT as announced.
    uid_next: NonZeroU32,
    /// UIDNEXT with the pending new messages.
    next_uid: NonZeroU32,
    /// HIGHESTMODSEQ as announced (everything up to it has been told).
    highest_modseq: Option<NonZeroU64>,
    /// HIGHESTMODSEQ with the pending changes.
    current_modseq: Option<NonZeroU64>,
    /// The messages the client knows, in sequence number order, including those whose
    /// expunge is pending.
    map: UidMap,
    /// Expunged messages still in `map`, ascending.
    expunged: Vec<u32>,
    /// New messages not announced yet, ascending, all above `map`.
    added: Vec<u32>,
    /// Flag changes of messages in `map` and not expunged.
    flags: BTreeMap<u32, PendingFlags>,
    max_pending: usize,
    overflowed: bool,
}

impl MailboxView {
    /// The view of a freshly selected mailbox. Refused when the snapshot's UIDs are not
    /// strictly ascending or not below its UIDNEXT.
    pub fn new(snapshot: Snapshot, config: ViewConfig) -> Result<Self, ViewError> {
        check_modseq(snapshot.highest_modseq)?;
        let mut last = 0u32;
        for (index, uid) in snapshot.uids.iter().enumerate() {
            if index > 0 && uid.get() <= last {
                return Err(ViewError::NotAscending { index });
            }
            if *uid >= snapshot.uid_next {
                return Err(ViewError::UidNotBelowNext { uid: uid.get() });
            }
            last = uid.get();
        }
        Ok(MailboxView {
            uid_validity: snapshot.uid_validity,
            uid_next: snapshot.uid_next,
            next_uid: snapshot.uid_next,
            highest_modseq: snapshot.highest_modseq,
            current_modseq: snapshot.highest_modseq,
            map: UidMap::from_ascending(snapshot.uids.iter().map(|u| u.get())),
            expunged: Vec::new(),
            added: Vec::new(),
            flags: BTreeMap::new(),
            max_pending: config.max_pending,
            overflowed: false,
        })
    }

    /// The number of messages as the CLIENT knows it (announced; messages whose expunge is
    /// pending count).
    pub fn exists(&self) -> u32 {
        self.map.len()
    }

    /// UIDVALIDITY.
    pub fn uid_validity(&self) -> NonZeroU32 {
        self.uid_validity
    }

    /// UIDNEXT as of the last announcement: above every message the client was told of, and
    /// above those added and expunged before it could be (the snapshot's until then).
    pub fn uid_next(&self) -> NonZeroU32 {
        self.uid_next
    }

    /// HIGHESTMODSEQ as announced: every change up to it has been announced. None when the
    /// mailbox has no mod-sequences.
    pub fn highest_modseq(&self) -> Option<NonZeroU64> {
        self.highest_modseq
    }

    /// The UID of sequence number `seq`, as the client knows it.
    pub fn uid(&self, seq: NonZeroU32) -> Option<NonZeroU32> {
        self.map.uid(seq.get()).and_then(NonZeroU32::new)
    }

    /// The sequence number of `uid`; None for unknown or not yet announced. A message whose
    /// expunge is pending keeps its number until the expunge is announced (RFC 2180 section
    /// 4.1).
    pub fn seq(&self, uid: NonZeroU32) -> Option<NonZeroU32> {
        self.map.seq(uid.get()).and_then(NonZeroU32::new)
    }

    /// Whether `uid` is expunged but the client not yet told: the message still has its
    /// sequence number, and the application answers for it as RFC 2180 section 4.1 lets it
    /// (FETCH of what it still has, or NO).
    pub fn is_expunged(&self, uid: NonZeroU32) -> bool {
        self.expunged.binary_search(&uid.get()).is_ok()
    }

    /// The largest UID the client knows of.
    pub fn largest_uid(&self) -> Option<NonZeroU32> {
        self.map.last_uid().and_then(NonZeroU32::new)
    }

    /// Every message the client knows, `(seq, uid)` in ascending order (SEARCH looks at all
    /// of them).
    pub fn messages(&self) -> impl Iterator<Item = (NonZeroU32, NonZeroU32)> + '_ {
        self.map.ranges().flat_map(|(seq, uids)| {
            let first = *uids.start();
            uids.filter_map(move |uid| {
                Some((NonZeroU32::new(seq + (uid - first))?, NonZeroU32::new(uid)?))
            })
        })
    }

    /// Messages a set names, in ascending order. By sequence number: `*` is exists(); a
    /// number above exists() is Err(ResolveError::NoSuchMessage) (the caller answers BAD).
    /// `$` is the saved result (SEARCHRES, RFC 5182): `saved` holds its UIDs, and the
    /// messages among them that the view still maps are named (by sequence number or UID
    /// alike); `None` is the empty result a session starts with (RFC 5182 section 2.1). By
    /// UID: `*` is the largest UID; UIDs not in the view are skipped (RFC 9051 section
    /// 6.4.9); an empty mailbox gives an empty list.
    pub fn resolve(
        &self,
        set: &SequenceSet,
        by_uid: bool,
        saved: Option<&[NonZeroU32]>,
    ) -> Result<Vec<(NonZeroU32, NonZeroU32)>, ResolveError> {
        let mut out: Vec<(u32, u32)> = Vec::new();
        let SequenceSet::Set(items) = set else {
            let mut uids: Vec<u32> = saved.unwrap_or_default().iter().map(|u| u.get()).collect();
            uids.sort_unstable();
            uids.dedup();
            out.extend(
                uids.into_iter()
                    .filter_map(|uid| Some((self.map.seq(uid)?, uid))),
            );
            return Ok(to_nonzero(out));
        };
        let largest = if by_uid {
            self.map.last_uid().unwrap_or(0)
        } else {
            self.map.len()
        };
        let mut ranges: Vec<(u32, u32)> = Vec::with_capacity(items.len());
        for item in items.iter() {
            let range = item.resolve(largest);
            let (low, high) = (*range.start(), *range.end());
            if !by_uid && (high > largest || low == 0) {
                return Err(ResolveError::NoSuchMessage);
            }
            ranges.push((low.max(1), high));
        }
        ranges.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
        for (low, high) in ranges {
            match merged.last_mut() {
                Some(last) if u64::from(low) <= u64::from(last.1) + 1 => last.1 = last.1.max(high),
                _ => merged.push((low, high)),
            }
        }
        for (low, high) in merged {
            if by_uid {
                self.map.collect_uid_range(low, high, &mut out);
            } else {
                self.map.collect_seq_range(low, high, &mut out);
            }
        }
        Ok(to_nonzero(out))
    }

    /// The number of changes queued (after coalescing).
    pub fn pending(&self) -> usize {
        self.expunged.len() + self.added.len() + self.flags.len()
    }

    /// Queues a change (coalescing: later flags of a UID replace earlier; flags of a UID
    /// that is then expunged are dropped; a message added and expunged before it was ever
    /// announced vanishes without a trace, EXISTS never counting it; flags of a message not
    /// yet announced are not announced, the client fetches them).
    /// Err on inconsistent input (the view is unchanged); Err(Overflow) once the queue is
    /// past max_pending: the view is then `is_overflowed()` and the session must end.
    pub fn push(&mut self, change: Change) -> Result<(), ViewError> {
        if self.overflowed {
            return Err(ViewError::Overflow);
        }
        let (Change::Added { modseq, .. }
        | Change::Expunged { modseq, .. }
        | Change::Flags { modseq, .. }) = &change;
        check_modseq(*modseq)?;
        match change {
            Change::Added { uid, modseq, .. } => {
                let uid = uid.get();
                if uid < self.next_uid.get() {
                    return Err(ViewError::AddedOutOfOrder {
                        uid,
                        last: self.next_uid.get() - 1,
                    });
                }
                let next = uid
                    .checked_add(1)
                    .and_then(NonZeroU32::new)
                    .ok_or(ViewError::UidSpaceExhausted { uid })?;
                self.grow(1)?;
                self.added.push(uid);
                self.next_uid = next;
                self.note_modseq(modseq);
            }
            Change::Expunged { uid, modseq } => {
                let uid = uid.get();
                if let Ok(i) = self.added.binary_search(&uid) {
                    self.added.remove(i);
                } else {
                    let at = self.expunge_slot(uid)?;
                    if !self.flags.contains_key(&uid) {
                        self.grow(1)?;
                    }
                    self.flags.remove(&uid);
                    self.expunged.insert(at, uid);
                }
                self.note_modseq(modseq);
            }
            Change::Flags { uid, flags, modseq } => {
                let raw = uid.get();
                if self.added.binary_search(&raw).is_err() {
                    self.expunge_slot(raw)?;
                    if !self.flags.contains_key(&raw) {
                        self.grow(1)?;
                    }
                    self.flags.insert(raw, PendingFlags { flags, modseq });
                }
                self.note_modseq(modseq);
            }
        }
        Ok(())
    }

    /// Where `uid`, a message the client knows and not expunged, would go in `expunged`.
    fn expunge_slot(&self, uid: u32) -> Result<usize, ViewError> {
        if self.map.seq(uid).is_none() {
            return Err(ViewError::UnknownUid { uid });
        }
        match self.expunged.binary_search(&uid) {
            Ok(_) => Err(ViewError::UnknownUid { uid }),
            Err(at) => Ok(at),
        }
    }

    /// Room for `n` more queued changes, or overflow.
    fn grow(&mut self, n: usize) -> Result<(), ViewError> {
        if self.pending() + n > self.max_pending {
            self.overflowed = true;
            self.expunged = Vec::new();
            self.added = Vec::new();
            self.flags = BTreeMap::new();
            return Err(ViewError::Overflow);
        }
        Ok(())
    }

    fn note_modseq(&mut self, modseq: Option<NonZeroU64>) {
        if let (Some(current), Some(m)) = (self.current_modseq, modseq) {
            self.current_modseq = Some(current.max(m));
        }
    }

    /// The session sent `uid`'s current flags itself (in its answer to FETCH or STORE):
    /// drops the flag update queued for it, so that the client is not told twice. Nothing
    /// happens for a message without one.
    pub fn flags_sent(&mut self, uid: NonZeroU32) {
        self.flags.remove(&uid.get());
    }

    /// Whether the queue passed `max_pending`: the view no longer follows the mailbox (the
    /// changes that did not fit were dropped, and so was the queue), announces nothing, and
    /// the session must end with BYE.
    pub fn is_overflowed(&self) -> bool {
        self.overflowed
    }

    /// Whether changes wait to be announced.
    pub fn has_pending(&self) -> bool {
        self.pending() > 0
    }

    /// Whether an expunge waits to be announced (which [`Announce::NoExpunge`] holds back).
    pub fn has_pending_expunge(&self) -> bool {
        !self.expunged.is_empty()
    }

    /// Flushes what `allow` permits as untagged data, in a correct order (EXPUNGE or
    /// VANISHED first, highest sequence number first for EXPUNGE so that numbers stay valid;
    /// then EXISTS; then FETCH (FLAGS, plus UID when `uid` — RFC 9051 mandates UID in
    /// unsolicited FETCH after UID commands — plus MODSEQ when condstore)), updating the map.
    /// With `qresync` expunges go out as `VANISHED` with a coalesced UID set (several
    /// responses when it has more than [`VANISHED_RANGES_PER_LINE`] ranges). Nothing once
    /// overflowed.
    pub fn announce(
        &mut self,
        allow: Announce,
        opts: AnnounceOptions,
        out: &mut Vec<Data<'static>>,
    ) {
        if self.overflowed {
            return;
        }
        if allow == Announce::All && !self.expunged.is_empty() {
            let expunged = std::mem::take(&mut self.expunged);
            if opts.qresync {
                vanished(&expunged, out);
            } else {
                for &uid in expunged.iter().rev() {
                    if let Some(seq) = self.map.seq(uid).and_then(NonZeroU32::new) {
                        out.push(Data::Expunge(seq));
                    }
                }
            }
            self.map.remove_sorted(&expunged);
        }
        if !self.added.is_empty() {
            for uid in std::mem::take(&mut self.added) {
                self.map.push(uid);
            }
            self.map.trim();
            out.push(Data::Exists(self.map.len()));
        }
        // Past the new messages, and past those that came and went unannounced.
        self.uid_next = self.next_uid;
        for (uid, pending) in std::mem::take(&mut self.flags) {
            let (Some(seq), Some(nz_uid)) = (
                self.map.seq(uid).and_then(NonZeroU32::new),
                NonZeroU32::new(uid),
            ) else {
                continue;
            };
            let mut items = MsgAtt::new();
            let flags: List<FlagFetch<'static>, 2> =
                pending.flags.into_iter().map(FlagFetch::Flag).collect();
            items.push(MessageDataItem::Flags(flags));
            if opts.uid {
                items.push(MessageDataItem::Uid(nz_uid));
            }
            if let (true, Some(modseq)) = (opts.condstore, pending.modseq) {
                items.push(MessageDataItem::ModSeq(modseq));
            }
            out.push(Data::Fetch { seq, items });
        }
        if self.expunged.is_empty() {
            self.highest_modseq = self.current_modseq;
        }
    }

    /// Heap bytes the view holds: the map's runs and the queues (flag lists counted by their
    /// `Vec`s, not the keyword names they point to). For memory budgets and the figures in
    /// `docs/imap.md`.
    pub fn heap_bytes(&self) -> usize {
        let flag_entry = std::mem::size_of::<(u32, PendingFlags)>() + 8;
        self.map.heap_bytes()
            + self.expunged.capacity() * 4
            + self.added.capacity() * 4
            + self
                .flags
                .values()
                .map(|p| flag_entry + p.flags.capacity() * std::mem::size_of::<Flag<'static>>())
                .sum::<usize>()
    }

    /// The number of runs of consecutive UIDs the map holds (one for a mailbox without
    /// holes).
    pub fn runs(&self) -> usize {
        self.map.runs()
    }
}

/// The largest `mod-sequence-value` (RFC 7162 section 7).
const MAX_MODSEQ: u64 = (1 << 63) - 1;

fn check_modseq(modseq: Option<NonZeroU64>) -> Result<(), ViewError> {
    match modseq {
        Some(m) if m.get() > MAX_MODSEQ => Err(ViewError::ModSeqOutOfRange { modseq: m.get() }),
        _ => Ok(()),
    }
}

fn to_nonzero(pairs: Vec<(u32, u32)>) -> Vec<(NonZeroU32, NonZeroU32)> {
    pairs
        .into_iter()
        .filter_map(|(s, u)| Some((NonZeroU32::new(s)?, NonZeroU32::new(u)?)))
        .collect()
}

/// `* VANISHED uids` for these UIDs (ascending), ranges coalesced.
fn vanished(uids: &[u32], out: &mut Vec<Data<'static>>) {
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for &uid in uids {
        match ranges.last_mut() {
            Some(last) if u64::from(last.1) + 1 == u64::from(uid) => last.1 = uid,
            _ => ranges.push((uid, uid)),
        }
    }
    for chunk in ranges.chunks(VANISHED_RANGES_PER_LINE) {
        let items: List<Sequence> = chunk
            .iter()
            .filter_map(|&(a, b)| {
                let a = SeqOrUid::Value(NonZeroU32::new(a)?);
                let b = SeqOrUid::Value(NonZeroU32::new(b)?);
                Some(if a == b {
                    Sequence::Single(a)
                } else {
                    Sequence::Range(a, b)
                })
            })
            .collect();
        if let Ok(uids) = SequenceSet::new(items).and_then(UidSet::new) {
            out.push(Data::Vanished {
                earlier: false,
                uids,
            });
        }
    }
}
