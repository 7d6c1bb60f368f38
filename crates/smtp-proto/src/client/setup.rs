//! Opening a session: the greeting, EHLO (HELO when the server does not know EHLO, LHLO in
//! LMTP) and STARTTLS. AUTH, the last step of the setup, is in [`auth`](super::auth).

use std::time::Instant;

use crate::command::Command;
use crate::reply::{Capabilities, Reply};
use crate::types::Host;

use super::pending::Expect;
use super::{Client, Event, Phase, SessionError, TlsPolicy};

/// Which greeting command is outstanding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hello {
    Ehlo,
    Helo,
    Lhlo,
}

impl Client {
    /// The reply to the connection: `220` or the end.
    pub(super) fn on_greeting(&mut self, now: Instant, reply: Reply<'static>) {
        if reply.code().get() != 220 {
            return self.give_up(SessionError::GreetingRejected(reply));
        }
        self.events.push_back(Event::Greeting(reply));
        self.send_hello(now, self.first_hello());
    }

    /// The reply to EHLO, HELO or LHLO: the server's extensions, or a fallback to HELO.
    pub(super) fn on_hello(&mut self, now: Instant, hello: Hello, reply: Reply<'static>) {
        if reply.code().is_positive() {
            let capabilities = if hello == Hello::Helo {
                Capabilities {
                    greeting: reply.first_line().to_vec(),
                    ..Capabilities::default()
                }
            } else {
                read_capabilities(&reply)
            };
            self.esmtp = hello != Hello::Helo;
            self.events
                .push_back(Event::Capabilities(capabilities.clone()));
            self.capabilities = Some(capabilities);
            return self.after_hello(now);
        }
        // RFC 5321 section 3.2: a server that does not know EHLO answers 500 or 502.
        let fallback = hello == Hello::Ehlo && matches!(reply.code().get(), 500 | 502);
        match &self.config.hello_name {
            Host::Domain(domain) if fallback => {
                let command = Command::Helo(domain.clone());
                self.send_command(now, Expect::Hello(Hello::Helo), &command);
            }
            // HELO takes a domain only (RFC 5321 section 4.1.1.1).
            _ => self.give_up(SessionError::HelloRejected(reply)),
        }
    }

    /// The server's extensions are known: STARTTLS as the [`TlsPolicy`] says, else AUTH.
    fn after_hello(&mut self, now: Instant) {
        let offered = self.capabilities.as_ref().is_some_and(|c| c.starttls);
        if !self.tls {
            match self.config.tls {
                TlsPolicy::Required if !offered => {
                    return self.give_up(SessionError::TlsNotOffered);
                }
                TlsPolicy::Required | TlsPolicy::Opportunistic if offered => {
                    return self.send_command(now, Expect::StartTls, &Command::StartTls);
                }
                _ => {}
            }
        }
        self.start_auth(now);
    }

    /// The reply to STARTTLS: hand the connection to the driver for the handshake, or go on
    /// without TLS when the policy allows it.
    pub(super) fn on_starttls(&mut self, now: Instant, reply: Reply<'static>) {
        if reply.code().get() == 220 {
            // RFC 3207 section 4.2: nothing may follow the reply before the handshake, in what
            // is buffered or in the rest of the read being fed.
            if !self.input.is_empty() || self.unfed > 0 {
                return self.abort(SessionError::StartTlsInjection);
            }
            self.phase = Phase::TlsHandshake;
            self.events.push_back(Event::StartTls);
        } else if self.config.tls == TlsPolicy::Required {
            self.give_up(SessionError::StartTlsRefused(reply));
        } else {
            // Opportunistic: carry on in plaintext with what EHLO said.
            self.start_auth(now);
        }
    }

    /// The command that opens the session: LHLO in LMTP, else EHLO.
    pub(super) fn first_hello(&self) -> Hello {
        if self.config.lmtp {
            Hello::Lhlo
        } else {
            Hello::Ehlo
        }
    }

    /// Sends EHLO or LHLO with the configured name.
    pub(super) fn send_hello(&mut self, now: Instant, hello: Hello) {
        let host = self.config.hello_name.clone();
        let command = match hello {
            Hello::Lhlo => Command::Lhlo(host),
            _ => Command::Ehlo(host),
        };
        self.send_command(now, Expect::Hello(hello), &command);
    }
}

/// Reads an EHLO or LHLO reply, ignoring lines the codec cannot read (`SIZE` without a number,
/// `LIMITS` without values, control characters) as Postfix ignores what it does not
/// understand: one odd line must not make a server unreachable. Ignoring a line only ever
/// removes an extension, so a garbled `STARTTLS` under [`TlsPolicy::Required`] still ends
/// the session.
fn read_capabilities(reply: &Reply<'_>) -> Capabilities {
    crate::parse::ehlo::capabilities(reply, true).unwrap_or_else(|_| Capabilities {
        greeting: reply.first_line().to_vec(),
        ..Capabilities::default()
    })
}
