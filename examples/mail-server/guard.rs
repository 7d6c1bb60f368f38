//! The login guard: a per-client penalty on failed logins, shared by every listener and every
//! protocol (SMTP AUTH now, POP3 USER/PASS and IMAP LOGIN next), so that guessing passwords
//! costs time whatever the port.
//!
//! Each failed login is answered only after a delay (Dovecot's `auth_failure_delay`, 2 s by
//! default). The guard makes that delay grow for a client that keeps failing: the delay of a
//! failure is
//!
//! ```text
//! min(base × 2^n, max)      n = the client's recent failures before this one
//! ```
//!
//! so with the defaults (base 2 s, max 15 s) a client waits 2, 4, 8, then 15 s for every later
//! failure, from any session and any listener (as Dovecot's `auth_penalty` doubles up to 15 s).
//! The count **decays**: it drops by one for every [`DEFAULT_DECAY`] (60 s) that
//! passes without a failure from the client, so a client that stops failing is back to the
//! base delay after `n` minutes. A successful login does not reset it: one known account must
//! not launder the penalty of guesses at the others.
//!
//! A success is answered at once, so a guesser need not wait for a failure's reply: no
//! success within the time a check takes means "wrong", and it can hang up and try again on a
//! new connection. Holding back the failure replies alone would then cost it nothing. So the
//! delay of a failure also holds the client's **next check**, from any session: a login attempt
//! of a client waits ([`LoginGuard::wait_before_check`]) until the delay of its last failure
//! has passed, as Dovecot's `auth_penalty` delays the next request. A client that waits for its
//! failure reply finds that time passed already and waits no more.
//!
//! Clients are grouped as the connection limits group them ([`crate::listeners::client_key`]):
//! IPv4 by address, IPv6 by prefix (/64 by default), since one IPv6 host holds a whole /64.
//!
//! Memory is bounded: the guard tracks at most [`DEFAULT_CAPACITY`] clients (65536 by
//! default, a few MiB at most); when it is full, the client whose last failure is oldest is
//! forgotten to make room. An attacker with more addresses (or /64s) than that can make the
//! guard forget the oldest penalties, but never grows the table.
//!
//! How a protocol uses it, without holding a thread or a hashing slot during the delay (the
//! state machine holds the reply back and the async driver sleeps):
//!
//! ```text
//! // a login attempt arrives (SMTP: Event::AuthStep), before the password is checked:
//! tokio::time::sleep(guard.wait_before_check(key)).await;
//! server.set_auth_failure_delay(guard.failure_delay(key));
//! // ... check the password (hashing slot held only for the check) ...
//! // the attempt failed (SMTP: Event::AuthFailed):
//! guard.record_failure(key);
//! ```

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Default of `--auth-failure-delay`: Dovecot's `auth_failure_delay`.
pub const DEFAULT_FAILURE_DELAY: Duration = Duration::from_secs(2);
/// Default of `--auth-penalty-max`: Dovecot's penalty ceiling (`AUTH_PENALTY_MAX_SECS`).
pub const DEFAULT_PENALTY_MAX: Duration = Duration::from_secs(15);
/// How long without a failure takes one failure off a client's count.
pub const DEFAULT_DECAY: Duration = Duration::from_secs(60);
/// Clients tracked at most.
pub const DEFAULT_CAPACITY: usize = 65_536;

/// The shared per-client login penalty (see the module docs).
#[derive(Debug)]
pub struct LoginGuard {
    base: Duration,
    max: Duration,
    decay: Duration,
    capacity: usize,
    clients: Mutex<HashMap<IpAddr, Record>>,
}

/// One client's recent failures.
#[derive(Debug, Clone, Copy)]
struct Record {
    /// Failures not yet decayed.
    failures: u32,
    /// When the count was last brought up to date: the last failure, or the last full decay
    /// step after it.
    since: Instant,
    /// The last failure, for eviction.
    last: Instant,
    /// When the delay of the last failure ends: no check of the client starts before.
    release: Instant,
}

impl LoginGuard {
    /// A guard whose delays start at `base` and double per recent failure up to `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        LoginGuard {
            base,
            max: max.max(base),
            decay: DEFAULT_DECAY,
            capacity: DEFAULT_CAPACITY,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// How long without a failure takes one off a client's count (default 60 s).
    pub fn with_decay(mut self, decay: Duration) -> Self {
        self.decay = decay.max(Duration::from_millis(1));
        self
    }

    /// At most `capacity` clients tracked (default 65536; at least 1).
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// The delay a failure of `client` gets now.
    pub fn failure_delay(&self, client: IpAddr) -> Duration {
        self.failure_delay_at(client, Instant::now())
    }

    /// Counts a failed login of `client`.
    pub fn record_failure(&self, client: IpAddr) {
        self.record_failure_at(client, Instant::now())
    }

    /// How long a login attempt of `client` must wait before its password is checked: until
    /// the delay of the client's last failure has passed (zero when it has).
    pub fn wait_before_check(&self, client: IpAddr) -> Duration {
        self.wait_before_check_at(client, Instant::now())
    }

    fn wait_before_check_at(&self, client: IpAddr, now: Instant) -> Duration {
        let clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .get(&client)
            .map_or(Duration::ZERO, |r| r.release.saturating_duration_since(now))
    }

    fn failure_delay_at(&self, client: IpAddr, now: Instant) -> Duration {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let failures = match clients.get_mut(&client) {
            Some(record) => self.decayed(record, now),
            None => 0,
        };
        self.delay_after(failures)
    }

    /// `min(base × 2^failures, max)`.
    fn delay_after(&self, failures: u32) -> Duration {
        let factor = 1u32.checked_shl(failures.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    fn record_failure_at(&self, client: IpAddr, now: Instant) {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if !clients.contains_key(&client) && clients.len() >= self.capacity {
            // Full: forget the client whose last failure is oldest.
            let oldest = clients.iter().min_by_key(|(_, r)| r.last).map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                clients.remove(&oldest);
            }
        }
        let record = clients.entry(client).or_insert(Record {
            failures: 0,
            since: now,
            last: now,
            release: now,
        });
        let failures = self.decayed(record, now);
        // This failure's delay, as `failure_delay` gave it; a time too far to represent
        // holds the client's checks as long as an `Instant` can.
        let delay = self.delay_after(failures);
        let release = now
            .checked_add(delay)
            .or_else(|| now.checked_add(Duration::from_secs(1 << 32)))
            .unwrap_or(now);
        record.release = record.release.max(release);
        // Past the ceiling more failures change nothing; the count stays small.
        record.failures = failures.saturating_add(1).min(32);
        record.since = now;
        record.last = now;
    }

    /// Brings `record` up to date at `now` and returns its count.
    fn decayed(&self, record: &mut Record, now: Instant) -> u32 {
        let elapsed = now.saturating_duration_since(record.since);
        let steps = elapsed.as_nanos() / self.decay.as_nanos().max(1);
        let steps = u32::try_from(steps).unwrap_or(u32::MAX);
        if steps > 0 {
            let used = steps.min(record.failures);
            record.failures -= used;
            record.since = match record.failures {
                0 => now,
                // Keep the remainder: a decay step that has half passed stays half passed.
                _ => record.since + self.decay.saturating_mul(used),
            };
        }
        record.failures
    }

    /// Clients tracked now.
    pub fn tracked(&self) -> usize {
        self.clients.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_delay_doubles_per_failure_up_to_the_ceiling() {
        let guard = LoginGuard::new(secs(2), secs(15));
        let (a, now) = (ip("192.0.2.1"), Instant::now());
        let mut seen = Vec::new();
        for _ in 0..6 {
            seen.push(guard.failure_delay_at(a, now));
            guard.record_failure_at(a, now);
        }
        assert_eq!(seen, [2, 4, 8, 15, 15, 15].map(secs));
        // Another client is not affected.
        assert_eq!(guard.failure_delay_at(ip("192.0.2.2"), now), secs(2));
    }

    #[test]
    fn the_next_check_waits_until_the_last_failure_delay_has_passed() {
        let guard = LoginGuard::new(secs(2), secs(15));
        let (a, t0) = (ip("192.0.2.1"), Instant::now());
        assert_eq!(guard.wait_before_check_at(a, t0), Duration::ZERO);
        guard.record_failure_at(a, t0);
        assert_eq!(guard.wait_before_check_at(a, t0), secs(2));
        assert_eq!(guard.wait_before_check_at(a, t0 + secs(1)), secs(1));
        // A client that waited for its reply waits no more.
        assert_eq!(guard.wait_before_check_at(a, t0 + secs(2)), Duration::ZERO);
        // The second failure's delay is 4 s.
        guard.record_failure_at(a, t0 + secs(2));
        assert_eq!(guard.wait_before_check_at(a, t0 + secs(2)), secs(4));
        // Another client is not held.
        assert_eq!(
            guard.wait_before_check_at(ip("192.0.2.2"), t0),
            Duration::ZERO
        );
    }

    #[test]
    fn the_count_decays_by_one_per_quiet_step() {
        let guard = LoginGuard::new(secs(2), secs(15)).with_decay(secs(60));
        let (a, t0) = (ip("192.0.2.1"), Instant::now());
        for _ in 0..3 {
            guard.record_failure_at(a, t0);
        }
        assert_eq!(guard.failure_delay_at(a, t0), secs(15));
        assert_eq!(guard.failure_delay_at(a, t0 + secs(59)), secs(15));
        assert_eq!(guard.failure_delay_at(a, t0 + secs(60)), secs(8));
        assert_eq!(guard.failure_delay_at(a, t0 + secs(90)), secs(8));
        assert_eq!(guard.failure_delay_at(a, t0 + secs(120)), secs(4));
        assert_eq!(guard.failure_delay_at(a, t0 + secs(180)), secs(2));
        assert_eq!(guard.failure_delay_at(a, t0 + secs(3600)), secs(2));
        // A new failure after the decay starts again from the decayed count.
        guard.record_failure_at(a, t0 + secs(3600));
        assert_eq!(guard.failure_delay_at(a, t0 + secs(3600)), secs(4));
    }

    #[test]
    fn memory_is_bounded_and_the_oldest_client_goes_first() {
        let guard = LoginGuard::new(secs(2), secs(15)).with_capacity(3);
        let t0 = Instant::now();
        for (i, who) in ["192.0.2.1", "192.0.2.2", "192.0.2.3"].iter().enumerate() {
            guard.record_failure_at(ip(who), t0 + secs(i as u64));
        }
        // The first client fails again: it is now the most recent.
        guard.record_failure_at(ip("192.0.2.1"), t0 + secs(5));
        for n in 0..1000u32 {
            let who = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n));
            guard.record_failure_at(who, t0 + secs(10));
            assert!(guard.tracked() <= 3);
        }
        // The repeat offender outlived the first newcomers; now only newcomers are left.
        assert_eq!(guard.tracked(), 3);
        assert_eq!(
            guard.failure_delay_at(ip("192.0.2.2"), t0 + secs(10)),
            secs(2)
        );
    }

    #[test]
    fn large_counts_and_durations_do_not_overflow() {
        let guard = LoginGuard::new(Duration::MAX / 2, Duration::MAX);
        let (a, now) = (ip("2001:db8::"), Instant::now());
        for _ in 0..100 {
            guard.record_failure_at(a, now);
        }
        assert_eq!(guard.failure_delay_at(a, now), Duration::MAX);
        let zero = LoginGuard::new(Duration::ZERO, secs(15));
        zero.record_failure_at(a, now);
        assert_eq!(zero.failure_delay_at(a, now), Duration::ZERO);
    }
}
