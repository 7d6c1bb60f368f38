//! Framing the input, and dispatching each command by state (RFC 1939 sections 4 to 6).

use std::fmt::Write as _;

use mail_wire::http;
use mail_wire::line::Frame;

use super::{Event, Pending, Phase, Server, SessionError, State, replies};
use crate::capability::Capability;
use crate::command::Command;
use crate::error::CommandError;

impl Server {
    /// Processes the next frame of input, if any; `false` when nothing more can be done now.
    pub(super) fn step(&mut self) -> bool {
        if matches!(self.phase, Phase::Closed | Phase::TlsHandoff) {
            return false;
        }
        let Some(frame) = self.framer.next_frame(&mut self.input) else {
            return false;
        };
        if !matches!(frame, Frame::TooLong { .. }) {
            // The idle time runs from the end of the last complete line (the read that
            // brought its last octet), not from the last byte: a client dribbling a line
            // that never ends times out at the deadline of its last complete line.
            self.timer.line(self.fed_at);
        }
        if matches!(self.phase, Phase::AuthResponse { .. }) {
            self.on_auth_frame(frame);
            return true;
        }
        if let Frame::Line(line) | Frame::BareLf(line) = &frame {
            if self.config.refuse_http && http::starts_with_method(line) {
                // Nothing after the request line, its header fields and body, is read.
                self.close_with(replies::HTTP_REQUEST, SessionError::HttpRequest);
                return true;
            }
        }
        match frame {
            Frame::Line(line) => self.on_line(&line),
            Frame::TooLong { .. } => {
                self.close_with(replies::LINE_TOO_LONG, SessionError::LineTooLong)
            }
            _ => self.error(replies::SYNTAX),
        }
        true
    }

    fn on_line(&mut self, line: &[u8]) {
        let command = match Command::parse(line) {
            Ok(command) => command,
            Err(CommandError::UnknownCommand) => return self.error(replies::UNKNOWN),
            Err(CommandError::NotUtf8 { .. }) => return self.error(replies::NOT_UTF8),
            Err(_) => return self.error(replies::SYNTAX),
        };
        match (self.state, command) {
            (_, Command::Capa) => {
                if self.junk() {
                    self.capa();
                }
            }
            (State::Authorization, Command::Quit) => {
                self.line(replies::BYE);
                self.close_silently(Ok(()));
            }
            (State::Authorization, Command::Stls) => self.on_stls(),
            (State::Authorization, Command::User(name)) => self.on_user(name),
            (State::Authorization, Command::Pass(password)) => self.on_pass(password),
            (State::Authorization, Command::Apop { name, digest }) => self.on_apop(name, digest),
            (
                State::Authorization,
                Command::Auth {
                    mechanism,
                    initial_response,
                },
            ) => self.on_auth(mechanism, initial_response),
            (State::Authorization, Command::Utf8) => {
                if !self.junk() {
                } else if self.config.utf8 {
                    self.utf8 = true;
                    self.line(replies::UTF8_OK);
                    self.events.push_back(Event::Utf8);
                } else {
                    self.error(replies::UTF8_UNAVAILABLE);
                }
            }
            (state, Command::Lang(range)) => {
                if state == State::Transaction || self.junk() {
                    self.on_lang(range);
                }
            }
            (State::Authorization, _) => self.error(replies::BAD_SEQUENCE_AUTH),
            (State::Transaction, command) => self.on_transaction(command),
        }
    }

    /// Counts a command that gets no one further before login; `false` if that was one too
    /// many and the session closed.
    fn junk(&mut self) -> bool {
        if self.state == State::Authorization {
            self.junk += 1;
            if self.junk > self.config.max_junk_commands {
                self.errors = self.errors.saturating_add(1);
                if self.errors > self.config.max_errors {
                    self.close_with(replies::TOO_MANY_ERRORS, SessionError::TooManyErrors);
                    return false;
                }
            }
        }
        true
    }

    fn capa(&mut self) {
        let mut list = vec![
            Capability::Top,
            Capability::Uidl,
            Capability::RespCodes,
            Capability::AuthRespCode,
            Capability::Pipelining,
        ];
        if let Some(expire) = &self.config.expire {
            list.push(Capability::Expire(vec![expire.clone().into()]));
        }
        if let Some(delay) = self.config.login_delay {
            list.push(Capability::LoginDelay(vec![delay.to_string().into()]));
        }
        if self.state == State::Authorization {
            if self.config.user_pass && self.credentials_allowed() {
                list.push(Capability::User);
            }
            if self.sasl_offered() {
                let names = self.config.sasl_mechanisms.iter().map(|m| m.name().into());
                list.push(Capability::Sasl(names.collect()));
            }
            if self.config.stls && !self.tls {
                list.push(Capability::Stls);
            }
            if self.config.utf8 {
                list.push(Capability::Utf8 { user: true });
            }
        }
        if !self.config.languages.is_empty() {
            list.push(Capability::Lang);
        }
        if let Some(implementation) = &self.config.implementation {
            list.push(Capability::Implementation(implementation.clone().into()));
        }
        self.line(replies::CAPA);
        for capability in &list {
            capability.encode(&mut self.output);
        }
        self.output.extend_from_slice(replies::END);
    }

    fn on_stls(&mut self) {
        if !self.config.stls || self.tls {
            return self.error(replies::TLS_UNAVAILABLE);
        }
        if !self.input.is_empty() {
            // RFC 2595 section 4 and CVE-2011-0411: nothing may follow STLS before the
            // handshake; commands pipelined behind it would run inside TLS as if protected.
            self.input.clear();
            return self.close_with(
                replies::PIPELINED_AFTER_STLS,
                SessionError::StartTlsInjection,
            );
        }
        self.line(replies::TLS_OK);
        self.phase = Phase::TlsHandoff;
        self.events.push_back(Event::StartTls);
    }

    fn on_lang(&mut self, range: Option<&str>) {
        if self.config.languages.is_empty() {
            return self.error(replies::LANG_UNAVAILABLE);
        }
        match range {
            None => {
                self.line(replies::LANG_LIST);
                let mut list = String::new();
                for (tag, description) in &self.config.languages {
                    let _ = write!(list, "{tag} {description}\r\n");
                }
                self.output.extend_from_slice(list.as_bytes());
                self.output.extend_from_slice(replies::END);
            }
            Some(range) => {
                let chosen = if range == "*" {
                    self.config.languages.first()
                } else {
                    self.config
                        .languages
                        .iter()
                        .find(|(tag, _)| tag.eq_ignore_ascii_case(range))
                };
                match chosen.map(|(tag, _)| tag.clone()) {
                    Some(tag) => self.line(format!("+OK {tag} Language changed").as_bytes()),
                    None => self.error(replies::LANG_UNKNOWN),
                }
            }
        }
    }

    fn on_transaction(&mut self, command: Command<'_>) {
        match command {
            Command::Stat => {
                let (count, size) = self.totals();
                self.line(format!("+OK {count} {size}").as_bytes());
            }
            Command::List(None) => {
                let (count, size) = self.totals();
                self.line(format!("+OK {count} messages ({size} octets)").as_bytes());
                let mut list = String::new();
                for (i, entry) in self.maildrop.iter().enumerate().filter(|(_, e)| !e.deleted) {
                    let _ = write!(list, "{} {}\r\n", i + 1, entry.info.size);
                }
                self.output.extend_from_slice(list.as_bytes());
                self.output.extend_from_slice(replies::END);
            }
            Command::List(Some(n)) => match self.live(n) {
                Some(index) => {
                    let size = self.maildrop[index].info.size;
                    self.line(format!("+OK {n} {size}").as_bytes());
                }
                None => self.error(replies::NO_SUCH_MESSAGE),
            },
            Command::Uidl(None) => {
                self.line(replies::NOOP);
                let mut list = String::new();
                for (i, entry) in self.maildrop.iter().enumerate().filter(|(_, e)| !e.deleted) {
                    let _ = write!(list, "{} {}\r\n", i + 1, entry.info.uid);
                }
                self.output.extend_from_slice(list.as_bytes());
                self.output.extend_from_slice(replies::END);
            }
            Command::Uidl(Some(n)) => match self.live(n) {
                Some(index) => {
                    let text = format!("+OK {n} {}", self.maildrop[index].info.uid);
                    self.line(text.as_bytes());
                }
                None => self.error(replies::NO_SUCH_MESSAGE),
            },
            Command::Retr(n) => self.retrieve(n, None),
            Command::Top { message, lines } => self.retrieve(message, Some(lines)),
            Command::Dele(n) => match n.checked_sub(1).map(|i| i as usize) {
                Some(index) if index < self.maildrop.len() => {
                    if self.maildrop[index].deleted {
                        self.error(replies::ALREADY_DELETED);
                    } else {
                        self.maildrop[index].deleted = true;
                        self.line(replies::DELETED);
                    }
                }
                _ => self.error(replies::NO_SUCH_MESSAGE),
            },
            Command::Noop => self.line(replies::NOOP),
            Command::Rset => {
                for entry in &mut self.maildrop {
                    entry.deleted = false;
                }
                let (count, size) = self.totals();
                self.line(format!("+OK maildrop has {count} messages ({size} octets)").as_bytes());
            }
            Command::Quit => {
                let deleted = self.marked_deleted();
                if deleted.is_empty() {
                    self.line(replies::BYE);
                    self.close_silently(Ok(()));
                } else {
                    self.pending = Some(Pending::Update);
                    self.events.push_back(Event::Update { deleted });
                }
            }
            _ => self.error(replies::BAD_SEQUENCE_TRANSACTION),
        }
    }

    /// The index of message `n` if it exists and is not marked deleted.
    fn live(&self, n: u32) -> Option<usize> {
        let index = n.checked_sub(1)? as usize;
        self.maildrop
            .get(index)
            .filter(|e| !e.deleted)
            .map(|_| index)
    }

    fn retrieve(&mut self, n: u32, lines: Option<u32>) {
        let Some(index) = self.live(n) else {
            return self.error(replies::NO_SUCH_MESSAGE);
        };
        self.outgoing = Some(super::Outgoing::new(lines));
        self.pending = Some(Pending::Retrieve { started: false });
        self.events.push_back(Event::Retrieve { index, lines });
    }
}
