//! The tokio stub resolver against a real DNS server we did not write (dnsmasq, started by each
//! test on loopback; see `support/dnsmasq.rs`), and against test-owned UDP sockets that never
//! answer, answer with a wrong ID, or fail.

#[path = "support/dnsmasq.rs"]
mod dnsmasq;

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use dnsmasq::Dnsmasq;
use mx_resolve::plan::{PlanConfig, PlanError};
use mx_resolve::tokio::{ResolveError, Resolver, ResolverConfig};
use mx_resolve::wire::{CLASS_IN, Message, Name, RData, Rcode, Record, RecordType};

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn resolver(servers: &[SocketAddr]) -> Resolver {
    Resolver::new(ResolverConfig {
        nameservers: servers.to_vec(),
        timeout: Duration::from_millis(500),
        attempts: 1,
        ..ResolverConfig::default()
    })
}

fn lines(result: Result<Vec<mx_resolve::plan::Candidate>, PlanError>) -> Vec<String> {
    match result {
        Ok(list) => list.iter().map(ToString::to_string).collect(),
        Err(error) => vec![failure(&error)],
    }
}

fn failure(error: &PlanError) -> String {
    let class = if error.is_permanent() {
        "permanent"
    } else {
        "temporary"
    };
    format!("{class} {}: {error}", error.enhanced_status())
}

fn options(list: &[&str]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

/// The zone most tests use.
fn zone() -> Vec<String> {
    options(&[
        "--mx-host=mx.test,mx1.mx.test,10",
        "--mx-host=mx.test,mx2.mx.test,20",
        "--host-record=mx1.mx.test,127.0.0.2,fd00::2",
        "--host-record=mx2.mx.test,127.0.0.3",
        "--host-record=implicit.test,127.0.0.9",
        "--mx-host=null.test,.,0",
        "--cname=alias.test,mx.test",
        "--txt-record=txt.test,hello",
    ])
}

#[tokio::test]
async fn mx_with_addresses_in_delivery_order() {
    let Some(server) = Dnsmasq::start(&zone()) else {
        return;
    };
    let resolver = resolver(&[server.addr]);
    let message = resolver
        .lookup(&name("mx.test"), RecordType::Mx)
        .await
        .unwrap();
    assert_eq!(message.rcode(), Rcode::NoError);
    let mut exchanges: Vec<String> = message
        .answers
        .iter()
        .map(|r| match &r.data {
            RData::Mx {
                preference,
                exchange,
            } => format!("{preference} {exchange} ttl {}", r.ttl),
            other => panic!("{other:?}"),
        })
        .collect();
    exchanges.sort();
    assert_eq!(
        exchanges,
        ["10 mx1.mx.test. ttl 300", "20 mx2.mx.test. ttl 300"]
    );

    let expected = [
        "10 mx1.mx.test. fd00::2",
        "10 mx1.mx.test. 127.0.0.2",
        "20 mx2.mx.test. 127.0.0.3",
    ];
    assert_eq!(
        lines(resolver.plan("mx.test", &PlanConfig::default()).await),
        expected
    );
    // Through a CNAME, in U-label case folding, with the trailing dot.
    assert_eq!(
        lines(resolver.plan("ALIAS.test.", &PlanConfig::default()).await),
        expected
    );
    // Our own address at preference 20 cuts mx2; at 10 we are the best MX.
    let ours = |address: &str| PlanConfig {
        local_addresses: vec![address.parse().unwrap()],
        ..PlanConfig::default()
    };
    assert_eq!(
        lines(resolver.plan("mx.test", &ours("127.0.0.3")).await),
        expected[..2]
    );
    assert_eq!(
        lines(resolver.plan("mx.test", &ours("fd00::2")).await),
        [
            "permanent 5.4.6: mail for mx.test. loops back to myself (best mail exchanger mx1.mx.test. has a local address)"
        ]
    );
}

#[tokio::test]
async fn nxdomain_nodata_null_mx_and_implicit_mx() {
    let Some(server) = Dnsmasq::start(&zone()) else {
        return;
    };
    let resolver = resolver(&[server.addr]);

    let nxdomain = resolver
        .lookup(&name("nope.test"), RecordType::Mx)
        .await
        .unwrap();
    assert_eq!(nxdomain.rcode(), Rcode::NxDomain);
    assert!(nxdomain.answers.is_empty());
    assert_eq!(nxdomain.negative_ttl(), Some(300));

    let nodata = resolver
        .lookup(&name("implicit.test"), RecordType::Mx)
        .await
        .unwrap();
    assert_eq!(nodata.rcode(), Rcode::NoError);
    assert!(nodata.answers.is_empty());
    assert_eq!(nodata.negative_ttl(), Some(300));

    let config = PlanConfig::default();
    assert_eq!(
        lines(resolver.plan("nope.test", &config).await),
        ["permanent 5.4.4: nope.test.: no such domain (NXDOMAIN)"]
    );
    assert_eq!(
        lines(resolver.plan("implicit.test", &config).await),
        ["0 implicit.test. 127.0.0.9"]
    );
    assert_eq!(
        lines(resolver.plan("null.test", &config).await),
        ["permanent 5.1.10: null.test. does not accept mail (null MX, RFC 7505)"]
    );
    // A name with neither MX nor address.
    assert_eq!(
        lines(resolver.plan("txt.test", &config).await),
        ["permanent 5.4.4: no mail exchanger of txt.test. has a usable address"]
    );
}

#[tokio::test]
async fn truncated_answers_are_asked_again_over_tcp() {
    let mut records = Vec::new();
    for i in 1..=100 {
        records.push(format!("--host-record=big.test,127.0.1.{i}"));
    }
    let Some(server) = Dnsmasq::start(&records) else {
        return;
    };
    // 100 A records take about 1.6 kB: over 512 octets without EDNS, and over the 1232 we
    // advertise by default. Only TCP can carry them all.
    for edns in [None, Some(1232), Some(512)] {
        let resolver = Resolver::new(ResolverConfig {
            nameservers: vec![server.addr],
            edns_payload: edns,
            cache_size: 0,
            ..ResolverConfig::default()
        });
        let message = resolver
            .lookup(&name("big.test"), RecordType::A)
            .await
            .unwrap();
        assert!(!message.header.truncated);
        assert_eq!(message.answers.len(), 100, "EDNS {edns:?}");
    }
    // Each lookup was asked twice: over UDP, then over TCP.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.questions("A", "big.test") < 6 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(server.questions("A", "big.test"), 6, "{}", server.log());
}

/// A UDP socket on loopback owned by the test, answering queries as `reply` says.
struct Responder {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<(SocketAddr, u16)>>>,
}

impl Responder {
    fn start(reply: impl Fn(&Message) -> Vec<Message> + Send + 'static) -> Responder {
        Responder::on(UdpSocket::bind("127.0.0.1:0").unwrap(), reply)
    }

    fn on(
        socket: UdpSocket,
        reply: impl Fn(&Message) -> Vec<Message> + Send + 'static,
    ) -> Responder {
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut seen = Vec::new();
            let mut buffer = [0u8; 4096];
            while !flag.load(Ordering::Relaxed) {
                let Ok((n, from)) = socket.recv_from(&mut buffer) else {
                    continue;
                };
                let query = Message::parse(&buffer[..n]).unwrap();
                seen.push((from, query.header.id));
                for answer in reply(&query) {
                    socket.send_to(&answer.encode(), from).unwrap();
                }
            }
            seen
        });
        Responder {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// The source address and ID of every query received.
    fn finish(mut self) -> Vec<(SocketAddr, u16)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The answer to `query` with one A record.
fn answer(query: &Message, address: [u8; 4]) -> Message {
    let mut message = query.clone();
    message.header.response = true;
    message.edns = None;
    message.answers = vec![Record {
        name: query.questions[0].name.clone(),
        rtype: RecordType::A,
        class: CLASS_IN,
        ttl: 60,
        data: RData::A(address.into()),
    }];
    message
}

#[tokio::test]
async fn no_answer_times_out_after_every_attempt_with_fresh_ids_and_ports() {
    let silent = Responder::start(|_| Vec::new());
    let resolver = Resolver::new(ResolverConfig {
        nameservers: vec![silent.addr],
        timeout: Duration::from_millis(150),
        attempts: 3,
        ..ResolverConfig::default()
    });
    let start = Instant::now();
    let error = resolver
        .lookup(&name("a.test"), RecordType::A)
        .await
        .unwrap_err();
    assert!(matches!(error, ResolveError::Timeout), "{error:?}");
    assert!(start.elapsed() >= Duration::from_millis(450));
    let error = resolver
        .plan("a.test", &PlanConfig::default())
        .await
        .unwrap_err();
    assert_eq!(
        failure(&error),
        "temporary 4.4.3: MX lookup of a.test.: timed out"
    );
    let seen = silent.finish();
    assert!(seen.len() >= 3, "{seen:?}");
    // Each try came from its own socket with its own ID (the kernel and the CSPRNG could
    // repeat one of them by chance, not all three).
    let first = &seen[..3];
    assert!(first.iter().any(|s| s.0 != first[0].0), "{first:?}");
    assert!(first.iter().any(|s| s.1 != first[0].1), "{first:?}");
}

#[tokio::test]
async fn a_spoofed_id_is_ignored_and_the_right_answer_wins() {
    let spoofer = Responder::start(|query| {
        let mut wrong_id = answer(query, [192, 0, 2, 66]);
        wrong_id.header.id ^= 0x5555;
        let mut wrong_question = answer(query, [192, 0, 2, 67]);
        wrong_question.questions[0].name = Name::from_ascii("evil.test").unwrap();
        vec![wrong_id, wrong_question, answer(query, [192, 0, 2, 1])]
    });
    let message = resolver(&[spoofer.addr])
        .lookup(&name("a.test"), RecordType::A)
        .await
        .unwrap();
    assert_eq!(message.answers.len(), 1);
    assert_eq!(message.answers[0].data, RData::A([192, 0, 2, 1].into()));

    // Only the wrong answer: the wait runs to its deadline.
    let only_spoofed = Responder::start(|query| {
        let mut wrong = answer(query, [192, 0, 2, 66]);
        wrong.header.id ^= 1;
        vec![wrong]
    });
    let error = resolver(&[only_spoofed.addr])
        .lookup(&name("a.test"), RecordType::A)
        .await
        .unwrap_err();
    assert!(matches!(error, ResolveError::Timeout), "{error:?}");
}

#[tokio::test]
async fn failing_nameservers_are_skipped() {
    let Some(server) = Dnsmasq::start(&zone()) else {
        return;
    };
    let servfail = Responder::start(|query| {
        let mut message = query.clone();
        message.header.response = true;
        message.header.rcode = Rcode::ServFail;
        message.edns = None;
        vec![message]
    });
    // A port nobody listens on: ICMP port unreachable.
    let closed = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let both = resolver(&[servfail.addr, closed, server.addr]);
    assert_eq!(
        lines(
            both.plan(
                "mx.test",
                &PlanConfig {
                    ipv6: false,
                    ..PlanConfig::default()
                }
            )
            .await
        ),
        ["10 mx1.mx.test. 127.0.0.2", "20 mx2.mx.test. 127.0.0.3"]
    );
    let alone = resolver(&[servfail.addr]);
    let error = alone
        .lookup(&name("mx.test"), RecordType::Mx)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ResolveError::ServerFailure(Rcode::ServFail)),
        "{error:?}"
    );
    assert_eq!(
        lines(alone.plan("mx.test", &PlanConfig::default()).await),
        ["temporary 4.4.3: MX lookup of mx.test.: server failure (SERVFAIL)"]
    );
    let nobody = resolver(&[]);
    let error = nobody
        .lookup(&name("mx.test"), RecordType::Mx)
        .await
        .unwrap_err();
    assert!(matches!(error, ResolveError::NoNameservers), "{error:?}");
}

#[tokio::test]
async fn an_ipv6_nameserver_is_asked_from_an_ipv6_socket() {
    let Ok(socket) = UdpSocket::bind("[::1]:0") else {
        eprintln!("SKIPPED: no IPv6 loopback on this machine");
        return;
    };
    let server = Responder::on(socket, |query| vec![answer(query, [192, 0, 2, 6])]);
    let message = resolver(&[server.addr])
        .lookup(&name("a.test"), RecordType::A)
        .await
        .unwrap();
    assert_eq!(message.answers[0].data, RData::A([192, 0, 2, 6].into()));
    let seen = server.finish();
    assert!(seen[0].0.is_ipv6(), "{seen:?}");
}

#[tokio::test]
async fn a_server_without_edns_is_asked_again_without_it() {
    // FORMERR (without an OPT record) to a query with EDNS, an answer to one without.
    let old_server = Responder::start(|query| {
        if query.edns.is_some() {
            let mut message = query.clone();
            message.header.response = true;
            message.header.rcode = Rcode::FormErr;
            message.edns = None;
            vec![message]
        } else {
            vec![answer(query, [192, 0, 2, 1])]
        }
    });
    let message = resolver(&[old_server.addr])
        .lookup(&name("a.test"), RecordType::A)
        .await
        .unwrap();
    assert_eq!(message.answers[0].data, RData::A([192, 0, 2, 1].into()));
    assert_eq!(old_server.finish().len(), 2);

    // A FORMERR that is not about EDNS (no EDNS was sent) is a failure.
    let formerr = Responder::start(|query| {
        let mut message = query.clone();
        message.header.response = true;
        message.header.rcode = Rcode::FormErr;
        message.edns = None;
        vec![message]
    });
    let plain = Resolver::new(ResolverConfig {
        nameservers: vec![formerr.addr],
        edns_payload: None,
        timeout: Duration::from_millis(500),
        attempts: 1,
        ..ResolverConfig::default()
    });
    let error = plain
        .lookup(&name("a.test"), RecordType::A)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ResolveError::ServerFailure(Rcode::FormErr)),
        "{error:?}"
    );
    assert_eq!(formerr.finish().len(), 1);
}

#[tokio::test]
async fn answers_are_cached_for_their_ttl() {
    let Some(mut server) = Dnsmasq::start(&zone()) else {
        return;
    };
    let resolver = resolver(&[server.addr]);
    let config = PlanConfig::default();
    let planned = lines(resolver.plan("mx.test", &config).await);
    let nxdomain = lines(resolver.plan("nope.test", &config).await);
    assert_eq!(planned.len(), 3);
    // The server is gone: the answers come from the cache, positive and negative alike.
    server.stop();
    assert_eq!(lines(resolver.plan("mx.test", &config).await), planned);
    assert_eq!(lines(resolver.plan("nope.test", &config).await), nxdomain);
    // A clone shares the cache.
    let clone = resolver.clone();
    assert_eq!(lines(clone.plan("mx.test", &config).await), planned);
    // Not asked before: no cache, no server.
    let error = resolver
        .lookup(&name("implicit.test"), RecordType::A)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ResolveError::Io(_) | ResolveError::Timeout),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_ttl_of_zero_is_not_cached() {
    let Some(mut server) = Dnsmasq::start_with_ttl(&zone(), 0) else {
        return;
    };
    let resolver = resolver(&[server.addr]);
    let message = resolver
        .lookup(&name("mx1.mx.test"), RecordType::A)
        .await
        .unwrap();
    assert_eq!(message.answers[0].ttl, 0);
    server.stop();
    assert!(
        resolver
            .lookup(&name("mx1.mx.test"), RecordType::A)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn cache_limits_entries_and_ttl() {
    let Some(mut server) = Dnsmasq::start(&zone()) else {
        return;
    };
    // One entry at most: the second answer evicts the first.
    let small = Resolver::new(ResolverConfig {
        nameservers: vec![server.addr],
        timeout: Duration::from_millis(300),
        attempts: 1,
        cache_size: 1,
        ..ResolverConfig::default()
    });
    // TTL 300 from the server, but kept for 200 ms at most.
    let short = Resolver::new(ResolverConfig {
        nameservers: vec![server.addr],
        timeout: Duration::from_millis(300),
        attempts: 1,
        max_ttl: Duration::from_millis(200),
        ..ResolverConfig::default()
    });
    small
        .lookup(&name("mx1.mx.test"), RecordType::A)
        .await
        .unwrap();
    small
        .lookup(&name("mx2.mx.test"), RecordType::A)
        .await
        .unwrap();
    short
        .lookup(&name("mx1.mx.test"), RecordType::A)
        .await
        .unwrap();
    server.stop();
    assert!(
        small
            .lookup(&name("mx2.mx.test"), RecordType::A)
            .await
            .is_ok()
    );
    assert!(
        small
            .lookup(&name("mx1.mx.test"), RecordType::A)
            .await
            .is_err()
    );
    assert!(
        short
            .lookup(&name("mx1.mx.test"), RecordType::A)
            .await
            .is_ok()
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(
        short
            .lookup(&name("mx1.mx.test"), RecordType::A)
            .await
            .is_err()
    );
}
