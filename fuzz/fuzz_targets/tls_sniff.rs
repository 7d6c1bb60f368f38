//! mail-tls parsers of untrusted input: the first-bytes classifier and mode-mismatch diagnosis
//! (what a peer sends first), the STARTTLS boundary check, and the DER certificate reader (what
//! a server presents to `tls-check`). Asserts: no panic; the boundary check refuses exactly
//! the non-empty buffers; a diagnosis is produced only for plaintext first bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mail_tls::pki_types::CertificateDer;
use mail_tls::{
    CertificateInfo, Role, Service, check_boundary, check_plaintext_port, classify_first_bytes,
    diagnose_tls_expected,
};

const SERVICES: [Service; 4] = [
    Service::SmtpRelay,
    Service::Submission,
    Service::Pop3,
    Service::Imap,
];

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let service = SERVICES[usize::from(control & 3)];
    let port = (control & 4 != 0).then_some(u16::from(control) * 7);

    let observed = classify_first_bytes(input);
    let plaintext_port = check_plaintext_port(service, port, input);
    if plaintext_port.is_err() {
        assert!(observed.is_some(), "a refusal needs a classification");
    }
    // Sometimes no service is known, so the generic advice is reached too.
    let known = (control & 0x80 == 0).then_some(service);
    for role in [Role::Client, Role::Server] {
        if let Some(mismatch) = diagnose_tls_expected(role, known, port, input) {
            assert!(observed.is_some_and(|o| o.is_plaintext()));
            assert!(!mismatch.to_string().is_empty());
        }
    }

    let split = usize::from(control >> 3).min(input.len());
    let (inbound, outbound) = input.split_at(split);
    assert_eq!(
        check_boundary(inbound, outbound).is_ok(),
        inbound.is_empty() && outbound.is_empty()
    );

    if let Ok(info) = CertificateInfo::parse(&CertificateDer::from(input)) {
        let _ = format!("{info:?}");
    }
});
