//! What `XOAUTH2` and `OAUTHBEARER` share: a single client message carrying an OAuth 2.0
//! bearer token (RFC 6750), and a failure that is reported as a JSON challenge the client must
//! acknowledge before the server sends its failure reply (RFC 7628 section 3.2.3; Google's
//! XOAUTH2 documentation).
//!
//! ```text
//! C: <message with auth=Bearer <token>>
//! S: <JSON error>            (only on failure)
//! C: <ack>                   (XOAUTH2: empty; OAUTHBEARER: %x01)
//! S: failure reply
//! ```

use super::{Authenticated, Authenticator, Mechanism, SaslError, ServerStep, oauthbearer, xoauth2};
use crate::Secret;

/// What the client message of either mechanism carries.
#[derive(Debug)]
pub(crate) struct BearerMessage {
    /// XOAUTH2 `user=`, or OAUTHBEARER's GS2 authzid.
    pub(crate) user: Option<String>,
    pub(crate) token: Secret<String>,
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="` (RFC 6750
/// section 2.1).
pub(crate) fn is_b64token(token: &[u8]) -> bool {
    let body_len = token.len() - token.iter().rev().take_while(|&&b| b == b'=').count();
    body_len > 0
        && token[..body_len]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// Parses `"Bearer" 1*SP b64token`, the scheme compared ignoring case (RFC 7235 section 2.1).
pub(crate) fn parse_auth_value(
    mechanism: Mechanism,
    value: &[u8],
) -> Result<Secret<String>, SaslError> {
    let malformed = |reason| SaslError::malformed(mechanism, reason);
    let (scheme, token) = value
        .split_at_checked(6)
        .ok_or_else(|| malformed("auth value is not \"Bearer <token>\""))?;
    if !scheme.eq_ignore_ascii_case(b"Bearer") || token.first() != Some(&b' ') {
        return Err(malformed("auth value is not \"Bearer <token>\""));
    }
    let token = token.trim_ascii_start();
    if !is_b64token(token) {
        return Err(malformed("the bearer token is not a b64token"));
    }
    // A b64token is ASCII.
    String::from_utf8(token.to_vec())
        .map(Secret::new)
        .map_err(|_| malformed("the bearer token is not a b64token"))
}

/// The client side of either mechanism.
#[derive(Debug)]
pub(crate) struct BearerClient {
    mechanism: Mechanism,
    message: Option<Secret<Vec<u8>>>,
    state: ClientState,
    /// The server's JSON error challenge, if it sent one.
    error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientState {
    Initial,
    Sent,
    Acknowledged,
}

impl BearerClient {
    pub(crate) fn new(mechanism: Mechanism, message: Secret<Vec<u8>>) -> Self {
        BearerClient {
            mechanism,
            message: Some(message),
            state: ClientState::Initial,
            error: None,
        }
    }

    pub(crate) fn step(&mut self, challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        match self.state {
            ClientState::Initial => {
                self.state = ClientState::Sent;
                Ok(self.message.take().unwrap_or_default())
            }
            ClientState::Sent => {
                self.state = ClientState::Acknowledged;
                self.error = Some(String::from_utf8_lossy(challenge).into_owned());
                let ack: &[u8] = match self.mechanism {
                    Mechanism::OAuthBearer => oauthbearer::ACK,
                    _ => xoauth2::ACK,
                };
                Ok(Secret::new(ack.to_vec()))
            }
            ClientState::Acknowledged => Err(SaslError::malformed(
                self.mechanism,
                "challenge after the error acknowledgement",
            )),
        }
    }

    pub(crate) fn server_error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

/// The server side of either mechanism.
#[derive(Debug)]
pub(crate) struct BearerServer {
    mechanism: Mechanism,
    /// Set once the error challenge has been sent: the outcome of the next step.
    failure: Option<SaslError>,
}

impl BearerServer {
    pub(crate) fn new(mechanism: Mechanism) -> Self {
        BearerServer {
            mechanism,
            failure: None,
        }
    }

    /// One response: the client message (whose user, if any, goes to `user`), or the
    /// acknowledgement of the error challenge.
    pub(crate) fn step<A: Authenticator + ?Sized>(
        &mut self,
        auth: &A,
        response: &[u8],
        user: &mut Option<String>,
    ) -> Result<ServerStep, SaslError> {
        // Whatever answers the error challenge, the exchange fails.
        if let Some(failure) = self.failure.take() {
            return Err(failure);
        }
        let (message, error_challenge) = match self.mechanism {
            Mechanism::OAuthBearer => (oauthbearer::parse(response)?, oauthbearer::ERROR_CHALLENGE),
            _ => (xoauth2::parse(response)?, xoauth2::ERROR_CHALLENGE),
        };
        user.clone_from(&message.user);
        let outcome = auth
            .verify_bearer_token(message.user.as_deref(), &message.token)
            .ok_or(SaslError::AuthenticationFailed)
            .and_then(|authcid| {
                Authenticated::authorize(self.mechanism, auth, authcid, message.user)
            });
        match outcome {
            Ok(authenticated) => Ok(ServerStep::Success(authenticated)),
            Err(failure) => {
                self.failure = Some(failure);
                Ok(ServerStep::Challenge(error_challenge.to_vec()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64token_grammar() {
        for ok in [
            &b"a"[..],
            b"vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
            b"ya29.a0-_~+/",
            b"x==",
        ] {
            assert!(is_b64token(ok), "{:?}", String::from_utf8_lossy(ok));
        }
        for bad in [
            &b""[..],
            b"=",
            b"==",
            b"a=b",
            b"a b",
            b"a,b",
            b"\x01",
            b"\xc3\xa9",
        ] {
            assert!(!is_b64token(bad), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn auth_values() {
        let m = Mechanism::OAuthBearer;
        assert_eq!(parse_auth_value(m, b"Bearer abc").unwrap().expose(), "abc");
        assert_eq!(
            parse_auth_value(m, b"bearer   abc=").unwrap().expose(),
            "abc="
        );
        for bad in [
            &b""[..],
            b"Bearer",
            b"Bearer ",
            b"Bearerabc",
            b"Basic abc",
            b"Bearer a b",
            b"Bearer\tabc",
        ] {
            assert!(
                parse_auth_value(m, bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
