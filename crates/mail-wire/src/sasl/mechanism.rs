//! [`Mechanism`]: the SASL mechanisms this crate implements, by IANA name.

use core::fmt;
use core::str::FromStr;

use super::SaslError;

/// A SASL mechanism, named as in the IANA "SASL Mechanisms" registry.
///
/// ```
/// use mail_wire::sasl::Mechanism;
///
/// let mech: Mechanism = "scram-sha-256".parse().unwrap();
/// assert_eq!(mech, Mechanism::ScramSha256);
/// assert_eq!(mech.to_string(), "SCRAM-SHA-256");
/// assert!(Mechanism::Plain.exposes_password());
/// assert!(!Mechanism::ScramSha256.requires_tls());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Mechanism {
    /// `PLAIN` (RFC 4616): authzid, authcid and password in one message.
    Plain,
    /// `LOGIN` (draft-murchison-sasl-login): user name and password in two responses.
    Login,
    /// `XOAUTH2` (Google and Microsoft): an OAuth 2.0 bearer token, pre-standard format.
    XOAuth2,
    /// `OAUTHBEARER` (RFC 7628): an OAuth 2.0 bearer token.
    OAuthBearer,
    /// `SCRAM-SHA-256` (RFC 7677, RFC 5802) without channel binding.
    ScramSha256,
}

impl Mechanism {
    /// Every mechanism this crate implements, strongest first: a sensible order for a
    /// server's advertisement and a client's preference.
    pub const ALL: [Mechanism; 5] = [
        Mechanism::ScramSha256,
        Mechanism::OAuthBearer,
        Mechanism::XOAuth2,
        Mechanism::Plain,
        Mechanism::Login,
    ];

    /// The registered name, in upper case as the registry spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
        }
    }

    /// Looks a mechanism up by name, ignoring ASCII case (RFC 4422 section 3.1 names are
    /// upper case, and SMTP, IMAP and POP3 compare them case-insensitively).
    pub fn from_name(name: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|mech| mech.name().as_bytes().eq_ignore_ascii_case(name))
    }

    /// Whether the mechanism sends the password itself over the connection (`PLAIN`,
    /// `LOGIN`). Servers must not offer or accept these before TLS unless configured to
    /// (docs/design.md security rule 3; RFC 4616 section 6; SMTP answers `538`, RFC 4954 section 6).
    pub const fn exposes_password(self) -> bool {
        matches!(self, Mechanism::Plain | Mechanism::Login)
    }

    /// Whether the mechanism is only safe over TLS: it sends a password or a bearer token that
    /// a passive eavesdropper could replay (`PLAIN`, `LOGIN`, and `XOAUTH2` and `OAUTHBEARER`,
    /// for which RFC 7628 section 5 requires TLS). Only `SCRAM-SHA-256` is safe without it.
    pub const fn requires_tls(self) -> bool {
        !matches!(self, Mechanism::ScramSha256)
    }

    /// Whether the client speaks first, so that it can send an initial response with the
    /// command that starts the exchange (RFC 4422 section 3.3). `LOGIN` waits for the
    /// server's `Username:` prompt.
    pub const fn client_first(self) -> bool {
        !matches!(self, Mechanism::Login)
    }

    /// The challenge a server sends when the client started the exchange without an initial
    /// response: empty (RFC 4422 section 5, item 2a), or `Username:` for `LOGIN`.
    pub const fn initial_challenge(self) -> &'static [u8] {
        match self {
            Mechanism::Login => b"Username:",
            _ => b"",
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Mechanism {
    type Err = SaslError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::from_name(name.as_bytes()).ok_or(SaslError::UnknownMechanism)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_case_insensitively() {
        for mech in Mechanism::ALL {
            assert_eq!(Mechanism::from_name(mech.name().as_bytes()), Some(mech));
            assert_eq!(
                mech.name().to_ascii_lowercase().parse::<Mechanism>(),
                Ok(mech)
            );
            assert_eq!(mech.to_string(), mech.name());
        }
        assert_eq!(
            Mechanism::from_name(b"Scram-Sha-256"),
            Some(Mechanism::ScramSha256)
        );
        assert_eq!(Mechanism::from_name(b"xoauth2"), Some(Mechanism::XOAuth2));
    }

    #[test]
    fn unknown_names_are_refused() {
        for name in [
            "",
            "CRAM-MD5",
            "SCRAM-SHA-256-PLUS",
            "PLAIN ",
            "SCRAM-SHA-1",
            "PLAİN",
        ] {
            assert_eq!(
                name.parse::<Mechanism>(),
                Err(SaslError::UnknownMechanism),
                "{name}"
            );
        }
    }

    #[test]
    fn only_plain_and_login_expose_the_password() {
        let exposing: Vec<_> = Mechanism::ALL
            .into_iter()
            .filter(|m| m.exposes_password())
            .collect();
        assert_eq!(exposing, [Mechanism::Plain, Mechanism::Login]);
        let need_tls: Vec<_> = Mechanism::ALL
            .into_iter()
            .filter(|m| m.requires_tls())
            .collect();
        assert_eq!(
            need_tls,
            [
                Mechanism::OAuthBearer,
                Mechanism::XOAuth2,
                Mechanism::Plain,
                Mechanism::Login
            ]
        );
    }

    #[test]
    fn initial_challenges() {
        assert_eq!(Mechanism::Login.initial_challenge(), b"Username:");
        assert!(!Mechanism::Login.client_first());
        for mech in Mechanism::ALL
            .into_iter()
            .filter(|m| *m != Mechanism::Login)
        {
            assert!(mech.client_first());
            assert_eq!(mech.initial_challenge(), b"");
        }
    }
}
