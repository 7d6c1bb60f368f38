//! AUTH (RFC 4954): choosing a SASL mechanism, the initial response, challenges and
//! responses, and the outcome. The mechanisms themselves are `mail_wire::sasl`.

use std::time::Instant;

use mail_wire::Secret;
use mail_wire::sasl::framing;
use mail_wire::sasl::{ClientSession, Mechanism, SaslError};

use crate::reply::Reply;

use super::config::{COMMAND_LINE_LIMIT, SASL_LINE_LIMIT};
use super::{Client, Event, SessionError};

/// A running SASL exchange.
#[derive(Debug)]
pub(super) struct AuthExchange {
    mechanism: Mechanism,
    session: ClientSession,
    /// An initial response too long for the AUTH line, sent after the first `334`.
    deferred: Option<Secret<Vec<u8>>>,
    /// Why the exchange was cancelled.
    error: Option<SaslError>,
}

impl Client {
    /// Authenticates when credentials are configured, with the first mechanism of
    /// [`ClientConfig::auth_mechanisms`](super::ClientConfig::auth_mechanisms) that both the
    /// credentials and the server support; otherwise the session is ready.
    pub(super) fn start_auth(&mut self, now: Instant) {
        let Some(credentials) = &self.config.credentials else {
            return self.idle(now);
        };
        if !self.tls && !self.config.allow_plaintext_auth {
            return self.give_up(SessionError::AuthRequiresTls);
        }
        let Some(offered) = self.capabilities.as_ref().and_then(|c| c.auth.as_ref()) else {
            return self.give_up(SessionError::AuthNotOffered);
        };
        let chosen = self
            .config
            .auth_mechanisms
            .iter()
            .copied()
            .find(|&m| credentials.supports(m) && offered.offers(m));
        let Some(mechanism) = chosen else {
            let offered = offered.clone();
            return self.give_up(SessionError::NoCommonMechanism { offered });
        };
        let started = credentials
            .session(mechanism, &self.config.scram)
            .and_then(|mut session| {
                let initial = if mechanism.client_first() {
                    session.initial_response()?
                } else {
                    None
                };
                Ok((session, initial))
            });
        let (session, initial) = match started {
            Ok(started) => started,
            Err(error) => return self.give_up(SessionError::Sasl(error)),
        };

        let name = mechanism.name();
        let encoded = initial
            .as_ref()
            .map(|ir| framing::encode_initial_response(ir.expose()));
        // "AUTH " name SP initial-response CRLF must fit the command line (RFC 4954 section 4).
        let fits = encoded
            .as_ref()
            .is_some_and(|text| 7 + name.len() + text.expose().len() + 2 <= COMMAND_LINE_LIMIT);
        let initial_text = encoded.as_ref().filter(|_| fits).map(|text| text.expose());
        self.send_auth(now, name, initial_text.map(String::as_str));
        self.auth = Some(AuthExchange {
            mechanism,
            session,
            deferred: if fits { None } else { initial },
            error: None,
        });
        self.framer
            .set_max_len(self.config.max_reply_line_len.max(SASL_LINE_LIMIT));
    }

    /// A reply during the exchange: a challenge (`334`), success (`235`) or failure.
    pub(super) fn on_auth(&mut self, now: Instant, reply: Reply<'static>) {
        let Some(auth) = self.auth.as_mut() else {
            return self.abort(SessionError::UnexpectedReply(reply));
        };
        match reply.code().get() {
            334 => {
                let response = match auth.deferred.take() {
                    Some(initial) => Ok(initial),
                    None => match reply.lines().len() {
                        1 => framing::decode_challenge(reply.first_line())
                            .and_then(|challenge| auth.session.step(&challenge)),
                        _ => Err(SaslError::Malformed {
                            mechanism: auth.mechanism,
                            reason: "challenge of more than one line",
                        }),
                    },
                };
                match response {
                    Ok(response) => self.send_sasl_response(now, response.expose()),
                    Err(error) => {
                        // RFC 4954 section 4: cancel with "*"; the server answers 501.
                        auth.error = Some(error);
                        self.send_sasl_cancel(now);
                    }
                }
            }
            235 => {
                let mechanism = auth.mechanism;
                if let Err(error) = auth.session.finish(None) {
                    return self.give_up(SessionError::Sasl(error));
                }
                self.auth = None;
                self.authenticated = Some(mechanism);
                self.framer.set_max_len(self.config.max_reply_line_len);
                self.events.push_back(Event::Authenticated(mechanism));
                self.idle(now);
            }
            _ => {
                let error = SessionError::AuthFailed {
                    mechanism: auth.mechanism,
                    server_error: auth.session.server_error().map(str::to_owned),
                    reply,
                };
                self.give_up(error);
            }
        }
    }

    /// The reply to the cancel line `*`: the session ends with the error that made the client
    /// cancel.
    pub(super) fn on_auth_cancelled(&mut self) {
        let error = self.auth.take().and_then(|a| a.error);
        self.give_up(SessionError::Sasl(
            error.unwrap_or(SaslError::Misuse("the exchange was cancelled")),
        ));
    }
}
