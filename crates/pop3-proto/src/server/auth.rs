//! Logging in: `USER`/`PASS` (RFC 1939 section 7, checked as a SASL `PLAIN` exchange through
//! the application's authenticator), `APOP` (off unless configured), `AUTH` (RFC 5034) with
//! initial responses and `+ ` continuations through mail-wire's SASL framing, and failed
//! logins: `-ERR [AUTH]` (RFC 3206 section 5), held back, and limited per session.

use mail_wire::Secret;
use mail_wire::line::Frame;
use mail_wire::sasl::framing::{self, Response};
use mail_wire::sasl::{Authenticator, Mechanism, Nonce, SaslError, ServerSession, ServerStep};

use super::{Event, Held, LoginMethod, Pending, Phase, Server, replies};

impl Server {
    pub(super) fn on_user(&mut self, name: &str) {
        if !self.config.user_pass {
            return self.error(replies::USER_DISABLED);
        }
        if !self.credentials_allowed() {
            return self.error(replies::TLS_FIRST);
        }
        // Whether the mailbox exists is not told: that would let anyone list users.
        self.user = Some(name.to_owned());
        self.line(replies::USER_OK);
    }

    pub(super) fn on_pass(&mut self, password: Secret<String>) {
        if !self.credentials_allowed() {
            return self.error(replies::TLS_FIRST);
        }
        let Some(user) = self.user.take() else {
            return self.error(replies::PASS_WITHOUT_USER);
        };
        // PLAIN's message: no authzid, the user, the password.
        let mut message = Vec::with_capacity(user.len() + password.expose().len() + 2);
        message.push(0);
        message.extend_from_slice(user.as_bytes());
        message.push(0);
        message.extend_from_slice(password.expose().as_bytes());
        self.ask_auth(
            LoginMethod::UserPass,
            None,
            Some(Secret::new(message)),
            Some(user),
        );
    }

    pub(super) fn on_apop(&mut self, name: &str, digest: &str) {
        let Some(timestamp) = self.config.apop_timestamp.clone() else {
            return self.error(replies::APOP_DISABLED);
        };
        self.user = None;
        self.pending = Some(Pending::Apop {
            user: name.to_owned(),
        });
        self.events.push_back(Event::Apop {
            user: name.to_owned(),
            timestamp,
            digest: digest.to_ascii_lowercase(),
        });
    }

    pub(super) fn on_auth(&mut self, name: &str, initial: Option<Secret<String>>) {
        if !self.credentials_allowed() {
            return self.error(replies::TLS_FIRST);
        }
        let Some(mechanism) = Mechanism::from_name(name.as_bytes())
            .filter(|m| self.mechanism_offered(*m) && self.sasl_offered())
        else {
            return self.error(replies::UNKNOWN_MECHANISM);
        };
        self.user = None;
        let response =
            match initial.map(|r| framing::decode_initial_response(r.expose().as_bytes())) {
                None => None,
                Some(Ok(response)) => Some(response),
                Some(Err(_)) => return self.error(replies::CANNOT_DECODE),
            };
        let user = response
            .as_ref()
            .and_then(|r| tried_user(mechanism, r.expose()));
        self.ask_auth(LoginMethod::Sasl(mechanism), None, response, user);
    }

    fn ask_auth(
        &mut self,
        method: LoginMethod,
        session: Option<ServerSession>,
        response: Option<Secret<Vec<u8>>>,
        user: Option<String>,
    ) {
        self.pending = Some(Pending::Auth {
            method,
            session,
            response,
            user,
        });
        self.events.push_back(Event::AuthStep { method });
    }

    /// Carries out [`Server::auth_step`].
    pub(super) fn sasl_step<A: Authenticator + ?Sized>(
        &mut self,
        authenticator: &A,
        nonce: Nonce,
        method: LoginMethod,
        session: Option<ServerSession>,
        response: Option<Secret<Vec<u8>>>,
        user: Option<String>,
    ) {
        let mechanism = match method {
            LoginMethod::Sasl(mechanism) => mechanism,
            _ => Mechanism::Plain,
        };
        let mut session = session.unwrap_or_else(|| ServerSession::new(mechanism, nonce));
        let Some(response) = response else {
            self.challenge(mechanism.initial_challenge());
            self.phase = Phase::AuthResponse {
                method,
                session,
                user,
            };
            return;
        };
        match session.step(authenticator, response.expose()) {
            Ok(ServerStep::Challenge(challenge)) => {
                self.challenge(&challenge);
                self.phase = Phase::AuthResponse {
                    method,
                    session,
                    user,
                };
            }
            Ok(ServerStep::Success(authenticated)) => {
                self.phase = Phase::Command;
                let identity = authenticated.identity().to_owned();
                self.authenticated = Some(authenticated.clone());
                self.events.push_back(Event::Authenticated(authenticated));
                self.logged_in(identity);
            }
            Err(error) => {
                self.phase = Phase::Command;
                self.login_failed(method, Some(error), user);
            }
        }
    }

    /// The credentials are good: ask the application for the maildrop.
    pub(super) fn logged_in(&mut self, user: String) {
        self.update_line_limit();
        self.pending = Some(Pending::Maildrop { user: user.clone() });
        self.events.push_back(Event::OpenMaildrop { user });
    }

    /// The client's response line in the middle of an exchange.
    pub(super) fn on_auth_frame(&mut self, frame: Frame) {
        let Phase::AuthResponse {
            method,
            session,
            mut user,
        } = std::mem::replace(&mut self.phase, Phase::Command)
        else {
            return;
        };
        let mechanism = match method {
            LoginMethod::Sasl(mechanism) => mechanism,
            _ => Mechanism::Plain,
        };
        let line = match frame {
            Frame::Line(line) => line,
            Frame::TooLong { .. } => {
                let error = SaslError::TooLong {
                    len: self.framer.max_len(),
                    limit: framing::MAX_ENCODED_LEN,
                };
                self.update_line_limit();
                return self.login_failed(method, Some(error), user);
            }
            _ => {
                self.update_line_limit();
                let error = SaslError::Malformed {
                    mechanism,
                    reason: "response line ends in a bare LF",
                };
                return self.login_failed(method, Some(error), user);
            }
        };
        self.update_line_limit();
        match framing::decode_response(&line) {
            Ok(Response::Cancel) => {
                self.events.push_back(Event::AuthFailed {
                    method,
                    error: Some(SaslError::Cancelled),
                    user,
                });
                self.error(replies::AUTH_CANCELLED);
            }
            Ok(Response::Data(response)) => {
                if user.is_none() {
                    user = tried_user(mechanism, response.expose());
                }
                self.ask_auth(method, Some(session), Some(response), user);
            }
            Err(error) => self.login_failed(method, Some(error), user),
        }
    }

    /// A failed login: reported, counted, and its `-ERR [AUTH]` held back for the failure
    /// delay (the last one allowed closes the session).
    pub(super) fn login_failed(
        &mut self,
        method: LoginMethod,
        error: Option<SaslError>,
        user: Option<String>,
    ) {
        self.auth_failures = self.auth_failures.saturating_add(1);
        self.events.push_back(Event::AuthFailed {
            method,
            error,
            user,
        });
        let close = self.auth_failures >= self.config.max_auth_failures;
        self.held = Some(Held {
            since: self.timer.since,
            close,
            reply: None,
        });
    }

    fn challenge(&mut self, challenge: &[u8]) {
        self.output.extend_from_slice(replies::CHALLENGE);
        self.output
            .extend_from_slice(framing::encode_challenge(challenge).as_bytes());
        self.output.extend_from_slice(replies::CRLF);
        self.framer
            .set_max_len(self.config.max_line_len.max(framing::MAX_ENCODED_LEN + 2));
    }
}

/// The identity a client's first SASL message names, for [`Event::AuthFailed`]: the
/// `PLAIN` authcid, the `LOGIN` user name, the SCRAM `n=`, the XOAUTH2 `user=` or the
/// OAUTHBEARER `a=`. Never the password or token.
fn tried_user(mechanism: Mechanism, message: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(message).ok()?;
    let found = match mechanism {
        Mechanism::Plain => text.split('\0').nth(1),
        Mechanism::Login => Some(text),
        Mechanism::ScramSha256 => text
            .split(',')
            .skip(2)
            .find_map(|field| field.strip_prefix("n=")),
        Mechanism::XOAuth2 => text
            .split('\x01')
            .find_map(|field| field.strip_prefix("user=")),
        Mechanism::OAuthBearer => text
            .split('\x01')
            .next()
            .and_then(|gs2| gs2.split(',').find_map(|field| field.strip_prefix("a="))),
        _ => None,
    };
    found.filter(|user| !user.is_empty()).map(str::to_owned)
}
