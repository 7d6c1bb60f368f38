//! `PLAIN` (RFC 4616): one client message, `[authzid] NUL authcid NUL passwd`.
//!
//! ```text
//! message   = [authzid] UTF8NUL authcid UTF8NUL passwd
//! authcid   = 1*SAFE ; MUST accept up to 255 octets
//! authzid   = 1*SAFE ; MUST accept up to 255 octets
//! passwd    = 1*SAFE ; MUST accept up to 255 octets
//! SAFE      = UTF1 / UTF2 / UTF3 / UTF4   ; any UTF-8 encoded Unicode character except NUL
//! ```

use super::server::check_password;
use super::{Authenticator, Mechanism, SaslError, ServerStep};
use crate::Secret;

const MECH: Mechanism = Mechanism::Plain;

/// The client side: the single message, sent once.
#[derive(Debug)]
pub(crate) struct PlainClient {
    message: Option<Secret<Vec<u8>>>,
}

impl PlainClient {
    pub(crate) fn new(
        authzid: Option<&str>,
        authcid: &str,
        password: &Secret<String>,
    ) -> Result<Self, SaslError> {
        let invalid = |reason| SaslError::credentials(MECH, reason);
        let password = password.expose();
        if authcid.is_empty() || password.is_empty() || authzid == Some("") {
            return Err(invalid(
                "authcid, password and a given authzid must not be empty",
            ));
        }
        if [authzid.unwrap_or_default(), authcid, password]
            .iter()
            .any(|s| s.contains('\0'))
        {
            return Err(invalid("identities and password must not contain NUL"));
        }
        let message = [authzid.unwrap_or_default(), authcid, password].join("\0");
        Ok(PlainClient {
            message: Some(Secret::new(message.into_bytes())),
        })
    }

    /// Any challenge before the message is the empty one (RFC 4422 section 5); any after it is
    /// a protocol error, since PLAIN has a single message.
    pub(crate) fn step(&mut self) -> Result<Secret<Vec<u8>>, SaslError> {
        self.message.take().ok_or(SaslError::malformed(
            MECH,
            "challenge after the PLAIN message",
        ))
    }
}

/// The server side: verifies the single message. The authcid, once found, goes to `user`.
pub(crate) fn server_step<A: Authenticator + ?Sized>(
    auth: &A,
    message: &[u8],
    user: &mut Option<String>,
) -> Result<ServerStep, SaslError> {
    let malformed = |reason| SaslError::malformed(MECH, reason);
    let text = core::str::from_utf8(message).map_err(|_| malformed("message is not UTF-8"))?;
    let mut fields = text.split('\0');
    let (Some(authzid), Some(authcid), Some(password), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(malformed("expected exactly two NUL separators"));
    };
    if !authcid.is_empty() {
        *user = Some(authcid.to_owned());
    }
    if authcid.is_empty() || password.is_empty() {
        return Err(malformed("empty authcid or password"));
    }
    let authzid = (!authzid.is_empty()).then(|| authzid.to_owned());
    let password = Secret::new(password.to_owned());
    check_password(MECH, auth, authcid.to_owned(), authzid, &password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4616_section4_messages() {
        let tim = PlainClient::new(None, "tim", &Secret::new("tanstaaftanstaaf".into()))
            .unwrap()
            .step()
            .unwrap();
        assert_eq!(tim.expose().as_slice(), b"\0tim\0tanstaaftanstaaf");
        let mut kurt =
            PlainClient::new(Some("Ursel"), "Kurt", &Secret::new("xipj3plmq".into())).unwrap();
        assert_eq!(
            kurt.step().unwrap().expose().as_slice(),
            b"Ursel\0Kurt\0xipj3plmq"
        );
        assert!(matches!(kurt.step(), Err(SaslError::Malformed { .. })));
    }

    #[test]
    fn client_refuses_unencodable_credentials() {
        let pw = Secret::new(String::from("pw"));
        assert!(PlainClient::new(None, "", &pw).is_err());
        assert!(PlainClient::new(Some(""), "tim", &pw).is_err());
        assert!(PlainClient::new(None, "tim", &Secret::new(String::new())).is_err());
        assert!(PlainClient::new(None, "t\0im", &pw).is_err());
        assert!(PlainClient::new(Some("a\0"), "tim", &pw).is_err());
        assert!(PlainClient::new(None, "tim", &Secret::new("p\0w".into())).is_err());
    }
}
