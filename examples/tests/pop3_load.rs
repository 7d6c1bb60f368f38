//! End-to-end tests of the `pop3-load` example: the real binary, in a short bounded run,
//! against Dovecot, a POP3 server we did not write, started by each test on loopback
//! (`pop3_dovecot`). The figures are printed, never compared with a time.

mod pop3_dovecot;
mod support;

use std::time::Duration;

use pop3_dovecot::{Dovecot, PASSWORD, USER};

const LIMIT: Duration = Duration::from_secs(60);

const MESSAGES: [&[u8]; 3] = [
    b"Subject: one\n\nfirst\n",
    b"Subject: two\n\n.dot\nsecond\n",
    b"Subject: three\n\nthird\n",
];

/// Runs pop3-load with `args`, killed past [`LIMIT`]; the password never shows.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    support::run_example("pop3-load", args, LIMIT, PASSWORD)
}

#[test]
fn a_bounded_run_against_dovecot_retrieves_everything_and_prints_its_figures() {
    let Some(dovecot) = Dovecot::start("load", &MESSAGES) else {
        return;
    };
    for (tls, port) in [("starttls", dovecot.port), ("implicit", dovecot.tls_port)] {
        let server = format!("127.0.0.1:{port}");
        let (code, stdout, stderr) = run(&[
            "--server",
            &server,
            "--tls",
            tls,
            "--user",
            USER,
            "--password",
            PASSWORD,
            "--sessions",
            "3",
            "--rounds",
            "2",
        ]);
        assert_eq!(code, Some(0), "{tls}: {stdout}\n{stderr}");
        assert!(
            stdout.contains("completed 6 of 6 session(s), 18 message(s) retrieved"),
            "{stdout}"
        );
        assert!(
            stdout.contains("sessions/s") && stdout.contains("messages/s"),
            "{stdout}"
        );
        assert!(stdout.contains("MB/s"), "{stdout}");
        assert!(
            stdout.contains("p50 ") && stdout.contains("p99 "),
            "{stdout}"
        );
    }
    // Nothing was deleted.
    assert_eq!(dovecot.messages().len(), 3);
}

#[test]
fn idle_sessions_are_held_and_the_servers_memory_is_reported() {
    let Some(dovecot) = Dovecot::start("idle", &MESSAGES) else {
        return;
    };
    let server = format!("127.0.0.1:{}", dovecot.port);
    let pid = dovecot.pid().to_string();
    let (code, stdout, stderr) = run(&[
        "--server",
        &server,
        "--user",
        USER,
        "--password",
        PASSWORD,
        "--idle",
        "4",
        "--hold",
        "1",
        "--pid",
        &pid,
    ]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("4 session(s) logged in"), "{stdout}");
    assert!(stdout.contains("server memory before: RSS "), "{stdout}");
    assert!(
        stdout.contains("server memory while holding: RSS "),
        "{stdout}"
    );
    assert!(stdout.contains("per idle session: RSS +"), "{stdout}");
    assert!(stdout.contains(", USS +"), "{stdout}");
    assert!(stdout.contains("closed 4 session(s)"), "{stdout}");
}

#[test]
fn a_refused_login_fails_the_run() {
    let Some(dovecot) = Dovecot::start("refused", &MESSAGES) else {
        return;
    };
    let server = format!("127.0.0.1:{}", dovecot.port);
    let (code, stdout, stderr) = run(&[
        "--server",
        &server,
        "--user",
        USER,
        "--password",
        "wrong one",
        "--sessions",
        "2",
    ]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("completed 0 of 2 session(s)") && stdout.contains("login failed"),
        "{stdout}"
    );
    assert!(!stdout.contains("wrong one") && !stderr.contains("wrong one"));
}

#[test]
fn help_prints_the_usage_and_does_nothing_else() {
    support::assert_load_help("pop3-load", &["--idle", "--pid"]);
}
