//! [`ServerSession`]: the server side of one exchange, for any mechanism.

use super::bearer::BearerServer;
use super::login::LoginServer;
use super::scram::ScramServer;
use super::{Authenticated, Authenticator, MAX_MESSAGE_LEN, Mechanism, Nonce, SaslError, plain};
use crate::Secret;

/// What the server does after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerStep {
    /// Send this challenge (base64 with
    /// [`framing::encode_challenge`](super::framing::encode_challenge), after `334 ` or `+ `)
    /// and feed the client's next response to [`ServerSession::step`].
    Challenge(Vec<u8>),
    /// The client is authenticated and authorized; send the protocol's success reply.
    Success(Authenticated),
}

/// The server side of one SASL exchange.
///
/// Create one per `AUTH` / `AUTHENTICATE` command. If the command carried an initial
/// response, feed it to [`step`](Self::step) (decoded with
/// [`framing::decode_initial_response`](super::framing::decode_initial_response)); otherwise
/// send [`Mechanism::initial_challenge`] first. Then feed each decoded client response to
/// `step` until it returns [`ServerStep::Success`] or an error. A client's `*` line
/// ([`framing::Response::Cancel`](super::framing::Response::Cancel)) ends the exchange: drop
/// the session.
///
/// Additional data with success (the SCRAM server signature) is always sent as a last
/// challenge, which the client answers with an empty response (RFC 4422 section 3.6), the form
/// every protocol can carry. [`ClientSession::finish`](super::ClientSession::finish) also
/// accepts it with the success reply, for servers that send it there.
///
/// Any error is final: later calls return the same error. After success, later calls return
/// [`SaslError::Misuse`].
#[derive(Debug)]
pub struct ServerSession {
    mechanism: Mechanism,
    state: State,
    /// The identity the client tried, once a response named one (see [`ServerSession::user`]).
    user: Option<String>,
}

#[derive(Debug)]
enum State {
    Running(Inner),
    Succeeded,
    Failed(SaslError),
}

#[derive(Debug)]
enum Inner {
    Plain,
    Login(LoginServer),
    Bearer(BearerServer),
    Scram(ScramServer),
}

impl ServerSession {
    /// Starts an exchange with `mechanism`.
    ///
    /// `nonce` is the server's random part of a SCRAM nonce; it must be fresh for every
    /// session and is ignored by the other mechanisms.
    pub fn new(mechanism: Mechanism, nonce: Nonce) -> Self {
        let inner = match mechanism {
            Mechanism::Plain => Inner::Plain,
            Mechanism::Login => Inner::Login(LoginServer::default()),
            Mechanism::XOAuth2 | Mechanism::OAuthBearer => {
                Inner::Bearer(BearerServer::new(mechanism))
            }
            Mechanism::ScramSha256 => Inner::Scram(ScramServer::new(nonce)),
        };
        ServerSession {
            mechanism,
            state: State::Running(inner),
            user: None,
        }
    }

    /// The mechanism of this exchange.
    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// The identity the client tried to authenticate as, once one of its responses named it,
    /// whether the exchange then succeeded or failed: the `PLAIN` authcid, the `LOGIN` user
    /// name, the SCRAM `n=` user name (as sent, before SASLprep), the `XOAUTH2` `user=` or the
    /// `OAUTHBEARER` authzid. `None` while the client has named nobody (a malformed first
    /// response, an `OAUTHBEARER` message without an authzid).
    ///
    /// Never a password or a token. The name is the client's, unchecked: escape it before
    /// writing it to a log.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// Whether the exchange has ended, in success or failure.
    pub fn is_finished(&self) -> bool {
        !matches!(self.state, State::Running(_))
    }

    /// Feeds the client's next response (decoded from base64), checking credentials with
    /// `auth`.
    ///
    /// # Errors
    ///
    /// Any [`SaslError`] the peer can cause: [`SaslError::TooLong`] for a response over
    /// [`MAX_MESSAGE_LEN`], [`SaslError::Malformed`], [`SaslError::AuthenticationFailed`],
    /// [`SaslError::AuthorizationDenied`] and the SCRAM-specific variants. The exchange is
    /// then over. [`SaslError::Misuse`] after success.
    pub fn step<A: Authenticator + ?Sized>(
        &mut self,
        auth: &A,
        response: &[u8],
    ) -> Result<ServerStep, SaslError> {
        let inner = match &mut self.state {
            State::Running(inner) => inner,
            State::Succeeded => return Err(SaslError::Misuse("the exchange has finished")),
            State::Failed(err) => return Err(err.clone()),
        };
        let result = if response.len() > MAX_MESSAGE_LEN {
            Err(SaslError::TooLong {
                len: response.len(),
                limit: MAX_MESSAGE_LEN,
            })
        } else {
            match inner {
                Inner::Plain => plain::server_step(auth, response, &mut self.user),
                Inner::Login(login) => login.step(auth, response, &mut self.user),
                Inner::Bearer(bearer) => bearer.step(auth, response, &mut self.user),
                Inner::Scram(scram) => scram.step(auth, response, &mut self.user),
            }
        };
        match &result {
            Ok(ServerStep::Challenge(_)) => {}
            Ok(ServerStep::Success(_)) => self.state = State::Succeeded,
            Err(err) => self.state = State::Failed(err.clone()),
        }
        result
    }
}

/// The end of `PLAIN` and `LOGIN`: verify the password, then authorize.
pub(crate) fn check_password<A: Authenticator + ?Sized>(
    mechanism: Mechanism,
    auth: &A,
    authcid: String,
    authzid: Option<String>,
    password: &Secret<String>,
) -> Result<ServerStep, SaslError> {
    if !auth.verify_password(&authcid, password) {
        return Err(SaslError::AuthenticationFailed);
    }
    Authenticated::authorize(mechanism, auth, authcid, authzid).map(ServerStep::Success)
}
