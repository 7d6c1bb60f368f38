//! Certificate and key loading: every bad case has its own clear error, and PKCS#8, PKCS#1 and
//! SEC1 keys load.

mod common;

use std::process::Command;

use common::{Ca, TempDir, openssl, path_str};
use mail_tls::pki_types::UnixTime;
use mail_tls::{CertificateInfo, FileRole, PemFiles, ServerTls, Service, TlsError, Validity};

#[test]
fn pkcs8_pair_loads_and_info_is_read() {
    let ca = Ca::new();
    let leaf = ca.issue_with(
        &["mail.example.org", "imap.example.org"],
        "Example Mail",
        |p| {
            p.not_before = rcgen::date_time_ymd(2020, 1, 2);
            p.not_after = rcgen::date_time_ymd(2040, 12, 31);
        },
    );
    let dir = TempDir::new("pkcs8");
    let files = leaf.write(&dir, "a");
    let key = files.load().unwrap();
    assert_eq!(key.cert.len(), 1);
    let info = CertificateInfo::parse(&leaf.der).unwrap();
    assert_eq!(info.subject, "CN=mail.example.org, O=Example Mail");
    assert_eq!(info.issuer, "CN=mail-tls test CA");
    assert_eq!(info.dns_names, ["mail.example.org", "imap.example.org"]);
    assert_eq!(info.not_before_utc(), "2020-01-02 00:00:00 UTC");
    assert_eq!(info.not_after_utc(), "2040-12-31 00:00:00 UTC");
    assert_eq!(
        info.validity_at(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            0
        ))),
        Validity::NotYetValid
    );
    // And the server config builds from the files.
    ServerTls::new(Service::Imap)
        .build_from_pem_files(&files.cert, &files.key)
        .unwrap();
}

#[test]
fn missing_files_name_the_file_and_role() {
    let dir = TempDir::new("missing");
    let err = PemFiles::new(dir.path("nope.crt"), dir.path("nope.key"))
        .load()
        .unwrap_err();
    assert_eq!(
        err,
        TlsError::FileNotFound {
            role: FileRole::CertificateChain,
            path: dir.path("nope.crt")
        }
    );
    assert!(err.to_string().contains("certificate chain file"));
    assert!(err.to_string().contains("nope.crt"));

    let leaf = Ca::new().issue(&["localhost"], "x");
    let cert = dir.write("ok.crt", leaf.cert_pem.as_bytes());
    let err = PemFiles::new(cert, dir.path("nope.key"))
        .load()
        .unwrap_err();
    assert!(
        matches!(
            err,
            TlsError::FileNotFound {
                role: FileRole::PrivateKey,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn key_that_does_not_match_the_certificate() {
    let ca = Ca::new();
    let a = ca.issue(&["a.example"], "A");
    let b = ca.issue(&["b.example"], "B");
    let dir = TempDir::new("mismatch");
    let cert = dir.write("a.crt", a.cert_pem.as_bytes());
    let key = dir.write("b.key", b.key_pem.as_bytes());
    let err = PemFiles::new(&cert, &key).load().unwrap_err();
    assert_eq!(
        err,
        TlsError::KeyMismatch {
            cert_path: cert,
            key_path: key,
            subject: "CN=a.example, O=A".into()
        }
    );
    assert!(err.to_string().contains("does not match the certificate"));
}

#[test]
fn expired_and_not_yet_valid_certificates() {
    let ca = Ca::new();
    let dir = TempDir::new("expired");
    let old = ca.issue_with(&["old.example"], "Old", |p| {
        p.not_before = rcgen::date_time_ymd(2001, 1, 1);
        p.not_after = rcgen::date_time_ymd(2002, 1, 1);
    });
    let err = old.write(&dir, "old").load().unwrap_err();
    assert!(
        matches!(err, TlsError::CertificateExpired { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("expired on 2002-01-01 00:00:00 UTC"),
        "{text}"
    );
    assert!(text.contains("CN=old.example"), "{text}");

    let future = ca.issue_with(&["new.example"], "New", |p| {
        p.not_before = rcgen::date_time_ymd(2090, 1, 1);
        p.not_after = rcgen::date_time_ymd(2091, 1, 1);
    });
    let err = future.write(&dir, "new").load().unwrap_err();
    assert!(
        matches!(err, TlsError::CertificateNotYetValid { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("check the clock"));
}

#[test]
fn wrong_contents() {
    let leaf = Ca::new().issue(&["localhost"], "x");
    let dir = TempDir::new("wrong");
    // A key file given as the certificate chain.
    let key_as_cert = dir.write("k.crt", leaf.key_pem.as_bytes());
    let key = dir.write("k.key", leaf.key_pem.as_bytes());
    let err = PemFiles::new(&key_as_cert, &key).load().unwrap_err();
    assert!(
        matches!(
            err,
            TlsError::NothingFound {
                role: FileRole::CertificateChain,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("BEGIN CERTIFICATE"));
    // A certificate given as the key.
    let cert = dir.write("c.crt", leaf.cert_pem.as_bytes());
    let err = PemFiles::new(&cert, &cert).load().unwrap_err();
    assert!(
        matches!(
            err,
            TlsError::NothingFound {
                role: FileRole::PrivateKey,
                ..
            }
        ),
        "{err:?}"
    );
    // Broken PEM.
    let broken = dir.write("broken.crt", b"-----BEGIN CERTIFICATE-----\nnot base64!!\n");
    let err = PemFiles::new(&broken, &key).load().unwrap_err();
    assert!(
        matches!(err, TlsError::Pem { .. } | TlsError::NothingFound { .. }),
        "{err:?}"
    );
    // A corrupt key body inside a valid PEM label.
    let corrupt = dir.write(
        "corrupt.key",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    );
    let err = PemFiles::new(&cert, &corrupt).load().unwrap_err();
    assert!(matches!(err, TlsError::UnusableKey { .. }), "{err:?}");
    // Garbage DER inside a certificate label.
    let bad_der = dir.write(
        "bad.crt",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    let err = PemFiles::new(&bad_der, &key).load().unwrap_err();
    assert!(matches!(err, TlsError::MalformedCertificate(_)), "{err:?}");
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn pkcs1_rsa_and_sec1_ec_keys_load() {
    let Some(openssl) = openssl() else { return };
    let dir = TempDir::new("keyformats");
    // PKCS#1 RSA key and a self-signed certificate for it.
    let rsa = dir.path("rsa.key");
    run(Command::new(&openssl).args(["genrsa", "-traditional", "-out", &path_str(&rsa), "2048"]));
    assert!(
        std::fs::read_to_string(&rsa)
            .unwrap()
            .contains("BEGIN RSA PRIVATE KEY")
    );
    let rsa_crt = dir.path("rsa.crt");
    run(Command::new(&openssl).args([
        "req",
        "-x509",
        "-new",
        "-key",
        &path_str(&rsa),
        "-subj",
        "/CN=localhost",
        "-days",
        "2",
        "-out",
        &path_str(&rsa_crt),
    ]));
    PemFiles::new(&rsa_crt, &rsa).load().unwrap();

    // SEC1 EC key.
    let ec = dir.path("ec.key");
    run(Command::new(&openssl).args([
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        &path_str(&ec),
    ]));
    assert!(
        std::fs::read_to_string(&ec)
            .unwrap()
            .contains("BEGIN EC PRIVATE KEY")
    );
    let ec_crt = dir.path("ec.crt");
    run(Command::new(&openssl).args([
        "req",
        "-x509",
        "-new",
        "-key",
        &path_str(&ec),
        "-subj",
        "/CN=localhost",
        "-days",
        "2",
        "-out",
        &path_str(&ec_crt),
    ]));
    PemFiles::new(&ec_crt, &ec).load().unwrap();

    // An RSA certificate with the EC key: mismatch across algorithms.
    let err = PemFiles::new(&rsa_crt, &ec).load().unwrap_err();
    assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err:?}");
}
