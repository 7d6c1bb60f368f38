//! One chunk splitter for every test: how a byte stream is cut into the reads a machine sees.
//!
//! A sans-IO machine must give the same events and the same output however its input is cut
//! (up to the STARTTLS boundary, where the cut is part of the protocol). Tests check that by
//! feeding one input whole, byte by byte, cut at every point and at every pair of points, and
//! cut at random:
//!
//! - [`split_at`] cuts at given offsets;
//! - [`one_cuts`] and [`two_cuts`] enumerate every 1- and 2-split of a length, [`every_split`]
//!   all of them after the whole and the byte-by-byte split;
//! - [`Chunking`] names a way of cutting a stream (whole, every byte, given sizes, given
//!   offsets, random sizes from a seed) and [`Chunker`] applies it to a stream that arrives
//!   bit by bit, as the [`Pair`](crate::Pair) and [`transcript::replay`](crate::transcript::replay) do;
//! - [`strategy`] has proptest strategies for both.
//!
//! The random sizes come from xorshift64 seeded by a `u64`, so a seed from proptest or a fuzz
//! input reproduces the same cuts on every platform.
//!
//! ```
//! use mail_testkit::chunk::{self, Chunker, Chunking};
//!
//! let input = b"EHLO a\r\nQUIT\r\n";
//! assert_eq!(chunk::split_at(input, &[8, 3, 99]), [&b"EHL"[..], b"O a\r\n", b"QUIT\r\n"]);
//! assert_eq!(Chunker::new(Chunking::Bytewise).split(input).len(), input.len());
//! for pieces in chunk::every_split(input) {
//!     assert_eq!(pieces.concat(), input, "every split keeps every byte, in order");
//! }
//! let random = Chunker::new(Chunking::Seeded { seed: 7, max: 4 }).split(input);
//! assert!(random.iter().all(|piece| (1..=4).contains(&piece.len())));
//! assert_eq!(random, Chunker::new(Chunking::Seeded { seed: 7, max: 4 }).split(input));
//! ```

/// Cuts `bytes` at `cuts` (offsets into `bytes`, in any order; duplicates, `0` and offsets
/// at or past the end are ignored). The pieces are never empty, unless `bytes` is empty: then
/// there are none.
pub fn split_at<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts
        .iter()
        .copied()
        .filter(|&cut| cut > 0 && cut < bytes.len())
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for cut in cuts.into_iter().chain([bytes.len()]) {
        if cut > start {
            pieces.push(&bytes[start..cut]);
            start = cut;
        }
    }
    pieces
}

/// Every single cut of a stream of `len` bytes: `[1]`, `[2]`, ... `[len - 1]`.
///
/// ```
/// let cuts: Vec<Vec<usize>> = mail_testkit::chunk::one_cuts(3).collect();
/// assert_eq!(cuts, [vec![1], vec![2]]);
/// ```
pub fn one_cuts(len: usize) -> impl Iterator<Item = Vec<usize>> {
    (1..len).map(|cut| vec![cut])
}

/// Every pair of cuts of a stream of `len` bytes, each pair once, in order (`len * len / 2`
/// of them: keep `len` to a few hundred).
///
/// ```
/// let cuts: Vec<Vec<usize>> = mail_testkit::chunk::two_cuts(4).collect();
/// assert_eq!(cuts, [vec![1, 2], vec![1, 3], vec![2, 3]]);
/// ```
pub fn two_cuts(len: usize) -> impl Iterator<Item = Vec<usize>> {
    (1..len).flat_map(move |first| (first + 1..len).map(move |second| vec![first, second]))
}

/// The splits a chunk-invariance test runs: whole, byte by byte, every 1-split and every
/// 2-split of `bytes`.
pub fn every_split(bytes: &[u8]) -> impl Iterator<Item = Vec<&[u8]>> {
    let bytewise: Vec<usize> = (1..bytes.len()).collect();
    [Vec::new(), bytewise]
        .into_iter()
        .chain(one_cuts(bytes.len()))
        .chain(two_cuts(bytes.len()))
        .map(move |cuts| split_at(bytes, &cuts))
}

/// A way of cutting a stream into reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunking {
    /// Everything available at once.
    Whole,
    /// One byte per read.
    Bytewise,
    /// Reads of these sizes, in turn, starting over after the last (a `0` counts as `1`;
    /// an empty list is [`Chunking::Whole`]).
    Sizes(Vec<usize>),
    /// Cut at these offsets of the whole stream (counted from its first byte); between and
    /// after them, everything available at once.
    Cuts(Vec<usize>),
    /// Reads of random sizes in `1..=max`, from xorshift64 seeded by `seed` (a `max` of `0`
    /// counts as `1`).
    Seeded {
        /// The generator's seed: the same seed gives the same cuts.
        seed: u64,
        /// The largest read.
        max: usize,
    },
}

impl Chunking {
    /// A few chunkings every scenario should pass: whole, byte by byte, and random sizes of
    /// at most 2, 7 and 64 bytes from `seed`.
    ///
    /// ```
    /// assert_eq!(mail_testkit::Chunking::standard(1).len(), 5);
    /// ```
    pub fn standard(seed: u64) -> Vec<Chunking> {
        vec![
            Chunking::Whole,
            Chunking::Bytewise,
            Chunking::Seeded { seed, max: 2 },
            Chunking::Seeded { seed, max: 7 },
            Chunking::Seeded { seed, max: 64 },
        ]
    }
}

/// Applies a [`Chunking`] to a stream: says how long the next read is.
#[derive(Debug, Clone)]
pub struct Chunker {
    chunking: Chunking,
    /// Bytes handed out so far.
    offset: usize,
    /// Reads handed out so far.
    reads: usize,
    state: u64,
}

impl Chunker {
    /// A chunker at the start of a stream.
    pub fn new(chunking: Chunking) -> Self {
        let state = match &chunking {
            // Spread the seed over the bits and never start xorshift at 0, where it stays.
            Chunking::Seeded { seed, .. } => seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            _ => 1,
        };
        Chunker {
            chunking,
            offset: 0,
            reads: 0,
            state,
        }
    }

    /// The chunking it applies.
    pub fn chunking(&self) -> &Chunking {
        &self.chunking
    }

    /// How many bytes have been handed out.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The length of the next read when `available` bytes are waiting: between `1` and
    /// `available` (`0` only when `available` is `0`). Counts them as handed out.
    pub fn next_len(&mut self, available: usize) -> usize {
        if available == 0 {
            return 0;
        }
        let wanted = match &self.chunking {
            Chunking::Whole => available,
            Chunking::Bytewise => 1,
            Chunking::Sizes(sizes) if sizes.is_empty() => available,
            Chunking::Sizes(sizes) => sizes[self.reads % sizes.len()].max(1),
            Chunking::Cuts(cuts) => cuts
                .iter()
                .filter(|&&cut| cut > self.offset)
                .min()
                .map_or(available, |&cut| cut - self.offset),
            Chunking::Seeded { max, .. } => {
                let max = (*max).max(1);
                self.state ^= self.state << 13;
                self.state ^= self.state >> 7;
                self.state ^= self.state << 17;
                // The remainder is below `max`, so it fits a usize.
                usize::try_from(self.state % max as u64).unwrap_or(0) + 1
            }
        };
        let len = wanted.min(available);
        self.offset += len;
        self.reads += 1;
        len
    }

    /// Cuts all of `bytes` into reads, continuing the stream.
    pub fn split<'a>(&mut self, bytes: &'a [u8]) -> Vec<&'a [u8]> {
        let mut pieces = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let (piece, tail) = rest.split_at(self.next_len(rest.len()));
            pieces.push(piece);
            rest = tail;
        }
        pieces
    }
}

/// Proptest strategies for chunkings and cut points.
///
/// ```
/// use proptest::prelude::*;
/// use mail_testkit::chunk::{self, strategy, Chunker};
///
/// proptest!(|(chunking in strategy::chunking(), cuts in strategy::cuts(12))| {
///     let input = b"NOOP\r\nQUIT\r\n";
///     prop_assert_eq!(Chunker::new(chunking).split(input).concat(), input);
///     prop_assert_eq!(chunk::split_at(input, &cuts).concat(), input);
/// });
/// ```
pub mod strategy {
    use proptest::prelude::*;

    use super::Chunking;

    /// Any chunking: whole, byte by byte, random sizes (most cases), given sizes.
    pub fn chunking() -> BoxedStrategy<Chunking> {
        prop_oneof![
            1 => Just(Chunking::Whole),
            1 => Just(Chunking::Bytewise),
            6 => (any::<u64>(), 1..=64usize).prop_map(|(seed, max)| Chunking::Seeded { seed, max }),
            2 => proptest::collection::vec(1..=16usize, 1..8).prop_map(Chunking::Sizes),
        ]
        .boxed()
    }

    /// Up to 40 cut points inside a stream of `len` bytes, sorted, without duplicates.
    pub fn cuts(len: usize) -> BoxedStrategy<Vec<usize>> {
        proptest::collection::vec(any::<proptest::sample::Index>(), 0..40)
            .prop_map(move |indices| {
                let mut cuts: Vec<usize> = indices
                    .iter()
                    .map(|index| index.index(len.max(1)))
                    .filter(|&cut| cut > 0)
                    .collect();
                cuts.sort_unstable();
                cuts.dedup();
                cuts
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_at_ignores_bad_cuts_and_never_yields_empty_pieces() {
        assert_eq!(split_at(b"abc", &[0, 3, 7, 1, 1]), [&b"a"[..], b"bc"]);
        assert_eq!(split_at(b"", &[0, 1]), Vec::<&[u8]>::new());
        assert_eq!(split_at(b"abc", &[]), [&b"abc"[..]]);
    }

    #[test]
    fn every_split_counts() {
        // whole, bytewise, 3 one-cuts, 3 two-cuts
        assert_eq!(every_split(b"abcd").count(), 2 + 3 + 3);
        assert!(every_split(b"abcd").all(|pieces| pieces.concat() == b"abcd"));
    }

    #[test]
    fn chunker_modes() {
        assert_eq!(
            Chunker::new(Chunking::Whole).split(b"abcdef"),
            [&b"abcdef"[..]]
        );
        assert_eq!(
            Chunker::new(Chunking::Sizes(vec![2, 0])).split(b"abcdef"),
            [&b"ab"[..], b"c", b"de", b"f"]
        );
        assert_eq!(
            Chunker::new(Chunking::Sizes(Vec::new())).split(b"abc"),
            [&b"abc"[..]]
        );
        // Cuts count from the start of the stream, across calls.
        let mut cuts = Chunker::new(Chunking::Cuts(vec![2, 5]));
        assert_eq!(cuts.split(b"abc"), [&b"ab"[..], b"c"]);
        assert_eq!(cuts.split(b"defg"), [&b"de"[..], b"fg"]);
        assert_eq!(cuts.offset(), 7);
        assert_eq!(cuts.next_len(0), 0);
    }

    #[test]
    fn seeded_sizes_are_in_range_vary_and_repeat() {
        let input = [0u8; 1000];
        for max in [1, 2, 7, 64] {
            let pieces = Chunker::new(Chunking::Seeded { seed: 3, max }).split(&input);
            assert!(pieces.iter().all(|p| (1..=max).contains(&p.len())));
            assert_eq!(pieces.concat(), input);
            if max > 1 {
                let sizes: std::collections::BTreeSet<usize> =
                    pieces.iter().map(|p| p.len()).collect();
                assert!(sizes.len() > 1, "max {max}: sizes vary");
            }
        }
        let a = Chunker::new(Chunking::Seeded { seed: 0, max: 9 }).split(&input);
        let b = Chunker::new(Chunking::Seeded { seed: 1, max: 9 }).split(&input);
        assert_ne!(a, b, "different seeds, different cuts");
        let zero = Chunker::new(Chunking::Seeded { seed: 5, max: 0 }).split(b"abc");
        assert_eq!(zero.len(), 3, "a max of 0 counts as 1");
    }
}
