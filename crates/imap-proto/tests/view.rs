//! The mailbox view from the outside: a property test of arbitrary change sequences and
//! announcements against a naive model of the mailbox and of what the client has been told
//! (the client's picture is rebuilt from the encoded responses), the queue bound, and the
//! memory figures quoted in `docs/imap.md` ("Mailbox view").

use std::collections::BTreeSet;
use std::num::{NonZeroU32, NonZeroU64};

use imap_proto::Encode;
use imap_proto::fetch::MessageDataItem;
use imap_proto::flag::{Flag, FlagFetch};
use imap_proto::response::{Data, Response};
use imap_proto::sequence::{SeqOrUid, Sequence, SequenceSet};
use imap_proto::view::{
    Announce, AnnounceOptions, Change, MailboxView, ResolveError, Snapshot, ViewConfig, ViewError,
};
use proptest::prelude::*;

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

/// The flags a change can set, by bit.
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

#[derive(Debug, Clone)]
enum Op {
    /// A new message `gap` above UIDNEXT.
    Add { gap: u8 },
    /// A new message at a UID below UIDNEXT (refused), or at 1 when UIDNEXT is 1.
    AddStale { pick: u32 },
    /// An expunge of a message of the mailbox (`raw` false) or of any small UID.
    Expunge { pick: u32, raw: bool },
    /// A flag change.
    Flags {
        pick: u32,
        raw: bool,
        bits: u8,
        modseq: bool,
    },
    /// `announce`, with options by bit.
    Announce { all: bool, opts: u8 },
    /// `resolve` of a random set.
    Resolve {
        by_uid: bool,
        ranges: Vec<(u32, u32, bool)>,
    },
    /// `resolve` of `$` with a saved result of these UIDs.
    ResolveSaved { by_uid: bool, saved: Vec<u32> },
    /// The session answered a message's flags itself.
    FlagsSent { pick: u32 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..4).prop_map(|gap| Op::Add { gap }),
        1 => any::<u32>().prop_map(|pick| Op::AddStale { pick }),
        4 => (any::<u32>(), prop::bool::weighted(0.2)).prop_map(|(pick, raw)| Op::Expunge { pick, raw }),
        4 => (any::<u32>(), prop::bool::weighted(0.2), any::<u8>(), any::<bool>())
            .prop_map(|(pick, raw, bits, modseq)| Op::Flags { pick, raw, bits, modseq }),
        3 => (any::<bool>(), any::<u8>()).prop_map(|(all, opts)| Op::Announce { all, opts }),
        1 => (any::<bool>(), prop::collection::vec((0u32..40, 0u32..40, any::<bool>()), 1..4))
            .prop_map(|(by_uid, ranges)| Op::Resolve { by_uid, ranges }),
        1 => (any::<bool>(), prop::collection::vec(1u32..60, 0..6))
            .prop_map(|(by_uid, saved)| Op::ResolveSaved { by_uid, saved }),
        1 => any::<u32>().prop_map(|pick| Op::FlagsSent { pick }),
    ]
}

/// The truth (the store's mailbox) and what the client knows, kept naively.
struct Model {
    /// The mailbox: `(uid, flags, modseq of the last flag change)`, ascending.
    mailbox: Vec<(u32, Vec<Flag<'static>>, Option<u64>)>,
    /// What the client knows, in sequence number order.
    known: Vec<u32>,
    /// Messages the client knows whose flags changed since it was last told.
    dirty: BTreeSet<u32>,
    uid_next: u32,
    modseq: u64,
    /// The highest mod-sequence of any change.
    highest: u64,
}

impl Model {
    fn has(&self, uid: u32) -> bool {
        self.mailbox.iter().any(|m| m.0 == uid)
    }

    fn pick(&self, pick: u32, raw: bool) -> u32 {
        if raw || self.mailbox.is_empty() {
            pick % (self.uid_next + 2) + 1
        } else {
            self.mailbox[pick as usize % self.mailbox.len()].0
        }
    }

    /// Changes queued: expunges the client has not been told, new messages it has not been
    /// told, flag changes of messages it knows.
    fn pending(&self) -> usize {
        let truth: BTreeSet<u32> = self.mailbox.iter().map(|m| m.0).collect();
        let known: BTreeSet<u32> = self.known.iter().copied().collect();
        known.difference(&truth).count()
            + truth.difference(&known).count()
            + self.dirty.iter().filter(|u| truth.contains(u)).count()
    }
}

/// The client's picture after the responses: `known` updated from the bytes (a new message's
/// UID is the mailbox's next one the client did not know), every response checked.
fn apply(model: &mut Model, out: &[Data<'static>], allow: Announce, opts: AnnounceOptions) {
    let mut client: Vec<Option<u32>> = model.known.iter().map(|&u| Some(u)).collect();
    let mut stage = 0;
    let mut fetched = BTreeSet::new();
    for data in out {
        // Each response survives the trip through the codec.
        let bytes = data.to_bytes();
        let parsed = Response::parse(&bytes).unwrap().into_static();
        assert_eq!(parsed, Response::Data(data.clone()));
        match data {
            Data::Expunge(seq) => {
                assert!(allow == Announce::All && !opts.qresync && stage == 0);
                let i = seq.get() as usize - 1;
                assert!(i < client.len(), "EXPUNGE {seq} of {}", client.len());
                let uid = client.remove(i).unwrap();
                assert!(!model.has(uid), "EXPUNGE of a live message");
            }
            Data::Vanished { earlier, uids } => {
                assert!(allow == Announce::All && opts.qresync && stage == 0 && !earlier);
                let before = client.len();
                client.retain(|u| !uids.contains(u.unwrap(), u32::MAX));
                assert!(client.len() < before);
            }
            Data::Exists(n) => {
                assert!(stage < 1);
                stage = 1;
                assert!(*n as usize > client.len());
                client.resize(*n as usize, None);
            }
            Data::Fetch { seq, items } => {
                stage = 2;
                let i = seq.get() as usize - 1;
                let uid = client[i].expect("FETCH only of messages the client knew");
                assert!(fetched.insert(uid), "one FETCH per message");
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
    let truth: BTreeSet<u32> = model.mailbox.iter().map(|m| m.0).collect();
    let want_fetched: BTreeSet<u32> = model
        .dirty
        .iter()
        .copied()
        .filter(|u| truth.contains(u))
        .collect();
    assert_eq!(fetched, want_fetched, "every flag change told once");
    model.dirty.clear();
    // The new messages are the mailbox's that the client did not know, in UID order.
    let old: BTreeSet<u32> = model.known.iter().copied().collect();
    let mut new = truth.difference(&old).copied();
    model.known = client
        .into_iter()
        .map(|u| u.unwrap_or_else(|| new.next().unwrap()))
        .collect();
    assert_eq!(new.next(), None, "every new message announced");
    if allow == Announce::All {
        assert_eq!(model.known, truth.iter().copied().collect::<Vec<_>>());
    }
}

/// The view agrees with the model.
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
    assert_eq!(view.uid(nz(model.known.len() as u32 + 1)), None);
    assert_eq!(view.pending(), model.pending());
    assert_eq!(view.has_pending(), model.pending() > 0);
}

fn resolve_naive(
    model: &Model,
    by_uid: bool,
    ranges: &[(u32, u32, bool)],
) -> Result<Vec<(u32, u32)>, ResolveError> {
    let largest = if by_uid {
        model.known.last().copied().unwrap_or(0)
    } else {
        model.known.len() as u32
    };
    let ends = |&(a, b, star): &(u32, u32, bool)| {
        let b = if star { largest } else { b + 1 };
        let a = a + 1;
        (a.min(b), a.max(b))
    };
    if !by_uid && ranges.iter().map(ends).any(|(_, b)| b > largest || b == 0) {
        return Err(ResolveError::NoSuchMessage);
    }
    Ok(model
        .known
        .iter()
        .enumerate()
        .map(|(i, &u)| (i as u32 + 1, u))
        .filter(|&(s, u)| {
            let n = if by_uid { u } else { s };
            ranges.iter().map(ends).any(|(a, b)| a <= n && n <= b)
        })
        .collect())
}

fn set_of(ranges: &[(u32, u32, bool)]) -> SequenceSet {
    let items = ranges
        .iter()
        .map(|&(a, b, star)| {
            let b = if star {
                SeqOrUid::Asterisk
            } else {
                SeqOrUid::Value(nz(b + 1))
            };
            Sequence::Range(SeqOrUid::Value(nz(a + 1)), b)
        })
        .collect();
    SequenceSet::new(items).unwrap()
}

fn run(gaps: Vec<u8>, max_pending: usize, ops: Vec<Op>) {
    let mut uid = 0u32;
    let uids: Vec<u32> = gaps
        .iter()
        .map(|&g| {
            uid += 1 + u32::from(g % 4);
            uid
        })
        .collect();
    let uid_next = uid + 1;
    let snapshot = Snapshot {
        uid_validity: nz(1),
        uid_next: nz(uid_next),
        highest_modseq: NonZeroU64::new(1),
        uids: uids.iter().map(|&u| nz(u)).collect(),
    };
    let mut view = MailboxView::new(snapshot, ViewConfig::with_max_pending(max_pending)).unwrap();
    let mut model = Model {
        mailbox: uids.iter().map(|&u| (u, vec![], None)).collect(),
        known: uids.clone(),
        dirty: BTreeSet::new(),
        uid_next,
        modseq: 1,
        highest: 1,
    };
    check(&model, &view);
    for op in ops {
        let (change, valid) = match op {
            Op::Add { gap } => {
                let uid = model.uid_next + u32::from(gap);
                (
                    Change::Added {
                        uid: nz(uid),
                        flags: vec![Flag::Seen],
                        modseq: None,
                    },
                    true,
                )
            }
            Op::AddStale { pick } => {
                let uid = pick % (model.uid_next - 1).max(1) + 1;
                let change = Change::Added {
                    uid: nz(uid),
                    flags: vec![],
                    modseq: None,
                };
                // Refused unless the mailbox never had a message (UIDNEXT 1).
                (change, uid >= model.uid_next)
            }
            Op::Expunge { pick, raw } => {
                let uid = model.pick(pick, raw);
                model.modseq += 1;
                let change = Change::Expunged {
                    uid: nz(uid),
                    modseq: NonZeroU64::new(model.modseq),
                };
                (change, model.has(uid))
            }
            Op::Flags {
                pick,
                raw,
                bits,
                modseq,
            } => {
                let uid = model.pick(pick, raw);
                model.modseq += 1;
                let change = Change::Flags {
                    uid: nz(uid),
                    flags: flag_set(bits),
                    modseq: NonZeroU64::new(model.modseq).filter(|_| modseq),
                };
                (change, model.has(uid))
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
                let truth: BTreeSet<u32> = model.mailbox.iter().map(|m| m.0).collect();
                if model.known.iter().all(|u| truth.contains(u)) {
                    assert_eq!(view.highest_modseq().map(|m| m.get()), Some(model.highest));
                    assert_eq!(view.uid_next().get(), model.uid_next);
                }
                continue;
            }
            Op::Resolve { by_uid, ranges } => {
                let got = view.resolve(&set_of(&ranges), by_uid, None);
                let want = resolve_naive(&model, by_uid, &ranges);
                let got = got.map(|v| {
                    v.into_iter()
                        .map(|(s, u)| (s.get(), u.get()))
                        .collect::<Vec<_>>()
                });
                assert_eq!(got, want, "{ranges:?} by_uid={by_uid}");
                continue;
            }
            Op::ResolveSaved { by_uid, saved } => {
                let uids: Vec<NonZeroU32> = saved.iter().map(|&u| nz(u)).collect();
                let got = view
                    .resolve(&SequenceSet::Saved, by_uid, Some(&uids))
                    .unwrap();
                let want: Vec<(NonZeroU32, NonZeroU32)> = model
                    .known
                    .iter()
                    .enumerate()
                    .filter(|(_, u)| saved.contains(u))
                    .map(|(i, &u)| (nz(i as u32 + 1), nz(u)))
                    .collect();
                assert_eq!(got, want, "$ = {saved:?}");
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
        if !valid {
            assert!(
                matches!(
                    result,
                    Err(ViewError::UnknownUid { .. } | ViewError::AddedOutOfOrder { .. })
                ),
                "{change:?} gave {result:?}"
            );
            assert_eq!(
                format!("{view:?}"),
                before,
                "a refused change changes nothing"
            );
            continue;
        }
        // Apply to the model, then see whether the queue fits.
        let shown = format!("{change:?}");
        match change {
            Change::Added { uid, .. } => {
                model.mailbox.push((uid.get(), vec![Flag::Seen], None));
                model.uid_next = uid.get() + 1;
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
        assert_eq!(result, Ok(()), "{shown}");
        check(&model, &view);
    }
    // At the end everything goes out, and the client's picture is the mailbox.
    let mut out = Vec::new();
    let opts = AnnounceOptions::default();
    view.announce(Announce::All, opts, &mut out);
    apply(&mut model, &out, Announce::All, opts);
    check(&model, &view);
    assert!(!view.has_pending());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary change sequences, valid and not, and announcements: no panic, refused
    /// changes leave the view alone, every response is valid for what the client knows,
    /// and after `Announce::All` the view's map is the mailbox.
    #[test]
    fn changes_and_announcements_follow_the_model(
        gaps in prop::collection::vec(any::<u8>(), 0..30),
        max_pending in prop_oneof![Just(usize::MAX), 0usize..12],
        ops in prop::collection::vec(op(), 0..120),
    ) {
        run(gaps, max_pending, ops);
    }
}

fn contiguous(n: u32) -> MailboxView {
    let snapshot = Snapshot {
        uid_validity: nz(1),
        uid_next: nz(n + 1),
        highest_modseq: None,
        uids: (1..=n).map(nz).collect(),
    };
    MailboxView::new(snapshot, ViewConfig::default()).unwrap()
}

/// The queue bound: once breached the view says so, keeps nothing, and later changes cost
/// nothing.
#[test]
fn a_breached_queue_stays_bounded() {
    let mut view = contiguous(100_000);
    let max = ViewConfig::default().max_pending;
    for uid in 1..=max as u32 {
        view.push(Change::Expunged {
            uid: nz(uid),
            modseq: None,
        })
        .unwrap();
    }
    assert_eq!(view.pending(), max);
    let full = view.heap_bytes();
    assert!(full <= max * 4 * 2 + 64, "{full}");
    // The next one breaches it.
    let uid = nz(max as u32 + 1);
    let flags = vec![Flag::Seen];
    assert_eq!(
        view.push(Change::Flags {
            uid,
            flags: flags.clone(),
            modseq: None
        }),
        Err(ViewError::Overflow)
    );
    assert!(view.is_overflowed());
    for uid in max as u32 + 1..=100_000 {
        let change = Change::Flags {
            uid: nz(uid),
            flags: flags.clone(),
            modseq: None,
        };
        assert_eq!(view.push(change), Err(ViewError::Overflow));
    }
    assert_eq!(view.pending(), 0);
    assert!(view.heap_bytes() <= 8, "{}", view.heap_bytes());
}

/// Memory of the map, quoted in docs/imap.md: one run for a mailbox without holes, 4 bytes a
/// message when every other UID is gone.
#[test]
fn map_memory_figures() {
    // The value itself (64-bit targets): a few words, whatever the mailbox.
    if cfg!(target_pointer_width = "64") {
        assert_eq!(std::mem::size_of::<MailboxView>(), 144);
    }
    let n = 100_000u32;
    let view = contiguous(n);
    assert_eq!(view.runs(), 1);
    assert_eq!(view.heap_bytes(), 8);

    let fragmented = Snapshot {
        uid_validity: nz(1),
        uid_next: nz(2 * n + 1),
        highest_modseq: None,
        uids: (1..=n).map(|i| nz(2 * i)).collect(),
    };
    let view = MailboxView::new(fragmented, ViewConfig::default()).unwrap();
    assert_eq!(view.runs(), n as usize);
    // Runs would cost 8 bytes a message: the UIDs are kept one by one instead.
    assert_eq!(view.heap_bytes(), 4 * n as usize);

    // Expunging every other message of a contiguous mailbox through the view.
    let mut view = contiguous(n);
    for uid in (1..=n).step_by(2).take(4096) {
        view.push(Change::Expunged {
            uid: nz(uid),
            modseq: None,
        })
        .unwrap();
    }
    let mut out = Vec::new();
    view.announce(Announce::All, AnnounceOptions::default(), &mut out);
    assert_eq!(out.len(), 4096);
    assert_eq!(out[0].to_bytes(), b"* 8191 EXPUNGE\r\n");
    assert_eq!(out[4095].to_bytes(), b"* 1 EXPUNGE\r\n");
    assert_eq!(view.exists(), n - 4096);
    assert_eq!(view.runs(), 4096);
    assert_eq!(view.heap_bytes(), 8 * 4096);
    assert_eq!(view.uid(nz(1)), Some(nz(2)));
    assert_eq!(view.seq(nz(8194)), Some(nz(4098)));
    assert_eq!(view.seq(nz(n)), Some(nz(n - 4096)));
}
