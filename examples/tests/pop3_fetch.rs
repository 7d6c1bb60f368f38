//! End-to-end tests of the `pop3-fetch` example: the real binary against Dovecot, a POP3
//! server we did not write, started by each test on loopback (`pop3_dovecot`). What a user
//! sees is checked: the exit code, the lines printed, the files in the local Maildir, and
//! what is left in the server's Maildir.

mod pop3_dovecot;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use pop3_dovecot::{Dovecot, PASSWORD, USER, crlf, read_dir_files};

const LIMIT: Duration = Duration::from_secs(30);

/// Messages as Dovecot stores them: LF line endings, a line starting with a dot, a line of
/// 2000 octets, an empty body.
const MESSAGES: [&[u8]; 3] = [
    b"Subject: one\n\nfirst\n",
    b"Subject: two\n\n.dot line\n..two dots\nend\n",
    b"Subject: three\n\n",
];

fn bin() -> PathBuf {
    support::example_bin("pop3-fetch")
}

/// A temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("p3tools-fetch-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A password file of mode 0600.
fn password_file(dir: &Path, password: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("password");
    std::fs::write(&path, format!("{password}\n")).expect("write password");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

/// Runs pop3-fetch with `args`, killed past [`LIMIT`].
fn run(args: &[&str]) -> Output {
    support::run_within(&bin().to_string_lossy(), args, LIMIT)
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs a fetch from `dovecot` into `maildir`; `tls` is `starttls` or `implicit`.
fn fetch(dovecot: &Dovecot, scratch: &Scratch, tls: &str, extra: &[&str]) -> Output {
    let port = if tls == "implicit" {
        dovecot.tls_port
    } else {
        dovecot.port
    };
    let server = format!("127.0.0.1:{port}");
    let password = password_file(&scratch.0, PASSWORD);
    let maildir = scratch.0.join("Mail");
    let mut args = vec![
        "--server",
        &server,
        "--tls",
        tls,
        "--insecure",
        "--user",
        USER,
        "--password-file",
        password.to_str().expect("utf-8"),
        "--maildir",
        maildir.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    let output = run(&args);
    let (stdout, stderr) = text(&output);
    assert!(
        !stdout.contains(PASSWORD) && !stderr.contains(PASSWORD),
        "{stdout}\n{stderr}"
    );
    output
}

fn expected(messages: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut all: Vec<Vec<u8>> = messages.iter().map(|m| crlf(m)).collect();
    all.sort();
    all
}

fn fetched_lines(stdout: &str) -> usize {
    stdout
        .lines()
        .filter(|l| l.starts_with("fetched message "))
        .count()
}

#[test]
fn fetches_every_message_over_stls_and_deletes_them_on_the_server() {
    let Some(dovecot) = Dovecot::start("fetch", &MESSAGES) else {
        return;
    };
    let scratch = Scratch::new("stls");
    let output = fetch(&dovecot, &scratch, "starttls", &[]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(fetched_lines(&stdout), 3, "{stdout}");
    assert!(
        stdout.contains("3 message(s) fetched") && stdout.contains("3 deleted on the server"),
        "{stdout}"
    );
    // Each message is in new/, byte for byte as POP3 carried it (CRLF line endings).
    let maildir = scratch.0.join("Mail");
    assert_eq!(read_dir_files(&maildir.join("new")), expected(&MESSAGES));
    assert!(read_dir_files(&maildir.join("tmp")).is_empty());
    assert!(maildir.join("cur").is_dir());
    // Gone from the server's Maildir.
    assert!(dovecot.messages().is_empty(), "{:?}", dovecot.messages());

    // A second run finds nothing.
    let output = fetch(&dovecot, &scratch, "starttls", &[]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(fetched_lines(&stdout), 0, "{stdout}");
    assert_eq!(read_dir_files(&maildir.join("new")).len(), 3);
}

#[test]
fn keep_leaves_the_messages_and_a_second_run_fetches_nothing_new() {
    let Some(dovecot) = Dovecot::start("keep", &MESSAGES) else {
        return;
    };
    let scratch = Scratch::new("keep");
    let maildir = scratch.0.join("Mail");
    let output = fetch(&dovecot, &scratch, "starttls", &["--keep"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(fetched_lines(&stdout), 3, "{stdout}");
    assert!(stdout.contains("kept on the server"), "{stdout}");
    assert_eq!(read_dir_files(&maildir.join("new")), expected(&MESSAGES));
    assert_eq!(dovecot.messages().len(), 3);
    let uidl = std::fs::read_to_string(maildir.join("pop3-fetch.uidl")).expect("uidl file");
    assert_eq!(uidl.lines().count(), 3, "{uidl}");

    let output = fetch(&dovecot, &scratch, "starttls", &["--keep"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(fetched_lines(&stdout), 0, "{stdout}");
    assert!(stdout.contains("0 message(s) fetched"), "{stdout}");
    assert_eq!(read_dir_files(&maildir.join("new")).len(), 3);
    assert_eq!(dovecot.messages().len(), 3);

    // A message removed on the server by someone else is forgotten by the next run.
    let first = std::fs::read_dir(dovecot.maildir().join("cur"))
        .into_iter()
        .chain(std::fs::read_dir(dovecot.maildir().join("new")))
        .flatten()
        .flatten()
        .find(|e| std::fs::read(e.path()).is_ok_and(|m| m == MESSAGES[0]))
        .expect("the first message on the server");
    std::fs::remove_file(first.path()).expect("remove it");
    let output = fetch(&dovecot, &scratch, "starttls", &["--keep"]);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let uidl = std::fs::read_to_string(maildir.join("pop3-fetch.uidl")).expect("uidl file");
    assert_eq!(uidl.lines().count(), 2, "{uidl}");
    dovecot.deliver(MESSAGES[0]);
    let output = fetch(&dovecot, &scratch, "starttls", &["--keep"]);
    // Put back under a new unique-id: a new message, fetched again.
    assert_eq!(fetched_lines(&text(&output).0), 1);
    // Drop the duplicate local copy, so that the Maildir again holds each message once.
    let copy = std::fs::read_dir(maildir.join("new"))
        .expect("new/")
        .flatten()
        .find(|e| std::fs::read(e.path()).is_ok_and(|m| m == crlf(MESSAGES[0])))
        .expect("a local copy");
    std::fs::remove_file(copy.path()).expect("remove one local copy");

    // A new message on the server: only it is fetched.
    let fourth: &[u8] = b"Subject: four\n\nlater\n";
    dovecot.deliver(fourth);
    let output = fetch(&dovecot, &scratch, "starttls", &["--keep"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(fetched_lines(&stdout), 1, "{stdout}");
    let mut all = MESSAGES.to_vec();
    all.push(fourth);
    assert_eq!(read_dir_files(&maildir.join("new")), expected(&all));

    // Without --keep: nothing fetched again, and what was kept is now deleted and forgotten.
    let output = fetch(&dovecot, &scratch, "starttls", &[]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(fetched_lines(&stdout), 0, "{stdout}");
    assert!(stdout.contains("4 deleted on the server"), "{stdout}");
    assert!(dovecot.messages().is_empty());
    assert_eq!(read_dir_files(&maildir.join("new")).len(), 4);
    let uidl = std::fs::read_to_string(maildir.join("pop3-fetch.uidl")).expect("uidl file");
    assert_eq!(uidl, "", "deleted messages are forgotten");
}

#[test]
fn fetches_over_implicit_tls() {
    let Some(dovecot) = Dovecot::start("implicit", &MESSAGES) else {
        return;
    };
    let scratch = Scratch::new("implicit");
    let output = fetch(&dovecot, &scratch, "implicit", &[]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(fetched_lines(&stdout), 3, "{stdout}");
    let maildir = scratch.0.join("Mail");
    assert_eq!(read_dir_files(&maildir.join("new")), expected(&MESSAGES));
    assert!(dovecot.messages().is_empty());
}

#[test]
fn a_wrong_password_exits_non_zero_with_the_reason_and_without_the_password() {
    let Some(dovecot) = Dovecot::start("wrong", &MESSAGES) else {
        return;
    };
    let scratch = Scratch::new("wrong");
    let maildir = scratch.0.join("Mail");
    let server = format!("127.0.0.1:{}", dovecot.port);
    let wrong = "not the right one 1234";
    let file = password_file(&scratch.0, wrong);
    let file = file.to_str().expect("utf-8");
    for given in [["--password", wrong], ["--password-file", file]] {
        let mut args = vec![
            "--server",
            &server,
            "--insecure",
            "--user",
            USER,
            "--maildir",
            maildir.to_str().expect("utf-8"),
        ];
        args.extend_from_slice(&given);
        let output = run(&args);
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("pop3-fetch: login failed: -ERR"),
            "{stderr}"
        );
        assert!(!stdout.contains(wrong) && !stderr.contains(wrong));
        assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
    }
    assert!(read_dir_files(&maildir.join("new")).is_empty());
    assert_eq!(dovecot.messages().len(), 3);
}

#[test]
fn fetches_in_plaintext_with_tls_none() {
    // Dovecot counts a loopback connection as secure, so it takes the login without TLS.
    let Some(dovecot) = Dovecot::start("plain", &MESSAGES) else {
        return;
    };
    let scratch = Scratch::new("plain");
    let output = fetch(&dovecot, &scratch, "none", &[]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(fetched_lines(&stdout), 3, "{stdout}");
    let maildir = scratch.0.join("Mail");
    assert_eq!(read_dir_files(&maildir.join("new")), expected(&MESSAGES));
    assert!(dovecot.messages().is_empty());
}

#[test]
fn an_unverified_certificate_fails_without_insecure() {
    let Some(dovecot) = Dovecot::start("verify", &MESSAGES) else {
        return;
    };
    let scratch = Scratch::new("verify");
    let password = password_file(&scratch.0, PASSWORD);
    let maildir = scratch.0.join("Mail");
    for (tls, port) in [("starttls", dovecot.port), ("implicit", dovecot.tls_port)] {
        let server = format!("127.0.0.1:{port}");
        let output = run(&[
            "--server",
            &server,
            "--tls",
            tls,
            "--user",
            USER,
            "--password-file",
            password.to_str().expect("utf-8"),
            "--maildir",
            maildir.to_str().expect("utf-8"),
        ]);
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(1), "{tls}: {stdout}\n{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    }
    assert_eq!(dovecot.messages().len(), 3);
}

#[test]
fn a_listing_longer_than_max_messages_is_refused_and_nothing_is_deleted() {
    let Some(dovecot) = Dovecot::start("max", &MESSAGES) else {
        return;
    };
    let scratch = Scratch::new("max");
    let output = fetch(&dovecot, &scratch, "starttls", &["--max-messages", "2"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("--max-messages 2"), "{stderr}");
    assert_eq!(fetched_lines(&stdout), 0);
    assert_eq!(dovecot.messages().len(), 3);
    // At the limit, everything is fetched.
    let output = fetch(&dovecot, &scratch, "starttls", &["--max-messages", "3"]);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    assert!(dovecot.messages().is_empty());
}

#[test]
fn a_password_file_others_can_read_is_refused_before_connecting() {
    use std::os::unix::fs::PermissionsExt;
    let scratch = Scratch::new("mode");
    let path = password_file(&scratch.0, PASSWORD);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let maildir = scratch.0.join("Mail");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let server = listener.local_addr().expect("address").to_string();
    let output = run(&[
        "--server",
        &server,
        "--user",
        USER,
        "--password-file",
        path.to_str().expect("utf-8"),
        "--maildir",
        maildir.to_str().expect("utf-8"),
    ]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(stderr.contains("chmod 600"), "{stderr}");
    assert!(!stderr.contains(PASSWORD));
    assert!(listener.accept().is_err(), "pop3-fetch connected");
    assert!(!maildir.exists());
}

#[test]
fn help_prints_the_usage_and_does_nothing_else() {
    for flag in ["--help", "-h"] {
        let output = run(&[
            "--server",
            "127.0.0.1:1",
            "--maildir",
            "/nonexistent/x",
            flag,
        ]);
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(stdout.starts_with("pop3-fetch:"), "{stdout}");
        assert!(
            stdout.contains("USAGE:") && stdout.contains("--keep"),
            "{stdout}"
        );
        assert!(stderr.is_empty(), "{stderr}");
    }
    let output = run(&["--server", "127.0.0.1:110"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).1.contains("`--user` is required"));
}

#[test]
fn a_connection_lost_in_the_middle_of_a_message_deletes_nothing_and_leaves_no_partial_file() {
    // A small message, then one of 64 MiB: the server dies while the second is on its way.
    let big: Vec<u8> = {
        let mut m = b"Subject: big\n\n".to_vec();
        let line = b"0123456789 the quick brown fox jumps over the lazy dog 0123456789\n";
        while m.len() < 64 << 20 {
            m.extend_from_slice(line);
        }
        m
    };
    let Some(dovecot) = Dovecot::start("cut", &[MESSAGES[0], &big]) else {
        return;
    };
    let scratch = Scratch::new("cut");
    let maildir = scratch.0.join("Mail");
    let password = password_file(&scratch.0, PASSWORD);
    let server = format!("127.0.0.1:{}", dovecot.port);
    let mut child = Command::new(bin())
        .args([
            "--server",
            &server,
            "--insecure",
            "--user",
            USER,
            "--password-file",
        ])
        .arg(&password)
        .arg("--maildir")
        .arg(&maildir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pop3-fetch");
    // Once the big message is being written to tmp/, kill every Dovecot process.
    let deadline = Instant::now() + LIMIT;
    loop {
        let partial = std::fs::read_dir(maildir.join("tmp"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.metadata().is_ok_and(|m| m.len() > 0));
        if partial {
            break;
        }
        assert!(Instant::now() < deadline, "the big message never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    for pid in dovecot.pids() {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    while child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline + LIMIT, "pop3-fetch did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().expect("output");
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // The first message is stored, the cut one is not, and nothing is left in tmp/.
    assert_eq!(fetched_lines(&stdout), 1, "{stdout}");
    assert_eq!(
        read_dir_files(&maildir.join("new")),
        expected(&MESSAGES[..1])
    );
    assert!(read_dir_files(&maildir.join("tmp")).is_empty());
    // No QUIT was answered: both messages are still on the server.
    assert_eq!(dovecot.messages().len(), 2);
    // The stored one is remembered, so that the next run does not fetch it again.
    let uidl = std::fs::read_to_string(maildir.join("pop3-fetch.uidl")).expect("uidl file");
    assert_eq!(uidl.lines().count(), 1, "{uidl}");
}
