//! [`ScramCredentials`]: what a SCRAM server stores instead of the password.

use core::num::NonZeroU32;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::crypto::{KEY_LEN, Key, PasswordKeys, hmac_sha256};
use super::saslprep;
use crate::Secret;
use crate::sasl::{Mechanism, SaslError};

/// The salted keys a SCRAM-SHA-256 server keeps for a user (RFC 5802 section 3): salt,
/// iteration count, StoredKey and ServerKey. The password itself is never stored.
///
/// Provision them with [`derive`](Self::derive) when the user sets a password, store them (for
/// example as [`to_stored_string`](Self::to_stored_string)), and return them from
/// [`Authenticator::scram_credentials`](crate::sasl::Authenticator::scram_credentials).
///
/// StoredKey and ServerKey are secrets: they allow an offline dictionary attack on the
/// password, and ServerKey lets its holder impersonate the server. Both live in [`Secret`].
///
/// ```
/// use mail_wire::Secret;
/// use mail_wire::sasl::ScramCredentials;
///
/// let salt = [7u8; 16]; // in real code: 16 random bytes per user
/// let password = Secret::new(String::from("pencil"));
/// let creds = ScramCredentials::derive(&password, &salt, 4096).unwrap();
/// let stored = creds.to_stored_string();
/// assert!(stored.expose().starts_with("SCRAM-SHA-256$4096:BwcHBwcHBwcHBwcHBwcHBw==$"));
/// assert_eq!(ScramCredentials::parse_stored(stored.expose()).unwrap(), creds);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramCredentials {
    salt: Vec<u8>,
    iterations: NonZeroU32,
    stored_key: Secret<Key>,
    server_key: Secret<Key>,
}

/// The scheme name that starts [`ScramCredentials::to_stored_string`].
const SCHEME: &str = "SCRAM-SHA-256";

impl ScramCredentials {
    /// Lowest iteration count [`derive`](Self::derive) accepts: RFC 7677 section 4 says the
    /// count "SHOULD be at least 4096".
    pub const MIN_ITERATIONS: u32 = 4096;

    /// Shortest salt [`derive`](Self::derive) accepts: 16 bytes, as in the RFC 7677 example
    /// and PostgreSQL.
    pub const MIN_SALT_LEN: usize = 16;

    /// Builds credentials from stored parts.
    ///
    /// # Errors
    ///
    /// [`SaslError::InvalidCredentials`] if `salt` is empty.
    pub fn new(
        salt: Vec<u8>,
        iterations: NonZeroU32,
        stored_key: [u8; KEY_LEN],
        server_key: [u8; KEY_LEN],
    ) -> Result<Self, SaslError> {
        if salt.is_empty() {
            return Err(invalid("the salt is empty"));
        }
        Ok(ScramCredentials {
            salt,
            iterations,
            stored_key: Secret::new(stored_key),
            server_key: Secret::new(server_key),
        })
    }

    /// Derives credentials from a password, for provisioning: SASLprep (RFC 4013) the
    /// password, run PBKDF2-HMAC-SHA-256 over it with `salt` and `iterations`, and keep the
    /// StoredKey and ServerKey. `salt` should be random and unique per user.
    ///
    /// This runs `iterations` HMAC computations; keep it off latency-sensitive threads.
    ///
    /// # Errors
    ///
    /// [`SaslError::InvalidCredentials`] if SASLprep rejects the password or leaves it empty,
    /// `salt` is shorter than [`MIN_SALT_LEN`](Self::MIN_SALT_LEN), or `iterations` is below
    /// [`MIN_ITERATIONS`](Self::MIN_ITERATIONS).
    pub fn derive(
        password: &Secret<String>,
        salt: &[u8],
        iterations: u32,
    ) -> Result<Self, SaslError> {
        if salt.len() < Self::MIN_SALT_LEN {
            return Err(invalid("the salt is shorter than 16 bytes"));
        }
        let iterations = NonZeroU32::new(iterations)
            .filter(|i| i.get() >= Self::MIN_ITERATIONS)
            .ok_or_else(|| invalid("the iteration count is below 4096"))?;
        let password =
            saslprep(password.expose()).ok_or_else(|| invalid("SASLprep rejects the password"))?;
        let keys = PasswordKeys::derive(&password, salt, iterations);
        Ok(ScramCredentials {
            salt: salt.to_vec(),
            iterations,
            stored_key: keys.stored_key,
            server_key: keys.server_key,
        })
    }

    /// Shortest server secret [`decoy`](Self::decoy) accepts: 16 bytes.
    pub const MIN_DECOY_SECRET_LEN: usize = 16;

    /// Made-up credentials for a user who does not exist, for
    /// [`Authenticator::scram_credentials`](crate::sasl::Authenticator::scram_credentials) to
    /// return instead of `None`, so that no client can tell unknown users from real ones
    /// (RFC 5802 section 9).
    ///
    /// The salt and keys are HMAC-SHA-256 of `authcid` under `server_secret`: the same in every
    /// exchange for the same user, different for each user, and unpredictable without the
    /// secret. Give `iterations` the count your real users have. The credentials can never
    /// verify: a proof for them would need a preimage of their StoredKey under SHA-256.
    ///
    /// ```
    /// use core::num::NonZeroU32;
    /// use mail_wire::Secret;
    /// use mail_wire::sasl::ScramCredentials;
    ///
    /// let secret = Secret::new(b"32 random bytes kept by the srv!".to_vec());
    /// let iterations = NonZeroU32::new(600_000).unwrap();
    /// let a = ScramCredentials::decoy(&secret, "nobody", iterations).unwrap();
    /// let b = ScramCredentials::decoy(&secret, "nobody", iterations).unwrap();
    /// assert_eq!(a.salt(), b.salt());
    /// assert_eq!(a.iterations(), iterations);
    /// let other = ScramCredentials::decoy(&secret, "admin", iterations).unwrap();
    /// assert_ne!(a.salt(), other.salt());
    /// ```
    ///
    /// # Errors
    ///
    /// [`SaslError::InvalidCredentials`] if `server_secret` is shorter than
    /// [`MIN_DECOY_SECRET_LEN`](Self::MIN_DECOY_SECRET_LEN).
    pub fn decoy(
        server_secret: &Secret<Vec<u8>>,
        authcid: &str,
        iterations: NonZeroU32,
    ) -> Result<Self, SaslError> {
        let key = server_secret.expose();
        if key.len() < Self::MIN_DECOY_SECRET_LEN {
            return Err(invalid("the decoy secret is shorter than 16 bytes"));
        }
        let derive = |label: &str| hmac_sha256(key, format!("{label}\0{authcid}").as_bytes());
        Ok(ScramCredentials {
            salt: derive("decoy salt")[..Self::MIN_SALT_LEN].to_vec(),
            iterations,
            stored_key: Secret::new(derive("decoy stored key")),
            server_key: Secret::new(derive("decoy server key")),
        })
    }

    /// The salt.
    pub fn salt(&self) -> &[u8] {
        &self.salt
    }

    /// The PBKDF2 iteration count.
    pub fn iterations(&self) -> NonZeroU32 {
        self.iterations
    }

    /// StoredKey: `H(HMAC(SaltedPassword, "Client Key"))`.
    pub fn stored_key(&self) -> &Secret<[u8; KEY_LEN]> {
        &self.stored_key
    }

    /// ServerKey: `HMAC(SaltedPassword, "Server Key")`.
    pub fn server_key(&self) -> &Secret<[u8; KEY_LEN]> {
        &self.server_key
    }

    /// Serialises the credentials as
    /// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` with base64 fields: the
    /// RFC 5803 `authPassword` form without whitespace, which is also what PostgreSQL stores.
    pub fn to_stored_string(&self) -> Secret<String> {
        Secret::new(format!(
            "{SCHEME}${}:{}${}:{}",
            self.iterations,
            STANDARD.encode(&self.salt),
            STANDARD.encode(self.stored_key.expose()),
            STANDARD.encode(self.server_key.expose()),
        ))
    }

    /// Parses the form [`to_stored_string`](Self::to_stored_string) writes. The scheme name
    /// is compared ignoring ASCII case.
    ///
    /// # Errors
    ///
    /// [`SaslError::InvalidCredentials`] if the text is not in that form.
    pub fn parse_stored(text: &str) -> Result<Self, SaslError> {
        let malformed = || invalid("not SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>");
        let (scheme, rest) = text.split_once('$').ok_or_else(malformed)?;
        let (info, value) = rest.split_once('$').ok_or_else(malformed)?;
        let (iterations, salt) = info.split_once(':').ok_or_else(malformed)?;
        let (stored_key, server_key) = value.split_once(':').ok_or_else(malformed)?;
        if !scheme.eq_ignore_ascii_case(SCHEME) || !iterations.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        let iterations = iterations.parse::<NonZeroU32>().map_err(|_| malformed())?;
        let salt = STANDARD.decode(salt).map_err(|_| malformed())?;
        let key = |b64: &str| -> Result<Key, SaslError> {
            let bytes = STANDARD.decode(b64).map_err(|_| malformed())?;
            Key::try_from(bytes.as_slice()).map_err(|_| malformed())
        };
        Self::new(salt, iterations, key(stored_key)?, key(server_key)?)
    }
}

fn invalid(reason: &'static str) -> SaslError {
    SaslError::credentials(Mechanism::ScramSha256, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pencil() -> ScramCredentials {
        let salt = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        ScramCredentials::derive(&Secret::new("pencil".into()), &salt, 4096).unwrap()
    }

    #[test]
    fn derive_refuses_weak_parameters() {
        let pw = Secret::new(String::from("pencil"));
        let salt = [1u8; 16];
        assert!(ScramCredentials::derive(&pw, &salt, 4095).is_err());
        assert!(ScramCredentials::derive(&pw, &salt, 0).is_err());
        assert!(ScramCredentials::derive(&pw, &salt[..15], 4096).is_err());
        assert!(ScramCredentials::derive(&Secret::new(String::new()), &salt, 4096).is_err());
        assert!(ScramCredentials::derive(&Secret::new("\u{7}bell".into()), &salt, 4096).is_err());
        assert!(ScramCredentials::new(Vec::new(), NonZeroU32::MIN, [0; 32], [0; 32]).is_err());
    }

    #[test]
    fn saslprep_makes_equivalent_passwords_equal() {
        let salt = [9u8; 16];
        let derive =
            |pw: &str| ScramCredentials::derive(&Secret::new(pw.into()), &salt, 4096).unwrap();
        // RFC 4013 section 3: soft hyphen maps to nothing, ROMAN NUMERAL NINE to "IX".
        assert_eq!(derive("I\u{ad}X"), derive("IX"));
        assert_eq!(derive("\u{2168}"), derive("IX"));
        // Non-ASCII space maps to SPACE.
        assert_eq!(derive("a\u{a0}b"), derive("a b"));
        assert_ne!(derive("IX"), derive("ix"));
    }

    #[test]
    fn stored_string_round_trips_and_rejects_garbage() {
        let creds = pencil();
        let text = creds.to_stored_string();
        assert!(
            text.expose()
                .starts_with("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$")
        );
        assert_eq!(
            ScramCredentials::parse_stored(text.expose()),
            Ok(creds.clone())
        );
        assert_eq!(
            ScramCredentials::parse_stored(
                &text.expose().replace("SCRAM-SHA-256", "scram-sha-256")
            ),
            Ok(creds)
        );
        for bad in [
            "",
            "SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAA",
            "SCRAM-SHA-1$4096:c2FsdA==$x:y",
            "SCRAM-SHA-256$0:c2FsdA==$x:y",
            "SCRAM-SHA-256$+4096:c2FsdA==$x:y",
            "SCRAM-SHA-256$4096:$x:y",
            "SCRAM-SHA-256$4096c2FsdA==$x:y",
            "SCRAM-SHA-256$99999999999:c2FsdA==$x:y",
        ] {
            assert!(ScramCredentials::parse_stored(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_redacts_keys() {
        let printed = format!("{:?}", pencil());
        assert!(printed.contains("REDACTED"), "{printed}");
        assert!(!printed.contains(&format!("{:?}", pencil().stored_key().expose())));
    }
}
