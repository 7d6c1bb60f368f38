//! SASL (RFC 4422) mechanisms as step machines with no I/O.
//!
//! This module performs no I/O and uses no clock or RNG: the SMTP, IMAP and POP3 crates carry
//! the messages, and the application supplies randomness (SCRAM nonces, salts) and
//! credentials.
//!
//! | mechanism | spec | client | server | safe without TLS |
//! |---|---|---|---|---|
//! | `PLAIN` | RFC 4616 | [`ClientSession::plain`] | [`Authenticator::verify_password`] | no |
//! | `LOGIN` | draft-murchison-sasl-login | [`ClientSession::login`] | [`Authenticator::verify_password`] | no |
//! | `XOAUTH2` | Google / Microsoft | [`ClientSession::xoauth2`] | [`Authenticator::verify_bearer_token`] | no |
//! | `OAUTHBEARER` | RFC 7628 | [`ClientSession::oauthbearer`] | [`Authenticator::verify_bearer_token`] | no |
//! | `SCRAM-SHA-256` | RFC 7677, RFC 5802 | [`ClientSession::scram_sha256`] | [`Authenticator::scram_credentials`] | yes |
//!
//! # Data flow
//!
//! ```text
//!  client app                                                     server app
//!      │ credentials                                                  │ Authenticator
//!  ClientSession ──response──▶ framing ═══ 334/+ lines ═══▶ framing ──▶ ServerSession
//!  ClientSession ◀─challenge── framing ◀══ 334/+ lines ═══ framing ◀── ServerStep::Challenge
//!      │ finish()                                                     │ ServerStep::Success(Authenticated)
//! ```
//!
//! [`framing`] turns messages into the base64 lines of the protocols, including the `*`
//! cancel line and the `=` empty initial response. [`ServerSession`] checks credentials
//! through the application's [`Authenticator`] and ends in an [`Authenticated`] outcome with
//! the authentication and authorization identities. [`ClientSession`] answers challenges and,
//! for SCRAM, verifies that the server knows the user's keys.
//!
//! # Example: a SCRAM-SHA-256 exchange driven in memory
//!
//! ```
//! use mail_wire::Secret;
//! use mail_wire::sasl::framing::{self, Response};
//! use mail_wire::sasl::{
//!     Authenticator, ClientSession, Mechanism, Nonce, ScramClientConfig, ScramCredentials,
//!     ServerSession, ServerStep,
//! };
//!
//! // The server's credential store keeps salted keys, never the password.
//! struct Store(ScramCredentials);
//! impl Authenticator for Store {
//!     fn scram_credentials(&self, authcid: &str) -> Option<ScramCredentials> {
//!         (authcid == "user").then(|| self.0.clone())
//!     }
//! }
//! let salt = b"sixteen byte slt"; // random per user in real code
//! let store = Store(ScramCredentials::derive(&Secret::new("pencil".into()), salt, 4096)?);
//!
//! // Nonces come from the application's RNG.
//! let mut client = ClientSession::scram_sha256(
//!     None,
//!     "user",
//!     Secret::new("pencil".into()),
//!     Nonce::new("rOprNGfwEbeRWgbNEkqO")?,
//!     ScramClientConfig::default(),
//! )?;
//! let server_nonce = Nonce::new("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")?;
//! let mut server = ServerSession::new(Mechanism::ScramSha256, server_nonce);
//!
//! // C: AUTH SCRAM-SHA-256 <initial response>
//! let initial = client.initial_response()?.expect("SCRAM is client-first");
//! let argument = framing::encode_initial_response(initial.expose());
//! let mut response = framing::decode_initial_response(argument.expose().as_bytes())?;
//! let authenticated = loop {
//!     match server.step(&store, response.expose())? {
//!         ServerStep::Challenge(challenge) => {
//!             // S: 334 <challenge>
//!             let line = framing::encode_challenge(&challenge);
//!             let reply = client.step(&framing::decode_challenge(line.as_bytes())?)?;
//!             // C: <response>
//!             let line = framing::encode_response(reply.expose());
//!             response = match framing::decode_response(line.expose().as_bytes())? {
//!                 Response::Data(data) => data,
//!                 Response::Cancel => unreachable!("this client does not cancel"),
//!             };
//!         }
//!         ServerStep::Success(authenticated) => break authenticated,
//!     }
//! };
//! // S: 235 Authentication successful
//! client.finish(None)?; // fails unless the server proved it knows the keys
//! assert_eq!(authenticated.identity(), "user");
//! assert_eq!(authenticated.mechanism(), Mechanism::ScramSha256);
//! # Ok::<(), mail_wire::sasl::SaslError>(())
//! ```
//!
//! # Security
//!
//! - [`Mechanism::exposes_password`] and [`Mechanism::requires_tls`] tell a server which
//!   mechanisms not to offer or accept before TLS.
//! - Passwords, tokens and client responses are held in [`Secret`](crate::Secret), whose
//!   `Debug` output is redacted.
//! - SCRAM proofs and signatures are compared in constant time; the client refuses iteration
//!   counts outside [`ScramClientConfig`] bounds and a server that cannot prove it knows the
//!   user's keys.
//! - Channel binding (`SCRAM-SHA-256-PLUS`, GS2 `p=`) is not supported: this crate never
//!   sees the TLS layer, so it has no binding data. Servers refuse `p=` with
//!   [`SaslError::ChannelBindingUnsupported`].
//!
//! # Limits
//!
//! Every message, in either direction, is at most [`MAX_MESSAGE_LEN`] bytes; a longer one is
//! refused with [`SaslError::TooLong`]. Each mechanism has a fixed number of steps, so an
//! exchange is bounded too.

mod authenticator;
mod bearer;
mod client;
mod error;
pub mod framing;
mod gs2;
mod login;
mod mechanism;
mod oauthbearer;
mod plain;
mod scram;
mod server;
mod xoauth2;

pub use authenticator::{Authenticated, Authenticator};
pub use client::ClientSession;
pub use error::SaslError;
pub use mechanism::Mechanism;
pub use scram::{Nonce, ScramClientConfig, ScramCredentials, ScramServerError};
pub use server::{ServerSession, ServerStep};

/// Largest SASL message, in decoded bytes, that a session or [`framing`] accepts: 16 KiB.
///
/// RFC 4422 sets no limit. The largest messages in practice are OAuth bearer tokens, which
/// identity providers keep within the 8 KiB that common HTTP servers allow for a header; the
/// limit leaves room for those plus identities, while bounding the memory a peer can make a
/// session hold. RFC 4616 only requires 255 octets per PLAIN field.
pub const MAX_MESSAGE_LEN: usize = 16 * 1024;
