//! Output: queueing replies, counting errors, closing the session.

use crate::reply::Reply;

use super::{Event, Held, Phase, Server, SessionError, replies};

/// The line ending of every reply.
impl Server {
    /// Queues the `220` greeting.
    pub(super) fn queue_greeting(&mut self) {
        let text = replies::greeting(&self.config.hostname, self.config.mode);
        self.line(text.as_bytes());
    }

    /// Queues the EHLO or LHLO reply: the capabilities in force.
    pub(super) fn capabilities_reply(&mut self) {
        let caps = replies::capabilities(&self.config, self.tls, self.auth_offered());
        match caps.to_reply() {
            Ok(reply) => reply.encode(&mut self.output),
            // The hostname is a validated Domain and the rest are keywords: unreachable, but
            // a plain greeting is a correct answer too.
            Err(_) => {
                let text = replies::helo(&self.config.hostname);
                self.line(text.as_bytes());
            }
        }
    }

    /// Queues a reply line; `text` has no CRLF.
    #[inline]
    pub(super) fn line(&mut self, text: &[u8]) {
        self.output.extend_from_slice(text);
        self.output.extend_from_slice(replies::CRLF);
    }

    /// Queues a negative reply, or `421` and a close once the error limit is passed.
    #[inline]
    pub(super) fn error(&mut self, text: &[u8]) {
        if !matches!(self.phase, Phase::Closed) && self.count_error() {
            self.line(text);
        }
    }

    /// [`Server::error`] with a reply of the application's.
    pub(super) fn count_error_with(&mut self, reply: &Reply<'_>) {
        if !self.is_closed() && self.count_error() {
            reply.encode(&mut self.output);
        }
    }

    /// Counts one error; returns `false` (after closing the session) past the limit.
    pub(super) fn count_error(&mut self) -> bool {
        self.errors += 1;
        if self.errors > self.config.max_errors {
            self.close_with(replies::TOO_MANY_ERRORS, SessionError::TooManyErrors);
            return false;
        }
        true
    }

    /// Queues a final reply and ends the session with `reason`.
    pub(super) fn close_with(&mut self, text: &[u8], reason: SessionError) {
        self.line(text);
        self.close_silently(Err(reason));
    }

    /// Holds what was queued after the first `mark` octets of the output back for the
    /// failed-AUTH delay, with the session's `ending` if the failure closes it; without a
    /// delay, sends it at once (and closes).
    pub(super) fn hold_back(&mut self, mark: usize, ending: Option<SessionError>) {
        let delay = self.auth_failure_delay;
        if delay.is_zero() || self.is_closed() {
            if let Some(ending) = ending {
                self.close_silently(Err(ending));
            }
            return;
        }
        let output = self.output.split_off(mark.min(self.output.len()));
        self.held = Some(Held { output, ending });
        self.timer.hold(delay);
    }

    /// The failed-AUTH delay has passed: sends the held reply, and closes the session if the
    /// failure ended it.
    pub(super) fn release(&mut self) {
        let Some(held) = self.held.take() else {
            return;
        };
        self.output.extend_from_slice(&held.output);
        match held.ending {
            Some(ending) => self.close_silently(Err(ending)),
            None => self.after_transaction(),
        }
    }

    /// Ends the session without a reply of its own: nothing more is read, and
    /// [`Event::Closed`] is the last event.
    pub(super) fn close_silently(&mut self, ending: Result<(), SessionError>) {
        self.phase = Phase::Closed;
        self.held = None;
        self.pending = None;
        self.txn = None;
        self.input.clear();
        self.events.push_back(Event::Closed(ending));
    }

    /// Reports [`Event::EarlyTalker`] once.
    pub(super) fn report_early_talker(&mut self) {
        if !self.early_talker_reported {
            self.early_talker_reported = true;
            self.events.push_back(Event::EarlyTalker);
        }
    }
}
