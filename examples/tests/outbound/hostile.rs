//! Outbound delivery against remote servers that misbehave: scripted TCP peers on loopback
//! that close connections at the worst moment or never answer. Each test says what the peer
//! does, and checks what it saw on the wire and the result each recipient got.
//!
//! Run them with `cargo test -p sansmail-examples --test example_units outbound_hostile`.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::options;
use crate::outbound::{Outbound, OutboundJob, RecipientResult, Tuning};
use crate::support::{LIMIT, TempDir};

/// One accepted connection of a scripted peer: what it read, line by line.
struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    /// The command lines read, without their CRLF (a body is one entry, `<body>`).
    seen: Vec<String>,
}

impl Conn {
    fn send(&mut self, bytes: &str) {
        let _ = self.writer.write_all(bytes.as_bytes());
    }

    /// The next line, recorded; `None` at the end of the stream.
    fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => {
                let line = line.trim_end().to_owned();
                self.seen.push(line.clone());
                Some(line)
            }
        }
    }

    /// Reads a DATA body up to its final dot.
    fn body(&mut self) {
        let mut line = String::new();
        loop {
            line.clear();
            match self.reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line == ".\r\n" => break,
                Ok(_) => {}
            }
        }
        self.seen.push("<body>".to_owned());
    }

    /// Answers like a well-behaved server until QUIT or the end of the stream.
    fn serve(&mut self) {
        while let Some(line) = self.line() {
            let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
            match verb.as_str() {
                "DATA" => {
                    self.send("354 go on\r\n");
                    self.body();
                    self.send("250 2.0.0 queued\r\n");
                }
                "QUIT" => {
                    self.send("221 2.0.0 bye\r\n");
                    return;
                }
                _ => self.send("250 2.0.0 ok\r\n"),
            }
        }
    }

    /// The greeting and the EHLO reply with these extension lines.
    fn hello(&mut self, extensions: &[&str]) {
        self.send("220 scripted.test ESMTP\r\n");
        self.line();
        let mut reply = String::from("250-scripted.test\r\n");
        for extension in extensions {
            reply.push_str(&format!("250-{extension}\r\n"));
        }
        reply.push_str("250 8BITMIME\r\n");
        self.send(&reply);
    }
}

type Script = Box<dyn FnOnce(&mut Conn) + Send>;

/// A peer on 127.0.0.1 that runs one script per connection, in the order they arrive (each
/// on its own thread, so connections may overlap); joins with what each connection saw.
fn scripted(scripts: Vec<Script>) -> (u16, JoinHandle<Vec<Vec<String>>>) {
    scripted_at("127.0.0.1:0", scripts)
}

/// [`scripted`] on the address `at` (another loopback address, or a given port).
fn scripted_at(at: &str, scripts: Vec<Script>) -> (u16, JoinHandle<Vec<Vec<String>>>) {
    let listener = TcpListener::bind(at).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let thread = std::thread::spawn(move || {
        let mut running = Vec::new();
        for script in scripts {
            let (stream, _) = listener.accept().expect("accept");
            stream.set_read_timeout(Some(LIMIT)).expect("timeout");
            running.push(std::thread::spawn(move || {
                let mut conn = Conn {
                    writer: stream.try_clone().expect("clone"),
                    reader: BufReader::new(stream),
                    seen: Vec::new(),
                };
                script(&mut conn);
                conn.seen
            }));
        }
        running
            .into_iter()
            .map(|t| t.join().expect("script"))
            .collect()
    });
    (port, thread)
}

fn outbound(port: u16, tuning: Tuning) -> Outbound {
    let port = port.to_string();
    let args = [
        "--mx-port",
        port.as_str(),
        "--hostname",
        "relay.sender.test",
    ];
    let options = match options::parse(args.iter().copied()) {
        Ok(options::Parsed::Run(options)) => options,
        other => panic!("{other:?}"),
    };
    Outbound::with_tuning(&options, tuning).expect("outbound")
}

fn job(dir: &Path, name: &str, to: &[&str]) -> OutboundJob {
    let body = b"From: alice@sender.test\r\nSubject: hostile\r\n\r\nHello.\r\n";
    let path = dir.join(name);
    std::fs::write(&path, body).expect("spool");
    OutboundJob {
        domain: "[127.0.0.1]".to_owned(),
        reverse_path: "alice@sender.test".to_owned(),
        recipients: to.iter().map(|s| s.to_string()).collect(),
        message: path,
        size: body.len() as u64,
        smtputf8: false,
        eight_bit: false,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn rcpts(seen: &[String]) -> Vec<&str> {
    seen.iter()
        .map(String::as_str)
        .filter(|l| l.starts_with("RCPT"))
        .collect()
}

/// A cached connection to a server with `LIMITS RCPTMAX=1` carries the first of two
/// recipients, then the server drops it at the second transaction's MAIL. The second
/// recipient goes over a new connection; the first, already delivered, is not sent again.
#[test]
fn a_reused_connection_lost_between_rcptmax_batches_delivers_nobody_twice() {
    let first: Script = Box::new(|conn| {
        conn.hello(&["LIMITS RCPTMAX=1"]);
        // The first message, then the first batch of the second; the second batch's MAIL
        // is read and the connection dropped without a reply.
        for _ in 0..2 {
            for reply in ["250 2.1.0 ok\r\n", "250 2.1.5 ok\r\n", "354 go on\r\n"] {
                conn.line();
                conn.send(reply);
            }
            conn.body();
            conn.send("250 2.0.0 queued\r\n");
        }
        conn.line();
    });
    let second: Script = Box::new(|conn| {
        conn.hello(&["LIMITS RCPTMAX=1"]);
        conn.serve();
    });
    let (port, server) = scripted(vec![first, second]);
    let spool = TempDir::new("outbound-hostile");
    let out = outbound(port, Tuning::default());
    let rt = runtime();
    let warm = rt.block_on(out.deliver(&job(spool.path(), "a", &["warm@[127.0.0.1]"])));
    assert!(
        matches!(warm[0], RecipientResult::Delivered { .. }),
        "{warm:?}"
    );
    let to = ["x@[127.0.0.1]", "y@[127.0.0.1]"];
    let results = rt.block_on(out.deliver(&job(spool.path(), "b", &to)));
    assert_eq!(results.len(), 2, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, RecipientResult::Delivered { .. })),
        "{results:?}"
    );
    rt.block_on(out.shut_down());
    let seen = server.join().expect("server");
    assert_eq!(
        rcpts(&seen[0]),
        ["RCPT TO:<warm@[127.0.0.1]>", "RCPT TO:<x@[127.0.0.1]>",]
    );
    // Only the recipient still open goes over the new connection.
    assert_eq!(
        rcpts(&seen[1]),
        ["RCPT TO:<y@[127.0.0.1]>"],
        "{:?}",
        seen[1]
    );
}

/// An idle connection to a server that takes QUIT and never answers it: shutting down does
/// not wait the client's command timeout (5 minutes by default) for the `221`; it hangs up
/// after the QUIT grace.
#[test]
fn shutting_down_does_not_wait_for_a_server_that_never_answers_quit() {
    let silent: Script = Box::new(|conn| {
        conn.hello(&[]);
        for reply in ["250 2.1.0 ok\r\n", "250 2.1.5 ok\r\n", "354 go on\r\n"] {
            conn.line();
            conn.send(reply);
        }
        conn.body();
        conn.send("250 2.0.0 queued\r\n");
        // QUIT, and then nothing until the client hangs up.
        while conn.line().is_some() {}
    });
    let (port, server) = scripted(vec![silent]);
    let spool = TempDir::new("outbound-hostile");
    let tuning = Tuning {
        quit_grace: Duration::from_millis(200),
        ..Tuning::default()
    };
    let out = outbound(port, tuning);
    let rt = runtime();
    let results = rt.block_on(out.deliver(&job(spool.path(), "m", &["bob@[127.0.0.1]"])));
    assert!(
        matches!(results[0], RecipientResult::Delivered { .. }),
        "{results:?}"
    );
    let closed = rt.block_on(async { tokio::time::timeout(LIMIT, out.shut_down()).await });
    assert!(closed.is_ok(), "shutting down waited for the 221");
    let seen = server.join().expect("server");
    assert_eq!(seen[0].last().map(String::as_str), Some("QUIT"), "{seen:?}");
}

/// An IPv4 address written as an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is that IPv4
/// address: in a domain literal or a DNS AAAA answer, `::ffff:127.0.0.1` is this server when
/// it listens on 127.0.0.1 on the MX port (a loop, 5.4.6), and `::ffff:0.0.0.0` is the
/// unspecified address, which must never be connected to (Linux connects it to this host;
/// 5.4.4). Nothing listens on the MX port here: a connection attempt would be temporary.
#[test]
fn ipv4_mapped_addresses_are_checked_as_the_ipv4_addresses_they_are() {
    let Some(dns) = crate::dnsmasq::Dnsmasq::start(&[
        "--mx-host=mapped.test,mx.mapped.test,10".into(),
        "--host-record=mx.mapped.test,::ffff:127.0.0.1".into(),
        "--mx-host=unspecified.test,mx.unspecified.test,10".into(),
        "--host-record=mx.unspecified.test,::ffff:0.0.0.0".into(),
    ]) else {
        return;
    };
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port().to_string();
    drop(closed);
    let dns_addr = dns.addr.to_string();
    // The SMTP listener on 127.0.0.1 on the MX port: 127.0.0.1 is ours.
    let args = [
        "--mx-port",
        port.as_str(),
        "--bind",
        "127.0.0.1",
        "--smtp",
        port.as_str(),
        "--dns",
        dns_addr.as_str(),
    ];
    let options = match options::parse(args.iter().copied()) {
        Ok(options::Parsed::Run(options)) => options,
        other => panic!("{other:?}"),
    };
    let out = Outbound::with_tuning(&options, Tuning::default()).expect("outbound");
    let spool = TempDir::new("outbound-hostile");
    let rt = runtime();
    for (domain, expected) in [
        ("[IPv6:::ffff:127.0.0.1]", "5.4.6"),
        ("[IPv6:::ffff:0.0.0.0]", "5.4.4"),
        ("mapped.test", "5.4.6"),
        ("unspecified.test", "5.4.4"),
    ] {
        let mut job = job(spool.path(), "m", &[&format!("bob@{domain}")]);
        job.domain = domain.to_owned();
        let results = rt.block_on(out.deliver(&job));
        match &results[..] {
            [RecipientResult::Permanent { status, .. }] => {
                assert_eq!(status, expected, "{domain}: {results:?}")
            }
            other => panic!("{domain}: {other:?}\n{}", dns.log()),
        }
    }
}

/// Two domains whose MX hosts have different names at one address: the connection opened
/// for `mx.a.test` is not reused for `mx.b.test` (a certificate checked for one name says
/// nothing of the other, with `--outbound-tls-verify webpki`), and each result names the
/// server it went to.
#[test]
fn a_connection_is_reused_only_for_the_mx_name_it_was_opened_for() {
    let Some(dns) = crate::dnsmasq::Dnsmasq::start(&[
        "--mx-host=a.test,mx.a.test,10".into(),
        "--host-record=mx.a.test,127.0.0.1".into(),
        "--mx-host=b.test,mx.b.test,10".into(),
        "--host-record=mx.b.test,127.0.0.1".into(),
    ]) else {
        return;
    };
    let script = || -> Script {
        Box::new(|conn| {
            conn.hello(&[]);
            conn.serve();
        })
    };
    let (port, server) = scripted(vec![script(), script()]);
    let dns_addr = dns.addr.to_string();
    let port_text = port.to_string();
    let args = ["--mx-port", port_text.as_str(), "--dns", dns_addr.as_str()];
    let options = match options::parse(args.iter().copied()) {
        Ok(options::Parsed::Run(options)) => options,
        other => panic!("{other:?}"),
    };
    let out = Outbound::with_tuning(&options, Tuning::default()).expect("outbound");
    let spool = TempDir::new("outbound-hostile");
    let rt = runtime();
    for domain in ["a.test", "b.test"] {
        let mut job = job(spool.path(), domain, &[&format!("bob@{domain}")]);
        job.domain = domain.to_owned();
        let results = rt.block_on(out.deliver(&job));
        match &results[..] {
            [RecipientResult::Delivered { remote, .. }] => {
                assert_eq!(remote, &format!("mx.{domain}[127.0.0.1]:{port}"))
            }
            other => panic!("{domain}: {other:?}"),
        }
    }
    rt.block_on(out.shut_down());
    let seen = server.join().expect("server");
    assert_eq!(rcpts(&seen[0]), ["RCPT TO:<bob@a.test>"]);
    assert_eq!(rcpts(&seen[1]), ["RCPT TO:<bob@b.test>"]);
}

/// A mail exchanger whose name cannot be a TLS server name (`mx-.odd.test`: a label that
/// ends with a hyphen, which DNS allows) still gets the mail over STARTTLS: opportunistic TLS
/// names the server by its address then (no SNI; the certificate is not checked in this
/// mode). Before, every attempt failed, the plaintext retry too, and the mail never left.
#[test]
fn an_mx_name_that_cannot_name_a_tls_server_still_gets_mail_over_tls() {
    let Some(python) = crate::outbound_peer::python() else {
        return;
    };
    let Some(dns) = crate::dnsmasq::Dnsmasq::start(&[
        "--mx-host=odd.test,mx-.odd.test,10".into(),
        "--host-record=mx-.odd.test,127.0.0.1".into(),
    ]) else {
        return;
    };
    let peer =
        crate::outbound_peer::Peer::start(&python, &["--tls", "starttls", "--require-starttls"]);
    let dns_addr = dns.addr.to_string();
    let port = peer.port.to_string();
    let args = ["--mx-port", port.as_str(), "--dns", dns_addr.as_str()];
    let options = match options::parse(args.iter().copied()) {
        Ok(options::Parsed::Run(options)) => options,
        other => panic!("{other:?}"),
    };
    let out = Outbound::with_tuning(&options, Tuning::default()).expect("outbound");
    let spool = TempDir::new("outbound-hostile");
    let mut job = job(spool.path(), "odd", &["bob@odd.test"]);
    job.domain = "odd.test".to_owned();
    let results = runtime().block_on(out.deliver(&job));
    match &results[..] {
        [RecipientResult::Delivered { remote, .. }] => {
            assert_eq!(remote, &format!("mx-.odd.test[127.0.0.1]:{port}"))
        }
        other => panic!("{other:?}\n{}", dns.log()),
    }
    let (env, _) = peer.message(1).expect("stored");
    assert_eq!(crate::outbound_peer::facts(&env, "to"), ["bob@odd.test"]);
    assert_eq!(crate::outbound_peer::facts(&env, "tls"), ["1"]);
}

/// A connection idle past the idle time says QUIT; a server that never answers it is hung
/// up on after the QUIT grace, not after the client's command timeout (5 minutes by default):
/// such connections are outside every limit on open connections, so each must end soon.
#[test]
fn an_idle_connection_whose_quit_is_never_answered_is_closed_after_the_grace() {
    let silent: Script = Box::new(|conn| {
        conn.hello(&[]);
        for reply in ["250 2.1.0 ok\r\n", "250 2.1.5 ok\r\n", "354 go on\r\n"] {
            conn.line();
            conn.send(reply);
        }
        conn.body();
        conn.send("250 2.0.0 queued\r\n");
        // QUIT, and then nothing until the client hangs up.
        while conn.line().is_some() {}
    });
    let (port, server) = scripted(vec![silent]);
    let spool = TempDir::new("outbound-hostile");
    let tuning = Tuning {
        idle_timeout: Duration::from_millis(100),
        quit_grace: Duration::from_millis(200),
        ..Tuning::default()
    };
    let out = outbound(port, tuning);
    let rt = runtime();
    let results = rt.block_on(out.deliver(&job(spool.path(), "m", &["bob@[127.0.0.1]"])));
    assert!(
        matches!(results[0], RecipientResult::Delivered { .. }),
        "{results:?}"
    );
    // Drive the runtime (the idle connection's QUIT runs in a task) until the server has
    // seen the end of the stream.
    rt.block_on(async {
        let deadline = tokio::time::Instant::now() + LIMIT;
        while !server.is_finished() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the connection stayed open after its unanswered QUIT"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let seen = server.join().expect("server");
    assert_eq!(seen[0].last().map(String::as_str), Some("QUIT"), "{seen:?}");
}

/// Regression checks of attacks that held up in review: bytes after the `220` to STARTTLS
/// (response injection, CVE-2011-0411 style) end the attempt with a temporary failure, and
/// nothing is retried in plaintext on a new connection; a final `250` sent together with the
/// `354`, before the body, is never taken as delivery.
#[test]
fn starttls_injection_and_an_early_final_reply_never_deliver() {
    let mut tuning = Tuning::default();
    tuning.timeouts.greeting = Duration::from_secs(2);
    let spool = TempDir::new("outbound-hostile");
    let rt = runtime();

    let injected: Script = Box::new(|conn| {
        conn.hello(&["STARTTLS"]);
        conn.line();
        conn.send("220 2.0.0 go ahead\r\n250 injected\r\n");
        while conn.line().is_some() {}
    });
    let (port, server) = scripted(vec![injected]);
    let out = outbound(port, tuning);
    let results = rt.block_on(out.deliver(&job(spool.path(), "i", &["x@[127.0.0.1]"])));
    match &results[..] {
        [RecipientResult::Temporary { diagnostic, .. }] => {
            assert!(diagnostic.contains("response injection"), "{diagnostic}")
        }
        other => panic!("{other:?}"),
    }
    drop(out);
    let seen = server.join().expect("server");
    assert_eq!(seen[0], ["EHLO relay.sender.test", "STARTTLS"]);
    // The one connection the script served was the only one: a plaintext retry would have
    // connected again (and waited for a greeting nobody sends).

    let early: Script = Box::new(|conn| {
        conn.hello(&[]);
        for reply in ["250 2.1.0 ok\r\n", "250 2.1.5 ok\r\n"] {
            conn.line();
            conn.send(reply);
        }
        conn.line();
        conn.send("354 go on\r\n250 2.0.0 queued before the body\r\n");
        while conn.line().is_some() {}
    });
    let (port, server) = scripted(vec![early]);
    let out = outbound(port, tuning);
    let results = rt.block_on(out.deliver(&job(spool.path(), "e", &["x@[127.0.0.1]"])));
    assert!(
        matches!(&results[..], [RecipientResult::Temporary { .. }]),
        "{results:?}"
    );
    drop(out);
    server.join().expect("server");
}

/// Three mail exchangers (on 127.0.0.1, .2 and .3, one port) that each complete the handshake,
/// read MAIL and hang up. A delivery holds sessions with two of them at most (Postfix's
/// `smtp_mx_session_limit`): the third is never contacted, and the recipient waits for the
/// next try. Before the limit, every candidate was tried, each for up to the reply deadlines.
#[test]
fn a_delivery_holds_sessions_with_two_mail_exchangers_at_most() {
    let Some(dns) = crate::dnsmasq::Dnsmasq::start(&[
        "--mx-host=c.test,mx1.c.test,10".into(),
        "--host-record=mx1.c.test,127.0.0.1".into(),
        "--mx-host=c.test,mx2.c.test,20".into(),
        "--host-record=mx2.c.test,127.0.0.2".into(),
        "--mx-host=c.test,mx3.c.test,30".into(),
        "--host-record=mx3.c.test,127.0.0.3".into(),
    ]) else {
        return;
    };
    let hang_up = || -> Script {
        Box::new(|conn| {
            conn.hello(&[]);
            conn.line();
        })
    };
    let (port, first) = scripted(vec![hang_up()]);
    let (_, second) = scripted_at(&format!("127.0.0.2:{port}"), vec![hang_up()]);
    let third = TcpListener::bind(("127.0.0.3", port)).expect("bind the third");
    third.set_nonblocking(true).expect("nonblocking");
    let dns_addr = dns.addr.to_string();
    let port_text = port.to_string();
    let args = ["--mx-port", port_text.as_str(), "--dns", dns_addr.as_str()];
    let options = match options::parse(args.iter().copied()) {
        Ok(options::Parsed::Run(options)) => options,
        other => panic!("{other:?}"),
    };
    let out = Outbound::with_tuning(&options, Tuning::default()).expect("outbound");
    let spool = TempDir::new("outbound-hostile");
    let rt = runtime();
    let mut job = job(spool.path(), "c", &["bob@c.test"]);
    job.domain = "c.test".to_owned();
    let results = rt.block_on(out.deliver(&job));
    match &results[..] {
        [RecipientResult::Temporary { remote, .. }] => {
            assert_eq!(
                remote.as_deref(),
                Some(&*format!("mx2.c.test[127.0.0.2]:{port}"))
            )
        }
        other => panic!("{other:?}"),
    }
    rt.block_on(out.shut_down());
    for seen in [first.join().expect("first"), second.join().expect("second")] {
        assert!(
            seen[0].iter().any(|l| l.starts_with("MAIL FROM:")),
            "{seen:?}"
        );
    }
    match third.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the third mail exchanger was contacted: {other:?}"),
    }
}
