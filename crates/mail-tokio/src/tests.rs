//! The driver against a toy line protocol, so that every behaviour is checked without any
//! real protocol's rules in the way. The SMTP wrappers' own tests (smtp-proto's `tokio`
//! module, its interop tests, the example server's end-to-end tests) run it for real.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mail_tls::tokio::{HandshakeOptions, tokio_rustls};
use mail_tls::{ClientTls, ServerTls, Service, TlsError};
use mail_wire::session::{Ending, EventKind, Session, Transmit};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream};

use crate::{Connection, Traffic};

const LIMIT: Duration = Duration::from_secs(10);

/// Why a toy session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Why {
    PeerClosed,
    Timeout,
    /// Bytes came after `STLS`.
    Injection,
    /// The peer said `STOP`.
    Refused,
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for Why {}

#[derive(Debug, PartialEq, Eq)]
struct Misuse;

impl fmt::Display for Misuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("misuse")
    }
}

impl std::error::Error for Misuse {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    /// Any other line; answered `ok <line>`.
    Line(String),
    /// `ASK <x>`: a decision the application answers with [`Toy::answer`].
    Ask(String),
    /// `STLS`: answered `go`, then the TLS hand-off.
    StartTls,
    Closed(Ending<Why>),
}

/// A toy line protocol. It greets with `hi`; `QUIT` is answered `bye` and ends the session,
/// `STOP` ends it with [`Why::Refused`], `BIG <n>` is answered with `n` octets, `ASK <x>`
/// waits for the application, `STLS` hands over to TLS, `PASS <x>` is answered `pass ` and
/// `<x>` CRLF as a secret piece (as a client answers a SASL challenge).
struct Toy {
    input: Vec<u8>,
    out: VecDeque<Transmit>,
    events: VecDeque<Event>,
    pending: bool,
    handoff: bool,
    tls: bool,
    closed: bool,
    idle: Option<Duration>,
    deadline: Option<Instant>,
    /// A faulty machine: leaves the bytes after `STLS` in the read buffer instead of
    /// refusing them, so that only mail-tls's boundary check stands in the way.
    leaves_bytes_after_stls: bool,
}

// Like the real machines, the toy shows no buffer in `Debug`.
impl fmt::Debug for Toy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Toy")
            .field("buffered_input", &self.input.len())
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl Toy {
    fn new() -> Self {
        Toy {
            input: Vec::new(),
            out: VecDeque::from([Transmit::Plain(Bytes::from_static(b"hi\r\n"))]),
            events: VecDeque::new(),
            pending: false,
            handoff: false,
            tls: false,
            closed: false,
            idle: None,
            deadline: None,
            leaves_bytes_after_stls: false,
        }
    }

    fn idle(mut self, idle: Duration) -> Self {
        self.idle = Some(idle);
        self.deadline = Some(Instant::now() + idle);
        self
    }

    fn answer(&mut self) {
        assert!(self.pending);
        self.pending = false;
        self.send(b"done\r\n".to_vec());
        self.process();
    }

    fn send(&mut self, bytes: Vec<u8>) {
        self.out.push_back(Transmit::Plain(Bytes::from(bytes)));
    }

    fn close(&mut self, how: Ending<Why>) {
        if !self.closed {
            self.closed = true;
            self.events.push_back(Event::Closed(how));
        }
    }

    fn process(&mut self) {
        while !self.pending && !self.closed {
            if self.handoff {
                if !self.input.is_empty() {
                    self.close(Err(Why::Injection));
                }
                return;
            }
            let Some(end) = self.input.iter().position(|&b| b == b'\n') else {
                return;
            };
            let line: Vec<u8> = self.input.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line).trim_end().to_owned();
            match line.split_once(' ').unwrap_or((&line, "")) {
                ("QUIT", _) => {
                    self.send(b"bye\r\n".to_vec());
                    self.close(Ok(()));
                }
                ("STOP", _) => self.close(Err(Why::Refused)),
                ("STLS", _) => {
                    self.send(b"go\r\n".to_vec());
                    self.handoff = true;
                    self.events.push_back(Event::StartTls);
                }
                ("ASK", what) => {
                    self.pending = true;
                    self.events.push_back(Event::Ask(what.to_owned()));
                }
                ("PASS", secret) => {
                    self.send(b"pass ".to_vec());
                    let secret = format!("{secret}\r\n").into_bytes();
                    self.out.push_back(Transmit::Secret(Bytes::from(secret)));
                }
                ("BIG", n) => {
                    let mut big = vec![b'x'; n.parse().unwrap_or(0)];
                    big.extend_from_slice(b"\r\n");
                    self.send(big);
                }
                _ => {
                    self.send(format!("ok {line}\r\n").into_bytes());
                    self.events.push_back(Event::Line(line));
                }
            }
        }
    }
}

impl Session for Toy {
    type Event = Event;
    type Error = Why;
    type Misuse = Misuse;

    fn feed(&mut self, now: Instant, bytes: &[u8]) {
        self.deadline = self.idle.map(|idle| now + idle);
        self.input.extend_from_slice(bytes);
        self.process();
    }

    fn feed_buf(&mut self, now: Instant, buf: &mut BytesMut) {
        if !self.leaves_bytes_after_stls {
            self.feed(now, buf);
            buf.clear();
            return;
        }
        while !buf.is_empty() && !self.handoff {
            let end = buf
                .iter()
                .position(|&b| b == b'\n')
                .map_or(buf.len(), |e| e + 1);
            let line = buf.split_to(end);
            self.feed(now, &line);
        }
    }

    fn handle_eof(&mut self) {
        self.close(Err(Why::PeerClosed));
    }

    fn poll_transmit(&mut self) -> Option<Bytes> {
        self.out.pop_front().map(Transmit::into_bytes)
    }

    fn poll_transmit_marked(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.deadline.filter(|_| !self.closed && !self.pending)
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_some_and(|deadline| now >= deadline) {
            self.send(b"timeout\r\n".to_vec());
            self.close(Err(Why::Timeout));
        }
    }

    fn wants_input(&self) -> bool {
        !self.pending && self.events.is_empty() && !self.closed && !self.handoff
    }

    fn is_tls(&self) -> bool {
        self.tls
    }

    fn tls_established(&mut self, _now: Instant) -> Result<(), Misuse> {
        if !self.handoff || self.closed {
            return Err(Misuse);
        }
        self.handoff = false;
        self.tls = true;
        self.process();
        Ok(())
    }

    fn is_closed(&self) -> bool {
        self.closed
    }

    fn classify(event: &Event) -> EventKind<'_, Why> {
        match event {
            Event::StartTls => EventKind::StartTls,
            Event::Closed(ending) => EventKind::Closed(ending),
            Event::Line(_) | Event::Ask(_) => EventKind::Other,
        }
    }
}

type Conn = Connection<Toy, DuplexStream>;

/// Runs `conn` until `Ok(None)`: its events, an error ending the list as an `Err`.
async fn events(conn: &mut Conn) -> Vec<Result<Event, io::ErrorKind>> {
    let mut events = Vec::new();
    loop {
        match tokio::time::timeout(LIMIT, conn.next_event()).await {
            Ok(Ok(Some(event))) => events.push(Ok(event)),
            Ok(Ok(None)) => return events,
            Ok(Err(error)) => events.push(Err(error.kind())),
            Err(_) => panic!("next_event hangs after {events:?}"),
        }
        assert!(events.len() < 100, "{events:?}");
    }
}

/// Everything the peer receives until the connection closes.
fn read_all(mut peer: DuplexStream) -> tokio::task::JoinHandle<Vec<u8>> {
    tokio::spawn(async move {
        let mut all = Vec::new();
        let _ = peer.read_to_end(&mut all).await;
        all
    })
}

#[tokio::test]
async fn events_come_in_order_and_closed_comes_once() {
    let (ours, mut peer) = tokio::io::duplex(1024);
    peer.write_all(b"a\r\nQUIT\r\n").await.unwrap();
    let wire = read_all(peer);
    let mut conn = Connection::new(ours, Toy::new());
    assert_eq!(
        events(&mut conn).await,
        [Ok(Event::Line("a".into())), Ok(Event::Closed(Ok(())))]
    );
    assert!(conn.is_finished());
    assert_eq!(conn.next_event().await.unwrap(), None);
    drop(conn);
    assert_eq!(wire.await.unwrap(), b"hi\r\nok a\r\nbye\r\n");
}

#[tokio::test]
async fn a_pending_decision_must_be_answered_first() {
    let (ours, mut peer) = tokio::io::duplex(1024);
    peer.write_all(b"ASK x\r\nb\r\nQUIT\r\n").await.unwrap();
    let mut conn = Connection::new(ours, Toy::new());
    assert_eq!(
        conn.next_event().await.unwrap(),
        Some(Event::Ask("x".into()))
    );
    let error = conn.next_event().await.unwrap_err();
    assert!(error.to_string().contains("pending decision"), "{error}");
    conn.session_mut().answer();
    assert_eq!(
        conn.next_event().await.unwrap(),
        Some(Event::Line("b".into()))
    );
    assert_eq!(
        conn.next_event().await.unwrap(),
        Some(Event::Closed(Ok(())))
    );
    drop(conn);
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    assert_eq!(wire, b"hi\r\ndone\r\nok b\r\nbye\r\n");
}

#[tokio::test]
async fn an_event_survives_a_cancelled_next_event() {
    // A 6-octet pipe: the greeting fits, `bye` does not until the peer reads, so the first
    // call is cancelled while it writes the reply to QUIT.
    let (ours, peer) = tokio::io::duplex(6);
    let (mut their_read, mut their_write) = tokio::io::split(peer);
    let writer = tokio::spawn(async move {
        their_write.write_all(b"QUIT\r\n").await.unwrap();
        their_write
    });
    let mut conn = Connection::new(ours, Toy::new());
    let cancelled = tokio::time::timeout(Duration::from_millis(50), conn.next_event()).await;
    assert!(
        cancelled.is_err(),
        "next_event finished without the peer reading"
    );
    let reader = tokio::spawn(async move {
        let mut all = Vec::new();
        their_read.read_to_end(&mut all).await.unwrap();
        all
    });
    let event = tokio::time::timeout(LIMIT, conn.next_event())
        .await
        .unwrap();
    assert_eq!(event.unwrap(), Some(Event::Closed(Ok(()))));
    assert_eq!(conn.next_event().await.unwrap(), None);
    drop(conn);
    drop(writer.await.unwrap());
    assert_eq!(reader.await.unwrap(), b"hi\r\nbye\r\n");
}

/// A peer that asks for a large answer and never reads it, over a 64-octet pipe; returns
/// what ends the session and checks that it then ends without waiting any more.
async fn a_peer_that_never_reads(conn: impl FnOnce(DuplexStream) -> Conn) -> io::Error {
    let (ours, peer) = tokio::io::duplex(64);
    let (_their_read, mut their_write) = tokio::io::split(peer);
    their_write.write_all(b"BIG 100000\r\n").await.unwrap();
    let mut conn = conn(ours);
    let error = tokio::time::timeout(LIMIT, conn.next_event())
        .await
        .expect("a timeout ends the session")
        .unwrap_err();
    let closed = tokio::time::timeout(Duration::from_millis(100), conn.next_event())
        .await
        .expect("no second wait on the blocked pipe")
        .unwrap();
    assert_eq!(closed, Some(Event::Closed(Err(Why::PeerClosed))));
    assert_eq!(conn.next_event().await.unwrap(), None);
    error
}

#[tokio::test]
async fn a_peer_that_never_reads_hits_the_write_timeout() {
    let error = a_peer_that_never_reads(|ours| {
        Connection::new(ours, Toy::new()).with_write_timeout(Some(Duration::from_millis(200)))
    })
    .await;
    assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    assert!(error.to_string().contains("write timeout"), "{error}");
}

#[tokio::test]
async fn a_peer_that_never_reads_hits_the_stall_timeout() {
    let error = a_peer_that_never_reads(|ours| {
        Connection::new(ours, Toy::new())
            .with_write_timeout(None)
            .with_stall_timeout(Some(Duration::from_millis(200)))
    })
    .await;
    assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    assert!(error.to_string().contains("took no data"), "{error}");
}

/// A peer that reads the 2 KiB answer 64 octets every 20 ms (about 0.6 s in all), then
/// quits: what the session came to.
async fn a_slow_reader(
    conn: impl FnOnce(DuplexStream) -> Conn,
) -> Vec<Result<Event, io::ErrorKind>> {
    let (ours, peer) = tokio::io::duplex(64);
    let mut conn = conn(ours);
    let peer = tokio::spawn(async move {
        let mut peer = BufReader::new(peer);
        peer.get_mut().write_all(b"BIG 2048\r\n").await.unwrap();
        let mut got = 0;
        let mut piece = [0; 64];
        while got < 4 + 2050 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            match peer.read(&mut piece).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got += n,
            }
        }
        peer.get_mut().write_all(b"QUIT\r\n").await.unwrap();
        let _ = peer.read_to_end(&mut Vec::new()).await;
    });
    let events = events(&mut conn).await;
    drop(conn);
    peer.await.unwrap();
    events
}

#[tokio::test]
async fn the_stall_timeout_spares_a_slow_reader_the_write_timeout_does_not() {
    let stall = |ours| {
        Connection::new(ours, Toy::new())
            .with_write_timeout(None)
            .with_stall_timeout(Some(Duration::from_millis(200)))
    };
    assert_eq!(
        a_slow_reader(stall).await,
        [Ok(Event::Closed(Ok(())))],
        "moving slowly is not stalling"
    );
    let total = |ours| {
        Connection::new(ours, Toy::new()).with_write_timeout(Some(Duration::from_millis(200)))
    };
    assert_eq!(
        a_slow_reader(total).await,
        [
            Err(io::ErrorKind::TimedOut),
            Ok(Event::Closed(Err(Why::PeerClosed)))
        ]
    );
}

#[tokio::test]
async fn reading_while_writing_hears_an_early_answer() {
    // The peer asks for a large answer, does not read it, and says STOP: a driver that only
    // writes would wait for the write timeout; one that reads meanwhile hears it.
    let run = |read_while_writing: bool| async move {
        let (ours, peer) = tokio::io::duplex(64);
        let (_their_read, mut their_write) = tokio::io::split(peer);
        their_write.write_all(b"BIG 100000\r\n").await.unwrap();
        let writer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            their_write.write_all(b"STOP\r\n").await.unwrap();
            their_write
        });
        let mut conn = Connection::new(ours, Toy::new())
            .with_write_timeout(Some(Duration::from_millis(500)))
            .with_read_while_writing(read_while_writing);
        let events = events(&mut conn).await;
        drop(writer.await.unwrap());
        events
    };
    assert_eq!(run(true).await, [Ok(Event::Closed(Err(Why::Refused)))]);
    assert_eq!(
        run(false).await,
        [
            Err(io::ErrorKind::TimedOut),
            Ok(Event::Closed(Err(Why::PeerClosed)))
        ]
    );
}

#[tokio::test]
async fn after_a_failed_write_the_peers_last_words_are_read() {
    // The peer asks for a large answer, reads a little, says STOP and closes at once: the
    // next write fails. Reading while writing, the driver drains what the peer said before
    // it closed and reports the session's own ending; otherwise the write error.
    let run = |read_while_writing: bool| async move {
        let (ours, mut peer) = tokio::io::duplex(64);
        peer.write_all(b"BIG 100000\r\n").await.unwrap();
        let closer = tokio::spawn(async move {
            let mut some = [0; 16];
            peer.read_exact(&mut some).await.unwrap();
            // No await between these two: the driver sees the write fail first.
            peer.write_all(b"STOP\r\n").await.unwrap();
            drop(peer);
        });
        let mut conn =
            Connection::new(ours, Toy::new()).with_read_while_writing(read_while_writing);
        let events = events(&mut conn).await;
        closer.await.unwrap();
        events
    };
    assert_eq!(run(true).await, [Ok(Event::Closed(Err(Why::Refused)))]);
    assert_eq!(
        run(false).await,
        [
            Err(io::ErrorKind::BrokenPipe),
            Ok(Event::Closed(Err(Why::PeerClosed)))
        ]
    );
}

#[tokio::test]
async fn the_sessions_deadline_ends_a_silent_peer() {
    let (ours, peer) = tokio::io::duplex(1024);
    let wire = read_all(peer);
    let mut conn = Connection::new(ours, Toy::new().idle(Duration::from_millis(50)));
    assert_eq!(
        events(&mut conn).await,
        [Ok(Event::Closed(Err(Why::Timeout)))]
    );
    drop(conn);
    assert_eq!(wire.await.unwrap(), b"hi\r\ntimeout\r\n");
}

#[tokio::test]
async fn the_trace_sees_both_directions_in_order() {
    let (ours, peer) = tokio::io::duplex(1024);
    let peer = tokio::spawn(async move {
        let mut peer = BufReader::new(peer);
        let mut line = String::new();
        peer.read_line(&mut line).await.unwrap();
        peer.get_mut().write_all(b"a\r\n").await.unwrap();
        peer.read_line(&mut line).await.unwrap();
        peer.get_mut().write_all(b"QUIT\r\n").await.unwrap();
        let _ = peer.read_to_end(&mut Vec::new()).await;
    });
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    let mut conn = Connection::new(ours, Toy::new()).with_trace(move |traffic, bytes| {
        sink.lock().unwrap().push((traffic, bytes.to_vec()));
    });
    assert_eq!(
        events(&mut conn).await,
        [Ok(Event::Line("a".into())), Ok(Event::Closed(Ok(())))]
    );
    drop(conn);
    peer.await.unwrap();
    let expected: Vec<(Traffic, Vec<u8>)> = vec![
        (Traffic::Sent, b"hi\r\n".to_vec()),
        (Traffic::Received, b"a\r\n".to_vec()),
        (Traffic::Sent, b"ok a\r\n".to_vec()),
        (Traffic::Received, b"QUIT\r\n".to_vec()),
        (Traffic::Sent, b"bye\r\n".to_vec()),
    ];
    assert_eq!(*log.lock().unwrap(), expected);
}

/// Output the session marks secret reaches the peer whole and the trace as its length only,
/// in its place among the other pieces.
#[tokio::test]
async fn the_trace_never_sees_a_secret() {
    let (ours, peer) = tokio::io::duplex(1024);
    let peer = tokio::spawn(async move {
        let mut peer = BufReader::new(peer);
        let mut seen = String::new();
        peer.read_line(&mut seen).await.unwrap();
        peer.get_mut()
            .write_all(b"PASS hunter2\r\nQUIT\r\n")
            .await
            .unwrap();
        peer.read_to_string(&mut seen).await.unwrap();
        seen
    });
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    let mut conn = Connection::new(ours, Toy::new()).with_trace(move |traffic, bytes| {
        sink.lock().unwrap().push((traffic, bytes.to_vec()));
    });
    assert_eq!(events(&mut conn).await, [Ok(Event::Closed(Ok(())))]);
    drop(conn);
    assert_eq!(peer.await.unwrap(), "hi\r\npass hunter2\r\nbye\r\n");
    let expected: Vec<(Traffic, Vec<u8>)> = vec![
        (Traffic::Sent, b"hi\r\n".to_vec()),
        (Traffic::Received, b"PASS hunter2\r\nQUIT\r\n".to_vec()),
        (Traffic::Sent, b"pass ".to_vec()),
        (Traffic::SentSecret { octets: 9 }, Vec::new()),
        (Traffic::Sent, b"bye\r\n".to_vec()),
    ];
    assert_eq!(*log.lock().unwrap(), expected);
}

#[tokio::test]
async fn debug_output_shows_no_buffer() {
    // An 8-octet pipe the peer does not read: the answer waits in the driver's output.
    let (ours, peer) = tokio::io::duplex(8);
    let (their_read, mut their_write) = tokio::io::split(peer);
    let writer = tokio::spawn(async move {
        their_write.write_all(b"hunter2secret\r\n").await.unwrap();
        their_write
    });
    let mut conn = Connection::new(ours, Toy::new());
    let mut cancelled = false;
    for _ in 0..8 {
        let next = tokio::time::timeout(Duration::from_millis(100), conn.next_event()).await;
        if next.is_err() {
            cancelled = true;
            break;
        }
    }
    assert!(cancelled, "the answer never blocked on the pipe");
    let shown = format!("{conn:?}");
    assert!(shown.contains("buffered_output"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    drop(their_read);
    drop(writer.await.unwrap());
}

/// A server and a client TLS configuration with a throw-away certificate for `localhost`.
fn tls_configs() -> (
    Arc<mail_tls::rustls::ServerConfig>,
    Arc<mail_tls::rustls::ClientConfig>,
) {
    static CONFIGS: OnceLock<(
        Arc<mail_tls::rustls::ServerConfig>,
        Arc<mail_tls::rustls::ClientConfig>,
    )> = OnceLock::new();
    CONFIGS
        .get_or_init(|| {
            let dir = std::env::temp_dir().join(format!("mail-tokio-tests-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let cert = mail_tls::dev_certs::generate(&["localhost"]).unwrap();
            let files = cert
                .write(&dir.join("cert.pem"), &dir.join("key.pem"))
                .unwrap();
            let (server, _resolver) = ServerTls::new(Service::Submission)
                .build_from_pem_files(&files.cert, &files.key)
                .unwrap();
            let _ = std::fs::remove_dir_all(&dir);
            let client = ClientTls::opportunistic_accept_any_certificate()
                .build()
                .unwrap();
            (server, client)
        })
        .clone()
}

fn localhost() -> mail_tls::pki_types::ServerName<'static> {
    mail_tls::server_name("localhost").unwrap()
}

/// Reads lines until one equals `line`.
async fn until<R: tokio::io::AsyncBufRead + Unpin>(peer: &mut R, line: &str) {
    let mut got = String::new();
    while got != line {
        got.clear();
        assert!(peer.read_line(&mut got).await.unwrap() > 0, "no {line:?}");
    }
}

#[tokio::test]
async fn starttls_upgrades_the_server_side() {
    let (server, client) = tls_configs();
    let (ours, peer) = tokio::io::duplex(64 * 1024);
    let peer = tokio::spawn(async move {
        let mut peer = BufReader::new(peer);
        peer.get_mut().write_all(b"STLS\r\n").await.unwrap();
        until(&mut peer, "go\r\n").await;
        assert!(peer.buffer().is_empty());
        let tls = tokio_rustls::TlsConnector::from(client)
            .connect(localhost(), peer.into_inner())
            .await
            .unwrap();
        let mut tls = BufReader::new(tls);
        tls.get_mut().write_all(b"a\r\nQUIT\r\n").await.unwrap();
        let mut rest = Vec::new();
        let _ = tls.read_to_end(&mut rest).await;
        rest
    });
    let mut conn = Connection::new(ours, Toy::new())
        .with_starttls_accept(server, HandshakeOptions::new(LIMIT));
    assert_eq!(
        events(&mut conn).await,
        [
            Ok(Event::StartTls),
            Ok(Event::Line("a".into())),
            Ok(Event::Closed(Ok(())))
        ]
    );
    assert!(conn.is_upgraded() && conn.session().is_tls());
    assert!(
        conn.tls_info()
            .is_some_and(|i| i.protocol_version.is_some())
    );
    drop(conn);
    assert_eq!(peer.await.unwrap(), b"ok a\r\nbye\r\n");
}

#[tokio::test]
async fn starttls_upgrades_the_client_side() {
    let (server, client) = tls_configs();
    let (ours, peer) = tokio::io::duplex(64 * 1024);
    // The toy does not care which side it is: here the peer asks for TLS and then accepts
    // the handshake the driver starts.
    let peer = tokio::spawn(async move {
        let mut peer = peer;
        peer.write_all(b"STLS\r\n").await.unwrap();
        // Exactly the plaintext: the ClientHello follows at once.
        let mut plaintext = [0; 8];
        peer.read_exact(&mut plaintext).await.unwrap();
        assert_eq!(&plaintext, b"hi\r\ngo\r\n");
        let tls = tokio_rustls::TlsAcceptor::from(server)
            .accept(peer)
            .await
            .unwrap();
        let mut tls = BufReader::new(tls);
        tls.get_mut().write_all(b"a\r\nQUIT\r\n").await.unwrap();
        let mut rest = Vec::new();
        let _ = tls.read_to_end(&mut rest).await;
        rest
    });
    let mut conn = Connection::new(ours, Toy::new())
        .with_read_while_writing(true)
        .with_starttls_connect(client, localhost(), HandshakeOptions::new(LIMIT));
    assert_eq!(
        events(&mut conn).await,
        [
            Ok(Event::StartTls),
            Ok(Event::Line("a".into())),
            Ok(Event::Closed(Ok(())))
        ]
    );
    assert!(conn.tls_info().is_some());
    drop(conn);
    assert_eq!(peer.await.unwrap(), b"ok a\r\nbye\r\n");
}

#[tokio::test]
async fn a_session_that_closed_at_the_hand_off_is_not_upgraded() {
    // The toy queues the hand-off, then refuses the bytes behind it: no handshake starts.
    let (server, _) = tls_configs();
    let (ours, mut peer) = tokio::io::duplex(1024);
    peer.write_all(b"STLS\r\nQUIT\r\n").await.unwrap();
    let wire = read_all(peer);
    let mut conn = Connection::new(ours, Toy::new())
        .with_starttls_accept(server, HandshakeOptions::new(LIMIT));
    assert_eq!(
        events(&mut conn).await,
        [Ok(Event::Closed(Err(Why::Injection)))]
    );
    assert!(!conn.is_upgraded());
    drop(conn);
    assert_eq!(wire.await.unwrap(), b"hi\r\ngo\r\n");
}

#[tokio::test]
async fn mail_tls_refuses_bytes_a_session_left_at_the_boundary() {
    let (server, _) = tls_configs();
    let (ours, mut peer) = tokio::io::duplex(1024);
    peer.write_all(b"STLS\r\nMAIL FROM:<x>\r\n").await.unwrap();
    let wire = read_all(peer);
    let mut toy = Toy::new();
    toy.leaves_bytes_after_stls = true;
    let mut conn =
        Connection::new(ours, toy).with_starttls_accept(server, HandshakeOptions::new(LIMIT));
    let error = conn.next_event().await.unwrap_err();
    let tls = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<TlsError>());
    assert!(
        matches!(tls, Some(TlsError::StartTlsInjection { .. })),
        "{error:?}"
    );
    assert_eq!(
        events(&mut conn).await,
        [Ok(Event::Closed(Err(Why::PeerClosed)))]
    );
    drop(conn);
    // No handshake was started.
    assert_eq!(wire.await.unwrap(), b"hi\r\ngo\r\n");
}

#[tokio::test]
async fn a_hand_off_without_a_tls_configuration_fails() {
    let (ours, mut peer) = tokio::io::duplex(1024);
    peer.write_all(b"STLS\r\n").await.unwrap();
    let mut conn = Connection::new(ours, Toy::new());
    assert!(!conn.has_starttls());
    assert_eq!(
        events(&mut conn).await,
        [
            Err(io::ErrorKind::Other),
            Ok(Event::Closed(Err(Why::PeerClosed)))
        ]
    );
}

#[tokio::test]
async fn implicit_tls_is_a_stream_that_is_tls_already() {
    let (server, client) = tls_configs();
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let peer = tokio::spawn(async move {
        let mut tls = mail_tls::tokio::connect_implicit(
            client,
            localhost(),
            theirs,
            HandshakeOptions::new(LIMIT),
        )
        .await
        .unwrap();
        tls.write_all(b"a\r\nQUIT\r\n").await.unwrap();
        let mut all = Vec::new();
        let _ = tls.read_to_end(&mut all).await;
        all
    });
    let tls = mail_tls::tokio::accept_implicit(server, ours, HandshakeOptions::new(LIMIT))
        .await
        .unwrap();
    let mut conn = Connection::new(tls, Toy::new());
    let mut events = Vec::new();
    while let Some(event) = conn.next_event().await.unwrap() {
        events.push(event);
    }
    assert_eq!(events, [Event::Line("a".into()), Event::Closed(Ok(()))]);
    drop(conn);
    assert_eq!(peer.await.unwrap(), b"hi\r\nok a\r\nbye\r\n");
}

#[tokio::test]
async fn timeouts_too_far_to_represent_mean_no_limit() {
    let (ours, mut peer) = tokio::io::duplex(1024);
    peer.write_all(b"a\r\nQUIT\r\n").await.unwrap();
    let wire = read_all(peer);
    let mut conn = Connection::new(ours, Toy::new())
        .with_write_timeout(Some(Duration::MAX))
        .with_stall_timeout(Some(Duration::MAX));
    assert_eq!(
        events(&mut conn).await,
        [Ok(Event::Line("a".into())), Ok(Event::Closed(Ok(())))]
    );
    drop(conn);
    assert_eq!(wire.await.unwrap(), b"hi\r\nok a\r\nbye\r\n");
}

// Found by the review of issue 12.

/// The time the driver hands the session comes from tokio's clock, the one its timers run on:
/// under a paused clock (`tokio::time::pause`, the usual way to test timeouts) a session's
/// deadline still ends a silent peer, instead of the driver spinning on a timer that fired
/// for a time the session had not reached.
#[test]
fn the_sessions_deadline_ends_a_silent_peer_under_a_paused_clock() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        let events = runtime.block_on(async {
            let (ours, _peer) = tokio::io::duplex(1024);
            // An idle limit of an hour: a paused clock gets there at once.
            let mut conn = Connection::new(ours, Toy::new().idle(Duration::from_secs(3600)));
            let mut events = Vec::new();
            while let Ok(Some(event)) = conn.next_event().await {
                events.push(event);
            }
            events
        });
        let _ = done.send(events);
    });
    match finished.recv_timeout(Duration::from_secs(5)) {
        Ok(events) => assert_eq!(events, [Event::Closed(Err(Why::Timeout))]),
        // The thread is left spinning until the test binary exits.
        Err(_) => panic!("the session never timed out: the driver spins on an expired timer"),
    }
}

/// Reads grow while they fill their space (a burst, a message body) up to `READ_CHUNK`, and
/// shrink back while the peer sends short commands, so an idle session waits on a small
/// buffer.
#[test]
fn read_sizes_grow_with_full_reads_and_shrink_with_short_ones() {
    use crate::connection::next_read_size;
    let mut size = 512;
    let mut seen = vec![size];
    while size < crate::READ_CHUNK {
        size = next_read_size(size, size);
        seen.push(size);
    }
    assert_eq!(seen, [512, 1024, 2048, 4096]);
    assert_eq!(next_read_size(4096, 4096), 4096);
    // Half full: unchanged.
    assert_eq!(next_read_size(4096, 2048), 4096);
    let mut shrinking = vec![4096];
    while size > 512 {
        size = next_read_size(size, 6);
        shrinking.push(size);
    }
    assert_eq!(shrinking, [4096, 2048, 1024, 512]);
    assert_eq!(next_read_size(512, 6), 512);
}
