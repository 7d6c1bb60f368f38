//! One mail transaction: MAIL FROM and RCPT TO (pipelined, RFC 2920, or one at a time), the
//! replies that decide whether the body is sent, the reply (LMTP: replies) to its end, and
//! RSET after a failure. Sending the body itself is in [`body`](super::body).

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use mail_wire::dot::DotEncoder;

use crate::command::{Body, Command};
use crate::reply::Reply;

use super::body::BodyState;
use super::output::encode;
use super::pending::Expect;
use super::{Client, ClientError, Envelope, Event, Phase, Recipient, Rejection, SessionError};

/// How the body goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transfer {
    /// DATA, dot-stuffed (RFC 5321 section 4.1.1.4).
    Data,
    /// BDAT chunks (RFC 3030).
    Bdat,
}

/// An open mail transaction.
#[derive(Debug)]
pub(super) struct Transaction {
    pub(super) transfer: Transfer,
    recipients: usize,
    /// Indices of accepted recipients, in order.
    accepted: Vec<usize>,
    rcpt_replies: usize,
    sender_accepted: bool,
    /// The outcome was reported as a rejection; later replies of the group are swallowed.
    pub(super) failed: bool,
    /// The final reply (or all LMTP replies) to the end of the body arrived.
    ended: bool,
    /// Lock-step mode: commands still to send, one per reply.
    unsent: VecDeque<(Expect, Bytes)>,
    /// DATA went out with the MAIL/RCPT group.
    data_pipelined: bool,
    /// Where the body is (see [`body`](super::body)).
    pub(super) body: BodyState,
    /// DATA: dot-stuffs the body and makes its line endings CRLF.
    pub(super) encoder: DotEncoder,
    /// BDAT chunks keep their octets (`BODY=BINARYMIME`); otherwise bare CR and LF become
    /// CRLF, as in DATA.
    pub(super) binary: bool,
    /// BDAT without BINARYMIME: the last chunk ended in a CR whose partner is not known yet.
    pub(super) held_cr: bool,
    /// BDAT chunks, not the last, whose reply has not come yet.
    pub(super) chunks_in_flight: usize,
    /// LMTP replies to the end of the body received so far.
    deliveries: usize,
}

impl Client {
    /// Sends the envelope of a new transaction; the session is ready (checked by
    /// [`Client::send_message`]).
    pub(super) fn start_transaction(
        &mut self,
        now: Instant,
        envelope: Envelope,
    ) -> Result<(), ClientError> {
        let (params, transfer) = self.check_envelope(&envelope)?;
        let pipelining = self.pipelining();

        let mut commands = VecDeque::with_capacity(envelope.recipients.len() + 3);
        if self.needs_rset {
            commands.push_back((Expect::Rset, encode(&Command::Rset)));
        }
        let Envelope {
            from, recipients, ..
        } = envelope;
        let binary = params.body == Some(Body::BinaryMime);
        commands.push_back((Expect::Mail, encode(&Command::Mail { from, params })));
        let count = recipients.len();
        for (index, Recipient { to, params }) in recipients.into_iter().enumerate() {
            commands.push_back((Expect::Rcpt(index), encode(&Command::Rcpt { to, params })));
        }
        let data_pipelined = pipelining && transfer == Transfer::Data;
        if data_pipelined {
            commands.push_back((Expect::Data, encode(&Command::Data)));
        }

        self.needs_rset = false;
        self.phase = Phase::Transaction;
        self.txn = Some(Transaction {
            transfer,
            recipients: count,
            accepted: Vec::new(),
            rcpt_replies: 0,
            sender_accepted: false,
            failed: false,
            ended: false,
            unsent: VecDeque::new(),
            data_pipelined,
            body: BodyState::Waiting,
            encoder: DotEncoder::normalizing(),
            binary,
            held_cr: false,
            chunks_in_flight: 0,
            deliveries: 0,
        });
        if pipelining {
            for (expect, line) in commands {
                self.send_line(now, expect, &line);
            }
        } else if let Some((expect, line)) = commands.pop_front() {
            self.send_line(now, expect, &line);
            if let Some(txn) = self.txn.as_mut() {
                txn.unsent = commands;
            }
        }
        Ok(())
    }

    /// A reply to RSET, MAIL, RCPT, DATA, a BDAT chunk or the end of the body.
    pub(super) fn on_transaction_reply(
        &mut self,
        now: Instant,
        expect: Expect,
        reply: Reply<'static>,
    ) {
        let lmtp = self.config.lmtp;
        let pipelining = self.pipelining();
        let Some(txn) = self.txn.as_mut() else {
            return self.abort(SessionError::UnexpectedReply(reply));
        };
        let positive = reply.code().is_positive();
        match expect {
            Expect::Rset if !positive => {
                // RFC 5321 section 4.1.1.5: RSET always succeeds; the state is unknown.
                return self.give_up(SessionError::UnexpectedReply(reply));
            }
            Expect::Rset => self.send_next(now),
            Expect::Mail if positive => {
                txn.sender_accepted = true;
                self.send_next(now);
            }
            Expect::Mail => self.reject(Rejection::Sender(reply)),
            Expect::Rcpt(index) => {
                txn.rcpt_replies += 1;
                if txn.failed {
                    // MAIL was refused: these replies say nothing about the recipients.
                } else {
                    if positive {
                        txn.accepted.push(index);
                    }
                    self.events.push_back(Event::Recipient { index, reply });
                    if txn.rcpt_replies == txn.recipients {
                        self.envelope_done(now);
                    } else {
                        self.send_next(now);
                    }
                }
            }
            Expect::Data if reply.code().get() == 354 => {
                if !txn.failed {
                    txn.body = BodyState::Open;
                    self.events.push_back(Event::BodyReady);
                } else if lmtp {
                    // RFC 2033 section 4.2 requires 503 here; without recipients the number
                    // of replies to the end of the data is unknown, and the server now reads
                    // a body, so not even QUIT can be sent.
                    return self.abort(SessionError::UnexpectedReply(reply));
                } else {
                    // RFC 2920 section 3.1: DATA was pipelined and accepted although the
                    // transaction failed; end the (empty) message so the server replies.
                    self.send_end_of_empty_data(now);
                }
            }
            Expect::Data => {
                if !txn.failed {
                    self.reject(Rejection::Data(reply));
                }
            }
            Expect::Chunk => {
                txn.chunks_in_flight -= 1;
                if !positive && !txn.failed {
                    self.reject(Rejection::Message(reply));
                } else if positive && !pipelining && txn.body == BodyState::Open {
                    self.events.push_back(Event::BodyReady);
                }
            }
            Expect::EndOfData => {
                if txn.failed {
                    txn.ended = true;
                } else if lmtp {
                    let index = txn.accepted.get(txn.deliveries).copied().unwrap_or(0);
                    txn.deliveries += 1;
                    txn.ended = txn.deliveries >= txn.accepted.len();
                    self.events.push_back(Event::Delivery { index, reply });
                } else {
                    txn.ended = true;
                    self.events.push_back(if positive {
                        Event::MessageAccepted(reply)
                    } else {
                        Event::MessageRejected(Rejection::Message(reply))
                    });
                }
            }
            _ => return self.abort(SessionError::UnexpectedReply(reply)),
        }
        self.maybe_end_transaction(now);
    }

    /// Every RCPT was answered.
    fn envelope_done(&mut self, now: Instant) {
        let Some(txn) = self.txn.as_mut() else {
            return;
        };
        if txn.accepted.is_empty() {
            return self.reject(Rejection::NoRecipients);
        }
        match txn.transfer {
            // RFC 3030 section 2: the chunks follow once MAIL and RCPT replies are in.
            Transfer::Bdat => {
                txn.body = BodyState::Open;
                self.events.push_back(Event::BodyReady);
            }
            Transfer::Data if !txn.data_pipelined => {
                self.send_command(now, Expect::Data, &Command::Data);
            }
            Transfer::Data => {}
        }
    }

    /// Reports the transaction as failed; its remaining replies are swallowed.
    fn reject(&mut self, rejection: Rejection) {
        if let Some(txn) = self.txn.as_mut() {
            txn.failed = true;
            txn.unsent.clear();
            txn.body = BodyState::Closed;
        }
        self.events.push_back(Event::MessageRejected(rejection));
    }

    /// Closes the transaction once it is over and none of its replies is outstanding.
    fn maybe_end_transaction(&mut self, now: Instant) {
        let Some(txn) = &self.txn else {
            return;
        };
        let outstanding = self.pending.in_transaction();
        if outstanding || !(txn.failed || txn.ended) {
            return;
        }
        // After a failure the server may still hold the transaction (RFC 5321 section 4.1.1.5;
        // RFC 3030 section 2 after a refused chunk); the reply to the end of data closes it.
        self.needs_rset = txn.sender_accepted && !txn.ended;
        self.txn = None;
        self.idle(now);
    }

    /// Remaining replies to the end of the body, this one included.
    pub(super) fn end_replies_left(&self) -> usize {
        match &self.txn {
            Some(txn) if self.config.lmtp && !txn.failed => {
                txn.accepted.len().saturating_sub(txn.deliveries)
            }
            _ => 1,
        }
    }

    /// Lock-step mode: sends the next command of the transaction.
    pub(super) fn send_next(&mut self, now: Instant) {
        if let Some((expect, line)) = self.txn.as_mut().and_then(|t| t.unsent.pop_front()) {
            self.send_line(now, expect, &line);
        }
    }
}
