//! DKIM signing by the mail server's `dkim` module (issue 16): the keys it stores under
//! `--data`, the signatures it makes, checked by mail-auth's own verifier with the TXT records
//! the server prints, and the messages it refuses to sign. dkim_interop.rs checks the same
//! signatures with an independent verifier (Python's dkimpy) through a real DNS server.
#![allow(dead_code, unreachable_pub)]

#[path = "../mail-server/dkim.rs"]
mod dkim;

mod dkim_common;

use std::fs;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use mail_auth::dkim::DkimError;
use mail_auth::{DkimResult, Error};

use dkim::{Algorithm, Dkim, DkimConfig, MAX_HEADER_BLOCK};
use dkim_common::{TempDir, TxtCache, authenticator, fields, message, tag, verify};

/// A data directory with keys for two local domains, generated once for all the tests here
/// (RSA key generation is the slow part).
fn keys() -> &'static (TempDir, Dkim) {
    static KEYS: OnceLock<(TempDir, Dkim)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = TempDir::new("dkim-sign");
        let domains = ["example.org".to_owned(), "b\u{fc}cher.example".to_owned()];
        let dkim = Dkim::load_or_create(&dir.0, &domains).expect("keys");
        (dir, dkim)
    })
}

/// mail-auth's verdict on each signature of `signed`, with the records the banner prints.
fn check(dkim: &Dkim, signed: &[u8]) -> Vec<(String, DkimResult)> {
    let cache = TxtCache::with(&dkim.dns_records());
    verify(&authenticator(None), Some(&cache), signed)
}

fn signed(dkim: &Dkim, message: &[u8]) -> Vec<u8> {
    let signatures = dkim.sign(message).expect("signed");
    [signatures, message.to_vec()].concat()
}

fn passes(verdicts: &[(String, DkimResult)]) -> Vec<&str> {
    verdicts
        .iter()
        .filter(|(_, result)| *result == DkimResult::Pass)
        .map(|(algorithm, _)| algorithm.as_str())
        .collect()
}

#[test]
fn a_local_message_gets_an_rsa_and_an_ed25519_signature_that_verify() {
    let (_, dkim) = keys();
    let message = message("alice@example.org");
    let signatures = dkim.sign(&message).expect("signed");
    let fields = fields(&signatures);
    assert_eq!(fields.len(), 2, "{fields:?}");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for (field, (a, s)) in fields.iter().zip([
        ("rsa-sha256", "sansmail-rsa"),
        ("ed25519-sha256", "sansmail-ed25519"),
    ]) {
        assert!(field.starts_with("DKIM-Signature: "), "{field}");
        assert_eq!(tag(field, "a").as_deref(), Some(a), "{field}");
        assert_eq!(tag(field, "s").as_deref(), Some(s), "{field}");
        assert_eq!(tag(field, "d").as_deref(), Some("example.org"), "{field}");
        assert_eq!(
            tag(field, "c").as_deref(),
            Some("relaxed/relaxed"),
            "{field}"
        );
        // The signed fields the message has; X-Mailer is not one of them.
        let mut h: Vec<String> = tag(field, "h")
            .unwrap()
            .split(':')
            .map(str::to_ascii_lowercase)
            .collect();
        h.sort();
        assert_eq!(
            h,
            [
                "content-type",
                "date",
                "from",
                "message-id",
                "mime-version",
                "subject",
                "to"
            ],
            "{field}"
        );
        let t: u64 = tag(field, "t").unwrap().parse().unwrap();
        assert!(t.abs_diff(now) < 300, "t={t}, now={now}");
    }
    let verdicts = check(dkim, &[signatures, message].concat());
    assert_eq!(
        passes(&verdicts),
        ["RsaSha256", "Ed25519Sha256"],
        "{verdicts:?}"
    );
}

#[test]
fn a_changed_body_or_signed_field_fails_and_relaxed_changes_pass() {
    let (_, dkim) = keys();
    let signed = signed(dkim, &message("alice@example.org"));
    let text = String::from_utf8(signed).unwrap();

    let body = text.replace("the figures", "the numbers");
    // mail-auth reports a body hash mismatch as `neutral` with this error, a bad signature
    // as `fail`.
    let verdicts = check(dkim, body.as_bytes());
    let body_hash = DkimResult::Neutral(Error::Dkim(DkimError::FailedBodyHashMatch));
    assert_eq!(
        verdicts,
        [
            ("RsaSha256".to_owned(), body_hash.clone()),
            ("Ed25519Sha256".to_owned(), body_hash)
        ]
    );
    let subject = text.replace("Quarterly figures", "Quarterly figures!");
    let verdicts = check(dkim, subject.as_bytes());
    // (mail-auth's ring backend words the Ed25519 failure as ring's error.)
    assert_eq!(verdicts.len(), 2, "{verdicts:?}");
    assert!(
        verdicts
            .iter()
            .all(|(_, r)| matches!(r, DkimResult::Fail(Error::Crypto(_)))),
        "{verdicts:?}"
    );

    // What relaxed canonicalisation forgives: the case of a field name, whitespace runs,
    // trailing whitespace and empty lines at the end of the body, an unsigned field added.
    let relaxed = text
        .replace("Subject: Quarterly", "SUBJECT:   Quarterly")
        .replace("the figures\tare", "the figures   are")
        .replace("Dear Bob,  \r\n", "Dear Bob,\r\n")
        .replace(
            "X-Mailer: not signed\r\n",
            "X-Mailer: not signed\r\nX-Added: 1\r\n",
        );
    let verdicts = check(dkim, relaxed.as_bytes());
    assert_eq!(
        passes(&verdicts),
        ["RsaSha256", "Ed25519Sha256"],
        "{verdicts:?}"
    );
}

#[test]
fn only_a_single_from_in_one_local_domain_is_signed() {
    let (_, dkim) = keys();
    // A foreign domain, or a local domain's subdomain: we never sign for those.
    for from in [
        "alice@elsewhere.test",
        "alice@mail.example.org",
        "alice@example.org.evil",
    ] {
        assert_eq!(dkim.sign(&message(from)), None, "{from}");
    }
    // Two From fields; two addresses in different domains; none at all.
    let message_from = |from: &str| {
        format!("From: {from}\r\nTo: bob@elsewhere.test\r\nSubject: x\r\n\r\nbody\r\n")
    };
    let twice = format!(
        "From: alice@example.org\r\n{}",
        message_from("mallory@elsewhere.test")
    );
    assert_eq!(dkim.sign(twice.as_bytes()), None);
    let mixed = message_from("alice@example.org, mallory@elsewhere.test");
    assert_eq!(dkim.sign(mixed.as_bytes()), None);
    let quoted = message_from("\"alice@example.org\" <mallory@elsewhere.test>");
    assert_eq!(dkim.sign(quoted.as_bytes()), None);
    assert_eq!(dkim.sign(b"To: bob@elsewhere.test\r\n\r\nbody\r\n"), None);
    assert_eq!(dkim.sign(b""), None);

    // Two addresses of one local domain, any case, a quoted name holding another address.
    for from in [
        "alice@example.org, bob@EXAMPLE.org",
        "\"mallory@elsewhere.test\" <alice@Example.Org>",
        "alice@example.org (Alice)",
    ] {
        let message = message_from(from);
        let signatures = dkim.sign(message.as_bytes()).expect(from);
        let field = &fields(&signatures)[0];
        assert_eq!(tag(field, "d").as_deref(), Some("example.org"), "{from}");
        let verdicts = check(dkim, &[signatures, message.into_bytes()].concat());
        assert_eq!(passes(&verdicts).len(), 2, "{from}: {verdicts:?}");
    }

    // A U-label domain signs as its A-label, whichever form the From: uses.
    for from in ["anna@b\u{fc}cher.example", "anna@xn--bcher-kva.example"] {
        let message = message_from(from);
        let signatures = dkim.sign(message.as_bytes()).expect(from);
        let field = &fields(&signatures)[0];
        assert_eq!(tag(field, "d").as_deref(), Some("xn--bcher-kva.example"));
        let verdicts = check(dkim, &[signatures, message.into_bytes()].concat());
        assert_eq!(passes(&verdicts).len(), 2, "{from}: {verdicts:?}");
    }
}

#[test]
fn a_header_block_over_the_limit_is_not_signed() {
    let (_, dkim) = keys();
    let with_padding = |octets: usize| {
        let mut message = b"From: alice@example.org\r\n".to_vec();
        // Fold one unsigned field over as many lines as it takes.
        message.extend_from_slice(b"X-Padding: x");
        while message.len() < octets - 2 {
            let line = b"\r\n x".as_slice();
            let room = octets - 2 - message.len();
            message.extend_from_slice(line.get(..room.min(line.len())).unwrap());
        }
        message.extend_from_slice(b"\r\n\r\nbody\r\n");
        message
    };
    // The header block, empty line included, at the limit, then one octet over it.
    let at_limit = with_padding(MAX_HEADER_BLOCK - 2);
    let header = at_limit.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(header, MAX_HEADER_BLOCK);
    let signatures = dkim.sign(&at_limit).expect("signed at the limit");
    let verdicts = check(dkim, &[signatures, at_limit.clone()].concat());
    assert_eq!(passes(&verdicts).len(), 2, "{verdicts:?}");
    let over = with_padding(MAX_HEADER_BLOCK - 1);
    assert_eq!(
        over.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4,
        MAX_HEADER_BLOCK + 1
    );
    assert_eq!(dkim.sign(&over), None);
    // The same limit for a caller that hands the header block over itself.
    let header = over.get(..MAX_HEADER_BLOCK + 1).unwrap();
    assert!(dkim.prepare(header).is_none());
    let header = at_limit.get(..MAX_HEADER_BLOCK).unwrap();
    assert!(dkim.prepare(header).is_some());
}

#[test]
fn a_spooled_file_and_a_body_in_pieces_sign_like_the_whole_message() {
    let (dir, dkim) = keys();
    // A large body: the file is read in chunks, never whole.
    let mut message = message("alice@example.org");
    for n in 0..20_000 {
        message.extend_from_slice(format!("line {n} of a long report\r\n").as_bytes());
    }
    let file = dir.0.join("spooled.eml");
    fs::write(&file, &message).unwrap();
    let from_file = dkim.sign_file(&file).unwrap().expect("signed");
    let verdicts = check(dkim, &[from_file.clone(), message.clone()].concat());
    assert_eq!(passes(&verdicts).len(), 2, "{verdicts:?}");
    assert!(dkim.sign_file(&dir.0.join("missing.eml")).is_err());

    // Signed in place, as the queue does with a spooled file: the fields first, then the
    // message as it was; a message that is not ours stays as it is.
    let added = dkim.sign_file_in_place(&file).unwrap();
    let rewritten = fs::read(&file).unwrap();
    let (fields_part, rest) = rewritten.split_at(usize::try_from(added).unwrap());
    assert_eq!(rest, message);
    assert_eq!(fields(fields_part).len(), 2);
    let verdicts = check(dkim, &rewritten);
    assert_eq!(passes(&verdicts).len(), 2, "{verdicts:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let foreign = dir.0.join("foreign.eml");
    let foreign_message = dkim_common::message("mallory@elsewhere.test");
    fs::write(&foreign, &foreign_message).unwrap();
    assert_eq!(dkim.sign_file_in_place(&foreign).unwrap(), 0);
    assert_eq!(fs::read(&foreign).unwrap(), foreign_message);
    let spooled: Vec<String> = fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".dkim-"))
        .collect();
    assert!(spooled.is_empty(), "temporary files left: {spooled:?}");

    // The body handed over a few octets at a time, as it arrives.
    let end = message.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let (header, body) = message.split_at(end);
    let prepared = dkim.prepare(header).expect("a local From:");
    let mut signer = prepared.start();
    for piece in body.chunks(7) {
        signer.write(piece);
    }
    let pieces = signer.finish().expect("signed");
    // The same body hashes as the whole message's.
    let bh = |signatures: &[u8]| -> Vec<Option<String>> {
        fields(signatures).iter().map(|f| tag(f, "bh")).collect()
    };
    assert_eq!(bh(&pieces), bh(&from_file));
    let verdicts = check(dkim, &[pieces, message].concat());
    assert_eq!(passes(&verdicts).len(), 2, "{verdicts:?}");

    // A message without a body (no empty line) is signed too.
    let headers_only = b"From: alice@example.org\r\nSubject: no body\r\n";
    let signatures = dkim.sign(headers_only).expect("signed");
    let verdicts = check(dkim, &[signatures, headers_only.to_vec()].concat());
    assert_eq!(passes(&verdicts).len(), 2, "{verdicts:?}");
}

#[test]
fn dns_records_are_ready_to_publish() {
    let (_, dkim) = keys();
    let records = dkim.dns_records();
    let names: Vec<&str> = records.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "sansmail-rsa._domainkey.example.org",
            "sansmail-ed25519._domainkey.example.org",
            "sansmail-rsa._domainkey.xn--bcher-kva.example",
            "sansmail-ed25519._domainkey.xn--bcher-kva.example",
        ]
    );
    let (_, rsa) = &records[0];
    assert!(rsa.starts_with("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"));
    let (_, ed25519) = &records[1];
    let p = ed25519.strip_prefix("v=DKIM1; k=ed25519; p=").unwrap();
    assert_eq!(p.len(), 44, "32 octets in base64: {p}");

    // The RSA record is longer than one TXT string: the zone line splits it at 255 octets.
    assert!(rsa.len() > 255);
    let strings = dkim::txt_strings(rsa);
    assert_eq!(strings.len(), 2);
    assert_eq!(strings[0].len(), 255);
    assert_eq!(strings.concat(), *rsa);
    let line = dkim::zone_line(&records[0].0, rsa);
    assert_eq!(
        line,
        format!(
            "sansmail-rsa._domainkey.example.org. IN TXT \"{}\" \"{}\"",
            strings[0], strings[1]
        )
    );
    assert_eq!(dkim::txt_strings(""), [""]);
    assert_eq!(
        dkim::txt_strings(&"a".repeat(510)),
        ["a".repeat(255), "a".repeat(255)]
    );
}

/// The key files of `dkim`: (file name relative to `data`, contents).
fn key_files(data: &Path, dkim: &Dkim) -> Vec<(String, Vec<u8>)> {
    dkim.key_files()
        .into_iter()
        .map(|(_, _, file)| {
            let name = file.strip_prefix(data).unwrap().display().to_string();
            (name, fs::read(file).unwrap())
        })
        .collect()
}

#[test]
fn keys_are_private_files_reused_on_restart() {
    let (dir, dkim) = keys();
    let files = key_files(&dir.0, dkim);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "dkim/example.org/sansmail-rsa.pem",
            "dkim/example.org/sansmail-ed25519.pem",
            "dkim/xn--bcher-kva.example/sansmail-rsa.pem",
            "dkim/xn--bcher-kva.example/sansmail-ed25519.pem",
        ]
    );
    for (name, pem) in &files {
        let text = String::from_utf8(pem.clone()).unwrap();
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{name}");
        assert!(text.ends_with("-----END PRIVATE KEY-----\n"), "{name}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.0.join(name)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
    }
    // No temporary file left behind.
    let leftovers: Vec<_> = fs::read_dir(dir.0.join("dkim/example.org"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".pem"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A restart: the same keys, the same records, nothing rewritten.
    let domains = ["example.org".to_owned(), "b\u{fc}cher.example".to_owned()];
    let again = Dkim::load_or_create(&dir.0, &domains).unwrap();
    assert_eq!(again.dns_records(), dkim.dns_records());
    assert_eq!(key_files(&dir.0, &again), files);
    // A message signed before the restart verifies with the records printed after it.
    let signed = signed(dkim, &message("alice@example.org"));
    let verdicts = check(&again, &signed);
    assert_eq!(passes(&verdicts).len(), 2, "{verdicts:?}");
}

#[test]
fn a_damaged_key_file_stops_the_start_and_is_left_alone() {
    let dir = TempDir::new("dkim-damaged");
    let config = DkimConfig {
        selector: "s1".to_owned(),
        algorithms: vec![Algorithm::Ed25519],
    };
    let domains = ["example.org".to_owned()];
    let dkim = Dkim::open(&dir.0, &domains, &config).unwrap();
    let file = dir.0.join("dkim/example.org/s1-ed25519.pem");
    assert_eq!(dkim.dns_records().len(), 1);
    assert_eq!(dkim.dns_records()[0].0, "s1-ed25519._domainkey.example.org");

    let good = fs::read(&file).unwrap();
    // Truncated; not PEM; the RSA key of the shared fixture where an Ed25519 key belongs.
    let (_, rsa_dkim) = keys();
    let rsa_pem = fs::read(rsa_dkim.key_files()[0].2).unwrap();
    for damaged in [
        good.get(..good.len() / 2).unwrap().to_vec(),
        b"not a key\n".to_vec(),
        rsa_pem,
        Vec::new(),
    ] {
        fs::write(&file, &damaged).unwrap();
        let error = Dkim::open(&dir.0, &domains, &config).unwrap_err();
        assert!(error.contains(&file.display().to_string()), "{error}");
        assert!(error.contains("never replaced"), "{error}");
        assert_eq!(fs::read(&file).unwrap(), damaged, "the file was changed");
    }
    fs::write(&file, &good).unwrap();
    let again = Dkim::open(&dir.0, &domains, &config).unwrap();
    assert_eq!(again.dns_records(), dkim.dns_records());
}

#[test]
fn one_algorithm_gives_one_signature() {
    let dir = TempDir::new("dkim-one");
    let config = DkimConfig {
        selector: "sansmail".to_owned(),
        algorithms: vec![Algorithm::Ed25519],
    };
    let dkim = Dkim::open(&dir.0, &["example.org".to_owned()], &config).unwrap();
    let message = message("alice@example.org");
    let signatures = dkim.sign(&message).unwrap();
    let fields = fields(&signatures);
    assert_eq!(fields.len(), 1);
    assert_eq!(tag(&fields[0], "a").as_deref(), Some("ed25519-sha256"));
    let verdicts = check(&dkim, &[signatures, message].concat());
    assert_eq!(passes(&verdicts), ["Ed25519Sha256"], "{verdicts:?}");
    // No RSA key was created.
    assert!(!dir.0.join("dkim/example.org/sansmail-rsa.pem").exists());
}

/// Runs openssl with `args` in `dir`, returning its standard output; `None` (outside CI) when
/// openssl is not installed.
fn openssl(dir: &Path, args: &[&str]) -> Option<Vec<u8>> {
    let output = match std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
    {
        Ok(output) => output,
        Err(e) => {
            assert!(!dkim_common::ci(), "openssl is required when CI=true: {e}");
            eprintln!("SKIPPED: openssl not found (this test never skips with CI=true)");
            return None;
        }
    };
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(output.stdout)
}

#[test]
fn keys_made_by_openssl_are_used_as_they_are() {
    use base64::Engine as _;
    let dir = TempDir::new("dkim-openssl");
    let keys = dir.0.join("dkim/example.org");
    fs::create_dir_all(&keys).unwrap();
    // What the rotation advice in docs/mail-server.md does: PKCS#8 for both algorithms (v1,
    // without the public key, for Ed25519), or OpenSSL's traditional PKCS#1 for RSA.
    let Some(_) = openssl(
        &keys,
        &["genpkey", "-algorithm", "ed25519", "-out", "s2-ed25519.pem"],
    ) else {
        return;
    };
    openssl(
        &keys,
        &["genrsa", "-traditional", "-out", "s2-rsa.pem", "2048"],
    )
    .unwrap();
    let dkim = Dkim::open(
        &dir.0,
        &["example.org".to_owned()],
        &DkimConfig {
            selector: "s2".to_owned(),
            algorithms: Algorithm::ALL.to_vec(),
        },
    )
    .unwrap();
    // The p= values are the public keys as openssl derives them.
    let public =
        |file: &str| openssl(&keys, &["pkey", "-in", file, "-pubout", "-outform", "DER"]).unwrap();
    let rsa = base64::engine::general_purpose::STANDARD.encode(public("s2-rsa.pem"));
    let ed = public("s2-ed25519.pem");
    let ed = base64::engine::general_purpose::STANDARD.encode(ed.get(ed.len() - 32..).unwrap());
    assert_eq!(
        dkim.dns_records(),
        [
            (
                "s2-rsa._domainkey.example.org".to_owned(),
                format!("v=DKIM1; k=rsa; p={rsa}")
            ),
            (
                "s2-ed25519._domainkey.example.org".to_owned(),
                format!("v=DKIM1; k=ed25519; p={ed}")
            ),
        ]
    );
    let signed = signed(&dkim, &message("alice@example.org"));
    let verdicts = check(&dkim, &signed);
    assert_eq!(passes(&verdicts).len(), 2, "{verdicts:?}");
}
