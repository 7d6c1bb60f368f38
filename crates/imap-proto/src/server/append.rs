//! APPEND streamed (RFC 9051 section 6.3.12, MULTIAPPEND RFC 3502): a message's literal is
//! taken at its header, before its data arrives. The line up to the header is parsed by the
//! codec (as a synthetic command whose literal is empty), the application decides, and the
//! data goes to it in pieces as it arrives, never whole in memory; then the rest of the line
//! is framed: CRLF ends the command, another literal header starts the next message.

use bytes::Buf;

use crate::command::{Command, CommandBody};
use crate::core::{LiteralMode, Tag};
use crate::datetime::DateTime;
use crate::flag::Flag;
use crate::framer::LiteralHeader;
use crate::mailbox::Mailbox;
use crate::response::{Capability, Code, StatusKind};

use super::{AppendState, Event, Pending, Phase, Server, State};

/// What the line before a message literal says.
pub(super) struct Probe {
    tag: Tag<'static>,
    mailbox: Mailbox<'static>,
    flags: Vec<Flag<'static>>,
    date: Option<DateTime>,
    /// The `UTF8 (~{n})` form: a `)` follows the data.
    utf8: bool,
}

/// The synthetic literal and what may close the command after it: a plain literal, or the
/// `UTF8 (~{n})` form of RFC 6855.
const TAILS: [&[u8]; 2] = [b"\r\n", b")\r\n"];

impl Server {
    /// Whether the message so far (`prefix_len` octets at the start of the input, ending
    /// with a literal header) is an APPEND whose header starts a message. `continuation`:
    /// the prefix is the rest of an APPEND's line after a message (MULTIAPPEND).
    pub(super) fn probe_append(&self, prefix_len: usize, continuation: bool) -> Option<Probe> {
        let prefix = self.input.get(..prefix_len)?;
        let brace = prefix.iter().rposition(|&b| b == b'{')?;
        // After a `UTF8 (~{n})` message its `)` comes first.
        let skip = usize::from(continuation && self.append.as_ref().is_some_and(|a| a.utf8));
        if skip == 1 && prefix.first() != Some(&b')') {
            return None;
        }
        let head = prefix.get(skip..brace)?;
        // Cheap test first: only a line naming APPEND is parsed again.
        if !continuation && !names_append(head) {
            return None;
        }
        for (utf8, tail) in [false, true].into_iter().zip(TAILS) {
            let mut synthetic = Vec::with_capacity(head.len() + 16);
            if continuation {
                synthetic.extend_from_slice(b"A APPEND X");
            }
            synthetic.extend_from_slice(head);
            synthetic.extend_from_slice(b"{0}\r\n");
            synthetic.extend_from_slice(tail);
            let Ok(command) = Command::parse(&synthetic) else {
                continue;
            };
            let CommandBody::Append { mailbox, messages } = command.body else {
                return None;
            };
            let message = messages.into_vec().pop()?;
            return Some(Probe {
                tag: command.tag.into_static(),
                mailbox: mailbox.into_static(),
                flags: message
                    .flags
                    .into_vec()
                    .into_iter()
                    .map(Flag::into_static)
                    .collect(),
                date: message.date_time,
                utf8,
            });
        }
        None
    }

    /// The first message literal of an APPEND.
    pub(super) fn first_append_message(&mut self, header: LiteralHeader, probe: Probe) {
        if self.state == State::NotAuthenticated {
            self.framer.refuse_literal();
            return self.bad(Some(&probe.tag), "Command not permitted before login");
        }
        self.append = Some(AppendState {
            tag: probe.tag.clone(),
            mailbox: probe.mailbox.clone(),
            index: 0,
            failed: false,
            utf8: false,
        });
        self.offer_append_message(header, probe);
    }

    /// A literal header on the rest of an APPEND's line: the next message of a MULTIAPPEND.
    pub(super) fn next_append_message(&mut self, header: LiteralHeader) {
        self.phase = Phase::Command;
        let failed = self.append.as_ref().is_none_or(|a| a.failed);
        if failed {
            // Already answered: the rest is skipped (`{n+}` data too).
            self.framer.refuse_literal();
            self.append = None;
            return;
        }
        let prefix_len = header.data_offset.min(self.input.len());
        let Some(probe) = self.probe_append(prefix_len, true) else {
            self.framer.refuse_literal();
            return self.append_syntax_error("Error in IMAP command APPEND: bad message");
        };
        let Some(append) = &mut self.append else {
            return;
        };
        let index = append.index;
        append.index += 1;
        self.events
            .push_back(Event::AppendEnd { index, last: false });
        self.offer_append_message(header, probe);
    }

    /// Asks the application about one message, within the APPEND limit.
    fn offer_append_message(&mut self, header: LiteralHeader, probe: Probe) {
        let Some(append) = &self.append else {
            return;
        };
        let (tag, mailbox, index) = (append.tag.clone(), append.mailbox.clone(), append.index);
        if let Some(append) = &mut self.append {
            append.utf8 = probe.utf8;
        }
        if probe.utf8 && !self.enabled.utf8_accept {
            // The `UTF8 (~{n})` form belongs to UTF8=ACCEPT (RFC 6855 section 4), which
            // IMAP4rev2 does not carry (RFC 9051 section 9 has no `utf8-literal`): offered
            // but not enabled, the NO that section 4 asks for an APPEND of UTF-8 headers
            // without ENABLE; not offered, a syntax the server does not have. Neither
            // lets any data through: `{n}` gets no `+`, the data of `{n+}` is skipped.
            self.framer.refuse_literal();
            self.append = None;
            if index > 0 {
                self.events
                    .push_back(Event::AppendAborted { tag: tag.clone() });
            }
            if self.config.capabilities.contains(&Capability::Utf8Accept) {
                self.tagged(
                    &tag,
                    StatusKind::No,
                    Some(Code::ClientBug),
                    "UTF8 APPEND needs ENABLE UTF8=ACCEPT first",
                );
            } else {
                self.bad(Some(&tag), "UTF8 APPEND is not supported");
            }
            return;
        }
        if self
            .config
            .append_limit
            .is_some_and(|limit| header.size > limit)
        {
            // The framer skips the data of `{n+}`; after `{n}` the client sends none.
            self.framer.refuse_literal();
            self.tagged(
                &tag,
                StatusKind::No,
                Some(Code::TooBig),
                "Message too large",
            );
            self.append = None;
            if index > 0 {
                self.events.push_back(Event::AppendAborted { tag });
            }
            return;
        }
        // The line up to the data is taken; the framer starts afresh after the data.
        self.input.advance(header.data_offset.min(self.input.len()));
        self.framer.reset();
        self.pending = Some(Pending::AppendStart {
            sync: header.mode == LiteralMode::Sync,
            size: header.size,
        });
        self.events.push_back(Event::AppendStart {
            tag,
            mailbox,
            flags: probe.flags,
            date: probe.date,
            size: header.size,
            index,
        });
    }

    /// The message's data comes next: handed over, or dropped with `discard`.
    pub(super) fn start_append_data(&mut self, size: u64, discard: bool) {
        self.phase = Phase::AppendData {
            remaining: size,
            discard,
        };
    }

    /// One piece of a message's data.
    pub(super) fn append_data_step(&mut self) -> bool {
        let Phase::AppendData { remaining, discard } = self.phase else {
            return false;
        };
        if remaining == 0 {
            self.phase = Phase::AppendRest;
            self.framer.reset();
            return true;
        }
        if self.input.is_empty() {
            return false;
        }
        let limit = if discard {
            usize::MAX
        } else {
            self.config.append_chunk
        };
        let n = usize::try_from(remaining)
            .unwrap_or(usize::MAX)
            .min(self.input.len())
            .min(limit);
        let chunk = self.input.split_to(n).freeze();
        // Data arriving is progress: the idle time starts over.
        self.timer.line(self.fed_at);
        self.phase = Phase::AppendData {
            remaining: remaining - n as u64,
            discard,
        };
        if !discard {
            self.events.push_back(Event::AppendData(chunk));
        }
        true
    }

    /// The rest of an APPEND's line, when it holds no further message.
    pub(super) fn on_append_rest(&mut self, message: &[u8]) {
        let Some(append) = &self.append else {
            return;
        };
        if append.failed {
            self.append = None;
            return;
        }
        let rest = if append.utf8 {
            message.strip_prefix(b")")
        } else {
            Some(message)
        };
        if rest == Some(b"\r\n") {
            let index = append.index;
            self.events
                .push_back(Event::AppendEnd { index, last: true });
            self.pending = Some(Pending::AppendDone);
        } else {
            self.append_syntax_error(
                "Error in IMAP command APPEND: expected CRLF after the message",
            );
        }
    }

    /// The APPEND breaks the syntax after messages were handed over: `BAD`, and the
    /// application drops what it stored.
    pub(super) fn append_syntax_error(&mut self, text: &str) {
        if let Some(append) = self.append.take() {
            if !append.failed {
                self.bad(Some(&append.tag), text);
                self.events
                    .push_back(Event::AppendAborted { tag: append.tag });
            }
        }
    }

    /// The session ends during an APPEND: the application drops what it stored.
    pub(super) fn abort_append(&mut self) {
        if let Some(append) = self.append.take() {
            if !append.failed {
                self.events
                    .push_back(Event::AppendAborted { tag: append.tag });
            }
        }
    }
}

/// Whether `head` is `tag SP APPEND SP ...` (the keyword in any case).
fn names_append(head: &[u8]) -> bool {
    let mut words = head.splitn(3, |&b| b == b' ');
    let _tag = words.next();
    words
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case(b"APPEND"))
}
