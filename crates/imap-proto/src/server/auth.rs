//! Logging in: `LOGIN` (checked as a SASL `PLAIN` exchange through the application's
//! authenticator), `AUTHENTICATE` with SASL-IR (RFC 4959) and `+ ` challenges through
//! mail-wire's SASL framing, and failed logins: `NO [AUTHENTICATIONFAILED]` (RFC 5530), held
//! back, limited per session.

use mail_wire::Secret;
use mail_wire::sasl::framing::{self, Response as SaslResponse};
use mail_wire::sasl::{Authenticator, Mechanism, Nonce, SaslError, ServerSession, ServerStep};

use crate::core::Tag;
use crate::response::{Code, Continuation, Response, StatusKind};

use super::{Event, Held, Pending, Phase, Server, SessionError, State};

impl Server {
    pub(super) fn on_login(&mut self, tag: Tag<'static>, user: &[u8], password: &[u8]) {
        if !self.credentials_allowed() {
            return self.privacy_required(&tag);
        }
        // PLAIN's message: no authzid, the user, the password.
        let mut message = Vec::with_capacity(user.len() + password.len() + 2);
        message.push(0);
        message.extend_from_slice(user);
        message.push(0);
        message.extend_from_slice(password);
        let user = std::str::from_utf8(user).ok().map(str::to_owned);
        self.ask_auth(
            tag,
            Mechanism::Plain,
            None,
            Some(Secret::new(message)),
            user,
        );
    }

    pub(super) fn on_authenticate(
        &mut self,
        tag: Tag<'static>,
        name: &str,
        initial: Option<Vec<u8>>,
    ) {
        if !self.credentials_allowed() {
            return self.privacy_required(&tag);
        }
        let Some(mechanism) = Mechanism::from_name(name.as_bytes())
            .filter(|m| self.config.sasl_mechanisms.contains(m))
        else {
            return self.tagged(
                &tag,
                StatusKind::No,
                None,
                "Unsupported authentication mechanism",
            );
        };
        let response = match initial.map(|r| framing::decode_initial_response(&r)) {
            None => None,
            Some(Ok(response)) => Some(response),
            Some(Err(_)) => return self.bad(Some(&tag), "Cannot decode the initial response"),
        };
        let user = response
            .as_ref()
            .and_then(|r| tried_user(mechanism, r.expose()));
        self.ask_auth(tag, mechanism, None, response, user);
    }

    fn privacy_required(&mut self, tag: &Tag<'_>) {
        self.tagged(
            tag,
            StatusKind::No,
            Some(Code::PrivacyRequired),
            "Use STARTTLS first: no credentials before TLS",
        );
    }

    fn ask_auth(
        &mut self,
        tag: Tag<'static>,
        mechanism: Mechanism,
        session: Option<ServerSession>,
        response: Option<Secret<Vec<u8>>>,
        user: Option<String>,
    ) {
        self.pending = Some(Pending::Auth {
            tag,
            mechanism,
            session,
            response,
            user,
        });
        self.events.push_back(Event::AuthStep { mechanism });
    }

    /// Carries out [`Server::auth_step`].
    #[allow(clippy::too_many_arguments)]
    pub(super) fn sasl_step<A: Authenticator + ?Sized>(
        &mut self,
        authenticator: &A,
        nonce: Nonce,
        tag: Tag<'static>,
        mechanism: Mechanism,
        session: Option<ServerSession>,
        response: Option<Secret<Vec<u8>>>,
        user: Option<String>,
    ) {
        let mut session = session.unwrap_or_else(|| ServerSession::new(mechanism, nonce));
        let Some(response) = response else {
            self.challenge(mechanism.initial_challenge());
            self.phase = Phase::AuthResponse {
                tag,
                session,
                user,
                failed: false,
            };
            return;
        };
        match session.step(authenticator, response.expose()) {
            Ok(ServerStep::Challenge(challenge)) => {
                self.challenge(&challenge);
                // XOAUTH2 and OAUTHBEARER challenge only to say that the token was refused.
                let failed = matches!(mechanism, Mechanism::XOAuth2 | Mechanism::OAuthBearer);
                self.phase = Phase::AuthResponse {
                    tag,
                    session,
                    user,
                    failed,
                };
            }
            Ok(ServerStep::Success(authenticated)) => {
                self.phase = Phase::Command;
                self.framer.set_literals(true);
                self.state = State::Authenticated;
                self.events.push_back(Event::Authenticated(authenticated));
                // RFC 9051 section 6.2.3: the capabilities after login, in the OK.
                let code = self.capability_code();
                self.tagged(&tag, StatusKind::Ok, Some(code), "Logged in");
            }
            Err(error) => {
                self.phase = Phase::Command;
                self.framer.set_literals(true);
                self.login_failed(tag, mechanism, Some(error), user, None);
            }
        }
    }

    /// The client's response line in the middle of an AUTHENTICATE exchange. `*` cancels,
    /// and a line that is not base64 ends the exchange: both `BAD` (RFC 9051 section
    /// 6.2.2), a failed login (counted, held back) when the credentials were already refused.
    pub(super) fn on_auth_line(
        &mut self,
        line: &[u8],
        tag: Tag<'static>,
        session: ServerSession,
        mut user: Option<String>,
        failed: bool,
    ) {
        self.framer.set_literals(true);
        let mechanism = session.mechanism();
        let line = line
            .strip_suffix(b"\r\n")
            .or_else(|| line.strip_suffix(b"\n"))
            .unwrap_or(line);
        match framing::decode_response(line) {
            Ok(SaslResponse::Cancel) if failed => self.login_failed(
                tag,
                mechanism,
                Some(SaslError::Cancelled),
                user,
                Some(CANCELLED),
            ),
            Ok(SaslResponse::Cancel) => {
                self.events.push_back(Event::AuthFailed {
                    mechanism,
                    error: Some(SaslError::Cancelled),
                    user,
                });
                self.bad(Some(&tag), CANCELLED);
            }
            Ok(SaslResponse::Data(response)) => {
                if user.is_none() {
                    user = tried_user(mechanism, response.expose());
                }
                self.ask_auth(tag, mechanism, Some(session), Some(response), user);
            }
            Err(error) if failed => {
                self.login_failed(tag, mechanism, Some(error), user, Some(NOT_BASE64));
            }
            Err(error) => {
                self.events.push_back(Event::AuthFailed {
                    mechanism,
                    error: Some(error),
                    user,
                });
                self.bad(Some(&tag), NOT_BASE64);
            }
        }
    }

    /// A line that cannot be a SASL response (too long) after the credentials were refused:
    /// a failed login, answered `BAD`.
    pub(super) fn auth_line_refused(
        &mut self,
        tag: Tag<'static>,
        mechanism: Mechanism,
        user: Option<String>,
    ) {
        self.login_failed(
            tag,
            mechanism,
            Some(SaslError::AuthenticationFailed),
            user,
            Some(NOT_BASE64),
        );
    }

    /// A failed login: reported, counted, and its `NO [AUTHENTICATIONFAILED]` (or `BAD`
    /// with `bad`) held back for the failure delay (the last one allowed closes the session).
    fn login_failed(
        &mut self,
        tag: Tag<'static>,
        mechanism: Mechanism,
        error: Option<SaslError>,
        user: Option<String>,
        bad: Option<&'static str>,
    ) {
        self.auth_failures = self.auth_failures.saturating_add(1);
        self.events.push_back(Event::AuthFailed {
            mechanism,
            error,
            user,
        });
        let close = self.auth_failures >= self.config.max_auth_failures;
        self.held = Some(Held {
            since: self.timer.since,
            tag,
            close,
            bad,
        });
    }

    /// The failure delay is over: the held answer goes out.
    pub(super) fn release_failure(&mut self, held: Held) {
        match held.bad {
            Some(text) => self.tagged(&held.tag, StatusKind::Bad, None, text),
            None => self.tagged(
                &held.tag,
                StatusKind::No,
                Some(Code::AuthenticationFailed),
                "Authentication failed",
            ),
        }
        if held.close {
            self.close_with(
                "Too many authentication failures",
                SessionError::TooManyAuthFailures,
            );
        }
    }

    fn challenge(&mut self, challenge: &[u8]) {
        self.emit(&Response::Continuation(Continuation::base64(
            challenge.to_vec(),
        )));
        // The response is a plain line: `{n}` at its end is base64 text, not a literal.
        self.framer.set_literals(false);
    }
}

/// The answer to `*` in an AUTHENTICATE exchange.
const CANCELLED: &str = "Authentication cancelled";

/// The answer to a SASL response that is not base64.
const NOT_BASE64: &str = "Invalid base64 data in the authentication response";

/// The identity a client's first SASL message names, for [`Event::AuthFailed`]: the `PLAIN`
/// authcid, the `LOGIN` user name, the SCRAM `n=`, the XOAUTH2 `user=` or the OAUTHBEARER
/// `a=`. Never the password or token.
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
