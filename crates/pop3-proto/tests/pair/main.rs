//! Our client against our server in memory (`mail_testkit::Pair`), on a simulated clock,
//! under every chunking: login with STLS, listing, streamed RETR, DELE and QUIT.

use std::time::Duration;

use mail_testkit::users::{Users, server_nonce};
use mail_testkit::{Chunking, Pair, Side, SimClock};
use mail_wire::Secret;
use pop3_proto::Uid;
use pop3_proto::client::{self, Client, ClientConfig, Credentials};
use pop3_proto::server::{self, MessageInfo, Server, ServerConfig};

const MESSAGE: &[u8] = b"Subject: pair\r\n\r\n.starts with a dot\r\nbare\nLF kept\r\n";

#[test]
fn stls_login_retrieve_delete_quit_in_every_chunking() {
    for chunking in Chunking::standard(9) {
        let clock = SimClock::new();
        let mut server_config = ServerConfig::default();
        server_config.auth_failure_delay = Duration::ZERO;
        let server = Server::new(server_config, clock.now());
        let credentials = Credentials::password("alice", Secret::new("secret".into()));
        let client = Client::new(ClientConfig::new(credentials), clock.now());
        let mut pair = Pair::new(client, server, clock).with_chunking(chunking.clone());
        pair.on_server_event(|server, event, _| match event {
            server::Event::AuthStep { .. } => server
                .auth_step(&Users::standard(), server_nonce())
                .unwrap(),
            server::Event::OpenMaildrop { .. } => server
                .open_maildrop(vec![MessageInfo::new(
                    MESSAGE.len() as u64,
                    Uid::new("only").unwrap(),
                )])
                .unwrap(),
            server::Event::Retrieve { .. } => {
                for piece in MESSAGE.chunks(7) {
                    server.send_message_data(piece).unwrap();
                }
                server.end_message().unwrap();
            }
            server::Event::Update { deleted } => {
                assert_eq!(deleted, &[0]);
                server.accept().unwrap();
            }
            _ => {}
        });
        pair.on_client_event(|client, event, now| match event {
            client::Event::LoggedIn => {
                client.uidl(now, None).unwrap();
                client.retr(now, 1).unwrap();
            }
            client::Event::MessageEnd { .. } => {
                client.dele(now, 1).unwrap();
                client.quit(now).unwrap();
            }
            _ => {}
        });
        pair.drive();
        assert_eq!(pair.client_ending(), Some(&Ok(())), "{chunking:?}");
        assert_eq!(pair.server_ending(), Some(&Ok(())), "{chunking:?}");
        assert_eq!(pair.tls_handshakes(), 1);
        let mut body = Vec::new();
        for event in pair.client_events() {
            if let client::Event::MessageChunk(chunk) = event {
                body.extend_from_slice(chunk);
            }
        }
        assert_eq!(body, MESSAGE, "{chunking:?}");
        let written = String::from_utf8_lossy(pair.written(Side::Client)).into_owned();
        assert!(
            written.starts_with("CAPA\r\nSTLS\r\nCAPA\r\nAUTH PLAIN "),
            "{written}"
        );
    }
}
