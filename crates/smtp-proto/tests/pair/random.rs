//! Random chunkings from proptest, over a catalogue of sessions that together use every
//! feature: whatever the reads, each side sees the same events and writes the same bytes as
//! with whole reads.

use mail_testkit::chunk::strategy;
use mail_testkit::{Chunking, Side};
use mail_wire::sasl::Mechanism;
use proptest::prelude::*;
use smtp_proto::Host;
use smtp_proto::client::{ClientConfig, TlsPolicy};
use smtp_proto::server::ServerConfig;

use crate::support::{
    Scenario, domain, envelope, password_credentials, submission, token_credentials,
};

const BODY: &[u8] = b"Subject: any\r\n\r\n.dot\r\n\r\nlast\r\n";

fn catalogue() -> Vec<(&'static str, Scenario)> {
    let message = |scenario: Scenario| {
        scenario
            .message(
                envelope(
                    "alice@client.example",
                    &["bob@mx.example", "reject@mx.example"],
                ),
                &[&BODY[..7], &BODY[7..]],
            )
            .message(
                envelope("alice@client.example", &["carol@mx.example"]),
                &[BODY],
            )
    };
    let mut data = message(Scenario::relay());
    data.client.chunking = false;
    let mut lock_step = message(Scenario::relay());
    lock_step.client.pipelining = false;
    let mut starttls = message(Scenario::relay());
    starttls.client.tls = TlsPolicy::Required;
    starttls.server.starttls = true;
    let mut size = message(Scenario::relay());
    size.server.max_message_size = 20;
    let lmtp = message(Scenario::new(
        ClientConfig::lmtp(Host::Domain(domain("client.example"))),
        ServerConfig::lmtp(domain("mx.example")),
    ));
    vec![
        ("bdat", message(Scenario::relay())),
        ("data", data),
        ("lock-step", lock_step),
        ("starttls", starttls),
        ("size", size),
        ("lmtp", lmtp),
        (
            "scram",
            message(submission(
                Mechanism::ScramSha256,
                password_credentials(mail_testkit::users::PASSWORD),
            )),
        ),
        (
            "login",
            message(submission(
                Mechanism::Login,
                password_credentials(mail_testkit::users::PASSWORD),
            )),
        ),
        (
            "oauthbearer",
            message(submission(
                Mechanism::OAuthBearer,
                token_credentials(mail_testkit::users::TOKEN),
            )),
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_chunking_gives_the_same_session(
        index in 0..9usize,
        chunking in strategy::chunking(),
        feed_buf in any::<bool>(),
    ) {
        let catalogue = catalogue();
        let (name, scenario) = &catalogue[index % catalogue.len()];
        let reference = scenario.run(Chunking::Whole);
        reference.assert_quit();
        let run = scenario.run_with(chunking.clone(), feed_buf);
        prop_assert_eq!(&run.client, &reference.client, "{}: client events", name);
        prop_assert_eq!(&run.server, &reference.server, "{}: server events", name);
        prop_assert_eq!(run.pair.written(Side::Client), reference.pair.written(Side::Client), "{}", name);
        prop_assert_eq!(run.pair.written(Side::Server), reference.pair.written(Side::Server), "{}", name);
        prop_assert_eq!(run.received(), reference.received(), "{}", name);
    }
}
