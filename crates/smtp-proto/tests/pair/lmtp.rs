//! LMTP (RFC 2033): LHLO, and one delivery status per accepted recipient after the body.

use smtp_proto::Host;
use smtp_proto::client::{self, ClientConfig};
use smtp_proto::server::{self, BodyTransfer, HelloVerb, ServerConfig};

use crate::support::{Scenario, domain, envelope, reply, run_all};

const BODY: &[u8] = b"Subject: local\r\n\r\nfor three mailboxes\r\n";

fn scenario(chunking: bool) -> Scenario {
    let mut server = ServerConfig::lmtp(domain("mx.example"));
    server.chunking = chunking;
    Scenario::new(
        ClientConfig::lmtp(Host::Domain(domain("client.example"))),
        server,
    )
    .message(
        envelope(
            "alice@client.example",
            &[
                "bob@mx.example",
                "reject@mx.example",
                "full@mx.example",
                "carol@mx.example",
            ],
        ),
        &[BODY],
    )
}

#[test]
fn per_recipient_delivery_statuses() {
    for chunking in [false, true] {
        let run = run_all(&scenario(chunking), |run| {
            run.assert_quit();
            let transfer = if chunking {
                BodyTransfer::Bdat
            } else {
                BodyTransfer::Data
            };
            assert_eq!(run.received(), [(transfer, BODY.to_vec())]);
        });
        assert!(matches!(
            run.server[0],
            server::Event::Hello {
                verb: HelloVerb::Lhlo,
                ..
            }
        ));
        assert!(run.client_text().starts_with("LHLO client.example\r\n"));
        let recipients: Vec<(usize, u16)> = run
            .client
            .iter()
            .filter_map(|e| match e {
                client::Event::Recipient { index, reply } => Some((*index, reply.code().get())),
                _ => None,
            })
            .collect();
        assert_eq!(recipients, [(0, 250), (1, 550), (2, 250), (3, 250)]);
        let deliveries: Vec<(usize, smtp_proto::Reply<'static>)> = run
            .client
            .iter()
            .filter_map(|e| match e {
                client::Event::Delivery { index, reply } => Some((*index, reply.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            deliveries,
            [
                (0, reply("250 2.1.5 Delivered\r\n")),
                (2, reply("452 4.2.2 Mailbox full\r\n")),
                (3, reply("250 2.1.5 Delivered\r\n")),
            ]
        );
        assert!(
            !run.client.iter().any(|e| matches!(
                e,
                client::Event::MessageAccepted(_) | client::Event::MessageRejected(_)
            )),
            "LMTP reports deliveries, not one outcome: {run:#?}"
        );
        assert!(run.server.contains(&server::Event::BodyEnd {
            size: BODY.len() as u64,
            recipients: 3
        }));
    }
}

/// A message over the LMTP server's size limit: refused at the end of the body with one
/// `552` per accepted recipient (DATA, or BDAT when the last chunk crosses the limit); a
/// non-last BDAT chunk over the limit is refused once, as the message. Either way the next
/// message is delivered.
#[test]
fn message_over_the_size_limit() {
    let too_big: &[u8] = b"0123456789\r\n";
    for (chunking, pieces) in [
        (false, vec![too_big, b"more\r\n"]),
        (true, vec![too_big]),
        (true, vec![too_big, b"more\r\n"]),
    ] {
        for pipelining in [true, false] {
            let mut server = ServerConfig::lmtp(domain("mx.example"));
            server.chunking = chunking;
            server.max_message_size = 10;
            let mut scenario = Scenario::new(
                ClientConfig::lmtp(Host::Domain(domain("client.example"))),
                server,
            )
            .message(
                envelope("alice@client.example", &["x@mx.example", "y@mx.example"]),
                &pieces,
            )
            .message(
                envelope("alice@client.example", &["z@mx.example"]),
                &[b"ok\r\n"],
            );
            scenario.client.pipelining = pipelining;
            let case = format!(
                "chunking {chunking}, {} pieces, pipelining {pipelining}",
                pieces.len()
            );
            let run = run_all(&scenario, |run| {
                run.assert_quit();
                assert_eq!(run.received().len(), 1, "{case}: {run:#?}");
                assert_eq!(run.received()[0].1, b"ok\r\n");
            });
            let outcomes: Vec<(Option<usize>, u16)> = run
                .client
                .iter()
                .filter_map(|e| match e {
                    client::Event::Delivery { index, reply } => {
                        Some((Some(*index), reply.code().get()))
                    }
                    client::Event::MessageRejected(rejection) => {
                        Some((None, rejection.reply().map_or(0, |r| r.code().get())))
                    }
                    _ => None,
                })
                .collect();
            let refused_early = chunking && pieces.len() > 1;
            let expected: Vec<(Option<usize>, u16)> = if refused_early {
                vec![(None, 552), (Some(0), 250)]
            } else {
                vec![(Some(0), 552), (Some(1), 552), (Some(0), 250)]
            };
            assert_eq!(outcomes, expected, "{case}");
        }
    }
}
