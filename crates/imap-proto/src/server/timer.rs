//! The client's idle time, which runs from its last complete command (not its last byte: a
//! client dribbling a line one octet at a time is still idle), or from the last answer to a
//! decision.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub(super) struct Timer {
    /// When the client's idle time began.
    pub(super) since: Instant,
    /// A decision was answered since: the idle time starts over at the next `expire`.
    restart: bool,
}

impl Timer {
    pub(super) fn new(now: Instant) -> Timer {
        Timer {
            since: now,
            restart: false,
        }
    }

    /// A complete command arrived at `now`. The idle time never starts earlier than it did:
    /// a command fed before a failed login's answer was released (pipelined) counts from
    /// the release, so that its own failure is held for the whole delay again.
    pub(super) fn line(&mut self, now: Instant) {
        self.since = self.since.max(now);
        self.restart = false;
    }

    /// A decision was answered.
    pub(super) fn decided(&mut self) {
        self.restart = true;
    }

    /// The deadline for an idle timeout of `idle`; `None`: never.
    pub(super) fn deadline(&self, idle: Duration) -> Option<Instant> {
        if self.restart {
            Some(self.since)
        } else {
            self.since.checked_add(idle)
        }
    }

    /// Whether the idle time has run out at `now`.
    pub(super) fn expire(&mut self, now: Instant, idle: Duration) -> bool {
        if self.restart {
            self.line(now);
            return false;
        }
        self.deadline(idle).is_some_and(|deadline| now >= deadline)
    }
}
