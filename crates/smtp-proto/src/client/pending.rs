//! The replies the client waits for, oldest first ([`Pending`]), what each one answers
//! ([`Expect`]), and the deadline of the oldest.
//!
//! Each reply has its own timeout ([`Timeouts`]), counted from the previous reply, or from
//! the command when nothing else was outstanding: a pipelined group of commands waits for its
//! replies one after the other, each deadline starting when the one before it was met.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use super::setup::Hello;
use super::timer::Timer;
use super::{Awaiting, Timeouts};

/// What an outstanding reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expect {
    Greeting,
    Hello(Hello),
    StartTls,
    /// AUTH, or a SASL response line.
    Auth,
    /// The cancel line `*` after a failed SASL step.
    AuthCancel,
    Rset,
    Mail,
    Rcpt(usize),
    Data,
    /// A BDAT chunk that is not the last.
    Chunk,
    /// `.` or `BDAT ... LAST`: one reply, or in LMTP one per accepted recipient.
    EndOfData,
    Quit,
}

impl Expect {
    pub(super) fn awaiting(self) -> Awaiting {
        match self {
            Expect::Greeting => Awaiting::Greeting,
            Expect::Hello(_) => Awaiting::Hello,
            Expect::StartTls => Awaiting::StartTls,
            Expect::Auth | Expect::AuthCancel => Awaiting::Auth,
            Expect::Rset => Awaiting::Rset,
            Expect::Mail => Awaiting::Mail,
            Expect::Rcpt(_) => Awaiting::Rcpt,
            Expect::Data => Awaiting::Data,
            Expect::Chunk => Awaiting::Chunk,
            Expect::EndOfData => Awaiting::EndOfData,
            Expect::Quit => Awaiting::Quit,
        }
    }

    fn timeout(self, t: &Timeouts) -> Duration {
        match self {
            Expect::Greeting => t.greeting,
            Expect::Mail => t.mail,
            Expect::Rcpt(_) => t.rcpt,
            Expect::Data => t.data_initiation,
            Expect::Chunk => t.data_block,
            Expect::EndOfData => t.data_termination,
            Expect::Hello(_)
            | Expect::StartTls
            | Expect::Auth
            | Expect::AuthCancel
            | Expect::Rset
            | Expect::Quit => t.command,
        }
    }

    /// Whether the reply belongs to a mail transaction.
    fn in_transaction(self) -> bool {
        matches!(
            self,
            Expect::Rset
                | Expect::Mail
                | Expect::Rcpt(_)
                | Expect::Data
                | Expect::Chunk
                | Expect::EndOfData
        )
    }
}

/// The outstanding replies, oldest first, and the timer of the oldest.
///
/// Each entry remembers the first read that may answer it: the read after the one during
/// which the driver took its command (`poll_transmit` emptied the output), counted in `feed`
/// calls; `None` while the command waits in the output. A reply whose first octet came in an
/// earlier read answers nothing, since the server cannot answer a command before it was
/// written.
pub(super) struct Pending {
    queue: VecDeque<(Expect, Option<u64>)>,
    /// Runs for the front of `queue`; `None` when nothing is outstanding.
    timer: Option<Timer>,
}

impl fmt::Debug for Pending {
    // The queue alone: the timer's instants say nothing to a reader of `Client`'s `Debug`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.queue.iter().map(|(expect, _)| expect))
            .finish()
    }
}

impl Pending {
    /// A session just opened at `now`, waiting for the greeting.
    pub(super) fn greeting(now: Instant, timeouts: &Timeouts) -> Self {
        let mut pending = Pending {
            queue: VecDeque::new(),
            timer: None,
        };
        pending.push(now, Expect::Greeting, timeouts);
        pending.sent(0);
        pending
    }

    /// Waits for a reply to what was just written at `now`. Its deadline starts now only when
    /// nothing else was outstanding; otherwise when the replies before it are in.
    pub(super) fn push(&mut self, now: Instant, expect: Expect, timeouts: &Timeouts) {
        if self.queue.is_empty() {
            self.timer = Some(Timer::start(now, expect.timeout(timeouts)));
        }
        self.queue.push_back((expect, None));
    }

    /// The driver took every command written so far: read number `from` and later ones may
    /// answer them.
    pub(super) fn sent(&mut self, from: u64) {
        for (_, first) in self.queue.iter_mut().rev() {
            if first.is_some() {
                break;
            }
            *first = Some(from);
        }
    }

    /// The oldest outstanding reply.
    pub(super) fn front(&self) -> Option<Expect> {
        self.queue.front().map(|&(expect, _)| expect)
    }

    /// Whether the oldest outstanding reply's command was taken for the wire before read
    /// number `read` began, so that a reply starting in that read can answer it.
    pub(super) fn front_sent_before(&self, read: u64) -> bool {
        self.queue
            .front()
            .is_some_and(|&(_, first)| first.is_some_and(|first| first <= read))
    }

    /// The newest outstanding reply.
    pub(super) fn back(&self) -> Option<Expect> {
        self.queue.back().map(|&(expect, _)| expect)
    }

    /// A reply to the front arrived at `now`. With `done` the front is answered and leaves
    /// the queue; without (an LMTP end of data, which has one reply per accepted recipient)
    /// it waits for its next reply. Either way the wait for the front starts again at `now`.
    pub(super) fn answered(&mut self, now: Instant, done: bool, timeouts: &Timeouts) {
        if done {
            self.queue.pop_front();
        }
        self.timer = self
            .front()
            .map(|expect| Timer::start(now, expect.timeout(timeouts)));
    }

    /// Forgets every outstanding reply (the session is over).
    pub(super) fn clear(&mut self) {
        self.queue.clear();
        self.timer = None;
    }

    /// Whether a reply of a mail transaction is outstanding.
    pub(super) fn in_transaction(&self) -> bool {
        self.queue.iter().any(|(expect, _)| expect.in_transaction())
    }

    /// When the oldest outstanding reply is due.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.timer.as_ref().and_then(Timer::deadline)
    }

    /// The oldest outstanding reply, if its deadline has passed at `now`.
    pub(super) fn expired(&self, now: Instant) -> Option<Expect> {
        self.timer
            .as_ref()
            .filter(|timer| timer.expired(now))
            .and(self.front())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{Expect, Pending};
    use crate::client::Timeouts;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn the_greeting_is_due_after_its_timeout() {
        let (start, timeouts) = (Instant::now(), Timeouts::default());
        let pending = Pending::greeting(start, &timeouts);
        assert_eq!(pending.deadline(), Some(start + timeouts.greeting));
        assert_eq!(pending.expired(start + timeouts.greeting - SECOND), None);
        assert_eq!(
            pending.expired(start + timeouts.greeting),
            Some(Expect::Greeting)
        );
    }

    #[test]
    fn each_deadline_counts_from_the_reply_before_it() {
        let (start, timeouts) = (Instant::now(), Timeouts::default());
        let mut pending = Pending::greeting(start, &timeouts);
        pending.answered(start, true, &timeouts);
        assert_eq!((pending.front(), pending.deadline()), (None, None));
        assert_eq!(pending.expired(start + 1000 * timeouts.command), None);

        // A pipelined group: only the first command starts a wait.
        pending.push(start, Expect::Mail, &timeouts);
        pending.push(start + SECOND, Expect::Rcpt(0), &timeouts);
        pending.push(start + SECOND, Expect::Data, &timeouts);
        // Not taken for the wire yet: no read answers them.
        assert!(!pending.front_sent_before(u64::MAX));
        pending.sent(2);
        assert!(!pending.front_sent_before(1));
        assert!(pending.front_sent_before(2));
        assert_eq!(pending.deadline(), Some(start + timeouts.mail));
        assert_eq!(pending.back(), Some(Expect::Data));
        assert!(pending.in_transaction());

        let later = start + 7 * SECOND;
        pending.answered(later, true, &timeouts);
        assert_eq!(pending.front(), Some(Expect::Rcpt(0)));
        assert_eq!(pending.deadline(), Some(later + timeouts.rcpt));
        pending.answered(later, true, &timeouts);
        assert_eq!(pending.deadline(), Some(later + timeouts.data_initiation));
    }

    #[test]
    fn a_reply_that_does_not_finish_the_front_restarts_its_wait() {
        let (start, timeouts) = (Instant::now(), Timeouts::default());
        let mut pending = Pending::greeting(start, &timeouts);
        pending.answered(start, true, &timeouts);
        pending.push(start, Expect::EndOfData, &timeouts);
        let later = start + 30 * SECOND;
        pending.answered(later, false, &timeouts);
        assert_eq!(pending.front(), Some(Expect::EndOfData));
        assert_eq!(pending.deadline(), Some(later + timeouts.data_termination));
    }

    #[test]
    fn cleared_means_nothing_is_due() {
        let (start, timeouts) = (Instant::now(), Timeouts::default());
        let mut pending = Pending::greeting(start, &timeouts);
        pending.push(start, Expect::Quit, &timeouts);
        pending.clear();
        assert_eq!((pending.front(), pending.deadline()), (None, None));
        assert!(!pending.in_transaction());
        assert_eq!(pending.expired(start + timeouts.greeting), None);
    }
}
