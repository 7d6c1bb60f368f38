//! Input: framing what the client sends by phase, and dispatching each command line.

use bytes::Buf;
use mail_wire::http;
use mail_wire::line::FrameRef;

use crate::command::{Command, ParseOptions};
use crate::error::CommandError;
use crate::types::Host;

use super::decision::Pending;
use super::transaction::Discarded;
use super::{Event, HelloVerb, Mode, Phase, Server, SessionError, replies};

/// What the framer found at the front of the input in the command phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    /// A CRLF line (its text is in `Server::line`).
    Line,
    /// A line ending in a bare LF; `bdat` when it starts with that verb.
    BareLf { bdat: bool },
    /// A line over the limit, skipped; `bdat` when it starts with that verb.
    TooLong { bdat: bool },
    /// Any other frame.
    Other,
}

impl Server {
    /// Processes input until an event is queued, a decision is pending or input runs out.
    /// Returns whether it made progress.
    #[inline]
    pub(super) fn step(&mut self) -> bool {
        match &mut self.phase {
            Phase::Closed | Phase::TlsHandoff | Phase::PreGreeting => false,
            Phase::Command => {
                // The rest of an over-long line is dropped here rather than by the framer, so
                // that a line found too long is always at the front of the input when it is
                // reported: whether it is a BDAT command (whose chunk cannot then be measured)
                // must not depend on where the reads happened to split.
                if self.framer.is_discarding() {
                    match memchr::memchr(b'\n', &self.input) {
                        Some(lf) => {
                            self.input.advance(lf + 1);
                            self.framer.reset();
                        }
                        None => {
                            self.input.clear();
                            return false;
                        }
                    }
                }
                // The line is framed in place and copied into `self.line` (a command line is
                // short), rather than split off `input` as a reference-counted `Bytes`: the
                // copy costs less than the reference count, and `input` stays unshared.
                let mut rest: &[u8] = &self.input;
                let before = rest.len();
                let frame = self.framer.next_frame_in(&mut rest);
                let consumed = before - rest.len();
                let mut line = std::mem::take(&mut self.line);
                line.clear();
                // Whether the line is an HTTP request line: the framing does not matter, a
                // request line too long to frame is refused as well.
                let refuse_http = self.config.refuse_http;
                let mut http = false;
                let kind = match frame {
                    None => None,
                    Some(FrameRef::Line(text)) => {
                        http = refuse_http && http::starts_with_method(text);
                        line.extend_from_slice(text);
                        Some(LineKind::Line)
                    }
                    Some(FrameRef::BareLf(text)) => {
                        http = refuse_http && http::starts_with_method(text);
                        Some(LineKind::BareLf {
                            bdat: is_bdat(text),
                        })
                    }
                    // Reported when the line passes the limit, with its start still at the
                    // front of the input.
                    Some(FrameRef::TooLong { .. }) => {
                        http = refuse_http && http::starts_with_method(&self.input);
                        Some(LineKind::TooLong {
                            bdat: is_bdat(&self.input),
                        })
                    }
                    Some(_) => Some(LineKind::Other),
                };
                if consumed == self.input.len() {
                    self.input.clear();
                } else {
                    self.input.advance(consumed);
                }
                if let Some(kind) = kind {
                    // A complete line: the client's idle time starts over (not at each
                    // octet, so that a line sent an octet at a time is still timed).
                    self.timer.input(self.fed_at);
                    if http {
                        self.on_http_request();
                    } else {
                        self.on_command_frame(kind, &line);
                    }
                }
                // Keep the buffer for the next line, unless a long AUTH line grew it.
                if line.capacity() <= 1024 {
                    self.line = line;
                }
                kind.is_some()
            }
            Phase::Data => {
                let before = self.input.len();
                let event = self.dot.next_event(&mut self.input);
                // The body's octets as sent count toward the minimum rate, those drained
                // after a refusal too: a client sending them fast enough gets its refusal.
                let used = before.saturating_sub(self.input.len()) as u64;
                if let Some(txn) = &mut self.txn {
                    txn.received = txn.received.saturating_add(used);
                }
                match event {
                    None => false,
                    Some(event) => {
                        self.on_dot_event(event);
                        true
                    }
                }
            }
            Phase::Bdat {
                remaining,
                last,
                discard,
            } => {
                if *remaining > 0 {
                    if self.input.is_empty() {
                        return false;
                    }
                    let take = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(self.input.len());
                    let chunk = self.input.split_to(take).freeze();
                    *remaining -= take as u64;
                    if discard.is_some() {
                        // Discarded octets count toward the minimum rate too: a client sending
                        // a refused chunk fast enough gets its refusal, not a timeout.
                        if let Some((_, discarded)) = &mut self.discard_clock {
                            *discarded = discarded.saturating_add(take as u64);
                        } else if let Some(txn) = &mut self.txn {
                            txn.received = txn.received.saturating_add(take as u64);
                        }
                    } else {
                        let policy = self.config.bare_line_ending;
                        let limit = self.config.max_message_size;
                        if let Some(txn) = &mut self.txn {
                            txn.received += take as u64;
                            let refused = txn.body_piece(policy, limit, chunk, &mut self.events);
                            if let Some(refused) = refused {
                                *discard = Some(Discarded::refusing(refused));
                                self.events.push_back(Event::BodyAborted(refused));
                            }
                        }
                    }
                    if *remaining > 0 {
                        return true;
                    }
                }
                let (last, mut discard) = (*last, *discard);
                if last && discard.is_none() {
                    let policy = self.config.bare_line_ending;
                    let limit = self.config.max_message_size;
                    if let Some(txn) = &mut self.txn {
                        if let Some(refused) = txn.body_end(policy, limit, &mut self.events) {
                            discard = Some(Discarded::refusing(refused));
                            self.events.push_back(Event::BodyAborted(refused));
                        }
                    }
                }
                self.phase = Phase::Command;
                self.on_chunk_end(last, discard);
                true
            }
            Phase::AuthResponse { .. } => match self.framer.next_frame(&mut self.input) {
                None => false,
                Some(frame) => {
                    self.timer.input(self.fed_at);
                    self.on_auth_frame(frame);
                    true
                }
            },
        }
    }

    /// A frame of the command phase: a line to dispatch, or one refused by its framing.
    fn on_command_frame(&mut self, kind: LineKind, line: &[u8]) {
        if self.shutting_down && self.txn.is_none() {
            self.close_with(replies::SHUTTING_DOWN, SessionError::Shutdown);
            return;
        }
        let too_long = line.len() + replies::CRLF.len() > self.config.max_line_len;
        match kind {
            // A refused BDAT line leaves its chunk unmeasured: the octets that follow would be
            // read as commands (RFC 3030 section 2: they follow at once), so the stream cannot
            // be trusted.
            LineKind::Line if too_long && is_bdat(line) => self.unreadable_bdat(),
            LineKind::TooLong { bdat: true } | LineKind::BareLf { bdat: true } => {
                self.unreadable_bdat()
            }
            // While AUTH is offered the framer lets lines of AUTH_LINE_LIMIT through, for
            // the AUTH command only (RFC 4954 section 4); the others keep the configured limit.
            LineKind::Line if too_long && !has_verb(line, b"AUTH") => {
                self.error(replies::LINE_TOO_LONG)
            }
            LineKind::Line => self.on_command_line(line),
            LineKind::TooLong { .. } => self.error(replies::LINE_TOO_LONG),
            LineKind::BareLf { .. } => self.error(replies::BARE_LF),
            // Only LineFramer::finish_in produces anything else, which the server never calls.
            LineKind::Other => self.error(replies::NOT_A_LINE),
        }
    }

    /// Parses a command line and dispatches the command.
    fn on_command_line(&mut self, line: &[u8]) {
        let utf8 = self.txn.as_ref().is_some_and(|t| t.params.smtputf8);
        let options = ParseOptions::default().with_smtputf8(utf8);
        if !is_bdat(line) {
            // The client's pipeline of chunks after a refused one has ended.
            self.bdat_refused = false;
            self.discard_clock = None;
        }
        let command = match Command::parse_with(line, options) {
            Ok(command) => command,
            Err(error) => return self.on_parse_error(line, &error),
        };
        match command {
            Command::Helo(domain) => self.on_hello(HelloVerb::Helo, Host::Domain(domain)),
            Command::Ehlo(host) => self.on_hello(HelloVerb::Ehlo, host),
            Command::Lhlo(host) => self.on_hello(HelloVerb::Lhlo, host),
            Command::Mail { from, params } => self.on_mail(from, params),
            Command::Rcpt { to, params } => self.on_rcpt(to, params),
            Command::Data => self.on_data(),
            Command::Bdat { size, last } => self.on_bdat(size, last),
            Command::Rset => {
                self.txn = None;
                self.junk(replies::OK);
            }
            Command::Noop(_) => self.junk(replies::OK),
            Command::Quit => {
                self.line(replies::BYE);
                self.close_silently(Ok(()));
            }
            Command::Vrfy(_) => self.junk(replies::CANNOT_VRFY),
            Command::Expn(_) => {
                // Already an error; counted as junk too, so that it uses up the allowance.
                self.junk_count = self.junk_count.saturating_add(1);
                self.error(replies::NO_EXPN);
            }
            Command::Etrn(_) => self.error(replies::NO_ETRN),
            Command::Help(_) => self.junk(replies::HELP),
            Command::StartTls => self.on_starttls(),
            Command::Auth {
                mechanism,
                initial_response,
            } => self.on_auth(
                mechanism.as_str(),
                initial_response.as_ref().map(|r| r.as_str()),
            ),
        }
    }

    /// Answers a junk command (NOOP, RSET, VRFY, HELP; a repeated greeting is counted in
    /// `on_hello`) with `text`: past
    /// [`ServerConfig::max_junk_commands`](super::ServerConfig::max_junk_commands) before a
    /// successful AUTH the same reply counts as an error (Postfix `smtpd_junk_command_limit`).
    fn junk(&mut self, text: &[u8]) {
        self.junk_count = self.junk_count.saturating_add(1);
        if self.authenticated.is_none() && self.junk_count > self.config.max_junk_commands {
            self.error(text);
        } else {
            self.line(text);
        }
    }

    /// Answers a line that does not parse.
    fn on_parse_error(&mut self, line: &[u8], error: &CommandError) {
        let text = match error {
            CommandError::UnknownCommand => {
                return self.error(replies::UNKNOWN_COMMAND);
            }
            CommandError::Utf8NotAllowed { .. } => {
                return self.error(replies::UTF8_NEEDS_SMTPUTF8);
            }
            CommandError::Overflow {
                rule: "size-value", ..
            } => {
                // RFC 1870: a SIZE beyond 64 bits is certainly beyond the limit.
                return self.error(replies::TOO_LARGE);
            }
            other => replies::syntax_error(other),
        };
        if is_bdat(line) {
            // The chunk that follows cannot be measured: the stream cannot be trusted.
            return self.desynchronised();
        }
        self.error(text.as_bytes());
    }

    /// An HTTP request line ([`ServerConfig::refuse_http`](super::ServerConfig::refuse_http)):
    /// closes before anything after it, the request's header fields and body, is read.
    fn on_http_request(&mut self) {
        self.close_with(replies::HTTP_REQUEST, SessionError::HttpRequest);
    }

    /// A BDAT line whose chunk size does not parse: its chunk cannot be found.
    fn desynchronised(&mut self) {
        self.close_with(replies::INVALID_CHUNK_SIZE, SessionError::Desynchronised);
    }

    /// A BDAT line refused by its framing (too long, bare LF): its chunk cannot be found.
    fn unreadable_bdat(&mut self) {
        self.close_with(replies::UNREADABLE_BDAT, SessionError::Desynchronised);
    }

    /// HELO, EHLO or LHLO: checks the verb fits the mode, then asks the application.
    fn on_hello(&mut self, verb: HelloVerb, host: Host<'_>) {
        let wrong_verb = match self.config.mode {
            Mode::Smtp => verb == HelloVerb::Lhlo,
            Mode::Lmtp => verb != HelloVerb::Lhlo,
        };
        if wrong_verb {
            return self.error(match self.config.mode {
                Mode::Smtp => replies::USE_EHLO,
                Mode::Lmtp => replies::USE_LHLO,
            });
        }
        if self.hello.is_some() && self.authenticated.is_none() {
            // A greeting repeated in the same TLS layer is junk: an EHLO every few seconds
            // must not keep a session open for ever where a NOOP cannot. Past the limit it
            // is answered as usual and counted as an error.
            self.junk_count = self.junk_count.saturating_add(1);
            if self.junk_count > self.config.max_junk_commands && !self.count_error() {
                return;
            }
        }
        self.ask(
            Pending::Hello(verb),
            Event::Hello {
                verb,
                host: host.into_owned(),
            },
        );
    }

    /// STARTTLS (RFC 3207): hands the connection over to the TLS handshake.
    fn on_starttls(&mut self) {
        if self.tls {
            return self.error(replies::TLS_ALREADY_ACTIVE);
        }
        if !self.config.starttls {
            return self.error(replies::NO_STARTTLS);
        }
        if !self.input.is_empty() {
            // RFC 3207 section 4.2 and CVE-2011-0411: commands pipelined after STARTTLS would
            // run as if they came through TLS.
            self.input.clear();
            return self.close_with(
                replies::PIPELINED_AFTER_STARTTLS,
                SessionError::StartTlsInjection,
            );
        }
        self.line(replies::READY_FOR_TLS);
        self.phase = Phase::TlsHandoff;
        self.events.push_back(Event::StartTls);
    }
}

/// The smallest limit the command framer runs with: enough octets for [`is_bdat`] to tell a
/// line the framer found too long (see `Server::update_line_limit`).
pub(super) const MIN_FRAMED_LINE: usize = 4;

fn is_bdat(line: &[u8]) -> bool {
    line.len() >= 4 && line[..4].eq_ignore_ascii_case(b"BDAT")
}

/// Whether `line` is the command `verb` (followed by a space or nothing).
fn has_verb(line: &[u8], verb: &[u8]) -> bool {
    line.len() >= verb.len()
        && line[..verb.len()].eq_ignore_ascii_case(verb)
        && matches!(line.get(verb.len()), None | Some(b' '))
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use crate::server::{Event, Server, ServerConfig, SessionError};

    /// Feeds `reads` one after the other, collecting what the server writes and reports.
    fn run(reads: &[&[u8]]) -> (String, Vec<Event>) {
        let now = Instant::now();
        let config = ServerConfig {
            max_line_len: 16,
            ..ServerConfig::default()
        };
        let mut server = Server::new(config, now);
        let (mut written, mut events) = (Vec::new(), Vec::new());
        for read in reads {
            server.feed(now, read);
            while let Some(event) = server.poll_event() {
                events.push(event);
            }
            while let Some(bytes) = server.poll_transmit() {
                written.extend_from_slice(&bytes);
            }
        }
        (String::from_utf8_lossy(&written).into_owned(), events)
    }

    /// Found by the `smtp_server_session` fuzz target: an over-long BDAT line right after
    /// another over-long line was only caught when both arrived in one read. Split after the
    /// first line's limit, the BDAT line was skipped as a plain over-long line, so its chunk
    /// would have been read as commands.
    #[test]
    fn an_over_long_bdat_line_closes_however_the_reads_split() {
        let mut stream = vec![b'x'; 52];
        stream.extend_from_slice(b"\x00\nBDAT 1\xf72 0`LAST\r\nQUIT\r\n");
        let expected = "220 localhost ESMTP ready\r\n\
                        500 5.5.2 Line too long\r\n\
                        421 4.5.4 Unreadable BDAT command, closing connection\r\n";
        for cut in 0..=stream.len() {
            let (first, second) = stream.split_at(cut);
            let (written, events) = run(&[first, second]);
            assert_eq!(written, expected, "split at {cut}");
            assert_eq!(
                events,
                [Event::Closed(Err(SessionError::Desynchronised))],
                "split at {cut}"
            );
        }
    }

    /// During the greeting delay nothing is processed, so the machine takes an early talker's
    /// first read and then no more until the greeting is out: a driver that reads only while
    /// `wants_input()` holds keeps what the machine buffers to one read (found by the review
    /// of issue 12; before, an early talker could fill `max_buffered_input` per connection).
    #[test]
    fn an_early_talker_cannot_fill_the_buffer_during_the_greeting_delay() {
        use crate::server::ServerConfig;
        use std::time::Duration;
        let now = Instant::now();
        let config = ServerConfig {
            greeting_delay: Some(Duration::from_secs(5)),
            ..ServerConfig::default()
        };
        let mut server = Server::new(config, now);
        let mut buffered = 0;
        // A driver that reads 4 KiB at a time, only while the machine wants input, polling
        // every event in between.
        while server.wants_input() && buffered < 2 << 20 {
            server.feed(now, &[b'x'; 4096]);
            buffered += 4096;
            while server.poll_event().is_some() {}
        }
        assert!(
            buffered <= 4096,
            "the machine took {buffered} octets it could not process before saying it wants no more"
        );
    }
}
