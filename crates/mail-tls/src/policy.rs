//! TLS policies: which mode a connection uses, per-service default ports, and the explicit,
//! typed decision of what to do when STARTTLS is unavailable.
//!
//! The defaults follow the table in `docs/design.md` section 4 and RFC 8314: clients
//! prefer implicit TLS where the service has an implicit-TLS port (RFC 8314 section 3), servers
//! listen on both the implicit-TLS port and the STARTTLS port, and the SMTP relay (port 25)
//! uses opportunistic STARTTLS (RFC 3207 section 4, RFC 7435).

use crate::error::{DowngradeReason, TlsError};

/// A mail service, as listed in the port table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Service {
    /// SMTP relay between MTAs (port 25, no authentication, opportunistic STARTTLS).
    SmtpRelay,
    /// SMTP submission from a mail user agent (587 with STARTTLS, 465 with implicit TLS).
    Submission,
    /// POP3 (110 with STLS, 995 with implicit TLS).
    Pop3,
    /// IMAP (143 with STARTTLS, 993 with implicit TLS).
    Imap,
}

/// Which end of the connection the application is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The side that connects.
    Client,
    /// The side that listens.
    Server,
}

/// How one connection uses TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsMode {
    /// The TLS handshake is the first thing on the connection (ports 465, 993, 995).
    Implicit,
    /// The session starts in plaintext and must be upgraded with STARTTLS/STLS before anything
    /// else; if the upgrade is impossible the session is closed.
    StartTlsRequired,
    /// The session is upgraded with STARTTLS/STLS when the peer offers it, and continues in
    /// plaintext otherwise (RFC 7435; SMTP relay on port 25). The fallback is never silent: it
    /// goes through [`TlsMode::on_starttls_unavailable`], which hands back a
    /// [`PlaintextFallback`] naming the reason.
    StartTlsOpportunistic,
    /// No TLS at all. Only for tests and loopback tools.
    Plaintext,
}

impl TlsMode {
    /// True when this mode never carries application data in plaintext.
    pub const fn requires_tls(self) -> bool {
        matches!(self, Self::Implicit | Self::StartTlsRequired)
    }

    /// True when the session starts in plaintext and is upgraded by STARTTLS/STLS.
    pub const fn uses_starttls(self) -> bool {
        matches!(self, Self::StartTlsRequired | Self::StartTlsOpportunistic)
    }

    /// True when the first bytes on the connection are a TLS handshake.
    pub const fn handshake_first(self) -> bool {
        matches!(self, Self::Implicit)
    }

    /// Decide what a client does when STARTTLS is not available.
    ///
    /// Modes that require TLS return [`TlsError::TlsRequired`]: the caller closes the session.
    /// [`TlsMode::StartTlsOpportunistic`] and [`TlsMode::Plaintext`] return a
    /// [`PlaintextFallback`] that records why the session continues unencrypted, so the caller
    /// can log it. For a failed *handshake* the connection is unusable anyway; an opportunistic
    /// client reconnects and stays in plaintext on the new connection (RFC 7435 section 3).
    pub fn on_starttls_unavailable(
        self,
        reason: DowngradeReason,
    ) -> Result<PlaintextFallback, TlsError> {
        if self.requires_tls() {
            Err(TlsError::TlsRequired(reason))
        } else {
            Ok(PlaintextFallback { reason })
        }
    }
}

impl std::fmt::Display for TlsMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Implicit => "implicit TLS",
            Self::StartTlsRequired => "STARTTLS (required)",
            Self::StartTlsOpportunistic => "STARTTLS (opportunistic)",
            Self::Plaintext => "plaintext",
        })
    }
}

/// Proof that a session continues in plaintext on purpose, and why.
///
/// Only [`TlsMode::on_starttls_unavailable`] creates one, and only for modes that allow
/// plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a plaintext fallback should at least be logged"]
pub struct PlaintextFallback {
    reason: DowngradeReason,
}

impl PlaintextFallback {
    /// Why the session is not encrypted.
    pub fn reason(&self) -> &DowngradeReason {
        &self.reason
    }
}

/// A (service, mode, port) triple: where to connect or listen, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// The mail service.
    pub service: Service,
    /// How TLS is used on this port.
    pub mode: TlsMode,
    /// The TCP port.
    pub port: u16,
}

impl Service {
    /// All services, in table order.
    pub const ALL: [Service; 4] = [Self::SmtpRelay, Self::Submission, Self::Pop3, Self::Imap];

    /// The plaintext port, upgraded with STARTTLS/STLS: 25, 587, 110, 143.
    pub const fn starttls_port(self) -> u16 {
        match self {
            Self::SmtpRelay => 25,
            Self::Submission => 587, // RFC 6409 section 3.1
            Self::Pop3 => 110,
            Self::Imap => 143,
        }
    }

    /// The implicit-TLS port: 465 (RFC 8314 section 7.3), 995, 993; none for the SMTP relay.
    pub const fn implicit_port(self) -> Option<u16> {
        match self {
            Self::SmtpRelay => None,
            Self::Submission => Some(465),
            Self::Pop3 => Some(995),
            Self::Imap => Some(993),
        }
    }

    /// The unprivileged STARTTLS port used by the example server: 2525, 2587, 2110, 2143.
    pub const fn unprivileged_starttls_port(self) -> u16 {
        match self {
            Self::SmtpRelay => 2525,
            Self::Submission => 2587,
            Self::Pop3 => 2110,
            Self::Imap => 2143,
        }
    }

    /// The unprivileged implicit-TLS port used by the example server: 2465, 2995, 2993.
    pub const fn unprivileged_implicit_port(self) -> Option<u16> {
        match self.implicit_port() {
            Some(p) => Some(2000 + p),
            None => None,
        }
    }

    /// The command that starts TLS on the plaintext port: `STARTTLS`, or `STLS` for POP3
    /// (RFC 2595 section 4).
    pub const fn starttls_command(self) -> &'static str {
        match self {
            Self::Pop3 => "STLS",
            _ => "STARTTLS",
        }
    }

    /// The ALPN protocol identifier for this service (RFC 7301).
    ///
    /// `imap` and `pop3` are registered with IANA. SMTP has no registered identifier; `smtp` is
    /// used here as a private value so that a server configured with it refuses clients that
    /// offer only non-mail protocols (ALPACA), while clients that offer no ALPN at all, which
    /// is every SMTP client in practice, are unaffected.
    pub const fn alpn_id(self) -> &'static [u8] {
        match self {
            Self::SmtpRelay | Self::Submission => b"smtp",
            Self::Pop3 => b"pop3",
            Self::Imap => b"imap",
        }
    }

    /// A short human-readable name: `SMTP`, `submission`, `POP3`, `IMAP`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::SmtpRelay => "SMTP",
            Self::Submission => "submission",
            Self::Pop3 => "POP3",
            Self::Imap => "IMAP",
        }
    }

    /// The recommended endpoint for a client: implicit TLS where the service has it
    /// (RFC 8314 section 3.1 for submission, 3.2 for POP3/IMAP), opportunistic STARTTLS on 25
    /// for the relay.
    pub const fn client_default(self) -> Endpoint {
        match self.implicit_port() {
            Some(port) => Endpoint {
                service: self,
                mode: TlsMode::Implicit,
                port,
            },
            None => Endpoint {
                service: self,
                mode: TlsMode::StartTlsOpportunistic,
                port: self.starttls_port(),
            },
        }
    }

    /// The endpoints a server listens on: implicit TLS plus required STARTTLS for submission,
    /// POP3 and IMAP (RFC 8314 section 3.3: servers keep the STARTTLS port for older clients
    /// but must not accept credentials before TLS), opportunistic STARTTLS on 25 for the relay
    /// (RFC 3207 section 4: a publicly-referenced server must not require STARTTLS).
    pub fn server_defaults(self) -> Vec<Endpoint> {
        let mut out = Vec::with_capacity(2);
        if let Some(port) = self.implicit_port() {
            out.push(Endpoint {
                service: self,
                mode: TlsMode::Implicit,
                port,
            });
            out.push(Endpoint {
                service: self,
                mode: TlsMode::StartTlsRequired,
                port: self.starttls_port(),
            });
        } else {
            out.push(Endpoint {
                service: self,
                mode: TlsMode::StartTlsOpportunistic,
                port: self.starttls_port(),
            });
        }
        out
    }

    /// The default endpoints for a role: one for a client, one or two for a server.
    pub fn defaults(self, role: Role) -> Vec<Endpoint> {
        match role {
            Role::Client => vec![self.client_default()],
            Role::Server => self.server_defaults(),
        }
    }

    /// The mode a well-known port of this service uses, for a client that was given only a
    /// port: the implicit port maps to [`TlsMode::Implicit`], the STARTTLS port to
    /// [`TlsMode::StartTlsRequired`] (or opportunistic for the relay). The unprivileged
    /// example ports are recognised too.
    pub const fn mode_for_port(self, port: u16) -> Option<TlsMode> {
        let starttls = match self {
            Self::SmtpRelay => TlsMode::StartTlsOpportunistic,
            _ => TlsMode::StartTlsRequired,
        };
        if port == self.starttls_port() || port == self.unprivileged_starttls_port() {
            return Some(starttls);
        }
        match (self.implicit_port(), self.unprivileged_implicit_port()) {
            (Some(p), Some(u)) if port == p || port == u => Some(TlsMode::Implicit),
            _ => None,
        }
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_from_design_section_4() {
        let rows = [
            (Service::SmtpRelay, 25, None, 2525, None),
            (Service::Submission, 587, Some(465), 2587, Some(2465)),
            (Service::Pop3, 110, Some(995), 2110, Some(2995)),
            (Service::Imap, 143, Some(993), 2143, Some(2993)),
        ];
        for (s, st, imp, ust, uimp) in rows {
            assert_eq!(s.starttls_port(), st);
            assert_eq!(s.implicit_port(), imp);
            assert_eq!(s.unprivileged_starttls_port(), ust);
            assert_eq!(s.unprivileged_implicit_port(), uimp);
        }
    }

    #[test]
    fn submission_client_gets_implicit_465() {
        let e = Service::Submission.client_default();
        assert_eq!((e.mode, e.port), (TlsMode::Implicit, 465));
        let e = Service::SmtpRelay.client_default();
        assert_eq!((e.mode, e.port), (TlsMode::StartTlsOpportunistic, 25));
        assert_eq!(Service::Imap.defaults(Role::Client)[0].port, 993);
        assert_eq!(Service::Pop3.defaults(Role::Client)[0].port, 995);
    }

    #[test]
    fn servers_listen_on_both_ports_and_require_starttls() {
        let s = Service::Submission.server_defaults();
        assert_eq!(s.len(), 2);
        assert!(s.iter().all(|e| e.mode.requires_tls()));
        let r = Service::SmtpRelay.defaults(Role::Server);
        assert_eq!(
            r,
            vec![Endpoint {
                service: Service::SmtpRelay,
                mode: TlsMode::StartTlsOpportunistic,
                port: 25
            }]
        );
    }

    #[test]
    fn mode_for_port() {
        assert_eq!(
            Service::Submission.mode_for_port(465),
            Some(TlsMode::Implicit)
        );
        assert_eq!(
            Service::Submission.mode_for_port(587),
            Some(TlsMode::StartTlsRequired)
        );
        assert_eq!(Service::Imap.mode_for_port(2993), Some(TlsMode::Implicit));
        assert_eq!(
            Service::SmtpRelay.mode_for_port(25),
            Some(TlsMode::StartTlsOpportunistic)
        );
        assert_eq!(Service::Pop3.mode_for_port(993), None);
    }

    #[test]
    fn no_mode_that_requires_tls_falls_back() {
        for mode in [TlsMode::Implicit, TlsMode::StartTlsRequired] {
            for reason in [
                DowngradeReason::CapabilityMissing,
                DowngradeReason::CommandRejected("454 TLS not available".into()),
                DowngradeReason::ImapPreauth,
                DowngradeReason::HandshakeFailed("alert".into()),
            ] {
                let err = mode.on_starttls_unavailable(reason.clone()).unwrap_err();
                assert_eq!(err, TlsError::TlsRequired(reason));
                assert!(
                    err.to_string()
                        .contains("refusing to continue in plaintext")
                );
            }
        }
        let fb = TlsMode::StartTlsOpportunistic
            .on_starttls_unavailable(DowngradeReason::CapabilityMissing)
            .unwrap();
        assert_eq!(fb.reason(), &DowngradeReason::CapabilityMissing);
    }

    #[test]
    fn starttls_commands_and_alpn() {
        assert_eq!(Service::Pop3.starttls_command(), "STLS");
        assert_eq!(Service::Imap.starttls_command(), "STARTTLS");
        assert_eq!(Service::Imap.alpn_id(), b"imap");
        assert_eq!(Service::Pop3.alpn_id(), b"pop3");
    }
}
