//! SASL server sessions against a fixed credential store.
//!
//! Input: the first byte picks the mechanism (low bits) and whether the client responses
//! arrive as base64 lines (high bit, decoded with `sasl::framing`, the first one as an initial
//! response); the rest is split on 0xFF into the client's responses, fed in order to one
//! `ServerSession` with the fixtures' credential store (`sansmail_fuzz::fixtures::Store`).
//!
//! Asserts: no panic; challenges stay within `MAX_MESSAGE_LEN`; an error ends the session and
//! is repeated by every later step; success happens only for the right credentials: the store
//! saw a correct password or token, or (SCRAM, where the store cannot see the proof) the
//! client sent the RFC 7677 transcript, the only one whose proof verifies for this nonce.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mail_wire::sasl::framing::{self, Response};
use mail_wire::sasl::{
    Authenticated, MAX_MESSAGE_LEN, Mechanism, SaslError, ServerSession, ServerStep,
};
use sansmail_fuzz::chunk;
use sansmail_fuzz::fixtures::{
    RFC7677_CLIENT_FINAL, RFC7677_CLIENT_FIRST, Store, TOKEN_OWNER, USER, server_nonce,
};

const MECHANISMS: [Mechanism; 5] = [
    Mechanism::Plain,
    Mechanism::Login,
    Mechanism::XOAuth2,
    Mechanism::OAuthBearer,
    Mechanism::ScramSha256,
];

/// Decodes one step; `None` for a line the application would not pass on (cancel, bad base64).
fn decode(step: &[u8], base64_lines: bool, first: bool) -> Option<Vec<u8>> {
    if !base64_lines {
        return Some(step.to_vec());
    }
    let decoded = if first {
        framing::decode_initial_response(step).map(Response::Data)
    } else {
        framing::decode_response(step)
    };
    match decoded {
        Ok(Response::Data(data)) => Some(data.expose().clone()),
        Ok(Response::Cancel) | Err(_) => None,
    }
}

fn check_success(
    mechanism: Mechanism,
    authenticated: &Authenticated,
    store: &Store,
    responses: &[Vec<u8>],
) {
    assert_eq!(authenticated.mechanism(), mechanism);
    match mechanism {
        Mechanism::ScramSha256 => {
            assert_eq!(authenticated.authcid(), USER);
            assert_eq!(
                responses.len(),
                3,
                "client-first, client-final, empty acknowledgement"
            );
            assert_eq!(responses[0], RFC7677_CLIENT_FIRST);
            assert_eq!(responses[1], RFC7677_CLIENT_FINAL);
            assert!(responses[2].is_empty());
        }
        Mechanism::XOAuth2 | Mechanism::OAuthBearer => {
            assert!(store.correct_secret_seen());
            assert_eq!(authenticated.authcid(), TOKEN_OWNER);
        }
        _ => {
            assert!(store.correct_secret_seen());
            assert_eq!(authenticated.authcid(), USER);
        }
    }
    // The default policy: no authzid, or the user's own.
    assert!(
        authenticated
            .authzid()
            .is_none_or(|authzid| authzid == authenticated.authcid())
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let mechanism = MECHANISMS[usize::from(control & 0x7f) % MECHANISMS.len()];
    let base64_lines = control & 0x80 != 0;
    let store = Store::default();
    let mut server = ServerSession::new(mechanism, server_nonce());
    let mut responses = Vec::new();

    for (index, step) in chunk::at_separators(rest).enumerate() {
        let Some(response) = decode(step, base64_lines, index == 0) else {
            return;
        };
        responses.push(response);
        match server.step(&store, &responses[index]) {
            Ok(ServerStep::Challenge(challenge)) => {
                assert!(challenge.len() <= MAX_MESSAGE_LEN);
                assert!(!server.is_finished());
            }
            Ok(ServerStep::Success(authenticated)) => {
                check_success(mechanism, &authenticated, &store, &responses);
                assert!(server.is_finished());
                assert!(matches!(
                    server.step(&store, b""),
                    Err(SaslError::Misuse(_))
                ));
                return;
            }
            Err(err) => {
                assert!(server.is_finished());
                assert_eq!(server.step(&store, b""), Err(err));
                return;
            }
        }
    }
});
