//! The mail server's IMAP side driven by isync's `mbsync` (Debian package `isync`), a mail
//! synchroniser we did not write: it syncs INBOX and the Archive folder between the server and
//! a local Maildir, over STARTTLS on the IMAP port and over implicit TLS on the IMAPS port,
//! verifying the server's certificate against the one the server generated (mbsync's
//! `CertificateFile`, with the system's trust store switched off).
//!
//! What the tests check is what a user sees: the messages delivered by SMTP land in the local
//! Maildir with the bytes the server stored; flags set locally (seen, flagged, deleted with
//! `Expunge Both`) reach the server's Maildir file names, the deleted message's file is gone;
//! a message put into the local Archive is APPENDed to the server's `.Archive` folder; and a
//! sync after that changes nothing on either side.
//!
//! Without `mbsync` the tests print why and pass, except under `CI=true`, where they fail
//! (`.ci/run` installs `isync`).

mod clients_support;
mod imap_support;
mod support;

use std::path::Path;

use clients_support::*;
use imap_support::ImapServer;
use support::*;

/// How a test's mbsync connects.
#[derive(Clone, Copy)]
enum Tls {
    /// `SSLType STARTTLS` on the `--imap` port.
    StartTls,
    /// `SSLType IMAPS` on the `--imaps` port.
    Implicit,
}

/// Writes the mbsync configuration for `server` into `dir/mbsyncrc` and returns its path: one
/// channel, `sync`, between the server (as [`ALICE`]) and the Maildir `dir/local/` with INBOX
/// at `dir/local/INBOX`, for INBOX and Archive, creating and expunging on both sides.
/// `cert`: the certificate file to trust (`None`: only the system's trust store).
fn config(dir: &Path, server: &ImapServer, tls: Tls, cert: Option<&Path>) -> std::path::PathBuf {
    let (port, ssl_type) = match tls {
        Tls::StartTls => (server.imap, "STARTTLS"),
        Tls::Implicit => (server.imaps, "IMAPS"),
    };
    let local = dir.join("local");
    std::fs::create_dir_all(&local).expect("create the local Maildir root");
    let trust = match cert {
        // The generated certificate is self-signed: mbsync trusts a certificate of this file
        // that matches the server's exactly. The system's roots are off, so this is the only
        // anchor.
        Some(cert) => format!(
            "CertificateFile {}\nSystemCertificates no\n",
            cert.display()
        ),
        None => String::new(),
    };
    let text = format!(
        "IMAPAccount server\n\
         Host localhost\n\
         Port {port}\n\
         User {ALICE}\n\
         Pass {ALICE_PASSWORD}\n\
         SSLType {ssl_type}\n\
         {trust}\
         Timeout 20\n\
         \n\
         IMAPStore remote\n\
         Account server\n\
         \n\
         MaildirStore local\n\
         Path {local}/\n\
         Inbox {local}/INBOX\n\
         SubFolders Verbatim\n\
         \n\
         Channel sync\n\
         Far :remote:\n\
         Near :local:\n\
         Patterns INBOX Archive\n\
         Create Both\n\
         Expunge Both\n\
         SyncState *\n",
        local = local.display(),
    );
    let path = dir.join("mbsyncrc");
    std::fs::write(&path, text).expect("write mbsyncrc");
    path
}

/// Runs `mbsync -V -c config -a` and returns its output (standard error, where mbsync writes
/// its progress); panics with everything unless it exits 0.
fn mbsync(config: &Path, server: &ImapServer) -> String {
    let out = run_bounded("mbsync", &["-V", "-c", config.to_str().unwrap(), "-a"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "mbsync failed ({}):\n{text}\n{}",
        out.status,
        server.server.logs()
    );
    text
}

/// The message as mbsync stores it locally: line ends LF, and an `X-TUID:` header it adds
/// while a sync is under way. Used to compare a local file with the server's.
fn as_stored_locally(server_file: &[u8]) -> String {
    String::from_utf8_lossy(server_file).replace("\r\n", "\n")
}

/// A local file without the `X-TUID:` line mbsync adds to every message it copies.
fn without_tuid(local_file: &[u8]) -> String {
    String::from_utf8_lossy(local_file)
        .lines()
        .filter(|l| !l.starts_with("X-TUID: "))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn have_mbsync() -> bool {
    have_client("mbsync", &["--version"], "isync")
}

#[test]
fn mbsync_over_starttls_syncs_both_ways_and_a_second_sync_changes_nothing() {
    if !have_mbsync() {
        return;
    }
    let data = TempDir::new("mbsync-starttls");
    let work = TempDir::new("mbsync-starttls-client");
    let server = ImapServer::start(data.path(), &users());
    for (subject, body) in [
        ("one", "first body"),
        ("two", "second body"),
        ("three", "third body"),
    ] {
        deliver(server.server.smtp, subject, body);
    }
    let remote_inbox = server.server.maildir(ALICE);
    let remote_archive = remote_inbox.join(".Archive");
    let local_inbox = work.path().join("local").join("INBOX");
    let local_archive = work.path().join("local").join("Archive");
    let cert = server_cert(data.path());
    let cfg = config(work.path(), &server, Tls::StartTls, Some(&cert));

    // First sync: the three messages arrive with the bytes the server stored.
    let log = mbsync(&cfg, &server);
    assert!(log.contains("Connection is now encrypted"), "{log}");
    let remote = maildir_messages(&remote_inbox);
    let local = maildir_messages(&local_inbox);
    assert_eq!(remote.len(), 3, "{remote:?}");
    assert_eq!(local.len(), 3, "{log}\n{local:?}");
    for body in ["first body", "second body", "third body"] {
        let (_, remote_bytes) = the_one_with(&remote, body);
        let (name, local_bytes) = the_one_with(&local, body);
        assert_eq!(
            without_tuid(local_bytes),
            as_stored_locally(remote_bytes),
            "{name}"
        );
        assert_eq!(maildir_flags(name), "", "{name}");
    }
    assert!(maildir_messages(&local_archive).is_empty());

    // Local changes: "one" read, "two" flagged, "three" deleted; a new message in Archive.
    let mark = |body: &str, flag: &str| {
        let (name, _) = the_one_with(&local, body);
        let file = name.rsplit('/').next().unwrap();
        let base = file.rsplit_once(":2,").map_or(file, |(base, _)| base);
        std::fs::rename(
            local_inbox.join(name),
            local_inbox.join("cur").join(format!("{base}:2,{flag}")),
        )
        .expect("rename a local message");
    };
    mark("first body", "S");
    mark("second body", "F");
    mark("third body", "T");
    let appended = "From: Alice <alice@localhost>\nTo: <alice@localhost>\n\
                    Subject: filed locally\nMessage-ID: <filed@localhost>\n\n\
                    put into the local Archive\n";
    std::fs::write(local_archive.join("new").join("1.local.host"), appended)
        .expect("write a local message");

    // Second sync: the flags and the expunge reach the server, the new message is appended.
    let log = mbsync(&cfg, &server);
    let remote = maildir_messages(&remote_inbox);
    assert_eq!(remote.len(), 2, "{log}\n{remote:?}");
    assert_eq!(maildir_flags(&the_one_with(&remote, "first body").0), "S");
    assert_eq!(maildir_flags(&the_one_with(&remote, "second body").0), "F");
    assert!(
        !remote
            .iter()
            .any(|(_, b)| String::from_utf8_lossy(b).contains("third body")),
        "the deleted message is still on the server: {remote:?}"
    );
    let archived = maildir_messages(&remote_archive);
    assert_eq!(archived.len(), 1, "{log}\n{archived:?}");
    let (_, archived_bytes) = &archived[0];
    // Stored with CRLF as APPENDed; mbsync added its X-TUID header before appending.
    assert_eq!(
        without_tuid(as_stored_locally(archived_bytes).as_bytes()),
        appended
    );
    assert!(
        archived_bytes.windows(2).any(|w| w == b"\r\n"),
        "stored with CRLF line ends"
    );
    assert_no_bare_line_endings(archived_bytes);
    let local = maildir_messages(&local_inbox);
    assert_eq!(
        local.len(),
        2,
        "the expunged message is gone locally: {local:?}"
    );

    // Third sync: nothing changes on either side.
    let before = (
        maildir_messages(&remote_inbox),
        maildir_messages(&remote_archive),
        maildir_messages(&local_inbox),
        maildir_messages(&local_archive),
    );
    let log = mbsync(&cfg, &server);
    let after = (
        maildir_messages(&remote_inbox),
        maildir_messages(&remote_archive),
        maildir_messages(&local_inbox),
        maildir_messages(&local_archive),
    );
    assert_eq!(before, after, "{log}");
    assert!(log.contains("far side: 2 messages"), "{log}");
    assert!(log.contains("far side: 1 messages"), "{log}");
}

#[test]
fn mbsync_over_implicit_tls_fetches_new_mail_and_refuses_an_unverified_certificate() {
    if !have_mbsync() {
        return;
    }
    let data = TempDir::new("mbsync-imaps");
    let server = ImapServer::start(data.path(), &users());
    deliver(server.server.smtp, "over imaps", "implicit TLS body");
    let cert = server_cert(data.path());

    // Trusting only the system's roots, the self-signed certificate is refused: no sync.
    let untrusting = TempDir::new("mbsync-imaps-untrusting");
    let cfg = config(untrusting.path(), &server, Tls::Implicit, None);
    let out = run_bounded("mbsync", &["-c", cfg.to_str().unwrap(), "-a"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("certificate"), "{stderr}");
    assert!(maildir_messages(&untrusting.path().join("local").join("INBOX")).is_empty());

    // Trusting the server's certificate, the message arrives.
    let work = TempDir::new("mbsync-imaps-client");
    let cfg = config(work.path(), &server, Tls::Implicit, Some(&cert));
    let log = mbsync(&cfg, &server);
    let local = maildir_messages(&work.path().join("local").join("INBOX"));
    assert_eq!(local.len(), 1, "{log}\n{local:?}");
    let remote = maildir_messages(&server.server.maildir(ALICE));
    let (_, remote_bytes) = the_one_with(&remote, "implicit TLS body");
    assert_eq!(
        without_tuid(&local[0].1),
        as_stored_locally(remote_bytes),
        "{log}"
    );
    // A second sync finds nothing new.
    let log = mbsync(&cfg, &server);
    assert_eq!(
        maildir_messages(&work.path().join("local").join("INBOX")),
        local
    );
    assert!(log.contains("far side: 1 messages"), "{log}");
}

/// Creates the folder `name` on the server as [`ALICE`] and APPENDs one message with `body`
/// to it, with Python's imaplib over STARTTLS (the server's certificate verified).
fn create_on_server(server: &ImapServer, cert: &Path, name: &str, body: &str) {
    let script = "import imaplib, ssl, sys\n\
        port, cert, user, password, name, body = sys.argv[1:]\n\
        ctx = ssl.create_default_context(cafile=cert)\n\
        m = imaplib.IMAP4('localhost', int(port))\n\
        m.starttls(ssl_context=ctx)\n\
        m.login(user, password)\n\
        quoted = '\"' + name + '\"'\n\
        print(m.create(quoted))\n\
        msg = ('From: a@example.org\\r\\nSubject: made on the server\\r\\n\\r\\n' + body + '\\r\\n').encode()\n\
        print(m.append(quoted, '(\\\\Seen)', None, msg))\n\
        m.logout()\n\
        print('done')\n";
    let port = server.imap.to_string();
    let out = run_bounded(
        "python3",
        &[
            "-c",
            script,
            &port,
            cert.to_str().unwrap(),
            ALICE,
            ALICE_PASSWORD,
            name,
            body,
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.ends_with("done\n"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn mbsync_creates_folders_both_ways_with_every_folder_pattern() {
    if !have_mbsync() || !imap_support::have_imaplib() {
        return;
    }
    let data = TempDir::new("mbsync-folders");
    let work = TempDir::new("mbsync-folders-client");
    let server = ImapServer::start(data.path(), &users());
    let cert = server_cert(data.path());
    create_on_server(&server, &cert, "Made There", "server folder body");
    let cfg = config(work.path(), &server, Tls::StartTls, Some(&cert));
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, text.replace("Patterns INBOX Archive", "Patterns *")).unwrap();
    let local = work.path().join("local");
    // A local folder with a space and a nested one, each with a message (read and answered).
    for folder in ["My Stuff", "My Stuff/Nested"] {
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(local.join(folder).join(sub)).expect("create local folder");
        }
        std::fs::write(
            local.join(folder).join("cur").join("1.local.host:2,RS"),
            format!("From: a@example.org\nSubject: local\n\nin {folder}\n"),
        )
        .expect("write a local message");
    }

    let log = mbsync(&cfg, &server);
    // The server's folders, the special-use ones it creates for every account included, are
    // now local Maildirs; the one made on the server brought its message and its flag.
    for folder in ["Sent", "Drafts", "Trash", "Junk", "Archive", "Made There"] {
        assert!(local.join(folder).join("cur").is_dir(), "{folder}:\n{log}");
    }
    let made = maildir_messages(&local.join("Made There"));
    assert_eq!(made.len(), 1, "{log}");
    assert!(String::from_utf8_lossy(&made[0].1).contains("server folder body"));
    assert_eq!(maildir_flags(&made[0].0), "S");
    // The local folders are created on the server (Maildir++ `.My Stuff`, `.My Stuff.Nested`)
    // with their messages and flags.
    let remote = server.server.maildir(ALICE);
    for (folder, dir) in [
        ("My Stuff", ".My Stuff"),
        ("My Stuff/Nested", ".My Stuff.Nested"),
    ] {
        let messages = maildir_messages(&remote.join(dir));
        assert_eq!(messages.len(), 1, "{dir}:\n{log}");
        assert!(
            String::from_utf8_lossy(&messages[0].1).contains(&format!("in {folder}\r\n")),
            "{messages:?}"
        );
        assert_eq!(maildir_flags(&messages[0].0), "RS", "{dir}");
    }

    // Nothing changes on a second sync.
    let before = (maildir_messages(&remote.join(".My Stuff")), made.clone());
    mbsync(&cfg, &server);
    let after = (
        maildir_messages(&remote.join(".My Stuff")),
        maildir_messages(&local.join("Made There")),
    );
    assert_eq!(before, after);
}
