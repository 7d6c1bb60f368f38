//! The application's decisions: what a pending decision is about, and how the machine carries
//! out [`Server::accept`], [`Server::accept_with`], [`Server::reject`] and
//! [`Server::reply_each`] (the public calls are in the parent module).

use mail_wire::Secret;
use mail_wire::sasl::{Mechanism, SaslError, ServerSession};

use crate::reply::Reply;

use super::auth::FailureReply;
use super::text::TextBody;
use super::transaction::{Transaction, TxnParams};
use super::{Event, HelloVerb, Mode, Server, ServerError, replies};

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
    /// Queues `event` and waits for the application's decision on it.
    #[inline]
    pub(super) fn ask(&mut self, pending: Pending, event: Event) {
        self.pending = Some(pending);
        self.events.push_back(event);
    }

    /// Carries out [`Server::reply_each`], its arguments checked.
    pub(super) fn decide_each(&mut self, replies: &[Reply<'_>]) {
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
    }

    /// Carries out the pending decision: `accept` it, with `reply` or the default positive
    /// reply, or refuse it with `reply`.
    pub(super) fn decide(
        &mut self,
        reply: Option<Reply<'_>>,
        accept: bool,
    ) -> Result<(), ServerError> {
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
                Pending::Auth {
                    mechanism, session, ..
                } => {
                    let user = session.as_ref().and_then(|s| s.user()).map(str::to_owned);
                    self.auth_failed_with(
                        mechanism,
                        SaslError::AuthenticationFailed,
                        user,
                        FailureReply::Application(&reply),
                    );
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
                    delivered: 0,
                    text: TextBody::default(),
                    body_started: None,
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

    /// Queues the application's positive reply, or `default`.
    fn positive(&mut self, reply: Option<Reply<'_>>, default: &[u8]) {
        match reply {
            Some(reply) => reply.encode(&mut self.output),
            None => self.line(default),
        }
    }
}
