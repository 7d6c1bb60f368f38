//! Output: queueing replies, counting errors, closing the session.

use crate::reply::{Capabilities, Reply};

use super::{Event, Mode, Phase, Server, SessionError};

/// The line ending of every reply.
pub(super) const CRLF: &[u8] = b"\r\n";

impl Server {
    /// Queues the `220` greeting.
    pub(super) fn queue_greeting(&mut self) {
        let protocol = match self.config.mode {
            Mode::Smtp => "ESMTP",
            Mode::Lmtp => "LMTP",
        };
        let text = format!("220 {} {protocol} ready", self.config.hostname);
        self.line(text.as_bytes());
    }

    /// Queues the EHLO or LHLO reply: the capabilities in force.
    pub(super) fn capabilities_reply(&mut self) {
        let auth = self
            .auth_offered()
            .then(|| self.config.auth_mechanisms.iter().copied().collect());
        let caps = Capabilities {
            greeting: self.config.hostname.as_str().as_bytes().to_vec(),
            pipelining: true,
            size: Some(Some(self.config.max_message_size)),
            eight_bit_mime: self.config.eight_bit_mime,
            smtputf8: self.config.smtputf8,
            enhanced_status_codes: true,
            chunking: self.config.chunking,
            binary_mime: self.config.chunking,
            dsn: self.config.dsn,
            starttls: self.config.starttls && !self.tls,
            requiretls: self.config.requiretls && self.tls,
            auth,
            limits: Some(vec![(
                "RCPTMAX".to_owned(),
                self.config.max_recipients.to_string(),
            )]),
            ..Capabilities::default()
        };
        match caps.to_reply() {
            Ok(reply) => reply.encode(&mut self.output),
            // The hostname is a validated Domain and the rest are keywords: unreachable, but
            // a plain greeting is a correct answer too.
            Err(_) => {
                let text = format!("250 {}", self.config.hostname);
                self.line(text.as_bytes());
            }
        }
    }

    /// Queues a reply line; `text` has no CRLF.
    #[inline]
    pub(super) fn line(&mut self, text: &[u8]) {
        self.output.extend_from_slice(text);
        self.output.extend_from_slice(CRLF);
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
    fn count_error(&mut self) -> bool {
        self.errors += 1;
        if self.errors > self.config.max_errors {
            self.close_with(
                b"421 4.7.0 Too many errors, closing connection",
                SessionError::TooManyErrors,
            );
            return false;
        }
        true
    }

    /// Queues a final reply and ends the session with `reason`.
    pub(super) fn close_with(&mut self, text: &[u8], reason: SessionError) {
        self.line(text);
        self.close_silently(Err(reason));
    }

    /// Ends the session without a reply of its own: nothing more is read, and
    /// [`Event::Closed`] is the last event.
    pub(super) fn close_silently(&mut self, ending: Result<(), SessionError>) {
        self.phase = Phase::Closed;
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
