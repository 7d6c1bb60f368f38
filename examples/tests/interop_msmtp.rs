//! The mail server's submission side driven by msmtp (Debian package `msmtp`), the SMTP
//! client many users run as their `sendmail`, which we did not write: STARTTLS on the
//! submission port and implicit TLS on the submissions port, `auth on` (msmtp picks the
//! mechanism from the EHLO reply), the server's certificate verified against the one the
//! server generated (`tls_trust_file`), and refused when msmtp trusts only the system's roots.
//!
//! Checks: msmtp's exit code and its protocol log (`-d`), and the bytes of the Maildir file.
//!
//! Without msmtp the tests print why and pass, except under `CI=true`, where they fail
//! (`.ci/run` installs it).

mod clients_support;
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use clients_support::*;
use support::*;

/// Writes an msmtp configuration (mode 0600, which msmtp requires for a file with a password)
/// with one account, `server`, into `dir/msmtprc`. `starttls`: the submission port with
/// STARTTLS; otherwise the submissions port with implicit TLS. `cert`: the trust file (`None`:
/// the system's roots).
fn config(dir: &Path, server: &MailServer, starttls: bool, cert: Option<&Path>) -> PathBuf {
    let (port, starttls) = if starttls {
        (server.submission, "on")
    } else {
        (server.submissions, "off")
    };
    let trust = match cert {
        Some(cert) => cert.display().to_string(),
        None => "system".to_owned(),
    };
    let text = format!(
        "account server\n\
         host localhost\n\
         port {port}\n\
         tls on\n\
         tls_starttls {starttls}\n\
         tls_trust_file {trust}\n\
         auth on\n\
         user {ALICE}\n\
         password {ALICE_PASSWORD}\n\
         from {ALICE}\n"
    );
    let path = dir.join("msmtprc");
    std::fs::write(&path, text).expect("write msmtprc");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

/// Sends `message` (LF line ends, as a mail program hands it to `sendmail`) to `to` with
/// `msmtp -d`; returns its exit code and log.
fn msmtp(dir: &Path, config: &Path, message: &str, to: &str) -> (i32, String) {
    let file = dir.join("message");
    std::fs::write(&file, message).expect("write the message");
    // run_bounded gives no standard input: a shell redirects it from the file (`$0`).
    let out = run_bounded(
        "sh",
        &[
            "-c",
            "exec msmtp \"$@\" < \"$0\"",
            file.to_str().unwrap(),
            "-C",
            config.to_str().unwrap(),
            "-a",
            "server",
            "-d",
            to,
        ],
    );
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), log)
}

fn have_msmtp() -> bool {
    have_client("msmtp", &["--version"], "msmtp")
}

/// A complete message (msmtp adds `Date:` and `Message-ID:` only when they are missing).
const MESSAGE: &str = "Date: Mon, 07 Dec 2026 12:00:00 +0000\nFrom: Alice <alice@localhost>\nTo: <bob@localhost>\n\
    Subject: sent by msmtp\nMessage-ID: <msmtp-1@localhost>\n\n\
    .a line that starts with a dot\n.\nlast line\n";

#[test]
fn msmtp_submits_over_starttls_and_over_implicit_tls_with_the_certificate_verified() {
    if !have_msmtp() {
        return;
    }
    let data = TempDir::new("msmtp");
    let work = TempDir::new("msmtp-client");
    let server = MailServer::start(data.path(), &users());
    let cert = server_cert(data.path());

    let cfg = config(work.path(), &server, true, Some(&cert));
    let (code, log) = msmtp(work.path(), &cfg, MESSAGE, BOB);
    assert_eq!(code, 0, "{log}\n{}", server.logs());
    assert!(log.contains("--> STARTTLS"), "{log}");
    assert!(log.contains("<-- 235 2.7.0"), "{log}");
    // Dot-stuffed on the wire, stored as written, with CRLF line ends.
    assert!(log.contains("--> ..a line that starts with a dot"), "{log}");
    let (_, stored) = only_message(data.path(), BOB);
    assert_eq!(
        String::from_utf8_lossy(strip_trace(&stored)),
        MESSAGE.replace('\n', "\r\n")
    );
    assert!(String::from_utf8_lossy(&stored).contains("with ESMTPSA"));

    let work2 = TempDir::new("msmtp-client-implicit");
    let cfg = config(work2.path(), &server, false, Some(&cert));
    let (code, log) = msmtp(
        work2.path(),
        &cfg,
        &MESSAGE.replace("msmtp-1", "msmtp-2"),
        ALICE,
    );
    assert_eq!(code, 0, "{log}\n{}", server.logs());
    assert!(!log.contains("--> STARTTLS"), "implicit TLS:\n{log}");
    let (_, stored) = only_message(data.path(), ALICE);
    assert!(String::from_utf8_lossy(&stored).contains("<msmtp-2@localhost>"));
}

#[test]
fn msmtp_trusting_only_the_system_roots_refuses_the_certificate_and_sends_nothing() {
    if !have_msmtp() {
        return;
    }
    let data = TempDir::new("msmtp-untrusted");
    let work = TempDir::new("msmtp-untrusted-client");
    let server = MailServer::start(data.path(), &users());
    let cfg = config(work.path(), &server, true, None);
    let (code, log) = msmtp(work.path(), &cfg, MESSAGE, BOB);
    assert_ne!(code, 0, "{log}");
    assert!(log.contains("certificate"), "{log}");
    assert!(
        !log.contains("--> AUTH"),
        "no password over an unverified channel:\n{log}"
    );
    assert!(files(&server.maildir(BOB).join("new")).is_empty());
}
