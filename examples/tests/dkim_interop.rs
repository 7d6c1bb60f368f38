//! DKIM end to end (issue 16): the mail server generates its keys on first start and prints the
//! TXT records in its banner; the same records, served by a real DNS server we did not write
//! (Debian's dnsmasq, started here on loopback), let two verifiers check the signatures the
//! server's `dkim` module makes with those keys: Python's dkimpy (an independent
//! implementation, with dnspython asking dnsmasq) and mail-auth's own verifier (through its
//! hickory resolver, asking dnsmasq too). Restarts keep the keys; a damaged key stops the start.
//! End to end: a message a user submits for another domain is signed in the queue and
//! verifies as the remote MX (Python's aiosmtpd) received it.
//!
//! Under `CI=true` a missing dnsmasq, dkimpy, dnspython, PyNaCl (dkimpy's Ed25519) or aiosmtpd
//! fails the tests; elsewhere they skip with a message. `.ci/run` installs them.
#![allow(dead_code, unreachable_pub)]

#[path = "../mail-server/dkim.rs"]
mod dkim;

mod dkim_common;
mod support;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use mail_auth::DkimResult;

use dkim::Dkim;
use dkim_common::{Dnsmasq, authenticator, fields, message, tag, verify};
use support::{LIMIT, MailServer, TempDir, run_bounded, tool_available};

const DOMAINS: [&str; 2] = ["example.org", "sub.test"];

/// dkimpy's verdict on each DKIM-Signature of a message file, asking the DNS server at the
/// given port through dnspython: one line per signature, `<a=> <d=> pass|fail`.
const DKIMPY: &str = r#"
import logging
import sys
import dkim
import dns.resolver

logging.basicConfig(stream=sys.stderr, level=logging.INFO)

resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = ["127.0.0.1"]
resolver.port = int(sys.argv[1])
resolver.lifetime = 10

def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    answer = resolver.resolve(name, "TXT")
    # One record; a verifier joins its character-strings (RFC 6376 section 3.6.2.2).
    return b"".join(answer[0].strings)

message = open(sys.argv[2], "rb").read()
verifier = dkim.DKIM(message, logger=logging.getLogger("dkimpy"))
count = sum(1 for name, _ in dkim.rfc822_parse(message)[0] if name.lower() == b"dkim-signature")
for index in range(count):
    try:
        ok = verifier.verify(idx=index, dnsfunc=dnsfunc)
    except dkim.DKIMException as error:
        # A body hash mismatch is raised, not returned (as dkim.verify() catches it).
        logging.info("signature %d: %s", index, error)
        ok = False
    fields = verifier.signature_fields
    print(fields[b"a"].decode(), fields[b"d"].decode(), "pass" if ok else "fail")
"#;

/// Python 3 with dkimpy, dnspython and PyNaCl (required under `CI=true`).
fn have_dkimpy() -> bool {
    tool_available(
        "python3",
        &["-c", "import dkim, dns.resolver, nacl.signing"],
        "python3 with dkimpy, dnspython and PyNaCl (pip install dkimpy dnspython pynacl)",
    )
}

fn domain_args() -> Vec<String> {
    DOMAINS
        .iter()
        .flat_map(|d| ["--domain".to_owned(), d.to_string()])
        .collect()
}

/// The banner's DKIM records, once it printed them all: (name without the trailing dot, the
/// quoted character-strings).
fn banner_records(server: &MailServer, expected: usize) -> Vec<(String, Vec<String>)> {
    let deadline = Instant::now() + LIMIT;
    loop {
        let records: Vec<(String, Vec<String>)> = server
            .stdout()
            .lines()
            .filter_map(|line| {
                let (name, strings) = line.trim().split_once(". IN TXT ")?;
                let strings = strings
                    .split("\" \"")
                    .map(|s| s.trim_matches('"').to_owned())
                    .collect();
                Some((name.to_owned(), strings))
            })
            .collect();
        if records.len() == expected {
            return records;
        }
        assert!(
            Instant::now() < deadline,
            "no {expected} DKIM records in the banner:\n{}",
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stops the server with Ctrl-C and waits for it.
fn stop(mut server: MailServer) {
    server.interrupt();
    assert!(server.wait_exit(LIMIT).success(), "{}", server.logs());
}

/// dkimpy's lines for `message`, the keys served by `dns`.
fn dkimpy(dns: &Dnsmasq, dir: &Path, message: &[u8]) -> Vec<String> {
    let file = dir.join("message.eml");
    fs::write(&file, message).unwrap();
    let port = dns.addr.port().to_string();
    let output = run_bounded("python3", &["-c", DKIMPY, &port, file.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "dkimpy: {}\n{stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    // Why a signature failed, for the test's output.
    eprintln!("dkimpy: {}", String::from_utf8_lossy(&output.stderr));
    stdout.lines().map(str::to_owned).collect()
}

#[test]
fn signatures_verify_with_dkimpy_and_mail_auth_through_dnsmasq_with_the_banner_records() {
    if !have_dkimpy() {
        return;
    }
    let data = TempDir::new("dkim-interop");
    let server = MailServer::start(data.path(), &domain_args());
    let records = banner_records(&server, 4);
    let names: Vec<&str> = records.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "sansmail-rsa._domainkey.example.org",
            "sansmail-ed25519._domainkey.example.org",
            "sansmail-rsa._domainkey.sub.test",
            "sansmail-ed25519._domainkey.sub.test",
        ]
    );
    // The RSA record needs two character-strings, each at most 255 octets.
    for (name, strings) in &records {
        assert!(
            strings.iter().all(|s| s.len() <= 255),
            "{name}: {strings:?}"
        );
        let expected = if name.starts_with("sansmail-rsa") {
            2
        } else {
            1
        };
        assert_eq!(strings.len(), expected, "{name}: {strings:?}");
    }
    stop(server);

    // A restart: the same records (the keys were kept, not regenerated).
    let server = MailServer::start(data.path(), &domain_args());
    assert_eq!(banner_records(&server, 4), records);
    stop(server);

    // Sign with the keys the server created, publish what the banner printed.
    let domains: Vec<String> = DOMAINS.iter().map(|d| d.to_string()).collect();
    let dkim = Dkim::load_or_create(data.path(), &domains).unwrap();
    let printed: Vec<(String, String)> = records
        .iter()
        .map(|(name, strings)| (name.clone(), strings.concat()))
        .collect();
    assert_eq!(dkim.dns_records(), printed);
    let Some(dns) = Dnsmasq::start(&records) else {
        return;
    };
    let resolver = authenticator(Some(dns.addr));

    for (from, domain) in [
        ("alice@example.org", "example.org"),
        ("carol@sub.test", "sub.test"),
    ] {
        let message = message(from);
        let signatures = dkim.sign(&message).expect("signed");
        assert_eq!(fields(&signatures).len(), 2);
        let signed = [signatures.clone(), message].concat();
        assert_eq!(
            dkimpy(&dns, data.path(), &signed),
            [
                format!("rsa-sha256 {domain} pass"),
                format!("ed25519-sha256 {domain} pass")
            ]
        );
        let verdicts = verify(&resolver, None, &signed);
        assert_eq!(
            verdicts,
            [
                ("RsaSha256".to_owned(), DkimResult::Pass),
                ("Ed25519Sha256".to_owned(), DkimResult::Pass)
            ]
        );

        // One word of the body changed: both verifiers fail both signatures.
        let text = String::from_utf8(signed).unwrap();
        let tampered = text.replace("the figures", "the numbers");
        assert_eq!(
            dkimpy(&dns, data.path(), tampered.as_bytes()),
            [
                format!("rsa-sha256 {domain} fail"),
                format!("ed25519-sha256 {domain} fail")
            ]
        );
        let verdicts = verify(&resolver, None, tampered.as_bytes());
        assert!(
            verdicts.iter().all(|(_, r)| *r != DkimResult::Pass),
            "{verdicts:?}"
        );
        // The d= of each signature is the From: domain.
        for field in fields(&signatures) {
            assert_eq!(tag(&field, "d").as_deref(), Some(domain));
        }
    }
    // A foreign From: is not signed at all.
    assert_eq!(dkim.sign(&message("mallory@elsewhere.test")), None);
}

#[test]
fn a_damaged_key_file_stops_the_start_naming_it() {
    let data = TempDir::new("dkim-damaged-start");
    let args: Vec<String> = ["--dkim-algorithm", "ed25519", "--dkim-selector", "k1"]
        .into_iter()
        .map(str::to_owned)
        .chain(domain_args())
        .collect();
    let server = MailServer::start(data.path(), &args);
    let records = banner_records(&server, 2);
    assert_eq!(records[0].0, "k1-ed25519._domainkey.example.org");
    stop(server);

    let file = data.path().join("dkim/example.org/k1-ed25519.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    fs::write(
        &file,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let bin = support::example_bin("mail-server");
    let mut full: Vec<String> = vec!["--data".into(), data.path().display().to_string()];
    full.extend(["--smtp", "0", "--submission", "0", "--submissions", "0"].map(String::from));
    full.extend(["--pop3", "0", "--pop3s", "0", "--imap", "0", "--imaps", "0"].map(String::from));
    full.extend(args);
    let full: Vec<&str> = full.iter().map(String::as_str).collect();
    let output = run_bounded(bin.to_str().unwrap(), &full);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&file.display().to_string()), "{stderr}");
    assert!(stderr.contains("never replaced"), "{stderr}");
    // Left as it was.
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    );
}

#[test]
fn no_dkim_creates_no_keys_and_says_so() {
    let data = TempDir::new("dkim-off");
    let mut args = domain_args();
    args.push("--no-dkim".into());
    let server = MailServer::start(data.path(), &args);
    let deadline = Instant::now() + LIMIT;
    while !server.stdout().contains("DKIM: off") {
        assert!(Instant::now() < deadline, "{}", server.logs());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!server.stdout().contains("_domainkey"), "{}", server.logs());
    stop(server);
    assert!(!data.path().join("dkim").exists());
}

/// The remote MX of the end-to-end test: Python's aiosmtpd (`support/queue_mx.py`), writing
/// each message it takes to `<dir>/<n>.body`. Stopped on drop.
struct Mx {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    port: u16,
}

impl Mx {
    fn start(dir: &Path) -> Mx {
        use std::io::BufRead as _;
        use std::process::{Command, Stdio};
        fs::create_dir_all(dir).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/queue_mx.py");
        let mut child = Command::new("python3")
            .arg("-u")
            .arg(script)
            .arg("--outdir")
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start aiosmtpd");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(LIMIT).unwrap_or_default();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("aiosmtpd did not start: {line:?}"));
        Mx { child, stdin, port }
    }
}

impl Drop for Mx {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The account the end-to-end test submits as: not in `localhost`, a name resolvers answer
/// themselves (RFC 6761; hickory-resolver does) instead of asking the DNS server.
const CAROL: &str = "carol@example.test";
const CAROL_PASSWORD: &str = "carol-secret";

/// Submits `message` (CRLF lines, no final dot) as carol to `user@[127.0.0.1]`.
fn submit(server: &MailServer, message: &str) {
    use base64::Engine as _;
    let mut conn = support::Smtp::connect(server.submission);
    conn.expect(220);
    conn.cmd_expect("EHLO client.test", 250);
    let token =
        base64::engine::general_purpose::STANDARD.encode(format!("\0{CAROL}\0{CAROL_PASSWORD}"));
    conn.cmd_expect(&format!("AUTH PLAIN {token}"), 235);
    conn.cmd_expect(&format!("MAIL FROM:<{CAROL}>"), 250);
    conn.cmd_expect("RCPT TO:<user@[127.0.0.1]>", 250);
    conn.cmd_expect("DATA", 354);
    conn.send(format!("{message}.\r\n"));
    conn.expect(250);
    conn.cmd_expect("QUIT", 221);
}

#[test]
fn submitted_mail_leaves_signed_and_verifies_at_the_receiving_end() {
    if !have_dkimpy() || !support::have_python() {
        return;
    }
    let aiosmtpd = tool_available(
        "python3",
        &["-c", "import aiosmtpd.smtp"],
        "python3 with aiosmtpd",
    );
    if !aiosmtpd {
        return;
    }
    let data = TempDir::new("dkim-queue");
    let mx = Mx::start(&data.path().join("mx"));
    let mut args: Vec<String> = ["--domain", "example.test", "--user"]
        .map(String::from)
        .to_vec();
    args.push(format!("{CAROL}:{CAROL_PASSWORD}"));
    args.push("--allow-plaintext-auth".into());
    args.extend(["--mx-port".to_owned(), mx.port.to_string()]);
    let server = MailServer::start(data.path(), &args);
    let records = banner_records(&server, 2);
    let Some(dns) = Dnsmasq::start(&records) else {
        return;
    };

    // Ours: signed in the queue, delivered to the remote MX with both signatures first.
    submit(
        &server,
        "From: Carol <carol@example.test>\r\nTo: <user@[127.0.0.1]>\r\nSubject: signed\r\n\
         Message-ID: <q1@example.test>\r\n\r\nHello over there.\r\n..a dotted line\r\n",
    );
    let body_file = data.path().join("mx/1.body");
    let received = support::poll("the message at the MX", || fs::read(&body_file).ok());
    let text = String::from_utf8_lossy(&received).into_owned();
    assert!(
        text.starts_with("DKIM-Signature: v=1; a=rsa-sha256; s=sansmail-rsa; d=example.test;"),
        "{text}"
    );
    assert!(
        text.contains(
            "\r\nDKIM-Signature: v=1; a=ed25519-sha256; s=sansmail-ed25519; d=example.test;"
        ),
        "{text}"
    );
    assert!(text.contains("\r\n.a dotted line\r\n"), "{text}");
    assert_eq!(
        dkimpy(&dns, data.path(), &received),
        [
            "rsa-sha256 example.test pass",
            "ed25519-sha256 example.test pass"
        ]
    );
    let verdicts = verify(&authenticator(Some(dns.addr)), None, &received);
    assert_eq!(
        verdicts,
        [
            ("RsaSha256".to_owned(), DkimResult::Pass),
            ("Ed25519Sha256".to_owned(), DkimResult::Pass)
        ]
    );

    // A From: in another domain: delivered, but not signed.
    submit(
        &server,
        "From: <carol@elsewhere.test>\r\nTo: <user@[127.0.0.1]>\r\nSubject: not ours\r\n\r\n\
         Hi.\r\n",
    );
    let second = data.path().join("mx/2.body");
    let received = support::poll("the second message at the MX", || fs::read(&second).ok());
    let text = String::from_utf8_lossy(&received);
    assert!(!text.contains("DKIM-Signature"), "{text}");
    assert!(text.contains("Subject: not ours"), "{text}");
    drop(server);
}
