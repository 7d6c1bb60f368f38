//! How a session ends: QUIT, shutdown (idle and mid-transaction), and the peer closing.

use std::time::Duration;

use smtp_proto::server::SessionError;

use crate::harness::{body_end, chunk, closed, data_start};
use crate::{MESSAGE_ACCEPTED, START_DATA, after_ehlo, config, in_transaction};

#[test]
fn quit_closes() {
    let mut h = after_ehlo(config("mx.example"));
    h.transcript(
        "C: QUIT
         C: NOOP
         S: 221 2.0.0 Bye",
    );
    assert!(h.server.is_closed());
    assert!(!h.server.wants_input());
    assert_eq!(h.events(), [closed(Ok(()))]);
    h.send("NOOP\r\n");
    h.server.handle_eof();
    h.advance(Duration::from_secs(1000));
    assert_eq!((h.take_out(), h.events()), (String::new(), vec![]));
}

#[test]
fn shutdown_when_idle_is_immediate() {
    let mut h = after_ehlo(config("mx.example"));
    h.server.shutdown();
    h.drive();
    assert_eq!(
        h.take_out(),
        "421 4.3.2 Service shutting down, closing connection\r\n"
    );
    assert_eq!(h.events(), [closed(Err(SessionError::Shutdown))]);
    assert!(h.server.is_closed());
}

#[test]
fn shutdown_mid_transaction_waits_for_the_message() {
    let mut h = in_transaction(config("mx.example"));
    h.send("DATA\r\nbody\r\n");
    assert_eq!(h.take_out(), START_DATA);
    h.server.shutdown();
    h.drive();
    assert_eq!(h.take_out(), "");
    assert!(!h.server.is_closed());
    h.send(".\r\nQUIT\r\n");
    assert_eq!(
        h.take_out(),
        format!("{MESSAGE_ACCEPTED}421 4.3.2 Service shutting down, closing connection\r\n")
    );
    assert_eq!(
        h.events(),
        [
            data_start(),
            chunk("body\r\n"),
            body_end(6, 1),
            closed(Err(SessionError::Shutdown))
        ]
    );
}

#[test]
fn peer_close() {
    let mut h = in_transaction(config("mx.example"));
    h.send("DATA\r\nunfinished");
    h.server.handle_eof();
    h.drive();
    assert_eq!(h.take_out(), START_DATA);
    assert_eq!(
        h.events(),
        [
            data_start(),
            chunk("unfinished"),
            closed(Err(SessionError::PeerClosed {
                in_transaction: true
            }))
        ]
    );
    assert!(h.server.is_closed());
    let mut h = after_ehlo(config("mx.example"));
    h.server.handle_eof();
    h.drive();
    assert_eq!(
        h.events(),
        [closed(Err(SessionError::PeerClosed {
            in_transaction: false
        }))]
    );
}
