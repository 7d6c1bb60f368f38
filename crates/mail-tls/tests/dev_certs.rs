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

#[test]
fn no_names_is_an_error_and_debug_redacts_the_key() {
    assert!(dev_certs::generate(&[]).is_err());
    let dev = dev_certs::generate(&["localhost"]).unwrap();
    assert!(dev.key_pem.contains("BEGIN PRIVATE KEY"));
    assert!(!format!("{dev:?}").contains("BEGIN PRIVATE KEY"));
}
