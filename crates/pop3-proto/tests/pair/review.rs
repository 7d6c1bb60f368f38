//! Review: our client pipelining 1,000 `UIDL` against our server over a large maildrop, in
//! the test kit's `Pair`: the server defers commands while its output is large
//! (`OUTPUT_HIGH_WATER`), and the pair still settles with every answer delivered.

use std::time::Duration;

use mail_testkit::users::{Users, server_nonce};
use mail_testkit::{Pair, SimClock};
use mail_wire::Secret;
use pop3_proto::Uid;
use pop3_proto::client::{self, Client, ClientConfig, Credentials};
use pop3_proto::server::{self, MessageInfo, Server, ServerConfig};

#[test]
fn a_pipelined_uidl_flood_settles_with_every_answer() {
    let clock = SimClock::new();
    let mut server_config = ServerConfig::default();
    server_config.auth_failure_delay = Duration::ZERO;
    let server = Server::new(server_config, clock.now());
    let credentials = Credentials::password("alice", Secret::new("secret".into()));
    let client = Client::new(ClientConfig::new(credentials), clock.now());
    let mut pair = Pair::new(client, server, clock);
    pair.set_max_steps(1_000_000);
    pair.on_server_event(|server, event, _| match event {
        server::Event::AuthStep { .. } => server
            .auth_step(&Users::standard(), server_nonce())
            .unwrap(),
        server::Event::OpenMaildrop { .. } => server
            .open_maildrop(
                (0..200)
                    .map(|i| MessageInfo::new(100, Uid::new(format!("{i:0>70}")).unwrap()))
                    .collect(),
            )
            .unwrap(),
        _ => {}
    });
    pair.on_client_event(|client, event, now| {
        if let client::Event::LoggedIn = event {
            for _ in 0..1000 {
                client.uidl(now, None).unwrap();
            }
            client.quit(now).unwrap();
        }
    });
    pair.drive();
    assert_eq!(pair.client_ending(), Some(&Ok(())));
    assert_eq!(pair.server_ending(), Some(&Ok(())));
    let ends = pair
        .client_events()
        .iter()
        .filter(|e| matches!(e, client::Event::ListingEnd))
        .count();
    assert_eq!(ends, 1000);
}
