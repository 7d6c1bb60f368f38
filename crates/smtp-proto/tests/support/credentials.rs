//! Credential fixtures: one account that a server's [`Authenticator`] knows, and the nonces
//! the tests fix so that SCRAM exchanges are reproducible.

use std::sync::OnceLock;

use mail_wire::Secret;
use mail_wire::sasl::{Authenticator, ScramCredentials};

/// The user most tests authenticate as.
pub const USER: &str = "alice";
/// [`USER`]'s password.
pub const PASSWORD: &str = "secret";
/// The SCRAM server nonce the tests pass to the server machine.
pub const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
/// The SCRAM client nonce the tests give the client.
pub const CLIENT_NONCE: &str = "rOprNGfwEbeRWgbNEkqO";

/// The salt of the SCRAM keys an [`Account`] derives.
const SALT: &[u8] = b"sixteen byte slt";
/// The iteration count of those keys.
const ITERATIONS: u32 = 4096;

/// One user with one password: verified for PLAIN and LOGIN, and, with keys derived from it
/// (salt `sixteen byte slt`, 4096 iterations), for SCRAM-SHA-256. Every other user is
/// unknown.
#[derive(Debug)]
pub struct Account {
    user: String,
    password: String,
    scram: OnceLock<ScramCredentials>,
}

impl Account {
    /// An account for `user` with `password`.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Account {
            user: user.into(),
            password: password.into(),
            scram: OnceLock::new(),
        }
    }

    /// [`USER`] with [`PASSWORD`].
    pub fn alice() -> Self {
        Self::new(USER, PASSWORD)
    }
}

impl Authenticator for Account {
    fn verify_password(&self, authcid: &str, password: &Secret<String>) -> bool {
        authcid == self.user && *password.expose() == self.password
    }

    fn scram_credentials(&self, authcid: &str) -> Option<ScramCredentials> {
        (authcid == self.user).then(|| {
            self.scram
                .get_or_init(|| {
                    let password = Secret::new(self.password.clone());
                    ScramCredentials::derive(&password, SALT, ITERATIONS).expect("valid")
                })
                .clone()
        })
    }
}
