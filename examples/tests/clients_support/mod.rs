//! Support for the tests that drive the mail server with real mail clients from Debian
//! (`interop_mbsync.rs`, `interop_fetchmail.rs`, `interop_swaks.rs`): the never-skip-under-CI
//! check for a client, delivery of test messages through the relay listener, and listings of
//! the Maildirs (the server's and the client's) the tests compare.

#![allow(dead_code)] // not every test uses every helper

use std::path::{Path, PathBuf};

use crate::support::{ALICE, Smtp, files, run_bounded, tool_available};

/// Whether the client `program` runs (`program version_args` exits 0); panics under `CI=true`
/// when it does not (`.ci/run` installs it from Debian package `package`), otherwise prints why
/// the calling test skips.
pub(crate) fn have_client(program: &str, version_args: &[&str], package: &str) -> bool {
    tool_available(
        program,
        version_args,
        &format!("{program} (Debian package {package})"),
    )
}

/// The first line `program version_args` prints (on standard output or, for clients that
/// print their version there, standard error), for failure messages.
pub(crate) fn client_version(program: &str, version_args: &[&str]) -> String {
    let out = run_bounded(program, version_args);
    let text = if out.stdout.is_empty() {
        out.stderr
    } else {
        out.stdout
    };
    String::from_utf8_lossy(&text)
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_owned()
}

/// The test message with `subject` and `body` (one line), as the relay receives it: headers
/// and body with CRLF line ends, from a sender outside the server's domains (a local sender
/// needs the submission port).
pub(crate) fn test_message(subject: &str, body: &str) -> String {
    format!(
        "From: Sender <sender@example.org>\r\nTo: <{ALICE}>\r\nSubject: {subject}\r\n\
         Message-ID: <{}@example.org>\r\n\r\n{body}\r\n",
        subject.replace(' ', "-")
    )
}

/// Delivers [`test_message`] to [`ALICE`] through the relay listener on `smtp_port`.
pub(crate) fn deliver(smtp_port: u16, subject: &str, body: &str) {
    let mut smtp = Smtp::connect(smtp_port);
    smtp.expect(220);
    smtp.start_message("sender@example.org", &[ALICE]);
    smtp.send(format!("{}.\r\n", test_message(subject, body)));
    smtp.expect(250);
    smtp.cmd_expect("QUIT", 221);
}

/// Every message file of the Maildir folder `dir` (`new/` and `cur/`), as
/// (`new/NAME` or `cur/NAME`, contents), sorted.
pub(crate) fn maildir_messages(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        for (name, bytes) in files(&dir.join(sub)) {
            out.push((format!("{sub}/{name}"), bytes));
        }
    }
    out.sort();
    out
}

/// The Maildir flags of a file name (`...:2,FS` gives `FS`); empty when it has none.
pub(crate) fn maildir_flags(name: &str) -> &str {
    name.rsplit_once(":2,").map_or("", |(_, flags)| flags)
}

/// The message of `messages` whose contents contain `needle`; panics unless exactly one does.
pub(crate) fn the_one_with<'a>(
    messages: &'a [(String, Vec<u8>)],
    needle: &str,
) -> &'a (String, Vec<u8>) {
    let found: Vec<&(String, Vec<u8>)> = messages
        .iter()
        .filter(|(_, bytes)| String::from_utf8_lossy(bytes).contains(needle))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one message containing {needle:?}, found {:?} among {:?}",
        found.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        messages.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    found[0]
}

/// The server's certificate, which it generated into `<data>/tls/cert.pem` (self-signed for
/// `localhost`): the clients trust it as their only anchor.
pub(crate) fn server_cert(data: &Path) -> PathBuf {
    let cert = data.join("tls").join("cert.pem");
    assert!(cert.is_file(), "no certificate at {}", cert.display());
    cert
}

/// `delivered` (as a retrieving client wrote it, LF line ends) without the `Received:` field
/// the client added (the one whose text, continuation lines included, contains `marker`), with
/// CRLF line ends as the server stores messages: what must equal the server's file.
pub(crate) fn without_client_received(delivered: &[u8], marker: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(delivered);
    let (header, body) = text.split_once("\n\n").expect("a header and a body");
    let mut fields: Vec<String> = Vec::new();
    for line in header.lines() {
        match fields.last_mut() {
            Some(field) if line.starts_with([' ', '\t']) => {
                field.push('\n');
                field.push_str(line);
            }
            _ => fields.push(line.to_owned()),
        }
    }
    fields.retain(|f| !(f.starts_with("Received:") && f.contains(marker)));
    format!("{}\n\n{body}", fields.join("\n"))
        .replace('\n', "\r\n")
        .into_bytes()
}
