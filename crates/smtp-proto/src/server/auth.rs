//! AUTH (RFC 4954): the command, the SASL exchange driven by [`Server::auth_step`] (the public
//! call is in the parent module), and the longer line limit while AUTH is offered.

use mail_wire::Secret;
use mail_wire::line::Frame;
use mail_wire::sasl::framing::{self, Response};
use mail_wire::sasl::{Authenticator, Mechanism, Nonce, SaslError, ServerSession, ServerStep};

use super::decision::Pending;
use super::input::MIN_FRAMED_LINE;
use super::{AUTH_LINE_LIMIT, Event, HelloVerb, Phase, Server, replies};

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
            Err(error) => self.auth_failed(mechanism, error),
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
        let line = match frame {
            Frame::Line(line) => line,
            Frame::TooLong { .. } => {
                let error = SaslError::TooLong {
                    len: self.framer.max_len(),
                    limit: framing::MAX_ENCODED_LEN,
                };
                return self.auth_failed(mechanism, error);
            }
            _ => {
                return self.auth_failed(
                    mechanism,
                    SaslError::Malformed {
                        mechanism,
                        reason: "response line ends in a bare LF",
                    },
                );
            }
        };
        match framing::decode_response(&line) {
            Ok(Response::Cancel) => self.auth_failed(mechanism, SaslError::Cancelled),
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
            Err(error) => self.auth_failed(mechanism, error),
        }
    }

    /// Ends a failed exchange: reports it and answers by the kind of failure.
    fn auth_failed(&mut self, mechanism: Mechanism, error: SaslError) {
        self.phase = Phase::Command;
        let text: &[u8] = match error {
            SaslError::Cancelled => replies::AUTH_CANCELLED,
            SaslError::InvalidBase64 { .. } => replies::CANNOT_DECODE,
            SaslError::TooLong { .. } => replies::AUTH_LINE_TOO_LONG,
            SaslError::Malformed { .. } => replies::AUTH_MALFORMED,
            _ => replies::AUTH_INVALID,
        };
        // The failure first: the error may pass the limit and close the session, and
        // Event::Closed is the last event.
        self.events
            .push_back(Event::AuthFailed { mechanism, error });
        self.error(text);
        self.update_line_limit();
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
