//! The randomness the planner needs, supplied by its caller.
//!
//! RFC 5321 section 5.1 asks a sender to spread the load over mail exchangers of equal
//! preference at random. The planner draws no randomness itself (`docs/design.md` section 2.1):
//! the caller hands it a [`PlanRng`], either its own generator or a [`SeededRng`] seeded from a
//! system source (the tokio resolver seeds one from `ring::rand::SystemRandom` per plan). Tests
//! pass a fixed seed and get a fixed order.

/// A source of random 64-bit numbers for shuffling mail exchangers of equal preference.
///
/// The numbers need not be cryptographically strong: they only spread load.
pub trait PlanRng {
    /// The next random number, uniform over all `u64` values.
    fn next_u64(&mut self) -> u64;
}

impl<R: PlanRng + ?Sized> PlanRng for &mut R {
    fn next_u64(&mut self) -> u64 {
        (**self).next_u64()
    }
}

/// A small deterministic generator (SplitMix64) built from a 64-bit seed.
///
/// The same seed gives the same sequence on every platform and in every release of this crate
/// until a changelog entry says otherwise, which is what the planner's table tests rely on.
///
/// ```
/// use mx_resolve::plan::{PlanRng, SeededRng};
/// let mut a = SeededRng::new(7);
/// let mut b = SeededRng::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
#[derive(Debug, Clone)]
pub struct SeededRng {
    state: u64,
}

impl SeededRng {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> SeededRng {
        SeededRng { state: seed }
    }
}

impl PlanRng for SeededRng {
    fn next_u64(&mut self) -> u64 {
        // SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators").
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A uniform index below `bound` (which is at least 1), without modulo bias: draws that fall
/// into the incomplete last block of the `u64` range are rejected and drawn again.
pub(crate) fn below(rng: &mut dyn PlanRng, bound: usize) -> usize {
    let bound = bound.max(1) as u64;
    // The largest multiple of `bound` that fits, as an exclusive limit; `zone` is 0 when
    // 2^64 is itself a multiple (bound a power of two), and then every draw is accepted.
    let zone = u64::MAX - (u64::MAX % bound + 1) % bound;
    loop {
        let draw = rng.next_u64();
        if draw <= zone {
            // `bound` came from a usize, so the remainder fits one.
            return usize::try_from(draw % bound).unwrap_or(0);
        }
    }
}

/// Shuffles `items` in place (Fisher-Yates), every permutation equally likely.
pub(crate) fn shuffle<T>(rng: &mut dyn PlanRng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i + 1);
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_stays_in_range_and_reaches_every_value() {
        let mut rng = SeededRng::new(1);
        let mut seen = [false; 5];
        for _ in 0..200 {
            let i = below(&mut rng, 5);
            assert!(i < 5);
            seen[i] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(below(&mut rng, 1), 0);
    }

    #[test]
    fn shuffle_keeps_the_items() {
        let mut rng = SeededRng::new(3);
        let mut items = [1, 2, 3, 4, 5, 6];
        shuffle(&mut rng, &mut items);
        let mut sorted = items;
        sorted.sort_unstable();
        assert_eq!(sorted, [1, 2, 3, 4, 5, 6]);
    }
}
