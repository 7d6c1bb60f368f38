//! The sample sessions of RFC 3501 section 8 and RFC 9051 section 8 through the server
//! machine, answered by the in-memory store of `tests/support/`.
//!
//! Two checks per sample:
//!
//! - `tests/transcripts/server/rfc3501-8.txt` and `rfc9051-8.txt` hold the exact bytes our
//!   server writes for the sample's client lines (`mail_testkit::transcript` format), replayed
//!   under every standard chunking: any change to what goes on the wire shows here.
//! - The client lines of the RFC's own transcript (`tests/transcripts/rfc3501-8.txt`,
//!   `rfc9051-8.txt`, the codec's) are fed one by one and what the server answers each is
//!   compared with what the RFC shows, modulo what the RFC leaves to the server
//!   (`support::rfc` lists each freedom and its section).
//!
//! The sample's message 12 is built with the header the RFC shows and a body of the size and
//! line count its `BODY` reports; its ENVELOPE and BODY come from the `mime` feature's message
//! helpers.
#![cfg(feature = "mime")]

mod support;

use std::path::{Path, PathBuf};
use std::time::Instant;

use imap_proto::server::{Event, Server, ServerConfig};
use mail_testkit::transcript::{self, Transcript};
use mail_testkit::{Chunking, Side, SimClock, Users};
use mail_wire::Secret;
use mail_wire::sasl::{Mechanism, ScramCredentials};

use support::app::App;
use support::corpus;
use support::rfc::{self, normalise};
use support::store::Store;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts")
}

/// One of the two samples: its configuration, credentials and store.
struct Setup {
    config: ServerConfig,
    users: Users,
    rev: &'static str,
}

/// RFC 3501 section 8: plaintext LOGIN of `mrc`/`secret`, IMAP4rev1.
fn rfc3501() -> Setup {
    let mut config = support::plaintext_config();
    config.greeting_text = "IMAP4rev1 Service Ready".into();
    Setup {
        config,
        users: Users::new().with_password("mrc", "secret"),
        rev: "IMAP4rev1",
    }
}

/// RFC 9051 section 8: STARTTLS, SCRAM-SHA-256 as RFC 7677's example (user `user`, password
/// `pencil`, its salt, 4096 iterations, its server nonce), IMAP4rev2 offered and enabled.
fn rfc9051() -> Setup {
    let mut config = ServerConfig::default();
    config.greeting_text = "IMAP4rev2 Service Ready".into();
    config.imap4rev2 = true;
    config.sasl_mechanisms = vec![Mechanism::ScramSha256];
    let salt = [
        0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e, 0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa,
        0x81,
    ];
    let keys = ScramCredentials::derive(&Secret::new("pencil".into()), &salt, 4096).unwrap();
    Setup {
        config,
        users: Users::new().with_scram("user", keys),
        rev: "IMAP4rev2",
    }
}

/// The store of the samples: INBOX with 18 messages, the last two `\Recent`.
fn store(rev: &str) -> Store {
    let mut store = Store::new();
    corpus::sample_inbox(&mut store, rev);
    store.set_first_recent("INBOX", std::num::NonZeroU32::new(17).unwrap());
    store
}

/// Answers `event` for the sample's session: decisions through the application, the TLS
/// hand-off completed at once.
fn answer(app: &mut App, store: &mut Store, server: &mut Server, event: Event, now: Instant) {
    if event == Event::StartTls {
        server.tls_established(now).unwrap();
    } else {
        app.answer(store, server, event).unwrap();
    }
}

fn replay_exact(setup: fn() -> Setup, file: &str) {
    let script = std::fs::read_to_string(dir().join("server").join(file)).unwrap();
    let script = Transcript::new(&script);
    for chunking in Chunking::standard(8) {
        let Setup { config, users, rev } = setup();
        let mut store = store(rev);
        let mut app = App::new(&mut store, users);
        let clock = SimClock::new();
        let mut server = Server::new(config, clock.now());
        transcript::replay(
            &mut server,
            Side::Server,
            &script,
            &clock,
            chunking,
            |server, event, now| answer(&mut app, &mut store, server, event, now),
        );
        assert!(server.is_closed());
    }
}

fn against_the_rfc(setup: fn() -> Setup, file: &str) {
    let sample = rfc::sample(&dir().join(file));
    let Setup { config, users, rev } = setup();
    let mut store = store(rev);
    let mut app = App::new(&mut store, users);
    let now = Instant::now();
    let mut server = Server::new(config, now);
    let mut run = |server: &mut Server, input: &[u8]| {
        if !input.is_empty() {
            server.feed(now, input);
        }
        while let Some(event) = server.poll_event() {
            answer(&mut app, &mut store, server, event, now);
        }
        let mut out = Vec::new();
        while let Some(bytes) = server.poll_transmit() {
            out.extend_from_slice(&bytes);
        }
        out
    };
    let greeting = run(&mut server, b"");
    rfc::assert_equivalent(
        "greeting",
        &normalise(&sample.greeting, true),
        &normalise(&greeting, true),
    );
    for exchange in &sample.exchanges {
        let ours = run(&mut server, &exchange.client);
        rfc::assert_equivalent(
            &String::from_utf8_lossy(&exchange.client),
            &normalise(&exchange.server, false),
            &normalise(&ours, false),
        );
    }
    assert!(server.is_closed(), "LOGOUT ends the session");
}

#[test]
fn rfc3501_sample_session_exact_bytes() {
    replay_exact(rfc3501, "rfc3501-8.txt");
}

#[test]
fn rfc3501_sample_session_answers_as_the_rfc() {
    against_the_rfc(rfc3501, "rfc3501-8.txt");
}

#[test]
fn rfc9051_sample_session_exact_bytes() {
    replay_exact(rfc9051, "rfc9051-8.txt");
}

#[test]
fn rfc9051_sample_session_answers_as_the_rfc() {
    against_the_rfc(rfc9051, "rfc9051-8.txt");
}

#[test]
fn the_normalisation_tells_a_difference() {
    // A wrong tag, kind, code or data item is caught; texts and extra SELECT codes are not.
    let rfc = normalise(
        b"* 18 EXISTS\r\na002 OK [READ-WRITE] SELECT completed\r\n",
        false,
    );
    let same = normalise(
        b"* OK [UIDNEXT 19] x\r\n* 18 EXISTS\r\na002 OK [READ-WRITE] done\r\n",
        false,
    );
    rfc::assert_equivalent("same", &rfc, &same);
    for wrong in [
        &b"* 17 EXISTS\r\na002 OK [READ-WRITE] SELECT completed\r\n"[..],
        b"* 18 EXISTS\r\na002 OK [READ-ONLY] SELECT completed\r\n",
        b"* 18 EXISTS\r\na003 OK [READ-WRITE] SELECT completed\r\n",
        b"* 18 EXISTS\r\na002 NO [READ-WRITE] SELECT completed\r\n",
        b"* 18 EXISTS\r\n* 1 RECENT\r\na002 OK [READ-WRITE] SELECT completed\r\n",
    ] {
        let ours = normalise(wrong, false);
        let caught = std::panic::catch_unwind(|| rfc::assert_equivalent("wrong", &rfc, &ours));
        assert!(caught.is_err(), "{:?}", String::from_utf8_lossy(wrong));
    }
}

#[test]
fn the_sample_message_has_the_rfc_s_sizes() {
    assert_eq!(corpus::sample_header("IMAP4rev1").len(), 342);
    assert_eq!(corpus::sample_header("IMAP4rev2").len(), 342);
    let body = corpus::sample_body();
    assert_eq!(body.len(), 3028);
    assert_eq!(body.matches("\r\n").count(), 92);
}
