//! One user, known to the server targets' credential store and to the client target's
//! credentials: a password, SCRAM-SHA-256 keys and a bearer token.
//!
//! The SCRAM values are those of RFC 7677 section 3, so a seed can replay its transcript.

use std::cell::Cell;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use mail_wire::Secret;
use mail_wire::sasl::{Authenticator, Nonce, ScramCredentials};
use smtp_proto::client::Credentials;
use smtp_proto::{Domain, Host};

/// The one user name.
pub const USER: &str = "user";
/// The user's password.
pub const PASSWORD: &str = "pencil";
/// The user's bearer token (XOAUTH2, OAUTHBEARER).
pub const TOKEN: &str = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==";
/// The identity [`TOKEN`] authenticates.
pub const TOKEN_OWNER: &str = "user@example.com";
/// RFC 7677 section 3: "pencil" with salt `W22ZaJ0SNY7soEsUEjb6gQ==` and 4096 iterations.
pub const STORED_SCRAM: &str = "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$\
WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
/// The server nonce of RFC 7677 section 3.
pub const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
/// The client-first message of RFC 7677 section 3.
pub const RFC7677_CLIENT_FIRST: &[u8] = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
/// The client-final message of RFC 7677 section 3: the only proof that verifies against
/// [`STORED_SCRAM`] with [`SERVER_NONCE`].
pub const RFC7677_CLIENT_FINAL: &[u8] =
    b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

/// The server's name.
pub const SERVER_NAME: &str = "mx.example";
/// The client's name in EHLO.
pub const CLIENT_NAME: &str = "client.example";

/// [`STORED_SCRAM`], parsed once.
pub fn scram_credentials() -> &'static ScramCredentials {
    static CREDENTIALS: OnceLock<ScramCredentials> = OnceLock::new();
    CREDENTIALS.get_or_init(|| {
        ScramCredentials::parse_stored(STORED_SCRAM).expect("valid stored credentials")
    })
}

/// [`SERVER_NONCE`] as a nonce.
pub fn server_nonce() -> Nonce {
    Nonce::new(SERVER_NONCE).expect("valid nonce")
}

/// [`SERVER_NAME`] as a domain.
pub fn server_name() -> Domain<'static> {
    Domain::new(SERVER_NAME).expect("valid domain")
}

/// [`CLIENT_NAME`] as the host a client greets with.
pub fn client_name() -> Host<'static> {
    Host::Domain(Domain::new(CLIENT_NAME).expect("valid domain"))
}

/// The server side's credential store: [`USER`] with [`PASSWORD`] and the SCRAM keys, and
/// [`TOKEN`] for [`TOKEN_OWNER`]. It records whether a correct secret was ever presented, so
/// a target can tell a success the store vouched for from one it did not.
#[derive(Debug, Default)]
pub struct Store {
    correct_secret_seen: Cell<bool>,
}

impl Store {
    /// Whether a correct password or token was presented to this store.
    pub fn correct_secret_seen(&self) -> bool {
        self.correct_secret_seen.get()
    }

    fn saw(&self, correct: bool) -> bool {
        self.correct_secret_seen
            .set(self.correct_secret_seen.get() || correct);
        correct
    }
}

impl Authenticator for Store {
    fn verify_password(&self, authcid: &str, password: &Secret<String>) -> bool {
        self.saw(authcid == USER && password.ct_eq(PASSWORD.as_bytes()))
    }

    fn scram_credentials(&self, authcid: &str) -> Option<ScramCredentials> {
        (authcid == USER).then(|| scram_credentials().clone())
    }

    fn verify_bearer_token(&self, _user: Option<&str>, token: &Secret<String>) -> Option<String> {
        self.saw(token.ct_eq(TOKEN.as_bytes()))
            .then(|| TOKEN_OWNER.to_owned())
    }
}

/// Which credentials a client has, all of them for the one user.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCredentials {
    /// None: the client does not authenticate.
    None,
    /// [`USER`] and [`PASSWORD`], for PLAIN, LOGIN and SCRAM with a random nonce.
    Password,
    /// [`USER`] and [`PASSWORD`] with a fixed SCRAM client nonce.
    PasswordFixedNonce,
    /// [`TOKEN`] for [`TOKEN_OWNER`], for XOAUTH2 and OAUTHBEARER (naming the server).
    BearerToken,
}

impl ClientCredentials {
    /// The credentials, if any.
    pub fn credentials(self) -> Option<Credentials> {
        let password = || Credentials::password(USER, Secret::new(PASSWORD.into()));
        match self {
            ClientCredentials::None => None,
            ClientCredentials::Password => Some(password()),
            ClientCredentials::PasswordFixedNonce => Some(
                password()
                    .with_scram_nonce(Nonce::from_random_bytes(&[7; 18]).expect("valid nonce")),
            ),
            ClientCredentials::BearerToken => Some(
                Credentials::bearer_token(TOKEN_OWNER, Secret::new(TOKEN.into()))
                    .with_oauth_server(SERVER_NAME, Some(587)),
            ),
        }
    }
}
