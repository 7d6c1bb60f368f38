//! The client's idle time, which runs from the end of its last complete command line (not
//! its last byte: a client dribbling a line one octet at a time is still idle), or from the
//! last answer to a decision. The session's other deadlines are fixed instants kept by the
//! server: the time to log in, and the release of a held failed-login reply.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub(super) struct Timer {
    /// When the client's idle time began.
    pub(super) since: Instant,
    /// A decision was answered since: due at once, and the idle time starts over then.
    restart: bool,
}

impl Timer {
    pub(super) fn new(now: Instant) -> Timer {
        Timer {
            since: now,
            restart: false,
        }
    }

    /// A complete command line arrived at `now`.
    pub(super) fn line(&mut self, now: Instant) {
        self.since = now;
        self.restart = false;
    }

    /// A decision was answered: the idle time starts over at the next `expire`.
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
