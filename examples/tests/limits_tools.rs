//! The `--timeout` of the client tools, breached at a short setting against a server that
//! accepts the connection and never says a word (docs/limits.md): each tool gives up after
//! the timeout, says so on standard error and exits 1, instead of waiting for ever (its
//! default is 120 s).

mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use support::*;

/// A listener that accepts (the kernel completes the handshake) and never answers.
fn silent_server() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    (listener, address)
}

/// Runs example `name` with `args` against a silent server; returns its exit code and
/// standard error, checking it waited at least the 1 s timeout.
fn against_silence(name: &str, args: &[&str]) -> (Option<i32>, String) {
    let (listener, address) = silent_server();
    let mut all = vec!["--server", address.as_str()];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--timeout", "1"]);
    let started = Instant::now();
    let (code, _, stderr) = run_example(name, &all, LIMIT, "pw-never-printed");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{name} gave up before its timeout: {stderr}"
    );
    drop(listener);
    (code, stderr)
}

#[test]
fn imap_watch_gives_up_on_a_silent_server_at_its_timeout() {
    let (code, stderr) = against_silence(
        "imap-watch",
        &[
            "--tls",
            "none",
            "--user",
            "u",
            "--password",
            "pw-never-printed",
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("imap-watch: timeout waiting for the server"),
        "{stderr}"
    );
}

#[test]
fn pop3_fetch_gives_up_on_a_silent_server_at_its_timeout() {
    let dir = TempDir::new("limits-pop3-fetch");
    let maildir = dir.path().join("Maildir");
    let maildir = maildir.to_string_lossy();
    let (code, stderr) = against_silence(
        "pop3-fetch",
        &[
            "--tls",
            "none",
            "--user",
            "u",
            "--password",
            "pw-never-printed",
            "--maildir",
            &maildir,
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("pop3-fetch: timeout waiting for a response"),
        "{stderr}"
    );
}
