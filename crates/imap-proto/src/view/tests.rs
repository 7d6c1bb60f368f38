use super::*;
use crate::Encode;

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn nz64(n: u64) -> NonZeroU64 {
    NonZeroU64::new(n).unwrap()
}

fn view(uids: &[u32], uid_next: u32, max_pending: usize) -> MailboxView {
    let snapshot = Snapshot {
        uid_validity: nz(42),
        uid_next: nz(uid_next),
        highest_modseq: Some(nz64(100)),
        uids: uids.iter().map(|&u| nz(u)).collect(),
    };
    MailboxView::new(snapshot, ViewConfig::with_max_pending(max_pending)).unwrap()
}

fn wire(view: &mut MailboxView, allow: Announce, opts: AnnounceOptions) -> String {
    let mut out = Vec::new();
    view.announce(allow, opts, &mut out);
    out.iter()
        .map(|d| String::from_utf8(d.to_bytes()).unwrap())
        .collect()
}

fn all(view: &mut MailboxView) -> String {
    wire(view, Announce::All, AnnounceOptions::default())
}

fn expunged(uid: u32) -> Change {
    Change::Expunged {
        uid: nz(uid),
        modseq: None,
    }
}

fn added(uid: u32) -> Change {
    Change::Added {
        uid: nz(uid),
        flags: vec![],
        modseq: None,
    }
}

fn flags(uid: u32, flags: Vec<Flag<'static>>, modseq: Option<u64>) -> Change {
    Change::Flags {
        uid: nz(uid),
        flags,
        modseq: modseq.map(nz64),
    }
}

fn set(s: &str) -> SequenceSet {
    s.parse().unwrap()
}

fn pairs(v: &[(u32, u32)]) -> Vec<(NonZeroU32, NonZeroU32)> {
    v.iter().map(|&(s, u)| (nz(s), nz(u))).collect()
}

#[test]
fn snapshot_is_checked() {
    let snap = |uids: &[u32], next: u32| Snapshot {
        uid_validity: nz(1),
        uid_next: nz(next),
        highest_modseq: None,
        uids: uids.iter().map(|&u| nz(u)).collect(),
    };
    let new = |s| MailboxView::new(s, ViewConfig::default()).map(|_| ());
    assert_eq!(
        new(snap(&[1, 3, 3], 9)),
        Err(ViewError::NotAscending { index: 2 })
    );
    assert_eq!(
        new(snap(&[5, 4], 9)),
        Err(ViewError::NotAscending { index: 1 })
    );
    assert_eq!(
        new(snap(&[1, 9], 9)),
        Err(ViewError::UidNotBelowNext { uid: 9 })
    );
    assert_eq!(new(snap(&[], 1)), Ok(()));
    let v = view(&[2, 4], 5, 10);
    assert_eq!(v.exists(), 2);
    assert_eq!(v.uid_validity(), nz(42));
    assert_eq!(v.uid_next(), nz(5));
    assert_eq!(v.highest_modseq(), Some(nz64(100)));
    assert_eq!(v.uid(nz(2)), Some(nz(4)));
    assert_eq!(v.seq(nz(4)), Some(nz(2)));
    assert_eq!(v.seq(nz(3)), None);
    assert_eq!(v.largest_uid(), Some(nz(4)));
    assert_eq!(v.messages().collect::<Vec<_>>(), pairs(&[(1, 2), (2, 4)]));
    assert_eq!(ViewConfig::default().max_pending, 4096);
}

#[test]
fn expunges_go_out_highest_sequence_number_first() {
    let mut v = view(&[1, 2, 3, 4, 5, 6], 7, 10);
    v.push(expunged(2)).unwrap();
    v.push(expunged(5)).unwrap();
    v.push(expunged(3)).unwrap();
    assert_eq!(all(&mut v), "* 5 EXPUNGE\r\n* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n");
    assert_eq!(v.exists(), 3);
    assert_eq!(v.uid(nz(2)), Some(nz(4)));
    assert!(!v.has_pending());
    assert_eq!(all(&mut v), "");
}

#[test]
fn no_expunge_holds_expunges_and_keeps_numbers() {
    let mut v = view(&[10, 20, 30], 31, 10);
    v.push(expunged(20)).unwrap();
    v.push(flags(30, vec![Flag::Seen], None)).unwrap();
    v.push(added(40)).unwrap();
    assert!(v.is_expunged(nz(20)));
    assert_eq!(
        wire(&mut v, Announce::NoExpunge, AnnounceOptions::default()),
        "* 4 EXISTS\r\n* 3 FETCH (FLAGS (\\Seen))\r\n"
    );
    // The expunged message keeps its number; the new one follows it.
    assert_eq!(v.seq(nz(20)), Some(nz(2)));
    assert_eq!(v.seq(nz(40)), Some(nz(4)));
    assert_eq!(v.uid_next(), nz(41));
    assert!(v.has_pending() && v.has_pending_expunge());
    assert_eq!(
        v.resolve(&set("2"), false, None).unwrap(),
        pairs(&[(2, 20)])
    );
    assert_eq!(all(&mut v), "* 2 EXPUNGE\r\n");
    assert!(!v.is_expunged(nz(20)));
    assert_eq!(v.seq(nz(20)), None);
    assert_eq!(v.seq(nz(40)), Some(nz(3)));
}

#[test]
fn qresync_sends_one_vanished_with_ranges() {
    let mut v = view(&(1..=20).collect::<Vec<_>>(), 21, 100);
    for uid in [3, 4, 5, 6, 9, 15, 16] {
        v.push(expunged(uid)).unwrap();
    }
    let opts = AnnounceOptions {
        qresync: true,
        ..AnnounceOptions::default()
    };
    assert_eq!(
        wire(&mut v, Announce::All, opts),
        "* VANISHED 3:6,9,15:16\r\n"
    );
    assert_eq!(v.exists(), 13);
    assert_eq!(v.uid(nz(3)), Some(nz(7)));
}

#[test]
fn flag_updates_coalesce_into_one_fetch() {
    let mut v = view(&[1, 2, 3], 4, 10);
    v.push(flags(2, vec![Flag::Seen], Some(101))).unwrap();
    v.push(flags(2, vec![Flag::Seen, Flag::Flagged], Some(102)))
        .unwrap();
    v.push(flags(2, vec![Flag::Flagged], Some(103))).unwrap();
    assert_eq!(v.pending(), 1);
    let opts = AnnounceOptions {
        condstore: true,
        uid: true,
        qresync: false,
    };
    assert_eq!(
        wire(&mut v, Announce::All, opts),
        "* 2 FETCH (FLAGS (\\Flagged) UID 2 MODSEQ (103))\r\n"
    );
    assert_eq!(v.highest_modseq(), Some(nz64(103)));
}

#[test]
fn flags_of_an_expunged_message_are_dropped() {
    let mut v = view(&[1, 2, 3], 4, 10);
    v.push(flags(2, vec![Flag::Seen], None)).unwrap();
    v.push(expunged(2)).unwrap();
    assert_eq!(v.pending(), 1);
    assert_eq!(
        v.push(flags(2, vec![Flag::Seen], None)),
        Err(ViewError::UnknownUid { uid: 2 })
    );
    assert_eq!(all(&mut v), "* 2 EXPUNGE\r\n");
}

#[test]
fn added_then_expunged_vanishes_without_a_trace() {
    let mut v = view(&[1], 2, 10);
    v.push(added(5)).unwrap();
    v.push(flags(5, vec![Flag::Seen], None)).unwrap();
    v.push(added(6)).unwrap();
    v.push(expunged(5)).unwrap();
    assert_eq!(v.pending(), 1);
    assert_eq!(all(&mut v), "* 2 EXISTS\r\n");
    assert_eq!(v.seq(nz(6)), Some(nz(2)));
    assert_eq!(v.seq(nz(5)), None);
    assert_eq!(v.uid_next(), nz(7));
    // Added and expunged, nothing left: nothing said, but UIDNEXT moved past it.
    v.push(added(7)).unwrap();
    v.push(expunged(7)).unwrap();
    assert!(!v.has_pending());
    assert_eq!(all(&mut v), "");
    assert_eq!(
        v.push(added(7)),
        Err(ViewError::AddedOutOfOrder { uid: 7, last: 7 })
    );
}

#[test]
fn inconsistent_input_is_refused_and_changes_nothing() {
    let mut v = view(&[1, 2, 3], 10, 10);
    let before = format!("{v:?}");
    assert_eq!(v.push(expunged(4)), Err(ViewError::UnknownUid { uid: 4 }));
    assert_eq!(
        v.push(flags(9, vec![], None)),
        Err(ViewError::UnknownUid { uid: 9 })
    );
    assert_eq!(
        v.push(added(3)),
        Err(ViewError::AddedOutOfOrder { uid: 3, last: 9 })
    );
    assert_eq!(
        v.push(added(9)),
        Err(ViewError::AddedOutOfOrder { uid: 9, last: 9 })
    );
    assert_eq!(format!("{v:?}"), before);
    v.push(expunged(2)).unwrap();
    let before = format!("{v:?}");
    assert_eq!(v.push(expunged(2)), Err(ViewError::UnknownUid { uid: 2 }));
    v.push(added(u32::MAX - 1)).unwrap();
    assert_eq!(
        v.push(added(u32::MAX)),
        Err(ViewError::UidSpaceExhausted { uid: u32::MAX })
    );
    assert_ne!(format!("{v:?}"), before);
    assert!(!v.is_overflowed());
}

#[test]
fn overflow_is_an_error_and_bounds_the_queue() {
    let mut v = view(&(1..=100).collect::<Vec<_>>(), 101, 3);
    v.push(expunged(1)).unwrap();
    v.push(flags(2, vec![Flag::Seen], None)).unwrap();
    v.push(added(101)).unwrap();
    // Coalesced changes do not count twice.
    v.push(flags(2, vec![], None)).unwrap();
    v.push(expunged(2)).unwrap();
    assert_eq!(v.pending(), 3);
    assert_eq!(v.push(expunged(3)), Err(ViewError::Overflow));
    assert!(v.is_overflowed());
    assert_eq!(v.pending(), 0);
    assert_eq!(v.push(expunged(4)), Err(ViewError::Overflow));
    assert_eq!(all(&mut v), "");
}

#[test]
fn resolve_by_sequence_number() {
    let v = view(&[2, 4, 6, 8, 10], 11, 10);
    assert_eq!(
        v.resolve(&set("4:2,1,*"), false, None).unwrap(),
        pairs(&[(1, 2), (2, 4), (3, 6), (4, 8), (5, 10)])
    );
    assert_eq!(
        v.resolve(&set("2,2:3"), false, None).unwrap(),
        pairs(&[(2, 4), (3, 6)])
    );
    assert_eq!(
        v.resolve(&set("6"), false, None),
        Err(ResolveError::NoSuchMessage)
    );
    assert_eq!(
        v.resolve(&set("4:*"), false, None).unwrap(),
        pairs(&[(4, 8), (5, 10)])
    );
    assert_eq!(
        v.resolve(&set("7:*"), false, None),
        Err(ResolveError::NoSuchMessage)
    );
    let empty = view(&[], 1, 10);
    assert_eq!(
        empty.resolve(&set("*"), false, None),
        Err(ResolveError::NoSuchMessage)
    );
    assert_eq!(
        empty.resolve(&set("1"), false, None),
        Err(ResolveError::NoSuchMessage)
    );
}

#[test]
fn resolve_by_uid_skips_missing() {
    let v = view(&[2, 4, 6, 8, 10], 11, 10);
    assert_eq!(
        v.resolve(&set("1:5,9,100:*"), true, None).unwrap(),
        pairs(&[(1, 2), (2, 4), (5, 10)])
    );
    assert_eq!(
        v.resolve(&set("1:4294967295"), true, None).unwrap().len(),
        5
    );
    assert_eq!(v.resolve(&set("3,5,7"), true, None).unwrap(), []);
    let empty = view(&[], 1, 10);
    assert_eq!(empty.resolve(&set("1:*"), true, None).unwrap(), []);
    assert_eq!(empty.resolve(&set("*"), true, None).unwrap(), []);
}

#[test]
fn resolve_saved_result() {
    let mut v = view(&[2, 4, 6, 8, 10], 11, 10);
    let saved = [nz(10), nz(4), nz(5), nz(4)];
    for by_uid in [false, true] {
        assert_eq!(
            v.resolve(&SequenceSet::Saved, by_uid, Some(&saved))
                .unwrap(),
            pairs(&[(2, 4), (5, 10)])
        );
        assert_eq!(v.resolve(&SequenceSet::Saved, by_uid, None).unwrap(), []);
    }
    v.push(expunged(4)).unwrap();
    all(&mut v);
    assert_eq!(
        v.resolve(&SequenceSet::Saved, false, Some(&saved)).unwrap(),
        pairs(&[(4, 10)])
    );
}

#[test]
fn highest_modseq_waits_for_held_expunges() {
    let mut v = view(&[1, 2, 3], 4, 10);
    v.push(Change::Expunged {
        uid: nz(1),
        modseq: Some(nz64(101)),
    })
    .unwrap();
    v.push(flags(3, vec![Flag::Answered], Some(102))).unwrap();
    let opts = AnnounceOptions {
        condstore: true,
        ..AnnounceOptions::default()
    };
    assert_eq!(
        wire(&mut v, Announce::NoExpunge, opts),
        "* 3 FETCH (FLAGS (\\Answered) MODSEQ (102))\r\n"
    );
    assert_eq!(v.highest_modseq(), Some(nz64(100)));
    assert_eq!(wire(&mut v, Announce::All, opts), "* 1 EXPUNGE\r\n");
    assert_eq!(v.highest_modseq(), Some(nz64(102)));
}

#[test]
fn vanished_splits_long_sets() {
    let uids: Vec<u32> = (1..=2 * VANISHED_RANGES_PER_LINE as u32 + 2)
        .map(|n| n * 2)
        .collect();
    let next = uids.last().unwrap() + 1;
    let mut v = view(&uids, next, 10_000);
    for &uid in &uids {
        v.push(expunged(uid)).unwrap();
    }
    let mut out = Vec::new();
    let opts = AnnounceOptions {
        qresync: true,
        ..AnnounceOptions::default()
    };
    v.announce(Announce::All, opts, &mut out);
    assert_eq!(out.len(), 3);
    let last = String::from_utf8(out[2].to_bytes()).unwrap();
    assert_eq!(last, format!("* VANISHED {},{}\r\n", next - 3, next - 1));
    assert_eq!(v.exists(), 0);
}

#[test]
fn flags_the_session_sent_itself_are_not_told_twice() {
    let mut v = view(&[1, 2, 3], 4, 10);
    v.push(flags(1, vec![Flag::Seen], None)).unwrap();
    v.push(flags(3, vec![Flag::Draft], None)).unwrap();
    v.flags_sent(nz(1));
    v.flags_sent(nz(2));
    assert_eq!(v.pending(), 1);
    assert_eq!(all(&mut v), "* 3 FETCH (FLAGS (\\Draft))\r\n");
}

#[test]
fn uid_next_moves_past_messages_that_came_and_went() {
    let mut v = view(&[1], 2, 10);
    v.push(added(2)).unwrap();
    v.push(expunged(2)).unwrap();
    assert_eq!(v.uid_next(), nz(2));
    assert_eq!(all(&mut v), "");
    assert_eq!(v.uid_next(), nz(3));
}

#[test]
fn mod_sequences_stay_within_63_bits() {
    let big = NonZeroU64::new(1 << 63).unwrap();
    let snapshot = Snapshot {
        uid_validity: nz(1),
        uid_next: nz(2),
        highest_modseq: Some(big),
        uids: vec![nz(1)],
    };
    assert_eq!(
        MailboxView::new(snapshot, ViewConfig::default()).map(|_| ()),
        Err(ViewError::ModSeqOutOfRange { modseq: 1 << 63 })
    );
    let mut v = view(&[1], 2, 10);
    let before = format!("{v:?}");
    for change in [
        Change::Flags {
            uid: nz(1),
            flags: vec![],
            modseq: Some(big),
        },
        Change::Expunged {
            uid: nz(1),
            modseq: Some(big),
        },
        Change::Added {
            uid: nz(2),
            flags: vec![],
            modseq: Some(big),
        },
    ] {
        assert_eq!(
            v.push(change),
            Err(ViewError::ModSeqOutOfRange { modseq: 1 << 63 })
        );
    }
    assert_eq!(format!("{v:?}"), before);
    v.push(flags(1, vec![], Some((1 << 63) - 1))).unwrap();
    let opts = AnnounceOptions {
        condstore: true,
        ..AnnounceOptions::default()
    };
    assert_eq!(
        wire(&mut v, Announce::All, opts),
        "* 1 FETCH (FLAGS () MODSEQ (9223372036854775807))\r\n"
    );
}

#[test]
fn an_idle_view_keeps_only_its_map() {
    let mut v = view(&[1, 2, 3], 4, 1000);
    for uid in 4..=300 {
        v.push(added(uid * 2)).unwrap();
    }
    v.push(flags(1, vec![Flag::Seen], None)).unwrap();
    v.push(expunged(2)).unwrap();
    assert!(v.heap_bytes() > 297 * 4);
    all(&mut v);
    // Runs: 1, 3, then each new message alone; the queues hold nothing.
    assert_eq!(v.runs(), 2 + 297);
    assert!(
        v.heap_bytes() <= v.runs() * 8 * 5 / 4 + 32,
        "{}",
        v.heap_bytes()
    );
}
