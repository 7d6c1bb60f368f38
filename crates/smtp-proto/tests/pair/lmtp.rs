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
