//! One credential store for every test: [`Users`], a configurable
//! [`Authenticator`].
//!
//! [`Users::standard`] holds the accounts the suites share, under the constants of this
//! module: [`USER`] with [`PASSWORD`] (PLAIN, LOGIN and SCRAM-SHA-256) and the bearer token
//! [`TOKEN`] (XOAUTH2, OAUTHBEARER); [`ADMIN`], who may act as anyone; and [`FAILING_USER`],
//! whose every check fails although the right secrets are known ([`FAILING_PASSWORD`],
//! [`FAILING_TOKEN`]): a locked account, or a store that is down. Builders add more, and
//! [`Users::asked`] tells which identities the machine asked about.
//!
//! ```
//! use mail_wire::Secret;
//! use mail_wire::sasl::Authenticator;
//! use mail_testkit::users::{self, Users};
//!
//! let users = Users::standard().with_password("bob", "hunter2");
//! let password = |p: &str| Secret::new(p.to_owned());
//! assert!(users.verify_password(users::USER, &password(users::PASSWORD)));
//! assert!(users.verify_password("bob", &password("hunter2")));
//! assert!(!users.verify_password("bob", &password("hunter3")));
//! assert!(!users.verify_password(users::FAILING_USER, &password(users::FAILING_PASSWORD)));
//! assert!(users.scram_credentials("bob").is_some());
//! assert_eq!(
//!     users.verify_bearer_token(Some(users::USER), &Secret::new(users::TOKEN.into())),
//!     Some(users::USER.to_owned())
//! );
//! assert!(users.authorize(users::ADMIN, Some("bob")));
//! assert!(!users.authorize("bob", Some(users::USER)));
//! assert_eq!(users.asked(), ["alice", "bob", "bob", users::FAILING_USER, "bob", "alice"]);
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};

use mail_wire::Secret;
use mail_wire::sasl::{Authenticator, Nonce, ScramCredentials};

/// The standard user.
pub const USER: &str = "alice";
/// [`USER`]'s password.
pub const PASSWORD: &str = "secret";
/// The bearer token issued to [`USER`].
pub const TOKEN: &str = "ya29.alice-token";
/// A user who may act as any authorization identity.
pub const ADMIN: &str = "admin";
/// [`ADMIN`]'s password.
pub const ADMIN_PASSWORD: &str = "root pw";
/// A user whose every check fails, whatever the client sends.
pub const FAILING_USER: &str = "mallory";
/// The password [`FAILING_USER`] would have, which the store refuses all the same.
pub const FAILING_PASSWORD: &str = "locked out";
/// The token [`FAILING_USER`] would have, which the store refuses all the same.
pub const FAILING_TOKEN: &str = "ya29.mallory-token";
/// The salt of the SCRAM keys [`Users::with_password`] derives (random per user in real code).
pub const SALT: &[u8; 16] = b"sixteen byte slt";
/// The iteration count of the SCRAM keys [`Users::with_password`] derives: RFC 7677's minimum.
pub const ITERATIONS: u32 = 4096;
/// A server nonce for SCRAM exchanges (RFC 7677's example).
pub const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
/// A client nonce for SCRAM exchanges (RFC 7677's example).
pub const CLIENT_NONCE: &str = "rOprNGfwEbeRWgbNEkqO";

/// [`SERVER_NONCE`] as a [`Nonce`].
pub fn server_nonce() -> Nonce {
    Nonce::new(SERVER_NONCE).unwrap_or_else(|error| panic!("the server nonce is valid: {error}"))
}

/// [`CLIENT_NONCE`] as a [`Nonce`].
pub fn client_nonce() -> Nonce {
    Nonce::new(CLIENT_NONCE).unwrap_or_else(|error| panic!("the client nonce is valid: {error}"))
}

/// The SCRAM-SHA-256 keys of `password` with [`SALT`] and [`ITERATIONS`], derived once per
/// password for the whole test binary (the derivation is deliberately slow).
pub fn scram_keys(password: &str) -> ScramCredentials {
    static CACHE: OnceLock<Mutex<HashMap<String, ScramCredentials>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let mut cache = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    cache
        .entry(password.to_owned())
        .or_insert_with(|| {
            let password = Secret::new(password.to_owned());
            ScramCredentials::derive(&password, SALT, ITERATIONS)
                .unwrap_or_else(|error| panic!("SCRAM keys derive: {error}"))
        })
        .clone()
}

/// A configurable credential store: passwords, SCRAM keys, bearer tokens, who may act as
/// whom, failing users. See the [module docs](self).
///
/// It compares secrets with [`Secret::ct_eq`], lets every user act as itself only (RFC 4422
/// section 3.4.1) unless [`with_admin`](Users::with_admin) or
/// [`with_authorization`](Users::with_authorization) says otherwise, and records every
/// identity it is asked about ([`asked`](Users::asked)).
#[derive(Debug, Default)]
pub struct Users {
    passwords: BTreeMap<String, String>,
    scram: BTreeMap<String, ScramCredentials>,
    /// token -> the user it was issued to
    tokens: BTreeMap<String, String>,
    admins: BTreeSet<String>,
    /// (authcid, authzid) pairs allowed besides acting as oneself
    authorizations: BTreeSet<(String, String)>,
    failing: BTreeSet<String>,
    decoy_secret: Option<Vec<u8>>,
    asked: Mutex<Vec<String>>,
}

impl Users {
    /// A store with nobody in it: every check fails.
    pub fn new() -> Self {
        Users::default()
    }

    /// The shared accounts: [`USER`] (password and token), [`ADMIN`] (password, acts as
    /// anyone) and [`FAILING_USER`].
    pub fn standard() -> Self {
        Users::new()
            .with_password(USER, PASSWORD)
            .with_token(TOKEN, USER)
            .with_password(ADMIN, ADMIN_PASSWORD)
            .with_admin(ADMIN)
            .with_password(FAILING_USER, FAILING_PASSWORD)
            .with_token(FAILING_TOKEN, FAILING_USER)
            .with_failing_user(FAILING_USER)
    }

    /// Adds `user` with `password`, for PLAIN and LOGIN, and its SCRAM-SHA-256 keys
    /// ([`scram_keys`]).
    pub fn with_password(self, user: &str, password: &str) -> Self {
        let keys = scram_keys(password);
        self.with_plain_password(user, password)
            .with_scram(user, keys)
    }

    /// Adds `user` with `password` for PLAIN and LOGIN only (no SCRAM keys).
    pub fn with_plain_password(mut self, user: &str, password: &str) -> Self {
        self.passwords.insert(user.to_owned(), password.to_owned());
        self
    }

    /// Adds SCRAM-SHA-256 keys for `user` (for example derived with another salt or
    /// iteration count, or parsed from a stored string).
    pub fn with_scram(mut self, user: &str, keys: ScramCredentials) -> Self {
        self.scram.insert(user.to_owned(), keys);
        self
    }

    /// Adds a bearer token issued to `owner`, for XOAUTH2 and OAUTHBEARER.
    pub fn with_token(mut self, token: &str, owner: &str) -> Self {
        self.tokens.insert(token.to_owned(), owner.to_owned());
        self
    }

    /// Lets `user` act as any authorization identity.
    pub fn with_admin(mut self, user: &str) -> Self {
        self.admins.insert(user.to_owned());
        self
    }

    /// Lets `authcid` act as `authzid`.
    pub fn with_authorization(mut self, authcid: &str, authzid: &str) -> Self {
        self.authorizations
            .insert((authcid.to_owned(), authzid.to_owned()));
        self
    }

    /// Makes every check of `user` fail, whatever it presents (its password, keys and
    /// tokens stay known, so a test can send the right ones).
    pub fn with_failing_user(mut self, user: &str) -> Self {
        self.failing.insert(user.to_owned());
        self
    }

    /// Answers unknown SCRAM users with [`ScramCredentials::decoy`] keys made from `secret`
    /// (at least 16 bytes), so that the exchange does not tell who exists (RFC 5802
    /// section 9).
    pub fn with_decoys(mut self, secret: &[u8]) -> Self {
        self.decoy_secret = Some(secret.to_vec());
        self
    }

    /// The identities the store was asked about, in order: the `authcid` of password and
    /// SCRAM checks, the `user` of bearer checks (`<none>` when the client named none).
    pub fn asked(&self) -> Vec<String> {
        self.asked_log().clone()
    }

    fn asked_log(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.asked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn ask(&self, identity: &str) -> bool {
        self.asked_log().push(identity.to_owned());
        !self.failing.contains(identity)
    }
}

impl Authenticator for Users {
    fn verify_password(&self, authcid: &str, password: &Secret<String>) -> bool {
        self.ask(authcid)
            && self
                .passwords
                .get(authcid)
                .is_some_and(|stored| password.ct_eq(stored.as_bytes()))
    }

    fn scram_credentials(&self, authcid: &str) -> Option<ScramCredentials> {
        if !self.ask(authcid) {
            return None;
        }
        self.scram.get(authcid).cloned().or_else(|| {
            let secret = Secret::new(self.decoy_secret.clone()?);
            let iterations = scram_keys(PASSWORD).iterations();
            ScramCredentials::decoy(&secret, authcid, iterations).ok()
        })
    }

    fn verify_bearer_token(&self, user: Option<&str>, token: &Secret<String>) -> Option<String> {
        self.ask(user.unwrap_or("<none>"));
        let owner = self
            .tokens
            .iter()
            .find(|(known, _)| token.ct_eq(known.as_bytes()))
            .map(|(_, owner)| owner)?;
        (!self.failing.contains(owner)).then(|| owner.clone())
    }

    fn authorize(&self, authcid: &str, authzid: Option<&str>) -> bool {
        match authzid {
            None => true,
            Some(authzid) => {
                authzid == authcid
                    || self.admins.contains(authcid)
                    || self
                        .authorizations
                        .contains(&(authcid.to_owned(), authzid.to_owned()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> Secret<String> {
        Secret::new(text.to_owned())
    }

    #[test]
    fn empty_store_refuses_everything_but_self_authorization() {
        let users = Users::new();
        assert!(!users.verify_password(USER, &secret(PASSWORD)));
        assert!(users.scram_credentials(USER).is_none());
        assert_eq!(users.verify_bearer_token(None, &secret(TOKEN)), None);
        assert!(users.authorize(USER, None));
        assert!(users.authorize(USER, Some(USER)));
        assert!(!users.authorize(USER, Some(ADMIN)));
        assert_eq!(users.asked(), [USER, USER, "<none>"]);
    }

    #[test]
    fn failing_user_fails_every_check() {
        let users = Users::standard();
        assert!(!users.verify_password(FAILING_USER, &secret(FAILING_PASSWORD)));
        assert!(users.scram_credentials(FAILING_USER).is_none());
        assert_eq!(
            users.verify_bearer_token(None, &secret(FAILING_TOKEN)),
            None
        );
        assert_eq!(
            users.verify_bearer_token(Some(USER), &secret(TOKEN)),
            Some(USER.to_owned())
        );
        assert!(users.verify_password(ADMIN, &secret(ADMIN_PASSWORD)));
    }

    #[test]
    fn scram_keys_match_the_password_and_decoys_cover_unknown_users() {
        let users = Users::standard();
        let derived = ScramCredentials::derive(&secret(PASSWORD), SALT, ITERATIONS).unwrap();
        let stored = users.scram_credentials(USER).unwrap();
        assert_eq!(stored.to_stored_string(), derived.to_stored_string());
        assert!(users.scram_credentials("nobody").is_none());
        let users = users.with_decoys(b"sixteen+ secret bytes of the srv");
        let decoy = users.scram_credentials("nobody").unwrap();
        assert_eq!(decoy.iterations(), stored.iterations());
        assert_ne!(decoy.salt(), stored.salt());
    }

    #[test]
    fn explicit_authorizations() {
        let users = Users::new().with_authorization("Kurt", "Ursel");
        assert!(users.authorize("Kurt", Some("Ursel")));
        assert!(!users.authorize("Ursel", Some("Kurt")));
        assert!(server_nonce().as_str() == SERVER_NONCE && client_nonce().as_str() == CLIENT_NONCE);
    }
}
