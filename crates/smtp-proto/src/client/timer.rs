//! [`Timer`], the one representation of a deadline in the client.
//!
//! The client has one deadline at a time: that of the oldest reply it waits for (see
//! [`Pending`](super::pending::Pending)). [`Client::poll_timeout`](super::Client::poll_timeout)
//! reports it and [`Client::handle_timeout`](super::Client::handle_timeout) checks it, both
//! through this type.

use std::time::{Duration, Instant};

/// A wait that started at some instant and may last a given time (one of the
/// [`Timeouts`](super::Timeouts)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Timer {
    start: Instant,
    limit: Duration,
}

impl Timer {
    /// A wait of `limit` starting at `now`.
    pub(super) fn start(now: Instant, limit: Duration) -> Self {
        Timer { start: now, limit }
    }

    /// When the wait is over; `None` when that is too far in the future for an [`Instant`]
    /// (such a timer never expires).
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.start.checked_add(self.limit)
    }

    /// Whether the deadline has been reached at `now`.
    pub(super) fn expired(&self, now: Instant) -> bool {
        self.deadline().is_some_and(|deadline| now >= deadline)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::Timer;

    #[test]
    fn expires_at_the_deadline_not_before() {
        let start = Instant::now();
        let timer = Timer::start(start, Duration::from_secs(5));
        assert_eq!(timer.deadline(), Some(start + Duration::from_secs(5)));
        assert!(!timer.expired(start + Duration::from_millis(4999)));
        assert!(timer.expired(start + Duration::from_secs(5)));
    }

    #[test]
    fn a_deadline_past_the_end_of_time_never_expires() {
        let start = Instant::now();
        let timer = Timer::start(start, Duration::MAX);
        assert_eq!(timer.deadline(), None);
        assert!(!timer.expired(start + Duration::from_secs(1 << 40)));
    }
}
