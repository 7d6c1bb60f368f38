//! The MAIL and RCPT extensions both sides implement: BINARYMIME, 8BITMIME, SMTPUTF8, DSN,
//! REQUIRETLS and the recipient limit (LIMITS RCPTMAX).

use smtp_proto::client::{self, ClientError, EnvelopeError, TlsPolicy};
use smtp_proto::server::{self, BodyTransfer};
use smtp_proto::{Body, ForwardPath, MailParams, Notify, Orcpt, RcptParams, Ret, Xtext};

use crate::support::{Scenario, envelope, mailbox, run_all};

fn mail_params(run: &crate::support::Run) -> Vec<MailParams<'static>> {
    run.server
        .iter()
        .filter_map(|e| match e {
            server::Event::Mail { params, .. } => Some(params.clone()),
            _ => None,
        })
        .collect()
}

/// BODY=BINARYMIME (RFC 3030 section 3): BDAT only, and the body goes byte for byte, bare
/// CR, bare LF and NUL included.
#[test]
fn binarymime_goes_byte_for_byte() {
    let body: &[u8] = b"\x00\x01binary\nbare LF\rbare CR\r\n.\r\n\xff";
    let mut params = MailParams::default();
    params.body = Some(Body::BinaryMime);
    let scenario = Scenario::relay().message(
        envelope("alice@client.example", &["bob@mx.example"]).with_params(params),
        &[&body[..9], &body[9..]],
    );
    let run = run_all(&scenario, |run| {
        run.assert_quit();
        assert_eq!(run.received(), [(BodyTransfer::Bdat, body.to_vec())]);
    });
    assert_eq!(mail_params(&run)[0].body, Some(Body::BinaryMime));
}

/// BINARYMIME needs CHUNKING: a server without it makes the client refuse the envelope
/// before sending anything.
#[test]
fn binarymime_without_chunking_is_refused_by_the_client() {
    let mut params = MailParams::default();
    params.body = Some(Body::BinaryMime);
    let mut scenario = Scenario::relay().message(
        envelope("alice@client.example", &["bob@mx.example"]).with_params(params),
        &[b"x\r\n"],
    );
    scenario.server.chunking = false;
    let run = run_all(&scenario, |run| {
        run.assert_quit();
        assert!(run.received().is_empty());
    });
    assert_eq!(
        run.refused,
        [ClientError::Envelope(EnvelopeError::NotOffered {
            extension: "BINARYMIME"
        })]
    );
    assert_eq!(run.client_text(), "EHLO client.example\r\nQUIT\r\n");
}

/// 8BITMIME and SMTPUTF8: an 8-bit body and internationalised addresses arrive intact; the
/// client adds SMTPUTF8 by itself.
#[test]
fn eight_bit_body_and_utf8_addresses() {
    let body = "Subject: grüße\r\n\r\nçà et là\r\n".as_bytes();
    let mut params = MailParams::default();
    params.body = Some(Body::EightBitMime);
    let scenario = Scenario::relay().message(
        envelope("jürgen@client.example", &["zoë@mx.example"]).with_params(params),
        &[body],
    );
    for chunking in [true, false] {
        let mut scenario = scenario.clone();
        scenario.client.chunking = chunking;
        let run = run_all(&scenario, |run| {
            run.assert_quit();
            assert_eq!(run.received().len(), 1);
            assert_eq!(run.received()[0].1, body);
        });
        let params = mail_params(&run);
        assert_eq!(params[0].body, Some(Body::EightBitMime));
        assert!(params[0].smtputf8, "{run:#?}");
        assert!(run.server.iter().any(|e| matches!(
            e,
            server::Event::Rcpt { to: ForwardPath::Mailbox(m), .. } if *m == mailbox("zoë@mx.example")
        )));
    }
}

/// SMTPUTF8 not offered: the client refuses a UTF-8 envelope before sending it.
#[test]
fn utf8_addresses_without_smtputf8_are_refused_by_the_client() {
    let mut scenario = Scenario::relay().message(
        envelope("jürgen@client.example", &["bob@mx.example"]),
        &[b"x\r\n"],
    );
    scenario.server.smtputf8 = false;
    let run = run_all(&scenario, |run| run.assert_quit());
    assert_eq!(
        run.refused,
        [ClientError::Envelope(EnvelopeError::NotOffered {
            extension: "SMTPUTF8"
        })]
    );
}

/// DSN (RFC 3461): RET, ENVID, NOTIFY and ORCPT reach the server's application.
#[test]
fn dsn_parameters_reach_the_server() {
    let mut params = MailParams::default();
    params.ret = Some(Ret::Hdrs);
    params.envid = Some(Xtext::encode(b"QQ314159").unwrap());
    let mut rcpt = RcptParams::default();
    rcpt.notify = Notify::on(true, true, false);
    rcpt.orcpt = Some(Orcpt::new("rfc822", Xtext::encode(b"bob@mx.example").unwrap()).unwrap());
    let mut scenario = Scenario::relay().message(
        envelope("alice@client.example", &[])
            .with_params(params.clone())
            .with_recipient_params(
                ForwardPath::Mailbox(mailbox("bob@mx.example")),
                rcpt.clone(),
            ),
        &[b"x\r\n"],
    );
    scenario.server.dsn = true;
    let run = run_all(&scenario, |run| {
        run.assert_quit();
        assert_eq!(run.received().len(), 1);
    });
    assert_eq!(mail_params(&run), [params]);
    assert!(run.server.iter().any(|e| matches!(
        e,
        server::Event::Rcpt { params, .. } if *params == rcpt
    )));

    // Without DSN on the server, the client refuses the envelope.
    scenario.server.dsn = false;
    let run = run_all(&scenario, |run| run.assert_quit());
    assert_eq!(
        run.refused,
        [ClientError::Envelope(EnvelopeError::NotOffered {
            extension: "DSN"
        })]
    );
}

/// REQUIRETLS (RFC 8689): offered only on a TLS session; after STARTTLS it is used.
#[test]
fn requiretls_after_starttls() {
    let mut params = MailParams::default();
    params.requiretls = true;
    let mut scenario = Scenario::relay().message(
        envelope("alice@client.example", &["bob@mx.example"]).with_params(params),
        &[b"x\r\n"],
    );
    scenario.server.requiretls = true;
    scenario.server.starttls = true;
    scenario.client.tls = TlsPolicy::Required;
    let run = run_all(&scenario, |run| {
        run.assert_quit();
        assert_eq!(run.received().len(), 1, "{run:#?}");
    });
    assert!(mail_params(&run)[0].requiretls);
    let offered: Vec<bool> = run
        .client
        .iter()
        .filter_map(|e| match e {
            client::Event::Capabilities(c) => Some(c.requiretls),
            _ => None,
        })
        .collect();
    assert_eq!(
        offered,
        [false, true],
        "REQUIRETLS is offered only over TLS"
    );
}

/// The recipient limit: the server advertises `LIMITS RCPTMAX=2`, the client refuses a
/// larger envelope before sending it and sends one within the limit.
#[test]
fn recipient_limit() {
    let mut scenario = Scenario::relay()
        .message(
            envelope(
                "alice@client.example",
                &["a@mx.example", "b@mx.example", "c@mx.example"],
            ),
            &[b"x\r\n"],
        )
        .message(
            envelope("alice@client.example", &["a@mx.example", "b@mx.example"]),
            &[b"y\r\n"],
        );
    scenario.server.max_recipients = 2;
    let run = run_all(&scenario, |run| {
        run.assert_quit();
        assert_eq!(run.received(), [(BodyTransfer::Bdat, b"y\r\n".to_vec())]);
    });
    assert_eq!(
        run.refused,
        [ClientError::Envelope(EnvelopeError::TooManyRecipients {
            count: 3,
            limit: 2
        })]
    );
}
