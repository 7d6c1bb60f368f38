//! The SCRAM-SHA-256 client.

use core::num::NonZeroU32;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::crypto::{Key, PasswordKeys, auth_message, hmac_sha256, xor_client_signature};
use super::message::{ServerFinal, parse_server_final, parse_server_first};
use super::{Nonce, ScramCredentials, saslprep};
use crate::Secret;
use crate::sasl::{Mechanism, SaslError, gs2};
use crate::secret::constant_time_eq;

const MECH: Mechanism = Mechanism::ScramSha256;

/// Limits a SCRAM client applies to what the server asks of it.
///
/// ```
/// use mail_wire::sasl::ScramClientConfig;
///
/// let mut config = ScramClientConfig::default();
/// config.min_iterations = 100_000; // this deployment is known to use 600 000
/// assert_eq!(config.max_iterations, 1_000_000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScramClientConfig {
    /// Lowest iteration count accepted from the server. A hostile or compromised server could
    /// announce a tiny count to make the proof cheap to attack offline (RFC 7677 section 4:
    /// the count "SHOULD be at least 4096"). Default: 4096.
    pub min_iterations: u32,
    /// Highest iteration count accepted, so a server cannot make the client spin. Default:
    /// 1 000 000 (above OWASP's 600 000 recommendation for PBKDF2-HMAC-SHA-256).
    pub max_iterations: u32,
}

impl Default for ScramClientConfig {
    fn default() -> Self {
        ScramClientConfig {
            min_iterations: ScramCredentials::MIN_ITERATIONS,
            max_iterations: 1_000_000,
        }
    }
}

/// The client side of one SCRAM-SHA-256 exchange.
#[derive(Debug)]
pub(crate) struct ScramClient {
    /// `n,,` or `n,a=<authzid>,`.
    gs2_header: String,
    /// `n=<username>,r=<nonce>`.
    first_bare: String,
    nonce: Nonce,
    /// SASLprep-ed password.
    password: Secret<String>,
    config: ScramClientConfig,
    state: State,
}

#[derive(Debug)]
enum State {
    Initial,
    SentFirst,
    SentFinal { server_signature: Key },
    Verified,
}

impl ScramClient {
    pub(crate) fn new(
        authzid: Option<&str>,
        authcid: &str,
        password: &Secret<String>,
        nonce: Nonce,
        config: ScramClientConfig,
    ) -> Result<Self, SaslError> {
        let invalid = |reason| SaslError::credentials(MECH, reason);
        let username = saslprep(authcid).ok_or_else(|| invalid("SASLprep rejects the username"))?;
        let password =
            saslprep(password.expose()).ok_or_else(|| invalid("SASLprep rejects the password"))?;
        if authzid.is_some_and(|authzid| authzid.is_empty() || authzid.contains('\0')) {
            return Err(invalid("the authzid is empty or contains NUL"));
        }
        if config.min_iterations > config.max_iterations {
            return Err(invalid("min_iterations is above max_iterations"));
        }
        Ok(ScramClient {
            gs2_header: gs2::encode(authzid),
            first_bare: format!("n={},r={}", gs2::escape_saslname(&username), nonce.as_str()),
            nonce,
            password: Secret::new(password.into_owned()),
            config,
            state: State::Initial,
        })
    }

    pub(crate) fn step(&mut self, challenge: &[u8]) -> Result<Vec<u8>, SaslError> {
        match self.state {
            // The challenge before the first message carries nothing (RFC 4422 section 5).
            State::Initial => {
                self.state = State::SentFirst;
                Ok(format!("{}{}", self.gs2_header, self.first_bare).into_bytes())
            }
            State::SentFirst => {
                let (response, server_signature) = self.client_final(challenge)?;
                self.state = State::SentFinal { server_signature };
                Ok(response)
            }
            State::SentFinal { .. } => {
                self.verify_server_final(challenge)?;
                // The server sent its signature as a challenge because the protocol cannot
                // carry data with success; the answer is empty (RFC 4422 section 3.6).
                Ok(Vec::new())
            }
            State::Verified => Err(SaslError::malformed(
                MECH,
                "challenge after the server signature",
            )),
        }
    }

    /// The server reported success, maybe with its final message as additional data.
    pub(crate) fn finish(&mut self, additional_data: Option<&[u8]>) -> Result<(), SaslError> {
        if let Some(data) = additional_data.filter(|data| !data.is_empty()) {
            self.verify_server_final(data)?;
        }
        match self.state {
            State::Verified => Ok(()),
            _ => Err(SaslError::MissingServerSignature),
        }
    }

    /// Answers the server-first-message; returns the client-final-message and the server
    /// signature to expect.
    fn client_final(&self, server_first: &[u8]) -> Result<(Vec<u8>, Key), SaslError> {
        let parsed = parse_server_first(server_first)?;
        // RFC 5802 section 5.1: the nonce must begin with the one the client sent, and the
        // server must have added its own part.
        let client_nonce = self.nonce.as_str();
        if parsed.nonce.len() <= client_nonce.len() || !parsed.nonce.starts_with(client_nonce) {
            return Err(SaslError::NonceMismatch);
        }
        let (min, max) = (self.config.min_iterations, self.config.max_iterations);
        let iterations = NonZeroU32::new(parsed.iterations)
            .filter(|i| (min..=max).contains(&i.get()))
            .ok_or(SaslError::IterationCount {
                count: parsed.iterations,
                min,
                max,
            })?;
        let keys = PasswordKeys::derive(self.password.expose(), &parsed.salt, iterations);
        let without_proof = format!("c={},r={}", STANDARD.encode(&self.gs2_header), parsed.nonce);
        let auth_message = auth_message(
            self.first_bare.as_bytes(),
            server_first,
            without_proof.as_bytes(),
        );
        let proof = xor_client_signature(
            keys.client_key.expose(),
            keys.stored_key.expose(),
            &auth_message,
        );
        let server_signature = hmac_sha256(keys.server_key.expose(), &auth_message);
        let message = format!("{without_proof},p={}", STANDARD.encode(proof));
        Ok((message.into_bytes(), server_signature))
    }

    fn verify_server_final(&mut self, server_final: &[u8]) -> Result<(), SaslError> {
        let State::SentFinal { server_signature } = &self.state else {
            return Err(SaslError::malformed(
                MECH,
                "unexpected server-final-message",
            ));
        };
        match parse_server_final(server_final)? {
            ServerFinal::Error(err) => Err(SaslError::ServerError(err)),
            ServerFinal::Verifier(signature) if constant_time_eq(&signature, server_signature) => {
                self.state = State::Verified;
                Ok(())
            }
            ServerFinal::Verifier(_) => Err(SaslError::ServerSignatureMismatch),
        }
    }
}
