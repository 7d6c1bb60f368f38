//! Envelopes: SIZE, SMTPUTF8, and parameters that need extensions the server did not offer.

use smtp_proto::client::{ClientError, EnvelopeError};
use smtp_proto::{Body, ForwardPath, MailParams, Notify, RcptParams};

use crate::harness::{envelope, mailbox};
use crate::ready;

#[test]
fn size_over_the_servers_limit_is_refused_before_sending() {
    let mut session = ready("250-mx.example\r\n250 SIZE 1000\r\n");
    let now = session.now;
    let big = envelope("a@client.example", &["b@mx.example"]).with_size(5000);
    assert_eq!(
        session.client.send_message(now, big),
        Err(ClientError::Envelope(EnvelopeError::TooLarge {
            size: 5000,
            limit: 1000
        }))
    );
    assert!(session.output().is_empty());
    assert!(session.client.is_ready());
    let small = envelope("a@client.example", &["b@mx.example"]).with_size(1000);
    session.client.send_message(now, small).unwrap();
    assert_eq!(
        session.output(),
        b"MAIL FROM:<a@client.example> SIZE=1000\r\n"
    );
}

#[test]
fn size_is_only_sent_when_offered() {
    let mut session = ready("250 mx.example\r\n");
    let now = session.now;
    let sized = envelope("a@client.example", &["b@mx.example"]).with_size(5000);
    session.client.send_message(now, sized).unwrap();
    assert_eq!(session.output(), b"MAIL FROM:<a@client.example>\r\n");

    // SIZE without a number (or SIZE 0) means no fixed limit.
    let mut session = ready("250-mx.example\r\n250 SIZE\r\n");
    let sized = envelope("a@client.example", &["b@mx.example"]).with_size(u64::MAX);
    session.client.send_message(now, sized).unwrap();
}

#[test]
fn utf8_addresses_need_smtputf8() {
    let international = envelope("jöran@client.example", &["b@mx.example"]);
    let mut session = ready("250 mx.example\r\n");
    let now = session.now;
    assert_eq!(
        session.client.send_message(now, international.clone()),
        Err(ClientError::Envelope(EnvelopeError::NotOffered {
            extension: "SMTPUTF8"
        }))
    );
    let mut session = ready("250-mx.example\r\n250 SMTPUTF8\r\n");
    session.client.send_message(now, international).unwrap();
    assert_eq!(
        String::from_utf8(session.output()).unwrap(),
        "MAIL FROM:<jöran@client.example> SMTPUTF8\r\n"
    );
}

#[test]
fn envelope_parameters_need_their_extensions() {
    let mut session = ready("250-mx.example\r\n250-PIPELINING\r\n250 LIMITS RCPTMAX=2\r\n");
    let now = session.now;
    let cases: Vec<(smtp_proto::client::Envelope, EnvelopeError)> = vec![
        (
            envelope("a@client.example", &[]),
            EnvelopeError::NoRecipients,
        ),
        (
            envelope(
                "a@client.example",
                &["b@mx.example", "c@mx.example", "d@mx.example"],
            ),
            EnvelopeError::TooManyRecipients { count: 3, limit: 2 },
        ),
        (
            envelope("a@client.example", &["b@mx.example"]).with_params({
                let mut p = MailParams::default();
                p.body = Some(Body::BinaryMime);
                p
            }),
            EnvelopeError::NotOffered {
                extension: "BINARYMIME",
            },
        ),
        (
            envelope("a@client.example", &[]).with_recipient_params(
                ForwardPath::Mailbox(mailbox("b@mx.example")),
                {
                    let mut p = RcptParams::default();
                    p.notify = Notify::on(false, true, false);
                    p
                },
            ),
            EnvelopeError::NotOffered { extension: "DSN" },
        ),
        (
            envelope("a@client.example", &["b@mx.example"]).with_params({
                let mut p = MailParams::default();
                p.requiretls = true;
                p
            }),
            EnvelopeError::NotOffered {
                extension: "REQUIRETLS",
            },
        ),
    ];
    for (env, error) in cases {
        assert_eq!(
            session.client.send_message(now, env),
            Err(ClientError::Envelope(error))
        );
    }
    assert!(session.output().is_empty());

    // BINARYMIME without CHUNKING is refused too (RFC 3030 section 3).
    let mut session = ready("250-mx.example\r\n250 BINARYMIME\r\n");
    let mut p = MailParams::default();
    p.body = Some(Body::BinaryMime);
    assert_eq!(
        session.client.send_message(
            now,
            envelope("a@client.example", &["b@mx.example"]).with_params(p)
        ),
        Err(ClientError::Envelope(EnvelopeError::NotOffered {
            extension: "CHUNKING"
        }))
    );
}

#[test]
fn dsn_parameters_go_out_when_offered() {
    let mut session = ready("250-mx.example\r\n250-PIPELINING\r\n250 DSN\r\n");
    let now = session.now;
    let mut p = RcptParams::default();
    p.notify = Notify::on(true, true, false);
    let mut m = MailParams::default();
    m.ret = Some(smtp_proto::Ret::Hdrs);
    let env = envelope("a@client.example", &[])
        .with_params(m)
        .with_recipient_params(ForwardPath::Mailbox(mailbox("b@mx.example")), p);
    session.client.send_message(now, env).unwrap();
    assert_eq!(
        session.output(),
        b"MAIL FROM:<a@client.example> RET=HDRS\r\nRCPT TO:<b@mx.example> NOTIFY=SUCCESS,FAILURE\r\nDATA\r\n"
    );
}
