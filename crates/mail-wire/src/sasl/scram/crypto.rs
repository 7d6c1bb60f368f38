//! The SCRAM-SHA-256 key schedule (RFC 5802 section 3, RFC 7677 section 3).
//!
//! ```text
//! SaltedPassword  := Hi(Normalize(password), salt, i)       (PBKDF2-HMAC-SHA-256)
//! ClientKey       := HMAC(SaltedPassword, "Client Key")
//! StoredKey       := H(ClientKey)
//! AuthMessage     := client-first-message-bare + "," + server-first-message + ","
//!                    + client-final-message-without-proof
//! ClientSignature := HMAC(StoredKey, AuthMessage)
//! ClientProof     := ClientKey XOR ClientSignature
//! ServerKey       := HMAC(SaltedPassword, "Server Key")
//! ServerSignature := HMAC(ServerKey, AuthMessage)
//! ```

use core::num::NonZeroU32;

use ring::{digest, hmac, pbkdf2};

use crate::Secret;

/// Output length of SHA-256, and so of every key, proof and signature.
pub(crate) const KEY_LEN: usize = 32;

/// A SHA-256-sized key, proof or signature.
pub(crate) type Key = [u8; KEY_LEN];

/// The keys derived from a password, as a client holds them during an exchange.
#[derive(Debug)]
pub(crate) struct PasswordKeys {
    pub(crate) client_key: Secret<Key>,
    pub(crate) stored_key: Secret<Key>,
    pub(crate) server_key: Secret<Key>,
}

impl PasswordKeys {
    /// Runs `Hi` and derives the three keys. `password` must already be SASLprep-ed.
    pub(crate) fn derive(password: &str, salt: &[u8], iterations: NonZeroU32) -> Self {
        let mut salted = [0u8; KEY_LEN];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            salt,
            password.as_bytes(),
            &mut salted,
        );
        let client_key = hmac_sha256(&salted, b"Client Key");
        PasswordKeys {
            stored_key: Secret::new(sha256(&client_key)),
            client_key: Secret::new(client_key),
            server_key: Secret::new(hmac_sha256(&salted, b"Server Key")),
        }
    }
}

/// `AuthMessage := client-first-message-bare + "," + server-first-message + "," +
/// client-final-message-without-proof`
pub(crate) fn auth_message(
    first_bare: &[u8],
    server_first: &[u8],
    final_without_proof: &[u8],
) -> Vec<u8> {
    [first_bare, server_first, final_without_proof].join(&b","[..])
}

/// `HMAC(key, message)` with SHA-256.
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> Key {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), message);
    to_key(tag.as_ref())
}

/// `H(data)` with SHA-256.
pub(crate) fn sha256(data: &[u8]) -> Key {
    to_key(digest::digest(&digest::SHA256, data).as_ref())
}

/// `ClientKey XOR HMAC(StoredKey, AuthMessage)`: computes a proof from the client key, and
/// recovers the client key from a proof (XOR is its own inverse).
pub(crate) fn xor_client_signature(
    key_or_proof: &Key,
    stored_key: &Key,
    auth_message: &[u8],
) -> Key {
    let signature = hmac_sha256(stored_key, auth_message);
    let mut out = *key_or_proof;
    out.iter_mut().zip(signature).for_each(|(o, s)| *o ^= s);
    out
}

/// Copies a SHA-256 output (always [`KEY_LEN`] bytes) into a [`Key`].
fn to_key(bytes: &[u8]) -> Key {
    let mut key = [0u8; KEY_LEN];
    key.iter_mut().zip(bytes).for_each(|(k, b)| *k = *b);
    key
}
