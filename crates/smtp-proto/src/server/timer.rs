//! Every deadline of a session, in one type.
//!
//! The session waits for one thing at a time: the end of the greeting delay
//! ([`ServerConfig::greeting_delay`]), the end of the delay that holds back the reply to a
//! failed AUTH ([`ServerConfig::auth_failure_delay`]), or the client (its next command line,
//! or the next piece of a body: [`ServerConfig::command_timeout`],
//! [`ServerConfig::data_timeout`]). [`Timer`] holds what it waits for and since when.
//! [`Server::poll_timeout`] asks it for the deadline and [`Server::handle_timeout`] asks it
//! what has expired; each passes the idle timeout of the phase the session is in. While a
//! decision is pending, during the TLS hand-off and after the close nothing is timed, and the
//! server does not ask. (The deadline of a whole message body, from
//! [`ServerConfig::min_data_rate`], is the server's: it depends on the octets received.)
//!
//! The client's idle time runs from the last complete command line (or SASL response line),
//! or from the last read of body octets, never from a partial line: a client dribbling a
//! command an octet at a time is still closed when the command timeout passes.
//!
//! The machine has no clock: an instant is learnt only from the driver's calls. When a
//! decision is answered the client's idle time is therefore restarted by the next
//! `handle_timeout` (due at once), since the reply is being sent then; a slow decision does
//! not eat into the client's time to send its next command (RFC 5321 section 4.5.3.2.7 times
//! the wait for the next command). A failed AUTH's hold starts the same way: due at once,
//! and the first `handle_timeout` sets the release to that instant plus the delay, so the
//! reply is never released earlier than the delay after the failure.

use std::time::{Duration, Instant};

#[cfg(doc)]
use super::{Server, ServerConfig};

/// What the session waits for, and since when.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timer {
    /// When the wait began: the session started or started over after TLS, the greeting was
    /// sent, the client last sent something, or the idle time was restarted after a decision.
    since: Instant,
    wait: Wait,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// The greeting is held back until `until`; `None` for a delay too long for an `Instant`
    /// to represent: the greeting never comes.
    Greeting { until: Option<Instant> },
    /// The client: the deadline is `since` plus the idle timeout of the phase, `None` (never)
    /// when that is too long to represent.
    Client,
    /// A decision was answered since the client last sent something: due at once, and
    /// [`Timer::expire`] starts the client's idle time over.
    Restart,
    /// The reply to a failed AUTH is held back for `delay`. `release` is `None` until the
    /// first [`Timer::expire`] (due at once) sets it to that instant plus `delay`; then
    /// `Some(None)` for a delay too long for an `Instant` to represent (never released).
    Held {
        delay: Duration,
        release: Option<Option<Instant>>,
    },
}

/// What [`Timer::expire`] found had passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expired {
    /// The greeting delay: queue the greeting. The client's idle time starts now.
    Greeting,
    /// The client's idle time: close the session.
    Idle,
    /// The hold of a failed AUTH's reply: send it. The client's idle time starts now.
    Released,
}

impl Timer {
    /// The timer of a session starting at `now`: holding the greeting back for
    /// `greeting_delay` (a zero delay is none), or waiting for the client.
    pub(super) fn new(now: Instant, greeting_delay: Option<Duration>) -> Timer {
        let wait = match greeting_delay {
            Some(delay) if !delay.is_zero() => Wait::Greeting {
                until: now.checked_add(delay),
            },
            _ => Wait::Client,
        };
        Timer { since: now, wait }
    }

    /// Whether the greeting is being held back.
    pub(super) fn holds_greeting(&self) -> bool {
        matches!(self.wait, Wait::Greeting { .. })
    }

    /// The client finished a command line, or sent body octets, in a read at `at`: its idle
    /// time starts over. After a decision the restart at the next [`Timer::expire`] is kept:
    /// the line may have been read before the decision was answered.
    #[inline]
    pub(super) fn input(&mut self, at: Instant) {
        if self.wait == Wait::Client {
            self.since = self.since.max(at);
        }
    }

    /// Whether a decision was answered and the client's idle time starts over at the next
    /// [`Timer::expire`] (the instant is not known before).
    pub(super) fn restarting(&self) -> bool {
        self.wait == Wait::Restart
    }

    /// Holds the reply to a failed AUTH back for `delay` (not zero), starting at the next
    /// [`Timer::expire`], which is due at once.
    pub(super) fn hold(&mut self, delay: Duration) {
        self.wait = Wait::Held {
            delay,
            release: None,
        };
    }

    /// Whether a failed AUTH's reply is being held back.
    pub(super) fn holds_reply(&self) -> bool {
        matches!(self.wait, Wait::Held { .. })
    }

    /// A decision was answered: the client's idle time starts over at the next
    /// [`Timer::expire`]. (No decision can be pending while the greeting is held back.)
    #[inline]
    pub(super) fn decided(&mut self) {
        if self.wait == Wait::Client {
            self.wait = Wait::Restart;
        }
    }

    /// The session starts over at `now` (the TLS handshake is done): waiting for the client.
    pub(super) fn restart(&mut self, now: Instant) {
        *self = Timer {
            since: now,
            wait: Wait::Client,
        };
    }

    /// When [`Timer::expire`] must be called; `idle` is the idle timeout of the phase the
    /// session is in. `None`: never.
    pub(super) fn deadline(&self, idle: Duration) -> Option<Instant> {
        match self.wait {
            Wait::Greeting { until } => until,
            Wait::Client => self.since.checked_add(idle),
            Wait::Restart => Some(self.since),
            Wait::Held { release, .. } => release.unwrap_or(Some(self.since)),
        }
    }

    /// The time is `now`: what has expired, if anything; `idle` as for [`Timer::deadline`].
    pub(super) fn expire(&mut self, now: Instant, idle: Duration) -> Option<Expired> {
        match self.wait {
            Wait::Greeting { until } => {
                if until.is_some_and(|until| now >= until) {
                    self.restart(now);
                    return Some(Expired::Greeting);
                }
                None
            }
            Wait::Restart => {
                self.restart(now);
                None
            }
            Wait::Held {
                delay,
                release: None,
            } => {
                self.wait = Wait::Held {
                    delay,
                    release: Some(now.checked_add(delay)),
                };
                None
            }
            Wait::Held {
                release: Some(release),
                ..
            } => {
                if release.is_some_and(|release| now >= release) {
                    self.restart(now);
                    return Some(Expired::Released);
                }
                None
            }
            Wait::Client => self
                .deadline(idle)
                .is_some_and(|deadline| now >= deadline)
                .then_some(Expired::Idle),
        }
    }
}
