//! Cutting the peer's bytes into reads, the same way in every target, so that a target can
//! compare a session fed whole with the same session fed in pieces.

use arbitrary::Arbitrary;

/// The byte that separates a peer's flights (`smtp_client_session`) or SASL steps
/// (`sasl_server`) in a fuzz input.
pub const SEPARATOR: u8 = 0xff;

/// Splits `data` at every [`SEPARATOR`], which is dropped: `n` separators give `n + 1` parts.
pub fn at_separators(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|&b| b == SEPARATOR)
}

/// The largest read, in octets.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxRead {
    /// One octet at a time: every boundary inside every token.
    One,
    /// Up to 7 octets.
    Seven,
    /// Up to 64 octets.
    SixtyFour,
    /// Up to 1 MiB: in practice whole inputs, or a few large reads.
    Large,
}

impl MaxRead {
    /// The limit in octets.
    pub fn octets(self) -> usize {
        match self {
            MaxRead::One => 1,
            MaxRead::Seven => 7,
            MaxRead::SixtyFour => 64,
            MaxRead::Large => 1 << 20,
        }
    }
}

/// How a target cuts the peer's bytes into reads: read lengths from a seeded generator, each
/// between 1 and the largest read.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunking {
    /// The largest read.
    pub max: MaxRead,
    /// The generator's seed.
    pub seed: u32,
}

impl Chunking {
    /// A chunker that starts from this seed.
    pub fn chunker(self) -> Chunker {
        Chunker::new(self.max.octets(), self.seed)
    }
}

/// Read lengths from an xorshift generator, each in `1..=max`. One chunker cutting several
/// flights in turn goes on with the same sequence, so the cut of each flight depends on the
/// ones before it, as it would on a socket.
#[derive(Debug, Clone)]
pub struct Chunker {
    max: usize,
    state: u32,
}

impl Chunker {
    /// A chunker with reads of at most `max` octets (at least 1); `seed` may be any value.
    pub fn new(max: usize, seed: u32) -> Self {
        Chunker {
            max: max.max(1),
            // Xorshift never leaves zero.
            state: seed | 1,
        }
    }

    /// The next read length.
    fn next_len(&mut self) -> usize {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 17;
        self.state ^= self.state << 5;
        (self.state as usize % self.max) + 1
    }

    /// Cuts `data` into reads; they are in order and join to `data` (none for empty data).
    pub fn split<'a>(&mut self, data: &'a [u8]) -> Vec<&'a [u8]> {
        let mut reads = Vec::new();
        let mut rest = data;
        while !rest.is_empty() {
            let (read, tail) = rest.split_at(self.next_len().min(rest.len()));
            reads.push(read);
            rest = tail;
        }
        reads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_join_to_the_data_and_stay_within_the_limit() {
        let data: Vec<u8> = (0..=255).collect();
        for max in [1, 7, 64] {
            let reads = Chunker::new(max, 42).split(&data);
            assert!(reads.iter().all(|r| !r.is_empty() && r.len() <= max));
            assert_eq!(reads.concat(), data);
        }
        assert!(Chunker::new(7, 0).split(b"").is_empty());
    }

    #[test]
    fn one_chunker_goes_on_across_flights() {
        let lengths = |reads: Vec<&[u8]>| reads.iter().map(|r| r.len()).collect::<Vec<_>>();
        let mut chunker = Chunker::new(64, 9);
        chunker.split(&[0; 100]);
        let second = lengths(chunker.split(&[1; 100]));
        let fresh = lengths(Chunker::new(64, 9).split(&[1; 100]));
        assert_ne!(
            second, fresh,
            "the second flight is cut as if it were the first"
        );
    }

    #[test]
    fn separators_are_dropped() {
        let parts: Vec<&[u8]> = at_separators(b"a\xffbc\xff").collect();
        assert_eq!(parts, [&b"a"[..], b"bc", b""]);
    }
}
