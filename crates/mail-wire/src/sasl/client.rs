//! [`ClientSession`]: the client side of one exchange, for any mechanism.

use super::bearer::BearerClient;
use super::login::LoginClient;
use super::plain::PlainClient;
use super::scram::{ScramClient, ScramClientConfig};
use super::{MAX_MESSAGE_LEN, Mechanism, Nonce, SaslError, oauthbearer, xoauth2};
use crate::Secret;

/// The client side of one SASL exchange.
///
/// Build it with the constructor of the mechanism the server offers, then:
///
/// 1. If the protocol allows an initial response (SMTP `AUTH`, IMAP with `SASL-IR`), send
///    [`initial_response`](Self::initial_response) with the command, encoded with
///    [`framing::encode_initial_response`](super::framing::encode_initial_response).
/// 2. Feed each server challenge (decoded with
///    [`framing::decode_challenge`](super::framing::decode_challenge)) to
///    [`step`](Self::step) and send the response it returns.
/// 3. When the server reports success, call [`finish`](Self::finish): for SCRAM it fails
///    unless the server proved that it knows the user's keys.
///
/// If `step` fails while the server waits for a response, send the cancel line
/// ([`framing::CANCEL`](super::framing::CANCEL)). Responses carry passwords and tokens, so
/// they are returned in a [`Secret`].
///
/// Any error is final: later calls return the same error. After [`finish`](Self::finish),
/// later calls return [`SaslError::Misuse`].
#[derive(Debug)]
pub struct ClientSession {
    mechanism: Mechanism,
    inner: Inner,
    phase: Phase,
}

#[derive(Debug)]
enum Inner {
    Plain(PlainClient),
    Login(LoginClient),
    Bearer(BearerClient),
    Scram(Box<ScramClient>),
}

#[derive(Debug)]
enum Phase {
    Start,
    Running,
    Finished,
    Failed(SaslError),
}

impl ClientSession {
    /// `PLAIN` (RFC 4616). `authzid` is the identity to act as, `None` for the user's own.
    ///
    /// # Errors
    ///
    /// [`SaslError::InvalidCredentials`] if `authcid` or the password is empty, the authzid is
    /// `Some("")`, or any of them contains NUL.
    pub fn plain(
        authzid: Option<&str>,
        authcid: &str,
        password: Secret<String>,
    ) -> Result<Self, SaslError> {
        let inner = Inner::Plain(PlainClient::new(authzid, authcid, &password)?);
        Ok(Self::with(Mechanism::Plain, inner))
    }

    /// `LOGIN`.
    ///
    /// # Errors
    ///
    /// [`SaslError::InvalidCredentials`] if `username` is empty.
    pub fn login(username: &str, password: Secret<String>) -> Result<Self, SaslError> {
        let inner = Inner::Login(LoginClient::new(username, password)?);
        Ok(Self::with(Mechanism::Login, inner))
    }

    /// `XOAUTH2` for `user` with an OAuth 2.0 access token.
    ///
    /// # Errors
    ///
    /// [`SaslError::InvalidCredentials`] if `user` is empty or contains `^A` or NUL, or the
    /// token is not an RFC 6750 `b64token`.
    pub fn xoauth2(user: &str, token: Secret<String>) -> Result<Self, SaslError> {
        let message = xoauth2::encode(user, &token)?;
        Ok(Self::with(
            Mechanism::XOAuth2,
            Inner::Bearer(BearerClient::new(Mechanism::XOAuth2, message)),
        ))
    }

    /// `OAUTHBEARER` (RFC 7628) with an OAuth 2.0 access token. `authzid` names the user (most
    /// servers want it); `host` and `port` are the server the client connected to, which
    /// RFC 7628 section 3.1 lets the client include.
    ///
    /// # Errors
    ///
    /// [`SaslError::InvalidCredentials`] if the authzid is empty or contains NUL, the host is
    /// empty or not printable ASCII, or the token is not an RFC 6750 `b64token`.
    pub fn oauthbearer(
        authzid: Option<&str>,
        host: Option<&str>,
        port: Option<u16>,
        token: Secret<String>,
    ) -> Result<Self, SaslError> {
        let message = oauthbearer::encode(authzid, host, port, &token)?;
        Ok(Self::with(
            Mechanism::OAuthBearer,
            Inner::Bearer(BearerClient::new(Mechanism::OAuthBearer, message)),
        ))
    }

    /// `SCRAM-SHA-256` (RFC 7677) without channel binding. `nonce` must be fresh random for
    /// every exchange; `config` bounds the iteration count the server may ask for.
    ///
    /// The step that answers the server's first message runs PBKDF2 with the server's
    /// iteration count (at most [`ScramClientConfig::max_iterations`]).
    ///
    /// # Errors
    ///
    /// [`SaslError::InvalidCredentials`] if SASLprep (RFC 4013) rejects the username or the
    /// password, or leaves either empty, if the authzid is empty or contains NUL, or if
    /// `config` is inconsistent.
    pub fn scram_sha256(
        authzid: Option<&str>,
        authcid: &str,
        password: Secret<String>,
        nonce: Nonce,
        config: ScramClientConfig,
    ) -> Result<Self, SaslError> {
        let client = ScramClient::new(authzid, authcid, &password, nonce, config)?;
        Ok(Self::with(
            Mechanism::ScramSha256,
            Inner::Scram(Box::new(client)),
        ))
    }

    fn with(mechanism: Mechanism, inner: Inner) -> Self {
        ClientSession {
            mechanism,
            inner,
            phase: Phase::Start,
        }
    }

    /// The mechanism of this exchange.
    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// The error the server sent as a challenge, if any: the JSON document of a refused
    /// `XOAUTH2` or `OAUTHBEARER` token (RFC 7628 section 3.2.2). The exchange then fails
    /// with the server's failure reply; this tells why.
    pub fn server_error(&self) -> Option<&str> {
        match &self.inner {
            Inner::Bearer(bearer) => bearer.server_error(),
            _ => None,
        }
    }

    /// The initial response, to send with the command that starts the exchange; `None` for a
    /// mechanism where the server speaks first (`LOGIN`). Call it before any
    /// [`step`](Self::step), or not at all: without an initial response the first `step`
    /// (on the server's empty challenge) returns the same message.
    ///
    /// # Errors
    ///
    /// [`SaslError::Misuse`] once the exchange has started.
    pub fn initial_response(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        self.check_running()?;
        match self.phase {
            Phase::Start if !self.mechanism.client_first() => Ok(None),
            Phase::Start => self.step(&[]).map(Some),
            _ => Err(SaslError::Misuse(
                "the initial response comes before any step",
            )),
        }
    }

    /// Answers a server challenge (decoded from base64).
    ///
    /// # Errors
    ///
    /// Whatever the challenge makes fail: [`SaslError::TooLong`], [`SaslError::Malformed`],
    /// and for SCRAM [`SaslError::NonceMismatch`], [`SaslError::IterationCount`],
    /// [`SaslError::ServerSignatureMismatch`], [`SaslError::ServerError`],
    /// [`SaslError::UnsupportedExtension`]. [`SaslError::Misuse`] after
    /// [`finish`](Self::finish).
    pub fn step(&mut self, challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        self.check_running()?;
        if challenge.len() > MAX_MESSAGE_LEN {
            return self.fail(SaslError::TooLong {
                len: challenge.len(),
                limit: MAX_MESSAGE_LEN,
            });
        }
        let result = match &mut self.inner {
            Inner::Plain(plain) => plain.step(),
            Inner::Login(login) => login.step(),
            Inner::Bearer(bearer) => bearer.step(challenge),
            Inner::Scram(scram) => scram.step(challenge).map(Secret::new),
        };
        match result {
            Ok(response) => {
                self.phase = Phase::Running;
                Ok(response)
            }
            Err(err) => self.fail(err),
        }
    }

    /// Ends the exchange when the server reports success, with the additional data of its
    /// success reply if the protocol carries any (most do not: pass `None`).
    ///
    /// # Errors
    ///
    /// For SCRAM, [`SaslError::MissingServerSignature`] if the server never sent its
    /// signature, or the errors of a bad signature in `additional_data`. For the other
    /// mechanisms, [`SaslError::Malformed`] if there is additional data.
    pub fn finish(&mut self, additional_data: Option<&[u8]>) -> Result<(), SaslError> {
        self.check_running()?;
        let additional_data = additional_data.filter(|data| !data.is_empty());
        let result = match (&mut self.inner, additional_data) {
            (Inner::Scram(scram), _) => scram.finish(additional_data),
            (_, None) => Ok(()),
            (_, Some(_)) => Err(SaslError::malformed(
                self.mechanism,
                "unexpected additional data with success",
            )),
        };
        match result {
            Ok(()) => {
                self.phase = Phase::Finished;
                Ok(())
            }
            Err(err) => self.fail(err),
        }
    }

    fn check_running(&self) -> Result<(), SaslError> {
        match &self.phase {
            Phase::Start | Phase::Running => Ok(()),
            Phase::Finished => Err(SaslError::Misuse("the exchange has finished")),
            Phase::Failed(err) => Err(err.clone()),
        }
    }

    fn fail<T>(&mut self, err: SaslError) -> Result<T, SaslError> {
        self.phase = Phase::Failed(err.clone());
        Err(err)
    }
}
