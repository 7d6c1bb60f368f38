//! AUTH (RFC 4954): the command, the SASL exchange driven by [`Server::auth_step`] (the public
//! call is in the parent module), and the longer line limit while AUTH is offered.

use mail_wire::Secret;
use mail_wire::line::Frame;
use mail_wire::sasl::framing::{self, Response};
use mail_wire::sasl::{Authenticator, Mechanism, Nonce, SaslError, ServerSession, ServerStep};

use crate::reply::Reply;

use super::decision::Pending;
use super::input::MIN_FRAMED_LINE;
use super::{AUTH_LINE_LIMIT, Event, HelloVerb, Phase, Server, SessionError, replies};

/// The reply to a failed exchange: the machine's own, or the application's
/// ([`Server::reject`] of an [`Event::AuthStep`]).
pub(super) enum FailureReply<'a> {
    /// One of the machine's texts, without CRLF.
    Text(&'a [u8]),
    /// The application's reply.
    Application(&'a Reply<'a>),
}

impl Server {
    /// Carries out [`Server::auth_step`] for the pending exchange: one step with `mechanism`,
    /// the `session` so far (none before the first step) and the client's `response` (none
    /// when AUTH came without an initial response).
    pub(super) fn sasl_step<A: Authenticator + ?Sized>(
        &mut self,
        authenticator: &A,
        nonce: Nonce,
        mechanism: Mechanism,
        session: Option<ServerSession>,
        response: Option<Secret<Vec<u8>>>,
    ) {
        self.timer.decided();
        let mut session = session.unwrap_or_else(|| ServerSession::new(mechanism, nonce));
        let Some(response) = response else {
            // AUTH without an initial response: the server speaks first.
            self.challenge(mechanism.initial_challenge());
            self.phase = Phase::AuthResponse { mechanism, session };
            return;
        };
        match session.step(authenticator, response.expose()) {
            Ok(ServerStep::Challenge(challenge)) => {
                self.challenge(&challenge);
                self.phase = Phase::AuthResponse { mechanism, session };
            }
            Ok(ServerStep::Success(authenticated)) => {
                self.line(replies::AUTHENTICATED);
                self.authenticated = Some(authenticated.clone());
                self.events.push_back(Event::Authenticated(authenticated));
                self.phase = Phase::Command;
                self.update_line_limit();
            }
            Err(error) => {
                let user = session.user().map(str::to_owned);
                self.auth_failed(mechanism, error, user);
            }
        }
    }

    /// Whether AUTH is offered now: mechanisms are configured, the client has not
    /// authenticated yet, and the session is TLS unless plaintext AUTH is allowed.
    pub(super) fn auth_offered(&self) -> bool {
        !self.config.auth_mechanisms.is_empty()
            && self.authenticated.is_none()
            && (self.tls || self.config.allow_plaintext_auth)
    }

    /// AUTH: checks sequence and policy, then asks for the first step of the exchange.
    pub(super) fn on_auth(&mut self, name: &str, initial: Option<&str>) {
        if self.config.auth_mechanisms.is_empty() {
            return self.error(replies::NO_AUTH);
        }
        if self.hello.is_none() || self.hello == Some(HelloVerb::Helo) {
            return self.error(replies::EHLO_FIRST);
        }
        if self.authenticated.is_some() {
            return self.error(replies::ALREADY_AUTHENTICATED);
        }
        if self.txn.is_some() {
            return self.error(replies::AUTH_IN_TRANSACTION);
        }
        if !self.tls && !self.config.allow_plaintext_auth {
            return self.error(if self.config.require_tls {
                replies::STARTTLS_FIRST
            } else {
                replies::ENCRYPTION_REQUIRED
            });
        }
        let Some(mechanism) = Mechanism::from_name(name.as_bytes())
            .filter(|m| self.config.auth_mechanisms.contains(m))
        else {
            return self.error(replies::UNKNOWN_MECHANISM);
        };
        let response = match initial.map(|r| framing::decode_initial_response(r.as_bytes())) {
            None => None,
            Some(Ok(response)) => Some(response),
            Some(Err(_)) => return self.error(replies::CANNOT_DECODE),
        };
        self.ask(
            Pending::Auth {
                mechanism,
                session: None,
                response,
            },
            Event::AuthStep { mechanism },
        );
    }

    /// The client's response line in the middle of an exchange.
    pub(super) fn on_auth_frame(&mut self, frame: Frame) {
        let Phase::AuthResponse { mechanism, session } =
            std::mem::replace(&mut self.phase, Phase::Command)
        else {
            return;
        };
        let user = session.user().map(str::to_owned);
        let line = match frame {
            Frame::Line(line) => line,
            Frame::TooLong { .. } => {
                let error = SaslError::TooLong {
                    len: self.framer.max_len(),
                    limit: framing::MAX_ENCODED_LEN,
                };
                return self.auth_failed(mechanism, error, user);
            }
            _ => {
                return self.auth_failed(
                    mechanism,
                    SaslError::Malformed {
                        mechanism,
                        reason: "response line ends in a bare LF",
                    },
                    user,
                );
            }
        };
        match framing::decode_response(&line) {
            Ok(Response::Cancel) => self.auth_failed(mechanism, SaslError::Cancelled, user),
            Ok(Response::Data(response)) => {
                self.update_line_limit();
                self.ask(
                    Pending::Auth {
                        mechanism,
                        session: Some(session),
                        response: Some(response),
                    },
                    Event::AuthStep { mechanism },
                );
            }
            Err(error) => self.auth_failed(mechanism, error, user),
        }
    }

    /// Ends a failed exchange: reports it and answers by the kind of failure.
    fn auth_failed(&mut self, mechanism: Mechanism, error: SaslError, user: Option<String>) {
        let text: &[u8] = match error {
            SaslError::Cancelled => replies::AUTH_CANCELLED,
            SaslError::InvalidBase64 { .. } => replies::CANNOT_DECODE,
            SaslError::TooLong { .. } => replies::AUTH_LINE_TOO_LONG,
            SaslError::Malformed { .. } => replies::AUTH_MALFORMED,
            _ => replies::AUTH_INVALID,
        };
        self.auth_failed_with(mechanism, error, user, FailureReply::Text(text));
    }

    /// Ends a failed exchange with `reply`: reports it, counts it as an error and toward
    /// [`ServerConfig::max_auth_failures`](super::ServerConfig::max_auth_failures) (adding
    /// `421 4.7.0` when it reaches the limit), and holds the replies back for the failure
    /// delay.
    pub(super) fn auth_failed_with(
        &mut self,
        mechanism: Mechanism,
        error: SaslError,
        user: Option<String>,
        reply: FailureReply<'_>,
    ) {
        self.phase = Phase::Command;
        // The failure first: Event::Closed, if the failure ends the session, is the last
        // event.
        self.events.push_back(Event::AuthFailed {
            mechanism,
            error,
            user,
        });
        self.auth_failures = self.auth_failures.saturating_add(1);
        let mark = self.output.len();
        self.errors = self.errors.saturating_add(1);
        let ending = if self.errors > self.config.max_errors {
            self.line(replies::TOO_MANY_ERRORS);
            Some(SessionError::TooManyErrors)
        } else {
            match reply {
                FailureReply::Text(text) => self.line(text),
                FailureReply::Application(reply) => reply.encode(&mut self.output),
            }
            let limit = self.config.max_auth_failures;
            (limit != 0 && self.auth_failures >= limit).then(|| {
                self.line(replies::TOO_MANY_AUTH_FAILURES);
                SessionError::TooManyAuthFailures
            })
        };
        if ending.is_some() {
            self.input.clear();
        } else {
            self.update_line_limit();
        }
        self.hold_back(mark, ending);
    }

    /// Queues a `334` challenge and lets the response line be as long as SASL allows.
    fn challenge(&mut self, challenge: &[u8]) {
        self.output.extend_from_slice(replies::CHALLENGE);
        self.output
            .extend_from_slice(framing::encode_challenge(challenge).as_bytes());
        self.output.extend_from_slice(replies::CRLF);
        self.framer
            .set_max_len(self.config.max_line_len.max(framing::MAX_ENCODED_LEN + 2));
    }

    /// Sets the command line limit: at least [`AUTH_LINE_LIMIT`] while AUTH is offered.
    ///
    /// The framer's limit is never below [`MIN_FRAMED_LINE`] octets, even when
    /// [`ServerConfig::max_line_len`](super::ServerConfig::max_line_len) is smaller: a line
    /// the framer finds too long must hold its verb, since whether it is a BDAT command (whose
    /// chunk can then not be found) decides between a `500` and closing the session, and
    /// must not depend on how many octets the read that passed the limit brought. Lines the
    /// framer lets through over the configured limit are refused by
    /// `Server::on_command_frame` with the same reply.
    pub(super) fn update_line_limit(&mut self) {
        let limit = if self.auth_offered() {
            self.config.max_line_len.max(AUTH_LINE_LIMIT)
        } else {
            self.config.max_line_len
        };
        self.framer.set_max_len(limit.max(MIN_FRAMED_LINE));
    }
}
