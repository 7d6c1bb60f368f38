//! SIZE (RFC 1870): the client refuses a declared size over the server's limit before
//! sending anything; a body over the limit that was not declared is refused with `552`.

use smtp_proto::ReplyCode;
use smtp_proto::client::{self, ClientError, EnvelopeError, Rejection};
use smtp_proto::server::{self, BodyTransfer};

use crate::support::{Scenario, envelope, run_all};

const LIMIT: u64 = 100;

fn limited() -> Scenario {
    let mut scenario = Scenario::relay();
    scenario.server.max_message_size = LIMIT;
    scenario
}

/// A declared size over the limit: `send_message` refuses the envelope, nothing goes over
/// the wire for it, and the next message goes through.
#[test]
fn declared_size_over_the_limit_is_refused_before_sending() {
    let scenario = limited()
        .message(
            envelope("alice@client.example", &["bob@mx.example"]).with_size(LIMIT + 1),
            &[b"small really\r\n"],
        )
        .message(
            envelope("alice@client.example", &["carol@mx.example"]).with_size(14),
            &[b"small really\r\n"],
        );
    let run = run_all(&scenario, |run| {
        run.assert_quit();
        assert_eq!(
            run.refused,
            [ClientError::Envelope(EnvelopeError::TooLarge {
                size: LIMIT + 1,
                limit: LIMIT
            })]
        );
        assert_eq!(
            run.received(),
            [(BodyTransfer::Bdat, b"small really\r\n".to_vec())]
        );
    });
    let text = run.client_text();
    assert!(!text.contains("bob@mx.example"), "{text}");
    assert!(
        text.contains("MAIL FROM:<alice@client.example> SIZE=14\r\n"),
        "{text}"
    );
}

/// A body over the limit that was not declared: the server drains it and answers `552
/// 5.3.4`; the client reports the rejection; the session goes on to QUIT.
#[test]
fn actual_size_over_the_limit_is_refused_with_552() {
    let body = b"0123456789abcdef\r\n".repeat(8); // 144 octets
    for chunking in [true, false] {
        for pipelining in [true, false] {
            let mut scenario = limited().message(
                envelope("alice@client.example", &["bob@mx.example"]),
                &[&body[..50], &body[50..]],
            );
            scenario.client.chunking = chunking;
            scenario.client.pipelining = pipelining;
            run_all(&scenario, |run| {
                run.assert_quit();
                assert!(run.received().is_empty(), "{run:#?}");
                assert!(
                    run.server
                        .iter()
                        .any(|e| matches!(e, server::Event::BodyAborted(_))),
                    "{run:#?}"
                );
                let rejection = run.client.iter().find_map(|e| match e {
                    client::Event::MessageRejected(Rejection::Message(reply)) => Some(reply),
                    _ => None,
                });
                let rejection = rejection.unwrap_or_else(|| panic!("552 expected: {run:#?}"));
                assert_eq!(rejection.code(), ReplyCode::new(552).unwrap());
                assert_eq!(
                    rejection.enhanced().map(|e| e.to_string()),
                    Some("5.3.4".into())
                );
            });
        }
    }
}
