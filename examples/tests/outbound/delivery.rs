//! The mail server's outbound delivery (`examples/mail-server/outbound/`), in process: the
//! module is compiled into the `example_units` test binary (with the modules it needs, whose
//! own unit tests run there once) and delivers to Python's aiosmtpd, a server we did not
//! write, started by each test on loopback (`examples/tests/support/outbound_peer.py`). Each
//! test checks what the remote server stored and saw (envelope, body, TLS, login, which TCP
//! connection), the result each recipient got, and the log lines a user reads.
//!
//! MX lookups go to Debian's `dnsmasq`, also started by the test on loopback
//! (`crates/mx-resolve/tests/support/dnsmasq.rs`), through `--dns`.
//!
//! The Python interpreter is `$SANSMAIL_PYTHON`, else `python3`. Without `aiosmtpd` or
//! `dnsmasq` the tests print why and pass, except under `CI=true`, where they fail.
//!
//! Run them with `cargo test -p sansmail-examples --test example_units outbound`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::dnsmasq;
use crate::options;
use crate::outbound::{Outbound, OutboundJob, RecipientResult, Tuning};
use crate::outbound_peer::{Peer, facts, python};
use crate::support::{self, LIMIT, TempDir};

/// The outbound side built from a command line, with short timeouts.
fn outbound(args: &[&str], tuning: Tuning) -> Outbound {
    let options = match options::parse(args.iter().copied()) {
        Ok(options::Parsed::Run(options)) => options,
        other => panic!("{args:?}: {other:?}"),
    };
    Outbound::with_tuning(&options, tuning).expect("outbound")
}

fn quick() -> Tuning {
    let mut tuning = Tuning::default();
    tuning.timeouts.greeting = Duration::from_secs(10);
    tuning.connect_timeout = Duration::from_secs(10);
    tuning
}

/// A spooled message in `dir` and a job for it.
fn job(dir: &Path, domain: &str, from: &str, to: &[&str], body: &[u8]) -> OutboundJob {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let path = dir.join(format!("message-{n}"));
    std::fs::write(&path, body).expect("spool");
    OutboundJob {
        domain: domain.to_owned(),
        reverse_path: from.to_owned(),
        recipients: to.iter().map(|s| s.to_string()).collect(),
        message: path,
        size: body.len() as u64,
        smtputf8: false,
        eight_bit: false,
    }
}

const BODY: &[u8] = b"From: alice@sender.test\r\nTo: bob@[127.0.0.1]\r\nSubject: out\r\n\r\n\
Hello.\r\n.A line that starts with a dot.\r\n..and two.\r\n";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn delivered(result: &RecipientResult) -> bool {
    matches!(result, RecipientResult::Delivered { .. })
}

/// Log lines written while `f` runs, on this thread.
fn with_logs<T>(f: impl FnOnce() -> T) -> (T, String) {
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let value = tracing::subscriber::with_default(subscriber, f);
    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    (value, logs)
}

/// Plaintext to a domain literal on --mx-port: the envelope, SIZE, the EHLO name and the
/// body byte for byte (the client dot-stuffs, aiosmtpd unstuffs).
#[test]
fn delivers_to_a_domain_literal_on_the_mx_port() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &[]);
    let spool = TempDir::new("outbound-spool");
    let port = peer.port.to_string();
    let out = outbound(
        &["--mx-port", &port, "--hostname", "relay.sender.test"],
        quick(),
    );
    let job = job(
        spool.path(),
        "[127.0.0.1]",
        "alice@sender.test",
        &["bob@[127.0.0.1]"],
        BODY,
    );
    let results = runtime().block_on(out.deliver(&job));
    assert_eq!(results.len(), 1);
    match &results[0] {
        RecipientResult::Delivered { remote, reply } => {
            assert_eq!(remote, &format!("127.0.0.1[127.0.0.1]:{port}"));
            assert!(reply.starts_with("250 2.0.0 OK: queued as 1"), "{reply}");
        }
        other => panic!("{other:?}"),
    }
    let (env, body) = peer.message(1).expect("stored");
    assert_eq!(body, BODY);
    assert_eq!(facts(&env, "from"), ["alice@sender.test"]);
    assert_eq!(facts(&env, "to"), ["bob@[127.0.0.1]"]);
    assert_eq!(facts(&env, "option"), [format!("SIZE={}", BODY.len())]);
    assert_eq!(facts(&env, "helo"), ["relay.sender.test"]);
    assert_eq!(facts(&env, "tls"), ["0"]);
}

/// The null reverse path of a bounce goes out as `MAIL FROM:<>`.
#[test]
fn a_bounce_goes_out_with_the_null_reverse_path() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &[]);
    let spool = TempDir::new("outbound-spool");
    let out = outbound(&["--mx-port", &peer.port.to_string()], quick());
    let job = job(spool.path(), "[127.0.0.1]", "", &["bob@[127.0.0.1]"], BODY);
    let results = runtime().block_on(out.deliver(&job));
    assert!(delivered(&results[0]), "{results:?}");
    let (env, _) = peer.message(1).expect("stored");
    assert_eq!(facts(&env, "from"), ["<>"]);
}

/// One RCPT refused with 550, one deferred with 450, with and without PIPELINING: each
/// recipient gets its own result, in order, and only the accepted ones get the message.
#[test]
fn each_recipient_gets_the_result_of_its_rcpt() {
    let Some(python) = python() else { return };
    for pipelining in [false, true] {
        let mut args = vec![
            "--reject",
            "gone@[127.0.0.1]",
            "--defer",
            "busy@[127.0.0.1]",
        ];
        if pipelining {
            args.push("--pipelining");
        }
        let peer = Peer::start(&python, &args);
        let spool = TempDir::new("outbound-spool");
        let out = outbound(&["--mx-port", &peer.port.to_string()], quick());
        let to = [
            "one@[127.0.0.1]",
            "gone@[127.0.0.1]",
            "busy@[127.0.0.1]",
            "two@[127.0.0.1]",
        ];
        let job = job(spool.path(), "[127.0.0.1]", "alice@sender.test", &to, BODY);
        let results = runtime().block_on(out.deliver(&job));
        assert_eq!(results.len(), 4, "{results:?}");
        assert!(delivered(&results[0]), "{results:?}");
        match &results[1] {
            RecipientResult::Permanent {
                remote,
                status,
                diagnostic,
            } => {
                assert_eq!(status, "5.1.1");
                assert!(remote.is_some());
                assert!(
                    diagnostic.starts_with("550 5.1.1 <gone@[127.0.0.1]>"),
                    "{diagnostic}"
                );
            }
            other => panic!("{other:?}"),
        }
        match &results[2] {
            RecipientResult::Temporary { diagnostic, .. } => {
                assert!(diagnostic.starts_with("450 4.2.1"), "{diagnostic}")
            }
            other => panic!("{other:?}"),
        }
        assert!(delivered(&results[3]), "{results:?}");
        let (env, body) = peer.message(1).expect("stored");
        assert_eq!(facts(&env, "to"), ["one@[127.0.0.1]", "two@[127.0.0.1]"]);
        assert_eq!(body, BODY);
        assert_eq!(peer.count(), 1);
    }
}

/// A 554 after DATA: every recipient that was accepted gets a permanent failure with the
/// reply's enhanced code; one refused at RCPT keeps its own.
#[test]
fn a_refusal_after_data_fails_every_accepted_recipient() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &["--reject-data", "--reject", "gone@[127.0.0.1]"]);
    let spool = TempDir::new("outbound-spool");
    let out = outbound(&["--mx-port", &peer.port.to_string()], quick());
    let to = ["one@[127.0.0.1]", "gone@[127.0.0.1]", "two@[127.0.0.1]"];
    let job = job(spool.path(), "[127.0.0.1]", "alice@sender.test", &to, BODY);
    let results = runtime().block_on(out.deliver(&job));
    let statuses: Vec<&str> = results
        .iter()
        .map(|r| match r {
            RecipientResult::Permanent { status, .. } => status.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(statuses, ["5.7.1", "5.1.1", "5.7.1"]);
    assert_eq!(peer.count(), 0);
}

/// STARTTLS is used when the MX offers it, with a certificate that does not verify
/// (self-signed): opportunistic TLS accepts any certificate (RFC 7435).
#[test]
fn starttls_is_used_when_offered() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &["--tls", "starttls", "--require-starttls"]);
    let spool = TempDir::new("outbound-spool");
    let out = outbound(&["--mx-port", &peer.port.to_string()], quick());
    let job = job(
        spool.path(),
        "[127.0.0.1]",
        "alice@sender.test",
        &["bob@[127.0.0.1]"],
        BODY,
    );
    let (results, logs) = with_logs(|| runtime().block_on(out.deliver(&job)));
    assert!(delivered(&results[0]), "{results:?}\n{logs}");
    let (env, body) = peer.message(1).expect("stored");
    assert_eq!(facts(&env, "tls"), ["1"]);
    assert_eq!(body, BODY);
    assert!(logs.contains("STARTTLS established"), "{logs}");
}

/// A server that offers STARTTLS but cannot complete a handshake: the message goes in
/// plaintext on a new connection to the same server, and the log says so.
#[test]
fn a_failed_opportunistic_handshake_is_retried_in_plaintext_and_logged() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &["--tls", "broken"]);
    let spool = TempDir::new("outbound-spool");
    let out = outbound(&["--mx-port", &peer.port.to_string()], quick());
    let job = job(
        spool.path(),
        "[127.0.0.1]",
        "alice@sender.test",
        &["bob@[127.0.0.1]"],
        BODY,
    );
    let (results, logs) = with_logs(|| runtime().block_on(out.deliver(&job)));
    assert!(delivered(&results[0]), "{results:?}\n{logs}");
    let (env, body) = peer.message(1).expect("stored");
    assert_eq!(facts(&env, "tls"), ["0"]);
    assert_eq!(body, BODY);
    let fallback = logs
        .lines()
        .find(|l| l.contains("STARTTLS handshake failed: delivering in plaintext"))
        .unwrap_or_else(|| panic!("no fallback line in:\n{logs}"));
    assert!(fallback.contains("WARN"), "{fallback}");
    assert!(
        fallback.contains(&format!("remote=127.0.0.1[127.0.0.1]:{}", peer.port)),
        "{fallback}"
    );
    // Two connections: the one whose handshake failed, and the plaintext one.
    let opened = peer
        .events()
        .lines()
        .filter(|l| l.starts_with("open "))
        .count();
    assert_eq!(opened, 2, "{}", peer.events());
}

/// --require-tls: a server without STARTTLS, or one whose handshake fails, gets nothing; the
/// recipients fail temporarily, and nothing is retried in plaintext.
#[test]
fn require_tls_never_falls_back_to_plaintext() {
    let Some(python) = python() else { return };
    for (server, says) in [
        (&[][..], "does not offer STARTTLS"),
        (&["--tls", "broken"][..], "TLS handshake failed"),
    ] {
        let peer = Peer::start(&python, server);
        let spool = TempDir::new("outbound-spool");
        let port = peer.port.to_string();
        let out = outbound(&["--mx-port", &port, "--require-tls"], quick());
        let job = job(
            spool.path(),
            "[127.0.0.1]",
            "alice@sender.test",
            &["bob@[127.0.0.1]", "carol@[127.0.0.1]"],
            BODY,
        );
        let (results, logs) = with_logs(|| runtime().block_on(out.deliver(&job)));
        assert_eq!(results.len(), 2);
        for result in &results {
            match result {
                RecipientResult::Temporary { remote, diagnostic } => {
                    assert!(diagnostic.contains(says), "{diagnostic}");
                    assert_eq!(
                        remote.as_deref(),
                        Some(format!("127.0.0.1[127.0.0.1]:{port}").as_str())
                    );
                }
                other => panic!("{server:?}: {other:?}"),
            }
        }
        assert_eq!(peer.count(), 0);
        assert!(!logs.contains("delivering in plaintext"), "{logs}");
        let opened = peer
            .events()
            .lines()
            .filter(|l| l.starts_with("open "))
            .count();
        assert_eq!(opened, 1, "{}", peer.events());
    }
}

/// Two messages to one server, one after the other, travel over one TCP connection; once it
/// has been idle for the idle time, the connection is closed with QUIT.
#[test]
fn a_connection_is_reused_for_the_next_message_then_closed_when_idle() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &["--pipelining"]);
    let spool = TempDir::new("outbound-spool");
    let mut tuning = quick();
    tuning.idle_timeout = Duration::from_millis(500);
    let out = outbound(&["--mx-port", &peer.port.to_string()], tuning);
    let rt = runtime();
    for to in ["one@[127.0.0.1]", "two@[127.0.0.1]"] {
        let job = job(
            spool.path(),
            "[127.0.0.1]",
            "alice@sender.test",
            &[to],
            BODY,
        );
        let results = rt.block_on(out.deliver(&job));
        assert!(delivered(&results[0]), "{results:?}");
    }
    let first = peer.message(1).expect("first").0;
    let second = peer.message(2).expect("second").0;
    assert_eq!(facts(&first, "to"), ["one@[127.0.0.1]"]);
    assert_eq!(facts(&second, "to"), ["two@[127.0.0.1]"]);
    let connection = facts(&first, "peer")[0].to_owned();
    assert_eq!(facts(&second, "peer"), [connection.as_str()]);
    assert_eq!(peer.events(), format!("open {connection}\n"));
    // Past the idle time (a lower bound, the one kind of timing a test may rely on) the
    // connection says QUIT.
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(1500)).await });
    support::poll("QUIT of the idle connection", || {
        peer.events()
            .contains(&format!("quit {connection}\nclose {connection}\n"))
            .then_some(())
    });
}

/// A cached connection the server has closed meanwhile (aiosmtpd's idle timeout, 421) is
/// noticed before use: the next message goes over a new connection.
#[test]
fn a_cached_connection_the_server_closed_is_replaced() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &["--timeout", "0.5"]);
    let spool = TempDir::new("outbound-spool");
    let out = outbound(&["--mx-port", &peer.port.to_string()], quick());
    let rt = runtime();
    let first = job(
        spool.path(),
        "[127.0.0.1]",
        "alice@sender.test",
        &["one@[127.0.0.1]"],
        BODY,
    );
    assert!(delivered(&rt.block_on(out.deliver(&first))[0]));
    support::poll("the server to close the idle connection", || {
        peer.events().contains("close ").then_some(())
    });
    let second = job(
        spool.path(),
        "[127.0.0.1]",
        "alice@sender.test",
        &["two@[127.0.0.1]"],
        BODY,
    );
    let results = rt.block_on(out.deliver(&second));
    assert!(delivered(&results[0]), "{results:?}");
    let a = peer.message(1).expect("first").0;
    let b = peer.message(2).expect("second").0;
    assert_ne!(facts(&a, "peer"), facts(&b, "peer"));
}

/// Two messages for one domain at once with --outbound-connections-per-domain 1: one waits
/// for the other (the server never sees two transactions at once) and then reuses its
/// connection. With a limit of 2 they overlap, which shows the test can fail.
#[test]
fn the_per_domain_limit_serialises_deliveries_to_one_domain() {
    let Some(python) = python() else { return };
    for (limit, expected_active) in [("1", 1), ("2", 2)] {
        let peer = Peer::start(&python, &["--delay-data", "1"]);
        let spool = TempDir::new("outbound-spool");
        let port = peer.port.to_string();
        let out = outbound(
            &[
                "--mx-port",
                &port,
                "--outbound-connections-per-domain",
                limit,
            ],
            quick(),
        );
        let a = job(
            spool.path(),
            "[127.0.0.1]",
            "alice@sender.test",
            &["one@[127.0.0.1]"],
            BODY,
        );
        let b = job(
            spool.path(),
            "[127.0.0.1]",
            "alice@sender.test",
            &["two@[127.0.0.1]"],
            BODY,
        );
        let (ra, rb) = runtime().block_on(async { tokio::join!(out.deliver(&a), out.deliver(&b)) });
        assert!(delivered(&ra[0]) && delivered(&rb[0]), "{ra:?} {rb:?}");
        assert_eq!(peer.max_active(), expected_active, "limit {limit}");
        let first = peer.message(1).expect("first").0;
        let second = peer.message(2).expect("second").0;
        if limit == "1" {
            assert_eq!(facts(&first, "peer"), facts(&second, "peer"));
        }
    }
}

/// --outbound-connections 1 bounds deliveries across domains: two domains' messages at once
/// never overlap at the server (which listens on 127.0.0.1 and 127.0.0.2).
#[test]
fn the_global_limit_bounds_deliveries_across_domains() {
    let Some(python) = python() else { return };
    for (limit, expected_active) in [("1", 1), ("2", 2)] {
        let peer = Peer::start(
            &python,
            &[
                "--delay-data",
                "1",
                "--bind",
                "127.0.0.1",
                "--bind",
                "127.0.0.2",
            ],
        );
        let spool = TempDir::new("outbound-spool");
        let port = peer.port.to_string();
        let out = outbound(
            &["--mx-port", &port, "--outbound-connections", limit],
            quick(),
        );
        let a = job(
            spool.path(),
            "[127.0.0.1]",
            "alice@sender.test",
            &["one@[127.0.0.1]"],
            BODY,
        );
        let b = job(
            spool.path(),
            "[127.0.0.2]",
            "alice@sender.test",
            &["two@[127.0.0.2]"],
            BODY,
        );
        let (ra, rb) = runtime().block_on(async { tokio::join!(out.deliver(&a), out.deliver(&b)) });
        assert!(delivered(&ra[0]) && delivered(&rb[0]), "{ra:?} {rb:?}");
        assert_eq!(peer.max_active(), expected_active, "limit {limit}");
        let servers: Vec<String> = (1..=2)
            .map(|n| facts(&peer.message(n).expect("stored").0, "server")[0].to_owned())
            .collect();
        assert!(servers.contains(&"127.0.0.2".to_owned()), "{servers:?}");
    }
}

/// A message that needs SMTPUTF8 to a server without it bounces with 5.6.7 (RFC 6531
/// section 3.4); to a server with it, MAIL carries SMTPUTF8. 8-bit content carries
/// BODY=8BITMIME.
#[test]
fn smtputf8_and_8bitmime_parameters_follow_the_job() {
    let Some(python) = python() else { return };
    let spool = TempDir::new("outbound-spool");
    let peer = Peer::start(&python, &[]);
    let out = outbound(&["--mx-port", &peer.port.to_string()], quick());
    let mut utf8 = job(
        spool.path(),
        "[127.0.0.1]",
        "j\u{f6}rg@sender.test",
        &["bob@[127.0.0.1]", "carol@[127.0.0.1]"],
        BODY,
    );
    utf8.smtputf8 = true;
    let results = runtime().block_on(out.deliver(&utf8));
    for result in &results {
        match result {
            RecipientResult::Permanent {
                status, diagnostic, ..
            } => {
                assert_eq!(status, "5.6.7");
                assert!(diagnostic.contains("SMTPUTF8"), "{diagnostic}");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(results.len(), 2);
    assert_eq!(peer.count(), 0);

    let peer = Peer::start(&python, &["--smtputf8"]);
    let out = outbound(&["--mx-port", &peer.port.to_string()], quick());
    let results = runtime().block_on(out.deliver(&utf8));
    assert!(results.iter().all(delivered), "{results:?}");
    let (env, _) = peer.message(1).expect("stored");
    assert_eq!(facts(&env, "from"), ["j\u{f6}rg@sender.test"]);
    assert!(facts(&env, "option").contains(&"SMTPUTF8"), "{env}");

    let mut eight = job(
        spool.path(),
        "[127.0.0.1]",
        "alice@sender.test",
        &["bob@[127.0.0.1]"],
        "Subject: caf\u{e9}\r\n\r\ncaf\u{e9}\r\n".as_bytes(),
    );
    eight.eight_bit = true;
    let results = runtime().block_on(out.deliver(&eight));
    assert!(delivered(&results[0]), "{results:?}");
    let (env, body) = peer.message(2).expect("stored");
    assert!(facts(&env, "option").contains(&"BODY=8BITMIME"), "{env}");
    assert_eq!(body, "Subject: caf\u{e9}\r\n\r\ncaf\u{e9}\r\n".as_bytes());
}

/// A message larger than one body piece of the driver (64 KiB) arrives whole, streamed from
/// the spool file.
#[test]
fn a_large_message_arrives_whole() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &[]);
    let spool = TempDir::new("outbound-spool");
    let out = outbound(&["--mx-port", &peer.port.to_string()], quick());
    let mut body = b"Subject: big\r\n\r\n".to_vec();
    for i in 0..20_000 {
        body.extend_from_slice(format!("{i:06} .line of the large message\r\n").as_bytes());
        if i % 1000 == 0 {
            body.extend_from_slice(b".\r\n");
        }
    }
    let job = job(
        spool.path(),
        "[127.0.0.1]",
        "alice@sender.test",
        &["bob@[127.0.0.1]"],
        &body,
    );
    let results = runtime().block_on(out.deliver(&job));
    assert!(delivered(&results[0]), "{results:?}");
    assert_eq!(peer.message(1).expect("stored").1, body);
}

/// Nothing listens: the recipients fail temporarily with the connection error.
#[test]
fn no_server_listening_is_a_temporary_failure() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port().to_string();
    drop(closed);
    let spool = TempDir::new("outbound-spool");
    let out = outbound(&["--mx-port", &port], quick());
    let job = job(
        spool.path(),
        "[127.0.0.1]",
        "alice@sender.test",
        &["bob@[127.0.0.1]"],
        BODY,
    );
    let results = runtime().block_on(out.deliver(&job));
    match &results[0] {
        RecipientResult::Temporary { remote, diagnostic } => {
            assert!(diagnostic.starts_with("cannot connect:"), "{diagnostic}");
            assert_eq!(
                remote.as_deref(),
                Some(format!("127.0.0.1[127.0.0.1]:{port}").as_str())
            );
        }
        other => panic!("{other:?}"),
    }
}

/// A server that accepts and never greets: past the greeting timeout the recipients fail
/// temporarily.
#[test]
fn a_silent_server_times_out_at_the_greeting() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port().to_string();
    let spool = TempDir::new("outbound-spool");
    let mut tuning = quick();
    tuning.timeouts.greeting = Duration::from_millis(300);
    let out = outbound(&["--mx-port", &port], tuning);
    let job = job(
        spool.path(),
        "[127.0.0.1]",
        "alice@sender.test",
        &["bob@[127.0.0.1]"],
        BODY,
    );
    let results = runtime().block_on(out.deliver(&job));
    match &results[0] {
        RecipientResult::Temporary { diagnostic, .. } => {
            assert!(diagnostic.contains("the greeting"), "{diagnostic}")
        }
        other => panic!("{other:?}"),
    }
    drop(silent);
}

/// Recipients and senders that are no addresses, literals this server cannot reach, and a
/// literal that is its own relay listener: permanent, with the status a bounce carries.
#[test]
fn bad_addresses_and_literals_are_permanent() {
    let spool = TempDir::new("outbound-spool");
    // The relay listener on 127.0.0.1 is on the MX port: [127.0.0.1] is this server.
    let out = outbound(&["--mx-port", "2525"], quick());
    let rt = runtime();
    let status = |job: &OutboundJob| -> Vec<String> {
        rt.block_on(out.deliver(job))
            .into_iter()
            .map(|r| match r {
                RecipientResult::Permanent { status, .. } => status,
                other => panic!("{other:?}"),
            })
            .collect()
    };
    let looped = job(
        spool.path(),
        "[127.0.0.1]",
        "alice@sender.test",
        &["bob@[127.0.0.1]"],
        BODY,
    );
    assert_eq!(status(&looped), ["5.4.6"]);
    let general = job(
        spool.path(),
        "[x-tag:whatever]",
        "alice@sender.test",
        &["bob@[x-tag:whatever]"],
        BODY,
    );
    assert_eq!(status(&general), ["5.1.2"]);
    let bad_rcpt = job(
        spool.path(),
        "[127.0.0.1]",
        "alice@sender.test",
        &["not an address", "bob@[127.0.0.1]"],
        BODY,
    );
    assert_eq!(status(&bad_rcpt), ["5.1.3", "5.4.6"]);
    let bad_from = job(
        spool.path(),
        "[127.0.0.1]",
        "alice@@sender.test",
        &["bob@[127.0.0.1]", "carol@[127.0.0.1]"],
        BODY,
    );
    assert_eq!(status(&bad_from), ["5.1.7", "5.1.7"]);
}

/// A password file with the --password-file rules (mode 0600).
fn password_file(dir: &Path, password: &str) -> PathBuf {
    let path = dir.join("smarthost-password");
    std::fs::write(&path, format!("{password}\n")).expect("password file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    path
}

/// --smarthost: every domain goes to the relay, over STARTTLS with its certificate verified
/// (--smarthost-ca), authenticated with the configured user and password file.
#[test]
fn the_smarthost_gets_everything_over_verified_tls_with_auth() {
    let Some(python) = python() else { return };
    let peer = Peer::start(
        &python,
        &[
            "--tls",
            "starttls",
            "--require-starttls",
            "--user",
            "relay-user:relay pass",
        ],
    );
    let spool = TempDir::new("outbound-spool");
    let password = password_file(spool.path(), "relay pass");
    let smarthost = format!("127.0.0.1:{}", peer.port);
    let ca = peer.cert();
    let base = [
        "--smarthost",
        smarthost.as_str(),
        "--smarthost-user",
        "relay-user",
        "--smarthost-password-file",
        password.to_str().expect("utf-8"),
    ];
    let mut args = base.to_vec();
    args.extend(["--smarthost-ca", ca.to_str().expect("utf-8")]);
    let out = outbound(&args, quick());
    // A domain with no DNS at all: the smarthost route needs none.
    let job = job(
        spool.path(),
        "example.invalid",
        "alice@sender.test",
        &["bob@example.invalid"],
        BODY,
    );
    let results = runtime().block_on(out.deliver(&job));
    match &results[0] {
        RecipientResult::Delivered { remote, .. } => {
            assert_eq!(remote, &format!("127.0.0.1[127.0.0.1]:{}", peer.port))
        }
        other => panic!("{other:?}"),
    }
    let (env, body) = peer.message(1).expect("stored");
    assert_eq!(facts(&env, "tls"), ["1"]);
    assert_eq!(facts(&env, "login"), ["relay-user"]);
    assert_eq!(facts(&env, "to"), ["bob@example.invalid"]);
    assert_eq!(body, BODY);

    // Without the CA the self-signed certificate does not verify: nothing is sent, in
    // plaintext or otherwise.
    let out = outbound(&base, quick());
    let results = runtime().block_on(out.deliver(&job));
    match &results[0] {
        RecipientResult::Temporary { diagnostic, .. } => {
            assert!(diagnostic.contains("TLS handshake failed"), "{diagnostic}");
            assert!(
                diagnostic.to_lowercase().contains("certificate"),
                "{diagnostic}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(peer.count(), 1);

    // A wrong password: refused, temporarily (the relay may be misconfigured for now).
    let wrong = password_file(spool.path(), "not the password");
    let out = outbound(
        &[
            "--smarthost",
            smarthost.as_str(),
            "--smarthost-user",
            "relay-user",
            "--smarthost-password-file",
            wrong.to_str().expect("utf-8"),
            "--smarthost-ca",
            ca.to_str().expect("utf-8"),
        ],
        quick(),
    );
    let results = runtime().block_on(out.deliver(&job));
    match &results[0] {
        RecipientResult::Temporary { diagnostic, .. } => {
            assert!(diagnostic.contains("authentication"), "{diagnostic}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(peer.count(), 1);
}

/// The smarthost never gets plaintext: one without STARTTLS is a temporary failure.
#[test]
fn a_smarthost_without_starttls_gets_nothing() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &[]);
    let spool = TempDir::new("outbound-spool");
    let smarthost = format!("127.0.0.1:{}", peer.port);
    let out = outbound(&["--smarthost", &smarthost], quick());
    let job = job(
        spool.path(),
        "example.org",
        "alice@sender.test",
        &["bob@example.org"],
        BODY,
    );
    let results = runtime().block_on(out.deliver(&job));
    match &results[0] {
        RecipientResult::Temporary { diagnostic, .. } => {
            assert!(
                diagnostic.contains("does not offer STARTTLS"),
                "{diagnostic}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(peer.count(), 0);
}

/// A smarthost password file others may read is refused when the server starts, naming the
/// flag and never the password.
#[test]
fn a_smarthost_password_file_others_can_read_is_refused() {
    let spool = TempDir::new("outbound-spool");
    let path = password_file(spool.path(), "s3cret-pw");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let options = match options::parse([
        "--smarthost",
        "127.0.0.1:2587",
        "--smarthost-user",
        "u",
        "--smarthost-password-file",
        path.to_str().expect("utf-8"),
    ]) {
        Ok(options::Parsed::Run(options)) => options,
        other => panic!("{other:?}"),
    };
    let error = Outbound::from_options(&options).expect_err("refused");
    assert!(error.starts_with("--smarthost-password-file "), "{error}");
    assert!(error.contains("chmod 600"), "{error}");
    assert!(!error.contains("s3cret-pw"), "{error}");
}

/// MX resolution through --dns: the candidates in preference order on --mx-port. The best MX
/// (127.0.0.3) has nothing listening, so the message goes to the next one (127.0.0.1); the
/// log says why the first was passed over.
#[test]
fn mail_goes_to_the_mx_hosts_in_preference_order() {
    let Some(python) = python() else { return };
    let Some(dns) = dnsmasq::Dnsmasq::start(&[
        "--mx-host=b.test,mx1.b.test,10".into(),
        "--mx-host=b.test,mx2.b.test,20".into(),
        "--host-record=mx1.b.test,127.0.0.3".into(),
        "--host-record=mx2.b.test,127.0.0.1".into(),
    ]) else {
        return;
    };
    let peer = Peer::start(&python, &[]);
    let spool = TempDir::new("outbound-spool");
    let port = peer.port.to_string();
    let dns_addr = dns.addr.to_string();
    let out = outbound(&["--mx-port", &port, "--dns", &dns_addr], quick());
    let job = job(
        spool.path(),
        "b.test",
        "alice@sender.test",
        &["user@b.test"],
        BODY,
    );
    let (results, logs) = with_logs(|| runtime().block_on(out.deliver(&job)));
    match &results[0] {
        RecipientResult::Delivered { remote, .. } => {
            assert_eq!(remote, &format!("mx2.b.test[127.0.0.1]:{port}"))
        }
        other => panic!("{other:?}\n{logs}"),
    }
    let (env, body) = peer.message(1).expect("stored");
    assert_eq!(facts(&env, "to"), ["user@b.test"]);
    assert_eq!(body, BODY);
    let passed = logs
        .lines()
        .find(|l| l.contains("trying the next candidate"))
        .unwrap_or_else(|| panic!("{logs}"));
    assert!(
        passed.contains(&format!("mx1.b.test[127.0.0.3]:{port}")),
        "{passed}"
    );
    assert!(dns.questions("MX", "b.test") >= 1, "{}", dns.log());
}

/// Lookup failures, each classed for the bounce or the retry: a null MX (RFC 7505, 5.1.10),
/// a domain that does not exist (5.4.4), a best MX that is this server (5.4.6), and a DNS
/// server that does not answer (temporary, 4.4.3).
#[test]
fn lookup_failures_are_permanent_or_temporary() {
    let Some(dns) = dnsmasq::Dnsmasq::start(&[
        "--mx-host=null.test,.,0".into(),
        "--mx-host=self.test,mx.self.test,10".into(),
        "--host-record=mx.self.test,127.0.0.1".into(),
    ]) else {
        return;
    };
    let spool = TempDir::new("outbound-spool");
    let dns_addr = dns.addr.to_string();
    // The relay listener is 127.0.0.1:2525 and so is the MX port: mx.self.test is us.
    let out = outbound(&["--mx-port", "2525", "--dns", &dns_addr], quick());
    let rt = runtime();
    for (domain, status) in [
        ("null.test", "5.1.10"),
        ("nowhere.test", "5.4.4"),
        ("self.test", "5.4.6"),
    ] {
        let job = job(
            spool.path(),
            domain,
            "alice@sender.test",
            &[&format!("a@{domain}"), &format!("b@{domain}")],
            BODY,
        );
        let results = rt.block_on(out.deliver(&job));
        assert_eq!(results.len(), 2);
        for result in results {
            match result {
                RecipientResult::Permanent {
                    status: got,
                    remote,
                    diagnostic,
                } => {
                    assert_eq!(got, status, "{domain}: {diagnostic}");
                    assert_eq!(remote, None);
                }
                other => panic!("{domain}: {other:?}"),
            }
        }
    }
    // A nameserver that never answers: a UDP socket nobody reads.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let silent_addr = silent.local_addr().expect("addr").to_string();
    let out = outbound(&["--dns", &silent_addr], quick());
    let job = job(
        spool.path(),
        "b.test",
        "alice@sender.test",
        &["user@b.test"],
        BODY,
    );
    match &rt.block_on(out.deliver(&job))[0] {
        RecipientResult::Temporary { remote, diagnostic } => {
            assert_eq!(remote, &None);
            assert!(diagnostic.contains("b.test"), "{diagnostic}");
        }
        other => panic!("{other:?}"),
    }
}

/// What a scripted server saw: the command lines and the BDAT chunks, in order.
fn scripted_mx(listener: std::net::TcpListener) -> std::thread::JoinHandle<Vec<String>> {
    use std::io::Read;
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        stream.set_read_timeout(Some(LIMIT)).expect("timeout");
        let mut writer = stream.try_clone().expect("clone");
        let mut reader = BufReader::new(stream);
        let mut seen = Vec::new();
        let line = |reader: &mut BufReader<std::net::TcpStream>, seen: &mut Vec<String>| {
            let mut line = String::new();
            reader.read_line(&mut line).expect("read");
            seen.push(line.trim_end().to_owned());
            line
        };
        writer.write_all(b"220 scripted.test ESMTP\r\n").unwrap();
        line(&mut reader, &mut seen);
        writer
            .write_all(
                b"250-scripted.test\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 SIZE 1000000\r\n",
            )
            .unwrap();
        // No reply before MAIL and both RCPTs have arrived: a client that waited for the
        // reply to MAIL would wait for ever.
        for _ in 0..3 {
            line(&mut reader, &mut seen);
        }
        writer
            .write_all(b"250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no such user\r\n")
            .unwrap();
        let bdat = line(&mut reader, &mut seen);
        let size: usize = bdat
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .expect("BDAT size");
        let mut chunk = vec![0; size];
        reader.read_exact(&mut chunk).expect("chunk");
        seen.push(String::from_utf8_lossy(&chunk).into_owned());
        writer.write_all(b"250 2.0.0 queued\r\n").unwrap();
        seen
    })
}

/// With PIPELINING and CHUNKING offered, MAIL and the RCPTs go out together and the body as
/// BDAT, byte for byte (no dot-stuffing), after the RCPT replies, to the accepted recipients.
#[test]
fn pipelining_and_chunking_are_used_when_offered() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    let server = scripted_mx(listener);
    let spool = TempDir::new("outbound-spool");
    let mut tuning = quick();
    tuning.timeouts.mail = Duration::from_secs(5);
    let out = outbound(
        &["--mx-port", &port, "--hostname", "relay.sender.test"],
        tuning,
    );
    let job = job(
        spool.path(),
        "[127.0.0.1]",
        "alice@sender.test",
        &["one@[127.0.0.1]", "gone@[127.0.0.1]"],
        BODY,
    );
    let results = runtime().block_on(out.deliver(&job));
    assert!(delivered(&results[0]), "{results:?}");
    assert!(
        matches!(&results[1], RecipientResult::Permanent { status, .. } if status == "5.1.1"),
        "{results:?}"
    );
    let seen = server.join().expect("server");
    assert_eq!(
        seen,
        [
            "EHLO relay.sender.test".to_owned(),
            format!("MAIL FROM:<alice@sender.test> SIZE={}", BODY.len()),
            "RCPT TO:<one@[127.0.0.1]>".to_owned(),
            "RCPT TO:<gone@[127.0.0.1]>".to_owned(),
            format!("BDAT {} LAST", BODY.len()),
            String::from_utf8(BODY.to_vec()).unwrap(),
        ]
    );
}

/// A server announcing `LIMITS RCPTMAX=2` (RFC 9422) gets five recipients in three
/// transactions over the one connection.
#[test]
fn recipients_beyond_the_servers_rcptmax_go_in_further_transactions() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &["--rcptmax", "2", "--pipelining"]);
    let spool = TempDir::new("outbound-spool");
    let out = outbound(&["--mx-port", &peer.port.to_string()], quick());
    let to = ["a", "b", "c", "d", "e"].map(|u| format!("{u}@[127.0.0.1]"));
    let to: Vec<&str> = to.iter().map(String::as_str).collect();
    let job = job(spool.path(), "[127.0.0.1]", "alice@sender.test", &to, BODY);
    let results = runtime().block_on(out.deliver(&job));
    assert!(results.iter().all(delivered), "{results:?}");
    assert_eq!(results.len(), 5);
    let batches: Vec<Vec<String>> = (1..=3)
        .map(|n| {
            let (env, body) = peer.message(n).expect("stored");
            assert_eq!(body, BODY);
            facts(&env, "to").into_iter().map(str::to_owned).collect()
        })
        .collect();
    assert_eq!(
        batches,
        [
            vec!["a@[127.0.0.1]", "b@[127.0.0.1]"],
            vec!["c@[127.0.0.1]", "d@[127.0.0.1]"],
            vec!["e@[127.0.0.1]"]
        ]
    );
    assert_eq!(peer.count(), 3);
    assert_eq!(peer.events().lines().count(), 1, "{}", peer.events());
}

/// Shutting down closes the idle connections with QUIT.
#[test]
fn shutting_down_says_quit_on_idle_connections() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &[]);
    let spool = TempDir::new("outbound-spool");
    let out = outbound(&["--mx-port", &peer.port.to_string()], quick());
    let job = job(
        spool.path(),
        "[127.0.0.1]",
        "alice@sender.test",
        &["bob@[127.0.0.1]"],
        BODY,
    );
    let rt = runtime();
    assert!(delivered(&rt.block_on(out.deliver(&job))[0]));
    let connection = facts(&peer.message(1).expect("stored").0, "peer")[0].to_owned();
    assert!(!peer.events().contains("quit"), "{}", peer.events());
    rt.block_on(out.shut_down());
    support::poll("QUIT at shutdown", || {
        peer.events()
            .contains(&format!("quit {connection}\n"))
            .then_some(())
    });
}

/// A spool file that cannot be read fails temporarily, and no other MX is tried with it
/// (both MX hosts are the one peer, on 127.0.0.1 and 127.0.0.2).
#[test]
fn an_unreadable_spool_file_is_temporary_and_tries_no_other_mx() {
    let Some(python) = python() else { return };
    let Some(dns) = dnsmasq::Dnsmasq::start(&[
        "--mx-host=b.test,mx1.b.test,10".into(),
        "--mx-host=b.test,mx2.b.test,20".into(),
        "--host-record=mx1.b.test,127.0.0.1".into(),
        "--host-record=mx2.b.test,127.0.0.2".into(),
    ]) else {
        return;
    };
    let peer = Peer::start(&python, &["--bind", "127.0.0.1", "--bind", "127.0.0.2"]);
    let spool = TempDir::new("outbound-spool");
    let dns_addr = dns.addr.to_string();
    let out = outbound(
        &["--mx-port", &peer.port.to_string(), "--dns", &dns_addr],
        quick(),
    );
    let mut job = job(
        spool.path(),
        "b.test",
        "alice@sender.test",
        &["user@b.test"],
        BODY,
    );
    job.message = spool.path().join("gone");
    match &runtime().block_on(out.deliver(&job))[0] {
        RecipientResult::Temporary { diagnostic, .. } => {
            assert!(
                diagnostic.starts_with("cannot read the queued message"),
                "{diagnostic}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(peer.count(), 0);
    let opened = peer
        .events()
        .lines()
        .filter(|l| l.starts_with("open "))
        .count();
    assert_eq!(opened, 1, "{}", peer.events());
}

/// A server whose listen queue is full never completes the TCP handshake: past the connect
/// timeout the recipients fail temporarily.
#[test]
fn a_connection_that_never_completes_times_out() {
    let rt = runtime();
    let _guard = rt.enter();
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
    // A backlog of 0 holds one connection; the next SYNs are dropped while it is not
    // accepted.
    let listener = socket.listen(0).expect("listen");
    let addr = listener.local_addr().expect("addr");
    let fillers: Vec<std::net::TcpStream> = (0..4)
        .filter_map(|_| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)).ok()
        })
        .collect();
    assert!(!fillers.is_empty());
    let spool = TempDir::new("outbound-spool");
    let mut tuning = quick();
    tuning.connect_timeout = Duration::from_millis(500);
    let out = outbound(&["--mx-port", &addr.port().to_string()], tuning);
    let job = job(
        spool.path(),
        "[127.0.0.1]",
        "alice@sender.test",
        &["bob@[127.0.0.1]"],
        BODY,
    );
    match &rt.block_on(out.deliver(&job))[0] {
        RecipientResult::Temporary { diagnostic, .. } => {
            assert_eq!(diagnostic, "cannot connect: no connection within 500ms")
        }
        other => panic!("{other:?}"),
    }
    drop(listener);
}

/// Two domains whose MX is the same server, delivered at once: two connections, but only
/// --outbound-connections-per-domain (1) of them stays idle for reuse; the other says QUIT
/// as soon as its message is done, long before the idle time (60 s here) is up.
#[test]
fn idle_connections_beyond_the_per_server_limit_are_closed() {
    let Some(python) = python() else { return };
    let Some(dns) = dnsmasq::Dnsmasq::start(&[
        "--mx-host=a.test,mx.a.test,10".into(),
        "--mx-host=b.test,mx.a.test,10".into(),
        "--host-record=mx.a.test,127.0.0.1".into(),
    ]) else {
        return;
    };
    let peer = Peer::start(&python, &["--delay-data", "1"]);
    let spool = TempDir::new("outbound-spool");
    let dns_addr = dns.addr.to_string();
    let mut tuning = quick();
    tuning.idle_timeout = Duration::from_secs(60);
    let out = outbound(
        &[
            "--mx-port",
            &peer.port.to_string(),
            "--dns",
            &dns_addr,
            "--outbound-connections-per-domain",
            "1",
        ],
        tuning,
    );
    let a = job(
        spool.path(),
        "a.test",
        "alice@sender.test",
        &["u@a.test"],
        BODY,
    );
    let b = job(
        spool.path(),
        "b.test",
        "alice@sender.test",
        &["u@b.test"],
        BODY,
    );
    let rt = runtime();
    let (ra, rb) = rt.block_on(async { tokio::join!(out.deliver(&a), out.deliver(&b)) });
    assert!(delivered(&ra[0]) && delivered(&rb[0]), "{ra:?} {rb:?}");
    assert_eq!(peer.max_active(), 2);
    // Drive the runtime (the QUIT runs in a task) until the surplus connection is closed;
    // bounded well below the 60 s idle time.
    rt.block_on(async {
        let deadline = tokio::time::Instant::now() + LIMIT;
        while !peer.events().contains("quit ") {
            assert!(tokio::time::Instant::now() < deadline, "{}", peer.events());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let events = peer.events();
    assert_eq!(events.matches("open ").count(), 2, "{events}");
    assert_eq!(events.matches("quit ").count(), 1, "{events}");
}

/// `--smarthost-tls implicit`: TLS from the first byte (as on port 465), verified, then AUTH.
#[test]
fn the_smarthost_over_implicit_tls() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &["--tls", "implicit", "--user", "relay-user:pw"]);
    let spool = TempDir::new("outbound-spool");
    let password = password_file(spool.path(), "pw");
    let smarthost = format!("127.0.0.1:{}", peer.port);
    let ca = peer.cert();
    let out = outbound(
        &[
            "--smarthost",
            &smarthost,
            "--smarthost-tls",
            "implicit",
            "--smarthost-user",
            "relay-user",
            "--smarthost-password-file",
            password.to_str().expect("utf-8"),
            "--smarthost-ca",
            ca.to_str().expect("utf-8"),
        ],
        quick(),
    );
    let job = job(
        spool.path(),
        "example.org",
        "alice@sender.test",
        &["bob@example.org"],
        BODY,
    );
    let results = runtime().block_on(out.deliver(&job));
    assert!(delivered(&results[0]), "{results:?}");
    let (env, body) = peer.message(1).expect("stored");
    assert_eq!(facts(&env, "tls"), ["1"]);
    assert_eq!(facts(&env, "login"), ["relay-user"]);
    assert_eq!(body, BODY);
}

/// No more connections stay idle than --outbound-connections (1 here): after a message to a
/// second server, the connection to the first, idle the longest, says QUIT at once, long
/// before the idle time (60 s) is up.
#[test]
fn idle_connections_beyond_the_global_limit_are_closed_oldest_first() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &["--bind", "127.0.0.1", "--bind", "127.0.0.2"]);
    let spool = TempDir::new("outbound-spool");
    let mut tuning = quick();
    tuning.idle_timeout = Duration::from_secs(60);
    let out = outbound(
        &[
            "--mx-port",
            &peer.port.to_string(),
            "--outbound-connections",
            "1",
        ],
        tuning,
    );
    let rt = runtime();
    for domain in ["[127.0.0.1]", "[127.0.0.2]"] {
        let to = format!("u@{domain}");
        let job = job(spool.path(), domain, "alice@sender.test", &[&to], BODY);
        assert!(delivered(&rt.block_on(out.deliver(&job))[0]));
    }
    let first = facts(&peer.message(1).expect("first").0, "peer")[0].to_owned();
    let second = facts(&peer.message(2).expect("second").0, "peer")[0].to_owned();
    assert_ne!(first, second);
    rt.block_on(async {
        let deadline = tokio::time::Instant::now() + LIMIT;
        while !peer.events().contains(&format!("quit {first}\n")) {
            assert!(tokio::time::Instant::now() < deadline, "{}", peer.events());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    assert!(
        !peer.events().contains(&format!("quit {second}")),
        "{}",
        peer.events()
    );
}

/// `--outbound-tls-verify webpki`: a self-signed MX certificate fails the handshake. With
/// `--require-tls` nothing is sent; without it, the failed handshake is retried in plaintext
/// (which is why the mode only guarantees anything together with `--require-tls`).
#[test]
fn webpki_verification_refuses_a_self_signed_mx_certificate() {
    let Some(python) = python() else { return };
    let peer = Peer::start(&python, &["--tls", "starttls"]);
    let spool = TempDir::new("outbound-spool");
    let port = peer.port.to_string();
    let job = job(
        spool.path(),
        "[127.0.0.1]",
        "alice@sender.test",
        &["bob@[127.0.0.1]"],
        BODY,
    );
    let strict = outbound(
        &[
            "--mx-port",
            &port,
            "--outbound-tls-verify",
            "webpki",
            "--require-tls",
        ],
        quick(),
    );
    match &runtime().block_on(strict.deliver(&job))[0] {
        RecipientResult::Temporary { diagnostic, .. } => {
            assert!(
                diagnostic.starts_with("TLS handshake failed"),
                "{diagnostic}"
            );
            assert!(
                diagnostic.to_lowercase().contains("certificate"),
                "{diagnostic}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(peer.count(), 0);
    let verifying = outbound(
        &["--mx-port", &port, "--outbound-tls-verify", "webpki"],
        quick(),
    );
    let (results, logs) = with_logs(|| runtime().block_on(verifying.deliver(&job)));
    assert!(delivered(&results[0]), "{results:?}");
    assert_eq!(facts(&peer.message(1).expect("stored").0, "tls"), ["0"]);
    assert!(logs.contains("delivering in plaintext"), "{logs}");
}
