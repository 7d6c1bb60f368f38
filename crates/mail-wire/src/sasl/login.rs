//! `LOGIN` (draft-murchison-sasl-login-00): the server prompts `Username:` and `Password:`,
//! the client answers each in turn. The prompts carry no meaning, and clients must ignore
//! their text (section 2). A client may send the user name as an initial response; this
//! server accepts that, this client does not do it (not every server does).

use super::server::check_password;
use super::{Authenticator, Mechanism, SaslError, ServerStep};
use crate::Secret;

const MECH: Mechanism = Mechanism::Login;

/// The second prompt. The first is [`Mechanism::initial_challenge`].
const PASSWORD_PROMPT: &[u8] = b"Password:";

/// The client side.
#[derive(Debug)]
pub(crate) struct LoginClient {
    username: String,
    password: Secret<String>,
    sent: u8,
}

impl LoginClient {
    pub(crate) fn new(username: &str, password: Secret<String>) -> Result<Self, SaslError> {
        if username.is_empty() {
            return Err(SaslError::credentials(MECH, "the user name is empty"));
        }
        Ok(LoginClient {
            username: username.to_owned(),
            password,
            sent: 0,
        })
    }

    /// Answers the user-name prompt, then the password prompt, whatever their text.
    pub(crate) fn step(&mut self) -> Result<Secret<Vec<u8>>, SaslError> {
        let response = match self.sent {
            0 => self.username.as_bytes(),
            1 => self.password.expose().as_bytes(),
            _ => return Err(SaslError::malformed(MECH, "challenge after the password")),
        };
        self.sent += 1;
        Ok(Secret::new(response.to_vec()))
    }
}

/// The server side.
#[derive(Debug, Default)]
pub(crate) struct LoginServer {
    username: Option<String>,
}

impl LoginServer {
    /// One response: the user name (which also goes to `user`), then the password.
    pub(crate) fn step<A: Authenticator + ?Sized>(
        &mut self,
        auth: &A,
        response: &[u8],
        user: &mut Option<String>,
    ) -> Result<ServerStep, SaslError> {
        let text = core::str::from_utf8(response)
            .map_err(|_| SaslError::malformed(MECH, "response is not UTF-8"))?;
        match self.username.take() {
            None if text.is_empty() => Err(SaslError::malformed(MECH, "empty user name")),
            None => {
                *user = Some(text.to_owned());
                self.username = Some(text.to_owned());
                Ok(ServerStep::Challenge(PASSWORD_PROMPT.to_vec()))
            }
            Some(username) => {
                check_password(MECH, auth, username, None, &Secret::new(text.to_owned()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_answers_in_order_and_then_refuses() {
        let mut client = LoginClient::new("tim", Secret::new("pw".into())).unwrap();
        assert_eq!(client.step().unwrap().expose().as_slice(), b"tim");
        assert_eq!(client.step().unwrap().expose().as_slice(), b"pw");
        assert!(matches!(client.step(), Err(SaslError::Malformed { .. })));
        assert!(LoginClient::new("", Secret::new("pw".into())).is_err());
    }
}
