//! Issue 14, items 4 and 9: passwords off the command line, and a versioned accounts file.
//!
//! - `--user ADDR --password-file FILE`: the password is not in `/proc/PID/cmdline`, and
//!   Python's `smtplib` logs in with it; a file group or others may read is refused;
//!   `--password-file -` reads the password from standard input.
//! - `--user ADDR:PASSWORD` still works and logs a warning that argv is readable by everyone.
//! - The generated demo password goes to `DATA/demo-password` with mode 0600, and not to
//!   standard output when that is not a terminal (here it is the test's pipe).
//! - The accounts file starts with `sansmail-accounts 1`; an unknown version stops the start
//!   with a message naming the file and the version; `--user` with an unchanged password does
//!   not rewrite the file.

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use support::*;

const CAROL: &str = "carol@localhost";
const CAROL_PASSWORD: &str = "wonderland-7-not-on-argv";

/// Writes `password` and a newline to `path` with `mode`.
fn password_file(path: &Path, password: &str, mode: u32) {
    std::fs::write(path, format!("{password}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Runs the server expecting it to refuse to start; returns its exit code and stderr.
fn refused_start(data: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let bin = example_bin("mail-server");
    let mut args = vec!["--data", data.to_str().expect("utf-8 temp path")];
    for listener in [
        "--smtp",
        "--submission",
        "--submissions",
        "--pop3",
        "--pop3s",
        "--imap",
        "--imaps",
    ] {
        args.extend([listener, "0"]);
    }
    args.extend_from_slice(extra);
    let out = run_bounded(bin.to_str().expect("utf-8 path"), &args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_password_file_keeps_the_password_off_the_command_line() {
    if !have_python() {
        return;
    }
    let dir = TempDir::new("password-file");
    let file = dir.path().join("carol.pw");
    password_file(&file, CAROL_PASSWORD, 0o600);
    let args: Vec<String> = [
        "--user",
        CAROL,
        "--password-file",
        file.to_str().unwrap(),
        "--allow-plaintext-auth",
    ]
    .map(String::from)
    .to_vec();
    let server = MailServer::start(&dir.path().join("data"), &args);
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", server.pid())).unwrap();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    assert!(cmdline.contains("--password-file"), "{cmdline}");
    assert!(!cmdline.contains(CAROL_PASSWORD), "{cmdline}");
    // No warning about argv for this account.
    assert!(
        !server.stderr().contains("on the command line"),
        "{}",
        server.logs()
    );

    let session = py_smtp(
        dir.path(),
        PyArgs {
            mode: "plain",
            port: server.submission,
            auth: Some(("PLAIN", CAROL, CAROL_PASSWORD)),
            from: CAROL,
            to: &[CAROL],
            message: Some(b"Subject: hi\r\n\r\nfrom a password file\r\n"),
            params: "",
        },
    );
    assert_eq!(session.code("auth"), 235, "{}", session.raw);
    assert_eq!(session.code("data"), 250, "{}", session.raw);
    // The password is nowhere in the logs either.
    assert!(!server.logs().contains(CAROL_PASSWORD), "{}", server.logs());
}

#[test]
fn a_password_on_the_command_line_logs_a_warning() {
    let dir = TempDir::new("argv-warning");
    let server = MailServer::start(&dir.path().join("data"), &users());
    // The log is read from a pipe by another thread: wait for the line.
    let log = poll("the warning", || {
        let log = server.stderr();
        log.contains("on the command line").then_some(log)
    });
    let warning = log
        .lines()
        .find(|l| l.contains("WARN") && l.contains("on the command line"))
        .unwrap_or_else(|| panic!("no warning:\n{log}"));
    assert!(
        warning.contains("every local user can read it"),
        "{warning}"
    );
    assert!(warning.contains("--password-file"), "{warning}");
    assert!(warning.contains(ALICE), "{warning}");
    assert!(!log.contains(ALICE_PASSWORD), "{log}");
}

#[test]
fn a_password_file_others_may_read_is_refused() {
    let dir = TempDir::new("group-readable");
    let file = dir.path().join("carol.pw");
    let data = dir.path().join("data");
    for mode in [0o640, 0o644, 0o660] {
        password_file(&file, CAROL_PASSWORD, mode);
        let (code, stderr) = refused_start(
            &data,
            &["--user", CAROL, "--password-file", file.to_str().unwrap()],
        );
        assert_eq!(code, Some(1), "{stderr}");
        let expected = format!(
            "--password-file {}: the file may be read or changed by group or others (mode {:04o}); \
             make it private with `chmod 600 {}`",
            file.display(),
            mode,
            file.display()
        );
        assert!(stderr.contains(&expected), "{stderr}");
        assert!(!stderr.contains(CAROL_PASSWORD), "{stderr}");
        // Nothing was created.
        assert!(!data.join("accounts").exists());
    }
    // A --user without any password is a usage error (exit 2).
    let (code, stderr) = refused_start(&data, &["--user", CAROL]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("add `--password-file FILE`"), "{stderr}");
}

#[test]
fn the_demo_password_goes_to_a_private_file_not_to_a_piped_stdout() {
    let dir = TempDir::new("demo-file");
    let data = dir.path().join("data");
    let server = MailServer::start(&data, &[]);
    let file = data.join("demo-password");
    let meta = std::fs::metadata(&file).expect("the demo password file");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let password = std::fs::read_to_string(&file).unwrap();
    let password = password.strip_suffix('\n').expect("one line");
    assert_eq!(password.len(), 20);
    // The banner names the file; stdout is a pipe, so the password is not on it.
    let deadline = std::time::Instant::now() + LIMIT;
    while !server.stdout().contains("Then read it from the Maildir") {
        assert!(std::time::Instant::now() < deadline, "{}", server.logs());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let stdout = server.stdout();
    assert!(
        stdout.contains(&format!("password in {} (mode 0600)", file.display())),
        "{stdout}"
    );
    assert!(!stdout.contains(password), "{stdout}");
    assert!(!server.stderr().contains(password), "{}", server.logs());
}

#[test]
fn an_unknown_accounts_file_version_stops_the_start() {
    let dir = TempDir::new("version");
    let data = dir.path().join("data");
    drop(MailServer::start(&data, &users()));
    let accounts = data.join("accounts");
    let text = std::fs::read_to_string(&accounts).unwrap();
    assert!(text.starts_with("sansmail-accounts 1\n"), "{text}");

    let newer = text.replacen("sansmail-accounts 1\n", "sansmail-accounts 7\n", 1);
    std::fs::write(&accounts, &newer).unwrap();
    let (code, stderr) = refused_start(&data, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    let expected = format!(
        "mail-server: {}: format version `7` is not one this server knows (it reads version 1); \
         refusing to read the file rather than misread it",
        accounts.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    // The file is left as it was.
    assert_eq!(std::fs::read_to_string(&accounts).unwrap(), newer);

    // A file without the line (the format before issue 14) is read and upgraded once.
    let old = text.replacen("sansmail-accounts 1\n", "", 1);
    std::fs::write(&accounts, &old).unwrap();
    let server = MailServer::start(&data, &[]);
    assert_eq!(std::fs::read_to_string(&accounts).unwrap(), text);
    poll("the rewrite's log line", || {
        server
            .stderr()
            .contains("accounts file rewritten with its format version")
            .then_some(())
    });
}

#[test]
fn an_unchanged_user_does_not_rewrite_the_accounts_file() {
    let dir = TempDir::new("no-rewrite");
    let data = dir.path().join("data");
    let file = dir.path().join("carol.pw");
    password_file(&file, CAROL_PASSWORD, 0o600);
    let args: Vec<String> = ["--user", CAROL, "--password-file", file.to_str().unwrap()]
        .map(String::from)
        .to_vec();
    drop(MailServer::start(&data, &args));
    let accounts = data.join("accounts");
    let before = std::fs::metadata(&accounts).unwrap();
    let text = std::fs::read_to_string(&accounts).unwrap();
    // Far enough apart for a coarse file system clock to show a rewrite.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    drop(MailServer::start(&data, &args));
    let after = std::fs::metadata(&accounts).unwrap();
    assert_eq!(
        (before.ino(), before.mtime(), before.mtime_nsec()),
        (after.ino(), after.mtime(), after.mtime_nsec())
    );
    assert_eq!(std::fs::read_to_string(&accounts).unwrap(), text);
    // A new password does rewrite it (atomically: a new inode).
    password_file(&file, "another-password", 0o600);
    drop(MailServer::start(&data, &args));
    let changed = std::fs::metadata(&accounts).unwrap();
    assert_ne!(changed.ino(), before.ino());
    assert_ne!(std::fs::read_to_string(&accounts).unwrap(), text);
}

#[test]
fn a_password_from_standard_input_sets_the_account() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    if !have_python() {
        return;
    }
    let dir = TempDir::new("password-stdin");
    let data = dir.path().join("data");
    let bin = example_bin("mail-server");
    let mut child = Command::new(&bin)
        .arg("--data")
        .arg(&data)
        .args(["--smtp", "0", "--submission", "0", "--submissions", "0"])
        .args(["--pop3", "0", "--pop3s", "0", "--imap", "0", "--imaps", "0"])
        .args(["--user", CAROL, "--password-file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run mail-server");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(format!("{CAROL_PASSWORD}\n").as_bytes())
        .unwrap();
    drop(stdin);
    // The banner comes once the account is written; a closed stdout means the start failed.
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    let ready = loop {
        line.clear();
        match stdout.read_line(&mut line) {
            Ok(0) | Err(_) => break false,
            Ok(_) if line.ends_with("ready\n") => break true,
            Ok(_) => {}
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(ready, "the server did not start");
    // A later start without --user: carol logs in with the password read from stdin.
    let server = MailServer::start(&data, &["--allow-plaintext-auth".to_owned()]);
    let session = py_smtp(
        dir.path(),
        PyArgs {
            mode: "plain",
            port: server.submission,
            auth: Some(("PLAIN", CAROL, CAROL_PASSWORD)),
            from: CAROL,
            to: &[CAROL],
            message: None,
            params: "",
        },
    );
    assert_eq!(session.code("auth"), 235, "{}", session.raw);
}
