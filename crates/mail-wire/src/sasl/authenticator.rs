//! The server's view of credentials: [`Authenticator`] (implemented by the application) and
//! [`Authenticated`] (the outcome of a successful exchange).

use super::{Mechanism, ScramCredentials};
use crate::Secret;

/// The application's credential store and authorization policy, consulted by a
/// [`ServerSession`](super::ServerSession).
///
/// Every method has a default that refuses, so an application implements only the methods for
/// the mechanisms it offers. Methods take `&self`: a store that needs to record attempts (rate
/// limiting, audit) uses interior mutability.
///
/// SASL leaves the comparison of identities to the application: a server that wants RFC 4616
/// section 2 behaviour prepares `authcid` and passwords with SASLprep before comparing them.
/// SCRAM usernames arrive already prepared (RFC 5802 section 5.1).
pub trait Authenticator {
    /// Checks a password for `PLAIN` and `LOGIN`. Compare in constant time, for example
    /// against a stored hash.
    fn verify_password(&self, authcid: &str, password: &Secret<String>) -> bool {
        let _ = (authcid, password);
        false
    }

    /// Returns the stored SCRAM-SHA-256 keys of `authcid`, or `None` for an unknown user.
    ///
    /// For `None` the session still answers with a salt and fails only at the proof, but it
    /// has no secret to make that salt from: it is derived from the exchange's nonce, which the
    /// client sees, with 4096 iterations, so a client that knows how can tell that the user
    /// does not exist. To hide which users exist (RFC 5802 section 9), return
    /// [`ScramCredentials::decoy`] for unknown users instead: made up from a secret of yours,
    /// the same in every exchange, with your users' iteration count. They can never verify.
    fn scram_credentials(&self, authcid: &str) -> Option<ScramCredentials> {
        let _ = authcid;
        None
    }

    /// Validates a bearer token for `XOAUTH2` and `OAUTHBEARER` and returns the identity it
    /// was issued to (the authentication identity), or `None` if it is not valid.
    ///
    /// `user` is the identity the client named (`XOAUTH2` `user=`, `OAUTHBEARER` `a=`), or
    /// `None` when it named none. It becomes the authorization identity, so with the default
    /// [`authorize`](Self::authorize) a token issued to someone else is refused.
    fn verify_bearer_token(&self, user: Option<&str>, token: &Secret<String>) -> Option<String> {
        let _ = (user, token);
        None
    }

    /// Decides whether `authcid`, whose credentials have been verified, may act as `authzid`
    /// (RFC 4422 section 3.4.1). `authzid` is `None` when the client requested none.
    ///
    /// The default allows only the identity itself: no authzid, or one equal to `authcid`.
    /// Override it to let, for example, an administrator act for other users.
    fn authorize(&self, authcid: &str, authzid: Option<&str>) -> bool {
        authzid.is_none_or(|authzid| authzid == authcid)
    }
}

/// The outcome of a successful exchange: who proved their identity, and as whom they act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    mechanism: Mechanism,
    authcid: String,
    authzid: Option<String>,
}

impl Authenticated {
    pub(crate) fn new(mechanism: Mechanism, authcid: String, authzid: Option<String>) -> Self {
        Authenticated {
            mechanism,
            authcid,
            authzid,
        }
    }

    /// The mechanism that was used.
    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// The authentication identity: the user whose credentials were verified.
    pub fn authcid(&self) -> &str {
        &self.authcid
    }

    /// The authorization identity the client asked to act as, if it asked for one.
    pub fn authzid(&self) -> Option<&str> {
        self.authzid.as_deref()
    }

    /// The identity the session acts as from now on: the authzid if one was requested and
    /// allowed, otherwise the authcid (RFC 4422 section 3.4.1).
    pub fn identity(&self) -> &str {
        self.authzid.as_deref().unwrap_or(&self.authcid)
    }

    /// Applies the authorization policy after the credentials have been verified.
    pub(crate) fn authorize<A: Authenticator + ?Sized>(
        mechanism: Mechanism,
        auth: &A,
        authcid: String,
        authzid: Option<String>,
    ) -> Result<Self, super::SaslError> {
        if auth.authorize(&authcid, authzid.as_deref()) {
            Ok(Authenticated::new(mechanism, authcid, authzid))
        } else {
            Err(super::SaslError::AuthorizationDenied)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nobody;
    impl Authenticator for Nobody {}

    #[test]
    fn defaults_refuse_and_authorize_only_self() {
        let secret = Secret::new(String::from("x"));
        assert!(!Nobody.verify_password("a", &secret));
        assert!(Nobody.scram_credentials("a").is_none());
        assert_eq!(Nobody.verify_bearer_token(Some("a"), &secret), None);
        assert!(Nobody.authorize("a", None));
        assert!(Nobody.authorize("a", Some("a")));
        assert!(!Nobody.authorize("a", Some("b")));
        assert!(!Nobody.authorize("a", Some("A")));
    }

    #[test]
    fn identity_prefers_authzid() {
        let plain = Authenticated::new(Mechanism::Plain, "kurt".into(), Some("ursel".into()));
        assert_eq!(plain.identity(), "ursel");
        assert_eq!(plain.authcid(), "kurt");
        let own = Authenticated::new(Mechanism::Plain, "tim".into(), None);
        assert_eq!(own.identity(), "tim");
        assert_eq!(own.authzid(), None);
    }
}
