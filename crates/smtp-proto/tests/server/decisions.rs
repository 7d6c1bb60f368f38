//! Misusing the decision API: an answer without a pending decision, of the wrong reply class,
//! or of the wrong kind is an error and leaves the decision pending.

use mail_testkit::users::{self, Users};
use mail_wire::sasl::Mechanism;
use smtp_proto::server::{Event, ServerError};

use crate::harness::{Decision, Policy, mail, reply};
use crate::{after_ehlo_with, auth_config, auth_step};

#[test]
fn decision_misuse_is_an_error_and_keeps_the_decision() {
    let policy: Policy = Box::new(|event| match event {
        Event::Mail { .. } | Event::AuthStep { .. } => Decision::Hold,
        _ => Decision::Accept,
    });
    let mut h = after_ehlo_with(auth_config(), policy);
    assert!(h.server.wants_input());
    assert_eq!(h.server.accept(), Err(ServerError::NoPendingDecision));
    assert_eq!(
        h.server.reject(reply(550, "No")),
        Err(ServerError::NoPendingDecision)
    );
    h.send("MAIL FROM:<a@c.example>\r\nNOOP\r\n");
    assert_eq!(h.events(), [mail("a@c.example")]);
    assert!(!h.server.wants_input());
    assert_eq!(
        h.server.poll_event(),
        None,
        "the NOOP waits for the decision"
    );
    assert_eq!(
        h.server.reject(reply(250, "OK")),
        Err(ServerError::WrongReplyClass(250))
    );
    assert_eq!(
        h.server.reject(reply(354, "Go on")),
        Err(ServerError::WrongReplyClass(354))
    );
    assert_eq!(
        h.server.accept_with(reply(550, "No")),
        Err(ServerError::WrongReplyClass(550))
    );
    assert_eq!(
        h.server.accept_with(reply(421, "No")),
        Err(ServerError::WrongReplyClass(421))
    );
    assert!(matches!(
        h.server
            .auth_step(&Users::standard(), users::server_nonce()),
        Err(ServerError::WrongDecision(_))
    ));
    h.drive();
    assert_eq!(h.take_out(), "");
    h.server.accept().unwrap();
    h.drive();
    assert_eq!(h.take_out(), "250 2.1.0 Sender ok\r\n250 2.0.0 Ok\r\n");
    assert!(h.server.wants_input());
    // An AuthStep is answered with auth_step, not accept.
    h.send("RSET\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
    assert_eq!(h.events(), [auth_step(Mechanism::Plain)]);
    assert!(matches!(
        h.server.accept(),
        Err(ServerError::WrongDecision(_))
    ));
    assert!(!h.server.wants_input());
    h.server
        .auth_step(&Users::standard(), users::server_nonce())
        .unwrap();
    h.drive();
    assert_eq!(
        h.take_out(),
        "250 2.0.0 Ok\r\n235 2.7.0 Authentication successful\r\n"
    );
}
