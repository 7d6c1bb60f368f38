//! The mail server's POP3 and IMAP sides driven by fetchmail (Debian package `fetchmail`), the
//! mail retriever we did not write. fetchmail hands every message it retrieves to an MDA
//! command, here a script that writes it to a new file, and verifies the server's certificate
//! against the one the server generated (`sslcertck`, `sslcertfile`).
//!
//! - POP3 with STLS on the `--pop3` port, `uidl` and `keep`: every message arrives once, the
//!   server keeps them, a second run fetches nothing (fetchmail's UID list), and a message
//!   delivered after that is the only one the third run fetches.
//! - POP3 over implicit TLS on `--pop3s` without `keep`: every message arrives once and is
//!   deleted from the server's Maildir.
//! - IMAP with STARTTLS on `--imap` (no IDLE), `keep`: every unseen message arrives once, is
//!   marked `\Seen` on the server (the Maildir file name), and a second run fetches nothing.
//!
//! Without fetchmail the tests print why and pass, except under `CI=true`, where they fail
//! (`.ci/run` installs it).

mod clients_support;
mod imap_support;
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use clients_support::*;
use imap_support::ImapServer;
use support::*;

fn have_fetchmail() -> bool {
    have_client("fetchmail", &["--version"], "fetchmail")
}

/// How a poll connects.
struct Poll {
    /// `POP3` or `IMAP`.
    protocol: &'static str,
    port: u16,
    /// `true`: implicit TLS (`ssl`); `false`: STLS/STARTTLS (`sslproto`).
    implicit: bool,
    /// Leave the messages on the server.
    keep: bool,
}

/// A fetchmail set-up in `dir`: its run-control file (mode 0600, as fetchmail requires for a
/// file with a password), its home (`FETCHMAILHOME`) and lock file, its UID list and the
/// directory `out/` where the MDA script writes each message it is given.
struct Fetchmail {
    dir: PathBuf,
    rc: PathBuf,
    out: PathBuf,
}

impl Fetchmail {
    fn new(dir: &Path, cert: &Path, poll: &Poll) -> Fetchmail {
        let out = dir.join("out");
        std::fs::create_dir_all(&out).expect("create out/");
        let mda = dir.join("deliver.sh");
        std::fs::write(
            &mda,
            format!(
                "#!/bin/sh\nexec cat > \"$(mktemp {}/msg.XXXXXX)\"\n",
                out.display()
            ),
        )
        .expect("write the MDA script");
        std::fs::set_permissions(&mda, std::fs::Permissions::from_mode(0o755))
            .expect("chmod the MDA script");
        // STLS/STARTTLS is what `sslproto` without `ssl` asks for; `sslcertck` fails the poll
        // when the certificate does not verify against `sslcertfile` for the name `localhost`.
        let tls = if poll.implicit {
            "ssl sslproto \"TLS1.2+\""
        } else {
            "sslproto \"TLS1.2+\""
        };
        let uidl = if poll.protocol == "POP3" { " uidl" } else { "" };
        let keep = if poll.keep { "keep" } else { "nokeep" };
        let rc_text = format!(
            "set no bouncemail\n\
             poll localhost protocol {protocol} port {port}{uidl}\n\
             \x20 user \"{ALICE}\" there with password \"{ALICE_PASSWORD}\"\n\
             \x20 {tls} sslcertck sslcertfile \"{cert}\"\n\
             \x20 {keep}\n\
             \x20 mda \"{mda}\"\n",
            protocol = poll.protocol,
            port = poll.port,
            cert = cert.display(),
            mda = mda.display(),
        );
        let rc = dir.join("fetchmailrc");
        std::fs::write(&rc, rc_text).expect("write fetchmailrc");
        std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600))
            .expect("chmod fetchmailrc");
        Fetchmail {
            dir: dir.to_path_buf(),
            rc,
            out,
        }
    }

    /// Runs one poll (`fetchmail -v -v`); returns its exit code (0: mail retrieved, 1: no
    /// mail) and log, panicking on any other code.
    fn run(&self, server: &MailServer) -> (i32, String) {
        let home = format!("FETCHMAILHOME={}", self.dir.display());
        let ids = self.dir.join("fetchids");
        // Run as root, fetchmail puts its lock in /var/run whatever FETCHMAILHOME says; the
        // tests run at the same time, each with its own lock.
        let pid = self.dir.join("fetchmail.pid");
        let out = run_bounded(
            "env",
            &[
                &home,
                "fetchmail",
                "-v",
                "-v",
                "--nosyslog",
                "-f",
                self.rc.to_str().unwrap(),
                "--idfile",
                ids.to_str().unwrap(),
                "--pidfile",
                pid.to_str().unwrap(),
            ],
        );
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let code = out.status.code().unwrap_or(-1);
        assert!(
            code == 0 || code == 1,
            "fetchmail exited {code}:\n{log}\n{}",
            server.logs()
        );
        (code, log)
    }

    /// The messages the MDA was given, in no particular order.
    fn delivered(&self) -> Vec<(String, Vec<u8>)> {
        files(&self.out)
    }
}

/// Checks that `delivered` holds exactly the messages of `stored` (the server's files), each
/// once, byte for byte but for fetchmail's `Received:` header and line ends.
fn assert_same_messages(delivered: &[(String, Vec<u8>)], stored: &[(String, Vec<u8>)], log: &str) {
    let mut got: Vec<Vec<u8>> = delivered
        .iter()
        .map(|(_, b)| without_client_received(b, "(fetchmail-"))
        .collect();
    let mut want: Vec<Vec<u8>> = stored.iter().map(|(_, b)| b.clone()).collect();
    got.sort();
    want.sort();
    assert_eq!(
        got.iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect::<Vec<_>>(),
        want.iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect::<Vec<_>>(),
        "{log}"
    );
}

#[test]
fn fetchmail_pop3_stls_with_uidl_and_keep_fetches_each_message_once() {
    if !have_fetchmail() {
        return;
    }
    let data = TempDir::new("fetchmail-pop3");
    let work = TempDir::new("fetchmail-pop3-client");
    let server = ImapServer::start(data.path(), &users());
    for n in 1..=3 {
        deliver(
            server.server.smtp,
            &format!("pop3 {n}"),
            &format!("pop3 body {n}"),
        );
    }
    let inbox = server.server.maildir(ALICE);
    let fetchmail = Fetchmail::new(
        work.path(),
        &server_cert(data.path()),
        &Poll {
            protocol: "POP3",
            port: server.pop3,
            implicit: false,
            keep: true,
        },
    );

    let (code, log) = fetchmail.run(&server.server);
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("POP3> STLS"), "{log}");
    assert!(log.contains("upgrade to TLS succeeded"), "{log}");
    assert!(log.contains("POP3> UIDL"), "{log}");
    let stored = maildir_messages(&inbox);
    assert_eq!(stored.len(), 3, "keep: the server still has them");
    assert_same_messages(&fetchmail.delivered(), &stored, &log);

    // Second run: the UID list says all three were seen; nothing is fetched.
    let (code, log) = fetchmail.run(&server.server);
    assert_eq!(code, 1, "no mail:\n{log}");
    assert!(log.contains("3 messages (3 seen)"), "{log}");
    assert_eq!(fetchmail.delivered().len(), 3, "{log}");

    // A new message: the third run fetches it and only it.
    deliver(server.server.smtp, "pop3 4", "pop3 body 4");
    let (code, log) = fetchmail.run(&server.server);
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("4 messages (3 seen)"), "{log}");
    let stored = maildir_messages(&inbox);
    assert_eq!(stored.len(), 4);
    assert_same_messages(&fetchmail.delivered(), &stored, &log);
}

#[test]
fn fetchmail_pop3_over_implicit_tls_without_keep_fetches_and_deletes() {
    if !have_fetchmail() {
        return;
    }
    let data = TempDir::new("fetchmail-pop3s");
    let work = TempDir::new("fetchmail-pop3s-client");
    let server = ImapServer::start(data.path(), &users());
    for n in 1..=2 {
        deliver(
            server.server.smtp,
            &format!("pop3s {n}"),
            &format!("pop3s body {n}"),
        );
    }
    let inbox = server.server.maildir(ALICE);
    let stored = maildir_messages(&inbox);
    let fetchmail = Fetchmail::new(
        work.path(),
        &server_cert(data.path()),
        &Poll {
            protocol: "POP3",
            port: server.pop3s,
            implicit: true,
            keep: false,
        },
    );
    let (code, log) = fetchmail.run(&server.server);
    assert_eq!(code, 0, "{log}");
    assert!(
        !log.contains("POP3> STLS"),
        "implicit TLS needs no STLS:\n{log}"
    );
    assert!(log.contains("POP3> DELE 1"), "{log}");
    assert!(log.contains("POP3> DELE 2"), "{log}");
    assert_same_messages(&fetchmail.delivered(), &stored, &log);
    assert!(
        maildir_messages(&inbox).is_empty(),
        "deleted on the server: {:?}",
        maildir_messages(&inbox)
    );
    let (code, log) = fetchmail.run(&server.server);
    assert_eq!(code, 1, "no mail:\n{log}");
    assert_eq!(fetchmail.delivered().len(), 2);
}

#[test]
fn fetchmail_imap_starttls_with_keep_fetches_unseen_mail_once_and_marks_it_seen() {
    if !have_fetchmail() {
        return;
    }
    let data = TempDir::new("fetchmail-imap");
    let work = TempDir::new("fetchmail-imap-client");
    let server = ImapServer::start(data.path(), &users());
    for n in 1..=3 {
        deliver(
            server.server.smtp,
            &format!("imap {n}"),
            &format!("imap body {n}"),
        );
    }
    let inbox = server.server.maildir(ALICE);
    let fetchmail = Fetchmail::new(
        work.path(),
        &server_cert(data.path()),
        &Poll {
            protocol: "IMAP",
            port: server.imap,
            implicit: false,
            keep: true,
        },
    );
    let (code, log) = fetchmail.run(&server.server);
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("IMAP> A0001 STARTTLS"), "{log}");
    assert!(log.contains("upgrade to TLS succeeded"), "{log}");
    assert!(
        !log.contains("IMAP> IDLE") && !log.contains(" IDLE\n"),
        "{log}"
    );
    let stored = maildir_messages(&inbox);
    assert_eq!(stored.len(), 3, "keep: {stored:?}");
    for (name, _) in &stored {
        assert_eq!(
            maildir_flags(name),
            "S",
            "marked \\Seen on the server: {name}"
        );
    }
    assert_same_messages(&fetchmail.delivered(), &stored, &log);

    let (code, log) = fetchmail.run(&server.server);
    assert_eq!(code, 1, "no mail:\n{log}");
    assert!(log.contains("3 messages (3 seen)"), "{log}");
    assert_eq!(fetchmail.delivered().len(), 3);
}
