//! A real DNS server we did not write, for the resolver's tests and the `mx-lookup` example's:
//! Debian's `dnsmasq` (package `dnsmasq-base`), started on a free loopback port,
//! authoritative for the zone `test.` with an SOA, so that NXDOMAIN and NODATA answers carry
//! the negative TTL of RFC 2308. Its whole configuration is on the command line
//! (`--conf-file=/dev/null`): the records are the options each test passes (`--mx-host`,
//! `--host-record`, `--cname`, `--txt-record`).
//!
//! When dnsmasq is missing, [`Dnsmasq::start`] returns `None` and the test skips with a
//! message, except under `CI=true`, where it panics. The process is killed on drop.

#![allow(dead_code)] // each test binary uses a different part

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The longest dnsmasq may take to start answering.
const START_LIMIT: Duration = Duration::from_secs(20);

/// A running dnsmasq, authoritative for `test.`.
pub(crate) struct Dnsmasq {
    child: Child,
    /// Where it listens, UDP and TCP.
    pub(crate) addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

/// Whether the tests run under CI (`CI=true`), where a missing dnsmasq fails the test.
pub(crate) fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The dnsmasq program: on PATH, or in /usr/sbin (which a non-root PATH often lacks).
fn program() -> Option<&'static str> {
    ["dnsmasq", "/usr/sbin/dnsmasq"].into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// A loopback port free for both UDP and TCP at the time of asking.
fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket");
        let port = udp.local_addr().expect("local address").port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A query for `ready.test. A`, to see that the server answers.
fn probe() -> Vec<u8> {
    let mut query = vec![0x52, 0x45, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    query.extend_from_slice(b"\x05ready\x04test\x00\x00\x01\x00\x01");
    query
}

impl Dnsmasq {
    /// Starts dnsmasq with these record options, or returns `None` (outside CI) when it is not
    /// installed.
    pub(crate) fn start(records: &[String]) -> Option<Dnsmasq> {
        Dnsmasq::start_with_ttl(records, 300)
    }

    /// Like [`start`](Self::start), with `ttl` as the TTL of every record and of the SOA.
    pub(crate) fn start_with_ttl(records: &[String], ttl: u32) -> Option<Dnsmasq> {
        let Some(program) = program() else {
            assert!(
                !ci(),
                "dnsmasq (Debian package dnsmasq-base) is required when CI=true"
            );
            eprintln!("SKIPPED: dnsmasq not found (this test never skips with CI=true)");
            return None;
        };
        // A port that was free may be taken before dnsmasq binds it: try a few.
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(program)
                .args([
                    "--no-daemon".to_string(),
                    format!("--port={port}"),
                    "--listen-address=127.0.0.1".into(),
                    "--bind-interfaces".into(),
                    "--no-resolv".into(),
                    "--no-hosts".into(),
                    "--conf-file=/dev/null".into(),
                    "--pid-file=".into(),
                    "--log-facility=-".into(),
                    "--log-queries".into(),
                    // Authoritative for test. (the SOA goes into negative answers)
                    "--auth-zone=test".into(),
                    "--auth-server=ns.test,127.0.0.1".into(),
                    "--auth-soa=1,hostmaster.test".into(),
                    format!("--auth-ttl={ttl}"),
                    format!("--local-ttl={ttl}"),
                ])
                .args(records)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start dnsmasq");
            let log = Arc::new(Mutex::new(String::new()));
            if let Some(stderr) = child.stderr.take() {
                let log = Arc::clone(&log);
                thread::spawn(move || {
                    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                        let mut log = log.lock().unwrap();
                        log.push_str(&line);
                        log.push('\n');
                    }
                });
            }
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            let mut server = Dnsmasq { child, addr, log };
            if server.wait_ready() {
                return Some(server);
            }
            server.stop();
        }
        panic!("dnsmasq did not start on any of 5 ports");
    }

    /// Waits until the server answers a query; false if it exited first.
    fn wait_ready(&mut self) -> bool {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        let start = Instant::now();
        while start.elapsed() < START_LIMIT {
            if self.child.try_wait().ok().flatten().is_some() {
                return false;
            }
            let _ = socket.send_to(&probe(), self.addr);
            let mut buffer = [0u8; 512];
            if socket.recv_from(&mut buffer).is_ok() {
                return true;
            }
        }
        panic!(
            "dnsmasq did not answer within {START_LIMIT:?}:\n{}",
            self.log()
        );
    }

    /// What dnsmasq logged so far (with `--log-queries`, one line per question).
    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// How many questions for `name` (as dnsmasq logs it: `auth[MX] mx.test from ...`) it
    /// received so far.
    pub(crate) fn questions(&self, qtype: &str, name: &str) -> usize {
        let needle = format!("[{qtype}] {name} from");
        self.log().lines().filter(|l| l.contains(&needle)).count()
    }

    /// Stops the server (it answers nothing more).
    pub(crate) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        self.stop();
    }
}
