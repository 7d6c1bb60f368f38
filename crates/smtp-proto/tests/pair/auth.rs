//! AUTH (RFC 4954) with every SASL mechanism both sides implement, after STARTTLS and over
//! implicit TLS; wrong credentials, a failing user, authorization identities, and the
//! refusal to send credentials in plaintext.

use mail_testkit::users::{self, ADMIN, ADMIN_PASSWORD, FAILING_USER, USER};
use mail_wire::Secret;
use mail_wire::sasl::{Mechanism, SaslError};
use smtp_proto::Host;
use smtp_proto::client::{self, ClientConfig, Credentials, SessionError as ClientSessionError};
use smtp_proto::server::{self, BodyTransfer, ServerConfig};

use crate::support::{
    Run, Scenario, domain, envelope, password_credentials, run_all, submission, token_credentials,
};

const BODY: &[u8] = b"Subject: submitted\r\n\r\nhello\r\n";

fn credentials(mechanism: Mechanism) -> Credentials {
    match mechanism {
        Mechanism::XOAuth2 | Mechanism::OAuthBearer => token_credentials(users::TOKEN),
        _ => password_credentials(users::PASSWORD),
    }
}

fn wrong_credentials(mechanism: Mechanism) -> Credentials {
    match mechanism {
        Mechanism::XOAuth2 | Mechanism::OAuthBearer => token_credentials("ya29.stolen"),
        _ => password_credentials("not the password"),
    }
}

fn authenticated(run: &Run) -> Option<(Mechanism, String, Option<String>)> {
    run.server.iter().find_map(|e| match e {
        server::Event::Authenticated(a) => Some((
            a.mechanism(),
            a.authcid().to_owned(),
            a.authzid().map(str::to_owned),
        )),
        _ => None,
    })
}

fn assert_submitted(run: &Run, mechanism: Mechanism) {
    run.assert_quit();
    assert!(
        run.client
            .contains(&client::Event::Authenticated(mechanism)),
        "{mechanism}: {run:#?}"
    );
    assert_eq!(run.pair.client().authenticated(), Some(mechanism));
    let (used, authcid, _) = authenticated(run).expect("the server authenticated");
    assert_eq!((used, authcid.as_str()), (mechanism, USER));
    assert_eq!(
        run.pair
            .server()
            .authenticated()
            .map(|a| a.identity().to_owned()),
        Some(USER.to_owned())
    );
    assert_eq!(run.received(), [(BodyTransfer::Bdat, BODY.to_vec())]);
}

/// Every mechanism, after STARTTLS on a submission pair.
#[test]
fn every_mechanism_after_starttls() {
    for mechanism in Mechanism::ALL {
        let scenario = submission(mechanism, credentials(mechanism)).message(
            envelope("alice@client.example", &["bob@mx.example"]),
            &[BODY],
        );
        run_all(&scenario, |run| {
            assert_submitted(run, mechanism);
            assert_eq!(run.pair.tls_handshakes(), 1);
        });
    }
}

/// Every mechanism over implicit TLS (port 465): no STARTTLS, AUTH at once.
#[test]
fn every_mechanism_over_implicit_tls() {
    for mechanism in Mechanism::ALL {
        let mut client = ClientConfig::submissions(
            Host::Domain(domain("client.example")),
            credentials(mechanism),
        );
        client.auth_mechanisms = vec![mechanism];
        let mut server = ServerConfig::submissions(domain("mx.example"));
        server.auth_mechanisms = vec![mechanism];
        let scenario = Scenario::new(client, server).message(
            envelope("alice@client.example", &["bob@mx.example"]),
            &[BODY],
        );
        run_all(&scenario, |run| {
            assert_submitted(run, mechanism);
            assert_eq!(run.pair.tls_handshakes(), 0);
            assert!(!run.client_text().contains("STARTTLS"));
        });
    }
}

/// The client picks the first of its mechanisms the server offers: SCRAM-SHA-256 when both
/// have everything.
#[test]
fn mechanism_negotiation_prefers_scram() {
    let mut scenario = submission(Mechanism::Plain, credentials(Mechanism::Plain)).message(
        envelope("alice@client.example", &["bob@mx.example"]),
        &[BODY],
    );
    scenario.client.auth_mechanisms = Mechanism::ALL.to_vec();
    scenario.server.auth_mechanisms =
        vec![Mechanism::Login, Mechanism::Plain, Mechanism::ScramSha256];
    run_all(&scenario, |run| {
        assert_submitted(run, Mechanism::ScramSha256)
    });
}

fn assert_refused(run: &Run, mechanism: Mechanism) {
    let Some(Err(ClientSessionError::AuthFailed {
        mechanism: used,
        reply,
        ..
    })) = run.client_ending()
    else {
        panic!("{mechanism}: AuthFailed expected: {run:#?}");
    };
    assert_eq!(*used, mechanism);
    assert_eq!(reply.code().get(), 535, "{mechanism}: {reply:?}");
    assert!(
        run.server.iter().any(|e| matches!(
            e,
            server::Event::AuthFailed { mechanism: m, .. } if *m == mechanism
        )),
        "{mechanism}: {run:#?}"
    );
    assert!(run.pair.server().authenticated().is_none());
    assert!(run.received().is_empty());
    assert!(
        !run.client_text().contains("MAIL FROM"),
        "no mail without AUTH"
    );
    // The client leaves with QUIT.
    assert_eq!(run.server_ending(), Some(&Ok(())), "{mechanism}: {run:#?}");
    assert!(run.client_text().ends_with("\r\nQUIT\r\n"));
}

/// Wrong credentials with every mechanism: `535`, the client ends the session without
/// sending mail.
#[test]
fn wrong_credentials_with_every_mechanism() {
    for mechanism in Mechanism::ALL {
        let scenario = submission(mechanism, wrong_credentials(mechanism)).message(
            envelope("alice@client.example", &["bob@mx.example"]),
            &[BODY],
        );
        run_all(&scenario, |run| assert_refused(run, mechanism));
    }
}

/// The failing user presents the right secrets and is refused all the same.
#[test]
fn failing_user_is_refused() {
    for mechanism in [Mechanism::Plain, Mechanism::Login, Mechanism::XOAuth2] {
        let credentials = match mechanism {
            Mechanism::XOAuth2 => {
                Credentials::bearer_token(FAILING_USER, Secret::new(users::FAILING_TOKEN.into()))
            }
            _ => Credentials::password(FAILING_USER, Secret::new(users::FAILING_PASSWORD.into())),
        };
        let scenario = submission(mechanism, credentials).message(
            envelope("mallory@client.example", &["bob@mx.example"]),
            &[BODY],
        );
        run_all(&scenario, |run| assert_refused(run, mechanism));
    }
}

/// Authorization identities: the admin may act as alice (PLAIN and SCRAM carry an
/// authzid); alice may not act as the admin.
#[test]
fn authzid_rules() {
    for mechanism in [Mechanism::Plain, Mechanism::ScramSha256] {
        let admin = Credentials::password(ADMIN, Secret::new(ADMIN_PASSWORD.into()))
            .with_scram_nonce(users::client_nonce())
            .with_authzid(USER);
        let scenario = submission(mechanism, admin).message(
            envelope("alice@client.example", &["bob@mx.example"]),
            &[BODY],
        );
        run_all(&scenario, |run| {
            run.assert_quit();
            assert_eq!(
                authenticated(run),
                Some((mechanism, ADMIN.to_owned(), Some(USER.to_owned())))
            );
            assert_eq!(
                run.pair
                    .server()
                    .authenticated()
                    .map(|a| a.identity().to_owned()),
                Some(USER.to_owned())
            );
        });

        let alice = password_credentials(users::PASSWORD).with_authzid(ADMIN);
        let scenario = submission(mechanism, alice).message(
            envelope("alice@client.example", &["bob@mx.example"]),
            &[BODY],
        );
        run_all(&scenario, |run| {
            assert!(
                run.server.iter().any(|e| matches!(
                    e,
                    server::Event::AuthFailed {
                        error: SaslError::AuthorizationDenied,
                        ..
                    }
                )),
                "{mechanism}: {run:#?}"
            );
            assert!(matches!(
                run.client_ending(),
                Some(Err(ClientSessionError::AuthFailed { .. }))
            ));
            assert!(run.received().is_empty());
        });
    }
}

/// A server that offers AUTH without TLS (allow_plaintext_auth) and a client that does not
/// allow it: the client sends no credentials and ends the session.
#[test]
fn no_credentials_in_plaintext() {
    let mut client = crate::support::client_config();
    client.credentials = Some(password_credentials(users::PASSWORD));
    let mut server = crate::support::server_config();
    server.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
    server.allow_plaintext_auth = true;
    let scenario = Scenario::new(client, server).message(
        envelope("alice@client.example", &["bob@mx.example"]),
        &[BODY],
    );
    run_all(&scenario, |run| {
        assert_eq!(
            run.client_ending(),
            Some(&Err(ClientSessionError::AuthRequiresTls))
        );
        assert!(!run.client_text().contains("AUTH"), "{}", run.client_text());
        assert!(run.received().is_empty());
        assert_eq!(run.client_text(), "EHLO client.example\r\nQUIT\r\n");
        assert_eq!(run.server_ending(), Some(&Ok(())));
    });
}

/// A bearer token too long for the 512-octet AUTH line: the client sends `AUTH XOAUTH2`
/// alone and the token after the server's empty challenge (RFC 4954 section 4); the server
/// takes the long response line.
#[test]
fn long_token_waits_for_the_empty_challenge() {
    let token = format!("ya29.{}", "t".repeat(3000));
    for mechanism in [Mechanism::XOAuth2, Mechanism::OAuthBearer] {
        let mut scenario = submission(mechanism, token_credentials(&token)).message(
            envelope("alice@client.example", &["bob@mx.example"]),
            &[BODY],
        );
        scenario.users = std::rc::Rc::new(users::Users::standard().with_token(&token, USER));
        run_all(&scenario, |run| {
            assert_submitted(run, mechanism);
            let text = run.client_text();
            assert!(text.contains(&format!("AUTH {mechanism}\r\n")), "{text}");
        });
        assert!(scenario.users.asked().iter().all(|user| user == USER));
    }
}

/// SCRAM: a server whose iteration count is below the client's floor is refused by the
/// client (a server, or a man in the middle, that lowers the count weakens the stored keys
/// an eavesdropper can attack), which cancels the exchange; no mail is sent.
#[test]
fn scram_iteration_count_below_the_client_floor() {
    let mut scenario = submission(Mechanism::ScramSha256, credentials(Mechanism::ScramSha256))
        .message(
            envelope("alice@client.example", &["bob@mx.example"]),
            &[BODY],
        );
    scenario.client.scram.min_iterations = users::ITERATIONS + 1;
    run_all(&scenario, |run| {
        assert_eq!(
            run.client_ending(),
            Some(&Err(ClientSessionError::Sasl(SaslError::IterationCount {
                count: users::ITERATIONS,
                min: users::ITERATIONS + 1,
                max: 1_000_000,
            })))
        );
        assert!(run.server.contains(&server::Event::AuthFailed {
            mechanism: Mechanism::ScramSha256,
            error: SaslError::Cancelled,
            user: Some(users::USER.to_owned()),
        }));
        assert!(
            run.client_text().ends_with("\r\n*\r\nQUIT\r\n"),
            "{}",
            run.client_text()
        );
        assert_eq!(run.server_ending(), Some(&Ok(())));
        assert!(run.received().is_empty());
    });
}
