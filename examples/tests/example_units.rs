//! The unit tests of the example programs, run by `cargo test --workspace`.
//!
//! The examples that the end-to-end tests start as processes (`mail-server`, `smtp-load`,
//! `smtp-send`, `pop3-fetch`, `pop3-load`) are
//! declared with `test = false`, because that is what makes `cargo test` build their binaries;
//! the price is that their own `#[cfg(test)]` modules would no longer run. This file compiles
//! the same source files as modules of one test crate so that those unit tests still run.
//!
//! Only the parts of each program that the unit tests exercise are included; the rest of each
//! program is unused here, hence the `dead_code` allowance below. The command-line tools each
//! include `examples/common/mod.rs`, so this crate loads it once per tool
//! (`clippy::duplicate_mod`).
#![allow(dead_code, unreachable_pub, clippy::duplicate_mod)]

#[path = "../mail-server/accounts.rs"]
mod accounts;
#[path = "../mail-server/dkim.rs"]
mod dkim;
#[path = "../mail-server/guard.rs"]
mod guard;
#[path = "../mail-server/hops.rs"]
mod hops;
#[path = "../mail-server/imap/mod.rs"]
mod imap;
#[path = "../mail-server/listeners.rs"]
mod listeners;
#[path = "../mail-server/logsafe.rs"]
mod logsafe;
#[path = "../mail-server/options.rs"]
mod options;
#[path = "../mail-server/outbound/mod.rs"]
mod outbound;
#[path = "../mail-server/pop3.rs"]
mod pop3;
#[path = "../mail-server/queue/mod.rs"]
mod queue;
#[path = "../mail-server/smtp.rs"]
mod smtp;
#[path = "../mail-server/startup.rs"]
mod startup;
#[path = "../mail-server/store/mod.rs"]
mod store;

#[path = "../smtp-load.rs"]
mod smtp_load;
#[path = "../smtp-send.rs"]
mod smtp_send;

// The POP3 tools (pop3-fetch, pop3-load).
#[path = "../pop3-fetch.rs"]
mod pop3_fetch;
#[path = "../pop3-load.rs"]
mod pop3_load;

// The IMAP tool (imap-watch, issue 18).
#[path = "../imap-watch.rs"]
mod imap_watch;
// imap-load (issue 19).
#[path = "../imap-load.rs"]
mod imap_load;

mod support;

// The outbound-delivery tests (issue 16): the outbound module in process against aiosmtpd and
// dnsmasq. Here rather than in a test binary of their own, which would compile, and run
// again, the unit tests of every module outbound needs (options, accounts, store).
#[path = "outbound/delivery.rs"]
mod outbound_delivery;
#[path = "outbound/hostile.rs"]
mod outbound_hostile;
#[path = "outbound/peer.rs"]
mod outbound_peer;
// The mx-resolve tests' dnsmasq harness: a real DNS server, authoritative for `test.`.
#[path = "../../crates/mx-resolve/tests/support/dnsmasq.rs"]
mod dnsmasq;

/// Every example answers `--help` and `-h` with its usage on standard output and exit code 0,
/// without starting any work: no connection to a listener it was pointed at, no data
/// directory, no temporary files.
mod help {
    use std::io::ErrorKind;
    use std::net::TcpListener;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output, Stdio};
    use std::time::{Duration, Instant};

    use crate::support::{LIMIT, TempDir, example_bin};

    /// Runs `bin` with `args`, killing it past [`LIMIT`].
    fn run(bin: &Path, args: &[String]) -> Output {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        let deadline = Instant::now() + LIMIT;
        while child.try_wait().expect("wait").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{} {args:?} did not exit", bin.display());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        child.wait_with_output().expect("output")
    }

    /// A loopback listener nobody should connect to.
    fn trap() -> (TcpListener, String) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let address = listener.local_addr().expect("address").to_string();
        (listener, address)
    }

    fn untouched(listener: &TcpListener, what: &str) {
        match listener.accept() {
            Err(error) if error.kind() == ErrorKind::WouldBlock => {}
            other => panic!("{what} connected with --help: {other:?}"),
        }
    }

    /// Asserts exit 0, the usage on stdout, nothing on stderr.
    fn is_usage(output: &Output, what: &str) -> String {
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{what}: {stdout}\n{stderr}");
        assert!(stdout.contains("USAGE:"), "{what}: {stdout}");
        assert!(stdout.contains("-h, --help"), "{what}: {stdout}");
        assert!(stderr.is_empty(), "{what}: {stderr}");
        stdout
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_examples_of_this_package_answer_help_and_start_nothing() {
        for flag in ["--help", "-h"] {
            let (listener, address) = trap();
            let bin = example_bin("smtp-send");
            let line = [
                "--server", &address, "--from", "a@b.test", "--to", "c@d.test", flag,
            ];
            let out = is_usage(&run(&bin, &args(&line)), "smtp-send");
            assert!(out.starts_with("smtp-send:"), "{out}");
            untouched(&listener, "smtp-send");

            let bin = example_bin("smtp-load");
            let line = ["--server", &address, "--connections", "2", flag];
            is_usage(&run(&bin, &args(&line)), "smtp-load");
            untouched(&listener, "smtp-load");

            let bin = example_bin("tls-check");
            let out = is_usage(&run(&bin, &args(&[&address, flag])), "tls-check");
            assert!(out.starts_with("tls-check:"), "{out}");
            untouched(&listener, "tls-check");

            let out = is_usage(&run(&example_bin("wire-demo"), &args(&[flag])), "wire-demo");
            assert!(out.starts_with("wire-demo:"), "{out}");
            assert!(
                !out.contains("SMTP smuggling:"),
                "the usage, not the tour: {out}"
            );

            let data = TempDir::new("help");
            let missing = data.path().join("data");
            let port = address.rsplit_once(':').map(|(_, p)| p).unwrap_or("0");
            let line = [
                "--data",
                missing.to_str().expect("utf-8"),
                "--smtp",
                port,
                flag,
            ];
            is_usage(
                &run(&example_bin("mail-server"), &args(&line)),
                "mail-server",
            );
            assert!(!missing.exists(), "mail-server created its data directory");
        }
    }

    /// mail-tls's `tls-load` belongs to another package: built here with cargo.
    #[test]
    fn mail_tls_tls_load_answers_help_and_starts_nothing() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let build = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "--message-format=json",
                "-p",
                "mail-tls",
            ])
            .args(["--features", "tokio,dev-certs", "--example", "tls-load"])
            .arg("--manifest-path")
            .arg(&manifest)
            .stderr(Stdio::inherit())
            .output()
            .expect("run cargo build");
        assert!(build.status.success(), "cargo build of tls-load failed");
        let messages = String::from_utf8_lossy(&build.stdout);
        let bin = messages
            .lines()
            .filter(|line| line.contains("\"name\":\"tls-load\""))
            .find_map(|line| {
                let start = line.find("\"executable\":\"")? + "\"executable\":\"".len();
                let end = start + line.get(start..)?.find('"')?;
                line.get(start..end).map(PathBuf::from)
            })
            .expect("cargo named the tls-load executable");
        for flag in ["--help", "-h"] {
            let out = is_usage(&run(&bin, &args(&["1", "1", flag])), "tls-load");
            assert!(out.starts_with("tls-load:"), "{out}");
            // A run prints its figures (handshakes per second, memory per session).
            assert!(
                !out.contains("handshakes/s") && !out.contains("size_of"),
                "tls-load ran: {out}"
            );
        }
    }
}
