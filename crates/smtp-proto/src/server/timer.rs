//! Every deadline of a session, in one type.
//!
//! The session waits for one thing at a time: the end of the greeting delay
//! ([`ServerConfig::greeting_delay`]), or the client (its next command, or the next piece of a
//! body: [`ServerConfig::command_timeout`], [`ServerConfig::data_timeout`]). [`Timer`] holds
//! what it waits for and since when. [`Server::poll_timeout`] asks it for the deadline and
//! [`Server::handle_timeout`] asks it what has expired; each passes the idle timeout of the
//! phase the session is in. While a decision is pending, during the TLS hand-off and after the
//! close nothing is timed, and the server does not ask.
//!
//! The machine has no clock: an instant is learnt only from the driver's calls. When a
//! decision is answered the client's idle time is therefore restarted by the next
//! `handle_timeout` (due at once), since the reply is being sent then; a slow decision does
//! not eat into the client's time to send its next command (RFC 5321 section 4.5.3.2.7 times
//! the wait for the next command).

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
}

/// What [`Timer::expire`] found had passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expired {
    /// The greeting delay: queue the greeting. The client's idle time starts now.
    Greeting,
    /// The client's idle time: close the session.
    Idle,
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

    /// The client sent something at `now`: its idle time starts over.
    #[inline]
    pub(super) fn input(&mut self, now: Instant) {
        self.since = now;
        if self.wait == Wait::Restart {
            self.wait = Wait::Client;
        }
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
            Wait::Client => self
                .deadline(idle)
                .is_some_and(|deadline| now >= deadline)
                .then_some(Expired::Idle),
        }
    }
}
