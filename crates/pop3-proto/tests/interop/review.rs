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

/// Starts one server session on loopback over a maildrop of 200 messages; its task returns
/// the session's events.
async fn serve() -> (std::net::SocketAddr, tokio::task::JoinHandle<Vec<Event>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut config = ServerConfig::default();
        config.allow_plaintext_auth = true;
        let mut conn = ServerConnection::new(stream, Server::new(config, Instant::now()));
        let mut events = Vec::new();
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
                _ => {}
            }
            events.push(event);
        }
        events
    });
    (addr, server)
}

#[tokio::test]
async fn pipelined_uidl_flood_is_answered_in_full_through_the_driver() {
    let (addr, server) = serve().await;
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
    assert_eq!(server.await.unwrap().last(), Some(&Event::Closed(Ok(()))));
}

/// The same flood with `DELE 1` and `QUIT` behind it, from a client that closes its sending
/// side at once: the session ends (no spin, no hang), and nothing is deleted, since the
/// `QUIT` is not reached before the client's end of stream is.
#[tokio::test]
async fn a_half_closed_flood_ends_the_session_and_deletes_nothing() {
    let (addr, server) = serve().await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    let mut flight = b"USER alice\r\nPASS secret\r\n".to_vec();
    flight.extend_from_slice(&b"UIDL\r\n".repeat(1000));
    flight.extend_from_slice(b"DELE 1\r\nQUIT\r\n");
    client.write_all(&flight).await.unwrap();
    client.shutdown().await.unwrap();
    let mut received = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), client.read_to_end(&mut received))
        .await
        .expect("the server neither answered nor closed")
        .unwrap();
    let events = tokio::time::timeout(Duration::from_secs(60), server)
        .await
        .expect("the server session did not end")
        .unwrap();
    assert!(
        !events.iter().any(|e| matches!(e, Event::Update { .. })),
        "{:?}",
        events.last()
    );
    assert!(matches!(events.last(), Some(Event::Closed(Err(_)))));
}
