//! Development certificates (feature `dev-certs`): generated, written, loaded, and usable.
#![cfg(feature = "dev-certs")]

mod common;

use common::{TempDir, pump};
use mail_tls::rustls::{ClientConnection, ServerConnection};
use mail_tls::{CertSet, CertificateInfo, ClientTls, ServerTls, Service, dev_certs, server_name};

#[test]
fn generate_write_load_and_handshake() {
    let dir = TempDir::new("devcert");
    let files = dev_certs::ensure(
        &dir.path("tls"),
        &["mail.localhost", "localhost", "127.0.0.1"],
    )
    .unwrap();
    let key = files.load().unwrap();
    let info = CertificateInfo::parse(&key.cert[0]).unwrap();
    assert_eq!(info.subject, "CN=mail.localhost, O=sansmail development");
    assert_eq!(info.dns_names, ["mail.localhost", "localhost"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files.key).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "key file must not be readable by others: {mode:o}"
        );
    }
    // A second start keeps the existing files.
    let before = std::fs::read(&files.cert).unwrap();
    let again = dev_certs::ensure(&dir.path("tls"), &["other.localhost"]).unwrap();
    assert_eq!(again, files);
    assert_eq!(std::fs::read(&files.cert).unwrap(), before);

    // A client that pins the generated certificate completes a handshake.
    let mut set = CertSet::new();
    set.set_default(std::sync::Arc::new(key.clone()));
    let server = ServerTls::new(Service::Submission)
        .build_with_set(set)
        .unwrap();
    let client = ClientTls::pinned(vec![key.cert[0].clone()])
        .build()
        .unwrap();
    let mut c = ClientConnection::new(client, server_name("localhost").unwrap()).unwrap();
    let mut s = ServerConnection::new(server).unwrap();
    pump(&mut c, &mut s).unwrap();
    assert!(!c.is_handshaking());
}

/// A key file left readable by others (and a missing certificate, so a new key is written
/// into it) comes out readable by its owner only.
#[cfg(unix)]
#[test]
fn a_regenerated_key_replaces_a_loose_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("devcert-mode");
    let tls = dir.path("tls");
    std::fs::create_dir_all(&tls).unwrap();
    let key = tls.join("key.pem");
    std::fs::write(&key, "old").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let files = dev_certs::ensure(&tls, &["localhost"]).unwrap();
    assert!(
        std::fs::read_to_string(&files.key)
            .unwrap()
            .contains("BEGIN PRIVATE KEY")
    );
    let mode = std::fs::metadata(&files.key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
}

#[test]
fn no_names_is_an_error_and_debug_redacts_the_key() {
    assert!(dev_certs::generate(&[]).is_err());
    let dev = dev_certs::generate(&["localhost"]).unwrap();
    assert!(dev.key_pem.contains("BEGIN PRIVATE KEY"));
    assert!(!format!("{dev:?}").contains("BEGIN PRIVATE KEY"));
}
