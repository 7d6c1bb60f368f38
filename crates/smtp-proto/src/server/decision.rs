//! The application's decisions: the events that wait for an answer, and
//! [`Server::accept`], [`Server::accept_with`], [`Server::reject`], [`Server::reply_each`].

use mail_wire::Secret;
use mail_wire::sasl::{Mechanism, SaslError, ServerSession};

use crate::reply::Reply;

use super::transaction::{Transaction, TxnParams};
use super::{Event, HelloVerb, Mode, Phase, Server, ServerError, replies};

/// What the pending decision is about, with what the machine needs to carry it out.
#[derive(Debug)]
pub(super) enum Pending {
    Hello(HelloVerb),
    Mail {
        params: TxnParams,
    },
    Rcpt,
    BodyEnd,
    Auth {
        mechanism: Mechanism,
        session: Option<ServerSession>,
        response: Option<Secret<Vec<u8>>>,
    },
}

impl Server {
    /// Accepts the pending decision with the default positive reply.
    ///
    /// # Errors
    ///
    /// [`ServerError::NoPendingDecision`], or [`ServerError::WrongDecision`] for an
    /// [`Event::AuthStep`] (use [`Server::auth_step`]).
    pub fn accept(&mut self) -> Result<(), ServerError> {
        self.decide(None, true)
    }

    /// Accepts the pending MAIL, RCPT or message with this positive (2xx) reply, for example
    /// to name the queue id. For HELO and EHLO the capability reply is always used.
    ///
    /// # Errors
    ///
    /// As [`Server::accept`], and [`ServerError::WrongReplyClass`] for a reply that is not 2xx.
    pub fn accept_with(&mut self, reply: Reply<'_>) -> Result<(), ServerError> {
        if !reply.code().is_positive() {
            return Err(ServerError::WrongReplyClass(reply.code().get()));
        }
        self.decide(Some(reply), true)
    }

    /// Refuses the pending decision with this 4xx or 5xx reply. In LMTP the reply goes to every
    /// accepted recipient. Refusing an [`Event::AuthStep`] ends the exchange.
    ///
    /// # Errors
    ///
    /// [`ServerError::NoPendingDecision`], or [`ServerError::WrongReplyClass`] for a reply that
    /// is not 4xx or 5xx.
    pub fn reject(&mut self, reply: Reply<'_>) -> Result<(), ServerError> {
        if !(reply.code().is_transient() || reply.code().is_permanent()) {
            return Err(ServerError::WrongReplyClass(reply.code().get()));
        }
        self.decide(Some(reply), false)
    }

    /// LMTP: answers the end of the body with one reply per accepted recipient, in the order
    /// they were accepted (RFC 2033 section 4.2).
    ///
    /// # Errors
    ///
    /// [`ServerError::WrongDecision`] unless an [`Event::BodyEnd`] is pending in LMTP mode;
    /// [`ServerError::ReplyCount`] for the wrong number of replies.
    pub fn reply_each(&mut self, replies: &[Reply<'_>]) -> Result<(), ServerError> {
        if self.config.mode != Mode::Lmtp || !matches!(self.pending, Some(Pending::BodyEnd)) {
            return Err(ServerError::WrongDecision(
                "reply_each answers BodyEnd in LMTP mode",
            ));
        }
        let expected = self.txn.as_ref().map_or(0, |t| t.recipients);
        if replies.len() != expected {
            return Err(ServerError::ReplyCount {
                expected,
                got: replies.len(),
            });
        }
        self.pending = None;
        self.timer.decided();
        for reply in replies {
            if self.is_closed() {
                // The error limit was passed: the 421 is the last reply.
                break;
            }
            if reply.code().is_positive() {
                reply.encode(&mut self.output);
            } else {
                self.count_error_with(reply);
            }
        }
        self.txn = None;
        self.after_transaction();
        Ok(())
    }

    #[inline]
    pub(super) fn ask(&mut self, pending: Pending, event: Event) {
        self.pending = Some(pending);
        self.events.push_back(event);
    }

    fn decide(&mut self, reply: Option<Reply<'_>>, accept: bool) -> Result<(), ServerError> {
        let Some(pending) = self.pending.take() else {
            return Err(ServerError::NoPendingDecision);
        };
        self.timer.decided();
        if !accept {
            let Some(reply) = reply else {
                return Err(ServerError::NoPendingDecision);
            };
            match pending {
                Pending::BodyEnd => {
                    let count = match self.config.mode {
                        Mode::Lmtp => self.txn.as_ref().map_or(0, |t| t.recipients),
                        Mode::Smtp => 1,
                    };
                    for _ in 0..count {
                        self.count_error_with(&reply);
                    }
                    self.txn = None;
                    self.after_transaction();
                }
                Pending::Hello(_) => {
                    self.hello = None;
                    self.txn = None;
                    self.count_error_with(&reply);
                }
                Pending::Auth { mechanism, .. } => {
                    self.phase = Phase::Command;
                    self.events.push_back(Event::AuthFailed {
                        mechanism,
                        error: SaslError::AuthenticationFailed,
                    });
                    self.count_error_with(&reply);
                    self.update_line_limit();
                }
                Pending::Mail { .. } | Pending::Rcpt => self.count_error_with(&reply),
            }
            return Ok(());
        }
        match pending {
            Pending::Hello(verb) => {
                self.hello = Some(verb);
                self.txn = None;
                if verb == HelloVerb::Helo {
                    let text = replies::helo(&self.config.hostname);
                    self.line(text.as_bytes());
                } else {
                    self.capabilities_reply();
                }
            }
            Pending::Mail { params } => {
                self.txn = Some(Transaction {
                    params,
                    recipients: 0,
                    overshoot: 0,
                    transfer: None,
                    received: 0,
                });
                self.positive(reply, replies::SENDER_OK);
            }
            Pending::Rcpt => {
                if let Some(txn) = &mut self.txn {
                    txn.recipients += 1;
                }
                self.positive(reply, replies::RECIPIENT_OK);
            }
            Pending::BodyEnd => {
                let count = match self.config.mode {
                    Mode::Lmtp => self.txn.as_ref().map_or(0, |t| t.recipients),
                    Mode::Smtp => 1,
                };
                for _ in 0..count {
                    match &reply {
                        Some(reply) => reply.encode(&mut self.output),
                        None => self.line(replies::MESSAGE_ACCEPTED),
                    }
                }
                self.txn = None;
                self.after_transaction();
            }
            auth @ Pending::Auth { .. } => {
                self.pending = Some(auth);
                return Err(ServerError::WrongDecision(
                    "an AuthStep is answered with auth_step or reject",
                ));
            }
        }
        Ok(())
    }

    fn positive(&mut self, reply: Option<Reply<'_>>, default: &[u8]) {
        match reply {
            Some(reply) => reply.encode(&mut self.output),
            None => self.line(default),
        }
    }
}
