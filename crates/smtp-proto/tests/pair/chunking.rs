//! CHUNKING (RFC 3030): BDAT with and without PIPELINING, against DATA, and random chunkings
//! from proptest.

use mail_testkit::Side;
use mail_testkit::chunk::strategy;
use proptest::prelude::*;
use smtp_proto::client;
use smtp_proto::server::{self, BodyTransfer};

use crate::support::{Scenario, envelope, run_all};

const PIECES: [&[u8]; 4] = [
    b"Subject: chunks\r\n\r\n",
    b"first piece\r\n.\r\n",
    b"",
    b"last piece, with a line that is only a dot above\r\n",
];

fn scenario(pipelining: bool, chunking: bool) -> Scenario {
    let mut scenario = Scenario::relay().message(
        envelope(
            "alice@client.example",
            &["bob@mx.example", "carol@mx.example"],
        ),
        &PIECES,
    );
    scenario.client.pipelining = pipelining;
    scenario.client.chunking = chunking;
    scenario
}

fn assert_delivered(run: &crate::support::Run, transfer: BodyTransfer) {
    run.assert_quit();
    assert_eq!(run.received(), [(transfer, PIECES.concat())], "{run:#?}");
    assert!(
        run.client
            .iter()
            .any(|e| matches!(e, client::Event::MessageAccepted(_))),
        "{run:#?}"
    );
}

/// BDAT with PIPELINING: the chunks go out without waiting for each chunk's reply, one
/// `BDAT n` per non-empty piece, then `BDAT n LAST`; the server passes them through.
#[test]
fn bdat_with_pipelining() {
    let run = run_all(&scenario(true, true), |run| {
        assert_delivered(run, BodyTransfer::Bdat)
    });
    let text = run.client_text();
    assert!(
        text.contains(
            "BDAT 19\r\nSubject: chunks\r\n\r\nBDAT 16\r\nfirst piece\r\n.\r\nBDAT 50 LAST\r\n"
        ),
        "{text}"
    );
    // Every chunk went out in one write, before any chunk reply. (QUIT waits for the chunk
    // replies: the client pipelines it only behind a body with no chunk in flight.)
    let body_write = [
        &b"BDAT 19\r\n"[..],
        PIECES[0],
        b"BDAT 16\r\n",
        PIECES[1],
        b"BDAT 50 LAST\r\n",
        PIECES[3],
    ]
    .concat();
    assert!(
        run.pair.writes(Side::Client).contains(&body_write),
        "{:?}",
        run.pair
            .writes(Side::Client)
            .iter()
            .map(|w| String::from_utf8_lossy(w))
            .collect::<Vec<_>>()
    );
    let server = run.server_text();
    assert_eq!(
        server.matches("250 2.0.0").count(),
        3,
        "two chunk replies and the message: {server}"
    );
}

/// BDAT without PIPELINING on the client: one chunk per reply (each `Event::BodyReady` after
/// a chunk's reply), same message.
#[test]
fn bdat_without_pipelining() {
    let run = run_all(&scenario(false, true), |run| {
        assert_delivered(run, BodyTransfer::Bdat)
    });
    for write in run.pair.writes(Side::Client) {
        assert!(
            write.windows(4).filter(|w| w == b"BDAT").count() <= 1,
            "one chunk per write: {:?}",
            String::from_utf8_lossy(write)
        );
    }
    let ready = run
        .client
        .iter()
        .filter(|e| matches!(e, client::Event::BodyReady))
        .count();
    assert_eq!(
        ready, 3,
        "BodyReady once, then after each chunk's reply: {run:#?}"
    );
}

/// CHUNKING offered but not used by the client: DATA, dot-stuffed on the wire, unstuffed
/// at the server.
#[test]
fn data_when_the_client_does_not_chunk() {
    let run = run_all(&scenario(true, false), |run| {
        assert_delivered(run, BodyTransfer::Data)
    });
    assert!(
        run.client_text().contains("\r\n..\r\n"),
        "dot-stuffed: {}",
        run.client_text()
    );
}

/// CHUNKING not offered by the server: the client falls back to DATA.
#[test]
fn data_when_the_server_does_not_offer_chunking() {
    let mut scenario = scenario(true, true);
    scenario.server.chunking = false;
    run_all(&scenario, |run| assert_delivered(run, BodyTransfer::Data));
}

/// A body with bare CR and LF: the client makes them CRLF in BDAT as in DATA (no smuggled
/// end of data), so the server receives the same normalised body either way.
#[test]
fn bare_line_endings_are_normalised_by_bdat_and_data_alike() {
    for chunking in [true, false] {
        let mut scenario = Scenario::relay().message(
            envelope("alice@client.example", &["bob@mx.example"]),
            &[b"a\nb\rc\r", b"\n.\n", b"end\r\n"],
        );
        scenario.client.chunking = chunking;
        let run = run_all(&scenario, |run| run.assert_quit());
        let (_, body) = &run.received()[0];
        assert_eq!(body, b"a\r\nb\r\nc\r\n.\r\nend\r\n", "chunking {chunking}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any chunking of either direction, and any body cut into any pieces: the server
    /// receives the body the client was given, by BDAT or DATA, with or without PIPELINING.
    #[test]
    fn any_chunking_delivers_the_body(
        chunking in strategy::chunking(),
        lines in proptest::collection::vec("[ -~]{0,20}", 0..12),
        cuts in strategy::cuts(200),
        bdat in any::<bool>(),
        pipelining in any::<bool>(),
    ) {
        let body: Vec<u8> = lines.iter().flat_map(|l| format!("{l}\r\n").into_bytes()).collect();
        let pieces = mail_testkit::chunk::split_at(&body, &cuts);
        let mut scenario = Scenario::relay()
            .message(envelope("alice@client.example", &["bob@mx.example"]), &pieces);
        scenario.client.chunking = bdat;
        scenario.client.pipelining = pipelining;
        let run = scenario.run(chunking);
        run.assert_quit();
        let transfer = if bdat { BodyTransfer::Bdat } else { BodyTransfer::Data };
        prop_assert_eq!(run.received(), vec![(transfer, body.clone())]);
        let size = body.len() as u64;
        let end = server::Event::BodyEnd { size, recipients: 1 };
        prop_assert!(run.server.contains(&end), "{:?}", run);
    }
}
