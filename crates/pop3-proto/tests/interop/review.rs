//! Review findings through the real tokio driver: a client that pipelines far more listing
//! commands than fit under the server's output high-water mark still gets every answer, in
//! order, and the session ends normally (the machine defers commands while its output is
//! queued; the driver writes it and comes back without waiting for the client).

use std::time::{Duration, Instant};

use mail_testkit::users::{Users, server_nonce};
use pop3_proto::Uid;
use pop3_proto::server::{Event, MessageInfo, Server, ServerConfig};
use pop3_proto::tokio::ServerConnection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test]
async fn pipelined_uidl_flood_is_answered_in_full_through_the_driver() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut config = ServerConfig::default();
        config.allow_plaintext_auth = true;
        let mut conn = ServerConnection::new(stream, Server::new(config, Instant::now()));
        let mut ending = None;
        while let Some(event) = conn.next_event().await.unwrap() {
            match event {
                Event::AuthStep { .. } => conn
                    .server()
                    .auth_step(&Users::standard(), server_nonce())
                    .unwrap(),
                Event::OpenMaildrop { .. } => conn
                    .server()
                    .open_maildrop(
                        (0..200)
                            .map(|i| MessageInfo::new(100, Uid::new(format!("{i:0>70}")).unwrap()))
                            .collect(),
                    )
                    .unwrap(),
                Event::Closed(end) => ending = Some(end),
                _ => {}
            }
        }
        ending
    });
    let mut client = TcpStream::connect(addr).await.unwrap();
    let mut flight = b"USER alice\r\nPASS secret\r\n".to_vec();
    flight.extend_from_slice(&b"UIDL\r\n".repeat(1000));
    flight.extend_from_slice(b"QUIT\r\n");
    client.write_all(&flight).await.unwrap();
    let mut received = Vec::new();
    // A guard against a deadlock (the server waiting for the client, which waits for the
    // answers), not a timing assertion.
    tokio::time::timeout(Duration::from_secs(60), client.read_to_end(&mut received))
        .await
        .expect("the server stopped answering pipelined commands")
        .unwrap();
    let answers = received.windows(5).filter(|w| w == b"\r\n.\r\n").count();
    assert_eq!(answers, 1000);
    assert!(received.ends_with(b"+OK Bye\r\n"));
    assert_eq!(server.await.unwrap(), Some(Ok(())));
}
