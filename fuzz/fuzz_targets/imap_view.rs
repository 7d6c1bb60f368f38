//! IMAP mailbox view: a snapshot, then arbitrary changes (valid and not, UIDs up to
//! 4294967295), announcements with arbitrary options, and sequence sets to resolve, into
//! `imap_proto::view::MailboxView`. Asserts: no panic; a refused change leaves the view as it
//! was, and the view refuses exactly the changes a naive model of the mailbox calls
//! inconsistent; `Overflow` exactly when the model's queue passes the bound, after which
//! nothing is announced; every announced response encodes and parses back, and applied to
//! the client's picture (EXPUNGE numbers, VANISHED UIDs, EXISTS, FETCH of a known message with
//! its current flags, UID and MODSEQ as asked) gives the view's map; after `Announce::All`
//! that map is the mailbox; `resolve` agrees with a naive filter.
#![no_main]

use std::collections::BTreeSet;
use std::num::{NonZeroU32, NonZeroU64};

use arbitrary::Arbitrary;
use imap_proto::Encode;
use imap_proto::fetch::MessageDataItem;
use imap_proto::flag::{Flag, FlagFetch};
use imap_proto::response::{Data, Response};
use imap_proto::sequence::{SeqOrUid, Sequence, SequenceSet};
use imap_proto::view::{
    Announce, AnnounceOptions, Change, MailboxView, ResolveError, Snapshot, ViewConfig, ViewError,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Case {
    /// The snapshot's UIDs, as gaps.
    gaps: Vec<u16>,
    /// The queue bound; `None` for none.
    max_pending: Option<u8>,
    ops: Vec<Op>,
}

#[derive(Arbitrary, Debug)]
enum Op {
    /// A new message `gap` above UIDNEXT.
    Add { gap: u8 },
    /// A new message at any UID.
    AddAt { uid: NonZeroU32 },
    /// An expunge of a message of the mailbox, or (`raw`) of any UID.
    Expunge { pick: u32, raw: bool },
    /// A flag change, of a message of the mailbox or (`raw`) of any UID.
    Flags {
        pick: u32,
        raw: bool,
        bits: u8,
        modseq: bool,
    },
    /// `announce`: everything or all but expunges; CONDSTORE, QRESYNC, UID by bit.
    Announce { all: bool, opts: u8 },
    /// `resolve` of a set of ranges (`None` is `*`), by number or UID.
    Resolve {
        by_uid: bool,
        ranges: Vec<(NonZeroU32, Option<NonZeroU32>)>,
    },
    /// The session answered a message's flags itself.
    FlagsSent { pick: u32 },
}

fn flag_set(bits: u8) -> Vec<Flag<'static>> {
    let all = [
        Flag::Seen,
        Flag::Answered,
        Flag::Flagged,
        Flag::Deleted,
        Flag::Draft,
        Flag::keyword("$Junk").unwrap(),
    ];
    all.into_iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, f)| f)
        .collect()
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

/// The mailbox (truth) and what the client knows.
struct Model {
    /// `(uid, flags, modseq of the last flag change)`, ascending.
    mailbox: Vec<(u32, Vec<Flag<'static>>, Option<u64>)>,
    /// What the client knows, in sequence number order.
    known: Vec<u32>,
    /// Known messages whose flags changed since the client was told.
    dirty: BTreeSet<u32>,
    uid_next: u64,
    modseq: u64,
    highest: u64,
}

impl Model {
    fn has(&self, uid: u32) -> bool {
        self.mailbox.iter().any(|m| m.0 == uid)
    }

    fn pick(&self, pick: u32, raw: bool) -> u32 {
        if raw || self.mailbox.is_empty() {
            (u64::from(pick) % (self.uid_next + 1)).max(1) as u32
        } else {
            self.mailbox[pick as usize % self.mailbox.len()].0
        }
    }

    fn truth(&self) -> BTreeSet<u32> {
        self.mailbox.iter().map(|m| m.0).collect()
    }

    fn pending(&self) -> usize {
        let truth = self.truth();
        let known: BTreeSet<u32> = self.known.iter().copied().collect();
        known.difference(&truth).count()
            + truth.difference(&known).count()
            + self.dirty.iter().filter(|u| truth.contains(u)).count()
    }
}

fn apply(model: &mut Model, out: &[Data<'static>], allow: Announce, opts: AnnounceOptions) {
    let mut client: Vec<Option<u32>> = model.known.iter().map(|&u| Some(u)).collect();
    let mut stage = 0;
    let mut fetched = BTreeSet::new();
    for data in out {
        let bytes = data.to_bytes();
        let parsed = Response::parse(&bytes).expect("announced data parses");
        assert_eq!(parsed.into_static(), Response::Data(data.clone()));
        match data {
            Data::Expunge(seq) => {
                assert!(allow == Announce::All && !opts.qresync && stage == 0);
                let i = seq.get() as usize - 1;
                assert!(i < client.len());
                let uid = client.remove(i).expect("EXPUNGE of a known message");
                assert!(!model.has(uid));
            }
            Data::Vanished { earlier, uids } => {
                assert!(allow == Announce::All && opts.qresync && stage == 0 && !earlier);
                let before = client.len();
                client.retain(|u| !uids.contains(u.unwrap(), u32::MAX));
                assert!(client.len() < before);
            }
            Data::Exists(n) => {
                assert!(stage == 0);
                stage = 1;
                assert!(*n as usize > client.len());
                client.resize(*n as usize, None);
            }
            Data::Fetch { seq, items } => {
                stage = 2;
                let uid = client[seq.get() as usize - 1].expect("FETCH of a known message");
                assert!(fetched.insert(uid));
                let (_, flags, modseq) = model.mailbox.iter().find(|m| m.0 == uid).unwrap();
                let mut want = vec![MessageDataItem::Flags(
                    flags.iter().cloned().map(FlagFetch::Flag).collect(),
                )];
                if opts.uid {
                    want.push(MessageDataItem::Uid(nz(uid)));
                }
                if let (true, Some(m)) = (opts.condstore, modseq) {
                    want.push(MessageDataItem::ModSeq(NonZeroU64::new(*m).unwrap()));
                }
                assert_eq!(items.to_vec(), want);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let truth = model.truth();
    let want: BTreeSet<u32> = model.dirty.iter().copied().filter(|u| truth.contains(u)).collect();
    assert_eq!(fetched, want);
    model.dirty.clear();
    let old: BTreeSet<u32> = model.known.iter().copied().collect();
    let mut new = truth.difference(&old).copied();
    model.known = client
        .into_iter()
        .map(|u| u.unwrap_or_else(|| new.next().unwrap()))
        .collect();
    assert_eq!(new.next(), None);
    if allow == Announce::All {
        assert_eq!(model.known, truth.into_iter().collect::<Vec<_>>());
    }
}

fn check(model: &Model, view: &MailboxView) {
    assert_eq!(view.exists() as usize, model.known.len());
    let uids: Vec<u32> = view.messages().map(|(_, u)| u.get()).collect();
    assert_eq!(uids, model.known);
    for (i, &uid) in model.known.iter().enumerate() {
        let seq = nz(i as u32 + 1);
        assert_eq!(view.seq(nz(uid)), Some(seq));
        assert_eq!(view.uid(seq), Some(nz(uid)));
        assert_eq!(view.is_expunged(nz(uid)), !model.has(uid));
    }
    assert_eq!(view.pending(), model.pending());
}

fn resolve(
    model: &Model,
    view: &MailboxView,
    by_uid: bool,
    ranges: &[(NonZeroU32, Option<NonZeroU32>)],
) {
    if ranges.is_empty() {
        return;
    }
    let set = SequenceSet::new(
        ranges
            .iter()
            .map(|&(a, b)| {
                let b = b.map_or(SeqOrUid::Asterisk, SeqOrUid::Value);
                Sequence::Range(SeqOrUid::Value(a), b)
            })
            .collect(),
    )
    .unwrap();
    let largest = if by_uid {
        model.known.last().copied().unwrap_or(0)
    } else {
        model.known.len() as u32
    };
    let ends: Vec<(u32, u32)> = ranges
        .iter()
        .map(|&(a, b)| {
            let b = b.map_or(largest, |b| b.get());
            (a.get().min(b), a.get().max(b))
        })
        .collect();
    let want = if !by_uid && ends.iter().any(|&(_, b)| b > largest) {
        Err(ResolveError::NoSuchMessage)
    } else {
        Ok(model
            .known
            .iter()
            .enumerate()
            .map(|(i, &u)| (nz(i as u32 + 1), nz(u)))
            .filter(|&(s, u)| {
                let n = if by_uid { u.get() } else { s.get() };
                ends.iter().any(|&(a, b)| a <= n && n <= b)
            })
            .collect::<Vec<_>>())
    };
    assert_eq!(view.resolve(&set, by_uid, None), want);
}

fuzz_target!(|case: Case| {
    let mut uid = 0u32;
    let mut uids = Vec::new();
    for gap in case.gaps.iter().take(2000) {
        match uid.checked_add(1 + u32::from(*gap)) {
            Some(u) if u < u32::MAX => {
                uid = u;
                uids.push(u);
            }
            _ => break,
        }
    }
    let max_pending = case.max_pending.map_or(usize::MAX, usize::from);
    let snapshot = Snapshot {
        uid_validity: nz(1),
        uid_next: nz(uid + 1),
        highest_modseq: NonZeroU64::new(1),
        uids: uids.iter().map(|&u| nz(u)).collect(),
    };
    let mut view = MailboxView::new(snapshot, ViewConfig::with_max_pending(max_pending)).unwrap();
    let mut model = Model {
        mailbox: uids.iter().map(|&u| (u, vec![], None)).collect(),
        known: uids,
        dirty: BTreeSet::new(),
        uid_next: u64::from(uid) + 1,
        modseq: 1,
        highest: 1,
    };
    for op in case.ops.into_iter().take(500) {
        let change = match op {
            Op::Add { gap } => {
                let uid = model.uid_next + u64::from(gap);
                let Ok(uid) = u32::try_from(uid) else {
                    continue;
                };
                Change::Added {
                    uid: nz(uid),
                    flags: vec![],
                    modseq: None,
                }
            }
            Op::AddAt { uid } => Change::Added {
                uid,
                flags: vec![Flag::Seen],
                modseq: None,
            },
            Op::Expunge { pick, raw } => {
                model.modseq += 1;
                Change::Expunged {
                    uid: nz(model.pick(pick, raw)),
                    modseq: NonZeroU64::new(model.modseq),
                }
            }
            Op::Flags {
                pick,
                raw,
                bits,
                modseq,
            } => {
                model.modseq += 1;
                Change::Flags {
                    uid: nz(model.pick(pick, raw)),
                    flags: flag_set(bits),
                    modseq: NonZeroU64::new(model.modseq).filter(|_| modseq),
                }
            }
            Op::Announce { all, opts } => {
                let allow = if all {
                    Announce::All
                } else {
                    Announce::NoExpunge
                };
                let opts = AnnounceOptions {
                    condstore: opts & 1 != 0,
                    qresync: opts & 2 != 0,
                    uid: opts & 4 != 0,
                };
                let mut out = Vec::new();
                view.announce(allow, opts, &mut out);
                apply(&mut model, &out, allow, opts);
                check(&model, &view);
                if model.known.iter().all(|&u| model.has(u)) {
                    assert_eq!(view.highest_modseq().map(|m| m.get()), Some(model.highest));
                    assert_eq!(u64::from(view.uid_next().get()), model.uid_next);
                }
                continue;
            }
            Op::Resolve { by_uid, ranges } => {
                resolve(&model, &view, by_uid, &ranges);
                continue;
            }
            Op::FlagsSent { pick } => {
                let uid = model.pick(pick, false);
                view.flags_sent(nz(uid));
                model.dirty.remove(&uid);
                check(&model, &view);
                continue;
            }
        };
        let before = format!("{view:?}");
        let result = view.push(change.clone());
        let expected = match &change {
            Change::Added { uid, .. } if u64::from(uid.get()) < model.uid_next => {
                Err(ViewError::AddedOutOfOrder {
                    uid: uid.get(),
                    last: (model.uid_next - 1) as u32,
                })
            }
            Change::Added { uid, .. } if uid.get() == u32::MAX => {
                Err(ViewError::UidSpaceExhausted { uid: uid.get() })
            }
            Change::Expunged { uid, .. } | Change::Flags { uid, .. } if !model.has(uid.get()) => {
                Err(ViewError::UnknownUid { uid: uid.get() })
            }
            _ => Ok(()),
        };
        if expected.is_err() {
            assert_eq!(result, expected);
            assert_eq!(format!("{view:?}"), before);
            continue;
        }
        match change {
            Change::Added { uid, flags, .. } => {
                model.mailbox.push((uid.get(), flags, None));
                model.uid_next = u64::from(uid.get()) + 1;
            }
            Change::Expunged { uid, modseq } => {
                model.mailbox.retain(|m| m.0 != uid.get());
                model.dirty.remove(&uid.get());
                model.highest = model.highest.max(modseq.unwrap().get());
            }
            Change::Flags { uid, flags, modseq } => {
                let m = model.mailbox.iter_mut().find(|m| m.0 == uid.get()).unwrap();
                m.1 = flags;
                m.2 = modseq.map(|m| m.get());
                if model.known.contains(&uid.get()) {
                    model.dirty.insert(uid.get());
                }
                if let Some(m) = modseq {
                    model.highest = model.highest.max(m.get());
                }
            }
        }
        if model.pending() > max_pending {
            assert_eq!(result, Err(ViewError::Overflow));
            assert!(view.is_overflowed());
            assert_eq!(view.pending(), 0);
            let mut out = Vec::new();
            view.announce(Announce::All, AnnounceOptions::default(), &mut out);
            assert!(out.is_empty());
            return;
        }
        assert_eq!(result, Ok(()));
        check(&model, &view);
    }
    let mut out = Vec::new();
    let opts = AnnounceOptions::default();
    view.announce(Announce::All, opts, &mut out);
    apply(&mut model, &out, Announce::All, opts);
    check(&model, &view);
});
