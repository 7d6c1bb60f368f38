//! SASL: known-answer tests from the RFCs, client<->server pairs for every mechanism (success
//! and failure), hostile-peer cases, and property tests.

use std::cell::RefCell;
use std::collections::HashMap;
use std::num::NonZeroU32;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mail_wire::Secret;
use mail_wire::sasl::framing::{self, Response};
use mail_wire::sasl::{
    Authenticated, Authenticator, ClientSession, MAX_MESSAGE_LEN, Mechanism, Nonce, SaslError,
    ScramClientConfig, ScramCredentials, ScramServerError, ServerSession, ServerStep,
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Fixtures

/// RFC 7677 section 3.
const RFC7677_CLIENT_NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
const RFC7677_SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
const RFC7677_SALT: &str = "W22ZaJ0SNY7soEsUEjb6gQ==";
const RFC7677_CLIENT_FIRST: &str = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
const RFC7677_SERVER_FIRST: &str =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
const RFC7677_CLIENT_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
const RFC7677_SERVER_FINAL: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

const TOKEN: &str = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==";

fn secret(s: &str) -> Secret<String> {
    Secret::new(s.to_owned())
}

fn nonce(s: &str) -> Nonce {
    Nonce::new(s).unwrap()
}

fn server_nonce() -> Nonce {
    nonce(RFC7677_SERVER_NONCE)
}

fn client_nonce() -> Nonce {
    nonce(RFC7677_CLIENT_NONCE)
}

fn pencil_credentials() -> ScramCredentials {
    let salt = STANDARD.decode(RFC7677_SALT).unwrap();
    ScramCredentials::derive(&secret("pencil"), &salt, 4096).unwrap()
}

/// An in-memory credential store. `admin` may act as anyone; everyone else only as themselves.
#[derive(Default)]
struct Store {
    passwords: HashMap<String, String>,
    scram: HashMap<String, ScramCredentials>,
    /// token -> owner
    tokens: HashMap<String, String>,
    /// Identities passed to the store, to check what the sessions asked.
    seen: RefCell<Vec<String>>,
}

impl Store {
    fn rfc() -> Self {
        let mut store = Store::default();
        for (user, password) in [
            ("user", "pencil"),
            ("tim", "tanstaaftanstaaf"),
            ("Kurt", "xipj3plmq"),
        ] {
            store.passwords.insert(user.into(), password.into());
        }
        store.passwords.insert("admin".into(), "root pw".into());
        store.scram.insert("user".into(), pencil_credentials());
        store.tokens.insert(TOKEN.into(), "user@example.com".into());
        store.tokens.insert(
            "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg".into(),
            "someuser@example.com".into(),
        );
        store
    }
}

impl Authenticator for Store {
    fn verify_password(&self, authcid: &str, password: &Secret<String>) -> bool {
        self.seen.borrow_mut().push(authcid.to_owned());
        self.passwords
            .get(authcid)
            .is_some_and(|stored| password.ct_eq(stored.as_bytes()))
    }

    fn scram_credentials(&self, authcid: &str) -> Option<ScramCredentials> {
        self.seen.borrow_mut().push(authcid.to_owned());
        self.scram.get(authcid).cloned()
    }

    fn verify_bearer_token(&self, user: Option<&str>, token: &Secret<String>) -> Option<String> {
        self.seen
            .borrow_mut()
            .push(user.unwrap_or("<none>").to_owned());
        self.tokens.get(token.expose().as_str()).cloned()
    }

    fn authorize(&self, authcid: &str, authzid: Option<&str>) -> bool {
        authcid == "admin" || authzid.is_none_or(|authzid| authzid == authcid)
    }
}

// ---------------------------------------------------------------------------------------------
// A driver that carries messages between the two sessions as protocol lines.

/// Which side failed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    /// The server session returned an error.
    Server(SaslError),
    /// The client session returned an error (and cancelled with `*` if the server waited).
    Client(SaslError),
}

/// Where a message is going, and its index in that direction (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hop {
    ToServer(usize),
    ToClient(usize),
}

/// Runs a full exchange through `framing`, letting `tamper` edit each decoded message in
/// flight.
fn drive_with(
    client: &mut ClientSession,
    server: &mut ServerSession,
    store: &dyn Authenticator,
    initial_response: bool,
    tamper: &mut dyn FnMut(Hop, &mut Vec<u8>),
) -> Result<Authenticated, Failure> {
    let mut to_server = 0;
    let mut to_client = 0;
    let first = if initial_response {
        client.initial_response().map_err(Failure::Client)?
    } else {
        None
    };
    let mut response: Vec<u8> = match first {
        Some(initial) => {
            let argument = framing::encode_initial_response(initial.expose());
            framing::decode_initial_response(argument.expose().as_bytes())
                .unwrap()
                .expose()
                .clone()
        }
        None => {
            let challenge = server.mechanism().initial_challenge().to_vec();
            client_turn(client, challenge, &mut to_client, tamper)?
        }
    };
    loop {
        tamper(Hop::ToServer(to_server), &mut response);
        to_server += 1;
        match server.step(store, &response).map_err(Failure::Server)? {
            ServerStep::Challenge(challenge) => {
                response = client_turn(client, challenge, &mut to_client, tamper)?
            }
            ServerStep::Success(authenticated) => {
                client.finish(None).map_err(Failure::Client)?;
                return Ok(authenticated);
            }
        }
    }
}

fn client_turn(
    client: &mut ClientSession,
    mut challenge: Vec<u8>,
    to_client: &mut usize,
    tamper: &mut dyn FnMut(Hop, &mut Vec<u8>),
) -> Result<Vec<u8>, Failure> {
    tamper(Hop::ToClient(*to_client), &mut challenge);
    *to_client += 1;
    let line = framing::encode_challenge(&challenge);
    let decoded = framing::decode_challenge(line.as_bytes()).unwrap();
    match client.step(&decoded) {
        Ok(response) => {
            let line = framing::encode_response(response.expose());
            match framing::decode_response(line.expose().as_bytes()).unwrap() {
                Response::Data(data) => Ok(data.expose().clone()),
                Response::Cancel => unreachable!("an encoded response is never the cancel line"),
            }
        }
        Err(err) => {
            assert_eq!(
                framing::decode_response(framing::CANCEL),
                Ok(Response::Cancel)
            );
            Err(Failure::Client(err))
        }
    }
}

fn drive(
    client: &mut ClientSession,
    mechanism: Mechanism,
    store: &Store,
    initial_response: bool,
) -> Result<Authenticated, Failure> {
    let mut server = ServerSession::new(mechanism, server_nonce());
    drive_with(client, &mut server, store, initial_response, &mut |_, _| {})
}

fn scram_client(authzid: Option<&str>, user: &str, password: &str) -> ClientSession {
    ClientSession::scram_sha256(
        authzid,
        user,
        secret(password),
        client_nonce(),
        ScramClientConfig::default(),
    )
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Known-answer tests

#[test]
fn rfc7677_scram_sha256_client_reproduces_the_example() {
    let mut client = scram_client(None, "user", "pencil");
    let first = client.initial_response().unwrap().unwrap();
    assert_eq!(first.expose().as_slice(), RFC7677_CLIENT_FIRST.as_bytes());
    let client_final = client.step(RFC7677_SERVER_FIRST.as_bytes()).unwrap();
    assert_eq!(
        client_final.expose().as_slice(),
        RFC7677_CLIENT_FINAL.as_bytes()
    );
    let ack = client.step(RFC7677_SERVER_FINAL.as_bytes()).unwrap();
    assert!(ack.expose().is_empty());
    assert_eq!(client.finish(None), Ok(()));
}

#[test]
fn rfc7677_scram_sha256_server_reproduces_the_example() {
    let store = Store::rfc();
    let mut server = ServerSession::new(Mechanism::ScramSha256, server_nonce());
    assert_eq!(
        server.step(&store, RFC7677_CLIENT_FIRST.as_bytes()),
        Ok(ServerStep::Challenge(RFC7677_SERVER_FIRST.into()))
    );
    assert_eq!(
        server.step(&store, RFC7677_CLIENT_FINAL.as_bytes()),
        Ok(ServerStep::Challenge(RFC7677_SERVER_FINAL.into()))
    );
    let Ok(ServerStep::Success(authenticated)) = server.step(&store, b"") else {
        panic!("the empty response to the server signature completes the exchange");
    };
    assert_eq!(authenticated.authcid(), "user");
    assert_eq!(authenticated.authzid(), None);
    assert!(server.is_finished());
}

#[test]
fn rfc7677_server_final_as_success_data_is_verified_by_finish() {
    let mut client = scram_client(None, "user", "pencil");
    client.initial_response().unwrap();
    client.step(RFC7677_SERVER_FIRST.as_bytes()).unwrap();
    assert_eq!(client.finish(Some(RFC7677_SERVER_FINAL.as_bytes())), Ok(()));

    let mut client = scram_client(None, "user", "pencil");
    client.initial_response().unwrap();
    client.step(RFC7677_SERVER_FIRST.as_bytes()).unwrap();
    let forged = format!("v={}", STANDARD.encode([0u8; 32]));
    assert_eq!(
        client.finish(Some(forged.as_bytes())),
        Err(SaslError::ServerSignatureMismatch)
    );
}

/// RFC 4616 section 2: authcid and passwd of up to 255 octets each MUST be accepted, by the
/// server and by the client.
#[test]
fn plain_accepts_255_octet_identities_and_passwords() {
    let user = "u".repeat(255);
    let password = "p".repeat(255);
    let mut store = Store::default();
    store.passwords.insert(user.clone(), password.clone());
    // Client side: the initial response carries both whole.
    let mut client = ClientSession::plain(None, &user, secret(&password)).unwrap();
    let response = client
        .initial_response()
        .unwrap()
        .expect("PLAIN speaks first");
    assert_eq!(response.expose().len(), 2 + 255 + 255);
    // Server side: they verify.
    let mut server = ServerSession::new(Mechanism::Plain, server_nonce());
    let Ok(ServerStep::Success(authenticated)) = server.step(&store, response.expose()) else {
        panic!("255-octet credentials are accepted");
    };
    assert_eq!(authenticated.authcid(), user);
}

#[test]
fn rfc4616_plain_examples() {
    let store = Store::rfc();
    // "\0tim\0tanstaaftanstaaf" and "Ursel\0Kurt\0xipj3plmq" (RFC 4616 section 4).
    let mut server = ServerSession::new(Mechanism::Plain, server_nonce());
    let Ok(ServerStep::Success(tim)) = server.step(&store, b"\0tim\0tanstaaftanstaaf") else {
        panic!("tim authenticates");
    };
    assert_eq!(
        (tim.authcid(), tim.authzid(), tim.identity()),
        ("tim", None, "tim")
    );

    // Kurt may not act as Ursel under this store's policy...
    let mut server = ServerSession::new(Mechanism::Plain, server_nonce());
    assert_eq!(
        server.step(&store, b"Ursel\0Kurt\0xipj3plmq"),
        Err(SaslError::AuthorizationDenied)
    );
    // ...but a policy that allows it yields both identities.
    struct Permissive(Store);
    impl Authenticator for Permissive {
        fn verify_password(&self, authcid: &str, password: &Secret<String>) -> bool {
            self.0.verify_password(authcid, password)
        }
        fn authorize(&self, _: &str, _: Option<&str>) -> bool {
            true
        }
    }
    let mut server = ServerSession::new(Mechanism::Plain, server_nonce());
    let Ok(ServerStep::Success(kurt)) =
        server.step(&Permissive(Store::rfc()), b"Ursel\0Kurt\0xipj3plmq")
    else {
        panic!("Kurt authenticates as Ursel");
    };
    assert_eq!(
        (kurt.authcid(), kurt.authzid(), kurt.identity()),
        ("Kurt", Some("Ursel"), "Ursel")
    );

    let mut client = ClientSession::plain(Some("Ursel"), "Kurt", secret("xipj3plmq")).unwrap();
    assert_eq!(
        client
            .initial_response()
            .unwrap()
            .unwrap()
            .expose()
            .as_slice(),
        b"Ursel\0Kurt\0xipj3plmq"
    );
}

#[test]
fn rfc4954_plain_initial_response_and_empty_forms() {
    // RFC 4954 section 4 example: "AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=".
    let mut store = Store::default();
    store.passwords.insert("test".into(), "1234".into());
    let response = framing::decode_initial_response(b"dGVzdAB0ZXN0ADEyMzQ=").unwrap();
    let mut server = ServerSession::new(Mechanism::Plain, server_nonce());
    let Ok(ServerStep::Success(test)) = server.step(&store, response.expose()) else {
        panic!("the RFC 4954 example authenticates");
    };
    assert_eq!((test.authcid(), test.authzid()), ("test", Some("test")));

    // "AUTH PLAIN =": an empty initial response is a malformed PLAIN message.
    let empty = framing::decode_initial_response(b"=").unwrap();
    let mut server = ServerSession::new(Mechanism::Plain, server_nonce());
    assert!(matches!(
        server.step(&store, empty.expose()),
        Err(SaslError::Malformed { .. })
    ));
}

#[test]
fn rfc7628_oauthbearer_example() {
    // RFC 7628 section 4.1, as sent on the wire.
    let line: &[u8] = b"bixhPXVzZXJAZXhhbXBsZS5jb20sAWhv\
        c3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRm\
        dDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB";
    let store = Store::rfc();
    let response = framing::decode_initial_response(line).unwrap();
    let mut server = ServerSession::new(Mechanism::OAuthBearer, server_nonce());
    let Ok(ServerStep::Success(user)) = server.step(&store, response.expose()) else {
        panic!("the RFC 7628 example authenticates");
    };
    assert_eq!(
        (user.authcid(), user.authzid()),
        ("user@example.com", Some("user@example.com"))
    );

    let mut client = ClientSession::oauthbearer(
        Some("user@example.com"),
        Some("server.example.com"),
        Some(143),
        secret(TOKEN),
    )
    .unwrap();
    let initial = client.initial_response().unwrap().unwrap();
    assert_eq!(
        framing::encode_initial_response(initial.expose())
            .expose()
            .as_bytes(),
        line
    );
}

#[test]
fn xoauth2_google_documentation_example() {
    // Google's "OAuth 2.0 Mechanism" page: the base64 initial client response.
    let line: &[u8] = b"dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRm\
        dDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==";
    let mut client = ClientSession::xoauth2(
        "someuser@example.com",
        secret("ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"),
    )
    .unwrap();
    let initial = client.initial_response().unwrap().unwrap();
    assert_eq!(
        framing::encode_initial_response(initial.expose())
            .expose()
            .as_bytes(),
        line
    );

    let store = Store::rfc();
    let mut server = ServerSession::new(Mechanism::XOAuth2, server_nonce());
    let response = framing::decode_initial_response(line).unwrap();
    let Ok(ServerStep::Success(user)) = server.step(&store, response.expose()) else {
        panic!("the Google example authenticates");
    };
    assert_eq!(user.identity(), "someuser@example.com");
}

// ---------------------------------------------------------------------------------------------
// Client <-> server pairs: success

#[test]
fn every_mechanism_succeeds_with_and_without_initial_response() {
    let store = Store::rfc();
    let clients = || -> Vec<ClientSession> {
        vec![
            ClientSession::plain(None, "user", secret("pencil")).unwrap(),
            ClientSession::login("user", secret("pencil")).unwrap(),
            ClientSession::xoauth2("user@example.com", secret(TOKEN)).unwrap(),
            ClientSession::oauthbearer(Some("user@example.com"), None, None, secret(TOKEN))
                .unwrap(),
            ClientSession::oauthbearer(None, Some("imap.example.com"), Some(993), secret(TOKEN))
                .unwrap(),
            scram_client(None, "user", "pencil"),
        ]
    };
    for initial_response in [true, false] {
        for mut client in clients() {
            let mechanism = client.mechanism();
            let outcome = drive(&mut client, mechanism, &store, initial_response);
            let authenticated = outcome
                .unwrap_or_else(|err| panic!("{mechanism} (IR {initial_response}): {err:?}"));
            assert_eq!(authenticated.mechanism(), mechanism);
            let expected = if mechanism.name().contains("OAUTH") {
                "user@example.com"
            } else {
                "user"
            };
            assert_eq!(authenticated.identity(), expected, "{mechanism}");
            assert_eq!(authenticated.authcid(), expected, "{mechanism}");
            // The exchange is over on both sides: further calls are misuse.
            assert!(matches!(client.step(b""), Err(SaslError::Misuse(_))));
            assert!(matches!(client.finish(None), Err(SaslError::Misuse(_))));
        }
    }
}

#[test]
fn login_accepts_the_user_name_as_initial_response() {
    let store = Store::rfc();
    let mut server = ServerSession::new(Mechanism::Login, server_nonce());
    assert_eq!(
        server.step(&store, b"user"),
        Ok(ServerStep::Challenge(b"Password:".to_vec()))
    );
    assert!(matches!(
        server.step(&store, b"pencil"),
        Ok(ServerStep::Success(_))
    ));
    // And the client ignores the prompt texts.
    let mut client = ClientSession::login("user", secret("pencil")).unwrap();
    assert_eq!(client.initial_response(), Ok(None));
    assert_eq!(
        client.step(b"User Name\0").unwrap().expose().as_slice(),
        b"user"
    );
    assert_eq!(client.step(b"").unwrap().expose().as_slice(), b"pencil");
}

#[test]
fn authzid_is_exposed_and_authorized() {
    let store = Store::rfc();
    // admin may act as user, with every mechanism that carries an authzid.
    let mut plain = ClientSession::plain(Some("user"), "admin", secret("root pw")).unwrap();
    let outcome = drive(&mut plain, Mechanism::Plain, &store, true).unwrap();
    assert_eq!(
        (outcome.authcid(), outcome.authzid(), outcome.identity()),
        ("admin", Some("user"), "user")
    );

    let mut store_with_admin = Store::rfc();
    let admin_salt = [3u8; 16];
    store_with_admin.scram.insert(
        "admin".into(),
        ScramCredentials::derive(&secret("root pw"), &admin_salt, 4096).unwrap(),
    );
    let mut scram = scram_client(Some("us,er=x"), "admin", "root pw");
    let outcome = drive(&mut scram, Mechanism::ScramSha256, &store_with_admin, true).unwrap();
    assert_eq!(
        (outcome.authcid(), outcome.authzid()),
        ("admin", Some("us,er=x"))
    );

    // An authzid equal to the authcid is always allowed by the default policy.
    let mut own = scram_client(Some("user"), "user", "pencil");
    assert!(drive(&mut own, Mechanism::ScramSha256, &store, true).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Client <-> server pairs: failures

#[test]
fn wrong_password_fails_for_every_password_mechanism() {
    let store = Store::rfc();
    for mut client in [
        ClientSession::plain(None, "user", secret("pencil2")).unwrap(),
        ClientSession::login("user", secret("Pencil")).unwrap(),
        scram_client(None, "user", "pencil "),
    ] {
        let mechanism = client.mechanism();
        assert_eq!(
            drive(&mut client, mechanism, &store, true),
            Err(Failure::Server(SaslError::AuthenticationFailed)),
            "{mechanism}"
        );
    }
}

#[test]
fn unknown_user_fails_and_scram_does_not_reveal_it_early() {
    let store = Store::rfc();
    for mut client in [
        ClientSession::plain(None, "nobody", secret("pencil")).unwrap(),
        ClientSession::login("nobody", secret("pencil")).unwrap(),
        scram_client(None, "nobody", "pencil"),
    ] {
        let mechanism = client.mechanism();
        assert_eq!(
            drive(&mut client, mechanism, &store, true),
            Err(Failure::Server(SaslError::AuthenticationFailed)),
            "{mechanism}"
        );
    }
    // The SCRAM server answers an unknown user with a plausible server-first-message.
    let mut server = ServerSession::new(Mechanism::ScramSha256, server_nonce());
    let Ok(ServerStep::Challenge(first)) =
        server.step(&store, b"n,,n=nobody,r=rOprNGfwEbeRWgbNEkqO")
    else {
        panic!("unknown users get a challenge");
    };
    let first = String::from_utf8(first).unwrap();
    assert!(
        first.starts_with("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s="),
        "{first}"
    );
    assert!(first.ends_with(",i=4096"), "{first}");
}

/// A store that answers unknown SCRAM users with `ScramCredentials::decoy`.
struct DecoyStore(Store);

impl Authenticator for DecoyStore {
    fn scram_credentials(&self, authcid: &str) -> Option<ScramCredentials> {
        let secret = Secret::new(b"sixteen+ secret bytes of the srv".to_vec());
        let iterations = pencil_credentials().iterations();
        self.0
            .scram_credentials(authcid)
            .or_else(|| ScramCredentials::decoy(&secret, authcid, iterations).ok())
    }
}

#[test]
fn decoy_credentials_hide_unknown_users() {
    let store = DecoyStore(Store::rfc());
    // The server-first-message of an exchange, without the nonce.
    let salt_and_iterations = |user: &str, server_nonce: &str| {
        let mut server = ServerSession::new(Mechanism::ScramSha256, nonce(server_nonce));
        let client_first = format!("n,,n={user},r=rOprNGfwEbeRWgbNEkqO");
        let Ok(ServerStep::Challenge(first)) = server.step(&store, client_first.as_bytes()) else {
            panic!("every user gets a challenge");
        };
        let first = String::from_utf8(first).unwrap();
        first.split_once(",s=").unwrap().1.to_owned()
    };
    // The same salt in every exchange (whatever the nonce), as a real user's is; a salt per
    // user; the iteration count of the real users.
    let nobody = salt_and_iterations("nobody", "first-server-nonce-0123");
    assert_eq!(
        nobody,
        salt_and_iterations("nobody", "second-server-nonce-456")
    );
    assert_ne!(
        nobody,
        salt_and_iterations("admin2", "first-server-nonce-0123")
    );
    let real = salt_and_iterations("user", "first-server-nonce-0123");
    assert_eq!(
        nobody.split_once(",i=").unwrap().1,
        real.split_once(",i=").unwrap().1
    );
    assert_eq!(nobody.len(), real.len(), "{nobody} {real}");
    // The exchange runs to the proof and fails there.
    let mut client = scram_client(None, "nobody", "pencil");
    let mut server = ServerSession::new(Mechanism::ScramSha256, server_nonce());
    assert_eq!(
        drive_with(&mut client, &mut server, &store, true, &mut |_, _| {}),
        Err(Failure::Server(SaslError::AuthenticationFailed))
    );
    // A short secret is refused.
    let short = Secret::new(b"fifteen bytes!!".to_vec());
    assert!(ScramCredentials::decoy(&short, "x", pencil_credentials().iterations()).is_err());
}

#[test]
fn wrong_token_fails_after_the_error_challenge() {
    let store = Store::rfc();
    for (mut client, ack) in [
        (
            ClientSession::xoauth2("user@example.com", secret("bad-token")).unwrap(),
            &b""[..],
        ),
        (
            ClientSession::oauthbearer(Some("user@example.com"), None, None, secret("bad-token"))
                .unwrap(),
            b"\x01",
        ),
    ] {
        let mechanism = client.mechanism();
        let mut server = ServerSession::new(mechanism, server_nonce());
        let mut seen = Vec::new();
        let outcome = drive_with(&mut client, &mut server, &store, true, &mut |hop, msg| {
            seen.push((hop, msg.clone()));
        });
        assert_eq!(
            outcome,
            Err(Failure::Server(SaslError::AuthenticationFailed)),
            "{mechanism}"
        );
        // C: token, S: JSON error, C: acknowledgement.
        assert_eq!(seen.len(), 3, "{mechanism}");
        assert_eq!(seen[1].0, Hop::ToClient(0));
        assert!(seen[1].1.starts_with(b"{\"status\":"), "{mechanism}");
        assert_eq!(seen[2], (Hop::ToServer(1), ack.to_vec()), "{mechanism}");
        assert_eq!(
            client.server_error(),
            Some(core::str::from_utf8(&seen[1].1).unwrap())
        );
    }
}

#[test]
fn bad_authzid_is_denied() {
    let store = Store::rfc();
    for mut client in [
        ClientSession::plain(Some("admin"), "user", secret("pencil")).unwrap(),
        scram_client(Some("admin"), "user", "pencil"),
    ] {
        let mechanism = client.mechanism();
        assert_eq!(
            drive(&mut client, mechanism, &store, true),
            Err(Failure::Server(SaslError::AuthorizationDenied)),
            "{mechanism}"
        );
    }
    // A valid token for someone else: denied, after the error challenge.
    for mut client in [
        ClientSession::xoauth2("admin", secret(TOKEN)).unwrap(),
        ClientSession::oauthbearer(Some("admin"), None, None, secret(TOKEN)).unwrap(),
    ] {
        let mechanism = client.mechanism();
        assert_eq!(
            drive(&mut client, mechanism, &store, true),
            Err(Failure::Server(SaslError::AuthorizationDenied)),
            "{mechanism}"
        );
    }
}

/// The framing recognises `*`; ending the exchange on it is the protocol driver's job, tested
/// end to end in smtp-proto (`crates/smtp-proto/tests/server/auth.rs`,
/// `auth_cancelled_with_a_star`).
#[test]
fn cancel_line_is_recognised_and_a_bad_challenge_fails_the_client() {
    // C: AUTH LOGIN / S: 334 VXNlcm5hbWU6 / C: * / S: 501
    assert_eq!(framing::decode_response(b"*"), Ok(Response::Cancel));
    let store = Store::rfc();
    let mut server = ServerSession::new(Mechanism::ScramSha256, server_nonce());
    assert!(matches!(
        server.step(&store, RFC7677_CLIENT_FIRST.as_bytes()),
        Ok(ServerStep::Challenge(_))
    ));
    // The application drops the session on Response::Cancel; the client side is cancelled by
    // its own error, as in the driver.
    let mut client = scram_client(None, "user", "pencil");
    client.initial_response().unwrap();
    let hostile_first = "r=someone-else-nonce,s=QQ==,i=4096";
    assert_eq!(
        client.step(hostile_first.as_bytes()),
        Err(SaslError::NonceMismatch)
    );
    assert_eq!(
        framing::decode_response(framing::CANCEL),
        Ok(Response::Cancel)
    );
}

#[test]
fn garbage_base64_is_a_typed_error() {
    for line in [
        &b"dGVzdAB0ZXN0ADEyMzQ"[..],
        b"dGVzdAB0ZXN0ADEyMzQ=x",
        b"%%%%",
        b"dGVz dAB0",
    ] {
        assert!(
            matches!(
                framing::decode_response(line),
                Err(SaslError::InvalidBase64 { .. })
            ),
            "{:?}",
            String::from_utf8_lossy(line)
        );
        assert!(matches!(
            framing::decode_initial_response(line),
            Err(SaslError::InvalidBase64 { .. })
        ));
        assert!(matches!(
            framing::decode_challenge(line),
            Err(SaslError::InvalidBase64 { .. })
        ));
    }
}

#[test]
fn truncated_scram_messages_fail_without_panicking() {
    let store = Store::rfc();
    for len in 0..RFC7677_CLIENT_FIRST.len() {
        let mut server = ServerSession::new(Mechanism::ScramSha256, server_nonce());
        let truncated = &RFC7677_CLIENT_FIRST.as_bytes()[..len];
        match server.step(&store, truncated) {
            // Cutting the nonce short is still a well-formed client-first-message.
            Ok(ServerStep::Challenge(_)) => assert!(len > "n,,n=user,r=".len(), "{len}"),
            other => assert!(other.is_err(), "{len}: {other:?}"),
        }
    }
    for len in 0..RFC7677_CLIENT_FINAL.len() {
        let mut server = ServerSession::new(Mechanism::ScramSha256, server_nonce());
        server
            .step(&store, RFC7677_CLIENT_FIRST.as_bytes())
            .unwrap();
        let truncated = &RFC7677_CLIENT_FINAL.as_bytes()[..len];
        assert!(
            server.step(&store, truncated).is_err(),
            "client-final cut at {len}"
        );
    }
    for len in 0..RFC7677_SERVER_FIRST.len() {
        let mut client = scram_client(None, "user", "pencil");
        client.initial_response().unwrap();
        assert!(
            client
                .step(&RFC7677_SERVER_FIRST.as_bytes()[..len])
                .is_err(),
            "server-first cut at {len}"
        );
    }
    for len in 0..RFC7677_SERVER_FINAL.len() {
        let mut client = scram_client(None, "user", "pencil");
        client.initial_response().unwrap();
        client.step(RFC7677_SERVER_FIRST.as_bytes()).unwrap();
        assert!(
            client
                .step(&RFC7677_SERVER_FINAL.as_bytes()[..len])
                .is_err(),
            "server-final cut at {len}"
        );
    }
}

#[test]
fn wrong_nonce_is_refused_by_both_sides() {
    let store = Store::rfc();
    // Server: the client-final nonce must be the combined nonce.
    let mut server = ServerSession::new(Mechanism::ScramSha256, server_nonce());
    let mut client = scram_client(None, "user", "pencil");
    let outcome = drive_with(&mut client, &mut server, &store, true, &mut |hop, msg| {
        if hop == Hop::ToServer(1) {
            *msg = String::from_utf8(msg.clone())
                .unwrap()
                .replace("hNlF$k0", "hNlF$k1")
                .into_bytes();
        }
    });
    assert_eq!(outcome, Err(Failure::Server(SaslError::NonceMismatch)));

    // Client: the server nonce must extend the client nonce.
    for server_first in [
        "r=XOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=rOprNGfwEbeRWgbNEkq,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    ] {
        let mut client = scram_client(None, "user", "pencil");
        client.initial_response().unwrap();
        assert_eq!(
            client.step(server_first.as_bytes()),
            Err(SaslError::NonceMismatch),
            "{server_first}"
        );
    }
}

#[test]
fn tampered_proof_is_refused() {
    let store = Store::rfc();
    for flip in [0, 5, 31] {
        let mut server = ServerSession::new(Mechanism::ScramSha256, server_nonce());
        let mut client = scram_client(None, "user", "pencil");
        let outcome = drive_with(&mut client, &mut server, &store, true, &mut |hop, msg| {
            if hop == Hop::ToServer(1) {
                let text = String::from_utf8(msg.clone()).unwrap();
                let (head, proof) = text.rsplit_once(",p=").unwrap();
                let mut proof = STANDARD.decode(proof).unwrap();
                proof[flip] ^= 1;
                *msg = format!("{head},p={}", STANDARD.encode(proof)).into_bytes();
            }
        });
        assert_eq!(
            outcome,
            Err(Failure::Server(SaslError::AuthenticationFailed)),
            "byte {flip}"
        );
    }
    // Changing the message under the proof (an extension) invalidates it too.
    let mut server = ServerSession::new(Mechanism::ScramSha256, server_nonce());
    let tampered = RFC7677_CLIENT_FINAL.replace(",p=", ",x=injected,p=");
    server
        .step(&store, RFC7677_CLIENT_FIRST.as_bytes())
        .unwrap();
    assert_eq!(
        server.step(&store, tampered.as_bytes()),
        Err(SaslError::AuthenticationFailed)
    );
}

#[test]
fn channel_binding_header_must_be_repeated() {
    let store = Store::rfc();
    let mut server = ServerSession::new(Mechanism::ScramSha256, server_nonce());
    server
        .step(&store, RFC7677_CLIENT_FIRST.as_bytes())
        .unwrap();
    // "eSws" is base64("y,,"): not the header the client sent.
    let lying = RFC7677_CLIENT_FINAL.replace("c=biws", "c=eSws");
    assert!(matches!(
        server.step(&store, lying.as_bytes()),
        Err(SaslError::Malformed { .. })
    ));
}

#[test]
fn channel_binding_requests_are_refused() {
    let store = Store::rfc();
    let mut server = ServerSession::new(Mechanism::ScramSha256, server_nonce());
    assert_eq!(
        server.step(
            &store,
            b"p=tls-server-end-point,,n=user,r=rOprNGfwEbeRWgbNEkqO"
        ),
        Err(SaslError::ChannelBindingUnsupported)
    );
    // "y" (client supports binding, thinks the server does not) is accepted: it is right.
    let mut server = ServerSession::new(Mechanism::ScramSha256, server_nonce());
    assert!(matches!(
        server.step(&store, b"y,,n=user,r=rOprNGfwEbeRWgbNEkqO"),
        Ok(ServerStep::Challenge(_))
    ));
}

#[test]
fn server_signature_mismatch_is_detected_by_the_client() {
    // A server that holds the right StoredKey but not the right ServerKey (for example one that
    // stole StoredKey) passes the proof check but cannot sign.
    let real = pencil_credentials();
    let impostor = ScramCredentials::new(
        real.salt().to_vec(),
        real.iterations(),
        *real.stored_key().expose(),
        [0x42; 32],
    )
    .unwrap();
    let mut store = Store::rfc();
    store.scram.insert("user".into(), impostor);
    let mut client = scram_client(None, "user", "pencil");
    assert_eq!(
        drive(&mut client, Mechanism::ScramSha256, &store, true),
        Err(Failure::Client(SaslError::ServerSignatureMismatch))
    );

    // The same with the signature changed in flight.
    let store = Store::rfc();
    let mut server = ServerSession::new(Mechanism::ScramSha256, server_nonce());
    let mut client = scram_client(None, "user", "pencil");
    let outcome = drive_with(&mut client, &mut server, &store, true, &mut |hop, msg| {
        if hop == Hop::ToClient(1) {
            *msg = format!("v={}", STANDARD.encode([1u8; 32])).into_bytes();
        }
    });
    assert_eq!(
        outcome,
        Err(Failure::Client(SaslError::ServerSignatureMismatch))
    );
}

#[test]
fn client_requires_the_server_signature_before_success() {
    let mut client = scram_client(None, "user", "pencil");
    client.initial_response().unwrap();
    client.step(RFC7677_SERVER_FIRST.as_bytes()).unwrap();
    // The server says "235" without v=: a server that does not know the keys.
    assert_eq!(client.finish(None), Err(SaslError::MissingServerSignature));
    assert_eq!(client.finish(None), Err(SaslError::MissingServerSignature));
    assert_eq!(client.step(b""), Err(SaslError::MissingServerSignature));
}

#[test]
fn scram_server_errors_are_parsed() {
    for (value, expected) in [
        ("invalid-proof", ScramServerError::InvalidProof),
        ("unknown-user", ScramServerError::UnknownUser),
        ("other-error", ScramServerError::OtherError),
        (
            "vendor-specific",
            ScramServerError::Other("vendor-specific".into()),
        ),
    ] {
        let mut client = scram_client(None, "user", "pencil");
        client.initial_response().unwrap();
        client.step(RFC7677_SERVER_FIRST.as_bytes()).unwrap();
        assert_eq!(
            client.step(format!("e={value}").as_bytes()),
            Err(SaslError::ServerError(expected.clone()))
        );
        assert_eq!(client.finish(None), Err(SaslError::ServerError(expected)));
    }
}

#[test]
fn scram_iteration_count_floor_and_ceiling() {
    let low = RFC7677_SERVER_FIRST.replace("i=4096", "i=4095");
    let mut client = scram_client(None, "user", "pencil");
    client.initial_response().unwrap();
    assert_eq!(
        client.step(low.as_bytes()),
        Err(SaslError::IterationCount {
            count: 4095,
            min: 4096,
            max: 1_000_000
        })
    );

    let mut config = ScramClientConfig::default();
    config.min_iterations = 10_000;
    config.max_iterations = 20_000;
    for (count, ok) in [
        (4096, false),
        (10_000, true),
        (20_001, false),
        (u32::MAX, false),
    ] {
        let server_first = RFC7677_SERVER_FIRST.replace("i=4096", &format!("i={count}"));
        let mut client = ClientSession::scram_sha256(
            None,
            "user",
            secret("pencil"),
            client_nonce(),
            config.clone(),
        )
        .unwrap();
        client.initial_response().unwrap();
        let result = client.step(server_first.as_bytes());
        assert_eq!(result.is_ok(), ok, "{count}: {result:?}");
        if !ok {
            assert!(matches!(result, Err(SaslError::IterationCount { .. })));
        }
    }

    let mut inverted = ScramClientConfig::default();
    inverted.min_iterations = 5000;
    inverted.max_iterations = 4096;
    assert!(
        ClientSession::scram_sha256(None, "user", secret("pencil"), client_nonce(), inverted)
            .is_err()
    );
}

#[test]
fn scram_mandatory_extensions_are_refused() {
    let store = Store::rfc();
    let mut server = ServerSession::new(Mechanism::ScramSha256, server_nonce());
    assert_eq!(
        server.step(&store, b"n,,m=ext,n=user,r=rOprNGfwEbeRWgbNEkqO"),
        Err(SaslError::UnsupportedExtension)
    );
    let mut client = scram_client(None, "user", "pencil");
    client.initial_response().unwrap();
    let with_mext = format!("m=ext,{RFC7677_SERVER_FIRST}");
    assert_eq!(
        client.step(with_mext.as_bytes()),
        Err(SaslError::UnsupportedExtension)
    );
}

#[test]
fn scram_usernames_are_escaped_and_saslprepped() {
    let mut store = Store::default();
    let salt = [5u8; 16];
    store.scram.insert(
        "a,b=c".into(),
        ScramCredentials::derive(&secret("pw"), &salt, 4096).unwrap(),
    );
    let mut client = scram_client(None, "a,b=c", "pw");
    let first = client.initial_response().unwrap().unwrap();
    assert_eq!(
        first.expose().as_slice(),
        b"n,,n=a=2Cb=3Dc,r=rOprNGfwEbeRWgbNEkqO"
    );
    let mut client = scram_client(None, "a,b=c", "pw");
    assert_eq!(
        drive(&mut client, Mechanism::ScramSha256, &store, true)
            .unwrap()
            .authcid(),
        "a,b=c"
    );

    // SASLprep: "I\u{AD}X" (soft hyphen) is the user "IX", on both sides.
    let mut store = Store::default();
    store.scram.insert(
        "IX".into(),
        ScramCredentials::derive(&secret("pw"), &salt, 4096).unwrap(),
    );
    let mut client = scram_client(None, "I\u{ad}X", "p\u{ad}w");
    assert_eq!(
        drive(&mut client, Mechanism::ScramSha256, &store, true)
            .unwrap()
            .authcid(),
        "IX"
    );
    let mut server = ServerSession::new(Mechanism::ScramSha256, server_nonce());
    assert!(
        server
            .step(&store, "n,,n=I\u{ad}X,r=rOprNGfwEbeRWgbNEkqO".as_bytes())
            .is_ok()
    );
    assert_eq!(store.seen.borrow().last().map(String::as_str), Some("IX"));
    // A username SASLprep refuses is malformed.
    let mut server = ServerSession::new(Mechanism::ScramSha256, server_nonce());
    assert!(matches!(
        server.step(&store, b"n,,n=bell\x07,r=rOprNGfwEbeRWgbNEkqO"),
        Err(SaslError::Malformed { .. })
    ));
    assert!(matches!(
        ClientSession::scram_sha256(
            None,
            "bell\u{7}",
            secret("pw"),
            client_nonce(),
            ScramClientConfig::default()
        ),
        Err(SaslError::InvalidCredentials { .. })
    ));
}

#[test]
fn invalid_nonces_are_refused() {
    for bad in [
        "",
        "short",
        "has,a,comma,0123456",
        "has space 0123456789",
        "non\u{e9}ascii0123456789",
    ] {
        assert!(
            matches!(Nonce::new(bad), Err(SaslError::InvalidNonce { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn oversized_messages_are_refused() {
    let store = Store::rfc();
    let huge = vec![b'a'; MAX_MESSAGE_LEN + 1];
    for mechanism in Mechanism::ALL {
        let mut server = ServerSession::new(mechanism, server_nonce());
        let expected = SaslError::TooLong {
            len: MAX_MESSAGE_LEN + 1,
            limit: MAX_MESSAGE_LEN,
        };
        assert_eq!(
            server.step(&store, &huge),
            Err(expected.clone()),
            "{mechanism}"
        );
        assert_eq!(
            server.step(&store, b""),
            Err(expected),
            "{mechanism}: errors are sticky"
        );
    }
    let mut client = scram_client(None, "user", "pencil");
    client.initial_response().unwrap();
    assert!(matches!(client.step(&huge), Err(SaslError::TooLong { .. })));
}

#[test]
fn sessions_refuse_misuse_without_panicking() {
    let store = Store::rfc();
    let mut server = ServerSession::new(Mechanism::Plain, server_nonce());
    assert!(matches!(
        server.step(&store, b"\0user\0pencil"),
        Ok(ServerStep::Success(_))
    ));
    assert!(matches!(
        server.step(&store, b"\0user\0pencil"),
        Err(SaslError::Misuse(_))
    ));

    let mut server = ServerSession::new(Mechanism::Plain, server_nonce());
    assert_eq!(
        server.step(&store, b"\0user\0wrong"),
        Err(SaslError::AuthenticationFailed)
    );
    // After a failure, the same error, and the store is not consulted again.
    let consulted = store.seen.borrow().len();
    assert_eq!(
        server.step(&store, b"\0user\0pencil"),
        Err(SaslError::AuthenticationFailed)
    );
    assert_eq!(store.seen.borrow().len(), consulted);

    let mut client = ClientSession::plain(None, "user", secret("pencil")).unwrap();
    client.step(b"").unwrap();
    assert!(matches!(
        client.initial_response(),
        Err(SaslError::Misuse(_))
    ));
    assert!(matches!(
        client.step(b"again?"),
        Err(SaslError::Malformed { .. })
    ));
    assert!(matches!(client.step(b""), Err(SaslError::Malformed { .. })));

    let mut client = ClientSession::plain(None, "user", secret("pencil")).unwrap();
    client.initial_response().unwrap();
    assert!(matches!(
        client.finish(Some(b"data")),
        Err(SaslError::Malformed { .. })
    ));
}

#[test]
fn secrets_never_reach_debug_output() {
    let mut client = ClientSession::plain(None, "user", secret("hunter2-pw")).unwrap();
    let response = client.initial_response().unwrap().unwrap();
    let mut scram = scram_client(None, "user", "hunter2-pw");
    scram.initial_response().unwrap();
    scram.step(RFC7677_SERVER_FIRST.as_bytes()).unwrap();
    let bearer = ClientSession::xoauth2("user", secret("hunter2-token")).unwrap();
    let decoded = framing::decode_response(b"AHVzZXIAaHVudGVyMi1wdw==").unwrap();
    let printed = format!(
        "{client:?} {response:?} {scram:?} {bearer:?} {decoded:?} {:?}",
        pencil_credentials()
    );
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(printed.contains("REDACTED"));
}

#[test]
fn mechanism_policy_for_plaintext_connections() {
    // What a server offers before TLS (docs/design.md security rule 3).
    let before_tls: Vec<_> = Mechanism::ALL
        .into_iter()
        .filter(|m| !m.requires_tls())
        .collect();
    assert_eq!(before_tls, [Mechanism::ScramSha256]);
    assert!(Mechanism::Plain.exposes_password() && Mechanism::Login.exposes_password());
    assert_eq!("xoauth2".parse(), Ok(Mechanism::XOAuth2));
    assert_eq!(
        "CRAM-MD5".parse::<Mechanism>(),
        Err(SaslError::UnknownMechanism)
    );
}

#[test]
fn stored_credentials_survive_a_round_trip_through_text() {
    let creds = pencil_credentials();
    let parsed = ScramCredentials::parse_stored(creds.to_stored_string().expose()).unwrap();
    let mut store = Store::default();
    store.scram.insert("user".into(), parsed);
    let mut client = scram_client(None, "user", "pencil");
    assert!(drive(&mut client, Mechanism::ScramSha256, &store, true).is_ok());
    assert_eq!(creds.iterations(), NonZeroU32::new(4096).unwrap());
}

// ---------------------------------------------------------------------------------------------
// Property tests

fn mechanism_strategy() -> impl Strategy<Value = Mechanism> {
    prop::sample::select(Mechanism::ALL.to_vec())
}

/// Steps biased towards the shape of real messages, plus raw noise.
fn step_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        "[a-z=,\\x00\\x01]{0,40}".prop_map(String::into_bytes),
        Just(RFC7677_CLIENT_FIRST.as_bytes().to_vec()),
        Just(RFC7677_CLIENT_FINAL.as_bytes().to_vec()),
        Just(b"\0user\0pencil".to_vec()),
        Just(b"user".to_vec()),
        Just(b"\x01".to_vec()),
        Just(Vec::new()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn server_sessions_never_panic_on_arbitrary_steps(
        mechanism in mechanism_strategy(),
        steps in prop::collection::vec(step_strategy(), 0..6),
    ) {
        let store = Store::rfc();
        let mut server = ServerSession::new(mechanism, server_nonce());
        let mut finished = false;
        for step in &steps {
            let result = server.step(&store, step);
            if finished {
                prop_assert!(result.is_err(), "a finished session must refuse further steps");
            }
            if let Ok(ServerStep::Success(authenticated)) = &result {
                prop_assert_eq!(authenticated.authcid(), "user");
            }
            finished = !matches!(result, Ok(ServerStep::Challenge(_)));
            prop_assert_eq!(server.is_finished(), finished);
        }
    }

    #[test]
    fn framing_never_panics_and_round_trips(line in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(Response::Data(data)) = framing::decode_response(&line) {
            let encoded = framing::encode_response(data.expose());
            prop_assert_eq!(encoded.expose().as_bytes(), &line[..]);
        }
        let _ = framing::decode_initial_response(&line);
        let encoded = framing::encode_challenge(&line);
        prop_assert_eq!(framing::decode_challenge(encoded.as_bytes()), Ok(line.clone()));
    }

    #[test]
    fn clients_never_panic_on_arbitrary_challenges(
        steps in prop::collection::vec(step_strategy(), 0..5),
        finish in prop::option::of(prop::collection::vec(any::<u8>(), 0..48)),
    ) {
        for mut client in [
            ClientSession::plain(None, "user", secret("pencil")).unwrap(),
            ClientSession::login("user", secret("pencil")).unwrap(),
            ClientSession::xoauth2("user", secret(TOKEN)).unwrap(),
            ClientSession::oauthbearer(None, None, None, secret(TOKEN)).unwrap(),
            scram_client(None, "user", "pencil"),
        ] {
            let scram = client.mechanism() == Mechanism::ScramSha256;
            let _ = client.initial_response();
            for step in &steps {
                // A PBKDF2 run per fuzzed server-first would be slow; keep the SCRAM
                // client to messages that fail before it.
                if scram && step.starts_with(b"r=rOprNGfwEbeRWgbNEkqO") {
                    continue;
                }
                let _ = client.step(step);
            }
            let finished = client.finish(finish.as_deref());
            if scram {
                prop_assert!(finished.is_err(), "SCRAM cannot finish without a server signature");
            }
        }
    }
}

/// Identities and secrets that every mechanism can carry.
fn user_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9._@+-]{1,24}",
        "[a-z]{1,8}[,=][a-z]{0,8}",
        "\\PC{1,12}"
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn arbitrary_credentials_round_trip(
        user in user_strategy(),
        password in "\\PC{1,32}",
        token in "[A-Za-z0-9._~+/-]{1,40}={0,2}",
        authzid in prop::option::of(user_strategy()),
        initial_response in any::<bool>(),
        salt in prop::array::uniform16(any::<u8>()),
    ) {
        prop_assume!(!user.contains(['\0', '\x01']) && !password.contains('\0'));
        let mut store = Store::default();
        store.passwords.insert(user.clone(), password.clone());
        store.tokens.insert(token.clone(), user.clone());
        let expected_authzid = authzid.as_deref().filter(|a| !a.is_empty() && !a.contains('\0'));
        let may_act = |authcid: &str| expected_authzid.is_none_or(|a| a == authcid);

        let mut clients = vec![
            ClientSession::plain(expected_authzid, &user, secret(&password)).unwrap(),
            ClientSession::login(&user, secret(&password)).unwrap(),
            ClientSession::xoauth2(&user, secret(&token)).unwrap(),
            ClientSession::oauthbearer(Some(&user), None, None, secret(&token)).unwrap(),
        ];
        // SCRAM: the client and the provisioning apply the same SASLprep, so both accept or
        // both refuse.
        let stored = ScramCredentials::derive(&secret(&password), &salt, 4096);
        let scram = ClientSession::scram_sha256(
            expected_authzid,
            &user,
            secret(&password),
            client_nonce(),
            ScramClientConfig::default(),
        );
        match (stored, scram) {
            (Ok(stored), Ok(client)) => {
                let prepared_user = stringprep::saslprep(&user).unwrap().into_owned();
                store.scram.insert(prepared_user, stored);
                clients.push(client);
            }
            (Err(_), Err(_)) => {}
            (Ok(_), Err(err)) => {
                // Only the username can make the client refuse alone.
                let prepared = stringprep::saslprep(&user);
                prop_assert!(prepared.is_err() || prepared.is_ok_and(|u| u.is_empty()), "{err:?}");
            }
            (Err(err), Ok(_)) => {
                prop_assert!(false, "provisioning refused what the client accepts: {err:?}");
            }
        }

        for mut client in clients {
            let mechanism = client.mechanism();
            let outcome = drive(&mut client, mechanism, &store, initial_response);
            let expected_user = match mechanism {
                Mechanism::ScramSha256 => stringprep::saslprep(&user).unwrap().into_owned(),
                _ => user.clone(),
            };
            let carries_authzid = matches!(mechanism, Mechanism::Plain | Mechanism::ScramSha256);
            if carries_authzid && !may_act(&expected_user) {
                let denied = Err(Failure::Server(SaslError::AuthorizationDenied));
                prop_assert_eq!(outcome, denied, "{}", mechanism);
                continue;
            }
            let authenticated =
                outcome.map_err(|err| TestCaseError::fail(format!("{mechanism}: {err:?}")))?;
            prop_assert_eq!(authenticated.authcid(), expected_user.as_str(), "{}", mechanism);
            if carries_authzid {
                prop_assert_eq!(authenticated.authzid(), expected_authzid, "{}", mechanism);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The identity a failed exchange tried (for logs and per-user rate limits)

/// `ServerSession::user` names the identity every mechanism's client tried, after a failure
/// as after a success, and never the password or token.
#[test]
fn the_server_session_names_the_user_the_client_tried() {
    let store = Store::rfc();
    let wrong_token = "ya29.not-a-token";
    // The mechanism, the client's responses, the user expected, a part of the secret.
    type Case<'a> = (Mechanism, Vec<&'a [u8]>, Option<&'a str>, &'a str);
    let cases: [Case<'_>; 7] = [
        (
            Mechanism::Plain,
            vec![b"\0tim\0wrong-pw"],
            Some("tim"),
            "wrong-pw",
        ),
        (
            Mechanism::Plain,
            vec![b"Ursel\0Kurt\0wrong-pw"],
            Some("Kurt"),
            "wrong-pw",
        ),
        (
            Mechanism::Login,
            vec![b"tim", b"wrong-pw"],
            Some("tim"),
            "wrong-pw",
        ),
        (
            Mechanism::ScramSha256,
            vec![b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO", b"c=biws,r=x,p=AAAA"],
            Some("user"),
            "AAAA",
        ),
        (
            Mechanism::XOAuth2,
            vec![
                format!("user=someuser@example.com\x01auth=Bearer {wrong_token}\x01\x01")
                    .into_bytes()
                    .leak(),
                b"",
            ],
            Some("someuser@example.com"),
            wrong_token,
        ),
        (
            Mechanism::OAuthBearer,
            vec![
                format!("n,a=user@example.com,\x01auth=Bearer {wrong_token}\x01\x01")
                    .into_bytes()
                    .leak(),
                b"\x01",
            ],
            Some("user@example.com"),
            wrong_token,
        ),
        // A malformed first message names nobody.
        (
            Mechanism::Plain,
            vec![b"no separators"],
            None,
            "no separators",
        ),
    ];
    for (mechanism, responses, user, secret_part) in cases {
        let mut server = ServerSession::new(mechanism, server_nonce());
        assert_eq!(server.user(), None);
        let mut failed = false;
        for response in responses {
            if server.step(&store, response).is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed, "{mechanism}: the exchange fails");
        assert_eq!(server.user(), user, "{mechanism}");
        let shown = format!("{:?} {:?}", server.user(), server);
        assert!(!shown.contains(secret_part), "{mechanism}: {shown}");
    }
    // After a success too.
    let mut server = ServerSession::new(Mechanism::Plain, server_nonce());
    assert!(server.step(&store, b"\0tim\0tanstaaftanstaaf").is_ok());
    assert_eq!(server.user(), Some("tim"));
}
