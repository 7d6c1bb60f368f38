//! The mail transaction: MAIL, RCPT, DATA and BDAT, and the message body.

use std::time::Instant;

use std::collections::VecDeque;

use bytes::Bytes;
use mail_wire::dot::{BareLineEnding, BodyError, DotEvent};

use crate::command::{Body, MailParams, RcptParams};
use crate::types::{ForwardPath, ReversePath};

use super::config::RECIPIENT_OVERSHOOT;
use super::decision::Pending;
use super::text::TextBody;
use super::{BodyTransfer, Event, HelloVerb, Mode, Phase, Server, SessionError, replies};

/// What MAIL's parameters mean for the rest of the transaction.
#[derive(Debug, Clone, Copy)]
pub(super) struct TxnParams {
    /// `BODY=BINARYMIME`: the body must come by BDAT (RFC 3030).
    pub(super) binary: bool,
    /// `SMTPUTF8`: RCPT may carry UTF-8 addresses (RFC 6531).
    pub(super) smtputf8: bool,
}

/// An open mail transaction (MAIL accepted).
#[derive(Debug)]
pub(super) struct Transaction {
    pub(super) params: TxnParams,
    /// Recipients accepted.
    pub(super) recipients: usize,
    /// RCPTs refused with `452` because `max_recipients` was reached.
    pub(super) overshoot: usize,
    /// How the body comes, once it has started.
    pub(super) transfer: Option<BodyTransfer>,
    /// Body octets received so far, as sent (the BDAT size limit and the minimum rate count
    /// these; octets read to be thrown away after a refusal, and a DATA body's dot stuffing
    /// and end marker, count toward the rate).
    pub(super) received: u64,
    /// Body octets passed on in [`Event::BodyChunk`] so far: `received` with the line
    /// endings of a BDAT text body normalized.
    pub(super) delivered: u64,
    /// The line-ending state of a BDAT text body.
    pub(super) text: TextBody,
    /// When the body began (the DATA line or the first BDAT line was read), for
    /// [`ServerConfig::min_data_rate`](super::ServerConfig::min_data_rate).
    pub(super) body_started: Option<Instant>,
}

/// Why a BDAT chunk is read and thrown away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Discarded {
    /// BDAT out of sequence.
    BadSequence,
    /// A chunk pipelined after a refused chunk of the same message (RFC 3030 section 2).
    AfterRefusal,
    /// BDAT pushed the message over the size limit.
    TooLarge,
    /// A bare CR or LF in a text body under [`BareLineEnding::Reject`].
    BareLineEnding,
}

impl Discarded {
    /// Why the rest of a body is discarded after the machine refused it for `error`.
    pub(super) fn refusing(error: BodyError) -> Discarded {
        match error {
            BodyError::TooLarge { .. } => Discarded::TooLarge,
            _ => Discarded::BareLineEnding,
        }
    }
}

impl Transaction {
    /// Passes the next piece of a BDAT chunk on as [`Event::BodyChunk`] (none if it is empty
    /// after filtering): byte for byte for `BODY=BINARYMIME` or under
    /// [`BareLineEnding::Preserve`], otherwise with bare CR and LF normalized or refused as
    /// in DATA. Returns the refusal, if any (what came before it is passed on). What is passed
    /// on never exceeds `limit` octets in all: normalizing can make a text body larger than
    /// sent, and a DATA body is counted after it too ([`BodyError::TooLarge`] then, after
    /// exactly the first `limit` octets).
    pub(super) fn body_piece(
        &mut self,
        policy: BareLineEnding,
        limit: u64,
        piece: Bytes,
        events: &mut VecDeque<Event>,
    ) -> Option<BodyError> {
        if self.params.binary || policy == BareLineEnding::Preserve {
            return self.deliver(piece, limit, events);
        }
        let filtered = self.text.piece(policy, piece);
        self.deliver(filtered.bytes, limit, events)
            .or(filtered.refused)
    }

    /// The last BDAT chunk has been read: a CR held back at its end is a bare CR.
    pub(super) fn body_end(
        &mut self,
        policy: BareLineEnding,
        limit: u64,
        events: &mut VecDeque<Event>,
    ) -> Option<BodyError> {
        if self.params.binary || policy == BareLineEnding::Preserve {
            return None;
        }
        let filtered = self.text.finish(policy);
        self.deliver(filtered.bytes, limit, events)
            .or(filtered.refused)
    }

    /// Passes `bytes` on, up to `limit` octets delivered in all; past it, what fits and the
    /// refusal.
    fn deliver(
        &mut self,
        mut bytes: Bytes,
        limit: u64,
        events: &mut VecDeque<Event>,
    ) -> Option<BodyError> {
        let room = limit.saturating_sub(self.delivered);
        let over = bytes.len() as u64 > room;
        if over {
            // `room` is below `bytes.len()`, a usize.
            bytes.truncate(room as usize);
        }
        if !bytes.is_empty() {
            self.delivered += bytes.len() as u64;
            events.push_back(Event::BodyChunk(bytes));
        }
        over.then_some(BodyError::TooLarge { limit })
    }
}

impl Server {
    /// MAIL: checks sequence, TLS and AUTH requirements, size and parameters, then asks the
    /// application.
    #[inline]
    pub(super) fn on_mail(&mut self, from: ReversePath<'_>, params: MailParams<'_>) {
        if self.hello.is_none() {
            return self.error(replies::HELLO_FIRST);
        }
        if self.txn.is_some() {
            return self.error(replies::NESTED_MAIL);
        }
        if self.config.require_tls && !self.tls {
            return self.error(replies::STARTTLS_FIRST);
        }
        if self.config.require_auth && self.authenticated.is_none() {
            return self.error(replies::AUTH_REQUIRED);
        }
        if self.hello == Some(HelloVerb::Helo) && params != MailParams::default() {
            // After HELO no service extension is in effect, so no parameter is either (RFC 5321
            // section 4.1.1.11). Below, every parameter came after EHLO or LHLO.
            return self.error(replies::MAIL_PARAMETERS_NEED_EHLO);
        }
        if params
            .size
            .is_some_and(|size| size > self.config.max_message_size)
        {
            return self.error(replies::TOO_LARGE);
        }
        match params.body {
            Some(Body::BinaryMime) if !self.config.chunking => {
                return self.error(replies::NO_BINARYMIME);
            }
            Some(Body::EightBitMime) if !self.config.eight_bit_mime => {
                return self.error(replies::NO_8BITMIME);
            }
            _ => {}
        }
        if params.smtputf8 && !self.config.smtputf8 {
            return self.error(replies::NO_SMTPUTF8);
        }
        if let ReversePath::Mailbox(mailbox) = &from {
            if mailbox.is_utf8() && !params.smtputf8 {
                return self.error(replies::UTF8_NEEDS_SMTPUTF8);
            }
        }
        if (params.ret.is_some() || params.envid.is_some()) && !self.config.dsn {
            return self.error(replies::NO_DSN);
        }
        if params.requiretls {
            if !self.tls {
                return self.error(replies::REQUIRETLS_NEEDS_TLS);
            }
            if !self.config.requiretls {
                return self.error(replies::NO_REQUIRETLS);
            }
        }
        if !params.unknown.is_empty() && !self.config.accept_unknown_parameters {
            return self.error(replies::UNKNOWN_MAIL_PARAMETER);
        }
        let txn = TxnParams {
            binary: params.body == Some(Body::BinaryMime),
            smtputf8: params.smtputf8,
        };
        self.ask(
            Pending::Mail { params: txn },
            Event::Mail {
                from: from.into_owned(),
                params: params.into_owned(),
            },
        );
    }

    /// RCPT: checks sequence, the recipient limit and parameters, then asks the application.
    #[inline]
    pub(super) fn on_rcpt(&mut self, to: ForwardPath<'_>, params: RcptParams<'_>) {
        let Some(txn) = &self.txn else {
            return self.error(replies::MAIL_BEFORE_RCPT);
        };
        if self.hello == Some(HelloVerb::Helo) && params != RcptParams::default() {
            return self.error(replies::RCPT_PARAMETERS_NEED_EHLO);
        }
        if txn.transfer.is_some() {
            return self.error(replies::RCPT_AFTER_BODY);
        }
        if txn.recipients >= self.config.max_recipients {
            // RFC 5321 section 4.5.3.1.10: 452, and the client sends the rest later, in a
            // transaction that goes on with those accepted. Not the client's mistake, so not
            // counted toward `max_errors` until RECIPIENT_OVERSHOOT over the limit.
            let overshoot = self.txn.as_mut().map_or(0, |t| {
                t.overshoot += 1;
                t.overshoot
            });
            if overshoot > RECIPIENT_OVERSHOOT {
                return self.error(replies::TOO_MANY_RECIPIENTS);
            }
            return self.line(replies::TOO_MANY_RECIPIENTS);
        }
        if (params.notify.is_some() || params.orcpt.is_some()) && !self.config.dsn {
            return self.error(replies::NO_DSN);
        }
        if !params.unknown.is_empty() && !self.config.accept_unknown_parameters {
            return self.error(replies::UNKNOWN_RCPT_PARAMETER);
        }
        self.ask(
            Pending::Rcpt,
            Event::Rcpt {
                to: to.into_owned(),
                params: params.into_owned(),
            },
        );
    }

    /// DATA: checks sequence, then reads the body through the dot decoder.
    #[inline]
    pub(super) fn on_data(&mut self) {
        let Some(txn) = &mut self.txn else {
            return self.error(replies::NEED_MAIL);
        };
        if txn.transfer.is_some() {
            return self.error(replies::DATA_AFTER_BDAT);
        }
        if txn.params.binary {
            return self.error(replies::BINARYMIME_NEEDS_BDAT);
        }
        if txn.recipients == 0 {
            // RFC 2920 section 3.1 asks SMTP servers for 554 here; RFC 2033 section 4.2 asks
            // LMTP servers for 503.
            return match self.config.mode {
                Mode::Lmtp => self.error(replies::NO_VALID_RECIPIENTS_LMTP),
                Mode::Smtp => self.error(replies::NO_VALID_RECIPIENTS),
            };
        }
        txn.transfer = Some(BodyTransfer::Data);
        txn.body_started = Some(self.fed_at);
        self.body_starts_at_restart = self.timer.restarting();
        self.line(replies::START_DATA);
        self.dot.reset();
        self.phase = Phase::Data;
        self.events.push_back(Event::BodyStart {
            transfer: BodyTransfer::Data,
        });
    }

    /// BDAT (RFC 3030): reads the chunk whatever the answer, discarding it when refused.
    #[inline]
    pub(super) fn on_bdat(&mut self, size: u64, last: bool) {
        let discard = match &mut self.txn {
            _ if !self.config.chunking => Some(Discarded::BadSequence),
            None if self.bdat_refused => Some(Discarded::AfterRefusal),
            None => Some(Discarded::BadSequence),
            Some(txn) if txn.recipients == 0 || txn.transfer == Some(BodyTransfer::Data) => {
                Some(Discarded::BadSequence)
            }
            Some(txn) => {
                let first = txn.transfer.is_none();
                txn.transfer = Some(BodyTransfer::Bdat);
                if first {
                    txn.body_started = Some(self.fed_at);
                    self.body_starts_at_restart = self.timer.restarting();
                    self.events.push_back(Event::BodyStart {
                        transfer: BodyTransfer::Bdat,
                    });
                }
                if txn.received.saturating_add(size) > self.config.max_message_size {
                    self.events
                        .push_back(Event::BodyAborted(BodyError::TooLarge {
                            limit: self.config.max_message_size,
                        }));
                    Some(Discarded::TooLarge)
                } else {
                    None
                }
            }
        };
        let body_clock = self.txn.as_ref().is_some_and(|t| t.body_started.is_some());
        if discard.is_some() && !body_clock && self.discard_clock.is_none() {
            // Octets thrown away outside a body are timed as a body is.
            self.discard_clock = Some((self.fed_at, 0));
        }
        // The chunk's octets are read (and maybe thrown away) whatever the answer, so the
        // command stream stays in step (RFC 3030 section 3).
        self.phase = Phase::Bdat {
            remaining: size,
            last,
            discard,
        };
    }

    /// A BDAT chunk has been read: answers it, or asks about the message after the last.
    #[inline]
    pub(super) fn on_chunk_end(&mut self, last: bool, discard: Option<Discarded>) {
        match discard {
            Some(Discarded::BadSequence) => {
                let text: &[u8] = match &self.txn {
                    _ if !self.config.chunking => replies::NO_CHUNKING,
                    None => replies::NEED_MAIL,
                    Some(t) if t.recipients == 0 => replies::NO_VALID_RECIPIENTS,
                    Some(_) => replies::BDAT_AFTER_DATA,
                };
                if !self.bdat_refused {
                    self.discard_clock = None;
                }
                self.error(text);
            }
            Some(Discarded::AfterRefusal) => {
                // Accepted and discarded, as RFC 3030 section 2 requires of a server that
                // offers PIPELINING; the client made no new mistake, so it does not count.
                self.bdat_refused = !last;
                if last {
                    self.discard_clock = None;
                }
                self.line(replies::CHUNK_DISCARDED);
            }
            Some(reason @ (Discarded::TooLarge | Discarded::BareLineEnding)) => {
                self.bdat_refused = !last;
                let text = match reason {
                    Discarded::TooLarge => replies::TOO_LARGE,
                    _ => replies::BARE_LINE_ENDING,
                };
                if last {
                    self.refuse_message(text);
                } else {
                    // A chunk before the last gets its one reply, in LMTP too. The chunks
                    // the client may have pipelined after it are discarded, on the body's
                    // minimum-rate clock.
                    self.discard_clock = self
                        .txn
                        .as_ref()
                        .and_then(|t| Some((t.body_started?, t.received)));
                    self.txn = None;
                    self.error(text);
                    self.after_transaction();
                }
            }
            None if last => {
                let (size, recipients) = self
                    .txn
                    .as_ref()
                    .map_or((0, 0), |t| (t.delivered, t.recipients));
                self.ask(Pending::BodyEnd, Event::BodyEnd { size, recipients });
            }
            None => {
                let received = self.txn.as_ref().map_or(0, |t| t.received);
                let text = replies::chunk_received(received);
                self.line(text.as_bytes());
            }
        }
    }

    /// What the dot decoder found in a DATA body.
    #[inline]
    pub(super) fn on_dot_event(&mut self, event: DotEvent) {
        match event {
            // The octets were counted as read (in `step`).
            DotEvent::Data(chunk) => self.events.push_back(Event::BodyChunk(chunk)),
            DotEvent::Rejected(error) => self.events.push_back(Event::BodyAborted(error)),
            DotEvent::End(Ok(size)) => {
                self.phase = Phase::Command;
                let recipients = self.txn.as_ref().map_or(0, |t| t.recipients);
                self.ask(Pending::BodyEnd, Event::BodyEnd { size, recipients });
            }
            DotEvent::End(Err(error)) => {
                self.phase = Phase::Command;
                self.refuse_message(match error {
                    BodyError::TooLarge { .. } => replies::TOO_LARGE,
                    _ => replies::BARE_LINE_ENDING,
                });
            }
            // DotEvent is non_exhaustive; treat anything new as the end of a refused body.
            _ => {
                self.phase = Phase::Command;
                self.refuse_message(replies::LOCAL_ERROR);
            }
        }
    }

    /// The machine refuses the message itself (its size, a bare line ending): one reply, or in
    /// LMTP one per accepted recipient (RFC 2033 section 4.2), and the transaction ends.
    fn refuse_message(&mut self, text: &[u8]) {
        let replies = match self.config.mode {
            Mode::Lmtp => self.txn.as_ref().map_or(1, |t| t.recipients.max(1)),
            Mode::Smtp => 1,
        };
        self.txn = None;
        for _ in 0..replies {
            self.error(text);
        }
        self.after_transaction();
    }

    /// After a transaction ends: a pending shutdown takes effect.
    #[inline]
    pub(super) fn after_transaction(&mut self) {
        if self.shutting_down
            && self.txn.is_none()
            && self.pending.is_none()
            && self.held.is_none()
            && matches!(self.phase, Phase::Command | Phase::PreGreeting)
        {
            self.close_with(replies::SHUTTING_DOWN, SessionError::Shutdown);
        }
    }
}
