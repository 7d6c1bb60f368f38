//! SASL server sessions against a fixed credential store.
//!
//! Input: the first byte picks the mechanism (low bits) and whether the client responses
//! arrive as base64 lines (high bit, decoded with `sasl::framing`, the first one as an initial
//! response); the rest is split on 0xFF into the client's responses, fed in order to one
//! `ServerSession`.
//!
//! Asserts: no panic; challenges stay within `MAX_MESSAGE_LEN`; an error ends the session and
//! is repeated by every later step; success happens only for the right credentials: the store
//! saw a correct password or token, or (SCRAM, where the store cannot see the proof) the
//! client sent the RFC 7677 transcript, the only one whose proof verifies for this nonce.
#![no_main]

use std::cell::Cell;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mail_wire::Secret;
use mail_wire::sasl::framing::{self, Response};
use mail_wire::sasl::{
    Authenticated, Authenticator, MAX_MESSAGE_LEN, Mechanism, Nonce, SaslError, ScramCredentials,
    ServerSession, ServerStep,
};

const MECHANISMS: [Mechanism; 5] = [
    Mechanism::Plain,
    Mechanism::Login,
    Mechanism::XOAuth2,
    Mechanism::OAuthBearer,
    Mechanism::ScramSha256,
];

const SEPARATOR: u8 = 0xff;

const USER: &str = "user";
const PASSWORD: &str = "pencil";
const TOKEN_OWNER: &str = "user@example.com";
const TOKEN: &str = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==";

/// RFC 7677 section 3: "pencil" with salt W22ZaJ0SNY7soEsUEjb6gQ== and 4096 iterations.
const STORED: &str = "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$\
WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
const RFC7677_CLIENT_FIRST: &[u8] = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
const RFC7677_CLIENT_FINAL: &[u8] = b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

fn credentials() -> &'static ScramCredentials {
    static CREDENTIALS: OnceLock<ScramCredentials> = OnceLock::new();
    CREDENTIALS
        .get_or_init(|| ScramCredentials::parse_stored(STORED).expect("valid stored credentials"))
}

/// One user, one password, one token; records whether a correct secret was presented.
#[derive(Default)]
struct Store {
    correct_secret_seen: Cell<bool>,
}

impl Authenticator for Store {
    fn verify_password(&self, authcid: &str, password: &Secret<String>) -> bool {
        let ok = authcid == USER && password.ct_eq(PASSWORD.as_bytes());
        self.correct_secret_seen
            .set(self.correct_secret_seen.get() || ok);
        ok
    }

    fn scram_credentials(&self, authcid: &str) -> Option<ScramCredentials> {
        (authcid == USER).then(|| credentials().clone())
    }

    fn verify_bearer_token(&self, _user: Option<&str>, token: &Secret<String>) -> Option<String> {
        let ok = token.ct_eq(TOKEN.as_bytes());
        self.correct_secret_seen
            .set(self.correct_secret_seen.get() || ok);
        ok.then(|| TOKEN_OWNER.to_owned())
    }
}

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
            assert!(store.correct_secret_seen.get());
            assert_eq!(authenticated.authcid(), TOKEN_OWNER);
        }
        _ => {
            assert!(store.correct_secret_seen.get());
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
    let nonce = Nonce::new(SERVER_NONCE).expect("valid nonce");
    let mut server = ServerSession::new(mechanism, nonce);
    let mut responses = Vec::new();

    for (index, step) in rest.split(|&b| b == SEPARATOR).enumerate() {
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
