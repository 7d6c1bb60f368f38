//! The SCRAM-SHA-256 server.

use core::mem;
use core::num::NonZeroU32;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::crypto::{auth_message, hmac_sha256, sha256, xor_client_signature};
use super::message::{parse_client_final, parse_client_first};
use super::{Nonce, ScramCredentials, saslprep};
use crate::sasl::{Authenticated, Authenticator, Mechanism, SaslError, ServerStep};
use crate::secret::constant_time_eq;

const MECH: Mechanism = Mechanism::ScramSha256;

/// The server side of one SCRAM-SHA-256 exchange.
#[derive(Debug)]
pub(crate) struct ScramServer {
    nonce: Nonce,
    state: State,
}

#[derive(Debug)]
enum State {
    AwaitClientFirst,
    AwaitClientFinal(Box<Pending>),
    /// The server signature was sent as a challenge; waiting for the empty response.
    AwaitAck(Authenticated),
    /// Transient, while a step consumes the previous state; also the state after the end.
    Done,
}

/// What the server remembers between its first and final messages.
#[derive(Debug)]
struct Pending {
    /// The GS2 header as the client sent it, which `c=` must repeat.
    gs2_header: Vec<u8>,
    authcid: String,
    authzid: Option<String>,
    credentials: ScramCredentials,
    /// `false` for an unknown user: the exchange goes on with made-up keys and then fails.
    known_user: bool,
    /// `client nonce + server nonce`.
    nonce: String,
    /// `client-first-message-bare` and `server-first-message`.
    client_first_bare: Vec<u8>,
    server_first: Vec<u8>,
}

impl ScramServer {
    pub(crate) fn new(nonce: Nonce) -> Self {
        ScramServer {
            nonce,
            state: State::AwaitClientFirst,
        }
    }

    /// One response of the exchange; the user name of the client-first-message goes to
    /// `user`.
    pub(crate) fn step<A: Authenticator + ?Sized>(
        &mut self,
        auth: &A,
        response: &[u8],
        user: &mut Option<String>,
    ) -> Result<ServerStep, SaslError> {
        match mem::replace(&mut self.state, State::Done) {
            State::AwaitClientFirst => {
                let pending = self.server_first(auth, response, user)?;
                let challenge = pending.server_first.clone();
                self.state = State::AwaitClientFinal(Box::new(pending));
                Ok(ServerStep::Challenge(challenge))
            }
            State::AwaitClientFinal(pending) => {
                let (authenticated, server_final) = verify_client_final(auth, &pending, response)?;
                self.state = State::AwaitAck(authenticated);
                Ok(ServerStep::Challenge(server_final))
            }
            State::AwaitAck(authenticated) if response.is_empty() => {
                Ok(ServerStep::Success(authenticated))
            }
            State::AwaitAck(_) => Err(SaslError::malformed(
                MECH,
                "expected an empty response to the server signature",
            )),
            State::Done => Err(SaslError::Misuse("the exchange has finished")),
        }
    }

    fn server_first<A: Authenticator + ?Sized>(
        &self,
        auth: &A,
        client_first: &[u8],
        user: &mut Option<String>,
    ) -> Result<Pending, SaslError> {
        let parsed = parse_client_first(client_first)?;
        *user = Some(parsed.username.clone());
        // RFC 5802 section 5.1: the server prepares the username with SASLprep.
        let authcid = saslprep(&parsed.username)
            .ok_or_else(|| SaslError::malformed(MECH, "SASLprep rejects the username"))?
            .into_owned();
        let (credentials, known_user) = match auth.scram_credentials(&authcid) {
            Some(credentials) => (credentials, true),
            None => (self.decoy_credentials(&authcid)?, false),
        };
        let nonce = format!("{}{}", parsed.nonce, self.nonce.as_str());
        let server_first = format!(
            "r={nonce},s={},i={}",
            STANDARD.encode(credentials.salt()),
            credentials.iterations()
        );
        Ok(Pending {
            gs2_header: parsed.gs2_header.to_vec(),
            authzid: parsed.authzid,
            credentials,
            known_user,
            nonce,
            client_first_bare: parsed.bare.to_vec(),
            server_first: server_first.into_bytes(),
            authcid,
        })
    }

    /// Keys for an unknown user the authenticator returned `None` for (a 16-byte salt and
    /// 4096 iterations), derived from this session's nonce. The exchange fails at the proof
    /// whatever the client sends. The nonce is not secret (the client sees it), so these keys
    /// do not hide that the user is unknown; [`ScramCredentials::decoy`] does.
    fn decoy_credentials(&self, authcid: &str) -> Result<ScramCredentials, SaslError> {
        let seed = self.nonce.as_str().as_bytes();
        let salt = hmac_sha256(seed, format!("salt\0{authcid}").as_bytes());
        ScramCredentials::new(
            salt.iter()
                .take(ScramCredentials::MIN_SALT_LEN)
                .copied()
                .collect(),
            NonZeroU32::new(ScramCredentials::MIN_ITERATIONS).unwrap_or(NonZeroU32::MIN),
            hmac_sha256(seed, b"stored key"),
            hmac_sha256(seed, b"server key"),
        )
    }
}

/// Checks the client-final-message; returns the outcome and the server-final-message.
fn verify_client_final<A: Authenticator + ?Sized>(
    auth: &A,
    pending: &Pending,
    client_final: &[u8],
) -> Result<(Authenticated, Vec<u8>), SaslError> {
    let parsed = parse_client_final(client_final)?;
    if parsed.channel_binding != STANDARD.encode(&pending.gs2_header).as_bytes() {
        return Err(SaslError::malformed(
            MECH,
            "channel binding (c=) does not repeat the GS2 header",
        ));
    }
    if parsed.nonce != pending.nonce.as_bytes() {
        return Err(SaslError::NonceMismatch);
    }
    let credentials = &pending.credentials;
    let auth_message = auth_message(
        &pending.client_first_bare,
        &pending.server_first,
        parsed.without_proof,
    );
    let stored_key = credentials.stored_key().expose();
    let client_key = xor_client_signature(&parsed.proof, stored_key, &auth_message);
    let proof_ok = constant_time_eq(&sha256(&client_key), stored_key);
    if !(proof_ok && pending.known_user) {
        return Err(SaslError::AuthenticationFailed);
    }
    let authenticated =
        Authenticated::authorize(MECH, auth, pending.authcid.clone(), pending.authzid.clone())?;
    let signature = hmac_sha256(credentials.server_key().expose(), &auth_message);
    Ok((
        authenticated,
        format!("v={}", STANDARD.encode(signature)).into_bytes(),
    ))
}
