//! Sessions without extensions in play: QUIT on both sides, pipelining and lock-step.

use mail_testkit::{Chunking, Side};
use smtp_proto::Host;
use smtp_proto::client::{self, Rejection};
use smtp_proto::server::{self, BodyTransfer, HelloVerb};

use crate::support::{Run, Scenario, domain, envelope, reply, run_all};

const BODY: &[u8] = b"Subject: hi\r\n\r\n.a line with a dot\r\n..two dots\r\nend\r\n";

/// The simplest session: greeting, EHLO, QUIT; both sides end with `Closed(Ok(()))`.
#[test]
fn quit_ends_both_sides_cleanly() {
    let run = run_all(&Scenario::relay(), |run| run.assert_quit());
    assert!(matches!(run.client[0], client::Event::Greeting(_)));
    assert!(matches!(run.client[1], client::Event::Capabilities(_)));
    assert_eq!(
        run.client[2..],
        [client::Event::Ready, client::Event::Closed(Ok(()))]
    );
    assert_eq!(
        run.server,
        [
            server::Event::Hello {
                verb: HelloVerb::Ehlo,
                host: Host::Domain(domain("client.example")),
            },
            server::Event::Closed(Ok(())),
        ]
    );
    assert_eq!(run.client_text(), "EHLO client.example\r\nQUIT\r\n");
    assert!(
        run.server_text().ends_with("221 2.0.0 Bye\r\n"),
        "{}",
        run.server_text()
    );
}

fn two_messages(pipelining: bool, chunking: bool) -> Scenario {
    let mut scenario = Scenario::relay()
        .message(
            envelope(
                "alice@client.example",
                &["bob@mx.example", "carol@mx.example"],
            ),
            &[
                b"Subject: hi\r\n",
                b"\r\n.a line with a dot\r\n",
                b"..two dots\r\nend\r\n",
            ],
        )
        .message(
            envelope(
                "alice@client.example",
                &["reject@mx.example", "dave@mx.example"],
            ),
            &[BODY],
        );
    scenario.client.pipelining = pipelining;
    scenario.client.chunking = chunking;
    scenario
}

/// Asserts what the user of either side sees of [`two_messages`]: recipient replies,
/// acceptance, the bodies as given, QUIT on both sides.
fn assert_two_messages(run: &crate::support::Run, transfer: BodyTransfer) {
    run.assert_quit();
    assert_eq!(
        run.received(),
        [(transfer, BODY.to_vec()), (transfer, BODY.to_vec())]
    );
    let recipients: Vec<(usize, u16)> = run
        .client
        .iter()
        .filter_map(|event| match event {
            client::Event::Recipient { index, reply } => Some((*index, reply.code().get())),
            _ => None,
        })
        .collect();
    assert_eq!(recipients, [(0, 250), (1, 250), (0, 550), (1, 250)]);
    let accepted = run
        .client
        .iter()
        .filter(|event| matches!(event, client::Event::MessageAccepted(_)))
        .count();
    assert_eq!(accepted, 2);
    assert!(
        !run.client
            .iter()
            .any(|event| matches!(event, client::Event::MessageRejected(_))),
        "{run:#?}"
    );
    let ends: Vec<&server::Event> = run
        .server
        .iter()
        .filter(|event| matches!(event, server::Event::BodyEnd { .. }))
        .collect();
    assert_eq!(
        ends,
        [
            &server::Event::BodyEnd {
                size: BODY.len() as u64,
                recipients: 2
            },
            &server::Event::BodyEnd {
                size: BODY.len() as u64,
                recipients: 1
            },
        ]
    );
}

/// PIPELINING (RFC 2920): MAIL, every RCPT and DATA go out as one write, and the server's
/// replies come back in the order of the commands.
#[test]
fn pipelining_sends_command_groups_answered_in_order() {
    let run = run_all(&two_messages(true, false), |run| {
        assert_two_messages(run, BodyTransfer::Data)
    });
    let writes = run.pair.writes(Side::Client);
    let group = |from: &str, to: &[&str]| {
        let mut group = format!("MAIL FROM:<{from}>\r\n");
        for to in to {
            group.push_str(&format!("RCPT TO:<{to}>\r\n"));
        }
        group.push_str("DATA\r\n");
        group.into_bytes()
    };
    assert!(
        writes.contains(&group(
            "alice@client.example",
            &["bob@mx.example", "carol@mx.example"]
        )),
        "{:?}",
        writes
            .iter()
            .map(|w| String::from_utf8_lossy(w))
            .collect::<Vec<_>>()
    );
    assert!(writes.contains(&group(
        "alice@client.example",
        &["reject@mx.example", "dave@mx.example"]
    )));
    // The replies, in the order of the commands: MAIL, each RCPT, DATA; then the message.
    let text = run.server_text();
    let order = [
        "250 2.1.0 ",
        "250 2.1.5 ",
        "250 2.1.5 ",
        "354 ",
        "250 2.0.0 ",
        "250 2.1.0 ",
        "550 5.1.1 No such user",
        "250 2.1.5 ",
        "354 ",
        "250 2.0.0 ",
        "221 2.0.0 ",
    ];
    let mut rest = text.as_str();
    for expected in order {
        let at = rest
            .find(expected)
            .unwrap_or_else(|| panic!("{expected:?} in order: {text}"));
        rest = &rest[at + expected.len()..];
    }
    // QUIT is pipelined behind the last message's end of data (RFC 2920 section 3.1).
    assert!(
        writes
            .last()
            .is_some_and(|w| w.ends_with(b"end\r\n.\r\nQUIT\r\n")),
        "{:?}",
        writes.last().map(|w| String::from_utf8_lossy(w))
    );
}

/// Without PIPELINING on the client, every write is one command (or the body), and the
/// outcome is the same.
#[test]
fn lock_step_sends_one_command_per_write() {
    let run = run_all(&two_messages(false, false), |run| {
        assert_two_messages(run, BodyTransfer::Data)
    });
    for write in run.pair.writes(Side::Client) {
        if write.starts_with(b"Subject") {
            continue;
        }
        let lines = write
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count();
        assert_eq!(
            lines,
            1,
            "one command per write: {:?}",
            String::from_utf8_lossy(write)
        );
    }
}

/// A refused sender: the client reports `Rejection::Sender` and sends no body (the pipelined
/// RCPT, and DATA if it was pipelined, are refused by the server and swallowed by the
/// client); every recipient refused: `Rejection::NoRecipients`, no body either, and the next
/// transaction starts with RSET. The one good message arrives. By BDAT and DATA, with and
/// without PIPELINING.
#[test]
fn refused_sender_and_refused_recipients() {
    for (pipelining, chunking) in [(true, true), (false, true), (true, false), (false, false)] {
        let mut scenario = Scenario::relay()
            .message(
                envelope("reject@client.example", &["bob@mx.example"]),
                &[BODY],
            )
            .message(
                envelope(
                    "alice@client.example",
                    &["reject1@mx.example", "reject2@mx.example"],
                ),
                &[BODY],
            )
            .message(
                envelope("alice@client.example", &["bob@mx.example"]),
                &[BODY],
            );
        scenario.client.pipelining = pipelining;
        scenario.client.chunking = chunking;
        let transfer = if chunking {
            BodyTransfer::Bdat
        } else {
            BodyTransfer::Data
        };
        let run = run_all(&scenario, |run| {
            run.assert_quit();
            assert_eq!(run.received(), [(transfer, BODY.to_vec())], "{run:#?}");
        });
        let rejections: Vec<&Rejection> = run
            .client
            .iter()
            .filter_map(|event| match event {
                client::Event::MessageRejected(rejection) => Some(rejection),
                _ => None,
            })
            .collect();
        assert_eq!(
            rejections,
            [
                &Rejection::Sender(reply("550 5.7.1 Sender refused\r\n")),
                &Rejection::NoRecipients
            ]
        );
        let text = run.client_text();
        assert_eq!(
            text.matches("Subject: hi").count(),
            1,
            "one body sent: {text}"
        );
        assert_eq!(
            text.matches("RSET").count(),
            1,
            "RSET after the failed transaction: {text}"
        );
        assert!(
            text.contains("RSET\r\nMAIL FROM:<alice@client.example>\r\nRCPT TO:<bob@mx.example>")
                || !pipelining,
            "{text}"
        );
        let server = run.server_text();
        if pipelining && !chunking {
            assert!(
                server.contains("554 5.5.1 "),
                "DATA with no valid recipient: {server}"
            );
        }
    }
}

/// The test answers the server's decisions by hand instead of a policy: while a decision is
/// pending the server reads no further, the client's pipelined group waits on the wire, and
/// the replies still come in order.
#[test]
fn decisions_answered_by_hand() {
    for chunking in crate::support::chunkings() {
        let mut scenario = Scenario::relay().message(
            envelope(
                "alice@client.example",
                &["bob@mx.example", "carol@mx.example"],
            ),
            &[BODY],
        );
        scenario.policy.answer = false;
        scenario.client.chunking = false;
        let (mut pair, log) = scenario.pair(chunking.clone());
        let mut answered = Vec::new();
        for _ in 0..20 {
            pair.drive();
            let events = pair.take_server_events();
            let Some(decision) = events.iter().find(|e| {
                matches!(
                    e,
                    server::Event::Hello { .. }
                        | server::Event::Mail { .. }
                        | server::Event::Rcpt { .. }
                        | server::Event::BodyEnd { .. }
                )
            }) else {
                break;
            };
            answered.push(std::mem::discriminant(decision));
            if let server::Event::Rcpt { .. } = decision {
                assert!(!pair.server().wants_input(), "{chunking:?}");
            }
            pair.server_mut()
                .accept_with(reply("250 2.0.0 As you wish\r\n"))
                .unwrap();
        }
        pair.drive();
        assert_eq!(
            answered.len(),
            5,
            "EHLO, MAIL, two RCPT, the body: {chunking:?}"
        );
        let run = Run::new(pair, &log);
        assert_eq!(run.client_ending(), Some(&Ok(())));
        // MAIL, both RCPTs and the message; EHLO keeps its capability reply.
        assert_eq!(
            run.server_text().matches("250 2.0.0 As you wish").count(),
            4
        );
        assert!(run.server_text().contains("250-PIPELINING\r\n"));
    }
}

/// Every single cut of the client's stream, and of the server's: the same session.
#[test]
fn every_single_cut_of_either_stream() {
    let scenario = two_messages(true, false);
    let reference = scenario.run(Chunking::Whole);
    for reader in [Side::Server, Side::Client] {
        let len = reference.pair.written(reader.peer()).len();
        for cuts in mail_testkit::chunk::one_cuts(len) {
            let (mut pair, log) = scenario.pair(Chunking::Whole);
            pair.set_chunking(reader, Chunking::Cuts(cuts.clone()));
            pair.drive();
            let run = Run::new(pair, &log);
            assert_eq!(run.client, reference.client, "{reader:?} cut at {cuts:?}");
            assert_eq!(run.server, reference.server, "{reader:?} cut at {cuts:?}");
            assert_eq!(
                run.pair.written(reader.peer()),
                reference.pair.written(reader.peer())
            );
        }
    }
}
