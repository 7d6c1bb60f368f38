//! When to try a deferred message again, when to give up, and when to warn the sender
//! (RFC 5321 section 4.5.4.1).
//!
//! The RFC asks for a retry interval of at least 30 minutes and a give-up time of at least 4-5
//! days; the defaults are a first retry after 30 minutes, then 1, 2 and 4 hours, every 4 hours
//! after that, for 5 days, with a delay notice to the sender after 4 hours (Postfix's
//! `delay_warning_time` when set, and what the large providers send). Every value is a flag.

use std::time::{Duration, SystemTime};

use super::envelope::later;

/// The retry policy of the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// `--retry-schedule`: the wait after the 1st, 2nd, ... failed attempt; the last value
    /// repeats. Never empty.
    pub retry: Vec<Duration>,
    /// `--max-queue-lifetime`: after this long in the queue, a recipient still failing
    /// temporarily is bounced (status 4.4.7), and a bounce that cannot be delivered is dropped
    /// with a log line.
    pub lifetime: Duration,
    /// `--delay-warning`: after this long, the sender is told once that the message is delayed;
    /// `None` (`--delay-warning 0`) sends no notice.
    pub delay_warning: Option<Duration>,
}

impl Default for Schedule {
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        Schedule {
            retry: vec![minutes(30), minutes(60), minutes(120), minutes(240)],
            lifetime: Duration::from_secs(5 * 24 * 3600),
            delay_warning: Some(minutes(240)),
        }
    }
}

impl Schedule {
    /// The wait after `attempts` failed attempts (1 for the first).
    pub fn delay(&self, attempts: u32) -> Duration {
        let index = (attempts.max(1) - 1) as usize;
        self.retry
            .get(index)
            .or(self.retry.last())
            .copied()
            .unwrap_or(Duration::from_secs(30 * 60))
    }

    /// Whether a message that arrived at `arrival` has outlived the queue lifetime at `now`.
    pub fn expired(&self, arrival: SystemTime, now: SystemTime) -> bool {
        age(arrival, now) >= self.lifetime
    }

    /// Whether a message that arrived at `arrival` is due its delay notice at `now` (once:
    /// the caller remembers that it was sent).
    pub fn warn(&self, arrival: SystemTime, now: SystemTime) -> bool {
        self.delay_warning
            .is_some_and(|after| age(arrival, now) >= after)
    }

    /// The next try after a failed attempt at `now`: never beyond the lifetime's end, so the
    /// last attempt comes when the message expires rather than up to one interval later.
    pub fn next_try(&self, arrival: SystemTime, attempts: u32, now: SystemTime) -> SystemTime {
        let next = later(now, self.delay(attempts));
        let end = self.end(arrival);
        if next > end && end > now { end } else { next }
    }

    /// When a message that arrived at `arrival` expires (at most the latest time an envelope
    /// holds, however long the lifetime).
    pub fn end(&self, arrival: SystemTime) -> SystemTime {
        later(arrival, self.lifetime)
    }
}

/// How long ago `arrival` was at `now` (zero if the clock went back).
fn age(arrival: SystemTime, now: SystemTime) -> Duration {
    now.duration_since(arrival).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn the_defaults_follow_rfc_5321() {
        let s = Schedule::default();
        // RFC 5321 section 4.5.4.1: at least 30 minutes, give up after 4-5 days.
        assert!(s.delay(1) >= Duration::from_secs(30 * 60));
        assert_eq!(s.delay(2), Duration::from_secs(3600));
        assert_eq!(s.delay(4), Duration::from_secs(4 * 3600));
        assert_eq!(
            s.delay(40),
            Duration::from_secs(4 * 3600),
            "the last repeats"
        );
        assert_eq!(s.lifetime, Duration::from_secs(5 * 86400));
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert!(!s.expired(t0, t0 + Duration::from_secs(5 * 86400 - 1)));
        assert!(s.expired(t0, t0 + Duration::from_secs(5 * 86400)));
        assert!(!s.warn(t0, t0 + Duration::from_secs(4 * 3600 - 1)));
        assert!(s.warn(t0, t0 + Duration::from_secs(4 * 3600)));
        // A clock that went back is no age.
        assert!(!s.expired(t0, t0 - Duration::from_secs(10)));
    }

    #[test]
    fn the_last_try_is_at_the_end_of_the_lifetime() {
        let s = Schedule {
            retry: vec![Duration::from_secs(100)],
            lifetime: Duration::from_secs(250),
            delay_warning: None,
        };
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(s.next_try(t0, 1, t0), t0 + Duration::from_secs(100));
        assert_eq!(
            s.next_try(t0, 3, t0 + Duration::from_secs(200)),
            t0 + Duration::from_secs(250)
        );
        assert!(!s.warn(t0, t0 + Duration::from_secs(10_000)), "no notice");
    }
    #[test]
    fn huge_intervals_saturate_instead_of_panicking() {
        // `--max-queue-lifetime` and `--retry-schedule` take any number of seconds or days.
        let huge = Duration::from_secs(u64::MAX);
        let s = Schedule {
            retry: vec![huge],
            lifetime: huge,
            delay_warning: Some(huge),
        };
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000);
        let next = std::panic::catch_unwind(|| s.next_try(t0, 1, t0))
            .unwrap_or_else(|_| panic!("next_try panics"));
        assert!(next > t0 + Duration::from_secs(100 * 365 * 86400));
        let end = std::panic::catch_unwind(|| s.end(t0)).unwrap_or_else(|_| panic!("end panics"));
        assert!(end >= next);
        assert!(!s.expired(t0, t0 + Duration::from_secs(10)));
    }
}
