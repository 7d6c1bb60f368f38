//! The mail server's POP3 side driven by mpop (Debian package `mpop`), the POP3 retriever we
//! did not write: STLS on the `--pop3` port with `keep on` and its UIDL file, and implicit TLS
//! on `--pop3s` with `keep off`, delivering into a local Maildir, the server's certificate
//! verified against the one the server generated (`tls_trust_file`).
//!
//! Checks: every message reaches the local Maildir once with the server's bytes (but for the
//! `Received:` field mpop adds and LF line ends); a second run fetches nothing and a third
//! only a new message; without `keep` the server's files are deleted.
//!
//! Without mpop the test prints why and passes, except under `CI=true`, where it fails
//! (`.ci/run` installs it).

mod clients_support;
mod imap_support;
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use clients_support::*;
use imap_support::ImapServer;
use support::*;

/// Writes an mpop configuration (mode 0600, which mpop requires for a file with a password)
/// with one account, `server`, into `dir/mpoprc`, delivering into the Maildir `dir/mail`.
/// `starttls`: `--pop3` with STLS; otherwise `--pop3s` with implicit TLS.
fn config(dir: &Path, server: &ImapServer, cert: &Path, starttls: bool, keep: bool) -> PathBuf {
    let (port, starttls) = if starttls {
        (server.pop3, "on")
    } else {
        (server.pop3s, "off")
    };
    let maildir = dir.join("mail");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).expect("create the local Maildir");
    }
    let text = format!(
        "account server\n\
         host localhost\n\
         port {port}\n\
         tls on\n\
         tls_starttls {starttls}\n\
         tls_trust_file {cert}\n\
         user {ALICE}\n\
         password {ALICE_PASSWORD}\n\
         keep {keep}\n\
         delivery maildir {maildir}\n\
         uidls_file {uidls}\n",
        cert = cert.display(),
        keep = if keep { "on" } else { "off" },
        maildir = maildir.display(),
        uidls = dir.join("uidls").display(),
    );
    let path = dir.join("mpoprc");
    std::fs::write(&path, text).expect("write mpoprc");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

/// Runs `mpop -d` for the account; returns its log, panicking unless it exits 0.
fn mpop(config: &Path, server: &ImapServer) -> String {
    let out = run_bounded("mpop", &["-C", config.to_str().unwrap(), "-d", "server"]);
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "mpop failed ({}):\n{log}\n{}",
        out.status,
        server.server.logs()
    );
    log
}

/// Checks that the local Maildir `local` holds exactly the messages of `stored`.
fn assert_same_messages(local: &Path, stored: &[(String, Vec<u8>)], log: &str) {
    let mut got: Vec<String> = maildir_messages(local)
        .iter()
        .map(|(_, b)| String::from_utf8_lossy(&without_client_received(b, "(mpop-")).into_owned())
        .collect();
    let mut want: Vec<String> = stored
        .iter()
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{log}");
}

#[test]
fn mpop_with_stls_and_keep_fetches_each_message_once_and_without_keep_deletes() {
    if !have_client("mpop", &["--version"], "mpop") {
        return;
    }
    let data = TempDir::new("mpop");
    let work = TempDir::new("mpop-client");
    let server = ImapServer::start(data.path(), &users());
    let cert = server_cert(data.path());
    for n in 1..=3 {
        deliver(
            server.server.smtp,
            &format!("mpop {n}"),
            &format!("mpop body {n}"),
        );
    }
    let inbox = server.server.maildir(ALICE);
    let local = work.path().join("mail");

    let cfg = config(work.path(), &server, &cert, true, true);
    let log = mpop(&cfg, &server);
    assert!(log.contains("--> STLS"), "{log}");
    assert!(log.contains("--> UIDL"), "{log}");
    let stored = maildir_messages(&inbox);
    assert_eq!(stored.len(), 3, "keep: {stored:?}");
    assert_same_messages(&local, &stored, &log);

    // Second run: nothing new.
    let log = mpop(&cfg, &server);
    assert_eq!(maildir_messages(&local).len(), 3, "{log}");
    assert!(!log.contains("--> RETR"), "{log}");

    // A new message: only it is fetched.
    deliver(server.server.smtp, "mpop 4", "mpop body 4");
    let log = mpop(&cfg, &server);
    assert_eq!(log.matches("--> RETR").count(), 1, "{log}");
    assert_same_messages(&local, &maildir_messages(&inbox), &log);

    // Implicit TLS without keep, from a fresh client: all four fetched, then deleted.
    let work2 = TempDir::new("mpop-client-delete");
    let stored = maildir_messages(&inbox);
    let cfg = config(work2.path(), &server, &cert, false, false);
    let log = mpop(&cfg, &server);
    assert!(!log.contains("--> STLS"), "implicit TLS:\n{log}");
    assert_eq!(log.matches("--> DELE").count(), 4, "{log}");
    assert_same_messages(&work2.path().join("mail"), &stored, &log);
    assert!(maildir_messages(&inbox).is_empty(), "deleted on the server");
}
