//! [`SimClock`]: time that moves only when the test says so.
//!
//! The machines never read a clock: every call that needs the time takes an `Instant`. A test
//! hands them `clock.now()` and moves time on with [`SimClock::advance`], so a five-minute
//! timeout is tested in microseconds and never flakes.

use std::time::{Duration, Instant};

/// A simulated clock: a fixed start and the time elapsed since, which only
/// [`advance`](SimClock::advance) changes.
///
/// ```
/// use std::time::Duration;
/// use mail_testkit::SimClock;
///
/// let mut clock = SimClock::new();
/// let start = clock.now();
/// clock.advance(Duration::from_secs(300));
/// assert_eq!(clock.now() - start, Duration::from_secs(300));
/// assert_eq!(clock.elapsed(), Duration::from_secs(300));
/// assert_eq!(clock.now(), clock.now(), "time stands still between advances");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimClock {
    start: Instant,
    elapsed: Duration,
}

impl Default for SimClock {
    fn default() -> Self {
        SimClock::new()
    }
}

impl SimClock {
    /// A clock that starts now (the real `Instant::now()`, read once).
    pub fn new() -> Self {
        SimClock::starting_at(Instant::now())
    }

    /// A clock that starts at `start`.
    pub fn starting_at(start: Instant) -> Self {
        SimClock {
            start,
            elapsed: Duration::ZERO,
        }
    }

    /// The instant the clock started at.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// The current simulated time.
    pub fn now(&self) -> Instant {
        self.start + self.elapsed
    }

    /// How far the clock has moved since it started.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Moves the clock on by `by`.
    pub fn advance(&mut self, by: Duration) {
        self.elapsed += by;
    }

    /// Moves the clock on to `to`, if that is later than now; returns how far it moved.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mail_testkit::SimClock;
    ///
    /// let mut clock = SimClock::new();
    /// let deadline = clock.now() + Duration::from_secs(60);
    /// assert_eq!(clock.advance_to(deadline), Duration::from_secs(60));
    /// assert_eq!(clock.advance_to(clock.start()), Duration::ZERO, "time never goes back");
    /// ```
    pub fn advance_to(&mut self, to: Instant) -> Duration {
        let by = to.saturating_duration_since(self.now());
        self.advance(by);
        by
    }
}
