//! End-to-end tests of the `pop3-load` example: the real binary, in a short bounded run,
//! against Dovecot, a POP3 server we did not write, started by each test on loopback
//! (`pop3_dovecot`). The figures are printed, never compared with a time.

mod pop3_dovecot;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use pop3_dovecot::{Dovecot, PASSWORD, USER};

const LIMIT: Duration = Duration::from_secs(60);

const MESSAGES: [&[u8]; 3] = [
    b"Subject: one\n\nfirst\n",
    b"Subject: two\n\n.dot\nsecond\n",
    b"Subject: three\n\nthird\n",
];

fn bin() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("<target>/<profile>/deps");
    let bin = dir
        .join("examples")
        .join(format!("pop3-load{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: `cargo build -p sansmail-examples --examples`",
        bin.display()
    );
    bin
}

/// Runs pop3-load with `args`, killed past [`LIMIT`].
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pop3-load");
    let deadline = Instant::now() + LIMIT;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("pop3-load {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output: Output = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !stdout.contains(PASSWORD) && !stderr.contains(PASSWORD),
        "{stdout}\n{stderr}"
    );
    (output.status.code(), stdout, stderr)
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
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let server = listener.local_addr().expect("address").to_string();
    for flag in ["--help", "-h"] {
        let (code, stdout, stderr) = run(&["--server", &server, "--sessions", "2", flag]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stdout.starts_with("pop3-load:") && stdout.contains("USAGE:"));
        assert!(
            stdout.contains("--idle") && stdout.contains("--pid"),
            "{stdout}"
        );
        assert!(stderr.is_empty(), "{stderr}");
    }
    assert!(listener.accept().is_err(), "pop3-load connected");
    let (code, _, stderr) = run(&["--server", &server]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--user and --password"), "{stderr}");
}
