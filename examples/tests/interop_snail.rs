//! The mail server driven by s-nail (Debian package `s-nail`, the mailx we did not write), run
//! headless in batch mode (`-#`, commands on standard input, no resource files with `-:/`):
//! it sends over the submission port (STARTTLS, AUTH PLAIN), reads, flags and deletes over
//! IMAP (STARTTLS and implicit TLS) and reads and deletes over POP3 (STLS). s-nail verifies
//! the server's certificate against the one the server generated (`tls-ca-file`, with the
//! system's roots off by `tls-ca-no-defaults`) and for the name `localhost`.
//!
//! Checks: s-nail's exit code and output (the header summary, the printed message) and the
//! server's Maildir files (the message sent, the flags in the file names, deleted files gone).
//!
//! Without s-nail the tests print why and pass, except under `CI=true`, where they fail
//! (`.ci/run` installs it).

mod clients_support;
mod imap_support;
mod support;

use std::path::Path;

use clients_support::*;
use imap_support::ImapServer;
use support::*;

fn have_snail() -> bool {
    have_client("s-nail", &["-V"], "s-nail")
}

/// `local@domain` with the `@` escaped for a URL's user part.
fn url_user(address: &str) -> String {
    address.replace('@', "%40")
}

/// Runs s-nail with `args` and the variables that make it verify the server's certificate
/// (`cert`) in batch mode, `input` on its standard input and `home` as its home directory;
/// returns its standard output and error, panicking with both unless it exits 0.
fn snail(home: &Path, cert: &Path, args: &[&str], input: &str, server: &MailServer) -> String {
    let ca = format!("tls-ca-file={}", cert.display());
    let commands = home.join("commands");
    std::fs::write(&commands, input).expect("write s-nail's commands");
    // run_bounded gives no standard input: a shell redirects it from the file (`$0`).
    let home_var = format!("HOME={}", home.display());
    let mut argv = vec![
        home_var.as_str(),
        "sh",
        "-c",
        "exec s-nail \"$@\" < \"$0\"",
        commands.to_str().unwrap(),
        "-#",
        "-:/",
        "-S",
        "v15-compat",
        "-S",
        &ca,
        "-S",
        "tls-ca-no-defaults",
    ];
    argv.extend_from_slice(args);
    let out = run_bounded("env", &argv);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "s-nail {args:?} failed ({}):\n{text}\n{}",
        out.status,
        server.logs()
    );
    text
}

#[test]
fn snail_sends_over_starttls_with_auth_and_reads_and_deletes_over_pop3_stls() {
    if !have_snail() {
        return;
    }
    let data = TempDir::new("snail-smtp-pop3");
    let home = TempDir::new("snail-smtp-pop3-home");
    let server = ImapServer::start(data.path(), &users());
    let cert = server_cert(data.path());
    let mta = format!(
        "mta=smtp://{}:{ALICE_PASSWORD}@localhost:{}",
        url_user(ALICE),
        server.server.submission
    );
    // A body line that starts with a dot: s-nail must stuff it, the server unstuff it.
    snail(
        home.path(),
        &cert,
        &[
            "-S",
            &mta,
            "-S",
            "smtp-use-starttls",
            "-S",
            "smtp-auth=plain",
            "-r",
            ALICE,
            "-s",
            "sent by s-nail",
            BOB,
        ],
        "first line\n.a line with a leading dot\nlast line\n",
        &server.server,
    );
    let (_, stored) = only_message(data.path(), BOB);
    let text = String::from_utf8_lossy(&stored).into_owned();
    assert!(text.contains("with ESMTPSA"), "TLS and AUTH:\n{text}");
    assert!(text.contains("\r\nSubject: sent by s-nail\r\n"), "{text}");
    assert!(text.contains("\r\nFrom: alice@localhost\r\n"), "{text}");
    assert!(
        text.ends_with("\r\n\r\nfirst line\r\n.a line with a leading dot\r\nlast line\r\n"),
        "{text}"
    );
    assert_no_bare_line_endings(&stored);

    // Bob reads it over POP3 with STLS and deletes it.
    let folder = format!(
        "pop3://{}:{BOB_PASSWORD}@localhost:{}",
        url_user(BOB),
        server.pop3
    );
    let out = snail(
        home.path(),
        &cert,
        &["-S", "pop3-use-starttls", "-f", &folder],
        "headers\nprint 1\ndelete 1\nquit\n",
        &server.server,
    );
    assert!(out.contains("sent by s-nail"), "{out}");
    assert!(out.contains("\n.a line with a leading dot\n"), "{out}");
    assert!(
        maildir_messages(&server.server.maildir(BOB)).is_empty(),
        "deleted over POP3:\n{out}"
    );
}

#[test]
fn snail_over_imap_lists_reads_flags_and_deletes_and_imaps_sees_the_result() {
    if !have_snail() {
        return;
    }
    let data = TempDir::new("snail-imap");
    let home = TempDir::new("snail-imap-home");
    let server = ImapServer::start(data.path(), &users());
    let cert = server_cert(data.path());
    for (subject, body) in [
        ("snail one", "body one"),
        ("snail two", "body two"),
        ("snail three", "body three"),
    ] {
        deliver(server.server.smtp, subject, body);
    }
    let inbox = server.server.maildir(ALICE);

    // STARTTLS: list, print the second (which marks it \Seen), flag the first, delete the
    // third; quitting expunges it.
    let folder = format!(
        "imap://{}:{ALICE_PASSWORD}@localhost:{}",
        url_user(ALICE),
        server.imap
    );
    let out = snail(
        home.path(),
        &cert,
        &["-S", "imap-use-starttls", "-f", &folder],
        "headers\nprint 2\nflag 1\ndelete 3\nquit\n",
        &server.server,
    );
    for subject in ["snail one", "snail two", "snail three"] {
        assert!(out.contains(subject), "{out}");
    }
    assert!(out.contains("\nbody two\n"), "{out}");
    let stored = maildir_messages(&inbox);
    assert_eq!(stored.len(), 2, "{out}\n{stored:?}");
    assert_eq!(maildir_flags(&the_one_with(&stored, "body one").0), "F");
    assert_eq!(maildir_flags(&the_one_with(&stored, "body two").0), "S");

    // Implicit TLS: a new session sees two messages with those flags.
    let folder = format!(
        "imaps://{}:{ALICE_PASSWORD}@localhost:{}",
        url_user(ALICE),
        server.imaps
    );
    let out = snail(
        home.path(),
        &cert,
        &["-f", &folder],
        "headers\nquit\n",
        &server.server,
    );
    assert!(
        out.contains("snail one") && out.contains("snail two"),
        "{out}"
    );
    assert!(!out.contains("snail three"), "{out}");
    assert_eq!(maildir_messages(&inbox).len(), 2);
}
