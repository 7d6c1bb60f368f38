//! End-to-end tests of the `imap-load` example: the real binary, in short bounded runs
//! (a few sessions, a second or a few commands each), against Dovecot, an IMAP server we did
//! not write, started by each test on loopback (the harness of
//! `crates/imap-proto/tests/interop/dovecot.rs`), and against the mail server's own IMAP
//! listeners (the last test). What is checked is the report a user reads, that every answer
//! of the server was OK, and what the runs left on disk; the figures are printed, never
//! compared with a time.

#[path = "../../crates/imap-proto/tests/interop/dovecot.rs"]
mod dovecot;
mod support;

use std::time::Duration;

use dovecot::{Dovecot, PASSWORD, USER};

const LIMIT: Duration = Duration::from_secs(60);

/// Runs imap-load with `args`, killed past [`LIMIT`]; the password never shows.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    support::run_example("imap-load", args, LIMIT, PASSWORD)
}

/// `--server 127.0.0.1:PORT --tls TLS --user alice --password ...` followed by `more`.
fn with<'a>(server: &'a str, tls: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--server",
        server,
        "--tls",
        tls,
        "--user",
        USER,
        "--password",
        PASSWORD,
    ];
    args.extend_from_slice(more);
    args
}

/// The messages in the account's INBOX on disk (Maildir `new` and `cur`).
fn messages_on_disk(dovecot: &Dovecot) -> usize {
    let maildir = dovecot.dir.join("home").join(USER).join("Maildir");
    ["new", "cur"]
        .iter()
        .map(|sub| {
            std::fs::read_dir(maildir.join(sub))
                .map(|d| d.flatten().count())
                .unwrap_or(0)
        })
        .sum()
}

/// The number in `stdout` right after `before` (`answers: ` → the OK count).
fn number_after(stdout: &str, before: &str) -> usize {
    stdout
        .split_once(before)
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {before:?} in {stdout}"))
}

#[test]
fn the_mix_runs_every_command_and_every_answer_is_ok() {
    let Some(dovecot) = Dovecot::start("load-mix") else {
        return;
    };
    let mut appended = 0;
    for (tls, port) in [("starttls", dovecot.port), ("implicit", dovecot.tls_port)] {
        let server = format!("127.0.0.1:{port}");
        let (code, stdout, stderr) = run(&with(
            &server,
            tls,
            &["--sessions", "3", "--count", "14", "--duration", "20"],
        ));
        assert_eq!(code, Some(0), "{tls}: {stdout}\n{stderr}");
        assert!(
            stdout.contains("imap-load: mix, 3 session(s), 20 s or 14 command(s) each"),
            "{stdout}"
        );
        assert!(stdout.contains("completed 42 command(s) in "), "{stdout}");
        assert!(stdout.contains("commands/s"), "{stdout}");
        // 42 commands and 3 LOGINs, all OK.
        assert!(stdout.contains("answers: 45 OK, 0 NO or BAD\n"), "{stdout}");
        for op in [
            "SELECT x",
            "FETCH 1:* (FLAGS) x",
            "FETCH n BODY.PEEK[] x",
            "STORE n +FLAGS x",
            "SEARCH FLAGGED x",
            "STORE n -FLAGS x",
            "APPEND x",
        ] {
            let line = stdout
                .lines()
                .find(|l| l.starts_with(op))
                .unwrap_or_else(|| panic!("{tls}: no line for {op}: {stdout}"));
            assert!(line.contains(": p50 ") && line.contains(", p99 "), "{line}");
        }
        appended += number_after(&stdout, "\nAPPEND x");
    }
    // Every APPEND of the mix left a message on disk, and nothing was deleted.
    assert!(appended >= 2);
    assert_eq!(messages_on_disk(&dovecot), appended, "{}", dovecot.log());
}

#[test]
fn append_mode_stores_one_message_per_acknowledged_append() {
    let Some(dovecot) = Dovecot::start("load-append") else {
        return;
    };
    let server = format!("127.0.0.1:{}", dovecot.tls_port);
    let (code, stdout, stderr) = run(&with(
        &server,
        "implicit",
        &[
            "--append",
            "--sessions",
            "2",
            "--count",
            "5",
            "--size",
            "3000",
        ],
    ));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("imap-load: APPEND, 2 session(s)"),
        "{stdout}"
    );
    assert!(stdout.contains("completed 10 command(s) in "), "{stdout}");
    assert!(stdout.contains("APPEND x10 ("), "{stdout}");
    assert!(stdout.contains("answers: 12 OK, 0 NO or BAD\n"), "{stdout}");
    assert_eq!(messages_on_disk(&dovecot), 10);
    // Each is the message of --size: its lines fill up to 3000 bytes.
    let new = dovecot
        .dir
        .join("home")
        .join(USER)
        .join("Maildir")
        .join("new");
    for file in std::fs::read_dir(new).expect("Maildir new").flatten() {
        let len = file.metadata().expect("metadata").len();
        assert!((2800..=3000).contains(&len), "{len}");
    }
}

#[test]
fn idle_sessions_are_held_in_idle_and_the_servers_memory_is_reported() {
    let Some(dovecot) = Dovecot::start("load-idle") else {
        return;
    };
    let server = format!("127.0.0.1:{}", dovecot.port);
    let pid = std::fs::read_to_string(dovecot.dir.join("run").join("master.pid"))
        .expect("Dovecot's master.pid");
    let (code, stdout, stderr) = run(&with(
        &server,
        "starttls",
        &["--idle", "4", "--hold", "1", "--pid", pid.trim()],
    ));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("4 session(s) in IDLE in "), "{stdout}");
    assert!(stdout.contains("server memory before: RSS "), "{stdout}");
    let holding = stdout
        .lines()
        .find(|l| l.starts_with("server memory while holding: RSS "))
        .unwrap_or_else(|| panic!("{stdout}"));
    // Dovecot runs a process per session: the master's tree grew by at least four.
    let processes = |line: &str| number_after(line, "KiB (");
    let before = stdout
        .lines()
        .find(|l| l.starts_with("server memory before"))
        .map(processes);
    assert!(processes(holding) >= before.unwrap_or(0) + 4, "{stdout}");
    assert!(stdout.contains("per idle session: RSS +"), "{stdout}");
    assert!(
        stdout.contains(", PSS +") && stdout.contains(", USS +"),
        "{stdout}"
    );
    // LOGIN, SELECT and IDLE of each session.
    assert!(stdout.contains("answers: 12 OK, 0 NO or BAD\n"), "{stdout}");
    assert!(stdout.contains("closed 4 session(s)"), "{stdout}");
}

#[test]
fn fetch_flags_fills_the_mailbox_and_gets_one_answer_per_message() {
    let Some(dovecot) = Dovecot::start("load-fetch") else {
        return;
    };
    let server = format!("127.0.0.1:{}", dovecot.port);
    let (code, stdout, stderr) = run(&with(
        &server,
        "starttls",
        &["--fetch-flags", "--fill", "70", "--repeat", "2"],
    ));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("mailbox: 70 message(s) (70 APPENDed first)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FETCH responses per round: [70, 70] (one per message)"),
        "{stdout}"
    );
    for line in [
        "NOOP round trip: min ",
        "FETCH 1:* (FLAGS) round trip: min ",
        "FETCH first untagged response after: min ",
        "FETCH round trip less a NOOP round trip",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    // LOGIN, SELECT, 70 APPENDs, 3 NOOPs, 2 FETCHes.
    assert!(stdout.contains("answers: 77 OK, 0 NO or BAD\n"), "{stdout}");
    assert_eq!(messages_on_disk(&dovecot), 70);
    // A second run finds the mailbox full and appends nothing.
    let (code, stdout, _) = run(&with(
        &server,
        "starttls",
        &["--fetch-flags", "--fill", "70", "--repeat", "1"],
    ));
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("mailbox: 70 message(s) (0 APPENDed first)"),
        "{stdout}"
    );
}

#[test]
fn a_refused_login_fails_the_run() {
    let Some(dovecot) = Dovecot::start("load-refused") else {
        return;
    };
    let server = format!("127.0.0.1:{}", dovecot.tls_port);
    let (code, stdout, stderr) = run(&[
        "--server",
        &server,
        "--tls",
        "implicit",
        "--user",
        USER,
        "--password",
        "wrong one",
        "--sessions",
        "2",
        "--count",
        "3",
    ]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("completed 0 command(s)")
            && stdout.contains("2 session(s) failed; first error: login failed"),
        "{stdout}"
    );
    assert!(!stdout.contains("wrong one") && !stderr.contains("wrong one"));
}

#[test]
fn help_prints_the_usage_and_does_nothing_else() {
    support::assert_load_help(
        "imap-load",
        &["--idle", "--pid", "--append", "--fetch-flags", "--fill"],
    );
}

#[test]
fn every_mode_runs_against_the_mail_servers_imap_listeners_with_all_answers_ok() {
    let dir = support::TempDir::new("imap-load");
    let [imap, imaps] = support::free_ports().map(|port: u16| port.to_string());
    let mut args = support::users();
    args.extend(["--allow-plaintext-auth", "--imap", &imap, "--imaps", &imaps].map(str::to_owned));
    let server = support::MailServer::start(&dir.path().join("data"), &args);
    let plain = format!("127.0.0.1:{imap}");
    let tls = format!("127.0.0.1:{imaps}");
    let pid = server.pid().to_string();
    let ours = |server: &str, tls: &str, more: &[&str]| {
        let mut args = vec![
            "--server",
            server,
            "--tls",
            tls,
            "--user",
            support::ALICE,
            "--password",
            support::ALICE_PASSWORD,
        ];
        args.extend_from_slice(more);
        let (code, stdout, stderr) = run(&args);
        assert_eq!(code, Some(0), "{args:?}: {stdout}\n{stderr}");
        assert!(!stdout.contains(support::ALICE_PASSWORD), "{stdout}");
        stdout
    };
    let stdout = ours(&plain, "none", &["--sessions", "2", "--count", "14"]);
    assert!(stdout.contains("completed 28 command(s) in "), "{stdout}");
    assert!(stdout.contains("answers: 30 OK, 0 NO or BAD\n"), "{stdout}");
    let stdout = ours(
        &plain,
        "starttls",
        &["--append", "--sessions", "2", "--count", "3"],
    );
    assert!(stdout.contains("APPEND x6 ("), "{stdout}");
    assert!(stdout.contains("answers: 8 OK, 0 NO or BAD\n"), "{stdout}");
    let stdout = ours(
        &tls,
        "implicit",
        &["--idle", "3", "--hold", "1", "--pid", &pid],
    );
    assert!(stdout.contains("3 session(s) in IDLE in "), "{stdout}");
    // One process, the server: its sessions are tasks.
    assert!(stdout.contains("KiB (1 process(es))"), "{stdout}");
    assert!(stdout.contains("per idle session: RSS +"), "{stdout}");
    assert!(stdout.contains("answers: 9 OK, 0 NO or BAD\n"), "{stdout}");
    // Archive: a special-use folder the server creates for each account.
    let stdout = ours(
        &plain,
        "none",
        &[
            "--fetch-flags",
            "--fill",
            "20",
            "--repeat",
            "2",
            "--mailbox",
            "Archive",
        ],
    );
    assert!(
        stdout.contains("mailbox: 20 message(s) (20 APPENDed first)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FETCH responses per round: [20, 20] (one per message)"),
        "{stdout}"
    );
    assert!(stdout.contains("answers: 27 OK, 0 NO or BAD\n"), "{stdout}");
}
