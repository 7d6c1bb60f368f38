//! The sequence number to UID map, compact: runs of consecutive UIDs, each with the count of
//! messages up to and including it, so that both directions are a binary search over the
//! runs (O(log runs)) and a mailbox whose UIDs have no holes costs one run. A mailbox with
//! more runs than half its messages (8 bytes a run would cost more than 4 a message) keeps its
//! UIDs one by one instead, and goes back to runs once they cost at most half of that.

use std::ops::RangeInclusive;

/// A run of consecutive UIDs `first ..= first + len - 1`, where `len` is `end` minus the
/// previous run's `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    /// The first UID of the run.
    first: u32,
    /// The number of messages in this run and every run before it: the sequence number of
    /// this run's last message.
    end: u32,
}

/// Sequence numbers (1-based, dense) to UIDs (strictly ascending): runs, or each UID when
/// the mailbox is so fragmented that runs would cost more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UidMap {
    /// Runs of consecutive UIDs.
    Runs(Runs),
    /// The UIDs, one by one.
    Dense(Vec<u32>),
}

impl Default for UidMap {
    fn default() -> Self {
        UidMap::Runs(Runs::default())
    }
}

/// The number of runs of consecutive UIDs in `uids` (ascending).
fn count_runs(uids: &[u32]) -> usize {
    let breaks = uids
        .windows(2)
        .filter(|w| w.first().zip(w.get(1)).is_some_and(|(a, b)| *a + 1 != *b))
        .count();
    if uids.is_empty() { 0 } else { breaks + 1 }
}

impl UidMap {
    /// The map of these UIDs, which the caller has checked to be strictly ascending and
    /// non-zero.
    pub(crate) fn from_ascending(uids: impl IntoIterator<Item = u32>) -> UidMap {
        let mut map = UidMap::Runs(Runs::from_ascending(uids));
        map.rebalance();
        map
    }

    /// Picks the cheaper form: runs while there are at most half as many runs as messages,
    /// each UID once runs would cost more, runs again once they cost at most half of that.
    fn rebalance(&mut self) {
        match self {
            UidMap::Runs(runs) if runs.runs.len() * 2 > runs.len() as usize => {
                let mut uids = Vec::with_capacity(runs.len() as usize);
                uids.extend(runs.ranges().flat_map(|(_, r)| r));
                *self = UidMap::Dense(uids);
            }
            UidMap::Dense(uids) if count_runs(uids) * 4 <= uids.len() => {
                *self = UidMap::Runs(Runs::from_ascending(uids.iter().copied()));
            }
            _ => {}
        }
    }

    /// The number of messages.
    pub(crate) fn len(&self) -> u32 {
        match self {
            UidMap::Runs(r) => r.len(),
            UidMap::Dense(u) => u.len() as u32,
        }
    }

    /// The number of runs of consecutive UIDs.
    pub(crate) fn runs(&self) -> usize {
        match self {
            UidMap::Runs(r) => r.runs(),
            UidMap::Dense(u) => count_runs(u),
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            UidMap::Runs(r) => r.heap_bytes(),
            UidMap::Dense(u) => u.capacity() * 4,
        }
    }

    /// The largest UID, if any.
    pub(crate) fn last_uid(&self) -> Option<u32> {
        match self {
            UidMap::Runs(r) => r.last_uid(),
            UidMap::Dense(u) => u.last().copied(),
        }
    }

    /// The UID of sequence number `seq` (1-based).
    pub(crate) fn uid(&self, seq: u32) -> Option<u32> {
        match self {
            UidMap::Runs(r) => r.uid(seq),
            UidMap::Dense(u) => u.get((seq as usize).checked_sub(1)?).copied(),
        }
    }

    /// The sequence number of `uid`.
    pub(crate) fn seq(&self, uid: u32) -> Option<u32> {
        match self {
            UidMap::Runs(r) => r.seq(uid),
            UidMap::Dense(u) => u.binary_search(&uid).ok().map(|i| i as u32 + 1),
        }
    }

    /// Appends `uid`, which the caller has checked to be above every UID in the map.
    pub(crate) fn push(&mut self, uid: u32) {
        match self {
            UidMap::Runs(r) => r.push(uid),
            UidMap::Dense(u) => u.push(uid),
        }
    }

    /// Gives back room reserved by `push`, and picks the cheaper form.
    pub(crate) fn trim(&mut self) {
        match self {
            UidMap::Runs(r) => r.trim(),
            UidMap::Dense(u) => {
                if u.capacity() > u.len() + u.len() / 4 + 4 {
                    u.shrink_to_fit();
                }
            }
        }
        self.rebalance();
    }

    /// Removes every UID of `uids` (strictly ascending; UIDs not in the map are ignored), in
    /// one pass, and picks the cheaper form.
    pub(crate) fn remove_sorted(&mut self, gone: &[u32]) {
        if gone.is_empty() {
            return;
        }
        match self {
            UidMap::Runs(r) => r.remove_sorted(gone),
            UidMap::Dense(u) => {
                let mut gone = gone.iter().copied().peekable();
                u.retain(|&uid| {
                    while gone.next_if(|&g| g < uid).is_some() {}
                    gone.next_if_eq(&uid).is_none()
                });
                u.shrink_to_fit();
            }
        }
        self.rebalance();
    }

    /// The UIDs, ascending, as ranges of consecutive UIDs, each with the sequence number of
    /// its first.
    pub(crate) fn ranges(&self) -> Box<dyn Iterator<Item = (u32, RangeInclusive<u32>)> + '_> {
        match self {
            UidMap::Runs(r) => Box::new(r.ranges()),
            UidMap::Dense(u) => Box::new(
                u.iter()
                    .enumerate()
                    .map(|(i, &uid)| (i as u32 + 1, uid..=uid)),
            ),
        }
    }

    /// `(seq, uid)` of every UID in `low ..= high`, ascending, appended to `out`.
    pub(crate) fn collect_uid_range(&self, low: u32, high: u32, out: &mut Vec<(u32, u32)>) {
        match self {
            UidMap::Runs(r) => r.collect_uid_range(low, high, out),
            UidMap::Dense(u) => {
                let from = u.partition_point(|&uid| uid < low);
                let rest = u.get(from..).unwrap_or_default();
                out.extend(
                    rest.iter()
                        .take_while(|&&uid| uid <= high)
                        .enumerate()
                        .map(|(i, &uid)| ((from + i) as u32 + 1, uid)),
                );
            }
        }
    }

    /// `(seq, uid)` of every sequence number in `low ..= high` (1-based; numbers past the
    /// end are ignored), ascending, appended to `out`.
    pub(crate) fn collect_seq_range(&self, low: u32, high: u32, out: &mut Vec<(u32, u32)>) {
        match self {
            UidMap::Runs(r) => r.collect_seq_range(low, high, out),
            UidMap::Dense(u) => {
                let from = (low.max(1) - 1) as usize;
                let to = (high as usize).min(u.len());
                if from < to {
                    let part = u.get(from..to).unwrap_or_default();
                    out.extend(
                        part.iter()
                            .enumerate()
                            .map(|(i, &uid)| ((from + i) as u32 + 1, uid)),
                    );
                }
            }
        }
    }

    /// Every UID, ascending (for tests).
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.ranges().flat_map(|(_, r)| r)
    }

    /// Whether the UIDs are kept one by one (for tests).
    #[cfg(test)]
    pub(crate) fn is_dense(&self) -> bool {
        matches!(self, UidMap::Dense(_))
    }
}

/// Runs of consecutive UIDs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Runs {
    runs: Vec<Run>,
}

impl Runs {
    /// The map of these UIDs, which the caller has checked to be strictly ascending and
    /// non-zero.
    pub(crate) fn from_ascending(uids: impl IntoIterator<Item = u32>) -> Runs {
        let mut map = Runs::default();
        for uid in uids {
            map.push(uid);
        }
        map.runs.shrink_to_fit();
        map
    }

    /// The number of messages.
    pub(crate) fn len(&self) -> u32 {
        self.runs.last().map_or(0, |r| r.end)
    }

    /// The number of runs.
    pub(crate) fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Heap bytes held (the runs' capacity).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.runs.capacity() * std::mem::size_of::<Run>()
    }

    /// The sequence number before run `i`'s first message.
    fn start(&self, i: usize) -> u32 {
        match i.checked_sub(1).and_then(|p| self.runs.get(p)) {
            Some(prev) => prev.end,
            None => 0,
        }
    }

    /// The largest UID, if any.
    pub(crate) fn last_uid(&self) -> Option<u32> {
        let i = self.runs.len().checked_sub(1)?;
        let run = self.runs.get(i)?;
        Some(run.first + (run.end - self.start(i) - 1))
    }

    /// The UID of sequence number `seq` (1-based).
    pub(crate) fn uid(&self, seq: u32) -> Option<u32> {
        if seq == 0 || seq > self.len() {
            return None;
        }
        let i = self.runs.partition_point(|r| r.end < seq);
        let run = self.runs.get(i)?;
        Some(run.first + (seq - 1 - self.start(i)))
    }

    /// The sequence number of `uid`.
    pub(crate) fn seq(&self, uid: u32) -> Option<u32> {
        let i = self
            .runs
            .partition_point(|r| r.first <= uid)
            .checked_sub(1)?;
        let run = self.runs.get(i)?;
        let start = self.start(i);
        let offset = uid - run.first;
        (offset < run.end - start).then_some(start + offset + 1)
    }

    /// Appends `uid`, which the caller has checked to be above every UID in the map.
    pub(crate) fn push(&mut self, uid: u32) {
        let len = self.len();
        let last = self.runs.len().checked_sub(1);
        if let Some(i) = last {
            let start = self.start(i);
            if let Some(run) = self.runs.get_mut(i) {
                if u64::from(run.first) + u64::from(run.end - start) == u64::from(uid) {
                    run.end += 1;
                    return;
                }
            }
        }
        self.runs.push(Run {
            first: uid,
            end: len + 1,
        });
    }

    /// Gives back the room `push` reserved beyond a quarter more than the runs need, so that
    /// a session that goes idle keeps what it uses.
    pub(crate) fn trim(&mut self) {
        if self.runs.capacity() > self.runs.len() + self.runs.len() / 4 + 4 {
            self.runs.shrink_to_fit();
        }
    }

    /// Removes every UID of `uids` (strictly ascending; UIDs not in the map are ignored), in
    /// one pass over the runs.
    pub(crate) fn remove_sorted(&mut self, uids: &[u32]) {
        if uids.is_empty() {
            return;
        }
        let mut out: Vec<Run> = Vec::with_capacity(self.runs.len() + uids.len());
        let mut gone = uids.iter().copied().peekable();
        let mut count = 0u32;
        let mut start = 0u32;
        for run in &self.runs {
            let len = run.end - start;
            start = run.end;
            // Walk the run's UIDs as pieces between removed UIDs.
            let last = u64::from(run.first) + u64::from(len) - 1;
            let mut piece = u64::from(run.first);
            while let Some(&uid) = gone.peek() {
                let uid = u64::from(uid);
                if uid > last {
                    break;
                }
                gone.next();
                if uid < piece {
                    continue;
                }
                if uid > piece {
                    count += (uid - piece) as u32;
                    out.push(Run {
                        first: piece as u32,
                        end: count,
                    });
                }
                piece = uid + 1;
            }
            if piece <= last {
                count += (last - piece + 1) as u32;
                out.push(Run {
                    first: piece as u32,
                    end: count,
                });
            }
        }
        out.shrink_to_fit();
        self.runs = out;
    }

    /// The UIDs, ascending, as ranges (one per run).
    pub(crate) fn ranges(&self) -> impl Iterator<Item = (u32, RangeInclusive<u32>)> + '_ {
        let mut start = 0u32;
        self.runs.iter().map(move |run| {
            let len = run.end - start;
            let seq = start + 1;
            start = run.end;
            (seq, run.first..=run.first + (len - 1))
        })
    }

    /// `(seq, uid)` of every UID in `low ..= high`, ascending, appended to `out`.
    pub(crate) fn collect_uid_range(&self, low: u32, high: u32, out: &mut Vec<(u32, u32)>) {
        let from = self
            .runs
            .partition_point(|r| r.first <= low)
            .saturating_sub(1);
        let mut start = self.start(from);
        for run in self.runs.get(from..).unwrap_or_default() {
            let len = run.end - start;
            let run_last = run.first + (len - 1);
            if run.first > high {
                break;
            }
            let a = run.first.max(low);
            let b = run_last.min(high);
            if a <= b {
                out.extend((a..=b).map(|uid| (start + (uid - run.first) + 1, uid)));
            }
            start = run.end;
        }
    }

    /// `(seq, uid)` of every sequence number in `low ..= high` (1-based; numbers past the
    /// end are ignored), ascending, appended to `out`.
    pub(crate) fn collect_seq_range(&self, low: u32, high: u32, out: &mut Vec<(u32, u32)>) {
        let low = low.max(1);
        let from = self.runs.partition_point(|r| r.end < low);
        let mut start = self.start(from);
        for run in self.runs.get(from..).unwrap_or_default() {
            if start >= high {
                break;
            }
            let a = low.max(start + 1);
            let b = high.min(run.end);
            if a <= b {
                out.extend((a..=b).map(|seq| (seq, run.first + (seq - 1 - start))));
            }
            start = run.end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(uids: &[u32]) -> UidMap {
        UidMap::from_ascending(uids.iter().copied())
    }

    #[test]
    fn contiguous_uids_are_one_run() {
        let m = UidMap::from_ascending(1..=100_000);
        assert_eq!(m.runs(), 1);
        assert_eq!(m.len(), 100_000);
        assert_eq!(m.uid(1), Some(1));
        assert_eq!(m.uid(100_000), Some(100_000));
        assert_eq!(m.uid(100_001), None);
        assert_eq!(m.uid(0), None);
        assert_eq!(m.seq(77), Some(77));
        assert_eq!(m.seq(100_001), None);
        assert_eq!(m.last_uid(), Some(100_000));
    }

    #[test]
    fn lookups_across_runs() {
        let m = map(&[3, 4, 5, 10, 20, 21]);
        assert_eq!(m.runs(), 3);
        let uids: Vec<_> = (1..=6).map(|s| m.uid(s).unwrap()).collect();
        assert_eq!(uids, [3, 4, 5, 10, 20, 21]);
        for (i, uid) in uids.iter().enumerate() {
            assert_eq!(m.seq(*uid), Some(i as u32 + 1));
        }
        for missing in [1, 2, 6, 9, 11, 19, 22, u32::MAX] {
            assert_eq!(m.seq(missing), None, "{missing}");
        }
        assert_eq!(m.last_uid(), Some(21));
        assert_eq!(UidMap::default().last_uid(), None);
        assert_eq!(UidMap::default().seq(1), None);
        assert_eq!(UidMap::default().uid(1), None);
    }

    #[test]
    fn removing_the_middle_of_a_run_splits_it() {
        let mut m = UidMap::from_ascending(1..=10);
        m.remove_sorted(&[4, 5, 9]);
        assert_eq!(m.iter().collect::<Vec<_>>(), [1, 2, 3, 6, 7, 8, 10]);
        assert_eq!(m.runs(), 3);
        assert_eq!(m.seq(6), Some(4));
        assert_eq!(m.uid(7), Some(10));
        // Ends of runs, whole runs, and UIDs not in the map.
        m.remove_sorted(&[1, 2, 3, 5, 10, 11]);
        assert_eq!(m.iter().collect::<Vec<_>>(), [6, 7, 8]);
        assert_eq!(m.runs(), 1);
        m.remove_sorted(&[6, 7, 8]);
        assert_eq!(m.len(), 0);
        assert_eq!(m.runs(), 0);
    }

    #[test]
    fn push_extends_or_starts_a_run() {
        let mut m = map(&[1, 2]);
        m.push(3);
        m.push(7);
        m.push(u32::MAX);
        assert_eq!(m.runs(), 3);
        // 70 runs pushed one by one reserve room for 128; trimming gives it back.
        let mut wide = UidMap::default();
        for uid in 1..=70 {
            wide.push(uid * 2);
        }
        assert_eq!(wide.heap_bytes(), 128 * 8);
        wide.trim();
        // ... and 70 runs of one UID each cost more than the UIDs: kept one by one.
        assert!(wide.is_dense());
        assert_eq!(wide.heap_bytes(), 70 * 4);
        assert_eq!(m.seq(u32::MAX), Some(5));
        assert_eq!(m.uid(5), Some(u32::MAX));
        assert_eq!(m.last_uid(), Some(u32::MAX));
        m.remove_sorted(&[u32::MAX]);
        assert_eq!(m.iter().collect::<Vec<_>>(), [1, 2, 3, 7]);
    }

    #[test]
    fn uid_ranges_collect_members_only() {
        let m = map(&[3, 4, 5, 10, 20, 21]);
        let mut out = Vec::new();
        m.collect_uid_range(4, 20, &mut out);
        assert_eq!(out, [(2, 4), (3, 5), (4, 10), (5, 20)]);
        out.clear();
        m.collect_uid_range(1, u32::MAX, &mut out);
        assert_eq!(out.len(), 6);
        out.clear();
        m.collect_uid_range(6, 9, &mut out);
        assert!(out.is_empty());
        m.collect_uid_range(22, u32::MAX, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn sequence_ranges_collect_across_runs() {
        let m = map(&[3, 4, 5, 10, 20, 21]);
        let mut out = Vec::new();
        m.collect_seq_range(2, 5, &mut out);
        assert_eq!(out, [(2, 4), (3, 5), (4, 10), (5, 20)]);
        out.clear();
        m.collect_seq_range(0, u32::MAX, &mut out);
        assert_eq!(out.len(), 6);
        out.clear();
        m.collect_seq_range(6, 6, &mut out);
        assert_eq!(out, [(6, 21)]);
        out.clear();
        m.collect_seq_range(7, 9, &mut out);
        assert!(out.is_empty());
        UidMap::default().collect_seq_range(1, 3, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn fragmented_maps_keep_each_uid_and_go_back_to_runs() {
        let mut m = UidMap::from_ascending((1..=1000).map(|i| i * 2));
        assert!(m.is_dense());
        assert_eq!(m.runs(), 1000);
        assert_eq!(m.heap_bytes(), 4000);
        // New contiguous messages: still dense until runs cost at most half.
        for uid in 2001..=2500 {
            m.push(uid);
        }
        m.trim();
        assert!(m.is_dense());
        assert_eq!(m.runs(), 1000);
        // Expunging the old, fragmented messages: back to runs.
        let old: Vec<u32> = (1..=1000).map(|i| i * 2).collect();
        m.remove_sorted(&old[..900]);
        assert!(!m.is_dense());
        assert_eq!(m.runs(), 100);
        assert_eq!(m.len(), 600);
        assert_eq!(m.uid(101), Some(2001));
        assert_eq!(m.seq(1802), Some(1));
    }

    /// Both forms answer alike, before and after removals.
    #[test]
    fn both_forms_agree() {
        let sets: [&[u32]; 5] = [
            &[],
            &[1],
            &[2, 3, 4, 9, 11, 12, 30],
            &[1, 3, 5, 7, 9, 10, 11, 12],
            &[5, 6, 7, 8, u32::MAX - 1, u32::MAX],
        ];
        for uids in sets {
            let mut runs = UidMap::Runs(Runs::from_ascending(uids.iter().copied()));
            let mut dense = UidMap::Dense(uids.to_vec());
            for removed in [&[][..], &[3, 9, 10, 31], &[1, 2, 5, u32::MAX]] {
                runs.remove_sorted(removed);
                dense.remove_sorted(removed);
                let (a, b) = (&runs, &dense);
                assert_eq!(a.len(), b.len());
                assert_eq!(a.runs(), b.runs());
                assert_eq!(a.last_uid(), b.last_uid());
                assert_eq!(a.iter().collect::<Vec<_>>(), b.iter().collect::<Vec<_>>());
                let probes = [0, 1, 2, 3, 4, 5, 8, 9, 12, 13, 30, u32::MAX - 1, u32::MAX];
                for n in probes {
                    assert_eq!(a.uid(n), b.uid(n), "uid({n}) of {uids:?}");
                    assert_eq!(a.seq(n), b.seq(n), "seq({n}) of {uids:?}");
                    for high in probes {
                        let (mut x, mut y) = (Vec::new(), Vec::new());
                        a.collect_uid_range(n, high, &mut x);
                        b.collect_uid_range(n, high, &mut y);
                        assert_eq!(x, y, "uids {n}:{high} of {uids:?}");
                        let (mut x, mut y) = (Vec::new(), Vec::new());
                        a.collect_seq_range(n, high, &mut x);
                        b.collect_seq_range(n, high, &mut y);
                        assert_eq!(x, y, "seqs {n}:{high} of {uids:?}");
                    }
                }
                let ranges = |m: &UidMap| {
                    m.ranges()
                        .flat_map(|(seq, r)| {
                            let first = *r.start();
                            r.map(move |u| (seq + (u - first), u))
                        })
                        .collect::<Vec<_>>()
                };
                assert_eq!(ranges(a), ranges(b));
            }
        }
    }
}
